/*
 * store_pg_admin.c -- the PostgreSQL backend of the administration
 * functions of store.h (organizations, departments, administrators,
 * tokens, sessions, login throttling, endpoint and account listing and
 * their companion rows, one-time challenges, the RA switch, and the
 * certificate and audit searches): the twin of store_sqlite_admin.c.
 *
 * Same rules as store_pg.c (see there and store_pg_int.h): constant SQL
 * only, prepared once per connection and cached (slots PG_SLOT_ADMIN
 * and up), one transaction per function that writes, the store's error
 * vocabulary.  Console sessions live here, in the shared database, so
 * that a console session opened on one node is valid on every node.
 *
 * Optional filters are written "($n = 0 OR col = $n)" so that one
 * constant statement serves every combination of filters; parameters are
 * cast explicitly where PostgreSQL could not infer a type that holds
 * every value (ids are BIGINT).
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "scep_err.h"
#include "store.h"
#include "store_int.h"
#include "store_pg_int.h"

#define ADMIN_COLS	"id, name, role, cert_types, password_hash, " \
			"disabled, created_at"
#define TOK_COLS	"id, admin_id, name, created_at, expires_at, " \
			"revoked_at, last_used_at"
#define SESS_COLS	"id, admin_id, sid_hash, csrf_hash, client_addr, " \
			"created_at, expires_at"
#define OTC_COLS	"id, account_id, created_at, expires_at, used_at"

/* Failures older than this are pruned when a new one is recorded (as in
 * store_sqlite_admin.c). */
#define LOGIN_KEEP	(24 * 3600)

enum pga_stmt_id {
	AS_ORG_INS = PG_SLOT_ADMIN, AS_ORG_UPD, AS_ORG_GET, AS_ORG_LIST,
	AS_ORG_INUSE, AS_ORG_DEL,
	AS_DEPT_INS, AS_DEPT_UPD, AS_DEPT_GET, AS_DEPT_LIST, AS_DEPT_INUSE,
	AS_DEPT_DEL,
	AS_ADM_INS, AS_ADM_UPD, AS_ADM_GET, AS_ADM_NAME, AS_ADM_LIST,
	AS_ADM_DEL, AS_SCOPE_DEL, AS_SCOPE_INS, AS_SCOPE_GET,
	AS_TOK_ADD, AS_TOK_HASH, AS_TOK_GET, AS_TOK_LIST, AS_TOK_REV,
	AS_TOK_TOUCH,
	AS_SESS_INS, AS_SESS_GET, AS_SESS_DEL, AS_SESS_DEL_ADM, AS_SESS_EXP,
	AS_LOGIN_INS, AS_LOGIN_PRUNE, AS_LOGIN_COUNT, AS_LOGIN_CLEAR,
	AS_EP_LIST, AS_TGT_DEL, AS_TGT_INS, AS_TGT_LIST,
	AS_ACC_LIST, AS_RULES_PUT, AS_RULES_GET,
	AS_OTC_INS, AS_OTC_LIST, AS_OTC_FIND, AS_OTC_USE,
	AS_CA_LIST, AS_RA_NEXT, AS_RA_OLD, AS_RA_EPS,
	AS_CERT_SEARCH, AS_EV_SEARCH, AS_EV_COUNT,
	AS__END
};

#define NSTMT	(AS__END - PG_SLOT_ADMIN)
_Static_assert(AS__END <= PG_SLOT_COPY, "statement slots overlap");

