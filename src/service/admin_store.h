/*
 * admin_store.h -- the store functions the administration model needs
 * beyond the enrollment ones of store.h: organizations, departments,
 * administrators and their scopes, API tokens, console sessions, login
 * throttling, endpoint listing and delegation, account listing and
 * constraints, one-time challenges, CA/RA listing and the RA switch,
 * certificate and audit searches.
 *
 * Same contract as store.h: every function returns SCEP_OK or a negative
 * scep_err (SCEP_E_NOTFOUND, SCEP_E_EXISTS for uniqueness, SCEP_E_BUSY,
 * SCEP_E_STORE ...); output structs are zeroed on entry; strings are
 * fixed-size arrays; times are Unix seconds; an absent optional reference
 * is 0.  Each function that writes several rows does so in one
 * transaction: it either happens completely or not at all.
 *
 * Implemented by src/store/store_admin.c (argument checks) and
 * src/store/store_sqlite_admin.c (SQLite), through struct
 * store_admin_ops (store_int.h).
 */
#ifndef ADMIN_STORE_H
#define ADMIN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

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

#endif /* !ADMIN_STORE_H */
