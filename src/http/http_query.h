/*
 * http_query.h -- query-string parameters from the raw, still escaped
 * query (no leading '?').  Pure: no I/O, no allocation (fuzz/fuzz_query.c).
 */
#ifndef HTTP_QUERY_H
#define HTTP_QUERY_H

#include <stddef.h>
#include <limits.h>

/* A parameter longer than this is never matched (its length must fit an
 * int).  libmicrohttpd's connection memory limit keeps real URIs far
 * below it. */
#define HTTP_QUERY_MAX	(INT_MAX / 2)

/*
 * Raw (still escaped) value of the first parameter "name" (ASCII
 * case-insensitive): *val points into query.  Returns its length, 0 for
 * "name" or "name=", -1 when absent.
 */
int	http_query_raw(const char *query, const char *name, const char **val);
/*
 * The same value percent-decoded (%XX only; '+' stays '+', spec 2.4;
 * a malformed escape is kept literally) into buf, NUL-terminated.
 * Returns its length, -1 when absent, -2 when it does not fit.  A decoded
 * %00 is copied: callers that need a C string compare strlen(buf) with
 * the length.
 */
int	http_query_get(const char *query, const char *name, char *buf,
	    size_t bufsz);

#endif /* !HTTP_QUERY_H */