static const char *const stmt_sql[NSTMT] = {
#define X(id)	[(id) - PG_SLOT_ADMIN]
	X(AS_ORG_INS) = "INSERT INTO organizations (name, created_at) "
	    "VALUES ($1, $2) RETURNING id",
	X(AS_ORG_UPD) = "UPDATE organizations SET name = $1 WHERE id = $2",
	X(AS_ORG_GET) = "SELECT id, name, created_at FROM organizations "
	    "WHERE id = $1",
	X(AS_ORG_LIST) = "SELECT id, name, created_at FROM organizations "
	    "ORDER BY name, id LIMIT $1",
	X(AS_ORG_INUSE) = "SELECT 1 FROM departments WHERE org_id = $1 "
	    "UNION ALL SELECT 1 FROM accounts WHERE org_id = $1 "
	    "UNION ALL SELECT 1 FROM admin_scopes WHERE org_id = $1 "
	    "UNION ALL SELECT 1 FROM endpoint_delegations WHERE org_id = $1 "
	    "UNION ALL SELECT 1 FROM endpoints WHERE org_id = $1 "
	    "AND deleted_at = 0 LIMIT 1",
	X(AS_ORG_DEL) = "DELETE FROM organizations WHERE id = $1",

	X(AS_DEPT_INS) = "INSERT INTO departments (org_id, name, created_at) "
	    "VALUES ($1, $2, $3) RETURNING id",
	X(AS_DEPT_UPD) = "UPDATE departments SET name = $1 "
	    "WHERE id = $2 AND org_id = $3",
	X(AS_DEPT_GET) = "SELECT id, org_id, name, created_at "
	    "FROM departments WHERE id = $1",
	X(AS_DEPT_LIST) = "SELECT id, org_id, name, created_at "
	    "FROM departments WHERE ($1::bigint = 0 OR org_id = $1::bigint) "
	    "ORDER BY org_id, name, id LIMIT $2",
	X(AS_DEPT_INUSE) = "SELECT 1 FROM accounts WHERE dept_id = $1 "
	    "UNION ALL SELECT 1 FROM admin_scopes WHERE dept_id = $1 "
	    "UNION ALL SELECT 1 FROM endpoint_delegations WHERE dept_id = $1 "
	    "UNION ALL SELECT 1 FROM endpoints WHERE dept_id = $1 "
	    "AND deleted_at = 0 LIMIT 1",
	X(AS_DEPT_DEL) = "DELETE FROM departments WHERE id = $1",

	X(AS_ADM_INS) = "INSERT INTO administrators (name, role, "
	    "password_hash, created_at, disabled, cert_types) "
	    "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
	X(AS_ADM_UPD) = "UPDATE administrators SET name = $1, role = $2, "
	    "password_hash = $3, disabled = $4, cert_types = $5 WHERE id = $6",
	X(AS_ADM_GET) = "SELECT " ADMIN_COLS " FROM administrators "
	    "WHERE id = $1",
	X(AS_ADM_NAME) = "SELECT " ADMIN_COLS " FROM administrators "
	    "WHERE name = $1",
	X(AS_ADM_LIST) = "SELECT " ADMIN_COLS " FROM administrators "
	    "ORDER BY id LIMIT $1",
	/* Scopes, tokens and sessions go with it (ON DELETE CASCADE). */
	X(AS_ADM_DEL) = "DELETE FROM administrators WHERE id = $1",
	X(AS_SCOPE_DEL) = "DELETE FROM admin_scopes WHERE admin_id = $1",
	X(AS_SCOPE_INS) = "INSERT INTO admin_scopes (admin_id, org_id, "
	    "dept_id) VALUES ($1, $2, $3)",
	X(AS_SCOPE_GET) = "SELECT org_id, dept_id FROM admin_scopes "
	    "WHERE admin_id = $1 ORDER BY id",

	X(AS_TOK_ADD) = "INSERT INTO api_tokens (name, token_hash, "
	    "created_at, admin_id, expires_at) VALUES ($1, $2, $3, $4, $5) "
	    "RETURNING id",
	X(AS_TOK_HASH) = "SELECT " TOK_COLS " FROM api_tokens "
	    "WHERE token_hash = $1",
	X(AS_TOK_GET) = "SELECT " TOK_COLS " FROM api_tokens WHERE id = $1",
	X(AS_TOK_LIST) = "SELECT " TOK_COLS " FROM api_tokens "
	    "WHERE admin_id = $1 ORDER BY id LIMIT $2",
	X(AS_TOK_REV) = "UPDATE api_tokens SET revoked_at = $1 "
	    "WHERE id = $2 AND revoked_at = 0",
	X(AS_TOK_TOUCH) = "UPDATE api_tokens SET last_used_at = $1 "
	    "WHERE id = $2",

	X(AS_SESS_INS) = "INSERT INTO admin_sessions (admin_id, sid_hash, "
	    "csrf_hash, client_addr, created_at, expires_at) "
	    "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
	X(AS_SESS_GET) = "SELECT " SESS_COLS " FROM admin_sessions "
	    "WHERE sid_hash = $1",
	X(AS_SESS_DEL) = "DELETE FROM admin_sessions WHERE sid_hash = $1",
	X(AS_SESS_DEL_ADM) = "DELETE FROM admin_sessions WHERE admin_id = $1",
	X(AS_SESS_EXP) = "DELETE FROM admin_sessions WHERE expires_at <= $1",

	X(AS_LOGIN_INS) = "INSERT INTO login_failures (key, ts) "
	    "VALUES ($1, $2)",
	X(AS_LOGIN_PRUNE) = "DELETE FROM login_failures WHERE ts < $1",
	X(AS_LOGIN_COUNT) = "SELECT COUNT(*) FROM login_failures "
	    "WHERE key = $1 AND ts >= $2",
	X(AS_LOGIN_CLEAR) = "DELETE FROM login_failures WHERE key = $1",

	X(AS_EP_LIST) = "SELECT " PG_EP_COLS " FROM endpoints "
	    "WHERE ($1::integer = 0 AND deleted_at = 0) OR "
	    "($1::integer = 1 AND deleted_at <> 0) ORDER BY id LIMIT $2",
	X(AS_TGT_DEL) = "DELETE FROM endpoint_delegations "
	    "WHERE endpoint_id = $1",
	X(AS_TGT_INS) = "INSERT INTO endpoint_delegations (endpoint_id, "
	    "org_id, dept_id) VALUES ($1, $2, $3)",
	X(AS_TGT_LIST) = "SELECT org_id, dept_id FROM endpoint_delegations "
	    "WHERE endpoint_id = $1 ORDER BY id LIMIT $2",

	X(AS_ACC_LIST) = "SELECT " PG_ACC_COLS " FROM accounts "
	    "WHERE ($1::bigint = 0 OR endpoint_id = $1::bigint) "
	    "ORDER BY id LIMIT $2",
	X(AS_RULES_PUT) = "INSERT INTO account_rules (account_id, cn_pattern, "
	    "san_pattern) VALUES ($1, $2, $3) ON CONFLICT (account_id) DO "
	    "UPDATE SET cn_pattern = excluded.cn_pattern, "
	    "san_pattern = excluded.san_pattern",
	X(AS_RULES_GET) = "SELECT cn_pattern, san_pattern FROM account_rules "
	    "WHERE account_id = $1",

	X(AS_OTC_INS) = "INSERT INTO one_time_challenges (account_id, "
	    "challenge_hash, created_at, expires_at) VALUES ($1, $2, $3, $4) "
	    "RETURNING id",
	X(AS_OTC_LIST) = "SELECT " OTC_COLS " FROM one_time_challenges "
	    "WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
	X(AS_OTC_FIND) = "SELECT " OTC_COLS " FROM one_time_challenges "
	    "WHERE challenge_hash = $1 AND used_at = 0 AND expires_at > $2",
	/* Check and mark in one statement: of two nodes consuming the same
	 * challenge at once, the second waits for the first's row lock,
	 * re-evaluates "used_at = 0" on the new row version and changes
	 * nothing. */
	X(AS_OTC_USE) = "UPDATE one_time_challenges SET used_at = $1 "
	    "WHERE id = $2 AND used_at = 0 AND expires_at > $1 RETURNING id",

	X(AS_CA_LIST) = "SELECT " PG_CA_COLS " FROM cas ORDER BY id LIMIT $1",
	/* The successor must be staged and belong to the same CA. */
	X(AS_RA_NEXT) = "UPDATE ras SET state = 1 WHERE id = $1 AND "
	    "state = 2 AND ca_id = (SELECT ca_id FROM ras WHERE id = $2)",
	X(AS_RA_OLD) = "UPDATE ras SET state = 3 WHERE id = $1 AND state = 1",
	X(AS_RA_EPS) = "UPDATE endpoints SET ra_id = $1 WHERE ra_id = $2",

	/* The row id comes last, after PG_CERT_COLS (read by the row
	 * reader in order). */
	X(AS_CERT_SEARCH) = "SELECT " PG_CERT_COLS ", id FROM certs "
	    "WHERE id > $1::bigint "
	    "AND ($2::bigint = 0 OR endpoint_id = $2::bigint) "
	    "AND ($3::bigint = 0 OR account_id = $3::bigint) "
	    "AND ($4::bigint = 0 OR org_id = $4::bigint) "
	    "AND ($5::bigint = 0 OR dept_id = $5::bigint) "
	    "AND ($6::text = '' OR strpos(subject, $6::text) > 0) "
	    "AND ($7::text = '' OR serial = $7::text) "
	    "AND ($8::integer = 0 OR status = $8::integer) "
	    "AND ($9::bigint = 0 OR not_after >= $9::bigint) "
	    "AND ($10::bigint = 0 OR not_after < $10::bigint) "
	    "ORDER BY id LIMIT $11",
	/* action: exact, or a prefix when the filter ends with '.'. */
	X(AS_EV_SEARCH) = "SELECT " PG_EV_COLS " FROM events "
	    "WHERE id > $1::bigint "
	    "AND ($2::bigint = 0 OR ts >= $2::bigint) "
	    "AND ($3::bigint = 0 OR ts < $3::bigint) "
	    "AND ($4::bigint = 0 OR endpoint_id = $4::bigint) "
	    "AND ($5::bigint = 0 OR account_id = $5::bigint) "
	    "AND ($6::text = '' OR kind = $6::text) "
	    "AND ($7::text = '' OR actor = $7::text) "
	    "AND ($8::text = '' OR action = $8::text OR "
	    "(right($8::text, 1) = '.' AND "
	    "left(action, length($8::text)) = $8::text)) "
	    "AND ($9::text = '' OR result = $9::text) ORDER BY id LIMIT $10",
	X(AS_EV_COUNT) = "SELECT COUNT(*) FROM events",
#undef X
};

