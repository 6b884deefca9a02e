/*
 * ca_issue.c -- build an end-entity certificate from a checked template
 * (keyops.h struct issue_tmpl).
 *
 * The template has already been through policy in src/service; this file
 * re-checks it against hard limits anyway, because it is the last code
 * before the CA key and must stay safe if a caller is wrong or
 * compromised (STYLE H8: "KP_ISSUE_CERT never signs bytes it was handed").
 * The certificate is built field by field; nothing is copied from a CSR
 * except the subject name, the subject key and the SAN values of the
 * accepted types.
 */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_gen.h"
#include "ca_int.h"
#include "keyops.h"
#include "scep_err.h"
#include "scep_limits.h"

/* An IA5String SAN value: 1..CA_MAX_SAN_LEN printable ASCII, no space
 * (RFC 5280 4.2.1.6: dNSName, rfc822Name and URI are IA5String).  "need"
 * (0 for none) must occur in it. */
static int
san_ascii_ok(const ASN1_STRING *s, int need)
{
	const unsigned char	*p = NULL;
	int			 i, len, found = need == 0;

	if (s == NULL || ASN1_STRING_type(s) != V_ASN1_IA5STRING)
		return 0;
	len = ASN1_STRING_length(s);
	if (len < 1 || len > CA_MAX_SAN_LEN)
		return 0;
	p = ASN1_STRING_get0_data(s);		/* get0 */
	for (i = 0; i < len; i++) {
		if (p[i] < 0x21 || p[i] > 0x7e)
			return 0;
		if (p[i] == need)
			found = 1;
	}
	return found;
}

/* A UPN: UTF8String, 1..CA_MAX_SAN_LEN bytes of valid UTF-8 with no
 * control characters. */
static int
san_upn_ok(const ASN1_TYPE *v)
{
	const unsigned char	*p = NULL;
	unsigned long		 cp;
	int			 len, n;

	if (v == NULL || v->type != V_ASN1_UTF8STRING)
		return 0;
	len = ASN1_STRING_length(v->value.utf8string);
	if (len < 1 || len > CA_MAX_SAN_LEN)
		return 0;
	p = ASN1_STRING_get0_data(v->value.utf8string);	/* get0 */
	while (len > 0) {
		/* UTF8_getc rejects overlong forms and surrogates. */
		if ((n = UTF8_getc(p, len, &cp)) <= 0)
			return 0;
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return 0;
		p += n;
		len -= n;
	}
	return 1;
}

/*
 * Decide about one requested SAN: 1 = copy it, 0 = drop it (a type we do
 * not issue), -1 = refuse the template (an accepted type with a bad value).
 */
static int
san_accept(const GENERAL_NAME *gn)
{
	int	 len;

	switch (gn->type) {
	case GEN_DNS:
		return san_ascii_ok(gn->d.dNSName, 0) ? 1 : -1;
	case GEN_EMAIL:
		return san_ascii_ok(gn->d.rfc822Name, '@') ? 1 : -1;
	case GEN_URI:
		return san_ascii_ok(gn->d.uniformResourceIdentifier, ':') ?
		    1 : -1;
	case GEN_IPADD:
		len = ASN1_STRING_length(gn->d.iPAddress);
		return len == 4 || len == 16 ? 1 : -1;	/* IPv4, IPv6 */
	case GEN_OTHERNAME:
		if (OBJ_obj2nid(gn->d.otherName->type_id) != NID_ms_upn)
			return 0;
		return san_upn_ok(gn->d.otherName->value) ? 1 : -1;
	default:
		return 0;	/* X.400, directoryName, EDI, RID: dropped */
	}
}

/*
 * Put the subject key into x as the SubjectPublicKeyInfo "spki" already
 * holds it: algorithm and key bits copied as they are.  X509_set_pubkey
 * would encode the EVP_PKEY again through OpenSSL 3's OSSL_ENCODER (7% of
 * the instructions of an in-process enrollment, issue 7).  The caller
 * guarantees spki carries the checked key (keyops.h).
 */
static int
set_pubkey_spki(X509 *x, const X509_PUBKEY *spki)
{
	const ASN1_OBJECT	*aobj = NULL;
	const unsigned char	*pk = NULL;
	const void		*pval = NULL;
	X509_ALGOR		*alg = NULL;
	ASN1_OBJECT		*obj = NULL;
	void			*pdup = NULL;
	unsigned char		*enc = NULL;
	int			 pklen = 0, ptype = V_ASN1_UNDEF;

	/* get0 throughout: borrowed from spki. */
	if (X509_PUBKEY_get0_param(NULL, &pk, &pklen, &alg, spki) != 1 ||
	    alg == NULL || pk == NULL || pklen <= 0)
		return SCEP_E_INTERNAL;
	X509_ALGOR_get0(&aobj, &ptype, &pval, alg);
	switch (ptype) {
	case V_ASN1_UNDEF:
	case V_ASN1_NULL:
		break;
	case V_ASN1_OBJECT:
		if ((pdup = OBJ_dup(pval)) == NULL)
			return SCEP_E_NOMEM;
		break;
	case V_ASN1_SEQUENCE:
		if ((pdup = ASN1_STRING_dup(pval)) == NULL)
			return SCEP_E_NOMEM;
		break;
	default:
		return SCEP_E_UNSUPPORTED;	/* caller falls back */
	}
	if ((obj = OBJ_dup(aobj)) == NULL ||
	    (enc = OPENSSL_memdup(pk, (size_t)pklen)) == NULL)
		goto fail;
	/* set0: on success x's SPKI owns obj, pdup and enc. */
	if (X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), obj, ptype, pdup,
	    enc, pklen) != 1)
		goto fail;
	return SCEP_OK;
 fail:
	OPENSSL_free(enc);
	ASN1_OBJECT_free(obj);
	if (ptype == V_ASN1_OBJECT)
		ASN1_OBJECT_free(pdup);
	else
		ASN1_STRING_free(pdup);
	return SCEP_E_NOMEM;
}

