/*
 * svc_scep.c -- SCEP operations of one endpoint: GetCACaps, GetCACert,
 * GetNextCACert and the PKIOperation pipeline of spec section 8.
 *
 * The protocol core turns bytes into a struct scep_msg and back; keyops
 * does everything that needs a private key; the store keeps transactions,
 * certificates and the audit trail.  This file holds the rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "ca_gen.h"
#include "log.h"
#include "metrics.h"
#include "scep.h"
#include "svc.h"
#include "svc_int.h"
#include "svc_intune.h"
#include "svc_policy.h"

/* Everything one PKIOperation needs on its way through. */
struct op {
	struct svc			*s;
	const struct store_endpoint	*ep;
	struct scep_msg			*msg;		/* borrowed */
	const char			*client_addr;
	const char			*request_id;
	struct svc_ep			*keyset;	/* cached identities */
	int64_t				 sign_ra;	/* 0: CA signs */
	int				 cipher_nid;	/* request's */
	struct store_event		 ev;
	/* Set by enroll: a SUCCESS reply records these and its event in
	 * one transaction (store_enroll_commit) and is returned only when
	 * that committed; commit_r says how the commit went. */
	struct store_request		*commit_rq;
	const struct store_cert		*commit_cert;
	int				 commit_r;
};

static const char *
msgtype_name(int t)
{
	switch (t) {
	case SCEP_MSG_PKCSREQ:		return "PKCSReq";
	case SCEP_MSG_RENEWALREQ:	return "RenewalReq";
	case SCEP_MSG_CERTPOLL:		return "CertPoll";
	case SCEP_MSG_GETCERT:		return "GetCert";
	case SCEP_MSG_GETCRL:		return "GetCRL";
	case SCEP_MSG_CERTREP:		return "CertRep";
	default:			return "unknown";
	}
}

static unsigned int
endpoint_algs(const struct store_endpoint *ep)
{
	return SCEP_ALG_DEFAULT | (ep->legacy ? SCEP_ALG_LEGACY : 0);
}

static int
der_of(X509 *x, uint8_t **out, size_t *out_len)
{
	unsigned char *der = NULL;
	int len;

	if ((len = i2d_X509(x, &der)) <= 0)
		return SCEP_E_INTERNAL;
	*out = der;		/* OPENSSL_malloc'd, like every buffer here */
	*out_len = (size_t)len;
	return SCEP_OK;
}

/* Copy a prebuilt body of the endpoint's cached key set into res (the
 * store row passed in only names the endpoint). */
static int
cached_body(struct svc *s, const struct store_endpoint *ep, enum svc_op op,
    struct svc_result *res)
{
	const struct svc_ep_body *b;
	struct svc_ep *e;
	int r;

	memset(res, 0, sizeof(*res));
	if ((r = svc_ep_get(s, ep->uri_ext, 0, &e)) != SCEP_OK) {
		res->http_status = r == SCEP_E_NOTFOUND ? 404 : 503;
		res->error = r == SCEP_E_NOTFOUND ? "no such endpoint" :
		    "store unavailable";
		return r;
	}
	b = svc_ep_body(e, op);
	res->http_status = b->status;
	res->error = b->error;
	if (b->status == 200) {
		if ((res->body = OPENSSL_memdup(b->data, b->len)) == NULL) {
			svc_ep_put(e);
			res->http_status = 500;
			res->error = "out of memory";
			return SCEP_E_NOMEM;
		}
		res->body_len = b->len;
		res->content_type = b->content_type;
		r = SCEP_OK;
	} else
		r = b->status == 404 ? SCEP_E_NOTFOUND : SCEP_E_INTERNAL;
	svc_ep_put(e);
	return r;
}

int
svc_getcacaps(struct svc *s, const struct store_endpoint *ep,
    struct svc_result *res)
{
	return cached_body(s, ep, SVC_OP_CACAPS, res);
}

/* GetCACert (spec 4), built by svc_cache.c. */
int
svc_getcacert(struct svc *s, const struct store_endpoint *ep,
    struct svc_result *res)
{
	return cached_body(s, ep, SVC_OP_CACERT, res);
}

/* GetNextCACert (spec 5), built by svc_cache.c; 404 when nothing is
 * staged. */
int
svc_getnextcacert(struct svc *s, const struct store_endpoint *ep,
    struct svc_result *res)
{
	return cached_body(s, ep, SVC_OP_NEXTCACERT, res);
}

/* ---- PKIOperation ---- */

int
svc_event(struct svc *s, struct store_event *ev)
{
	int r;

	if (ev->ts == 0)
		ev->ts = (int64_t)time(NULL);
	if ((r = store_event_append(s->store, ev)) != SCEP_OK)
		log_error("msg=\"cannot record audit event\" action=%s "
		    "transid=\"%s\" err=\"%s\"", ev->action, ev->transid,
		    scep_strerror(r));
	return r;
}

/* The reply digest: the request's, but never MD5 (spec 9.1). */
static int
reply_md(const struct scep_msg *m)
{
	if (m == NULL || m->md_nid == NID_md5 || m->md_nid == NID_undef)
		return NID_sha256;
	return m->md_nid;
}

/* The fields of a CertRep answering this request (no payload yet). */
static int
reply_init(struct op *o, int status, int failinfo, const char *text,
    struct scep_reply *rp)
{
	memset(rp, 0, sizeof(*rp));
	rp->status = status;
	rp->failinfo = failinfo;
	rp->failtext = status == SCEP_STATUS_FAILURE ? text : NULL;
	rp->transid = o->msg->transid;
	rp->transid_len = o->msg->transid_len;
	rp->recipient_nonce = o->msg->sender_nonce;
	rp->recipient_nonce_len = o->msg->sender_nonce_len;
	if (RAND_bytes(rp->sender_nonce, sizeof(rp->sender_nonce)) != 1)
		return SCEP_E_INTERNAL;
	rp->md_nid = reply_md(o->msg);
	rp->cipher_nid = o->cipher_nid != NID_undef ? o->cipher_nid :
	    NID_aes_128_cbc;
	rp->recipient = o->msg->signer;
	rp->now = time(NULL);
	return SCEP_OK;
}

/*
 * After the reply was signed into res->body (r == SCEP_OK) or could not
 * be (r): record the outcome -- for a SUCCESS of enroll in the one
 * commit of request, certificate and event, dropping the reply if that
 * fails -- count, log and fill the rest of res.
 */
