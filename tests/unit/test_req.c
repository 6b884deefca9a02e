/*
 * test_req.c -- the client side (src/core/scep_req.c) and the whole
 * exchange: client builds -> server decodes and decrypts -> server
 * replies -> client decodes and decrypts, for every message type, every
 * content cipher and the digests of spec 19 item 12.
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

static EVP_PKEY	*ca_key, *ra_key, *cl_key;
static X509	*ca, *ra, *cl, *issued;
static X509_CRL	*crl;

static const char *
type_name(int t)
{
	switch (t) {
	case SCEP_MSG_PKCSREQ:		return "PKCSReq";
	case SCEP_MSG_RENEWALREQ:	return "RenewalReq";
	case SCEP_MSG_CERTPOLL:		return "CertPoll";
	case SCEP_MSG_GETCERT:		return "GetCert";
	case SCEP_MSG_GETCRL:		return "GetCRL";
	default:			return "?";
	}
}

/* The messageData a client puts in the envelope (spec 6.6). */
static uint8_t *
make_inner(int type, size_t *len)
{
	struct scep_ias	 ias;
	uint8_t		*out = NULL;

	*len = 0;
	memset(&ias, 0, sizeof(ias));
	ias.issuer = X509_get_subject_name(ca);
	switch (type) {
	case SCEP_MSG_PKCSREQ:
	case SCEP_MSG_RENEWALREQ:
		return tu_csr(cl_key, "client", TU_CHAL_PRINTABLE, "secret",
		    1, len);
	case SCEP_MSG_CERTPOLL:
		ias.subject = X509_get_subject_name(issued);
		break;
	default:
		ias.serial = (ASN1_INTEGER *)X509_get0_serialNumber(issued);
		break;
	}
	if (scep_ias_encode(&ias, type, &out, len) != SCEP_OK)
		return NULL;
	return out;
}

/*
 * One complete exchange; returns a short reason on failure, NULL on
 * success.  "signer" is the client's signing certificate.
 */
