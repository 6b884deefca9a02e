/*
 * scep_err.h -- one error vocabulary for the whole daemon (STYLE H2).
 *
 * Functions return SCEP_OK (0) or a negative enum scep_err.  The table in
 * scep_err.c is the only place an internal error becomes a SCEP failInfo;
 * its message is for our logs, never for the peer.
 */
#ifndef SCEP_ERR_H
#define SCEP_ERR_H

enum scep_err {
	SCEP_OK			= 0,
	SCEP_E_INTERNAL		= -1,	/* a bug or a libcrypto failure */
	SCEP_E_NOMEM		= -2,
	SCEP_E_TRUNCATED	= -3,
	SCEP_E_MALFORMED	= -4,	/* not the structure RFC 8894 asks for */
	SCEP_E_TOOBIG		= -5,	/* over a limit of scep_limits.h */
	SCEP_E_TRAILING		= -6,	/* bytes after the DER */
	SCEP_E_UNSUPPORTED	= -7,	/* a feature we do not implement */
	SCEP_E_BADSIG		= -8,	/* CMS or PKCS#10 signature */
	SCEP_E_BADATTR		= -9,	/* SCEP attribute missing/duplicated */
	SCEP_E_BADALG		= -10,	/* algorithm not accepted */
	SCEP_E_DECRYPT		= -11,	/* envelope not for us / bad padding */
	SCEP_E_BADKEY		= -12,	/* key type or size not acceptable */
	SCEP_E_BADMSGTYPE	= -13,	/* unknown messageType */
	SCEP_E_NOTFOUND		= -14,	/* store: no such object */
	SCEP_E_EXISTS		= -15,	/* store: uniqueness violated */
	SCEP_E_STORE		= -16,	/* store backend failed */
	SCEP_E_DENIED		= -17,	/* policy said no */
	SCEP_E_BADTIME		= -18,	/* signingTime out of window */
	SCEP_E_BADCERTID	= -19,	/* no certificate matches */
	SCEP_E_BUSY		= -20,	/* try again later (503) */
	SCEP_E_IO		= -21,	/* file or socket */
	SCEP_E_CONFIG		= -22,	/* bad configuration */
	SCEP_E__MIN		= -23
};

/* RFC 8894 3.2.1.4 */
enum scep_failinfo {
	SCEP_FAIL_BADALG	= 0,
	SCEP_FAIL_BADMSGCHECK	= 1,
	SCEP_FAIL_BADREQUEST	= 2,
	SCEP_FAIL_BADTIME	= 3,
	SCEP_FAIL_BADCERTID	= 4,
};

/* Short English description for logs and failInfoText; never NULL. */
const char	*scep_strerror(int err);
/* The failInfo to send for an error (badRequest when nothing fits). */
enum scep_failinfo scep_err_failinfo(int err);
/* Name of a failInfo value ("badAlg" ...); "unknown" when out of range. */
const char	*scep_failinfo_name(int failinfo);

#endif /* !SCEP_ERR_H */
