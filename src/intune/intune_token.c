/*
 * intune_token.c -- OAuth 2.0 client-credentials tokens from Entra ID
 * (spec 4): one cached token per scope (Graph, Intune), refreshed a margin
 * before expiry, single-flight, dropped when the secret changes, replaced
 * once when a service answers 401.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "intune_int.h"
#include "log.h"
#include "scep_err.h"

/* Entra ID never issues tokens for longer than a day; a larger value is
 * a broken answer, not a reason to cache for a year. */
#define TOKEN_MAX_LIFETIME	(24 * 3600)
#define TOKEN_ATTEMPTS		2	/* spec 6.5: 1 retry on network/5xx */

static int64_t
mono_s(void)
{
	return imono_ms() / 1000;
}

void
itok_free(char *t)
{
	istrwipe(t);
}

/* application/x-www-form-urlencoded value (RFC 3986 unreserved kept). */
static int
form_add(char *buf, size_t bufsz, size_t *len, const char *name,
    const char *val)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t n = *len;
	const unsigned char *p = NULL;

	if (n > 0) {
		if (n + 1 >= bufsz)
			return SCEP_E_TOOBIG;
		buf[n++] = '&';
	}
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (n + 1 >= bufsz)
			return SCEP_E_TOOBIG;
		buf[n++] = (char)*p;
	}
	if (n + 1 >= bufsz)
		return SCEP_E_TOOBIG;
	buf[n++] = '=';
	for (p = (const unsigned char *)val; *p != '\0'; p++) {
		if (n + 3 >= bufsz)
			return SCEP_E_TOOBIG;
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' ||
		    *p == '~')
			buf[n++] = (char)*p;
		else {
			buf[n++] = '%';
			buf[n++] = hx[*p >> 4];
			buf[n++] = hx[*p & 15];
		}
	}
	buf[n] = '\0';
	*len = n;
	return SCEP_OK;
}

/* expires_in: a JSON integer or a numeric string (spec 4.2). */
static int
parse_expires(json_t *v, int64_t *out)
{
	const char *s = NULL;
	char *end = NULL;
	long long n;

	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		if (s[0] < '0' || s[0] > '9' || strlen(s) > 10)
			return SCEP_E_MALFORMED;
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || end == s || *end != '\0')
			return SCEP_E_MALFORMED;
	} else
		return SCEP_E_MALFORMED;
	if (n <= 0 || n > TOKEN_MAX_LIFETIME)
		return SCEP_E_MALFORMED;
	*out = n;
	return SCEP_OK;
}

static int
header_safe(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if (n >= max || (unsigned char)*s < 0x21 ||
		    (unsigned char)*s > 0x7e)
			return 0;
	return n > 0;
}

/* An Entra ID error answer (spec 4.2): error, error_description and
 * error_codes, turned into a message that names the AADSTS code. */
static void
token_error(struct intune_call *call, const struct ihttp_resp *rs)
{
	json_t *root = NULL, *codes;
	const char *err = NULL, *desc = NULL;
	char e[64], d[160];

	e[0] = d[0] = '\0';
	if (rs->body != NULL)
		root = json_loadb(rs->body, rs->len, 0, NULL);
	if (json_is_object(root)) {
		err = json_string_value(json_object_get(root, "error"));
		desc = json_string_value(json_object_get(root,
		    "error_description"));
		codes = json_object_get(root, "error_codes");
		if (json_is_array(codes) && json_array_size(codes) > 0 &&
		    json_is_integer(json_array_get(codes, 0)))
			snprintf(call->aadsts, sizeof(call->aadsts),
			    "AADSTS%lld", (long long)json_integer_value(
			    json_array_get(codes, 0)));
		else if (desc != NULL && strncmp(desc, "AADSTS", 6) == 0) {
			size_t i = 6;

			while (i < 20 && isdigit((unsigned char)desc[i]))
				i++;
			iclean(call->aadsts, sizeof(call->aadsts), desc, i);
		}
	}
	if (err != NULL)
		iclean(e, sizeof(e), err, strlen(err));
	if (desc != NULL)
		iclean(d, sizeof(d), desc, strlen(desc));
	icall_reason(call, rs->status >= 500 ? SCEP_E_IO : SCEP_E_CONFIG,
	    INTUNE_STAGE_TOKEN, "token endpoint answered HTTP %ld%s%s%s%s",
	    rs->status, e[0] ? ": " : "", e, d[0] ? ": " : "", d);
	json_decref(root);
}

