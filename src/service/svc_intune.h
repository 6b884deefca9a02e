/*
 * svc_intune.h -- Intune SCEP endpoints (issue 5): the rules of spec
 * intune-scep.md section 2 on top of src/intune, for the enrollment path
 * (svc_scep.c) and the administration of Azure accounts.
 *
 * Who calls what, for a PKCSReq or RenewalReq on an endpoint of type
 * EP_CLIENT_INTUNE or EP_DEVICE_INTUNE (spec 2, 7):
 *
 *   1. decrypt the envelope, decode and verify the PKCS#10 (as now);
 *   2. svc_intune_check(): challenge present? then validateRequest with
 *      the exact CSR DER and the transactionID.  Not SCEP_OK: reply
 *      FAILURE badRequest with out->failtext; issue nothing; no
 *      notification (spec 2 step 4).  No account challenge lookup, no
 *      manual approval and never PENDING on these endpoints (step 8);
 *   3. issue (svc_issue);
 *      - issuance failed: svc_intune_after_failure() (failureNotification
 *        with the HRESULT of spec 6.3), then reply FAILURE (step 7);
 *   4. svc_intune_after_issue() before replying SUCCESS (step 6):
 *      - SCEP_OK: reply SUCCESS with the certificate;
 *      - otherwise (out->revoke is 1): revoke the new certificate with
 *        reason cessationOfOperation (5) -- svc_cert_revoke() -- and reply
 *        FAILURE badRequest with out->failtext;
 *   5. put svc_intune_details() into the audit record's details.
 * CertPoll, GetCert and GetCRL never call in here (step 9).
 *
 * Every function is thread-safe.  svc_intune_check, _after_issue and
 * _after_failure block for as long as Microsoft takes (bounded by the
 * account's timeouts, spec 6.5: worst case about 45 s for a check); the
 * HTTP layer must therefore not run them on a libmicrohttpd worker: it
 * suspends the connection and hands the whole PKIOperation to this
 * module's bounded worker pool (svc_intune_submit), or uses
 * svc_intune_check_async.  See "No stalls" below.
 */
#ifndef SVC_INTUNE_H
#define SVC_INTUNE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "intune.h"
#include "scep_limits.h"
#include "store.h"
#include "store_azure.h"

#define SVC_INTUNE_WORKERS	32	/* default pool size */
#define SVC_INTUNE_QUEUE	1024	/* default jobs waiting for a worker */
#define SVC_INTUNE_KEY_LEN	32	/* crypto_secretbox key */
/* Sealed secret: 24-byte nonce, 16-byte MAC, then the secret. */
#define SVC_INTUNE_SEAL_OVERHEAD	40
/* Details JSON of svc_intune_details() never exceeds this (it has to fit
 * into store_event.details next to the caller's own keys). */
#define SVC_INTUNE_DETAILS_MAX	720

struct svc_intune;

struct svc_intune_config {
	const char	*caller_info;	/* callerInfo default for accounts
					 * that set none: "scepd" */
	size_t		 workers;	/* 0: SVC_INTUNE_WORKERS */
	size_t		 queue_max;	/* 0: SVC_INTUNE_QUEUE */
};

/* Intune settings of one endpoint, beyond struct store_endpoint. */
struct svc_intune_ep {
	int64_t		 endpoint_id;
	int64_t		 azure_account_id;
	int		 wait_success;		/* 1 (default): reply SUCCESS
						 * only after the success
						 * notification succeeded (spec
						 * 2 step 6); 0: reply at once,
						 * notify in the background */
	char		 ca_configuration[STORE_NAME_MAX];	/* "": the
						 * endpoint's CA name */
	char		 issuing_ca[STORE_TEXT_MAX];	/* "": issuer DN */
};

