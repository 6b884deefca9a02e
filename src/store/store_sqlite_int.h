/*
 * store_sqlite_int.h -- what the SQLite backend's files share: the
 * connection pool, write transactions, parameter binding and row reading
 * of store_sqlite.c, for the further function families in their own files
 * (store_sqlite_admin.c).  Not for callers of the store.
 *
 * Rules that hold in every file of the backend: constant SQL only (no SQL
 * is ever assembled at run time), every write inside sq_tx_begin/sq_tx_end, and
 * errors in the store's vocabulary (sq_err).
 */
#ifndef STORE_SQLITE_INT_H
#define STORE_SQLITE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

/* Column lists shared by the statements that read a row and the row
 * readers, which read the columns in exactly this order. */
#define RA_COLS	"id, ca_id, state, usage, key_path, cert_der, created_at"
#define EP_COLS	"id, name, uri_ext, type, ca_id, ra_id, min_rsa_bits, " \
	"allow_ec, term_days, server_auth, renewal, renewal_window_days, " \
	"copy_sans, getcacert_chain, getcert_chain, manual_approval, legacy, " \
	"enabled, delegation_general, org_id, dept_id, created_at, deleted_at"
#define ACC_COLS "id, endpoint_id, name, org_id, dept_id, enabled, " \
	"expires_at, max_enrollments, enrollments, challenge_hash, created_at"
#define REQ_COLS "id, endpoint_id, account_id, transid, key_fp, msgtype, " \
	"status, serial, reason, csr_der, signer_der, created_at, updated_at"
#define CERT_COLS "serial, ca_id, endpoint_id, account_id, request_id, " \
	"org_id, dept_id, subject, key_fp, not_before, not_after, status, " \
	"revoked_at, revoke_reason, der, created_at"
#define EV_COLS	"id, ts, kind, actor, action, endpoint_id, account_id, " \
	"transid, client_addr, result, failinfo, reason, serial, details, " \
	"prev_hash, hash"

struct sq;		/* the backend state behind struct store */
struct sq_conn;		/* one pooled connection */

/* Binding: parameters are bound in order; the first failure sticks. */
struct bind {
	sqlite3_stmt	*st;	/* borrowed */
	int		 i;	/* last bound index */
	int		 rc;	/* first SQLite error, or SQLITE_OK */
};

/* Reading a row: columns in order; the first failure sticks.  A value
 * that does not fit its field is SCEP_E_STORE, never truncated. */
struct col {
	sqlite3_stmt	*st;	/* borrowed */
	int		 i;	/* next column */
	int		 r;	/* first error, or SCEP_OK */
};

int	sq_err(int rc);
int	sq_conn_get(struct sq *, struct sq_conn **out);
void	sq_conn_put(struct sq *, struct sq_conn *);	/* accepts NULL */
sqlite3	*sq_conn_db(struct sq_conn *);
int	sq_tx_begin(struct sq *, struct sq_conn *);
int	sq_tx_end(struct sq *, struct sq_conn *, int r);
/* A write run inside a group-committed transaction (sq_write): it uses
 * only the connection it is given and never BEGINs or COMMITs. */
typedef int (*sq_job_fn)(struct sq_conn *, void *arg);
int	sq_write(struct sq *, sq_job_fn, void *arg);
int	sq_step_done(sqlite3_stmt *);
int	sq_step_row(sqlite3_stmt *);
int	sq_exec_changes(struct sq_conn *, sqlite3_stmt *, const struct bind *,
	    int64_t *changes);
int	sq_config_bump(struct sq_conn *);

void	sq_b_i64(struct bind *, int64_t);
void	sq_b_ref(struct bind *, int64_t);		/* 0 binds NULL */
void	sq_b_text(struct bind *, const char *);
void	sq_b_blob(struct bind *, const void *, size_t);
void	sq_b_hash_opt(struct bind *, const uint8_t h[STORE_HASH_LEN]);
int	sq_b_end(const struct bind *);

int64_t	sq_c_i64(struct col *);
int	sq_c_int(struct col *);
void	sq_c_text(struct col *, char *buf, size_t sz);
void	sq_c_blob_dup(struct col *, uint8_t **out, size_t *outlen);
void	sq_c_hash(struct col *, uint8_t h[STORE_HASH_LEN]);

/* Rows in the *_COLS order. */
int	sq_ra_row(sqlite3_stmt *, struct store_ra *);
int	sq_endpoint_row(sqlite3_stmt *, struct store_endpoint *);
int	sq_account_row(sqlite3_stmt *, struct store_account *);
int	sq_cert_row(sqlite3_stmt *, struct store_cert *);
int	sq_event_row(sqlite3_stmt *, struct store_event *);

/* Writes of store_sqlite.c, for use inside a caller's transaction (they
 * bump the configuration version as their public counterparts do). */
int	sq_endpoint_insert_in(struct sq_conn *, struct store_endpoint *);
int	sq_endpoint_update_in(struct sq_conn *, const struct store_endpoint *);
int	sq_account_insert_in(struct sq_conn *, struct store_account *);
int	sq_account_update_in(struct sq_conn *, const struct store_account *);

#endif /* !STORE_SQLITE_INT_H */
