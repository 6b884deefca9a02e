/*
 * test_store_admin.c -- the administration functions of store.h (issue 3)
 * against a temporary SQLite file, or against PostgreSQL when
 * STORE_TEST_DSN names one (tests/pg/with-cluster.sh): organizations,
 * departments, administrators and scopes, tokens, sessions, login
 * throttling, endpoint and account companions (delegation targets, rules)
 * written atomically, one-time challenges used once, the RA switch, and
 * the certificate and audit searches.  TAP.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scep_err.h"
#include "store.h"
#include "tap.h"

static char dir[PATH_MAX / 2];
static char dbpath[PATH_MAX];
static const char *pg_dsn;

static const uint8_t certder[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };

static void
hash_of(int seed, uint8_t h[STORE_HASH_LEN])
{
	memset(h, seed & 0xff, STORE_HASH_LEN);
	h[0] = 0xa5;
}

static void
cleanup(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[PATH_MAX + 8];
	size_t i;

	if (pg_dsn != NULL || dir[0] == '\0')
		return;
	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", dbpath, suffix[i]);
		(void)unlink(p);
	}
	(void)rmdir(dir);
}

static void
test_orgs(struct store *s, int64_t *org_a, int64_t *org_b, int64_t *d_a1,
    int64_t *d_b1)
{
	struct store_org o, list[8];
	struct store_dept d, dl[8];
	size_t n = 0;

	memset(&o, 0, sizeof(o));
	snprintf(o.name, sizeof(o.name), "Org A");
	o.created_at = 100;
	tap_ok(store_org_insert(s, &o) == SCEP_OK && o.id > 0, "org insert");
	*org_a = o.id;
	o.id = 0;
	tap_ok(store_org_insert(s, &o) == SCEP_E_EXISTS, "org: name unique");
	snprintf(o.name, sizeof(o.name), "Org B");
	tap_ok(store_org_insert(s, &o) == SCEP_OK, "second org");
	*org_b = o.id;
	memset(o.name, 'x', sizeof(o.name));
	tap_ok(store_org_insert(s, &o) == SCEP_E_TOOBIG,
	    "org: unterminated name refused");
	tap_ok(store_org_insert(s, NULL) == SCEP_E_INTERNAL, "org: NULL");
	tap_ok(store_org_get(s, *org_a, &o) == SCEP_OK &&
	    strcmp(o.name, "Org A") == 0 && o.created_at == 100, "org get");
	tap_ok(store_org_get(s, 999999, &o) == SCEP_E_NOTFOUND &&
	    o.id == 0, "org get: missing, output zeroed");
	snprintf(o.name, sizeof(o.name), "Org A2");
	o.id = *org_a;
	tap_ok(store_org_update(s, &o) == SCEP_OK, "org update");
	snprintf(o.name, sizeof(o.name), "Org B");
	tap_ok(store_org_update(s, &o) == SCEP_E_EXISTS,
	    "org update to a taken name");
	o.id = 999999;
	tap_ok(store_org_update(s, &o) == SCEP_E_NOTFOUND,
	    "org update: missing");
	tap_ok(store_org_list(s, list, 8, &n) == SCEP_OK && n == 2 &&
	    strcmp(list[0].name, "Org A2") == 0 &&
	    strcmp(list[1].name, "Org B") == 0, "org list, by name");
	tap_ok(store_org_list(s, list, 1, &n) == SCEP_OK && n == 1,
	    "org list: max respected");

	memset(&d, 0, sizeof(d));
	d.org_id = *org_a;
	snprintf(d.name, sizeof(d.name), "Sales");
	tap_ok(store_dept_insert(s, &d) == SCEP_OK && d.id > 0,
	    "dept insert");
	*d_a1 = d.id;
	d.id = 0;
	tap_ok(store_dept_insert(s, &d) == SCEP_E_EXISTS,
	    "dept: name unique within its org");
	d.org_id = *org_b;
	tap_ok(store_dept_insert(s, &d) == SCEP_OK,
	    "dept: the same name in another org");
	*d_b1 = d.id;
	d.id = 0;
	d.org_id = 999999;
	tap_ok(store_dept_insert(s, &d) == SCEP_E_NOTFOUND,
	    "dept of a missing org: NOTFOUND");
	tap_ok(store_dept_list(s, *org_a, dl, 8, &n) == SCEP_OK && n == 1 &&
	    dl[0].id == *d_a1, "dept list of one org");
	tap_ok(store_dept_list(s, 0, dl, 8, &n) == SCEP_OK && n == 2,
	    "dept list of all");
	d.id = *d_a1;
	d.org_id = *org_b;
	snprintf(d.name, sizeof(d.name), "Renamed");
	tap_ok(store_dept_update(s, &d) == SCEP_E_NOTFOUND,
	    "dept update with another org: NOTFOUND (org is fixed)");
	d.org_id = *org_a;
	tap_ok(store_dept_update(s, &d) == SCEP_OK &&
	    store_dept_get(s, *d_a1, &d) == SCEP_OK &&
	    strcmp(d.name, "Renamed") == 0, "dept update");
	tap_ok(store_org_delete(s, *org_a) == SCEP_E_EXISTS,
	    "org delete while it has departments: EXISTS");
	snprintf(o.name, sizeof(o.name), "Temp");
	o.id = 0;
	tap_ok(store_org_insert(s, &o) == SCEP_OK &&
	    store_org_delete(s, o.id) == SCEP_OK &&
	    store_org_get(s, o.id, &o) == SCEP_E_NOTFOUND,
	    "org delete when unused");
	tap_ok(store_org_delete(s, 999999) == SCEP_E_NOTFOUND,
	    "org delete: missing");
}

static void
test_admins(struct store *s, int64_t org_a, int64_t org_b, int64_t d_a1)
{
	struct store_admin a, b, list[8];
	struct store_orgref sc[4], got[4];
	struct store_token t, tl[4];
	struct store_session ss;
	uint8_t h[STORE_HASH_LEN];
	size_t n = 0;
	int64_t cnt = 0;

	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "rao");
	a.role = STORE_ROLE_RAO;
	a.cert_types = STORE_CT_CLIENT;
	snprintf(a.password_hash, sizeof(a.password_hash), "$argon2id$x");
	a.created_at = 5;
	sc[0].org_id = org_a;
	sc[0].dept_id = 0;
	sc[1].org_id = org_b;
	sc[1].dept_id = 0;
	tap_ok(store_admin_insert(s, &a, sc, 2) == SCEP_OK && a.id > 0,
	    "admin insert with two scopes");
	tap_ok(store_admin_get(s, a.id, &b, got, 4, &n) == SCEP_OK &&
	    n == 2 && got[0].org_id == org_a && got[1].org_id == org_b &&
	    b.role == STORE_ROLE_RAO && b.cert_types == STORE_CT_CLIENT &&
	    strcmp(b.password_hash, "$argon2id$x") == 0,
	    "admin get: row and scopes in order");
	tap_ok(store_admin_get(s, a.id, &b, got, 1, &n) == SCEP_E_TOOBIG,
	    "admin get: scopes that do not fit");
	tap_ok(store_admin_get(s, a.id, &b, NULL, 0, &n) == SCEP_OK &&
	    n == 0 && b.id == a.id, "admin get: the row only");
	tap_ok(store_admin_by_name(s, "rao", &b) == SCEP_OK && b.id == a.id,
	    "admin by name");
	tap_ok(store_admin_by_name(s, "nobody", &b) == SCEP_E_NOTFOUND,
	    "admin by name: missing");
	b = a;
	b.id = 0;
	tap_ok(store_admin_insert(s, &b, NULL, 0) == SCEP_E_EXISTS,
	    "admin: name unique");
	b.role = 9;
	snprintf(b.name, sizeof(b.name), "weird");
	tap_ok(store_admin_insert(s, &b, NULL, 0) == SCEP_E_INTERNAL,
	    "admin: unknown role refused");
	sc[0].org_id = org_a;
	sc[0].dept_id = d_a1;
	a.role = STORE_ROLE_DRAO;
	tap_ok(store_admin_update(s, &a, sc, 1) == SCEP_OK &&
	    store_admin_get(s, a.id, &b, got, 4, &n) == SCEP_OK && n == 1 &&
	    got[0].dept_id == d_a1 && b.role == STORE_ROLE_DRAO,
	    "admin update replaces the scopes");
	sc[1].org_id = 999999;
	sc[1].dept_id = 0;
	a.role = STORE_ROLE_RAO;
	tap_ok(store_admin_update(s, &a, sc, 2) != SCEP_OK &&
	    store_admin_get(s, a.id, &b, got, 4, &n) == SCEP_OK && n == 1 &&
	    b.role == STORE_ROLE_DRAO, "a failed update changes nothing "
	    "(row and scopes in one transaction)");
	tap_ok(store_admin_list(s, list, 8, &n) == SCEP_OK && n == 1,
	    "admin list");

	memset(&t, 0, sizeof(t));
	t.admin_id = a.id;
	snprintf(t.name, sizeof(t.name), "ci");
	t.created_at = 10;
	t.expires_at = 20;
	hash_of(1, h);
	tap_ok(store_token_add(s, &t, h) == SCEP_OK && t.id > 0, "token add");
	tap_ok(store_token_add(s, &t, h) == SCEP_E_EXISTS,
	    "token: hash unique");
	tap_ok(store_token_by_hash(s, h, &t) == SCEP_OK && t.admin_id == a.id &&
	    t.expires_at == 20 && t.revoked_at == 0, "token by hash");
	tap_ok(store_token_touch(s, t.id, 15) == SCEP_OK &&
	    store_token_get(s, t.id, &t) == SCEP_OK && t.last_used_at == 15,
	    "token touch");
	tap_ok(store_token_list(s, a.id, tl, 4, &n) == SCEP_OK && n == 1,
	    "token list");
	tap_ok(store_token_revoke(s, t.id, 30) == SCEP_OK &&
	    store_token_get(s, t.id, &t) == SCEP_OK && t.revoked_at == 30,
	    "token revoke");
	tap_ok(store_token_revoke(s, t.id, 31) == SCEP_E_NOTFOUND,
	    "token revoke twice: NOTFOUND");

	memset(&ss, 0, sizeof(ss));
	ss.admin_id = a.id;
	hash_of(2, ss.sid_hash);
	hash_of(3, ss.csrf_hash);
	snprintf(ss.client_addr, sizeof(ss.client_addr), "127.0.0.1");
	ss.created_at = 100;
	ss.expires_at = 200;
	tap_ok(store_session_insert(s, &ss) == SCEP_OK && ss.id > 0,
	    "session insert");
	hash_of(2, h);
	tap_ok(store_session_get(s, h, &ss) == SCEP_OK &&
	    ss.admin_id == a.id && ss.expires_at == 200 &&
	    ss.csrf_hash[1] == 3, "session get by cookie hash");
	tap_ok(store_session_expire(s, 150) == SCEP_OK &&
	    store_session_get(s, h, &ss) == SCEP_OK,
	    "session expire keeps live sessions");
	tap_ok(store_session_expire(s, 200) == SCEP_OK &&
	    store_session_get(s, h, &ss) == SCEP_E_NOTFOUND,
	    "session expire removes expired ones");
	/* (a failed get zeroes its output: fill the session again) */
	memset(&ss, 0, sizeof(ss));
	ss.admin_id = a.id;
	ss.expires_at = 900;
	hash_of(2, ss.sid_hash);
	hash_of(3, ss.csrf_hash);
	tap_ok(store_session_insert(s, &ss) == SCEP_OK &&
	    store_session_delete(s, h) == SCEP_OK &&
	    store_session_delete(s, h) == SCEP_E_NOTFOUND,
	    "session delete, then NOTFOUND");

	tap_ok(store_login_fail(s, "name:x", 1000) == SCEP_OK &&
	    store_login_fail(s, "name:x", 1100) == SCEP_OK &&
	    store_login_fail(s, "addr:y", 1100) == SCEP_OK, "login failures");
	tap_ok(store_login_failures(s, "name:x", 1050, &cnt) == SCEP_OK &&
	    cnt == 1, "failures since a time");
	tap_ok(store_login_failures(s, "name:x", 0, &cnt) == SCEP_OK &&
	    cnt == 2, "all failures of a key");
	tap_ok(store_login_clear(s, "name:x") == SCEP_OK &&
	    store_login_failures(s, "name:x", 0, &cnt) == SCEP_OK && cnt == 0 &&
	    store_login_failures(s, "addr:y", 0, &cnt) == SCEP_OK && cnt == 1,
	    "clear one key only");

	/* Deleting the administrator takes its scopes, tokens, sessions. */
	ss.id = 0;
	hash_of(7, ss.sid_hash);
	tap_ok(ss.admin_id == a.id && store_session_insert(s, &ss) == SCEP_OK &&
	    store_admin_delete(s, a.id) == SCEP_OK, "admin delete");
	hash_of(1, h);
	tap_ok(store_token_by_hash(s, h, &t) == SCEP_E_NOTFOUND,
	    "its tokens are gone");
	hash_of(7, h);
	tap_ok(store_session_get(s, h, &ss) == SCEP_E_NOTFOUND,
	    "its sessions are gone");
	tap_ok(store_admin_delete(s, a.id) == SCEP_E_NOTFOUND,
	    "admin delete twice: NOTFOUND");
	/* The organization is free again (no scope refers to it). */
	tap_ok(store_org_delete(s, org_b) == SCEP_E_EXISTS,
	    "org B still has its department");
}

