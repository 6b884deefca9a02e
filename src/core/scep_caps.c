/*
 * scep_caps.c -- the GetCACaps body (RFC 8894 3.5.2, spec 3.4), generated
 * from what the endpoint actually enforces.
 *
 * Every keyword is listed explicitly even where SCEPStandard implies it:
 * Apple reads only the explicit strings and fails enrollment when no SHA
 * keyword is listed (spec 3.3).  Nothing that implies single DES or MD5
 * is ever listed (spec 3.4, RFC 7.5): a client that falls back to them
 * does so because we did NOT list a cipher or digest, so the table below
 * has no row for them.
 */
#include <string.h>

#include "scep.h"
#include "scep_int.h"

enum caps_when {
	CAPS_ALWAYS,		/* POST is mandatory anyway */
	CAPS_ALG,		/* when (algs & bit) */
	CAPS_RENEWAL,
	CAPS_NEXTCA,
	CAPS_STANDARD,		/* all of RFC 8894 2.9: AES + SHA-256 + POST */
};

/* In the order of spec 3.4's recommended response. */
static const struct {
	const char	*word;		/* exact case: clients compare it */
	enum caps_when	 when;
	unsigned int	 bit;
} capstab[] = {
	{ "POSTPKIOperation",	CAPS_ALWAYS,	0 },
	{ "SHA-256",		CAPS_ALG,	SCEP_ALG_SHA256 },
	{ "SHA-512",		CAPS_ALG,	SCEP_ALG_SHA512 },
	{ "SHA-1",		CAPS_ALG,	SCEP_ALG_SHA1 },
	{ "AES",		CAPS_ALG,	SCEP_ALG_AES },
	{ "DES3",		CAPS_ALG,	SCEP_ALG_DES3 },
	{ "Renewal",		CAPS_RENEWAL,	0 },
	{ "GetNextCACert",	CAPS_NEXTCA,	0 },
	{ "SCEPStandard",	CAPS_STANDARD,	0 },
};

int
scep_caps_format(const struct scep_caps *caps, char *buf, size_t bufsz)
{
	size_t	i, n = 0, wl;
	int	on;

	if (caps == NULL || buf == NULL || bufsz == 0)
		return SCEP_E_INTERNAL;
	buf[0] = '\0';
	for (i = 0; i < sizeof(capstab) / sizeof(capstab[0]); i++) {
		switch (capstab[i].when) {
		case CAPS_ALWAYS:
			on = 1;
			break;
		case CAPS_ALG:
			on = (caps->algs & capstab[i].bit) != 0;
			break;
		case CAPS_RENEWAL:
			on = caps->renewal != 0;
			break;
		case CAPS_NEXTCA:
			on = caps->next_ca != 0;
			break;
		case CAPS_STANDARD:
			on = (caps->algs & SCEP_ALG_AES) &&
			    (caps->algs & SCEP_ALG_SHA256);
			break;
		default:
			on = 0;
			break;
		}
		if (!on)
			continue;
		/* "word\n" plus the final NUL must fit. */
		wl = strlen(capstab[i].word);
		if (n + wl + 2 > bufsz || n + wl + 1 > (size_t)INT32_MAX) {
			buf[0] = '\0';
			return SCEP_E_TOOBIG;
		}
		memcpy(buf + n, capstab[i].word, wl);
		n += wl;
		buf[n++] = '\n';	/* LF: clients accept LF or CRLF */
		buf[n] = '\0';
	}
	return (int)n;
}
