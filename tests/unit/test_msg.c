/*
 * test_msg.c -- scep_msg_decode (src/core/scep_msg.c): the signed layer of
 * a pkiMessage, spec 6.1-6.3 and 8 steps 1-5.
 *
 * Messages are built with libcrypto in the test (the core's own signer,
 * scep_sign, and plain CMS calls for shapes the core never produces),
 * then damaged; each table row names the error it expects and whether
 * the failure must still be attributable (*out set, spec 2.5).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "scep.h"
#include "scep_int.h"
#include "tap.h"
#include "testkeys.h"
#include "testutil.h"

static EVP_PKEY	*cl_key, *ra_key, *ec_key, *other_key;
static X509	*cl, *ra, *ec_cert, *other;

static const uint8_t nonce16[16] = "0123456789abcdef";
static time_t	sign_now = TU_NOW;
static const uint8_t dummy[] = "\x30\x03\x02\x01\x05";	/* any content */

/* ---- building blocks ---------------------------------------------- */

/* Sign "content" with the core's signer and an explicit attribute list. */
static uint8_t *
sign_attrs(const struct scep_sattr *at, size_t n, unsigned int flags,
    EVP_PKEY *key, X509 *cert, STACK_OF(X509) *extra, int md_nid,
    size_t *len)
{
	struct scep_signreq	 sr;
	uint8_t			*out = NULL;

	memset(&sr, 0, sizeof(sr));
	sr.content = dummy;
	sr.content_len = sizeof(dummy) - 1;
	sr.key = key;
	sr.cert = cert;
	sr.extra = extra;
	sr.md_nid = md_nid;
	sr.now = sign_now;
	sr.attrs = at;
	sr.nattrs = n;
	sr.flags = flags;
	*len = 0;
	if (scep_sign(&sr, &out, len) != SCEP_OK)
		return NULL;
	return out;
}

/* The three attributes of every request. */
static size_t
base_attrs(struct scep_sattr *at, const char *tid, const char *type)
{
	at[0] = (struct scep_sattr){ SCEP_OID_TRANSID,
	    V_ASN1_PRINTABLESTRING, tid, strlen(tid), 0 };
	at[1] = (struct scep_sattr){ SCEP_OID_MESSAGETYPE,
	    V_ASN1_PRINTABLESTRING, type, strlen(type), 0 };
	at[2] = (struct scep_sattr){ SCEP_OID_SENDERNONCE,
	    V_ASN1_OCTET_STRING, nonce16, 16, 0 };
	return 3;
}

/* Shapes scep_sign never makes: two signers, no signed attributes, a
 * foreign eContentType, a digest outside spec 6.5. */
static uint8_t *
raw_msg(const EVP_MD *md, int nsigners, int noattr, int ectype_nid,
    size_t *len)
{
	CMS_ContentInfo	*cms = NULL;
	CMS_SignerInfo	*si;
	BIO		*in = NULL;
	unsigned char	*der = NULL;
	int		 i, n = 0;
	X509		*certs[2] = { cl, ra };
	EVP_PKEY	*keys[2] = { cl_key, ra_key };

	*len = 0;
	if ((cms = CMS_sign(NULL, NULL, NULL, NULL,
	    CMS_PARTIAL | CMS_BINARY)) == NULL)
		goto out;
	if (ectype_nid != NID_undef &&
	    !CMS_set1_eContentType(cms, OBJ_nid2obj(ectype_nid)))
		goto out;
	for (i = 0; i < nsigners; i++) {
		if ((si = CMS_add1_signer(cms, certs[i], keys[i], md,
		    CMS_NOSMIMECAP | CMS_BINARY |
		    (noattr ? CMS_NOATTR : 0))) == NULL)
			goto out;
		if (!noattr && (scep_attr_add(si, SCEP_OID_TRANSID,
		    V_ASN1_PRINTABLESTRING, "TID", 3, 0) != SCEP_OK ||
		    scep_attr_add(si, SCEP_OID_MESSAGETYPE,
		    V_ASN1_PRINTABLESTRING, "19", 2, 0) != SCEP_OK ||
		    scep_attr_add(si, SCEP_OID_SENDERNONCE,
		    V_ASN1_OCTET_STRING, nonce16, 16, 0) != SCEP_OK))
			goto out;
	}
	if ((in = BIO_new_mem_buf(dummy, sizeof(dummy) - 1)) == NULL ||
	    !CMS_final(cms, in, NULL, CMS_BINARY))
		goto out;
	if ((n = i2d_CMS_ContentInfo(cms, &der)) <= 0)
		goto out;
	*len = (size_t)n;
 out:
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	return n > 0 ? der : NULL;
}

