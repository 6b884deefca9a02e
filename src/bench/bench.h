/*
 * bench.h -- scepbench internals: a SCEP load generator built on the
 * project's own protocol core acting as a client (issue 7).
 *
 * Three phases, so that the load generator spends the timed phase on HTTP
 * only and shares the CPU with the server as little as possible:
 *   1. prepare (untimed): key pool, self-signed signers, PKCS#10 with the
 *      challenge, every request pkiMessage signed and enveloped;
 *   2. drive (timed): N threads, each with one keep-alive libcurl handle,
 *      send the prepared requests and keep the raw replies;
 *   3. verify (untimed): every reply is checked (RA signature,
 *      transactionID, recipientNonce, pkiStatus, decrypted certificate
 *      holds the CSR key, chains to the CA) and serials are compared.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "scep.h"

/* Bounds (STYLE H5). */
#define BENCH_MAX_CONCURRENCY	4096
#define BENCH_MAX_REQUESTS	2000000	/* prebuilt requests */
#define BENCH_MAX_KEYS		4096
#define BENCH_MAX_REPLY		(256 * 1024)	/* one HTTP reply body */
#define BENCH_MAX_URL		2048
#define BENCH_TRANSID_LEN	32		/* hex characters */

enum bench_op {
	BENCH_OP_ENROLL = 0,
	BENCH_OP_GETCACAPS,
	BENCH_OP_GETCACERT,
};

/* Why a request did not count as a verified enrollment. */
enum bench_fail {
	BF_NONE = 0,
	BF_TRANSPORT,		/* connect/timeout/reset: no HTTP reply */
	BF_HTTP,		/* HTTP status other than 200 */
	BF_DECODE,		/* CertRep not a valid signed pkiMessage */
	BF_SIGNER,		/* signed by another certificate than the RA */
	BF_MSGTYPE,		/* not a CertRep */
	BF_TRANSID,		/* transactionID differs */
	BF_NONCE,		/* recipientNonce != our senderNonce */
	BF_STATUS_FAILURE,	/* pkiStatus FAILURE */
	BF_STATUS_PENDING,	/* pkiStatus PENDING */
	BF_DECRYPT,		/* reply envelope did not open with our key */
	BF_NOCERT,		/* no certificate for our key in the reply */
	BF_CHAIN,		/* certificate does not chain to the CA */
	BF_BODY,		/* GetCACaps/GetCACert body differs */
	BF__MAX
};

/* One key of the pool: reused across requests (each request has its own
 * transactionID and senderNonce). */
struct bench_key {
	EVP_PKEY	*key;		/* owned */
	X509		*cert;		/* owned: self-signed signer */
	uint8_t		*csr;		/* owned (OPENSSL_malloc): PKCS#10 DER */
	size_t		 csr_len;
};

/* One prepared request and, after the run, its outcome. */
struct bench_req {
	uint8_t		*msg;		/* owned (OPENSSL_malloc); freed once
					 * sent */
	size_t		 msg_len;
	char		 transid[BENCH_TRANSID_LEN + 1];
	uint8_t		 nonce[SCEP_NONCE_LEN];
	unsigned int	 key;		/* index into the key pool */
	/* outcome */
	int		 sent;
	long		 http_status;	/* 0: no HTTP reply */
	uint8_t		*reply;		/* owned (malloc) */
	size_t		 reply_len;
	double		 latency;	/* seconds */
	int		 fail;		/* enum bench_fail, set by verify */
	char		 serial[80];	/* issuer hash + serial, hex */
};

struct bench {
	/* options */
	const char	*url;
	const char	*challenge;
	const char	*ca_path;
	const char	*key_cache;	/* PEM file of pool keys, or NULL */
	enum bench_op	 op;
	int		 concurrency;
	double		 duration;	/* > 0: timed run */
	long		 count;		/* > 0: count run */
	long		 prebuild;	/* requests prepared (enroll) */
	int		 nkeys;
	int		 key_bits;
	int		 cipher_nid;
	int		 md_nid;
	long		 server_pid;
	double		 timeout;	/* per request, seconds */
	int		 json;
	int		 verbose;
	int		 threads;	/* for prepare and verify */

	/* from prepare */
	STACK_OF(X509)	*anchors;	/* --ca certificates */
	X509_STORE	*store;		/* trust store of the anchors */
	STACK_OF(X509)	*bag;		/* GetCACert certificates */
	X509		*ra_enc;	/* borrowed from bag: encrypt to */
	X509		*ra_sign;	/* borrowed from bag: signs CertReps */
	uint8_t		*cacert_body;	/* GetCACert body as first fetched */
	size_t		 cacert_len;
	char		*caps;		/* GetCACaps body, NUL-terminated */
	size_t		 caps_len;
	struct bench_key *keys;
	struct bench_req *reqs;
	long		 nreqs;
	double		 prep_keys_s;
	int		 keys_loaded;	/* taken from key_cache */
	double		 prep_reqs_s;
	int		 legacy_loaded;	/* legacy provider (DES replies) */
	OSSL_PROVIDER	*prov_default;	/* owned (unloaded by bench_free) */
	OSSL_PROVIDER	*prov_legacy;	/* owned, may be NULL */
	int		 curl_inited;

	/* from the run */
	_Atomic long	 next;		/* next request index */
	_Atomic int	 stop;
	long		 done;		/* requests finished */
	double		*lat;		/* latencies of GET ops (seconds) */
	long		 nlat;
	double		 elapsed;
	double		 server_cpu;	/* seconds, -1 unknown */
	double		 client_cpu;
	int		 exhausted;	/* prebuilt requests ran out */
	long		 get_fail[BF__MAX];

	/* from verify */
	long		 ok;
	long		 fails[BF__MAX];
	long		 duplicates;
	_Atomic int	 reply_cipher;	/* NID of the CertRep envelopes */
	_Atomic int	 reply_cipher_mixed;	/* not all the same */
	char		 fail_example[BF__MAX][160];
};

/* bench_http.c */
int	 bench_http_init(void);
void	 bench_http_cleanup(void);
/* GET url?operation=op into *body (malloc, NUL-terminated); *ctype
 * (malloc) is the Content-Type.  Returns the HTTP status or -1. */
long	 bench_http_get(const char *url, const char *op, double timeout,
	    uint8_t **body, size_t *len, char **ctype);
/* The timed phase. */
int	 bench_run(struct bench *);

/* bench_prep.c */
int	 bench_prepare(struct bench *);
void	 bench_free(struct bench *);

/* bench_verify.c */
int	 bench_verify(struct bench *);
const char *bench_fail_name(int);

/* Monotonic seconds. */
double	 bench_now(void);
/* CPU seconds (utime + stime) of process "pid" and all its descendants
 * (scepd's key processes) from /proc, -1 if unknown (bench_proc.c). */
double	 bench_proc_cpu(long pid);

#endif /* !BENCH_H */
