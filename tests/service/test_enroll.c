/*
 * test_enroll.c -- the enrollment rules of src/service, end to end below
 * HTTP: real keys, a real SQLite store in a temporary directory, requests
 * built with the core's client side, every reply decoded and checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "ca_gen.h"
#include "keyops.h"
#include "scep.h"
#include "store.h"
#include "svc.h"
#include "tap.h"

static struct store *st;
static struct keyops *ko;
static struct svc *sv;
static struct svc_config cfg;
static struct store_endpoint ep_auto, ep_manual, ep_legacy;
static X509 *cacert, *racert;
static char chal_auto[64], chal_manual[64], chal_legacy[64];
static int64_t acct_auto_id;

/* A client: key, signer certificate, CSR. */
struct client {
	EVP_PKEY	*key;
	X509		*signer;
	uint8_t		*csr;
	size_t		 csr_len;
	char		 transid[80];
};

static void
client_free(struct client *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->signer);
	OPENSSL_free(c->csr);
	memset(c, 0, sizeof(*c));
}

static int
has(const uint8_t *buf, size_t len, const char *word)
{
	size_t n = strlen(word), i;

	for (i = 0; i + n <= len; i++)
		if (memcmp(buf + i, word, n) == 0)
			return 1;
	return 0;
}

static EVP_PKEY *
rsa_key(int bits)
{
	return EVP_RSA_gen((unsigned int)bits);
}

static int
make_csr(EVP_PKEY *key, const char *cn, const char *challenge, uint8_t **out,
    size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	unsigned char *der = NULL;
	int l;

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_version(req, 0);
	X509_REQ_set_subject_name(req, n);
	X509_REQ_set_pubkey(req, key);
	if (challenge != NULL)
		X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword,
		    MBSTRING_ASC, (const unsigned char *)challenge, -1);
	X509_REQ_sign(req, key, EVP_sha256());
	l = i2d_X509_REQ(req, &der);
	X509_NAME_free(n);
	X509_REQ_free(req);
	if (l <= 0)
		return -1;
	*out = der;
	*len = (size_t)l;
	return 0;
}

static int
client_new(struct client *c, const char *cn, const char *challenge)
{
	static int counter;

	memset(c, 0, sizeof(*c));
	if ((c->key = rsa_key(2048)) == NULL)
		return -1;
	if (scep_selfsigned_cert(c->key, cn, time(NULL), 30, &c->signer) !=
	    SCEP_OK)
		return -1;
	snprintf(c->transid, sizeof(c->transid), "TX-%d-%ld", ++counter,
	    (long)getpid());
	return make_csr(c->key, cn, challenge, &c->csr, &c->csr_len);
}

/* Send a request through svc_pkioperation; returns the decoded CertRep. */
static struct scep_msg *
send_req(const struct store_endpoint *ep, int type, const char *transid,
    EVP_PKEY *key, X509 *signer, const uint8_t *inner, size_t inner_len,
    int cipher, int md, int *http)
{
	struct scep_request rq;
	struct svc_result res;
	struct scep_msg *rep = NULL;
	uint8_t *der = NULL;
	size_t len = 0;

	memset(&rq, 0, sizeof(rq));
	rq.type = type;
	rq.transid = transid;
	RAND_bytes(rq.sender_nonce, sizeof(rq.sender_nonce));
	rq.md_nid = md;
	rq.cipher_nid = cipher;
	rq.ra = racert;
	rq.inner = inner;
	rq.inner_len = inner_len;
	rq.now = time(NULL);
	if (scep_request_build(&rq, key, signer, &der, &len) != SCEP_OK)
		return NULL;
	memset(&res, 0, sizeof(res));
	(void)svc_pkioperation(sv, ep, der, len, "127.0.0.1", "test", &res);
	OPENSSL_free(der);
	*http = res.http_status;
	if (res.http_status == 200 &&
	    scep_msg_decode(res.body, res.body_len, SCEP_ALG_DEFAULT |
	    SCEP_ALG_LEGACY, &rep) != SCEP_OK) {
		scep_msg_free(rep);
		rep = NULL;
	}
	if (rep != NULL && (rep->recipient_nonce_len != sizeof(rq.sender_nonce)
	    || memcmp(rep->recipient_nonce, rq.sender_nonce,
	    sizeof(rq.sender_nonce)) != 0 || strcmp(rep->transid,
	    transid) != 0)) {
		/* recipientNonce and transactionID must be echoed. */
		rep->status = -99;
	}
	svc_result_clear(&res);
	return rep;
}

