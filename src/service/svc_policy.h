/*
 * svc_policy.h -- what an endpoint's profile and an account's rules allow
 * of a decoded CSR (spec 12.1, issue 3), and the issuance template built
 * from them.
 *
 * Pure functions: no store, no clock, no HTTP, no keys.  The enrollment
 * path (svc_scep.c enroll, svc_issue.c svc_issue_build) calls exactly
 * these, so fuzz/fuzz_policy.c exercises the same code with hostile CSRs
 * and a few profile variants.  What the CSR decoder already refused
 * (scep_csr_decode: structure, proof of possession, SCEP_MAX_SANS,
 * SCEP_MAX_RDNS, key types) and what keyops re-checks on the template
 * (keyops.h keyops_issue: hard limits) are not repeated here.
 */
#ifndef SVC_POLICY_H
#define SVC_POLICY_H

#include <time.h>

#include "keyops.h"
#include "store.h"

struct scep_csr;

/* notBefore is backdated this much for clients whose clocks run behind. */
#define SVC_POLICY_BACKDATE	300
/* Validity when the profile names none (term_days <= 0). */
#define SVC_POLICY_TERM_DAYS	365
/* RSA floor when the profile names none (min_rsa_bits <= 0). */
#define SVC_POLICY_MIN_RSA	2048

/*
 * The profile's key rules: RSA of at least min_rsa_bits (default
 * SVC_POLICY_MIN_RSA); EC P-256 or P-384 only with allow_ec.  NULL when
 * the key passes, else the reason (a static string, for the client).
 */
const char	*svc_policy_key(const struct store_profile *,
		    const struct scep_csr *);

/*
 * An account's subject/SAN constraints (fnmatch(3) patterns): the subject
 * CN must match cn_pattern, every SAN (dNSName, rfc822Name, URI, or an
 * IPv4/IPv6 address as text) must match san_pattern.  An empty pattern
 * constrains nothing; a SAN of another type, an empty one, one with a NUL
 * or one of 256 bytes or more fails a non-empty san_pattern.  NULL when
 * the request passes, else the reason.
 */
const char	*svc_policy_names(const struct store_account_rules *,
		    const struct scep_csr *);

/*
 * The issuance template for "csr" under endpoint "ep" at time "now":
 * kind from the endpoint type, serverAuth, SANs only with copy_sans,
 * validity [now - SVC_POLICY_BACKDATE, now + term_days], the backdate cut
 * so the whole stays within ISSUE_MAX_DAYS when it can.  Everything in
 * *t is borrowed from csr, ep and crl_url (may be NULL).
 */
void		 svc_policy_tmpl(const struct store_endpoint *ep,
		    const struct scep_csr *csr, time_t now,
		    const char *crl_url, struct issue_tmpl *t);

#endif /* !SVC_POLICY_H */
