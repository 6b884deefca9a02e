/*
 * admin_ep.c -- enrollment endpoints, their delegation, accounts, account
 * challenges and one-time challenges (issue 3).  See admin.h.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admin.h"
#include "admin_int.h"
#include "scep_err.h"
#include "scep_limits.h"

/* ---- endpoints ---- */

int
admin_endpoint_load(struct store *st, int64_t id, struct admin_endpoint *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_endpoint_get(st, id, &out->ep)) != SCEP_OK)
		return r;
	return store_endpoint_targets(st, id, out->targets,
	    ADMIN_MAX_TARGETS, &out->ntargets);
}

int
admin_endpoint_defaults(struct admin_actor *a, struct admin_endpoint *e)
{
	struct store_ca ca;
	struct store_ra ra;
	size_t n = 0;
	int r;

	memset(e, 0, sizeof(*e));
	memset(&ca, 0, sizeof(ca));
	memset(&ra, 0, sizeof(ra));
	e->ep.type = EP_DEVICE_SCEP;
	e->ep.profile.min_rsa_bits = 2048;
	e->ep.profile.allow_ec = 1;
	e->ep.profile.term_days = 365;
	e->ep.profile.server_auth = 0;
	e->ep.profile.renewal = 1;
	e->ep.profile.renewal_window_days = 0;
	e->ep.profile.copy_sans = 1;
	e->ep.getcacert_chain = 1;
	e->ep.getcert_chain = 0;
	e->ep.manual_approval = 0;
	e->ep.legacy = 0;
	e->ep.enabled = 1;
	e->ep.delegation_general = 1;
	/* The first CA and its (first) active RA. */
	if ((r = store_ca_list(svc_store(a->svc), &ca, 1, &n)) != SCEP_OK)
		return r;
	if (n == 1) {
		e->ep.ca_id = ca.id;
		store_ca_clear(&ca);
		n = 0;
		if ((r = store_ra_list(svc_store(a->svc), e->ep.ca_id,
		    RA_ACTIVE, &ra, 1, &n)) != SCEP_OK)
			return r;
		if (n == 1) {
			e->ep.ra_id = ra.id;
			store_ra_clear(&ra);
		}
	}
	return SCEP_OK;
}

int
admin_endpoint_list(struct admin_actor *a, int deleted,
    struct admin_endpoint *out, size_t max, size_t *n)
{
	struct store *st = svc_store(a->svc);
	struct store_endpoint *list = NULL;
	size_t cnt = 0, i, k = 0;
	int r;

	*n = 0;
	if (max > ADMIN_MAX_LIST)
		max = ADMIN_MAX_LIST;
	if ((list = calloc(max ? max : 1, sizeof(*list))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = store_endpoint_list(st, deleted, list, max, &cnt)) !=
	    SCEP_OK)
		goto out;
	for (i = 0; i < cnt; i++) {
		memset(&out[k], 0, sizeof(out[k]));
		out[k].ep = list[i];
		if ((r = store_endpoint_targets(st, list[i].id,
		    out[k].targets, ADMIN_MAX_TARGETS,
		    &out[k].ntargets)) != SCEP_OK)
			goto out;
		if (admin_ep_visible(a, &out[k]))
			k++;
	}
	*n = k;
 out:
	free(list);
	return r;
}

int
admin_endpoint_get(struct admin_actor *a, int64_t id,
    struct admin_endpoint *out)
{
	int r;

	if ((r = admin_endpoint_load(svc_store(a->svc), id, out)) != SCEP_OK)
		return r;
	if (!admin_ep_visible(a, out)) {
		memset(out, 0, sizeof(*out));
		return SCEP_E_NOTFOUND;
	}
	return SCEP_OK;
}

/* RFC 3986 unreserved characters only, so the URL /scep/<ext> needs no
 * escaping; no leading dot (no "." or ".." path segments). */
static int
uri_ext_check(const char *ext, struct admin_err *err)
{
	size_t i, len = strlen(ext);

	if (len == 0 || len > HTTP_MAX_URI_EXT) {
		admin_err_set(err, "uri_ext", "uri_ext has 1 to %d characters",
		    HTTP_MAX_URI_EXT);
		return SCEP_E_MALFORMED;
	}
	if (ext[0] == '.') {
		admin_err_set(err, "uri_ext",
		    "uri_ext must not start with '.'");
		return SCEP_E_MALFORMED;
	}
	for (i = 0; i < len; i++) {
		char c = ext[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')) {
			admin_err_set(err, "uri_ext", "uri_ext may only hold "
			    "letters, digits and - _ . ~");
			return SCEP_E_MALFORMED;
		}
	}
	return SCEP_OK;
}

