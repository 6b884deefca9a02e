/*
 * store_int.h -- what a store backend implements (STYLE H10).
 *
 * Not for callers of the store: they use store.h.  store.c checks every
 * argument (NULL pointers, string termination and lengths, blob sizes)
 * before it calls a backend, so a backend may rely on:
 *  - pointers that the public contract requires are non-NULL;
 *  - every char array of an input struct is NUL-terminated within its size;
 *  - blob pointers are non-NULL whenever their length is > 0, and lengths
 *    are at most STORE_BLOB_MAX;
 *  - output structs have been zeroed.
 *
 * A backend reports errors with the store's vocabulary only: SCEP_E_EXISTS
 * (a uniqueness constraint), SCEP_E_NOTFOUND (no such row, or a reference
 * to a row that does not exist), SCEP_E_BUSY (still locked after the busy
 * timeout), SCEP_E_NOMEM, SCEP_E_DENIED (store_cert_issue's enrollment
 * limit) and SCEP_E_STORE for everything else.
 *
 * Adding a backend: write store_<name>.c defining a const struct
 * store_ops, declare it below, add one row to the backends[] table in
 * store.c and the file to src/store/meson.build.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Largest DER blob (certificate, CSR, signer certificate) a row may hold:
 * the largest message we accept at all. */
#define STORE_BLOB_MAX		(256 * 1024)

/* One schema migration, embedded at build time by embed_sql.py from
 * src/store/migrations/NNNN_name.sql. */
struct store_migration {
	int64_t		 version;	/* 1, 2, 3 ... */
	const char	*name;		/* file name, for schema_migrations */
	const char	*sql;		/* the whole file */
};

extern const struct store_migration store_migrations[];
extern const size_t store_nmigrations;

/* One stored CSR, for the data migration of store_redact.c. */
struct store_csr_row {
	int64_t		 id;		/* requests.id */
	uint8_t		*der;		/* owned (malloc) */
	size_t		 len;
};

/*
 * The backend vtable.  "be" is the backend's own state, made by open()
 * and freed by close(); the other functions mirror store.h one to one
 * (see there for each contract).
 */
struct store_ops {
	const char	*name;		/* "sqlite", "postgresql" */

	/* "arg" is the DSN with the scheme removed when the backend table
	 * says so ("sqlite:/x.db" -> "/x.db").  *be is take. */
	int	(*open)(const char *arg, void **be);
	void	(*close)(void *be);			/* accepts NULL */
	int	(*schema_version)(void *be, int64_t *version);

	int	(*setting_get)(void *be, const char *key, char *val,
		    size_t valsz);
	int	(*setting_set)(void *be, const char *key, const char *val);

	int	(*ca_insert)(void *be, struct store_ca *);
	int	(*ca_get)(void *be, int64_t id, struct store_ca *);
	int	(*ra_insert)(void *be, struct store_ra *);
	int	(*ra_get)(void *be, int64_t id, struct store_ra *);
	int	(*ra_list)(void *be, int64_t ca_id, int state,
		    struct store_ra *out, size_t max, size_t *n);
	int	(*ra_set_state)(void *be, int64_t id, int state);

	int	(*endpoint_insert)(void *be, struct store_endpoint *);
	int	(*endpoint_update)(void *be, const struct store_endpoint *);
	int	(*endpoint_get)(void *be, int64_t id, struct store_endpoint *);
	int	(*endpoint_by_ext)(void *be, const char *uri_ext,
		    struct store_endpoint *);
	int	(*endpoint_delete)(void *be, int64_t id, int64_t now);
	int	(*config_version)(void *be, int64_t *version);

	int	(*account_insert)(void *be, struct store_account *);
	int	(*account_update)(void *be, const struct store_account *);
	int	(*account_get)(void *be, int64_t id, struct store_account *);
	int	(*account_by_challenge)(void *be,
		    const uint8_t hash[STORE_HASH_LEN], struct store_account *);

	int	(*request_insert)(void *be, struct store_request *);
	int	(*request_get)(void *be, int64_t id, struct store_request *);
	int	(*request_find)(void *be, int64_t endpoint_id,
		    const char *transid, struct store_request *);
	int	(*request_transition)(void *be, int64_t id, int from, int to,
		    const char *serial, const char *reason, int64_t now);
	int	(*request_list_pending)(void *be, struct store_request *out,
		    size_t max, size_t *n);

	int	(*cert_issue)(void *be, const struct store_cert *,
		    int64_t request_id, int from_status, int64_t now);
	int	(*enroll_commit)(void *be, struct store_request *,
		    const struct store_cert *, struct store_event *);
	int	(*cert_get)(void *be, const char *serial, struct store_cert *);
	int	(*cert_revoke)(void *be, const char *serial, int reason,
		    int64_t now);
	int	(*cert_revoked_each)(void *be, int64_t ca_id,
		    int (*fn)(void *arg, const char *serial,
		    int64_t revoked_at, int reason), void *arg);