/* The statement "id" of this file as a struct pg_stmt. */
#define A(id)	\
	(&(const struct pg_stmt){ (id), stmt_sql[(id) - PG_SLOT_ADMIN] })

/* ---- small helpers ---- */

static int64_t
lim(size_t max)
{
	return max > INT64_MAX ? INT64_MAX : (int64_t)max;
}

typedef int	(*row_fn)(const PGresult *, int row, void *out);

/*
 * One write statement in a transaction of its own.  *changes (rows
 * changed) and *id (for an INSERT ... RETURNING id) may be NULL.  "bump":
 * also move the configuration version.
 */
static int
write_one(void *be, const struct pg_stmt *st, const struct pg_params *p,
    int bump, int64_t *changes, int64_t *id)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	PGresult *res = NULL;
	struct pg_col cl;
	int64_t v = 0;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	/* Without the config bump it is one statement: autocommit (one
	 * transaction, without the BEGIN and COMMIT round trips). */
	if (bump && (r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	if (id != NULL) {
		/* Not pg_exec_row: SCEP_E_NOTFOUND from pg_exec is a
		 * foreign key; RETURNING always gives the row. */
		if ((r = pg_exec(c, st, p, &res)) == SCEP_OK) {
			if (PQntuples(res) != 1)
				r = SCEP_E_STORE;
			else {
				pg_col_init(&cl, res, 0);
				v = c_i64(&cl);
				r = cl.r;
			}
		}
		PQclear(res);
	} else
		r = pg_exec_cmd(c, st, p, changes);
	if (bump) {
		if (r == SCEP_OK)
			r = pg_config_bump(c);
		r = pg_tx_end(c, r);
	}
	if (r == SCEP_OK && id != NULL)
		*id = v;
 out:
	pg_conn_put(pg, c);
	return r;
}

/* write_one where "no row changed" is SCEP_E_NOTFOUND. */
static int
write_must(void *be, const struct pg_stmt *st, const struct pg_params *p)
{
	int64_t n = 0;
	int r;

	if ((r = write_one(be, st, p, 0, &n, NULL)) != SCEP_OK)
		return r;
	return n >= 1 ? SCEP_OK : SCEP_E_NOTFOUND;
}

/*
 * Run a read statement.  With n == NULL: exactly one row into out
 * (SCEP_E_NOTFOUND when there is none).  Otherwise up to max rows into
 * the array out (elements of elemsz bytes), *n set to the count; each
 * entry is counted before it is read, so that on error the caller clears
 * every one of the *n.
 */
static int
read_rows(void *be, const struct pg_stmt *st, const struct pg_params *p,
    row_fn fn, void *out, size_t elemsz, size_t max, size_t *n)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	PGresult *res = NULL;
	int i, rows, r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_exec(c, st, p, &res)) != SCEP_OK)
		goto out;
	rows = PQntuples(res);
	if (n == NULL) {
		r = rows == 0 ? SCEP_E_NOTFOUND : fn(res, 0, out);
		goto out;
	}
	for (i = 0; i < rows && *n < max; i++) {
		void *o = (char *)out + *n * elemsz;

		(*n)++;
		if ((r = fn(res, i, o)) != SCEP_OK)
			goto out;
	}
 out:
	PQclear(res);
	pg_conn_put(pg, c);
	return r;
}

