/*
 * test_spki.c -- the decoder-free key path (src/core/scep_spki.c and the
 * PKCS#10 templates of scep_csr.c) against OpenSSL's own (d2i_X509_REQ,
 * X509_REQ_verify, d2i_PUBKEY): same key, same verify result, same SPKI
 * fingerprint and the same storage form, for RSA and EC; damaged keys and
 * signatures refused by both.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "scep.h"
#include "scep_int.h"
#include "tap.h"
#include "testkeys.h"
#include "testutil.h"

static EVP_PKEY *rsa;

/* The storage form as the earlier code made it: X509_REQ_delete_attr of
 * every challengePassword, then i2d_X509_REQ. */
static uint8_t *
old_redact(const uint8_t *der, size_t len, size_t *outlen)
{
	const unsigned char	*p = der;
	unsigned char		*out = NULL;
	X509_REQ		*req;
	int			 i, n;

	*outlen = 0;
	if ((req = d2i_X509_REQ(NULL, &p, (long)len)) == NULL)
		return NULL;
	while ((i = X509_REQ_get_attr_by_NID(req,
	    NID_pkcs9_challengePassword, -1)) >= 0)
		X509_ATTRIBUTE_free(X509_REQ_delete_attr(req, i));
	if ((n = i2d_X509_REQ(req, &out)) > 0)
		*outlen = (size_t)n;
	X509_REQ_free(req);
	return out;
}

/* Parse an SPKI's DER with the core's template. */
static struct scep_spki *
spki_parse(const uint8_t *der, size_t len)
{
	const unsigned char	*p = der;
	struct scep_spki	*s;

	s = (struct scep_spki *)ASN1_item_d2i(NULL, &p, (long)len,
	    ASN1_ITEM_rptr(SCEP_SPKI));
	if (s != NULL && p != der + len) {
		ASN1_item_free((ASN1_VALUE *)s, ASN1_ITEM_rptr(SCEP_SPKI));
		s = NULL;
	}
	return s;
}

