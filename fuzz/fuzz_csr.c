/*
 * fuzz_csr.c -- libFuzzer target: scep_csr_decode, the PKCS#10 of a
 * PKCSReq/RenewalReq (STYLE H13), and its storage form
 * (scep_csr_redact, scep_csr_decode_stored).
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "scep.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scep_csr	*c = NULL;
	uint8_t		*red = NULL;
	size_t		 rlen = 0;

	if (scep_csr_decode(data, size, &c) == SCEP_OK)
		scep_csr_free(c);
	/* The storage form, and reading it back (issue 8: no challenge in
	 * the request table). */
	c = NULL;
	if (scep_csr_redact(data, size, &red, &rlen) == SCEP_OK &&
	    scep_csr_decode_stored(red, rlen, &c) == SCEP_OK) {
		if (c->challenge != NULL)
			__builtin_trap();	/* redaction missed one */
		scep_csr_free(c);
	}
	OPENSSL_free(red);
	ERR_clear_error();
	return 0;
}
