/*
 * scep.h -- the SCEP protocol core (RFC 8894): typed messages from bytes,
 * and bytes from typed messages.
 *
 * Pure functions over bytes: no sockets, files, database, clock, logging or
 * global state.  Time and randomness are passed in by the caller.  Private
 * keys come in as EVP_PKEY handles and are only used, never stored.
 *
 * Ownership words used below (STYLE H4): "owned" (freed by the object's
 * _free), "borrowed" (valid as long as the owner is), "take" (the function
 * hands ownership to the caller).
 *
 * Every function returns SCEP_OK (0) or a negative enum scep_err
 * (scep_err.h); nothing here prints, exits or aborts on bad input.
 *
 * Every "take" byte buffer (uint8_t **out) is allocated with
 * OPENSSL_malloc() and must be released with OPENSSL_free(): the core
 * allocates only through libcrypto so that one allocator hook covers it
 * (STYLE H14).  On error *out is NULL and *out_len is 0.
 *
 * libcrypto errors are left on the thread's error queue for the caller to
 * log and drain (STYLE H2).  The core does not depend on the queue being
 * empty; note that libcrypto's own envelope decryption (MMA counter-
 * measures, scep_env.c) may clear it.
 */
#ifndef SCEP_H
#define SCEP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "scep_err.h"
#include "scep_limits.h"

/* RFC 8894 3.2.1.2 */
enum scep_msgtype {
	SCEP_MSG_CERTREP	= 3,
	SCEP_MSG_RENEWALREQ	= 17,
	SCEP_MSG_PKCSREQ	= 19,
	SCEP_MSG_CERTPOLL	= 20,
	SCEP_MSG_GETCERT	= 21,
	SCEP_MSG_GETCRL		= 22,
};

/* RFC 8894 3.2.1.3 */
enum scep_status {
	SCEP_STATUS_SUCCESS	= 0,
	SCEP_STATUS_FAILURE	= 2,
	SCEP_STATUS_PENDING	= 3,
};

/* RFC 8894 3.2.1.4 (scep_failinfo is declared in scep_err.h). */

/* Algorithms this build can be asked to accept (bit set).  The legacy
 * ones are only accepted when the caller sets them. */
#define SCEP_ALG_SHA1		0x0001u
#define SCEP_ALG_SHA224		0x0002u
#define SCEP_ALG_SHA256		0x0004u
#define SCEP_ALG_SHA384		0x0008u
#define SCEP_ALG_SHA512		0x0010u
#define SCEP_ALG_MD5		0x0020u	/* legacy */
#define SCEP_ALG_DES3		0x0100u
#define SCEP_ALG_AES		0x0200u	/* AES-128/192/256-CBC */
#define SCEP_ALG_DES		0x0400u	/* legacy single DES */
#define SCEP_ALG_DEFAULT	(SCEP_ALG_SHA1 | SCEP_ALG_SHA224 | \
				 SCEP_ALG_SHA256 | SCEP_ALG_SHA384 | \
				 SCEP_ALG_SHA512 | SCEP_ALG_DES3 | SCEP_ALG_AES)
#define SCEP_ALG_LEGACY		(SCEP_ALG_MD5 | SCEP_ALG_DES)

/*
 * A decoded pkiMessage: the signed layer (RFC 8894 3.2).  Used for requests
 * (server side) and for CertReps (client side).
 */
