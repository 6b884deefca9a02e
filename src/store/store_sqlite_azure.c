/*
 * store_sqlite_azure.c -- the SQLite backend of store_azure.h: Azure
 * accounts, their delegation targets, and the Intune settings of
 * endpoints (issue 5).
 *
 * Same rules as the rest of the backend (store_sqlite_int.h): constant
 * SQL only, one write transaction per function that writes (which also
 * moves the configuration version), the store's error vocabulary.  These
 * are administrative statements, prepared per call.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "scep_err.h"
#include "store_azure.h"
#include "store_azure_int.h"
#include "store_sqlite_int.h"

#define AZ_COLS	"id, name, environment, tenant_id, client_id, secret_sealed, " \
	"authority_url, graph_url, intune_resource_url, intune_app_id, " \
	"graph_scope, intune_scope, proxy, proxy_user, " \
	"proxy_password_sealed, ca_bundle_path, revocation_poll, " \
	"delegation_general, created_at, updated_at, deleted_at"
#define IE_COLS	"endpoint_id, azure_account_id, wait_success, " \
	"ca_configuration, issuing_ca"

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

/* A blob where absent (len 0) binds NULL. */
static void
b_blob_opt(struct bind *b, const uint8_t *p, size_t len)
{
	if (b->rc != SQLITE_OK)
		return;
	if (len == 0)
		b->rc = sqlite3_bind_null(b->st, ++b->i);
	else
		sq_b_blob(b, p, len);
}

static int
account_row(sqlite3_stmt *st, struct store_azure_account *a)
{
	struct col c = { st, 0, SCEP_OK };

	a->id = sq_c_i64(&c);
	sq_c_text(&c, a->name, sizeof(a->name));
	a->environment = sq_c_int(&c);
	sq_c_text(&c, a->tenant_id, sizeof(a->tenant_id));
	sq_c_text(&c, a->client_id, sizeof(a->client_id));
	sq_c_blob_dup(&c, &a->secret, &a->secret_len);
	sq_c_text(&c, a->authority_url, sizeof(a->authority_url));
	sq_c_text(&c, a->graph_url, sizeof(a->graph_url));
	sq_c_text(&c, a->intune_resource_url, sizeof(a->intune_resource_url));
	sq_c_text(&c, a->intune_app_id, sizeof(a->intune_app_id));
	sq_c_text(&c, a->graph_scope, sizeof(a->graph_scope));
	sq_c_text(&c, a->intune_scope, sizeof(a->intune_scope));
	sq_c_text(&c, a->proxy, sizeof(a->proxy));
	sq_c_text(&c, a->proxy_user, sizeof(a->proxy_user));
	sq_c_blob_dup(&c, &a->proxy_password, &a->proxy_password_len);
	sq_c_text(&c, a->ca_bundle_path, sizeof(a->ca_bundle_path));
	a->revocation_poll = sq_c_int(&c);
	a->delegation_general = sq_c_int(&c);
	a->created_at = sq_c_i64(&c);
	a->updated_at = sq_c_i64(&c);
	a->deleted_at = sq_c_i64(&c);
	return c.r;
}

static int
ep_row(sqlite3_stmt *st, struct store_intune_ep *e)
{
	struct col c = { st, 0, SCEP_OK };

	e->endpoint_id = sq_c_i64(&c);
	e->azure_account_id = sq_c_i64(&c);
	e->wait_success = sq_c_int(&c);
	sq_c_text(&c, e->ca_configuration, sizeof(e->ca_configuration));
	sq_c_text(&c, e->issuing_ca, sizeof(e->issuing_ca));
	return c.r;
}

/* The account's columns after the id, in AZ_COLS order, up to and
 * without created_at (17 of them). */
