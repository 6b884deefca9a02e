/*
 * store.c -- the public store functions: pick a backend from the DSN,
 * check every argument once, then dispatch through struct store_ops
 * (STYLE H10).  Backends (store_sqlite.c, later store_pg.c) hold the SQL
 * and rely on the checks made here (see store_int.h).
 *
 * Also here, because every backend must compute it the same way: the
 * audit chain digest, store_event_digest().
 */
#include <stdint.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include <openssl/evp.h>

#include "scep_err.h"
#include "store.h"
#include "store_int.h"

/*
 * DSN schemes.  "strip" says whether the backend gets the DSN without its
 * scheme ("sqlite:/var/lib/scepd.db" -> "/var/lib/scepd.db") or whole
 * (a PostgreSQL URI is passed to libpq as it is).  A DSN that matches no
 * row and has no "://" is a plain path: SQLite.  Adding a backend is one
 * row here (under its meson feature macro) plus its file.
 */
static const struct {
	const char		*prefix;
	int			 strip;
	const struct store_ops	*ops;
} backends[] = {
	{ "sqlite:",		1,	&store_sqlite_ops },
#ifdef STORE_HAVE_PG
	{ "postgresql://",	0,	&store_pg_ops },
	{ "postgres://",	0,	&store_pg_ops },
#endif
};

/* The value "config_version" of the settings table is the store's. */
#define CONFIG_VERSION_KEY	"config_version"

/* 1 if the array "s" of "sz" bytes holds a NUL-terminated string. */
static int
str_ok(const char *s, size_t sz)
{
	return s != NULL && memchr(s, '\0', sz) != NULL;
}

/* 1 if a (pointer, length) blob is acceptable: bounded, and a non-zero
 * length comes with a pointer. */
static int
blob_ok(const uint8_t *p, size_t len)
{
	return len <= STORE_BLOB_MAX && (len == 0 || p != NULL);
}

/*
 * A certificate serial as the store keeps it (store.h): upper-case hex,
 * no leading zero, so that one number has one spelling and the UNIQUE
 * constraint on certs.serial means what it says.
 */
static int
serial_ok(const char *s)
{
	size_t i, len;

	if (!str_ok(s, STORE_SERIAL_MAX))
		return 0;
	len = strlen(s);
	if (len == 0 || s[0] == '0')
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

static int
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
store_open(const char *dsn, struct store **out)
{
	struct store *s = NULL;
	const struct store_ops *ops = NULL;
	const char *arg = NULL;
	size_t i;
	int r;

	if (out == NULL)
		return SCEP_E_INTERNAL;
	*out = NULL;
	if (dsn == NULL || dsn[0] == '\0')
		return SCEP_E_CONFIG;
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (has_prefix(dsn, backends[i].prefix)) {
			ops = backends[i].ops;
			arg = backends[i].strip ?
			    dsn + strlen(backends[i].prefix) : dsn;
			break;
		}
	}
	if (ops == NULL) {
		/* "postgresql://..." without the PostgreSQL backend built,
		 * or a scheme we do not know: not a file name. */
		if (strstr(dsn, "://") != NULL)
			return SCEP_E_CONFIG;
		ops = &store_sqlite_ops;
		arg = dsn;
	}

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SCEP_E_NOMEM;
	s->ops = ops;
	if ((r = ops->open(arg, &s->be)) != SCEP_OK)
		goto out;
	/* After the schema migrations, the data migration (run once). */
	if ((r = store_redact_old_csrs(s)) != SCEP_OK) {
		ops->close(s->be);
		goto out;
	}
	*out = s;		/* ownership moves to the caller */
	s = NULL;
	r = SCEP_OK;
 out:
	free(s);		/* backend state was never made */
	return r;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s->be);
	free(s);
}

int
store_schema_version(struct store *s, int64_t *version)
{
	if (s == NULL || version == NULL)
		return SCEP_E_INTERNAL;
	*version = 0;
	return s->ops->schema_version(s->be, version);
}

void
store_ca_clear(struct store_ca *ca)
{
	if (ca == NULL)
		return;
	free(ca->cert_der);
	memset(ca, 0, sizeof(*ca));
}

void
store_ra_clear(struct store_ra *ra)
{
	if (ra == NULL)
		return;
	free(ra->cert_der);
	memset(ra, 0, sizeof(*ra));
}

