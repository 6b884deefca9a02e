/*
 * test_pg_nodes.c -- several scepd nodes on one PostgreSQL, seen from the
 * store (issue 6).  Each "node" is a store_open() of its own: its own
 * connection pool, sharing nothing with the other but the database, as
 * two scepd processes do.  Run by tests/pg/with-cluster.sh, which starts
 * a throwaway cluster and gives an empty database in STORE_TEST_DSN (and
 * PGCLUSTER, PG_CLUSTER_TOOL to stop and start the server).
 *
 * What must hold across nodes, each checked under a race (threads on
 * both nodes released by one barrier), many rounds each:
 *  - migrations applied exactly once when nodes open a new database at
 *    the same moment;
 *  - serial numbers unique; one certificate per request; the same PKCSReq
 *    recorded by one node only; a one-time challenge consumed once; an
 *    account's enrollment limit never exceeded;
 *  - one audit chain, never forked, whoever appends;
 *  - console sessions shared;
 *  - when the server goes away, calls fail quickly (never hang) and the
 *    nodes recover by themselves when it comes back; when it turns
 *    read-only (a demoted primary), its connections are replaced; when
 *    it freezes
 *    (SIGSTOP: the TCP connections stay up, nothing answers), calls give
 *    up at the client-side deadline and recover after the thaw.
 */
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "scep_err.h"
#include "store.h"
#include "tap.h"

#define ROUNDS		20
#define CHAIN_THREADS	4	/* per node */
#define CHAIN_APPENDS	100	/* per thread */

