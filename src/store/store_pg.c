/*
 * store_pg.c -- the PostgreSQL backend of the store (STYLE H10, issue 6):
 * several scepd nodes share one database, and everything that must be
 * unique or ordered across them is enforced by the database.
 *
 * Choices, and why:
 *
 *  - The DSN is handed to libpq as it is ("postgresql://user@host/db?...",
 *    see libpq's connection URIs).  Before it come our defaults, which the
 *    DSN may override: connect_timeout=3, TCP keepalives (10 s idle, 3 s
 *    interval, 3 probes), tcp_user_timeout=15 s, application_name=scepd.
 *  - Prepared statements only: every SQL text is a constant (stmt_sql[]),
 *    prepared once per connection on first use (PQsendPrepare) and run
 *    with PQsendQueryPrepared; values travel as parameters, integers and
 *    text in text format, byte strings in binary; results come back in
 *    binary.  The migration files are constants too, run once per
 *    database (pg_exec_script).
 *  - A pool of up to PG_POOL_MAX connections per node, opened lazily,
 *    each checked out by one thread at a time.  A caller that finds the
 *    pool exhausted waits at most PG_POOL_WAIT_MS, then gets SCEP_E_BUSY.
 *  - Never hang.  Each statement has a server-side statement_timeout
 *    (10 s; lock_timeout 5 s, idle_in_transaction_session_timeout 60 s,
 *    each only when the DSN or the server did not set one) and, in case
 *    the server itself is frozen, a client-side deadline
 *    (PG_CLIENT_TIMEOUT_MS): results are awaited with poll(2), and a
 *    connection that misses its deadline is dropped.
 *  - Reconnect after a server restart.  A checked-in connection whose
 *    socket became readable while idle (the server closed it: restart,
 *    crash, administrator) is noticed at checkout and replaced; a
 *    connection that fails during a call is dropped at checkin, and so is
 *    every idle connection opened before the failure (they went to the
 *    same server).  While the server is down a call fails at once with
 *    SCEP_E_BUSY: a failed connection attempt holds further attempts off
 *    for PG_RETRY_MS.
 *  - Every write is one transaction (READ COMMITTED; a write of a single
 *    statement runs in autocommit, which is one transaction without the
 *    BEGIN and COMMIT round trips).  Uniqueness and
 *    order across nodes come from the database, never from a read-then-
 *    write in C: UNIQUE constraints (serials, challenge hashes, one live
 *    request per transaction and key, one certificate per request),
 *    guarded UPDATEs (request transitions, account use counts: "WHERE
 *    enrollments < max_enrollments", re-checked by PostgreSQL on the
 *    newest row version after a concurrent update), and for the audit
 *    chain a transaction-level advisory lock around read-last-then-append.
 *  - Group commit (pg_write): audit appends and whole enrollments
 *    (store_enroll_commit) queue up and one leader commits a batch in one
 *    transaction, under one chain lock and one WAL flush.
 *  - Durability: store_cert_issue's contract is that the row is on stable
 *    storage when it returns.  PostgreSQL's COMMIT is, unless
 *    synchronous_commit is off; each session turns it back on in that
 *    case (and leaves stronger settings, such as remote_apply, alone).
 *  - Migrations (src/store/migrations_pg/, the same numbers as the
 *    SQLite ones): each in its own transaction, under the advisory lock
 *    PG_LOCK_MIGRATE, so that several nodes starting at once apply each
 *    exactly once; a database migrated by a newer scepd is refused.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "log.h"
#include "scep_err.h"
#include "store.h"
#include "store_int.h"
#include "store_pg.h"
#include "store_pg_int.h"

#define PG_POOL_MAX		8	/* connections per node */
#define PG_POOL_WAIT_MS		5000	/* for a free connection */
#define PG_CLIENT_TIMEOUT_MS	15000	/* per statement, client side */
#define PG_SCRIPT_TIMEOUT_MS	600000	/* a migration (index builds) */
#define PG_RETRY_MS		1000	/* after a failed connection attempt */
#define PG_PAGE			500	/* rows per page in long walks */
#define PG_SCRIPT_MAXRES	10000	/* statements in one migration */
#define PG_DSN_MAX		4096

/* Migrations of this backend, embedded from migrations_pg/. */
extern const struct store_migration store_pg_migrations[];
extern const size_t store_pg_nmigrations;

/* Statements of this file (slots 0 .. PG_SLOT_ADMIN - 1). */
enum pg_stmt_id {
	ST_BEGIN, ST_SNAPSHOT, ST_COMMIT, ST_ROLLBACK, ST_SETUP,
	ST_LOCK_MIG, ST_MIG_TABLE, ST_MIG_MAX, ST_MIG_HAS, ST_MIG_ADD,
	ST_MIG_NOTIMEOUT,
	ST_CFG_BUMP, ST_CFG_GET, ST_SET_GET, ST_SET_PUT,
	ST_CA_INS, ST_CA_GET,
	ST_RA_INS, ST_RA_GET, ST_RA_LIST, ST_RA_STATE,
	ST_EP_INS, ST_EP_UPD, ST_EP_GET, ST_EP_EXT, ST_EP_DEL,
	ST_ACC_INS, ST_ACC_UPD, ST_ACC_GET, ST_ACC_CH, ST_ACC_ENROLL,
	ST_ACC_HAS,
	ST_REQ_INS, ST_REQ_GET, ST_REQ_FIND, ST_REQ_TRANS, ST_REQ_HAS,
	ST_REQ_PEND, ST_CSR_BATCH, ST_CSR_PUT,
	ST_CERT_INS, ST_CERT_GET, ST_CERT_REV, ST_CERT_HAS, ST_CERT_REVD,
	ST_EV_LOCK, ST_EV_LAST, ST_EV_INS, ST_EV_LIST,
	ST_TOK_INS, ST_TOK_CHK,
	ST__MAX
};

static const char *const stmt_sql[ST__MAX] = {
	[ST_BEGIN] = "BEGIN",
	[ST_SNAPSHOT] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	/* Timeouts only where nobody chose one (0 = disabled), and
	 * synchronous_commit never off (see the top of the file). */
	[ST_SETUP] = "SELECT "
	    "set_config('statement_timeout', CASE "
	    "current_setting('statement_timeout') WHEN '0' THEN '10s' "
	    "ELSE current_setting('statement_timeout') END, false), "
	    "set_config('lock_timeout', CASE current_setting('lock_timeout') "
	    "WHEN '0' THEN '5s' ELSE current_setting('lock_timeout') END, "
	    "false), "
	    "set_config('idle_in_transaction_session_timeout', CASE "
	    "current_setting('idle_in_transaction_session_timeout') "
	    "WHEN '0' THEN '60s' ELSE "
	    "current_setting('idle_in_transaction_session_timeout') END, "
	    "false), "
	    "set_config('synchronous_commit', CASE "
	    "current_setting('synchronous_commit') WHEN 'off' THEN 'on' "
	    "ELSE current_setting('synchronous_commit') END, false)",

	[ST_LOCK_MIG] = "SELECT pg_advisory_xact_lock(" PG_LOCK_MIGRATE ")",
	[ST_MIG_TABLE] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
	    "applied_at BIGINT NOT NULL)",
	[ST_MIG_MAX] = "SELECT COALESCE(MAX(version), 0)::bigint "
	    "FROM schema_migrations",
	[ST_MIG_HAS] = "SELECT 1 FROM schema_migrations WHERE version = $1",
	[ST_MIG_ADD] = "INSERT INTO schema_migrations "
	    "(version, name, applied_at) VALUES ($1, $2, $3)",
	[ST_MIG_NOTIMEOUT] = "SELECT set_config('statement_timeout', '0', "
	    "true)",

	[ST_CFG_BUMP] = "UPDATE settings "
	    "SET value = (CAST(value AS BIGINT) + 1)::text "
	    "WHERE key = 'config_version'",
	[ST_CFG_GET] = "SELECT CAST(value AS BIGINT) FROM settings "
	    "WHERE key = 'config_version'",
	[ST_SET_GET] = "SELECT value FROM settings WHERE key = $1",
	[ST_SET_PUT] = "INSERT INTO settings (key, value) VALUES ($1, $2) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",

	[ST_CA_INS] = "INSERT INTO cas (name, key_path, cert_der, created_at) "
	    "VALUES ($1, $2, $3, $4) RETURNING id",
	[ST_CA_GET] = "SELECT " PG_CA_COLS " FROM cas WHERE id = $1",

	[ST_RA_INS] = "INSERT INTO ras "
	    "(ca_id, state, usage, key_path, cert_der, created_at) "
	    "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
	[ST_RA_GET] = "SELECT " PG_RA_COLS " FROM ras WHERE id = $1",
	[ST_RA_LIST] = "SELECT " PG_RA_COLS " FROM ras "
	    "WHERE ca_id = $1 AND ($2::integer = 0 OR state = $2::integer) "
	    "ORDER BY id LIMIT $3",
	[ST_RA_STATE] = "UPDATE ras SET state = $1 WHERE id = $2",

	[ST_EP_INS] = "INSERT INTO endpoints (name, uri_ext, type, ca_id, "
	    "ra_id, min_rsa_bits, allow_ec, term_days, server_auth, renewal, "
	    "renewal_window_days, copy_sans, getcacert_chain, getcert_chain, "
	    "manual_approval, legacy, enabled, delegation_general, org_id, "
	    "dept_id, created_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, "
	    "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, "
	    "$20, $21, 0) RETURNING id",
	[ST_EP_UPD] = "UPDATE endpoints SET name = $1, uri_ext = $2, "
	    "type = $3, ca_id = $4, ra_id = $5, min_rsa_bits = $6, "
	    "allow_ec = $7, term_days = $8, server_auth = $9, renewal = $10, "
	    "renewal_window_days = $11, copy_sans = $12, "
	    "getcacert_chain = $13, getcert_chain = $14, "
	    "manual_approval = $15, legacy = $16, enabled = $17, "
	    "delegation_general = $18, org_id = $19, dept_id = $20 "
	    "WHERE id = $21 AND deleted_at = 0",
	[ST_EP_GET] = "SELECT " PG_EP_COLS " FROM endpoints WHERE id = $1",
	[ST_EP_EXT] = "SELECT " PG_EP_COLS " FROM endpoints "
	    "WHERE uri_ext = $1 AND deleted_at = 0",
	[ST_EP_DEL] = "UPDATE endpoints SET deleted_at = $1 "
	    "WHERE id = $2 AND deleted_at = 0",

	[ST_ACC_INS] = "INSERT INTO accounts (endpoint_id, name, org_id, "
	    "dept_id, enabled, expires_at, max_enrollments, enrollments, "
	    "challenge_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
	    "$8, $9, $10) RETURNING id",
	[ST_ACC_UPD] = "UPDATE accounts SET endpoint_id = $1, name = $2, "
	    "org_id = $3, dept_id = $4, enabled = $5, expires_at = $6, "
	    "max_enrollments = $7, challenge_hash = $8 WHERE id = $9",
	[ST_ACC_GET] = "SELECT " PG_ACC_COLS " FROM accounts WHERE id = $1",
	[ST_ACC_CH] = "SELECT " PG_ACC_COLS " FROM accounts "
	    "WHERE challenge_hash = $1",
	/* The use count and its limit in one guarded statement: two nodes
	 * taking the last enrollment at once both reach the row lock; the
	 * second re-evaluates the WHERE on the first's new row version and
	 * changes nothing. */
	[ST_ACC_ENROLL] = "UPDATE accounts SET enrollments = enrollments + 1 "
	    "WHERE id = $1 AND (max_enrollments = 0 OR "
	    "enrollments < max_enrollments)",
	[ST_ACC_HAS] = "SELECT 1 FROM accounts WHERE id = $1",

	[ST_REQ_INS] = "INSERT INTO requests (endpoint_id, account_id, "
	    "transid, key_fp, msgtype, status, serial, reason, csr_der, "
	    "signer_der, created_at, updated_at) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
	    "RETURNING id",
	[ST_REQ_GET] = "SELECT " PG_REQ_COLS " FROM requests WHERE id = $1",
	[ST_REQ_FIND] = "SELECT " PG_REQ_COLS " FROM requests "
	    "WHERE endpoint_id = $1 AND transid = $2 ORDER BY id DESC LIMIT 1",
	[ST_REQ_TRANS] = "UPDATE requests SET status = $1, "
	    "serial = COALESCE($2::text, serial), "
	    "reason = COALESCE($3::text, reason), "
	    "updated_at = $4 WHERE id = $5 AND status = $6",
	[ST_REQ_HAS] = "SELECT 1 FROM requests WHERE id = $1",
	[ST_REQ_PEND] = "SELECT " PG_REQ_COLS " FROM requests "
	    "WHERE status = $1 ORDER BY id DESC LIMIT $2",
	[ST_CSR_BATCH] = "SELECT id, csr_der FROM requests "
	    "WHERE id > $1 AND csr_der IS NOT NULL ORDER BY id LIMIT $2",
	[ST_CSR_PUT] = "UPDATE requests SET csr_der = $1 WHERE id = $2",

	[ST_CERT_INS] = "INSERT INTO certs (" PG_CERT_COLS ") VALUES ($1, $2, "
	    "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
	[ST_CERT_GET] = "SELECT " PG_CERT_COLS " FROM certs WHERE serial = $1",
	[ST_CERT_REV] = "UPDATE certs SET status = $1, revoked_at = $2, "
	    "revoke_reason = $3 WHERE serial = $4 AND status = $5",
	[ST_CERT_HAS] = "SELECT 1 FROM certs WHERE serial = $1",
	/* Keyset paging in revocation order, inside one snapshot. */
	[ST_CERT_REVD] = "SELECT serial, revoked_at, revoke_reason, id "
	    "FROM certs WHERE ca_id = $1 AND status = $2 "
	    "AND (revoked_at, id) > ($3::bigint, $4::bigint) "
	    "ORDER BY revoked_at, id LIMIT $5",

	/* The chain lock: held from reading the last row to COMMIT, so
	 * appends from every node line up in one sequence. */
	[ST_EV_LOCK] = "SELECT pg_advisory_xact_lock(" PG_LOCK_CHAIN ")",
	[ST_EV_LAST] = "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1",
	[ST_EV_INS] = "INSERT INTO events (" PG_EV_COLS ") VALUES ($1, $2, "
	    "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
	[ST_EV_LIST] = "SELECT " PG_EV_COLS " FROM events WHERE id > $1 "
	    "ORDER BY id LIMIT $2",

	[ST_TOK_INS] = "INSERT INTO api_tokens (name, token_hash, created_at) "
	    "VALUES ($1, $2, $3)",
	[ST_TOK_CHK] = "SELECT name FROM api_tokens WHERE token_hash = $1",
};

