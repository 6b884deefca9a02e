/*
 * test_env.c -- scep_env_decrypt / scep_env_encrypt (src/core/scep_env.c):
 * the pkcsPKIEnvelope of spec 6.4 -- ciphers, key transports, recipient
 * identifiers, key selection, and damaged input.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "scep.h"
#include "scep_int.h"
#include "tap.h"
#include "testkeys.h"
#include "testutil.h"

static EVP_PKEY	*ra_key, *cl_key, *other_key;
static X509	*ra, *cl, *other;
static uint8_t	*payload;	/* a PKCS#10: what requests carry */
static size_t	 payload_len;

/* Decrypt with keys and compare with the payload. */
static int
roundtrip(const uint8_t *env, size_t len, const struct scep_keypair *kp,
    size_t nkp, unsigned int algs, int *cnid)
{
	uint8_t	*out = NULL;
	size_t	 olen = 0;
	int	 r;

	r = scep_env_decrypt(env, len, kp, nkp, algs, &out, &olen, cnid);
	if (r == SCEP_OK && (olen != payload_len ||
	    memcmp(out, payload, olen) != 0))
		r = -999;
	if (r != SCEP_OK && (out != NULL || olen != 0))
		r = -998;		/* outputs must be clear on error */
	OPENSSL_free(out);
	return r;
}

/* Walk ContentInfo -> [0] -> EnvelopedData -> version with libcrypto's
 * header reader; returns the version or -1. */
static int
env_version(const uint8_t *der, size_t len)
{
	const unsigned char	*p = der, *end = der + len;
	long			 plen;
	int			 tag, xc, i;

	for (i = 0; i < 5; i++) {
		if (ASN1_get_object(&p, &plen, &tag, &xc, end - p) & 0x80)
			return -1;
		if (i == 1)
			p += plen;	/* skip contentType */
		if (i == 4)
			return tag == V_ASN1_INTEGER && plen == 1 ? p[0] : -1;
	}
	return -1;
}

/* The ktri's key-encryption OID and whether its rid is a key id. */
static int
ktri_info(const uint8_t *der, size_t len, int *kalg, int *is_ski)
{
	CMS_ContentInfo		*cms;
	CMS_RecipientInfo	*ri;
	X509_ALGOR		*alg = NULL;
	const ASN1_OBJECT	*obj = NULL;
	ASN1_OCTET_STRING	*keyid = NULL;
	X509_NAME		*iss = NULL;
	ASN1_INTEGER		*sno = NULL;
	const unsigned char	*p = der;
	int			 ok = 0;

	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL)
		return 0;
	ri = sk_CMS_RecipientInfo_value(CMS_get0_RecipientInfos(cms), 0);
	if (ri != NULL && CMS_RecipientInfo_ktri_get0_algs(ri, NULL, NULL,
	    &alg) == 1 && CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid,
	    &iss, &sno) == 1) {
		X509_ALGOR_get0(&obj, NULL, NULL, alg);
		*kalg = OBJ_obj2nid(obj);
		*is_ski = keyid != NULL;
		ok = 1;
	}
	CMS_ContentInfo_free(cms);
	return ok;
}

/* A CMS envelope built directly with libcrypto (shapes the core does not
 * make): several recipients, BER streaming, password recipients. */
