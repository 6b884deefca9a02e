/*
 * store.h -- persistence behind one interface (STYLE H10).
 *
 * Callers see plain structs and these functions; the SQL lives in one file
 * per backend (store_sqlite.c now, store_pg.c later).  Every function is
 * safe to call from several threads at once: a backend keeps a small pool
 * of connections.  Every function returns SCEP_OK or a negative scep_err
 * (SCEP_E_NOTFOUND, SCEP_E_EXISTS for uniqueness, SCEP_E_STORE otherwise).
 * Beyond those three: SCEP_E_NOTFOUND also when a row refers to a row that
 * does not exist (an endpoint's ca_id, a request's endpoint_id ...);
 * SCEP_E_BUSY when the database stayed locked (by another process) past
 * the busy timeout: worth a retry later; SCEP_E_NOMEM; SCEP_E_INTERNAL for
 * a NULL or out-of-range argument (a caller bug); SCEP_E_TOOBIG for a
 * string not NUL-terminated within its array, or a blob over 256 KiB.
 *
 * Strings in the structs are fixed-size arrays so that a row is one flat
 * object: no ownership to track.  Byte blobs (DER) are owned by the struct
 * and freed by the matching _clear function.
 *
 * Times are Unix seconds (int64_t).  IDs are int64_t > 0; an optional
 * reference (ra_id, account_id, org_id ...) is 0 when absent.
 *
 * Output structs (the last argument of the _get, _find and _by_ functions)
 * are overwritten: they are zeroed on entry, so never pass one that still
 * owns blobs (call its _clear first).  On error they are left zeroed, so
 * calling _clear on them is always safe.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_NAME_MAX		128
#define STORE_TEXT_MAX		1024
#define STORE_SERIAL_MAX	64	/* upper-case hex, no leading zeros */
#define STORE_HASH_LEN		32	/* HMAC-SHA256 / SHA-256 */

enum endpoint_type {
	EP_CLIENT_SCEP		= 1,	/* "Client certificate SCEP" */
	EP_DEVICE_SCEP		= 2,	/* "Device certificate SCEP" */
	EP_CLIENT_INTUNE	= 3,	/* "Client certificate Intune SCEP" */
	EP_DEVICE_INTUNE	= 4,	/* "Device certificate Intune SCEP" */
};

/* A CA or RA identity: certificate in the store, key in a file (0600). */
struct store_ca {
	int64_t		 id;
	char		 name[STORE_NAME_MAX];
	char		 key_path[STORE_TEXT_MAX];	/* or PKCS#11 URI later */
	uint8_t		*cert_der;	/* owned */
	size_t		 cert_len;
	int64_t		 created_at;
};

enum ra_state { RA_ACTIVE = 1, RA_NEXT = 2, RA_RETIRED = 3 };

struct store_ra {
	int64_t		 id;
	int64_t		 ca_id;		/* issuing CA */
	int		 state;		/* enum ra_state */
	int		 usage;		/* 1 sign+encrypt, 2 sign, 3 encrypt */
	char		 key_path[STORE_TEXT_MAX];
	uint8_t		*cert_der;	/* owned */
	size_t		 cert_len;
	int64_t		 created_at;
};

/* Certificate profile of an endpoint (spec 12.1 rules). */
struct store_profile {
	int		 min_rsa_bits;		/* 2048 */
	int		 allow_ec;		/* P-256/P-384 */
	int		 term_days;		/* validity */
	int		 server_auth;		/* device: add serverAuth EKU */
	int		 renewal;		/* RenewalReq accepted */
	int		 renewal_window_days;	/* renew only this close to expiry;
						 * 0 = any time while valid */
	int		 copy_sans;		/* copy SANs from the CSR */
};

struct store_endpoint {
	int64_t		 id;
	char		 name[STORE_NAME_MAX];
	char		 uri_ext[STORE_NAME_MAX];	/* /scep/<uri_ext> */
	int		 type;			/* enum endpoint_type */
	int64_t		 ca_id;
	int64_t		 ra_id;			/* 0: CA-direct */
	struct store_profile profile;
	int		 getcacert_chain;	/* 1: PKCS#7 chain, 0: single */
	int		 getcert_chain;		/* 1: full chain in GetCert */
	int		 manual_approval;
	int		 legacy;		/* single DES / MD5 allowed */
	int		 enabled;
	int		 delegation_general;	/* 1 General, 0 Customized */
	int64_t		 org_id;		/* Intune types; else 0 */
	int64_t		 dept_id;
	int64_t		 created_at;
	int64_t		 deleted_at;		/* 0 = live */
};