struct scep_msg {
	int		 type;		/* messageType as sent (may be unknown) */
	char		 transid[SCEP_MAX_TRANSID + 1];	/* NUL-terminated */
	size_t		 transid_len;
	uint8_t		 sender_nonce[SCEP_MAX_NONCE];
	size_t		 sender_nonce_len;
	uint8_t		 recipient_nonce[SCEP_MAX_NONCE];	/* CertRep */
	size_t		 recipient_nonce_len;
	int		 status;	/* CertRep pkiStatus, else -1 */
	int		 failinfo;	/* CertRep failInfo, else -1 */
	char		 failtext[SCEP_MAX_FAILTEXT + 1];	/* CertRep */
	int		 md_nid;	/* digest of the SignerInfo */
	int		 has_signing_time;
	time_t		 signing_time;
	X509		*signer;	/* owned: the certificate that signed */
	STACK_OF(X509)	*certs;		/* owned: all certs in the message */
	uint8_t		*content;	/* owned: eContent (the EnvelopedData DER),
					 * NULL when absent */
	size_t		 content_len;
};

/*
 * Decode the signed layer of a pkiMessage of "len" bytes (DER or BER) and
 * verify its signature with the signer certificate it carries (no chain
 * building: a self-signed signer is normal, spec 8 step 3).  "algs" is the
 * set of digests accepted (SCEP_ALG_*).
 *
 * Returns SCEP_OK with *out set.  On failure *out is NULL, except for
 * SCEP_E_BADSIG, SCEP_E_BADALG and SCEP_E_BADATTR where the message was
 * attributable (transactionID and senderNonce were read and a signer
 * certificate found): then *out is set so the caller can still sign a
 * FAILURE reply (spec 2.5, 8 step 4).  The caller frees *out either way.
 */
int	scep_msg_decode(const uint8_t *der, size_t len, unsigned int algs,
	    struct scep_msg **out);
void	scep_msg_free(struct scep_msg *);	/* accepts NULL */

/* A decryption identity: a key and the certificate it belongs to. */
struct scep_keypair {
	EVP_PKEY	*key;		/* borrowed */
	X509		*cert;		/* borrowed */
};

/*
 * Open the pkcsPKIEnvelope (RFC 8894 3.2.2): try the recipient infos
 * against each of "keys" (RSA PKCS#1 v1.5 and OAEP key transport).
 * "algs" limits the content ciphers (SCEP_ALG_AES, _DES3, _DES).  On
 * success *out (take) holds the inner DER and *cipher_nid the content
 * encryption algorithm used, for the reply.
 * Errors: SCEP_E_DECRYPT (not for us / bad padding), SCEP_E_BADALG,
 * SCEP_E_MALFORMED, SCEP_E_TOOBIG.
 */
int	scep_env_decrypt(const uint8_t *env, size_t env_len,
	    const struct scep_keypair *keys, size_t nkeys, unsigned int algs,
	    uint8_t **out, size_t *out_len, int *cipher_nid);

/*
 * Encrypt "data" as CMS EnvelopedData for "recipient" (issuerAndSerial rid,
 * RSA PKCS#1 v1.5 key transport) with cipher "cipher_nid".  *out is take.
 * Errors: SCEP_E_BADALG (cipher not one of spec 6.4, or not fetchable --
 * single DES needs the legacy provider loaded by the caller -- or the
 * recipient key is not RSA), SCEP_E_TOOBIG.
 */
int	scep_env_encrypt(const uint8_t *data, size_t len, X509 *recipient,
	    int cipher_nid, uint8_t **out, size_t *out_len);

/* Key transport variants for client-side envelopes (scep_env_encrypt_ex,
 * struct scep_request.flags): emulate Windows (OAEP) and SKI recipients. */
#define SCEP_ENV_OAEP		0x0001u	/* RSAES-OAEP, RFC 4055 defaults
					 * (SHA-1, MGF1-SHA-1) */
#define SCEP_ENV_OAEP_SHA256	0x0002u	/* RSAES-OAEP, SHA-256/MGF1-SHA-256 */
#define SCEP_ENV_RID_SKI	0x0004u	/* rid = subjectKeyIdentifier */
int	scep_env_encrypt_ex(const uint8_t *data, size_t len, X509 *recipient,
	    int cipher_nid, unsigned int flags, uint8_t **out, size_t *out_len);

