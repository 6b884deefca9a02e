/*
 * bench_verify.c -- after the timed phase, check every CertRep the way a
 * careful client would (RFC 8894 3.3.2, spec 9 and 11):
 *   - HTTP 200 and a pkiMessage whose signature verifies (core decoder),
 *     of type CertRep, signed by the RA certificate from GetCACert;
 *   - transactionID equal to ours, recipientNonce equal to our
 *     senderNonce;
 *   - pkiStatus SUCCESS;
 *   - the envelope opens with our key, holds a certificate for the CSR
 *     key, and that certificate chains to --ca (X509_verify_cert);
 * then looks for duplicate (issuer, serial) pairs among the issued
 * certificates.  Runs on b->threads threads: it costs a private-key
 * operation per reply, which must not run during the timed phase.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "bench.h"

static const char *fail_names[BF__MAX] = {
	[BF_NONE] = "none",
	[BF_TRANSPORT] = "transport",
	[BF_HTTP] = "http_status",
	[BF_DECODE] = "certrep_decode",
	[BF_SIGNER] = "certrep_signer",
	[BF_MSGTYPE] = "certrep_msgtype",
	[BF_TRANSID] = "transaction_id",
	[BF_NONCE] = "recipient_nonce",
	[BF_STATUS_FAILURE] = "pki_status_failure",
	[BF_STATUS_PENDING] = "pki_status_pending",
	[BF_DECRYPT] = "reply_decrypt",
	[BF_NOCERT] = "no_cert_for_key",
	[BF_CHAIN] = "chain",
	[BF_BODY] = "body_mismatch",
};

const char *
bench_fail_name(int f)
{
	if (f < 0 || f >= BF__MAX)
		return "unknown";
	return fail_names[f];
}

static pthread_mutex_t example_mu = PTHREAD_MUTEX_INITIALIZER;

/* Keep the first explanation of each kind of failure. */
static int
failed(struct bench *b, struct bench_req *q, int why, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
failed(struct bench *b, struct bench_req *q, int why, const char *fmt, ...)
{
	va_list ap;
	char text[160];

	q->fail = why;
	char *c = NULL;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* Server text (HTTP bodies, failInfoText) goes to one-line output. */
	for (c = text; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
			*c = ' ';
	pthread_mutex_lock(&example_mu);
	if (b->fail_example[why][0] == '\0')
		snprintf(b->fail_example[why], sizeof(b->fail_example[why]),
		    "%s", text);
	if (b->verbose)
		fprintf(stderr, "scepbench: transid=%s key=%u %s: %s\n",
		    q->transid, q->key, bench_fail_name(why), text);
	pthread_mutex_unlock(&example_mu);
	return why;
}

/* "issuer-hash:SERIALHEX", the identity of an issued certificate. */
static void
serial_id(X509 *x, char *buf, size_t bufsz)
{
	BIGNUM *bn = NULL;
	char *h = NULL;

	buf[0] = '\0';
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
	    NULL)
		return;
	if ((h = BN_bn2hex(bn)) != NULL)
		snprintf(buf, bufsz, "%08lx:%s", X509_issuer_name_hash(x), h);
	OPENSSL_free(h);
	BN_free(bn);
}

static int
verify_one(struct bench *b, struct bench_req *q)
{
	struct bench_key *k = &b->keys[q->key];
	struct scep_msg *m = NULL;
	struct scep_keypair kp;
	STACK_OF(X509) *certs = NULL, *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *mine = NULL;
	uint8_t *inner = NULL;
	size_t ilen = 0;
	unsigned int algs;
	int i, r, cnid = 0, rc = BF_NONE;

	if (q->http_status == 0) {
		rc = failed(b, q, BF_TRANSPORT, "no HTTP reply after %.3f s",
		    q->latency);
		goto out;
	}
	if (q->http_status != 200) {
		rc = failed(b, q, BF_HTTP, "HTTP %ld: %.80s", q->http_status,
		    q->reply != NULL && q->reply_len < 512 ?
		    (const char *)q->reply : "");
		goto out;
	}
	if ((r = scep_msg_decode(q->reply, q->reply_len, SCEP_ALG_DEFAULT |
	    SCEP_ALG_LEGACY, &m)) != SCEP_OK) {
		rc = failed(b, q, BF_DECODE, "%s", scep_strerror(r));
		goto out;
	}
	if (m->type != SCEP_MSG_CERTREP) {
		rc = failed(b, q, BF_MSGTYPE, "messageType %d", m->type);
		goto out;
	}
	if (m->signer == NULL || X509_cmp(m->signer, b->ra_sign) != 0) {
		rc = failed(b, q, BF_SIGNER, "CertRep not signed by the RA "
		    "certificate of GetCACert");
		goto out;
	}
	if (m->transid_len != strlen(q->transid) ||
	    memcmp(m->transid, q->transid, m->transid_len) != 0) {
		rc = failed(b, q, BF_TRANSID, "sent %s, got %s", q->transid,
		    m->transid);
		goto out;
	}
	if (m->recipient_nonce_len != sizeof(q->nonce) ||
	    memcmp(m->recipient_nonce, q->nonce, sizeof(q->nonce)) != 0) {
		rc = failed(b, q, BF_NONCE, "recipientNonce is not our "
		    "senderNonce (%zu bytes)", m->recipient_nonce_len);
		goto out;
	}
	if (m->status == SCEP_STATUS_PENDING) {
		rc = failed(b, q, BF_STATUS_PENDING, "PENDING");
		goto out;
	}
	if (m->status != SCEP_STATUS_SUCCESS) {
		rc = failed(b, q, BF_STATUS_FAILURE, "failInfo %s: %s",
		    scep_failinfo_name(m->failinfo), m->failtext);
		goto out;
	}
	kp.key = k->key;
	kp.cert = k->cert;
	algs = SCEP_ALG_AES | SCEP_ALG_DES3 |
	    (b->legacy_loaded ? SCEP_ALG_DES : 0);
	if (m->content == NULL || (r = scep_env_decrypt(m->content,
	    m->content_len, &kp, 1, algs, &inner, &ilen, &cnid)) != SCEP_OK) {
		rc = failed(b, q, BF_DECRYPT, "%s", m->content == NULL ?
		    "no content" : scep_strerror(r));
		goto out;
	}
	{
		int exp = 0;

		if (!atomic_compare_exchange_strong(&b->reply_cipher, &exp,
		    cnid) && exp != cnid)
			atomic_store(&b->reply_cipher_mixed, 1);
	}
	if ((r = scep_certs_only_decode(inner, ilen, &certs, NULL)) !=
	    SCEP_OK) {
		rc = failed(b, q, BF_NOCERT, "degenerate SignedData: %s",
		    scep_strerror(r));
		goto out;
	}
	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);

		if (EVP_PKEY_eq(X509_get0_pubkey(c), k->key) == 1) {
			mine = c;
			break;
		}
	}
	if (mine == NULL) {
		rc = failed(b, q, BF_NOCERT, "%d certificates, none for the "
		    "CSR key", sk_X509_num(certs));
		goto out;
	}
	/* Chain: the reply's certificates and the GetCACert bag may supply
	 * intermediates; only --ca is trusted. */
	if ((untrusted = sk_X509_dup(certs)) == NULL) {
		rc = failed(b, q, BF_CHAIN, "out of memory");
		goto out;
	}
	for (i = 0; i < sk_X509_num(b->bag); i++)
		if (!sk_X509_push(untrusted, sk_X509_value(b->bag, i))) {
			rc = failed(b, q, BF_CHAIN, "out of memory");
			goto out;
		}
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, b->store, mine, untrusted) != 1) {
		rc = failed(b, q, BF_CHAIN, "out of memory");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		rc = failed(b, q, BF_CHAIN, "%s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	serial_id(mine, q->serial, sizeof(q->serial));
 out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);	/* borrowed elements */
	sk_X509_pop_free(certs, X509_free);
	OPENSSL_free(inner);
	scep_msg_free(m);
	ERR_clear_error();
	return rc;
}

