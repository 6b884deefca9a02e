/*
 * test_svc_intune.c -- the rules of spec intune-scep.md section 2 as
 * svc_intune.c applies them (check before issuing, notify before replying,
 * fail closed, failureNotification after a failed issuance, never a call
 * for other endpoints), its worker pool (no stalls), its audit details
 * and the Azure secret at rest; against the stand-in over TLS.
 *
 * Usage: test_svc_intune PYTHON3 STANDIN_PY
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "scep_err.h"
#include "standin_util.h"
#include "store.h"
#include "store_azure.h"
#include "keyops.h"
#include "svc.h"
#include "svc_intune.h"
#include "tap.h"

#define SECRET		"svc-standin-secret"
#define ACCOUNT		7
#define EP_ID		42

static struct svc_intune *si;

static int	contains(const uint8_t *, size_t, const char *);
static struct store *st;
static struct store_endpoint ep;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
account_cfg(struct intune_account_cfg *cfg, const char *secret)
{
	int i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->environment = INTUNE_ENV_GLOBAL;
	cfg->tenant_id = "contoso.onmicrosoft.com";
	cfg->client_id = "11111111-1111-1111-1111-111111111111";
	cfg->client_secret = secret;
	cfg->authority_url = su_base;
	cfg->graph_url = su_base;
	cfg->graph_scope = "https://graph.microsoft.com/.default";
	cfg->ca_bundle_path = su_ca;
	for (i = 0; i < INTUNE_OP__MAX; i++) {
		cfg->timeouts[i].connect_ms = 2000;
		cfg->timeouts[i].total_ms = 4000;
	}
}

static int
check(const char *challenge, const char *transid,
    struct svc_intune_outcome *o)
{
	uint8_t *der = NULL;
	size_t len = 0;
	int r;

	if (su_make_csr(challenge, &der, &len) != 0)
		return SCEP_E_INTERNAL;
	r = svc_intune_check(si, &ep, transid, der, len, o);
	OPENSSL_free(der);
	return r;
}

static void
test_check(void)
{
	struct store_endpoint plain;
	struct svc_intune_outcome o;
	struct svc_intune_ep set;
	json_t *all = NULL;
	int r;

	/* spec 10.2 case 8: a plain endpoint never calls Intune. */
	su_reset();
	plain = ep;
	plain.type = EP_CLIENT_SCEP;
	{
		uint8_t *der = NULL;
		size_t len = 0;

		su_make_csr("STANDIN-ERR-ChallengeExpired/p", &der, &len);
		r = svc_intune_check(si, &plain, "TXN-plain", der, len, &o);
		OPENSSL_free(der);
	}
	all = su_calls();
	tap_ok(r == SCEP_OK && o.issue == 1 && json_array_size(all) == 0 &&
	    o.validate.action == NULL,
	    "non-Intune endpoint: allowed, Intune never called");
	json_decref(all);

	/* Intune endpoint without settings: fail closed. */
	r = check("STANDIN-OK/a", "TXN-noset", &o);
	tap_ok(r == SCEP_E_DENIED && o.issue == 0 &&
	    strcmp(o.failtext, "Intune endpoint has no Azure account") == 0,
	    "endpoint without an Azure account: refused (%s)", o.failtext);

	memset(&set, 0, sizeof(set));
	set.endpoint_id = EP_ID;
	set.azure_account_id = 99;		/* not configured */
	set.wait_success = 1;
	svc_intune_endpoint_set(si, &set);
	r = check("STANDIN-OK/b", "TXN-noacct", &o);
	tap_ok(r == SCEP_E_DENIED && strstr(o.failtext, "not configured") !=
	    NULL, "unknown Azure account: refused (%s)", o.failtext);
	set.azure_account_id = ACCOUNT;
	snprintf(set.ca_configuration, sizeof(set.ca_configuration),
	    "issuing-ca-01");
	tap_ok(svc_intune_endpoint_set(si, &set) == SCEP_OK,
	    "endpoint settings");

	/* spec 2 step 2 / 10.2 case 7. */
	su_reset();
	r = check(NULL, "TXN-nochallenge", &o);
	all = su_calls();
	tap_ok(r == SCEP_E_DENIED && o.issue == 0 && o.failinfo ==
	    SCEP_FAIL_BADREQUEST && strcmp(o.failtext, "challenge missing")
	    == 0 && json_array_size(all) == 0 && o.refused == 1,
	    "no challenge: FAILURE badRequest \"challenge missing\", Intune "
	    "not called, counted as a refused challenge");
	json_decref(all);
	r = svc_intune_check(si, &ep, "TXN-junk", (const uint8_t *)"junk", 4,
	    &o);
	tap_ok(r == SCEP_E_DENIED && strcmp(o.failtext, "malformed PKCS#10")
	    == 0, "not a PKCS#10: refused");

	/* spec 10.2 case 1, first half. */
	su_reset();
	r = check("STANDIN-OK/c", "TXN-ok", &o);
	all = su_calls();
	tap_ok(r == SCEP_OK && o.issue == 1 && strcmp(o.validate.code,
	    "Success") == 0 && o.account_id == ACCOUNT &&
	    su_count_kind(all, "validateRequest") == 1 &&
	    su_count_kind(all, "successNotification") == 0 && o.refused == 0,
	    "STANDIN-OK: validated, may issue");
	json_decref(all);

	/* spec 10.2 case 2. */
	su_reset();
	r = check("STANDIN-ERR-ChallengeExpired/d", "TXN-expired", &o);
	all = su_calls();
	tap_ok(r == SCEP_E_DENIED && o.issue == 0 && o.failinfo ==
	    SCEP_FAIL_BADREQUEST && strcmp(o.failtext,
	    "Intune validation failed: ChallengeExpired") == 0 &&
	    su_count_kind(all, "successNotification") == 0 &&
	    su_count_kind(all, "failureNotification") == 0 && o.refused == 1,
	    "ChallengeExpired: FAILURE badRequest naming the code, no "
	    "notification, a refused challenge (%s)", o.failtext);
	json_decref(all);
	r = check("STANDIN-ERR-/e", "TXN-emptycode", &o);
	tap_ok(r == SCEP_E_DENIED && strcmp(o.failtext,
	    "Intune validation failed: (no code)") == 0 && o.refused == 0,
	    "empty code: not counted as a refused challenge");
	/* Issue 8: only a named refusal counts against the source. */
	r = check("STANDIN-ERR-Unknown/e2", "TXN-unknown", &o);
	tap_ok(r == SCEP_E_DENIED && o.refused == 0,
	    "code Unknown: refused, not counted against the source");
	r = check("STANDIN-LOWER/e3", "TXN-lower", &o);
	tap_ok(r == SCEP_E_DENIED && o.refused == 0,
	    "code \"success\": refused, not counted against the source");
	r = check("STANDIN-ERR-CsrValidationFailed/e4", "TXN-csrv", &o);
	tap_ok(r == SCEP_E_DENIED && o.refused == 1,
	    "CsrValidationFailed: counted against the source");

	/* spec 10.2 case 3. */
	r = check("STANDIN-HTTP-500/f", "TXN-500", &o);
	tap_ok(r == SCEP_E_DENIED && strcmp(o.failtext,
	    "Intune validation failed: HTTP 500") == 0 && o.refused == 0,
	    "HTTP 500: %s, not counted", o.failtext);
	r = check("STANDIN-SLOW-6000/g", "TXN-slow", &o);
	tap_ok(r == SCEP_E_DENIED && strcmp(o.failtext,
	    "Intune validation failed: timed out") == 0 && o.refused == 0,
	    "timeout: %s, not counted", o.failtext);
	r = check("STANDIN-DROP/h", "TXN-drop", &o);
	tap_ok(r == SCEP_E_DENIED && strcmp(o.failtext,
	    "Intune validation failed: no answer") == 0 && o.refused == 0,
	    "dropped: %s, not counted", o.failtext);
}

