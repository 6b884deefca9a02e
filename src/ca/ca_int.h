/*
 * ca_int.h -- helpers shared by the files of src/ca only.  Nothing outside
 * src/ca includes this header: the public interfaces are keyops.h and
 * ca_gen.h.
 */
#ifndef CA_INT_H
#define CA_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "keyops.h"

/* keyUsage bit numbers (RFC 5280 4.2.1.3), for ca_ext_key_usage(). */
#define CA_KU_DIGITAL_SIGNATURE	0x0001u
#define CA_KU_KEY_ENCIPHERMENT	0x0004u
#define CA_KU_KEY_AGREEMENT	0x0010u
#define CA_KU_KEY_CERT_SIGN	0x0020u
#define CA_KU_CRL_SIGN		0x0040u

/* One SAN value (DNS name, e-mail, URI, UPN) in an issued certificate. */
#define CA_MAX_SAN_LEN		1024
/* A CRL distribution point URL. */
#define CA_MAX_URL_LEN		2048
/* Entries in one CRL: keeps one CRL under ~40 MB of DER and bounds the
 * time the CA key is busy with one request. */
#define CA_MAX_CRL_ENTRIES	1000000
/* Hex digits in a CRL entry's serial (20 bytes, RFC 5280 4.1.2.2). */
#define CA_MAX_SERIAL_HEX	40
/* Loaded identities of each kind (CAs, RAs). */
#define KEYOPS_MAX_IDS		1024
/* Decryption keys tried for one envelope. */
#define KEYOPS_MAX_DECRYPT_KEYS	16

/*
 * The digest a CA key signs with: SHA-256 for RSA (PKCS#1 v1.5) and P-256,
 * SHA-384 for P-384.  NULL for any other key: it cannot be a CA key here.
 * RSA must be 2048..8192 bits.
 */
const EVP_MD	*ca_sign_md(EVP_PKEY *key);

/*
 * Is "key" acceptable as a subject key?  RSA 2048..8192 (1024..8192 when
 * "legacy"), or EC on P-256 / P-384.  Returns SCEP_OK or SCEP_E_BADKEY.
 * *is_rsa (may be NULL) tells which kind it is.
 */
int	ca_subject_key_check(EVP_PKEY *key, int legacy, int *is_rsa);

/* Set notBefore/notAfter from Unix seconds (UTCTime before 2050, else
 * GeneralizedTime, RFC 5280 4.1.2.5). */
int	ca_set_validity(X509 *x, time_t not_before, time_t not_after);
/* Set the serial from big-endian bytes (positive, 1..20 bytes). */
int	ca_set_serial(X509 *x, const uint8_t *serial, size_t len);

/* Extensions, each added once (RFC 5280 4.2: no duplicates).  All return
 * SCEP_OK or SCEP_E_NOMEM/SCEP_E_INTERNAL. */
int	ca_ext_basic_constraints(X509 *x, int ca);	/* critical */
int	ca_ext_key_usage(X509 *x, unsigned int ku);	/* critical, CA_KU_* */
int	ca_ext_eku(X509 *x, const int *nids, size_t n);	/* non-critical */
int	ca_ext_ski(X509 *x);		/* SHA-1 of the subject key, 4.2.1.2 (1) */
int	ca_ext_aki(X509 *x, X509 *issuer);	/* issuer NULL: self-signed */
int	ca_ext_crldp(X509 *x, const char *url);	/* one fullName URI */

/* The key id of "cert" (its SKI, or the SHA-1 of its key if it has none)
 * as a new octet string (take). */
ASN1_OCTET_STRING *ca_key_id(X509 *cert);

/* Sign *xp with "key" and the digest of ca_sign_md(), then replace *xp
 * by a fresh copy decoded from the signed DER (see ca_x509.c for why).
 * SCEP_E_BADKEY when the key cannot be a CA key. */
int	ca_x509_sign(X509 **xp, EVP_PKEY *key);
/* The same signature, but only the DER of the result (*der take,
 * OPENSSL_free): for the key process, whose caller decodes it anyway, so
 * the copy decoded here would be wasted work (~0.1 ms in OpenSSL 3.0). */
int	ca_x509_sign_der(X509 *x, EVP_PKEY *key, uint8_t **der,
	    size_t *der_len);

/*
 * Build and sign a certificate from a template (keyops.h struct issue_tmpl)
 * with ca_key/ca_cert (borrowed) and the serial number "serial" (borrowed:
 * big-endian, 16..20 bytes, first byte 0x01..0x7f -- positive and
 * minimally encoded, so the certificate carries exactly serial_len bytes;
 * SCEP_E_DENIED otherwise).  All the checks of keyops_issue() are here;
 * keyops_issue() draws the serial.  *out is take.
 */
int	ca_issue_build(EVP_PKEY *ca_key, X509 *ca_cert,
	    const struct issue_tmpl *t, const uint8_t *serial,
	    size_t serial_len, X509 **out);
/* The same, returning only the certificate's DER (take, OPENSSL_free). */
int	ca_issue_build_der(EVP_PKEY *ca_key, X509 *ca_cert,
	    const struct issue_tmpl *t, const uint8_t *serial,
	    size_t serial_len, uint8_t **der, size_t *der_len);
/*
 * Both: the signed object as built (*out, take; not re-decoded, so only
 * for encoding it again, e.g. into a certs-only bag: see ca_x509_sign)
 * and its DER (*der, take).  keyops_issue_reply() uses it.
 */
int	ca_issue_build_signed(EVP_PKEY *ca_key, X509 *ca_cert,
	    const struct issue_tmpl *t, const uint8_t *serial,
	    size_t serial_len, X509 **out, uint8_t **der, size_t *der_len);

/* Build and sign a CRL (keyops_sign_crl() contract).  *out is take. */
int	ca_crl_build(EVP_PKEY *ca_key, X509 *ca_cert,
	    const struct crl_entry *entries, size_t n, int64_t crl_number,
	    time_t this_update, time_t next_update, X509_CRL **out);

/*
 * Look up a loaded identity and take references (EVP_PKEY_up_ref,
 * X509_up_ref) under the read lock, so the caller can use them without the
 * lock while another thread reloads the same id.  The caller frees *key
 * and *cert.  ra != 0 looks in the RA table.  *ca_id (may be NULL) is the
 * issuing CA of an RA.  SCEP_E_NOTFOUND when the id is not loaded.
 */
int	keyops_ref(struct keyops *ko, int ra, int64_t id, EVP_PKEY **key,
	    X509 **cert, int64_t *ca_id);

/*
 * When "ko" was made by keyops_new_vt() (keyops_impl.h), set *vt and *impl
 * and return 1: the public functions then forward to the table.  0 for
 * the in-process table.
 */
struct keyops_vt;
int	keyops_remote(struct keyops *ko, const struct keyops_vt **vt,
	    void **impl);

#endif /* !CA_INT_H */
