/*
 * store_admin.c -- the public administration functions of store.h (issue
 * 3): check every argument once, then dispatch through the backend's
 * struct store_admin_ops (store_int.h), as store.c does for the
 * enrollment functions.
 *
 * What backends may rely on: non-NULL pointers where the contract needs
 * them; NUL-terminated strings within their arrays; ids > 0 where a row is
 * named; output structs zeroed; counts (*n) zeroed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scep_err.h"
#include "store.h"
#include "store_int.h"

/* A backend's admin vtable, found by its main vtable. */
static const struct {
	const struct store_ops		*ops;
	const struct store_admin_ops	*admin;
} admin_backends[] = {
	{ &store_sqlite_ops,	&store_sqlite_admin_ops },
#ifdef STORE_HAVE_PG
	{ &store_pg_ops,	&store_pg_admin_ops },
#endif
};

static const struct store_admin_ops *
aops(struct store *s)
{
	size_t i;

	for (i = 0; i < sizeof(admin_backends) / sizeof(admin_backends[0]);
	    i++)
		if (admin_backends[i].ops == s->ops)
			return admin_backends[i].admin;
	return NULL;
}

/* Common entry check: the store and its admin vtable. */
#define ENTER(s, a) do {						\
	if ((s) == NULL || ((a) = aops(s)) == NULL)			\
		return SCEP_E_INTERNAL;					\
} while (0)

static int
str_ok(const char *s, size_t sz)
{
	return s != NULL && memchr(s, '\0', sz) != NULL;
}

/* A list call: out/n present, *n zeroed, out zeroed. */
static int
list_ok(void *out, size_t elemsz, size_t max, size_t *n)
{
	if (n == NULL || (out == NULL && max > 0))
		return 0;
	*n = 0;
	if (max > 0)
		memset(out, 0, elemsz * max);
	return 1;
}

static int
refs_ok(const struct store_orgref *r, size_t n)
{
	size_t i;

	if (n > 0 && r == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (r[i].org_id <= 0 || r[i].dept_id < 0)
			return 0;
	return 1;
}

/* ---- organizations and departments ---- */

int
store_org_insert(struct store *s, struct store_org *o)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (o == NULL || !str_ok(o->name, sizeof(o->name)))
		return o == NULL ? SCEP_E_INTERNAL : SCEP_E_TOOBIG;
	return a->org_insert(s->be, o);
}

int
store_org_update(struct store *s, const struct store_org *o)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (o == NULL || !str_ok(o->name, sizeof(o->name)))
		return o == NULL ? SCEP_E_INTERNAL : SCEP_E_TOOBIG;
	if (o->id <= 0)
		return SCEP_E_NOTFOUND;
	return a->org_update(s->be, o);
}

int
store_org_get(struct store *s, int64_t id, struct store_org *out)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	if ((r = a->org_get(s->be, id, out)) != SCEP_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

int
store_org_delete(struct store *s, int64_t id)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	return a->org_delete(s->be, id);
}

int
store_org_list(struct store *s, struct store_org *out, size_t max, size_t *n)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (!list_ok(out, sizeof(*out), max, n))
		return SCEP_E_INTERNAL;
	return max == 0 ? SCEP_OK : a->org_list(s->be, out, max, n);
}

int
store_dept_insert(struct store *s, struct store_dept *d)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (d == NULL)
		return SCEP_E_INTERNAL;
	if (!str_ok(d->name, sizeof(d->name)))
		return SCEP_E_TOOBIG;
	if (d->org_id <= 0)
		return SCEP_E_NOTFOUND;
	return a->dept_insert(s->be, d);
}

int
store_dept_update(struct store *s, const struct store_dept *d)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (d == NULL)
		return SCEP_E_INTERNAL;
	if (!str_ok(d->name, sizeof(d->name)))
		return SCEP_E_TOOBIG;
	if (d->id <= 0 || d->org_id <= 0)
		return SCEP_E_NOTFOUND;
	return a->dept_update(s->be, d);
}

int
store_dept_get(struct store *s, int64_t id, struct store_dept *out)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	if ((r = a->dept_get(s->be, id, out)) != SCEP_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

int
store_dept_delete(struct store *s, int64_t id)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	return a->dept_delete(s->be, id);
}

int
store_dept_list(struct store *s, int64_t org_id, struct store_dept *out,
    size_t max, size_t *n)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (!list_ok(out, sizeof(*out), max, n) || org_id < 0)
		return SCEP_E_INTERNAL;
	return max == 0 ? SCEP_OK : a->dept_list(s->be, org_id, out, max, n);
}

