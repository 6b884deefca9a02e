/*
 * intune_svc.c -- the three ScepActions calls of the Intune validation
 * service (spec 6) and Test connection.
 *
 * Retry rules (spec 6.5, 4.3, 5.2), per call:
 *   - a 401 drops the Intune token, fetches a new one and sends again,
 *     once (a refused token means the request was not acted on);
 *   - a connection, DNS or TLS failure, where no byte of the request left
 *     this host, drops the cached service URL, rediscovers and sends
 *     again, once: safe for every call;
 *   - validateRequest is never sent again after anything else: not after
 *     an answer (404, 429, 5xx) and not after a reset or read timeout,
 *     because whether validation consumes the challenge is unknown;
 *   - the notifications are sent again once after a reset, 404 (with
 *     rediscovery), 429 or 5xx; not after a timeout (its budget is spent).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "intune_int.h"
#include "log.h"
#include "scep_err.h"

#define ACT_VALIDATE	"validateRequest"
#define ACT_SUCCESS	"successNotification"
#define ACT_FAILURE	"failureNotification"

/* A short, printable excerpt of an error body for the message. */
static void
excerpt(char *dst, size_t dstsz, const struct ihttp_resp *rs)
{
	iclean(dst, dstsz, rs->body != NULL ? rs->body : "", rs->len);
}

/* Parse {"code": ..., "errorDescription": ...} (spec 6.4). */
static int
parse_answer(const struct ihttp_resp *rs, struct intune_call *call)
{
	json_t *root = NULL, *code, *desc;
	int r;

	root = json_loadb(rs->body != NULL ? rs->body : "", rs->len, 0, NULL);
	code = json_object_get(root, "code");
	desc = json_object_get(root, "errorDescription");
	if (!json_is_object(root) || (code != NULL && !json_is_string(code) &&
	    !json_is_null(code)) || (desc != NULL && !json_is_string(desc) &&
	    !json_is_null(desc))) {
		char ex[96];

		excerpt(ex, sizeof(ex), rs);
		icall_reason(call, SCEP_E_MALFORMED, INTUNE_STAGE_RESPONSE,
		    "answer is not the JSON of spec 6.4: %s", ex);
		r = SCEP_E_MALFORMED;
		goto out;
	}
	if (json_is_string(code))
		iclean(call->code, sizeof(call->code), json_string_value(code),
		    json_string_length(code));
	if (json_is_string(desc))
		iclean(call->message, sizeof(call->message),
		    json_string_value(desc), json_string_length(desc));
	else
		call->message[0] = '\0';
	/* Server rule: "Success" exactly; anything else, an unknown, empty
	 * or missing code included, is a rejection. */
	if (json_is_string(code) && strcmp(json_string_value(code), "Success")
	    == 0 && json_string_length(code) == 7) {
		call->rc = SCEP_OK;
		call->stage = INTUNE_STAGE_NONE;
		r = SCEP_OK;
	} else {
		call->rc = SCEP_E_DENIED;
		call->stage = INTUNE_STAGE_REJECTED;
		if (call->code[0] == '\0' && call->message[0] == '\0')
			snprintf(call->message, sizeof(call->message),
			    "answer carries no code");
		r = SCEP_E_DENIED;
	}
 out:
	json_decref(root);
	return r;
}

/* Copy a token or discovery failure into the call's outcome. */
static void
take_failure(struct intune_call *call, const struct intune_call *sub,
    int stage)
{
	const char *pfx = NULL;

	/* Discovery fails at the token stage when the Graph token does. */
	if (sub->stage == INTUNE_STAGE_TOKEN && stage ==
	    INTUNE_STAGE_DISCOVERY) {
		stage = INTUNE_STAGE_TOKEN;
		pfx = "no Graph token";
	} else
		pfx = stage == INTUNE_STAGE_TOKEN ? "no Intune token" :
		    "no validation service URL";
	call->rc = sub->rc != SCEP_OK ? sub->rc : SCEP_E_IO;
	call->stage = stage;
	snprintf(call->message, sizeof(call->message), "%s: %.200s", pfx,
	    sub->message);
	snprintf(call->aadsts, sizeof(call->aadsts), "%s", sub->aadsts);
	snprintf(call->code, sizeof(call->code), "%s", sub->code);
	call->http_status = sub->http_status;
}

