/*
 * http.c -- libmicrohttpd glue: daemon setup with explicit limits, bounded
 * request accumulation, dispatch through the route table, and the response.
 *
 * Limits (STYLE H7): connection count, per-connection memory (holds the
 * request line and headers, so it also bounds GET PKIOperation), timeout,
 * and a per-route body cap checked against Content-Length before anything
 * is read, and again while reading (chunked bodies).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "http.h"
#include "http_query.h"
#include "log.h"
#include "metrics.h"
#include "scep_limits.h"

#define HTTP_MAX_LISTEN	8
#define HTTP_TRIM_AFTER	256	/* closed connections between heap trims */

/*
 * Every open connection, for the head deadline: libmicrohttpd 0.9.75's
 * timeout is an idle timeout, so a client sending one header byte a second
 * (slowloris) would hold a connection for ever.  A watchdog thread shuts
 * down any connection that has not delivered a complete request head
 * within the timeout of its start or of its previous request's end.
 */
struct conn {
	int		 fd;
	int		 busy;		/* a head arrived; request in progress */
	double		 since;		/* start, or end of the last request */
	struct conn	*prev, *next;
};

struct http_server {
	struct MHD_Daemon	*d[HTTP_MAX_LISTEN];
	size_t			 nd;
	pthread_mutex_t		 cmu;
	struct conn		*conns;
	pthread_t		 watchdog;
	int			 watchdog_on;
	int			 stopping;
	double			 deadline;	/* seconds */
	atomic_int		 quiesced;	/* http_quiesce: 503 */
	atomic_int		 handlers;	/* handlers running now */
	unsigned long		 closed;	/* connections closed since the
						 * last malloc_trim() */
	const struct http_route	*routes;
	size_t			 nroutes;
	int			 tls;
	/* The work queue of deferred requests (HTTP_DEFER). */
	pthread_mutex_t		 qmu;
	pthread_cond_t		 qcv;
	struct job		*qhead, *qtail;
	size_t			 qlen, qmax;
	double			 qtimeout;	/* seconds */
	pthread_t		*workers;
	size_t			 nworkers;
	int			 qstopping;
};

/* A deferred request: what the handler needs once the event loop has
 * moved on, and the reply the worker leaves for it. */
struct job {
	struct job		*next;
	struct MHD_Connection	*conn;
	const struct http_route	*route;
	char			*path;		/* owned */
	char			 method[16];
	double			 enq;		/* mono_now() when queued */
	struct http_req		 req;
	struct http_resp	 resp;
};

/* Per-request state, created by the URI callback (which sees the raw,
 * still escaped request target) and freed by the completion callback. */
struct reqstate {
	char			*uri;		/* raw target, owned */
	const struct http_route	*route;
	uint8_t			*body;		/* owned */
	size_t			 len, cap;
	int			 started;	/* first call done */
	double			 t0;		/* metrics_now() at arrival */
	int			 toobig;
	int			 nobody;	/* body on a route without R_BODY */
	/* http_suspend / http_resume: */
	struct MHD_Connection	*conn;
	int			 suspended;
	atomic_int		 ready;		/* "later" holds the answer */
	struct http_resp	*later;	/* only while suspended (~7 KiB) */
	struct job		*job;		/* deferred; reply when resumed */
};

static void	conn_mark(struct http_server *, struct MHD_Connection *, int);

static atomic_uint_fast64_t reqcounter;
static uint32_t reqprefix;

/* Called by libmicrohttpd before parsing: its return value becomes the
 * connection's per-request pointer. */
static void *
uri_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct reqstate *rs;
	size_t n;

	(void)cls;
	(void)conn;
	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	n = strlen(uri);
	if ((rs->uri = malloc(n + 1)) == NULL) {
		free(rs);
		return NULL;
	}
	memcpy(rs->uri, uri, n + 1);
	rs->t0 = metrics_now();
	return rs;
}

