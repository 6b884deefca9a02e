/*
 * fuzz_csr.c -- libFuzzer target: scep_csr_decode, the PKCS#10 of a
 * PKCSReq/RenewalReq (STYLE H13).
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/err.h>

#include "scep.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scep_csr	*c = NULL;

	if (scep_csr_decode(data, size, &c) == SCEP_OK)
		scep_csr_free(c);
	ERR_clear_error();
	return 0;
}
