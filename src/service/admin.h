/*
 * admin.h -- the administration model (issue 3): organizations,
 * departments, administrators (MRAO/RAO/DRAO) with scopes, API tokens and
 * console sessions, enrollment endpoints and their delegation, accounts
 * and their challenges, RA certificates, issued certificates, pending
 * requests and the audit trail.
 *
 * This is the rule layer: it knows no HTTP and no SQL.  The REST API
 * (src/api/) decodes requests into the structs below and calls these
 * functions; the functions check scope and validity, write through the
 * store and append one audit record per change.
 *
 * Scope rules (issue 3, "Rules that must hold"):
 *  - MRAO sees and manages everything.
 *  - RAO holds a set of organizations and certificate types (client,
 *    device); DRAO a set of departments and certificate types.
 *  - An endpoint is visible to an RAO/DRAO when its type is one of the
 *    administrator's certificate types and it is delegated "General", or
 *    one of its delegation targets (or, for Intune types, its owning
 *    organization/department) touches the administrator's scope.  It is
 *    manageable (edit, delete, delegate) when it is "Customized" and every
 *    target lies inside the administrator's scope.
 *  - Accounts, certificates, requests and audit records are visible when
 *    their endpoint is visible and their organization (RAO) or department
 *    (DRAO) is inside the scope; those without an organization only when
 *    the endpoint is manageable.
 *  - Outside the scope an object does not exist: the functions return
 *    SCEP_E_NOTFOUND and lists leave it out.  A visible object that may not
 *    be changed gives SCEP_E_DENIED.
 *
 * Return values: SCEP_OK; SCEP_E_MALFORMED for a validation error, with
 * struct admin_err naming the field; SCEP_E_NOTFOUND; SCEP_E_DENIED;
 * SCEP_E_EXISTS for a name or URI extension already in use or an object
 * still in use; SCEP_E_BUSY; SCEP_E_STORE / SCEP_E_INTERNAL otherwise.
 *
 * Secrets (challenges, tokens, passwords, session ids) are generated here,
 * handed to the caller once through an output buffer, stored only hashed,
 * and never written to the audit trail or the log.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"
#include "svc.h"

/* Scopes of one administrator, delegation targets of one endpoint. */
#define ADMIN_MAX_SCOPES	64
#define ADMIN_MAX_TARGETS	64
/* Rows one list call returns at most. */
#define ADMIN_MAX_LIST		1000
/* API tokens: prefix + 43 chars of base64url (256 random bits). */
#define ADMIN_TOKEN_PREFIX	"scepd_"
#define ADMIN_TOKEN_RAND	32
#define ADMIN_TOKEN_MAX		64	/* buffer size for a token */
/* Console sessions and their CSRF tokens: 256 random bits, base64url. */
#define ADMIN_SID_MAX		48
#define ADMIN_SESSION_TTL	(8 * 3600)
/* Passwords: generated ones are 20 chars; chosen ones 12..256 bytes. */
#define ADMIN_PASSWORD_GEN	20
#define ADMIN_PASSWORD_MIN	12
#define ADMIN_PASSWORD_MAX	256
/* Password hashes (argon2id, 64 MiB each) computed at the same time. */
#define ADMIN_PWHASH_PARALLEL	2
/* Login throttling: this many failures per name or per client address
 * within the window lock further attempts until the window has passed. */
#define ADMIN_LOGIN_MAX_FAIL	5
#define ADMIN_LOGIN_WINDOW	900
/* One-time challenges: default and largest time to live (seconds). */
#define ADMIN_OTC_TTL		3600
#define ADMIN_OTC_TTL_MAX	(7 * 24 * 3600)
/* Endpoint terms (days) and RA lifetimes. */
#define ADMIN_TERM_MAX		(5 * 366)
#define ADMIN_RA_DAYS		(2 * 365)

struct admin_err {
	const char	*field;		/* static JSON field name, or NULL */
	char		 msg[192];
};

/*
 * Who is acting, with the scope loaded once per request.  Made by the
 * admin_auth_* functions; "svc" is borrowed.
 */
