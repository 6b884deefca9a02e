/*
 * probe.h -- `scepctl probe URL`: check a SCEP URL as a device would
 * (issue 7) and say what is wrong in plain words.
 *
 * Unlike the rest of scepctl, probe speaks SCEP (RFC 8894), not the admin
 * API: GetCACaps, GetCACert, GetNextCACert when advertised, and with
 * --challenge or --enroll a real test enrollment built and checked with
 * the project's protocol core (src/core), as scepbench does.  It needs no
 * token and works against any SCEP server.
 *
 * Every check prints one line "[ ok ]", "[WARN]" or "[FAIL]" and, for the
 * last two, an explanation.  Exit status: 0 when nothing FAILed, 1 usage,
 * 5 when a check failed.
 */
#ifndef PROBE_H
#define PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "scepctl.h"

#define PROBE_MAX_BODY		(1024 * 1024)	/* one SCEP answer */
#define PROBE_MAX_URL		(64 * 1024)	/* GET PKIOperation URL */
#define PROBE_SKEW_MAX		300		/* seconds of clock skew */
#define PROBE_EXPIRY_WARN	(30 * 86400)	/* "expires soon" */

/* GetCACaps keywords (RFC 8894 3.5.2), as bits. */
#define CAP_AES			0x0001u
#define CAP_DES3		0x0002u
#define CAP_SHA1		0x0004u
#define CAP_SHA256		0x0008u
#define CAP_SHA512		0x0010u
#define CAP_POST		0x0020u
#define CAP_RENEWAL		0x0040u
#define CAP_NEXTCA		0x0080u
#define CAP_STANDARD		0x0100u
#define CAP_UPDATE		0x0200u
#define CAP_DES			0x0400u
#define CAP_MD5			0x0800u
#define CAP_SHA224		0x1000u
#define CAP_SHA384		0x2000u

/* One HTTP answer. */
struct presp {
	long		 status;	/* 0: no answer (see cc) */
	int		 cc;		/* CURLcode */
	char		 err[256];	/* curl's error buffer */
	uint8_t		*body;		/* owned, NUL-terminated */
	size_t		 len;
	char		 ctype[128];
	long		 retry_after;	/* seconds, -1 when absent */
	time_t		 date;		/* Date header, 0 when absent */
	char		 location[256];
};

struct probe {
	/* options */
	const char	*url;
	const char	*challenge;	/* borrowed, NULL: none */
	char		 fpr[65];	/* expected CA fingerprint, lower hex */
	int		 enroll;
	int		 cipher_nid;	/* 0: from GetCACaps */
	int		 md_nid;	/* 0: from GetCACaps */
	const char	*subject;	/* CN of the test request */
	const char	*cacert;	/* TLS trust */
	int		 insecure;
	long		 timeout;	/* seconds per request */
	int		 verbose;
	/* state */
	void		*curl;		/* CURL * */
	int		 nfail, nwarn;
	int		 have_caps;
	int		 unreachable;	/* GetCACaps got no HTTP answer */
	unsigned int	 caps;
	STACK_OF(X509)	*bag;		/* owned: GetCACert */
	X509		*ca;		/* borrowed from bag */
	X509		*ra_enc;	/* borrowed: encrypt requests to */
	X509		*ra_sign;	/* borrowed: expected CertRep signer */
};

/* probe.c */
int	probe_main(struct ctx *, int argc, char **argv);
void	probe_ok(struct probe *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	probe_warn(struct probe *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	probe_fail(struct probe *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* An indented detail or explanation line under the last check. */
void	probe_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* GET (body NULL) or POST one operation; 0, or -1 out of memory. */
int	probe_http(struct probe *, const char *op, const uint8_t *body,
	    size_t len, const char *get_msg, struct presp *);
void	presp_clear(struct presp *);
/* Explain an HTTP answer that is not a 200 (or no answer): FAIL lines. */
void	probe_explain_http(struct probe *, const char *what,
	    const struct presp *);
/* Clock skew from a server time (Date header or signingTime). */
void	probe_check_skew(struct probe *, const char *what, time_t theirs);
/* Lower-case SHA-256 (64 hex) of a certificate. */
void	probe_fpr(X509 *, char out[65]);

/* probe_enroll.c: the test enrollment; needs p->ra_enc/ra_sign/ca. */
void	probe_enroll(struct probe *);

#endif /* !PROBE_H */
