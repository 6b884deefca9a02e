/*
 * test_csr.c -- scep_csr_decode (src/core/scep_csr.c): the PKCS#10 of
 * spec 12 -- challengePassword in every DirectoryString type, key types
 * and sizes, proof of possession, SANs, and damaged input.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "scep.h"
#include "tap.h"
#include "testkeys.h"
#include "testutil.h"

static EVP_PKEY *rsa;

static void
test_challenge(void)
{
	static const struct {
		const char	*name;
		enum tu_chal	 ct;
		const char	*in;
		int		 want;
	} rows[] = {
		{ "PrintableString (Windows, Cisco)", TU_CHAL_PRINTABLE,
		    "Secret-123.x", SCEP_OK },
		{ "UTF8String (Apple, non-printable chars)", TU_CHAL_UTF8,
		    "p\xc3\xa4ss_w\xc3\xb6rd!", SCEP_OK },
		{ "TeletexString (Latin-1)", TU_CHAL_T61,
		    "p\xc3\xa4sswort", SCEP_OK },
		{ "BMPString", TU_CHAL_BMP, "pass\xe2\x82\xac", SCEP_OK },
		{ "UniversalString (outside the BMP)", TU_CHAL_UNIVERSAL,
		    "p\xf0\x9f\x98\x80", SCEP_OK },
		{ "IA5String (sloppy encoders)", TU_CHAL_IA5, "a@b#c*",
		    SCEP_OK },
		{ "INTEGER: not a string", TU_CHAL_INTEGER, "", SCEP_E_MALFORMED },
		{ "attribute twice", TU_CHAL_TWICE, "a", SCEP_E_MALFORMED },
		{ "two values", TU_CHAL_TWO_VALUES, "a", SCEP_E_MALFORMED },
	};
	struct scep_csr	*c = NULL;
	uint8_t		*der;
	size_t		 i, len;
	int		 r;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		der = tu_csr(rsa, "dev", rows[i].ct, rows[i].in, 0, &len);
		r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
		tap_ok(r == rows[i].want && (r != SCEP_OK ||
		    (c->challenge != NULL &&
		    c->challenge_len == strlen(rows[i].in) &&
		    strcmp(c->challenge, rows[i].in) == 0)) &&
		    (r == SCEP_OK || c == NULL),
		    "challengePassword %s (r=%d)", rows[i].name, r);
		scep_csr_free(c);
		c = NULL;
		OPENSSL_free(der);
	}
	der = tu_csr(rsa, "dev", TU_CHAL_NONE, NULL, 0, &len);
	r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
	tap_ok(r == SCEP_OK && c->challenge == NULL && c->challenge_len == 0,
	    "no challengePassword (renewal, manual approval)");
	scep_csr_free(c);
	c = NULL;
	OPENSSL_free(der);

	/* Intune's challenges are long: well past PKCS#9's 255. */
	{
		char *big = OPENSSL_malloc(40001);

		memset(big, 'k', 40000);
		big[40000] = '\0';
		der = tu_csr(rsa, "dev", TU_CHAL_UTF8, big, 0, &len);
		r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
		tap_ok(r == SCEP_OK && c->challenge_len == 40000,
		    "40000-byte challenge accepted (r=%d)", r);
		scep_csr_free(c);
		c = NULL;
		OPENSSL_free(der);
		OPENSSL_free(big);
	}
}

static void
test_keys(void)
{
	static const struct {
		const char	*name;
		const char	*type;	/* "RSA", "EC", "ED25519" */
		int		 bits;
		const char	*curve;
		int		 want;
		int		 want_nid;
	} rows[] = {
		{ "RSA 2048", "RSA", 2048, NULL, SCEP_OK, NID_undef },
		{ "RSA 1024 (minimum)", "RSA", 1024, NULL, SCEP_OK, NID_undef },
		{ "RSA 768", "RSA", 768, NULL, SCEP_E_BADKEY, NID_undef },
		{ "EC P-256", "EC", 256, "P-256", SCEP_OK,
		    NID_X9_62_prime256v1 },
		{ "EC P-384", "EC", 384, "P-384", SCEP_OK, NID_secp384r1 },
		{ "EC P-521", "EC", 521, "P-521", SCEP_E_BADKEY, NID_undef },
		{ "EC secp256k1", "EC", 256, "secp256k1", SCEP_E_BADKEY,
		    NID_undef },
		{ "Ed25519", "ED25519", 256, NULL, SCEP_E_BADKEY, NID_undef },
	};
	struct scep_csr	*c = NULL;
	EVP_PKEY	*k;
	uint8_t		*der;
	size_t		 i, len;
	int		 r;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (strcmp(rows[i].type, "RSA") == 0)
			k = rows[i].bits == 2048 ? (EVP_PKEY_up_ref(rsa),
			    rsa) : tu_rsa(rows[i].bits);
		else if (strcmp(rows[i].type, "EC") == 0)
			k = tu_ec(rows[i].curve);
		else
			k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		der = k != NULL ? tu_csr(k, "dev", TU_CHAL_PRINTABLE, "pw", 0,
		    &len) : NULL;
		r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
		tap_ok(r == rows[i].want && (r != SCEP_OK ||
		    (c->key_bits == rows[i].bits && c->ec_nid ==
		    rows[i].want_nid && c->key_type == (rows[i].curve ?
		    EVP_PKEY_EC : EVP_PKEY_RSA) && c->pubkey != NULL &&
		    EVP_PKEY_eq(c->pubkey, k) == 1)),
		    "key %s (r=%d)", rows[i].name, r);
		scep_csr_free(c);
		c = NULL;
		OPENSSL_free(der);
		EVP_PKEY_free(k);
	}
}