static void
completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct reqstate *rs = *con_cls;

	(void)toe;
	conn_mark(cls, conn, 0);
	if (rs == NULL)
		return;
	if (rs->job != NULL) {
		free(rs->job->path);
		free(rs->job->resp.body);
		free(rs->job);
	}
	free(rs->uri);
	free(rs->body);
	if (rs->later != NULL)
		free(rs->later->body);
	free(rs->later);
	free(rs);
	*con_cls = NULL;
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
conn_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *c;

	metrics_gauge_add(METRIC_G_CONNECTIONS,
	    toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL || (c = calloc(1, sizeof(*c))) == NULL)
			return;
		c->fd = ci->connect_fd;
		c->since = mono_now();
		pthread_mutex_lock(&s->cmu);
		c->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = c;
		s->conns = c;
		pthread_mutex_unlock(&s->cmu);
		*socket_context = c;
		return;
	}
	/* Closed: notified before libmicrohttpd closes the socket, and the
	 * watchdog holds cmu while it touches an fd, so it never shuts
	 * down a reused descriptor. */
	if ((c = *socket_context) == NULL)
		return;
	pthread_mutex_lock(&s->cmu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->closed++;
	pthread_mutex_unlock(&s->cmu);
	free(c);
	*socket_context = NULL;
}

/* Mark the connection's head complete (busy) or its request done. */
static void
conn_mark(struct http_server *s, struct MHD_Connection *conn, int busy)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *c;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (c = ci->socket_context) == NULL)
		return;
	pthread_mutex_lock(&s->cmu);
	c->busy = busy;
	c->since = mono_now();
	pthread_mutex_unlock(&s->cmu);
}

