/*
 * probe.c -- `scepctl probe URL`: options, HTTP, the report lines, and the
 * read-only checks (GetCACaps, GetCACert, GetNextCACert).  The test
 * enrollment is in probe_enroll.c.
 *
 * What a device does first (RFC 8894 3.5, 4.2, 4.6): ask GetCACaps for
 * what the server supports, fetch GetCACert (the CA alone, or a
 * degenerate PKCS#7 with the RA certificates), and pick the certificate to
 * encrypt to (keyEncipherment) and the one to expect replies from
 * (digitalSignature), as jscep and Apple's client do.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "probe.h"
#include "scep.h"

/* ---- report ---- */

static void
vline(const char *tag, const char *fmt, va_list ap)
{
	char buf[1024];
	char *c;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* Server text (bodies, subjects, failInfoText) never drives the
	 * terminal. */
	for (c = buf; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
			*c = '?';
	printf("%s%s\n", tag, buf);
}

void
probe_ok(struct probe *p, const char *fmt, ...)
{
	va_list ap;

	(void)p;
	va_start(ap, fmt);
	vline("[ ok ] ", fmt, ap);
	va_end(ap);
}

void
probe_warn(struct probe *p, const char *fmt, ...)
{
	va_list ap;

	p->nwarn++;
	va_start(ap, fmt);
	vline("[WARN] ", fmt, ap);
	va_end(ap);
}

void
probe_fail(struct probe *p, const char *fmt, ...)
{
	va_list ap;

	p->nfail++;
	va_start(ap, fmt);
	vline("[FAIL] ", fmt, ap);
	va_end(ap);
}

void
probe_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("       ", fmt, ap);
	va_end(ap);
}

/* ---- HTTP ---- */

struct pbuf {
	struct presp	*r;
	size_t		 cap;
	int		 toobig;
};

static size_t
body_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct pbuf *b = arg;
	struct presp *r = b->r;
	size_t n = size * nmemb, ncap;
	uint8_t *np;

	if (nmemb != 0 && n / nmemb != size)
		return 0;
	if (r->len + n + 1 > PROBE_MAX_BODY) {
		b->toobig = 1;
		return 0;
	}
	if (r->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 8192;
		while (ncap < r->len + n + 1)
			ncap *= 2;
		if ((np = realloc(r->body, ncap)) == NULL)
			return 0;
		r->body = np;
		b->cap = ncap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Header value of "name" in one header line, trimmed, into out. */
static int
header_value(const char *line, size_t n, const char *name, char *out,
    size_t outsz)
{
	size_t k = strlen(name), i;

	if (n <= k + 1 || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return 0;
	line += k + 1;
	n -= k + 1;
	while (n > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' ||
	    line[n - 1] == ' '))
		n--;
	if (n >= outsz)
		n = outsz - 1;
	for (i = 0; i < n; i++)
		out[i] = line[i];
	out[n] = '\0';
	return 1;
}

static size_t
header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct presp *r = arg;
	size_t n = size * nmemb;
	char v[256];
	char *end = NULL;
	long s;

	if (header_value(data, n, "Retry-After", v, sizeof(v))) {
		s = strtol(v, &end, 10);
		if (end != v && *end == '\0' && s >= 0)
			r->retry_after = s;
		else if ((s = (long)curl_getdate(v, NULL)) > 0)
			r->retry_after = s - (long)time(NULL);
	} else if (header_value(data, n, "Date", v, sizeof(v)))
		r->date = curl_getdate(v, NULL) > 0 ? curl_getdate(v, NULL) :
		    0;
	else if (header_value(data, n, "Location", v, sizeof(v)))
		snprintf(r->location, sizeof(r->location), "%s", v);
	return n;
}

void
presp_clear(struct presp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
}

