/*
 * admin_json.c -- names of enumerations, and the JSON form of every
 * administrative object, in both directions.
 *
 * One field table per object drives both the encoder and the strict
 * decoder (STYLE H9: tables for dispatch), so the API cannot accept a
 * member it would not print, or print one it would not accept.  Encoders
 * never output secrets or hashes of secrets: the audit trail's before/after
 * state is made with the same encoders.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "admin.h"
#include "admin_int.h"
#include "ca_gen.h"
#include "scep_err.h"
#include "scep_limits.h"

/* ---- names ---- */

struct name_map {
	int		 v;
	const char	*s;
};

static const struct name_map roles[] = {
	{ STORE_ROLE_MRAO, "MRAO" }, { STORE_ROLE_RAO, "RAO" },
	{ STORE_ROLE_DRAO, "DRAO" }, { 0, NULL }
};
static const struct name_map ep_types[] = {
	{ EP_CLIENT_SCEP, "client" }, { EP_DEVICE_SCEP, "device" },
	{ EP_CLIENT_INTUNE, "client-intune" },
	{ EP_DEVICE_INTUNE, "device-intune" }, { 0, NULL }
};
static const struct name_map ra_states[] = {
	{ RA_ACTIVE, "active" }, { RA_NEXT, "next" },
	{ RA_RETIRED, "retired" }, { 0, NULL }
};
static const struct name_map ra_usages[] = {
	{ CA_RA_SIGN_ENCRYPT, "sign-encrypt" }, { CA_RA_SIGN, "sign" },
	{ CA_RA_ENCRYPT, "encrypt" }, { 0, NULL }
};
/* RFC 5280 5.3.1; 7 is unused and removeFromCRL (8) belongs to delta
 * CRLs only, so neither can be asked for. */
static const struct name_map crl_reasons[] = {
	{ 0, "unspecified" }, { 1, "keyCompromise" }, { 2, "cACompromise" },
	{ 3, "affiliationChanged" }, { 4, "superseded" },
	{ 5, "cessationOfOperation" }, { 6, "certificateHold" },
	{ 9, "privilegeWithdrawn" }, { 10, "aACompromise" }, { 0, NULL }
};
static const struct name_map req_states[] = {
	{ REQ_PENDING, "pending" }, { REQ_ISSUED, "issued" },
	{ REQ_REJECTED, "rejected" }, { REQ_FAILED, "failed" }, { 0, NULL }
};
static const struct name_map cacert_fmts[] = {
	{ 0, "single" }, { 1, "chain" }, { 0, NULL }
};
static const struct name_map delegations[] = {
	{ 1, "general" }, { 0, "customized" }, { 0, NULL }
};

static const char *
map_name(const struct name_map *m, int v)
{
	for (; m->s != NULL; m++)
		if (m->v == v)
			return m->s;
	return NULL;
}

/* The value of name "s", or "bad" when there is none. */
static int
map_value(const struct name_map *m, const char *s, int bad)
{
	if (s == NULL)
		return bad;
	for (; m->s != NULL; m++)
		if (strcmp(m->s, s) == 0)
			return m->v;
	return bad;
}

const char *
admin_role_name(int v)
{
	return map_name(roles, v);
}

int
admin_role_parse(const char *s)
{
	return map_value(roles, s, 0);
}

const char *
admin_ep_type_name(int v)
{
	return map_name(ep_types, v);
}

int
admin_ep_type_parse(const char *s)
{
	return map_value(ep_types, s, 0);
}

const char *
admin_ra_state_name(int v)
{
	return map_name(ra_states, v);
}

int
admin_ra_state_parse(const char *s)
{
	return map_value(ra_states, s, 0);
}

const char *
admin_crl_reason_name(int v)
{
	return map_name(crl_reasons, v);
}

int
admin_crl_reason_parse(const char *s)
{
	return map_value(crl_reasons, s, -1);
}

const char *
admin_req_status_name(int v)
{
	return map_name(req_states, v);
}

/* ---- field tables ---- */

enum jf_type {
	JF_STR,		/* char[size] */
	JF_BOOL,	/* int, 0/1 */
	JF_INT,		/* int in [min, max] */
	JF_I64,		/* int64_t in [min, max] */
	JF_ENUM,	/* int, by name through "map" */
};

#define JF_RO		0x1	/* output only */
#define JF_FIXED	0x2	/* settable at creation only */

struct jfield {
	const char		*name;
	enum jf_type		 type;
	size_t			 off;
	size_t			 size;
	int64_t			 min, max;
	const struct name_map	*map;
	unsigned int		 flags;
};