static void
test_after(void)
{
	struct svc_intune_outcome o;
	struct svc_intune_ep set;
	X509 *cert = su_make_cert();
	uint8_t *der = NULL;
	size_t len = 0;
	json_t *all = NULL, *n = NULL;
	int r, i;

	/* spec 2 step 6, waiting (default). */
	su_reset();
	su_make_csr("STANDIN-OK/i", &der, &len);
	r = svc_intune_check(si, &ep, "TXN-issue", der, len, &o);
	r = r == SCEP_OK ? svc_intune_after_issue(si, &ep, "TXN-issue", der,
	    len, cert, &o) : r;
	all = su_calls();
	n = su_nth_kind(all, "successNotification", 0);
	tap_ok(r == SCEP_OK && o.revoke == 0 && o.background == 0 &&
	    strcmp(o.notify.code, "Success") == 0 && n != NULL,
	    "successNotification before SUCCESS");
	tap_ok(n != NULL && strcmp(su_field(n, "notification",
	    "caConfiguration"), "issuing-ca-01") == 0 &&
	    strcmp(su_field(n, "notification", "transactionId"), "TXN-issue")
	    == 0 && strcmp(su_field(n, "notification", "certificateRequest"),
	    su_field(su_nth_kind(all, "validateRequest", 0), "request",
	    "certificateRequest")) == 0,
	    "same transactionId and certificateRequest in both calls; "
	    "caConfiguration from the endpoint");
	tap_ok(su_count_kind(all, "validateRequest") == 1 &&
	    su_count_kind(all, "successNotification") == 1 &&
	    su_count_violations(all) == 0, "exactly one call of each "
	    "(spec 10.2 case 1)");
	json_decref(all);
	OPENSSL_free(der);

	/* spec 10.2 case 4: the notification fails -> revoke, FAILURE. */
	su_reset();
	su_make_csr("STANDIN-OK/SN:HTTP-500/j", &der, &len);
	r = svc_intune_after_issue(si, &ep, "TXN-snfail", der, len, cert, &o);
	tap_ok(r == SCEP_E_DENIED && o.revoke == 1 && o.failinfo ==
	    SCEP_FAIL_BADREQUEST && strcmp(o.failtext,
	    "Intune successNotification failed: HTTP 500") == 0,
	    "successNotification 500 twice: revoke and FAILURE (%s)",
	    o.failtext);
	OPENSSL_free(der);
	su_make_csr("STANDIN-OK/SN:ERR-Unknown/k", &der, &len);
	r = svc_intune_after_issue(si, &ep, "TXN-snerr", der, len, cert, &o);
	tap_ok(r == SCEP_E_DENIED && o.revoke == 1 && strcmp(o.failtext,
	    "Intune successNotification failed: Unknown") == 0,
	    "successNotification non-Success: revoke (%s)", o.failtext);
	OPENSSL_free(der);

	/* ... with the switch off: SUCCESS now, notification still sent. */
	svc_intune_endpoint_get(si, EP_ID, &set);
	set.wait_success = 0;
	svc_intune_endpoint_set(si, &set);
	su_reset();
	su_make_csr("STANDIN-OK/SN:SLOW-800/l", &der, &len);
	{
		double t0 = now_s();

		r = svc_intune_after_issue(si, &ep, "TXN-nowait", der, len,
		    cert, &o);
		tap_ok(r == SCEP_OK && o.revoke == 0 && o.background == 1 &&
		    now_s() - t0 < 0.5, "switch off: SUCCESS at once "
		    "(%.3f s), notification in the background", now_s() - t0);
	}
	for (i = 0; i < 100; i++) {
		size_t run, q;

		svc_intune_pool_stats(si, &run, &q);
		if (run == 0 && q == 0)
			break;
		usleep(50 * 1000);
	}
	all = su_calls();
	tap_ok(su_count_kind(all, "successNotification") == 1,
	    "... and the notification was sent");
	json_decref(all);
	OPENSSL_free(der);
	if (st != NULL) {
		struct store_event ev[64];
		size_t ne = 0, k;
		int found = 0;

		memset(ev, 0, sizeof(ev));
		store_event_list(st, 0, ev, 64, &ne);
		for (k = 0; k < ne; k++)
			if (strcmp(ev[k].action, "successNotification") == 0 &&
			    strcmp(ev[k].transid, "TXN-nowait") == 0 &&
			    strcmp(ev[k].result, "SUCCESS") == 0 &&
			    strcmp(ev[k].serial, "8001020304") == 0 &&
			    strstr(ev[k].details, "\"background\":true") !=
			    NULL)
				found = 1;
		tap_ok(found, "background notification has its own audit "
		    "record");
	}
	set.wait_success = 1;
	svc_intune_endpoint_set(si, &set);

	/* spec 10.2 case 5: issuance failed after validation. */
	su_reset();
	su_make_csr("STANDIN-OK/m", &der, &len);
	r = svc_intune_after_failure(si, &ep, "TXN-cafail", der, len,
	    SCEP_E_STORE, SCEP_FAIL_BADREQUEST, "certificate could not be "
	    "stored", &o);
	all = su_calls();
	n = su_nth_kind(all, "failureNotification", 0);
	tap_ok(r == SCEP_OK && n != NULL && json_integer_value(
	    json_object_get(json_object_get(json_object_get(n, "json"),
	    "notification"), "hResult")) == INTUNE_HR_STORE &&
	    strcmp(su_field(n, "notification", "errorDescription"),
	    "certificate could not be stored") == 0,
	    "CA failure: failureNotification with hResult 0x20000004");
	json_decref(all);
	OPENSSL_free(der);

	tap_ok(svc_intune_hresult(SCEP_OK, SCEP_FAIL_BADCERTID) ==
	    0x20000104 && svc_intune_hresult(SCEP_E_BUSY, -1) ==
	    INTUNE_HR_UNAVAILABLE && svc_intune_hresult(SCEP_E_DENIED, 2) ==
	    INTUNE_HR_POLICY && svc_intune_hresult(SCEP_E_INTERNAL, -1) ==
	    INTUNE_HR_INTERNAL && svc_intune_hresult(SCEP_OK, -1) ==
	    INTUNE_HR_INTERNAL, "HRESULT table of spec 6.3");

	/* Not an Intune endpoint: nothing to notify. */
	{
		struct store_endpoint plain = ep;

		plain.type = EP_DEVICE_SCEP;
		su_reset();
		r = svc_intune_after_issue(si, &plain, "TXN-p",
		    (const uint8_t *)"x", 1, cert, &o);
		all = su_calls();
		tap_ok(r == SCEP_OK && o.revoke == 0 &&
		    json_array_size(all) == 0,
		    "after_issue on a plain endpoint: no call");
		json_decref(all);
	}
	X509_free(cert);
}

