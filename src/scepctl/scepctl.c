/*
 * scepctl.c -- main, the HTTP client (libcurl), option parsing into JSON
 * bodies and query strings, and output (human tables or --json).
 *
 * The server is the only authority: scepctl checks the shape of its own
 * command line, and leaves every rule about the objects to the API, whose
 * JSON errors it prints ({"error": ..., "field": ...}).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "probe.h"
#include "scepctl.h"

/* ---- HTTP ---- */

struct sink {
	char	*p;
	size_t	 len, cap;
	int	 toobig;
};

static size_t
sink_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb, ncap;
	char *np;

	if (nmemb != 0 && n / nmemb != size)
		return 0;
	if (s->len + n + 1 > CTL_MAX_RESPONSE) {
		s->toobig = 1;
		return 0;		/* curl stops with a write error */
	}
	if (s->len + n + 1 > s->cap) {
		ncap = s->cap ? s->cap : 8192;
		while (ncap < s->len + n + 1)
			ncap *= 2;
		if ((np = realloc(s->p, ncap)) == NULL)
			return 0;
		s->p = np;
		s->cap = ncap;
	}
	memcpy(s->p + s->len, data, n);
	s->len += n;
	s->p[s->len] = '\0';
	return n;
}

void
resp_clear(struct resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

int
ctl_escape(struct ctx *c, const char *s, char *buf, size_t bufsz)
{
	char *e = curl_easy_escape(c->curl, s, 0);
	int r = -1;

	if (e != NULL && strlen(e) < bufsz) {
		memcpy(buf, e, strlen(e) + 1);
		r = 0;
	}
	curl_free(e);
	return r;
}

int
ctl_request(struct ctx *c, const char *method, const char *path, json_t *body,
    struct resp *out)
{
	CURL *h = c->curl;
	struct curl_slist *hdr = NULL;
	struct sink s;
	char *url = NULL, *auth = NULL, *data = NULL, *ct = NULL;
	size_t ulen;
	CURLcode cc;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	ulen = strlen(c->url) + strlen(path) + 1;
	if ((url = malloc(ulen)) == NULL)
		goto out;
	snprintf(url, ulen, "%s%s", c->url, path);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "scepctl/" SCEPCTL_VERSION);
	if (c->verbose)
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	if (c->cacert != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->token != NULL) {
		ulen = strlen(c->token) + 32;
		if ((auth = malloc(ulen)) == NULL)
			goto out;
		snprintf(auth, ulen, "Authorization: Bearer %s", c->token);
		hdr = curl_slist_append(hdr, auth);
	}
	hdr = curl_slist_append(hdr, "Accept: application/json");
	if (body != NULL) {
		if ((data = json_dumps(body, JSON_COMPACT)) == NULL)
			goto out;
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(data));
	}
	/* An empty Expect: no 100-continue round trip for small bodies. */
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		snprintf(out->error, sizeof(out->error), "%s%s",
		    curl_easy_strerror(cc), s.toobig ? " (answer too large)" :
		    "");
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
	    ct != NULL)
		snprintf(out->ctype, sizeof(out->ctype), "%s", ct);
	if (s.p == NULL && (s.p = calloc(1, 1)) == NULL)
		goto out;
	out->body = s.p;
	out->len = s.len;
	s.p = NULL;
	rc = 0;
 out:
	curl_slist_free_all(hdr);
	if (auth != NULL) {
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	free(data);
	free(url);
	free(s.p);
	return rc;
}

