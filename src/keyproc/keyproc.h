/*
 * keyproc.h -- the isolated key processes (issue 8, STYLE H8, SECURITY.md).
 *
 * Process shape (all started by keyops_new_isolated(), kp_client.c):
 *
 *   scepd (HTTP, store, rules; no private key)
 *     |-- control socketpair --> key master (fork of scepd before it
 *     |                          reads any secret; sandboxed; only forks
 *     |                          workers and hands their sockets back)
 *     |-- socketpair --> key worker 1 \  forks of the master: load CA/RA
 *     |-- socketpair --> key worker 2  > keys from DATA_DIR/keys/, answer
 *     `-- ...                         /  one request at a time
 *
 * The wire format is the same in both directions: a fixed 8-byte header
 * {op, len} (big-endian u32 each) and then exactly "len" bytes of body.
 * Each op has its own maximum body length for requests (kp_req_max) and
 * replies (kp_rep_max); a header with an unknown op or a length over the
 * maximum means the peer is broken or hostile, and the connection is
 * dropped without reading further (STYLE H8: "a peer that lies about
 * sizes is compromised").  Bodies are sequences of big-endian integers
 * and length-prefixed blobs in a fixed order per op, decoded with a
 * cursor that refuses to read past the end and demands that every byte
 * is consumed.  Certificates, names, SANs and keys travel as DER and are
 * decoded with libcrypto's d2i_* and an exact-length check (STYLE H6);
 * on the enrollment path with ASN1 templates and d2i_PublicKey instead of
 * d2i_X509/d2i_PUBKEY where OpenSSL 3.0 would build a decoder chain per
 * call (the subject key, the CertRep recipient: kp_wire.c).
 *
 * A reply body starts with a big-endian i32 status: SCEP_OK, then the
 * op's fields; or a negative enum scep_err and nothing else.
 */
#ifndef KEYPROC_H
#define KEYPROC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "keyops.h"
#include "scep.h"
#include "scep_limits.h"

/* Operations: exactly the functions of keyops.h that need a key. */
enum kp_op {
	KP_LOAD_CA = 1,		/* keyops_load_ca */
	KP_LOAD_RA,		/* keyops_load_ra */
	KP_DECRYPT,		/* keyops_decrypt */
	KP_ISSUE,		/* keyops_issue: the worker draws the serial */
	KP_SIGN_CERTREP,	/* keyops_sign_certrep */
	KP_SIGN_NEXTCA,		/* keyops_sign_nextca */
	KP_SIGN_CRL,		/* keyops_sign_crl */
	KP_MAKE_RA,		/* keyops_make_ra */
	KP_ISSUE_REPLY,		/* keyops_issue_reply: ISSUE + CertRep */
	KP_OP__MAX
};

/* The master's one operation: start a worker, return its socket. */
#define KP_CTL_SPAWN		0x53504e57u	/* "SPNW" */

/* The fixed header. */
#define KP_HDR_LEN		8

/*
 * Limits of single fields (see also scep_limits.h and ca_gen.h):
 *  - a key file name below keys/: one path component, what init and RA
 *    rollover write ("ca-1.key", "ra-<time>-<rnd>.key");
 *  - a DER Name and DER GeneralNames: the issuance limits are 32 RDNs and
 *    64 SANs of at most 1024 bytes each (ca_issue.c); these byte bounds
 *    are above anything those can produce, so a legitimate template
 *    always fits and a hostile one is cut off before d2i;
 *  - a DER SubjectPublicKeyInfo: RSA-8192 is 1062 bytes;
 *  - an issued certificate: 64 SANs of 1 KiB each must fit;
 *  - a CertRep recipient: the client's own signer certificate, which came
 *    in a pkiMessage of at most SCEP_MAX_MSG_DER;
 *  - a CertRep payload: the degenerate bag of the issued certificate and
 *    its CA;
 *  - a signed reply: payload + recipient info + signer and extra
 *    certificates + envelope overhead.
 */
