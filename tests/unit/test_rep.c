/*
 * test_rep.c -- what the server sends (src/core/scep_rep.c): the CertRep
 * of spec 9 as a client sees it, the certs-only SignedData of spec 4.2
 * (certificate order kept!) and the GetNextCACert reply of spec 5.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "scep.h"
#include "scep_int.h"
#include "tap.h"
#include "testkeys.h"
#include "testutil.h"

static EVP_PKEY	*ca_key, *ra_key, *cl_key, *ec_key;
static X509	*ca, *ra, *cl, *issued, *ec_cert;

static const uint8_t req_nonce[16] = "REQUEST-NONCE-16";
static const uint8_t our_nonce[16] = "SERVER-NONCE-016";

/* ---- helpers ----------------------------------------------------- */

/* The stack of certificates as CMS (libcrypto's own reader) sees it. */
static STACK_OF(X509) *
cms_certs(const uint8_t *der, size_t len)
{
	CMS_ContentInfo		*cms;
	STACK_OF(X509)		*certs;
	const unsigned char	*p = der;

	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL)
		return NULL;
	certs = CMS_get1_certs(cms);
	CMS_ContentInfo_free(cms);
	return certs;
}

static int
same_order(STACK_OF(X509) *a, STACK_OF(X509) *b)
{
	int i;

	if (a == NULL || b == NULL || sk_X509_num(a) != sk_X509_num(b))
		return 0;
	for (i = 0; i < sk_X509_num(a); i++)
		if (X509_cmp(sk_X509_value(a, i), sk_X509_value(b, i)) != 0)
			return 0;
	return 1;
}

/* ContentInfo -> [0] -> SignedData -> version, via the header reader. */
static int
sd_version(const uint8_t *der, size_t len)
{
	const unsigned char	*p = der, *end = der + len;
	long			 plen;
	int			 tag, xc, i;

	for (i = 0; i < 5; i++) {
		if (ASN1_get_object(&p, &plen, &tag, &xc, end - p) & 0x80)
			return -1;
		if (i == 1)
			p += plen;
		if (i == 4)
			return tag == V_ASN1_INTEGER && plen == 1 ? p[0] : -1;
	}
	return -1;
}

static X509_CRL *
make_crl(void)
{
	X509_CRL	*crl;
	time_t		 now = TU_NOW;
	ASN1_TIME	*t = NULL;

	if ((crl = X509_CRL_new()) == NULL)
		return NULL;
	if (!X509_CRL_set_version(crl, 1) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) ||
	    (t = X509_time_adj_ex(NULL, 0, 0, &now)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, t) ||
	    X509_CRL_sign(crl, ca_key, EVP_sha256()) <= 0) {
		ASN1_TIME_free(t);
		X509_CRL_free(crl);
		return NULL;
	}
	ASN1_TIME_free(t);
	return crl;
}

/*
 * The SCEP attributes of a CertRep as encoded: every string one
 * PrintableString (tag 0x13) with a short-form length, failInfoText a
 * UTF8String (spec 9.1); the signature PKCS#1 v1.5 (rsaEncryption).
 */
static int
wire_checks(const uint8_t *der, size_t len, int want_sigalg)
{
	static const enum scep_oid strs[] = { SCEP_OID_MESSAGETYPE,
	    SCEP_OID_PKISTATUS, SCEP_OID_FAILINFO, SCEP_OID_TRANSID };
	CMS_ContentInfo		*cms = NULL;
	CMS_SignerInfo		*si;
	ASN1_TYPE		*t;
	X509_ALGOR		*sig = NULL;
	const ASN1_OBJECT	*obj = NULL;
	const unsigned char	*p = der;
	unsigned char		*enc = NULL;
	size_t			 i;
	int			 n, ok = 0, r;

	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL)
		return 0;
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		r = scep_attr_find(si, strs[i], &t);
		if (r == SCEP_E_NOTFOUND)
			continue;
		if (r != SCEP_OK)
			goto out;
		enc = NULL;
		if ((n = i2d_ASN1_TYPE(t, &enc)) < 2)
			goto out;
		if (enc[0] != 0x13 || enc[1] >= 0x80) {
			OPENSSL_free(enc);
			goto out;
		}
		OPENSSL_free(enc);
	}
	if (scep_attr_find(si, SCEP_OID_FAILINFOTEXT, &t) == SCEP_OK &&
	    ASN1_TYPE_get(t) != V_ASN1_UTF8STRING)
		goto out;
	CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &sig);
	X509_ALGOR_get0(&obj, NULL, NULL, sig);
	ok = OBJ_obj2nid(obj) == want_sigalg;
 out:
	CMS_ContentInfo_free(cms);
	return ok;
}