/* What happened, for the reply and the audit record. */
struct svc_intune_outcome {
	int		 issue;		/* check: 1 = validated, may issue */
	int		 refused;	/* check: 1 = the challenge itself was
					 * refused (missing, or Intune named a
					 * refusal code other than "Unknown"):
					 * counted by the failed-challenge
					 * limiter (issue 8).  0 for outages,
					 * HTTP errors, timeouts, no code. */
	int		 failinfo;	/* for a FAILURE: badRequest (2) */
	char		 failtext[SCEP_MAX_FAILTEXT];	/* failInfoText */
	int		 revoke;	/* after_issue: 1 = revoke the new
					 * certificate, reply FAILURE */
	int		 background;	/* after_issue: the notification was
					 * handed to the pool (switch off) */
	int64_t		 account_id;	/* Azure account used, 0 if none */
	char		 account_name[STORE_NAME_MAX];	/* its name then */
	struct intune_call validate;	/* action NULL when not called */
	struct intune_call notify;	/* success or failure notification */
};

/* *out is take.  "store" is borrowed (for CA names and the audit records
 * of background notifications) and must outlive it; may be NULL. */
int	svc_intune_new(const struct svc_intune_config *, struct store *,
	    struct svc_intune **out);
/* Runs every queued job (background notifications) to its end, then
 * stops the workers.  Accepts NULL. */
void	svc_intune_free(struct svc_intune *);

/* 1 for EP_CLIENT_INTUNE and EP_DEVICE_INTUNE. */
int	svc_intune_is_intune(const struct store_endpoint *);

/*
 * Azure accounts and endpoint settings, in memory.  account_set replaces
 * an account (new client, new caches) -- calls in flight finish with the
 * old one; SCEP_E_CONFIG with "why" for a bad configuration.
 * account_secret rotates the secret in place and drops cached tokens at
 * once (issue 5).  SCEP_E_NOTFOUND for an unknown id.
 */
int	svc_intune_account_set(struct svc_intune *, int64_t account_id,
	    const struct intune_account_cfg *, char *why, size_t whysz);
int	svc_intune_account_remove(struct svc_intune *, int64_t account_id);
int	svc_intune_account_secret(struct svc_intune *, int64_t account_id,
	    const char *secret);
/* Test connection (Integrations -> Azure Accounts): token, discovery,
 * token; the report says what failed. */
int	svc_intune_account_test(struct svc_intune *, int64_t account_id,
	    struct intune_test_report *);
int	svc_intune_account_stats(struct svc_intune *, int64_t account_id,
	    struct intune_stats *);
int	svc_intune_endpoint_set(struct svc_intune *,
	    const struct svc_intune_ep *);
int	svc_intune_endpoint_remove(struct svc_intune *, int64_t endpoint_id);
int	svc_intune_endpoint_get(struct svc_intune *, int64_t endpoint_id,
	    struct svc_intune_ep *);

/*
 * Load the Azure accounts and the endpoints' Intune settings from the
 * store (store_azure.h) when its configuration version moved since the
 * last sync (or always with "force"): new and changed accounts get a new
 * client, an account whose sealed secret alone changed is rotated in
 * place (cached tokens dropped at once), deleted accounts are removed,
 * and the endpoint settings are replaced in one swap.  Sealed secrets are
 * opened with "key" (svc_intune_key_load); an account whose secret does
 * not open, or whose configuration is refused, is removed (its endpoints
 * fail closed) and logged.  Call it at start-up and after every change
 * made through the API (or before each enrollment: it costs one
 * configuration-version read when nothing changed).
 */
#define SVC_INTUNE_MAX_ACCOUNTS		256
#define SVC_INTUNE_MAX_ENDPOINTS	4096
/* "key" NULL: the one given to svc_intune_set_key (SCEP_E_CONFIG when
 * none was). */
int	svc_intune_sync(struct svc_intune *,
	    const uint8_t key[SVC_INTUNE_KEY_LEN], int force);

/* Keep the azure.key key (copied; wiped by svc_intune_free) for
 * svc_intune_sync(si, NULL, ...) and svc_intune_account_save. */
void	svc_intune_set_key(struct svc_intune *,
	    const uint8_t key[SVC_INTUNE_KEY_LEN]);