static const char *dsn;
static const uint8_t certder[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
static const uint8_t signer1[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
static const uint8_t signer2[] = { 0x30, 0x03, 0x02, 0x01, 0x02 };

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Raw SQL behind the stores' backs (test code: constant SQL). */
static int64_t
raw_int(const char *sql)
{
	PGconn *c = NULL;
	PGresult *res = NULL;
	int64_t v = -1;

	if ((c = PQconnectdb(dsn)) != NULL && PQstatus(c) == CONNECTION_OK &&
	    (res = PQexec(c, sql)) != NULL &&
	    PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 &&
	    !PQgetisnull(res, 0, 0))
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	PQfinish(c);
	return v;
}

static int
raw_exec(const char *sql)
{
	PGconn *c = NULL;
	PGresult *res = NULL;
	int ok = 0;

	if ((c = PQconnectdb(dsn)) != NULL && PQstatus(c) == CONNECTION_OK &&
	    (res = PQexec(c, sql)) != NULL)
		ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
		    PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	PQfinish(c);
	return ok ? 0 : -1;
}

/* The cluster's server: pg-cluster.sh kill (immediate) or start. */
static int
server(const char *what)
{
	const char *tool = getenv("PG_CLUSTER_TOOL");
	const char *dir = getenv("PGCLUSTER");
	char cmd[PATH_MAX * 2 + 64];

	if (tool == NULL || dir == NULL || strchr(tool, '\'') != NULL ||
	    strchr(dir, '\'') != NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "'%s' %s '%s' > /dev/null", tool, what,
	    dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
fill_hash(uint8_t h[STORE_HASH_LEN], int seed)
{
	int i;

	for (i = 0; i < STORE_HASH_LEN; i++)
		h[i] = (uint8_t)(seed * 37 + i + 1);
}

static void
req_init(struct store_request *r, int64_t ep, int64_t acc,
    const char *transid, const uint8_t *signer, size_t signer_len)
{
	memset(r, 0, sizeof(*r));
	r->endpoint_id = ep;
	r->account_id = acc;
	snprintf(r->transid, sizeof(r->transid), "%s", transid);
	fill_hash(r->key_fp, 5);
	r->msgtype = 19;
	r->status = REQ_PENDING;
	r->csr_der = (uint8_t *)certder;
	r->csr_len = sizeof(certder);
	r->signer_der = (uint8_t *)signer;
	r->signer_len = signer_len;
	r->created_at = r->updated_at = 1000;
}

static void
cert_init(struct store_cert *c, const char *serial, int64_t ca, int64_t ep,
    int64_t acc)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->serial, sizeof(c->serial), "%s", serial);
	c->ca_id = ca;
	c->endpoint_id = ep;
	c->account_id = acc;
	snprintf(c->subject, sizeof(c->subject), "CN=%s", serial);
	fill_hash(c->key_fp, 5);
	c->not_before = 1000;
	c->not_after = 2000;
	c->status = CERT_VALID;
	c->der = (uint8_t *)certder;
	c->der_len = sizeof(certder);
}

/*
 * A race: "n" threads, released together by a barrier, each running
 * job(arg[i]).
 */
struct racer {
	pthread_barrier_t	*bar;
	void			(*job)(void *);
	void			*arg;
};

static void *
racer_main(void *p)
{
	struct racer *r = p;

	pthread_barrier_wait(r->bar);
	r->job(r->arg);
	return NULL;
}

static int
race(size_t n, void (*job)(void *), void *args, size_t argsz)
{
	pthread_barrier_t bar;
	pthread_t t[32];
	struct racer rc[32];
	size_t i;

	if (n > 32 || pthread_barrier_init(&bar, NULL, (unsigned)n) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		rc[i].bar = &bar;
		rc[i].job = job;
		rc[i].arg = (char *)args + i * argsz;
		if (pthread_create(&t[i], NULL, racer_main, &rc[i]) != 0) {
			/* The barrier would never open: run the rest here,
			 * one after the other (no race, the checks fail). */
			printf("# pthread_create failed\n");
			for (; i < n; i++)
				job((char *)args + i * argsz);
			return -1;
		}
	}
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&bar);
	return 0;
}

/* ---- first open by several nodes at once ---- */

struct opener {
	struct store	*s;
	int		 r;
	int64_t		 version;
};

static void
open_job(void *p)
{
	struct opener *o = p;

	if ((o->r = store_open(dsn, &o->s)) == SCEP_OK)
		o->r = store_schema_version(o->s, &o->version);
}

static void
test_first_open(void)
{
	struct opener o[6];
	size_t i;
	int ok = 1;
	int64_t v;

	memset(o, 0, sizeof(o));
	race(6, open_job, o, sizeof(o[0]));
	v = o[0].version;
	for (i = 0; i < 6; i++) {
		if (o[i].r != SCEP_OK || o[i].version != v || v < 2)
			ok = 0;
		store_close(o[i].s);
	}
	tap_ok(ok, "6 nodes open a new database at once: all at schema %lld",
	    (long long)v);
	tap_ok(raw_int("SELECT count(*) FROM schema_migrations") == v &&
	    raw_int("SELECT count(DISTINCT version) FROM schema_migrations")
	    == v, "each migration applied exactly once");
	tap_ok(raw_int("SELECT count(*) FROM settings "
	    "WHERE key = 'config_version'") == 1,
	    "0001's one-row insert ran once");
}

/* ---- serials and issuance ---- */

struct issuer {
	struct store		*s;
	struct store_cert	 c;
	int64_t			 rq;
	int			 r;
};

static void
issue_job(void *p)
{
	struct issuer *is = p;

	is->r = store_cert_issue(is->s, &is->c, is->rq, REQ_PENDING, 3000);
}

static void
test_issue(struct store *a, struct store *b, int64_t ca, int64_t ep,
    int64_t acc)
{
	struct store_request rq;
	struct store_cert c;
	struct issuer is[2];
	char tx[64], serial[32];
	int64_t r1, r2;
	int i, ok = 0;

	req_init(&rq, ep, acc, "serial-1", signer1, sizeof(signer1));
	tap_ok(store_request_insert(a, &rq) == SCEP_OK, "request on node A");
	r1 = rq.id;
	req_init(&rq, ep, acc, "serial-2", signer1, sizeof(signer1));
	tap_ok(store_request_insert(b, &rq) == SCEP_OK, "request on node B");
	r2 = rq.id;
	cert_init(&c, "ABC1", ca, ep, acc);
	tap_ok(store_cert_issue(a, &c, r1, REQ_PENDING, 2000) == SCEP_OK,
	    "node A issues serial ABC1");
	cert_init(&c, "ABC1", ca, ep, acc);
	tap_ok(store_cert_issue(b, &c, r2, REQ_PENDING, 2000) ==
	    SCEP_E_EXISTS, "node B cannot issue ABC1 again (unique serial)");
	tap_ok(store_request_get(a, r2, &rq) == SCEP_OK &&
	    rq.status == REQ_PENDING, "... and B's request stays pending");
	store_request_clear(&rq);
	cert_init(&c, "ABC2", ca, ep, acc);
	tap_ok(store_cert_issue(b, &c, r2, REQ_PENDING, 2000) == SCEP_OK,
	    "node B draws a new serial and succeeds");

	for (i = 0; i < ROUNDS; i++) {
		snprintf(tx, sizeof(tx), "issue-race-%d", i);
		req_init(&rq, ep, acc, tx, signer1, sizeof(signer1));
		if (store_request_insert(i % 2 ? a : b, &rq) != SCEP_OK)
			continue;
		is[0].s = a;
		is[1].s = b;
		is[0].rq = is[1].rq = rq.id;
		snprintf(serial, sizeof(serial), "%X", 0xB000 + 2 * i);
		cert_init(&is[0].c, serial, ca, ep, acc);
		snprintf(serial, sizeof(serial), "%X", 0xB000 + 2 * i + 1);
		cert_init(&is[1].c, serial, ca, ep, acc);
		race(2, issue_job, is, sizeof(is[0]));
		if ((is[0].r == SCEP_OK && is[1].r == SCEP_E_EXISTS) ||
		    (is[1].r == SCEP_OK && is[0].r == SCEP_E_EXISTS))
			ok++;
	}
	tap_ok(ok == ROUNDS, "one request issued by both nodes at once: one "
	    "certificate, the other SCEP_E_EXISTS (%d/%d)", ok, ROUNDS);
	tap_ok(raw_int("SELECT count(*) FROM certs c JOIN requests r "
	    "ON r.id = c.request_id WHERE r.transid LIKE 'issue-race-%'") ==
	    ROUNDS, "exactly %d certificates for %d requests", ROUNDS, ROUNDS);
	tap_ok(raw_int("SELECT count(*) - count(DISTINCT serial) FROM certs")
	    == 0, "no duplicate serial");
}

/* ---- the same PKCSReq reaching both nodes ---- */

struct recorder {
	struct store		*s;
	struct store_request	 rq;
	int			 r;
};

static void
record_job(void *p)
{
	struct recorder *rc = p;

	rc->r = store_request_insert(rc->s, &rc->rq);
}

static void
test_same_request(struct store *a, struct store *b, int64_t ep,
    int64_t acc)
{
	struct recorder rc[2];
	struct store_request rq;
	char tx[64];
	int i, ok = 0;
	int64_t win = 0;

	for (i = 0; i < ROUNDS; i++) {
		snprintf(tx, sizeof(tx), "same-msg-%d", i);
		rc[0].s = a;
		rc[1].s = b;
		req_init(&rc[0].rq, ep, acc, tx, signer1, sizeof(signer1));
		req_init(&rc[1].rq, ep, acc, tx, signer1, sizeof(signer1));
		race(2, record_job, rc, sizeof(rc[0]));
		if (rc[0].r == SCEP_OK && rc[1].r == SCEP_E_EXISTS)
			win = rc[0].rq.id;
		else if (rc[1].r == SCEP_OK && rc[0].r == SCEP_E_EXISTS)
			win = rc[1].rq.id;
		else
			continue;
		ok++;
	}
	tap_ok(ok == ROUNDS, "the same PKCSReq at both nodes at once: "
	    "recorded once (%d/%d)", ok, ROUNDS);
	tap_ok(raw_int("SELECT count(*) FROM requests "
	    "WHERE transid LIKE 'same-msg-%'") == ROUNDS,
	    "one request row per transaction");

	/* Not a live duplicate: the same key under another signer (a new
	 * transaction of the same client), and a retry after rejection. */
	req_init(&rq, ep, acc, tx, signer2, sizeof(signer2));
	tap_ok(store_request_insert(b, &rq) == SCEP_OK,
	    "same transactionID and key, new signer: a new transaction");
	tap_ok(store_request_transition(a, win, REQ_PENDING, REQ_REJECTED,
	    NULL, "no", 3000) == SCEP_OK, "reject the recorded one");
	req_init(&rq, ep, acc, tx, signer1, sizeof(signer1));
	tap_ok(store_request_insert(a, &rq) == SCEP_OK,
	    "after a rejection the same message may come back");
}

/* ---- one-time challenges ---- */

struct consumer {
	struct store	*s;
	int64_t		 id;
	int		 r;
};

static void
consume_job(void *p)
{
	struct consumer *cs = p;

	cs->r = store_otc_consume(cs->s, cs->id, 3000);
}

static void
test_otc(struct store *a, struct store *b, int64_t acc)
{
	struct consumer cs[2];
	struct store_otc o;
	uint8_t h[STORE_HASH_LEN];
	int i, ok = 0;

	for (i = 0; i < ROUNDS; i++) {
		memset(&o, 0, sizeof(o));
		o.account_id = acc;
		o.created_at = 2000;
		o.expires_at = 9000;
		fill_hash(h, 100 + i);
		if (store_otc_insert(i % 2 ? a : b, &o, h) != SCEP_OK)
			continue;
		cs[0].s = a;
		cs[1].s = b;
		cs[0].id = cs[1].id = o.id;
		race(2, consume_job, cs, sizeof(cs[0]));
		if ((cs[0].r == SCEP_OK && cs[1].r == SCEP_E_NOTFOUND) ||
		    (cs[1].r == SCEP_OK && cs[0].r == SCEP_E_NOTFOUND))
			ok++;
	}
	tap_ok(ok == ROUNDS, "one-time challenge consumed by both nodes at "
	    "once: used once (%d/%d)", ok, ROUNDS);
	tap_ok(store_otc_find(b, h, 3001, &o) == SCEP_E_NOTFOUND,
	    "a used challenge is not found again");
	memset(&o, 0, sizeof(o));
	o.account_id = acc;
	o.created_at = 2000;
	o.expires_at = 2500;
	fill_hash(h, 99);
	tap_ok(store_otc_insert(a, &o, h) == SCEP_OK &&
	    store_otc_consume(b, o.id, 3000) == SCEP_E_NOTFOUND,
	    "an expired challenge cannot be used");
}

/* ---- the account's enrollment limit ---- */

static void
test_limit(struct store *a, struct store *b, int64_t ca, int64_t ep)
{
	struct store_account acct;
	struct store_request rq;
	struct issuer is[16];
	char tx[64], serial[32];
	int i, nok = 0, ndenied = 0;

	memset(&acct, 0, sizeof(acct));
	acct.endpoint_id = ep;
	snprintf(acct.name, sizeof(acct.name), "limited");
	acct.enabled = 1;
	acct.max_enrollments = 5;
	acct.created_at = 1000;
	tap_ok(store_account_insert(b, &acct) == SCEP_OK,
	    "account with max_enrollments 5");
	for (i = 0; i < 16; i++) {
		snprintf(tx, sizeof(tx), "limit-%d", i);
		req_init(&rq, ep, acct.id, tx, signer1, sizeof(signer1));
		is[i].rq = store_request_insert(a, &rq) == SCEP_OK ? rq.id : 0;
		is[i].s = i % 2 ? a : b;
		snprintf(serial, sizeof(serial), "%X", 0xC000 + i);
		cert_init(&is[i].c, serial, ca, ep, acct.id);
	}
	race(16, issue_job, is, sizeof(is[0]));
	for (i = 0; i < 16; i++) {
		if (is[i].r == SCEP_OK)
			nok++;
		else if (is[i].r == SCEP_E_DENIED)
			ndenied++;
	}
	tap_ok(nok == 5 && ndenied == 11, "16 issuances on two nodes against "
	    "a limit of 5: %d issued, %d denied", nok, ndenied);
	tap_ok(store_account_get(a, acct.id, &acct) == SCEP_OK &&
	    acct.enrollments == 5, "the count stops at the limit (%lld)",
	    (long long)acct.enrollments);
}

/* ---- the audit chain ---- */

struct appender {
	struct store	*s;
	int		 n;
	int		 errors;
};

static void
append_job(void *p)
{
	struct appender *ap = p;
	struct store_event *e = NULL;
	int i;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		ap->errors = CHAIN_APPENDS;
		return;
	}
	for (i = 0; i < CHAIN_APPENDS; i++) {
		memset(e, 0, sizeof(*e));
		e->ts = 5000 + i;
		snprintf(e->kind, sizeof(e->kind), "enroll");
		snprintf(e->action, sizeof(e->action), "PKCSReq");
		snprintf(e->transid, sizeof(e->transid), "chain-%d-%d", ap->n,
		    i);
		snprintf(e->result, sizeof(e->result), "SUCCESS");
		e->failinfo = -1;
		if (store_event_append(ap->s, e) != SCEP_OK)
			ap->errors++;
	}
	free(e);
}

