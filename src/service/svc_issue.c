/*
 * svc_issue.c -- issuing a certificate for a recorded request, and the
 * operator actions on requests and certificates: approve, reject, revoke.
 *
 * Durability rule (issue 2): the certificate is committed to the store,
 * together with the request's transition, before anyone sees it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "ca_gen.h"
#include "log.h"
#include "metrics.h"
#include "scep.h"
#include "svc.h"
#include "svc_int.h"
#include "svc_policy.h"

/* Serial collisions at 128 random bits are astronomically unlikely; the
 * store's unique constraint makes them harmless, and we issue again
 * (keyops draws a fresh serial on every call, issue 8). */
#define ISSUE_SERIAL_TRIES	4

static void
name_text(X509_NAME *n, char *buf, size_t bufsz)
{
	BIO *b;
	int len;

	buf[0] = '\0';
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0 &&
	    (len = BIO_read(b, buf, (int)bufsz - 1)) > 0)
		buf[len] = '\0';
	BIO_free(b);
}

/* The template of a certificate for "csr" on "ep" (svc_policy_tmpl);
 * "crl_url" (a buffer of STORE_TEXT_MAX bytes) is what t->crl_url may
 * point to. */
static void
issue_tmpl_fill(struct svc *s, const struct store_endpoint *ep,
    const struct scep_csr *csr, time_t now, struct issue_tmpl *t,
    char crl_url[STORE_TEXT_MAX])
{
	crl_url[0] = '\0';
	if (s->cfg.base_url != NULL && s->cfg.base_url[0] != '\0')
		snprintf(crl_url, STORE_TEXT_MAX, "%s/crl/%lld.crl",
		    s->cfg.base_url, (long long)ep->ca_id);
	svc_policy_tmpl(ep, csr, now, crl_url[0] != '\0' ? crl_url : NULL, t);
}

/* The store row of a new certificate: everything but the DER. */
static int
store_cert_fill(const struct store_endpoint *ep,
    const struct store_request *rq, int64_t account_id, int64_t org_id,
    int64_t dept_id, X509_NAME *subject,
    const uint8_t serial[ISSUE_SERIAL_LEN], time_t nb, time_t na,
    time_t now, struct store_cert *sc)
{
	BIGNUM *bn = NULL;

	if ((bn = BN_bin2bn(serial, ISSUE_SERIAL_LEN, NULL)) == NULL)
		return SCEP_E_NOMEM;
	svc_serial_hex(bn, sc->serial, sizeof(sc->serial));
	BN_free(bn);
	sc->ca_id = ep->ca_id;
	sc->endpoint_id = ep->id;
	sc->account_id = account_id;
	sc->request_id = rq->id;
	sc->org_id = org_id;
	sc->dept_id = dept_id;
	name_text(subject, sc->subject, sizeof(sc->subject));
	memcpy(sc->key_fp, rq->key_fp, sizeof(sc->key_fp));
	sc->not_before = (int64_t)nb;
	sc->not_after = (int64_t)na;
	sc->status = CERT_VALID;
	sc->created_at = (int64_t)now;
	return SCEP_OK;
}

/*
 * Issue for "csr" and fill the store row "sc" (sc->der take); *cert_out
 * (take) is the certificate, for the callers that hand it on (Intune's
 * successNotification, manual approval).
 */
static int
svc_issue_build(struct svc *s, const struct store_endpoint *ep,
    const struct store_request *rq, const struct scep_csr *csr,
    int64_t account_id, int64_t org_id, int64_t dept_id, X509 **cert_out,
    struct store_cert *sc)
{
	struct issue_tmpl t;
	X509 *cert = NULL;
	unsigned char *der = NULL;
	uint8_t serial[ISSUE_SERIAL_LEN];
	char crl_url[STORE_TEXT_MAX];
	time_t now = time(NULL), nb, na;
	double t0;
	int r, len;