/*
 * (org_id, dept_id) exist, the department belongs to the organization
 * (dept_id 0: the whole organization), and both are visible to the actor:
 * an organization or department outside an RAO/DRAO's view is reported
 * exactly like a missing one, so validation errors cannot be used to
 * probe for other organizations' ids.
 */
static int
orgref_check(struct admin_actor *a, int64_t org_id, int64_t dept_id,
    struct admin_err *err, const char *field)
{
	struct store *st = svc_store(a->svc);
	struct store_org org;
	struct store_dept dept;

	memset(&org, 0, sizeof(org));
	memset(&dept, 0, sizeof(dept));
	if (org_id <= 0 || admin_org_get(a, org_id, &org) != SCEP_OK) {
		admin_err_set(err, field, "no such organization: %lld",
		    (long long)org_id);
		return SCEP_E_MALFORMED;
	}
	if (dept_id != 0 && (store_dept_get(st, dept_id, &dept) != SCEP_OK ||
	    dept.org_id != org_id || admin_dept_get(a, dept_id, &dept) !=
	    SCEP_OK)) {
		admin_err_set(err, field, "no such department in organization "
		    "%lld: %lld", (long long)org_id, (long long)dept_id);
		return SCEP_E_MALFORMED;
	}
	return SCEP_OK;
}

static int
intune_type(int type)
{
	return type == EP_CLIENT_INTUNE || type == EP_DEVICE_INTUNE;
}

/* Everything about an endpoint's new state that does not depend on the
 * old one. */
static int
endpoint_validate(struct admin_actor *a, struct admin_endpoint *e,
    struct admin_err *err)
{
	struct store *st = svc_store(a->svc);
	struct store_profile *p = &e->ep.profile;
	struct store_ca ca;
	struct store_ra ra;
	size_t i, j;
	int r;

	memset(&ca, 0, sizeof(ca));
	memset(&ra, 0, sizeof(ra));
	if ((r = admin_name_check(e->ep.name, err, "name")) != SCEP_OK)
		return r;
	if ((r = uri_ext_check(e->ep.uri_ext, err)) != SCEP_OK)
		return r;
	if (admin_ep_type_name(e->ep.type) == NULL) {
		admin_err_set(err, "type", "type must be client, device, "
		    "client-intune or device-intune");
		return SCEP_E_MALFORMED;
	}
	if (e->ep.ca_id <= 0 || store_ca_get(st, e->ep.ca_id, &ca) !=
	    SCEP_OK) {
		admin_err_set(err, "ca_id", "no such CA");
		return SCEP_E_MALFORMED;
	}
	store_ca_clear(&ca);
	if (e->ep.ra_id != 0) {
		r = store_ra_get(st, e->ep.ra_id, &ra);
		if (r != SCEP_OK || ra.ca_id != e->ep.ca_id ||
		    ra.state != RA_ACTIVE) {
			store_ra_clear(&ra);
			admin_err_set(err, "ra_id", "no such active RA of the "
			    "endpoint's CA");
			return SCEP_E_MALFORMED;
		}
		store_ra_clear(&ra);
	}
	if (p->min_rsa_bits < SCEP_MIN_RSA_BITS ||
	    p->min_rsa_bits > SCEP_MAX_RSA_BITS) {
		admin_err_set(err, "min_rsa_bits", "min_rsa_bits must be "
		    "%d to %d", SCEP_MIN_RSA_BITS, SCEP_MAX_RSA_BITS);
		return SCEP_E_MALFORMED;
	}
	if (p->term_days < 1 || p->term_days > ADMIN_TERM_MAX) {
		admin_err_set(err, "term_days", "term_days must be 1 to %d",
		    ADMIN_TERM_MAX);
		return SCEP_E_MALFORMED;
	}
	if (p->renewal_window_days < 0 ||
	    p->renewal_window_days > p->term_days) {
		admin_err_set(err, "renewal_window_days", "renewal_window_days "
		    "must be 0 to term_days");
		return SCEP_E_MALFORMED;
	}
	if (p->server_auth && admin_ep_cert_type(e->ep.type) !=
	    STORE_CT_DEVICE) {
		admin_err_set(err, "server_auth",
		    "serverAuth is for device certificates only");
		return SCEP_E_MALFORMED;
	}
	if (intune_type(e->ep.type)) {
		if ((r = orgref_check(a, e->ep.org_id, e->ep.dept_id, err,
		    "org_id")) != SCEP_OK)
			return r;
	} else if (e->ep.org_id != 0 || e->ep.dept_id != 0) {
		admin_err_set(err, "org_id", "only Intune endpoints carry an "
		    "organization; plain SCEP ones use accounts");
		return SCEP_E_MALFORMED;
	}
	if (e->ep.delegation_general && e->ntargets != 0) {
		admin_err_set(err, "targets",
		    "General delegation takes no targets");
		return SCEP_E_MALFORMED;
	}
	for (i = 0; i < e->ntargets; i++) {
		if ((r = orgref_check(a, e->targets[i].org_id,
		    e->targets[i].dept_id, err, "targets")) != SCEP_OK)
			return r;
		for (j = 0; j < i; j++)
			if (e->targets[j].org_id == e->targets[i].org_id &&
			    e->targets[j].dept_id == e->targets[i].dept_id) {
				admin_err_set(err, "targets",
				    "a target is listed twice");
				return SCEP_E_MALFORMED;
			}
	}
	e->ep.enabled = e->ep.enabled ? 1 : 0;
	e->ep.legacy = e->ep.legacy ? 1 : 0;
	e->ep.manual_approval = e->ep.manual_approval ? 1 : 0;
	return SCEP_OK;
}