static void
ep_init(struct store_endpoint *ep, int64_t ca_id, int64_t ra_id,
    const char *ext)
{
	memset(ep, 0, sizeof(*ep));
	snprintf(ep->name, sizeof(ep->name), "%s", ext);
	snprintf(ep->uri_ext, sizeof(ep->uri_ext), "%s", ext);
	ep->type = EP_DEVICE_SCEP;
	ep->ca_id = ca_id;
	ep->ra_id = ra_id;
	ep->profile.min_rsa_bits = 2048;
	ep->profile.term_days = 365;
	ep->enabled = 1;
	ep->created_at = 1;
}

static void
test_endpoints_accounts(struct store *s, int64_t ca_id, int64_t ra_id,
    int64_t org_a, int64_t org_b, int64_t d_a1, int64_t *ep_out,
    int64_t *acct_out)
{
	struct store_endpoint ep, e2, list[8];
	struct store_orgref t[3], got[4];
	struct store_account ac, al[8];
	struct store_account_rules ru, rg;
	int64_t v0 = 0, v1 = 0;
	size_t n = 0;

	ep_init(&ep, ca_id, ra_id, "adm-one");
	t[0].org_id = org_a;
	t[0].dept_id = 0;
	t[1].org_id = org_b;
	t[1].dept_id = 0;
	(void)store_config_version(s, &v0);
	tap_ok(store_endpoint_create(s, &ep, t, 2) == SCEP_OK && ep.id > 0,
	    "endpoint create with two targets");
	(void)store_config_version(s, &v1);
	tap_ok(v1 > v0, "config version moved");
	tap_ok(store_endpoint_targets(s, ep.id, got, 4, &n) == SCEP_OK &&
	    n == 2 && got[0].org_id == org_a && got[1].org_id == org_b,
	    "targets read back");
	ep_init(&e2, ca_id, ra_id, "adm-one");
	t[2].org_id = org_a;
	tap_ok(store_endpoint_create(s, &e2, t, 1) == SCEP_E_EXISTS,
	    "endpoint create with a taken uri_ext");
	ep_init(&e2, ca_id, ra_id, "adm-two");
	t[2].org_id = 999999;
	t[2].dept_id = 0;
	tap_ok(store_endpoint_create(s, &e2, &t[2], 1) != SCEP_OK &&
	    store_endpoint_by_ext(s, "adm-two", &e2) == SCEP_E_NOTFOUND,
	    "endpoint create with a bad target: no endpoint left behind");
	t[0].org_id = org_a;
	t[0].dept_id = d_a1;
	snprintf(ep.name, sizeof(ep.name), "renamed");
	tap_ok(store_endpoint_save(s, &ep, t, 1) == SCEP_OK &&
	    store_endpoint_targets(s, ep.id, got, 4, &n) == SCEP_OK &&
	    n == 1 && got[0].dept_id == d_a1 &&
	    store_endpoint_get(s, ep.id, &e2) == SCEP_OK &&
	    strcmp(e2.name, "renamed") == 0, "endpoint save replaces targets");
	snprintf(ep.name, sizeof(ep.name), "not saved");
	tap_ok(store_endpoint_save(s, &ep, &t[2], 1) != SCEP_OK &&
	    store_endpoint_get(s, ep.id, &e2) == SCEP_OK &&
	    strcmp(e2.name, "renamed") == 0 &&
	    store_endpoint_targets(s, ep.id, got, 4, &n) == SCEP_OK && n == 1,
	    "a failed save changes nothing (endpoint and targets together)");
	tap_ok(store_endpoint_list(s, 0, list, 8, &n) == SCEP_OK && n >= 1,
	    "live endpoint list");
	ep_init(&e2, ca_id, ra_id, "adm-gone");
	tap_ok(store_endpoint_create(s, &e2, NULL, 0) == SCEP_OK &&
	    store_endpoint_delete(s, e2.id, 50) == SCEP_OK &&
	    store_endpoint_list(s, 1, list, 8, &n) == SCEP_OK && n >= 1 &&
	    list[n - 1].id == e2.id, "deleted endpoints are listed apart");
	*ep_out = ep.id;

	memset(&ac, 0, sizeof(ac));
	memset(&ru, 0, sizeof(ru));
	ac.endpoint_id = ep.id;
	snprintf(ac.name, sizeof(ac.name), "acct");
	ac.org_id = org_a;
	ac.dept_id = d_a1;
	ac.enabled = 1;
	hash_of(9, ac.challenge_hash);
	snprintf(ru.cn_pattern, sizeof(ru.cn_pattern), "*.example.com");
	tap_ok(store_account_create(s, &ac, &ru) == SCEP_OK && ac.id > 0,
	    "account create with rules");
	tap_ok(store_account_rules_get(s, ac.id, &rg) == SCEP_OK &&
	    strcmp(rg.cn_pattern, "*.example.com") == 0 &&
	    rg.san_pattern[0] == '\0' && rg.account_id == ac.id,
	    "rules read back");
	snprintf(ru.san_pattern, sizeof(ru.san_pattern), "dns:*");
	ac.enabled = 0;
	tap_ok(store_account_save(s, &ac, &ru) == SCEP_OK &&
	    store_account_rules_get(s, ac.id, &rg) == SCEP_OK &&
	    strcmp(rg.san_pattern, "dns:*") == 0 &&
	    store_account_get(s, ac.id, &al[0]) == SCEP_OK &&
	    al[0].enabled == 0, "account save with rules");
	tap_ok(store_account_list(s, ep.id, al, 8, &n) == SCEP_OK && n == 1 &&
	    al[0].id == ac.id, "accounts of an endpoint");
	tap_ok(store_account_list(s, 0, al, 8, &n) == SCEP_OK && n >= 1,
	    "all accounts");
	memset(&ac, 0, sizeof(ac));
	ac.endpoint_id = ep.id;
	snprintf(ac.name, sizeof(ac.name), "norules");
	memset(&ru, 0, sizeof(ru));
	tap_ok(store_account_insert(s, &ac) == SCEP_OK &&
	    store_account_rules_get(s, ac.id, &rg) == SCEP_OK &&
	    rg.cn_pattern[0] == '\0', "an account without rules: empty rules");
	tap_ok(store_dept_delete(s, d_a1) == SCEP_E_EXISTS,
	    "dept delete while an account uses it: EXISTS");
	*acct_out = al[0].id;
}