_Static_assert(ST__MAX <= PG_SLOT_ADMIN, "statement slots overlap");

/* The statement "id" of this file as a struct pg_stmt (slot = id). */
#define S(id)	(&(const struct pg_stmt){ (id), stmt_sql[(id)] })

/* One pooled connection. */
struct pg_conn {
	PGconn		*conn;			/* owned */
	uint64_t	 gen;			/* pool generation at open */
	int		 bad;			/* lost or timed out: drop */
	uint8_t		 prepared[PG_SLOTS];	/* slot prepared here */
	struct pg_conn	*next;			/* idle list */
};

/* The backend state behind struct store. */
struct pg {
	char		*dsn;			/* owned; may hold a password */
	pthread_mutex_t	 mu;			/* guards everything below */
	pthread_cond_t	 cv;			/* a connection came back */
	struct pg_conn	*idle;			/* owned: checked-in conns */
	size_t		 nopen;			/* idle + checked out */
	uint64_t	 gen;			/* bumped when one is lost */
	int64_t		 retry_at;		/* no new connection before
						 * (monotonic ms) */
	int		 down;			/* last attempt failed (for
						 * logging transitions) */
	pthread_mutex_t	 qmu;			/* guards the commit queue */
	pthread_cond_t	 qcv;			/* a batch was committed */
	struct pg_job	*qhead;			/* waiting writes, FIFO */
	struct pg_job	**qtail;
	int		 leader;		/* a batch is being committed */
};

/* One write waiting in the commit queue (pg_write). */
typedef int (*pg_job_fn)(struct pg_conn *, void *arg);
struct pg_job {
	pg_job_fn	 fn;
	void		*arg;
	int		 r;
	int		 done;
	struct pg_job	*next;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Parameters.
 */

void
pg_params_init(struct pg_params *p)
{
	p->n = 0;
	p->r = SCEP_OK;
}

/* Reserve the next parameter slot, or stick an error. */
static int
p_next(struct pg_params *p)
{
	if (p->r != SCEP_OK)
		return -1;
	if (p->n >= PG_MAXPARAMS) {
		p->r = SCEP_E_INTERNAL;
		return -1;
	}
	return p->n++;
}

void
p_i64(struct pg_params *p, int64_t v)
{
	int i;

	if ((i = p_next(p)) < 0)
		return;
	snprintf(p->num[i], sizeof(p->num[i]), "%lld", (long long)v);
	p->val[i] = p->num[i];
	p->len[i] = 0;
	p->fmt[i] = 0;
}

/* An optional reference: 0 is NULL, so foreign keys hold. */
void
p_ref(struct pg_params *p, int64_t v)
{
	int i;

	if (v != 0) {
		p_i64(p, v);
		return;
	}
	if ((i = p_next(p)) < 0)
		return;
	p->val[i] = NULL;
	p->len[i] = 0;
	p->fmt[i] = 0;
}

void
p_text(struct pg_params *p, const char *s)
{
	int i;

	if ((i = p_next(p)) < 0)
		return;
	p->val[i] = s;		/* NULL: SQL NULL */
	p->len[i] = 0;
	p->fmt[i] = 0;
}

/* A byte string that may be empty but is never NULL (NOT NULL column). */
void
p_blob(struct pg_params *p, const void *b, size_t len)
{
	int i;

	if ((i = p_next(p)) < 0)
		return;
	if (len > STORE_BLOB_MAX) {
		p->r = SCEP_E_INTERNAL;	/* store.c checked this */
		return;
	}
	p->val[i] = len == 0 ? "" : (const char *)b;
	p->len[i] = (int)len;
	p->fmt[i] = 1;
}

/* A byte string where empty means absent: NULL. */
void
p_blob_opt(struct pg_params *p, const void *b, size_t len)
{
	int i;

	if (len > 0) {
		p_blob(p, b, len);
		return;
	}
	if ((i = p_next(p)) < 0)
		return;
	p->val[i] = NULL;
	p->len[i] = 0;
	p->fmt[i] = 1;
}

/* A hash that is NULL when all zero (accounts.challenge_hash). */
void
p_hash_opt(struct pg_params *p, const uint8_t h[STORE_HASH_LEN])
{
	static const uint8_t zero[STORE_HASH_LEN];

	p_blob_opt(p, h, memcmp(h, zero, sizeof(zero)) == 0 ? 0 :
	    STORE_HASH_LEN);
}

/*
 * Columns of a binary-format result.
 */

void
pg_col_init(struct pg_col *c, const PGresult *res, int row)
{
	c->res = res;
	c->row = row;
	c->i = 0;
	c->r = SCEP_OK;
}

static void
c_fail(struct pg_col *c, int r)
{
	if (c->r == SCEP_OK)
		c->r = r;
}

/* Integers arrive as int2, int4 or int8, big-endian. */
int64_t
c_i64(struct pg_col *c)
{
	const unsigned char *p = NULL;
	uint64_t u = 0;
	int col = c->i++, len, k;

	if (c->r != SCEP_OK || col >= PQnfields(c->res)) {
		c_fail(c, SCEP_E_STORE);
		return 0;
	}
	if (PQgetisnull(c->res, c->row, col))
		return 0;
	p = (const unsigned char *)PQgetvalue(c->res, c->row, col);
	len = PQgetlength(c->res, c->row, col);
	if (len != 2 && len != 4 && len != 8) {
		c_fail(c, SCEP_E_STORE);
		return 0;
	}
	for (k = 0; k < len; k++)
		u = (u << 8) | p[k];
	if (len == 2)
		return (int64_t)(int16_t)(uint16_t)u;
	if (len == 4)
		return (int64_t)(int32_t)(uint32_t)u;
	return (int64_t)u;
}

int
c_int(struct pg_col *c)
{
	int64_t v;

	v = c_i64(c);
	if (v < INT_MIN || v > INT_MAX) {
		c_fail(c, SCEP_E_STORE);
		return 0;
	}
	return (int)v;
}

void
c_text(struct pg_col *c, char *buf, size_t sz)
{
	const char *p = NULL;
	int col = c->i++, len;

	buf[0] = '\0';
	if (c->r != SCEP_OK || col >= PQnfields(c->res)) {
		c_fail(c, SCEP_E_STORE);
		return;
	}
	if (PQgetisnull(c->res, c->row, col))
		return;
	p = PQgetvalue(c->res, c->row, col);
	len = PQgetlength(c->res, c->row, col);
	if (len < 0 || (size_t)len >= sz || memchr(p, '\0', (size_t)len)) {
		c_fail(c, SCEP_E_STORE);
		return;
	}
	memcpy(buf, p, (size_t)len);
	buf[len] = '\0';
}

/* A byte string into a new allocation (take); NULL/empty gives NULL, 0. */
void
c_blob_dup(struct pg_col *c, uint8_t **out, size_t *outlen)
{
	const char *p = NULL;
	int col = c->i++, len;

	*out = NULL;
	*outlen = 0;
	if (c->r != SCEP_OK || col >= PQnfields(c->res)) {
		c_fail(c, SCEP_E_STORE);
		return;
	}
	if (PQgetisnull(c->res, c->row, col))
		return;
	p = PQgetvalue(c->res, c->row, col);
	len = PQgetlength(c->res, c->row, col);
	if (len <= 0)
		return;
	if ((size_t)len > STORE_BLOB_MAX) {
		c_fail(c, SCEP_E_STORE);
		return;
	}
	if ((*out = malloc((size_t)len)) == NULL) {
		c_fail(c, SCEP_E_NOMEM);
		return;
	}
	memcpy(*out, p, (size_t)len);
	*outlen = (size_t)len;
}

/* A fixed-size hash; NULL reads as all zero, any other length is bad. */
void
c_hash(struct pg_col *c, uint8_t h[STORE_HASH_LEN])
{
	int col = c->i++;

	memset(h, 0, STORE_HASH_LEN);
	if (c->r != SCEP_OK || col >= PQnfields(c->res)) {
		c_fail(c, SCEP_E_STORE);
		return;
	}
	if (PQgetisnull(c->res, c->row, col))
		return;
	if (PQgetlength(c->res, c->row, col) != STORE_HASH_LEN) {
		c_fail(c, SCEP_E_STORE);
		return;
	}
	memcpy(h, PQgetvalue(c->res, c->row, col), STORE_HASH_LEN);
}

/*
 * Connections.
 */

static void
conn_free(struct pg_conn *c)
{
	if (c == NULL)
		return;
	PQfinish(c->conn);		/* accepts NULL */
	free(c);
}

/* The connection is unusable: it will be dropped at checkin, together
 * with every idle connection opened before this moment. */
static void
conn_lost(struct pg_conn *c)
{
	c->bad = 1;
}

/*
 * Wait for the result(s) of what was just sent, with the client-side
 * deadline.  *out is the first failed result if any, else the last one
 * (a prepared statement has exactly one; a migration script one per
 * statement, at most "maxres").  On a missed deadline or a broken
 * connection the connection is marked bad.
 */
static int
conn_wait(struct pg_conn *c, int64_t timeout_ms, int maxres, PGresult **out)
{
	PGresult *res = NULL, *keep = NULL;
	struct pollfd pfd;
	int64_t deadline, left;
	int n, r = SCEP_OK, count = 0, failed = 0;
	ExecStatusType es;

	*out = NULL;
	deadline = now_ms() + timeout_ms;
	for (;;) {
		while (!PQisBusy(c->conn)) {
			if ((res = PQgetResult(c->conn)) == NULL)
				goto done;
			es = PQresultStatus(res);
			if (!failed) {
				PQclear(keep);
				keep = res;
				failed = es != PGRES_COMMAND_OK &&
				    es != PGRES_TUPLES_OK;
			} else
				PQclear(res);
			res = NULL;
			if (++count > maxres) {
				conn_lost(c);
				r = SCEP_E_STORE;
				goto out;
			}
		}
		if ((left = deadline - now_ms()) <= 0) {
			conn_lost(c);
			r = SCEP_E_BUSY;
			goto out;
		}
		pfd.fd = PQsocket(c->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd < 0) {
			conn_lost(c);
			r = SCEP_E_BUSY;
			goto out;
		}
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n < 0 && errno != EINTR) {
			conn_lost(c);
			r = SCEP_E_BUSY;
			goto out;
		}
		if (n > 0 && !PQconsumeInput(c->conn)) {
			/* Lost: libpq has normally queued an error result,
			 * which the loop above collects (bounded by maxres);
			 * if it still waits for more, give up now rather
			 * than spin on a closed socket until the deadline. */
			conn_lost(c);
			if (PQisBusy(c->conn)) {
				r = SCEP_E_BUSY;
				goto out;
			}
		}
	}
 done:
	if (keep == NULL) {
		conn_lost(c);
		r = SCEP_E_BUSY;
		goto out;
	}
	*out = keep;
	keep = NULL;
 out:
	PQclear(keep);
	return r;
}

