/*
 * test_store.c -- the store suite (STYLE H10, H12): every function of
 * store.h against a temporary SQLite file in a mkdtemp directory, or,
 * when STORE_TEST_DSN names a PostgreSQL database (postgresql://...,
 * empty, made by tests/pg/with-cluster.sh), against PostgreSQL: the same
 * checks, except those about SQLite's files, with the PostgreSQL
 * equivalents of the raw SQL behind the store's back.
 *
 * Besides round trips it checks what the rest of scepd relies on:
 * uniqueness errors, guarded transitions under a race (exactly one
 * winner), concurrent writers, migrations applied once, file modes,
 * the audit chain (and that raw tampering breaks it), and the
 * all-or-nothing store_cert_issue.  Raw SQL through libsqlite3 is used
 * only to look behind the store's back.
 */
#include <sys/stat.h>

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#ifdef STORE_HAVE_PG
#include <libpq-fe.h>
#endif

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "scep.h"
#include "scep_err.h"
#include "store.h"
#include "tap.h"

static char dir[PATH_MAX / 2];	/* room for the suffixes */
static char dbpath[PATH_MAX];
/* STORE_TEST_DSN when it is a PostgreSQL URI; NULL: SQLite. */
static const char *pg_dsn;

static const uint8_t certder[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };

/* Fill a hash with a recognisable non-zero pattern. */
static void
fill_hash(uint8_t h[STORE_HASH_LEN], int seed)
{
	int i;

	for (i = 0; i < STORE_HASH_LEN; i++)
		h[i] = (uint8_t)(seed * 31 + i + 1);
}

/* Raw SQL helpers: one statement, an integer result (or -1).  The SQL
 * used with them is valid in both SQLite and PostgreSQL. */
static sqlite3 *
raw_open(void)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

#ifdef STORE_HAVE_PG
/* One statement on a connection of its own; the result (NULL on a
 * connection failure).  Test code: PQexec with constant SQL. */
static PGresult *
pg_raw(const char *sql)
{
	PGconn *c = NULL;
	PGresult *res = NULL;

	if ((c = PQconnectdb(pg_dsn)) != NULL &&
	    PQstatus(c) == CONNECTION_OK)
		res = PQexec(c, sql);
	PQfinish(c);
	return res;
}

static int64_t
pg_raw_int(const char *sql)
{
	PGresult *res = NULL;
	int64_t v = -1;

	if ((res = pg_raw(sql)) != NULL &&
	    PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 &&
	    !PQgetisnull(res, 0, 0))
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

static int
pg_raw_exec(const char *sql)
{
	PGresult *res = NULL;
	int ok;

	res = pg_raw(sql);
	ok = res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK);
	PQclear(res);
	return ok ? 0 : -1;
}
#endif

static int64_t
raw_int(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

#ifdef STORE_HAVE_PG
	if (pg_dsn != NULL)
		return pg_raw_int(sql);
#endif
	if ((db = raw_open()) == NULL)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int
raw_exec(const char *sql)
{
	sqlite3 *db = NULL;
	int rc;

#ifdef STORE_HAVE_PG
	if (pg_dsn != NULL)
		return pg_raw_exec(sql);
#endif
	if ((db = raw_open()) == NULL)
		return -1;
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

/* The DSN the suite runs against. */
static const char *
test_dsn(void)
{
	return pg_dsn != NULL ? pg_dsn : dbpath;
}

static int
file_mode(const char *suffix)
{
	char p[PATH_MAX];
	struct stat sb;

	snprintf(p, sizeof(p), "%s%s", dbpath, suffix);
	if (stat(p, &sb) == -1)
		return -1;
	return (int)(sb.st_mode & 07777);
}

static int64_t
cfgver(struct store *s)
{
	int64_t v = -1;

	if (store_config_version(s, &v) != SCEP_OK)
		return -1;
	return v;
}

static int64_t
mk_ca(struct store *s, const char *name)
{
	struct store_ca ca;

	memset(&ca, 0, sizeof(ca));
	snprintf(ca.name, sizeof(ca.name), "%s", name);
	snprintf(ca.key_path, sizeof(ca.key_path), "/etc/scepd/%s.key", name);
	ca.cert_der = (uint8_t *)certder;
	ca.cert_len = sizeof(certder);
	ca.created_at = 1000;
	if (store_ca_insert(s, &ca) != SCEP_OK)
		return -1;
	return ca.id;
}

static void
ep_init(struct store_endpoint *ep, int64_t ca_id, const char *ext)
{
	memset(ep, 0, sizeof(*ep));
	snprintf(ep->name, sizeof(ep->name), "endpoint %s", ext);
	snprintf(ep->uri_ext, sizeof(ep->uri_ext), "%s", ext);
	ep->type = EP_DEVICE_SCEP;
	ep->ca_id = ca_id;
	ep->profile.min_rsa_bits = 2048;
	ep->profile.allow_ec = 1;
	ep->profile.term_days = 365;
	ep->profile.server_auth = 1;
	ep->profile.renewal = 1;
	ep->profile.renewal_window_days = 30;
	ep->profile.copy_sans = 1;
	ep->getcacert_chain = 1;
	ep->getcert_chain = 0;
	ep->manual_approval = 1;
	ep->legacy = 0;
	ep->enabled = 1;
	ep->delegation_general = 1;
	ep->org_id = 7;
	ep->dept_id = 9;
	ep->created_at = 2000;
}

static int64_t
mk_endpoint(struct store *s, int64_t ca_id, const char *ext)
{
	struct store_endpoint ep;

	ep_init(&ep, ca_id, ext);
	if (store_endpoint_insert(s, &ep) != SCEP_OK)
		return -1;
	return ep.id;
}

static int64_t
mk_account(struct store *s, int64_t ep_id, const char *name, int seed,
    int64_t max)
{
	struct store_account a;

	memset(&a, 0, sizeof(a));
	a.endpoint_id = ep_id;
	snprintf(a.name, sizeof(a.name), "%s", name);
	a.enabled = 1;
	a.max_enrollments = max;
	if (seed != 0)
		fill_hash(a.challenge_hash, seed);
	a.created_at = 3000;
	if (store_account_insert(s, &a) != SCEP_OK)
		return -1;
	return a.id;
}

static void
req_init(struct store_request *r, int64_t ep_id, int64_t acc_id,
    const char *transid)
{
	memset(r, 0, sizeof(*r));
	r->endpoint_id = ep_id;
	r->account_id = acc_id;
	snprintf(r->transid, sizeof(r->transid), "%s", transid);
	fill_hash(r->key_fp, 3);
	r->msgtype = 19;
	r->status = REQ_PENDING;
	r->created_at = 4000;
	r->updated_at = 4000;
}

static int64_t
mk_request(struct store *s, int64_t ep_id, int64_t acc_id,
    const char *transid)
{
	struct store_request r;

	req_init(&r, ep_id, acc_id, transid);
	if (store_request_insert(s, &r) != SCEP_OK)
		return -1;
	return r.id;
}

static void
cert_init(struct store_cert *c, const char *serial, int64_t ca_id,
    int64_t ep_id, int64_t acc_id)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->serial, sizeof(c->serial), "%s", serial);
	c->ca_id = ca_id;
	c->endpoint_id = ep_id;
	c->account_id = acc_id;
	c->org_id = 7;
	c->dept_id = 9;
	snprintf(c->subject, sizeof(c->subject), "CN=device-%s", serial);
	fill_hash(c->key_fp, 5);
	c->not_before = 5000;
	c->not_after = 5000 + 86400;
	c->status = CERT_VALID;
	c->der = (uint8_t *)certder;
	c->der_len = sizeof(certder);
}

/* Field by field: struct padding is not part of the contract. */
static int
ep_same(const struct store_endpoint *a, const struct store_endpoint *b)
{
	return a->id == b->id && strcmp(a->name, b->name) == 0 &&
	    strcmp(a->uri_ext, b->uri_ext) == 0 && a->type == b->type &&
	    a->ca_id == b->ca_id && a->ra_id == b->ra_id &&
	    a->profile.min_rsa_bits == b->profile.min_rsa_bits &&
	    a->profile.allow_ec == b->profile.allow_ec &&
	    a->profile.term_days == b->profile.term_days &&
	    a->profile.server_auth == b->profile.server_auth &&
	    a->profile.renewal == b->profile.renewal &&
	    a->profile.renewal_window_days ==
	    b->profile.renewal_window_days &&
	    a->profile.copy_sans == b->profile.copy_sans &&
	    a->getcacert_chain == b->getcacert_chain &&
	    a->getcert_chain == b->getcert_chain &&
	    a->manual_approval == b->manual_approval &&
	    a->legacy == b->legacy && a->enabled == b->enabled &&
	    a->delegation_general == b->delegation_general &&
	    a->org_id == b->org_id && a->dept_id == b->dept_id &&
	    a->created_at == b->created_at && a->deleted_at == b->deleted_at;
}

static int
acc_same(const struct store_account *a, const struct store_account *b)
{
	return a->id == b->id && a->endpoint_id == b->endpoint_id &&
	    strcmp(a->name, b->name) == 0 && a->org_id == b->org_id &&
	    a->dept_id == b->dept_id && a->enabled == b->enabled &&
	    a->expires_at == b->expires_at &&
	    a->max_enrollments == b->max_enrollments &&
	    a->enrollments == b->enrollments &&
	    memcmp(a->challenge_hash, b->challenge_hash, STORE_HASH_LEN) == 0 &&
	    a->created_at == b->created_at;
}

static int64_t
enrollments(struct store *s, int64_t acc_id)
{
	struct store_account a;

	if (store_account_get(s, acc_id, &a) != SCEP_OK)
		return -1;
	return a.enrollments;
}

/*
 * Opening: DSN forms, file modes, migrations applied once.
 */
