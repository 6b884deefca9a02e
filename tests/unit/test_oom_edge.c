/*
 * test_oom_edge.c -- allocation-failure ("torture") runs of the network
 * decoders outside the core (issue 8; STYLE H14), the way test_oom.c
 * does the core: count the allocations of a clean call, fail each one in
 * turn, then the call must succeed again.  A failed call must return an
 * error, a successful one the whole result; every block allocated during
 * a call is freed by its end (counted here, and LSan checks under ASan).
 *
 *   - the admin API's request bodies: admin_json_body (jansson, hooked
 *     with json_set_alloc_funcs) and every admin_json_to_* decoder the
 *     REST API uses, on a realistic body for each;
 *   - the query string: http_query_get / http_query_raw (they allocate
 *     nothing: checked) and the GET PKIOperation message= value through
 *     scep_get_message_decode (OPENSSL_malloc, hooked with
 *     CRYPTO_set_mem_functions);
 *   - the CSR policy of the enrollment path (svc_policy.h) on a decoded
 *     CSR (scep_csr_decode is test_oom.c's): the profile's key rules,
 *     the account's name rules, the template, and keyops_issue in this
 *     process (an EC CA: see test_oom.c on RSA blinding).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "admin.h"
#include "http_query.h"
#include "keyops.h"
#include "keyops_impl.h"
#include "scep.h"
#include "scep_err.h"
#include "store.h"
#include "svc_policy.h"
#include "tap.h"
#include "testutil.h"

#define WRONG	1	/* "succeeded" with a wrong or partial result */

static long	n_alloc;	/* allocations seen while armed */
static long	fail_at = -1;	/* fail allocation number fail_at; -1: off */
static int	armed;
static long	live;		/* blocks allocated and not yet freed */

static void *
j_malloc(size_t n)
{
	void *p;

	if (armed && ++n_alloc == fail_at)
		return NULL;
	if ((p = malloc(n)) != NULL)
		live++;
	return p;
}

static void
j_free(void *p)
{
	if (p != NULL)
		live--;
	free(p);
}

static void *
o_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return j_malloc(n);
}

static void *
o_realloc(void *p, size_t n, const char *file, int line)
{
	void *q;

	(void)file;
	(void)line;
	if (p == NULL)
		return j_malloc(n);
	if (n == 0) {
		j_free(p);
		return NULL;
	}
	if (armed && ++n_alloc == fail_at)
		return NULL;
	q = realloc(p, n);
	return q;
}

static void
o_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	j_free(p);
}

/* ---- the cases: 0 (SCEP_OK), an error, or WRONG ---- */

static const char body_org[] = "{\"name\":\"Org A\"}";
static const char body_dept[] = "{\"name\":\"Sales\",\"org_id\":7}";
static const char body_admin[] = "{\"name\":\"rao-a\",\"role\":\"RAO\","
    "\"cert_types\":[\"client\",\"device\"],\"scopes\":[{\"org_id\":1},"
    "{\"org_id\":2,\"dept_id\":3}],\"password\":\"not logged\"}";
static const char body_ep[] = "{\"name\":\"dev\",\"uri_ext\":\"device\","
    "\"type\":\"device\",\"ca_id\":1,\"ra_id\":1,\"term_days\":365,"
    "\"min_rsa_bits\":2048,\"allow_ec\":true,\"renewal\":true,"
    "\"renewal_window_days\":30,\"getcacert_format\":\"chain\","
    "\"delegation\":\"customized\",\"targets\":[{\"org_id\":1},"
    "{\"org_id\":4,\"dept_id\":5}]}";
static const char body_acct[] = "{\"endpoint_id\":1,\"name\":\"acct\","
    "\"org_id\":1,\"enabled\":true,\"expires_at\":null,"
    "\"max_enrollments\":10,\"cn_pattern\":\"^dev[0-9]+$\","
    "\"san_pattern\":\".*\"}";

static int
body(const char *s, json_t **j)
{
	struct admin_err err;
	int r;

	memset(&err, 0, sizeof(err));
	r = admin_json_body((const uint8_t *)s, strlen(s), j, &err);
	if (r != SCEP_OK && (*j != NULL || err.msg[0] == '\0'))
		return WRONG;
	return r;
}

static int
c_org(void)
{
	struct store_org o;
	struct admin_err err;
	json_t *j = NULL;
	int r;

	memset(&o, 0, sizeof(o));
	if ((r = body(body_org, &j)) == SCEP_OK &&
	    (r = admin_json_to_org(j, &o, &err)) == SCEP_OK &&
	    strcmp(o.name, "Org A") != 0)
		r = WRONG;
	json_decref(j);
	return r;
}