static void
bind_account(struct bind *b, const struct store_azure_account *a)
{
	sq_b_text(b, a->name);
	sq_b_i64(b, a->environment);
	sq_b_text(b, a->tenant_id);
	sq_b_text(b, a->client_id);
	sq_b_blob(b, a->secret, a->secret_len);
	sq_b_text(b, a->authority_url);
	sq_b_text(b, a->graph_url);
	sq_b_text(b, a->intune_resource_url);
	sq_b_text(b, a->intune_app_id);
	sq_b_text(b, a->graph_scope);
	sq_b_text(b, a->intune_scope);
	sq_b_text(b, a->proxy);
	sq_b_text(b, a->proxy_user);
	b_blob_opt(b, a->proxy_password, a->proxy_password_len);
	sq_b_text(b, a->ca_bundle_path);
	sq_b_i64(b, a->revocation_poll != 0);
	sq_b_i64(b, a->delegation_general != 0);
}

/* Replace the delegation targets of account "id", inside the caller's
 * transaction. */
static int
targets_in(struct sq_conn *c, int64_t id, const struct store_orgref *t,
    size_t nt)
{
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	size_t i;
	int r;

	if ((r = prep(c, "DELETE FROM azure_account_delegations "
	    "WHERE account_id = ?1", &st)) != SCEP_OK)
		return r;
	b.st = st;
	sq_b_i64(&b, id);
	r = sq_exec_changes(c, st, &b, NULL);
	sqlite3_finalize(st);
	st = NULL;
	if (r != SCEP_OK || nt == 0)
		return r;
	if ((r = prep(c, "INSERT INTO azure_account_delegations (account_id, "
	    "org_id, dept_id) VALUES (?1, ?2, ?3)", &st)) != SCEP_OK)
		return r;
	for (i = 0; i < nt && r == SCEP_OK; i++) {
		b.st = st;
		b.i = 0;
		b.rc = SQLITE_OK;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		sq_b_i64(&b, id);
		sq_b_i64(&b, t[i].org_id);
		sq_b_ref(&b, t[i].dept_id);
		r = sq_exec_changes(c, st, &b, NULL);
	}
	sqlite3_finalize(st);
	return r;
}

static int
sqz_account_insert(void *be, struct store_azure_account *a,
    const struct store_orgref *t, size_t nt)
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
	if ((r = prep(c, "INSERT INTO azure_accounts (name, environment, "
	    "tenant_id, client_id, secret_sealed, authority_url, graph_url, "
	    "intune_resource_url, intune_app_id, graph_scope, intune_scope, "
	    "proxy, proxy_user, proxy_password_sealed, ca_bundle_path, "
	    "revocation_poll, delegation_general, created_at, updated_at, "
	    "deleted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
	    "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, 0)", &st)) ==
	    SCEP_OK) {
		b.st = st;
		bind_account(&b, a);
		sq_b_i64(&b, a->created_at);
		sq_b_i64(&b, a->updated_at);
		if ((r = sq_exec_changes(c, st, &b, NULL)) == SCEP_OK)
			id = sqlite3_last_insert_rowid(sq_conn_db(c));
	}
	sqlite3_finalize(st);
	if (r == SCEP_OK)
		r = targets_in(c, id, t, nt);
	if (r == SCEP_OK)
		r = sq_config_bump(c);
	if ((r = sq_tx_end(sq, c, r)) == SCEP_OK)
		a->id = id;
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sqz_account_update(void *be, const struct store_azure_account *a,
    const struct store_orgref *t, size_t nt)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int64_t changes = 0;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	if ((r = prep(c, "UPDATE azure_accounts SET name = ?2, "
	    "environment = ?3, tenant_id = ?4, client_id = ?5, "
	    "secret_sealed = ?6, authority_url = ?7, graph_url = ?8, "
	    "intune_resource_url = ?9, intune_app_id = ?10, "
	    "graph_scope = ?11, intune_scope = ?12, proxy = ?13, "
	    "proxy_user = ?14, proxy_password_sealed = ?15, "
	    "ca_bundle_path = ?16, revocation_poll = ?17, "
	    "delegation_general = ?18, updated_at = ?19 "
	    "WHERE id = ?1 AND deleted_at = 0", &st)) ==
	    SCEP_OK) {
		b.st = st;
		sq_b_i64(&b, a->id);
		bind_account(&b, a);
		sq_b_i64(&b, a->updated_at);
		r = sq_exec_changes(c, st, &b, &changes);
		if (r == SCEP_OK && changes != 1)
			r = SCEP_E_NOTFOUND;
	}
	sqlite3_finalize(st);
	if (r == SCEP_OK)
		r = targets_in(c, a->id, t, nt);
	if (r == SCEP_OK)
		r = sq_config_bump(c);
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