static void *
watchdog_main(void *arg)
{
	struct http_server *s = arg;
	struct conn *c;
	double now, trimmed = 0;
	int trim;

	for (;;) {
		struct timespec ts = { 0, 250 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		pthread_mutex_lock(&s->cmu);
		if (s->stopping) {
			pthread_mutex_unlock(&s->cmu);
			return NULL;
		}
		now = mono_now();
		for (c = s->conns; c != NULL; c = c->next)
			if (!c->busy && now - c->since > s->deadline) {
				(void)shutdown(c->fd, SHUT_RDWR);
				c->since = now + 1e9;	/* once */
			}
		/* Each connection's memory pool (connection_memory) is a
		 * heap block below malloc's mmap threshold: after many
		 * connections have gone, hand their pages back to the
		 * system (at most once a second). */
		trim = s->closed >= HTTP_TRIM_AFTER && now - trimmed >= 1.0;
		if (trim)
			s->closed = 0;
		pthread_mutex_unlock(&s->cmu);
		if (trim) {
			(void)malloc_trim(0);
			trimmed = now;
		}
	}
}

static const struct http_route *
route_find(struct http_server *s, const char *method, const char *path)
{
	const struct http_route *r;
	size_t i, n;

	for (i = 0; i < s->nroutes; i++) {
		r = &s->routes[i];
		if (r->method != NULL && strcmp(r->method, method) != 0)
			continue;
		n = strlen(r->path);
		if (r->flags & R_PREFIX) {
			if (strncmp(path, r->path, n) == 0)
				return r;
		} else if (strcmp(path, r->path) == 0)
			return r;
	}
	return NULL;
}

static int
queue(struct MHD_Connection *conn, struct reqstate *rs, struct http_resp *resp)
{
	struct MHD_Response *mr;
	size_t i;
	int ret;

	mr = MHD_create_response_from_buffer(resp->body_len, resp->body,
	    MHD_RESPMEM_MUST_FREE);
	if (mr == NULL) {
		free(resp->body);
		resp->body = NULL;
		return MHD_NO;
	}
	resp->body = NULL;	/* now owned by mr */
	if (resp->content_type[0] != '\0')
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
		    resp->content_type);
	/* spec 2.6: no caching of any SCEP or API answer by proxies. */
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	for (i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(mr, resp->headers[i].name,
		    resp->headers[i].value);
	ret = MHD_queue_response(conn, (unsigned int)resp->status, mr);
	MHD_destroy_response(mr);
	if (rs != NULL) {
		metrics_http(rs->route != NULL ?
		    (enum metric_route)rs->route->metric : METRIC_R_OTHER,
		    resp->status);
		metrics_observe(METRIC_H_REQUEST, metrics_now() - rs->t0);
	}
	return ret;
}

static int
queue_text(struct MHD_Connection *conn, struct reqstate *rs, int status,
    const char *text)
{
	struct http_resp resp;

	memset(&resp, 0, sizeof(resp));
	if (http_resp_set(&resp, status, "text/plain", text, strlen(text)) != 0)
		return MHD_NO;
	return queue(conn, rs, &resp);
}

/* 503 with Retry-After: the work queue is full, or a request waited in
 * it longer than the queue timeout. */
static int
busy_resp(struct http_resp *resp)
{
	memset(resp, 0, sizeof(*resp));
	if (http_resp_text(resp, 503, "overloaded, retry later\n") != 0)
		return -1;
	(void)http_resp_header(resp, "Retry-After", HTTP_RETRY_AFTER);
	return 0;
}

static int
queue_busy(struct MHD_Connection *conn, struct reqstate *rs)
{
	struct http_resp resp;

	if (busy_resp(&resp) != 0)
		return MHD_NO;
	return queue(conn, rs, &resp);
}

/*
 * Put a request the handler deferred into the work queue and suspend its
 * connection until a worker has the reply.  0: queued (the job owns
 * path); 1: the queue is full (answer 503); -1: out of memory.
 */
static int
defer(struct http_server *s, struct MHD_Connection *conn,
    struct reqstate *rs, const struct http_req *req, char *path)
{
	struct job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	j->conn = conn;
	j->route = rs->route;
	j->path = path;
	snprintf(j->method, sizeof(j->method), "%s", req->method);
	j->req = *req;
	j->req.method = j->method;
	j->req.path = path;
	j->req.deferred = 1;
	j->req.can_defer = 0;
	j->enq = mono_now();
	pthread_mutex_lock(&s->qmu);
	if (s->qstopping || s->qlen >= s->qmax) {
		pthread_mutex_unlock(&s->qmu);
		free(j);
		return 1;
	}
	/* Suspended before a worker can see it, so that its resume always
	 * follows the suspension. */
	MHD_suspend_connection(conn);
	rs->job = j;
	if (s->qtail != NULL)
		s->qtail->next = j;
	else
		s->qhead = j;
	s->qtail = j;
	s->qlen++;
	metrics_gauge_add(METRIC_G_QUEUE, 1);
	pthread_cond_signal(&s->qcv);
	pthread_mutex_unlock(&s->qmu);
	return 0;
}

static void *
worker_main(void *arg)
{
	struct http_server *s = arg;
	struct job *j;
	int r;

	for (;;) {
		pthread_mutex_lock(&s->qmu);
		while (s->qhead == NULL && !s->qstopping)
			pthread_cond_wait(&s->qcv, &s->qmu);
		if ((j = s->qhead) == NULL) {
			pthread_mutex_unlock(&s->qmu);
			return NULL;	/* stopping and drained */
		}
		if ((s->qhead = j->next) == NULL)
			s->qtail = NULL;
		s->qlen--;
		metrics_gauge_add(METRIC_G_QUEUE, -1);
		pthread_mutex_unlock(&s->qmu);

		atomic_fetch_add(&s->handlers, 1);
		if (atomic_load(&s->quiesced)) {
			memset(&j->resp, 0, sizeof(j->resp));
			(void)http_resp_text(&j->resp, 503, "shutting down\n");
		} else if (mono_now() - j->enq > s->qtimeout) {
			/* Waited too long: the client has likely given up;
			 * spend nothing more on it. */
			(void)busy_resp(&j->resp);
		} else {
			metrics_inflight_add(1);
			r = j->route->fn(j->route->arg, &j->req, &j->resp);
			metrics_inflight_add(-1);
			if (r != 0 || j->resp.status == 0) {
				free(j->resp.body);
				memset(&j->resp, 0, sizeof(j->resp));
				log_error("request_id=%s path=\"%s\" "
				    "msg=\"handler failed\"",
				    j->req.request_id, j->path);
				(void)http_resp_text(&j->resp, 500,
				    "internal error\n");
			}
			ERR_clear_error();
		}
		atomic_fetch_sub(&s->handlers, 1);
		/* The event loop picks the reply up in access_cb. */
		MHD_resume_connection(j->conn);
	}
}

static void
fill_client(struct MHD_Connection *conn, struct http_req *req)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL) {
		snprintf(req->client_addr, sizeof(req->client_addr), "unknown");
		return;
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, req->client_addr,
		    sizeof(req->client_addr));
		req->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, req->client_addr,
		    sizeof(req->client_addr));
		req->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct reqstate *rs = *con_cls;
	struct http_req req;
	struct http_resp resp;
	const char *cl, *q;
	char *path = NULL;
	unsigned long long clen;
	size_t plen;
	int ret, r;

	(void)url;
	(void)version;
	if (rs == NULL)
		return MHD_NO;
	if (rs->suspended) {
		/* Called again after http_resume: send what it left. */
		if (!atomic_load(&rs->ready))
			return MHD_YES;
		rs->suspended = 0;
		ret = queue(conn, rs, rs->later);
		free(rs->later->body);
		free(rs->later);
		rs->later = NULL;
		return ret;
	}
	if (!rs->started) {
		conn_mark(s, conn, 1);	/* the head is complete */
		/* First call for this request: route it and check the
		 * declared length before reading anything. */
		q = strchr(rs->uri, '?');
		plen = q != NULL ? (size_t)(q - rs->uri) : strlen(rs->uri);
		if ((path = strndup(rs->uri, plen)) == NULL)
			return MHD_NO;
		rs->route = route_find(s, method, path);
		free(path);
		path = NULL;
		if (rs->route == NULL) {
			/* Unknown path: 404, method mismatch included. */
			return queue_text(conn, rs, 404, "not found\n");
		}
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			char *end = NULL;

			errno = 0;
			clen = strtoull(cl, &end, 10);
			if (errno != 0 || end == cl || *end != '\0')
				return queue_text(conn, rs, 400,
				    "bad Content-Length\n");
			/*
			 * Refused bodies up to HTTP_DRAIN_MAX are read and
			 * dropped before the 413: a reply sent while the
			 * client is still sending makes the kernel reset the
			 * connection (unread data at close), and the client
			 * then often loses the reply.  Larger ones are
			 * refused at once.
			 */
			if (!(rs->route->flags & R_BODY) && clen > 0) {
				if (clen > HTTP_DRAIN_MAX)
					return queue_text(conn, rs, 413,
					    "no body accepted here\n");
				rs->nobody = 1;
			} else if (clen > rs->route->maxbody) {
				if (clen > HTTP_DRAIN_MAX)
					return queue_text(conn, rs, 413,
					    "request body too large\n");
				rs->toobig = 1;
			}
		}
		rs->started = 1;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (!(rs->route->flags & R_BODY)) {
			rs->nobody = 1;
			return MHD_YES;
		}
		if (rs->toobig || n > rs->route->maxbody - rs->len) {
			rs->toobig = 1;		/* keep draining */
			return MHD_YES;
		}
		if (rs->len + n > rs->cap) {
			size_t ncap = rs->cap < 4096 ? 4096 : rs->cap;
			uint8_t *nb;

			while (ncap < rs->len + n)
				ncap *= 2;
			if (ncap > rs->route->maxbody)
				ncap = rs->route->maxbody;
			if ((nb = realloc(rs->body, ncap)) == NULL)
				return MHD_NO;
			rs->body = nb;
			rs->cap = ncap;
		}
		memcpy(rs->body + rs->len, upload_data, n);
		rs->len += n;
		return MHD_YES;
	}
	if (rs->job != NULL) {
		/* Resumed: the worker left the reply. */
		struct job *j = rs->job;

		rs->job = NULL;
		ret = queue(conn, rs, &j->resp);
		free(j->resp.body);
		free(j->path);
		free(j);
		return ret;
	}
	if (rs->toobig)
		return queue_text(conn, rs, 413, "request body too large\n");
	if (rs->nobody)
		return queue_text(conn, rs, 413, "no body accepted here\n");

	/* The whole request is here: dispatch. */
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	q = strchr(rs->uri, '?');
	plen = q != NULL ? (size_t)(q - rs->uri) : strlen(rs->uri);
	if ((path = strndup(rs->uri, plen)) == NULL)
		return MHD_NO;
	req.method = method;
	req.path = path;
	req.query = q != NULL ? q + 1 : "";
	req.body = rs->body;
	req.body_len = rs->len;
	req.conn = conn;
	req.state = rs;
	req.tls = s->tls;
	fill_client(conn, &req);
	snprintf(req.request_id, sizeof(req.request_id), "%08x%012llx",
	    (unsigned int)reqprefix,
	    (unsigned long long)atomic_fetch_add(&reqcounter, 1));
	atomic_fetch_add(&s->handlers, 1);
	if (atomic_load(&s->quiesced)) {
		atomic_fetch_sub(&s->handlers, 1);
		free(path);
		return queue_text(conn, rs, 503, "shutting down\n");
	}
	req.can_defer = s->nworkers > 0;
	metrics_inflight_add(1);
	r = rs->route->fn(rs->route->arg, &req, &resp);
	metrics_inflight_add(-1);
	atomic_fetch_sub(&s->handlers, 1);
	if (r == HTTP_SUSPENDED && rs->suspended) {
		/* http_resume answers; MHD calls back here then. */
		free(resp.body);
		ERR_clear_error();
		free(path);
		return MHD_YES;
	}
	if (r == HTTP_DEFER && req.can_defer) {
		switch (defer(s, conn, rs, &req, path)) {
		case 0:
			return MHD_YES;		/* owns path now */
		case 1:
			free(path);
			return queue_busy(conn, rs);
		default:
			free(path);
			return MHD_NO;
		}
	}
	if (r != 0 || resp.status == 0) {
		free(resp.body);
		memset(&resp, 0, sizeof(resp));
		log_error("request_id=%s path=\"%s\" msg=\"handler failed\"",
		    req.request_id, path);
		(void)http_resp_text(&resp, 500, "internal error\n");
	}
	/* libcrypto's error queue is per thread and outlives the request:
	 * drain it so it never leaks into the next request's log. */
	ERR_clear_error();
	free(path);
	ret = queue(conn, rs, &resp);
	free(resp.body);
	return ret;
}