/* A single integer (COUNT). */
static int
read_i64(void *be, const struct pg_stmt *st, const struct pg_params *p,
    int64_t *v)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	PGresult *res = NULL;
	struct pg_col cl;
	int r;

	*v = 0;
	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_exec_row(c, st, p, &res)) == SCEP_OK) {
		pg_col_init(&cl, res, 0);
		*v = c_i64(&cl);
		r = cl.r;
	}
	PQclear(res);
	pg_conn_put(pg, c);
	return r;
}

/* Parameters of one integer. */
static struct pg_params *
p1(struct pg_params *p, int64_t v)
{
	pg_params_init(p);
	p_i64(p, v);
	return p;
}

/* ---- organizations and departments ---- */

static int
org_row(const PGresult *res, int row, void *out)
{
	struct store_org *o = out;
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	o->id = c_i64(&cl);
	c_text(&cl, o->name, sizeof(o->name));
	o->created_at = c_i64(&cl);
	return cl.r;
}

static int
pga_org_insert(void *be, struct store_org *o)
{
	struct pg_params p;

	pg_params_init(&p);
	p_text(&p, o->name);
	p_i64(&p, o->created_at);
	return write_one(be, A(AS_ORG_INS), &p, 0, NULL, &o->id);
}

static int
pga_org_update(void *be, const struct store_org *o)
{
	struct pg_params p;

	pg_params_init(&p);
	p_text(&p, o->name);
	p_i64(&p, o->id);
	return write_must(be, A(AS_ORG_UPD), &p);
}

static int
pga_org_get(void *be, int64_t id, struct store_org *out)
{
	struct pg_params p;

	return read_rows(be, A(AS_ORG_GET), p1(&p, id), org_row, out, 0, 0,
	    NULL);
}

static int
pga_org_list(void *be, struct store_org *out, size_t max, size_t *n)
{
	struct pg_params p;

	return read_rows(be, A(AS_ORG_LIST), p1(&p, lim(max)), org_row, out,
	    sizeof(*out), max, n);
}

/*
 * Delete an organization or department that nothing refers to: the check
 * and the delete in one transaction.  A reference added concurrently by
 * another node after the check is caught by the foreign keys at its
 * commit or ours (the DELETE then fails: SCEP_E_NOTFOUND from 23503 is
 * turned into SCEP_E_EXISTS, still in use).
 */
static int
delete_unused(void *be, const struct pg_stmt *inuse,
    const struct pg_stmt *del, int64_t id)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	PGresult *res = NULL;
	int64_t n = 0;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	r = pg_exec_row(c, inuse, p1(&p, id), &res);
	PQclear(res);
	if (r == SCEP_OK)
		r = SCEP_E_EXISTS;		/* still in use */
	else if (r == SCEP_E_NOTFOUND) {
		r = pg_exec_cmd(c, del, p1(&p, id), &n);
		if (r == SCEP_E_NOTFOUND)
			r = SCEP_E_EXISTS;	/* a reference appeared */
		else if (r == SCEP_OK && n == 0)
			r = SCEP_E_NOTFOUND;
	}
	r = pg_tx_end(c, r);
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pga_org_delete(void *be, int64_t id)
{
	return delete_unused(be, A(AS_ORG_INUSE), A(AS_ORG_DEL), id);
}

static int
dept_row(const PGresult *res, int row, void *out)
{
	struct store_dept *d = out;
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	d->id = c_i64(&cl);
	d->org_id = c_i64(&cl);
	c_text(&cl, d->name, sizeof(d->name));
	d->created_at = c_i64(&cl);
	return cl.r;
}

static int
pga_dept_insert(void *be, struct store_dept *d)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, d->org_id);
	p_text(&p, d->name);
	p_i64(&p, d->created_at);
	return write_one(be, A(AS_DEPT_INS), &p, 0, NULL, &d->id);
}

static int
pga_dept_update(void *be, const struct store_dept *d)
{
	struct pg_params p;

	pg_params_init(&p);
	p_text(&p, d->name);
	p_i64(&p, d->id);
	p_i64(&p, d->org_id);
	return write_must(be, A(AS_DEPT_UPD), &p);
}

static int
pga_dept_get(void *be, int64_t id, struct store_dept *out)
{
	struct pg_params p;

	return read_rows(be, A(AS_DEPT_GET), p1(&p, id), dept_row, out, 0, 0,
	    NULL);
}

static int
pga_dept_list(void *be, int64_t org_id, struct store_dept *out, size_t max,
    size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, org_id);
	p_i64(&p, lim(max));
	return read_rows(be, A(AS_DEPT_LIST), &p, dept_row, out, sizeof(*out),
	    max, n);
}

static int
pga_dept_delete(void *be, int64_t id)
{
	return delete_unused(be, A(AS_DEPT_INUSE), A(AS_DEPT_DEL), id);
}

/* ---- administrators ---- */

/* administrators.role is TEXT (0001_init.sql). */
static const char *
role_text(int role)
{
	switch (role) {
	case STORE_ROLE_MRAO:
		return "MRAO";
	case STORE_ROLE_RAO:
		return "RAO";
	case STORE_ROLE_DRAO:
		return "DRAO";
	default:
		return NULL;
	}
}

