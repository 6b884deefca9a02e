/*
 * test_get.c -- scep_get_message_decode (src/core/scep_get.c): one row per
 * escaping habit of spec 2.4, plus the limits.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "scep.h"
#include "tap.h"
#include "testkeys.h"
#include "testutil.h"

/* fb ef ff 3e 30 01 ff  ==  "++//PjAB/w==": has '+', '/' and padding. */
static const uint8_t want[7] = { 0xfb, 0xef, 0xff, 0x3e, 0x30, 0x01, 0xff };

static const struct {
	const char	*name;
	const char	*in;
	int		 r;
} rows[] = {
	{ "plain base64", "++//PjAB/w==", SCEP_OK },
	{ "sscep: + and = escaped, / literal", "%2B%2B//PjAB/w%3D%3D",
	    SCEP_OK },
	{ "everything escaped", "%2B%2B%2F%2FPjAB%2Fw%3D%3D", SCEP_OK },
	{ "lower-case escapes", "%2b%2b%2f%2fPjAB%2fw%3d%3d", SCEP_OK },
	{ "Apple: + and / literal, = escaped", "++//PjAB/w%3D%3D", SCEP_OK },
	{ "sscep/Cisco %0A line breaks", "++//%0APjAB%0A/w==", SCEP_OK },
	{ "CRLF line breaks", "++//%0D%0APjAB/w%3D%3D%0D%0A", SCEP_OK },
	{ "literal newline and tabs", "\t++//\nPjAB/w==\r\n", SCEP_OK },
	{ "form-decoded: spaces for +", "  //PjAB/w==", SCEP_OK },
	{ "%20 for +", "%20%20//PjAB/w==", SCEP_OK },
	{ "base64url (old micromdm)", "--__PjAB_w", SCEP_OK },
	{ "base64url escaped", "%2D%2D%5F%5FPjAB%5Fw", SCEP_OK },
	{ "padding missing", "++//PjAB/w", SCEP_OK },
	{ "padding short", "++//PjAB/w=", SCEP_OK },
	{ "not base64", "@@@@", SCEP_E_MALFORMED },
	{ "bad escape %G1", "++//%G1PjAB/w==", SCEP_E_MALFORMED },
	{ "escape cut at the end", "++//PjAB/w%3", SCEP_E_MALFORMED },
	{ "lone %", "%", SCEP_E_MALFORMED },
	{ "only white space", "%0A%0A\r\n", SCEP_E_MALFORMED },
	{ "only padding", "==", SCEP_E_MALFORMED },
	{ "one character", "Q", SCEP_E_MALFORMED },
	{ "five characters", "QUJDR", SCEP_E_MALFORMED },
	{ "three '='", "QQ===", SCEP_E_MALFORMED },
	{ "'=' inside", "QQ==QQ==", SCEP_E_MALFORMED },
	{ "escaped NUL", "QU%00JD", SCEP_E_MALFORMED },
	{ "non-ASCII byte", "QU\xc3\xa9JD", SCEP_E_MALFORMED },
};

static void
test_table(void)
{
	uint8_t	*out = NULL;
	size_t	 i, len = 0;
	int	 r;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		r = scep_get_message_decode(rows[i].in, strlen(rows[i].in),
		    &out, &len);
		tap_ok(r == rows[i].r && (r != SCEP_OK || (len == 7 &&
		    memcmp(out, want, 7) == 0)) && (r == SCEP_OK ||
		    (out == NULL && len == 0)),
		    "GET message: %s (r=%d)", rows[i].name, r);
		OPENSSL_free(out);
		out = NULL;
	}
	r = scep_get_message_decode("", 0, &out, &len);
	tap_ok(r == SCEP_E_MALFORMED && out == NULL, "empty value");
	r = scep_get_message_decode(NULL, 5, &out, &len);
	tap_ok(r == SCEP_E_MALFORMED && out == NULL, "NULL value");
	/* The length is honoured: no NUL terminator needed. */
	r = scep_get_message_decode("QUJD!!!!", 4, &out, &len);
	tap_ok(r == SCEP_OK && len == 3 && memcmp(out, "ABC", 3) == 0,
	    "length-delimited input");
	OPENSSL_free(out);
}