static int
reply_finish(struct op *o, int status, int failinfo, const char *text,
    int r, struct svc_result *res)
{
	double t0;

	snprintf(o->ev.result, sizeof(o->ev.result), "%s",
	    status == SCEP_STATUS_SUCCESS ? "SUCCESS" :
	    status == SCEP_STATUS_PENDING ? "PENDING" : "FAILURE");
	o->ev.failinfo = status == SCEP_STATUS_FAILURE ? failinfo : -1;
	if (text != NULL && o->ev.reason[0] == '\0')
		snprintf(o->ev.reason, sizeof(o->ev.reason), "%s", text);
	if (r != SCEP_OK) {
		snprintf(o->ev.result, sizeof(o->ev.result), "ERROR");
		snprintf(o->ev.reason, sizeof(o->ev.reason),
		    "cannot sign reply: %s", scep_strerror(r));
	}
	if (r == SCEP_OK && o->commit_rq != NULL &&
	    status == SCEP_STATUS_SUCCESS) {
		/* Request, certificate and this event in one transaction;
		 * the reply leaves only once it is durable. */
		if (o->ev.ts == 0)
			o->ev.ts = (int64_t)time(NULL);
		t0 = metrics_now();
		o->commit_r = store_enroll_commit(o->s->store, o->commit_rq,
		    o->commit_cert, &o->ev);
		metrics_observe(METRIC_H_STORE, metrics_now() - t0);
		if (o->commit_r != SCEP_OK) {
			OPENSSL_free(res->body);
			res->body = NULL;
			res->body_len = 0;
			o->ev.ts = 0;
			return o->commit_r;	/* enroll answers */
		}
	} else
		(void)svc_event(o->s, &o->ev);
	metrics_inc_enroll(o->ep->uri_ext, o->ev.action, o->ev.result,
	    o->ev.failinfo);
	log_info("request_id=%s endpoint=%s op=PKIOperation msgtype=%s "
	    "transid=\"%s\" result=%s failinfo=%s reason=\"%s\" serial=%s "
	    "cipher=%s digest=%s client=%s", o->request_id, o->ep->uri_ext,
	    o->ev.action, o->msg->transid, o->ev.result,
	    status == SCEP_STATUS_FAILURE ? scep_failinfo_name(failinfo) : "-",
	    o->ev.reason, o->ev.serial[0] ? o->ev.serial : "-",
	    o->cipher_nid != NID_undef ? OBJ_nid2sn(o->cipher_nid) : "-",
	    OBJ_nid2sn(o->msg->md_nid != NID_undef ? o->msg->md_nid : NID_sha256),
	    o->client_addr);
	if (r != SCEP_OK) {
		res->http_status = 500;
		res->error = "cannot sign reply";
		return r;
	}
	res->http_status = 200;
	res->content_type = "application/x-pki-message";
	return SCEP_OK;
}

/*
 * Sign and encode a CertRep, record the outcome, fill res.  "payload" is
 * the certs-only DER for SUCCESS.
 */
static int
reply(struct op *o, int status, int failinfo, const char *text,
    const uint8_t *payload, size_t payload_len, struct svc_result *res)
{
	struct scep_reply rp;
	double t0;
	int r;

	if ((r = reply_init(o, status, failinfo, text, &rp)) != SCEP_OK)
		return r;
	rp.payload = payload;
	rp.payload_len = payload_len;
	t0 = metrics_now();
	r = keyops_sign_certrep(o->s->keys, o->sign_ra, o->ep->ca_id, &rp,
	    NULL, &res->body, &res->body_len);
	metrics_observe(METRIC_H_CRYPTO, metrics_now() - t0);
	return reply_finish(o, status, failinfo, text, r, res);
}

static int
fail(struct op *o, int failinfo, const char *text, struct svc_result *res)
{
	return reply(o, SCEP_STATUS_FAILURE, failinfo, text, NULL, 0, res);
}

/* SUCCESS with a degenerate bag: "cert" first (spec 9.2), then the
 * issuing CA when "chain" is set. */
static int
reply_cert(struct op *o, X509 *cert, int chain, struct svc_result *res)
{
	STACK_OF(X509) *bag = NULL;
	uint8_t *p7 = NULL;
	size_t p7len = 0;
	int r;

	if ((bag = sk_X509_new_null()) == NULL || !sk_X509_push(bag, cert) ||
	    (chain && !sk_X509_push(bag, keyops_ca_cert(o->s->keys,
	    o->ep->ca_id)))) {
		sk_X509_free(bag);
		return SCEP_E_NOMEM;
	}
	r = scep_certs_only(bag, NULL, &p7, &p7len);
	sk_X509_free(bag);
	if (r != SCEP_OK)
		return r;
	r = reply(o, SCEP_STATUS_SUCCESS, 0, NULL, p7, p7len, res);
	OPENSSL_free(p7);
	return r;
}

/* Decrypt the envelope with every identity of the endpoint's CA (the
 * ids come from the cached key set: no store read). */
static int
open_envelope(struct op *o, uint8_t **inner, size_t *inner_len)
{
	const int64_t *ids;
	size_t nids;
	double t0;
	int r;

	if (o->msg->content == NULL)
		return SCEP_E_MALFORMED;
	ids = svc_ep_ids(o->keyset, &nids);
	t0 = metrics_now();
	r = keyops_decrypt(o->s->keys, ids, nids, o->ep->ca_id,
	    o->msg->content, o->msg->content_len, endpoint_algs(o->ep),
	    inner, inner_len, &o->cipher_nid);
	metrics_observe(METRIC_H_CRYPTO, metrics_now() - t0);
	return r;
}

static void
serial_hex(const ASN1_INTEGER *ai, char *buf, size_t bufsz)
{
	BIGNUM *bn;

	buf[0] = '\0';
	if ((bn = ASN1_INTEGER_to_BN(ai, NULL)) == NULL)
		return;
	svc_serial_hex(bn, buf, bufsz);
	BN_free(bn);
}

/*
 * Is "signer" a certificate issued by this endpoint's CA?  (Then the
 * request is a renewal, whatever its messageType says: sscep, certmonger
 * and Cisco renew with a PKCSReq signed by the old certificate, spec 13.)
 */
static int
issued_by_us(struct op *o, X509 *signer)
{
	X509 *ca = keyops_ca_cert(o->s->keys, o->ep->ca_id);

	if (ca == NULL || X509_check_issued(ca, signer) != X509_V_OK)
		return 0;
	return X509_verify(signer, X509_get0_pubkey(ca)) == 1;
}

static int
load_cert(const uint8_t *der, size_t len, X509 **out)
{
	const unsigned char *p = der;

	*out = d2i_X509(NULL, &p, (long)len);
	return *out != NULL ? SCEP_OK : SCEP_E_MALFORMED;
}

