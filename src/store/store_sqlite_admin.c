/*
 * store_sqlite_admin.c -- the SQLite backend of the administration
 * functions of store.h (organizations, departments, administrators,
 * tokens, sessions, login throttling, endpoint and account listing and
 * their companion rows, one-time challenges, the RA switch, and the
 * certificate and audit searches).
 *
 * Same rules as store_sqlite.c (see there and store_sqlite_int.h):
 * constant SQL only, one write transaction per function that writes, and
 * the store's error vocabulary.  These statements are administrative (a
 * few per API request), so they are prepared per call instead of being
 * cached per connection; the enrollment path never runs them.
 *
 * Optional filters are written "(?n = 0 OR col = ?n)" so that one constant
 * statement serves every combination of filters.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "scep_err.h"
#include "store.h"
#include "store_int.h"
#include "store_sqlite_int.h"

/* ---- small helpers ---- */

static int
prep(struct sq_conn *c, const char *sql, sqlite3_stmt **st)
{
	int rc;

	*st = NULL;
	rc = sqlite3_prepare_v2(sq_conn_db(c), sql, -1, st, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return sq_err(rc);
	}
	return SCEP_OK;
}

static int64_t
lim(size_t max)
{
	return max > INT64_MAX ? INT64_MAX : (int64_t)max;
}

/* Parameters of the simple statements: up to four integers, two texts
 * and one hash, bound in the order the statement lists them. */
struct args {
	int		 ni, nt;
	int64_t		 i[6];
	const char	*t[3];
	const uint8_t	*h;		/* bound after the integers and texts */
	int		 order[12];	/* 'i', 't', 'h' in binding order */
	int		 n;
};

static void
a_i(struct args *a, int64_t v)
{
	a->i[a->ni++] = v;
	a->order[a->n++] = 'i';
}

static void
a_t(struct args *a, const char *s)
{
	a->t[a->nt++] = s;
	a->order[a->n++] = 't';
}

static void
a_h(struct args *a, const uint8_t *h)
{
	a->h = h;
	a->order[a->n++] = 'h';
}

static void
a_bind(struct bind *b, const struct args *a)
{
	int k, ii = 0, ti = 0;

	for (k = 0; k < a->n; k++) {
		if (a->order[k] == 'i')
			sq_b_i64(b, a->i[ii++]);
		else if (a->order[k] == 't')
			sq_b_text(b, a->t[ti++]);
		else
			sq_b_blob(b, a->h, STORE_HASH_LEN);
	}
}

/*
 * One write statement in a transaction of its own.  *changes (rows
 * changed) and *rowid (for an INSERT) may be NULL.  "bump": also move the
 * configuration version (endpoint and account changes).
 */
static int
write_one(void *be, const char *sql, const struct args *a, int bump,
    int64_t *changes, int64_t *rowid)
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
	if ((r = prep(c, sql, &st)) == SCEP_OK) {
		b.st = st;
		a_bind(&b, a);
		r = sq_exec_changes(c, st, &b, changes);
		if (r == SCEP_OK && rowid != NULL)
			*rowid = sqlite3_last_insert_rowid(sq_conn_db(c));
		if (r == SCEP_OK && bump)
			r = sq_config_bump(c);
	}
	sqlite3_finalize(st);
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

typedef int	(*row_fn)(sqlite3_stmt *, void *out);

/*
 * Run a read statement.  With n == NULL: exactly one row into out
 * (SCEP_E_NOTFOUND when there is none).  Otherwise up to max rows into
 * the array out (elements of elemsz bytes), *n set to the count.
 */
static int
read_rows(void *be, const char *sql, const struct args *a, row_fn fn,
    void *out, size_t elemsz, size_t max, size_t *n)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = prep(c, sql, &st)) != SCEP_OK)
		goto out;
	b.st = st;
	a_bind(&b, a);
	if ((r = sq_b_end(&b)) != SCEP_OK)
		goto out;
	if (n == NULL) {
		if ((r = sq_step_row(st)) == SCEP_OK)
			r = fn(st, out);
		goto out;
	}
	while (*n < max && (r = sq_step_row(st)) == SCEP_OK) {
		r = fn(st, (char *)out + *n * elemsz);
		(*n)++;		/* counted even when it failed: the caller
				 * clears every one of the *n */
		if (r != SCEP_OK)
			goto out;
	}
	if (r == SCEP_E_NOTFOUND || *n == max)
		r = SCEP_OK;
 out:
	sqlite3_finalize(st);
	sq_conn_put(sq, c);
	return r;
}

/* A single integer (COUNT, EXISTS). */
static int
read_i64(void *be, const char *sql, const struct args *a, int64_t *v)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	*v = 0;
	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = prep(c, sql, &st)) != SCEP_OK)
		goto out;
	b.st = st;
	a_bind(&b, a);
	if ((r = sq_b_end(&b)) == SCEP_OK && (r = sq_step_row(st)) == SCEP_OK)
		*v = sqlite3_column_int64(st, 0);
 out:
	sqlite3_finalize(st);
	sq_conn_put(sq, c);
	return r;
}

/* Run a statement inside an open transaction on c. */
static int
exec_in(struct sq_conn *c, const char *sql, const struct args *a,
    int64_t *changes)
{
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = prep(c, sql, &st)) != SCEP_OK)
		return r;
	b.st = st;
	a_bind(&b, a);
	r = sq_exec_changes(c, st, &b, changes);
	sqlite3_finalize(st);
	return r;
}

