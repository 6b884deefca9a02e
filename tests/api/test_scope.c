/*
 * test_scope.c -- the scope rules of admin.h as a table (STYLE H12): which
 * endpoints an MRAO, an RAO and a DRAO see and manage, and which
 * (organization, department) pairs their scope covers.  Pure functions
 * over structs: no store, no server.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "tap.h"

/* Organizations 1 (departments 11, 12) and 2 (department 21). */
enum { A = 1, A1 = 11, A2 = 12, B = 2, B1 = 21 };

static void
actor(struct admin_actor *a, int role, int types, const int64_t *refs,
    size_t n)
{
	size_t i;

	memset(a, 0, sizeof(*a));
	a->role = role;
	a->cert_types = types;
	for (i = 0; i < n; i++) {
		a->scopes[i].org_id = refs[2 * i];
		a->scopes[i].dept_id = refs[2 * i + 1];
	}
	a->nscopes = n;
}

static void
endpoint(struct admin_endpoint *e, int type, int general, int64_t org,
    int64_t dept, const int64_t *targets, size_t n)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	e->ep.type = type;
	e->ep.delegation_general = general;
	e->ep.org_id = org;
	e->ep.dept_id = dept;
	for (i = 0; i < n; i++) {
		e->targets[i].org_id = targets[2 * i];
		e->targets[i].dept_id = targets[2 * i + 1];
	}
	e->ntargets = n;
}

int
main(void)
{
	static const int64_t rao_a[] = { A, 0 }, drao_a1[] = { A, A1 },
	    rao_b[] = { B, 0 }, t_a[] = { A, 0 }, t_a1[] = { A, A1 },
	    t_ab[] = { A, 0, B, 0 }, t_a1a2[] = { A, A1, A, A2 },
	    t_b1[] = { B, B1 };
	struct admin_actor who[5];
	static const char *const names[5] = { "MRAO", "RAO-A", "DRAO-A1",
	    "RAO-B", "RAO-A-client" };
	struct admin_endpoint e;
	/* Per endpoint: visible / manageable for each of the five. */
	static const struct {
		const char	*name;
		int		 type, general;
		int64_t		 org, dept;
		const int64_t	*targets;
		size_t		 n;
		const char	*visible;	/* one char per actor */
		const char	*manageable;
	} cases[] = {
		{ "General device", EP_DEVICE_SCEP, 1, 0, 0, NULL, 0,
		  "11110", "10000" },
		{ "General client", EP_CLIENT_SCEP, 1, 0, 0, NULL, 0,
		  "11111", "10000" },
		{ "Customized to A (device)", EP_DEVICE_SCEP, 0, 0, 0, t_a, 1,
		  "11100", "11000" },
		{ "Customized to A (client)", EP_CLIENT_SCEP, 0, 0, 0, t_a, 1,
		  "11101", "11001" },
		{ "Customized to A1 (device)", EP_DEVICE_SCEP, 0, 0, 0, t_a1,
		  1, "11100", "11100" },
		{ "Customized to A1 and A2", EP_DEVICE_SCEP, 0, 0, 0, t_a1a2,
		  2, "11100", "11000" },
		{ "Customized to A and B", EP_DEVICE_SCEP, 0, 0, 0, t_ab, 2,
		  "11110", "10000" },
		{ "Customized to B1", EP_DEVICE_SCEP, 0, 0, 0, t_b1, 1,
		  "10010", "10010" },
		{ "Customized, no targets", EP_DEVICE_SCEP, 0, 0, 0, NULL, 0,
		  "10000", "10000" },
		{ "Intune owned by A1", EP_DEVICE_INTUNE, 0, A, A1, NULL, 0,
		  "11100", "11100" },
		{ "Intune owned by A (client)", EP_CLIENT_INTUNE, 0, A, 0,
		  NULL, 0, "11101", "11001" },
	};
	/* (org, dept) of an account or certificate: covered? */
	static const struct {
		int64_t		 org, dept;
		const char	*covered;
	} pairs[] = {
		{ A, A1, "11101" }, { A, A2, "11001" }, { A, 0, "11001" },
		{ B, B1, "10010" }, { 0, 0, "10000" }, { 99, 0, "10000" },
	};
	size_t i, k;

	actor(&who[0], STORE_ROLE_MRAO, STORE_CT_ALL, NULL, 0);
	actor(&who[1], STORE_ROLE_RAO, STORE_CT_ALL, rao_a, 1);
	actor(&who[2], STORE_ROLE_DRAO, STORE_CT_ALL, drao_a1, 1);
	actor(&who[3], STORE_ROLE_RAO, STORE_CT_ALL, rao_b, 1);
	actor(&who[4], STORE_ROLE_RAO, STORE_CT_CLIENT, rao_a, 1);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		endpoint(&e, cases[i].type, cases[i].general, cases[i].org,
		    cases[i].dept, cases[i].targets, cases[i].n);
		for (k = 0; k < 5; k++) {
			tap_ok(admin_ep_visible(&who[k], &e) ==
			    (cases[i].visible[k] == '1'), "%s: %s %s",
			    cases[i].name, names[k],
			    cases[i].visible[k] == '1' ? "sees it" :
			    "does not see it");
			tap_ok(admin_ep_manageable(&who[k], &e) ==
			    (cases[i].manageable[k] == '1'), "%s: %s %s",
			    cases[i].name, names[k],
			    cases[i].manageable[k] == '1' ? "manages it" :
			    "does not manage it");
			/* Managing implies seeing. */
			tap_ok(!admin_ep_manageable(&who[k], &e) ||
			    admin_ep_visible(&who[k], &e),
			    "%s: %s manages only what it sees", cases[i].name,
			    names[k]);
		}
	}
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		for (k = 0; k < 5; k++)
			tap_ok(admin_scope_covers(&who[k], pairs[i].org,
			    pairs[i].dept) == (pairs[i].covered[k] == '1'),
			    "(%lld, %lld): %s %s", (long long)pairs[i].org,
			    (long long)pairs[i].dept, names[k],
			    pairs[i].covered[k] == '1' ? "covers it" :
			    "does not cover it");
	tap_ok(admin_ep_cert_type(EP_CLIENT_INTUNE) == STORE_CT_CLIENT &&
	    admin_ep_cert_type(EP_DEVICE_SCEP) == STORE_CT_DEVICE,
	    "endpoint types map to certificate types");
	return tap_done();
}