static void
test_chain(struct store *a, struct store *b)
{
	struct appender ap[2 * CHAIN_THREADS];
	int64_t before, bad = -1;
	int i, errors = 0;

	before = raw_int("SELECT count(*) FROM events");
	for (i = 0; i < 2 * CHAIN_THREADS; i++) {
		ap[i].s = i % 2 ? a : b;
		ap[i].n = i;
		ap[i].errors = 0;
	}
	race(2 * CHAIN_THREADS, append_job, ap, sizeof(ap[0]));
	for (i = 0; i < 2 * CHAIN_THREADS; i++)
		errors += ap[i].errors;
	tap_ok(errors == 0, "%d threads on two nodes append %d events each: "
	    "%d errors", 2 * CHAIN_THREADS, CHAIN_APPENDS, errors);
	tap_ok(raw_int("SELECT count(*) FROM events") ==
	    before + 2 * CHAIN_THREADS * CHAIN_APPENDS, "every event stored");
	tap_ok(store_event_verify(a, &bad) == SCEP_OK &&
	    store_event_verify(b, &bad) == SCEP_OK,
	    "one chain, verified from both nodes (bad %lld)", (long long)bad);
	tap_ok(raw_int("SELECT count(*) FROM events e WHERE e.id > 1 AND "
	    "NOT EXISTS (SELECT 1 FROM events p WHERE p.id = e.id - 1)") ==
	    0 && raw_int("SELECT count(*) FROM events e WHERE NOT EXISTS "
	    "(SELECT 1 FROM events p WHERE p.hash = e.prev_hash) AND "
	    "e.id > 1") == 0 && raw_int("SELECT count(*) - "
	    "count(DISTINCT prev_hash) FROM events") == 0,
	    "ids without gaps, no fork (each hash has one successor)");
}