/*
 * One token request, with the retry of spec 6.5.  *token and *lifetime
 * on success.  "secret" is wiped by the caller.
 */
static int
fetch(struct intune_client *c, const char *scope, const char *secret,
    char **token, int64_t *lifetime, struct intune_call *call,
    uint64_t *requests)
{
	struct ihttp_req rq;
	struct ihttp_resp rs;
	json_t *root = NULL;
	const char *at = NULL, *tt = NULL;
	char body[4096], rid[INTUNE_GUID_LEN + 1];
	size_t blen = 0;
	int attempt, r;

	*token = NULL;
	memset(&rs, 0, sizeof(rs));
	/* spec 4.1 */
	if ((r = form_add(body, sizeof(body), &blen, "grant_type",
	    "client_credentials")) != SCEP_OK ||
	    (r = form_add(body, sizeof(body), &blen, "client_id",
	    c->client_id)) != SCEP_OK ||
	    (r = form_add(body, sizeof(body), &blen, "client_secret",
	    secret)) != SCEP_OK ||
	    (r = form_add(body, sizeof(body), &blen, "scope", scope)) !=
	    SCEP_OK) {
		icall_reason(call, r, INTUNE_STAGE_CONFIG,
		    "token request too long");
		goto out;
	}
	for (attempt = 0; attempt < TOKEN_ATTEMPTS; attempt++) {
		ihttp_resp_clear(&rs);
		json_decref(root);
		root = NULL;
		if ((r = intune_guid(rid)) != SCEP_OK)
			goto out;
		memset(&rq, 0, sizeof(rq));
		rq.op = INTUNE_OP_TOKEN;
		rq.post = 1;
		rq.url = c->token_url;
		rq.content_type = "application/x-www-form-urlencoded";
		rq.body = body;
		rq.body_len = blen;
		rq.request_id = rid;
		rq.max_resp = INTUNE_MAX_TOKEN_RESP;
		(*requests)++;
		if ((r = ihttp_do(c, &rq, &rs)) != SCEP_OK) {
			icall_reason(call, r, INTUNE_STAGE_TOKEN,
			    "token request could not be made");
			goto out;
		}
		call->http_status = rs.status;
		if (rs.curl_code != CURLE_OK) {
			icall_reason(call, SCEP_E_IO, INTUNE_STAGE_TOKEN,
			    "token endpoint unreachable: %s", rs.err);
			if (rs.too_big)
				break;
			continue;	/* network error: retry once */
		}
		if (rs.status >= 500) {
			token_error(call, &rs);
			continue;
		}
		if (rs.status != 200) {
			token_error(call, &rs);
			r = call->rc;
			goto out;
		}
		/* spec 4.2 */
		root = json_loadb(rs.body, rs.len, JSON_REJECT_DUPLICATES,
		    NULL);
		at = json_string_value(json_object_get(root, "access_token"));
		tt = json_string_value(json_object_get(root, "token_type"));
		if (!json_is_object(root) || at == NULL ||
		    !header_safe(at, INTUNE_MAX_TOKEN) ||
		    (tt != NULL && strcasecmp(tt, "Bearer") != 0) ||
		    parse_expires(json_object_get(root, "expires_in"),
		    lifetime) != SCEP_OK) {
			icall_reason(call, SCEP_E_MALFORMED,
			    INTUNE_STAGE_TOKEN,
			    "token endpoint answer is not a usable token");
			r = SCEP_E_MALFORMED;
			goto out;
		}
		if ((*token = istrdup(at)) == NULL) {
			r = SCEP_E_NOMEM;
			goto out;
		}
		call->rc = SCEP_OK;
		call->stage = INTUNE_STAGE_NONE;
		call->message[0] = '\0';
		r = SCEP_OK;
		goto out;
	}
	r = call->rc != SCEP_OK ? call->rc : SCEP_E_IO;
 out:
	if (root != NULL) {
		/* The parsed tree holds a copy of the token. */
		json_t *v = json_object_get(root, "access_token");

		if (json_is_string(v))
			OPENSSL_cleanse((char *)json_string_value(v),
			    json_string_length(v));
	}
	json_decref(root);
	if (rs.body != NULL)
		OPENSSL_cleanse(rs.body, rs.len);
	ihttp_resp_clear(&rs);
	OPENSSL_cleanse(body, sizeof(body));
	return r;
}

