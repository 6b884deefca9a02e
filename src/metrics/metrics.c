/*
 * metrics.c -- lock-free Prometheus registry (see metrics.h).
 *
 * Labelled counters live in fixed open-addressing tables ("series
 * tables").  A slot goes EMPTY -> BUSY -> READY exactly once and is never
 * removed, so a lookup walks the probe sequence until it finds its key or
 * an EMPTY slot; only the thread that wins the EMPTY -> BUSY
 * compare-and-swap writes the key, and readers wait the few nanoseconds
 * until it publishes READY (release/acquire).  Values are relaxed atomic
 * adds: Prometheus needs each sample to be exact, not a consistent
 * snapshot across samples.
 *
 * Each table admits at most "cap" network-named series.  Beyond that the
 * same update is recorded under endpoint="other", a key built only from
 * fixed label sets, which the table always has room for (the slot count
 * is sized for cap + every possible "other" key, at most half full).
 */
#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "scep_err.h"
#include "metrics.h"

#define SLOT_EMPTY	0u
#define SLOT_BUSY	1u
#define SLOT_READY	2u

/* endpoint (64, escaped at most x2) plus the fixed labels. */
#define KEY_MAX		(2 * METRICS_MAX_LABEL + 96)

struct slot {
	_Atomic unsigned int	 state;
	_Atomic uint64_t	 value;
	uint32_t		 hash;
	char			 key[KEY_MAX];	/* rendered label set */
};

struct series_table {
	const char		*name;
	const char		*help;
	unsigned int		 cap;		/* network-named series */
	unsigned int		 nslots;	/* power of two */
	struct slot		*slots;
	_Atomic unsigned int	 nseries;
};

/*
 * Enrollment keys with endpoint="other": 6 message types x 5 results x 7
 * failInfo values = 210; with the cap of 256: 466 of 1024 slots.
 */
static struct slot enroll_slots[1024];
/* Issued: the cap plus endpoint="other" (257 of 512). */
static struct slot issued_slots[512];
/* HTTP: route x code; the cap plus one code="other" per route. */
static struct slot http_slots[512];

static struct series_table t_enroll = {
	"scepd_enrollments_total",
	"Finished PKIOperations by endpoint, message type, result and "
	    "failInfo.",
	METRICS_MAX_SERIES, 1024, enroll_slots, 0
};
static struct series_table t_issued = {
	"scepd_certificates_issued_total",
	"Certificates issued, by endpoint.",
	METRICS_MAX_SERIES, 512, issued_slots, 0
};
static struct series_table t_http = {
	"scepd_http_requests_total",
	"HTTP replies by route class and status code.",
	METRICS_MAX_SERIES, 512, http_slots, 0
};

/* Updates that found no slot at all (cannot happen with the sizes above;
 * counted so that it would be visible) or went to "other". */
static _Atomic uint64_t overflow_total;

/* Histograms: fixed upper bounds in seconds, +Inf implied. */
static const double hist_bounds[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30
};
#define NBOUNDS	(sizeof(hist_bounds) / sizeof(hist_bounds[0]))

struct histogram {
	const char		*name;
	const char		*help;
	_Atomic uint64_t	 bucket[NBOUNDS + 1];	/* not cumulative */
	_Atomic uint64_t	 sum_ns;
};

static struct histogram hists[METRIC_H__MAX] = {
	[METRIC_H_REQUEST] = { "scepd_request_duration_seconds",
	    "Time to answer one HTTP request.", { 0 }, 0 },
	[METRIC_H_CRYPTO] = { "scepd_crypto_duration_seconds",
	    "Time spent in private-key operations per request.", { 0 }, 0 },
	[METRIC_H_STORE] = { "scepd_store_duration_seconds",
	    "Time of one store call or transaction.", { 0 }, 0 },
	[METRIC_H_INTUNE] = { "scepd_intune_duration_seconds",
	    "Time of one Intune validation call.", { 0 }, 0 },
};

struct gauge {
	const char		*name;
	const char		*help;
	_Atomic long		 value;
};