/* ---- administrators ---- */

static int
admin_ok(const struct store_admin *ad)
{
	if (!str_ok(ad->name, sizeof(ad->name)) ||
	    !str_ok(ad->password_hash, sizeof(ad->password_hash)))
		return SCEP_E_TOOBIG;
	if (ad->name[0] == '\0' || ad->role < STORE_ROLE_MRAO ||
	    ad->role > STORE_ROLE_DRAO || ad->cert_types < 0 ||
	    ad->cert_types > STORE_CT_ALL)
		return SCEP_E_INTERNAL;
	return SCEP_OK;
}

int
store_admin_insert(struct store *s, struct store_admin *ad,
    const struct store_orgref *scopes, size_t nscopes)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (ad == NULL || !refs_ok(scopes, nscopes))
		return SCEP_E_INTERNAL;
	if ((r = admin_ok(ad)) != SCEP_OK)
		return r;
	return a->admin_insert(s->be, ad, scopes, nscopes);
}

int
store_admin_update(struct store *s, const struct store_admin *ad,
    const struct store_orgref *scopes, size_t nscopes)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (ad == NULL || !refs_ok(scopes, nscopes))
		return SCEP_E_INTERNAL;
	if ((r = admin_ok(ad)) != SCEP_OK)
		return r;
	if (ad->id <= 0)
		return SCEP_E_NOTFOUND;
	return a->admin_update(s->be, ad, scopes, nscopes);
}

int
store_admin_get(struct store *s, int64_t id, struct store_admin *out,
    struct store_orgref *scopes, size_t maxscopes, size_t *nscopes)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (out == NULL || !list_ok(scopes, sizeof(*scopes), maxscopes,
	    nscopes))
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	if ((r = a->admin_get(s->be, id, out, scopes, maxscopes, nscopes)) !=
	    SCEP_OK) {
		memset(out, 0, sizeof(*out));
		*nscopes = 0;
	}
	return r;
}

int
store_admin_by_name(struct store *s, const char *name,
    struct store_admin *out)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (out == NULL || name == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (!str_ok(name, STORE_NAME_MAX))
		return SCEP_E_NOTFOUND;
	if ((r = a->admin_by_name(s->be, name, out)) != SCEP_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

int
store_admin_list(struct store *s, struct store_admin *out, size_t max,
    size_t *n)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (!list_ok(out, sizeof(*out), max, n))
		return SCEP_E_INTERNAL;
	return max == 0 ? SCEP_OK : a->admin_list(s->be, out, max, n);
}

int
store_admin_delete(struct store *s, int64_t id)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	return a->admin_delete(s->be, id);
}

/* ---- tokens ---- */

int
store_token_add(struct store *s, struct store_token *t,
    const uint8_t hash[STORE_HASH_LEN])
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (t == NULL || hash == NULL || t->expires_at < 0)
		return SCEP_E_INTERNAL;
	if (!str_ok(t->name, sizeof(t->name)))
		return SCEP_E_TOOBIG;
	if (t->admin_id <= 0)
		return SCEP_E_NOTFOUND;
	return a->token_add(s->be, t, hash);
}

int
store_token_by_hash(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    struct store_token *out)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (hash == NULL || out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if ((r = a->token_by_hash(s->be, hash, out)) != SCEP_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

int
store_token_get(struct store *s, int64_t id, struct store_token *out)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	if ((r = a->token_get(s->be, id, out)) != SCEP_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

int
store_token_list(struct store *s, int64_t admin_id, struct store_token *out,
    size_t max, size_t *n)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (!list_ok(out, sizeof(*out), max, n))
		return SCEP_E_INTERNAL;
	if (admin_id <= 0 || max == 0)
		return SCEP_OK;
	return a->token_list(s->be, admin_id, out, max, n);
}

int
store_token_revoke(struct store *s, int64_t id, int64_t now)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	return a->token_revoke(s->be, id, now);
}

int
store_token_touch(struct store *s, int64_t id, int64_t now)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	return a->token_touch(s->be, id, now);
}

/* ---- sessions ---- */

int
store_session_insert(struct store *s, struct store_session *ss)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (ss == NULL)
		return SCEP_E_INTERNAL;
	if (!str_ok(ss->client_addr, sizeof(ss->client_addr)))
		return SCEP_E_TOOBIG;
	if (ss->admin_id <= 0)
		return SCEP_E_NOTFOUND;
	return a->session_insert(s->be, ss);
}

