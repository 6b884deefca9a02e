/*
 * admin_org.c -- organizations, departments, administrators and their API
 * tokens (issue 3, "The model").  See admin.h for the scope rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admin.h"
#include "admin_int.h"
#include "scep_err.h"

/* ---- organizations ---- */

/* Is organization "id" (partly) inside the actor's scope? */
static int
org_visible(const struct admin_actor *a, int64_t id)
{
	size_t i;

	if (admin_is_mrao(a))
		return 1;
	for (i = 0; i < a->nscopes; i++)
		if (a->scopes[i].org_id == id)
			return 1;
	return 0;
}

int
admin_org_list(struct admin_actor *a, struct store_org *out, size_t max,
    size_t *n)
{
	size_t i, k = 0;
	int r;

	*n = 0;
	if ((r = store_org_list(svc_store(a->svc), out, max, n)) != SCEP_OK)
		return r;
	for (i = 0; i < *n; i++)
		if (org_visible(a, out[i].id))
			out[k++] = out[i];
	*n = k;
	return SCEP_OK;
}

int
admin_org_get(struct admin_actor *a, int64_t id, struct store_org *out)
{
	int r;

	if (!org_visible(a, id))
		return SCEP_E_NOTFOUND;
	if ((r = store_org_get(svc_store(a->svc), id, out)) != SCEP_OK)
		return r;
	return SCEP_OK;
}

int
admin_org_create(struct admin_actor *a, struct store_org *o,
    struct admin_err *err)
{
	int r;

	if (!admin_is_mrao(a))
		return SCEP_E_DENIED;
	if ((r = admin_name_check(o->name, err, "name")) != SCEP_OK)
		return r;
	o->id = 0;
	o->created_at = admin_now();
	if ((r = store_org_insert(svc_store(a->svc), o)) != SCEP_OK) {
		if (r == SCEP_E_EXISTS)
			admin_err_set(err, "name",
			    "an organization with this name exists");
		return r;
	}
	return admin_audit_done(a, "organization.create",
	    NULL, admin_json_org(o));
}

int
admin_org_update(struct admin_actor *a, const struct store_org *o,
    struct admin_err *err)
{
	struct store_org old;
	int r;

	memset(&old, 0, sizeof(old));
	if ((r = admin_org_get(a, o->id, &old)) != SCEP_OK)
		return r;
	if (!admin_is_mrao(a))
		return SCEP_E_DENIED;
	if ((r = admin_name_check(o->name, err, "name")) != SCEP_OK)
		return r;
	if ((r = store_org_update(svc_store(a->svc), o)) != SCEP_OK) {
		if (r == SCEP_E_EXISTS)
			admin_err_set(err, "name",
			    "an organization with this name exists");
		return r;
	}
	return admin_audit_done(a, "organization.update",
	    admin_json_org(&old), admin_json_org(o));
}

int
admin_org_delete(struct admin_actor *a, int64_t id, struct admin_err *err)
{
	struct store_org old;
	int r;

	memset(&old, 0, sizeof(old));
	if ((r = admin_org_get(a, id, &old)) != SCEP_OK)
		return r;
	if (!admin_is_mrao(a))
		return SCEP_E_DENIED;
	if ((r = store_org_delete(svc_store(a->svc), id)) != SCEP_OK) {
		if (r == SCEP_E_EXISTS)
			admin_err_set(err, NULL, "the organization is still "
			    "in use (departments, accounts, administrators "
			    "or delegations)");
		return r;
	}
	return admin_audit_done(a, "organization.delete",
	    admin_json_org(&old), NULL);
}

/* ---- departments ---- */

static int
dept_visible(const struct admin_actor *a, const struct store_dept *d)
{
	if (admin_is_mrao(a))
		return 1;
	if (a->role == STORE_ROLE_RAO)
		return admin_scope_covers(a, d->org_id, 0);
	return admin_scope_covers(a, d->org_id, d->id);
}

/* May the actor create, rename or delete departments of org_id? */
static int
dept_manager(const struct admin_actor *a, int64_t org_id)
{
	return admin_is_mrao(a) || (a->role == STORE_ROLE_RAO &&
	    admin_scope_covers(a, org_id, 0));
}

