/*
 * api.h -- the REST admin API under /api/v1/ (issue 3), JSON via jansson.
 *
 * The HTTP edge mounts api_handle() for every path under /api/.  The
 * dispatcher walks one route table (STYLE H9) and enforces, before any
 * handler runs:
 *  - transport: plain HTTP only from a loopback peer, otherwise TLS;
 *  - authentication: "Authorization: Bearer <token>" or the console's
 *    session cookie; for a cookie, mutations also need the session's CSRF
 *    token in "X-CSRF-Token";
 *  - the body: none on GET/DELETE; at most the route's maxbody; a JSON
 *    object (Content-Type application/json, no duplicate keys, nesting at
 *    most API_MAX_JSON_DEPTH).
 * Handlers decode with the strict decoders of admin.h and call the
 * admin_* rule functions; errors come back as JSON {"error": ...,
 * "field": ...} with 400, 401, 403, 404, 405, 409, 413, 415, 429 or 5xx.
 */
#ifndef API_H
#define API_H

#include <stddef.h>

#include "http.h"

struct svc;
struct api;

/* *out is take; svc is borrowed and must outlive the api. */
int	api_new(struct svc *, struct api **out);
void	api_free(struct api *);			/* accepts NULL */

/*
 * Accept plain HTTP from non-loopback peers (behind a TLS-terminating
 * proxy on the same host).  Off by default: the admin API refuses plain
 * HTTP on a non-loopback address (issue 3).
 */
void	api_allow_plain_http(struct api *, int on);

/* The http_handler_fn for "/api/": arg is the struct api *. */
int	api_handle(void *arg, const struct http_req *, struct http_resp *);

/* The route table, for the test that keeps docs/openapi.yaml in step:
 * method and path pattern ("/api/v1/endpoints/{id}") of route i, or
 * -1 past the end. */
int	api_route_info(size_t i, const char **method, const char **pattern);

/* Name of the console's session cookie. */
#define API_SESSION_COOKIE	"scepd_session"

#endif /* !API_H */