int
probe_http(struct probe *p, const char *op, const uint8_t *body, size_t len,
    const char *get_msg, struct presp *r)
{
	CURL *h = p->curl;
	struct curl_slist *hdr = NULL;
	struct pbuf b;
	char *url = NULL, *esc = NULL, *ct = NULL;
	size_t ulen;
	int rc = -1;

	presp_clear(r);
	memset(&b, 0, sizeof(b));
	b.r = r;
	if (get_msg != NULL && (esc = curl_easy_escape(h, get_msg, 0)) ==
	    NULL)
		return -1;
	ulen = strlen(p->url) + strlen(op) + 32 + (esc ? strlen(esc) : 0);
	if (ulen > PROBE_MAX_URL || (url = malloc(ulen)) == NULL)
		goto out;
	snprintf(url, ulen, "%s%soperation=%s%s%s", p->url,
	    strchr(p->url, '?') != NULL ? "&" : "?", op,
	    esc ? "&message=" : "", esc ? esc : "");
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, p->timeout);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, p->timeout);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "scepctl-probe/"
	    SCEPCTL_VERSION);
	if (p->verbose)
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	if (p->cacert != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, p->cacert);
	if (p->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (body != NULL) {
		hdr = curl_slist_append(hdr,
		    "Content-Type: application/x-pki-message");
		hdr = curl_slist_append(hdr, "Expect:");
		if (hdr == NULL)
			goto out;
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	r->cc = (int)curl_easy_perform(h);
	if (r->cc != CURLE_OK) {
		if (b.toobig)
			snprintf(r->err, sizeof(r->err), "answer larger than "
			    "%d bytes", PROBE_MAX_BODY);
		else if (r->err[0] == '\0')
			snprintf(r->err, sizeof(r->err), "%s",
			    curl_easy_strerror((CURLcode)r->cc));
		r->status = 0;
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) ==
		    CURLE_OK && ct != NULL)
			snprintf(r->ctype, sizeof(r->ctype), "%s", ct);
	}
	if (r->body == NULL && (r->body = calloc(1, 1)) == NULL)
		goto out;
	rc = 0;
 out:
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdr);
	curl_free(esc);
	free(url);
	return rc;
}

/* Transport errors, in the words a support desk needs. */
static const char *
explain_cc(int cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		return "connection refused or unreachable: nothing listens at "
		    "that host and port (is the server running? the right "
		    "port? a firewall in between?)";
	case CURLE_COULDNT_RESOLVE_HOST:
		return "the host name does not resolve (DNS): check the "
		    "spelling of the URL and the device's DNS";
	case CURLE_OPERATION_TIMEDOUT:
		return "no answer in time: the server is overloaded or hung, "
		    "or a firewall drops the packets";
	case CURLE_PEER_FAILED_VERIFICATION:
		return "TLS: the server's certificate is not trusted or does "
		    "not name this host (give the issuing CA with --cacert; "
		    "devices need it in their trust store too)";
	case CURLE_SSL_CONNECT_ERROR:
		return "TLS handshake failed: the port may speak plain HTTP "
		    "(try http://), or client and server share no protocol "
		    "version or cipher";
	case CURLE_SSL_CACERT_BADFILE:
		return "the --cacert file cannot be read";
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		return "the server closed the connection without an answer "
		    "(it crashed, a proxy cut it, or https:// was used on a "
		    "plain HTTP port or the reverse)";
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return "the URL is not a valid http:// or https:// URL";
	default:
		return NULL;
	}
}

