/*
 * ca_gen.h -- generating and checking CA and RA identities.
 *
 * Used by `scepd init` (a new root CA and its RA), by RA management
 * (a new RA certificate under a loaded CA) and by `--import-ca` (check an
 * existing CA certificate and key before they are stored).  keyops.c uses
 * ca_key_read(), ca_cert_check_pair() and ca_import_check() to load
 * identities, so the same rules apply at import time and at every start.
 *
 * No clock is read here: "now" is always passed in (STYLE H1).  Every
 * function returns SCEP_OK or a negative enum scep_err (scep_err.h) and
 * sets its out-parameter only on success.  Ownership words as in STYLE H4:
 * "take" hands a new object to the caller, "borrowed" is only looked at.
 */
#ifndef CA_GEN_H
#define CA_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* A distinguished name given on the command line or in the config. */
#define CA_MAX_DN		1024
/* A PEM private-key file: an 8192-bit RSA key in PKCS#8 PEM is ~6.4 KiB. */
#define CA_MAX_KEY_FILE		(64 * 1024)
/* A DER certificate handed to keyops (a CA or RA certificate). */
#define CA_MAX_CERT_DER		(64 * 1024)
/* Lifetime of a root made by ca_make_root() (30 years). */
#define CA_MAX_ROOT_DAYS	(30 * 366)
/* Lifetime of an RA certificate made by ca_make_ra() (10 years). */
#define CA_MAX_RA_DAYS		(10 * 366)
/* Serial numbers we draw: 128 random bits (CA/B BR 7.1 asks for >= 64). */
#define CA_SERIAL_LEN		16

/* RA usage values (struct store_ra.usage, spec 15). */
#define CA_RA_SIGN_ENCRYPT	1	/* combined RA */
#define CA_RA_SIGN		2	/* signing half of a split pair */
#define CA_RA_ENCRYPT		3	/* encryption half of a split pair */

/*
 * Generate a key.  "alg" is one of "rsa2048" "rsa3072" "rsa4096" "ec256"
 * "ec384" (EC keys use the named curves P-256 / P-384).  *out is take.
 * SCEP_E_CONFIG for an unknown name.
 */
int	ca_key_generate(const char *alg, EVP_PKEY **out);

/*
 * Write "key" (borrowed) as an unencrypted PEM PKCS#8 file at "path".  The
 * file is created with O_EXCL|O_NOFOLLOW and mode 0600 (fchmod'ed, so the
 * umask cannot widen or narrow it) and fsync'ed.  SCEP_E_EXISTS if "path"
 * exists; SCEP_E_IO on any other file error (a partial file is removed).
 */
int	ca_key_write(const char *path, EVP_PKEY *key);

/*
 * Read a PEM private key (PKCS#8, or a traditional PEM key as older OpenSSL
 * wrote them; never encrypted: there is no prompt).  Refuses a file that is
 * not a regular file, is larger than CA_MAX_KEY_FILE, or whose mode has any
 * group/other bit (mode & 077) with SCEP_E_CONFIG.  SCEP_E_IO when it cannot
 * be opened, SCEP_E_MALFORMED when it holds no key.  The file contents are
 * cleansed from memory after parsing.  *out is take.
 */
int	ca_key_read(const char *path, EVP_PKEY **out);
/* The same from an open descriptor (borrowed: not closed), for the key
 * process, which opens key files relative to a directory descriptor. */
int	ca_key_read_fd(int fd, EVP_PKEY **out);

/*
 * Parse a distinguished name, "/O=y/CN=x" (OpenSSL -subj form, RDNs in
 * encoding order) or "CN=x,O=y" (RFC 4514 form, most specific RDN first, so
 * it is reversed: these two examples give the same name).  Attribute
 * types are OpenSSL short/long names or dotted OIDs; values are UTF-8
 * (countryName must be 2 characters).  A backslash
 * escapes the next character, or two hex digits give one byte (RFC 4514
 * 2.4).  Spaces around types and values are trimmed in the comma form.
 * Multi-valued RDNs ("+") are not supported: an unescaped '+' is refused.
 * SCEP_E_CONFIG for bad syntax, unknown types or an empty name,
 * SCEP_E_TOOBIG over CA_MAX_DN characters or SCEP_MAX_RDNS RDNs.  *out is
 * take.
 */