	*cert_out = NULL;
	memset(sc, 0, sizeof(*sc));
	issue_tmpl_fill(s, ep, csr, now, &t, crl_url);
	t0 = metrics_now();
	r = keyops_issue(s->keys, ep->ca_id, &t, &cert, serial);
	metrics_observe(METRIC_H_CRYPTO, metrics_now() - t0);
	if (r != SCEP_OK)
		goto out;
	/* keyops may cut notAfter to the CA's: read it back. */
	r = SCEP_E_INTERNAL;
	if (ca_asn1_time_get(X509_get0_notBefore(cert), &nb) != SCEP_OK ||
	    ca_asn1_time_get(X509_get0_notAfter(cert), &na) != SCEP_OK)
		goto out;
	if ((r = store_cert_fill(ep, rq, account_id, org_id, dept_id,
	    X509_get_subject_name(cert), serial, nb, na, now, sc)) != SCEP_OK)
		goto out;
	r = SCEP_E_INTERNAL;
	if ((len = i2d_X509(cert, &der)) <= 0)
		goto out;
	sc->der = der;
	sc->der_len = (size_t)len;
	der = NULL;
	*cert_out = cert;
	cert = NULL;
	r = SCEP_OK;
 out:
	OPENSSL_free(der);
	X509_free(cert);
	return r;
}

int
svc_issue_reply(struct svc *s, const struct store_endpoint *ep,
    const struct store_request *rq, const struct scep_csr *csr,
    int64_t account_id, int64_t org_id, int64_t dept_id, int64_t sign_ra,
    const struct scep_reply *rep, struct store_cert *sc, uint8_t **reply,
    size_t *reply_len)
{
	struct issue_tmpl t;
	struct issued_reply ir;
	char crl_url[STORE_TEXT_MAX];
	time_t now = time(NULL);
	int r;

	memset(sc, 0, sizeof(*sc));
	*reply = NULL;
	*reply_len = 0;
	issue_tmpl_fill(s, ep, csr, now, &t, crl_url);
	if ((r = keyops_issue_reply(s->keys, ep->ca_id, sign_ra, &t, 1, rep,
	    &ir)) != SCEP_OK)
		return r;
	/* The subject is the template's, copied as it is (ca_issue.c);
	 * serial and validity come back from keyops. */
	if ((r = store_cert_fill(ep, rq, account_id, org_id, dept_id,
	    t.subject, ir.serial, ir.not_before, ir.not_after, now, sc)) !=
	    SCEP_OK) {
		issued_reply_clear(&ir);
		return r;
	}
	sc->der = ir.cert;
	sc->der_len = ir.cert_len;
	*reply = ir.reply;
	*reply_len = ir.reply_len;
	return SCEP_OK;
}

int
svc_issue(struct svc *s, const struct store_endpoint *ep,
    struct store_request *rq, const struct scep_csr *csr, int64_t account_id,
    int64_t org_id, int64_t dept_id, X509 **cert_out)
{
	struct store_cert sc;
	X509 *cert = NULL;
	time_t now = time(NULL);
	double t0;
	int tries, r = SCEP_E_INTERNAL;

	*cert_out = NULL;
	memset(&sc, 0, sizeof(sc));
	for (tries = 0; tries < ISSUE_SERIAL_TRIES; tries++) {
		X509_free(cert);
		cert = NULL;
		OPENSSL_free(sc.der);
		if ((r = svc_issue_build(s, ep, rq, csr, account_id, org_id,
		    dept_id, &cert, &sc)) != SCEP_OK)
			goto out;
		t0 = metrics_now();
		r = store_cert_issue(s->store, &sc, rq->id, REQ_PENDING, now);
		metrics_observe(METRIC_H_STORE, metrics_now() - t0);
		if (r != SCEP_E_EXISTS)
			break;
		/* A taken serial, or the request moved on meanwhile. */
		{
			struct store_request cur;

			memset(&cur, 0, sizeof(cur));
			if (store_request_get(s->store, rq->id, &cur) ==
			    SCEP_OK && cur.status != REQ_PENDING) {
				store_request_clear(&cur);
				break;
			}
			store_request_clear(&cur);
		}
	}
	if (r != SCEP_OK)
		goto out;
	snprintf(rq->serial, sizeof(rq->serial), "%s", sc.serial);
	rq->status = REQ_ISSUED;
	metrics_inc_issued(ep->uri_ext);
	*cert_out = cert;
	cert = NULL;
 out:
	if (r != SCEP_OK)
		log_error("msg=\"issuance failed\" request=%lld err=\"%s\"",
		    (long long)rq->id, scep_strerror(r));
	OPENSSL_free(sc.der);
	X509_free(cert);
	return r;
}

