/*
 * test_ca.c -- the CA layer: key generation and key files, names, root and
 * RA certificates, issuance from templates (and the templates that must be
 * refused), CRLs, and concurrent issuance while the CA is reloaded.
 *
 * Every certificate is checked with OpenSSL's own getters and verified,
 * alone (X509_verify) and as a chain (X509_STORE), so a wrong extension or
 * a bad signature fails here and not in a client.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "ca_gen.h"
#include "ca_int.h"
#include "keyops.h"
#include "scep_err.h"
#include "scep_limits.h"
#include "tap.h"

static char	 tmpdir[256];
static time_t	 now;

/* Remove the files we wrote (a flat directory) and the directory. */
static void
rm_tmpdir(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[512];

	if ((d = opendir(tmpdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

/* tmpdir/name into buf. */
static const char *
tpath(char *buf, size_t sz, const char *name)
{
	snprintf(buf, sz, "%s/%s", tmpdir, name);
	return buf;
}

static EVP_PKEY *
genkey(const char *alg)
{
	EVP_PKEY	*k = NULL;

	if (ca_key_generate(alg, &k) != SCEP_OK)
		return NULL;
	return k;
}

/* Keys ca_key_generate does not offer. */
static EVP_PKEY *
genkey_rsa(unsigned int bits)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

static EVP_PKEY *
genkey_dsa(void)
{
	EVP_PKEY_CTX	*pctx = NULL, *kctx = NULL;
	EVP_PKEY	*params = NULL, *key = NULL;

	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL)) == NULL ||
	    EVP_PKEY_paramgen_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_dsa_paramgen_bits(pctx, 2048) != 1 ||
	    EVP_PKEY_CTX_set_dsa_paramgen_q_bits(pctx, 224) != 1 ||
	    EVP_PKEY_paramgen(pctx, &params) != 1)
		goto out;
	if ((kctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(kctx) != 1 ||
	    EVP_PKEY_keygen(kctx, &key) != 1)
		goto out;
 out:
	EVP_PKEY_free(params);
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_CTX_free(kctx);
	return key;
}

/* -1 when absent, else the critical flag. */
static int
ext_crit(X509 *x, int nid)
{
	int	 i;

	if ((i = X509_get_ext_by_NID(x, nid, -1)) < 0)
		return -1;
	return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

/* Number of copies of an extension (must be 1 or 0). */
static int
ext_copies(X509 *x, int nid)
{
	int	 i = -1, n = 0;

	while ((i = X509_get_ext_by_NID(x, nid, i)) >= 0)
		n++;
	return n;
}

static int
sig_nid(X509 *x)
{
	return X509_get_signature_nid(x);
}

/* AKI keyid of x equals the SKI of issuer. */
static int
aki_matches(X509 *x, X509 *issuer)
{
	const ASN1_OCTET_STRING	*aki, *ski;

	aki = X509_get0_authority_key_id(x);
	ski = X509_get0_subject_key_id(issuer);
	return aki != NULL && ski != NULL && ASN1_OCTET_STRING_cmp(aki, ski)
	    == 0;
}

/* SKI of x is the SHA-1 of its public key (RFC 5280 4.2.1.2 (1)). */
static int
ski_is_hash(X509 *x)
{
	const ASN1_OCTET_STRING	*ski;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;

	if ((ski = X509_get0_subject_key_id(x)) == NULL)
		return 0;
	if (X509_pubkey_digest(x, EVP_sha1(), md, &mdlen) != 1)
		return 0;
	return ASN1_STRING_length(ski) == (int)mdlen &&
	    memcmp(ASN1_STRING_get0_data(ski), md, mdlen) == 0;
}

/* Serial of x as bytes: its DER content length. */
static int
serial_len(X509 *x)
{
	return ASN1_STRING_length(X509_get0_serialNumber(x));
}

/* notBefore/notAfter as Unix seconds. */
static time_t
nb_of(X509 *x)
{
	time_t	 t = 0;

	ca_asn1_time_get(X509_get0_notBefore(x), &t);
	return t;
}

static time_t
na_of(X509 *x)
{
	time_t	 t = 0;

	ca_asn1_time_get(X509_get0_notAfter(x), &t);
	return t;
}

/*
 * Verify "leaf" against trust anchor "root" with optional untrusted
 * "inter", purpose and CRL.  Returns the X509_V_ code.
 */
static int
chain_verify(X509 *root, X509 *inter, X509 *leaf, int purpose, X509_CRL *crl)
{
	X509_STORE	*st = NULL;
	X509_STORE_CTX	*ctx = NULL;
	STACK_OF(X509)	*chain = NULL;
	int		 rc = -1;

	if ((st = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(st, root) != 1)
		goto out;
	if (crl != NULL) {
		if (X509_STORE_add_crl(st, crl) != 1)
			goto out;
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	}
	if ((chain = sk_X509_new_null()) == NULL)
		goto out;
	if (inter != NULL && sk_X509_push(chain, inter) <= 0)
		goto out;
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, st, leaf, chain) != 1)
		goto out;
	X509_STORE_CTX_set_time(ctx, 0, now + 60);
	if (purpose != 0 && X509_STORE_CTX_set_purpose(ctx, purpose) != 1)
		goto out;
	if (X509_verify_cert(ctx) == 1)
		rc = X509_V_OK;
	else
		rc = X509_STORE_CTX_get_error(ctx);
 out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(chain);
	X509_STORE_free(st);
	return rc;
}

/* Write key (0600) + DER cert and load them into ko as a CA. */
static int
load_ca(struct keyops *ko, int64_t id, EVP_PKEY *key, X509 *cert,
    const char *fname)
{
	char		 p[512];
	unsigned char	*der = NULL;
	int		 len, r;

	tpath(p, sizeof(p), fname);
	unlink(p);
	if ((r = ca_key_write(p, key)) != SCEP_OK)
		return r;
	if ((len = i2d_X509(cert, &der)) <= 0)
		return SCEP_E_INTERNAL;
	r = keyops_load_ca(ko, id, p, der, (size_t)len);
	OPENSSL_free(der);
	return r;
}

static int
load_ra(struct keyops *ko, int64_t id, int64_t ca_id, EVP_PKEY *key,
    X509 *cert, const char *fname)
{
	char		 p[512];
	unsigned char	*der = NULL;
	int		 len, r;

	tpath(p, sizeof(p), fname);
	unlink(p);
	if ((r = ca_key_write(p, key)) != SCEP_OK)
		return r;
	if ((len = i2d_X509(cert, &der)) <= 0)
		return SCEP_E_INTERNAL;
	r = keyops_load_ra(ko, id, ca_id, p, der, (size_t)len);
	OPENSSL_free(der);
	return r;
}

static GENERAL_NAME *
gn_ia5(int type, const char *s)
{
	GENERAL_NAME	*gn = GENERAL_NAME_new();
	ASN1_IA5STRING	*ia5 = ASN1_IA5STRING_new();

	ASN1_STRING_set(ia5, s, (int)strlen(s));
	GENERAL_NAME_set0_value(gn, type, ia5);
	return gn;
}

static GENERAL_NAME *
gn_ip(const char *s)
{
	GENERAL_NAME	*gn = GENERAL_NAME_new();

	GENERAL_NAME_set0_value(gn, GEN_IPADD, a2i_IPADDRESS(s));
	return gn;
}

static GENERAL_NAME *
gn_other(const char *oid, const char *utf8)
{
	GENERAL_NAME	*gn = GENERAL_NAME_new();
	ASN1_TYPE	*v = ASN1_TYPE_new();
	ASN1_UTF8STRING	*u = ASN1_UTF8STRING_new();

	ASN1_STRING_set(u, utf8, (int)strlen(utf8));
	ASN1_TYPE_set(v, V_ASN1_UTF8STRING, u);
	GENERAL_NAME_set0_othername(gn, OBJ_txt2obj(oid, 1), v);
	return gn;
}

/* SAN of type "type" with IA5 value "s" present in x. */
static int
has_san(X509 *x, int type, const char *s)
{
	GENERAL_NAMES	*gens;
	int		 i, found = 0;

	/* get1: ours to free. */
	if ((gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL)) == NULL)
		return 0;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *v = NULL;

		if (gn->type != type)
			continue;
		if (type == GEN_OTHERNAME)
			v = gn->d.otherName->value->value.utf8string;
		else
			v = gn->d.ia5;
		if (s == NULL || ((size_t)ASN1_STRING_length(v) == strlen(s) &&
		    memcmp(ASN1_STRING_get0_data(v), s, strlen(s)) == 0))
			found = 1;
	}
	GENERAL_NAMES_free(gens);
	return found;
}

static int
san_count(X509 *x)
{
	GENERAL_NAMES	*gens;
	int		 n;

	if ((gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL)) == NULL)
		return 0;
	n = sk_GENERAL_NAME_num(gens);
	GENERAL_NAMES_free(gens);
	return n;
}

