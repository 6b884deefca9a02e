/*
 * store_pg.h -- what the PostgreSQL backend offers beyond struct
 * store_ops: moving a deployment from SQLite to PostgreSQL (`scepd
 * migrate`, issue 6).
 */
#ifndef STORE_PG_H
#define STORE_PG_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Tables copied, in dependency order; room for every table of the
 * schema. */
#define STORE_COPY_MAX_TABLES	32

struct store_copy_table {
	const char	*name;		/* borrowed: static */
	int64_t		 rows_from;	/* in the SQLite store */
	int64_t		 rows_to;	/* in PostgreSQL after the copy */
};

struct store_copy_report {
	int64_t			 schema_version;	/* of both stores */
	size_t			 ntables;
	struct store_copy_table	 tables[STORE_COPY_MAX_TABLES];
	int64_t			 events;	/* audit rows */
	uint8_t			 last_hash[STORE_HASH_LEN];	/* chain head */
	int64_t			 bad_event;	/* verify failure, else 0 */
	char			 error[256];	/* what went wrong, in words */
};

/*
 * Copy every row of the SQLite store at "sqlite_path" into the PostgreSQL
 * store at "pg_dsn", keeping every id, hash and byte, in one PostgreSQL
 * transaction (all or nothing), then check the result: the row count of
 * every table equal on both sides, the audit chain verifying in
 * PostgreSQL and ending in the same hash as in SQLite.
 *
 * Both stores are first opened with store_open() and so migrated to this
 * build's schema.  The SQLite file is read inside one read transaction (a
 * consistent snapshot: stop scepd first anyway, or enrollments made during
 * the copy stay behind).  The PostgreSQL store must be empty (no CA, no
 * endpoint, no certificate, no event): SCEP_E_EXISTS otherwise, and
 * nothing is written.
 *
 * SCEP_OK, or a negative scep_err with rep->error saying what failed
 * (SCEP_E_MALFORMED: the copy was made but does not verify; it has been
 * rolled back).  "rep" is filled either way, as far as the copy got.
 */
int	store_copy_sqlite_to_pg(const char *sqlite_path, const char *pg_dsn,
	    struct store_copy_report *rep);

#endif /* !STORE_PG_H */
