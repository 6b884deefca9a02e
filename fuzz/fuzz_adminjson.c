/*
 * fuzz_adminjson.c -- libFuzzer target: an admin API request body, read
 * as src/api reads it (admin_json_body: the size limit, JSON without
 * duplicates, an object, the depth limit), then given to every body
 * decoder the REST API uses (admin_json_to_org/_dept/_admin/_endpoint/
 * _account), for create and for update, over zeroed objects and over
 * objects that already hold what the first pass decoded.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "admin.h"
#include "scep_err.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_err(int r, const struct admin_err *err)
{
	/* A refusal always says why, within its buffer. */
	if (r != SCEP_OK && (err->msg[0] == '\0' ||
	    memchr(err->msg, '\0', sizeof(err->msg)) == NULL))
		__builtin_trap();
}

static void
decode_all(json_t *j, int create, struct store_org *o, struct store_dept *d,
    struct admin_info *a, struct admin_endpoint *e, struct admin_account *x)
{
	struct admin_err err;

	memset(&err, 0, sizeof(err));
	check_err(admin_json_to_org(j, o, &err), &err);
	memset(&err, 0, sizeof(err));
	check_err(admin_json_to_dept(j, create, d, &err), &err);
	memset(&err, 0, sizeof(err));
	check_err(admin_json_to_admin(j, create, a, &err), &err);
	if (a->nscopes > ADMIN_MAX_SCOPES)
		__builtin_trap();
	memset(&err, 0, sizeof(err));
	check_err(admin_json_to_endpoint(j, create, e, &err), &err);
	if (e->ntargets > ADMIN_MAX_TARGETS)
		__builtin_trap();
	memset(&err, 0, sizeof(err));
	check_err(admin_json_to_account(j, create, x, &err), &err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct store_org		o;
	static struct store_dept	d;
	static struct admin_info	a;
	static struct admin_endpoint	e;
	static struct admin_account	x;
	struct admin_err err;
	json_t *j = NULL;
	int r;

	memset(&err, 0, sizeof(err));
	r = admin_json_body(data, size, &j, &err);
	check_err(r, &err);
	if (r != SCEP_OK) {
		if (j != NULL)
			__builtin_trap();
		return 0;
	}
	memset(&o, 0, sizeof(o));
	memset(&d, 0, sizeof(d));
	memset(&a, 0, sizeof(a));
	memset(&e, 0, sizeof(e));
	memset(&x, 0, sizeof(x));
	decode_all(j, 1, &o, &d, &a, &e, &x);	/* create */
	decode_all(j, 0, &o, &d, &a, &e, &x);	/* update of that */
	json_decref(j);
	return 0;
}
