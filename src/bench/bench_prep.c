/*
 * bench_prep.c -- everything scepbench does before the clock starts:
 * trust anchors, GetCACert (RA selection as jscep and Apple do, spec 4.3),
 * the key pool, PKCS#10 requests with the challenge (spec 12), and every
 * request pkiMessage (scep_request_build from the core).
 *
 * RSA key generation costs tens of milliseconds per key, so keys come
 * from a pool (--keys, default min(requests, 64)) generated in parallel;
 * each request reuses a pool key with its own transactionID and
 * senderNonce (RFC 8894 3.2.1.1, 3.2.1.5), which servers key
 * transactions by.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bench.h"

/* ---- a tiny parallel-for ---- */

struct pfor {
	struct bench	*b;
	long		 n;
	_Atomic long	 next;
	_Atomic int	 err;
	int		(*fn)(struct bench *, long);
};

static void *
pfor_worker(void *arg)
{
	struct pfor *p = arg;
	long i;
	int r;

	while (atomic_load(&p->err) == SCEP_OK &&
	    (i = atomic_fetch_add(&p->next, 1)) < p->n) {
		if ((r = p->fn(p->b, i)) != SCEP_OK) {
			int exp = SCEP_OK;

			atomic_compare_exchange_strong(&p->err, &exp, r);
		}
	}
	ERR_clear_error();	/* per-thread queue, thread ends here */
	return NULL;
}

/* Run fn(b, 0..n-1) on b->threads threads; the first error wins. */
static int
parallel_for(struct bench *b, long n, int (*fn)(struct bench *, long))
{
	pthread_t th[64];
	struct pfor p;
	int i, nt = b->threads, started = 0;

	memset(&p, 0, sizeof(p));
	p.b = b;
	p.n = n;
	p.fn = fn;
	atomic_init(&p.next, 0);
	atomic_init(&p.err, SCEP_OK);
	if (nt > 64)
		nt = 64;
	if (nt > n)
		nt = (int)n;
	for (i = 0; i < nt; i++) {
		if (pthread_create(&th[i], NULL, pfor_worker, &p) != 0)
			break;
		started++;
	}
	if (started == 0 && n > 0)
		pfor_worker(&p);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	return atomic_load(&p.err);
}

/* ---- trust anchors and GetCACert ---- */

static int
load_anchors(struct bench *b)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	int rc = SCEP_E_IO;

	if ((b->anchors = sk_X509_new_null()) == NULL ||
	    (b->store = X509_STORE_new()) == NULL)
		return SCEP_E_NOMEM;
	if ((bio = BIO_new_file(b->ca_path, "r")) == NULL) {
		fprintf(stderr, "scepbench: cannot open %s\n", b->ca_path);
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(b->store, x) != 1 ||
		    !sk_X509_push(b->anchors, x)) {
			X509_free(x);
			rc = SCEP_E_NOMEM;
			goto out;
		}
		x = NULL;
	}
	ERR_clear_error();	/* the loop ends on "no start line" */
	if (sk_X509_num(b->anchors) == 0) {
		fprintf(stderr, "scepbench: no certificate in %s\n",
		    b->ca_path);
		goto out;
	}
	rc = SCEP_OK;
 out:
	BIO_free(bio);
	return rc;
}

static int
is_ca(X509 *x)
{
	return X509_check_ca(x) != 0;
}

/*
 * Pick the certificates to encrypt to and to expect CertReps from (spec
 * 4.3, jscep's rule): the first non-CA certificate with keyEncipherment
 * (resp. digitalSignature), else the CA itself.
 */
