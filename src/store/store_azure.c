/*
 * store_azure.c -- the public functions of store_azure.h: check every
 * argument once, then dispatch through the backend's struct
 * store_azure_ops (store_azure_int.h), as store.c and store_admin.c do.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scep_err.h"
#include "store_azure.h"
#include "store_azure_int.h"

/* A backend's Azure vtable, found by its main vtable. */
static const struct {
	const struct store_ops		*ops;
	const struct store_azure_ops	*azure;
} azure_backends[] = {
	{ &store_sqlite_ops,	&store_sqlite_azure_ops },
#ifdef STORE_HAVE_PG
	{ &store_pg_ops,	&store_pg_azure_ops },
#endif
};

static const struct store_azure_ops *
zops(struct store *s)
{
	size_t i;

	for (i = 0; i < sizeof(azure_backends) / sizeof(azure_backends[0]);
	    i++)
		if (azure_backends[i].ops == s->ops)
			return azure_backends[i].azure;
	return NULL;
}

#define ENTER(s, z) do {						\
	if ((s) == NULL || ((z) = zops(s)) == NULL)			\
		return SCEP_E_INTERNAL;					\
} while (0)

static int
str_ok(const char *s, size_t sz)
{
	return s != NULL && memchr(s, '\0', sz) != NULL;
}

static int
list_ok(void *out, size_t elemsz, size_t max, size_t *n)
{
	if (n == NULL || (out == NULL && max > 0))
		return 0;
	*n = 0;
	if (max > 0)
		memset(out, 0, elemsz * max);
	return 1;
}

