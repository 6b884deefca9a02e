/*
 * test_keyproc.c -- the isolated key processes (src/keyproc, issue 8):
 *
 *  1. every keyops.h operation through keyops_new_isolated(), checked the
 *     way a client would check it (signatures verify, the envelope opens
 *     to the bytes sealed, the serial is the key side's choice);
 *  2. the key file rule: only files directly below DATA_DIR/keys/;
 *  3. workers that die (SIGKILL) are replaced and catch up with the loaded
 *     identities, so the next requests succeed;
 *  4. a worker given a header with an unknown op, or a length over the
 *     op's maximum, drops the connection without answering (STYLE H8); a
 *     body that does not decode gets an error reply and the worker lives;
 *  5. after sandboxing, a worker cannot open /etc/passwd, cannot create a
 *     socket, cannot open a key file for writing, is not dumpable, and is
 *     killed by exec;
 *  6. keyops_new_isolated() refuses to fork from a threaded process.
 *
 * With an argument, also writes one valid encoded request per op into
 * that directory (the seeds of fuzz/corpus/kpwire).
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_gen.h"
#include "keyops.h"
#include "keyproc.h"
#include "scep.h"
#include "scep_err.h"
#include "tap.h"

static char	 tmpdir[256];
static char	 keysdir[300];
static time_t	 now;

static void
rm_tree(const char *dir)
{
	char		 p[600];
	DIR		*d = NULL;
	struct dirent	*de = NULL;
	struct stat	 st;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static int
der_of(X509 *x, uint8_t **der, size_t *len)
{
	unsigned char	*p = NULL;
	int		 n;

	*der = NULL;
	if ((n = i2d_X509(x, &p)) <= 0)
		return -1;
	*der = p;
	*len = (size_t)n;
	return 0;
}

/* Load CA 1 (key keys/ca-1.key) and RA 10 into "ko". */
static int
load_ids(struct keyops *ko, X509 *ca, X509 *ra)
{
	char	 p[512];
	uint8_t	*der = NULL;
	size_t	 len = 0;
	int	 r;

	snprintf(p, sizeof(p), "%s/ca-1.key", keysdir);
	if (der_of(ca, &der, &len) != 0)
		return SCEP_E_INTERNAL;
	r = keyops_load_ca(ko, 1, p, der, len);
	OPENSSL_free(der);
	if (r != SCEP_OK)
		return r;
	snprintf(p, sizeof(p), "%s/ra-10.key", keysdir);
	if (der_of(ra, &der, &len) != 0)
		return SCEP_E_INTERNAL;
	r = keyops_load_ra(ko, 10, 1, p, der, len);
	OPENSSL_free(der);
	return r;
}

/* Issue one client certificate for "sub"; checks it against the CA. */
static int
issue_one(struct keyops *ko, EVP_PKEY *sub, EVP_PKEY *ca_key, X509 **out,
    uint8_t serial[ISSUE_SERIAL_LEN])
{
	struct issue_tmpl	 t;
	X509_NAME		*n = NULL;
	int			 r;

	*out = NULL;
	memset(&t, 0, sizeof(t));
	if (ca_dn_parse("/CN=isolated client/O=scepd", &n) != SCEP_OK)
		return SCEP_E_INTERNAL;
	t.kind = ISSUE_CLIENT;
	t.subject = n;
	t.pubkey = sub;
	t.not_before = now - 60;
	t.not_after = now + 30 * 86400;
	t.crl_url = "http://ca.example/crl/1.crl";
	r = keyops_issue(ko, 1, &t, out, serial);
	X509_NAME_free(n);
	if (r == SCEP_OK && X509_verify(*out, ca_key) != 1)
		r = SCEP_E_BADSIG;
	return r;
}

/* ---- 1. the operations -------------------------------------------- */

/*
 * keyops_issue_reply: issue and sign the SUCCESS in one operation (one
 * round trip when isolated).  The client side opens the reply with the
 * recipient's key ("ra" stands in for a requester with an RSA key).
 */
static void
test_issue_reply(struct keyops *ko, const char *what, EVP_PKEY *ca_key,
    X509 *ca, EVP_PKEY *ra_key, X509 *ra, EVP_PKEY *sub)
{
	struct issue_tmpl	 t;
	struct scep_reply	 rp;
	struct issued_reply	 ir;
	struct scep_keypair	 kp;
	struct scep_msg		*m = NULL;
	STACK_OF(X509)		*got = NULL;
	X509_NAME		*n = NULL;
	X509			*x = NULL;
	const unsigned char	*q = NULL;
	uint8_t			 nonce[SCEP_NONCE_LEN], *dec = NULL;
	size_t			 declen = 0;
	int			 cipher = 0, r;

	memset(&t, 0, sizeof(t));
	ca_dn_parse("/CN=issue reply/O=scepd", &n);
	t.kind = ISSUE_DEVICE;
	t.subject = n;
	t.pubkey = sub;
	t.not_before = now - 60;
	t.not_after = now + 30 * 86400;
	t.crl_url = "http://ca.example/crl/1.crl";
	memset(&rp, 0, sizeof(rp));
	RAND_bytes(nonce, sizeof(nonce));
	rp.status = SCEP_STATUS_SUCCESS;
	rp.transid = "issue-reply";
	rp.transid_len = 11;
	rp.recipient_nonce = nonce;
	rp.recipient_nonce_len = sizeof(nonce);
	RAND_bytes(rp.sender_nonce, sizeof(rp.sender_nonce));
	rp.md_nid = NID_sha256;
	rp.cipher_nid = NID_aes_256_cbc;
	rp.recipient = ra;
	rp.now = now;

	r = keyops_issue_reply(ko, 1, 10, &t, 1, &rp, &ir);
	tap_ok(r == SCEP_OK && ir.cert != NULL && ir.reply != NULL,
	    "%s: issue_reply (r=%d)", what, r);
	q = ir.cert;
	if (r == SCEP_OK)
		x = d2i_X509(NULL, &q, (long)ir.cert_len);
	tap_ok(x != NULL && X509_verify(x, ca_key) == 1 &&
	    ASN1_STRING_length(X509_get0_serialNumber(x)) ==
	    ISSUE_SERIAL_LEN && memcmp(ASN1_STRING_get0_data(
	    X509_get0_serialNumber(x)), ir.serial, ISSUE_SERIAL_LEN) == 0 &&
	    ir.not_before == t.not_before && ir.not_after == t.not_after,
	    "%s: issue_reply: certificate signed by the CA, serial and "
	    "validity as returned", what);
	r = r != SCEP_OK ? r : scep_msg_decode(ir.reply, ir.reply_len,
	    SCEP_ALG_DEFAULT, &m);
	if (r == SCEP_OK && (m->signer == NULL || X509_cmp(m->signer, ra) != 0
	    || m->status != SCEP_STATUS_SUCCESS || m->content == NULL))
		r = SCEP_E_MALFORMED;
	if (r == SCEP_OK) {
		kp.key = ra_key;
		kp.cert = ra;
		r = scep_env_decrypt(m->content, m->content_len, &kp, 1,
		    SCEP_ALG_DEFAULT, &dec, &declen, &cipher);
	}
	if (r == SCEP_OK)
		r = scep_certs_only_decode(dec, declen, &got, NULL);
	tap_ok(r == SCEP_OK && cipher == NID_aes_256_cbc &&
	    sk_X509_num(got) == 2 && x != NULL &&
	    X509_cmp(sk_X509_value(got, 0), x) == 0 &&
	    X509_cmp(sk_X509_value(got, 1), ca) == 0,
	    "%s: issue_reply: CertRep by the RA opens to [certificate, CA] "
	    "(r=%d)", what, r);
	sk_X509_pop_free(got, X509_free);
	OPENSSL_free(dec);
	scep_msg_free(m);
	X509_free(x);
	issued_reply_clear(&ir);

	tap_ok(keyops_issue_reply(ko, 1, 77, &t, 1, &rp, &ir) ==
	    SCEP_E_NOTFOUND && ir.cert == NULL && ir.reply == NULL,
	    "%s: issue_reply: unknown RA refused", what);
	tap_ok(keyops_issue_reply(ko, 2, 10, &t, 1, &rp, &ir) ==
	    SCEP_E_NOTFOUND && ir.cert == NULL,
	    "%s: issue_reply: unknown CA refused", what);
	t.not_after = t.not_before + (time_t)(ISSUE_MAX_DAYS + 1) * 86400;
	tap_ok(keyops_issue_reply(ko, 1, 0, &t, 1, &rp, &ir) ==
	    SCEP_E_DENIED && ir.cert == NULL && ir.reply == NULL,
	    "%s: issue_reply: validity over ISSUE_MAX_DAYS refused on the "
	    "key side", what);
	X509_NAME_free(n);
	ERR_clear_error();
}

