/*
 * svc_policy.c -- the profile's and the account's rules for a CSR, and
 * the issuance template (svc_policy.h).  Pure: fuzzed by
 * fuzz/fuzz_policy.c.
 */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509v3.h>

#include "scep.h"
#include "svc_policy.h"

const char *
svc_policy_key(const struct store_profile *p, const struct scep_csr *csr)
{
	int min = p->min_rsa_bits > 0 ? p->min_rsa_bits : SVC_POLICY_MIN_RSA;

	if (csr->key_type == EVP_PKEY_RSA) {
		if (csr->key_bits < min)
			return "RSA key too small for this endpoint";
		return NULL;
	}
	if (csr->key_type == EVP_PKEY_EC && p->allow_ec &&
	    (csr->ec_nid == NID_X9_62_prime256v1 ||
	    csr->ec_nid == NID_secp384r1))
		return NULL;
	return "key type not allowed for this endpoint";
}

const char *
svc_policy_names(const struct store_account_rules *rules,
    const struct scep_csr *csr)
{
	const GENERAL_NAME *gn;
	char cn[256], ip[64];
	const char *v;
	int i, n, vl;

	if (rules->cn_pattern[0] != '\0') {
		n = X509_NAME_get_text_by_NID(csr->subject, NID_commonName,
		    cn, sizeof(cn));
		if (n <= 0 || fnmatch(rules->cn_pattern, cn, 0) != 0)
			return "subject CN does not match the account's pattern";
	}
	if (rules->san_pattern[0] == '\0' || csr->sans == NULL)
		return NULL;
	for (i = 0; i < sk_GENERAL_NAME_num(csr->sans); i++) {
		gn = sk_GENERAL_NAME_value(csr->sans, i);
		v = NULL;
		vl = 0;
		switch (gn->type) {
		case GEN_DNS:
		case GEN_EMAIL:
		case GEN_URI:
			v = (const char *)ASN1_STRING_get0_data(gn->d.ia5);
			vl = ASN1_STRING_length(gn->d.ia5);
			break;
		case GEN_IPADD:
			if (gn->d.ip->length == 4 || gn->d.ip->length == 16) {
				inet_ntop(gn->d.ip->length == 4 ? AF_INET :
				    AF_INET6, gn->d.ip->data, ip, sizeof(ip));
				v = ip;
				vl = (int)strlen(ip);
			}
			break;
		default:
			break;
		}
		if (v == NULL || vl <= 0 || memchr(v, '\0', (size_t)vl) != NULL ||
		    (size_t)vl >= sizeof(cn))
			return "a subjectAltName does not match the account's "
			    "pattern";
		memcpy(cn, v, (size_t)vl);
		cn[vl] = '\0';
		if (fnmatch(rules->san_pattern, cn, 0) != 0)
			return "a subjectAltName does not match the account's "
			    "pattern";
	}
	return NULL;
}

void
svc_policy_tmpl(const struct store_endpoint *ep, const struct scep_csr *csr,
    time_t now, const char *crl_url, struct issue_tmpl *t)
{
	memset(t, 0, sizeof(*t));
	t->kind = ep->type == EP_CLIENT_SCEP || ep->type == EP_CLIENT_INTUNE ?
	    ISSUE_CLIENT : ISSUE_DEVICE;
	t->server_auth = ep->profile.server_auth;
	t->subject = csr->subject;				/* borrowed */
	t->sans = ep->profile.copy_sans ? csr->sans : NULL;
	t->pubkey = csr->pubkey;
	t->spki = csr->spki;					/* borrowed */
	t->legacy = ep->legacy;
	t->not_before = now - SVC_POLICY_BACKDATE;
	t->not_after = now + (time_t)(ep->profile.term_days > 0 ?
	    ep->profile.term_days : SVC_POLICY_TERM_DAYS) * 86400;
	/* keyops refuses more than ISSUE_MAX_DAYS in all, and the longest
	 * term an administrator may set is exactly that (ADMIN_TERM_MAX):
	 * the backdate then shrinks rather than fail every enrollment.
	 * Never into the future: a longer term stays refused. */
	if (t->not_after - t->not_before > (time_t)ISSUE_MAX_DAYS * 86400 &&
	    t->not_after - (time_t)ISSUE_MAX_DAYS * 86400 <= now)
		t->not_before = t->not_after - (time_t)ISSUE_MAX_DAYS * 86400;
	t->crl_url = crl_url;
}