/* ---- console sessions ---- */

static void
test_sessions(struct store *a, struct store *b)
{
	struct store_admin ad;
	struct store_session s, got;

	memset(&ad, 0, sizeof(ad));
	snprintf(ad.name, sizeof(ad.name), "ops");
	ad.role = STORE_ROLE_MRAO;
	ad.cert_types = STORE_CT_ALL;
	ad.created_at = 1000;
	tap_ok(store_admin_insert(a, &ad, NULL, 0) == SCEP_OK,
	    "administrator on node A");
	memset(&s, 0, sizeof(s));
	s.admin_id = ad.id;
	fill_hash(s.sid_hash, 200);
	fill_hash(s.csrf_hash, 201);
	snprintf(s.client_addr, sizeof(s.client_addr), "192.0.2.7");
	s.created_at = 1000;
	s.expires_at = 9000;
	tap_ok(store_session_insert(a, &s) == SCEP_OK,
	    "console session opened on node A");
	tap_ok(store_session_get(b, s.sid_hash, &got) == SCEP_OK &&
	    got.admin_id == ad.id && memcmp(got.csrf_hash, s.csrf_hash,
	    STORE_HASH_LEN) == 0 && strcmp(got.client_addr, "192.0.2.7") == 0,
	    "... is valid on node B");
	tap_ok(store_session_delete(b, s.sid_hash) == SCEP_OK &&
	    store_session_get(a, s.sid_hash, &got) == SCEP_E_NOTFOUND,
	    "logout on node B ends it on node A");
}

