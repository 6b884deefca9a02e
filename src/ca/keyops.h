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

/* Load a CA or RA identity: PEM key file (must be mode 0600, not group or
 * world readable) and its DER certificate.  Replaces an earlier load of the
 * same id. */
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
 * CA).  See scep_env_decrypt() for the rest.
 */
int	keyops_decrypt(struct keyops *, const int64_t *ra_ids, size_t nra,
	    int64_t ca_id, const uint8_t *env, size_t env_len,
	    unsigned int algs, uint8_t **out, size_t *out_len, int *cipher_nid);

/* Kinds of certificate a template may ask for. */
enum issue_kind { ISSUE_CLIENT = 1, ISSUE_DEVICE = 2 };

/*
 * A certificate to issue.  keyops re-checks it against hard limits (key
 * type and size, validity at most ISSUE_MAX_DAYS, never CA:TRUE, only the
 * EKUs of "kind") and builds the certificate itself: the caller cannot hand
 * it arbitrary extensions.
 */
#define ISSUE_MAX_DAYS	(5 * 366)
struct issue_tmpl {
	int		 kind;		/* enum issue_kind */
	int		 server_auth;	/* device: also serverAuth */
	X509_NAME	*subject;	/* borrowed */
	GENERAL_NAMES	*sans;		/* borrowed, may be NULL */
	EVP_PKEY	*pubkey;	/* borrowed: the subject key */
	time_t		 not_before;
	time_t		 not_after;
	const char	*crl_url;	/* borrowed, may be NULL */
	const uint8_t	*serial;	/* borrowed: big-endian, positive */
	size_t		 serial_len;	/* 16..20 */
};

/* Issue with the CA key of "ca_id" (sha256WithRSA / ecdsa-with-SHA256).
 * *out (take) is the new certificate. */
int	keyops_issue(struct keyops *, int64_t ca_id, const struct issue_tmpl *,
	    X509 **out);

/* Sign a CertRep with RA "ra_id", or with the CA key when ra_id == 0. */
int	keyops_sign_certrep(struct keyops *, int64_t ra_id, int64_t ca_id,
	    const struct scep_reply *, STACK_OF(X509) *extra, uint8_t **out,
	    size_t *out_len);

/* Sign the GetNextCACert reply with the current RA (or CA) identity. */
int	keyops_sign_nextca(struct keyops *, int64_t ra_id, int64_t ca_id,
	    STACK_OF(X509) *next, time_t now, uint8_t **out, size_t *out_len);

/* One revoked certificate for a CRL. */
struct crl_entry {
	const char	*serial_hex;	/* borrowed */
	time_t		 revoked_at;
	int		 reason;	/* CRLReason, -1 = none */
};

/* Build and sign a CRL (v2, crlNumber, AKI) for "ca_id".  *out is take. */
int	keyops_sign_crl(struct keyops *, int64_t ca_id,
	    const struct crl_entry *entries, size_t n, int64_t crl_number,
	    time_t this_update, time_t next_update, X509_CRL **out);

#endif /* !KEYOPS_H */