/* Fast path == OpenSSL's path for one key. */
static void
same_as_openssl(const char *name, EVP_PKEY *k, EVP_PKEY *other)
{
	struct scep_csr		*c = NULL, *st = NULL;
	const unsigned char	*p;
	struct scep_spki	*s = NULL;
	X509_REQ		*req = NULL;
	EVP_PKEY		*ok = NULL, *fast = NULL;	/* get0, own */
	uint8_t			*der, *red = NULL, *old = NULL, *bytes = NULL;
	uint8_t			 f1[32], f2[32], f3[32];
	unsigned char		*sd = NULL;
	size_t			 len = 0, rlen = 0, olen = 0, blen = 0;
	int			 r, sl;

	der = tu_csr(k, "dev", TU_CHAL_PRINTABLE, "Secret-42", 2, &len);
	r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
	p = der;
	if (der != NULL)
		req = d2i_X509_REQ(NULL, &p, (long)len);
	if (req != NULL)
		ok = X509_REQ_get0_pubkey(req);
	tap_ok(r == SCEP_OK && ok != NULL && X509_REQ_verify(req, ok) == 1 &&
	    EVP_PKEY_eq(c->pubkey, ok) == 1 && EVP_PKEY_eq(c->pubkey, k) ==
	    1 && c->key_bits == EVP_PKEY_get_bits(ok) &&
	    c->key_type == EVP_PKEY_get_base_id(ok),
	    "%s: same key, bits and type as d2i_X509_REQ, both verify (r=%d)",
	    name, r);
	tap_ok(c != NULL && X509_NAME_cmp(c->subject,
	    X509_REQ_get_subject_name(req)) == 0 &&
	    scep_spki_fingerprint(c->spki, f1) == SCEP_OK &&
	    scep_spki_fingerprint(X509_REQ_get_X509_PUBKEY(req), f2) ==
	    SCEP_OK && scep_key_fingerprint(k, f3) == SCEP_OK &&
	    memcmp(f1, f2, 32) == 0 && memcmp(f1, f3, 32) == 0,
	    "%s: same subject and SPKI fingerprint", name);
	/* The fast path really ran: the template + fromdata import. */
	sl = req != NULL ? i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(req),
	    &sd) : -1;
	s = sl > 0 ? spki_parse(sd, (size_t)sl) : NULL;
	fast = s != NULL ? scep_spki_import(s) : NULL;
	tap_ok(fast != NULL && EVP_PKEY_eq(fast, ok) == 1,
	    "%s: imported without the key decoder", name);
	tap_ok(c != NULL && scep_spki_eq(c->spki, c->pubkey) == 1 &&
	    scep_spki_eq(c->spki, k) == 1 &&
	    scep_spki_eq(c->spki, other) == 0 &&
	    scep_spki_eq(X509_REQ_get_X509_PUBKEY(req), ok) == 1,
	    "%s: scep_spki_eq with and without a cached key", name);

	/* The storage form: byte for byte what X509_REQ made. */
	r = c != NULL ? scep_csr_stored(c, &red, &rlen) : -999;
	old = old_redact(der, len, &olen);
	(void)scep_csr_redact(der, len, &bytes, &blen);
	tap_ok(r == SCEP_OK && old != NULL && rlen == olen &&
	    memcmp(red, old, olen) == 0 && blen == olen &&
	    memcmp(bytes, old, olen) == 0 && rlen < len,
	    "%s: stored form identical to X509_REQ's (%zu -> %zu bytes)",
	    name, len, rlen);
	r = red != NULL ? scep_csr_decode_stored(red, rlen, &st) : -999;
	tap_ok(r == SCEP_OK && st->challenge == NULL && st->sans != NULL &&
	    sk_GENERAL_NAME_num(st->sans) == 2 &&
	    EVP_PKEY_eq(st->pubkey, k) == 1,
	    "%s: stored form read back, challenge gone (r=%d)", name, r);

	/* A damaged signature: both refuse it. */
	if (der != NULL) {
		X509_REQ_free(req);
		der[len - 5] ^= 0x01;
		p = der;
		req = d2i_X509_REQ(NULL, &p, (long)len);
		scep_csr_free(c);
		c = NULL;
		r = scep_csr_decode(der, len, &c);
		tap_ok(r == SCEP_E_BADSIG && c == NULL && req != NULL &&
		    X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) != 1,
		    "%s: damaged signature refused by both (r=%d)", name, r);
	}
	ERR_clear_error();
	scep_csr_free(c);
	scep_csr_free(st);
	X509_REQ_free(req);
	EVP_PKEY_free(fast);
	ASN1_item_free((ASN1_VALUE *)s, ASN1_ITEM_rptr(SCEP_SPKI));
	OPENSSL_free(sd);
	OPENSSL_free(der);
	OPENSSL_free(red);
	OPENSSL_free(old);
	OPENSSL_free(bytes);
}

/* A CSR whose SPKI is "key" but signed with "signer". */
static uint8_t *
foreign_csr(EVP_PKEY *key, EVP_PKEY *signer, size_t *len)
{
	X509_REQ	*req;
	unsigned char	*der = NULL;
	int		 n = -1;

	*len = 0;
	if ((req = X509_REQ_new()) != NULL &&
	    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
	    MBSTRING_ASC, (const unsigned char *)"x", -1, -1, 0) &&
	    X509_REQ_set_pubkey(req, key) &&
	    X509_REQ_sign(req, signer, EVP_sha256()) > 0 &&
	    (n = i2d_X509_REQ(req, &der)) > 0)
		*len = (size_t)n;
	X509_REQ_free(req);
	return n > 0 ? der : NULL;
}

static void
test_wrong_signer(EVP_PKEY *ec)
{
	struct scep_csr	*c = NULL;
	uint8_t		*der;
	size_t		 len;
	int		 r;

	der = foreign_csr(rsa, ec, &len);
	r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
	tap_ok(r == SCEP_E_BADSIG && c == NULL,
	    "RSA key signed by another (EC) key: BADSIG (r=%d)", r);
	OPENSSL_free(der);
	r = -999;
	der = foreign_csr(ec, rsa, &len);
	r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
	tap_ok(r == SCEP_E_BADSIG && c == NULL,
	    "EC key signed by another (RSA) key: BADSIG (r=%d)", r);
	OPENSSL_free(der);
	ERR_clear_error();
}

