/*
 * admin_azure.c -- Azure accounts and the Intune settings of endpoints
 * (issue 5): scope, validation, audit.  The secrets are sealed by
 * svc_intune_account_save; nothing here writes one anywhere.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "admin_azure.h"
#include "admin_int.h"
#include "intune.h"
#include "scep_err.h"
#include "svc_intune.h"

#define NO_INTUNE	"Intune support is not running in this scepd"
#define SECRET_MAX	512	/* bytes of a client secret or password */

static const char *const env_names[INTUNE_ENV__MAX] = {
	"global", "usgov", "usgov-dod", "china", "custom"
};

const char *
admin_azure_env_name(int env)
{
	return env >= 0 && env < INTUNE_ENV__MAX ? env_names[env] : NULL;
}

static int
env_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < INTUNE_ENV__MAX; i++)
		if (strcmp(env_names[i], s) == 0)
			return i;
	return -1;
}

#define AA	struct store_azure_account
static const struct {
	const char	*name;
	size_t		 off;
	size_t		 size;
} str_fields[] = {
	{ "name", offsetof(AA, name), sizeof(((AA *)0)->name) },
	{ "tenant_id", offsetof(AA, tenant_id), sizeof(((AA *)0)->tenant_id) },
	{ "client_id", offsetof(AA, client_id), sizeof(((AA *)0)->client_id) },
	{ "authority_url", offsetof(AA, authority_url),
	    sizeof(((AA *)0)->authority_url) },
	{ "graph_url", offsetof(AA, graph_url), sizeof(((AA *)0)->graph_url) },
	{ "intune_resource_url", offsetof(AA, intune_resource_url),
	    sizeof(((AA *)0)->intune_resource_url) },
	{ "intune_app_id", offsetof(AA, intune_app_id),
	    sizeof(((AA *)0)->intune_app_id) },
	{ "graph_scope", offsetof(AA, graph_scope),
	    sizeof(((AA *)0)->graph_scope) },
	{ "intune_scope", offsetof(AA, intune_scope),
	    sizeof(((AA *)0)->intune_scope) },
	{ "proxy", offsetof(AA, proxy), sizeof(((AA *)0)->proxy) },
	{ "proxy_user", offsetof(AA, proxy_user),
	    sizeof(((AA *)0)->proxy_user) },
	{ "ca_bundle_path", offsetof(AA, ca_bundle_path),
	    sizeof(((AA *)0)->ca_bundle_path) },
};
#undef AA
#define NSTR	(sizeof(str_fields) / sizeof(str_fields[0]))

/* Output only: accepted back unchanged, ignored. */
static const char *const ro_fields[] = { "id", "created_at", "updated_at",
    "has_proxy_password", NULL };

