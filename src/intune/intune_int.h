/*
 * intune_int.h -- internals shared by the files of src/intune; not for
 * callers.
 */
#ifndef INTUNE_INT_H
#define INTUNE_INT_H

#include <pthread.h>
#include <stdint.h>

#include <curl/curl.h>

#include "intune.h"

#define TOK_GRAPH	0
#define TOK_INTUNE	1
#define TOK__MAX	2

/* Well-known names (spec 5.1, 9). */
#define INTUNE_PROVIDER_VALIDATION	"ScepRequestValidationFEService"
#define INTUNE_PROVIDER_REVOCATION	"PkiConnectorFEService"

/*
 * One cached token.  Guarded by intune_client.lock.  "fetching" makes the
 * refresh single-flight: others wait on the client's condition variable;
 * "gen" counts finished fetches so that a waiter whose fetch failed gets
 * that failure instead of starting another fetch at once.
 */
struct tok_slot {
	char		*scope;		/* owned, immutable */
	char		*token;		/* owned, wiped on free; NULL: none */
	int64_t		 refresh_at;	/* monotonic seconds */
	int		 fetching;
	uint64_t	 gen;
	int		 last_rc;	/* of the last fetch */
	struct intune_call last;	/* outcome of the last fetch */
};

struct intune_client {
	/* Immutable after intune_client_new(). */
	char		*tenant;
	char		*client_id;
	char		*caller;
	char		*api_version;
	char		*api_version_pki;	/* spec 9 */
	int		 code_as_string;
	char		*proxy;
	char		*proxy_user;
	char		*proxy_password;	/* secret */
	char		*ca_bundle;
	char		*graph_base;		/* ends with '/' */
	char		*token_url;
	char		*discovery_url;
	int64_t		 disc_ttl;
	int64_t		 token_margin;
	struct intune_timeout to[INTUNE_OP__MAX];

	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* a token or discovery fetch ended */
	char		*secret;	/* owned, wiped; under lock */
	uint64_t	 epoch;		/* bumped by set_secret and flush */
	struct tok_slot	 tok[TOK__MAX];

	/* Discovery cache (spec 5.2), under lock. */
	char		*svc_uri;	/* validation base, no trailing '/' */
	char		*pki_uri;	/* revocation base, or NULL */
	int64_t		 disc_expires;	/* monotonic seconds; 0: none */
	int		 disc_fetching;
	uint64_t	 disc_gen;
	int		 disc_last_rc;
	struct intune_call disc_last;

	/* Easy handles for reuse (keep-alive), under pool_lock. */
	pthread_mutex_t	 pool_lock;
	CURL		*pool[INTUNE_POOL_MAX];
	size_t		 npool;

	struct intune_stats stats;	/* under lock */
};

/* One HTTP exchange. */
struct ihttp_req {
	int		 op;		/* enum intune_op: timeouts */
	int		 post;		/* 0 GET, 1 POST */
	const char	*url;
	const char	*content_type;	/* POST only */
	const char	*body;
	size_t		 body_len;
	const char	*bearer;	/* NULL: no Authorization */
	const char	*request_id;	/* client-request-id */
	const char	*api_version;	/* NULL: no api-version header */
	int		 service;	/* add UserAgent */
	int		 fresh;		/* new connection (no replay risk) */
	size_t		 max_resp;
};

struct ihttp_resp {
	long		 status;	/* 0: no HTTP answer */
	int		 curl_code;	/* CURLcode */
	int		 sent;		/* request bytes left this host */
	int		 connect_fail;	/* DNS, TCP or TLS set-up failed */
	int		 timed_out;
	int		 too_big;	/* answer over max_resp */
	char		*body;		/* owned (malloc), NUL-terminated */
	size_t		 len;
	char		 err[CURL_ERROR_SIZE];	/* curl's text, no secrets */
};

int	ihttp_do(struct intune_client *, const struct ihttp_req *,
	    struct ihttp_resp *);
void	ihttp_resp_clear(struct ihttp_resp *);
void	ihttp_pool_free(struct intune_client *);

/* Tokens.  "rejected" (may be NULL) is a token the service refused with
 * 401: when the cache still holds it, it is dropped and a new one is
 * fetched.  "force" bypasses the cache.  *out is take (wipe and free with
 * itok_free).  Failures are described in *call. */
int	itok_get(struct intune_client *, int which, const char *rejected,
	    int force, char **out, struct intune_call *call);
void	itok_free(char *);

/* Discovery: the base URL of the validation service (which 0) or of the
 * revocation API (which 1); *out take, free().  "force" rediscovers.
 * itdisc_invalidate drops the cache when "uri" is one of the cached. */
int	itdisc_get(struct intune_client *, int force, int which, char **out,
	    struct intune_call *call);
void	itdisc_invalidate(struct intune_client *, const char *uri);
/* Both URIs of the last discovery (for Test connection), "" when none. */
void	itdisc_peek(struct intune_client *, char *svc, size_t svcsz,
	    char *pki, size_t pkisz);

/* Helpers (intune.c). */
int64_t	imono_ms(void);
void	icall_init(struct intune_call *, const char *action);
void	icall_reason(struct intune_call *, int rc, int stage,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	icall_add_id(struct intune_call *, const char *id);
/* Copy at most dstsz - 1 bytes of printable ASCII from src (others become
 * '?'), for messages made from peer text. */
void	iclean(char *dst, size_t dstsz, const char *src, size_t srclen);
char	*istrdup(const char *);
void	istrwipe(char *);	/* wipe and free; accepts NULL */
/* Base64 (RFC 4648 section 4, one line, padded); *out take (free()). */
int	ib64(const uint8_t *in, size_t len, char **out);
/* Truncate UTF-8 to max characters, replacing invalid bytes; take. */
char	*iutf8_trunc(const char *s, size_t max_chars);

#endif /* !INTUNE_INT_H */