/*
 * The store error for a failed result (SQLSTATE, PostgreSQL appendix A).
 * Expected outcomes (uniqueness, missing references) are not logged;
 * everything else is, with the server's primary message (it names the
 * constraint or object, never a parameter value of ours).
 */
/* Copy the first line of "msg" into "buf" as one logfmt value: no
 * quote, backslash or control character, cut to fit. */
static void
log_value(char *buf, size_t sz, const char *msg)
{
	size_t i;

	snprintf(buf, sz, "%s", msg);
	buf[strcspn(buf, "\n")] = '\0';
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '"' || buf[i] == '\\' ||
		    (unsigned char)buf[i] < 0x20)
			buf[i] = '\'';
}

static int
res_err(struct pg_conn *c, const PGresult *res)
{
	const char *state = NULL, *msg = NULL;
	char text[256];

	if (res != NULL) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	}
	if (PQstatus(c->conn) == CONNECTION_BAD)
		conn_lost(c);
	if (state != NULL && strcmp(state, "23505") == 0)
		return SCEP_E_EXISTS;		/* unique_violation */
	if (state != NULL && strcmp(state, "23503") == 0)
		return SCEP_E_NOTFOUND;		/* foreign_key_violation */
	log_value(text, sizeof(text), msg != NULL ? msg : "connection lost");
	log_warn("msg=\"postgresql statement failed\" sqlstate=%.5s "
	    "error=\"%s\"", state != NULL ? state : "none", text);
	if (c->bad || state == NULL)
		return SCEP_E_BUSY;
	if (strcmp(state, "25006") == 0) {	/* read_only_sql_transaction */
		/* The server became a standby (failover): drop this
		 * connection, the next one goes to the writable host. */
		conn_lost(c);
		return SCEP_E_BUSY;
	}
	if (strncmp(state, "08", 2) == 0 ||	/* connection exception */
	    strcmp(state, "40001") == 0 ||	/* serialization_failure */
	    strcmp(state, "40P01") == 0 ||	/* deadlock_detected */
	    strcmp(state, "55P03") == 0 ||	/* lock_not_available */
	    strcmp(state, "57014") == 0 ||	/* query_canceled (timeout) */
	    strncmp(state, "53", 2) == 0 ||	/* insufficient resources */
	    strncmp(state, "57P", 3) == 0) {	/* shutdown, cannot connect */
		if (strncmp(state, "57P", 3) == 0 ||
		    strncmp(state, "08", 2) == 0)
			conn_lost(c);
		return SCEP_E_BUSY;
	}
	return SCEP_E_STORE;
}

int
pg_exec(struct pg_conn *c, const struct pg_stmt *st,
    const struct pg_params *p, PGresult **out)
{
	PGresult *res = NULL;
	char name[16];
	int r, n = 0;

	*out = NULL;
	if (c->bad)
		return SCEP_E_BUSY;
	if (st->slot < 0 || st->slot >= PG_SLOTS)
		return SCEP_E_INTERNAL;
	if (p != NULL) {
		if (p->r != SCEP_OK)
			return p->r;
		n = p->n;
	}
	snprintf(name, sizeof(name), "s%d", st->slot);
	if (!c->prepared[st->slot]) {
		if (!PQsendPrepare(c->conn, name, st->sql, 0, NULL)) {
			r = res_err(c, NULL);
			goto out;
		}
		if ((r = conn_wait(c, PG_CLIENT_TIMEOUT_MS, 1, &res)) !=
		    SCEP_OK)
			goto out;
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			r = res_err(c, res);
			goto out;
		}
		PQclear(res);
		res = NULL;
		c->prepared[st->slot] = 1;
	}
	if (!PQsendQueryPrepared(c->conn, name, n, p != NULL ? p->val : NULL,
	    p != NULL ? p->len : NULL, p != NULL ? p->fmt : NULL, 1)) {
		r = res_err(c, NULL);
		goto out;
	}
	if ((r = conn_wait(c, PG_CLIENT_TIMEOUT_MS, 1, &res)) != SCEP_OK)
		goto out;
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_COMMAND_OK) {
		r = res_err(c, res);
		goto out;
	}
	*out = res;
	res = NULL;
	r = SCEP_OK;
 out:
	PQclear(res);
	return r;
}

int
pg_exec_cmd(struct pg_conn *c, const struct pg_stmt *st,
    const struct pg_params *p, int64_t *changes)
{
	PGresult *res = NULL;
	const char *t = NULL;
	char *end = NULL;
	long long v;
	int r;

	if (changes != NULL)
		*changes = 0;
	if ((r = pg_exec(c, st, p, &res)) != SCEP_OK)
		return r;
	if (changes != NULL) {
		/* PQcmdTuples: "" for statements that change nothing. */
		t = PQcmdTuples(res);
		if (t[0] != '\0') {
			errno = 0;
			v = strtoll(t, &end, 10);
			if (errno != 0 || *end != '\0' || v < 0)
				r = SCEP_E_STORE;
			else
				*changes = (int64_t)v;
		}
	}
	PQclear(res);
	return r;
}

int
pg_exec_row(struct pg_conn *c, const struct pg_stmt *st,
    const struct pg_params *p, PGresult **out)
{
	PGresult *res = NULL;
	int r;

	*out = NULL;
	if ((r = pg_exec(c, st, p, &res)) != SCEP_OK)
		return r;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return SCEP_E_NOTFOUND;
	}
	*out = res;
	return SCEP_OK;
}

int
pg_tx_begin(struct pg_conn *c)
{
	return pg_exec_cmd(c, S(ST_BEGIN), NULL, NULL);
}

int
pg_snapshot_begin(struct pg_conn *c)
{
	return pg_exec_cmd(c, S(ST_SNAPSHOT), NULL, NULL);
}

/* COMMIT if r is SCEP_OK, else ROLLBACK; returns the outcome.  A COMMIT
 * whose answer is lost leaves the outcome unknown to us: it is reported
 * as an error (SCEP_E_BUSY), never as success. */
int
pg_tx_end(struct pg_conn *c, int r)
{
	if (r == SCEP_OK) {
		r = pg_exec_cmd(c, S(ST_COMMIT), NULL, NULL);
		if (r == SCEP_OK)
			return SCEP_OK;
	}
	if (!c->bad && PQtransactionStatus(c->conn) != PQTRANS_IDLE)
		(void)pg_exec_cmd(c, S(ST_ROLLBACK), NULL, NULL);
	return r;	/* pg_conn_put re-checks the state */
}

int
pg_config_bump(struct pg_conn *c)
{
	int64_t n = 0;
	int r;

	store_config_touch();
	if ((r = pg_exec_cmd(c, S(ST_CFG_BUMP), NULL, &n)) != SCEP_OK)
		return r;
	return n == 1 ? SCEP_OK : SCEP_E_STORE;	/* the row must exist */
}