/* What differs between the calls to Intune's services. */
struct spec {
	int		 op;		/* enum intune_op: timeouts */
	int		 which;		/* 0 validation, 1 revocation API */
	const char	*group;		/* "ScepActions" ... */
	const char	*action;
	int		 resend;	/* after an answer or a reset (not
					 * validateRequest, spec 6.5) */
	size_t		 max_resp;
};

/*
 * One call with the retry rules above.  With "answer" NULL the 2xx body
 * is spec 6.4's {"code", "errorDescription"}; otherwise *answer (take)
 * is the parsed JSON object for the caller.
 */
static int
service_call(struct intune_client *c, const struct spec *sp, json_t *obj,
    const char *transid, struct intune_call *call, json_t **answer)
{
	const char *action = sp->action;
	struct intune_call sub;
	struct ihttp_req rq;
	struct ihttp_resp rs;
	char *body = NULL, *token = NULL, *rejected = NULL, *base = NULL;
	char *url = NULL, rid[INTUNE_GUID_LEN + 1], ex[96], tid[80];
	int64_t t0 = imono_ms();
	int retries = 1, refreshed = 0, r = SCEP_E_INTERNAL, again;
	size_t ulen;

	memset(&rs, 0, sizeof(rs));
	/* For our log lines only: the peer chose these bytes. */
	iclean(tid, sizeof(tid), transid, strlen(transid));
	if ((body = json_dumps(obj, JSON_COMPACT)) == NULL) {
		icall_reason(call, SCEP_E_NOMEM, INTUNE_STAGE_CONFIG,
		    "cannot encode the request");
		r = SCEP_E_NOMEM;
		goto out;
	}
	while (call->attempts < INTUNE_MAX_ATTEMPTS) {
		again = 0;
		ihttp_resp_clear(&rs);
		itok_free(token);
		token = NULL;
		free(base);
		base = NULL;
		free(url);
		url = NULL;
		/* spec 7: Graph token, discovery, then the Intune token. */
		if ((r = itdisc_get(c, 0, sp->which, &base, &sub)) != SCEP_OK) {
			take_failure(call, &sub, INTUNE_STAGE_DISCOVERY);
			goto out;
		}
		if ((r = itok_get(c, TOK_INTUNE, rejected, 0, &token, &sub)) !=
		    SCEP_OK) {
			take_failure(call, &sub, INTUNE_STAGE_TOKEN);
			goto out;
		}
		itok_free(rejected);
		rejected = NULL;
		ulen = strlen(base) + strlen(sp->group) + strlen(action) + 3;
		if ((url = malloc(ulen)) == NULL) {
			r = SCEP_E_NOMEM;
			goto out;
		}
		snprintf(url, ulen, "%s/%s/%s", base, sp->group, action);
		if ((r = intune_guid(rid)) != SCEP_OK)
			goto out;
		icall_add_id(call, rid);

		memset(&rq, 0, sizeof(rq));
		rq.op = sp->op;
		rq.post = 1;
		rq.url = url;
		rq.content_type = "application/json";
		rq.body = body;
		rq.body_len = strlen(body);
		rq.bearer = token;
		rq.request_id = rid;
		rq.service = 1;
		rq.api_version = sp->which ? c->api_version_pki :
		    c->api_version;
		/* A new connection for every ScepActions call: on a reused
		 * keep-alive connection that dies, libcurl resends the request
		 * by itself, unseen by the rules above (same client-request-id,
		 * and possibly a validation Intune already acted on). */
		rq.fresh = 1;
		rq.max_resp = sp->max_resp;
		pthread_mutex_lock(&c->lock);
		c->stats.service_requests++;
		pthread_mutex_unlock(&c->lock);
		if ((r = ihttp_do(c, &rq, &rs)) != SCEP_OK) {
			icall_reason(call, r, INTUNE_STAGE_CALL,
			    "request could not be made");
			goto out;
		}
		call->http_status = rs.status;
		log_info("msg=\"Intune call\" action=%s transid=\"%s\" "
		    "client_request_id=%s http_status=%ld curl=%d", action,
		    tid, rid, rs.status, rs.curl_code);

		if (rs.curl_code != CURLE_OK) {
			icall_reason(call, SCEP_E_IO, INTUNE_STAGE_CALL,
			    "%s: %s", rs.timed_out ? "timed out" :
			    rs.too_big ? "answer too large" :
			    "service unreachable", rs.err);
			if (rs.connect_fail) {
				/* spec 5.2: the URL may have moved. */
				itdisc_invalidate(c, base);
				again = 1;
			} else if (sp->resend && !rs.timed_out && !rs.too_big)
				again = 1;
		} else if (rs.status == 401) {
			icall_reason(call, SCEP_E_CONFIG, INTUNE_STAGE_CALL,
			    "service refused the Intune token (HTTP 401)");
			if (!refreshed) {
				refreshed = 1;
				rejected = token;
				token = NULL;
				continue;	/* a budget of its own */
			}
		} else if (rs.status == 404) {
			excerpt(ex, sizeof(ex), &rs);
			icall_reason(call, SCEP_E_IO, INTUNE_STAGE_CALL,
			    "HTTP 404: %s", ex);
			itdisc_invalidate(c, base);
			again = sp->resend;
		} else if (rs.status == 429 || rs.status >= 500) {
			excerpt(ex, sizeof(ex), &rs);
			icall_reason(call, SCEP_E_IO, INTUNE_STAGE_CALL,
			    "HTTP %ld: %s", rs.status, ex);
			again = sp->resend;
		} else if (rs.status < 200 || rs.status > 299) {
			excerpt(ex, sizeof(ex), &rs);
			icall_reason(call, SCEP_E_IO, INTUNE_STAGE_CALL,
			    "HTTP %ld: %s", rs.status, ex);
		} else if (answer != NULL) {
			*answer = json_loadb(rs.body, rs.len, 0, NULL);
			if (!json_is_object(*answer)) {
				json_decref(*answer);
				*answer = NULL;
				excerpt(ex, sizeof(ex), &rs);
				icall_reason(call, SCEP_E_MALFORMED,
				    INTUNE_STAGE_RESPONSE, "answer is not a "
				    "JSON object: %s", ex);
				r = SCEP_E_MALFORMED;
				goto out;
			}
			call->rc = SCEP_OK;
			call->stage = INTUNE_STAGE_NONE;
			call->message[0] = '\0';
			r = SCEP_OK;
			goto out;
		} else {
			r = parse_answer(&rs, call);
			goto out;
		}
		if (again && retries > 0) {
			retries--;
			continue;
		}
		r = call->rc;
		goto out;
	}
	r = call->rc != SCEP_OK ? call->rc : SCEP_E_IO;
 out:
	call->elapsed_ms = (long)(imono_ms() - t0);
	if (r != SCEP_OK && call->rc == SCEP_OK)
		call->rc = r;
	log_info("msg=\"Intune call done\" action=%s transid=\"%s\" "
	    "result=%s stage=%s http_status=%ld code=\"%s\" attempts=%d "
	    "elapsed_ms=%ld reason=\"%s\"", action, tid,
	    call->rc == SCEP_OK ? "ok" : scep_strerror(call->rc),
	    intune_stage_name(call->stage), call->http_status, call->code,
	    call->attempts, call->elapsed_ms, call->message);
	ihttp_resp_clear(&rs);
	itok_free(token);
	itok_free(rejected);
	free(base);
	free(url);
	free(body);
	return r;
}