static void
test_otc(struct store *s, int64_t acct)
{
	struct store_otc o, l[4];
	uint8_t h[STORE_HASH_LEN];
	int64_t id = 0;
	size_t n = 0;

	memset(&o, 0, sizeof(o));
	o.account_id = acct;
	o.created_at = 1000;
	o.expires_at = 2000;
	hash_of(20, h);
	tap_ok(store_otc_insert(s, &o, h) == SCEP_OK && o.id > 0,
	    "one-time challenge insert");
	id = o.id;
	tap_ok(store_otc_insert(s, &o, h) == SCEP_E_EXISTS,
	    "one-time challenge: hash unique");
	o.expires_at = 1000;
	tap_ok(store_otc_insert(s, &o, h) == SCEP_E_INTERNAL,
	    "one-time challenge must expire after it is made");
	tap_ok(store_otc_find(s, h, 1500, &o) == SCEP_OK &&
	    o.account_id == acct, "find while live");
	tap_ok(store_otc_find(s, h, 2000, &o) == SCEP_E_NOTFOUND,
	    "not found once expired");
	tap_ok(store_otc_consume(s, id, 2500) == SCEP_E_NOTFOUND,
	    "an expired one cannot be used");
	tap_ok(store_otc_consume(s, id, 1600) == SCEP_OK,
	    "use it once");
	tap_ok(store_otc_consume(s, id, 1601) == SCEP_E_NOTFOUND,
	    "a second use fails");
	tap_ok(store_otc_find(s, h, 1602, &o) == SCEP_E_NOTFOUND,
	    "a used one is not found");
	tap_ok(store_otc_list(s, acct, l, 4, &n) == SCEP_OK && n == 1 &&
	    l[0].used_at == 1600, "list shows it used");
}

