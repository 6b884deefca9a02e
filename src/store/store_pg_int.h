/*
 * store_pg_int.h -- what the PostgreSQL backend's files share: the
 * connection pool, statement execution, transactions, parameter binding
 * and row reading of store_pg.c, for the further function families in
 * their own files (store_pg_admin.c, store_pg_copy.c).  Not for callers
 * of the store.
 *
 * Rules that hold in every file of the backend:
 *  - constant SQL only: every statement is a constant string with $n
 *    parameters, prepared once per connection (PQsendPrepare) on first
 *    use and run with PQsendQueryPrepared; no SQL is assembled at run time
 *    and no value is ever spliced into SQL text;
 *  - every write of several statements is inside pg_tx_begin/pg_tx_end
 *    (one transaction, all or nothing; a single statement runs in
 *    autocommit, which is a transaction of its own), and every statement
 *    has a client-side deadline, so a call never hangs on a dead or
 *    frozen server;
 *  - errors in the store's vocabulary only (store_int.h).
 *
 * Statements are identified by a slot number, unique across the backend's
 * files (the slot names the prepared statement on the connection):
 * store_pg.c uses 0 .. PG_SLOT_ADMIN - 1, store_pg_admin.c
 * PG_SLOT_ADMIN .. PG_SLOT_COPY - 1, store_pg_copy.c PG_SLOT_COPY ..
 * PG_SLOT_AZURE - 1, store_pg_azure.c PG_SLOT_AZURE .. PG_SLOTS - 1.
 */
#ifndef STORE_PG_INT_H
#define STORE_PG_INT_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store.h"

#define PG_SLOT_ADMIN	96
#define PG_SLOT_COPY	224
#define PG_SLOT_AZURE	320	/* store_pg_azure.c (issue 5) */
#define PG_SLOTS	352

/* Most parameters any statement takes (events: 16; endpoints: 23). */
#define PG_MAXPARAMS	32

struct pg;		/* the backend state behind struct store */
struct pg_conn;		/* one pooled connection */

/* A statement: its slot and its constant SQL. */
struct pg_stmt {
	int		 slot;
	const char	*sql;
};

/*
 * Parameters, bound in order.  Integers and text go in text format (the
 * server infers each parameter's type from the statement), byte strings
 * in binary format.  The first failure sticks (too many parameters).
 * Values are borrowed: they must stay alive until the statement ran.
 */
struct pg_params {
	int		 n;
	int		 r;			/* SCEP_OK or the first error */
	const char	*val[PG_MAXPARAMS];
	int		 len[PG_MAXPARAMS];
	int		 fmt[PG_MAXPARAMS];
	char		 num[PG_MAXPARAMS][24];	/* integers as text */
};

/*
 * Reading a row of a binary-format result: columns in order; the first
 * failure sticks.  A value that does not fit its field is SCEP_E_STORE,
 * never truncated.
 */
struct pg_col {
	const PGresult	*res;	/* borrowed */
	int		 row;
	int		 i;	/* next column */
	int		 r;	/* first error, or SCEP_OK */
};

/* Pool and statements (store_pg.c). */
int	pg_conn_get(struct pg *, struct pg_conn **out);
void	pg_conn_put(struct pg *, struct pg_conn *);	/* accepts NULL */
/*
 * Run statement "st" with "p" (NULL: no parameters).  On SCEP_OK *res is
 * the result (PGRES_TUPLES_OK or PGRES_COMMAND_OK), owned by the caller
 * (PQclear); on error *res is NULL and the error is mapped to the store's
 * vocabulary: SCEP_E_EXISTS (unique violation), SCEP_E_NOTFOUND (foreign
 * key), SCEP_E_BUSY (connection lost, timeout, serialization failure,
 * lock not available), SCEP_E_STORE otherwise.
 */
int	pg_exec(struct pg_conn *, const struct pg_stmt *,
	    const struct pg_params *p, PGresult **res);
/* Run a statement that returns no rows (or whose rows do not matter);
 * *changes (may be NULL) gets the number of rows it changed. */
int	pg_exec_cmd(struct pg_conn *, const struct pg_stmt *,
	    const struct pg_params *p, int64_t *changes);
/* Run a statement expected to return at most one row: SCEP_OK with
 * *res holding it, SCEP_E_NOTFOUND (and *res NULL) when there is none. */
int	pg_exec_row(struct pg_conn *, const struct pg_stmt *,
	    const struct pg_params *p, PGresult **res);
/* Write transaction: BEGIN (read committed).  pg_tx_end: COMMIT if r is
 * SCEP_OK, else ROLLBACK; returns the outcome. */
