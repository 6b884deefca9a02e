/*
 * store_sqlite.c -- the SQLite backend of the store (STYLE H10).
 *
 * Durability and concurrency choices, and why:
 *
 *  - journal_mode=WAL: readers never block the writer nor each other, so
 *    SCEP GETs and polls go on while a certificate is being recorded.
 *  - synchronous=FULL: in WAL mode, NORMAL may lose the last transactions
 *    on power loss.  A certificate must be on stable storage before the
 *    CertRep carrying it goes to the client (otherwise the client holds a
 *    certificate we do not know about: no revocation, no GetCert, serial
 *    reuse), so every COMMIT waits for the WAL fsync.
 *  - foreign_keys=ON: references are enforced (SQLite's default is off).
 *  - busy_timeout=5000 ms: another process (scepctl, a backup) holding the
 *    write lock makes us wait, then fail with SCEP_E_BUSY.
 *  - A pool of up to SQ_POOL_MAX connections, opened lazily, checked out
 *    by one thread at a time (mutex + condition variable), so connections
 *    run in SQLite's multi-thread mode without per-call locking.
 *  - Every write is a BEGIN IMMEDIATE transaction, taken under an
 *    in-process write mutex.  SQLite admits one writer at a time anyway;
 *    queueing our own writers on a mutex keeps them from spinning in
 *    SQLite's sleep-and-retry busy handler (which is unfair and can starve
 *    a thread past the timeout) and leaves the busy timeout for other
 *    processes.  IMMEDIATE takes the write lock at BEGIN, so a transaction
 *    never fails half-way trying to upgrade a read lock.
 *  - Group commit (sq_write): the writes of an enrollment (and audit
 *    appends) queue up, and one leader runs a whole batch in one
 *    transaction, each write in a SAVEPOINT, with one COMMIT and so one
 *    fsync for all of them.  See sq_write.
 *  - Prepared statements only: every SQL text is a constant in stmt_sql[],
 *    compiled once per connection (SQLITE_PREPARE_PERSISTENT) on first use
 *    and then reset and re-bound; no SQL is ever assembled at run time.
 *    The migration files are constants too, run once at open.
 *  - A new database file is created by us with mode 0600 before SQLite
 *    opens it.  SQLite creates the -wal and -shm files with the same
 *    permissions as the database (unixOpen/findCreateFileMode in
 *    os_unix.c, fchmod'ed past the umask), so they are 0600 as well.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "scep_err.h"
#include "store.h"
#include "store_int.h"
#include "store_sqlite_int.h"

#define SQ_POOL_MAX	8	/* connections; more threads wait their turn */
#define SQ_BUSY_MS	5000	/* wait for another process's write lock */

/*
 * Every statement the backend runs.  The column lists (RA_COLS ...) are in
 * store_sqlite_int.h, shared with the row readers below and with the
 * other files of the backend.
 */
enum sq_stmt {
	ST_BEGIN_W, ST_BEGIN_R, ST_COMMIT, ST_ROLLBACK,
	ST_SP, ST_SP_REL, ST_SP_UNDO,
	ST_MIG_TABLE, ST_MIG_MAX, ST_MIG_HAS, ST_MIG_ADD,
	ST_CFG_BUMP, ST_CFG_GET, ST_SET_GET, ST_SET_PUT,
	ST_CA_INS, ST_CA_GET,
	ST_RA_INS, ST_RA_GET, ST_RA_LIST, ST_RA_STATE,
	ST_EP_INS, ST_EP_UPD, ST_EP_GET, ST_EP_EXT, ST_EP_DEL,
	ST_ACC_INS, ST_ACC_UPD, ST_ACC_GET, ST_ACC_CH, ST_ACC_ENROLL,
	ST_ACC_HAS,
	ST_REQ_INS, ST_REQ_GET, ST_REQ_FIND, ST_REQ_TRANS, ST_REQ_HAS,
	ST_REQ_PEND, ST_CSR_BATCH, ST_CSR_PUT,
	ST_CERT_INS, ST_CERT_GET, ST_CERT_REV, ST_CERT_HAS, ST_CERT_REVD,
	ST_EV_LAST, ST_EV_INS, ST_EV_LIST, ST_EV_ALL,
	ST_TOK_INS, ST_TOK_CHK,
	ST__MAX
};

static const char *const stmt_sql[ST__MAX] = {
	[ST_BEGIN_W] = "BEGIN IMMEDIATE",
	[ST_BEGIN_R] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SP] = "SAVEPOINT job",
	[ST_SP_REL] = "RELEASE job",
	[ST_SP_UNDO] = "ROLLBACK TO job",

	[ST_MIG_TABLE] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
	    "applied_at BIGINT NOT NULL)",
	[ST_MIG_MAX] = "SELECT COALESCE(MAX(version), 0) "
	    "FROM schema_migrations",
	[ST_MIG_HAS] = "SELECT 1 FROM schema_migrations WHERE version = ?",
	[ST_MIG_ADD] = "INSERT INTO schema_migrations "
	    "(version, name, applied_at) VALUES (?, ?, ?)",

	[ST_CFG_BUMP] = "UPDATE settings "
	    "SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) "
	    "WHERE key = 'config_version'",
	[ST_CFG_GET] = "SELECT CAST(value AS BIGINT) FROM settings "
	    "WHERE key = 'config_version'",
	[ST_SET_GET] = "SELECT value FROM settings WHERE key = ?",
	[ST_SET_PUT] = "INSERT INTO settings (key, value) VALUES (?, ?) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",

	[ST_CA_INS] = "INSERT INTO cas (name, key_path, cert_der, created_at) "
	    "VALUES (?, ?, ?, ?)",
	[ST_CA_GET] = "SELECT id, name, key_path, cert_der, created_at "
	    "FROM cas WHERE id = ?",

	[ST_RA_INS] = "INSERT INTO ras "
	    "(ca_id, state, usage, key_path, cert_der, created_at) "
	    "VALUES (?, ?, ?, ?, ?, ?)",
	[ST_RA_GET] = "SELECT " RA_COLS " FROM ras WHERE id = ?",
	[ST_RA_LIST] = "SELECT " RA_COLS " FROM ras "
	    "WHERE ca_id = ? AND (? = 0 OR state = ?) ORDER BY id LIMIT ?",
	[ST_RA_STATE] = "UPDATE ras SET state = ? WHERE id = ?",

	[ST_EP_INS] = "INSERT INTO endpoints (name, uri_ext, type, ca_id, "
	    "ra_id, min_rsa_bits, allow_ec, term_days, server_auth, renewal, "
	    "renewal_window_days, copy_sans, getcacert_chain, getcert_chain, "
	    "manual_approval, legacy, enabled, delegation_general, org_id, "
	    "dept_id, created_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
	[ST_EP_UPD] = "UPDATE endpoints SET name = ?, uri_ext = ?, type = ?, "
	    "ca_id = ?, ra_id = ?, min_rsa_bits = ?, allow_ec = ?, "
	    "term_days = ?, server_auth = ?, renewal = ?, "
	    "renewal_window_days = ?, copy_sans = ?, getcacert_chain = ?, "
	    "getcert_chain = ?, manual_approval = ?, legacy = ?, enabled = ?, "
	    "delegation_general = ?, org_id = ?, dept_id = ? "
	    "WHERE id = ? AND deleted_at = 0",
	[ST_EP_GET] = "SELECT " EP_COLS " FROM endpoints WHERE id = ?",
	[ST_EP_EXT] = "SELECT " EP_COLS " FROM endpoints "
	    "WHERE uri_ext = ? AND deleted_at = 0",
	[ST_EP_DEL] = "UPDATE endpoints SET deleted_at = ? "
	    "WHERE id = ? AND deleted_at = 0",

	[ST_ACC_INS] = "INSERT INTO accounts (endpoint_id, name, org_id, "
	    "dept_id, enabled, expires_at, max_enrollments, enrollments, "
	    "challenge_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_ACC_UPD] = "UPDATE accounts SET endpoint_id = ?, name = ?, "
	    "org_id = ?, dept_id = ?, enabled = ?, expires_at = ?, "
	    "max_enrollments = ?, challenge_hash = ? WHERE id = ?",
	[ST_ACC_GET] = "SELECT " ACC_COLS " FROM accounts WHERE id = ?",
	[ST_ACC_CH] = "SELECT " ACC_COLS " FROM accounts "
	    "WHERE challenge_hash = ?",
	[ST_ACC_ENROLL] = "UPDATE accounts SET enrollments = enrollments + 1 "
	    "WHERE id = ? AND (max_enrollments = 0 OR "
	    "enrollments < max_enrollments)",
	[ST_ACC_HAS] = "SELECT 1 FROM accounts WHERE id = ?",

	/* signer_fp: the store's SHA-256 of signer_der, for requests_live
	 * (migrations/0005_requests_live.sql). */
	[ST_REQ_INS] = "INSERT INTO requests (endpoint_id, account_id, "
	    "transid, key_fp, msgtype, status, serial, reason, csr_der, "
	    "signer_der, created_at, updated_at, signer_fp) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_REQ_GET] = "SELECT " REQ_COLS " FROM requests WHERE id = ?",
	[ST_REQ_FIND] = "SELECT " REQ_COLS " FROM requests "
	    "WHERE endpoint_id = ? AND transid = ? ORDER BY id DESC LIMIT 1",
	[ST_REQ_TRANS] = "UPDATE requests SET status = ?, "
	    "serial = COALESCE(?, serial), reason = COALESCE(?, reason), "
	    "updated_at = ? WHERE id = ? AND status = ?",
	[ST_REQ_HAS] = "SELECT 1 FROM requests WHERE id = ?",
	[ST_REQ_PEND] = "SELECT " REQ_COLS " FROM requests "
	    "WHERE status = ? ORDER BY id DESC LIMIT ?",
	[ST_CSR_BATCH] = "SELECT id, csr_der FROM requests "
	    "WHERE id > ? AND csr_der IS NOT NULL ORDER BY id LIMIT ?",
	[ST_CSR_PUT] = "UPDATE requests SET csr_der = ? WHERE id = ?",

	[ST_CERT_INS] = "INSERT INTO certs (" CERT_COLS ") "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_CERT_GET] = "SELECT " CERT_COLS " FROM certs WHERE serial = ?",
	[ST_CERT_REV] = "UPDATE certs SET status = ?, revoked_at = ?, "
	    "revoke_reason = ? WHERE serial = ? AND status = ?",
	[ST_CERT_HAS] = "SELECT 1 FROM certs WHERE serial = ?",
	[ST_CERT_REVD] = "SELECT serial, revoked_at, revoke_reason "
	    "FROM certs WHERE ca_id = ? AND status = ? "
	    "ORDER BY revoked_at, id",

	[ST_EV_LAST] = "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1",
	[ST_EV_INS] = "INSERT INTO events (" EV_COLS ") "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_EV_LIST] = "SELECT " EV_COLS " FROM events WHERE id > ? "
	    "ORDER BY id LIMIT ?",
	[ST_EV_ALL] = "SELECT " EV_COLS " FROM events ORDER BY id",

	[ST_TOK_INS] = "INSERT INTO api_tokens (name, token_hash, created_at) "
	    "VALUES (?, ?, ?)",
	[ST_TOK_CHK] = "SELECT name FROM api_tokens WHERE token_hash = ?",
};