static int
admin_row(const PGresult *res, int row, void *out)
{
	struct store_admin *o = out;
	struct pg_col cl;
	char role[8];

	pg_col_init(&cl, res, row);
	o->id = c_i64(&cl);
	c_text(&cl, o->name, sizeof(o->name));
	c_text(&cl, role, sizeof(role));
	o->cert_types = c_int(&cl);
	c_text(&cl, o->password_hash, sizeof(o->password_hash));
	o->disabled = c_int(&cl);
	o->created_at = c_i64(&cl);
	if (cl.r != SCEP_OK)
		return cl.r;
	if (strcmp(role, "MRAO") == 0)
		o->role = STORE_ROLE_MRAO;
	else if (strcmp(role, "RAO") == 0)
		o->role = STORE_ROLE_RAO;
	else if (strcmp(role, "DRAO") == 0)
		o->role = STORE_ROLE_DRAO;
	else
		return SCEP_E_STORE;
	return SCEP_OK;
}

/* Replace the scopes of administrator "id" inside an open transaction. */
static int
scopes_put(struct pg_conn *c, int64_t id, const struct store_orgref *s,
    size_t n)
{
	struct pg_params p;
	size_t i;
	int r;

	if ((r = pg_exec_cmd(c, A(AS_SCOPE_DEL), p1(&p, id), NULL)) !=
	    SCEP_OK)
		return r;
	for (i = 0; i < n && r == SCEP_OK; i++) {
		pg_params_init(&p);
		p_i64(&p, id);
		p_i64(&p, s[i].org_id);
		p_ref(&p, s[i].dept_id);
		r = pg_exec_cmd(c, A(AS_SCOPE_INS), &p, NULL);
	}
	return r;
}

static int
pga_admin_insert(void *be, struct store_admin *ad,
    const struct store_orgref *scopes, size_t nscopes)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	PGresult *res = NULL;
	struct pg_col cl;
	int64_t id = 0;
	int r;

	if (role_text(ad->role) == NULL)
		return SCEP_E_INTERNAL;
	pg_params_init(&p);
	p_text(&p, ad->name);
	p_text(&p, role_text(ad->role));
	p_text(&p, ad->password_hash);
	p_i64(&p, ad->created_at);
	p_i64(&p, ad->disabled);
	p_i64(&p, ad->cert_types);
	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	if ((r = pg_exec(c, A(AS_ADM_INS), &p, &res)) == SCEP_OK) {
		if (PQntuples(res) != 1)
			r = SCEP_E_STORE;	/* RETURNING gives the row */
		else {
			pg_col_init(&cl, res, 0);
			id = c_i64(&cl);
			if ((r = cl.r) == SCEP_OK)
				r = scopes_put(c, id, scopes, nscopes);
		}
	}
	PQclear(res);
	if ((r = pg_tx_end(c, r)) == SCEP_OK)
		ad->id = id;
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pga_admin_update(void *be, const struct store_admin *ad,
    const struct store_orgref *scopes, size_t nscopes)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	int64_t n = 0;
	int r;

	if (role_text(ad->role) == NULL)
		return SCEP_E_INTERNAL;
	pg_params_init(&p);
	p_text(&p, ad->name);
	p_text(&p, role_text(ad->role));
	p_text(&p, ad->password_hash);
	p_i64(&p, ad->disabled);
	p_i64(&p, ad->cert_types);
	p_i64(&p, ad->id);
	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	if ((r = pg_exec_cmd(c, A(AS_ADM_UPD), &p, &n)) == SCEP_OK)
		r = n == 0 ? SCEP_E_NOTFOUND :
		    scopes_put(c, ad->id, scopes, nscopes);
	r = pg_tx_end(c, r);
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pga_admin_get(void *be, int64_t id, struct store_admin *out,
    struct store_orgref *scopes, size_t maxscopes, size_t *nscopes)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	PGresult *res = NULL;
	int i, rows, r;

	*nscopes = 0;
	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	/* One snapshot: the row and its scopes agree. */
	if ((r = pg_snapshot_begin(c)) != SCEP_OK)
		goto out;
	if ((r = pg_exec_row(c, A(AS_ADM_GET), p1(&p, id), &res)) !=
	    SCEP_OK || (r = admin_row(res, 0, out)) != SCEP_OK)
		goto end;
	PQclear(res);
	res = NULL;
	if (scopes == NULL)		/* the row only */
		goto end;
	if ((r = pg_exec(c, A(AS_SCOPE_GET), p1(&p, id), &res)) != SCEP_OK)
		goto end;
	rows = PQntuples(res);
	for (i = 0; i < rows; i++) {
		struct pg_col cl;

		if (*nscopes >= maxscopes) {
			r = SCEP_E_TOOBIG;
			goto end;
		}
		pg_col_init(&cl, res, i);
		scopes[*nscopes].org_id = c_i64(&cl);
		scopes[*nscopes].dept_id = c_i64(&cl);	/* NULL reads 0 */
		if ((r = cl.r) != SCEP_OK)
			goto end;
		(*nscopes)++;
	}
 end:
	PQclear(res);
	(void)pg_tx_end(c, SCEP_OK);	/* ends the read snapshot */
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pga_admin_by_name(void *be, const char *name, struct store_admin *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_text(&p, name);
	return read_rows(be, A(AS_ADM_NAME), &p, admin_row, out, 0, 0, NULL);
}

static int
pga_admin_list(void *be, struct store_admin *out, size_t max, size_t *n)
{
	struct pg_params p;

	return read_rows(be, A(AS_ADM_LIST), p1(&p, lim(max)), admin_row, out,
	    sizeof(*out), max, n);
}