json_t *
admin_json_azure(const struct admin_azure *x)
{
	const char *base = (const char *)&x->acct;
	json_t *j = json_object();
	size_t i;
	int bad = 0;

	if (j == NULL)
		return NULL;
	bad |= json_object_set_new(j, "id", json_integer(x->acct.id));
	for (i = 0; i < NSTR; i++)
		bad |= json_object_set_new(j, str_fields[i].name,
		    json_string(base + str_fields[i].off));
	bad |= json_object_set_new(j, "environment",
	    json_string(admin_azure_env_name(x->acct.environment)));
	bad |= json_object_set_new(j, "has_proxy_password",
	    json_boolean(x->has_proxy_password));
	bad |= json_object_set_new(j, "revocation_poll",
	    json_boolean(x->acct.revocation_poll));
	bad |= json_object_set_new(j, "delegation", json_string(
	    x->acct.delegation_general ? "general" : "customized"));
	bad |= json_object_set_new(j, "targets",
	    admin_refs_encode(x->targets, x->ntargets));
	bad |= json_object_set_new(j, "created_at",
	    json_integer(x->acct.created_at));
	bad |= json_object_set_new(j, "updated_at",
	    json_integer(x->acct.updated_at));
	if (bad) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int
visible(const struct admin_actor *a, const struct admin_azure *x)
{
	size_t i;

	if (admin_is_mrao(a) || x->acct.delegation_general)
		return 1;
	for (i = 0; i < x->ntargets; i++)
		if (admin_scope_touches(a, &x->targets[i]))
			return 1;
	return 0;
}

/* Load an account with its targets, regardless of scope; blobs dropped. */
static int
load(struct store *st, int64_t id, struct admin_azure *x)
{
	struct store_azure_account row;
	int r;

	memset(x, 0, sizeof(*x));
	memset(&row, 0, sizeof(row));
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	if ((r = store_azure_account_get(st, id, &row)) != SCEP_OK)
		return r;
	if (row.deleted_at != 0) {
		store_azure_account_clear(&row);
		return SCEP_E_NOTFOUND;
	}
	x->acct = row;
	x->acct.secret = x->acct.proxy_password = NULL;
	x->acct.secret_len = x->acct.proxy_password_len = 0;
	x->has_proxy_password = row.proxy_password != NULL;
	store_azure_account_clear(&row);
	if (!x->acct.delegation_general)
		r = store_azure_account_targets(st, id, x->targets,
		    ADMIN_MAX_TARGETS, &x->ntargets);
	return r;
}

int
admin_azure_get(struct admin_actor *a, int64_t id, struct admin_azure *x)
{
	int r;

	if ((r = load(svc_store(a->svc), id, x)) != SCEP_OK)
		return r;
	if (!visible(a, x)) {
		memset(x, 0, sizeof(*x));
		return SCEP_E_NOTFOUND;
	}
	return SCEP_OK;
}

int
admin_azure_list(struct admin_actor *a, struct admin_azure *out, size_t max,
    size_t *n)
{
	struct store_azure_account *rows = NULL;
	size_t nrows = 0, i;
	int r;

	*n = 0;
	if (max > SVC_INTUNE_MAX_ACCOUNTS)
		max = SVC_INTUNE_MAX_ACCOUNTS;
	if ((rows = calloc(max ? max : 1, sizeof(*rows))) == NULL)
		return SCEP_E_NOMEM;
	r = store_azure_account_list(svc_store(a->svc), rows, max, &nrows);
	for (i = 0; i < nrows; i++) {
		if (r == SCEP_OK && load(svc_store(a->svc), rows[i].id,
		    &out[*n]) == SCEP_OK && visible(a, &out[*n]))
			(*n)++;
		store_azure_account_clear(&rows[i]);
	}
	free(rows);
	return r;
}

/* Targets of a Customized delegation: existing organizations and
 * departments of that organization, none twice. */
static int
targets_check(struct store *st, const struct admin_azure *x,
    struct admin_err *err)
{
	struct store_org org;
	struct store_dept dept;
	size_t i, j;

	if (x->acct.delegation_general && x->ntargets != 0) {
		admin_err_set(err, "targets",
		    "General delegation takes no targets");
		return SCEP_E_MALFORMED;
	}
	for (i = 0; i < x->ntargets; i++) {
		const struct store_orgref *t = &x->targets[i];

		if (t->org_id <= 0 || store_org_get(st, t->org_id, &org) !=
		    SCEP_OK) {
			admin_err_set(err, "targets", "no such organization: "
			    "%lld", (long long)t->org_id);
			return SCEP_E_MALFORMED;
		}
		if (t->dept_id != 0 && (store_dept_get(st, t->dept_id,
		    &dept) != SCEP_OK || dept.org_id != t->org_id)) {
			admin_err_set(err, "targets", "no such department in "
			    "organization %lld: %lld", (long long)t->org_id,
			    (long long)t->dept_id);
			return SCEP_E_MALFORMED;
		}
		for (j = 0; j < i; j++)
			if (x->targets[j].org_id == t->org_id &&
			    x->targets[j].dept_id == t->dept_id) {
				admin_err_set(err, "targets",
				    "a target is listed twice");
				return SCEP_E_MALFORMED;
			}
	}
	return SCEP_OK;
}

/* A secret from JSON: 1..SECRET_MAX bytes, no control characters. */
static int
secret_of(json_t *v, const char *field, int allow_empty, const char **out,
    struct admin_err *err)
{
	const char *s;
	size_t len, i;

	if (!json_is_string(v))
		goto bad;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > SECRET_MAX || strlen(s) != len || (len == 0 &&
	    !allow_empty))
		goto bad;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			goto bad;
	*out = s;
	return SCEP_OK;
 bad:
	admin_err_set(err, field, "%s must be a string of 1 to %d printable "
	    "bytes", field, SECRET_MAX);
	return SCEP_E_MALFORMED;
}