/* Open a SUCCESS reply: the first certificate of the bag. */
static X509 *
open_cert(struct scep_msg *rep, EVP_PKEY *key, X509 *signer, int *cipher)
{
	struct scep_keypair kp = { key, signer };
	STACK_OF(X509) *certs = NULL;
	uint8_t *inner = NULL;
	size_t len = 0;
	X509 *x = NULL;

	if (rep == NULL || rep->status != SCEP_STATUS_SUCCESS)
		return NULL;
	if (scep_env_decrypt(rep->content, rep->content_len, &kp, 1,
	    SCEP_ALG_DEFAULT | SCEP_ALG_LEGACY, &inner, &len, cipher) !=
	    SCEP_OK)
		return NULL;
	if (scep_certs_only_decode(inner, len, &certs, NULL) == SCEP_OK &&
	    sk_X509_num(certs) > 0)
		x = X509_dup(sk_X509_value(certs, 0));
	sk_X509_pop_free(certs, X509_free);
	OPENSSL_free(inner);
	return x;
}

static int
verify_chain(X509 *x)
{
	X509_STORE *xs = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	X509_STORE_add_cert(xs, cacert);
	X509_STORE_CTX_init(ctx, xs, x, NULL);
	ok = X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(xs);
	return ok;
}

static void
serial_of(X509 *x, char *buf, size_t sz)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *h = BN_bn2hex(bn), *p = h;

	while (p[0] == '0' && p[1] != '\0')	/* the store's spelling */
		p++;
	snprintf(buf, sz, "%s", p);
	OPENSSL_free(h);
	BN_free(bn);
}

static int
setup(const char *dir)
{
	char path[512], dsn[600];
	EVP_PKEY *cakey = NULL, *rakey = NULL;
	struct store_ca ca;
	struct store_ra ra;
	struct store_account a;
	unsigned char *der = NULL;
	int len;

	memset(&ca, 0, sizeof(ca));
	memset(&ra, 0, sizeof(ra));
	if (ca_key_generate("rsa2048", &cakey) != SCEP_OK ||
	    ca_make_root(cakey, "/CN=Test CA", 3650, time(NULL), &cacert) !=
	    SCEP_OK || ca_key_generate("rsa2048", &rakey) != SCEP_OK ||
	    ca_make_ra(cakey, cacert, rakey, "/CN=Test RA", 1, 365,
	    time(NULL), &racert) != SCEP_OK)
		return -1;
	snprintf(ca.key_path, sizeof(ca.key_path), "%s/ca.key", dir);
	snprintf(ra.key_path, sizeof(ra.key_path), "%s/ra.key", dir);
	if (ca_key_write(ca.key_path, cakey) != SCEP_OK ||
	    ca_key_write(ra.key_path, rakey) != SCEP_OK)
		return -1;
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(rakey);
	snprintf(dsn, sizeof(dsn), "sqlite:%s/t.db", dir);
	if (store_open(dsn, &st) != SCEP_OK)
		return -1;
	len = i2d_X509(cacert, &der);
	ca.cert_der = der;
	ca.cert_len = (size_t)len;
	snprintf(ca.name, sizeof(ca.name), "Test CA");
	if (store_ca_insert(st, &ca) != SCEP_OK)
		return -1;
	OPENSSL_free(der);
	der = NULL;
	len = i2d_X509(racert, &der);
	ra.cert_der = der;
	ra.cert_len = (size_t)len;
	ra.ca_id = ca.id;
	ra.state = RA_ACTIVE;
	ra.usage = 1;
	if (store_ra_insert(st, &ra) != SCEP_OK)
		return -1;
	OPENSSL_free(der);

	{
		struct store_endpoint *eps[3] = { &ep_auto, &ep_manual,
		    &ep_legacy };
		const char *ext[3] = { "auto", "manual", "legacy" };
		char *ch[3] = { chal_auto, chal_manual, chal_legacy };
		int i;

		for (i = 0; i < 3; i++) {
			struct store_endpoint *e = eps[i];

			memset(e, 0, sizeof(*e));
			snprintf(e->name, sizeof(e->name), "%s", ext[i]);
			snprintf(e->uri_ext, sizeof(e->uri_ext), "%s", ext[i]);
			e->type = EP_DEVICE_SCEP;
			e->ca_id = ca.id;
			e->ra_id = ra.id;
			e->profile.min_rsa_bits = 2048;
			e->profile.term_days = 30;
			e->profile.renewal = 1;
			e->profile.copy_sans = 1;
			e->getcacert_chain = 1;
			e->getcert_chain = 1;
			e->manual_approval = i == 1;
			e->legacy = i == 2;
			e->enabled = 1;
			e->delegation_general = 1;
			if (store_endpoint_insert(st, e) != SCEP_OK)
				return -1;
			memset(&a, 0, sizeof(a));
			a.endpoint_id = e->id;
			snprintf(a.name, sizeof(a.name), "acct-%s", ext[i]);
			a.enabled = 1;
			svc_challenge_generate(ch[i], 64);
			svc_challenge_hash(&cfg, ch[i], strlen(ch[i]),
			    a.challenge_hash);
			if (store_account_insert(st, &a) != SCEP_OK)
				return -1;
			if (i == 0)
				acct_auto_id = a.id;
		}
	}
	store_setting_set(st, "default_endpoint", "auto");
	snprintf(path, sizeof(path), "http://127.0.0.1:1");
	cfg.base_url = path;
	if (keyops_new(&ko) != SCEP_OK || svc_new(&cfg, st, ko, &sv) !=
	    SCEP_OK)
		return -1;
	return 0;
}