int
ctl_status(struct ctx *c, const struct resp *r)
{
	json_t *j = NULL, *e, *f;
	int ex;

	if (r->status == 0) {
		fprintf(stderr, "scepctl: %s: %s\n", c->url, r->error[0] ?
		    r->error : "no answer");
		return EX_SERVER;
	}
	if (r->status >= 200 && r->status < 300)
		return EX_OK;
	switch (r->status) {
	case 400: case 409: case 413: case 415: case 422:
		ex = EX_INVALID;
		break;
	case 401: case 403:
		ex = EX_AUTH;
		break;
	case 404: case 405:
		ex = EX_NOTFOUND;
		break;
	default:
		ex = EX_SERVER;
		break;
	}
	if (c->json && r->body != NULL && r->len > 0)
		fprintf(stderr, "%s\n", r->body);
	else if ((j = json_loads(r->body ? r->body : "", 0, NULL)) != NULL &&
	    (e = json_object_get(j, "error")) != NULL && json_is_string(e)) {
		f = json_object_get(j, "field");
		if (json_is_string(f))
			fprintf(stderr, "scepctl: %s (field %s)\n",
			    json_string_value(e), json_string_value(f));
		else
			fprintf(stderr, "scepctl: %s\n", json_string_value(e));
	} else
		fprintf(stderr, "scepctl: the server answered %ld\n",
		    r->status);
	json_decref(j);
	return ex;
}

/* ---- output ---- */

static void
fmt_time(int64_t t, char *buf, size_t bufsz)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, bufsz, "-");
}

static int
is_time_key(const char *k)
{
	size_t n = strlen(k);

	return (n > 3 && strcmp(k + n - 3, "_at") == 0) ||
	    strcmp(k, "ts") == 0 || strcmp(k, "not_before") == 0 ||
	    strcmp(k, "not_after") == 0;
}

/* One cell as text (static buffer per call site is avoided: caller's). */
static void
cell(json_t *v, int fmt, char *buf, size_t bufsz)
{
	char *s = NULL;
	size_t i;
	json_t *e;

	buf[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		snprintf(buf, bufsz, "-");
		return;
	}
	switch (fmt) {
	case C_TIME:
		if (json_is_integer(v)) {
			fmt_time((int64_t)json_integer_value(v), buf, bufsz);
			return;
		}
		break;
	case C_BOOL:
		if (json_is_boolean(v)) {
			snprintf(buf, bufsz, "%s", json_is_true(v) ? "yes" :
			    "no");
			return;
		}
		break;
	case C_REFS:
		if (json_is_array(v)) {
			size_t o = 0;

			if (json_array_size(v) == 0)
				snprintf(buf, bufsz, "-");
			json_array_foreach(v, i, e) {
				json_int_t org = json_integer_value(
				    json_object_get(e, "org_id"));
				json_int_t dept = json_integer_value(
				    json_object_get(e, "dept_id"));

				if (o >= bufsz)
					break;
				o += (size_t)snprintf(buf + o, bufsz - o,
				    dept ? "%s%lld:%lld" : "%s%lld",
				    i ? "," : "", (long long)org,
				    (long long)dept);
			}
			return;
		}
		break;
	default:
		break;
	}
	if (json_is_string(v))
		snprintf(buf, bufsz, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, bufsz, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, bufsz, "%s", json_is_true(v) ? "yes" : "no");
	else if ((s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) != NULL) {
		snprintf(buf, bufsz, "%s", s);
		free(s);
	}
	/* Control characters from the server never reach the terminal. */
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
}

#define CELL_MAX	256

static void
print_table(json_t *items, const struct col *cols)
{
	size_t ncol = 0, i, k, w[32];
	char buf[CELL_MAX];
	json_t *row;

	while (cols[ncol].head != NULL && ncol < 32)
		ncol++;
	for (k = 0; k < ncol; k++)
		w[k] = strlen(cols[k].head);
	json_array_foreach(items, i, row)
		for (k = 0; k < ncol; k++) {
			cell(json_object_get(row, cols[k].key), cols[k].fmt,
			    buf, sizeof(buf));
			if (strlen(buf) > w[k])
				w[k] = strlen(buf);
		}
	for (k = 0; k < ncol; k++)
		printf("%-*s%s", k + 1 < ncol ? (int)w[k] : 0, cols[k].head,
		    k + 1 < ncol ? "  " : "\n");
	json_array_foreach(items, i, row)
		for (k = 0; k < ncol; k++) {
			cell(json_object_get(row, cols[k].key), cols[k].fmt,
			    buf, sizeof(buf));
			printf("%-*s%s", k + 1 < ncol ? (int)w[k] : 0, buf,
			    k + 1 < ncol ? "  " : "\n");
		}
}

