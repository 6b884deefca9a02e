/*
 * test_oom.c -- allocation-failure ("torture") runs of the core (STYLE
 * H14): every allocation of one call, failed in turn, must give an error
 * return -- never a crash, never a leak (run it under ASan/LSan too).
 *
 * The core allocates only through OPENSSL_malloc, so one
 * CRYPTO_set_mem_functions hook sees all of it, libcrypto included.  The
 * hook must be installed before libcrypto allocates anything, hence first
 * in main().  Lessons of the trial build, applied here:
 *   - warm up first: libcrypto initialises some things lazily and may
 *     remember a failure injected then for the life of the process;
 *   - count the allocations of a clean call, then fail each one in turn,
 *     and do not stop at the first success (libcrypto survives some failed
 *     allocations and still succeeds);
 *   - after the loop the call must succeed again (nothing was remembered).
 *
 * One thing libcrypto does remember: an RSA key caches its blinding
 * values and renews them every 32 private operations; an allocation that
 * fails during that renewal can leave them inconsistent (OpenSSL 3.0), so
 * every later operation with that EVP_PKEY fails.  That is a property of
 * the key object, not of the core, so each iteration gets freshly loaded
 * keys (unarmed) -- what keyproc would do after an out-of-memory error.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "scep.h"
#include "tap.h"
#include "testkeys.h"
#include "testutil.h"

static long	n_alloc;	/* allocations seen while armed */
static long	fail_at = -1;	/* fail allocation number fail_at; -1: off */
static int	armed;

#define WRONG	1	/* "succeeded" with a wrong or partial result */

static void *
t_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (armed && ++n_alloc == fail_at)
		return NULL;
	return malloc(n);
}

static void *
t_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (armed && ++n_alloc == fail_at)
		return NULL;
	return realloc(p, n);
}

static void
t_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/* The objects the cases work on, made before anything is armed. */
static EVP_PKEY	*ra_key, *cl_key;
static X509	*ra, *cl;
static uint8_t	*req, *env, *csr, *ias, *payload;
static size_t	 req_len, env_len, csr_len, ias_len, payload_len;
static char	 getmsg[] = "%2B%2B//PjAB/w%3D%3D%0A";

static int
c_msg(void)
{
	struct scep_msg	*m = NULL;
	int		 r;

	r = scep_msg_decode(req, req_len, SCEP_ALG_DEFAULT, &m);
	/* A success must be the whole result, never a partial one. */
	if (r == SCEP_OK && (strcmp(m->transid, "OOM") != 0 ||
	    m->content_len == 0 || m->signer == NULL))
		r = WRONG;
	scep_msg_free(m);
	return r;
}

static int
c_env(void)
{
	struct scep_keypair	 kp = { ra_key, ra };
	uint8_t			*out = NULL;
	size_t			 len = 0;
	int			 r, cnid = 0;

	r = scep_env_decrypt(env, env_len, &kp, 1, SCEP_ALG_DEFAULT, &out,
	    &len, &cnid);
	if (r == SCEP_OK && (len != csr_len || memcmp(out, csr, len) != 0 ||
	    cnid != NID_aes_128_cbc))
		r = WRONG;
	OPENSSL_free(out);
	return r;
}

static int
c_csr(void)
{
	struct scep_csr	*c = NULL;
	int		 r;

	r = scep_csr_decode(csr, csr_len, &c);
	if (r == SCEP_OK && (c->challenge == NULL ||
	    strcmp(c->challenge, "secret") != 0 || c->sans == NULL ||
	    sk_GENERAL_NAME_num(c->sans) != 2))
		r = WRONG;
	scep_csr_free(c);
	return r;
}

static int
c_ias(void)
{
	struct scep_ias	*i = NULL;
	int		 r;

	r = scep_ias_decode(ias, ias_len, SCEP_MSG_GETCERT, &i);
	if (r == SCEP_OK && ASN1_INTEGER_cmp(i->serial,
	    X509_get0_serialNumber(cl)) != 0)
		r = WRONG;
	scep_ias_free(i);
	return r;
}