int
pg_exec_script(struct pg_conn *c, const char *sql)
{
	PGresult *res = NULL;
	int r;

	if (c->bad)
		return SCEP_E_BUSY;
	if ((r = pg_exec_cmd(c, S(ST_MIG_NOTIMEOUT), NULL, NULL)) != SCEP_OK)
		return r;
	/* Constant SQL from the build, not from input; several statements,
	 * so the simple query protocol (PQsendQuery), once per database. */
	if (!PQsendQuery(c->conn, sql))
		return res_err(c, NULL);
	if ((r = conn_wait(c, PG_SCRIPT_TIMEOUT_MS, PG_SCRIPT_MAXRES,
	    &res)) != SCEP_OK)
		return r;
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		r = res_err(c, res);
	PQclear(res);
	return r;
}

/*
 * The pool.
 */

/* Is an idle connection still there?  An idle connection has nothing to
 * read; if its socket is readable the server sent something, normally
 * its last words before closing (restart, crash, administrator). */
static int
conn_alive(struct pg_conn *c)
{
	struct pollfd pfd;

	if (c->bad || PQstatus(c->conn) != CONNECTION_OK)
		return 0;
	pfd.fd = PQsocket(c->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return 0;
	if (poll(&pfd, 1, 0) == 0)
		return 1;
	if (!PQconsumeInput(c->conn) || PQstatus(c->conn) != CONNECTION_OK)
		return 0;
	return PQtransactionStatus(c->conn) == PQTRANS_IDLE;
}

static void
notice_ignore(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/*
 * Open one connection: our defaults first, then the DSN, which libpq
 * expands (expand_dbname) and whose settings win over ours.
 */
static int
conn_open(const struct pg *pg, uint64_t gen, struct pg_conn **out,
    char *why, size_t whysz)
{
	static const char *const kw[] = {
		"connect_timeout", "keepalives", "keepalives_idle",
		"keepalives_interval", "keepalives_count", "tcp_user_timeout",
		"application_name", "dbname", NULL
	};
	const char *val[] = {
		"3", "1", "10", "3", "3", "15000", "scepd", pg->dsn, NULL
	};
	struct pg_conn *c = NULL;
	int r;

	*out = NULL;
	why[0] = '\0';
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SCEP_E_NOMEM;
	c->gen = gen;
	if ((c->conn = PQconnectdbParams(kw, val, 1)) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	if (PQstatus(c->conn) != CONNECTION_OK) {
		/* libpq's message names host and port, never the password;
		 * keep its first line. */
		log_value(why, whysz, PQerrorMessage(c->conn));
		r = SCEP_E_BUSY;
		goto out;
	}
	/* Server notices ("relation already exists, skipping") are not
	 * ours to print on stderr. */
	(void)PQsetNoticeProcessor(c->conn, notice_ignore, NULL);
	if ((r = pg_exec_cmd(c, S(ST_SETUP), NULL, NULL)) != SCEP_OK) {
		snprintf(why, whysz, "session setup failed");
		goto out;
	}
	*out = c;
	c = NULL;
	r = SCEP_OK;
 out:
	conn_free(c);
	return r;
}

/*
 * Check out a connection: an idle one that is still alive, else a new one
 * while the pool is not full, else wait (at most PG_POOL_WAIT_MS) for one
 * to come back.
 */
int
pg_conn_get(struct pg *pg, struct pg_conn **out)
{
	struct pg_conn *c = NULL;
	struct timespec ts;
	char why[256];
	uint64_t gen;
	int r, was_down;

	*out = NULL;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += PG_POOL_WAIT_MS / 1000;
	ts.tv_nsec += (long)(PG_POOL_WAIT_MS % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&pg->mu);
	for (;;) {
		while ((c = pg->idle) != NULL) {
			pg->idle = c->next;
			c->next = NULL;
			if (c->gen == pg->gen && conn_alive(c)) {
				pthread_mutex_unlock(&pg->mu);
				*out = c;
				return SCEP_OK;
			}
			conn_free(c);		/* dead or from before a loss */
			c = NULL;
			pg->nopen--;
		}
		if (pg->nopen < PG_POOL_MAX)
			break;
		if (pthread_cond_timedwait(&pg->cv, &pg->mu, &ts) ==
		    ETIMEDOUT && pg->idle == NULL &&
		    pg->nopen >= PG_POOL_MAX) {
			pthread_mutex_unlock(&pg->mu);
			return SCEP_E_BUSY;
		}
	}
	/* The server did not answer a moment ago: fail fast rather than
	 * have every caller wait for its own connect timeout. */
	if (now_ms() < pg->retry_at) {
		pthread_mutex_unlock(&pg->mu);
		return SCEP_E_BUSY;
	}
	pg->nopen++;		/* reserve the slot, connect outside the lock */
	gen = pg->gen;
	pthread_mutex_unlock(&pg->mu);

	r = conn_open(pg, gen, &c, why, sizeof(why));

	pthread_mutex_lock(&pg->mu);
	was_down = pg->down;
	if (r != SCEP_OK) {
		pg->nopen--;
		pg->retry_at = now_ms() + PG_RETRY_MS;
		pg->down = 1;
		pthread_cond_signal(&pg->cv);
	} else
		pg->down = 0;
	pthread_mutex_unlock(&pg->mu);
	if (r != SCEP_OK && !was_down)
		log_error("msg=\"postgresql unreachable\" error=\"%s\"", why);
	else if (r == SCEP_OK && was_down)
		log_info("msg=\"postgresql reachable again\"");
	if (r != SCEP_OK)
		return r;
	*out = c;
	return SCEP_OK;
}

/* Check a connection back in.  One that was lost, or is still inside a
 * transaction that cannot be rolled back, is closed rather than handed to
 * the next caller; a loss also retires the idle connections opened
 * before it (they went to the same server). */
void
pg_conn_put(struct pg *pg, struct pg_conn *c)
{
	if (c == NULL)
		return;
	if (!c->bad && PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
		(void)pg_exec_cmd(c, S(ST_ROLLBACK), NULL, NULL);
		if (PQtransactionStatus(c->conn) != PQTRANS_IDLE)
			c->bad = 1;
	}
	pthread_mutex_lock(&pg->mu);
	if (c->bad) {
		pg->gen++;
		pg->nopen--;
		conn_free(c);
	} else {
		c->next = pg->idle;
		pg->idle = c;
	}
	pthread_cond_signal(&pg->cv);
	pthread_mutex_unlock(&pg->mu);
}

/*
 * Migrations (src/store/migrations_pg/, embedded by embed_sql.py).  Each
 * runs in its own transaction together with its schema_migrations row,
 * under the migration advisory lock: when several nodes open a new
 * database at once, the first applies it and the others, once the lock is
 * theirs, find the row.
 */
static int
migrate_one(struct pg_conn *c, const struct store_migration *m)
{
	struct pg_params p;
	PGresult *res = NULL;
	int r;

	if ((r = pg_tx_begin(c)) != SCEP_OK)
		return r;
	if ((r = pg_exec_cmd(c, S(ST_LOCK_MIG), NULL, NULL)) != SCEP_OK)
		goto out;
	pg_params_init(&p);
	p_i64(&p, m->version);
	r = pg_exec_row(c, S(ST_MIG_HAS), &p, &res);
	PQclear(res);
	if (r == SCEP_OK)
		goto out;		/* already applied */
	if (r != SCEP_E_NOTFOUND)
		goto out;
	if ((r = pg_exec_script(c, m->sql)) != SCEP_OK)
		goto out;
	pg_params_init(&p);
	p_i64(&p, m->version);
	p_text(&p, m->name);
	p_i64(&p, (int64_t)time(NULL));
	r = pg_exec_cmd(c, S(ST_MIG_ADD), &p, NULL);
 out:
	return pg_tx_end(c, r);
}

static int
migrate(struct pg_conn *c)
{
	PGresult *res = NULL;
	struct pg_col cl;
	int64_t have = 0;
	size_t i;
	int r;

	if ((r = pg_tx_begin(c)) != SCEP_OK)
		return r;
	if ((r = pg_exec_cmd(c, S(ST_LOCK_MIG), NULL, NULL)) != SCEP_OK ||
	    (r = pg_exec_cmd(c, S(ST_MIG_TABLE), NULL, NULL)) != SCEP_OK ||
	    (r = pg_exec_row(c, S(ST_MIG_MAX), NULL, &res)) != SCEP_OK)
		goto out;
	pg_col_init(&cl, res, 0);
	have = c_i64(&cl);
	if ((r = cl.r) != SCEP_OK)
		goto out;
	/* A newer scepd has been here: its schema is not ours to use. */
	if (have > (int64_t)store_pg_nmigrations)
		r = SCEP_E_CONFIG;
 out:
	PQclear(res);
	if ((r = pg_tx_end(c, r)) != SCEP_OK)
		return r;
	for (i = 0; i < store_pg_nmigrations; i++)
		if ((r = migrate_one(c, &store_pg_migrations[i])) != SCEP_OK)
			return r;
	return SCEP_OK;
}

static void
pg_close(void *be)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;

	if (pg == NULL)
		return;
	while ((c = pg->idle) != NULL) {
		pg->idle = c->next;
		conn_free(c);
	}
	pthread_cond_destroy(&pg->qcv);
	pthread_mutex_destroy(&pg->qmu);
	pthread_cond_destroy(&pg->cv);
	pthread_mutex_destroy(&pg->mu);
	if (pg->dsn != NULL) {
		/* It may carry a password (not optimized away). */
		OPENSSL_cleanse(pg->dsn, strlen(pg->dsn));
		free(pg->dsn);
	}
	free(pg);
}

static int
pg_open(const char *arg, void **be)
{
	struct pg *pg = NULL;
	struct pg_conn *c = NULL;
	PQconninfoOption *opts = NULL;
	pthread_condattr_t ca;
	char *err = NULL;
	size_t len;
	int r;

	*be = NULL;
	len = strnlen(arg, PG_DSN_MAX);
	if (len == 0 || len >= PG_DSN_MAX)
		return SCEP_E_CONFIG;
	/* A DSN libpq cannot parse is a configuration error, not an outage. */
	if ((opts = PQconninfoParse(arg, &err)) == NULL) {
		PQfreemem(err);
		return SCEP_E_CONFIG;
	}
	PQconninfoFree(opts);
	if (!PQisthreadsafe())
		return SCEP_E_CONFIG;

	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		return SCEP_E_NOMEM;
	if ((pg->dsn = strdup(arg)) == NULL) {
		free(pg);
		return SCEP_E_NOMEM;
	}
	if (pthread_mutex_init(&pg->mu, NULL) != 0) {
		free(pg->dsn);
		free(pg);
		return SCEP_E_INTERNAL;
	}
	/* The pool wait is measured on the monotonic clock. */
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&pg->cv, &ca) != 0) {
		pthread_mutex_destroy(&pg->mu);
		free(pg->dsn);
		free(pg);
		return SCEP_E_INTERNAL;
	}
	pthread_condattr_destroy(&ca);
	if (pthread_mutex_init(&pg->qmu, NULL) != 0) {
		pthread_cond_destroy(&pg->cv);
		pthread_mutex_destroy(&pg->mu);
		free(pg->dsn);
		free(pg);
		return SCEP_E_INTERNAL;
	}
	if (pthread_cond_init(&pg->qcv, NULL) != 0) {
		pthread_mutex_destroy(&pg->qmu);
		pthread_cond_destroy(&pg->cv);
		pthread_mutex_destroy(&pg->mu);
		free(pg->dsn);
		free(pg);
		return SCEP_E_INTERNAL;
	}
	pg->qtail = &pg->qhead;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		goto out;
	r = migrate(c);
	pg_conn_put(pg, c);
	if (r != SCEP_OK)
		goto out;
	*be = pg;
	pg = NULL;
	r = SCEP_OK;
 out:
	pg_close(pg);		/* NULL on success */
	return r;
}

