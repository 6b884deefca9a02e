/*
 * test_bench_verify.c -- scepbench's reply verifier (src/bench/
 * bench_verify.c), the other half of issue 7's tooling: a load generator
 * that counted bad replies as good would make every benchmark number
 * meaningless.  CertReps are built here with the protocol core playing
 * the server (CA-direct: the CA signs replies), one per way a reply can
 * be wrong, and each must be classified as exactly that failure; two
 * certificates with one serial must count as a duplicate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bench.h"
#include "tap.h"

static EVP_PKEY *
rsa(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e = NULL;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, e, -1) == 1;
	X509_EXTENSION_free(e);
	return ok;
}

/* A certificate for "pub" named cn, issued by issuer/ikey (self-signed
 * when issuer is NULL); a CA when "ca". */
static X509 *
make_cert(EVP_PKEY *pub, const char *cn, X509 *issuer, EVP_PKEY *ikey,
    long serial, int ca)
{
	X509 *x = NULL;
	X509_NAME *n = NULL;

	if ((x = X509_new()) == NULL || (n = X509_NAME_new()) == NULL)
		goto bad;
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), serial) != 1 ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, n) != 1 ||
	    X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : n) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
	    X509_set_pubkey(x, pub) != 1)
		goto bad;
	if (ca && (!add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign,"
	    "digitalSignature,keyEncipherment")))
		goto bad;
	if (X509_sign(x, ikey, EVP_sha256()) <= 0)
		goto bad;
	X509_NAME_free(n);
	return x;
 bad:
	X509_NAME_free(n);
	X509_free(x);
	return NULL;
}

/* What the fake server puts into one reply. */
struct spec {
	const char	*name;
	int		 expect;	/* enum bench_fail */
	long		 http;		/* 0: no reply */
	int		 garbage;	/* body is not a pkiMessage */
	int		 status;	/* SCEP_STATUS_* */
	int		 bad_nonce, bad_transid, other_signer, other_key;
	int		 untrusted;	/* certificate from another CA */
	long		 serial;
};

static const struct spec specs[] = {
	{ "good reply", BF_NONE, 200, 0, SCEP_STATUS_SUCCESS,
	    0, 0, 0, 0, 0, 100 },
	{ "same serial again", BF_NONE, 200, 0, SCEP_STATUS_SUCCESS,
	    0, 0, 0, 0, 0, 100 },
	{ "another good reply", BF_NONE, 200, 0, SCEP_STATUS_SUCCESS,
	    0, 0, 0, 0, 0, 101 },
	{ "no HTTP reply", BF_TRANSPORT, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "HTTP 500", BF_HTTP, 500, 1, 0, 0, 0, 0, 0, 0, 0 },
	{ "not a pkiMessage", BF_DECODE, 200, 1, 0, 0, 0, 0, 0, 0, 0 },
	{ "recipientNonce differs", BF_NONCE, 200, 0, SCEP_STATUS_SUCCESS,
	    1, 0, 0, 0, 0, 102 },
	{ "transactionID differs", BF_TRANSID, 200, 0, SCEP_STATUS_SUCCESS,
	    0, 1, 0, 0, 0, 103 },
	{ "signed by another key", BF_SIGNER, 200, 0, SCEP_STATUS_SUCCESS,
	    0, 0, 1, 0, 0, 104 },
	{ "FAILURE", BF_STATUS_FAILURE, 200, 0, SCEP_STATUS_FAILURE,
	    0, 0, 0, 0, 0, 0 },
	{ "PENDING", BF_STATUS_PENDING, 200, 0, SCEP_STATUS_PENDING,
	    0, 0, 0, 0, 0, 0 },
	{ "certificate for another key", BF_NOCERT, 200, 0,
	    SCEP_STATUS_SUCCESS, 0, 0, 0, 1, 0, 105 },
	{ "certificate from another CA", BF_CHAIN, 200, 0,
	    SCEP_STATUS_SUCCESS, 0, 0, 0, 0, 1, 106 },
};
#define NSPECS	(sizeof(specs) / sizeof(specs[0]))

