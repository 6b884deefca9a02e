/*
 * api_audit.c -- /api/v1/audit: the scoped audit view with filters, CSV
 * and JSON downloads, and the hash-chain check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "scep_err.h"

/* A growable text buffer with a hard cap (STYLE H5). */
struct tbuf {
	char	*p;
	size_t	 len, cap, max;
	int	 err;
};

static void
tb_add(struct tbuf *b, const char *s, size_t n)
{
	size_t ncap;
	char *np;

	if (b->err)
		return;
	if (b->len + n + 1 > b->max) {
		b->err = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 4096;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if (ncap > b->max)
			ncap = b->max;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->err = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
tb_str(struct tbuf *b, const char *s)
{
	tb_add(b, s, strlen(s));
}

/*
 * One CSV field (RFC 4180): always quoted, quotes doubled.  A field that
 * a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a
 * leading apostrophe: audit data comes partly from clients.
 */
static void
tb_csv(struct tbuf *b, const char *s, int last)
{
	const char *q;

	tb_add(b, "\"", 1);
	if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
	    s[0] == '\t' || s[0] == '\r')
		tb_add(b, "'", 1);
	while ((q = strchr(s, '"')) != NULL) {
		tb_add(b, s, (size_t)(q - s));
		tb_add(b, "\"\"", 2);
		s = q + 1;
	}
	tb_str(b, s);
	tb_add(b, last ? "\"\r\n" : "\",", last ? 3 : 2);
}

static void
tb_csv_i64(struct tbuf *b, int64_t v)
{
	char n[24];

	snprintf(n, sizeof(n), "%lld", (long long)v);
	tb_csv(b, n, 0);
}

/* Organization and department of an event: from its details when the
 * writer put them there, else from its account (as it is now). */
static void
event_org(struct api_call *c, const struct store_event *ev, json_t *j,
    int64_t *org, int64_t *dept)
{
	struct store_account acct;
	json_t *d = json_object_get(j, "details"), *v;

	*org = *dept = 0;
	if ((v = json_object_get(d, "org_id")) != NULL && json_is_integer(v)) {
		*org = (int64_t)json_integer_value(v);
		if ((v = json_object_get(d, "dept_id")) != NULL &&
		    json_is_integer(v))
			*dept = (int64_t)json_integer_value(v);
		return;
	}
	memset(&acct, 0, sizeof(acct));
	if (ev->account_id != 0 && store_account_get(svc_store(c->api->svc),
	    ev->account_id, &acct) == SCEP_OK) {
		*org = acct.org_id;
		*dept = acct.dept_id;
	}
}

int
api_audit_query(struct api_call *c, int64_t endpoint_id)
{
	struct store_event_filter f;
	struct store_event *list = NULL;
	struct tbuf b;
	char fmt[8], ts[32], *res = NULL;
	json_t *items = NULL, *j, *d;
	int64_t org, dept;
	size_t n = 0, i, limit;
	struct tm tm;
	time_t t;
	int csv = 0, download = 0, r;

	memset(&f, 0, sizeof(f));
	memset(&b, 0, sizeof(b));
	if ((r = api_query_str(c, "format", fmt, sizeof(fmt))) < 0 ||
	    api_query_bool(c, "download", &download) < 0)
		return 0;
	if (r > 0) {
		if (strcmp(fmt, "csv") == 0)
			csv = 1;
		else if (strcmp(fmt, "json") != 0)
			return api_error(c, 400, "format",
			    "format must be json or csv");
	}
	f.endpoint_id = endpoint_id;
	if (api_query_limit(c, API_EXPORT_MAX, &limit) < 0 ||
	    api_query_i64(c, "after", 0, INT64_MAX, &f.after) < 0 ||
	    api_query_i64(c, "since", 0, INT64_MAX, &f.since) < 0 ||
	    api_query_i64(c, "until", 0, INT64_MAX, &f.until) < 0 ||
	    (endpoint_id == 0 && api_query_i64(c, "endpoint_id", 1, INT64_MAX,
	    &f.endpoint_id) < 0) ||
	    api_query_i64(c, "account_id", 1, INT64_MAX, &f.account_id) < 0 ||
	    api_query_str(c, "kind", f.kind, sizeof(f.kind)) < 0 ||
	    api_query_str(c, "actor", f.actor, sizeof(f.actor)) < 0 ||
	    api_query_str(c, "action", f.action, sizeof(f.action)) < 0 ||
	    api_query_str(c, "result", f.result, sizeof(f.result)) < 0)
		return 0;
	if ((list = calloc(limit, sizeof(*list))) == NULL)
		return -1;
	if ((r = admin_audit_search(&c->actor, &f, list, limit, &n)) !=
	    SCEP_OK) {
		free(list);
		return api_fail(c, r, NULL);
	}
	if ((items = json_array()) == NULL) {
		free(list);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((j = admin_json_event(&list[i])) == NULL)
			continue;
		event_org(c, &list[i], j, &org, &dept);
		json_object_set_new(j, "org_id", json_integer(org));
		json_object_set_new(j, "dept_id", json_integer(dept));
		json_array_append_new(items, j);
	}
	if (!csv) {
		json_int_t next = n == limit && n > 0 ?
		    (json_int_t)list[n - 1].id : 0;

		free(list);
		/* "next": the cursor (?after=) of the following page. */
		if ((j = api_list(items)) != NULL)
			json_object_set_new(j, "next", next != 0 ?
			    json_integer(next) : json_null());
		if (download)
			http_resp_header(c->resp, "Content-Disposition",
			    "attachment; filename=\"audit.json\"");
		return api_json(c, 200, j);
	}

	/* CSV: one header line, then one line per record. */
	b.max = (size_t)API_EXPORT_MAX * 4096;
	tb_str(&b, "id,time,kind,actor,action,endpoint_id,account_id,org_id,"
	    "dept_id,transid,client_addr,result,failinfo,reason,serial,"
	    "details,hash\r\n");
	for (i = 0; i < n; i++) {
		struct store_event *ev = &list[i];

		j = json_array_get(items, i);
		t = (time_t)ev->ts;
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			ts[0] = '\0';
		tb_csv_i64(&b, ev->id);
		tb_csv(&b, ts, 0);
		tb_csv(&b, ev->kind, 0);
		tb_csv(&b, ev->actor, 0);
		tb_csv(&b, ev->action, 0);
		tb_csv_i64(&b, ev->endpoint_id);
		tb_csv_i64(&b, ev->account_id);
		tb_csv_i64(&b, (int64_t)json_integer_value(
		    json_object_get(j, "org_id")));
		tb_csv_i64(&b, (int64_t)json_integer_value(
		    json_object_get(j, "dept_id")));
		tb_csv(&b, ev->transid, 0);
		tb_csv(&b, ev->client_addr, 0);
		tb_csv(&b, ev->result, 0);
		tb_csv(&b, ev->failinfo >= 0 ?
		    scep_failinfo_name(ev->failinfo) : "", 0);
		tb_csv(&b, ev->reason, 0);
		tb_csv(&b, ev->serial, 0);
		tb_csv(&b, ev->details, 0);
		d = json_object_get(j, "hash");
		tb_csv(&b, json_is_string(d) ? json_string_value(d) : "", 1);
	}
	free(list);
	json_decref(items);
	if (b.err) {
		free(b.p);
		return api_error(c, 500, NULL, "export too large");
	}
	http_resp_header(c->resp, "Content-Disposition",
	    "attachment; filename=\"audit.csv\"");
	res = b.p;
	r = http_resp_take(c->resp, 200, "text/csv; charset=utf-8",
	    (uint8_t *)res, b.len);
	if (r != 0)
		free(res);
	return r;
}

int
h_audit_list(struct api_call *c)
{
	return api_audit_query(c, 0);
}

int
h_audit_verify(struct api_call *c)
{
	static const char *const allowed[] = { NULL };
	int64_t bad = 0, count = 0;
	int r;

	if (api_body_only(c, allowed) != 0)
		return 0;
	r = admin_audit_verify(&c->actor, &bad, &count);
	if (r == SCEP_OK)
		return api_json(c, 200, json_pack("{s:b, s:I}", "ok", 1,
		    "count", (json_int_t)count));
	if (r == SCEP_E_MALFORMED)
		return api_json(c, 200, json_pack("{s:b, s:I, s:I, s:s}",
		    "ok", 0, "count", (json_int_t)count, "bad_id",
		    (json_int_t)bad, "error", "the audit chain is broken at "
		    "this record: it was altered, inserted or deleted"));
	return api_fail(c, r, NULL);
}