static int
pga_admin_delete(void *be, int64_t id)
{
	struct pg_params p;

	return write_must(be, A(AS_ADM_DEL), p1(&p, id));
}

/* ---- tokens ---- */

static int
token_row(const PGresult *res, int row, void *out)
{
	struct store_token *t = out;
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	t->id = c_i64(&cl);
	t->admin_id = c_i64(&cl);
	c_text(&cl, t->name, sizeof(t->name));
	t->created_at = c_i64(&cl);
	t->expires_at = c_i64(&cl);
	t->revoked_at = c_i64(&cl);
	t->last_used_at = c_i64(&cl);
	return cl.r;
}

static int
pga_token_add(void *be, struct store_token *t,
    const uint8_t hash[STORE_HASH_LEN])
{
	struct pg_params p;

	pg_params_init(&p);
	p_text(&p, t->name);
	p_blob(&p, hash, STORE_HASH_LEN);
	p_i64(&p, t->created_at);
	p_i64(&p, t->admin_id);
	p_i64(&p, t->expires_at);
	return write_one(be, A(AS_TOK_ADD), &p, 0, NULL, &t->id);
}

static int
pga_token_by_hash(void *be, const uint8_t hash[STORE_HASH_LEN],
    struct store_token *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_blob(&p, hash, STORE_HASH_LEN);
	return read_rows(be, A(AS_TOK_HASH), &p, token_row, out, 0, 0, NULL);
}

static int
pga_token_get(void *be, int64_t id, struct store_token *out)
{
	struct pg_params p;

	return read_rows(be, A(AS_TOK_GET), p1(&p, id), token_row, out, 0, 0,
	    NULL);
}

static int
pga_token_list(void *be, int64_t admin_id, struct store_token *out,
    size_t max, size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, admin_id);
	p_i64(&p, lim(max));
	return read_rows(be, A(AS_TOK_LIST), &p, token_row, out, sizeof(*out),
	    max, n);
}

static int
pga_token_revoke(void *be, int64_t id, int64_t now)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, now);
	p_i64(&p, id);
	return write_must(be, A(AS_TOK_REV), &p);
}

static int
pga_token_touch(void *be, int64_t id, int64_t now)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, now);
	p_i64(&p, id);
	return write_one(be, A(AS_TOK_TOUCH), &p, 0, NULL, NULL);
}

/* ---- sessions ---- */

static int
session_row(const PGresult *res, int row, void *out)
{
	struct store_session *s = out;
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	s->id = c_i64(&cl);
	s->admin_id = c_i64(&cl);
	c_hash(&cl, s->sid_hash);
	c_hash(&cl, s->csrf_hash);
	c_text(&cl, s->client_addr, sizeof(s->client_addr));
	s->created_at = c_i64(&cl);
	s->expires_at = c_i64(&cl);
	return cl.r;
}

static int
pga_session_insert(void *be, struct store_session *s)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, s->admin_id);
	p_blob(&p, s->sid_hash, STORE_HASH_LEN);
	p_blob(&p, s->csrf_hash, STORE_HASH_LEN);
	p_text(&p, s->client_addr);
	p_i64(&p, s->created_at);
	p_i64(&p, s->expires_at);
	return write_one(be, A(AS_SESS_INS), &p, 0, NULL, &s->id);
}

static int
pga_session_get(void *be, const uint8_t sid[STORE_HASH_LEN],
    struct store_session *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_blob(&p, sid, STORE_HASH_LEN);
	return read_rows(be, A(AS_SESS_GET), &p, session_row, out, 0, 0,
	    NULL);
}

static int
pga_session_delete(void *be, const uint8_t sid[STORE_HASH_LEN])
{
	struct pg_params p;

	pg_params_init(&p);
	p_blob(&p, sid, STORE_HASH_LEN);
	return write_must(be, A(AS_SESS_DEL), &p);
}

static int
pga_session_delete_admin(void *be, int64_t admin_id)
{
	struct pg_params p;

	return write_one(be, A(AS_SESS_DEL_ADM), p1(&p, admin_id), 0, NULL,
	    NULL);
}

static int
pga_session_expire(void *be, int64_t now)
{
	struct pg_params p;

	return write_one(be, A(AS_SESS_EXP), p1(&p, now), 0, NULL, NULL);
}

/* ---- login throttling ---- */

static int
pga_login_fail(void *be, const char *key, int64_t now)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	pg_params_init(&p);
	p_text(&p, key);
	p_i64(&p, now);
	if ((r = pg_exec_cmd(c, A(AS_LOGIN_INS), &p, NULL)) == SCEP_OK)
		r = pg_exec_cmd(c, A(AS_LOGIN_PRUNE), p1(&p,
		    now - LOGIN_KEEP), NULL);
	r = pg_tx_end(c, r);
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pga_login_failures(void *be, const char *key, int64_t since, int64_t *count)
{
	struct pg_params p;

	pg_params_init(&p);
	p_text(&p, key);
	p_i64(&p, since);
	return read_i64(be, A(AS_LOGIN_COUNT), &p, count);
}

static int
pga_login_clear(void *be, const char *key)
{
	struct pg_params p;

	pg_params_init(&p);
	p_text(&p, key);
	return write_one(be, A(AS_LOGIN_CLEAR), &p, 0, NULL, NULL);
}

/* ---- endpoints ---- */

static int
ep_row(const PGresult *res, int row, void *out)
{
	return pg_endpoint_row(res, row, out);
}

static int
pga_endpoint_list(void *be, int deleted, struct store_endpoint *out,
    size_t max, size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, deleted ? 1 : 0);
	p_i64(&p, lim(max));
	return read_rows(be, A(AS_EP_LIST), &p, ep_row, out, sizeof(*out), max,
	    n);
}