int
admin_dept_list(struct admin_actor *a, int64_t org_id, struct store_dept *out,
    size_t max, size_t *n)
{
	size_t i, k = 0;
	int r;

	*n = 0;
	if ((r = store_dept_list(svc_store(a->svc), org_id, out, max, n)) !=
	    SCEP_OK)
		return r;
	for (i = 0; i < *n; i++)
		if (dept_visible(a, &out[i]))
			out[k++] = out[i];
	*n = k;
	return SCEP_OK;
}

int
admin_dept_get(struct admin_actor *a, int64_t id, struct store_dept *out)
{
	int r;

	if ((r = store_dept_get(svc_store(a->svc), id, out)) != SCEP_OK)
		return r;
	if (!dept_visible(a, out)) {
		memset(out, 0, sizeof(*out));
		return SCEP_E_NOTFOUND;
	}
	return SCEP_OK;
}

int
admin_dept_create(struct admin_actor *a, struct store_dept *d,
    struct admin_err *err)
{
	struct store_org org;
	int r;

	memset(&org, 0, sizeof(org));
	if (d->org_id <= 0) {
		admin_err_set(err, "org_id", "org_id is required");
		return SCEP_E_MALFORMED;
	}
	if (admin_org_get(a, d->org_id, &org) != SCEP_OK) {
		admin_err_set(err, "org_id", "no such organization");
		return SCEP_E_MALFORMED;
	}
	if (!dept_manager(a, d->org_id))
		return SCEP_E_DENIED;
	if ((r = admin_name_check(d->name, err, "name")) != SCEP_OK)
		return r;
	d->id = 0;
	d->created_at = admin_now();
	if ((r = store_dept_insert(svc_store(a->svc), d)) != SCEP_OK) {
		if (r == SCEP_E_EXISTS)
			admin_err_set(err, "name", "the organization already "
			    "has a department with this name");
		return r;
	}
	return admin_audit_done(a, "department.create",
	    NULL, admin_json_dept(d));
}

int
admin_dept_update(struct admin_actor *a, const struct store_dept *d,
    struct admin_err *err)
{
	struct store_dept old;
	int r;

	memset(&old, 0, sizeof(old));
	if ((r = admin_dept_get(a, d->id, &old)) != SCEP_OK)
		return r;
	if (!dept_manager(a, old.org_id))
		return SCEP_E_DENIED;
	if (d->org_id != old.org_id) {
		admin_err_set(err, "org_id",
		    "a department cannot move to another organization");
		return SCEP_E_MALFORMED;
	}
	if ((r = admin_name_check(d->name, err, "name")) != SCEP_OK)
		return r;
	if ((r = store_dept_update(svc_store(a->svc), d)) != SCEP_OK) {
		if (r == SCEP_E_EXISTS)
			admin_err_set(err, "name", "the organization already "
			    "has a department with this name");
		return r;
	}
	return admin_audit_done(a, "department.update",
	    admin_json_dept(&old), admin_json_dept(d));
}

int
admin_dept_delete(struct admin_actor *a, int64_t id, struct admin_err *err)
{
	struct store_dept old;
	int r;

	memset(&old, 0, sizeof(old));
	if ((r = admin_dept_get(a, id, &old)) != SCEP_OK)
		return r;
	if (!dept_manager(a, old.org_id))
		return SCEP_E_DENIED;
	if ((r = store_dept_delete(svc_store(a->svc), id)) != SCEP_OK) {
		if (r == SCEP_E_EXISTS)
			admin_err_set(err, NULL, "the department is still in "
			    "use (accounts, administrators or delegations)");
		return r;
	}
	return admin_audit_done(a, "department.delete",
	    admin_json_dept(&old), NULL);
}

/* ---- administrators ---- */

/* May actor "a" manage administrator "t" (edit, disable, delete, set
 * password, tokens)?  MRAO: everybody; RAO: DRAOs inside its
 * organizations with a subset of its certificate types. */
static int
admin_manager(const struct admin_actor *a, const struct admin_info *t)
{
	size_t i;

	if (admin_is_mrao(a))
		return 1;
	if (a->role != STORE_ROLE_RAO || t->a.role != STORE_ROLE_DRAO ||
	    (t->a.cert_types & ~a->cert_types) != 0 || t->nscopes == 0)
		return 0;
	for (i = 0; i < t->nscopes; i++)
		if (!admin_scope_covers(a, t->scopes[i].org_id, 0))
			return 0;
	return 1;
}