static int
pg_schema_version(void *be, int64_t *version)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	PGresult *res = NULL;
	struct pg_col cl;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_exec_row(c, S(ST_MIG_MAX), NULL, &res)) == SCEP_OK) {
		pg_col_init(&cl, res, 0);
		*version = c_i64(&cl);
		r = cl.r;
	}
	PQclear(res);
	pg_conn_put(pg, c);
	return r;
}

/*
 * Small shapes shared by many functions.
 */

/* One statement in its own transaction (with the config bump when
 * "bump"); *changes as pg_exec_cmd.  "must_change": no row changed is
 * SCEP_E_NOTFOUND. */
static int
write1(struct pg *pg, const struct pg_stmt *st, const struct pg_params *p,
    int bump, int must_change)
{
	struct pg_conn *c = NULL;
	int64_t n = 0;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if (!bump) {
		/* One statement is atomic by itself (autocommit): no BEGIN
		 * and COMMIT round trips. */
		if ((r = pg_exec_cmd(c, st, p, &n)) == SCEP_OK && must_change &&
		    n == 0)
			r = SCEP_E_NOTFOUND;
		goto out;
	}
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	if ((r = pg_exec_cmd(c, st, p, &n)) == SCEP_OK) {
		if (must_change && n == 0)
			r = SCEP_E_NOTFOUND;
		else
			r = pg_config_bump(c);
	}
	r = pg_tx_end(c, r);
 out:
	pg_conn_put(pg, c);
	return r;
}

/* INSERT ... RETURNING id inside the caller's transaction. */
static int
insert_id_in(struct pg_conn *c, const struct pg_stmt *st,
    const struct pg_params *p, int64_t *id)
{
	PGresult *res = NULL;
	struct pg_col cl;
	int r;

	/* pg_exec, not pg_exec_row: SCEP_E_NOTFOUND here is a foreign key
	 * (a reference to a row that is not there). */
	if ((r = pg_exec(c, st, p, &res)) != SCEP_OK)
		return r;
	if (PQntuples(res) != 1)
		r = SCEP_E_STORE;	/* RETURNING always gives the row */
	else {
		pg_col_init(&cl, res, 0);
		*id = c_i64(&cl);
		r = cl.r;
	}
	PQclear(res);
	return r;
}

/* An INSERT ... RETURNING id in its own transaction (with the config
 * bump when "bump"); sets *id. */
static int
insert_id(struct pg *pg, const struct pg_stmt *st, const struct pg_params *p,
    int bump, int64_t *id)
{
	struct pg_conn *c = NULL;
	int64_t v = 0;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if (!bump) {
		/* One statement: autocommit, as in write1. */
		if ((r = insert_id_in(c, st, p, &v)) == SCEP_OK)
			*id = v;
		goto out;
	}
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	if ((r = insert_id_in(c, st, p, &v)) == SCEP_OK)
		r = pg_config_bump(c);
	if ((r = pg_tx_end(c, r)) == SCEP_OK)
		*id = v;
 out:
	pg_conn_put(pg, c);
	return r;
}

/* A SELECT of at most one row, read by "rowfn" into "out". */
static int
select1(struct pg *pg, const struct pg_stmt *st, const struct pg_params *p,
    int (*rowfn)(const PGresult *, int, void *), void *out)
{
	struct pg_conn *c = NULL;
	PGresult *res = NULL;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_exec_row(c, st, p, &res)) == SCEP_OK)
		r = rowfn(res, 0, out);
	PQclear(res);
	pg_conn_put(pg, c);
	return r;
}

/* A SELECT of up to "max" rows into out[] (elements of "size" bytes,
 * zeroed by store.c); *n counts each entry before it is read, so that on
 * error the caller clears all. */
static int
select_n(struct pg *pg, const struct pg_stmt *st, const struct pg_params *p,
    int (*rowfn)(const PGresult *, int, void *), void *out, size_t size,
    size_t max, size_t *n)
{
	struct pg_conn *c = NULL;
	PGresult *res = NULL;
	int i, rows, r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_exec(c, st, p, &res)) != SCEP_OK)
		goto out;
	rows = PQntuples(res);
	for (i = 0; i < rows && *n < max; i++) {
		void *o = (char *)out + *n * size;

		(*n)++;
		if ((r = rowfn(res, i, o)) != SCEP_OK)
			goto out;
	}
 out:
	PQclear(res);
	pg_conn_put(pg, c);
	return r;
}

/* LIMIT parameter from a size_t. */
static int64_t
lim(size_t max)
{
	return max > INT64_MAX ? INT64_MAX : (int64_t)max;
}

/* Does "SELECT 1 ... WHERE key = $1" find a row?  SCEP_OK or NOTFOUND. */
static int
exists_i64(struct pg_conn *c, enum pg_stmt_id id, int64_t key)
{
	struct pg_params p;
	PGresult *res = NULL;
	int r;

	pg_params_init(&p);
	p_i64(&p, key);
	r = pg_exec_row(c, S(id), &p, &res);
	PQclear(res);
	return r;
}

static int
exists_text(struct pg_conn *c, enum pg_stmt_id id, const char *key)
{
	struct pg_params p;
	PGresult *res = NULL;
	int r;

	pg_params_init(&p);
	p_text(&p, key);
	r = pg_exec_row(c, S(id), &p, &res);
	PQclear(res);
	return r;
}

/*
 * Settings.
 */

static int
pg_setting_get(void *be, const char *key, char *val, size_t valsz)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	PGresult *res = NULL;
	struct pg_col cl;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	pg_params_init(&p);
	p_text(&p, key);
	if ((r = pg_exec_row(c, S(ST_SET_GET), &p, &res)) == SCEP_OK) {
		pg_col_init(&cl, res, 0);
		c_text(&cl, val, valsz);
		/* Here "does not fit" is the caller's buffer, not a bad row. */
		if ((r = cl.r) == SCEP_E_STORE)
			r = SCEP_E_TOOBIG;
	}
	PQclear(res);
	pg_conn_put(pg, c);
	return r;
}

static int
pg_setting_set(void *be, const char *key, const char *val)
{
	struct pg_params p;

	pg_params_init(&p);
	p_text(&p, key);
	p_text(&p, val);
	return write1(be, S(ST_SET_PUT), &p, 0, 0);
}

/*
 * CAs and RAs.
 */

int
pg_ca_row(const PGresult *res, int row, struct store_ca *o)
{
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	o->id = c_i64(&cl);
	c_text(&cl, o->name, sizeof(o->name));
	c_text(&cl, o->key_path, sizeof(o->key_path));
	c_blob_dup(&cl, &o->cert_der, &o->cert_len);
	o->created_at = c_i64(&cl);
	return cl.r;
}

static int
ca_row_v(const PGresult *res, int row, void *o)
{
	return pg_ca_row(res, row, o);
}

static int
pg_ca_insert(void *be, struct store_ca *ca)
{
	struct pg_params p;

	pg_params_init(&p);
	p_text(&p, ca->name);
	p_text(&p, ca->key_path);
	p_blob(&p, ca->cert_der, ca->cert_len);
	p_i64(&p, ca->created_at);
	return insert_id(be, S(ST_CA_INS), &p, 1, &ca->id);
}

static int
pg_ca_get(void *be, int64_t id, struct store_ca *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, id);
	return select1(be, S(ST_CA_GET), &p, ca_row_v, out);
}

int
pg_ra_row(const PGresult *res, int row, struct store_ra *o)
{
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	o->id = c_i64(&cl);
	o->ca_id = c_i64(&cl);
	o->state = c_int(&cl);
	o->usage = c_int(&cl);
	c_text(&cl, o->key_path, sizeof(o->key_path));
	c_blob_dup(&cl, &o->cert_der, &o->cert_len);
	o->created_at = c_i64(&cl);
	return cl.r;
}

static int
ra_row_v(const PGresult *res, int row, void *o)
{
	return pg_ra_row(res, row, o);
}

static int
pg_ra_insert(void *be, struct store_ra *ra)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, ra->ca_id);
	p_i64(&p, ra->state);
	p_i64(&p, ra->usage);
	p_text(&p, ra->key_path);
	p_blob(&p, ra->cert_der, ra->cert_len);
	p_i64(&p, ra->created_at);
	return insert_id(be, S(ST_RA_INS), &p, 1, &ra->id);
}

static int
pg_ra_get(void *be, int64_t id, struct store_ra *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, id);
	return select1(be, S(ST_RA_GET), &p, ra_row_v, out);
}

static int
pg_ra_list(void *be, int64_t ca_id, int state, struct store_ra *out,
    size_t max, size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, ca_id);
	p_i64(&p, state);
	p_i64(&p, lim(max));
	return select_n(be, S(ST_RA_LIST), &p, ra_row_v, out, sizeof(*out),
	    max, n);
}

static int
pg_ra_set_state(void *be, int64_t id, int state)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, state);
	p_i64(&p, id);
	return write1(be, S(ST_RA_STATE), &p, 1, 1);
}

/*
 * Endpoints.
 */

/* The columns that insert and update share, in statement order. */
static void
endpoint_params(struct pg_params *p, const struct store_endpoint *ep)
{
	p_text(p, ep->name);
	p_text(p, ep->uri_ext);
	p_i64(p, ep->type);
	p_i64(p, ep->ca_id);
	p_ref(p, ep->ra_id);
	p_i64(p, ep->profile.min_rsa_bits);
	p_i64(p, ep->profile.allow_ec);
	p_i64(p, ep->profile.term_days);
	p_i64(p, ep->profile.server_auth);
	p_i64(p, ep->profile.renewal);
	p_i64(p, ep->profile.renewal_window_days);
	p_i64(p, ep->profile.copy_sans);
	p_i64(p, ep->getcacert_chain);
	p_i64(p, ep->getcert_chain);
	p_i64(p, ep->manual_approval);
	p_i64(p, ep->legacy);
	p_i64(p, ep->enabled);
	p_i64(p, ep->delegation_general);
	p_ref(p, ep->org_id);
	p_ref(p, ep->dept_id);
}

