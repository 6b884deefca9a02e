/*
 * ca_p11.c -- PKCS#11 keys through OpenSSL's "pkcs11" engine (libp11,
 * Debian package libengine-pkcs11-openssl); see ca_p11.h.
 *
 * Why the engine: Debian 12 has no pkcs11-provider package, and the
 * engine is what OpenSSL 3.0 there offers for keys in a token.  The
 * ENGINE API is deprecated in OpenSSL 3, so this file, and only this
 * file, is compiled with the deprecated declarations visible and their
 * warnings suppressed (the project builds with OPENSSL_NO_DEPRECATED).
 * An EVP_PKEY from ENGINE_load_private_key() is an ordinary legacy key
 * for the rest of the code: X509_sign, CMS signing and RSA decryption go
 * through the engine's RSA/EC methods to C_Sign / C_Decrypt.
 */
#undef OPENSSL_NO_DEPRECATED
#undef OPENSSL_API_COMPAT
#define OPENSSL_API_COMPAT	10101
#define OPENSSL_SUPPRESS_DEPRECATED	1

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "ca_p11.h"
#include "log.h"
#include "scep_err.h"

#define P11_PATH_MAX	1024

static struct {
	ENGINE	*eng;
	void	*module;		/* dlopen handle: keeps it mapped */
	char	 module_path[P11_PATH_MAX];
	char	 pin_file[P11_PATH_MAX];
	char	 paths[CA_P11_MAX_PATHS][P11_PATH_MAX];
	size_t	 npaths;
	int	 pin_set;
} p11;

int
ca_p11_is_uri(const char *ref)
{
	return ref != NULL && strncmp(ref, "pkcs11:", 7) == 0;
}

/* Attribute "name" (followed by '=') present in the URI? */
static int
has_attr(const char *uri, const char *name)
{
	size_t		 n = strlen(name);
	const char	*p = uri + 7;

	while (*p != '\0') {
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			return 1;
		p += strcspn(p, ";?&");
		if (*p != '\0')
			p++;
	}
	return 0;
}

int
ca_p11_uri_check(const char *uri)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%:;=&@,";
	size_t	 n;

	if (!ca_p11_is_uri(uri))
		return SCEP_E_CONFIG;
	n = strlen(uri);
	if (n <= 7 || n > CA_P11_URI_MAX || strspn(uri + 7, ok) != n - 7)
		return SCEP_E_CONFIG;
	/* Secrets and module choice never come from a stored reference. */
	if (has_attr(uri, "pin-value") || has_attr(uri, "pin-source") ||
	    has_attr(uri, "module-name") || has_attr(uri, "module-path"))
		return SCEP_E_CONFIG;
	if (!has_attr(uri, "token") && !has_attr(uri, "object") &&
	    !has_attr(uri, "id"))
		return SCEP_E_CONFIG;
	return SCEP_OK;
}