	/* event_append and enroll_commit get store.c's private copy of the
	 * event, to fill in (id, prev_hash, hash) inside the transaction;
	 * store.c copies those back, and restores the request's id, when
	 * the write failed. */
	int	(*event_append)(void *be, struct store_event *);
	int	(*event_list)(void *be, int64_t after,
		    struct store_event *out, size_t max, size_t *n);
	int	(*event_verify)(void *be, int64_t *bad_id);

	/* The data migration of store_redact.c.  csr_batch: the rows with
	 * id > after whose csr_der is not NULL, in id order, at most max
	 * (out[0 .. *n - 1] filled, the caller frees their der even on an
	 * error).  csr_rewrite: set csr_der of n rows by id, in one write
	 * transaction, so that the old bytes do not linger in the database
	 * file (SQLite: secure_delete).  csr_scrub: after the last batch,
	 * whatever else still holds the old bytes (SQLite: the WAL file);
	 * SCEP_E_BUSY when it could not be done now. */
	int	(*csr_batch)(void *be, int64_t after, struct store_csr_row *out,
		    size_t max, size_t *n);
	int	(*csr_rewrite)(void *be, const struct store_csr_row *rows,
		    size_t n);
	int	(*csr_scrub)(void *be);

	int	(*token_insert)(void *be, const char *name,
		    const uint8_t hash[STORE_HASH_LEN], int64_t now);
	int	(*token_check)(void *be, const uint8_t hash[STORE_HASH_LEN],
		    char *name, size_t namesz);
};

/* What store.h's opaque struct store is: a backend and its state.  Here
 * rather than in store.c so that further files of the store (more
 * function families with their own vtables) can dispatch too. */
struct store {
	const struct store_ops	*ops;	/* borrowed: static backend table */
	void			*be;	/* owned: backend state */
};

/*
 * The administration functions of store.h (issue 3) have a vtable of their
 * own, so the enrollment vtable above stays as it is; store_admin.c finds
 * a backend's admin table by its main table (admin_backends[] there).
 * Same contracts as the public functions; store_admin.c checks the
 * arguments first, as store.c does.
 */
struct store_admin_ops {
	int	(*org_insert)(void *be, struct store_org *);
	int	(*org_update)(void *be, const struct store_org *);
	int	(*org_get)(void *be, int64_t id, struct store_org *);
	int	(*org_delete)(void *be, int64_t id);
	int	(*org_list)(void *be, struct store_org *out, size_t max,
		    size_t *n);
	int	(*dept_insert)(void *be, struct store_dept *);
	int	(*dept_update)(void *be, const struct store_dept *);
	int	(*dept_get)(void *be, int64_t id, struct store_dept *);
	int	(*dept_delete)(void *be, int64_t id);
	int	(*dept_list)(void *be, int64_t org_id, struct store_dept *out,
		    size_t max, size_t *n);
	int	(*admin_insert)(void *be, struct store_admin *,
		    const struct store_orgref *, size_t);
	int	(*admin_update)(void *be, const struct store_admin *,
		    const struct store_orgref *, size_t);
	int	(*admin_get)(void *be, int64_t id, struct store_admin *,
		    struct store_orgref *, size_t max, size_t *n);
	int	(*admin_by_name)(void *be, const char *,
		    struct store_admin *);
	int	(*admin_list)(void *be, struct store_admin *out, size_t max,
		    size_t *n);
	int	(*admin_delete)(void *be, int64_t id);
	int	(*token_add)(void *be, struct store_token *,
		    const uint8_t hash[STORE_HASH_LEN]);
	int	(*token_by_hash)(void *be, const uint8_t hash[STORE_HASH_LEN],
		    struct store_token *);
	int	(*token_get)(void *be, int64_t id, struct store_token *);
	int	(*token_list)(void *be, int64_t admin_id,
		    struct store_token *out, size_t max, size_t *n);
	int	(*token_revoke)(void *be, int64_t id, int64_t now);
	int	(*token_touch)(void *be, int64_t id, int64_t now);
	int	(*session_insert)(void *be, struct store_session *);
	int	(*session_get)(void *be, const uint8_t sid[STORE_HASH_LEN],
		    struct store_session *);
	int	(*session_delete)(void *be,
		    const uint8_t sid[STORE_HASH_LEN]);
	int	(*session_delete_admin)(void *be, int64_t admin_id);
	int	(*session_expire)(void *be, int64_t now);
	int	(*login_fail)(void *be, const char *key, int64_t now);
	int	(*login_failures)(void *be, const char *key, int64_t since,
		    int64_t *count);
	int	(*login_clear)(void *be, const char *key);
	int	(*endpoint_list)(void *be, int deleted,
		    struct store_endpoint *out, size_t max, size_t *n);
	int	(*endpoint_create)(void *be, struct store_endpoint *,
		    const struct store_orgref *, size_t);
	int	(*endpoint_save)(void *be, const struct store_endpoint *,
		    const struct store_orgref *, size_t);
	int	(*endpoint_targets)(void *be, int64_t id,
		    struct store_orgref *out, size_t max, size_t *n);
	int	(*account_list)(void *be, int64_t endpoint_id,
		    struct store_account *out, size_t max, size_t *n);
	int	(*account_create)(void *be, struct store_account *,
		    const struct store_account_rules *);
	int	(*account_save)(void *be, const struct store_account *,
		    const struct store_account_rules *);
	int	(*account_rules_get)(void *be, int64_t id,
		    struct store_account_rules *);
	int	(*otc_insert)(void *be, struct store_otc *,
		    const uint8_t hash[STORE_HASH_LEN]);
	int	(*otc_list)(void *be, int64_t account_id,
		    struct store_otc *out, size_t max, size_t *n);
	int	(*otc_find)(void *be, const uint8_t hash[STORE_HASH_LEN],
		    int64_t now, struct store_otc *);
	int	(*otc_consume)(void *be, int64_t id, int64_t now);
	int	(*ca_list)(void *be, struct store_ca *out, size_t max,
		    size_t *n);
	int	(*ra_switch)(void *be, int64_t old_id, int64_t next_id);
	int	(*cert_search)(void *be, const struct store_cert_filter *,
		    struct store_cert *out, size_t max, size_t *n,
		    int64_t *cursor);
	int	(*event_search)(void *be, const struct store_event_filter *,
		    struct store_event *out, size_t max, size_t *n);
	int	(*event_count)(void *be, int64_t *count);
};

