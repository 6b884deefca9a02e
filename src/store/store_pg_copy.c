/*
 * store_pg_copy.c -- `scepd migrate --from sqlite:PATH --to
 * postgresql://...` (issue 6): move an embedded deployment to PostgreSQL
 * with nothing lost.  Every row of every table is copied with its id, its
 * bytes and its hashes, so that references between rows, the audit chain
 * (whose hashes cover the ids) and the certificates stay exactly as they
 * were; then counts and the chain are checked before anything is
 * committed.
 *
 * Constant SQL on both sides: one SELECT (SQLite) and one INSERT
 * (PostgreSQL, prepared once) per table, from the table below.  The
 * table lists the columns of the schema at this build's version, which
 * both stores are brought to (store_open migrates them) before the copy.
 * A new migration that adds a table or a column must add it here too:
 * the count check catches a missing table, tests/pg/test_migrate.sh a
 * missing column.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "scep_err.h"
#include "store.h"
#include "store_int.h"
#include "store_pg.h"
#include "store_pg_int.h"

/*
 * The tables in an order that satisfies every foreign key.  "types" has
 * one letter per column: i integer, t text, b byte string (each may be
 * NULL).  "setval" moves the identity sequence past the copied ids (NULL
 * for tables whose key is not an identity).
 */
