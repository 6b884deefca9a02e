/*
 * admin_audit.c -- the audit trail for administrators: scoped search
 * (the "Enrollment Endpoint Audit" view is the search by endpoint) and
 * verification of the hash chain (store_event_verify).  See admin.h.
 */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admin_int.h"
#include "scep_err.h"

/*
 * Which records an RAO/DRAO sees: a record is about an organization and
 * department when it names an account (its organization), a certificate
 * serial (the certificate's snapshot) or a transaction (its request's
 * account); such a record is visible when that organization/department is
 * inside the scope on an endpoint the administrator sees, and, when it
 * has none, only on an endpoint the administrator manages.  Other
 * administrative records of a visible endpoint (its own changes) are
 * visible; records tied to nothing are visible to their own actor only.
 */
static int
event_visible(struct admin_actor *a, struct admin_endpoint *e,
    const struct store_event *ev)
{
	struct store *st = svc_store(a->svc);
	struct store_account acct;
	struct store_cert cert;
	struct store_request rq;
	int64_t org = 0, dept = 0;
	int have_org = 0;

	if (admin_is_mrao(a))
		return 1;
	if (ev->endpoint_id == 0 && ev->account_id == 0)
		return strcmp(ev->actor, a->name) == 0 &&
		    strcmp(ev->kind, "admin") == 0;
	memset(&acct, 0, sizeof(acct));
	memset(&cert, 0, sizeof(cert));
	memset(&rq, 0, sizeof(rq));
	if (ev->account_id != 0) {
		if (store_account_get(st, ev->account_id, &acct) != SCEP_OK)
			return 0;
		org = acct.org_id;
		dept = acct.dept_id;
		have_org = 1;
	} else if (ev->serial[0] != '\0') {
		if (store_cert_get(st, ev->serial, &cert) == SCEP_OK) {
			org = cert.org_id;
			dept = cert.dept_id;
			have_org = 1;
		}
		store_cert_clear(&cert);
	} else if (ev->transid[0] != '\0' && ev->endpoint_id != 0) {
		if (store_request_find(st, ev->endpoint_id, ev->transid, &rq) ==
		    SCEP_OK) {
			if (rq.account_id != 0 && store_account_get(st,
			    rq.account_id, &acct) == SCEP_OK) {
				org = acct.org_id;
				dept = acct.dept_id;
			}
			have_org = 1;
		}
		store_request_clear(&rq);
	}
	if (ev->endpoint_id != 0) {
		if (e->ep.id != ev->endpoint_id &&
		    admin_endpoint_load(st, ev->endpoint_id, e) != SCEP_OK)
			return 0;
		if (!admin_ep_visible(a, e))
			return 0;
	}
	if (have_org) {
		if (org != 0)
			return admin_scope_covers(a, org, dept);
		return ev->endpoint_id != 0 && admin_ep_manageable(a, e);
	}
	if (strcmp(ev->kind, "admin") == 0)
		return ev->endpoint_id != 0;	/* a change of the endpoint */
	return ev->endpoint_id != 0 && admin_ep_manageable(a, e);
}

int
admin_audit_search(struct admin_actor *a, const struct store_event_filter *f,
    struct store_event *out, size_t max, size_t *n)
{
	struct store_event_filter ff = *f;
	struct admin_endpoint *e = NULL;
	size_t got, i, k = 0;
	int r = SCEP_OK;

	*n = 0;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return SCEP_E_NOMEM;
	/* As for certificates: page through until "max" visible rows. */
	while (k < max) {
		size_t base = k;

		got = 0;
		if ((r = store_event_search(svc_store(a->svc), &ff, out + base,
		    max - base, &got)) != SCEP_OK)
			break;
		if (got > 0)
			ff.after = out[base + got - 1].id;
		for (i = 0; i < got; i++) {
			struct store_event *x = &out[base + i];

			if (!event_visible(a, e, x))
				continue;
			if (&out[k] != x)
				out[k] = *x;
			k++;
		}
		if (got < max - base)
			break;
	}
	*n = r == SCEP_OK ? k : 0;
	free(e);
	return r;
}

int
admin_audit_verify(struct admin_actor *a, int64_t *bad_id, int64_t *count)
{
	int r;

	*bad_id = 0;
	*count = 0;
	if (!admin_is_mrao(a))
		return SCEP_E_DENIED;
	if ((r = store_event_count(svc_store(a->svc), count)) != SCEP_OK)
		return r;
	r = store_event_verify(svc_store(a->svc), bad_id);
	(void)admin_audit(a, "audit.verify", 0, 0, NULL,
	    r == SCEP_OK ? "SUCCESS" : "FAILURE",
	    r == SCEP_OK ? NULL : "the audit chain does not verify", NULL,
	    NULL);
	return r;
}