int
main(void)
{
	char dir[] = "/tmp/scepd-test-enroll.XXXXXX", serial[80], s2[80];
	char cmd[600];
	struct client c, c2, r1;
	struct scep_msg *rep = NULL;
	struct svc_result res;
	X509 *cert = NULL, *cert2 = NULL;
	int http = 0, cipher = 0;
	struct store_account acct;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return 1;
	randombytes_buf(cfg.challenge_key, sizeof(cfg.challenge_key));
	tap_ok(setup(dir) == 0, "setup: CA, RA, store, three endpoints");

	/* GetCACaps / GetCACert */
	memset(&res, 0, sizeof(res));
	svc_getcacaps(sv, &ep_auto, &res);
	tap_ok(res.http_status == 200 && res.body_len > 0 &&
	    has(res.body, res.body_len, "AES") &&
	    has(res.body, res.body_len, "Renewal") &&
	    has(res.body, res.body_len, "POSTPKIOperation"),
	    "GetCACaps lists AES, Renewal, POSTPKIOperation");
	svc_result_clear(&res);
	svc_getcacert(sv, &ep_auto, &res);
	{
		STACK_OF(X509) *certs = NULL;

		tap_ok(res.http_status == 200 && strcmp(res.content_type,
		    "application/x-x509-ca-ra-cert") == 0 &&
		    scep_certs_only_decode(res.body, res.body_len, &certs,
		    NULL) == SCEP_OK && sk_X509_num(certs) == 2 &&
		    X509_cmp(sk_X509_value(certs, 0), racert) == 0 &&
		    X509_cmp(sk_X509_value(certs, 1), cacert) == 0,
		    "GetCACert: RA first, then CA");
		sk_X509_pop_free(certs, X509_free);
	}
	svc_result_clear(&res);

	/* PKCSReq with the right challenge. */
	tap_ok(client_new(&c, "dev1", chal_auto) == 0, "client 1");
	rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c.transid, c.key, c.signer,
	    c.csr, c.csr_len, NID_aes_128_cbc, NID_sha256, &http);
	tap_ok(http == 200 && rep != NULL && rep->status == SCEP_STATUS_SUCCESS,
	    "PKCSReq with the right challenge: SUCCESS");
	tap_ok(rep != NULL && rep->md_nid == NID_sha256,
	    "reply signed with the request's digest");
	cert = open_cert(rep, c.key, c.signer, &cipher);
	tap_ok(cert != NULL && cipher == NID_aes_128_cbc,
	    "reply envelope opens with the client key, AES-128");
	tap_ok(cert != NULL && EVP_PKEY_eq(X509_get0_pubkey(cert), c.key) == 1,
	    "issued certificate holds the CSR key");
	tap_ok(cert != NULL && verify_chain(cert), "issued certificate "
	    "chains to the CA");
	{
		BIGNUM *sbn = cert != NULL ? ASN1_INTEGER_to_BN(
		    X509_get0_serialNumber(cert), NULL) : NULL;

		tap_ok(sbn != NULL && BN_num_bits(sbn) >= 120,
		    "serial has about 128 bits");
		BN_free(sbn);
	}
	scep_msg_free(rep);
	if (cert != NULL)
		serial_of(cert, serial, sizeof(serial));

	/* The same request again: the same certificate. */
	rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c.transid, c.key, c.signer,
	    c.csr, c.csr_len, NID_aes_128_cbc, NID_sha256, &http);
	cert2 = open_cert(rep, c.key, c.signer, &cipher);
	if (cert2 != NULL)
		serial_of(cert2, s2, sizeof(s2));
	tap_ok(cert2 != NULL && strcmp(serial, s2) == 0,
	    "re-sent PKCSReq returns the same certificate");
	X509_free(cert2);
	scep_msg_free(rep);

	/* Same transactionID, another key: refused. */
	tap_ok(client_new(&c2, "dev1b", chal_auto) == 0, "client 2");
	rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c.transid, c2.key,
	    c2.signer, c2.csr, c2.csr_len, NID_aes_128_cbc, NID_sha256, &http);
	tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE &&
	    rep->failinfo == SCEP_FAIL_BADREQUEST && rep->content == NULL,
	    "same transactionID with another key: FAILURE badRequest");
	scep_msg_free(rep);
	client_free(&c2);

	/* Wrong, missing and foreign challenges. */
	tap_ok(client_new(&c2, "dev2", "wrong-challenge") == 0, "client 3");
	rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c2.transid, c2.key,
	    c2.signer, c2.csr, c2.csr_len, NID_aes_128_cbc, NID_sha256, &http);
	tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE &&
	    rep->failinfo == SCEP_FAIL_BADREQUEST &&
	    strstr(rep->failtext, "challenge") != NULL,
	    "wrong challenge: FAILURE badRequest with failInfoText (%s)",
	    rep ? rep->failtext : "");
	scep_msg_free(rep);
	client_free(&c2);
	tap_ok(client_new(&c2, "dev3", NULL) == 0, "client 4");
	rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c2.transid, c2.key,
	    c2.signer, c2.csr, c2.csr_len, NID_aes_128_cbc, NID_sha256, &http);
	tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE &&
	    rep->failinfo == SCEP_FAIL_BADREQUEST, "missing challenge: "
	    "FAILURE badRequest");
	scep_msg_free(rep);
	client_free(&c2);
	tap_ok(client_new(&c2, "dev4", chal_manual) == 0, "client 5");
	rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c2.transid, c2.key,
	    c2.signer, c2.csr, c2.csr_len, NID_aes_128_cbc, NID_sha256, &http);
	tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE,
	    "another endpoint's challenge: FAILURE");
	scep_msg_free(rep);
	client_free(&c2);

	/* Algorithms: DES3 + SHA-512, AES-256 + SHA-1. */
	tap_ok(client_new(&c2, "dev5", chal_auto) == 0, "client 6");
	rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c2.transid, c2.key,
	    c2.signer, c2.csr, c2.csr_len, NID_des_ede3_cbc, NID_sha512, &http);
	cert2 = open_cert(rep, c2.key, c2.signer, &cipher);
	tap_ok(cert2 != NULL && cipher == NID_des_ede3_cbc &&
	    rep->md_nid == NID_sha512, "DES3 + SHA-512: SUCCESS, reply "
	    "mirrors both");
	X509_free(cert2);
	scep_msg_free(rep);
	client_free(&c2);
	tap_ok(client_new(&c2, "dev6", chal_auto) == 0, "client 7");
	rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c2.transid, c2.key,
	    c2.signer, c2.csr, c2.csr_len, NID_aes_256_cbc, NID_sha1, &http);
	cert2 = open_cert(rep, c2.key, c2.signer, &cipher);
	tap_ok(cert2 != NULL && cipher == NID_aes_256_cbc &&
	    rep->md_nid == NID_sha1, "AES-256 + SHA-1: SUCCESS");
	X509_free(cert2);
	scep_msg_free(rep);
	client_free(&c2);

	/* Single DES: badAlg unless the endpoint is legacy. */
	{
		OSSL_PROVIDER *leg = OSSL_PROVIDER_load(NULL, "legacy");
		OSSL_PROVIDER *def = OSSL_PROVIDER_load(NULL, "default");

		tap_ok(client_new(&c2, "dev7", chal_auto) == 0, "client 8");
		rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c2.transid, c2.key,
		    c2.signer, c2.csr, c2.csr_len, NID_des_cbc, NID_sha256,
		    &http);
		tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE &&
		    rep->failinfo == SCEP_FAIL_BADALG,
		    "single DES on a normal endpoint: FAILURE badAlg");
		scep_msg_free(rep);
		client_free(&c2);
		tap_ok(client_new(&c2, "dev8", chal_legacy) == 0, "client 9");
		rep = send_req(&ep_legacy, SCEP_MSG_PKCSREQ, c2.transid,
		    c2.key, c2.signer, c2.csr, c2.csr_len, NID_des_cbc,
		    NID_sha1, &http);
		cert2 = open_cert(rep, c2.key, c2.signer, &cipher);
		tap_ok(cert2 != NULL && cipher == NID_des_cbc,
		    "single DES on a legacy endpoint: SUCCESS, DES reply");
		X509_free(cert2);
		scep_msg_free(rep);
		client_free(&c2);
		OSSL_PROVIDER_unload(leg);
		OSSL_PROVIDER_unload(def);
	}

	/* Renewal: RenewalReq and PKCSReq signed by the old certificate. */
	memset(&r1, 0, sizeof(r1));
	r1.key = rsa_key(2048);
	make_csr(r1.key, "dev1", NULL, &r1.csr, &r1.csr_len);
	rep = send_req(&ep_auto, SCEP_MSG_RENEWALREQ, "renew-1", c.key, cert,
	    r1.csr, r1.csr_len, NID_aes_128_cbc, NID_sha256, &http);
	cert2 = open_cert(rep, c.key, cert, &cipher);
	if (cert2 != NULL)
		serial_of(cert2, s2, sizeof(s2));
	tap_ok(cert2 != NULL && strcmp(s2, serial) != 0 &&
	    EVP_PKEY_eq(X509_get0_pubkey(cert2), r1.key) == 1,
	    "RenewalReq signed by the old certificate, no challenge: new "
	    "certificate for the new key, reply encrypted to the old one");
	X509_free(cert2);
	scep_msg_free(rep);
	rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, "renew-2", c.key, cert,
	    r1.csr, r1.csr_len, NID_aes_128_cbc, NID_sha256, &http);
	cert2 = open_cert(rep, c.key, cert, &cipher);
	tap_ok(cert2 != NULL, "PKCSReq signed by the old certificate is a "
	    "renewal");
	X509_free(cert2);
	scep_msg_free(rep);
	{
		uint8_t *csr3 = NULL;
		size_t csr3len = 0;

		make_csr(r1.key, "someone-else", NULL, &csr3, &csr3len);
		rep = send_req(&ep_auto, SCEP_MSG_RENEWALREQ, "renew-3", c.key,
		    cert, csr3, csr3len, NID_aes_128_cbc, NID_sha256, &http);
		tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE,
		    "renewal that changes the subject: FAILURE");
		scep_msg_free(rep);
		OPENSSL_free(csr3);
	}

	/* GetCert and GetCRL. */
	{
		struct scep_ias ias;
		uint8_t *inner = NULL;
		size_t len = 0;

		memset(&ias, 0, sizeof(ias));
		ias.issuer = X509_get_subject_name(cacert);
		ias.serial = (ASN1_INTEGER *)X509_get0_serialNumber(cert);
		scep_ias_encode(&ias, SCEP_MSG_GETCERT, &inner, &len);
		rep = send_req(&ep_auto, SCEP_MSG_GETCERT, "getcert-1", c.key,
		    cert, inner, len, NID_aes_128_cbc, NID_sha256, &http);
		cert2 = open_cert(rep, c.key, cert, &cipher);
		tap_ok(cert2 != NULL && X509_cmp(cert2, cert) == 0,
		    "GetCert returns the certificate");
		X509_free(cert2);
		scep_msg_free(rep);
		OPENSSL_free(inner);
		inner = NULL;

		ias.serial = ASN1_INTEGER_new();
		ASN1_INTEGER_set(ias.serial, 12345);
		scep_ias_encode(&ias, SCEP_MSG_GETCERT, &inner, &len);
		rep = send_req(&ep_auto, SCEP_MSG_GETCERT, "getcert-2", c.key,
		    cert, inner, len, NID_aes_128_cbc, NID_sha256, &http);
		tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE &&
		    rep->failinfo == SCEP_FAIL_BADCERTID,
		    "GetCert for an unknown serial: FAILURE badCertId");
		scep_msg_free(rep);
		OPENSSL_free(inner);
		inner = NULL;
		ASN1_INTEGER_free(ias.serial);

		tap_ok(svc_cert_revoke(sv, serial, 1, "test") == SCEP_OK,
		    "revoke the first certificate");
		ias.serial = (ASN1_INTEGER *)X509_get0_serialNumber(cert);
		scep_ias_encode(&ias, SCEP_MSG_GETCRL, &inner, &len);
		rep = send_req(&ep_auto, SCEP_MSG_GETCRL, "getcrl-1", c.key,
		    cert, inner, len, NID_aes_128_cbc, NID_sha256, &http);
		{
			struct scep_keypair kp = { c.key, cert };
			STACK_OF(X509) *certs = NULL;
			STACK_OF(X509_CRL) *crls = NULL;
			uint8_t *in2 = NULL;
			size_t l2 = 0;
			int found = 0;

			if (rep != NULL && rep->status == SCEP_STATUS_SUCCESS &&
			    scep_env_decrypt(rep->content, rep->content_len,
			    &kp, 1, SCEP_ALG_DEFAULT, &in2, &l2, &cipher) ==
			    SCEP_OK && scep_certs_only_decode(in2, l2, &certs,
			    &crls) == SCEP_OK && sk_X509_CRL_num(crls) == 1) {
				X509_REVOKED *rv = NULL;

				found = X509_CRL_get0_by_serial(
				    sk_X509_CRL_value(crls, 0), &rv,
				    X509_get0_serialNumber(cert)) == 1 &&
				    X509_CRL_verify(sk_X509_CRL_value(crls, 0),
				    X509_get0_pubkey(cacert)) == 1;
			}
			tap_ok(found, "GetCRL: signed CRL lists the revoked "
			    "serial");
			sk_X509_pop_free(certs, X509_free);
			sk_X509_CRL_pop_free(crls, X509_CRL_free);
			OPENSSL_free(in2);
		}
		scep_msg_free(rep);
		OPENSSL_free(inner);
	}
	/* Renewal with a revoked certificate. */
	rep = send_req(&ep_auto, SCEP_MSG_RENEWALREQ, "renew-4", c.key, cert,
	    r1.csr, r1.csr_len, NID_aes_128_cbc, NID_sha256, &http);
	tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE &&
	    rep->failinfo == SCEP_FAIL_BADCERTID,
	    "renewal signed by a revoked certificate: FAILURE badCertId");
	scep_msg_free(rep);

	/* Manual approval: PENDING, CertPoll, approve, CertPoll SUCCESS. */
	tap_ok(client_new(&c2, "manual1", chal_manual) == 0, "client 10");
	rep = send_req(&ep_manual, SCEP_MSG_PKCSREQ, c2.transid, c2.key,
	    c2.signer, c2.csr, c2.csr_len, NID_aes_128_cbc, NID_sha256, &http);
	tap_ok(rep != NULL && rep->status == SCEP_STATUS_PENDING &&
	    rep->content == NULL, "manual endpoint: PENDING, no envelope");
	scep_msg_free(rep);
	{
		struct scep_ias ias;
		uint8_t *inner = NULL;
		size_t len = 0;
		struct store_request pend[8];
		size_t n = 0, i;
		int64_t id = 0;

		memset(&ias, 0, sizeof(ias));
		ias.issuer = X509_get_subject_name(cacert);
		ias.subject = X509_get_subject_name(c2.signer);
		scep_ias_encode(&ias, SCEP_MSG_CERTPOLL, &inner, &len);
		rep = send_req(&ep_manual, SCEP_MSG_CERTPOLL, c2.transid,
		    c2.key, c2.signer, inner, len, NID_aes_128_cbc, NID_sha256,
		    &http);
		tap_ok(rep != NULL && rep->status == SCEP_STATUS_PENDING,
		    "CertPoll before approval: PENDING");
		scep_msg_free(rep);
		memset(pend, 0, sizeof(pend));
		store_request_list_pending(st, pend, 8, &n);
		for (i = 0; i < n; i++) {
			if (strcmp(pend[i].transid, c2.transid) == 0)
				id = pend[i].id;
			store_request_clear(&pend[i]);
		}
		tap_ok(id > 0 && svc_request_approve(sv, id, "test", NULL, 0) ==
		    SCEP_OK, "approve the pending request");
		rep = send_req(&ep_manual, SCEP_MSG_CERTPOLL, c2.transid,
		    c2.key, c2.signer, inner, len, NID_aes_128_cbc, NID_sha256,
		    &http);
		cert2 = open_cert(rep, c2.key, c2.signer, &cipher);
		tap_ok(cert2 != NULL && EVP_PKEY_eq(X509_get0_pubkey(cert2),
		    c2.key) == 1, "CertPoll after approval: SUCCESS");
		X509_free(cert2);
		scep_msg_free(rep);
		rep = send_req(&ep_manual, SCEP_MSG_CERTPOLL, "no-such-tx",
		    c2.key, c2.signer, inner, len, NID_aes_128_cbc, NID_sha256,
		    &http);
		tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE &&
		    rep->failinfo == SCEP_FAIL_BADREQUEST,
		    "CertPoll for an unknown transactionID: FAILURE badRequest");
		scep_msg_free(rep);
		client_free(&c2);

		/* Reject path. */
		client_new(&c2, "manual2", chal_manual);
		rep = send_req(&ep_manual, SCEP_MSG_PKCSREQ, c2.transid,
		    c2.key, c2.signer, c2.csr, c2.csr_len, NID_aes_128_cbc,
		    NID_sha256, &http);
		scep_msg_free(rep);
		n = 0;
		id = 0;
		store_request_list_pending(st, pend, 8, &n);
		for (i = 0; i < n; i++) {
			if (strcmp(pend[i].transid, c2.transid) == 0)
				id = pend[i].id;
			store_request_clear(&pend[i]);
		}
		tap_ok(id > 0 && svc_request_reject(sv, id, "test",
		    "not on the list") == SCEP_OK, "reject a pending request");
		ias.subject = X509_get_subject_name(c2.signer);
		rep = send_req(&ep_manual, SCEP_MSG_CERTPOLL, c2.transid,
		    c2.key, c2.signer, inner, len, NID_aes_128_cbc, NID_sha256,
		    &http);
		tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE &&
		    strstr(rep->failtext, "not on the list") != NULL,
		    "CertPoll after rejection: FAILURE with the reason");
		scep_msg_free(rep);
		client_free(&c2);
		OPENSSL_free(inner);
	}

	/* One-time challenge: works once, then never again. */
	{
		struct store_otc otc;
		uint8_t h[STORE_HASH_LEN];
		char otp[64];

		memset(&otc, 0, sizeof(otc));
		svc_challenge_generate(otp, sizeof(otp));
		svc_challenge_hash(&cfg, otp, strlen(otp), h);
		otc.account_id = acct_auto_id;
		otc.created_at = time(NULL);
		otc.expires_at = time(NULL) + 600;
		tap_ok(store_otc_insert(st, &otc, h) == SCEP_OK,
		    "mint a one-time challenge");
		client_new(&c2, "otc1", otp);
		rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c2.transid, c2.key,
		    c2.signer, c2.csr, c2.csr_len, NID_aes_128_cbc, NID_sha256,
		    &http);
		tap_ok(rep != NULL && rep->status == SCEP_STATUS_SUCCESS,
		    "one-time challenge: first use SUCCESS");
		scep_msg_free(rep);
		client_free(&c2);
		client_new(&c2, "otc2", otp);
		rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c2.transid, c2.key,
		    c2.signer, c2.csr, c2.csr_len, NID_aes_128_cbc, NID_sha256,
		    &http);
		tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE &&
		    rep->failinfo == SCEP_FAIL_BADREQUEST,
		    "one-time challenge: second use FAILURE badRequest");
		scep_msg_free(rep);
		client_free(&c2);
	}

	/* Account name rules (fnmatch patterns). */
	{
		struct store_account_rules rules;

		memset(&acct, 0, sizeof(acct));
		memset(&rules, 0, sizeof(rules));
		store_account_get(st, acct_auto_id, &acct);
		rules.account_id = acct_auto_id;
		snprintf(rules.cn_pattern, sizeof(rules.cn_pattern), "dev-*");
		tap_ok(store_account_save(st, &acct, &rules) == SCEP_OK,
		    "set CN pattern dev-* on the account");
		client_new(&c2, "printer7", chal_auto);
		rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c2.transid, c2.key,
		    c2.signer, c2.csr, c2.csr_len, NID_aes_128_cbc, NID_sha256,
		    &http);
		tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE &&
		    strstr(rep->failtext, "pattern") != NULL,
		    "CN outside the pattern: FAILURE (%s)",
		    rep ? rep->failtext : "");
		scep_msg_free(rep);
		client_free(&c2);
		client_new(&c2, "dev-42", chal_auto);
		rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c2.transid, c2.key,
		    c2.signer, c2.csr, c2.csr_len, NID_aes_128_cbc, NID_sha256,
		    &http);
		tap_ok(rep != NULL && rep->status == SCEP_STATUS_SUCCESS,
		    "CN inside the pattern: SUCCESS");
		scep_msg_free(rep);
		client_free(&c2);
		rules.cn_pattern[0] = '\0';
		store_account_save(st, &acct, &rules);
	}

	/* Disabled account; enrollment limit. */
	memset(&acct, 0, sizeof(acct));
	store_account_get(st, acct_auto_id, &acct);
	acct.enabled = 0;
	store_account_update(st, &acct);
	client_new(&c2, "dev9", chal_auto);
	rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c2.transid, c2.key,
	    c2.signer, c2.csr, c2.csr_len, NID_aes_128_cbc, NID_sha256, &http);
	tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE &&
	    strstr(rep->failtext, "disabled") != NULL,
	    "disabled account: FAILURE, reason says disabled");
	scep_msg_free(rep);
	client_free(&c2);
	acct.enabled = 1;
	acct.max_enrollments = acct.enrollments;
	store_account_update(st, &acct);
	client_new(&c2, "dev10", chal_auto);
	rep = send_req(&ep_auto, SCEP_MSG_PKCSREQ, c2.transid, c2.key,
	    c2.signer, c2.csr, c2.csr_len, NID_aes_128_cbc, NID_sha256, &http);
	tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE,
	    "account at its enrollment limit: FAILURE");
	scep_msg_free(rep);
	client_free(&c2);

	/* Unknown message type and garbage. */
	client_new(&c2, "dev11", chal_auto);
	rep = send_req(&ep_auto, 18, c2.transid, c2.key, c2.signer, c2.csr,
	    c2.csr_len, NID_aes_128_cbc, NID_sha256, &http);
	tap_ok(rep != NULL && rep->status == SCEP_STATUS_FAILURE &&
	    rep->failinfo == SCEP_FAIL_BADREQUEST,
	    "messageType 18: FAILURE badRequest");
	scep_msg_free(rep);
	client_free(&c2);
	memset(&res, 0, sizeof(res));
	svc_pkioperation(sv, &ep_auto, (const uint8_t *)"garbage", 7,
	    "127.0.0.1", "t", &res);
	tap_ok(res.http_status == 400, "garbage: HTTP 400");
	svc_result_clear(&res);

	/* Audit trail recorded every outcome. */
	{
		struct store_event ev[256];
		size_t n = 0;
		int64_t bad = 0;

		store_event_list(st, 0, ev, 256, &n);
		tap_ok(n >= 20, "audit trail has the enrollment outcomes (%zu)",
		    n);
		tap_ok(store_event_verify(st, &bad) == SCEP_OK,
		    "audit chain verifies");
	}

	X509_free(cert);
	client_free(&c);
	client_free(&r1);
	svc_free(sv);
	keyops_free(ko);
	store_close(st);
	X509_free(cacert);
	X509_free(racert);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
