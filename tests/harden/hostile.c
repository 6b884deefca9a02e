/*
 * hostile.c -- builds the hostile inputs of test_hostile.sh (issue 8):
 * messages a real client would never send, made with libcrypto and the
 * protocol core's client builders so that each one is wrong in exactly
 * one way.
 *
 *   hostile nest DEPTH OUT
 *	BER: DEPTH indefinite-length SEQUENCEs inside each other (30 80 ...
 *	00 00 ...), the classic stack-exhaustion input.
 *   hostile csr -k KEY.pem [-s NSANS] [-c CHALLENGE] [-n CN] -o OUT.der
 *	A PKCS#10 signed by KEY, with NSANS dNSName SANs in an
 *	extensionRequest.
 *   hostile fakersa -b BITS -k SIGNKEY.pem [-c CHALLENGE] -o OUT.der
 *	A PKCS#10 whose public key is an RSA modulus of BITS bits (random,
 *	odd, e = 65537) for which nobody has the private key; it is signed
 *	by SIGNKEY, so its signature does not verify either.
 *   hostile req -r RA.pem -k KEY.pem -s SIGNER.pem -i CSR.der -o OUT.der
 *	[-x TXID] [-N NONCEHEX]
 *	A PKCSReq (AES-128, SHA-256) with a chosen transactionID and
 *	senderNonce (for the nonce replay cases).
 *
 * Exit status 0, or 1 with a message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "scep.h"

#define HOSTILE_MAX_DEPTH	10000000
#define HOSTILE_MAX_SANS	100000
#define HOSTILE_MAX_BITS	(1 << 20)
#define HOSTILE_MAX_FILE	(16 * 1024 * 1024)

static int
fail(const char *what)
{
	fprintf(stderr, "hostile: %s\n", what);
	ERR_print_errors_fp(stderr);
	return 1;
}

static int
write_all(const char *path, const uint8_t *p, size_t n)
{
	FILE	*f = NULL;
	int	 ok;

	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static long
num(const char *s, long max)
{
	char	*end = NULL;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max)
		return -1;
	return v;
}

static EVP_PKEY *
read_key(const char *path)
{
	FILE		*f = NULL;
	EVP_PKEY	*k = NULL;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static X509 *
read_cert(const char *path)
{
	FILE	*f = NULL;
	X509	*x = NULL;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static int
read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE	*f = NULL;
	uint8_t	*buf = NULL;
	size_t	 n;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if ((buf = malloc(HOSTILE_MAX_FILE)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, HOSTILE_MAX_FILE, f);
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

static int
cmd_nest(int argc, char **argv)
{
	uint8_t	*p = NULL;
	long	 d;
	size_t	 i, n;
	int	 r;

	if (argc != 3 || (d = num(argv[1], HOSTILE_MAX_DEPTH)) <= 0)
		return fail("usage: nest DEPTH OUT");
	n = (size_t)d * 4;
	if ((p = malloc(n)) == NULL)
		return fail("out of memory");
	for (i = 0; i < (size_t)d; i++) {
		p[2 * i] = 0x30;		/* SEQUENCE, constructed */
		p[2 * i + 1] = 0x80;		/* indefinite length */
	}
	memset(p + 2 * (size_t)d, 0, 2 * (size_t)d);	/* end-of-contents */
	r = write_all(argv[2], p, n);
	free(p);
	return r == 0 ? 0 : fail("cannot write");
}

/* The extensionRequest with "nsans" dNSNames, and a challengePassword. */
static int
csr_attrs(X509_REQ *req, long nsans, const char *challenge)
{
	STACK_OF(X509_EXTENSION)	*exts = NULL;
	GENERAL_NAMES			*gens = NULL;
	GENERAL_NAME			*gn = NULL;
	ASN1_IA5STRING			*ia5 = NULL;
	X509_EXTENSION			*ext = NULL;
	char				 name[64];
	long				 i;
	int				 ok = 0;

	if (nsans > 0) {
		if ((gens = GENERAL_NAMES_new()) == NULL)
			goto out;
		for (i = 0; i < nsans; i++) {
			snprintf(name, sizeof(name), "h%ld.example", i);
			if ((gn = GENERAL_NAME_new()) == NULL ||
			    (ia5 = ASN1_IA5STRING_new()) == NULL ||
			    !ASN1_STRING_set(ia5, name, -1))
				goto out;
			GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
			ia5 = NULL;
			if (!sk_GENERAL_NAME_push(gens, gn))
				goto out;
			gn = NULL;
		}
		if ((ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens)) ==
		    NULL || (exts = sk_X509_EXTENSION_new_null()) == NULL ||
		    !sk_X509_EXTENSION_push(exts, ext))
			goto out;
		ext = NULL;
		if (!X509_REQ_add_extensions(req, exts))
			goto out;
	}
	if (challenge != NULL && !X509_REQ_add1_attr_by_NID(req,
	    NID_pkcs9_challengePassword, MBSTRING_ASC,
	    (const unsigned char *)challenge, -1))
		goto out;
	ok = 1;
 out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_EXTENSION_free(ext);
	GENERAL_NAMES_free(gens);
	GENERAL_NAME_free(gn);
	ASN1_IA5STRING_free(ia5);
	return ok;
}