int
admin_endpoint_create(struct admin_actor *a, struct admin_endpoint *e,
    struct admin_err *err)
{
	json_t *after = NULL;
	int r;

	if ((r = endpoint_validate(a, e, err)) != SCEP_OK)
		return r;
	/* An RAO/DRAO creates only what it will then manage itself. */
	if (!admin_ep_manageable(a, e)) {
		admin_err_set(err, "targets", "outside your scope: use "
		    "Customized delegation to your own organizations or "
		    "departments and your certificate types");
		return SCEP_E_DENIED;
	}
	e->ep.id = 0;
	e->ep.created_at = admin_now();
	e->ep.deleted_at = 0;
	if ((r = store_endpoint_create(svc_store(a->svc), &e->ep, e->targets,
	    e->ntargets)) != SCEP_OK) {
		if (r == SCEP_E_EXISTS)
			admin_err_set(err, "uri_ext",
			    "another endpoint uses this uri_ext");
		return r;
	}
	after = admin_json_endpoint(e, NULL);
	(void)admin_audit(a, "endpoint.create", e->ep.id, 0, NULL, "SUCCESS",
	    NULL, NULL, after);
	json_decref(after);
	return SCEP_OK;
}

int
admin_endpoint_update(struct admin_actor *a, const struct admin_endpoint *in,
    struct admin_err *err)
{
	struct admin_endpoint *old = NULL, *e = NULL;
	json_t *before = NULL, *after = NULL;
	int r;

