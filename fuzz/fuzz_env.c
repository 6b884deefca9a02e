/*
 * fuzz_env.c -- libFuzzer target: scep_env_decrypt with a fixed RA key
 * (fuzz_keys.h), so that inputs built for that certificate reach the key
 * transport and content decryption, not just the parser.  The corpus in
 * fuzz/corpus/env/ is encrypted to that certificate.
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "scep.h"
#include "fuzz_keys.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Loaded once per process; a harness, not the core, may keep state. */
static struct scep_keypair	kp;

static int
load_key(void)
{
	BIO *b = NULL;

	if (kp.key != NULL && kp.cert != NULL)
		return 1;
	if ((b = BIO_new_mem_buf(fuzz_ra_key_pem, -1)) != NULL)
		kp.key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if ((b = BIO_new_mem_buf(fuzz_ra_cert_pem, -1)) != NULL)
		kp.cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return kp.key != NULL && kp.cert != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	*out = NULL;
	size_t	 len = 0;
	int	 cnid = 0;

	if (!load_key())
		__builtin_trap();	/* the harness itself is broken */
	if (scep_env_decrypt(data, size, &kp, 1, SCEP_ALG_DEFAULT |
	    SCEP_ALG_LEGACY, &out, &len, &cnid) == SCEP_OK &&
	    len > SCEP_MAX_INNER_DER)
		__builtin_trap();
	OPENSSL_free(out);
	ERR_clear_error();
	return 0;
}