static void
test_ops(struct keyops *ko, const char *what, EVP_PKEY *ca_key, X509 *ca,
    EVP_PKEY *ra_key, X509 *ra, EVP_PKEY *sub)
{
	struct issue_tmpl	 t;
	struct scep_reply	 rp;
	struct crl_entry	 ents[2];
	STACK_OF(X509)		*next = NULL, *certs = NULL;
	X509_NAME		*n = NULL;
	X509			*x = NULL, *y = NULL;
	X509_CRL		*crl = NULL;
	CMS_ContentInfo		*cms = NULL;
	BIO			*bio = NULL;
	const ASN1_INTEGER	*ai = NULL;
	uint8_t			 s1[ISSUE_SERIAL_LEN], s2[ISSUE_SERIAL_LEN];
	uint8_t			 msg[200], *env = NULL, *inner = NULL;
	uint8_t			*out = NULL, nonce[SCEP_NONCE_LEN];
	size_t			 envlen = 0, innerlen = 0, outlen = 0;
	size_t			 msglen = 0;
	int64_t			 ras[1] = { 10 };
	int			 cipher = 0, r;

	tap_ok(keyops_ca_cert(ko, 1) != NULL &&
	    X509_cmp(keyops_ca_cert(ko, 1), ca) == 0,
	    "%s: keyops_ca_cert is the loaded CA", what);
	tap_ok(keyops_ra_cert(ko, 10) != NULL && keyops_ra_cert(ko, 11) ==
	    NULL, "%s: keyops_ra_cert: loaded RA, NULL for another id", what);

	/* Issue: the key side draws the serial and returns it. */
	r = issue_one(ko, sub, ca_key, &x, s1);
	tap_ok(r == SCEP_OK, "%s: issue (r=%d)", what, r);
	if (x != NULL) {
		ai = X509_get0_serialNumber(x);		/* get0 */
		tap_ok(ASN1_STRING_length(ai) == ISSUE_SERIAL_LEN &&
		    memcmp(ASN1_STRING_get0_data(ai), s1,
		    ISSUE_SERIAL_LEN) == 0 && s1[0] >= 1 && s1[0] <= 0x7f,
		    "%s: serial returned = serial in the certificate, "
		    "16 bytes, positive", what);
	}
	r = issue_one(ko, sub, ca_key, &y, s2);
	tap_ok(r == SCEP_OK && memcmp(s1, s2, sizeof(s1)) != 0,
	    "%s: a second issue draws another serial", what);
	X509_free(x);
	X509_free(y);
	x = y = NULL;

	/* The hard limits hold on the key side. */
	memset(&t, 0, sizeof(t));
	ca_dn_parse("/CN=too long", &n);
	t.kind = ISSUE_CLIENT;
	t.subject = n;
	t.pubkey = sub;
	t.not_before = now;
	t.not_after = now + (time_t)(ISSUE_MAX_DAYS + 1) * 86400;
	tap_ok(keyops_issue(ko, 1, &t, &x, NULL) == SCEP_E_DENIED && x == NULL,
	    "%s: validity over ISSUE_MAX_DAYS refused", what);
	t.not_after = now + 86400;
	t.kind = 99;
	tap_ok(keyops_issue(ko, 1, &t, &x, NULL) == SCEP_E_DENIED,
	    "%s: unknown kind refused", what);
	t.kind = ISSUE_CLIENT;
	t.server_auth = 1;
	tap_ok(keyops_issue(ko, 1, &t, &x, NULL) == SCEP_E_DENIED,
	    "%s: serverAuth on a client certificate refused", what);
	t.server_auth = 0;
	t.pubkey = ca_key;	/* fine as a subject key: RSA 2048 */
	tap_ok(keyops_issue(ko, 2, &t, &x, NULL) == SCEP_E_NOTFOUND,
	    "%s: unknown CA is SCEP_E_NOTFOUND", what);
	/* The subject key as a CSR carries it (struct issue_tmpl.spki). */
	{
		X509_PUBKEY *xp = NULL;

		X509_PUBKEY_set(&xp, sub);
		t.pubkey = sub;
		t.spki = xp;
		tap_ok(keyops_issue(ko, 1, &t, &x, NULL) == SCEP_OK &&
		    EVP_PKEY_eq(X509_get0_pubkey(x), sub) == 1,
		    "%s: issue with the SPKI given: the certificate holds "
		    "that key", what);
		X509_free(x);
		x = NULL;
		if (strcmp(what, "isolated") == 0) {
			t.pubkey = ca_key;
			tap_ok(keyops_issue(ko, 1, &t, &x, NULL) ==
			    SCEP_E_INTERNAL && x == NULL,
			    "%s: an SPKI that is not the template's key is "
			    "refused", what);
		}
		t.spki = NULL;
		X509_PUBKEY_free(xp);
	}
	X509_NAME_free(n);
	n = NULL;

	/* Decrypt an envelope sealed for the RA (the content must be one
	 * DER SEQUENCE: a Name will do). */
	{
		unsigned char *q = msg;

		msglen = (size_t)i2d_X509_NAME(X509_get_subject_name(ra), NULL);
		if (msglen > sizeof(msg))
			msglen = 0;
		else
			(void)i2d_X509_NAME(X509_get_subject_name(ra), &q);
	}
	r = scep_env_encrypt(msg, msglen, ra, NID_aes_128_cbc, &env,
	    &envlen);
	tap_ok(r == SCEP_OK, "%s: test envelope built", what);
	r = keyops_decrypt(ko, ras, 1, 0, env, envlen, SCEP_ALG_DEFAULT,
	    &inner, &innerlen, &cipher);
	tap_ok(r == SCEP_OK && innerlen == msglen &&
	    memcmp(inner, msg, msglen) == 0 && cipher == NID_aes_128_cbc,
	    "%s: decrypt returns the sealed bytes and the cipher (r=%d)",
	    what, r);
	OPENSSL_free(inner);
	inner = NULL;
	r = keyops_decrypt(ko, NULL, 0, 1, env, envlen, SCEP_ALG_DEFAULT,
	    &inner, &innerlen, &cipher);
	tap_ok(r == SCEP_E_DECRYPT && inner == NULL,
	    "%s: the CA key does not open the RA's envelope", what);
	r = keyops_decrypt(ko, ras, 1, 0, env, envlen / 2, SCEP_ALG_DEFAULT,
	    &inner, &innerlen, &cipher);
	tap_ok(r != SCEP_OK && inner == NULL,
	    "%s: a truncated envelope is an error, not a crash", what);
	OPENSSL_free(env);
	env = NULL;

	/* RA rollover: a key made now, certified by the CA inside keyops,
	 * then loaded from keys/ -- where it did not exist when the key
	 * processes sandboxed themselves. */
	{
		EVP_PKEY	*nk = NULL;
		X509		*nra = NULL;
		char		 p[600];
		uint8_t		*der = NULL;
		size_t		 len = 0;
		int64_t		 nid[1] = { 12 };

		ca_key_generate("rsa2048", &nk);
		r = keyops_make_ra(ko, 1, nk, "/CN=rollover RA/O=scepd",
		    CA_RA_SIGN_ENCRYPT, 30, now, &nra);
		tap_ok(r == SCEP_OK && nra != NULL && X509_verify(nra,
		    ca_key) == 1 && (X509_get_extension_flags(nra) &
		    EXFLAG_CA) == 0 && EVP_PKEY_eq(X509_get0_pubkey(nra),
		    nk) == 1, "%s: keyops_make_ra certifies a new RA key "
		    "(CA:FALSE, verifies) (r=%d)", what, r);
		snprintf(p, sizeof(p), "%s/ra-%s-%ld.key", keysdir, what,
		    (long)getpid());
		if (nra != NULL && ca_key_write(p, nk) == SCEP_OK &&
		    der_of(nra, &der, &len) == 0) {
			r = keyops_load_ra(ko, 12, 1, p, der, len);
			tap_ok(r == SCEP_OK && keyops_ra_cert(ko, 12) != NULL,
			    "%s: the new RA key file loads (r=%d)", what, r);
			OPENSSL_free(der);
			der = NULL;
			RAND_bytes(msg, 1);
			msg[0] = 0x30;	/* a SEQUENCE again */
			if (scep_env_encrypt(msg, msglen, nra, NID_aes_256_cbc,
			    &env, &envlen) == SCEP_OK) {
				r = keyops_decrypt(ko, nid, 1, 0, env, envlen,
				    SCEP_ALG_DEFAULT, &inner, &innerlen,
				    &cipher);
				tap_ok(r == SCEP_OK && innerlen == msglen,
				    "%s: the new RA decrypts (r=%d)", what, r);
				OPENSSL_free(inner);
				inner = NULL;
				OPENSSL_free(env);
				env = NULL;
			}
		} else
			tap_ok(0, "%s: write the new RA key", what);
		X509_free(nra);
		nra = NULL;
		tap_ok(keyops_make_ra(ko, 1, nk, "/CN=x", 9, 30, now, &nra) !=
		    SCEP_OK && nra == NULL, "%s: keyops_make_ra: unknown usage "
		    "refused", what);
		tap_ok(keyops_make_ra(ko, 1, nk, "/CN=x", CA_RA_SIGN, 0, now,
		    &nra) != SCEP_OK, "%s: keyops_make_ra: 0 days refused",
		    what);
		tap_ok(keyops_make_ra(ko, 1, nk, "not a DN", CA_RA_SIGN, 30,
		    now, &nra) != SCEP_OK, "%s: keyops_make_ra: bad subject "
		    "refused", what);
		tap_ok(keyops_make_ra(ko, 3, nk, "/CN=x", CA_RA_SIGN, 30, now,
		    &nra) == SCEP_E_NOTFOUND, "%s: keyops_make_ra: unknown CA",
		    what);
		EVP_PKEY_free(nk);
		ERR_clear_error();
	}

	/* Sign a FAILURE CertRep with the RA. */
	memset(&rp, 0, sizeof(rp));
	RAND_bytes(nonce, sizeof(nonce));
	rp.status = SCEP_STATUS_FAILURE;
	rp.failinfo = SCEP_FAIL_BADREQUEST;
	rp.failtext = "test";
	rp.transid = "isolation-test-1";
	rp.transid_len = strlen(rp.transid);
	rp.recipient_nonce = nonce;
	rp.recipient_nonce_len = sizeof(nonce);
	RAND_bytes(rp.sender_nonce, sizeof(rp.sender_nonce));
	rp.md_nid = NID_sha256;
	rp.cipher_nid = NID_aes_128_cbc;
	rp.now = now;
	r = keyops_sign_certrep(ko, 10, 1, &rp, NULL, &out, &outlen);
	tap_ok(r == SCEP_OK && outlen > 0, "%s: sign CertRep (r=%d)", what, r);
	if (r == SCEP_OK) {
		const unsigned char *p = out;

		cms = d2i_CMS_ContentInfo(NULL, &p, (long)outlen);
		certs = sk_X509_new_null();
		sk_X509_push(certs, ra);
		tap_ok(cms != NULL && CMS_verify(cms, certs, NULL, NULL, NULL,
		    CMS_NO_SIGNER_CERT_VERIFY | CMS_NOINTERN) == 1,
		    "%s: the CertRep verifies with the RA certificate", what);
		sk_X509_free(certs);
		certs = NULL;
		CMS_ContentInfo_free(cms);
		cms = NULL;
	}
	OPENSSL_free(out);
	out = NULL;
	tap_ok(keyops_sign_certrep(ko, 10, 2, &rp, NULL, &out, &outlen) ==
	    SCEP_E_CONFIG, "%s: an RA of another CA is SCEP_E_CONFIG", what);

	/* GetNextCACert reply. */
	next = sk_X509_new_null();
	sk_X509_push(next, ra);
	sk_X509_push(next, ca);
	r = keyops_sign_nextca(ko, 10, 1, next, now, &out, &outlen);
	tap_ok(r == SCEP_OK && outlen > 0, "%s: sign GetNextCACert (r=%d)",
	    what, r);
	if (r == SCEP_OK) {
		const unsigned char *p = out;

		cms = d2i_CMS_ContentInfo(NULL, &p, (long)outlen);
		certs = sk_X509_new_null();
		sk_X509_push(certs, ra);
		bio = BIO_new(BIO_s_mem());
		tap_ok(cms != NULL && CMS_verify(cms, certs, NULL, NULL, bio,
		    CMS_NO_SIGNER_CERT_VERIFY | CMS_NOINTERN) == 1,
		    "%s: the GetNextCACert reply verifies", what);
		BIO_free(bio);
		sk_X509_free(certs);
		certs = NULL;
		CMS_ContentInfo_free(cms);
		cms = NULL;
	}
	OPENSSL_free(out);
	out = NULL;
	sk_X509_free(next);

	/* A CRL. */
	memset(ents, 0, sizeof(ents));
	ents[0].serial_hex = "1A2B3C";
	ents[0].revoked_at = now - 100;
	ents[0].reason = 1;
	ents[1].serial_hex = "7F00FF";
	ents[1].revoked_at = now - 50;
	ents[1].reason = -1;
	r = keyops_sign_crl(ko, 1, ents, 2, 42, now, now + 86400, &crl);
	tap_ok(r == SCEP_OK && crl != NULL && X509_CRL_verify(crl, ca_key) ==
	    1 && sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) == 2,
	    "%s: sign CRL, 2 entries, verifies (r=%d)", what, r);
	X509_CRL_free(crl);
	crl = NULL;
	ents[1].serial_hex = "1A2B3C";
	tap_ok(keyops_sign_crl(ko, 1, ents, 2, 43, now, now + 86400, &crl) ==
	    SCEP_E_MALFORMED && crl == NULL,
	    "%s: CRL with a duplicate serial refused", what);
	(void)ra_key;
	ERR_clear_error();
}

