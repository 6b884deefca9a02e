/*
 * scep_req.c -- the client side (RFC 8894 3.3.1, 3.3.3, 3.3.4): build a
 * request pkiMessage, and a temporary self-signed signer certificate.
 * Used by the unit tests, the benchmark and `scepctl probe`; the daemon
 * never calls these.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "scep.h"
#include "scep_int.h"

int
scep_request_build(const struct scep_request *rq, EVP_PKEY *key, X509 *cert,
    uint8_t **out, size_t *out_len)
{
	struct scep_signreq	 sr;
	struct scep_sattr	 at[3];
	uint8_t			*env = NULL;
	size_t			 envlen = 0, tlen;
	char			 type[4];
	int			 r;

	*out = NULL;
	*out_len = 0;
	if (rq == NULL || key == NULL || cert == NULL || rq->ra == NULL ||
	    rq->transid == NULL || (rq->inner == NULL && rq->inner_len != 0))
		return SCEP_E_INTERNAL;
	if (rq->type < 0 || rq->type > 999)
		return SCEP_E_BADMSGTYPE;
	tlen = strlen(rq->transid);
	if (tlen == 0 || tlen > SCEP_MAX_TRANSID)
		return SCEP_E_BADATTR;

	/* The pkcsPKIEnvelope for the RA/CA (RFC 8894 3.2.2). */
	if ((r = scep_env_encrypt_ex(rq->inner, rq->inner_len, rq->ra,
	    rq->cipher_nid, rq->flags & (SCEP_ENV_OAEP |
	    SCEP_ENV_OAEP_SHA256 | SCEP_ENV_RID_SKI), &env, &envlen)) !=
	    SCEP_OK)
		return r;

	/* Every request: transactionID, messageType, a fresh senderNonce
	 * (spec 6.3), all PrintableString but the nonce. */
	(void)snprintf(type, sizeof(type), "%d", rq->type);
	at[0] = (struct scep_sattr){ SCEP_OID_TRANSID,
	    V_ASN1_PRINTABLESTRING, rq->transid, tlen, 0 };
	at[1] = (struct scep_sattr){ SCEP_OID_MESSAGETYPE,
	    V_ASN1_PRINTABLESTRING, type, strlen(type), 0 };
	at[2] = (struct scep_sattr){ SCEP_OID_SENDERNONCE,
	    V_ASN1_OCTET_STRING, rq->sender_nonce, SCEP_NONCE_LEN, 0 };

	memset(&sr, 0, sizeof(sr));
	sr.content = env;
	sr.content_len = envlen;
	sr.key = key;
	sr.cert = cert;
	sr.md_nid = rq->md_nid;
	sr.now = rq->now;
	sr.attrs = at;
	sr.nattrs = 3;
	if (rq->flags & SCEP_REQ_SIGNER_SKI)
		sr.flags |= SCEP_SIGN_SKI;
	if (rq->flags & SCEP_REQ_PSS)
		sr.flags |= SCEP_SIGN_PSS;
	r = scep_sign(&sr, out, out_len);
	OPENSSL_free(env);
	return r;
}

/* Add one extension by NID from its text form (X509V3_EXT_conf_nid). */
static int
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	int		 ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

int
scep_selfsigned_cert(EVP_PKEY *key, const char *cn, time_t now, int days,
    X509 **out)
{
	X509		*x = NULL;
	X509_NAME	*name = NULL;
	BIGNUM		*bn = NULL;
	EVP_MD		*md = NULL;
	unsigned char	 rnd[8];
	int		 r = SCEP_E_INTERNAL;

	*out = NULL;
	if (key == NULL || cn == NULL || cn[0] == '\0' || days <= 0 ||
	    strlen(cn) > 64)
		return SCEP_E_INTERNAL;
	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	if (!X509_set_version(x, X509_VERSION_3))
		goto out;
	/* Positive 63-bit random serial: randomness from libcrypto. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;
	rnd[0] &= 0x7f;
	rnd[0] |= 0x01;
	if ((bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name))
		goto out;
	if (X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, &now) == NULL)
		goto out;
	if (!X509_set_pubkey(x, key))
		goto out;
	if (!add_ext(x, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, NID_key_usage,
	    "critical,digitalSignature,keyEncipherment"))
		goto out;
	if ((md = scep_md_fetch(NID_sha256)) == NULL)
		goto out;
	if (X509_sign(x, key, md) <= 0)
		goto out;
	*out = x;
	x = NULL;
	r = SCEP_OK;
 out:
	EVP_MD_free(md);
	BN_free(bn);
	X509_NAME_free(name);
	X509_free(x);
	return r;
}
