/*
 * testutil.h -- shared helpers of the core unit tests: fixed keys,
 * certificates with the quirks real clients have (v1, critical AKI, SKI),
 * PKCS#10 requests with any challengePassword type, and a full client
 * request -> server decode path.  Helpers return NULL on failure; main()
 * checks with TU_NEED, which reports a failed setup as a failed test and
 * ends the run (no exit() or abort() outside main, STYLE rules).
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "scep.h"

/* A fixed "now" so every build makes the same signingTime. */
#define TU_NOW		((time_t)1700000000)	/* 2023-11-14T22:13:20Z */

/* Certificate flavours (tu_cert). */
#define TU_V1		0x01	/* X.509 v1, no extensions (certmonger) */
#define TU_AKI_CRIT	0x02	/* critical authorityKeyIdentifier (Windows) */
#define TU_NO_SKI	0x04	/* v3 without subjectKeyIdentifier */
#define TU_CA		0x08	/* basicConstraints CA:TRUE */
#define TU_RDN_MULTI	0x10	/* subject O=..., OU=..., CN=cn (3 RDNs) */
#define TU_RDN_REV	0x20	/* the same 3 RDNs in reverse order */

/* In main() only: a setup step that failed ends the run as a failure. */
#define TU_NEED(x) do {							\
	if ((x) == NULL) {						\
		tap_ok(0, "setup: %s", #x);				\
		return tap_done();					\
	}								\
} while (0)

EVP_PKEY	*tu_key(const char *pem);
EVP_PKEY	*tu_rsa(int bits);		/* freshly generated */
EVP_PKEY	*tu_ec(const char *curve);	/* freshly generated */
/* Certificate for "key" named CN=cn, serial "serial", issued by
 * issuer/issuer_key (NULL: self-signed), "flags" TU_*. */
X509		*tu_cert(EVP_PKEY *key, const char *cn, long serial,
		    X509 *issuer, EVP_PKEY *issuer_key, unsigned int flags);

/* Challenge encodings (tu_csr). */
enum tu_chal {
	TU_CHAL_NONE, TU_CHAL_PRINTABLE, TU_CHAL_UTF8, TU_CHAL_T61,
	TU_CHAL_BMP, TU_CHAL_UNIVERSAL, TU_CHAL_IA5, TU_CHAL_INTEGER,
	TU_CHAL_TWICE, TU_CHAL_TWO_VALUES,
};
/* DER of a PKCS#10 for key (signed with it); nsans dNSName SANs. */
uint8_t		*tu_csr(EVP_PKEY *key, const char *cn, enum tu_chal ct,
		    const char *challenge, int nsans, size_t *len);

/* The same PKCS#10 with attribute "nid" present twice (re-signed). */
uint8_t		*tu_dup_attr(const uint8_t *der, size_t len, EVP_PKEY *key,
		    int nid, size_t *outlen);

/* Build a request with scep_request_build (fills defaults). */
uint8_t		*tu_request(int type, const char *transid, int md_nid,
		    int cipher_nid, unsigned int flags, X509 *ra,
		    EVP_PKEY *key, X509 *cert, const uint8_t *inner,
		    size_t inner_len, size_t *len);

/* Read a whole file (tests/vectors); NULL on error. */
uint8_t		*tu_read_file(const char *path, size_t *len);
int		 tu_write_file(const char *path, const uint8_t *p, size_t len);

/* Load the legacy provider (single DES) next to the default one; the
 * caller unloads both (tu_unload_legacy) so leak checks stay clean. */
int		 tu_load_legacy(void);
void		 tu_unload_legacy(void);

#endif /* !TESTUTIL_H */