static const char *
exchange(int type, int md, int cipher, unsigned int flags, unsigned int algs,
    X509 *signer)
{
	static char		 why[64];
	struct scep_keypair	 srv = { ra_key, ra }, cli = { cl_key, signer };
	struct scep_reply	 rp;
	struct scep_msg		*m = NULL, *rm = NULL;
	struct scep_csr		*csr = NULL;
	struct scep_ias		*ias = NULL;
	STACK_OF(X509)		*bag = NULL, *got = NULL;
	STACK_OF(X509_CRL)	*crls = NULL;
	uint8_t			*inner = NULL, *req = NULL, *sin = NULL;
	uint8_t			*payload = NULL, *rep = NULL, *cin = NULL;
	size_t			 ilen, rlen, silen = 0, plen = 0, replen = 0;
	size_t			 cilen = 0;
	const char		*fail = "inner";
	int			 cnid = 0, ccnid = 0, r;

	if ((inner = make_inner(type, &ilen)) == NULL)
		goto out;
	fail = "build request";
	if ((req = tu_request(type, "ROUND-TRIP", md, cipher, flags, ra,
	    cl_key, signer, inner, ilen, &rlen)) == NULL)
		goto out;

	/* Server. */
	fail = "server decode";
	if ((r = scep_msg_decode(req, rlen, algs, &m)) != SCEP_OK)
		goto out;
	fail = "server fields";
	if (m->type != type || m->md_nid != md ||
	    X509_cmp(m->signer, signer) != 0 || m->content == NULL)
		goto out;
	fail = "server decrypt";
	if (scep_env_decrypt(m->content, m->content_len, &srv, 1, algs,
	    &sin, &silen, &cnid) != SCEP_OK)
		goto out;
	fail = "inner differs";
	if (silen != ilen || memcmp(sin, inner, ilen) != 0 || cnid != cipher)
		goto out;
	fail = "inner decode";
	if (type == SCEP_MSG_PKCSREQ || type == SCEP_MSG_RENEWALREQ) {
		if (scep_csr_decode(sin, silen, &csr) != SCEP_OK ||
		    csr->challenge == NULL ||
		    strcmp(csr->challenge, "secret") != 0)
			goto out;
	} else if (scep_ias_decode(sin, silen, type, &ias) != SCEP_OK)
		goto out;

	fail = "payload";
	if (type == SCEP_MSG_GETCRL) {
		if (scep_certs_only(NULL, crl, &payload, &plen) != SCEP_OK)
			goto out;
	} else {
		bag = sk_X509_new_null();
		sk_X509_push(bag, issued);
		sk_X509_push(bag, ca);
		if (scep_certs_only(bag, NULL, &payload, &plen) != SCEP_OK)
			goto out;
	}
	memset(&rp, 0, sizeof(rp));
	rp.status = SCEP_STATUS_SUCCESS;
	rp.transid = m->transid;
	rp.transid_len = m->transid_len;
	rp.recipient_nonce = m->sender_nonce;
	rp.recipient_nonce_len = m->sender_nonce_len;
	memcpy(rp.sender_nonce, "fresh-server-nce", 16);
	rp.md_nid = m->md_nid;
	rp.cipher_nid = cnid;
	rp.recipient = m->signer;
	rp.payload = payload;
	rp.payload_len = plen;
	rp.now = TU_NOW + 1;
	fail = "reply build";
	if (scep_certrep_build(&rp, ra_key, ra, NULL, &rep, &replen) !=
	    SCEP_OK)
		goto out;

	/* Client. */
	fail = "client decode";
	if (scep_msg_decode(rep, replen, algs, &rm) != SCEP_OK)
		goto out;
	fail = "client fields";
	if (rm->type != SCEP_MSG_CERTREP || rm->status != SCEP_STATUS_SUCCESS ||
	    strcmp(rm->transid, "ROUND-TRIP") != 0 ||
	    rm->recipient_nonce_len != 16 ||
	    memcmp(rm->recipient_nonce, "nonce-0123456789", 16) != 0 ||
	    memcmp(rm->sender_nonce, "fresh-server-nce", 16) != 0 ||
	    rm->md_nid != md || X509_cmp(rm->signer, ra) != 0)
		goto out;
	fail = "client decrypt";
	if (scep_env_decrypt(rm->content, rm->content_len, &cli, 1, algs,
	    &cin, &cilen, &ccnid) != SCEP_OK || ccnid != cipher)
		goto out;
	fail = "client certs";
	if (scep_certs_only_decode(cin, cilen, &got, &crls) != SCEP_OK)
		goto out;
	if (type == SCEP_MSG_GETCRL) {
		if (sk_X509_CRL_num(crls) != 1 || sk_X509_num(got) != 0)
			goto out;
	} else if (sk_X509_num(got) != 2 ||
	    X509_cmp(sk_X509_value(got, 0), issued) != 0)
		goto out;
	fail = NULL;
 out:
	sk_X509_pop_free(got, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	sk_X509_free(bag);
	scep_csr_free(csr);
	scep_ias_free(ias);
	scep_msg_free(m);
	scep_msg_free(rm);
	OPENSSL_free(inner);
	OPENSSL_free(req);
	OPENSSL_free(sin);
	OPENSSL_free(payload);
	OPENSSL_free(rep);
	OPENSSL_free(cin);
	if (fail == NULL)
		return NULL;
	(void)snprintf(why, sizeof(why), "%s", fail);
	return why;
}

static void
test_matrix(void)
{
	static const int types[] = { SCEP_MSG_PKCSREQ, SCEP_MSG_RENEWALREQ,
	    SCEP_MSG_CERTPOLL, SCEP_MSG_GETCERT, SCEP_MSG_GETCRL };
	static const int ciphers[] = { NID_aes_128_cbc, NID_aes_192_cbc,
	    NID_aes_256_cbc, NID_des_ede3_cbc };
	static const int mds[] = { NID_sha1, NID_sha256, NID_sha512 };
	const char	*why;
	size_t		 i, j, k;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		for (j = 0; j < sizeof(ciphers) / sizeof(ciphers[0]); j++)
			for (k = 0; k < sizeof(mds) / sizeof(mds[0]); k++) {
				why = exchange(types[i], mds[k], ciphers[j], 0,
				    SCEP_ALG_DEFAULT, cl);
				tap_ok(why == NULL, "round trip %s %s %s%s%s",
				    type_name(types[i]),
				    OBJ_nid2sn(ciphers[j]),
				    OBJ_nid2sn(mds[k]), why ? ": " : "",
				    why ? why : "");
			}
}

static void
test_variants(void)
{
	static const struct {
		const char	*name;
		unsigned int	 flags;
		int		 md;
	} rows[] = {
		{ "OAEP (Windows)", SCEP_ENV_OAEP, NID_sha1 },
		{ "OAEP SHA-256", SCEP_ENV_OAEP_SHA256, NID_sha256 },
		{ "recipient by SKI", SCEP_ENV_RID_SKI, NID_sha256 },
		{ "signer by SKI", SCEP_REQ_SIGNER_SKI, NID_sha256 },
		{ "RSASSA-PSS signer", SCEP_REQ_PSS, NID_sha256 },
		{ "SHA-224", 0, NID_sha224 },
		{ "SHA-384", 0, NID_sha384 },
	};
	const char	*why;
	X509		*v1 = NULL;
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		why = exchange(SCEP_MSG_PKCSREQ, rows[i].md, NID_aes_128_cbc,
		    rows[i].flags, SCEP_ALG_DEFAULT, cl);
		tap_ok(why == NULL, "round trip PKCSReq with %s%s%s",
		    rows[i].name, why ? ": " : "", why ? why : "");
	}
	/* certmonger: v1 signer, which is also the reply's recipient. */
	v1 = tu_cert(cl_key, "minicert", 31337, NULL, NULL, TU_V1);
	why = v1 != NULL ? exchange(SCEP_MSG_PKCSREQ, NID_sha256,
	    NID_aes_128_cbc, 0, SCEP_ALG_DEFAULT, v1) : "setup";
	tap_ok(why == NULL, "round trip with a v1 signer%s%s",
	    why ? ": " : "", why ? why : "");
	X509_free(v1);

	/* Legacy: single DES and MD5, only with the switch (spec 19.13). */
	tap_ok(tu_load_legacy(), "legacy provider loaded by the test");
	why = exchange(SCEP_MSG_PKCSREQ, NID_md5, NID_des_cbc, 0,
	    SCEP_ALG_DEFAULT | SCEP_ALG_LEGACY, cl);
	tap_ok(why == NULL, "round trip DES + MD5 with the legacy switch%s%s",
	    why ? ": " : "", why ? why : "");
	why = exchange(SCEP_MSG_PKCSREQ, NID_md5, NID_aes_128_cbc, 0,
	    SCEP_ALG_DEFAULT, cl);
	tap_ok(why != NULL && strcmp(why, "server decode") == 0,
	    "MD5 without the switch stops at the server decode");
	why = exchange(SCEP_MSG_PKCSREQ, NID_sha256, NID_des_cbc, 0,
	    SCEP_ALG_DEFAULT, cl);
	tap_ok(why != NULL && strcmp(why, "server decrypt") == 0,
	    "DES without the switch stops at the server decrypt");
}