/* ---- 2. the key file rule ----------------------------------------- */

static void
test_paths(struct keyops *ko, EVP_PKEY *ca_key, X509 *ca)
{
	char	 p[600];
	uint8_t	*der = NULL;
	size_t	 len = 0;

	der_of(ca, &der, &len);
	/* The same key, but next to keys/, not in it. */
	snprintf(p, sizeof(p), "%s/outside.key", tmpdir);
	ca_key_write(p, ca_key);
	tap_ok(keyops_load_ca(ko, 5, p, der, len) == SCEP_E_CONFIG &&
	    keyops_ca_cert(ko, 5) == NULL,
	    "isolated: a key file outside keys/ is refused");
	snprintf(p, sizeof(p), "%s/../outside.key", keysdir);
	tap_ok(keyops_load_ca(ko, 5, p, der, len) == SCEP_E_CONFIG,
	    "isolated: keys/../outside.key is refused");
	/* A symlink in keys/ to a good key outside. */
	snprintf(p, sizeof(p), "%s/link.key", keysdir);
	{
		char target[600];

		snprintf(target, sizeof(target), "%s/outside.key", tmpdir);
		(void)!symlink(target, p);
	}
	tap_ok(keyops_load_ca(ko, 5, p, der, len) == SCEP_E_CONFIG,
	    "isolated: a symlink in keys/ is refused (O_NOFOLLOW)");
	snprintf(p, sizeof(p), "%s/missing.key", keysdir);
	tap_ok(keyops_load_ca(ko, 5, p, der, len) == SCEP_E_IO,
	    "isolated: a missing key file is SCEP_E_IO");
	snprintf(p, sizeof(p), "%s/ca-1.key", keysdir);
	chmod(p, 0640);
	tap_ok(keyops_load_ca(ko, 5, p, der, len) == SCEP_E_CONFIG,
	    "isolated: a group-readable key file is refused");
	chmod(p, 0600);
	tap_ok(keyops_load_ca(ko, 5, p, der, len / 2) != SCEP_OK,
	    "isolated: a truncated certificate is refused");
	tap_ok(keyops_load_ca(ko, 5, p, der, len) == SCEP_OK &&
	    keyops_ca_cert(ko, 5) != NULL,
	    "isolated: the same key under another id loads from keys/");
	OPENSSL_free(der);
	ERR_clear_error();
}

/* ---- 3. dead workers ---------------------------------------------- */

