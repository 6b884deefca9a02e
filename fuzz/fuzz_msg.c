/*
 * fuzz_msg.c -- libFuzzer target: scep_msg_decode, the signed layer of a
 * pkiMessage (STYLE H13).  Every algorithm is allowed so the fuzzer
 * reaches the signature code for MD5 and DES requests too.
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/err.h>

#include "scep.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scep_msg	*m = NULL;

	(void)scep_msg_decode(data, size, SCEP_ALG_DEFAULT | SCEP_ALG_LEGACY,
	    &m);
	scep_msg_free(m);	/* set on success and attributable failures */
	ERR_clear_error();
	return 0;
}
