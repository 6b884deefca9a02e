/*
 * http_query.c -- the query string of a request, as pure functions over
 * the raw (still escaped) query: no libmicrohttpd, no allocation (of
 * libcrypto only OPENSSL_hexchar2int), so fuzz/fuzz_query.c can run them
 * alone.  http.c's http_req_query and http_req_query_raw are these,
 * applied to req->query.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "http_query.h"

int
http_query_raw(const char *query, const char *name, const char **val)
{
	const char *p = query, *end, *eq;
	size_t nl = strlen(name), plen, klen;

	while (p != NULL && *p != '\0') {
		end = strchr(p, '&');
		plen = end != NULL ? (size_t)(end - p) : strlen(p);
		if (plen > HTTP_QUERY_MAX)
			return -1;
		eq = memchr(p, '=', plen);
		klen = eq != NULL ? (size_t)(eq - p) : plen;
		if (klen == nl && strncasecmp(p, name, nl) == 0) {
			*val = eq != NULL ? eq + 1 : p + plen;
			return (int)(eq != NULL ? plen - klen - 1 : 0);
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return -1;
}

int
http_query_get(const char *query, const char *name, char *buf, size_t bufsz)
{
	const char *v;
	int n, i, hi, lo;
	size_t o = 0;

	if (bufsz == 0)
		return -2;
	if ((n = http_query_raw(query, name, &v)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		char c = v[i];

		if (c == '%' && i + 2 < n &&
		    (hi = OPENSSL_hexchar2int((unsigned char)v[i + 1])) >= 0 &&
		    (lo = OPENSSL_hexchar2int((unsigned char)v[i + 2])) >= 0) {
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (o + 1 >= bufsz)
			return -2;
		buf[o++] = c;
	}
	buf[o] = '\0';
	return (int)o;
}