void
probe_explain_http(struct probe *p, const char *what, const struct presp *r)
{
	const char *why = NULL;
	char snip[121];
	size_t i;

	if (r->status == 0) {
		probe_fail(p, "%s: no answer: %s", what, r->err);
		if ((why = explain_cc(r->cc)) != NULL)
			probe_say("%s", why);
		return;
	}
	probe_fail(p, "%s: HTTP %ld%s%s", what, r->status,
	    r->ctype[0] ? ", " : "", r->ctype);
	switch (r->status) {
	case 301: case 302: case 303: case 307: case 308:
		probe_say("redirected to %s: most SCEP clients do not follow "
		    "redirects; configure the final URL", r->location[0] ?
		    r->location : "(no Location)");
		break;
	case 400:
		probe_say("the server found the request malformed");
		break;
	case 401:
		probe_say("the server (or a proxy in front of it) wants "
		    "authentication: SCEP clients cannot give any");
		break;
	case 403:
		probe_say("forbidden: the endpoint is disabled, or this "
		    "client address is not allowed (or a proxy/WAF refuses)");
		break;
	case 404:
		probe_say("no SCEP service at this path: check the URI "
		    "extension (the part after /scep/) and the path; scepd "
		    "serves /scep/EXT, /scep/EXT/pkiclient.exe and "
		    "/cgi-bin/pkiclient.exe");
		break;
	case 405:
		probe_say("method not allowed here: the server (or a proxy) "
		    "refuses this HTTP method");
		break;
	case 413:
		probe_say("the request is too large for the server or a "
		    "proxy in front of it");
		break;
	case 415:
		probe_say("the server refused the content type of the "
		    "request");
		break;
	case 429:
	case 503:
		probe_say("the server is %s%s; devices should retry later",
		    r->status == 429 ? "rate-limiting this client" :
		    "overloaded, starting, or its database is unavailable",
		    "");
		if (r->retry_after >= 0)
			probe_say("Retry-After: %ld s", r->retry_after);
		break;
	case 500:
		probe_say("the server failed internally: see its log");
		break;
	case 502: case 504:
		probe_say("a proxy or load balancer could not reach the SCEP "
		    "server behind it");
		break;
	default:
		break;
	}
	/* The first line of a text body often says more. */
	if (r->len > 0 && (strncmp(r->ctype, "text/", 5) == 0 ||
	    strncmp(r->ctype, "application/json", 16) == 0)) {
		for (i = 0; i < r->len && i < sizeof(snip) - 1 &&
		    r->body[i] != '\n'; i++)
			snip[i] = (char)r->body[i];
		snip[i] = '\0';
		if (i > 0)
			probe_say("server said: %s", snip);
	}
}

void
probe_check_skew(struct probe *p, const char *what, time_t theirs)
{
	long d;

	if (theirs <= 0)
		return;
	d = (long)(theirs - time(NULL));
	if (d > PROBE_SKEW_MAX || d < -PROBE_SKEW_MAX) {
		probe_warn(p, "clock skew: %s is %ld s %s this machine", what,
		    d < 0 ? -d : d, d < 0 ? "behind" : "ahead of");
		probe_say("certificates may look not yet valid or expired, "
		    "and the server may refuse requests with badTime; fix "
		    "the clocks (NTP)");
	}
}