/*
 * A request recorded as PENDING on an endpoint that issues automatically
 * was interrupted (a crash between recording and issuing, or a store error
 * at commit): issue it now, for the re-send or poll that asks about it.
 */
static int
resume_issue(struct op *o, const struct store_request *prev,
    struct svc_result *res)
{
	struct store_request rq;
	struct store_account acct;
	struct scep_csr *csr = NULL;
	X509 *cert = NULL;
	int r, rc;

	/* Intune (spec 2): the one-time challenge was validated for the
	 * first attempt, and a certificate may only go out announced by a
	 * successNotification with the exact CSR, which the store does not
	 * keep (it holds no challenge).  So an interrupted Intune request is
	 * never issued later; the device enrolls again with a new one. */
	if (svc_intune_is_intune(o->ep)) {
		(void)store_request_transition(o->s->store, prev->id,
		    REQ_PENDING, REQ_REJECTED, NULL,
		    "interrupted Intune request", (int64_t)time(NULL));
		snprintf(o->ev.reason, sizeof(o->ev.reason), "interrupted "
		    "Intune request %lld not issued", (long long)prev->id);
		return fail(o, SCEP_FAIL_BADREQUEST, "interrupted Intune "
		    "request: enroll again with a new challenge", res);
	}
	rq = *prev;		/* shallow: svc_issue frees nothing of it */
	memset(&acct, 0, sizeof(acct));
	if (scep_csr_decode_stored(prev->csr_der, prev->csr_len, &csr) !=
	    SCEP_OK)
		return fail(o, SCEP_FAIL_BADREQUEST,
		    "stored request is unreadable", res);
	if (prev->account_id > 0)
		(void)store_account_get(o->s->store, prev->account_id, &acct);
	r = svc_issue(o->s, o->ep, &rq, csr, prev->account_id, acct.org_id,
	    acct.dept_id, &cert);
	scep_csr_free(csr);
	if (r != SCEP_OK)
		return fail(o, SCEP_FAIL_BADREQUEST,
		    "certificate could not be issued", res);
	snprintf(o->ev.serial, sizeof(o->ev.serial), "%s", rq.serial);
	snprintf(o->ev.reason, sizeof(o->ev.reason), "issued for an "
	    "interrupted request (request %lld)", (long long)prev->id);
	rc = reply_cert(o, cert, 1, res);
	X509_free(cert);
	return rc;
}

/*
 * An earlier request with this transactionID (spec 10): the same key and
 * signer is a re-send and gets the same answer; another key while the
 * transaction is live is refused.  Returns 1 when it answered.
 */
static int
resend(struct op *o, const struct store_request *prev,
    const uint8_t fp[STORE_HASH_LEN], struct svc_result *res, int *rc)
{
	struct store_cert c;
	X509 *cert = NULL;
	uint8_t *sder = NULL;
	size_t slen = 0;
	int same_signer;

	if (memcmp(prev->key_fp, fp, STORE_HASH_LEN) != 0) {
		if (prev->status == REQ_PENDING || time(NULL) - prev->updated_at
		    < SVC_RESEND_WINDOW) {
			*rc = fail(o, SCEP_FAIL_BADREQUEST,
			    "transactionID already used with a different key",
			    res);
			return 1;
		}
		return 0;
	}
	if (der_of(o->msg->signer, &sder, &slen) != SCEP_OK)
		return 0;
	same_signer = slen == prev->signer_len &&
	    memcmp(sder, prev->signer_der, slen) == 0;
	OPENSSL_free(sder);
	if (!same_signer)
		return 0;
	switch (prev->status) {
	case REQ_PENDING:
		/* Intune endpoints never wait for approval (resume_issue
		 * refuses their interrupted requests). */
		if (!o->ep->manual_approval || svc_intune_is_intune(o->ep)) {
			*rc = resume_issue(o, prev, res);
			return 1;
		}
		snprintf(o->ev.reason, sizeof(o->ev.reason),
		    "re-sent request still pending (request %lld)",
		    (long long)prev->id);
		*rc = reply(o, SCEP_STATUS_PENDING, 0, NULL, NULL, 0, res);
		return 1;
	case REQ_ISSUED:
		memset(&c, 0, sizeof(c));
		if (store_cert_get(o->s->store, prev->serial, &c) != SCEP_OK ||
		    load_cert(c.der, c.der_len, &cert) != SCEP_OK) {
			store_cert_clear(&c);
			return 0;
		}
		store_cert_clear(&c);
		snprintf(o->ev.serial, sizeof(o->ev.serial), "%s",
		    prev->serial);
		snprintf(o->ev.reason, sizeof(o->ev.reason),
		    "re-sent request: same certificate returned");
		*rc = reply_cert(o, cert, 1, res);
		X509_free(cert);
		return 1;
	case REQ_REJECTED:
		*rc = fail(o, SCEP_FAIL_BADREQUEST, prev->reason[0] ?
		    prev->reason : "request was rejected", res);
		return 1;
	default:
		return 0;
	}
}

/*
 * The account's subject/SAN constraints (issue 3, svc_policy_names).
 * Returns NULL when the request passes, else the reason.
 */
static const char *
name_rules(struct op *o, int64_t account_id, const struct scep_csr *csr)
{
	struct store_account_rules rules;

	memset(&rules, 0, sizeof(rules));
	if (account_id == 0 || store_account_rules_get(o->s->store,
	    account_id, &rules) != SCEP_OK)
		return NULL;	/* no rules row: no constraints */
	return svc_policy_names(&rules, csr);
}

/*
 * A source that keeps guessing challenges is locked out before any lookup
 * or Intune call (issue 8): cheap, and it cannot slow others.  Returns 1
 * when it answered (FAILURE) into *rc.
 */
static int
locked_out(struct op *o, time_t now, struct svc_result *res, int *rc)
{
	char msg[128];
	long wait;

	if ((wait = svc_limit_check(o->s->limit, o->client_addr, o->ep->id,
	    now)) <= 0)
		return 0;
	snprintf(msg, sizeof(msg), "too many failed challenge attempts from "
	    "this address; retry in %ld s", wait);
	*rc = fail(o, SCEP_FAIL_BADREQUEST, msg, res);
	return 1;
}

/*
 * Intune endpoints (issue 5, intune-scep.md section 2).  The enrollment
 * below calls these three at fixed points; each records what Intune said
 * in the audit record's details (o->ev.details, "intune" key).
 */
