/*
 * admin.c -- bootstrap, authentication (API tokens, console sessions,
 * login throttling), the scope rules and the audit writer of the
 * administration model (issue 3).  See admin.h for the contracts.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "admin.h"
#include "admin_int.h"
#include "log.h"
#include "scep_err.h"

/* ---- small helpers shared by the admin files ---- */

int
admin_sodium_init(void)
{
	/* sodium_init() is thread-safe and idempotent: 0 first time, 1
	 * after, -1 on failure. */
	return sodium_init() < 0 ? SCEP_E_INTERNAL : SCEP_OK;
}

void
admin_sha256(const void *p, size_t len, uint8_t out[STORE_HASH_LEN])
{
	crypto_hash_sha256(out, p, len);
}

/* "n" random bytes as base64url without padding into out. */
int
admin_random_b64(size_t n, char *out, size_t outsz)
{
	uint8_t raw[64];

	if (n > sizeof(raw) ||
	    outsz < sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		return SCEP_E_TOOBIG;
	randombytes_buf(raw, n);
	sodium_bin2base64(out, outsz, raw, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	return SCEP_OK;
}

/* A generated password: letters and digits, uniformly drawn. */
int
admin_password_generate(char *out, size_t outsz)
{
	static const char alpha[] =
	    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
	size_t i;

	if (outsz < ADMIN_PASSWORD_GEN + 1)
		return SCEP_E_TOOBIG;
	for (i = 0; i < ADMIN_PASSWORD_GEN; i++)
		out[i] = alpha[randombytes_uniform(sizeof(alpha) - 1)];
	out[i] = '\0';
	return SCEP_OK;
}

/*
 * argon2id costs 64 MiB per call (libsodium's "interactive" limits), so
 * the number of hashes computed at once is capped: a burst of logins
 * must not take the server's memory.  Logins that find no free slot are
 * told to retry (they must not queue up behind an attacker's); password
 * changes by an authenticated administrator wait for a slot.
 */
static sem_t		pwslots;
static int		pwslots_ok;
static pthread_once_t	pwslots_once = PTHREAD_ONCE_INIT;

static void
pwslots_init(void)
{
	pwslots_ok = sem_init(&pwslots, 0, ADMIN_PWHASH_PARALLEL) == 0;
}

/* Take a slot: 0, or -1 when none is free and "wait" is 0. */
static int
pwslot_take(int wait)
{
	pthread_once(&pwslots_once, pwslots_init);
	if (!pwslots_ok)
		return 0;	/* no semaphore: no cap, but still works */
	if (wait) {
		while (sem_wait(&pwslots) != 0)
			;	/* EINTR */
		return 0;
	}
	return sem_trywait(&pwslots) == 0 ? 0 : -1;
}

static void
pwslot_give(void)
{
	if (pwslots_ok)
		(void)sem_post(&pwslots);
}

int
admin_password_hash(const char *pw, char out[STORE_PWHASH_MAX])
{
	size_t len = strlen(pw);
	int rc;

	if (len < ADMIN_PASSWORD_MIN || len > ADMIN_PASSWORD_MAX)
		return SCEP_E_MALFORMED;
	/* argon2id with libsodium's "interactive" cost: ~64 MiB, well under
	 * a second; the login throttle bounds the guess rate anyway. */
	(void)pwslot_take(1);
	rc = crypto_pwhash_str(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE);
	pwslot_give();
	return rc == 0 ? SCEP_OK : SCEP_E_NOMEM;
}

int64_t
admin_now(void)
{
	return (int64_t)time(NULL);
}

/* Copy a NUL-terminated string into a fixed array; SCEP_E_TOOBIG if it
 * does not fit (nothing is truncated silently). */
int
admin_strlcpy(char *dst, const char *src, size_t dstsz)
{
	size_t n = strlen(src);

	if (n >= dstsz)
		return SCEP_E_TOOBIG;
	memcpy(dst, src, n + 1);
	return SCEP_OK;
}

void
admin_err_set(struct admin_err *err, const char *field, const char *fmt,
    ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->field = field;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* Length of the UTF-8 sequence starting at p (0 when invalid, overlong
 * or a surrogate); "left" bytes are available. */
static size_t
utf8_seq(const unsigned char *p, size_t left)
{
	uint32_t c;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		c = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		c = p[0] & 0x07;
	} else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

int
admin_name_check(const char *name, struct admin_err *err, const char *field)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t len = strlen(name), i = 0, n;

	if (len == 0) {
		admin_err_set(err, field, "%s must not be empty", field);
		return SCEP_E_MALFORMED;
	}
	if (len >= STORE_NAME_MAX) {
		admin_err_set(err, field, "%s is longer than %d bytes", field,
		    STORE_NAME_MAX - 1);
		return SCEP_E_MALFORMED;
	}
	if (p[0] == ' ' || p[len - 1] == ' ') {
		admin_err_set(err, field,
		    "%s must not start or end with a space", field);
		return SCEP_E_MALFORMED;
	}
	while (i < len) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			admin_err_set(err, field,
			    "%s contains a control character", field);
			return SCEP_E_MALFORMED;
		}
		if ((n = utf8_seq(p + i, len - i)) == 0) {
			admin_err_set(err, field, "%s is not valid UTF-8",
			    field);
			return SCEP_E_MALFORMED;
		}
		i += n;
	}
	return SCEP_OK;
}