struct admin_actor {
	struct svc		*svc;
	int64_t			 id;
	char			 name[STORE_NAME_MAX];
	int			 role;		/* enum store_admin_role */
	int			 cert_types;	/* STORE_CT_* */
	struct store_orgref	 scopes[ADMIN_MAX_SCOPES];
	size_t			 nscopes;
	char			 client_addr[STORE_ADDR_MAX];
	char			 request_id[24];
	int64_t			 session_id;	/* 0 for a token */
	int64_t			 token_id;	/* 0 for a session */
};

/* An administrator with its scopes. */
struct admin_info {
	struct store_admin	 a;		/* password_hash never output */
	struct store_orgref	 scopes[ADMIN_MAX_SCOPES];
	size_t			 nscopes;
};

/* An endpoint with its delegation targets ("Customized"). */
struct admin_endpoint {
	struct store_endpoint	 ep;
	struct store_orgref	 targets[ADMIN_MAX_TARGETS];
	size_t			 ntargets;
};

/* An account with its subject/SAN rules. */
struct admin_account {
	struct store_account		 acct;
	struct store_account_rules	 rules;
};

/* ---- bootstrap and authentication (admin.c) ---- */

/*
 * Create the first MRAO administrator "name" with a new API token and an
 * initial console password (issue 3, `scepd init`).  token_out (>=
 * ADMIN_TOKEN_MAX) and password_out (> ADMIN_PASSWORD_GEN) receive the
 * secrets, shown once.  SCEP_E_EXISTS when an administrator already exists.
 */
int	admin_bootstrap(struct svc *, const char *name, char *token_out,
	    size_t tokensz, char *password_out, size_t pwsz);

/* Authenticate a bearer token.  SCEP_E_DENIED when unknown, revoked,
 * expired, or its administrator is disabled. */
int	admin_auth_token(struct svc *, const char *token,
	    const char *client_addr, struct admin_actor *out);
/*
 * Password login: on success a new session, its cookie value (sid_out)
 * and CSRF token (csrf_out), each >= ADMIN_SID_MAX.  SCEP_E_DENIED for a
 * bad name or password (the same answer for both), SCEP_E_BUSY while
 * throttled or while ADMIN_PWHASH_PARALLEL logins are being checked
 * (*retry_after set, seconds).
 */
int	admin_login(struct svc *, const char *name, const char *password,
	    const char *client_addr, char *sid_out, size_t sidsz,
	    char *csrf_out, size_t csrfsz, int *retry_after,
	    struct admin_actor *out);
/* Authenticate a session cookie; when "csrf" is not NULL it must match
 * the session's CSRF token.  SCEP_E_DENIED otherwise. */
int	admin_auth_session(struct svc *, const char *sid, const char *csrf,
	    const char *client_addr, struct admin_actor *out);
int	admin_logout(struct admin_actor *, const char *sid);

/* ---- scope rules (admin.c) ---- */

int	admin_is_mrao(const struct admin_actor *);
/* Certificate type (STORE_CT_CLIENT/_DEVICE) of an endpoint type. */
int	admin_ep_cert_type(int endpoint_type);
int	admin_ep_visible(const struct admin_actor *,
	    const struct admin_endpoint *);
int	admin_ep_manageable(const struct admin_actor *,
	    const struct admin_endpoint *);
/* Is (org_id, dept_id) of an account/certificate inside the scope? */
int	admin_scope_covers(const struct admin_actor *, int64_t org_id,
	    int64_t dept_id);

/*
 * Append an audit record of an administrative change: action
 * ("endpoint.update"), the objects involved, and the before/after state
 * (borrowed; either may be NULL; only the fields that differ are kept).
 * Returns the store's result; the caller has already made the change.
 */
int	admin_audit(struct admin_actor *, const char *action,
	    int64_t endpoint_id, int64_t account_id, const char *serial,
	    const char *result, const char *reason, json_t *before,
	    json_t *after);