static void
reply_init(struct scep_reply *rp, int status)
{
	memset(rp, 0, sizeof(*rp));
	rp->status = status;
	rp->failinfo = SCEP_FAIL_BADREQUEST;
	rp->transid = "TRANS-REP";
	rp->transid_len = 9;
	rp->recipient_nonce = req_nonce;
	rp->recipient_nonce_len = 16;
	memcpy(rp->sender_nonce, our_nonce, 16);
	rp->md_nid = NID_sha256;
	rp->cipher_nid = NID_aes_128_cbc;
	rp->recipient = cl;
	rp->now = TU_NOW;
}

/* ---- tests ------------------------------------------------------- */

static void
test_certs_only(void)
{
	STACK_OF(X509)		*in = NULL, *rev = NULL, *got = NULL;
	STACK_OF(X509_CRL)	*crls = NULL;
	CMS_ContentInfo		*cms = NULL;
	ASN1_OCTET_STRING	**pos;
	X509_CRL		*crl = NULL;
	uint8_t			*der = NULL, *der2 = NULL, *buf;
	const unsigned char	*p;
	size_t			 len = 0, len2 = 0;
	int			 r, i;

	in = sk_X509_new_null();
	rev = sk_X509_new_null();
	sk_X509_push(in, issued);
	sk_X509_push(in, ra);
	sk_X509_push(in, ca);
	for (i = 2; i >= 0; i--)
		sk_X509_push(rev, sk_X509_value(in, i));

	r = scep_certs_only(in, NULL, &der, &len);
	tap_ok(r == SCEP_OK, "certs-only built");
	got = cms_certs(der, len);
	tap_ok(same_order(in, got), "certs-only keeps the order given "
	    "(issued, RA, CA)");
	sk_X509_pop_free(got, X509_free);
	r = scep_certs_only(rev, NULL, &der2, &len2);
	got = cms_certs(der2, len2);
	tap_ok(r == SCEP_OK && same_order(rev, got),
	    "... and the reverse order too (so neither is a DER sort)");
	sk_X509_pop_free(got, X509_free);
	got = NULL;

	/* RFC 8894 3.4 shape: version 1, no signers, no eContent. */
	p = der;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	pos = cms != NULL ? CMS_get0_content(cms) : NULL;
	tap_ok(cms != NULL && OBJ_obj2nid(CMS_get0_type(cms)) ==
	    NID_pkcs7_signed && sk_CMS_SignerInfo_num(
	    CMS_get0_SignerInfos(cms)) == 0 && pos != NULL && *pos == NULL &&
	    OBJ_obj2nid(CMS_get0_eContentType(cms)) == NID_pkcs7_data &&
	    sd_version(der, len) == 1,
	    "degenerate: version 1, no signerInfos, eContent absent");
	CMS_ContentInfo_free(cms);
	cms = NULL;

	r = scep_certs_only_decode(der, len, &got, &crls);
	tap_ok(r == SCEP_OK && same_order(in, got) && crls == NULL,
	    "scep_certs_only_decode keeps the order");
	sk_X509_pop_free(got, X509_free);
	got = NULL;

	/* GetCRL reply: the CRL in crls, no certificates. */
	crl = make_crl();
	OPENSSL_free(der2);
	der2 = NULL;
	r = crl != NULL ? scep_certs_only(NULL, crl, &der2, &len2) : -999;
	if (r == SCEP_OK)
		r = scep_certs_only_decode(der2, len2, &got, &crls);
	tap_ok(r == SCEP_OK && got != NULL && sk_X509_num(got) == 0 &&
	    sk_X509_CRL_num(crls) == 1 &&
	    X509_CRL_cmp(sk_X509_CRL_value(crls, 0), crl) == 0,
	    "CRL only (GetCRL reply)");
	sk_X509_pop_free(got, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	got = NULL;
	crls = NULL;

	OPENSSL_free(der2);
	der2 = NULL;
	r = scep_certs_only(NULL, NULL, &der2, &len2);
	tap_ok(r == SCEP_E_INTERNAL && der2 == NULL, "nothing to send: refused");

	/* Decoder on bad input. */
	r = scep_certs_only_decode(der, len - 1, &got, NULL);
	tap_ok(r == SCEP_E_TRUNCATED && got == NULL, "decode truncated");
	buf = OPENSSL_malloc(len + 1);
	memcpy(buf, der, len);
	buf[len] = 0;
	r = scep_certs_only_decode(buf, len + 1, &got, NULL);
	tap_ok(r == SCEP_E_TRAILING && got == NULL, "decode trailing byte");
	buf[20] ^= 0xff;
	r = scep_certs_only_decode(buf, len, &got, NULL);
	tap_ok(r < 0 && got == NULL, "decode damaged (r=%d)", r);
	OPENSSL_free(buf);
	r = scep_certs_only_decode(der, 0, &got, NULL);
	tap_ok(r == SCEP_E_MALFORMED && got == NULL, "decode empty");

	X509_CRL_free(crl);
	OPENSSL_free(der);
	OPENSSL_free(der2);
	sk_X509_free(in);
	sk_X509_free(rev);
}

/* CertRep SUCCESS, seen from the client: decode, decrypt, certs. */
static void
test_success(void)
{
	static const int ciphers[] = { NID_aes_128_cbc, NID_aes_256_cbc,
	    NID_des_ede3_cbc };
	struct scep_keypair	 kp = { cl_key, cl };
	struct scep_reply	 rp;
	struct scep_msg		*m = NULL;
	STACK_OF(X509)		*bag = NULL, *got = NULL, *extra = NULL;
	uint8_t			*payload = NULL, *der = NULL, *inner = NULL;
	size_t			 plen = 0, len = 0, ilen = 0, i;
	int			 r, cnid;

	bag = sk_X509_new_null();
	sk_X509_push(bag, issued);
	sk_X509_push(bag, ca);
	extra = sk_X509_new_null();
	sk_X509_push(extra, ca);
	sk_X509_push(extra, ra);	/* the signer again: skipped */
	if (scep_certs_only(bag, NULL, &payload, &plen) != SCEP_OK) {
		tap_ok(0, "success: setup");
		goto out;
	}
	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		reply_init(&rp, SCEP_STATUS_SUCCESS);
		rp.payload = payload;
		rp.payload_len = plen;
		rp.cipher_nid = ciphers[i];
		r = scep_certrep_build(&rp, ra_key, ra, extra, &der, &len);
		tap_ok(r == SCEP_OK && wire_checks(der, len,
		    NID_rsaEncryption), "SUCCESS %s: built, PrintableString "
		    "attributes, PKCS#1 v1.5", OBJ_nid2sn(ciphers[i]));
		r = r == SCEP_OK ? scep_msg_decode(der, len,
		    SCEP_ALG_DEFAULT, &m) : r;
		tap_ok(r == SCEP_OK && m->type == SCEP_MSG_CERTREP &&
		    m->status == SCEP_STATUS_SUCCESS && m->failinfo == -1 &&
		    m->transid_len == 9 &&
		    memcmp(m->transid, "TRANS-REP", 9) == 0 &&
		    m->recipient_nonce_len == 16 &&
		    memcmp(m->recipient_nonce, req_nonce, 16) == 0 &&
		    m->sender_nonce_len == 16 &&
		    memcmp(m->sender_nonce, our_nonce, 16) == 0 &&
		    m->md_nid == NID_sha256 && X509_cmp(m->signer, ra) == 0 &&
		    sk_X509_num(m->certs) == 2 && m->content != NULL &&
		    m->signing_time == TU_NOW,
		    "SUCCESS %s: client decodes every attribute (r=%d)",
		    OBJ_nid2sn(ciphers[i]), r);
		cnid = 0;
		r = r == SCEP_OK ? scep_env_decrypt(m->content,
		    m->content_len, &kp, 1, SCEP_ALG_DEFAULT, &inner, &ilen,
		    &cnid) : r;
		r = r == SCEP_OK ? scep_certs_only_decode(inner, ilen, &got,
		    NULL) : r;
		tap_ok(r == SCEP_OK && cnid == ciphers[i] &&
		    same_order(bag, got) &&
		    X509_cmp(sk_X509_value(got, 0), issued) == 0,
		    "SUCCESS %s: envelope opens with the requester key, "
		    "issued certificate first (r=%d)", OBJ_nid2sn(ciphers[i]),
		    r);
		sk_X509_pop_free(got, X509_free);
		got = NULL;
		OPENSSL_free(inner);
		inner = NULL;
		scep_msg_free(m);
		m = NULL;
		OPENSSL_free(der);
		der = NULL;
	}

	/* The request's digest is mirrored; an 8-byte nonce is echoed. */
	reply_init(&rp, SCEP_STATUS_SUCCESS);
	rp.payload = payload;
	rp.payload_len = plen;
	rp.md_nid = NID_sha512;
	rp.recipient_nonce_len = 8;
	rp.transid = "a+b/c=d e";
	rp.transid_len = 9;
	r = scep_certrep_build(&rp, ra_key, ra, NULL, &der, &len);
	r = r == SCEP_OK ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) : r;
	tap_ok(r == SCEP_OK && m->md_nid == NID_sha512 &&
	    m->recipient_nonce_len == 8 &&
	    memcmp(m->recipient_nonce, req_nonce, 8) == 0 &&
	    strcmp(m->transid, "a+b/c=d e") == 0,
	    "SHA-512 mirrored, 8-byte nonce echoed, transactionID verbatim");
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(der);
	der = NULL;

	/* ECDSA signing identity. */
	reply_init(&rp, SCEP_STATUS_SUCCESS);
	rp.payload = payload;
	rp.payload_len = plen;
	r = scep_certrep_build(&rp, ec_key, ec_cert, NULL, &der, &len);
	tap_ok(r == SCEP_OK && wire_checks(der, len, NID_ecdsa_with_SHA256),
	    "ECDSA-signed CertRep (r=%d)", r);
	r = r == SCEP_OK ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) : r;
	tap_ok(r == SCEP_OK, "ECDSA-signed CertRep decodes (r=%d)", r);
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(der);
 out:
	OPENSSL_free(payload);
	sk_X509_free(bag);
	sk_X509_free(extra);
}

