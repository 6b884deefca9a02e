/*
 * standin_util.h -- what the Intune tests share (standin_util.c).
 */
#ifndef STANDIN_UTIL_H
#define STANDIN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* Filled by su_start(): the stand-in's work directory, its test CA, its
 * base URL "https://127.0.0.1:PORT/" and its ports. */
extern char su_dir[256], su_ca[300], su_base[128], su_logpath[300];
extern int su_port, su_alt_port, su_proxy_port, su_dead_port;
extern pid_t su_pid;
/* The key of every test CSR and certificate (the test makes it). */
extern EVP_PKEY *su_key;

/* Start "python script --dir <tmp>" expecting "secret"; 0 when ready. */
int	su_start(const char *python, const char *script, const char *secret);
void	su_stop(void);
/* Remove the work directory (plain files only). */
void	su_remove_dir(void);
/* Copy the last 4 KiB of su_logpath to stderr. */
void	su_show_log_tail(void);

/* Control API: POST when body is not NULL; the parsed answer (decref). */
json_t	*su_ctl(const char *path, const char *body);
void	su_ctl0(const char *path, const char *body);
void	su_reset(void);
/* Every recorded call, in order (decref). */
json_t	*su_calls(void);
/* Calls of a kind; a resend with the same client-request-id counts once. */
size_t	 su_count_kind(json_t *all, const char *kind);
json_t	*su_nth_kind(json_t *all, const char *kind, size_t nth);
/* Violations of spec 6 the stand-in found (printed as TAP comments). */
size_t	 su_count_violations(json_t *all);
const char *su_header(json_t *call, const char *name);
const char *su_field(json_t *call, const char *outer, const char *name);

/* DER PKCS#10 with subject CN=device-1, key su_key, and the challenge
 * (none when NULL); *der is OPENSSL_malloc'd. */
int	su_make_csr(const char *challenge, uint8_t **der, size_t *len);
/* A certificate: serial 0x8001020304, issuer CN=Example Issuing CA,
 * O=Example, notAfter 2030-06-11 16:11:20 UTC. */
X509	*su_make_cert(void);

#endif /* !STANDIN_UTIL_H */