static void
test_ra_switch(struct store *s, int64_t ca_id, int64_t ra_id, int64_t ep_id)
{
	struct store_ra ra, got;
	struct store_endpoint ep;
	struct store_ca cas[4];
	size_t n = 0, i;

	memset(&ra, 0, sizeof(ra));
	ra.ca_id = ca_id;
	ra.state = RA_NEXT;
	ra.usage = 1;
	snprintf(ra.key_path, sizeof(ra.key_path), "/k/ra2.key");
	ra.cert_der = (uint8_t *)(uintptr_t)certder;
	ra.cert_len = sizeof(certder);
	tap_ok(store_ra_insert(s, &ra) == SCEP_OK, "a staged RA");
	tap_ok(store_ra_switch(s, ra.id, ra_id) == SCEP_E_NOTFOUND,
	    "switch the wrong way round: NOTFOUND");
	tap_ok(store_ra_switch(s, ra_id, ra.id) == SCEP_OK, "switch");
	tap_ok(store_ra_get(s, ra.id, &got) == SCEP_OK &&
	    got.state == RA_ACTIVE, "the successor is active");
	store_ra_clear(&got);
	tap_ok(store_ra_get(s, ra_id, &got) == SCEP_OK &&
	    got.state == RA_RETIRED, "the old RA is retired");
	store_ra_clear(&got);
	tap_ok(store_endpoint_get(s, ep_id, &ep) == SCEP_OK &&
	    ep.ra_id == ra.id, "endpoints moved to the successor");
	tap_ok(store_ra_switch(s, ra_id, ra.id) == SCEP_E_NOTFOUND,
	    "switch again: NOTFOUND");
	tap_ok(store_ca_list(s, cas, 4, &n) == SCEP_OK && n == 1 &&
	    cas[0].id == ca_id && cas[0].cert_len == sizeof(certder),
	    "CA list with the certificate");
	for (i = 0; i < n; i++)
		store_ca_clear(&cas[i]);
}