int	ca_dn_parse(const char *dn, X509_NAME **out);

/*
 * Make a self-signed root: v3, random serial (ca_serial_random), subject =
 * issuer = "subject_dn", validity [now, now + days), basicConstraints
 * critical CA:TRUE, keyUsage critical keyCertSign + cRLSign +
 * digitalSignature (+ keyEncipherment for an RSA key, so the root can act
 * as CA-direct SCEP responder: spec 4.3 rule 3 and 15), subjectKeyIdentifier
 * and authorityKeyIdentifier (the same key id).  Signed with SHA-256
 * (RSA PKCS#1 v1.5 or ECDSA), SHA-384 for a P-384 key.  "key" is borrowed;
 * it must be RSA 2048..8192 or EC P-256/P-384 (SCEP_E_BADKEY).  days is
 * 1..CA_MAX_ROOT_DAYS (SCEP_E_CONFIG).  *out is take.
 */
int	ca_make_root(EVP_PKEY *key, const char *subject_dn, int days, time_t now,
	    X509 **out);

/*
 * Make an RA certificate (spec 15) issued by ca_cert/ca_key (borrowed; the
 * pair must match and ca_cert must be a CA) for "ra_key" (borrowed):
 * end entity, basicConstraints critical CA:FALSE, keyUsage critical
 * digitalSignature + keyEncipherment (usage 1), digitalSignature (2) or
 * keyEncipherment (3), SKI, AKI = the CA's key id, no extendedKeyUsage
 * (clients do not check it, spec 15).  An RA that decrypts (usage 1 or 3)
 * needs an RSA key: SCEP key transport is RSA (SCEP_E_BADKEY otherwise).
 * Validity [now, now + days), cut to the CA's notAfter so the RA never
 * outlives its issuer; SCEP_E_CONFIG if the CA has already expired or days
 * is outside 1..CA_MAX_RA_DAYS.  *out is take.
 */
int	ca_make_ra(EVP_PKEY *ca_key, X509 *ca_cert, EVP_PKEY *ra_key,
	    const char *subject_dn, int usage, int days, time_t now, X509 **out);

/*
 * Draw a serial number: CA_SERIAL_LEN bytes from RAND_bytes, big-endian,
 * top bit clear (positive) and first byte non-zero, so the DER INTEGER is
 * exactly CA_SERIAL_LEN bytes with no padding byte.  SCEP_E_INTERNAL if the
 * RNG fails.
 */
int	ca_serial_random(uint8_t out[CA_SERIAL_LEN]);

/*
 * Check that "key" (borrowed) is the private key of "cert" (borrowed): the
 * public keys are equal and a test signature made with "key" verifies with
 * the certificate's key (so a public-only key does not pass).
 * SCEP_E_BADKEY when they do not match.
 */
int	ca_cert_check_pair(X509 *cert, EVP_PKEY *key);

/*
 * Check an imported (or loaded) CA identity: a v3 certificate with
 * basicConstraints CA:TRUE and keyUsage keyCertSign (SCEP_E_CONFIG
 * otherwise), a key we can sign with (RSA 2048..8192, EC P-256/P-384;
 * SCEP_E_BADKEY), and the key matches (ca_cert_check_pair).  Both borrowed.
 */
int	ca_import_check(X509 *cert, EVP_PKEY *key);

/* Convert an ASN1_TIME (borrowed) to Unix seconds.  SCEP_E_MALFORMED. */
int	ca_asn1_time_get(const ASN1_TIME *t, time_t *out);

#endif /* !CA_GEN_H */