static const struct spec spec_validate = { INTUNE_OP_VALIDATE, 0,
    "ScepActions", ACT_VALIDATE, 0, INTUNE_MAX_SVC_RESP };
static const struct spec spec_success = { INTUNE_OP_SUCCESS, 0,
    "ScepActions", ACT_SUCCESS, 1, INTUNE_MAX_SVC_RESP };
static const struct spec spec_failure = { INTUNE_OP_FAILURE, 0,
    "ScepActions", ACT_FAILURE, 1, INTUNE_MAX_SVC_RESP };
static const struct spec spec_download = { INTUNE_OP_REVOCATION, 1,
    "CertificateAuthorityRequests", "downloadRevocationRequests", 1,
    INTUNE_MAX_REVOC_RESP };
static const struct spec spec_upload = { INTUNE_OP_REVOCATION, 1,
    "CertificateAuthorityRequests", "uploadRevocationResults", 1,
    INTUNE_MAX_SVC_RESP };

/* transactionId and the CSR: present, within limits (spec 6.2: every
 * field non-empty). */
static int
check_common(const char *transid, const uint8_t *csr, size_t csr_len,
    struct intune_call *call, char **b64)
{
	int r;

	*b64 = NULL;
	if (transid == NULL || transid[0] == '\0' ||
	    strlen(transid) > INTUNE_MAX_TRANSID || csr == NULL ||
	    csr_len == 0 || csr_len > INTUNE_MAX_CSR) {
		icall_reason(call, SCEP_E_INTERNAL, INTUNE_STAGE_CONFIG,
		    "transactionId or CSR missing or over its limit");
		return SCEP_E_INTERNAL;
	}
	/* spec 6.2: base64 of the exact DER, one line, padded. */
	if ((r = ib64(csr, csr_len, b64)) != SCEP_OK) {
		icall_reason(call, r, INTUNE_STAGE_CONFIG,
		    "cannot encode the CSR");
		return r;
	}
	return SCEP_OK;
}