static int
parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[256];
	const char *colon;
	unsigned long port;
	char *end = NULL;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (spec[0] == '[') {		/* [::1]:8080 */
		const char *rb = strchr(spec, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - spec - 1);
		colon = rb + 1;
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, spec + 1, hl);
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			return -1;
		hl = (size_t)(colon - spec);
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, spec, hl);
	}
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || port > 65535)
		return -1;
	if (hl == 0 || strcmp(host, "*") == 0)
		snprintf(host, sizeof(host), "0.0.0.0");
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -1;
		*sslen = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if (strcmp(host, "localhost") == 0)
			snprintf(host, sizeof(host), "127.0.0.1");
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -1;
		*sslen = sizeof(*in);
	}
	return 0;
}

/* A printf-style callback: so marked, clang's -Wformat-nonliteral (in
 * -Wformat=2) accepts the vsnprintf below. */
static void	mhd_log(void *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_debug("component=mhd msg=\"%s\"", buf);
}

int
http_start(const struct http_config *cfg, const struct http_route *routes,
    size_t nroutes, struct http_server **out)
{
	struct http_server *s = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned int flags, threads;
	long ncpu;
	size_t i, n;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->routes = routes;
	s->nroutes = nroutes;
	s->tls = cfg->tls_cert_pem != NULL;
	pthread_mutex_init(&s->cmu, NULL);
	s->deadline = cfg->timeout_sec ? cfg->timeout_sec :
	    (double)HTTP_TIMEOUT_SEC;
	if (RAND_bytes((unsigned char *)&reqprefix, sizeof(reqprefix)) != 1)
		reqprefix = (uint32_t)getpid();
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu <= 0 || ncpu > 256)
		ncpu = 2;
	threads = cfg->threads ? cfg->threads : (unsigned int)ncpu;
	pthread_mutex_init(&s->qmu, NULL);
	pthread_cond_init(&s->qcv, NULL);
	s->qmax = cfg->queue_max ? cfg->queue_max : HTTP_QUEUE_MAX;
	s->qtimeout = (cfg->queue_timeout_ms ? cfg->queue_timeout_ms :
	    HTTP_QUEUE_TIMEOUT_MS) / 1000.0;
	n = cfg->workers ? cfg->workers : (size_t)(HTTP_WORKERS_PER_CPU * ncpu);
	if ((s->workers = calloc(n, sizeof(*s->workers))) == NULL)
		goto fail;
	for (; s->nworkers < n; s->nworkers++)
		if (pthread_create(&s->workers[s->nworkers], NULL, worker_main,
		    s) != 0) {
			log_error("msg=\"cannot start a worker thread\"");
			goto fail;
		}
	for (i = 0; i < HTTP_MAX_LISTEN && cfg->listen[i] != NULL; i++) {
		if (parse_listen(cfg->listen[i], &ss, &sslen) != 0) {
			log_error("msg=\"bad listen address\" listen=\"%s\"",
			    cfg->listen[i]);
			goto fail;
		}
		/* Suspend/resume: answers that wait for Microsoft (issue
		 * 5); it also gives each daemon the ITC that
		 * MHD_quiesce_daemon needs. */
		flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		    MHD_USE_ERROR_LOG | MHD_USE_TURBO |
		    MHD_ALLOW_SUSPEND_RESUME;
		if (ss.ss_family == AF_INET6)
			flags |= MHD_USE_IPv6;
		if (cfg->tls_cert_pem != NULL)
			flags |= MHD_USE_TLS;
		s->d[s->nd] = MHD_start_daemon(flags, 0, NULL, NULL,
		    access_cb, s,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_THREAD_POOL_SIZE, threads,
		    MHD_OPTION_CONNECTION_LIMIT, cfg->connection_limit ?
		    cfg->connection_limit : (unsigned int)HTTP_CONNECTION_LIMIT,
		    MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_sec ?
		    cfg->timeout_sec : (unsigned int)HTTP_TIMEOUT_SEC,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->conn_memory ?
		    cfg->conn_memory : (size_t)HTTP_MEMORY_LIMIT,
		    MHD_OPTION_URI_LOG_CALLBACK, uri_cb, NULL,
		    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
		    MHD_OPTION_NOTIFY_CONNECTION, conn_cb, s,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		    cfg->tls_cert_pem != NULL ? MHD_OPTION_HTTPS_MEM_CERT :
		    MHD_OPTION_END, cfg->tls_cert_pem,
		    MHD_OPTION_HTTPS_MEM_KEY, cfg->tls_key_pem,
		    MHD_OPTION_END);
		if (s->d[s->nd] == NULL) {
			log_error("msg=\"cannot listen\" listen=\"%s\" "
			    "error=\"%s\"", cfg->listen[i], strerror(errno));
			goto fail;
		}
		log_info("msg=\"listening\" listen=\"%s\" threads=%u "
		    "workers=%zu queue=%zu tls=%s", cfg->listen[i], threads,
		    s->nworkers, s->qmax, cfg->tls_cert_pem ? "yes" : "no");
		s->nd++;
	}
	if (s->nd == 0) {
		log_error("msg=\"no listen address\"");
		goto fail;
	}
	if (pthread_create(&s->watchdog, NULL, watchdog_main, s) != 0) {
		log_error("msg=\"cannot start the connection watchdog\"");
		goto fail;
	}
	s->watchdog_on = 1;
	*out = s;
	return 0;
 fail:
	http_stop(s);
	return -1;
}

