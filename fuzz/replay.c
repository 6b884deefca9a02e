/*
 * replay.c -- run saved inputs through a fuzz target without libFuzzer
 * (STYLE H13: SQLite's fuzzcheck), so every build -- gcc, ASan, plain --
 * replays the corpus and every crash ever found.
 *
 *	replay_<target> FILE|DIR ...
 *
 * A directory stands for its regular files, in name order.  Prints TAP:
 * one "ok" per input (a crash is the failure: the process dies and Meson
 * counts the test as failed).  No input at all is a failure too, so an
 * emptied corpus cannot pass silently.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define REPLAY_MAX_INPUT	(4 * 1024 * 1024)	/* bigger than any
							 * core limit */
#define REPLAY_MAX_FILES	100000

static int	n_run;

static int
run_file(const char *path)
{
	FILE	*f = NULL;
	uint8_t	*buf = NULL;
	size_t	 n;
	int	 ok = 0;

	if ((f = fopen(path, "rb")) == NULL)
		goto out;
	if ((buf = malloc(REPLAY_MAX_INPUT)) == NULL)
		goto out;
	n = fread(buf, 1, REPLAY_MAX_INPUT, f);
	if (ferror(f))
		goto out;
	/* libFuzzer never passes NULL; an empty input is a valid pointer. */
	(void)LLVMFuzzerTestOneInput(buf, n);
	ok = 1;
 out:
	n_run++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", n_run, path);
	fflush(stdout);
	free(buf);
	if (f != NULL)
		fclose(f);
	return ok;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir)
{
	DIR		*d = NULL;
	struct dirent	*e;
	struct stat	 st;
	char		**names = NULL, **nn, path[4096];
	size_t		 n = 0, cap = 0, i;
	int		 ok = 1;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			if (cap >= REPLAY_MAX_FILES)
				break;
			cap = cap ? cap * 2 : 64;
			if ((nn = realloc(names, cap * sizeof(*names))) == NULL) {
				ok = 0;
				break;
			}
			names = nn;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			ok = 0;
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >=
		    (int)sizeof(path))
			ok = 0;
		else if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			ok &= run_file(path);
		free(names[i]);
	}
	free(names);
	return ok;
}

int
main(int argc, char *argv[])
{
	struct stat	st;
	int		i, ok = 1;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			ok &= run_dir(argv[i]);
		else
			ok &= run_file(argv[i]);
	}
	if (n_run == 0) {
		printf("not ok 1 - no corpus input found\n");
		n_run = 1;
		ok = 0;
	}
	printf("1..%d\n", n_run);
	return ok ? 0 : 1;
}
