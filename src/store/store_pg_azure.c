/*
 * store_pg_azure.c -- the PostgreSQL backend of store_azure.h: the twin
 * of store_sqlite_azure.c (Azure accounts, their delegation targets, the
 * Intune settings of endpoints; issue 5).
 *
 * Same rules as store_pg.c (see there and store_pg_int.h): constant SQL
 * only, prepared once per connection and cached (slots PG_SLOT_AZURE and
 * up), one transaction per function that writes (with the configuration
 * bump), the store's error vocabulary.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "scep_err.h"
#include "store_azure.h"
#include "store_azure_int.h"
#include "store_pg_int.h"

#define AZ_COLS	"id, name, environment, tenant_id, client_id, secret_sealed, " \
	"authority_url, graph_url, intune_resource_url, intune_app_id, " \
	"graph_scope, intune_scope, proxy, proxy_user, " \
	"proxy_password_sealed, ca_bundle_path, revocation_poll, " \
	"delegation_general, created_at, updated_at, deleted_at"
#define IE_COLS	"endpoint_id, azure_account_id, wait_success, " \
	"ca_configuration, issuing_ca"

enum pgz_stmt_id {
	ZS_ACC_INS = PG_SLOT_AZURE, ZS_ACC_UPD, ZS_ACC_GET, ZS_ACC_LIST,
	ZS_TGT_DEL, ZS_TGT_INS, ZS_TGT_LIST, ZS_ACC_INUSE, ZS_ACC_DEL,
	ZS_ACC_LIVE, ZS_EP_PUT, ZS_EP_GET, ZS_EP_LIST, ZS_EP_DEL,
	ZS__END
};
_Static_assert(ZS__END <= PG_SLOTS, "statement slots overflow");

static const char *const stmt_sql[ZS__END - PG_SLOT_AZURE] = {
#define X(id)	[(id) - PG_SLOT_AZURE]
	X(ZS_ACC_INS) = "INSERT INTO azure_accounts (name, environment, "
	    "tenant_id, client_id, secret_sealed, authority_url, graph_url, "
	    "intune_resource_url, intune_app_id, graph_scope, intune_scope, "
	    "proxy, proxy_user, proxy_password_sealed, ca_bundle_path, "
	    "revocation_poll, delegation_general, created_at, updated_at, "
	    "deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
	    "$11, $12, $13, $14, $15, $16, $17, $18, $19, 0) RETURNING id",
	X(ZS_ACC_UPD) = "UPDATE azure_accounts SET name = $1, "
	    "environment = $2, tenant_id = $3, client_id = $4, "
	    "secret_sealed = $5, authority_url = $6, graph_url = $7, "
	    "intune_resource_url = $8, intune_app_id = $9, "
	    "graph_scope = $10, intune_scope = $11, proxy = $12, "
	    "proxy_user = $13, proxy_password_sealed = $14, "
	    "ca_bundle_path = $15, revocation_poll = $16, "
	    "delegation_general = $17, updated_at = $18 "
	    "WHERE id = $19 AND deleted_at = 0",
	X(ZS_ACC_GET) = "SELECT " AZ_COLS " FROM azure_accounts "
	    "WHERE id = $1",
	X(ZS_ACC_LIST) = "SELECT " AZ_COLS " FROM azure_accounts "
	    "WHERE deleted_at = 0 ORDER BY id LIMIT $1",
	X(ZS_TGT_DEL) = "DELETE FROM azure_account_delegations "
	    "WHERE account_id = $1",
	X(ZS_TGT_INS) = "INSERT INTO azure_account_delegations (account_id, "
	    "org_id, dept_id) VALUES ($1, $2, $3)",
	X(ZS_TGT_LIST) = "SELECT org_id, dept_id FROM "
	    "azure_account_delegations WHERE account_id = $1 ORDER BY id "
	    "LIMIT $2",
	X(ZS_ACC_INUSE) = "SELECT 1 FROM intune_endpoints ie JOIN endpoints e "
	    "ON e.id = ie.endpoint_id WHERE ie.azure_account_id = $1 AND "
	    "e.deleted_at = 0 LIMIT 1",
	X(ZS_ACC_DEL) = "UPDATE azure_accounts SET deleted_at = $2 "
	    "WHERE id = $1 AND deleted_at = 0",
	X(ZS_ACC_LIVE) = "SELECT 1 FROM azure_accounts WHERE id = $1 AND "
	    "deleted_at = 0",
	X(ZS_EP_PUT) = "INSERT INTO intune_endpoints (" IE_COLS ") VALUES "
	    "($1, $2, $3, $4, $5) ON CONFLICT (endpoint_id) DO UPDATE SET "
	    "azure_account_id = excluded.azure_account_id, wait_success = "
	    "excluded.wait_success, ca_configuration = "
	    "excluded.ca_configuration, issuing_ca = excluded.issuing_ca",
	X(ZS_EP_GET) = "SELECT " IE_COLS " FROM intune_endpoints "
	    "WHERE endpoint_id = $1",
	X(ZS_EP_LIST) = "SELECT ie.endpoint_id, ie.azure_account_id, "
	    "ie.wait_success, ie.ca_configuration, ie.issuing_ca FROM "
	    "intune_endpoints ie JOIN endpoints e ON e.id = ie.endpoint_id "
	    "WHERE e.deleted_at = 0 ORDER BY ie.endpoint_id LIMIT $1",
	X(ZS_EP_DEL) = "DELETE FROM intune_endpoints WHERE endpoint_id = $1",
#undef X
};

#define Z(id)	(&(const struct pg_stmt){ (id),				\
	stmt_sql[(id) - PG_SLOT_AZURE] })

static int64_t
lim(size_t max)
{
	return max > INT64_MAX ? INT64_MAX : (int64_t)max;
}

static int
account_row(const PGresult *res, int row, void *out)
{
	struct store_azure_account *a = out;
	struct pg_col c;

	pg_col_init(&c, res, row);
	a->id = c_i64(&c);
	c_text(&c, a->name, sizeof(a->name));
	a->environment = c_int(&c);
	c_text(&c, a->tenant_id, sizeof(a->tenant_id));
	c_text(&c, a->client_id, sizeof(a->client_id));
	c_blob_dup(&c, &a->secret, &a->secret_len);
	c_text(&c, a->authority_url, sizeof(a->authority_url));
	c_text(&c, a->graph_url, sizeof(a->graph_url));
	c_text(&c, a->intune_resource_url, sizeof(a->intune_resource_url));
	c_text(&c, a->intune_app_id, sizeof(a->intune_app_id));
	c_text(&c, a->graph_scope, sizeof(a->graph_scope));
	c_text(&c, a->intune_scope, sizeof(a->intune_scope));
	c_text(&c, a->proxy, sizeof(a->proxy));
	c_text(&c, a->proxy_user, sizeof(a->proxy_user));
	c_blob_dup(&c, &a->proxy_password, &a->proxy_password_len);
	c_text(&c, a->ca_bundle_path, sizeof(a->ca_bundle_path));
	a->revocation_poll = c_int(&c);
	a->delegation_general = c_int(&c);
	a->created_at = c_i64(&c);
	a->updated_at = c_i64(&c);
	a->deleted_at = c_i64(&c);
	return c.r;
}

static int
ep_row(const PGresult *res, int row, void *out)
{
	struct store_intune_ep *e = out;
	struct pg_col c;

	pg_col_init(&c, res, row);
	e->endpoint_id = c_i64(&c);
	e->azure_account_id = c_i64(&c);
	e->wait_success = c_int(&c);
	c_text(&c, e->ca_configuration, sizeof(e->ca_configuration));
	c_text(&c, e->issuing_ca, sizeof(e->issuing_ca));
	return c.r;
}

static int
ref_row(const PGresult *res, int row, void *out)
{
	struct store_orgref *o = out;
	struct pg_col c;

	pg_col_init(&c, res, row);
	o->org_id = c_i64(&c);
	o->dept_id = c_i64(&c);		/* NULL reads 0 */
	return c.r;
}