static void
test_open(void)
{
	struct store *s = NULL;
	char dsn[PATH_MAX + 16], bad[PATH_MAX];
	int n;
	int64_t v = 0, applied;
	mode_t old;

	tap_ok(store_open(NULL, &s) == SCEP_E_CONFIG && s == NULL,
	    "open: NULL dsn");
	tap_ok(store_open("", &s) == SCEP_E_CONFIG, "open: empty dsn");
	tap_ok(store_open("sqlite:", &s) == SCEP_E_CONFIG,
	    "open: sqlite: without a path");
	tap_ok(store_open("sqlite::memory:", &s) == SCEP_E_CONFIG,
	    "open: :memory: refused (one db per pooled connection)");
#ifdef STORE_HAVE_PG
	{
		time_t t0 = time(NULL);

		/* Nothing listens on port 1: refused at once, a failure
		 * that is worth a retry (not a configuration error). */
		tap_ok(store_open("postgresql://scepd@127.0.0.1:1/scepd", &s) ==
		    SCEP_E_BUSY && s == NULL && time(NULL) - t0 < 5,
		    "open: postgresql server down: SCEP_E_BUSY, quickly");
		tap_ok(store_open("postgresql://x:y:z/%zz?nonsense=1", &s) ==
		    SCEP_E_CONFIG && s == NULL,
		    "open: postgresql DSN libpq cannot parse");
	}
#else
	tap_ok(store_open("postgresql://localhost/scepd", &s) ==
	    SCEP_E_CONFIG && s == NULL,
	    "open: postgresql without the backend built");
#endif
	tap_ok(store_open("mysql://x/y", &s) == SCEP_E_CONFIG,
	    "open: unknown scheme");
	n = snprintf(bad, sizeof(bad), "%s/no/such/dir/x.db", dir);
	tap_ok(n > 0 && (size_t)n < sizeof(bad), "test path fits");
	tap_ok(store_open(bad, &s) == SCEP_E_IO && s == NULL,
	    "open: missing directory is an I/O error");
	tap_ok(store_open(test_dsn(), NULL) == SCEP_E_INTERNAL,
	    "open: NULL out");

	if (pg_dsn != NULL) {
		tap_ok(store_open(pg_dsn, &s) == SCEP_OK && s != NULL,
		    "open: postgresql:// creates the schema");
		tap_ok(store_schema_version(s, &v) == SCEP_OK && v >= 1,
		    "schema version %lld", (long long)v);
		tap_ok(store_setting_set(s, "probe", "1") == SCEP_OK,
		    "first write");
	} else {
		/* A permissive umask must not leak into the file modes. */
		old = umask(0);
		snprintf(dsn, sizeof(dsn), "sqlite:%s", dbpath);
		tap_ok(store_open(dsn, &s) == SCEP_OK && s != NULL,
		    "open: sqlite:PATH creates the database");
		umask(old);
		tap_ok(store_schema_version(s, &v) == SCEP_OK && v >= 1,
		    "schema version %lld", (long long)v);
		tap_ok(store_setting_set(s, "probe", "1") == SCEP_OK,
		    "first write");
		tap_ok(file_mode("") == 0600, "database file mode 0600 (%o)",
		    file_mode(""));
		tap_ok(file_mode("-wal") == 0600, "-wal file mode 0600 (%o)",
		    file_mode("-wal"));
		tap_ok(file_mode("-shm") == 0600, "-shm file mode 0600 (%o)",
		    file_mode("-shm"));
		tap_ok(raw_int("SELECT journal_mode = 'wal' FROM "
		    "pragma_journal_mode") == 1, "journal_mode is WAL");
	}
	store_close(s);
	s = NULL;
	store_close(NULL);

	/* Mark the recorded migrations; reopening must leave them alone. */
	applied = raw_int("SELECT count(*) FROM schema_migrations");
	tap_ok(applied == v, "one schema_migrations row per migration "
	    "(%lld)", (long long)applied);
	tap_ok(raw_exec("UPDATE schema_migrations SET applied_at = 12345") ==
	    0, "raw: mark applied_at");
	tap_ok(store_open(test_dsn(), &s) == SCEP_OK,
	    "reopen (SQLite: as a plain path)");
	tap_ok(raw_int("SELECT count(*) FROM schema_migrations") == applied,
	    "reopen: no migration row added");
	tap_ok(raw_int("SELECT count(*) FROM schema_migrations "
	    "WHERE applied_at = 12345") == applied,
	    "reopen: no migration applied again");
	tap_ok(raw_int("SELECT count(*) FROM settings "
	    "WHERE key = 'probe'") == 1, "reopen: data kept");
	store_close(s);
	s = NULL;

	/* A database from a newer scepd is refused. */
	tap_ok(raw_exec("INSERT INTO schema_migrations VALUES "
	    "(9999, '9999_future.sql', 1)") == 0, "raw: future migration");
	tap_ok(store_open(test_dsn(), &s) == SCEP_E_CONFIG && s == NULL,
	    "open: newer schema refused");
	tap_ok(raw_exec("DELETE FROM schema_migrations WHERE version = 9999")
	    == 0, "raw: remove it");
	tap_ok(store_open(test_dsn(), &s) == SCEP_OK, "open again");
	store_close(s);
}

static void
test_settings(struct store *s)
{
	char val[STORE_TEXT_MAX], small[4], key[STORE_NAME_MAX + 8];

	tap_ok(store_setting_get(s, "crl_number", val, sizeof(val)) ==
	    SCEP_E_NOTFOUND && val[0] == '\0', "setting: missing");
	tap_ok(store_setting_set(s, "crl_number", "41") == SCEP_OK,
	    "setting: set");
	tap_ok(store_setting_set(s, "crl_number", "42") == SCEP_OK,
	    "setting: overwrite");
	tap_ok(store_setting_get(s, "crl_number", val, sizeof(val)) ==
	    SCEP_OK && strcmp(val, "42") == 0, "setting: get \"%s\"", val);
	tap_ok(store_setting_set(s, "default_endpoint", "") == SCEP_OK &&
	    store_setting_get(s, "default_endpoint", val, sizeof(val)) ==
	    SCEP_OK && val[0] == '\0', "setting: empty value");
	tap_ok(store_setting_set(s, "long", "123456789") == SCEP_OK &&
	    store_setting_get(s, "long", small, sizeof(small)) ==
	    SCEP_E_TOOBIG && small[0] == '\0', "setting: small buffer");
	tap_ok(store_setting_set(s, "config_version", "0") == SCEP_E_DENIED,
	    "setting: config_version is the store's");
	memset(key, 'k', sizeof(key));
	key[sizeof(key) - 1] = '\0';
	tap_ok(store_setting_set(s, key, "x") == SCEP_E_TOOBIG,
	    "setting: key too long");
	tap_ok(store_setting_set(s, "", "x") == SCEP_E_INTERNAL,
	    "setting: empty key");
	tap_ok(store_setting_get(s, "crl_number", NULL, 10) ==
	    SCEP_E_INTERNAL, "setting: NULL buffer");
}

