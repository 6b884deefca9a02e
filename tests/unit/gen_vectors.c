/*
 * gen_vectors.c -- writes the generated test vectors (tests/vectors/) and
 * the fuzz seeds (fuzz/corpus/<target>/).  Not a test; run by hand after a
 * deliberate format change, then review and commit the files:
 *
 *	ninja -C build tests/unit/gen_vectors
 *	build/tests/unit/gen_vectors tests/vectors fuzz/corpus
 *
 * Keys are the fixed ones of testkeys.h (vectors) and fuzz/fuzz_keys.h
 * (the envelope fuzzer's RA), so test_vectors and fuzz_env can open what
 * is written here.  Certificates come from tu_cert, which is
 * deterministic (fixed names, serials, TU_NOW validity, PKCS#1 v1.5).
 * Envelopes use random keys and IVs, so re-running changes their bytes.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "scep.h"
#include "scep_int.h"
#include "testkeys.h"
#include "testutil.h"
#include "../../fuzz/fuzz_keys.h"

static const char	*vdir, *cdir;
static int		 nfail;

static EVP_PKEY	*ca_key, *ra_key, *cl_key, *ec_key, *fz_key;
static X509	*ca, *ra, *cl, *aki, *issued, *fz_cert;

static void
put(const char *dir, const char *sub, const char *name, const uint8_t *p,
    size_t len)
{
	char path[1024];

	if (sub != NULL)
		(void)snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	else
		(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (p == NULL || !tu_write_file(path, p, len)) {
		fprintf(stderr, "gen_vectors: cannot write %s\n", path);
		nfail++;
		return;
	}
	printf("%s (%zu bytes)\n", path, len);
}

static void
put_cert(const char *name, X509 *x)
{
	unsigned char	*der = NULL;
	int		 n = i2d_X509(x, &der);

	put(vdir, NULL, name, n > 0 ? der : NULL, n > 0 ? (size_t)n : 0);
	OPENSSL_free(der);
}

/* Put in tests/vectors and, when "seed" names a target, its corpus. */
static void
put2(const char *name, const char *seed, uint8_t *p, size_t len)
{
	put(vdir, NULL, name, p, len);
	if (seed != NULL)
		put(cdir, seed, name, p, len);
	OPENSSL_free(p);
}

static uint8_t *
inner_for(int type, size_t *len)
{
	struct scep_ias	 ias;
	uint8_t		*out = NULL;

	memset(&ias, 0, sizeof(ias));
	ias.issuer = X509_get_subject_name(ca);
	if (type == SCEP_MSG_PKCSREQ || type == SCEP_MSG_RENEWALREQ)
		return tu_csr(cl_key, "client", TU_CHAL_PRINTABLE,
		    "vector-challenge", 1, len);
	if (type == SCEP_MSG_CERTPOLL)
		ias.subject = X509_get_subject_name(issued);
	else
		ias.serial = (ASN1_INTEGER *)X509_get0_serialNumber(issued);
	*len = 0;
	if (scep_ias_encode(&ias, type, &out, len) != SCEP_OK)
		return NULL;
	return out;
}

static uint8_t *
request(int type, int md, int cipher, unsigned int flags, X509 *signer,
    size_t *len)
{
	uint8_t	*inner, *out;
	size_t	 ilen = 0;

	if ((inner = inner_for(type, &ilen)) == NULL)
		return NULL;
	out = tu_request(type, "VECTOR-TRANSACTION-1", md, cipher, flags, ra,
	    cl_key, signer, inner, ilen, len);
	OPENSSL_free(inner);
	return out;
}

/* The same request as BER (indefinite lengths, chunked eContent). */
static uint8_t *
ber_request(size_t *len)
{
	struct scep_signreq	 sr;
	struct scep_sattr	 at[3];
	uint8_t			*inner = NULL, *env = NULL, *out = NULL;
	size_t			 ilen = 0, elen = 0;

	*len = 0;
	if ((inner = inner_for(SCEP_MSG_PKCSREQ, &ilen)) == NULL ||
	    scep_env_encrypt(inner, ilen, ra, NID_aes_128_cbc, &env,
	    &elen) != SCEP_OK)
		goto out;
	at[0] = (struct scep_sattr){ SCEP_OID_TRANSID, V_ASN1_PRINTABLESTRING,
	    "VECTOR-BER", 10, 0 };
	at[1] = (struct scep_sattr){ SCEP_OID_MESSAGETYPE,
	    V_ASN1_PRINTABLESTRING, "19", 2, 0 };
	at[2] = (struct scep_sattr){ SCEP_OID_SENDERNONCE,
	    V_ASN1_OCTET_STRING, "nonce-0123456789", 16, 0 };
	memset(&sr, 0, sizeof(sr));
	sr.content = env;
	sr.content_len = elen;
	sr.key = cl_key;
	sr.cert = cl;
	sr.md_nid = NID_sha256;
	sr.now = TU_NOW;
	sr.attrs = at;
	sr.nattrs = 3;
	sr.flags = SCEP_SIGN_BER;
	if (scep_sign(&sr, &out, len) != SCEP_OK)
		out = NULL;
 out:
	OPENSSL_free(inner);
	OPENSSL_free(env);
	return out;
}