/* A CSR with n subject RDNs. */
static uint8_t *
odd_csr(int nrdn, size_t *len)
{
	X509_REQ			*req = NULL;
	X509_NAME			*n = NULL;
	unsigned char			*der = NULL;
	char				 v[16];
	int				 i, dl = -1;

	*len = 0;
	if ((req = X509_REQ_new()) == NULL || (n = X509_NAME_new()) == NULL)
		goto out;
	for (i = 0; i < nrdn; i++) {
		(void)snprintf(v, sizeof(v), "ou%d", i);
		if (!X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC,
		    (const unsigned char *)v, -1, -1, 0))
			goto out;
	}
	if (!X509_REQ_set_subject_name(req, n) ||
	    !X509_REQ_set_pubkey(req, rsa))
		goto out;
	if (X509_REQ_sign(req, rsa, EVP_sha256()) <= 0)
		goto out;
	if ((dl = i2d_X509_REQ(req, &der)) > 0)
		*len = (size_t)dl;
 out:
	X509_NAME_free(n);
	X509_REQ_free(req);
	return dl > 0 ? der : NULL;
}

static void
test_structure(void)
{
	struct scep_csr	*c = NULL;
	uint8_t		*der = NULL, *buf = NULL;
	size_t		 len = 0, i;
	int		 r, ok;

	/* SANs from the extensionRequest. */
	der = tu_csr(rsa, "dev", TU_CHAL_PRINTABLE, "pw", 3, &len);
	r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
	ok = r == SCEP_OK && c->sans != NULL &&
	    sk_GENERAL_NAME_num(c->sans) == 3;
	for (i = 0; ok && i < 3; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(c->sans, (int)i);
		char want[32];

		(void)snprintf(want, sizeof(want), "h%zu.example", i);
		ok = g->type == GEN_DNS && strcmp((const char *)
		    ASN1_STRING_get0_data(g->d.dNSName), want) == 0;
	}
	tap_ok(ok, "three dNSName SANs, in order");
	scep_csr_free(c);
	c = NULL;

	/* Proof of possession: one bit of the signature. */
	if (der != NULL) {
		der[len - 7] ^= 0x10;
		r = scep_csr_decode(der, len, &c);
		tap_ok(r == SCEP_E_BADSIG && c == NULL,
		    "damaged CSR signature: BADSIG (r=%d)", r);
		der[len - 7] ^= 0x10;
	}
	r = scep_csr_decode(der, len - 1, &c);
	tap_ok(r == SCEP_E_TRUNCATED && c == NULL, "truncated: TRUNCATED");
	buf = OPENSSL_malloc(len + 1);
	memcpy(buf, der, len);
	buf[len] = 0x00;
	r = scep_csr_decode(buf, len + 1, &c);
	tap_ok(r == SCEP_E_TRAILING && c == NULL, "trailing byte: TRAILING");
	memset(buf + 8, 0xa5, len - 8);
	r = scep_csr_decode(buf, len, &c);
	tap_ok(r == SCEP_E_MALFORMED && c == NULL, "garbage: MALFORMED");
	r = scep_csr_decode(buf, 0, &c);
	tap_ok(r == SCEP_E_MALFORMED && c == NULL, "empty: MALFORMED");
	OPENSSL_free(buf);
	OPENSSL_free(der);

	der = tu_csr(rsa, "dev", TU_CHAL_NONE, NULL, 0, &len);
	r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
	tap_ok(r == SCEP_OK && c->sans == NULL, "no SANs: sans NULL");
	scep_csr_free(c);
	c = NULL;
	OPENSSL_free(der);

	der = tu_csr(rsa, "dev", TU_CHAL_NONE, NULL, SCEP_MAX_SANS, &len);
	r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
	tap_ok(r == SCEP_OK && sk_GENERAL_NAME_num(c->sans) == SCEP_MAX_SANS,
	    "%d SANs: accepted", SCEP_MAX_SANS);
	scep_csr_free(c);
	c = NULL;
	OPENSSL_free(der);
	der = tu_csr(rsa, "dev", TU_CHAL_NONE, NULL, SCEP_MAX_SANS + 1, &len);
	r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
	tap_ok(r == SCEP_E_TOOBIG && c == NULL, "%d SANs: TOOBIG",
	    SCEP_MAX_SANS + 1);
	OPENSSL_free(der);

	der = odd_csr(SCEP_MAX_RDNS, &len);
	r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
	tap_ok(r == SCEP_OK, "%d subject RDNs: accepted", SCEP_MAX_RDNS);
	scep_csr_free(c);
	c = NULL;
	OPENSSL_free(der);
	der = odd_csr(SCEP_MAX_RDNS + 1, &len);
	r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
	tap_ok(r == SCEP_E_TOOBIG && c == NULL, "%d subject RDNs: TOOBIG",
	    SCEP_MAX_RDNS + 1);
	OPENSSL_free(der);
	buf = tu_csr(rsa, "dev", TU_CHAL_NONE, NULL, 1, &len);
	der = buf != NULL ? tu_dup_attr(buf, len, rsa, NID_ext_req, &len) :
	    NULL;
	OPENSSL_free(buf);
	r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
	tap_ok(r == SCEP_E_MALFORMED && c == NULL,
	    "extensionRequest twice: MALFORMED (r=%d)", r);
	OPENSSL_free(der);

	buf = OPENSSL_zalloc(SCEP_MAX_INNER_DER + 1);
	buf[0] = 0x30;
	r = scep_csr_decode(buf, SCEP_MAX_INNER_DER + 1, &c);
	tap_ok(r == SCEP_E_TOOBIG && c == NULL, "over SCEP_MAX_INNER_DER");
	OPENSSL_free(buf);
	scep_csr_free(NULL);
	tap_ok(1, "scep_csr_free(NULL)");
}