/* Does a "SELECT 1 ... LIMIT 1" find a row, inside an open transaction? */
static int
exists_in(struct sq_conn *c, const char *sql, const struct args *a)
{
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = prep(c, sql, &st)) != SCEP_OK)
		return r;
	b.st = st;
	a_bind(&b, a);
	if ((r = sq_b_end(&b)) == SCEP_OK)
		r = sq_step_row(st);
	sqlite3_finalize(st);
	return r;
}

/* ---- organizations and departments ---- */

static int
org_row(sqlite3_stmt *st, void *out)
{
	struct store_org *o = out;
	struct col cl = { st, 0, SCEP_OK };

	o->id = sq_c_i64(&cl);
	sq_c_text(&cl, o->name, sizeof(o->name));
	o->created_at = sq_c_i64(&cl);
	return cl.r;
}

static int
sqa_org_insert(void *be, struct store_org *o)
{
	struct args a = { 0 };

	a_t(&a, o->name);
	a_i(&a, o->created_at);
	return write_one(be, "INSERT INTO organizations (name, created_at) "
	    "VALUES (?, ?)", &a, 0, NULL, &o->id);
}

static int
sqa_org_update(void *be, const struct store_org *o)
{
	struct args a = { 0 };
	int64_t n = 0;
	int r;

	a_t(&a, o->name);
	a_i(&a, o->id);
	if ((r = write_one(be, "UPDATE organizations SET name = ? "
	    "WHERE id = ?", &a, 0, &n, NULL)) != SCEP_OK)
		return r;
	return n == 1 ? SCEP_OK : SCEP_E_NOTFOUND;
}

static int
sqa_org_get(void *be, int64_t id, struct store_org *out)
{
	struct args a = { 0 };

	a_i(&a, id);
	return read_rows(be, "SELECT id, name, created_at FROM organizations "
	    "WHERE id = ?", &a, org_row, out, 0, 0, NULL);
}

static int
sqa_org_list(void *be, struct store_org *out, size_t max, size_t *n)
{
	struct args a = { 0 };

	a_i(&a, lim(max));
	return read_rows(be, "SELECT id, name, created_at FROM organizations "
	    "ORDER BY name, id LIMIT ?", &a, org_row, out, sizeof(*out), max,
	    n);
}

/*
 * Delete an organization or department that nothing refers to: the check
 * and the delete in one transaction, so a reference cannot appear between
 * them.  "inuse" is a "SELECT 1 ... LIMIT 1" over the referring tables.
 */
static int
delete_unused(void *be, const char *inuse, const char *del, int64_t id)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	struct args a = { 0 };
	int64_t n = 0;
	int r;

	a_i(&a, id);
	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	r = exists_in(c, inuse, &a);
	if (r == SCEP_OK)
		r = SCEP_E_EXISTS;		/* still in use */
	else if (r == SCEP_E_NOTFOUND &&
	    (r = exec_in(c, del, &a, &n)) == SCEP_OK && n == 0)
		r = SCEP_E_NOTFOUND;
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sqa_org_delete(void *be, int64_t id)
{
	return delete_unused(be,
	    "SELECT 1 FROM departments WHERE org_id = ?1 "
	    "UNION ALL SELECT 1 FROM accounts WHERE org_id = ?1 "
	    "UNION ALL SELECT 1 FROM admin_scopes WHERE org_id = ?1 "
	    "UNION ALL SELECT 1 FROM endpoint_delegations WHERE org_id = ?1 "
	    "UNION ALL SELECT 1 FROM endpoints WHERE org_id = ?1 "
	    "AND deleted_at = 0 LIMIT 1",
	    "DELETE FROM organizations WHERE id = ?1", id);
}

static int
dept_row(sqlite3_stmt *st, void *out)
{
	struct store_dept *d = out;
	struct col cl = { st, 0, SCEP_OK };

	d->id = sq_c_i64(&cl);
	d->org_id = sq_c_i64(&cl);
	sq_c_text(&cl, d->name, sizeof(d->name));
	d->created_at = sq_c_i64(&cl);
	return cl.r;
}

static int
sqa_dept_insert(void *be, struct store_dept *d)
{
	struct args a = { 0 };

	a_i(&a, d->org_id);
	a_t(&a, d->name);
	a_i(&a, d->created_at);
	return write_one(be, "INSERT INTO departments (org_id, name, "
	    "created_at) VALUES (?, ?, ?)", &a, 0, NULL, &d->id);
}

static int
sqa_dept_update(void *be, const struct store_dept *d)
{
	struct args a = { 0 };
	int64_t n = 0;
	int r;

	a_t(&a, d->name);
	a_i(&a, d->id);
	a_i(&a, d->org_id);
	if ((r = write_one(be, "UPDATE departments SET name = ? "
	    "WHERE id = ? AND org_id = ?", &a, 0, &n, NULL)) != SCEP_OK)
		return r;
	return n == 1 ? SCEP_OK : SCEP_E_NOTFOUND;
}

static int
sqa_dept_get(void *be, int64_t id, struct store_dept *out)
{
	struct args a = { 0 };

	a_i(&a, id);
	return read_rows(be, "SELECT id, org_id, name, created_at "
	    "FROM departments WHERE id = ?", &a, dept_row, out, 0, 0, NULL);
}