static void
pick_ra(struct bench *b)
{
	X509 *x = NULL;
	uint32_t ku;
	int i;

	b->ra_enc = b->ra_sign = NULL;
	for (i = 0; i < sk_X509_num(b->bag); i++) {
		x = sk_X509_value(b->bag, i);
		if (is_ca(x))
			continue;
		ku = X509_get_key_usage(x);	/* UINT32_MAX: no extension */
		if (b->ra_enc == NULL && (ku & KU_KEY_ENCIPHERMENT))
			b->ra_enc = x;
		if (b->ra_sign == NULL && (ku & KU_DIGITAL_SIGNATURE))
			b->ra_sign = x;
	}
	for (i = 0; i < sk_X509_num(b->bag); i++) {
		x = sk_X509_value(b->bag, i);
		if (!is_ca(x))
			continue;
		if (b->ra_enc == NULL)
			b->ra_enc = x;
		if (b->ra_sign == NULL)
			b->ra_sign = x;
		break;
	}
	if (b->ra_enc == NULL && sk_X509_num(b->bag) > 0)
		b->ra_enc = sk_X509_value(b->bag, 0);
	if (b->ra_sign == NULL)
		b->ra_sign = b->ra_enc;
}

/* Does x chain to an anchor, with the bag as intermediates? */
static int
chains(struct bench *b, X509 *x, STACK_OF(X509) *untrusted)
{
	X509_STORE_CTX *ctx = NULL;
	int ok = 0;

	if ((ctx = X509_STORE_CTX_new()) == NULL)
		return 0;
	if (X509_STORE_CTX_init(ctx, b->store, x, untrusted) == 1)
		ok = X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

static int
get_ca(struct bench *b)
{
	uint8_t *body = NULL;
	char *ctype = NULL;
	const unsigned char *p = NULL;
	X509 *x = NULL;
	size_t len = 0;
	long st;
	int r, rc = SCEP_E_MALFORMED;

	st = bench_http_get(b->url, "GetCACaps", b->timeout, &body, &len,
	    NULL);
	if (st == 200) {
		b->caps = (char *)body;
		b->caps_len = len;
		body = NULL;
	}
	free(body);
	body = NULL;

	st = bench_http_get(b->url, "GetCACert", b->timeout, &body, &len,
	    &ctype);
	if (st != 200) {
		fprintf(stderr, "scepbench: GetCACert: HTTP %ld\n", st);
		rc = SCEP_E_IO;
		goto out;
	}
	if (ctype != NULL && strncasecmp(ctype, "application/x-x509-ca-cert",
	    26) == 0) {
		p = body;
		if ((x = d2i_X509(NULL, &p, (long)len)) == NULL ||
		    p != body + len) {
			fprintf(stderr, "scepbench: GetCACert: bad DER "
			    "certificate\n");
			goto out;
		}
		if ((b->bag = sk_X509_new_null()) == NULL ||
		    !sk_X509_push(b->bag, x)) {
			rc = SCEP_E_NOMEM;
			goto out;
		}
		x = NULL;
	} else {
		if ((r = scep_certs_only_decode(body, len, &b->bag, NULL)) !=
		    SCEP_OK || sk_X509_num(b->bag) == 0) {
			fprintf(stderr, "scepbench: GetCACert (%s): %s\n",
			    ctype != NULL ? ctype : "no content type",
			    r != SCEP_OK ? scep_strerror(r) : "empty bag");
			goto out;
		}
	}
	pick_ra(b);
	if (b->ra_enc == NULL || !chains(b, b->ra_enc, b->bag) ||
	    !chains(b, b->ra_sign, b->bag)) {
		fprintf(stderr, "scepbench: the RA certificate does not chain "
		    "to %s\n", b->ca_path);
		goto out;
	}
	b->cacert_body = body;
	b->cacert_len = len;
	body = NULL;
	rc = SCEP_OK;
 out:
	X509_free(x);
	free(body);
	free(ctype);
	return rc;
}

/* ---- keys, CSRs, requests ---- */

static int
make_csr(struct bench *b, EVP_PKEY *key, const char *cn, uint8_t **out,
    size_t *out_len)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	unsigned char *der = NULL;
	int n, rc = SCEP_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	if ((req = X509_REQ_new()) == NULL || (name = X509_NAME_new()) == NULL)
		goto out;
	if (X509_REQ_set_version(req, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1)
		goto out;
	/* spec 12.2: challengePassword as a PKCS#9 attribute. */
	if (b->challenge != NULL && X509_REQ_add1_attr_by_NID(req,
	    NID_pkcs9_challengePassword, MBSTRING_UTF8,
	    (const unsigned char *)b->challenge,
	    (int)strlen(b->challenge)) != 1)
		goto out;
	if (X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		goto out;
	if ((n = i2d_X509_REQ(req, &der)) <= 0)
		goto out;
	*out = der;
	*out_len = (size_t)n;
	rc = SCEP_OK;
 out:
	X509_NAME_free(name);
	X509_REQ_free(req);
	return rc;
}

static int
make_key(struct bench *b, long i)
{
	struct bench_key *k = &b->keys[i];
	char cn[64];
	int r;

	if (k->key == NULL && (k->key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)b->key_bits)) == NULL)
		return SCEP_E_INTERNAL;
	/* Distinct per run and key: some servers index by CN. */
	snprintf(cn, sizeof(cn), "scepbench-%ld-%ld-%ld", (long)getpid(),
	    (long)time(NULL), i);
	if ((r = scep_selfsigned_cert(k->key, cn, time(NULL), 30, &k->cert))
	    != SCEP_OK)
		return r;
	return make_csr(b, k->key, cn, &k->csr, &k->csr_len);
}

