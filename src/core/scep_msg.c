/*
 * scep_msg.c -- decode the signed layer of a pkiMessage (RFC 8894 3.2,
 * spec 6.1-6.3 and 8 steps 1-5): requests on the server, CertReps on the
 * client.
 *
 * Gates, in order (STYLE H6): size; libcrypto's BER/DER decoder with the
 * consumed-bytes check; exact structure (signedData, one SignerInfo with
 * signed attributes, eContentType id-data, at most SCEP_MAX_CERTS
 * certificates); the SCEP attributes, each exactly once with exactly one
 * value; the signer certificate; the digest algorithm; the signature and
 * messageDigest.
 *
 * The signer certificate is parsed leniently (spec 8 step 3): it is never
 * chain-verified, and its version, extensions (a critical AKI from
 * Windows) and validity (certmonger's 100 years) are not looked at.  Only
 * its key matters.
 */
#include <limits.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "scep.h"
#include "scep_int.h"

/* Signature algorithm OIDs of spec 6.2/6.5 (md5WithRSA: legacy only). */
static const int sigalgs[] = {
	NID_rsaEncryption,
	NID_sha1WithRSAEncryption, NID_sha224WithRSAEncryption,
	NID_sha256WithRSAEncryption, NID_sha384WithRSAEncryption,
	NID_sha512WithRSAEncryption, NID_md5WithRSAEncryption,
	NID_rsassaPss,
	NID_ecdsa_with_SHA1, NID_ecdsa_with_SHA224, NID_ecdsa_with_SHA256,
	NID_ecdsa_with_SHA384, NID_ecdsa_with_SHA512,
	NID_X9_62_id_ecPublicKey,	/* some stacks name the key, not
					 * the signature (as rsaEncryption) */
};

void
scep_msg_free(struct scep_msg *m)
{
	if (m == NULL)
		return;
	X509_free(m->signer);
	sk_X509_pop_free(m->certs, X509_free);
	OPENSSL_free(m->content);
	OPENSSL_free(m);
}

/*
 * A SCEP string attribute value (messageType, pkiStatus, failInfo,
 * transactionID): spec 6.3 accepts PrintableString, UTF8String, IA5String
 * or an OCTET STRING, as long as every byte is printable ASCII.
 * Returns the borrowed bytes in *p and *len.
 */
static int
attr_ascii(ASN1_TYPE *t, const unsigned char **p, size_t *len)
{
	const ASN1_STRING	*s;	/* get0: owned by the attribute */
	const unsigned char	*d;
	int			 i, n;

	switch (ASN1_TYPE_get(t)) {
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_UTF8STRING:
	case V_ASN1_IA5STRING:
	case V_ASN1_OCTET_STRING:
		break;
	default:
		return SCEP_E_BADATTR;
	}
	s = t->value.asn1_string;
	if (s == NULL || (n = ASN1_STRING_length(s)) <= 0)
		return SCEP_E_BADATTR;
	d = ASN1_STRING_get0_data(s);
	for (i = 0; i < n; i++)
		if (d[i] < 0x20 || d[i] > 0x7e)
			return SCEP_E_BADATTR;
	*p = d;
	*len = (size_t)n;
	return SCEP_OK;
}

/* A small decimal attribute ("19", "3", "0"): 1-3 digits, <= max. */
static int
attr_number(CMS_SignerInfo *si, enum scep_oid which, int max, int *val)
{
	ASN1_TYPE		*t;	/* get0 */
	const unsigned char	*p = NULL;
	size_t			 i, len = 0;
	int			 r, v = 0;

	*val = -1;
	if ((r = scep_attr_find(si, which, &t)) != SCEP_OK)
		return r;
	if ((r = attr_ascii(t, &p, &len)) != SCEP_OK)
		return r;
	if (len > 3)
		return SCEP_E_BADATTR;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return SCEP_E_BADATTR;
		v = v * 10 + (p[i] - '0');
	}
	if (v > max)
		return SCEP_E_BADATTR;
	*val = v;
	return SCEP_OK;
}

