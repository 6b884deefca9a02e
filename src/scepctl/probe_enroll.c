/*
 * probe_enroll.c -- the test enrollment of `scepctl probe`: a fresh
 * RSA-2048 key, a PKCS#10 with the challenge (spec 12), a self-signed
 * signer, and a PKCSReq built by the protocol core (scep_request_build),
 * sent as the GetCACaps answer allows (POST, else GET).  The CertRep is
 * checked the way a careful device does (RFC 8894 3.3.2): signature,
 * signer is the RA from GetCACert, transactionID, recipientNonce, status;
 * on SUCCESS the envelope opens with our key and holds a certificate for
 * it that chains to the CA.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "probe.h"
#include "scep.h"

/* failInfo in plain words (RFC 8894 3.2.1.4) for a support desk. */
static const char *
failinfo_words(int fi)
{
	switch (fi) {
	case SCEP_FAIL_BADALG:
		return "the server does not accept an algorithm we used "
		    "(digest or cipher): compare with GetCACaps, or try "
		    "--cipher/--digest";
	case SCEP_FAIL_BADMSGCHECK:
		return "the server could not verify our signature or open our "
		    "envelope: the RA certificate may have been rotated (a "
		    "device with a cached one must fetch GetCACert again), "
		    "or the message was altered on the way";
	case SCEP_FAIL_BADREQUEST:
		return "the server refused the request itself: a wrong, "
		    "expired or already used challenge password, a subject "
		    "or key the profile does not allow, or an account "
		    "limit (failInfoText says which)";
	case SCEP_FAIL_BADTIME:
		return "the signingTime of our request is too far from the "
		    "server's clock: fix the clocks (NTP)";
	case SCEP_FAIL_BADCERTID:
		return "the server knows no certificate matching the request";
	default:
		return "an unknown failInfo value";
	}
}

static int
make_csr(EVP_PKEY *key, const char *cn, const char *challenge,
    uint8_t **out, size_t *out_len)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	unsigned char *der = NULL;
	int n, rc = -1;

	if ((req = X509_REQ_new()) == NULL || (name = X509_NAME_new()) == NULL)
		goto out;
	if (X509_REQ_set_version(req, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1)
		goto out;
	/* spec 12.2: challengePassword as a PKCS#9 attribute. */
	if (challenge != NULL && X509_REQ_add1_attr_by_NID(req,
	    NID_pkcs9_challengePassword, MBSTRING_UTF8,
	    (const unsigned char *)challenge, (int)strlen(challenge)) != 1)
		goto out;
	if (X509_REQ_sign(req, key, EVP_sha256()) <= 0 ||
	    (n = i2d_X509_REQ(req, &der)) <= 0)
		goto out;
	*out = der;
	*out_len = (size_t)n;
	rc = 0;
 out:
	X509_NAME_free(name);
	X509_REQ_free(req);
	return rc;
}

static void
choose_algs(struct probe *p, int *md, int *cipher)
{
	unsigned int c = p->caps;

	*md = p->md_nid;
	*cipher = p->cipher_nid;
	if (*md == 0)
		*md = !p->have_caps || (c & CAP_SHA256) ? NID_sha256 :
		    (c & CAP_SHA512) ? NID_sha512 : NID_sha1;
	if (*cipher == 0)
		*cipher = !p->have_caps || (c & CAP_AES) ? NID_aes_128_cbc :
		    (c & CAP_DES3) ? NID_des_ede3_cbc : NID_des_cbc;
}