#define F_STR(n, st, m)		{ n, JF_STR, offsetof(st, m), \
				  sizeof(((st *)0)->m), 0, 0, NULL, 0 }
#define F_BOOL(n, st, m)	{ n, JF_BOOL, offsetof(st, m), 0, 0, 1, \
				  NULL, 0 }
#define F_INT(n, st, m, lo, hi)	{ n, JF_INT, offsetof(st, m), 0, lo, hi, \
				  NULL, 0 }
#define F_I64(n, st, m, lo, hi, fl) \
				{ n, JF_I64, offsetof(st, m), 0, lo, hi, \
				  NULL, fl }
#define F_ENUM(n, st, m, map, fl) \
				{ n, JF_ENUM, offsetof(st, m), 0, 0, 0, \
				  map, fl }
#define F_RO(n, st, m)		F_I64(n, st, m, 0, INT64_MAX, JF_RO)

static const struct jfield org_fields[] = {
	F_RO("id", struct store_org, id),
	F_STR("name", struct store_org, name),
	F_RO("created_at", struct store_org, created_at),
};

static const struct jfield dept_fields[] = {
	F_RO("id", struct store_dept, id),
	F_I64("org_id", struct store_dept, org_id, 1, INT64_MAX, JF_FIXED),
	F_STR("name", struct store_dept, name),
	F_RO("created_at", struct store_dept, created_at),
};

static const struct jfield admin_fields[] = {
	F_RO("id", struct store_admin, id),
	F_STR("name", struct store_admin, name),
	F_ENUM("role", struct store_admin, role, roles, 0),
	F_BOOL("disabled", struct store_admin, disabled),
	F_RO("created_at", struct store_admin, created_at),
};

static const struct jfield token_fields[] = {
	F_RO("id", struct store_token, id),
	F_RO("admin_id", struct store_token, admin_id),
	F_STR("name", struct store_token, name),
	F_RO("created_at", struct store_token, created_at),
	F_RO("expires_at", struct store_token, expires_at),
	F_RO("revoked_at", struct store_token, revoked_at),
	F_RO("last_used_at", struct store_token, last_used_at),
};

#define EP	struct store_endpoint
static const struct jfield ep_fields[] = {
	F_RO("id", EP, id),
	F_STR("name", EP, name),
	F_STR("uri_ext", EP, uri_ext),
	F_ENUM("type", EP, type, ep_types, JF_FIXED),
	F_I64("ca_id", EP, ca_id, 1, INT64_MAX, JF_FIXED),
	F_I64("ra_id", EP, ra_id, 0, INT64_MAX, 0),
	F_INT("term_days", EP, profile.term_days, 1, ADMIN_TERM_MAX),
	F_INT("min_rsa_bits", EP, profile.min_rsa_bits, 0, 65536),
	F_BOOL("allow_ec", EP, profile.allow_ec),
	F_BOOL("server_auth", EP, profile.server_auth),
	F_BOOL("renewal", EP, profile.renewal),
	F_INT("renewal_window_days", EP, profile.renewal_window_days, 0,
	    ADMIN_TERM_MAX),
	F_BOOL("copy_sans", EP, profile.copy_sans),
	F_ENUM("getcacert_format", EP, getcacert_chain, cacert_fmts, 0),
	F_ENUM("getcert_format", EP, getcert_chain, cacert_fmts, 0),
	F_BOOL("manual_approval", EP, manual_approval),
	F_BOOL("legacy", EP, legacy),
	F_BOOL("enabled", EP, enabled),
	F_ENUM("delegation", EP, delegation_general, delegations, 0),
	F_I64("org_id", EP, org_id, 0, INT64_MAX, JF_FIXED),
	F_I64("dept_id", EP, dept_id, 0, INT64_MAX, JF_FIXED),
	F_RO("created_at", EP, created_at),
	F_RO("deleted_at", EP, deleted_at),
};
#undef EP

#define AC	struct store_account
static const struct jfield acct_fields[] = {
	F_RO("id", AC, id),
	F_I64("endpoint_id", AC, endpoint_id, 1, INT64_MAX, JF_FIXED),
	F_STR("name", AC, name),
	F_I64("org_id", AC, org_id, 0, INT64_MAX, 0),
	F_I64("dept_id", AC, dept_id, 0, INT64_MAX, 0),
	F_BOOL("enabled", AC, enabled),
	F_I64("expires_at", AC, expires_at, 0, INT64_MAX, 0),
	F_I64("max_enrollments", AC, max_enrollments, 0, INT64_MAX, 0),
	F_RO("enrollments", AC, enrollments),
	F_RO("created_at", AC, created_at),
};
#undef AC

