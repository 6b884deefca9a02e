/*
 * fuzz_getmsg.c -- libFuzzer target: scep_get_message_decode, the
 * message= value of a GET PKIOperation (spec 2.4).  The input is the raw,
 * still escaped query value; it is not NUL-terminated.
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/crypto.h>

#include "scep.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	*out = NULL;
	size_t	 len = 0;

	if (scep_get_message_decode((const char *)data, size, &out, &len) ==
	    SCEP_OK && len > SCEP_MAX_GET_DER)
		__builtin_trap();	/* the bound is part of the contract */
	OPENSSL_free(out);
	return 0;
}
