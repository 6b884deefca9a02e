/*
 * intune.h -- the client side of Microsoft's services for Intune SCEP
 * endpoints: Entra ID tokens (OAuth 2.0 client credentials), Microsoft
 * Graph service discovery and the three ScepActions calls of the Intune
 * validation service.  The contract is ../shared/spec/intune-scep.md
 * ("spec" below), sections 4, 5, 6 and 11.
 *
 * One struct intune_client per Azure account (tenant configuration).  It
 * is thread-safe: any number of threads may call into one client at once.
 * Tokens (one per scope) and the discovered service URLs are cached inside
 * it behind a mutex; refreshes are single-flight, so concurrent SCEP
 * requests never stampede the token endpoint or Graph (spec 4.3, 5.2).
 * Network I/O never happens with the mutex held.
 *
 * Every call blocks the calling thread for at most the sum of its
 * timeouts (spec 6.5; defaults below), so callers that must not block
 * (libmicrohttpd workers) run these calls on their own thread pool
 * (svc_intune.h does).
 *
 * Secrets: the client secret and the access tokens never appear in a log
 * line, an error message or an outcome struct.  They are wiped from memory
 * when replaced or freed.
 *
 * Return values are SCEP_OK or a negative enum scep_err (scep_err.h):
 *   SCEP_E_DENIED	Intune answered, and the answer was not "Success"
 *   SCEP_E_IO		no usable answer: network, TLS, timeout, non-2xx
 *   SCEP_E_MALFORMED	a 2xx answer whose body we could not understand
 *   SCEP_E_CONFIG	bad configuration, or Entra ID / Graph refused us
 *			(wrong secret, missing permission, no Intune service)
 *   SCEP_E_NOMEM, SCEP_E_INTERNAL, SCEP_E_TOOBIG (an argument over a limit)
 * The outcome struct says more (stage, HTTP status, code, message).
 */
#ifndef INTUNE_H
#define INTUNE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

/*
 * Limits.  Every byte we accept from Microsoft (or a stand-in, or a
 * TLS-inspecting proxy) is bounded by one of these.
 */
/* Token endpoint answer: a JWT access token is 1-3 KiB; errors are a few
 * hundred bytes of JSON. */
#define INTUNE_MAX_TOKEN_RESP	(64 * 1024)
/* One access token (header-safe ASCII). */
#define INTUNE_MAX_TOKEN	(16 * 1024)
/* One page of Graph's endpoint list: Intune lists ~100 services of a few
 * hundred bytes each. */
#define INTUNE_MAX_DISC_RESP	(1024 * 1024)
/* Pages of @odata.nextLink we follow (spec 5.1). */
#define INTUNE_MAX_DISC_PAGES	8
/* A ScepActions answer: {"code": ..., "errorDescription": ...}. */
#define INTUNE_MAX_SVC_RESP	(64 * 1024)
/* Any URL we build or accept from discovery. */
#define INTUNE_MAX_URL		2048
/* Configuration strings (tenant, IDs, caller info, versions, proxy user). */
#define INTUNE_MAX_CFG_STR	512
/* The CSR we send (DER); the SCEP layer caps it lower already. */
#define INTUNE_MAX_CSR		(64 * 1024)
/* transactionId: spec 6.2 takes the SCEP transactionID verbatim. */
#define INTUNE_MAX_TRANSID	255
/* errorDescription of failureNotification, in characters (spec 6.2). */
#define INTUNE_MAX_ERRDESC	255
/* Revocation requests fetched at once (spec 9: maxRequests 1-500). */
#define INTUNE_MAX_REVOCATIONS	500
/* One revocation request's opaque requestContext. */
#define INTUNE_MAX_REQCTX	2048
/* One page of downloaded revocation requests. */
#define INTUNE_MAX_REVOC_RESP	(4 * 1024 * 1024)
/* Easy handles kept for reuse (keep-alive to Microsoft) per client. */
#define INTUNE_POOL_MAX		8

/* Environments of spec 11.  CUSTOM takes every URL from the config. */
enum intune_env {
	INTUNE_ENV_GLOBAL	= 0,
	INTUNE_ENV_USGOV	= 1,	/* GCC High */
	INTUNE_ENV_USGOV_DOD	= 2,
	INTUNE_ENV_CHINA	= 3,	/* 21Vianet */
	INTUNE_ENV_CUSTOM	= 4,
	INTUNE_ENV__MAX
};