static int
req_out(X509_REQ *req, const char *path)
{
	unsigned char	*der = NULL;
	int		 n, r;

	if ((n = i2d_X509_REQ(req, &der)) <= 0)
		return -1;
	r = write_all(path, der, (size_t)n);
	OPENSSL_free(der);
	return r;
}

/* A request for "pub" with subject CN=cn, signed by "signer". */
static X509_REQ *
make_req(EVP_PKEY *pub, EVP_PKEY *signer, const char *cn, long nsans,
    const char *challenge)
{
	X509_REQ	*req = NULL;
	X509_NAME	*nm = NULL;

	if ((req = X509_REQ_new()) == NULL || (nm = X509_NAME_new()) ==
	    NULL || !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(req, nm) ||
	    !X509_REQ_set_pubkey(req, pub) ||
	    !csr_attrs(req, nsans, challenge) ||
	    X509_REQ_sign(req, signer, EVP_sha256()) <= 0) {
		X509_REQ_free(req);
		req = NULL;
	}
	X509_NAME_free(nm);
	return req;
}

static int
cmd_csr(int argc, char **argv)
{
	const char	*keyp = NULL, *out = NULL, *chal = NULL;
	const char	*cn = "hostile client";
	EVP_PKEY	*k = NULL;
	X509_REQ	*req = NULL;
	long		 nsans = 0;
	int		 c, r = 1;

	optind = 1;
	while ((c = getopt(argc, argv, "k:s:c:n:o:")) != -1) {
		switch (c) {
		case 'k': keyp = optarg; break;
		case 's': nsans = num(optarg, HOSTILE_MAX_SANS); break;
		case 'c': chal = optarg; break;
		case 'n': cn = optarg; break;
		case 'o': out = optarg; break;
		default: return fail("usage: csr -k KEY [-s N] [-c C] -o OUT");
		}
	}
	if (keyp == NULL || out == NULL || nsans < 0)
		return fail("usage: csr -k KEY [-s N] [-c C] -o OUT");
	if ((k = read_key(keyp)) == NULL)
		return fail("cannot read the key");
	if ((req = make_req(k, k, cn, nsans, chal)) == NULL)
		r = fail("cannot build the request");
	else if (req_out(req, out) != 0)
		r = fail("cannot write");
	else
		r = 0;
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	return r;
}

