/*
 * svc.h -- the service layer: the enrollment rules (RFC 8894 processing,
 * spec section 8) over the protocol core, the key operations and the store.
 * Knows no HTTP and no SQL.
 */
#ifndef SVC_H
#define SVC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store.h"
#include "keyops.h"

/* Length of the secret key used to hash challenges (HMAC-SHA256). */
#define SVC_CHALLENGE_KEY_LEN	32
/* Generated challenges: 24 chars of [A-Za-z0-9] = 142 bits (spec 12.2). */
#define SVC_CHALLENGE_LEN	24
/* A re-sent request with the same transactionID and key within this many
 * seconds gets the same answer (spec 10). */
#define SVC_RESEND_WINDOW	3600
/* CRLs are valid for this long; regenerated before they expire and at
 * once after a revocation. */
#define SVC_CRL_LIFETIME	(7 * 24 * 3600)

struct svc;

struct svc_config {
	const char	*base_url;	/* "http://host:port", for CRL DPs */
	uint8_t		 challenge_key[SVC_CHALLENGE_KEY_LEN];
	int		 signing_time_check;	/* badTime outside +-window */
	int		 signing_time_window;	/* seconds */
	const char	*keys_dir;	/* DATA_DIR/keys: new RA key files
					 * of a CA whose key is in a PKCS#11
					 * token (may be NULL: refused) */
	unsigned int	 cache_ttl_ms;	/* 0: SVC_CACHE_TTL_MS */
};

/* *out is take; svc borrows store and keys (they must outlive it). */
int	svc_new(const struct svc_config *, struct store *, struct keyops *,
	    struct svc **out);
void	svc_free(struct svc *);		/* accepts NULL */
struct store	*svc_store(struct svc *);
struct keyops	*svc_keyops(struct svc *);

/* The result of a SCEP HTTP operation. */
struct svc_result {
	int		 http_status;	/* 200, or 400/404/500/503 */
	const char	*content_type;	/* static string */
	uint8_t		*body;		/* take (OPENSSL_malloc) */
	size_t		 body_len;
	const char	*error;		/* static, for the log and text body */
};

/* Find the live, enabled endpoint for a URI extension, or the default
 * endpoint when ext is NULL.  SCEP_E_NOTFOUND otherwise. */
int	svc_endpoint_lookup(struct svc *, const char *ext,
	    struct store_endpoint *out);

/*
 * The endpoint key-set cache (svc_cache.c).  A struct svc_ep is a
 * read-only, reference-counted view of one live, enabled endpoint: its
 * row, the identities it uses and its prebuilt GET bodies.
 * svc_ep_get: ext NULL is the default endpoint; "fresh" reads
 * store_config_version() now (one cheap query: PKIOperation), otherwise
 * only changes by this process are seen at once and changes by other
 * processes or nodes within SVC_CACHE_TTL_MS.  *out is take (svc_ep_put).
 * SCEP_E_NOTFOUND for no such endpoint; other errors are the store's.
 */
enum svc_op { SVC_OP_CACAPS = 0, SVC_OP_CACERT, SVC_OP_NEXTCACERT,
	SVC_OP__MAX };
struct svc_ep_body {
	int		 status;	/* 200, 404 or 500 */
	const char	*content_type;	/* static; when status is 200 */
	uint8_t		*data;		/* borrowed from the svc_ep */
	size_t		 len;
	const char	*error;		/* static; when status is not 200 */
};
struct svc_ep;
int	svc_ep_get(struct svc *, const char *ext, int fresh,
	    struct svc_ep **out);
void	svc_ep_put(struct svc_ep *);		/* accepts NULL */
const struct store_endpoint *svc_ep_row(const struct svc_ep *);
const struct svc_ep_body *svc_ep_body(const struct svc_ep *, enum svc_op);
/* Drop every cached key set (the next lookup rebuilds from the store). */
void	svc_cache_invalidate(struct svc *);

int	svc_getcacaps(struct svc *, const struct store_endpoint *,
	    struct svc_result *);
int	svc_getcacert(struct svc *, const struct store_endpoint *,
	    struct svc_result *);
int	svc_getnextcacert(struct svc *, const struct store_endpoint *,
	    struct svc_result *);
/* PKIOperation: der is the request pkiMessage (POST body or decoded GET
 * message).  "client_addr" and "request_id" go into the audit record. */
int	svc_pkioperation(struct svc *, const struct store_endpoint *,
	    const uint8_t *der, size_t len, const char *client_addr,
	    const char *request_id, struct svc_result *);
/* DER CRL of CA "ca_id" (regenerated when stale). */
int	svc_crl(struct svc *, int64_t ca_id, struct svc_result *);

/* Accounts' challenges. */
/* Fill buf (>= SVC_CHALLENGE_LEN + 1) with a fresh challenge. */
int	svc_challenge_generate(char *buf, size_t bufsz);
/* Keyed hash of a challenge, for storing and looking up. */
void	svc_challenge_hash(const struct svc_config *, const char *challenge,
	    size_t len, uint8_t out[STORE_HASH_LEN]);
const struct svc_config *svc_get_config(struct svc *);

/* Manual approval (spec 14): issue the certificate of a PENDING request
 * (the client gets it at its next CertPoll) or reject it. */
int	svc_request_approve(struct svc *, int64_t request_id,
	    const char *actor, char *serial_out, size_t serialsz);
int	svc_request_reject(struct svc *, int64_t request_id,
	    const char *actor, const char *reason);
/* Revoke (CRLReason code) and regenerate the CRL. */
int	svc_cert_revoke(struct svc *, const char *serial, int reason,
	    const char *actor);

/*
 * Intune endpoints (issue 5): the svc_intune object (svc_intune.h) that
 * `scepd serve` made.  Borrowed: set it before serving, clear it (NULL)
 * before freeing it.  Without one, enrollments on Intune endpoints fail
 * closed (FAILURE badRequest, nothing issued).
 */
struct svc_intune;
void	svc_set_intune(struct svc *, struct svc_intune *);
struct svc_intune	*svc_get_intune(struct svc *);

/* Make sure the CA/RA identities an endpoint uses are loaded into keyops. */
int	svc_load_endpoint_keys(struct svc *, const struct store_endpoint *);

void	svc_result_clear(struct svc_result *);

#endif /* !SVC_H */