static uint8_t *
raw_env(STACK_OF(X509) *to, const EVP_CIPHER *c, int stream, int pwri,
    size_t *len)
{
	CMS_ContentInfo	*cms = NULL;
	BIO		*in = NULL, *out = NULL;
	uint8_t		*der = NULL;
	unsigned char	*pw = NULL;
	char		*mem;
	long		 n;
	unsigned int	 fl = CMS_BINARY | (stream ? CMS_STREAM : 0);

	*len = 0;
	in = BIO_new_mem_buf(payload, (int)payload_len);
	if (pwri) {
		/* add0: the CMS object takes (and frees) the password. */
		if ((pw = OPENSSL_memdup("challenge", 9)) == NULL)
			goto out;
		if ((cms = CMS_EnvelopedData_create(c)) == NULL ||
		    CMS_add0_recipient_password(cms, -1, NID_undef,
		    NID_undef, pw, 9, NULL) == NULL) {
			OPENSSL_free(pw);
			goto out;
		}
		if (!CMS_set_detached(cms, 0) ||
		    !CMS_final(cms, in, NULL, CMS_BINARY))
			goto out;
	} else if ((cms = CMS_encrypt(to, in, c, fl)) == NULL)
		goto out;
	if ((out = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	if (stream) {
		if (!i2d_CMS_bio_stream(out, cms, in, (int)fl))
			goto out;
	} else if (!i2d_CMS_bio(out, cms))
		goto out;
	if ((n = BIO_get_mem_data(out, &mem)) <= 0)
		goto out;
	if ((der = OPENSSL_malloc((size_t)n)) == NULL)
		goto out;
	memcpy(der, mem, (size_t)n);
	*len = (size_t)n;
 out:
	BIO_free(out);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	return der;
}

static void
test_ciphers(void)
{
	static const struct {
		int		 nid;
		unsigned int	 algs;	/* allowed: decrypts */
		unsigned int	 deny;	/* allowed set without it */
	} rows[] = {
		{ NID_aes_128_cbc, SCEP_ALG_AES, SCEP_ALG_DES3 },
		{ NID_aes_192_cbc, SCEP_ALG_AES, SCEP_ALG_DES3 },
		{ NID_aes_256_cbc, SCEP_ALG_AES, SCEP_ALG_DES3 },
		{ NID_des_ede3_cbc, SCEP_ALG_DES3, SCEP_ALG_AES },
	};
	struct scep_keypair	 kp = { ra_key, ra };
	uint8_t			*env = NULL;
	size_t			 i, len;
	int			 r, cnid, kalg = 0, ski = 1;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		r = scep_env_encrypt(payload, payload_len, ra, rows[i].nid,
		    &env, &len);
		tap_ok(r == SCEP_OK && env_version(env, len) == 0 &&
		    ktri_info(env, len, &kalg, &ski) &&
		    kalg == NID_rsaEncryption && !ski,
		    "%s: EnvelopedData v0, ktri issuerAndSerial, PKCS#1 v1.5",
		    OBJ_nid2sn(rows[i].nid));
		cnid = 0;
		r = roundtrip(env, len, &kp, 1, rows[i].algs, &cnid);
		tap_ok(r == SCEP_OK && cnid == rows[i].nid,
		    "%s: decrypts, cipher reported (r=%d)",
		    OBJ_nid2sn(rows[i].nid), r);
		/* Refused before any key is touched: no keys at all. */
		r = roundtrip(env, len, NULL, 0, rows[i].deny, &cnid);
		tap_ok(r == SCEP_E_BADALG && cnid == NID_undef,
		    "%s: not allowed -> BADALG before decryption (r=%d)",
		    OBJ_nid2sn(rows[i].nid), r);
		OPENSSL_free(env);
		env = NULL;
	}
}

/* Single DES: only with the legacy provider (loaded by the caller, here
 * the test) and only with SCEP_ALG_DES. */
static void
test_des(void)
{
	struct scep_keypair	 kp = { ra_key, ra };
	uint8_t			*env = NULL;
	size_t			 len = 0;
	int			 r, cnid = 0;

	r = scep_env_encrypt(payload, payload_len, ra, NID_des_cbc, &env,
	    &len);
	tap_ok(r == SCEP_E_BADALG && env == NULL,
	    "DES without the legacy provider: BADALG (r=%d)", r);
	tap_ok(tu_load_legacy(), "legacy provider loaded by the test");
	r = scep_env_encrypt(payload, payload_len, ra, NID_des_cbc, &env,
	    &len);
	tap_ok(r == SCEP_OK, "DES envelope built with the legacy provider");
	r = roundtrip(env, len, &kp, 1, SCEP_ALG_DEFAULT, &cnid);
	tap_ok(r == SCEP_E_BADALG, "DES refused without SCEP_ALG_DES (r=%d)",
	    r);
	r = roundtrip(env, len, &kp, 1, SCEP_ALG_DEFAULT | SCEP_ALG_DES,
	    &cnid);
	tap_ok(r == SCEP_OK && cnid == NID_des_cbc,
	    "DES accepted with SCEP_ALG_DES (r=%d)", r);
	OPENSSL_free(env);
}

static void
test_transports(void)
{
	static const struct {
		const char	*name;
		unsigned int	 flags;
		int		 kalg;
		int		 ski;
	} rows[] = {
		{ "PKCS#1 v1.5", 0, NID_rsaEncryption, 0 },
		{ "OAEP SHA-1 defaults (Windows)", SCEP_ENV_OAEP,
		    NID_rsaesOaep, 0 },
		{ "OAEP SHA-256", SCEP_ENV_OAEP_SHA256, NID_rsaesOaep, 0 },
		{ "rid subjectKeyIdentifier", SCEP_ENV_RID_SKI,
		    NID_rsaEncryption, 1 },
		{ "OAEP + SKI", SCEP_ENV_OAEP | SCEP_ENV_RID_SKI,
		    NID_rsaesOaep, 1 },
	};
	struct scep_keypair	 kp = { ra_key, ra };
	uint8_t			*env = NULL;
	size_t			 i, len = 0;
	int			 r, kalg = 0, ski = -1, cnid;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		r = scep_env_encrypt_ex(payload, payload_len, ra,
		    NID_aes_256_cbc, rows[i].flags, &env, &len);
		tap_ok(r == SCEP_OK && ktri_info(env, len, &kalg, &ski) &&
		    kalg == rows[i].kalg && ski == rows[i].ski,
		    "%s: envelope has the expected ktri", rows[i].name);
		r = roundtrip(env, len, &kp, 1, SCEP_ALG_DEFAULT, &cnid);
		tap_ok(r == SCEP_OK, "%s: decrypts (r=%d)", rows[i].name, r);
		OPENSSL_free(env);
		env = NULL;
	}
}

