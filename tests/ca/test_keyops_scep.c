/*
 * test_keyops_scep.c -- the key operations that go through the protocol
 * core: a client request built with scep_request_build() is opened with
 * keyops_decrypt(); a CertRep signed with keyops_sign_certrep() is decoded
 * with scep_msg_decode() and its envelope opened with the client key; a
 * GetNextCACert reply from keyops_sign_nextca() verifies.  Both the RA and
 * the CA-direct configurations (spec 4.3, 15) are covered.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "ca_gen.h"
#include "keyops.h"
#include "scep.h"
#include "scep_err.h"
#include "tap.h"

static char	 tmpdir[256];
static time_t	 now;

static void
rm_tmpdir(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[512];

	if ((d = opendir(tmpdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

/* Write the key (0600) and load key + certificate as CA or RA. */
static int
load(struct keyops *ko, int ra, int64_t id, int64_t ca_id, EVP_PKEY *key,
    X509 *cert)
{
	char		 p[512];
	unsigned char	*der = NULL;
	int		 len, r;

	snprintf(p, sizeof(p), "%s/%s%lld.pem", tmpdir, ra ? "ra" : "ca",
	    (long long)id);
	unlink(p);
	if ((r = ca_key_write(p, key)) != SCEP_OK)
		return r;
	if ((len = i2d_X509(cert, &der)) <= 0)
		return SCEP_E_INTERNAL;
	if (ra)
		r = keyops_load_ra(ko, id, ca_id, p, der, (size_t)len);
	else
		r = keyops_load_ca(ko, id, p, der, (size_t)len);
	OPENSSL_free(der);
	return r;
}