/* One pooled connection and its statement cache. */
struct sq_conn {
	sqlite3		*db;			/* owned */
	sqlite3_stmt	*st[ST__MAX];		/* owned, prepared lazily */
	struct sq_conn	*next;			/* idle list */
};

/* The backend state behind struct store. */
struct sq {
	char		*path;			/* owned */
	pthread_mutex_t	 mu;			/* guards idle, nopen */
	pthread_cond_t	 cv;			/* a connection came back */
	struct sq_conn	*idle;			/* owned: checked-in conns */
	size_t		 nopen;			/* idle + checked out */
	pthread_mutex_t	 wmu;			/* one writer at a time */
	pthread_mutex_t	 qmu;			/* guards the commit queue */
	pthread_cond_t	 qcv;			/* a batch was committed */
	struct sq_job	*qhead;			/* waiting writes, FIFO */
	struct sq_job	**qtail;
	int		 leader;		/* a batch is being committed */
};

/* One write waiting in the commit queue (sq_write). */
struct sq_job {
	sq_job_fn	 fn;
	void		*arg;
	int		 r;			/* fn's outcome, then COMMIT's */
	int		 done;
	struct sq_job	*next;
};

/*
 * SQLite result code to store error.  Extended codes are on, so
 * constraint failures say which constraint.
 */
int
sq_err(int rc)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return SCEP_E_EXISTS;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return SCEP_E_NOTFOUND;	/* refers to a row that is not there */
	default:
		break;
	}
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return SCEP_E_BUSY;
	case SQLITE_NOMEM:
		return SCEP_E_NOMEM;
	default:
		return SCEP_E_STORE;
	}
}

/* Binding (struct bind in store_sqlite_int.h): parameters are bound in
 * order; the first failure sticks. */
void
sq_b_i64(struct bind *b, int64_t v)
{
	if (b->rc == SQLITE_OK)
		b->rc = sqlite3_bind_int64(b->st, ++b->i, v);
}

/* An optional reference: 0 is NULL, so foreign keys hold. */
void
sq_b_ref(struct bind *b, int64_t v)
{
	if (b->rc != SQLITE_OK)
		return;
	if (v == 0)
		b->rc = sqlite3_bind_null(b->st, ++b->i);
	else
		b->rc = sqlite3_bind_int64(b->st, ++b->i, v);
}

/* Text, NULL pointer binds SQL NULL.  SQLITE_STATIC: bound values are
 * only used while the caller's arguments are alive (until reset). */
void
sq_b_text(struct bind *b, const char *s)
{
	if (b->rc != SQLITE_OK)
		return;
	if (s == NULL)
		b->rc = sqlite3_bind_null(b->st, ++b->i);
	else
		b->rc = sqlite3_bind_text(b->st, ++b->i, s, -1, SQLITE_STATIC);
}

/* A blob that may be empty but is never NULL (a NOT NULL column). */
void
sq_b_blob(struct bind *b, const void *p, size_t len)
{
	if (b->rc != SQLITE_OK)
		return;
	if (len == 0)
		b->rc = sqlite3_bind_zeroblob(b->st, ++b->i, 0);
	else
		b->rc = sqlite3_bind_blob64(b->st, ++b->i, p,
		    (sqlite3_uint64)len, SQLITE_STATIC);
}

/* A blob where empty means absent: NULL. */
static void
b_blob_opt(struct bind *b, const void *p, size_t len)
{
	if (b->rc != SQLITE_OK)
		return;
	if (len == 0)
		b->rc = sqlite3_bind_null(b->st, ++b->i);
	else
		b->rc = sqlite3_bind_blob64(b->st, ++b->i, p,
		    (sqlite3_uint64)len, SQLITE_STATIC);
}

/* A hash that is NULL when all zero (accounts.challenge_hash). */
void
sq_b_hash_opt(struct bind *b, const uint8_t h[STORE_HASH_LEN])
{
	static const uint8_t zero[STORE_HASH_LEN];

	b_blob_opt(b, h, memcmp(h, zero, sizeof(zero)) == 0 ? 0 :
	    STORE_HASH_LEN);
}

int
sq_b_end(const struct bind *b)
{
	return b->rc == SQLITE_OK ? SCEP_OK : sq_err(b->rc);
}

/* Reading a row (struct col in store_sqlite_int.h): columns in order;
 * the first failure sticks.  A value that does not fit its field is
 * SCEP_E_STORE, never truncated. */
int64_t
sq_c_i64(struct col *c)
{
	return sqlite3_column_int64(c->st, c->i++);	/* NULL reads 0 */
}

int
sq_c_int(struct col *c)
{
	int64_t v;

	v = sqlite3_column_int64(c->st, c->i++);
	if (v < INT_MIN || v > INT_MAX) {
		if (c->r == SCEP_OK)
			c->r = SCEP_E_STORE;
		return 0;
	}
	return (int)v;
}

void
sq_c_text(struct col *c, char *buf, size_t sz)
{
	const unsigned char *p = NULL;
	int n;

	p = sqlite3_column_text(c->st, c->i);
	n = sqlite3_column_bytes(c->st, c->i);
	c->i++;
	buf[0] = '\0';
	if (c->r != SCEP_OK)
		return;
	if (p == NULL) {
		if (sqlite3_errcode(sqlite3_db_handle(c->st)) == SQLITE_NOMEM)
			c->r = SCEP_E_NOMEM;
		return;		/* SQL NULL: empty */
	}
	if (n < 0 || (size_t)n >= sz) {
		c->r = SCEP_E_STORE;
		return;
	}
	memcpy(buf, p, (size_t)n);
	buf[n] = '\0';
}

/* A blob into a new allocation (take); NULL/empty gives NULL, 0. */
void
sq_c_blob_dup(struct col *c, uint8_t **out, size_t *outlen)
{
	const void *p = NULL;
	int n;

	p = sqlite3_column_blob(c->st, c->i);
	n = sqlite3_column_bytes(c->st, c->i);
	c->i++;
	*out = NULL;
	*outlen = 0;
	if (c->r != SCEP_OK || p == NULL || n <= 0)
		return;
	if ((size_t)n > STORE_BLOB_MAX) {
		c->r = SCEP_E_STORE;
		return;
	}
	if ((*out = malloc((size_t)n)) == NULL) {
		c->r = SCEP_E_NOMEM;
		return;
	}
	memcpy(*out, p, (size_t)n);
	*outlen = (size_t)n;
}

/* A fixed-size hash; NULL reads as all zero, any other length is bad. */
void
sq_c_hash(struct col *c, uint8_t h[STORE_HASH_LEN])
{
	const void *p = NULL;
	int n;

	p = sqlite3_column_blob(c->st, c->i);
	n = sqlite3_column_bytes(c->st, c->i);
	c->i++;
	memset(h, 0, STORE_HASH_LEN);
	if (c->r != SCEP_OK || p == NULL)
		return;
	if (n != STORE_HASH_LEN) {
		c->r = SCEP_E_STORE;
		return;
	}
	memcpy(h, p, STORE_HASH_LEN);
}

/*
 * Connections and statements.
 */

static void
conn_free(struct sq_conn *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < ST__MAX; i++)
		sqlite3_finalize(c->st[i]);	/* accepts NULL */
	sqlite3_close(c->db);			/* accepts NULL */
	free(c);
}

/* Run a constant setup statement that may return rows (PRAGMA). */
static int
conn_pragma(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *v = NULL;
	int rc, r = SCEP_E_STORE;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK) {
		r = sq_err(rc);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = sq_err(rc);
		goto out;
	}
	if (want != NULL) {
		/* journal_mode answers the mode now in force. */
		if (rc != SQLITE_ROW ||
		    (v = sqlite3_column_text(st, 0)) == NULL ||
		    strcmp((const char *)v, want) != 0)
			goto out;
	}
	r = SCEP_OK;
 out:
	sqlite3_finalize(st);
	return r;
}