/* Read rows (see store_pg_admin.c's read_rows: the same contract). */
static int
read_rows(void *be, const struct pg_stmt *st, const struct pg_params *p,
    int (*fn)(const PGresult *, int, void *), void *out, size_t elemsz,
    size_t max, size_t *n)
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
		(*n)++;
		if ((r = fn(res, i, (char *)out + (*n - 1) * elemsz)) !=
		    SCEP_OK)
			goto out;
	}
 out:
	PQclear(res);
	pg_conn_put(pg, c);
	return r;
}

/* The account's columns in the order of ZS_ACC_INS / ZS_ACC_UPD ($1 ..
 * $17). */
static void
params_account(struct pg_params *p, const struct store_azure_account *a)
{
	p_text(p, a->name);
	p_i64(p, a->environment);
	p_text(p, a->tenant_id);
	p_text(p, a->client_id);
	p_blob(p, a->secret, a->secret_len);
	p_text(p, a->authority_url);
	p_text(p, a->graph_url);
	p_text(p, a->intune_resource_url);
	p_text(p, a->intune_app_id);
	p_text(p, a->graph_scope);
	p_text(p, a->intune_scope);
	p_text(p, a->proxy);
	p_text(p, a->proxy_user);
	p_blob_opt(p, a->proxy_password, a->proxy_password_len);
	p_text(p, a->ca_bundle_path);
	p_i64(p, a->revocation_poll != 0);
	p_i64(p, a->delegation_general != 0);
}