/* Filter t->sans into *out (take; NULL when nothing is left). */
static int
sans_filter(const GENERAL_NAMES *in, GENERAL_NAMES **out)
{
	GENERAL_NAMES		*gens = NULL;
	GENERAL_NAME		*gn = NULL;
	const GENERAL_NAME	*src = NULL;
	int			 i, n, a, r = SCEP_E_NOMEM;

	*out = NULL;
	if (in == NULL)
		return SCEP_OK;
	if ((n = sk_GENERAL_NAME_num(in)) > SCEP_MAX_SANS)
		return SCEP_E_DENIED;
	if ((gens = GENERAL_NAMES_new()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		/* get0: the template's names stay the caller's. */
		if ((src = sk_GENERAL_NAME_value(in, i)) == NULL) {
			r = SCEP_E_MALFORMED;
			goto out;
		}
		if ((a = san_accept(src)) < 0) {
			r = SCEP_E_MALFORMED;
			goto out;
		}
		if (a == 0)
			continue;
		if ((gn = GENERAL_NAME_dup(src)) == NULL)
			goto out;
		if (sk_GENERAL_NAME_push(gens, gn) <= 0)
			goto out;
		gn = NULL;			/* owned by gens */
	}
	if (sk_GENERAL_NAME_num(gens) > 0) {
		*out = gens;
		gens = NULL;
	}
	r = SCEP_OK;
 out:
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	return r;
}

/* A CRL distribution point we are willing to write. */
static int
crl_url_ok(const char *url)
{
	static const char *const schemes[] = { "http://", "https://",
	    "ldap://" };
	size_t	 len, i, plen;

	len = strnlen(url, CA_MAX_URL_LEN + 1);
	if (len > CA_MAX_URL_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)url[i] < 0x21 ||
		    (unsigned char)url[i] > 0x7e)
			return 0;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		plen = strlen(schemes[i]);
		if (len > plen && strncmp(url, schemes[i], plen) == 0)
			return 1;
	}
	return 0;
}

/*
 * ca_issue_build(), ca_issue_build_der() and ca_issue_build_signed() in
 * one: the certificate as a re-decoded object (*out) when "der" is NULL,
 * else its DER (*der, *der_len) and, when "out" is not NULL, the signed
 * object as built.
 */