static int
admin_visible(const struct admin_actor *a, const struct admin_info *t)
{
	return a->id == t->a.id || admin_manager(a, t);
}

/* Load administrator "id" regardless of scope (password hash cleared). */
static int
info_load(struct store *st, int64_t id, struct admin_info *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	r = store_admin_get(st, id, &out->a, out->scopes, ADMIN_MAX_SCOPES,
	    &out->nscopes);
	sodium_memzero(out->a.password_hash, sizeof(out->a.password_hash));
	return r;
}

/* How many enabled MRAOs are there besides "except"? */
static int
other_mraos(struct store *st, int64_t except, size_t *count)
{
	struct store_admin *list = NULL;
	size_t n = 0, i;
	int r;

	*count = 0;
	if ((list = calloc(ADMIN_MAX_LIST, sizeof(*list))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = store_admin_list(st, list, ADMIN_MAX_LIST, &n)) == SCEP_OK)
		for (i = 0; i < n; i++)
			if (list[i].role == STORE_ROLE_MRAO &&
			    !list[i].disabled && list[i].id != except)
				(*count)++;
	sodium_memzero(list, ADMIN_MAX_LIST * sizeof(*list));
	free(list);
	return r;
}

/* Role, certificate types and scopes of "t" are consistent, and every
 * organization/department exists (the department in its organization). */
static int
admin_validate(struct admin_actor *a, struct admin_info *t,
    struct admin_err *err)
{
	struct store *st = svc_store(a->svc);
	struct store_org org;
	struct store_dept dept;
	size_t i, j;
	int r;

	if ((r = admin_name_check(t->a.name, err, "name")) != SCEP_OK)
		return r;
	if (admin_role_name(t->a.role) == NULL) {
		admin_err_set(err, "role", "role must be MRAO, RAO or DRAO");
		return SCEP_E_MALFORMED;
	}
	if (t->a.role == STORE_ROLE_MRAO) {
		if (t->nscopes != 0) {
			admin_err_set(err, "scopes",
			    "an MRAO has no scopes: it manages everything");
			return SCEP_E_MALFORMED;
		}
		t->a.cert_types = STORE_CT_ALL;
		return SCEP_OK;
	}
	if (t->a.cert_types <= 0 || (t->a.cert_types & ~STORE_CT_ALL) != 0) {
		admin_err_set(err, "cert_types",
		    "cert_types must name client, device or both");
		return SCEP_E_MALFORMED;
	}
	if (t->nscopes == 0) {
		admin_err_set(err, "scopes", "an %s needs at least one %s",
		    admin_role_name(t->a.role),
		    t->a.role == STORE_ROLE_RAO ? "organization" :
		    "department");
		return SCEP_E_MALFORMED;
	}
	for (i = 0; i < t->nscopes; i++) {
		struct store_orgref *s = &t->scopes[i];

		if (t->a.role == STORE_ROLE_RAO && s->dept_id != 0) {
			admin_err_set(err, "scopes",
			    "an RAO's scopes are organizations");
			return SCEP_E_MALFORMED;
		}
		if (t->a.role == STORE_ROLE_DRAO && s->dept_id == 0) {
			admin_err_set(err, "scopes",
			    "a DRAO's scopes are departments");
			return SCEP_E_MALFORMED;
		}
		if (s->dept_id != 0) {
			memset(&dept, 0, sizeof(dept));
			/* Outside the actor's view is the same as missing
			 * (no probing for other organizations' ids). */
			if (store_dept_get(st, s->dept_id, &dept) != SCEP_OK ||
			    (s->org_id != 0 && s->org_id != dept.org_id) ||
			    !org_visible(a, dept.org_id)) {
				admin_err_set(err, "scopes",
				    "no such department: %lld",
				    (long long)s->dept_id);
				return SCEP_E_MALFORMED;
			}
			s->org_id = dept.org_id;
		} else {
			memset(&org, 0, sizeof(org));
			if (store_org_get(st, s->org_id, &org) != SCEP_OK ||
			    !org_visible(a, s->org_id)) {
				admin_err_set(err, "scopes",
				    "no such organization: %lld",
				    (long long)s->org_id);
				return SCEP_E_MALFORMED;
			}
		}
		for (j = 0; j < i; j++)
			if (t->scopes[j].org_id == s->org_id &&
			    t->scopes[j].dept_id == s->dept_id) {
				admin_err_set(err, "scopes",
				    "a scope is listed twice");
				return SCEP_E_MALFORMED;
			}
	}
	return SCEP_OK;
}