static const struct jfield rules_fields[] = {
	F_STR("cn_pattern", struct store_account_rules, cn_pattern),
	F_STR("san_pattern", struct store_account_rules, san_pattern),
};

#define NF(t)	(sizeof(t) / sizeof((t)[0]))

/* Add the fields of table t, read from obj, to JSON object o. */
static int
jf_encode(const struct jfield *t, size_t n, const void *obj, json_t *o)
{
	const char *base = obj, *s;
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		const void *p = base + t[i].off;
		json_t *v = NULL;

		switch (t[i].type) {
		case JF_STR:
			v = json_stringn(p, strnlen(p, t[i].size));
			break;
		case JF_BOOL:
			v = json_boolean(*(const int *)p);
			break;
		case JF_INT:
			v = json_integer(*(const int *)p);
			break;
		case JF_I64:
			v = json_integer((json_int_t)*(const int64_t *)p);
			break;
		case JF_ENUM:
			s = map_name(t[i].map, *(const int *)p);
			v = s != NULL ? json_string(s) : json_null();
			break;
		}
		if (v == NULL || json_object_set_new(o, t[i].name, v) != 0)
			rc = -1;
	}
	return rc;
}

static const struct jfield *
jf_find(const struct jfield *t, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

/*
 * Apply member "v" to field "f" of obj.  A JF_FIXED field may be given
 * on update only with its current value (a client that sends back what
 * it read is not refused).
 */
static int
jf_apply(const struct jfield *f, json_t *v, void *obj, int create,
    struct admin_err *err)
{
	char *p = (char *)obj + f->off;
	int64_t iv = 0;
	int ev;

	/* A read-only member is accepted unchanged, so that a client may
	 * send back what it read; any other value is refused. */
	if (f->flags & JF_RO) {
		if (f->type == JF_I64 && json_is_integer(v) &&
		    (int64_t)json_integer_value(v) == *(int64_t *)(void *)p)
			return SCEP_OK;
		admin_err_set(err, f->name, "%s is read-only", f->name);
		return SCEP_E_MALFORMED;
	}
	switch (f->type) {
	case JF_STR:
		if (!json_is_string(v)) {
			admin_err_set(err, f->name, "%s must be a string",
			    f->name);
			return SCEP_E_MALFORMED;
		}
		if (json_string_length(v) >= f->size ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			admin_err_set(err, f->name, "%s must be shorter than "
			    "%zu bytes, without NUL", f->name, f->size);
			return SCEP_E_MALFORMED;
		}
		if (!create && (f->flags & JF_FIXED) &&
		    strcmp(p, json_string_value(v)) != 0)
			goto fixed;
		memcpy(p, json_string_value(v), json_string_length(v) + 1);
		return SCEP_OK;
	case JF_BOOL:
		if (!json_is_boolean(v)) {
			admin_err_set(err, f->name, "%s must be true or false",
			    f->name);
			return SCEP_E_MALFORMED;
		}
		*(int *)(void *)p = json_is_true(v);
		return SCEP_OK;
	case JF_INT:
	case JF_I64:
		if (json_is_null(v) && f->min == 0)
			iv = 0;		/* null = "none" for optional ones */
		else if (!json_is_integer(v)) {
			admin_err_set(err, f->name, "%s must be an integer",
			    f->name);
			return SCEP_E_MALFORMED;
		} else
			iv = (int64_t)json_integer_value(v);
		if (iv < f->min || iv > f->max) {
			admin_err_set(err, f->name, "%s must be %lld to %lld",
			    f->name, (long long)f->min, (long long)f->max);
			return SCEP_E_MALFORMED;
		}
		if (f->type == JF_INT) {
			if (!create && (f->flags & JF_FIXED) &&
			    *(int *)(void *)p != (int)iv)
				goto fixed;
			*(int *)(void *)p = (int)iv;
		} else {
			if (!create && (f->flags & JF_FIXED) &&
			    *(int64_t *)(void *)p != iv)
				goto fixed;
			*(int64_t *)(void *)p = iv;
		}
		return SCEP_OK;
	case JF_ENUM:
		ev = map_value(f->map, json_string_value(v), INT_MIN);
		if (!json_is_string(v) || ev == INT_MIN) {
			const struct name_map *m;
			char list[128];
			size_t off = 0;

			list[0] = '\0';
			for (m = f->map; m->s != NULL && off < sizeof(list);
			    m++)
				off += (size_t)snprintf(list + off,
				    sizeof(list) - off, "%s%s",
				    off ? ", " : "", m->s);
			admin_err_set(err, f->name, "%s must be one of: %s",
			    f->name, list);
			return SCEP_E_MALFORMED;
		}
		if (!create && (f->flags & JF_FIXED) &&
		    *(int *)(void *)p != ev)
			goto fixed;
		*(int *)(void *)p = ev;
		return SCEP_OK;
	}
	return SCEP_E_INTERNAL;
 fixed:
	admin_err_set(err, f->name, "%s is fixed after creation", f->name);
	return SCEP_E_MALFORMED;
}

/* One table and the object it describes. */
struct jf_part {
	const struct jfield	*t;
	size_t			 n;
	void			*obj;
};

/*
 * Apply every member of "in" through the tables in "parts"; the members
 * named in "custom" (NULL-terminated) are left to the caller.  Anything
 * else is an unknown member: an error, so a typo never passes silently.
 */
static int
jf_decode(json_t *in, const struct jf_part *parts, size_t nparts,
    const char *const *custom, int create, struct admin_err *err)
{
	const struct jfield *f;
	const char *k;
	json_t *v;
	size_t i;
	int r, known;

	if (!json_is_object(in)) {
		admin_err_set(err, NULL, "the body must be a JSON object");
		return SCEP_E_MALFORMED;
	}
	json_object_foreach(in, k, v) {
		known = 0;
		for (i = 0; i < nparts && !known; i++) {
			if ((f = jf_find(parts[i].t, parts[i].n, k)) == NULL)
				continue;
			known = 1;
			if ((r = jf_apply(f, v, parts[i].obj, create, err)) !=
			    SCEP_OK)
				return r;
		}
		for (i = 0; custom != NULL && custom[i] != NULL && !known; i++)
			if (strcmp(custom[i], k) == 0)
				known = 1;
		if (!known) {
			/* err->field must be static: the member name is
			 * quoted in the message instead. */
			admin_err_set(err, "body", "unknown member \"%.64s\"",
			    k);
			return SCEP_E_MALFORMED;
		}
	}
	return SCEP_OK;
}

/* [{"org_id": n, "dept_id": m}, ...] into refs (dept_id optional). */
static int
refs_decode(json_t *v, const char *field, struct store_orgref *refs,
    size_t max, size_t *n, struct admin_err *err)
{
	json_t *e, *o, *d;
	const char *k;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) > max) {
		admin_err_set(err, field, "%s must be an array of at most %zu "
		    "{\"org_id\", \"dept_id\"} objects", field, max);
		return SCEP_E_MALFORMED;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_object(e))
			goto bad;
		json_object_foreach(e, k, o)
			if (strcmp(k, "org_id") != 0 &&
			    strcmp(k, "dept_id") != 0)
				goto bad;
		o = json_object_get(e, "org_id");
		d = json_object_get(e, "dept_id");
		if ((o != NULL && !json_is_integer(o)) ||
		    (d != NULL && !json_is_null(d) && !json_is_integer(d)) ||
		    (o == NULL && d == NULL))
			goto bad;
		refs[i].org_id = o ? (int64_t)json_integer_value(o) : 0;
		refs[i].dept_id = d && json_is_integer(d) ?
		    (int64_t)json_integer_value(d) : 0;
		if (refs[i].org_id < 0 || refs[i].dept_id < 0)
			goto bad;
	}
	*n = json_array_size(v);
	return SCEP_OK;
 bad:
	admin_err_set(err, field, "%s: each entry is {\"org_id\": n, "
	    "\"dept_id\": m} with non-negative integers", field);
	return SCEP_E_MALFORMED;
}