static int
conn_open(const struct sq *sq, struct sq_conn **out)
{
	struct sq_conn *c = NULL;
	int rc, r;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SCEP_E_NOMEM;
	/* No SQLITE_OPEN_CREATE: sq_open made the file, with its mode.
	 * NOMUTEX: a connection is used by one thread at a time (pool). */
	rc = sqlite3_open_v2(sq->path, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		r = rc == SQLITE_NOMEM ? SCEP_E_NOMEM : SCEP_E_STORE;
		goto out;
	}
	r = SCEP_E_STORE;
	if (sqlite3_extended_result_codes(c->db, 1) != SQLITE_OK ||
	    sqlite3_busy_timeout(c->db, SQ_BUSY_MS) != SQLITE_OK)
		goto out;
	/* Harden: no writes to sqlite_master, no schema-defined functions
	 * with side effects, no extensions. */
	if (sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1,
	    (int *)NULL) != SQLITE_OK ||
	    sqlite3_db_config(c->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
	    (int *)NULL) != SQLITE_OK ||
	    sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION,
	    0, (int *)NULL) != SQLITE_OK)
		goto out;
	if ((r = conn_pragma(c->db, "PRAGMA journal_mode = WAL", "wal")) !=
	    SCEP_OK ||
	    (r = conn_pragma(c->db, "PRAGMA synchronous = FULL", NULL)) !=
	    SCEP_OK ||
	    (r = conn_pragma(c->db, "PRAGMA foreign_keys = ON", NULL)) !=
	    SCEP_OK)
		goto out;
	*out = c;
	c = NULL;
	r = SCEP_OK;
 out:
	conn_free(c);
	return r;
}

/* Check out a connection, opening one if the pool is not full, else
 * waiting for one to come back. */
int
sq_conn_get(struct sq *sq, struct sq_conn **out)
{
	struct sq_conn *c = NULL;
	int r;

	*out = NULL;
	pthread_mutex_lock(&sq->mu);
	while (sq->idle == NULL && sq->nopen >= SQ_POOL_MAX)
		pthread_cond_wait(&sq->cv, &sq->mu);
	if (sq->idle != NULL) {
		c = sq->idle;
		sq->idle = c->next;
		c->next = NULL;
		pthread_mutex_unlock(&sq->mu);
		*out = c;
		return SCEP_OK;
	}
	sq->nopen++;		/* reserve the slot, open outside the lock */
	pthread_mutex_unlock(&sq->mu);

	if ((r = conn_open(sq, &c)) != SCEP_OK) {
		pthread_mutex_lock(&sq->mu);
		sq->nopen--;
		pthread_cond_signal(&sq->cv);
		pthread_mutex_unlock(&sq->mu);
		return r;
	}
	*out = c;
	return SCEP_OK;
}

/* Check a connection back in.  One left inside a transaction (a failed
 * ROLLBACK) is closed rather than handed to the next caller. */
void
sq_conn_put(struct sq *sq, struct sq_conn *c)
{
	if (c == NULL)
		return;
	if (!sqlite3_get_autocommit(c->db)) {
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		if (!sqlite3_get_autocommit(c->db)) {
			conn_free(c);
			pthread_mutex_lock(&sq->mu);
			sq->nopen--;
			pthread_cond_signal(&sq->cv);
			pthread_mutex_unlock(&sq->mu);
			return;
		}
	}
	pthread_mutex_lock(&sq->mu);
	c->next = sq->idle;
	sq->idle = c;
	pthread_cond_signal(&sq->cv);
	pthread_mutex_unlock(&sq->mu);
}

/* The SQLite handle of a checked-out connection (for the backend's
 * other files, which prepare their own statements). */
sqlite3 *
sq_conn_db(struct sq_conn *c)
{
	return c->db;
}

/* The cached statement "id" of this connection, compiled on first use. */
static int
stmt(struct sq_conn *c, enum sq_stmt id, sqlite3_stmt **out)
{
	int rc;

	*out = NULL;
	if (c->st[id] == NULL) {
		rc = sqlite3_prepare_v3(c->db, stmt_sql[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &c->st[id], NULL);
		if (rc != SQLITE_OK) {
			c->st[id] = NULL;
			return sq_err(rc);
		}
	}
	*out = c->st[id];
	return SCEP_OK;
}

/* Ready a statement for the next use; accepts NULL. */
static void
stmt_done(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Step a statement that returns no row. */
int
sq_step_done(sqlite3_stmt *st)
{
	int rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return SCEP_OK;
	if (rc == SQLITE_ROW)
		return SCEP_E_STORE;
	return sq_err(rc);
}

/* Step to the next row: SCEP_OK with a row, SCEP_E_NOTFOUND at the end. */
int
sq_step_row(sqlite3_stmt *st)
{
	int rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return SCEP_OK;
	if (rc == SQLITE_DONE)
		return SCEP_E_NOTFOUND;
	return sq_err(rc);
}

/* Run a cached statement without parameters or rows (BEGIN, COMMIT). */
static int
run(struct sq_conn *c, enum sq_stmt id)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = stmt(c, id, &st)) != SCEP_OK)
		return r;
	r = sq_step_done(st);
	stmt_done(st);
	return r;
}

/* Begin a write transaction: the in-process write lock, then BEGIN
 * IMMEDIATE (the database write lock).  Ended by sq_tx_end. */
int
sq_tx_begin(struct sq *sq, struct sq_conn *c)
{
	int r;

	pthread_mutex_lock(&sq->wmu);
	if ((r = run(c, ST_BEGIN_W)) != SCEP_OK)
		pthread_mutex_unlock(&sq->wmu);
	return r;
}

/* COMMIT if r is SCEP_OK, else ROLLBACK; returns the outcome. */
int
sq_tx_end(struct sq *sq, struct sq_conn *c, int r)
{
	if (r == SCEP_OK)
		r = run(c, ST_COMMIT);
	if (r != SCEP_OK && !sqlite3_get_autocommit(c->db))
		(void)run(c, ST_ROLLBACK);	/* sq_conn_put re-checks */
	pthread_mutex_unlock(&sq->wmu);
	return r;
}

/*
 * Group commit.  With synchronous=FULL every COMMIT waits for an fsync of
 * the WAL (about 1.6 ms on the development machine), and SQLite admits
 * one writer at a time: committing each write on its own caps the server
 * at a few hundred writes per second whatever the CPU count.  So writes
 * queue up here.  The first writer that finds no batch in progress
 * becomes the leader: it takes every queued write (its own included),
 * runs them on its connection inside one BEGIN IMMEDIATE transaction,
 * each in its own SAVEPOINT (a failing write is undone alone and reports
 * its own error), then COMMITs once and wakes the others with their
 * outcomes.  Writes that arrive during that fsync form the next batch,
 * led by one of them.  A write's outcome is SCEP_OK only after the COMMIT
 * that contains it has returned, i.e. is as durable as a COMMIT of its
 * own would have been.
 */
static void
sq_batch_run(struct sq *sq, struct sq_job *batch)
{
	struct sq_conn *c = NULL;
	struct sq_job *j;
	int r, fatal = SCEP_OK;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK) {
		fatal = r;
		goto out;
	}
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK) {
		fatal = r;
		goto out;
	}
	for (j = batch; j != NULL; j = j->next) {
		if (fatal != SCEP_OK) {
			j->r = fatal;
			continue;
		}
		if ((r = run(c, ST_SP)) != SCEP_OK) {
			fatal = j->r = r;
			continue;
		}
		j->r = j->fn(c, j->arg);
		if (sqlite3_get_autocommit(c->db)) {
			/* SQLite rolled the whole transaction back (disk
			 * full, I/O error): every write of the batch is
			 * lost. */
			fatal = j->r != SCEP_OK ? j->r : SCEP_E_STORE;
			continue;
		}
		if (j->r != SCEP_OK && (r = run(c, ST_SP_UNDO)) != SCEP_OK)
			fatal = r;
		else if ((r = run(c, ST_SP_REL)) != SCEP_OK)
			fatal = r;
	}
	r = sq_tx_end(sq, c, fatal);
	if (r != SCEP_OK)
		fatal = r;
 out:
	sq_conn_put(sq, c);
	if (fatal != SCEP_OK)
		for (j = batch; j != NULL; j = j->next)
			j->r = fatal;
}

int
sq_write(struct sq *sq, sq_job_fn fn, void *arg)
{
	struct sq_job job, *batch, *j;

	memset(&job, 0, sizeof(job));
	job.fn = fn;
	job.arg = arg;
	pthread_mutex_lock(&sq->qmu);
	*sq->qtail = &job;
	sq->qtail = &job.next;
	while (!job.done) {
		if (sq->leader) {
			pthread_cond_wait(&sq->qcv, &sq->qmu);
			continue;
		}
		sq->leader = 1;
		batch = sq->qhead;
		sq->qhead = NULL;
		sq->qtail = &sq->qhead;
		pthread_mutex_unlock(&sq->qmu);

		sq_batch_run(sq, batch);

		pthread_mutex_lock(&sq->qmu);
		for (j = batch; j != NULL; j = j->next)
			j->done = 1;	/* "j" may be gone once qmu is free */
		sq->leader = 0;
		pthread_cond_broadcast(&sq->qcv);
	}
	pthread_mutex_unlock(&sq->qmu);
	return job.r;
}