/*
 * admin_audit of a change made with success, outside any endpoint and
 * account: "before" and "after" (either NULL) are taken and released.
 * Returns SCEP_OK (the change is made; a failed append is logged).
 */
int	admin_audit_done(struct admin_actor *, const char *action,
	    json_t *before, json_t *after);

/* ---- organizations and departments (admin_org.c) ---- */

int	admin_org_list(struct admin_actor *, struct store_org *out,
	    size_t max, size_t *n);
int	admin_org_get(struct admin_actor *, int64_t id, struct store_org *);
int	admin_org_create(struct admin_actor *, struct store_org *,
	    struct admin_err *);
int	admin_org_update(struct admin_actor *, const struct store_org *,
	    struct admin_err *);
int	admin_org_delete(struct admin_actor *, int64_t id, struct admin_err *);

int	admin_dept_list(struct admin_actor *, int64_t org_id,
	    struct store_dept *out, size_t max, size_t *n);
int	admin_dept_get(struct admin_actor *, int64_t id, struct store_dept *);
int	admin_dept_create(struct admin_actor *, struct store_dept *,
	    struct admin_err *);
int	admin_dept_update(struct admin_actor *, const struct store_dept *,
	    struct admin_err *);
int	admin_dept_delete(struct admin_actor *, int64_t id,
	    struct admin_err *);

/* ---- administrators and tokens (admin_org.c) ---- */

/*
 * MRAO manages every administrator; an RAO may create and manage DRAOs
 * whose departments lie in its organizations and whose certificate types
 * are a subset of its own; everybody sees and may change its own
 * password and tokens.
 */
int	admin_admin_list(struct admin_actor *, struct admin_info *out,
	    size_t max, size_t *n);
int	admin_admin_get(struct admin_actor *, int64_t id, struct admin_info *);
/* password NULL: one is generated into pw_out (> ADMIN_PASSWORD_GEN). */
int	admin_admin_create(struct admin_actor *, struct admin_info *,
	    const char *password, char *pw_out, size_t pwsz,
	    struct admin_err *);
int	admin_admin_update(struct admin_actor *, const struct admin_info *,
	    struct admin_err *);
int	admin_admin_set_password(struct admin_actor *, int64_t id,
	    const char *password, struct admin_err *);
int	admin_admin_delete(struct admin_actor *, int64_t id,
	    struct admin_err *);

/* token_out >= ADMIN_TOKEN_MAX; expires_at 0 = never. */
int	admin_token_create(struct admin_actor *, int64_t admin_id,
	    const char *name, int64_t expires_at, char *token_out,
	    size_t tokensz, struct store_token *out, struct admin_err *);
int	admin_token_list(struct admin_actor *, int64_t admin_id,
	    struct store_token *out, size_t max, size_t *n);
int	admin_token_revoke(struct admin_actor *, int64_t admin_id,
	    int64_t token_id);

/* ---- endpoints and accounts (admin_ep.c) ---- */

/* Defaults for a new endpoint (first CA, its active RA, a 2048-bit RSA
 * minimum, one year, chain responses, automatic approval, General). */
int	admin_endpoint_defaults(struct admin_actor *, struct admin_endpoint *);
int	admin_endpoint_list(struct admin_actor *, int deleted,
	    struct admin_endpoint *out, size_t max, size_t *n);
int	admin_endpoint_get(struct admin_actor *, int64_t id,
	    struct admin_endpoint *);
int	admin_endpoint_create(struct admin_actor *, struct admin_endpoint *,
	    struct admin_err *);
/* The whole new state (start from admin_endpoint_get). */
int	admin_endpoint_update(struct admin_actor *,
	    const struct admin_endpoint *, struct admin_err *);
/* Stops enrollment on its URL at once; certificates and audit stay. */
int	admin_endpoint_delete(struct admin_actor *, int64_t id);

int	admin_account_defaults(struct admin_actor *, int64_t endpoint_id,
	    struct admin_account *);
/* endpoint_id 0: every visible account. */
int	admin_account_list(struct admin_actor *, int64_t endpoint_id,
	    struct admin_account *out, size_t max, size_t *n);