/* A real request, escaped the way sscep does it (64-char lines). */
static void
test_real(void)
{
	EVP_PKEY	*k = NULL;
	X509		*c = NULL;
	uint8_t		*der = NULL, *out = NULL;
	char		*b64 = NULL, *esc = NULL;
	size_t		 len = 0, olen = 0, i, n = 0;
	int		 bl, r;

	k = tu_key(testkey_client_pem);
	c = k != NULL ? tu_cert(k, "c", 1, NULL, NULL, 0) : NULL;
	der = c != NULL ? tu_request(SCEP_MSG_PKCSREQ, "GET", NID_sha256,
	    NID_des_ede3_cbc, 0, c, k, c, (const uint8_t *)"\x30\x00", 2,
	    &len) : NULL;
	if (der == NULL) {
		tap_ok(0, "real: setup");
		goto out;
	}
	b64 = OPENSSL_malloc(len * 2 + 4);
	esc = OPENSSL_malloc(len * 6 + 16);
	bl = EVP_EncodeBlock((unsigned char *)b64, der, (int)len);
	for (i = 0; i < (size_t)bl; i++) {
		if (i > 0 && i % 64 == 0) {
			memcpy(esc + n, "%0A", 3);
			n += 3;
		}
		if (b64[i] == '+' || b64[i] == '=') {
			n += (size_t)snprintf(esc + n, 4, "%%%02X",
			    (unsigned char)b64[i]);
		} else
			esc[n++] = b64[i];
	}
	r = scep_get_message_decode(esc, n, &out, &olen);
	tap_ok(r == SCEP_OK && olen == len && memcmp(out, der, len) == 0,
	    "a %zu-byte request, sscep-escaped, decodes exactly", len);
	OPENSSL_free(out);
	out = NULL;
	/* ... and the decoded bytes are a pkiMessage. */
	{
		struct scep_msg *m = NULL;

		r = scep_get_message_decode(b64, (size_t)bl, &out, &olen);
		r = r == SCEP_OK ? scep_msg_decode(out, olen, SCEP_ALG_DEFAULT,
		    &m) : r;
		tap_ok(r == SCEP_OK && strcmp(m->transid, "GET") == 0,
		    "GET-decoded request decodes as a pkiMessage");
		scep_msg_free(m);
	}
 out:
	OPENSSL_free(out);
	OPENSSL_free(b64);
	OPENSSL_free(esc);
	OPENSSL_free(der);
	X509_free(c);
	EVP_PKEY_free(k);
}

static void
test_limits(void)
{
	char	*big = NULL;
	uint8_t	*out = NULL;
	size_t	 n, len = 0;
	int	 r;

	n = SCEP_MAX_GET_MESSAGE + 1;
	big = OPENSSL_malloc(n);
	memset(big, 'A', n);
	r = scep_get_message_decode(big, n, &out, &len);
	tap_ok(r == SCEP_E_TOOBIG && out == NULL,
	    "input over SCEP_MAX_GET_MESSAGE: TOOBIG");
	/* Exactly SCEP_MAX_GET_DER bytes decoded is fine ... */
	n = SCEP_MAX_GET_DER / 3 * 4;
	r = scep_get_message_decode(big, n, &out, &len);
	tap_ok(r == SCEP_OK && len == SCEP_MAX_GET_DER,
	    "%d decoded bytes: OK", SCEP_MAX_GET_DER);
	OPENSSL_free(out);
	out = NULL;
	/* ... one group more is not. */
	r = scep_get_message_decode(big, n + 4, &out, &len);
	tap_ok(r == SCEP_E_TOOBIG && out == NULL,
	    "over SCEP_MAX_GET_DER decoded: TOOBIG");
	OPENSSL_free(big);
}

int
main(void)
{
	test_table();
	test_real();
	test_limits();
	return tap_done();
}