/* One statement with its bindings already applied, expecting no rows:
 * run it and report how many rows it changed. */
int
sq_exec_changes(struct sq_conn *c, sqlite3_stmt *st, const struct bind *b,
    int64_t *changes)
{
	int r;

	if ((r = sq_b_end(b)) == SCEP_OK && (r = sq_step_done(st)) == SCEP_OK &&
	    changes != NULL)
		*changes = sqlite3_changes64(c->db);
	stmt_done(st);
	return r;
}

/* Does "SELECT 1 ... WHERE key = ?" find a row?  SCEP_OK or NOTFOUND. */
static int
exists_i64(struct sq_conn *c, enum sq_stmt id, int64_t key)
{
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = stmt(c, id, &st)) != SCEP_OK)
		return r;
	b.st = st;
	sq_b_i64(&b, key);
	if ((r = sq_b_end(&b)) == SCEP_OK)
		r = sq_step_row(st);
	stmt_done(st);
	return r;
}

static int
exists_text(struct sq_conn *c, enum sq_stmt id, const char *key)
{
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = stmt(c, id, &st)) != SCEP_OK)
		return r;
	b.st = st;
	sq_b_text(&b, key);
	if ((r = sq_b_end(&b)) == SCEP_OK)
		r = sq_step_row(st);
	stmt_done(st);
	return r;
}

/* Bump the configuration counter inside the current write transaction. */
int
sq_config_bump(struct sq_conn *c)
{
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int64_t n = 0;
	int r;

	store_config_touch();
	if ((r = stmt(c, ST_CFG_BUMP, &st)) != SCEP_OK)
		return r;
	b.st = st;
	if ((r = sq_exec_changes(c, st, &b, &n)) != SCEP_OK)
		return r;
	return n == 1 ? SCEP_OK : SCEP_E_STORE;	/* the row must exist */
}

/*
 * Migrations (src/store/migrations/, embedded by embed_sql.py).  Each one
 * runs in its own write transaction together with its schema_migrations
 * row, so it is applied entirely or not at all, exactly once, even when
 * two processes open a new database at the same moment (the second one
 * waits on BEGIN IMMEDIATE and then finds the row).
 */
static int
migrate_one(struct sq *sq, struct sq_conn *c,
    const struct store_migration *m)
{
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		return r;
	if ((r = exists_i64(c, ST_MIG_HAS, m->version)) == SCEP_OK)
		goto out;		/* already applied */
	if (r != SCEP_E_NOTFOUND)
		goto out;
	/* Constant SQL from the build, not from input: sqlite3_exec is
	 * fine here and runs once per database. */
	if (sqlite3_exec(c->db, m->sql, NULL, NULL, NULL) != SQLITE_OK) {
		r = SCEP_E_STORE;
		goto out;
	}
	if ((r = stmt(c, ST_MIG_ADD, &st)) != SCEP_OK)
		goto out;
	b.st = st;
	sq_b_i64(&b, m->version);
	sq_b_text(&b, m->name);
	sq_b_i64(&b, (int64_t)time(NULL));
	r = sq_exec_changes(c, st, &b, NULL);
 out:
	return sq_tx_end(sq, c, r);
}

static int
migrate(struct sq *sq, struct sq_conn *c)
{
	sqlite3_stmt *st = NULL;
	int64_t have = 0;
	size_t i;
	int r;

	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		return r;
	if ((r = run(c, ST_MIG_TABLE)) != SCEP_OK ||
	    (r = stmt(c, ST_MIG_MAX, &st)) != SCEP_OK)
		goto out;
	if ((r = sq_step_row(st)) == SCEP_OK)
		have = sqlite3_column_int64(st, 0);
	stmt_done(st);
	if (r != SCEP_OK)
		goto out;
	/* A newer scepd has been here: its schema is not ours to use. */
	if (have > (int64_t)store_nmigrations)
		r = SCEP_E_CONFIG;
 out:
	if ((r = sq_tx_end(sq, c, r)) != SCEP_OK)
		return r;
	for (i = 0; i < store_nmigrations; i++)
		if ((r = migrate_one(sq, c, &store_migrations[i])) != SCEP_OK)
			return r;
	return SCEP_OK;
}

static void
sq_close(void *be)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;

	if (sq == NULL)
		return;
	while ((c = sq->idle) != NULL) {
		sq->idle = c->next;
		conn_free(c);
	}
	pthread_cond_destroy(&sq->cv);
	pthread_mutex_destroy(&sq->mu);
	pthread_mutex_destroy(&sq->wmu);
	pthread_cond_destroy(&sq->qcv);
	pthread_mutex_destroy(&sq->qmu);
	free(sq->path);
	free(sq);
}

/*
 * Create the database file if it is missing, with mode 0600 whatever the
 * umask (fchmod), and refuse to follow a symbolic link to it.
 */
static int
create_file(const char *path)
{
	int fd, r = SCEP_OK;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    S_IRUSR | S_IWUSR);
	if (fd == -1)
		return errno == EEXIST ? SCEP_OK : SCEP_E_IO;
	if (fchmod(fd, S_IRUSR | S_IWUSR) == -1)
		r = SCEP_E_IO;
	if (close(fd) == -1)
		r = SCEP_E_IO;
	if (r != SCEP_OK)
		(void)unlink(path);
	return r;
}

static int
sq_open(const char *arg, void **be)
{
	struct sq *sq = NULL;
	struct sq_conn *c = NULL;
	size_t len;
	int r, inited = 0;

	*be = NULL;
	/* An in-memory database would be a different one per pooled
	 * connection; "file:" URIs are not enabled (no SQLITE_OPEN_URI). */
	len = strnlen(arg, PATH_MAX);
	if (len == 0 || len >= PATH_MAX || strcmp(arg, ":memory:") == 0)
		return SCEP_E_CONFIG;
	if (!sqlite3_threadsafe())
		return SCEP_E_CONFIG;	/* built without thread support */

	if ((sq = calloc(1, sizeof(*sq))) == NULL)
		return SCEP_E_NOMEM;
	if ((sq->path = strdup(arg)) == NULL) {
		free(sq);
		return SCEP_E_NOMEM;
	}
	if (pthread_mutex_init(&sq->mu, NULL) != 0) {
		free(sq->path);
		free(sq);
		return SCEP_E_INTERNAL;
	}
	if (pthread_mutex_init(&sq->wmu, NULL) != 0) {
		pthread_mutex_destroy(&sq->mu);
		free(sq->path);
		free(sq);
		return SCEP_E_INTERNAL;
	}
	if (pthread_cond_init(&sq->cv, NULL) != 0) {
		pthread_mutex_destroy(&sq->wmu);
		pthread_mutex_destroy(&sq->mu);
		free(sq->path);
		free(sq);
		return SCEP_E_INTERNAL;
	}
	if (pthread_mutex_init(&sq->qmu, NULL) != 0) {
		pthread_cond_destroy(&sq->cv);
		pthread_mutex_destroy(&sq->wmu);
		pthread_mutex_destroy(&sq->mu);
		free(sq->path);
		free(sq);
		return SCEP_E_INTERNAL;
	}
	if (pthread_cond_init(&sq->qcv, NULL) != 0) {
		pthread_mutex_destroy(&sq->qmu);
		pthread_cond_destroy(&sq->cv);
		pthread_mutex_destroy(&sq->wmu);
		pthread_mutex_destroy(&sq->mu);
		free(sq->path);
		free(sq);
		return SCEP_E_INTERNAL;
	}
	sq->qtail = &sq->qhead;
	inited = 1;

	if ((r = create_file(sq->path)) != SCEP_OK)
		goto out;
	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		goto out;
	r = migrate(sq, c);
	sq_conn_put(sq, c);
	if (r != SCEP_OK)
		goto out;
	*be = sq;
	sq = NULL;
	r = SCEP_OK;
 out:
	if (inited)
		sq_close(sq);	/* NULL on success */
	return r;
}

static int
sq_schema_version(void *be, int64_t *version)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_MIG_MAX, &st)) != SCEP_OK)
		goto out;
	if ((r = sq_step_row(st)) == SCEP_OK)
		*version = sqlite3_column_int64(st, 0);
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

/*
 * Settings.
 */

static int
sq_setting_get(void *be, const char *key, char *val, size_t valsz)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	struct col cl = { NULL, 0, SCEP_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_SET_GET, &st)) != SCEP_OK)
		goto out;
	b.st = cl.st = st;
	sq_b_text(&b, key);
	if ((r = sq_b_end(&b)) != SCEP_OK || (r = sq_step_row(st)) != SCEP_OK)
		goto out;
	sq_c_text(&cl, val, valsz);
	/* Here "does not fit" is the caller's buffer, not a bad row. */
	if ((r = cl.r) == SCEP_E_STORE)
		r = SCEP_E_TOOBIG;
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

static int
sq_setting_set(void *be, const char *key, const char *val)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = stmt(c, ST_SET_PUT, &st)) == SCEP_OK) {
		b.st = st;
		sq_b_text(&b, key);
		sq_b_text(&b, val);
		r = sq_exec_changes(c, st, &b, NULL);
	}
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

/*
 * CAs and RAs.
 */