static void
test_details(void)
{
	struct svc_intune_outcome o;
	char buf[1024];
	json_t *j = NULL;
	int n, i;

	memset(&o, 0, sizeof(o));
	o.account_id = 3;
	snprintf(o.account_name, sizeof(o.account_name), "Contoso \"prod\"");
	o.validate.action = "validateRequest";
	o.validate.http_status = 200;
	o.validate.elapsed_ms = 120;
	o.validate.stage = INTUNE_STAGE_REJECTED;
	snprintf(o.validate.code, sizeof(o.validate.code), "ChallengeExpired");
	o.validate.attempts = 1;
	snprintf(o.validate.request_ids[0], sizeof(o.validate.request_ids[0]),
	    "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
	n = svc_intune_details(&o, buf, sizeof(buf));
	tap_ok(n > 0 && (j = json_loads(buf, 0, NULL)) != NULL &&
	    strcmp(json_string_value(json_object_get(json_object_get(j,
	    "validate"), "code")), "ChallengeExpired") == 0 &&
	    json_integer_value(json_object_get(json_object_get(j, "validate"),
	    "http")) == 200 && json_object_get(j, "notify") == NULL &&
	    json_integer_value(json_object_get(j, "azure_account_id")) == 3 &&
	    strcmp(json_string_value(json_object_get(j,
	    "azure_account_name")), "Contoso \"prod\"") == 0,
	    "audit details (account id and name): %s", buf);
	json_decref(j);

	/* Worst case: both calls, long codes and messages, 4 IDs each. */
	o.notify = o.validate;
	o.notify.action = "successNotification";
	for (i = 0; i < INTUNE_MAX_ATTEMPTS; i++) {
		snprintf(o.validate.request_ids[i],
		    sizeof(o.validate.request_ids[i]),
		    "3f2504e0-4f89-41d3-9a0c-0305e82c330%d", i);
		snprintf(o.notify.request_ids[i],
		    sizeof(o.notify.request_ids[i]),
		    "4f2504e0-4f89-41d3-9a0c-0305e82c330%d", i);
	}
	o.validate.attempts = o.notify.attempts = 4;
	memset(o.validate.code, 'C', sizeof(o.validate.code) - 1);
	memset(o.notify.code, 'D', sizeof(o.notify.code) - 1);
	memset(o.validate.message, 'm', sizeof(o.validate.message) - 1);
	memset(o.notify.message, 'n', sizeof(o.notify.message) - 1);
	snprintf(o.validate.aadsts, sizeof(o.validate.aadsts),
	    "AADSTS7000215");
	n = svc_intune_details(&o, buf, sizeof(buf));
	tap_ok(n > 0 && n < SVC_INTUNE_DETAILS_MAX &&
	    (j = json_loads(buf, 0, NULL)) != NULL,
	    "worst case fits in %d bytes (%d)", SVC_INTUNE_DETAILS_MAX, n);
	json_decref(j);
	memset(&o, 0, sizeof(o));
	tap_ok(svc_intune_details(&o, buf, sizeof(buf)) == 2 &&
	    strcmp(buf, "{}") == 0, "nothing called: {}");
}

/* ---- no stalls ---- */

struct waiter {
	pthread_mutex_t	 m;
	pthread_cond_t	 c;
	int		 done;
	int		 ok;
	double		 last;
};

static void
async_done(void *arg, int rc, const struct svc_intune_outcome *o)
{
	struct waiter *w = arg;

	pthread_mutex_lock(&w->m);
	w->done++;
	if (rc == SCEP_OK && o->issue)
		w->ok++;
	w->last = now_s();
	pthread_cond_broadcast(&w->c);
	pthread_mutex_unlock(&w->m);
}

struct gate {
	pthread_mutex_t	 m;
	pthread_cond_t	 c;
	int		 open;
	int		 ran;
};

static void
gate_job(void *arg)
{
	struct gate *g = arg;

	pthread_mutex_lock(&g->m);
	while (!g->open)
		pthread_cond_wait(&g->c, &g->m);
	g->ran++;
	pthread_mutex_unlock(&g->m);
}

static void
test_pool(void)
{
	struct waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
	    0, 0, 0 };
	struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
	    0, 0 };
	struct svc_intune_config pc;
	struct svc_intune *small = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	double t0, tsub = 0, t;
	int i, n = 200, busy = 0, r;

	/* 200 validations, each 500 ms at the stand-in: the submitting
	 * thread (an HTTP worker) never waits. */
	su_reset();
	su_make_csr("STANDIN-SLOW-500/pool", &der, &len);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		char tid[32];
		double a = now_s();

		snprintf(tid, sizeof(tid), "TXN-pool-%d", i);
		r = svc_intune_check_async(si, &ep, tid, der, len, async_done,
		    &w);
		if (r == SCEP_E_BUSY)
			busy++;
		t = now_s() - a;
		if (t > tsub)
			tsub = t;
	}
	pthread_mutex_lock(&w.m);
	while (w.done + busy < n)
		pthread_cond_wait(&w.c, &w.m);
	pthread_mutex_unlock(&w.m);
	t = w.last - t0;
	tap_ok(busy == 0 && w.ok == n, "200 async checks at 500 ms each: all "
	    "validated (%d ok)", w.ok);
	/* A submit that waited for Microsoft would take >= 500 ms; the
	 * margin below that only absorbs scheduling noise on a busy host. */
	tap_ok(tsub < 0.25, "submitting never waited for Microsoft (longest "
	    "submit %.1f ms)", tsub * 1000);
	tap_ok(t < 200 * 0.5 / 4, "%d workers in parallel: %.2f s for 200 "
	    "(serial would be 100 s)", SVC_INTUNE_WORKERS, t);
	printf("# pool: 200 validations of 500 ms in %.2f s with %d workers\n",
	    t, SVC_INTUNE_WORKERS);
	OPENSSL_free(der);

	/* Bounded: a full queue answers BUSY at once. */
	memset(&pc, 0, sizeof(pc));
	pc.workers = 2;
	pc.queue_max = 3;
	svc_intune_new(&pc, NULL, &small);
	for (i = 0; i < 2; i++)
		svc_intune_submit(small, gate_job, &g);
	usleep(100 * 1000);	/* both workers now hold a job */
	r = 0;
	for (i = 0; i < 3; i++)
		r |= svc_intune_submit(small, gate_job, &g);
	tap_ok(r == SCEP_OK && svc_intune_submit(small, gate_job, &g) ==
	    SCEP_E_BUSY, "queue full: SCEP_E_BUSY (answer 503), no thread "
	    "blocked");
	{
		size_t run = 0, q = 0;

		svc_intune_pool_stats(small, &run, &q);
		tap_ok(run == 2 && q == 3, "pool stats: %zu running, %zu "
		    "queued", run, q);
	}
	pthread_mutex_lock(&g.m);
	g.open = 1;
	pthread_cond_broadcast(&g.c);
	pthread_mutex_unlock(&g.m);
	svc_intune_free(small);		/* drains the queue */
	tap_ok(g.ran == 5, "free runs every queued job first (%d)", g.ran);
}

