/*
 * intune_disc.c -- Microsoft Graph service discovery (spec 5): the base
 * URL of ScepRequestValidationFEService (and PkiConnectorFEService) from
 * the Intune service principal's endpoint list.  Cached per client with a
 * TTL (spec 5.2); single-flight; invalidated by the service calls when
 * the cached URL stops answering.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "intune_int.h"
#include "log.h"
#include "scep_err.h"

#define DISC_ATTEMPTS	2	/* spec 6.5: 1 retry on network/5xx */

struct found {
	char	*svc;		/* owned */
	char	*pki;		/* owned */
};

/* A discovered service URI: https://, printable, no spaces; the
 * trailing '/' stripped (spec 5.1).  Take, or NULL when unusable. */
static char *
uri_take(const char *u)
{
	size_t n, i;
	char *p = NULL;

	if (u == NULL || strncmp(u, "https://", 8) != 0)
		return NULL;
	n = strlen(u);
	if (n <= 8 || n > INTUNE_MAX_URL - 64)
		return NULL;
	for (i = 0; i < n; i++)
		if ((unsigned char)u[i] < 0x21 || (unsigned char)u[i] > 0x7e)
			return NULL;
	while (n > 8 && u[n - 1] == '/')
		n--;
	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, u, n);
	p[n] = '\0';
	return p;
}

static int
url_printable(const char *u)
{
	size_t n = 0;

	for (; *u != '\0'; u++, n++)
		if (n >= INTUNE_MAX_URL || (unsigned char)*u < 0x21 ||
		    (unsigned char)*u > 0x7e)
			return 0;
	return n > 0;
}

/* One page of spec 5.1's answer.  Entries name their service in
 * providerName (Microsoft Graph) or serviceName (Azure AD Graph, spec
 * 5.3); names compare case-insensitively; the first entry wins and the
 * others are logged. */
static int
parse_page(json_t *root, struct found *f, struct intune_call *call)
{
	json_t *val = NULL, *e = NULL;
	const char *name = NULL, *uri = NULL;
	char **slot = NULL;
	size_t i;

	val = json_object_get(root, "value");
	if (!json_is_array(val)) {
		icall_reason(call, SCEP_E_MALFORMED, INTUNE_STAGE_DISCOVERY,
		    "Graph answer has no \"value\" list");
		return SCEP_E_MALFORMED;
	}
	json_array_foreach(val, i, e) {
		if (!json_is_object(e))
			continue;
		name = json_string_value(json_object_get(e, "providerName"));
		if (name == NULL)
			name = json_string_value(json_object_get(e,
			    "serviceName"));
		uri = json_string_value(json_object_get(e, "uri"));
		if (name == NULL || uri == NULL)
			continue;
		if (strcasecmp(name, INTUNE_PROVIDER_VALIDATION) == 0)
			slot = &f->svc;
		else if (strcasecmp(name, INTUNE_PROVIDER_REVOCATION) == 0)
			slot = &f->pki;
		else
			continue;
		if (*slot != NULL) {
			char u[256];

			iclean(u, sizeof(u), uri, strlen(uri));
			log_warn("msg=\"Graph lists a service twice; the "
			    "first entry is used\" service=%s kept=\"%s\" "
			    "ignored=\"%s\"", slot == &f->svc ?
			    INTUNE_PROVIDER_VALIDATION :
			    INTUNE_PROVIDER_REVOCATION, *slot, u);
			continue;
		}
		if ((*slot = uri_take(uri)) == NULL) {
			char u[256];

			iclean(u, sizeof(u), uri, strlen(uri));
			log_warn("msg=\"Graph lists an unusable service URI\" "
			    "uri=\"%s\"", u);
		}
	}
	return SCEP_OK;
}

/* Graph's error body {"error":{"code":..,"message":..}} (spec 5.1). */
static void
graph_error(struct intune_call *call, const struct ihttp_resp *rs)
{
	json_t *root = NULL, *err;
	const char *code = NULL, *msg = NULL;
	char c[64], m[128];

	c[0] = m[0] = '\0';
	if (rs->body != NULL)
		root = json_loadb(rs->body, rs->len, 0, NULL);
	err = json_object_get(root, "error");
	if (json_is_object(err)) {
		code = json_string_value(json_object_get(err, "code"));
		msg = json_string_value(json_object_get(err, "message"));
	}
	if (code != NULL)
		iclean(c, sizeof(c), code, strlen(code));
	if (msg != NULL)
		iclean(m, sizeof(m), msg, strlen(msg));
	snprintf(call->code, sizeof(call->code), "%s", c);
	icall_reason(call, rs->status >= 500 ? SCEP_E_IO : SCEP_E_CONFIG,
	    INTUNE_STAGE_DISCOVERY, "Graph answered HTTP %ld%s%s%s%s%s",
	    rs->status, c[0] ? ": " : "", c, m[0] ? ": " : "", m,
	    rs->status == 403 ? " (Application.Read.All missing or not "
	    "consented)" : "");
	json_decref(root);
}