static void
intune_details(struct op *o, const struct svc_intune_outcome *io)
{
	char buf[SVC_INTUNE_DETAILS_MAX];
	size_t n = strlen(o->ev.details);

	if (svc_intune_details(io, buf, sizeof(buf)) <= 2 || n < 2 ||
	    o->ev.details[n - 1] != '}')
		return;
	if (n + strlen(buf) + 12 > sizeof(o->ev.details))
		return;		/* never a cut JSON */
	snprintf(o->ev.details + n - 1, sizeof(o->ev.details) - n + 1,
	    ",\"intune\":%s}", buf);
}

/*
 * Instead of the challenge lookup and the renewal-signer checks: Intune
 * validates the exact CSR ("inner") with the transactionID.  A renewal is
 * a new request with a new challenge (spec 2 step 2), so a signer issued
 * by this CA may sign for another key; a self-signed one must hold the
 * CSR's key.  The failed-challenge limiter of plain endpoints applies
 * (issue 8): a locked-out source is answered without a call; Intune's
 * refusals count, its outages do not.  Returns 1 when it answered
 * (FAILURE) into *rc.
 */
static int
intune_gate(struct op *o, const struct scep_csr *csr, const uint8_t *inner,
    size_t inner_len, time_t now, struct svc_intune_outcome *io,
    struct svc_result *res, int *rc)
{
	struct svc_intune *si = o->s->intune;
	time_t then;
	int nfail, r;

	memset(io, 0, sizeof(*io));
	if (!issued_by_us(o, o->msg->signer) &&
	    EVP_PKEY_eq(X509_get0_pubkey(o->msg->signer), csr->pubkey) != 1) {
		*rc = fail(o, SCEP_FAIL_BADREQUEST,
		    "signer key differs from the requested key", res);
		return 1;
	}
	if (si == NULL) {
		*rc = fail(o, SCEP_FAIL_BADREQUEST,
		    "Intune is not configured on this server", res);
		return 1;
	}
	/* Challenge guessing (issue 8): the same limiter as plain
	 * endpoints, so a locked-out source costs no call to Microsoft. */
	if (locked_out(o, now, res, rc))
		return 1;
	(void)svc_intune_sync(si, NULL, 0);	/* admin changes, cheaply */
	r = svc_intune_check(si, o->ep, o->msg->transid, inner, inner_len, io);
	then = time(NULL);	/* Microsoft may have taken a while */
	if (r != SCEP_OK) {
		/* Only a refused challenge counts: never an outage of
		 * Microsoft's (that would lock devices out). */
		if (io->refused && (nfail = svc_limit_record(o->s->limit,
		    o->client_addr, o->ep->id, 0, then)) > SVC_LIMIT_FREE_FAILS)
			snprintf(o->ev.reason, sizeof(o->ev.reason), "%s (%d "
			    "failures from this address; now locked out)",
			    io->failtext, nfail);
		intune_details(o, io);
		*rc = fail(o, io->failinfo > 0 ? io->failinfo :
		    SCEP_FAIL_BADREQUEST, io->failtext[0] ? io->failtext :
		    "Intune validation failed", res);
		return 1;
	}
	(void)svc_limit_record(o->s->limit, o->client_addr, o->ep->id, 1,
	    then);
	return 0;
}

/*
 * After svc_issue: "cert" NULL when issuance failed with "err"
 * (failureNotification, spec 2 step 7); else successNotification before
 * the SUCCESS (step 6): when it fails, the certificate is revoked, the
 * request marked rejected (a re-send must not fetch it) and the answer is
 * FAILURE.  Returns 1 when it answered (FAILURE) into *rc.
 */
static int
intune_after(struct op *o, const struct store_request *rq, const uint8_t *inner,
    size_t inner_len, X509 *cert, int err, struct svc_intune_outcome *io,
    struct svc_result *res, int *rc)
{
	struct svc_intune *si = o->s->intune;
	struct svc_intune_outcome n;
	const char *why = "certificate could not be issued";

	memset(&n, 0, sizeof(n));
	if (cert == NULL) {
		(void)svc_intune_after_failure(si, o->ep, o->msg->transid,
		    inner, inner_len, err, SCEP_FAIL_BADREQUEST, why, &n);
		io->notify = n.notify;
		intune_details(o, io);
		*rc = fail(o, SCEP_FAIL_BADREQUEST, why, res);
		return 1;
	}
	if (svc_intune_after_issue(si, o->ep, o->msg->transid, inner,
	    inner_len, cert, &n) == SCEP_OK) {
		io->notify = n.notify;
		io->background = n.background;
		intune_details(o, io);
		return 0;
	}
	io->notify = n.notify;
	intune_details(o, io);
	(void)svc_cert_revoke(o->s, o->ev.serial, 5, "intune");
	(void)store_request_transition(o->s->store, rq->id, REQ_ISSUED,
	    REQ_REJECTED, NULL, n.failtext, (int64_t)time(NULL));
	snprintf(o->ev.reason, sizeof(o->ev.reason), "%s; certificate %s "
	    "revoked", n.failtext, o->ev.serial);
	*rc = fail(o, n.failinfo > 0 ? n.failinfo : SCEP_FAIL_BADREQUEST,
	    n.failtext[0] ? n.failtext : "Intune success notification failed",
	    res);
	return 1;
}

/*
 * Issue the certificate for a new request on an automatic endpoint and
 * answer (issue 7): keyops builds the certificate and signs the reply
 * in one operation (keyops_issue_reply: one key-process round trip, the
 * certificate stays DER here), then request, certificate and audit
 * event are committed in one transaction (store_enroll_commit,
 * group-committed with concurrent enrollments), and only then is the
 * reply handed back; a failed commit drops it.  A crash at any point
 * before that commit leaves nothing behind, and the client's re-send
 * starts afresh.  SCEP_E_EXISTS from the commit is either a
 * concurrent copy of this request that committed first (answered as a
 * re-send, spec 10) or a taken serial (issued again).
 */