static int
c_get(void)
{
	uint8_t	*out = NULL;
	size_t	 len = 0;
	int	 r;

	r = scep_get_message_decode(getmsg, strlen(getmsg), &out, &len);
	OPENSSL_free(out);
	return r;
}

static int
c_certrep(void)
{
	struct scep_reply	 rp;
	uint8_t			*out = NULL;
	size_t			 len = 0;
	int			 r;

	memset(&rp, 0, sizeof(rp));
	rp.status = SCEP_STATUS_SUCCESS;
	rp.transid = "OOM";
	rp.transid_len = 3;
	rp.recipient_nonce = (const uint8_t *)"0123456789abcdef";
	rp.recipient_nonce_len = 16;
	rp.md_nid = NID_sha256;
	rp.cipher_nid = NID_aes_128_cbc;
	rp.recipient = cl;
	rp.payload = payload;
	rp.payload_len = payload_len;
	rp.now = TU_NOW;
	r = scep_certrep_build(&rp, ra_key, ra, NULL, &out, &len);
	OPENSSL_free(out);
	return r;
}

static int
c_certs_only(void)
{
	STACK_OF(X509)	*s = NULL, *got = NULL;
	uint8_t		*out = NULL;
	size_t		 len = 0;
	int		 r = SCEP_E_NOMEM;

	if ((s = sk_X509_new_null()) == NULL || !sk_X509_push(s, cl) ||
	    !sk_X509_push(s, ra))
		goto out;
	if ((r = scep_certs_only(s, NULL, &out, &len)) != SCEP_OK)
		goto out;
	r = scep_certs_only_decode(out, len, &got, NULL);
	if (r == SCEP_OK && (sk_X509_num(got) != 2 ||
	    X509_cmp(sk_X509_value(got, 0), cl) != 0))
		r = WRONG;
 out:
	sk_X509_pop_free(got, X509_free);
	sk_X509_free(s);
	OPENSSL_free(out);
	return r;
}

static int
c_request(void)
{
	struct scep_request	 rq;
	uint8_t			*out = NULL;
	size_t			 len = 0;
	int			 r;

	memset(&rq, 0, sizeof(rq));
	rq.type = SCEP_MSG_PKCSREQ;
	rq.transid = "OOM";
	rq.md_nid = NID_sha256;
	rq.cipher_nid = NID_aes_128_cbc;
	rq.ra = ra;
	rq.inner = csr;
	rq.inner_len = csr_len;
	rq.now = TU_NOW;
	r = scep_request_build(&rq, cl_key, cl, &out, &len);
	OPENSSL_free(out);
	return r;
}

/* Fresh RSA key objects (see the top of the file) and fresh certificate
 * objects: an allocation failure while libcrypto fills an X509's cached
 * data (public key, extension flags) leaves that object broken for good,
 * which is libcrypto's behaviour, not ours.  X509_dup() re-decodes, so the
 * copy starts with an empty cache.  Unarmed. */
static int
fresh_keys(void)
{
	X509 *x;

	EVP_PKEY_free(ra_key);
	EVP_PKEY_free(cl_key);
	ra_key = tu_key(testkey_ra_pem);
	cl_key = tu_key(testkey_client_pem);
	if (ra != NULL && (x = X509_dup(ra)) != NULL) {
		X509_free(ra);
		ra = x;
	}
	if (cl != NULL && (x = X509_dup(cl)) != NULL) {
		X509_free(cl);
		cl = x;
	}
	return ra_key != NULL && cl_key != NULL && ra != NULL && cl != NULL;
}