static void
admin_event(struct svc *s, const char *actor, const char *action,
    int64_t endpoint_id, const char *transid, const char *serial,
    const char *result, const char *reason)
{
	struct store_event ev;

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.kind, sizeof(ev.kind), "admin");
	snprintf(ev.actor, sizeof(ev.actor), "%s", actor ? actor : "");
	snprintf(ev.action, sizeof(ev.action), "%s", action);
	ev.endpoint_id = endpoint_id;
	snprintf(ev.transid, sizeof(ev.transid), "%s", transid ? transid : "");
	snprintf(ev.serial, sizeof(ev.serial), "%s", serial ? serial : "");
	snprintf(ev.result, sizeof(ev.result), "%s", result);
	snprintf(ev.reason, sizeof(ev.reason), "%s", reason ? reason : "");
	ev.failinfo = -1;
	(void)svc_event(s, &ev);
}

int
svc_request_approve(struct svc *s, int64_t request_id, const char *actor,
    char *serial_out, size_t serialsz)
{
	struct store_request rq;
	struct store_endpoint ep;
	struct store_account acct;
	struct scep_csr *csr = NULL;
	X509 *cert = NULL;
	int r;

	memset(&rq, 0, sizeof(rq));
	memset(&ep, 0, sizeof(ep));
	memset(&acct, 0, sizeof(acct));
	if ((r = store_request_get(s->store, request_id, &rq)) != SCEP_OK)
		goto out;
	if (rq.status != REQ_PENDING) {
		r = SCEP_E_EXISTS;
		goto out;
	}
	if ((r = store_endpoint_get(s->store, rq.endpoint_id, &ep)) != SCEP_OK)
		goto out;
	if ((r = svc_load_endpoint_keys(s, &ep)) != SCEP_OK)
		goto out;
	if ((r = scep_csr_decode_stored(rq.csr_der, rq.csr_len, &csr)) !=
	    SCEP_OK)
		goto out;
	if (rq.account_id > 0 &&
	    store_account_get(s->store, rq.account_id, &acct) != SCEP_OK)
		memset(&acct, 0, sizeof(acct));
	r = svc_issue(s, &ep, &rq, csr, rq.account_id, acct.org_id,
	    acct.dept_id, &cert);
	if (r == SCEP_OK && serial_out != NULL)
		snprintf(serial_out, serialsz, "%s", rq.serial);
	admin_event(s, actor, "request.approve", rq.endpoint_id, rq.transid,
	    r == SCEP_OK ? rq.serial : NULL, r == SCEP_OK ? "SUCCESS" :
	    "FAILURE", r == SCEP_OK ? NULL : scep_strerror(r));
 out:
	X509_free(cert);
	scep_csr_free(csr);
	store_request_clear(&rq);
	return r;
}

int
svc_request_reject(struct svc *s, int64_t request_id, const char *actor,
    const char *reason)
{
	struct store_request rq;
	int r;

	memset(&rq, 0, sizeof(rq));
	if ((r = store_request_get(s->store, request_id, &rq)) != SCEP_OK)
		goto out;
	r = store_request_transition(s->store, request_id, REQ_PENDING,
	    REQ_REJECTED, NULL, reason && *reason ? reason :
	    "rejected by an administrator", (int64_t)time(NULL));
	if (r == SCEP_E_NOTFOUND)
		r = SCEP_E_EXISTS;	/* no longer pending */
	admin_event(s, actor, "request.reject", rq.endpoint_id, rq.transid,
	    NULL, r == SCEP_OK ? "SUCCESS" : "FAILURE", reason);
 out:
	store_request_clear(&rq);
	return r;
}

int
svc_cert_revoke(struct svc *s, const char *serial, int reason,
    const char *actor)
{
	struct store_cert c;
	char why[64];
	int r;

	memset(&c, 0, sizeof(c));
	if ((r = store_cert_get(s->store, serial, &c)) != SCEP_OK)
		goto out;
	if ((r = store_cert_revoke(s->store, c.serial, reason,
	    (int64_t)time(NULL))) != SCEP_OK)
		goto out;
	if ((r = svc_crl_invalidate(s)) != SCEP_OK)
		goto out;
	snprintf(why, sizeof(why), "CRLReason %d", reason);
	admin_event(s, actor, "certificate.revoke", c.endpoint_id, NULL,
	    c.serial, "SUCCESS", why);
 out:
	store_cert_clear(&c);
	return r;
}
