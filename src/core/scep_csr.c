/*
 * scep_csr.c -- the PKCS#10 inside a PKCSReq/RenewalReq (RFC 8894 3.3.1,
 * spec 12): structure, key type and size, proof of possession, the
 * challengePassword and the requested subjectAltNames.
 *
 * Only what holds for every endpoint is checked here (RSA of
 * SCEP_MIN_RSA_BITS..SCEP_MAX_RSA_BITS, EC P-256/P-384); the endpoint's
 * own policy (e.g. RSA >= 2048) is the service's.  Unknown attributes
 * (Cisco's unstructuredName, Microsoft's enrollment pairs) are ignored
 * (spec 17.2).
 */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "scep.h"
#include "scep_int.h"

void
scep_csr_free(struct scep_csr *c)
{
	if (c == NULL)
		return;
	X509_REQ_free(c->req);
	if (c->challenge != NULL)
		OPENSSL_clear_free(c->challenge, c->challenge_len + 1);
	GENERAL_NAMES_free(c->sans);
	OPENSSL_free(c);
}

/* Key type and size acceptable at all (spec 12.1). */
static int
check_key(struct scep_csr *c)
{
	char	group[64];
	size_t	glen = 0;

	c->key_type = EVP_PKEY_get_base_id(c->pubkey);
	c->key_bits = EVP_PKEY_get_bits(c->pubkey);
	switch (c->key_type) {
	case EVP_PKEY_RSA:
		if (c->key_bits < SCEP_MIN_RSA_BITS ||
		    c->key_bits > SCEP_MAX_RSA_BITS)
			return SCEP_E_BADKEY;
		return SCEP_OK;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(c->pubkey, group, sizeof(group),
		    &glen))
			return SCEP_E_BADKEY;	/* explicit curve parameters */
		c->ec_nid = OBJ_sn2nid(group);
		if (c->ec_nid == NID_undef)
			c->ec_nid = EC_curve_nist2nid(group);
		if (c->ec_nid != NID_X9_62_prime256v1 &&
		    c->ec_nid != NID_secp384r1)
			return SCEP_E_BADKEY;
		return SCEP_OK;
	default:
		return SCEP_E_BADKEY;
	}
}

/*
 * challengePassword (spec 12.2): at most one attribute with exactly one
 * value, any DirectoryString type (plus IA5String from sloppy encoders),
 * converted to UTF-8, no NUL inside, at most SCEP_MAX_CHALLENGE bytes.
 */
static int
read_challenge(struct scep_csr *c)
{
	X509_ATTRIBUTE	*at;		/* get0: owned by req */
	ASN1_TYPE	*t;		/* get0 */
	unsigned char	*u = NULL;	/* OPENSSL_malloc'd by to_UTF8 */
	int		 i, n;

	if ((i = X509_REQ_get_attr_by_NID(c->req,
	    NID_pkcs9_challengePassword, -1)) < 0)
		return SCEP_OK;			/* absent: policy decides */
	if (X509_REQ_get_attr_by_NID(c->req, NID_pkcs9_challengePassword,
	    i) >= 0)
		return SCEP_E_MALFORMED;	/* twice */
	if ((at = X509_REQ_get_attr(c->req, i)) == NULL ||
	    X509_ATTRIBUTE_count(at) != 1 ||
	    (t = X509_ATTRIBUTE_get0_type(at, 0)) == NULL)
		return SCEP_E_MALFORMED;
	switch (ASN1_TYPE_get(t)) {
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_UTF8STRING:
	case V_ASN1_T61STRING:
	case V_ASN1_BMPSTRING:
	case V_ASN1_UNIVERSALSTRING:
	case V_ASN1_IA5STRING:
		break;
	default:
		return SCEP_E_MALFORMED;
	}
	if (t->value.asn1_string == NULL)
		return SCEP_E_MALFORMED;
	/* Cheap bound before converting: UTF-8 of a BMP or Universal
	 * string is at most 1.5x / 1x its size, T61 at most 2x. */
	if (ASN1_STRING_length(t->value.asn1_string) > 2 * SCEP_MAX_CHALLENGE)
		return SCEP_E_TOOBIG;
	if ((n = ASN1_STRING_to_UTF8(&u, t->value.asn1_string)) < 0)
		return SCEP_E_MALFORMED;	/* bad BMP/Universal string */
	if ((size_t)n > SCEP_MAX_CHALLENGE) {
		OPENSSL_clear_free(u, (size_t)n);
		return SCEP_E_TOOBIG;
	}
	if (memchr(u, '\0', (size_t)n) != NULL) {
		OPENSSL_clear_free(u, (size_t)n);
		return SCEP_E_MALFORMED;
	}
	/* ASN1_STRING_to_UTF8 NUL-terminates its n bytes. */
	c->challenge = (char *)u;
	c->challenge_len = (size_t)n;
	return SCEP_OK;
}

/* subjectAltName from the extensionRequest (spec 12.1), at most
 * SCEP_MAX_SANS names. */
