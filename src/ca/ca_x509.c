/*
 * ca_x509.c -- small X.509 building blocks shared by root, RA and
 * end-entity issuance: key checks, validity, serial and the extensions we
 * write ourselves.
 *
 * Every extension is built as its typed OpenSSL structure and encoded with
 * X509_add1_ext_i2d(): no configuration-string parsing (X509V3_EXT_conf),
 * so no value that came from a request can inject extension syntax.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_gen.h"
#include "ca_int.h"
#include "scep_err.h"
#include "scep_limits.h"

/* The curve of an EC key as a NID, or NID_undef. */
static int
ec_curve_nid(EVP_PKEY *key)
{
	char	 name[64];
	size_t	 len = 0;

	if (EVP_PKEY_get_group_name(key, name, sizeof(name), &len) != 1)
		return NID_undef;
	return OBJ_txt2nid(name);	/* "prime256v1"/"P-256" both map */
}

const EVP_MD *
ca_sign_md(EVP_PKEY *key)
{
	int	 bits;

	if (key == NULL)
		return NULL;
	/* EVP_PKEY_is_a("RSA") is false for RSA-PSS keys: a PSS-only CA
	 * would sign with PSS, which iOS cannot verify (spec 9.1). */
	if (EVP_PKEY_is_a(key, "RSA")) {
		bits = EVP_PKEY_get_bits(key);
		if (bits < 2048 || bits > SCEP_MAX_RSA_BITS)
			return NULL;
		return EVP_sha256();
	}
	if (EVP_PKEY_is_a(key, "EC")) {
		switch (ec_curve_nid(key)) {
		case NID_X9_62_prime256v1:
			return EVP_sha256();
		case NID_secp384r1:
			return EVP_sha384();
		default:
			return NULL;
		}
	}
	return NULL;
}

int
ca_subject_key_check(EVP_PKEY *key, int legacy, int *is_rsa)
{
	int	 bits, min;

	if (key == NULL)
		return SCEP_E_BADKEY;
	if (EVP_PKEY_is_a(key, "RSA")) {
		bits = EVP_PKEY_get_bits(key);
		/* spec 12.1: RSA >= 2048, down to 1024 on legacy endpoints. */
		min = legacy ? SCEP_MIN_RSA_BITS : 2048;
		if (bits < min || bits > SCEP_MAX_RSA_BITS)
			return SCEP_E_BADKEY;
		if (is_rsa != NULL)
			*is_rsa = 1;
		return SCEP_OK;
	}
	if (EVP_PKEY_is_a(key, "EC")) {
		switch (ec_curve_nid(key)) {
		case NID_X9_62_prime256v1:
		case NID_secp384r1:
			if (is_rsa != NULL)
				*is_rsa = 0;
			return SCEP_OK;
		default:
			return SCEP_E_BADKEY;
		}
	}
	return SCEP_E_BADKEY;		/* DSA, RSA-PSS, Ed25519, X25519 ... */
}

int
ca_set_validity(X509 *x, time_t not_before, time_t not_after)
{
	/* getm: the ASN1_TIMEs belong to x and are updated in place. */
	if (ASN1_TIME_set(X509_getm_notBefore(x), not_before) == NULL)
		return SCEP_E_INTERNAL;
	if (ASN1_TIME_set(X509_getm_notAfter(x), not_after) == NULL)
		return SCEP_E_INTERNAL;
	return SCEP_OK;
}