/* ---- actors ---- */

/* Load administrator "id" with its scopes into "out". */
static int
actor_load(struct svc *svc, int64_t id, const char *client_addr,
    struct admin_actor *out)
{
	struct store_admin a;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&a, 0, sizeof(a));
	if ((r = store_admin_get(svc_store(svc), id, &a, out->scopes,
	    ADMIN_MAX_SCOPES, &out->nscopes)) != SCEP_OK)
		return r == SCEP_E_NOTFOUND ? SCEP_E_DENIED : r;
	if (a.disabled)
		return SCEP_E_DENIED;
	out->svc = svc;
	out->id = a.id;
	memcpy(out->name, a.name, sizeof(out->name));
	out->role = a.role;
	out->cert_types = a.role == STORE_ROLE_MRAO ? STORE_CT_ALL :
	    a.cert_types;
	if (client_addr != NULL)
		snprintf(out->client_addr, sizeof(out->client_addr), "%s",
		    client_addr);
	sodium_memzero(&a, sizeof(a));
	return SCEP_OK;
}

int
admin_bootstrap(struct svc *svc, const char *name, char *token_out,
    size_t tokensz, char *password_out, size_t pwsz)
{
	struct store *st = svc_store(svc);
	struct store_admin a, one;
	struct store_token tok;
	struct admin_actor actor;
	uint8_t hash[STORE_HASH_LEN];
	size_t n = 0;
	int r;

	memset(&a, 0, sizeof(a));
	memset(&tok, 0, sizeof(tok));
	if (tokensz < ADMIN_TOKEN_MAX || pwsz < ADMIN_PASSWORD_GEN + 1 ||
	    name == NULL || name[0] == '\0')
		return SCEP_E_INTERNAL;
	if ((r = admin_sodium_init()) != SCEP_OK)
		return r;
	if ((r = admin_name_check(name, NULL, NULL)) != SCEP_OK)
		return r;
	if ((r = store_admin_list(st, &one, 1, &n)) != SCEP_OK)
		return r;
	if (n > 0)
		return SCEP_E_EXISTS;

	if ((r = admin_password_generate(password_out, pwsz)) != SCEP_OK)
		goto out;
	snprintf(a.name, sizeof(a.name), "%s", name);
	a.role = STORE_ROLE_MRAO;
	a.cert_types = STORE_CT_ALL;
	a.created_at = admin_now();
	if ((r = admin_password_hash(password_out, a.password_hash)) !=
	    SCEP_OK)
		goto out;
	if ((r = store_admin_insert(st, &a, NULL, 0)) != SCEP_OK)
		goto out;

	if ((r = admin_token_mint(token_out, tokensz, hash)) != SCEP_OK)
		goto out;
	tok.admin_id = a.id;
	snprintf(tok.name, sizeof(tok.name), "bootstrap");
	tok.created_at = a.created_at;
	if ((r = store_token_add(st, &tok, hash)) != SCEP_OK)
		goto out;

	if (actor_load(svc, a.id, "local", &actor) == SCEP_OK) {
		json_t *after = json_pack("{s:s, s:s, s:I}", "name", a.name,
		    "role", "MRAO", "token_id", (json_int_t)tok.id);

		(void)admin_audit(&actor, "admin.bootstrap", 0, 0, NULL,
		    "SUCCESS", "first administrator", NULL, after);
		json_decref(after);
	}
	r = SCEP_OK;
 out:
	if (r != SCEP_OK) {
		sodium_memzero(password_out, pwsz);
		sodium_memzero(token_out, tokensz);
	}
	sodium_memzero(&a, sizeof(a));
	return r;
}