void
store_request_clear(struct store_request *req)
{
	if (req == NULL)
		return;
	free(req->csr_der);
	free(req->signer_der);
	memset(req, 0, sizeof(*req));
}

void
store_cert_clear(struct store_cert *c)
{
	if (c == NULL)
		return;
	free(c->der);
	memset(c, 0, sizeof(*c));
}

/* Settings. */

int
store_setting_get(struct store *s, const char *key, char *val, size_t valsz)
{
	int r;

	if (s == NULL || key == NULL || val == NULL || valsz == 0)
		return SCEP_E_INTERNAL;
	val[0] = '\0';
	if (!str_ok(key, STORE_NAME_MAX))
		return SCEP_E_TOOBIG;
	if ((r = s->ops->setting_get(s->be, key, val, valsz)) != SCEP_OK)
		val[0] = '\0';
	return r;
}

int
store_setting_set(struct store *s, const char *key, const char *val)
{
	if (s == NULL || key == NULL || val == NULL)
		return SCEP_E_INTERNAL;
	if (!str_ok(key, STORE_NAME_MAX) || !str_ok(val, STORE_TEXT_MAX))
		return SCEP_E_TOOBIG;
	if (key[0] == '\0')
		return SCEP_E_INTERNAL;
	if (strcmp(key, CONFIG_VERSION_KEY) == 0)
		return SCEP_E_DENIED;
	return s->ops->setting_set(s->be, key, val);
}

/* CAs and RAs. */

static int
ra_valid(const struct store_ra *ra)
{
	if (ra->state < RA_ACTIVE || ra->state > RA_RETIRED ||
	    ra->usage < 1 || ra->usage > 3)
		return SCEP_E_INTERNAL;
	if (!str_ok(ra->key_path, sizeof(ra->key_path)) ||
	    !blob_ok(ra->cert_der, ra->cert_len))
		return SCEP_E_TOOBIG;
	if (ra->cert_len == 0)
		return SCEP_E_INTERNAL;
	return SCEP_OK;
}

int
store_ca_insert(struct store *s, struct store_ca *ca)
{
	if (s == NULL || ca == NULL)
		return SCEP_E_INTERNAL;
	if (!str_ok(ca->name, sizeof(ca->name)) ||
	    !str_ok(ca->key_path, sizeof(ca->key_path)) ||
	    !blob_ok(ca->cert_der, ca->cert_len))
		return SCEP_E_TOOBIG;
	if (ca->cert_len == 0)
		return SCEP_E_INTERNAL;
	return s->ops->ca_insert(s->be, ca);
}