static void
test_build_refusals(void)
{
	struct scep_request	 rq;
	uint8_t			*out = NULL;
	size_t			 len = 0;
	char			 tid[300];
	int			 r;

	memset(tid, 'x', sizeof(tid) - 1);
	tid[sizeof(tid) - 1] = '\0';
	memset(&rq, 0, sizeof(rq));
	rq.type = SCEP_MSG_PKCSREQ;
	rq.transid = "";
	rq.md_nid = NID_sha256;
	rq.cipher_nid = NID_aes_128_cbc;
	rq.ra = ra;
	rq.inner = (const uint8_t *)"\x30\x00";
	rq.inner_len = 2;
	rq.now = TU_NOW;
	r = scep_request_build(&rq, cl_key, cl, &out, &len);
	tap_ok(r == SCEP_E_BADATTR && out == NULL, "empty transactionID");
	rq.transid = tid;
	r = scep_request_build(&rq, cl_key, cl, &out, &len);
	tap_ok(r == SCEP_E_BADATTR && out == NULL, "299-char transactionID");
	rq.transid = "T";
	rq.type = 1000;
	r = scep_request_build(&rq, cl_key, cl, &out, &len);
	tap_ok(r == SCEP_E_BADMSGTYPE && out == NULL, "messageType 1000");
	rq.type = SCEP_MSG_PKCSREQ;
	rq.ra = NULL;
	r = scep_request_build(&rq, cl_key, cl, &out, &len);
	tap_ok(r == SCEP_E_INTERNAL && out == NULL, "no RA certificate");
	rq.ra = ra;
	rq.md_nid = NID_sha3_256;
	r = scep_request_build(&rq, cl_key, cl, &out, &len);
	tap_ok(r == SCEP_E_BADALG && out == NULL, "SHA3-256 digest");
	rq.md_nid = NID_sha256;
	r = scep_request_build(&rq, ra_key, cl, &out, &len);
	tap_ok(r != SCEP_OK && out == NULL, "key does not match certificate");
	r = scep_request_build(&rq, cl_key, cl, &out, &len);
	tap_ok(r == SCEP_OK && out != NULL && len > 0, "control: builds");
	OPENSSL_free(out);
}