static const struct copy_table {
	const char	*name;
	const char	*types;
	const char	*select;	/* SQLite */
	const char	*insert;	/* PostgreSQL */
	const char	*count;		/* both */
	const char	*setval;	/* PostgreSQL */
} tables[] = {
	{ "settings", "tt",
	    "SELECT key, value FROM settings ORDER BY key",
	    "INSERT INTO settings (key, value) VALUES ($1, $2) ON "
	    "CONFLICT (key) DO UPDATE SET value = excluded.value",
	    "SELECT count(*) FROM settings",
	    NULL },
	{ "cas", "ittbi",
	    "SELECT id, name, key_path, cert_der, created_at FROM cas "
	    "ORDER BY id",
	    "INSERT INTO cas (id, name, key_path, cert_der, created_at) "
	    "VALUES ($1, $2, $3, $4, $5)",
	    "SELECT count(*) FROM cas",
	    "SELECT setval(pg_get_serial_sequence('cas', 'id'), "
	    "COALESCE(MAX(id), 0) + 1, false) FROM cas" },
	{ "ras", "iiiitbi",
	    "SELECT id, ca_id, state, usage, key_path, cert_der, "
	    "created_at FROM ras ORDER BY id",
	    "INSERT INTO ras (id, ca_id, state, usage, key_path, "
	    "cert_der, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
	    "SELECT count(*) FROM ras",
	    "SELECT setval(pg_get_serial_sequence('ras', 'id'), "
	    "COALESCE(MAX(id), 0) + 1, false) FROM ras" },
	{ "organizations", "iti",
	    "SELECT id, name, created_at FROM organizations ORDER BY id",
	    "INSERT INTO organizations (id, name, created_at) VALUES "
	    "($1, $2, $3)",
	    "SELECT count(*) FROM organizations",
	    "SELECT setval(pg_get_serial_sequence('organizations', "
	    "'id'), COALESCE(MAX(id), 0) + 1, false) FROM organizations" },
	{ "departments", "iiti",
	    "SELECT id, org_id, name, created_at FROM departments ORDER "
	    "BY id",
	    "INSERT INTO departments (id, org_id, name, created_at) "
	    "VALUES ($1, $2, $3, $4)",
	    "SELECT count(*) FROM departments",
	    "SELECT setval(pg_get_serial_sequence('departments', 'id'), "
	    "COALESCE(MAX(id), 0) + 1, false) FROM departments" },
	{ "endpoints", "ittiiiiiiiiiiiiiiiiiiii",
	    "SELECT id, name, uri_ext, type, ca_id, ra_id, "
	    "min_rsa_bits, allow_ec, term_days, server_auth, renewal, "
	    "renewal_window_days, copy_sans, getcacert_chain, "
	    "getcert_chain, manual_approval, legacy, enabled, "
	    "delegation_general, org_id, dept_id, created_at, "
	    "deleted_at FROM endpoints ORDER BY id",
	    "INSERT INTO endpoints (id, name, uri_ext, type, ca_id, "
	    "ra_id, min_rsa_bits, allow_ec, term_days, server_auth, "
	    "renewal, renewal_window_days, copy_sans, getcacert_chain, "
	    "getcert_chain, manual_approval, legacy, enabled, "
	    "delegation_general, org_id, dept_id, created_at, "
	    "deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
	    "$10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, "
	    "$21, $22, $23)",
	    "SELECT count(*) FROM endpoints",
	    "SELECT setval(pg_get_serial_sequence('endpoints', 'id'), "
	    "COALESCE(MAX(id), 0) + 1, false) FROM endpoints" },
	{ "accounts", "iitiiiiiibi",
	    "SELECT id, endpoint_id, name, org_id, dept_id, enabled, "
	    "expires_at, max_enrollments, enrollments, challenge_hash, "
	    "created_at FROM accounts ORDER BY id",
	    "INSERT INTO accounts (id, endpoint_id, name, org_id, "
	    "dept_id, enabled, expires_at, max_enrollments, "
	    "enrollments, challenge_hash, created_at) VALUES ($1, $2, "
	    "$3, $4, $5, $6, $7, $8, $9, $10, $11)",
	    "SELECT count(*) FROM accounts",
	    "SELECT setval(pg_get_serial_sequence('accounts', 'id'), "
	    "COALESCE(MAX(id), 0) + 1, false) FROM accounts" },
	{ "account_rules", "itt",
	    "SELECT account_id, cn_pattern, san_pattern FROM "
	    "account_rules ORDER BY account_id",
	    "INSERT INTO account_rules (account_id, cn_pattern, "
	    "san_pattern) VALUES ($1, $2, $3)",
	    "SELECT count(*) FROM account_rules",
	    NULL },
	{ "one_time_challenges", "iibiii",
	    "SELECT id, account_id, challenge_hash, created_at, "
	    "expires_at, used_at FROM one_time_challenges ORDER BY id",
	    "INSERT INTO one_time_challenges (id, account_id, "
	    "challenge_hash, created_at, expires_at, used_at) VALUES "
	    "($1, $2, $3, $4, $5, $6)",
	    "SELECT count(*) FROM one_time_challenges",
	    "SELECT "
	    "setval(pg_get_serial_sequence('one_time_challenges', "
	    "'id'), COALESCE(MAX(id), 0) + 1, false) FROM "
	    "one_time_challenges" },
	{ "requests", "iiitbiittbbii",
	    "SELECT id, endpoint_id, account_id, transid, key_fp, "
	    "msgtype, status, serial, reason, csr_der, signer_der, "
	    "created_at, updated_at FROM requests ORDER BY id",
	    "INSERT INTO requests (id, endpoint_id, account_id, "
	    "transid, key_fp, msgtype, status, serial, reason, csr_der, "
	    "signer_der, created_at, updated_at) VALUES ($1, $2, $3, "
	    "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
	    "SELECT count(*) FROM requests",
	    "SELECT setval(pg_get_serial_sequence('requests', 'id'), "
	    "COALESCE(MAX(id), 0) + 1, false) FROM requests" },
	{ "certs", "itiiiiiitbiiiiibi",
	    "SELECT id, serial, ca_id, endpoint_id, account_id, "
	    "request_id, org_id, dept_id, subject, key_fp, not_before, "
	    "not_after, status, revoked_at, revoke_reason, der, "
	    "created_at FROM certs ORDER BY id",
	    "INSERT INTO certs (id, serial, ca_id, endpoint_id, "
	    "account_id, request_id, org_id, dept_id, subject, key_fp, "
	    "not_before, not_after, status, revoked_at, revoke_reason, "
	    "der, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	    "$9, $10, $11, $12, $13, $14, $15, $16, $17)",
	    "SELECT count(*) FROM certs",
	    "SELECT setval(pg_get_serial_sequence('certs', 'id'), "
	    "COALESCE(MAX(id), 0) + 1, false) FROM certs" },
	{ "events", "iitttiitttitttbb",
	    "SELECT id, ts, kind, actor, action, endpoint_id, "
	    "account_id, transid, client_addr, result, failinfo, "
	    "reason, serial, details, prev_hash, hash FROM events ORDER "
	    "BY id",
	    "INSERT INTO events (id, ts, kind, actor, action, "
	    "endpoint_id, account_id, transid, client_addr, result, "
	    "failinfo, reason, serial, details, prev_hash, hash) VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
	    "$14, $15, $16)",
	    "SELECT count(*) FROM events",
	    NULL },
	{ "administrators", "itttiii",
	    "SELECT id, name, role, password_hash, created_at, "
	    "disabled, cert_types FROM administrators ORDER BY id",
	    "INSERT INTO administrators (id, name, role, password_hash, "
	    "created_at, disabled, cert_types) VALUES ($1, $2, $3, $4, "
	    "$5, $6, $7)",
	    "SELECT count(*) FROM administrators",
	    "SELECT setval(pg_get_serial_sequence('administrators', "
	    "'id'), COALESCE(MAX(id), 0) + 1, false) FROM "
	    "administrators" },
	{ "admin_scopes", "iiii",
	    "SELECT id, admin_id, org_id, dept_id FROM admin_scopes "
	    "ORDER BY id",
	    "INSERT INTO admin_scopes (id, admin_id, org_id, dept_id) "
	    "VALUES ($1, $2, $3, $4)",
	    "SELECT count(*) FROM admin_scopes",
	    "SELECT setval(pg_get_serial_sequence('admin_scopes', "
	    "'id'), COALESCE(MAX(id), 0) + 1, false) FROM admin_scopes" },
	{ "endpoint_delegations", "iiii",
	    "SELECT id, endpoint_id, org_id, dept_id FROM "
	    "endpoint_delegations ORDER BY id",
	    "INSERT INTO endpoint_delegations (id, endpoint_id, org_id, "
	    "dept_id) VALUES ($1, $2, $3, $4)",
	    "SELECT count(*) FROM endpoint_delegations",
	    "SELECT "
	    "setval(pg_get_serial_sequence('endpoint_delegations', "
	    "'id'), COALESCE(MAX(id), 0) + 1, false) FROM "
	    "endpoint_delegations" },
	{ "api_tokens", "itbiiiii",
	    "SELECT id, name, token_hash, created_at, admin_id, "
	    "expires_at, revoked_at, last_used_at FROM api_tokens ORDER "
	    "BY id",
	    "INSERT INTO api_tokens (id, name, token_hash, created_at, "
	    "admin_id, expires_at, revoked_at, last_used_at) VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, $8)",
	    "SELECT count(*) FROM api_tokens",
	    "SELECT setval(pg_get_serial_sequence('api_tokens', 'id'), "
	    "COALESCE(MAX(id), 0) + 1, false) FROM api_tokens" },
	{ "admin_sessions", "iibbtii",
	    "SELECT id, admin_id, sid_hash, csrf_hash, client_addr, "
	    "created_at, expires_at FROM admin_sessions ORDER BY id",
	    "INSERT INTO admin_sessions (id, admin_id, sid_hash, "
	    "csrf_hash, client_addr, created_at, expires_at) VALUES "
	    "($1, $2, $3, $4, $5, $6, $7)",
	    "SELECT count(*) FROM admin_sessions",
	    "SELECT setval(pg_get_serial_sequence('admin_sessions', "
	    "'id'), COALESCE(MAX(id), 0) + 1, false) FROM "
	    "admin_sessions" },
	{ "login_failures", "iti",
	    "SELECT id, key, ts FROM login_failures ORDER BY id",
	    "INSERT INTO login_failures (id, key, ts) VALUES ($1, $2, "
	    "$3)",
	    "SELECT count(*) FROM login_failures",
	    "SELECT setval(pg_get_serial_sequence('login_failures', "
	    "'id'), COALESCE(MAX(id), 0) + 1, false) FROM "
	    "login_failures" },
	/* Azure accounts and Intune endpoint settings (issue 5). */
	{ "azure_accounts", "itittbttttttttbtiiiii",
	    "SELECT id, name, environment, tenant_id, client_id, "
	    "secret_sealed, authority_url, graph_url, intune_resource_url, "
	    "intune_app_id, graph_scope, intune_scope, proxy, proxy_user, "
	    "proxy_password_sealed, ca_bundle_path, revocation_poll, "
	    "delegation_general, created_at, updated_at, deleted_at FROM "
	    "azure_accounts ORDER BY id",
	    "INSERT INTO azure_accounts (id, name, environment, tenant_id, "
	    "client_id, secret_sealed, authority_url, graph_url, "
	    "intune_resource_url, intune_app_id, graph_scope, intune_scope, "
	    "proxy, proxy_user, proxy_password_sealed, ca_bundle_path, "
	    "revocation_poll, delegation_general, created_at, updated_at, "
	    "deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
	    "$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
	    "SELECT count(*) FROM azure_accounts",
	    "SELECT setval(pg_get_serial_sequence('azure_accounts', 'id'), "
	    "COALESCE(MAX(id), 0) + 1, false) FROM azure_accounts" },
	{ "azure_account_delegations", "iiii",
	    "SELECT id, account_id, org_id, dept_id FROM "
	    "azure_account_delegations ORDER BY id",
	    "INSERT INTO azure_account_delegations (id, account_id, org_id, "
	    "dept_id) VALUES ($1, $2, $3, $4)",
	    "SELECT count(*) FROM azure_account_delegations",
	    "SELECT setval(pg_get_serial_sequence("
	    "'azure_account_delegations', 'id'), COALESCE(MAX(id), 0) + 1, "
	    "false) FROM azure_account_delegations" },
	{ "intune_endpoints", "iiiitt",
	    "SELECT id, endpoint_id, azure_account_id, wait_success, "
	    "ca_configuration, issuing_ca FROM intune_endpoints ORDER BY id",
	    "INSERT INTO intune_endpoints (id, endpoint_id, "
	    "azure_account_id, wait_success, ca_configuration, issuing_ca) "
	    "VALUES ($1, $2, $3, $4, $5, $6)",
	    "SELECT count(*) FROM intune_endpoints",
	    "SELECT setval(pg_get_serial_sequence('intune_endpoints', "
	    "'id'), COALESCE(MAX(id), 0) + 1, false) FROM intune_endpoints" },

};

