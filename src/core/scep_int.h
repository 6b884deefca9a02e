/*
 * scep_int.h -- helpers shared by the files of the protocol core.  Not
 * part of the core's API (scep.h); the unit tests include it to build
 * deliberately malformed messages with the same machinery.
 *
 * No globals: the SCEP attribute OIDs (RFC 8894 3.2.1) live in a const
 * table of their DER content octets.  Lookups compare bytes, and the
 * rare ASN1_OBJECT needed to add an attribute is made per call with
 * OBJ_txt2obj(..., 1), which never touches OpenSSL's global object
 * table (OBJ_create would).
 */
#ifndef SCEP_INT_H
#define SCEP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * SubjectPublicKeyInfo as an ASN1 template: algorithm and key bits, no
 * key decoded (scep_spki.c).
 */
struct scep_spki {
	X509_ALGOR		*alg;
	ASN1_BIT_STRING		*key;
};
DECLARE_ASN1_ITEM(SCEP_SPKI)
/* The key, RSA or EC P-256/P-384 by EVP_PKEY_fromdata (no decoder); NULL
 * (no error) for anything else. */
EVP_PKEY	*scep_spki_import(const struct scep_spki *);
/* scep_spki_import, else d2i_PUBKEY of the same bytes; NULL: no key. */
EVP_PKEY	*scep_spki_pkey(const struct scep_spki *);
/* A new X509_PUBKEY holding algorithm and key bits only (no cached key),
 * or NULL when the parameters are not absent, NULL or an OID. */
X509_PUBKEY	*scep_spki_bits(const struct scep_spki *);

/* The SCEP signed attributes (RFC 8894 3.2.1, spec 6.3). */
enum scep_oid {
	SCEP_OID_MESSAGETYPE,		/* 2.16.840.1.113733.1.9.2 */
	SCEP_OID_PKISTATUS,		/* 2.16.840.1.113733.1.9.3 */
	SCEP_OID_FAILINFO,		/* 2.16.840.1.113733.1.9.4 */
	SCEP_OID_SENDERNONCE,		/* 2.16.840.1.113733.1.9.5 */
	SCEP_OID_RECIPIENTNONCE,	/* 2.16.840.1.113733.1.9.6 */
	SCEP_OID_TRANSID,		/* 2.16.840.1.113733.1.9.7 */
	SCEP_OID_FAILINFOTEXT,		/* 1.3.6.1.5.5.7.24.1 */
	SCEP_OID__MAX
};

/* Dotted form of a SCEP attribute OID, for messages and tests. */
const char	*scep_oid_txt(enum scep_oid);

/* A new ASN1_OBJECT for the attribute (take: ASN1_OBJECT_free), or NULL
 * on allocation failure. */
ASN1_OBJECT	*scep_oid_obj(enum scep_oid);

/* Non-zero when "obj" is the SCEP attribute "which". */
int		 scep_oid_is(const ASN1_OBJECT *obj, enum scep_oid which);

/*
 * Find signed attribute "which" in "si", which must appear exactly once
 * and carry exactly one value (the rule CMS_signed_get0_data_by_OBJ
 * applies with lastpos -3, spec 6.3), without fixing the value's type.
 * Returns SCEP_OK with *val (get0: owned by si), SCEP_E_NOTFOUND when
 * absent, SCEP_E_BADATTR when repeated or not single-valued.
 */
int	scep_attr_find(CMS_SignerInfo *si, enum scep_oid which,
	    ASN1_TYPE **val);

/* The same rule for any signed attribute named by a built-in NID. */
int	scep_attr_find_nid(CMS_SignerInfo *si, int nid, ASN1_TYPE **val);

/*
 * Add signed attribute "which" with one value of ASN.1 "type" holding
 * "len" bytes of "data" (STYLE H17: always a real length, never -1).
 * "twice" adds a second value to the same attribute (tests only: a
 * malformed attribute).
 */
int	scep_attr_add(CMS_SignerInfo *si, enum scep_oid which, int type,
	    const void *data, size_t len, int twice);

/* SCEP_ALG_* bit of a digest / content cipher NID; 0 when the core does
 * not know it at all. */
unsigned int	scep_md_alg(int md_nid);
unsigned int	scep_cipher_alg(int cipher_nid);

/* Fetch the digest or cipher for a NID from the default library context
 * (take: EVP_MD_free / EVP_CIPHER_free).  NULL when no loaded provider
 * implements it (single DES without the legacy provider). */