static int
sq_ca_insert(void *be, struct store_ca *ca)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int64_t id = 0;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = stmt(c, ST_CA_INS, &st)) == SCEP_OK) {
		b.st = st;
		sq_b_text(&b, ca->name);
		sq_b_text(&b, ca->key_path);
		sq_b_blob(&b, ca->cert_der, ca->cert_len);
		sq_b_i64(&b, ca->created_at);
		if ((r = sq_exec_changes(c, st, &b, NULL)) == SCEP_OK) {
			id = sqlite3_last_insert_rowid(c->db);
			r = sq_config_bump(c);
		}
	}
	if ((r = sq_tx_end(sq, c, r)) == SCEP_OK)
		ca->id = id;
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sq_ca_get(void *be, int64_t id, struct store_ca *out)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	struct col cl = { NULL, 0, SCEP_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_CA_GET, &st)) != SCEP_OK)
		goto out;
	b.st = cl.st = st;
	sq_b_i64(&b, id);
	if ((r = sq_b_end(&b)) != SCEP_OK || (r = sq_step_row(st)) != SCEP_OK)
		goto out;
	out->id = sq_c_i64(&cl);
	sq_c_text(&cl, out->name, sizeof(out->name));
	sq_c_text(&cl, out->key_path, sizeof(out->key_path));
	sq_c_blob_dup(&cl, &out->cert_der, &out->cert_len);
	out->created_at = sq_c_i64(&cl);
	r = cl.r;
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

/* One RA row, RA_COLS order. */
int
sq_ra_row(sqlite3_stmt *st, struct store_ra *o)
{
	struct col cl = { st, 0, SCEP_OK };

	o->id = sq_c_i64(&cl);
	o->ca_id = sq_c_i64(&cl);
	o->state = sq_c_int(&cl);
	o->usage = sq_c_int(&cl);
	sq_c_text(&cl, o->key_path, sizeof(o->key_path));
	sq_c_blob_dup(&cl, &o->cert_der, &o->cert_len);
	o->created_at = sq_c_i64(&cl);
	return cl.r;
}

static int
sq_ra_insert(void *be, struct store_ra *ra)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int64_t id = 0;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = stmt(c, ST_RA_INS, &st)) == SCEP_OK) {
		b.st = st;
		sq_b_i64(&b, ra->ca_id);
		sq_b_i64(&b, ra->state);
		sq_b_i64(&b, ra->usage);
		sq_b_text(&b, ra->key_path);
		sq_b_blob(&b, ra->cert_der, ra->cert_len);
		sq_b_i64(&b, ra->created_at);
		if ((r = sq_exec_changes(c, st, &b, NULL)) == SCEP_OK) {
			id = sqlite3_last_insert_rowid(c->db);
			r = sq_config_bump(c);
		}
	}
	if ((r = sq_tx_end(sq, c, r)) == SCEP_OK)
		ra->id = id;
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sq_ra_get(void *be, int64_t id, struct store_ra *out)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_RA_GET, &st)) != SCEP_OK)
		goto out;
	b.st = st;
	sq_b_i64(&b, id);
	if ((r = sq_b_end(&b)) == SCEP_OK && (r = sq_step_row(st)) == SCEP_OK)
		r = sq_ra_row(st, out);
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

static int
sq_ra_list(void *be, int64_t ca_id, int state, struct store_ra *out,
    size_t max, size_t *n)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_RA_LIST, &st)) != SCEP_OK)
		goto out;
	b.st = st;
	sq_b_i64(&b, ca_id);
	sq_b_i64(&b, state);
	sq_b_i64(&b, state);
	sq_b_i64(&b, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	if ((r = sq_b_end(&b)) != SCEP_OK)
		goto out;
	while (*n < max && (r = sq_step_row(st)) == SCEP_OK) {
		/* Count the entry first: on error the caller clears all. */
		if ((r = sq_ra_row(st, &out[(*n)++])) != SCEP_OK)
			goto out;
	}
	if (r == SCEP_E_NOTFOUND || *n == max)
		r = SCEP_OK;
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

static int
sq_ra_set_state(void *be, int64_t id, int state)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int64_t n = 0;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = stmt(c, ST_RA_STATE, &st)) == SCEP_OK) {
		b.st = st;
		sq_b_i64(&b, state);
		sq_b_i64(&b, id);
		if ((r = sq_exec_changes(c, st, &b, &n)) == SCEP_OK)
			r = n == 0 ? SCEP_E_NOTFOUND : sq_config_bump(c);
	}
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

/*
 * Endpoints.
 */

/* The columns that insert and update share, in statement order. */
static void
endpoint_bind(struct bind *b, const struct store_endpoint *ep)
{
	sq_b_text(b, ep->name);
	sq_b_text(b, ep->uri_ext);
	sq_b_i64(b, ep->type);
	sq_b_i64(b, ep->ca_id);
	sq_b_ref(b, ep->ra_id);
	sq_b_i64(b, ep->profile.min_rsa_bits);
	sq_b_i64(b, ep->profile.allow_ec);
	sq_b_i64(b, ep->profile.term_days);
	sq_b_i64(b, ep->profile.server_auth);
	sq_b_i64(b, ep->profile.renewal);
	sq_b_i64(b, ep->profile.renewal_window_days);
	sq_b_i64(b, ep->profile.copy_sans);
	sq_b_i64(b, ep->getcacert_chain);
	sq_b_i64(b, ep->getcert_chain);
	sq_b_i64(b, ep->manual_approval);
	sq_b_i64(b, ep->legacy);
	sq_b_i64(b, ep->enabled);
	sq_b_i64(b, ep->delegation_general);
	sq_b_ref(b, ep->org_id);
	sq_b_ref(b, ep->dept_id);
}

/* One endpoint row, EP_COLS order. */
int
sq_endpoint_row(sqlite3_stmt *st, struct store_endpoint *o)
{
	struct col cl = { st, 0, SCEP_OK };

	o->id = sq_c_i64(&cl);
	sq_c_text(&cl, o->name, sizeof(o->name));
	sq_c_text(&cl, o->uri_ext, sizeof(o->uri_ext));
	o->type = sq_c_int(&cl);
	o->ca_id = sq_c_i64(&cl);
	o->ra_id = sq_c_i64(&cl);
	o->profile.min_rsa_bits = sq_c_int(&cl);
	o->profile.allow_ec = sq_c_int(&cl);
	o->profile.term_days = sq_c_int(&cl);
	o->profile.server_auth = sq_c_int(&cl);
	o->profile.renewal = sq_c_int(&cl);
	o->profile.renewal_window_days = sq_c_int(&cl);
	o->profile.copy_sans = sq_c_int(&cl);
	o->getcacert_chain = sq_c_int(&cl);
	o->getcert_chain = sq_c_int(&cl);
	o->manual_approval = sq_c_int(&cl);
	o->legacy = sq_c_int(&cl);
	o->enabled = sq_c_int(&cl);
	o->delegation_general = sq_c_int(&cl);
	o->org_id = sq_c_i64(&cl);
	o->dept_id = sq_c_i64(&cl);
	o->created_at = sq_c_i64(&cl);
	o->deleted_at = sq_c_i64(&cl);
	return cl.r;
}

/* Insert inside the caller's write transaction; sets ep->id only on
 * success (the caller's transaction may still roll back). */
int
sq_endpoint_insert_in(struct sq_conn *c, struct store_endpoint *ep)
{
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int64_t id = 0;
	int r;

	if ((r = stmt(c, ST_EP_INS, &st)) != SCEP_OK)
		return r;
	b.st = st;
	endpoint_bind(&b, ep);
	sq_b_i64(&b, ep->created_at);
	if ((r = sq_exec_changes(c, st, &b, NULL)) == SCEP_OK) {
		id = sqlite3_last_insert_rowid(c->db);
		r = sq_config_bump(c);
	}
	if (r == SCEP_OK)
		ep->id = id;
	return r;
}

/* Update inside the caller's write transaction. */
int
sq_endpoint_update_in(struct sq_conn *c, const struct store_endpoint *ep)
{
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int64_t n = 0;
	int r;

	if ((r = stmt(c, ST_EP_UPD, &st)) != SCEP_OK)
		return r;
	b.st = st;
	endpoint_bind(&b, ep);
	sq_b_i64(&b, ep->id);
	if ((r = sq_exec_changes(c, st, &b, &n)) == SCEP_OK)
		r = n == 0 ? SCEP_E_NOTFOUND : sq_config_bump(c);
	return r;
}

static int
sq_endpoint_insert(void *be, struct store_endpoint *ep)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	struct store_endpoint row = *ep;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	r = sq_endpoint_insert_in(c, &row);
	if ((r = sq_tx_end(sq, c, r)) == SCEP_OK) {
		ep->id = row.id;
		ep->deleted_at = 0;
	}
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sq_endpoint_update(void *be, const struct store_endpoint *ep)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	r = sq_endpoint_update_in(c, ep);
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

/* Shared by get (by id) and by_ext. */
static int
endpoint_select(struct sq *sq, enum sq_stmt id, int64_t key,
    const char *ext, struct store_endpoint *out)
{
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, id, &st)) != SCEP_OK)
		goto out;
	b.st = st;
	if (ext != NULL)
		sq_b_text(&b, ext);
	else
		sq_b_i64(&b, key);
	if ((r = sq_b_end(&b)) == SCEP_OK && (r = sq_step_row(st)) == SCEP_OK)
		r = sq_endpoint_row(st, out);
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

static int
sq_endpoint_get(void *be, int64_t id, struct store_endpoint *out)
{
	return endpoint_select(be, ST_EP_GET, id, NULL, out);
}

static int
sq_endpoint_by_ext(void *be, const char *uri_ext, struct store_endpoint *out)
{
	return endpoint_select(be, ST_EP_EXT, 0, uri_ext, out);
}

