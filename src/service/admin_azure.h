/*
 * admin_azure.h -- the administration model of Azure accounts and of the
 * Intune settings of endpoints (issue 5), for the REST API.  Rules as in
 * admin.h; the functions that reach Microsoft or seal a secret need the
 * process's svc_intune object (svc_get_intune) and give SCEP_E_CONFIG
 * with err->msg "Intune support is not running" when there is none.
 *
 * Scope:
 *  - MRAO sees and manages every account.
 *  - RAO/DRAO see an account delegated "General", or one of whose
 *    targets touches their scope; they change nothing (no create, edit,
 *    rotate, test or delete: an account's secret and tenant serve every
 *    organization it is delegated to, so no single organization's
 *    administrator owns it).  They may connect an Intune endpoint they
 *    manage to an account delegated to the endpoint's organization.
 *  - Outside the scope an account does not exist (SCEP_E_NOTFOUND).
 *
 * Secrets (client_secret, proxy_password) are write-only: decoded here,
 * sealed by svc_intune_account_save, never in an encoder's output, the
 * audit trail or the log.
 */
#ifndef ADMIN_AZURE_H
#define ADMIN_AZURE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "admin.h"
#include "store_azure.h"

struct admin_azure {
	struct store_azure_account	 acct;	/* sealed blobs NULL */
	int				 has_proxy_password;
	struct store_orgref		 targets[ADMIN_MAX_TARGETS];
	size_t				 ntargets;
};

/* "global", "usgov", "usgov-dod", "china", "custom"; NULL if bad. */
const char	*admin_azure_env_name(int env);

int	admin_azure_list(struct admin_actor *, struct admin_azure *out,
	    size_t max, size_t *n);
int	admin_azure_get(struct admin_actor *, int64_t id,
	    struct admin_azure *);
/* Create from JSON "in" (client_secret required); out is the new state. */
int	admin_azure_create(struct admin_actor *, json_t *in,
	    struct admin_azure *out, struct admin_err *);
/* Apply the members of "in" (client_secret rotates too). */
int	admin_azure_update(struct admin_actor *, int64_t id, json_t *in,
	    struct admin_azure *out, struct admin_err *);
/* {"client_secret": "..."}: new secret, cached tokens dropped at once. */
int	admin_azure_rotate(struct admin_actor *, int64_t id, json_t *in,
	    struct admin_err *);
/* SCEP_E_EXISTS while an endpoint uses the account. */
int	admin_azure_delete(struct admin_actor *, int64_t id,
	    struct admin_err *);
/* Test connection; *report (new reference) says each step's outcome. */
int	admin_azure_test(struct admin_actor *, int64_t id, json_t **report,
	    struct admin_err *);
json_t	*admin_json_azure(const struct admin_azure *);

/*
 * Intune settings of an endpoint, from the members azure_account_id,
 * wait_success, ca_configuration and issuing_ca of an endpoint's JSON.
 * decode: "cur" holds the current settings (or the defaults); *given 1
 * when "in" named any of them.  SCEP_E_MALFORMED for a plain endpoint,
 * an unknown account or one not delegated to the endpoint's
 * organization.  save: write (or, with azure_account_id 0, remove) them,
 * audit and sync.  json: add them to the endpoint's JSON "j" (Intune
 * endpoints only).
 */
void	admin_ep_intune_defaults(const struct admin_endpoint *,
	    struct store_intune_ep *);
int	admin_ep_intune_decode(struct admin_actor *, json_t *in,
	    const struct admin_endpoint *, struct store_intune_ep *cur,
	    int *given, struct admin_err *);
int	admin_ep_intune_save(struct admin_actor *,
	    const struct admin_endpoint *, const struct store_intune_ep *);
int	admin_ep_intune_json(struct admin_actor *,
	    const struct admin_endpoint *, json_t *j);

#endif /* !ADMIN_AZURE_H */