void
probe_fpr(X509 *x, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	out[0] = '\0';
	if (X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
		return;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- GetCACaps ---- */

static const struct {
	const char	*word;
	unsigned int	 bit;
} capwords[] = {
	{ "AES", CAP_AES }, { "DES3", CAP_DES3 }, { "SHA-1", CAP_SHA1 },
	{ "SHA-224", CAP_SHA224 }, { "SHA-256", CAP_SHA256 },
	{ "SHA-384", CAP_SHA384 }, { "SHA-512", CAP_SHA512 },
	{ "POSTPKIOperation", CAP_POST }, { "Renewal", CAP_RENEWAL },
	{ "GetNextCACert", CAP_NEXTCA }, { "SCEPStandard", CAP_STANDARD },
	{ "Update", CAP_UPDATE }, { "DES", CAP_DES }, { "MD5", CAP_MD5 },
};

static void
check_caps(struct probe *p)
{
	struct presp r;
	char line[128], list[512] = "";
	size_t i, k, o = 0;
	unsigned int c = 0;
	int known;

	memset(&r, 0, sizeof(r));
	if (probe_http(p, "GetCACaps", NULL, 0, NULL, &r) != 0) {
		probe_fail(p, "GetCACaps: out of memory");
		goto out;
	}
	probe_check_skew(p, "the server's clock (HTTP Date)", r.date);
	if (r.status != 200) {
		probe_explain_http(p, "GetCACaps", &r);
		p->unreachable = r.status == 0;
		goto out;
	}
	p->have_caps = 1;
	for (i = 0; i < r.len; ) {
		for (k = 0; i < r.len && r.body[i] != '\n'; i++)
			if (k < sizeof(line) - 1 && r.body[i] != '\r')
				line[k++] = (char)r.body[i];
		line[k] = '\0';
		i++;
		if (k == 0)
			continue;
		known = 0;
		/* RFC 8894 3.5.2: keywords are case-insensitive. */
		for (k = 0; k < sizeof(capwords) / sizeof(capwords[0]); k++)
			if (strcasecmp(line, capwords[k].word) == 0) {
				c |= capwords[k].bit;
				known = 1;
			}
		if (o < sizeof(list))
			o += (size_t)snprintf(list + o, sizeof(list) - o,
			    "%s%s%s", o ? " " : "", line, known ? "" : "(?)");
	}
	p->caps = c;
	probe_ok(p, "GetCACaps: %s", list[0] ? list : "(empty)");
	if (strncasecmp(r.ctype, "text/plain", 10) != 0)
		probe_warn(p, "GetCACaps content type is \"%s\", not "
		    "text/plain: some clients then ignore the capabilities",
		    r.ctype);
	/* RFC 8894 3.5.2: SCEPStandard means AES, SHA-256 and POST. */
	if (c & CAP_STANDARD)
		c |= CAP_AES | CAP_SHA256 | CAP_POST;
	if (!(c & CAP_AES))
		probe_warn(p, "no AES: devices encrypt requests with %s",
		    (c & CAP_DES3) ? "triple DES (slow, weak)" :
		    "single DES (broken); modern clients may refuse");
	if (!(c & (CAP_SHA256 | CAP_SHA512)))
		probe_warn(p, "no SHA-256 or SHA-512: devices sign with %s",
		    (c & CAP_SHA1) ? "SHA-1 (deprecated)" : "MD5 (broken)");
	if (!(c & CAP_POST))
		probe_warn(p, "no POSTPKIOperation: requests travel in the "
		    "URL (GET); proxies may cut long URLs and some clients "
		    "(Windows/Intune) expect POST");
	if (c & (CAP_DES | CAP_MD5))
		probe_warn(p, "legacy algorithms advertised (%s%s%s): fine "
		    "for old gear only", (c & CAP_DES) ? "DES" : "",
		    (c & CAP_DES) && (c & CAP_MD5) ? ", " : "",
		    (c & CAP_MD5) ? "MD5" : "");
	if (!(c & CAP_RENEWAL))
		probe_say("no Renewal: devices re-enroll with a challenge "
		    "instead of renewing with their certificate");
	p->caps = c;
 out:
	presp_clear(&r);
}

/* ---- GetCACert ---- */

static void
fmt_asn1_time(const ASN1_TIME *t, char *buf, size_t bufsz)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, bufsz, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(buf, bufsz, "?");
}

static void
name_of(const X509_NAME *n, char *buf, size_t bufsz)
{
	BIO *b = NULL;
	int len;

	buf[0] = '\0';
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0 &&
	    (len = BIO_read(b, buf, (int)bufsz - 1)) > 0)
		buf[len] = '\0';
	BIO_free(b);
}

static int
is_ca(X509 *x)
{
	return X509_check_ca(x) != 0;
}

/* The RA choice of jscep and Apple (spec 4.3): first non-CA certificate
 * with keyEncipherment (digitalSignature), else the CA. */