static int
pack_failed(struct intune_call *call)
{
	/* json_pack refuses strings that are not UTF-8. */
	icall_reason(call, SCEP_E_MALFORMED, INTUNE_STAGE_CONFIG,
	    "a field is not valid UTF-8");
	return SCEP_E_MALFORMED;
}

int
intune_validate(struct intune_client *c, const char *transid,
    const uint8_t *csr, size_t csr_len, struct intune_call *out)
{
	json_t *o = NULL;
	char *b64 = NULL;
	int r;

	icall_init(out, ACT_VALIDATE);
	if ((r = check_common(transid, csr, csr_len, out, &b64)) != SCEP_OK)
		goto out;
	/* spec 6.2 */
	o = json_pack("{s:{s:s, s:s, s:s}}", "request",
	    "transactionId", transid,
	    "certificateRequest", b64,
	    "callerInfo", c->caller);
	if (o == NULL) {
		r = pack_failed(out);
		goto out;
	}
	r = service_call(c, &spec_validate, o, transid, out, NULL);
 out:
	json_decref(o);
	free(b64);
	return r;
}

static const char *
nonempty(const char *a, const char *b)
{
	return a != NULL && a[0] != '\0' ? a : b;
}

int
intune_notify_success(struct intune_client *c, const char *transid,
    const uint8_t *csr, size_t csr_len, const struct intune_cert_info *ci,
    struct intune_call *out)
{
	json_t *o = NULL;
	char *b64 = NULL;
	const char *issuing = NULL, *cacfg = NULL, *ca = NULL;
	int r;

	icall_init(out, ACT_SUCCESS);
	if ((r = check_common(transid, csr, csr_len, out, &b64)) != SCEP_OK)
		goto out;
	/* The three CA fields fall back to the issuer DN (spec 6.2: EJBCA
	 * sends the DN for all three); every field must be non-empty. */
	issuing = nonempty(ci->issuer, NULL);
	ca = nonempty(ci->certificate_authority, issuing);
	cacfg = nonempty(ci->ca_configuration, issuing);
	if (ci->thumbprint[0] == '\0' || ci->serial[0] == '\0' ||
	    ci->expiry[0] == '\0' || issuing == NULL) {
		icall_reason(out, SCEP_E_INTERNAL, INTUNE_STAGE_CONFIG,
		    "certificate fields missing");
		r = SCEP_E_INTERNAL;
		goto out;
	}
	o = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}}",
	    "notification",
	    "transactionId", transid,
	    "certificateRequest", b64,
	    "certificateThumbprint", ci->thumbprint,
	    "certificateSerialNumber", ci->serial,
	    "certificateExpirationDateUtc", ci->expiry,
	    "issuingCertificateAuthority", issuing,
	    "callerInfo", c->caller,
	    "caConfiguration", cacfg,
	    "certificateAuthority", ca);
	if (o == NULL) {
		r = pack_failed(out);
		goto out;
	}
	r = service_call(c, &spec_success, o, transid, out, NULL);
 out:
	json_decref(o);
	free(b64);
	return r;
}