/* Argument checks of store.c that store_admin.c shares. */
int	store_endpoint_valid(const struct store_endpoint *);
int	store_account_valid(const struct store_account *);

/* The backends.  The PostgreSQL ones exist when built with libpq
 * (STORE_HAVE_PG). */
extern const struct store_ops store_sqlite_ops;
extern const struct store_admin_ops store_sqlite_admin_ops;
extern const struct store_ops store_pg_ops;
extern const struct store_admin_ops store_pg_admin_ops;

/*
 * The audit chain, shared by every backend so that a trail moved from
 * SQLite to PostgreSQL still verifies.  Writes into "out" the SHA-256 of
 * prev_hash followed by the canonical serialization of "ev" (its id
 * included; its prev_hash and hash fields are ignored).  SCEP_OK, or
 * SCEP_E_INTERNAL when libcrypto fails.  The serialization is documented
 * at the definition in store.c.
 */
int	store_event_digest(const uint8_t prev_hash[STORE_HASH_LEN],
	    const struct store_event *ev, uint8_t out[STORE_HASH_LEN]);

/* SHA-256 of len bytes at p: SCEP_OK, or SCEP_E_INTERNAL when libcrypto
 * fails. */
int	store_sha256(const uint8_t *p, size_t len,
	    uint8_t out[STORE_HASH_LEN]);

/*
 * The statements of an enrollment's write, each run by a backend inside
 * its open transaction on its connection "c".  store_issue_in (what
 * store_cert_issue does) and store_enroll_in (store_enroll_commit) in
 * store.c put them in order and map their outcomes to the store's
 * errors, so that each backend keeps only its SQL.
 */
struct store_tx_ops {
	int	(*request_insert)(void *c, struct store_request *); /* ->id */
	/* The guarded status change: SCEP_E_NOTFOUND when the row is
	 * missing or no longer in "from". */
	int	(*request_move)(void *c, int64_t id, int from, int to,
		    const char *serial, const char *reason, int64_t now);
	int	(*request_has)(void *c, int64_t id);	/* OK or NOTFOUND */
	/* One more enrollment unless the account's limit is reached:
	 * *changed is 1, or 0 (limit, or no such account). */
	int	(*account_enroll)(void *c, int64_t id, int64_t *changed);
	int	(*account_has)(void *c, int64_t id);	/* OK or NOTFOUND */
	int	(*cert_insert)(void *c, const struct store_cert *,
		    int64_t request_id, int64_t now);
	int	(*event_append)(void *c, struct store_event *);
};
int	store_issue_in(const struct store_tx_ops *, void *c,
	    const struct store_cert *, int64_t request_id, int from_status,
	    int64_t now);
int	store_enroll_in(const struct store_tx_ops *, void *c,
	    struct store_request *, const struct store_cert *,
	    struct store_event *row);

/* The data migration that takes the challenge out of requests written
 * before CSRs were stored redacted (store_redact.c); store_open runs it
 * after the backend's schema migrations. */
int	store_redact_old_csrs(struct store *);

/* Backends call this wherever they bump config_version. */
void	store_config_touch(void);

#endif /* !STORE_INT_H */
