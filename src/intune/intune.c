/*
 * intune.c -- Azure account configuration (spec 3, 11), the client object,
 * and the small helpers the other files share: GUIDs, base64, UTF-8
 * truncation, the outcome struct and its JSON form.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "intune.h"
#include "intune_int.h"
#include "scep_err.h"

/* Spec 11.  The Intune resource URL is confirmed only for the global
 * cloud; for US Government the candidate seen in service-principal name
 * lists is the default (AADSTS500011 says it is wrong, spec 11); China
 * has none, so it must be configured. */
static const struct {
	const char	*name;
	const char	*authority;
	const char	*graph;
	const char	*intune;
} envtab[INTUNE_ENV__MAX] = {
	[INTUNE_ENV_GLOBAL] = { "global", "https://login.microsoftonline.com/",
	    "https://graph.microsoft.com/",
	    "https://api.manage.microsoft.com/" },
	[INTUNE_ENV_USGOV] = { "usgov", "https://login.microsoftonline.us/",
	    "https://graph.microsoft.us/",
	    "https://api.manage.microsoft.us/" },
	[INTUNE_ENV_USGOV_DOD] = { "usgov-dod",
	    "https://login.microsoftonline.us/",
	    "https://dod-graph.microsoft.us/",
	    "https://api.manage.microsoft.us/" },
	[INTUNE_ENV_CHINA] = { "china", "https://login.chinacloudapi.cn/",
	    "https://microsoftgraph.chinacloudapi.cn/", NULL },
	[INTUNE_ENV_CUSTOM] = { "custom", NULL, NULL, NULL },
};

#define DEFAULT_GRAPH_VERSION	"1.0"
#define DEFAULT_INTUNE_APP	"0000000a-0000-0000-c000-000000000000"
#define DEFAULT_API_VERSION	"2018-02-20"
#define DEFAULT_PKI_VERSION	"5019-05-05"
#define DEFAULT_CALLER		"scepd"
#define DEFAULT_DISC_TTL	(24 * 3600)
#define DEFAULT_TOKEN_MARGIN	300
#define MAX_TIMEOUT_MS		(10 * 60 * 1000)

/* Spec 6.5. */
static const struct intune_timeout default_to[INTUNE_OP__MAX] = {
	[INTUNE_OP_TOKEN]	= { 5000, 10000 },
	[INTUNE_OP_DISCOVERY]	= { 5000, 10000 },
	[INTUNE_OP_VALIDATE]	= { 5000, 20000 },
	[INTUNE_OP_SUCCESS]	= { 5000, 30000 },
	[INTUNE_OP_FAILURE]	= { 5000, 15000 },
	[INTUNE_OP_REVOCATION]	= { 5000, 30000 },
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc = -1;

static void
curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ?
	    0 : -1;
}

void
intune_global_cleanup(void)
{
	if (curl_init_rc == 0)
		curl_global_cleanup();
	curl_init_rc = -1;
}

const char *
intune_env_authority(int env)
{
	return env >= 0 && env < INTUNE_ENV__MAX ? envtab[env].authority :
	    NULL;
}

const char *
intune_env_graph(int env)
{
	return env >= 0 && env < INTUNE_ENV__MAX ? envtab[env].graph : NULL;
}

const char *
intune_env_intune_resource(int env)
{
	return env >= 0 && env < INTUNE_ENV__MAX ? envtab[env].intune : NULL;
}

const char *
intune_env_name(int env)
{
	return env >= 0 && env < INTUNE_ENV__MAX ? envtab[env].name : NULL;
}

int
intune_env_parse(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < INTUNE_ENV__MAX; i++)
		if (strcmp(name, envtab[i].name) == 0)
			return i;
	return -1;
}