static int
sqa_dept_list(void *be, int64_t org_id, struct store_dept *out, size_t max,
    size_t *n)
{
	struct args a = { 0 };

	a_i(&a, org_id);
	a_i(&a, lim(max));
	return read_rows(be, "SELECT id, org_id, name, created_at "
	    "FROM departments WHERE (?1 = 0 OR org_id = ?1) "
	    "ORDER BY org_id, name, id LIMIT ?2", &a, dept_row, out,
	    sizeof(*out), max, n);
}

static int
sqa_dept_delete(void *be, int64_t id)
{
	return delete_unused(be,
	    "SELECT 1 FROM accounts WHERE dept_id = ?1 "
	    "UNION ALL SELECT 1 FROM admin_scopes WHERE dept_id = ?1 "
	    "UNION ALL SELECT 1 FROM endpoint_delegations WHERE dept_id = ?1 "
	    "UNION ALL SELECT 1 FROM endpoints WHERE dept_id = ?1 "
	    "AND deleted_at = 0 LIMIT 1",
	    "DELETE FROM departments WHERE id = ?1", id);
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
admin_row(sqlite3_stmt *st, void *out)
{
	struct store_admin *o = out;
	struct col cl = { st, 0, SCEP_OK };
	char role[8];

	o->id = sq_c_i64(&cl);
	sq_c_text(&cl, o->name, sizeof(o->name));
	sq_c_text(&cl, role, sizeof(role));
	o->cert_types = sq_c_int(&cl);
	sq_c_text(&cl, o->password_hash, sizeof(o->password_hash));
	o->disabled = sq_c_int(&cl);
	o->created_at = sq_c_i64(&cl);
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

#define ADMIN_COLS	"id, name, role, cert_types, password_hash, " \
			"disabled, created_at"

/* Replace the scopes of administrator "id" inside an open transaction. */
static int
scopes_put(struct sq_conn *c, int64_t id, const struct store_orgref *s,
    size_t n)
{
	sqlite3_stmt *st = NULL;
	struct args a = { 0 };
	size_t i;
	int r;

	a_i(&a, id);
	if ((r = exec_in(c, "DELETE FROM admin_scopes WHERE admin_id = ?", &a,
	    NULL)) != SCEP_OK)
		return r;
	if ((r = prep(c, "INSERT INTO admin_scopes (admin_id, org_id, "
	    "dept_id) VALUES (?, ?, ?)", &st)) != SCEP_OK)
		return r;
	for (i = 0; i < n && r == SCEP_OK; i++) {
		struct bind b = { st, 0, SQLITE_OK };

		sq_b_i64(&b, id);
		sq_b_i64(&b, s[i].org_id);
		sq_b_ref(&b, s[i].dept_id);
		r = sq_exec_changes(c, st, &b, NULL);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	sqlite3_finalize(st);
	return r;
}

static int
sqa_admin_insert(void *be, struct store_admin *ad,
    const struct store_orgref *scopes, size_t nscopes)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	struct args a = { 0 };
	int64_t id = 0;
	int r;

	a_t(&a, ad->name);
	a_t(&a, role_text(ad->role));
	a_t(&a, ad->password_hash);
	a_i(&a, ad->created_at);
	a_i(&a, ad->disabled);
	a_i(&a, ad->cert_types);
	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = exec_in(c, "INSERT INTO administrators (name, role, "
	    "password_hash, created_at, disabled, cert_types) "
	    "VALUES (?, ?, ?, ?, ?, ?)", &a, NULL)) == SCEP_OK) {
		id = sqlite3_last_insert_rowid(sq_conn_db(c));
		r = scopes_put(c, id, scopes, nscopes);
	}
	if ((r = sq_tx_end(sq, c, r)) == SCEP_OK)
		ad->id = id;
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sqa_admin_update(void *be, const struct store_admin *ad,
    const struct store_orgref *scopes, size_t nscopes)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	struct args a = { 0 };
	int64_t n = 0;
	int r;

	a_t(&a, ad->name);
	a_t(&a, role_text(ad->role));
	a_t(&a, ad->password_hash);
	a_i(&a, ad->disabled);
	a_i(&a, ad->cert_types);
	a_i(&a, ad->id);
	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = exec_in(c, "UPDATE administrators SET name = ?, role = ?, "
	    "password_hash = ?, disabled = ?, cert_types = ? WHERE id = ?",
	    &a, &n)) == SCEP_OK)
		r = n == 0 ? SCEP_E_NOTFOUND :
		    scopes_put(c, ad->id, scopes, nscopes);
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sqa_admin_get(void *be, int64_t id, struct store_admin *out,
    struct store_orgref *scopes, size_t maxscopes, size_t *nscopes)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct args a = { 0 };
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	*nscopes = 0;
	a_i(&a, id);
	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	/* One read transaction: the row and its scopes agree. */
	if (sqlite3_exec(sq_conn_db(c), "BEGIN", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		r = SCEP_E_STORE;
		goto out;
	}
	if ((r = prep(c, "SELECT " ADMIN_COLS " FROM administrators "
	    "WHERE id = ?", &st)) != SCEP_OK)
		goto end;
	b.st = st;
	a_bind(&b, &a);
	if ((r = sq_b_end(&b)) != SCEP_OK || (r = sq_step_row(st)) != SCEP_OK ||
	    (r = admin_row(st, out)) != SCEP_OK)
		goto end;
	sqlite3_finalize(st);
	st = NULL;
	if (scopes == NULL)		/* the row only */
		goto end;
	if ((r = prep(c, "SELECT org_id, dept_id FROM admin_scopes "
	    "WHERE admin_id = ? ORDER BY id", &st)) != SCEP_OK)
		goto end;
	b.st = st;
	b.i = 0;
	sq_b_i64(&b, id);
	if ((r = sq_b_end(&b)) != SCEP_OK)
		goto end;
	while ((r = sq_step_row(st)) == SCEP_OK) {
		if (*nscopes >= maxscopes) {
			r = SCEP_E_TOOBIG;
			goto end;
		}
		scopes[*nscopes].org_id = sqlite3_column_int64(st, 0);
		scopes[*nscopes].dept_id = sqlite3_column_int64(st, 1);
		(*nscopes)++;
	}
	if (r == SCEP_E_NOTFOUND)
		r = SCEP_OK;
 end:
	sqlite3_finalize(st);
	sqlite3_exec(sq_conn_db(c), "COMMIT", NULL, NULL, NULL);
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sqa_admin_by_name(void *be, const char *name, struct store_admin *out)
{
	struct args a = { 0 };

	a_t(&a, name);
	return read_rows(be, "SELECT " ADMIN_COLS " FROM administrators "
	    "WHERE name = ?", &a, admin_row, out, 0, 0, NULL);
}

static int
sqa_admin_list(void *be, struct store_admin *out, size_t max, size_t *n)
{
	struct args a = { 0 };

	a_i(&a, lim(max));
	return read_rows(be, "SELECT " ADMIN_COLS " FROM administrators "
	    "ORDER BY id LIMIT ?", &a, admin_row, out, sizeof(*out), max, n);
}

static int
sqa_admin_delete(void *be, int64_t id)
{
	struct args a = { 0 };
	int64_t n = 0;
	int r;

	/* Scopes, tokens and sessions go with it (ON DELETE CASCADE). */
	a_i(&a, id);
	if ((r = write_one(be, "DELETE FROM administrators WHERE id = ?", &a,
	    0, &n, NULL)) != SCEP_OK)
		return r;
	return n == 1 ? SCEP_OK : SCEP_E_NOTFOUND;
}

/* ---- tokens ---- */

#define TOK_COLS	"id, admin_id, name, created_at, expires_at, " \
			"revoked_at, last_used_at"

static int
token_row(sqlite3_stmt *st, void *out)
{
	struct store_token *t = out;
	struct col cl = { st, 0, SCEP_OK };

	t->id = sq_c_i64(&cl);
	t->admin_id = sq_c_i64(&cl);
	sq_c_text(&cl, t->name, sizeof(t->name));
	t->created_at = sq_c_i64(&cl);
	t->expires_at = sq_c_i64(&cl);
	t->revoked_at = sq_c_i64(&cl);
	t->last_used_at = sq_c_i64(&cl);
	return cl.r;
}

static int
sqa_token_add(void *be, struct store_token *t,
    const uint8_t hash[STORE_HASH_LEN])
{
	struct args a = { 0 };

	a_t(&a, t->name);
	a_h(&a, hash);
	a_i(&a, t->created_at);
	a_i(&a, t->admin_id);
	a_i(&a, t->expires_at);
	return write_one(be, "INSERT INTO api_tokens (name, token_hash, "
	    "created_at, admin_id, expires_at) VALUES (?, ?, ?, ?, ?)", &a, 0,
	    NULL, &t->id);
}

static int
sqa_token_by_hash(void *be, const uint8_t hash[STORE_HASH_LEN],
    struct store_token *out)
{
	struct args a = { 0 };

	a_h(&a, hash);
	return read_rows(be, "SELECT " TOK_COLS " FROM api_tokens "
	    "WHERE token_hash = ?", &a, token_row, out, 0, 0, NULL);
}

static int
sqa_token_get(void *be, int64_t id, struct store_token *out)
{
	struct args a = { 0 };

	a_i(&a, id);
	return read_rows(be, "SELECT " TOK_COLS " FROM api_tokens "
	    "WHERE id = ?", &a, token_row, out, 0, 0, NULL);
}

static int
sqa_token_list(void *be, int64_t admin_id, struct store_token *out,
    size_t max, size_t *n)
{
	struct args a = { 0 };

	a_i(&a, admin_id);
	a_i(&a, lim(max));
	return read_rows(be, "SELECT " TOK_COLS " FROM api_tokens "
	    "WHERE admin_id = ? ORDER BY id LIMIT ?", &a, token_row, out,
	    sizeof(*out), max, n);
}

static int
sqa_token_revoke(void *be, int64_t id, int64_t now)
{
	struct args a = { 0 };
	int64_t n = 0;
	int r;

	a_i(&a, now);
	a_i(&a, id);
	if ((r = write_one(be, "UPDATE api_tokens SET revoked_at = ? "
	    "WHERE id = ? AND revoked_at = 0", &a, 0, &n, NULL)) != SCEP_OK)
		return r;
	return n == 1 ? SCEP_OK : SCEP_E_NOTFOUND;
}

static int
sqa_token_touch(void *be, int64_t id, int64_t now)
{
	struct args a = { 0 };

	a_i(&a, now);
	a_i(&a, id);
	return write_one(be, "UPDATE api_tokens SET last_used_at = ? "
	    "WHERE id = ?", &a, 0, NULL, NULL);
}

/* ---- sessions ---- */

static int
session_row(sqlite3_stmt *st, void *out)
{
	struct store_session *s = out;
	struct col cl = { st, 0, SCEP_OK };

	s->id = sq_c_i64(&cl);
	s->admin_id = sq_c_i64(&cl);
	sq_c_hash(&cl, s->sid_hash);
	sq_c_hash(&cl, s->csrf_hash);
	sq_c_text(&cl, s->client_addr, sizeof(s->client_addr));
	s->created_at = sq_c_i64(&cl);
	s->expires_at = sq_c_i64(&cl);
	return cl.r;
}

static int
sqa_session_insert(void *be, struct store_session *s)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int64_t id = 0;
	int r;

	/* Two hashes: bound directly rather than through struct args. */
	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = prep(c, "INSERT INTO admin_sessions (admin_id, sid_hash, "
	    "csrf_hash, client_addr, created_at, expires_at) "
	    "VALUES (?, ?, ?, ?, ?, ?)", &st)) == SCEP_OK) {
		b.st = st;
		sq_b_i64(&b, s->admin_id);
		sq_b_blob(&b, s->sid_hash, STORE_HASH_LEN);
		sq_b_blob(&b, s->csrf_hash, STORE_HASH_LEN);
		sq_b_text(&b, s->client_addr);
		sq_b_i64(&b, s->created_at);
		sq_b_i64(&b, s->expires_at);
		if ((r = sq_exec_changes(c, st, &b, NULL)) == SCEP_OK)
			id = sqlite3_last_insert_rowid(sq_conn_db(c));
	}
	sqlite3_finalize(st);
	if ((r = sq_tx_end(sq, c, r)) == SCEP_OK)
		s->id = id;
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sqa_session_get(void *be, const uint8_t sid[STORE_HASH_LEN],
    struct store_session *out)
{
	struct args a = { 0 };