enum damage {
	D_SIG,		/* flip a bit of the signature */
	D_CONTENT,	/* flip a bit of the eContent (messageDigest) */
	D_SIGOID,	/* signatureAlgorithm sha256WithRSAEncryption */
};

/* Re-encode a message after damaging one field. */
static uint8_t *
damage(const uint8_t *der, size_t len, enum damage d, size_t *outlen)
{
	CMS_ContentInfo		 *cms = NULL;
	CMS_SignerInfo		 *si;
	ASN1_OCTET_STRING	 *sig, **pos;
	X509_ALGOR		 *alg = NULL;
	const unsigned char	 *p = der;
	unsigned char		 *out = NULL, *data;
	int			  n = 0;

	*outlen = 0;
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL)
		return NULL;
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	switch (d) {
	case D_SIG:
		sig = CMS_SignerInfo_get0_signature(si);
		data = (unsigned char *)ASN1_STRING_get0_data(sig);
		data[ASN1_STRING_length(sig) / 2] ^= 0x01;
		break;
	case D_CONTENT:
		pos = CMS_get0_content(cms);
		data = (unsigned char *)ASN1_STRING_get0_data(*pos);
		data[0] ^= 0x01;
		break;
	case D_SIGOID:
		CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &alg);
		X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256WithRSAEncryption),
		    V_ASN1_NULL, NULL);
		break;
	}
	if ((n = i2d_CMS_ContentInfo(cms, &out)) > 0)
		*outlen = (size_t)n;
	CMS_ContentInfo_free(cms);
	return n > 0 ? out : NULL;
}

/* ---- tests ---------------------------------------------------------- */

/* Every request type and digest decodes with what it was built with. */
static void
test_types_digests(const uint8_t *csr, size_t csrlen)
{
	static const int types[] = { SCEP_MSG_PKCSREQ, SCEP_MSG_RENEWALREQ,
	    SCEP_MSG_CERTPOLL, SCEP_MSG_GETCERT, SCEP_MSG_GETCRL };
	static const int mds[] = { NID_sha1, NID_sha224, NID_sha256,
	    NID_sha384, NID_sha512 };
	struct scep_msg	*m = NULL;
	uint8_t		*der;
	size_t		 i, j, len;
	int		 r;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		for (j = 0; j < sizeof(mds) / sizeof(mds[0]); j++) {
			der = tu_request(types[i], "TRANS-1", mds[j],
			    NID_aes_128_cbc, 0, ra, cl_key, cl, csr, csrlen,
			    &len);
			r = der != NULL ? scep_msg_decode(der, len,
			    SCEP_ALG_DEFAULT, &m) : -999;
			tap_ok(r == SCEP_OK && m != NULL &&
			    m->type == types[i] && m->md_nid == mds[j] &&
			    strcmp(m->transid, "TRANS-1") == 0 &&
			    m->transid_len == 7 &&
			    m->sender_nonce_len == 16 &&
			    memcmp(m->sender_nonce, "nonce-0123456789",
			    16) == 0 && m->status == -1 &&
			    m->failinfo == -1 && m->has_signing_time &&
			    m->signing_time == TU_NOW &&
			    X509_cmp(m->signer, cl) == 0 &&
			    sk_X509_num(m->certs) == 1 &&
			    m->content != NULL && m->content_len > 0 &&
			    m->recipient_nonce_len == 0,
			    "type %d digest %s decodes (r=%d)", types[i],
			    OBJ_nid2sn(mds[j]), r);
			scep_msg_free(m);
			m = NULL;
			OPENSSL_free(der);
		}
	}
}

/* Digest policy: MD5 only with SCEP_ALG_MD5; a digest the endpoint left
 * out is badAlg; both still attributable. */
