/*
 * scep_get.c -- the message= value of a GET PKIOperation (RFC 8894 4.1),
 * decoded with the algorithm of spec 2.4, which absorbs every escaping
 * habit seen in the field:
 *
 *   1. the input is the raw query value, still escaped;
 *   2. percent-decode %XX only; '+' stays '+' (form decoding would turn
 *      it into a space and corrupt base64).  A space -- literal, or %20 --
 *      can only be a '+' that something form-decoded on the way, so it is
 *      mapped back to '+' (what EJBCA does);
 *   3. delete CR, LF, TAB and other white space (sscep and Cisco put
 *      %0A line breaks in);
 *   4. base64url ('-', '_') becomes standard base64 (old micromdm);
 *   5. missing '=' padding is added;
 *   6. base64-decode (EVP_DecodeBlock); failure is SCEP_E_MALFORMED.
 *
 * Bounded by SCEP_MAX_GET_MESSAGE on input and SCEP_MAX_GET_DER on
 * output.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "scep.h"
#include "scep_int.h"

static int
is_b64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int
scep_get_message_decode(const char *raw, size_t len, uint8_t **out,
    size_t *out_len)
{
	unsigned char	*b = NULL, *der = NULL;
	size_t		 i, n = 0, pad = 0, groups, dlen;
	int		 hi, lo, c, dec, r = SCEP_E_MALFORMED;

	*out = NULL;
	*out_len = 0;
	if (raw == NULL || len == 0)
		return SCEP_E_MALFORMED;
	if (len > SCEP_MAX_GET_MESSAGE)
		return SCEP_E_TOOBIG;

	/* Steps 2-4 in one pass; the result is never longer than the input.
	 * Three spare bytes for the padding of step 5. */
	if ((b = OPENSSL_malloc(len + 4)) == NULL)
		return SCEP_E_NOMEM;
	for (i = 0; i < len; i++) {
		c = (unsigned char)raw[i];
		if (c == '%') {
			if (i + 2 >= len)
				goto out;	/* "%" or "%X" at the end */
			hi = OPENSSL_hexchar2int((unsigned char)raw[i + 1]);
			lo = OPENSSL_hexchar2int((unsigned char)raw[i + 2]);
			if (hi < 0 || lo < 0)
				goto out;
			c = hi * 16 + lo;
			i += 2;
		}
		switch (c) {
		case ' ':
			c = '+';	/* a form-decoded '+' (step 2) */
			break;
		case '\r': case '\n': case '\t': case '\v': case '\f':
			continue;	/* step 3 */
		case '-':
			c = '+';	/* step 4 */
			break;
		case '_':
			c = '/';
			break;
		default:
			break;
		}
		b[n++] = (unsigned char)c;
	}

	/* Step 5: '=' only at the end, at most two, then pad to 4. */
	while (n > 0 && b[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (n == 0)
		goto out;
	for (i = 0; i < n; i++)
		if (!is_b64(b[i]))
			goto out;	/* includes a third or inner '=' */
	if (n % 4 == 1)
		goto out;		/* 6 bits cannot end a group */
	pad = (4 - n % 4) % 4;
	for (i = 0; i < pad; i++)
		b[n++] = '=';

	/* Step 6.  EVP_DecodeBlock counts the padding as zero bytes, so
	 * the real length is 3 per group minus the '=' added. */
	groups = n / 4;
	if (groups * 3 - pad > SCEP_MAX_GET_DER) {
		r = SCEP_E_TOOBIG;
		goto out;
	}
	r = SCEP_E_NOMEM;
	if ((der = OPENSSL_malloc(groups * 3 + 1)) == NULL)
		goto out;
	r = SCEP_E_MALFORMED;
	if ((dec = EVP_DecodeBlock(der, b, (int)n)) < 0 ||
	    (size_t)dec != groups * 3)
		goto out;
	dlen = groups * 3 - pad;
	*out = der;
	*out_len = dlen;
	der = NULL;
	r = SCEP_OK;
 out:
	OPENSSL_free(der);
	OPENSSL_free(b);
	return r;
}