struct opwait {
	pthread_mutex_t	 m;
	pthread_cond_t	 c;
	int		 done;
	int		 status;
	pthread_t	 thread;
};

static void
op_done(void *arg, struct svc_result *res)
{
	struct opwait *w = arg;

	pthread_mutex_lock(&w->m);
	w->status = res->http_status;
	w->thread = pthread_self();
	w->done = 1;
	pthread_cond_broadcast(&w->c);
	pthread_mutex_unlock(&w->m);
	svc_result_clear(res);
}

/* The whole PKIOperation on the pool: here one that stops early (the
 * endpoint's CA is not in the store), which is enough to see the result
 * travel to the callback on a pool thread. */
static void
test_op_async(void)
{
	struct opwait w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
	    0, 0, 0 };
	struct svc_config sc;
	struct keyops *ko = NULL;
	struct svc *s = NULL;
	int r;

	memset(&sc, 0, sizeof(sc));
	if (st == NULL || keyops_new(&ko) != SCEP_OK ||
	    svc_new(&sc, st, ko, &s) != SCEP_OK) {
		tap_ok(0, "svc for the async PKIOperation");
		keyops_free(ko);
		return;
	}
	r = svc_intune_pkioperation_async(si, s, &ep, (const uint8_t *)"\x30",
	    1, "192.0.2.1", "req-1", op_done, &w);
	pthread_mutex_lock(&w.m);
	while (r == SCEP_OK && !w.done)
		pthread_cond_wait(&w.c, &w.m);
	pthread_mutex_unlock(&w.m);
	tap_ok(r == SCEP_OK && w.done && w.status == 503 &&
	    !pthread_equal(w.thread, pthread_self()),
	    "PKIOperation on the pool: result handed to the callback on a "
	    "pool thread (HTTP %d)", w.status);
	svc_free(s);
	keyops_free(ko);
}

/* Put "cert" in the store as issued by endpoint "ep_id" of CA "ca_id". */
static int
store_cert(X509 *cert, const char *serial, int64_t ca_id, int64_t ep_id)
{
	struct store_cert sc;
	unsigned char *der = NULL;
	int len, r;

	memset(&sc, 0, sizeof(sc));
	if ((len = i2d_X509(cert, &der)) <= 0)
		return SCEP_E_INTERNAL;
	snprintf(sc.serial, sizeof(sc.serial), "%s", serial);
	snprintf(sc.subject, sizeof(sc.subject), "CN=device-1");
	sc.ca_id = ca_id;
	sc.endpoint_id = ep_id;
	sc.der = der;
	sc.der_len = (size_t)len;
	sc.status = CERT_VALID;
	sc.not_before = 1767225600;
	sc.not_after = 1907425880;
	r = store_cert_issue(st, &sc, 0, 0, (int64_t)time(NULL));
	OPENSSL_free(der);
	return r;
}

