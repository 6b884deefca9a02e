/*
 * api.c -- the route table of /api/v1 and the dispatcher that enforces
 * transport, authentication, CSRF, body size, content type and JSON
 * validity before any handler runs (STYLE H7, H9).  See api.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "api.h"
#include "api_int.h"
#include "log.h"
#include "scep_err.h"
#include "scep_limits.h"

/* Route flags. */
#define A_PUBLIC	0x01	/* no authentication (login) */
#define A_MUTATES	0x02	/* changes state: CSRF for cookie sessions */

/* Bodies: every mutation takes a small JSON object at most. */
#define B_NONE		0
#define B_JSON		API_MAX_BODY

static const struct api_route {
	const char	*method;
	const char	*path;		/* segments; "{x}" is a parameter */
	unsigned int	 flags;
	size_t		 maxbody;
	api_fn		 fn;
} routes[] = {
	{ "POST", "/api/v1/login", A_PUBLIC | A_MUTATES, B_JSON, h_login },
	{ "POST", "/api/v1/logout", A_MUTATES, B_JSON, h_logout },
	{ "GET", "/api/v1/me", 0, B_NONE, h_me },

	{ "GET", "/api/v1/organizations", 0, B_NONE, h_org_list },
	{ "POST", "/api/v1/organizations", A_MUTATES, B_JSON, h_org_create },
	{ "GET", "/api/v1/organizations/{id}", 0, B_NONE, h_org_get },
	{ "PATCH", "/api/v1/organizations/{id}", A_MUTATES, B_JSON,
	    h_org_update },
	{ "DELETE", "/api/v1/organizations/{id}", A_MUTATES, B_NONE,
	    h_org_delete },

	{ "GET", "/api/v1/departments", 0, B_NONE, h_dept_list },
	{ "POST", "/api/v1/departments", A_MUTATES, B_JSON, h_dept_create },
	{ "GET", "/api/v1/departments/{id}", 0, B_NONE, h_dept_get },
	{ "PATCH", "/api/v1/departments/{id}", A_MUTATES, B_JSON,
	    h_dept_update },
	{ "DELETE", "/api/v1/departments/{id}", A_MUTATES, B_NONE,
	    h_dept_delete },

	{ "GET", "/api/v1/admins", 0, B_NONE, h_admin_list },
	{ "POST", "/api/v1/admins", A_MUTATES, B_JSON, h_admin_create },
	{ "GET", "/api/v1/admins/{id}", 0, B_NONE, h_admin_get },
	{ "PATCH", "/api/v1/admins/{id}", A_MUTATES, B_JSON, h_admin_update },
	{ "DELETE", "/api/v1/admins/{id}", A_MUTATES, B_NONE,
	    h_admin_delete },
	{ "POST", "/api/v1/admins/{id}/password", A_MUTATES, B_JSON,
	    h_admin_password },
	{ "GET", "/api/v1/admins/{id}/tokens", 0, B_NONE, h_token_list },
	{ "POST", "/api/v1/admins/{id}/tokens", A_MUTATES, B_JSON,
	    h_token_create },
	{ "DELETE", "/api/v1/admins/{id}/tokens/{tid}", A_MUTATES, B_NONE,
	    h_token_revoke },

	{ "GET", "/api/v1/endpoints", 0, B_NONE, h_ep_list },
	{ "POST", "/api/v1/endpoints", A_MUTATES, B_JSON, h_ep_create },
	{ "GET", "/api/v1/endpoints/{id}", 0, B_NONE, h_ep_get },
	{ "PATCH", "/api/v1/endpoints/{id}", A_MUTATES, B_JSON, h_ep_update },
	{ "DELETE", "/api/v1/endpoints/{id}", A_MUTATES, B_NONE,
	    h_ep_delete },
	{ "GET", "/api/v1/endpoints/{id}/delegation", 0, B_NONE,
	    h_ep_deleg_get },
	{ "PUT", "/api/v1/endpoints/{id}/delegation", A_MUTATES, B_JSON,
	    h_ep_deleg_set },
	{ "GET", "/api/v1/endpoints/{id}/accounts", 0, B_NONE,
	    h_ep_accounts },
	{ "POST", "/api/v1/endpoints/{id}/accounts", A_MUTATES, B_JSON,
	    h_ep_account_create },
	{ "GET", "/api/v1/endpoints/{id}/audit", 0, B_NONE, h_ep_audit },

	{ "GET", "/api/v1/azure-accounts", 0, B_NONE, h_azure_list },
	{ "POST", "/api/v1/azure-accounts", A_MUTATES, B_JSON,
	    h_azure_create },
	{ "GET", "/api/v1/azure-accounts/{id}", 0, B_NONE, h_azure_get },
	{ "PATCH", "/api/v1/azure-accounts/{id}", A_MUTATES, B_JSON,
	    h_azure_update },
	{ "DELETE", "/api/v1/azure-accounts/{id}", A_MUTATES, B_NONE,
	    h_azure_delete },
	{ "POST", "/api/v1/azure-accounts/{id}/secret", A_MUTATES, B_JSON,
	    h_azure_secret },
	{ "POST", "/api/v1/azure-accounts/{id}/test", A_MUTATES, B_JSON,
	    h_azure_test },

	{ "GET", "/api/v1/accounts", 0, B_NONE, h_acct_list },
	{ "GET", "/api/v1/accounts/{id}", 0, B_NONE, h_acct_get },
	{ "PATCH", "/api/v1/accounts/{id}", A_MUTATES, B_JSON,
	    h_acct_update },
	{ "POST", "/api/v1/accounts/{id}/challenge", A_MUTATES, B_JSON,
	    h_acct_challenge },
	{ "GET", "/api/v1/accounts/{id}/challenges", 0, B_NONE, h_otc_list },
	{ "POST", "/api/v1/accounts/{id}/challenges", A_MUTATES, B_JSON,
	    h_otc_create },

	{ "GET", "/api/v1/cas", 0, B_NONE, h_ca_list },
	{ "GET", "/api/v1/ras", 0, B_NONE, h_ra_list },
	{ "POST", "/api/v1/ras", A_MUTATES, B_JSON, h_ra_create },
	{ "GET", "/api/v1/ras/{id}", 0, B_NONE, h_ra_get },
	{ "GET", "/api/v1/ras/{id}/download", 0, B_NONE, h_ra_download },
	{ "POST", "/api/v1/ras/{id}/rollover", A_MUTATES, B_JSON,
	    h_ra_rollover },

	{ "GET", "/api/v1/certificates", 0, B_NONE, h_cert_list },
	{ "GET", "/api/v1/certificates/{serial}", 0, B_NONE, h_cert_get },
	{ "GET", "/api/v1/certificates/{serial}/download", 0, B_NONE,
	    h_cert_download },
	{ "POST", "/api/v1/certificates/{serial}/revoke", A_MUTATES, B_JSON,
	    h_cert_revoke },

	{ "GET", "/api/v1/requests", 0, B_NONE, h_req_list },
	{ "GET", "/api/v1/requests/{id}", 0, B_NONE, h_req_get },
	{ "POST", "/api/v1/requests/{id}/approve", A_MUTATES, B_JSON,
	    h_req_approve },
	{ "POST", "/api/v1/requests/{id}/reject", A_MUTATES, B_JSON,
	    h_req_reject },

	{ "GET", "/api/v1/audit", 0, B_NONE, h_audit_list },
	{ "POST", "/api/v1/audit/verify", A_MUTATES, B_JSON, h_audit_verify },
};
#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