static json_t *
refs_encode(const struct store_orgref *refs, size_t n)
{
	json_t *a;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:I, s:I}", "org_id",
		    (json_int_t)refs[i].org_id, "dept_id",
		    (json_int_t)refs[i].dept_id));
	return a;
}

/* ---- encoders ---- */

int
admin_refs_decode(json_t *v, const char *field, struct store_orgref *refs,
    size_t max, size_t *n, struct admin_err *err)
{
	return refs_decode(v, field, refs, max, n, err);
}

json_t *
admin_refs_encode(const struct store_orgref *refs, size_t n)
{
	return refs_encode(refs, n);
}

json_t *
admin_json_org(const struct store_org *o)
{
	json_t *j = json_object();

	if (j != NULL && jf_encode(org_fields, NF(org_fields), o, j) != 0) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

json_t *
admin_json_dept(const struct store_dept *d)
{
	json_t *j = json_object();

	if (j != NULL && jf_encode(dept_fields, NF(dept_fields), d, j) != 0) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static json_t *
cert_types_encode(int ct)
{
	json_t *a = json_array();

	if (a == NULL)
		return NULL;
	if (ct & STORE_CT_CLIENT)
		json_array_append_new(a, json_string("client"));
	if (ct & STORE_CT_DEVICE)
		json_array_append_new(a, json_string("device"));
	return a;
}

json_t *
admin_json_admin(const struct admin_info *x)
{
	json_t *j = json_object();

	if (j == NULL)
		return NULL;
	/* password_hash is deliberately not in admin_fields. */
	if (jf_encode(admin_fields, NF(admin_fields), &x->a, j) != 0 ||
	    json_object_set_new(j, "cert_types",
	    cert_types_encode(x->a.cert_types)) != 0 ||
	    json_object_set_new(j, "scopes",
	    refs_encode(x->scopes, x->nscopes)) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *
admin_json_token(const struct store_token *t)
{
	json_t *j = json_object();

	if (j != NULL && jf_encode(token_fields, NF(token_fields), t, j) !=
	    0) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

json_t *
admin_json_endpoint(const struct admin_endpoint *e, const char *base_url)
{
	json_t *j = json_object();
	char url[STORE_TEXT_MAX + STORE_NAME_MAX + 8];

	if (j == NULL)
		return NULL;
	if (jf_encode(ep_fields, NF(ep_fields), &e->ep, j) != 0 ||
	    json_object_set_new(j, "targets",
	    refs_encode(e->targets, e->ntargets)) != 0)
		goto bad;
	if (base_url != NULL) {
		size_t bl = strlen(base_url);

		/* The URL is derived from the extension (issue 3). */
		while (bl > 0 && base_url[bl - 1] == '/')
			bl--;
		snprintf(url, sizeof(url), "%.*s/scep/%s", (int)bl, base_url,
		    e->ep.uri_ext);
		if (json_object_set_new(j, "url", json_string(url)) != 0)
			goto bad;
	}
	return j;
 bad:
	json_decref(j);
	return NULL;
}

json_t *
admin_json_account(const struct admin_account *x)
{
	json_t *j = json_object();

	if (j == NULL)
		return NULL;
	/* challenge_hash is deliberately not in acct_fields. */
	if (jf_encode(acct_fields, NF(acct_fields), &x->acct, j) != 0 ||
	    jf_encode(rules_fields, NF(rules_fields), &x->rules, j) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *
admin_json_otc(const struct store_otc *o)
{
	int64_t now = admin_now();
	const char *st = o->used_at ? "used" : now >= o->expires_at ?
	    "expired" : "unused";

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:s}",
	    "id", (json_int_t)o->id, "account_id", (json_int_t)o->account_id,
	    "created_at", (json_int_t)o->created_at,
	    "expires_at", (json_int_t)o->expires_at,
	    "used_at", (json_int_t)o->used_at, "status", st);
}

/* ---- certificate details ---- */

static void
hex_of(const uint8_t *p, size_t n, char *out, size_t outsz, int colons)
{
	size_t i, o = 0;

	out[0] = '\0';
	/* Each byte takes 2 characters, 3 with its separator, plus the
	 * final NUL. */
	for (i = 0; i < n && o + (colons && i ? 3 : 2) < outsz; i++)
		o += (size_t)snprintf(out + o, outsz - o, "%s%02X",
		    colons && i ? ":" : "", p[i]);
}

/* An X509_NAME in RFC 2253 form (a new JSON string). */
static json_t *
name_json(const X509_NAME *n)
{
	BIO *b = NULL;
	char *p = NULL;
	long len;
	json_t *j = NULL;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0 &&
	    (len = BIO_get_mem_data(b, &p)) >= 0)
		j = json_stringn(p, (size_t)len);
	BIO_free(b);
	return j;
}

static int64_t
asn1_time(const ASN1_TIME *t)
{
	time_t v = 0;

	return ca_asn1_time_get(t, &v) == SCEP_OK ? (int64_t)v : 0;
}

/* Add subject, issuer, serial, validity, key, key usage, EKU, SANs and
 * fingerprints of the DER certificate to o. */
static void
x509_details(const uint8_t *der, size_t len, json_t *o)
{
	static const struct { int bit; const char *s; } kus[] = {
		{ KU_DIGITAL_SIGNATURE, "digitalSignature" },
		{ KU_NON_REPUDIATION, "nonRepudiation" },
		{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
		{ KU_DATA_ENCIPHERMENT, "dataEncipherment" },
		{ KU_KEY_AGREEMENT, "keyAgreement" },
		{ KU_KEY_CERT_SIGN, "keyCertSign" },
		{ KU_CRL_SIGN, "cRLSign" },
	};
	const unsigned char *p = der;
	X509 *x = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	GENERAL_NAMES *gens = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char buf[EVP_MAX_MD_SIZE * 3 + 1];
	json_t *a;
	EVP_PKEY *pk;			/* get0 */
	uint32_t ku;
	int i;

	if (len > LONG_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return;
	json_object_set_new(o, "subject", name_json(X509_get_subject_name(x)));
	json_object_set_new(o, "issuer", name_json(X509_get_issuer_name(x)));
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) !=
	    NULL && (hex = BN_bn2hex(bn)) != NULL)
		json_object_set_new(o, "cert_serial", json_string(hex));
	json_object_set_new(o, "not_before",
	    json_integer(asn1_time(X509_get0_notBefore(x))));
	json_object_set_new(o, "not_after",
	    json_integer(asn1_time(X509_get0_notAfter(x))));
	if ((pk = X509_get0_pubkey(x)) != NULL) {
		json_object_set_new(o, "key_type", json_string(
		    EVP_PKEY_is_a(pk, "RSA") ? "RSA" :
		    EVP_PKEY_is_a(pk, "EC") ? "EC" : "other"));
		json_object_set_new(o, "key_bits",
		    json_integer(EVP_PKEY_get_bits(pk)));
	}
	ku = X509_get_key_usage(x);
	if ((a = json_array()) != NULL) {
		for (i = 0; ku != UINT32_MAX &&
		    i < (int)(sizeof(kus) / sizeof(kus[0])); i++)
			if (ku & (uint32_t)kus[i].bit)
				json_array_append_new(a,
				    json_string(kus[i].s));
		json_object_set_new(o, "key_usage", a);
	}
	if ((a = json_array()) != NULL) {
		/* get1: ours to free */
		if ((eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL,
		    NULL)) != NULL)
			for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
				char on[80];

				OBJ_obj2txt(on, sizeof(on),
				    sk_ASN1_OBJECT_value(eku, i), 0);
				json_array_append_new(a, json_string(on));
			}
		json_object_set_new(o, "ext_key_usage", a);
	}
	if ((a = json_array()) != NULL) {
		/* get1 */
		if ((gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
		    NULL)) != NULL)
			for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
				GENERAL_NAME *g = sk_GENERAL_NAME_value(gens,
				    i);
				int type;
				ASN1_STRING *s = GENERAL_NAME_get0_value(g,
				    &type);

				if (type != GEN_DNS && type != GEN_EMAIL &&
				    type != GEN_URI)
					continue;
				json_array_append_new(a,
				    json_pack("{s:s, s:s%}", "type",
				    type == GEN_DNS ? "dns" :
				    type == GEN_EMAIL ? "email" : "uri",
				    "value",
				    (const char *)ASN1_STRING_get0_data(s),
				    (size_t)ASN1_STRING_length(s)));
			}
		json_object_set_new(o, "sans", a);
	}
	if (X509_digest(x, EVP_sha256(), md, &mdlen)) {
		hex_of(md, mdlen, buf, sizeof(buf), 1);
		json_object_set_new(o, "fingerprint_sha256", json_string(buf));
	}
	if (X509_digest(x, EVP_sha1(), md, &mdlen)) {
		hex_of(md, mdlen, buf, sizeof(buf), 1);
		json_object_set_new(o, "fingerprint_sha1", json_string(buf));
	}
	EXTENDED_KEY_USAGE_free(eku);
	GENERAL_NAMES_free(gens);
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
}