static struct gauge gauges[METRIC_G__MAX] = {
	[METRIC_G_INFLIGHT] = { "scepd_inflight_requests",
	    "Requests being processed now.", 0 },
	[METRIC_G_QUEUE] = { "scepd_queue_depth",
	    "Requests waiting for a worker or a commit.", 0 },
	[METRIC_G_CONNECTIONS] = { "scepd_open_connections",
	    "HTTP connections open now.", 0 },
};

static const char *route_names[METRIC_R__MAX] = {
	[METRIC_R_SCEP] = "scep",
	[METRIC_R_API] = "api",
	[METRIC_R_CONSOLE] = "console",
	[METRIC_R_METRICS] = "metrics",
	[METRIC_R_HEALTH] = "health",
	[METRIC_R_OTHER] = "other",
};

/* Fixed label sets: what the caller may say -> what we print. */
static const char *const msgtypes[][2] = {
	{ "PKCSReq", "PKCSReq" },
	{ "RenewalReq", "RenewalReq" },
	{ "CertPoll", "CertPoll" },
	{ "GetCertInitial", "CertPoll" },
	{ "GetCert", "GetCert" },
	{ "GetCRL", "GetCRL" },
};
static const char *const results[] = {
	"success", "failure", "pending", "error"
};
/* RFC 8894 3.2.1.4, in enum scep_failinfo order. */
static const char *const failinfos[] = {
	"badAlg", "badMessageCheck", "badRequest", "badTime", "badCertId"
};

/* FNV-1a, 32 bits: the key is short and not secret-dependent; a hostile
 * client can at worst make one probe chain long, bounded by nslots. */
static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

/*
 * Find or create the slot for "key".  A new slot counts against the cap
 * unless "fixed" (the key is from a fixed set).  Returns NULL when the
 * cap is reached (the caller then uses its "other" key) or the table is
 * full.
 */
static _Atomic uint64_t *
series_get(struct series_table *t, const char *key, int fixed)
{
	struct slot *s = NULL;
	uint32_t h = fnv1a(key);
	unsigned int i, probe, st, exp;

	i = h & (t->nslots - 1);
	for (probe = 0; probe < t->nslots; probe++,
	    i = (i + 1) & (t->nslots - 1)) {
		s = &t->slots[i];
		st = atomic_load_explicit(&s->state, memory_order_acquire);
		if (st == SLOT_EMPTY) {
			/* Reserve a place under the cap, then the slot. */
			if (!fixed && atomic_fetch_add_explicit(&t->nseries, 1,
			    memory_order_relaxed) >= t->cap) {
				atomic_fetch_sub_explicit(&t->nseries, 1,
				    memory_order_relaxed);
				return NULL;
			}
			exp = SLOT_EMPTY;
			if (atomic_compare_exchange_strong_explicit(&s->state,
			    &exp, SLOT_BUSY, memory_order_acq_rel,
			    memory_order_acquire)) {
				s->hash = h;
				snprintf(s->key, sizeof(s->key), "%s", key);
				atomic_store_explicit(&s->state, SLOT_READY,
				    memory_order_release);
				return &s->value;
			}
			/* Lost the race: give the reservation back and look
			 * at what the winner wrote. */
			if (!fixed)
				atomic_fetch_sub_explicit(&t->nseries, 1,
				    memory_order_relaxed);
			st = exp;
		}
		while (st == SLOT_BUSY) {
			sched_yield();
			st = atomic_load_explicit(&s->state,
			    memory_order_acquire);
		}
		if (s->hash == h && strcmp(s->key, key) == 0)
			return &s->value;
	}
	return NULL;
}

/* Add 1 under "key", or under "other_key" once the cap is reached (or
 * when "key" is NULL). */
static void
series_inc(struct series_table *t, const char *key, const char *other_key)
{
	_Atomic uint64_t *v = NULL;

	if (key == NULL)
		v = series_get(t, other_key, 1);
	else if ((v = series_get(t, key, 0)) == NULL) {
		atomic_fetch_add_explicit(&overflow_total, 1,
		    memory_order_relaxed);
		if ((v = series_get(t, other_key, 1)) == NULL)
			return;
	}
	atomic_fetch_add_explicit(v, 1, memory_order_relaxed);
}

