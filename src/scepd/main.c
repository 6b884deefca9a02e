/*
 * main.c -- scepd: `scepd init` creates a data directory, `scepd serve`
 * runs the server.  The only file that may exit() (STYLE H16).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scepd.h"

#ifndef SCEPD_VERSION
#define SCEPD_VERSION "unknown"
#endif

static void
usage(FILE *f)
{
	fprintf(f,
"usage: scepd init --data-dir DIR [--json] [options]   create a deployment\n"
"       scepd serve --data-dir DIR [options]           run the server\n"
"       scepd migrate --from sqlite:PATH --to postgresql://...\n"
"                                                      SQLite to PostgreSQL\n"
"       scepd --version\n"
"\n"
"`scepd init --help` and `scepd serve --help` list the options; see also\n"
"scepd(8) and scepd.conf(5).\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "migrate") == 0)
		return cmd_migrate(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("scepd %s\n", SCEPD_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "scepd: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