static int
refs_ok(const struct store_orgref *r, size_t n)
{
	size_t i;

	if (n > 0 && r == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (r[i].org_id <= 0 || r[i].dept_id < 0)
			return 0;
	return 1;
}

void
store_azure_account_clear(struct store_azure_account *a)
{
	if (a == NULL)
		return;
	free(a->secret);
	free(a->proxy_password);
	memset(a, 0, sizeof(*a));
}

/* Everything but the id: strings terminated, enums in range, the sealed
 * secret present, blobs bounded. */
static int
account_ok(const struct store_azure_account *a)
{
	if (!str_ok(a->name, sizeof(a->name)) ||
	    !str_ok(a->tenant_id, sizeof(a->tenant_id)) ||
	    !str_ok(a->client_id, sizeof(a->client_id)) ||
	    !str_ok(a->authority_url, sizeof(a->authority_url)) ||
	    !str_ok(a->graph_url, sizeof(a->graph_url)) ||
	    !str_ok(a->intune_resource_url, sizeof(a->intune_resource_url)) ||
	    !str_ok(a->intune_app_id, sizeof(a->intune_app_id)) ||
	    !str_ok(a->graph_scope, sizeof(a->graph_scope)) ||
	    !str_ok(a->intune_scope, sizeof(a->intune_scope)) ||
	    !str_ok(a->proxy, sizeof(a->proxy)) ||
	    !str_ok(a->proxy_user, sizeof(a->proxy_user)) ||
	    !str_ok(a->ca_bundle_path, sizeof(a->ca_bundle_path)) ||
	    a->secret_len > STORE_AZURE_SEALED_MAX ||
	    a->proxy_password_len > STORE_AZURE_SEALED_MAX)
		return SCEP_E_TOOBIG;
	if (a->name[0] == '\0' || a->tenant_id[0] == '\0' ||
	    a->client_id[0] == '\0' || a->environment < 0 ||
	    a->environment > 4 || a->secret == NULL || a->secret_len == 0 ||
	    (a->proxy_password == NULL) != (a->proxy_password_len == 0))
		return SCEP_E_INTERNAL;
	return SCEP_OK;
}

int
store_azure_account_insert(struct store *s, struct store_azure_account *a,
    const struct store_orgref *t, size_t nt)
{
	const struct store_azure_ops *z = NULL;
	int r;

	ENTER(s, z);
	if (a == NULL || !refs_ok(t, nt))
		return SCEP_E_INTERNAL;
	if ((r = account_ok(a)) != SCEP_OK)
		return r;
	return z->account_insert(s->be, a, t, nt);
}

int
store_azure_account_update(struct store *s,
    const struct store_azure_account *a, const struct store_orgref *t,
    size_t nt)
{
	const struct store_azure_ops *z = NULL;
	int r;

	ENTER(s, z);
	if (a == NULL || !refs_ok(t, nt))
		return SCEP_E_INTERNAL;
	if ((r = account_ok(a)) != SCEP_OK)
		return r;
	if (a->id <= 0)
		return SCEP_E_NOTFOUND;
	return z->account_update(s->be, a, t, nt);
}

int
store_azure_account_get(struct store *s, int64_t id,
    struct store_azure_account *out)
{
	const struct store_azure_ops *z = NULL;
	int r;

	ENTER(s, z);
	if (out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	if ((r = z->account_get(s->be, id, out)) != SCEP_OK)
		store_azure_account_clear(out);
	return r;
}

int
store_azure_account_list(struct store *s, struct store_azure_account *out,
    size_t max, size_t *n)
{
	const struct store_azure_ops *z = NULL;
	size_t i;
	int r;

	ENTER(s, z);
	if (!list_ok(out, sizeof(*out), max, n))
		return SCEP_E_INTERNAL;
	if ((r = z->account_list(s->be, out, max, n)) != SCEP_OK) {
		for (i = 0; i < *n; i++)
			store_azure_account_clear(&out[i]);
		*n = 0;
	}
	return r;
}

int
store_azure_account_targets(struct store *s, int64_t id,
    struct store_orgref *out, size_t max, size_t *n)
{
	const struct store_azure_ops *z = NULL;

	ENTER(s, z);
	if (!list_ok(out, sizeof(*out), max, n))
		return SCEP_E_INTERNAL;
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	return z->account_targets(s->be, id, out, max, n);
}

int
store_azure_account_delete(struct store *s, int64_t id, int64_t now)
{
	const struct store_azure_ops *z = NULL;

	ENTER(s, z);
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	if (now <= 0)
		return SCEP_E_INTERNAL;
	return z->account_delete(s->be, id, now);
}

int
store_intune_ep_set(struct store *s, const struct store_intune_ep *ep)
{
	const struct store_azure_ops *z = NULL;

	ENTER(s, z);
	if (ep == NULL)
		return SCEP_E_INTERNAL;
	if (!str_ok(ep->ca_configuration, sizeof(ep->ca_configuration)) ||
	    !str_ok(ep->issuing_ca, sizeof(ep->issuing_ca)))
		return SCEP_E_TOOBIG;
	if (ep->endpoint_id <= 0 || ep->azure_account_id <= 0)
		return SCEP_E_NOTFOUND;
	if (ep->wait_success != 0 && ep->wait_success != 1)
		return SCEP_E_INTERNAL;
	return z->ep_set(s->be, ep);
}

int
store_intune_ep_get(struct store *s, int64_t endpoint_id,
    struct store_intune_ep *out)
{
	const struct store_azure_ops *z = NULL;
	int r;

	ENTER(s, z);
	if (out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (endpoint_id <= 0)
		return SCEP_E_NOTFOUND;
	if ((r = z->ep_get(s->be, endpoint_id, out)) != SCEP_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

int
store_intune_ep_list(struct store *s, struct store_intune_ep *out,
    size_t max, size_t *n)
{
	const struct store_azure_ops *z = NULL;
	int r;

	ENTER(s, z);
	if (!list_ok(out, sizeof(*out), max, n))
		return SCEP_E_INTERNAL;
	if ((r = z->ep_list(s->be, out, max, n)) != SCEP_OK)
		*n = 0;
	return r;
}

int
store_intune_ep_delete(struct store *s, int64_t endpoint_id)
{
	const struct store_azure_ops *z = NULL;

	ENTER(s, z);
	if (endpoint_id <= 0)
		return SCEP_E_NOTFOUND;
	return z->ep_delete(s->be, endpoint_id);
}
