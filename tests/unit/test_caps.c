/*
 * test_caps.c -- scep_caps_format (src/core/scep_caps.c): the GetCACaps
 * body of spec 3.4 for several endpoint configurations.
 */
#include <string.h>

#include "scep.h"
#include "tap.h"

static const struct {
	const char	*name;
	unsigned int	 algs;
	int		 renewal, next_ca;
	const char	*want;
} rows[] = {
	{ "default, renewal, rollover staged", SCEP_ALG_DEFAULT, 1, 1,
	    "POSTPKIOperation\nSHA-256\nSHA-512\nSHA-1\nAES\nDES3\n"
	    "Renewal\nGetNextCACert\nSCEPStandard\n" },
	{ "default, no renewal, no rollover", SCEP_ALG_DEFAULT, 0, 0,
	    "POSTPKIOperation\nSHA-256\nSHA-512\nSHA-1\nAES\nDES3\n"
	    "SCEPStandard\n" },
	{ "modern only: AES, SHA-256/512", SCEP_ALG_AES | SCEP_ALG_SHA256 |
	    SCEP_ALG_SHA512, 1, 0,
	    "POSTPKIOperation\nSHA-256\nSHA-512\nAES\nRenewal\n"
	    "SCEPStandard\n" },
	{ "legacy switch on: still no DES or MD5 keyword",
	    SCEP_ALG_DEFAULT | SCEP_ALG_LEGACY, 0, 0,
	    "POSTPKIOperation\nSHA-256\nSHA-512\nSHA-1\nAES\nDES3\n"
	    "SCEPStandard\n" },
	{ "3DES and SHA-1 only: not SCEPStandard",
	    SCEP_ALG_DES3 | SCEP_ALG_SHA1, 0, 0,
	    "POSTPKIOperation\nSHA-1\nDES3\n" },
	{ "nothing enabled", 0, 0, 0, "POSTPKIOperation\n" },
};

int
main(void)
{
	struct scep_caps	 c;
	char			 buf[512];
	size_t			 i;
	int			 n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.algs = rows[i].algs;
		c.renewal = rows[i].renewal;
		c.next_ca = rows[i].next_ca;
		n = scep_caps_format(&c, buf, sizeof(buf));
		tap_ok(n == (int)strlen(rows[i].want) &&
		    strcmp(buf, rows[i].want) == 0, "caps: %s", rows[i].name);
		tap_ok(strstr(buf, "MD5") == NULL &&
		    strstr(buf, "\nDES\n") == NULL && strncmp(buf, "DES\n",
		    4) != 0 && strstr(buf, "\r") == NULL &&
		    strstr(buf, " ") == NULL,
		    "caps: %s: nothing implying DES or MD5, no spaces",
		    rows[i].name);
	}
	/* Apple needs the explicit keywords even with SCEPStandard. */
	memset(&c, 0, sizeof(c));
	c.algs = SCEP_ALG_DEFAULT;
	n = scep_caps_format(&c, buf, sizeof(buf));
	tap_ok(n > 0 && strstr(buf, "AES\n") != NULL &&
	    strstr(buf, "POSTPKIOperation\n") != NULL &&
	    strstr(buf, "SHA-256\n") != NULL &&
	    strstr(buf, "SCEPStandard\n") != NULL,
	    "AES, POSTPKIOperation, SHA-256 listed next to SCEPStandard");
	/* Buffer too small: an error, and no partial list. */
	n = scep_caps_format(&c, buf, 20);
	tap_ok(n == SCEP_E_TOOBIG && buf[0] == '\0', "small buffer: TOOBIG");
	n = scep_caps_format(&c, buf, 0);
	tap_ok(n < 0, "zero-size buffer refused");
	n = scep_caps_format(NULL, buf, sizeof(buf));
	tap_ok(n < 0, "NULL caps refused");
	/* Exactly fitting buffer. */
	n = scep_caps_format(&c, buf, sizeof(buf));
	tap_ok(n > 0 && scep_caps_format(&c, buf, (size_t)n + 1) == n &&
	    scep_caps_format(&c, buf, (size_t)n) == SCEP_E_TOOBIG,
	    "buffer of exactly length + 1 fits, length does not");
	return tap_done();
}