/* The first fullName URI of the CRL distribution points, or NULL. */
static int
crldp_is(X509 *x, const char *url)
{
	CRL_DIST_POINTS	*cdp;
	DIST_POINT	*dp;
	GENERAL_NAME	*gn;
	int		 ok = 0;

	if ((cdp = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL,
	    NULL)) == NULL)
		return 0;
	if (sk_DIST_POINT_num(cdp) == 1 &&
	    (dp = sk_DIST_POINT_value(cdp, 0))->distpoint != NULL &&
	    dp->distpoint->type == 0 &&
	    sk_GENERAL_NAME_num(dp->distpoint->name.fullname) == 1 &&
	    (gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0))->type
	    == GEN_URI &&
	    (size_t)ASN1_STRING_length(gn->d.uniformResourceIdentifier) ==
	    strlen(url) &&
	    memcmp(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier), url,
	    strlen(url)) == 0)
		ok = 1;
	CRL_DIST_POINTS_free(cdp);
	return ok;
}

/* ------------------------------------------------------------------ */

static void
test_keygen(void)
{
	static const struct {
		const char	*alg;
		int		 rsa;
		int		 bits;
		const char	*group;
	} cases[] = {
		{ "rsa2048", 1, 2048, NULL },
		{ "rsa3072", 1, 3072, NULL },
		{ "rsa4096", 1, 4096, NULL },
		{ "ec256", 0, 256, "prime256v1" },
		{ "ec384", 0, 384, "secp384r1" },
	};
	EVP_PKEY	*k = NULL;
	char		 grp[64];
	size_t		 i, glen;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		k = genkey(cases[i].alg);
		tap_ok(k != NULL, "keygen %s", cases[i].alg);
		if (k == NULL)
			continue;
		tap_ok(EVP_PKEY_is_a(k, cases[i].rsa ? "RSA" : "EC") &&
		    EVP_PKEY_get_bits(k) == cases[i].bits,
		    "keygen %s: type and %d bits", cases[i].alg, cases[i].bits);
		if (cases[i].group != NULL)
			tap_ok(EVP_PKEY_get_group_name(k, grp, sizeof(grp),
			    &glen) == 1 && strcmp(grp, cases[i].group) == 0,
			    "keygen %s: named curve %s", cases[i].alg,
			    cases[i].group);
		EVP_PKEY_free(k);
	}
	k = (EVP_PKEY *)1;
	tap_ok(ca_key_generate("rsa1024", &k) == SCEP_E_CONFIG && k == NULL,
	    "keygen rsa1024 refused");
	tap_ok(ca_key_generate("ed25519", &k) == SCEP_E_CONFIG,
	    "keygen unknown name refused");
	tap_ok(ca_key_generate(NULL, &k) == SCEP_E_CONFIG,
	    "keygen NULL refused");
}

static void
test_serial(void)
{
	uint8_t	 s[CA_SERIAL_LEN], first[CA_SERIAL_LEN];
	int	 i, ok = 1, differ = 0;

	for (i = 0; i < 2000; i++) {
		if (ca_serial_random(s) != SCEP_OK || s[0] == 0 ||
		    (s[0] & 0x80) != 0)
			ok = 0;
		if (i == 0)
			memcpy(first, s, sizeof(s));
		else if (memcmp(first, s, sizeof(s)) != 0)
			differ = 1;
	}
	tap_ok(ok, "2000 serials: first byte 0x01..0x7f (positive, minimal)");
	tap_ok(differ, "serials differ");
}

/* s with bytes outside printable ASCII shown as '?', for TAP names. */
static void
printable(const char *s, char *buf, size_t sz)
{
	size_t	 i;

	for (i = 0; s[i] != '\0' && i + 1 < sz; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
}

static void
test_dn(void)
{
	static const struct {
		const char	*dn;
		int		 want;
		int		 entries;
	} cases[] = {
		{ "/CN=x/O=y",			SCEP_OK,	2 },
		{ "CN=x,O=y",			SCEP_OK,	2 },
		{ "CN=x, O=y , C=DE",		SCEP_OK,	3 },
		{ "/CN=a\\/b",			SCEP_OK,	1 },
		{ "CN=a\\,b",			SCEP_OK,	1 },
		{ "CN=a\\2Cb",			SCEP_OK,	1 },
		{ "2.5.4.3=oid",		SCEP_OK,	1 },
		{ "CN=Gr\xc3\xbc\xc3\x9f" "e",	SCEP_OK,	1 },
		{ "CN=a\\+b",			SCEP_OK,	1 },
		{ "",				SCEP_E_CONFIG,	0 },
		{ "/",				SCEP_E_CONFIG,	0 },
		{ "CN",				SCEP_E_CONFIG,	0 },
		{ "CN=",			SCEP_E_CONFIG,	0 },
		{ "=x",				SCEP_E_CONFIG,	0 },
		{ "FOO=x",			SCEP_E_CONFIG,	0 },
		{ "CN=x,",			SCEP_E_CONFIG,	0 },
		{ "/CN=x/",			SCEP_E_CONFIG,	0 },
		{ "CN=x,,O=y",			SCEP_E_CONFIG,	0 },
		{ "CN=a+OU=b",			SCEP_E_CONFIG,	0 },
		{ "C=DEU",			SCEP_E_CONFIG,	0 },
		{ "CN=a\\",			SCEP_E_CONFIG,	0 },
		{ "CN=a\nb",			SCEP_E_CONFIG,	0 },
		{ "CN=\xff\xfe",		SCEP_E_CONFIG,	0 },
	};
	X509_NAME	*a = NULL, *b = NULL;
	char		 big[CA_MAX_DN + 16], buf[64];
	size_t		 i;
	int		 r, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = ca_dn_parse(cases[i].dn, &a);
		printable(cases[i].dn, buf, sizeof(buf));
		tap_ok(r == cases[i].want && (r != SCEP_OK ||
		    X509_NAME_entry_count(a) == cases[i].entries),
		    "dn \"%s\": got %d want %d", buf, r, cases[i].want);
		X509_NAME_free(a);
		a = NULL;
	}

	/* RFC 4514 order is the reverse of the slash form. */
	tap_ok(ca_dn_parse("/O=y/CN=x", &a) == SCEP_OK &&
	    ca_dn_parse("CN=x,O=y", &b) == SCEP_OK && X509_NAME_cmp(a, b) == 0,
	    "\"/O=y/CN=x\" equals \"CN=x,O=y\"");
	len = X509_NAME_get_text_by_NID(a, NID_commonName, buf, sizeof(buf));
	tap_ok(len == 1 && strcmp(buf, "x") == 0, "CN value");
	tap_ok(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(a,
	    0))) == NID_organizationName, "first RDN in encoding is O");
	X509_NAME_free(a);
	X509_NAME_free(b);
	a = b = NULL;

	tap_ok(ca_dn_parse("CN=a\\2Cb", &a) == SCEP_OK &&
	    X509_NAME_get_text_by_NID(a, NID_commonName, buf, sizeof(buf)) ==
	    3 && strcmp(buf, "a,b") == 0, "hex escape decodes to a,b");
	X509_NAME_free(a);
	a = NULL;
	tap_ok(ca_dn_parse("CN=  spaced  ,O=y", &a) == SCEP_OK &&
	    X509_NAME_get_text_by_NID(a, NID_commonName, buf, sizeof(buf)) ==
	    6 && strcmp(buf, "spaced") == 0, "comma form trims spaces");
	X509_NAME_free(a);
	a = NULL;

	memset(big, 'a', sizeof(big));
	memcpy(big, "CN=", 3);
	big[CA_MAX_DN + 1] = '\0';
	tap_ok(ca_dn_parse(big, &a) == SCEP_E_TOOBIG && a == NULL,
	    "dn over CA_MAX_DN refused");
	for (i = 0; i < SCEP_MAX_RDNS + 1; i++)
		memcpy(big + i * 5, "/OU=x", 5);
	big[(SCEP_MAX_RDNS + 1) * 5] = '\0';
	tap_ok(ca_dn_parse(big, &a) == SCEP_E_TOOBIG,
	    "dn with %d RDNs refused", SCEP_MAX_RDNS + 1);
}