#define NTABLES	(sizeof(tables) / sizeof(tables[0]))

/* Slots of the prepared statements: three per table, then our own. */
#define SLOT_INSERT(i)	(PG_SLOT_COPY + 3 * (int)(i))
#define SLOT_COUNT(i)	(PG_SLOT_COPY + 3 * (int)(i) + 1)
#define SLOT_SETVAL(i)	(PG_SLOT_COPY + 3 * (int)(i) + 2)
#define SLOT_LOCK	(PG_SLOT_COPY + 3 * (int)NTABLES)
#define SLOT_EMPTY	(SLOT_LOCK + 1)
_Static_assert(PG_SLOT_COPY + 3 * (sizeof(tables) / sizeof(tables[0])) + 2
    <= PG_SLOT_AZURE, "statement slots overflow");

/* The target must hold nothing but what migrations put there. */
static const char sql_empty[] =
    "SELECT (SELECT count(*) FROM cas) + (SELECT count(*) FROM ras) + "
    "(SELECT count(*) FROM organizations) + "
    "(SELECT count(*) FROM endpoints) + (SELECT count(*) FROM accounts) + "
    "(SELECT count(*) FROM requests) + (SELECT count(*) FROM certs) + "
    "(SELECT count(*) FROM events) + "
    "(SELECT count(*) FROM administrators) + "
    "(SELECT count(*) FROM api_tokens)";
