/*
 * svc_cache.c -- the endpoint key-set cache (issue 7): per endpoint, the
 * endpoint row, the identities it uses (CA, RAs loaded into keyops and the
 * ids that decrypt and sign) and the prebuilt GetCACaps, GetCACert and
 * GetNextCACert bodies, so that GET operations never touch the store and a
 * PKIOperation costs one cheap read (store_config_version).
 *
 * Freshness: an entry reflects the store's config_version.  Changes made
 * by this process move store_config_local_gen(), which every lookup checks
 * (no query); changes by another process or node (scepctl, a second
 * PostgreSQL node) are seen at the next store_config_version() read: on
 * every PKIOperation (svc_ep_get(..., fresh = 1)) and, for GETs, at most
 * SVC_CACHE_TTL_MS after the previous read.
 *
 * Concurrency: read-mostly.  Lookups take the read lock just long enough
 * to find an entry and take a reference; a key set is immutable once
 * published and freed when its last reference goes, so an invalidation
 * never pulls one out from under a request that still uses it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "log.h"
#include "scep.h"
#include "svc.h"
#include "svc_int.h"

struct svc_ep {
	atomic_int		 refs;
	struct svc_ep		*next;		/* in the cache list */
	struct store_endpoint	 row;
	int64_t			 sign_ra;	/* 0: the CA signs */
	int64_t			 next_ra;	/* staged successor, or 0 */
	int64_t			 ids[SVC_MAX_RA];	/* active, next, retired */
	size_t			 nids;
	struct svc_ep_body	 body[SVC_OP__MAX];
};

struct svc_cache {
	pthread_rwlock_t	 lock;
	struct svc_ep		*list;
	size_t			 n;
	int64_t			 version;	/* config_version of the list */
	uint64_t		 local_gen;	/* store_config_local_gen() */
	double			 checked;	/* when version was read */
	char			 default_ext[STORE_NAME_MAX];
	int			 have_default;
	unsigned int		 ttl_ms;
};

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
svc_cache_new(unsigned int ttl_ms, struct svc_cache **out)
{
	struct svc_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SCEP_E_NOMEM;
	if (pthread_rwlock_init(&c->lock, NULL) != 0) {
		free(c);
		return SCEP_E_NOMEM;
	}
	c->version = -1;
	c->ttl_ms = ttl_ms ? ttl_ms : SVC_CACHE_TTL_MS;
	*out = c;
	return SCEP_OK;
}

static void
ep_free(struct svc_ep *e)
{
	size_t i;

	for (i = 0; i < SVC_OP__MAX; i++)
		OPENSSL_free(e->body[i].data);
	free(e);
}

void
svc_ep_put(struct svc_ep *e)
{
	if (e != NULL && atomic_fetch_sub(&e->refs, 1) == 1)
		ep_free(e);
}

static void
list_drop(struct svc_ep *e)
{
	struct svc_ep *n;

	for (; e != NULL; e = n) {
		n = e->next;
		svc_ep_put(e);
	}
}