static void
test_digest_policy(void)
{
	struct scep_msg	*m = NULL;
	uint8_t		*der;
	size_t		 len;
	int		 r;

	der = tu_request(SCEP_MSG_PKCSREQ, "MD5", NID_md5, NID_aes_128_cbc,
	    0, ra, cl_key, cl, dummy, 5, &len);
	r = scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m);
	tap_ok(r == SCEP_E_BADALG && m != NULL && m->md_nid == NID_md5 &&
	    strcmp(m->transid, "MD5") == 0,
	    "MD5 refused without SCEP_ALG_MD5, attributable (r=%d)", r);
	scep_msg_free(m);
	m = NULL;
	r = scep_msg_decode(der, len, SCEP_ALG_DEFAULT | SCEP_ALG_MD5, &m);
	tap_ok(r == SCEP_OK && m != NULL, "MD5 accepted with SCEP_ALG_MD5");
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(der);

	der = tu_request(SCEP_MSG_PKCSREQ, "SHA1", NID_sha1, NID_aes_128_cbc,
	    0, ra, cl_key, cl, dummy, 5, &len);
	r = scep_msg_decode(der, len, SCEP_ALG_SHA256 | SCEP_ALG_AES, &m);
	tap_ok(r == SCEP_E_BADALG && m != NULL,
	    "SHA-1 refused when the endpoint allows only SHA-256");
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(der);

	/* SHA3-256 is no digest of spec 6.5. */
	der = raw_msg(EVP_sha3_256(), 1, 0, NID_undef, &len);
	r = der != NULL ? scep_msg_decode(der, len, ~0u, &m) : -999;
	tap_ok(r == SCEP_E_BADALG && m != NULL,
	    "SHA3-256 digest is badAlg (r=%d)", r);
	scep_msg_free(m);
	OPENSSL_free(der);
}

