/*
 * migrate.c -- `scepd migrate --from sqlite:PATH --to postgresql://...`
 * (issue 6): move an embedded (SQLite) deployment to PostgreSQL, with
 * nothing lost.  The work is store_copy_sqlite_to_pg() (store_pg.h): one
 * PostgreSQL transaction copies every row with its id and bytes, checks
 * the row counts and the audit chain, and commits only if all holds.
 *
 * Stop scepd before migrating (the SQLite file is read in one snapshot;
 * whatever is written after it stays behind), then point scepd.conf's
 * "store =" at the PostgreSQL DSN.  Keep the DSN's password out of the
 * command line (other users see it in ps): libpq reads PGPASSWORD or
 * ~/.pgpass.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "scep_err.h"
#include "scepd.h"
#include "store.h"
#ifdef STORE_HAVE_PG
#include "store_pg.h"
#endif

static void
migrate_usage(FILE *f)
{
	fprintf(f,
"usage: scepd migrate --from sqlite:PATH --to postgresql://... [--json]\n"
"\n"
"Copy an SQLite store into a new, empty PostgreSQL database: every\n"
"certificate, request, account, endpoint, administrator and audit event,\n"
"with their ids, in one transaction.  The copy is checked (row counts,\n"
"audit chain) before it is committed.  Stop scepd first; afterwards set\n"
"\"store = postgresql://...\" in scepd.conf.\n"
"\n"
"  --from DSN    sqlite:PATH, or a path to the SQLite file\n"
"  --to DSN      postgresql://user@host:port/db (password: PGPASSWORD or\n"
"                ~/.pgpass rather than the command line)\n"
"  --json        print the report as one JSON object\n");
}

#ifdef STORE_HAVE_PG
static void
hex32(const uint8_t *h, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 0xf];
	}
	out[64] = '\0';
}

/* A JSON string body: the report's texts are ours, but escape anyway. */
static void
json_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
}

static void
report_text(const struct store_copy_report *rep, int r)
{
	char hash[65];
	size_t i;

	printf("schema version %lld\n", (long long)rep->schema_version);
	printf("%-24s %12s %12s\n", "table", "sqlite", "postgresql");
	for (i = 0; i < rep->ntables; i++)
		printf("%-24s %12lld %12lld\n", rep->tables[i].name,
		    (long long)rep->tables[i].rows_from,
		    (long long)rep->tables[i].rows_to);
	hex32(rep->last_hash, hash);
	if (r == SCEP_OK) {
		printf("audit chain: %lld events verified, head %s\n",
		    (long long)rep->events, hash);
		printf("migrated: nothing lost; now set \"store = "
		    "postgresql://...\" in scepd.conf on every node\n");
	} else
		printf("NOT migrated (nothing was written): %s\n",
		    rep->error[0] != '\0' ? rep->error : scep_strerror(r));
}

static void
report_json(const struct store_copy_report *rep, int r)
{
	char hash[65];
	size_t i;

	hex32(rep->last_hash, hash);
	printf("{\"ok\":%s,\"schema_version\":%lld,\"tables\":{",
	    r == SCEP_OK ? "true" : "false", (long long)rep->schema_version);
	for (i = 0; i < rep->ntables; i++)
		printf("%s\"%s\":{\"sqlite\":%lld,\"postgresql\":%lld}",
		    i > 0 ? "," : "", rep->tables[i].name,
		    (long long)rep->tables[i].rows_from,
		    (long long)rep->tables[i].rows_to);
	printf("},\"events\":%lld,\"chain_head\":\"%s\",\"bad_event\":%lld,"
	    "\"error\":\"", (long long)rep->events, hash,
	    (long long)rep->bad_event);
	json_text(stdout, r == SCEP_OK ? "" : (rep->error[0] != '\0' ?
	    rep->error : scep_strerror(r)));
	printf("\"}\n");
}
#endif

int
cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from",	required_argument, NULL, 'f' },
		{ "to",		required_argument, NULL, 't' },
		{ "json",	no_argument,	   NULL, 'j' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *from = NULL, *to = NULL;
	int c, json = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'j': json = 1; break;
		case 'h': migrate_usage(stdout); return 0;
		default: migrate_usage(stderr); return 2;
		}
	}
	if (from == NULL || to == NULL || optind != argc) {
		migrate_usage(stderr);
		return 2;
	}
	if (strncmp(from, "sqlite:", 7) == 0)
		from += 7;
	if (from[0] == '\0' || strstr(from, "://") != NULL) {
		fprintf(stderr, "scepd migrate: --from must be an SQLite store "
		    "(sqlite:PATH)\n");
		return 2;
	}
	if (strncmp(to, "postgresql://", 13) != 0 &&
	    strncmp(to, "postgres://", 11) != 0) {
		fprintf(stderr, "scepd migrate: --to must be a PostgreSQL URI "
		    "(postgresql://...)\n");
		return 2;
	}
#ifdef STORE_HAVE_PG
	{
		struct store_copy_report rep;
		int r;

		log_set_level(LOG_LVL_WARN);
		r = store_copy_sqlite_to_pg(from, to, &rep);
		if (json)
			report_json(&rep, r);
		else
			report_text(&rep, r);
		return r == SCEP_OK ? 0 : 1;
	}
#else
	(void)json;
	fprintf(stderr, "scepd migrate: this scepd was built without the "
	    "PostgreSQL backend (meson -Dpostgres=enabled)\n");
	return 1;
#endif
}