int
ca_set_serial(X509 *x, const uint8_t *serial, size_t len)
{
	BIGNUM		*bn = NULL;
	ASN1_INTEGER	*ai = NULL;
	int		 r = SCEP_E_NOMEM;

	/* RFC 5280 4.1.2.2: positive, at most 20 octets. */
	if (serial == NULL || len == 0 || len > 20 || (serial[0] & 0x80) != 0)
		return SCEP_E_INTERNAL;
	if ((bn = BN_bin2bn(serial, (int)len, NULL)) == NULL)
		goto out;
	if (BN_is_zero(bn)) {
		r = SCEP_E_INTERNAL;
		goto out;
	}
	if ((ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		goto out;
	if (X509_set_serialNumber(x, ai) != 1)	/* copies */
		goto out;
	r = SCEP_OK;
 out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return r;
}

/* Add one encoded extension; X509V3_ADD_APPEND would allow a duplicate,
 * X509V3_ADD_DEFAULT refuses one (RFC 5280 4.2). */
static int
add_ext(X509 *x, int nid, void *value, int crit)
{
	if (X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_DEFAULT) != 1)
		return SCEP_E_INTERNAL;
	return SCEP_OK;
}

int
ca_ext_basic_constraints(X509 *x, int ca)
{
	BASIC_CONSTRAINTS	*bc = NULL;
	int			 r = SCEP_E_NOMEM;

	if ((bc = BASIC_CONSTRAINTS_new()) == NULL)
		goto out;
	/* DER: cA is DEFAULT FALSE, so FALSE is encoded as an empty
	 * SEQUENCE (X.690 11.5); OpenSSL does that when ca == 0. */
	bc->ca = ca ? 0xff : 0;
	r = add_ext(x, NID_basic_constraints, bc, 1);
 out:
	BASIC_CONSTRAINTS_free(bc);
	return r;
}

int
ca_ext_key_usage(X509 *x, unsigned int ku)
{
	ASN1_BIT_STRING	*bs = NULL;
	int		 bit, r = SCEP_E_NOMEM;

	if ((bs = ASN1_BIT_STRING_new()) == NULL)
		goto out;
	for (bit = 0; bit < 9; bit++) {
		if ((ku & (1u << bit)) == 0)
			continue;
		if (ASN1_BIT_STRING_set_bit(bs, bit, 1) != 1)
			goto out;
	}
	r = add_ext(x, NID_key_usage, bs, 1);
 out:
	ASN1_BIT_STRING_free(bs);
	return r;
}

int
ca_ext_eku(X509 *x, const int *nids, size_t n)
{
	EXTENDED_KEY_USAGE	*eku = NULL;
	ASN1_OBJECT		*obj = NULL;
	size_t			 i;
	int			 r = SCEP_E_NOMEM;

	if ((eku = sk_ASN1_OBJECT_new_null()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		/* OBJ_nid2obj gives a static object; ASN1_OBJECT_free of
		 * it (in EXTENDED_KEY_USAGE_free) is a no-op. */
		if ((obj = OBJ_nid2obj(nids[i])) == NULL) {
			r = SCEP_E_INTERNAL;
			goto out;
		}
		if (sk_ASN1_OBJECT_push(eku, obj) <= 0)
			goto out;
	}
	r = add_ext(x, NID_ext_key_usage, eku, 0);
 out:
	EXTENDED_KEY_USAGE_free(eku);
	return r;
}

int
ca_ext_ski(X509 *x)
{
	ASN1_OCTET_STRING	*os = NULL;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;
	int			 r = SCEP_E_NOMEM;

	/* RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT
	 * STRING value, which is what X509_pubkey_digest() hashes. */
	if (X509_pubkey_digest(x, EVP_sha1(), md, &mdlen) != 1) {
		r = SCEP_E_INTERNAL;
		goto out;
	}
	if ((os = ASN1_OCTET_STRING_new()) == NULL)
		goto out;
	if (ASN1_OCTET_STRING_set(os, md, (int)mdlen) != 1)
		goto out;
	r = add_ext(x, NID_subject_key_identifier, os, 0);
 out:
	ASN1_OCTET_STRING_free(os);
	return r;
}

static ASN1_OCTET_STRING *key_hash(X509 *);

ASN1_OCTET_STRING *
ca_key_id(X509 *cert)
{
	const ASN1_OCTET_STRING	*ski = NULL;

	/* get0: borrowed from cert's cached extension data. */
	if ((ski = X509_get0_subject_key_id(cert)) != NULL)
		return ASN1_OCTET_STRING_dup(ski);
	return key_hash(cert);
}

/* SHA-1 of the subject key of x, as a new octet string (take). */
static ASN1_OCTET_STRING *
key_hash(X509 *x)
{
	ASN1_OCTET_STRING	*os = NULL;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;

	if (X509_pubkey_digest(x, EVP_sha1(), md, &mdlen) != 1)
		return NULL;
	if ((os = ASN1_OCTET_STRING_new()) == NULL)
		return NULL;
	if (ASN1_OCTET_STRING_set(os, md, (int)mdlen) != 1) {
		ASN1_OCTET_STRING_free(os);
		return NULL;
	}
	return os;
}

int
ca_ext_aki(X509 *x, X509 *issuer)
{
	AUTHORITY_KEYID	*aki = NULL;
	int		 r = SCEP_E_NOMEM;

	if ((aki = AUTHORITY_KEYID_new()) == NULL)
		goto out;
	/*
	 * RFC 5280 4.2.1.1: keyIdentifier only (the issuer+serial form
	 * would pin the CA certificate and break CA re-issuance).  For a
	 * self-signed root the key id is the hash of x's own key: never ask
	 * x for its SKI while it is being built, because that fills x's
	 * extension cache, which then goes stale as we add more.
	 */
	aki->keyid = issuer != NULL ? ca_key_id(issuer) : key_hash(x);
	if (aki->keyid == NULL)
		goto out;
	r = add_ext(x, NID_authority_key_identifier, aki, 0);
 out:
	AUTHORITY_KEYID_free(aki);
	return r;
}

int
ca_ext_crldp(X509 *x, const char *url)
{
	CRL_DIST_POINTS	*cdp = NULL;
	DIST_POINT	*dp = NULL;
	GENERAL_NAME	*gn = NULL;
	ASN1_IA5STRING	*ia5 = NULL;
	size_t		 len;
	int		 r = SCEP_E_NOMEM;

	len = strnlen(url, CA_MAX_URL_LEN + 1);
	if (len == 0 || len > CA_MAX_URL_LEN)
		return SCEP_E_DENIED;
	if ((ia5 = ASN1_IA5STRING_new()) == NULL)
		goto out;
	if (ASN1_STRING_set(ia5, url, (int)len) != 1)
		goto out;
	if ((gn = GENERAL_NAME_new()) == NULL)
		goto out;
	GENERAL_NAME_set0_value(gn, GEN_URI, ia5);
	ia5 = NULL;				/* now owned by gn */

	if ((dp = DIST_POINT_new()) == NULL)
		goto out;
	if ((dp->distpoint = DIST_POINT_NAME_new()) == NULL)
		goto out;
	dp->distpoint->type = 0;		/* fullName */
	if ((dp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL)
		goto out;
	if (sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gn) <= 0)
		goto out;
	gn = NULL;				/* now owned by dp */

	if ((cdp = CRL_DIST_POINTS_new()) == NULL)
		goto out;
	if (sk_DIST_POINT_push(cdp, dp) <= 0)
		goto out;
	dp = NULL;				/* now owned by cdp */
	r = add_ext(x, NID_crl_distribution_points, cdp, 0);
 out:
	CRL_DIST_POINTS_free(cdp);
	DIST_POINT_free(dp);
	GENERAL_NAME_free(gn);
	ASN1_IA5STRING_free(ia5);
	return r;
}

int
ca_x509_sign(X509 **xp, EVP_PKEY *key)
{
	const EVP_MD		*md = NULL;
	const unsigned char	*p = NULL;
	unsigned char		*der = NULL;
	X509			*y = NULL;
	int			 len;

	if ((md = ca_sign_md(key)) == NULL)
		return SCEP_E_BADKEY;
	/* RSA keys sign PKCS#1 v1.5 by default: no PSS (spec 9.1). */
	if (X509_sign(*xp, key, md) <= 0)
		return SCEP_E_INTERNAL;

	/*
	 * Hand back a certificate decoded from its own DER, not the object
	 * we built: X509_set_pubkey() keeps a reference to the EVP_PKEY it
	 * was given (for a root, the CA private key) and any cached
	 * extension data would predate the last extension.  The decoded
	 * copy is exactly what clients will see.
	 */
	if ((len = i2d_X509(*xp, &der)) <= 0)
		return SCEP_E_INTERNAL;
	p = der;
	y = d2i_X509(NULL, &p, len);
	OPENSSL_free(der);
	if (y == NULL)
		return SCEP_E_INTERNAL;
	X509_free(*xp);
	*xp = y;
	return SCEP_OK;
}

int
ca_x509_sign_der(X509 *x, EVP_PKEY *key, uint8_t **der, size_t *der_len)
{
	const EVP_MD	*md = NULL;
	unsigned char	*p = NULL;
	int		 len;

	*der = NULL;
	*der_len = 0;
	if ((md = ca_sign_md(key)) == NULL)
		return SCEP_E_BADKEY;
	if (X509_sign(x, key, md) <= 0)
		return SCEP_E_INTERNAL;
	if ((len = i2d_X509(x, &p)) <= 0)
		return SCEP_E_INTERNAL;
	*der = p;
	*der_len = (size_t)len;
	return SCEP_OK;
}

int
ca_asn1_time_get(const ASN1_TIME *t, time_t *out)
{
	struct tm	 tm;
	time_t		 v;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return SCEP_E_MALFORMED;
	if ((v = timegm(&tm)) == (time_t)-1)
		return SCEP_E_MALFORMED;
	*out = v;
	return SCEP_OK;
}
