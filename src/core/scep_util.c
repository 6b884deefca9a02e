/*
 * scep_util.c -- small helpers of the core: the size and header gate run
 * before libcrypto parses anything (STYLE H6), buffer hand-over, time
 * conversion without the C library's time zone, and the key fingerprint
 * the service keys transactions by.
 */
#include <limits.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "scep.h"
#include "scep_int.h"

int
scep_der_precheck(const uint8_t *der, size_t len, size_t max)
{
	const unsigned char	*p = der;
	long			 plen = 0;
	int			 tag = 0, xclass = 0, ret;

	if (der == NULL || len == 0)
		return SCEP_E_MALFORMED;
	if (len > max || len > LONG_MAX)
		return SCEP_E_TOOBIG;
	/*
	 * libcrypto's own header reader: 0x80 alone means the header itself
	 * is cut or invalid; 0x80 with other bits means a good header whose
	 * declared length runs past the end of the input.
	 */
	ERR_set_mark();
	ret = ASN1_get_object(&p, &plen, &tag, &xclass, (long)len);
	ERR_pop_to_mark();
	if (ret == 0x80)	/* a cut header is at most 6 bytes here */
		return len < 6 ? SCEP_E_TRUNCATED : SCEP_E_MALFORMED;
	if (xclass != V_ASN1_UNIVERSAL || tag != V_ASN1_SEQUENCE ||
	    (ret & V_ASN1_CONSTRUCTED) == 0)
		return SCEP_E_MALFORMED;
	if (ret & 0x80)
		return SCEP_E_TRUNCATED;
	return SCEP_OK;
}

int
scep_dup(const uint8_t *p, size_t len, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	/* One spare byte so a zero-length copy is still a valid pointer. */
	if ((*out = OPENSSL_malloc(len + 1)) == NULL)
		return SCEP_E_NOMEM;
	if (len > 0)
		memcpy(*out, p, len);
	*out_len = len;
	return SCEP_OK;
}

int
scep_cms_der(CMS_ContentInfo *cms, uint8_t **out, size_t *out_len)
{
	unsigned char	*der = NULL;	/* OPENSSL_malloc'd by i2d */
	int		 n;

	*out = NULL;
	*out_len = 0;
	if ((n = i2d_CMS_ContentInfo(cms, &der)) <= 0)
		return SCEP_E_INTERNAL;
	if ((size_t)n > SCEP_MAX_MSG_DER) {
		OPENSSL_free(der);
		return SCEP_E_TOOBIG;
	}
	*out = der;
	*out_len = (size_t)n;
	return SCEP_OK;
}

/* Days between 1970-01-01 and a proleptic Gregorian date (H. Hinnant's
 * days_from_civil); exact for every year ASN1_TIME can carry. */
static long long
days_from_civil(long long y, int m, int d)
{
	long long	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
scep_asn1_time(const ASN1_TIME *t, time_t *out)
{
	struct tm	tm;
	long long	s;

	*out = 0;
	memset(&tm, 0, sizeof(tm));
	/* ASN1_TIME_to_tm(NULL, ...) would read the clock: refuse NULL. */
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return SCEP_E_MALFORMED;
	s = days_from_civil((long long)tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday) * 86400LL + tm.tm_hour * 3600LL + tm.tm_min * 60LL +
	    tm.tm_sec;
	if (sizeof(time_t) < sizeof(long long) &&
	    (s > (long long)INT_MAX || s < (long long)INT_MIN))
		return SCEP_E_MALFORMED;
	*out = (time_t)s;
	return SCEP_OK;
}

/*
 * The same fingerprint from a SubjectPublicKeyInfo already at hand (the
 * CSR's, a certificate's): i2d_X509_PUBKEY re-emits the parsed structure
 * with the ASN.1 templates, where i2d_PUBKEY of an EVP_PKEY goes through
 * OpenSSL 3's OSSL_ENCODER machinery (issue 7 profile: 3.7% of the CPU of
 * an enrollment).
 */
/* SHA-256 of n DER bytes (der is freed); out is zero on failure. */
static int
sha256_der(unsigned char *der, int n, uint8_t out[32])
{
	EVP_MD		*md = NULL;
	unsigned int	 mdlen = 0;
	int		 r = SCEP_E_INTERNAL;

	if (n > 0 && (md = scep_md_fetch(NID_sha256)) != NULL &&
	    EVP_Digest(der, (size_t)n, out, &mdlen, md, NULL) && mdlen == 32)
		r = SCEP_OK;
	if (r != SCEP_OK)
		memset(out, 0, 32);
	EVP_MD_free(md);
	OPENSSL_free(der);
	return r;
}

int
scep_spki_fingerprint(const X509_PUBKEY *spki, uint8_t out[32])
{
	unsigned char	*der = NULL;	/* OPENSSL_malloc'd by i2d */
	int		 n;

	memset(out, 0, 32);
	if (spki == NULL)
		return SCEP_E_INTERNAL;
	n = i2d_X509_PUBKEY(spki, &der);
	return sha256_der(der, n, out);
}

int
scep_key_fingerprint(EVP_PKEY *key, uint8_t out[32])
{
	unsigned char	*der = NULL;	/* OPENSSL_malloc'd by i2d */
	int		 n;

	memset(out, 0, 32);
	if (key == NULL)
		return SCEP_E_INTERNAL;
	n = i2d_PUBKEY(key, &der);
	return sha256_der(der, n, out);
}