/*
 * For the admin API: create (row->id 0; sets it) or update an Azure
 * account.  "secret": the client secret in clear, sealed here (NULL on an
 * update keeps the stored one; required on a create).  "proxy_password":
 * NULL keeps, "" removes, anything else replaces.  The configuration is
 * first checked as intune_client_new would (SCEP_E_CONFIG with "why",
 * nothing written); then written with the targets (Customized
 * delegation) and synced, so a rotated secret is used at once.
 * row->secret, row->proxy_password, created_at and updated_at are set
 * here; the caller clears row.  The secrets in clear are never stored,
 * logged or returned.
 */
int	svc_intune_account_save(struct svc_intune *,
	    struct store_azure_account *row, const char *secret,
	    const char *proxy_password, const struct store_orgref *targets,
	    size_t ntargets, char *why, size_t whysz);

/*
 * Spec 2 steps 2-4.  "csr" is the exact DER PKCS#10 from the envelope.
 * SCEP_OK with out->issue = 1: validated, issue.  SCEP_E_DENIED with
 * out->issue = 0: reply FAILURE badRequest with out->failtext
 * ("challenge missing", "Intune validation failed: ChallengeExpired",
 * "Intune validation failed: HTTP 500" ...).  A non-Intune endpoint gets
 * SCEP_OK and issue = 1 at once, with no call (spec 10.2 case 8).
 */
int	svc_intune_check(struct svc_intune *, const struct store_endpoint *,
	    const char *transid, const uint8_t *csr, size_t csr_len,
	    struct svc_intune_outcome *out);

/*
 * Spec 2 step 6, after the certificate is durably stored.  "cert" is
 * borrowed.  SCEP_OK: reply SUCCESS.  SCEP_E_DENIED with out->revoke = 1:
 * successNotification failed while the endpoint waits for it (the
 * default): revoke "cert" (cessationOfOperation) and reply FAILURE
 * badRequest with out->failtext.  With wait_success off the notification
 * goes to the pool (out->background = 1; its outcome becomes its own
 * audit record, action "successNotification") and SCEP_OK is returned.
 */
int	svc_intune_after_issue(struct svc_intune *,
	    const struct store_endpoint *, const char *transid,
	    const uint8_t *csr, size_t csr_len, X509 *cert,
	    struct svc_intune_outcome *out);

/*
 * Spec 2 step 7: issuance failed after a successful validation ("err" the
 * scep_err of the failure, "failinfo" what the client will be told, or
 * -1; "why" <= 255 characters are sent).  Best effort: the reply is
 * FAILURE whatever this returns.
 */
int	svc_intune_after_failure(struct svc_intune *,
	    const struct store_endpoint *, const char *transid,
	    const uint8_t *csr, size_t csr_len, int err, int failinfo,
	    const char *why, struct svc_intune_outcome *out);

/* The HRESULT of spec 6.3 for an issuance failure. */
int64_t	svc_intune_hresult(int err, int failinfo);

/* Compact JSON object for the audit record ("azure_account_id", and
 * "azure_account_name" as the account was named at the time; "validate"
 * and "notify": code, HTTP status, time, stage, client-request-ids,
 * message), at most SVC_INTUNE_DETAILS_MAX bytes including the NUL;
 * "{}" when nothing was called.  Returns the length. */
int	svc_intune_details(const struct svc_intune_outcome *, char *buf,
	    size_t bufsz);

/*
 * No stalls.  A bounded pool of worker threads for everything that waits
 * on Microsoft.  svc_intune_submit queues fn(arg); SCEP_E_BUSY when
 * queue_max jobs already wait (answer HTTP 503 with Retry-After) or the
 * pool is stopping.  fn must not call svc_intune_free.
 *
 * svc_intune_check_async: svc_intune_check on the pool; done(arg, rc,
 * outcome) runs on a pool thread (outcome borrowed for the call).  On
 * SCEP_E_BUSY, done is not called.  ep, transid and csr are copied.
 */
int	svc_intune_submit(struct svc_intune *, void (*fn)(void *), void *arg);
int	svc_intune_check_async(struct svc_intune *,
	    const struct store_endpoint *, const char *transid,
	    const uint8_t *csr, size_t csr_len,
	    void (*done)(void *arg, int rc,
	    const struct svc_intune_outcome *), void *arg);
