/*
 * svc.c -- the service context: configuration, endpoint lookup, loading of
 * the CA/RA identities an endpoint uses, challenges, and the CRL cache.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <sodium.h>

#include "log.h"
#include "svc.h"
#include "svc_int.h"

int
svc_new(const struct svc_config *cfg, struct store *st, struct keyops *ko,
    struct svc **out)
{
	struct svc *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SCEP_E_NOMEM;
	s->cfg = *cfg;
	if (cfg->base_url != NULL &&
	    (s->base_url = strdup(cfg->base_url)) == NULL) {
		free(s);
		return SCEP_E_NOMEM;
	}
	s->cfg.base_url = s->base_url;
	s->store = st;
	s->keys = ko;
	if (svc_limit_new(&s->limit) != SCEP_OK ||
	    svc_replay_new(&s->replay) != SCEP_OK ||
	    svc_cache_new(cfg->cache_ttl_ms, &s->cache) != SCEP_OK) {
		svc_limit_free(s->limit);
		svc_replay_free(s->replay);
		free(s->base_url);
		free(s);
		return SCEP_E_NOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return SCEP_OK;
}

void
svc_free(struct svc *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ncrl; i++)
		free(s->crl[i].der);
	if (s->legacy != NULL)
		OSSL_PROVIDER_unload(s->legacy);
	if (s->deflt != NULL)
		OSSL_PROVIDER_unload(s->deflt);
	svc_limit_free(s->limit);
	svc_replay_free(s->replay);
	svc_cache_free(s->cache);
	pthread_mutex_destroy(&s->lock);
	OPENSSL_cleanse(&s->cfg, sizeof(s->cfg));
	free(s->base_url);
	free(s);
}

void
svc_set_intune(struct svc *s, struct svc_intune *si)
{
	s->intune = si;
}

struct svc_intune *
svc_get_intune(struct svc *s)
{
	return s->intune;
}

struct store *
svc_store(struct svc *s)
{
	return s->store;
}

struct keyops *
svc_keyops(struct svc *s)
{
	return s->keys;
}

const struct svc_config *
svc_get_config(struct svc *s)
{
	return &s->cfg;
}

void
svc_result_clear(struct svc_result *r)
{
	OPENSSL_free(r->body);
	memset(r, 0, sizeof(*r));
}

/* The cached row (svc_cache.c): no store read while the cache is fresh. */
int
svc_endpoint_lookup(struct svc *s, const char *ext, struct store_endpoint *ep)
{
	struct svc_ep *e;
	int r;

	if ((r = svc_ep_get(s, ext, 0, &e)) != SCEP_OK)
		return r;
	*ep = *svc_ep_row(e);
	svc_ep_put(e);
	return SCEP_OK;
}

/*
 * Single DES and MD5 live in OpenSSL's legacy provider.  It is loaded only
 * when an endpoint whose legacy switch is on is first used (issue 2), and
 * then stays loaded; the default provider must be loaded explicitly as
 * soon as any provider is.
 */