int
store_session_get(struct store *s, const uint8_t sid[STORE_HASH_LEN],
    struct store_session *out)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (sid == NULL || out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if ((r = a->session_get(s->be, sid, out)) != SCEP_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

int
store_session_delete(struct store *s, const uint8_t sid[STORE_HASH_LEN])
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (sid == NULL)
		return SCEP_E_INTERNAL;
	return a->session_delete(s->be, sid);
}

int
store_session_delete_admin(struct store *s, int64_t admin_id)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (admin_id <= 0)
		return SCEP_E_NOTFOUND;
	return a->session_delete_admin(s->be, admin_id);
}

int
store_session_expire(struct store *s, int64_t now)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	return a->session_expire(s->be, now);
}

/* ---- login throttling ---- */

int
store_login_fail(struct store *s, const char *key, int64_t now)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (key == NULL)
		return SCEP_E_INTERNAL;
	if (!str_ok(key, STORE_TEXT_MAX))
		return SCEP_E_TOOBIG;
	return a->login_fail(s->be, key, now);
}

int
store_login_failures(struct store *s, const char *key, int64_t since,
    int64_t *count)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (key == NULL || count == NULL)
		return SCEP_E_INTERNAL;
	*count = 0;
	if (!str_ok(key, STORE_TEXT_MAX))
		return SCEP_E_TOOBIG;
	return a->login_failures(s->be, key, since, count);
}

int
store_login_clear(struct store *s, const char *key)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (key == NULL)
		return SCEP_E_INTERNAL;
	if (!str_ok(key, STORE_TEXT_MAX))
		return SCEP_E_TOOBIG;
	return a->login_clear(s->be, key);
}

/* ---- endpoints ---- */

int
store_endpoint_list(struct store *s, int deleted, struct store_endpoint *out,
    size_t max, size_t *n)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (!list_ok(out, sizeof(*out), max, n))
		return SCEP_E_INTERNAL;
	return max == 0 ? SCEP_OK : a->endpoint_list(s->be, deleted ? 1 : 0,
	    out, max, n);
}

int
store_endpoint_create(struct store *s, struct store_endpoint *ep,
    const struct store_orgref *t, size_t n)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (ep == NULL || !refs_ok(t, n))
		return SCEP_E_INTERNAL;
	if ((r = store_endpoint_valid(ep)) != SCEP_OK)
		return r;
	return a->endpoint_create(s->be, ep, t, n);
}

int
store_endpoint_save(struct store *s, const struct store_endpoint *ep,
    const struct store_orgref *t, size_t n)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (ep == NULL || !refs_ok(t, n))
		return SCEP_E_INTERNAL;
	if ((r = store_endpoint_valid(ep)) != SCEP_OK)
		return r;
	if (ep->id <= 0)
		return SCEP_E_NOTFOUND;
	return a->endpoint_save(s->be, ep, t, n);
}

int
store_endpoint_targets(struct store *s, int64_t id, struct store_orgref *out,
    size_t max, size_t *n)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (!list_ok(out, sizeof(*out), max, n))
		return SCEP_E_INTERNAL;
	if (id <= 0 || max == 0)
		return SCEP_OK;
	return a->endpoint_targets(s->be, id, out, max, n);
}

/* ---- accounts ---- */

static int
rules_ok(const struct store_account_rules *ru)
{
	return ru != NULL && str_ok(ru->cn_pattern, sizeof(ru->cn_pattern)) &&
	    str_ok(ru->san_pattern, sizeof(ru->san_pattern));
}

int
store_account_list(struct store *s, int64_t endpoint_id,
    struct store_account *out, size_t max, size_t *n)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (!list_ok(out, sizeof(*out), max, n) || endpoint_id < 0)
		return SCEP_E_INTERNAL;
	return max == 0 ? SCEP_OK : a->account_list(s->be, endpoint_id, out,
	    max, n);
}

int
store_account_create(struct store *s, struct store_account *acct,
    const struct store_account_rules *ru)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (acct == NULL || ru == NULL)
		return SCEP_E_INTERNAL;
	if (!rules_ok(ru))
		return SCEP_E_TOOBIG;
	if ((r = store_account_valid(acct)) != SCEP_OK)
		return r;
	return a->account_create(s->be, acct, ru);
}