/* A PKCS#10 for "key", DER (take). */
static int
make_csr(EVP_PKEY *key, const char *cn, uint8_t **der, size_t *len)
{
	X509_REQ	*req = NULL;
	X509_NAME	*name = NULL;
	unsigned char	*p = NULL;
	int		 n, ok = 0;

	*der = NULL;
	if ((req = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(req, 0) != 1 ||
	    ca_dn_parse(cn, &name) != SCEP_OK ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1 ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		goto out;
	if ((n = i2d_X509_REQ(req, &p)) <= 0)
		goto out;
	*der = p;
	*len = (size_t)n;
	ok = 1;
 out:
	X509_NAME_free(name);
	X509_REQ_free(req);
	return ok;
}

/* A PKCSReq from (ckey, ccert) enveloped for "to". */
static int
make_request(EVP_PKEY *ckey, X509 *ccert, X509 *to, const uint8_t *csr,
    size_t csrlen, int cipher, uint8_t nonce[SCEP_NONCE_LEN], uint8_t **out,
    size_t *outlen)
{
	struct scep_request	 rq;

	memset(&rq, 0, sizeof(rq));
	rq.type = SCEP_MSG_PKCSREQ;
	rq.transid = "keyops-test-transaction-1";
	RAND_bytes(rq.sender_nonce, SCEP_NONCE_LEN);
	memcpy(nonce, rq.sender_nonce, SCEP_NONCE_LEN);
	rq.md_nid = NID_sha256;
	rq.cipher_nid = cipher;
	rq.ra = to;
	rq.inner = csr;
	rq.inner_len = csrlen;
	rq.now = now;
	return scep_request_build(&rq, ckey, ccert, out, outlen);
}

/* A SUCCESS CertRep answering "m", without payload. */
static void
reply_for(struct scep_reply *rep, const struct scep_msg *m, int cipher)
{
	memset(rep, 0, sizeof(*rep));
	rep->status = SCEP_STATUS_SUCCESS;
	rep->transid = m->transid;
	rep->transid_len = m->transid_len;
	rep->recipient_nonce = m->sender_nonce;
	rep->recipient_nonce_len = m->sender_nonce_len;
	RAND_bytes(rep->sender_nonce, SCEP_NONCE_LEN);
	rep->md_nid = NID_sha256;
	rep->cipher_nid = cipher;
	rep->recipient = m->signer;
	rep->now = now;
}

int
main(void)
{
	struct keyops		*ko = NULL;
	struct scep_msg		*m = NULL, *rm = NULL;
	struct scep_reply	 rep;
	struct scep_keypair	 ckp;
	struct issue_tmpl	 t;
	EVP_PKEY		*ca_key = NULL, *ra_key = NULL, *ca2_key = NULL,
				*ckey = NULL, *ra_sign_key = NULL;
	X509			*root = NULL, *ra = NULL, *root2 = NULL,
				*ccert = NULL, *issued = NULL, *ra_sign = NULL,
				*signer = NULL;
	X509_NAME		*subj = NULL;
	STACK_OF(X509)		*certs = NULL, *next = NULL, *got = NULL;
	uint8_t			*csr = NULL, *msg = NULL, *inner = NULL,
				*payload = NULL, *reply = NULL, *dec = NULL;
	size_t			 csrlen = 0, msglen = 0, innerlen = 0,
				 paylen = 0, replylen = 0, declen = 0;
	uint8_t			 nonce[SCEP_NONCE_LEN], serial[CA_SERIAL_LEN];
	int64_t			 ras[17];
	const char		*td;
	int			 r, cipher = 0, req_cipher = 0;

	now = time(NULL);
	memset(ras, 0, sizeof(ras));
	td = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_keyops_scep.XXXXXX",
	    td != NULL ? td : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}

	/* A CA with a combined RA, a split signing RA, a second CA. */
	tap_ok(ca_key_generate("rsa2048", &ca_key) == SCEP_OK &&
	    ca_key_generate("rsa2048", &ra_key) == SCEP_OK &&
	    ca_key_generate("ec256", &ra_sign_key) == SCEP_OK &&
	    ca_key_generate("ec256", &ca2_key) == SCEP_OK &&
	    ca_key_generate("rsa2048", &ckey) == SCEP_OK, "keys");
	tap_ok(ca_make_root(ca_key, "CN=Keyops Test CA", 365, now, &root) ==
	    SCEP_OK && ca_make_root(ca2_key, "CN=Other CA", 365, now,
	    &root2) == SCEP_OK, "roots");
	tap_ok(ca_make_ra(ca_key, root, ra_key, "CN=Keyops RA",
	    CA_RA_SIGN_ENCRYPT, 365, now, &ra) == SCEP_OK &&
	    ca_make_ra(ca_key, root, ra_sign_key, "CN=Keyops signing RA",
	    CA_RA_SIGN, 365, now, &ra_sign) == SCEP_OK, "RAs");
	tap_ok(keyops_new(&ko) == SCEP_OK &&
	    load(ko, 0, 1, 0, ca_key, root) == SCEP_OK &&
	    load(ko, 0, 2, 0, ca2_key, root2) == SCEP_OK &&
	    load(ko, 1, 10, 1, ra_key, ra) == SCEP_OK &&
	    load(ko, 1, 11, 1, ra_sign_key, ra_sign) == SCEP_OK,
	    "identities loaded");
	tap_ok(scep_selfsigned_cert(ckey, "client", now, 1, &ccert) ==
	    SCEP_OK, "client self-signed certificate");
	tap_ok(make_csr(ckey, "/CN=client/O=scepd", &csr, &csrlen), "CSR");

	/* 1. Request encrypted to the RA. */
	r = make_request(ckey, ccert, ra, csr, csrlen, NID_aes_256_cbc, nonce,
	    &msg, &msglen);
	tap_ok(r == SCEP_OK, "scep_request_build for the RA (r=%d)", r);
	r = scep_msg_decode(msg, msglen, SCEP_ALG_DEFAULT, &m);
	tap_ok(r == SCEP_OK && m != NULL && m->content != NULL,
	    "request decodes (r=%d)", r);
	if (m == NULL || m->content == NULL)
		goto out;
	ras[0] = 10;
	r = keyops_decrypt(ko, ras, 1, 0, m->content, m->content_len,
	    SCEP_ALG_DEFAULT, &inner, &innerlen, &cipher);
	tap_ok(r == SCEP_OK && innerlen == csrlen &&
	    memcmp(inner, csr, csrlen) == 0,
	    "keyops_decrypt with the RA gives the CSR back (r=%d)", r);
	tap_ok(cipher == NID_aes_256_cbc, "content cipher reported");
	OPENSSL_free(inner);
	inner = NULL;
	ras[0] = 11;
	ras[1] = 10;
	r = keyops_decrypt(ko, ras, 2, 1, m->content, m->content_len,
	    SCEP_ALG_DEFAULT, &inner, &innerlen, &cipher);
	tap_ok(r == SCEP_OK && innerlen == csrlen,
	    "keyops_decrypt with several keys finds the right one (r=%d)", r);
	OPENSSL_free(inner);
	inner = NULL;
	r = keyops_decrypt(ko, NULL, 0, 1, m->content, m->content_len,
	    SCEP_ALG_DEFAULT, &inner, &innerlen, &cipher);
	tap_ok(r == SCEP_E_DECRYPT && inner == NULL,
	    "envelope for the RA does not open with the CA key (r=%d)", r);
	ERR_clear_error();
	ras[0] = 99;
	tap_ok(keyops_decrypt(ko, ras, 1, 0, m->content, m->content_len,
	    SCEP_ALG_DEFAULT, &inner, &innerlen, &cipher) == SCEP_E_NOTFOUND,
	    "keyops_decrypt: unknown RA id");
	tap_ok(keyops_decrypt(ko, NULL, 0, 0, m->content, m->content_len,
	    SCEP_ALG_DEFAULT, &inner, &innerlen, &cipher) == SCEP_E_NOTFOUND,
	    "keyops_decrypt: no key named");
	tap_ok(keyops_decrypt(ko, ras, 17, 0, m->content, m->content_len,
	    SCEP_ALG_DEFAULT, &inner, &innerlen, &cipher) == SCEP_E_TOOBIG,
	    "keyops_decrypt: too many keys");
	tap_ok(keyops_decrypt(ko, NULL, 0, 1, m->content, m->content_len,
	    SCEP_ALG_SHA256, &inner, &innerlen, &cipher) != SCEP_OK &&
	    inner == NULL, "keyops_decrypt: cipher not allowed by algs");
	ERR_clear_error();

	/* 2. CA-direct: the same request encrypted to the CA. */
	OPENSSL_free(msg);
	msg = NULL;
	scep_msg_free(m);
	m = NULL;
	r = make_request(ckey, ccert, root, csr, csrlen, NID_aes_128_cbc,
	    nonce, &msg, &msglen);
	if (r == SCEP_OK)
		r = scep_msg_decode(msg, msglen, SCEP_ALG_DEFAULT, &m);
	tap_ok(r == SCEP_OK, "request for the CA (r=%d)", r);
	if (m == NULL)
		goto out;
	r = keyops_decrypt(ko, NULL, 0, 1, m->content, m->content_len,
	    SCEP_ALG_DEFAULT, &inner, &innerlen, &cipher);
	tap_ok(r == SCEP_OK && innerlen == csrlen &&
	    memcmp(inner, csr, csrlen) == 0 && cipher == NID_aes_128_cbc,
	    "CA-direct keyops_decrypt (r=%d)", r);
	req_cipher = cipher;		/* the reply uses the request's */
	OPENSSL_free(inner);
	inner = NULL;
	ras[0] = 10;
	tap_ok(keyops_decrypt(ko, ras, 1, 0, m->content, m->content_len,
	    SCEP_ALG_DEFAULT, &inner, &innerlen, &cipher) == SCEP_E_DECRYPT,
	    "envelope for the CA does not open with the RA key");
	ERR_clear_error();

	/* 3. Issue and answer SUCCESS, signed by the RA. */
	memset(&t, 0, sizeof(t));
	ca_dn_parse("/CN=client/O=scepd", &subj);
	ca_serial_random(serial);
	t.kind = ISSUE_CLIENT;
	t.subject = subj;
	t.pubkey = ckey;
	t.not_before = now;
	t.not_after = now + 30 * 86400;
	tap_ok(keyops_issue(ko, 1, &t, &issued, serial) == SCEP_OK,
	    "issued");
	certs = sk_X509_new_null();
	sk_X509_push(certs, issued);
	sk_X509_push(certs, root);
	tap_ok(scep_certs_only(certs, NULL, &payload, &paylen) == SCEP_OK,
	    "certs-only payload");

	memset(&rep, 0, sizeof(rep));
	rep.status = SCEP_STATUS_SUCCESS;
	rep.transid = m->transid;
	rep.transid_len = m->transid_len;
	rep.recipient_nonce = m->sender_nonce;
	rep.recipient_nonce_len = m->sender_nonce_len;
	RAND_bytes(rep.sender_nonce, SCEP_NONCE_LEN);
	rep.md_nid = NID_sha256;
	rep.cipher_nid = req_cipher;
	rep.recipient = m->signer;
	rep.payload = payload;
	rep.payload_len = paylen;
	rep.now = now;
	r = keyops_sign_certrep(ko, 10, 1, &rep, NULL, &reply, &replylen);
	tap_ok(r == SCEP_OK, "keyops_sign_certrep SUCCESS by the RA (r=%d)",
	    r);
	r = scep_msg_decode(reply, replylen, SCEP_ALG_DEFAULT, &rm);
	tap_ok(r == SCEP_OK && rm != NULL, "CertRep decodes (r=%d)", r);
	if (rm != NULL) {
		tap_ok(rm->type == SCEP_MSG_CERTREP &&
		    rm->status == SCEP_STATUS_SUCCESS, "CertRep SUCCESS");
		tap_ok(rm->transid_len == m->transid_len &&
		    memcmp(rm->transid, m->transid, m->transid_len) == 0,
		    "transactionID echoed");
		tap_ok(rm->recipient_nonce_len == SCEP_NONCE_LEN &&
		    memcmp(rm->recipient_nonce, nonce, SCEP_NONCE_LEN) == 0,
		    "recipientNonce = request senderNonce");
		tap_ok(rm->signer != NULL && X509_cmp(rm->signer, ra) == 0,
		    "signed by the RA certificate");
		tap_ok(rm->md_nid == NID_sha256, "SHA-256 signature");
		ckp.key = ckey;
		ckp.cert = ccert;
		r = rm->content == NULL ? SCEP_E_MALFORMED :
		    scep_env_decrypt(rm->content, rm->content_len, &ckp, 1,
		    SCEP_ALG_DEFAULT, &dec, &declen, &cipher);
		tap_ok(r == SCEP_OK && cipher == req_cipher,
		    "client opens the reply envelope, request's cipher (r=%d)",
		    r);
		r = dec == NULL ? SCEP_E_MALFORMED :
		    scep_certs_only_decode(dec, declen, &got, NULL);
		tap_ok(r == SCEP_OK && sk_X509_num(got) == 2 &&
		    X509_cmp(sk_X509_value(got, 0), issued) == 0,
		    "reply carries the issued certificate first (r=%d)", r);
		sk_X509_pop_free(got, X509_free);
		got = NULL;
		OPENSSL_free(dec);
		dec = NULL;
	}
	scep_msg_free(rm);
	rm = NULL;
	OPENSSL_free(reply);
	reply = NULL;

	/* 4. CA-direct reply, and a FAILURE. */
	r = keyops_sign_certrep(ko, 0, 1, &rep, NULL, &reply, &replylen);
	if (r == SCEP_OK)
		r = scep_msg_decode(reply, replylen, SCEP_ALG_DEFAULT, &rm);
	tap_ok(r == SCEP_OK && rm->signer != NULL &&
	    X509_cmp(rm->signer, root) == 0, "CA-direct CertRep signed by CA");
	scep_msg_free(rm);
	rm = NULL;
	OPENSSL_free(reply);
	reply = NULL;

	rep.status = SCEP_STATUS_FAILURE;
	rep.failinfo = SCEP_FAIL_BADREQUEST;
	rep.failtext = "not permitted";
	rep.payload = NULL;
	rep.payload_len = 0;
	rep.recipient = NULL;
	r = keyops_sign_certrep(ko, 10, 0, &rep, NULL, &reply, &replylen);
	if (r == SCEP_OK)
		r = scep_msg_decode(reply, replylen, SCEP_ALG_DEFAULT, &rm);
	tap_ok(r == SCEP_OK && rm->status == SCEP_STATUS_FAILURE &&
	    rm->failinfo == SCEP_FAIL_BADREQUEST && rm->content == NULL,
	    "FAILURE badRequest, no envelope (r=%d)", r);
	scep_msg_free(rm);
	rm = NULL;
	OPENSSL_free(reply);
	reply = NULL;

	tap_ok(keyops_sign_certrep(ko, 10, 2, &rep, NULL, &reply, &replylen) ==
	    SCEP_E_CONFIG && reply == NULL, "RA of another CA refused");
	tap_ok(keyops_sign_certrep(ko, 77, 0, &rep, NULL, &reply, &replylen) ==
	    SCEP_E_NOTFOUND, "unknown RA refused");
	tap_ok(keyops_sign_certrep(ko, 0, 77, &rep, NULL, &reply, &replylen) ==
	    SCEP_E_NOTFOUND, "unknown CA refused");

	/* 4b. Issue and sign the SUCCESS in one operation. */
	{
		struct issued_reply ir;
		const unsigned char *q = NULL;
		X509 *x = NULL;
		time_t tb = 0, ta = 0;
		unsigned char *xd = NULL;
		int xl = 0;

		reply_for(&rep, m, req_cipher);
		r = keyops_issue_reply(ko, 1, 10, &t, 1, &rep, &ir);
		tap_ok(r == SCEP_OK && ir.cert != NULL && ir.reply != NULL,
		    "keyops_issue_reply by the RA (r=%d)", r);
		q = ir.cert;
		if (r == SCEP_OK && (x = d2i_X509(NULL, &q,
		    (long)ir.cert_len)) != NULL) {
			const ASN1_INTEGER *ai = X509_get0_serialNumber(x);

			tap_ok(q == ir.cert + ir.cert_len &&
			    ASN1_STRING_length(ai) == CA_SERIAL_LEN &&
			    memcmp(ASN1_STRING_get0_data(ai), ir.serial,
			    CA_SERIAL_LEN) == 0, "issue_reply: the serial "
			    "returned is the certificate's");
			tap_ok(ca_asn1_time_get(X509_get0_notBefore(x), &tb) ==
			    SCEP_OK && ca_asn1_time_get(X509_get0_notAfter(x),
			    &ta) == SCEP_OK && tb == ir.not_before &&
			    ta == ir.not_after && tb == t.not_before,
			    "issue_reply: validity returned = certificate's");
			tap_ok(X509_NAME_cmp(X509_get_subject_name(x), subj) ==
			    0 && X509_check_issued(root, x) == X509_V_OK,
			    "issue_reply: subject of the template, issued by "
			    "the CA");
		} else
			tap_ok(0, "issue_reply: the certificate decodes");
		r = ir.reply == NULL ? SCEP_E_INTERNAL :
		    scep_msg_decode(ir.reply, ir.reply_len, SCEP_ALG_DEFAULT,
		    &rm);
		tap_ok(r == SCEP_OK && rm->type == SCEP_MSG_CERTREP &&
		    rm->status == SCEP_STATUS_SUCCESS && rm->signer != NULL &&
		    X509_cmp(rm->signer, ra) == 0 &&
		    rm->recipient_nonce_len == SCEP_NONCE_LEN &&
		    memcmp(rm->recipient_nonce, nonce, SCEP_NONCE_LEN) == 0,
		    "issue_reply: CertRep SUCCESS signed by the RA, nonce "
		    "echoed (r=%d)", r);
		if (r == SCEP_OK) {
			ckp.key = ckey;
			ckp.cert = ccert;
			r = rm->content == NULL ? SCEP_E_MALFORMED :
			    scep_env_decrypt(rm->content, rm->content_len,
			    &ckp, 1, SCEP_ALG_DEFAULT, &dec, &declen, &cipher);
			if (r == SCEP_OK)
				r = scep_certs_only_decode(dec, declen, &got,
				    NULL);
			if (r == SCEP_OK && sk_X509_num(got) == 2)
				xl = i2d_X509(sk_X509_value(got, 0), &xd);
			tap_ok(r == SCEP_OK && cipher == req_cipher &&
			    sk_X509_num(got) == 2 && xl > 0 &&
			    (size_t)xl == ir.cert_len &&
			    memcmp(xd, ir.cert, ir.cert_len) == 0 &&
			    X509_cmp(sk_X509_value(got, 1), root) == 0,
			    "issue_reply: the client opens it: the same "
			    "certificate first, then the CA (r=%d)", r);
			OPENSSL_free(xd);
			xd = NULL;
			sk_X509_pop_free(got, X509_free);
			got = NULL;
			OPENSSL_free(dec);
			dec = NULL;
		}
		scep_msg_free(rm);
		rm = NULL;
		X509_free(x);
		x = NULL;
		issued_reply_clear(&ir);

		r = keyops_issue_reply(ko, 1, 0, &t, 0, &rep, &ir);
		if (r == SCEP_OK)
			r = scep_msg_decode(ir.reply, ir.reply_len,
			    SCEP_ALG_DEFAULT, &rm);
		tap_ok(r == SCEP_OK && rm->signer != NULL &&
		    X509_cmp(rm->signer, root) == 0, "issue_reply: CA-direct, "
		    "signed by the CA (r=%d)", r);
		scep_msg_free(rm);
		rm = NULL;
		issued_reply_clear(&ir);

		/* Wrong identities: nothing issued, nothing returned. */
		tap_ok(load(ko, 0, 2, 0, ca2_key, root2) == SCEP_OK,
		    "second CA loaded as 2");
		tap_ok(keyops_issue_reply(ko, 2, 10, &t, 1, &rep, &ir) ==
		    SCEP_E_CONFIG && ir.cert == NULL && ir.reply == NULL,
		    "issue_reply: RA of another CA refused");
		tap_ok(keyops_issue_reply(ko, 1, 77, &t, 1, &rep, &ir) ==
		    SCEP_E_NOTFOUND && ir.cert == NULL,
		    "issue_reply: unknown RA refused");
		tap_ok(keyops_issue_reply(ko, 77, 0, &t, 1, &rep, &ir) ==
		    SCEP_E_NOTFOUND && ir.cert == NULL,
		    "issue_reply: unknown CA refused");
		/* Only a SUCCESS without payload, to a recipient. */
		rep.status = SCEP_STATUS_PENDING;
		tap_ok(keyops_issue_reply(ko, 1, 10, &t, 1, &rep, &ir) ==
		    SCEP_E_INTERNAL, "issue_reply: a PENDING is refused");
		rep.status = SCEP_STATUS_SUCCESS;
		rep.payload = nonce;
		rep.payload_len = sizeof(nonce);
		tap_ok(keyops_issue_reply(ko, 1, 10, &t, 1, &rep, &ir) ==
		    SCEP_E_INTERNAL, "issue_reply: a caller's payload is "
		    "refused");
		rep.payload = NULL;
		rep.payload_len = 0;
		rep.recipient = NULL;
		tap_ok(keyops_issue_reply(ko, 1, 10, &t, 1, &rep, &ir) ==
		    SCEP_E_INTERNAL, "issue_reply: no recipient refused");
		rep.recipient = m->signer;
		tap_ok(keyops_issue_reply(ko, 1, 10, &t, 2, &rep, &ir) ==
		    SCEP_E_INTERNAL, "issue_reply: chain must be 0 or 1");
		/* The hard limits hold here as in keyops_issue. */
		t.not_after = t.not_before + (time_t)(ISSUE_MAX_DAYS + 1) *
		    86400;
		tap_ok(keyops_issue_reply(ko, 1, 10, &t, 1, &rep, &ir) ==
		    SCEP_E_DENIED && ir.cert == NULL && ir.reply == NULL,
		    "issue_reply: validity over ISSUE_MAX_DAYS refused");
		t.not_after = now + 30 * 86400;
	}

	/* 5. GetNextCACert, signed by the RA. */
	next = sk_X509_new_null();
	sk_X509_push(next, root2);
	r = keyops_sign_nextca(ko, 10, 1, next, now, &reply, &replylen);
	tap_ok(r == SCEP_OK, "keyops_sign_nextca (r=%d)", r);
	if (r == SCEP_OK) {
		r = scep_nextca_decode(reply, replylen, SCEP_ALG_DEFAULT, &got,
		    &signer);
		tap_ok(r == SCEP_OK && X509_cmp(signer, ra) == 0 &&
		    sk_X509_num(got) == 1 &&
		    X509_cmp(sk_X509_value(got, 0), root2) == 0,
		    "GetNextCACert reply verifies, signer RA, next CA (r=%d)", r);
	}
	tap_ok(keyops_sign_nextca(ko, 0, 1, NULL, now, &dec, &declen) != SCEP_OK
	    && dec == NULL, "keyops_sign_nextca without certificates refused");

 out:
	sk_X509_pop_free(got, X509_free);
	X509_free(signer);
	sk_X509_free(next);
	sk_X509_free(certs);
	scep_msg_free(m);
	scep_msg_free(rm);
	OPENSSL_free(csr);
	OPENSSL_free(msg);
	OPENSSL_free(inner);
	OPENSSL_free(payload);
	OPENSSL_free(reply);
	OPENSSL_free(dec);
	X509_NAME_free(subj);
	X509_free(issued);
	X509_free(root);
	X509_free(root2);
	X509_free(ra);
	X509_free(ra_sign);
	X509_free(ccert);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(ca2_key);
	EVP_PKEY_free(ra_key);
	EVP_PKEY_free(ra_sign_key);
	EVP_PKEY_free(ckey);
	keyops_free(ko);
	rm_tmpdir();
	return tap_done();
}
