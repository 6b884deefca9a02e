/*
 * ca_crl.c -- build and sign a CRL (RFC 5280 section 5) for one CA.
 */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_gen.h"
#include "ca_int.h"
#include "keyops.h"
#include "scep_err.h"

/*
 * RFC 5280 5.3.1 CRLReason values we write as a reasonCode extension.
 * 0 (unspecified) is written as no extension ("SHOULD be absent instead of
 * using the unspecified (0) reasonCode value"), 7 is not assigned and 8
 * (removeFromCRL) belongs in delta CRLs only.
 */
static int
reason_ok(int reason)
{
	return (reason >= 1 && reason <= 6) || reason == 9 || reason == 10;
}

/* "hex" (1..CA_MAX_SERIAL_HEX hex digits, non-zero) as an INTEGER. */
static ASN1_INTEGER *
serial_from_hex(const char *hex)
{
	BIGNUM		*bn = NULL;
	ASN1_INTEGER	*ai = NULL;
	size_t		 len, i;

	if (hex == NULL)
		return NULL;
	len = strnlen(hex, CA_MAX_SERIAL_HEX + 1);
	if (len == 0 || len > CA_MAX_SERIAL_HEX)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)hex[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F')))
			return NULL;
	}
	/* BN_hex2bn would accept a leading '-': excluded above. */
	if (BN_hex2bn(&bn, hex) != (int)len)
		goto out;
	if (BN_is_zero(bn))
		goto out;
	ai = BN_to_ASN1_INTEGER(bn, NULL);
 out:
	BN_free(bn);
	return ai;
}

/* Make one CRL entry; *out is take. */
static int
entry_build(const struct crl_entry *e, X509_REVOKED **out)
{
	X509_REVOKED	*rev = NULL;
	ASN1_INTEGER	*serial = NULL;
	ASN1_TIME	*tm = NULL;
	ASN1_ENUMERATED	*reason = NULL;
	int		 r = SCEP_E_MALFORMED;

	*out = NULL;
	if (e->revoked_at < 0)
		goto out;
	if (e->reason != -1 && e->reason != 0 && !reason_ok(e->reason))
		goto out;
	if ((serial = serial_from_hex(e->serial_hex)) == NULL)
		goto out;

	r = SCEP_E_NOMEM;
	if ((rev = X509_REVOKED_new()) == NULL)
		goto out;
	if ((tm = ASN1_TIME_set(NULL, e->revoked_at)) == NULL)
		goto out;
	/* Both setters copy. */
	if (X509_REVOKED_set_serialNumber(rev, serial) != 1 ||
	    X509_REVOKED_set_revocationDate(rev, tm) != 1)
		goto out;
	if (reason_ok(e->reason)) {
		if ((reason = ASN1_ENUMERATED_new()) == NULL)
			goto out;
		if (ASN1_ENUMERATED_set(reason, e->reason) != 1)
			goto out;
		r = SCEP_E_INTERNAL;
		if (X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0,
		    X509V3_ADD_DEFAULT) != 1)
			goto out;
	}
	*out = rev;
	rev = NULL;
	r = SCEP_OK;
 out:
	ASN1_ENUMERATED_free(reason);
	ASN1_TIME_free(tm);
	ASN1_INTEGER_free(serial);
	X509_REVOKED_free(rev);
	return r;
}

int
ca_crl_build(EVP_PKEY *ca_key, X509 *ca_cert,
    const struct crl_entry *entries, size_t n, int64_t crl_number,
    time_t this_update, time_t next_update, X509_CRL **out)
{
	X509_CRL		*crl = NULL;
	X509_REVOKED		*rev = NULL;
	ASN1_TIME		*tm = NULL;
	ASN1_INTEGER		*num = NULL;
	AUTHORITY_KEYID		*aki = NULL;
	STACK_OF(X509_REVOKED)	*revs = NULL;
	const EVP_MD		*md = NULL;
	size_t			 i;
	int			 k, r;

	*out = NULL;
	if (ca_key == NULL || ca_cert == NULL || (entries == NULL && n > 0))
		return SCEP_E_INTERNAL;
	if (n > CA_MAX_CRL_ENTRIES)
		return SCEP_E_TOOBIG;
	/* RFC 5280 5.2.3: crlNumber is a non-negative integer. */
	if (crl_number < 0 || this_update < 0 || next_update <= this_update)
		return SCEP_E_MALFORMED;
	if ((md = ca_sign_md(ca_key)) == NULL)
		return SCEP_E_BADKEY;

	r = SCEP_E_NOMEM;
	if ((crl = X509_CRL_new()) == NULL)
		goto out;
	r = SCEP_E_INTERNAL;
	/* RFC 5280 5.1.2.1: v2 because we have extensions. */
	if (X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1)
		goto out;
	if (X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca_cert)) != 1)
		goto out;
	if ((tm = ASN1_TIME_set(NULL, this_update)) == NULL ||
	    X509_CRL_set1_lastUpdate(crl, tm) != 1)
		goto out;
	if (ASN1_TIME_set(tm, next_update) == NULL ||
	    X509_CRL_set1_nextUpdate(crl, tm) != 1)
		goto out;

	for (i = 0; i < n; i++) {
		if ((r = entry_build(&entries[i], &rev)) != SCEP_OK)
			goto out;
		r = SCEP_E_NOMEM;
		if (X509_CRL_add0_revoked(crl, rev) != 1)
			goto out;
		rev = NULL;			/* owned by crl */
	}
	/* Sorted by serial; then a duplicate sits next to its twin. */
	r = SCEP_E_INTERNAL;
	if (X509_CRL_sort(crl) != 1)
		goto out;
	revs = X509_CRL_get_REVOKED(crl);	/* get0 */
	for (k = 1; k < sk_X509_REVOKED_num(revs); k++) {
		if (ASN1_INTEGER_cmp(
		    X509_REVOKED_get0_serialNumber(
		    sk_X509_REVOKED_value(revs, k - 1)),
		    X509_REVOKED_get0_serialNumber(
		    sk_X509_REVOKED_value(revs, k))) == 0) {
			r = SCEP_E_MALFORMED;
			goto out;
		}
	}

	r = SCEP_E_NOMEM;
	if ((num = ASN1_INTEGER_new()) == NULL)
		goto out;
	if (ASN1_INTEGER_set_int64(num, crl_number) != 1)
		goto out;
	r = SCEP_E_INTERNAL;
	if (X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	/* RFC 5280 5.2.1: AKI is mandatory in conforming CRLs. */
	r = SCEP_E_NOMEM;
	if ((aki = AUTHORITY_KEYID_new()) == NULL)
		goto out;
	if ((aki->keyid = ca_key_id(ca_cert)) == NULL)
		goto out;
	r = SCEP_E_INTERNAL;
	if (X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, aki, 0,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	if (X509_CRL_sign(crl, ca_key, md) <= 0)
		goto out;
	*out = crl;
	crl = NULL;
	r = SCEP_OK;
 out:
	AUTHORITY_KEYID_free(aki);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(tm);
	X509_REVOKED_free(rev);
	X509_CRL_free(crl);
	return r;
}
