/*
 * testutil.c -- helpers shared by the core unit tests (see testutil.h).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "testutil.h"

EVP_PKEY *
tu_key(const char *pem)
{
	BIO		*b = NULL;
	EVP_PKEY	*k = NULL;

	if ((b = BIO_new_mem_buf(pem, -1)) == NULL)
		return NULL;
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	return k;
}

EVP_PKEY *
tu_rsa(int bits)
{
	return EVP_RSA_gen((unsigned int)bits);
}

EVP_PKEY *
tu_ec(const char *curve)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
}

static int
add_ext(X509 *x, X509 *issuer, EVP_PKEY *issuer_key, int nid,
    const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext = NULL;
	int		 ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (issuer == NULL && !X509V3_set_issuer_pkey(&ctx, issuer_key))
		return 0;
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static int
add_rdn(X509_NAME *n, const char *f, const char *v)
{
	return X509_NAME_add_entry_by_txt(n, f, MBSTRING_UTF8,
	    (const unsigned char *)v, -1, -1, 0);
}

X509 *
tu_cert(EVP_PKEY *key, const char *cn, long serial, X509 *issuer,
    EVP_PKEY *issuer_key, unsigned int flags)
{
	X509		*x = NULL;
	X509_NAME	*n = NULL;
	time_t		 now = TU_NOW;
	int		 ok = 0;

	if (issuer_key == NULL)
		issuer_key = key;
	if ((x = X509_new()) == NULL || (n = X509_NAME_new()) == NULL)
		goto out;
	if (!X509_set_version(x, (flags & TU_V1) ? X509_VERSION_1 :
	    X509_VERSION_3))
		goto out;
	if (!ASN1_INTEGER_set(X509_get_serialNumber(x), serial))
		goto out;
	if (flags & TU_RDN_MULTI) {
		if (!add_rdn(n, "O", "scepd test") ||
		    !add_rdn(n, "OU", "unit") || !add_rdn(n, "CN", cn))
			goto out;
	} else if (flags & TU_RDN_REV) {
		if (!add_rdn(n, "CN", cn) || !add_rdn(n, "OU", "unit") ||
		    !add_rdn(n, "O", "scepd test"))
			goto out;
	} else if (!add_rdn(n, "CN", cn))
		goto out;
	if (!X509_set_subject_name(x, n) || !X509_set_issuer_name(x,
	    issuer != NULL ? X509_get_subject_name(issuer) : n))
		goto out;
	if (X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 365, 0, &now) == NULL)
		goto out;
	if (!X509_set_pubkey(x, key))
		goto out;
	if ((flags & TU_V1) == 0) {
		if ((flags & TU_NO_SKI) == 0 && !add_ext(x, issuer,
		    issuer_key, NID_subject_key_identifier, "hash"))
			goto out;
		if ((flags & TU_AKI_CRIT) && !add_ext(x, issuer, issuer_key,
		    NID_authority_key_identifier, "critical,keyid:always"))
			goto out;
		if ((flags & TU_CA) && !add_ext(x, issuer, issuer_key,
		    NID_basic_constraints, "critical,CA:TRUE"))
			goto out;
		if (!add_ext(x, issuer, issuer_key, NID_key_usage,
		    (flags & TU_CA) ? "digitalSignature,keyEncipherment,"
		    "keyCertSign,cRLSign" : "digitalSignature,keyEncipherment"))
			goto out;
	}
	if (X509_sign(x, issuer_key, EVP_sha256()) <= 0)
		goto out;
	ok = 1;
 out:
	X509_NAME_free(n);
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* A challengePassword value of the requested type, from UTF-8 text. */
static ASN1_STRING *
chal_string(enum tu_chal ct, const char *s)
{
	ASN1_STRING	*out = NULL;
	unsigned long	 mask;

	switch (ct) {
	case TU_CHAL_PRINTABLE:
		mask = B_ASN1_PRINTABLESTRING;
		break;
	case TU_CHAL_T61:
		mask = B_ASN1_T61STRING;
		break;
	case TU_CHAL_BMP:
		mask = B_ASN1_BMPSTRING;
		break;
	case TU_CHAL_UNIVERSAL:
		mask = B_ASN1_UNIVERSALSTRING;
		break;
	case TU_CHAL_IA5:
		mask = B_ASN1_IA5STRING;
		break;
	default:
		mask = B_ASN1_UTF8STRING;
		break;
	}
	if (ASN1_mbstring_copy(&out, (const unsigned char *)s, -1,
	    MBSTRING_UTF8, mask) < 0)
		return NULL;
	return out;
}