static int
issue_commit(struct op *o, struct store_request *rq,
    const struct scep_csr *csr, int64_t account_id, int64_t org_id,
    int64_t dept_id, const uint8_t sfp[STORE_HASH_LEN],
    const uint8_t fp[STORE_HASH_LEN], struct svc_result *res)
{
	struct store_request prev;
	struct store_cert sc;
	struct scep_reply rp;
	double t0;
	int tries, r = SCEP_E_INTERNAL, rc = SCEP_E_INTERNAL;

	memset(&sc, 0, sizeof(sc));
	for (tries = 0; tries < SVC_ISSUE_TRIES; tries++) {
		OPENSSL_free(sc.der);
		sc.der = NULL;
		/* Certificate and signed reply in one keyops call: one key
		 * process round trip, no certificate decoded (issue 7). */
		if ((r = reply_init(o, SCEP_STATUS_SUCCESS, 0, NULL, &rp)) !=
		    SCEP_OK)
			break;
		t0 = metrics_now();
		r = svc_issue_reply(o->s, o->ep, rq, csr, account_id, org_id,
		    dept_id, o->sign_ra, &rp, &sc, &res->body, &res->body_len);
		metrics_observe(METRIC_H_CRYPTO, metrics_now() - t0);
		if (r != SCEP_OK)
			break;
		snprintf(o->ev.serial, sizeof(o->ev.serial), "%s", sc.serial);
		o->commit_rq = rq;
		o->commit_cert = &sc;
		o->commit_r = SCEP_OK;
		rc = reply_finish(o, SCEP_STATUS_SUCCESS, 0, NULL, SCEP_OK,
		    res);
		o->commit_rq = NULL;
		o->commit_cert = NULL;
		if (o->commit_r == SCEP_OK) {
			/* Committed, or the reply could not be signed (then
			 * nothing was committed and reply() answered). */
			if (rc == SCEP_OK) {
				svc_replay_record(o->s->replay, sfp,
				    o->msg->sender_nonce,
				    o->msg->sender_nonce_len, time(NULL));
				metrics_inc_issued(o->ep->uri_ext);
			}
			goto out;
		}
		o->ev.serial[0] = '\0';
		if ((r = o->commit_r) != SCEP_E_EXISTS)
			break;
		memset(&prev, 0, sizeof(prev));
		if (store_request_find(o->s->store, o->ep->id, o->msg->transid,
		    &prev) == SCEP_OK) {
			if (!resend(o, &prev, fp, res, &rc))
				rc = fail(o, SCEP_FAIL_BADREQUEST, "the same "
				    "request is being processed; retry", res);
			store_request_clear(&prev);
			goto out;
		}
		store_request_clear(&prev);
	}
	log_error("msg=\"issuance failed\" transid=\"%s\" err=\"%s\"",
	    o->msg->transid, scep_strerror(r));
	rc = fail(o, SCEP_FAIL_BADREQUEST, r == SCEP_E_DENIED ?
	    "account has used all its enrollments" :
	    r == SCEP_E_STORE || r == SCEP_E_BUSY ? "store unavailable" :
	    "certificate could not be issued", res);
 out:
	OPENSSL_free(sc.der);
	return rc;
}

