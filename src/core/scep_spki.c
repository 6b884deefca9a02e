/*
 * scep_spki.c -- SubjectPublicKeyInfo (RFC 5280 4.1.2.7) without OpenSSL
 * 3.0's key decoder.
 *
 * d2i_X509, d2i_X509_REQ and d2i_PUBKEY build an OSSL_DECODER chain
 * (OSSL_DECODER_CTX_new_for_pkey) for the public key on every call: ~0.1
 * ms and most of libcrypto's rwlock traffic, per request.  Here the SPKI
 * is an ASN1 template (algorithm + key bits, no X509_PUBKEY callback) and
 * the common keys -- RSA, EC on P-256 and P-384 -- are imported with
 * EVP_PKEY_fromdata(), which validates an EC point against its curve.
 * Anything else takes the general path (d2i_PUBKEY).  Both give the same
 * EVP_PKEY (tests/unit/test_spki.c).  The same idea serves the key
 * process (src/keyproc/kp_wire.c).
 */
#include <limits.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "scep.h"
#include "scep_int.h"

ASN1_SEQUENCE(SCEP_SPKI) = {
	ASN1_SIMPLE(struct scep_spki, alg, X509_ALGOR),
	ASN1_SIMPLE(struct scep_spki, key, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END_name(struct scep_spki, SCEP_SPKI)

/* RSAPublicKey (RFC 8017 A.1.1). */
struct rsapub {
	ASN1_INTEGER	*n;
	ASN1_INTEGER	*e;
};

ASN1_SEQUENCE(SCEP_RSAPUB) = {
	ASN1_SIMPLE(struct rsapub, n, ASN1_INTEGER),
	ASN1_SIMPLE(struct rsapub, e, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END_name(struct rsapub, SCEP_RSAPUB)

/* Import OSSL_PARAMs as a public key of "type" ("RSA", "EC"). */
static EVP_PKEY *
pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*k = NULL;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		k = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return k;
}

/*
 * Key bits of an RSAPublicKey as N and E, ordinary sizes only.  The
 * builder refers to *n and *e (take) until OSSL_PARAM_BLD_to_param.
 */
static int
rsa_params(const ASN1_BIT_STRING *bits, OSSL_PARAM_BLD *bld, BIGNUM **n,
    BIGNUM **e)
{
	const unsigned char	*p, *end;
	struct rsapub		*rp = NULL;
	int			 ok = 0, nb;

	p = ASN1_STRING_get0_data(bits);
	end = p + ASN1_STRING_length(bits);
	rp = (struct rsapub *)ASN1_item_d2i(NULL, &p,
	    ASN1_STRING_length(bits), ASN1_ITEM_rptr(SCEP_RSAPUB));
	if (rp == NULL || p != end ||
	    ASN1_STRING_type(rp->n) != V_ASN1_INTEGER ||
	    ASN1_STRING_type(rp->e) != V_ASN1_INTEGER)
		goto out;
	if ((*n = ASN1_INTEGER_to_BN(rp->n, NULL)) == NULL ||
	    (*e = ASN1_INTEGER_to_BN(rp->e, NULL)) == NULL)
		goto out;
	/* Odd sizes get the general path. */
	nb = BN_num_bits(*n);
	if (nb < 512 || nb > 16384 || BN_num_bits(*e) > 64)
		goto out;
	ok = OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, *n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, *e);
 out:
	ASN1_item_free((ASN1_VALUE *)rp, ASN1_ITEM_rptr(SCEP_RSAPUB));
	return ok;
}

EVP_PKEY *
scep_spki_import(const struct scep_spki *s)
{
	const ASN1_OBJECT	*obj = NULL;
	const void		*pval = NULL;
	OSSL_PARAM_BLD		*bld = NULL;
	BIGNUM			*n = NULL, *e = NULL;
	EVP_PKEY		*k = NULL;
	int			 ptype = 0, nid, curve;

	/* A key is a whole number of octets. */
	if (s == NULL || s->alg == NULL || s->key == NULL ||
	    ((s->key->flags & ASN1_STRING_FLAG_BITS_LEFT) != 0 &&
	    (s->key->flags & 0x07) != 0))
		return NULL;
	X509_ALGOR_get0(&obj, &ptype, &pval, s->alg);	/* get0 */
	nid = OBJ_obj2nid(obj);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		return NULL;
	if (nid == NID_rsaEncryption && (ptype == V_ASN1_NULL ||
	    ptype == V_ASN1_UNDEF)) {
		if (rsa_params(s->key, bld, &n, &e))
			k = pkey_fromdata("RSA", bld);
	} else if (nid == NID_X9_62_id_ecPublicKey &&
	    ptype == V_ASN1_OBJECT) {
		curve = OBJ_obj2nid((const ASN1_OBJECT *)pval);
		if ((curve == NID_X9_62_prime256v1 ||
		    curve == NID_secp384r1) &&
		    OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, OBJ_nid2sn(curve), 0) &&
		    OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, ASN1_STRING_get0_data(s->key),
		    (size_t)ASN1_STRING_length(s->key)))
			k = pkey_fromdata("EC", bld);
	}
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return k;
}

