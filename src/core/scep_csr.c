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
#include <openssl/asn1t.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "scep.h"
#include "scep_int.h"

/*
 * CertificationRequest (RFC 2986 4) as ASN1 templates shaped like
 * OpenSSL's X509_REQ, except that the SubjectPublicKeyInfo is
 * struct scep_spki: no X509_PUBKEY callback, so d2i runs no key decoder
 * (OpenSSL 3.0 builds a decoder chain per X509_REQ, ~0.1 ms).  The
 * CertificationRequestInfo keeps its received encoding (as X509_REQ_INFO
 * does), which is what the signature covers.
 */
typedef struct p10_info {
	ASN1_ENCODING			 enc;
	ASN1_INTEGER			*version;
	X509_NAME			*subject;
	struct scep_spki		*spki;
	STACK_OF(X509_ATTRIBUTE)	*attrs;
} P10_INFO;

struct scep_p10 {
	P10_INFO			*info;
	X509_ALGOR			*sigalg;
	ASN1_BIT_STRING			*sig;
};

ASN1_SEQUENCE_enc(P10_INFO, enc, 0) = {
	ASN1_SIMPLE(P10_INFO, version, ASN1_INTEGER),
	ASN1_SIMPLE(P10_INFO, subject, X509_NAME),
	ASN1_SIMPLE(P10_INFO, spki, SCEP_SPKI),
	/* Not OPTIONAL in RFC 2986; OpenSSL accepts it absent too. */
	ASN1_IMP_SET_OF_OPT(P10_INFO, attrs, X509_ATTRIBUTE, 0),
} static_ASN1_SEQUENCE_END_ref(P10_INFO, P10_INFO)