int
admin_admin_list(struct admin_actor *a, struct admin_info *out, size_t max,
    size_t *n)
{
	struct store_admin *list = NULL;
	size_t cnt = 0, i, k = 0;
	int r;

	*n = 0;
	if (max > ADMIN_MAX_LIST)
		max = ADMIN_MAX_LIST;
	if ((list = calloc(max ? max : 1, sizeof(*list))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = store_admin_list(svc_store(a->svc), list, max, &cnt)) !=
	    SCEP_OK)
		goto out;
	for (i = 0; i < cnt; i++) {
		if (info_load(svc_store(a->svc), list[i].id, &out[k]) !=
		    SCEP_OK)
			continue;	/* deleted meanwhile */
		if (admin_visible(a, &out[k]))
			k++;
	}
	*n = k;
 out:
	sodium_memzero(list, (max ? max : 1) * sizeof(*list));
	free(list);
	return r;
}

int
admin_admin_get(struct admin_actor *a, int64_t id, struct admin_info *out)
{
	int r;

	if ((r = info_load(svc_store(a->svc), id, out)) != SCEP_OK)
		return r;
	if (!admin_visible(a, out)) {
		memset(out, 0, sizeof(*out));
		return SCEP_E_NOTFOUND;
	}
	return SCEP_OK;
}

int
admin_admin_create(struct admin_actor *a, struct admin_info *t,
    const char *password, char *pw_out, size_t pwsz, struct admin_err *err)
{
	json_t *after = NULL;
	int r;

	if (pw_out != NULL && pwsz > 0)
		pw_out[0] = '\0';
	if (a->role == STORE_ROLE_DRAO)
		return SCEP_E_DENIED;
	if ((r = admin_validate(a, t, err)) != SCEP_OK)
		return r;
	if (!admin_manager(a, t))
		return SCEP_E_DENIED;
	if (password == NULL) {
		if (pw_out == NULL ||
		    (r = admin_password_generate(pw_out, pwsz)) != SCEP_OK)
			return SCEP_E_INTERNAL;
		password = pw_out;
	}
	if ((r = admin_password_hash(password, t->a.password_hash)) !=
	    SCEP_OK) {
		if (r == SCEP_E_MALFORMED)
			admin_err_set(err, "password", "a password has %d to "
			    "%d bytes", ADMIN_PASSWORD_MIN,
			    ADMIN_PASSWORD_MAX);
		goto out;
	}
	t->a.id = 0;
	t->a.created_at = admin_now();
	if ((r = store_admin_insert(svc_store(a->svc), &t->a, t->scopes,
	    t->nscopes)) != SCEP_OK) {
		if (r == SCEP_E_EXISTS)
			admin_err_set(err, "name",
			    "an administrator with this name exists");
		goto out;
	}
	sodium_memzero(t->a.password_hash, sizeof(t->a.password_hash));
	after = admin_json_admin(t);
	(void)admin_audit(a, "admin.create", 0, 0, NULL, "SUCCESS", NULL,
	    NULL, after);
	json_decref(after);
	r = SCEP_OK;
 out:
	sodium_memzero(t->a.password_hash, sizeof(t->a.password_hash));
	if (r != SCEP_OK && pw_out != NULL && pwsz > 0)
		sodium_memzero(pw_out, pwsz);
	return r;
}

int
admin_admin_update(struct admin_actor *a, const struct admin_info *in,
    struct admin_err *err)
{
	struct store *st = svc_store(a->svc);
	struct admin_info *old = NULL, *t = NULL;
	struct store_admin cur;
	json_t *before = NULL, *after = NULL;
	size_t others = 0, nsc = 0;
	int r;

