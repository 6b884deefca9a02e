/*
 * scep_ias.c -- the messageData of GetCert/GetCRL (IssuerAndSerialNumber,
 * RFC 5652 10.2.4) and CertPoll (IssuerAndSubject, RFC 8894 3.3.3), with
 * ASN.1 templates of our own.
 *
 * Spec 6.6: servers identify a poll by transactionID; IssuerAndSubject is
 * decoded for logging only, because sscep historically swapped its two
 * fields (certnanny/sscep issue #94).
 */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "scep.h"
#include "scep_int.h"

/* IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber INTEGER } */
struct ias_serial {
	X509_NAME	*issuer;
	ASN1_INTEGER	*serial;
};

ASN1_SEQUENCE(IAS_SERIAL) = {
	ASN1_SIMPLE(struct ias_serial, issuer, X509_NAME),
	ASN1_SIMPLE(struct ias_serial, serial, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END_name(struct ias_serial, IAS_SERIAL)

/* IssuerAndSubject ::= SEQUENCE { issuer Name, subject Name } */
struct ias_subject {
	X509_NAME	*issuer;
	X509_NAME	*subject;
};

ASN1_SEQUENCE(IAS_SUBJECT) = {
	ASN1_SIMPLE(struct ias_subject, issuer, X509_NAME),
	ASN1_SIMPLE(struct ias_subject, subject, X509_NAME),
} static_ASN1_SEQUENCE_END_name(struct ias_subject, IAS_SUBJECT)

void
scep_ias_free(struct scep_ias *ias)
{
	if (ias == NULL)
		return;
	X509_NAME_free(ias->issuer);
	ASN1_INTEGER_free(ias->serial);
	X509_NAME_free(ias->subject);
	OPENSSL_free(ias);
}

int
scep_ias_decode(const uint8_t *der, size_t len, int msgtype,
    struct scep_ias **out)
{
	struct ias_serial	*s = NULL;
	struct ias_subject	*j = NULL;
	struct scep_ias		*ias = NULL;
	const unsigned char	*p = der;
	int			 r;

	*out = NULL;
	if (msgtype != SCEP_MSG_GETCERT && msgtype != SCEP_MSG_GETCRL &&
	    msgtype != SCEP_MSG_CERTPOLL)
		return SCEP_E_BADMSGTYPE;
	if ((r = scep_der_precheck(der, len, SCEP_MAX_INNER_DER)) != SCEP_OK)
		return r;
	if ((ias = OPENSSL_zalloc(sizeof(*ias))) == NULL)
		return SCEP_E_NOMEM;

	r = SCEP_E_MALFORMED;
	if (msgtype == SCEP_MSG_CERTPOLL) {
		if ((j = (struct ias_subject *)ASN1_item_d2i(NULL, &p,
		    (long)len, ASN1_ITEM_rptr(IAS_SUBJECT))) == NULL)
			goto out;
		ias->issuer = j->issuer;	/* take from the template */
		ias->subject = j->subject;
		j->issuer = j->subject = NULL;
	} else {
		if ((s = (struct ias_serial *)ASN1_item_d2i(NULL, &p,
		    (long)len, ASN1_ITEM_rptr(IAS_SERIAL))) == NULL)
			goto out;
		ias->issuer = s->issuer;
		ias->serial = s->serial;
		s->issuer = NULL;
		s->serial = NULL;
	}
	if (p != der + len) {
		r = SCEP_E_TRAILING;
		goto out;
	}
	if (X509_NAME_entry_count(ias->issuer) > SCEP_MAX_RDNS ||
	    (ias->subject != NULL &&
	    X509_NAME_entry_count(ias->subject) > SCEP_MAX_RDNS)) {
		r = SCEP_E_TOOBIG;
		goto out;
	}
	*out = ias;
	ias = NULL;
	r = SCEP_OK;
 out:
	ASN1_item_free((ASN1_VALUE *)s, ASN1_ITEM_rptr(IAS_SERIAL));
	ASN1_item_free((ASN1_VALUE *)j, ASN1_ITEM_rptr(IAS_SUBJECT));
	scep_ias_free(ias);
	return r;
}

int
scep_ias_encode(const struct scep_ias *ias, int msgtype, uint8_t **out,
    size_t *out_len)
{
	struct ias_serial	 s;
	struct ias_subject	 j;
	unsigned char		*der = NULL;	/* OPENSSL_malloc'd by i2d */
	int			 n;

	*out = NULL;
	*out_len = 0;
	if (ias == NULL || ias->issuer == NULL)
		return SCEP_E_INTERNAL;
	/* The template only reads the borrowed fields. */
	if (msgtype == SCEP_MSG_CERTPOLL) {
		if (ias->subject == NULL)
			return SCEP_E_INTERNAL;
		j.issuer = ias->issuer;
		j.subject = ias->subject;
		n = ASN1_item_i2d((ASN1_VALUE *)&j, &der,
		    ASN1_ITEM_rptr(IAS_SUBJECT));
	} else if (msgtype == SCEP_MSG_GETCERT || msgtype == SCEP_MSG_GETCRL) {
		if (ias->serial == NULL)
			return SCEP_E_INTERNAL;
		s.issuer = ias->issuer;
		s.serial = ias->serial;
		n = ASN1_item_i2d((ASN1_VALUE *)&s, &der,
		    ASN1_ITEM_rptr(IAS_SERIAL));
	} else
		return SCEP_E_BADMSGTYPE;
	if (n <= 0)
		return SCEP_E_INTERNAL;
	*out = der;
	*out_len = (size_t)n;
	return SCEP_OK;
}