json_t *
admin_json_ca(const struct store_ca *c)
{
	json_t *j = json_pack("{s:I, s:s, s:I}", "id", (json_int_t)c->id,
	    "name", c->name, "created_at", (json_int_t)c->created_at);

	if (j != NULL)
		x509_details(c->cert_der, c->cert_len, j);
	return j;
}

json_t *
admin_json_ra(const struct store_ra *ra)
{
	const char *st = admin_ra_state_name(ra->state);
	const char *us = map_name(ra_usages, ra->usage);
	json_t *j = json_pack("{s:I, s:I, s:s, s:s, s:I}",
	    "id", (json_int_t)ra->id, "ca_id", (json_int_t)ra->ca_id,
	    "state", st ? st : "unknown", "usage", us ? us : "unknown",
	    "created_at", (json_int_t)ra->created_at);

	if (j != NULL && ra->cert_der != NULL)
		x509_details(ra->cert_der, ra->cert_len, j);
	return j;
}

json_t *
admin_json_cert(const struct store_cert *c, int details)
{
	char fp[STORE_HASH_LEN * 2 + 1];
	const char *rs = admin_crl_reason_name(c->revoke_reason);
	json_t *j;

	hex_of(c->key_fp, sizeof(c->key_fp), fp, sizeof(fp), 0);
	j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:I, "
	    "s:I, s:s, s:b, s:I, s:o, s:I}",
	    "serial", c->serial, "ca_id", (json_int_t)c->ca_id,
	    "endpoint_id", (json_int_t)c->endpoint_id,
	    "account_id", (json_int_t)c->account_id,
	    "request_id", (json_int_t)c->request_id,
	    "org_id", (json_int_t)c->org_id, "dept_id", (json_int_t)c->dept_id,
	    "subject", c->subject, "key_fp", fp,
	    "not_before", (json_int_t)c->not_before,
	    "not_after", (json_int_t)c->not_after,
	    "status", c->status == CERT_REVOKED ? "revoked" : "valid",
	    "expired", c->not_after <= admin_now(),
	    "revoked_at", (json_int_t)c->revoked_at,
	    "revoke_reason", c->status == CERT_REVOKED && rs != NULL ?
	    json_string(rs) : json_null(),
	    "created_at", (json_int_t)c->created_at);
	if (j != NULL && details && c->der != NULL) {
		json_t *d = json_object();

		if (d != NULL) {
			x509_details(c->der, c->der_len, d);
			json_object_set_new(j, "details", d);
		}
	}
	return j;
}

