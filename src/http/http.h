/*
 * http.h -- the HTTP edge (libmicrohttpd).  It knows HTTP, not SCEP or SQL:
 * it accumulates a bounded request into a struct http_req, hands it to a
 * handler from the route table, and sends the struct http_resp back.
 *
 * Handlers (SCEP in scep_http.c, the admin API in src/api/, static console
 * files) fill an http_resp; they never touch libmicrohttpd.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS_OUT	12

struct http_req {
	const char	*method;	/* "GET", "POST", ... (borrowed) */
	const char	*path;		/* without the query (borrowed) */
	const char	*query;		/* raw, still escaped; "" if none */
	const uint8_t	*body;		/* borrowed; NULL when empty */
	size_t		 body_len;
	char		 client_addr[64];	/* "127.0.0.1" */
	int		 tls;		/* arrived over TLS */
	int		 loopback;	/* peer is a loopback address */
	char		 request_id[24];	/* also logged and audited */
	void		*conn;		/* opaque (libmicrohttpd connection) */
	void		*state;		/* opaque (the edge's request state) */
	int		 can_defer;	/* the handler may return HTTP_DEFER */
	int		 deferred;	/* running on a worker thread */
};

struct http_resp {
	int		 status;
	char		 content_type[96];
	uint8_t		*body;		/* owned (malloc), freed by the edge */
	size_t		 body_len;
	size_t		 nheaders;
	struct {
		char	 name[48];
		char	 value[512];
	}		 headers[HTTP_MAX_HEADERS_OUT];
};

/* Request header by name (case-insensitive); NULL when absent. */
const char	*http_req_header(const struct http_req *, const char *name);
/* Cookie value by name; NULL when absent. */
const char	*http_req_cookie(const struct http_req *, const char *name);
/*
 * First query parameter "name" (case-insensitive), percent-decoded with
 * '+' kept as '+' (spec 2.4), into buf.  Returns its length, -1 when
 * absent, -2 when it does not fit.
 */
int	http_req_query(const struct http_req *, const char *name, char *buf,
	    size_t bufsz);
/*
 * Raw (still escaped) value of query parameter "name": *val points into
 * req->query.  Returns its length or -1 when absent.
 */
int	http_req_query_raw(const struct http_req *, const char *name,
	    const char **val);

/* Response helpers.  All return 0, or -1 when out of memory (the edge then
 * answers 500). */
int	http_resp_set(struct http_resp *, int status, const char *ctype,
	    const void *body, size_t len);		/* copies body */
int	http_resp_take(struct http_resp *, int status, const char *ctype,
	    uint8_t *body, size_t len);			/* takes body */
int	http_resp_text(struct http_resp *, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));	/* text/plain */
int	http_resp_header(struct http_resp *, const char *name,
	    const char *value);

/*
 * A route handler: fill resp and return 0 (any status), or -1 for 500.
 * When req->can_defer is set it may instead return HTTP_DEFER (touching
 * nothing): the request then waits in the bounded work queue and the
 * handler is called again on a worker thread with req->deferred set.  A
 * full queue, or a wait longer than the queue timeout, is answered 503
 * with Retry-After without calling the handler again (issue 7: past the
 * limit latency stays bounded).  The event-loop threads never block on a
 * deferred request, so cheap requests keep flowing meanwhile.
 */
#define HTTP_DEFER	2
typedef int	(*http_handler_fn)(void *arg, const struct http_req *,
		    struct http_resp *);

/* Route flags */
#define R_PREFIX	0x01	/* path matches as a prefix */
#define R_BODY		0x02	/* a body is accepted (up to maxbody) */

/*
 * Answering later ("no stalls", issue 5).  A handler whose answer needs a
 * slow outside service (an Intune enrollment waits for Microsoft) calls
 * http_suspend(req), hands the token to a worker and returns
 * HTTP_SUSPENDED; "resp" is then ignored.  The connection holds no thread
 * meanwhile.  The worker calls http_resume(token, resp) exactly once,
 * from any thread (possibly before the handler returned): resp's body is
 * taken and the connection answers it.  NULL from http_suspend: answer at
 * once instead.
 */
#define HTTP_SUSPENDED	1
struct http_pending;
struct http_pending	*http_suspend(const struct http_req *);
void	http_resume(struct http_pending *, struct http_resp *);

struct http_route {
	const char	*method;	/* NULL = any */
	const char	*path;
	unsigned int	 flags;
	size_t		 maxbody;
	http_handler_fn	 fn;
	void		*arg;
	int		 metric;	/* enum metric_route, for /metrics */
};

struct http_server;

struct http_config {
	const char	*listen[8];	/* "ADDR:PORT", NULL-terminated */
	const char	*tls_cert_pem;	/* PEM text (not path), or NULL */
	const char	*tls_key_pem;
	unsigned int	 threads;	/* 0 = number of CPUs */
	unsigned int	 connection_limit;
	unsigned int	 timeout_sec;
	size_t		 conn_memory;	/* per connection; 0: default */
	unsigned int	 workers;	/* deferred requests; 0: 4 per CPU */
	unsigned int	 queue_max;	/* waiting deferred; 0: default */
	unsigned int	 queue_timeout_ms;	/* 0: default */
};

/* Start serving "routes" (first match wins; the table must outlive the
 * server).  *out is take. */
int	http_start(const struct http_config *, const struct http_route *routes,
	    size_t nroutes, struct http_server **out);
/*
 * Shutdown, first step: stop accepting connections, answer 503 to every
 * new request, and wait until no handler runs.  Suspended requests stay
 * until resumed; call http_stop once all are (it refuses to stop a
 * daemon with suspended connections).  Accepts NULL.
 */
void	http_quiesce(struct http_server *);
void	http_stop(struct http_server *);	/* accepts NULL */

#endif /* !HTTP_H */