/* pids of processes whose parent is "ppid" (from /proc). */
static size_t
children_of(pid_t ppid, pid_t *out, size_t max)
{
	DIR		*d = NULL;
	struct dirent	*de = NULL;
	char		 p[300], buf[512], *c = NULL;
	size_t		 n = 0;
	FILE		*f = NULL;
	long		 pp;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/stat", de->d_name);
		if ((f = fopen(p, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (c = strrchr(buf, ')')) != NULL &&
		    sscanf(c + 2, "%*c %ld", &pp) == 1 && pp == (long)ppid)
			out[n++] = (pid_t)strtol(de->d_name, NULL, 10);
		fclose(f);
	}
	closedir(d);
	return n;
}

/* Issuers for test_restart: several threads, so both slots get used. */
struct restart_arg {
	struct keyops	*ko;
	EVP_PKEY	*sub;
	EVP_PKEY	*ca_key;
	int		 ok;
};

static void *
restart_thread(void *p)
{
	struct restart_arg	*a = p;
	X509			*x = NULL;
	int			 i;

	a->ok = 1;
	for (i = 0; i < 5; i++) {
		if (issue_one(a->ko, a->sub, a->ca_key, &x, NULL) != SCEP_OK)
			a->ok = 0;
		X509_free(x);
		x = NULL;
	}
	return NULL;
}

static void
test_restart(struct keyops *ko, EVP_PKEY *sub, EVP_PKEY *ca_key)
{
	struct restart_arg	 args[4];
	pthread_t		 th[4];
	pid_t			 master[4], workers[KP_MAX_WORKERS];
	pid_t			 after[KP_MAX_WORKERS];
	size_t			 nm, nw, na, i, j, stale = 0;
	int			 ok = 1;

	nm = children_of(getpid(), master, 4);
	tap_ok(nm == 1, "one key master is our child (%zu)", nm);
	if (nm != 1)
		return;
	nw = children_of(master[0], workers, KP_MAX_WORKERS);
	tap_ok(nw == 2, "the master runs the 2 workers asked for (%zu)", nw);
	for (i = 0; i < nw; i++)
		kill(workers[i], SIGKILL);
	usleep(100000);
	for (i = 0; i < 4; i++) {
		args[i].ko = ko;
		args[i].sub = sub;
		args[i].ca_key = ca_key;
		args[i].ok = 0;
		pthread_create(&th[i], NULL, restart_thread, &args[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ok = ok && args[i].ok;
	}
	tap_ok(ok, "after SIGKILL of every worker, 4 threads x 5 issues all "
	    "succeed (new workers, identities replayed)");
	/* The dead are reaped (no zombie left) and new ones run. */
	na = children_of(master[0], after, KP_MAX_WORKERS);
	for (i = 0; i < na; i++)
		for (j = 0; j < nw; j++)
			if (after[i] == workers[j])
				stale++;
	tap_ok(na >= 1 && na <= 2 && stale == 0, "the killed workers were "
	    "reaped and replaced (%zu running, %zu stale)", na, stale);
}

/* ---- 4. lying headers --------------------------------------------- */

/* A worker of our own in a fork, on sv[1]; returns its pid. */
static pid_t
raw_worker(int sv[2], int dirfd)
{
	pid_t	 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		close(sv[0]);
		if (kp_sandbox_fs(dirfd) < -1 || kp_sandbox_proc() != 0)
			_exit(5);
		kp_worker_run(sv[1], dirfd);
	}
	close(sv[1]);
	return pid;
}

static int
exit_status(pid_t pid)
{
	int	 st = 0;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st))
		return 1000 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* Send raw bytes; then "1" if the worker answered, 0 on EOF. */
static int
raw_exchange(int fd, const uint8_t *m, size_t len)
{
	uint8_t	 buf[64];
	ssize_t	 n;

	if (write(fd, m, len) != (ssize_t)len)
		return -1;
	n = read(fd, buf, sizeof(buf));
	return n > 0 ? 1 : n == 0 ? 0 : -1;
}

static void
test_lies(int dirfd)
{
	static const uint8_t unknown_op[] = { 0, 0, 0x03, 0xe7, 0, 0, 0, 0 };
	static const uint8_t ctl_op[] = { 0x53, 0x50, 0x4e, 0x57, 0, 0, 0, 0 };
	uint8_t		 huge[8] = { 0, 0, 0, KP_DECRYPT, 0xff, 0xff, 0xff, 0xf0 };
	uint8_t		 over[8], bad[8 + 4] = { 0, 0, 0, KP_ISSUE, 0, 0, 0, 4,
			    1, 2, 3, 4 };
	uint8_t		*body = NULL;
	size_t		 max = kp_req_max(KP_LOAD_CA) + 1, len = 0;
	uint32_t	 op = 0;
	int		 sv[2], r;
	pid_t		 pid;

	pid = raw_worker(sv, dirfd);
	r = raw_exchange(sv[0], huge, sizeof(huge));
	tap_ok(r == 0, "worker: length 0xfffffff0 for DECRYPT: no answer, "
	    "connection closed");
	close(sv[0]);
	tap_ok(exit_status(pid) == 3, "worker: exits with status 3 (lie)");

	pid = raw_worker(sv, dirfd);
	over[0] = over[1] = over[2] = 0;
	over[3] = KP_LOAD_CA;
	over[4] = (uint8_t)(max >> 24);
	over[5] = (uint8_t)(max >> 16);
	over[6] = (uint8_t)(max >> 8);
	over[7] = (uint8_t)max;
	r = raw_exchange(sv[0], over, sizeof(over));
	tap_ok(r == 0, "worker: LOAD_CA one byte over its maximum: dropped");
	close(sv[0]);
	tap_ok(exit_status(pid) == 3, "worker: exits with status 3 (lie)");

	pid = raw_worker(sv, dirfd);
	tap_ok(raw_exchange(sv[0], unknown_op, sizeof(unknown_op)) == 0,
	    "worker: unknown op 999: dropped");
	close(sv[0]);
	tap_ok(exit_status(pid) == 3, "worker: exits with status 3 (lie)");

	pid = raw_worker(sv, dirfd);
	tap_ok(raw_exchange(sv[0], ctl_op, sizeof(ctl_op)) == 0,
	    "worker: the master's control op is not a worker op: dropped");
	close(sv[0]);
	tap_ok(exit_status(pid) == 3, "worker: exits with status 3 (lie)");

	/* A well-framed body that does not decode: an error reply, and the
	 * worker keeps serving. */
	pid = raw_worker(sv, dirfd);
	r = (int)write(sv[0], bad, sizeof(bad));
	r = kp_msg_read(sv[0], kp_rep_max, 5000, &op, &body, &len);
	tap_ok(r == SCEP_OK && op == KP_ISSUE && kp_rep_status(body, len) ==
	    SCEP_E_MALFORMED, "worker: undecodable ISSUE body: "
	    "SCEP_E_MALFORMED reply");
	free(body);
	body = NULL;
	r = (int)write(sv[0], bad, sizeof(bad));
	r = kp_msg_read(sv[0], kp_rep_max, 5000, &op, &body, &len);
	tap_ok(r == SCEP_OK && kp_rep_status(body, len) == SCEP_E_MALFORMED,
	    "worker: ... and answers the next request too");
	free(body);
	/* A truncated message, then EOF: a clean exit, no reply. */
	r = (int)write(sv[0], bad, 6);
	close(sv[0]);
	tap_ok(exit_status(pid) == 4, "worker: EOF inside a header: exits 4");
	(void)r;
}

/*
 * ISSUE_REPLY request bodies that must not decode: every truncation,
 * one byte too many, an empty recipient, a body over the op's maximum.
 * "req" is a good body (its recipient's DER is "rl" bytes), left as it
 * was.
 */
static void
test_issue_reply_bounds(const struct kp_buf *req, size_t rl)
{
	struct kp_req	 rq;
	uint8_t		*b = NULL;
	size_t		 i, bad = 0, tail;
	int		 r;

	r = kp_req_decode(KP_ISSUE_REPLY, req->p, req->len, &rq);
	tap_ok(r == SCEP_OK && rq.recipient != NULL && rq.chain == 1 &&
	    rq.ra_id == 10 && rq.ca_id == 1 && rq.rep.status ==
	    SCEP_STATUS_SUCCESS && rq.rep.payload == NULL,
	    "ISSUE_REPLY request decodes (r=%d)", r);
	kp_req_clear(&rq);
	for (i = 0; i < req->len; i++) {
		if (kp_req_decode(KP_ISSUE_REPLY, req->p, i, &rq) == SCEP_OK)
			bad++;
		kp_req_clear(&rq);
	}
	tap_ok(bad == 0, "ISSUE_REPLY: none of the %zu truncations decodes",
	    req->len);
	if ((b = malloc(req->len + 1)) == NULL)
		return;
	memcpy(b, req->p, req->len);
	b[req->len] = 0;
	tap_ok(kp_req_decode(KP_ISSUE_REPLY, b, req->len + 1, &rq) ==
	    SCEP_E_TRAILING, "ISSUE_REPLY: one byte too many is "
	    "SCEP_E_TRAILING");
	kp_req_clear(&rq);
	tap_ok(kp_req_decode(KP_ISSUE_REPLY, b, kp_req_max(KP_ISSUE_REPLY) +
	    1, &rq) == SCEP_E_TOOBIG, "ISSUE_REPLY: a length over the op's "
	    "maximum is SCEP_E_TOOBIG before any byte is read");
	kp_req_clear(&rq);
	/* The body ends with the recipient blob (u32 rl, rl bytes of DER)
	 * and "now" (i64): empty the recipient, keep "now". */
	tail = 8;
	if (rl + 4 + tail <= req->len) {
		memcpy(b, req->p, req->len - tail - rl - 4);
		memset(b + req->len - tail - rl - 4, 0, 4);
		memcpy(b + req->len - tail - rl, req->p + req->len - tail,
		    tail);
		r = kp_req_decode(KP_ISSUE_REPLY, b, req->len - rl, &rq);
		tap_ok(r == SCEP_E_MALFORMED, "ISSUE_REPLY: an empty "
		    "recipient is SCEP_E_MALFORMED (r=%d)", r);
		kp_req_clear(&rq);
	}
	free(b);
}

/* Reply bodies of ISSUE_REPLY that scepd must refuse. */
static void
test_rep_issue_reply_bounds(const struct kp_buf *rep)
{
	struct issued_reply	 ir;
	size_t			 i, bad = 0;
	uint8_t			*b = NULL;

	for (i = 0; i < rep->len; i++) {
		if (kp_dec_rep_issue_reply(rep->p, i, &ir) == SCEP_OK)
			bad++;
		issued_reply_clear(&ir);
	}
	tap_ok(bad == 0, "ISSUE_REPLY reply: none of the %zu truncations "
	    "decodes", rep->len);
	if ((b = malloc(rep->len + 1)) == NULL)
		return;
	memcpy(b, rep->p, rep->len);
	b[rep->len] = 0;
	tap_ok(kp_dec_rep_issue_reply(b, rep->len + 1, &ir) ==
	    SCEP_E_MALFORMED && ir.cert == NULL && ir.reply == NULL,
	    "ISSUE_REPLY reply: a trailing byte is SCEP_E_MALFORMED, "
	    "nothing returned");
	free(b);
}

/*
 * The worker's dispatch in this process (no fork): every op encoded as
 * scepd encodes it, handled by kp_worker_handle(), the reply decoded as
 * scepd decodes it.  Under ASan/LSan this is where a leak in a decoder or
 * a handler shows.
 */
static void
test_handle(int dirfd, X509 *ca, X509 *ra, EVP_PKEY *sub)
{
	struct keyops		*ko = NULL;
	struct kp_buf		 req, rep;
	struct issue_tmpl	 t;
	struct scep_reply	 rp;
	struct crl_entry	 e;
	STACK_OF(X509)		*sk = NULL;
	X509_NAME		*n = NULL;
	X509			*x = NULL;
	X509_CRL		*crl = NULL;
	uint8_t			*der = NULL, *out = NULL, nonce[16];
	uint8_t			 sn[ISSUE_SERIAL_LEN], *env = NULL;
	size_t			 len = 0, outlen = 0, envlen = 0;
	int64_t			 ids[1] = { 10 };
	int			 nid = 0, r;

	if (keyops_new(&ko) != SCEP_OK)
		return;
#define HANDLE(op) do {							\
	r = kp_worker_handle(ko, dirfd, (op), req.p, req.len, &rep);	\
	kp_buf_clear(&req);						\
} while (0)
	der_of(ca, &der, &len);
	kp_buf_init(&req, kp_req_max(KP_LOAD_CA));
	kp_enc_load(&req, KP_LOAD_CA, 1, 0, "ca-1.key", der, len);
	HANDLE(KP_LOAD_CA);
	tap_ok(r == SCEP_OK && kp_rep_status(rep.p, rep.len) == SCEP_OK,
	    "kp_worker_handle: LOAD_CA");
	kp_buf_clear(&rep);
	OPENSSL_free(der);
	der_of(ra, &der, &len);
	kp_buf_init(&req, kp_req_max(KP_LOAD_RA));
	kp_enc_load(&req, KP_LOAD_RA, 10, 1, "ra-10.key", der, len);
	HANDLE(KP_LOAD_RA);
	tap_ok(r == SCEP_OK, "kp_worker_handle: LOAD_RA");
	kp_buf_clear(&rep);
	OPENSSL_free(der);
	der = NULL;
	kp_buf_init(&req, kp_req_max(KP_LOAD_RA));
	kp_enc_load(&req, KP_LOAD_RA, 11, 1, "../keys/ra-10.key", NULL, 0);
	HANDLE(KP_LOAD_RA);
	tap_ok(r == SCEP_E_CONFIG, "kp_worker_handle: a name with a slash "
	    "is refused by the worker itself (r=%d)", r);
	kp_buf_clear(&rep);

	memset(&t, 0, sizeof(t));
	ca_dn_parse("/CN=handled/O=scepd", &n);
	t.kind = ISSUE_CLIENT;
	t.subject = n;
	t.pubkey = sub;
	t.not_before = now;
	t.not_after = now + 3600;
	kp_buf_init(&req, kp_req_max(KP_ISSUE));
	kp_enc_issue(&req, 1, &t);
	HANDLE(KP_ISSUE);
	tap_ok(r == SCEP_OK && kp_dec_rep_issue(rep.p, rep.len, &x, sn) ==
	    SCEP_OK && x != NULL, "kp_worker_handle: ISSUE, reply decodes");
	kp_buf_clear(&rep);

	{
		unsigned char *q = NULL;
		int k = i2d_X509_NAME(n, &q);

		if (k > 0 && scep_env_encrypt(q, (size_t)k, ra,
		    NID_aes_128_cbc, &env, &envlen) == SCEP_OK) {
			kp_buf_init(&req, kp_req_max(KP_DECRYPT));
			kp_enc_decrypt(&req, ids, 1, 0, SCEP_ALG_DEFAULT, env,
			    envlen);
			HANDLE(KP_DECRYPT);
			tap_ok(r == SCEP_OK && kp_dec_rep_decrypt(rep.p,
			    rep.len, &out, &outlen, &nid) == SCEP_OK &&
			    outlen == (size_t)k && nid == NID_aes_128_cbc,
			    "kp_worker_handle: DECRYPT, reply decodes");
			kp_buf_clear(&rep);
			OPENSSL_free(out);
			out = NULL;
		}
		OPENSSL_free(q);
		OPENSSL_free(env);
	}

	memset(&rp, 0, sizeof(rp));
	RAND_bytes(nonce, sizeof(nonce));
	rp.status = SCEP_STATUS_SUCCESS;
	rp.transid = "handled";
	rp.transid_len = 7;
	rp.recipient_nonce = nonce;
	rp.recipient_nonce_len = sizeof(nonce);
	rp.md_nid = NID_sha256;
	rp.cipher_nid = NID_aes_128_cbc;
	rp.recipient = ra;	/* any certificate with an RSA key */
	rp.payload = nonce;
	rp.payload_len = sizeof(nonce);
	rp.now = now;
	sk = sk_X509_new_null();
	sk_X509_push(sk, ca);
	kp_buf_init(&req, kp_req_max(KP_SIGN_CERTREP));
	kp_enc_certrep(&req, 10, 1, &rp, sk);
	HANDLE(KP_SIGN_CERTREP);
	tap_ok(r == SCEP_OK && kp_dec_rep_blob(rep.p, rep.len, KP_MAX_SIGNED,
	    &out, &outlen) == SCEP_OK, "kp_worker_handle: SIGN_CERTREP "
	    "SUCCESS, envelope for an RSA recipient (r=%d)", r);
	kp_buf_clear(&rep);
	OPENSSL_free(out);
	out = NULL;
	rp.status = SCEP_STATUS_FAILURE;
	rp.failinfo = SCEP_FAIL_BADREQUEST;
	rp.failtext = "no";
	kp_buf_init(&req, kp_req_max(KP_SIGN_CERTREP));
	kp_enc_certrep(&req, 10, 1, &rp, NULL);
	{
		struct kp_req dq;

		tap_ok(kp_req_decode(KP_SIGN_CERTREP, req.p, req.len, &dq) ==
		    SCEP_OK && dq.recipient == NULL && dq.rep.failtext != NULL &&
		    strcmp(dq.rep.failtext, "no") == 0,
		    "a FAILURE CertRep request carries no client certificate "
		    "to the key process");
		kp_req_clear(&dq);
	}
	HANDLE(KP_SIGN_CERTREP);
	tap_ok(r == SCEP_OK && kp_dec_rep_blob(rep.p, rep.len, KP_MAX_SIGNED,
	    &out, &outlen) == SCEP_OK, "kp_worker_handle: SIGN_CERTREP "
	    "FAILURE");
	kp_buf_clear(&rep);
	OPENSSL_free(out);
	out = NULL;

	sk_X509_push(sk, ra);
	kp_buf_init(&req, kp_req_max(KP_SIGN_NEXTCA));
	kp_enc_nextca(&req, 10, 1, sk, now);
	HANDLE(KP_SIGN_NEXTCA);
	tap_ok(r == SCEP_OK && kp_dec_rep_blob(rep.p, rep.len, KP_MAX_SIGNED,
	    &out, &outlen) == SCEP_OK, "kp_worker_handle: SIGN_NEXTCA");
	kp_buf_clear(&rep);
	OPENSSL_free(out);
	out = NULL;

	e.serial_hex = "0A0B";
	e.revoked_at = now - 10;
	e.reason = 4;
	kp_buf_init(&req, kp_req_max(KP_SIGN_CRL));
	kp_enc_crl(&req, 1, &e, 1, 3, now, now + 60);
	HANDLE(KP_SIGN_CRL);
	tap_ok(r == SCEP_OK && kp_dec_rep_crl(rep.p, rep.len, &crl) ==
	    SCEP_OK, "kp_worker_handle: SIGN_CRL");
	kp_buf_clear(&rep);
	X509_CRL_free(crl);

	kp_buf_init(&req, kp_req_max(KP_MAKE_RA));
	kp_enc_make_ra(&req, 1, X509_get0_pubkey(ra), "/CN=handled RA",
	    CA_RA_SIGN_ENCRYPT, 10, now);
	HANDLE(KP_MAKE_RA);
	X509_free(x);
	x = NULL;
	tap_ok(r == SCEP_OK && kp_dec_rep_cert(rep.p, rep.len, &x) ==
	    SCEP_OK, "kp_worker_handle: MAKE_RA");
	kp_buf_clear(&rep);

	/* ISSUE_REPLY: a SUCCESS without payload, the worker builds it. */
	rp.status = SCEP_STATUS_SUCCESS;
	rp.failinfo = 0;
	rp.failtext = NULL;
	rp.payload = NULL;
	rp.payload_len = 0;
	kp_buf_init(&req, kp_req_max(KP_ISSUE_REPLY));
	tap_ok(kp_enc_issue_reply(&req, 1, 10, &t, 1, &rp) == SCEP_OK,
	    "kp_enc_issue_reply");
	test_issue_reply_bounds(&req, (size_t)i2d_X509(ra, NULL));
	HANDLE(KP_ISSUE_REPLY);
	{
		struct issued_reply ir;

		tap_ok(r == SCEP_OK && kp_dec_rep_issue_reply(rep.p, rep.len,
		    &ir) == SCEP_OK && ir.cert_len > 0 && ir.reply_len > 0 &&
		    ir.not_before == t.not_before, "kp_worker_handle: "
		    "ISSUE_REPLY, reply decodes (r=%d)", r);
		issued_reply_clear(&ir);
		test_rep_issue_reply_bounds(&rep);
	}
	kp_buf_clear(&rep);
	kp_buf_init(&req, kp_req_max(KP_ISSUE_REPLY));
	kp_enc_issue_reply(&req, 1, 77, &t, 0, &rp);
	HANDLE(KP_ISSUE_REPLY);
	tap_ok(r == SCEP_E_NOTFOUND && kp_rep_status(rep.p, rep.len) ==
	    SCEP_E_NOTFOUND && rep.len == 4, "kp_worker_handle: "
	    "ISSUE_REPLY with an unknown RA: only the status comes back");
	kp_buf_clear(&rep);
	kp_buf_init(&req, kp_req_max(KP_ISSUE_REPLY));
	kp_enc_issue_reply(&req, 5, 0, &t, 0, &rp);
	HANDLE(KP_ISSUE_REPLY);
	tap_ok(r == SCEP_E_NOTFOUND, "kp_worker_handle: ISSUE_REPLY with "
	    "an unknown CA: SCEP_E_NOTFOUND");
	kp_buf_clear(&rep);
	kp_buf_init(&req, kp_req_max(KP_ISSUE_REPLY));
	rp.status = SCEP_STATUS_FAILURE;
	tap_ok(kp_enc_issue_reply(&req, 1, 10, &t, 1, &rp) ==
	    SCEP_E_INTERNAL, "kp_enc_issue_reply: only for a SUCCESS");
	rp.status = SCEP_STATUS_SUCCESS;
	rp.recipient = NULL;
	tap_ok(kp_enc_issue_reply(&req, 1, 10, &t, 1, &rp) ==
	    SCEP_E_INTERNAL, "kp_enc_issue_reply: a recipient is required");
	rp.recipient = ra;
	kp_buf_clear(&req);

	r = kp_worker_handle(ko, dirfd, 0, NULL, 0, &rep);
	tap_ok(r == SCEP_E_MALFORMED && kp_rep_status(rep.p, rep.len) ==
	    SCEP_E_MALFORMED, "kp_worker_handle: op 0 is SCEP_E_MALFORMED");
	kp_buf_clear(&rep);
#undef HANDLE
	X509_free(x);
	X509_NAME_free(n);
	sk_X509_free(sk);
	keyops_free(ko);
	ERR_clear_error();
}