static int
c_dept(void)
{
	struct store_dept d;
	struct admin_err err;
	json_t *j = NULL;
	int r;

	memset(&d, 0, sizeof(d));
	if ((r = body(body_dept, &j)) == SCEP_OK &&
	    (r = admin_json_to_dept(j, 1, &d, &err)) == SCEP_OK &&
	    (strcmp(d.name, "Sales") != 0 || d.org_id != 7))
		r = WRONG;
	json_decref(j);
	return r;
}

static int
c_admin(void)
{
	struct admin_info a;
	struct admin_err err;
	json_t *j = NULL;
	int r;

	memset(&a, 0, sizeof(a));
	if ((r = body(body_admin, &j)) == SCEP_OK &&
	    (r = admin_json_to_admin(j, 1, &a, &err)) == SCEP_OK &&
	    (a.nscopes != 2 || a.scopes[1].dept_id != 3 ||
	    a.a.cert_types != (STORE_CT_CLIENT | STORE_CT_DEVICE)))
		r = WRONG;
	json_decref(j);
	return r;
}

static int
c_endpoint(void)
{
	struct admin_endpoint e;
	struct admin_err err;
	json_t *j = NULL;
	int r;

	memset(&e, 0, sizeof(e));
	if ((r = body(body_ep, &j)) == SCEP_OK &&
	    (r = admin_json_to_endpoint(j, 1, &e, &err)) == SCEP_OK &&
	    (e.ntargets != 2 || e.targets[1].dept_id != 5 ||
	    strcmp(e.ep.uri_ext, "device") != 0 || e.ep.profile.term_days != 365))
		r = WRONG;
	json_decref(j);
	return r;
}

static int
c_account(void)
{
	struct admin_account x;
	struct admin_err err;
	json_t *j = NULL;
	int r;

	memset(&x, 0, sizeof(x));
	if ((r = body(body_acct, &j)) == SCEP_OK &&
	    (r = admin_json_to_account(j, 1, &x, &err)) == SCEP_OK &&
	    (x.acct.max_enrollments != 10 ||
	    strcmp(x.rules.cn_pattern, "^dev[0-9]+$") != 0))
		r = WRONG;
	json_decref(j);
	return r;
}

/* The SCEP binding's use of a GET PKIOperation query. */
static const char query[] = "operation=PKIOperation&message="
    "%2B%2B//PjAB/w%3D%3D%0A&x=1";

static int
c_query(void)
{
	const char *raw;
	uint8_t *der = NULL;
	size_t len = 0;
	char op[32];
	int n, r;

	if (http_query_get(query, "operation", op, sizeof(op)) != 12 ||
	    strcmp(op, "PKIOperation") != 0)
		return WRONG;
	if ((n = http_query_raw(query, "message", &raw)) <= 0)
		return WRONG;
	r = scep_get_message_decode(raw, (size_t)n, &der, &len);
	if (r == SCEP_OK && (len != 7 || der[0] != 0xfb))
		r = WRONG;
	OPENSSL_free(der);
	return r;
}

/* The CSR policy: made before anything is armed. */
static struct keyops	*pol_ko;
static struct scep_csr	*pol_csr;	/* its decoder: test_oom.c */

static int
pol_setup(void)
{
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca = NULL;
	uint8_t *csr = NULL;
	unsigned char *der = NULL;
	size_t csr_len = 0;
	int len, r = -1;

	if ((ca_key = tu_ec("P-256")) == NULL ||
	    (key = tu_ec("P-256")) == NULL ||
	    (ca = tu_cert(ca_key, "oom CA", 1, NULL, NULL, TU_CA)) == NULL ||
	    (len = i2d_X509(ca, &der)) <= 0 ||
	    (csr = tu_csr(key, "dev01", TU_CHAL_UTF8, "secret", 3,
	    &csr_len)) == NULL ||
	    scep_csr_decode(csr, csr_len, &pol_csr) != SCEP_OK ||
	    keyops_new(&pol_ko) != SCEP_OK)
		goto out;
	r = keyops_load_ca_key(pol_ko, 1, ca_key, der, (size_t)len);
	ca_key = NULL;				/* taken */
 out:
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	X509_free(ca);
	OPENSSL_free(der);
	OPENSSL_free(csr);
	return r;
}

