/*
 * fuzz_ias.c -- libFuzzer target: scep_ias_decode, both structures
 * (IssuerAndSerialNumber for GetCert/GetCRL, IssuerAndSubject for
 * CertPoll) on every input.
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/err.h>

#include "scep.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = { SCEP_MSG_GETCERT, SCEP_MSG_CERTPOLL };
	struct scep_ias	*ias = NULL;
	size_t		 i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (scep_ias_decode(data, size, types[i], &ias) == SCEP_OK)
			scep_ias_free(ias);
		ias = NULL;
	}
	ERR_clear_error();
	return 0;
}