/*
 * The subject key travels as SubjectPublicKeyInfo and the worker decodes
 * it on a fast path (RSA, P-256, P-384) or with d2i_PUBKEY: either way the
 * key must come out equal, and a point off its curve must not pass.
 */
static void
test_spki(EVP_PKEY *rsa, EVP_PKEY *ec256)
{
	static const char *const algs[] = { "rsa3072", "ec384" };
	EVP_PKEY		*keys[6] = { rsa, ec256, NULL, NULL, NULL, NULL };
	const char		*names[6] = { "RSA-2048", "P-256", "RSA-3072",
				    "P-384", "P-521 (general path)",
				    "Ed25519 (general path)" };
	struct issue_tmpl	 t;
	struct kp_buf		 b;
	struct kp_req		 rq;
	X509_NAME		*n = NULL;
	size_t			 i;
	int			 r;

	ca_key_generate(algs[0], &keys[2]);
	ca_key_generate(algs[1], &keys[3]);
	keys[4] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	keys[5] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ca_dn_parse("/CN=spki", &n);
	for (i = 0; i < 6; i++) {
		memset(&t, 0, sizeof(t));
		t.kind = ISSUE_CLIENT;
		t.subject = n;
		t.pubkey = keys[i];
		t.not_before = now;
		t.not_after = now + 60;
		kp_buf_init(&b, kp_req_max(KP_ISSUE));
		r = kp_enc_issue(&b, 1, &t);
		if (r == SCEP_OK)
			r = kp_req_decode(KP_ISSUE, b.p, b.len, &rq);
		tap_ok(r == SCEP_OK && keys[i] != NULL &&
		    EVP_PKEY_eq(rq.pubkey, keys[i]) == 1,
		    "SPKI round trip: %s (r=%d)", names[i], r);
		kp_req_clear(&rq);
		if (i == 1 && r == SCEP_OK) {
			/* Damage the last byte of the P-256 point (y). */
			size_t off = 0, k;
			unsigned char *d = NULL;
			int dl = i2d_PUBKEY(keys[i], &d);

			for (k = 0; dl > 0 && k + (size_t)dl <= b.len; k++)
				if (memcmp(b.p + k, d, (size_t)dl) == 0) {
					off = k + (size_t)dl - 1;
					break;
				}
			if (off > 0) {
				b.p[off] ^= 0x01;
				r = kp_req_decode(KP_ISSUE, b.p, b.len, &rq);
				tap_ok(r == SCEP_E_MALFORMED, "SPKI: a P-256 "
				    "point off the curve is refused (r=%d)", r);
				kp_req_clear(&rq);
			} else
				tap_ok(0, "SPKI: find the point");
			OPENSSL_free(d);
		}
		kp_buf_clear(&b);
	}
	for (i = 2; i < 6; i++)
		EVP_PKEY_free(keys[i]);
	X509_NAME_free(n);
	ERR_clear_error();
}