/* spec 9, 10.2 case 16: revocation requests from Intune. */
static void
test_revocation(void)
{
	struct svc_intune_revocation_report rep;
	struct store_endpoint iep, pep;
	struct svc_intune_ep set;
	struct store_cert sc;
	struct store_ca ca;
	struct svc_config scfg;
	struct keyops *ko = NULL;
	struct svc *s = NULL;
	X509 *cert = su_make_cert(), *other = NULL;
	unsigned char *der = NULL;
	json_t *all = NULL, *u = NULL, *res = NULL;
	int len, r;
	size_t i;
	const char *want[5][2] = {
		{ "ctx-a", "0" }, { "ctx-b", "4004" }, { "ctx-c", "4002" },
		{ "ctx-d", "0" }, { "ctx-e", "4004" },
	};

	memset(&ca, 0, sizeof(ca));
	memset(&scfg, 0, sizeof(scfg));
	memset(&sc, 0, sizeof(sc));
	snprintf(ca.name, sizeof(ca.name), "Example Issuing CA");
	snprintf(ca.key_path, sizeof(ca.key_path), "/nonexistent/ca.key");
	len = i2d_X509(cert, &der);
	/* store_ca_clear frees cert_der: give it its own copy. */
	if (len > 0 && (ca.cert_der = malloc((size_t)len)) != NULL) {
		memcpy(ca.cert_der, der, (size_t)len);
		ca.cert_len = (size_t)len;
	}
	r = store_ca_insert(st, &ca);
	OPENSSL_free(der);
	memset(&iep, 0, sizeof(iep));
	snprintf(iep.name, sizeof(iep.name), "intune devices");
	snprintf(iep.uri_ext, sizeof(iep.uri_ext), "intune-rv");
	iep.type = EP_DEVICE_INTUNE;
	iep.ca_id = ca.id;
	iep.enabled = 1;
	pep = iep;
	snprintf(pep.name, sizeof(pep.name), "plain devices");
	snprintf(pep.uri_ext, sizeof(pep.uri_ext), "plain-rv");
	pep.type = EP_DEVICE_SCEP;
	if (r != SCEP_OK || store_endpoint_insert(st, &iep) != SCEP_OK ||
	    store_endpoint_insert(st, &pep) != SCEP_OK ||
	    keyops_new(&ko) != SCEP_OK || svc_new(&scfg, st, ko, &s) !=
	    SCEP_OK) {
		tap_ok(0, "revocation: store set-up");
		goto out;
	}
	memset(&set, 0, sizeof(set));
	set.endpoint_id = iep.id;
	set.azure_account_id = ACCOUNT;
	set.wait_success = 1;
	svc_intune_endpoint_set(si, &set);
	/* Two certificates: one from the Intune endpoint, one from the
	 * plain endpoint (Intune must not be able to revoke that one). */
	other = su_make_cert();
	{
		ASN1_INTEGER *ai = ASN1_INTEGER_new();

		ASN1_INTEGER_set(ai, 0x0a0b);
		X509_set_serialNumber(other, ai);
		X509_sign(other, su_key, EVP_sha256());
		ASN1_INTEGER_free(ai);
	}
	tap_ok(store_cert(cert, "8001020304", ca.id, iep.id) == SCEP_OK &&
	    store_cert(other, "A0B", ca.id, pep.id) == SCEP_OK,
	    "two certificates in the store");

	su_reset();
	su_ctl0("config", "{\"revocations\": ["
	    "{\"requestContext\": \"ctx-a\", \"serialNumber\": "
	    "\"008001020304\", \"issuerName\": \"CN=Example Issuing CA,"
	    "O=Example\", \"caConfiguration\": \"issuing-ca-01\"},"
	    "{\"requestContext\": \"ctx-b\", \"serialNumber\": \"ABCDEF\"},"
	    "{\"requestContext\": \"ctx-c\", \"serialNumber\": \"xyz\"},"
	    "{\"requestContext\": \"ctx-d\", \"serialNumber\": "
	    "\"8001020304\"},"
	    "{\"requestContext\": \"ctx-e\", \"serialNumber\": \"0a0b\"}"
	    "]}");
	r = svc_intune_revocation_poll(si, s, ACCOUNT, &rep);
	tap_ok(r == SCEP_OK && rep.requests == 5 && rep.revoked == 1 &&
	    rep.already == 1 && rep.notfound == 2 && rep.failed == 1,
	    "poll: 5 requests, 1 revoked, 1 already, 2 not found, 1 bad "
	    "(%zu/%zu/%zu/%zu/%zu)", rep.requests, rep.revoked, rep.already,
	    rep.notfound, rep.failed);
	all = su_calls();
	u = su_nth_kind(all, "uploadRevocationResults", 0);
	res = json_object_get(json_object_get(u, "json"), "results");
	r = json_array_size(res) == 5 && su_count_violations(all) == 0;
	for (i = 0; r && i < 5; i++) {
		json_t *e = json_array_get(res, i);
		char code[16];

		snprintf(code, sizeof(code), "%lld", (long long)
		    json_integer_value(json_object_get(e, "errorCode")));
		r = strcmp(json_string_value(json_object_get(e,
		    "requestContext")), want[i][0]) == 0 &&
		    strcmp(code, want[i][1]) == 0;
	}
	tap_ok(r, "one result per request with the right errorCode");
	json_decref(all);
	tap_ok(store_cert_get(st, "8001020304", &sc) == SCEP_OK &&
	    sc.status == CERT_REVOKED && sc.revoke_reason == 5,
	    "certificate revoked, reason cessationOfOperation");
	store_cert_clear(&sc);
	tap_ok(store_cert_get(st, "A0B", &sc) == SCEP_OK &&
	    sc.status == CERT_VALID,
	    "a plain endpoint's certificate is out of Intune's reach");
	store_cert_clear(&sc);

	/* Nothing queued: no upload. */
	su_reset();
	r = svc_intune_revocation_poll(si, s, ACCOUNT, &rep);
	all = su_calls();
	tap_ok(r == SCEP_OK && rep.requests == 0 &&
	    su_count_kind(all, "uploadRevocationResults") == 0,
	    "empty queue: nothing uploaded");
	json_decref(all);
	tap_ok(svc_intune_revocation_poll(si, s, 999, &rep) ==
	    SCEP_E_NOTFOUND, "unknown account");

	/* The poller thread, for accounts that ask for it. */
	{
		struct intune_account_cfg cfg;
		char why[128];
		int k;

		account_cfg(&cfg, SECRET);
		cfg.revocation_poll = 1;
		svc_intune_account_set(si, ACCOUNT, &cfg, why, sizeof(why));
		su_reset();
		su_ctl0("config", "{\"revocations\": [{\"requestContext\": "
		    "\"ctx-p\", \"serialNumber\": \"DEAD\"}]}");
		tap_ok(svc_intune_poller_start(si, s, 1) == SCEP_OK &&
		    svc_intune_poller_start(si, s, 1) == SCEP_E_EXISTS,
		    "poller started (once)");
		for (k = 0, r = 0; k < 60 && r < 2; k++) {
			usleep(100 * 1000);
			all = su_calls();
			r = (int)su_count_kind(all,
			    "downloadRevocationRequests");
			json_decref(all);
		}
		svc_intune_poller_stop(si);
		all = su_calls();
		tap_ok(r >= 2 && su_count_kind(all,
		    "uploadRevocationResults") >= 1, "poller polls every "
		    "interval and answers (%d downloads)", r);
		json_decref(all);
		account_cfg(&cfg, SECRET);
		svc_intune_account_set(si, ACCOUNT, &cfg, why, sizeof(why));
	}
 out:
	svc_free(s);
	keyops_free(ko);
	store_ca_clear(&ca);
	X509_free(cert);
	X509_free(other);
}