static void
test_keyfile(EVP_PKEY *key)
{
	EVP_PKEY	*k = NULL;
	BIO		*bio = NULL;
	FILE		*f;
	struct stat	 st;
	char		 p[512], q[512];

	tpath(p, sizeof(p), "key1.pem");
	tap_ok(ca_key_write(p, key) == SCEP_OK, "key write");
	tap_ok(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "key file mode is 0600 (got %o)", (unsigned)(st.st_mode & 0777));
	tap_ok(ca_key_write(p, key) == SCEP_E_EXISTS, "key write O_EXCL");
	tap_ok(ca_key_read(p, &k) == SCEP_OK && EVP_PKEY_eq(k, key) == 1,
	    "key read back equals");
	EVP_PKEY_free(k);
	k = NULL;

	f = fopen(p, "r");
	tap_ok(f != NULL && fgetc(f) == '-' && fgetc(f) == '-', "PEM file");
	if (f != NULL) {
		char line[64] = "";

		rewind(f);
		tap_ok(fgets(line, sizeof(line), f) != NULL &&
		    strncmp(line, "-----BEGIN PRIVATE KEY-----", 27) == 0,
		    "PKCS#8 PEM header");
		fclose(f);
	}

	chmod(p, 0640);
	tap_ok(ca_key_read(p, &k) == SCEP_E_CONFIG && k == NULL,
	    "group-readable key refused");
	chmod(p, 0604);
	tap_ok(ca_key_read(p, &k) == SCEP_E_CONFIG, "world-readable key refused");
	chmod(p, 0610);
	tap_ok(ca_key_read(p, &k) == SCEP_E_CONFIG, "group-exec bit refused");
	chmod(p, 0400);
	tap_ok(ca_key_read(p, &k) == SCEP_OK, "mode 0400 accepted");
	EVP_PKEY_free(k);
	k = NULL;
	chmod(p, 0600);

	tap_ok(ca_key_read(tpath(q, sizeof(q), "nonexistent.pem"), &k) ==
	    SCEP_E_IO, "missing key file is SCEP_E_IO");
	tap_ok(ca_key_read(tmpdir, &k) == SCEP_E_CONFIG,
	    "directory refused");

	tpath(q, sizeof(q), "garbage.pem");
	f = fopen(q, "w");
	fputs("-----BEGIN PRIVATE KEY-----\nnot base64\n"
	    "-----END PRIVATE KEY-----\n", f);
	fclose(f);
	chmod(q, 0600);
	tap_ok(ca_key_read(q, &k) == SCEP_E_MALFORMED, "garbage key refused");

	tpath(q, sizeof(q), "empty.pem");
	f = fopen(q, "w");
	fclose(f);
	chmod(q, 0600);
	tap_ok(ca_key_read(q, &k) == SCEP_E_CONFIG, "empty key file refused");

	/* An encrypted key must fail, not prompt on the terminal. */
	tpath(q, sizeof(q), "enc.pem");
	f = fopen(q, "w");
	bio = BIO_new_fp(f, BIO_NOCLOSE);
	PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_256_cbc(), "pass", 4,
	    NULL, NULL);
	BIO_free(bio);
	fclose(f);
	chmod(q, 0600);
	tap_ok(ca_key_read(q, &k) == SCEP_E_MALFORMED && k == NULL,
	    "encrypted key refused without prompting");
	ERR_clear_error();
}

/* Checks shared by every root. */
static void
check_root(const char *what, X509 *root, EVP_PKEY *key, int want_sig,
    int rsa, int days)
{
	uint32_t	 ku;

	tap_ok(X509_get_version(root) == X509_VERSION_3, "%s: v3", what);
	tap_ok(X509_NAME_cmp(X509_get_subject_name(root),
	    X509_get_issuer_name(root)) == 0, "%s: subject == issuer", what);
	tap_ok(ext_crit(root, NID_basic_constraints) == 1 &&
	    (X509_get_extension_flags(root) & EXFLAG_CA) != 0,
	    "%s: basicConstraints critical CA:TRUE", what);
	tap_ok(X509_get_pathlen(root) == -1, "%s: no pathLen", what);
	ku = X509_get_key_usage(root);
	tap_ok(ext_crit(root, NID_key_usage) == 1 &&
	    ku == (KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE |
	    (rsa ? KU_KEY_ENCIPHERMENT : 0)),
	    "%s: keyUsage critical, exact bits (0x%x)", what, ku);
	tap_ok(ski_is_hash(root), "%s: SKI is SHA-1 of key", what);
	tap_ok(aki_matches(root, root), "%s: AKI == SKI", what);
	tap_ok(ext_copies(root, NID_key_usage) == 1 &&
	    X509_get_ext_count(root) == 4, "%s: exactly 4 extensions", what);
	tap_ok(X509_verify(root, key) == 1, "%s: self-signature verifies",
	    what);
	tap_ok(X509_self_signed(root, 1) == 1, "%s: X509_self_signed", what);
	tap_ok(sig_nid(root) == want_sig, "%s: signature %s", what,
	    OBJ_nid2sn(want_sig));
	tap_ok(serial_len(root) == CA_SERIAL_LEN &&
	    ASN1_STRING_type(X509_get0_serialNumber(root)) == V_ASN1_INTEGER,
	    "%s: 16-byte positive serial", what);
	tap_ok(nb_of(root) == now && na_of(root) == now + (time_t)days * 86400,
	    "%s: validity now .. now+%d days", what, days);
	tap_ok(ca_import_check(root, key) == SCEP_OK, "%s: import check", what);
	tap_ok(chain_verify(root, NULL, root, 0, NULL) == X509_V_OK,
	    "%s: verifies as trust anchor", what);
}

static void
test_root(EVP_PKEY *rsa, EVP_PKEY *ec256, EVP_PKEY *ec384, EVP_PKEY *dsa,
    EVP_PKEY *rsa1024)
{
	X509	*x = NULL;
	X509	*other = NULL;
	char	 buf[64];

	tap_ok(ca_make_root(rsa, "CN=Test Root RSA,O=scepd", 3650, now, &x) ==
	    SCEP_OK, "root rsa2048");
	if (x != NULL) {
		check_root("root rsa", x, rsa, NID_sha256WithRSAEncryption, 1,
		    3650);
		tap_ok(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, buf, sizeof(buf)) > 0 &&
		    strcmp(buf, "Test Root RSA") == 0, "root rsa: CN");
		tap_ok(ca_import_check(x, ec256) == SCEP_E_BADKEY,
		    "import check: wrong key refused");
	}
	X509_free(x);
	x = NULL;

	tap_ok(ca_make_root(ec256, "/CN=Root P-256", 365, now, &x) == SCEP_OK,
	    "root ec256");
	if (x != NULL)
		check_root("root ec256", x, ec256, NID_ecdsa_with_SHA256, 0,
		    365);
	X509_free(x);
	x = NULL;

	tap_ok(ca_make_root(ec384, "/CN=Root P-384", 365, now, &x) == SCEP_OK,
	    "root ec384");
	if (x != NULL)
		check_root("root ec384", x, ec384, NID_ecdsa_with_SHA384, 0,
		    365);
	X509_free(x);
	x = NULL;

	/* RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime after. */
	tap_ok(ca_make_root(ec256, "/CN=Long Root", CA_MAX_ROOT_DAYS, 0, &x) ==
	    SCEP_OK && ASN1_STRING_type(X509_get0_notBefore(x)) ==
	    V_ASN1_UTCTIME && ASN1_STRING_type(X509_get0_notAfter(x)) ==
	    V_ASN1_UTCTIME, "root from 1970 for 30 years: UTCTime");
	X509_free(x);
	x = NULL;
	tap_ok(ca_make_root(ec256, "/CN=Long Root", CA_MAX_ROOT_DAYS,
	    2524608000 /* 2050-01-01 */ - 86400, &x) == SCEP_OK &&
	    ASN1_STRING_type(X509_get0_notBefore(x)) == V_ASN1_UTCTIME &&
	    ASN1_STRING_type(X509_get0_notAfter(x)) == V_ASN1_GENERALIZEDTIME &&
	    na_of(x) == 2524608000 - 86400 + (time_t)CA_MAX_ROOT_DAYS * 86400,
	    "root past 2049: notAfter is GeneralizedTime");
	X509_free(x);
	x = NULL;

	tap_ok(ca_make_root(dsa, "/CN=x", 365, now, &x) == SCEP_E_BADKEY &&
	    x == NULL, "root with DSA key refused");
	tap_ok(ca_make_root(rsa1024, "/CN=x", 365, now, &x) == SCEP_E_BADKEY,
	    "root with RSA 1024 refused");
	tap_ok(ca_make_root(rsa, "/CN=x", 0, now, &x) == SCEP_E_CONFIG,
	    "root with 0 days refused");
	tap_ok(ca_make_root(rsa, "/CN=x", CA_MAX_ROOT_DAYS + 1, now, &x) ==
	    SCEP_E_CONFIG, "root over CA_MAX_ROOT_DAYS refused");
	tap_ok(ca_make_root(rsa, "BAD", 365, now, &x) == SCEP_E_CONFIG,
	    "root with bad DN refused");

	/* Public-only key: equal public halves, but it cannot sign. */
	if (ca_make_root(rsa, "/CN=pair", 365, now, &other) == SCEP_OK) {
		EVP_PKEY *pub = X509_get_pubkey(other);	/* get1 */
		X509 *ra = NULL;

		tap_ok(ca_cert_check_pair(other, rsa) == SCEP_OK,
		    "check pair: matching");
		tap_ok(ca_cert_check_pair(other, pub) == SCEP_E_BADKEY,
		    "check pair: public-only key refused");
		tap_ok(ca_cert_check_pair(other, ec256) == SCEP_E_BADKEY,
		    "check pair: other key refused");
		/* A non-CA certificate cannot be imported as CA. */
		if (ca_make_ra(rsa, other, ec256, "/CN=ra", CA_RA_SIGN, 30,
		    now, &ra) == SCEP_OK)
			tap_ok(ca_import_check(ra, ec256) == SCEP_E_CONFIG,
			    "import check: end-entity refused");
		X509_free(ra);
		EVP_PKEY_free(pub);
		ERR_clear_error();
	}
	X509_free(other);
}