int
store_ca_get(struct store *s, int64_t id, struct store_ca *out)
{
	int r;

	if (s == NULL || out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	if ((r = s->ops->ca_get(s->be, id, out)) != SCEP_OK)
		store_ca_clear(out);
	return r;
}

int
store_ra_insert(struct store *s, struct store_ra *ra)
{
	int r;

	if (s == NULL || ra == NULL)
		return SCEP_E_INTERNAL;
	if ((r = ra_valid(ra)) != SCEP_OK)
		return r;
	if (ra->ca_id <= 0)
		return SCEP_E_NOTFOUND;
	return s->ops->ra_insert(s->be, ra);
}

int
store_ra_get(struct store *s, int64_t id, struct store_ra *out)
{
	int r;

	if (s == NULL || out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	if ((r = s->ops->ra_get(s->be, id, out)) != SCEP_OK)
		store_ra_clear(out);
	return r;
}

int
store_ra_list(struct store *s, int64_t ca_id, int state,
    struct store_ra *out, size_t max, size_t *n)
{
	size_t i;
	int r;

	if (s == NULL || n == NULL || (out == NULL && max > 0))
		return SCEP_E_INTERNAL;
	*n = 0;
	if (state < 0 || state > RA_RETIRED)
		return SCEP_E_INTERNAL;
	if (max == 0)
		return SCEP_OK;
	memset(out, 0, max * sizeof(*out));
	if ((r = s->ops->ra_list(s->be, ca_id, state, out, max, n)) !=
	    SCEP_OK) {
		for (i = 0; i < max; i++)
			store_ra_clear(&out[i]);
		*n = 0;
	}
	return r;
}

int
store_ra_set_state(struct store *s, int64_t id, int state)
{
	if (s == NULL || state < RA_ACTIVE || state > RA_RETIRED)
		return SCEP_E_INTERNAL;
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	return s->ops->ra_set_state(s->be, id, state);
}

/* Endpoints. */

/* Also used by store_admin.c (store_int.h). */
int
store_endpoint_valid(const struct store_endpoint *ep)
{
	if (!str_ok(ep->name, sizeof(ep->name)) ||
	    !str_ok(ep->uri_ext, sizeof(ep->uri_ext)))
		return SCEP_E_TOOBIG;
	if (ep->uri_ext[0] == '\0' || ep->type < EP_CLIENT_SCEP ||
	    ep->type > EP_DEVICE_INTUNE || ep->ra_id < 0 || ep->org_id < 0 ||
	    ep->dept_id < 0)
		return SCEP_E_INTERNAL;
	if (ep->ca_id <= 0)
		return SCEP_E_NOTFOUND;
	return SCEP_OK;
}

int
store_endpoint_insert(struct store *s, struct store_endpoint *ep)
{
	int r;

	if (s == NULL || ep == NULL)
		return SCEP_E_INTERNAL;
	if ((r = store_endpoint_valid(ep)) != SCEP_OK)
		return r;
	return s->ops->endpoint_insert(s->be, ep);
}

int
store_endpoint_update(struct store *s, const struct store_endpoint *ep)
{
	int r;

	if (s == NULL || ep == NULL)
		return SCEP_E_INTERNAL;
	if ((r = store_endpoint_valid(ep)) != SCEP_OK)
		return r;
	if (ep->id <= 0)
		return SCEP_E_NOTFOUND;
	return s->ops->endpoint_update(s->be, ep);
}

int
store_endpoint_get(struct store *s, int64_t id, struct store_endpoint *out)
{
	int r;

	if (s == NULL || out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	if ((r = s->ops->endpoint_get(s->be, id, out)) != SCEP_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

int
store_endpoint_by_ext(struct store *s, const char *uri_ext,
    struct store_endpoint *out)
{
	int r;

	if (s == NULL || uri_ext == NULL || out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (!str_ok(uri_ext, STORE_NAME_MAX))
		return SCEP_E_NOTFOUND;	/* longer than any stored one */
	if ((r = s->ops->endpoint_by_ext(s->be, uri_ext, out)) != SCEP_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

int
store_endpoint_delete(struct store *s, int64_t id, int64_t now)
{
	/* deleted_at = 0 means live, so a deletion needs a real time. */
	if (s == NULL || now <= 0)
		return SCEP_E_INTERNAL;
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	return s->ops->endpoint_delete(s->be, id, now);
}

static atomic_uint_fast64_t config_local_gen;

void
store_config_touch(void)
{
	atomic_fetch_add(&config_local_gen, 1);
}

uint64_t
store_config_local_gen(void)
{
	return (uint64_t)atomic_load(&config_local_gen);
}

int
store_config_version(struct store *s, int64_t *version)
{
	if (s == NULL || version == NULL)
		return SCEP_E_INTERNAL;
	*version = 0;
	return s->ops->config_version(s->be, version);
}

/* Accounts. */

/* Also used by store_admin.c (store_int.h). */
int
store_account_valid(const struct store_account *a)
{
	if (!str_ok(a->name, sizeof(a->name)))
		return SCEP_E_TOOBIG;
	if (a->org_id < 0 || a->dept_id < 0 || a->max_enrollments < 0 ||
	    a->enrollments < 0 || a->expires_at < 0)
		return SCEP_E_INTERNAL;
	if (a->endpoint_id <= 0)
		return SCEP_E_NOTFOUND;
	return SCEP_OK;
}

int
store_account_insert(struct store *s, struct store_account *a)
{
	int r;

	if (s == NULL || a == NULL)
		return SCEP_E_INTERNAL;
	if ((r = store_account_valid(a)) != SCEP_OK)
		return r;
	return s->ops->account_insert(s->be, a);
}

int
store_account_update(struct store *s, const struct store_account *a)
{
	int r;

	if (s == NULL || a == NULL)
		return SCEP_E_INTERNAL;
	if ((r = store_account_valid(a)) != SCEP_OK)
		return r;
	if (a->id <= 0)
		return SCEP_E_NOTFOUND;
	return s->ops->account_update(s->be, a);
}

int
store_account_get(struct store *s, int64_t id, struct store_account *out)
{
	int r;

	if (s == NULL || out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	if ((r = s->ops->account_get(s->be, id, out)) != SCEP_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

int
store_account_by_challenge(struct store *s,
    const uint8_t hash[STORE_HASH_LEN], struct store_account *out)
{
	static const uint8_t zero[STORE_HASH_LEN];
	int r;

	if (s == NULL || hash == NULL || out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	/* All zero is "no challenge" (store.h): it matches nothing. */
	if (memcmp(hash, zero, sizeof(zero)) == 0)
		return SCEP_E_NOTFOUND;
	if ((r = s->ops->account_by_challenge(s->be, hash, out)) != SCEP_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

/* Requests. */

static int
request_check(const struct store_request *req)
{
	if (!str_ok(req->transid, sizeof(req->transid)) ||
	    !str_ok(req->serial, sizeof(req->serial)) ||
	    !str_ok(req->reason, sizeof(req->reason)) ||
	    !blob_ok(req->csr_der, req->csr_len) ||
	    !blob_ok(req->signer_der, req->signer_len))
		return SCEP_E_TOOBIG;
	if (req->transid[0] == '\0' || req->status < REQ_PENDING ||
	    req->status > REQ_FAILED || req->account_id < 0)
		return SCEP_E_INTERNAL;
	if (req->endpoint_id <= 0)
		return SCEP_E_NOTFOUND;
	return SCEP_OK;
}

int
store_request_insert(struct store *s, struct store_request *req)
{
	int r;

	if (s == NULL || req == NULL)
		return SCEP_E_INTERNAL;
	if ((r = request_check(req)) != SCEP_OK)
		return r;
	return s->ops->request_insert(s->be, req);
}

int
store_request_get(struct store *s, int64_t id, struct store_request *out)
{
	int r;

	if (s == NULL || out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	if ((r = s->ops->request_get(s->be, id, out)) != SCEP_OK)
		store_request_clear(out);
	return r;
}

int
store_request_find(struct store *s, int64_t endpoint_id, const char *transid,
    struct store_request *out)
{
	int r;

	if (s == NULL || transid == NULL || out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (!str_ok(transid, sizeof(out->transid)))
		return SCEP_E_NOTFOUND;	/* longer than any stored one */
	if (endpoint_id <= 0)
		return SCEP_E_NOTFOUND;
	if ((r = s->ops->request_find(s->be, endpoint_id, transid, out)) !=
	    SCEP_OK)
		store_request_clear(out);
	return r;
}

int
store_request_transition(struct store *s, int64_t id, int from, int to,
    const char *serial, const char *reason, int64_t now)
{
	if (s == NULL || from < REQ_PENDING || from > REQ_FAILED ||
	    to < REQ_PENDING || to > REQ_FAILED)
		return SCEP_E_INTERNAL;
	if ((serial != NULL && !str_ok(serial, STORE_SERIAL_MAX)) ||
	    (reason != NULL && !str_ok(reason, STORE_TEXT_MAX)))
		return SCEP_E_TOOBIG;
	if (serial != NULL && serial[0] != '\0' && !serial_ok(serial))
		return SCEP_E_MALFORMED;
	if (id <= 0)
		return SCEP_E_NOTFOUND;
	return s->ops->request_transition(s->be, id, from, to, serial, reason,
	    now);
}

int
store_request_list_pending(struct store *s, struct store_request *out,
    size_t max, size_t *n)
{
	size_t i;
	int r;

	if (s == NULL || n == NULL || (out == NULL && max > 0))
		return SCEP_E_INTERNAL;
	*n = 0;
	if (max == 0)
		return SCEP_OK;
	memset(out, 0, max * sizeof(*out));
	if ((r = s->ops->request_list_pending(s->be, out, max, n)) !=
	    SCEP_OK) {
		for (i = 0; i < max; i++)
			store_request_clear(&out[i]);
		*n = 0;
	}
	return r;
}

/* Certificates. */

static int
cert_check(const struct store_cert *c, int64_t request_id, int from_status)
{
	if (!str_ok(c->serial, sizeof(c->serial)) ||
	    !str_ok(c->subject, sizeof(c->subject)) ||
	    !blob_ok(c->der, c->der_len))
		return SCEP_E_TOOBIG;
	if (!serial_ok(c->serial))
		return SCEP_E_MALFORMED;
	if (c->der_len == 0 || c->status < CERT_VALID ||
	    c->status > CERT_REVOKED || c->endpoint_id < 0 ||
	    c->account_id < 0 || c->org_id < 0 || c->dept_id < 0 ||
	    request_id < 0 || (request_id > 0 &&
	    (from_status < REQ_PENDING || from_status > REQ_FAILED)))
		return SCEP_E_INTERNAL;
	if (c->ca_id <= 0)
		return SCEP_E_NOTFOUND;
	return SCEP_OK;
}

int
store_cert_issue(struct store *s, const struct store_cert *c,
    int64_t request_id, int from_status, int64_t now)
{
	int r;

	if (s == NULL || c == NULL)
		return SCEP_E_INTERNAL;
	if ((r = cert_check(c, request_id, from_status)) != SCEP_OK)
		return r;
	return s->ops->cert_issue(s->be, c, request_id, from_status, now);
}

static int event_check(const struct store_event *);

/*
 * One transaction (store_cert_issue): move the request from
 * "from_status" to REQ_ISSUED, count the enrollment against the
 * account's limit, insert the certificate.  The caller's transaction
 * rolls all three back on any error.  A request no longer in
 * "from_status" was taken by a concurrent issuer (SCEP_E_EXISTS) unless
 * it is not there at all; an account that did not count the enrollment
 * is at its limit (SCEP_E_DENIED) unless it is not there at all.
 */
int
store_issue_in(const struct store_tx_ops *tx, void *c,
    const struct store_cert *crt, int64_t request_id, int from_status,
    int64_t now)
{
	int64_t n = 0;
	int r;

	if (request_id > 0) {
		r = tx->request_move(c, request_id, from_status, REQ_ISSUED,
		    crt->serial, NULL, now);
		if (r == SCEP_E_NOTFOUND &&
		    (r = tx->request_has(c, request_id)) == SCEP_OK)
			r = SCEP_E_EXISTS;
		if (r != SCEP_OK)
			return r;
	}
	if (crt->account_id > 0) {
		if ((r = tx->account_enroll(c, crt->account_id, &n)) !=
		    SCEP_OK)
			return r;
		if (n == 0) {
			if ((r = tx->account_has(c, crt->account_id)) ==
			    SCEP_OK)
				r = SCEP_E_DENIED;	/* limit reached */
			return r;
		}
	}
	return tx->cert_insert(c, crt, request_id, now);
}

/* A whole enrollment (store_enroll_commit) inside the caller's
 * transaction: the request, then its certificate, then its event. */
int
store_enroll_in(const struct store_tx_ops *tx, void *c,
    struct store_request *rq, const struct store_cert *crt,
    struct store_event *row)
{
	int r;

	if ((r = tx->request_insert(c, rq)) != SCEP_OK)
		return r;
	if (crt != NULL && (r = store_issue_in(tx, c, crt, rq->id,
	    rq->status, rq->updated_at)) != SCEP_OK)
		return r;
	return row != NULL ? tx->event_append(c, row) : SCEP_OK;
}

/*
 * An audit event goes to the backend as a private heap copy (struct
 * store_event is ~2.7 KiB: off thread stacks), which the backend's
 * transaction fills in with id, prev_hash and hash; only once that
 * transaction has committed are the three copied back, so a rolled-back
 * write leaves the caller's event as it was.  Shared by both backends
 * and both writers (store_event_append, store_enroll_commit).
 */
static struct store_event *
event_copy(const struct store_event *ev)
{
	struct store_event *row;

	if ((row = malloc(sizeof(*row))) != NULL)
		memcpy(row, ev, sizeof(*row));
	return row;
}

static void
event_copy_back(struct store_event *ev, const struct store_event *row)
{
	ev->id = row->id;
	memcpy(ev->prev_hash, row->prev_hash, STORE_HASH_LEN);
	memcpy(ev->hash, row->hash, STORE_HASH_LEN);
}

int
store_enroll_commit(struct store *s, struct store_request *req,
    const struct store_cert *c, struct store_event *ev)
{
	struct store_event *row = NULL;
	int64_t id;
	int r;

	if (s == NULL || req == NULL)
		return SCEP_E_INTERNAL;
	if ((r = request_check(req)) != SCEP_OK)
		return r;
	if (req->status != REQ_PENDING)
		return SCEP_E_INTERNAL;
	if (c != NULL && (r = cert_check(c, 1, REQ_PENDING)) != SCEP_OK)
		return r;
	if (ev != NULL && (r = event_check(ev)) != SCEP_OK)
		return r;
	if (ev != NULL && (row = event_copy(ev)) == NULL)
		return SCEP_E_NOMEM;
	id = req->id;
	r = s->ops->enroll_commit(s->be, req, c, row);
	if (r == SCEP_OK && ev != NULL)
		event_copy_back(ev, row);
	if (r != SCEP_OK)
		req->id = id;	/* rolled back: no id */
	free(row);
	return r;
}

int
store_cert_get(struct store *s, const char *serial, struct store_cert *out)
{
	int r;

	if (s == NULL || serial == NULL || out == NULL)
		return SCEP_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (!str_ok(serial, STORE_SERIAL_MAX))
		return SCEP_E_NOTFOUND;
	if ((r = s->ops->cert_get(s->be, serial, out)) != SCEP_OK)
		store_cert_clear(out);
	return r;
}

int
store_cert_revoke(struct store *s, const char *serial, int reason,
    int64_t now)
{
	/* CRLReason (RFC 5280 5.3.1): 0..10, 7 unused. */
	if (s == NULL || serial == NULL || reason < 0 || reason > 10 ||
	    reason == 7)
		return SCEP_E_INTERNAL;
	if (!str_ok(serial, STORE_SERIAL_MAX))
		return SCEP_E_NOTFOUND;
	return s->ops->cert_revoke(s->be, serial, reason, now);
}

int
store_cert_revoked_each(struct store *s, int64_t ca_id,
    int (*fn)(void *arg, const char *serial, int64_t revoked_at, int reason),
    void *arg)
{
	if (s == NULL || fn == NULL)
		return SCEP_E_INTERNAL;
	return s->ops->cert_revoked_each(s->be, ca_id, fn, arg);
}

/* Events. */

static int
event_check(const struct store_event *ev)
{
	if (!str_ok(ev->kind, sizeof(ev->kind)) ||
	    !str_ok(ev->actor, sizeof(ev->actor)) ||
	    !str_ok(ev->action, sizeof(ev->action)) ||
	    !str_ok(ev->transid, sizeof(ev->transid)) ||
	    !str_ok(ev->client_addr, sizeof(ev->client_addr)) ||
	    !str_ok(ev->result, sizeof(ev->result)) ||
	    !str_ok(ev->reason, sizeof(ev->reason)) ||
	    !str_ok(ev->serial, sizeof(ev->serial)) ||
	    !str_ok(ev->details, sizeof(ev->details)))
		return SCEP_E_TOOBIG;
	return SCEP_OK;
}

int
store_event_append(struct store *s, struct store_event *ev)
{
	struct store_event *row = NULL;
	int r;

	if (s == NULL || ev == NULL)
		return SCEP_E_INTERNAL;
	if ((r = event_check(ev)) != SCEP_OK)
		return r;
	if ((row = event_copy(ev)) == NULL)
		return SCEP_E_NOMEM;
	if ((r = s->ops->event_append(s->be, row)) == SCEP_OK)
		event_copy_back(ev, row);
	free(row);
	return r;
}

int
store_event_list(struct store *s, int64_t after, struct store_event *out,
    size_t max, size_t *n)
{
	int r;

	if (s == NULL || n == NULL || (out == NULL && max > 0))
		return SCEP_E_INTERNAL;
	*n = 0;
	if (max == 0)
		return SCEP_OK;
	memset(out, 0, max * sizeof(*out));
	if ((r = s->ops->event_list(s->be, after, out, max, n)) != SCEP_OK)
		*n = 0;
	return r;
}

int
store_event_verify(struct store *s, int64_t *bad_id)
{
	if (s == NULL || bad_id == NULL)
		return SCEP_E_INTERNAL;
	*bad_id = 0;
	return s->ops->event_verify(s->be, bad_id);
}

/* Tokens. */

int
store_token_insert(struct store *s, const char *name,
    const uint8_t hash[STORE_HASH_LEN], int64_t now)
{
	if (s == NULL || name == NULL || hash == NULL)
		return SCEP_E_INTERNAL;
	if (!str_ok(name, STORE_NAME_MAX))
		return SCEP_E_TOOBIG;
	return s->ops->token_insert(s->be, name, hash, now);
}

int
store_token_check(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    char *name, size_t namesz)
{
	int r;

	if (s == NULL || hash == NULL || name == NULL || namesz == 0)
		return SCEP_E_INTERNAL;
	name[0] = '\0';
	if ((r = s->ops->token_check(s->be, hash, name, namesz)) != SCEP_OK)
		name[0] = '\0';
	return r;
}

/*
 * The audit chain.
 *
 *	hash = SHA-256(prev_hash || "scepd-event-v1" || row)
 *
 * where prev_hash is the hash of the row with the next lower id (32 zero
 * bytes for the first row), "scepd-event-v1" is those 14 ASCII bytes (a
 * version tag, so a future serialization cannot be confused with this
 * one), and row is the fields in this order, each encoded as
 *
 *	integer: 8 bytes, big-endian two's complement
 *		(id, ts, endpoint_id, account_id, failinfo)
 *	string:	 4-byte big-endian length, then the bytes, no NUL
 *		(kind, actor, action, transid, client_addr, result, reason,
 *		 serial, details)
 *
 *	id ts kind actor action endpoint_id account_id transid client_addr
 *	result failinfo reason serial details
 *
 * Length prefixes make the encoding unambiguous (no two rows serialize to
 * the same bytes), and the id ties a row to its place in the chain.
 */
#define EVENT_TAG	"scepd-event-v1"

static int
digest_i64(EVP_MD_CTX *md, int64_t v)
{
	uint8_t b[8];
	uint64_t u = (uint64_t)v;
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (uint8_t)(u & 0xff);
		u >>= 8;
	}
	return EVP_DigestUpdate(md, b, sizeof(b));
}

static int
digest_str(EVP_MD_CTX *md, const char *s, size_t sz)
{
	uint8_t b[4];
	size_t len;

	len = strnlen(s, sz);	/* sz <= STORE_TEXT_MAX: fits 32 bits */
	b[0] = (uint8_t)(len >> 24);
	b[1] = (uint8_t)(len >> 16);
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	return EVP_DigestUpdate(md, b, sizeof(b)) &&
	    EVP_DigestUpdate(md, s, len);
}

int
store_event_digest(const uint8_t prev_hash[STORE_HASH_LEN],
    const struct store_event *ev, uint8_t out[STORE_HASH_LEN])
{
	EVP_MD_CTX *md = NULL;
	unsigned int len = 0;
	int r = SCEP_E_INTERNAL;

	if ((md = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(md, prev_hash, STORE_HASH_LEN) ||
	    !EVP_DigestUpdate(md, EVENT_TAG, strlen(EVENT_TAG)) ||
	    !digest_i64(md, ev->id) ||
	    !digest_i64(md, ev->ts) ||
	    !digest_str(md, ev->kind, sizeof(ev->kind)) ||
	    !digest_str(md, ev->actor, sizeof(ev->actor)) ||
	    !digest_str(md, ev->action, sizeof(ev->action)) ||
	    !digest_i64(md, ev->endpoint_id) ||
	    !digest_i64(md, ev->account_id) ||
	    !digest_str(md, ev->transid, sizeof(ev->transid)) ||
	    !digest_str(md, ev->client_addr, sizeof(ev->client_addr)) ||
	    !digest_str(md, ev->result, sizeof(ev->result)) ||
	    !digest_i64(md, ev->failinfo) ||
	    !digest_str(md, ev->reason, sizeof(ev->reason)) ||
	    !digest_str(md, ev->serial, sizeof(ev->serial)) ||
	    !digest_str(md, ev->details, sizeof(ev->details)))
		goto out;
	if (!EVP_DigestFinal_ex(md, out, &len) || len != STORE_HASH_LEN)
		goto out;
	r = SCEP_OK;
 out:
	EVP_MD_CTX_free(md);
	return r;
}

/* SHA-256 of a blob (requests.signer_fp of the SQLite backend). */
int
store_sha256(const uint8_t *p, size_t len, uint8_t out[STORE_HASH_LEN])
{
	unsigned int n = 0;

	if (!EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) ||
	    n != STORE_HASH_LEN)
		return SCEP_E_INTERNAL;
	return SCEP_OK;
}