static int
issue_build(EVP_PKEY *ca_key, X509 *ca_cert, const struct issue_tmpl *t,
    const uint8_t *serial, size_t serial_len, X509 **out, uint8_t **der,
    size_t *der_len)
{
	X509		*x = NULL;
	GENERAL_NAMES	*sans = NULL;
	int		 eku[3];
	size_t		 neku = 0;
	time_t		 not_after, ca_not_after;
	unsigned int	 ku;
	int		 is_rsa = 0, empty_subject, r, rk;

	if (out != NULL)
		*out = NULL;
	if (der != NULL) {
		*der = NULL;
		*der_len = 0;
	}
	if (ca_key == NULL || ca_cert == NULL || t == NULL ||
	    t->subject == NULL)
		return SCEP_E_INTERNAL;

	/* Kind and the EKUs that go with it: nothing else is possible. */
	switch (t->kind) {
	case ISSUE_CLIENT:
		if (t->server_auth)
			return SCEP_E_DENIED;
		eku[neku++] = NID_client_auth;
		eku[neku++] = NID_email_protect;
		break;
	case ISSUE_DEVICE:
		eku[neku++] = NID_client_auth;
		if (t->server_auth)
			eku[neku++] = NID_server_auth;
		break;
	default:
		return SCEP_E_DENIED;
	}

	/* Subject key: spec 12.1. */
	if ((r = ca_subject_key_check(t->pubkey, t->legacy, &is_rsa)) !=
	    SCEP_OK)
		return r;
	ku = CA_KU_DIGITAL_SIGNATURE |
	    (is_rsa ? CA_KU_KEY_ENCIPHERMENT : CA_KU_KEY_AGREEMENT);

	/* Validity: never longer than ISSUE_MAX_DAYS, never past the CA. */
	if (t->not_before < 0 || t->not_after <= t->not_before ||
	    t->not_after - t->not_before > (time_t)ISSUE_MAX_DAYS * 86400)
		return SCEP_E_DENIED;
	if ((r = ca_asn1_time_get(X509_get0_notAfter(ca_cert),
	    &ca_not_after)) != SCEP_OK)
		return r;
	not_after = t->not_after;
	if (not_after > ca_not_after)
		not_after = ca_not_after;
	if (not_after <= t->not_before)
		return SCEP_E_DENIED;

	/* Serial: RFC 5280 4.1.2.2, positive, <= 20 octets; >= 16 so it
	 * carries enough randomness; minimal so it keeps all of it. */
	if (serial == NULL || serial_len < 16 || serial_len > 20 ||
	    serial[0] == 0 || (serial[0] & 0x80) != 0)
		return SCEP_E_DENIED;

	if (X509_NAME_entry_count(t->subject) > SCEP_MAX_RDNS)
		return SCEP_E_DENIED;
	empty_subject = X509_NAME_entry_count(t->subject) == 0;
	if (t->crl_url != NULL && !crl_url_ok(t->crl_url))
		return SCEP_E_DENIED;
	if ((r = sans_filter(t->sans, &sans)) != SCEP_OK)
		return r;
	/* RFC 5280 4.1.2.6: an empty subject needs a (critical) SAN. */
	if (empty_subject && sans == NULL) {
		r = SCEP_E_DENIED;
		goto out;
	}

	r = SCEP_E_NOMEM;
	if ((x = X509_new()) == NULL)
		goto out;
	r = SCEP_E_INTERNAL;
	if (X509_set_version(x, X509_VERSION_3) != 1)
		goto out;
	if ((r = ca_set_serial(x, serial, serial_len)) != SCEP_OK)
		goto out;
	r = SCEP_E_INTERNAL;
	/* get_subject_name is get0; both setters copy. */
	if (X509_set_issuer_name(x, X509_get_subject_name(ca_cert)) != 1 ||
	    X509_set_subject_name(x, t->subject) != 1)
		goto out;
	if ((r = ca_set_validity(x, t->not_before, not_after)) != SCEP_OK)
		goto out;
	/* The SPKI as the CSR carried it, else encode the key. */
	rk = t->spki != NULL ? set_pubkey_spki(x, t->spki) :
	    SCEP_E_UNSUPPORTED;
	if ((r = rk) == SCEP_E_NOMEM)
		goto out;
	r = SCEP_E_INTERNAL;
	if (rk != SCEP_OK && X509_set_pubkey(x, t->pubkey) != 1)
		goto out;

	if ((r = ca_ext_basic_constraints(x, 0)) != SCEP_OK ||
	    (r = ca_ext_key_usage(x, ku)) != SCEP_OK ||
	    (r = ca_ext_eku(x, eku, neku)) != SCEP_OK ||
	    (r = ca_ext_ski(x)) != SCEP_OK ||
	    (r = ca_ext_aki(x, ca_cert)) != SCEP_OK)
		goto out;
	if (sans != NULL) {
		r = SCEP_E_INTERNAL;
		if (X509_add1_ext_i2d(x, NID_subject_alt_name, sans,
		    empty_subject, X509V3_ADD_DEFAULT) != 1)
			goto out;
	}
	if (t->crl_url != NULL &&
	    (r = ca_ext_crldp(x, t->crl_url)) != SCEP_OK)
		goto out;
	if (der != NULL) {
		if ((r = ca_x509_sign_der(x, ca_key, der, der_len)) ==
		    SCEP_OK && out != NULL) {
			*out = x;		/* as built, signed */
			x = NULL;
		}
		goto out;
	}
	if ((r = ca_x509_sign(&x, ca_key)) != SCEP_OK)
		goto out;
	*out = x;
	x = NULL;
	r = SCEP_OK;
 out:
	GENERAL_NAMES_free(sans);
	X509_free(x);
	return r;
}

int
ca_issue_build(EVP_PKEY *ca_key, X509 *ca_cert, const struct issue_tmpl *t,
    const uint8_t *serial, size_t serial_len, X509 **out)
{
	return issue_build(ca_key, ca_cert, t, serial, serial_len, out, NULL,
	    NULL);
}

int
ca_issue_build_der(EVP_PKEY *ca_key, X509 *ca_cert,
    const struct issue_tmpl *t, const uint8_t *serial, size_t serial_len,
    uint8_t **der, size_t *der_len)
{
	if (der == NULL || der_len == NULL)
		return SCEP_E_INTERNAL;
	return issue_build(ca_key, ca_cert, t, serial, serial_len, NULL, der,
	    der_len);
}

int
ca_issue_build_signed(EVP_PKEY *ca_key, X509 *ca_cert,
    const struct issue_tmpl *t, const uint8_t *serial, size_t serial_len,
    X509 **out, uint8_t **der, size_t *der_len)
{
	if (out == NULL || der == NULL || der_len == NULL)
		return SCEP_E_INTERNAL;
	return issue_build(ca_key, ca_cert, t, serial, serial_len, out, der,
	    der_len);
}