static void
pick(struct probe *p)
{
	uint32_t ku;
	X509 *x;
	int i;

	p->ra_enc = p->ra_sign = p->ca = NULL;
	for (i = 0; i < sk_X509_num(p->bag); i++) {
		x = sk_X509_value(p->bag, i);
		if (is_ca(x)) {
			/* The issuing CA: issued the RA, or self-signed. */
			if (p->ca == NULL ||
			    X509_check_issued(x, x) == X509_V_OK)
				p->ca = x;
			continue;
		}
		ku = X509_get_key_usage(x);
		if (p->ra_enc == NULL && (ku & KU_KEY_ENCIPHERMENT))
			p->ra_enc = x;
		if (p->ra_sign == NULL && (ku & KU_DIGITAL_SIGNATURE))
			p->ra_sign = x;
	}
	if (p->ra_sign != NULL)
		for (i = 0; i < sk_X509_num(p->bag); i++) {
			x = sk_X509_value(p->bag, i);
			if (is_ca(x) && X509_check_issued(x, p->ra_sign) ==
			    X509_V_OK) {
				p->ca = x;
				break;
			}
		}
	if (p->ca == NULL && sk_X509_num(p->bag) > 0)
		p->ca = sk_X509_value(p->bag, 0);
	if (p->ra_enc == NULL)
		p->ra_enc = p->ca;
	if (p->ra_sign == NULL)
		p->ra_sign = p->ca;
}

static void
describe(struct probe *p, X509 *x, int i)
{
	char name[512], t0[32], t1[32], fpr[65], use[128] = "";
	uint32_t ku = X509_get_key_usage(x);
	EVP_PKEY *k = X509_get0_pubkey(x);
	time_t now = time(NULL), later = now + PROBE_EXPIRY_WARN;
	const char *role;

	name_of(X509_get_subject_name(x), name, sizeof(name));
	fmt_asn1_time(X509_get0_notBefore(x), t0, sizeof(t0));
	fmt_asn1_time(X509_get0_notAfter(x), t1, sizeof(t1));
	probe_fpr(x, fpr);
	if (x == p->ca)
		role = x == p->ra_enc ? "CA, also acting as RA" : "CA";
	else if (x == p->ra_enc && x == p->ra_sign)
		role = "RA (encryption and signing)";
	else if (x == p->ra_enc)
		role = "RA (encryption)";
	else if (x == p->ra_sign)
		role = "RA (signing)";
	else
		role = is_ca(x) ? "CA certificate" : "unused";
	if (ku == UINT32_MAX)
		snprintf(use, sizeof(use), "no keyUsage extension");
	else
		snprintf(use, sizeof(use), "%s%s%s%s",
		    (ku & KU_DIGITAL_SIGNATURE) ? " digitalSignature" : "",
		    (ku & KU_KEY_ENCIPHERMENT) ? " keyEncipherment" : "",
		    (ku & KU_KEY_CERT_SIGN) ? " keyCertSign" : "",
		    (ku & KU_CRL_SIGN) ? " cRLSign" : "");
	probe_say("[%d] %s: %s", i, role, name);
	probe_say("    valid %s .. %s, %s %d bits, key usage:%s", t0, t1,
	    k != NULL ? OBJ_nid2sn(EVP_PKEY_get_base_id(k)) : "?",
	    k != NULL ? EVP_PKEY_get_bits(k) : 0, use);
	probe_say("    SHA-256 %s", fpr);
	if (X509_cmp_time(X509_get0_notAfter(x), &now) < 0) {
		probe_fail(p, "%s certificate %s expired on %s", role, name,
		    t1);
		probe_say("devices refuse it; %s", x == p->ca ? "the CA must "
		    "be renewed" : "issue and stage a new RA certificate "
		    "(scepctl ra create, scepctl ra stage/activate)");
	} else if (X509_cmp_time(X509_get0_notBefore(x), &now) > 0) {
		probe_fail(p, "%s certificate %s is not valid before %s",
		    role, name, t0);
		probe_say("the server's clock or this machine's is wrong, or "
		    "the certificate was issued for the future");
	} else if (X509_cmp_time(X509_get0_notAfter(x), &later) < 0)
		probe_warn(p, "%s certificate expires soon (%s)", role, t1);
}