int
intune_notify_failure(struct intune_client *c, const char *transid,
    const uint8_t *csr, size_t csr_len, int64_t hresult,
    const char *description, struct intune_call *out)
{
	json_t *o = NULL;
	char *b64 = NULL, *desc = NULL;
	int r;

	icall_init(out, ACT_FAILURE);
	if ((r = check_common(transid, csr, csr_len, out, &b64)) != SCEP_OK)
		goto out;
	/* spec 6.2: non-empty, at most 255 characters, cut on a UTF-8
	 * character boundary. */
	if (description == NULL || description[0] == '\0')
		description = "certificate issuance failed";
	if ((desc = iutf8_trunc(description, INTUNE_MAX_ERRDESC)) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	o = json_pack("{s:{s:s, s:s, s:I, s:s, s:s}}", "notification",
	    "transactionId", transid,
	    "certificateRequest", b64,
	    "hResult", (json_int_t)hresult,
	    "errorDescription", desc,
	    "callerInfo", c->caller);
	if (o == NULL) {
		r = pack_failed(out);
		goto out;
	}
	r = service_call(c, &spec_failure, o, transid, out, NULL);
 out:
	json_decref(o);
	free(b64);
	free(desc);
	return r;
}

/* ---- revocation (spec 9) ---- */

static int
hex_ok(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if (n >= 128 || !isxdigit((unsigned char)*s))
			return 0;
	return n > 0;
}

static void
opt_string(json_t *o, const char *key, char *dst, size_t dstsz)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		iclean(dst, dstsz, json_string_value(v), json_string_length(v));
	else
		dst[0] = '\0';
}

int
intune_revocation_download(struct intune_client *c, int max,
    const char *issuer, struct intune_revocation_request **out, size_t *n,
    struct intune_call *call)
{
	struct intune_revocation_request *rv = NULL;
	json_t *o = NULL, *ans = NULL, *val = NULL, *e = NULL, *ctx = NULL;
	size_t i, k = 0;
	int r;

	*out = NULL;
	*n = 0;
	icall_init(call, spec_download.action);
	/* spec 9: maxRequests 1-500, the libraries refuse other values. */
	if (max < 1 || max > INTUNE_MAX_REVOCATIONS) {
		icall_reason(call, SCEP_E_INTERNAL, INTUNE_STAGE_CONFIG,
		    "maxRequests must be 1-%d", INTUNE_MAX_REVOCATIONS);
		return SCEP_E_INTERNAL;
	}
	o = json_pack("{s:{s:i, s:s?, s:n}}", "downloadParameters",
	    "maxRequests", max,
	    "issuerName", issuer,
	    "certificateProviderName");
	if (o == NULL) {
		r = pack_failed(call);
		goto out;
	}
	if ((r = service_call(c, &spec_download, o, "-", call, &ans)) !=
	    SCEP_OK)
		goto out;
	val = json_object_get(ans, "value");
	if (!json_is_array(val)) {
		icall_reason(call, SCEP_E_MALFORMED, INTUNE_STAGE_RESPONSE,
		    "answer has no \"value\" list");
		r = SCEP_E_MALFORMED;
		goto out;
	}
	if (json_array_size(val) > 0 && (rv = calloc(json_array_size(val) <
	    (size_t)max ? json_array_size(val) : (size_t)max,
	    sizeof(*rv))) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	json_array_foreach(val, i, e) {
		if (k >= (size_t)max)
			break;
		ctx = json_object_get(e, "requestContext");
		/* Without its requestContext a request cannot be answered:
		 * skip it (Intune will offer it again). */
		if (!json_is_string(ctx) || json_string_length(ctx) == 0 ||
		    json_string_length(ctx) > INTUNE_MAX_REQCTX) {
			log_warn("msg=\"Intune revocation request without a "
			    "usable requestContext; skipped\"");
			continue;
		}
		iclean(rv[k].request_context, sizeof(rv[k].request_context),
		    json_string_value(ctx), json_string_length(ctx));
		opt_string(e, "serialNumber", rv[k].serial,
		    sizeof(rv[k].serial));
		if (!hex_ok(rv[k].serial))
			rv[k].serial[0] = '\0';
		opt_string(e, "issuerName", rv[k].issuer,
		    sizeof(rv[k].issuer));
		opt_string(e, "caConfiguration", rv[k].ca_configuration,
		    sizeof(rv[k].ca_configuration));
		k++;
	}
	*out = rv;
	rv = NULL;
	*n = k;
	r = SCEP_OK;
 out:
	free(rv);
	json_decref(o);
	json_decref(ans);
	return r;
}

int
intune_revocation_upload(struct intune_client *c,
    const struct intune_revocation_result *res, size_t n,
    struct intune_call *call)
{
	json_t *o = NULL, *arr = NULL, *ans = NULL, *v = NULL, *item = NULL;
	char code[16];
	size_t i;
	int r;