/* Signers and signatures of spec 6.2 / 17. */
static void
test_signers(void)
{
	struct scep_msg	*m = NULL;
	EVP_PKEY	*rsa1024 = NULL;
	X509		*v1 = NULL, *aki = NULL, *alt = NULL, *x = NULL;
	STACK_OF(X509)	*extra = NULL;
	struct scep_sattr at[3];
	uint8_t		*der = NULL, *bad = NULL;
	size_t		 len, blen, n;
	int		 r;

	/* SKI sid (SignedData v3). */
	der = tu_request(SCEP_MSG_PKCSREQ, "SKI", NID_sha256,
	    NID_aes_128_cbc, SCEP_REQ_SIGNER_SKI, ra, cl_key, cl, dummy, 5,
	    &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_OK && m != NULL && X509_cmp(m->signer, cl) == 0,
	    "signer by subjectKeyIdentifier (r=%d)", r);
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(der);

	/* certmonger: X.509 v1 without extensions. */
	v1 = tu_cert(cl_key, "certmonger minicert", 7, NULL, NULL, TU_V1);
	der = tu_request(SCEP_MSG_PKCSREQ, "V1", NID_sha256, NID_aes_128_cbc,
	    0, ra, cl_key, v1, dummy, 5, &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(v1 != NULL && r == SCEP_OK && m != NULL &&
	    X509_get_version(m->signer) == X509_VERSION_1,
	    "v1 signer certificate (r=%d)", r);
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(der);

	/* Windows: critical authorityKeyIdentifier. */
	aki = tu_cert(cl_key, "SCEP Protocol Certificate", 8, NULL, NULL,
	    TU_AKI_CRIT);
	der = tu_request(SCEP_MSG_PKCSREQ, "AKI", NID_sha1, NID_aes_128_cbc,
	    0, ra, cl_key, aki, dummy, 5, &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(aki != NULL && r == SCEP_OK && m != NULL,
	    "critical AKI signer certificate (r=%d)", r);
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(der);

	/* ECDSA signer. */
	der = tu_request(SCEP_MSG_PKCSREQ, "EC", NID_sha256, NID_aes_128_cbc,
	    0, ra, ec_key, ec_cert, dummy, 5, &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_OK && m != NULL, "ECDSA signer (r=%d)", r);
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(der);

	/* strongSwan --pss. */
	der = tu_request(SCEP_MSG_PKCSREQ, "PSS", NID_sha256,
	    NID_aes_128_cbc, SCEP_REQ_PSS, ra, cl_key, cl, dummy, 5, &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_OK && m != NULL, "RSASSA-PSS signature (r=%d)", r);
	scep_msg_free(m);
	m = NULL;

	/* sha256WithRSAEncryption instead of rsaEncryption. */
	OPENSSL_free(der);
	der = tu_request(SCEP_MSG_PKCSREQ, "OID", NID_sha256,
	    NID_aes_128_cbc, 0, ra, cl_key, cl, dummy, 5, &len);
	bad = damage(der, len, D_SIGOID, &blen);
	r = bad != NULL ? scep_msg_decode(bad, blen, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_OK && m != NULL,
	    "sha256WithRSAEncryption signature OID (r=%d)", r);
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(bad);

	/* A damaged signature: badMessageCheck, but attributable. */
	bad = damage(der, len, D_SIG, &blen);
	r = bad != NULL ? scep_msg_decode(bad, blen, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_E_BADSIG && m != NULL &&
	    strcmp(m->transid, "OID") == 0 && m->sender_nonce_len == 16 &&
	    X509_cmp(m->signer, cl) == 0,
	    "bad signature: BADSIG with *out set (r=%d)", r);
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(bad);

	/* Content changed after signing: messageDigest fails. */
	bad = damage(der, len, D_CONTENT, &blen);
	r = bad != NULL ? scep_msg_decode(bad, blen, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_E_BADSIG && m != NULL,
	    "messageDigest mismatch: BADSIG with *out set (r=%d)", r);
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(bad);
	OPENSSL_free(der);

	/* Spec 6.2 fallback: the sid names no certificate, but the single
	 * certificate's key verifies (issuer RDNs re-encoded etc.). */
	n = base_attrs(at, "FALLBACK", "19");
	alt = tu_cert(cl_key, "same key other name", 999, NULL, NULL, 0);
	extra = sk_X509_new_null();
	sk_X509_push(extra, alt);
	der = sign_attrs(at, n, SCEP_SIGN_NOCERTS, cl_key, cl, extra,
	    NID_sha256, &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_OK && m != NULL && X509_cmp(m->signer, alt) == 0,
	    "single certificate fallback when the sid does not match (r=%d)",
	    r);
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(der);
	sk_X509_zero(extra);

	/* ... and whose key does not verify: BADSIG, attributable. */
	sk_X509_push(extra, other);
	der = sign_attrs(at, n, SCEP_SIGN_NOCERTS, cl_key, cl, extra,
	    NID_sha256, &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_E_BADSIG && m != NULL,
	    "single foreign certificate: BADSIG (r=%d)", r);
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(der);

	/* Two certificates, neither named by the sid: no signer. */
	sk_X509_push(extra, ra);
	der = sign_attrs(at, n, SCEP_SIGN_NOCERTS, cl_key, cl, extra,
	    NID_sha256, &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_E_BADSIG && m == NULL,
	    "no signer certificate among two: BADSIG, not attributable "
	    "(r=%d)", r);
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(der);
	sk_X509_zero(extra);

	/* No certificate at all. */
	der = sign_attrs(at, n, SCEP_SIGN_NOCERTS, cl_key, cl, NULL,
	    NID_sha256, &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_E_MALFORMED && m == NULL,
	    "no certificates: MALFORMED (r=%d)", r);
	OPENSSL_free(der);

	/* More than SCEP_MAX_CERTS certificates. */
	for (n = 0; n < SCEP_MAX_CERTS; n++) {
		x = tu_cert(other_key, "filler", 5000 + (long)n, NULL, NULL,
		    0);
		sk_X509_push(extra, x);
	}
	n = base_attrs(at, "MANY", "19");
	der = sign_attrs(at, n, 0, cl_key, cl, extra, NID_sha256, &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_E_TOOBIG && m == NULL,
	    "%d certificates: TOOBIG (r=%d)", SCEP_MAX_CERTS + 1, r);
	OPENSSL_free(der);

	/* Extra certificates up to the limit are kept. */
	X509_free(sk_X509_pop(extra));
	der = sign_attrs(at, n, 0, cl_key, cl, extra, NID_sha256, &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_OK && m != NULL &&
	    sk_X509_num(m->certs) == SCEP_MAX_CERTS &&
	    X509_cmp(m->signer, cl) == 0,
	    "%d certificates, signer found among them (r=%d)",
	    SCEP_MAX_CERTS, r);
	scep_msg_free(m);
	OPENSSL_free(der);

	sk_X509_pop_free(extra, X509_free);
	EVP_PKEY_free(rsa1024);
	X509_free(v1);
	X509_free(aki);
	X509_free(alt);
}

/* BER: indefinite lengths and a constructed eContent (spec 2.3). */
static void
test_ber(void)
{
	struct scep_msg	*m = NULL;
	struct scep_sattr at[3];
	uint8_t		*der, big[3000];
	size_t		 len, n, i;
	struct scep_signreq sr;
	int		 r, has_cons = 0;

	/* A content longer than OpenSSL's 1 KiB streaming chunk. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	n = base_attrs(at, "BER", "19");
	memset(&sr, 0, sizeof(sr));
	sr.content = big;
	sr.content_len = sizeof(big);
	sr.key = cl_key;
	sr.cert = cl;
	sr.md_nid = NID_sha256;
	sr.now = TU_NOW;
	sr.attrs = at;
	sr.nattrs = n;
	sr.flags = SCEP_SIGN_BER;
	der = NULL;
	r = scep_sign(&sr, &der, &len);
	for (i = 0; der != NULL && i + 1 < len; i++)
		if (der[i] == 0x24 && der[i + 1] == 0x80)
			has_cons = 1;	/* constructed OCTET STRING, indef. */
	tap_ok(r == SCEP_OK && der != NULL && der[1] == 0x80 && has_cons,
	    "test message is BER: indefinite outer length, constructed "
	    "eContent");
	m = NULL;
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_OK && m != NULL && m->content_len == sizeof(big) &&
	    memcmp(m->content, big, sizeof(big)) == 0,
	    "BER message decodes, eContent reassembled (r=%d)", r);
	scep_msg_free(m);
	OPENSSL_free(der);
}

/* SCEP attributes: spec 6.3 exactly once, one value, types, lengths. */
enum row_mut {
	M_NONE, M_NO_TID, M_NO_NONCE, M_NO_TYPE, M_DUP_TID, M_TWO_TID,
	M_DUP_TYPE, M_NONCE_LEN, M_NONCE_PRINTABLE, M_TID_LEN, M_TID_TYPE,
	M_TID_BYTES, M_TYPE_TEXT, M_TYPE_UTF8, M_CERTREP, M_RNONCE_LEN,
	M_STIME_2050,
};

static const struct {
	const char	*name;
	enum row_mut	 mut;
	size_t		 n;		/* a length, when the row needs one */
	int		 type;		/* an ASN.1 type, when needed */
	const char	*text;		/* a string, when needed */
	int		 want;
	int		 attributable;	/* *out expected on failure */
} rows[] = {
	{ "all present", M_NONE, 0, 0, NULL, SCEP_OK, 1 },
	{ "no transactionID", M_NO_TID, 0, 0, NULL, SCEP_E_BADATTR, 0 },
	{ "no senderNonce", M_NO_NONCE, 0, 0, NULL, SCEP_E_BADATTR, 0 },
	{ "no messageType", M_NO_TYPE, 0, 0, NULL, SCEP_E_BADATTR, 1 },
	{ "transactionID twice", M_DUP_TID, 0, 0, NULL, SCEP_E_BADATTR, 0 },
	{ "transactionID with two values", M_TWO_TID, 0, 0, NULL,
	    SCEP_E_BADATTR, 0 },
	{ "messageType twice", M_DUP_TYPE, 0, 0, NULL, SCEP_E_BADATTR, 1 },
	{ "senderNonce 7 bytes", M_NONCE_LEN, 7, 0, NULL, SCEP_E_BADATTR, 0 },
	{ "senderNonce 8 bytes (old iOS)", M_NONCE_LEN, 8, 0, NULL,
	    SCEP_OK, 1 },
	{ "senderNonce 32 bytes", M_NONCE_LEN, 32, 0, NULL, SCEP_OK, 1 },
	{ "senderNonce 33 bytes", M_NONCE_LEN, 33, 0, NULL,
	    SCEP_E_BADATTR, 0 },
	{ "senderNonce as PrintableString", M_NONCE_PRINTABLE, 0, 0, NULL,
	    SCEP_E_BADATTR, 0 },
	{ "transactionID 255 chars", M_TID_LEN, 255, 0, NULL, SCEP_OK, 1 },
	{ "transactionID 256 chars", M_TID_LEN, 256, 0, NULL,
	    SCEP_E_BADATTR, 0 },
	{ "transactionID UTF8String", M_TID_TYPE, 0, V_ASN1_UTF8STRING,
	    NULL, SCEP_OK, 1 },
	{ "transactionID IA5String", M_TID_TYPE, 0, V_ASN1_IA5STRING,
	    NULL, SCEP_OK, 1 },
	{ "transactionID OCTET STRING", M_TID_TYPE, 0, V_ASN1_OCTET_STRING,
	    NULL, SCEP_OK, 1 },
	{ "transactionID BMPString", M_TID_TYPE, 0, V_ASN1_BMPSTRING,
	    NULL, SCEP_E_BADATTR, 0 },
	{ "transactionID base64 (micromdm)", M_TID_BYTES, 0, 0,
	    "q83vASNFZ4mrze8BI0VniavN7wE=", SCEP_OK, 1 },
	{ "transactionID with a control byte", M_TID_BYTES, 0, 0, "ab\001c",
	    SCEP_E_BADATTR, 0 },
	{ "transactionID not ASCII", M_TID_BYTES, 0, 0, "caf\303\251",
	    SCEP_E_BADATTR, 0 },
	{ "messageType \"abc\"", M_TYPE_TEXT, 0, 0, "abc", SCEP_E_BADATTR, 1 },
	{ "messageType \"1234\"", M_TYPE_TEXT, 0, 0, "1234",
	    SCEP_E_BADATTR, 1 },
	{ "messageType \"99\" (unknown, caller refuses)", M_TYPE_TEXT, 0, 0,
	    "99", SCEP_OK, 1 },
	{ "messageType \"-1\"", M_TYPE_TEXT, 0, 0, "-1", SCEP_E_BADATTR, 1 },
	{ "messageType UTF8String", M_TYPE_UTF8, 0, 0, NULL, SCEP_OK, 1 },
	{ "CertRep without pkiStatus", M_CERTREP, 0, 0, NULL,
	    SCEP_E_BADATTR, 1 },
	{ "CertRep pkiStatus \"1\"", M_CERTREP, 0, 0, "1", SCEP_E_BADATTR, 1 },
	{ "CertRep PENDING", M_CERTREP, 0, 0, "3", SCEP_OK, 1 },
	{ "CertRep FAILURE without failInfo", M_CERTREP, 0, 0, "2",
	    SCEP_E_BADATTR, 1 },
	{ "CertRep FAILURE failInfo 5", M_CERTREP, 5, 0, "2",
	    SCEP_E_BADATTR, 1 },
	{ "CertRep FAILURE failInfo 4 with text", M_CERTREP, 4, 0, "2",
	    SCEP_OK, 1 },
	{ "recipientNonce 4 bytes", M_RNONCE_LEN, 4, 0, NULL,
	    SCEP_E_BADATTR, 1 },
	{ "signingTime 2050 (GeneralizedTime)", M_STIME_2050, 0, 0, NULL,
	    SCEP_OK, 1 },
};

static void
test_attr_table(void)
{
	struct scep_sattr	 at[8];
	struct scep_msg		*m;
	uint8_t			*der, big[300];
	char			 tid[300];
	size_t			 i, n, len;
	unsigned int		 flags;
	int			 r, ok;

	memset(big, 'N', sizeof(big));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = base_attrs(at, "TID-ATTR", "19");
		flags = 0;
		switch (rows[i].mut) {
		case M_NONE:
			break;
		case M_NO_TID:
			at[0] = at[2];
			n = 2;
			break;
		case M_NO_NONCE:
			n = 2;
			break;
		case M_NO_TYPE:
			at[1] = at[2];
			n = 2;
			break;
		case M_DUP_TID:
			at[n++] = at[0];
			break;
		case M_TWO_TID:
			at[0].twice = 1;
			break;
		case M_DUP_TYPE:
			at[n++] = at[1];
			break;
		case M_NONCE_LEN:
			at[2].data = big;
			at[2].len = rows[i].n;
			break;
		case M_NONCE_PRINTABLE:
			at[2].type = V_ASN1_PRINTABLESTRING;
			break;
		case M_TID_LEN:
			memset(tid, 'T', rows[i].n);
			at[0].data = tid;
			at[0].len = rows[i].n;
			break;
		case M_TID_TYPE:
			at[0].type = rows[i].type;
			break;
		case M_TID_BYTES:
			at[0].data = rows[i].text;
			at[0].len = strlen(rows[i].text);
			break;
		case M_TYPE_TEXT:
			at[1].data = rows[i].text;
			at[1].len = strlen(rows[i].text);
			break;
		case M_TYPE_UTF8:
			at[1].type = V_ASN1_UTF8STRING;
			break;
		case M_CERTREP:
			at[1].data = "3";
			at[1].len = 1;
			if (rows[i].text != NULL)
				at[n++] = (struct scep_sattr){
				    SCEP_OID_PKISTATUS, V_ASN1_PRINTABLESTRING,
				    rows[i].text, 1, 0 };
			if (rows[i].n == 5)
				at[n++] = (struct scep_sattr){
				    SCEP_OID_FAILINFO, V_ASN1_PRINTABLESTRING,
				    "5", 1, 0 };
			if (rows[i].n == 4) {
				at[n++] = (struct scep_sattr){
				    SCEP_OID_FAILINFO, V_ASN1_PRINTABLESTRING,
				    "4", 1, 0 };
				at[n++] = (struct scep_sattr){
				    SCEP_OID_FAILINFOTEXT, V_ASN1_UTF8STRING,
				    "no such cert", 12, 0 };
			}
			break;
		case M_RNONCE_LEN:
			at[n++] = (struct scep_sattr){ SCEP_OID_RECIPIENTNONCE,
			    V_ASN1_OCTET_STRING, big, rows[i].n, 0 };
			break;
		case M_STIME_2050:
			sign_now = (time_t)2524608000LL;
			break;
		}
		m = NULL;
		der = sign_attrs(at, n, flags, cl_key, cl, NULL, NID_sha256,
		    &len);
		r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT,
		    &m) : -999;
		ok = r == rows[i].want;
		if (r == SCEP_OK)
			ok = ok && m != NULL;
		else
			ok = ok && (m != NULL) == rows[i].attributable;
		/* Spot checks of what was read. */
		if (ok && r == SCEP_OK && rows[i].mut == M_NONCE_LEN)
			ok = m->sender_nonce_len == rows[i].n;
		if (ok && r == SCEP_OK && rows[i].mut == M_TID_BYTES)
			ok = strcmp(m->transid, rows[i].text) == 0;
		if (ok && r == SCEP_OK && rows[i].mut == M_TID_LEN)
			ok = m->transid_len == rows[i].n &&
			    strlen(m->transid) == rows[i].n;
		if (ok && r == SCEP_OK && rows[i].mut == M_TYPE_TEXT)
			ok = m->type == 99;
		if (ok && r == SCEP_OK && rows[i].mut == M_CERTREP &&
		    rows[i].n == 4)
			ok = m->status == SCEP_STATUS_FAILURE &&
			    m->failinfo == 4 &&
			    strcmp(m->failtext, "no such cert") == 0;
		if (ok && r == SCEP_OK && rows[i].mut == M_STIME_2050)
			ok = m->has_signing_time &&
			    m->signing_time == (time_t)2524608000LL;
		else if (ok && r == SCEP_OK)
			ok = m->has_signing_time && m->signing_time == TU_NOW;
		sign_now = TU_NOW;
		if (ok && r != SCEP_OK && m != NULL)
			ok = strcmp(m->transid, "TID-ATTR") == 0;
		tap_ok(ok, "attributes: %s (r=%d, out=%s)", rows[i].name, r,
		    m != NULL ? "set" : "NULL");
		scep_msg_free(m);
		OPENSSL_free(der);
	}
}