static int
read_sans(struct scep_csr *c)
{
	STACK_OF(X509_EXTENSION)	*exts = NULL;	/* get1 */
	int				 i, crit = -1, r = SCEP_OK;

	/* The attribute at most once (X509_REQ_get_extensions takes the
	 * first and ignores the rest). */
	if ((i = X509_REQ_get_attr_by_NID(c->req, NID_ext_req, -1)) >= 0 &&
	    X509_REQ_get_attr_by_NID(c->req, NID_ext_req, i) >= 0)
		return SCEP_E_MALFORMED;
	/* An empty stack when absent; NULL when it does not decode. */
	if ((exts = X509_REQ_get_extensions(c->req)) == NULL)
		return SCEP_E_MALFORMED;
	c->sans = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
	if (c->sans == NULL) {
		/* -1: absent; -2: more than one; >= 0: would not decode. */
		if (crit != -1)
			r = SCEP_E_MALFORMED;
		goto out;
	}
	if (sk_GENERAL_NAME_num(c->sans) <= 0)
		r = SCEP_E_MALFORMED;
	else if (sk_GENERAL_NAME_num(c->sans) > SCEP_MAX_SANS)
		r = SCEP_E_TOOBIG;
 out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return r;
}

static int
csr_decode(const uint8_t *der, size_t len, int pop, struct scep_csr **out)
{
	struct scep_csr		*c = NULL;
	const unsigned char	*p = der;
	int			 r;

	*out = NULL;
	if ((r = scep_der_precheck(der, len, SCEP_MAX_INNER_DER)) != SCEP_OK)
		return r;
	if ((c = OPENSSL_zalloc(sizeof(*c))) == NULL)
		return SCEP_E_NOMEM;
	c->key_type = EVP_PKEY_NONE;
	c->ec_nid = NID_undef;

	r = SCEP_E_MALFORMED;
	if ((c->req = d2i_X509_REQ(NULL, &p, (long)len)) == NULL)
		goto out;
	if (p != der + len) {
		r = SCEP_E_TRAILING;
		goto out;
	}
	if (X509_NAME_entry_count(X509_REQ_get_subject_name(c->req)) >
	    SCEP_MAX_RDNS) {
		r = SCEP_E_TOOBIG;
		goto out;
	}
	/* get0: the key belongs to req (X509_REQ_get0_pubkey). */
	if ((c->pubkey = X509_REQ_get0_pubkey(c->req)) == NULL) {
		r = SCEP_E_BADKEY;
		goto out;
	}
	if ((r = check_key(c)) != SCEP_OK)
		goto out;
	/* Proof of possession (spec 12.1): failure is badMessageCheck. */
	if (pop && X509_REQ_verify(c->req, c->pubkey) != 1) {
		r = SCEP_E_BADSIG;
		goto out;
	}
	if ((r = read_challenge(c)) != SCEP_OK)
		goto out;
	if ((r = read_sans(c)) != SCEP_OK)
		goto out;
	*out = c;
	c = NULL;
	r = SCEP_OK;
 out:
	scep_csr_free(c);
	return r;
}

int
scep_csr_decode(const uint8_t *der, size_t len, struct scep_csr **out)
{
	return csr_decode(der, len, 1, out);
}

int
scep_csr_decode_stored(const uint8_t *der, size_t len, struct scep_csr **out)
{
	return csr_decode(der, len, 0, out);
}

int
scep_csr_redact(const uint8_t *der, size_t len, uint8_t **out,
    size_t *outlen)
{
	const unsigned char	*p = der;
	unsigned char		*buf = NULL, *q;
	X509_REQ		*req = NULL;
	X509_ATTRIBUTE		*at;
	int			 i, n, r;

	*out = NULL;
	*outlen = 0;
	if ((r = scep_der_precheck(der, len, SCEP_MAX_INNER_DER)) != SCEP_OK)
		return r;
	if ((req = d2i_X509_REQ(NULL, &p, (long)len)) == NULL)
		return SCEP_E_MALFORMED;
	r = SCEP_E_TRAILING;
	if (p != der + len)
		goto out;
	r = SCEP_E_NOMEM;
	/* Every copy of the attribute goes, however many there are. */
	while ((i = X509_REQ_get_attr_by_NID(req, NID_pkcs9_challengePassword,
	    -1)) >= 0) {
		if ((at = X509_REQ_delete_attr(req, i)) == NULL)
			goto out;
		X509_ATTRIBUTE_free(at);
	}
	/* X509_REQ_delete_attr marks the signed part modified, so i2d
	 * encodes it anew (without the attribute) instead of the bytes the
	 * client sent. */
	if ((n = i2d_X509_REQ(req, NULL)) <= 0) {
		r = SCEP_E_MALFORMED;
		goto out;
	}
	if ((buf = OPENSSL_malloc((size_t)n)) == NULL)
		goto out;
	q = buf;
	if (i2d_X509_REQ(req, &q) != n) {
		r = SCEP_E_MALFORMED;
		goto out;
	}
	*out = buf;
	*outlen = (size_t)n;
	buf = NULL;
	r = SCEP_OK;
 out:
	OPENSSL_free(buf);
	X509_REQ_free(req);
	return r;
}