/* PKCSReq / RenewalReq (spec 12, 13). */
static int
enroll(struct op *o, struct svc_result *res)
{
	struct store_account acct;
	struct store_request rq, prev;
	struct store_cert old;
	struct svc_intune_outcome io;
	struct scep_csr *csr = NULL;
	X509 *cert = NULL;
	uint8_t *inner = NULL, fp[STORE_HASH_LEN], hash[STORE_HASH_LEN];
	uint8_t sfp[STORE_HASH_LEN];
	size_t inner_len = 0;
	const char *why;
	char serial[STORE_SERIAL_MAX] = "";
	int64_t account_id = 0, org_id = 0, dept_id = 0, otc_id = 0;
	int renewal, intune = svc_intune_is_intune(o->ep), r, rc = SCEP_OK;
	double t0;
	time_t now = time(NULL);

	memset(&acct, 0, sizeof(acct));
	memset(&rq, 0, sizeof(rq));
	memset(&prev, 0, sizeof(prev));
	memset(&old, 0, sizeof(old));

	if ((r = open_envelope(o, &inner, &inner_len)) != SCEP_OK) {
		snprintf(o->ev.reason, sizeof(o->ev.reason), "envelope: %s",
		    scep_strerror(r));
		rc = fail(o, scep_err_failinfo(r), r == SCEP_E_BADALG ?
		    "content encryption algorithm not accepted" :
		    "cannot decrypt the request envelope", res);
		goto out;
	}
	if ((r = scep_csr_decode(inner, inner_len, &csr)) != SCEP_OK) {
		rc = fail(o, r == SCEP_E_BADSIG ? SCEP_FAIL_BADMSGCHECK :
		    SCEP_FAIL_BADREQUEST, r == SCEP_E_BADSIG ?
		    "PKCS#10 signature does not verify" :
		    r == SCEP_E_BADKEY ? "key type or size not accepted" :
		    "malformed PKCS#10 request", res);
		goto out;
	}
	if ((why = svc_policy_key(&o->ep->profile, csr)) != NULL) {
		rc = fail(o, SCEP_FAIL_BADREQUEST, why, res);
		goto out;
	}
	/* The reply is encrypted to the signer: it must be able to take key
	 * transport (spec 6.4, 9.2: pwri is not implemented). */
	if (EVP_PKEY_get_base_id(X509_get0_pubkey(o->msg->signer)) !=
	    EVP_PKEY_RSA) {
		rc = fail(o, SCEP_FAIL_BADALG,
		    "signer key cannot receive an encrypted reply (RSA needed)",
		    res);
		goto out;
	}
	if (scep_spki_fingerprint(csr->spki, fp) !=
	    SCEP_OK) {
		rc = SCEP_E_INTERNAL;
		goto out;
	}

	renewal = o->msg->type == SCEP_MSG_RENEWALREQ ||
	    issued_by_us(o, o->msg->signer);

	/* Re-sent request (same transactionID): same answer. */
	r = store_request_find(o->s->store, o->ep->id, o->msg->transid, &prev);
	if (r == SCEP_OK && resend(o, &prev, fp, res, &rc))
		goto out;
	if (r != SCEP_OK && r != SCEP_E_NOTFOUND) {
		rc = fail(o, SCEP_FAIL_BADREQUEST, "store unavailable", res);
		goto out;
	}
	/* spec 11: the same signer key and senderNonce again, under another
	 * transactionID, is a replay. */
	if (scep_spki_fingerprint(X509_get_X509_PUBKEY(o->msg->signer), sfp) !=
	    SCEP_OK) {
		rc = SCEP_E_INTERNAL;
		goto out;
	}
	if (svc_replay_seen(o->s->replay, sfp, o->msg->sender_nonce,
	    o->msg->sender_nonce_len, now)) {
		rc = fail(o, SCEP_FAIL_BADREQUEST,
		    "replayed request (senderNonce seen before)", res);
		goto out;
	}

	if (intune) {
		/* Issue 5: Intune validates; no account, the endpoint's
		 * organization and department. */
		snprintf(o->ev.details, sizeof(o->ev.details),
		    "{\"request_id\":\"%s\"}", o->request_id);
		if (intune_gate(o, csr, inner, inner_len, now, &io, res, &rc))
			goto out;
		renewal = 0;
		org_id = o->ep->org_id;
		dept_id = o->ep->dept_id;
	} else if (renewal) {
		/* spec 13: the signer must be a live certificate of ours. */
		if (!o->ep->profile.renewal) {
			rc = fail(o, SCEP_FAIL_BADREQUEST,
			    "renewal is disabled on this endpoint", res);
			goto out;
		}
		if (!issued_by_us(o, o->msg->signer)) {
			rc = fail(o, SCEP_FAIL_BADCERTID,
			    "renewal signer was not issued by this CA", res);
			goto out;
		}
		serial_hex(X509_get0_serialNumber(o->msg->signer), serial,
		    sizeof(serial));
		if (store_cert_get(o->s->store, serial, &old) != SCEP_OK ||
		    old.endpoint_id != o->ep->id) {
			rc = fail(o, SCEP_FAIL_BADCERTID,
			    "renewal signer is not a certificate of this "
			    "endpoint", res);
			goto out;
		}
		if (old.status != CERT_VALID) {
			rc = fail(o, SCEP_FAIL_BADCERTID,
			    "renewal signer certificate is revoked", res);
			goto out;
		}
		if (now < old.not_before || now >= old.not_after) {
			rc = fail(o, SCEP_FAIL_BADCERTID,
			    "renewal signer certificate is expired", res);
			goto out;
		}
		if (o->ep->profile.renewal_window_days > 0 &&
		    old.not_after - now >
		    (int64_t)o->ep->profile.renewal_window_days * 86400) {
			rc = fail(o, SCEP_FAIL_BADREQUEST,
			    "outside the renewal window", res);
			goto out;
		}
		if (X509_NAME_cmp(csr->subject,
		    X509_get_subject_name(o->msg->signer)) != 0) {
			rc = fail(o, SCEP_FAIL_BADREQUEST,
			    "renewal must keep the subject", res);
			goto out;
		}
		account_id = old.account_id;
		org_id = old.org_id;
		dept_id = old.dept_id;
		if (account_id > 0) {
			if (store_account_get(o->s->store, account_id,
			    &acct) != SCEP_OK || !acct.enabled ||
			    (acct.expires_at != 0 && now >= acct.expires_at)) {
				rc = fail(o, SCEP_FAIL_BADREQUEST,
				    "account disabled or expired", res);
				goto out;
			}
		}
	} else {
		/* spec 12.1: a self-signed signer must hold the CSR key. */
		if (EVP_PKEY_eq(X509_get0_pubkey(o->msg->signer),
		    csr->pubkey) != 1) {
			rc = fail(o, SCEP_FAIL_BADREQUEST,
			    "signer key differs from the requested key", res);
			goto out;
		}
		if (locked_out(o, now, res, &rc))
			goto out;
		if (csr->challenge == NULL || csr->challenge_len == 0) {
			(void)svc_limit_record(o->s->limit, o->client_addr,
			    o->ep->id, 0, now);
			rc = fail(o, SCEP_FAIL_BADREQUEST,
			    "challenge password missing", res);
			goto out;
		}
		svc_challenge_hash(&o->s->cfg, csr->challenge,
		    csr->challenge_len, hash);
		r = store_account_by_challenge(o->s->store, hash, &acct);
		if (r == SCEP_E_NOTFOUND) {
			/* A one-time challenge minted for an account (MDMs
			 * that fetch one per device, spec 12.3 mode 2). */
			struct store_otc otc;

			memset(&otc, 0, sizeof(otc));
			r = store_otc_find(o->s->store, hash, (int64_t)now,
			    &otc);
			if (r == SCEP_OK) {
				otc_id = otc.id;
				r = store_account_get(o->s->store,
				    otc.account_id, &acct);
			}
		}
		if (r != SCEP_OK || acct.endpoint_id != o->ep->id) {
			int nfail = 0;

			if (r == SCEP_OK || r == SCEP_E_NOTFOUND)
				nfail = svc_limit_record(o->s->limit,
				    o->client_addr, o->ep->id, 0, now);
			if (nfail > SVC_LIMIT_FREE_FAILS)
				snprintf(o->ev.reason, sizeof(o->ev.reason),
				    "wrong challenge password (%d failures "
				    "from this address; now locked out)",
				    nfail);
			rc = fail(o, SCEP_FAIL_BADREQUEST,
			    r == SCEP_OK || r == SCEP_E_NOTFOUND ?
			    "wrong challenge password" : "store unavailable",
			    res);
			goto out;
		}
		(void)svc_limit_record(o->s->limit, o->client_addr, o->ep->id,
		    1, now);
		o->ev.account_id = acct.id;
		if (!acct.enabled) {
			rc = fail(o, SCEP_FAIL_BADREQUEST, "account disabled",
			    res);
			goto out;
		}
		if (acct.expires_at != 0 && now >= acct.expires_at) {
			rc = fail(o, SCEP_FAIL_BADREQUEST, "account expired",
			    res);
			goto out;
		}
		if (acct.max_enrollments > 0 &&
		    acct.enrollments >= acct.max_enrollments) {
			rc = fail(o, SCEP_FAIL_BADREQUEST,
			    "account has used all its enrollments", res);
			goto out;
		}
		account_id = acct.id;
		org_id = acct.org_id;
		dept_id = acct.dept_id;
	}
	o->ev.account_id = account_id;
	snprintf(o->ev.details, sizeof(o->ev.details),
	    "{\"request_id\":\"%s\",\"org_id\":%lld,\"dept_id\":%lld%s%s%s"
	    "%s}", o->request_id, (long long)org_id, (long long)dept_id,
	    renewal ? ",\"renewal_of\":\"" : "", renewal ? serial : "",
	    renewal ? "\"" : "", otc_id ? ",\"one_time_challenge\":true" : "");
	if (intune)
		intune_details(o, &io);
	if ((why = name_rules(o, account_id, csr)) != NULL) {
		rc = fail(o, SCEP_FAIL_BADREQUEST, why, res);
		goto out;
	}
	/* A one-time challenge is used up now, atomically: of two racing
	 * requests (even on two nodes) exactly one gets past here. */
	if (otc_id != 0 && store_otc_consume(o->s->store, otc_id,
	    (int64_t)now) != SCEP_OK) {
		rc = fail(o, SCEP_FAIL_BADREQUEST,
		    "one-time challenge already used", res);
		goto out;
	}

	/* The transaction's record: with manual approval or on Intune
	 * endpoints it is stored now, PENDING; otherwise together with its
	 * certificate and audit event, in one transaction, once the reply
	 * is signed (issue_commit). */
	rq.endpoint_id = o->ep->id;
	rq.account_id = account_id;
	snprintf(rq.transid, sizeof(rq.transid), "%s", o->msg->transid);
	memcpy(rq.key_fp, fp, sizeof(fp));
	rq.msgtype = o->msg->type;
	rq.status = REQ_PENDING;
	/* Stored without its challengePassword: the challenge is a secret
	 * kept only as an HMAC (SECURITY.md).  The proof of possession was
	 * checked above; the stored form is read with
	 * scep_csr_decode_stored. */
	if ((r = scep_csr_stored(csr, &rq.csr_der, &rq.csr_len)) !=
	    SCEP_OK) {
		rc = r;
		goto out;
	}
	if ((r = der_of(o->msg->signer, &rq.signer_der, &rq.signer_len)) !=
	    SCEP_OK) {
		OPENSSL_free(rq.csr_der);
		rq.csr_der = NULL;
		rc = r;
		goto out;
	}
	rq.created_at = rq.updated_at = now;
	/* Intune endpoints keep the two steps: the successNotification
	 * comes between the commit and the reply (intune_after), and a
	 * refusal revokes a recorded certificate. */
	if (!o->ep->manual_approval && !intune) {
		rc = issue_commit(o, &rq, csr, account_id, org_id, dept_id, sfp,
		    fp, res);
		OPENSSL_free(rq.csr_der);	/* ours, not the store's */
		rq.csr_der = NULL;
		OPENSSL_free(rq.signer_der);	/* ours, not the store's */
		rq.signer_der = NULL;
		goto out;
	}
	t0 = metrics_now();
	r = store_request_insert(o->s->store, &rq);
	metrics_observe(METRIC_H_STORE, metrics_now() - t0);
	OPENSSL_free(rq.csr_der);	/* ours, not the store's */
	rq.csr_der = NULL;
	OPENSSL_free(rq.signer_der);	/* ours, not the store's */
	rq.signer_der = NULL;
	if (r == SCEP_OK)
		svc_replay_record(o->s->replay, sfp, o->msg->sender_nonce,
		    o->msg->sender_nonce_len, now);
	if (r == SCEP_E_EXISTS) {
		/* The same request reached another node (or thread) first:
		 * answer as for a re-send (spec 10). */
		store_request_clear(&prev);
		memset(&prev, 0, sizeof(prev));
		if (store_request_find(o->s->store, o->ep->id, o->msg->transid,
		    &prev) == SCEP_OK && resend(o, &prev, fp, res, &rc))
			goto out;
		rc = fail(o, SCEP_FAIL_BADREQUEST,
		    "the same request is being processed; retry", res);
		goto out;
	}
	if (r != SCEP_OK) {
		rc = fail(o, SCEP_FAIL_BADREQUEST, "store unavailable", res);
		goto out;
	}

	if (o->ep->manual_approval && !intune) {	/* never PENDING: Intune */
		snprintf(o->ev.reason, sizeof(o->ev.reason),
		    "waiting for approval (request %lld)", (long long)rq.id);
		rc = reply(o, SCEP_STATUS_PENDING, 0, NULL, NULL, 0, res);
		goto out;
	}
	if ((r = svc_issue(o->s, o->ep, &rq, csr, account_id, org_id, dept_id,
	    &cert)) != SCEP_OK) {
		if (intune && intune_after(o, &rq, inner, inner_len, NULL, r,
		    &io, res, &rc))
			goto out;
		rc = fail(o, SCEP_FAIL_BADREQUEST, r == SCEP_E_DENIED ?
		    "account has used all its enrollments" :
		    "certificate could not be issued", res);
		goto out;
	}
	serial_hex(X509_get0_serialNumber(cert), o->ev.serial,
	    sizeof(o->ev.serial));
	if (intune && intune_after(o, &rq, inner, inner_len, cert, SCEP_OK,
	    &io, res, &rc))
		goto out;
	rc = reply_cert(o, cert, 1, res);
 out:
	X509_free(cert);
	scep_csr_free(csr);
	OPENSSL_free(inner);
	store_request_clear(&rq);
	store_request_clear(&prev);
	store_cert_clear(&old);
	return rc;
}

