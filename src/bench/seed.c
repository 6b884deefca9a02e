/*
 * seed.c -- scepbench-seed: fill a fresh scepd SQLite store with N past
 * enrollments, for the big-store benchmark (tools/bench-bigstore.sh,
 * issue 7: "throughput with 1,000,000 certificates already in the store
 * within 10% of an empty store").
 *
 *   scepbench-seed DB N
 *
 * Each enrollment is what scepd itself writes: a requests row (ISSUED,
 * with a CSR and signer of realistic size), a certs row (random 128-bit
 * serial, subject CN=device-NNNNNNN, key fingerprint, validity spread
 * over the past year, a real certificate's DER as the body) and an audit
 * event that extends the hash chain (store_event_digest, so
 * `scepctl audit verify` still passes).  One transaction, prepared
 * statements, synchronous=OFF.  The endpoint, account and CA are the
 * first of the store; the account's enrollment counter is left alone (a
 * limit on it would otherwise be used up).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "store.h"
#include "store_int.h"	/* store_event_digest: the audit chain */

#define SEED_MAX	10000000L
#define RAND_CHUNK	4096		/* random bytes drawn at a time */

static sqlite3 *db;

static int
exec(const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "scepbench-seed: %s: %s\n", sql,
		    err ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static sqlite3_stmt *
prep(const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fprintf(stderr, "scepbench-seed: %s: %s\n", sql,
		    sqlite3_errmsg(db));
	return st;
}

static int64_t
first_id(const char *sql)
{
	sqlite3_stmt *st = prep(sql);
	int64_t id = 0;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

/* Random bytes, drawn in chunks (RAND_bytes per row is slow). */
static int
rnd(uint8_t *out, size_t n)
{
	static uint8_t buf[RAND_CHUNK];
	static size_t left;

	while (n > 0) {
		size_t k;

		if (left == 0) {
			if (RAND_bytes(buf, sizeof(buf)) != 1)
				return -1;
			left = sizeof(buf);
		}
		k = n < left ? n : left;
		memcpy(out, buf + sizeof(buf) - left, k);
		out += k;
		n -= k;
		left -= k;
	}
	return 0;
}

static int
step(sqlite3_stmt *st)
{
	int r = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r != SQLITE_DONE) {
		fprintf(stderr, "scepbench-seed: insert: %s\n",
		    sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	sqlite3_stmt *req = NULL, *cert = NULL, *ev = NULL, *last = NULL;
	struct store_event e;
	uint8_t prev[STORE_HASH_LEN], fp[32], ser[16];
	uint8_t csr[660], signer[760];
	const void *der = NULL;
	int der_len = 0;
	char *end = NULL, serial[33], transid[65], subject[64];
	int64_t ca, ep, acc, ev_id = 0, now = (int64_t)time(NULL), t;
	long n, i;
	int rc = 1;

	if (argc != 3 || (n = strtol(argv[2], &end, 10)) < 1 ||
	    *end != '\0' || n > SEED_MAX) {
		fprintf(stderr, "usage: scepbench-seed DB N (1..%ld)\n",
		    SEED_MAX);
		return 2;
	}
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "scepbench-seed: %s: %s\n", argv[1],
		    sqlite3_errmsg(db));
		return 1;
	}
	/* No journal while seeding (a WAL would write everything twice);
	 * scepd's WAL mode is put back at the end. */
	if (exec("PRAGMA journal_mode = OFF") != 0 ||
	    exec("PRAGMA synchronous = OFF") != 0 ||
	    exec("PRAGMA cache_size = -262144") != 0 ||
	    exec("BEGIN IMMEDIATE") != 0)
		goto out;
	ca = first_id("SELECT id FROM cas ORDER BY id LIMIT 1");
	ep = first_id("SELECT id FROM endpoints ORDER BY id LIMIT 1");
	acc = first_id("SELECT id FROM accounts ORDER BY id LIMIT 1");
	if (ca == 0 || ep == 0 || acc == 0) {
		fprintf(stderr, "scepbench-seed: no CA, endpoint or account: "
		    "run scepd init first\n");
		goto out;
	}
	/* The body of every certificate: the CA's own DER (realistic size). */
	if ((last = prep("SELECT cert_der FROM cas WHERE id = ?")) == NULL)
		goto out;
	sqlite3_bind_int64(last, 1, ca);
	if (sqlite3_step(last) != SQLITE_ROW ||
	    (der_len = sqlite3_column_bytes(last, 0)) <= 0 ||
	    (der = malloc((size_t)der_len)) == NULL)
		goto out;
	memcpy((void *)der, sqlite3_column_blob(last, 0), (size_t)der_len);
	sqlite3_finalize(last);
	/* The chain goes on from the last event scepd init wrote. */
	memset(prev, 0, sizeof(prev));
	if ((last = prep("SELECT id, hash FROM events ORDER BY id DESC "
	    "LIMIT 1")) == NULL)
		goto out;
	if (sqlite3_step(last) == SQLITE_ROW) {
		ev_id = sqlite3_column_int64(last, 0);
		if (sqlite3_column_bytes(last, 1) != STORE_HASH_LEN)
			goto out;
		memcpy(prev, sqlite3_column_blob(last, 1), STORE_HASH_LEN);
	}
	sqlite3_finalize(last);
	last = NULL;
	if ((req = prep("INSERT INTO requests (endpoint_id, account_id, "
	    "transid, key_fp, msgtype, status, serial, reason, csr_der, "
	    "signer_der, created_at, updated_at) "
	    "VALUES (?, ?, ?, ?, 19, 2, ?, '', ?, ?, ?, ?)")) == NULL ||
	    (cert = prep("INSERT INTO certs (serial, ca_id, endpoint_id, "
	    "account_id, request_id, subject, key_fp, not_before, not_after, "
	    "status, der, created_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)")) == NULL ||
	    (ev = prep("INSERT INTO events (id, ts, kind, actor, action, "
	    "endpoint_id, account_id, transid, client_addr, result, "
	    "failinfo, reason, serial, details, prev_hash, hash) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) ==
	    NULL)
		goto out;
	if (rnd(csr, sizeof(csr)) != 0 || rnd(signer, sizeof(signer)) != 0)
		goto out;

	for (i = 0; i < n; i++) {
		int64_t rid;

		/* Spread over the past year, oldest first. */
		t = now - 365 * 86400 + (int64_t)((double)i / (double)n *
		    365 * 86400);
		if (rnd(fp, sizeof(fp)) != 0 || rnd(ser, sizeof(ser)) != 0)
			goto out;
		ser[0] &= 0x7f;		/* positive, as scepd draws them */
		ser[0] |= 0x10;		/* and no leading zero */
		(void)OPENSSL_buf2hexstr_ex(serial, sizeof(serial), NULL, ser,
		    sizeof(ser), '\0');
		(void)OPENSSL_buf2hexstr_ex(transid, sizeof(transid), NULL, fp,
		    sizeof(fp), '\0');
		snprintf(subject, sizeof(subject), "CN=device-%07ld", i + 1);

		sqlite3_bind_int64(req, 1, ep);
		sqlite3_bind_int64(req, 2, acc);
		sqlite3_bind_text(req, 3, transid, -1, SQLITE_STATIC);
		sqlite3_bind_blob(req, 4, fp, sizeof(fp), SQLITE_STATIC);
		sqlite3_bind_text(req, 5, serial, -1, SQLITE_STATIC);
		sqlite3_bind_blob(req, 6, csr, sizeof(csr), SQLITE_STATIC);
		sqlite3_bind_blob(req, 7, signer, sizeof(signer),
		    SQLITE_STATIC);
		sqlite3_bind_int64(req, 8, t);
		sqlite3_bind_int64(req, 9, t);
		if (step(req) != 0)
			goto out;
		rid = sqlite3_last_insert_rowid(db);

		sqlite3_bind_text(cert, 1, serial, -1, SQLITE_STATIC);
		sqlite3_bind_int64(cert, 2, ca);
		sqlite3_bind_int64(cert, 3, ep);
		sqlite3_bind_int64(cert, 4, acc);
		sqlite3_bind_int64(cert, 5, rid);
		sqlite3_bind_text(cert, 6, subject, -1, SQLITE_STATIC);
		sqlite3_bind_blob(cert, 7, fp, sizeof(fp), SQLITE_STATIC);
		sqlite3_bind_int64(cert, 8, t - 3600);
		sqlite3_bind_int64(cert, 9, t + 365 * 86400);
		sqlite3_bind_blob(cert, 10, der, der_len, SQLITE_STATIC);
		sqlite3_bind_int64(cert, 11, t);
		if (step(cert) != 0)
			goto out;

		memset(&e, 0, sizeof(e));
		e.id = ++ev_id;
		e.ts = t;
		snprintf(e.kind, sizeof(e.kind), "enroll");
		snprintf(e.client_addr, sizeof(e.client_addr), "10.%ld.%ld.%ld",
		    (i >> 16) & 255, (i >> 8) & 255, i & 255);
		snprintf(e.actor, sizeof(e.actor), "%s", e.client_addr);
		snprintf(e.action, sizeof(e.action), "PKCSReq");
		e.endpoint_id = ep;
		e.account_id = acc;
		snprintf(e.transid, sizeof(e.transid), "%s", transid);
		snprintf(e.result, sizeof(e.result), "SUCCESS");
		e.failinfo = -1;
		snprintf(e.serial, sizeof(e.serial), "%s", serial);
		snprintf(e.details, sizeof(e.details), "{\"request_id\":"
		    "\"seed%016" PRId64 "\",\"org_id\":0,\"dept_id\":0}", rid);
		if (store_event_digest(prev, &e, e.hash) != 0)
			goto out;
		sqlite3_bind_int64(ev, 1, e.id);
		sqlite3_bind_int64(ev, 2, e.ts);
		sqlite3_bind_text(ev, 3, e.kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(ev, 4, e.actor, -1, SQLITE_STATIC);
		sqlite3_bind_text(ev, 5, e.action, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ev, 6, e.endpoint_id);
		sqlite3_bind_int64(ev, 7, e.account_id);
		sqlite3_bind_text(ev, 8, e.transid, -1, SQLITE_STATIC);
		sqlite3_bind_text(ev, 9, e.client_addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(ev, 10, e.result, -1, SQLITE_STATIC);
		sqlite3_bind_int(ev, 11, e.failinfo);
		sqlite3_bind_text(ev, 12, e.reason, -1, SQLITE_STATIC);
		sqlite3_bind_text(ev, 13, e.serial, -1, SQLITE_STATIC);
		sqlite3_bind_text(ev, 14, e.details, -1, SQLITE_STATIC);
		sqlite3_bind_blob(ev, 15, prev, STORE_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(ev, 16, e.hash, STORE_HASH_LEN,
		    SQLITE_STATIC);
		if (step(ev) != 0)
			goto out;
		memcpy(prev, e.hash, STORE_HASH_LEN);
	}
	/* No ANALYZE: a store grown by scepd has no statistics either, so
	 * the planner sees what it sees in production. */
	if (exec("COMMIT") != 0 || exec("PRAGMA journal_mode = WAL") != 0)
		goto out;
	printf("seeded %ld enrollments (requests, certs, events) into %s\n",
	    n, argv[1]);
	rc = 0;
 out:
	sqlite3_finalize(last);
	sqlite3_finalize(req);
	sqlite3_finalize(cert);
	sqlite3_finalize(ev);
	free((void *)der);
	if (rc != 0)
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}