static uint8_t *
certrep(int status, int failinfo, size_t *len)
{
	struct scep_reply	 rp;
	STACK_OF(X509)		*bag = sk_X509_new_null();
	uint8_t			*payload = NULL, *out = NULL;
	size_t			 plen = 0;

	*len = 0;
	sk_X509_push(bag, issued);
	sk_X509_push(bag, ca);
	memset(&rp, 0, sizeof(rp));
	rp.status = status;
	rp.failinfo = failinfo;
	rp.failtext = status == SCEP_STATUS_FAILURE ? "challenge rejected" :
	    NULL;
	rp.transid = "VECTOR-TRANSACTION-1";
	rp.transid_len = strlen(rp.transid);
	rp.recipient_nonce = (const uint8_t *)"nonce-0123456789";
	rp.recipient_nonce_len = 16;
	memcpy(rp.sender_nonce, "server-nonce-016", 16);
	rp.md_nid = NID_sha256;
	rp.cipher_nid = NID_aes_128_cbc;
	rp.recipient = cl;
	rp.now = TU_NOW + 5;
	if (status == SCEP_STATUS_SUCCESS) {
		if (scep_certs_only(bag, NULL, &payload, &plen) != SCEP_OK)
			goto out;
		rp.payload = payload;
		rp.payload_len = plen;
	}
	if (scep_certrep_build(&rp, ra_key, ra, NULL, &out, len) != SCEP_OK)
		out = NULL;
 out:
	OPENSSL_free(payload);
	sk_X509_free(bag);
	return out;
}

/* sscep's GET escaping (spec 2.4): 64-char lines, + and = escaped. */
static uint8_t *
sscep_escape(const uint8_t *der, size_t len, size_t *olen)
{
	char	*b64, *esc;
	size_t	 i, n = 0;
	int	 bl;

	*olen = 0;
	b64 = OPENSSL_malloc(len * 2 + 4);
	esc = OPENSSL_malloc(len * 6 + 16);
	if (b64 == NULL || esc == NULL) {
		OPENSSL_free(b64);
		OPENSSL_free(esc);
		return NULL;
	}
	bl = EVP_EncodeBlock((unsigned char *)b64, der, (int)len);
	for (i = 0; i < (size_t)bl; i++) {
		if (i > 0 && i % 64 == 0) {
			memcpy(esc + n, "%0A", 3);
			n += 3;
		}
		if (b64[i] == '+' || b64[i] == '=')
			n += (size_t)snprintf(esc + n, 4, "%%%02X",
			    (unsigned char)b64[i]);
		else
			esc[n++] = b64[i];
	}
	OPENSSL_free(b64);
	*olen = n;
	return (uint8_t *)esc;
}