/* ---- the server goes away and comes back ---- */

struct looper {
	struct store	*s;
	volatile int	*stop;
	int		 calls, errors;
	double		 slowest;
};

static void *
loop_main(void *p)
{
	struct looper *l = p;
	int64_t v;
	double t0, dt;

	while (!*l->stop) {
		t0 = now_s();
		if (store_config_version(l->s, &v) != SCEP_OK)
			l->errors++;
		dt = now_s() - t0;
		if (dt > l->slowest)
			l->slowest = dt;
		l->calls++;
		usleep(20000);
	}
	return NULL;
}

static void
test_outage(struct store *a, struct store *b, int64_t ca, int64_t ep,
    int64_t acc)
{
	struct looper lp[4];
	pthread_t t[4];
	volatile int stop = 0;
	struct store_request rq;
	struct store_cert c;
	int64_t v = 0, bad = -1;
	double t0, worst = 0, back = -1;
	int i, r, fast = 1, busy = 1, errs = 0;

	for (i = 0; i < 4; i++) {
		memset(&lp[i], 0, sizeof(lp[i]));
		lp[i].s = i % 2 ? a : b;
		lp[i].stop = &stop;
		pthread_create(&t[i], NULL, loop_main, &lp[i]);
	}
	usleep(300000);
	tap_ok(server("kill") == 0, "PostgreSQL killed (immediate shutdown) "
	    "while both nodes are busy");
	for (i = 0; i < 10; i++) {
		t0 = now_s();
		r = store_config_version(i % 2 ? a : b, &v);
		if (now_s() - t0 > 3)
			fast = 0;
		if (r != SCEP_E_BUSY && r != SCEP_E_STORE)
			busy = 0;
		usleep(100000);
	}
	tap_ok(busy, "while it is down calls fail (SCEP_E_BUSY)");
	tap_ok(fast, "... each within 3 s");
	req_init(&rq, ep, acc, "outage-1", signer1, sizeof(signer1));
	r = store_request_insert(a, &rq);
	tap_ok(r == SCEP_E_BUSY || r == SCEP_E_STORE,
	    "a write during the outage fails (%d)", r);
	usleep(500000);
	tap_ok(server("start") == 0, "PostgreSQL started again");
	t0 = now_s();
	while (now_s() - t0 < 20) {
		if (store_config_version(a, &v) == SCEP_OK &&
		    store_config_version(b, &v) == SCEP_OK) {
			back = now_s() - t0;
			break;
		}
		usleep(100000);
	}
	tap_ok(back >= 0, "both nodes recover by themselves (%.1f s after "
	    "the restart)", back);
	usleep(300000);
	stop = 1;
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		if (lp[i].slowest > worst)
			worst = lp[i].slowest;
		errs += lp[i].errors;
	}
	tap_ok(worst < 16, "no call hung across kill and restart (slowest "
	    "%.2f s, %d failed)", worst, errs);
	tap_ok(errs > 0, "the busy threads did see the outage");

	req_init(&rq, ep, acc, "outage-2", signer1, sizeof(signer1));
	cert_init(&c, "DEAD01", ca, ep, acc);
	tap_ok(store_request_insert(b, &rq) == SCEP_OK &&
	    store_cert_issue(a, &c, rq.id, REQ_PENDING, 4000) == SCEP_OK,
	    "after recovery: record on node B, issue on node A");
	tap_ok(store_event_verify(b, &bad) == SCEP_OK,
	    "the audit chain survived the crash");
}

