/*
 * test_vectors.c -- the saved messages of tests/vectors/ (written by
 * gen_vectors.c) decode to what the table says.  They are the fixed
 * inputs other components and tools can replay; this test keeps them
 * honest when the core changes.
 *
 *	test_vectors VECTOR_DIR ENV_CORPUS_DIR
 *
 * The second directory is fuzz/corpus/env: its seeds must open with the
 * envelope fuzzer's key, or the fuzzer never gets past key transport.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "scep.h"
#include "tap.h"
#include "testkeys.h"
#include "testutil.h"
#include "../../fuzz/fuzz_keys.h"

static const char	*dir;
static EVP_PKEY		*ra_key, *cl_key;
static X509		*ca, *ra, *cl, *aki;

enum kind { K_REQ, K_REP, K_BAG, K_NEXTCA, K_GET };

static const struct {
	const char	*file;
	enum kind	 kind;
	int		 type;		/* messageType, or pkiStatus for K_REP */
	int		 md;
	int		 cipher;
	const char	*transid;
} rows[] = {
	{ "pkcsreq-aes128-sha256.der", K_REQ, SCEP_MSG_PKCSREQ, NID_sha256,
	    NID_aes_128_cbc, "VECTOR-TRANSACTION-1" },
	{ "pkcsreq-des3-sha1-oaep-aki.der", K_REQ, SCEP_MSG_PKCSREQ, NID_sha1,
	    NID_des_ede3_cbc, "VECTOR-TRANSACTION-1" },
	{ "pkcsreq-aes256-sha512-ski.der", K_REQ, SCEP_MSG_PKCSREQ,
	    NID_sha512, NID_aes_256_cbc, "VECTOR-TRANSACTION-1" },
	{ "pkcsreq-pss-oaep256.der", K_REQ, SCEP_MSG_PKCSREQ, NID_sha256,
	    NID_aes_128_cbc, "VECTOR-TRANSACTION-1" },
	{ "pkcsreq-ber.der", K_REQ, SCEP_MSG_PKCSREQ, NID_sha256,
	    NID_aes_128_cbc, "VECTOR-BER" },
	{ "renewalreq-aes128-sha256.der", K_REQ, SCEP_MSG_RENEWALREQ,
	    NID_sha256, NID_aes_128_cbc, "VECTOR-TRANSACTION-1" },
	{ "certpoll.der", K_REQ, SCEP_MSG_CERTPOLL, NID_sha256,
	    NID_aes_128_cbc, "VECTOR-TRANSACTION-1" },
	{ "getcert.der", K_REQ, SCEP_MSG_GETCERT, NID_sha256,
	    NID_aes_192_cbc, "VECTOR-TRANSACTION-1" },
	{ "getcrl.der", K_REQ, SCEP_MSG_GETCRL, NID_sha256, NID_aes_128_cbc,
	    "VECTOR-TRANSACTION-1" },
	{ "certrep-success.der", K_REP, SCEP_STATUS_SUCCESS, NID_sha256,
	    NID_aes_128_cbc, "VECTOR-TRANSACTION-1" },
	{ "certrep-failure.der", K_REP, SCEP_STATUS_FAILURE, NID_sha256,
	    NID_undef, "VECTOR-TRANSACTION-1" },
	{ "certrep-pending.der", K_REP, SCEP_STATUS_PENDING, NID_sha256,
	    NID_undef, "VECTOR-TRANSACTION-1" },
	{ "getcacert-bag.der", K_BAG, 0, NID_undef, NID_undef, NULL },
	{ "nextca.der", K_NEXTCA, 0, NID_sha256, NID_undef, NULL },
	{ "getmsg-sscep.txt", K_GET, 0, NID_undef, NID_undef, NULL },
};

static uint8_t *
load(const char *name, size_t *len)
{
	char path[1024];

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	return tu_read_file(path, len);
}

static X509 *
load_cert(const char *name)
{
	const unsigned char	*p;
	uint8_t			*der;
	size_t			 len;
	X509			*x = NULL;

	if ((der = load(name, &len)) == NULL)
		return NULL;
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	OPENSSL_free(der);
	return x;
}