	if ((old = calloc(1, sizeof(*old))) == NULL ||
	    (e = calloc(1, sizeof(*e))) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	*e = *in;
	if ((r = admin_endpoint_get(a, in->ep.id, old)) != SCEP_OK)
		goto out;
	if (old->ep.deleted_at != 0) {
		r = SCEP_E_NOTFOUND;
		goto out;
	}
	if (!admin_ep_manageable(a, old)) {
		r = SCEP_E_DENIED;
		goto out;
	}
	r = SCEP_E_MALFORMED;
	if (e->ep.type != old->ep.type) {
		admin_err_set(err, "type", "type is fixed after creation");
		goto out;
	}
	if (e->ep.ca_id != old->ep.ca_id) {
		admin_err_set(err, "ca_id", "ca_id is fixed after creation");
		goto out;
	}
	if (e->ep.org_id != old->ep.org_id ||
	    e->ep.dept_id != old->ep.dept_id) {
		admin_err_set(err, "org_id", "an Intune endpoint's "
		    "organization and department are fixed after creation");
		goto out;
	}
	e->ep.created_at = old->ep.created_at;
	e->ep.deleted_at = 0;
	if ((r = endpoint_validate(a, e, err)) != SCEP_OK)
		goto out;
	if (!admin_ep_manageable(a, e)) {
		admin_err_set(err, "targets", "the new delegation reaches "
		    "outside your scope");
		r = SCEP_E_DENIED;
		goto out;
	}
	if ((r = store_endpoint_save(svc_store(a->svc), &e->ep, e->targets,
	    e->ntargets)) != SCEP_OK) {
		if (r == SCEP_E_EXISTS)
			admin_err_set(err, "uri_ext",
			    "another endpoint uses this uri_ext");
		goto out;
	}
	before = admin_json_endpoint(old, NULL);
	after = admin_json_endpoint(e, NULL);
	(void)admin_audit(a, "endpoint.update", e->ep.id, 0, NULL, "SUCCESS",
	    NULL, before, after);
	r = SCEP_OK;
 out:
	json_decref(before);
	json_decref(after);
	free(old);
	free(e);
	return r;
}

int
admin_endpoint_delete(struct admin_actor *a, int64_t id)
{
	struct admin_endpoint *old = NULL;
	json_t *before = NULL;
	int r;

	if ((old = calloc(1, sizeof(*old))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = admin_endpoint_get(a, id, old)) != SCEP_OK)
		goto out;
	if (old->ep.deleted_at != 0) {
		r = SCEP_E_NOTFOUND;
		goto out;
	}
	if (!admin_ep_manageable(a, old)) {
		r = SCEP_E_DENIED;
		goto out;
	}
	/* store_endpoint_delete bumps the configuration version, so every
	 * node stops serving the URL at its next request. */
	if ((r = store_endpoint_delete(svc_store(a->svc), id, admin_now())) !=
	    SCEP_OK)
		goto out;
	before = admin_json_endpoint(old, NULL);
	(void)admin_audit(a, "endpoint.delete", id, 0, NULL, "SUCCESS", NULL,
	    before, NULL);
	r = SCEP_OK;
 out:
	json_decref(before);
	free(old);
	return r;
}

/* ---- accounts ---- */

static int
account_visible(const struct admin_actor *a, const struct admin_endpoint *e,
    const struct store_account *acct)
{
	if (!admin_ep_visible(a, e))
		return 0;
	if (admin_is_mrao(a))
		return 1;
	if (acct->org_id == 0)
		return admin_ep_manageable(a, e);
	return admin_scope_covers(a, acct->org_id, acct->dept_id);
}

int
admin_account_defaults(struct admin_actor *a, int64_t endpoint_id,
    struct admin_account *out)
{
	memset(out, 0, sizeof(*out));
	out->acct.endpoint_id = endpoint_id;
	out->acct.enabled = 1;
	/* An RAO/DRAO with exactly one scope gets it as the default. */
	if (!admin_is_mrao(a) && a->nscopes == 1) {
		out->acct.org_id = a->scopes[0].org_id;
		out->acct.dept_id = a->scopes[0].dept_id;
	}
	return SCEP_OK;
}

int
admin_account_list(struct admin_actor *a, int64_t endpoint_id,
    struct admin_account *out, size_t max, size_t *n)
{
	struct store *st = svc_store(a->svc);
	struct store_account *list = NULL;
	struct admin_endpoint *e = NULL;
	size_t cnt = 0, i, k = 0;
	int r;

	*n = 0;
	if (max > ADMIN_MAX_LIST)
		max = ADMIN_MAX_LIST;
	if ((list = calloc(max ? max : 1, sizeof(*list))) == NULL ||
	    (e = calloc(1, sizeof(*e))) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	if (endpoint_id != 0 &&
	    (r = admin_endpoint_get(a, endpoint_id, e)) != SCEP_OK)
		goto out;
	if ((r = store_account_list(st, endpoint_id, list, max, &cnt)) !=
	    SCEP_OK)
		goto out;
	for (i = 0; i < cnt; i++) {
		if (e->ep.id != list[i].endpoint_id &&
		    (r = admin_endpoint_load(st, list[i].endpoint_id, e)) !=
		    SCEP_OK)
			goto out;
		if (!account_visible(a, e, &list[i]))
			continue;
		memset(&out[k], 0, sizeof(out[k]));
		out[k].acct = list[i];
		if ((r = store_account_rules_get(st, list[i].id,
		    &out[k].rules)) != SCEP_OK)
			goto out;
		k++;
	}
	*n = k;
	r = SCEP_OK;
 out:
	free(list);
	free(e);
	return r;
}

/* Load account "id" and its endpoint if the actor may see them. */
static int
account_load(struct admin_actor *a, int64_t id, struct admin_account *out,
    struct admin_endpoint *e)
{
	struct store *st = svc_store(a->svc);
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_account_get(st, id, &out->acct)) != SCEP_OK)
		return r;
	if ((r = admin_endpoint_load(st, out->acct.endpoint_id, e)) !=
	    SCEP_OK)
		return r;
	if (!account_visible(a, e, &out->acct)) {
		memset(out, 0, sizeof(*out));
		return SCEP_E_NOTFOUND;
	}
	return store_account_rules_get(st, id, &out->rules);
}