uint8_t *
tu_csr(EVP_PKEY *key, const char *cn, enum tu_chal ct, const char *chal,
    int nsans, size_t *len)
{
	X509_REQ			*req = NULL;
	X509_NAME			*n = NULL;
	ASN1_STRING			*s = NULL;
	ASN1_INTEGER			*ai = NULL;
	X509_ATTRIBUTE			*at = NULL;
	STACK_OF(X509_EXTENSION)	*exts = NULL;
	GENERAL_NAMES			*gens = NULL;
	GENERAL_NAME			*gn = NULL;
	ASN1_IA5STRING			*ia5 = NULL;
	unsigned char			*der = NULL;
	char				 host[64];
	int				 i, dl = -1;

	*len = 0;
	if ((req = X509_REQ_new()) == NULL || (n = X509_NAME_new()) == NULL)
		goto out;
	if (!add_rdn(n, "CN", cn) || !X509_REQ_set_subject_name(req, n) ||
	    !X509_REQ_set_pubkey(req, key))
		goto out;
	switch (ct) {
	case TU_CHAL_NONE:
		break;
	case TU_CHAL_INTEGER:
		if ((ai = ASN1_INTEGER_new()) == NULL ||
		    !ASN1_INTEGER_set(ai, 42) ||
		    !X509_REQ_add1_attr_by_NID(req,
		    NID_pkcs9_challengePassword, V_ASN1_INTEGER,
		    (const unsigned char *)ai, -1))
			goto out;
		break;
	case TU_CHAL_TWO_VALUES:
		if ((at = X509_ATTRIBUTE_create_by_NID(NULL,
		    NID_pkcs9_challengePassword, V_ASN1_PRINTABLESTRING,
		    chal, (int)strlen(chal))) == NULL ||
		    !X509_ATTRIBUTE_set1_data(at, V_ASN1_PRINTABLESTRING,
		    chal, (int)strlen(chal)) || !X509_REQ_add1_attr(req, at))
			goto out;
		break;
	default:
		if ((s = chal_string(ct == TU_CHAL_TWICE ? TU_CHAL_PRINTABLE :
		    ct, chal)) == NULL)
			goto out;
		if (!X509_REQ_add1_attr_by_NID(req,
		    NID_pkcs9_challengePassword, ASN1_STRING_type(s),
		    (const unsigned char *)s, -1))
			goto out;
		break;
	}
	if (nsans > 0) {
		if ((gens = GENERAL_NAMES_new()) == NULL)
			goto out;
		for (i = 0; i < nsans; i++) {
			(void)snprintf(host, sizeof(host), "h%d.example", i);
			if ((gn = GENERAL_NAME_new()) == NULL ||
			    (ia5 = ASN1_IA5STRING_new()) == NULL ||
			    !ASN1_STRING_set(ia5, host, -1))
				goto out;
			GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
			ia5 = NULL;
			if (!sk_GENERAL_NAME_push(gens, gn))
				goto out;
			gn = NULL;
		}
		if (!X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0, 0) ||
		    !X509_REQ_add_extensions(req, exts))
			goto out;
	}
	/* EdDSA signs without a separate digest. */
	if (X509_REQ_sign(req, key, EVP_PKEY_get_base_id(key) ==
	    EVP_PKEY_ED25519 ? NULL : EVP_sha256()) <= 0)
		goto out;
	if ((dl = i2d_X509_REQ(req, &der)) <= 0)
		goto out;
	*len = (size_t)dl;
	if (ct == TU_CHAL_TWICE) {
		uint8_t *twice = tu_dup_attr(der, *len, key,
		    NID_pkcs9_challengePassword, len);

		OPENSSL_free(der);
		der = twice;
		if (der == NULL)
			dl = -1;
	}
 out:
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_ATTRIBUTE_free(at);
	ASN1_INTEGER_free(ai);
	ASN1_STRING_free(s);
	X509_NAME_free(n);
	X509_REQ_free(req);
	if (dl <= 0) {
		OPENSSL_free(der);
		der = NULL;
	}
	return der;
}

/*
 * libcrypto refuses to add an attribute twice, so: add a decoy
 * unstructuredName (1.2.840.113549.1.9.2) with the same value, encode,
 * turn the decoy's OID into the wanted one (same length, last byte
 * differs), decode and sign again.
 */
