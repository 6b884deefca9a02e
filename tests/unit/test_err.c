/* test_err.c -- every error code has a row, and maps to a valid failInfo. */
#include <string.h>

#include "scep_err.h"
#include "tap.h"

int
main(void)
{
	int e;

	for (e = SCEP_OK; e > SCEP_E__MIN; e--) {
		tap_ok(strcmp(scep_strerror(e), "unknown error") != 0,
		    "code %d has a message", e);
		tap_ok((int)scep_err_failinfo(e) >= 0 &&
		    (int)scep_err_failinfo(e) <= 4, "code %d maps to failInfo", e);
	}
	tap_ok(scep_err_failinfo(SCEP_E_BADSIG) == SCEP_FAIL_BADMSGCHECK,
	    "bad signature is badMessageCheck");
	tap_ok(scep_err_failinfo(SCEP_E_BADALG) == SCEP_FAIL_BADALG,
	    "bad algorithm is badAlg");
	tap_ok(strcmp(scep_failinfo_name(4), "badCertId") == 0, "names");
	tap_ok(strcmp(scep_failinfo_name(5), "unknown") == 0, "out of range");
	return tap_done();
}