static void
test_searches(struct store *s, int64_t ca_id, int64_t ep_id, int64_t acct,
    int64_t org_a, int64_t d_a1)
{
	struct store_cert c, out[8];
	struct store_cert_filter f;
	struct store_event ev, el[8];
	struct store_event_filter ef;
	static const char *const serials[] = { "1A", "2B", "3C", "4D" };
	int64_t cursor = 0, cnt = 0;
	size_t n = 0, i;

	for (i = 0; i < 4; i++) {
		memset(&c, 0, sizeof(c));
		snprintf(c.serial, sizeof(c.serial), "%s", serials[i]);
		c.ca_id = ca_id;
		c.endpoint_id = ep_id;
		c.account_id = i < 2 ? acct : 0;
		c.org_id = i < 2 ? org_a : 0;
		c.dept_id = i < 2 ? d_a1 : 0;
		snprintf(c.subject, sizeof(c.subject), "CN=host%zu.example.com",
		    i);
		c.not_before = 100;
		c.not_after = 1000 + (int64_t)i * 100;
		c.status = CERT_VALID;
		c.der = (uint8_t *)(uintptr_t)certder;
		c.der_len = sizeof(certder);
		tap_ok(store_cert_issue(s, &c, 0, 0, 50) == SCEP_OK,
		    "certificate %s", serials[i]);
	}
	tap_ok(store_cert_revoke(s, "3C", 1, 60) == SCEP_OK, "revoke 3C");
	memset(&f, 0, sizeof(f));
	tap_ok(store_cert_search(s, &f, out, 8, &n, &cursor) == SCEP_OK &&
	    n == 4 && out[0].der == NULL, "search all, without DER");
	for (i = 0; i < n; i++)
		store_cert_clear(&out[i]);
	f.with_der = 1;
	f.org_id = org_a;
	tap_ok(store_cert_search(s, &f, out, 8, &n, &cursor) == SCEP_OK &&
	    n == 2 && out[0].der_len == sizeof(certder), "by org, with DER");
	for (i = 0; i < n; i++)
		store_cert_clear(&out[i]);
	memset(&f, 0, sizeof(f));
	f.account_id = acct;
	f.dept_id = d_a1;
	tap_ok(store_cert_search(s, &f, out, 8, &n, &cursor) == SCEP_OK &&
	    n == 2, "by account and department");
	memset(&f, 0, sizeof(f));
	f.status = CERT_REVOKED;
	tap_ok(store_cert_search(s, &f, out, 8, &n, &cursor) == SCEP_OK &&
	    n == 1 && strcmp(out[0].serial, "3C") == 0, "by status");
	memset(&f, 0, sizeof(f));
	snprintf(f.subject, sizeof(f.subject), "host1.");
	tap_ok(store_cert_search(s, &f, out, 8, &n, &cursor) == SCEP_OK &&
	    n == 1 && strcmp(out[0].serial, "2B") == 0, "by subject part");
	memset(&f, 0, sizeof(f));
	snprintf(f.serial, sizeof(f.serial), "4D");
	tap_ok(store_cert_search(s, &f, out, 8, &n, &cursor) == SCEP_OK &&
	    n == 1, "by serial");
	memset(&f, 0, sizeof(f));
	f.expires_after = 1100;
	f.expires_before = 1300;
	tap_ok(store_cert_search(s, &f, out, 8, &n, &cursor) == SCEP_OK &&
	    n == 2, "by expiry window");
	memset(&f, 0, sizeof(f));
	f.endpoint_id = ep_id;
	tap_ok(store_cert_search(s, &f, out, 3, &n, &cursor) == SCEP_OK &&
	    n == 3, "first page");
	f.after = cursor;
	tap_ok(store_cert_search(s, &f, out, 3, &n, &cursor) == SCEP_OK &&
	    n == 1 && strcmp(out[0].serial, "4D") == 0,
	    "second page after the cursor");

	for (i = 0; i < 5; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.ts = 100 + (int64_t)i;
		snprintf(ev.kind, sizeof(ev.kind), "%s", i < 3 ? "admin" :
		    "enroll");
		snprintf(ev.actor, sizeof(ev.actor), "%s", i == 0 ? "alice" :
		    "bob");
		snprintf(ev.action, sizeof(ev.action), "%s",
		    i < 2 ? "endpoint.create" : i == 2 ? "endpointx" :
		    "PKCSReq");
		ev.endpoint_id = i == 4 ? ep_id : 0;
		ev.account_id = i == 4 ? acct : 0;
		snprintf(ev.result, sizeof(ev.result), "%s", i == 3 ?
		    "FAILURE" : "SUCCESS");
		ev.failinfo = -1;
		(void)store_event_append(s, &ev);
	}
	memset(&ef, 0, sizeof(ef));
	tap_ok(store_event_search(s, &ef, el, 8, &n) == SCEP_OK && n == 5,
	    "event search: all");
	tap_ok(store_event_count(s, &cnt) == SCEP_OK && cnt == 5,
	    "event count");
	snprintf(ef.action, sizeof(ef.action), "endpoint.");
	tap_ok(store_event_search(s, &ef, el, 8, &n) == SCEP_OK && n == 2,
	    "action prefix (\"endpoint.\" is not \"endpointx\")");
	memset(&ef, 0, sizeof(ef));
	snprintf(ef.actor, sizeof(ef.actor), "bob");
	snprintf(ef.kind, sizeof(ef.kind), "enroll");
	snprintf(ef.result, sizeof(ef.result), "SUCCESS");
	tap_ok(store_event_search(s, &ef, el, 8, &n) == SCEP_OK && n == 1 &&
	    el[0].account_id == acct, "actor, kind and result");
	memset(&ef, 0, sizeof(ef));
	ef.since = 101;
	ef.until = 103;
	tap_ok(store_event_search(s, &ef, el, 8, &n) == SCEP_OK && n == 2,
	    "time range");
	memset(&ef, 0, sizeof(ef));
	ef.endpoint_id = ep_id;
	tap_ok(store_event_search(s, &ef, el, 8, &n) == SCEP_OK && n == 1,
	    "by endpoint");
	memset(&ef, 0, sizeof(ef));
	ef.after = 3;
	tap_ok(store_event_search(s, &ef, el, 1, &n) == SCEP_OK && n == 1 &&
	    el[0].id == 4, "paging by id");
}