int	pg_tx_begin(struct pg_conn *);
int	pg_tx_end(struct pg_conn *, int r);
/* A read-only snapshot (repeatable read) for walks over many pages. */
int	pg_snapshot_begin(struct pg_conn *);
/* Bump settings.config_version inside the current transaction. */
int	pg_config_bump(struct pg_conn *);
/* Run a constant multi-statement script from the build (migrations)
 * inside the current transaction, with no statement timeout. */
int	pg_exec_script(struct pg_conn *, const char *sql);

void	pg_params_init(struct pg_params *);
void	p_i64(struct pg_params *, int64_t);
void	p_ref(struct pg_params *, int64_t);	/* 0 binds NULL */
void	p_text(struct pg_params *, const char *);	/* NULL binds NULL */
void	p_blob(struct pg_params *, const void *, size_t);	/* never NULL */
void	p_blob_opt(struct pg_params *, const void *, size_t); /* 0: NULL */
void	p_hash_opt(struct pg_params *, const uint8_t h[STORE_HASH_LEN]);

void	pg_col_init(struct pg_col *, const PGresult *, int row);
int64_t	c_i64(struct pg_col *);			/* NULL reads 0 */
int	c_int(struct pg_col *);
void	c_text(struct pg_col *, char *buf, size_t sz);	/* NULL reads "" */
void	c_blob_dup(struct pg_col *, uint8_t **out, size_t *outlen);
void	c_hash(struct pg_col *, uint8_t h[STORE_HASH_LEN]);

/* Writes of store_pg.c, for use inside a caller's transaction (they bump
 * the configuration version as their public counterparts do). */
int	pg_endpoint_insert_in(struct pg_conn *, struct store_endpoint *);
int	pg_endpoint_update_in(struct pg_conn *, const struct store_endpoint *);
int	pg_account_insert_in(struct pg_conn *, struct store_account *);
int	pg_account_update_in(struct pg_conn *, const struct store_account *);

/* Verify the audit chain inside the caller's transaction (see
 * pg_event_verify); *count rows, last[] the newest hash. */
int	pg_chain_verify_in(struct pg_conn *, int64_t *bad_id, int64_t *count,
	    uint8_t last[STORE_HASH_LEN]);

/* Rows in the column orders of store_pg.c's *_COLS. */
int	pg_ra_row(const PGresult *, int row, struct store_ra *);
int	pg_ca_row(const PGresult *, int row, struct store_ca *);
int	pg_endpoint_row(const PGresult *, int row, struct store_endpoint *);
int	pg_account_row(const PGresult *, int row, struct store_account *);
int	pg_cert_row(const PGresult *, int row, struct store_cert *);
int	pg_event_row(const PGresult *, int row, struct store_event *);

/* Column lists shared by the statements that read a row and the row
 * readers, which read the columns in exactly this order. */
#define PG_CA_COLS "id, name, key_path, cert_der, created_at"
#define PG_RA_COLS "id, ca_id, state, usage, key_path, cert_der, created_at"
#define PG_EP_COLS "id, name, uri_ext, type, ca_id, ra_id, min_rsa_bits, " \
	"allow_ec, term_days, server_auth, renewal, renewal_window_days, " \
	"copy_sans, getcacert_chain, getcert_chain, manual_approval, legacy, " \
	"enabled, delegation_general, org_id, dept_id, created_at, deleted_at"
#define PG_ACC_COLS "id, endpoint_id, name, org_id, dept_id, enabled, " \
	"expires_at, max_enrollments, enrollments, challenge_hash, created_at"
#define PG_REQ_COLS "id, endpoint_id, account_id, transid, key_fp, msgtype, " \
	"status, serial, reason, csr_der, signer_der, created_at, updated_at"
#define PG_CERT_COLS "serial, ca_id, endpoint_id, account_id, request_id, " \
	"org_id, dept_id, subject, key_fp, not_before, not_after, status, " \
	"revoked_at, revoke_reason, der, created_at"
#define PG_EV_COLS "id, ts, kind, actor, action, endpoint_id, account_id, " \
	"transid, client_addr, result, failinfo, reason, serial, details, " \
	"prev_hash, hash"

/* Advisory lock keys (pg_advisory_xact_lock), fixed for all versions:
 * "scep" in ASCII, then a number.  Any other user of the database must
 * not take these. */
#define PG_LOCK_MIGRATE		"7598163568001"
#define PG_LOCK_CHAIN		"7598163568002"

#endif /* !STORE_PG_INT_H */