/* senderNonce / recipientNonce: OCTET STRING of 8..32 bytes (spec 11). */
static int
attr_nonce(CMS_SignerInfo *si, enum scep_oid which, uint8_t *buf,
    size_t *len)
{
	ASN1_TYPE	*t;	/* get0 */
	int		 n, r;

	*len = 0;
	if ((r = scep_attr_find(si, which, &t)) != SCEP_OK)
		return r;
	if (ASN1_TYPE_get(t) != V_ASN1_OCTET_STRING ||
	    t->value.octet_string == NULL)
		return SCEP_E_BADATTR;
	n = ASN1_STRING_length(t->value.octet_string);
	if (n < SCEP_MIN_NONCE || n > SCEP_MAX_NONCE)
		return SCEP_E_BADATTR;
	memcpy(buf, ASN1_STRING_get0_data(t->value.octet_string), (size_t)n);
	*len = (size_t)n;
	return SCEP_OK;
}

/* failInfoText (client side): any text string, cut to SCEP_MAX_FAILTEXT
 * bytes at a UTF-8 character boundary; informational only. */
static int
attr_failtext(CMS_SignerInfo *si, char *buf)
{
	ASN1_TYPE		*t;	/* get0 */
	const unsigned char	*d;
	size_t			 n;
	int			 r;

	buf[0] = '\0';
	if ((r = scep_attr_find(si, SCEP_OID_FAILINFOTEXT, &t)) != SCEP_OK)
		return r;
	switch (ASN1_TYPE_get(t)) {
	case V_ASN1_UTF8STRING:
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_IA5STRING:
		break;
	default:
		return SCEP_E_BADATTR;
	}
	if (t->value.asn1_string == NULL)
		return SCEP_E_BADATTR;
	d = ASN1_STRING_get0_data(t->value.asn1_string);
	n = (size_t)ASN1_STRING_length(t->value.asn1_string);
	if (memchr(d, '\0', n) != NULL)
		return SCEP_E_BADATTR;
	if (n > SCEP_MAX_FAILTEXT) {
		n = SCEP_MAX_FAILTEXT;
		while (n > 0 && (d[n] & 0xc0) == 0x80)
			n--;		/* do not split a UTF-8 sequence */
	}
	memcpy(buf, d, n);
	buf[n] = '\0';
	return SCEP_OK;
}

/*
 * Read every SCEP attribute into m.  All are read even after a failure,
 * so that transactionID and senderNonce are available for a FAILURE reply
 * (spec 8 step 5); the first error is returned.  *attrib is set when both
 * of those were read.
 */