/* A new token into out, its SHA-256 into hash. */
int
admin_token_mint(char *out, size_t outsz, uint8_t hash[STORE_HASH_LEN])
{
	size_t plen = sizeof(ADMIN_TOKEN_PREFIX) - 1;
	int r;

	if (outsz < ADMIN_TOKEN_MAX)
		return SCEP_E_TOOBIG;
	memcpy(out, ADMIN_TOKEN_PREFIX, plen);
	if ((r = admin_random_b64(ADMIN_TOKEN_RAND, out + plen,
	    outsz - plen)) != SCEP_OK)
		return r;
	admin_sha256(out, strlen(out), hash);
	return SCEP_OK;
}

int
admin_auth_token(struct svc *svc, const char *token, const char *client_addr,
    struct admin_actor *out)
{
	struct store_token tok;
	uint8_t hash[STORE_HASH_LEN];
	size_t len;
	int64_t now = admin_now();
	int r;

	memset(&tok, 0, sizeof(tok));
	len = strnlen(token, ADMIN_TOKEN_MAX);
	if (len == ADMIN_TOKEN_MAX || strncmp(token, ADMIN_TOKEN_PREFIX,
	    sizeof(ADMIN_TOKEN_PREFIX) - 1) != 0)
		return SCEP_E_DENIED;
	admin_sha256(token, len, hash);
	if ((r = store_token_by_hash(svc_store(svc), hash, &tok)) != SCEP_OK)
		return r == SCEP_E_NOTFOUND ? SCEP_E_DENIED : r;
	if (tok.revoked_at != 0 || (tok.expires_at != 0 &&
	    now >= tok.expires_at))
		return SCEP_E_DENIED;
	if ((r = actor_load(svc, tok.admin_id, client_addr, out)) != SCEP_OK)
		return r;
	out->token_id = tok.id;
	/* Record use at most once a minute: one write per request would
	 * serialize every API call on the database. */
	if (now - tok.last_used_at >= 60)
		(void)store_token_touch(svc_store(svc), tok.id, now);
	return SCEP_OK;
}

/* A hash to verify against when the name is unknown, so that a wrong
 * name and a wrong password take the same time (no user enumeration). */
static char		dummy_hash[STORE_PWHASH_MAX];
static pthread_once_t	dummy_once = PTHREAD_ONCE_INIT;

static void
dummy_init(void)
{
	char pw[ADMIN_PASSWORD_GEN + 1];

	if (admin_password_generate(pw, sizeof(pw)) != SCEP_OK ||
	    admin_password_hash(pw, dummy_hash) != SCEP_OK)
		dummy_hash[0] = '\0';
	sodium_memzero(pw, sizeof(pw));
}

static int
throttled(struct store *st, const char *key, int64_t now)
{
	int64_t n = 0;

	if (store_login_failures(st, key, now - ADMIN_LOGIN_WINDOW, &n) !=
	    SCEP_OK)
		return 1;	/* fail closed */
	return n >= ADMIN_LOGIN_MAX_FAIL;
}