void
svc_cache_free(struct svc_cache *c)
{
	if (c == NULL)
		return;
	list_drop(c->list);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

void
svc_cache_invalidate(struct svc *s)
{
	struct svc_ep *old;

	pthread_rwlock_wrlock(&s->cache->lock);
	old = s->cache->list;
	s->cache->list = NULL;
	s->cache->n = 0;
	s->cache->version = -1;
	s->cache->have_default = 0;
	pthread_rwlock_unlock(&s->cache->lock);
	list_drop(old);
}

const struct store_endpoint *
svc_ep_row(const struct svc_ep *e)
{
	return &e->row;
}

const struct svc_ep_body *
svc_ep_body(const struct svc_ep *e, enum svc_op op)
{
	return &e->body[op];
}

int64_t
svc_ep_sign_ra(const struct svc_ep *e)
{
	return e->sign_ra;
}

const int64_t *
svc_ep_ids(const struct svc_ep *e, size_t *n)
{
	*n = e->nids;
	return e->ids;
}

/* ---- building one key set (outside any lock; reads the store) ---- */

static void
body_error(struct svc_ep_body *b, int status, const char *error)
{
	b->status = status;
	b->error = error;
}

static int
body_caps(struct svc_ep *e)
{
	struct svc_ep_body *b = &e->body[SVC_OP_CACAPS];
	struct scep_caps caps;
	char buf[512];
	int n;

	memset(&caps, 0, sizeof(caps));
	caps.algs = SCEP_ALG_DEFAULT | (e->row.legacy ? SCEP_ALG_LEGACY : 0);
	caps.renewal = e->row.profile.renewal;
	caps.next_ca = e->next_ra != 0;
	if ((n = scep_caps_format(&caps, buf, sizeof(buf))) < 0) {
		body_error(b, 500, "caps");
		return SCEP_OK;
	}
	if ((b->data = OPENSSL_malloc((size_t)n + 1)) == NULL)
		return SCEP_E_NOMEM;
	memcpy(b->data, buf, (size_t)n);
	b->len = (size_t)n;
	b->status = 200;
	b->content_type = "text/plain";
	return SCEP_OK;
}

/* GetCACert (spec 4): a CA-direct endpoint sends the single CA
 * certificate; an RA endpoint the degenerate bag [RA, CA], RA first. */
static int
body_cacert(struct svc *s, struct svc_ep *e)
{
	struct svc_ep_body *b = &e->body[SVC_OP_CACERT];
	STACK_OF(X509) *bag = NULL;
	unsigned char *der = NULL;
	X509 *ca, *ra;
	int len, r = SCEP_OK;

	body_error(b, 500, "cannot build GetCACert reply");
	if ((ca = keyops_ca_cert(s->keys, e->row.ca_id)) == NULL)
		return SCEP_OK;
	if (e->sign_ra == 0) {
		if ((len = i2d_X509(ca, &der)) <= 0)
			return SCEP_OK;
		b->data = der;
		b->len = (size_t)len;
		b->content_type = "application/x-x509-ca-cert";
		b->status = 200;
		return SCEP_OK;
	}
	if ((ra = keyops_ra_cert(s->keys, e->sign_ra)) == NULL)
		return SCEP_OK;
	if ((bag = sk_X509_new_null()) == NULL || !sk_X509_push(bag, ra) ||
	    !sk_X509_push(bag, ca))
		r = SCEP_E_NOMEM;
	else if (scep_certs_only(bag, NULL, &b->data, &b->len) == SCEP_OK) {
		b->content_type = "application/x-x509-ca-ra-cert";
		b->status = 200;
	}
	sk_X509_free(bag);	/* get0 certs: only the stack is ours */
	return r;
}

/* GetNextCACert (spec 5): the staged RA and the CA, signed by the current
 * signing identity; 404 when nothing is staged.  Signed once per key set
 * (its signingTime is when the set was built). */
static int
body_nextca(struct svc *s, struct svc_ep *e)
{
	struct svc_ep_body *b = &e->body[SVC_OP_NEXTCACERT];
	STACK_OF(X509) *bag = NULL;
	X509 *ca, *ra;
	int r = SCEP_OK;

	if (e->next_ra == 0) {
		body_error(b, 404, "no rollover certificate is staged");
		return SCEP_OK;
	}
	body_error(b, 500, "cannot build GetNextCACert reply");
	ca = keyops_ca_cert(s->keys, e->row.ca_id);
	ra = keyops_ra_cert(s->keys, e->next_ra);
	if (ca == NULL || ra == NULL)
		return SCEP_OK;
	if ((bag = sk_X509_new_null()) == NULL || !sk_X509_push(bag, ra) ||
	    !sk_X509_push(bag, ca))
		r = SCEP_E_NOMEM;
	else if (keyops_sign_nextca(s->keys, e->sign_ra, e->row.ca_id, bag,
	    time(NULL), &b->data, &b->len) == SCEP_OK) {
		b->content_type = "application/x-x509-next-ca-cert";
		b->status = 200;
	}
	sk_X509_free(bag);
	return r;
}

/*
 * The identities of the endpoint's CA, loaded into keyops when they are
 * not yet: decrypting ids (active first, then next, then retired), the
 * staged successor, and the signer (the endpoint's RA when active, else
 * the CA's first active RA; the CA itself for a CA-direct endpoint or one
 * whose GetCACert sends the single CA certificate, spec 4.3).
 */
static int
ep_identities(struct svc *s, struct svc_ep *e)
{
	struct store_ra ras[SVC_MAX_RA];
	int64_t first_active = 0;
	size_t n = 0, i;
	int st, r = SCEP_OK, ep_ra_active = 0;

	memset(ras, 0, sizeof(ras));
	if ((r = svc_ca_load(s, e->row.ca_id)) != SCEP_OK)
		goto out;
	if ((r = store_ra_list(s->store, e->row.ca_id, 0, ras, SVC_MAX_RA,
	    &n)) != SCEP_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (ras[i].state < RA_ACTIVE || ras[i].state > RA_RETIRED)
			continue;
		if ((r = svc_ra_load(s, &ras[i])) != SCEP_OK)
			goto out;
		if (ras[i].state == RA_ACTIVE) {
			if (first_active == 0)
				first_active = ras[i].id;
			if (ras[i].id == e->row.ra_id)
				ep_ra_active = 1;
		}
		if (ras[i].state == RA_NEXT && e->next_ra == 0)
			e->next_ra = ras[i].id;
	}
	for (st = RA_ACTIVE; st <= RA_RETIRED; st++)
		for (i = 0; i < n; i++)
			if (ras[i].state == st)
				e->ids[e->nids++] = ras[i].id;
	if (e->row.getcacert_chain && e->row.ra_id != 0)
		e->sign_ra = ep_ra_active ? e->row.ra_id : first_active;
 out:
	for (i = 0; i < n; i++)
		store_ra_clear(&ras[i]);
	return r;
}

static int
ep_build(struct svc *s, const char *ext, struct svc_ep **out)
{
	struct svc_ep *e;
	int r;

	*out = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return SCEP_E_NOMEM;
	atomic_init(&e->refs, 1);
	if ((r = store_endpoint_by_ext(s->store, ext, &e->row)) != SCEP_OK)
		goto fail;
	if (!e->row.enabled || e->row.deleted_at != 0) {
		r = SCEP_E_NOTFOUND;
		goto fail;
	}
	if ((r = ep_identities(s, e)) != SCEP_OK ||
	    (r = body_caps(e)) != SCEP_OK ||
	    (r = body_cacert(s, e)) != SCEP_OK ||
	    (r = body_nextca(s, e)) != SCEP_OK)
		goto fail;
	*out = e;
	return SCEP_OK;
 fail:
	ep_free(e);
	return r;
}

/* ---- lookup ---- */

/*
 * Bring the cache up to date: drop every entry when this process changed
 * the configuration, or when config_version moved (read when "fresh", or
 * when the last read is older than the TTL).  Returns the version the
 * cache now reflects in *version.
 */
static int
cache_check(struct svc *s, int fresh, int64_t *version)
{
	struct svc_cache *c = s->cache;
	struct svc_ep *old = NULL;
	uint64_t gen = store_config_local_gen();
	double now = mono_now();
	int64_t v;
	int r;

	pthread_rwlock_rdlock(&c->lock);
	if (!fresh && c->version >= 0 && gen == c->local_gen &&
	    now - c->checked < c->ttl_ms / 1000.0) {
		*version = c->version;
		pthread_rwlock_unlock(&c->lock);
		return SCEP_OK;
	}
	pthread_rwlock_unlock(&c->lock);
	if ((r = store_config_version(s->store, &v)) != SCEP_OK) {
		/* Store unreachable: GETs keep being served from what this
		 * process last knew (nothing it changed since); the read is
		 * tried again after the TTL. */
		pthread_rwlock_wrlock(&c->lock);
		if (!fresh && c->version >= 0 && gen == c->local_gen) {
			c->checked = now;
			*version = c->version;
			r = SCEP_OK;
		}
		pthread_rwlock_unlock(&c->lock);
		return r;
	}
	pthread_rwlock_wrlock(&c->lock);
	if (v != c->version || gen != c->local_gen) {
		old = c->list;
		c->list = NULL;
		c->n = 0;
		c->have_default = 0;
		c->version = v;
		c->local_gen = gen;
	}
	c->checked = now;
	pthread_rwlock_unlock(&c->lock);
	list_drop(old);
	*version = v;
	return SCEP_OK;
}

static struct svc_ep *
cache_find(struct svc_cache *c, const char *ext)
{
	struct svc_ep *e;

	for (e = c->list; e != NULL; e = e->next)
		if (strcmp(e->row.uri_ext, ext) == 0) {
			atomic_fetch_add(&e->refs, 1);
			return e;
		}
	return NULL;
}

int
svc_ep_get(struct svc *s, const char *ext, int fresh, struct svc_ep **out)
{
	struct svc_cache *c = s->cache;
	struct svc_ep *e, *dup;
	char def[STORE_NAME_MAX];
	int64_t version;
	int r;

	*out = NULL;
	if ((r = cache_check(s, fresh, &version)) != SCEP_OK)
		return r;
	pthread_rwlock_rdlock(&c->lock);
	if (ext == NULL && c->have_default) {
		snprintf(def, sizeof(def), "%s", c->default_ext);
		ext = def;
	}
	e = ext != NULL ? cache_find(c, ext) : NULL;
	pthread_rwlock_unlock(&c->lock);
	if (e != NULL) {
		*out = e;
		return SCEP_OK;
	}
	if (ext == NULL) {
		/* Set by "scepd init" only; read once per cache version. */
		if ((r = store_setting_get(s->store, "default_endpoint", def,
		    sizeof(def))) != SCEP_OK)
			return r;
		ext = def;
		pthread_rwlock_wrlock(&c->lock);
		if (c->version == version) {
			snprintf(c->default_ext, sizeof(c->default_ext), "%s",
			    def);
			c->have_default = 1;
		}
		pthread_rwlock_unlock(&c->lock);
	}
	if ((r = ep_build(s, ext, &e)) != SCEP_OK)
		return r;
	/* Publish it unless the cache moved on meanwhile (then the set may
	 * predate the change: use it for this request only). */
	pthread_rwlock_wrlock(&c->lock);
	if (c->version == version && c->n < SVC_CACHE_MAX) {
		if ((dup = cache_find(c, ext)) != NULL) {
			pthread_rwlock_unlock(&c->lock);
			svc_ep_put(e);
			*out = dup;
			return SCEP_OK;
		}
		atomic_fetch_add(&e->refs, 1);		/* the cache's */
		e->next = c->list;
		c->list = e;
		c->n++;
	}
	pthread_rwlock_unlock(&c->lock);
	*out = e;
	return SCEP_OK;
}