/* Replace the delegation targets of an endpoint (open transaction). */
static int
targets_put(struct pg_conn *c, int64_t id, const struct store_orgref *t,
    size_t n)
{
	struct pg_params p;
	size_t i;
	int r;

	if ((r = pg_exec_cmd(c, A(AS_TGT_DEL), p1(&p, id), NULL)) != SCEP_OK)
		return r;
	for (i = 0; i < n && r == SCEP_OK; i++) {
		pg_params_init(&p);
		p_i64(&p, id);
		p_i64(&p, t[i].org_id);
		p_ref(&p, t[i].dept_id);
		r = pg_exec_cmd(c, A(AS_TGT_INS), &p, NULL);
	}
	return r;
}

static int
pga_endpoint_create(void *be, struct store_endpoint *ep,
    const struct store_orgref *t, size_t n)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct store_endpoint row = *ep;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	if ((r = pg_endpoint_insert_in(c, &row)) == SCEP_OK)
		r = targets_put(c, row.id, t, n);
	if ((r = pg_tx_end(c, r)) == SCEP_OK) {
		ep->id = row.id;
		ep->deleted_at = 0;
	}
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pga_endpoint_save(void *be, const struct store_endpoint *ep,
    const struct store_orgref *t, size_t n)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	if ((r = pg_endpoint_update_in(c, ep)) == SCEP_OK)
		r = targets_put(c, ep->id, t, n);
	r = pg_tx_end(c, r);
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
ref_row(const PGresult *res, int row, void *out)
{
	struct store_orgref *o = out;
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	o->org_id = c_i64(&cl);
	o->dept_id = c_i64(&cl);	/* NULL reads 0 */
	return cl.r;
}

static int
pga_endpoint_targets(void *be, int64_t id, struct store_orgref *out,
    size_t max, size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, id);
	p_i64(&p, lim(max));
	return read_rows(be, A(AS_TGT_LIST), &p, ref_row, out, sizeof(*out),
	    max, n);
}

/* ---- accounts ---- */

static int
acc_row(const PGresult *res, int row, void *out)
{
	return pg_account_row(res, row, out);
}

static int
pga_account_list(void *be, int64_t endpoint_id, struct store_account *out,
    size_t max, size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, endpoint_id);
	p_i64(&p, lim(max));
	return read_rows(be, A(AS_ACC_LIST), &p, acc_row, out, sizeof(*out),
	    max, n);
}

static int
rules_put(struct pg_conn *c, int64_t id, const struct store_account_rules *ru)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, id);
	p_text(&p, ru->cn_pattern);
	p_text(&p, ru->san_pattern);
	return pg_exec_cmd(c, A(AS_RULES_PUT), &p, NULL);
}

static int
pga_account_create(void *be, struct store_account *acct,
    const struct store_account_rules *ru)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct store_account row = *acct;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	if ((r = pg_account_insert_in(c, &row)) == SCEP_OK)
		r = rules_put(c, row.id, ru);
	if ((r = pg_tx_end(c, r)) == SCEP_OK)
		acct->id = row.id;
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pga_account_save(void *be, const struct store_account *acct,
    const struct store_account_rules *ru)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	if ((r = pg_account_update_in(c, acct)) == SCEP_OK)
		r = rules_put(c, acct->id, ru);
	r = pg_tx_end(c, r);
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
rules_row(const PGresult *res, int row, void *out)
{
	struct store_account_rules *ru = out;
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	c_text(&cl, ru->cn_pattern, sizeof(ru->cn_pattern));
	c_text(&cl, ru->san_pattern, sizeof(ru->san_pattern));
	return cl.r;
}

static int
pga_account_rules_get(void *be, int64_t id, struct store_account_rules *out)
{
	struct pg_params p;
	int r;

	r = read_rows(be, A(AS_RULES_GET), p1(&p, id), rules_row, out, 0, 0,
	    NULL);
	out->account_id = id;
	return r == SCEP_E_NOTFOUND ? SCEP_OK : r;	/* no rules: any */
}

/* ---- one-time challenges ---- */

static int
otc_row(const PGresult *res, int row, void *out)
{
	struct store_otc *o = out;
	struct pg_col cl;

	pg_col_init(&cl, res, row);
	o->id = c_i64(&cl);
	o->account_id = c_i64(&cl);
	o->created_at = c_i64(&cl);
	o->expires_at = c_i64(&cl);
	o->used_at = c_i64(&cl);
	return cl.r;
}

static int
pga_otc_insert(void *be, struct store_otc *o,
    const uint8_t hash[STORE_HASH_LEN])
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, o->account_id);
	p_blob(&p, hash, STORE_HASH_LEN);
	p_i64(&p, o->created_at);
	p_i64(&p, o->expires_at);
	return write_one(be, A(AS_OTC_INS), &p, 0, NULL, &o->id);
}

static int
pga_otc_list(void *be, int64_t account_id, struct store_otc *out,
    size_t max, size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, account_id);
	p_i64(&p, lim(max));
	return read_rows(be, A(AS_OTC_LIST), &p, otc_row, out, sizeof(*out),
	    max, n);
}

static int
pga_otc_find(void *be, const uint8_t hash[STORE_HASH_LEN], int64_t now,
    struct store_otc *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_blob(&p, hash, STORE_HASH_LEN);
	p_i64(&p, now);
	return read_rows(be, A(AS_OTC_FIND), &p, otc_row, out, 0, 0, NULL);
}

static int
pga_otc_consume(void *be, int64_t id, int64_t now)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, now);
	p_i64(&p, id);
	return write_must(be, A(AS_OTC_USE), &p);
}

/* ---- CAs and RAs ---- */

static int
ca_row(const PGresult *res, int row, void *out)
{
	return pg_ca_row(res, row, out);
}