static void
test_ca_ra(struct store *s, int64_t *ca_out)
{
	struct store_ca ca, got;
	struct store_ra ra, rg, list[4];
	int64_t ca_id, v0, ra1, ra2, ra3;
	size_t n = 99, i;

	v0 = cfgver(s);
	memset(&ca, 0, sizeof(ca));
	snprintf(ca.name, sizeof(ca.name), "Root CA");
	snprintf(ca.key_path, sizeof(ca.key_path), "/etc/scepd/ca.key");
	ca.cert_der = (uint8_t *)certder;
	ca.cert_len = sizeof(certder);
	ca.created_at = 111;
	tap_ok(store_ca_insert(s, &ca) == SCEP_OK && ca.id > 0,
	    "ca: insert, id %lld", (long long)ca.id);
	ca_id = ca.id;
	tap_ok(cfgver(s) == v0 + 1, "ca: insert bumps config_version");
	tap_ok(store_ca_get(s, ca_id, &got) == SCEP_OK && got.id == ca_id &&
	    strcmp(got.name, "Root CA") == 0 &&
	    strcmp(got.key_path, "/etc/scepd/ca.key") == 0 &&
	    got.cert_len == sizeof(certder) && got.cert_der != certder &&
	    memcmp(got.cert_der, certder, sizeof(certder)) == 0 &&
	    got.created_at == 111, "ca: get round trip");
	store_ca_clear(&got);
	tap_ok(got.cert_der == NULL && got.cert_len == 0, "ca: clear");
	store_ca_clear(NULL);
	tap_ok(store_ca_get(s, ca_id + 100, &got) == SCEP_E_NOTFOUND &&
	    got.cert_der == NULL, "ca: get missing");
	tap_ok(store_ca_get(s, 0, &got) == SCEP_E_NOTFOUND, "ca: get id 0");
	{
		/* Key references (migration 0004): a pkcs11: URI is kept as
		 * it is; one carrying a PIN, or a relative path, is refused
		 * by the database itself. */
		struct store_ca h = ca, hg;
		struct store_ra hr;

		memset(&hg, 0, sizeof(hg));
		snprintf(h.key_path, sizeof(h.key_path),
		    "pkcs11:token=scepd;object=ca;type=private");
		tap_ok(store_ca_insert(s, &h) == SCEP_OK &&
		    store_ca_get(s, h.id, &hg) == SCEP_OK &&
		    strcmp(hg.key_path, h.key_path) == 0,
		    "ca: a pkcs11: URI key reference round-trips");
		store_ca_clear(&hg);
		v0++;		/* that insert bumped config_version */
		snprintf(h.key_path, sizeof(h.key_path),
		    "pkcs11:token=scepd;object=ca?pin-value=1234");
		tap_ok(store_ca_insert(s, &h) != SCEP_OK,
		    "ca: a key reference with a PIN is refused by the store");
		snprintf(h.key_path, sizeof(h.key_path), "keys/ca.key");
		tap_ok(store_ca_insert(s, &h) != SCEP_OK,
		    "ca: a relative key path is refused by the store");
		memset(&hr, 0, sizeof(hr));
		hr.ca_id = ca_id;
		hr.state = RA_RETIRED;
		hr.usage = 1;
		hr.cert_der = (uint8_t *)certder;
		hr.cert_len = sizeof(certder);
		snprintf(hr.key_path, sizeof(hr.key_path),
		    "pkcs11:object=ra;module-path=/tmp/evil.so");
		tap_ok(store_ra_insert(s, &hr) != SCEP_OK,
		    "ra: a key reference naming a module is refused");
	}
	ca.cert_len = 0;
	tap_ok(store_ca_insert(s, &ca) == SCEP_E_INTERNAL,
	    "ca: no certificate");
	ca.cert_len = 300 * 1024;
	tap_ok(store_ca_insert(s, &ca) == SCEP_E_TOOBIG, "ca: blob too big");
	ca.cert_len = sizeof(certder);
	memset(ca.name, 'x', sizeof(ca.name));
	tap_ok(store_ca_insert(s, &ca) == SCEP_E_TOOBIG,
	    "ca: unterminated name");
	tap_ok(cfgver(s) == v0 + 1, "ca: failed inserts bump nothing");

	memset(&ra, 0, sizeof(ra));
	ra.ca_id = ca_id;
	ra.state = RA_ACTIVE;
	ra.usage = 1;
	snprintf(ra.key_path, sizeof(ra.key_path), "/etc/scepd/ra1.key");
	ra.cert_der = (uint8_t *)certder;
	ra.cert_len = sizeof(certder);
	ra.created_at = 222;
	tap_ok(store_ra_insert(s, &ra) == SCEP_OK && ra.id > 0, "ra: insert");
	ra1 = ra.id;
	tap_ok(cfgver(s) == v0 + 2, "ra: insert bumps config_version");
	ra.state = RA_NEXT;
	ra.usage = 2;
	tap_ok(store_ra_insert(s, &ra) == SCEP_OK, "ra: insert second");
	ra2 = ra.id;
	ra.state = RA_ACTIVE;
	ra.usage = 3;
	tap_ok(store_ra_insert(s, &ra) == SCEP_OK, "ra: insert third");
	ra3 = ra.id;
	ra.ca_id = ca_id + 100;
	tap_ok(store_ra_insert(s, &ra) == SCEP_E_NOTFOUND,
	    "ra: unknown CA (foreign key)");
	ra.ca_id = ca_id;
	ra.state = 9;
	tap_ok(store_ra_insert(s, &ra) == SCEP_E_INTERNAL, "ra: bad state");

	tap_ok(store_ra_get(s, ra2, &rg) == SCEP_OK && rg.id == ra2 &&
	    rg.ca_id == ca_id && rg.state == RA_NEXT && rg.usage == 2 &&
	    strcmp(rg.key_path, "/etc/scepd/ra1.key") == 0 &&
	    rg.cert_len == sizeof(certder) && rg.created_at == 222,
	    "ra: get round trip");
	store_ra_clear(&rg);
	tap_ok(store_ra_get(s, 999, &rg) == SCEP_E_NOTFOUND, "ra: get missing");

	tap_ok(store_ra_list(s, ca_id, RA_ACTIVE, list, 4, &n) == SCEP_OK &&
	    n == 2 && list[0].id == ra1 && list[1].id == ra3,
	    "ra: list active (%zu)", n);
	for (i = 0; i < n; i++)
		store_ra_clear(&list[i]);
	tap_ok(store_ra_list(s, ca_id, 0, list, 4, &n) == SCEP_OK && n == 3,
	    "ra: list any state");
	for (i = 0; i < n; i++)
		store_ra_clear(&list[i]);
	tap_ok(store_ra_list(s, ca_id, 0, list, 2, &n) == SCEP_OK && n == 2,
	    "ra: list stops at max");
	for (i = 0; i < n; i++)
		store_ra_clear(&list[i]);
	tap_ok(store_ra_list(s, ca_id, 0, NULL, 0, &n) == SCEP_OK && n == 0,
	    "ra: list max 0");
	tap_ok(store_ra_list(s, ca_id + 100, 0, list, 4, &n) == SCEP_OK &&
	    n == 0, "ra: list of unknown CA is empty");

	v0 = cfgver(s);
	tap_ok(store_ra_set_state(s, ra1, RA_RETIRED) == SCEP_OK &&
	    store_ra_set_state(s, ra2, RA_ACTIVE) == SCEP_OK,
	    "ra: rollover");
	tap_ok(cfgver(s) == v0 + 2, "ra: set_state bumps config_version");
	tap_ok(store_ra_list(s, ca_id, RA_ACTIVE, list, 4, &n) == SCEP_OK &&
	    n == 2 && list[0].id == ra2 && list[1].id == ra3,
	    "ra: list after rollover");
	for (i = 0; i < n; i++)
		store_ra_clear(&list[i]);
	tap_ok(store_ra_set_state(s, 999, RA_ACTIVE) == SCEP_E_NOTFOUND,
	    "ra: set_state missing");
	tap_ok(store_ra_set_state(s, ra1, 0) == SCEP_E_INTERNAL,
	    "ra: set_state bad state");
	tap_ok(cfgver(s) == v0 + 2, "ra: failed set_state bumps nothing");
	*ca_out = ca_id;
}

static void
test_endpoints(struct store *s, int64_t ca_id)
{
	struct store_endpoint ep, got;
	int64_t id, id2, v0;

	v0 = cfgver(s);
	ep_init(&ep, ca_id, "devices");
	tap_ok(store_endpoint_insert(s, &ep) == SCEP_OK && ep.id > 0,
	    "endpoint: insert");
	id = ep.id;
	tap_ok(cfgver(s) == v0 + 1, "endpoint: insert bumps config_version");
	tap_ok(store_endpoint_get(s, id, &got) == SCEP_OK &&
	    ep_same(&got, &ep),
	    "endpoint: get returns every field as inserted");
	tap_ok(store_endpoint_by_ext(s, "devices", &got) == SCEP_OK &&
	    got.id == id, "endpoint: by_ext");
	tap_ok(store_endpoint_by_ext(s, "nope", &got) == SCEP_E_NOTFOUND &&
	    got.id == 0, "endpoint: by_ext missing");

	ep_init(&ep, ca_id, "devices");
	tap_ok(store_endpoint_insert(s, &ep) == SCEP_E_EXISTS,
	    "endpoint: live uri_ext is unique");
	tap_ok(cfgver(s) == v0 + 1, "endpoint: failed insert bumps nothing");
	ep_init(&ep, ca_id + 100, "other");
	tap_ok(store_endpoint_insert(s, &ep) == SCEP_E_NOTFOUND,
	    "endpoint: unknown CA");
	ep_init(&ep, ca_id, "other");
	ep.ra_id = 999;
	tap_ok(store_endpoint_insert(s, &ep) == SCEP_E_NOTFOUND,
	    "endpoint: unknown RA");
	ep_init(&ep, ca_id, "");
	tap_ok(store_endpoint_insert(s, &ep) == SCEP_E_INTERNAL,
	    "endpoint: empty uri_ext");
	ep_init(&ep, ca_id, "other");
	ep.type = 0;
	tap_ok(store_endpoint_insert(s, &ep) == SCEP_E_INTERNAL,
	    "endpoint: bad type");

	ep_init(&ep, ca_id, "other");
	ep.type = EP_CLIENT_INTUNE;
	tap_ok(store_endpoint_insert(s, &ep) == SCEP_OK, "endpoint: second");
	id2 = ep.id;

	/* Update: every field but id and created_at. */
	ep.id = id2;
	snprintf(ep.name, sizeof(ep.name), "renamed");
	ep.profile.term_days = 90;
	ep.manual_approval = 0;
	ep.created_at = 1;		/* ignored */
	v0 = cfgver(s);
	tap_ok(store_endpoint_update(s, &ep) == SCEP_OK, "endpoint: update");
	tap_ok(cfgver(s) == v0 + 1, "endpoint: update bumps config_version");
	tap_ok(store_endpoint_get(s, id2, &got) == SCEP_OK &&
	    strcmp(got.name, "renamed") == 0 && got.profile.term_days == 90 &&
	    got.manual_approval == 0 && got.type == EP_CLIENT_INTUNE &&
	    got.created_at == 2000, "endpoint: update applied");
	snprintf(ep.uri_ext, sizeof(ep.uri_ext), "devices");
	tap_ok(store_endpoint_update(s, &ep) == SCEP_E_EXISTS,
	    "endpoint: update onto a live uri_ext");
	snprintf(ep.uri_ext, sizeof(ep.uri_ext), "other");
	ep.id = 999;
	tap_ok(store_endpoint_update(s, &ep) == SCEP_E_NOTFOUND,
	    "endpoint: update missing");

	/* Delete is soft; the extension becomes free again. */
	v0 = cfgver(s);
	tap_ok(store_endpoint_delete(s, id, 7777) == SCEP_OK,
	    "endpoint: delete");
	tap_ok(cfgver(s) == v0 + 1, "endpoint: delete bumps config_version");
	tap_ok(store_endpoint_by_ext(s, "devices", &got) == SCEP_E_NOTFOUND,
	    "endpoint: deleted not found by ext");
	tap_ok(store_endpoint_get(s, id, &got) == SCEP_OK &&
	    got.deleted_at == 7777, "endpoint: deleted still found by id");
	tap_ok(store_endpoint_delete(s, id, 7778) == SCEP_E_NOTFOUND,
	    "endpoint: delete twice");
	tap_ok(store_endpoint_delete(s, id2, 0) == SCEP_E_INTERNAL,
	    "endpoint: delete needs a time");
	ep_init(&ep, ca_id, "devices");
	ep.id = id;
	tap_ok(store_endpoint_update(s, &ep) == SCEP_E_NOTFOUND,
	    "endpoint: update a deleted one");
	tap_ok(store_endpoint_insert(s, &ep) == SCEP_OK && ep.id != id,
	    "endpoint: uri_ext reused after delete");
	tap_ok(store_endpoint_by_ext(s, "devices", &got) == SCEP_OK &&
	    got.id == ep.id, "endpoint: by_ext finds the live one");
}