	memset(&cur, 0, sizeof(cur));
	if ((old = calloc(1, sizeof(*old))) == NULL ||
	    (t = calloc(1, sizeof(*t))) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	*t = *in;
	if ((r = admin_admin_get(a, in->a.id, old)) != SCEP_OK)
		goto out;
	/* Only a manager changes role, types, scopes or the disabled flag;
	 * an administrator may rename itself, no more. */
	r = SCEP_E_DENIED;
	if (!admin_manager(a, old) && (t->a.role != old->a.role ||
	    t->a.cert_types != old->a.cert_types ||
	    t->a.disabled != old->a.disabled || t->nscopes != old->nscopes ||
	    memcmp(t->scopes, old->scopes,
	    t->nscopes * sizeof(t->scopes[0])) != 0))
		goto out;
	if ((r = admin_validate(a, t, err)) != SCEP_OK)
		goto out;
	if (!admin_manager(a, t) && a->id != t->a.id) {
		r = SCEP_E_DENIED;
		goto out;
	}
	if (old->a.role == STORE_ROLE_MRAO && !old->a.disabled &&
	    (t->a.role != STORE_ROLE_MRAO || t->a.disabled)) {
		if ((r = other_mraos(st, t->a.id, &others)) != SCEP_OK)
			goto out;
		if (others == 0) {
			admin_err_set(err, "role", "the last MRAO cannot be "
			    "demoted or disabled");
			r = SCEP_E_MALFORMED;
			goto out;
		}
	}
	/* Keep the stored password hash: it is not part of the update. */
	if ((r = store_admin_get(st, t->a.id, &cur, NULL, 0, &nsc)) !=
	    SCEP_OK)
		goto out;
	memcpy(t->a.password_hash, cur.password_hash,
	    sizeof(t->a.password_hash));
	t->a.created_at = cur.created_at;
	if ((r = store_admin_update(st, &t->a, t->scopes, t->nscopes)) !=
	    SCEP_OK) {
		if (r == SCEP_E_EXISTS)
			admin_err_set(err, "name",
			    "an administrator with this name exists");
		goto out;
	}
	if (t->a.disabled && !old->a.disabled)
		(void)store_session_delete_admin(st, t->a.id);
	sodium_memzero(t->a.password_hash, sizeof(t->a.password_hash));
	before = admin_json_admin(old);
	after = admin_json_admin(t);
	(void)admin_audit(a, "admin.update", 0, 0, NULL, "SUCCESS", NULL,
	    before, after);
	r = SCEP_OK;
 out:
	sodium_memzero(&cur, sizeof(cur));
	if (t != NULL)
		sodium_memzero(t, sizeof(*t));
	json_decref(before);
	json_decref(after);
	free(old);
	free(t);
	return r;
}

int
admin_admin_set_password(struct admin_actor *a, int64_t id,
    const char *password, struct admin_err *err)
{
	struct store *st = svc_store(a->svc);
	struct admin_info *t = NULL;
	size_t nsc = 0;
	int r;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = admin_admin_get(a, id, t)) != SCEP_OK)
		goto out;
	if (a->id != id && !admin_manager(a, t)) {
		r = SCEP_E_DENIED;
		goto out;
	}
	if ((r = store_admin_get(st, id, &t->a, t->scopes, ADMIN_MAX_SCOPES,
	    &nsc)) != SCEP_OK)
		goto out;
	t->nscopes = nsc;
	if ((r = admin_password_hash(password, t->a.password_hash)) !=
	    SCEP_OK) {
		if (r == SCEP_E_MALFORMED)
			admin_err_set(err, "password", "a password has %d to "
			    "%d bytes", ADMIN_PASSWORD_MIN,
			    ADMIN_PASSWORD_MAX);
		goto out;
	}
	if ((r = store_admin_update(st, &t->a, t->scopes, t->nscopes)) !=
	    SCEP_OK)
		goto out;
	/* A new password ends every console session of the account. */
	(void)store_session_delete_admin(st, id);
	(void)admin_audit(a, "admin.password", 0, 0, NULL, "SUCCESS",
	    t->a.name, NULL, NULL);
	r = SCEP_OK;
 out:
	if (t != NULL)
		sodium_memzero(t, sizeof(*t));
	free(t);
	return r;
}