void
http_quiesce(struct http_server *s)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	MHD_socket fd;
	size_t i;

	if (s == NULL)
		return;
	atomic_store(&s->quiesced, 1);
	for (i = 0; i < s->nd; i++)
		if ((fd = MHD_quiesce_daemon(s->d[i])) != MHD_INVALID_SOCKET)
			(void)close(fd);
	while (atomic_load(&s->handlers) > 0)
		nanosleep(&ts, NULL);
}

struct http_pending *
http_suspend(const struct http_req *req)
{
	struct reqstate *rs = req->state;

	if (rs == NULL || rs->suspended || req->conn == NULL)
		return NULL;
	/* The answer's room, taken only by the requests that wait (not in
	 * every request's state: that is the GET hot path). */
	if (rs->later == NULL &&
	    (rs->later = calloc(1, sizeof(*rs->later))) == NULL)
		return NULL;
	rs->conn = req->conn;
	rs->suspended = 1;
	atomic_store(&rs->ready, 0);
	MHD_suspend_connection(rs->conn);
	return (struct http_pending *)(void *)rs;
}

void
http_resume(struct http_pending *p, struct http_resp *resp)
{
	struct reqstate *rs = (struct reqstate *)(void *)p;

	*rs->later = *resp;		/* takes the body */
	resp->body = NULL;
	if (rs->later->status == 0) {
		free(rs->later->body);
		memset(rs->later, 0, sizeof(*rs->later));
		(void)http_resp_text(rs->later, 500, "internal error\n");
	}
	atomic_store(&rs->ready, 1);
	MHD_resume_connection(rs->conn);
}