json_t *
admin_json_request(const struct store_request *rq)
{
	char fp[STORE_HASH_LEN * 2 + 1];
	const char *st = admin_req_status_name(rq->status);
	const unsigned char *p = rq->csr_der;
	X509_REQ *req = NULL;
	json_t *j;

	hex_of(rq->key_fp, sizeof(rq->key_fp), fp, sizeof(fp), 0);
	j = json_pack("{s:I, s:I, s:I, s:s, s:i, s:s, s:s, s:s, s:s, s:I, "
	    "s:I}",
	    "id", (json_int_t)rq->id,
	    "endpoint_id", (json_int_t)rq->endpoint_id,
	    "account_id", (json_int_t)rq->account_id,
	    "transid", rq->transid, "msgtype", rq->msgtype,
	    "status", st ? st : "unknown", "serial", rq->serial,
	    "reason", rq->reason, "key_fp", fp,
	    "created_at", (json_int_t)rq->created_at,
	    "updated_at", (json_int_t)rq->updated_at);
	if (j != NULL && rq->csr_der != NULL && rq->csr_len < LONG_MAX &&
	    (req = d2i_X509_REQ(NULL, &p, (long)rq->csr_len)) != NULL)
		json_object_set_new(j, "subject",
		    name_json(X509_REQ_get_subject_name(req)));
	X509_REQ_free(req);
	return j;
}