static int
load_bag(struct probe *p, const struct presp *r)
{
	const unsigned char *q = r->body;
	X509 *x = NULL;
	int single;

	single = strncasecmp(r->ctype, "application/x-x509-ca-cert", 26) ==
	    0;
	if (!single && strncasecmp(r->ctype, "application/x-x509-ca-ra-cert",
	    29) != 0)
		probe_fail(p, "GetCACert content type \"%s\": clients expect "
		    "application/x-x509-ca-cert (CA only) or "
		    "application/x-x509-ca-ra-cert (PKCS#7 with RA "
		    "certificates), and some give up on anything else",
		    r->ctype);
	/* Whatever the label, try both forms. */
	if ((x = d2i_X509(NULL, &q, (long)r->len)) != NULL &&
	    q == r->body + r->len) {
		if ((p->bag = sk_X509_new_null()) == NULL ||
		    !sk_X509_push(p->bag, x)) {
			X509_free(x);
			return -1;
		}
		if (!single)
			probe_warn(p, "GetCACert sent a single certificate "
			    "labelled \"%s\"", r->ctype);
		return 0;
	}
	X509_free(x);
	ERR_clear_error();
	if (scep_certs_only_decode(r->body, r->len, &p->bag, NULL) ==
	    SCEP_OK && sk_X509_num(p->bag) > 0) {
		if (single)
			probe_fail(p, "GetCACert labelled a PKCS#7 as a "
			    "single certificate (x-x509-ca-cert)");
		return 0;
	}
	ERR_clear_error();
	probe_fail(p, "GetCACert: the answer (%zu bytes) is neither a DER "
	    "certificate nor a degenerate PKCS#7 of certificates", r->len);
	return -1;
}

static void
check_fingerprint(struct probe *p)
{
	char f[65];
	int i;

	if (p->fpr[0] == '\0') {
		probe_say("(pass --ca-fingerprint SHA256 to check that this is "
		    "the CA the devices are configured for)");
		return;
	}
	for (i = 0; i < sk_X509_num(p->bag); i++) {
		probe_fpr(sk_X509_value(p->bag, i), f);
		if (strcmp(f, p->fpr) != 0)
			continue;
		if (sk_X509_value(p->bag, i) == p->ca)
			probe_ok(p, "CA fingerprint matches --ca-fingerprint");
		else
			probe_warn(p, "--ca-fingerprint matches certificate "
			    "[%d], which is not the issuing CA", i);
		return;
	}
	probe_fpr(p->ca, f);
	probe_fail(p, "CA fingerprint mismatch: expected %s, the server's "
	    "CA is %s", p->fpr, f);
	probe_say("devices configured with the expected fingerprint will "
	    "refuse this server: wrong URL or endpoint, the CA was "
	    "re-created, or a proxy answers in its place");
}

static void
check_cacert(struct probe *p)
{
	struct presp r;
	int i;

	memset(&r, 0, sizeof(r));
	if (probe_http(p, "GetCACert", NULL, 0, NULL, &r) != 0) {
		probe_fail(p, "GetCACert: out of memory");
		goto out;
	}
	if (r.status != 200) {
		probe_explain_http(p, "GetCACert", &r);
		goto out;
	}
	if (load_bag(p, &r) != 0)
		goto out;
	pick(p);
	probe_ok(p, "GetCACert: %d certificate%s (%s)", sk_X509_num(p->bag),
	    sk_X509_num(p->bag) == 1 ? "" : "s",
	    sk_X509_num(p->bag) == 1 ? "the CA acts as RA" :
	    "degenerate PKCS#7 with RA certificates");
	for (i = 0; i < sk_X509_num(p->bag); i++)
		describe(p, sk_X509_value(p->bag, i), i);
	if (p->ra_enc != p->ca && p->ra_enc != NULL &&
	    X509_check_issued(p->ca, p->ra_enc) != X509_V_OK)
		probe_warn(p, "the RA certificate was not issued by the CA "
		    "in the answer: devices may not trust its replies");
	if (sk_X509_num(p->bag) > 1 && p->ra_enc == p->ca)
		probe_warn(p, "no RA certificate with keyEncipherment: "
		    "devices will encrypt to the CA itself");
	if (p->ra_sign == p->ca && p->ca != NULL &&
	    !(X509_get_key_usage(p->ca) & KU_DIGITAL_SIGNATURE))
		probe_warn(p, "replies will be signed by a CA without "
		    "digitalSignature: strict clients (certmonger) reject "
		    "them");
	check_fingerprint(p);
 out:
	presp_clear(&r);
}