static int
targets_in(struct pg_conn *c, int64_t id, const struct store_orgref *t,
    size_t nt)
{
	struct pg_params p;
	size_t i;
	int r;

	pg_params_init(&p);
	p_i64(&p, id);
	if ((r = pg_exec_cmd(c, Z(ZS_TGT_DEL), &p, NULL)) != SCEP_OK)
		return r;
	for (i = 0; i < nt && r == SCEP_OK; i++) {
		pg_params_init(&p);
		p_i64(&p, id);
		p_i64(&p, t[i].org_id);
		p_ref(&p, t[i].dept_id);
		r = pg_exec_cmd(c, Z(ZS_TGT_INS), &p, NULL);
	}
	return r;
}

static int
pgz_account_insert(void *be, struct store_azure_account *a,
    const struct store_orgref *t, size_t nt)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	struct pg_col cl;
	PGresult *res = NULL;
	int64_t id = 0;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	pg_params_init(&p);
	params_account(&p, a);
	p_i64(&p, a->created_at);
	p_i64(&p, a->updated_at);
	/* Not pg_exec_row: its SCEP_E_NOTFOUND would hide a foreign key
	 * error; RETURNING always gives the row. */
	if ((r = pg_exec(c, Z(ZS_ACC_INS), &p, &res)) == SCEP_OK) {
		if (PQntuples(res) != 1)
			r = SCEP_E_STORE;
		else {
			pg_col_init(&cl, res, 0);
			id = c_i64(&cl);
			r = cl.r;
		}
	}
	PQclear(res);
	if (r == SCEP_OK)
		r = targets_in(c, id, t, nt);
	if (r == SCEP_OK)
		r = pg_config_bump(c);
	if ((r = pg_tx_end(c, r)) == SCEP_OK)
		a->id = id;
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pgz_account_update(void *be, const struct store_azure_account *a,
    const struct store_orgref *t, size_t nt)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	int64_t changes = 0;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	pg_params_init(&p);
	params_account(&p, a);
	p_i64(&p, a->updated_at);
	p_i64(&p, a->id);
	r = pg_exec_cmd(c, Z(ZS_ACC_UPD), &p, &changes);
	if (r == SCEP_OK && changes != 1)
		r = SCEP_E_NOTFOUND;
	if (r == SCEP_OK)
		r = targets_in(c, a->id, t, nt);
	if (r == SCEP_OK)
		r = pg_config_bump(c);
	r = pg_tx_end(c, r);
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pgz_account_get(void *be, int64_t id, struct store_azure_account *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, id);
	return read_rows(be, Z(ZS_ACC_GET), &p, account_row, out, 0, 0, NULL);
}

static int
pgz_account_list(void *be, struct store_azure_account *out, size_t max,
    size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, lim(max));
	return read_rows(be, Z(ZS_ACC_LIST), &p, account_row, out,
	    sizeof(*out), max, n);
}

