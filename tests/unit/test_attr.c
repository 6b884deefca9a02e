/*
 * test_attr.c -- the small shared pieces of the core (src/core/scep_attr.c
 * and scep_util.c): the SCEP attribute OID table, the algorithm tables,
 * the header gate, time conversion and the key fingerprint.
 */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "scep.h"
#include "scep_int.h"
#include "tap.h"
#include "testkeys.h"
#include "testutil.h"

static void
test_oids(void)
{
	/* The DER of spec 6.3's table, as OBJ_txt2obj produces it. */
	static const struct {
		enum scep_oid	 o;
		const char	*txt;
	} rows[] = {
		{ SCEP_OID_MESSAGETYPE, "2.16.840.1.113733.1.9.2" },
		{ SCEP_OID_PKISTATUS, "2.16.840.1.113733.1.9.3" },
		{ SCEP_OID_FAILINFO, "2.16.840.1.113733.1.9.4" },
		{ SCEP_OID_SENDERNONCE, "2.16.840.1.113733.1.9.5" },
		{ SCEP_OID_RECIPIENTNONCE, "2.16.840.1.113733.1.9.6" },
		{ SCEP_OID_TRANSID, "2.16.840.1.113733.1.9.7" },
		{ SCEP_OID_FAILINFOTEXT, "1.3.6.1.5.5.7.24.1" },
	};
	ASN1_OBJECT	*a = NULL, *b = NULL;
	size_t		 i, j;
	int		 ok;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		a = OBJ_txt2obj(rows[i].txt, 1);
		b = scep_oid_obj(rows[i].o);
		ok = a != NULL && b != NULL && OBJ_cmp(a, b) == 0 &&
		    strcmp(scep_oid_txt(rows[i].o), rows[i].txt) == 0 &&
		    scep_oid_is(a, rows[i].o);
		for (j = 0; j < sizeof(rows) / sizeof(rows[0]); j++)
			if (j != i && scep_oid_is(a, rows[j].o))
				ok = 0;
		tap_ok(ok, "OID %s matches only itself", rows[i].txt);
		ASN1_OBJECT_free(a);
		ASN1_OBJECT_free(b);
	}
	tap_ok(scep_oid_obj(SCEP_OID__MAX) == NULL &&
	    !scep_oid_is(OBJ_nid2obj(NID_sha256), SCEP_OID_TRANSID) &&
	    !scep_oid_is(NULL, SCEP_OID_TRANSID), "out of range and NULL");
}

static void
test_algs(void)
{
	EVP_MD		*md;
	EVP_CIPHER	*c;

	tap_ok(scep_md_alg(NID_sha256) == SCEP_ALG_SHA256 &&
	    scep_md_alg(NID_sha1) == SCEP_ALG_SHA1 &&
	    scep_md_alg(NID_md5) == SCEP_ALG_MD5 &&
	    scep_md_alg(NID_sha3_256) == 0 && scep_md_alg(NID_undef) == 0,
	    "digest table");
	tap_ok(scep_cipher_alg(NID_aes_192_cbc) == SCEP_ALG_AES &&
	    scep_cipher_alg(NID_des_ede3_cbc) == SCEP_ALG_DES3 &&
	    scep_cipher_alg(NID_des_cbc) == SCEP_ALG_DES &&
	    scep_cipher_alg(NID_aes_128_gcm) == 0 &&
	    scep_cipher_alg(NID_rc2_cbc) == 0, "cipher table");
	md = scep_md_fetch(NID_sha512);
	tap_ok(md != NULL && EVP_MD_get_size(md) == 64, "fetch SHA-512");
	EVP_MD_free(md);
	tap_ok(scep_md_fetch(NID_sha3_256) == NULL, "no fetch outside table");
	c = scep_cipher_fetch(NID_aes_256_cbc);
	tap_ok(c != NULL && EVP_CIPHER_get_key_length(c) == 32,
	    "fetch AES-256-CBC");
	EVP_CIPHER_free(c);
	c = scep_cipher_fetch(NID_des_cbc);
	tap_ok(c == NULL, "DES-CBC not fetchable without the legacy "
	    "provider");
	EVP_CIPHER_free(c);
}

