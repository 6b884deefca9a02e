/*
 * scep_http.c -- the SCEP HTTP binding (RFC 8894 section 4, spec 2):
 * endpoint selection from the path, operation from the query string,
 * the PKIOperation message from a POST body or a GET message= value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "http.h"
#include "log.h"
#include "metrics.h"
#include "scep.h"
#include "scep_http.h"
#include "svc.h"
#include "svc_intune.h"

/*
 * "/scep/<ext>[/anything]" -> ext.  spec 2.1: everything after the
 * extension is ignored, so /scep/x/pkiclient.exe and
 * /scep/x/cgi-bin/pkiclient.exe reach the same endpoint.
 */
static int
path_ext(const char *path, char *ext, size_t extsz)
{
	const char *p = path + strlen(SCEP_HTTP_PREFIX), *e;
	size_t n;

	e = strchr(p, '/');
	n = e != NULL ? (size_t)(e - p) : strlen(p);
	if (n == 0 || n >= extsz || n > HTTP_MAX_URI_EXT)
		return -1;
	memcpy(ext, p, n);
	ext[n] = '\0';
	return 0;
}

static int
send_result(struct http_resp *resp, struct svc_result *res)
{
	int r;

	if (res->http_status == 200 || (res->body != NULL &&
	    res->content_type != NULL)) {
		/* The service's buffers come from OPENSSL_malloc (the core's
		 * allocator); the edge frees with free(): copy. */
		return http_resp_set(resp, res->http_status, res->content_type,
		    res->body, res->body_len);
	}
	r = http_resp_text(resp, res->http_status ? res->http_status : 500,
	    "%s\n", res->error ? res->error : "error");
	if (res->http_status == 503)
		(void)http_resp_header(resp, "Retry-After", "5");
	return r;
}

/* The answer of an Intune PKIOperation, on a pool thread. */
static void
intune_done(void *arg, struct svc_result *res)
{
	struct http_resp resp;

	memset(&resp, 0, sizeof(resp));
	if (send_result(&resp, res) != 0) {
		free(resp.body);
		memset(&resp, 0, sizeof(resp));
	}
	svc_result_clear(res);
	http_resume(arg, &resp);	/* status 0: the edge answers 500 */
}

/*
 * A PKIOperation on an Intune endpoint waits for Microsoft (issue 5, "no
 * stalls"): the connection is suspended and the whole operation runs on
 * svc_intune's bounded pool; a full queue is an immediate 503.  Returns
 * HTTP_SUSPENDED, or 0 with resp filled when it could not suspend.
 */
static int
intune_pkioperation(struct svc *s, struct svc_intune *si,
    const struct store_endpoint *ep, const struct http_req *req,
    const uint8_t *der, size_t len, struct http_resp *resp)
{
	struct http_pending *p;
	struct http_resp busy;
	int r;

	if ((p = http_suspend(req)) == NULL)
		return http_resp_text(resp, 500, "cannot suspend\n");
	r = svc_intune_pkioperation_async(si, s, ep, der, len,
	    req->client_addr, req->request_id, intune_done, p);
	if (r == SCEP_OK)
		return HTTP_SUSPENDED;
	memset(&busy, 0, sizeof(busy));
	if (r == SCEP_E_BUSY) {
		log_warn("request_id=%s endpoint=%s op=PKIOperation result=503 "
		    "msg=\"Intune queue full\"", req->request_id, ep->uri_ext);
		(void)http_resp_text(&busy, 503, "busy: retry later\n");
		(void)http_resp_header(&busy, "Retry-After", "5");
	} else
		(void)http_resp_text(&busy, 500, "internal error\n");
	http_resume(p, &busy);
	return HTTP_SUSPENDED;
}

/* A prebuilt GET body of the cached key set, copied into the reply. */
static int
send_body(struct http_resp *resp, const struct svc_ep_body *b)
{
	if (b->status == 200)
		return http_resp_set(resp, 200, b->content_type, b->data,
		    b->len);
	return http_resp_text(resp, b->status, "%s\n",
	    b->error != NULL ? b->error : "error");
}

static int
is_pkioperation(const struct http_req *req, int is_post)
{
	char op[32];
	int n;

	if (is_post)
		return 1;
	n = http_req_query(req, "operation", op, sizeof(op));
	return n >= 0 && strcasecmp(op, "PKIOperation") == 0;
}