/* Against a second `scepd migrate` or a node migrating at the same time. */
static const char sql_lock[] =
    "SELECT pg_advisory_xact_lock(" PG_LOCK_MIGRATE ")";

static void	say(struct store_copy_report *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* What went wrong, for the person running `scepd migrate`. */
static void
say(struct store_copy_report *rep, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rep->error, sizeof(rep->error), fmt, ap);
	va_end(ap);
}

/* One integer from a one-row PostgreSQL result. */
static int
pg_count(struct pg_conn *c, const struct pg_stmt *st, int64_t *v)
{
	PGresult *res = NULL;
	struct pg_col cl;
	int r;

	*v = 0;
	if ((r = pg_exec_row(c, st, NULL, &res)) == SCEP_OK) {
		pg_col_init(&cl, res, 0);
		*v = c_i64(&cl);
		r = cl.r;
	}
	PQclear(res);
	return r;
}

/* One integer (or a 32-byte hash) from SQLite. */
static int
sq_one(sqlite3 *db, const char *sql, int64_t *v, uint8_t *hash)
{
	sqlite3_stmt *st = NULL;
	int rc, r = SCEP_E_STORE;

	if (v != NULL)
		*v = 0;
	if (hash != NULL)
		memset(hash, 0, STORE_HASH_LEN);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = SCEP_OK;		/* no row: 0, zero hash */
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	if (v != NULL)
		*v = sqlite3_column_int64(st, 0);
	if (hash != NULL) {
		if (sqlite3_column_bytes(st, 0) != STORE_HASH_LEN)
			goto out;
		memcpy(hash, sqlite3_column_blob(st, 0), STORE_HASH_LEN);
	}
	r = SCEP_OK;
 out:
	sqlite3_finalize(st);
	return r;
}

