/*
 * scep_err.c -- the only place an internal error becomes a protocol answer.
 */
#include <stddef.h>

#include "scep_err.h"

static const struct {
	int			 code;
	enum scep_failinfo	 fail;	/* RFC 8894 3.2.1.4 */
	const char		*msg;	/* for logs and failInfoText */
} errtab[] = {
	{ SCEP_OK,		SCEP_FAIL_BADREQUEST,	"success" },
	{ SCEP_E_INTERNAL,	SCEP_FAIL_BADREQUEST,	"internal error" },
	{ SCEP_E_NOMEM,		SCEP_FAIL_BADREQUEST,	"out of memory" },
	{ SCEP_E_TRUNCATED,	SCEP_FAIL_BADREQUEST,	"truncated message" },
	{ SCEP_E_MALFORMED,	SCEP_FAIL_BADREQUEST,	"malformed encoding" },
	{ SCEP_E_TOOBIG,	SCEP_FAIL_BADREQUEST,	"message too large" },
	{ SCEP_E_TRAILING,	SCEP_FAIL_BADREQUEST,	"trailing data" },
	{ SCEP_E_UNSUPPORTED,	SCEP_FAIL_BADREQUEST,	"unsupported feature" },
	{ SCEP_E_BADSIG,	SCEP_FAIL_BADMSGCHECK,	"signature check failed" },
	{ SCEP_E_BADATTR,	SCEP_FAIL_BADREQUEST,	"missing or invalid SCEP attribute" },
	{ SCEP_E_BADALG,	SCEP_FAIL_BADALG,	"algorithm not accepted" },
	{ SCEP_E_DECRYPT,	SCEP_FAIL_BADMSGCHECK,	"envelope cannot be decrypted" },
	{ SCEP_E_BADKEY,	SCEP_FAIL_BADREQUEST,	"key type or size not accepted" },
	{ SCEP_E_BADMSGTYPE,	SCEP_FAIL_BADREQUEST,	"unknown messageType" },
	{ SCEP_E_NOTFOUND,	SCEP_FAIL_BADREQUEST,	"not found" },
	{ SCEP_E_EXISTS,	SCEP_FAIL_BADREQUEST,	"already exists" },
	{ SCEP_E_STORE,		SCEP_FAIL_BADREQUEST,	"store unavailable" },
	{ SCEP_E_DENIED,	SCEP_FAIL_BADREQUEST,	"request not permitted" },
	{ SCEP_E_BADTIME,	SCEP_FAIL_BADTIME,	"signingTime out of window" },
	{ SCEP_E_BADCERTID,	SCEP_FAIL_BADCERTID,	"no certificate matches" },
	{ SCEP_E_BUSY,		SCEP_FAIL_BADREQUEST,	"server busy" },
	{ SCEP_E_IO,		SCEP_FAIL_BADREQUEST,	"input/output error" },
	{ SCEP_E_CONFIG,	SCEP_FAIL_BADREQUEST,	"configuration error" },
};

static const char *const failnames[] = {
	"badAlg", "badMessageCheck", "badRequest", "badTime", "badCertId",
};

const char *
scep_strerror(int err)
{
	size_t i;

	for (i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].code == err)
			return errtab[i].msg;
	return "unknown error";
}

enum scep_failinfo
scep_err_failinfo(int err)
{
	size_t i;

	for (i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].code == err)
			return errtab[i].fail;
	return SCEP_FAIL_BADREQUEST;
}

const char *
scep_failinfo_name(int failinfo)
{
	if (failinfo < 0 ||
	    (size_t)failinfo >= sizeof(failnames) / sizeof(failnames[0]))
		return "unknown";
	return failnames[failinfo];
}