static int
is_ro(const char *k)
{
	size_t i;

	for (i = 0; ro_fields[i] != NULL; i++)
		if (strcmp(ro_fields[i], k) == 0)
			return 1;
	return 0;
}

/*
 * Apply JSON "in" to x.  *secret and *pp (borrowed from "in") are the
 * client secret and proxy password given, NULL when absent; a null or
 * empty proxy_password is "" (remove it).
 */
static int
decode(json_t *in, struct admin_azure *x, const char **secret,
    const char **pp, struct admin_err *err)
{
	const char *k;
	json_t *v;
	size_t i;
	int deleg_given = 0, r;

	*secret = *pp = NULL;
	if (!json_is_object(in)) {
		admin_err_set(err, NULL, "the body must be a JSON object");
		return SCEP_E_MALFORMED;
	}
	json_object_foreach(in, k, v) {
		for (i = 0; i < NSTR; i++)
			if (strcmp(str_fields[i].name, k) == 0)
				break;
		if (i < NSTR) {
			char *p = (char *)&x->acct + str_fields[i].off;

			if (!json_is_string(v) || json_string_length(v) >=
			    str_fields[i].size || strlen(json_string_value(v))
			    != json_string_length(v)) {
				admin_err_set(err, str_fields[i].name, "%s must "
				    "be a string shorter than %zu bytes", k,
				    str_fields[i].size);
				return SCEP_E_MALFORMED;
			}
			memcpy(p, json_string_value(v),
			    json_string_length(v) + 1);
		} else if (strcmp(k, "environment") == 0) {
			if ((r = env_parse(json_string_value(v))) < 0) {
				admin_err_set(err, "environment", "environment "
				    "must be one of: global, usgov, usgov-dod, "
				    "china, custom");
				return SCEP_E_MALFORMED;
			}
			x->acct.environment = r;
		} else if (strcmp(k, "revocation_poll") == 0) {
			if (!json_is_boolean(v)) {
				admin_err_set(err, k, "%s must be true or "
				    "false", k);
				return SCEP_E_MALFORMED;
			}
			x->acct.revocation_poll = json_is_true(v);
		} else if (strcmp(k, "delegation") == 0) {
			const char *s = json_string_value(v);

			if (s == NULL || (strcmp(s, "general") != 0 &&
			    strcmp(s, "customized") != 0)) {
				admin_err_set(err, k, "delegation must be "
				    "general or customized");
				return SCEP_E_MALFORMED;
			}
			x->acct.delegation_general = strcmp(s, "general") == 0;
			deleg_given = 1;
		} else if (strcmp(k, "targets") == 0) {
			if ((r = admin_refs_decode(v, "targets", x->targets,
			    ADMIN_MAX_TARGETS, &x->ntargets, err)) != SCEP_OK)
				return r;
		} else if (strcmp(k, "client_secret") == 0) {
			if ((r = secret_of(v, k, 0, secret, err)) != SCEP_OK)
				return r;
		} else if (strcmp(k, "proxy_password") == 0) {
			if (json_is_null(v))
				*pp = "";
			else if ((r = secret_of(v, k, 1, pp, err)) != SCEP_OK)
				return r;
		} else if (!is_ro(k)) {
			admin_err_set(err, k, "unknown member: %s", k);
			return SCEP_E_MALFORMED;
		}
	}
	/* Targets alone mean Customized; General drops them. */
	if (!deleg_given && json_object_get(in, "targets") != NULL &&
	    x->ntargets > 0)
		x->acct.delegation_general = 0;
	else if (deleg_given && x->acct.delegation_general &&
	    json_object_get(in, "targets") == NULL)
		x->ntargets = 0;
	if ((r = admin_name_check(x->acct.name, err, "name")) != SCEP_OK)
		return r;
	if (x->acct.tenant_id[0] == '\0' || x->acct.client_id[0] == '\0') {
		admin_err_set(err, x->acct.tenant_id[0] == '\0' ? "tenant_id" :
		    "client_id", "tenant_id and client_id are required");
		return SCEP_E_MALFORMED;
	}
	return SCEP_OK;
}