const char *
intune_stage_name(int stage)
{
	static const char *const names[] = { "none", "config", "token",
	    "discovery", "call", "response", "rejected" };

	if (stage < 0 || stage >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown";
	return names[stage];
}

/* ---- small helpers ---- */

int64_t
imono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
istrdup(const char *s)
{
	size_t n;
	char *p = NULL;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	if ((p = malloc(n)) != NULL)
		memcpy(p, s, n);
	return p;
}

void
istrwipe(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void
iclean(char *dst, size_t dstsz, const char *src, size_t srclen)
{
	size_t i, n = 0;

	if (dstsz == 0)
		return;
	for (i = 0; src != NULL && i < srclen && n + 1 < dstsz; i++) {
		unsigned char ch = (unsigned char)src[i];

		if (ch == '\0')
			break;
		dst[n++] = ch >= 0x20 && ch < 0x7f && ch != '"' &&
		    ch != '\\' ? (char)ch : '?';
	}
	dst[n] = '\0';
}

void
icall_init(struct intune_call *c, const char *action)
{
	memset(c, 0, sizeof(*c));
	c->action = action;
	c->rc = SCEP_OK;
}

void
icall_reason(struct intune_call *c, int rc, int stage, const char *fmt, ...)
{
	va_list ap;

	c->rc = rc;
	c->stage = stage;
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
}

void
icall_add_id(struct intune_call *c, const char *id)
{
	if (c->attempts < INTUNE_MAX_ATTEMPTS)
		snprintf(c->request_ids[c->attempts],
		    sizeof(c->request_ids[0]), "%s", id);
	c->attempts++;
}

int
intune_guid(char out[INTUNE_GUID_LEN + 1])
{
	uint8_t b[16];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		out[0] = '\0';
		return SCEP_E_INTERNAL;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);		/* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);		/* RFC 4122 variant */
	snprintf(out, INTUNE_GUID_LEN + 1,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return SCEP_OK;
}

int
ib64(const uint8_t *in, size_t len, char **out)
{
	size_t olen;
	char *p = NULL;

	*out = NULL;
	if (len > INTUNE_MAX_CSR)
		return SCEP_E_TOOBIG;
	olen = (len + 2) / 3 * 4;
	if ((p = malloc(olen + 1)) == NULL)
		return SCEP_E_NOMEM;
	/* EVP_EncodeBlock: standard alphabet, padded, no line breaks. */
	if (EVP_EncodeBlock((unsigned char *)p, in, (int)len) != (int)olen) {
		free(p);
		return SCEP_E_INTERNAL;
	}
	p[olen] = '\0';
	*out = p;
	return SCEP_OK;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t left)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *
iutf8_trunc(const char *s, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, o = 0, chars = 0, n;
	char *out = NULL;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	while (i < len && chars < max_chars) {
		if ((n = utf8_seq(p + i, len - i)) == 0) {
			out[o++] = '?';
			i++;
		} else {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		}
		chars++;
	}
	out[o] = '\0';
	return out;
}

/* ---- configuration ---- */

static int
chars_ok(const char *s, const char *extra, size_t max)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++) {
		if (n >= max)
			return 0;
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return 0;
	}
	return n > 0;
}

/* Printable ASCII without spaces (URLs, scopes) or with (caller info). */
static int
printable_ok(const char *s, int spaces, size_t max)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++) {
		if (n >= max)
			return 0;
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e) {
			if (!(spaces && *s == ' '))
				return 0;
		}
	}
	return n > 0;
}

static int
https_ok(const char *u)
{
	return strncmp(u, "https://", 8) == 0 && u[8] != '\0' &&
	    u[8] != '/' && printable_ok(u, 0, INTUNE_MAX_URL / 2);
}

static const char *
pick(const char *v, const char *dflt)
{
	return v != NULL && v[0] != '\0' ? v : dflt;
}

/* "s" with a '/' appended unless it ends with one; take. */
static char *
with_slash(const char *s)
{
	size_t n = strlen(s);
	char *p = NULL;

	if ((p = malloc(n + 2)) == NULL)
		return NULL;
	memcpy(p, s, n);
	if (n == 0 || s[n - 1] != '/')
		p[n++] = '/';
	p[n] = '\0';
	return p;
}

static char *
concat(const char *a, const char *b, const char *c, const char *d,
    const char *e)
{
	const char *parts[5] = { a, b, c, d, e };
	size_t n = 0, i, l;
	char *p = NULL;

	for (i = 0; i < 5; i++)
		n += parts[i] != NULL ? strlen(parts[i]) : 0;
	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	n = 0;
	for (i = 0; i < 5; i++) {
		if (parts[i] == NULL)
			continue;
		l = strlen(parts[i]);
		memcpy(p + n, parts[i], l);
		n += l;
	}
	p[n] = '\0';
	return p;
}

#define CFG_FAIL(...) do {						\
	if (why != NULL)						\
		snprintf(why, whysz, __VA_ARGS__);			\
	r = SCEP_E_CONFIG;						\
	goto out;							\
} while (0)

