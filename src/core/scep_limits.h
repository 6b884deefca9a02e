/*
 * scep_limits.h -- every bound on attacker-controlled sizes, in one place.
 * A limit that is not here does not exist.
 */
#ifndef SCEP_LIMITS_H
#define SCEP_LIMITS_H

/* Whole pkiMessage (DER or BER).  A PKCSReq with a 16k-bit RSA key and a
 * chain of four certificates fits comfortably; real requests are 2-6 KiB. */
#define SCEP_MAX_MSG_DER	(256 * 1024)
/* HTTP POST body: same as the message (spec 2.3). */
#define SCEP_MAX_POST_BODY	SCEP_MAX_MSG_DER
/* GET PKIOperation: the decoded message may be at most this long (GETs are
 * sent by Cisco and Apple for ordinary-sized requests; spec 2.4 asks for at
 * least 16 KiB request lines). */
#define SCEP_MAX_GET_DER	(48 * 1024)
/* ... and the raw message= value: base64 of that, every char escaped
 * (%XX) in the worst case. */
#define SCEP_MAX_GET_MESSAGE	(SCEP_MAX_GET_DER / 3 * 4 * 3 + 4096)
/* Decrypted envelope content: a PKCS#10 or IssuerAndSerialNumber. */
#define SCEP_MAX_INNER_DER	(64 * 1024)
/* transactionID: RFC 8894 3.2.1.1 leaves it open; spec 10 says 1..255. */
#define SCEP_MAX_TRANSID	255
/* senderNonce: RFC says 16; old iOS sent 8 (spec 11). */
#define SCEP_MIN_NONCE		8
#define SCEP_MAX_NONCE		32
#define SCEP_NONCE_LEN		16	/* what we generate */
/* Certificates carried in a request SignedData. */
#define SCEP_MAX_CERTS		8
/* RecipientInfos in one pkcsPKIEnvelope: each may cost a private-key
 * operation per decryption key, so a request cannot ask for more than
 * this many (clients send exactly one). */
#define SCEP_MAX_RECIPIENTS	8
/* challengePassword: PKCS#9 says 255, Intune's are longer (spec 12.2). */
#define SCEP_MAX_CHALLENGE	(64 * 1024)
/* failInfoText we send. */
#define SCEP_MAX_FAILTEXT	256
/* SANs accepted from one CSR. */
#define SCEP_MAX_SANS		64
/* Subject RDNs accepted from one CSR. */
#define SCEP_MAX_RDNS		32
/* Subject key sizes (bits) accepted at all, before endpoint policy. */
#define SCEP_MIN_RSA_BITS	1024
#define SCEP_MAX_RSA_BITS	8192

/* Admin REST API. */
#define API_MAX_BODY		(64 * 1024)
#define API_MAX_JSON_DEPTH	8

/* HTTP server. */
#define HTTP_CONNECTION_LIMIT	10000
#define HTTP_PER_IP_LIMIT	0	/* 0 = off: NATed fleets share one address */
#define HTTP_TIMEOUT_SEC	30
/* Per connection: request line and headers, so it also bounds a GET
 * PKIOperation (the message= value).  libmicrohttpd zeroes the whole
 * pool before every request of a keep-alive connection, and an idle
 * connection keeps it resident: the cost of every request and of every
 * open connection.  --connection-memory raises it for clients that send
 * large GET PKIOperation messages (most POST). */
#define HTTP_MEMORY_LIMIT	(8 * 1024)	/* a ~7.5 KB request target */
#define HTTP_MAX_URI_EXT	64	/* /scep/<ext> */
/* The work queue of PKIOperations (issue 7 overload): worker threads per
 * CPU, requests waiting at most (beyond: 503 at once), and the longest
 * wait before a request is answered 503 instead of being processed. */
#define HTTP_WORKERS_PER_CPU	4
#define HTTP_QUEUE_MAX		1024
#define HTTP_QUEUE_TIMEOUT_MS	10000
#define HTTP_RETRY_AFTER	"2"	/* seconds, with every 503 */
/* A refused request body up to this size is read and dropped before the
 * 413 (so that the client gets it); beyond, the 413 comes at once. */
#define HTTP_DRAIN_MAX		(32 * 1024 * 1024)

#endif /* !SCEP_LIMITS_H */
