/*
 * bench_http.c -- the timed phase of scepbench: N threads, each with one
 * libcurl easy handle (HTTP/1.1 keep-alive: the connection is reused for
 * every request of the thread), sending prepared requests and keeping the
 * replies for bench_verify().  No cryptography happens here.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include <curl/curl.h>

#include "bench.h"

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
self_cpu(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	    ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

int
bench_http_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? SCEP_OK :
	    SCEP_E_INTERNAL;
}

void
bench_http_cleanup(void)
{
	curl_global_cleanup();
}

/* A reply body, capped at BENCH_MAX_REPLY. */
struct rbuf {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
};

static size_t
rbuf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct rbuf *rb = arg;
	size_t n = size * nmemb, ncap;
	uint8_t *np = NULL;

	if (size != 0 && n / size != nmemb)
		return 0;
	if (n > BENCH_MAX_REPLY || rb->len + n > BENCH_MAX_REPLY)
		return 0;		/* curl reports a write error */
	if (rb->len + n + 1 > rb->cap) {
		ncap = rb->cap == 0 ? 4096 : rb->cap;
		while (ncap < rb->len + n + 1)
			ncap *= 2;
		if ((np = realloc(rb->p, ncap)) == NULL)
			return 0;
		rb->p = np;
		rb->cap = ncap;
	}
	memcpy(rb->p + rb->len, data, n);
	rb->len += n;
	rb->p[rb->len] = '\0';
	return n;
}

/* url + "?operation=" + op, or "&operation=" when url has a query. */
static int
op_url(const char *url, const char *op, char *buf, size_t bufsz)
{
	int n;

	n = snprintf(buf, bufsz, "%s%soperation=%s", url,
	    strchr(url, '?') != NULL ? "&" : "?", op);
	return n > 0 && (size_t)n < bufsz ? SCEP_OK : SCEP_E_TOOBIG;
}

static CURL *
handle_new(const char *url, double timeout, struct rbuf *rb)
{
	CURL *h = NULL;

	if ((h = curl_easy_init()) == NULL)
		return NULL;
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
	    (long)(timeout * 1000)) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, rbuf_write) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, rb) != CURLE_OK) {
		curl_easy_cleanup(h);
		return NULL;
	}
	return h;
}

long
bench_http_get(const char *url, const char *op, double timeout,
    uint8_t **body, size_t *len, char **ctype)
{
	struct rbuf rb;
	char u[BENCH_MAX_URL];
	char *ct = NULL;
	CURL *h = NULL;
	long status = -1;

	*body = NULL;
	*len = 0;
	if (ctype != NULL)
		*ctype = NULL;
	memset(&rb, 0, sizeof(rb));
	if (op_url(url, op, u, sizeof(u)) != SCEP_OK ||
	    (h = handle_new(u, timeout, &rb)) == NULL)
		return -1;
	if (curl_easy_perform(h) != CURLE_OK ||
	    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK) {
		status = -1;
		goto out;
	}
	if (ctype != NULL && curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE,
	    &ct) == CURLE_OK && ct != NULL)
		*ctype = strdup(ct);
	if (rb.p == NULL && (rb.p = calloc(1, 1)) == NULL) {
		status = -1;
		goto out;
	}
	*body = rb.p;
	*len = rb.len;
	rb.p = NULL;
 out:
	free(rb.p);
	curl_easy_cleanup(h);
	return status;
}

/* ---- the timed phase ---- */

/* The start line: workers set up their handle, then wait for "go". */
struct start {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 go;
	double		 deadline;	/* 0: count mode */
};

struct worker {
	struct bench	*b;
	pthread_t	 th;
	struct start	*start;
	double		 deadline;	/* copied from start at "go" */
	/* GET ops: latencies and failures of this thread */
	double		*lat;
	long		 nlat;
	long		 caplat;
	long		 fail[BF__MAX];
	int		 err;
};

static void
note_latency(struct worker *w, double s)
{
	double *np = NULL;
	long ncap;

	if (w->nlat == w->caplat) {
		if (w->caplat >= BENCH_MAX_REQUESTS)
			return;
		ncap = w->caplat == 0 ? 4096 : w->caplat * 2;
		if ((np = realloc(w->lat, (size_t)ncap * sizeof(*np))) ==
		    NULL)
			return;
		w->lat = np;
		w->caplat = ncap;
	}
	w->lat[w->nlat++] = s;
}

static void
enroll_loop(struct worker *w, CURL *h, struct rbuf *rb)
{
	struct bench *b = w->b;
	struct bench_req *q = NULL;
	double t0;
	long i;
	CURLcode cr;

	for (;;) {
		if (atomic_load(&b->stop) ||
		    (w->deadline > 0 && bench_now() >= w->deadline))
			break;
		if ((i = atomic_fetch_add(&b->next, 1)) >= b->nreqs) {
			if (w->deadline > 0)
				b->exhausted = 1;	/* benign race: 0 -> 1 */
			break;
		}
		q = &b->reqs[i];
		/* Size first: POSTFIELDS alone would strlen() the DER. */
		if (curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE,
		    (long)q->msg_len) != CURLE_OK ||
		    curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->msg) !=
		    CURLE_OK) {
			w->err = 1;
			break;
		}
		rb->len = 0;
		t0 = bench_now();
		cr = curl_easy_perform(h);
		q->latency = bench_now() - t0;
		q->sent = 1;
		if (cr == CURLE_OK)
			(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE,
			    &q->http_status);
		/* Keep the body, NUL-terminated for error messages. */
		if (rb->len > 0 && (q->reply = malloc(rb->len + 1)) != NULL) {
			memcpy(q->reply, rb->p, rb->len);
			q->reply[rb->len] = '\0';
			q->reply_len = rb->len;
		}
		OPENSSL_free(q->msg);
		q->msg = NULL;
	}
}

