/*
 * scep_rep.c -- what the server sends: the CertRep (RFC 8894 3.3.2,
 * spec 9), the degenerate certs-only SignedData (RFC 8894 3.4, spec 4.2)
 * and the GetNextCACert reply (spec 5); and their client-side decoders.
 *
 * The certs-only structure is built with an ASN.1 template of our own,
 * not with OpenSSL's CMS code: CMS declares certificates as a SET OF and
 * i2d DER-sorts every SET OF it writes, which would reorder the bag.
 * Apple takes its new identity from the FIRST certificate of a CertRep
 * (spec 9.2) and the GetCACert bag must start with the RA (spec 4.3), so
 * the order is part of the protocol.  Our template declares the same
 * field as [0] IMPLICIT SEQUENCE OF: the bytes on the wire are identical
 * (the implicit tag replaces SET/SEQUENCE), but i2d keeps our order.
 */
#include <limits.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "scep.h"
#include "scep_int.h"

/* EncapsulatedContentInfo with the content usually absent. */
struct degen_encap {
	ASN1_OBJECT		*type;
	ASN1_OCTET_STRING	*content;
};

ASN1_SEQUENCE(DEGEN_ENCAP) = {
	ASN1_SIMPLE(struct degen_encap, type, ASN1_OBJECT),
	ASN1_EXP_OPT(struct degen_encap, content, ASN1_OCTET_STRING, 0),
} static_ASN1_SEQUENCE_END_name(struct degen_encap, DEGEN_ENCAP)

/* RFC 5652 5.1 SignedData; signerInfos kept as ANY (none when we build). */
struct degen_sd {
	ASN1_INTEGER		*version;
	STACK_OF(X509_ALGOR)	*digalgs;
	struct degen_encap	*encap;
	STACK_OF(X509)		*certs;
	STACK_OF(X509_CRL)	*crls;
	STACK_OF(ASN1_TYPE)	*signers;
};

ASN1_SEQUENCE(DEGEN_SD) = {
	ASN1_SIMPLE(struct degen_sd, version, ASN1_INTEGER),
	ASN1_SET_OF(struct degen_sd, digalgs, X509_ALGOR),
	ASN1_SIMPLE(struct degen_sd, encap, DEGEN_ENCAP),
	/* SET OF on the wire; SEQUENCE OF here so i2d keeps the order. */
	ASN1_IMP_SEQUENCE_OF_OPT(struct degen_sd, certs, X509, 0),
	ASN1_IMP_SEQUENCE_OF_OPT(struct degen_sd, crls, X509_CRL, 1),
	ASN1_SET_OF(struct degen_sd, signers, ASN1_ANY),
} static_ASN1_SEQUENCE_END_name(struct degen_sd, DEGEN_SD)

struct degen_ci {
	ASN1_OBJECT		*type;
	struct degen_sd		*sd;
};

ASN1_SEQUENCE(DEGEN_CI) = {
	ASN1_SIMPLE(struct degen_ci, type, ASN1_OBJECT),
	ASN1_EXP(struct degen_ci, sd, DEGEN_SD, 0),
} static_ASN1_SEQUENCE_END_name(struct degen_ci, DEGEN_CI)

static void
degen_free(struct degen_ci *ci)
{
	ASN1_item_free((ASN1_VALUE *)ci, ASN1_ITEM_rptr(DEGEN_CI));
}

int
scep_certs_only(STACK_OF(X509) *certs, X509_CRL *crl, uint8_t **out,
    size_t *out_len)
{
	struct degen_ci	*ci = NULL;
	unsigned char	*der = NULL;	/* OPENSSL_malloc'd by i2d */
	int		 n, r = SCEP_E_NOMEM;

	*out = NULL;
	*out_len = 0;
	if ((certs == NULL || sk_X509_num(certs) == 0) && crl == NULL)
		return SCEP_E_INTERNAL;		/* nothing to send */
	if ((ci = (struct degen_ci *)ASN1_item_new(
	    ASN1_ITEM_rptr(DEGEN_CI))) == NULL)
		goto out;
	/* ASN1_item_new made the empty digestAlgorithms and signerInfos
	 * SETs; the OIDs are libcrypto's static objects. */
	ci->type = OBJ_nid2obj(NID_pkcs7_signed);
	ci->sd->encap->type = OBJ_nid2obj(NID_pkcs7_data);
	if (!ASN1_INTEGER_set(ci->sd->version, 1))	/* RFC 8894 3.4 */
		goto out;
	/* get1 each certificate: the template frees what it holds. */
	if (certs != NULL && sk_X509_num(certs) > 0 &&
	    (ci->sd->certs = X509_chain_up_ref(certs)) == NULL)
		goto out;
	if (crl != NULL) {
		if ((ci->sd->crls = sk_X509_CRL_new_null()) == NULL)
			goto out;
		if (!X509_CRL_up_ref(crl))
			goto out;
		if (!sk_X509_CRL_push(ci->sd->crls, crl)) {
			X509_CRL_free(crl);
			goto out;
		}
	}
	r = SCEP_E_INTERNAL;
	if ((n = ASN1_item_i2d((ASN1_VALUE *)ci, &der,
	    ASN1_ITEM_rptr(DEGEN_CI))) <= 0)
		goto out;
	if ((size_t)n > SCEP_MAX_MSG_DER) {
		r = SCEP_E_TOOBIG;
		goto out;
	}
	*out = der;
	*out_len = (size_t)n;
	der = NULL;
	r = SCEP_OK;
 out:
	OPENSSL_free(der);
	degen_free(ci);
	return r;
}