int
svc_legacy_enable(struct svc *s)
{
	int r = SCEP_OK;

	pthread_mutex_lock(&s->lock);
	if (s->legacy == NULL) {
		if (s->deflt == NULL)
			s->deflt = OSSL_PROVIDER_load(NULL, "default");
		s->legacy = OSSL_PROVIDER_load(NULL, "legacy");
		if (s->legacy == NULL) {
			log_openssl(LOG_LVL_ERROR, "cannot load legacy provider");
			r = SCEP_E_CONFIG;
		} else
			log_info("msg=\"OpenSSL legacy provider loaded for a "
			    "legacy endpoint\"");
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

int
svc_ra_load(struct svc *s, const struct store_ra *ra)
{
	int r;

	if (keyops_ra_cert(s->keys, ra->id) != NULL)
		return SCEP_OK;
	if ((r = keyops_load_ra(s->keys, ra->id, ra->ca_id, ra->key_path,
	    ra->cert_der, ra->cert_len)) != SCEP_OK)
		log_error("msg=\"cannot load RA key\" ra=%lld err=\"%s\"",
		    (long long)ra->id, scep_strerror(r));
	return r;
}

/* Hand CA "ca_id" and its key to keyops unless it holds it already. */
int
svc_ca_load(struct svc *s, int64_t ca_id)
{
	struct store_ca ca;
	int r;

	if (keyops_ca_cert(s->keys, ca_id) != NULL)
		return SCEP_OK;
	memset(&ca, 0, sizeof(ca));
	if ((r = store_ca_get(s->store, ca_id, &ca)) == SCEP_OK &&
	    (r = keyops_load_ca(s->keys, ca.id, ca.key_path, ca.cert_der,
	    ca.cert_len)) != SCEP_OK)
		log_error("msg=\"cannot load CA key\" ca=%lld err=\"%s\"",
		    (long long)ca.id, scep_strerror(r));
	store_ca_clear(&ca);
	return r;
}

int
svc_load_endpoint_keys(struct svc *s, const struct store_endpoint *ep)
{
	struct store_ra ras[SVC_MAX_RA];
	size_t n = 0, i;
	int st, r = SCEP_OK;

	memset(ras, 0, sizeof(ras));
	if ((r = svc_ca_load(s, ep->ca_id)) != SCEP_OK)
		goto out;
	for (st = RA_ACTIVE; st <= RA_RETIRED; st++) {
		r = store_ra_list(s->store, ep->ca_id, st, ras, SVC_MAX_RA, &n);
		if (r != SCEP_OK)
			goto out;
		for (i = 0; i < n; i++) {
			if ((r = svc_ra_load(s, &ras[i])) != SCEP_OK)
				goto out;
			store_ra_clear(&ras[i]);
		}
		n = 0;
	}
 out:
	for (i = 0; i < n; i++)
		store_ra_clear(&ras[i]);
	return r;
}

/*
 * Challenges use only [A-Za-z0-9]: valid in a PrintableString (Windows
 * refuses anything else, spec 12.2) and unambiguous in URLs and XML.
 * 24 characters from 62 give 142 bits.  Rejection sampling keeps the
 * distribution uniform.
 */
int
svc_challenge_generate(char *buf, size_t bufsz)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t i = 0;
	unsigned char b;

	if (bufsz < SVC_CHALLENGE_LEN + 1)
		return SCEP_E_TOOBIG;
	while (i < SVC_CHALLENGE_LEN) {
		randombytes_buf(&b, 1);
		if (b >= 248)		/* 248 = 4 * 62 */
			continue;
		buf[i++] = alpha[b % 62];
	}
	buf[i] = '\0';
	return SCEP_OK;
}

/* Keyed hash (HMAC-SHA256 with a key kept outside the database): the
 * store can look an account up by its challenge without holding anything
 * an attacker with a copy of the database could test guesses against. */
void
svc_challenge_hash(const struct svc_config *cfg, const char *challenge,
    size_t len, uint8_t out[STORE_HASH_LEN])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, cfg->challenge_key,
	    sizeof(cfg->challenge_key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)challenge,
	    len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

/* ---- CRL ---- */

struct crl_collect {
	struct crl_entry	*e;
	char			(*serials)[STORE_SERIAL_MAX];
	size_t			 n, cap;
	int			 err;
};

static int
crl_collect_one(void *arg, const char *serial, int64_t revoked_at, int reason)
{
	struct crl_collect *c = arg;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		struct crl_entry *ne;
		char (*ns)[STORE_SERIAL_MAX];

		if ((ne = realloc(c->e, ncap * sizeof(*ne))) == NULL) {
			c->err = SCEP_E_NOMEM;
			return -1;
		}
		c->e = ne;
		if ((ns = realloc(c->serials, ncap * sizeof(*ns))) == NULL) {
			c->err = SCEP_E_NOMEM;
			return -1;
		}
		c->serials = ns;
		c->cap = ncap;
	}
	snprintf(c->serials[c->n], STORE_SERIAL_MAX, "%s", serial);
	c->e[c->n].revoked_at = (time_t)revoked_at;
	c->e[c->n].reason = reason;
	c->n++;
	return 0;
}

static struct svc_crl_cache *
crl_slot(struct svc *s, int64_t ca_id)
{
	size_t i;

	for (i = 0; i < s->ncrl; i++)
		if (s->crl[i].ca_id == ca_id)
			return &s->crl[i];
	if (s->ncrl == SVC_MAX_CA)
		return NULL;
	memset(&s->crl[s->ncrl], 0, sizeof(s->crl[0]));
	s->crl[s->ncrl].ca_id = ca_id;
	return &s->crl[s->ncrl++];
}

/*
 * The current DER CRL of a CA.  Cached; regenerated when the revocation
 * generation (a setting bumped by every revocation, so every node sees
 * it) moved, or when half the CRL's lifetime has passed.
 */