int
api_route_info(size_t i, const char **method, const char **pattern)
{
	if (i >= NROUTES)
		return -1;
	*method = routes[i].method;
	*pattern = routes[i].path;
	return 0;
}

int
api_new(struct svc *svc, struct api **out)
{
	struct api *a;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return SCEP_E_NOMEM;
	a->svc = svc;
	*out = a;
	return SCEP_OK;
}

void
api_free(struct api *a)
{
	free(a);
}

void
api_allow_plain_http(struct api *a, int on)
{
	a->allow_plain = on ? 1 : 0;
}

/* ---- responses ---- */

int
api_json(struct api_call *c, int status, json_t *j)
{
	char *s = NULL;
	int r;

	if (j == NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		return http_resp_text(c->resp, 500, "{\"error\":\"out of "
		    "memory\"}\n");
	}
	json_decref(j);
	r = http_resp_take(c->resp, status, "application/json",
	    (uint8_t *)s, strlen(s));
	if (r != 0)
		free(s);
	return r;
}

int
api_error(struct api_call *c, int status, const char *field,
    const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j = json_pack("{s:s}", "error", msg);
	if (j != NULL && field != NULL)
		json_object_set_new(j, "field", json_string(field));
	return api_json(c, status, j);
}

int
api_no_content(struct api_call *c)
{
	return http_resp_set(c->resp, 204, "application/json", NULL, 0);
}

