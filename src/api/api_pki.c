/*
 * api_pki.c -- /api/v1 handlers for CAs, RA certificates (spec 15),
 * issued certificates and pending requests (spec 14).
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api_int.h"
#include "ca_gen.h"
#include "scep_err.h"

/* ---- downloads ---- */

/*
 * Send a DER certificate in the form ?format= asks for: "pem" (default),
 * "der", or "p7" (the certs-only PKCS#7 chain a SCEP client would get,
 * made by p7fn).
 */
static int
send_cert(struct api_call *c, const uint8_t *der, size_t len,
    const char *name, uint8_t *p7, size_t p7len)
{
	char disp[160];
	BIO *b = NULL;
	X509 *x = NULL;
	const unsigned char *p = der;
	char *pem = NULL;
	long plen;
	int r;

	if (p7 != NULL) {
		snprintf(disp, sizeof(disp), "attachment; filename=\"%s.p7b\"",
		    name);
		http_resp_header(c->resp, "Content-Disposition", disp);
		return http_resp_set(c->resp, 200,
		    "application/x-pkcs7-certificates", p7, p7len);
	}
	if (der == NULL || len > LONG_MAX ||
	    (x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return api_error(c, 500, NULL, "stored certificate unreadable");
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.pem\"", name);
	r = -1;
	if ((b = BIO_new(BIO_s_mem())) != NULL && PEM_write_bio_X509(b, x) &&
	    (plen = BIO_get_mem_data(b, &pem)) > 0) {
		http_resp_header(c->resp, "Content-Disposition", disp);
		r = http_resp_set(c->resp, 200, "application/x-pem-file", pem,
		    (size_t)plen);
	}
	BIO_free(b);
	X509_free(x);
	return r;
}

/* ?format=: 0 pem, 1 der, 2 p7, -1 bad (response prepared). */
static int
download_format(struct api_call *c)
{
	char f[8];
	int r;

	if ((r = api_query_str(c, "format", f, sizeof(f))) < 0)
		return -1;
	if (r == 0 || strcmp(f, "pem") == 0)
		return 0;
	if (strcmp(f, "der") == 0)
		return 1;
	if (strcmp(f, "p7") == 0)
		return 2;
	api_error(c, 400, "format", "format must be pem, der or p7");
	return -1;
}

static int
send_der(struct api_call *c, const uint8_t *der, size_t len, const char *name)
{
	char disp[160];

	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.cer\"", name);
	http_resp_header(c->resp, "Content-Disposition", disp);
	return http_resp_set(c->resp, 200, "application/pkix-cert", der, len);
}

/* ---- CAs and RAs ---- */

