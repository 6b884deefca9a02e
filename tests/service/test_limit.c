/* test_limit.c -- challenge-guessing limits (svc_limit.c). */
#include <stdio.h>

#include <sodium.h>

#include "svc_limit.h"
#include "tap.h"

int
main(void)
{
	struct svc_limit *l = NULL;
	time_t t = 1000000;
	char addr[32];
	int i, locked_others = 0;

	if (sodium_init() < 0 || svc_limit_new(&l) != 0)
		return 1;
	for (i = 0; i < SVC_LIMIT_FREE_FAILS; i++) {
		tap_ok(svc_limit_check(l, "10.0.0.1", 1, t) == 0,
		    "attempt %d allowed", i + 1);
		svc_limit_record(l, "10.0.0.1", 1, 0, t);
	}
	tap_ok(svc_limit_check(l, "10.0.0.1", 1, t) == 0,
	    "after %d failures still no lockout", SVC_LIMIT_FREE_FAILS);
	svc_limit_record(l, "10.0.0.1", 1, 0, t);
	tap_ok(svc_limit_check(l, "10.0.0.1", 1, t) == 1, "next failure: 1 s");
	svc_limit_record(l, "10.0.0.1", 1, 0, t + 1);
	tap_ok(svc_limit_check(l, "10.0.0.1", 1, t + 1) == 2,
	    "then 2 s (exponential)");
	for (i = 0; i < 30; i++)
		svc_limit_record(l, "10.0.0.1", 1, 0, t + 2);
	tap_ok(svc_limit_check(l, "10.0.0.1", 1, t + 2) == SVC_LIMIT_MAX_LOCK,
	    "capped at %d s", SVC_LIMIT_MAX_LOCK);
	tap_ok(svc_limit_check(l, "10.0.0.2", 1, t + 2) == 0,
	    "another address is not slowed down");
	tap_ok(svc_limit_check(l, "10.0.0.1", 2, t + 2) > 0,
	    "the lockout holds on every endpoint");
	tap_ok(svc_limit_check(l, "10.0.0.1", 1, t + 2 + SVC_LIMIT_MAX_LOCK) ==
	    0, "lockout ends");
	svc_limit_record(l, "10.0.0.1", 1, 1, t + 2 + SVC_LIMIT_MAX_LOCK);
	svc_limit_record(l, "10.0.0.1", 1, 0, t + 3 + SVC_LIMIT_MAX_LOCK);
	tap_ok(svc_limit_check(l, "10.0.0.1", 1, t + 3 + SVC_LIMIT_MAX_LOCK) ==
	    0, "a success resets the count");

	/* A broad attack from many addresses on one endpoint. */
	t += 100000;
	for (i = 0; i < SVC_LIMIT_EP_PER_MIN + 10; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d:%d", i % 250, i);
		svc_limit_record(l, addr, 7, 0, t);
	}
	/* The newest failing source owns its slot (older ones may have been
	 * displaced by a hash neighbour: the table is fixed-size). */
	svc_limit_record(l, "198.51.100.7", 7, 0, t);
	tap_ok(svc_limit_check(l, "198.51.100.7", 7, t) > 0,
	    "endpoint over its failure budget: failing sources wait");
	tap_ok(svc_limit_check(l, "203.0.113.9", 7, t) == 0,
	    "a source with no failures is still heard");
	tap_ok(svc_limit_check(l, "198.51.100.7", 7, t + 120) == 0,
	    "budget renews the next minute");
	for (i = 0; i < 100000; i++) {
		snprintf(addr, sizeof(addr), "a%d", i);
		svc_limit_record(l, addr, 9, 0, t);
		if (i < 50 && svc_limit_check(l, "203.0.113.9", 9, t) != 0)
			locked_others++;
	}
	tap_ok(locked_others == 0, "100000 addresses in fixed memory, "
	    "innocent source unaffected");
	svc_limit_free(l);
	return tap_done();
}