int
pg_endpoint_row(const PGresult *res, int row, struct store_endpoint *o)
{
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	o->id = c_i64(&cl);
	c_text(&cl, o->name, sizeof(o->name));
	c_text(&cl, o->uri_ext, sizeof(o->uri_ext));
	o->type = c_int(&cl);
	o->ca_id = c_i64(&cl);
	o->ra_id = c_i64(&cl);
	o->profile.min_rsa_bits = c_int(&cl);
	o->profile.allow_ec = c_int(&cl);
	o->profile.term_days = c_int(&cl);
	o->profile.server_auth = c_int(&cl);
	o->profile.renewal = c_int(&cl);
	o->profile.renewal_window_days = c_int(&cl);
	o->profile.copy_sans = c_int(&cl);
	o->getcacert_chain = c_int(&cl);
	o->getcert_chain = c_int(&cl);
	o->manual_approval = c_int(&cl);
	o->legacy = c_int(&cl);
	o->enabled = c_int(&cl);
	o->delegation_general = c_int(&cl);
	o->org_id = c_i64(&cl);
	o->dept_id = c_i64(&cl);
	o->created_at = c_i64(&cl);
	o->deleted_at = c_i64(&cl);
	return cl.r;
}

static int
endpoint_row_v(const PGresult *res, int row, void *o)
{
	return pg_endpoint_row(res, row, o);
}

int
pg_endpoint_insert_in(struct pg_conn *c, struct store_endpoint *ep)
{
	struct pg_params p;
	int64_t id = 0;
	int r;

	pg_params_init(&p);
	endpoint_params(&p, ep);
	p_i64(&p, ep->created_at);
	if ((r = insert_id_in(c, S(ST_EP_INS), &p, &id)) != SCEP_OK ||
	    (r = pg_config_bump(c)) != SCEP_OK)
		return r;
	ep->id = id;
	ep->deleted_at = 0;
	return SCEP_OK;
}

int
pg_endpoint_update_in(struct pg_conn *c, const struct store_endpoint *ep)
{
	struct pg_params p;
	int64_t n = 0;
	int r;

	pg_params_init(&p);
	endpoint_params(&p, ep);
	p_i64(&p, ep->id);
	if ((r = pg_exec_cmd(c, S(ST_EP_UPD), &p, &n)) != SCEP_OK)
		return r;
	return n == 0 ? SCEP_E_NOTFOUND : pg_config_bump(c);
}

static int
pg_endpoint_insert(void *be, struct store_endpoint *ep)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct store_endpoint row = *ep;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	r = pg_endpoint_insert_in(c, &row);
	if ((r = pg_tx_end(c, r)) == SCEP_OK) {
		ep->id = row.id;
		ep->deleted_at = 0;
	}
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pg_endpoint_update(void *be, const struct store_endpoint *ep)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	r = pg_endpoint_update_in(c, ep);
	r = pg_tx_end(c, r);
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pg_endpoint_get(void *be, int64_t id, struct store_endpoint *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, id);
	return select1(be, S(ST_EP_GET), &p, endpoint_row_v, out);
}

static int
pg_endpoint_by_ext(void *be, const char *uri_ext, struct store_endpoint *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_text(&p, uri_ext);
	return select1(be, S(ST_EP_EXT), &p, endpoint_row_v, out);
}

static int
pg_endpoint_delete(void *be, int64_t id, int64_t now)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, now);
	p_i64(&p, id);
	return write1(be, S(ST_EP_DEL), &p, 1, 1);
}

static int
i64_row_v(const PGresult *res, int row, void *o)
{
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	*(int64_t *)o = c_i64(&cl);
	return cl.r;
}

static int
pg_config_version(void *be, int64_t *version)
{
	int r;

	r = select1(be, S(ST_CFG_GET), NULL, i64_row_v, version);
	return r == SCEP_E_NOTFOUND ? SCEP_E_STORE : r;	/* 0001 makes it */
}

/*
 * Accounts.
 */

int
pg_account_row(const PGresult *res, int row, struct store_account *o)
{
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	o->id = c_i64(&cl);
	o->endpoint_id = c_i64(&cl);
	c_text(&cl, o->name, sizeof(o->name));
	o->org_id = c_i64(&cl);
	o->dept_id = c_i64(&cl);
	o->enabled = c_int(&cl);
	o->expires_at = c_i64(&cl);
	o->max_enrollments = c_i64(&cl);
	o->enrollments = c_i64(&cl);
	c_hash(&cl, o->challenge_hash);
	o->created_at = c_i64(&cl);
	return cl.r;
}

static int
account_row_v(const PGresult *res, int row, void *o)
{
	return pg_account_row(res, row, o);
}

int
pg_account_insert_in(struct pg_conn *c, struct store_account *a)
{
	struct pg_params p;
	int64_t id = 0;
	int r;

	pg_params_init(&p);
	p_i64(&p, a->endpoint_id);
	p_text(&p, a->name);
	p_ref(&p, a->org_id);
	p_ref(&p, a->dept_id);
	p_i64(&p, a->enabled);
	p_i64(&p, a->expires_at);
	p_i64(&p, a->max_enrollments);
	p_i64(&p, a->enrollments);
	p_hash_opt(&p, a->challenge_hash);
	p_i64(&p, a->created_at);
	if ((r = insert_id_in(c, S(ST_ACC_INS), &p, &id)) != SCEP_OK ||
	    (r = pg_config_bump(c)) != SCEP_OK)
		return r;
	a->id = id;
	return SCEP_OK;
}

int
pg_account_update_in(struct pg_conn *c, const struct store_account *a)
{
	struct pg_params p;
	int64_t n = 0;
	int r;

	pg_params_init(&p);
	p_i64(&p, a->endpoint_id);
	p_text(&p, a->name);
	p_ref(&p, a->org_id);
	p_ref(&p, a->dept_id);
	p_i64(&p, a->enabled);
	p_i64(&p, a->expires_at);
	p_i64(&p, a->max_enrollments);
	p_hash_opt(&p, a->challenge_hash);
	p_i64(&p, a->id);
	if ((r = pg_exec_cmd(c, S(ST_ACC_UPD), &p, &n)) != SCEP_OK)
		return r;
	return n == 0 ? SCEP_E_NOTFOUND : pg_config_bump(c);
}

static int
pg_account_insert(void *be, struct store_account *a)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct store_account row = *a;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	r = pg_account_insert_in(c, &row);
	if ((r = pg_tx_end(c, r)) == SCEP_OK)
		a->id = row.id;
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pg_account_update(void *be, const struct store_account *a)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	r = pg_account_update_in(c, a);
	r = pg_tx_end(c, r);
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pg_account_get(void *be, int64_t id, struct store_account *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, id);
	return select1(be, S(ST_ACC_GET), &p, account_row_v, out);
}

static int
pg_account_by_challenge(void *be, const uint8_t hash[STORE_HASH_LEN],
    struct store_account *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_blob(&p, hash, STORE_HASH_LEN);
	return select1(be, S(ST_ACC_CH), &p, account_row_v, out);
}

/*
 * Requests.
 */

static int
request_row_v(const PGresult *res, int row, void *out)
{
	struct store_request *o = out;
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	o->id = c_i64(&cl);
	o->endpoint_id = c_i64(&cl);
	o->account_id = c_i64(&cl);
	c_text(&cl, o->transid, sizeof(o->transid));
	c_hash(&cl, o->key_fp);
	o->msgtype = c_int(&cl);
	o->status = c_int(&cl);
	c_text(&cl, o->serial, sizeof(o->serial));
	c_text(&cl, o->reason, sizeof(o->reason));
	c_blob_dup(&cl, &o->csr_der, &o->csr_len);
	c_blob_dup(&cl, &o->signer_der, &o->signer_len);
	o->created_at = c_i64(&cl);
	o->updated_at = c_i64(&cl);
	return cl.r;
}

/*
 * A new request.  SCEP_E_EXISTS when a live (pending or issued) request
 * of the same endpoint, transactionID, key and signer exists already: the
 * same PKCSReq arrived at two nodes at once, and only one may go on
 * (requests_live in migrations_pg/0001_init.sql).
 */
static void
request_params(struct pg_params *p, const struct store_request *req)
{
	pg_params_init(p);
	p_i64(p, req->endpoint_id);
	p_ref(p, req->account_id);
	p_text(p, req->transid);
	p_blob(p, req->key_fp, STORE_HASH_LEN);
	p_i64(p, req->msgtype);
	p_i64(p, req->status);
	p_text(p, req->serial);
	p_text(p, req->reason);
	p_blob_opt(p, req->csr_der, req->csr_len);
	p_blob_opt(p, req->signer_der, req->signer_len);
	p_i64(p, req->created_at);
	p_i64(p, req->updated_at);
}

static int
pg_request_insert(void *be, struct store_request *req)
{
	struct pg_params p;

	request_params(&p, req);
	return insert_id(be, S(ST_REQ_INS), &p, 0, &req->id);
}

static int
pg_request_get(void *be, int64_t id, struct store_request *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, id);
	return select1(be, S(ST_REQ_GET), &p, request_row_v, out);
}

static int
pg_request_find(void *be, int64_t endpoint_id, const char *transid,
    struct store_request *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, endpoint_id);
	p_text(&p, transid);
	return select1(be, S(ST_REQ_FIND), &p, request_row_v, out);
}

/* The guarded status change, inside the caller's transaction:
 * SCEP_E_NOTFOUND when the row is missing or no longer in "from". */
static int
request_move(struct pg_conn *c, int64_t id, int from, int to,
    const char *serial, const char *reason, int64_t now)
{
	struct pg_params p;
	int64_t n = 0;
	int r;

	pg_params_init(&p);
	p_i64(&p, to);
	p_text(&p, serial);
	p_text(&p, reason);
	p_i64(&p, now);
	p_i64(&p, id);
	p_i64(&p, from);
	if ((r = pg_exec_cmd(c, S(ST_REQ_TRANS), &p, &n)) != SCEP_OK)
		return r;
	return n == 1 ? SCEP_OK : SCEP_E_NOTFOUND;
}

static int
pg_request_transition(void *be, int64_t id, int from, int to,
    const char *serial, const char *reason, int64_t now)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	/* One guarded UPDATE: atomic by itself (autocommit). */
	r = request_move(c, id, from, to, serial, reason, now);
	pg_conn_put(pg, c);
	return r;
}

static int
pg_request_list_pending(void *be, struct store_request *out, size_t max,
    size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, REQ_PENDING);
	p_i64(&p, lim(max));
	return select_n(be, S(ST_REQ_PEND), &p, request_row_v, out,
	    sizeof(*out), max, n);
}