/* svc_intune_sync: the registry from the store (store_azure.h). */
static void
test_sync(void)
{
	struct store_azure_account row;
	struct store_intune_ep ie;
	struct store_endpoint sep;
	struct store_ca ca;
	struct svc_intune_outcome o;
	struct intune_stats s0, s1;
	struct svc_intune *s2 = NULL;
	struct store_endpoint e2;
	uint8_t key[SVC_INTUNE_KEY_LEN], other[SVC_INTUNE_KEY_LEN];
	uint8_t *der = NULL;
	char path[400], scope[300];
	size_t len = 0;
	int r, ilen;
	X509 *cert = su_make_cert();
	unsigned char *cder = NULL;

	snprintf(path, sizeof(path), "%s/azure-sync.key", su_dir);
	if (st == NULL || svc_intune_key_load(path, 1, key) != SCEP_OK ||
	    svc_intune_new(NULL, st, &s2) != SCEP_OK) {
		tap_ok(0, "sync: set-up");
		X509_free(cert);
		return;
	}
	/* A CA and an Intune endpoint in the store. */
	memset(&ca, 0, sizeof(ca));
	snprintf(ca.name, sizeof(ca.name), "Sync CA");
	snprintf(ca.key_path, sizeof(ca.key_path), "/nonexistent");
	ilen = i2d_X509(cert, &cder);
	if (ilen > 0 && (ca.cert_der = malloc((size_t)ilen)) != NULL) {
		memcpy(ca.cert_der, cder, (size_t)ilen);
		ca.cert_len = (size_t)ilen;
	}
	OPENSSL_free(cder);
	memset(&sep, 0, sizeof(sep));
	snprintf(sep.name, sizeof(sep.name), "intune sync");
	snprintf(sep.uri_ext, sizeof(sep.uri_ext), "intune-sync");
	sep.type = EP_CLIENT_INTUNE;
	sep.enabled = 1;
	r = store_ca_insert(st, &ca);
	sep.ca_id = ca.id;
	r = r == SCEP_OK ? store_endpoint_insert(st, &sep) : r;
	store_ca_clear(&ca);

	/* The account, its secret sealed; the stand-in is at su_base, so
	 * the Graph scope is overridden to the one the stand-in wants. */
	memset(&row, 0, sizeof(row));
	snprintf(row.name, sizeof(row.name), "stand-in tenant");
	row.environment = INTUNE_ENV_GLOBAL;
	snprintf(row.tenant_id, sizeof(row.tenant_id),
	    "contoso.onmicrosoft.com");
	snprintf(row.client_id, sizeof(row.client_id),
	    "11111111-1111-1111-1111-111111111111");
	snprintf(row.authority_url, sizeof(row.authority_url), "%s", su_base);
	snprintf(row.graph_url, sizeof(row.graph_url), "%s", su_base);
	snprintf(scope, sizeof(scope), "https://graph.microsoft.com/.default");
	snprintf(row.graph_scope, sizeof(row.graph_scope), "%s", scope);
	snprintf(row.ca_bundle_path, sizeof(row.ca_bundle_path), "%s", su_ca);
	row.delegation_general = 1;
	row.created_at = row.updated_at = (int64_t)time(NULL);
	r = r == SCEP_OK ? svc_intune_secret_seal(key, SECRET, &row.secret,
	    &row.secret_len) : r;
	r = r == SCEP_OK ? store_azure_account_insert(st, &row, NULL, 0) : r;
	memset(&ie, 0, sizeof(ie));
	ie.endpoint_id = sep.id;
	ie.azure_account_id = row.id;
	ie.wait_success = 1;
	r = r == SCEP_OK ? store_intune_ep_set(st, &ie) : r;
	tap_ok(r == SCEP_OK, "sync: account (sealed secret) and endpoint "
	    "settings in the store");
	tap_ok(svc_intune_sync(s2, key, 0) == SCEP_OK, "sync");

	e2 = ep;
	e2.id = sep.id;
	e2.type = EP_CLIENT_INTUNE;
	su_make_csr("STANDIN-OK/sync", &der, &len);
	su_reset();
	r = svc_intune_check(s2, &e2, "TXN-sync", der, len, &o);
	tap_ok(r == SCEP_OK && o.account_id == row.id &&
	    strcmp(o.account_name, "stand-in tenant") == 0,
	    "an enrollment on the synced endpoint validates, naming the "
	    "account (%s)", o.failtext);

	/* Nothing changed: same client, caches kept. */
	svc_intune_account_stats(s2, row.id, &s0);
	tap_ok(svc_intune_sync(s2, key, 1) == SCEP_OK &&
	    svc_intune_account_stats(s2, row.id, &s1) == SCEP_OK &&
	    s1.token_requests == s0.token_requests && s0.token_requests > 0,
	    "an unchanged account keeps its client and tokens");

	/* Renamed: the next outcome names it so, same client. */
	snprintf(row.name, sizeof(row.name), "renamed tenant");
	row.updated_at++;
	r = store_azure_account_update(st, &row, NULL, 0);
	r = r == SCEP_OK ? svc_intune_sync(s2, key, 0) : r;
	r = r == SCEP_OK ? svc_intune_check(s2, &e2, "TXN-sync1r", der, len,
	    &o) : r;
	svc_intune_account_stats(s2, row.id, &s1);
	tap_ok(r == SCEP_OK && strcmp(o.account_name, "renamed tenant") == 0 &&
	    s1.token_requests == s0.token_requests,
	    "renamed: the outcome has the new name, client and tokens kept "
	    "(%s)", o.account_name);

	/* The secret rotated in the store: rotated in place. */
	su_ctl0("config", "{\"client_secret\": \"sync-rotated\"}");
	free(row.secret);
	row.secret = NULL;
	svc_intune_secret_seal(key, "sync-rotated", &row.secret,
	    &row.secret_len);
	row.updated_at++;
	r = store_azure_account_update(st, &row, NULL, 0);
	r = r == SCEP_OK ? svc_intune_sync(s2, key, 0) : r;
	r = r == SCEP_OK ? svc_intune_check(s2, &e2, "TXN-sync2", der, len,
	    &o) : r;
	svc_intune_account_stats(s2, row.id, &s1);
	tap_ok(r == SCEP_OK && s1.token_requests == s0.token_requests + 1 &&
	    s1.discoveries == s0.discoveries,
	    "secret rotated: new token at once, discovery kept (same "
	    "client)");

	/* Another setting changed: a new client. */
	row.revocation_poll = 1;
	row.updated_at++;
	r = store_azure_account_update(st, &row, NULL, 0);
	r = r == SCEP_OK ? svc_intune_sync(s2, key, 0) : r;
	svc_intune_account_stats(s2, row.id, &s1);
	tap_ok(r == SCEP_OK && s1.token_requests == 0,
	    "configuration changed: a fresh client");
	r = svc_intune_check(s2, &e2, "TXN-sync3", der, len, &o);
	tap_ok(r == SCEP_OK, "... which works");

	/* A secret sealed under another key: the account is dropped, its
	 * endpoint fails closed. */
	memcpy(other, key, sizeof(other));
	other[0] ^= 0xff;
	free(row.secret);
	row.secret = NULL;
	svc_intune_secret_seal(other, "sync-rotated", &row.secret,
	    &row.secret_len);
	row.updated_at++;
	store_azure_account_update(st, &row, NULL, 0);
	(void)svc_intune_sync(s2, key, 0);
	r = svc_intune_check(s2, &e2, "TXN-sync4", der, len, &o);
	tap_ok(r == SCEP_E_DENIED && strstr(o.failtext, "not configured") !=
	    NULL, "secret that does not open: fails closed (%s)", o.failtext);

	/* Deleted endpoint settings and account: gone from memory. */
	store_intune_ep_delete(st, sep.id);
	store_azure_account_delete(st, row.id, (int64_t)time(NULL));
	(void)svc_intune_sync(s2, key, 0);
	r = svc_intune_check(s2, &e2, "TXN-sync5", der, len, &o);
	tap_ok(r == SCEP_E_DENIED && strcmp(o.failtext,
	    "Intune endpoint has no Azure account") == 0,
	    "deleted settings: refused");
	su_ctl0("config", "{\"client_secret\": \"" SECRET "\"}");
	OPENSSL_free(der);
	store_azure_account_clear(&row);
	svc_intune_free(s2);
	X509_free(cert);
	unlink(path);
}