	a_h(&a, sid);
	return read_rows(be, "SELECT id, admin_id, sid_hash, csrf_hash, "
	    "client_addr, created_at, expires_at FROM admin_sessions "
	    "WHERE sid_hash = ?", &a, session_row, out, 0, 0, NULL);
}

static int
sqa_session_delete(void *be, const uint8_t sid[STORE_HASH_LEN])
{
	struct args a = { 0 };
	int64_t n = 0;
	int r;

	a_h(&a, sid);
	if ((r = write_one(be, "DELETE FROM admin_sessions WHERE sid_hash = ?",
	    &a, 0, &n, NULL)) != SCEP_OK)
		return r;
	return n == 1 ? SCEP_OK : SCEP_E_NOTFOUND;
}

static int
sqa_session_delete_admin(void *be, int64_t admin_id)
{
	struct args a = { 0 };

	a_i(&a, admin_id);
	return write_one(be, "DELETE FROM admin_sessions WHERE admin_id = ?",
	    &a, 0, NULL, NULL);
}

static int
sqa_session_expire(void *be, int64_t now)
{
	struct args a = { 0 };

	a_i(&a, now);
	return write_one(be, "DELETE FROM admin_sessions "
	    "WHERE expires_at <= ?", &a, 0, NULL, NULL);
}