int
h_ca_list(struct api_call *c)
{
	struct store_ca *list = NULL;
	json_t *items = NULL;
	size_t n = 0, i;
	int r;

	if ((list = calloc(ADMIN_MAX_LIST, sizeof(*list))) == NULL)
		return -1;
	if ((r = admin_ca_list(&c->actor, list, ADMIN_MAX_LIST, &n)) !=
	    SCEP_OK) {
		free(list);
		return api_fail(c, r, NULL);
	}
	if ((items = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(items, admin_json_ca(&list[i]));
	for (i = 0; i < n; i++)
		store_ca_clear(&list[i]);
	free(list);
	return api_json(c, 200, api_list(items));
}

int
h_ra_list(struct api_call *c)
{
	struct store_ra *list = NULL;
	json_t *items = NULL;
	int64_t ca = 0;
	size_t n = 0, i;
	int r;

	if (api_query_i64(c, "ca_id", 1, INT64_MAX, &ca) < 0)
		return 0;
	if ((list = calloc(ADMIN_MAX_LIST, sizeof(*list))) == NULL)
		return -1;
	if ((r = admin_ra_list(&c->actor, ca, list, ADMIN_MAX_LIST, &n)) !=
	    SCEP_OK) {
		free(list);
		return api_fail(c, r, NULL);
	}
	if ((items = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(items, admin_json_ra(&list[i]));
	for (i = 0; i < n; i++)
		store_ra_clear(&list[i]);
	free(list);
	return api_json(c, 200, api_list(items));
}

static int
usage_parse(const char *s)
{
	if (s == NULL || strcmp(s, "sign-encrypt") == 0)
		return CA_RA_SIGN_ENCRYPT;
	if (strcmp(s, "sign") == 0)
		return CA_RA_SIGN;
	if (strcmp(s, "encrypt") == 0)
		return CA_RA_ENCRYPT;
	return 0;
}

int
h_ra_create(struct api_call *c)
{
	static const char *const allowed[] = { "ca_id", "key_alg", "subject",
	    "usage", "days", "state", NULL };
	struct store_ra ra;
	struct admin_err err;
	const char *alg = NULL, *subject = NULL, *usage = NULL, *state = NULL;
	int64_t ca = 0, days = ADMIN_RA_DAYS;
	int st, us, r;
	json_t *j;

	memset(&ra, 0, sizeof(ra));
	memset(&err, 0, sizeof(err));
	if (api_body_only(c, allowed) != 0 ||
	    api_body_i64(c, "ca_id", 1, INT64_MAX, &ca) < 0 ||
	    api_body_str(c, "key_alg", &alg) < 0 ||
	    api_body_str(c, "subject", &subject) < 0 ||
	    api_body_str(c, "usage", &usage) < 0 ||
	    api_body_i64(c, "days", 1, CA_MAX_RA_DAYS, &days) < 0 ||
	    api_body_str(c, "state", &state) < 0)
		return 0;
	if (ca == 0)
		return api_error(c, 400, "ca_id", "ca_id is required");
	if (subject == NULL)
		return api_error(c, 400, "subject", "subject is required");
	if ((us = usage_parse(usage)) == 0)
		return api_error(c, 400, "usage",
		    "usage must be sign-encrypt, sign or encrypt");
	st = state == NULL ? RA_ACTIVE : admin_ra_state_parse(state);
	if (st != RA_ACTIVE && st != RA_NEXT)
		return api_error(c, 400, "state", "state must be active or "
		    "next");
	if ((r = admin_ra_create(&c->actor, ca, alg ? alg : "rsa2048",
	    subject, us, (int)days, st, &ra, &err)) != SCEP_OK)
		return api_fail(c, r, &err);
	j = admin_json_ra(&ra);
	store_ra_clear(&ra);
	return api_json(c, 201, j);
}

int
h_ra_get(struct api_call *c)
{
	struct store_ra ra;
	json_t *j;
	int r;

	memset(&ra, 0, sizeof(ra));
	if ((r = admin_ra_get(&c->actor, api_param_id(c, 0), &ra)) != SCEP_OK)
		return api_fail(c, r, NULL);
	j = admin_json_ra(&ra);
	store_ra_clear(&ra);
	return api_json(c, 200, j);
}

int
h_ra_download(struct api_call *c)
{
	struct store_ra ra;
	uint8_t *p7 = NULL;
	size_t p7len = 0;
	char name[48];
	int f, r;

	memset(&ra, 0, sizeof(ra));
	if ((f = download_format(c)) < 0)
		return 0;
	if ((r = admin_ra_get(&c->actor, api_param_id(c, 0), &ra)) != SCEP_OK)
		return api_fail(c, r, NULL);
	snprintf(name, sizeof(name), "ra-%lld", (long long)ra.id);
	if (f == 2 && (r = admin_ra_p7(&c->actor, ra.id, &p7, &p7len)) !=
	    SCEP_OK) {
		store_ra_clear(&ra);
		return api_fail(c, r, NULL);
	}
	if (f == 1)
		r = send_der(c, ra.cert_der, ra.cert_len, name);
	else
		r = send_cert(c, ra.cert_der, ra.cert_len, name, p7, p7len);
	OPENSSL_free(p7);
	store_ra_clear(&ra);
	return r;
}

int
h_ra_rollover(struct api_call *c)
{
	static const char *const allowed[] = { "action", "days", NULL };
	struct store_ra ra;
	struct admin_err err;
	const char *action = NULL;
	int64_t days = 0;
	json_t *j;
	int r;

	memset(&ra, 0, sizeof(ra));
	memset(&err, 0, sizeof(err));
	if (api_body_only(c, allowed) != 0 ||
	    api_body_str(c, "action", &action) < 0 ||
	    api_body_i64(c, "days", 1, CA_MAX_RA_DAYS, &days) < 0)
		return 0;
	if (action != NULL && strcmp(action, "stage") == 0)
		r = admin_ra_stage(&c->actor, api_param_id(c, 0), (int)days,
		    &ra, &err);
	else if (action != NULL && strcmp(action, "switch") == 0)
		r = admin_ra_switch(&c->actor, api_param_id(c, 0), &ra, &err);
	else
		return api_error(c, 400, "action",
		    "action must be stage or switch");
	if (r != SCEP_OK)
		return api_fail(c, r, &err);
	j = admin_json_ra(&ra);
	store_ra_clear(&ra);
	return api_json(c, 200, j);
}

/* ---- certificates ---- */

/*
 * A serial from the path: hex digits only, at most STORE_SERIAL_MAX - 1,
 * normalized to the store's form (upper case, no leading zeros).  0 when
 * it is not a serial.
 */
static int
serial_param(struct api_call *c, char *out, size_t outsz)
{
	const char *s = c->nparams > 0 ? c->params[0] : "";
	size_t i, o = 0;

	while (s[0] == '0' && s[1] != '\0')
		s++;
	for (i = 0; s[i] != '\0'; i++) {
		if (!isxdigit((unsigned char)s[i]) || o + 1 >= outsz)
			return 0;
		out[o++] = (char)toupper((unsigned char)s[i]);
	}
	out[o] = '\0';
	return o > 0;
}

int
h_cert_list(struct api_call *c)
{
	struct store_cert_filter f;
	struct store_cert *list = NULL;
	char status[16];
	json_t *items = NULL, *j;
	int64_t cursor = 0;
	size_t n = 0, i, limit;
	int r;

	memset(&f, 0, sizeof(f));
	if (api_query_limit(c, API_LIST_MAX, &limit) < 0 ||
	    api_query_i64(c, "after", 0, INT64_MAX, &f.after) < 0 ||
	    api_query_i64(c, "endpoint_id", 1, INT64_MAX, &f.endpoint_id) < 0 ||
	    api_query_i64(c, "account_id", 1, INT64_MAX, &f.account_id) < 0 ||
	    api_query_i64(c, "org_id", 1, INT64_MAX, &f.org_id) < 0 ||
	    api_query_i64(c, "dept_id", 1, INT64_MAX, &f.dept_id) < 0 ||
	    api_query_i64(c, "expires_after", 0, INT64_MAX,
	    &f.expires_after) < 0 ||
	    api_query_i64(c, "expires_before", 0, INT64_MAX,
	    &f.expires_before) < 0 ||
	    api_query_str(c, "subject", f.subject, sizeof(f.subject)) < 0 ||
	    api_query_str(c, "serial", f.serial, sizeof(f.serial)) < 0 ||
	    (r = api_query_str(c, "status", status, sizeof(status))) < 0)
		return 0;
	if (r > 0) {
		if (strcmp(status, "valid") == 0)
			f.status = CERT_VALID;
		else if (strcmp(status, "revoked") == 0)
			f.status = CERT_REVOKED;
		else
			return api_error(c, 400, "status",
			    "status must be valid or revoked");
	}
	for (i = 0; f.serial[i] != '\0'; i++)
		f.serial[i] = (char)toupper((unsigned char)f.serial[i]);
	if ((list = calloc(limit, sizeof(*list))) == NULL)
		return -1;
	if ((r = admin_cert_search(&c->actor, &f, list, limit, &n,
	    &cursor)) != SCEP_OK) {
		free(list);
		return api_fail(c, r, NULL);
	}
	if ((items = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(items,
			    admin_json_cert(&list[i], 0));
	for (i = 0; i < n; i++)
		store_cert_clear(&list[i]);
	free(list);
	if ((j = api_list(items)) != NULL)
		json_object_set_new(j, "next", n == limit ?
		    json_integer(cursor) : json_null());
	return api_json(c, 200, j);
}

int
h_cert_get(struct api_call *c)
{
	struct store_cert cert;
	char serial[STORE_SERIAL_MAX];
	json_t *j;
	int r;

	memset(&cert, 0, sizeof(cert));
	if (!serial_param(c, serial, sizeof(serial)))
		return api_error(c, 404, NULL, "not found");
	if ((r = admin_cert_get(&c->actor, serial, &cert)) != SCEP_OK)
		return api_fail(c, r, NULL);
	j = admin_json_cert(&cert, 1);
	store_cert_clear(&cert);
	return api_json(c, 200, j);
}

int
h_cert_download(struct api_call *c)
{
	struct store_cert cert;
	char serial[STORE_SERIAL_MAX], name[STORE_SERIAL_MAX + 8];
	uint8_t *p7 = NULL;
	size_t p7len = 0;
	int f, r;

	memset(&cert, 0, sizeof(cert));
	if ((f = download_format(c)) < 0)
		return 0;
	if (!serial_param(c, serial, sizeof(serial)))
		return api_error(c, 404, NULL, "not found");
	if ((r = admin_cert_get(&c->actor, serial, &cert)) != SCEP_OK)
		return api_fail(c, r, NULL);
	snprintf(name, sizeof(name), "%s", cert.serial);
	if (f == 2 && (r = admin_cert_p7(&c->actor, serial, &p7, &p7len)) !=
	    SCEP_OK) {
		store_cert_clear(&cert);
		return api_fail(c, r, NULL);
	}
	if (f == 1)
		r = send_der(c, cert.der, cert.der_len, name);
	else
		r = send_cert(c, cert.der, cert.der_len, name, p7, p7len);
	OPENSSL_free(p7);
	store_cert_clear(&cert);
	return r;
}

int
h_cert_revoke(struct api_call *c)
{
	static const char *const allowed[] = { "reason", NULL };
	struct store_cert cert;
	struct admin_err err;
	char serial[STORE_SERIAL_MAX];
	const char *rs = NULL;
	json_t *j;
	int reason = 0, r;

	memset(&cert, 0, sizeof(cert));
	memset(&err, 0, sizeof(err));
	if (api_body_only(c, allowed) != 0 ||
	    api_body_str(c, "reason", &rs) < 0)
		return 0;
	if (!serial_param(c, serial, sizeof(serial)))
		return api_error(c, 404, NULL, "not found");
	if (rs != NULL && (reason = admin_crl_reason_parse(rs)) < 0)
		return api_error(c, 400, "reason", "reason must be a CRLReason "
		    "name: unspecified, keyCompromise, cACompromise, "
		    "affiliationChanged, superseded, cessationOfOperation, "
		    "certificateHold, privilegeWithdrawn, aACompromise");
	if ((r = admin_cert_revoke(&c->actor, serial, reason, &err)) !=
	    SCEP_OK ||
	    (r = admin_cert_get(&c->actor, serial, &cert)) != SCEP_OK)
		return api_fail(c, r, &err);
	j = admin_json_cert(&cert, 0);
	store_cert_clear(&cert);
	return api_json(c, 200, j);
}

/* ---- requests ---- */

int
h_req_list(struct api_call *c)
{
	struct store_request *list = NULL;
	json_t *items = NULL;
	char status[16];
	size_t n = 0, i;
	int r;

	/* Only pending requests are listed: the others are certificates
	 * (issued) or audit records (rejected, failed). */
	if ((r = api_query_str(c, "status", status, sizeof(status))) < 0)
		return 0;
	if (r > 0 && strcmp(status, "pending") != 0)
		return api_error(c, 400, "status", "status must be pending");
	if ((list = calloc(ADMIN_MAX_LIST, sizeof(*list))) == NULL)
		return -1;
	if ((r = admin_request_list(&c->actor, list, ADMIN_MAX_LIST, &n)) !=
	    SCEP_OK) {
		free(list);
		return api_fail(c, r, NULL);
	}
	if ((items = json_array()) != NULL)
		for (i = 0; i < n; i++)
			json_array_append_new(items,
			    admin_json_request(&list[i]));
	for (i = 0; i < n; i++)
		store_request_clear(&list[i]);
	free(list);
	return api_json(c, 200, api_list(items));
}

int
h_req_get(struct api_call *c)
{
	struct store_request rq;
	json_t *j;
	int r;

	memset(&rq, 0, sizeof(rq));
	if ((r = admin_request_get(&c->actor, api_param_id(c, 0), &rq)) !=
	    SCEP_OK)
		return api_fail(c, r, NULL);
	j = admin_json_request(&rq);
	store_request_clear(&rq);
	return api_json(c, 200, j);
}

int
h_req_approve(struct api_call *c)
{
	static const char *const allowed[] = { NULL };
	struct admin_err err;
	char serial[STORE_SERIAL_MAX];
	int64_t id = api_param_id(c, 0);
	int r;

	memset(&err, 0, sizeof(err));
	serial[0] = '\0';
	if (api_body_only(c, allowed) != 0)
		return 0;
	if ((r = admin_request_approve(&c->actor, id, serial,
	    sizeof(serial))) != SCEP_OK) {
		if (r == SCEP_E_EXISTS)
			snprintf(err.msg, sizeof(err.msg),
			    "the request is no longer pending");
		return api_fail(c, r, &err);
	}
	return api_json(c, 200, json_pack("{s:I, s:s, s:s}", "id",
	    (json_int_t)id, "status", "issued", "serial", serial));
}

int
h_req_reject(struct api_call *c)
{
	static const char *const allowed[] = { "reason", NULL };
	struct admin_err err;
	const char *reason = NULL;
	int64_t id = api_param_id(c, 0);
	int r;

	memset(&err, 0, sizeof(err));
	if (api_body_only(c, allowed) != 0 ||
	    api_body_str(c, "reason", &reason) < 0)
		return 0;
	if ((r = admin_request_reject(&c->actor, id, reason, &err)) !=
	    SCEP_OK) {
		if (r == SCEP_E_EXISTS)
			snprintf(err.msg, sizeof(err.msg),
			    "the request is no longer pending");
		return api_fail(c, r, &err);
	}
	return api_json(c, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id,
	    "status", "rejected"));
}
