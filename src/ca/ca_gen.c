/*
 * ca_gen.c -- generating and checking CA and RA identities (ca_gen.h):
 * keys, key files, distinguished names, the root and RA certificates.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_gen.h"
#include "ca_int.h"
#include "scep_err.h"
#include "scep_limits.h"

/* The key algorithms `scepd init` offers. */
static const struct {
	const char	*name;
	const char	*type;		/* provider key type */
	unsigned int	 bits;		/* RSA */
	const char	*group;		/* EC */
} keyalgs[] = {
	{ "rsa2048",	"RSA",	2048,	NULL },
	{ "rsa3072",	"RSA",	3072,	NULL },
	{ "rsa4096",	"RSA",	4096,	NULL },
	{ "ec256",	"EC",	0,	"P-256" },
	{ "ec384",	"EC",	0,	"P-384" },
};

int
ca_key_generate(const char *alg, EVP_PKEY **out)
{
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*key = NULL;
	size_t		 i;
	int		 r = SCEP_E_CONFIG;

	*out = NULL;
	if (alg == NULL)
		return SCEP_E_CONFIG;
	for (i = 0; i < sizeof(keyalgs) / sizeof(keyalgs[0]); i++)
		if (strcmp(keyalgs[i].name, alg) == 0)
			break;
	if (i == sizeof(keyalgs) / sizeof(keyalgs[0]))
		goto out;

	r = SCEP_E_INTERNAL;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, keyalgs[i].type,
	    NULL)) == NULL)
		goto out;
	if (EVP_PKEY_keygen_init(ctx) != 1)
		goto out;
	if (keyalgs[i].group != NULL) {
		if (EVP_PKEY_CTX_set_group_name(ctx, keyalgs[i].group) != 1)
			goto out;
	} else {
		if (EVP_PKEY_CTX_set_rsa_keygen_bits(ctx,
		    (int)keyalgs[i].bits) != 1)
			goto out;
	}
	if (EVP_PKEY_generate(ctx, &key) != 1)
		goto out;
	*out = key;
	key = NULL;
	r = SCEP_OK;
 out:
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* write(2) all of buf, retrying on EINTR and short writes. */
static int
write_full(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ca_key_write(const char *path, EVP_PKEY *key)
{
	BIO	*bio = NULL;
	char	*pem = NULL;
	long	 pemlen;
	int	 fd = -1, created = 0, r = SCEP_E_INTERNAL;

	if (path == NULL || key == NULL)
		return SCEP_E_INTERNAL;

	/* Encode first, so a failure leaves no file behind. */
	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		goto out;
	if (PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0, NULL,
	    NULL) != 1)
		goto out;
	if ((pemlen = BIO_get_mem_data(bio, &pem)) <= 0)
		goto out;

	r = SCEP_E_IO;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		if (errno == EEXIST)
			r = SCEP_E_EXISTS;
		goto out;
	}
	created = 1;
	/* The umask can only narrow 0600, but say exactly what we mean. */
	if (fchmod(fd, 0600) != 0)
		goto out;
	if (write_full(fd, pem, (size_t)pemlen) != 0)
		goto out;
	if (fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	r = SCEP_OK;
 out:
	if (fd >= 0)
		close(fd);
	if (r != SCEP_OK && created)
		unlink(path);
	BIO_free(bio);		/* secure heap: contents are cleansed */
	return r;
}

/* Never prompt for a pass phrase: keys are stored unencrypted, 0600. */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int
ca_key_read(const char *path, EVP_PKEY **out)
{
	int	 fd = -1, r;

	*out = NULL;
	if (path == NULL)
		return SCEP_E_CONFIG;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return SCEP_E_IO;
	r = ca_key_read_fd(fd, out);
	close(fd);
	return r;
}

