/*
 * test_openapi.c -- docs/openapi.yaml and the route table of src/api/api.c
 * list the same operations (issue 3: "an OpenAPI 3 file in the repository
 * that a test keeps in step with the route table").
 *
 * The YAML is read line by line in the layout the file keeps: a path is
 * "  /api/v1/...:" at indent 2 under "paths:", an operation is
 * "    get:" (post, put, patch, delete) at indent 4 under its path.
 * Usage: test_openapi docs/openapi.yaml
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "tap.h"

#define MAX_OPS		256
#define MAX_LINE	1024

struct op {
	char	method[8];		/* upper case */
	char	path[256];
	int	seen;
};

static int
find(struct op *ops, size_t n, const char *method, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(ops[i].method, method) == 0 &&
		    strcmp(ops[i].path, path) == 0)
			return (int)i;
	return -1;
}

/* The operations of the YAML file; -1 when it cannot be read. */
static int
read_yaml(const char *file, struct op *ops, size_t *n)
{
	static const char *const methods[] = { "get", "post", "put", "patch",
	    "delete", NULL };
	char line[MAX_LINE], path[256];
	FILE *f;
	int in_paths = 0, i;
	size_t len, k;

	*n = 0;
	path[0] = '\0';
	if ((f = fopen(file, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strlen(line);
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (line[0] != ' ') {		/* a top-level key */
			in_paths = strcmp(line, "paths:") == 0;
			continue;
		}
		if (!in_paths)
			continue;
		if (strncmp(line, "  /", 3) == 0 && line[len - 1] == ':') {
			snprintf(path, sizeof(path), "%.*s", (int)(len - 3),
			    line + 2);
			continue;
		}
		if (strncmp(line, "    ", 4) != 0 || line[4] == ' ')
			continue;
		for (i = 0; methods[i] != NULL; i++) {
			size_t ml = strlen(methods[i]);

			if (len == 4 + ml + 1 && strncmp(line + 4, methods[i],
			    ml) == 0 && line[4 + ml] == ':' && *n < MAX_OPS) {
				for (k = 0; k < ml; k++)
					ops[*n].method[k] =
					    (char)toupper((unsigned char)
					    methods[i][k]);
				ops[*n].method[ml] = '\0';
				snprintf(ops[*n].path, sizeof(ops[*n].path),
				    "%s", path);
				(*n)++;
			}
		}
	}
	fclose(f);
	return 0;
}

int
main(int argc, char **argv)
{
	struct op *yaml = NULL;
	const char *method, *pattern;
	size_t ny = 0, i, nroutes = 0;
	int idx;

	if (argc != 2) {
		fprintf(stderr, "usage: test_openapi openapi.yaml\n");
		return 2;
	}
	if ((yaml = calloc(MAX_OPS, sizeof(*yaml))) == NULL)
		return 2;
	tap_ok(read_yaml(argv[1], yaml, &ny) == 0, "read %s", argv[1]);
	tap_ok(ny > 40, "the YAML lists %zu operations", ny);

	for (i = 0; api_route_info(i, &method, &pattern) == 0; i++) {
		nroutes++;
		idx = find(yaml, ny, method, pattern);
		tap_ok(idx >= 0, "route %s %s is documented", method, pattern);
		if (idx >= 0)
			yaml[idx].seen++;
	}
	for (i = 0; i < ny; i++)
		tap_ok(yaml[i].seen == 1, "documented %s %s is a route (once)",
		    yaml[i].method, yaml[i].path);
	tap_ok(nroutes == ny, "as many routes (%zu) as documented "
	    "operations (%zu)", nroutes, ny);
	/* The table itself: no route twice, every path under /api/v1/. */
	for (i = 0; api_route_info(i, &method, &pattern) == 0; i++) {
		const char *m2, *p2;
		size_t j;
		int dup = 0;

		for (j = i + 1; api_route_info(j, &m2, &p2) == 0; j++)
			if (strcmp(m2, method) == 0 && strcmp(p2, pattern) == 0)
				dup = 1;
		tap_ok(!dup && strncmp(pattern, "/api/v1/", 8) == 0,
		    "route %s %s is unique and under /api/v1/", method,
		    pattern);
	}
	free(yaml);
	return tap_done();
}
