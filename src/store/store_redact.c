/*
 * store_redact.c -- a data migration (issue 8): the challenge out of the
 * requests written before scepd stored CSRs redacted.
 *
 * Since CSRs are stored without their challengePassword attribute
 * (scep_csr_redact, SECURITY.md section 6), the account's challenge never
 * reaches requests.csr_der; rows written by an older scepd still hold the
 * CSR as received, challenge in clear.  store_open runs this after the
 * schema migrations, on both backends, until it has completed once: the
 * setting REDACT_KEY records that (with the counts), so later opens cost
 * one lookup.
 *
 *  - Bounded: REDACT_BATCH rows at a time, read in id order after the
 *    last id seen, and one write transaction per batch for the rows that
 *    change.  A row is at most STORE_BLOB_MAX, so memory stays under
 *    REDACT_BATCH x 256 KiB whatever the size of the table, and no
 *    transaction grows with it.
 *  - Idempotent: a CSR without the attribute comes out of
 *    scep_csr_redact byte for byte (nothing deleted, nothing re-encoded),
 *    and only rows whose bytes change are written.  An interrupted run
 *    starts again at the next open and finds the rewritten rows
 *    unchanged; two nodes running it at once write the same bytes.
 *  - A CSR that does not parse is left as it is and counted, never
 *    logged (SECURITY.md explains why it is not dropped).  scepd only
 *    ever stored CSRs that parsed, so such a row was written by something
 *    else or damaged.
 *  - Then the backend scrubs what still holds the old bytes (SQLite:
 *    secure_delete during the rewrite, WAL checkpoint TRUNCATE after;
 *    PostgreSQL: dead tuples until VACUUM, SECURITY.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "log.h"
#include "scep.h"
#include "scep_err.h"
#include "store.h"
#include "store_int.h"

#define REDACT_BATCH	128
#define REDACT_KEY	"migration.csr_redact"

struct redact_count {
	int64_t	 scanned;	/* rows with a CSR */
	int64_t	 rewritten;	/* challenge removed */
	int64_t	 unparsable;	/* left as they were */
};

static void
rows_free(struct store_csr_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(rows[i].der);
		rows[i].der = NULL;
	}
}

/*
 * Redact each row of a batch in place; keep, at the front, only those
 * whose bytes changed.  *keep is their number.
 */
static int
redact_batch(struct store_csr_row *rows, size_t n, size_t *keep,
    struct redact_count *cnt)
{
	uint8_t *red = NULL, *copy;
	size_t i, redlen = 0;
	int r;

	*keep = 0;
	for (i = 0; i < n; i++) {
		cnt->scanned++;
		r = scep_csr_redact(rows[i].der, rows[i].len, &red, &redlen);
		if (r == SCEP_E_NOMEM || r == SCEP_E_INTERNAL)
			return r;
		if (r != SCEP_OK) {
			cnt->unparsable++;
			free(rows[i].der);
			rows[i].der = NULL;
			continue;
		}
		if (redlen == rows[i].len &&
		    memcmp(red, rows[i].der, redlen) == 0) {
			OPENSSL_free(red);	/* already the stored form */
			free(rows[i].der);
			rows[i].der = NULL;
			continue;
		}
		copy = malloc(redlen);
		if (copy != NULL)
			memcpy(copy, red, redlen);
		OPENSSL_free(red);
		if (copy == NULL)
			return SCEP_E_NOMEM;
		free(rows[i].der);
		rows[i].der = NULL;
		rows[*keep].id = rows[i].id;
		rows[*keep].der = copy;
		rows[*keep].len = redlen;
		(*keep)++;
		cnt->rewritten++;
	}
	return SCEP_OK;
}

int
store_redact_old_csrs(struct store *s)
{
	struct store_csr_row *rows = NULL;
	struct redact_count cnt = { 0, 0, 0 };
	char val[128];
	int64_t after = 0;
	size_t n, keep;
	int r;

	r = s->ops->setting_get(s->be, REDACT_KEY, val, sizeof(val));
	if (r != SCEP_E_NOTFOUND)
		return r;		/* done once already, or an error */
	if ((rows = calloc(REDACT_BATCH, sizeof(*rows))) == NULL)
		return SCEP_E_NOMEM;
	for (;;) {
		n = 0;
		r = s->ops->csr_batch(s->be, after, rows, REDACT_BATCH, &n);
		if (r == SCEP_OK && n > 0) {
			after = rows[n - 1].id;
			r = redact_batch(rows, n, &keep, &cnt);
		}
		if (r == SCEP_OK && n > 0 && keep > 0)
			r = s->ops->csr_rewrite(s->be, rows, keep);
		rows_free(rows, n);
		if (r != SCEP_OK || n < REDACT_BATCH)
			break;
	}
	free(rows);
	if (r != SCEP_OK) {
		log_error("store: removing challenges from stored requests "
		    "stopped after request %lld: %s (it resumes at the next "
		    "start)", (long long)after, scep_strerror(r));
		return r;
	}
	if (cnt.rewritten > 0 && (r = s->ops->csr_scrub(s->be)) != SCEP_OK)
		log_warn("store: the old request bytes may stay in the "
		    "database's log until its next checkpoint (%s)",
		    scep_strerror(r));
	if (cnt.rewritten > 0 || cnt.unparsable > 0)
		log_warn("store: challenge removed from %lld of %lld stored "
		    "requests; %lld stored CSRs could not be parsed and were "
		    "left as they are (SECURITY.md)", (long long)cnt.rewritten,
		    (long long)cnt.scanned, (long long)cnt.unparsable);
	snprintf(val, sizeof(val), "done %lld: %lld of %lld rewritten, "
	    "%lld unparsable", (long long)time(NULL), (long long)cnt.rewritten,
	    (long long)cnt.scanned, (long long)cnt.unparsable);
	return s->ops->setting_set(s->be, REDACT_KEY, val);
}