struct store_account {
	int64_t		 id;
	int64_t		 endpoint_id;
	char		 name[STORE_NAME_MAX];
	int64_t		 org_id;
	int64_t		 dept_id;
	int		 enabled;
	int64_t		 expires_at;		/* 0 = never */
	int64_t		 max_enrollments;	/* 0 = unlimited */
	int64_t		 enrollments;
	uint8_t		 challenge_hash[STORE_HASH_LEN];	/* keyed hash */
	int64_t		 created_at;
};

enum req_status {
	REQ_PENDING	= 1,
	REQ_ISSUED	= 2,
	REQ_REJECTED	= 3,
	REQ_FAILED	= 4,
};

/* One enrollment transaction (spec 10, 14). */
struct store_request {
	int64_t		 id;
	int64_t		 endpoint_id;
	int64_t		 account_id;		/* 0 = none (renewal) */
	char		 transid[256];
	uint8_t		 key_fp[STORE_HASH_LEN];	/* SHA-256 of the SPKI */
	int		 msgtype;
	int		 status;		/* enum req_status */
	char		 serial[STORE_SERIAL_MAX];	/* when issued */
	char		 reason[STORE_TEXT_MAX];	/* when rejected */
	uint8_t		*csr_der;		/* owned */
	size_t		 csr_len;
	uint8_t		*signer_der;		/* owned: reply recipient */
	size_t		 signer_len;
	int64_t		 created_at;
	int64_t		 updated_at;
};

enum cert_status { CERT_VALID = 1, CERT_REVOKED = 2 };

struct store_cert {
	char		 serial[STORE_SERIAL_MAX];
	int64_t		 ca_id;
	int64_t		 endpoint_id;
	int64_t		 account_id;
	int64_t		 request_id;
	int64_t		 org_id;
	int64_t		 dept_id;
	char		 subject[STORE_TEXT_MAX];	/* RFC 2253 */
	uint8_t		 key_fp[STORE_HASH_LEN];
	int64_t		 not_before;
	int64_t		 not_after;
	int		 status;		/* enum cert_status */
	int64_t		 revoked_at;
	int		 revoke_reason;		/* CRLReason */
	uint8_t		*der;			/* owned */
	size_t		 der_len;
	int64_t		 created_at;
};

/* One enrollment outcome, for the audit trail (issue 3 chains them). */
struct store_event {
	int64_t		 id;
	int64_t		 ts;
	char		 kind[16];		/* "enroll", "admin" */
	char		 actor[STORE_NAME_MAX];	/* admin name or client addr */
	char		 action[64];		/* "PKCSReq", "endpoint.create" */
	int64_t		 endpoint_id;
	int64_t		 account_id;
	char		 transid[256];
	char		 client_addr[64];
	char		 result[16];		/* "SUCCESS" "FAILURE" "PENDING" */
	int		 failinfo;		/* -1 none */
	char		 reason[STORE_TEXT_MAX];
	char		 serial[STORE_SERIAL_MAX];
	char		 details[STORE_TEXT_MAX];	/* JSON, no secrets */
	/* Output only (set by store_event_append and store_event_list):
	 * the audit chain, hash = SHA-256(prev_hash || row), see
	 * store_event_digest() in store.c. */
	uint8_t		 prev_hash[STORE_HASH_LEN];
	uint8_t		 hash[STORE_HASH_LEN];
};

struct store;

/*
 * Open (creating and migrating if needed) the store at "dsn": a path to an
 * SQLite file, or "sqlite:PATH".  *out is take.  A new SQLite file is
 * created with mode 0600.  Migrations not yet recorded in the database are
 * applied in order, each in its own transaction; SCEP_E_CONFIG for an
 * unknown scheme, ":memory:", or a database migrated by a newer scepd.
 */
int	store_open(const char *dsn, struct store **out);
/* No call may be in flight on the store.  Accepts NULL. */
void	store_close(struct store *);
/* Highest migration applied to the database (1 for 0001_init.sql). */
int	store_schema_version(struct store *, int64_t *version);

void	store_ca_clear(struct store_ca *);
void	store_ra_clear(struct store_ra *);
void	store_request_clear(struct store_request *);
void	store_cert_clear(struct store_cert *);