static int
set_str(char *dst, size_t dstsz, const char *v)
{
	size_t n = strlen(v);

	if (n >= dstsz)
		return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

static int
split_paths(const char *paths)
{
	const char	*p = paths;
	size_t		 n;

	p11.npaths = 0;
	while (p != NULL && *p != '\0') {
		n = strcspn(p, ",");
		if (n > 0) {
			if (p11.npaths == CA_P11_MAX_PATHS ||
			    n >= P11_PATH_MAX || p[0] != '/')
				return -1;
			memcpy(p11.paths[p11.npaths], p, n);
			p11.paths[p11.npaths++][n] = '\0';
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int
ca_p11_configure(const char *module, const char *pin_file,
    const char *paths)
{
	ENGINE	*e = NULL;

	if (module == NULL || module[0] != '/')
		return SCEP_E_CONFIG;
	if (p11.eng != NULL)
		return strcmp(module, p11.module_path) == 0 ? SCEP_OK :
		    SCEP_E_CONFIG;
	if (set_str(p11.module_path, sizeof(p11.module_path), module) != 0 ||
	    set_str(p11.pin_file, sizeof(p11.pin_file),
	    pin_file != NULL ? pin_file : "") != 0 ||
	    split_paths(paths) != 0) {
		log_error("msg=\"pkcs11: bad module, pin file or paths\"");
		return SCEP_E_CONFIG;
	}
	/*
	 * Map the module now: a sandboxed key process may not map code, and
	 * libp11 later dlopen()s the same path, which then finds it loaded.
	 * RTLD_NODELETE: it stays mapped even if libp11 closes it.
	 */
	if ((p11.module = dlopen(module, RTLD_NOW | RTLD_LOCAL |
	    RTLD_NODELETE)) == NULL) {
		log_error("msg=\"pkcs11: cannot load the module\" module=\"%s\"",
		    module);
		return SCEP_E_CONFIG;
	}
	ENGINE_load_builtin_engines();
	if ((e = ENGINE_by_id("pkcs11")) == NULL) {
		log_error("msg=\"pkcs11: no OpenSSL pkcs11 engine (Debian: "
		    "libengine-pkcs11-openssl)\"");
		ERR_clear_error();
		return SCEP_E_CONFIG;
	}
	/* MODULE_PATH before init; the module itself is initialised (and
	 * the token opened) lazily, at the first key load. */
	if (!ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0) ||
	    !ENGINE_init(e)) {
		log_error("msg=\"pkcs11: cannot set up the engine\"");
		ENGINE_free(e);
		ERR_clear_error();
		return SCEP_E_CONFIG;
	}
	p11.eng = e;		/* keeps both references (structural, functional) */
	return SCEP_OK;
}

int
ca_p11_enabled(void)
{
	return p11.eng != NULL;
}

const char *
ca_p11_path(size_t i)
{
	return p11.eng != NULL && i < p11.npaths ? p11.paths[i] : NULL;
}

/* First line of the PIN file (0600, regular) into pin. */
static int
pin_read_file(const char *path, char *pin, size_t pinsz)
{
	struct stat	 st;
	ssize_t		 n;
	int		 fd, r = SCEP_E_CONFIG;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		log_error("msg=\"pkcs11: cannot open the PIN file\" path=\"%s\"",
		    path);
		return SCEP_E_CONFIG;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) != 0) {
		log_error("msg=\"pkcs11: the PIN file must be a regular file "
		    "of mode 0600\" path=\"%s\"", path);
		goto out;
	}
	n = read(fd, pin, pinsz - 1);
	if (n <= 0)
		goto out;
	pin[n] = '\0';
	pin[strcspn(pin, "\r\n")] = '\0';
	if (pin[0] != '\0')
		r = SCEP_OK;
 out:
	close(fd);
	return r;
}

int
ca_p11_pin_load(void)
{
	char		 pin[CA_P11_PIN_MAX];
	const char	*env = NULL;
	int		 r = SCEP_E_CONFIG;

	if (p11.eng == NULL)
		return SCEP_E_CONFIG;
	if (p11.pin_set)
		return SCEP_OK;
	memset(pin, 0, sizeof(pin));
	if (p11.pin_file[0] != '\0')
		r = pin_read_file(p11.pin_file, pin, sizeof(pin));
	else if ((env = getenv(CA_P11_PIN_ENV)) != NULL && env[0] != '\0' &&
	    strlen(env) < sizeof(pin)) {
		memcpy(pin, env, strlen(env) + 1);
		r = SCEP_OK;
	}
	if (r != SCEP_OK)
		log_error("msg=\"pkcs11: no PIN (pkcs11_pin_file or "
		    CA_P11_PIN_ENV ")\"");
	else if (!ENGINE_ctrl_cmd_string(p11.eng, "PIN", pin, 0))
		r = SCEP_E_CONFIG;
	else
		p11.pin_set = 1;
	OPENSSL_cleanse(pin, sizeof(pin));
	ERR_clear_error();
	return r;
}

int
ca_p11_key_load(const char *uri, EVP_PKEY **out)
{
	EVP_PKEY	*k = NULL;
	int		 r;

	*out = NULL;
	if (p11.eng == NULL) {
		log_error("msg=\"pkcs11: a key is in a token but no "
		    "pkcs11_module is configured\"");
		return SCEP_E_CONFIG;
	}
	if (ca_p11_uri_check(uri) != SCEP_OK) {
		log_error("msg=\"pkcs11: unusable key URI (no PIN or module "
		    "attributes; token, object or id)\"");
		return SCEP_E_CONFIG;
	}
	if ((r = ca_p11_pin_load()) != SCEP_OK)
		return r;
	if ((k = ENGINE_load_private_key(p11.eng, uri, NULL, NULL)) == NULL) {
		log_openssl(LOG_LVL_ERROR, "pkcs11: no such private key or "
		    "login failed");
		ERR_clear_error();
		return SCEP_E_NOTFOUND;
	}
	*out = k;
	return SCEP_OK;
}