/* ---- the server becomes read-only (as a demoted primary does) ---- */

static void
test_read_only(struct store *a)
{
	char sql[256];
	const char *db = strrchr(dsn, '/');
	int r = 0, i, tries = 0;

	/* Sessions opened from now on are read-only; end the current ones
	 * so that the pool's next connections are. */
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s SET "
	    "default_transaction_read_only = on", db != NULL ? db + 1 : "x");
	tap_ok(raw_exec(sql) == 0 && raw_exec("SELECT pg_terminate_backend"
	    "(pid) FROM pg_stat_activity WHERE datname = current_database() "
	    "AND pid <> pg_backend_pid()") == 0,
	    "the database turns read-only, sessions end");
	for (i = 0; i < 3; i++)
		if ((r = store_setting_set(a, "ro-probe", "1")) == SCEP_OK)
			break;
	tap_ok(r == SCEP_E_BUSY, "writes fail with SCEP_E_BUSY (%d)", r);
	snprintf(sql, sizeof(sql), "BEGIN READ WRITE; ALTER DATABASE %s "
	    "RESET default_transaction_read_only; COMMIT",
	    db != NULL ? db + 1 : "x");
	tap_ok(raw_exec(sql) == 0, "the database is writable again");
	for (i = 0; i < 3; i++) {
		tries++;
		if ((r = store_setting_set(a, "ro-probe", "2")) == SCEP_OK)
			break;
	}
	tap_ok(r == SCEP_OK, "the read-only connections were replaced: the "
	    "write succeeds (attempt %d)", tries);
}