/*
 * What a CertRep says.  For SUCCESS, "payload" is the DER to encrypt (a
 * degenerate certs-only SignedData from scep_certs_only()).
 */
struct scep_reply {
	int		 status;	/* enum scep_status */
	int		 failinfo;	/* enum scep_failinfo, FAILURE only */
	const char	*failtext;	/* borrowed, may be NULL; FAILURE only */
	const char	*transid;	/* borrowed, copied verbatim */
	size_t		 transid_len;
	const uint8_t	*recipient_nonce;	/* borrowed: request senderNonce */
	size_t		 recipient_nonce_len;
	uint8_t		 sender_nonce[SCEP_NONCE_LEN];	/* fresh, from caller */
	int		 md_nid;	/* digest to sign with */
	int		 cipher_nid;	/* content cipher for SUCCESS */
	X509		*recipient;	/* borrowed: request signer (SUCCESS) */
	const uint8_t	*payload;	/* borrowed, SUCCESS only */
	size_t		 payload_len;
	time_t		 now;		/* signingTime */
};

/*
 * Build and sign a CertRep (RFC 8894 3.3.2, spec 9) with "key"/"cert" (the
 * RA or CA-direct signing identity).  "extra" (borrowed, may be NULL) are
 * more certificates to include.  *out is take.
 */
int	scep_certrep_build(const struct scep_reply *, EVP_PKEY *key, X509 *cert,
	    STACK_OF(X509) *extra, uint8_t **out, size_t *out_len);

/*
 * Degenerate certs-only SignedData (RFC 8894 3.4, spec 4.2): certificates
 * in the order given (not DER-sorted) and optionally one CRL.  *out is take.
 */
int	scep_certs_only(STACK_OF(X509) *certs, X509_CRL *crl, uint8_t **out,
	    size_t *out_len);

/*
 * Client side: decode a degenerate certs-only SignedData (GetCACert RA
 * bag, the decrypted content of a CertRep SUCCESS).  *certs (take, may be
 * an empty stack) keeps the order of the message; *crls (take) may be NULL
 * when the caller does not want them.  Errors: SCEP_E_MALFORMED,
 * SCEP_E_TRAILING, SCEP_E_TOOBIG, SCEP_E_TRUNCATED.
 */
int	scep_certs_only_decode(const uint8_t *der, size_t len,
	    STACK_OF(X509) **certs, STACK_OF(X509_CRL) **crls);

/*
 * GetNextCACert reply (spec 5): SignedData signed by key/cert whose content
 * is a certs-only SignedData of "next".  *out is take.
 */
int	scep_nextca_build(STACK_OF(X509) *next, EVP_PKEY *key, X509 *cert,
	    int md_nid, time_t now, uint8_t **out, size_t *out_len);

/*
 * Client side: verify a GetNextCACert reply with the signer certificate it
 * carries (the caller then checks *signer is the CA it trusts) and return
 * the rollover certificates.  *next and *signer are take.
 * Errors: as scep_msg_decode, plus those of scep_certs_only_decode.
 */
int	scep_nextca_decode(const uint8_t *der, size_t len, unsigned int algs,
	    STACK_OF(X509) **next, X509 **signer);

/*
 * Decode the message= value of a GET PKIOperation, as received in the raw
 * query string (spec 2.4: percent escapes, line breaks, base64url, missing
 * padding).  *out is take.  Errors: SCEP_E_MALFORMED, SCEP_E_TOOBIG.
 */
int	scep_get_message_decode(const char *raw, size_t len, uint8_t **out,
	    size_t *out_len);

/* What an endpoint enforces, for GetCACaps (spec 3). */
struct scep_caps {
	unsigned int	 algs;		/* SCEP_ALG_* accepted */
	int		 renewal;	/* RenewalReq accepted */
	int		 next_ca;	/* a rollover certificate is staged */
};
/* Write the GetCACaps body into buf (NUL-terminated); returns its length
 * or a negative error when it does not fit. */
