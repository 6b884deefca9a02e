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
	int	(*cert_get)(void *be, const char *serial, struct store_cert *);
	int	(*cert_revoke)(void *be, const char *serial, int reason,
		    int64_t now);
	int	(*cert_revoked_each)(void *be, int64_t ca_id,
		    int (*fn)(void *arg, const char *serial,
		    int64_t revoked_at, int reason), void *arg);

	int	(*event_append)(void *be, struct store_event *);
	int	(*event_list)(void *be, int64_t after,
		    struct store_event *out, size_t max, size_t *n);
	int	(*event_verify)(void *be, int64_t *bad_id);

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

/* The backends.  store_pg_ops will join here. */
extern const struct store_ops store_sqlite_ops;

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

#endif /* !STORE_INT_H */