/*
 * The CertRep recipient reaches the worker as DER; an RSA one is read on
 * ASN1 templates into an X509 holding issuer, serial and key (no decoder
 * chain), anything else with d2i_X509.  Either way the envelope must see
 * the same issuer, serial and key as the real certificate.
 */
static void
test_recipient(X509 *rsa_cert, EVP_PKEY *ec_key)
{
	struct scep_reply	 rp;
	struct kp_buf		 b;
	struct kp_req		 rq;
	X509			*ec_cert = NULL, *certs[2];
	const char		*names[2] = { "RSA (templates)",
				    "EC (d2i_X509)" };
	uint8_t			 nonce[SCEP_NONCE_LEN];
	size_t			 i;
	int			 r;

	memset(nonce, 7, sizeof(nonce));
	if (scep_selfsigned_cert(ec_key, "ec client", now, 1, &ec_cert) !=
	    SCEP_OK) {
		tap_ok(0, "recipient: an EC certificate");
		return;
	}
	certs[0] = rsa_cert;
	certs[1] = ec_cert;
	for (i = 0; i < 2; i++) {
		memset(&rp, 0, sizeof(rp));
		rp.status = SCEP_STATUS_SUCCESS;
		rp.transid = "rcpt";
		rp.transid_len = 4;
		rp.recipient_nonce = nonce;
		rp.recipient_nonce_len = sizeof(nonce);
		rp.md_nid = NID_sha256;
		rp.cipher_nid = NID_aes_128_cbc;
		rp.recipient = certs[i];
		rp.payload = nonce;
		rp.payload_len = sizeof(nonce);
		rp.now = now;
		kp_buf_init(&b, kp_req_max(KP_SIGN_CERTREP));
		r = kp_enc_certrep(&b, 10, 1, &rp, NULL);
		if (r == SCEP_OK)
			r = kp_req_decode(KP_SIGN_CERTREP, b.p, b.len, &rq);
		tap_ok(r == SCEP_OK && rq.recipient != NULL &&
		    X509_NAME_cmp(X509_get_issuer_name(rq.recipient),
		    X509_get_issuer_name(certs[i])) == 0 &&
		    ASN1_INTEGER_cmp(X509_get0_serialNumber(rq.recipient),
		    X509_get0_serialNumber(certs[i])) == 0 &&
		    EVP_PKEY_eq(X509_get0_pubkey(rq.recipient),
		    X509_get0_pubkey(certs[i])) == 1,
		    "recipient %s: issuer, serial and key as in the "
		    "certificate (r=%d)", names[i], r);
		kp_req_clear(&rq);
		kp_buf_clear(&b);
	}
	X509_free(ec_cert);
	ERR_clear_error();
}