int	scep_caps_format(const struct scep_caps *, char *buf, size_t bufsz);

/*
 * A parsed PKCS#10 (RFC 8894 3.3.1, spec 12).  The signature (proof of
 * possession) has been verified when scep_csr_decode() returns SCEP_OK.
 */
struct scep_p10;	/* the PKCS#10 as parsed (scep_csr.c) */
struct scep_csr {
	struct scep_p10	*p10;		/* owned */
	X509_NAME	*subject;	/* borrowed from p10 */
	X509_PUBKEY	*spki;		/* owned: algorithm and key bits as
					 * sent, no cached key (OpenSSL's
					 * key decoder never ran): compare
					 * with scep_spki_eq */
	EVP_PKEY	*pubkey;	/* owned: the key of spki */
	char		*challenge;	/* owned, UTF-8, NULL if absent */
	size_t		 challenge_len;
	GENERAL_NAMES	*sans;		/* owned, NULL if none requested */
	int		 key_type;	/* EVP_PKEY_RSA or EVP_PKEY_EC */
	int		 key_bits;	/* RSA modulus bits / EC curve bits */
	int		 ec_nid;	/* curve, EC only */
};
/* Errors: SCEP_E_MALFORMED, SCEP_E_BADSIG (PoP failed), SCEP_E_BADKEY.
 * Parsed with ASN1 templates, the key imported without OpenSSL 3.0's
 * per-call decoder chain for RSA and EC P-256/P-384 (scep_spki.c). */
int	scep_csr_decode(const uint8_t *der, size_t len, struct scep_csr **out);
/*
 * Storage form of a CSR: a copy without its challengePassword attribute(s),
 * so that the challenge -- a secret kept only as an HMAC -- never reaches the
 * request table.  Removing the attribute breaks the CSR's signature, so a
 * stored CSR is read back with scep_csr_decode_stored(), which makes every
 * check of scep_csr_decode() except the proof of possession (verified when
 * the request arrived).  *out is OPENSSL_malloc'd.  scep_csr_stored makes
 * it from a decoded request (no second parse), scep_csr_redact from bytes.
 */
int	scep_csr_stored(const struct scep_csr *c, uint8_t **out,
	    size_t *outlen);
int	scep_csr_redact(const uint8_t *der, size_t len, uint8_t **out,
	    size_t *outlen);
int	scep_csr_decode_stored(const uint8_t *der, size_t len,
	    struct scep_csr **out);
/*
 * 1 when der is a PKCS#10 whose first challengePassword has exactly one
 * non-empty string value, 0 when it has none, -1 when it does not parse.
 * Nothing is verified and no key decoded (Intune's pre-check, before the
 * CSR goes to validateRequest).
 */
int	scep_csr_has_challenge(const uint8_t *der, size_t len);
void	scep_csr_free(struct scep_csr *);	/* accepts NULL */

/* IssuerAndSerialNumber (GetCert, GetCRL) and IssuerAndSubject (CertPoll),
 * RFC 8894 3.3.3 and 3.3.4. */
struct scep_ias {
	X509_NAME	*issuer;	/* owned */
	ASN1_INTEGER	*serial;	/* owned: GetCert/GetCRL */
	X509_NAME	*subject;	/* owned: CertPoll */
};
/* Errors: SCEP_E_MALFORMED, SCEP_E_TRAILING, SCEP_E_TOOBIG,
 * SCEP_E_BADMSGTYPE (msgtype carries neither structure). */
int	scep_ias_decode(const uint8_t *der, size_t len, int msgtype,
	    struct scep_ias **out);
void	scep_ias_free(struct scep_ias *);	/* accepts NULL */
/* Client side: the DER of one of those for msgtype (issuer and serial for
 * GetCert/GetCRL, issuer and subject for CertPoll); fields borrowed. */