static int
pgz_account_targets(void *be, int64_t id, struct store_orgref *out,
    size_t max, size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, id);
	p_i64(&p, lim(max));
	return read_rows(be, Z(ZS_TGT_LIST), &p, ref_row, out, sizeof(*out),
	    max, n);
}

/* Does the statement (one id parameter) find a row?  1, 0 or < 0. */
static int
exists_in(struct pg_conn *c, const struct pg_stmt *st, int64_t id)
{
	struct pg_params p;
	PGresult *res = NULL;
	int r;

	pg_params_init(&p);
	p_i64(&p, id);
	r = pg_exec_row(c, st, &p, &res);
	PQclear(res);
	if (r == SCEP_OK)
		return 1;
	return r == SCEP_E_NOTFOUND ? 0 : r;
}

static int
pgz_account_delete(void *be, int64_t id, int64_t now)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	int64_t changes = 0;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	r = exists_in(c, Z(ZS_ACC_INUSE), id);
	if (r == 1)
		r = SCEP_E_DENIED;
	else if (r == 0) {
		pg_params_init(&p);
		p_i64(&p, id);
		p_i64(&p, now);
		r = pg_exec_cmd(c, Z(ZS_ACC_DEL), &p, &changes);
		if (r == SCEP_OK && changes != 1)
			r = SCEP_E_NOTFOUND;
	}
	if (r == SCEP_OK)
		r = pg_config_bump(c);
	r = pg_tx_end(c, r);
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pgz_ep_set(void *be, const struct store_intune_ep *e)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	r = exists_in(c, Z(ZS_ACC_LIVE), e->azure_account_id);
	if (r == 0)
		r = SCEP_E_NOTFOUND;
	else if (r == 1) {
		pg_params_init(&p);
		p_i64(&p, e->endpoint_id);
		p_i64(&p, e->azure_account_id);
		p_i64(&p, e->wait_success);
		p_text(&p, e->ca_configuration);
		p_text(&p, e->issuing_ca);
		r = pg_exec_cmd(c, Z(ZS_EP_PUT), &p, NULL);
	}
	if (r == SCEP_OK)
		r = pg_config_bump(c);
	r = pg_tx_end(c, r);
 out:
	pg_conn_put(pg, c);
	return r;
}

static int
pgz_ep_get(void *be, int64_t endpoint_id, struct store_intune_ep *out)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, endpoint_id);
	return read_rows(be, Z(ZS_EP_GET), &p, ep_row, out, 0, 0, NULL);
}

static int
pgz_ep_list(void *be, struct store_intune_ep *out, size_t max, size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	p_i64(&p, lim(max));
	return read_rows(be, Z(ZS_EP_LIST), &p, ep_row, out, sizeof(*out),
	    max, n);
}

static int
pgz_ep_delete(void *be, int64_t endpoint_id)
{
	struct pg *pg = be;
	struct pg_conn *c = NULL;
	struct pg_params p;
	int64_t changes = 0;
	int r;

	if ((r = pg_conn_get(pg, &c)) != SCEP_OK)
		return r;
	if ((r = pg_tx_begin(c)) != SCEP_OK)
		goto out;
	pg_params_init(&p);
	p_i64(&p, endpoint_id);
	r = pg_exec_cmd(c, Z(ZS_EP_DEL), &p, &changes);
	if (r == SCEP_OK && changes != 1)
		r = SCEP_E_NOTFOUND;
	if (r == SCEP_OK)
		r = pg_config_bump(c);
	r = pg_tx_end(c, r);
 out:
	pg_conn_put(pg, c);
	return r;
}

const struct store_azure_ops store_pg_azure_ops = {
	.account_insert = pgz_account_insert,
	.account_update = pgz_account_update,
	.account_get = pgz_account_get,
	.account_list = pgz_account_list,
	.account_targets = pgz_account_targets,
	.account_delete = pgz_account_delete,
	.ep_set = pgz_ep_set,
	.ep_get = pgz_ep_get,
	.ep_list = pgz_ep_list,
	.ep_delete = pgz_ep_delete,
};