/* Damaged keys: refused by the import and by d2i_PUBKEY alike. */
static void
test_bad_spki(EVP_PKEY *ec)
{
	struct scep_csr		*c = NULL;
	struct scep_spki	*s = NULL;
	const unsigned char	*p;
	X509_REQ		*req = NULL;
	EVP_PKEY		*k = NULL, *ed = NULL;
	unsigned char		*sd = NULL, *pt = NULL;
	uint8_t			*der;
	size_t			 len, i, ptlen;
	int			 r, sl;

	/* An EC point off the curve: last byte of Y changed. */
	der = tu_csr(ec, "dev", TU_CHAL_NONE, NULL, 0, &len);
	ptlen = EVP_PKEY_get1_encoded_public_key(ec, &pt);
	for (i = 0; der != NULL && pt != NULL && ptlen > 0 &&
	    i + ptlen <= len; i++)
		if (memcmp(der + i, pt, ptlen) == 0) {
			der[i + ptlen - 1] ^= 0x01;
			break;
		}
	r = der != NULL ? scep_csr_decode(der, len, &c) : -999;
	p = der;
	req = der != NULL ? d2i_X509_REQ(NULL, &p, (long)len) : NULL;
	tap_ok(r == SCEP_E_BADKEY && c == NULL &&
	    (req == NULL || X509_REQ_get0_pubkey(req) == NULL),
	    "EC point off the curve: BADKEY, no key from OpenSSL either "
	    "(r=%d)", r);
	X509_REQ_free(req);
	OPENSSL_free(der);
	OPENSSL_free(pt);

	/* rsaEncryption whose bits are no RSAPublicKey. */
	if ((s = (struct scep_spki *)ASN1_item_new(
	    ASN1_ITEM_rptr(SCEP_SPKI))) != NULL &&
	    X509_ALGOR_set0(s->alg, OBJ_nid2obj(NID_rsaEncryption),
	    V_ASN1_NULL, NULL) &&
	    ASN1_BIT_STRING_set(s->key, (unsigned char *)"\x02\x01\x05", 3)) {
		sl = ASN1_item_i2d((ASN1_VALUE *)s, &sd,
		    ASN1_ITEM_rptr(SCEP_SPKI));
		p = sd;
		k = sl > 0 ? d2i_PUBKEY(NULL, &p, sl) : NULL;
		tap_ok(sl > 0 && scep_spki_import(s) == NULL &&
		    scep_spki_pkey(s) == NULL && k == NULL,
		    "RSA key bits that are not an RSAPublicKey: no key");
	} else
		tap_ok(0, "setup: bad RSA SPKI");
	EVP_PKEY_free(k);
	k = NULL;
	OPENSSL_free(sd);
	sd = NULL;
	ASN1_item_free((ASN1_VALUE *)s, ASN1_ITEM_rptr(SCEP_SPKI));

	/* A key outside the fast path takes the general one (and is
	 * refused by the CSR checks). */
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	sl = ed != NULL ? i2d_PUBKEY(ed, &sd) : -1;
	s = sl > 0 ? spki_parse(sd, (size_t)sl) : NULL;
	k = s != NULL ? scep_spki_pkey(s) : NULL;
	tap_ok(s != NULL && scep_spki_import(s) == NULL && k != NULL &&
	    EVP_PKEY_eq(k, ed) == 1,
	    "Ed25519: general path, same key as d2i_PUBKEY");
	EVP_PKEY_free(k);
	EVP_PKEY_free(ed);
	OPENSSL_free(sd);
	ASN1_item_free((ASN1_VALUE *)s, ASN1_ITEM_rptr(SCEP_SPKI));

	tap_ok(scep_spki_eq(NULL, rsa) == 0 && scep_spki_import(NULL) ==
	    NULL && scep_spki_bits(NULL) == NULL, "NULL arguments");
	ERR_clear_error();
}