EVP_PKEY *
scep_spki_pkey(const struct scep_spki *s)
{
	unsigned char		*der = NULL;
	const unsigned char	*p;
	EVP_PKEY		*k;
	int			 n;

	if ((k = scep_spki_import(s)) != NULL)
		return k;
	ERR_clear_error();
	/* The general path, from the same bytes re-encoded. */
	if (s == NULL || (n = ASN1_item_i2d((const ASN1_VALUE *)s, &der,
	    ASN1_ITEM_rptr(SCEP_SPKI))) <= 0)
		return NULL;
	p = der;
	if ((k = d2i_PUBKEY(NULL, &p, n)) != NULL && p != der + n) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	OPENSSL_free(der);
	return k;
}

X509_PUBKEY *
scep_spki_bits(const struct scep_spki *s)
{
	const ASN1_OBJECT	*aobj = NULL;
	const void		*pval = NULL;
	X509_PUBKEY		*k = NULL;
	ASN1_OBJECT		*obj = NULL, *param = NULL;
	unsigned char		*enc = NULL;
	int			 ptype = 0, n;

	if (s == NULL || s->alg == NULL || s->key == NULL ||
	    ((s->key->flags & ASN1_STRING_FLAG_BITS_LEFT) != 0 &&
	    (s->key->flags & 0x07) != 0) ||
	    (n = ASN1_STRING_length(s->key)) <= 0)
		return NULL;
	X509_ALGOR_get0(&aobj, &ptype, &pval, s->alg);	/* get0 */
	if (ptype == V_ASN1_OBJECT) {
		if ((param = OBJ_dup(pval)) == NULL)
			return NULL;
	} else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF)
		return NULL;
	if ((k = X509_PUBKEY_new()) == NULL || (obj = OBJ_dup(aobj)) == NULL ||
	    (enc = OPENSSL_memdup(ASN1_STRING_get0_data(s->key),
	    (size_t)n)) == NULL)
		goto fail;
	if (X509_PUBKEY_set0_param(k, obj, ptype, param, enc, n) != 1)
		goto fail;
	return k;		/* owns obj, param and enc */
 fail:
	X509_PUBKEY_free(k);
	ASN1_OBJECT_free(obj);
	ASN1_OBJECT_free(param);
	OPENSSL_free(enc);
	return NULL;
}

int
scep_spki_eq(const X509_PUBKEY *spki, const EVP_PKEY *key)
{
	struct scep_spki	*s = NULL;
	unsigned char		*der = NULL;
	const unsigned char	*p;
	EVP_PKEY		*k = NULL;
	int			 n, r = 0;

	if (spki == NULL || key == NULL)
		return 0;
	/* SPKIs read by scep_spki_bits cache no key: import the bits. */
	if ((n = i2d_X509_PUBKEY(spki, &der)) <= 0)
		goto out;
	p = der;
	s = (struct scep_spki *)ASN1_item_d2i(NULL, &p, n,
	    ASN1_ITEM_rptr(SCEP_SPKI));
	if (s == NULL || p != der + n || (k = scep_spki_pkey(s)) == NULL)
		goto out;
	r = EVP_PKEY_eq(k, key) == 1;
 out:
	ERR_clear_error();
	EVP_PKEY_free(k);
	ASN1_item_free((ASN1_VALUE *)s, ASN1_ITEM_rptr(SCEP_SPKI));
	OPENSSL_free(der);
	return r;
}

int
scep_spki_der(const uint8_t *der, size_t len, EVP_PKEY **key,
    X509_PUBKEY **bits)
{
	const unsigned char	*p = der;
	struct scep_spki	*s;
	int			 r = SCEP_OK;

	if (key != NULL)
		*key = NULL;
	if (bits != NULL)
		*bits = NULL;
	if (der == NULL || len == 0 || len > (size_t)LONG_MAX)
		return SCEP_E_MALFORMED;
	s = (struct scep_spki *)ASN1_item_d2i(NULL, &p, (long)len,
	    ASN1_ITEM_rptr(SCEP_SPKI));
	if (s == NULL)
		r = SCEP_E_MALFORMED;
	else if (p != der + len)
		r = SCEP_E_TRAILING;
	else {
		if (key != NULL)
			*key = scep_spki_import(s);
		if (bits != NULL)
			*bits = scep_spki_bits(s);
	}
	ERR_clear_error();
	ASN1_item_free((ASN1_VALUE *)s, ASN1_ITEM_rptr(SCEP_SPKI));
	return r;
}