static void
test_ra(EVP_PKEY *ca_key, X509 *root, EVP_PKEY *rsa_ra, EVP_PKEY *ec_ra,
    EVP_PKEY *other)
{
	static const struct {
		int		 usage;
		uint32_t	 ku;
	} cases[] = {
		{ CA_RA_SIGN_ENCRYPT, KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT },
		{ CA_RA_SIGN, KU_DIGITAL_SIGNATURE },
		{ CA_RA_ENCRYPT, KU_KEY_ENCIPHERMENT },
	};
	X509	*ra = NULL;
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tap_ok(ca_make_ra(ca_key, root, rsa_ra, "CN=SCEP RA,O=scepd",
		    cases[i].usage, 365, now, &ra) == SCEP_OK,
		    "RA usage %d", cases[i].usage);
		if (ra == NULL)
			continue;
		tap_ok(X509_get_version(ra) == X509_VERSION_3 &&
		    X509_NAME_cmp(X509_get_issuer_name(ra),
		    X509_get_subject_name(root)) == 0,
		    "RA %d: v3, issuer = CA subject", cases[i].usage);
		tap_ok(ext_crit(ra, NID_basic_constraints) == 1 &&
		    (X509_get_extension_flags(ra) & EXFLAG_CA) == 0,
		    "RA %d: basicConstraints critical CA:FALSE",
		    cases[i].usage);
		tap_ok(ext_crit(ra, NID_key_usage) == 1 &&
		    X509_get_key_usage(ra) == cases[i].ku,
		    "RA %d: keyUsage exact", cases[i].usage);
		tap_ok(ext_crit(ra, NID_ext_key_usage) == -1,
		    "RA %d: no EKU (spec 15)", cases[i].usage);
		tap_ok(ski_is_hash(ra) && aki_matches(ra, root),
		    "RA %d: SKI, AKI = CA key id", cases[i].usage);
		tap_ok(X509_get_ext_count(ra) == 4,
		    "RA %d: exactly 4 extensions", cases[i].usage);
		tap_ok(X509_verify(ra, ca_key) == 1 &&
		    chain_verify(root, NULL, ra, 0, NULL) == X509_V_OK,
		    "RA %d: signature and chain verify", cases[i].usage);
		tap_ok(X509_check_issued(root, ra) == X509_V_OK,
		    "RA %d: X509_check_issued", cases[i].usage);
		tap_ok(nb_of(ra) == now && na_of(ra) == now + 365 * 86400,
		    "RA %d: validity", cases[i].usage);
		tap_ok(serial_len(ra) == CA_SERIAL_LEN, "RA %d: serial",
		    cases[i].usage);
		X509_free(ra);
		ra = NULL;
	}

	tap_ok(ca_make_ra(ca_key, root, ec_ra, "/CN=ec sign RA", CA_RA_SIGN,
	    365, now, &ra) == SCEP_OK && X509_get_key_usage(ra) ==
	    KU_DIGITAL_SIGNATURE, "EC signing RA");
	X509_free(ra);
	ra = NULL;
	tap_ok(ca_make_ra(ca_key, root, ec_ra, "/CN=ec RA", CA_RA_SIGN_ENCRYPT,
	    365, now, &ra) == SCEP_E_BADKEY && ra == NULL,
	    "EC RA that decrypts refused");
	tap_ok(ca_make_ra(ca_key, root, ec_ra, "/CN=ec RA", CA_RA_ENCRYPT,
	    365, now, &ra) == SCEP_E_BADKEY, "EC encryption RA refused");
	tap_ok(ca_make_ra(ca_key, root, rsa_ra, "/CN=ra", 4, 365, now, &ra) ==
	    SCEP_E_CONFIG, "RA usage 4 refused");
	tap_ok(ca_make_ra(ca_key, root, rsa_ra, "/CN=ra", 0, 365, now, &ra) ==
	    SCEP_E_CONFIG, "RA usage 0 refused");
	tap_ok(ca_make_ra(other, root, rsa_ra, "/CN=ra", 1, 365, now, &ra) ==
	    SCEP_E_BADKEY, "RA with a CA key that does not match refused");
	ERR_clear_error();
	tap_ok(ca_make_ra(ca_key, root, rsa_ra, "/CN=ra", 1, 0, now, &ra) ==
	    SCEP_E_CONFIG, "RA with 0 days refused");

	/* Never outlive the CA: cut to its notAfter. */
	tap_ok(ca_make_ra(ca_key, root, rsa_ra, "/CN=long RA", 1,
	    CA_MAX_RA_DAYS, now, &ra) == SCEP_OK && na_of(ra) == na_of(root) &&
	    chain_verify(root, NULL, ra, 0, NULL) == X509_V_OK,
	    "RA validity cut to the CA's notAfter");
	X509_free(ra);
	ra = NULL;
	tap_ok(ca_make_ra(ca_key, root, rsa_ra, "/CN=late RA", 1, 30,
	    na_of(root), &ra) == SCEP_E_CONFIG, "RA under an expired CA refused");
}

/* A template with all fields set to something valid. */
struct tmpl_ctx {
	struct issue_tmpl	 t;
	X509_NAME		*subject;
	GENERAL_NAMES		*sans;
	uint8_t			 serial[20];	/* keyops_issue's choice */
};

static void
tmpl_init(struct tmpl_ctx *c, int kind, EVP_PKEY *pub)
{
	memset(c, 0, sizeof(*c));
	ca_dn_parse("CN=alice,O=scepd", &c->subject);
	ca_serial_random(c->serial);
	c->t.kind = kind;
	c->t.subject = c->subject;
	c->t.pubkey = pub;
	c->t.not_before = now - 300;
	c->t.not_after = now + 365 * 86400;
}

static void
tmpl_clear(struct tmpl_ctx *c)
{
	X509_NAME_free(c->subject);
	GENERAL_NAMES_free(c->sans);
}

