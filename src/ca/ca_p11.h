/*
 * ca_p11.h -- CA and RA private keys in a PKCS#11 token (issue 8).
 *
 * A key "reference" is either a PEM file path or an RFC 7512 URI
 * "pkcs11:token=...;object=...;id=..." naming a private key object.  The
 * key never leaves the token: the EVP_PKEY handed out here only forwards
 * sign and decrypt to the module.  The URI carries no secret: a URI with
 * a PIN or a module in it (pin-value, pin-source, module-name,
 * module-path) is refused, the PIN comes from a file (pkcs11_pin_file)
 * or from the environment variable SCEPD_PKCS11_PIN, never from argv,
 * the store or the logs.
 *
 * The module is loaded in two steps because PKCS#11 sessions do not
 * survive fork():
 *  - ca_p11_configure() maps the engine and the module into the process
 *    (dlopen) but does not initialise the module; scepd does this before
 *    it forks its key processes, which may not map code once sandboxed;
 *  - the first ca_p11_key_load() in a process runs C_Initialize and logs
 *    in: in a key worker, after the fork, with the PIN the key master read
 *    (ca_p11_pin_load()) before it sandboxed itself.
 *
 * Process-wide state; configure once, before any thread is started.
 */
#ifndef CA_P11_H
#define CA_P11_H

#include <stddef.h>

#include <openssl/evp.h>

/* The environment variable a PIN may come from (when no PIN file). */
#define CA_P11_PIN_ENV		"SCEPD_PKCS11_PIN"
/* Longest URI accepted (it travels to the key processes as a name). */
#define CA_P11_URI_MAX		255
#define CA_P11_PIN_MAX		256
/* Paths the module may read once the key processes are sandboxed. */
#define CA_P11_MAX_PATHS	8

/* 1 when "ref" is a PKCS#11 URI ("pkcs11:..."), 0 for a file path. */
int	ca_p11_is_uri(const char *ref);

/*
 * A URI we accept: "pkcs11:", at most CA_P11_URI_MAX bytes of RFC 3986
 * unreserved, pct-encoded and ":;=&@,-" characters, with a token or an
 * object or an id attribute, and none of pin-value, pin-source,
 * module-name, module-path.  SCEP_OK or SCEP_E_CONFIG.
 */
int	ca_p11_uri_check(const char *uri);

/*
 * Use the PKCS#11 module "module" (a shared object path) for every URI;
 * "pin_file" (may be NULL: SCEPD_PKCS11_PIN then) holds the user PIN on
 * its first line, mode 0600.  "paths" (may be NULL) is a comma-separated
 * list of files and directories the module reads at run time (SoftHSM2:
 * its softhsm2.conf and token directory); the key processes' Landlock
 * rules allow exactly those, see ca_p11_path().  Loads the OpenSSL
 * "pkcs11" engine (libengine-pkcs11-openssl) and maps the module, without
 * initialising it.  SCEP_OK, SCEP_E_CONFIG (no engine, no module, bad
 * arguments, configured twice with different values).
 */
int	ca_p11_configure(const char *module, const char *pin_file,
	    const char *paths);

/* 1 once ca_p11_configure() succeeded. */
int	ca_p11_enabled(void);

/* The i-th configured run-time path, NULL past the end. */
const char *ca_p11_path(size_t i);

/*
 * Read the PIN (pin file, else SCEPD_PKCS11_PIN) and give it to the
 * engine; the copy read is wiped.  Idempotent.  SCEP_OK, SCEP_E_CONFIG
 * (no PIN, file not 0600 or unreadable, not configured).
 */
int	ca_p11_pin_load(void);

/*
 * The private key object "uri" (ca_p11_uri_check()ed here) as an
 * EVP_PKEY (*out take) whose private operations run in the token; its
 * public half is the token's.  Reads the PIN first if that was not done.
 * SCEP_E_CONFIG (not configured, bad URI, no PIN), SCEP_E_NOTFOUND (no
 * such key or login failed).
 */
int	ca_p11_key_load(const char *uri, EVP_PKEY **out);

#endif /* !CA_P11_H */