static void
print_fields(json_t *o, int indent)
{
	const char *k;
	json_t *v;
	char buf[CELL_MAX * 4];
	size_t w = 0;

	json_object_foreach(o, k, v)
		if (strlen(k) > w)
			w = strlen(k);
	json_object_foreach(o, k, v) {
		if (json_is_object(v) && json_object_size(v) > 0) {
			printf("%*s%s:\n", indent, "", k);
			print_fields(v, indent + 2);
			continue;
		}
		cell(v, is_time_key(k) ? C_TIME :
		    strcmp(k, "targets") == 0 || strcmp(k, "scopes") == 0 ?
		    C_REFS : C_STR, buf, sizeof(buf));
		printf("%*s%-*s  %s\n", indent, "", (int)w + 1, k, buf);
	}
}

int
ctl_print(struct ctx *c, const struct cmd *cmd, const struct resp *r)
{
	json_t *j = NULL, *items;
	char *s = NULL;

	if (r->status == 204 || r->len == 0)
		return EX_OK;
	if (strncmp(r->ctype, "application/json", 16) != 0) {
		fwrite(r->body, 1, r->len, stdout);
		return EX_OK;
	}
	if ((j = json_loads(r->body, 0, NULL)) == NULL) {
		fprintf(stderr, "scepctl: the server sent invalid JSON\n");
		return EX_SERVER;
	}
	if (c->json) {
		if ((s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
		    != NULL)
			printf("%s\n", s);
		free(s);
	} else if ((items = json_object_get(j, "items")) != NULL &&
	    json_is_array(items) && cmd->cols != NULL) {
		print_table(items, cmd->cols);
		if (json_is_integer(json_object_get(j, "next")))
			printf("(more: --after %lld)\n", (long long)
			    json_integer_value(json_object_get(j, "next")));
	} else
		print_fields(j, 0);
	json_decref(j);
	return EX_OK;
}

int
ctl_write_out(const struct resp *r, const char *path)
{
	FILE *f;

	if (path == NULL || strcmp(path, "-") == 0) {
		fwrite(r->body, 1, r->len, stdout);
		return fflush(stdout) == 0 ? EX_OK : EX_SERVER;
	}
	if ((f = fopen(path, "wbx")) == NULL) {
		fprintf(stderr, "scepctl: %s: %s\n", path, strerror(errno));
		return EX_USAGE;
	}
	if (fwrite(r->body, 1, r->len, f) != r->len || fclose(f) != 0) {
		fprintf(stderr, "scepctl: %s: write failed\n", path);
		return EX_SERVER;
	}
	return EX_OK;
}

/* ---- values ---- */

/* Strict decimal integer. */
static int
parse_i64(const char *s, int64_t *out)
{
	char *end = NULL;
	long long v;

	if (s == NULL || s[0] == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (int64_t)v;
	return 0;
}

int
ctl_parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	const char *e;
	int64_t n, mult;
	size_t len = strlen(s);

	if (strcmp(s, "never") == 0 || strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (s[0] == '+' && len >= 3) {
		char num[24];

		switch (s[len - 1]) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: return -1;
		}
		if (len - 2 >= sizeof(num))
			return -1;
		memcpy(num, s + 1, len - 2);
		num[len - 2] = '\0';
		if (parse_i64(num, &n) != 0 || n < 0 || n > INT64_MAX / mult /
		    2)
			return -1;
		*out = (int64_t)time(NULL) + n * mult;
		return 0;
	}
	if (parse_i64(s, &n) == 0) {
		*out = n;
		return n >= 0 ? 0 : -1;
	}
	memset(&tm, 0, sizeof(tm));
	e = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (e == NULL || *e != '\0') {
		memset(&tm, 0, sizeof(tm));
		if ((e = strptime(s, "%Y-%m-%d", &tm)) == NULL || *e != '\0')
			return -1;
	}
	*out = (int64_t)timegm(&tm);
	return 0;
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

int
ctl_resolve_ep(struct ctx *c, const char *s, char *buf, size_t bufsz)
{
	struct resp r;
	char esc[256], path[320];
	json_t *j = NULL, *items;
	int ex;

	if (all_digits(s)) {
		snprintf(buf, bufsz, "%s", s);
		return EX_OK;
	}
	if (ctl_escape(c, s, esc, sizeof(esc)) != 0)
		return EX_USAGE;
	snprintf(path, sizeof(path), "/api/v1/endpoints?uri_ext=%s", esc);
	(void)ctl_request(c, "GET", path, NULL, &r);
	if ((ex = ctl_status(c, &r)) != EX_OK) {
		resp_clear(&r);
		return ex;
	}
	j = json_loads(r.body, 0, NULL);
	resp_clear(&r);
	items = json_object_get(j, "items");
	if (!json_is_array(items) || json_array_size(items) != 1) {
		json_decref(j);
		fprintf(stderr, "scepctl: no endpoint \"%s\"\n", s);
		return EX_NOTFOUND;
	}
	snprintf(buf, bufsz, "%lld", (long long)json_integer_value(
	    json_object_get(json_array_get(items, 0), "id")));
	json_decref(j);
	return EX_OK;
}

/* "me" (or nothing) to the caller's administrator id. */
static int
resolve_admin(struct ctx *c, const char *s, char *buf, size_t bufsz)
{
	struct resp r;
	json_t *j;
	int ex;

	if (s != NULL && strcmp(s, "me") != 0) {
		if (!all_digits(s)) {
			fprintf(stderr, "scepctl: administrator id expected: "
			    "%s\n", s);
			return EX_USAGE;
		}
		snprintf(buf, bufsz, "%s", s);
		return EX_OK;
	}
	(void)ctl_request(c, "GET", "/api/v1/me", NULL, &r);
	if ((ex = ctl_status(c, &r)) != EX_OK) {
		resp_clear(&r);
		return ex;
	}
	j = json_loads(r.body, 0, NULL);
	resp_clear(&r);
	snprintf(buf, bufsz, "%lld", (long long)json_integer_value(
	    json_object_get(j, "id")));
	json_decref(j);
	return EX_OK;
}

/* ---- the generic command ---- */

void
ctl_usage_cmd(const struct cmd *cmd)
{
	const struct opt *o;

	printf("usage: scepctl %s %s%s%s [options]\n\n%s\n", cmd->noun,
	    cmd->verb, cmd->posname ? " " : "",
	    cmd->posname ? cmd->posname : "", cmd->help);
	if (cmd->opts == NULL || cmd->opts[0].name == NULL) {
		printf("\n");
		return;
	}
	printf("\noptions:\n");
	for (o = cmd->opts; o != NULL && o->name != NULL; o++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
		printf("  %-28s %s\n", left, o->help);
	}
	printf("  %-28s %s\n", "--json", "print the server's JSON answer");
	printf("  %-28s %s\n\n", "--help", "this text");
}

static const struct opt *
find_opt(const struct cmd *cmd, const char *name, size_t nlen)
{
	const struct opt *o;

	for (o = cmd->opts; o != NULL && o->name != NULL; o++)
		if (strlen(o->name) == nlen && strncmp(o->name, name, nlen) ==
		    0)
			return o;
	return NULL;
}

/* Append an {org_id, dept_id} reference to array member "key". */
static int
add_ref(json_t *obj, const char *key, int64_t org, int64_t dept)
{
	json_t *a = json_object_get(obj, key), *e;

	if (a == NULL) {
		if ((a = json_array()) == NULL ||
		    json_object_set_new(obj, key, a) != 0)
			return -1;
	}
	e = json_object();
	if (e == NULL)
		return -1;
	if (org != 0)
		json_object_set_new(e, "org_id", json_integer(org));
	if (dept != 0 || org != 0)
		json_object_set_new(e, "dept_id", json_integer(dept));
	return json_array_append_new(a, e);
}

/* The value of option "o" into body/query/path; EX_* */
static int
apply_opt(struct ctx *c, const struct opt *o, const char *val, json_t *body,
    char *query, size_t qsz, json_t *slots)
{
	char buf[512], esc[1024];
	const char *colon;
	json_t *v = NULL;
	int64_t n = 0, m = 0;
	size_t ql;
	int ex;

	switch (o->kind) {
	case O_TRUE:
		v = json_true();
		break;
	case O_FALSE:
		v = json_false();
		break;
	case O_CONST:
		v = json_string(o->cval);
		break;
	case O_STR:
		v = json_string(val);
		break;
	case O_INT:
		if (parse_i64(val, &n) != 0)
			goto bad;
		v = json_integer(n);
		break;
	case O_TIME:
		if (ctl_parse_time(val, &n) != 0)
			goto bad;
		v = json_integer(n);
		break;
	case O_EP:
		if ((ex = ctl_resolve_ep(c, val, buf, sizeof(buf))) != EX_OK)
			return ex;
		if (parse_i64(buf, &n) != 0)
			goto bad;
		v = json_integer(n);
		break;
	case O_REFS:
		colon = strchr(val, ':');
		snprintf(buf, sizeof(buf), "%.*s", colon ? (int)(colon - val) :
		    (int)strlen(val), val);
		if (parse_i64(buf, &n) != 0 || (colon != NULL &&
		    parse_i64(colon + 1, &m) != 0))
			goto bad;
		return add_ref(body, o->key, n, m) == 0 ? EX_OK : EX_SERVER;
	case O_ORGS:
		if (parse_i64(val, &n) != 0)
			goto bad;
		return add_ref(body, o->key, n, 0) == 0 ? EX_OK : EX_SERVER;
	case O_DEPTS:
		if (parse_i64(val, &n) != 0)
			goto bad;
		return add_ref(body, o->key, 0, n) == 0 ? EX_OK : EX_SERVER;
	case O_LIST: {
		json_t *a = json_array();
		const char *p = val, *q;

		if (a == NULL)
			return EX_SERVER;
		while (*p != '\0') {
			q = strchr(p, ',');
			json_array_append_new(a, json_stringn(p,
			    q ? (size_t)(q - p) : strlen(p)));
			if (q == NULL)
				break;
			p = q + 1;
		}
		v = a;
		break;
	}
	default:
		return EX_OK;
	}
	if (v == NULL)
		return EX_SERVER;
	if (o->to == TO_BODY)
		return json_object_set_new(body, o->key, v) == 0 ? EX_OK :
		    EX_SERVER;
	/* Query and path values are text. */
	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%lld",
		    (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "true" :
		    "false");
	else
		snprintf(buf, sizeof(buf), "%s", json_string_value(v));
	json_decref(v);
	if (o->to == TO_PATH)
		return json_object_set_new(slots, o->key, json_string(buf)) ==
		    0 ? EX_OK : EX_SERVER;
	if (ctl_escape(c, buf, esc, sizeof(esc)) != 0)
		goto bad;
	ql = strlen(query);
	if ((size_t)snprintf(query + ql, qsz - ql, "%c%s=%s", ql ? '&' : '?',
	    o->key, esc) >= qsz - ql) {
		fprintf(stderr, "scepctl: too many options\n");
		return EX_USAGE;
	}
	return EX_OK;
 bad:
	json_decref(v);
	fprintf(stderr, "scepctl: bad value for --%s: %s\n", o->name, val);
	return EX_USAGE;
}

/* Build the path from cmd->path: "{1}" is the positional, "{name}" a
 * TO_PATH slot. */
static int
build_path(struct ctx *c, const struct cmd *cmd, const char *pos,
    json_t *slots, const char *query, char *out, size_t outsz)
{
	const char *p = cmd->path, *e;
	char name[32], esc[512];
	const char *val;
	size_t o = 0;

	while (*p != '\0' && o + 1 < outsz) {
		if (*p != '{') {
			out[o++] = *p++;
			continue;
		}
		if ((e = strchr(p, '}')) == NULL ||
		    (size_t)(e - p - 1) >= sizeof(name))
			return EX_USAGE;
		snprintf(name, sizeof(name), "%.*s", (int)(e - p - 1), p + 1);
		val = strcmp(name, "1") == 0 ? pos :
		    json_string_value(json_object_get(slots, name));
		if (val == NULL) {
			fprintf(stderr, "scepctl: %s %s needs --%s\n",
			    cmd->noun, cmd->verb, name);
			return EX_USAGE;
		}
		if (ctl_escape(c, val, esc, sizeof(esc)) != 0 ||
		    o + strlen(esc) >= outsz)
			return EX_USAGE;
		memcpy(out + o, esc, strlen(esc));
		o += strlen(esc);
		p = e + 1;
	}
	if (o + strlen(query) + 1 > outsz)
		return EX_USAGE;
	memcpy(out + o, query, strlen(query) + 1);
	return EX_OK;
}

/*
 * Parse the command's arguments: its positional into *pos, options into
 * body / query / path slots.  Options of kind O_LOCAL/O_LOCALFLAG are
 * returned through "local" (name -> value) for the command's function.
 */
static int
parse_args(struct ctx *c, const struct cmd *cmd, int argc, char **argv,
    const char **pos, json_t *body, char *query, size_t qsz, json_t *slots,
    json_t *local)
{
	const struct opt *o;
	const char *a, *eq, *val;
	char posbuf[64];
	int i, ex;

	*pos = NULL;
	for (i = 0; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			ctl_usage_cmd(cmd);
			return -1;
		}
		if (strcmp(a, "--json") == 0) {
			c->json = 1;
			continue;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (*pos != NULL || cmd->pos == P_NONE) {
				fprintf(stderr, "scepctl: unexpected argument "
				    "\"%s\"\n", a);
				return EX_USAGE;
			}
			*pos = a;
			continue;
		}
		a += 2;
		eq = strchr(a, '=');
		if ((o = find_opt(cmd, a, eq ? (size_t)(eq - a) : strlen(a))) ==
		    NULL) {
			fprintf(stderr, "scepctl: unknown option --%.*s (see "
			    "scepctl %s %s --help)\n", eq ? (int)(eq - a) :
			    (int)strlen(a), a, cmd->noun, cmd->verb);
			return EX_USAGE;
		}
		val = NULL;
		if (o->arg != NULL && o->kind != O_CONST) {
			if (eq != NULL)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				fprintf(stderr, "scepctl: --%s needs a value\n",
				    o->name);
				return EX_USAGE;
			}
		} else if (eq != NULL) {
			fprintf(stderr, "scepctl: --%s takes no value\n",
			    o->name);
			return EX_USAGE;
		}
		if (o->kind == O_LOCAL || o->kind == O_LOCALFLAG) {
			json_object_set_new(local, o->key, val ?
			    json_string(val) : json_true());
			continue;
		}
		if ((ex = apply_opt(c, o, val, body, query, qsz, slots)) !=
		    EX_OK)
			return ex;
	}
	if (cmd->pos != P_NONE && *pos == NULL) {
		fprintf(stderr, "scepctl: %s %s needs %s\n", cmd->noun,
		    cmd->verb, cmd->posname);
		return EX_USAGE;
	}
	if (cmd->pos == P_EP) {
		if ((ex = ctl_resolve_ep(c, *pos, posbuf, sizeof(posbuf))) !=
		    EX_OK)
			return ex;
		json_object_set_new(local, "_pos", json_string(posbuf));
		*pos = json_string_value(json_object_get(local, "_pos"));
	} else if (cmd->pos == P_ID && !all_digits(*pos)) {
		fprintf(stderr, "scepctl: %s must be a number\n",
		    cmd->posname);
		return EX_USAGE;
	} else if (cmd->pos == P_ADMIN) {
		if ((ex = resolve_admin(c, *pos, posbuf, sizeof(posbuf))) !=
		    EX_OK)
			return ex;
		json_object_set_new(local, "_pos", json_string(posbuf));
		*pos = json_string_value(json_object_get(local, "_pos"));
	}
	/* --admin defaults to the caller. */
	if (strstr(cmd->path, "{admin}") != NULL &&
	    json_object_get(slots, "admin") == NULL) {
		if ((ex = resolve_admin(c, NULL, posbuf, sizeof(posbuf))) !=
		    EX_OK)
			return ex;
		json_object_set_new(slots, "admin", json_string(posbuf));
	} else if (json_object_get(slots, "admin") != NULL) {
		const char *v = json_string_value(json_object_get(slots,
		    "admin"));

		if ((ex = resolve_admin(c, v, posbuf, sizeof(posbuf))) !=
		    EX_OK)
			return ex;
		json_object_set_new(slots, "admin", json_string(posbuf));
	}
	return EX_OK;
}