/*
 * Read rows of "sql" (one integer parameter, and a LIMIT as ?2 when n is
 * not NULL).  n NULL: exactly one row (SCEP_E_NOTFOUND when none).
 */
static int
read_rows(void *be, const char *sql, int64_t arg,
    int (*fn)(sqlite3_stmt *, void *), void *out, size_t elemsz, size_t max,
    size_t *n)
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
	sq_b_i64(&b, arg);
	if (n != NULL)
		sq_b_i64(&b, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	if ((r = sq_b_end(&b)) != SCEP_OK)
		goto out;
	if (n == NULL) {
		if ((r = sq_step_row(st)) == SCEP_OK)
			r = fn(st, out);
		goto out;
	}
	while (*n < max && (r = sq_step_row(st)) == SCEP_OK) {
		r = fn(st, (char *)out + *n * elemsz);
		(*n)++;		/* the caller clears every one of the *n */
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

static int
account_row_v(sqlite3_stmt *st, void *out)
{
	return account_row(st, out);
}

static int
ep_row_v(sqlite3_stmt *st, void *out)
{
	return ep_row(st, out);
}

static int
ref_row_v(sqlite3_stmt *st, void *out)
{
	struct store_orgref *o = out;
	struct col c = { st, 0, SCEP_OK };

	o->org_id = sq_c_i64(&c);
	o->dept_id = sq_c_i64(&c);		/* NULL reads 0 */
	return c.r;
}

static int
sqz_account_get(void *be, int64_t id, struct store_azure_account *out)
{
	return read_rows(be, "SELECT " AZ_COLS " FROM azure_accounts "
	    "WHERE id = ?1", id, account_row_v, out, 0, 0, NULL);
}

static int
sqz_account_list(void *be, struct store_azure_account *out, size_t max,
    size_t *n)
{
	/* ?1 is a dummy so that read_rows binds the LIMIT as ?2. */
	return read_rows(be, "SELECT " AZ_COLS " FROM azure_accounts "
	    "WHERE deleted_at = 0 AND ?1 = 0 ORDER BY id LIMIT ?2", 0,
	    account_row_v, out, sizeof(*out), max, n);
}

static int
sqz_account_targets(void *be, int64_t id, struct store_orgref *out,
    size_t max, size_t *n)
{
	return read_rows(be, "SELECT org_id, dept_id FROM "
	    "azure_account_delegations WHERE account_id = ?1 ORDER BY id "
	    "LIMIT ?2", id, ref_row_v, out, sizeof(*out), max, n);
}

/* One statement with one or two integer parameters, inside the caller's
 * transaction; *changes may be NULL. */
static int
exec2_in(struct sq_conn *c, const char *sql, int64_t a, int64_t b2,
    int nparams, int64_t *changes)
{
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = prep(c, sql, &st)) != SCEP_OK)
		return r;
	b.st = st;
	sq_b_i64(&b, a);
	if (nparams > 1)
		sq_b_i64(&b, b2);
	r = sq_exec_changes(c, st, &b, changes);
	sqlite3_finalize(st);
	return r;
}

/* Does "sql" (one integer parameter) find a row?  1, 0, or < 0. */
static int
exists_in(struct sq_conn *c, const char *sql, int64_t a)
{
	sqlite3_stmt *st = NULL;
	struct bind b = { NULL, 0, SQLITE_OK };
	int r;

	if ((r = prep(c, sql, &st)) != SCEP_OK)
		return r;
	b.st = st;
	sq_b_i64(&b, a);
	if ((r = sq_b_end(&b)) == SCEP_OK)
		r = sq_step_row(st);
	sqlite3_finalize(st);
	if (r == SCEP_OK)
		return 1;
	return r == SCEP_E_NOTFOUND ? 0 : r;
}