/* ---- login throttling ---- */

/* Failures older than this are pruned when a new one is recorded. */
#define LOGIN_KEEP	(24 * 3600)

static int
sqa_login_fail(void *be, const char *key, int64_t now)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	struct args a = { 0 }, p = { 0 };
	int r;

	a_t(&a, key);
	a_i(&a, now);
	a_i(&p, now - LOGIN_KEEP);
	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = exec_in(c, "INSERT INTO login_failures (key, ts) "
	    "VALUES (?, ?)", &a, NULL)) == SCEP_OK)
		r = exec_in(c, "DELETE FROM login_failures WHERE ts < ?", &p,
		    NULL);
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sqa_login_failures(void *be, const char *key, int64_t since, int64_t *count)
{
	struct args a = { 0 };

	a_t(&a, key);
	a_i(&a, since);
	return read_i64(be, "SELECT COUNT(*) FROM login_failures "
	    "WHERE key = ? AND ts >= ?", &a, count);
}

static int
sqa_login_clear(void *be, const char *key)
{
	struct args a = { 0 };

	a_t(&a, key);
	return write_one(be, "DELETE FROM login_failures WHERE key = ?", &a, 0,
	    NULL, NULL);
}

/* ---- endpoints ---- */

static int
ep_row(sqlite3_stmt *st, void *out)
{
	return sq_endpoint_row(st, out);
}

static int
sqa_endpoint_list(void *be, int deleted, struct store_endpoint *out,
    size_t max, size_t *n)
{
	struct args a = { 0 };

	a_i(&a, deleted ? 1 : 0);
	a_i(&a, lim(max));
	return read_rows(be, "SELECT " EP_COLS " FROM endpoints "
	    "WHERE (?1 = 0 AND deleted_at = 0) OR (?1 = 1 AND deleted_at != 0) "
	    "ORDER BY id LIMIT ?2", &a, ep_row, out, sizeof(*out), max, n);
}