static int
discover(struct intune_client *c, struct found *f, struct intune_call *call,
    uint64_t *requests)
{
	struct intune_call tcall;
	struct ihttp_req rq;
	struct ihttp_resp rs;
	json_t *root = NULL;
	const char *next = NULL;
	char *token = NULL, *url = NULL, rid[INTUNE_GUID_LEN + 1];
	int page = 0, attempt = 0, refreshed = 0, r;

	memset(&rs, 0, sizeof(rs));
	if ((url = istrdup(c->discovery_url)) == NULL)
		return SCEP_E_NOMEM;
	if ((r = itok_get(c, TOK_GRAPH, NULL, 0, &token, &tcall)) != SCEP_OK) {
		*call = tcall;
		call->action = "discovery";
		call->stage = INTUNE_STAGE_TOKEN;
		goto out;
	}
	while (page < INTUNE_MAX_DISC_PAGES) {
		ihttp_resp_clear(&rs);
		json_decref(root);
		root = NULL;
		if ((r = intune_guid(rid)) != SCEP_OK)
			goto out;
		memset(&rq, 0, sizeof(rq));
		rq.op = INTUNE_OP_DISCOVERY;
		rq.url = url;
		rq.bearer = token;
		rq.request_id = rid;
		rq.max_resp = INTUNE_MAX_DISC_RESP;
		(*requests)++;
		if ((r = ihttp_do(c, &rq, &rs)) != SCEP_OK)
			goto out;
		call->http_status = rs.status;
		if (rs.curl_code != CURLE_OK || rs.status >= 500) {
			if (rs.curl_code != CURLE_OK)
				icall_reason(call, SCEP_E_IO,
				    INTUNE_STAGE_DISCOVERY,
				    "Graph unreachable: %s", rs.err);
			else
				graph_error(call, &rs);
			if (++attempt < DISC_ATTEMPTS && !rs.too_big)
				continue;
			r = call->rc;
			goto out;
		}
		if (rs.status == 401 && !refreshed) {
			/* spec 4.3: refresh once and retry once. */
			char *old = token;

			token = NULL;
			refreshed = 1;
			r = itok_get(c, TOK_GRAPH, old, 0, &token, &tcall);
			itok_free(old);
			if (r != SCEP_OK) {
				*call = tcall;
				call->action = "discovery";
				call->stage = INTUNE_STAGE_TOKEN;
				goto out;
			}
			continue;
		}
		if (rs.status != 200) {
			graph_error(call, &rs);
			r = call->rc;
			goto out;
		}
		root = json_loadb(rs.body, rs.len, 0, NULL);
		if (!json_is_object(root)) {
			icall_reason(call, SCEP_E_MALFORMED,
			    INTUNE_STAGE_DISCOVERY, "Graph answer is not JSON");
			r = SCEP_E_MALFORMED;
			goto out;
		}
		if ((r = parse_page(root, f, call)) != SCEP_OK)
			goto out;
		page++;
		attempt = 0;
		if (f->svc != NULL && f->pki != NULL)
			break;
		/* spec 5.1: follow @odata.nextLink, but only within Graph,
		 * since the Graph token goes with it. */
		next = json_string_value(json_object_get(root,
		    "@odata.nextLink"));
		if (next == NULL)
			break;
		if (strncmp(next, c->graph_base, strlen(c->graph_base)) != 0 ||
		    !url_printable(next)) {
			log_warn("msg=\"Graph nextLink leaves the Graph base "
			    "URL; not followed\"");
			break;
		}
		free(url);
		if ((url = istrdup(next)) == NULL) {
			r = SCEP_E_NOMEM;
			goto out;
		}
	}
	if (f->svc == NULL) {
		icall_reason(call, SCEP_E_CONFIG, INTUNE_STAGE_DISCOVERY,
		    "Graph lists no %s: check the Intune licence, the "
		    "scep_challenge_provider permission and admin consent",
		    INTUNE_PROVIDER_VALIDATION);
		r = SCEP_E_CONFIG;
		goto out;
	}
	call->rc = SCEP_OK;
	call->stage = INTUNE_STAGE_NONE;
	call->message[0] = '\0';
	r = SCEP_OK;
 out:
	json_decref(root);
	ihttp_resp_clear(&rs);
	itok_free(token);
	free(url);
	return r;
}