struct vctx {
	struct bench	*b;
	_Atomic long	 next;
};

static void *
verify_worker(void *arg)
{
	struct vctx *v = arg;
	struct bench *b = v->b;
	long i;

	while ((i = atomic_fetch_add(&v->next, 1)) < b->nreqs)
		if (b->reqs[i].sent)
			(void)verify_one(b, &b->reqs[i]);
	ERR_clear_error();
	return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
bench_verify(struct bench *b)
{
	pthread_t th[64];
	struct vctx v;
	char **ids = NULL;
	long i, n = 0;
	int k, nt = b->threads, started = 0;

	if (b->op != BENCH_OP_ENROLL) {
		for (k = 0; k < BF__MAX; k++)
			b->fails[k] = b->get_fail[k];
		for (k = 1; k < BF__MAX; k++)
			n += b->fails[k];
		b->ok = b->done - n;
		return SCEP_OK;
	}

	memset(&v, 0, sizeof(v));
	v.b = b;
	atomic_init(&v.next, 0);
	if (nt > 64)
		nt = 64;
	if (nt < 1)
		nt = 1;
	for (k = 0; k < nt; k++) {
		if (pthread_create(&th[k], NULL, verify_worker, &v) != 0)
			break;
		started++;
	}
	if (started == 0)
		verify_worker(&v);
	for (k = 0; k < started; k++)
		pthread_join(th[k], NULL);

	for (i = 0; i < b->nreqs; i++) {
		if (!b->reqs[i].sent)
			continue;
		b->fails[b->reqs[i].fail]++;
		if (b->reqs[i].fail == BF_NONE)
			b->ok++;
	}

	/* Duplicate serials among the verified certificates. */
	if (b->ok > 0 && (ids = calloc((size_t)b->ok, sizeof(*ids))) == NULL)
		return SCEP_E_NOMEM;
	for (i = 0; i < b->nreqs && n < b->ok; i++)
		if (b->reqs[i].sent && b->reqs[i].fail == BF_NONE &&
		    b->reqs[i].serial[0] != '\0')
			ids[n++] = b->reqs[i].serial;
	if (n > 1)
		qsort(ids, (size_t)n, sizeof(*ids), cmp_str);
	for (i = 1; i < n; i++)
		if (strcmp(ids[i], ids[i - 1]) == 0)
			b->duplicates++;
	free(ids);
	return SCEP_OK;
}