/* Settings: small key/value pairs ("default_endpoint", "crl_number").
 * Keys are at most STORE_NAME_MAX - 1 bytes, values STORE_TEXT_MAX - 1.
 * store_setting_get: SCEP_E_TOOBIG if the value does not fit in valsz.
 * store_setting_set: SCEP_E_DENIED for "config_version", which only the
 * store itself moves. */
int	store_setting_get(struct store *, const char *key, char *val,
	    size_t valsz);
int	store_setting_set(struct store *, const char *key, const char *val);

int	store_ca_insert(struct store *, struct store_ca *);	/* sets id */
int	store_ca_get(struct store *, int64_t id, struct store_ca *);
int	store_ra_insert(struct store *, struct store_ra *);	/* sets id */
int	store_ra_get(struct store *, int64_t id, struct store_ra *);
/* RAs of a CA in a given state (0: any state), oldest first, up to max;
 * *n set to the count.  The caller clears each of the *n entries. */
int	store_ra_list(struct store *, int64_t ca_id, int state,
	    struct store_ra *out, size_t max, size_t *n);
int	store_ra_set_state(struct store *, int64_t id, int state);

int	store_endpoint_insert(struct store *, struct store_endpoint *);
int	store_endpoint_update(struct store *, const struct store_endpoint *);
int	store_endpoint_get(struct store *, int64_t id, struct store_endpoint *);
/* Live (not deleted) endpoint by URI extension. */
int	store_endpoint_by_ext(struct store *, const char *uri_ext,
	    struct store_endpoint *);
int	store_endpoint_delete(struct store *, int64_t id, int64_t now);
/* store_endpoint_update and _delete: SCEP_E_NOTFOUND for a deleted
 * endpoint.  store_endpoint_get also returns deleted endpoints. */
/* Monotonic counter bumped by every CA, RA, endpoint and account change
 * (insert, update, delete, RA state), in the same transaction, so a cache
 * can tell cheaply that it is stale.  Issuing a certificate (the
 * account's enrollment count) does not bump it: that is not
 * configuration. */
int	store_config_version(struct store *, int64_t *version);
/* A process-wide counter moved by every configuration change made through
 * any store of this process (before its commit).  Reading it costs no
 * query: a cache checks it on every hit and store_config_version() only
 * now and then, to see changes made by other processes or nodes. */
uint64_t	store_config_local_gen(void);

/* An all-zero challenge_hash means "no challenge set": it is stored as
 * NULL, never collides and is never found by store_account_by_challenge.
 * store_account_update writes every field except id, created_at and
 * enrollments (which only store_cert_issue moves). */
int	store_account_insert(struct store *, struct store_account *);
int	store_account_update(struct store *, const struct store_account *);
int	store_account_get(struct store *, int64_t id, struct store_account *);
int	store_account_by_challenge(struct store *,
	    const uint8_t hash[STORE_HASH_LEN], struct store_account *);

/* Requests.  store_request_find: the latest request of (endpoint, transid).
 * store_request_insert: SCEP_E_EXISTS when a live (REQ_PENDING or
 * REQ_ISSUED) request with the same endpoint, transid, key_fp and signer
 * certificate exists (both backends: requests_live); a rejected one does
 * not count.  store_request_transition: a NULL serial or reason leaves
 * that column as it was. */
int	store_request_insert(struct store *, struct store_request *);
int	store_request_get(struct store *, int64_t id, struct store_request *);
int	store_request_find(struct store *, int64_t endpoint_id,
	    const char *transid, struct store_request *);
/* Change status (and serial or reason) only if the current status is
 * "from": returns SCEP_E_NOTFOUND when another caller got there first. */
int	store_request_transition(struct store *, int64_t id, int from,
	    int to, const char *serial, const char *reason, int64_t now);
/* Pending requests, newest first, up to max.  The caller clears each. */
int	store_request_list_pending(struct store *, struct store_request *out,
	    size_t max, size_t *n);

/*
 * Record an issued certificate, durably, together with the request's
 * transition to REQ_ISSUED and the account's enrollment count, in one
 * transaction.  SCEP_E_EXISTS when the serial is taken (the caller draws a
 * new one) or the request is no longer in state "from"; SCEP_E_NOTFOUND
 * when the request or the account does not exist; SCEP_E_DENIED when the
 * account (cert->account_id > 0) has reached max_enrollments.  On any
 * error nothing is written.  request_id 0 records a certificate that
 * belongs to no request (an RA certificate, say).  The serial must be
 * upper-case hex without leading zeros (SCEP_E_MALFORMED otherwise).
 * When this returns SCEP_OK the row has been synced to stable storage.
 */
