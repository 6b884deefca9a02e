/*
 * api_int.h -- what the API's files share: the per-request call context,
 * the handler prototypes and the response helpers.  Not for callers.
 */
#ifndef API_INT_H
#define API_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "admin.h"
#include "api.h"
#include "http.h"

#define API_MAX_PARAMS		3	/* {id} segments in one path */
#define API_MAX_SEGMENT		128	/* bytes in one path segment */
#define API_LIST_DEFAULT	100	/* rows per page unless ?limit= */
#define API_LIST_MAX		1000	/* rows per page at most */
#define API_EXPORT_MAX		10000	/* rows in one CSV/JSON download */

struct api {
	struct svc	*svc;		/* borrowed */
	int		 allow_plain;
};

/* One request being handled. */
struct api_call {
	struct api		*api;
	const struct http_req	*req;
	struct http_resp	*resp;
	struct admin_actor	 actor;		/* unless the route is public */
	char			 params[API_MAX_PARAMS][API_MAX_SEGMENT];
	size_t			 nparams;
	json_t			*body;		/* JSON object, or NULL */
	const char		*sid;		/* session cookie (borrowed) */
};

typedef int	(*api_fn)(struct api_call *);

/* ---- responses (api.c) ---- */

/* Send "j" (stolen, may be NULL: then 500) with status.  0, or -1. */
int	api_json(struct api_call *, int status, json_t *j);
/* {"error": msg, "field": field} with status. */
int	api_error(struct api_call *, int status, const char *field,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Map an admin_* result (and its admin_err) to a status and body. */
int	api_fail(struct api_call *, int r, const struct admin_err *);
/* 204 No Content. */
int	api_no_content(struct api_call *);

/* ---- request helpers (api.c) ---- */

/* Path parameter i as a positive int64: 0 when it is not one. */
int64_t	api_param_id(struct api_call *, size_t i);
/*
 * Query parameter "name": 1 found (into buf), 0 absent, -1 invalid (an
 * error response has been prepared).
 */
int	api_query_str(struct api_call *, const char *name, char *buf,
	    size_t bufsz);
int	api_query_i64(struct api_call *, const char *name, int64_t min,
	    int64_t max, int64_t *out);
int	api_query_bool(struct api_call *, const char *name, int *out);
/* Page size from ?limit= (default API_LIST_DEFAULT, at most max). */
int	api_query_limit(struct api_call *, size_t max, size_t *out);
/* A JSON string member (NULL when absent); -1 on a wrong type, with the
 * 400 response prepared. */
int	api_body_str(struct api_call *, const char *name, const char **out);
int	api_body_i64(struct api_call *, const char *name, int64_t min,
	    int64_t max, int64_t *out);
/* Every member of the body is in the NULL-terminated list "allowed";
 * otherwise 400 is prepared and -1 returned. */
int	api_body_only(struct api_call *, const char *const *allowed);

/* {"items": [...], "count": n} (items stolen). */
json_t	*api_list(json_t *items);

/* ---- handlers ---- */

/* api_admin.c */
int	h_login(struct api_call *);
int	h_logout(struct api_call *);
int	h_me(struct api_call *);
int	h_org_list(struct api_call *);
int	h_org_create(struct api_call *);
int	h_org_get(struct api_call *);
int	h_org_update(struct api_call *);
int	h_org_delete(struct api_call *);
int	h_dept_list(struct api_call *);
int	h_dept_create(struct api_call *);
int	h_dept_get(struct api_call *);
int	h_dept_update(struct api_call *);
int	h_dept_delete(struct api_call *);
int	h_admin_list(struct api_call *);
int	h_admin_create(struct api_call *);
int	h_admin_get(struct api_call *);
int	h_admin_update(struct api_call *);
int	h_admin_delete(struct api_call *);
int	h_admin_password(struct api_call *);
int	h_token_list(struct api_call *);
int	h_token_create(struct api_call *);
int	h_token_revoke(struct api_call *);

/* api_ep.c */
int	h_ep_list(struct api_call *);
int	h_ep_create(struct api_call *);
int	h_ep_get(struct api_call *);
int	h_ep_update(struct api_call *);
int	h_ep_delete(struct api_call *);
int	h_ep_deleg_get(struct api_call *);
int	h_ep_deleg_set(struct api_call *);
int	h_ep_accounts(struct api_call *);
int	h_ep_account_create(struct api_call *);
int	h_ep_audit(struct api_call *);
int	h_acct_list(struct api_call *);
int	h_acct_get(struct api_call *);
int	h_acct_update(struct api_call *);
int	h_acct_challenge(struct api_call *);
int	h_otc_list(struct api_call *);
int	h_otc_create(struct api_call *);

/* api_azure.c */
int	h_azure_list(struct api_call *);
int	h_azure_create(struct api_call *);
int	h_azure_get(struct api_call *);
int	h_azure_update(struct api_call *);
int	h_azure_delete(struct api_call *);
int	h_azure_secret(struct api_call *);
int	h_azure_test(struct api_call *);

/* api_pki.c */
int	h_ca_list(struct api_call *);
int	h_ra_list(struct api_call *);
int	h_ra_create(struct api_call *);
int	h_ra_get(struct api_call *);
int	h_ra_download(struct api_call *);
int	h_ra_rollover(struct api_call *);
int	h_cert_list(struct api_call *);
int	h_cert_get(struct api_call *);
int	h_cert_download(struct api_call *);
int	h_cert_revoke(struct api_call *);
int	h_req_list(struct api_call *);
int	h_req_get(struct api_call *);
int	h_req_approve(struct api_call *);
int	h_req_reject(struct api_call *);

/* api_audit.c */
int	h_audit_list(struct api_call *);
int	h_audit_verify(struct api_call *);
/* The audit search for the endpoint view too: endpoint_id 0 = any. */
int	api_audit_query(struct api_call *, int64_t endpoint_id);

#endif /* !API_INT_H */