int
main(void)
{
	struct store *s = NULL;
	struct store_ca ca;
	struct store_ra ra;
	const char *tmp = NULL;
	int64_t org_a = 0, org_b = 0, d_a1 = 0, d_b1 = 0, ep = 0, acct = 0;
	int64_t bad = 0;

	if ((tmp = getenv("STORE_TEST_DSN")) != NULL &&
	    (strncmp(tmp, "postgresql://", 13) == 0 ||
	    strncmp(tmp, "postgres://", 11) == 0)) {
		pg_dsn = tmp;
		printf("# PostgreSQL: STORE_TEST_DSN\n");
	} else {
		if ((tmp = getenv("TMPDIR")) == NULL || tmp[0] == '\0')
			tmp = "/tmp";
		snprintf(dir, sizeof(dir), "%s/scepd-storeadm-XXXXXX", tmp);
		if (mkdtemp(dir) == NULL) {
			printf("Bail out! mkdtemp\n");
			return 1;
		}
		snprintf(dbpath, sizeof(dbpath), "%s/store.db", dir);
	}
	if (store_open(pg_dsn != NULL ? pg_dsn : dbpath, &s) != SCEP_OK) {
		printf("Bail out! cannot open the store\n");
		cleanup();
		return 1;
	}
	memset(&ca, 0, sizeof(ca));
	snprintf(ca.name, sizeof(ca.name), "CA");
	snprintf(ca.key_path, sizeof(ca.key_path), "/k/ca.key");
	ca.cert_der = (uint8_t *)(uintptr_t)certder;
	ca.cert_len = sizeof(certder);
	memset(&ra, 0, sizeof(ra));
	tap_ok(store_ca_insert(s, &ca) == SCEP_OK, "a CA");
	ra.ca_id = ca.id;
	ra.state = RA_ACTIVE;
	ra.usage = 1;
	snprintf(ra.key_path, sizeof(ra.key_path), "/k/ra.key");
	ra.cert_der = (uint8_t *)(uintptr_t)certder;
	ra.cert_len = sizeof(certder);
	tap_ok(store_ra_insert(s, &ra) == SCEP_OK, "an active RA");

	test_orgs(s, &org_a, &org_b, &d_a1, &d_b1);
	test_admins(s, org_a, org_b, d_a1);
	test_endpoints_accounts(s, ca.id, ra.id, org_a, org_b, d_a1, &ep,
	    &acct);
	test_otc(s, acct);
	test_ra_switch(s, ca.id, ra.id, ep);
	test_searches(s, ca.id, ep, acct, org_a, d_a1);
	tap_ok(store_event_verify(s, &bad) == SCEP_OK && bad == 0,
	    "the audit chain of these records verifies");
	store_close(s);
	cleanup();
	return tap_done();
}