int
scep_certs_only_decode(const uint8_t *der, size_t len, STACK_OF(X509) **certs,
    STACK_OF(X509_CRL) **crls)
{
	struct degen_ci		*ci = NULL;
	const unsigned char	*p = der;
	int			 r;

	*certs = NULL;
	if (crls != NULL)
		*crls = NULL;
	if ((r = scep_der_precheck(der, len, SCEP_MAX_MSG_DER)) != SCEP_OK)
		return r;
	ci = (struct degen_ci *)ASN1_item_d2i(NULL, &p, (long)len,
	    ASN1_ITEM_rptr(DEGEN_CI));
	if (ci == NULL)
		return SCEP_E_MALFORMED;
	r = SCEP_E_TRAILING;
	if (p != der + len)
		goto out;
	r = SCEP_E_MALFORMED;
	if (OBJ_obj2nid(ci->type) != NID_pkcs7_signed)
		goto out;
	r = SCEP_E_TOOBIG;
	if (sk_X509_num(ci->sd->certs) > SCEP_MAX_CERTS)
		goto out;
	r = SCEP_E_NOMEM;
	if (ci->sd->certs == NULL &&
	    (ci->sd->certs = sk_X509_new_null()) == NULL)
		goto out;
	*certs = ci->sd->certs;		/* take from the template */
	ci->sd->certs = NULL;
	if (crls != NULL) {
		*crls = ci->sd->crls;
		ci->sd->crls = NULL;
	}
	r = SCEP_OK;
 out:
	degen_free(ci);
	return r;
}

/* Cut a UTF-8 string to at most "max" bytes without splitting a
 * character. */
static size_t
utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

int
scep_certrep_build(const struct scep_reply *rp, EVP_PKEY *key, X509 *cert,
    STACK_OF(X509) *extra, uint8_t **out, size_t *out_len)
{
	struct scep_signreq	 sr;
	struct scep_sattr	 at[7];
	uint8_t			*env = NULL;
	size_t			 envlen = 0, n = 0;
	const char		*text;
	char			 status[2], fail[2];
	int			 r;

	*out = NULL;
	*out_len = 0;
	if (rp == NULL || key == NULL || cert == NULL)
		return SCEP_E_INTERNAL;
	if (rp->status != SCEP_STATUS_SUCCESS &&
	    rp->status != SCEP_STATUS_FAILURE &&
	    rp->status != SCEP_STATUS_PENDING)
		return SCEP_E_INTERNAL;
	if (rp->status == SCEP_STATUS_FAILURE &&
	    (rp->failinfo < SCEP_FAIL_BADALG ||
	    rp->failinfo > SCEP_FAIL_BADCERTID))
		return SCEP_E_INTERNAL;		/* spec 7.3: never > 4 */
	/* transactionID copied byte for byte (spec 10): 1..255. */
	if (rp->transid == NULL || rp->transid_len == 0 ||
	    rp->transid_len > SCEP_MAX_TRANSID)
		return SCEP_E_BADATTR;
	if (rp->recipient_nonce_len > SCEP_MAX_NONCE ||
	    (rp->recipient_nonce == NULL && rp->recipient_nonce_len != 0))
		return SCEP_E_BADATTR;
	if (scep_md_alg(rp->md_nid) == 0)
		return SCEP_E_BADALG;

	/* Spec 9.2: SUCCESS carries the payload encrypted to the request's
	 * signer; FAILURE and PENDING carry no envelope (9.3). */
	if (rp->status == SCEP_STATUS_SUCCESS) {
		if (rp->payload == NULL || rp->payload_len == 0 ||
		    rp->recipient == NULL)
			return SCEP_E_INTERNAL;
		if ((r = scep_env_encrypt(rp->payload, rp->payload_len,
		    rp->recipient, rp->cipher_nid, &env, &envlen)) != SCEP_OK)
			return r;
	}

	/* Spec 9.1: every SCEP string a PrintableString, definite length. */
	status[0] = (char)('0' + rp->status);
	status[1] = '\0';
	at[n++] = (struct scep_sattr){ SCEP_OID_MESSAGETYPE,
	    V_ASN1_PRINTABLESTRING, "3", 1, 0 };
	at[n++] = (struct scep_sattr){ SCEP_OID_PKISTATUS,
	    V_ASN1_PRINTABLESTRING, status, 1, 0 };
	if (rp->status == SCEP_STATUS_FAILURE) {
		fail[0] = (char)('0' + rp->failinfo);
		fail[1] = '\0';
		at[n++] = (struct scep_sattr){ SCEP_OID_FAILINFO,
		    V_ASN1_PRINTABLESTRING, fail, 1, 0 };
		/* Spec 7.3: always explain, UTF8String, no secrets. */
		text = rp->failtext != NULL && rp->failtext[0] != '\0' ?
		    rp->failtext : scep_failinfo_name(rp->failinfo);
		at[n++] = (struct scep_sattr){ SCEP_OID_FAILINFOTEXT,
		    V_ASN1_UTF8STRING, text,
		    utf8_cut(text, SCEP_MAX_FAILTEXT), 0 };
	}
	at[n++] = (struct scep_sattr){ SCEP_OID_TRANSID,
	    V_ASN1_PRINTABLESTRING, rp->transid, rp->transid_len, 0 };
	if (rp->recipient_nonce_len > 0)
		at[n++] = (struct scep_sattr){ SCEP_OID_RECIPIENTNONCE,
		    V_ASN1_OCTET_STRING, rp->recipient_nonce,
		    rp->recipient_nonce_len, 0 };
	at[n++] = (struct scep_sattr){ SCEP_OID_SENDERNONCE,
	    V_ASN1_OCTET_STRING, rp->sender_nonce, SCEP_NONCE_LEN, 0 };

	memset(&sr, 0, sizeof(sr));
	/*
	 * FAILURE and PENDING: RFC 8894 3.3.2.2 lets eContent be absent,
	 * but clients that verify replies with OpenSSL's PKCS7_verify()
	 * (certmonger's scep-submit, sscep) then fail with "no content"
	 * before they read pkiStatus.  An empty, present eContent is read
	 * the same way by every client and verifies everywhere, so that is
	 * what we send (messageDigest is over zero bytes either way).
	 */
	sr.content = env != NULL ? env : (const uint8_t *)"";
	sr.content_len = envlen;
	sr.key = key;
	sr.cert = cert;
	sr.extra = extra;
	sr.md_nid = rp->md_nid;		/* the request's digest, 9.1 */
	sr.now = rp->now;
	sr.attrs = at;
	sr.nattrs = n;
	sr.flags = 0;			/* PKCS#1 v1.5, never PSS */
	r = scep_sign(&sr, out, out_len);
	OPENSSL_free(env);
	return r;
}