/* An RSA public key with a random odd BITS-bit modulus. */
static EVP_PKEY *
fake_rsa(long bits)
{
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pk = NULL;
	BIGNUM		*n = NULL, *e = NULL;

	if ((n = BN_new()) == NULL || (e = BN_new()) == NULL ||
	    !BN_rand(n, (int)bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD) ||
	    !BN_set_word(e, 65537) ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pk;
}

static int
cmd_fakersa(int argc, char **argv)
{
	const char	*keyp = NULL, *out = NULL, *chal = NULL;
	EVP_PKEY	*k = NULL, *pub = NULL;
	X509_REQ	*req = NULL;
	long		 bits = 0;
	int		 c, r = 1;

	optind = 1;
	while ((c = getopt(argc, argv, "b:k:c:o:")) != -1) {
		switch (c) {
		case 'b': bits = num(optarg, HOSTILE_MAX_BITS); break;
		case 'k': keyp = optarg; break;
		case 'c': chal = optarg; break;
		case 'o': out = optarg; break;
		default: return fail("usage: fakersa -b BITS -k KEY -o OUT");
		}
	}
	if (bits < 16 || keyp == NULL || out == NULL)
		return fail("usage: fakersa -b BITS -k KEY -o OUT");
	if ((k = read_key(keyp)) == NULL || (pub = fake_rsa(bits)) == NULL)
		r = fail("cannot make the keys");
	else if ((req = make_req(pub, k, "absurd key", 0, chal)) == NULL)
		r = fail("cannot build the request");
	else if (req_out(req, out) != 0)
		r = fail("cannot write");
	else
		r = 0;
	X509_REQ_free(req);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(k);
	return r;
}

static int
hexbytes(const char *s, uint8_t *out, size_t n)
{
	size_t	 i;
	unsigned int v;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int
cmd_req(int argc, char **argv)
{
	const char		*rap = NULL, *keyp = NULL, *sigp = NULL;
	const char		*csrp = NULL, *out = NULL, *txid = NULL;
	const char		*nonce = NULL;
	struct scep_request	 rq;
	EVP_PKEY		*k = NULL;
	X509			*ra = NULL, *signer = NULL;
	uint8_t			*csr = NULL, *msg = NULL;
	size_t			 csrlen = 0, msglen = 0, i;
	int			 c, r = 1;

	optind = 1;
	while ((c = getopt(argc, argv, "r:k:s:i:o:x:N:")) != -1) {
		switch (c) {
		case 'r': rap = optarg; break;
		case 'k': keyp = optarg; break;
		case 's': sigp = optarg; break;
		case 'i': csrp = optarg; break;
		case 'o': out = optarg; break;
		case 'x': txid = optarg; break;
		case 'N': nonce = optarg; break;
		default: return fail("usage: req -r RA -k KEY -s SIGNER "
		    "-i CSR.der -o OUT [-x TXID] [-N NONCEHEX]");
		}
	}
	if (rap == NULL || keyp == NULL || sigp == NULL || csrp == NULL ||
	    out == NULL)
		return fail("usage: req -r RA -k KEY -s SIGNER -i CSR.der "
		    "-o OUT [-x TXID] [-N NONCEHEX]");
	memset(&rq, 0, sizeof(rq));
	if ((ra = read_cert(rap)) == NULL || (signer = read_cert(sigp)) ==
	    NULL || (k = read_key(keyp)) == NULL ||
	    read_file(csrp, &csr, &csrlen) != 0) {
		r = fail("cannot read the inputs");
		goto out;
	}
	rq.type = SCEP_MSG_PKCSREQ;
	rq.transid = txid != NULL ? txid : "hostile-transaction";
	if (nonce != NULL) {
		if (hexbytes(nonce, rq.sender_nonce, SCEP_NONCE_LEN) != 0) {
			r = fail("the nonce is 32 hex digits");
			goto out;
		}
	} else if (RAND_bytes(rq.sender_nonce, SCEP_NONCE_LEN) != 1)
		goto out;
	rq.md_nid = NID_sha256;
	rq.cipher_nid = NID_aes_128_cbc;
	rq.ra = ra;
	rq.inner = csr;
	rq.inner_len = csrlen;
	rq.now = time(NULL);
	if (scep_request_build(&rq, k, signer, &msg, &msglen) != SCEP_OK) {
		r = fail("scep_request_build failed");
		goto out;
	}
	if (write_all(out, msg, msglen) != 0) {
		r = fail("cannot write");
		goto out;
	}
	printf("transactionID=%s\nsenderNonce=", rq.transid);
	for (i = 0; i < SCEP_NONCE_LEN; i++)
		printf("%02x", rq.sender_nonce[i]);
	printf("\n");
	r = 0;
 out:
	OPENSSL_free(msg);
	free(csr);
	X509_free(ra);
	X509_free(signer);
	EVP_PKEY_free(k);
	return r;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return fail("usage: hostile nest|csr|fakersa|req ...");
	if (strcmp(argv[1], "nest") == 0)
		return cmd_nest(argc - 1, argv + 1);
	if (strcmp(argv[1], "csr") == 0)
		return cmd_csr(argc - 1, argv + 1);
	if (strcmp(argv[1], "fakersa") == 0)
		return cmd_fakersa(argc - 1, argv + 1);
	if (strcmp(argv[1], "req") == 0)
		return cmd_req(argc - 1, argv + 1);
	return fail("unknown command");
}
