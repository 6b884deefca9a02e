/*
 * api_admin.c -- /api/v1 handlers for sessions, organizations,
 * departments, administrators and API tokens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api_int.h"
#include "scep_err.h"

/* ---- sessions ---- */

int
h_login(struct api_call *c)
{
	static const char *const allowed[] = { "name", "password", NULL };
	struct admin_actor *a = &c->actor;
	const char *name = NULL, *pw = NULL;
	char sid[ADMIN_SID_MAX], csrf[ADMIN_SID_MAX], cookie[256];
	char ra[16];
	struct admin_info info;
	json_t *me = NULL;
	int retry = 0, r;

	if (api_body_only(c, allowed) != 0 ||
	    api_body_str(c, "name", &name) < 0 ||
	    api_body_str(c, "password", &pw) < 0)
		return 0;
	if (name == NULL || pw == NULL)
		return api_error(c, 400, name == NULL ? "name" : "password",
		    "name and password are required");
	r = admin_login(c->api->svc, name, pw, c->req->client_addr, sid,
	    sizeof(sid), csrf, sizeof(csrf), &retry, a);
	if (r == SCEP_E_BUSY) {
		snprintf(ra, sizeof(ra), "%d", retry);
		http_resp_header(c->resp, "Retry-After", ra);
		return api_error(c, 429, NULL, retry > 1 ?
		    "too many failed logins; try again later" :
		    "too many logins at once; try again in a second");
	}
	if (r == SCEP_E_DENIED)
		return api_error(c, 401, NULL, "bad name or password");
	if (r != SCEP_OK)
		return api_fail(c, r, NULL);
	/* HttpOnly: scripts cannot read it; SameSite=Strict: other sites
	 * cannot make the browser send it; Secure whenever we are on TLS. */
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Max-Age=%d; "
	    "HttpOnly; SameSite=Strict%s", API_SESSION_COOKIE, sid,
	    ADMIN_SESSION_TTL, c->req->tls ? "; Secure" : "");
	http_resp_header(c->resp, "Set-Cookie", cookie);
	sodium_memzero(sid, sizeof(sid));
	sodium_memzero(cookie, sizeof(cookie));
	memset(&info, 0, sizeof(info));
	if (admin_admin_get(a, a->id, &info) == SCEP_OK)
		me = admin_json_admin(&info);
	r = api_json(c, 200, json_pack("{s:s, s:o, s:I}", "csrf_token", csrf,
	    "admin", me ? me : json_null(), "expires_in",
	    (json_int_t)ADMIN_SESSION_TTL));
	sodium_memzero(csrf, sizeof(csrf));
	return r;
}

int
h_logout(struct api_call *c)
{
	char cookie[128];

	if (c->sid != NULL && c->actor.session_id != 0)
		(void)admin_logout(&c->actor, c->sid);
	snprintf(cookie, sizeof(cookie), "%s=; Path=/; Max-Age=0; HttpOnly; "
	    "SameSite=Strict%s", API_SESSION_COOKIE,
	    c->req->tls ? "; Secure" : "");
	http_resp_header(c->resp, "Set-Cookie", cookie);
	return api_no_content(c);
}

int
h_me(struct api_call *c)
{
	struct admin_info *info = NULL;
	json_t *j = NULL;
	int r;

	if ((info = calloc(1, sizeof(*info))) == NULL)
		return -1;
	if ((r = admin_admin_get(&c->actor, c->actor.id, info)) != SCEP_OK) {
		free(info);
		return api_fail(c, r, NULL);
	}
	j = admin_json_admin(info);
	free(info);
	if (j != NULL)
		json_object_set_new(j, "auth", json_string(
		    c->actor.session_id ? "session" : "token"));
	return api_json(c, 200, j);
}

/* ---- organizations ---- */

