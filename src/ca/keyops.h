/*
 * keyops.h -- the one narrow interface to CA and RA private keys.
 *
 * Everything that needs a private key goes through these whole operations
 * (decrypt an envelope, issue a certificate from a checked template, sign a
 * reply, sign a CRL).  No caller ever sees an EVP_PKEY of a CA or RA, so the
 * implementation can move into an isolated key process (issue 8) without
 * touching callers.
 *
 * Keys are identified by the store ids of their CA (struct store_ca) or RA
 * (struct store_ra) rows.  Keys are loaded once (keyops_load_*), never per
 * request.  All functions are thread-safe.
 *
 * Two implementations, chosen when the table is made:
 *  - keyops_new(): in this process (src/ca/keyops.c); for `scepd init`,
 *    unit tests and `key_isolation = off`;
 *  - keyops_new_isolated(): in a pool of sandboxed key processes
 *    (src/keyproc/, issue 8, SECURITY.md): the private keys never enter
 *    the calling process, every operation travels over a socketpair.
 * Both behave the same for every function below, except where noted.
 */
#ifndef KEYOPS_H
#define KEYOPS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "scep.h"

struct keyops;

int	keyops_new(struct keyops **out);
void	keyops_free(struct keyops *);	/* accepts NULL */

/*
 * The isolated implementation (src/keyproc/kp_client.c).  Starts a key
 * process master and "nworkers" key workers (0: one per online CPU, at
 * most KP_MAX_WORKERS) that may open key files only directly below
 * DATA_DIR/keys/ and sandbox themselves (Landlock, seccomp, no core
 * dumps).  Key files given to keyops_load_*() must lie in that directory
 * (SCEP_E_CONFIG otherwise).  Dead workers are restarted on demand.
 *
 * Call it while the process is still single-threaded (it forks without
 * exec; SCEP_E_INTERNAL otherwise) and before dropping privileges: the
 * key processes keep the credentials they were started with, minus every
 * capability.  SCEP_E_CONFIG when DATA_DIR/keys cannot be opened.
 */
int	keyops_new_isolated(const char *data_dir, unsigned int nworkers,
	    struct keyops **out);

/*
 * Load a CA or RA identity: PEM key file (must be mode 0600, not group or
 * world readable: SCEP_E_CONFIG) and its DER certificate (at most
 * CA_MAX_CERT_DER bytes, no trailing bytes).  Replaces an earlier load of
 * the same id; certificates returned earlier by keyops_ca_cert() and
 * keyops_ra_cert() stay valid until keyops_free().
 * A CA must pass ca_import_check() (CA:TRUE, keyCertSign, key matches).
 * An RA must match its key, must not be a CA, and must be issued by the
 * CA "ca_id", which must already be loaded (SCEP_E_NOTFOUND otherwise).
 */
int	keyops_load_ca(struct keyops *, int64_t ca_id, const char *key_path,
	    const uint8_t *cert_der, size_t cert_len);
int	keyops_load_ra(struct keyops *, int64_t ra_id, int64_t ca_id,
	    const char *key_path, const uint8_t *cert_der, size_t cert_len);

/* Borrowed certificate of a loaded identity (NULL if not loaded). */
X509	*keyops_ca_cert(struct keyops *, int64_t ca_id);
X509	*keyops_ra_cert(struct keyops *, int64_t ra_id);

/*
 * Decrypt a pkcsPKIEnvelope with the RA identities "ra_ids" (and the CA key
 * of "ca_id" when ca_id != 0: CA-direct, or a client that encrypted to the
 * CA).  See scep_env_decrypt() for the rest.  Every id named must be
 * loaded (SCEP_E_NOTFOUND); at most 16 keys in all (SCEP_E_TOOBIG).
 */
int	keyops_decrypt(struct keyops *, const int64_t *ra_ids, size_t nra,
	    int64_t ca_id, const uint8_t *env, size_t env_len,
	    unsigned int algs, uint8_t **out, size_t *out_len, int *cipher_nid);

/* Kinds of certificate a template may ask for. */
enum issue_kind { ISSUE_CLIENT = 1, ISSUE_DEVICE = 2 };