int
store_account_save(struct store *s, const struct store_account *acct,
    const struct store_account_rules *ru)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (acct == NULL || ru == NULL)
		return SCEP_E_INTERNAL;
	if (!rules_ok(ru))
		return SCEP_E_TOOBIG;
	if ((r = store_account_valid(acct)) != SCEP_OK)
		return r;
	if (acct->id <= 0)
		return SCEP_E_NOTFOUND;
	return a->account_save(s->be, acct, ru);
}

int
store_account_rules_get(struct store *s, int64_t id,
    struct store_account_rules *out)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	if ((r = a->account_rules_get(s->be, id, out)) != SCEP_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

/* ---- one-time challenges ---- */

int
store_otc_insert(struct store *s, struct store_otc *o,
    const uint8_t hash[STORE_HASH_LEN])
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (o == NULL || hash == NULL || o->expires_at <= o->created_at)
		return SCEP_E_INTERNAL;
	if (o->account_id <= 0)
		return SCEP_E_NOTFOUND;
	return a->otc_insert(s->be, o, hash);
}

int
store_otc_list(struct store *s, int64_t account_id, struct store_otc *out,
    size_t max, size_t *n)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (!list_ok(out, sizeof(*out), max, n))
		return SCEP_E_INTERNAL;
	if (account_id <= 0 || max == 0)
		return SCEP_OK;
	return a->otc_list(s->be, account_id, out, max, n);
}

int
store_otc_find(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, struct store_otc *out)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (hash == NULL || out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if ((r = a->otc_find(s->be, hash, now, out)) != SCEP_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

int
store_otc_consume(struct store *s, int64_t id, int64_t now)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	return a->otc_consume(s->be, id, now);
}

/* ---- CAs and RAs ---- */

int
store_ca_list(struct store *s, struct store_ca *out, size_t max, size_t *n)
{
	const struct store_admin_ops *a;
	size_t i;
	int r;

	ENTER(s, a);
	if (!list_ok(out, sizeof(*out), max, n))
		return SCEP_E_INTERNAL;
	if (max == 0)
		return SCEP_OK;
	if ((r = a->ca_list(s->be, out, max, n)) != SCEP_OK) {
		for (i = 0; i < max; i++)
			store_ca_clear(&out[i]);
		*n = 0;
	}
	return r;
}

int
store_ra_switch(struct store *s, int64_t old_id, int64_t next_id)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (old_id <= 0 || next_id <= 0 || old_id == next_id)
		return SCEP_E_NOTFOUND;
	return a->ra_switch(s->be, old_id, next_id);
}

/* ---- searches ---- */

int
store_cert_search(struct store *s, const struct store_cert_filter *f,
    struct store_cert *out, size_t max, size_t *n, int64_t *cursor)
{
	const struct store_admin_ops *a;
	size_t i;
	int r;

	ENTER(s, a);
	if (f == NULL || cursor == NULL || !list_ok(out, sizeof(*out), max, n))
		return SCEP_E_INTERNAL;
	*cursor = f->after;
	if (!str_ok(f->subject, sizeof(f->subject)) ||
	    !str_ok(f->serial, sizeof(f->serial)))
		return SCEP_E_TOOBIG;
	if (max == 0)
		return SCEP_OK;
	if ((r = a->cert_search(s->be, f, out, max, n, cursor)) != SCEP_OK) {
		for (i = 0; i < max; i++)
			store_cert_clear(&out[i]);
		*n = 0;
	}
	return r;
}

int
store_event_search(struct store *s, const struct store_event_filter *f,
    struct store_event *out, size_t max, size_t *n)
{
	const struct store_admin_ops *a;
	int r;

	ENTER(s, a);
	if (f == NULL || !list_ok(out, sizeof(*out), max, n))
		return SCEP_E_INTERNAL;
	if (!str_ok(f->kind, sizeof(f->kind)) ||
	    !str_ok(f->actor, sizeof(f->actor)) ||
	    !str_ok(f->action, sizeof(f->action)) ||
	    !str_ok(f->result, sizeof(f->result)))
		return SCEP_E_TOOBIG;
	if (max == 0)
		return SCEP_OK;
	if ((r = a->event_search(s->be, f, out, max, n)) != SCEP_OK)
		*n = 0;
	return r;
}

int
store_event_count(struct store *s, int64_t *count)
{
	const struct store_admin_ops *a;

	ENTER(s, a);
	if (count == NULL)
		return SCEP_E_INTERNAL;
	*count = 0;
	return a->event_count(s->be, count);
}