int
scep_nextca_build(STACK_OF(X509) *next, EVP_PKEY *key, X509 *cert,
    int md_nid, time_t now, uint8_t **out, size_t *out_len)
{
	struct scep_signreq	 sr;
	uint8_t			*bag = NULL;
	size_t			 baglen = 0;
	int			 r;

	*out = NULL;
	*out_len = 0;
	if (next == NULL || sk_X509_num(next) <= 0 || key == NULL ||
	    cert == NULL)
		return SCEP_E_INTERNAL;
	/* Spec 5: a real signer over a certs-only SignedData. */
	if ((r = scep_certs_only(next, NULL, &bag, &baglen)) != SCEP_OK)
		return r;
	memset(&sr, 0, sizeof(sr));
	sr.content = bag;
	sr.content_len = baglen;
	sr.key = key;
	sr.cert = cert;
	sr.md_nid = md_nid;
	sr.now = now;
	r = scep_sign(&sr, out, out_len);
	OPENSSL_free(bag);
	return r;
}

int
scep_nextca_decode(const uint8_t *der, size_t len, unsigned int algs,
    STACK_OF(X509) **next, X509 **signer)
{
	CMS_ContentInfo		 *cms = NULL;
	CMS_SignerInfo		 *si = NULL;	/* get0: cms */
	ASN1_OCTET_STRING	**pos;		/* get0: cms */
	STACK_OF(X509)		 *certs = NULL;	/* get1 */
	X509			 *x;		/* get0: certs */
	const uint8_t		 *c;
	size_t			  clen;
	int			  r;

	*next = NULL;
	*signer = NULL;
	if ((r = scep_signed_open(der, len, &cms, &si, &certs)) != SCEP_OK)
		return r;
	r = SCEP_E_MALFORMED;
	if ((pos = CMS_get0_content(cms)) == NULL || *pos == NULL)
		goto out;
	c = ASN1_STRING_get0_data(*pos);
	clen = (size_t)ASN1_STRING_length(*pos);
	r = SCEP_E_BADSIG;
	if ((x = scep_signer_find(si, certs)) == NULL)
		goto out;
	if ((r = scep_signed_verify(si, x, algs, c, clen)) != SCEP_OK)
		goto out;
	if ((r = scep_certs_only_decode(c, clen, next, NULL)) != SCEP_OK)
		goto out;
	r = SCEP_E_NOMEM;
	if (!X509_up_ref(x)) {
		sk_X509_pop_free(*next, X509_free);
		*next = NULL;
		goto out;
	}
	*signer = x;
	r = SCEP_OK;
 out:
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	return r;
}