static void
test_failure_pending(void)
{
	struct scep_reply	 rp;
	struct scep_msg		*m = NULL;
	CMS_ContentInfo		*cms = NULL;
	ASN1_OCTET_STRING	**pos;
	uint8_t			*der = NULL;
	const unsigned char	*p;
	char			 longtext[700];
	size_t			 len = 0, i;
	int			 r;

	reply_init(&rp, SCEP_STATUS_FAILURE);
	rp.failinfo = SCEP_FAIL_BADREQUEST;
	rp.failtext = "challenge password rejected";
	r = scep_certrep_build(&rp, ra_key, ra, NULL, &der, &len);
	tap_ok(r == SCEP_OK && wire_checks(der, len, NID_rsaEncryption),
	    "FAILURE: built, PrintableString attributes");
	p = der;
	cms = der != NULL ? d2i_CMS_ContentInfo(NULL, &p, (long)len) : NULL;
	pos = cms != NULL ? CMS_get0_content(cms) : NULL;
	/* Present but empty: PKCS7_verify() clients (certmonger) need it. */
	tap_ok(pos != NULL && *pos != NULL && ASN1_STRING_length(*pos) == 0,
	    "FAILURE: eContent empty (no envelope)");
	CMS_ContentInfo_free(cms);
	r = r == SCEP_OK ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) : r;
	tap_ok(r == SCEP_OK && m->status == SCEP_STATUS_FAILURE &&
	    m->failinfo == SCEP_FAIL_BADREQUEST && m->content == NULL &&
	    strcmp(m->failtext, "challenge password rejected") == 0,
	    "FAILURE: failInfo and failInfoText; messageDigest over empty "
	    "content verifies (r=%d)", r);
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(der);
	der = NULL;

	/* No text given: the failInfo name is sent (spec 7.3). */
	reply_init(&rp, SCEP_STATUS_FAILURE);
	rp.failinfo = SCEP_FAIL_BADCERTID;
	r = scep_certrep_build(&rp, ra_key, ra, NULL, &der, &len);
	r = r == SCEP_OK ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) : r;
	tap_ok(r == SCEP_OK && m->failinfo == SCEP_FAIL_BADCERTID &&
	    strcmp(m->failtext, "badCertId") == 0,
	    "FAILURE without text: failInfoText is the failInfo name");
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(der);
	der = NULL;

	/* A long UTF-8 text is cut at a character boundary. */
	for (i = 0; i + 2 < sizeof(longtext); i += 2) {
		longtext[i] = (char)0xc3;	/* U+00E9 */
		longtext[i + 1] = (char)0xa9;
	}
	longtext[i] = '\0';
	reply_init(&rp, SCEP_STATUS_FAILURE);
	rp.failtext = longtext;
	r = scep_certrep_build(&rp, ra_key, ra, NULL, &der, &len);
	r = r == SCEP_OK ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) : r;
	tap_ok(r == SCEP_OK && strlen(m->failtext) <= SCEP_MAX_FAILTEXT &&
	    strlen(m->failtext) % 2 == 0 && strlen(m->failtext) > 200,
	    "long failInfoText cut to %d bytes on a UTF-8 boundary",
	    SCEP_MAX_FAILTEXT);
	scep_msg_free(m);
	m = NULL;
	OPENSSL_free(der);
	der = NULL;

	reply_init(&rp, SCEP_STATUS_PENDING);
	r = scep_certrep_build(&rp, ra_key, ra, NULL, &der, &len);
	r = r == SCEP_OK ? scep_msg_decode(der, len, SCEP_ALG_DEFAULT, &m) : r;
	tap_ok(r == SCEP_OK && m->status == SCEP_STATUS_PENDING &&
	    m->failinfo == -1 && m->failtext[0] == '\0' &&
	    m->content == NULL && wire_checks(der, len, NID_rsaEncryption),
	    "PENDING: no failInfo, no eContent (r=%d)", r);
	scep_msg_free(m);
	OPENSSL_free(der);
}