static struct svc_intune *
intune_of(struct admin_actor *a, struct admin_err *err)
{
	struct svc_intune *si = svc_get_intune(a->svc);

	if (si == NULL)
		admin_err_set(err, NULL, NO_INTUNE);
	return si;
}

/* svc_intune_account_save with the state of x; sets id and times. */
static int
save(struct admin_actor *a, struct admin_azure *x, const char *secret,
    const char *pp, struct admin_err *err)
{
	struct svc_intune *si;
	struct store_azure_account row;
	char why[256];
	int r;

	if ((si = intune_of(a, err)) == NULL)
		return SCEP_E_CONFIG;
	if ((r = targets_check(svc_store(a->svc), x, err)) != SCEP_OK)
		return r;
	row = x->acct;
	row.secret = row.proxy_password = NULL;
	why[0] = '\0';
	r = svc_intune_account_save(si, &row, secret, pp,
	    x->acct.delegation_general ? NULL : x->targets,
	    x->acct.delegation_general ? 0 : x->ntargets, why, sizeof(why));
	x->acct.id = row.id;
	store_azure_account_clear(&row);
	switch (r) {
	case SCEP_OK:
		return SCEP_OK;
	case SCEP_E_CONFIG:
		admin_err_set(err, NULL, "%s", why[0] ? why :
		    "the configuration is refused");
		return SCEP_E_MALFORMED;
	case SCEP_E_EXISTS:
		admin_err_set(err, "name", "another Azure account has this "
		    "name");
		return r;
	case SCEP_E_TOOBIG:
		admin_err_set(err, NULL, "a value is too long");
		return SCEP_E_MALFORMED;
	default:
		return r;
	}
}

static int
mrao_only(struct admin_actor *a, struct admin_err *err)
{
	if (admin_is_mrao(a))
		return SCEP_OK;
	admin_err_set(err, NULL, "Azure accounts are managed by MRAO "
	    "administrators only");
	return SCEP_E_DENIED;
}

int
admin_azure_create(struct admin_actor *a, json_t *in, struct admin_azure *out,
    struct admin_err *err)
{
	const char *secret, *pp;
	json_t *after;
	int r;

	memset(out, 0, sizeof(*out));
	out->acct.delegation_general = 1;
	if ((r = mrao_only(a, err)) != SCEP_OK ||
	    (r = decode(in, out, &secret, &pp, err)) != SCEP_OK)
		return r;
	if (secret == NULL) {
		admin_err_set(err, "client_secret", "client_secret is "
		    "required");
		return SCEP_E_MALFORMED;
	}
	if ((r = save(a, out, secret, pp != NULL && pp[0] != '\0' ? pp :
	    NULL, err)) != SCEP_OK ||
	    (r = load(svc_store(a->svc), out->acct.id, out)) != SCEP_OK)
		return r;
	after = admin_json_azure(out);
	(void)admin_audit(a, "azure_account.create", 0, 0, NULL, "SUCCESS",
	    NULL, NULL, after);
	json_decref(after);
	return SCEP_OK;
}

int
admin_azure_update(struct admin_actor *a, int64_t id, json_t *in,
    struct admin_azure *out, struct admin_err *err)
{
	const char *secret, *pp;
	json_t *before = NULL, *after = NULL;
	int r;