int
admin_admin_delete(struct admin_actor *a, int64_t id, struct admin_err *err)
{
	struct admin_info *old = NULL;
	json_t *before = NULL;
	size_t others = 0;
	int r;

	if ((old = calloc(1, sizeof(*old))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = admin_admin_get(a, id, old)) != SCEP_OK)
		goto out;
	r = SCEP_E_DENIED;
	if (!admin_manager(a, old))
		goto out;
	if (a->id == id) {
		admin_err_set(err, NULL, "an administrator cannot delete "
		    "itself");
		r = SCEP_E_MALFORMED;
		goto out;
	}
	if (old->a.role == STORE_ROLE_MRAO) {
		if ((r = other_mraos(svc_store(a->svc), id, &others)) !=
		    SCEP_OK)
			goto out;
		if (others == 0) {
			admin_err_set(err, NULL,
			    "the last MRAO cannot be deleted");
			r = SCEP_E_MALFORMED;
			goto out;
		}
	}
	if ((r = store_admin_delete(svc_store(a->svc), id)) != SCEP_OK)
		goto out;
	before = admin_json_admin(old);
	(void)admin_audit(a, "admin.delete", 0, 0, NULL, "SUCCESS", NULL,
	    before, NULL);
	r = SCEP_OK;
 out:
	json_decref(before);
	free(old);
	return r;
}

/* ---- API tokens ---- */

/* The actor may handle the tokens of administrator "admin_id": its own,
 * or those of an administrator it manages. */
static int
token_owner_ok(struct admin_actor *a, int64_t admin_id)
{
	struct admin_info *t = NULL;
	int r;

	if (a->id == admin_id)
		return SCEP_OK;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = admin_admin_get(a, admin_id, t)) == SCEP_OK &&
	    !admin_manager(a, t))
		r = SCEP_E_DENIED;
	free(t);
	return r;
}

int
admin_token_create(struct admin_actor *a, int64_t admin_id, const char *name,
    int64_t expires_at, char *token_out, size_t tokensz,
    struct store_token *out, struct admin_err *err)
{
	uint8_t hash[STORE_HASH_LEN];
	int64_t now = admin_now();
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = token_owner_ok(a, admin_id)) != SCEP_OK)
		return r;
	if ((r = admin_name_check(name, err, "name")) != SCEP_OK)
		return r;
	if (expires_at != 0 && expires_at <= now) {
		admin_err_set(err, "expires_at",
		    "expires_at must be in the future");
		return SCEP_E_MALFORMED;
	}
	if ((r = admin_sodium_init()) != SCEP_OK ||
	    (r = admin_token_mint(token_out, tokensz, hash)) != SCEP_OK)
		return r;
	out->admin_id = admin_id;
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->created_at = now;
	out->expires_at = expires_at;
	if ((r = store_token_add(svc_store(a->svc), out, hash)) != SCEP_OK) {
		sodium_memzero(token_out, tokensz);
		return r;
	}
	return admin_audit_done(a, "token.create", NULL, admin_json_token(out));
}

int
admin_token_list(struct admin_actor *a, int64_t admin_id,
    struct store_token *out, size_t max, size_t *n)
{
	int r;

	*n = 0;
	if ((r = token_owner_ok(a, admin_id)) != SCEP_OK)
		return r == SCEP_E_DENIED ? SCEP_E_NOTFOUND : r;
	return store_token_list(svc_store(a->svc), admin_id, out, max, n);
}

int
admin_token_revoke(struct admin_actor *a, int64_t admin_id, int64_t token_id)
{
	struct store_token tok;
	int r;

	memset(&tok, 0, sizeof(tok));
	if ((r = token_owner_ok(a, admin_id)) != SCEP_OK)
		return r;
	if ((r = store_token_get(svc_store(a->svc), token_id, &tok)) !=
	    SCEP_OK)
		return r;
	if (tok.admin_id != admin_id)
		return SCEP_E_NOTFOUND;
	if ((r = store_token_revoke(svc_store(a->svc), token_id,
	    admin_now())) != SCEP_OK)
		return r;
	return admin_audit_done(a, "token.revoke",
	    admin_json_token(&tok), NULL);
}