/*
 * --key-cache: RSA key generation dominates the preparation, and keys
 * need not be fresh between runs (each run makes new signer certificates,
 * CSRs with new subjects, transactionIDs and nonces).  Take the keys of
 * the right size from the file, then generate the rest.
 */
static void
cache_load(struct bench *b)
{
	BIO *bio = NULL;
	EVP_PKEY *k = NULL;

	if (b->key_cache == NULL ||
	    (bio = BIO_new_file(b->key_cache, "r")) == NULL) {
		ERR_clear_error();
		return;
	}
	while (b->keys_loaded < b->nkeys &&
	    (k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) != NULL) {
		if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA &&
		    EVP_PKEY_get_bits(k) == b->key_bits)
			b->keys[b->keys_loaded++].key = k;
		else
			EVP_PKEY_free(k);
	}
	ERR_clear_error();
	BIO_free(bio);
}

/* Write the whole pool back (0600) when it grew. */
static void
cache_save(struct bench *b)
{
	BIO *bio = NULL;
	char tmp[4096];
	int i, fd, ok = 1;

	if (b->key_cache == NULL || b->keys_loaded >= b->nkeys)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", b->key_cache) >=
	    (int)sizeof(tmp))
		return;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600))
	    < 0)
		return;
	if ((bio = BIO_new_fd(fd, BIO_CLOSE)) == NULL) {
		close(fd);
		return;
	}
	for (i = 0; i < b->nkeys && ok; i++)
		ok = PEM_write_bio_PrivateKey(bio, b->keys[i].key, NULL, NULL,
		    0, NULL, NULL) == 1;
	ok = ok && BIO_flush(bio) == 1;
	BIO_free(bio);
	if (ok)
		ok = rename(tmp, b->key_cache) == 0;
	if (!ok) {
		(void)unlink(tmp);
		fprintf(stderr, "scepbench: could not write %s\n",
		    b->key_cache);
	}
	ERR_clear_error();
}

static int
make_req(struct bench *b, long i)
{
	struct bench_req *q = &b->reqs[i];
	struct bench_key *k = NULL;
	struct scep_request rq;
	uint8_t tid[BENCH_TRANSID_LEN / 2];

	q->key = (unsigned int)(i % b->nkeys);
	k = &b->keys[q->key];
	if (RAND_bytes(tid, sizeof(tid)) != 1 ||
	    RAND_bytes(q->nonce, sizeof(q->nonce)) != 1)
		return SCEP_E_INTERNAL;
	(void)OPENSSL_buf2hexstr_ex(q->transid, sizeof(q->transid), NULL, tid,
	    sizeof(tid), '\0');

	memset(&rq, 0, sizeof(rq));
	rq.type = SCEP_MSG_PKCSREQ;
	rq.transid = q->transid;
	memcpy(rq.sender_nonce, q->nonce, sizeof(rq.sender_nonce));
	rq.md_nid = b->md_nid;
	rq.cipher_nid = b->cipher_nid;
	rq.ra = b->ra_enc;
	rq.inner = k->csr;
	rq.inner_len = k->csr_len;
	rq.now = time(NULL);
	return scep_request_build(&rq, k->key, k->cert, &q->msg, &q->msg_len);
}