	if ((r = admin_azure_get(a, id, out)) != SCEP_OK ||
	    (r = mrao_only(a, err)) != SCEP_OK)
		return r;
	before = admin_json_azure(out);
	if ((r = decode(in, out, &secret, &pp, err)) != SCEP_OK ||
	    (r = save(a, out, secret, pp, err)) != SCEP_OK ||
	    (r = load(svc_store(a->svc), id, out)) != SCEP_OK) {
		json_decref(before);
		return r;
	}
	after = admin_json_azure(out);
	(void)admin_audit(a, "azure_account.update", 0, 0, NULL, "SUCCESS",
	    secret != NULL ? "client secret replaced" : NULL, before, after);
	json_decref(before);
	json_decref(after);
	return SCEP_OK;
}

int
admin_azure_rotate(struct admin_actor *a, int64_t id, json_t *in,
    struct admin_err *err)
{
	struct admin_azure *x;
	const char *secret = NULL, *k;
	json_t *v;
	int r;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = admin_azure_get(a, id, x)) != SCEP_OK ||
	    (r = mrao_only(a, err)) != SCEP_OK)
		goto out;
	r = SCEP_E_MALFORMED;
	if (!json_is_object(in)) {
		admin_err_set(err, NULL, "the body must be a JSON object");
		goto out;
	}
	json_object_foreach(in, k, v)
		if (strcmp(k, "client_secret") != 0) {
			admin_err_set(err, k, "unknown member: %s", k);
			goto out;
		}
	if ((v = json_object_get(in, "client_secret")) == NULL) {
		admin_err_set(err, "client_secret", "client_secret is "
		    "required");
		goto out;
	}
	if ((r = secret_of(v, "client_secret", 0, &secret, err)) != SCEP_OK ||
	    (r = save(a, x, secret, NULL, err)) != SCEP_OK)
		goto out;
	(void)admin_audit(a, "azure_account.rotate_secret", 0, 0, NULL,
	    "SUCCESS", "client secret replaced; cached tokens dropped", NULL,
	    NULL);
 out:
	free(x);
	return r;
}

int
admin_azure_delete(struct admin_actor *a, int64_t id, struct admin_err *err)
{
	struct admin_azure *x;
	struct svc_intune *si = svc_get_intune(a->svc);
	json_t *before;
	int r;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = admin_azure_get(a, id, x)) != SCEP_OK ||
	    (r = mrao_only(a, err)) != SCEP_OK)
		goto out;
	r = store_azure_account_delete(svc_store(a->svc), id, admin_now());
	if (r == SCEP_E_DENIED) {
		admin_err_set(err, NULL, "an Intune endpoint uses this Azure "
		    "account: connect it to another account first");
		r = SCEP_E_EXISTS;
		goto out;
	}
	if (r != SCEP_OK)
		goto out;
	if (si != NULL)
		(void)svc_intune_sync(si, NULL, 0);
	before = admin_json_azure(x);
	(void)admin_audit(a, "azure_account.delete", 0, 0, NULL, "SUCCESS",
	    NULL, before, NULL);
	json_decref(before);
 out:
	free(x);
	return r;
}

static json_t *
step_json(const char *step, const struct intune_call *c)
{
	static const char *const stages[] = { "none", "config", "token",
	    "discovery", "call", "response", "rejected" };

	return json_pack("{s:s, s:b, s:s, s:I, s:s, s:s, s:s, s:I}",
	    "step", step, "ok", c->action != NULL && c->rc == SCEP_OK,
	    "stage", c->stage >= 0 && c->stage <= 6 ? stages[c->stage] : "?",
	    "http_status", (json_int_t)c->http_status, "code", c->code,
	    "message", c->action == NULL ? "not run" : c->message,
	    "aadsts", c->aadsts, "elapsed_ms", (json_int_t)c->elapsed_ms);
}

int
admin_azure_test(struct admin_actor *a, int64_t id, json_t **report,
    struct admin_err *err)
{
	struct intune_test_report *rep = NULL;
	struct admin_azure *x = NULL;
	struct svc_intune *si;
	json_t *steps = NULL;
	int r;