static void
test_accounts(struct store *s, int64_t ep_id)
{
	struct store_account a, got;
	uint8_t h[STORE_HASH_LEN];
	int64_t id, v0;

	v0 = cfgver(s);
	memset(&a, 0, sizeof(a));
	a.endpoint_id = ep_id;
	snprintf(a.name, sizeof(a.name), "alice");
	a.org_id = 3;
	a.enabled = 1;
	a.expires_at = 99999;
	a.max_enrollments = 5;
	a.enrollments = 1;
	fill_hash(a.challenge_hash, 100);
	a.created_at = 333;
	tap_ok(store_account_insert(s, &a) == SCEP_OK && a.id > 0,
	    "account: insert");
	id = a.id;
	tap_ok(cfgver(s) == v0 + 1, "account: insert bumps config_version");
	tap_ok(store_account_get(s, id, &got) == SCEP_OK &&
	    acc_same(&got, &a), "account: get round trip");
	fill_hash(h, 100);
	tap_ok(store_account_by_challenge(s, h, &got) == SCEP_OK &&
	    got.id == id, "account: by_challenge");
	fill_hash(h, 101);
	tap_ok(store_account_by_challenge(s, h, &got) == SCEP_E_NOTFOUND,
	    "account: by_challenge unknown");

	snprintf(a.name, sizeof(a.name), "bob");
	tap_ok(store_account_insert(s, &a) == SCEP_E_EXISTS,
	    "account: challenge_hash is unique");
	a.endpoint_id = 999;
	fill_hash(a.challenge_hash, 102);
	tap_ok(store_account_insert(s, &a) == SCEP_E_NOTFOUND,
	    "account: unknown endpoint");
	tap_ok(cfgver(s) == v0 + 1, "account: failed inserts bump nothing");

	/* No challenge: all zero, stored NULL, never collides or matches. */
	tap_ok(mk_account(s, ep_id, "nochal1", 0, 0) > 0 &&
	    mk_account(s, ep_id, "nochal2", 0, 0) > 0,
	    "account: two without challenge");
	memset(h, 0, sizeof(h));
	tap_ok(store_account_by_challenge(s, h, &got) == SCEP_E_NOTFOUND,
	    "account: zero hash matches nothing");

	/* Update: enrollments is not the caller's to set. */
	a.id = id;
	a.endpoint_id = ep_id;
	a.enabled = 0;
	a.enrollments = 50;
	fill_hash(a.challenge_hash, 103);
	v0 = cfgver(s);
	tap_ok(store_account_update(s, &a) == SCEP_OK, "account: update");
	tap_ok(cfgver(s) == v0 + 1, "account: update bumps config_version");
	tap_ok(store_account_get(s, id, &got) == SCEP_OK && got.enabled == 0 &&
	    got.enrollments == 1 && strcmp(got.name, "bob") == 0,
	    "account: update applied, enrollments kept");
	fill_hash(h, 103);
	tap_ok(store_account_by_challenge(s, h, &got) == SCEP_OK &&
	    got.id == id, "account: new challenge found");
	fill_hash(h, 100);
	tap_ok(store_account_by_challenge(s, h, &got) == SCEP_E_NOTFOUND,
	    "account: old challenge gone");
	a.id = 999;
	tap_ok(store_account_update(s, &a) == SCEP_E_NOTFOUND,
	    "account: update missing");
	tap_ok(store_account_get(s, 999, &got) == SCEP_E_NOTFOUND,
	    "account: get missing");
}

/*
 * One live request per transaction (requests_live, both backends): two
 * copies of one PKCSReq -- same endpoint, transactionID, key and signer
 * certificate -- cannot both be pending or issued.  A rejected one does
 * not block a new attempt; another signer or key is another request.
 */
static void
test_requests_live(struct store *s, int64_t ep_id)
{
	static const uint8_t signer[] = { 0x30, 0x01, 0x42 };
	static const uint8_t signer2[] = { 0x30, 0x01, 0x43 };
	struct store_request r, got;
	int64_t first, retry;

	req_init(&r, ep_id, 0, "live-1");
	r.signer_der = (uint8_t *)signer;
	r.signer_len = sizeof(signer);
	tap_ok(store_request_insert(s, &r) == SCEP_OK, "live: first copy");
	first = r.id;
	r.id = 0;
	tap_ok(store_request_insert(s, &r) == SCEP_E_EXISTS && r.id == 0,
	    "live: second copy of the same live request is SCEP_E_EXISTS");
	tap_ok(store_enroll_commit(s, &r, NULL, NULL) == SCEP_E_EXISTS,
	    "live: the same through store_enroll_commit");
	tap_ok(store_request_find(s, ep_id, "live-1", &got) == SCEP_OK &&
	    got.id == first, "live: only the first copy is recorded");
	store_request_clear(&got);
	r.signer_der = (uint8_t *)signer2;
	tap_ok(store_request_insert(s, &r) == SCEP_OK,
	    "live: same transaction under another signer is a new request");
	r.signer_der = (uint8_t *)signer;
	r.id = 0;
	fill_hash(r.key_fp, 4);
	tap_ok(store_request_insert(s, &r) == SCEP_OK,
	    "live: same transaction with another key is a new request");
	fill_hash(r.key_fp, 3);
	tap_ok(store_request_transition(s, first, REQ_PENDING, REQ_REJECTED,
	    NULL, "no", 4100) == SCEP_OK, "live: reject the first copy");
	r.id = 0;
	tap_ok(store_request_insert(s, &r) == SCEP_OK && r.id > first,
	    "live: a rejected request does not block a retry");
	retry = r.id;
	r.id = 0;
	tap_ok(store_request_insert(s, &r) == SCEP_E_EXISTS,
	    "live: the retry is live in turn");
	tap_ok(store_request_transition(s, retry, REQ_PENDING, REQ_ISSUED,
	    "11", NULL, 4200) == SCEP_OK &&
	    store_request_insert(s, &r) == SCEP_E_EXISTS,
	    "live: an issued request blocks its copy too");
}

/*
 * The data migration that takes the challenge out of requests written
 * before CSRs were stored redacted (store_redact.c), on either backend:
 * rows in the old form (a real CSR with its challengePassword) written
 * behind the store's back, more than one batch of them, one CSR that
 * does not parse and one already in the stored form.  After store_open:
 * the challenge is nowhere in the database (SQLite: the file and its
 * WAL; PostgreSQL: pg_dump), every request still reads back and decodes,
 * the unparsable one is untouched, the run is recorded, and a second run
 * changes nothing.
 */
#define REDACT_ROWS	300

/* A PKCS#10 with a challengePassword, DER, malloc'd. */
static uint8_t *
csr_with_challenge(const char *chal, size_t *len)
{
	EVP_PKEY *k = NULL;
	X509_REQ *req = NULL;
	X509_NAME *nm = NULL;
	unsigned char *p;
	uint8_t *out = NULL;
	int n;

	*len = 0;
	if ((k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (req = X509_REQ_new()) == NULL ||
	    (nm = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)"old row", -1, -1, 0) ||
	    !X509_REQ_set_subject_name(req, nm) ||
	    !X509_REQ_set_pubkey(req, k) ||
	    !X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword,
	    MBSTRING_UTF8, (const unsigned char *)chal, -1) ||
	    !X509_REQ_sign(req, k, EVP_sha256()) ||
	    (n = i2d_X509_REQ(req, NULL)) <= 0 ||
	    (out = malloc((size_t)n)) == NULL)
		goto out;
	p = out;
	if (i2d_X509_REQ(req, &p) != n) {
		free(out);
		out = NULL;
		goto out;
	}
	*len = (size_t)n;
 out:
	X509_NAME_free(nm);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	return out;
}

