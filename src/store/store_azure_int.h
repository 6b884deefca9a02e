/*
 * store_azure_int.h -- what a store backend implements for
 * store_azure.h.  Not for callers of the store.
 *
 * store_azure.c checks every argument first (as store.c does), so a
 * backend may rely on: non-NULL pointers; NUL-terminated strings within
 * their arrays; ids > 0 where a row is named; sealed blobs present when
 * required and at most STORE_AZURE_SEALED_MAX; targets with org_id > 0 and
 * dept_id >= 0; output structs and counts zeroed.
 */
#ifndef STORE_AZURE_INT_H
#define STORE_AZURE_INT_H

#include "store_azure.h"
#include "store_int.h"

struct store_azure_ops {
	int	(*account_insert)(void *be, struct store_azure_account *,
		    const struct store_orgref *, size_t);
	int	(*account_update)(void *be, const struct store_azure_account *,
		    const struct store_orgref *, size_t);
	int	(*account_get)(void *be, int64_t id,
		    struct store_azure_account *);
	int	(*account_list)(void *be, struct store_azure_account *out,
		    size_t max, size_t *n);
	int	(*account_targets)(void *be, int64_t id,
		    struct store_orgref *out, size_t max, size_t *n);
	int	(*account_delete)(void *be, int64_t id, int64_t now);
	int	(*ep_set)(void *be, const struct store_intune_ep *);
	int	(*ep_get)(void *be, int64_t endpoint_id,
		    struct store_intune_ep *);
	int	(*ep_list)(void *be, struct store_intune_ep *out, size_t max,
		    size_t *n);
	int	(*ep_delete)(void *be, int64_t endpoint_id);
};

extern const struct store_azure_ops store_sqlite_azure_ops;
#ifdef STORE_HAVE_PG
extern const struct store_azure_ops store_pg_azure_ops;
#endif

#endif /* !STORE_AZURE_INT_H */