int
api_fail(struct api_call *c, int r, const struct admin_err *err)
{
	const char *field = err != NULL ? err->field : NULL;
	const char *msg = err != NULL && err->msg[0] != '\0' ? err->msg :
	    NULL;

	switch (r) {
	case SCEP_E_MALFORMED:
	case SCEP_E_TOOBIG:
		return api_error(c, 400, field, "%s",
		    msg ? msg : "invalid request");
	case SCEP_E_NOTFOUND:
		return api_error(c, 404, NULL, "not found");
	case SCEP_E_DENIED:
		return api_error(c, 403, field, "%s",
		    msg ? msg : "not allowed for your role or scope");
	case SCEP_E_EXISTS:
		return api_error(c, 409, field, "%s",
		    msg ? msg : "conflict with the current state");
	case SCEP_E_BUSY:
		http_resp_header(c->resp, "Retry-After", "5");
		return api_error(c, 503, NULL, "busy, try again");
	default:
		log_error("request_id=%s msg=\"admin api error\" err=\"%s\"",
		    c->req->request_id, scep_strerror(r));
		return api_error(c, 500, NULL, "internal error");
	}
}

json_t *
api_list(json_t *items)
{
	if (items == NULL)
		return NULL;
	return json_pack("{s:I, s:o}", "count",
	    (json_int_t)json_array_size(items), "items", items);
}

/* ---- request helpers ---- */

/* Strict decimal int64 (no sign, spaces or trailing bytes). */
static int
parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end = NULL;
	long long v;

	if (s[0] == '\0' || !((s[0] >= '0' && s[0] <= '9') || s[0] == '-'))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int64_t)v;
	return 0;
}

int64_t
api_param_id(struct api_call *c, size_t i)
{
	int64_t v = 0;

	if (i >= c->nparams || parse_i64(c->params[i], 1, INT64_MAX, &v) != 0)
		return 0;
	return v;
}

int
api_query_str(struct api_call *c, const char *name, char *buf, size_t bufsz)
{
	int n = http_req_query(c->req, name, buf, bufsz);

	if (n == -1)
		return 0;
	if (n < 0 || strlen(buf) != (size_t)n) {
		api_error(c, 400, name, "query parameter %s is too long or "
		    "holds a NUL", name);
		return -1;
	}
	return 1;
}

int
api_query_i64(struct api_call *c, const char *name, int64_t min, int64_t max,
    int64_t *out)
{
	char buf[32];
	int r;

	if ((r = api_query_str(c, name, buf, sizeof(buf))) <= 0)
		return r;
	if (parse_i64(buf, min, max, out) != 0) {
		api_error(c, 400, name, "query parameter %s must be an integer "
		    "from %lld to %lld", name, (long long)min, (long long)max);
		return -1;
	}
	return 1;
}

int
api_query_bool(struct api_call *c, const char *name, int *out)
{
	char buf[8];
	int r;

	if ((r = api_query_str(c, name, buf, sizeof(buf))) <= 0)
		return r;
	if (strcmp(buf, "true") == 0 || strcmp(buf, "1") == 0)
		*out = 1;
	else if (strcmp(buf, "false") == 0 || strcmp(buf, "0") == 0)
		*out = 0;
	else {
		api_error(c, 400, name, "query parameter %s must be true or "
		    "false", name);
		return -1;
	}
	return 1;
}

