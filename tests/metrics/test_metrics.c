/*
 * test_metrics.c -- the metrics registry (src/metrics): concurrent
 * updates add up exactly, the rendered text is well-formed Prometheus
 * exposition format 0.0.4, label values are mapped onto fixed sets and
 * escaped, and the label-set cap sends new endpoints to "other".
 *
 * The registry is process-global, so the checks run in a fixed order and
 * each states what it expects given the ones before it.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scep_err.h"
#include "metrics.h"
#include "tap.h"

#define NTHREADS	8
#define NITER		20000
#define NSHARED		50

/* ---- a small exposition-format checker ---- */

static int
is_name_char(char c, int first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':')
		return 1;
	return !first && c >= '0' && c <= '9';
}

/* Parse "name" at *p; returns its length (0 if none). */
static size_t
parse_name(const char *p)
{
	size_t n = 0;

	while (is_name_char(p[n], n == 0))
		n++;
	return n;
}

/*
 * Check a label block "{k="v",...}" starting at *pp ('{'); advances *pp
 * past '}'.  Returns 0 when well-formed.
 */
static int
parse_labels(const char **pp)
{
	const char *p = *pp + 1;
	size_t n;

	if (*p == '}') {
		*pp = p + 1;
		return 0;
	}
	for (;;) {
		if ((n = parse_name(p)) == 0)
			return -1;
		p += n;
		if (*p++ != '=' || *p++ != '"')
			return -1;
		while (*p != '"') {
			if (*p == '\0' || *p == '\n')
				return -1;
			if (*p == '\\') {
				p++;
				if (*p != '\\' && *p != '"' && *p != 'n')
					return -1;
			}
			p++;
		}
		p++;
		if (*p == '}') {
			*pp = p + 1;
			return 0;
		}
		if (*p++ != ',')
			return -1;
	}
}

/*
 * Validate the whole text: every line is "# HELP", "# TYPE" or a sample
 * of the family last declared by "# TYPE"; no family declared twice;
 * values are numbers; histograms' buckets are cumulative and end with
 * +Inf equal to _count.  Returns the number of bad lines (0 = ok) and
 * writes the first bad line number into *bad_line.
 */
static int
check_format(const char *text, size_t len, int *bad_line, int *nfamilies)
{
	char family[128] = "", type[16] = "", seen[8192] = " ";
	const char *p = text, *eol = NULL, *q = NULL;
	char *end = NULL;
	double v, last_bucket = -1, inf_bucket = -1;
	int line = 0, bad = 0, fams = 0;
	size_t n;

	*bad_line = 0;
	if (len == 0 || text[len - 1] != '\n')
		return 1;
	while (*p != '\0') {
		line++;
		eol = strchr(p, '\n');
		if (eol == NULL)
			break;
		if (strncmp(p, "# HELP ", 7) == 0) {
			if (parse_name(p + 7) == 0)
				goto bad;
		} else if (strncmp(p, "# TYPE ", 7) == 0) {
			char key[140];

			if ((n = parse_name(p + 7)) == 0 || n >= sizeof(family))
				goto bad;
			memcpy(family, p + 7, n);
			family[n] = '\0';
			q = p + 7 + n;
			if (*q++ != ' ')
				goto bad;
			if (strncmp(q, "counter\n", 8) == 0)
				snprintf(type, sizeof(type), "counter");
			else if (strncmp(q, "gauge\n", 6) == 0)
				snprintf(type, sizeof(type), "gauge");
			else if (strncmp(q, "histogram\n", 10) == 0)
				snprintf(type, sizeof(type), "histogram");
			else
				goto bad;
			snprintf(key, sizeof(key), " %s ", family);
			if (strstr(seen, key) != NULL)
				goto bad;	/* declared twice */
			n = strlen(seen);
			snprintf(seen + n, sizeof(seen) - n, "%s", key + 1);
			fams++;
			last_bucket = -1;
			inf_bucket = -1;
		} else if (*p == '#') {
			goto bad;
		} else {
			size_t fl = strlen(family);
			int is_bucket = 0, is_count = 0;

			if (fl == 0 || (n = parse_name(p)) == 0)
				goto bad;
			if (strncmp(p, family, fl) != 0)
				goto bad;
			if (n != fl) {
				if (strcmp(type, "histogram") != 0)
					goto bad;
				if (n == fl + 7 &&
				    strncmp(p + fl, "_bucket", 7) == 0)
					is_bucket = 1;
				else if (n == fl + 6 &&
				    strncmp(p + fl, "_count", 6) == 0)
					is_count = 1;
				else if (!(n == fl + 4 &&
				    strncmp(p + fl, "_sum", 4) == 0))
					goto bad;
			} else if (strcmp(type, "histogram") == 0)
				goto bad;
			q = p + n;
			if (*q == '{' && parse_labels(&q) != 0)
				goto bad;
			if (*q++ != ' ')
				goto bad;
			errno = 0;
			v = strtod(q, &end);
			if (end == q || end != eol || errno != 0)
				goto bad;
			if (is_bucket) {
				if (v < last_bucket)
					goto bad;
				last_bucket = v;
				if (strstr(p, "le=\"+Inf\"") != NULL)
					inf_bucket = v;
			}
			if (is_count && v != inf_bucket)
				goto bad;
		}
		p = eol + 1;
		continue;
 bad:
		if (*bad_line == 0)
			*bad_line = line;
		bad++;
		p = eol + 1;
	}
	*nfamilies = fams;
	return bad;
}