static int
sq_endpoint_delete(void *be, int64_t id, int64_t now)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int64_t n = 0;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = stmt(c, ST_EP_DEL, &st)) == SCEP_OK) {
		b.st = st;
		sq_b_i64(&b, now);
		sq_b_i64(&b, id);
		if ((r = sq_exec_changes(c, st, &b, &n)) == SCEP_OK)
			r = n == 0 ? SCEP_E_NOTFOUND : sq_config_bump(c);
	}
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sq_config_version(void *be, int64_t *version)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_CFG_GET, &st)) != SCEP_OK)
		goto out;
	if ((r = sq_step_row(st)) == SCEP_OK)
		*version = sqlite3_column_int64(st, 0);
	else if (r == SCEP_E_NOTFOUND)
		r = SCEP_E_STORE;	/* 0001_init.sql inserts the row */
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

/*
 * Accounts.
 */

int
sq_account_row(sqlite3_stmt *st, struct store_account *o)
{
	struct col cl = { st, 0, SCEP_OK };

	o->id = sq_c_i64(&cl);
	o->endpoint_id = sq_c_i64(&cl);
	sq_c_text(&cl, o->name, sizeof(o->name));
	o->org_id = sq_c_i64(&cl);
	o->dept_id = sq_c_i64(&cl);
	o->enabled = sq_c_int(&cl);
	o->expires_at = sq_c_i64(&cl);
	o->max_enrollments = sq_c_i64(&cl);
	o->enrollments = sq_c_i64(&cl);
	sq_c_hash(&cl, o->challenge_hash);
	o->created_at = sq_c_i64(&cl);
	return cl.r;
}

/* Insert inside the caller's write transaction; sets a->id only on
 * success. */
int
sq_account_insert_in(struct sq_conn *c, struct store_account *a)
{
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int64_t id = 0;
	int r;

	if ((r = stmt(c, ST_ACC_INS, &st)) != SCEP_OK)
		return r;
	b.st = st;
	sq_b_i64(&b, a->endpoint_id);
	sq_b_text(&b, a->name);
	sq_b_ref(&b, a->org_id);
	sq_b_ref(&b, a->dept_id);
	sq_b_i64(&b, a->enabled);
	sq_b_i64(&b, a->expires_at);
	sq_b_i64(&b, a->max_enrollments);
	sq_b_i64(&b, a->enrollments);
	sq_b_hash_opt(&b, a->challenge_hash);
	sq_b_i64(&b, a->created_at);
	if ((r = sq_exec_changes(c, st, &b, NULL)) == SCEP_OK) {
		id = sqlite3_last_insert_rowid(c->db);
		r = sq_config_bump(c);
	}
	if (r == SCEP_OK)
		a->id = id;
	return r;
}

/* Update inside the caller's write transaction. */
int
sq_account_update_in(struct sq_conn *c, const struct store_account *a)
{
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int64_t n = 0;
	int r;

	if ((r = stmt(c, ST_ACC_UPD, &st)) != SCEP_OK)
		return r;
	b.st = st;
	sq_b_i64(&b, a->endpoint_id);
	sq_b_text(&b, a->name);
	sq_b_ref(&b, a->org_id);
	sq_b_ref(&b, a->dept_id);
	sq_b_i64(&b, a->enabled);
	sq_b_i64(&b, a->expires_at);
	sq_b_i64(&b, a->max_enrollments);
	sq_b_hash_opt(&b, a->challenge_hash);
	sq_b_i64(&b, a->id);
	if ((r = sq_exec_changes(c, st, &b, &n)) == SCEP_OK)
		r = n == 0 ? SCEP_E_NOTFOUND : sq_config_bump(c);
	return r;
}

static int
sq_account_insert(void *be, struct store_account *a)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	struct store_account row = *a;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	r = sq_account_insert_in(c, &row);
	if ((r = sq_tx_end(sq, c, r)) == SCEP_OK)
		a->id = row.id;
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sq_account_update(void *be, const struct store_account *a)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	r = sq_account_update_in(c, a);
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
account_select(struct sq *sq, enum sq_stmt id, int64_t key,
    const uint8_t *hash, struct store_account *out)
{
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, id, &st)) != SCEP_OK)
		goto out;
	b.st = st;
	if (hash != NULL)
		sq_b_blob(&b, hash, STORE_HASH_LEN);
	else
		sq_b_i64(&b, key);
	if ((r = sq_b_end(&b)) == SCEP_OK && (r = sq_step_row(st)) == SCEP_OK)
		r = sq_account_row(st, out);
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

static int
sq_account_get(void *be, int64_t id, struct store_account *out)
{
	return account_select(be, ST_ACC_GET, id, NULL, out);
}

static int
sq_account_by_challenge(void *be, const uint8_t hash[STORE_HASH_LEN],
    struct store_account *out)
{
	return account_select(be, ST_ACC_CH, 0, hash, out);
}

/*
 * Requests.
 */

static int
request_row(sqlite3_stmt *st, struct store_request *o)
{
	struct col cl = { st, 0, SCEP_OK };

	o->id = sq_c_i64(&cl);
	o->endpoint_id = sq_c_i64(&cl);
	o->account_id = sq_c_i64(&cl);
	sq_c_text(&cl, o->transid, sizeof(o->transid));
	sq_c_hash(&cl, o->key_fp);
	o->msgtype = sq_c_int(&cl);
	o->status = sq_c_int(&cl);
	sq_c_text(&cl, o->serial, sizeof(o->serial));
	sq_c_text(&cl, o->reason, sizeof(o->reason));
	sq_c_blob_dup(&cl, &o->csr_der, &o->csr_len);
	sq_c_blob_dup(&cl, &o->signer_der, &o->signer_len);
	o->created_at = sq_c_i64(&cl);
	o->updated_at = sq_c_i64(&cl);
	return cl.r;
}

/*
 * A new request.  SCEP_E_EXISTS when a live (pending or issued) request
 * of the same endpoint, transactionID, key and signer exists already
 * (requests_live, migrations/0005_requests_live.sql: the rule of the
 * PostgreSQL backend), so two copies of one PKCSReq handled at once
 * cannot both be recorded.
 */
static int
request_insert_in(struct sq_conn *c, void *arg)
{
	struct store_request *req = arg;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	uint8_t signer_fp[STORE_HASH_LEN];
	int r;

	if (req->signer_len > 0 && (r = store_sha256(req->signer_der,
	    req->signer_len, signer_fp)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_REQ_INS, &st)) != SCEP_OK)
		return r;
	b.st = st;
	sq_b_i64(&b, req->endpoint_id);
	sq_b_ref(&b, req->account_id);
	sq_b_text(&b, req->transid);
	sq_b_blob(&b, req->key_fp, STORE_HASH_LEN);
	sq_b_i64(&b, req->msgtype);
	sq_b_i64(&b, req->status);
	sq_b_text(&b, req->serial);
	sq_b_text(&b, req->reason);
	b_blob_opt(&b, req->csr_der, req->csr_len);
	b_blob_opt(&b, req->signer_der, req->signer_len);
	sq_b_i64(&b, req->created_at);
	sq_b_i64(&b, req->updated_at);
	b_blob_opt(&b, signer_fp, req->signer_len > 0 ? STORE_HASH_LEN : 0);
	if ((r = sq_exec_changes(c, st, &b, NULL)) == SCEP_OK)
		req->id = sqlite3_last_insert_rowid(c->db);
	return r;
}

static int
sq_request_insert(void *be, struct store_request *req)
{
	int64_t id;
	int r;

	id = req->id;
	if ((r = sq_write(be, request_insert_in, req)) != SCEP_OK)
		req->id = id;	/* rolled back: no id */
	return r;
}

static int
sq_request_get(void *be, int64_t id, struct store_request *out)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_REQ_GET, &st)) != SCEP_OK)
		goto out;
	b.st = st;
	sq_b_i64(&b, id);
	if ((r = sq_b_end(&b)) == SCEP_OK && (r = sq_step_row(st)) == SCEP_OK)
		r = request_row(st, out);
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

static int
sq_request_find(void *be, int64_t endpoint_id, const char *transid,
    struct store_request *out)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_REQ_FIND, &st)) != SCEP_OK)
		goto out;
	b.st = st;
	sq_b_i64(&b, endpoint_id);
	sq_b_text(&b, transid);
	if ((r = sq_b_end(&b)) == SCEP_OK && (r = sq_step_row(st)) == SCEP_OK)
		r = request_row(st, out);
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

/* The guarded status change, inside the caller's write transaction:
 * SCEP_E_NOTFOUND when the row is missing or no longer in "from". */
static int
request_move(struct sq_conn *c, int64_t id, int from, int to,
    const char *serial, const char *reason, int64_t now)
{
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int64_t n = 0;
	int r;

	if ((r = stmt(c, ST_REQ_TRANS, &st)) != SCEP_OK)
		return r;
	b.st = st;
	sq_b_i64(&b, to);
	sq_b_text(&b, serial);
	sq_b_text(&b, reason);
	sq_b_i64(&b, now);
	sq_b_i64(&b, id);
	sq_b_i64(&b, from);
	if ((r = sq_exec_changes(c, st, &b, &n)) != SCEP_OK)
		return r;
	return n == 1 ? SCEP_OK : SCEP_E_NOTFOUND;
}

