/*
 * svc_replay.c -- a fixed-size cache of (signer key, senderNonce) pairs.
 * Four-way buckets of (tag, time) guarded by striped mutexes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "scep_err.h"
#include "svc_replay.h"

#define WAYS	4
#define STRIPES	64

struct slot {
	uint64_t	tag;		/* 0 = free */
	int64_t		when;
};

struct svc_replay {
	uint8_t		 key[crypto_shorthash_KEYBYTES];
	pthread_mutex_t	 mu[STRIPES];
	struct slot	 s[SVC_REPLAY_SLOTS];
};

int
svc_replay_new(struct svc_replay **out)
{
	struct svc_replay *c;
	size_t i;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SCEP_E_NOMEM;
	randombytes_buf(c->key, sizeof(c->key));
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_init(&c->mu[i], NULL);
	*out = c;
	return SCEP_OK;
}

void
svc_replay_free(struct svc_replay *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&c->mu[i]);
	free(c);
}

static uint64_t
tag_of(struct svc_replay *c, const uint8_t fp[32], const uint8_t *nonce,
    size_t nonce_len)
{
	uint8_t buf[32 + 64];
	uint64_t t;

	if (nonce_len > 64)
		nonce_len = 64;
	memcpy(buf, fp, 32);
	memcpy(buf + 32, nonce, nonce_len);
	crypto_shorthash((unsigned char *)&t, buf, 32 + nonce_len, c->key);
	return t == 0 ? 1 : t;
}

int
svc_replay_seen(struct svc_replay *c, const uint8_t fp[32],
    const uint8_t *nonce, size_t nonce_len, time_t now)
{
	uint64_t t = tag_of(c, fp, nonce, nonce_len);
	size_t b = (size_t)(t % (SVC_REPLAY_SLOTS / WAYS)) * WAYS, i;
	int seen = 0;

	pthread_mutex_lock(&c->mu[b % STRIPES]);
	for (i = b; i < b + WAYS; i++)
		if (c->s[i].tag == t && now - c->s[i].when <= SVC_REPLAY_WINDOW)
			seen = 1;
	pthread_mutex_unlock(&c->mu[b % STRIPES]);
	return seen;
}

void
svc_replay_record(struct svc_replay *c, const uint8_t fp[32],
    const uint8_t *nonce, size_t nonce_len, time_t now)
{
	uint64_t t = tag_of(c, fp, nonce, nonce_len);
	size_t b = (size_t)(t % (SVC_REPLAY_SLOTS / WAYS)) * WAYS, i, old = b;

	pthread_mutex_lock(&c->mu[b % STRIPES]);
	for (i = b; i < b + WAYS; i++) {
		if (c->s[i].tag == t || c->s[i].tag == 0) {
			old = i;
			break;
		}
		if (c->s[i].when < c->s[old].when)
			old = i;
	}
	c->s[old].tag = t;
	c->s[old].when = (int64_t)now;
	pthread_mutex_unlock(&c->mu[b % STRIPES]);
}
