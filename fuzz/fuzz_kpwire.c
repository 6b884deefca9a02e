/*
 * fuzz_kpwire.c -- libFuzzer target: the key process message decoders
 * (src/keyproc/kp_wire.c, STYLE H13, issue 8).
 *
 * The first input byte picks the decoder: bit 7 clear, a request body as
 * a key worker reads it from scepd (kp_req_decode); bit 7 set, a reply
 * body as scepd reads it from a worker.  The low 7 bits give the op,
 * reduced modulo KP_OP__MAX + 1 so unknown op 0 is reached too.  The
 * rest is the body.  Bodies are handed over as-is: the framing (header,
 * per-op maximum) is tested in tests/harden/test_keyproc.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "keyproc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
replies(uint32_t op, const uint8_t *b, size_t n)
{
	X509		*x = NULL;
	X509_CRL	*crl = NULL;
	struct issued_reply ir;
	uint8_t		*out = NULL, serial[ISSUE_SERIAL_LEN];
	size_t		 len = 0;
	int		 nid = 0;

	switch (op) {
	case KP_DECRYPT:
		if (kp_dec_rep_decrypt(b, n, &out, &len, &nid) == SCEP_OK)
			OPENSSL_free(out);
		break;
	case KP_ISSUE:
		if (kp_dec_rep_issue(b, n, &x, serial) == SCEP_OK)
			X509_free(x);
		break;
	case KP_SIGN_CERTREP:
	case KP_SIGN_NEXTCA:
		if (kp_dec_rep_blob(b, n, KP_MAX_SIGNED, &out, &len) ==
		    SCEP_OK)
			OPENSSL_free(out);
		break;
	case KP_SIGN_CRL:
		if (kp_dec_rep_crl(b, n, &crl) == SCEP_OK)
			X509_CRL_free(crl);
		break;
	case KP_MAKE_RA:
		if (kp_dec_rep_cert(b, n, &x) == SCEP_OK)
			X509_free(x);
		break;
	case KP_ISSUE_REPLY:
		(void)kp_dec_rep_issue_reply(b, n, &ir);
		issued_reply_clear(&ir);
		break;
	default:
		(void)kp_rep_status(b, n);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_req	 rq;
	uint32_t	 op;

	if (size < 1)
		return 0;
	op = (uint32_t)(data[0] & 0x7f) % (KP_OP__MAX + 1);
	if ((data[0] & 0x80) != 0)
		replies(op, data + 1, size - 1);
	else {
		(void)kp_req_decode(op, data + 1, size - 1, &rq);
		kp_req_clear(&rq);
	}
	ERR_clear_error();
	return 0;
}
