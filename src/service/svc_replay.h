/*
 * svc_replay.h -- refuse a replayed request (spec 11): the same signer key
 * and senderNonce seen again within SVC_REPLAY_WINDOW, under another
 * transactionID (a re-send under the same transactionID is answered as a
 * re-send before this is asked).
 *
 * Fixed memory: SVC_REPLAY_SLOTS entries of 16 bytes, keyed by a keyed
 * hash, so a flood cannot grow it; when full, the oldest entry of a bucket
 * is replaced.  The cache is per node: with several nodes a replay sent to
 * another node is caught only by the one-time challenge and transaction
 * rules, which the shared store enforces.
 */
#ifndef SVC_REPLAY_H
#define SVC_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SVC_REPLAY_WINDOW	(24 * 3600)
#define SVC_REPLAY_SLOTS	(1 << 16)	/* 1 MiB */

struct svc_replay;

int	svc_replay_new(struct svc_replay **out);
void	svc_replay_free(struct svc_replay *);	/* accepts NULL */
/* 1 when (key fingerprint, nonce) was recorded within the window. */
int	svc_replay_seen(struct svc_replay *, const uint8_t fp[32],
	    const uint8_t *nonce, size_t nonce_len, time_t now);
void	svc_replay_record(struct svc_replay *, const uint8_t fp[32],
	    const uint8_t *nonce, size_t nonce_len, time_t now);

#endif /* !SVC_REPLAY_H */