json_t *
admin_json_event(const struct store_event *ev)
{
	char h[STORE_HASH_LEN * 2 + 1], ph[STORE_HASH_LEN * 2 + 1];
	json_t *j, *d;

	hex_of(ev->hash, sizeof(ev->hash), h, sizeof(h), 0);
	hex_of(ev->prev_hash, sizeof(ev->prev_hash), ph, sizeof(ph), 0);
	/* details is JSON written by us; show it as an object, or as the
	 * raw text should it ever not parse. */
	if ((d = json_loads(ev->details, JSON_REJECT_DUPLICATES, NULL)) ==
	    NULL)
		d = json_string(ev->details);
	j = json_pack("{s:I, s:I, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, "
	    "s:o, s:s, s:s, s:o, s:s, s:s}",
	    "id", (json_int_t)ev->id, "ts", (json_int_t)ev->ts,
	    "kind", ev->kind, "actor", ev->actor, "action", ev->action,
	    "endpoint_id", (json_int_t)ev->endpoint_id,
	    "account_id", (json_int_t)ev->account_id,
	    "transid", ev->transid, "client_addr", ev->client_addr,
	    "result", ev->result,
	    "failinfo", ev->failinfo >= 0 ?
	    json_string(scep_failinfo_name(ev->failinfo)) : json_null(),
	    "reason", ev->reason, "serial", ev->serial, "details", d,
	    "hash", h, "prev_hash", ph);
	return j;
}

/* ---- decoders ---- */

int
admin_json_to_org(json_t *in, struct store_org *o, struct admin_err *err)
{
	struct jf_part p = { org_fields, NF(org_fields), o };

	return jf_decode(in, &p, 1, NULL, 1, err);
}

int
admin_json_to_dept(json_t *in, int create, struct store_dept *d,
    struct admin_err *err)
{
	struct jf_part p = { dept_fields, NF(dept_fields), d };

	return jf_decode(in, &p, 1, NULL, create, err);
}

