/*
 * bench_proc.c -- CPU time of the server under test, read from /proc:
 * the process given with --server-pid and every process below it (scepd's
 * key-process master and workers do the private-key operations, so
 * counting scepd alone would hide most of the cryptography).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* Processes looked at, at most: a bound for the descendant walk. */
#define PROC_MAX	65536

struct proc_row {
	long		pid;
	long		ppid;
	unsigned long long ticks;	/* utime + stime */
};

/* ppid (field 4), utime and stime (fields 14 and 15) of /proc/PID/stat. */
static int
proc_read(long pid, struct proc_row *r)
{
	char path[64], buf[4096], *p = NULL, *end = NULL;
	unsigned long long ut, st;
	long ppid = 0;
	FILE *f = NULL;
	size_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm (field 2) may contain spaces: start after the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	for (field = 3; field < 14; field++) {
		while (*p == ' ')
			p++;
		if (field == 4) {
			ppid = strtol(p, &end, 10);
			if (end == p)
				return -1;
		}
		while (*p != ' ' && *p != '\0')
			p++;
		if (*p == '\0')
			return -1;
	}
	ut = strtoull(p, &end, 10);
	if (end == p)
		return -1;
	p = end;
	st = strtoull(p, &end, 10);
	if (end == p)
		return -1;
	r->pid = pid;
	r->ppid = ppid;
	r->ticks = ut + st;
	return 0;
}

/* utime + stime of "pid" and all its descendants, in seconds. */
double
bench_proc_cpu(long pid)
{
	struct proc_row *rows = NULL, self;
	unsigned long long total;
	long hz = sysconf(_SC_CLK_TCK);
	long *tree = NULL;
	size_t nrows = 0, ntree = 1, i, j;
	struct dirent *de;
	DIR *d = NULL;
	char *end = NULL;

	if (pid <= 0 || hz <= 0 || proc_read(pid, &self) != 0)
		return -1;
	total = self.ticks;
	if ((rows = calloc(PROC_MAX, sizeof(*rows))) == NULL ||
	    (tree = calloc(PROC_MAX, sizeof(*tree))) == NULL ||
	    (d = opendir("/proc")) == NULL)
		goto out;
	while (nrows < PROC_MAX && (de = readdir(d)) != NULL) {
		long p = strtol(de->d_name, &end, 10);

		if (end == de->d_name || *end != '\0' || p <= 0 || p == pid)
			continue;
		if (proc_read(p, &rows[nrows]) == 0)
			nrows++;
	}
	/* Breadth-first over the parent links: tree[] grows as it is read. */
	tree[0] = pid;
	for (i = 0; i < ntree; i++)
		for (j = 0; j < nrows && ntree < PROC_MAX; j++)
			if (rows[j].ppid == tree[i]) {
				tree[ntree++] = rows[j].pid;
				total += rows[j].ticks;
			}
out:
	if (d != NULL)
		closedir(d);
	free(tree);
	free(rows);
	return (double)total / (double)hz;
}