/* The value of the sample line that starts with exactly "sample " (name
 * and labels as rendered); NAN when absent. */
static double
sample(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return NAN;
}

/* How many sample lines start with "prefix". */
static int
count_lines(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p = text;
	int c = 0;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, n) == 0)
			c++;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return c;
}

static char *
render(void)
{
	char *out = NULL;
	size_t len = 0;

	if (metrics_render(&out, &len) != SCEP_OK)
		return NULL;
	if (strlen(out) != len) {
		free(out);
		return NULL;
	}
	return out;
}

/* ---- concurrency ---- */

static pthread_barrier_t start;

static void *
worker(void *arg)
{
	char ep[32];
	int i, d;

	(void)arg;
	pthread_barrier_wait(&start);
	for (i = 0; i < NITER; i++) {
		metrics_inflight_add(1);
		metrics_inc_enroll("ep-a", "PKCSReq", "SUCCESS", -1);
		metrics_inc_issued("ep-a");
		metrics_observe(METRIC_H_REQUEST, 0.003);
		metrics_http(METRIC_R_SCEP, 200);
		/* All threads create the same new series at the same time:
		 * each must exist once and get every increment. */
		d = i % NSHARED;
		snprintf(ep, sizeof(ep), "shared-%d", d);
		metrics_inc_enroll(ep, "RenewalReq", "failure", 2);
		metrics_inflight_add(-1);
	}
	return NULL;
}

static void
test_concurrency(void)
{
	pthread_t t[NTHREADS];
	char *text = NULL, name[256];
	double v;
	int i, ok = 1;

	pthread_barrier_init(&start, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, worker, NULL) != 0)
			ok = 0;
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	tap_ok(ok, "%d threads ran", NTHREADS);

	text = render();
	tap_ok(text != NULL, "render after concurrent updates");
	if (text == NULL)
		return;
	v = sample(text, "scepd_enrollments_total{endpoint=\"ep-a\","
	    "msgtype=\"PKCSReq\",result=\"success\",failinfo=\"none\"}");
	tap_ok(v == (double)NTHREADS * NITER,
	    "enrollment counter adds up: %.0f == %d", v, NTHREADS * NITER);
	v = sample(text, "scepd_certificates_issued_total{endpoint=\"ep-a\"}");
	tap_ok(v == (double)NTHREADS * NITER, "issued counter adds up: %.0f",
	    v);
	v = sample(text, "scepd_http_requests_total{route=\"scep\","
	    "code=\"200\"}");
	tap_ok(v == (double)NTHREADS * NITER, "http counter adds up: %.0f", v);

	ok = 1;
	for (i = 0; i < NSHARED; i++) {
		snprintf(name, sizeof(name), "scepd_enrollments_total{"
		    "endpoint=\"shared-%d\",msgtype=\"RenewalReq\","
		    "result=\"failure\",failinfo=\"badRequest\"} ", i);
		name[strlen(name) - 1] = '\0';
		v = sample(text, name);
		if (v != (double)NTHREADS * (NITER / NSHARED))
			ok = 0;
	}
	tap_ok(ok, "%d series created concurrently, each counted exactly",
	    NSHARED);
	tap_ok(count_lines(text, "scepd_enrollments_total{endpoint=\"shared-")
	    == NSHARED, "no series created twice under a race");

	v = sample(text, "scepd_request_duration_seconds_count");
	tap_ok(v == (double)NTHREADS * NITER, "histogram count adds up: %.0f",
	    v);
	v = sample(text, "scepd_request_duration_seconds_bucket{le=\"0.0025\"}");
	tap_ok(v == 0, "3 ms is not under the 2.5 ms bucket (%.0f)", v);
	v = sample(text, "scepd_request_duration_seconds_bucket{le=\"0.005\"}");
	tap_ok(v == (double)NTHREADS * NITER, "3 ms is in the 5 ms bucket");
	v = sample(text, "scepd_request_duration_seconds_sum");
	tap_ok(fabs(v - 0.003 * NTHREADS * NITER) < 0.01,
	    "histogram sum is %f", v);
	v = sample(text, "scepd_inflight_requests");
	tap_ok(v == 0, "in-flight gauge back to 0 (%.0f)", v);
	free(text);
}