static void
get_loop(struct worker *w, CURL *h, struct rbuf *rb)
{
	struct bench *b = w->b;
	double t0;
	long status;
	CURLcode cr;

	for (;;) {
		if (atomic_load(&b->stop) ||
		    (w->deadline > 0 && bench_now() >= w->deadline))
			break;
		if (w->deadline <= 0 &&
		    atomic_fetch_add(&b->next, 1) >= b->count)
			break;
		rb->len = 0;
		status = 0;
		t0 = bench_now();
		cr = curl_easy_perform(h);
		note_latency(w, bench_now() - t0);
		if (cr != CURLE_OK)
			w->fail[BF_TRANSPORT]++;
		else if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE,
		    &status) != CURLE_OK || status != 200)
			w->fail[BF_HTTP]++;
		else if (rb->len != b->cacert_len ||
		    memcmp(rb->p, b->cacert_body, rb->len) != 0)
			w->fail[BF_BODY]++;
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	struct curl_slist *hdr = NULL, *tmp = NULL;
	struct rbuf rb;
	char u[BENCH_MAX_URL];
	CURL *h = NULL;
	const char *op;

	memset(&rb, 0, sizeof(rb));
	op = b->op == BENCH_OP_ENROLL ? "PKIOperation" :
	    b->op == BENCH_OP_GETCACAPS ? "GetCACaps" : "GetCACert";
	if (op_url(b->url, op, u, sizeof(u)) != SCEP_OK ||
	    (h = handle_new(u, b->timeout, &rb)) == NULL)
		w->err = 1;
	if (h != NULL && b->op == BENCH_OP_ENROLL) {
		/* RFC 8894 4.3; no "Expect: 100-continue" round trip. */
		if ((tmp = curl_slist_append(hdr,
		    "Content-Type: application/x-pki-message")) != NULL)
			hdr = tmp;
		if ((tmp = curl_slist_append(hdr, "Expect:")) != NULL)
			hdr = tmp;
		if (hdr == NULL || curl_easy_setopt(h, CURLOPT_HTTPHEADER,
		    hdr) != CURLE_OK || curl_easy_setopt(h, CURLOPT_POST,
		    1L) != CURLE_OK)
			w->err = 1;
	}

	pthread_mutex_lock(&w->start->mu);
	while (!w->start->go)
		pthread_cond_wait(&w->start->cv, &w->start->mu);
	w->deadline = w->start->deadline;
	pthread_mutex_unlock(&w->start->mu);
	if (w->err == 0) {
		if (b->op == BENCH_OP_ENROLL)
			enroll_loop(w, h, &rb);
		else
			get_loop(w, h, &rb);
	}
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	free(rb.p);
	return NULL;
}

int
bench_run(struct bench *b)
{
	struct worker *w = NULL;
	struct start st;
	double t0, cpu0, scpu0, scpu1;
	long total = 0, i;
	int n = b->concurrency, k, f, started = 0, rc = SCEP_OK;

	if ((w = calloc((size_t)n, sizeof(*w))) == NULL)
		return SCEP_E_NOMEM;
	memset(&st, 0, sizeof(st));
	pthread_mutex_init(&st.mu, NULL);
	pthread_cond_init(&st.cv, NULL);
	atomic_store(&b->next, 0);
	atomic_store(&b->stop, 0);
	for (k = 0; k < n; k++) {
		w[k].b = b;
		w[k].start = &st;
		if (pthread_create(&w[k].th, NULL, worker_main, &w[k]) != 0)
			break;
		started++;
	}
	if (started < n) {
		fprintf(stderr, "scepbench: only %d of %d threads started\n",
		    started, n);
		atomic_store(&b->stop, 1);
		rc = SCEP_E_INTERNAL;
	}

	scpu0 = bench_proc_cpu(b->server_pid);
	cpu0 = self_cpu();
	pthread_mutex_lock(&st.mu);
	t0 = bench_now();
	st.deadline = b->duration > 0 ? t0 + b->duration : 0;
	st.go = 1;
	pthread_cond_broadcast(&st.cv);
	pthread_mutex_unlock(&st.mu);
	for (k = 0; k < started; k++)
		pthread_join(w[k].th, NULL);
	b->elapsed = bench_now() - t0;
	b->client_cpu = self_cpu() - cpu0;
	scpu1 = bench_proc_cpu(b->server_pid);
	b->server_cpu = scpu0 >= 0 && scpu1 >= 0 ? scpu1 - scpu0 : -1;
	pthread_cond_destroy(&st.cv);
	pthread_mutex_destroy(&st.mu);

	for (k = 0; k < started; k++)
		if (w[k].err)
			rc = SCEP_E_INTERNAL;
	if (b->op == BENCH_OP_ENROLL) {
		for (i = 0; i < b->nreqs; i++)
			if (b->reqs[i].sent)
				b->done++;
	} else {
		for (k = 0; k < started; k++)
			total += w[k].nlat;
		if (total > 0 && (b->lat = malloc((size_t)total *
		    sizeof(*b->lat))) == NULL)
			rc = SCEP_E_NOMEM;
		for (k = 0; k < started; k++) {
			if (b->lat != NULL)
				memcpy(b->lat + b->nlat, w[k].lat,
				    (size_t)w[k].nlat * sizeof(*b->lat));
			if (b->lat != NULL)
				b->nlat += w[k].nlat;
			for (f = 0; f < BF__MAX; f++)
				b->get_fail[f] += w[k].fail[f];
		}
		b->done = total;
	}
	for (k = 0; k < n; k++)
		free(w[k].lat);
	free(w);
	return rc;
}