/* A request: decode, open the envelope with the RA key, decode inside. */
static const char *
check_req(size_t i, const uint8_t *der, size_t len)
{
	struct scep_keypair	 kp = { ra_key, ra };
	struct scep_msg		*m = NULL;
	struct scep_csr		*csr = NULL;
	struct scep_ias		*ias = NULL;
	uint8_t			*in = NULL;
	size_t			 ilen = 0;
	int			 cnid = 0;
	const char		*why = "decode";

	if (scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) != SCEP_OK)
		goto out;
	why = "fields";
	if (m->type != rows[i].type || m->md_nid != rows[i].md ||
	    strcmp(m->transid, rows[i].transid) != 0 ||
	    m->signing_time != TU_NOW)
		goto out;
	why = "decrypt";
	if (scep_env_decrypt(m->content, m->content_len, &kp, 1,
	    SCEP_ALG_DEFAULT, &in, &ilen, &cnid) != SCEP_OK ||
	    cnid != rows[i].cipher)
		goto out;
	why = "inner";
	if (rows[i].type == SCEP_MSG_PKCSREQ ||
	    rows[i].type == SCEP_MSG_RENEWALREQ) {
		if (scep_csr_decode(in, ilen, &csr) != SCEP_OK ||
		    strcmp(csr->challenge, "vector-challenge") != 0)
			goto out;
	} else if (scep_ias_decode(in, ilen, rows[i].type, &ias) != SCEP_OK ||
	    X509_NAME_cmp(ias->issuer, X509_get_subject_name(ca)) != 0)
		goto out;
	why = NULL;
 out:
	scep_msg_free(m);
	scep_csr_free(csr);
	scep_ias_free(ias);
	OPENSSL_free(in);
	return why;
}

static const char *
check_rep(size_t i, const uint8_t *der, size_t len)
{
	struct scep_keypair	 kp = { cl_key, cl };
	struct scep_msg		*m = NULL;
	STACK_OF(X509)		*certs = NULL;
	uint8_t			*in = NULL;
	size_t			 ilen = 0;
	int			 cnid = 0;
	const char		*why = "decode";

	if (scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) != SCEP_OK)
		goto out;
	why = "fields";
	if (m->type != SCEP_MSG_CERTREP || m->status != rows[i].type ||
	    strcmp(m->transid, rows[i].transid) != 0 ||
	    m->recipient_nonce_len != 16 || X509_cmp(m->signer, ra) != 0)
		goto out;
	if (rows[i].type == SCEP_STATUS_FAILURE &&
	    (m->failinfo != SCEP_FAIL_BADREQUEST ||
	    strcmp(m->failtext, "challenge rejected") != 0))
		goto out;
	if (rows[i].type != SCEP_STATUS_SUCCESS) {
		why = m->content == NULL ? NULL : "content";
		goto out;
	}
	why = "decrypt";
	if (scep_env_decrypt(m->content, m->content_len, &kp, 1,
	    SCEP_ALG_DEFAULT, &in, &ilen, &cnid) != SCEP_OK ||
	    cnid != rows[i].cipher)
		goto out;
	why = "certs";
	if (scep_certs_only_decode(in, ilen, &certs, NULL) != SCEP_OK ||
	    sk_X509_num(certs) != 2 ||
	    X509_cmp(sk_X509_value(certs, 1), ca) != 0)
		goto out;
	why = NULL;
 out:
	sk_X509_pop_free(certs, X509_free);
	scep_msg_free(m);
	OPENSSL_free(in);
	return why;
}