/*
 * A certificate to issue.  keyops re-checks it against hard limits (key
 * type and size, validity at most ISSUE_MAX_DAYS, never CA:TRUE, only the
 * EKUs of "kind"), chooses the serial number itself and builds the
 * certificate itself: the caller can neither hand it arbitrary extensions
 * nor pick (and so collide or predict) a serial.
 */
#define ISSUE_MAX_DAYS	(5 * 366)
/* Serial numbers keyops draws: 128 random bits, positive and minimal
 * (first byte 0x01..0x7f), so the DER INTEGER is exactly this long. */
#define ISSUE_SERIAL_LEN	16
struct issue_tmpl {
	int		 kind;		/* enum issue_kind */
	int		 server_auth;	/* device: also serverAuth */
	X509_NAME	*subject;	/* borrowed */
	GENERAL_NAMES	*sans;		/* borrowed, may be NULL */
	EVP_PKEY	*pubkey;	/* borrowed: the subject key */
	X509_PUBKEY	*spki;		/* borrowed, may be NULL: the same key
					 * as the CSR carried it; lets the
					 * isolated keyops send it without
					 * re-encoding (OpenSSL 3.0's
					 * i2d_PUBKEY costs ~0.1 ms).  Must
					 * be "pubkey" (isolated: checked,
					 * SCEP_E_INTERNAL) */
	time_t		 not_before;
	time_t		 not_after;
	const char	*crl_url;	/* borrowed, may be NULL */
	int		 legacy;	/* endpoint legacy switch: RSA 1024
					 * subject keys accepted */
};

/*
 * Issue with the CA key of "ca_id" (sha256WithRSA / ecdsa-with-SHA256, or
 * ecdsa-with-SHA384 for a P-384 CA).  *out (take) is the new certificate.
 * Its serial number is drawn here (ISSUE_SERIAL_LEN random bytes) and
 * copied to "serial" (ISSUE_SERIAL_LEN bytes, big-endian; may be NULL: it
 * is in the certificate too).  Each call draws a new one, so a caller
 * whose store reports a taken serial just calls again.
 *
 * Hard limits re-checked here, whatever the caller decided:
 *  - kind is ISSUE_CLIENT or ISSUE_DEVICE; server_auth only for a device;
 *  - subject key RSA 2048..8192 (1024.. with "legacy") or EC P-256/P-384
 *    (SCEP_E_BADKEY otherwise: DSA, Ed25519, other curves ...);
 *  - 0 <= not_before < not_after, at most ISSUE_MAX_DAYS apart;
 *    not_after is cut to the CA's notAfter (a certificate never outlives
 *    its issuer), so read the validity back from the certificate;
 *  - at most SCEP_MAX_RDNS subject RDNs and SCEP_MAX_SANS SANs; an empty
 *    subject needs a SAN (which is then critical, RFC 5280 4.2.1.6);
 *  - SANs: only dNSName, iPAddress, rfc822Name, URI and the Microsoft UPN
 *    otherName are copied, other types are dropped; a copied value that is
 *    not printable ASCII (UPN: UTF-8 without controls) or is longer than
 *    1024 bytes is refused (SCEP_E_MALFORMED);
 *  - crl_url: http://, https:// or ldap://, printable ASCII, <= 2048.
 * Violations of these limits give SCEP_E_DENIED unless stated otherwise.
 * Extensions are built here, never copied from a CSR: basicConstraints
 * critical CA:FALSE; keyUsage critical digitalSignature + keyEncipherment
 * (RSA) or digitalSignature + keyAgreement (EC); extendedKeyUsage clientAuth
 * + emailProtection (client) or clientAuth (+ serverAuth) (device); SKI;
 * AKI (key id of the CA); subjectAltName; cRLDistributionPoints.
 * SCEP_E_NOTFOUND when ca_id is not loaded.
 */
int	keyops_issue(struct keyops *, int64_t ca_id, const struct issue_tmpl *,
	    X509 **out, uint8_t *serial);

/*
 * Certify a new RA key (spec 15) with the CA key of "ca_id": the
 * certificate of ca_make_ra() (ca_gen.h: end entity, CA:FALSE, the key
 * usages of "usage" CA_RA_*, validity 1..CA_MAX_RA_DAYS days from "now",
 * cut to the CA's) for "ra_pub" (borrowed; only its public half is used),
 * subject "subject_dn".  *out is take.  SCEP_E_NOTFOUND when ca_id is not
 * loaded.  RA creation and rollover use this, so the CA key never has to
 * be read outside keyops (issue 8).
 */