int	scep_ias_encode(const struct scep_ias *, int msgtype, uint8_t **out,
	    size_t *out_len);

/*
 * Client side (tests, scepbench, scepctl probe).  Build a request
 * pkiMessage: "inner" (a PKCS#10, IssuerAndSerialNumber or IssuerAndSubject
 * DER) is enveloped for "ra" with cipher_nid, then signed by key/cert with
 * md_nid.  *out is take.
 */
struct scep_request {
	int		 type;		/* enum scep_msgtype */
	const char	*transid;	/* borrowed */
	uint8_t		 sender_nonce[SCEP_NONCE_LEN];
	int		 md_nid;
	int		 cipher_nid;
	X509		*ra;		/* borrowed: encryption recipient */
	const uint8_t	*inner;		/* borrowed */
	size_t		 inner_len;
	time_t		 now;
	unsigned int	 flags;		/* SCEP_ENV_* and SCEP_REQ_* below;
					 * 0 = what most clients send */
};
#define SCEP_REQ_SIGNER_SKI	0x0100u	/* sid = subjectKeyIdentifier */
#define SCEP_REQ_PSS		0x0200u	/* RSASSA-PSS signature (strongSwan) */
int	scep_request_build(const struct scep_request *, EVP_PKEY *key,
	    X509 *cert, uint8_t **out, size_t *out_len);

/*
 * Client side: a self-signed signer certificate for "key" (what clients
 * use for a first PKCSReq, spec 8 step 3): X.509 v3, subject and issuer
 * CN=cn, random 64-bit serial (RAND_bytes), valid from now - 1 h for
 * "days" days, SHA-256 signature, subjectKeyIdentifier, keyUsage
 * digitalSignature|keyEncipherment.  *out is take.
 */
int	scep_selfsigned_cert(EVP_PKEY *key, const char *cn, time_t now,
	    int days, X509 **out);

/*
 * SHA-256 over the DER SubjectPublicKeyInfo of "key": the stable key
 * identity the service keys transactions and renewals by.
 */
int	scep_key_fingerprint(EVP_PKEY *key, uint8_t out[32]);
/* The same from the SubjectPublicKeyInfo (cheaper: no key encoder). */
int	scep_spki_fingerprint(const X509_PUBKEY *spki, uint8_t out[32]);
/*
 * 1 when "spki" carries "key".  Works on an SPKI without a cached key (a
 * CSR's, see struct scep_csr) by importing its bits, without OpenSSL's
 * key decoder for RSA and EC P-256/P-384.
 */
int	scep_spki_eq(const X509_PUBKEY *spki, const EVP_PKEY *key);
/*
 * A DER SubjectPublicKeyInfo read without OpenSSL 3.0's key decoder (one
 * decoder chain, ~0.1 ms, per d2i_PUBKEY).  *key (when key is not NULL):
 * the key if RSA or EC P-256/P-384, else NULL -- the caller's general path
 * (d2i_PUBKEY), not "invalid".  *bits (when bits is not NULL): the SPKI as
 * algorithm + key bits, no cached key; NULL when its parameters are not
 * absent, NULL or an OID.  SCEP_OK, SCEP_E_MALFORMED or SCEP_E_TRAILING.
 */
int	scep_spki_der(const uint8_t *der, size_t len, EVP_PKEY **key,
	    X509_PUBKEY **bits);

/*
 * A certificate's issuer, serial number and RSA key -- all that
 * CMS_add1_recipient_cert() reads of an envelope recipient -- without
 * OpenSSL 3.0's key decoder: *out is a new X509 holding only those (not a
 * certificate to verify or re-encode).  SCEP_E_UNSUPPORTED (no error
 * queued) when the DER is not a certificate with an RSA key as the
 * templates read it: the caller's general path (d2i_X509) decides.
 */
int	scep_cert_recipient(const uint8_t *der, size_t len, X509 **out);

#endif /* !SCEP_H */