static void
test_issue(struct keyops *ko, EVP_PKEY *ca_key, X509 *root, EVP_PKEY *sub_rsa,
    EVP_PKEY *sub_ec, EVP_PKEY *sub_ec384)
{
	struct tmpl_ctx	 c;
	X509		*x = NULL;
	X509_NAME	*dn = NULL;
	int		 r, i;

	/* Client certificate, RSA subject, every SAN type and a CRL DP. */
	tmpl_init(&c, ISSUE_CLIENT, sub_rsa);
	c.sans = GENERAL_NAMES_new();
	sk_GENERAL_NAME_push(c.sans, gn_ia5(GEN_DNS, "host.example.com"));
	sk_GENERAL_NAME_push(c.sans, gn_ia5(GEN_EMAIL, "alice@example.com"));
	sk_GENERAL_NAME_push(c.sans, gn_ia5(GEN_URI, "urn:uuid:1234"));
	sk_GENERAL_NAME_push(c.sans, gn_ip("192.0.2.1"));
	sk_GENERAL_NAME_push(c.sans, gn_ip("2001:db8::1"));
	sk_GENERAL_NAME_push(c.sans, gn_other("1.3.6.1.4.1.311.20.2.3",
	    "alice@corp.example"));
	/* Types we never issue: dropped. */
	sk_GENERAL_NAME_push(c.sans, gn_other("1.3.6.1.5.5.7.8.3", "perm"));
	{
		GENERAL_NAME *gn = GENERAL_NAME_new();

		ca_dn_parse("/CN=dirname", &dn);
		GENERAL_NAME_set0_value(gn, GEN_DIRNAME, dn);
		dn = NULL;
		sk_GENERAL_NAME_push(c.sans, gn);
		gn = GENERAL_NAME_new();
		GENERAL_NAME_set0_value(gn, GEN_RID,
		    OBJ_txt2obj("1.2.3.4", 1));
		sk_GENERAL_NAME_push(c.sans, gn);
	}
	c.t.sans = c.sans;
	c.t.crl_url = "http://ca.example.com/crl/1.crl";
	r = keyops_issue(ko, 1, &c.t, &x, c.serial);
	tap_ok(r == SCEP_OK && x != NULL, "issue client cert (r=%d)", r);
	if (x != NULL) {
		uint8_t sbuf[32];
		BIGNUM *sbn;
		int slen;

		tap_ok(X509_get_version(x) == X509_VERSION_3, "client: v3");
		sbn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
		slen = BN_bn2bin(sbn, sbuf);
		BN_free(sbn);
		tap_ok(slen == ISSUE_SERIAL_LEN &&
		    memcmp(sbuf, c.serial, ISSUE_SERIAL_LEN) == 0 &&
		    sbuf[0] >= 0x01 && sbuf[0] <= 0x7f,
		    "client: serial drawn by keyops (16 bytes, positive, "
		    "minimal) and returned");
		tap_ok(X509_NAME_cmp(X509_get_issuer_name(x),
		    X509_get_subject_name(root)) == 0, "client: issuer");
		tap_ok(X509_NAME_cmp(X509_get_subject_name(x), c.subject) == 0,
		    "client: subject");
		tap_ok(nb_of(x) == now - 300 && na_of(x) == now + 365 * 86400,
		    "client: validity from template");
		tap_ok(EVP_PKEY_eq(X509_get0_pubkey(x), sub_rsa) == 1,
		    "client: subject key");
		tap_ok(ext_crit(x, NID_basic_constraints) == 1 &&
		    (X509_get_extension_flags(x) & EXFLAG_CA) == 0 &&
		    (X509_get_extension_flags(x) & EXFLAG_BCONS) != 0,
		    "client: basicConstraints critical CA:FALSE");
		tap_ok(ext_crit(x, NID_key_usage) == 1 && X509_get_key_usage(x)
		    == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT),
		    "client: keyUsage digitalSignature+keyEncipherment");
		tap_ok(ext_crit(x, NID_ext_key_usage) == 0 &&
		    X509_get_extended_key_usage(x) == (XKU_SSL_CLIENT | XKU_SMIME),
		    "client: EKU clientAuth+emailProtection");
		tap_ok(ski_is_hash(x), "client: SKI");
		tap_ok(aki_matches(x, root), "client: AKI = CA key id");
		tap_ok(ext_crit(x, NID_subject_alt_name) == 0 &&
		    san_count(x) == 6, "client: 6 SANs, non-critical (got %d)",
		    san_count(x));
		tap_ok(has_san(x, GEN_DNS, "host.example.com") &&
		    has_san(x, GEN_EMAIL, "alice@example.com") &&
		    has_san(x, GEN_URI, "urn:uuid:1234") &&
		    has_san(x, GEN_IPADD, NULL) &&
		    has_san(x, GEN_OTHERNAME, "alice@corp.example"),
		    "client: DNS, email, URI, IP, UPN copied");
		tap_ok(!has_san(x, GEN_DIRNAME, NULL) &&
		    !has_san(x, GEN_RID, NULL),
		    "client: dirName and RID dropped");
		tap_ok(crldp_is(x, "http://ca.example.com/crl/1.crl"),
		    "client: CRL distribution point");
		tap_ok(X509_get_ext_count(x) == 7,
		    "client: exactly 7 extensions (got %d)",
		    X509_get_ext_count(x));
		for (i = 0, r = 1; i < X509_get_ext_count(x); i++)
			if (ext_copies(x, OBJ_obj2nid(X509_EXTENSION_get_object(
			    X509_get_ext(x, i)))) != 1)
				r = 0;
		tap_ok(r, "client: no duplicated extension");
		tap_ok(sig_nid(x) == NID_sha256WithRSAEncryption,
		    "client: sha256WithRSAEncryption");
		tap_ok(X509_verify(x, ca_key) == 1, "client: X509_verify");
		tap_ok(chain_verify(root, NULL, x, X509_PURPOSE_SSL_CLIENT,
		    NULL) == X509_V_OK, "client: chain verifies for sslclient");
		tap_ok(chain_verify(root, NULL, x, X509_PURPOSE_SMIME_SIGN,
		    NULL) == X509_V_OK, "client: chain verifies for S/MIME");
		tap_ok(chain_verify(root, NULL, x, X509_PURPOSE_SSL_SERVER,
		    NULL) == X509_V_ERR_INVALID_PURPOSE,
		    "client: not valid for sslserver");
	}
	X509_free(x);
	x = NULL;
	tmpl_clear(&c);

	/* Device certificate, EC subject, serverAuth. */
	tmpl_init(&c, ISSUE_DEVICE, sub_ec);
	c.t.server_auth = 1;
	r = keyops_issue(ko, 1, &c.t, &x, c.serial);
	tap_ok(r == SCEP_OK, "issue device cert, EC key (r=%d)", r);
	if (x != NULL) {
		tap_ok(X509_get_key_usage(x) ==
		    (KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT),
		    "device: keyUsage digitalSignature+keyAgreement");
		tap_ok(X509_get_extended_key_usage(x) ==
		    (XKU_SSL_CLIENT | XKU_SSL_SERVER),
		    "device: EKU clientAuth+serverAuth");
		tap_ok(serial_len(x) == ISSUE_SERIAL_LEN,
		    "device: 16-byte serial");
		tap_ok(X509_get_ext_count(x) == 5 &&
		    ext_crit(x, NID_subject_alt_name) == -1 &&
		    ext_crit(x, NID_crl_distribution_points) == -1,
		    "device: 5 extensions, no SAN, no CRL DP");
		tap_ok(chain_verify(root, NULL, x, X509_PURPOSE_SSL_SERVER,
		    NULL) == X509_V_OK, "device: chain verifies for sslserver");
		tap_ok(chain_verify(root, NULL, x, X509_PURPOSE_SSL_CLIENT,
		    NULL) == X509_V_OK, "device: chain verifies for sslclient");
	}
	X509_free(x);
	x = NULL;
	tmpl_clear(&c);

	tmpl_init(&c, ISSUE_DEVICE, sub_ec384);
	tap_ok(keyops_issue(ko, 1, &c.t, &x, c.serial) == SCEP_OK &&
	    X509_get_extended_key_usage(x) == XKU_SSL_CLIENT &&
	    chain_verify(root, NULL, x, X509_PURPOSE_SSL_SERVER, NULL) ==
	    X509_V_ERR_INVALID_PURPOSE,
	    "device without server_auth: clientAuth only (P-384 subject)");
	X509_free(x);
	x = NULL;
	tmpl_clear(&c);

	/* Empty subject: the SAN carries the identity and is critical. */
	tmpl_init(&c, ISSUE_DEVICE, sub_ec);
	X509_NAME_free(c.subject);
	c.subject = X509_NAME_new();
	c.t.subject = c.subject;
	c.sans = GENERAL_NAMES_new();
	sk_GENERAL_NAME_push(c.sans, gn_ia5(GEN_DNS, "dev1.example.com"));
	c.t.sans = c.sans;
	tap_ok(keyops_issue(ko, 1, &c.t, &x, c.serial) == SCEP_OK &&
	    ext_crit(x, NID_subject_alt_name) == 1,
	    "empty subject: SAN is critical");
	X509_free(x);
	x = NULL;
	c.t.sans = NULL;
	tap_ok(keyops_issue(ko, 1, &c.t, &x, c.serial) == SCEP_E_DENIED &&
	    x == NULL,
	    "empty subject without SAN refused");
	/* Only dropped types left: same as no SAN. */
	GENERAL_NAMES_free(c.sans);
	c.sans = GENERAL_NAMES_new();
	sk_GENERAL_NAME_push(c.sans, gn_other("1.3.6.1.5.5.7.8.3", "perm"));
	c.t.sans = c.sans;
	tap_ok(keyops_issue(ko, 1, &c.t, &x, c.serial) == SCEP_E_DENIED,
	    "empty subject with only dropped SAN types refused");
	tmpl_clear(&c);

	/* not_after past the CA: cut to the CA's notAfter. */
	tmpl_init(&c, ISSUE_CLIENT, sub_rsa);
	c.t.not_after = na_of(root) + 86400;
	c.t.not_before = c.t.not_after - 400 * 86400;
	tap_ok(keyops_issue(ko, 1, &c.t, &x, c.serial) == SCEP_OK &&
	    na_of(x) == na_of(root), "validity cut to the CA's notAfter");
	X509_free(x);
	x = NULL;
	c.t.not_before = na_of(root);
	c.t.not_after = na_of(root) + 86400;
	tap_ok(keyops_issue(ko, 1, &c.t, &x, c.serial) == SCEP_E_DENIED,
	    "validity entirely after the CA refused");
	tmpl_clear(&c);

	tmpl_init(&c, ISSUE_CLIENT, sub_rsa);
	c.t.not_after = c.t.not_before + (time_t)ISSUE_MAX_DAYS * 86400;
	tap_ok(keyops_issue(ko, 1, &c.t, &x, c.serial) == SCEP_OK,
	    "validity of exactly ISSUE_MAX_DAYS accepted");
	X509_free(x);
	x = NULL;
	tap_ok(keyops_issue(ko, 99, &c.t, &x, c.serial) == SCEP_E_NOTFOUND &&
	    x == NULL,
	    "unknown CA id is SCEP_E_NOTFOUND");
	tmpl_clear(&c);

	/* The serial checks of ca_issue_build, which keyops_issue feeds
	 * with its own draws: 16..20 bytes, positive, minimal. */
	tmpl_init(&c, ISSUE_CLIENT, sub_rsa);
	ca_serial_random(c.serial);
	for (i = 0; i < 5; i++) {
		static const char *what[] = { "15 bytes", "21 bytes",
		    "top bit set (negative)", "leading zero byte", "none" };
		uint8_t bad[21];
		size_t blen = CA_SERIAL_LEN;

		memcpy(bad, c.serial, CA_SERIAL_LEN);
		memset(bad + CA_SERIAL_LEN, 0x11, sizeof(bad) - CA_SERIAL_LEN);
		if (i == 0)
			blen = 15;
		else if (i == 1)
			blen = 21;
		else if (i == 2)
			bad[0] |= 0x80;
		else if (i == 3)
			bad[0] = 0;
		x = NULL;
		tap_ok(ca_issue_build(ca_key, root, &c.t, i == 4 ? NULL : bad,
		    blen, &x) == SCEP_E_DENIED && x == NULL,
		    "ca_issue_build refuses serial: %s", what[i]);
		X509_free(x);
	}
	x = NULL;
	c.serial[0] = 0x01;
	tap_ok(ca_issue_build(ca_key, root, &c.t, c.serial, 20, &x) ==
	    SCEP_OK && serial_len(x) == 20, "ca_issue_build: 20-byte serial");
	X509_free(x);
	x = NULL;
	tmpl_clear(&c);
	ERR_clear_error();
}