/*
 * Run "cmd": parse, request, print.  When "out" is not NULL the answer is
 * handed to the caller instead of printed (command functions use this).
 */
static int
run_cmd(struct ctx *c, const struct cmd *cmd, int argc, char **argv,
    json_t *local, struct resp *out)
{
	json_t *body = NULL, *slots = NULL;
	char query[2048], path[4096];
	const char *pos = NULL;
	struct resp r;
	int ex, send_body;

	memset(&r, 0, sizeof(r));
	query[0] = '\0';
	if ((body = json_object()) == NULL || (slots = json_object()) ==
	    NULL) {
		ex = EX_SERVER;
		goto out;
	}
	ex = parse_args(c, cmd, argc, argv, &pos, body, query, sizeof(query),
	    slots, local);
	if (ex < 0) {
		ex = EX_OK;		/* --help */
		if (out != NULL)
			out->status = -1;
		goto out;
	}
	if (ex != EX_OK)
		goto out;
	if ((ex = build_path(c, cmd, pos, slots, query, path, sizeof(path))) !=
	    EX_OK)
		goto out;
	send_body = strcmp(cmd->method, "GET") != 0 &&
	    strcmp(cmd->method, "DELETE") != 0;
	(void)ctl_request(c, cmd->method, path, send_body ? body : NULL, &r);
	if ((ex = ctl_status(c, &r)) != EX_OK)
		goto out;
	if (out != NULL) {
		*out = r;
		memset(&r, 0, sizeof(r));
	} else
		ex = ctl_print(c, cmd, &r);
 out:
	resp_clear(&r);
	json_decref(body);
	json_decref(slots);
	return ex;
}