int
admin_account_get(struct admin_actor *a, int64_t id,
    struct admin_account *out)
{
	struct admin_endpoint *e = NULL;
	int r;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return SCEP_E_NOMEM;
	r = account_load(a, id, out, e);
	free(e);
	return r;
}

/* A pattern: printable, bounded (fnmatch(3) needs no compilation and has
 * no catastrophic cases for these lengths). */
static int
pattern_check(const char *p, const char *field, struct admin_err *err)
{
	size_t i;

	for (i = 0; p[i] != '\0'; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) {
			admin_err_set(err, field,
			    "%s contains a control character", field);
			return SCEP_E_MALFORMED;
		}
	return SCEP_OK;
}

static int
account_validate(struct admin_actor *a, const struct admin_endpoint *e,
    struct admin_account *x, int create, struct admin_err *err)
{
	size_t i;
	int r, ok;

	if (e->ep.deleted_at != 0)
		return SCEP_E_NOTFOUND;
	if (intune_type(e->ep.type)) {
		admin_err_set(err, "endpoint_id", "Intune endpoints have no "
		    "accounts: Intune validates each request");
		return SCEP_E_MALFORMED;
	}
	if ((r = admin_name_check(x->acct.name, err, "name")) != SCEP_OK)
		return r;
	if (x->acct.org_id == 0 && x->acct.dept_id != 0) {
		admin_err_set(err, "org_id",
		    "a department needs its organization");
		return SCEP_E_MALFORMED;
	}
	if (x->acct.org_id != 0 && (r = orgref_check(a, x->acct.org_id,
	    x->acct.dept_id, err, x->acct.dept_id ? "dept_id" : "org_id")) !=
	    SCEP_OK)
		return r;
	if (!admin_is_mrao(a) && (x->acct.org_id == 0 ||
	    (a->role == STORE_ROLE_DRAO && x->acct.dept_id == 0))) {
		admin_err_set(err, a->role == STORE_ROLE_DRAO ? "dept_id" :
		    "org_id", "an account you manage needs your %s",
		    a->role == STORE_ROLE_DRAO ? "department" :
		    "organization");
		return SCEP_E_MALFORMED;
	}
	if (x->acct.org_id != 0 && !admin_scope_covers(a, x->acct.org_id,
	    x->acct.dept_id)) {
		admin_err_set(err, "org_id", "outside your scope");
		return SCEP_E_MALFORMED;
	}
	/* With Customized delegation, the account's organization (and
	 * department) must be one the endpoint is delegated to. */
	if (!e->ep.delegation_general && x->acct.org_id != 0 &&
	    e->ntargets > 0) {
		ok = 0;
		for (i = 0; i < e->ntargets; i++)
			if (e->targets[i].org_id == x->acct.org_id &&
			    (e->targets[i].dept_id == 0 ||
			    e->targets[i].dept_id == x->acct.dept_id))
				ok = 1;
		if (!ok) {
			admin_err_set(err, "org_id", "the endpoint is not "
			    "delegated to this organization/department");
			return SCEP_E_MALFORMED;
		}
	}
	if (create && x->acct.expires_at != 0 &&
	    x->acct.expires_at <= admin_now()) {
		admin_err_set(err, "expires_at",
		    "expires_at must be in the future");
		return SCEP_E_MALFORMED;
	}
	if (x->acct.expires_at < 0) {
		admin_err_set(err, "expires_at", "expires_at must be >= 0");
		return SCEP_E_MALFORMED;
	}
	if (x->acct.max_enrollments < 0) {
		admin_err_set(err, "max_enrollments",
		    "max_enrollments must be >= 0 (0: unlimited)");
		return SCEP_E_MALFORMED;
	}
	if ((r = pattern_check(x->rules.cn_pattern, "cn_pattern", err)) !=
	    SCEP_OK ||
	    (r = pattern_check(x->rules.san_pattern, "san_pattern", err)) !=
	    SCEP_OK)
		return r;
	x->acct.enabled = x->acct.enabled ? 1 : 0;
	return SCEP_OK;
}

