/*
 * kp_wire.c -- the keyproc message format (keyproc.h): per-op length
 * limits, request encoders and decoders, reply decoders, and framed I/O.
 *
 * Both ends treat the other as a possible attacker.  The worker decodes
 * requests from scepd's HTTP side, which parses hostile network input all
 * day; scepd decodes replies from a process that handles the keys.  So
 * every decoder here checks each length against a fixed field maximum
 * before use, never allocates by a count it was given without checking
 * the count against the bytes that are actually left, decodes DER with
 * libcrypto and an exact-length check (STYLE H6), and demands that the
 * body is consumed exactly.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "keyproc.h"
#include "scep_err.h"

/* Body sizes of the fixed parts, for the maxima below. */
#define B(n)	(4 + (size_t)(n))	/* a blob of at most n bytes */

size_t
kp_req_max(uint32_t op)
{
	switch (op) {
	case KP_LOAD_CA:
	case KP_LOAD_RA:
		return 8 + 8 + B(KP_MAX_NAME) + B(KP_MAX_CERT_DER);
	case KP_DECRYPT:
		return 4 + 8 * KP_MAX_DECRYPT_IDS + 8 + 4 +
		    B(SCEP_MAX_MSG_DER);
	case KP_ISSUE:
		return 8 + 3 * 4 + 2 * 8 + B(KP_MAX_DN_DER) +
		    B(KP_MAX_SANS_DER) + B(KP_MAX_SPKI_DER) + B(KP_MAX_URL);
	case KP_SIGN_CERTREP:
		return 2 * 8 + 2 * 4 + 4 + B(SCEP_MAX_FAILTEXT) +
		    B(SCEP_MAX_TRANSID) + B(SCEP_MAX_NONCE) +
		    B(SCEP_NONCE_LEN) + 2 * 4 + B(KP_MAX_RECIPIENT_DER) +
		    B(KP_MAX_PAYLOAD) + 8 + 4 +
		    KP_MAX_EXTRA * B(KP_MAX_CERT_DER);
	case KP_SIGN_NEXTCA:
		return 3 * 8 + 4 + KP_MAX_NEXT * B(KP_MAX_CERT_DER);
	case KP_SIGN_CRL:
		return 4 * 8 + 4 + (size_t)KP_MAX_CRL_ENTRIES *
		    (B(KP_MAX_SERIAL_HEX) + 8 + 4);
	case KP_MAKE_RA:
		return 8 + B(KP_MAX_SPKI_DER) + B(KP_MAX_DN) + 2 * 4 + 8;
	case KP_ISSUE_REPLY:
		return kp_req_max(KP_ISSUE) + 8 + 4 + B(SCEP_MAX_TRANSID) +
		    B(SCEP_MAX_NONCE) + B(SCEP_NONCE_LEN) + 2 * 4 +
		    B(KP_MAX_RECIPIENT_DER) + 8;
	default:
		return 0;
	}
}

size_t
kp_rep_max(uint32_t op)
{
	switch (op) {
	case KP_LOAD_CA:
	case KP_LOAD_RA:
		return 4;
	case KP_DECRYPT:
		return 4 + B(SCEP_MAX_MSG_DER) + 4;
	case KP_ISSUE:
		return 4 + B(KP_MAX_ISSUED_DER) + B(ISSUE_SERIAL_LEN);
	case KP_SIGN_CERTREP:
	case KP_SIGN_NEXTCA:
		return 4 + B(KP_MAX_SIGNED);
	case KP_SIGN_CRL:
		return 4 + B(KP_MAX_CRL_DER);
	case KP_MAKE_RA:
		return 4 + B(KP_MAX_CERT_DER);
	case KP_ISSUE_REPLY:
		return 4 + B(KP_MAX_ISSUED_DER) + B(ISSUE_SERIAL_LEN) + 2 * 8 +
		    B(KP_MAX_SIGNED);
	default:
		return 0;
	}
}

/* ---- output buffer ------------------------------------------------- */