int
h_org_list(struct api_call *c)
{
	struct store_org *list = NULL;
	json_t *items = NULL;
	size_t n = 0, i;
	int r;

	if ((list = calloc(ADMIN_MAX_LIST, sizeof(*list))) == NULL)
		return -1;
	if ((r = admin_org_list(&c->actor, list, ADMIN_MAX_LIST, &n)) !=
	    SCEP_OK) {
		free(list);
		return api_fail(c, r, NULL);
	}
	if ((items = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(items, admin_json_org(&list[i]));
	free(list);
	return api_json(c, 200, api_list(items));
}

int
h_org_create(struct api_call *c)
{
	struct store_org o;
	struct admin_err err;
	int r;

	memset(&o, 0, sizeof(o));
	memset(&err, 0, sizeof(err));
	if ((r = admin_json_to_org(c->body, &o, &err)) != SCEP_OK ||
	    (r = admin_org_create(&c->actor, &o, &err)) != SCEP_OK)
		return api_fail(c, r, &err);
	return api_json(c, 201, admin_json_org(&o));
}

int
h_org_get(struct api_call *c)
{
	struct store_org o;
	int r;

	memset(&o, 0, sizeof(o));
	if ((r = admin_org_get(&c->actor, api_param_id(c, 0), &o)) != SCEP_OK)
		return api_fail(c, r, NULL);
	return api_json(c, 200, admin_json_org(&o));
}

int
h_org_update(struct api_call *c)
{
	struct store_org o;
	struct admin_err err;
	int r;

	memset(&o, 0, sizeof(o));
	memset(&err, 0, sizeof(err));
	if ((r = admin_org_get(&c->actor, api_param_id(c, 0), &o)) !=
	    SCEP_OK ||
	    (r = admin_json_to_org(c->body, &o, &err)) != SCEP_OK ||
	    (r = admin_org_update(&c->actor, &o, &err)) != SCEP_OK)
		return api_fail(c, r, &err);
	return api_json(c, 200, admin_json_org(&o));
}

int
h_org_delete(struct api_call *c)
{
	struct admin_err err;
	int r;

	memset(&err, 0, sizeof(err));
	if ((r = admin_org_delete(&c->actor, api_param_id(c, 0), &err)) !=
	    SCEP_OK)
		return api_fail(c, r, &err);
	return api_no_content(c);
}

/* ---- departments ---- */

int
h_dept_list(struct api_call *c)
{
	struct store_dept *list = NULL;
	json_t *items = NULL;
	int64_t org = 0;
	size_t n = 0, i;
	int r;

	if (api_query_i64(c, "org_id", 1, INT64_MAX, &org) < 0)
		return 0;
	if ((list = calloc(ADMIN_MAX_LIST, sizeof(*list))) == NULL)
		return -1;
	if ((r = admin_dept_list(&c->actor, org, list, ADMIN_MAX_LIST, &n)) !=
	    SCEP_OK) {
		free(list);
		return api_fail(c, r, NULL);
	}
	if ((items = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(items,
			    admin_json_dept(&list[i]));
	free(list);
	return api_json(c, 200, api_list(items));
}

int
h_dept_create(struct api_call *c)
{
	struct store_dept d;
	struct admin_err err;
	int r;

	memset(&d, 0, sizeof(d));
	memset(&err, 0, sizeof(err));
	if ((r = admin_json_to_dept(c->body, 1, &d, &err)) != SCEP_OK ||
	    (r = admin_dept_create(&c->actor, &d, &err)) != SCEP_OK)
		return api_fail(c, r, &err);
	return api_json(c, 201, admin_json_dept(&d));
}

int
h_dept_get(struct api_call *c)
{
	struct store_dept d;
	int r;

	memset(&d, 0, sizeof(d));
	if ((r = admin_dept_get(&c->actor, api_param_id(c, 0), &d)) !=
	    SCEP_OK)
		return api_fail(c, r, NULL);
	return api_json(c, 200, admin_json_dept(&d));
}

int
h_dept_update(struct api_call *c)
{
	struct store_dept d;
	struct admin_err err;
	int r;

	memset(&d, 0, sizeof(d));
	memset(&err, 0, sizeof(err));
	if ((r = admin_dept_get(&c->actor, api_param_id(c, 0), &d)) !=
	    SCEP_OK ||
	    (r = admin_json_to_dept(c->body, 0, &d, &err)) != SCEP_OK ||
	    (r = admin_dept_update(&c->actor, &d, &err)) != SCEP_OK)
		return api_fail(c, r, &err);
	return api_json(c, 200, admin_json_dept(&d));
}

int
h_dept_delete(struct api_call *c)
{
	struct admin_err err;
	int r;

	memset(&err, 0, sizeof(err));
	if ((r = admin_dept_delete(&c->actor, api_param_id(c, 0), &err)) !=
	    SCEP_OK)
		return api_fail(c, r, &err);
	return api_no_content(c);
}

/* ---- administrators ---- */

int
h_admin_list(struct api_call *c)
{
	struct admin_info *list = NULL;
	json_t *items = NULL;
	size_t n = 0, i;
	int r;

	if ((list = calloc(ADMIN_MAX_LIST, sizeof(*list))) == NULL)
		return -1;
	if ((r = admin_admin_list(&c->actor, list, ADMIN_MAX_LIST, &n)) !=
	    SCEP_OK) {
		free(list);
		return api_fail(c, r, NULL);
	}
	if ((items = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(items,
			    admin_json_admin(&list[i]));
	free(list);
	return api_json(c, 200, api_list(items));
}

int
h_admin_create(struct api_call *c)
{
	struct admin_info *x = NULL;
	struct admin_err err;
	const char *pw = NULL;
	char gen[ADMIN_PASSWORD_GEN + 1];
	json_t *j;
	int r;

	memset(&err, 0, sizeof(err));
	gen[0] = '\0';
	if (api_body_str(c, "password", &pw) < 0)
		return 0;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return -1;
	x->a.cert_types = STORE_CT_ALL;
	if ((r = admin_json_to_admin(c->body, 1, x, &err)) != SCEP_OK ||
	    (r = admin_admin_create(&c->actor, x, pw, gen, sizeof(gen),
	    &err)) != SCEP_OK) {
		free(x);
		return api_fail(c, r, &err);
	}
	j = admin_json_admin(x);
	free(x);
	/* A generated password is shown once, here. */
	if (j != NULL && pw == NULL)
		json_object_set_new(j, "password", json_string(gen));
	sodium_memzero(gen, sizeof(gen));
	return api_json(c, 201, j);
}

int
h_admin_get(struct api_call *c)
{
	struct admin_info *x = NULL;
	json_t *j;
	int r;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return -1;
	if ((r = admin_admin_get(&c->actor, api_param_id(c, 0), x)) !=
	    SCEP_OK) {
		free(x);
		return api_fail(c, r, NULL);
	}
	j = admin_json_admin(x);
	free(x);
	return api_json(c, 200, j);
}

int
h_admin_update(struct api_call *c)
{
	struct admin_info *x = NULL;
	struct admin_err err;
	json_t *j = NULL;
	int r;

	memset(&err, 0, sizeof(err));
	if (json_object_get(c->body, "password") != NULL)
		return api_error(c, 400, "password", "set passwords with POST "
		    "/api/v1/admins/{id}/password");
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return -1;
	if ((r = admin_admin_get(&c->actor, api_param_id(c, 0), x)) !=
	    SCEP_OK ||
	    (r = admin_json_to_admin(c->body, 0, x, &err)) != SCEP_OK ||
	    (r = admin_admin_update(&c->actor, x, &err)) != SCEP_OK ||
	    (r = admin_admin_get(&c->actor, x->a.id, x)) != SCEP_OK) {
		free(x);
		return api_fail(c, r, &err);
	}
	j = admin_json_admin(x);
	free(x);
	return api_json(c, 200, j);
}

int
h_admin_delete(struct api_call *c)
{
	struct admin_err err;
	int r;

	memset(&err, 0, sizeof(err));
	if ((r = admin_admin_delete(&c->actor, api_param_id(c, 0), &err)) !=
	    SCEP_OK)
		return api_fail(c, r, &err);
	return api_no_content(c);
}

int
h_admin_password(struct api_call *c)
{
	static const char *const allowed[] = { "password", NULL };
	struct admin_err err;
	const char *pw = NULL;
	int r;

	memset(&err, 0, sizeof(err));
	if (api_body_only(c, allowed) != 0 ||
	    api_body_str(c, "password", &pw) < 0)
		return 0;
	if (pw == NULL)
		return api_error(c, 400, "password", "password is required");
	if ((r = admin_admin_set_password(&c->actor, api_param_id(c, 0), pw,
	    &err)) != SCEP_OK)
		return api_fail(c, r, &err);
	return api_no_content(c);
}

/* ---- tokens ---- */

int
h_token_list(struct api_call *c)
{
	struct store_token *list = NULL;
	json_t *items = NULL;
	size_t n = 0, i;
	int r;

	if ((list = calloc(ADMIN_MAX_LIST, sizeof(*list))) == NULL)
		return -1;
	if ((r = admin_token_list(&c->actor, api_param_id(c, 0), list,
	    ADMIN_MAX_LIST, &n)) != SCEP_OK) {
		free(list);
		return api_fail(c, r, NULL);
	}
	if ((items = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(items,
			    admin_json_token(&list[i]));
	free(list);
	return api_json(c, 200, api_list(items));
}

int
h_token_create(struct api_call *c)
{
	static const char *const allowed[] = { "name", "expires_at", NULL };
	struct store_token t;
	struct admin_err err;
	const char *name = NULL;
	char tok[ADMIN_TOKEN_MAX];
	int64_t exp = 0;
	json_t *j;
	int r;

	memset(&err, 0, sizeof(err));
	if (api_body_only(c, allowed) != 0 ||
	    api_body_str(c, "name", &name) < 0 ||
	    api_body_i64(c, "expires_at", 0, INT64_MAX, &exp) < 0)
		return 0;
	if (name == NULL)
		return api_error(c, 400, "name", "name is required");
	if ((r = admin_token_create(&c->actor, api_param_id(c, 0), name, exp,
	    tok, sizeof(tok), &t, &err)) != SCEP_OK)
		return api_fail(c, r, &err);
	/* The token itself is shown once, here. */
	if ((j = admin_json_token(&t)) != NULL)
		json_object_set_new(j, "token", json_string(tok));
	sodium_memzero(tok, sizeof(tok));
	return api_json(c, 201, j);
}

int
h_token_revoke(struct api_call *c)
{
	int r;

	if ((r = admin_token_revoke(&c->actor, api_param_id(c, 0),
	    api_param_id(c, 1))) != SCEP_OK)
		return api_fail(c, r, NULL);
	return api_no_content(c);
}