/* Templates that must be refused, one change each from a valid one. */
static void
test_issue_refused(struct keyops *ko, EVP_PKEY *sub_rsa, EVP_PKEY *rsa1024,
    EVP_PKEY *dsa, EVP_PKEY *ed25519, EVP_PKEY *k256k1)
{
	struct tmpl_ctx	 c;
	X509		*x = NULL;
	int		 r, i;

#define REFUSE(want, what, change) do {					\
	tmpl_init(&c, ISSUE_CLIENT, sub_rsa);				\
	change;								\
	x = NULL;							\
	r = keyops_issue(ko, 1, &c.t, &x, c.serial);			\
	tap_ok(r == (want) && x == NULL, "refused: %s (r=%d)", what, r); \
	X509_free(x);							\
	tmpl_clear(&c);							\
	ERR_clear_error();						\
} while (0)

	REFUSE(SCEP_E_DENIED, "CA-sized validity (10 years)",
	    c.t.not_after = c.t.not_before + 3653 * 86400);
	REFUSE(SCEP_E_DENIED, "ISSUE_MAX_DAYS + 1 second",
	    c.t.not_after = c.t.not_before + (time_t)ISSUE_MAX_DAYS * 86400
	    + 1);
	REFUSE(SCEP_E_DENIED, "not_after == not_before",
	    c.t.not_after = c.t.not_before);
	REFUSE(SCEP_E_DENIED, "not_after < not_before",
	    c.t.not_after = c.t.not_before - 1);
	REFUSE(SCEP_E_DENIED, "negative not_before",
	    c.t.not_before = -1);
	REFUSE(SCEP_E_BADKEY, "RSA 1024 without legacy",
	    c.t.pubkey = rsa1024);
	REFUSE(SCEP_E_BADKEY, "DSA key", c.t.pubkey = dsa);
	REFUSE(SCEP_E_BADKEY, "Ed25519 key", c.t.pubkey = ed25519);
	REFUSE(SCEP_E_BADKEY, "secp256k1 key", c.t.pubkey = k256k1);
	REFUSE(SCEP_E_BADKEY, "DSA key even with legacy",
	    (c.t.pubkey = dsa, c.t.legacy = 1));
	REFUSE(SCEP_E_BADKEY, "no key", c.t.pubkey = NULL);
	REFUSE(SCEP_E_DENIED, "kind 0", c.t.kind = 0);
	REFUSE(SCEP_E_DENIED, "kind 3", c.t.kind = 3);
	REFUSE(SCEP_E_DENIED, "client with serverAuth", c.t.server_auth = 1);
	REFUSE(SCEP_E_DENIED, "CRL URL ftp://",
	    c.t.crl_url = "ftp://ca.example.com/x.crl");
	REFUSE(SCEP_E_DENIED, "CRL URL with a space",
	    c.t.crl_url = "http://ca.example.com/a b.crl");
	REFUSE(SCEP_E_DENIED, "CRL URL scheme only", c.t.crl_url = "http://");
	REFUSE(SCEP_E_MALFORMED, "DNS SAN with a space",
	    (c.sans = GENERAL_NAMES_new(),
	    sk_GENERAL_NAME_push(c.sans, gn_ia5(GEN_DNS, "a b.example")),
	    c.t.sans = c.sans));
	REFUSE(SCEP_E_MALFORMED, "email SAN without @",
	    (c.sans = GENERAL_NAMES_new(),
	    sk_GENERAL_NAME_push(c.sans, gn_ia5(GEN_EMAIL, "alice")),
	    c.t.sans = c.sans));
	REFUSE(SCEP_E_MALFORMED, "empty DNS SAN",
	    (c.sans = GENERAL_NAMES_new(),
	    sk_GENERAL_NAME_push(c.sans, gn_ia5(GEN_DNS, "")),
	    c.t.sans = c.sans));
	REFUSE(SCEP_E_MALFORMED, "UPN with a control character",
	    (c.sans = GENERAL_NAMES_new(),
	    sk_GENERAL_NAME_push(c.sans, gn_other("1.3.6.1.4.1.311.20.2.3",
	    "a\x01" "b")), c.t.sans = c.sans));
	REFUSE(SCEP_E_MALFORMED, "UPN with invalid UTF-8",
	    (c.sans = GENERAL_NAMES_new(),
	    sk_GENERAL_NAME_push(c.sans, gn_other("1.3.6.1.4.1.311.20.2.3",
	    "a\xc0\xafz")), c.t.sans = c.sans));
	REFUSE(SCEP_E_DENIED, "SCEP_MAX_SANS + 1 SANs",
	    do {
		c.sans = GENERAL_NAMES_new();
		for (i = 0; i <= SCEP_MAX_SANS; i++)
			sk_GENERAL_NAME_push(c.sans, gn_ia5(GEN_DNS, "x.example"));
		c.t.sans = c.sans;
	    } while (0));
	REFUSE(SCEP_E_DENIED, "SCEP_MAX_RDNS + 1 subject RDNs",
	    do {
		for (i = 0; i < SCEP_MAX_RDNS; i++)
			X509_NAME_add_entry_by_txt(c.subject, "OU",
			    MBSTRING_ASC, (const unsigned char *)"u", 1, -1, 0);
	    } while (0));
#undef REFUSE

	tmpl_init(&c, ISSUE_CLIENT, rsa1024);
	c.t.legacy = 1;
	tap_ok(keyops_issue(ko, 1, &c.t, &x, c.serial) == SCEP_OK &&
	    EVP_PKEY_get_bits(X509_get0_pubkey(x)) == 1024,
	    "RSA 1024 accepted with legacy");
	X509_free(x);
	x = NULL;
	tmpl_clear(&c);
	tap_ok(keyops_issue(ko, 1, NULL, &x, NULL) == SCEP_E_INTERNAL,
	    "NULL template refused");
}