/* ---- GetNextCACert (RFC 8894 4.6) ---- */

static void
check_nextca(struct probe *p)
{
	struct presp r;
	STACK_OF(X509) *next = NULL;
	X509 *signer = NULL;
	char name[512];
	int i, e;

	memset(&r, 0, sizeof(r));
	if (probe_http(p, "GetNextCACert", NULL, 0, NULL, &r) != 0) {
		probe_fail(p, "GetNextCACert: out of memory");
		goto out;
	}
	if (r.status != 200) {
		probe_explain_http(p, "GetNextCACert (advertised in "
		    "GetCACaps)", &r);
		goto out;
	}
	if ((e = scep_nextca_decode(r.body, r.len, SCEP_ALG_DEFAULT,
	    &next, &signer)) != SCEP_OK) {
		probe_fail(p, "GetNextCACert: %s", scep_strerror(e));
		goto out;
	}
	if (p->ca == NULL || EVP_PKEY_eq(X509_get0_pubkey(signer),
	    X509_get0_pubkey(p->ca)) != 1) {
		probe_fail(p, "GetNextCACert is not signed by the current CA: "
		    "devices will ignore the rollover certificates");
		goto out;
	}
	probe_ok(p, "GetNextCACert: %d rollover certificate%s, signed by "
	    "the CA", sk_X509_num(next), sk_X509_num(next) == 1 ? "" : "s");
	for (i = 0; i < sk_X509_num(next); i++) {
		name_of(X509_get_subject_name(sk_X509_value(next, i)), name,
		    sizeof(name));
		probe_say("[%d] %s", i, name);
	}
 out:
	ERR_clear_error();
	sk_X509_pop_free(next, X509_free);
	X509_free(signer);
	presp_clear(&r);
}

/* ---- options and main ---- */

static void
probe_usage(FILE *f)
{
	fprintf(f, "usage: scepctl [--cacert FILE] [--insecure] probe URL "
	    "[--challenge C] [--enroll]\n"
	    "         [--ca-fingerprint SHA256] [--cipher aes128|aes192|"
	    "aes256|des3|des]\n"
	    "         [--digest sha1|sha256|sha512] [--subject CN] "
	    "[--timeout S]\n\n"
	    "Check a SCEP URL as a device would: GetCACaps, GetCACert, "
	    "GetNextCACert,\nand with --challenge (or --enroll) a test "
	    "enrollment.  Exit status 0 when\nnothing failed, 5 when a "
	    "check failed, 1 on usage errors.  See scepctl(1).\n");
}

static int
parse_fpr(const char *s, char out[65])
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (*s == ':' || *s == ' ')
			continue;
		if (!isxdigit((unsigned char)*s) || n >= 64)
			return -1;
		out[n++] = (char)tolower((unsigned char)*s);
	}
	out[n] = '\0';
	return n == 64 ? 0 : -1;
}

static int
parse_cipher(const char *s)
{
	if (strcasecmp(s, "aes128") == 0 || strcasecmp(s, "aes") == 0)
		return NID_aes_128_cbc;
	if (strcasecmp(s, "aes192") == 0)
		return NID_aes_192_cbc;
	if (strcasecmp(s, "aes256") == 0)
		return NID_aes_256_cbc;
	if (strcasecmp(s, "des3") == 0)
		return NID_des_ede3_cbc;
	if (strcasecmp(s, "des") == 0)
		return NID_des_cbc;
	return 0;
}