/*
 * Copy one table: each SQLite row becomes the parameters of the prepared
 * INSERT, column by column as its type letter says.  A value of another
 * type than the schema's (SQLite does not enforce types) stops the copy.
 */
static int
copy_rows(sqlite3 *db, struct pg_conn *c, size_t ti,
    struct store_copy_report *rep)
{
	const struct copy_table *t = &tables[ti];
	const struct pg_stmt ins = { SLOT_INSERT(ti), t->insert };
	sqlite3_stmt *st = NULL;
	struct pg_params p;
	size_t ncol = strlen(t->types), k;
	int rc, type, r = SCEP_E_STORE;

	if (ncol > PG_MAXPARAMS) {
		say(rep, "%s: too many columns", t->name);
		return SCEP_E_INTERNAL;
	}
	if (sqlite3_prepare_v2(db, t->select, -1, &st, NULL) != SQLITE_OK) {
		say(rep, "%s: cannot read the SQLite table: %s", t->name,
		    sqlite3_errmsg(db));
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		pg_params_init(&p);
		for (k = 0; k < ncol; k++) {
			type = sqlite3_column_type(st, (int)k);
			if (type == SQLITE_NULL) {
				if (t->types[k] == 'b')
					p_blob_opt(&p, NULL, 0);
				else
					p_text(&p, NULL);
				continue;
			}
			switch (t->types[k]) {
			case 'i':
				if (type != SQLITE_INTEGER) {
					say(rep, "%s column %s: not an "
					    "integer", t->name,
					    sqlite3_column_name(st, (int)k));
					r = SCEP_E_MALFORMED;
					goto out;
				}
				p_i64(&p, sqlite3_column_int64(st, (int)k));
				break;
			case 't':
				/* Text binds borrow the row's memory, valid
				 * until the next step. */
				p_text(&p, (const char *)
				    sqlite3_column_text(st, (int)k));
				break;
			default:
				if (sqlite3_column_bytes(st, (int)k) >
				    STORE_BLOB_MAX) {
					say(rep, "%s column %s: byte string "
					    "too long", t->name,
					    sqlite3_column_name(st, (int)k));
					r = SCEP_E_TOOBIG;
					goto out;
				}
				p_blob(&p, sqlite3_column_blob(st, (int)k),
				    (size_t)sqlite3_column_bytes(st, (int)k));
				break;
			}
		}
		if ((r = pg_exec_cmd(c, &ins, &p, NULL)) != SCEP_OK) {
			say(rep, "%s: PostgreSQL refused a row (%s)", t->name,
			    scep_strerror(r));
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		say(rep, "%s: reading SQLite failed: %s", t->name,
		    sqlite3_errmsg(db));
		r = SCEP_E_STORE;
		goto out;
	}
	r = SCEP_OK;
 out:
	sqlite3_finalize(st);
	return r;
}

int
store_copy_sqlite_to_pg(const char *sqlite_path, const char *pg_dsn,
    struct store_copy_report *rep)
{
	struct store *sq_store = NULL, *pg_store = NULL;
	struct pg_conn *c = NULL;
	sqlite3 *db = NULL;
	char dsn[4096 + 8];
	uint8_t sq_last[STORE_HASH_LEN], pg_last[STORE_HASH_LEN];
	int64_t v_sq = 0, v_pg = 0, n = 0, bad = 0;
	const struct pg_stmt lock = { SLOT_LOCK, sql_lock };
	const struct pg_stmt empty = { SLOT_EMPTY, sql_empty };
	size_t i;
	int r, in_tx = 0;