static int
cert_types_decode(json_t *v, int *out, struct admin_err *err)
{
	json_t *e;
	size_t i;
	int ct = 0;

	if (!json_is_array(v) || json_array_size(v) > 2)
		goto bad;
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);

		if (s != NULL && strcmp(s, "client") == 0)
			ct |= STORE_CT_CLIENT;
		else if (s != NULL && strcmp(s, "device") == 0)
			ct |= STORE_CT_DEVICE;
		else
			goto bad;
	}
	*out = ct;
	return SCEP_OK;
 bad:
	admin_err_set(err, "cert_types",
	    "cert_types is an array of \"client\" and/or \"device\"");
	return SCEP_E_MALFORMED;
}

int
admin_json_to_admin(json_t *in, int create, struct admin_info *x,
    struct admin_err *err)
{
	static const char *const custom[] = { "cert_types", "scopes",
	    "password", NULL };
	struct jf_part p = { admin_fields, NF(admin_fields), &x->a };
	json_t *v;
	int r;

	if ((r = jf_decode(in, &p, 1, custom, create, err)) != SCEP_OK)
		return r;
	if ((v = json_object_get(in, "cert_types")) != NULL &&
	    (r = cert_types_decode(v, &x->a.cert_types, err)) != SCEP_OK)
		return r;
	if ((v = json_object_get(in, "scopes")) != NULL &&
	    (r = refs_decode(v, "scopes", x->scopes, ADMIN_MAX_SCOPES,
	    &x->nscopes, err)) != SCEP_OK)
		return r;
	return SCEP_OK;
}

int
admin_json_to_endpoint(json_t *in, int create, struct admin_endpoint *e,
    struct admin_err *err)
{
	static const char *const custom[] = { "targets", "url",
	    /* Intune settings: admin_azure.c (admin_ep_intune_decode) */
	    "azure_account_id", "wait_success", "ca_configuration",
	    "issuing_ca", NULL };
	struct jf_part p = { ep_fields, NF(ep_fields), &e->ep };
	json_t *v;
	int r;

	if ((r = jf_decode(in, &p, 1, custom, create, err)) != SCEP_OK)
		return r;
	if ((v = json_object_get(in, "url")) != NULL && !json_is_string(v)) {
		admin_err_set(err, "url", "url is derived from uri_ext");
		return SCEP_E_MALFORMED;
	}
	if ((v = json_object_get(in, "targets")) != NULL) {
		if ((r = refs_decode(v, "targets", e->targets,
		    ADMIN_MAX_TARGETS, &e->ntargets, err)) != SCEP_OK)
			return r;
		/* Targets only make sense for Customized delegation. */
		if (json_object_get(in, "delegation") == NULL &&
		    e->ntargets > 0)
			e->ep.delegation_general = 0;
	} else if (e->ep.delegation_general)
		e->ntargets = 0;
	return SCEP_OK;
}

int
admin_json_to_account(json_t *in, int create, struct admin_account *x,
    struct admin_err *err)
{
	struct jf_part p[2] = {
		{ acct_fields, NF(acct_fields), &x->acct },
		{ rules_fields, NF(rules_fields), &x->rules },
	};

	return jf_decode(in, p, 2, NULL, create, err);
}

/* ---- request bodies ---- */

/* Nesting depth of a JSON value (1 for a scalar), counted no deeper than
 * limit. */
static size_t
json_depth(json_t *j, size_t limit)
{
	size_t d = 0, x, i;
	const char *k;
	json_t *v;

	if (limit == 0)
		return 1;
	if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			if ((x = json_depth(v, limit - 1)) > d)
				d = x;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if ((x = json_depth(v, limit - 1)) > d)
				d = x;
	}
	return d + 1;
}

int
admin_json_body(const uint8_t *body, size_t len, json_t **out,
    struct admin_err *err)
{
	json_error_t jerr;
	json_t *j;

	*out = NULL;
	if (len > API_MAX_BODY) {
		admin_err_set(err, "body", "body larger than %zu bytes",
		    (size_t)API_MAX_BODY);
		return SCEP_E_TOOBIG;
	}
	if ((j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		admin_err_set(err, "body", "invalid JSON at line %d: %s",
		    jerr.line, jerr.text);
		return SCEP_E_MALFORMED;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		admin_err_set(err, "body", "the body must be a JSON object");
		return SCEP_E_MALFORMED;
	}
	if (json_depth(j, API_MAX_JSON_DEPTH + 1) > API_MAX_JSON_DEPTH) {
		json_decref(j);
		admin_err_set(err, "body", "JSON nested deeper than %d",
		    API_MAX_JSON_DEPTH);
		return SCEP_E_MALFORMED;
	}
	*out = j;
	return SCEP_OK;
}