int
api_query_limit(struct api_call *c, size_t max, size_t *out)
{
	int64_t v = API_LIST_DEFAULT;
	int r;

	if ((r = api_query_i64(c, "limit", 1, (int64_t)max, &v)) < 0)
		return -1;
	*out = (size_t)v;
	return 0;
}

int
api_body_str(struct api_call *c, const char *name, const char **out)
{
	json_t *v = c->body ? json_object_get(c->body, name) : NULL;

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		api_error(c, 400, name, "%s must be a string", name);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

int
api_body_i64(struct api_call *c, const char *name, int64_t min, int64_t max,
    int64_t *out)
{
	json_t *v = c->body ? json_object_get(c->body, name) : NULL;

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		api_error(c, 400, name, "%s must be an integer from %lld to "
		    "%lld", name, (long long)min, (long long)max);
		return -1;
	}
	*out = (int64_t)json_integer_value(v);
	return 1;
}

int
api_body_only(struct api_call *c, const char *const *allowed)
{
	const char *k;
	json_t *v;
	size_t i;

	if (c->body == NULL)
		return 0;
	json_object_foreach(c->body, k, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], k) == 0)
				break;
		if (allowed[i] == NULL) {
			api_error(c, 400, "body", "unknown member \"%.64s\"",
			    k);
			return -1;
		}
	}
	return 0;
}

/* ---- dispatch ---- */

/*
 * Match "path" against route pattern "pat"; on a match the {x}
 * segments are copied into c->params.  Segments are compared whole and
 * must be non-empty; a parameter segment may not hold '/'.
 */
static int
route_match(const char *pat, const char *path, struct api_call *c)
{
	const char *p = pat, *q = path, *pe, *qe;
	size_t pl, ql, np = 0;

	for (;;) {
		if (*p != '/' || *q != '/')
			return *p == '\0' && *q == '\0';
		p++;
		q++;
		pe = strchr(p, '/');
		qe = strchr(q, '/');
		pl = pe ? (size_t)(pe - p) : strlen(p);
		ql = qe ? (size_t)(qe - q) : strlen(q);
		if (ql == 0)
			return 0;
		if (pl > 2 && p[0] == '{' && p[pl - 1] == '}') {
			if (np == API_MAX_PARAMS || ql >= API_MAX_SEGMENT)
				return 0;
			memcpy(c->params[np], q, ql);
			c->params[np][ql] = '\0';
			np++;
		} else if (pl != ql || memcmp(p, q, pl) != 0)
			return 0;
		p += pl;
		q += ql;
		c->nparams = np;
	}
}

/* Authenticate by bearer token or session cookie; 0, or -1 with the
 * response prepared. */
static int
authenticate(struct api_call *c, const struct api_route *rt)
{
	const char *h, *csrf = NULL;
	int r;

	h = http_req_header(c->req, "Authorization");
	if (h != NULL) {
		if (strncasecmp(h, "Bearer ", 7) != 0)
			goto unauth;
		h += 7;
		while (*h == ' ')
			h++;
		r = admin_auth_token(c->api->svc, h, c->req->client_addr,
		    &c->actor);
		if (r == SCEP_OK)
			goto ok;
		if (r != SCEP_E_DENIED) {
			api_fail(c, r, NULL);
			return -1;
		}
		goto unauth;
	}
	if ((c->sid = http_req_cookie(c->req, API_SESSION_COOKIE)) != NULL) {
		/* Cookies ride along with every request the browser makes:
		 * a mutation must also prove it was made by our page. */
		if (rt->flags & A_MUTATES) {
			csrf = http_req_header(c->req, "X-CSRF-Token");
			if (csrf == NULL) {
				api_error(c, 403, NULL,
				    "missing X-CSRF-Token header");
				return -1;
			}
		}
		r = admin_auth_session(c->api->svc, c->sid, csrf,
		    c->req->client_addr, &c->actor);
		if (r == SCEP_OK)
			goto ok;
		if (r != SCEP_E_DENIED) {
			api_fail(c, r, NULL);
			return -1;
		}
		if (csrf != NULL && admin_auth_session(c->api->svc, c->sid,
		    NULL, c->req->client_addr, &c->actor) == SCEP_OK) {
			memset(&c->actor, 0, sizeof(c->actor));
			api_error(c, 403, NULL, "bad X-CSRF-Token");
			return -1;
		}
	}
 unauth:
	http_resp_header(c->resp, "WWW-Authenticate", "Bearer realm=\"scepd\"");
	api_error(c, 401, NULL, "authentication required");
	return -1;
 ok:
	snprintf(c->actor.request_id, sizeof(c->actor.request_id), "%s",
	    c->req->request_id);
	return 0;
}