	if (rep == NULL)
		return SCEP_E_INTERNAL;
	memset(rep, 0, sizeof(*rep));
	if (sqlite_path == NULL || pg_dsn == NULL)
		return SCEP_E_INTERNAL;
	if (NTABLES > STORE_COPY_MAX_TABLES)
		return SCEP_E_INTERNAL;

	/* Both stores at this build's schema (store_open migrates). */
	if ((size_t)snprintf(dsn, sizeof(dsn), "sqlite:%s", sqlite_path) >=
	    sizeof(dsn)) {
		say(rep, "SQLite path too long");
		return SCEP_E_CONFIG;
	}
	if ((r = store_open(dsn, &sq_store)) != SCEP_OK) {
		say(rep, "cannot open the SQLite store %s (%s)", sqlite_path,
		    scep_strerror(r));
		goto out;
	}
	if ((r = store_schema_version(sq_store, &v_sq)) != SCEP_OK)
		goto out;
	store_close(sq_store);
	sq_store = NULL;
	if ((r = store_open(pg_dsn, &pg_store)) != SCEP_OK) {
		say(rep, "cannot open the PostgreSQL store (%s)",
		    scep_strerror(r));
		goto out;
	}
	if (pg_store->ops != &store_pg_ops) {
		say(rep, "the target is not a PostgreSQL store");
		r = SCEP_E_CONFIG;
		goto out;
	}
	if ((r = store_schema_version(pg_store, &v_pg)) != SCEP_OK)
		goto out;
	if (v_sq != v_pg) {
		say(rep, "schema versions differ (SQLite and PostgreSQL)");
		r = SCEP_E_CONFIG;
		goto out;
	}
	rep->schema_version = v_sq;