int
main(void)
{
	struct bench b;
	struct bench_key key;
	EVP_PKEY *cakey = NULL, *otherkey = NULL, *ckey = NULL;
	X509 *ca = NULL, *other = NULL, *signer = NULL;
	size_t i;
	int ok = 1;

	memset(&b, 0, sizeof(b));
	memset(&key, 0, sizeof(key));
	if ((cakey = rsa()) == NULL || (otherkey = rsa()) == NULL ||
	    (ckey = rsa()) == NULL ||
	    (ca = make_cert(cakey, "bench test CA", NULL, cakey, 1, 1)) ==
	    NULL ||
	    (other = make_cert(otherkey, "bench test CA", NULL, otherkey, 2,
	    1)) == NULL ||
	    scep_selfsigned_cert(ckey, "client", time(NULL), 1, &signer) !=
	    SCEP_OK) {
		tap_ok(0, "test keys and certificates");
		return tap_done();
	}
	key.key = ckey;
	key.cert = signer;

	b.op = BENCH_OP_ENROLL;
	b.threads = 2;
	b.keys = &key;
	b.nkeys = 1;
	b.store = X509_STORE_new();
	b.bag = sk_X509_new_null();
	if (b.store == NULL || b.bag == NULL ||
	    X509_STORE_add_cert(b.store, ca) != 1 ||
	    !sk_X509_push(b.bag, ca)) {
		tap_ok(0, "trust store");
		return tap_done();
	}
	b.ra_enc = b.ra_sign = ca;
	b.nreqs = (long)NSPECS;
	if ((b.reqs = calloc(NSPECS, sizeof(*b.reqs))) == NULL)
		return 1;

	for (i = 0; i < NSPECS; i++) {
		const struct spec *sp = &specs[i];
		struct bench_req *q = &b.reqs[i];
		struct scep_reply rp;
		STACK_OF(X509) *certs = NULL;
		X509 *issued = NULL;
		uint8_t *payload = NULL, *out = NULL, nonce[SCEP_NONCE_LEN];
		size_t plen = 0, olen = 0;
		char tid[BENCH_TRANSID_LEN + 2];

		snprintf(q->transid, sizeof(q->transid), "TID%02zu", i);
		RAND_bytes(q->nonce, sizeof(q->nonce));
		q->key = 0;
		q->sent = 1;
		q->http_status = sp->http;
		if (sp->http == 0)
			continue;
		if (sp->garbage) {
			q->reply = (uint8_t *)strdup("internal error\n");
			q->reply_len = strlen((char *)q->reply);
			continue;
		}
		if (sp->status == SCEP_STATUS_SUCCESS) {
			issued = make_cert(sp->other_key ? otherkey : ckey,
			    "client", sp->untrusted ? other : ca,
			    sp->untrusted ? otherkey : cakey, sp->serial, 0);
			if (issued == NULL || (certs = sk_X509_new_null()) ==
			    NULL || !sk_X509_push(certs, issued) ||
			    scep_certs_only(certs, NULL, &payload, &plen) !=
			    SCEP_OK)
				ok = 0;
		}
		memcpy(nonce, q->nonce, sizeof(nonce));
		if (sp->bad_nonce)
			nonce[0] ^= 1;
		snprintf(tid, sizeof(tid), "%s%s", q->transid,
		    sp->bad_transid ? "x" : "");
		memset(&rp, 0, sizeof(rp));
		rp.status = sp->status;
		rp.failinfo = SCEP_FAIL_BADREQUEST;
		rp.failtext = sp->status == SCEP_STATUS_FAILURE ? "no" : NULL;
		rp.transid = tid;
		rp.transid_len = strlen(tid);
		rp.recipient_nonce = nonce;
		rp.recipient_nonce_len = sizeof(nonce);
		RAND_bytes(rp.sender_nonce, sizeof(rp.sender_nonce));
		rp.md_nid = NID_sha256;
		rp.cipher_nid = NID_aes_128_cbc;
		rp.recipient = signer;
		rp.payload = payload;
		rp.payload_len = plen;
		rp.now = time(NULL);
		if (scep_certrep_build(&rp, sp->other_signer ? otherkey : cakey,
		    sp->other_signer ? other : ca, NULL, &out, &olen) !=
		    SCEP_OK)
			ok = 0;
		else if ((q->reply = malloc(olen + 1)) != NULL) {
			memcpy(q->reply, out, olen);
			q->reply_len = olen;
		}
		OPENSSL_free(out);
		OPENSSL_free(payload);
		sk_X509_pop_free(certs, X509_free);
	}
	tap_ok(ok, "%zu replies built by the core", NSPECS);
	b.done = b.nreqs;

	tap_ok(bench_verify(&b) == SCEP_OK, "bench_verify runs");
	for (i = 0; i < NSPECS; i++)
		tap_ok(b.reqs[i].fail == specs[i].expect, "%s: %s (got %s)",
		    specs[i].name, bench_fail_name(specs[i].expect),
		    bench_fail_name(b.reqs[i].fail));
	tap_ok(b.ok == 3, "3 replies verified (%ld)", b.ok);
	tap_ok(b.duplicates == 1, "one duplicate serial (%ld)", b.duplicates);
	tap_ok(b.fails[BF_NONE] == 3 && b.fails[BF_CHAIN] == 1,
	    "failure counts by kind");
	tap_ok(atomic_load(&b.reply_cipher) == NID_aes_128_cbc,
	    "reply cipher recorded");
	tap_ok(strstr(b.fail_example[BF_HTTP], "HTTP 500") != NULL,
	    "first failure explained: \"%s\"", b.fail_example[BF_HTTP]);

	for (i = 0; i < NSPECS; i++)
		free(b.reqs[i].reply);
	free(b.reqs);
	sk_X509_free(b.bag);
	X509_STORE_free(b.store);
	X509_free(ca);
	X509_free(other);
	X509_free(signer);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(otherkey);
	EVP_PKEY_free(ckey);
	return tap_done();
}