#define KP_MAX_NAME		255
#define KP_MAX_DN_DER		(16 * 1024)
#define KP_MAX_SANS_DER		(128 * 1024)
#define KP_MAX_SPKI_DER		(4 * 1024)
#define KP_MAX_URL		2048
#define KP_MAX_DN		1024		/* = CA_MAX_DN */
#define KP_MAX_CERT_DER		(64 * 1024)	/* = CA_MAX_CERT_DER */
#define KP_MAX_DECRYPT_IDS	16		/* = KEYOPS_MAX_DECRYPT_KEYS */
#define KP_MAX_EXTRA		SCEP_MAX_CERTS	/* extra certs of a CertRep */
#define KP_MAX_NEXT		SCEP_MAX_CERTS	/* certs of GetNextCACert */
#define KP_MAX_ISSUED_DER	(256 * 1024)	/* 64 SANs of 1 KiB fit */
#define KP_MAX_RECIPIENT_DER	SCEP_MAX_MSG_DER	/* the client's signer */
#define KP_MAX_PAYLOAD		(KP_MAX_ISSUED_DER + KP_MAX_CERT_DER + 4096)
#define KP_MAX_SIGNED		(KP_MAX_PAYLOAD + KP_MAX_RECIPIENT_DER + \
				 (KP_MAX_EXTRA + 1) * KP_MAX_CERT_DER + \
				 64 * 1024)
#define KP_MAX_CRL_ENTRIES	1000000		/* = CA_MAX_CRL_ENTRIES */
#define KP_MAX_SERIAL_HEX	40		/* = CA_MAX_SERIAL_HEX */
/* Largest CRL: 1000000 entries of at most ~60 bytes of DER each. */
#define KP_MAX_CRL_DER		(64 * 1024 * 1024)

/* Pool size: one worker per online CPU, within these bounds. */
#define KP_MAX_WORKERS		64

/*
 * How long the client waits for a reply, and how long a worker may spend
 * on one operation before it is killed by its own alarm (a few seconds
 * later, so the client gives up first and starts a fresh worker).
 * Signing a CRL of a million entries is the slow case.
 */
#define KP_TIMEOUT_SEC		30
#define KP_TIMEOUT_CRL_SEC	300

/* Maximum body lengths per op (0 for an unknown op). */
size_t	kp_req_max(uint32_t op);
size_t	kp_rep_max(uint32_t op);

/*
 * A decoded request.  Blobs are borrowed from the message buffer given to
 * kp_req_decode() (valid while it is); objects are owned and freed by
 * kp_req_clear().  Only the fields of "op" are set.
 */
struct kp_req {
	uint32_t	 op;
	int64_t		 id;		/* LOAD_*: the identity */
	int64_t		 ra_id;		/* CERTREP, NEXTCA, ISSUE_REPLY: signer
					 * (0 = CA) */
	int64_t		 ca_id;
	char		 name[KP_MAX_NAME + 1];	/* LOAD_*: file below keys/ */
	const uint8_t	*cert;		/* LOAD_*: borrowed DER */
	size_t		 cert_len;
	int64_t		 ra_ids[KP_MAX_DECRYPT_IDS];	/* DECRYPT */
	size_t		 nra;
	uint32_t	 algs;		/* DECRYPT: SCEP_ALG_* */
	const uint8_t	*env;		/* DECRYPT: borrowed */
	size_t		 env_len;
	uint32_t	 chain;		/* ISSUE_REPLY: 0 or 1 */
	struct issue_tmpl tmpl;		/* ISSUE, ISSUE_REPLY: points at
					 * the objects below and at
					 * crl_url */
	X509_NAME	*subject;	/* ISSUE: owned */
	GENERAL_NAMES	*sans;		/* ISSUE: owned, may be NULL */
	EVP_PKEY	*pubkey;	/* ISSUE: owned */
	X509_PUBKEY	*spki;		/* ISSUE: owned, may be NULL: the same
					 * key as algorithm and bits only */
	char		 crl_url[KP_MAX_URL + 1];
	struct scep_reply rep;		/* CERTREP, ISSUE_REPLY (a SUCCESS
					 * without payload): borrowed fields
					 * point into the message and
					 * failtext */
	char		 failtext[SCEP_MAX_FAILTEXT + 1];
	X509		*recipient;	/* CERTREP (may be NULL), ISSUE_REPLY:
					 * owned */
	STACK_OF(X509)	*certs;		/* CERTREP extra (may be NULL),
					 * NEXTCA next: owned */
	time_t		 now;		/* NEXTCA */
	struct crl_entry *entries;	/* SIGN_CRL: owned array */
	char		(*serials)[KP_MAX_SERIAL_HEX + 1];	/* owned */
	size_t		 nentries;
	int64_t		 crl_number;
	time_t		 this_update;
	time_t		 next_update;
	char		 dn[KP_MAX_DN + 1];	/* MAKE_RA: subject */
	uint32_t	 usage;		/* MAKE_RA: CA_RA_* */
	uint32_t	 days;		/* MAKE_RA */
};