/* ---- 5. the sandbox ------------------------------------------------ */

enum { SB_PASSWD, SB_SOCKET, SB_KEYREAD, SB_KEYWRITE, SB_DUMPABLE,
    SB_TCP6, SB_MKFILE, SB__N };

static void
test_sandbox(int dirfd)
{
	int	 pfd[2], res[SB__N], landlock;
	pid_t	 pid;
	char	 p[600];

	memset(res, 0, sizeof(res));
	if (pipe(pfd) != 0)
		return;
	if ((pid = fork()) == 0) {
		int v[SB__N], fd;

		close(pfd[0]);
		memset(v, 0, sizeof(v));
		fd = kp_sandbox_fs(dirfd);	/* abi, or <= 0 */
		(void)!write(pfd[1], &fd, sizeof(int));
		if (kp_sandbox_proc() != 0)
			_exit(5);
		/* prctl is not on the worker's list: ask before seccomp. */
		v[SB_DUMPABLE] = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
		if (kp_sandbox_seccomp(0) != 0)
			_exit(5);
		fd = open("/etc/passwd", O_RDONLY);
		v[SB_PASSWD] = fd < 0 ? errno : 0;
		fd = socket(AF_INET, SOCK_STREAM, 0);
		v[SB_SOCKET] = fd < 0 ? errno : 0;
		fd = socket(AF_INET6, SOCK_DGRAM, 0);
		v[SB_TCP6] = fd < 0 ? errno : 0;
		fd = openat(dirfd, "ca-1.key", O_RDONLY | O_NOFOLLOW);
		v[SB_KEYREAD] = fd < 0 ? errno : 0;
		fd = openat(dirfd, "ca-1.key", O_WRONLY);
		v[SB_KEYWRITE] = fd < 0 ? errno : 0;
		fd = openat(dirfd, "new.key", O_WRONLY | O_CREAT, 0600);
		v[SB_MKFILE] = fd < 0 ? errno : 0;
		(void)!write(pfd[1], v, sizeof(v));
		_exit(0);
	}
	close(pfd[1]);
	landlock = -1;
	(void)!read(pfd[0], &landlock, sizeof(int));
	(void)!read(pfd[0], res, sizeof(res));
	close(pfd[0]);
	tap_ok(exit_status(pid) == 0, "sandboxed child ran its probes");
	printf("# Landlock ABI in use: %d\n", landlock);
	if (landlock >= 1 || (landlock == 0 && geteuid() == 0))
		tap_ok(res[SB_PASSWD] == EACCES || res[SB_PASSWD] == ENOENT,
		    "sandbox: open(\"/etc/passwd\") refused (errno %d)",
		    res[SB_PASSWD]);
	else
		printf("ok %d - sandbox: /etc/passwd # SKIP no Landlock and "
		    "not root\n", ++tap_n);
	tap_ok(res[SB_SOCKET] == EPERM, "sandbox: socket(AF_INET) is EPERM "
	    "(errno %d)", res[SB_SOCKET]);
	tap_ok(res[SB_TCP6] == EPERM, "sandbox: socket(AF_INET6) is EPERM");
	tap_ok(res[SB_KEYREAD] == 0, "sandbox: a key file below keys/ still "
	    "opens for reading");
	tap_ok(res[SB_KEYWRITE] == EACCES, "sandbox: ... but not for writing "
	    "(errno %d)", res[SB_KEYWRITE]);
	tap_ok(res[SB_MKFILE] == EACCES, "sandbox: no new file in keys/");
	tap_ok(res[SB_DUMPABLE] == 0, "sandbox: not dumpable (no ptrace, no "
	    "core)");

	/* exec is fatal. */
	if ((pid = fork()) == 0) {
		char *const argv[] = { (char *)"/bin/true", NULL };

		if (kp_sandbox_proc() != 0 || kp_sandbox_seccomp(0) != 0)
			_exit(5);
		execv(argv[0], argv);
		_exit(0);
	}
	tap_ok(exit_status(pid) == 1000 + SIGSYS,
	    "sandbox: execve kills the process (SIGSYS)");

	/* A call on no list: SIGSYS, handler-less here, so killed too. */
	snprintf(p, sizeof(p), "%s", tmpdir);
	if ((pid = fork()) == 0) {
		if (kp_sandbox_proc() != 0 || kp_sandbox_seccomp(0) != 0)
			_exit(5);
		(void)!chdir(p);
		_exit(0);
	}
	tap_ok(exit_status(pid) == 1000 + SIGSYS,
	    "sandbox: chdir (on no list) raises SIGSYS");
}

/* ---- 6. threads ---------------------------------------------------- */

static pthread_mutex_t	 hold = PTHREAD_MUTEX_INITIALIZER;

static void *
idle(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&hold);
	pthread_mutex_unlock(&hold);
	return NULL;
}

static void
test_threaded(void)
{
	struct keyops	*ko = NULL;
	pthread_t	 th;

	pthread_mutex_lock(&hold);
	if (pthread_create(&th, NULL, idle, NULL) != 0)
		return;
	tap_ok(keyops_new_isolated(tmpdir, 1, &ko) == SCEP_E_INTERNAL &&
	    ko == NULL, "keyops_new_isolated refuses a threaded process");
	pthread_mutex_unlock(&hold);
	pthread_join(th, NULL);
}

/* ---- seeds for fuzz/corpus/kpwire ---------------------------------- */

static void
seed(const char *dir, const char *name, uint32_t op, const struct kp_buf *b)
{
	char	 p[600];
	FILE	*f = NULL;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (b->err != SCEP_OK || (f = fopen(p, "wb")) == NULL)
		return;
	/* fuzz_kpwire.c: first byte = op (bit 7 clear: a request). */
	fputc((int)op, f);
	fwrite(b->p, 1, b->len, f);
	fclose(f);
}

