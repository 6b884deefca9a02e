/*
 * metrics.h -- the process-wide Prometheus metrics registry (issue 7).
 *
 * One global registry, written from any thread without locks: every
 * counter, gauge and histogram bucket is a C11 atomic, and a new label set
 * claims a slot of a fixed open-addressing table with compare-and-swap.
 * Nothing here allocates on the hot path, logs, or can fail visibly: a
 * metric that cannot be recorded is counted in
 * scepd_metrics_overflow_total, never an error for the request.
 *
 * Memory is bounded whatever the peers send (STYLE H5).  Label values
 * that come from the network (the endpoint, i.e. the URI extension of
 * /scep/<ext>) are kept for at most METRICS_MAX_SERIES distinct label sets
 * per family; after that, new label sets are counted under
 * endpoint="other" (keeping their other labels, which all come from fixed
 * sets).  Other label values are mapped onto fixed sets: an unknown
 * message type or result becomes "other".
 *
 * metrics_render() writes the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/); serve it
 * with Content-Type METRICS_CONTENT_TYPE.
 *
 * Errors: SCEP_OK or a negative enum scep_err (scep_err.h).
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* Distinct label sets kept per labelled family before "other". */
#define METRICS_MAX_SERIES	256
/* Longest endpoint label value kept (HTTP_MAX_URI_EXT is 64). */
#define METRICS_MAX_LABEL	64
/* Largest /metrics body metrics_render() will produce. */
#define METRICS_MAX_OUTPUT	(1024 * 1024)

/* Latency histograms (seconds), one family each. */
enum metric_hist {
	METRIC_H_REQUEST = 0,	/* scepd_request_duration_seconds: whole
				 * HTTP request, first byte to reply queued */
	METRIC_H_CRYPTO,	/* scepd_crypto_duration_seconds: private-key
				 * operations (decrypt, issue, sign reply) */
	METRIC_H_STORE,		/* scepd_store_duration_seconds: one store
				 * call or transaction */
	METRIC_H_INTUNE,	/* scepd_intune_duration_seconds: one call to
				 * the Intune validation service */
	METRIC_H__MAX
};

/* Gauges. */
enum metric_gauge {
	METRIC_G_INFLIGHT = 0,	/* scepd_inflight_requests */
	METRIC_G_QUEUE,		/* scepd_queue_depth: requests waiting for a
				 * worker or a commit group */
	METRIC_G_CONNECTIONS,	/* scepd_open_connections */
	METRIC_G__MAX
};

/* Route classes of scepd_http_requests_total{route=...}. */
enum metric_route {
	METRIC_R_SCEP = 0,	/* "scep": /scep/..., /cgi-bin/pkiclient.exe */
	METRIC_R_API,		/* "api": /api/... */
	METRIC_R_CONSOLE,	/* "console": the web console's files */
	METRIC_R_METRICS,	/* "metrics": GET /metrics */
	METRIC_R_HEALTH,	/* "health": /healthz, /readyz */
	METRIC_R_OTHER,		/* "other": anything else (404s) */
	METRIC_R__MAX
};

/*
 * One finished PKIOperation: scepd_enrollments_total{endpoint, msgtype,
 * result, failinfo}.
 *   endpoint  the URI extension; NULL or "" is "none"; longer than
 *             METRICS_MAX_LABEL bytes or with bytes outside printable
 *             ASCII is "other".
 *   msgtype   "PKCSReq", "RenewalReq", "CertPoll" (or "GetCertInitial"),
 *             "GetCert", "GetCRL"; anything else is "other".
 *   result    "SUCCESS", "FAILURE", "PENDING", "ERROR" (any case); label
 *             values are lower case; anything else is "other".
 *   failinfo  enum scep_failinfo for a FAILURE, -1 otherwise ("none").
 */
void	metrics_inc_enroll(const char *endpoint, const char *msgtype,
	    const char *result, int failinfo);

/* One certificate issued: scepd_certificates_issued_total{endpoint}. */
void	metrics_inc_issued(const char *endpoint);

/* One HTTP reply: scepd_http_requests_total{route, code}.  Codes outside
 * 100..599 are counted as code="other". */
void	metrics_http(enum metric_route route, int status);

/* One observation of "seconds" (negative values count as 0, NaN is
 * ignored).  Out-of-range "h" is ignored. */
void	metrics_observe(enum metric_hist h, double seconds);

/* A monotonic clock in seconds, for measuring what metrics_observe()
 * records: t0 = metrics_now(); ...; metrics_observe(h, metrics_now() - t0). */
double	metrics_now(void);

/* Gauges: add a (possibly negative) delta, or set a value. */
void	metrics_gauge_add(enum metric_gauge g, long delta);
void	metrics_gauge_set(enum metric_gauge g, long value);
/* Shorthand for metrics_gauge_add(METRIC_G_INFLIGHT, delta). */
void	metrics_inflight_add(int delta);

/*
 * Render every metric, and the process metrics (process_cpu_seconds_total,
 * process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_open_fds, process_max_fds, process_start_time_seconds) read now
 * from /proc and getrusage(2), as Prometheus text format 0.0.4.
 * *out (take) is NUL-terminated and released with free(); *len excludes
 * the NUL.  Safe to call concurrently with updates and with itself; a
 * sample is read atomically, a family as a whole is not (a histogram's
 * _count is the sum of its buckets as read, so they always agree).
 * Errors: SCEP_E_NOMEM, SCEP_E_TOOBIG (over METRICS_MAX_OUTPUT).
 */
int	metrics_render(char **out, size_t *len);

#endif /* !METRICS_H */