int
admin_login(struct svc *svc, const char *name, const char *password,
    const char *client_addr, char *sid_out, size_t sidsz, char *csrf_out,
    size_t csrfsz, int *retry_after, struct admin_actor *out)
{
	struct store *st = svc_store(svc);
	struct store_admin a;
	struct store_session sess;
	char kname[STORE_NAME_MAX + 8], kaddr[STORE_ADDR_MAX + 8];
	int64_t now = admin_now();
	int ok = 0, r;

	memset(&a, 0, sizeof(a));
	memset(&sess, 0, sizeof(sess));
	*retry_after = 0;
	if ((r = admin_sodium_init()) != SCEP_OK)
		return r;
	if (strlen(name) >= STORE_NAME_MAX ||
	    strlen(password) > ADMIN_PASSWORD_MAX)
		return SCEP_E_DENIED;
	snprintf(kname, sizeof(kname), "name:%s", name);
	snprintf(kaddr, sizeof(kaddr), "addr:%s", client_addr);
	if (throttled(st, kname, now) || throttled(st, kaddr, now)) {
		*retry_after = ADMIN_LOGIN_WINDOW;
		return SCEP_E_BUSY;
	}

	pthread_once(&dummy_once, dummy_init);
	r = store_admin_by_name(st, name, &a);
	if (r != SCEP_OK && r != SCEP_E_NOTFOUND)
		return r;
	if (pwslot_take(0) != 0) {
		*retry_after = 1;
		sodium_memzero(&a, sizeof(a));
		return SCEP_E_BUSY;
	}
	if (r == SCEP_OK && a.password_hash[0] != '\0' && !a.disabled)
		ok = crypto_pwhash_str_verify(a.password_hash, password,
		    strlen(password)) == 0;
	else if (dummy_hash[0] != '\0' && crypto_pwhash_str_verify(
	    dummy_hash, password, strlen(password)) == 0)
		ok = 0;		/* same work, same answer */
	pwslot_give();
	if (!ok) {
		struct admin_actor anon;

		(void)store_login_fail(st, kname, now);
		(void)store_login_fail(st, kaddr, now);
		memset(&anon, 0, sizeof(anon));
		anon.svc = svc;
		snprintf(anon.name, sizeof(anon.name), "%s", name);
		snprintf(anon.client_addr, sizeof(anon.client_addr), "%s",
		    client_addr);
		(void)admin_audit(&anon, "session.login", 0, 0, NULL,
		    "FAILURE", "bad name or password", NULL, NULL);
		sodium_memzero(&a, sizeof(a));
		return SCEP_E_DENIED;
	}
	(void)store_login_clear(st, kname);

	if ((r = admin_random_b64(32, sid_out, sidsz)) != SCEP_OK ||
	    (r = admin_random_b64(32, csrf_out, csrfsz)) != SCEP_OK)
		goto out;
	admin_sha256(sid_out, strlen(sid_out), sess.sid_hash);
	admin_sha256(csrf_out, strlen(csrf_out), sess.csrf_hash);
	sess.admin_id = a.id;
	snprintf(sess.client_addr, sizeof(sess.client_addr), "%s",
	    client_addr);
	sess.created_at = now;
	sess.expires_at = now + ADMIN_SESSION_TTL;
	(void)store_session_expire(st, now);
	if ((r = store_session_insert(st, &sess)) != SCEP_OK)
		goto out;
	if ((r = actor_load(svc, a.id, client_addr, out)) != SCEP_OK)
		goto out;
	out->session_id = sess.id;
	(void)admin_audit(out, "session.login", 0, 0, NULL, "SUCCESS", NULL,
	    NULL, NULL);
	r = SCEP_OK;
 out:
	if (r != SCEP_OK) {
		sodium_memzero(sid_out, sidsz);
		sodium_memzero(csrf_out, csrfsz);
	}
	sodium_memzero(&a, sizeof(a));
	return r;
}