int
scep_http_handle(void *arg, const struct http_req *req, struct http_resp *resp)
{
	struct svc *s = arg;
	struct svc_intune *si = svc_get_intune(s);
	struct svc_ep *e = NULL;
	const struct store_endpoint *ep;
	struct svc_result res;
	char ext[HTTP_MAX_URI_EXT + 1], op[32];
	uint8_t *der = NULL;
	size_t derlen = 0;
	const char *raw;
	int r, n, is_post, pkiop;

	memset(&res, 0, sizeof(res));
	is_post = strcmp(req->method, "POST") == 0;
	if (!is_post && strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "HEAD") != 0)
		return http_resp_text(resp, 405, "method not allowed\n");
	pkiop = is_pkioperation(req, is_post);

	/* The cached key set of the endpoint (svc_cache.c): GETs are served
	 * from memory; a PKIOperation first reads config_version (fresh) so
	 * that a change made on another node counts at once. */
	if (strncmp(req->path, SCEP_HTTP_PREFIX,
	    strlen(SCEP_HTTP_PREFIX)) == 0) {
		if (path_ext(req->path, ext, sizeof(ext)) != 0)
			return http_resp_text(resp, 404, "no such endpoint\n");
		r = svc_ep_get(s, ext, pkiop && !req->can_defer, &e);
	} else				/* /cgi-bin/... */
		r = svc_ep_get(s, NULL, pkiop && !req->can_defer, &e);
	if (r == SCEP_E_NOTFOUND)
		return http_resp_text(resp, 404, "no such endpoint\n");
	if (r != SCEP_OK) {
		(void)http_resp_header(resp, "Retry-After", "5");
		return http_resp_text(resp, 503, "store unavailable\n");
	}
	ep = svc_ep_row(e);
	/* PKIOperations (private-key work, store writes) go through the
	 * bounded work queue, and run again on a worker, where the lookup
	 * above reads config_version; GETs are answered here, from memory.
	 * Intune endpoints have their own bounded pool (svc_intune). */
	if (pkiop && req->can_defer &&
	    (si == NULL || !svc_intune_is_intune(ep))) {
		svc_ep_put(e);
		return HTTP_DEFER;
	}

	/* spec 2.2: names and values case-insensitive, first occurrence. */
	n = http_req_query(req, "operation", op, sizeof(op));
	if (is_post) {
		/* spec 2.3: a POST with a body is a PKIOperation even when
		 * operation= is missing or misspelt. */
		if (n < 0 || strcasecmp(op, "PKIOperation") != 0)
			log_info("request_id=%s msg=\"POST without "
			    "operation=PKIOperation, treated as one\" "
			    "operation=\"%.31s\"", req->request_id,
			    n >= 0 ? op : "");
		if (req->body_len == 0) {
			r = http_resp_text(resp, 400, "empty body\n");
			goto out;
		}
		log_info("request_id=%s op=PKIOperation method=POST endpoint=%s "
		    "bytes=%zu", req->request_id, ep->uri_ext, req->body_len);
		if (si != NULL && svc_intune_is_intune(ep) && !req->deferred) {
			r = intune_pkioperation(s, si, ep, req, req->body,
			    req->body_len, resp);
			goto out;
		}
		(void)svc_pkioperation(s, ep, req->body, req->body_len,
		    req->client_addr, req->request_id, &res);
	} else if (n < 0) {
		r = http_resp_text(resp, 400, "missing operation\n");
		goto out;
	} else if (strcasecmp(op, "GetCACaps") == 0) {
		r = send_body(resp, svc_ep_body(e, SVC_OP_CACAPS));
		goto out;
	} else if (strcasecmp(op, "GetCACert") == 0) {
		r = send_body(resp, svc_ep_body(e, SVC_OP_CACERT));
		goto out;
	} else if (strcasecmp(op, "GetNextCACert") == 0) {
		r = send_body(resp, svc_ep_body(e, SVC_OP_NEXTCACERT));
		goto out;
	} else if (strcasecmp(op, "PKIOperation") == 0) {
		/* spec 2.4: decode from the raw, still escaped value. */
		if ((n = http_req_query_raw(req, "message", &raw)) <= 0) {
			r = http_resp_text(resp, 400, "missing message\n");
			goto out;
		}
		r = scep_get_message_decode(raw, (size_t)n, &der, &derlen);
		if (r != SCEP_OK) {
			r = http_resp_text(resp, r == SCEP_E_TOOBIG ? 414 :
			    400, "undecodable message: %s\n",
			    scep_strerror(r));
			goto out;
		}
		log_info("request_id=%s op=PKIOperation method=GET endpoint=%s "
		    "bytes=%zu", req->request_id, ep->uri_ext, derlen);
		if (si != NULL && svc_intune_is_intune(ep) && !req->deferred) {
			r = intune_pkioperation(s, si, ep, req, der, derlen,
			    resp);	/* der is copied */
			OPENSSL_free(der);
			goto out;
		}
		(void)svc_pkioperation(s, ep, der, derlen, req->client_addr,
		    req->request_id, &res);
		OPENSSL_free(der);
	} else {
		r = http_resp_text(resp, 400, "unknown operation\n");
		goto out;
	}
	r = send_result(resp, &res);
	svc_result_clear(&res);
 out:
	svc_ep_put(e);
	return r;
}

/* GET /crl/<ca-id>.crl: the CRL distribution point issued certificates
 * carry. */
int
scep_http_crl(void *arg, const struct http_req *req, struct http_resp *resp)
{
	struct svc *s = arg;
	struct svc_result res;
	const char *p = req->path + strlen(SCEP_HTTP_CRL_PREFIX);
	char *end = NULL;
	long long id;
	int r;

	memset(&res, 0, sizeof(res));
	id = strtoll(p, &end, 10);
	if (end == p || id <= 0 || strcmp(end, ".crl") != 0)
		return http_resp_text(resp, 404, "no such CRL\n");
	(void)svc_crl(s, (int64_t)id, &res);
	r = send_result(resp, &res);
	svc_result_clear(&res);
	return r;
}

int
scep_http_health(void *arg, const struct http_req *req, struct http_resp *resp)
{
	struct svc *s = arg;
	char v[8];
	int r;

	(void)req;
	/* Ready when the store answers. */
	r = store_setting_get(svc_store(s), "default_endpoint", v, sizeof(v));
	if (r != SCEP_OK && r != SCEP_E_NOTFOUND && r != SCEP_E_TOOBIG)
		return http_resp_text(resp, 503, "store unavailable\n");
	return http_resp_text(resp, 200, "ok\n");
}

/* GET /metrics: Prometheus text exposition (issue 7). */
int
scep_http_metrics(void *arg, const struct http_req *req,
    struct http_resp *resp)
{
	char *out = NULL;
	size_t len = 0;
	int r;

	(void)arg;
	(void)req;
	if (metrics_render(&out, &len) != SCEP_OK)
		return http_resp_text(resp, 500, "metrics unavailable\n");
	r = http_resp_take(resp, 200, METRICS_CONTENT_TYPE, (uint8_t *)out,
	    len);
	return r;
}