static void
write_seeds(const char *dir, X509 *ca, X509 *ra, EVP_PKEY *sub)
{
	struct kp_buf		 b;
	struct issue_tmpl	 t;
	struct scep_reply	 rp;
	struct crl_entry	 e;
	STACK_OF(X509)		*sk = sk_X509_new_null();
	X509_NAME		*n = NULL;
	GENERAL_NAMES		*g = GENERAL_NAMES_new();
	GENERAL_NAME		*gn = GENERAL_NAME_new();
	ASN1_IA5STRING		*ia5 = ASN1_IA5STRING_new();
	uint8_t			*der = NULL, env[64];
	size_t			 len = 0;
	int64_t			 ids[2] = { 10, 11 };

	mkdir(dir, 0755);
	der_of(ca, &der, &len);
	kp_buf_init(&b, kp_req_max(KP_LOAD_CA));
	kp_enc_load(&b, KP_LOAD_CA, 1, 0, "ca-1.key", der, len);
	seed(dir, "load_ca", KP_LOAD_CA, &b);
	kp_buf_clear(&b);
	OPENSSL_free(der);
	der_of(ra, &der, &len);
	kp_buf_init(&b, kp_req_max(KP_LOAD_RA));
	kp_enc_load(&b, KP_LOAD_RA, 10, 1, "ra-10.key", der, len);
	seed(dir, "load_ra", KP_LOAD_RA, &b);
	kp_buf_clear(&b);
	OPENSSL_free(der);
	RAND_bytes(env, sizeof(env));
	kp_buf_init(&b, kp_req_max(KP_DECRYPT));
	kp_enc_decrypt(&b, ids, 2, 1, SCEP_ALG_DEFAULT, env, sizeof(env));
	seed(dir, "decrypt", KP_DECRYPT, &b);
	kp_buf_clear(&b);

	memset(&t, 0, sizeof(t));
	ca_dn_parse("/CN=seed/O=scepd", &n);
	ASN1_STRING_set(ia5, "host.example", -1);
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	sk_GENERAL_NAME_push(g, gn);
	t.kind = ISSUE_DEVICE;
	t.server_auth = 1;
	t.subject = n;
	t.sans = g;
	t.pubkey = sub;
	t.not_before = 1700000000;
	t.not_after = 1700000000 + 86400;
	t.crl_url = "http://ca.example/crl/1.crl";
	kp_buf_init(&b, kp_req_max(KP_ISSUE));
	kp_enc_issue(&b, 1, &t);
	seed(dir, "issue", KP_ISSUE, &b);
	kp_buf_clear(&b);

	memset(&rp, 0, sizeof(rp));
	rp.status = SCEP_STATUS_SUCCESS;
	rp.transid = "seed";
	rp.transid_len = 4;
	rp.recipient_nonce = env;
	rp.recipient_nonce_len = 16;
	rp.md_nid = NID_sha256;
	rp.cipher_nid = NID_aes_128_cbc;
	rp.recipient = ra;
	rp.payload = env;
	rp.payload_len = sizeof(env);
	rp.now = 1700000000;
	sk_X509_push(sk, ca);
	kp_buf_init(&b, kp_req_max(KP_SIGN_CERTREP));
	kp_enc_certrep(&b, 10, 1, &rp, sk);
	seed(dir, "certrep", KP_SIGN_CERTREP, &b);
	kp_buf_clear(&b);
	sk_X509_push(sk, ra);
	rp.payload = NULL;
	rp.payload_len = 0;
	kp_buf_init(&b, kp_req_max(KP_ISSUE_REPLY));
	kp_enc_issue_reply(&b, 1, 10, &t, 1, &rp);
	seed(dir, "issue_reply", KP_ISSUE_REPLY, &b);
	kp_buf_clear(&b);
	kp_buf_init(&b, kp_req_max(KP_SIGN_NEXTCA));
	kp_enc_nextca(&b, 10, 1, sk, 1700000000);
	seed(dir, "nextca", KP_SIGN_NEXTCA, &b);
	kp_buf_clear(&b);
	kp_buf_init(&b, kp_req_max(KP_MAKE_RA));
	kp_enc_make_ra(&b, 1, sub, "/CN=seed RA/O=scepd", CA_RA_SIGN_ENCRYPT,
	    365, 1700000000);
	seed(dir, "make_ra", KP_MAKE_RA, &b);
	kp_buf_clear(&b);
	e.serial_hex = "1A2B";
	e.revoked_at = 1700000000;
	e.reason = 1;
	kp_buf_init(&b, kp_req_max(KP_SIGN_CRL));
	kp_enc_crl(&b, 1, &e, 1, 7, 1700000000, 1700086400);
	seed(dir, "crl", KP_SIGN_CRL, &b);
	kp_buf_clear(&b);

	/* Replies (first byte with bit 7 set). */
	kp_buf_init(&b, kp_rep_max(KP_ISSUE));
	kp_buf_i32(&b, SCEP_OK);
	kp_buf_x509(&b, ca);
	{
		const ASN1_INTEGER *ai = X509_get0_serialNumber(ca);

		kp_buf_blob(&b, ASN1_STRING_get0_data(ai),
		    (size_t)ASN1_STRING_length(ai));
	}
	seed(dir, "rep_issue", 0x80 | KP_ISSUE, &b);
	kp_buf_clear(&b);
	kp_buf_init(&b, kp_rep_max(KP_DECRYPT));
	kp_buf_i32(&b, SCEP_OK);
	kp_buf_blob(&b, env, sizeof(env));
	kp_buf_i32(&b, NID_aes_128_cbc);
	seed(dir, "rep_decrypt", 0x80 | KP_DECRYPT, &b);
	kp_buf_clear(&b);
	kp_buf_init(&b, kp_rep_max(KP_SIGN_CERTREP));
	kp_buf_i32(&b, SCEP_OK);
	kp_buf_blob(&b, env, sizeof(env));
	seed(dir, "rep_certrep", 0x80 | KP_SIGN_CERTREP, &b);
	kp_buf_clear(&b);
	kp_buf_init(&b, kp_rep_max(KP_ISSUE_REPLY));
	kp_buf_i32(&b, SCEP_OK);
	kp_buf_x509(&b, ca);
	kp_buf_blob(&b, "\x5a\x01\x02\x03\x04\x05\x06\x07"
	    "\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", ISSUE_SERIAL_LEN);
	kp_buf_i64(&b, 1700000000);
	kp_buf_i64(&b, 1700086400);
	kp_buf_blob(&b, env, sizeof(env));
	seed(dir, "rep_issue_reply", 0x80 | KP_ISSUE_REPLY, &b);
	kp_buf_clear(&b);
	kp_buf_init(&b, 4);
	kp_buf_i32(&b, SCEP_E_DENIED);
	seed(dir, "rep_denied", 0x80 | KP_SIGN_CRL, &b);
	kp_buf_clear(&b);

	sk_X509_free(sk);
	X509_NAME_free(n);
	GENERAL_NAMES_free(g);
	printf("# seeds written to %s\n", dir);
}

int
main(int argc, char **argv)
{
	struct keyops	*ko = NULL, *local = NULL;
	EVP_PKEY	*ca_key = NULL, *ra_key = NULL, *sub = NULL;
	X509		*ca = NULL, *ra = NULL;
	char		 p[600];
	int		 dirfd = -1, r;

	now = time(NULL);
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof(tmpdir), "%s/kptest.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(keysdir, sizeof(keysdir), "%s/keys", tmpdir);
	mkdir(keysdir, 0700);

	if (ca_key_generate("rsa2048", &ca_key) != SCEP_OK ||
	    ca_key_generate("rsa2048", &ra_key) != SCEP_OK ||
	    ca_key_generate("ec256", &sub) != SCEP_OK ||
	    ca_make_root(ca_key, "/CN=kp test CA/O=scepd", 365, now - 3600,
	    &ca) != SCEP_OK ||
	    ca_make_ra(ca_key, ca, ra_key, "/CN=kp test RA/O=scepd",
	    CA_RA_SIGN_ENCRYPT, 365, now - 3600, &ra) != SCEP_OK) {
		printf("Bail out! cannot make the test PKI\n");
		return 1;
	}
	snprintf(p, sizeof(p), "%s/ca-1.key", keysdir);
	if (ca_key_write(p, ca_key) != SCEP_OK) {
		printf("Bail out! cannot write %s\n", p);
		return 1;
	}
	snprintf(p, sizeof(p), "%s/ra-10.key", keysdir);
	if (ca_key_write(p, ra_key) != SCEP_OK) {
		printf("Bail out! cannot write %s\n", p);
		return 1;
	}
	if (argc > 1)
		write_seeds(argv[1], ca, ra, sub);

	/* The isolated pool first: it must fork before any thread. */
	r = keyops_new_isolated(tmpdir, 2, &ko);
	tap_ok(r == SCEP_OK && ko != NULL, "keyops_new_isolated (r=%d)", r);
	if (ko == NULL)
		return tap_done();
	r = load_ids(ko, ca, ra);
	tap_ok(r == SCEP_OK, "isolated: load CA 1 and RA 10 from keys/ "
	    "(r=%d)", r);
	test_ops(ko, "isolated", ca_key, ca, ra_key, ra, sub);
	test_issue_reply(ko, "isolated", ca_key, ca, ra_key, ra, sub);
	test_paths(ko, ca_key, ca);
	test_restart(ko, sub, ca_key);

	/* The same operations in-process: the two must agree. */
	if (keyops_new(&local) == SCEP_OK && load_ids(local, ca, ra) ==
	    SCEP_OK)
	{
		test_ops(local, "in-process", ca_key, ca, ra_key, ra, sub);
		test_issue_reply(local, "in-process", ca_key, ca, ra_key, ra,
		    sub);
	} else
		tap_ok(0, "in-process keyops for comparison");
	keyops_free(local);

	keyops_free(ko);
	tap_ok(children_of(getpid(), (pid_t[4]){ 0 }, 4) == 0,
	    "keyops_free: the key master has exited and was reaped");

	if ((dirfd = open(keysdir, O_RDONLY | O_DIRECTORY)) >= 0) {
		test_handle(dirfd, ca, ra, sub);
		test_spki(ca_key, sub);
		test_recipient(ra, sub);
		test_lies(dirfd);
		test_sandbox(dirfd);
		close(dirfd);
	}
	test_threaded();

	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(ra_key);
	EVP_PKEY_free(sub);
	X509_free(ca);
	X509_free(ra);
	rm_tree(tmpdir);
	return tap_done();
}