int
intune_client_new(const struct intune_account_cfg *cfg,
    struct intune_client **out, char *why, size_t whysz)
{
	struct intune_client *c = NULL;
	const char *authority = NULL, *graph = NULL, *resource = NULL;
	const char *ver = NULL, *app = NULL, *api = NULL, *caller = NULL;
	const char *pki = NULL;
	char *auth_slash = NULL;
	int r = SCEP_E_NOMEM, env, i, locks = 0;

	*out = NULL;
	if (why != NULL && whysz > 0)
		why[0] = '\0';
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != 0)
		CFG_FAIL("libcurl initialisation failed");

	env = cfg->environment;
	if (env < 0 || env >= INTUNE_ENV__MAX)
		CFG_FAIL("unknown environment %d", env);
	if (cfg->tenant_id == NULL ||
	    !chars_ok(cfg->tenant_id, ".-_", 253))
		CFG_FAIL("tenant ID missing or not a GUID or domain name");
	if (cfg->client_id == NULL || !chars_ok(cfg->client_id, ".-_", 128))
		CFG_FAIL("application (client) ID missing or malformed");
	if (cfg->client_secret == NULL || cfg->client_secret[0] == '\0' ||
	    strlen(cfg->client_secret) > INTUNE_MAX_CFG_STR)
		CFG_FAIL("client secret missing or too long");
	authority = pick(cfg->authority_url, envtab[env].authority);
	graph = pick(cfg->graph_url, envtab[env].graph);
	resource = pick(cfg->intune_resource_url, envtab[env].intune);
	if (authority == NULL || !https_ok(authority))
		CFG_FAIL("authority URL missing or not https://");
	if (graph == NULL || !https_ok(graph))
		CFG_FAIL("Graph URL missing or not https://");
	if (resource == NULL || !https_ok(resource))
		CFG_FAIL("Intune resource URL missing or not https:// (spec "
		    "11: not known for this environment; configure it)");
	ver = pick(cfg->graph_api_version, DEFAULT_GRAPH_VERSION);
	if (ver[0] == 'v')
		ver++;
	if (!chars_ok(ver, ".", 16))
		CFG_FAIL("Graph API version malformed");
	app = pick(cfg->intune_app_id, DEFAULT_INTUNE_APP);
	if (!chars_ok(app, "-", 64))
		CFG_FAIL("Intune application ID malformed");
	api = pick(cfg->api_version, DEFAULT_API_VERSION);
	if (!chars_ok(api, ".-", 32))
		CFG_FAIL("api-version malformed");
	pki = pick(cfg->revocation_api_version, DEFAULT_PKI_VERSION);
	if (!chars_ok(pki, ".-", 32))
		CFG_FAIL("revocation api-version malformed");
	caller = pick(cfg->caller_info, DEFAULT_CALLER);
	if (!printable_ok(caller, 1, 256))
		CFG_FAIL("caller info must be printable ASCII");
	if (cfg->graph_scope != NULL && cfg->graph_scope[0] != '\0' &&
	    !printable_ok(cfg->graph_scope, 0, INTUNE_MAX_URL / 2))
		CFG_FAIL("Graph scope malformed");
	if (cfg->intune_scope != NULL && cfg->intune_scope[0] != '\0' &&
	    !printable_ok(cfg->intune_scope, 0, INTUNE_MAX_URL / 2))
		CFG_FAIL("Intune scope malformed");
	if (cfg->proxy != NULL && cfg->proxy[0] != '\0' &&
	    ((strncmp(cfg->proxy, "http://", 7) != 0 &&
	    strncmp(cfg->proxy, "https://", 8) != 0) ||
	    !printable_ok(cfg->proxy, 0, INTUNE_MAX_URL / 2) ||
	    strchr(cfg->proxy, '@') != NULL))
		CFG_FAIL("proxy must be an http:// or https:// URL without "
		    "credentials (use the proxy user and password)");
	if (cfg->proxy_user != NULL && cfg->proxy_user[0] != '\0' &&
	    (cfg->proxy_password == NULL || cfg->proxy_password[0] == '\0'))
		CFG_FAIL("proxy user given without a password");
	if (cfg->proxy_user != NULL && cfg->proxy_user[0] != '\0' &&
	    !printable_ok(cfg->proxy_user, 1, INTUNE_MAX_CFG_STR))
		CFG_FAIL("proxy user malformed");
	if (cfg->proxy_password != NULL &&
	    strlen(cfg->proxy_password) > INTUNE_MAX_CFG_STR)
		CFG_FAIL("proxy password too long");
	if (cfg->ca_bundle_path != NULL && cfg->ca_bundle_path[0] != '\0' &&
	    access(cfg->ca_bundle_path, R_OK) != 0)
		CFG_FAIL("CA bundle is not readable");
	if (cfg->discovery_ttl < 0 || cfg->token_margin < 0)
		CFG_FAIL("negative TTL or token margin");
	for (i = 0; i < INTUNE_OP__MAX; i++) {
		const struct intune_timeout *t = &cfg->timeouts[i];

		if (t->connect_ms < 0 || t->total_ms < 0 ||
		    t->connect_ms > MAX_TIMEOUT_MS ||
		    t->total_ms > MAX_TIMEOUT_MS)
			CFG_FAIL("timeout out of range (0..%d ms)",
			    MAX_TIMEOUT_MS);
	}

	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		r = SCEP_E_INTERNAL;
		goto out;
	}
	locks = 1;
	if (pthread_mutex_init(&c->pool_lock, NULL) != 0) {
		r = SCEP_E_INTERNAL;
		goto out;
	}
	locks = 2;
	if (pthread_cond_init(&c->cond, NULL) != 0) {
		r = SCEP_E_INTERNAL;
		goto out;
	}
	locks = 3;

	r = SCEP_E_NOMEM;
	if ((auth_slash = with_slash(authority)) == NULL ||
	    (c->graph_base = with_slash(graph)) == NULL ||
	    (c->tenant = istrdup(cfg->tenant_id)) == NULL ||
	    (c->client_id = istrdup(cfg->client_id)) == NULL ||
	    (c->secret = istrdup(cfg->client_secret)) == NULL ||
	    (c->caller = istrdup(caller)) == NULL ||
	    (c->api_version = istrdup(api)) == NULL ||
	    (c->api_version_pki = istrdup(pki)) == NULL)
		goto out;
	c->code_as_string = cfg->revocation_code_as_string != 0;
	if (cfg->proxy != NULL && cfg->proxy[0] != '\0' &&
	    (c->proxy = istrdup(cfg->proxy)) == NULL)
		goto out;
	if (cfg->proxy_user != NULL && cfg->proxy_user[0] != '\0' &&
	    ((c->proxy_user = istrdup(cfg->proxy_user)) == NULL ||
	    (c->proxy_password = istrdup(cfg->proxy_password)) == NULL))
		goto out;
	if (cfg->ca_bundle_path != NULL && cfg->ca_bundle_path[0] != '\0' &&
	    (c->ca_bundle = istrdup(cfg->ca_bundle_path)) == NULL)
		goto out;
	/* spec 4.1: {authority}{tenant}/oauth2/v2.0/token */
	if ((c->token_url = concat(auth_slash, c->tenant, "/oauth2/v2.0/token",
	    NULL, NULL)) == NULL)
		goto out;
	/* spec 5.1:
	 * {graph}v{version}/servicePrincipals/appId={app}/endpoints */
	if ((c->discovery_url = concat(c->graph_base, "v", ver,
	    "/servicePrincipals/appId=", app)) == NULL)
		goto out;
	{
		char *d = concat(c->discovery_url, "/endpoints", NULL, NULL,
		    NULL);

		if (d == NULL)
			goto out;
		free(c->discovery_url);
		c->discovery_url = d;
	}
	/*
	 * spec 4.1 server rule: scopes built exactly like Microsoft's
	 * libraries.  Graph: the base (which ends in '/') + ".default";
	 * Intune: the resource URL verbatim + "/.default" (the double slash
	 * of https://api.manage.microsoft.com//.default is intentional).
	 */
	if (cfg->graph_scope != NULL && cfg->graph_scope[0] != '\0')
		c->tok[TOK_GRAPH].scope = istrdup(cfg->graph_scope);
	else
		c->tok[TOK_GRAPH].scope = concat(c->graph_base, ".default",
		    NULL, NULL, NULL);
	if (cfg->intune_scope != NULL && cfg->intune_scope[0] != '\0')
		c->tok[TOK_INTUNE].scope = istrdup(cfg->intune_scope);
	else
		c->tok[TOK_INTUNE].scope = concat(resource, "/.default", NULL,
		    NULL, NULL);
	if (c->tok[TOK_GRAPH].scope == NULL || c->tok[TOK_INTUNE].scope == NULL)
		goto out;
	if (strlen(c->token_url) >= INTUNE_MAX_URL ||
	    strlen(c->discovery_url) >= INTUNE_MAX_URL)
		CFG_FAIL("URL too long");

	c->disc_ttl = cfg->discovery_ttl > 0 ? cfg->discovery_ttl :
	    DEFAULT_DISC_TTL;
	c->token_margin = cfg->token_margin > 0 ? cfg->token_margin :
	    DEFAULT_TOKEN_MARGIN;
	for (i = 0; i < INTUNE_OP__MAX; i++) {
		c->to[i].connect_ms = cfg->timeouts[i].connect_ms > 0 ?
		    cfg->timeouts[i].connect_ms : default_to[i].connect_ms;
		c->to[i].total_ms = cfg->timeouts[i].total_ms > 0 ?
		    cfg->timeouts[i].total_ms : default_to[i].total_ms;
		if (c->to[i].connect_ms > c->to[i].total_ms)
			c->to[i].connect_ms = c->to[i].total_ms;
	}
	*out = c;
	c = NULL;
	r = SCEP_OK;
 out:
	free(auth_slash);
	if (c != NULL && locks == 3)
		intune_client_free(c);
	else if (c != NULL) {
		/* Only the object and some of its locks exist yet. */
		if (locks >= 2)
			pthread_mutex_destroy(&c->pool_lock);
		if (locks >= 1)
			pthread_mutex_destroy(&c->lock);
		free(c);
	}
	return r;
}