static const char *
check_other(size_t i, const uint8_t *der, size_t len)
{
	STACK_OF(X509)	*certs = NULL;
	X509		*signer = NULL;
	uint8_t		*out = NULL, *want = NULL;
	size_t		 olen = 0, wlen = 0;
	const char	*why = "decode";

	switch (rows[i].kind) {
	case K_BAG:
		if (scep_certs_only_decode(der, len, &certs, NULL) != SCEP_OK)
			break;
		why = sk_X509_num(certs) == 2 &&
		    X509_cmp(sk_X509_value(certs, 0), ra) == 0 &&
		    X509_cmp(sk_X509_value(certs, 1), ca) == 0 ? NULL :
		    "RA first, then CA";
		break;
	case K_NEXTCA:
		if (scep_nextca_decode(der, len, SCEP_ALG_DEFAULT, &certs,
		    &signer) != SCEP_OK)
			break;
		why = X509_cmp(signer, ca) == 0 && sk_X509_num(certs) == 1 ?
		    NULL : "signer or content";
		break;
	case K_GET:
		if (scep_get_message_decode((const char *)der, len, &out,
		    &olen) != SCEP_OK)
			break;
		want = load("pkcsreq-aes128-sha256.der", &wlen);
		why = want != NULL && wlen == olen &&
		    memcmp(want, out, olen) == 0 ? NULL :
		    "differs from pkcsreq-aes128-sha256.der";
		break;
	default:
		why = "kind";
		break;
	}
	sk_X509_pop_free(certs, X509_free);
	X509_free(signer);
	OPENSSL_free(out);
	OPENSSL_free(want);
	return why;
}

/* Every envelope seed opens with the fuzzer's fixed RA key. */
static void
check_env_seeds(const char *edir)
{
	static const char *seeds[] = { "aes128-csr.der", "aes192-ias.der",
	    "aes256-oaep.der", "des3-oaep256.der", "aes128-ski.der",
	    "ber-two-recipients.der" };
	struct scep_keypair	 kp = { NULL, NULL };
	BIO			*b;
	uint8_t			*der, *out;
	char			 path[1024];
	size_t			 i, len, olen;
	int			 r, cnid;

	if ((b = BIO_new_mem_buf(fuzz_ra_key_pem, -1)) != NULL)
		kp.key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if ((b = BIO_new_mem_buf(fuzz_ra_cert_pem, -1)) != NULL)
		kp.cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", edir, seeds[i]);
		out = NULL;
		der = tu_read_file(path, &len);
		r = der != NULL && kp.key != NULL ? scep_env_decrypt(der, len,
		    &kp, 1, SCEP_ALG_DEFAULT, &out, &olen, &cnid) : -999;
		tap_ok(r == SCEP_OK, "fuzz seed env/%s opens with the fuzz "
		    "key (r=%d)", seeds[i], r);
		OPENSSL_free(out);
		OPENSSL_free(der);
	}
	EVP_PKEY_free(kp.key);
	X509_free(kp.cert);
}

int
main(int argc, char *argv[])
{
	uint8_t		*der;
	size_t		 i, len;
	const char	*why;

	if (argc != 3) {
		tap_ok(0, "usage: test_vectors VECTOR_DIR ENV_CORPUS_DIR");
		return tap_done();
	}
	dir = argv[1];
	TU_NEED(ra_key = tu_key(testkey_ra_pem));
	TU_NEED(cl_key = tu_key(testkey_client_pem));
	TU_NEED(ca = load_cert("ca-cert.der"));
	TU_NEED(ra = load_cert("ra-cert.der"));
	TU_NEED(cl = load_cert("client-cert.der"));
	TU_NEED(aki = load_cert("client-aki-cert.der"));

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if ((der = load(rows[i].file, &len)) == NULL) {
			tap_ok(0, "vector %s: missing", rows[i].file);
			continue;
		}
		if (rows[i].kind == K_REQ)
			why = check_req(i, der, len);
		else if (rows[i].kind == K_REP)
			why = check_rep(i, der, len);
		else
			why = check_other(i, der, len);
		tap_ok(why == NULL, "vector %s%s%s", rows[i].file,
		    why ? ": " : "", why ? why : "");
		OPENSSL_free(der);
	}
	check_env_seeds(argv[2]);
	X509_free(ca);
	X509_free(ra);
	X509_free(cl);
	X509_free(aki);
	EVP_PKEY_free(ra_key);
	EVP_PKEY_free(cl_key);
	return tap_done();
}