/* A fresh challenge into out and its keyed hash into hash. */
static int
challenge_new(struct svc *svc, char *out, size_t outsz,
    uint8_t hash[STORE_HASH_LEN])
{
	int r;

	if ((r = svc_challenge_generate(out, outsz)) != SCEP_OK)
		return r;
	svc_challenge_hash(svc_get_config(svc), out, strlen(out), hash);
	return SCEP_OK;
}

int
admin_account_create(struct admin_actor *a, struct admin_account *x,
    char *challenge_out, size_t chsz, struct admin_err *err)
{
	struct admin_endpoint *e = NULL;
	json_t *after = NULL;
	int r;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = admin_endpoint_get(a, x->acct.endpoint_id, e)) != SCEP_OK)
		goto out;
	if ((r = account_validate(a, e, x, 1, err)) != SCEP_OK)
		goto out;
	if ((r = challenge_new(a->svc, challenge_out, chsz,
	    x->acct.challenge_hash)) != SCEP_OK)
		goto out;
	x->acct.id = 0;
	x->acct.enrollments = 0;
	x->acct.created_at = admin_now();
	if ((r = store_account_create(svc_store(a->svc), &x->acct,
	    &x->rules)) != SCEP_OK) {
		sodium_memzero(challenge_out, chsz);
		goto out;
	}
	x->rules.account_id = x->acct.id;
	after = admin_json_account(x);
	(void)admin_audit(a, "account.create", x->acct.endpoint_id,
	    x->acct.id, NULL, "SUCCESS", NULL, NULL, after);
	r = SCEP_OK;
 out:
	json_decref(after);
	free(e);
	return r;
}

int
admin_account_update(struct admin_actor *a, const struct admin_account *in,
    struct admin_err *err)
{
	struct admin_endpoint *e = NULL;
	struct admin_account old, x;
	json_t *before = NULL, *after = NULL;
	int r;

	x = *in;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = account_load(a, in->acct.id, &old, e)) != SCEP_OK)
		goto out;
	if (x.acct.endpoint_id != old.acct.endpoint_id) {
		admin_err_set(err, "endpoint_id",
		    "an account cannot move to another endpoint");
		r = SCEP_E_MALFORMED;
		goto out;
	}
	if ((r = account_validate(a, e, &x, 0, err)) != SCEP_OK)
		goto out;
	/* Only the challenge functions change the challenge; only
	 * issuance moves the count. */
	memcpy(x.acct.challenge_hash, old.acct.challenge_hash,
	    sizeof(x.acct.challenge_hash));
	x.acct.enrollments = old.acct.enrollments;
	x.acct.created_at = old.acct.created_at;
	x.rules.account_id = x.acct.id;
	if ((r = store_account_save(svc_store(a->svc), &x.acct, &x.rules)) !=
	    SCEP_OK)
		goto out;
	before = admin_json_account(&old);
	after = admin_json_account(&x);
	(void)admin_audit(a, "account.update", x.acct.endpoint_id, x.acct.id,
	    NULL, "SUCCESS", NULL, before, after);
	r = SCEP_OK;
 out:
	json_decref(before);
	json_decref(after);
	free(e);
	return r;
}

int
admin_account_challenge(struct admin_actor *a, int64_t id,
    char *challenge_out, size_t chsz)
{
	struct admin_endpoint *e = NULL;
	struct admin_account x;
	int r;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = account_load(a, id, &x, e)) != SCEP_OK)
		goto out;
	if (e->ep.deleted_at != 0) {
		r = SCEP_E_NOTFOUND;
		goto out;
	}
	if ((r = challenge_new(a->svc, challenge_out, chsz,
	    x.acct.challenge_hash)) != SCEP_OK)
		goto out;
	if ((r = store_account_update(svc_store(a->svc), &x.acct)) !=
	    SCEP_OK) {
		sodium_memzero(challenge_out, chsz);
		goto out;
	}
	(void)admin_audit(a, "account.challenge", x.acct.endpoint_id, id,
	    NULL, "SUCCESS", "challenge regenerated", NULL, NULL);
 out:
	sodium_memzero(&x, sizeof(x));
	free(e);
	return r;
}