static void
test_refusals(void)
{
	static const struct {
		const char	*name;
		int		 status, failinfo, md, cipher;
		size_t		 tlen;
		int		 ec_recipient;
		int		 want;
	} rows[] = {
		{ "pkiStatus 1", 1, 0, NID_sha256, NID_aes_128_cbc, 9, 0,
		    SCEP_E_INTERNAL },
		{ "failInfo 5", 2, 5, NID_sha256, NID_aes_128_cbc, 9, 0,
		    SCEP_E_INTERNAL },
		{ "failInfo -1", 2, -1, NID_sha256, NID_aes_128_cbc, 9, 0,
		    SCEP_E_INTERNAL },
		{ "empty transactionID", 3, 0, NID_sha256, NID_aes_128_cbc,
		    0, 0, SCEP_E_BADATTR },
		{ "256-char transactionID", 3, 0, NID_sha256, NID_aes_128_cbc,
		    256, 0, SCEP_E_BADATTR },
		{ "SHA3-256 digest", 3, 0, NID_sha3_256, NID_aes_128_cbc, 9,
		    0, SCEP_E_BADALG },
		{ "AES-GCM reply cipher", 0, 0, NID_sha256, NID_aes_128_gcm,
		    9, 0, SCEP_E_BADALG },
		{ "EC requester (no key transport)", 0, 0, NID_sha256,
		    NID_aes_128_cbc, 9, 1, SCEP_E_BADALG },
	};
	struct scep_reply	 rp;
	uint8_t			*der = NULL, *payload = NULL;
	char			 tid[300];
	size_t			 len = 0, plen = 0, i;
	STACK_OF(X509)		*bag;
	EVP_PKEY		*pss = NULL;
	EVP_PKEY_CTX		*pctx = NULL;
	X509			*pssx = NULL;
	int			 r;

	memset(tid, 'T', sizeof(tid));
	bag = sk_X509_new_null();
	sk_X509_push(bag, issued);
	(void)scep_certs_only(bag, NULL, &payload, &plen);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		reply_init(&rp, rows[i].status);
		rp.failinfo = rows[i].failinfo;
		rp.md_nid = rows[i].md;
		rp.cipher_nid = rows[i].cipher;
		rp.transid = tid;
		rp.transid_len = rows[i].tlen;
		rp.payload = payload;
		rp.payload_len = plen;
		if (rows[i].ec_recipient)
			rp.recipient = ec_cert;
		r = scep_certrep_build(&rp, ra_key, ra, NULL, &der, &len);
		tap_ok(r == rows[i].want && der == NULL && len == 0,
		    "refused: %s (r=%d)", rows[i].name, r);
		OPENSSL_free(der);
		der = NULL;
	}
	/* An RSA-PSS-only signing key would force PSS (spec 9.1). */
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL)) !=
	    NULL && EVP_PKEY_keygen_init(pctx) > 0 &&
	    EVP_PKEY_CTX_set_rsa_keygen_bits(pctx, 1024) > 0)
		(void)EVP_PKEY_generate(pctx, &pss);
	EVP_PKEY_CTX_free(pctx);
	pssx = pss != NULL ? tu_cert(pss, "pss", 77, NULL, NULL, 0) : NULL;
	reply_init(&rp, SCEP_STATUS_PENDING);
	r = pssx != NULL ? scep_certrep_build(&rp, pss, pssx, NULL, &der,
	    &len) : -999;
	tap_ok(r == SCEP_E_BADKEY, "RSA-PSS signing key refused (r=%d)", r);
	X509_free(pssx);
	EVP_PKEY_free(pss);
	OPENSSL_free(payload);
	sk_X509_free(bag);
}

