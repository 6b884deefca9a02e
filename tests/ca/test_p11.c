/*
 * test_p11.c -- the PKCS#11 key reference rules of src/ca/ca_p11.h that
 * need no token (tests/hsm/test_softhsm.sh runs the rest against a real
 * SoftHSM2 token): which URIs are accepted, and that nothing loads before
 * a module is configured or with a bad module.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "ca_gen.h"
#include "ca_p11.h"
#include "keyops.h"
#include "scep_err.h"
#include "tap.h"

static void
test_uri(void)
{
	static const char *const good[] = {
		"pkcs11:token=scepd;object=ca",
		"pkcs11:token=scepd;object=ca;type=private",
		"pkcs11:id=%01",
		"pkcs11:object=my%20ca;token=a-b_c.d~e",
		"pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;"
		    "serial=1;token=scepd;object=ca",
	};
	static const char *const bad[] = {
		"", "pkcs11:", "pkcs11", "/etc/scepd/keys/ca-1.key",
		"PKCS11:token=scepd",
		"pkcs11:type=private",			/* names no key */
		"pkcs11:token=scepd?pin-value=1234",
		"pkcs11:token=scepd;object=ca?pin-source=file:/etc/pin",
		"pkcs11:token=scepd?module-path=/tmp/evil.so",
		"pkcs11:token=scepd?module-name=evil",
		"pkcs11:token=scepd;object=ca\"",	/* not a URI char */
		"pkcs11:token=scepd;object=c a",
		"pkcs11:token=scepd;object=ca\n",
		"pkcs11:token=scepd;object=../../x/y",	/* '/' not allowed */
	};
	char	 longuri[CA_P11_URI_MAX + 2];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		tap_ok(ca_p11_is_uri(good[i]) &&
		    ca_p11_uri_check(good[i]) == SCEP_OK, "accepted: %s",
		    good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_ok(ca_p11_uri_check(bad[i]) == SCEP_E_CONFIG,
		    "refused: \"%s\"", bad[i]);
	tap_ok(!ca_p11_is_uri(NULL) && !ca_p11_is_uri("/k/ca.key"),
	    "a file path or NULL is not a URI");
	memset(longuri, 'a', sizeof(longuri));
	memcpy(longuri, "pkcs11:token=", 13);
	longuri[CA_P11_URI_MAX] = '\0';
	tap_ok(ca_p11_uri_check(longuri) == SCEP_OK,
	    "a URI of CA_P11_URI_MAX bytes is accepted");
	longuri[CA_P11_URI_MAX] = 'a';
	longuri[CA_P11_URI_MAX + 1] = '\0';
	tap_ok(ca_p11_uri_check(longuri) == SCEP_E_CONFIG,
	    "a URI over CA_P11_URI_MAX bytes is refused");
}

static void
test_unconfigured(void)
{
	EVP_PKEY	*k = (EVP_PKEY *)1, *cakey = NULL;
	struct keyops	*ko = NULL;
	X509		*ca = NULL;
	unsigned char	*der = NULL;
	int		 len = 0;

	tap_ok(!ca_p11_enabled() && ca_p11_path(0) == NULL,
	    "nothing configured at start");
	tap_ok(ca_p11_key_load("pkcs11:token=scepd;object=ca", &k) ==
	    SCEP_E_CONFIG && k == NULL,
	    "no module configured: a URI does not load (SCEP_E_CONFIG)");
	tap_ok(ca_p11_pin_load() == SCEP_E_CONFIG,
	    "no module configured: no PIN is read");
	tap_ok(ca_p11_configure("relative/libx.so", NULL, NULL) ==
	    SCEP_E_CONFIG && !ca_p11_enabled(),
	    "a relative module path is refused");
	tap_ok(ca_p11_configure("/nonexistent/libnothere.so", NULL, NULL) ==
	    SCEP_E_CONFIG && !ca_p11_enabled(),
	    "a module that does not load is refused");
	tap_ok(ca_p11_configure("/nonexistent/libnothere.so", NULL,
	    "relative/dir") == SCEP_E_CONFIG,
	    "a relative pkcs11 path is refused");
	/* keyops: a URI key reference without a module is a config error. */
	tap_ok(keyops_new(&ko) == SCEP_OK &&
	    ca_key_generate("ec256", &cakey) == SCEP_OK &&
	    ca_make_root(cakey, "/CN=p11 test", 10, time(NULL), &ca) ==
	    SCEP_OK && (len = i2d_X509(ca, &der)) > 0, "a CA certificate");
	tap_ok(keyops_load_ca(ko, 1, "pkcs11:token=scepd;object=ca", der,
	    (size_t)len) == SCEP_E_CONFIG && keyops_ca_cert(ko, 1) == NULL,
	    "keyops_load_ca of a URI without a module: SCEP_E_CONFIG");
	OPENSSL_free(der);
	X509_free(ca);
	EVP_PKEY_free(cakey);
	keyops_free(ko);
}

int
main(void)
{
	test_uri();
	test_unconfigured();
	return tap_done();
}