int
admin_auth_session(struct svc *svc, const char *sid, const char *csrf,
    const char *client_addr, struct admin_actor *out)
{
	struct store_session sess;
	uint8_t h[STORE_HASH_LEN];
	size_t len;
	int r;

	memset(&sess, 0, sizeof(sess));
	if ((len = strnlen(sid, ADMIN_SID_MAX)) == ADMIN_SID_MAX)
		return SCEP_E_DENIED;
	admin_sha256(sid, len, h);
	if ((r = store_session_get(svc_store(svc), h, &sess)) != SCEP_OK)
		return r == SCEP_E_NOTFOUND ? SCEP_E_DENIED : r;
	if (admin_now() >= sess.expires_at) {
		(void)store_session_delete(svc_store(svc), h);
		return SCEP_E_DENIED;
	}
	if (csrf != NULL) {
		if ((len = strnlen(csrf, ADMIN_SID_MAX)) == ADMIN_SID_MAX)
			return SCEP_E_DENIED;
		admin_sha256(csrf, len, h);
		if (sodium_memcmp(h, sess.csrf_hash, sizeof(h)) != 0)
			return SCEP_E_DENIED;
	}
	if ((r = actor_load(svc, sess.admin_id, client_addr, out)) != SCEP_OK)
		return r;
	out->session_id = sess.id;
	return SCEP_OK;
}

int
admin_logout(struct admin_actor *a, const char *sid)
{
	uint8_t h[STORE_HASH_LEN];
	size_t len;
	int r;

	if ((len = strnlen(sid, ADMIN_SID_MAX)) == ADMIN_SID_MAX)
		return SCEP_E_NOTFOUND;
	admin_sha256(sid, len, h);
	if ((r = store_session_delete(svc_store(a->svc), h)) != SCEP_OK)
		return r;
	(void)admin_audit(a, "session.logout", 0, 0, NULL, "SUCCESS", NULL,
	    NULL, NULL);
	return SCEP_OK;
}

/* ---- scope rules ---- */

int
admin_is_mrao(const struct admin_actor *a)
{
	return a->role == STORE_ROLE_MRAO;
}

int
admin_ep_cert_type(int type)
{
	return type == EP_CLIENT_SCEP || type == EP_CLIENT_INTUNE ?
	    STORE_CT_CLIENT : STORE_CT_DEVICE;
}

int
admin_scope_covers(const struct admin_actor *a, int64_t org_id,
    int64_t dept_id)
{
	size_t i;

	if (admin_is_mrao(a))
		return 1;
	if (org_id == 0)
		return 0;
	for (i = 0; i < a->nscopes; i++) {
		if (a->scopes[i].org_id != org_id)
			continue;
		if (a->role == STORE_ROLE_RAO && a->scopes[i].dept_id == 0)
			return 1;
		if (a->role == STORE_ROLE_DRAO && dept_id != 0 &&
		    a->scopes[i].dept_id == dept_id)
			return 1;
	}
	return 0;
}

/* Does a delegation target (dept_id 0: the whole organization) reach
 * into the administrator's scope? */
static int
scope_touches(const struct admin_actor *a, const struct store_orgref *t)
{
	size_t i;

	if (admin_is_mrao(a))
		return 1;
	for (i = 0; i < a->nscopes; i++) {
		if (a->scopes[i].org_id != t->org_id)
			continue;
		if (a->role == STORE_ROLE_RAO || t->dept_id == 0 ||
		    a->scopes[i].dept_id == t->dept_id)
			return 1;
	}
	return 0;
}

int
admin_scope_touches(const struct admin_actor *a, const struct store_orgref *t)
{
	return scope_touches(a, t);
}

int
admin_ep_visible(const struct admin_actor *a, const struct admin_endpoint *e)
{
	struct store_orgref owner;
	size_t i;

	if (admin_is_mrao(a))
		return 1;
	if ((a->cert_types & admin_ep_cert_type(e->ep.type)) == 0)
		return 0;
	if (e->ep.delegation_general)
		return 1;
	owner.org_id = e->ep.org_id;
	owner.dept_id = e->ep.dept_id;
	if (owner.org_id != 0 && scope_touches(a, &owner))
		return 1;
	for (i = 0; i < e->ntargets; i++)
		if (scope_touches(a, &e->targets[i]))
			return 1;
	return 0;
}

int
admin_ep_manageable(const struct admin_actor *a,
    const struct admin_endpoint *e)
{
	size_t i;

	if (admin_is_mrao(a))
		return 1;
	if ((a->cert_types & admin_ep_cert_type(e->ep.type)) == 0 ||
	    e->ep.delegation_general)
		return 0;
	if (e->ntargets == 0 && e->ep.org_id == 0)
		return 0;
	if (e->ep.org_id != 0 &&
	    !admin_scope_covers(a, e->ep.org_id, e->ep.dept_id))
		return 0;
	for (i = 0; i < e->ntargets; i++)
		if (!admin_scope_covers(a, e->targets[i].org_id,
		    e->targets[i].dept_id))
			return 0;
	return 1;
}