void
http_stop(struct http_server *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->watchdog_on) {
		pthread_mutex_lock(&s->cmu);
		s->stopping = 1;
		pthread_mutex_unlock(&s->cmu);
		pthread_join(s->watchdog, NULL);
	}
	/* Drain the work queue first: every suspended connection is
	 * resumed before its daemon stops (libmicrohttpd requires it);
	 * requests deferred from now on are refused with 503. */
	pthread_mutex_lock(&s->qmu);
	s->qstopping = 1;
	pthread_cond_broadcast(&s->qcv);
	pthread_mutex_unlock(&s->qmu);
	for (i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	free(s->workers);
	for (i = 0; i < s->nd; i++)
		MHD_stop_daemon(s->d[i]);
	pthread_mutex_destroy(&s->cmu);
	pthread_mutex_destroy(&s->qmu);
	pthread_cond_destroy(&s->qcv);
	free(s);
}

/* ---- request accessors ---- */

const char *
http_req_header(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
http_req_cookie(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

int
http_req_query_raw(const struct http_req *req, const char *name,
    const char **val)
{
	return http_query_raw(req->query, name, val);
}

int
http_req_query(const struct http_req *req, const char *name, char *buf,
    size_t bufsz)
{
	return http_query_get(req->query, name, buf, bufsz);
}

/* ---- response helpers ---- */

int
http_resp_take(struct http_resp *resp, int status, const char *ctype,
    uint8_t *body, size_t len)
{
	free(resp->body);
	resp->status = status;
	snprintf(resp->content_type, sizeof(resp->content_type), "%s",
	    ctype != NULL ? ctype : "");
	resp->body = body;
	resp->body_len = len;
	return 0;
}

int
http_resp_set(struct http_resp *resp, int status, const char *ctype,
    const void *body, size_t len)
{
	uint8_t *b;

	if ((b = malloc(len > 0 ? len : 1)) == NULL)
		return -1;
	if (len > 0)
		memcpy(b, body, len);
	return http_resp_take(resp, status, ctype, b, len);
}

int
http_resp_text(struct http_resp *resp, int status, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	return http_resp_set(resp, status, "text/plain", buf, (size_t)n);
}

int
http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
	if (resp->nheaders >= HTTP_MAX_HEADERS_OUT ||
	    strlen(name) >= sizeof(resp->headers[0].name) ||
	    strlen(value) >= sizeof(resp->headers[0].value))
		return -1;
	snprintf(resp->headers[resp->nheaders].name,
	    sizeof(resp->headers[0].name), "%s", name);
	snprintf(resp->headers[resp->nheaders].value,
	    sizeof(resp->headers[0].value), "%s", value);
	resp->nheaders++;
	return 0;
}
