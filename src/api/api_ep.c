/*
 * api_ep.c -- /api/v1 handlers for enrollment endpoints, their
 * delegation, accounts and one-time challenges.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admin_azure.h"
#include "api_int.h"
#include "scep_err.h"

static const char *
base_url(struct api_call *c)
{
	const struct svc_config *cfg = svc_get_config(c->api->svc);

	return cfg != NULL ? cfg->base_url : NULL;
}

/* ---- endpoints ---- */

/* The endpoint's JSON with its Intune settings (Intune types). */
static json_t *
ep_json(struct api_call *c, const struct admin_endpoint *e)
{
	json_t *j = admin_json_endpoint(e, base_url(c));

	if (j != NULL && admin_ep_intune_json(&c->actor, e, j) != SCEP_OK) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

int
h_ep_list(struct api_call *c)
{
	struct admin_endpoint *list = NULL;
	char ext[STORE_NAME_MAX];
	json_t *items = NULL;
	size_t n = 0, i;
	int deleted = 0, hasext, r;

	if (api_query_bool(c, "deleted", &deleted) < 0 ||
	    (hasext = api_query_str(c, "uri_ext", ext, sizeof(ext))) < 0)
		return 0;
	if ((list = calloc(ADMIN_MAX_LIST, sizeof(*list))) == NULL)
		return -1;
	if ((r = admin_endpoint_list(&c->actor, deleted, list, ADMIN_MAX_LIST,
	    &n)) != SCEP_OK) {
		free(list);
		return api_fail(c, r, NULL);
	}
	if ((items = json_array()) != NULL)
		for (i = 0; i < n; i++)
			if (!hasext || strcmp(list[i].ep.uri_ext, ext) == 0)
				json_array_append_new(items,
				    ep_json(c, &list[i]));
	free(list);
	return api_json(c, 200, api_list(items));
}

int
h_ep_create(struct api_call *c)
{
	struct admin_endpoint *e = NULL;
	struct store_intune_ep ie;
	struct admin_err err;
	json_t *j;
	int given = 0, r;

	memset(&err, 0, sizeof(err));
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	admin_ep_intune_defaults(e, &ie);
	if ((r = admin_endpoint_defaults(&c->actor, e)) != SCEP_OK ||
	    (r = admin_json_to_endpoint(c->body, 1, e, &err)) != SCEP_OK ||
	    (r = admin_ep_intune_decode(&c->actor, c->body, e, &ie, &given,
	    &err)) != SCEP_OK ||
	    (r = admin_endpoint_create(&c->actor, e, &err)) != SCEP_OK ||
	    (given && (r = admin_ep_intune_save(&c->actor, e, &ie)) !=
	    SCEP_OK)) {
		free(e);
		return api_fail(c, r, &err);
	}
	j = ep_json(c, e);
	free(e);
	return api_json(c, 201, j);
}

/* {"delegation": "general"|"customized", "targets": [...]} */
static json_t *
deleg_json(const struct admin_endpoint *e)
{
	json_t *full = admin_json_endpoint(e, NULL), *j = NULL;

	if (full != NULL)
		j = json_pack("{s:O, s:O}", "delegation",
		    json_object_get(full, "delegation"), "targets",
		    json_object_get(full, "targets"));
	json_decref(full);
	return j;
}

/* GET of endpoint {0}: all of it, or (deleg_only) its delegation. */
static int
ep_show(struct api_call *c, int deleg_only)
{
	struct admin_endpoint *e = NULL;
	json_t *j;
	int r;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	if ((r = admin_endpoint_get(&c->actor, api_param_id(c, 0), e)) !=
	    SCEP_OK) {
		free(e);
		return api_fail(c, r, NULL);
	}
	j = deleg_only ? deleg_json(e) : ep_json(c, e);
	free(e);
	return api_json(c, 200, j);
}

int
h_ep_get(struct api_call *c)
{
	return ep_show(c, 0);
}

/* Apply the body to the current state and save it. */
static int
ep_change(struct api_call *c, int deleg_only)
{
	static const char *const dallowed[] = { "delegation", "targets",
	    NULL };
	struct admin_endpoint *e = NULL;
	struct store_intune_ep ie;
	struct admin_err err;
	json_t *j = NULL;
	int given = 0, r;

	memset(&err, 0, sizeof(err));
	if (deleg_only && api_body_only(c, dallowed) != 0)
		return 0;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	if ((r = admin_endpoint_get(&c->actor, api_param_id(c, 0), e)) !=
	    SCEP_OK)
		goto fail;
	if (e->ep.deleted_at != 0) {
		r = SCEP_E_NOTFOUND;
		goto fail;
	}
	if (deleg_only) {
		/* PUT replaces the whole delegation. */
		if (json_object_get(c->body, "delegation") == NULL) {
			free(e);
			return api_error(c, 400, "delegation",
			    "delegation (general or customized) is required");
		}
		e->ntargets = 0;
	}
	if (store_intune_ep_get(svc_store(c->api->svc), e->ep.id, &ie) !=
	    SCEP_OK)
		admin_ep_intune_defaults(e, &ie);
	if ((r = admin_json_to_endpoint(c->body, 0, e, &err)) != SCEP_OK ||
	    (!deleg_only && (r = admin_ep_intune_decode(&c->actor, c->body,
	    e, &ie, &given, &err)) != SCEP_OK) ||
	    (r = admin_endpoint_update(&c->actor, e, &err)) != SCEP_OK ||
	    (given && (r = admin_ep_intune_save(&c->actor, e, &ie)) !=
	    SCEP_OK) ||
	    (r = admin_endpoint_get(&c->actor, e->ep.id, e)) != SCEP_OK)
		goto fail;
	if (deleg_only)
		j = deleg_json(e);
	else
		j = ep_json(c, e);
	free(e);
	return api_json(c, 200, j);
 fail:
	free(e);
	return api_fail(c, r, &err);
}

int
h_ep_update(struct api_call *c)
{
	return ep_change(c, 0);
}

int
h_ep_delete(struct api_call *c)
{
	int r;

	if ((r = admin_endpoint_delete(&c->actor, api_param_id(c, 0))) !=
	    SCEP_OK)
		return api_fail(c, r, NULL);
	return api_no_content(c);
}

int
h_ep_deleg_get(struct api_call *c)
{
	return ep_show(c, 1);
}

int
h_ep_deleg_set(struct api_call *c)
{
	return ep_change(c, 1);
}

int
h_ep_audit(struct api_call *c)
{
	struct admin_endpoint *e = NULL;
	int r;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	r = admin_endpoint_get(&c->actor, api_param_id(c, 0), e);
	free(e);
	if (r != SCEP_OK)
		return api_fail(c, r, NULL);
	return api_audit_query(c, api_param_id(c, 0));
}

/* ---- accounts ---- */

static int
acct_list(struct api_call *c, int64_t endpoint_id)
{
	struct admin_account *list = NULL;
	json_t *items = NULL;
	int64_t org = 0, dept = 0;
	size_t n = 0, i;
	int r;

	if (api_query_i64(c, "org_id", 1, INT64_MAX, &org) < 0 ||
	    api_query_i64(c, "dept_id", 1, INT64_MAX, &dept) < 0)
		return 0;
	if ((list = calloc(ADMIN_MAX_LIST, sizeof(*list))) == NULL)
		return -1;
	if ((r = admin_account_list(&c->actor, endpoint_id, list,
	    ADMIN_MAX_LIST, &n)) != SCEP_OK) {
		free(list);
		return api_fail(c, r, NULL);
	}
	if ((items = json_array()) != NULL)
		for (i = 0; i < n; i++)
			if ((org == 0 || list[i].acct.org_id == org) &&
			    (dept == 0 || list[i].acct.dept_id == dept))
				json_array_append_new(items,
				    admin_json_account(&list[i]));
	free(list);
	return api_json(c, 200, api_list(items));
}

int
h_ep_accounts(struct api_call *c)
{
	return acct_list(c, api_param_id(c, 0));
}

int
h_acct_list(struct api_call *c)
{
	int64_t ep = 0;

	if (api_query_i64(c, "endpoint_id", 1, INT64_MAX, &ep) < 0)
		return 0;
	return acct_list(c, ep);
}

int
h_ep_account_create(struct api_call *c)
{
	struct admin_account x;
	struct admin_err err;
	char ch[SVC_CHALLENGE_LEN + 1];
	int64_t ep = api_param_id(c, 0);
	json_t *j, *v;
	int r;

	memset(&err, 0, sizeof(err));
	if (ep == 0)
		return api_error(c, 404, NULL, "not found");
	/* The endpoint comes from the path; a body that names another one
	 * is a mistake worth reporting. */
	if ((v = json_object_get(c->body, "endpoint_id")) != NULL &&
	    (!json_is_integer(v) || json_integer_value(v) != ep))
		return api_error(c, 400, "endpoint_id",
		    "endpoint_id differs from the path");
	if ((r = admin_account_defaults(&c->actor, ep, &x)) != SCEP_OK ||
	    (r = admin_json_to_account(c->body, 1, &x, &err)) != SCEP_OK ||
	    (r = admin_account_create(&c->actor, &x, ch, sizeof(ch), &err)) !=
	    SCEP_OK)
		return api_fail(c, r, &err);
	/* The challenge is shown once, here; only its keyed hash is kept. */
	if ((j = admin_json_account(&x)) != NULL)
		json_object_set_new(j, "challenge", json_string(ch));
	sodium_memzero(ch, sizeof(ch));
	return api_json(c, 201, j);
}

int
h_acct_get(struct api_call *c)
{
	struct admin_account x;
	int r;

	if ((r = admin_account_get(&c->actor, api_param_id(c, 0), &x)) !=
	    SCEP_OK)
		return api_fail(c, r, NULL);
	return api_json(c, 200, admin_json_account(&x));
}

int
h_acct_update(struct api_call *c)
{
	struct admin_account x;
	struct admin_err err;
	int r;

	memset(&err, 0, sizeof(err));
	if ((r = admin_account_get(&c->actor, api_param_id(c, 0), &x)) !=
	    SCEP_OK ||
	    (r = admin_json_to_account(c->body, 0, &x, &err)) != SCEP_OK ||
	    (r = admin_account_update(&c->actor, &x, &err)) != SCEP_OK ||
	    (r = admin_account_get(&c->actor, x.acct.id, &x)) != SCEP_OK)
		return api_fail(c, r, &err);
	return api_json(c, 200, admin_json_account(&x));
}

int
h_acct_challenge(struct api_call *c)
{
	static const char *const allowed[] = { NULL };
	char ch[SVC_CHALLENGE_LEN + 1];
	int64_t id = api_param_id(c, 0);
	int r;

	if (api_body_only(c, allowed) != 0)
		return 0;
	if ((r = admin_account_challenge(&c->actor, id, ch, sizeof(ch))) !=
	    SCEP_OK)
		return api_fail(c, r, NULL);
	r = api_json(c, 200, json_pack("{s:I, s:s}", "account_id",
	    (json_int_t)id, "challenge", ch));
	sodium_memzero(ch, sizeof(ch));
	return r;
}

int
h_otc_list(struct api_call *c)
{
	struct store_otc *list = NULL;
	json_t *items = NULL;
	size_t n = 0, i;
	int r;

	if ((list = calloc(ADMIN_MAX_LIST, sizeof(*list))) == NULL)
		return -1;
	if ((r = admin_otc_list(&c->actor, api_param_id(c, 0), list,
	    ADMIN_MAX_LIST, &n)) != SCEP_OK) {
		free(list);
		return api_fail(c, r, NULL);
	}
	if ((items = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(items, admin_json_otc(&list[i]));
	free(list);
	return api_json(c, 200, api_list(items));
}

int
h_otc_create(struct api_call *c)
{
	static const char *const allowed[] = { "ttl", NULL };
	struct store_otc o;
	struct admin_err err;
	char ch[SVC_CHALLENGE_LEN + 1];
	int64_t ttl = 0;
	json_t *j;
	int r;

	memset(&err, 0, sizeof(err));
	if (api_body_only(c, allowed) != 0 ||
	    api_body_i64(c, "ttl", 1, ADMIN_OTC_TTL_MAX, &ttl) < 0)
		return 0;
	if ((r = admin_otc_create(&c->actor, api_param_id(c, 0), ttl, ch,
	    sizeof(ch), &o, &err)) != SCEP_OK)
		return api_fail(c, r, &err);
	if ((j = admin_json_otc(&o)) != NULL)
		json_object_set_new(j, "challenge", json_string(ch));
	sodium_memzero(ch, sizeof(ch));
	return api_json(c, 201, j);
}