/* Replace the delegation targets of an endpoint (open transaction). */
static int
targets_put(struct sq_conn *c, int64_t id, const struct store_orgref *t,
    size_t n)
{
	sqlite3_stmt *st = NULL;
	struct args a = { 0 };
	size_t i;
	int r;

	a_i(&a, id);
	if ((r = exec_in(c, "DELETE FROM endpoint_delegations "
	    "WHERE endpoint_id = ?", &a, NULL)) != SCEP_OK)
		return r;
	if ((r = prep(c, "INSERT INTO endpoint_delegations (endpoint_id, "
	    "org_id, dept_id) VALUES (?, ?, ?)", &st)) != SCEP_OK)
		return r;
	for (i = 0; i < n && r == SCEP_OK; i++) {
		struct bind b = { st, 0, SQLITE_OK };

		sq_b_i64(&b, id);
		sq_b_i64(&b, t[i].org_id);
		sq_b_ref(&b, t[i].dept_id);
		r = sq_exec_changes(c, st, &b, NULL);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	sqlite3_finalize(st);
	return r;
}

static int
sqa_endpoint_create(void *be, struct store_endpoint *ep,
    const struct store_orgref *t, size_t n)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	struct store_endpoint row = *ep;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = sq_endpoint_insert_in(c, &row)) == SCEP_OK)
		r = targets_put(c, row.id, t, n);
	if ((r = sq_tx_end(sq, c, r)) == SCEP_OK) {
		ep->id = row.id;
		ep->deleted_at = 0;
	}
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sqa_endpoint_save(void *be, const struct store_endpoint *ep,
    const struct store_orgref *t, size_t n)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = sq_endpoint_update_in(c, ep)) == SCEP_OK)
		r = targets_put(c, ep->id, t, n);
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
ref_row(sqlite3_stmt *st, void *out)
{
	struct store_orgref *o = out;

	o->org_id = sqlite3_column_int64(st, 0);
	o->dept_id = sqlite3_column_int64(st, 1);	/* NULL reads 0 */
	return SCEP_OK;
}

static int
sqa_endpoint_targets(void *be, int64_t id, struct store_orgref *out,
    size_t max, size_t *n)
{
	struct args a = { 0 };

	a_i(&a, id);
	a_i(&a, lim(max));
	return read_rows(be, "SELECT org_id, dept_id FROM endpoint_delegations "
	    "WHERE endpoint_id = ? ORDER BY id LIMIT ?", &a, ref_row, out,
	    sizeof(*out), max, n);
}

/* ---- accounts ---- */

static int
acc_row(sqlite3_stmt *st, void *out)
{
	return sq_account_row(st, out);
}

static int
sqa_account_list(void *be, int64_t endpoint_id, struct store_account *out,
    size_t max, size_t *n)
{
	struct args a = { 0 };

	a_i(&a, endpoint_id);
	a_i(&a, lim(max));
	return read_rows(be, "SELECT " ACC_COLS " FROM accounts "
	    "WHERE (?1 = 0 OR endpoint_id = ?1) ORDER BY id LIMIT ?2", &a,
	    acc_row, out, sizeof(*out), max, n);
}

static int
rules_put(struct sq_conn *c, int64_t id, const struct store_account_rules *ru)
{
	struct args a = { 0 };

	a_i(&a, id);
	a_t(&a, ru->cn_pattern);
	a_t(&a, ru->san_pattern);
	return exec_in(c, "INSERT INTO account_rules (account_id, cn_pattern, "
	    "san_pattern) VALUES (?, ?, ?) ON CONFLICT (account_id) DO UPDATE "
	    "SET cn_pattern = excluded.cn_pattern, "
	    "san_pattern = excluded.san_pattern", &a, NULL);
}

static int
sqa_account_create(void *be, struct store_account *acct,
    const struct store_account_rules *ru)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	struct store_account row = *acct;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = sq_account_insert_in(c, &row)) == SCEP_OK)
		r = rules_put(c, row.id, ru);
	if ((r = sq_tx_end(sq, c, r)) == SCEP_OK)
		acct->id = row.id;
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sqa_account_save(void *be, const struct store_account *acct,
    const struct store_account_rules *ru)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = sq_account_update_in(c, acct)) == SCEP_OK)
		r = rules_put(c, acct->id, ru);
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
rules_row(sqlite3_stmt *st, void *out)
{
	struct store_account_rules *ru = out;
	struct col cl = { st, 0, SCEP_OK };

	sq_c_text(&cl, ru->cn_pattern, sizeof(ru->cn_pattern));
	sq_c_text(&cl, ru->san_pattern, sizeof(ru->san_pattern));
	return cl.r;
}

static int
sqa_account_rules_get(void *be, int64_t id, struct store_account_rules *out)
{
	struct args a = { 0 };
	int r;

	a_i(&a, id);
	r = read_rows(be, "SELECT cn_pattern, san_pattern FROM account_rules "
	    "WHERE account_id = ?", &a, rules_row, out, 0, 0, NULL);
	out->account_id = id;
	return r == SCEP_E_NOTFOUND ? SCEP_OK : r;	/* no rules: any */
}

/* ---- one-time challenges ---- */

#define OTC_COLS	"id, account_id, created_at, expires_at, used_at"

static int
otc_row(sqlite3_stmt *st, void *out)
{
	struct store_otc *o = out;
	struct col cl = { st, 0, SCEP_OK };

	o->id = sq_c_i64(&cl);
	o->account_id = sq_c_i64(&cl);
	o->created_at = sq_c_i64(&cl);
	o->expires_at = sq_c_i64(&cl);
	o->used_at = sq_c_i64(&cl);
	return cl.r;
}