/* ---- format, mapping, process metrics ---- */

static void
test_format(void)
{
	char *text = NULL;
	char longep[METRICS_MAX_LABEL + 2];
	int bad_line = 0, fams = 0, fd, fds0, fds1;
	double v, now = (double)time(NULL);

	metrics_inc_enroll("q\"uo\\te", "GetCertInitial", "Pending", -1);
	metrics_inc_enroll("new\nline", "PKCSReq", "SUCCESS", -1);
	memset(longep, 'x', sizeof(longep) - 1);
	longep[sizeof(longep) - 1] = '\0';
	metrics_inc_enroll(longep, "PKCSReq", "SUCCESS", -1);
	metrics_inc_enroll(NULL, "Bogus", "weird", 99);
	metrics_http(METRIC_R_API, 42);
	metrics_http((enum metric_route)77, 404);
	metrics_observe(METRIC_H_STORE, -1);
	metrics_observe(METRIC_H_STORE, NAN);
	metrics_observe(METRIC_H_STORE, 1e9);
	metrics_observe((enum metric_hist)99, 1);
	metrics_gauge_set(METRIC_G_QUEUE, 7);
	metrics_gauge_add(METRIC_G_QUEUE, -2);

	text = render();
	tap_ok(text != NULL, "render");
	if (text == NULL)
		return;
	tap_ok(check_format(text, strlen(text), &bad_line, &fams) == 0,
	    "exposition format 0.0.4 well-formed (first bad line %d)",
	    bad_line);
	tap_ok(fams >= 16, "%d metric families declared", fams);
	tap_ok(strncmp(text, "# HELP ", 7) == 0, "starts with # HELP");

	v = sample(text, "scepd_enrollments_total{endpoint=\"q\\\"uo\\\\te\","
	    "msgtype=\"CertPoll\",result=\"pending\",failinfo=\"none\"}");
	tap_ok(v == 1, "quote and backslash escaped; GetCertInitial is "
	    "CertPoll; result lower case");
	v = sample(text, "scepd_enrollments_total{endpoint=\"other\","
	    "msgtype=\"PKCSReq\",result=\"success\",failinfo=\"none\"}");
	tap_ok(v == 2, "newline and over-long endpoints are \"other\" (%.0f)",
	    v);
	tap_ok(strstr(text, "new\nline") == NULL && strstr(text, longep) ==
	    NULL, "raw hostile label values never reach the output");
	v = sample(text, "scepd_enrollments_total{endpoint=\"none\","
	    "msgtype=\"other\",result=\"other\",failinfo=\"other\"}");
	tap_ok(v == 1, "NULL endpoint, unknown msgtype, result, failinfo");
	v = sample(text, "scepd_http_requests_total{route=\"api\","
	    "code=\"other\"}");
	tap_ok(v == 1, "status 42 is code=\"other\"");
	v = sample(text, "scepd_http_requests_total{route=\"other\","
	    "code=\"404\"}");
	tap_ok(v == 1, "unknown route class is route=\"other\"");
	v = sample(text, "scepd_store_duration_seconds_count");
	tap_ok(v == 2, "negative and huge observations counted, NaN and bad "
	    "histogram ignored (%.0f)", v);
	v = sample(text, "scepd_store_duration_seconds_bucket{le=\"0.0005\"}");
	tap_ok(v == 1, "negative observation is in the lowest bucket");
	v = sample(text, "scepd_queue_depth");
	tap_ok(v == 5, "queue gauge set then added (%.0f)", v);

	v = sample(text, "process_resident_memory_bytes");
	tap_ok(v > 100000, "resident memory %.0f bytes", v);
	v = sample(text, "process_cpu_seconds_total");
	tap_ok(v > 0, "cpu seconds %f", v);
	v = sample(text, "process_start_time_seconds");
	tap_ok(v > now - 600 && v <= now + 1, "start time %.0f near now %.0f",
	    v, now);
	fds0 = (int)sample(text, "process_open_fds");
	free(text);

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	text = render();
	fds1 = text != NULL ? (int)sample(text, "process_open_fds") : -1;
	tap_ok(fd >= 0 && fds0 >= 3 && fds1 == fds0 + 1,
	    "open fds %d then %d after one open()", fds0, fds1);
	if (fd >= 0)
		close(fd);
	free(text);
}