static void
gen_vectors(void)
{
	STACK_OF(X509)	*bag;
	uint8_t		*p, *q;
	size_t		 len = 0, qlen = 0;

	put_cert("ca-cert.der", ca);
	put_cert("ra-cert.der", ra);
	put_cert("client-cert.der", cl);
	put_cert("client-aki-cert.der", aki);

	p = request(SCEP_MSG_PKCSREQ, NID_sha256, NID_aes_128_cbc, 0, cl,
	    &len);
	q = p != NULL ? sscep_escape(p, len, &qlen) : NULL;
	put2("getmsg-sscep.txt", "getmsg", q, qlen);
	put2("pkcsreq-aes128-sha256.der", "msg", p, len);
	p = request(SCEP_MSG_PKCSREQ, NID_sha1, NID_des_ede3_cbc,
	    SCEP_ENV_OAEP, aki, &len);
	put2("pkcsreq-des3-sha1-oaep-aki.der", "msg", p, len);
	p = request(SCEP_MSG_PKCSREQ, NID_sha512, NID_aes_256_cbc,
	    SCEP_REQ_SIGNER_SKI | SCEP_ENV_RID_SKI, cl, &len);
	put2("pkcsreq-aes256-sha512-ski.der", "msg", p, len);
	p = request(SCEP_MSG_PKCSREQ, NID_sha256, NID_aes_128_cbc,
	    SCEP_REQ_PSS | SCEP_ENV_OAEP_SHA256, cl, &len);
	put2("pkcsreq-pss-oaep256.der", "msg", p, len);
	p = ber_request(&len);
	put2("pkcsreq-ber.der", "msg", p, len);
	p = request(SCEP_MSG_RENEWALREQ, NID_sha256, NID_aes_128_cbc, 0,
	    issued, &len);
	put2("renewalreq-aes128-sha256.der", "msg", p, len);
	p = request(SCEP_MSG_CERTPOLL, NID_sha256, NID_aes_128_cbc, 0, cl,
	    &len);
	put2("certpoll.der", "msg", p, len);
	p = request(SCEP_MSG_GETCERT, NID_sha256, NID_aes_192_cbc, 0, cl,
	    &len);
	put2("getcert.der", "msg", p, len);
	p = request(SCEP_MSG_GETCRL, NID_sha256, NID_aes_128_cbc, 0, cl,
	    &len);
	put2("getcrl.der", "msg", p, len);
	p = certrep(SCEP_STATUS_SUCCESS, 0, &len);
	put2("certrep-success.der", "msg", p, len);
	p = certrep(SCEP_STATUS_FAILURE, SCEP_FAIL_BADREQUEST, &len);
	put2("certrep-failure.der", "msg", p, len);
	p = certrep(SCEP_STATUS_PENDING, 0, &len);
	put2("certrep-pending.der", "msg", p, len);

	bag = sk_X509_new_null();
	sk_X509_push(bag, ra);
	sk_X509_push(bag, ca);
	p = NULL;
	if (scep_certs_only(bag, NULL, &p, &len) != SCEP_OK)
		p = NULL;
	put2("getcacert-bag.der", NULL, p, len);
	sk_X509_zero(bag);
	sk_X509_push(bag, issued);
	p = NULL;
	if (scep_nextca_build(bag, ca_key, ca, NID_sha256, TU_NOW, &p,
	    &len) != SCEP_OK)
		p = NULL;
	put2("nextca.der", "msg", p, len);
	sk_X509_free(bag);
}

/* Envelopes for the envelope fuzzer's fixed RA (fuzz_keys.h). */
static void
gen_env(void)
{
	static const struct {
		const char	*name;
		int		 cipher;
		unsigned int	 flags;
		int		 ias;
	} rows[] = {
		{ "aes128-csr.der", NID_aes_128_cbc, 0, 0 },
		{ "aes192-ias.der", NID_aes_192_cbc, 0, 1 },
		{ "aes256-oaep.der", NID_aes_256_cbc, SCEP_ENV_OAEP, 0 },
		{ "des3-oaep256.der", NID_des_ede3_cbc, SCEP_ENV_OAEP_SHA256, 1 },
		{ "aes128-ski.der", NID_aes_128_cbc, SCEP_ENV_RID_SKI, 0 },
	};
	STACK_OF(X509)	*to = NULL;
	CMS_ContentInfo	*cms = NULL;
	BIO		*in = NULL, *out = NULL;
	uint8_t		*inner, *env;
	char		*mem;
	size_t		 i, ilen, elen;
	long		 n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		inner = inner_for(rows[i].ias ? SCEP_MSG_GETCERT :
		    SCEP_MSG_PKCSREQ, &ilen);
		env = NULL;
		elen = 0;
		if (inner == NULL || scep_env_encrypt_ex(inner, ilen, fz_cert,
		    rows[i].cipher, rows[i].flags, &env, &elen) != SCEP_OK)
			env = NULL;
		put(cdir, "env", rows[i].name, env, elen);
		OPENSSL_free(env);
		OPENSSL_free(inner);
	}
	/* BER (streamed) envelope with two recipients, ours second. */
	inner = inner_for(SCEP_MSG_PKCSREQ, &ilen);
	to = sk_X509_new_null();
	sk_X509_push(to, cl);
	sk_X509_push(to, fz_cert);
	in = inner != NULL ? BIO_new_mem_buf(inner, (int)ilen) : NULL;
	out = BIO_new(BIO_s_mem());
	if (in != NULL && out != NULL && (cms = CMS_encrypt(to, in,
	    EVP_aes_128_cbc(), CMS_BINARY | CMS_STREAM)) != NULL &&
	    i2d_CMS_bio_stream(out, cms, in, CMS_BINARY | CMS_STREAM) &&
	    (n = BIO_get_mem_data(out, &mem)) > 0)
		put(cdir, "env", "ber-two-recipients.der", (uint8_t *)mem,
		    (size_t)n);
	else
		nfail++;
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(out);
	sk_X509_free(to);
	OPENSSL_free(inner);
}