/* The calls a client makes; index of intune_account_cfg.timeouts. */
enum intune_op {
	INTUNE_OP_TOKEN		= 0,
	INTUNE_OP_DISCOVERY	= 1,
	INTUNE_OP_VALIDATE	= 2,
	INTUNE_OP_SUCCESS	= 3,
	INTUNE_OP_FAILURE	= 4,
	INTUNE_OP_REVOCATION	= 5,	/* spec 9, both calls */
	INTUNE_OP__MAX
};

/* Milliseconds; 0 takes the default of spec 6.5 (connect 5 s; total 10 s
 * token and discovery, 20 s validate, 30 s success, 15 s failure; 30 s
 * for the revocation calls). */
struct intune_timeout {
	long		 connect_ms;
	long		 total_ms;
};

/*
 * One Azure account (tenant configuration, spec 3).  Strings are borrowed
 * for the duration of intune_client_new(), which copies them.  NULL or ""
 * takes the default named in the comment.  URLs must be https://.
 */
struct intune_account_cfg {
	int		 environment;		/* enum intune_env */
	const char	*tenant_id;		/* required: GUID or domain */
	const char	*client_id;		/* required: app (client) ID */
	const char	*client_secret;		/* required */
	const char	*caller_info;		/* callerInfo / UserAgent:
						 * "scepd/<version>" */
	const char	*authority_url;		/* environment's; '/' added */
	const char	*graph_url;		/* environment's; '/' added */
	const char	*graph_api_version;	/* "1.0" -> ".../v1.0/..." */
	const char	*intune_resource_url;	/* environment's (required
						 * for CHINA and CUSTOM) */
	const char	*intune_app_id;		/* 0000000a-0000-0000-c000-
						 * 000000000000 */
	const char	*graph_scope;		/* graph_url + ".default" */
	const char	*intune_scope;		/* intune_resource_url +
						 * "/.default" (spec 4.1) */
	const char	*api_version;		/* "2018-02-20" (spec 6.1) */
	const char	*revocation_api_version;	/* "5019-05-05"
						 * (spec 9) */
	int		 revocation_code_as_string;	/* errorCode as "4004"
						 * (Java form) instead of a
						 * number (C# form, spec 9) */
	int		 revocation_poll;	/* svc_intune polls this
						 * account's revocation requests
						 * (spec 9); not used here */
	const char	*proxy;			/* "http://host:port": every
						 * call goes through it (HTTP
						 * CONNECT); NULL: no proxy,
						 * *_proxy variables ignored */
	const char	*proxy_user;		/* Basic auth to the proxy */
	const char	*proxy_password;	/* secret like client_secret */
	const char	*ca_bundle_path;	/* PEM file of trusted CAs for
						 * TLS to Microsoft and the
						 * proxy; NULL: system store */
	long		 discovery_ttl;		/* seconds; 0: 24 h (5.2) */
	long		 token_margin;		/* refresh this many seconds
						 * before expiry; 0: 300, and
						 * never more than half the
						 * token's lifetime */
	struct intune_timeout timeouts[INTUNE_OP__MAX];
};

/* Where a call failed. */
enum intune_stage {
	INTUNE_STAGE_NONE	= 0,	/* it did not */
	INTUNE_STAGE_CONFIG	= 1,	/* bad arguments, nothing sent */
	INTUNE_STAGE_TOKEN	= 2,	/* no access token */
	INTUNE_STAGE_DISCOVERY	= 3,	/* no service URL */
	INTUNE_STAGE_CALL	= 4,	/* transport, timeout or non-2xx */
	INTUNE_STAGE_RESPONSE	= 5,	/* 2xx with a body we cannot parse */
	INTUNE_STAGE_REJECTED	= 6,	/* parsed; code is not "Success" */
};

#define INTUNE_GUID_LEN		36	/* 8-4-4-4-12, lower-case hex */
#define INTUNE_MAX_ATTEMPTS	4	/* HTTP attempts recorded per call */

/*
 * The outcome of one call (spec 6.4 and 7: what the audit record keeps).
 * Flat, no pointers: copy it freely.  Never holds a secret.
 */
struct intune_call {
	const char	*action;	/* static: "validateRequest", "token" */
	int		 rc;		/* SCEP_OK or a negative scep_err */
	int		 stage;		/* enum intune_stage */
	long		 http_status;	/* last HTTP status; 0: no answer */
	char		 code[64];	/* Intune's "code", "" when none */
	char		 message[256];	/* errorDescription, or our reason */
	char		 aadsts[24];	/* "AADSTS7000215" from Entra ID */
	int		 attempts;	/* HTTP requests to the service */
	char		 request_ids[INTUNE_MAX_ATTEMPTS][INTUNE_GUID_LEN + 1];
					/* client-request-id of each one */
	long		 elapsed_ms;	/* whole call, token and discovery
					 * included */
};