	*report = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (rep = calloc(1, sizeof(*rep))) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	if ((r = admin_azure_get(a, id, x)) != SCEP_OK ||
	    (r = mrao_only(a, err)) != SCEP_OK)
		goto out;
	if ((si = intune_of(a, err)) == NULL) {
		r = SCEP_E_CONFIG;
		goto out;
	}
	(void)svc_intune_sync(si, NULL, 0);
	if (svc_intune_account_test(si, id, rep) == SCEP_E_NOTFOUND)
		snprintf(rep->summary, sizeof(rep->summary), "the account "
		    "could not be loaded (its secret does not open with this "
		    "node's azure.key, or its configuration is refused: see "
		    "the log)");
	steps = json_array();
	if (steps != NULL) {
		json_array_append_new(steps, step_json("graph_token",
		    &rep->graph_token));
		json_array_append_new(steps, step_json("discovery",
		    &rep->discovery));
		json_array_append_new(steps, step_json("intune_token",
		    &rep->intune_token));
	}
	*report = json_pack("{s:b, s:s, s:o, s:s, s:s}", "ok",
	    rep->rc == SCEP_OK, "summary", rep->summary, "steps", steps,
	    "validation_uri", rep->validation_uri, "revocation_uri",
	    rep->revocation_uri);
	(void)admin_audit(a, "azure_account.test", 0, 0, NULL,
	    rep->rc == SCEP_OK ? "SUCCESS" : "FAILURE", rep->summary, NULL,
	    NULL);
	r = *report != NULL ? SCEP_OK : SCEP_E_NOMEM;
 out:
	free(x);
	free(rep);
	return r;
}

/* ---- Intune settings of endpoints ---- */

static int
intune_ep(const struct admin_endpoint *e)
{
	return e->ep.type == EP_CLIENT_INTUNE || e->ep.type == EP_DEVICE_INTUNE;
}

void
admin_ep_intune_defaults(const struct admin_endpoint *e,
    struct store_intune_ep *s)
{
	memset(s, 0, sizeof(*s));
	s->endpoint_id = e->ep.id;
	s->wait_success = 1;	/* fail closed (spec 2 step 6) */
}

/* Is account x delegated to the endpoint's organization/department? */
static int
delegated_to(const struct admin_azure *x, const struct admin_endpoint *e)
{
	size_t i;

	if (x->acct.delegation_general)
		return 1;
	for (i = 0; i < x->ntargets; i++)
		if (x->targets[i].org_id == e->ep.org_id &&
		    (x->targets[i].dept_id == 0 ||
		    x->targets[i].dept_id == e->ep.dept_id))
			return 1;
	return 0;
}

static int
str_member(json_t *v, const char *k, char *dst, size_t dstsz,
    struct admin_err *err)
{
	if (!json_is_string(v) || json_string_length(v) >= dstsz ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		admin_err_set(err, k, "%s must be a string shorter than %zu "
		    "bytes", k, dstsz);
		return SCEP_E_MALFORMED;
	}
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return SCEP_OK;
}

int
admin_ep_intune_decode(struct admin_actor *a, json_t *in,
    const struct admin_endpoint *e, struct store_intune_ep *cur, int *given,
    struct admin_err *err)
{
	struct admin_azure *x;
	json_t *v;
	int r;