/* ---- the server freezes (SIGSTOP) and thaws ---- */

/*
 * Send "sig" to the postmaster of the test cluster and to its children
 * (found through /proc by parent pid): processes this test's cluster
 * started, named by pid only.  Returns how many were signalled.
 */
static int
signal_cluster(int sig)
{
	const char *dir = getenv("PGCLUSTER");
	char path[PATH_MAX], line[512];
	FILE *f = NULL;
	DIR *d = NULL;
	struct dirent *e = NULL;
	long pm = 0, pid, ppid;
	int n = 0, k;

	if (dir == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/data/postmaster.pid", dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(line, sizeof(line), f) != NULL)
		pm = strtol(line, NULL, 10);
	fclose(f);
	if (pm <= 1)
		return 0;
	/* Children first, so that the postmaster does not see them stop
	 * (or continue) before itself. */
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < 256) {
		if ((pid = strtol(e->d_name, NULL, 10)) <= 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		ppid = 0;
		if (fgets(line, sizeof(line), f) != NULL) {
			char *rp = strrchr(line, ')');

			/* "pid (comm) state ppid ..." */
			if (rp != NULL)
				ppid = strtol(rp + 4, NULL, 10);
		}
		fclose(f);
		if (ppid == pm) {
			k = kill((pid_t)pid, sig);
			n += k == 0;
		}
	}
	closedir(d);
	n += kill((pid_t)pm, sig) == 0;
	return n;
}

static void
test_freeze(struct store *a, struct store *b)
{
	int64_t v = 0;
	double t0, dt1, dt2, back = -1;
	int r1, r2;

	/* Both nodes have idle connections to the server. */
	(void)store_config_version(a, &v);
	(void)store_config_version(b, &v);
	tap_ok(signal_cluster(SIGSTOP) > 1, "PostgreSQL frozen (SIGSTOP to "
	    "the postmaster and its backends)");
	t0 = now_s();
	r1 = store_config_version(a, &v);
	dt1 = now_s() - t0;
	t0 = now_s();
	r2 = store_config_version(a, &v);
	dt2 = now_s() - t0;
	tap_ok(r1 == SCEP_E_BUSY && dt1 < 17, "a call on an idle connection "
	    "to the frozen server gives up at the client deadline (%.1f s)",
	    dt1);
	tap_ok(r2 == SCEP_E_BUSY && dt2 < 5, "the next call fails within "
	    "the connect timeout (%.1f s)", dt2);
	tap_ok(signal_cluster(SIGCONT) > 1, "PostgreSQL thawed");
	t0 = now_s();
	while (now_s() - t0 < 20) {
		if (store_config_version(a, &v) == SCEP_OK &&
		    store_config_version(b, &v) == SCEP_OK) {
			back = now_s() - t0;
			break;
		}
		usleep(100000);
	}
	tap_ok(back >= 0, "both nodes work again (%.1f s after the thaw)",
	    back);
}

int
main(void)
{
	struct store *a = NULL, *b = NULL;
	struct store_ca ca;
	struct store_endpoint ep, got;
	struct store_account acct;

	if ((dsn = getenv("STORE_TEST_DSN")) == NULL ||
	    strncmp(dsn, "postgresql://", 13) != 0) {
		printf("Bail out! STORE_TEST_DSN must name an empty "
		    "PostgreSQL database (run through with-cluster.sh)\n");
		return 1;
	}
	test_first_open();
	if (store_open(dsn, &a) != SCEP_OK || store_open(dsn, &b) != SCEP_OK) {
		printf("Bail out! cannot open the two nodes\n");
		return 1;
	}

	memset(&ca, 0, sizeof(ca));
	snprintf(ca.name, sizeof(ca.name), "CA");
	snprintf(ca.key_path, sizeof(ca.key_path), "/k");
	ca.cert_der = (uint8_t *)certder;
	ca.cert_len = sizeof(certder);
	ca.created_at = 1000;
	tap_ok(store_ca_insert(a, &ca) == SCEP_OK, "CA on node A");
	memset(&ep, 0, sizeof(ep));
	snprintf(ep.name, sizeof(ep.name), "device");
	snprintf(ep.uri_ext, sizeof(ep.uri_ext), "device");
	ep.type = EP_DEVICE_SCEP;
	ep.ca_id = ca.id;
	ep.enabled = 1;
	ep.created_at = 1000;
	tap_ok(store_endpoint_insert(a, &ep) == SCEP_OK,
	    "endpoint on node A");
	tap_ok(store_endpoint_by_ext(b, "device", &got) == SCEP_OK &&
	    got.id == ep.id, "node B sees it at once");
	memset(&acct, 0, sizeof(acct));
	acct.endpoint_id = ep.id;
	snprintf(acct.name, sizeof(acct.name), "default");
	acct.enabled = 1;
	acct.created_at = 1000;
	tap_ok(store_account_insert(b, &acct) == SCEP_OK,
	    "account on node B");

	test_issue(a, b, ca.id, ep.id, acct.id);
	test_same_request(a, b, ep.id, acct.id);
	test_otc(a, b, acct.id);
	test_limit(a, b, ca.id, ep.id);
	test_chain(a, b);
	test_sessions(a, b);
	test_outage(a, b, ca.id, ep.id, acct.id);
	test_read_only(a);
	test_freeze(a, b);

	store_close(a);
	store_close(b);
	return tap_done();
}