int
admin_otc_create(struct admin_actor *a, int64_t account_id, int64_t ttl,
    char *challenge_out, size_t chsz, struct store_otc *out,
    struct admin_err *err)
{
	struct admin_endpoint *e = NULL;
	struct admin_account x;
	uint8_t hash[STORE_HASH_LEN];
	json_t *after = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (ttl == 0)
		ttl = ADMIN_OTC_TTL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = account_load(a, account_id, &x, e)) != SCEP_OK)
		goto out;
	if (e->ep.deleted_at != 0) {
		r = SCEP_E_NOTFOUND;
		goto out;
	}
	if (ttl < 1 || ttl > ADMIN_OTC_TTL_MAX) {
		admin_err_set(err, "ttl", "ttl must be 1 to %d seconds",
		    ADMIN_OTC_TTL_MAX);
		r = SCEP_E_MALFORMED;
		goto out;
	}
	if ((r = challenge_new(a->svc, challenge_out, chsz, hash)) !=
	    SCEP_OK)
		goto out;
	out->account_id = account_id;
	out->created_at = admin_now();
	out->expires_at = out->created_at + ttl;
	if ((r = store_otc_insert(svc_store(a->svc), out, hash)) != SCEP_OK) {
		sodium_memzero(challenge_out, chsz);
		goto out;
	}
	after = admin_json_otc(out);
	(void)admin_audit(a, "account.otc.create", x.acct.endpoint_id,
	    account_id, NULL, "SUCCESS", NULL, NULL, after);
	r = SCEP_OK;
 out:
	json_decref(after);
	free(e);
	return r;
}

int
admin_otc_list(struct admin_actor *a, int64_t account_id,
    struct store_otc *out, size_t max, size_t *n)
{
	struct admin_account x;
	int r;

	*n = 0;
	if ((r = admin_account_get(a, account_id, &x)) != SCEP_OK)
		return r;
	return store_otc_list(svc_store(a->svc), account_id, out, max, n);
}

int
admin_challenge_lookup(struct svc *svc, const char *challenge, size_t len,
    int64_t now, struct store_account *acct, int64_t *otc_id)
{
	struct store *st = svc_store(svc);
	struct store_otc otc;
	uint8_t hash[STORE_HASH_LEN];
	int r;

	*otc_id = 0;
	memset(&otc, 0, sizeof(otc));
	svc_challenge_hash(svc_get_config(svc), challenge, len, hash);
	r = store_account_by_challenge(st, hash, acct);
	if (r != SCEP_E_NOTFOUND)
		return r;
	if ((r = store_otc_find(st, hash, now, &otc)) != SCEP_OK)
		return r;
	if ((r = store_account_get(st, otc.account_id, acct)) != SCEP_OK)
		return r;
	*otc_id = otc.id;
	return SCEP_OK;
}

int
admin_account_check_names(struct svc *svc, int64_t account_id,
    const char *cn, const char *const *sans, size_t nsans, char *why,
    size_t whysz)
{
	struct store_account_rules rules;
	size_t i;
	int r;

	memset(&rules, 0, sizeof(rules));
	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (account_id == 0)
		return SCEP_OK;
	if ((r = store_account_rules_get(svc_store(svc), account_id,
	    &rules)) != SCEP_OK)
		return r;
	if (rules.cn_pattern[0] != '\0' && (cn == NULL ||
	    fnmatch(rules.cn_pattern, cn, 0) != 0)) {
		snprintf(why, whysz, "subject CN does not match the account's "
		    "pattern");
		return SCEP_E_DENIED;
	}
	if (rules.san_pattern[0] != '\0')
		for (i = 0; i < nsans; i++)
			if (sans[i] == NULL ||
			    fnmatch(rules.san_pattern, sans[i], 0) != 0) {
				snprintf(why, whysz, "a subjectAltName does "
				    "not match the account's pattern");
				return SCEP_E_DENIED;
			}
	return SCEP_OK;
}
