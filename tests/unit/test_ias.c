/*
 * test_ias.c -- scep_ias_decode / scep_ias_encode (src/core/scep_ias.c):
 * IssuerAndSerialNumber (GetCert, GetCRL) and IssuerAndSubject
 * (CertPoll), RFC 8894 3.3.3-3.3.4.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "scep.h"
#include "tap.h"
#include "testutil.h"

static X509_NAME *
name(const char *cn, int extra_rdns)
{
	X509_NAME	*n;
	char		 v[16];
	int		 i;

	if ((n = X509_NAME_new()) == NULL)
		return NULL;
	for (i = 0; i < extra_rdns; i++) {
		(void)snprintf(v, sizeof(v), "ou%d", i);
		X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC,
		    (const unsigned char *)v, -1, -1, 0);
	}
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0);
	return n;
}

int
main(void)
{
	struct scep_ias	 in, *out = NULL;
	X509_NAME	*iss = NULL, *sub = NULL, *big = NULL;
	ASN1_INTEGER	*serial = NULL;
	BIGNUM		*bn = NULL;
	uint8_t		*der = NULL, *der2 = NULL, *buf = NULL;
	size_t		 len = 0, len2 = 0;
	int		 r;
	static const int types[] = { SCEP_MSG_GETCERT, SCEP_MSG_GETCRL };
	size_t		 i;

	TU_NEED(iss = name("scepd test CA", 0));
	TU_NEED(sub = name("device 42", 0));
	TU_NEED(big = name("deep", SCEP_MAX_RDNS));
	/* A full 20-byte serial (RFC 5280 4.1.2.2 maximum). */
	TU_NEED(bn = BN_new());
	BN_rand(bn, 159, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY);
	TU_NEED(serial = BN_to_ASN1_INTEGER(bn, NULL));

	memset(&in, 0, sizeof(in));
	in.issuer = iss;
	in.serial = serial;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		OPENSSL_free(der);
		der = NULL;
		r = scep_ias_encode(&in, types[i], &der, &len);
		r = r == SCEP_OK ? scep_ias_decode(der, len, types[i], &out) : r;
		tap_ok(r == SCEP_OK && out->subject == NULL &&
		    X509_NAME_cmp(out->issuer, iss) == 0 &&
		    ASN1_INTEGER_cmp(out->serial, serial) == 0,
		    "IssuerAndSerialNumber round trip, type %d", types[i]);
		scep_ias_free(out);
		out = NULL;
	}

	memset(&in, 0, sizeof(in));
	in.issuer = iss;
	in.subject = sub;
	r = scep_ias_encode(&in, SCEP_MSG_CERTPOLL, &der2, &len2);
	r = r == SCEP_OK ? scep_ias_decode(der2, len2, SCEP_MSG_CERTPOLL,
	    &out) : r;
	tap_ok(r == SCEP_OK && out->serial == NULL &&
	    X509_NAME_cmp(out->issuer, iss) == 0 &&
	    X509_NAME_cmp(out->subject, sub) == 0,
	    "IssuerAndSubject round trip (CertPoll)");
	scep_ias_free(out);
	out = NULL;

	/* One structure where the other belongs. */
	r = scep_ias_decode(der, len, SCEP_MSG_CERTPOLL, &out);
	tap_ok(r == SCEP_E_MALFORMED && out == NULL,
	    "IssuerAndSerialNumber as IssuerAndSubject: MALFORMED");
	r = scep_ias_decode(der2, len2, SCEP_MSG_GETCERT, &out);
	tap_ok(r == SCEP_E_MALFORMED && out == NULL,
	    "IssuerAndSubject as IssuerAndSerialNumber: MALFORMED");
	r = scep_ias_decode(der, len, SCEP_MSG_PKCSREQ, &out);
	tap_ok(r == SCEP_E_BADMSGTYPE && out == NULL,
	    "PKCSReq carries neither: BADMSGTYPE");

	/* BER: the same IssuerAndSerialNumber with an indefinite length. */
	{
		const unsigned char	*p = der;
		long			 plen;
		int			 tag, xc, hl;

		(void)ASN1_get_object(&p, &plen, &tag, &xc, (long)len);
		hl = (int)(p - der);
		buf = OPENSSL_malloc((size_t)plen + 4);
		buf[0] = 0x30;
		buf[1] = 0x80;
		memcpy(buf + 2, der + hl, (size_t)plen);
		buf[plen + 2] = 0;
		buf[plen + 3] = 0;
		r = scep_ias_decode(buf, (size_t)plen + 4, SCEP_MSG_GETCERT,
		    &out);
		tap_ok(r == SCEP_OK && ASN1_INTEGER_cmp(out->serial,
		    serial) == 0, "BER indefinite length accepted");
		scep_ias_free(out);
		out = NULL;
		OPENSSL_free(buf);
	}

	buf = OPENSSL_malloc(len + 1);
	memcpy(buf, der, len);
	buf[len] = 0;
	r = scep_ias_decode(buf, len + 1, SCEP_MSG_GETCERT, &out);
	tap_ok(r == SCEP_E_TRAILING && out == NULL, "trailing byte: TRAILING");
	r = scep_ias_decode(buf, len - 1, SCEP_MSG_GETCERT, &out);
	tap_ok(r == SCEP_E_TRUNCATED && out == NULL, "truncated: TRUNCATED");
	r = scep_ias_decode(buf, 0, SCEP_MSG_GETCERT, &out);
	tap_ok(r == SCEP_E_MALFORMED && out == NULL, "empty: MALFORMED");
	memset(buf + 2, 0x5a, len - 2);
	r = scep_ias_decode(buf, len, SCEP_MSG_GETCERT, &out);
	tap_ok(r == SCEP_E_MALFORMED && out == NULL, "garbage: MALFORMED");
	OPENSSL_free(buf);

	/* Names deeper than SCEP_MAX_RDNS. */
	OPENSSL_free(der2);
	der2 = NULL;
	in.issuer = big;
	in.subject = sub;
	r = scep_ias_encode(&in, SCEP_MSG_CERTPOLL, &der2, &len2);
	r = r == SCEP_OK ? scep_ias_decode(der2, len2, SCEP_MSG_CERTPOLL,
	    &out) : r;
	tap_ok(r == SCEP_E_TOOBIG && out == NULL, "%d-RDN issuer: TOOBIG",
	    SCEP_MAX_RDNS + 1);

	/* Encoder refusals. */
	OPENSSL_free(der2);
	der2 = NULL;
	in.issuer = iss;
	in.subject = NULL;
	in.serial = NULL;
	r = scep_ias_encode(&in, SCEP_MSG_CERTPOLL, &der2, &len2);
	tap_ok(r == SCEP_E_INTERNAL && der2 == NULL, "encode: no subject");
	r = scep_ias_encode(&in, SCEP_MSG_GETCERT, &der2, &len2);
	tap_ok(r == SCEP_E_INTERNAL && der2 == NULL, "encode: no serial");
	in.serial = serial;
	r = scep_ias_encode(&in, SCEP_MSG_CERTREP, &der2, &len2);
	tap_ok(r == SCEP_E_BADMSGTYPE && der2 == NULL, "encode: CertRep");
	scep_ias_free(NULL);
	tap_ok(1, "scep_ias_free(NULL)");

	OPENSSL_free(der);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	X509_NAME_free(iss);
	X509_NAME_free(sub);
	X509_NAME_free(big);
	return tap_done();
}