static int
sq_request_transition(void *be, int64_t id, int from, int to,
    const char *serial, const char *reason, int64_t now)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	r = request_move(c, id, from, to, serial, reason, now);
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sq_request_list_pending(void *be, struct store_request *out, size_t max,
    size_t *n)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_REQ_PEND, &st)) != SCEP_OK)
		goto out;
	b.st = st;
	sq_b_i64(&b, REQ_PENDING);
	sq_b_i64(&b, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	if ((r = sq_b_end(&b)) != SCEP_OK)
		goto out;
	while (*n < max && (r = sq_step_row(st)) == SCEP_OK) {
		if ((r = request_row(st, &out[(*n)++])) != SCEP_OK)
			goto out;
	}
	if (r == SCEP_E_NOTFOUND || *n == max)
		r = SCEP_OK;
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

/*
 * The data migration of store_redact.c: stored CSRs, read in batches and
 * written back.
 */
static int
sq_csr_batch(void *be, int64_t after, struct store_csr_row *out, size_t max,
    size_t *n)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_CSR_BATCH, &st)) != SCEP_OK)
		goto out;
	b.st = st;
	sq_b_i64(&b, after);
	sq_b_i64(&b, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	if ((r = sq_b_end(&b)) != SCEP_OK)
		goto out;
	while (*n < max && (r = sq_step_row(st)) == SCEP_OK) {
		struct col cl = { st, 0, SCEP_OK };
		struct store_csr_row *o = &out[(*n)++];

		o->id = sq_c_i64(&cl);
		sq_c_blob_dup(&cl, &o->der, &o->len);
		if ((r = cl.r) != SCEP_OK)
			goto out;
	}
	if (r == SCEP_E_NOTFOUND || *n == max)
		r = SCEP_OK;
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

/*
 * secure_delete for this transaction: SQLite overwrites the space an old
 * CSR leaves (in its page, or whole overflow pages) with zeros instead of
 * leaving it in the file as free space.  Only here: the other writes
 * remove nothing secret.
 */
static int
sq_csr_rewrite(void *be, const struct store_csr_row *rows, size_t n)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	size_t i;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = conn_pragma(c->db, "PRAGMA secure_delete = ON", NULL)) !=
	    SCEP_OK)
		goto out;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto undo;
	for (i = 0; i < n && r == SCEP_OK; i++) {
		if ((r = stmt(c, ST_CSR_PUT, &st)) != SCEP_OK)
			break;
		b.st = st;
		b.i = 0;
		b.rc = SQLITE_OK;
		sq_b_blob(&b, rows[i].der, rows[i].len);
		sq_b_i64(&b, rows[i].id);
		r = sq_exec_changes(c, st, &b, NULL);
	}
	r = sq_tx_end(sq, c, r);
 undo:
	if (conn_pragma(c->db, "PRAGMA secure_delete = OFF", NULL) != SCEP_OK
	    && r == SCEP_OK)
		r = SCEP_E_STORE;
 out:
	sq_conn_put(sq, c);
	return r;
}

/* Copy the rewritten pages into the database file and truncate the WAL,
 * whose older frames still hold the CSRs as they were. */
static int
sq_csr_scrub(void *be)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	int rc, r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	rc = sqlite3_wal_checkpoint_v2(c->db, NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sq_conn_put(sq, c);
	return rc == SQLITE_OK ? SCEP_OK : sq_err(rc);
}

/*
 * Certificates.
 */

/*
 * One transaction: move the request from "from_status" to REQ_ISSUED,
 * count the enrollment against the account's limit, insert the
 * certificate.  Any failure rolls all three back.  The COMMIT returns
 * only once the WAL is synced (synchronous=FULL), so the caller may then
 * send the certificate.
 */
struct cert_issue_args {
	const struct store_cert	*crt;
	int64_t			 request_id;
	int			 from_status;
	int64_t			 now;
};

/* The statements of store_tx_ops (store_int.h) on this backend; the
 * order and the errors are store_issue_in's (store.c). */
static int
tx_request_insert(void *c, struct store_request *rq)
{
	return request_insert_in(c, rq);
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
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = stmt(c, ST_ACC_ENROLL, &st)) != SCEP_OK)
		return r;
	b.st = st;
	sq_b_i64(&b, id);
	return sq_exec_changes(c, st, &b, changed);
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
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = stmt(c, ST_CERT_INS, &st)) != SCEP_OK)
		return r;
	b.st = st;
	sq_b_text(&b, crt->serial);
	sq_b_i64(&b, crt->ca_id);
	sq_b_ref(&b, crt->endpoint_id);
	sq_b_ref(&b, crt->account_id);
	sq_b_ref(&b, request_id);
	sq_b_ref(&b, crt->org_id);
	sq_b_ref(&b, crt->dept_id);
	sq_b_text(&b, crt->subject);
	sq_b_blob(&b, crt->key_fp, STORE_HASH_LEN);
	sq_b_i64(&b, crt->not_before);
	sq_b_i64(&b, crt->not_after);
	sq_b_i64(&b, crt->status);
	sq_b_i64(&b, crt->revoked_at);
	sq_b_i64(&b, crt->revoke_reason);
	sq_b_blob(&b, crt->der, crt->der_len);
	sq_b_i64(&b, now);
	return sq_exec_changes(c, st, &b, NULL);
}

static int	event_append_in(struct sq_conn *, void *);

static int
tx_event_append(void *c, struct store_event *row)
{
	return event_append_in(c, row);
}

static const struct store_tx_ops sq_tx = {
	.request_insert = tx_request_insert,
	.request_move = tx_request_move,
	.request_has = tx_request_has,
	.account_enroll = tx_account_enroll,
	.account_has = tx_account_has,
	.cert_insert = tx_cert_insert,
	.event_append = tx_event_append,
};

static int
cert_issue_in(struct sq_conn *c, void *arg)
{
	const struct cert_issue_args *a = arg;

	return store_issue_in(&sq_tx, c, a->crt, a->request_id,
	    a->from_status, a->now);
}

static int
sq_cert_issue(void *be, const struct store_cert *crt, int64_t request_id,
    int from_status, int64_t now)
{
	struct cert_issue_args a = { crt, request_id, from_status, now };

	return sq_write(be, cert_issue_in, &a);
}

/* One certificate row, CERT_COLS order. */
int
sq_cert_row(sqlite3_stmt *st, struct store_cert *out)
{
	struct col cl = { st, 0, SCEP_OK };

	sq_c_text(&cl, out->serial, sizeof(out->serial));
	out->ca_id = sq_c_i64(&cl);
	out->endpoint_id = sq_c_i64(&cl);
	out->account_id = sq_c_i64(&cl);
	out->request_id = sq_c_i64(&cl);
	out->org_id = sq_c_i64(&cl);
	out->dept_id = sq_c_i64(&cl);
	sq_c_text(&cl, out->subject, sizeof(out->subject));
	sq_c_hash(&cl, out->key_fp);
	out->not_before = sq_c_i64(&cl);
	out->not_after = sq_c_i64(&cl);
	out->status = sq_c_int(&cl);
	out->revoked_at = sq_c_i64(&cl);
	out->revoke_reason = sq_c_int(&cl);
	sq_c_blob_dup(&cl, &out->der, &out->der_len);
	out->created_at = sq_c_i64(&cl);
	return cl.r;
}

static int
sq_cert_get(void *be, const char *serial, struct store_cert *out)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_CERT_GET, &st)) != SCEP_OK)
		goto out;
	b.st = st;
	sq_b_text(&b, serial);
	if ((r = sq_b_end(&b)) != SCEP_OK || (r = sq_step_row(st)) != SCEP_OK)
		goto out;
	r = sq_cert_row(st, out);
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

static int
sq_cert_revoke(void *be, const char *serial, int reason, int64_t now)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int64_t n = 0;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = stmt(c, ST_CERT_REV, &st)) == SCEP_OK) {
		b.st = st;
		sq_b_i64(&b, CERT_REVOKED);
		sq_b_i64(&b, now);
		sq_b_i64(&b, reason);
		sq_b_text(&b, serial);
		sq_b_i64(&b, CERT_VALID);
		if ((r = sq_exec_changes(c, st, &b, &n)) == SCEP_OK && n == 0) {
			r = exists_text(c, ST_CERT_HAS, serial);
			if (r == SCEP_OK)
				r = SCEP_E_EXISTS;	/* already revoked */
		}
	}
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sq_cert_revoked_each(void *be, int64_t ca_id,
    int (*fn)(void *, const char *, int64_t, int), void *arg)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	char serial[STORE_SERIAL_MAX];
	int64_t at;
	int reason, r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_CERT_REVD, &st)) != SCEP_OK)
		goto out;
	b.st = st;
	sq_b_i64(&b, ca_id);
	sq_b_i64(&b, CERT_REVOKED);
	if ((r = sq_b_end(&b)) != SCEP_OK)
		goto out;
	while ((r = sq_step_row(st)) == SCEP_OK) {
		struct col cl = { st, 0, SCEP_OK };

		sq_c_text(&cl, serial, sizeof(serial));
		at = sq_c_i64(&cl);
		reason = sq_c_int(&cl);
		if ((r = cl.r) != SCEP_OK)
			goto out;
		if ((r = fn(arg, serial, at, reason)) != 0)
			goto out;
	}
	if (r == SCEP_E_NOTFOUND)
		r = SCEP_OK;
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

/*
 * Events: the audit chain (store_event_digest() in store.c).
 */