/*
 * Decode the body of a request "op" (len bytes at "body", borrowed: must
 * outlive *rq).  SCEP_OK, or SCEP_E_MALFORMED / SCEP_E_TOOBIG /
 * SCEP_E_TRAILING / SCEP_E_NOMEM; *rq is cleared on error (and must be
 * kp_req_clear()ed either way).
 */
int	kp_req_decode(uint32_t op, const uint8_t *body, size_t len,
	    struct kp_req *rq);
void	kp_req_clear(struct kp_req *);	/* accepts a zeroed struct */

/*
 * A capped, growable output buffer (STYLE H5).  Errors are sticky: after
 * the first failure every put is a no-op and kp_buf_take() returns NULL,
 * so encoders check once at the end.
 */
struct kp_buf {
	uint8_t		*p;		/* owned */
	size_t		 len;
	size_t		 cap;
	size_t		 max;		/* hard cap on len */
	int		 err;		/* SCEP_OK or the first error */
};

void	kp_buf_init(struct kp_buf *, size_t max);
void	kp_buf_clear(struct kp_buf *);
void	kp_buf_u32(struct kp_buf *, uint32_t);
void	kp_buf_i32(struct kp_buf *, int32_t);
void	kp_buf_i64(struct kp_buf *, int64_t);
void	kp_buf_blob(struct kp_buf *, const void *, size_t);
void	kp_buf_str(struct kp_buf *, const char *);	/* NULL = "" */
void	kp_buf_x509(struct kp_buf *, X509 *);		/* NULL = empty blob */

/*
 * Request encoders (client side).  Each fills "b" (kp_buf_init'ed by the
 * caller with kp_req_max(op)) and returns SCEP_OK or b->err.
 */
int	kp_enc_load(struct kp_buf *, uint32_t op, int64_t id, int64_t ca_id,
	    const char *name, const uint8_t *cert, size_t cert_len);
int	kp_enc_decrypt(struct kp_buf *, const int64_t *ra_ids, size_t nra,
	    int64_t ca_id, unsigned int algs, const uint8_t *env,
	    size_t env_len);
int	kp_enc_issue(struct kp_buf *, int64_t ca_id,
	    const struct issue_tmpl *);
int	kp_enc_certrep(struct kp_buf *, int64_t ra_id, int64_t ca_id,
	    const struct scep_reply *, STACK_OF(X509) *extra);
/* ISSUE_REPLY: the ISSUE body, then ra_id, chain and the CertRep fields
 * of a SUCCESS without payload (the worker builds it). */
int	kp_enc_issue_reply(struct kp_buf *, int64_t ca_id, int64_t ra_id,
	    const struct issue_tmpl *, int chain, const struct scep_reply *);
int	kp_enc_nextca(struct kp_buf *, int64_t ra_id, int64_t ca_id,
	    STACK_OF(X509) *next, time_t now);
int	kp_enc_make_ra(struct kp_buf *, int64_t ca_id, EVP_PKEY *ra_pub,
	    const char *subject_dn, int usage, int days, time_t now);
int	kp_enc_crl(struct kp_buf *, int64_t ca_id,
	    const struct crl_entry *entries, size_t n, int64_t crl_number,
	    time_t this_update, time_t next_update);

/*
 * Reply decoders (client side).  "body" is the whole reply body; the
 * status is returned (SCEP_OK or the worker's error), SCEP_E_MALFORMED
 * when the reply itself is broken.  Outputs are take and set only on
 * SCEP_OK.
 */
int	kp_rep_status(const uint8_t *body, size_t len);
int	kp_dec_rep_blob(const uint8_t *body, size_t len, size_t max,
	    uint8_t **out, size_t *out_len);
int	kp_dec_rep_decrypt(const uint8_t *body, size_t len, uint8_t **out,
	    size_t *out_len, int *cipher_nid);