/*
 * The endpoint label value: printable ASCII, at most METRICS_MAX_LABEL
 * bytes, escaped as the exposition format asks (backslash and double
 * quote; newline cannot occur since it is not printable).  Returns 1 when
 * the value was replaced by "other" (then the series is one of the fixed
 * "other" keys and must not take a place under the cap), else 0.
 */
static int
endpoint_label(const char *ep, char *buf, size_t bufsz)
{
	size_t i, n, o = 0;

	if (ep == NULL || ep[0] == '\0') {
		snprintf(buf, bufsz, "none");
		return 0;
	}
	n = strnlen(ep, METRICS_MAX_LABEL + 1);
	if (n > METRICS_MAX_LABEL)
		goto other;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ep[i];

		if (c < 0x20 || c > 0x7e)
			goto other;
		if (o + 3 > bufsz)
			goto other;
		if (c == '\\' || c == '"')
			buf[o++] = '\\';
		buf[o++] = (char)c;
	}
	buf[o] = '\0';
	/* A real endpoint called "other" shares the "other" series. */
	return strcmp(buf, "other") == 0;
 other:
	snprintf(buf, bufsz, "other");
	return 1;
}

static const char *
msgtype_label(const char *m)
{
	size_t i;

	if (m == NULL)
		return "other";
	for (i = 0; i < sizeof(msgtypes) / sizeof(msgtypes[0]); i++)
		if (strcasecmp(m, msgtypes[i][0]) == 0)
			return msgtypes[i][1];
	return "other";
}

static const char *
result_label(const char *r)
{
	size_t i;

	if (r == NULL)
		return "other";
	for (i = 0; i < sizeof(results) / sizeof(results[0]); i++)
		if (strcasecmp(r, results[i]) == 0)
			return results[i];
	return "other";
}

static const char *
failinfo_label(int f)
{
	if (f < 0)
		return "none";
	if ((size_t)f < sizeof(failinfos) / sizeof(failinfos[0]))
		return failinfos[f];
	return "other";
}

void
metrics_inc_enroll(const char *endpoint, const char *msgtype,
    const char *result, int failinfo)
{
	char ep[2 * METRICS_MAX_LABEL + 1], key[KEY_MAX], other[KEY_MAX];
	const char *m = msgtype_label(msgtype), *r = result_label(result);
	const char *f = failinfo_label(failinfo);
	int is_other;

	is_other = endpoint_label(endpoint, ep, sizeof(ep));
	snprintf(key, sizeof(key),
	    "endpoint=\"%s\",msgtype=\"%s\",result=\"%s\",failinfo=\"%s\"",
	    ep, m, r, f);
	snprintf(other, sizeof(other),
	    "endpoint=\"other\",msgtype=\"%s\",result=\"%s\",failinfo=\"%s\"",
	    m, r, f);
	series_inc(&t_enroll, is_other ? NULL : key, other);
}

void
metrics_inc_issued(const char *endpoint)
{
	char ep[2 * METRICS_MAX_LABEL + 1], key[KEY_MAX];

	int is_other;

	is_other = endpoint_label(endpoint, ep, sizeof(ep));
	snprintf(key, sizeof(key), "endpoint=\"%s\"", ep);
	series_inc(&t_issued, is_other ? NULL : key, "endpoint=\"other\"");
}

void
metrics_http(enum metric_route route, int status)
{
	char key[KEY_MAX], other[KEY_MAX];
	const char *rn;

	if ((int)route < 0 || route >= METRIC_R__MAX)
		route = METRIC_R_OTHER;
	rn = route_names[route];
	snprintf(other, sizeof(other), "route=\"%s\",code=\"other\"", rn);
	if (status < 100 || status > 599) {
		series_inc(&t_http, NULL, other);
		return;
	}
	snprintf(key, sizeof(key), "route=\"%s\",code=\"%d\"", rn, status);
	series_inc(&t_http, key, other);
}

void
metrics_observe(enum metric_hist h, double seconds)
{
	struct histogram *hg = NULL;
	size_t i;

	if ((int)h < 0 || h >= METRIC_H__MAX || isnan(seconds))
		return;
	hg = &hists[h];
	if (seconds < 0)
		seconds = 0;
	if (seconds > 1e6)	/* keep the ns sum far from overflow */
		seconds = 1e6;
	for (i = 0; i < NBOUNDS; i++)
		if (seconds <= hist_bounds[i])
			break;
	atomic_fetch_add_explicit(&hg->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&hg->sum_ns, (uint64_t)(seconds * 1e9),
	    memory_order_relaxed);
}