/*
 * The data migration of store_redact.c.  The old row versions stay in
 * the table (and its TOAST table) as dead tuples until VACUUM reclaims
 * them, and in the WAL until it is recycled: SECURITY.md says what to
 * run; csr_scrub has nothing it can do inside scepd's connections.
 */
static int
csr_row_v(const PGresult *res, int row, void *out)
{
	struct store_csr_row *o = out;
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	o->id = c_i64(&cl);
	c_blob_dup(&cl, &o->der, &o->len);
	return cl.r;
}

static int
pg_csr_batch(void *be, int64_t after, struct store_csr_row *out, size_t max,
    size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, after);
	p_i64(&p, lim(max));
	return select_n(be, S(ST_CSR_BATCH), &p, csr_row_v, out,
	    sizeof(*out), max, n);
}

static int
pg_csr_rewrite(void *be, const struct store_csr_row *rows, size_t n)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	size_t i;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) == SCEP_OK) {
		for (i = 0; i < n && r == SCEP_OK; i++) {
			pg_params_init(&p);
			p_blob(&p, rows[i].der, rows[i].len);
			p_i64(&p, rows[i].id);
			r = pg_exec_cmd(c, S(ST_CSR_PUT), &p, NULL);
		}
		r = pg_tx_end(c, r);
	}
	pg_conn_put(pg, c);
	return r;
}

static int
pg_csr_scrub(void *be)
{
	(void)be;
	return SCEP_OK;
}

/*
 * Certificates.
 */

/*
 * One transaction: move the request from "from_status" to REQ_ISSUED,
 * count the enrollment against the account's limit, insert the
 * certificate.  Any failure rolls all three back.  Across nodes: the
 * request's guarded UPDATE lets one issuer win (the other waits on the
 * row lock, then finds the status moved: SCEP_E_EXISTS); the account's
 * guarded UPDATE keeps the count within the limit; the UNIQUE serial
 * makes a collision SCEP_E_EXISTS (the caller draws again).  COMMIT
 * returns once the WAL is flushed (synchronous_commit on).  The order
 * and the errors are store_issue_in's (store.c); below are the
 * statements of store_tx_ops (store_int.h) on this backend.
 */
static int
tx_request_insert(void *c, struct store_request *rq)
{
	struct pg_params p;

	request_params(&p, rq);
	return insert_id_in(c, S(ST_REQ_INS), &p, &rq->id);
}

static int
tx_request_move(void *c, int64_t id, int from, int to, const char *serial,
    const char *reason, int64_t now)
{
	return request_move(c, id, from, to, serial, reason, now);
}

static int
tx_request_has(void *c, int64_t id)
{
	return exists_i64(c, ST_REQ_HAS, id);
}

static int
tx_account_enroll(void *c, int64_t id, int64_t *changed)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, id);
	return pg_exec_cmd(c, S(ST_ACC_ENROLL), &p, changed);
}

static int
tx_account_has(void *c, int64_t id)
{
	return exists_i64(c, ST_ACC_HAS, id);
}

static int
tx_cert_insert(void *c, const struct store_cert *crt, int64_t request_id,
    int64_t now)
{
	struct pg_params p;

	pg_params_init(&p);
	p_text(&p, crt->serial);
	p_i64(&p, crt->ca_id);
	p_ref(&p, crt->endpoint_id);
	p_ref(&p, crt->account_id);
	p_ref(&p, request_id);
	p_ref(&p, crt->org_id);
	p_ref(&p, crt->dept_id);
	p_text(&p, crt->subject);
	p_blob(&p, crt->key_fp, STORE_HASH_LEN);
	p_i64(&p, crt->not_before);
	p_i64(&p, crt->not_after);
	p_i64(&p, crt->status);
	p_i64(&p, crt->revoked_at);
	p_i64(&p, crt->revoke_reason);
	p_blob(&p, crt->der, crt->der_len);
	p_i64(&p, now);
	return pg_exec_cmd(c, S(ST_CERT_INS), &p, NULL);
}

static int	event_append_in(struct pg_conn *, void *);

static int
tx_event_append(void *c, struct store_event *row)
{
	return event_append_in(c, row);
}

static const struct store_tx_ops pg_tx = {
	.request_insert = tx_request_insert,
	.request_move = tx_request_move,
	.request_has = tx_request_has,
	.account_enroll = tx_account_enroll,
	.account_has = tx_account_has,
	.cert_insert = tx_cert_insert,
	.event_append = tx_event_append,
};

static int
pg_cert_issue(void *be, const struct store_cert *crt, int64_t request_id,
    int from_status, int64_t now)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) == SCEP_OK)
		r = pg_tx_end(c, store_issue_in(&pg_tx, c, crt, request_id,
		    from_status, now));
	pg_conn_put(pg, c);
	return r;
}

int
pg_cert_row(const PGresult *res, int row, struct store_cert *o)
{
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	c_text(&cl, o->serial, sizeof(o->serial));
	o->ca_id = c_i64(&cl);
	o->endpoint_id = c_i64(&cl);
	o->account_id = c_i64(&cl);
	o->request_id = c_i64(&cl);
	o->org_id = c_i64(&cl);
	o->dept_id = c_i64(&cl);
	c_text(&cl, o->subject, sizeof(o->subject));
	c_hash(&cl, o->key_fp);
	o->not_before = c_i64(&cl);
	o->not_after = c_i64(&cl);
	o->status = c_int(&cl);
	o->revoked_at = c_i64(&cl);
	o->revoke_reason = c_int(&cl);
	c_blob_dup(&cl, &o->der, &o->der_len);
	o->created_at = c_i64(&cl);
	return cl.r;
}

static int
cert_row_v(const PGresult *res, int row, void *o)
{
	return pg_cert_row(res, row, o);
}

static int
pg_cert_get(void *be, const char *serial, struct store_cert *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_text(&p, serial);
	return select1(be, S(ST_CERT_GET), &p, cert_row_v, out);
}

static int
pg_cert_revoke(void *be, const char *serial, int reason, int64_t now)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	int64_t n = 0;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	pg_params_init(&p);
	p_i64(&p, CERT_REVOKED);
	p_i64(&p, now);
	p_i64(&p, reason);
	p_text(&p, serial);
	p_i64(&p, CERT_VALID);
	if ((r = pg_exec_cmd(c, S(ST_CERT_REV), &p, &n)) == SCEP_OK &&
	    n == 0) {
		r = exists_text(c, ST_CERT_HAS, serial);
		if (r == SCEP_OK)
			r = SCEP_E_EXISTS;	/* already revoked */
	}
	r = pg_tx_end(c, r);
 out:
	pg_conn_put(pg, c);
	return r;
}

/*
 * The revoked certificates of a CA, in revocation order, a page at a time
 * inside one read-only snapshot (a consistent CRL while revocations go on,
 * and bounded memory however long the list).
 */
static int
pg_cert_revoked_each(void *be, int64_t ca_id,
    int (*fn)(void *, const char *, int64_t, int), void *arg)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	PGresult *res = NULL;
	char serial[STORE_SERIAL_MAX];
	int64_t at, last_at = INT64_MIN, last_id = INT64_MIN;
	int i, rows, reason, r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_snapshot_begin(c)) != SCEP_OK)
		goto out;
	do {
		pg_params_init(&p);
		p_i64(&p, ca_id);
		p_i64(&p, CERT_REVOKED);
		p_i64(&p, last_at);
		p_i64(&p, last_id);
		p_i64(&p, PG_PAGE);
		PQclear(res);
		if ((r = pg_exec(c, S(ST_CERT_REVD), &p, &res)) != SCEP_OK)
			goto end;
		rows = PQntuples(res);
		for (i = 0; i < rows; i++) {
			struct pg_col cl;

			pg_col_init(&cl, res, i);
			c_text(&cl, serial, sizeof(serial));
			at = c_i64(&cl);
			reason = c_int(&cl);
			last_id = c_i64(&cl);
			if ((r = cl.r) != SCEP_OK)
				goto end;
			last_at = at;
			if ((r = fn(arg, serial, at, reason)) != 0)
				goto end;
		}
	} while (rows == PG_PAGE);
	r = SCEP_OK;
 end:
	PQclear(res);
	(void)pg_tx_end(c, SCEP_OK);	/* ends the read snapshot */
 out:
	pg_conn_put(pg, c);
	return r;
}

/*
 * Events: the audit chain (store_event_digest() in store.c).
 */

int
pg_event_row(const PGresult *res, int row, struct store_event *o)
{
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	o->id = c_i64(&cl);
	o->ts = c_i64(&cl);
	c_text(&cl, o->kind, sizeof(o->kind));
	c_text(&cl, o->actor, sizeof(o->actor));
	c_text(&cl, o->action, sizeof(o->action));
	o->endpoint_id = c_i64(&cl);
	o->account_id = c_i64(&cl);
	c_text(&cl, o->transid, sizeof(o->transid));
	c_text(&cl, o->client_addr, sizeof(o->client_addr));
	c_text(&cl, o->result, sizeof(o->result));
	o->failinfo = c_int(&cl);
	c_text(&cl, o->reason, sizeof(o->reason));
	c_text(&cl, o->serial, sizeof(o->serial));
	c_text(&cl, o->details, sizeof(o->details));
	c_hash(&cl, o->prev_hash);
	c_hash(&cl, o->hash);
	return cl.r;
}

static int
event_row_v(const PGresult *res, int row, void *o)
{
	return pg_event_row(res, row, o);
}

/*
 * Group commit for the audit chain.  An append holds the chain lock
 * (PG_LOCK_CHAIN) until its COMMIT returns, i.e. through the WAL flush, so
 * appends one by one would serialize every enrollment of every node on one
 * fsync each.  Instead appends queue up here: the first one that finds no
 * batch in progress leads, runs every queued append on its connection in
 * one transaction (one lock, one COMMIT, one flush) and wakes the others
 * with their outcomes.  When anything in the batch fails, PostgreSQL has
 * aborted the whole transaction: it is rolled back and every append of
 * the batch is run again in a transaction of its own, so each gets its
 * own outcome.  An append reports SCEP_OK only once the COMMIT containing
 * it has returned.
 */
static int
pg_job_alone(struct pg *pg, struct pg_job *j)
{
	struct pg_conn *c = NULL;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) == SCEP_OK)
		r = pg_tx_end(c, j->fn(c, j->arg));
	pg_conn_put(pg, c);
	return r;
}