int	store_cert_issue(struct store *, const struct store_cert *,
	    int64_t request_id, int from_status, int64_t now);
/*
 * A whole enrollment in one transaction (issue 7): insert the request
 * (status REQ_PENDING; sets req->id), then, when cert is not NULL, what
 * store_cert_issue does for it (cert->request_id is ignored), then, when
 * ev is not NULL, append ev as store_event_append does.  Concurrent calls
 * share a commit (group commit); SCEP_OK means the whole is on stable
 * storage.  SCEP_E_EXISTS when the transactionID is already recorded (a
 * concurrent copy of the request won) or the serial is taken (tell them
 * apart with store_request_find); SCEP_E_DENIED as store_cert_issue.  On
 * any error nothing is written.
 */
int	store_enroll_commit(struct store *, struct store_request *req,
	    const struct store_cert *cert, struct store_event *ev);
int	store_cert_get(struct store *, const char *serial, struct store_cert *);
/* SCEP_E_EXISTS when already revoked. */
int	store_cert_revoke(struct store *, const char *serial, int reason,
	    int64_t now);
/* Revoked certificates of a CA, for the CRL: callback per entry, ordered
 * by revocation time.  A non-zero return from fn stops the walk and is
 * returned.  fn runs while a pooled connection is held: it should not call
 * back into the store. */
int	store_cert_revoked_each(struct store *, int64_t ca_id,
	    int (*fn)(void *arg, const char *serial, int64_t revoked_at,
	    int reason), void *arg);

/* Append atomically; sets id, prev_hash and hash (the chain is computed
 * inside the write transaction). */
int	store_event_append(struct store *, struct store_event *);
/* Events, oldest first, after id "after"; up to max. */
int	store_event_list(struct store *, int64_t after,
	    struct store_event *out, size_t max, size_t *n);
/* Walk the whole chain: SCEP_OK, or SCEP_E_MALFORMED with *bad_id set to
 * the first row whose hash or link to its predecessor does not match (an
 * altered, inserted or deleted row).  Removing the newest rows cannot be
 * seen from inside the chain: anchor the last hash elsewhere for that. */
int	store_event_verify(struct store *, int64_t *bad_id);

/* Admin API tokens (stored as SHA-256 of the token).  store_token_check:
 * SCEP_E_NOTFOUND for an unknown hash, SCEP_E_TOOBIG if the name does not
 * fit in namesz. */
int	store_token_insert(struct store *, const char *name,
	    const uint8_t hash[STORE_HASH_LEN], int64_t now);
int	store_token_check(struct store *, const uint8_t hash[STORE_HASH_LEN],
	    char *name, size_t namesz);

/*
 * ---- Administration (issue 3) ----
 *
 * Organizations, departments, administrators and their scopes, API tokens,
 * console sessions, login throttling, endpoint listing and delegation,
 * account listing and constraints, one-time challenges, CA listing and
 * the RA switch, certificate and audit searches.  Same conventions as
 * above; every function that writes several rows does so in one
 * transaction.
 */

#define STORE_PWHASH_MAX	128	/* crypto_pwhash_STRBYTES */
#define STORE_ADDR_MAX		64

struct store_org {
	int64_t		 id;
	char		 name[STORE_NAME_MAX];
	int64_t		 created_at;
};

struct store_dept {
	int64_t		 id;
	int64_t		 org_id;
	char		 name[STORE_NAME_MAX];
	int64_t		 created_at;
};

/*
 * A reference to an organization (dept_id 0: the whole organization) or to
 * one of its departments.  Used for administrator scopes and for
 * "Customized" endpoint delegation.
 */
struct store_orgref {
	int64_t		 org_id;
	int64_t		 dept_id;
};

/* Roles, as stored (administrators.role is TEXT: "MRAO" "RAO" "DRAO"). */
enum store_admin_role {
	STORE_ROLE_MRAO	= 1,	/* everything */
	STORE_ROLE_RAO	= 2,	/* chosen organizations */
	STORE_ROLE_DRAO	= 3,	/* chosen departments */
};

/* Certificate types an RAO/DRAO may manage (bit set). */
#define STORE_CT_CLIENT		0x1
#define STORE_CT_DEVICE		0x2
#define STORE_CT_ALL		(STORE_CT_CLIENT | STORE_CT_DEVICE)

struct store_admin {
	int64_t		 id;
	char		 name[STORE_NAME_MAX];
	int		 role;			/* enum store_admin_role */
	int		 cert_types;		/* STORE_CT_* */
	char		 password_hash[STORE_PWHASH_MAX];	/* argon2id
						 * string; "" = no password */
	int		 disabled;
	int64_t		 created_at;
};

