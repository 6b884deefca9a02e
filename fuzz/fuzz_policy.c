/*
 * fuzz_policy.c -- libFuzzer target: the CSR policy of the enrollment
 * path (issue 8), the functions svc_scep.c enroll() and svc_issue.c
 * (svc_issue_build, svc_issue_reply) call, with the certificate issued
 * in this process as the key process would (keyops_issue; its hard
 * limits are the ones keyops_issue_reply applies too).
 *
 * Input: one selector byte, then the PKCS#10 DER.
 *	bits 0-2  one of eight endpoint profiles (key floor, EC, SAN copy,
 *		  client/device, serverAuth, legacy, term -- some of them
 *		  past what keyops allows, which must then refuse);
 *	bits 3-5  one of eight account rule sets (fnmatch patterns, some
 *		  malformed);
 *	bit 6	  the approval path: the CSR goes through its storage form
 *		  (scep_csr_redact, scep_csr_decode_stored) first;
 *	bit 7	  a CRL distribution point URL in the template.
 * Whatever the input, an issued certificate must carry the CSR's key and
 * subject, never be a CA, keep the profile's key floor, EKUs and SAN
 * switch, and stay within ISSUE_MAX_DAYS; a breach is __builtin_trap().
 * Seeds (fuzz/corpus/policy/) come from fuzz/gen-policy-corpus.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "keyops.h"
#include "keyops_impl.h"
#include "scep.h"
#include "store.h"
#include "svc_policy.h"
#include "fuzz_ca.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CA_ID	1
#define FUZZ_NOW	((time_t)1798761600)	/* 2027-01-01, fixed */

static const struct {
	int			type;
	int			legacy;
	struct store_profile	p;
} profiles[8] = {
	/* min_rsa_bits, allow_ec, term_days, server_auth, renewal,
	 * renewal_window_days, copy_sans */
	{ EP_DEVICE_SCEP, 0, { 2048, 1, 365, 1, 1, 0, 1 } },
	{ EP_CLIENT_SCEP, 0, { 0, 0, 0, 0, 0, 0, 0 } },
	{ EP_DEVICE_SCEP, 0, { 4096, 1, ISSUE_MAX_DAYS, 0, 0, 0, 1 } },
	{ EP_CLIENT_SCEP, 1, { 1024, 1, 1, 0, 1, 30, 1 } },
	{ EP_DEVICE_SCEP, 0, { 3072, 0, ISSUE_MAX_DAYS + 1, 1, 0, 0, 1 } },
	{ EP_CLIENT_INTUNE, 0, { 2048, 1, 30, 0, 0, 0, 1 } },
	{ EP_CLIENT_SCEP, 1, { 1024, 0, 365, 1, 0, 0, 0 } },
	{ EP_DEVICE_SCEP, 0, { 8192, 1, 36500, 0, 0, 0, 1 } },
};

static const struct {
	const char	*cn;
	const char	*san;
} rules[8] = {
	{ "", "" },
	{ "dev*", "" },
	{ "", "*.example.com" },
	{ "*", "*" },
	{ "[", "[!a-z]*" },
	{ "dev[0-9][0-9]", "*" },
	{ "", "10.*" },
	{ "*\\*", "*@example.com" },
};

static struct keyops *ko;