/* svc_intune_account_save: the admin API's way in (sealing, checks). */
static void
test_save(void)
{
	struct store_azure_account row, got;
	struct store_intune_ep ie;
	struct store_endpoint e2;
	struct svc_intune_outcome o;
	struct intune_stats s0, s1;
	struct svc_intune *s3 = NULL;
	uint8_t key[SVC_INTUNE_KEY_LEN];
	uint8_t *der = NULL;
	char path[400], why[256];
	size_t len = 0, n0 = 0, n1 = 0, k;
	struct store_azure_account list[8];
	int r;

	snprintf(path, sizeof(path), "%s/azure-save.key", su_dir);
	if (st == NULL || svc_intune_key_load(path, 1, key) != SCEP_OK ||
	    svc_intune_new(NULL, st, &s3) != SCEP_OK) {
		tap_ok(0, "save: set-up");
		return;
	}
	memset(&row, 0, sizeof(row));
	tap_ok(svc_intune_account_save(s3, &row, "x", NULL, NULL, 0, why,
	    sizeof(why)) == SCEP_E_CONFIG, "no key yet: refused");
	svc_intune_set_key(s3, key);

	memset(&row, 0, sizeof(row));
	snprintf(row.name, sizeof(row.name), "saved tenant");
	snprintf(row.tenant_id, sizeof(row.tenant_id), "contoso/../evil");
	snprintf(row.client_id, sizeof(row.client_id),
	    "11111111-1111-1111-1111-111111111111");
	store_azure_account_list(st, list, 8, &n0);
	for (k = 0; k < n0; k++)
		store_azure_account_clear(&list[k]);
	r = svc_intune_account_save(s3, &row, SECRET, NULL, NULL, 0, why,
	    sizeof(why));
	store_azure_account_list(st, list, 8, &n1);
	for (k = 0; k < n1; k++)
		store_azure_account_clear(&list[k]);
	tap_ok(r == SCEP_E_CONFIG && why[0] != '\0' && n1 == n0,
	    "bad configuration refused before writing (%s)", why);

	snprintf(row.tenant_id, sizeof(row.tenant_id),
	    "contoso.onmicrosoft.com");
	snprintf(row.authority_url, sizeof(row.authority_url), "%s", su_base);
	snprintf(row.graph_url, sizeof(row.graph_url), "%s", su_base);
	snprintf(row.graph_scope, sizeof(row.graph_scope),
	    "https://graph.microsoft.com/.default");
	snprintf(row.ca_bundle_path, sizeof(row.ca_bundle_path), "%s", su_ca);
	row.delegation_general = 1;
	r = svc_intune_account_save(s3, &row, SECRET, NULL, NULL, 0, why,
	    sizeof(why));
	tap_ok(r == SCEP_OK && row.id > 0, "account created (%s)", why);
	memset(&got, 0, sizeof(got));
	r = store_azure_account_get(st, row.id, &got);
	tap_ok(r == SCEP_OK && got.secret_len == SVC_INTUNE_SEAL_OVERHEAD +
	    strlen(SECRET) && !contains(got.secret, got.secret_len, SECRET),
	    "only the sealed secret is in the store");
	store_azure_account_clear(&got);

	/* Attach the endpoint of test_sync's store rows to it. */
	memset(&e2, 0, sizeof(e2));
	if (store_endpoint_by_ext(st, "intune-save", &e2) != SCEP_OK) {
		struct store_endpoint ne;

		memset(&ne, 0, sizeof(ne));
		snprintf(ne.name, sizeof(ne.name), "intune save");
		snprintf(ne.uri_ext, sizeof(ne.uri_ext), "intune-save");
		ne.type = EP_DEVICE_INTUNE;
		ne.enabled = 1;
		ne.ca_id = 1;
		(void)store_endpoint_insert(st, &ne);
		e2 = ne;
	}
	memset(&ie, 0, sizeof(ie));
	ie.endpoint_id = e2.id;
	ie.azure_account_id = row.id;
	ie.wait_success = 1;
	r = store_intune_ep_set(st, &ie);
	r = r == SCEP_OK ? svc_intune_sync(s3, NULL, 0) : r;
	su_make_csr("STANDIN-OK/save", &der, &len);
	r = r == SCEP_OK ? svc_intune_check(s3, &e2, "TXN-save", der, len,
	    &o) : r;
	tap_ok(r == SCEP_OK, "the saved account validates (%s)", o.failtext);

	/* Rotation through the API: used at once. */
	su_ctl0("config", "{\"client_secret\": \"saved-rotated\"}");
	svc_intune_account_stats(s3, row.id, &s0);
	r = svc_intune_account_save(s3, &row, "saved-rotated", NULL, NULL, 0,
	    why, sizeof(why));
	r = r == SCEP_OK ? svc_intune_check(s3, &e2, "TXN-save2", der, len,
	    &o) : r;
	svc_intune_account_stats(s3, row.id, &s1);
	tap_ok(r == SCEP_OK && s1.token_requests == s0.token_requests + 1,
	    "secret rotated through the API: a new token at once");

	/* An update without a secret keeps the stored one. */
	row.revocation_poll = 1;
	r = svc_intune_account_save(s3, &row, NULL, NULL, NULL, 0, why,
	    sizeof(why));
	r = r == SCEP_OK ? svc_intune_check(s3, &e2, "TXN-save3", der, len,
	    &o) : r;
	tap_ok(r == SCEP_OK, "update without a secret keeps it (%s)",
	    o.failtext);
	su_ctl0("config", "{\"client_secret\": \"" SECRET "\"}");
	OPENSSL_free(der);
	store_azure_account_clear(&row);
	svc_intune_free(s3);
	unlink(path);
}

static void
test_accounts(void)
{
	struct intune_account_cfg cfg;
	struct intune_test_report rep;
	struct svc_intune_outcome o;
	struct intune_stats s0, s1;
	char why[256];
	int r;

	account_cfg(&cfg, "bad");
	cfg.tenant_id = "";
	tap_ok(svc_intune_account_set(si, 8, &cfg, why, sizeof(why)) ==
	    SCEP_E_CONFIG && why[0] != '\0', "bad account refused: %s", why);
	tap_ok(svc_intune_account_test(si, 8, &rep) == SCEP_E_NOTFOUND,
	    "unknown account: not found");

	su_reset();
	r = svc_intune_account_test(si, ACCOUNT, &rep);
	tap_ok(r == SCEP_OK && rep.validation_uri[0] != '\0',
	    "Test connection: %s", rep.summary);

	/* Rotation: the stand-in now wants another secret. */
	su_ctl0("config", "{\"client_secret\": \"new-secret\"}");
	svc_intune_account_stats(si, ACCOUNT, &s0);
	r = svc_intune_account_secret(si, ACCOUNT, "new-secret");
	tap_ok(r == SCEP_OK, "secret rotated");
	r = check("STANDIN-OK/rot", "TXN-rot", &o);
	svc_intune_account_stats(si, ACCOUNT, &s1);
	tap_ok(r == SCEP_OK && s1.token_requests > s0.token_requests,
	    "rotation takes effect at once (new token with the new secret)");

	/* Replacing the account: a new client, new caches. */
	account_cfg(&cfg, "new-secret");
	tap_ok(svc_intune_account_set(si, ACCOUNT, &cfg, why, sizeof(why)) ==
	    SCEP_OK && svc_intune_account_stats(si, ACCOUNT, &s1) == SCEP_OK &&
	    s1.token_requests == 0, "account replaced: fresh client");
	r = check("STANDIN-OK/rep", "TXN-rep", &o);
	tap_ok(r == SCEP_OK, "replaced account works");
	su_ctl0("config", "{\"client_secret\": \"" SECRET "\"}");
	account_cfg(&cfg, SECRET);
	svc_intune_account_set(si, ACCOUNT, &cfg, why, sizeof(why));

	/* spec 10.2 case 6: the token endpoint rejects the secret. */
	svc_intune_account_secret(si, ACCOUNT, "wrong");
	r = check("STANDIN-OK/ws", "TXN-ws", &o);
	tap_ok(r == SCEP_E_DENIED && strcmp(o.failtext, "Intune validation "
	    "failed: cannot authenticate to Entra ID AADSTS7000215") == 0,
	    "wrong secret: refused, AADSTS code named (%s)", o.failtext);
	svc_intune_account_secret(si, ACCOUNT, SECRET);
	tap_ok(svc_intune_account_remove(si, 12345) == SCEP_E_NOTFOUND,
	    "remove unknown account");
}