double
metrics_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
metrics_gauge_add(enum metric_gauge g, long delta)
{
	if ((int)g < 0 || g >= METRIC_G__MAX)
		return;
	atomic_fetch_add_explicit(&gauges[g].value, delta,
	    memory_order_relaxed);
}

void
metrics_gauge_set(enum metric_gauge g, long value)
{
	if ((int)g < 0 || g >= METRIC_G__MAX)
		return;
	atomic_store_explicit(&gauges[g].value, value, memory_order_relaxed);
}

void
metrics_inflight_add(int delta)
{
	metrics_gauge_add(METRIC_G_INFLIGHT, delta);
}

/* ---- rendering ---- */

/* A growable output buffer capped at METRICS_MAX_OUTPUT. */
struct outbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 err;		/* first error, sticky */
};

static void
out_printf(struct outbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
out_printf(struct outbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *np = NULL;
	size_t ncap;
	int n;

	if (b->err != SCEP_OK)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = SCEP_E_INTERNAL;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		if (b->len + (size_t)n + 1 > METRICS_MAX_OUTPUT) {
			b->err = SCEP_E_TOOBIG;
			return;
		}
		ncap = b->cap * 2;
		while (ncap < b->len + (size_t)n + 1)
			ncap *= 2;
		if (ncap > METRICS_MAX_OUTPUT)
			ncap = METRICS_MAX_OUTPUT;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->err = SCEP_E_NOMEM;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

static void
out_header(struct outbuf *b, const char *name, const char *help,
    const char *type)
{
	out_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
render_table(struct outbuf *b, struct series_table *t)
{
	unsigned int i;

	out_header(b, t->name, t->help, "counter");
	for (i = 0; i < t->nslots; i++) {
		struct slot *s = &t->slots[i];

		if (atomic_load_explicit(&s->state, memory_order_acquire) !=
		    SLOT_READY)
			continue;
		out_printf(b, "%s{%s} %" PRIu64 "\n", t->name, s->key,
		    atomic_load_explicit(&s->value, memory_order_relaxed));
	}
}

static void
render_hist(struct outbuf *b, struct histogram *h)
{
	uint64_t cum = 0, sum;
	size_t i;

	out_header(b, h->name, h->help, "histogram");
	for (i = 0; i <= NBOUNDS; i++) {
		cum += atomic_load_explicit(&h->bucket[i],
		    memory_order_relaxed);
		if (i < NBOUNDS)
			out_printf(b, "%s_bucket{le=\"%g\"} %" PRIu64 "\n",
			    h->name, hist_bounds[i], cum);
		else
			out_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n",
			    h->name, cum);
	}
	sum = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
	out_printf(b, "%s_sum %" PRIu64 ".%09" PRIu64 "\n", h->name,
	    sum / 1000000000u, sum % 1000000000u);
	out_printf(b, "%s_count %" PRIu64 "\n", h->name, cum);
}

/* Read a small /proc file into buf (NUL-terminated); 0 on success. */
static int
read_small(const char *path, char *buf, size_t bufsz)
{
	FILE *f = NULL;
	size_t n;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, bufsz - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n > 0 ? 0 : -1;
}

/* Process start in seconds since the epoch: /proc/self/stat field 22
 * (clock ticks after boot) plus btime of /proc/stat. */
static int
start_time(double *out)
{
	char buf[4096], *p = NULL, *end = NULL;
	unsigned long long ticks = 0, btime = 0;
	long hz = sysconf(_SC_CLK_TCK);
	int field;

	if (hz <= 0 || read_small("/proc/self/stat", buf, sizeof(buf)) != 0)
		return -1;
	/* comm (field 2) may hold spaces and parentheses: skip to the last
	 * ')'; field 3 follows. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	for (field = 3; field < 22; field++) {
		while (*p == ' ')
			p++;
		while (*p != ' ' && *p != '\0')
			p++;
		if (*p == '\0')
			return -1;
	}
	ticks = strtoull(p, &end, 10);
	if (end == p)
		return -1;
	if (read_small("/proc/stat", buf, sizeof(buf)) != 0 ||
	    (p = strstr(buf, "\nbtime ")) == NULL)
		return -1;
	p += strlen("\nbtime ");
	btime = strtoull(p, &end, 10);
	if (end == p)
		return -1;
	*out = (double)btime + (double)ticks / (double)hz;
	return 0;
}

static long
open_fds(void)
{
	DIR *d = NULL;
	struct dirent *de = NULL;
	char self[32];
	long n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	/* Do not count the descriptor this listing uses. */
	snprintf(self, sizeof(self), "%d", dirfd(d));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, self) == 0)
			continue;
		n++;
	}
	closedir(d);
	return n;
}