	icall_init(call, spec_upload.action);
	if (n == 0 || n > INTUNE_MAX_REVOCATIONS) {
		icall_reason(call, SCEP_E_INTERNAL, INTUNE_STAGE_CONFIG,
		    "1-%d results per upload", INTUNE_MAX_REVOCATIONS);
		return SCEP_E_INTERNAL;
	}
	if ((arr = json_array()) == NULL)
		return SCEP_E_NOMEM;
	for (i = 0; i < n; i++) {
		/* spec 9: succeeded true requires errorCode 0, false a
		 * non-zero code. */
		if (res[i].request_context == NULL ||
		    res[i].request_context[0] == '\0' ||
		    (res[i].succeeded != 0) != (res[i].error_code == 0)) {
			icall_reason(call, SCEP_E_INTERNAL, INTUNE_STAGE_CONFIG,
			    "result %zu inconsistent", i);
			r = SCEP_E_INTERNAL;
			goto out;
		}
		snprintf(code, sizeof(code), "%d", res[i].error_code);
		item = c->code_as_string ?
		    json_pack("{s:s, s:b, s:s, s:s}",
		    "requestContext", res[i].request_context,
		    "succeeded", res[i].succeeded != 0,
		    "errorCode", code,
		    "errorMessage", res[i].error_message != NULL ?
		    res[i].error_message : "") :
		    json_pack("{s:s, s:b, s:i, s:s}",
		    "requestContext", res[i].request_context,
		    "succeeded", res[i].succeeded != 0,
		    "errorCode", res[i].error_code,
		    "errorMessage", res[i].error_message != NULL ?
		    res[i].error_message : "");
		if (item == NULL || json_array_append_new(arr, item) != 0) {
			r = pack_failed(call);
			goto out;
		}
	}
	if ((o = json_pack("{s:O}", "results", arr)) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	if ((r = service_call(c, &spec_upload, o, "-", call, &ans)) != SCEP_OK)
		goto out;
	/* {"value": true}; the C# library also accepts "true". */
	v = json_object_get(ans, "value");
	if (json_is_true(v) || (json_is_string(v) &&
	    strcmp(json_string_value(v), "true") == 0))
		r = SCEP_OK;
	else {
		icall_reason(call, SCEP_E_DENIED, INTUNE_STAGE_REJECTED,
		    "upload not accepted");
		r = SCEP_E_DENIED;
	}
 out:
	json_decref(arr);
	json_decref(o);
	json_decref(ans);
	return r;
}

int
intune_test_connection(struct intune_client *c, struct intune_test_report *rep)
{
	char *tok = NULL, *uri = NULL;
	int rg, rd, ri;

	memset(rep, 0, sizeof(*rep));
	rg = itok_get(c, TOK_GRAPH, NULL, 1, &tok, &rep->graph_token);
	rep->graph_token.action = "graph token";
	itok_free(tok);
	tok = NULL;
	if (rg == SCEP_OK)
		rd = itdisc_get(c, 1, 0, &uri, &rep->discovery);
	else {
		icall_init(&rep->discovery, "discovery");
		icall_reason(&rep->discovery, rg, INTUNE_STAGE_TOKEN,
		    "not attempted: no Graph token");
		rd = rg;
	}
	rep->discovery.action = "discovery";
	free(uri);
	ri = itok_get(c, TOK_INTUNE, NULL, 1, &tok, &rep->intune_token);
	rep->intune_token.action = "intune token";
	itok_free(tok);
	itdisc_peek(c, rep->validation_uri, sizeof(rep->validation_uri),
	    rep->revocation_uri, sizeof(rep->revocation_uri));
	rep->rc = rg != SCEP_OK ? rg : rd != SCEP_OK ? rd : ri;
	if (rep->rc == SCEP_OK)
		snprintf(rep->summary, sizeof(rep->summary), "OK: tokens "
		    "obtained; %s found", INTUNE_PROVIDER_VALIDATION);
	else
		snprintf(rep->summary, sizeof(rep->summary),
		    "graph token: %s%s%.140s; discovery: %s%s%.140s; "
		    "intune token: %s%s%.140s",
		    rg == SCEP_OK ? "ok" : "FAILED", rg == SCEP_OK ? "" : " - ",
		    rg == SCEP_OK ? "" : rep->graph_token.message,
		    rd == SCEP_OK ? "ok" : "FAILED", rd == SCEP_OK ? "" : " - ",
		    rd == SCEP_OK ? "" : rep->discovery.message,
		    ri == SCEP_OK ? "ok" : "FAILED", ri == SCEP_OK ? "" : " - ",
		    ri == SCEP_OK ? "" : rep->intune_token.message);
	return rep->rc;
}
