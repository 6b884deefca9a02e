/*
 * svc_limit.c -- per-source and per-endpoint failure counting with
 * exponential backoff, in fixed memory.
 *
 * Sources are hashed (keyed SipHash from libsodium's shorthash, so an
 * attacker cannot aim many addresses at one slot) into a table guarded by
 * striped mutexes.  A slot remembers one source; a different source
 * hashing to an occupied slot replaces it when the old entry is idle.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "scep_err.h"
#include "svc_limit.h"

#define STRIPES		64
#define EP_SLOTS	256

struct src {
	uint64_t	 h;		/* 0 = free */
	int		 fails;
	time_t		 last;
	time_t		 locked_until;
};

struct epc {
	int64_t		 id;
	time_t		 minute;
	int		 fails;
};

struct svc_limit {
	uint8_t		 key[crypto_shorthash_KEYBYTES];
	pthread_mutex_t	 mu[STRIPES];
	struct src	 src[SVC_LIMIT_SLOTS];
	pthread_mutex_t	 epmu;
	struct epc	 ep[EP_SLOTS];
};

int
svc_limit_new(struct svc_limit **out)
{
	struct svc_limit *l;
	size_t i;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return SCEP_E_NOMEM;
	randombytes_buf(l->key, sizeof(l->key));
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_init(&l->mu[i], NULL);
	pthread_mutex_init(&l->epmu, NULL);
	*out = l;
	return SCEP_OK;
}

void
svc_limit_free(struct svc_limit *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&l->mu[i]);
	pthread_mutex_destroy(&l->epmu);
	free(l);
}

static uint64_t
src_hash(struct svc_limit *l, const char *addr)
{
	uint64_t h;

	crypto_shorthash((unsigned char *)&h, (const unsigned char *)addr,
	    strlen(addr), l->key);
	return h == 0 ? 1 : h;
}

static struct epc *
ep_slot(struct svc_limit *l, int64_t id, time_t now)
{
	struct epc *e = &l->ep[(uint64_t)id % EP_SLOTS];

	if (e->id != id || e->minute != now / 60) {
		e->id = id;
		e->minute = now / 60;
		e->fails = 0;
	}
	return e;
}

long
svc_limit_check(struct svc_limit *l, const char *addr, int64_t endpoint_id,
    time_t now)
{
	uint64_t h = src_hash(l, addr);
	size_t i = h % SVC_LIMIT_SLOTS;
	struct src *s = &l->src[i];
	pthread_mutex_t *mu = &l->mu[i % STRIPES];
	long wait = 0;
	int had_fails = 0, ep_over;

	pthread_mutex_lock(mu);
	if (s->h == h) {
		if (now - s->last > SVC_LIMIT_WINDOW)
			s->fails = 0;
		if (s->locked_until > now)
			wait = (long)(s->locked_until - now);
		had_fails = s->fails > 0;
	}
	pthread_mutex_unlock(mu);
	if (wait > 0)
		return wait;

	pthread_mutex_lock(&l->epmu);
	ep_over = ep_slot(l, endpoint_id, now)->fails >= SVC_LIMIT_EP_PER_MIN;
	pthread_mutex_unlock(&l->epmu);
	if (ep_over && had_fails)
		return 60 - (long)(now % 60);
	return 0;
}

int
svc_limit_record(struct svc_limit *l, const char *addr, int64_t endpoint_id,
    int ok, time_t now)
{
	uint64_t h = src_hash(l, addr);
	size_t i = h % SVC_LIMIT_SLOTS;
	struct src *s = &l->src[i];
	pthread_mutex_t *mu = &l->mu[i % STRIPES];
	int fails;

	pthread_mutex_lock(mu);
	if (s->h != h) {
		/* Take the slot when it is free, idle, or we failed. */
		if (s->h != 0 && !ok && now - s->last <= SVC_LIMIT_WINDOW &&
		    s->locked_until > now) {
			pthread_mutex_unlock(mu);
			return 0;	/* keep a live lockout */
		}
		if (ok) {
			pthread_mutex_unlock(mu);
			return 0;	/* nothing to remember */
		}
		memset(s, 0, sizeof(*s));
		s->h = h;
	}
	if (now - s->last > SVC_LIMIT_WINDOW)
		s->fails = 0;
	if (ok) {
		s->fails = 0;
		s->locked_until = 0;
	} else {
		s->fails++;
		if (s->fails > SVC_LIMIT_FREE_FAILS) {
			int shift = s->fails - SVC_LIMIT_FREE_FAILS - 1;
			long lock = shift >= 10 ? SVC_LIMIT_MAX_LOCK :
			    1L << shift;

			if (lock > SVC_LIMIT_MAX_LOCK)
				lock = SVC_LIMIT_MAX_LOCK;
			s->locked_until = now + lock;
		}
	}
	s->last = now;
	fails = s->fails;
	pthread_mutex_unlock(mu);

	if (!ok) {
		pthread_mutex_lock(&l->epmu);
		ep_slot(l, endpoint_id, now)->fails++;
		pthread_mutex_unlock(&l->epmu);
	}
	return fails;
}
