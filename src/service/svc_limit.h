/*
 * svc_limit.h -- stop challenge guessing (issue 8, spec 16).
 *
 * Failed challenges are counted per source address and per endpoint.  A
 * source that keeps failing is locked out with exponential backoff; while
 * locked out its PKCSReqs are answered FAILURE at once, before any lookup,
 * so it costs the server almost nothing and cannot slow other clients.
 * An endpoint under a broad guessing attack (many sources) gets a cap on
 * failed attempts per minute, after which only sources with no failure of
 * their own are still heard.
 *
 * Memory is fixed (a table of SVC_LIMIT_SLOTS entries, oldest replaced), so
 * an attacker with many addresses cannot grow it.
 */
#ifndef SVC_LIMIT_H
#define SVC_LIMIT_H

#include <stdint.h>
#include <time.h>

#define SVC_LIMIT_SLOTS		4096	/* sources tracked at once */
#define SVC_LIMIT_FREE_FAILS	5	/* failures before any backoff */
#define SVC_LIMIT_WINDOW	600	/* failures older than this are forgotten */
#define SVC_LIMIT_MAX_LOCK	900	/* longest lockout, seconds */
#define SVC_LIMIT_EP_PER_MIN	600	/* failed challenges per endpoint and minute */

struct svc_limit;

int	svc_limit_new(struct svc_limit **out);
void	svc_limit_free(struct svc_limit *);	/* accepts NULL */

/*
 * May this source try a challenge on this endpoint now?  Returns 0 when
 * yes, or the number of seconds it must wait.
 */
long	svc_limit_check(struct svc_limit *, const char *addr,
	    int64_t endpoint_id, time_t now);
/* Record a failed (ok == 0) or successful (ok == 1) challenge.  Returns
 * the source's failure count after this attempt. */
int	svc_limit_record(struct svc_limit *, const char *addr,
	    int64_t endpoint_id, int ok, time_t now);

#endif /* !SVC_LIMIT_H */