/* scep_spki_der (the key process's SPKI reader) against d2i_PUBKEY. */
static void
test_spki_der(EVP_PKEY *ec)
{
	EVP_PKEY	*keys[3], *k = NULL, *ed;
	X509_PUBKEY	*b = NULL;
	unsigned char	*sd = NULL, *bd = NULL, *big;
	size_t		 i;
	int		 sl, bl, ok = 1;

	keys[0] = rsa;
	keys[1] = ec;
	keys[2] = ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	for (i = 0; i < 3; i++) {
		if (keys[i] == NULL || (sl = i2d_PUBKEY(keys[i], &sd)) <= 0) {
			ok = 0;
			continue;
		}
		if (scep_spki_der(sd, (size_t)sl, &k, &b) != SCEP_OK ||
		    b == NULL || (bl = i2d_X509_PUBKEY(b, &bd)) != sl ||
		    memcmp(sd, bd, (size_t)sl) != 0 ||
		    (i < 2 ? k == NULL || EVP_PKEY_eq(k, keys[i]) != 1 :
		    k != NULL))
			ok = 0;
		EVP_PKEY_free(k);
		X509_PUBKEY_free(b);
		OPENSSL_free(bd);
		k = NULL;
		b = NULL;
		bd = NULL;
		/* One byte more: TRAILING, nothing returned. */
		big = OPENSSL_malloc((size_t)sl + 1);
		memcpy(big, sd, (size_t)sl);
		big[sl] = 0;
		if (scep_spki_der(big, (size_t)sl + 1, &k, &b) !=
		    SCEP_E_TRAILING || k != NULL || b != NULL)
			ok = 0;
		OPENSSL_free(big);
		OPENSSL_free(sd);
		sd = NULL;
	}
	tap_ok(ok, "scep_spki_der: RSA and EC imported, Ed25519 left to "
	    "d2i_PUBKEY, bits re-encode to the same DER, trailing refused");
	tap_ok(scep_spki_der((const uint8_t *)"\x30\x03\x02\x01\x01", 5,
	    &k, &b) == SCEP_E_MALFORMED && k == NULL && b == NULL &&
	    scep_spki_der(NULL, 0, &k, NULL) == SCEP_E_MALFORMED,
	    "scep_spki_der: not an SPKI, empty: MALFORMED");
	EVP_PKEY_free(ed);
	ERR_clear_error();
}

/* The Intune pre-check as it was, on d2i_X509_REQ. */
static int
old_has_challenge(const uint8_t *csr, size_t len)
{
	const unsigned char	*p = csr;
	X509_REQ		*rq = NULL;
	X509_ATTRIBUTE		*at;
	ASN1_TYPE		*t;
	int			 i, r = 0;

	if (len == 0 || (rq = d2i_X509_REQ(NULL, &p, (long)len)) == NULL ||
	    p != csr + len) {
		X509_REQ_free(rq);
		return -1;
	}
	if ((i = X509_REQ_get_attr_by_NID(rq, NID_pkcs9_challengePassword,
	    -1)) >= 0 && (at = X509_REQ_get_attr(rq, i)) != NULL &&
	    X509_ATTRIBUTE_count(at) == 1 &&
	    (t = X509_ATTRIBUTE_get0_type(at, 0)) != NULL &&
	    t->type != V_ASN1_NULL && t->type != V_ASN1_OBJECT &&
	    t->type != V_ASN1_BOOLEAN && t->value.asn1_string != NULL &&
	    ASN1_STRING_length(t->value.asn1_string) > 0)
		r = 1;
	X509_REQ_free(rq);
	return r;
}