/*
 * The whole PKIOperation (svc_pkioperation) of an Intune endpoint on the
 * pool, for the HTTP layer: suspend the libmicrohttpd connection, call
 * this, and in "done" (a pool thread) keep the result and resume the
 * connection.  "res" is take: done owns res->body (svc_result_clear).
 * der, client_addr, request_id and ep are copied.  SCEP_E_BUSY: the
 * queue is full (answer 503 with Retry-After), done is not called.
 */
struct svc;
struct svc_result;
int	svc_intune_pkioperation_async(struct svc_intune *, struct svc *,
	    const struct store_endpoint *, const uint8_t *der, size_t len,
	    const char *client_addr, const char *request_id,
	    void (*done)(void *arg, struct svc_result *res), void *arg);
/* Jobs running now and waiting, for metrics and tests. */
void	svc_intune_pool_stats(struct svc_intune *, size_t *running,
	    size_t *queued);

/*
 * Revocation requests from Intune (spec 9), for one account: download up
 * to SVC_INTUNE_REVOKE_BATCH, revoke each certificate an Intune endpoint
 * of this account issued (cessationOfOperation, through svc_cert_revoke:
 * CRL and audit included), answer every request: 4002 for a missing or
 * non-hex serial, 4004 for a serial unknown, issued by another endpoint
 * or account, or with another issuer, success for one already revoked
 * (so Intune stops asking), 4100 when revocation failed.  SCEP_E_NOTFOUND
 * for an unknown account.
 */
#define SVC_INTUNE_REVOKE_BATCH		100
#define SVC_INTUNE_POLL_INTERVAL	900	/* spec 9: 15 minutes */

struct svc_intune_revocation_report {
	size_t		 requests;	/* downloaded */
	size_t		 revoked;
	size_t		 already;	/* already revoked: answered success */
	size_t		 notfound;	/* 4004 */
	size_t		 failed;	/* 4002 or 4100 */
	struct intune_call download;
	struct intune_call upload;	/* action NULL when nothing came */
};

int	svc_intune_revocation_poll(struct svc_intune *, struct svc *,
	    int64_t account_id, struct svc_intune_revocation_report *);
/* A thread that polls every account whose configuration sets
 * revocation_poll, every "interval" seconds (0: 900), until
 * svc_intune_free.  "svc" is borrowed and must outlive it.
 * SCEP_E_EXISTS when already started. */
int	svc_intune_poller_start(struct svc_intune *, struct svc *,
	    int interval);
/* Stop and join the poller (before freeing the svc it borrows); a poll in
 * progress finishes first.  No-op when none runs. */
void	svc_intune_poller_stop(struct svc_intune *);

/*
 * The Azure client secret at rest (issue 5): sealed with libsodium's
 * crypto_secretbox (XSalsa20-Poly1305) under a key kept outside the
 * database, DATA_DIR/azure.key (32 random bytes, mode 0600).
 * key_load: read the key; with "create", make it (O_EXCL, 0600) when
 * missing.  SCEP_E_CONFIG when the file is not exactly 32 bytes or is
 * readable by group or others.  seal: *blob (take, free()) = nonce ||
 * MAC || ciphertext.  open: SCEP_E_BADSIG when the blob was altered or
 * sealed under another key; *secret take (wipe and free with
 * svc_intune_secret_free).
 */
int	svc_intune_key_load(const char *path, int create,
	    uint8_t key[SVC_INTUNE_KEY_LEN]);
int	svc_intune_secret_seal(const uint8_t key[SVC_INTUNE_KEY_LEN],
	    const char *secret, uint8_t **blob, size_t *blob_len);
int	svc_intune_secret_open(const uint8_t key[SVC_INTUNE_KEY_LEN],
	    const uint8_t *blob, size_t blob_len, char **secret);
void	svc_intune_secret_free(char *);

#endif /* !SVC_INTUNE_H */