int
ca_key_read_fd(int fd, EVP_PKEY **out)
{
	struct stat	 st;
	BIO		*bio = NULL;
	EVP_PKEY	*key = NULL;
	char		*buf = NULL;
	size_t		 len = 0, cap = 0;
	ssize_t		 n;
	int		 r = SCEP_E_IO;

	*out = NULL;
	if (fd < 0)
		return SCEP_E_IO;
	/* fstat the descriptor we read, not the path (no race). */
	if (fstat(fd, &st) != 0)
		goto out;
	r = SCEP_E_CONFIG;
	if (!S_ISREG(st.st_mode))
		goto out;
	if ((st.st_mode & 077) != 0)	/* group or world can read it */
		goto out;
	if (st.st_size <= 0 || st.st_size > CA_MAX_KEY_FILE)
		goto out;

	r = SCEP_E_NOMEM;
	cap = (size_t)st.st_size + 1;	/* +1 detects a growing file */
	if ((buf = OPENSSL_secure_malloc(cap)) == NULL)
		goto out;
	r = SCEP_E_IO;
	while (len < cap) {
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = SCEP_E_CONFIG;
	if (len == 0 || len >= cap)	/* changed under us */
		goto out;

	r = SCEP_E_MALFORMED;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	if ((key = PEM_read_bio_PrivateKey(bio, NULL, no_password,
	    NULL)) == NULL)
		goto out;
	*out = key;
	key = NULL;
	r = SCEP_OK;
 out:
	BIO_free(bio);
	OPENSSL_secure_clear_free(buf, cap);
	EVP_PKEY_free(key);
	return r;
}

/* One parsed "type=value" pair: both point into dn_parse's buffers. */
struct dn_rdn {
	char	 type[64];
	size_t	 voff;		/* value offset in the value buffer */
	size_t	 vlen;
};

int
ca_dn_parse(const char *dn, X509_NAME **out)
{
	struct dn_rdn	 rdns[SCEP_MAX_RDNS];
	X509_NAME	*name = NULL;
	char		*vals = NULL;
	size_t		 len, i, j, n = 0, vused = 0, tlen, vstart, k;
	char		 sep;
	int		 c, hi, lo, r = SCEP_E_CONFIG;

	*out = NULL;
	if (dn == NULL)
		return SCEP_E_CONFIG;
	if ((len = strnlen(dn, CA_MAX_DN + 1)) > CA_MAX_DN)
		return SCEP_E_TOOBIG;
	/* Unescaped values are never longer than the input. */
	if ((vals = malloc(len + 1)) == NULL)
		return SCEP_E_NOMEM;

	i = 0;
	if (len > 0 && dn[0] == '/') {
		sep = '/';
		i = 1;
	} else
		sep = ',';

	while (i < len) {
		if (n == SCEP_MAX_RDNS) {
			r = SCEP_E_TOOBIG;
			goto out;
		}
		/* Attribute type: up to '=', spaces trimmed. */
		while (i < len && dn[i] == ' ')
			i++;
		tlen = 0;
		while (i < len && dn[i] != '=' && dn[i] != sep) {
			c = (unsigned char)dn[i];
			if (!(c == '.' || c == '-' || (c >= '0' && c <= '9') ||
			    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
				if (c == ' ')
					break;
				goto out;
			}
			if (tlen + 1 >= sizeof(rdns[n].type))
				goto out;
			rdns[n].type[tlen++] = (char)c;
			i++;
		}
		rdns[n].type[tlen] = '\0';
		while (i < len && dn[i] == ' ')
			i++;
		if (tlen == 0 || i >= len || dn[i] != '=')
			goto out;
		i++;
		if (sep == ',')
			while (i < len && dn[i] == ' ')
				i++;

		/* Value: up to an unescaped separator. */
		vstart = vused;
		k = vused;	/* end of the value without trailing spaces */
		while (i < len && dn[i] != sep) {
			c = (unsigned char)dn[i];
			if (c == '+')		/* multi-valued RDN */
				goto out;
			if (c == '\\') {
				if (i + 1 >= len)
					goto out;
				hi = i + 2 < len ? OPENSSL_hexchar2int(
				    (unsigned char)dn[i + 1]) : -1;
				lo = i + 2 < len ? OPENSSL_hexchar2int(
				    (unsigned char)dn[i + 2]) : -1;
				if (hi >= 0 && lo >= 0) {
					c = hi * 16 + lo;
					i += 3;
				} else {
					c = (unsigned char)dn[i + 1];
					i += 2;
				}
				if (c < 0x20 || c == 0x7f)	/* control */
					goto out;
				vals[vused++] = (char)c;
				k = vused;	/* escaped: never trimmed */
				continue;
			}
			if (c < 0x20 || c == 0x7f)	/* control */
				goto out;
			vals[vused++] = (char)c;
			i++;
			if (c != ' ' || sep != ',')
				k = vused;
		}
		vused = k;
		if (vused == vstart)		/* empty value */
			goto out;
		rdns[n].voff = vstart;
		rdns[n].vlen = vused - vstart;
		n++;
		if (i < len) {			/* skip the separator ... */
			i++;
			if (i == len)		/* ... but not a last one */
				goto out;
		}
	}
	if (n == 0)
		goto out;

	r = SCEP_E_NOMEM;
	if ((name = X509_NAME_new()) == NULL)
		goto out;
	r = SCEP_E_CONFIG;
	for (j = 0; j < n; j++) {
		/* RFC 4514 2.1: the string form lists the last RDN first. */
		i = sep == ',' ? n - 1 - j : j;
		if (X509_NAME_add_entry_by_txt(name, rdns[i].type, MBSTRING_UTF8,
		    (const unsigned char *)vals + rdns[i].voff,
		    (int)rdns[i].vlen, -1, 0) != 1)
			goto out;
	}
	*out = name;
	name = NULL;
	r = SCEP_OK;
 out:
	X509_NAME_free(name);
	free(vals);
	return r;
}

int
ca_serial_random(uint8_t out[CA_SERIAL_LEN])
{
	int	 tries;

	/* A zero first byte (1 in 128 draws after clearing the top bit)
	 * would make the DER INTEGER one byte shorter: draw again. */
	for (tries = 0; tries < 64; tries++) {
		if (RAND_bytes(out, CA_SERIAL_LEN) != 1)
			return SCEP_E_INTERNAL;
		out[0] &= 0x7f;
		if (out[0] != 0)
			return SCEP_OK;
	}
	return SCEP_E_INTERNAL;
}

int
ca_cert_check_pair(X509 *cert, EVP_PKEY *key)
{
	static const unsigned char msg[] = "scepd key pair check";
	EVP_MD_CTX	*mctx = NULL;
	EVP_PKEY	*pub = NULL;
	unsigned char	*sig = NULL;
	size_t		 siglen = 0;
	int		 r = SCEP_E_BADKEY;

	if (cert == NULL || key == NULL)
		return SCEP_E_BADKEY;
	/* get0: borrowed from cert. */
	if ((pub = X509_get0_pubkey(cert)) == NULL)
		goto out;
	if (EVP_PKEY_eq(pub, key) != 1)
		goto out;

	/* Equal public halves are not enough: prove "key" can sign. */
	if ((mctx = EVP_MD_CTX_new()) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	if (EVP_DigestSignInit(mctx, NULL, EVP_sha256(), NULL, key) != 1)
		goto out;
	if (EVP_DigestSign(mctx, NULL, &siglen, msg, sizeof(msg)) != 1)
		goto out;
	if ((sig = OPENSSL_malloc(siglen)) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	if (EVP_DigestSign(mctx, sig, &siglen, msg, sizeof(msg)) != 1)
		goto out;
	EVP_MD_CTX_free(mctx);
	if ((mctx = EVP_MD_CTX_new()) == NULL) {
		r = SCEP_E_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(mctx, NULL, EVP_sha256(), NULL, pub) != 1)
		goto out;
	if (EVP_DigestVerify(mctx, sig, siglen, msg, sizeof(msg)) != 1)
		goto out;
	r = SCEP_OK;
 out:
	OPENSSL_free(sig);
	EVP_MD_CTX_free(mctx);
	return r;
}

int
ca_import_check(X509 *cert, EVP_PKEY *key)
{
	uint32_t	 flags;

	if (cert == NULL || key == NULL)
		return SCEP_E_CONFIG;
	if (X509_get_version(cert) != X509_VERSION_3)
		return SCEP_E_CONFIG;
	/* Computes and caches the extension flags (thread-safe). */
	flags = X509_get_extension_flags(cert);
	if ((flags & EXFLAG_INVALID) != 0)
		return SCEP_E_MALFORMED;
	/* RFC 5280 4.2.1.9: a CA certificate has basicConstraints cA TRUE
	 * and (4.2.1.3) keyCertSign when keyUsage is present; we demand
	 * keyUsage too, as every current profile does. */
	if ((flags & EXFLAG_BCONS) == 0 || (flags & EXFLAG_CA) == 0)
		return SCEP_E_CONFIG;
	if ((flags & EXFLAG_KUSAGE) == 0 ||
	    (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) == 0)
		return SCEP_E_CONFIG;
	if (ca_sign_md(key) == NULL)
		return SCEP_E_BADKEY;
	return ca_cert_check_pair(cert, key);
}

/*
 * A new v3 certificate with a random serial, "subject" and "issuer"
 * (copied), valid from nb to na, for "key"; the caller adds extensions
 * and signs.  *out is NULL on failure.
 */
static int
cert_start(X509 **out, const X509_NAME *subject, const X509_NAME *issuer,
    time_t nb, time_t na, EVP_PKEY *key)
{
	X509	*x;
	uint8_t	 serial[CA_SERIAL_LEN];
	int	 r;

	*out = NULL;
	if ((x = X509_new()) == NULL)
		return SCEP_E_NOMEM;
	r = SCEP_E_INTERNAL;
	if (X509_set_version(x, X509_VERSION_3) != 1)
		goto out;
	if ((r = ca_serial_random(serial)) != SCEP_OK ||
	    (r = ca_set_serial(x, serial, sizeof(serial))) != SCEP_OK)
		goto out;
	r = SCEP_E_INTERNAL;
	if (X509_set_subject_name(x, subject) != 1 ||
	    X509_set_issuer_name(x, issuer) != 1)
		goto out;
	if ((r = ca_set_validity(x, nb, na)) != SCEP_OK)
		goto out;
	r = SCEP_E_INTERNAL;
	if (X509_set_pubkey(x, key) != 1)
		goto out;
	*out = x;
	return SCEP_OK;
 out:
	X509_free(x);
	return r;
}

int
ca_make_root(EVP_PKEY *key, const char *subject_dn, int days, time_t now,
    X509 **out)
{
	X509		*x = NULL;
	X509_NAME	*name = NULL;
	unsigned int	 ku;
	int		 r;

	*out = NULL;
	if (ca_sign_md(key) == NULL)
		return SCEP_E_BADKEY;
	if (days < 1 || days > CA_MAX_ROOT_DAYS || now < 0)
		return SCEP_E_CONFIG;
	if ((r = ca_dn_parse(subject_dn, &name)) != SCEP_OK)
		return r;

	if ((r = cert_start(&x, name, name, now, now + (time_t)days * 86400,
	    key)) != SCEP_OK)
		goto out;

	ku = CA_KU_KEY_CERT_SIGN | CA_KU_CRL_SIGN | CA_KU_DIGITAL_SIGNATURE;
	/* spec 4.3 rule 3: a CA-direct responder also decrypts. */
	if (EVP_PKEY_is_a(key, "RSA"))
		ku |= CA_KU_KEY_ENCIPHERMENT;
	if ((r = ca_ext_basic_constraints(x, 1)) != SCEP_OK ||
	    (r = ca_ext_key_usage(x, ku)) != SCEP_OK ||
	    (r = ca_ext_ski(x)) != SCEP_OK ||
	    (r = ca_ext_aki(x, NULL)) != SCEP_OK)
		goto out;
	if ((r = ca_x509_sign(&x, key)) != SCEP_OK)
		goto out;
	*out = x;
	x = NULL;
	r = SCEP_OK;
 out:
	X509_free(x);
	X509_NAME_free(name);
	return r;
}

int
ca_make_ra(EVP_PKEY *ca_key, X509 *ca_cert, EVP_PKEY *ra_key,
    const char *subject_dn, int usage, int days, time_t now, X509 **out)
{
	X509		*x = NULL;
	X509_NAME	*name = NULL;
	unsigned int	 ku;
	time_t		 not_after, ca_not_after;
	int		 is_rsa = 0, r;

	*out = NULL;
	if ((r = ca_import_check(ca_cert, ca_key)) != SCEP_OK)
		return r;
	switch (usage) {
	case CA_RA_SIGN_ENCRYPT:
		ku = CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_ENCIPHERMENT;
		break;
	case CA_RA_SIGN:
		ku = CA_KU_DIGITAL_SIGNATURE;
		break;
	case CA_RA_ENCRYPT:
		ku = CA_KU_KEY_ENCIPHERMENT;
		break;
	default:
		return SCEP_E_CONFIG;
	}
	if ((r = ca_subject_key_check(ra_key, 0, &is_rsa)) != SCEP_OK)
		return r;
	/* RFC 8894 3.2.2: SCEP key transport is RSA; an EC RA can only
	 * sign. */
	if ((ku & CA_KU_KEY_ENCIPHERMENT) != 0 && !is_rsa)
		return SCEP_E_BADKEY;
	if (days < 1 || days > CA_MAX_RA_DAYS || now < 0)
		return SCEP_E_CONFIG;
	if ((r = ca_asn1_time_get(X509_get0_notAfter(ca_cert),
	    &ca_not_after)) != SCEP_OK)
		return r;
	not_after = now + (time_t)days * 86400;
	if (not_after > ca_not_after)
		not_after = ca_not_after;
	if (not_after <= now)		/* the CA has expired */
		return SCEP_E_CONFIG;
	if ((r = ca_dn_parse(subject_dn, &name)) != SCEP_OK)
		return r;

	if ((r = cert_start(&x, name, X509_get_subject_name(ca_cert), now,
	    not_after, ra_key)) != SCEP_OK)
		goto out;
	if ((r = ca_ext_basic_constraints(x, 0)) != SCEP_OK ||
	    (r = ca_ext_key_usage(x, ku)) != SCEP_OK ||
	    (r = ca_ext_ski(x)) != SCEP_OK ||
	    (r = ca_ext_aki(x, ca_cert)) != SCEP_OK)
		goto out;
	if ((r = ca_x509_sign(&x, ca_key)) != SCEP_OK)
		goto out;
	*out = x;
	x = NULL;
	r = SCEP_OK;
 out:
	X509_free(x);
	X509_NAME_free(name);
	return r;
}