/* ---- audit writer ---- */

/*
 * details = {"before": {...}, "after": {...}} with only the members that
 * differ.  Falls back to the list of changed member names when that does
 * not fit the store's column.
 */
static void
audit_details(json_t *before, json_t *after, const char *request_id,
    char *out, size_t outsz)
{
	json_t *d = NULL, *b = NULL, *a = NULL, *names = NULL, *v;
	const char *k;
	char *s = NULL;

	out[0] = '\0';
	if ((d = json_object()) == NULL || (names = json_array()) == NULL)
		goto out;
	if (before != NULL && after != NULL) {
		if ((b = json_object()) == NULL || (a = json_object()) == NULL)
			goto out;
		json_object_foreach(after, k, v) {
			json_t *o = json_object_get(before, k);

			if (o != NULL && json_equal(o, v))
				continue;
			if (o != NULL)
				json_object_set(b, k, o);
			json_object_set(a, k, v);
			json_array_append_new(names, json_string(k));
		}
		json_object_foreach(before, k, v) {
			if (json_object_get(after, k) == NULL) {
				json_object_set(b, k, v);
				json_array_append_new(names, json_string(k));
			}
		}
		json_object_set(d, "before", b);
		json_object_set(d, "after", a);
	} else if (before != NULL)
		json_object_set(d, "before", before);
	else if (after != NULL)
		json_object_set(d, "after", after);
	if (request_id != NULL && request_id[0] != '\0')
		json_object_set_new(d, "request_id", json_string(request_id));
	s = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	if (s != NULL && strlen(s) < outsz) {
		memcpy(out, s, strlen(s) + 1);
		goto out;
	}
	free(s);
	s = NULL;
	json_object_clear(d);
	json_object_set(d, "changed", names);
	json_object_set_new(d, "truncated", json_true());
	s = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	if (s != NULL && strlen(s) < outsz)
		memcpy(out, s, strlen(s) + 1);
	else
		snprintf(out, outsz, "{\"truncated\":true}");
 out:
	free(s);
	json_decref(names);
	json_decref(a);
	json_decref(b);
	json_decref(d);
}

int
admin_audit(struct admin_actor *a, const char *action, int64_t endpoint_id,
    int64_t account_id, const char *serial, const char *result,
    const char *reason, json_t *before, json_t *after)
{
	struct store_event ev;
	int r;

	memset(&ev, 0, sizeof(ev));
	ev.ts = admin_now();
	snprintf(ev.kind, sizeof(ev.kind), "admin");
	snprintf(ev.actor, sizeof(ev.actor), "%s", a->name);
	snprintf(ev.action, sizeof(ev.action), "%s", action);
	ev.endpoint_id = endpoint_id;
	ev.account_id = account_id;
	snprintf(ev.client_addr, sizeof(ev.client_addr), "%s",
	    a->client_addr);
	snprintf(ev.result, sizeof(ev.result), "%s", result);
	ev.failinfo = -1;
	if (reason != NULL)
		snprintf(ev.reason, sizeof(ev.reason), "%s", reason);
	if (serial != NULL)
		snprintf(ev.serial, sizeof(ev.serial), "%s", serial);
	audit_details(before, after, a->request_id, ev.details,
	    sizeof(ev.details));
	if ((r = store_event_append(svc_store(a->svc), &ev)) != SCEP_OK)
		log_error("msg=\"audit append failed\" action=%s err=\"%s\"",
		    action, scep_strerror(r));
	return r;
}

int
admin_audit_done(struct admin_actor *a, const char *action, json_t *before,
    json_t *after)
{
	(void)admin_audit(a, action, 0, 0, NULL, "SUCCESS", NULL, before,
	    after);
	json_decref(before);
	json_decref(after);
	return SCEP_OK;
}