int
itok_get(struct intune_client *c, int which, const char *rejected, int force,
    char **out, struct intune_call *call)
{
	struct tok_slot *sl = &c->tok[which];
	char *secret = NULL, *tok = NULL, *copy = NULL;
	uint64_t epoch, gen, requests = 0;
	int64_t lifetime = 0, margin, t0 = imono_ms();
	int r;

	*out = NULL;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		if (rejected != NULL && sl->token != NULL &&
		    strcmp(sl->token, rejected) == 0) {
			/* The service refused it: nobody may use it again. */
			istrwipe(sl->token);
			sl->token = NULL;
			c->stats.token_refresh_401++;
		}
		if (!force && sl->token != NULL && mono_s() < sl->refresh_at) {
			copy = istrdup(sl->token);
			pthread_mutex_unlock(&c->lock);
			if (copy == NULL)
				return SCEP_E_NOMEM;
			*out = copy;
			return SCEP_OK;
		}
		if (!sl->fetching)
			break;
		/* Single flight: wait for the fetch in progress. */
		gen = sl->gen;
		while (sl->fetching && sl->gen == gen)
			pthread_cond_wait(&c->cond, &c->lock);
		if (sl->gen != gen && (sl->token == NULL ||
		    mono_s() >= sl->refresh_at)) {
			/* It failed: share its outcome, do not refetch. */
			r = sl->last_rc != SCEP_OK ? sl->last_rc : SCEP_E_IO;
			*call = sl->last;
			call->rc = r;
			pthread_mutex_unlock(&c->lock);
			return r;
		}
		force = 0;	/* a token fetched just now is fresh */
	}
	sl->fetching = 1;
	epoch = c->epoch;
	secret = istrdup(c->secret);
	pthread_mutex_unlock(&c->lock);

	icall_init(call, "token");
	if (secret == NULL)
		r = SCEP_E_NOMEM;
	else
		r = fetch(c, sl->scope, secret, &tok, &lifetime, call,
		    &requests);
	istrwipe(secret);
	call->elapsed_ms = (long)(imono_ms() - t0);
	if (r == SCEP_OK && (copy = istrdup(tok)) == NULL)
		r = SCEP_E_NOMEM;
	if (r != SCEP_OK) {
		if (call->rc == SCEP_OK)
			call->rc = r;
		if (call->stage == INTUNE_STAGE_NONE)
			call->stage = INTUNE_STAGE_TOKEN;
		log_warn("msg=\"Entra ID token request failed\" scope=\"%s\" "
		    "http_status=%ld aadsts=%s reason=\"%s\"", sl->scope,
		    call->http_status, call->aadsts[0] ? call->aadsts : "-",
		    call->message);
	}

	pthread_mutex_lock(&c->lock);
	sl->fetching = 0;
	sl->gen++;
	sl->last_rc = r;
	sl->last = *call;
	c->stats.token_requests += requests;
	if (r == SCEP_OK && epoch == c->epoch) {
		/* Refresh "margin" early, but never later than half-way
		 * through a short-lived token's life. */
		margin = c->token_margin;
		if (margin > lifetime / 2)
			margin = lifetime / 2;
		istrwipe(sl->token);
		sl->token = tok;
		tok = NULL;
		sl->refresh_at = mono_s() + lifetime - margin;
	}
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	istrwipe(tok);
	if (r == SCEP_OK)
		*out = copy;
	return r;
}