ASN1_SEQUENCE(SCEP_P10) = {
	ASN1_SIMPLE(struct scep_p10, info, P10_INFO),
	ASN1_SIMPLE(struct scep_p10, sigalg, X509_ALGOR),
	ASN1_SIMPLE(struct scep_p10, sig, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END_name(struct scep_p10, SCEP_P10)

static void
p10_free(struct scep_p10 *p)
{
	ASN1_item_free((ASN1_VALUE *)p, ASN1_ITEM_rptr(SCEP_P10));
}

/* The request, all of der and nothing else; SCEP_OK or an error. */
static int
p10_parse(const uint8_t *der, size_t len, struct scep_p10 **out)
{
	const unsigned char	*p = der;
	struct scep_p10		*r;
	int			 e;

	*out = NULL;
	if ((e = scep_der_precheck(der, len, SCEP_MAX_INNER_DER)) != SCEP_OK)
		return e;
	r = (struct scep_p10 *)ASN1_item_d2i(NULL, &p, (long)len,
	    ASN1_ITEM_rptr(SCEP_P10));
	if (r == NULL)
		return SCEP_E_MALFORMED;
	if (p != der + len) {
		p10_free(r);
		return SCEP_E_TRAILING;
	}
	*out = r;
	return SCEP_OK;
}

void
scep_csr_free(struct scep_csr *c)
{
	if (c == NULL)
		return;
	p10_free(c->p10);
	X509_PUBKEY_free(c->spki);
	EVP_PKEY_free(c->pubkey);
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
	const STACK_OF(X509_ATTRIBUTE)	*attrs = c->p10->info->attrs;
	X509_ATTRIBUTE	*at;		/* get0: owned by p10 */
	ASN1_TYPE	*t;		/* get0 */
	unsigned char	*u = NULL;	/* OPENSSL_malloc'd by to_UTF8 */
	int		 i, n;

	if ((i = X509at_get_attr_by_NID(attrs, NID_pkcs9_challengePassword,
	    -1)) < 0)
		return SCEP_OK;			/* absent: policy decides */
	if (X509at_get_attr_by_NID(attrs, NID_pkcs9_challengePassword, i) >= 0)
		return SCEP_E_MALFORMED;	/* twice */
	if ((at = X509at_get_attr(attrs, i)) == NULL ||
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

/*
 * The requested extensions, as X509_REQ_get_extensions() reads them: the
 * first extensionRequest (or Microsoft's older OID), an empty stack when
 * there is none, NULL when it does not decode.
 */
static STACK_OF(X509_EXTENSION) *
req_extensions(const STACK_OF(X509_ATTRIBUTE) *attrs)
{
	static const int	 nids[] = { NID_ext_req, NID_ms_ext_req };
	const unsigned char	*p;
	ASN1_TYPE		*ext = NULL;	/* get0 */
	size_t			 k;
	int			 i;

	for (k = 0; k < sizeof(nids) / sizeof(nids[0]) && ext == NULL; k++)
		if ((i = X509at_get_attr_by_NID(attrs, nids[k], -1)) >= 0)
			ext = X509_ATTRIBUTE_get0_type(
			    X509at_get_attr(attrs, i), 0);
	if (ext == NULL)
		return sk_X509_EXTENSION_new_null();
	if (ext->type != V_ASN1_SEQUENCE || ext->value.sequence == NULL)
		return NULL;
	p = ext->value.sequence->data;
	return (STACK_OF(X509_EXTENSION) *)ASN1_item_d2i(NULL, &p,
	    ext->value.sequence->length, ASN1_ITEM_rptr(X509_EXTENSIONS));
}

/* subjectAltName from the extensionRequest (spec 12.1), at most
 * SCEP_MAX_SANS names. */
static int
read_sans(struct scep_csr *c)
{
	const STACK_OF(X509_ATTRIBUTE)	*attrs = c->p10->info->attrs;
	STACK_OF(X509_EXTENSION)	*exts = NULL;	/* get1 */
	int				 i, crit = -1, r = SCEP_OK;

	/* The attribute at most once (req_extensions takes the first and
	 * ignores the rest). */
	if ((i = X509at_get_attr_by_NID(attrs, NID_ext_req, -1)) >= 0 &&
	    X509at_get_attr_by_NID(attrs, NID_ext_req, i) >= 0)
		return SCEP_E_MALFORMED;
	if ((exts = req_extensions(attrs)) == NULL)
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
	struct scep_p10		*p;		/* get0: c->p10 */
	int			 r;

	*out = NULL;
	if ((c = OPENSSL_zalloc(sizeof(*c))) == NULL)
		return SCEP_E_NOMEM;
	c->key_type = EVP_PKEY_NONE;
	c->ec_nid = NID_undef;

	if ((r = p10_parse(der, len, &c->p10)) != SCEP_OK)
		goto out;
	p = c->p10;
	c->subject = p->info->subject;
	if (X509_NAME_entry_count(c->subject) > SCEP_MAX_RDNS) {
		r = SCEP_E_TOOBIG;
		goto out;
	}
	/* The key, and the SPKI as sent for the certificate and the key
	 * fingerprint: neither runs OpenSSL's key decoder for RSA and EC
	 * P-256/P-384.  No key: BADKEY, as X509_REQ_get0_pubkey's NULL. */
	r = SCEP_E_BADKEY;
	if ((c->pubkey = scep_spki_pkey(p->info->spki)) == NULL ||
	    (c->spki = scep_spki_bits(p->info->spki)) == NULL)
		goto out;
	if ((r = check_key(c)) != SCEP_OK)
		goto out;
	/* Proof of possession (spec 12.1): failure is badMessageCheck.
	 * What X509_REQ_verify does: the signature over the received
	 * CertificationRequestInfo. */
	if (pop && ASN1_item_verify_ex(ASN1_ITEM_rptr(P10_INFO), p->sigalg,
	    p->sig, p->info, NULL, c->pubkey, NULL, NULL) != 1) {
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
	ERR_clear_error();
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

/*
 * The encoding of p without any challengePassword attribute.  Works on a
 * shallow copy (p stays as parsed); without a challenge the received
 * CertificationRequestInfo is kept byte for byte, as i2d_X509_REQ did.
 */
static int
p10_stored(const struct scep_p10 *p, uint8_t **out, size_t *outlen)
{
	STACK_OF(X509_ATTRIBUTE)	*keep = NULL;	/* borrows */
	X509_ATTRIBUTE			*at;		/* get0: p */
	struct scep_p10			 cp = *p;
	P10_INFO			 info = *p->info;
	unsigned char			*buf = NULL;
	int				 i, n, r = SCEP_E_NOMEM;

	*out = NULL;
	*outlen = 0;
	cp.info = &info;
	if (X509at_get_attr_by_NID(info.attrs, NID_pkcs9_challengePassword,
	    -1) >= 0) {
		/* Every copy of the attribute goes, however many. */
		if ((keep = sk_X509_ATTRIBUTE_new_null()) == NULL)
			goto out;
		for (i = 0; i < sk_X509_ATTRIBUTE_num(info.attrs); i++) {
			at = sk_X509_ATTRIBUTE_value(info.attrs, i);
			if (OBJ_obj2nid(X509_ATTRIBUTE_get0_object(at)) !=
			    NID_pkcs9_challengePassword &&
			    !sk_X509_ATTRIBUTE_push(keep, at))
				goto out;
		}
		info.attrs = keep;
		/* Encode the info anew instead of the received bytes. */
		info.enc.modified = 1;
	}
	if ((n = ASN1_item_i2d((const ASN1_VALUE *)&cp, &buf,
	    ASN1_ITEM_rptr(SCEP_P10))) <= 0) {
		r = SCEP_E_MALFORMED;
		goto out;
	}
	*out = buf;
	*outlen = (size_t)n;
	r = SCEP_OK;
 out:
	sk_X509_ATTRIBUTE_free(keep);
	return r;
}

int
scep_csr_stored(const struct scep_csr *c, uint8_t **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (c == NULL || c->p10 == NULL)
		return SCEP_E_INTERNAL;
	return p10_stored(c->p10, out, outlen);
}

int
scep_csr_redact(const uint8_t *der, size_t len, uint8_t **out,
    size_t *outlen)
{
	struct scep_p10	*p = NULL;
	int		 r;

	*out = NULL;
	*outlen = 0;
	if ((r = p10_parse(der, len, &p)) == SCEP_OK)
		r = p10_stored(p, out, outlen);
	ERR_clear_error();
	p10_free(p);
	return r;
}

int
scep_csr_has_challenge(const uint8_t *der, size_t len)
{
	const STACK_OF(X509_ATTRIBUTE)	*attrs;
	struct scep_p10			*p = NULL;
	X509_ATTRIBUTE			*at;	/* get0: p */
	ASN1_TYPE			*t;	/* get0 */
	int				 i, r = 0;

	if (p10_parse(der, len, &p) != SCEP_OK) {
		ERR_clear_error();
		return -1;
	}
	attrs = p->info->attrs;
	if ((i = X509at_get_attr_by_NID(attrs, NID_pkcs9_challengePassword,
	    -1)) >= 0 && (at = X509at_get_attr(attrs, i)) != NULL &&
	    X509_ATTRIBUTE_count(at) == 1 &&
	    (t = X509_ATTRIBUTE_get0_type(at, 0)) != NULL &&
	    t->type != V_ASN1_NULL && t->type != V_ASN1_OBJECT &&
	    t->type != V_ASN1_BOOLEAN && t->value.asn1_string != NULL &&
	    ASN1_STRING_length(t->value.asn1_string) > 0)
		r = 1;
	p10_free(p);
	return r;
}