/* ---- the label-set cap ---- */

static void
test_cap(void)
{
	char *text = NULL, ep[96];
	int i, before, normal, extra = 300;
	double v, other0, other1, total;

	text = render();
	if (text == NULL) {
		tap_ok(0, "render");
		return;
	}
	before = count_lines(text, "scepd_enrollments_total{") -
	    count_lines(text, "scepd_enrollments_total{endpoint=\"other\"");
	other0 = sample(text, "scepd_metrics_overflow_total");
	free(text);

	for (i = 0; i < extra; i++) {
		snprintf(ep, sizeof(ep), "cap-%d", i);
		metrics_inc_enroll(ep, "GetCRL", "failure", 4);
	}
	/* An existing series still counts under its own name. */
	metrics_inc_enroll("ep-a", "PKCSReq", "SUCCESS", -1);

	text = render();
	if (text == NULL) {
		tap_ok(0, "render");
		return;
	}
	normal = count_lines(text, "scepd_enrollments_total{") -
	    count_lines(text, "scepd_enrollments_total{endpoint=\"other\"");
	tap_ok(normal == METRICS_MAX_SERIES,
	    "named series capped at %d (have %d, had %d)",
	    METRICS_MAX_SERIES, normal, before);
	v = sample(text, "scepd_enrollments_total{endpoint=\"other\","
	    "msgtype=\"GetCRL\",result=\"failure\",failinfo=\"badCertId\"}");
	tap_ok(v == (double)(before + extra - METRICS_MAX_SERIES),
	    "the rest went to endpoint=\"other\": %.0f", v);
	total = v;
	for (i = 0; i < extra; i++) {
		snprintf(ep, sizeof(ep), "scepd_enrollments_total{endpoint="
		    "\"cap-%d\",", i);
		if (count_lines(text, ep) == 1)
			total += 1;
	}
	tap_ok(total == extra, "no update lost: named + other = %.0f", total);
	v = sample(text, "scepd_enrollments_total{endpoint=\"ep-a\","
	    "msgtype=\"PKCSReq\",result=\"success\",failinfo=\"none\"}");
	tap_ok(v == (double)NTHREADS * NITER + 1,
	    "existing series keeps counting after the cap");
	other1 = sample(text, "scepd_metrics_overflow_total");
	tap_ok(other1 - other0 == (double)(before + extra -
	    METRICS_MAX_SERIES), "overflow counter says how many");
	free(text);

	/* Hostile growth: many more endpoints cannot grow the output. */
	for (i = 0; i < 100000; i++) {
		snprintf(ep, sizeof(ep), "flood-%d", i);
		metrics_inc_enroll(ep, "PKCSReq", "failure", i % 5);
		metrics_inc_issued(ep);
		metrics_http(METRIC_R_SCEP, 100 + i % 500);
	}
	text = render();
	tap_ok(text != NULL && strlen(text) < 200000,
	    "100000 hostile endpoints: output stays small (%zu bytes)",
	    text != NULL ? strlen(text) : 0);
	free(text);
}

int
main(void)
{
	test_concurrency();
	test_format();
	test_cap();
	return tap_done();
}