/* Check and parse the body; 0, or -1 with the response prepared. */
static int
read_body(struct api_call *c, const struct api_route *rt)
{
	struct admin_err jerr = { NULL, "" };
	const char *ct;

	if (c->req->body_len == 0) {
		if (rt->maxbody > 0 && (c->body = json_object()) == NULL) {
			api_error(c, 500, NULL, "out of memory");
			return -1;
		}
		return 0;
	}
	if (rt->maxbody == 0) {
		api_error(c, 400, "body", "%s %s takes no body", rt->method,
		    rt->path);
		return -1;
	}
	if (c->req->body_len > rt->maxbody) {
		api_error(c, 413, "body", "body larger than %zu bytes",
		    rt->maxbody);
		return -1;
	}
	ct = http_req_header(c->req, "Content-Type");
	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
	    (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
		api_error(c, 415, "body", "Content-Type must be "
		    "application/json");
		return -1;
	}
	if (admin_json_body(c->req->body, c->req->body_len, &c->body,
	    &jerr) != SCEP_OK) {
		api_error(c, 400, "body", "%s", jerr.msg);
		return -1;
	}
	return 0;
}

int
api_handle(void *arg, const struct http_req *req, struct http_resp *resp)
{
	struct api_call *c = NULL;
	const struct api_route *rt = NULL;
	char allow[64];
	size_t i, plen;
	int rc = 0, pathmatch = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->api = arg;
	c->req = req;
	c->resp = resp;
	allow[0] = '\0';
	(void)http_resp_header(resp, "Cache-Control", "no-store");
	(void)http_resp_header(resp, "X-Content-Type-Options", "nosniff");

	/* Issue 3: never plain HTTP across a network. */
	if (!req->tls && !req->loopback && !c->api->allow_plain) {
		rc = api_error(c, 403, NULL, "the admin API needs TLS on a "
		    "non-loopback address");
		goto out;
	}
	plen = strlen(req->path);
	if (plen > 512) {
		rc = api_error(c, 404, NULL, "not found");
		goto out;
	}
	for (i = 0; i < NROUTES; i++) {
		if (!route_match(routes[i].path, req->path, c))
			continue;
		pathmatch = 1;
		if (strlen(allow) + strlen(routes[i].method) + 3 <
		    sizeof(allow))
			snprintf(allow + strlen(allow), sizeof(allow) -
			    strlen(allow), "%s%s", allow[0] ? ", " : "",
			    routes[i].method);
		if (strcmp(routes[i].method, req->method) == 0) {
			rt = &routes[i];
			break;
		}
	}
	if (rt == NULL) {
		if (pathmatch) {
			(void)http_resp_header(resp, "Allow", allow);
			rc = api_error(c, 405, NULL, "method not allowed");
		} else
			rc = api_error(c, 404, NULL, "not found");
		goto out;
	}
	/* route_match left the parameters of the matching route. */
	if (!(rt->flags & A_PUBLIC) && authenticate(c, rt) != 0)
		goto out;
	if (read_body(c, rt) != 0)
		goto out;
	rc = rt->fn(c);
	if (rc == 0 && resp->status >= 500)
		log_warn("request_id=%s msg=\"admin api failure\" "
		    "method=%s path=\"%s\" status=%d", req->request_id,
		    req->method, req->path, resp->status);
 out:
	json_decref(c->body);
	memset(&c->actor, 0, sizeof(c->actor));
	free(c);
	return rc;
}