/* What successNotification reports about the issued certificate (spec
 * 6.2 server rules).  intune_cert_info() fills the first four from the
 * certificate; the caller may override any field before sending. */
struct intune_cert_info {
	char		 thumbprint[41];	/* SHA-1, 40 upper-case hex */
	char		 serial[130];		/* DER INTEGER content, upper
						 * hex, leading 00 kept */
	char		 expiry[32];		/* YYYY-MM-DDThh:mm:ss.fffZ */
	char		 issuer[1024];		/* RFC 4514 issuer DN */
	char		 ca_configuration[256];	/* stable CA identifier */
	char		 certificate_authority[1024];	/* default: issuer */
};

/* One revocation request from Intune (spec 9).  Strings cleaned to
 * printable ASCII; serial "" when Intune sent none or not hex. */
struct intune_revocation_request {
	char		 request_context[INTUNE_MAX_REQCTX + 1];
	char		 serial[130];		/* hex as Intune sent it */
	char		 issuer[1024];		/* "" when absent */
	char		 ca_configuration[256];	/* "" when absent */
};

/* One result to upload; succeeded requires error_code 0, a failure a
 * non-zero INTUNE_CAERR_* (spec 9). */
struct intune_revocation_result {
	const char	*request_context;
	int		 succeeded;
	int		 error_code;
	const char	*error_message;		/* NULL: "" */
};

/* The libraries' CARequestErrorCode (spec 9). */
#define INTUNE_CAERR_NONE		0
#define INTUNE_CAERR_NONRETRYABLE	4000
#define INTUNE_CAERR_SERIALIZATION	4001
#define INTUNE_CAERR_PARAMETER		4002
#define INTUNE_CAERR_CRYPTO		4003
#define INTUNE_CAERR_NOTFOUND		4004
#define INTUNE_CAERR_CONFLICT		4005
#define INTUNE_CAERR_NOTSUPPORTED	4006
#define INTUNE_CAERR_TOOLARGE		4007
#define INTUNE_CAERR_RETRYABLE		4100
#define INTUNE_CAERR_UNAVAILABLE	4101
#define INTUNE_CAERR_BUSY		4102
#define INTUNE_CAERR_AUTH		4103

/* Test connection (spec issue 5): each step and what it found. */
struct intune_test_report {
	int		 rc;			/* SCEP_OK when all passed */
	struct intune_call graph_token;
	struct intune_call discovery;
	struct intune_call intune_token;
	char		 validation_uri[INTUNE_MAX_URL];	/* "" if none */
	char		 revocation_uri[INTUNE_MAX_URL];	/* "" if none */
	char		 summary[512];		/* one line for a human */
};

/* Counters, for tests and metrics. */
struct intune_stats {
	uint64_t	 token_requests;	/* HTTP requests to Entra ID */
	uint64_t	 discoveries;		/* completed discovery runs */
	uint64_t	 discovery_requests;	/* HTTP requests to Graph */
	uint64_t	 service_requests;	/* HTTP requests to services */
	uint64_t	 token_refresh_401;	/* refreshes forced by a 401 */
	uint64_t	 rediscoveries;		/* invalidations of the cache */
};

struct intune_client;

/*
 * Check and copy the configuration; no network traffic.  *out is take.
 * SCEP_E_CONFIG names nothing secret; "why" (may be NULL) receives a
 * one-line reason of at most whysz bytes.
 */
int	intune_client_new(const struct intune_account_cfg *,
	    struct intune_client **out, char *why, size_t whysz);
/* No call may be in flight.  Accepts NULL.  Wipes secrets. */
void	intune_client_free(struct intune_client *);

/* Secret rotation: takes effect for the next token request; drops every
 * cached token at once (calls in flight finish with the token they hold,
 * and a token being fetched with the old secret is not cached). */
int	intune_client_set_secret(struct intune_client *, const char *secret);
/* Drop cached tokens and discovery results. */
void	intune_client_flush(struct intune_client *);
void	intune_client_stats(struct intune_client *, struct intune_stats *);

/* The URLs and scopes in use (for the console and tests); borrowed from
 * the client, valid while it lives. */