static void
test_crl(struct keyops *ko, EVP_PKEY *ca_key, X509 *root, EVP_PKEY *sub)
{
	static const struct crl_entry ents[] = {
		{ "1A2B3C4D5E6F7081", 1000000000, 1 },	/* keyCompromise */
		{ "0F", 1000000100, -1 },
		{ "abc", 1000000200, 0 },		/* unspecified */
		{ "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 1000000300, 10 },
		{ "DEADBEEF", 1000000400, 5 },		/* cessation */
	};
	static const int want_reason[] = { 1, -1, -1, 10, 5 };
	X509_CRL		*crl = NULL;
	X509_REVOKED		*rev = NULL;
	ASN1_INTEGER		*ai = NULL, *num = NULL;
	ASN1_ENUMERATED		*reason = NULL;
	AUTHORITY_KEYID		*aki = NULL;
	BIGNUM			*bn = NULL;
	struct tmpl_ctx		 c;
	struct crl_entry	 bad;
	X509			*x = NULL, *y = NULL;
	time_t			 t;
	size_t			 i;
	int			 r, crit, ok;

	r = keyops_sign_crl(ko, 1, ents, sizeof(ents) / sizeof(ents[0]), 42,
	    now, now + 7 * 86400, &crl);
	tap_ok(r == SCEP_OK && crl != NULL, "CRL signed (r=%d)", r);
	if (crl == NULL)
		return;
	tap_ok(X509_CRL_verify(crl, ca_key) == 1, "CRL verifies with CA key");
	tap_ok(X509_CRL_get_version(crl) == X509_CRL_VERSION_2, "CRL v2");
	tap_ok(X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(root)) == 0, "CRL issuer");
	tap_ok(ca_asn1_time_get(X509_CRL_get0_lastUpdate(crl), &t) ==
	    SCEP_OK && t == now, "CRL thisUpdate");
	tap_ok(ca_asn1_time_get(X509_CRL_get0_nextUpdate(crl), &t) ==
	    SCEP_OK && t == now + 7 * 86400, "CRL nextUpdate");
	tap_ok(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) == 5,
	    "CRL has 5 entries");
	tap_ok(X509_CRL_get_signature_nid(crl) == NID_sha256WithRSAEncryption,
	    "CRL sha256WithRSAEncryption");

	for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		bn = NULL;
		BN_hex2bn(&bn, ents[i].serial_hex);
		ai = BN_to_ASN1_INTEGER(bn, NULL);
		rev = NULL;
		ok = X509_CRL_get0_by_serial(crl, &rev, ai) == 1 && rev != NULL;
		tap_ok(ok, "CRL contains %s", ents[i].serial_hex);
		if (ok) {
			tap_ok(ca_asn1_time_get(
			    X509_REVOKED_get0_revocationDate(rev), &t) ==
			    SCEP_OK && t == ents[i].revoked_at,
			    "entry %s: revocationDate", ents[i].serial_hex);
			reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason,
			    &crit, NULL);	/* get1 */
			if (want_reason[i] < 0)
				tap_ok(reason == NULL && crit == -1,
				    "entry %s: no reasonCode",
				    ents[i].serial_hex);
			else
				tap_ok(reason != NULL && crit == 0 &&
				    ASN1_ENUMERATED_get(reason) ==
				    want_reason[i],
				    "entry %s: reasonCode %d",
				    ents[i].serial_hex, want_reason[i]);
			ASN1_ENUMERATED_free(reason);
		}
		ASN1_INTEGER_free(ai);
		BN_free(bn);
	}
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	tap_ok(num != NULL && crit == 0 && ASN1_INTEGER_get(num) == 42,
	    "crlNumber 42");
	ASN1_INTEGER_free(num);
	aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit,
	    NULL);
	tap_ok(aki != NULL && aki->keyid != NULL &&
	    ASN1_OCTET_STRING_cmp(aki->keyid,
	    X509_get0_subject_key_id(root)) == 0, "CRL AKI = CA key id");
	AUTHORITY_KEYID_free(aki);
	tap_ok(X509_CRL_get_ext_count(crl) == 2, "CRL: 2 extensions");

	/* The CRL works in a real chain check: issue one certificate with a
	 * revoked serial and one without. */
	tmpl_init(&c, ISSUE_CLIENT, sub);
	memset(c.serial, 0, sizeof(c.serial));
	c.serial[0] = 0x7f;
	for (i = 1; i < 20; i++)
		c.serial[i] = 0xff;
	/* keyops_issue draws its own serial: build this one directly. */
	r = ca_issue_build(ca_key, root, &c.t, c.serial, 20, &x); /* entry 4 */
	if (r == SCEP_OK)
		r = keyops_issue(ko, 1, &c.t, &y, c.serial);
	tmpl_clear(&c);
	tap_ok(r == SCEP_OK && chain_verify(root, NULL, x,
	    X509_PURPOSE_SSL_CLIENT, crl) == X509_V_ERR_CERT_REVOKED,
	    "X509_STORE with CRL: revoked certificate rejected");
	tap_ok(r == SCEP_OK && chain_verify(root, NULL, y,
	    X509_PURPOSE_SSL_CLIENT, crl) == X509_V_OK,
	    "X509_STORE with CRL: other certificate accepted");
	X509_free(x);
	X509_free(y);
	X509_CRL_free(crl);
	crl = NULL;

	tap_ok(keyops_sign_crl(ko, 1, NULL, 0, 0, now, now + 86400, &crl) ==
	    SCEP_OK && X509_CRL_verify(crl, ca_key) == 1 &&
	    X509_CRL_get_REVOKED(crl) == NULL,
	    "empty CRL verifies, revokedCertificates absent (RFC 5280 5.1.2.6)");
	X509_CRL_free(crl);
	crl = NULL;

#define CRL_REFUSE(want, what, ser, rsn, n_, num_, tu, nu) do {		\
	bad.serial_hex = (ser);						\
	bad.revoked_at = now;						\
	bad.reason = (rsn);						\
	r = keyops_sign_crl(ko, 1, &bad, (n_), (num_), (tu), (nu), &crl); \
	tap_ok(r == (want) && crl == NULL, "CRL refused: %s (r=%d)",	\
	    what, r);							\
	X509_CRL_free(crl);						\
	crl = NULL;							\
} while (0)
	CRL_REFUSE(SCEP_E_MALFORMED, "serial not hex", "XYZ", 1, 1, 1, now,
	    now + 1);
	CRL_REFUSE(SCEP_E_MALFORMED, "negative serial", "-1", 1, 1, 1, now,
	    now + 1);
	CRL_REFUSE(SCEP_E_MALFORMED, "zero serial", "0", 1, 1, 1, now, now + 1);
	CRL_REFUSE(SCEP_E_MALFORMED, "empty serial", "", 1, 1, 1, now, now + 1);
	CRL_REFUSE(SCEP_E_MALFORMED, "NULL serial", NULL, 1, 1, 1, now,
	    now + 1);
	CRL_REFUSE(SCEP_E_MALFORMED, "41 hex digits",
	    "1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 1, 1, 1, now, now + 1);
	CRL_REFUSE(SCEP_E_MALFORMED, "reason 7", "01", 7, 1, 1, now, now + 1);
	CRL_REFUSE(SCEP_E_MALFORMED, "reason 8 (delta only)", "01", 8, 1, 1,
	    now, now + 1);
	CRL_REFUSE(SCEP_E_MALFORMED, "reason 11", "01", 11, 1, 1, now, now + 1);
	CRL_REFUSE(SCEP_E_MALFORMED, "reason -2", "01", -2, 1, 1, now, now + 1);
	CRL_REFUSE(SCEP_E_MALFORMED, "nextUpdate == thisUpdate", "01", 1, 1, 1,
	    now, now);
	CRL_REFUSE(SCEP_E_MALFORMED, "negative crlNumber", "01", 1, 1, -1, now,
	    now + 1);
	CRL_REFUSE(SCEP_E_TOOBIG, "too many entries", "01", 1, 1000001, 1,
	    now, now + 1);
#undef CRL_REFUSE
	{
		struct crl_entry dup[2] = {
			{ "ABCD", 1000, 1 }, { "00abcd", 2000, 2 },
		};

		tap_ok(keyops_sign_crl(ko, 1, dup, 2, 1, now, now + 1, &crl) ==
		    SCEP_E_MALFORMED && crl == NULL,
		    "CRL refused: duplicate serial");
	}
	tap_ok(keyops_sign_crl(ko, 7, ents, 1, 1, now, now + 1, &crl) ==
	    SCEP_E_NOTFOUND, "CRL for unknown CA is SCEP_E_NOTFOUND");
}