/* Structure gates: size, truncation, trailing bytes, shapes. */
static void
test_structure(void)
{
	static const size_t cuts[] = { 1, 2, 4, 10, 100 };
	struct scep_msg	*m = NULL;
	uint8_t		*der, *buf = NULL, garbage[512];
	size_t		 len, i, blen;
	int		 r;

	der = tu_request(SCEP_MSG_PKCSREQ, "STRUCT", NID_sha256,
	    NID_aes_128_cbc, 0, ra, cl_key, cl, dummy, 5, &len);
	if (der == NULL) {
		tap_ok(0, "structure: setup");
		return;
	}
	r = scep_msg_decode(der, 0, SCEP_ALG_DEFAULT, &m);
	tap_ok(r == SCEP_E_MALFORMED && m == NULL, "empty input: MALFORMED");
	r = scep_msg_decode(NULL, 0, SCEP_ALG_DEFAULT, &m);
	tap_ok(r == SCEP_E_MALFORMED && m == NULL, "NULL input: MALFORMED");
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		r = scep_msg_decode(der, cuts[i], SCEP_ALG_DEFAULT, &m);
		tap_ok(r == SCEP_E_TRUNCATED && m == NULL,
		    "truncated to %zu bytes: TRUNCATED (r=%d)", cuts[i], r);
	}
	r = scep_msg_decode(der, len / 2, SCEP_ALG_DEFAULT, &m);
	tap_ok(r == SCEP_E_TRUNCATED && m == NULL, "truncated by half");
	r = scep_msg_decode(der, len - 1, SCEP_ALG_DEFAULT, &m);
	tap_ok(r == SCEP_E_TRUNCATED && m == NULL, "last byte missing");

	buf = OPENSSL_malloc(len + 1);
	memcpy(buf, der, len);
	buf[len] = 0;
	r = scep_msg_decode(buf, len + 1, SCEP_ALG_DEFAULT, &m);
	tap_ok(r == SCEP_E_TRAILING && m == NULL, "one trailing byte: TRAILING");
	OPENSSL_free(buf);

	for (i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t)(i * 37 + 11);
	r = scep_msg_decode(garbage, sizeof(garbage), SCEP_ALG_DEFAULT, &m);
	tap_ok(r < 0 && m == NULL, "garbage: rejected (r=%d)", r);
	garbage[0] = 0x30;
	garbage[1] = 0x82;
	garbage[2] = 0x01;
	garbage[3] = 0xfc;
	r = scep_msg_decode(garbage, sizeof(garbage), SCEP_ALG_DEFAULT, &m);
	tap_ok(r == SCEP_E_MALFORMED && m == NULL,
	    "garbage in a SEQUENCE: MALFORMED (r=%d)", r);

	buf = OPENSSL_zalloc(SCEP_MAX_MSG_DER + 1);
	r = scep_msg_decode(buf, SCEP_MAX_MSG_DER + 1, SCEP_ALG_DEFAULT, &m);
	tap_ok(r == SCEP_E_TOOBIG && m == NULL, "over SCEP_MAX_MSG_DER: TOOBIG");
	OPENSSL_free(buf);

	/* An EnvelopedData where a SignedData belongs. */
	buf = NULL;
	r = scep_env_encrypt(dummy, 5, ra, NID_aes_128_cbc, &buf, &blen);
	r = r == SCEP_OK ? scep_msg_decode(buf, blen, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_E_MALFORMED && m == NULL,
	    "EnvelopedData is not a pkiMessage (r=%d)", r);
	OPENSSL_free(buf);
	OPENSSL_free(der);

	der = raw_msg(EVP_sha256(), 2, 0, NID_undef, &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_E_MALFORMED && m == NULL,
	    "two SignerInfos: MALFORMED (r=%d)", r);
	OPENSSL_free(der);
	der = raw_msg(EVP_sha256(), 1, 1, NID_undef, &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_E_MALFORMED && m == NULL,
	    "no signed attributes: MALFORMED (r=%d)", r);
	OPENSSL_free(der);
	der = raw_msg(EVP_sha256(), 1, 0, NID_pkcs7_enveloped, &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_E_MALFORMED && m == NULL,
	    "eContentType not id-data: MALFORMED (r=%d)", r);
	OPENSSL_free(der);
	der = raw_msg(EVP_sha256(), 1, 0, NID_undef, &len);
	r = der != NULL ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) :
	    -999;
	tap_ok(r == SCEP_OK && m != NULL, "plain CMS_sign message decodes");
	scep_msg_free(m);
	OPENSSL_free(der);
	scep_msg_free(NULL);
	tap_ok(1, "scep_msg_free(NULL)");
}