static void
test_has_challenge(EVP_PKEY *ec)
{
	static const struct {
		enum tu_chal	 ct;
		const char	*chal;
		int		 want;
	} rows[] = {
		{ TU_CHAL_PRINTABLE, "pw", 1 }, { TU_CHAL_UTF8, "p", 1 },
		{ TU_CHAL_BMP, "b", 1 }, { TU_CHAL_IA5, "i", 1 },
		{ TU_CHAL_INTEGER, "", 1 }, { TU_CHAL_TWICE, "a", 1 },
		{ TU_CHAL_TWO_VALUES, "a", 0 }, { TU_CHAL_NONE, NULL, 0 },
	};
	uint8_t	*der;
	size_t	 i, len;
	int	 n, o, ok = 1;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		der = tu_csr(i % 2 ? ec : rsa, "dev", rows[i].ct, rows[i].chal,
		    0, &len);
		n = der != NULL ? scep_csr_has_challenge(der, len) : -999;
		o = der != NULL ? old_has_challenge(der, len) : -998;
		if (n != rows[i].want || n != o) {
			ok = 0;
			printf("# row %zu: %d, d2i_X509_REQ %d\n", i, n, o);
		}
		if (der != NULL && (scep_csr_has_challenge(der, len - 1) !=
		    -1 || old_has_challenge(der, len - 1) != -1))
			ok = 0;
		OPENSSL_free(der);
	}
	tap_ok(ok, "scep_csr_has_challenge == the d2i_X509_REQ check "
	    "(every challenge encoding, none, truncated)");
	tap_ok(scep_csr_has_challenge((const uint8_t *)"\x30\x00", 2) == -1 &&
	    scep_csr_has_challenge(NULL, 0) == -1,
	    "scep_csr_has_challenge: garbage and empty input -1");
	ERR_clear_error();
}

/* scep_cert_recipient == d2i_X509 for what a CMS recipient needs. */
static void
test_cert_recipient(EVP_PKEY *ec)
{
	X509 *c = NULL, *fast = NULL, *e = NULL, *efast = NULL;
	uint8_t *der = NULL, *eder = NULL;
	int len, elen, r, re, rg;

	if ((c = tu_cert(rsa, "recipient", 4242, NULL, NULL, 0)) == NULL ||
	    (len = i2d_X509(c, &der)) <= 0 ||
	    (e = tu_cert(ec, "ec recipient", 7, NULL, NULL, 0)) == NULL ||
	    (elen = i2d_X509(e, &eder)) <= 0) {
		tap_ok(0, "setup: recipient certificates");
		goto out;
	}
	r = scep_cert_recipient(der, (size_t)len, &fast);
	tap_ok(r == SCEP_OK && fast != NULL &&
	    X509_NAME_cmp(X509_get_issuer_name(fast),
	    X509_get_issuer_name(c)) == 0 &&
	    ASN1_INTEGER_cmp(X509_get0_serialNumber(fast),
	    X509_get0_serialNumber(c)) == 0 &&
	    EVP_PKEY_eq(X509_get0_pubkey(fast), rsa) == 1,
	    "scep_cert_recipient: RSA certificate -> same issuer, serial and "
	    "key as d2i_X509");
	re = scep_cert_recipient(eder, (size_t)elen, &efast);
	rg = scep_cert_recipient(der, (size_t)len - 1, &efast);
	tap_ok(re == SCEP_E_UNSUPPORTED && rg == SCEP_E_UNSUPPORTED &&
	    efast == NULL && ERR_peek_error() == 0,
	    "scep_cert_recipient: EC key and truncated DER left to d2i_X509 "
	    "(SCEP_E_UNSUPPORTED, no error queued)");
	tap_ok(scep_cert_recipient(NULL, 0, &efast) == SCEP_E_MALFORMED &&
	    efast == NULL, "scep_cert_recipient: empty input malformed");
 out:
	ERR_clear_error();
	X509_free(c);
	X509_free(e);
	X509_free(fast);
	X509_free(efast);
	OPENSSL_free(der);
	OPENSSL_free(eder);
}

int
main(void)
{
	EVP_PKEY *r1, *p256, *p384;

	TU_NEED(rsa = tu_key(testkey_client_pem));
	TU_NEED(r1 = tu_rsa(1024));
	TU_NEED(p256 = tu_ec("P-256"));
	TU_NEED(p384 = tu_ec("P-384"));
	same_as_openssl("RSA 2048", rsa, p256);
	same_as_openssl("RSA 1024", r1, rsa);
	same_as_openssl("EC P-256", p256, p384);
	same_as_openssl("EC P-384", p384, rsa);
	test_wrong_signer(p256);
	test_bad_spki(p256);
	test_has_challenge(p256);
	test_spki_der(p384);
	test_cert_recipient(p256);
	EVP_PKEY_free(r1);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa);
	return tap_done();
}