void
intune_client_free(struct intune_client *c)
{
	int i;

	if (c == NULL)
		return;
	ihttp_pool_free(c);
	for (i = 0; i < TOK__MAX; i++) {
		free(c->tok[i].scope);
		istrwipe(c->tok[i].token);
	}
	free(c->svc_uri);
	free(c->pki_uri);
	istrwipe(c->secret);
	istrwipe(c->proxy_password);
	free(c->tenant);
	free(c->client_id);
	free(c->caller);
	free(c->api_version);
	free(c->api_version_pki);
	free(c->proxy);
	free(c->proxy_user);
	free(c->ca_bundle);
	free(c->graph_base);
	free(c->token_url);
	free(c->discovery_url);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->pool_lock);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int
intune_client_set_secret(struct intune_client *c, const char *secret)
{
	char *s = NULL;
	int i;

	if (secret == NULL || secret[0] == '\0' ||
	    strlen(secret) > INTUNE_MAX_CFG_STR)
		return SCEP_E_CONFIG;
	if ((s = istrdup(secret)) == NULL)
		return SCEP_E_NOMEM;
	pthread_mutex_lock(&c->lock);
	istrwipe(c->secret);
	c->secret = s;
	c->epoch++;
	for (i = 0; i < TOK__MAX; i++) {
		istrwipe(c->tok[i].token);
		c->tok[i].token = NULL;
		c->tok[i].refresh_at = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return SCEP_OK;
}

void
intune_client_flush(struct intune_client *c)
{
	int i;

	pthread_mutex_lock(&c->lock);
	c->epoch++;
	for (i = 0; i < TOK__MAX; i++) {
		istrwipe(c->tok[i].token);
		c->tok[i].token = NULL;
		c->tok[i].refresh_at = 0;
	}
	free(c->svc_uri);
	free(c->pki_uri);
	c->svc_uri = c->pki_uri = NULL;
	c->disc_expires = 0;
	pthread_mutex_unlock(&c->lock);
}

void
intune_client_stats(struct intune_client *c, struct intune_stats *st)
{
	pthread_mutex_lock(&c->lock);
	*st = c->stats;
	pthread_mutex_unlock(&c->lock);
}

const char *
intune_client_token_url(const struct intune_client *c)
{
	return c->token_url;
}

const char *
intune_client_discovery_url(const struct intune_client *c)
{
	return c->discovery_url;
}

const char *
intune_client_scope(const struct intune_client *c, int intune)
{
	return c->tok[intune ? TOK_INTUNE : TOK_GRAPH].scope;
}

/* ---- outcome as JSON, certificate fields ---- */

int
intune_call_json(const struct intune_call *c, char *buf, size_t bufsz)
{
	json_t *o = NULL, *ids = NULL;
	char *s = NULL;
	size_t n;
	int i, r = -1;

	if (bufsz < 3)
		return -1;
	snprintf(buf, bufsz, "{}");
	if ((ids = json_array()) == NULL)
		goto out;
	for (i = 0; i < c->attempts && i < INTUNE_MAX_ATTEMPTS; i++)
		json_array_append_new(ids, json_string(c->request_ids[i]));
	/* Every string here is printable ASCII or came through jansson's
	 * UTF-8 check; message and code are cleaned when they are set. */
	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:i, s:O, s:I}",
	    "action", c->action != NULL ? c->action : "",
	    "result", c->rc == SCEP_OK ? "ok" : scep_strerror(c->rc),
	    "stage", intune_stage_name(c->stage),
	    "http_status", (json_int_t)c->http_status,
	    "code", c->code,
	    "message", c->message,
	    "aadsts", c->aadsts,
	    "attempts", c->attempts,
	    "client_request_ids", ids,
	    "elapsed_ms", (json_int_t)c->elapsed_ms);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		goto out;
	n = strlen(s);
	if (n + 1 > bufsz)
		goto out;
	memcpy(buf, s, n + 1);
	r = (int)n;
 out:
	free(s);
	json_decref(o);
	json_decref(ids);
	return r;
}