	*given = 0;
	if (json_object_get(in, "azure_account_id") == NULL &&
	    json_object_get(in, "wait_success") == NULL &&
	    json_object_get(in, "ca_configuration") == NULL &&
	    json_object_get(in, "issuing_ca") == NULL)
		return SCEP_OK;
	*given = 1;
	if (!intune_ep(e)) {
		admin_err_set(err, "azure_account_id", "only Intune endpoints "
		    "have Azure account settings");
		return SCEP_E_MALFORMED;
	}
	if ((v = json_object_get(in, "azure_account_id")) != NULL) {
		if (json_is_null(v))
			cur->azure_account_id = 0;
		else if (!json_is_integer(v) || json_integer_value(v) < 0) {
			admin_err_set(err, "azure_account_id",
			    "azure_account_id must be an account id or null");
			return SCEP_E_MALFORMED;
		} else
			cur->azure_account_id = json_integer_value(v);
	}
	if ((v = json_object_get(in, "wait_success")) != NULL) {
		if (!json_is_boolean(v)) {
			admin_err_set(err, "wait_success", "wait_success must "
			    "be true or false");
			return SCEP_E_MALFORMED;
		}
		cur->wait_success = json_is_true(v);
	}
	if (((v = json_object_get(in, "ca_configuration")) != NULL &&
	    (r = str_member(v, "ca_configuration", cur->ca_configuration,
	    sizeof(cur->ca_configuration), err)) != SCEP_OK) ||
	    ((v = json_object_get(in, "issuing_ca")) != NULL &&
	    (r = str_member(v, "issuing_ca", cur->issuing_ca,
	    sizeof(cur->issuing_ca), err)) != SCEP_OK))
		return r;
	if (cur->azure_account_id == 0)
		return SCEP_OK;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return SCEP_E_NOMEM;
	r = SCEP_OK;
	if (admin_azure_get(a, cur->azure_account_id, x) != SCEP_OK) {
		admin_err_set(err, "azure_account_id", "no such Azure account: "
		    "%lld", (long long)cur->azure_account_id);
		r = SCEP_E_MALFORMED;
	} else if (!delegated_to(x, e)) {
		admin_err_set(err, "azure_account_id", "Azure account %lld is "
		    "not delegated to the endpoint's organization",
		    (long long)cur->azure_account_id);
		r = SCEP_E_MALFORMED;
	}
	free(x);
	return r;
}

static json_t *
settings_json(const struct store_intune_ep *s)
{
	return json_pack("{s:o, s:b, s:s, s:s}", "azure_account_id",
	    s->azure_account_id > 0 ? json_integer(s->azure_account_id) :
	    json_null(), "wait_success", s->wait_success, "ca_configuration",
	    s->ca_configuration, "issuing_ca", s->issuing_ca);
}

int
admin_ep_intune_save(struct admin_actor *a, const struct admin_endpoint *e,
    const struct store_intune_ep *in)
{
	struct store *st = svc_store(a->svc);
	struct svc_intune *si = svc_get_intune(a->svc);
	struct store_intune_ep old, s = *in;
	json_t *before, *after;
	int r;

	s.endpoint_id = e->ep.id;
	if (store_intune_ep_get(st, e->ep.id, &old) != SCEP_OK)
		admin_ep_intune_defaults(e, &old);
	/* A form sends the settings back unchanged with every edit: no
	 * write, no audit record for that. */
	if (old.azure_account_id == s.azure_account_id &&
	    old.wait_success == s.wait_success &&
	    strcmp(old.ca_configuration, s.ca_configuration) == 0 &&
	    strcmp(old.issuing_ca, s.issuing_ca) == 0)
		return SCEP_OK;
	if (s.azure_account_id > 0)
		r = store_intune_ep_set(st, &s);
	else if ((r = store_intune_ep_delete(st, e->ep.id)) ==
	    SCEP_E_NOTFOUND)
		r = SCEP_OK;
	if (r != SCEP_OK)
		return r;
	if (si != NULL)
		(void)svc_intune_sync(si, NULL, 0);
	before = settings_json(&old);
	after = settings_json(&s);
	(void)admin_audit(a, "endpoint.intune", e->ep.id, 0, NULL, "SUCCESS",
	    NULL, before, after);
	json_decref(before);
	json_decref(after);
	return SCEP_OK;
}

int
admin_ep_intune_json(struct admin_actor *a, const struct admin_endpoint *e,
    json_t *j)
{
	struct store_intune_ep s;
	json_t *sj;

	if (!intune_ep(e))
		return SCEP_OK;
	if (store_intune_ep_get(svc_store(a->svc), e->ep.id, &s) != SCEP_OK)
		admin_ep_intune_defaults(e, &s);
	if ((sj = settings_json(&s)) == NULL ||
	    json_object_update(j, sj) != 0) {
		json_decref(sj);
		return SCEP_E_NOMEM;
	}
	json_decref(sj);
	return SCEP_OK;
}