static void
pg_batch_run(struct pg *pg, struct pg_job *batch)
{
	struct pg_conn *c = NULL;
	struct pg_job *j;
	int r;

	if (batch->next == NULL) {
		batch->r = pg_job_alone(pg, batch);
		return;
	}
	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		goto fail;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto fail;
	for (j = batch; j != NULL && r == SCEP_OK; j = j->next)
		r = j->r = j->fn(c, j->arg);
	if ((r = pg_tx_end(c, r)) == SCEP_OK) {
		pg_conn_put(pg, c);
		return;
	}
	if (c->bad) {
		/* The connection failed, perhaps with the COMMIT's answer
		 * lost: the outcome is unknown, and running the writes
		 * again could append them twice. */
		goto fail;
	}
	pg_conn_put(pg, c);
	for (j = batch; j != NULL; j = j->next)
		j->r = pg_job_alone(pg, j);
	return;
 fail:
	pg_conn_put(pg, c);
	for (j = batch; j != NULL; j = j->next)
		j->r = r;
}

static int
pg_write(struct pg *pg, pg_job_fn fn, void *arg)
{
	struct pg_job job, *batch, *j;

	memset(&job, 0, sizeof(job));
	job.fn = fn;
	job.arg = arg;
	pthread_mutex_lock(&pg->qmu);
	*pg->qtail = &job;
	pg->qtail = &job.next;
	while (!job.done) {
		if (pg->leader) {
			pthread_cond_wait(&pg->qcv, &pg->qmu);
			continue;
		}
		pg->leader = 1;
		batch = pg->qhead;
		pg->qhead = NULL;
		pg->qtail = &pg->qhead;
		pthread_mutex_unlock(&pg->qmu);

		pg_batch_run(pg, batch);

		pthread_mutex_lock(&pg->qmu);
		for (j = batch; j != NULL; j = j->next)
			j->done = 1;
		pg->leader = 0;
		pthread_cond_broadcast(&pg->qcv);
	}
	pthread_mutex_unlock(&pg->qmu);
	return job.r;
}

/*
 * The new row's id is the last id + 1 and its prev_hash the last row's
 * hash, both read after taking the chain lock (pg_advisory_xact_lock,
 * held until COMMIT or ROLLBACK).  Whoever holds it next reads, with a
 * new statement snapshot, the row just committed: appends from every node
 * form one sequence, never a fork.  The primary key on id would refuse a
 * fork anyway.
 */
static int
event_append_in(struct pg_conn *c, void *arg)
{
	static const uint8_t zero[STORE_HASH_LEN];
	struct store_event *row = arg;
	struct pg_params p;
	PGresult *res = NULL;
	struct pg_col cl;
	int r;

	/* Taken again by every append of a batch: a no-op after the first
	 * (advisory locks nest within a session). */
	if ((r = pg_exec_cmd(c, S(ST_EV_LOCK), NULL, NULL)) != SCEP_OK)
		return r;
	r = pg_exec_row(c, S(ST_EV_LAST), NULL, &res);
	if (r == SCEP_OK) {
		pg_col_init(&cl, res, 0);
		row->id = c_i64(&cl) + 1;
		c_hash(&cl, row->prev_hash);
		r = cl.r;
	} else if (r == SCEP_E_NOTFOUND) {
		row->id = 1;
		memcpy(row->prev_hash, zero, sizeof(zero));
		r = SCEP_OK;
	}
	PQclear(res);
	if (r != SCEP_OK)
		return r;
	if ((r = store_event_digest(row->prev_hash, row, row->hash)) !=
	    SCEP_OK)
		return r;
	pg_params_init(&p);
	p_i64(&p, row->id);
	p_i64(&p, row->ts);
	p_text(&p, row->kind);
	p_text(&p, row->actor);
	p_text(&p, row->action);
	p_i64(&p, row->endpoint_id);
	p_i64(&p, row->account_id);
	p_text(&p, row->transid);
	p_text(&p, row->client_addr);
	p_text(&p, row->result);
	p_i64(&p, row->failinfo);
	p_text(&p, row->reason);
	p_text(&p, row->serial);
	p_text(&p, row->details);
	p_blob(&p, row->prev_hash, STORE_HASH_LEN);
	p_blob(&p, row->hash, STORE_HASH_LEN);
	return pg_exec_cmd(c, S(ST_EV_INS), &p, NULL);
}

/* "row" is store.c's private copy (event_copy there). */
static int
pg_event_append(void *be, struct store_event *row)
{
	return pg_write(be, event_append_in, row);
}

struct enroll_args {
	struct store_request	*rq;
	const struct store_cert	*crt;		/* may be NULL */
	struct store_event	*row;		/* may be NULL */
};

static int
enroll_in(struct pg_conn *c, void *arg)
{
	struct enroll_args *a = arg;
	int r;

	/* The chain lock first, as every append of a batch takes it: one
	 * lock order (chain, then account and request rows) on every node,
	 * or two nodes' transactions could deadlock on an account row. */
	if (a->row != NULL &&
	    (r = pg_exec_cmd(c, S(ST_EV_LOCK), NULL, NULL)) != SCEP_OK)
		return r;
	return store_enroll_in(&pg_tx, c, a->rq, a->crt, a->row);
}

/* store.c restores rq->id and copies the event back (event_copy). */
static int
pg_enroll_commit(void *be, struct store_request *rq,
    const struct store_cert *crt, struct store_event *row)
{
	struct enroll_args a = { rq, crt, row };

	return pg_write(be, enroll_in, &a);
}

static int
pg_event_list(void *be, int64_t after, struct store_event *out, size_t max,
    size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, after);
	p_i64(&p, lim(max));
	return select_n(be, S(ST_EV_LIST), &p, event_row_v, out, sizeof(*out),
	    max, n);
}

/*
 * Walk the whole chain oldest first, a page at a time, inside the
 * caller's transaction (a snapshot: consistent while appends go on).  A
 * row is bad when its prev_hash is not the previous row's hash, when its
 * stored hash is not the digest of its content, or when a field cannot
 * even be read back (wrong type, hash of the wrong length): each is
 * tampering, reported as SCEP_E_MALFORMED with *bad_id.  *count gets the
 * rows walked and last[] the hash of the newest (zero when empty).
 */
int
pg_chain_verify_in(struct pg_conn *c, int64_t *bad_id, int64_t *count,
    uint8_t last[STORE_HASH_LEN])
{
	struct pg_params p;
	struct store_event *row = NULL;
	PGresult *res = NULL;
	uint8_t want[STORE_HASH_LEN];
	int64_t after = INT64_MIN;
	int i, rows, r;

	*bad_id = 0;
	*count = 0;
	memset(last, 0, STORE_HASH_LEN);
	/* struct store_event is ~2.7 KiB: keep it off thread stacks. */
	if ((row = calloc(1, sizeof(*row))) == NULL)
		return SCEP_E_NOMEM;
	do {
		pg_params_init(&p);
		p_i64(&p, after);
		p_i64(&p, PG_PAGE);
		PQclear(res);
		if ((r = pg_exec(c, S(ST_EV_LIST), &p, &res)) != SCEP_OK)
			goto out;
		rows = PQntuples(res);
		for (i = 0; i < rows; i++) {
			struct pg_col cl;

			memset(row, 0, sizeof(*row));
			r = pg_event_row(res, i, row);
			if (r == SCEP_E_NOMEM)
				goto out;
			/* The id alone, for the report, when the row is
			 * unreadable. */
			pg_col_init(&cl, res, i);
			after = c_i64(&cl);
			if (r != SCEP_OK || memcmp(row->prev_hash, last,
			    STORE_HASH_LEN) != 0) {
				r = SCEP_E_MALFORMED;
				*bad_id = after;
				goto out;
			}
			if ((r = store_event_digest(last, row, want)) !=
			    SCEP_OK)
				goto out;
			if (memcmp(want, row->hash, sizeof(want)) != 0) {
				r = SCEP_E_MALFORMED;
				*bad_id = row->id;
				goto out;
			}
			memcpy(last, row->hash, STORE_HASH_LEN);
			(*count)++;
		}
	} while (rows == PG_PAGE);
	r = SCEP_OK;
 out:
	PQclear(res);
	free(row);
	return r;
}

static int
pg_event_verify(void *be, int64_t *bad_id)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	uint8_t last[STORE_HASH_LEN];
	int64_t count = 0;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_snapshot_begin(c)) == SCEP_OK) {
		r = pg_chain_verify_in(c, bad_id, &count, last);
		(void)pg_tx_end(c, SCEP_OK);	/* ends the snapshot */
	}
	pg_conn_put(pg, c);
	return r;
}

/*
 * Tokens.
 */

static int
pg_token_insert(void *be, const char *name,
    const uint8_t hash[STORE_HASH_LEN], int64_t now)
{
	struct pg_params p;

	pg_params_init(&p);
	p_text(&p, name);
	p_blob(&p, hash, STORE_HASH_LEN);
	p_i64(&p, now);
	return write1(be, S(ST_TOK_INS), &p, 0, 0);
}

struct namebuf {
	char	*buf;
	size_t	 sz;
};

static int
name_row_v(const PGresult *res, int row, void *o)
{
	struct namebuf *nb = o;
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	c_text(&cl, nb->buf, nb->sz);
	return cl.r == SCEP_E_STORE ? SCEP_E_TOOBIG : cl.r;	/* caller's */
}

static int
pg_token_check(void *be, const uint8_t hash[STORE_HASH_LEN], char *name,
    size_t namesz)
{
	struct pg_params p;
	struct namebuf nb = { name, namesz };

	pg_params_init(&p);
	p_blob(&p, hash, STORE_HASH_LEN);
	return select1(be, S(ST_TOK_CHK), &p, name_row_v, &nb);
}

const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.schema_version = pg_schema_version,
	.setting_get = pg_setting_get,
	.setting_set = pg_setting_set,
	.ca_insert = pg_ca_insert,
	.ca_get = pg_ca_get,
	.ra_insert = pg_ra_insert,
	.ra_get = pg_ra_get,
	.ra_list = pg_ra_list,
	.ra_set_state = pg_ra_set_state,
	.endpoint_insert = pg_endpoint_insert,
	.endpoint_update = pg_endpoint_update,
	.endpoint_get = pg_endpoint_get,
	.endpoint_by_ext = pg_endpoint_by_ext,
	.endpoint_delete = pg_endpoint_delete,
	.config_version = pg_config_version,
	.account_insert = pg_account_insert,
	.account_update = pg_account_update,
	.account_get = pg_account_get,
	.account_by_challenge = pg_account_by_challenge,
	.request_insert = pg_request_insert,
	.request_get = pg_request_get,
	.request_find = pg_request_find,
	.request_transition = pg_request_transition,
	.request_list_pending = pg_request_list_pending,
	.cert_issue = pg_cert_issue,
	.enroll_commit = pg_enroll_commit,
	.cert_get = pg_cert_get,
	.cert_revoke = pg_cert_revoke,
	.cert_revoked_each = pg_cert_revoked_each,
	.event_append = pg_event_append,
	.event_list = pg_event_list,
	.event_verify = pg_event_verify,
	.csr_batch = pg_csr_batch,
	.csr_rewrite = pg_csr_rewrite,
	.csr_scrub = pg_csr_scrub,
	.token_insert = pg_token_insert,
	.token_check = pg_token_check,
};