/*
 * A certificate (RFC 5280 4.1) as ASN1 templates whose key stays
 * algorithm and bits (SCEP_SPKI), for a CertRep recipient: the envelope
 * needs only its issuer, serial number and RSA key, and d2i_X509 would
 * build an OpenSSL 3.0 decoder chain for the key (~90 us) per reply.
 */
struct min_tbs {
	ASN1_INTEGER		*version;
	ASN1_INTEGER		*serial;
	X509_ALGOR		*sigalg;
	X509_NAME		*issuer;
	X509_VAL		*validity;
	X509_NAME		*subject;
	struct scep_spki	*spki;
	ASN1_BIT_STRING		*issuer_uid;
	ASN1_BIT_STRING		*subject_uid;
	STACK_OF(X509_EXTENSION) *exts;
};

ASN1_SEQUENCE(SCEP_MIN_TBS) = {
	ASN1_EXP_OPT(struct min_tbs, version, ASN1_INTEGER, 0),
	ASN1_SIMPLE(struct min_tbs, serial, ASN1_INTEGER),
	ASN1_SIMPLE(struct min_tbs, sigalg, X509_ALGOR),
	ASN1_SIMPLE(struct min_tbs, issuer, X509_NAME),
	ASN1_SIMPLE(struct min_tbs, validity, X509_VAL),
	ASN1_SIMPLE(struct min_tbs, subject, X509_NAME),
	ASN1_SIMPLE(struct min_tbs, spki, SCEP_SPKI),
	ASN1_IMP_OPT(struct min_tbs, issuer_uid, ASN1_BIT_STRING, 1),
	ASN1_IMP_OPT(struct min_tbs, subject_uid, ASN1_BIT_STRING, 2),
	ASN1_EXP_SEQUENCE_OF_OPT(struct min_tbs, exts, X509_EXTENSION, 3),
} static_ASN1_SEQUENCE_END_name(struct min_tbs, SCEP_MIN_TBS)

struct min_cert {
	struct min_tbs		*tbs;
	X509_ALGOR		*sigalg;
	ASN1_BIT_STRING		*sig;
};

ASN1_SEQUENCE(SCEP_MIN_CERT) = {
	ASN1_SIMPLE(struct min_cert, tbs, SCEP_MIN_TBS),
	ASN1_SIMPLE(struct min_cert, sigalg, X509_ALGOR),
	ASN1_SIMPLE(struct min_cert, sig, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END_name(struct min_cert, SCEP_MIN_CERT)

int
scep_cert_recipient(const uint8_t *der, size_t len, X509 **out)
{
	const unsigned char	*p = der, *q = NULL;
	const ASN1_OBJECT	*obj = NULL;
	const void		*pval = NULL;
	struct min_cert		*c = NULL;
	EVP_PKEY		*k = NULL;
	X509			*x = NULL;
	int			 ptype = 0, n, r = SCEP_E_UNSUPPORTED;

	*out = NULL;
	if (der == NULL || len == 0 || len > (size_t)LONG_MAX)
		return SCEP_E_MALFORMED;
	c = (struct min_cert *)ASN1_item_d2i(NULL, &p, (long)len,
	    ASN1_ITEM_rptr(SCEP_MIN_CERT));
	if (c == NULL || p != der + len)
		goto out;
	X509_ALGOR_get0(&obj, &ptype, &pval, c->tbs->spki->alg); /* get0 */
	if (OBJ_obj2nid(obj) != NID_rsaEncryption ||
	    (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) ||
	    ((c->tbs->spki->key->flags & ASN1_STRING_FLAG_BITS_LEFT) != 0 &&
	    (c->tbs->spki->key->flags & 0x07) != 0))
		goto out;
	q = ASN1_STRING_get0_data(c->tbs->spki->key);
	n = ASN1_STRING_length(c->tbs->spki->key);
	if ((k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, n)) == NULL ||
	    q != ASN1_STRING_get0_data(c->tbs->spki->key) + n)
		goto out;
	r = SCEP_E_NOMEM;
	if ((x = X509_new()) == NULL)
		goto out;
	r = SCEP_E_INTERNAL;
	if (X509_set_issuer_name(x, c->tbs->issuer) != 1 ||
	    X509_set_serialNumber(x, c->tbs->serial) != 1 ||
	    X509_set_pubkey(x, k) != 1)
		goto out;
	*out = x;
	x = NULL;
	r = SCEP_OK;
 out:
	if (r == SCEP_E_UNSUPPORTED)
		ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(k);
	ASN1_item_free((ASN1_VALUE *)c, ASN1_ITEM_rptr(SCEP_MIN_CERT));
	return r;
}