int
svc_crl_der(struct svc *s, int64_t ca_id, time_t now, uint8_t **out,
    size_t *out_len)
{
	struct crl_collect c;
	struct svc_crl_cache *slot;
	X509_CRL *crl = NULL;
	char gen[32], key[48], num[32];
	unsigned char *der = NULL;
	int64_t crlnum = 0;
	size_t i;
	int r, len;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	if (store_setting_get(s->store, "crl_generation", gen, sizeof(gen)) !=
	    SCEP_OK)
		snprintf(gen, sizeof(gen), "0");
	pthread_mutex_lock(&s->lock);
	if ((slot = crl_slot(s, ca_id)) == NULL) {
		r = SCEP_E_TOOBIG;
		goto out;
	}
	if (slot->der != NULL && strcmp(slot->gen, gen) == 0 &&
	    now < slot->made + SVC_CRL_LIFETIME / 2)
		goto copy;
	if ((r = store_cert_revoked_each(s->store, ca_id, crl_collect_one,
	    &c)) != SCEP_OK || (r = c.err) != SCEP_OK)
		goto out;
	for (i = 0; i < c.n; i++)
		c.e[i].serial_hex = c.serials[i];
	snprintf(key, sizeof(key), "crl_number_%lld", (long long)ca_id);
	if (store_setting_get(s->store, key, num, sizeof(num)) == SCEP_OK)
		crlnum = strtoll(num, NULL, 10);
	crlnum++;
	snprintf(num, sizeof(num), "%lld", (long long)crlnum);
	if ((r = store_setting_set(s->store, key, num)) != SCEP_OK)
		goto out;
	if ((r = keyops_sign_crl(s->keys, ca_id, c.e, c.n, crlnum, now,
	    now + SVC_CRL_LIFETIME, &crl)) != SCEP_OK)
		goto out;
	if ((len = i2d_X509_CRL(crl, &der)) <= 0) {
		r = SCEP_E_INTERNAL;
		goto out;
	}
	free(slot->der);
	if ((slot->der = malloc((size_t)len)) == NULL) {
		slot->der_len = 0;
		r = SCEP_E_NOMEM;
		goto out;
	}
	memcpy(slot->der, der, (size_t)len);
	slot->der_len = (size_t)len;
	slot->made = now;
	snprintf(slot->gen, sizeof(slot->gen), "%s", gen);
 copy:
	if ((*out = OPENSSL_malloc(slot->der_len)) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	memcpy(*out, slot->der, slot->der_len);
	*out_len = slot->der_len;
	r = SCEP_OK;
 out:
	pthread_mutex_unlock(&s->lock);
	OPENSSL_free(der);
	X509_CRL_free(crl);
	free(c.e);
	free(c.serials);
	return r;
}

int
svc_crl(struct svc *s, int64_t ca_id, struct svc_result *res)
{
	int r;

	memset(res, 0, sizeof(*res));
	if (keyops_ca_cert(s->keys, ca_id) == NULL) {
		struct store_ca ca;

		memset(&ca, 0, sizeof(ca));
		if ((r = store_ca_get(s->store, ca_id, &ca)) == SCEP_OK)
			r = keyops_load_ca(s->keys, ca.id, ca.key_path,
			    ca.cert_der, ca.cert_len);
		store_ca_clear(&ca);
		if (r != SCEP_OK) {
			res->http_status = r == SCEP_E_NOTFOUND ? 404 : 500;
			res->error = "no such CA";
			return r;
		}
	}
	r = svc_crl_der(s, ca_id, time(NULL), &res->body, &res->body_len);
	if (r != SCEP_OK) {
		res->http_status = 500;
		res->error = "cannot produce CRL";
		return r;
	}
	res->http_status = 200;
	res->content_type = "application/pkix-crl";
	return SCEP_OK;
}

/* Bump the revocation generation so every node regenerates its CRL. */
int
svc_crl_invalidate(struct svc *s)
{
	char gen[32];
	long long g = 0;

	if (store_setting_get(s->store, "crl_generation", gen, sizeof(gen)) ==
	    SCEP_OK)
		g = strtoll(gen, NULL, 10);
	snprintf(gen, sizeof(gen), "%lld", g + 1);
	return store_setting_set(s->store, "crl_generation", gen);
}

/*
 * The store's spelling of a serial number: upper-case hex without leading
 * zeros (BN_bn2hex writes whole bytes, so 0x0A... would come out "0A...").
 */
void
svc_serial_hex(const BIGNUM *bn, char *buf, size_t bufsz)
{
	char *hex, *p;

	buf[0] = '\0';
	if ((hex = BN_bn2hex(bn)) == NULL)
		return;
	for (p = hex; p[0] == '0' && p[1] != '\0'; p++)
		;
	snprintf(buf, bufsz, "%s", p);
	OPENSSL_free(hex);
}
