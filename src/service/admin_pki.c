/*
 * admin_pki.c -- CAs and RA certificates (list, view, create, rollover:
 * spec 15), issued certificates (search, view, revoke) and pending
 * requests (approve, reject: spec 14) for administrators.  See admin.h.
 *
 * Creating an RA generates the RA key here and has keyops (the key
 * processes, with isolation on) certify it with the CA key: the CA key is
 * never read into this process.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <sodium.h>

#include "admin.h"
#include "admin_int.h"
#include "ca_gen.h"
#include "ca_p11.h"
#include "keyops.h"
#include "scep.h"
#include "scep_err.h"

/* ---- CAs and RAs ---- */

int
admin_ca_list(struct admin_actor *a, struct store_ca *out, size_t max,
    size_t *n)
{
	*n = 0;
	if (!admin_is_mrao(a))
		return SCEP_E_DENIED;
	return store_ca_list(svc_store(a->svc), out, max, n);
}

int
admin_ra_list(struct admin_actor *a, int64_t ca_id, struct store_ra *out,
    size_t max, size_t *n)
{
	struct store_ca *cas = NULL;
	size_t ncas = 0, i, got;
	int r;

	*n = 0;
	if (!admin_is_mrao(a))
		return SCEP_E_DENIED;
	if (ca_id != 0)
		return store_ra_list(svc_store(a->svc), ca_id, 0, out, max, n);
	if ((cas = calloc(ADMIN_MAX_LIST, sizeof(*cas))) == NULL)
		return SCEP_E_NOMEM;
	if ((r = store_ca_list(svc_store(a->svc), cas, ADMIN_MAX_LIST,
	    &ncas)) != SCEP_OK)
		goto out;
	for (i = 0; i < ncas && *n < max; i++) {
		got = 0;
		if ((r = store_ra_list(svc_store(a->svc), cas[i].id, 0,
		    out + *n, max - *n, &got)) != SCEP_OK)
			goto out;
		*n += got;
	}
	r = SCEP_OK;
 out:
	for (i = 0; i < ncas; i++)
		store_ca_clear(&cas[i]);
	free(cas);
	if (r != SCEP_OK) {
		for (i = 0; i < *n; i++)
			store_ra_clear(&out[i]);
		*n = 0;
	}
	return r;
}

int
admin_ra_get(struct admin_actor *a, int64_t id, struct store_ra *out)
{
	if (!admin_is_mrao(a))
		return SCEP_E_DENIED;
	return store_ra_get(svc_store(a->svc), id, out);
}