static void
hexstr(const uint8_t *p, size_t len, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int
has_bytes(const char *hay, size_t n, const char *needle, size_t nl)
{
	size_t i;

	for (i = 0; nl > 0 && i + nl <= n; i++)
		if (memcmp(hay + i, needle, nl) == 0)
			return 1;
	return 0;
}

/* Is "needle" anywhere in the database?  SQLite: the file and its WAL,
 * raw bytes.  PostgreSQL: pg_dump of the database, where a bytea is hex.
 * 1 found, 0 not, -1 could not look. */
static int
db_holds(const char *needle)
{
	char hex[256], buf[65536], cmd[PATH_MAX + 64];
	const char *suffix[] = { "", "-wal" };
	size_t i, n, nl = strlen(needle), keep = 0;
	FILE *f;
	int found = 0;

	hexstr((const uint8_t *)needle, nl, hex);
	for (i = 0; i < 2; i++) {
		if (pg_dsn != NULL) {
			if (i > 0)
				break;
			/* PGCLUSTER (with-cluster.sh) would make Debian's
			 * pg_wrapper look for a cluster by that name. */
			snprintf(cmd, sizeof(cmd), "env -u PGCLUSTER pg_dump "
			    "--data-only '%s'", pg_dsn);
			f = popen(cmd, "r");
			needle = hex;
			nl = strlen(hex);
		} else {
			snprintf(cmd, sizeof(cmd), "%s%s", dbpath, suffix[i]);
			if ((f = fopen(cmd, "rb")) == NULL)
				continue;	/* no WAL file */
		}
		if (f == NULL)
			return -1;
		keep = 0;
		while ((n = fread(buf + keep, 1, sizeof(buf) - keep, f)) > 0) {
			n += keep;
			if (has_bytes(buf, n, needle, nl))
				found = 1;
			keep = nl - 1 < n ? nl - 1 : n;
			memmove(buf, buf + n - keep, keep);
		}
		if (pg_dsn != NULL ? pclose(f) != 0 : fclose(f) != 0)
			return -1;
	}
	return found;
}

static int
redact_setting(struct store *s, char *val, size_t sz)
{
	return store_setting_get(s, "migration.csr_redact", val, sz);
}

static void
test_redact(int64_t ep_id)
{
	static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
	struct store *s = NULL;
	struct store_request r, got;
	struct scep_csr *csr = NULL;
	char chal[64], sql[8192], hex[4096], val[128], val2[128];
	uint8_t *old = NULL, *clean = NULL;
	size_t oldlen = 0, cleanlen = 0;
	int64_t first = 0, junk_id = 0, clean_id = 0;
	int i, ok = 1;

	snprintf(chal, sizeof(chal), "OldChallenge%dX%ld", (int)getpid(),
	    (long)time(NULL));
	old = csr_with_challenge(chal, &oldlen);
	if (old == NULL || oldlen * 2 >= sizeof(hex) ||
	    scep_csr_redact(old, oldlen, &clean, &cleanlen) != SCEP_OK ||
	    store_open(test_dsn(), &s) != SCEP_OK) {
		tap_ok(0, "redact: setup");
		goto out;
	}
	/* Rows as an older scepd wrote them: the CSR as received. */
	for (i = 0; i < REDACT_ROWS + 2 && ok; i++) {
		req_init(&r, ep_id, 0, "redact");
		snprintf(r.transid, sizeof(r.transid), "redact-%d", i);
		r.csr_der = i == REDACT_ROWS + 1 ? clean : (uint8_t *)junk;
		r.csr_len = i == REDACT_ROWS + 1 ? cleanlen : sizeof(junk);
		if (store_request_insert(s, &r) != SCEP_OK)
			ok = 0;
		if (i == 0)
			first = r.id;
		if (i == REDACT_ROWS)
			junk_id = r.id;
		if (i == REDACT_ROWS + 1)
			clean_id = r.id;
	}
	tap_ok(ok, "redact: %d requests", REDACT_ROWS + 2);
	store_close(s);
	s = NULL;
	hexstr(old, oldlen, hex);
	snprintf(sql, sizeof(sql), pg_dsn != NULL ?
	    "UPDATE requests SET csr_der = '\\x%s' WHERE id >= %lld AND "
	    "id < %lld" : "UPDATE requests SET csr_der = X'%s' WHERE "
	    "id >= %lld AND id < %lld", hex, (long long)first,
	    (long long)junk_id);
	tap_ok(raw_exec(sql) == 0 && raw_exec("DELETE FROM settings WHERE "
	    "key = 'migration.csr_redact'") == 0 && db_holds(chal) == 1,
	    "redact: %d old-form rows, the challenge is in the database",
	    REDACT_ROWS);

	tap_ok(store_open(test_dsn(), &s) == SCEP_OK, "redact: open migrates");
	tap_ok(db_holds(chal) == 0,
	    "redact: the challenge is nowhere in the database (%s)",
	    pg_dsn != NULL ? "pg_dump" : "file and WAL");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM requests WHERE "
	    "csr_der IS NOT NULL AND id >= %lld AND id <= %lld",
	    (long long)first, (long long)clean_id);
	tap_ok(raw_int(sql) == REDACT_ROWS + 2, "redact: every CSR kept");
	ok = 1;
	for (i = 0; i < REDACT_ROWS; i += 37) {
		memset(&got, 0, sizeof(got));
		if (store_request_get(s, first + i, &got) != SCEP_OK ||
		    got.csr_len != cleanlen ||
		    memcmp(got.csr_der, clean, cleanlen) != 0 ||
		    scep_csr_decode_stored(got.csr_der, got.csr_len, &csr) !=
		    SCEP_OK || csr->challenge != NULL)
			ok = 0;
		scep_csr_free(csr);
		csr = NULL;
		store_request_clear(&got);
	}
	tap_ok(ok, "redact: the rewritten CSRs are the stored form and "
	    "decode (scep_csr_decode_stored), without a challenge");
	memset(&got, 0, sizeof(got));
	tap_ok(store_request_get(s, junk_id, &got) == SCEP_OK &&
	    got.csr_len == sizeof(junk) &&
	    memcmp(got.csr_der, junk, sizeof(junk)) == 0,
	    "redact: a CSR that does not parse is left as it is");
	store_request_clear(&got);
	snprintf(sql, sizeof(sql), "%d of ", REDACT_ROWS);
	tap_ok(redact_setting(s, val, sizeof(val)) == SCEP_OK &&
	    strncmp(val, "done ", 5) == 0 && strstr(val, sql) != NULL &&
	    strstr(val, " unparsable") != NULL &&
	    strstr(val, ", 0 unparsable") == NULL,
	    "redact: recorded with its counts (%s)", val);
	store_close(s);
	s = NULL;

	/* Again: recorded, so nothing runs; forced, nothing changes. */
	tap_ok(store_open(test_dsn(), &s) == SCEP_OK &&
	    redact_setting(s, val2, sizeof(val2)) == SCEP_OK &&
	    strcmp(val, val2) == 0, "redact: runs once");
	store_close(s);
	s = NULL;
	tap_ok(raw_exec("DELETE FROM settings WHERE "
	    "key = 'migration.csr_redact'") == 0 &&
	    store_open(test_dsn(), &s) == SCEP_OK &&
	    redact_setting(s, val2, sizeof(val2)) == SCEP_OK &&
	    strstr(val2, ": 0 of ") != NULL, "redact: a second run rewrites "
	    "nothing (%s)", val2);
 out:
	store_close(s);
	OPENSSL_free(clean);
	free(old);
}

static void
test_requests(struct store *s, int64_t ep_id, int64_t ep2_id)
{
	struct store_request r, got, list[8];
	static const uint8_t csr[] = { 1, 2, 3, 4, 5, 6 };
	static const uint8_t signer[] = { 9, 8, 7 };
	int64_t id1, id2, id3;
	size_t n = 0, i;
	int64_t v0;

	v0 = cfgver(s);
	req_init(&r, ep_id, 0, "tx-1");
	r.csr_der = (uint8_t *)csr;
	r.csr_len = sizeof(csr);
	r.signer_der = (uint8_t *)signer;
	r.signer_len = sizeof(signer);
	tap_ok(store_request_insert(s, &r) == SCEP_OK && r.id > 0,
	    "request: insert");
	id1 = r.id;
	tap_ok(cfgver(s) == v0, "request: no config_version bump");
	tap_ok(store_request_get(s, id1, &got) == SCEP_OK && got.id == id1 &&
	    got.endpoint_id == ep_id && got.account_id == 0 &&
	    strcmp(got.transid, "tx-1") == 0 &&
	    memcmp(got.key_fp, r.key_fp, STORE_HASH_LEN) == 0 &&
	    got.msgtype == 19 && got.status == REQ_PENDING &&
	    got.serial[0] == '\0' && got.reason[0] == '\0' &&
	    got.csr_len == sizeof(csr) &&
	    memcmp(got.csr_der, csr, sizeof(csr)) == 0 &&
	    got.signer_len == sizeof(signer) &&
	    memcmp(got.signer_der, signer, sizeof(signer)) == 0 &&
	    got.created_at == 4000 && got.updated_at == 4000,
	    "request: get round trip");
	store_request_clear(&got);
	tap_ok(got.csr_der == NULL && got.signer_der == NULL,
	    "request: clear");
	store_request_clear(NULL);

	/* Same transid again later: find returns the newest. */
	req_init(&r, ep_id, 0, "tx-1");
	tap_ok(store_request_insert(s, &r) == SCEP_OK, "request: same transid");
	id2 = r.id;
	req_init(&r, ep2_id, 0, "tx-1");
	tap_ok(store_request_insert(s, &r) == SCEP_OK,
	    "request: same transid, other endpoint");
	id3 = r.id;
	tap_ok(store_request_find(s, ep_id, "tx-1", &got) == SCEP_OK &&
	    got.id == id2 && got.csr_der == NULL && got.csr_len == 0,
	    "request: find returns the newest of the endpoint");
	store_request_clear(&got);
	tap_ok(store_request_find(s, ep2_id, "tx-1", &got) == SCEP_OK &&
	    got.id == id3, "request: find is per endpoint");
	store_request_clear(&got);
	tap_ok(store_request_find(s, ep_id, "tx-2", &got) == SCEP_E_NOTFOUND,
	    "request: find missing");
	req_init(&r, 999, 0, "tx-9");
	tap_ok(store_request_insert(s, &r) == SCEP_E_NOTFOUND,
	    "request: unknown endpoint");
	req_init(&r, ep_id, 0, "");
	tap_ok(store_request_insert(s, &r) == SCEP_E_INTERNAL,
	    "request: empty transid");
	req_init(&r, ep_id, 0, "tx-9");
	r.csr_len = 10;		/* length without a pointer */
	tap_ok(store_request_insert(s, &r) == SCEP_E_TOOBIG,
	    "request: blob length without data");

	/* Guarded transitions. */
	tap_ok(store_request_transition(s, id1, REQ_PENDING, REQ_REJECTED,
	    NULL, "operator said no", 4100) == SCEP_OK,
	    "request: pending -> rejected");
	tap_ok(store_request_transition(s, id1, REQ_PENDING, REQ_ISSUED,
	    "AB", NULL, 4200) == SCEP_E_NOTFOUND,
	    "request: not pending any more");
	tap_ok(store_request_get(s, id1, &got) == SCEP_OK &&
	    got.status == REQ_REJECTED &&
	    strcmp(got.reason, "operator said no") == 0 &&
	    got.serial[0] == '\0' && got.updated_at == 4100,
	    "request: transition applied once");
	store_request_clear(&got);
	tap_ok(store_request_transition(s, id2, REQ_PENDING, REQ_ISSUED,
	    "1F", NULL, 4300) == SCEP_OK && store_request_get(s, id2, &got) ==
	    SCEP_OK && strcmp(got.serial, "1F") == 0 &&
	    got.status == REQ_ISSUED, "request: transition sets serial");
	store_request_clear(&got);
	tap_ok(store_request_transition(s, 999, REQ_PENDING, REQ_ISSUED,
	    NULL, NULL, 1) == SCEP_E_NOTFOUND, "request: transition missing");
	tap_ok(store_request_transition(s, id3, REQ_PENDING, 7, NULL, NULL,
	    1) == SCEP_E_INTERNAL, "request: transition to a bad status");
	tap_ok(store_request_transition(s, id3, REQ_PENDING, REQ_ISSUED,
	    "0abc", NULL, 1) == SCEP_E_MALFORMED,
	    "request: transition with a bad serial");

	/* Pending, newest first. */
	(void)mk_request(s, ep_id, 0, "tx-p1");
	(void)mk_request(s, ep_id, 0, "tx-p2");
	tap_ok(store_request_list_pending(s, list, 8, &n) == SCEP_OK &&
	    n == 3 && strcmp(list[0].transid, "tx-p2") == 0 &&
	    strcmp(list[1].transid, "tx-p1") == 0 && list[2].id == id3,
	    "request: pending list newest first (%zu)", n);
	for (i = 0; i < n; i++)
		store_request_clear(&list[i]);
	tap_ok(store_request_list_pending(s, list, 1, &n) == SCEP_OK &&
	    n == 1 && strcmp(list[0].transid, "tx-p2") == 0,
	    "request: pending list stops at max");
	store_request_clear(&list[0]);
}

/* Two threads race for the same transition: exactly one may win. */
struct race {
	struct store		*s;
	pthread_barrier_t	*bar;
	int64_t			 id;
	int			 to;
	int			 r;
};

static void *
race_main(void *arg)
{
	struct race *rc = arg;

	pthread_barrier_wait(rc->bar);
	rc->r = store_request_transition(rc->s, rc->id, REQ_PENDING, rc->to,
	    NULL, rc->to == REQ_REJECTED ? "rejected" : NULL, 5000);
	return NULL;
}

