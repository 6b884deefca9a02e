/*
 * intune_http.c -- one HTTPS exchange with Microsoft (or a stand-in) over
 * libcurl, with the transport rules every call shares: HTTPS only, no
 * redirects, TLS 1.2 or newer with peer and host verification, optional
 * CA bundle and proxy, bounded answers, and the facts the retry rules of
 * spec 6.5 need (did any byte of the request leave this host?).
 *
 * Easy handles are kept in a small per-client pool so that connections,
 * TLS sessions and DNS answers are reused (curl_easy_reset keeps them).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "intune_int.h"
#include "scep_err.h"

struct sink {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	size_t		 max;
	int		 over;
};

static size_t
sink_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n, ncap;
	char *nb = NULL;

	if (nmemb != 0 && size > SIZE_MAX / nmemb)
		return 0;
	n = size * nmemb;
	if (n > s->max - s->len) {
		s->over = 1;
		return 0;	/* CURLE_WRITE_ERROR: stop reading */
	}
	if (s->len + n + 1 > s->cap) {
		ncap = s->cap ? s->cap : 4096;
		while (ncap < s->len + n + 1)
			ncap *= 2;
		if (ncap > s->max + 1)
			ncap = s->max + 1;
		if ((nb = realloc(s->buf, ncap)) == NULL)
			return 0;
		s->buf = nb;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

static CURL *
pool_get(struct intune_client *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->pool_lock);
	if (c->npool > 0)
		h = c->pool[--c->npool];
	pthread_mutex_unlock(&c->pool_lock);
	if (h != NULL) {
		curl_easy_reset(h);
		return h;
	}
	return curl_easy_init();
}

static void
pool_put(struct intune_client *c, CURL *h)
{
	pthread_mutex_lock(&c->pool_lock);
	if (c->npool < INTUNE_POOL_MAX) {
		c->pool[c->npool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->pool_lock);
	if (h != NULL)
		curl_easy_cleanup(h);
}

void
ihttp_pool_free(struct intune_client *c)
{
	size_t i;

	pthread_mutex_lock(&c->pool_lock);
	for (i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i]);
	c->npool = 0;
	pthread_mutex_unlock(&c->pool_lock);
}