int	admin_account_get(struct admin_actor *, int64_t id,
	    struct admin_account *);
/* challenge_out (> SVC_CHALLENGE_LEN) receives the new challenge. */
int	admin_account_create(struct admin_actor *, struct admin_account *,
	    char *challenge_out, size_t chsz, struct admin_err *);
int	admin_account_update(struct admin_actor *,
	    const struct admin_account *, struct admin_err *);
/* Replace the account's challenge; the old one stops working at once. */
int	admin_account_challenge(struct admin_actor *, int64_t id,
	    char *challenge_out, size_t chsz);
/* Mint a one-time challenge valid for ttl seconds (0: ADMIN_OTC_TTL). */
int	admin_otc_create(struct admin_actor *, int64_t account_id,
	    int64_t ttl, char *challenge_out, size_t chsz,
	    struct store_otc *out, struct admin_err *);
int	admin_otc_list(struct admin_actor *, int64_t account_id,
	    struct store_otc *out, size_t max, size_t *n);

/*
 * For the enrollment path (svc): resolve a challenge to its account,
 * trying the account challenges first, then the live one-time ones
 * (*otc_id set, else 0).  The caller consumes a one-time challenge with
 * store_otc_consume() when it issues.  SCEP_E_NOTFOUND when unknown.
 */
int	admin_challenge_lookup(struct svc *, const char *challenge, size_t len,
	    int64_t now, struct store_account *acct, int64_t *otc_id);
/*
 * For the enrollment path: does a requested subject CN / SAN values
 * satisfy the account's rules?  SCEP_OK or SCEP_E_DENIED with "why" set.
 */
int	admin_account_check_names(struct svc *, int64_t account_id,
	    const char *cn, const char *const *sans, size_t nsans,
	    char *why, size_t whysz);

/* ---- CAs, RAs, certificates, requests (admin_pki.c) ---- */

/* CAs and RAs are infrastructure: MRAO only (SCEP_E_DENIED otherwise). */
int	admin_ca_list(struct admin_actor *, struct store_ca *out, size_t max,
	    size_t *n);
/* ca_id 0: all CAs. */
int	admin_ra_list(struct admin_actor *, int64_t ca_id,
	    struct store_ra *out, size_t max, size_t *n);
int	admin_ra_get(struct admin_actor *, int64_t id, struct store_ra *);
/*
 * A new RA certificate under CA "ca_id": key "alg" (ca_key_generate
 * names), subject DN, usage (1..3), lifetime days; state RA_ACTIVE or
 * RA_NEXT (staged for rollover: GetNextCACert serves it).
 */
int	admin_ra_create(struct admin_actor *, int64_t ca_id, const char *alg,
	    const char *subject, int usage, int days, int state,
	    struct store_ra *out, struct admin_err *);
/* Rollover, step 1: stage a successor of active RA "id" (same subject,
 * usage and key type) as RA_NEXT.  SCEP_E_EXISTS if one is staged. */
int	admin_ra_stage(struct admin_actor *, int64_t id, int days,
	    struct store_ra *out, struct admin_err *);
/* Rollover, step 2: the staged successor of "id" becomes active, "id"
 * retired (still decrypting), endpoints move to the successor. */
int	admin_ra_switch(struct admin_actor *, int64_t id,
	    struct store_ra *out, struct admin_err *);
/* The certs-only PKCS#7 a client would get: RA then its CA.  *out take. */
int	admin_ra_p7(struct admin_actor *, int64_t id, uint8_t **out,
	    size_t *len);

/* Certificates (scope-filtered search; *cursor for paging). */
int	admin_cert_search(struct admin_actor *,
	    const struct store_cert_filter *, struct store_cert *out,
	    size_t max, size_t *n, int64_t *cursor);
int	admin_cert_get(struct admin_actor *, const char *serial,
	    struct store_cert *);
int	admin_cert_revoke(struct admin_actor *, const char *serial,
	    int reason, struct admin_err *);