/* CertPoll (spec 14): by (endpoint, transactionID), signed by the same
 * key as the original request. */
static int
certpoll(struct op *o, struct svc_result *res)
{
	struct store_request rq;
	struct store_cert c;
	X509 *orig = NULL, *cert = NULL;
	uint8_t a[STORE_HASH_LEN], b[STORE_HASH_LEN];
	int r, rc;

	memset(&rq, 0, sizeof(rq));
	memset(&c, 0, sizeof(c));
	r = store_request_find(o->s->store, o->ep->id, o->msg->transid, &rq);
	if (r != SCEP_OK) {
		rc = fail(o, SCEP_FAIL_BADREQUEST, r == SCEP_E_NOTFOUND ?
		    "no request with this transactionID" : "store unavailable",
		    res);
		goto out;
	}
	o->ev.account_id = rq.account_id;
	if (load_cert(rq.signer_der, rq.signer_len, &orig) != SCEP_OK ||
	    scep_spki_fingerprint(X509_get_X509_PUBKEY(orig), a) != SCEP_OK ||
	    scep_spki_fingerprint(X509_get_X509_PUBKEY(o->msg->signer), b) !=
	    SCEP_OK ||
	    memcmp(a, b, sizeof(a)) != 0) {
		rc = fail(o, SCEP_FAIL_BADREQUEST,
		    "poll not signed by the requester's key", res);
		goto out;
	}
	switch (rq.status) {
	case REQ_PENDING:
		if (!o->ep->manual_approval || svc_intune_is_intune(o->ep)) {
			rc = resume_issue(o, &rq, res);
			break;
		}
		snprintf(o->ev.reason, sizeof(o->ev.reason),
		    "still waiting for approval (request %lld)",
		    (long long)rq.id);
		rc = reply(o, SCEP_STATUS_PENDING, 0, NULL, NULL, 0, res);
		break;
	case REQ_ISSUED:
		if (store_cert_get(o->s->store, rq.serial, &c) != SCEP_OK ||
		    load_cert(c.der, c.der_len, &cert) != SCEP_OK) {
			rc = fail(o, SCEP_FAIL_BADREQUEST,
			    "issued certificate not found", res);
			break;
		}
		snprintf(o->ev.serial, sizeof(o->ev.serial), "%s", rq.serial);
		rc = reply_cert(o, cert, 1, res);
		break;
	case REQ_REJECTED:
		rc = fail(o, SCEP_FAIL_BADREQUEST, rq.reason[0] ? rq.reason :
		    "request was rejected", res);
		break;
	default:
		rc = fail(o, SCEP_FAIL_BADREQUEST, "request failed", res);
		break;
	}
 out:
	X509_free(orig);
	X509_free(cert);
	store_cert_clear(&c);
	store_request_clear(&rq);
	return rc;
}