static int
contains(const uint8_t *b, size_t len, const char *s)
{
	size_t i, n = strlen(s);

	for (i = 0; i + n <= len; i++)
		if (memcmp(b + i, s, n) == 0)
			return 1;
	return 0;
}

static void
test_secret_at_rest(void)
{
	uint8_t key[SVC_INTUNE_KEY_LEN], key2[SVC_INTUNE_KEY_LEN], *blob = NULL;
	char path[400], *out = NULL;
	struct stat sb;
	size_t blen = 0;
	int r;

	snprintf(path, sizeof(path), "%s/azure.key", su_dir);
	r = svc_intune_key_load(path, 1, key);
	tap_ok(r == SCEP_OK && stat(path, &sb) == 0 && (sb.st_mode & 0777) ==
	    0600 && sb.st_size == SVC_INTUNE_KEY_LEN,
	    "key file created, 32 bytes, mode 0600");
	tap_ok(svc_intune_key_load(path, 1, key2) == SCEP_OK &&
	    memcmp(key, key2, sizeof(key)) == 0,
	    "existing key loaded, not replaced");
	chmod(path, 0644);
	tap_ok(svc_intune_key_load(path, 0, key2) == SCEP_E_CONFIG,
	    "key readable by others: refused");
	chmod(path, 0600);
	tap_ok(svc_intune_secret_seal(key, "s3cret-value", &blob, &blen) ==
	    SCEP_OK && blen == SVC_INTUNE_SEAL_OVERHEAD + 12 &&
	    !contains(blob, blen, "s3cret"),
	    "sealed: nonce, MAC, ciphertext; no plaintext");
	tap_ok(svc_intune_secret_open(key, blob, blen, &out) == SCEP_OK &&
	    strcmp(out, "s3cret-value") == 0, "opened");
	svc_intune_secret_free(out);
	out = NULL;
	blob[blen - 1] ^= 1;
	tap_ok(svc_intune_secret_open(key, blob, blen, &out) == SCEP_E_BADSIG &&
	    out == NULL, "altered blob: refused");
	blob[blen - 1] ^= 1;
	memcpy(key2, key, sizeof(key));
	key2[0] = (uint8_t)(key[0] ^ 0xff);
	tap_ok(svc_intune_secret_open(key2, blob, blen, &out) ==
	    SCEP_E_BADSIG, "another key: refused");
	tap_ok(svc_intune_secret_open(key, blob, 10, &out) ==
	    SCEP_E_MALFORMED, "truncated: refused");
	free(blob);
	unlink(path);
}

int
main(int argc, char **argv)
{
	struct intune_account_cfg cfg;
	struct svc_intune_ep set;
	EVP_PKEY_CTX *kc = NULL;
	char why[256], dbpath[400];
	int logfd, saved;

	if (argc != 3) {
		fprintf(stderr, "usage: test_svc_intune python3 standin.py\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    su_start(argv[1], argv[2], SECRET) != 0) {
		printf("not ok 1 - stand-in did not start\n1..1\n");
		su_stop();
		return 1;
	}
	snprintf(su_logpath, sizeof(su_logpath), "%s/ours.log", su_dir);
	saved = dup(STDERR_FILENO);
	logfd = open(su_logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(logfd, STDERR_FILENO);
	close(logfd);

	if ((kc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_keygen_init(kc) <= 0 ||
	    EVP_PKEY_CTX_set_group_name(kc, "P-256") <= 0 ||
	    EVP_PKEY_keygen(kc, &su_key) <= 0) {
		printf("not ok 1 - key\n1..1\n");
		su_stop();
		return 1;
	}
	EVP_PKEY_CTX_free(kc);
	snprintf(dbpath, sizeof(dbpath), "%s/store.db", su_dir);
	if (store_open(dbpath, &st) != SCEP_OK)
		st = NULL;
	tap_ok(st != NULL, "store for audit records");
	tap_ok(svc_intune_new(NULL, st, &si) == SCEP_OK, "svc_intune_new");
	account_cfg(&cfg, SECRET);
	tap_ok(svc_intune_account_set(si, ACCOUNT, &cfg, why, sizeof(why)) ==
	    SCEP_OK, "account set (%s)", why);

	memset(&ep, 0, sizeof(ep));
	ep.id = EP_ID;
	ep.type = EP_DEVICE_INTUNE;
	ep.ca_id = 1;
	snprintf(ep.uri_ext, sizeof(ep.uri_ext), "intune");

	test_check();
	test_after();
	test_details();
	test_pool();
	test_op_async();
	test_revocation();
	test_sync();
	test_save();
	test_accounts();
	test_secret_at_rest();

	/* Endpoint removal, then free with nothing in flight. */
	tap_ok(svc_intune_endpoint_remove(si, EP_ID) == SCEP_OK &&
	    svc_intune_endpoint_get(si, EP_ID, &set) == SCEP_E_NOTFOUND,
	    "endpoint settings removed");
	svc_intune_free(si);
	store_close(st);

	{
		char *log = NULL;
		struct stat sb;
		int fd;

		fflush(stderr);
		if ((fd = open(su_logpath, O_RDONLY)) >= 0 &&
		    fstat(fd, &sb) == 0 &&
		    (log = calloc(1, (size_t)sb.st_size + 1)) != NULL)
			(void)!read(fd, log, (size_t)sb.st_size);
		if (fd >= 0)
			close(fd);
		tap_ok(log != NULL && strstr(log, SECRET) == NULL &&
		    strstr(log, "new-secret") == NULL &&
		    strstr(log, "standin.ey") == NULL,
		    "no secret and no token in our log");
		free(log);
	}
	dup2(saved, STDERR_FILENO);
	close(saved);
	su_show_log_tail();
	su_stop();
	su_remove_dir();
	EVP_PKEY_free(su_key);
	intune_global_cleanup();
	return tap_done();
}
