/*
 * svc_int.h -- internals shared by the service's files; not for callers.
 */
#ifndef SVC_INT_H
#define SVC_INT_H

#include <pthread.h>

#include <openssl/bn.h>
#include <openssl/provider.h>

#include "svc.h"
#include "svc_limit.h"
#include "svc_replay.h"

#define SVC_MAX_RA	16	/* RA identities of one CA, all states */
#define SVC_MAX_CA	64	/* CAs with a cached CRL */
#define SVC_CACHE_MAX	256	/* endpoints in the key-set cache */
#define SVC_CACHE_TTL_MS 1000	/* GETs re-read config_version this often */

struct svc_crl_cache {
	int64_t		 ca_id;
	uint8_t		*der;		/* owned */
	size_t		 der_len;
	time_t		 made;
	char		 gen[32];	/* revocation generation it reflects */
};

struct svc {
	struct svc_config	 cfg;
	char			*base_url;	/* owned copy */
	struct store		*store;		/* borrowed */
	struct keyops		*keys;		/* borrowed */
	pthread_mutex_t		 lock;		/* providers and CRL cache */
	OSSL_PROVIDER		*legacy;
	OSSL_PROVIDER		*deflt;
	struct svc_limit	*limit;		/* challenge guessing */
	struct svc_replay	*replay;	/* (signer key, nonce) seen */
	struct svc_cache	*cache;		/* endpoint key sets */
	struct svc_crl_cache	 crl[SVC_MAX_CA];
	size_t			 ncrl;
	struct svc_intune	*intune;	/* borrowed; NULL: none */
};

struct svc_cache;
int	svc_cache_new(unsigned int ttl_ms, struct svc_cache **out);
void	svc_cache_free(struct svc_cache *);	/* accepts NULL */
/* Hand RA "ra" (key and certificate) to keyops unless it has it already;
 * a failure is logged. */
int	svc_ra_load(struct svc *, const struct store_ra *ra);
/* The same for CA "ca_id", read from the store when keyops lacks it. */
int	svc_ca_load(struct svc *, int64_t ca_id);
/* The identity that signs replies (0: the CA) and the ids that may
 * decrypt a request envelope (active, next, retired). */
int64_t	svc_ep_sign_ra(const struct svc_ep *);
const int64_t *svc_ep_ids(const struct svc_ep *, size_t *n);

int	svc_legacy_enable(struct svc *);
int	svc_crl_der(struct svc *, int64_t ca_id, time_t now, uint8_t **out,
	    size_t *out_len);
int	svc_crl_invalidate(struct svc *);
/* Serial as the store spells it: upper-case hex, no leading zeros. */
void	svc_serial_hex(const BIGNUM *, char *buf, size_t bufsz);

/* Issue the certificate for request "rq" (status PENDING) of endpoint
 * "ep" from "csr".  On success *cert_out (take) is the new certificate,
 * already durably in the store. */
struct scep_csr;
int	svc_issue(struct svc *, const struct store_endpoint *,
	    struct store_request *rq, const struct scep_csr *csr,
	    int64_t account_id, int64_t org_id, int64_t dept_id,
	    X509 **cert_out);
/* Serial collisions are astronomically unlikely at 128 random bits; the
 * store's unique constraint makes them harmless: issue again. */
#define SVC_ISSUE_TRIES	4
struct store_cert;
struct scep_reply;
/*
 * For one-transaction enrollment (store_enroll_commit): nothing is
 * written here.  Issue for "csr" and sign the SUCCESS CertRep "rep" (no
 * payload: the new certificate and the CA's, built by keyops) with
 * "sign_ra" (0: the CA) in one keyops_issue_reply().  Fills the store row "sc" (sc->der
 * take) and *reply (take, OPENSSL_free), which must not be sent before
 * "sc" is committed.
 */
int	svc_issue_reply(struct svc *, const struct store_endpoint *,
	    const struct store_request *rq, const struct scep_csr *csr,
	    int64_t account_id, int64_t org_id, int64_t dept_id,
	    int64_t sign_ra, const struct scep_reply *rep,
	    struct store_cert *sc, uint8_t **reply, size_t *reply_len);

/* Record one audit event (errors are logged, not returned: an audit
 * failure must not be silent, but also must not turn into a crash). */
int	svc_event(struct svc *, struct store_event *);

#endif /* !SVC_INT_H */