static void
upper_hex(const uint8_t *b, size_t n, char *out, size_t outsz)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i;

	if (outsz == 0)
		return;
	for (i = 0; i < n && 2 * i + 2 < outsz; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * i] = '\0';
}

int
intune_cert_info(X509 *cert, struct intune_cert_info *out)
{
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	const unsigned char *p = NULL;
	const ASN1_INTEGER *sn = NULL;		/* get0 */
	const ASN1_TIME *na = NULL;		/* get0 */
	unsigned int mdlen = 0;
	long clen = 0;
	int tag = 0, xclass = 0, dlen, r = SCEP_E_INTERNAL;
	struct tm tm;
	BIO *b = NULL;

	memset(out, 0, sizeof(*out));
	if (cert == NULL)
		return SCEP_E_INTERNAL;
	/* spec 6.2: SHA-1 over the DER, 40 upper-case hex characters. */
	if (X509_digest(cert, EVP_sha1(), md, &mdlen) != 1 || mdlen != 20)
		goto out;
	upper_hex(md, mdlen, out->thumbprint, sizeof(out->thumbprint));

	/* spec 6.2: upper-case hex of the DER INTEGER content bytes, a
	 * leading 00 kept.  OpenSSL parses the TLV header for us. */
	sn = X509_get0_serialNumber(cert);
	if ((dlen = i2d_ASN1_INTEGER(sn, &der)) <= 0)
		goto out;
	p = der;
	if (ASN1_get_object(&p, &clen, &tag, &xclass, dlen) & 0x80 ||
	    tag != V_ASN1_INTEGER || clen <= 0 ||
	    (size_t)clen * 2 + 1 > sizeof(out->serial))
		goto out;
	upper_hex(p, (size_t)clen, out->serial, sizeof(out->serial));

	/* spec 6.2: YYYY-MM-DDThh:mm:ss.fffZ */
	na = X509_get0_notAfter(cert);
	if (ASN1_TIME_to_tm(na, &tm) != 1 ||
	    strftime(out->expiry, sizeof(out->expiry), "%Y-%m-%dT%H:%M:%S.000Z",
	    &tm) == 0)
		goto out;

	/* spec 6.2: issuer DN in RFC 4514 string form, UTF-8 kept. */
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	if (X509_NAME_print_ex(b, X509_get_issuer_name(cert), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		goto out;
	if ((dlen = BIO_read(b, out->issuer, (int)sizeof(out->issuer) - 1)) <=
	    0)
		goto out;
	out->issuer[dlen] = '\0';
	snprintf(out->certificate_authority,
	    sizeof(out->certificate_authority), "%s", out->issuer);
	r = SCEP_OK;
 out:
	OPENSSL_free(der);
	BIO_free(b);
	if (r != SCEP_OK)
		memset(out, 0, sizeof(*out));
	return r;
}