int
main(void)
{
	uint8_t	*csr = NULL;
	size_t	 csrlen = 0;

	TU_NEED(cl_key = tu_key(testkey_client_pem));
	TU_NEED(ra_key = tu_key(testkey_ra_pem));
	TU_NEED(other_key = tu_key(testkey_other_pem));
	TU_NEED(ec_key = tu_key(testkey_ec256_pem));
	TU_NEED(cl = tu_cert(cl_key, "client", 200, NULL, NULL, 0));
	TU_NEED(ra = tu_cert(ra_key, "scepd test RA", 100, NULL, NULL, 0));
	TU_NEED(other = tu_cert(other_key, "other", 300, NULL, NULL, 0));
	TU_NEED(ec_cert = tu_cert(ec_key, "ec client", 400, NULL, NULL, 0));
	TU_NEED(csr = tu_csr(cl_key, "client", TU_CHAL_PRINTABLE, "secret",
	    0, &csrlen));

	test_types_digests(csr, csrlen);
	test_digest_policy();
	test_signers();
	test_ber();
	test_attr_table();
	test_structure();

	OPENSSL_free(csr);
	X509_free(cl);
	X509_free(ra);
	X509_free(other);
	X509_free(ec_cert);
	EVP_PKEY_free(cl_key);
	EVP_PKEY_free(ra_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(ec_key);
	return tap_done();
}