uint8_t *
tu_dup_attr(const uint8_t *der, size_t len, EVP_PKEY *key, int nid,
    size_t *outlen)
{
	static const uint8_t decoy[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	    0xf7, 0x0d, 0x01, 0x09, 0x02 };
	X509_REQ		*req = NULL, *req2 = NULL;
	X509_ATTRIBUTE		*at;
	ASN1_TYPE		*t;
	const ASN1_OBJECT	*obj;
	const unsigned char	*p = der;
	unsigned char		*enc = NULL, *out = NULL;
	int			 n = 0, i, idx, patched = 0;

	*outlen = 0;
	if ((obj = OBJ_nid2obj(nid)) == NULL || OBJ_length(obj) != 9)
		return NULL;
	if ((req = d2i_X509_REQ(NULL, &p, (long)len)) == NULL)
		goto out;
	if ((idx = X509_REQ_get_attr_by_NID(req, nid, -1)) < 0 ||
	    (at = X509_REQ_get_attr(req, idx)) == NULL ||
	    (t = X509_ATTRIBUTE_get0_type(at, 0)) == NULL)
		goto out;
	if (!X509_REQ_add1_attr_by_NID(req, NID_pkcs9_unstructuredName,
	    ASN1_TYPE_get(t), (const unsigned char *)t->value.asn1_string,
	    -1))
		goto out;
	if ((n = i2d_X509_REQ(req, &enc)) <= 0)
		goto out;
	for (i = 0; i + (int)sizeof(decoy) <= n && !patched; i++) {
		if (memcmp(enc + i, decoy, sizeof(decoy)) == 0) {
			enc[i + 10] = OBJ_get0_data(obj)[8];
			patched = 1;
		}
	}
	p = enc;
	if (!patched || (req2 = d2i_X509_REQ(NULL, &p, n)) == NULL)
		goto out;
	if (X509_REQ_sign(req2, key, EVP_sha256()) <= 0)
		goto out;
	if ((n = i2d_X509_REQ(req2, &out)) > 0)
		*outlen = (size_t)n;
 out:
	OPENSSL_free(enc);
	X509_REQ_free(req);
	X509_REQ_free(req2);
	return *outlen > 0 ? out : NULL;
}

uint8_t *
tu_request(int type, const char *transid, int md_nid, int cipher_nid,
    unsigned int flags, X509 *ra, EVP_PKEY *key, X509 *cert,
    const uint8_t *inner, size_t inner_len, size_t *len)
{
	struct scep_request	 rq;
	uint8_t			*out = NULL;

	memset(&rq, 0, sizeof(rq));
	rq.type = type;
	rq.transid = transid;
	memcpy(rq.sender_nonce, "nonce-0123456789", SCEP_NONCE_LEN);
	rq.md_nid = md_nid;
	rq.cipher_nid = cipher_nid;
	rq.ra = ra;
	rq.inner = inner;
	rq.inner_len = inner_len;
	rq.now = TU_NOW;
	rq.flags = flags;
	*len = 0;
	if (scep_request_build(&rq, key, cert, &out, len) != SCEP_OK)
		return NULL;
	return out;
}

uint8_t *
tu_read_file(const char *path, size_t *len)
{
	FILE	*f = NULL;
	uint8_t	*p = NULL;
	long	 n;

	*len = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    n > 16 * 1024 * 1024 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	if ((p = OPENSSL_malloc((size_t)n + 1)) == NULL)
		goto out;
	if (fread(p, 1, (size_t)n, f) != (size_t)n) {
		OPENSSL_free(p);
		p = NULL;
		goto out;
	}
	*len = (size_t)n;
 out:
	fclose(f);
	return p;
}

int
tu_write_file(const char *path, const uint8_t *p, size_t len)
{
	FILE	*f;
	int	 ok;

	if ((f = fopen(path, "wb")) == NULL)
		return 0;
	ok = fwrite(p, 1, len, f) == len;
	if (fclose(f) != 0)
		ok = 0;
	return ok;
}

static OSSL_PROVIDER *prov_default, *prov_legacy;

int
tu_load_legacy(void)
{
	/* Loading any provider explicitly turns off the implicit default
	 * one, so load both (OSSL_PROVIDER(7)). */
	if (prov_default == NULL &&
	    (prov_default = OSSL_PROVIDER_load(NULL, "default")) == NULL)
		return 0;
	if (prov_legacy == NULL)
		prov_legacy = OSSL_PROVIDER_load(NULL, "legacy");
	return prov_legacy != NULL;
}

void
tu_unload_legacy(void)
{
	if (prov_legacy != NULL)
		OSSL_PROVIDER_unload(prov_legacy);
	if (prov_default != NULL)
		OSSL_PROVIDER_unload(prov_default);
	prov_legacy = prov_default = NULL;
}