static void
gen_csr(void)
{
	static const struct {
		const char	*name;
		enum tu_chal	 ct;
		const char	*chal;
		int		 sans;
		int		 ec;
	} rows[] = {
		{ "printable.der", TU_CHAL_PRINTABLE, "Secret-123", 0, 0 },
		{ "utf8-sans.der", TU_CHAL_UTF8, "p\xc3\xa4ss_w", 3, 0 },
		{ "bmp.der", TU_CHAL_BMP, "pass\xe2\x82\xac", 0, 0 },
		{ "universal.der", TU_CHAL_UNIVERSAL, "p\xf0\x9f\x98\x80", 0, 0 },
		{ "t61.der", TU_CHAL_T61, "p\xc3\xa4sswort", 0, 0 },
		{ "ia5.der", TU_CHAL_IA5, "a@b#c", 0, 0 },
		{ "none.der", TU_CHAL_NONE, NULL, 0, 0 },
		{ "ec-p256.der", TU_CHAL_PRINTABLE, "ec", 1, 1 },
	};
	uint8_t	*p;
	size_t	 i, len;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		p = tu_csr(rows[i].ec ? ec_key : cl_key, "fuzz device",
		    rows[i].ct, rows[i].chal, rows[i].sans, &len);
		put(cdir, "csr", rows[i].name, p, len);
		OPENSSL_free(p);
	}
}

static void
gen_getmsg_ias(void)
{
	static const char *texts[][2] = {
		{ "plain.txt", "MAMCAQU=" },
		{ "apple.txt", "++//PjAB/w%3D%3D" },
		{ "escaped.txt", "%2B%2B%2F%2FPjAB%2Fw%3D%3D" },
		{ "base64url.txt", "--__PjAB_w" },
		{ "crlf-form.txt", "  //%0D%0APjAB/w==" },
	};
	struct scep_ias	 ias;
	uint8_t		*p = NULL;
	size_t		 i, len = 0;
	static const int types[] = { SCEP_MSG_GETCERT, SCEP_MSG_CERTPOLL };
	static const char *names[] = { "issuer-serial.der",
	    "issuer-subject.der" };

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		put(cdir, "getmsg", texts[i][0], (const uint8_t *)texts[i][1],
		    strlen(texts[i][1]));
	memset(&ias, 0, sizeof(ias));
	ias.issuer = X509_get_subject_name(ca);
	ias.serial = (ASN1_INTEGER *)X509_get0_serialNumber(issued);
	ias.subject = X509_get_subject_name(issued);
	for (i = 0; i < 2; i++) {
		p = NULL;
		if (scep_ias_encode(&ias, types[i], &p, &len) != SCEP_OK)
			p = NULL;
		put(cdir, "ias", names[i], p, len);
		OPENSSL_free(p);
	}
}

static X509 *
pem_cert(const char *pem)
{
	BIO	*b = BIO_new_mem_buf(pem, -1);
	X509	*x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

int
main(int argc, char *argv[])
{
	if (argc != 3) {
		fprintf(stderr, "usage: gen_vectors VECTOR_DIR CORPUS_DIR\n");
		return 2;
	}
	vdir = argv[1];
	cdir = argv[2];
	if ((ca_key = tu_key(testkey_other_pem)) == NULL ||
	    (ra_key = tu_key(testkey_ra_pem)) == NULL ||
	    (cl_key = tu_key(testkey_client_pem)) == NULL ||
	    (ec_key = tu_key(testkey_ec256_pem)) == NULL ||
	    (fz_key = tu_key(fuzz_ra_key_pem)) == NULL ||
	    (fz_cert = pem_cert(fuzz_ra_cert_pem)) == NULL ||
	    (ca = tu_cert(ca_key, "scepd test CA", 1, NULL, NULL,
	    TU_CA)) == NULL ||
	    (ra = tu_cert(ra_key, "scepd test RA", 2, ca, ca_key, 0)) == NULL ||
	    (cl = tu_cert(cl_key, "client tmp", 3, NULL, NULL, 0)) == NULL ||
	    (aki = tu_cert(cl_key, "SCEP Protocol Certificate", 5, NULL, NULL,
	    TU_AKI_CRIT)) == NULL ||
	    (issued = tu_cert(cl_key, "client", 4, ca, ca_key, 0)) == NULL) {
		fprintf(stderr, "gen_vectors: setup failed\n");
		return 1;
	}
	gen_vectors();
	gen_env();
	gen_csr();
	gen_getmsg_ias();
	X509_free(ca);
	X509_free(ra);
	X509_free(cl);
	X509_free(aki);
	X509_free(issued);
	X509_free(fz_cert);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(ra_key);
	EVP_PKEY_free(cl_key);
	EVP_PKEY_free(ec_key);
	EVP_PKEY_free(fz_key);
	return nfail != 0;
}