/* The cached URI for "which", copied; SCEP_E_CONFIG when discovery
 * found no such service.  Called with the lock held. */
static int
cached(struct intune_client *c, int which, char **out,
    struct intune_call *call)
{
	const char *u = which ? c->pki_uri : c->svc_uri;

	if (u == NULL) {
		icall_init(call, "discovery");
		icall_reason(call, SCEP_E_CONFIG, INTUNE_STAGE_DISCOVERY,
		    "Graph lists no %s", INTUNE_PROVIDER_REVOCATION);
		return SCEP_E_CONFIG;
	}
	if ((*out = istrdup(u)) == NULL)
		return SCEP_E_NOMEM;
	return SCEP_OK;
}

int
itdisc_get(struct intune_client *c, int force, int which, char **out,
    struct intune_call *call)
{
	struct found f;
	uint64_t gen, requests = 0;
	int64_t t0 = imono_ms();
	int r;

	*out = NULL;
	memset(&f, 0, sizeof(f));
	pthread_mutex_lock(&c->lock);
	for (;;) {
		if (!force && c->svc_uri != NULL &&
		    imono_ms() / 1000 < c->disc_expires) {
			r = cached(c, which, out, call);
			pthread_mutex_unlock(&c->lock);
			return r;
		}
		if (!c->disc_fetching)
			break;
		gen = c->disc_gen;
		while (c->disc_fetching && c->disc_gen == gen)
			pthread_cond_wait(&c->cond, &c->lock);
		if (c->disc_gen != gen && c->svc_uri == NULL) {
			r = c->disc_last_rc != SCEP_OK ? c->disc_last_rc :
			    SCEP_E_IO;
			*call = c->disc_last;
			call->rc = r;
			pthread_mutex_unlock(&c->lock);
			return r;
		}
		force = 0;
	}
	c->disc_fetching = 1;
	pthread_mutex_unlock(&c->lock);

	icall_init(call, "discovery");
	r = discover(c, &f, call, &requests);
	call->elapsed_ms = (long)(imono_ms() - t0);
	if (r != SCEP_OK) {
		if (call->rc == SCEP_OK)
			call->rc = r;
		if (call->stage == INTUNE_STAGE_NONE)
			call->stage = INTUNE_STAGE_DISCOVERY;
		log_warn("msg=\"Intune service discovery failed\" "
		    "http_status=%ld reason=\"%s\"", call->http_status,
		    call->message);
	} else
		log_info("msg=\"Intune service discovered\" uri=\"%s\"", f.svc);

	pthread_mutex_lock(&c->lock);
	c->disc_fetching = 0;
	c->disc_gen++;
	c->disc_last_rc = r;
	c->disc_last = *call;
	c->stats.discovery_requests += requests;
	if (r == SCEP_OK) {
		c->stats.discoveries++;
		free(c->svc_uri);
		free(c->pki_uri);
		c->svc_uri = f.svc;
		c->pki_uri = f.pki;
		f.svc = f.pki = NULL;
		c->disc_expires = imono_ms() / 1000 + c->disc_ttl;
		r = cached(c, which, out, call);
	}
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	free(f.svc);
	free(f.pki);
	return r;
}

void
itdisc_invalidate(struct intune_client *c, const char *uri)
{
	pthread_mutex_lock(&c->lock);
	if (uri != NULL && ((c->svc_uri != NULL && strcmp(c->svc_uri, uri) ==
	    0) || (c->pki_uri != NULL && strcmp(c->pki_uri, uri) == 0))) {
		free(c->svc_uri);
		free(c->pki_uri);
		c->svc_uri = c->pki_uri = NULL;
		c->disc_expires = 0;
		c->stats.rediscoveries++;
	}
	pthread_mutex_unlock(&c->lock);
}

void
itdisc_peek(struct intune_client *c, char *svc, size_t svcsz, char *pki,
    size_t pkisz)
{
	pthread_mutex_lock(&c->lock);
	snprintf(svc, svcsz, "%s", c->svc_uri != NULL ? c->svc_uri : "");
	snprintf(pki, pkisz, "%s", c->pki_uri != NULL ? c->pki_uri : "");
	pthread_mutex_unlock(&c->lock);
}
