/*
 * fuzz_query.c -- libFuzzer target: the query string of a request
 * (src/http/http_query.c) as the SCEP binding and the admin API use it:
 * operation= percent-decoded into a small buffer, the API's parameters
 * into theirs, and the raw message= value of a GET PKIOperation through
 * scep_get_message_decode (spec 2.4).  The input is the raw query after
 * '?'; libmicrohttpd hands the URI over as a C string, so the input is
 * cut at its first NUL.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "http_query.h"
#include "scep.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What the edges ask for, with the buffer sizes they use. */
static const struct {
	const char	*name;
	size_t		 bufsz;
} params[] = {
	{ "operation", 32 },	/* scep_http.c */
	{ "limit", 32 },	/* api_query_i64 */
	{ "offset", 32 },
	{ "q", 256 },		/* api_query_str */
	{ "result", 64 },
	{ "x", 1 },		/* the smallest buffer that holds "" */
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*q, buf[256];
	const char *raw;
	uint8_t	*der = NULL;
	size_t	 qlen, derlen = 0, i;
	int	 n;

	if ((q = malloc(size + 1)) == NULL)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0';
	qlen = strlen(q);

	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		n = http_query_get(q, params[i].name, buf, params[i].bufsz);
		if (n >= 0 && ((size_t)n >= params[i].bufsz ||
		    buf[n] != '\0'))
			__builtin_trap();	/* must fit, terminated */
		n = http_query_raw(q, params[i].name, &raw);
		if (n >= 0 && (raw < q || raw + n > q + qlen))
			__builtin_trap();	/* must point into q */
	}
	if ((n = http_query_raw(q, "message", &raw)) > 0) {
		if (scep_get_message_decode(raw, (size_t)n, &der, &derlen) ==
		    SCEP_OK && derlen > SCEP_MAX_GET_DER)
			__builtin_trap();
		OPENSSL_free(der);
	}
	free(q);
	return 0;
}