/* An API token; the token itself is never stored, only its SHA-256. */
struct store_token {
	int64_t		 id;
	int64_t		 admin_id;
	char		 name[STORE_NAME_MAX];
	int64_t		 created_at;
	int64_t		 expires_at;		/* 0 = never */
	int64_t		 revoked_at;		/* 0 = live */
	int64_t		 last_used_at;
};

/* A console session: the cookie value and the CSRF token are stored as
 * SHA-256 only. */
struct store_session {
	int64_t		 id;
	int64_t		 admin_id;
	uint8_t		 sid_hash[STORE_HASH_LEN];
	uint8_t		 csrf_hash[STORE_HASH_LEN];
	char		 client_addr[STORE_ADDR_MAX];
	int64_t		 created_at;
	int64_t		 expires_at;
};

/* Subject/SAN constraints of an account (fnmatch(3) patterns, "" = any). */
struct store_account_rules {
	int64_t		 account_id;
	char		 cn_pattern[STORE_NAME_MAX];
	char		 san_pattern[STORE_NAME_MAX];
};

/* A one-time challenge of an account (the secret is stored as the keyed
 * hash of svc_challenge_hash() only). */
struct store_otc {
	int64_t		 id;
	int64_t		 account_id;
	int64_t		 created_at;
	int64_t		 expires_at;
	int64_t		 used_at;		/* 0 = unused */
};

/* Certificate search; zero/empty fields do not filter.  Results are
 * ordered by row (issue order), after the row "after" (paging). */
struct store_cert_filter {
	int64_t		 after;			/* row cursor, 0 = start */
	int64_t		 endpoint_id;
	int64_t		 account_id;
	int64_t		 org_id;
	int64_t		 dept_id;
	char		 subject[STORE_NAME_MAX];	/* substring */
	char		 serial[STORE_SERIAL_MAX];	/* exact */
	int		 status;		/* enum cert_status, 0 = any */
	int64_t		 expires_after;		/* not_after >= this */
	int64_t		 expires_before;	/* not_after < this */
	int		 with_der;		/* also load the DER */
};

/* Audit search; zero/empty fields do not filter.  Oldest first, after id
 * "after". */
struct store_event_filter {
	int64_t		 after;
	int64_t		 since;			/* ts >= since */
	int64_t		 until;			/* ts < until */
	int64_t		 endpoint_id;
	int64_t		 account_id;
	char		 kind[16];
	char		 actor[STORE_NAME_MAX];
	char		 action[64];		/* exact, or prefix when it
						 * ends with '.' */
	char		 result[16];
};

/* Organizations.  store_org_delete: SCEP_E_EXISTS while departments,
 * accounts, administrator scopes or delegations refer to it. */
int	store_org_insert(struct store *, struct store_org *);	/* sets id */
int	store_org_update(struct store *, const struct store_org *);
int	store_org_get(struct store *, int64_t id, struct store_org *);
int	store_org_delete(struct store *, int64_t id);
int	store_org_list(struct store *, struct store_org *out, size_t max,
	    size_t *n);

/* Departments; store_dept_list with org_id 0 lists all.  Delete as for
 * organizations. */
int	store_dept_insert(struct store *, struct store_dept *);
int	store_dept_update(struct store *, const struct store_dept *);
int	store_dept_get(struct store *, int64_t id, struct store_dept *);
int	store_dept_delete(struct store *, int64_t id);
int	store_dept_list(struct store *, int64_t org_id, struct store_dept *out,
	    size_t max, size_t *n);

/* Administrators with their scopes, written together.  _update replaces
 * the scopes; _delete also removes the tokens and sessions. */
int	store_admin_insert(struct store *, struct store_admin *,
	    const struct store_orgref *scopes, size_t nscopes);
int	store_admin_update(struct store *, const struct store_admin *,
	    const struct store_orgref *scopes, size_t nscopes);
int	store_admin_get(struct store *, int64_t id, struct store_admin *,
	    struct store_orgref *scopes, size_t maxscopes, size_t *nscopes);
int	store_admin_by_name(struct store *, const char *name,
	    struct store_admin *);
int	store_admin_list(struct store *, struct store_admin *out, size_t max,
	    size_t *n);
int	store_admin_delete(struct store *, int64_t id);