/* The storage form: no challenge left anywhere in the bytes, everything
 * else (subject, key, SANs) intact, readable by scep_csr_decode_stored but
 * no longer by scep_csr_decode (the signature covered the challenge). */
static void
test_redact(void)
{
	static const char secret[] = "Redact-Me-77";
	struct scep_csr	*c = NULL, *o = NULL;
	uint8_t		*der, *red = NULL;
	size_t		 len, rlen = 0, i;
	int		 r, found = 0;

	der = tu_csr(rsa, "dev", TU_CHAL_PRINTABLE, secret, 3, &len);
	r = der != NULL ? scep_csr_redact(der, len, &red, &rlen) : -999;
	tap_ok(r == SCEP_OK && red != NULL && rlen > 0 && rlen < len,
	    "redact: shorter copy (r=%d, %zu -> %zu)", r, len, rlen);
	for (i = 0; red != NULL && i + sizeof(secret) - 1 <= rlen; i++)
		if (memcmp(red + i, secret, sizeof(secret) - 1) == 0)
			found = 1;
	tap_ok(red != NULL && !found, "redact: the challenge bytes are gone");
	r = red != NULL ? scep_csr_decode_stored(red, rlen, &c) : -999;
	tap_ok(r == SCEP_OK && c->challenge == NULL && c->sans != NULL &&
	    sk_GENERAL_NAME_num(c->sans) == 3,
	    "redact: decode_stored reads it, no challenge, SANs kept (r=%d)",
	    r);
	(void)scep_csr_decode(der, len, &o);
	tap_ok(c != NULL && o != NULL && EVP_PKEY_eq(c->pubkey, o->pubkey) ==
	    1 && X509_NAME_cmp(c->subject, o->subject) == 0,
	    "redact: same key and subject");
	scep_csr_free(c);
	scep_csr_free(o);
	c = NULL;
	r = red != NULL ? scep_csr_decode(red, rlen, &c) : -999;
	tap_ok(r == SCEP_E_BADSIG && c == NULL,
	    "redact: the full decoder refuses it (signature) (r=%d)", r);
	OPENSSL_free(der);
	OPENSSL_free(red);
	red = NULL;

	/* No challenge: an exact copy, still verifiable. */
	der = tu_csr(rsa, "dev", TU_CHAL_NONE, NULL, 0, &len);
	r = der != NULL ? scep_csr_redact(der, len, &red, &rlen) : -999;
	tap_ok(r == SCEP_OK && rlen == len && memcmp(red, der, len) == 0,
	    "redact: a CSR without a challenge is copied unchanged");
	OPENSSL_free(red);
	red = NULL;
	/* The attribute twice (refused by decode, still scrubbed here). */
	OPENSSL_free(der);
	der = tu_csr(rsa, "dev", TU_CHAL_TWICE, "a", 0, &len);
	r = der != NULL ? scep_csr_redact(der, len, &red, &rlen) : -999;
	tap_ok(r == SCEP_OK && scep_csr_decode_stored(red, rlen, &c) ==
	    SCEP_OK && c->challenge == NULL, "redact: every copy removed");
	scep_csr_free(c);
	c = NULL;
	OPENSSL_free(red);
	OPENSSL_free(der);
	red = NULL;
	/* Garbage and trailing bytes. */
	tap_ok(scep_csr_redact((const uint8_t *)"\x30\x03" "abc", 5, &red,
	    &rlen) != SCEP_OK && red == NULL && rlen == 0,
	    "redact: garbage refused, nothing returned");
}

int
main(void)
{
	TU_NEED(rsa = tu_key(testkey_client_pem));
	test_challenge();
	test_redact();
	test_keys();
	test_structure();
	EVP_PKEY_free(rsa);
	return tap_done();
}