static void
render_process(struct outbuf *b)
{
	struct rusage ru;
	struct rlimit rl;
	char buf[256];
	unsigned long long vsz = 0, rss = 0;
	long page = sysconf(_SC_PAGESIZE), fds;
	double t;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		t = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		    ((double)ru.ru_utime.tv_usec +
		    (double)ru.ru_stime.tv_usec) / 1e6;
		out_header(b, "process_cpu_seconds_total",
		    "Total user and system CPU time spent in seconds.",
		    "counter");
		out_printf(b, "process_cpu_seconds_total %.6f\n", t);
	}
	if (page > 0 && read_small("/proc/self/statm", buf, sizeof(buf)) ==
	    0 && sscanf(buf, "%llu %llu", &vsz, &rss) == 2) {
		out_header(b, "process_resident_memory_bytes",
		    "Resident memory size in bytes.", "gauge");
		out_printf(b, "process_resident_memory_bytes %llu\n",
		    rss * (unsigned long long)page);
		out_header(b, "process_virtual_memory_bytes",
		    "Virtual memory size in bytes.", "gauge");
		out_printf(b, "process_virtual_memory_bytes %llu\n",
		    vsz * (unsigned long long)page);
	}
	if ((fds = open_fds()) >= 0) {
		out_header(b, "process_open_fds",
		    "Number of open file descriptors.", "gauge");
		out_printf(b, "process_open_fds %ld\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		out_header(b, "process_max_fds",
		    "Maximum number of open file descriptors.", "gauge");
		if (rl.rlim_cur == RLIM_INFINITY)
			out_printf(b, "process_max_fds +Inf\n");
		else
			out_printf(b, "process_max_fds %llu\n",
			    (unsigned long long)rl.rlim_cur);
	}
	if (start_time(&t) == 0) {
		out_header(b, "process_start_time_seconds",
		    "Start time of the process since unix epoch in seconds.",
		    "gauge");
		out_printf(b, "process_start_time_seconds %.2f\n", t);
	}
}

int
metrics_render(char **out, size_t *len)
{
	struct outbuf b;
	size_t i;

	*out = NULL;
	*len = 0;
	memset(&b, 0, sizeof(b));
	b.cap = 16384;
	if ((b.p = malloc(b.cap)) == NULL)
		return SCEP_E_NOMEM;
	b.p[0] = '\0';

	render_table(&b, &t_enroll);
	render_table(&b, &t_issued);
	render_table(&b, &t_http);
	for (i = 0; i < METRIC_G__MAX; i++) {
		out_header(&b, gauges[i].name, gauges[i].help, "gauge");
		out_printf(&b, "%s %ld\n", gauges[i].name,
		    atomic_load_explicit(&gauges[i].value,
		    memory_order_relaxed));
	}
	for (i = 0; i < METRIC_H__MAX; i++)
		render_hist(&b, &hists[i]);
	out_header(&b, "scepd_metrics_overflow_total",
	    "Updates counted under endpoint=\"other\" because the label set "
	    "cap was reached.", "counter");
	out_printf(&b, "scepd_metrics_overflow_total %" PRIu64 "\n",
	    atomic_load_explicit(&overflow_total, memory_order_relaxed));
	render_process(&b);

	if (b.err != SCEP_OK) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	*len = b.len;
	return SCEP_OK;
}