static int
pga_ca_list(void *be, struct store_ca *out, size_t max, size_t *n)
{
	struct pg_params p;

	return read_rows(be, A(AS_CA_LIST), p1(&p, lim(max)), ca_row, out,
	    sizeof(*out), max, n);
}

static int
pga_ra_switch(void *be, int64_t old_id, int64_t next_id)
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
	p_i64(&p, next_id);
	p_i64(&p, old_id);
	if ((r = pg_exec_cmd(c, A(AS_RA_NEXT), &p, &n)) != SCEP_OK)
		goto end;
	if (n != 1) {
		r = SCEP_E_NOTFOUND;
		goto end;
	}
	if ((r = pg_exec_cmd(c, A(AS_RA_OLD), p1(&p, old_id), &n)) !=
	    SCEP_OK)
		goto end;
	if (n != 1) {
		r = SCEP_E_NOTFOUND;
		goto end;
	}
	pg_params_init(&p);
	p_i64(&p, next_id);
	p_i64(&p, old_id);
	if ((r = pg_exec_cmd(c, A(AS_RA_EPS), &p, NULL)) != SCEP_OK)
		goto end;
	r = pg_config_bump(c);
 end:
	r = pg_tx_end(c, r);
 out:
	pg_conn_put(pg, c);
	return r;
}

/* ---- searches ---- */

static int
pga_cert_search(void *be, const struct store_cert_filter *f,
    struct store_cert *out, size_t max, size_t *n, int64_t *cursor)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	PGresult *res = NULL;
	int i, rows, r;

	*cursor = f->after;
	pg_params_init(&p);
	p_i64(&p, f->after);
	p_i64(&p, f->endpoint_id);
	p_i64(&p, f->account_id);
	p_i64(&p, f->org_id);
	p_i64(&p, f->dept_id);
	p_text(&p, f->subject);
	p_text(&p, f->serial);
	p_i64(&p, f->status);
	p_i64(&p, f->expires_after);
	p_i64(&p, f->expires_before);
	p_i64(&p, lim(max));
	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_exec(c, A(AS_CERT_SEARCH), &p, &res)) != SCEP_OK)
		goto out;
	rows = PQntuples(res);
	for (i = 0; i < rows && *n < max; i++) {
		struct store_cert *x = &out[(*n)++];
		struct pg_col cl;

		if ((r = pg_cert_row(res, i, x)) != SCEP_OK)
			goto out;
		/* The row id: the 17th column. */
		pg_col_init(&cl, res, i);
		cl.i = 16;
		*cursor = c_i64(&cl);
		if ((r = cl.r) != SCEP_OK)
			goto out;
		if (!f->with_der) {
			free(x->der);
			x->der = NULL;
			x->der_len = 0;
		}
	}
 out:
	PQclear(res);
	pg_conn_put(pg, c);
	return r;
}

static int
ev_row(const PGresult *res, int row, void *out)
{
	return pg_event_row(res, row, out);
}

static int
pga_event_search(void *be, const struct store_event_filter *f,
    struct store_event *out, size_t max, size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, f->after);
	p_i64(&p, f->since);
	p_i64(&p, f->until);
	p_i64(&p, f->endpoint_id);
	p_i64(&p, f->account_id);
	p_text(&p, f->kind);
	p_text(&p, f->actor);
	p_text(&p, f->action);
	p_text(&p, f->result);
	p_i64(&p, lim(max));
	return read_rows(be, A(AS_EV_SEARCH), &p, ev_row, out, sizeof(*out),
	    max, n);
}

static int
pga_event_count(void *be, int64_t *count)
{
	return read_i64(be, A(AS_EV_COUNT), NULL, count);
}

const struct store_admin_ops store_pg_admin_ops = {
	.org_insert = pga_org_insert,
	.org_update = pga_org_update,
	.org_get = pga_org_get,
	.org_delete = pga_org_delete,
	.org_list = pga_org_list,
	.dept_insert = pga_dept_insert,
	.dept_update = pga_dept_update,
	.dept_get = pga_dept_get,
	.dept_delete = pga_dept_delete,
	.dept_list = pga_dept_list,
	.admin_insert = pga_admin_insert,
	.admin_update = pga_admin_update,
	.admin_get = pga_admin_get,
	.admin_by_name = pga_admin_by_name,
	.admin_list = pga_admin_list,
	.admin_delete = pga_admin_delete,
	.token_add = pga_token_add,
	.token_by_hash = pga_token_by_hash,
	.token_get = pga_token_get,
	.token_list = pga_token_list,
	.token_revoke = pga_token_revoke,
	.token_touch = pga_token_touch,
	.session_insert = pga_session_insert,
	.session_get = pga_session_get,
	.session_delete = pga_session_delete,
	.session_delete_admin = pga_session_delete_admin,
	.session_expire = pga_session_expire,
	.login_fail = pga_login_fail,
	.login_failures = pga_login_failures,
	.login_clear = pga_login_clear,
	.endpoint_list = pga_endpoint_list,
	.endpoint_create = pga_endpoint_create,
	.endpoint_save = pga_endpoint_save,
	.endpoint_targets = pga_endpoint_targets,
	.account_list = pga_account_list,
	.account_create = pga_account_create,
	.account_save = pga_account_save,
	.account_rules_get = pga_account_rules_get,
	.otc_insert = pga_otc_insert,
	.otc_list = pga_otc_list,
	.otc_find = pga_otc_find,
	.otc_consume = pga_otc_consume,
	.ca_list = pga_ca_list,
	.ra_switch = pga_ra_switch,
	.cert_search = pga_cert_search,
	.event_search = pga_event_search,
	.event_count = pga_event_count,
};
