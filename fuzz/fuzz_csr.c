/*
 * fuzz_csr.c -- libFuzzer target: scep_csr_decode, the PKCS#10 of a
 * PKCSReq/RenewalReq (STYLE H13), and its storage form
 * (scep_csr_stored, scep_csr_redact, scep_csr_decode_stored), and the
 * decoder-free key import under them (scep_spki.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "scep.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scep_csr	*c = NULL;
	uint8_t		*red = NULL, *st = NULL;
	size_t		 rlen = 0, slen = 0;
	int		 sr = -1;

	if (scep_csr_decode(data, size, &c) == SCEP_OK) {
		/* The key carried by the SPKI is the one decoded. */
		if (scep_spki_eq(c->spki, c->pubkey) != 1)
			__builtin_trap();
		/* Intune's pre-check sees the challenge decode read. */
		if (c->challenge != NULL && c->challenge_len > 0 &&
		    scep_csr_has_challenge(data, size) != 1)
			__builtin_trap();
		sr = scep_csr_stored(c, &st, &slen);
		scep_csr_free(c);
	}
	/* The storage form, and reading it back (issue 8: no challenge in
	 * the request table). */
	c = NULL;
	if (scep_csr_redact(data, size, &red, &rlen) == SCEP_OK &&
	    scep_csr_decode_stored(red, rlen, &c) == SCEP_OK) {
		if (c->challenge != NULL)
			__builtin_trap();	/* redaction missed one */
		scep_csr_free(c);
	}
	/* From the parsed request or from bytes: the same storage form. */
	if (sr == SCEP_OK && (red == NULL || rlen != slen ||
	    memcmp(red, st, slen) != 0))
		__builtin_trap();
	OPENSSL_free(red);
	OPENSSL_free(st);
	ERR_clear_error();
	return 0;
}