static int
sqz_account_delete(void *be, int64_t id, int64_t now)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	int64_t changes = 0;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	r = exists_in(c, "SELECT 1 FROM intune_endpoints ie JOIN endpoints e "
	    "ON e.id = ie.endpoint_id WHERE ie.azure_account_id = ?1 AND "
	    "e.deleted_at = 0 LIMIT 1", id);
	if (r == 1)
		r = SCEP_E_DENIED;
	else if (r == 0) {
		r = exec2_in(c, "UPDATE azure_accounts SET deleted_at = ?2 "
		    "WHERE id = ?1 AND deleted_at = 0", id, now, 2, &changes);
		if (r == SCEP_OK && changes != 1)
			r = SCEP_E_NOTFOUND;
	}
	if (r == SCEP_OK)
		r = sq_config_bump(c);
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sqz_ep_set(void *be, const struct store_intune_ep *e)
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
	r = exists_in(c, "SELECT 1 FROM azure_accounts WHERE id = ?1 AND "
	    "deleted_at = 0", e->azure_account_id);
	if (r == 0)
		r = SCEP_E_NOTFOUND;
	else if (r == 1 && (r = prep(c, "INSERT INTO intune_endpoints ("
	    IE_COLS ") VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (endpoint_id) "
	    "DO UPDATE SET azure_account_id = excluded.azure_account_id, "
	    "wait_success = excluded.wait_success, ca_configuration = "
	    "excluded.ca_configuration, issuing_ca = excluded.issuing_ca",
	    &st)) == SCEP_OK) {
		b.st = st;
		sq_b_i64(&b, e->endpoint_id);
		sq_b_i64(&b, e->azure_account_id);
		sq_b_i64(&b, e->wait_success);
		sq_b_text(&b, e->ca_configuration);
		sq_b_text(&b, e->issuing_ca);
		r = sq_exec_changes(c, st, &b, NULL);
	}
	sqlite3_finalize(st);
	if (r == SCEP_OK)
		r = sq_config_bump(c);
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

static int
sqz_ep_get(void *be, int64_t endpoint_id, struct store_intune_ep *out)
{
	return read_rows(be, "SELECT " IE_COLS " FROM intune_endpoints "
	    "WHERE endpoint_id = ?1", endpoint_id, ep_row_v, out, 0, 0, NULL);
}

static int
sqz_ep_list(void *be, struct store_intune_ep *out, size_t max, size_t *n)
{
	return read_rows(be, "SELECT ie.endpoint_id, ie.azure_account_id, "
	    "ie.wait_success, ie.ca_configuration, ie.issuing_ca FROM "
	    "intune_endpoints ie JOIN endpoints e ON e.id = ie.endpoint_id "
	    "WHERE e.deleted_at = 0 AND ?1 = 0 ORDER BY ie.endpoint_id "
	    "LIMIT ?2", 0, ep_row_v, out, sizeof(*out), max, n);
}

static int
sqz_ep_delete(void *be, int64_t endpoint_id)
{
	struct sq *sq = be;
	struct sq_conn *c = NULL;
	int64_t changes = 0;
	int r;

	if ((r = sq_conn_get(sq, &c)) != SCEP_OK)
		return r;
	if ((r = sq_tx_begin(sq, c)) != SCEP_OK)
		goto out;
	r = exec2_in(c, "DELETE FROM intune_endpoints WHERE endpoint_id = ?1",
	    endpoint_id, 0, 1, &changes);
	if (r == SCEP_OK && changes != 1)
		r = SCEP_E_NOTFOUND;
	if (r == SCEP_OK)
		r = sq_config_bump(c);
	r = sq_tx_end(sq, c, r);
 out:
	sq_conn_put(sq, c);
	return r;
}

const struct store_azure_ops store_sqlite_azure_ops = {
	.account_insert = sqz_account_insert,
	.account_update = sqz_account_update,
	.account_get = sqz_account_get,
	.account_list = sqz_account_list,
	.account_targets = sqz_account_targets,
	.account_delete = sqz_account_delete,
	.ep_set = sqz_ep_set,
	.ep_get = sqz_ep_get,
	.ep_list = sqz_ep_list,
	.ep_delete = sqz_ep_delete,
};