static int
read_attrs(CMS_SignerInfo *si, struct scep_msg *m, int *attrib)
{
	ASN1_TYPE		*t;	/* get0 */
	const unsigned char	*p = NULL;
	size_t			 len = 0;
	int			 r, first = SCEP_OK, have_tid = 0, have_nonce = 0;

#define KEEP(x) do { int k_ = (x); if (first == SCEP_OK && k_ != SCEP_OK) \
	first = k_; } while (0)

	/* transactionID: 1..255 printable characters (spec 10). */
	if ((r = scep_attr_find(si, SCEP_OID_TRANSID, &t)) == SCEP_OK &&
	    (r = attr_ascii(t, &p, &len)) == SCEP_OK) {
		if (len > SCEP_MAX_TRANSID)
			r = SCEP_E_BADATTR;
		else {
			memcpy(m->transid, p, len);
			m->transid[len] = '\0';
			m->transid_len = len;
			have_tid = 1;
		}
	}
	KEEP(r == SCEP_E_NOTFOUND ? SCEP_E_BADATTR : r);

	r = attr_nonce(si, SCEP_OID_SENDERNONCE, m->sender_nonce,
	    &m->sender_nonce_len);
	if (r == SCEP_OK)
		have_nonce = 1;
	KEEP(r == SCEP_E_NOTFOUND ? SCEP_E_BADATTR : r);

	/* messageType: any number (unknown types are the caller's to
	 * refuse, spec 7.1), but it must be there. */
	r = attr_number(si, SCEP_OID_MESSAGETYPE, 999, &m->type);
	if (r != SCEP_OK)
		m->type = 0;
	KEEP(r == SCEP_E_NOTFOUND ? SCEP_E_BADATTR : r);

	/* pkiStatus: CertRep only; 0, 2 or 3 (spec 7.2). */
	r = attr_number(si, SCEP_OID_PKISTATUS, 999, &m->status);
	if (r == SCEP_OK && m->status != SCEP_STATUS_SUCCESS &&
	    m->status != SCEP_STATUS_FAILURE &&
	    m->status != SCEP_STATUS_PENDING)
		r = SCEP_E_BADATTR;
	if (r == SCEP_E_NOTFOUND && m->type != SCEP_MSG_CERTREP)
		r = SCEP_OK;
	if (r != SCEP_OK)
		m->status = -1;
	KEEP(r == SCEP_E_NOTFOUND ? SCEP_E_BADATTR : r);

	/* failInfo: 0..4 (spec 7.3), required with FAILURE. */
	r = attr_number(si, SCEP_OID_FAILINFO, 4, &m->failinfo);
	if (r == SCEP_E_NOTFOUND && m->status != SCEP_STATUS_FAILURE)
		r = SCEP_OK;
	if (r != SCEP_OK)
		m->failinfo = -1;
	KEEP(r == SCEP_E_NOTFOUND ? SCEP_E_BADATTR : r);

	r = attr_failtext(si, m->failtext);
	KEEP(r == SCEP_E_NOTFOUND ? SCEP_OK : r);

	r = attr_nonce(si, SCEP_OID_RECIPIENTNONCE, m->recipient_nonce,
	    &m->recipient_nonce_len);
	KEEP(r == SCEP_E_NOTFOUND ? SCEP_OK : r);

	/* signingTime (RFC 5652 11.3), optional; policy checks it. */
	r = scep_attr_find_nid(si, NID_pkcs9_signingTime, &t);
	if (r == SCEP_OK) {
		if (ASN1_TYPE_get(t) != V_ASN1_UTCTIME &&
		    ASN1_TYPE_get(t) != V_ASN1_GENERALIZEDTIME)
			r = SCEP_E_BADATTR;
		else if (scep_asn1_time(t->value.utctime,
		    &m->signing_time) != SCEP_OK)
			r = SCEP_E_BADATTR;
		else
			m->has_signing_time = 1;
	}
	KEEP(r == SCEP_E_NOTFOUND ? SCEP_OK : r);
#undef KEEP

	*attrib = have_tid && have_nonce;
	return first;
}

/* The signature algorithm OID is one of spec 6.5 (MD5 only if allowed). */
static int
sigalg_ok(CMS_SignerInfo *si, unsigned int algs)
{
	X509_ALGOR		*sig = NULL;	/* get0: owned by si */
	const ASN1_OBJECT	*obj = NULL;
	size_t			 i;
	int			 nid;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &sig);
	if (sig == NULL)
		return 0;
	X509_ALGOR_get0(&obj, NULL, NULL, sig);
	nid = OBJ_obj2nid(obj);
	if (nid == NID_md5WithRSAEncryption && (algs & SCEP_ALG_MD5) == 0)
		return 0;
	for (i = 0; i < sizeof(sigalgs) / sizeof(sigalgs[0]); i++)
		if (sigalgs[i] == nid)
			return 1;
	return 0;
}

/* messageDigest is the digest of the eContent octets, or of nothing when
 * eContent is absent (spec 6.2, 9.3); compared in constant time. */