int
ctl_generic(struct ctx *c, const struct cmd *cmd, int argc, char **argv)
{
	json_t *local = json_object();
	int ex;

	if (local == NULL)
		return EX_SERVER;
	ex = run_cmd(c, cmd, argc, argv, local, NULL);
	json_decref(local);
	return ex;
}

int
ctl_run_keep(struct ctx *c, const struct cmd *cmd, int argc, char **argv,
    json_t *local, struct resp *out)
{
	return run_cmd(c, cmd, argc, argv, local, out);
}

/* ---- main ---- */

static void
usage(FILE *f)
{
	const char *last = "";
	size_t i;

	fprintf(f, "usage: scepctl [--url URL] [--token TOKEN] [--cacert FILE] "
	    "[--insecure] [--json]\n"
	    "               NOUN VERB [ARG] [options]\n"
	    "       scepctl probe URL [--challenge C] [options]\n\n"
	    "Manage scepd through its REST API (%s by default, or SCEPD_URL;\n"
	    "the token comes from SCEPD_TOKEN or --token).\n\n"
	    "commands (scepctl NOUN VERB --help for each):\n",
	    CTL_DEFAULT_URL);
	for (i = 0; i < ctl_ncmds; i++) {
		if (strcmp(last, ctl_cmds[i].noun) != 0)
			fprintf(f, "%s  %-9s", i ? "\n" : "",
			    ctl_cmds[i].noun);
		fprintf(f, " %s", ctl_cmds[i].verb);
		last = ctl_cmds[i].noun;
	}
	fprintf(f, "\n  probe     check a SCEP URL as a device would "
	    "(scepctl probe --help)");
	fprintf(f, "\n\nexit status: 0 ok, 1 usage, 2 not found, 3 "
	    "authentication/permission,\n4 validation, 5 server or network "
	    "error.  See scepctl(1).\n");
}

