/*
 * scep_sign.c -- build a CMS SignedData with one signer and the SCEP
 * signed attributes (RFC 8894 3.2, spec 6.1 and 9.1).  Shared by the
 * CertRep, the GetNextCACert reply and the client-side request builder.
 *
 * libcrypto's CMS code adds contentType and messageDigest itself when it
 * finalises the SignerInfo; we add signingTime first, from the caller's
 * clock, so CMS_SignerInfo_sign() does not read the system clock (the
 * core has none, STYLE H1).
 */
#include <limits.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "scep.h"
#include "scep_int.h"

/* Copy a memory BIO's contents into a take buffer. */
static int
bio_take(BIO *b, uint8_t **out, size_t *out_len)
{
	char	*p = NULL;	/* get0: inside the BIO */
	long	 n;

	n = BIO_get_mem_data(b, &p);
	if (n <= 0 || p == NULL)
		return SCEP_E_INTERNAL;
	if ((size_t)n > SCEP_MAX_MSG_DER)
		return SCEP_E_TOOBIG;
	return scep_dup((const uint8_t *)p, (size_t)n, out, out_len);
}

int
scep_sign(const struct scep_signreq *sr, uint8_t **out, size_t *out_len)
{
	CMS_ContentInfo	*cms = NULL;
	CMS_SignerInfo	*si;		/* get0: owned by cms */
	EVP_PKEY_CTX	*pctx;		/* get0: owned by si */
	EVP_MD		*md = NULL;
	ASN1_TIME	*tm = NULL;
	BIO		*in = NULL, *bout = NULL;
	X509		*x;		/* get0: from sr->extra */
	unsigned int	 cflags, sflags;
	int		 i, j, dup, kt, r = SCEP_E_INTERNAL;
	size_t		 k;

	*out = NULL;
	*out_len = 0;
	if (sr == NULL || sr->key == NULL || sr->cert == NULL ||
	    (sr->content == NULL && sr->content_len != 0) ||
	    sr->content_len > SCEP_MAX_MSG_DER ||
	    (sr->attrs == NULL && sr->nattrs != 0))
		return SCEP_E_INTERNAL;

	/*
	 * RSA (PKCS#1 v1.5 unless PSS is asked for) or EC (ECDSA).  An
	 * RSA-PSS-only key would force PSS, which iOS cannot verify
	 * (spec 9.1), so it is refused.
	 */
	kt = EVP_PKEY_get_base_id(sr->key);
	if (kt != EVP_PKEY_RSA && kt != EVP_PKEY_EC)
		return SCEP_E_BADKEY;
	if ((sr->flags & SCEP_SIGN_PSS) && kt != EVP_PKEY_RSA)
		return SCEP_E_BADKEY;
	if ((md = scep_md_fetch(sr->md_nid)) == NULL)
		return SCEP_E_BADALG;

	cflags = CMS_PARTIAL | CMS_BINARY;
	if (sr->content == NULL)
		cflags |= CMS_DETACHED;		/* spec 9.3: eContent absent */
	if (sr->flags & SCEP_SIGN_BER)
		cflags |= CMS_STREAM;
	r = SCEP_E_NOMEM;
	if ((cms = CMS_sign(NULL, NULL, NULL, NULL, cflags)) == NULL)
		goto out;

	sflags = CMS_NOSMIMECAP | CMS_BINARY;
	if (sr->flags & SCEP_SIGN_SKI)
		sflags |= CMS_USE_KEYID;
	if (sr->flags & SCEP_SIGN_PSS)
		sflags |= CMS_KEY_PARAM;
	if (sr->flags & SCEP_SIGN_NOCERTS)
		sflags |= CMS_NOCERTS;
	r = SCEP_E_INTERNAL;
	if ((si = CMS_add1_signer(cms, sr->cert, sr->key, md, sflags)) == NULL)
		goto out;
	if (sr->flags & SCEP_SIGN_PSS) {
		if ((pctx = CMS_SignerInfo_get0_pkey_ctx(si)) == NULL ||
		    EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) <= 0)
			goto out;
	}

	/* More certificates (chain); CMS refuses a duplicate, so skip it. */
	for (i = 0; sr->extra != NULL && i < sk_X509_num(sr->extra); i++) {
		x = sk_X509_value(sr->extra, i);
		dup = (sr->flags & SCEP_SIGN_NOCERTS) == 0 &&
		    X509_cmp(x, sr->cert) == 0;
		for (j = 0; !dup && j < i; j++)
			dup = X509_cmp(x, sk_X509_value(sr->extra, j)) == 0;
		if (!dup && !CMS_add1_cert(cms, x))
			goto out;
	}

	/* signingTime: UTCTime through 2049, GeneralizedTime after
	 * (RFC 5652 11.3; ASN1_TIME_set picks the form). */
	if ((tm = ASN1_TIME_set(NULL, sr->now)) == NULL)
		goto out;
	/* len -1: "tm" is an ASN1_STRING (STYLE H17). */
	if (!CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime,
	    ASN1_STRING_type(tm), tm, -1))
		goto out;

	for (k = 0; k < sr->nattrs; k++)
		if ((r = scep_attr_add(si, sr->attrs[k].oid, sr->attrs[k].type,
		    sr->attrs[k].data, sr->attrs[k].len,
		    sr->attrs[k].twice)) != SCEP_OK)
			goto out;

	r = SCEP_E_NOMEM;
	/* An empty content still needs a readable BIO for the digest. */
	if ((in = BIO_new_mem_buf(sr->content != NULL ? sr->content :
	    (const uint8_t *)"", (int)sr->content_len)) == NULL)
		goto out;
	r = SCEP_E_INTERNAL;
	if (sr->flags & SCEP_SIGN_BER) {
		/* Streaming: indefinite lengths, eContent in chunks. */
		if ((bout = BIO_new(BIO_s_mem())) == NULL)
			goto out;
		if (!i2d_CMS_bio_stream(bout, cms, in, (int)cflags))
			goto out;
		r = bio_take(bout, out, out_len);
		goto out;
	}
	if (!CMS_final(cms, in, NULL, CMS_BINARY))
		goto out;
	r = scep_cms_der(cms, out, out_len);
 out:
	BIO_free(bout);
	BIO_free(in);
	ASN1_TIME_free(tm);
	CMS_ContentInfo_free(cms);
	EVP_MD_free(md);
	return r;
}