int
bench_prepare(struct bench *b)
{
	double t0;
	int r;

	if ((r = bench_http_init()) != SCEP_OK)
		return r;
	b->curl_inited = 1;
	/* Explicitly loading one provider stops the default one from
	 * loading implicitly: load both.  legacy lets us open single-DES
	 * replies (micromdm's scepserver), spec 17.8. */
	if ((b->prov_default = OSSL_PROVIDER_load(NULL, "default")) == NULL)
		return SCEP_E_INTERNAL;
	b->prov_legacy = OSSL_PROVIDER_load(NULL, "legacy");
	b->legacy_loaded = b->prov_legacy != NULL;
	ERR_clear_error();

	if (b->op != BENCH_OP_ENROLL) {
		/* Only the reference bodies, for comparison. */
		long st;
		uint8_t *body = NULL;
		size_t len = 0;

		st = bench_http_get(b->url, b->op == BENCH_OP_GETCACAPS ?
		    "GetCACaps" : "GetCACert", b->timeout, &body, &len, NULL);
		if (st != 200) {
			free(body);
			fprintf(stderr, "scepbench: first request: HTTP %ld\n",
			    st);
			return SCEP_E_IO;
		}
		b->cacert_body = body;
		b->cacert_len = len;
		return SCEP_OK;
	}

	if ((r = load_anchors(b)) != SCEP_OK || (r = get_ca(b)) != SCEP_OK)
		return r;

	if (b->nkeys > b->nreqs)
		b->nkeys = (int)b->nreqs;
	if (b->nkeys < 1)
		b->nkeys = 1;
	if ((b->keys = calloc((size_t)b->nkeys, sizeof(*b->keys))) == NULL ||
	    (b->reqs = calloc((size_t)b->nreqs, sizeof(*b->reqs))) == NULL)
		return SCEP_E_NOMEM;

	t0 = bench_now();
	cache_load(b);
	if ((r = parallel_for(b, b->nkeys, make_key)) != SCEP_OK) {
		fprintf(stderr, "scepbench: key generation: %s\n",
		    scep_strerror(r));
		return r;
	}
	cache_save(b);
	b->prep_keys_s = bench_now() - t0;

	t0 = bench_now();
	if ((r = parallel_for(b, b->nreqs, make_req)) != SCEP_OK) {
		fprintf(stderr, "scepbench: building requests: %s\n",
		    scep_strerror(r));
		return r;
	}
	b->prep_reqs_s = bench_now() - t0;
	return SCEP_OK;
}

void
bench_free(struct bench *b)
{
	long i;

	if (b == NULL)
		return;
	if (b->keys != NULL) {
		for (i = 0; i < b->nkeys; i++) {
			EVP_PKEY_free(b->keys[i].key);
			X509_free(b->keys[i].cert);
			OPENSSL_free(b->keys[i].csr);
		}
		free(b->keys);
		b->keys = NULL;
	}
	if (b->reqs != NULL) {
		for (i = 0; i < b->nreqs; i++) {
			OPENSSL_free(b->reqs[i].msg);
			free(b->reqs[i].reply);
		}
		free(b->reqs);
		b->reqs = NULL;
	}
	sk_X509_pop_free(b->anchors, X509_free);
	b->anchors = NULL;
	sk_X509_pop_free(b->bag, X509_free);
	b->bag = NULL;
	X509_STORE_free(b->store);
	b->store = NULL;
	free(b->cacert_body);
	b->cacert_body = NULL;
	free(b->caps);
	b->caps = NULL;
	free(b->lat);
	b->lat = NULL;
	if (b->prov_legacy != NULL)
		(void)OSSL_PROVIDER_unload(b->prov_legacy);
	b->prov_legacy = NULL;
	if (b->prov_default != NULL)
		(void)OSSL_PROVIDER_unload(b->prov_default);
	b->prov_default = NULL;
	if (b->curl_inited)
		bench_http_cleanup();
	b->curl_inited = 0;
}