static void
test_selfsigned(void)
{
	X509			*a = NULL, *b = NULL;
	EVP_PKEY		*ec = NULL;
	const ASN1_OCTET_STRING	*ski;
	int			 r;

	r = scep_selfsigned_cert(cl_key, "9E2A5C11-UUID", TU_NOW, 1, &a);
	ski = a != NULL ? X509_get0_subject_key_id(a) : NULL;
	tap_ok(r == SCEP_OK && a != NULL &&
	    X509_get_version(a) == X509_VERSION_3 &&
	    X509_NAME_cmp(X509_get_subject_name(a),
	    X509_get_issuer_name(a)) == 0 &&
	    X509_verify(a, cl_key) == 1 && ski != NULL &&
	    (X509_get_key_usage(a) & (KU_DIGITAL_SIGNATURE |
	    KU_KEY_ENCIPHERMENT)) == (KU_DIGITAL_SIGNATURE |
	    KU_KEY_ENCIPHERMENT) &&
	    X509_cmp_time(X509_get0_notBefore(a), &(time_t){ TU_NOW }) < 0 &&
	    X509_cmp_time(X509_get0_notAfter(a), &(time_t){ TU_NOW }) > 0,
	    "self-signed signer: v3, self-issued, SKI, keyUsage, valid now");
	r = scep_selfsigned_cert(cl_key, "9E2A5C11-UUID", TU_NOW, 1, &b);
	tap_ok(r == SCEP_OK && b != NULL && ASN1_INTEGER_cmp(
	    X509_get0_serialNumber(a), X509_get0_serialNumber(b)) != 0 &&
	    ASN1_INTEGER_get(X509_get0_serialNumber(b)) != 0,
	    "two signer certificates get different random serials");
	X509_free(b);
	b = NULL;
	r = scep_selfsigned_cert(cl_key, "x", TU_NOW, 0, &b);
	tap_ok(r == SCEP_E_INTERNAL && b == NULL, "0 days refused");
	r = scep_selfsigned_cert(cl_key, "", TU_NOW, 1, &b);
	tap_ok(r == SCEP_E_INTERNAL && b == NULL, "empty CN refused");
	ec = tu_key(testkey_ec256_pem);
	r = ec != NULL ? scep_selfsigned_cert(ec, "ec", TU_NOW, 1, &b) : -999;
	tap_ok(r == SCEP_OK && X509_verify(b, ec) == 1,
	    "self-signed EC signer");
	X509_free(a);
	X509_free(b);
	EVP_PKEY_free(ec);
}

int
main(void)
{
	time_t		 now = TU_NOW;
	ASN1_TIME	*t = NULL;

	TU_NEED(ca_key = tu_key(testkey_other_pem));
	TU_NEED(ra_key = tu_key(testkey_ra_pem));
	TU_NEED(cl_key = tu_key(testkey_client_pem));
	TU_NEED(ca = tu_cert(ca_key, "scepd test CA", 1, NULL, NULL, TU_CA));
	TU_NEED(ra = tu_cert(ra_key, "scepd test RA", 2, ca, ca_key, 0));
	TU_NEED(issued = tu_cert(cl_key, "client", 4, ca, ca_key, 0));
	if (scep_selfsigned_cert(cl_key, "client tmp", TU_NOW, 30, &cl) !=
	    SCEP_OK)
		cl = NULL;
	TU_NEED(cl);
	TU_NEED(crl = X509_CRL_new());
	TU_NEED(t = X509_time_adj_ex(NULL, 0, 0, &now));
	tap_ok(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) &&
	    X509_CRL_set1_lastUpdate(crl, t) &&
	    X509_CRL_sign(crl, ca_key, EVP_sha256()) > 0, "CRL for GetCRL");
	ASN1_TIME_free(t);

	test_matrix();
	test_variants();
	test_build_refusals();
	test_selfsigned();

	X509_CRL_free(crl);
	X509_free(ca);
	X509_free(ra);
	X509_free(cl);
	X509_free(issued);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(ra_key);
	EVP_PKEY_free(cl_key);
	tu_unload_legacy();
	return tap_done();
}