void
ihttp_resp_clear(struct ihttp_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Append "name: value" to the list; the temporary copy is wiped because
 * the Authorization value is a secret. */
static int
add_header(struct curl_slist **l, const char *name, const char *value)
{
	struct curl_slist *n = NULL;
	size_t len = strlen(name) + strlen(value) + 3;
	char *h = NULL;

	if ((h = malloc(len)) == NULL)
		return SCEP_E_NOMEM;
	snprintf(h, len, "%s: %s", name, value);
	n = curl_slist_append(*l, h);
	OPENSSL_cleanse(h, len);
	free(h);
	if (n == NULL)
		return SCEP_E_NOMEM;
	*l = n;
	return SCEP_OK;
}

/* curl_slist_free_all, wiping each string first (the bearer token). */
static void
slist_wipe(struct curl_slist *l)
{
	struct curl_slist *p = NULL;

	for (p = l; p != NULL; p = p->next)
		OPENSSL_cleanse(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

#define SETOPT(opt, val) do {						\
	if (curl_easy_setopt(h, (opt), (val)) != CURLE_OK) {		\
		r = SCEP_E_INTERNAL;					\
		goto out;						\
	}								\
} while (0)

int
ihttp_do(struct intune_client *c, const struct ihttp_req *rq,
    struct ihttp_resp *rs)
{
	struct curl_slist *hdr = NULL;
	struct sink sk;
	CURL *h = NULL;
	long status = 0, reqsz = 0;
	CURLcode cc;
	int r = SCEP_E_INTERNAL;

	memset(rs, 0, sizeof(*rs));
	memset(&sk, 0, sizeof(sk));
	sk.max = rq->max_resp;
	if (rq->op < 0 || rq->op >= INTUNE_OP__MAX)
		return SCEP_E_INTERNAL;
	if ((h = pool_get(c)) == NULL)
		return SCEP_E_NOMEM;

	SETOPT(CURLOPT_URL, rq->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, c->to[rq->op].connect_ms);
	SETOPT(CURLOPT_TIMEOUT_MS, c->to[rq->op].total_ms);
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(CURLOPT_ERRORBUFFER, rs->err);
	SETOPT(CURLOPT_WRITEFUNCTION, sink_write);
	SETOPT(CURLOPT_WRITEDATA, &sk);
	/* Standard User-Agent as well as the Java library's "UserAgent"
	 * (spec 6.1). */
	SETOPT(CURLOPT_USERAGENT, c->caller);
	if (c->ca_bundle != NULL) {
		SETOPT(CURLOPT_CAINFO, c->ca_bundle);
		SETOPT(CURLOPT_PROXY_CAINFO, c->ca_bundle);
	}
	/* An explicit proxy, or none at all: "" stops libcurl from reading
	 * http_proxy/https_proxy from the environment, so the configuration
	 * alone decides where the secret goes. */
	SETOPT(CURLOPT_PROXY, c->proxy != NULL ? c->proxy : "");
	if (c->proxy != NULL) {
		SETOPT(CURLOPT_HTTPPROXYTUNNEL, 1L);
		if (c->proxy_user != NULL) {
			SETOPT(CURLOPT_PROXYAUTH, (long)CURLAUTH_BASIC);
			SETOPT(CURLOPT_PROXYUSERNAME, c->proxy_user);
			SETOPT(CURLOPT_PROXYPASSWORD, c->proxy_password);
		}
	}
	/* A fresh connection cannot be a stale keep-alive one that libcurl
	 * would silently resend on: used for validateRequest (spec 6.5). */
	if (rq->fresh)
		SETOPT(CURLOPT_FRESH_CONNECT, 1L);

	r = SCEP_E_NOMEM;
	if (add_header(&hdr, "Accept", "application/json") != SCEP_OK ||
	    add_header(&hdr, "client-request-id", rq->request_id) != SCEP_OK ||
	    add_header(&hdr, "Expect", "") != SCEP_OK)
		goto out;
	if (rq->bearer != NULL) {
		char *v = NULL;
		size_t vl = strlen(rq->bearer) + 8;

		if ((v = malloc(vl)) == NULL)
			goto out;
		snprintf(v, vl, "Bearer %s", rq->bearer);
		r = add_header(&hdr, "Authorization", v);
		OPENSSL_cleanse(v, vl);
		free(v);
		if (r != SCEP_OK)
			goto out;
		r = SCEP_E_NOMEM;
	}
	if (rq->api_version != NULL &&
	    add_header(&hdr, "api-version", rq->api_version) != SCEP_OK)
		goto out;
	if (rq->service && add_header(&hdr, "UserAgent", c->caller) != SCEP_OK)
		goto out;
	if (rq->post) {
		if (add_header(&hdr, "Content-Type", rq->content_type) !=
		    SCEP_OK)
			goto out;
		r = SCEP_E_INTERNAL;
		SETOPT(CURLOPT_POST, 1L);
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
		SETOPT(CURLOPT_POSTFIELDS, rq->body);
	} else {
		r = SCEP_E_INTERNAL;
		SETOPT(CURLOPT_HTTPGET, 1L);
	}
	SETOPT(CURLOPT_HTTPHEADER, hdr);

	cc = curl_easy_perform(h);
	rs->curl_code = (int)cc;
	(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	(void)curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &reqsz);
	/*
	 * CURLINFO_REQUEST_SIZE counts request bytes written to the
	 * connection (a proxy's CONNECT included): zero means the service
	 * cannot have seen this request, so it is safe to send again.
	 */
	rs->sent = reqsz > 0;
	rs->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
	rs->too_big = sk.over;
	if (cc == CURLE_OK) {
		rs->status = status;
	} else {
		/* A status line may have arrived before a timeout or an
		 * oversized body: keep it, the body is not usable. */
		rs->status = status;
		/* These failures all happen before the HTTP request is
		 * written (whatever a proxy's CONNECT counted). */
		rs->connect_fail = !rs->sent ||
		    cc == CURLE_COULDNT_RESOLVE_HOST ||
		    cc == CURLE_COULDNT_RESOLVE_PROXY ||
		    cc == CURLE_COULDNT_CONNECT ||
		    cc == CURLE_SSL_CONNECT_ERROR ||
		    cc == CURLE_PEER_FAILED_VERIFICATION;
		if (rs->err[0] == '\0')
			snprintf(rs->err, sizeof(rs->err), "%s",
			    curl_easy_strerror(cc));
	}
	if (cc == CURLE_OK) {
		rs->body = sk.buf;
		rs->len = sk.len;
		sk.buf = NULL;
		if (rs->body == NULL && (rs->body = calloc(1, 1)) == NULL) {
			r = SCEP_E_NOMEM;
			goto out;
		}
	}
	r = SCEP_OK;
 out:
	(void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	(void)curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	(void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	slist_wipe(hdr);
	free(sk.buf);
	pool_put(c, h);
	return r;
}