static int
digest_ok(CMS_SignerInfo *si, int md_nid, const uint8_t *content,
    size_t content_len)
{
	ASN1_TYPE	*t;	/* get0 */
	EVP_MD		*md = NULL;
	unsigned char	 dig[EVP_MAX_MD_SIZE];
	unsigned int	 diglen = 0;
	int		 ok = 0;

	if (scep_attr_find_nid(si, NID_pkcs9_messageDigest, &t) != SCEP_OK ||
	    ASN1_TYPE_get(t) != V_ASN1_OCTET_STRING ||
	    t->value.octet_string == NULL)
		return 0;
	if ((md = scep_md_fetch(md_nid)) == NULL)
		return 0;
	if (!EVP_Digest(content != NULL ? content : (const uint8_t *)"",
	    content_len, dig, &diglen, md, NULL))
		goto out;
	if ((unsigned int)ASN1_STRING_length(t->value.octet_string) != diglen)
		goto out;
	ok = CRYPTO_memcmp(dig, ASN1_STRING_get0_data(t->value.octet_string),
	    diglen) == 0;
 out:
	EVP_MD_free(md);
	return ok;
}

/* contentType, when present, must name the eContentType (id-data). */
static int
ctype_ok(CMS_SignerInfo *si)
{
	ASN1_TYPE	*t;	/* get0 */
	int		 r;

	r = scep_attr_find_nid(si, NID_pkcs9_contentType, &t);
	if (r == SCEP_E_NOTFOUND)
		return 1;	/* RFC 5652 wants it; be lenient */
	if (r != SCEP_OK || ASN1_TYPE_get(t) != V_ASN1_OBJECT)
		return 0;
	return OBJ_obj2nid(t->value.object) == NID_pkcs7_data;
}

/*
 * The signer certificate (spec 6.2): the certificate the sid names
 * (issuerAndSerialNumber or subjectKeyIdentifier).  If none matches and
 * there is exactly one certificate, that one is the candidate; its key
 * must then verify the signature, which scep_signed_verify checks.
 */
X509 *
scep_signer_find(CMS_SignerInfo *si, STACK_OF(X509) *certs)
{
	X509	*x;	/* get0: owned by certs */
	int	 i;

	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (CMS_SignerInfo_cert_cmp(si, x) == 0)
			return x;
	}
	if (sk_X509_num(certs) == 1)
		return sk_X509_value(certs, 0);
	return NULL;
}

int
scep_signed_open(const uint8_t *der, size_t len, CMS_ContentInfo **cmsp,
    CMS_SignerInfo **sip, STACK_OF(X509) **certsp)
{
	CMS_ContentInfo			*cms = NULL;
	STACK_OF(CMS_SignerInfo)	*sis;		/* get0: cms */
	CMS_SignerInfo			*si;		/* get0: cms */
	STACK_OF(X509)			*certs = NULL;	/* get1 */
	const unsigned char		*p = der;
	int				 r;

	*cmsp = NULL;
	*sip = NULL;
	*certsp = NULL;
	if ((r = scep_der_precheck(der, len, SCEP_MAX_MSG_DER)) != SCEP_OK)
		return r;

	/* Gate 2: libcrypto's decoder (BER accepted: indefinite lengths,
	 * constructed OCTET STRINGs are reassembled), then no trailing. */
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL) {
		r = SCEP_E_MALFORMED;
		goto out;
	}
	if (p != der + len) {
		r = SCEP_E_TRAILING;
		goto out;
	}

	/* Gate 3: exact structure (spec 8 steps 1-2). */
	r = SCEP_E_MALFORMED;
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
		goto out;
	if ((sis = CMS_get0_SignerInfos(cms)) == NULL ||
	    sk_CMS_SignerInfo_num(sis) != 1)
		goto out;
	si = sk_CMS_SignerInfo_value(sis, 0);
	if (CMS_signed_get_attr_count(si) <= 0)
		goto out;		/* RFC 8894 3.2: signedAttrs MUST */
	if (OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data)
		goto out;
	if ((certs = CMS_get1_certs(cms)) == NULL)
		goto out;		/* the signer cert MUST be there */
	if (sk_X509_num(certs) > SCEP_MAX_CERTS) {
		r = SCEP_E_TOOBIG;
		goto out;
	}
	*cmsp = cms;
	*sip = si;
	*certsp = certs;
	cms = NULL;
	certs = NULL;
	r = SCEP_OK;
 out:
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	return r;
}