/* GetCert and GetCRL (spec 14): IssuerAndSerialNumber inside. */
static int
getcert_crl(struct op *o, struct svc_result *res)
{
	struct scep_ias *ias = NULL;
	struct store_cert c;
	X509 *cert = NULL;
	X509_CRL *crl = NULL;
	uint8_t *inner = NULL, *crlder = NULL, *p7 = NULL;
	const unsigned char *p;
	size_t inner_len = 0, crllen = 0, p7len = 0;
	char serial[STORE_SERIAL_MAX];
	int r, rc;

	memset(&c, 0, sizeof(c));
	if ((r = open_envelope(o, &inner, &inner_len)) != SCEP_OK) {
		rc = fail(o, scep_err_failinfo(r),
		    "cannot decrypt the request envelope", res);
		goto out;
	}
	if ((r = scep_ias_decode(inner, inner_len, o->msg->type, &ias)) !=
	    SCEP_OK) {
		rc = fail(o, SCEP_FAIL_BADREQUEST,
		    "malformed IssuerAndSerialNumber", res);
		goto out;
	}
	if (X509_NAME_cmp(ias->issuer, X509_get_subject_name(
	    keyops_ca_cert(o->s->keys, o->ep->ca_id))) != 0) {
		rc = fail(o, SCEP_FAIL_BADCERTID, "unknown issuer", res);
		goto out;
	}
	if (o->msg->type == SCEP_MSG_GETCRL) {
		if ((r = svc_crl_der(o->s, o->ep->ca_id, time(NULL), &crlder,
		    &crllen)) != SCEP_OK) {
			rc = fail(o, SCEP_FAIL_BADREQUEST, "CRL unavailable",
			    res);
			goto out;
		}
		p = crlder;
		if ((crl = d2i_X509_CRL(NULL, &p, (long)crllen)) == NULL ||
		    scep_certs_only(NULL, crl, &p7, &p7len) != SCEP_OK) {
			rc = SCEP_E_INTERNAL;
			goto out;
		}
		rc = reply(o, SCEP_STATUS_SUCCESS, 0, NULL, p7, p7len, res);
		goto out;
	}
	serial_hex(ias->serial, serial, sizeof(serial));
	if (store_cert_get(o->s->store, serial, &c) != SCEP_OK ||
	    c.ca_id != o->ep->ca_id ||
	    load_cert(c.der, c.der_len, &cert) != SCEP_OK) {
		rc = fail(o, SCEP_FAIL_BADCERTID, "no such certificate", res);
		goto out;
	}
	snprintf(o->ev.serial, sizeof(o->ev.serial), "%s", serial);
	rc = reply_cert(o, cert, o->ep->getcert_chain, res);
 out:
	OPENSSL_free(inner);
	OPENSSL_free(crlder);
	OPENSSL_free(p7);
	X509_CRL_free(crl);
	X509_free(cert);
	store_cert_clear(&c);
	scep_ias_free(ias);
	return rc;
}

int
svc_pkioperation(struct svc *s, const struct store_endpoint *ep,
    const uint8_t *der, size_t len, const char *client_addr,
    const char *request_id, struct svc_result *res)
{
	struct scep_msg *msg = NULL;
	struct op o;
	int r, rc;

	memset(res, 0, sizeof(*res));
	memset(&o, 0, sizeof(o));
	o.s = s;
	o.ep = ep;
	o.client_addr = client_addr;
	o.request_id = request_id;
	o.cipher_nid = NID_undef;
	snprintf(o.ev.kind, sizeof(o.ev.kind), "enroll");
	snprintf(o.ev.actor, sizeof(o.ev.actor), "%s", client_addr);
	snprintf(o.ev.client_addr, sizeof(o.ev.client_addr), "%s",
	    client_addr);
	o.ev.endpoint_id = ep->id;
	o.ev.failinfo = -1;

	if (ep->legacy && svc_legacy_enable(s) != SCEP_OK) {
		res->http_status = 500;
		res->error = "legacy algorithms unavailable";
		return SCEP_E_CONFIG;
	}
	/* The HTTP edge looked the endpoint up with a fresh config_version
	 * read: this hits the cache. */
	if ((r = svc_ep_get(s, ep->uri_ext, 0, &o.keyset)) != SCEP_OK) {
		/* The edge found the endpoint: its CA or keys are missing. */
		res->http_status = 503;
		res->error = "CA keys unavailable";
		return r;
	}
	o.sign_ra = svc_ep_sign_ra(o.keyset);

	r = scep_msg_decode(der, len, endpoint_algs(ep), &msg);
	if (r != SCEP_OK && msg == NULL) {
		/* Not attributable: an HTTP error (spec 2.5). */
		res->http_status = r == SCEP_E_TOOBIG ? 413 : 400;
		res->error = scep_strerror(r);
		log_info("request_id=%s endpoint=%s op=PKIOperation result=400 "
		    "reason=\"%s\" client=%s", request_id, ep->uri_ext,
		    scep_strerror(r), client_addr);
		svc_ep_put(o.keyset);
		return r;
	}
	o.msg = msg;
	snprintf(o.ev.transid, sizeof(o.ev.transid), "%s", msg->transid);
	snprintf(o.ev.action, sizeof(o.ev.action), "%s",
	    msgtype_name(msg->type));
	snprintf(o.ev.details, sizeof(o.ev.details), "{\"request_id\":\"%s\"}",
	    request_id);
	if (r != SCEP_OK) {
		/* Attributable but broken: a signed FAILURE (spec 8 step 4). */
		rc = fail(&o, scep_err_failinfo(r), scep_strerror(r), res);
		goto out;
	}
	switch (msg->type) {
	case SCEP_MSG_PKCSREQ:
	case SCEP_MSG_RENEWALREQ:
		rc = enroll(&o, res);
		break;
	case SCEP_MSG_CERTPOLL:
		rc = certpoll(&o, res);
		break;
	case SCEP_MSG_GETCERT:
	case SCEP_MSG_GETCRL:
		rc = getcert_crl(&o, res);
		break;
	default:
		/* RFC 8894 3.2.1.2: unknown types are errors. */
		rc = fail(&o, SCEP_FAIL_BADREQUEST, "unknown messageType", res);
		break;
	}
 out:
	scep_msg_free(msg);
	svc_ep_put(o.keyset);
	return rc;
}