static X509 *
der_to_x509(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;

	if (len > LONG_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return NULL;
	if (p != der + len) {		/* STYLE H6: no trailing bytes */
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Directory part of a path ("." when there is none). */
static void
dir_of(const char *path, char *out, size_t outsz)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(out, outsz, ".");
	else if (slash == path)
		snprintf(out, outsz, "/");
	else
		snprintf(out, outsz, "%.*s", (int)(slash - path), path);
}

/* The ca_key_generate name for the type and size of "key". */
static const char *
key_alg_of(EVP_PKEY *key)
{
	int bits = EVP_PKEY_get_bits(key);

	if (EVP_PKEY_is_a(key, "RSA"))
		return bits >= 4096 ? "rsa4096" : bits >= 3072 ? "rsa3072" :
		    "rsa2048";
	if (EVP_PKEY_is_a(key, "EC"))
		return bits >= 384 ? "ec384" : "ec256";
	return NULL;
}

/* Make, store and load one RA of CA "ca_id". */
static int
ra_make(struct admin_actor *a, int64_t ca_id, const char *alg,
    const char *subject, int usage, int days, int state,
    struct store_ra *out, struct admin_err *err)
{
	struct store *st = svc_store(a->svc);
	struct store_ca ca;
	EVP_PKEY *cakey = NULL, *rakey = NULL;
	X509 *cacert = NULL, *racert = NULL;
	X509_NAME *dn = NULL;
	unsigned char *der = NULL;
	char dir[STORE_TEXT_MAX], rnd[8];
	uint8_t rb[4];
	int len, r, written = 0;

	memset(&ca, 0, sizeof(ca));
	memset(out, 0, sizeof(*out));
	r = SCEP_E_MALFORMED;
	if (usage < CA_RA_SIGN_ENCRYPT || usage > CA_RA_ENCRYPT) {
		admin_err_set(err, "usage",
		    "usage must be sign-encrypt, sign or encrypt");
		goto out;
	}
	if (days < 1 || days > CA_MAX_RA_DAYS) {
		admin_err_set(err, "days", "days must be 1 to %d",
		    CA_MAX_RA_DAYS);
		goto out;
	}
	if (state != RA_ACTIVE && state != RA_NEXT) {
		admin_err_set(err, "state", "state must be active or next");
		goto out;
	}
	if (ca_dn_parse(subject, &dn) != SCEP_OK) {
		admin_err_set(err, "subject", "subject is not a valid "
		    "distinguished name (\"CN=x,O=y\" or \"/O=y/CN=x\")");
		goto out;
	}
	if (store_ca_get(st, ca_id, &ca) != SCEP_OK) {
		admin_err_set(err, "ca_id", "no such CA");
		goto out;
	}
	if (state == RA_NEXT) {
		struct store_ra staged;
		size_t n = 0;

		memset(&staged, 0, sizeof(staged));
		if ((r = store_ra_list(st, ca_id, RA_NEXT, &staged, 1, &n)) !=
		    SCEP_OK)
			goto out;
		if (n > 0) {
			store_ra_clear(&staged);
			admin_err_set(err, "state", "this CA already has a "
			    "staged RA: switch to it first");
			r = SCEP_E_EXISTS;
			goto out;
		}
	}
	if ((r = ca_key_generate(alg, &rakey)) != SCEP_OK) {
		if (r == SCEP_E_CONFIG) {
			admin_err_set(err, "key_alg", "key_alg must be "
			    "rsa2048, rsa3072, rsa4096, ec256 or ec384");
			r = SCEP_E_MALFORMED;
		}
		goto out;
	}
	if ((cacert = der_to_x509(ca.cert_der, ca.cert_len)) == NULL) {
		r = SCEP_E_INTERNAL;
		goto out;
	}
	/* The CA key signs inside keyops (a key process when isolation is
	 * on): it is never read into this process. */
	if (keyops_ca_cert(svc_keyops(a->svc), ca_id) == NULL &&
	    (r = keyops_load_ca(svc_keyops(a->svc), ca.id, ca.key_path,
	    ca.cert_der, ca.cert_len)) != SCEP_OK)
		goto out;
	r = keyops_make_ra(svc_keyops(a->svc), ca_id, rakey, subject, usage,
	    days, (time_t)admin_now(), &racert);
	if (r != SCEP_OK) {
		if (r == SCEP_E_BADKEY) {
			admin_err_set(err, "key_alg", "an RA that decrypts "
			    "needs an RSA key");
			r = SCEP_E_MALFORMED;
		}
		goto out;
	}

	/* The key file goes next to the CA's, under a fresh name; for a CA
	 * key in a PKCS#11 token, into DATA_DIR/keys (the RA key is made
	 * here, as a file, never in the token: SECURITY.md). */
	if (!ca_p11_is_uri(ca.key_path))
		dir_of(ca.key_path, dir, sizeof(dir));
	else if (svc_get_config(a->svc)->keys_dir != NULL &&
	    strlen(svc_get_config(a->svc)->keys_dir) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%s",
		    svc_get_config(a->svc)->keys_dir);
	else {
		r = SCEP_E_CONFIG;
		goto out;
	}
	randombytes_buf(rb, sizeof(rb));
	snprintf(rnd, sizeof(rnd), "%02x%02x%02x", rb[0], rb[1], rb[2]);
	if ((size_t)snprintf(out->key_path, sizeof(out->key_path),
	    "%s/ra-%lld-%s.key", dir, (long long)admin_now(), rnd) >=
	    sizeof(out->key_path)) {
		r = SCEP_E_TOOBIG;
		goto out;
	}
	if ((r = ca_key_write(out->key_path, rakey)) != SCEP_OK)
		goto out;
	written = 1;
	if ((len = i2d_X509(racert, &der)) <= 0) {
		r = SCEP_E_INTERNAL;
		goto out;
	}
	out->ca_id = ca_id;
	out->state = state;
	out->usage = usage;
	out->created_at = admin_now();
	if ((out->cert_der = malloc((size_t)len)) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	memcpy(out->cert_der, der, (size_t)len);
	out->cert_len = (size_t)len;
	if ((r = store_ra_insert(st, out)) != SCEP_OK)
		goto out;
	written = 0;			/* the row owns the file now */
	/* Usable on this node at once; other nodes load it on use. */
	if (keyops_load_ra(svc_keyops(a->svc), out->id, ca_id, out->key_path,
	    out->cert_der, out->cert_len) != SCEP_OK)
		r = SCEP_OK;		/* loaded lazily later */
	r = SCEP_OK;
 out:
	if (written)
		(void)unlink(out->key_path);
	if (r != SCEP_OK)
		store_ra_clear(out);
	OPENSSL_free(der);
	X509_NAME_free(dn);
	X509_free(racert);
	X509_free(cacert);
	EVP_PKEY_free(rakey);
	EVP_PKEY_free(cakey);
	store_ca_clear(&ca);
	return r;
}

int
admin_ra_create(struct admin_actor *a, int64_t ca_id, const char *alg,
    const char *subject, int usage, int days, int state,
    struct store_ra *out, struct admin_err *err)
{
	int r;

	if (!admin_is_mrao(a))
		return SCEP_E_DENIED;
	if ((r = ra_make(a, ca_id, alg, subject, usage, days, state, out,
	    err)) != SCEP_OK)
		return r;
	return admin_audit_done(a, "ra.create", NULL, admin_json_ra(out));
}

int
admin_ra_stage(struct admin_actor *a, int64_t id, int days,
    struct store_ra *out, struct admin_err *err)
{
	struct store_ra old;
	X509 *x = NULL;
	EVP_PKEY *pub = NULL;		/* get0 */
	char *subject = NULL;
	const char *alg;
	time_t nb, na;
	BIO *bio = NULL;
	json_t *before = NULL, *after = NULL;
	long slen;
	int r;

	memset(&old, 0, sizeof(old));
	memset(out, 0, sizeof(*out));
	if (!admin_is_mrao(a))
		return SCEP_E_DENIED;
	if ((r = store_ra_get(svc_store(a->svc), id, &old)) != SCEP_OK)
		return r;
	r = SCEP_E_MALFORMED;
	if (old.state != RA_ACTIVE) {
		admin_err_set(err, NULL,
		    "only an active RA can be rolled over");
		goto out;
	}
	r = SCEP_E_INTERNAL;
	if ((x = der_to_x509(old.cert_der, old.cert_len)) == NULL ||
	    (pub = X509_get0_pubkey(x)) == NULL ||
	    (alg = key_alg_of(pub)) == NULL)
		goto out;
	/* Same subject as the old RA, in the RFC 4514 form ca_dn_parse
	 * reads back. */
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) < 0 || (slen = BIO_get_mem_data(bio, NULL)) <= 0)
		goto out;
	if ((subject = calloc(1, (size_t)slen + 1)) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	if (BIO_read(bio, subject, (int)slen) != (int)slen)
		goto out;
	if (days == 0) {
		if (ca_asn1_time_get(X509_get0_notBefore(x), &nb) != SCEP_OK ||
		    ca_asn1_time_get(X509_get0_notAfter(x), &na) != SCEP_OK)
			goto out;
		days = (int)((na - nb) / 86400);
		if (days < 1)
			days = 1;
		if (days > CA_MAX_RA_DAYS)
			days = CA_MAX_RA_DAYS;
	}
	if ((r = ra_make(a, old.ca_id, alg, subject, old.usage, days, RA_NEXT,
	    out, err)) != SCEP_OK)
		goto out;
	before = admin_json_ra(&old);
	after = admin_json_ra(out);
	(void)admin_audit(a, "ra.rollover.stage", 0, 0, NULL, "SUCCESS", NULL,
	    before, after);
	r = SCEP_OK;
 out:
	json_decref(before);
	json_decref(after);
	free(subject);
	BIO_free(bio);
	X509_free(x);
	store_ra_clear(&old);
	return r;
}

int
admin_ra_switch(struct admin_actor *a, int64_t id, struct store_ra *out,
    struct admin_err *err)
{
	struct store *st = svc_store(a->svc);
	struct store_ra old;
	size_t n = 0;
	json_t *before = NULL, *after = NULL;
	int r;

	memset(&old, 0, sizeof(old));
	memset(out, 0, sizeof(*out));
	if (!admin_is_mrao(a))
		return SCEP_E_DENIED;
	if ((r = store_ra_get(st, id, &old)) != SCEP_OK)
		return r;
	r = SCEP_E_MALFORMED;
	if (old.state != RA_ACTIVE) {
		admin_err_set(err, NULL, "only an active RA can be switched "
		    "away from");
		goto out;
	}
	if ((r = store_ra_list(st, old.ca_id, RA_NEXT, out, 1, &n)) !=
	    SCEP_OK)
		goto out;
	if (n == 0) {
		admin_err_set(err, NULL, "no staged successor: stage one "
		    "first");
		r = SCEP_E_MALFORMED;
		goto out;
	}
	if ((r = store_ra_switch(st, old.id, out->id)) != SCEP_OK)
		goto out;
	out->state = RA_ACTIVE;
	old.state = RA_RETIRED;
	before = admin_json_ra(&old);
	after = admin_json_ra(out);
	(void)admin_audit(a, "ra.rollover.switch", 0, 0, NULL, "SUCCESS",
	    NULL, before, after);
	r = SCEP_OK;
 out:
	if (r != SCEP_OK)
		store_ra_clear(out);
	json_decref(before);
	json_decref(after);
	store_ra_clear(&old);
	return r;
}

/* certs-only PKCS#7 of "der" followed by the CA certificate of ca_id. */
static int
chain_p7(struct store *st, const uint8_t *der, size_t len, int64_t ca_id,
    uint8_t **out, size_t *outlen)
{
	struct store_ca ca;
	STACK_OF(X509) *sk = NULL;
	X509 *x = NULL, *cx = NULL;
	int r;

	memset(&ca, 0, sizeof(ca));
	r = SCEP_E_INTERNAL;
	if ((sk = sk_X509_new_null()) == NULL ||
	    (x = der_to_x509(der, len)) == NULL || !sk_X509_push(sk, x))
		goto out;
	x = NULL;			/* the stack owns it */
	if (store_ca_get(st, ca_id, &ca) == SCEP_OK) {
		if ((cx = der_to_x509(ca.cert_der, ca.cert_len)) == NULL ||
		    !sk_X509_push(sk, cx))
			goto out;
		cx = NULL;
	}
	r = scep_certs_only(sk, NULL, out, outlen);
 out:
	X509_free(x);
	X509_free(cx);
	sk_X509_pop_free(sk, X509_free);
	store_ca_clear(&ca);
	return r;
}

int
admin_ra_p7(struct admin_actor *a, int64_t id, uint8_t **out, size_t *len)
{
	struct store_ra ra;
	int r;

	memset(&ra, 0, sizeof(ra));
	*out = NULL;
	*len = 0;
	if ((r = admin_ra_get(a, id, &ra)) != SCEP_OK)
		return r;
	r = chain_p7(svc_store(a->svc), ra.cert_der, ra.cert_len, ra.ca_id,
	    out, len);
	store_ra_clear(&ra);
	return r;
}

/* ---- issued certificates ---- */

/* A few endpoints loaded once per search, not once per row. */
#define EPCACHE_N	8
struct epcache {
	struct admin_endpoint	*e[EPCACHE_N];
	size_t			 next;
};

static void
epcache_free(struct epcache *c)
{
	size_t i;

	for (i = 0; i < EPCACHE_N; i++)
		free(c->e[i]);
}

static const struct admin_endpoint *
epcache_get(struct epcache *c, struct store *st, int64_t id)
{
	struct admin_endpoint *e;
	size_t i;

	for (i = 0; i < EPCACHE_N; i++)
		if (c->e[i] != NULL && c->e[i]->ep.id == id)
			return c->e[i];
	i = c->next++ % EPCACHE_N;
	if (c->e[i] == NULL && (c->e[i] = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	if (admin_endpoint_load(st, id, c->e[i]) != SCEP_OK) {
		memset(c->e[i], 0, sizeof(*c->e[i]));
		return NULL;
	}
	return c->e[i];
}

/* A certificate (or request) of endpoint "ep_id" with the given
 * organization/department snapshot: visible to the actor? */
static int
row_visible(struct admin_actor *a, struct epcache *c, int64_t ep_id,
    int64_t org_id, int64_t dept_id)
{
	const struct admin_endpoint *e;

	if (admin_is_mrao(a))
		return 1;
	if (ep_id == 0 || (e = epcache_get(c, svc_store(a->svc), ep_id)) ==
	    NULL)
		return 0;
	if (!admin_ep_visible(a, e))
		return 0;
	if (org_id == 0)
		return admin_ep_manageable(a, e);
	return admin_scope_covers(a, org_id, dept_id);
}

int
admin_cert_search(struct admin_actor *a, const struct store_cert_filter *f,
    struct store_cert *out, size_t max, size_t *n, int64_t *cursor)
{
	struct store_cert_filter ff = *f;
	struct epcache c;
	size_t got, i, k = 0;
	int64_t cur = f->after;
	int r = SCEP_OK;

	memset(&c, 0, sizeof(c));
	*n = 0;
	*cursor = f->after;
	/* Fetch pages and keep the visible rows until "max" are kept or the
	 * store has no more: a scoped administrator's page is then as full
	 * as an MRAO's, and the cursor never skips a visible row. */
	while (k < max) {
		size_t base = k;

		got = 0;
		ff.after = cur;
		if ((r = store_cert_search(svc_store(a->svc), &ff, out + base,
		    max - base, &got, &cur)) != SCEP_OK)
			break;
		for (i = 0; i < got; i++) {
			struct store_cert *x = &out[base + i];

			if (row_visible(a, &c, x->endpoint_id, x->org_id,
			    x->dept_id)) {
				if (&out[k] != x) {
					out[k] = *x;
					memset(x, 0, sizeof(*x));
				}
				k++;
			} else
				store_cert_clear(x);
		}
		if (got < max - base)	/* the store has no more rows */
			break;
	}
	*n = k;
	*cursor = cur;
	epcache_free(&c);
	if (r != SCEP_OK) {
		for (i = 0; i < k; i++)
			store_cert_clear(&out[i]);
		*n = 0;
	}
	return r;
}

int
admin_cert_get(struct admin_actor *a, const char *serial,
    struct store_cert *out)
{
	struct epcache c;
	int r, vis;

	memset(&c, 0, sizeof(c));
	if ((r = store_cert_get(svc_store(a->svc), serial, out)) != SCEP_OK)
		return r;
	vis = row_visible(a, &c, out->endpoint_id, out->org_id, out->dept_id);
	epcache_free(&c);
	if (!vis) {
		store_cert_clear(out);
		return SCEP_E_NOTFOUND;
	}
	return SCEP_OK;
}

int
admin_cert_revoke(struct admin_actor *a, const char *serial, int reason,
    struct admin_err *err)
{
	struct store_cert c;
	int r;

	memset(&c, 0, sizeof(c));
	if (admin_crl_reason_name(reason) == NULL) {
		admin_err_set(err, "reason", "unknown CRLReason");
		return SCEP_E_MALFORMED;
	}
	if ((r = admin_cert_get(a, serial, &c)) != SCEP_OK)
		return r;
	if (c.status == CERT_REVOKED) {
		admin_err_set(err, "serial", "already revoked");
		r = SCEP_E_EXISTS;
		goto out;
	}
	/* svc_cert_revoke records the audit event and refreshes the CRL. */
	r = svc_cert_revoke(a->svc, c.serial, reason, a->name);
 out:
	store_cert_clear(&c);
	return r;
}

int
admin_cert_p7(struct admin_actor *a, const char *serial, uint8_t **out,
    size_t *len)
{
	struct store_cert c;
	int r;

	memset(&c, 0, sizeof(c));
	*out = NULL;
	*len = 0;
	if ((r = admin_cert_get(a, serial, &c)) != SCEP_OK)
		return r;
	r = chain_p7(svc_store(a->svc), c.der, c.der_len, c.ca_id, out, len);
	store_cert_clear(&c);
	return r;
}

/* ---- pending requests ---- */

/* Organization/department of a request: its account's. */
static void
request_org(struct store *st, const struct store_request *rq,
    int64_t *org_id, int64_t *dept_id)
{
	struct store_account acct;

	*org_id = *dept_id = 0;
	memset(&acct, 0, sizeof(acct));
	if (rq->account_id != 0 &&
	    store_account_get(st, rq->account_id, &acct) == SCEP_OK) {
		*org_id = acct.org_id;
		*dept_id = acct.dept_id;
	}
}

int
admin_request_list(struct admin_actor *a, struct store_request *out,
    size_t max, size_t *n)
{
	struct store *st = svc_store(a->svc);
	struct epcache c;
	int64_t org, dept;
	size_t cnt = 0, i, k = 0;
	int r;

	memset(&c, 0, sizeof(c));
	*n = 0;
	if ((r = store_request_list_pending(st, out, max, &cnt)) != SCEP_OK)
		return r;
	for (i = 0; i < cnt; i++) {
		request_org(st, &out[i], &org, &dept);
		if (row_visible(a, &c, out[i].endpoint_id, org, dept)) {
			if (k != i) {
				out[k] = out[i];
				memset(&out[i], 0, sizeof(out[i]));
			}
			k++;
		} else
			store_request_clear(&out[i]);
	}
	*n = k;
	epcache_free(&c);
	return SCEP_OK;
}

int
admin_request_get(struct admin_actor *a, int64_t id,
    struct store_request *out)
{
	struct store *st = svc_store(a->svc);
	struct epcache c;
	int64_t org, dept;
	int r, vis;

	memset(&c, 0, sizeof(c));
	if ((r = store_request_get(st, id, out)) != SCEP_OK)
		return r;
	request_org(st, out, &org, &dept);
	vis = row_visible(a, &c, out->endpoint_id, org, dept);
	epcache_free(&c);
	if (!vis) {
		store_request_clear(out);
		return SCEP_E_NOTFOUND;
	}
	return SCEP_OK;
}

int
admin_request_approve(struct admin_actor *a, int64_t id, char *serial_out,
    size_t serialsz)
{
	struct store_request rq;
	int r;

	memset(&rq, 0, sizeof(rq));
	if ((r = admin_request_get(a, id, &rq)) != SCEP_OK)
		return r;
	if (rq.status != REQ_PENDING)
		r = SCEP_E_EXISTS;
	else	/* svc records the audit event */
		r = svc_request_approve(a->svc, id, a->name, serial_out,
		    serialsz);
	store_request_clear(&rq);
	return r;
}

int
admin_request_reject(struct admin_actor *a, int64_t id, const char *reason,
    struct admin_err *err)
{
	struct store_request rq;
	int r;

	memset(&rq, 0, sizeof(rq));
	if (reason != NULL && strlen(reason) >= STORE_TEXT_MAX) {
		admin_err_set(err, "reason", "reason is longer than %d bytes",
		    STORE_TEXT_MAX - 1);
		return SCEP_E_MALFORMED;
	}
	if ((r = admin_request_get(a, id, &rq)) != SCEP_OK)
		return r;
	if (rq.status != REQ_PENDING)
		r = SCEP_E_EXISTS;
	else
		r = svc_request_reject(a->svc, id, a->name, reason);
	store_request_clear(&rq);
	return r;
}