static void
test_race(struct store *s, int64_t ep_id)
{
	pthread_barrier_t bar;
	pthread_t t[2];
	struct race rc[2];
	struct store_request got;
	char tx[32];
	int i, k, ok = 0, bad = 0, consistent = 1;

	pthread_barrier_init(&bar, NULL, 2);
	for (i = 0; i < 40; i++) {
		snprintf(tx, sizeof(tx), "race-%d", i);
		for (k = 0; k < 2; k++) {
			rc[k].s = s;
			rc[k].bar = &bar;
			rc[k].id = mk_request(s, ep_id, 0, tx);
			rc[k].to = k == 0 ? REQ_ISSUED : REQ_REJECTED;
			rc[k].r = 99;
		}
		rc[1].id = rc[0].id;
		for (k = 0; k < 2; k++)
			pthread_create(&t[k], NULL, race_main, &rc[k]);
		for (k = 0; k < 2; k++)
			pthread_join(t[k], NULL);
		if ((rc[0].r == SCEP_OK) + (rc[1].r == SCEP_OK) == 1 &&
		    (rc[0].r == SCEP_E_NOTFOUND || rc[1].r == SCEP_E_NOTFOUND))
			ok++;
		else
			bad++;
		/* The row holds the winner's status. */
		if (store_request_get(s, rc[0].id, &got) != SCEP_OK ||
		    got.status != (rc[0].r == SCEP_OK ? REQ_ISSUED :
		    REQ_REJECTED))
			consistent = 0;
		store_request_clear(&got);
	}
	pthread_barrier_destroy(&bar);
	tap_ok(ok == 40 && bad == 0,
	    "race: exactly one of two transitions wins (%d/40)", ok);
	tap_ok(consistent, "race: the row holds the winner's status");
}

/* Two threads issue for the same request with different serials. */
struct issue_race {
	struct store		*s;
	pthread_barrier_t	*bar;
	struct store_cert	 c;
	int64_t			 rq;
	int			 r;
};

static void *
issue_race_main(void *arg)
{
	struct issue_race *ir = arg;

	pthread_barrier_wait(ir->bar);
	ir->r = store_cert_issue(ir->s, &ir->c, ir->rq, REQ_PENDING, 5500);
	return NULL;
}

static void
test_issue_race(struct store *s, int64_t ca_id, int64_t ep_id)
{
	pthread_barrier_t bar;
	pthread_t t[2];
	struct issue_race ir[2];
	char tx[32], serial[32];
	int64_t acc;
	int i, k, ok = 0;

	acc = mk_account(s, ep_id, "issue-race", 400, 0);
	pthread_barrier_init(&bar, NULL, 2);
	for (i = 0; i < 20; i++) {
		snprintf(tx, sizeof(tx), "issue-race-%d", i);
		for (k = 0; k < 2; k++) {
			snprintf(serial, sizeof(serial), "%X", 0xA000 + i * 2 + k);
			ir[k].s = s;
			ir[k].bar = &bar;
			cert_init(&ir[k].c, serial, ca_id, ep_id, acc);
			ir[k].r = 99;
		}
		ir[0].rq = ir[1].rq = mk_request(s, ep_id, acc, tx);
		for (k = 0; k < 2; k++)
			pthread_create(&t[k], NULL, issue_race_main, &ir[k]);
		for (k = 0; k < 2; k++)
			pthread_join(t[k], NULL);
		if ((ir[0].r == SCEP_OK && ir[1].r == SCEP_E_EXISTS) ||
		    (ir[1].r == SCEP_OK && ir[0].r == SCEP_E_EXISTS))
			ok++;
	}
	pthread_barrier_destroy(&bar);
	tap_ok(ok == 20, "issue race: one certificate per request (%d/20)",
	    ok);
	tap_ok(enrollments(s, acc) == 20,
	    "issue race: the loser counted nothing (%lld)",
	    (long long)enrollments(s, acc));
	tap_ok(raw_int("SELECT count(*) FROM certs c JOIN requests r "
	    "ON r.id = c.request_id WHERE r.transid LIKE 'issue-race-%'") ==
	    20, "issue race: 20 certificates for 20 requests");
}

static int
collect_revoked(void *arg, const char *serial, int64_t at, int reason)
{
	char *buf = arg;
	size_t len = strlen(buf);

	snprintf(buf + len, 256 - len, "%s/%lld/%d;", serial, (long long)at,
	    reason);
	return 0;
}

static int
stop_revoked(void *arg, const char *serial, int64_t at, int reason)
{
	int *count = arg;

	(void)serial;
	(void)at;
	(void)reason;
	(*count)++;
	return 42;
}

static void
test_certs(struct store *s, int64_t ca_id, int64_t ep_id)
{
	struct store_cert c, got;
	struct store_request req;
	int64_t acc, acc1, rq, rq2, rq3, v0;
	char buf[256];
	int count = 0;

	acc = mk_account(s, ep_id, "certs", 200, 3);
	rq = mk_request(s, ep_id, acc, "cert-1");
	tap_ok(acc > 0 && rq > 0, "cert: account and request");
	v0 = cfgver(s);

	cert_init(&c, "1A2B3C", ca_id, ep_id, acc);
	c.request_id = rq;
	tap_ok(store_cert_issue(s, &c, rq, REQ_PENDING, 6000) == SCEP_OK,
	    "cert: issue");
	tap_ok(store_request_get(s, rq, &req) == SCEP_OK &&
	    req.status == REQ_ISSUED && strcmp(req.serial, "1A2B3C") == 0 &&
	    req.updated_at == 6000, "cert: request moved to ISSUED");
	store_request_clear(&req);
	tap_ok(enrollments(s, acc) == 1, "cert: enrollment counted");
	tap_ok(cfgver(s) == v0, "cert: issue does not bump config_version");
	tap_ok(store_cert_get(s, "1A2B3C", &got) == SCEP_OK &&
	    strcmp(got.serial, "1A2B3C") == 0 && got.ca_id == ca_id &&
	    got.endpoint_id == ep_id && got.account_id == acc &&
	    got.request_id == rq && got.org_id == 7 && got.dept_id == 9 &&
	    strcmp(got.subject, "CN=device-1A2B3C") == 0 &&
	    memcmp(got.key_fp, c.key_fp, STORE_HASH_LEN) == 0 &&
	    got.not_before == 5000 && got.not_after == 5000 + 86400 &&
	    got.status == CERT_VALID && got.revoked_at == 0 &&
	    got.der_len == sizeof(certder) &&
	    memcmp(got.der, certder, sizeof(certder)) == 0 &&
	    got.created_at == 6000, "cert: get round trip");
	store_cert_clear(&got);
	tap_ok(got.der == NULL, "cert: clear");
	store_cert_clear(NULL);
	tap_ok(store_cert_get(s, "FFFF", &got) == SCEP_E_NOTFOUND,
	    "cert: get missing");

	/* Issuing again for an issued request: nothing written. */
	cert_init(&c, "1A2B3D", ca_id, ep_id, acc);
	tap_ok(store_cert_issue(s, &c, rq, REQ_PENDING, 6001) ==
	    SCEP_E_EXISTS, "cert: request no longer pending");
	tap_ok(store_cert_get(s, "1A2B3D", &got) == SCEP_E_NOTFOUND &&
	    enrollments(s, acc) == 1, "cert: ... and nothing written");

	/* Serial collision: the request stays pending, the count as it was. */
	rq2 = mk_request(s, ep_id, acc, "cert-2");
	cert_init(&c, "1A2B3C", ca_id, ep_id, acc);
	tap_ok(store_cert_issue(s, &c, rq2, REQ_PENDING, 6002) ==
	    SCEP_E_EXISTS, "cert: serial collision");
	tap_ok(store_request_get(s, rq2, &req) == SCEP_OK &&
	    req.status == REQ_PENDING && req.serial[0] == '\0' &&
	    req.updated_at == 4000, "cert: collision leaves request pending");
	store_request_clear(&req);
	tap_ok(enrollments(s, acc) == 1,
	    "cert: collision leaves the counter unchanged");
	/* The caller draws a new serial and succeeds. */
	cert_init(&c, "7F00", ca_id, ep_id, acc);
	tap_ok(store_cert_issue(s, &c, rq2, REQ_PENDING, 6003) == SCEP_OK &&
	    enrollments(s, acc) == 2, "cert: retry with a new serial");

	/* Serial spelling. */
	cert_init(&c, "abc", ca_id, ep_id, 0);
	tap_ok(store_cert_issue(s, &c, 0, 0, 1) == SCEP_E_MALFORMED,
	    "cert: lower-case serial refused");
	cert_init(&c, "0ABC", ca_id, ep_id, 0);
	tap_ok(store_cert_issue(s, &c, 0, 0, 1) == SCEP_E_MALFORMED,
	    "cert: leading zero refused");
	cert_init(&c, "", ca_id, ep_id, 0);
	tap_ok(store_cert_issue(s, &c, 0, 0, 1) == SCEP_E_MALFORMED,
	    "cert: empty serial refused");

	/* No request: an RA certificate, say. */
	cert_init(&c, "5A", ca_id, 0, 0);
	tap_ok(store_cert_issue(s, &c, 0, 0, 6004) == SCEP_OK &&
	    store_cert_get(s, "5A", &got) == SCEP_OK && got.request_id == 0 &&
	    got.endpoint_id == 0 && got.account_id == 0,
	    "cert: issue without a request");
	store_cert_clear(&got);
	cert_init(&c, "5B", ca_id + 100, 0, 0);
	tap_ok(store_cert_issue(s, &c, 0, 0, 6004) == SCEP_E_NOTFOUND,
	    "cert: unknown CA");
	cert_init(&c, "5C", ca_id, ep_id, acc);
	tap_ok(store_cert_issue(s, &c, 99999, REQ_PENDING, 6004) ==
	    SCEP_E_NOTFOUND && enrollments(s, acc) == 2,
	    "cert: unknown request, nothing counted");

	/* max_enrollments: 1 allowed, the second is denied, nothing moves. */
	acc1 = mk_account(s, ep_id, "once", 201, 1);
	rq = mk_request(s, ep_id, acc1, "max-1");
	rq3 = mk_request(s, ep_id, acc1, "max-2");
	cert_init(&c, "6A", ca_id, ep_id, acc1);
	tap_ok(store_cert_issue(s, &c, rq, REQ_PENDING, 7000) == SCEP_OK &&
	    enrollments(s, acc1) == 1, "cert: first enrollment of max 1");
	cert_init(&c, "6B", ca_id, ep_id, acc1);
	tap_ok(store_cert_issue(s, &c, rq3, REQ_PENDING, 7001) ==
	    SCEP_E_DENIED, "cert: max_enrollments reached");
	tap_ok(store_request_get(s, rq3, &req) == SCEP_OK &&
	    req.status == REQ_PENDING && req.serial[0] == '\0',
	    "cert: denied leaves the request pending");
	store_request_clear(&req);
	tap_ok(store_cert_get(s, "6B", &got) == SCEP_E_NOTFOUND &&
	    enrollments(s, acc1) == 1, "cert: denied writes no certificate");
	cert_init(&c, "6C", ca_id, ep_id, 99999);
	tap_ok(store_cert_issue(s, &c, 0, 0, 7002) == SCEP_E_NOTFOUND,
	    "cert: unknown account");

	/* Revocation and the CRL walk. */
	tap_ok(store_cert_revoke(s, "7F00", 1, 8000) == SCEP_OK,
	    "cert: revoke");
	tap_ok(store_cert_revoke(s, "7F00", 1, 8001) == SCEP_E_EXISTS,
	    "cert: revoke twice");
	tap_ok(store_cert_revoke(s, "BEEF", 1, 8001) == SCEP_E_NOTFOUND,
	    "cert: revoke missing");
	tap_ok(store_cert_revoke(s, "1A2B3C", 7, 8001) == SCEP_E_INTERNAL,
	    "cert: CRLReason 7 is unused");
	tap_ok(store_cert_revoke(s, "1A2B3C", 4, 7500) == SCEP_OK,
	    "cert: revoke another");
	tap_ok(store_cert_get(s, "7F00", &got) == SCEP_OK &&
	    got.status == CERT_REVOKED && got.revoked_at == 8000 &&
	    got.revoke_reason == 1, "cert: revocation recorded");
	store_cert_clear(&got);
	buf[0] = '\0';
	tap_ok(store_cert_revoked_each(s, ca_id, collect_revoked, buf) ==
	    SCEP_OK && strcmp(buf, "1A2B3C/7500/4;7F00/8000/1;") == 0,
	    "cert: revoked walk in revocation order (%s)", buf);
	tap_ok(store_cert_revoked_each(s, ca_id, stop_revoked, &count) == 42 &&
	    count == 1, "cert: callback stops the walk");
	buf[0] = '\0';
	tap_ok(store_cert_revoked_each(s, mk_ca(s, "Other CA"),
	    collect_revoked, buf) == SCEP_OK && buf[0] == '\0',
	    "cert: other CA has none");
}