static void
test_nextca(void)
{
	STACK_OF(X509)	*next = NULL, *got = NULL;
	X509		*signer = NULL;
	uint8_t		*der = NULL;
	size_t		 len = 0;
	int		 r;

	next = sk_X509_new_null();
	sk_X509_push(next, ra);		/* the "new" RA first */
	sk_X509_push(next, ca);
	r = scep_nextca_build(next, ca_key, ca, NID_sha256, TU_NOW, &der,
	    &len);
	tap_ok(r == SCEP_OK, "GetNextCACert reply built");
	r = r == SCEP_OK ? scep_nextca_decode(der, len, SCEP_ALG_DEFAULT,
	    &got, &signer) : r;
	tap_ok(r == SCEP_OK && same_order(next, got) &&
	    X509_cmp(signer, ca) == 0,
	    "GetNextCACert verifies with the current CA, order kept (r=%d)",
	    r);
	sk_X509_pop_free(got, X509_free);
	X509_free(signer);
	got = NULL;
	signer = NULL;
	r = scep_nextca_decode(der, len, SCEP_ALG_SHA1, &got, &signer);
	tap_ok(r == SCEP_E_BADALG && got == NULL && signer == NULL,
	    "GetNextCACert digest not allowed: BADALG");
	if (der != NULL)
		der[len - 10] ^= 0x01;	/* in the signature */
	r = der != NULL ? scep_nextca_decode(der, len, SCEP_ALG_DEFAULT,
	    &got, &signer) : -999;
	tap_ok(r == SCEP_E_BADSIG && got == NULL && signer == NULL,
	    "GetNextCACert damaged signature: BADSIG (r=%d)", r);
	OPENSSL_free(der);
	der = NULL;
	sk_X509_zero(next);
	r = scep_nextca_build(next, ca_key, ca, NID_sha256, TU_NOW, &der,
	    &len);
	tap_ok(r == SCEP_E_INTERNAL && der == NULL, "no rollover cert: refused");
	sk_X509_free(next);
}

int
main(void)
{
	TU_NEED(ca_key = tu_key(testkey_other_pem));
	TU_NEED(ra_key = tu_key(testkey_ra_pem));
	TU_NEED(cl_key = tu_key(testkey_client_pem));
	TU_NEED(ec_key = tu_key(testkey_ec256_pem));
	TU_NEED(ca = tu_cert(ca_key, "scepd test CA", 1, NULL, NULL, TU_CA));
	TU_NEED(ra = tu_cert(ra_key, "scepd test RA", 2, ca, ca_key, 0));
	TU_NEED(cl = tu_cert(cl_key, "client tmp", 3, NULL, NULL, 0));
	TU_NEED(issued = tu_cert(cl_key, "client", 4, ca, ca_key, 0));
	TU_NEED(ec_cert = tu_cert(ec_key, "ec RA", 5, ca, ca_key, 0));

	test_certs_only();
	test_success();
	test_failure_pending();
	test_refusals();
	test_nextca();

	X509_free(ca);
	X509_free(ra);
	X509_free(cl);
	X509_free(issued);
	X509_free(ec_cert);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(ra_key);
	EVP_PKEY_free(cl_key);
	EVP_PKEY_free(ec_key);
	return tap_done();
}