/* The certificate for our key in a SUCCESS reply, and its chain. */
static void
check_issued(struct probe *p, EVP_PKEY *key, X509 *self,
    const struct scep_msg *m)
{
	struct scep_keypair kp = { key, self };
	STACK_OF(X509) *certs = NULL, *untrusted = NULL;
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *mine = NULL;
	uint8_t *inner = NULL;
	size_t ilen = 0;
	char subj[512], t1[64];
	struct tm tm;
	int i, e = SCEP_OK, cnid = 0;

	if (m->content == NULL || (e = scep_env_decrypt(m->content,
	    m->content_len, &kp, 1, SCEP_ALG_AES | SCEP_ALG_DES3 |
	    SCEP_ALG_DES, &inner, &ilen, &cnid)) != SCEP_OK) {
		probe_fail(p, "SUCCESS, but the reply envelope does not open "
		    "with our key: %s", m->content == NULL ? "no content" :
		    scep_strerror(e));
		goto out;
	}
	if ((e = scep_certs_only_decode(inner, ilen, &certs, NULL)) !=
	    SCEP_OK) {
		probe_fail(p, "SUCCESS, but the reply holds no certificates: "
		    "%s", scep_strerror(e));
		goto out;
	}
	for (i = 0; i < sk_X509_num(certs) && mine == NULL; i++)
		if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(certs, i)),
		    key) == 1)
			mine = sk_X509_value(certs, i);
	if (mine == NULL) {
		probe_fail(p, "SUCCESS, but none of the %d certificates is "
		    "for our key", sk_X509_num(certs));
		goto out;
	}
	/* Only the CA is trusted: pinned by --ca-fingerprint, or taken on
	 * first use from GetCACert. */
	if ((st = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(st, p->ca) != 1 ||
	    (untrusted = sk_X509_dup(certs)) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL) {
		probe_fail(p, "out of memory");
		goto out;
	}
	for (i = 0; i < sk_X509_num(p->bag); i++)
		(void)sk_X509_push(untrusted, sk_X509_value(p->bag, i));
	if (X509_STORE_CTX_init(ctx, st, mine, untrusted) != 1 ||
	    X509_verify_cert(ctx) != 1) {
		probe_fail(p, "the issued certificate does not chain to the CA "
		    "of GetCACert: %s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	X509_NAME_oneline(X509_get_subject_name(mine), subj, sizeof(subj));
	if (ASN1_TIME_to_tm(X509_get0_notAfter(mine), &tm) != 1 ||
	    strftime(t1, sizeof(t1), "%Y-%m-%d", &tm) == 0)
		snprintf(t1, sizeof(t1), "?");
	probe_ok(p, "enrollment: SUCCESS, certificate %s valid until %s, "
	    "chains to the CA (reply encrypted with %s)", subj, t1,
	    OBJ_nid2sn(cnid));
	if (cnid == NID_des_cbc)
		probe_warn(p, "the reply is encrypted with single DES "
		    "(broken), whatever the request used");
 out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_free(untrusted);
	sk_X509_pop_free(certs, X509_free);
	OPENSSL_free(inner);
}

static void
check_reply(struct probe *p, const struct presp *r, const char *transid,
    const uint8_t *nonce, EVP_PKEY *key, X509 *self)
{
	struct scep_msg *m = NULL;
	int e;

	if (r->status != 200) {
		probe_explain_http(p, "PKIOperation", r);
		return;
	}
	if (strncasecmp(r->ctype, "application/x-pki-message", 25) != 0)
		probe_warn(p, "PKIOperation content type \"%s\", not "
		    "application/x-pki-message: some clients reject it",
		    r->ctype);
	e = scep_msg_decode(r->body, r->len, SCEP_ALG_DEFAULT |
	    SCEP_ALG_LEGACY, &m);
	if (e != SCEP_OK) {
		probe_fail(p, "the CertRep is not a valid signed pkiMessage: "
		    "%s", scep_strerror(e));
		goto out;
	}
	if (m->type != SCEP_MSG_CERTREP) {
		probe_fail(p, "the reply is messageType %d, not CertRep (3)",
		    m->type);
		goto out;
	}
	if (m->signer == NULL || X509_cmp(m->signer, p->ra_sign) != 0) {
		probe_fail(p, "the CertRep is not signed by the RA certificate "
		    "of GetCACert");
		probe_say("devices will drop it: the server signs with a "
		    "certificate it does not publish (RA rotated without "
		    "GetCACert following, or a second server behind the "
		    "same URL)");
		goto out;
	}
	if (m->transid_len != strlen(transid) ||
	    memcmp(m->transid, transid, m->transid_len) != 0) {
		probe_fail(p, "the CertRep carries another transactionID");
		goto out;
	}
	if (m->recipient_nonce_len != SCEP_NONCE_LEN ||
	    memcmp(m->recipient_nonce, nonce, SCEP_NONCE_LEN) != 0) {
		probe_fail(p, "the CertRep's recipientNonce is not our "
		    "senderNonce (replay protection broken)");
		goto out;
	}
	if (m->has_signing_time)
		probe_check_skew(p, "the CertRep signingTime",
		    m->signing_time);
	switch (m->status) {
	case SCEP_STATUS_SUCCESS:
		check_issued(p, key, self, m);
		break;
	case SCEP_STATUS_PENDING:
		probe_warn(p, "enrollment: PENDING");
		probe_say("the endpoint wants manual approval: an "
		    "administrator approves the request, and the device "
		    "polls with CertPoll until then");
		break;
	case SCEP_STATUS_FAILURE:
		probe_fail(p, "enrollment: FAILURE, failInfo %s%s%s",
		    scep_failinfo_name(m->failinfo), m->failtext[0] ?
		    ", failInfoText: " : "", m->failtext);
		probe_say("%s: %s", scep_failinfo_name(m->failinfo),
		    failinfo_words(m->failinfo));
		break;
	default:
		probe_fail(p, "enrollment: unknown pkiStatus %d", m->status);
		break;
	}
 out:
	ERR_clear_error();
	scep_msg_free(m);
}

void
probe_enroll(struct probe *p)
{
	struct scep_request rq;
	struct presp r;
	EVP_PKEY *key = NULL;
	X509 *self = NULL;
	uint8_t *csr = NULL, *msg = NULL, fp[32];
	unsigned char *b64 = NULL;
	size_t csr_len = 0, msg_len = 0, i;
	char cn[128], transid[65];
	int md, cipher, e, post;

	memset(&r, 0, sizeof(r));
	memset(&rq, 0, sizeof(rq));
	choose_algs(p, &md, &cipher);
	post = !p->have_caps ? 0 : (p->caps & CAP_POST) != 0;
	if (p->subject != NULL)
		snprintf(cn, sizeof(cn), "%s", p->subject);
	else
		snprintf(cn, sizeof(cn), "scepctl-probe-%ld",
		    (long)time(NULL));
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)) ==
	    NULL || scep_selfsigned_cert(key, cn, time(NULL), 1, &self) !=
	    SCEP_OK || make_csr(key, cn, p->challenge, &csr, &csr_len) != 0 ||
	    scep_key_fingerprint(key, fp) != SCEP_OK ||
	    RAND_bytes(rq.sender_nonce, sizeof(rq.sender_nonce)) != 1) {
		probe_fail(p, "test enrollment: cannot make a key and request");
		goto out;
	}
	/* transactionID: the hash of the key, as RFC 8894 3.2.1.1 advises. */
	for (i = 0; i < sizeof(fp); i++)
		snprintf(transid + 2 * i, 3, "%02X", fp[i]);
	rq.type = SCEP_MSG_PKCSREQ;
	rq.transid = transid;
	rq.md_nid = md;
	rq.cipher_nid = cipher;
	rq.ra = p->ra_enc;
	rq.inner = csr;
	rq.inner_len = csr_len;
	rq.now = time(NULL);
	if ((e = scep_request_build(&rq, key, self, &msg, &msg_len)) !=
	    SCEP_OK) {
		probe_fail(p, "test enrollment: cannot build the PKCSReq "
		    "(%s, %s): %s", OBJ_nid2sn(md), OBJ_nid2sn(cipher),
		    scep_strerror(e));
		goto out;
	}
	printf("test enrollment: CN=%s, %s, %s, RSA-2048, %s%s\n", cn,
	    OBJ_nid2sn(md), OBJ_nid2sn(cipher), post ? "POST" : "GET",
	    p->challenge ? ", with challenge" : ", no challenge");
	if (post)
		e = probe_http(p, "PKIOperation", msg, msg_len, NULL, &r);
	else {
		if (msg_len > PROBE_MAX_URL ||
		    (b64 = malloc(4 * ((msg_len + 2) / 3) + 1)) == NULL) {
			probe_fail(p, "test enrollment: out of memory");
			goto out;
		}
		(void)EVP_EncodeBlock(b64, msg, (int)msg_len);
		e = probe_http(p, "PKIOperation", NULL, 0, (char *)b64, &r);
	}
	if (e != 0) {
		probe_fail(p, "test enrollment: out of memory");
		goto out;
	}
	check_reply(p, &r, transid, rq.sender_nonce, key, self);
 out:
	ERR_clear_error();
	presp_clear(&r);
	free(b64);
	OPENSSL_free(msg);
	OPENSSL_free(csr);
	X509_free(self);
	EVP_PKEY_free(key);
}