static void
ev_init(struct store_event *e, int i)
{
	memset(e, 0, sizeof(*e));
	e->ts = 9000 + i;
	snprintf(e->kind, sizeof(e->kind), "enroll");
	snprintf(e->actor, sizeof(e->actor), "192.0.2.%d", i % 250);
	snprintf(e->action, sizeof(e->action), "PKCSReq");
	e->endpoint_id = 1;
	e->account_id = i;
	snprintf(e->transid, sizeof(e->transid), "ev-%d", i);
	snprintf(e->client_addr, sizeof(e->client_addr), "192.0.2.%d",
	    i % 250);
	snprintf(e->result, sizeof(e->result), "SUCCESS");
	e->failinfo = -1;
	snprintf(e->serial, sizeof(e->serial), "%X", 0x100 + i);
	snprintf(e->details, sizeof(e->details), "{\"n\":%d}", i);
}

/*
 * store_enroll_commit (issue 7): request, certificate and audit event in
 * one transaction, group-committed across threads.  Some of the
 * concurrent calls fail (a transactionID or a serial already taken): each
 * failure must undo only its own writes, every success must be complete.
 */
#define EC_THREADS	12

struct ec_arg {
	struct store		*s;
	pthread_barrier_t	*bar;
	struct store_request	 rq;
	struct store_cert	 c;
	struct store_event	 ev;
	int			 r;
};

static void *
ec_main(void *p)
{
	struct ec_arg *a = p;

	pthread_barrier_wait(a->bar);
	a->r = store_enroll_commit(a->s, &a->rq, &a->c, &a->ev);
	return NULL;
}

static void
test_enroll_commit(struct store *s, int64_t ca_id, int64_t ep_id)
{
	struct ec_arg *a = NULL;
	pthread_barrier_t bar;
	pthread_t t[EC_THREADS];
	struct store_request rq;
	struct store_cert got;
	int64_t acc, bad = -1, n0;
	char tid[64], ser[32];
	int i, ok = 1, failed = 0, chain_ok;

	chain_ok = store_event_verify(s, &bad) == SCEP_OK;
	acc = mk_account(s, ep_id, "enroll-commit", 0, 0);
	tap_ok(acc > 0, "enroll commit: account");

	/* One alone, then its duplicate transactionID and serial. */
	if ((a = calloc(EC_THREADS, sizeof(*a))) == NULL) {
		tap_ok(0, "enroll commit: calloc");
		return;
	}
	req_init(&a[0].rq, ep_id, acc, "ec-single");
	cert_init(&a[0].c, "EC00", ca_id, ep_id, acc);
	ev_init(&a[0].ev, 500);
	tap_ok(store_enroll_commit(s, &a[0].rq, &a[0].c, &a[0].ev) ==
	    SCEP_OK && a[0].rq.id > 0 && a[0].ev.id > 0,
	    "enroll commit: one enrollment");
	memset(&rq, 0, sizeof(rq));
	tap_ok(store_request_get(s, a[0].rq.id, &rq) == SCEP_OK &&
	    rq.status == REQ_ISSUED && strcmp(rq.serial, "EC00") == 0,
	    "enroll commit: request is ISSUED with its serial");
	store_request_clear(&rq);
	memset(&got, 0, sizeof(got));
	tap_ok(store_cert_get(s, "EC00", &got) == SCEP_OK &&
	    got.request_id == a[0].rq.id && enrollments(s, acc) == 1,
	    "enroll commit: certificate linked, enrollment counted");
	store_cert_clear(&got);

	n0 = a[0].ev.id;
	ev_init(&a[1].ev, 501);
	req_init(&a[1].rq, ep_id, acc, "ec-taken-serial");
	cert_init(&a[1].c, "EC00", ca_id, ep_id, acc);
	tap_ok(store_enroll_commit(s, &a[1].rq, &a[1].c, &a[1].ev) ==
	    SCEP_E_EXISTS && store_request_find(s, ep_id,
	    "ec-taken-serial", &rq) == SCEP_E_NOTFOUND &&
	    enrollments(s, acc) == 1,
	    "enroll commit: taken serial refused, request not recorded");
	tap_ok(store_enroll_commit(s, &a[1].rq, NULL, NULL) == SCEP_OK &&
	    store_request_get(s, a[1].rq.id, &rq) == SCEP_OK &&
	    rq.status == REQ_PENDING,
	    "enroll commit: request alone (no certificate, no event)");
	store_request_clear(&rq);

	/* Concurrent: every third one reuses a serial already taken and
	 * must fail alone, its request not recorded. */
	memset(a, 0, EC_THREADS * sizeof(*a));
	pthread_barrier_init(&bar, NULL, EC_THREADS);
	for (i = 0; i < EC_THREADS; i++) {
		a[i].s = s;
		a[i].bar = &bar;
		snprintf(tid, sizeof(tid), "ec-par-%d", i);
		req_init(&a[i].rq, ep_id, acc, tid);
		if (i % 3 == 2)
			snprintf(ser, sizeof(ser), "EC00");	/* taken */
		else
			snprintf(ser, sizeof(ser), "EC1%02X", i);
		cert_init(&a[i].c, ser, ca_id, ep_id, acc);
		ev_init(&a[i].ev, 600 + i);
		if (pthread_create(&t[i], NULL, ec_main, &a[i]) != 0)
			ok = 0;
	}
	for (i = 0; i < EC_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&bar);
	for (i = 0; i < EC_THREADS; i++) {
		snprintf(ser, sizeof(ser), "EC1%02X", i);
		snprintf(tid, sizeof(tid), "ec-par-%d", i);
		if (i % 3 == 2) {
			failed++;
			if (a[i].r != SCEP_E_EXISTS || store_request_find(s,
			    ep_id, tid, &rq) != SCEP_E_NOTFOUND)
				ok = 0;
			continue;
		}
		if (a[i].r != SCEP_OK || a[i].ev.id <= n0 ||
		    store_cert_get(s, ser, &got) != SCEP_OK ||
		    got.request_id != a[i].rq.id)
			ok = 0;
		store_cert_clear(&got);
	}
	tap_ok(ok, "enroll commit: %d concurrent, the %d duplicates fail "
	    "alone, the others are complete", EC_THREADS, failed);
	tap_ok(enrollments(s, acc) == 1 + EC_THREADS - failed,
	    "enroll commit: enrollments counted once each");
	if (chain_ok)
		tap_ok(store_event_verify(s, &bad) == SCEP_OK,
		    "enroll commit: audit chain still verifies");
	free(a);
}