static void
usage_noun(const char *noun)
{
	size_t i;

	printf("usage: scepctl %s VERB [ARG] [options]\n\nverbs:\n", noun);
	for (i = 0; i < ctl_ncmds; i++)
		if (strcmp(ctl_cmds[i].noun, noun) == 0)
			printf("  %-10s %s\n", ctl_cmds[i].verb,
			    ctl_cmds[i].help);
	printf("\nscepctl %s VERB --help shows the options of a verb.\n",
	    noun);
}

int
main(int argc, char **argv)
{
	struct ctx c;
	const struct cmd *cmd = NULL;
	const char *noun = NULL;
	size_t i;
	int a = 1, ex, known_noun = 0;
	char *url = NULL;

	memset(&c, 0, sizeof(c));
	c.url = getenv("SCEPD_URL");
	c.token = getenv("SCEPD_TOKEN");
	c.cacert = getenv("SCEPD_CACERT");
	for (; a < argc && argv[a][0] == '-'; a++) {
		const char *o = argv[a];

		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
			usage(stdout);
			return EX_OK;
		} else if (strcmp(o, "--version") == 0) {
			printf("scepctl %s\n", SCEPCTL_VERSION);
			return EX_OK;
		} else if (strcmp(o, "--json") == 0)
			c.json = 1;
		else if (strcmp(o, "--insecure") == 0 || strcmp(o, "-k") == 0)
			c.insecure = 1;
		else if (strcmp(o, "--verbose") == 0 || strcmp(o, "-v") == 0)
			c.verbose = 1;
		else if ((strcmp(o, "--url") == 0 ||
		    strcmp(o, "--token") == 0 ||
		    strcmp(o, "--cacert") == 0) && a + 1 < argc) {
			if (o[2] == 'u')
				c.url = argv[++a];
			else if (o[2] == 't')
				c.token = argv[++a];
			else
				c.cacert = argv[++a];
		} else if (strncmp(o, "--url=", 6) == 0)
			c.url = o + 6;
		else if (strncmp(o, "--token=", 8) == 0)
			c.token = o + 8;
		else if (strncmp(o, "--cacert=", 9) == 0)
			c.cacert = o + 9;
		else {
			fprintf(stderr, "scepctl: unknown option %s\n", o);
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (a >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	noun = argv[a++];
	/* probe speaks SCEP to any server, not the admin API: no token. */
	if (strcmp(noun, "probe") == 0)
		return probe_main(&c, argc - a, argv + a);
	for (i = 0; i < ctl_ncmds; i++)
		if (strcmp(ctl_cmds[i].noun, noun) == 0) {
			known_noun = 1;
			if (a < argc &&
			    strcmp(ctl_cmds[i].verb, argv[a]) == 0) {
				cmd = &ctl_cmds[i];
				break;
			}
		}
	if (!known_noun) {
		fprintf(stderr, "scepctl: unknown command \"%s\"\n", noun);
		usage(stderr);
		return EX_USAGE;
	}
	if (cmd == NULL) {
		if (a < argc && (strcmp(argv[a], "--help") == 0 ||
		    strcmp(argv[a], "-h") == 0 ||
		    strcmp(argv[a], "help") == 0)) {
			usage_noun(noun);
			return EX_OK;
		}
		if (a < argc)
			fprintf(stderr, "scepctl: unknown verb \"%s %s\"\n",
			    noun, argv[a]);
		usage_noun(noun);
		return EX_USAGE;
	}
	a++;
	/* --help needs no server. */
	for (i = (size_t)a; i < (size_t)argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") ==
		    0) {
			ctl_usage_cmd(cmd);
			return EX_OK;
		}
	if (c.url == NULL)
		c.url = CTL_DEFAULT_URL;
	/* The base URL without a trailing slash. */
	if ((url = strdup(c.url)) == NULL)
		return EX_SERVER;
	while (strlen(url) > 0 && url[strlen(url) - 1] == '/')
		url[strlen(url) - 1] = '\0';
	c.url = url;
	if (c.token == NULL || c.token[0] == '\0') {
		fprintf(stderr, "scepctl: no token: set SCEPD_TOKEN or use "
		    "--token\n");
		free(url);
		return EX_AUTH;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c.curl = curl_easy_init()) == NULL) {
		free(url);
		return EX_SERVER;
	}
	ex = (cmd->fn ? cmd->fn : ctl_generic)(&c, cmd, argc - a, argv + a);
	curl_easy_cleanup(c.curl);
	curl_global_cleanup();
	free(url);
	return ex;
}