int
scep_signer_md(CMS_SignerInfo *si)
{
	X509_ALGOR		*dig = NULL;	/* get0: owned by si */
	const ASN1_OBJECT	*obj = NULL;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
	if (dig == NULL)
		return NID_undef;
	X509_ALGOR_get0(&obj, NULL, NULL, dig);
	return OBJ_obj2nid(obj);
}

int
scep_signed_verify(CMS_SignerInfo *si, X509 *signer, unsigned int algs,
    const uint8_t *content, size_t content_len)
{
	int md_nid = scep_signer_md(si);

	/* Spec 6.5 / 17: digest within what the endpoint allows. */
	if ((scep_md_alg(md_nid) & algs) == 0 || !sigalg_ok(si, algs))
		return SCEP_E_BADALG;
	/* Spec 8 step 4: the signature over the signed attributes, made
	 * by the signer's key, then messageDigest over the content.  The
	 * certificate itself is not verified (lenient signer, step 3). */
	if (X509_get0_pubkey(signer) == NULL)
		return SCEP_E_BADSIG;
	CMS_SignerInfo_set1_signer_cert(si, signer);	/* up-refs */
	if (CMS_SignerInfo_verify(si) != 1)
		return SCEP_E_BADSIG;
	if (!digest_ok(si, md_nid, content, content_len) || !ctype_ok(si))
		return SCEP_E_BADSIG;
	return SCEP_OK;
}

int
scep_msg_decode(const uint8_t *der, size_t len, unsigned int algs,
    struct scep_msg **out)
{
	CMS_ContentInfo		 *cms = NULL;
	CMS_SignerInfo		 *si = NULL;	/* get0: cms */
	ASN1_OCTET_STRING	**pos;		/* get0: cms */
	STACK_OF(X509)		 *certs = NULL;	/* get1 */
	X509			 *signer;	/* get0: certs */
	struct scep_msg		 *m = NULL;
	int			  r, attr_r, attrib = 0;

	*out = NULL;
	if ((r = scep_signed_open(der, len, &cms, &si, &certs)) != SCEP_OK)
		return r;

	r = SCEP_E_NOMEM;
	if ((m = OPENSSL_zalloc(sizeof(*m))) == NULL)
		goto out;
	m->status = -1;
	m->failinfo = -1;
	m->md_nid = scep_signer_md(si);
	/* An empty eContent (FAILURE/PENDING, see scep_rep.c) is absent. */
	if ((pos = CMS_get0_content(cms)) != NULL && *pos != NULL &&
	    ASN1_STRING_length(*pos) > 0) {
		if ((r = scep_dup(ASN1_STRING_get0_data(*pos),
		    (size_t)ASN1_STRING_length(*pos), &m->content,
		    &m->content_len)) != SCEP_OK)
			goto out;
	}

	attr_r = read_attrs(si, m, &attrib);

	/* Spec 8 step 3: find the signer; without one nothing is
	 * attributable and the answer is an HTTP error. */
	if ((signer = scep_signer_find(si, certs)) == NULL) {
		r = SCEP_E_BADSIG;
		attrib = 0;
		goto out;
	}
	if (!X509_up_ref(signer)) {
		r = SCEP_E_NOMEM;
		attrib = 0;
		goto out;
	}
	m->signer = signer;
	m->certs = certs;
	certs = NULL;

	if ((r = scep_signed_verify(si, m->signer, algs, m->content,
	    m->content_len)) != SCEP_OK)
		goto out;
	if ((r = attr_r) != SCEP_OK)
		goto out;
	*out = m;
	m = NULL;
	r = SCEP_OK;
 out:
	/* spec 2.5: an attributable failure still gets a CertRep. */
	if (r != SCEP_OK && attrib && m != NULL && m->signer != NULL &&
	    (r == SCEP_E_BADSIG || r == SCEP_E_BADALG ||
	    r == SCEP_E_BADATTR)) {
		*out = m;
		m = NULL;
	}
	scep_msg_free(m);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	return r;
}