/* Which key, by which rid (spec 6.4 server rule). */
static void
test_keys(void)
{
	X509			*ra_multi = NULL, *ra_rev = NULL, *ra_alias = NULL;
	STACK_OF(X509)		*to = NULL;
	uint8_t			*env = NULL;
	size_t			 len = 0;
	int			 r, cnid;

	ra_multi = tu_cert(ra_key, "RA", 4711, NULL, NULL, TU_RDN_MULTI);
	ra_rev = tu_cert(ra_key, "RA", 4711, NULL, NULL, TU_RDN_REV);
	ra_alias = tu_cert(ra_key, "RA alias", 4712, NULL, NULL, 0);

	/* Two keys; the rid names the second. */
	{
		struct scep_keypair kp[2] = { { other_key, other },
		    { ra_key, ra } };

		r = scep_env_encrypt(payload, payload_len, ra,
		    NID_aes_128_cbc, &env, &len);
		r = r == SCEP_OK ? roundtrip(env, len, kp, 2,
		    SCEP_ALG_DEFAULT, &cnid) : r;
		tap_ok(r == SCEP_OK, "rid names the second key (r=%d)", r);
		OPENSSL_free(env);
		env = NULL;
	}
	/* Issuer RDNs re-ordered by the client (jscep #180). */
	{
		struct scep_keypair kp = { ra_key, ra_multi };
		struct scep_keypair trap[2] = { { other_key, ra_multi },
		    { ra_key, other } };

		r = scep_env_encrypt(payload, payload_len, ra_rev,
		    NID_aes_128_cbc, &env, &len);
		r = r == SCEP_OK ? roundtrip(env, len, &kp, 1,
		    SCEP_ALG_DEFAULT, &cnid) : r;
		tap_ok(r == SCEP_OK, "issuer RDNs re-ordered: decrypts "
		    "(r=%d)", r);
		/*
		 * Proof that the rid matched (and the blind path was not
		 * used): pair the matching certificate with a wrong key and
		 * offer the right key under an unrelated certificate.  A
		 * matched rid pins the wrong key -> DECRYPT; a blind search
		 * would have succeeded.
		 */
		r = roundtrip(env, len, trap, 2, SCEP_ALG_DEFAULT, &cnid);
		tap_ok(r == SCEP_E_DECRYPT,
		    "re-ordered rid matched by the tolerant compare (r=%d)", r);
		OPENSSL_free(env);
		env = NULL;
	}
	/* No rid names any of our certificates: every key blind. */
	{
		struct scep_keypair kp[2] = { { other_key, other },
		    { ra_key, ra } };

		r = scep_env_encrypt(payload, payload_len, ra_alias,
		    NID_aes_128_cbc, &env, &len);
		r = r == SCEP_OK ? roundtrip(env, len, kp, 2,
		    SCEP_ALG_DEFAULT, &cnid) : r;
		tap_ok(r == SCEP_OK, "no rid matches: blind search finds "
		    "the key (r=%d)", r);
		OPENSSL_free(env);
		env = NULL;
	}
	/* Not for us. */
	{
		struct scep_keypair kp = { ra_key, ra };
		struct scep_keypair wrong = { other_key, cl };

		r = scep_env_encrypt(payload, payload_len, cl,
		    NID_aes_128_cbc, &env, &len);
		r = r == SCEP_OK ? roundtrip(env, len, &kp, 1,
		    SCEP_ALG_DEFAULT, &cnid) : r;
		tap_ok(r == SCEP_E_DECRYPT, "envelope for a foreign key: "
		    "DECRYPT (r=%d)", r);
		r = roundtrip(env, len, &wrong, 1, SCEP_ALG_DEFAULT, &cnid);
		tap_ok(r == SCEP_E_DECRYPT, "rid matches but the key is "
		    "wrong: DECRYPT (r=%d)", r);
		r = roundtrip(env, len, NULL, 0, SCEP_ALG_DEFAULT, &cnid);
		tap_ok(r == SCEP_E_DECRYPT, "no keys: DECRYPT (r=%d)", r);
		OPENSSL_free(env);
		env = NULL;
	}
	/* Several recipients, ours second. */
	{
		struct scep_keypair kp = { ra_key, ra };
		int i;

		to = sk_X509_new_null();
		sk_X509_push(to, cl);
		sk_X509_push(to, ra);
		env = raw_env(to, EVP_aes_128_cbc(), 0, 0, &len);
		r = env != NULL ? roundtrip(env, len, &kp, 1,
		    SCEP_ALG_DEFAULT, &cnid) : -999;
		tap_ok(r == SCEP_OK, "two recipients, ours second (r=%d)", r);
		OPENSSL_free(env);
		for (i = 2; i <= SCEP_MAX_RECIPIENTS; i++)
			sk_X509_push(to, other);
		env = raw_env(to, EVP_aes_128_cbc(), 0, 0, &len);
		r = env != NULL ? roundtrip(env, len, &kp, 1,
		    SCEP_ALG_DEFAULT, &cnid) : -999;
		tap_ok(r == SCEP_E_TOOBIG, "%d recipients: TOOBIG (r=%d)",
		    SCEP_MAX_RECIPIENTS + 1, r);
		OPENSSL_free(env);
		sk_X509_free(to);
		env = NULL;
	}
	/* BER: streamed, indefinite lengths. */
	{
		struct scep_keypair kp = { ra_key, ra };

		to = sk_X509_new_null();
		sk_X509_push(to, ra);
		env = raw_env(to, EVP_aes_128_cbc(), 1, 0, &len);
		r = env != NULL && env[1] == 0x80 ? roundtrip(env, len, &kp, 1,
		    SCEP_ALG_DEFAULT, &cnid) : -999;
		tap_ok(r == SCEP_OK, "BER (indefinite length) envelope "
		    "(r=%d)", r);
		OPENSSL_free(env);
		sk_X509_free(to);
		env = NULL;
	}
	/* Password recipient only (EC clients, RFC 8894 3.1). */
	{
		struct scep_keypair kp = { ra_key, ra };

		env = raw_env(NULL, EVP_aes_128_cbc(), 0, 1, &len);
		r = env != NULL ? roundtrip(env, len, &kp, 1,
		    SCEP_ALG_DEFAULT, &cnid) : -999;
		tap_ok(r == SCEP_E_BADALG, "pwri only: BADALG (r=%d)", r);
		OPENSSL_free(env);
		env = NULL;
	}
	X509_free(ra_multi);
	X509_free(ra_rev);
	X509_free(ra_alias);
}

