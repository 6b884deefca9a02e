/*
 * api_azure.c -- /api/v1/azure-accounts (issue 5): Azure accounts for
 * Intune SCEP endpoints.  The rules are in admin_azure.c; the secrets
 * given here are wiped from the request's JSON once used.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admin_azure.h"
#include "api_int.h"
#include "scep_err.h"
#include "svc_intune.h"

/* Wipe the secret members of the request body once they are used. */
static void
wipe_secrets(json_t *body)
{
	static const char *const keys[] = { "client_secret", "proxy_password",
	    NULL };
	json_t *v;
	size_t i;

	for (i = 0; keys[i] != NULL; i++)
		if ((v = json_object_get(body, keys[i])) != NULL &&
		    json_is_string(v))
			sodium_memzero((char *)(uintptr_t)json_string_value(v),
			    json_string_length(v));
}

static int
fail(struct api_call *c, int r, const struct admin_err *err)
{
	wipe_secrets(c->body);
	if (r == SCEP_E_CONFIG)
		return api_error(c, 503, NULL, "%s", err != NULL &&
		    err->msg[0] ? err->msg : "Intune support is not running");
	return api_fail(c, r, err);
}

int
h_azure_list(struct api_call *c)
{
	struct admin_azure *list;
	json_t *items;
	size_t n = 0, i;
	int r;

	if ((list = calloc(SVC_INTUNE_MAX_ACCOUNTS, sizeof(*list))) == NULL)
		return -1;
	if ((r = admin_azure_list(&c->actor, list, SVC_INTUNE_MAX_ACCOUNTS,
	    &n)) != SCEP_OK) {
		free(list);
		return api_fail(c, r, NULL);
	}
	if ((items = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(items,
			    admin_json_azure(&list[i]));
	free(list);
	return api_json(c, 200, api_list(items));
}

int
h_azure_get(struct api_call *c)
{
	struct admin_azure *x;
	json_t *j;
	int r;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return -1;
	if ((r = admin_azure_get(&c->actor, api_param_id(c, 0), x)) !=
	    SCEP_OK) {
		free(x);
		return api_fail(c, r, NULL);
	}
	j = admin_json_azure(x);
	free(x);
	return api_json(c, 200, j);
}

static int
change(struct api_call *c, int create)
{
	struct admin_azure *x;
	struct admin_err err;
	json_t *j;
	int r;

	memset(&err, 0, sizeof(err));
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return -1;
	r = create ? admin_azure_create(&c->actor, c->body, x, &err) :
	    admin_azure_update(&c->actor, api_param_id(c, 0), c->body, x,
	    &err);
	if (r != SCEP_OK) {
		free(x);
		return fail(c, r, &err);
	}
	wipe_secrets(c->body);
	j = admin_json_azure(x);
	free(x);
	return api_json(c, create ? 201 : 200, j);
}

int
h_azure_create(struct api_call *c)
{
	return change(c, 1);
}

int
h_azure_update(struct api_call *c)
{
	return change(c, 0);
}

int
h_azure_delete(struct api_call *c)
{
	struct admin_err err;
	int r;

	memset(&err, 0, sizeof(err));
	if ((r = admin_azure_delete(&c->actor, api_param_id(c, 0), &err)) !=
	    SCEP_OK)
		return fail(c, r, &err);
	return api_no_content(c);
}

int
h_azure_secret(struct api_call *c)
{
	struct admin_err err;
	int r;

	memset(&err, 0, sizeof(err));
	if ((r = admin_azure_rotate(&c->actor, api_param_id(c, 0), c->body,
	    &err)) != SCEP_OK)
		return fail(c, r, &err);
	wipe_secrets(c->body);
	return api_no_content(c);
}

int
h_azure_test(struct api_call *c)
{
	struct admin_err err;
	json_t *report = NULL;
	int r;

	memset(&err, 0, sizeof(err));
	if ((r = admin_azure_test(&c->actor, api_param_id(c, 0), &report,
	    &err)) != SCEP_OK)
		return fail(c, r, &err);
	return api_json(c, 200, report);
}
