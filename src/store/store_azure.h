/*
 * store_azure.h -- Azure accounts and the Intune settings of endpoints
 * (issue 5), in the store.
 *
 * Same contracts as store.h: every function is thread-safe, returns
 * SCEP_OK or a negative scep_err (SCEP_E_NOTFOUND, SCEP_E_EXISTS for a
 * name already used by a live account, SCEP_E_DENIED for deleting an
 * account an endpoint still uses, SCEP_E_TOOBIG for a string not
 * NUL-terminated within its array or a sealed blob over
 * STORE_AZURE_SEALED_MAX, SCEP_E_INTERNAL for a bad argument, SCEP_E_BUSY,
 * SCEP_E_NOMEM, SCEP_E_STORE); output structs are zeroed on entry and
 * stay zeroed on error; every write moves store_config_version() in the
 * same transaction, so svc_intune_sync() can tell its copy is stale.
 *
 * Secrets are never stored in clear: the client secret and the proxy
 * password arrive here already sealed (svc_intune_secret_seal: libsodium
 * crypto_secretbox under DATA_DIR/azure.key, a key the database never
 * sees) and leave sealed.
 */
#ifndef STORE_AZURE_H
#define STORE_AZURE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* A sealed secret: 40 bytes of nonce and MAC, then at most 512. */
#define STORE_AZURE_SEALED_MAX	1024
#define STORE_AZURE_TENANT_MAX	256

struct store_azure_account {
	int64_t		 id;
	char		 name[STORE_NAME_MAX];	/* unique among live ones */
	int		 environment;		/* enum intune_env (0-4) */
	char		 tenant_id[STORE_AZURE_TENANT_MAX];
	char		 client_id[STORE_NAME_MAX];
	uint8_t		*secret;		/* owned: sealed, required */
	size_t		 secret_len;
	char		 authority_url[STORE_TEXT_MAX];	/* "": environment's */
	char		 graph_url[STORE_TEXT_MAX];
	char		 intune_resource_url[STORE_TEXT_MAX];
	char		 intune_app_id[STORE_NAME_MAX];	/* "": Intune's */
	char		 graph_scope[STORE_TEXT_MAX];	/* "": built (4.1) */
	char		 intune_scope[STORE_TEXT_MAX];
	char		 proxy[STORE_TEXT_MAX];		/* "": none */
	char		 proxy_user[STORE_NAME_MAX];
	uint8_t		*proxy_password;	/* owned: sealed; NULL: none */
	size_t		 proxy_password_len;
	char		 ca_bundle_path[STORE_TEXT_MAX];	/* "": system */
	int		 revocation_poll;	/* spec 9 requests polled */
	int		 delegation_general;	/* 1 General, 0 Customized:
						 * only the targets use it */
	int64_t		 created_at;
	int64_t		 updated_at;
	int64_t		 deleted_at;		/* 0 = live */
};

/* The Intune settings of one endpoint (struct svc_intune_ep's columns). */
struct store_intune_ep {
	int64_t		 endpoint_id;
	int64_t		 azure_account_id;
	int		 wait_success;		/* spec 2 step 6 switch */
	char		 ca_configuration[STORE_NAME_MAX];
	char		 issuing_ca[STORE_TEXT_MAX];
};

void	store_azure_account_clear(struct store_azure_account *);

/*
 * insert sets id; created_at and updated_at are taken from the struct.
 * update writes every field except id, created_at and deleted_at, and
 * replaces the delegation targets (Customized) with "targets".
 * get returns deleted accounts too; list returns live ones by id (the
 * caller clears each of the *n).  delete is a soft delete (deleted_at);
 * SCEP_E_DENIED while a live endpoint's Intune settings name the account.
 */
int	store_azure_account_insert(struct store *,
	    struct store_azure_account *, const struct store_orgref *targets,
	    size_t ntargets);
int	store_azure_account_update(struct store *,
	    const struct store_azure_account *,
	    const struct store_orgref *targets, size_t ntargets);
int	store_azure_account_get(struct store *, int64_t id,
	    struct store_azure_account *);
int	store_azure_account_list(struct store *,
	    struct store_azure_account *out, size_t max, size_t *n);
int	store_azure_account_targets(struct store *, int64_t id,
	    struct store_orgref *out, size_t max, size_t *n);
int	store_azure_account_delete(struct store *, int64_t id, int64_t now);

/*
 * Intune settings of endpoints.  set inserts or replaces; SCEP_E_NOTFOUND
 * when the endpoint or a live account does not exist.  list returns the
 * settings of live endpoints.
 */
int	store_intune_ep_set(struct store *, const struct store_intune_ep *);
int	store_intune_ep_get(struct store *, int64_t endpoint_id,
	    struct store_intune_ep *);
int	store_intune_ep_list(struct store *, struct store_intune_ep *out,
	    size_t max, size_t *n);
int	store_intune_ep_delete(struct store *, int64_t endpoint_id);

#endif /* !STORE_AZURE_H */