static void
test_damage(void)
{
	struct scep_keypair	 kp = { ra_key, ra };
	EVP_PKEY		*ec = NULL;
	X509			*ecx = NULL;
	uint8_t			*env = NULL, *buf = NULL, *big = NULL;
	uint8_t			*out = NULL;
	size_t			 len = 0, i, olen = 0;
	int			 r, cnid, flipped = 0;

	if (scep_env_encrypt(payload, payload_len, ra, NID_aes_128_cbc,
	    &env, &len) != SCEP_OK) {
		tap_ok(0, "damage: setup");
		return;
	}
	tap_ok(roundtrip(env, 0, &kp, 1, SCEP_ALG_DEFAULT, &cnid) ==
	    SCEP_E_MALFORMED, "empty envelope: MALFORMED");
	tap_ok(roundtrip(env, 3, &kp, 1, SCEP_ALG_DEFAULT, &cnid) ==
	    SCEP_E_TRUNCATED, "3 bytes: TRUNCATED");
	tap_ok(roundtrip(env, len - 1, &kp, 1, SCEP_ALG_DEFAULT, &cnid) ==
	    SCEP_E_TRUNCATED, "last byte missing: TRUNCATED");
	buf = OPENSSL_malloc(len + 2);
	memcpy(buf, env, len);
	buf[len] = 0;
	buf[len + 1] = 0;
	tap_ok(roundtrip(buf, len + 2, &kp, 1, SCEP_ALG_DEFAULT, &cnid) ==
	    SCEP_E_TRAILING, "trailing bytes: TRAILING");

	/* Last ciphertext byte: CBC padding (RFC 5652 6.3). */
	memcpy(buf, env, len);
	buf[len - 1] ^= 0x5a;
	r = roundtrip(buf, len, &kp, 1, SCEP_ALG_DEFAULT, &cnid);
	tap_ok(r == SCEP_E_DECRYPT, "damaged ciphertext: DECRYPT (r=%d)", r);

	/* encryptedKey (the 256-byte OCTET STRING): the MMA path. */
	memcpy(buf, env, len);
	for (i = 0; i + 4 < len && !flipped; i++) {
		if (buf[i] == 0x04 && buf[i + 1] == 0x82 &&
		    buf[i + 2] == 0x01 && buf[i + 3] == 0x00) {
			buf[i + 4 + 100] ^= 0x01;
			flipped = 1;
		}
	}
	r = roundtrip(buf, len, &kp, 1, SCEP_ALG_DEFAULT, &cnid);
	tap_ok(flipped && r == SCEP_E_DECRYPT,
	    "damaged encryptedKey: DECRYPT, like any other failure (r=%d)", r);
	OPENSSL_free(buf);
	buf = NULL;

	/* Content that is no DER SEQUENCE. */
	OPENSSL_free(env);
	env = NULL;
	r = scep_env_encrypt((const uint8_t *)"hello", 5, ra,
	    NID_aes_128_cbc, &env, &len);
	r = r == SCEP_OK ? scep_env_decrypt(env, len, &kp, 1,
	    SCEP_ALG_DEFAULT, &out, &olen, &cnid) : -999;
	tap_ok(r == SCEP_E_DECRYPT && out == NULL,
	    "plaintext is not one DER SEQUENCE: DECRYPT (r=%d)", r);
	OPENSSL_free(env);
	env = NULL;

	/* Content over SCEP_MAX_INNER_DER. */
	big = OPENSSL_zalloc(SCEP_MAX_INNER_DER + 100);
	big[0] = 0x30;
	r = scep_env_encrypt(big, SCEP_MAX_INNER_DER + 100, ra,
	    NID_aes_128_cbc, &env, &len);
	r = r == SCEP_OK ? roundtrip(env, len, &kp, 1, SCEP_ALG_DEFAULT,
	    &cnid) : -999;
	tap_ok(r == SCEP_E_TOOBIG, "ciphertext over the inner limit: TOOBIG "
	    "(r=%d)", r);
	OPENSSL_free(big);
	OPENSSL_free(env);
	env = NULL;

	/* A pkiMessage where an envelope belongs. */
	env = tu_request(SCEP_MSG_PKCSREQ, "X", NID_sha256, NID_aes_128_cbc,
	    0, ra, cl_key, cl, payload, payload_len, &len);
	r = env != NULL ? roundtrip(env, len, &kp, 1, SCEP_ALG_DEFAULT,
	    &cnid) : -999;
	tap_ok(r == SCEP_E_MALFORMED, "SignedData is not an envelope "
	    "(r=%d)", r);
	OPENSSL_free(env);
	env = NULL;

	/* Encryption side refusals. */
	ec = tu_key(testkey_ec256_pem);
	ecx = ec != NULL ? tu_cert(ec, "ec", 9, NULL, NULL, 0) : NULL;
	r = ecx != NULL ? scep_env_encrypt(payload, payload_len, ecx,
	    NID_aes_128_cbc, &env, &len) : -999;
	tap_ok(r == SCEP_E_BADALG && env == NULL,
	    "EC recipient: BADALG (no key transport)");
	r = scep_env_encrypt(payload, payload_len, ra, NID_aes_128_gcm,
	    &env, &len);
	tap_ok(r == SCEP_E_BADALG, "AES-GCM is not a SCEP cipher: BADALG");
	r = scep_env_encrypt(payload, payload_len, ra, NID_rc2_cbc,
	    &env, &len);
	tap_ok(r == SCEP_E_BADALG, "RC2: BADALG");
	X509_free(ecx);
	EVP_PKEY_free(ec);
}

int
main(void)
{
	TU_NEED(ra_key = tu_key(testkey_ra_pem));
	TU_NEED(cl_key = tu_key(testkey_client_pem));
	TU_NEED(other_key = tu_key(testkey_other_pem));
	TU_NEED(ra = tu_cert(ra_key, "scepd test RA", 100, NULL, NULL, 0));
	TU_NEED(cl = tu_cert(cl_key, "client", 200, NULL, NULL, 0));
	TU_NEED(other = tu_cert(other_key, "other", 300, NULL, NULL, 0));
	TU_NEED(payload = tu_csr(cl_key, "client", TU_CHAL_PRINTABLE, "pw",
	    2, &payload_len));

	test_ciphers();
	test_transports();
	test_keys();
	test_damage();
	test_des();		/* last: loads the legacy provider */

	OPENSSL_free(payload);
	X509_free(ra);
	X509_free(cl);
	X509_free(other);
	EVP_PKEY_free(ra_key);
	EVP_PKEY_free(cl_key);
	EVP_PKEY_free(other_key);
	tu_unload_legacy();
	return tap_done();
}