/* Certificate followed by its CA, as certs-only PKCS#7.  *out take. */
int	admin_cert_p7(struct admin_actor *, const char *serial, uint8_t **out,
	    size_t *len);

/* Pending requests (manual approval, spec 14). */
int	admin_request_list(struct admin_actor *, struct store_request *out,
	    size_t max, size_t *n);
int	admin_request_get(struct admin_actor *, int64_t id,
	    struct store_request *);
int	admin_request_approve(struct admin_actor *, int64_t id,
	    char *serial_out, size_t serialsz);
int	admin_request_reject(struct admin_actor *, int64_t id,
	    const char *reason, struct admin_err *);

/* ---- audit (admin_audit.c) ---- */

int	admin_audit_search(struct admin_actor *,
	    const struct store_event_filter *, struct store_event *out,
	    size_t max, size_t *n);
/* MRAO only.  SCEP_OK with *bad_id 0, or SCEP_E_MALFORMED with *bad_id
 * the first altered record. */
int	admin_audit_verify(struct admin_actor *, int64_t *bad_id,
	    int64_t *count);

/* ---- names and JSON (admin_json.c) ---- */

const char	*admin_role_name(int role);	/* "MRAO" ...; NULL if bad */
int		 admin_role_parse(const char *);	/* 0 if bad */
const char	*admin_ep_type_name(int type);	/* "client" ... */
int		 admin_ep_type_parse(const char *);
const char	*admin_ra_state_name(int state);	/* "active" ... */
int		 admin_ra_state_parse(const char *);
const char	*admin_crl_reason_name(int reason);	/* RFC 5280 5.3.1 */
int		 admin_crl_reason_parse(const char *);	/* -1 if bad */
const char	*admin_req_status_name(int status);

/* Encoders (new references; NULL when out of memory).  No secret and no
 * hash ever appears in them. */
json_t	*admin_json_org(const struct store_org *);
json_t	*admin_json_dept(const struct store_dept *);
json_t	*admin_json_admin(const struct admin_info *);
json_t	*admin_json_token(const struct store_token *);
/* base_url (may be NULL) gives the endpoint's "url". */
json_t	*admin_json_endpoint(const struct admin_endpoint *,
	    const char *base_url);
json_t	*admin_json_account(const struct admin_account *);
json_t	*admin_json_otc(const struct store_otc *);
json_t	*admin_json_ca(const struct store_ca *);
/* With the details of the certificate (subject, issuer, serial,
 * validity, key usage, fingerprints). */
json_t	*admin_json_ra(const struct store_ra *);
json_t	*admin_json_cert(const struct store_cert *, int details);
json_t	*admin_json_request(const struct store_request *);
json_t	*admin_json_event(const struct store_event *);

/*
 * Decoders: apply the members of JSON object "in" to "obj" (which holds
 * the defaults or the current state).  Every member must be a known,
 * writable field of the right type and range: anything else is
 * SCEP_E_MALFORMED with err->field set.  "create" allows the fields that
 * are fixed after creation.
 */
int	admin_json_to_org(json_t *in, struct store_org *, struct admin_err *);
int	admin_json_to_dept(json_t *in, int create, struct store_dept *,
	    struct admin_err *);
int	admin_json_to_admin(json_t *in, int create, struct admin_info *,
	    struct admin_err *);
int	admin_json_to_endpoint(json_t *in, int create,
	    struct admin_endpoint *, struct admin_err *);
int	admin_json_to_account(json_t *in, int create, struct admin_account *,
	    struct admin_err *);
/*
 * An admin API request body as the API reads it: at most API_MAX_BODY
 * bytes, JSON without duplicate members, an object, nested at most
 * API_MAX_JSON_DEPTH deep.  SCEP_OK with *out a new reference;
 * SCEP_E_TOOBIG or SCEP_E_MALFORMED with err->msg for the client.
 */
int	admin_json_body(const uint8_t *body, size_t len, json_t **out,
	    struct admin_err *);

#endif /* !ADMIN_H */