int	keyops_make_ra(struct keyops *, int64_t ca_id, EVP_PKEY *ra_pub,
	    const char *subject_dn, int usage, int days, time_t now,
	    X509 **out);

/* Sign a CertRep with RA "ra_id", or with the CA key when ra_id == 0.
 * When both are given the RA must belong to that CA (SCEP_E_CONFIG). */
int	keyops_sign_certrep(struct keyops *, int64_t ra_id, int64_t ca_id,
	    const struct scep_reply *, STACK_OF(X509) *extra, uint8_t **out,
	    size_t *out_len);

/*
 * What keyops_issue_reply() hands back: the new certificate as DER only
 * (the caller stores it; nothing on the enrollment path needs it as an
 * X509), the fields the store needs from it, and the signed CertRep.
 */
struct issued_reply {
	uint8_t		*cert;		/* take (OPENSSL_free): DER */
	size_t		 cert_len;
	uint8_t		 serial[ISSUE_SERIAL_LEN];	/* as in the cert */
	time_t		 not_before;	/* as in the certificate */
	time_t		 not_after;	/* ditto: may be cut to the CA's */
	uint8_t		*reply;		/* take (OPENSSL_free): CertRep DER */
	size_t		 reply_len;
};

/* Free and zero; accepts NULL and a zeroed struct. */
void	issued_reply_clear(struct issued_reply *);

/*
 * keyops_issue() and the keyops_sign_certrep() of its SUCCESS in one
 * operation, so an enrollment costs one key-process round trip and no
 * certificate is decoded again on either side (issue 7).  Issues from
 * "t" with the CA "ca_id" (same checks and serial as keyops_issue), puts
 * the new certificate -- and the CA certificate when "chain" -- into a
 * degenerate certs-only bag in that order (spec 9.2), encrypts it to
 * rep->recipient and signs the CertRep with RA "ra_id" (0: the CA; an RA
 * of another CA is SCEP_E_CONFIG).  "rep" must be a SUCCESS without a
 * payload (SCEP_E_INTERNAL otherwise): everything but the payload is
 * taken from it.  On SCEP_OK *out is filled (take: issued_reply_clear),
 * else zeroed.  The reply must not leave before the certificate is
 * durably recorded: a caller whose store refuses it discards the reply.
 */
int	keyops_issue_reply(struct keyops *, int64_t ca_id, int64_t ra_id,
	    const struct issue_tmpl *t, int chain, const struct scep_reply *rep,
	    struct issued_reply *out);

/* Sign the GetNextCACert reply with the current RA (or CA) identity. */
int	keyops_sign_nextca(struct keyops *, int64_t ra_id, int64_t ca_id,
	    STACK_OF(X509) *next, time_t now, uint8_t **out, size_t *out_len);

/* One revoked certificate for a CRL. */
struct crl_entry {
	const char	*serial_hex;	/* borrowed */
	time_t		 revoked_at;
	int		 reason;	/* CRLReason, -1 = none */
};

/*
 * Build and sign a CRL (v2, crlNumber, AKI, RFC 5280 5) for "ca_id".  *out
 * is take.  Entries are sorted by serial; serial_hex is 1..40 hex digits of
 * a positive non-zero number; a duplicate serial is SCEP_E_MALFORMED.
 * reason is a CRLReason (RFC 5280 5.3.1): 1..6, 9, 10 add a reasonCode
 * extension; 0 (unspecified) and -1 add none (RFC 5280: "SHOULD be absent
 * instead of using the unspecified (0) reasonCode value"); 7 (unused), 8
 * (removeFromCRL: delta CRLs only) and others are SCEP_E_MALFORMED.
 * this_update < next_update, crl_number >= 0 (SCEP_E_MALFORMED), at most
 * 1000000 entries (SCEP_E_TOOBIG).
 */
int	keyops_sign_crl(struct keyops *, int64_t ca_id,
	    const struct crl_entry *entries, size_t n, int64_t crl_number,
	    time_t this_update, time_t next_update, X509_CRL **out);

#endif /* !KEYOPS_H */