static int
sqa_otc_insert(void *be, struct store_otc *o,
    const uint8_t hash[STORE_HASH_LEN])
{
	struct args a = { 0 };

	a_i(&a, o->account_id);
	a_h(&a, hash);
	a_i(&a, o->created_at);
	a_i(&a, o->expires_at);
	return write_one(be, "INSERT INTO one_time_challenges (account_id, "
	    "challenge_hash, created_at, expires_at) VALUES (?, ?, ?, ?)", &a,
	    0, NULL, &o->id);
}

static int
sqa_otc_list(void *be, int64_t account_id, struct store_otc *out, size_t max,
    size_t *n)
{
	struct args a = { 0 };

	a_i(&a, account_id);
	a_i(&a, lim(max));
	return read_rows(be, "SELECT " OTC_COLS " FROM one_time_challenges "
	    "WHERE account_id = ? ORDER BY id DESC LIMIT ?", &a, otc_row, out,
	    sizeof(*out), max, n);
}

static int
sqa_otc_find(void *be, const uint8_t hash[STORE_HASH_LEN], int64_t now,
    struct store_otc *out)
{
	struct args a = { 0 };

	a_h(&a, hash);
	a_i(&a, now);
	return read_rows(be, "SELECT " OTC_COLS " FROM one_time_challenges "
	    "WHERE challenge_hash = ? AND used_at = 0 AND expires_at > ?", &a,
	    otc_row, out, 0, 0, NULL);
}

static int
sqa_otc_consume(void *be, int64_t id, int64_t now)
{
	struct args a = { 0 };
	int64_t n = 0;
	int r;

	/* One UPDATE that checks and marks: two concurrent uses cannot
	 * both see it unused. */
	a_i(&a, now);
	a_i(&a, id);
	a_i(&a, now);
	if ((r = write_one(be, "UPDATE one_time_challenges SET used_at = ? "
	    "WHERE id = ? AND used_at = 0 AND expires_at > ?", &a, 0, &n,
	    NULL)) != SCEP_OK)
		return r;
	return n == 1 ? SCEP_OK : SCEP_E_NOTFOUND;
}

/* ---- CAs and RAs ---- */

static int
ca_row(sqlite3_stmt *st, void *out)
{
	struct store_ca *o = out;
	struct col cl = { st, 0, SCEP_OK };

	o->id = sq_c_i64(&cl);
	sq_c_text(&cl, o->name, sizeof(o->name));
	sq_c_text(&cl, o->key_path, sizeof(o->key_path));
	sq_c_blob_dup(&cl, &o->cert_der, &o->cert_len);
	o->created_at = sq_c_i64(&cl);
	return cl.r;
}

static int
sqa_ca_list(void *be, struct store_ca *out, size_t max, size_t *n)
{
	struct args a = { 0 };

	a_i(&a, lim(max));
	return read_rows(be, "SELECT id, name, key_path, cert_der, created_at "
	    "FROM cas ORDER BY id LIMIT ?", &a, ca_row, out, sizeof(*out), max,
	    n);
}

static int
sqa_ra_switch(void *be, int64_t old_id, int64_t next_id)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	struct args a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
	int64_t n = 0;
	int r;

	a_i(&a1, next_id);
	a_i(&a1, old_id);
	a_i(&a2, old_id);
	a_i(&a3, next_id);
	a_i(&a3, old_id);
	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	/* The successor must be staged and belong to the same CA. */
	if ((r = exec_in(c, "UPDATE ras SET state = 1 WHERE id = ?1 AND "
	    "state = 2 AND ca_id = (SELECT ca_id FROM ras WHERE id = ?2)",
	    &a1, &n)) != SCEP_OK)
		goto end;
	if (n != 1) {
		r = SCEP_E_NOTFOUND;
		goto end;
	}
	if ((r = exec_in(c, "UPDATE ras SET state = 3 WHERE id = ? AND "
	    "state = 1", &a2, &n)) != SCEP_OK)
		goto end;
	if (n != 1) {
		r = SCEP_E_NOTFOUND;
		goto end;
	}
	if ((r = exec_in(c, "UPDATE endpoints SET ra_id = ?1 "
	    "WHERE ra_id = ?2", &a3, NULL)) != SCEP_OK)
		goto end;
	r = sq_config_bump(c);
 end:
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

/* ---- searches ---- */