static int
parse_digest(const char *s)
{
	if (strcasecmp(s, "sha1") == 0)
		return NID_sha1;
	if (strcasecmp(s, "sha256") == 0)
		return NID_sha256;
	if (strcasecmp(s, "sha512") == 0)
		return NID_sha512;
	return 0;
}

static int
parse_args(struct probe *p, int argc, char **argv)
{
	int a;
	char *end = NULL;

	for (a = 0; a < argc; a++) {
		const char *o = argv[a];
		const char *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (o[0] != '-') {
			if (p->url != NULL)
				return -1;
			p->url = o;
			continue;
		}
		if (strcmp(o, "--enroll") == 0) {
			p->enroll = 1;
			continue;
		}
		if (v == NULL)
			return -1;
		a++;
		if (strcmp(o, "--challenge") == 0) {
			p->challenge = v;
			p->enroll = 1;
		} else if (strcmp(o, "--ca-fingerprint") == 0) {
			if (parse_fpr(v, p->fpr) != 0) {
				fprintf(stderr, "scepctl: --ca-fingerprint "
				    "wants 64 hex digits (SHA-256)\n");
				return -1;
			}
		} else if (strcmp(o, "--cipher") == 0) {
			if ((p->cipher_nid = parse_cipher(v)) == 0)
				return -1;
		} else if (strcmp(o, "--digest") == 0) {
			if ((p->md_nid = parse_digest(v)) == 0)
				return -1;
		} else if (strcmp(o, "--subject") == 0)
			p->subject = v;
		else if (strcmp(o, "--timeout") == 0) {
			p->timeout = strtol(v, &end, 10);
			if (*end != '\0' || p->timeout < 1 ||
			    p->timeout > 3600)
				return -1;
		} else
			return -1;
	}
	return p->url != NULL ? 0 : -1;
}

int
probe_main(struct ctx *c, int argc, char **argv)
{
	struct probe p;
	OSSL_PROVIDER *pdef = NULL, *pleg = NULL;
	int i;

	memset(&p, 0, sizeof(p));
	p.timeout = 15;
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			probe_usage(stdout);
			return EX_OK;
		}
	if (parse_args(&p, argc, argv) != 0) {
		probe_usage(stderr);
		return EX_USAGE;
	}
	p.cacert = c->cacert;
	p.insecure = c->insecure;
	p.verbose = c->verbose;
	/* Loading "legacy" explicitly stops "default" from loading by
	 * itself: load both (legacy opens single-DES replies). */
	pdef = OSSL_PROVIDER_load(NULL, "default");
	pleg = OSSL_PROVIDER_load(NULL, "legacy");
	ERR_clear_error();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (p.curl = curl_easy_init()) == NULL)
		return EX_SERVER;
	printf("probing %s\n", p.url);
	check_caps(&p);
	/* No answer at all: the other requests would only repeat it. */
	if (!p.unreachable)
		check_cacert(&p);
	if (p.bag != NULL && (p.caps & CAP_NEXTCA))
		check_nextca(&p);
	if (p.enroll) {
		if (p.bag == NULL)
			probe_fail(&p, "test enrollment not tried: no CA "
			    "certificates from the server");
		else
			probe_enroll(&p);
	}
	printf("%s: %d failed, %d warning%s\n", p.nfail ? "FAILED" : "OK",
	    p.nfail, p.nwarn, p.nwarn == 1 ? "" : "s");
	sk_X509_pop_free(p.bag, X509_free);
	curl_easy_cleanup(p.curl);
	curl_global_cleanup();
	if (pleg != NULL)
		(void)OSSL_PROVIDER_unload(pleg);
	if (pdef != NULL)
		(void)OSSL_PROVIDER_unload(pdef);
	return p.nfail ? EX_SERVER : EX_OK;
}