static struct keyops *
fuzz_keyops(void)
{
	BIO *b = NULL;
	EVP_PKEY *key = NULL;
	X509 *ca = NULL;
	unsigned char *der = NULL;
	int len;

	if (ko != NULL)
		return ko;
	if (keyops_new(&ko) != SCEP_OK)
		__builtin_trap();
	if ((b = BIO_new_mem_buf(fuzz_ca_key_pem, -1)) == NULL ||
	    (key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL)
		__builtin_trap();
	BIO_free(b);
	if ((b = BIO_new_mem_buf(fuzz_ca_cert_pem, -1)) == NULL ||
	    (ca = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL ||
	    (len = i2d_X509(ca, &der)) <= 0)
		__builtin_trap();
	BIO_free(b);
	if (keyops_load_ca_key(ko, FUZZ_CA_ID, key, der, (size_t)len) !=
	    SCEP_OK)				/* key: taken */
		__builtin_trap();
	OPENSSL_free(der);
	X509_free(ca);
	return ko;
}

/* What must hold of any certificate the policy let through. */
static void
check_cert(X509 *cert, const struct scep_csr *csr,
    const struct store_endpoint *ep)
{
	const ASN1_TIME *nb = X509_get0_notBefore(cert);
	const ASN1_TIME *na = X509_get0_notAfter(cert);
	int days = 0, secs = 0;
	uint32_t xku;

	if (EVP_PKEY_eq(X509_get0_pubkey(cert), csr->pubkey) != 1)
		__builtin_trap();
	if (X509_NAME_cmp(X509_get_subject_name(cert), csr->subject) != 0)
		__builtin_trap();
	if (X509_check_ca(cert) != 0)
		__builtin_trap();
	if (csr->key_type == EVP_PKEY_RSA && csr->key_bits <
	    (ep->profile.min_rsa_bits > 0 ? ep->profile.min_rsa_bits :
	    SVC_POLICY_MIN_RSA))
		__builtin_trap();
	if (csr->key_type == EVP_PKEY_EC && !ep->profile.allow_ec)
		__builtin_trap();
	if (!ep->profile.copy_sans &&
	    X509_get_ext_by_NID(cert, NID_subject_alt_name, -1) >= 0)
		__builtin_trap();
	xku = X509_get_extended_key_usage(cert);
	if ((xku & XKU_SSL_CLIENT) == 0 || (xku & (XKU_CODE_SIGN |
	    XKU_OCSP_SIGN | XKU_TIMESTAMP)) != 0)
		__builtin_trap();
	if ((xku & XKU_SSL_SERVER) != 0 && (!ep->profile.server_auth ||
	    ep->type == EP_CLIENT_SCEP || ep->type == EP_CLIENT_INTUNE))
		__builtin_trap();
	if (ASN1_TIME_diff(&days, &secs, nb, na) != 1 || days < 0 ||
	    days > ISSUE_MAX_DAYS || (days == ISSUE_MAX_DAYS && secs > 0))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_endpoint ep;
	struct store_account_rules ar;
	struct issue_tmpl t;
	struct scep_csr *csr = NULL;
	uint8_t *red = NULL, serial[ISSUE_SERIAL_LEN];
	size_t rlen = 0;
	X509 *cert = NULL;
	unsigned int sel;
	int r;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;

	/* enroll(): decode, then the profile's key rules. */
	if (scep_csr_decode(data, size, &csr) != SCEP_OK)
		goto out;
	memset(&ep, 0, sizeof(ep));
	ep.id = 1;
	ep.ca_id = FUZZ_CA_ID;
	ep.type = profiles[sel & 7].type;
	ep.legacy = profiles[sel & 7].legacy;
	ep.profile = profiles[sel & 7].p;
	if (svc_policy_key(&ep.profile, csr) != NULL)
		goto out;
	/* The account's rules (name_rules). */
	memset(&ar, 0, sizeof(ar));
	ar.account_id = 1;
	snprintf(ar.cn_pattern, sizeof(ar.cn_pattern), "%s",
	    rules[(sel >> 3) & 7].cn);
	snprintf(ar.san_pattern, sizeof(ar.san_pattern), "%s",
	    rules[(sel >> 3) & 7].san);
	if (svc_policy_names(&ar, csr) != NULL)
		goto out;
	/* Manual approval: svc_request_approve() issues from the stored
	 * form. */
	if (sel & 0x40) {
		if (scep_csr_redact(data, size, &red, &rlen) != SCEP_OK)
			goto out;
		scep_csr_free(csr);
		csr = NULL;
		if (scep_csr_decode_stored(red, rlen, &csr) != SCEP_OK)
			__builtin_trap();	/* it decoded a moment ago */
	}
	/* svc_issue_build(): the template, and keyops' own checks. */
	svc_policy_tmpl(&ep, csr, FUZZ_NOW, (sel & 0x80) ?
	    "http://scep.example.com/crl/1.crl" : NULL, &t);
	/* A term an administrator may set (ADMIN_TERM_MAX = ISSUE_MAX_DAYS)
	 * must fit keyops' limit, backdate included. */
	if (ep.profile.term_days <= ISSUE_MAX_DAYS &&
	    (t.not_after - t.not_before > (time_t)ISSUE_MAX_DAYS * 86400 ||
	    t.not_before > FUZZ_NOW))
		__builtin_trap();
	r = keyops_issue(fuzz_keyops(), FUZZ_CA_ID, &t, &cert, serial);
	if (r == SCEP_OK)
		check_cert(cert, csr, &ep);
 out:
	X509_free(cert);
	scep_csr_free(csr);
	OPENSSL_free(red);
	ERR_clear_error();
	return 0;
}