static void
torture(const char *name, int (*fn)(void), int uses_keys)
{
	long	n, i, failed = 0, bad = 0;
	int	r;

	/* Warm up twice: lazy initialisation happens unarmed. */
	(void)fn();
	r = fn();
	ERR_clear_error();
	if (r != SCEP_OK) {
		tap_ok(0, "oom %s: the clean call fails (r=%d)", name, r);
		return;
	}
	n_alloc = 0;
	fail_at = -1;
	armed = 1;
	r = fn();
	armed = 0;
	n = n_alloc;
	for (i = 1; i <= n; i++) {
		if (uses_keys && !fresh_keys()) {
			tap_ok(0, "oom %s: reloading the keys", name);
			return;
		}
		n_alloc = 0;
		fail_at = i;
		armed = 1;
		r = fn();
		armed = 0;
		ERR_clear_error();
		if (r != SCEP_OK)
			failed++;
		if (r > 0 || r <= SCEP_E__MIN)
			bad++;		/* WRONG, or not in the vocabulary */
	}
	fail_at = -1;
	r = !uses_keys || fresh_keys() ? fn() : -999;
	ERR_clear_error();
	tap_ok(n > 0 && failed > 0 && bad == 0 && r == SCEP_OK,
	    "oom %s: each of %ld allocations failed in turn (%ld calls "
	    "failed cleanly, %ld wrong), then the call works again", name, n,
	    failed, bad);
}

int
main(void)
{
	STACK_OF(X509)	*bag = NULL;
	struct scep_ias	 in;

	/* Before libcrypto allocates anything. */
	if (!CRYPTO_set_mem_functions(t_malloc, t_realloc, t_free)) {
		tap_ok(0, "CRYPTO_set_mem_functions");
		return tap_done();
	}
	TU_NEED(ra_key = tu_key(testkey_ra_pem));
	TU_NEED(cl_key = tu_key(testkey_client_pem));
	TU_NEED(ra = tu_cert(ra_key, "scepd test RA", 2, NULL, NULL, 0));
	TU_NEED(cl = tu_cert(cl_key, "client", 3, NULL, NULL, 0));
	TU_NEED(csr = tu_csr(cl_key, "client", TU_CHAL_UTF8, "secret", 2,
	    &csr_len));
	TU_NEED(req = tu_request(SCEP_MSG_PKCSREQ, "OOM", NID_sha256,
	    NID_aes_128_cbc, 0, ra, cl_key, cl, csr, csr_len, &req_len));
	if (scep_env_encrypt(csr, csr_len, ra, NID_aes_128_cbc, &env,
	    &env_len) != SCEP_OK)
		env = NULL;
	TU_NEED(env);
	memset(&in, 0, sizeof(in));
	in.issuer = X509_get_subject_name(ra);
	in.serial = (ASN1_INTEGER *)X509_get0_serialNumber(cl);
	if (scep_ias_encode(&in, SCEP_MSG_GETCERT, &ias, &ias_len) != SCEP_OK)
		ias = NULL;
	TU_NEED(ias);
	TU_NEED(bag = sk_X509_new_null());
	sk_X509_push(bag, cl);
	if (scep_certs_only(bag, NULL, &payload, &payload_len) != SCEP_OK)
		payload = NULL;
	sk_X509_free(bag);
	TU_NEED(payload);

	torture("scep_get_message_decode", c_get, 0);
	torture("scep_ias_decode", c_ias, 0);
	torture("scep_csr_decode", c_csr, 0);
	torture("scep_msg_decode", c_msg, 0);
	torture("scep_env_decrypt", c_env, 1);
	torture("scep_certs_only + decode", c_certs_only, 0);
	torture("scep_certrep_build", c_certrep, 1);
	torture("scep_request_build", c_request, 1);

	OPENSSL_free(req);
	OPENSSL_free(env);
	OPENSSL_free(csr);
	OPENSSL_free(ias);
	OPENSSL_free(payload);
	X509_free(ra);
	X509_free(cl);
	EVP_PKEY_free(ra_key);
	EVP_PKEY_free(cl_key);
	return tap_done();
}