EVP_MD		*scep_md_fetch(int md_nid);
EVP_CIPHER	*scep_cipher_fetch(int cipher_nid);

/*
 * Gate 1 and the header part of gate 2 of STYLE H6, before libcrypto
 * parses the body: 0 < len <= max, and the outer TLV is a universal
 * constructed SEQUENCE whose declared length fits in len (else
 * SCEP_E_TRUNCATED).  Indefinite lengths (BER) pass.
 */
int	scep_der_precheck(const uint8_t *der, size_t len, size_t max);

/* Copy "len" bytes into a new OPENSSL_malloc buffer (*out take). */
int	scep_dup(const uint8_t *p, size_t len, uint8_t **out, size_t *out_len);

/* i2d of a CMS ContentInfo into *out (take), bounded by SCEP_MAX_MSG_DER. */
int	scep_cms_der(CMS_ContentInfo *cms, uint8_t **out, size_t *out_len);

/* Seconds since the epoch of an ASN1_TIME (UTCTime or GeneralizedTime),
 * without consulting the C library's time zone. */
int	scep_asn1_time(const ASN1_TIME *t, time_t *out);

/*
 * The signed layer, shared by scep_msg_decode and scep_nextca_decode.
 * scep_signed_open runs gates 1-3 of STYLE H6 (size, decoder and
 * trailing bytes, exact structure: signedData, one SignerInfo with signed
 * attributes, eContentType id-data, 1..SCEP_MAX_CERTS certificates).
 * *cms and *certs are take, *si is get0 from *cms.
 */
int	scep_signed_open(const uint8_t *der, size_t len, CMS_ContentInfo **cms,
	    CMS_SignerInfo **si, STACK_OF(X509) **certs);
/* The signer certificate of spec 6.2 (get0 from certs) or NULL. */
X509	*scep_signer_find(CMS_SignerInfo *si, STACK_OF(X509) *certs);
/* NID of the SignerInfo's digestAlgorithm. */
int	 scep_signer_md(CMS_SignerInfo *si);
/* Digest and signature algorithm allowed (else SCEP_E_BADALG), then the
 * signature with signer's key and messageDigest over content (NULL:
 * absent) and contentType (else SCEP_E_BADSIG). */
int	scep_signed_verify(CMS_SignerInfo *si, X509 *signer, unsigned int algs,
	    const uint8_t *content, size_t content_len);

/* One signed attribute to add (scep_sign). */
struct scep_sattr {
	enum scep_oid	 oid;
	int		 type;		/* V_ASN1_PRINTABLESTRING, ... */
	const void	*data;		/* borrowed */
	size_t		 len;
	int		 twice;		/* tests: two values */
};

/* How to sign (scep_sign). */
#define SCEP_SIGN_SKI		0x01u	/* sid = subjectKeyIdentifier */
#define SCEP_SIGN_PSS		0x02u	/* RSASSA-PSS (client side only) */
#define SCEP_SIGN_BER		0x04u	/* stream out: indefinite lengths and
					 * a constructed eContent (tests) */
#define SCEP_SIGN_NOCERTS	0x10u	/* leave the signer certificate out;
					 * "extra" only (tests) */

struct scep_signreq {
	const uint8_t		*content;	/* borrowed; NULL: eContent
						 * absent (spec 9.3) */
	size_t			 content_len;
	EVP_PKEY		*key;		/* borrowed */
	X509			*cert;		/* borrowed, included */
	STACK_OF(X509)		*extra;		/* borrowed, may be NULL */
	int			 md_nid;
	time_t			 now;		/* signingTime */
	const struct scep_sattr	*attrs;		/* SCEP attributes */
	size_t			 nattrs;
	unsigned int		 flags;		/* SCEP_SIGN_* */
};

/*
 * Build a CMS SignedData (RFC 5652 5, spec 6.1) over the content with one
 * signer: signed attributes contentType (id-data), signingTime, the
 * messageDigest, then "attrs".  RSA keys sign with PKCS#1 v1.5 and the
 * rsaEncryption OID unless SCEP_SIGN_PSS; EC keys with ECDSA.  Output is
 * DER unless SCEP_SIGN_BER.  *out is take.
 */
int	scep_sign(const struct scep_signreq *, uint8_t **out, size_t *out_len);

#endif /* !SCEP_INT_H */