static int
c_policy(void)
{
	struct store_endpoint ep;
	struct store_account_rules ar;
	struct issue_tmpl t;
	const struct scep_csr *csr = pol_csr;
	uint8_t serial[ISSUE_SERIAL_LEN];
	EVP_PKEY *pk;
	X509 *cert = NULL;
	int r;

	memset(&ep, 0, sizeof(ep));
	ep.type = EP_DEVICE_SCEP;
	ep.ca_id = 1;
	ep.profile.allow_ec = 1;
	ep.profile.copy_sans = 1;
	ep.profile.server_auth = 1;
	ep.profile.term_days = 30;
	memset(&ar, 0, sizeof(ar));
	snprintf(ar.cn_pattern, sizeof(ar.cn_pattern), "dev[0-9]*");
	snprintf(ar.san_pattern, sizeof(ar.san_pattern), "h*.example");
	/* A refusal is a safe answer to a failed allocation (the clean run
	 * must pass). */
	if (svc_policy_key(&ep.profile, csr) != NULL ||
	    svc_policy_names(&ar, csr) != NULL) {
		r = SCEP_E_DENIED;
		goto out;
	}
	svc_policy_tmpl(&ep, csr, TU_NOW, "http://ca.example/crl/1.crl", &t);
	r = keyops_issue(pol_ko, 1, &t, &cert, serial);
	/* X509_PUBKEY_set0_param (ca_issue.c) and d2i_X509 ignore a failed
	 * decode of the key: after a failed allocation the object may have
	 * no decoded key (its DER is whole).  Whoever uses the key then sees
	 * NULL, an error; a key other than the CSR's would be wrong. */
	if (r == SCEP_OK) {
		if ((pk = X509_get0_pubkey(cert)) == NULL)
			r = SCEP_E_NOMEM;
		else if (EVP_PKEY_eq(pk, csr->pubkey) != 1)
			/* The comparison itself may allocate (and only one
			 * allocation fails): ask again. */
			r = EVP_PKEY_eq(pk, csr->pubkey) == 1 ? SCEP_E_NOMEM :
			    WRONG;
		else if (X509_get_ext_by_NID(cert, NID_subject_alt_name,
		    -1) < 0)
			r = WRONG;
	}
 out:
	X509_free(cert);
	/* The thread's error state keeps the buffers of ERR_add_error_data
	 * for reuse (not leaks): drop the state so the count is exact. */
	ERR_clear_error();
	OPENSSL_thread_stop();
	return r;
}

static const struct {
	const char	*name;
	int		(*fn)(void);
} cases[] = {
	{ "admin body: organization", c_org },
	{ "admin body: department", c_dept },
	{ "admin body: administrator", c_admin },
	{ "admin body: endpoint", c_endpoint },
	{ "admin body: account", c_account },
	{ "query: operation and GET message", c_query },
	{ "CSR policy, template and issuance", c_policy },
};

int
main(void)
{
	size_t i;
	long total, k, fails, wrong, leaks;
	int r;

	/* First, before jansson or libcrypto allocates anything. */
	json_set_alloc_funcs(j_malloc, j_free);
	if (!CRYPTO_set_mem_functions(o_malloc, o_realloc, o_free)) {
		tap_ok(0, "CRYPTO_set_mem_functions");
		return tap_done();
	}
	tap_ok(pol_setup() == SCEP_OK, "CSR policy: CA and CSR made");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Warm up (lazy initialisation), then count. */
		r = cases[i].fn();
		tap_ok(r == SCEP_OK, "%s: clean run (%d)", cases[i].name, r);
		n_alloc = 0;
		fail_at = -1;
		armed = 1;
		live = 0;
		(void)cases[i].fn();
		armed = 0;
		total = n_alloc;
		tap_ok(live == 0, "%s: clean run frees all it allocates "
		    "(%ld left)", cases[i].name, live);
		fails = wrong = leaks = 0;
		for (k = 1; k <= total; k++) {
			n_alloc = 0;
			fail_at = k;
			live = 0;
			armed = 1;
			r = cases[i].fn();
			armed = 0;
			if (r != SCEP_OK)
				fails++;
			if (r == WRONG)
				wrong++;
			if (live != 0)
				leaks++;
		}
		fail_at = -1;
		tap_ok(cases[i].fn == c_query || total > 0,
		    "%s: %ld allocations to fail", cases[i].name, total);
		tap_ok(wrong == 0 && leaks == 0, "%s: each of %ld allocations "
		    "failed in turn: %ld errors, %ld wrong results, %ld leaks",
		    cases[i].name, total, fails, wrong, leaks);
		tap_ok(cases[i].fn() == SCEP_OK, "%s: succeeds again",
		    cases[i].name);
	}
	keyops_free(pol_ko);
	scep_csr_free(pol_csr);
	return tap_done();
}