int
sq_event_row(sqlite3_stmt *st, struct store_event *o)
{
	struct col cl = { st, 0, SCEP_OK };

	o->id = sq_c_i64(&cl);
	o->ts = sq_c_i64(&cl);
	sq_c_text(&cl, o->kind, sizeof(o->kind));
	sq_c_text(&cl, o->actor, sizeof(o->actor));
	sq_c_text(&cl, o->action, sizeof(o->action));
	o->endpoint_id = sq_c_i64(&cl);
	o->account_id = sq_c_i64(&cl);
	sq_c_text(&cl, o->transid, sizeof(o->transid));
	sq_c_text(&cl, o->client_addr, sizeof(o->client_addr));
	sq_c_text(&cl, o->result, sizeof(o->result));
	o->failinfo = sq_c_int(&cl);
	sq_c_text(&cl, o->reason, sizeof(o->reason));
	sq_c_text(&cl, o->serial, sizeof(o->serial));
	sq_c_text(&cl, o->details, sizeof(o->details));
	sq_c_hash(&cl, o->prev_hash);
	sq_c_hash(&cl, o->hash);
	return cl.r;
}

/*
 * The new row's id is the last id + 1 and its prev_hash the last row's
 * hash, both read inside the write transaction, so concurrent appends
 * line up in one chain.  The id is assigned here rather than by SQLite
 * because it is part of the hashed row.
 */
/* Append "row" (filled in with id and hashes) to the chain, inside the
 * caller's write transaction. */
static int
event_append_in(struct sq_conn *c, void *arg)
{
	static const uint8_t zero[STORE_HASH_LEN];
	struct store_event *row = arg;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = stmt(c, ST_EV_LAST, &st)) != SCEP_OK)
		return r;
	if ((r = sq_step_row(st)) == SCEP_OK) {
		struct col cl = { st, 0, SCEP_OK };

		row->id = sq_c_i64(&cl) + 1;
		sq_c_hash(&cl, row->prev_hash);
		r = cl.r;
	} else if (r == SCEP_E_NOTFOUND) {
		row->id = 1;
		memcpy(row->prev_hash, zero, sizeof(zero));
		r = SCEP_OK;
	}
	stmt_done(st);
	if (r != SCEP_OK)
		return r;
	if ((r = store_event_digest(row->prev_hash, row, row->hash)) !=
	    SCEP_OK)
		return r;

	if ((r = stmt(c, ST_EV_INS, &st)) != SCEP_OK)
		return r;
	b.st = st;
	sq_b_i64(&b, row->id);
	sq_b_i64(&b, row->ts);
	sq_b_text(&b, row->kind);
	sq_b_text(&b, row->actor);
	sq_b_text(&b, row->action);
	sq_b_i64(&b, row->endpoint_id);
	sq_b_i64(&b, row->account_id);
	sq_b_text(&b, row->transid);
	sq_b_text(&b, row->client_addr);
	sq_b_text(&b, row->result);
	sq_b_i64(&b, row->failinfo);
	sq_b_text(&b, row->reason);
	sq_b_text(&b, row->serial);
	sq_b_text(&b, row->details);
	sq_b_blob(&b, row->prev_hash, STORE_HASH_LEN);
	sq_b_blob(&b, row->hash, STORE_HASH_LEN);
	return sq_exec_changes(c, st, &b, NULL);
}

/* "row" is store.c's private copy (event_copy there). */
static int
sq_event_append(void *be, struct store_event *row)
{
	return sq_write(be, event_append_in, row);
}

struct enroll_args {
	struct store_request	*rq;
	const struct store_cert	*crt;		/* may be NULL */
	struct store_event	*row;		/* may be NULL */
};

static int
enroll_in(struct sq_conn *c, void *arg)
{
	struct enroll_args *a = arg;

	return store_enroll_in(&sq_tx, c, a->rq, a->crt, a->row);
}

/* store.c restores rq->id and copies the event back (event_copy). */
static int
sq_enroll_commit(void *be, struct store_request *rq,
    const struct store_cert *crt, struct store_event *row)
{
	struct enroll_args a = { rq, crt, row };

	return sq_write(be, enroll_in, &a);
}

static int
sq_event_list(void *be, int64_t after, struct store_event *out, size_t max,
    size_t *n)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_EV_LIST, &st)) != SCEP_OK)
		goto out;
	b.st = st;
	sq_b_i64(&b, after);
	sq_b_i64(&b, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	if ((r = sq_b_end(&b)) != SCEP_OK)
		goto out;
	while (*n < max && (r = sq_step_row(st)) == SCEP_OK) {
		if ((r = sq_event_row(st, &out[(*n)++])) != SCEP_OK)
			goto out;
	}
	if (r == SCEP_E_NOTFOUND || *n == max)
		r = SCEP_OK;
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

/*
 * Walk the chain oldest first inside one read transaction (a consistent
 * snapshot while appends go on).  A row is bad when its prev_hash is not
 * the previous row's hash, when its stored hash is not the digest of its
 * content, or when a field cannot even be read back (wrong type, hash of
 * the wrong length): each is tampering, reported as SCEP_E_MALFORMED.
 */
static int
sq_event_verify(void *be, int64_t *bad_id)
{
	static const uint8_t zero[STORE_HASH_LEN];
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct store_event *row = NULL;
	uint8_t prev[STORE_HASH_LEN], want[STORE_HASH_LEN];
	int r;

	/* struct store_event is ~2.7 KiB: keep it off thread stacks. */
	if ((row = calloc(1, sizeof(*row))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		goto done;
	if ((r = run(c, ST_BEGIN_R)) != SCEP_OK)
		goto out;
	if ((r = stmt(c, ST_EV_ALL, &st)) != SCEP_OK)
		goto end;
	memcpy(prev, zero, sizeof(prev));
	while ((r = sq_step_row(st)) == SCEP_OK) {
		memset(row, 0, sizeof(*row));
		r = sq_event_row(st, row);
		if (r == SCEP_E_NOMEM)
			goto end;
		if (r != SCEP_OK || memcmp(row->prev_hash, prev,
		    sizeof(prev)) != 0) {
			r = SCEP_E_MALFORMED;
			*bad_id = sqlite3_column_int64(st, 0);
			goto end;
		}
		if ((r = store_event_digest(prev, row, want)) != SCEP_OK)
			goto end;
		if (memcmp(want, row->hash, sizeof(want)) != 0) {
			r = SCEP_E_MALFORMED;
			*bad_id = row->id;
			goto end;
		}
		memcpy(prev, row->hash, sizeof(prev));
	}
	if (r == SCEP_E_NOTFOUND)
		r = SCEP_OK;
 end:
	stmt_done(st);
	(void)run(c, ST_COMMIT);	/* ends the read snapshot */
 out:
	sq_conn_put(sq, c);
 done:
	free(row);
	return r;
}

/*
 * Tokens.
 */

static int
sq_token_insert(void *be, const char *name,
    const uint8_t hash[STORE_HASH_LEN], int64_t now)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = stmt(c, ST_TOK_INS, &st)) == SCEP_OK) {
		b.st = st;
		sq_b_text(&b, name);
		sq_b_blob(&b, hash, STORE_HASH_LEN);
		sq_b_i64(&b, now);
		r = sq_exec_changes(c, st, &b, NULL);
	}
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sq_token_check(void *be, const uint8_t hash[STORE_HASH_LEN], char *name,
    size_t namesz)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	struct col cl = { NULL, 0, SCEP_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = stmt(c, ST_TOK_CHK, &st)) != SCEP_OK)
		goto out;
	b.st = cl.st = st;
	sq_b_blob(&b, hash, STORE_HASH_LEN);
	if ((r = sq_b_end(&b)) != SCEP_OK || (r = sq_step_row(st)) != SCEP_OK)
		goto out;
	sq_c_text(&cl, name, namesz);
	if ((r = cl.r) == SCEP_E_STORE)
		r = SCEP_E_TOOBIG;	/* the caller's buffer */
 out:
	stmt_done(st);
	sq_conn_put(sq, c);
	return r;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.schema_version = sq_schema_version,
	.setting_get = sq_setting_get,
	.setting_set = sq_setting_set,
	.ca_insert = sq_ca_insert,
	.ca_get = sq_ca_get,
	.ra_insert = sq_ra_insert,
	.ra_get = sq_ra_get,
	.ra_list = sq_ra_list,
	.ra_set_state = sq_ra_set_state,
	.endpoint_insert = sq_endpoint_insert,
	.endpoint_update = sq_endpoint_update,
	.endpoint_get = sq_endpoint_get,
	.endpoint_by_ext = sq_endpoint_by_ext,
	.endpoint_delete = sq_endpoint_delete,
	.config_version = sq_config_version,
	.account_insert = sq_account_insert,
	.account_update = sq_account_update,
	.account_get = sq_account_get,
	.account_by_challenge = sq_account_by_challenge,
	.request_insert = sq_request_insert,
	.request_get = sq_request_get,
	.request_find = sq_request_find,
	.request_transition = sq_request_transition,
	.request_list_pending = sq_request_list_pending,
	.cert_issue = sq_cert_issue,
	.enroll_commit = sq_enroll_commit,
	.cert_get = sq_cert_get,
	.cert_revoke = sq_cert_revoke,
	.cert_revoked_each = sq_cert_revoked_each,
	.event_append = sq_event_append,
	.event_list = sq_event_list,
	.event_verify = sq_event_verify,
	.csr_batch = sq_csr_batch,
	.csr_rewrite = sq_csr_rewrite,
	.csr_scrub = sq_csr_scrub,
	.token_insert = sq_token_insert,
	.token_check = sq_token_check,
};