static void
test_precheck(void)
{
	static const struct {
		const char	*name;
		const char	*der;
		size_t		 len;
		int		 want;
	} rows[] = {
		{ "empty", "", 0, SCEP_E_MALFORMED },
		{ "one byte", "\x30", 1, SCEP_E_TRUNCATED },
		{ "cut long length", "\x30\x82\x01", 3, SCEP_E_TRUNCATED },
		{ "length past the end", "\x30\x05\x02\x01", 4,
		    SCEP_E_TRUNCATED },
		{ "exact", "\x30\x03\x02\x01\x05", 5, SCEP_OK },
		{ "indefinite (BER)", "\x30\x80\x02\x01\x05\x00\x00", 7,
		    SCEP_OK },
		{ "INTEGER, not SEQUENCE", "\x02\x01\x05", 3,
		    SCEP_E_MALFORMED },
		{ "primitive 0x10 tag", "\x10\x01\x05", 3, SCEP_E_MALFORMED },
		{ "context tag", "\xa0\x03\x02\x01\x05", 5, SCEP_E_MALFORMED },
		{ "bad length of length", "\x30\x89\x01\x01\x01\x01\x01\x01"
		    "\x01\x01\x01", 11, SCEP_E_MALFORMED },
	};
	size_t	i;
	int	r;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		r = scep_der_precheck((const uint8_t *)rows[i].der,
		    rows[i].len, 1024);
		tap_ok(r == rows[i].want, "precheck: %s (r=%d)", rows[i].name,
		    r);
	}
	r = scep_der_precheck((const uint8_t *)"\x30\x03\x02\x01\x05", 5, 4);
	tap_ok(r == SCEP_E_TOOBIG, "precheck: over the limit");
}

static void
test_time(void)
{
	static const struct {
		const char	*s;
		int		 type;
		long long	 want;
	} rows[] = {
		{ "700101000000Z", V_ASN1_UTCTIME, 0 },
		{ "231114221320Z", V_ASN1_UTCTIME, 1700000000 },
		{ "491231235959Z", V_ASN1_UTCTIME, 2524607999LL },
		{ "500101000000Z", V_ASN1_UTCTIME, -631152000LL },
		{ "20500101000000Z", V_ASN1_GENERALIZEDTIME, 2524608000LL },
		{ "20000229120000Z", V_ASN1_GENERALIZEDTIME, 951825600LL },
		{ "21230101000000Z", V_ASN1_GENERALIZEDTIME, 4828204800LL },
	};
	ASN1_TIME	*t;
	time_t		 out;
	size_t		 i;
	int		 r;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		t = ASN1_TIME_new();
		r = ASN1_TIME_set_string(t, rows[i].s) ? scep_asn1_time(t,
		    &out) : -999;
		tap_ok(r == SCEP_OK && (long long)out == rows[i].want &&
		    ASN1_STRING_type(t) == rows[i].type,
		    "time %s = %lld", rows[i].s, rows[i].want);
		ASN1_TIME_free(t);
	}
	t = ASN1_UTCTIME_new();
	ASN1_STRING_set(t, "991399999999Z", -1);	/* month 13 */
	tap_ok(scep_asn1_time(t, &out) == SCEP_E_MALFORMED, "bad time");
	ASN1_TIME_free(t);
	tap_ok(scep_asn1_time(NULL, &out) == SCEP_E_MALFORMED,
	    "NULL time is refused (would read the clock)");
}

static void
test_fingerprint(void)
{
	EVP_PKEY	*a = NULL, *b = NULL;
	X509		*x = NULL;
	unsigned char	*der = NULL;
	uint8_t		 fa[32], fb[32], fx[32], want[32];
	unsigned int	 wl = 0;
	int		 n;

	a = tu_key(testkey_client_pem);
	b = tu_key(testkey_ra_pem);
	x = a != NULL ? tu_cert(a, "fp", 1, NULL, NULL, 0) : NULL;
	n = a != NULL ? i2d_PUBKEY(a, &der) : -1;
	if (n > 0)
		EVP_Digest(der, (size_t)n, want, &wl, EVP_sha256(), NULL);
	tap_ok(scep_key_fingerprint(a, fa) == SCEP_OK && wl == 32 &&
	    memcmp(fa, want, 32) == 0,
	    "fingerprint = SHA-256 of the DER SubjectPublicKeyInfo");
	tap_ok(scep_key_fingerprint(b, fb) == SCEP_OK &&
	    memcmp(fa, fb, 32) != 0, "different keys, different prints");
	tap_ok(x != NULL && scep_key_fingerprint(X509_get0_pubkey(x), fx) ==
	    SCEP_OK && memcmp(fa, fx, 32) == 0,
	    "public half from a certificate gives the same print");
	tap_ok(scep_key_fingerprint(NULL, fx) == SCEP_E_INTERNAL,
	    "NULL key refused");
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

int
main(void)
{
	test_oids();
	test_algs();
	test_precheck();
	test_time();
	test_fingerprint();
	return tap_done();
}