void
kp_buf_init(struct kp_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
kp_buf_clear(struct kp_buf *b)
{
	if (b == NULL)
		return;
	/* Decrypted CSRs pass through here: do not leave them behind. */
	if (b->p != NULL)
		OPENSSL_cleanse(b->p, b->cap);
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Room for "n" more bytes; returns where they go, or NULL (sticky). */
static uint8_t *
buf_room(struct kp_buf *b, size_t n)
{
	uint8_t	*np = NULL;
	size_t	 ncap;

	if (b->err != SCEP_OK)
		return NULL;
	if (n > b->max || b->len > b->max - n) {
		b->err = SCEP_E_TOOBIG;
		return NULL;
	}
	if (b->len + n > b->cap) {
		ncap = b->cap < 256 ? 256 : b->cap;
		while (ncap < b->len + n)
			ncap = ncap > b->max / 2 ? b->max : ncap * 2;
		if ((np = malloc(ncap)) == NULL) {
			b->err = SCEP_E_NOMEM;
			return NULL;
		}
		if (b->len > 0)
			memcpy(np, b->p, b->len);
		if (b->p != NULL)
			OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
		b->p = np;
		b->cap = ncap;
	}
	return b->p + b->len;
}

void
kp_buf_u32(struct kp_buf *b, uint32_t v)
{
	uint8_t	*p = NULL;

	if ((p = buf_room(b, 4)) == NULL)
		return;
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	b->len += 4;
}

void
kp_buf_i32(struct kp_buf *b, int32_t v)
{
	kp_buf_u32(b, (uint32_t)v);
}

void
kp_buf_i64(struct kp_buf *b, int64_t v)
{
	kp_buf_u32(b, (uint32_t)((uint64_t)v >> 32));
	kp_buf_u32(b, (uint32_t)((uint64_t)v & 0xffffffffu));
}

void
kp_buf_blob(struct kp_buf *b, const void *v, size_t n)
{
	uint8_t	*p = NULL;

	if (n > UINT32_MAX) {
		if (b->err == SCEP_OK)
			b->err = SCEP_E_TOOBIG;
		return;
	}
	if (n > 0 && v == NULL) {
		if (b->err == SCEP_OK)
			b->err = SCEP_E_INTERNAL;
		return;
	}
	kp_buf_u32(b, (uint32_t)n);
	if (n == 0 || (p = buf_room(b, n)) == NULL)
		return;
	memcpy(p, v, n);
	b->len += n;
}

void
kp_buf_str(struct kp_buf *b, const char *s)
{
	kp_buf_blob(b, s, s == NULL ? 0 : strlen(s));
}

void
kp_buf_x509(struct kp_buf *b, X509 *x)
{
	uint8_t	*p = NULL;
	int	 n;

	if (x == NULL) {
		kp_buf_blob(b, NULL, 0);
		return;
	}
	if ((n = i2d_X509(x, NULL)) <= 0) {
		if (b->err == SCEP_OK)
			b->err = SCEP_E_INTERNAL;
		return;
	}
	kp_buf_u32(b, (uint32_t)n);
	if ((p = buf_room(b, (size_t)n)) == NULL)
		return;
	if (i2d_X509(x, &p) != n) {	/* advances p: the buffer's copy */
		b->err = SCEP_E_INTERNAL;
		return;
	}
	b->len += (size_t)n;
}

/* ---- input cursor -------------------------------------------------- */

struct cur {
	const uint8_t	*p;		/* borrowed */
	size_t		 left;
	int		 err;		/* sticky, like kp_buf */
};

static uint32_t
get_u32(struct cur *c)
{
	uint32_t	 v;

	if (c->err != SCEP_OK)
		return 0;
	if (c->left < 4) {
		c->err = SCEP_E_MALFORMED;
		return 0;
	}
	v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	    (uint32_t)c->p[2] << 8 | (uint32_t)c->p[3];
	c->p += 4;
	c->left -= 4;
	return v;
}

static int32_t
get_i32(struct cur *c)
{
	uint32_t	 v = get_u32(c);

	/* Two's complement without implementation-defined conversion. */
	return v <= INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

static int64_t
get_i64(struct cur *c)
{
	uint64_t	 hi = get_u32(c), lo = get_u32(c);
	uint64_t	 v = hi << 32 | lo;

	return v <= INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
}

/* A blob of at most "max" bytes, borrowed from the input. */
static const uint8_t *
get_blob(struct cur *c, size_t max, size_t *len)
{
	const uint8_t	*p = NULL;
	uint32_t	 n = get_u32(c);

	*len = 0;
	if (c->err != SCEP_OK)
		return NULL;
	if (n > max) {
		c->err = SCEP_E_TOOBIG;
		return NULL;
	}
	if (n > c->left) {
		c->err = SCEP_E_MALFORMED;
		return NULL;
	}
	p = c->p;
	c->p += n;
	c->left -= n;
	*len = n;
	return p;
}

/* A string of at most dstsz - 1 bytes without NUL, copied to dst. */
static void
get_str(struct cur *c, char *dst, size_t dstsz)
{
	const uint8_t	*p = NULL;
	size_t		 n = 0;

	dst[0] = '\0';
	p = get_blob(c, dstsz - 1, &n);
	if (c->err != SCEP_OK)
		return;
	if (n > 0 && memchr(p, '\0', n) != NULL) {
		c->err = SCEP_E_MALFORMED;
		return;
	}
	if (n > 0)
		memcpy(dst, p, n);
	dst[n] = '\0';
}

/* The body must be used up exactly (STYLE H6). */
static int
cur_end(struct cur *c)
{
	if (c->err != SCEP_OK)
		return c->err;
	return c->left == 0 ? SCEP_OK : SCEP_E_TRAILING;
}

/* ---- DER in, exactly ----------------------------------------------- */

static int
der_x509(const uint8_t *der, size_t len, X509 **out)
{
	const unsigned char	*p = der;
	X509			*x = NULL;

	*out = NULL;
	if (der == NULL || len == 0 || len > (size_t)LONG_MAX)
		return SCEP_E_MALFORMED;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return SCEP_E_MALFORMED;
	if (p != der + len) {
		X509_free(x);
		return SCEP_E_TRAILING;
	}
	*out = x;
	return SCEP_OK;
}

static int
der_name(const uint8_t *der, size_t len, X509_NAME **out)
{
	const unsigned char	*p = der;
	X509_NAME		*n = NULL;

	*out = NULL;
	if (der == NULL || len == 0 || len > (size_t)LONG_MAX)
		return SCEP_E_MALFORMED;
	if ((n = d2i_X509_NAME(NULL, &p, (long)len)) == NULL)
		return SCEP_E_MALFORMED;
	if (p != der + len) {
		X509_NAME_free(n);
		return SCEP_E_TRAILING;
	}
	*out = n;
	return SCEP_OK;
}

static int
der_gens(const uint8_t *der, size_t len, GENERAL_NAMES **out)
{
	const unsigned char	*p = der;
	GENERAL_NAMES		*g = NULL;

	*out = NULL;
	if (der == NULL || len == 0 || len > (size_t)LONG_MAX)
		return SCEP_E_MALFORMED;
	if ((g = d2i_GENERAL_NAMES(NULL, &p, (long)len)) == NULL)
		return SCEP_E_MALFORMED;
	if (p != der + len) {
		GENERAL_NAMES_free(g);
		return SCEP_E_TRAILING;
	}
	*out = g;
	return SCEP_OK;
}

/*
 * The SubjectPublicKeyInfo as an X509_PUBKEY holding algorithm and key
 * bits only, for ca_issue to copy into the certificate (issue_tmpl.spki)
 * without OpenSSL 3's key encoder.  No key is decoded here: der_pubkey
 * decodes the same bytes into the EVP_PKEY that is checked.  NULL (no
 * error) when the bytes do not fit the simple form: ca_issue then
 * encodes the checked key itself.
 */
static X509_PUBKEY *
spki_bits(const uint8_t *der, size_t len)
{
	X509_PUBKEY	*k = NULL;

	(void)scep_spki_der(der, len, NULL, &k);
	return k;
}

/*
 * The recipient of a CertRep envelope from its DER: for an RSA key, the
 * core's decoder-free reading (scep_cert_recipient: issuer, serial number
 * and key -- what CMS_add1_recipient_cert() reads); anything else goes
 * through d2i_X509, as before, so the envelope code answers it as it
 * always has.
 */
static int
der_recipient(const uint8_t *der, size_t len, X509 **out)
{
	int	r;

	*out = NULL;
	if (der == NULL || len == 0 || len > (size_t)LONG_MAX)
		return SCEP_E_MALFORMED;
	if ((r = scep_cert_recipient(der, len, out)) != SCEP_E_UNSUPPORTED)
		return r;
	ERR_clear_error();
	return der_x509(der, len, out);
}

static int
der_pubkey(const uint8_t *der, size_t len, EVP_PKEY **out)
{
	const unsigned char	*p = der;
	EVP_PKEY		*k = NULL;

	*out = NULL;
	if (der == NULL || len == 0 || len > (size_t)LONG_MAX)
		return SCEP_E_MALFORMED;
	/* RSA and EC P-256/P-384 without OpenSSL 3.0's decoder chain
	 * (~0.1 ms, once per issuance), the rest by d2i_PUBKEY. */
	if (scep_spki_der(der, len, &k, NULL) == SCEP_OK && k != NULL) {
		*out = k;
		return SCEP_OK;
	}
	if ((k = d2i_PUBKEY(NULL, &p, (long)len)) == NULL)
		return SCEP_E_MALFORMED;
	if (p != der + len) {
		EVP_PKEY_free(k);
		return SCEP_E_TRAILING;
	}
	*out = k;
	return SCEP_OK;
}

static int
der_crl(const uint8_t *der, size_t len, X509_CRL **out)
{
	const unsigned char	*p = der;
	X509_CRL		*c = NULL;

	*out = NULL;
	if (der == NULL || len == 0 || len > (size_t)LONG_MAX)
		return SCEP_E_MALFORMED;
	if ((c = d2i_X509_CRL(NULL, &p, (long)len)) == NULL)
		return SCEP_E_MALFORMED;
	if (p != der + len) {
		X509_CRL_free(c);
		return SCEP_E_TRAILING;
	}
	*out = c;
	return SCEP_OK;
}

/* i2d into a new malloc'ed blob, for the encoders. */
static void
buf_i2d_name(struct kp_buf *b, X509_NAME *n)
{
	unsigned char	*der = NULL;
	int		 len;

	if ((len = i2d_X509_NAME(n, &der)) <= 0) {
		if (b->err == SCEP_OK)
			b->err = SCEP_E_MALFORMED;
		return;
	}
	kp_buf_blob(b, der, (size_t)len);
	OPENSSL_free(der);
}

static void
buf_i2d_gens(struct kp_buf *b, GENERAL_NAMES *g)
{
	unsigned char	*der = NULL;
	int		 len;

	if (g == NULL) {
		kp_buf_blob(b, NULL, 0);
		return;
	}
	if ((len = i2d_GENERAL_NAMES(g, &der)) <= 0) {
		if (b->err == SCEP_OK)
			b->err = SCEP_E_MALFORMED;
		return;
	}
	kp_buf_blob(b, der, (size_t)len);
	OPENSSL_free(der);
}

static void
buf_i2d_pubkey(struct kp_buf *b, EVP_PKEY *k)
{
	unsigned char	*der = NULL;
	int		 len;

	if ((len = i2d_PUBKEY(k, &der)) <= 0) {
		if (b->err == SCEP_OK)
			b->err = SCEP_E_BADKEY;
		return;
	}
	kp_buf_blob(b, der, (size_t)len);
	OPENSSL_free(der);
}

static void
buf_i2d_spki(struct kp_buf *b, X509_PUBKEY *k)
{
	unsigned char	*der = NULL;
	int		 len;

	if ((len = i2d_X509_PUBKEY(k, &der)) <= 0) {
		if (b->err == SCEP_OK)
			b->err = SCEP_E_BADKEY;
		return;
	}
	kp_buf_blob(b, der, (size_t)len);
	OPENSSL_free(der);
}

/* ---- request encoders (scepd side) --------------------------------- */

int
kp_enc_load(struct kp_buf *b, uint32_t op, int64_t id, int64_t ca_id,
    const char *name, const uint8_t *cert, size_t cert_len)
{
	kp_buf_i64(b, id);
	kp_buf_i64(b, ca_id);
	kp_buf_str(b, name);
	kp_buf_blob(b, cert, cert_len);
	(void)op;
	return b->err;
}

int
kp_enc_decrypt(struct kp_buf *b, const int64_t *ra_ids, size_t nra,
    int64_t ca_id, unsigned int algs, const uint8_t *env, size_t env_len)
{
	size_t	 i;

	if (nra > KP_MAX_DECRYPT_IDS)
		return SCEP_E_TOOBIG;
	kp_buf_u32(b, (uint32_t)nra);
	for (i = 0; i < nra; i++)
		kp_buf_i64(b, ra_ids[i]);
	kp_buf_i64(b, ca_id);
	kp_buf_u32(b, algs);
	kp_buf_blob(b, env, env_len);
	return b->err;
}

int
kp_enc_issue(struct kp_buf *b, int64_t ca_id, const struct issue_tmpl *t)
{
	if (t == NULL || t->subject == NULL || t->pubkey == NULL)
		return SCEP_E_INTERNAL;
	if (t->kind < 0 || t->server_auth < 0 || t->legacy < 0)
		return SCEP_E_DENIED;
	kp_buf_i64(b, ca_id);
	kp_buf_u32(b, (uint32_t)t->kind);
	kp_buf_u32(b, (uint32_t)t->server_auth);
	kp_buf_u32(b, (uint32_t)t->legacy);
	kp_buf_i64(b, (int64_t)t->not_before);
	kp_buf_i64(b, (int64_t)t->not_after);
	buf_i2d_name(b, t->subject);
	buf_i2d_gens(b, t->sans);
	if (t->spki != NULL) {
		/* The SPKI must carry the template's key (a CSR's SPKI
		 * caches none: scep_spki_eq imports its bits). */
		if (scep_spki_eq(t->spki, t->pubkey) != 1)
			return SCEP_E_INTERNAL;
		buf_i2d_spki(b, t->spki);
	} else
		buf_i2d_pubkey(b, t->pubkey);
	kp_buf_str(b, t->crl_url);
	return b->err;
}

int
kp_enc_certrep(struct kp_buf *b, int64_t ra_id, int64_t ca_id,
    const struct scep_reply *rp, STACK_OF(X509) *extra)
{
	int	 i, n = extra == NULL ? 0 : sk_X509_num(extra);

	if (rp == NULL)
		return SCEP_E_INTERNAL;
	if (n < 0 || n > KP_MAX_EXTRA)
		return SCEP_E_TOOBIG;
	kp_buf_i64(b, ra_id);
	kp_buf_i64(b, ca_id);
	kp_buf_i32(b, rp->status);
	kp_buf_i32(b, rp->failinfo);
	kp_buf_u32(b, rp->failtext != NULL);
	kp_buf_str(b, rp->failtext);
	kp_buf_blob(b, rp->transid, rp->transid_len);
	kp_buf_blob(b, rp->recipient_nonce, rp->recipient_nonce_len);
	kp_buf_blob(b, rp->sender_nonce, sizeof(rp->sender_nonce));
	kp_buf_i32(b, rp->md_nid);
	kp_buf_i32(b, rp->cipher_nid);
	/*
	 * Only a SUCCESS is encrypted to the request's signer.  Leaving the
	 * certificate out of every other reply saves the worker a decode
	 * and, more to the point, means a key process never parses a
	 * certificate from a client that has not passed the checks.
	 */
	kp_buf_x509(b, rp->status == SCEP_STATUS_SUCCESS ? rp->recipient :
	    NULL);
	kp_buf_blob(b, rp->payload, rp->payload_len);
	kp_buf_i64(b, (int64_t)rp->now);
	kp_buf_u32(b, (uint32_t)n);
	for (i = 0; i < n; i++)
		kp_buf_x509(b, sk_X509_value(extra, i));	/* get0 */
	return b->err;
}

int
kp_enc_issue_reply(struct kp_buf *b, int64_t ca_id, int64_t ra_id,
    const struct issue_tmpl *t, int chain, const struct scep_reply *rp)
{
	int	 r;

	if (rp == NULL || rp->status != SCEP_STATUS_SUCCESS ||
	    rp->recipient == NULL || rp->payload != NULL)
		return SCEP_E_INTERNAL;
	if (chain != 0 && chain != 1)
		return SCEP_E_INTERNAL;
	if ((r = kp_enc_issue(b, ca_id, t)) != SCEP_OK)
		return r;
	kp_buf_i64(b, ra_id);
	kp_buf_u32(b, (uint32_t)chain);
	kp_buf_blob(b, rp->transid, rp->transid_len);
	kp_buf_blob(b, rp->recipient_nonce, rp->recipient_nonce_len);
	kp_buf_blob(b, rp->sender_nonce, sizeof(rp->sender_nonce));
	kp_buf_i32(b, rp->md_nid);
	kp_buf_i32(b, rp->cipher_nid);
	kp_buf_x509(b, rp->recipient);
	kp_buf_i64(b, (int64_t)rp->now);
	return b->err;
}

int
kp_enc_nextca(struct kp_buf *b, int64_t ra_id, int64_t ca_id,
    STACK_OF(X509) *next, time_t now)
{
	int	 i, n = next == NULL ? 0 : sk_X509_num(next);

	if (n <= 0)
		return SCEP_E_INTERNAL;
	if (n > KP_MAX_NEXT)
		return SCEP_E_TOOBIG;
	kp_buf_i64(b, ra_id);
	kp_buf_i64(b, ca_id);
	kp_buf_i64(b, (int64_t)now);
	kp_buf_u32(b, (uint32_t)n);
	for (i = 0; i < n; i++)
		kp_buf_x509(b, sk_X509_value(next, i));		/* get0 */
	return b->err;
}

int
kp_enc_make_ra(struct kp_buf *b, int64_t ca_id, EVP_PKEY *ra_pub,
    const char *subject_dn, int usage, int days, time_t now)
{
	if (ra_pub == NULL || subject_dn == NULL)
		return SCEP_E_INTERNAL;
	if (strlen(subject_dn) > KP_MAX_DN)
		return SCEP_E_TOOBIG;
	if (usage < 0 || days < 0)
		return SCEP_E_CONFIG;
	kp_buf_i64(b, ca_id);
	buf_i2d_pubkey(b, ra_pub);
	kp_buf_str(b, subject_dn);
	kp_buf_u32(b, (uint32_t)usage);
	kp_buf_u32(b, (uint32_t)days);
	kp_buf_i64(b, (int64_t)now);
	return b->err;
}

int
kp_enc_crl(struct kp_buf *b, int64_t ca_id, const struct crl_entry *e,
    size_t n, int64_t crl_number, time_t this_update, time_t next_update)
{
	size_t	 i;

	if (n > KP_MAX_CRL_ENTRIES)
		return SCEP_E_TOOBIG;
	if (n > 0 && e == NULL)
		return SCEP_E_INTERNAL;
	kp_buf_i64(b, ca_id);
	kp_buf_i64(b, crl_number);
	kp_buf_i64(b, (int64_t)this_update);
	kp_buf_i64(b, (int64_t)next_update);
	kp_buf_u32(b, (uint32_t)n);
	for (i = 0; i < n && b->err == SCEP_OK; i++) {
		if (e[i].serial_hex == NULL ||
		    strlen(e[i].serial_hex) > KP_MAX_SERIAL_HEX)
			return SCEP_E_MALFORMED;
		kp_buf_str(b, e[i].serial_hex);
		kp_buf_i64(b, (int64_t)e[i].revoked_at);
		kp_buf_i32(b, e[i].reason);
	}
	return b->err;
}

/* ---- request decoders (worker side) -------------------------------- */

void
kp_req_clear(struct kp_req *rq)
{
	if (rq == NULL)
		return;
	X509_NAME_free(rq->subject);
	GENERAL_NAMES_free(rq->sans);
	EVP_PKEY_free(rq->pubkey);
	X509_PUBKEY_free(rq->spki);
	X509_free(rq->recipient);
	sk_X509_pop_free(rq->certs, X509_free);
	free(rq->entries);
	free(rq->serials);
	memset(rq, 0, sizeof(*rq));
}

static int
dec_load(struct cur *c, struct kp_req *rq)
{
	rq->id = get_i64(c);
	rq->ca_id = get_i64(c);
	get_str(c, rq->name, sizeof(rq->name));
	rq->cert = get_blob(c, KP_MAX_CERT_DER, &rq->cert_len);
	return cur_end(c);
}

static int
dec_decrypt(struct cur *c, struct kp_req *rq)
{
	uint32_t	 n = get_u32(c), i;

	if (c->err == SCEP_OK && n > KP_MAX_DECRYPT_IDS)
		return SCEP_E_TOOBIG;
	for (i = 0; i < n && c->err == SCEP_OK; i++)
		rq->ra_ids[i] = get_i64(c);
	rq->nra = n;
	rq->ca_id = get_i64(c);
	rq->algs = get_u32(c);
	rq->env = get_blob(c, SCEP_MAX_MSG_DER, &rq->env_len);
	return cur_end(c);
}

/* The ISSUE fields, at the start of ISSUE and ISSUE_REPLY bodies. */
static int
dec_issue_fields(struct cur *c, struct kp_req *rq)
{
	const uint8_t	*p = NULL;
	size_t		 n = 0;
	uint32_t	 kind, sa, legacy;
	int		 r;

	rq->ca_id = get_i64(c);
	kind = get_u32(c);
	sa = get_u32(c);
	legacy = get_u32(c);
	rq->tmpl.not_before = (time_t)get_i64(c);
	rq->tmpl.not_after = (time_t)get_i64(c);
	if (c->err != SCEP_OK)
		return c->err;
	/* Values that fit an int; the issuance checks do the rest (an
	 * unknown kind is SCEP_E_DENIED there, as in-process). */
	if (kind > INT32_MAX || sa > 1 || legacy > 1)
		return SCEP_E_MALFORMED;
	rq->tmpl.kind = (int)kind;
	rq->tmpl.server_auth = (int)sa;
	rq->tmpl.legacy = (int)legacy;
	p = get_blob(c, KP_MAX_DN_DER, &n);
	if (c->err != SCEP_OK)
		return c->err;
	if ((r = der_name(p, n, &rq->subject)) != SCEP_OK)
		return r;
	p = get_blob(c, KP_MAX_SANS_DER, &n);
	if (c->err != SCEP_OK)
		return c->err;
	if (n > 0 && (r = der_gens(p, n, &rq->sans)) != SCEP_OK)
		return r;
	p = get_blob(c, KP_MAX_SPKI_DER, &n);
	if (c->err != SCEP_OK)
		return c->err;
	if ((r = der_pubkey(p, n, &rq->pubkey)) != SCEP_OK)
		return r;
	rq->spki = spki_bits(p, n);	/* NULL: ca_issue encodes pubkey */
	get_str(c, rq->crl_url, sizeof(rq->crl_url));
	if (c->err != SCEP_OK)
		return c->err;
	rq->tmpl.subject = rq->subject;
	rq->tmpl.sans = rq->sans;
	rq->tmpl.pubkey = rq->pubkey;
	rq->tmpl.spki = rq->spki;
	rq->tmpl.crl_url = rq->crl_url[0] != '\0' ? rq->crl_url : NULL;
	return SCEP_OK;
}

static int
dec_issue(struct cur *c, struct kp_req *rq)
{
	int	 r;

	if ((r = dec_issue_fields(c, rq)) != SCEP_OK)
		return r;
	return cur_end(c);
}

/*
 * The CertRep fields of ISSUE_REPLY: those of SIGN_CERTREP that a SUCCESS
 * without payload has, in the same order.  The recipient is required.
 */
static int
dec_issue_reply(struct cur *c, struct kp_req *rq)
{
	const uint8_t	*p = NULL;
	size_t		 n = 0;
	int		 r;

	if ((r = dec_issue_fields(c, rq)) != SCEP_OK)
		return r;
	rq->ra_id = get_i64(c);
	rq->chain = get_u32(c);
	rq->rep.status = SCEP_STATUS_SUCCESS;
	rq->rep.transid = (const char *)get_blob(c, SCEP_MAX_TRANSID,
	    &rq->rep.transid_len);
	rq->rep.recipient_nonce = get_blob(c, SCEP_MAX_NONCE,
	    &rq->rep.recipient_nonce_len);
	p = get_blob(c, SCEP_NONCE_LEN, &n);
	if (c->err != SCEP_OK)
		return c->err;
	if (rq->chain > 1 || n != SCEP_NONCE_LEN)
		return SCEP_E_MALFORMED;
	memcpy(rq->rep.sender_nonce, p, n);
	rq->rep.md_nid = get_i32(c);
	rq->rep.cipher_nid = get_i32(c);
	p = get_blob(c, KP_MAX_RECIPIENT_DER, &n);
	if (c->err != SCEP_OK)
		return c->err;
	if ((r = der_recipient(p, n, &rq->recipient)) != SCEP_OK)
		return r;
	rq->rep.recipient = rq->recipient;
	rq->rep.now = (time_t)get_i64(c);
	return cur_end(c);
}

/* "n" certificates, each a blob of at most KP_MAX_CERT_DER. */
static int
dec_certs(struct cur *c, uint32_t n, STACK_OF(X509) **out)
{
	STACK_OF(X509)	*sk = NULL;
	X509		*x = NULL;
	const uint8_t	*p = NULL;
	size_t		 len = 0;
	uint32_t	 i;
	int		 r = SCEP_E_NOMEM;

	*out = NULL;
	if ((sk = sk_X509_new_null()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		p = get_blob(c, KP_MAX_CERT_DER, &len);
		if ((r = c->err) != SCEP_OK)
			goto out;
		if ((r = der_x509(p, len, &x)) != SCEP_OK)
			goto out;
		if (!sk_X509_push(sk, x)) {
			r = SCEP_E_NOMEM;
			goto out;
		}
		x = NULL;
	}
	*out = sk;
	sk = NULL;
	r = SCEP_OK;
 out:
	X509_free(x);
	sk_X509_pop_free(sk, X509_free);
	return r;
}

static int
dec_certrep(struct cur *c, struct kp_req *rq)
{
	const uint8_t	*p = NULL;
	size_t		 n = 0;
	uint32_t	 has_text, next;
	int		 r;

	rq->ra_id = get_i64(c);
	rq->ca_id = get_i64(c);
	rq->rep.status = get_i32(c);
	rq->rep.failinfo = get_i32(c);
	has_text = get_u32(c);
	get_str(c, rq->failtext, sizeof(rq->failtext));
	if (c->err != SCEP_OK)
		return c->err;
	if (has_text > 1)
		return SCEP_E_MALFORMED;
	rq->rep.failtext = has_text ? rq->failtext : NULL;
	rq->rep.transid = (const char *)get_blob(c, SCEP_MAX_TRANSID,
	    &rq->rep.transid_len);
	rq->rep.recipient_nonce = get_blob(c, SCEP_MAX_NONCE,
	    &rq->rep.recipient_nonce_len);
	p = get_blob(c, SCEP_NONCE_LEN, &n);
	if (c->err != SCEP_OK)
		return c->err;
	if (n != SCEP_NONCE_LEN)
		return SCEP_E_MALFORMED;
	memcpy(rq->rep.sender_nonce, p, n);
	rq->rep.md_nid = get_i32(c);
	rq->rep.cipher_nid = get_i32(c);
	p = get_blob(c, KP_MAX_RECIPIENT_DER, &n);
	if (c->err != SCEP_OK)
		return c->err;
	if (n > 0 && (r = der_recipient(p, n, &rq->recipient)) != SCEP_OK)
		return r;
	rq->rep.recipient = rq->recipient;
	rq->rep.payload = get_blob(c, KP_MAX_PAYLOAD, &rq->rep.payload_len);
	if (rq->rep.payload_len == 0)
		rq->rep.payload = NULL;
	rq->rep.now = (time_t)get_i64(c);
	next = get_u32(c);
	if (c->err != SCEP_OK)
		return c->err;
	if (next > KP_MAX_EXTRA)
		return SCEP_E_TOOBIG;
	if (next > 0 && (r = dec_certs(c, next, &rq->certs)) != SCEP_OK)
		return r;
	return cur_end(c);
}

static int
dec_nextca(struct cur *c, struct kp_req *rq)
{
	uint32_t	 n;
	int		 r;

	rq->ra_id = get_i64(c);
	rq->ca_id = get_i64(c);
	rq->now = (time_t)get_i64(c);
	n = get_u32(c);
	if (c->err != SCEP_OK)
		return c->err;
	if (n == 0 || n > KP_MAX_NEXT)
		return n == 0 ? SCEP_E_MALFORMED : SCEP_E_TOOBIG;
	if ((r = dec_certs(c, n, &rq->certs)) != SCEP_OK)
		return r;
	return cur_end(c);
}

static int
dec_crl(struct cur *c, struct kp_req *rq)
{
	uint32_t	 n, i;

	rq->ca_id = get_i64(c);
	rq->crl_number = get_i64(c);
	rq->this_update = (time_t)get_i64(c);
	rq->next_update = (time_t)get_i64(c);
	n = get_u32(c);
	if (c->err != SCEP_OK)
		return c->err;
	if (n > KP_MAX_CRL_ENTRIES)
		return SCEP_E_TOOBIG;
	/* Each entry takes at least 16 bytes: a count that the remaining
	 * bytes cannot hold is a lie, and costs no allocation. */
	if ((size_t)n > c->left / 16)
		return SCEP_E_MALFORMED;
	if (n > 0) {
		if ((rq->entries = calloc(n, sizeof(*rq->entries))) == NULL ||
		    (rq->serials = calloc(n, sizeof(*rq->serials))) == NULL)
			return SCEP_E_NOMEM;
	}
	for (i = 0; i < n && c->err == SCEP_OK; i++) {
		get_str(c, rq->serials[i], sizeof(rq->serials[i]));
		rq->entries[i].serial_hex = rq->serials[i];
		rq->entries[i].revoked_at = (time_t)get_i64(c);
		rq->entries[i].reason = get_i32(c);
	}
	rq->nentries = n;
	return cur_end(c);
}

static int
dec_make_ra(struct cur *c, struct kp_req *rq)
{
	const uint8_t	*p = NULL;
	size_t		 n = 0;
	int		 r;

	rq->ca_id = get_i64(c);
	p = get_blob(c, KP_MAX_SPKI_DER, &n);
	if (c->err != SCEP_OK)
		return c->err;
	if ((r = der_pubkey(p, n, &rq->pubkey)) != SCEP_OK)
		return r;
	get_str(c, rq->dn, sizeof(rq->dn));
	rq->usage = get_u32(c);
	rq->days = get_u32(c);
	rq->now = (time_t)get_i64(c);
	if ((r = cur_end(c)) != SCEP_OK)
		return r;
	/* Ints for ca_make_ra, which checks the ranges. */
	if (rq->usage > INT32_MAX || rq->days > INT32_MAX)
		return SCEP_E_MALFORMED;
	return SCEP_OK;
}

int
kp_req_decode(uint32_t op, const uint8_t *body, size_t len,
    struct kp_req *rq)
{
	struct cur	 c;
	int		 r;

	memset(rq, 0, sizeof(*rq));
	rq->op = op;
	if (len > kp_req_max(op))
		return SCEP_E_TOOBIG;
	if (body == NULL && len > 0)
		return SCEP_E_INTERNAL;
	c.p = body;
	c.left = len;
	c.err = SCEP_OK;
	switch (op) {
	case KP_LOAD_CA:
	case KP_LOAD_RA:
		r = dec_load(&c, rq);
		break;
	case KP_DECRYPT:
		r = dec_decrypt(&c, rq);
		break;
	case KP_ISSUE:
		r = dec_issue(&c, rq);
		break;
	case KP_SIGN_CERTREP:
		r = dec_certrep(&c, rq);
		break;
	case KP_SIGN_NEXTCA:
		r = dec_nextca(&c, rq);
		break;
	case KP_SIGN_CRL:
		r = dec_crl(&c, rq);
		break;
	case KP_MAKE_RA:
		r = dec_make_ra(&c, rq);
		break;
	case KP_ISSUE_REPLY:
		r = dec_issue_reply(&c, rq);
		break;
	default:
		r = SCEP_E_MALFORMED;
		break;
	}
	if (r != SCEP_OK) {
		kp_req_clear(rq);
		rq->op = op;
	}
	return r;
}

/* ---- reply decoders (scepd side) ----------------------------------- */

/* The status of a reply; SCEP_E_MALFORMED for a broken one.  A status
 * must be SCEP_OK or one of our negative codes. */
int
kp_rep_status(const uint8_t *body, size_t len)
{
	struct cur	 c;
	int32_t		 st;

	c.p = body;
	c.left = len;
	c.err = SCEP_OK;
	st = get_i32(&c);
	if (c.err != SCEP_OK || st > 0 || st <= SCEP_E__MIN)
		return SCEP_E_MALFORMED;
	if (st != SCEP_OK && c.left != 0)
		return SCEP_E_MALFORMED;
	return st;
}

/* Copy a blob out of the cursor into OPENSSL_malloc'ed memory (callers
 * free SCEP outputs with OPENSSL_free). */
static int
blob_dup(struct cur *c, size_t max, uint8_t **out, size_t *out_len)
{
	const uint8_t	*p = NULL;
	size_t		 n = 0;

	*out = NULL;
	*out_len = 0;
	p = get_blob(c, max, &n);
	if (c->err != SCEP_OK)
		return c->err;
	if (n == 0)
		return SCEP_E_MALFORMED;
	if ((*out = OPENSSL_malloc(n)) == NULL)
		return SCEP_E_NOMEM;
	memcpy(*out, p, n);
	*out_len = n;
	return SCEP_OK;
}

int
kp_dec_rep_blob(const uint8_t *body, size_t len, size_t max, uint8_t **out,
    size_t *out_len)
{
	struct cur	 c;
	int		 r;

	*out = NULL;
	*out_len = 0;
	if ((r = kp_rep_status(body, len)) != SCEP_OK)
		return r;
	c.p = body + 4;
	c.left = len - 4;
	c.err = SCEP_OK;
	if ((r = blob_dup(&c, max, out, out_len)) == SCEP_OK &&
	    (r = cur_end(&c)) != SCEP_OK) {
		OPENSSL_free(*out);
		*out = NULL;
		*out_len = 0;
	}
	return r == SCEP_E_TRAILING || r == SCEP_E_TOOBIG ?
	    SCEP_E_MALFORMED : r;
}

int
kp_dec_rep_decrypt(const uint8_t *body, size_t len, uint8_t **out,
    size_t *out_len, int *cipher_nid)
{
	struct cur	 c;
	int32_t		 nid;
	int		 r;

	*out = NULL;
	*out_len = 0;
	if ((r = kp_rep_status(body, len)) != SCEP_OK)
		return r;
	c.p = body + 4;
	c.left = len - 4;
	c.err = SCEP_OK;
	if ((r = blob_dup(&c, SCEP_MAX_MSG_DER, out, out_len)) != SCEP_OK)
		return r == SCEP_E_NOMEM ? r : SCEP_E_MALFORMED;
	nid = get_i32(&c);
	if (cur_end(&c) != SCEP_OK || nid < 0) {
		OPENSSL_cleanse(*out, *out_len);
		OPENSSL_free(*out);
		*out = NULL;
		*out_len = 0;
		return SCEP_E_MALFORMED;
	}
	if (cipher_nid != NULL)
		*cipher_nid = nid;
	return SCEP_OK;
}

int
kp_dec_rep_issue(const uint8_t *body, size_t len, X509 **out,
    uint8_t serial[ISSUE_SERIAL_LEN])
{
	struct cur		 c;
	const uint8_t		*der = NULL, *sn = NULL;
	size_t			 dlen = 0, slen = 0;
	const ASN1_INTEGER	*ai = NULL;
	X509			*x = NULL;
	int			 r;

	*out = NULL;
	if ((r = kp_rep_status(body, len)) != SCEP_OK)
		return r;
	c.p = body + 4;
	c.left = len - 4;
	c.err = SCEP_OK;
	der = get_blob(&c, KP_MAX_ISSUED_DER, &dlen);
	sn = get_blob(&c, ISSUE_SERIAL_LEN, &slen);
	if (cur_end(&c) != SCEP_OK || slen != ISSUE_SERIAL_LEN)
		return SCEP_E_MALFORMED;
	if ((r = der_x509(der, dlen, &x)) != SCEP_OK)
		return SCEP_E_MALFORMED;
	/* The serial reported must be the one in the certificate. */
	ai = X509_get0_serialNumber(x);		/* get0 */
	if (ASN1_STRING_length(ai) != ISSUE_SERIAL_LEN ||
	    memcmp(ASN1_STRING_get0_data(ai), sn, ISSUE_SERIAL_LEN) != 0) {
		X509_free(x);
		return SCEP_E_MALFORMED;
	}
	if (serial != NULL)
		memcpy(serial, sn, ISSUE_SERIAL_LEN);
	*out = x;
	return SCEP_OK;
}

int
kp_dec_rep_issue_reply(const uint8_t *body, size_t len,
    struct issued_reply *out)
{
	struct cur	 c;
	const uint8_t	*sn = NULL;
	size_t		 slen = 0;
	int64_t		 nb, na;
	int		 r;

	memset(out, 0, sizeof(*out));
	if ((r = kp_rep_status(body, len)) != SCEP_OK)
		return r;
	c.p = body + 4;
	c.left = len - 4;
	c.err = SCEP_OK;
	if ((r = blob_dup(&c, KP_MAX_ISSUED_DER, &out->cert,
	    &out->cert_len)) != SCEP_OK)
		goto out;
	sn = get_blob(&c, ISSUE_SERIAL_LEN, &slen);
	nb = get_i64(&c);
	na = get_i64(&c);
	if ((r = c.err) != SCEP_OK)
		goto out;
	r = SCEP_E_MALFORMED;
	/* A serial as keyops draws it (keyops.h), a validity it allows. */
	if (slen != ISSUE_SERIAL_LEN || sn[0] == 0 || (sn[0] & 0x80) != 0 ||
	    nb < 0 || na <= nb)
		goto out;
	memcpy(out->serial, sn, ISSUE_SERIAL_LEN);
	out->not_before = (time_t)nb;
	out->not_after = (time_t)na;
	if ((r = blob_dup(&c, KP_MAX_SIGNED, &out->reply,
	    &out->reply_len)) != SCEP_OK)
		goto out;
	r = cur_end(&c);
 out:
	if (r != SCEP_OK)
		issued_reply_clear(out);
	return r == SCEP_OK || r == SCEP_E_NOMEM ? r : SCEP_E_MALFORMED;
}

int
kp_dec_rep_crl(const uint8_t *body, size_t len, X509_CRL **out)
{
	struct cur	 c;
	const uint8_t	*der = NULL;
	size_t		 dlen = 0;
	int		 r;

	*out = NULL;
	if ((r = kp_rep_status(body, len)) != SCEP_OK)
		return r;
	c.p = body + 4;
	c.left = len - 4;
	c.err = SCEP_OK;
	der = get_blob(&c, KP_MAX_CRL_DER, &dlen);
	if (cur_end(&c) != SCEP_OK)
		return SCEP_E_MALFORMED;
	return der_crl(der, dlen, out) == SCEP_OK ? SCEP_OK :
	    SCEP_E_MALFORMED;
}

int
kp_dec_rep_cert(const uint8_t *body, size_t len, X509 **out)
{
	struct cur	 c;
	const uint8_t	*der = NULL;
	size_t		 dlen = 0;
	int		 r;

	*out = NULL;
	if ((r = kp_rep_status(body, len)) != SCEP_OK)
		return r;
	c.p = body + 4;
	c.left = len - 4;
	c.err = SCEP_OK;
	der = get_blob(&c, KP_MAX_CERT_DER, &dlen);
	if (cur_end(&c) != SCEP_OK)
		return SCEP_E_MALFORMED;
	return der_x509(der, dlen, out) == SCEP_OK ? SCEP_OK :
	    SCEP_E_MALFORMED;
}

/* ---- framed I/O ---------------------------------------------------- */

/* Milliseconds left until "deadline" (CLOCK_MONOTONIC), at least 0. */
static int
ms_left(const struct timespec *deadline)
{
	struct timespec	 now;
	long long	 ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms;
}

/* Read exactly n bytes.  SCEP_OK, KP_IO_EOF (nothing read at all and
 * "eof_ok"), KP_IO_TIMEOUT or SCEP_E_IO. */
static int
read_full(int fd, uint8_t *p, size_t n, const struct timespec *deadline,
    int eof_ok)
{
	struct pollfd	 pfd;
	size_t		 got = 0;
	ssize_t		 k;
	int		 pr;

	while (got < n) {
		if (deadline != NULL) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			pr = poll(&pfd, 1, ms_left(deadline));
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr < 0)
				return SCEP_E_IO;
			if (pr == 0)
				return KP_IO_TIMEOUT;
		}
		k = read(fd, p + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return SCEP_E_IO;
		if (k == 0)
			return got == 0 && eof_ok ? KP_IO_EOF : SCEP_E_IO;
		got += (size_t)k;
	}
	return SCEP_OK;
}

int
kp_msg_read(int fd, size_t (*max)(uint32_t), int timeout_ms, uint32_t *op,
    uint8_t **body, size_t *len)
{
	struct timespec	 deadline, *dl = NULL;
	uint8_t		 h[KP_HDR_LEN];
	uint8_t		*buf = NULL;
	uint32_t	 o, n;
	size_t		 m;
	int		 r;

	*op = 0;
	*body = NULL;
	*len = 0;
	if (timeout_ms >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += timeout_ms / 1000;
		deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		dl = &deadline;
	}
	if ((r = read_full(fd, h, sizeof(h), dl, 1)) != SCEP_OK)
		return r;
	o = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | (uint32_t)h[3];
	n = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 |
	    (uint32_t)h[6] << 8 | (uint32_t)h[7];
	/* STYLE H8: check op and length before reading a byte more. */
	if ((m = max(o)) == 0 || n > m)
		return KP_IO_LIE;
	if (n > 0) {
		if ((buf = malloc(n)) == NULL)
			return SCEP_E_NOMEM;
		if ((r = read_full(fd, buf, n, dl, 0)) != SCEP_OK) {
			free(buf);
			return r;
		}
	}
	*op = o;
	*body = buf;
	*len = n;
	return SCEP_OK;
}

/* Write everything; MSG_NOSIGNAL: a dead peer is an error, not SIGPIPE. */
static int
write_full(int fd, const uint8_t *p, size_t n)
{
	ssize_t	 k;

	while (n > 0) {
		k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return SCEP_E_IO;
		p += k;
		n -= (size_t)k;
	}
	return SCEP_OK;
}

int
kp_msg_write(int fd, uint32_t op, const uint8_t *body, size_t len)
{
	uint8_t	 h[KP_HDR_LEN];
	int	 r;

	if (len > UINT32_MAX || (len > 0 && body == NULL))
		return SCEP_E_INTERNAL;
	h[0] = (uint8_t)(op >> 24);
	h[1] = (uint8_t)(op >> 16);
	h[2] = (uint8_t)(op >> 8);
	h[3] = (uint8_t)op;
	h[4] = (uint8_t)(len >> 24);
	h[5] = (uint8_t)(len >> 16);
	h[6] = (uint8_t)(len >> 8);
	h[7] = (uint8_t)len;
	if ((r = write_full(fd, h, sizeof(h))) != SCEP_OK)
		return r;
	return len > 0 ? write_full(fd, body, len) : SCEP_OK;
}