	/* SQLite: one read transaction, a consistent snapshot. */
	if (sqlite3_open_v2(sqlite_path, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sq_one(db, "SELECT count(*) FROM schema_migrations", &n, NULL) !=
	    SCEP_OK) {
		say(rep, "cannot read %s: %s", sqlite_path,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		r = SCEP_E_STORE;
		goto out;
	}

	/* PostgreSQL: one transaction for the whole copy and its checks. */
	if ((r = pg_conn_get(pg_store->be, &c)) != SCEP_OK ||
	    (r = pg_tx_begin(c)) != SCEP_OK) {
		say(rep, "PostgreSQL unavailable (%s)", scep_strerror(r));
		goto out;
	}
	in_tx = 1;
	if ((r = pg_exec_cmd(c, &lock, NULL, NULL)) != SCEP_OK ||
	    (r = pg_count(c, &empty, &n)) != SCEP_OK) {
		say(rep, "PostgreSQL: %s", scep_strerror(r));
		goto out;
	}
	if (n != 0) {
		say(rep, "the PostgreSQL store is not empty (it has CAs, "
		    "endpoints, certificates or events); migrate into a new "
		    "database");
		r = SCEP_E_EXISTS;
		goto out;
	}

	for (i = 0; i < NTABLES; i++) {
		struct store_copy_table *ct = &rep->tables[i];
		const struct pg_stmt cnt = { SLOT_COUNT(i), tables[i].count };

		ct->name = tables[i].name;
		rep->ntables = i + 1;
		if ((r = sq_one(db, tables[i].count, &ct->rows_from, NULL)) !=
		    SCEP_OK) {
			say(rep, "%s: cannot count the SQLite rows",
			    tables[i].name);
			goto out;
		}
		if ((r = copy_rows(db, c, i, rep)) != SCEP_OK)
			goto out;
		if (tables[i].setval != NULL) {
			const struct pg_stmt sv = { SLOT_SETVAL(i),
			    tables[i].setval };

			if ((r = pg_exec_cmd(c, &sv, NULL, NULL)) != SCEP_OK) {
				say(rep, "%s: cannot move the id sequence "
				    "(%s)", tables[i].name, scep_strerror(r));
				goto out;
			}
		}
		if ((r = pg_count(c, &cnt, &ct->rows_to)) != SCEP_OK)
			goto out;
	}

	/* The checks, inside the copy's transaction: nothing is committed
	 * unless every one holds. */
	for (i = 0; i < rep->ntables; i++) {
		if (rep->tables[i].rows_from != rep->tables[i].rows_to) {
			say(rep, "%s: row counts differ after the copy",
			    rep->tables[i].name);
			r = SCEP_E_MALFORMED;
			goto out;
		}
	}
	if ((r = sq_one(db, "SELECT hash FROM events ORDER BY id DESC LIMIT 1",
	    NULL, sq_last)) != SCEP_OK) {
		say(rep, "cannot read the SQLite audit chain head");
		goto out;
	}
	r = pg_chain_verify_in(c, &bad, &rep->events, pg_last);
	rep->bad_event = bad;
	memcpy(rep->last_hash, pg_last, sizeof(pg_last));
	if (r == SCEP_E_MALFORMED) {
		say(rep, "the audit chain does not verify after the copy (the "
		    "SQLite chain is broken: run `scepctl audit verify` on "
		    "it)");
		goto out;
	}
	if (r != SCEP_OK)
		goto out;
	if (memcmp(sq_last, pg_last, sizeof(pg_last)) != 0) {
		say(rep, "the audit chain ends differently in PostgreSQL");
		r = SCEP_E_MALFORMED;
		goto out;
	}
	r = pg_tx_end(c, SCEP_OK);
	in_tx = 0;
	if (r != SCEP_OK)
		say(rep, "COMMIT failed (%s): nothing was copied",
		    scep_strerror(r));
 out:
	if (in_tx)
		(void)pg_tx_end(c, r != SCEP_OK ? r : SCEP_E_INTERNAL);
	if (c != NULL)
		pg_conn_put(pg_store->be, c);
	if (db != NULL) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	store_close(pg_store);
	store_close(sq_store);
	return r;
}
