/*
 * tap.h -- minimal TAP producer for table-driven unit tests (STYLE H12).
 * Each check prints "ok N - name" or "not ok N - name # file:line".
 */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define tap_ok(cond, ...) do {						\
	int tap_c_ = (cond) ? 1 : 0;					\
	tap_n++;							\
	if (!tap_c_)							\
		tap_failed++;						\
	printf("%s %d - ", tap_c_ ? "ok" : "not ok", tap_n);		\
	printf(__VA_ARGS__);						\
	if (!tap_c_)							\
		printf(" # %s:%d", __FILE__, __LINE__);			\
	printf("\n");							\
} while (0)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif /* !TAP_H */