/* API tokens of administrators. */
int	store_token_add(struct store *, struct store_token *,
	    const uint8_t hash[STORE_HASH_LEN]);		/* sets id */
int	store_token_by_hash(struct store *, const uint8_t hash[STORE_HASH_LEN],
	    struct store_token *);
int	store_token_get(struct store *, int64_t id, struct store_token *);
int	store_token_list(struct store *, int64_t admin_id,
	    struct store_token *out, size_t max, size_t *n);
/* SCEP_E_NOTFOUND if unknown or already revoked. */
int	store_token_revoke(struct store *, int64_t id, int64_t now);
int	store_token_touch(struct store *, int64_t id, int64_t now);

/* Console sessions.  store_session_delete_admin ends all sessions of an
 * administrator (password change, disable). */
int	store_session_insert(struct store *, struct store_session *);
int	store_session_get(struct store *, const uint8_t sid[STORE_HASH_LEN],
	    struct store_session *);
int	store_session_delete(struct store *, const uint8_t sid[STORE_HASH_LEN]);
int	store_session_delete_admin(struct store *, int64_t admin_id);
int	store_session_expire(struct store *, int64_t now);

/* Login throttling: failures per key ("name:x", "addr:y"). */
int	store_login_fail(struct store *, const char *key, int64_t now);
int	store_login_failures(struct store *, const char *key, int64_t since,
	    int64_t *count);
int	store_login_clear(struct store *, const char *key);

/* Endpoints.  store_endpoint_list: live ones (deleted 0) or deleted ones
 * (deleted 1), by id.  store_endpoint_create inserts the endpoint and its
 * delegation targets together (sets id).  store_endpoint_save updates the
 * endpoint and replaces its delegation targets together. */
int	store_endpoint_list(struct store *, int deleted,
	    struct store_endpoint *out, size_t max, size_t *n);
int	store_endpoint_create(struct store *, struct store_endpoint *,
	    const struct store_orgref *targets, size_t ntargets);
int	store_endpoint_save(struct store *, const struct store_endpoint *,
	    const struct store_orgref *targets, size_t ntargets);
int	store_endpoint_targets(struct store *, int64_t endpoint_id,
	    struct store_orgref *out, size_t max, size_t *n);

/* Accounts of an endpoint (0: all), by id. */
int	store_account_list(struct store *, int64_t endpoint_id,
	    struct store_account *out, size_t max, size_t *n);
/* An account and its rules, inserted or updated together. */
int	store_account_create(struct store *, struct store_account *,
	    const struct store_account_rules *);
int	store_account_save(struct store *, const struct store_account *,
	    const struct store_account_rules *);
/* No rules row: SCEP_OK with empty patterns. */
int	store_account_rules_get(struct store *, int64_t account_id,
	    struct store_account_rules *);

/* One-time challenges.  store_otc_consume marks the live (unused,
 * unexpired) challenge with this hash used, atomically, and returns it:
 * SCEP_E_NOTFOUND when there is none, so a second use fails. */
int	store_otc_insert(struct store *, struct store_otc *,
	    const uint8_t hash[STORE_HASH_LEN]);
int	store_otc_list(struct store *, int64_t account_id,
	    struct store_otc *out, size_t max, size_t *n);
int	store_otc_find(struct store *, const uint8_t hash[STORE_HASH_LEN],
	    int64_t now, struct store_otc *);
int	store_otc_consume(struct store *, int64_t id, int64_t now);

/* CAs, by id.  The caller clears each. */
int	store_ca_list(struct store *, struct store_ca *out, size_t max,
	    size_t *n);
/*
 * RA rollover, one transaction: RA "next_id" (state RA_NEXT) becomes
 * RA_ACTIVE, RA "old_id" becomes RA_RETIRED (it keeps decrypting), and
 * every endpoint that used old_id uses next_id.  SCEP_E_NOTFOUND when the
 * states are not as expected.
 */
int	store_ra_switch(struct store *, int64_t old_id, int64_t next_id);

/* Certificate search (see struct store_cert_filter); *cursor is set to
 * the row of the last entry returned.  The caller clears each. */
int	store_cert_search(struct store *, const struct store_cert_filter *,
	    struct store_cert *out, size_t max, size_t *n, int64_t *cursor);

/* Audit search (see struct store_event_filter). */
int	store_event_search(struct store *, const struct store_event_filter *,
	    struct store_event *out, size_t max, size_t *n);
/* Number of events (for the verify report). */
int	store_event_count(struct store *, int64_t *count);

#endif /* !STORE_H */