const char *intune_client_token_url(const struct intune_client *);
const char *intune_client_discovery_url(const struct intune_client *);
const char *intune_client_scope(const struct intune_client *, int intune);

/*
 * validateRequest (spec 2 step 3, 6.2): "transid" is the SCEP
 * transactionID, "csr" the exact DER PKCS#10 from the envelope.
 * SCEP_OK only when Intune answered HTTP 2xx with code "Success" exactly.
 * Retried only when no byte of the request left this host (connection,
 * DNS or TLS failure, after rediscovery), or once after a 401 with a
 * fresh token; never after an answer or a read timeout (spec 6.5).
 */
int	intune_validate(struct intune_client *, const char *transid,
	    const uint8_t *csr, size_t csr_len, struct intune_call *out);

/*
 * successNotification (spec 2 step 6, 6.2).  Retried once on a connection
 * error, a reset, HTTP 5xx, 429 or 404 (after rediscovery), and once
 * after a 401 with a fresh token.  SCEP_OK only on code "Success".
 */
int	intune_notify_success(struct intune_client *, const char *transid,
	    const uint8_t *csr, size_t csr_len,
	    const struct intune_cert_info *, struct intune_call *out);

/*
 * failureNotification (spec 2 step 7, 6.2, 6.3): "hresult" as a JSON
 * integer, "description" truncated to 255 characters on a UTF-8 boundary
 * (invalid UTF-8 replaced by '?'); an empty description is sent as
 * "certificate issuance failed".  Same retries as successNotification.
 */
int	intune_notify_failure(struct intune_client *, const char *transid,
	    const uint8_t *csr, size_t csr_len, int64_t hresult,
	    const char *description, struct intune_call *out);

/*
 * Revocation API (spec 9), at PkiConnectorFEService's URL with
 * api-version 5019-05-05.  download: up to "max" (1-500) queued requests,
 * optionally only for "issuer" (NULL: all); *out take (free()), *n set.
 * Retried like the notifications (it only reads).  upload: one result per
 * request; SCEP_OK when Intune answers {"value": true}; retried once
 * like the notifications.  SCEP_E_CONFIG when Graph lists no
 * PkiConnectorFEService.
 */
int	intune_revocation_download(struct intune_client *, int max,
	    const char *issuer, struct intune_revocation_request **out,
	    size_t *n, struct intune_call *call);
int	intune_revocation_upload(struct intune_client *,
	    const struct intune_revocation_result *, size_t n,
	    struct intune_call *call);

/*
 * Test connection: fresh Graph token, fresh discovery, fresh Intune token
 * (caches bypassed and refreshed).  Fills every step of the report.
 */
int	intune_test_connection(struct intune_client *,
	    struct intune_test_report *out);

/* Fill thumbprint, serial, expiry, issuer and certificate_authority from
 * "cert" (get0: borrowed); ca_configuration is left "". */
int	intune_cert_info(X509 *cert, struct intune_cert_info *out);

/* HRESULT values of spec 6.3 (customer bit, severity bit clear). */
#define INTUNE_HR_INTERNAL	0x20000001	/* internal error issuing */
#define INTUNE_HR_UNAVAILABLE	0x20000002	/* CA/backend unavailable */
#define INTUNE_HR_POLICY	0x20000003	/* rejected by CA policy */
#define INTUNE_HR_STORE		0x20000004	/* could not store/publish */
#define INTUNE_HR_FAILINFO	0x20000100	/* + SCEP failInfo (0-4) */

/* Defaults of the environment (NULL when spec 11 confirms none). */
const char *intune_env_authority(int env);
const char *intune_env_graph(int env);
const char *intune_env_intune_resource(int env);
/* "global", "usgov", "usgov-dod", "china", "custom"; -1 when unknown. */
const char *intune_env_name(int env);
int	intune_env_parse(const char *name);

const char *intune_stage_name(int stage);
/* Compact JSON of a call for an audit record's details (no secrets).
 * Returns the length written (always NUL-terminated), or -1 when bufsz is
 * too small (buf then holds "{}"). */
int	intune_call_json(const struct intune_call *, char *buf, size_t bufsz);

/* A random (version 4) GUID, lower-case, NUL-terminated. */
int	intune_guid(char out[INTUNE_GUID_LEN + 1]);

/* libcurl's global state: intune_client_new() initialises it once; call
 * this at process exit (after every client is freed) for a clean exit. */
void	intune_global_cleanup(void);

#endif /* !INTUNE_H */