static void
test_keyops_load(struct keyops *ko, EVP_PKEY *ca_key, X509 *root,
    EVP_PKEY *ec384, X509 *root384, EVP_PKEY *ra_key, EVP_PKEY *sub)
{
	X509		*ra = NULL, *ra2 = NULL, *x = NULL;
	unsigned char	*der = NULL, *der2 = NULL;
	char		 p[512];
	struct tmpl_ctx	 c;
	X509_CRL	*crl = NULL;
	int		 len;

	tap_ok(keyops_ca_cert(ko, 1) != NULL &&
	    X509_cmp(keyops_ca_cert(ko, 1), root) == 0,
	    "keyops_ca_cert returns the loaded CA");
	tap_ok(keyops_ca_cert(ko, 5) == NULL, "keyops_ca_cert: unknown id");

	/* Group-readable key file: refused even though it is correct. */
	tpath(p, sizeof(p), "ca-bad.pem");
	unlink(p);
	ca_key_write(p, ca_key);
	chmod(p, 0644);
	len = i2d_X509(root, &der);
	tap_ok(keyops_load_ca(ko, 2, p, der, (size_t)len) == SCEP_E_CONFIG &&
	    keyops_ca_cert(ko, 2) == NULL,
	    "keyops_load_ca: world-readable key refused");
	chmod(p, 0600);
	tap_ok(keyops_load_ca(ko, 2, p, der, (size_t)len - 1) ==
	    SCEP_E_MALFORMED, "keyops_load_ca: truncated cert refused");
	der2 = OPENSSL_malloc((size_t)len + 1);
	memcpy(der2, der, (size_t)len);
	der2[len] = 0;
	tap_ok(keyops_load_ca(ko, 2, p, der2, (size_t)len + 1) ==
	    SCEP_E_TRAILING, "keyops_load_ca: trailing byte refused");
	OPENSSL_free(der2);
	tap_ok(keyops_load_ca(ko, 0, p, der, (size_t)len) == SCEP_E_CONFIG,
	    "keyops_load_ca: id 0 refused");
	tap_ok(keyops_load_ca(ko, 2, p, der, CA_MAX_CERT_DER + 1) ==
	    SCEP_E_TOOBIG, "keyops_load_ca: oversized cert refused");
	OPENSSL_free(der);
	der = NULL;
	/* Key of another CA. */
	tap_ok(load_ca(ko, 2, ec384, root, "ca-mismatch.pem") ==
	    SCEP_E_BADKEY, "keyops_load_ca: key does not match cert");
	ERR_clear_error();

	/* P-384 CA: signs with SHA-384. */
	tap_ok(load_ca(ko, 3, ec384, root384, "ca384.pem") == SCEP_OK,
	    "keyops_load_ca P-384");
	tmpl_init(&c, ISSUE_DEVICE, sub);
	tap_ok(keyops_issue(ko, 3, &c.t, &x, c.serial) == SCEP_OK &&
	    X509_get_signature_nid(x) == NID_ecdsa_with_SHA384 &&
	    X509_verify(x, ec384) == 1 &&
	    chain_verify(root384, NULL, x, X509_PURPOSE_SSL_CLIENT, NULL) ==
	    X509_V_OK, "P-384 CA issues ecdsa-with-SHA384, chain verifies");
	tmpl_clear(&c);
	X509_free(x);
	x = NULL;
	tap_ok(keyops_sign_crl(ko, 3, NULL, 0, 5, now, now + 86400, &crl) ==
	    SCEP_OK && X509_CRL_get_signature_nid(crl) ==
	    NID_ecdsa_with_SHA384 && X509_CRL_verify(crl, ec384) == 1,
	    "P-384 CA signs a CRL with ecdsa-with-SHA384");
	X509_CRL_free(crl);

	/* RAs. */
	ca_make_ra(ca_key, root, ra_key, "/CN=RA", CA_RA_SIGN_ENCRYPT, 365, now,
	    &ra);
	tap_ok(load_ra(ko, 10, 1, ra_key, ra, "ra10.pem") == SCEP_OK &&
	    X509_cmp(keyops_ra_cert(ko, 10), ra) == 0, "keyops_load_ra");
	tap_ok(load_ra(ko, 11, 9, ra_key, ra, "ra11.pem") == SCEP_E_NOTFOUND,
	    "keyops_load_ra: CA not loaded");
	tap_ok(load_ra(ko, 11, 3, ra_key, ra, "ra11.pem") == SCEP_E_CONFIG &&
	    keyops_ra_cert(ko, 11) == NULL,
	    "keyops_load_ra: RA not issued by that CA refused");
	tap_ok(load_ra(ko, 11, 1, ca_key, root, "ra11.pem") == SCEP_E_CONFIG,
	    "keyops_load_ra: a CA certificate as RA refused");
	tap_ok(load_ra(ko, 11, 1, ec384, ra, "ra11.pem") == SCEP_E_BADKEY,
	    "keyops_load_ra: key does not match");
	ERR_clear_error();
	/* Replace RA 10: the old borrowed pointer stays valid. */
	x = keyops_ra_cert(ko, 10);
	ca_make_ra(ca_key, root, ra_key, "/CN=RA 2", CA_RA_SIGN_ENCRYPT, 365,
	    now, &ra2);
	tap_ok(load_ra(ko, 10, 1, ra_key, ra2, "ra10b.pem") == SCEP_OK &&
	    X509_cmp(keyops_ra_cert(ko, 10), ra2) == 0 &&
	    X509_cmp(x, ra) == 0, "RA reload replaces; old pointer still valid");
	x = NULL;
	X509_free(ra);
	X509_free(ra2);
}

/* Concurrent issuance from 4 threads while the CA is reloaded. */
#define THR_N		4
#define THR_CERTS	25

struct thr_arg {
	struct keyops	*ko;
	EVP_PKEY	*sub;
	EVP_PKEY	*ca_pub;
	int		 ok;
	int		 done;
	uint8_t		 serials[THR_CERTS][CA_SERIAL_LEN];
};

static void *
thr_issue(void *p)
{
	struct thr_arg	*a = p;
	struct tmpl_ctx	 c;
	X509		*x;
	int		 i;

	a->ok = 1;
	for (i = 0; i < THR_CERTS; i++) {
		tmpl_init(&c, ISSUE_CLIENT, a->sub);
		x = NULL;
		if (keyops_issue(a->ko, 1, &c.t, &x, c.serial) != SCEP_OK ||
		    X509_verify(x, a->ca_pub) != 1)
			a->ok = 0;
		else
			a->done++;
		memcpy(a->serials[i], c.serial, CA_SERIAL_LEN);
		X509_free(x);
		tmpl_clear(&c);
	}
	ERR_clear_error();
	return NULL;
}

static void
test_threads(struct keyops *ko, EVP_PKEY *ca_key, X509 *root, EVP_PKEY *sub)
{
	struct thr_arg	 args[THR_N];
	pthread_t	 th[THR_N];
	X509		*before;
	int		 i, j, k, started = 0, ok = 1, done = 0, uniq = 1,
			 reload = 1;

	before = keyops_ca_cert(ko, 1);
	memset(args, 0, sizeof(args));
	for (i = 0; i < THR_N; i++) {
		args[i].ko = ko;
		args[i].sub = sub;
		args[i].ca_pub = ca_key;
		if (pthread_create(&th[i], NULL, thr_issue, &args[i]) == 0)
			started++;
	}
	/* Reload the same CA meanwhile: uses hold references. */
	for (i = 0; i < 10; i++) {
		char name[32];

		snprintf(name, sizeof(name), "ca-reload-%d.pem", i);
		if (load_ca(ko, 1, ca_key, root, name) != SCEP_OK)
			reload = 0;
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < THR_N; i++) {
		ok &= args[i].ok;
		done += args[i].done;
	}
	tap_ok(started == THR_N, "%d threads started", THR_N);
	tap_ok(reload, "10 CA reloads during issuance");
	tap_ok(ok && done == THR_N * THR_CERTS,
	    "%d certificates issued concurrently, all verify (got %d)",
	    THR_N * THR_CERTS, done);
	for (i = 0; i < THR_N * THR_CERTS && uniq; i++)
		for (j = i + 1; j < THR_N * THR_CERTS; j++) {
			k = memcmp(args[i / THR_CERTS].serials[i % THR_CERTS],
			    args[j / THR_CERTS].serials[j % THR_CERTS],
			    CA_SERIAL_LEN);
			if (k == 0) {
				uniq = 0;
				break;
			}
		}
	tap_ok(uniq, "serials unique across threads");
	tap_ok(X509_cmp(before, root) == 0 && keyops_ca_cert(ko, 1) != before,
	    "borrowed CA cert from before the reloads is still valid");
}

int
main(void)
{
	struct keyops	*ko = NULL;
	EVP_PKEY	*rsa = NULL, *ec256 = NULL, *ec384 = NULL, *dsa = NULL,
			*rsa1024 = NULL, *ed25519 = NULL, *k256k1 = NULL,
			*ra_rsa = NULL, *sub_rsa = NULL, *sub_ec = NULL;
	X509		*root = NULL, *root384 = NULL;
	const char	*td;
	int		 r;

	now = time(NULL);
	td = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_ca.XXXXXX",
	    td != NULL ? td : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}

	test_keygen();
	test_serial();
	test_dn();

	rsa = genkey("rsa2048");
	ec256 = genkey("ec256");
	ec384 = genkey("ec384");
	ra_rsa = genkey("rsa2048");
	sub_rsa = genkey("rsa2048");
	sub_ec = genkey("ec256");
	dsa = genkey_dsa();
	rsa1024 = genkey_rsa(1024);
	ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	k256k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	tap_ok(rsa && ec256 && ec384 && ra_rsa && sub_rsa && sub_ec && dsa &&
	    rsa1024 && ed25519 && k256k1, "test keys generated");

	test_keyfile(rsa);
	test_root(rsa, ec256, ec384, dsa, rsa1024);

	r = ca_make_root(rsa, "CN=scepd Test CA,O=scepd", 3650, now, &root);
	tap_ok(r == SCEP_OK, "test CA root");
	r = ca_make_root(ec384, "CN=scepd P-384 CA", 3650, now, &root384);
	tap_ok(r == SCEP_OK, "test CA root P-384");
	test_ra(rsa, root, ra_rsa, ec256, ec384);

	tap_ok(keyops_new(&ko) == SCEP_OK, "keyops_new");
	tap_ok(load_ca(ko, 1, rsa, root, "ca1.pem") == SCEP_OK,
	    "keyops_load_ca");
	test_issue(ko, rsa, root, sub_rsa, sub_ec, ec384);
	test_issue_refused(ko, sub_rsa, rsa1024, dsa, ed25519, k256k1);
	test_crl(ko, rsa, root, sub_rsa);
	test_keyops_load(ko, rsa, root, ec384, root384, ra_rsa, sub_ec);
	test_threads(ko, rsa, root, sub_ec);
	keyops_free(ko);
	keyops_free(NULL);

	X509_free(root);
	X509_free(root384);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec256);
	EVP_PKEY_free(ec384);
	EVP_PKEY_free(dsa);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(ed25519);
	EVP_PKEY_free(k256k1);
	EVP_PKEY_free(ra_rsa);
	EVP_PKEY_free(sub_rsa);
	EVP_PKEY_free(sub_ec);

	rm_tmpdir();
	return tap_done();
}