static int
sqa_cert_search(void *be, const struct store_cert_filter *f,
    struct store_cert *out, size_t max, size_t *n, int64_t *cursor)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	*cursor = f->after;
	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	/* The row id comes last, after CERT_COLS (read by sq_cert_row). */
	if ((r = prep(c, "SELECT " CERT_COLS ", id FROM certs WHERE id > ?1 "
	    "AND (?2 = 0 OR endpoint_id = ?2) AND (?3 = 0 OR account_id = ?3) "
	    "AND (?4 = 0 OR org_id = ?4) AND (?5 = 0 OR dept_id = ?5) "
	    "AND (?6 = '' OR instr(subject, ?6) > 0) "
	    "AND (?7 = '' OR serial = ?7) AND (?8 = 0 OR status = ?8) "
	    "AND (?9 = 0 OR not_after >= ?9) "
	    "AND (?10 = 0 OR not_after < ?10) ORDER BY id LIMIT ?11", &st)) !=
	    SCEP_OK)
		goto out;
	b.st = st;
	sq_b_i64(&b, f->after);
	sq_b_i64(&b, f->endpoint_id);
	sq_b_i64(&b, f->account_id);
	sq_b_i64(&b, f->org_id);
	sq_b_i64(&b, f->dept_id);
	sq_b_text(&b, f->subject);
	sq_b_text(&b, f->serial);
	sq_b_i64(&b, f->status);
	sq_b_i64(&b, f->expires_after);
	sq_b_i64(&b, f->expires_before);
	sq_b_i64(&b, lim(max));
	if ((r = sq_b_end(&b)) != SCEP_OK)
		goto out;
	while (*n < max && (r = sq_step_row(st)) == SCEP_OK) {
		struct store_cert *x = &out[(*n)++];

		if ((r = sq_cert_row(st, x)) != SCEP_OK)
			goto out;
		*cursor = sqlite3_column_int64(st, 16);
		if (!f->with_der) {
			free(x->der);
			x->der = NULL;
			x->der_len = 0;
		}
	}
	if (r == SCEP_E_NOTFOUND || *n == max)
		r = SCEP_OK;
 out:
	sqlite3_finalize(st);
	sq_conn_put(sq, c);
	return r;
}

static int
ev_row(sqlite3_stmt *st, void *out)
{
	return sq_event_row(st, out);
}

static int
sqa_event_search(void *be, const struct store_event_filter *f,
    struct store_event *out, size_t max, size_t *n)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	/* action: exact, or a prefix when the filter ends with '.'. */
	if ((r = prep(c, "SELECT " EV_COLS " FROM events WHERE id > ?1 "
	    "AND (?2 = 0 OR ts >= ?2) AND (?3 = 0 OR ts < ?3) "
	    "AND (?4 = 0 OR endpoint_id = ?4) "
	    "AND (?5 = 0 OR account_id = ?5) AND (?6 = '' OR kind = ?6) "
	    "AND (?7 = '' OR actor = ?7) AND (?8 = '' OR action = ?8 OR "
	    "(substr(?8, -1) = '.' AND substr(action, 1, length(?8)) = ?8)) "
	    "AND (?9 = '' OR result = ?9) ORDER BY id LIMIT ?10", &st)) !=
	    SCEP_OK)
		goto out;
	b.st = st;
	sq_b_i64(&b, f->after);
	sq_b_i64(&b, f->since);
	sq_b_i64(&b, f->until);
	sq_b_i64(&b, f->endpoint_id);
	sq_b_i64(&b, f->account_id);
	sq_b_text(&b, f->kind);
	sq_b_text(&b, f->actor);
	sq_b_text(&b, f->action);
	sq_b_text(&b, f->result);
	sq_b_i64(&b, lim(max));
	if ((r = sq_b_end(&b)) != SCEP_OK)
		goto out;
	while (*n < max && (r = sq_step_row(st)) == SCEP_OK)
		if ((r = ev_row(st, &out[(*n)++])) != SCEP_OK)
			goto out;
	if (r == SCEP_E_NOTFOUND || *n == max)
		r = SCEP_OK;
 out:
	sqlite3_finalize(st);
	sq_conn_put(sq, c);
	return r;
}

static int
sqa_event_count(void *be, int64_t *count)
{
	struct args a = { 0 };

	return read_i64(be, "SELECT COUNT(*) FROM events", &a, count);
}

const struct store_admin_ops store_sqlite_admin_ops = {
	.org_insert = sqa_org_insert,
	.org_update = sqa_org_update,
	.org_get = sqa_org_get,
	.org_delete = sqa_org_delete,
	.org_list = sqa_org_list,
	.dept_insert = sqa_dept_insert,
	.dept_update = sqa_dept_update,
	.dept_get = sqa_dept_get,
	.dept_delete = sqa_dept_delete,
	.dept_list = sqa_dept_list,
	.admin_insert = sqa_admin_insert,
	.admin_update = sqa_admin_update,
	.admin_get = sqa_admin_get,
	.admin_by_name = sqa_admin_by_name,
	.admin_list = sqa_admin_list,
	.admin_delete = sqa_admin_delete,
	.token_add = sqa_token_add,
	.token_by_hash = sqa_token_by_hash,
	.token_get = sqa_token_get,
	.token_list = sqa_token_list,
	.token_revoke = sqa_token_revoke,
	.token_touch = sqa_token_touch,
	.session_insert = sqa_session_insert,
	.session_get = sqa_session_get,
	.session_delete = sqa_session_delete,
	.session_delete_admin = sqa_session_delete_admin,
	.session_expire = sqa_session_expire,
	.login_fail = sqa_login_fail,
	.login_failures = sqa_login_failures,
	.login_clear = sqa_login_clear,
	.endpoint_list = sqa_endpoint_list,
	.endpoint_create = sqa_endpoint_create,
	.endpoint_save = sqa_endpoint_save,
	.endpoint_targets = sqa_endpoint_targets,
	.account_list = sqa_account_list,
	.account_create = sqa_account_create,
	.account_save = sqa_account_save,
	.account_rules_get = sqa_account_rules_get,
	.otc_insert = sqa_otc_insert,
	.otc_list = sqa_otc_list,
	.otc_find = sqa_otc_find,
	.otc_consume = sqa_otc_consume,
	.ca_list = sqa_ca_list,
	.ra_switch = sqa_ra_switch,
	.cert_search = sqa_cert_search,
	.event_search = sqa_event_search,
	.event_count = sqa_event_count,
};