static void
test_events(struct store *s, struct store_event *ev, size_t nev)
{
	struct store_event e;
	uint8_t last[STORE_HASH_LEN];
	int64_t bad = -1, first = 0;
	size_t n = 0, i;
	int ok = 1, linked = 1;
	char sql[256];

	memset(last, 0, sizeof(last));
	for (i = 0; i < 10; i++) {
		ev_init(&e, (int)i);
		if (store_event_append(s, &e) != SCEP_OK)
			ok = 0;
		if (i == 0)
			first = e.id;
		if (e.id != first + (int64_t)i ||
		    (i > 0 && memcmp(e.prev_hash, last, sizeof(last)) != 0))
			linked = 0;
		memcpy(last, e.hash, sizeof(last));
	}
	tap_ok(ok && first > 0, "event: append 10");
	tap_ok(linked, "event: ids consecutive, each links to the previous");
	tap_ok(store_event_list(s, first - 1, ev, 4, &n) == SCEP_OK &&
	    n == 4 && ev[0].id == first && ev[3].id == first + 3 &&
	    strcmp(ev[0].transid, "ev-0") == 0 && ev[0].failinfo == -1 &&
	    strcmp(ev[2].details, "{\"n\":2}") == 0,
	    "event: list oldest first, up to max");
	tap_ok(store_event_list(s, first + 7, ev, nev, &n) == SCEP_OK &&
	    n == 2 && ev[1].id == first + 9 &&
	    memcmp(ev[1].hash, last, sizeof(last)) == 0,
	    "event: list after an id, with the hash");
	tap_ok(store_event_verify(s, &bad) == SCEP_OK && bad == 0,
	    "event: chain verifies");

	/* Tamper behind the store's back: alter one field of one row. */
	snprintf(sql, sizeof(sql), "UPDATE events SET reason = 'edited' "
	    "WHERE id = %lld", (long long)(first + 4));
	tap_ok(raw_exec(sql) == 0, "raw: alter event %lld",
	    (long long)(first + 4));
	tap_ok(store_event_verify(s, &bad) == SCEP_E_MALFORMED &&
	    bad == first + 4, "event: altered row found (%lld)",
	    (long long)bad);
	snprintf(sql, sizeof(sql), "UPDATE events SET reason = '' "
	    "WHERE id = %lld", (long long)(first + 4));
	tap_ok(raw_exec(sql) == 0 && store_event_verify(s, &bad) == SCEP_OK,
	    "event: restored row verifies again");
	snprintf(sql, sizeof(sql), "UPDATE events SET failinfo = 2 "
	    "WHERE id = %lld", (long long)(first + 2));
	tap_ok(raw_exec(sql) == 0 && store_event_verify(s, &bad) ==
	    SCEP_E_MALFORMED && bad == first + 2,
	    "event: altered integer found");
	snprintf(sql, sizeof(sql), "UPDATE events SET failinfo = -1 "
	    "WHERE id = %lld", (long long)(first + 2));
	tap_ok(raw_exec(sql) == 0, "raw: restore");
	/* Removing a row breaks the link of the next one. */
	snprintf(sql, sizeof(sql), "DELETE FROM events WHERE id = %lld",
	    (long long)(first + 6));
	tap_ok(raw_exec(sql) == 0 && store_event_verify(s, &bad) ==
	    SCEP_E_MALFORMED && bad == first + 7,
	    "event: deleted row found at the next id (%lld)", (long long)bad);

	/* Rebuild a clean chain for the concurrency test. */
	tap_ok(raw_exec("DELETE FROM events") == 0 &&
	    store_event_verify(s, &bad) == SCEP_OK, "event: empty chain");
	ev_init(&e, 0);
	memset(e.kind, 'k', sizeof(e.kind));
	tap_ok(store_event_append(s, &e) == SCEP_E_TOOBIG,
	    "event: unterminated field");
	ev_init(&e, 0);
	tap_ok(store_event_append(s, &e) == SCEP_OK && e.id == 1,
	    "event: chain restarts at id 1");
	memset(last, 0, sizeof(last));
	tap_ok(memcmp(e.prev_hash, last, sizeof(last)) == 0,
	    "event: first row links to zeros");
}

static void
test_tokens(struct store *s)
{
	uint8_t h[STORE_HASH_LEN];
	char name[STORE_NAME_MAX], small[3];

	fill_hash(h, 300);
	tap_ok(store_token_insert(s, "ci-bot", h, 100) == SCEP_OK,
	    "token: insert");
	tap_ok(store_token_insert(s, "other", h, 101) == SCEP_E_EXISTS,
	    "token: hash is unique");
	tap_ok(store_token_check(s, h, name, sizeof(name)) == SCEP_OK &&
	    strcmp(name, "ci-bot") == 0, "token: check");
	tap_ok(store_token_check(s, h, small, sizeof(small)) ==
	    SCEP_E_TOOBIG && small[0] == '\0', "token: small buffer");
	fill_hash(h, 301);
	tap_ok(store_token_check(s, h, name, sizeof(name)) ==
	    SCEP_E_NOTFOUND && name[0] == '\0', "token: unknown");
}

/* 8 writers x 200 inserts, half requests, half audit events. */
#define NTHREADS	8
#define NINSERTS	200

struct writer {
	struct store	*s;
	int64_t		 ep_id;
	int		 n;
	int		 errors;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct store_request r;
	struct store_event *e = NULL;
	char tx[64];
	int i;

	if ((e = malloc(sizeof(*e))) == NULL) {
		w->errors = NINSERTS;
		return NULL;
	}
	for (i = 0; i < NINSERTS; i++) {
		if (i % 2 == 0) {
			snprintf(tx, sizeof(tx), "conc-%d-%d", w->n, i);
			req_init(&r, w->ep_id, 0, tx);
			if (store_request_insert(w->s, &r) != SCEP_OK)
				w->errors++;
		} else {
			ev_init(e, w->n * 1000 + i);
			if (store_event_append(w->s, e) != SCEP_OK)
				w->errors++;
		}
	}
	free(e);
	return NULL;
}

/* More readers than pooled connections: they queue, none fails. */
struct reader {
	struct store	*s;
	int64_t		 ep_id;
	int		 errors;
};

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	struct store_endpoint ep;
	int i;

	for (i = 0; i < 100; i++)
		if (store_endpoint_get(rd->s, rd->ep_id, &ep) != SCEP_OK ||
		    ep.id != rd->ep_id)
			rd->errors++;
	return NULL;
}

static void
test_concurrency(struct store *s, int64_t ep_id)
{
	pthread_t t[NTHREADS], tr[24];
	struct writer w[NTHREADS];
	struct reader rd[24];
	int64_t bad = -1, reqs0, evs0;
	int i, errors = 0;

	reqs0 = raw_int("SELECT count(*) FROM requests");
	evs0 = raw_int("SELECT count(*) FROM events");
	for (i = 0; i < NTHREADS; i++) {
		w[i].s = s;
		w[i].ep_id = ep_id;
		w[i].n = i;
		w[i].errors = 0;
		pthread_create(&t[i], NULL, writer_main, &w[i]);
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		errors += w[i].errors;
	}
	tap_ok(errors == 0, "concurrency: %d x %d inserts, %d errors",
	    NTHREADS, NINSERTS, errors);
	tap_ok(raw_int("SELECT count(*) FROM requests") ==
	    reqs0 + NTHREADS * NINSERTS / 2, "concurrency: every request row");
	tap_ok(raw_int("SELECT count(*) FROM events") ==
	    evs0 + NTHREADS * NINSERTS / 2, "concurrency: every event row");
	tap_ok(store_event_verify(s, &bad) == SCEP_OK,
	    "concurrency: one unbroken chain (bad %lld)", (long long)bad);
	tap_ok(raw_int("SELECT count(*) FROM events e "
	    "WHERE e.id > 1 AND NOT EXISTS (SELECT 1 FROM events p "
	    "WHERE p.id = e.id - 1)") == 0, "concurrency: ids without gaps");

	errors = 0;
	for (i = 0; i < 24; i++) {
		rd[i].s = s;
		rd[i].ep_id = ep_id;
		rd[i].errors = 0;
		pthread_create(&tr[i], NULL, reader_main, &rd[i]);
	}
	for (i = 0; i < 24; i++) {
		pthread_join(tr[i], NULL);
		errors += rd[i].errors;
	}
	tap_ok(errors == 0, "concurrency: 24 readers share the pool");
}

static void
test_misc(struct store *s)
{
	int64_t v = 0;
	size_t n = 5;

	tap_ok(store_config_version(NULL, &v) == SCEP_E_INTERNAL,
	    "NULL store");
	tap_ok(store_config_version(s, NULL) == SCEP_E_INTERNAL,
	    "NULL out");
	tap_ok(store_request_list_pending(s, NULL, 3, &n) == SCEP_E_INTERNAL,
	    "NULL list with max > 0");
	tap_ok(store_event_verify(s, NULL) == SCEP_E_INTERNAL,
	    "verify: NULL bad_id");
}

static void
cleanup(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm",
	    "-journal" };
	char p[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", dbpath, suffix[i]);
		(void)unlink(p);
	}
	(void)rmdir(dir);
}

int
main(void)
{
	struct store *s = NULL;
	struct store_event *ev = NULL;
	const char *tmp = NULL;
	int64_t ca_id = 0, ep_id, ep2_id;

	if ((tmp = getenv("STORE_TEST_DSN")) != NULL &&
	    (strncmp(tmp, "postgresql://", 13) == 0 ||
	    strncmp(tmp, "postgres://", 11) == 0)) {
#ifdef STORE_HAVE_PG
		pg_dsn = tmp;
		printf("# PostgreSQL: STORE_TEST_DSN\n");
#else
		printf("1..0 # SKIP built without the PostgreSQL backend\n");
		return 0;
#endif
	}
	if ((tmp = getenv("TMPDIR")) == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/scepd-store-XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp %s\n", dir);
		return 1;
	}
	if (snprintf(dbpath, sizeof(dbpath), "%s/store.db", dir) >=
	    (int)sizeof(dbpath)) {
		printf("Bail out! path too long\n");
		cleanup();
		return 1;
	}

	test_open();
	if (store_open(test_dsn(), &s) != SCEP_OK) {
		printf("Bail out! cannot open %s\n", pg_dsn != NULL ?
		    "STORE_TEST_DSN" : dbpath);
		cleanup();
		return 1;
	}
	if ((ev = calloc(16, sizeof(*ev))) == NULL) {
		printf("Bail out! calloc\n");
		store_close(s);
		cleanup();
		return 1;
	}
	tap_ok(cfgver(s) == 0, "config_version starts at 0");
	test_settings(s);
	test_ca_ra(s, &ca_id);
	test_endpoints(s, ca_id);
	ep_id = mk_endpoint(s, ca_id, "main");
	ep2_id = mk_endpoint(s, ca_id, "second");
	tap_ok(ep_id > 0 && ep2_id > 0, "two endpoints for the rest");
	test_accounts(s, ep_id);
	test_requests(s, ep_id, ep2_id);
	test_requests_live(s, ep_id);
	test_race(s, ep_id);
	test_certs(s, ca_id, ep_id);
	test_issue_race(s, ca_id, ep_id);
	test_events(s, ev, 16);
	test_enroll_commit(s, ca_id, ep_id);
	test_tokens(s);
	test_concurrency(s, ep_id);
	test_misc(s);

	store_close(s);
	test_redact(ep_id);
	free(ev);
	cleanup();
	return tap_done();
}