int	kp_dec_rep_issue(const uint8_t *body, size_t len, X509 **out,
	    uint8_t serial[ISSUE_SERIAL_LEN]);
int	kp_dec_rep_crl(const uint8_t *body, size_t len, X509_CRL **out);
/* ISSUE_REPLY: certificate DER, serial, validity and signed reply; no
 * DER is decoded (*out: issued_reply_clear). */
int	kp_dec_rep_issue_reply(const uint8_t *body, size_t len,
	    struct issued_reply *out);
int	kp_dec_rep_cert(const uint8_t *body, size_t len, X509 **out);

/*
 * Message I/O on a stream socket.  kp_msg_read() reads one header and
 * body: the op must satisfy max(op) > 0 ("max" is kp_req_max or
 * kp_rep_max) and the length max(op) at most; *body (take, malloc'ed,
 * may be NULL for an empty body) holds exactly *len bytes.
 * "timeout_ms" < 0 waits forever.  Returns SCEP_OK, KP_IO_EOF (clean end
 * before a header), KP_IO_LIE (bad op or length: drop the peer),
 * KP_IO_TIMEOUT or SCEP_E_IO.
 */
#define KP_IO_EOF	1
#define KP_IO_LIE	2
#define KP_IO_TIMEOUT	3
int	kp_msg_read(int fd, size_t (*max)(uint32_t), int timeout_ms,
	    uint32_t *op, uint8_t **body, size_t *len);
int	kp_msg_write(int fd, uint32_t op, const uint8_t *body, size_t len);

/*
 * The reply to a request, built by the worker: status and, for SCEP_OK,
 * the fields.  Exposed for the tests.
 */
int	kp_worker_handle(struct keyops *ko, int dirfd, uint32_t op,
	    const uint8_t *body, size_t len, struct kp_buf *reply);

/*
 * The master's entry point (keyproc.c); it never returns (_exit).  It runs
 * in the fork made by keyops_new_isolated(): "ctl" is its end of the
 * control socket, "dirfd" DATA_DIR/keys.  The log level is inherited.
 */
void	kp_master_main(int ctl, int dirfd) __attribute__((noreturn));

/*
 * A worker on socket "fd" (the master's children; tests call it in a fork
 * of their own): a secure heap for the keys, an in-process keyops table,
 * the worker's seccomp filter (stacked on whatever the process already
 * has), then the request loop until EOF.  Never returns: _exit(0) at EOF,
 * 3 when the peer sent a lying header, 4 on a socket error, 5 when it
 * cannot set up, 6 on a system call outside the allow-list.
 */
void	kp_worker_run(int fd, int dirfd) __attribute__((noreturn));

/*
 * Sandbox steps (kp_sandbox.c), in the order the master applies them.
 *
 *  kp_sandbox_fs(dirfd): see below; never fatal (logged).
 *  kp_sandbox_proc(): PR_SET_DUMPABLE 0 and PR_SET_NO_NEW_PRIVS (-1 when
 *    either fails: fatal), RLIMIT_CORE 0 and every capability dropped,
 *    bounding and ambient sets too (a failure is logged: a supervisor's
 *    filter may refuse capset, and there is nothing to drop then).
 *  kp_sandbox_fs(dirfd): Landlock: read-only access to files below the
 *    directory "dirfd", nothing else (TCP bind/connect denied, abstract
 *    sockets and signals scoped, as far as the kernel's ABI goes).
 *    Without Landlock, a chroot into the directory when we may, else
 *    nothing (logged once).  Returns the Landlock ABI used (>= 1), 0 for
 *    the chroot fallback, -1 for none.
 *  kp_sandbox_seccomp(master): PR_SET_NO_NEW_PRIVS and a seccomp-bpf
 *    allow-list (-1 when it cannot be installed: fatal); "master" adds
 *    fork, socketpair and descriptor passing.
 *    A worker installs it a second time without: filters stack.
 *    Anything else is refused: socket() and the other network calls
 *    with EPERM, exec and every unlisted call kill the process (SIGSYS).
 */
int	kp_sandbox_proc(void);
int	kp_sandbox_fs(int dirfd);
int	kp_sandbox_seccomp(int master);

#endif /* !KEYPROC_H */
