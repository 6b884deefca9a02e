/*
 * cmds.c -- every scepctl command: one row per API operation (STYLE H9),
 * plus the few functions for commands that do more than one request or
 * write files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "scepctl.h"

/* ---- columns ---- */

static const struct col org_cols[] = {
	{ "ID", "id", C_INT }, { "NAME", "name", C_STR },
	{ "CREATED", "created_at", C_TIME }, { NULL, NULL, 0 }
};
static const struct col dept_cols[] = {
	{ "ID", "id", C_INT }, { "ORG", "org_id", C_INT },
	{ "NAME", "name", C_STR }, { "CREATED", "created_at", C_TIME },
	{ NULL, NULL, 0 }
};
static const struct col admin_cols[] = {
	{ "ID", "id", C_INT }, { "NAME", "name", C_STR },
	{ "ROLE", "role", C_STR }, { "TYPES", "cert_types", C_JSON },
	{ "SCOPES", "scopes", C_REFS }, { "DISABLED", "disabled", C_BOOL },
	{ NULL, NULL, 0 }
};
static const struct col token_cols[] = {
	{ "ID", "id", C_INT }, { "NAME", "name", C_STR },
	{ "CREATED", "created_at", C_TIME },
	{ "EXPIRES", "expires_at", C_TIME },
	{ "REVOKED", "revoked_at", C_TIME },
	{ "LAST USED", "last_used_at", C_TIME }, { NULL, NULL, 0 }
};
static const struct col ep_cols[] = {
	{ "ID", "id", C_INT }, { "NAME", "name", C_STR },
	{ "EXT", "uri_ext", C_STR }, { "TYPE", "type", C_STR },
	{ "MANUAL", "manual_approval", C_BOOL },
	{ "LEGACY", "legacy", C_BOOL }, { "ENABLED", "enabled", C_BOOL },
	{ "DELEGATION", "delegation", C_STR },
	{ "TARGETS", "targets", C_REFS }, { "URL", "url", C_STR },
	{ NULL, NULL, 0 }
};
static const struct col acct_cols[] = {
	{ "ID", "id", C_INT }, { "ENDPOINT", "endpoint_id", C_INT },
	{ "NAME", "name", C_STR }, { "ORG", "org_id", C_INT },
	{ "DEPT", "dept_id", C_INT }, { "ENABLED", "enabled", C_BOOL },
	{ "EXPIRES", "expires_at", C_TIME },
	{ "USED", "enrollments", C_INT }, { "MAX", "max_enrollments", C_INT },
	{ NULL, NULL, 0 }
};
static const struct col otc_cols[] = {
	{ "ID", "id", C_INT }, { "CREATED", "created_at", C_TIME },
	{ "EXPIRES", "expires_at", C_TIME }, { "STATUS", "status", C_STR },
	{ NULL, NULL, 0 }
};
static const struct col ca_cols[] = {
	{ "ID", "id", C_INT }, { "NAME", "name", C_STR },
	{ "SUBJECT", "subject", C_STR }, { "NOT AFTER", "not_after", C_TIME },
	{ NULL, NULL, 0 }
};
static const struct col ra_cols[] = {
	{ "ID", "id", C_INT }, { "CA", "ca_id", C_INT },
	{ "STATE", "state", C_STR }, { "USAGE", "usage", C_STR },
	{ "SUBJECT", "subject", C_STR }, { "NOT AFTER", "not_after", C_TIME },
	{ NULL, NULL, 0 }
};
static const struct col cert_cols[] = {
	{ "SERIAL", "serial", C_STR }, { "SUBJECT", "subject", C_STR },
	{ "STATUS", "status", C_STR }, { "NOT AFTER", "not_after", C_TIME },
	{ "ENDPOINT", "endpoint_id", C_INT },
	{ "ACCOUNT", "account_id", C_INT },
	{ "ORG", "org_id", C_INT }, { "DEPT", "dept_id", C_INT },
	{ NULL, NULL, 0 }
};
static const struct col req_cols[] = {
	{ "ID", "id", C_INT }, { "ENDPOINT", "endpoint_id", C_INT },
	{ "ACCOUNT", "account_id", C_INT }, { "SUBJECT", "subject", C_STR },
	{ "TRANSID", "transid", C_STR }, { "CREATED", "created_at", C_TIME },
	{ NULL, NULL, 0 }
};
static const struct col audit_cols[] = {
	{ "ID", "id", C_INT }, { "TIME", "ts", C_TIME },
	{ "ACTOR", "actor", C_STR }, { "ACTION", "action", C_STR },
	{ "RESULT", "result", C_STR }, { "ENDPOINT", "endpoint_id", C_INT },
	{ "ACCOUNT", "account_id", C_INT }, { "ORG", "org_id", C_INT },
	{ "DEPT", "dept_id", C_INT }, { "REASON", "reason", C_STR },
	{ NULL, NULL, 0 }
};

/* ---- options ---- */

static const struct opt no_opts[] = { OEND };

static const struct opt org_opts[] = {
	OPT("name", O_STR, "name", TO_BODY, "NAME", "organization name"),
	OEND
};
static const struct opt dept_list_opts[] = {
	OPT("org", O_INT, "org_id", TO_QUERY, "ORG", "only this organization"),
	OEND
};
static const struct opt dept_opts[] = {
	OPT("org", O_INT, "org_id", TO_BODY, "ORG", "its organization (id)"),
	OPT("name", O_STR, "name", TO_BODY, "NAME", "department name"),
	OEND
};
static const struct opt admin_opts[] = {
	OPT("name", O_STR, "name", TO_BODY, "NAME", "login name"),
	OPT("role", O_STR, "role", TO_BODY, "ROLE", "MRAO, RAO or DRAO"),
	OPT("cert-types", O_LIST, "cert_types", TO_BODY, "TYPES",
	    "client,device (RAO/DRAO)"),
	OPT("org", O_ORGS, "scopes", TO_BODY, "ORG",
	    "an organization of an RAO (repeat)"),
	OPT("dept", O_DEPTS, "scopes", TO_BODY, "DEPT",
	    "a department of a DRAO (repeat)"),
	OPT("password", O_STR, "password", TO_BODY, "PASSWORD",
	    "initial password (default: generated and shown once)"),
	OPT("disable", O_TRUE, "disabled", TO_BODY, NULL,
	    "create it disabled"),
	OEND
};
static const struct opt admin_upd_opts[] = {
	OPT("name", O_STR, "name", TO_BODY, "NAME", "login name"),
	OPT("role", O_STR, "role", TO_BODY, "ROLE", "MRAO, RAO or DRAO"),
	OPT("cert-types", O_LIST, "cert_types", TO_BODY, "TYPES",
	    "client,device"),
	OPT("org", O_ORGS, "scopes", TO_BODY, "ORG",
	    "replace the scopes: an organization (repeat)"),
	OPT("dept", O_DEPTS, "scopes", TO_BODY, "DEPT",
	    "replace the scopes: a department (repeat)"),
	OPT("disable", O_TRUE, "disabled", TO_BODY, NULL,
	    "disable (ends its sessions)"),
	OPT("enable", O_FALSE, "disabled", TO_BODY, NULL, "enable"),
	OEND
};
static const struct opt pw_opts[] = {
	OPT("password", O_LOCAL, "password", TO_BODY, "PASSWORD",
	    "the new password (default: read a line from standard input)"),
	OEND
};
static const struct opt token_list_opts[] = {
	OPT("admin", O_STR, "admin", TO_PATH, "ADMIN",
	    "administrator id (default: me)"),
	OEND
};
static const struct opt token_opts[] = {
	OPT("admin", O_STR, "admin", TO_PATH, "ADMIN",
	    "administrator id (default: me)"),
	OPT("name", O_STR, "name", TO_BODY, "NAME", "what the token is for"),
	OPT("expires", O_TIME, "expires_at", TO_BODY, "TIME",
	    "expiry: seconds, YYYY-MM-DD, +30d (default: never)"),
	OEND
};

#define EP_COMMON_OPTS \
	OPT("name", O_STR, "name", TO_BODY, "NAME", "display name"), \
	OPT("ext", O_STR, "uri_ext", TO_BODY, "EXT", \
	    "URI extension: the URL is /scep/EXT"), \
	OPT("ra", O_INT, "ra_id", TO_BODY, "RA", "RA certificate (id)"), \
	OPT("term", O_INT, "term_days", TO_BODY, "DAYS", \
	    "certificate validity in days"), \
	OPT("min-rsa-bits", O_INT, "min_rsa_bits", TO_BODY, "BITS", \
	    "smallest RSA key accepted"), \
	OPT("ec", O_TRUE, "allow_ec", TO_BODY, NULL, "accept EC keys"), \
	OPT("no-ec", O_FALSE, "allow_ec", TO_BODY, NULL, "refuse EC keys"), \
	OPT("server-auth", O_TRUE, "server_auth", TO_BODY, NULL, \
	    "device certificates also get serverAuth"), \
	OPT("no-server-auth", O_FALSE, "server_auth", TO_BODY, NULL, \
	    "no serverAuth EKU"), \
	OPT("renewal", O_TRUE, "renewal", TO_BODY, NULL, \
	    "accept renewal requests"), \
	OPT("no-renewal", O_FALSE, "renewal", TO_BODY, NULL, \
	    "refuse renewal requests"), \
	OPT("renewal-window", O_INT, "renewal_window_days", TO_BODY, "DAYS", \
	    "renew only this close to expiry (0: any time)"), \
	OPT("copy-sans", O_TRUE, "copy_sans", TO_BODY, NULL, \
	    "copy SANs from the request"), \
	OPT("no-copy-sans", O_FALSE, "copy_sans", TO_BODY, NULL, \
	    "ignore requested SANs"), \
	OPT("getcacert", O_STR, "getcacert_format", TO_BODY, "FMT", \
	    "GetCACert answer: single or chain"), \
	OPT("getcert", O_STR, "getcert_format", TO_BODY, "FMT", \
	    "GetCert answer: single or chain"), \
	OPT("legacy", O_TRUE, "legacy", TO_BODY, NULL, \
	    "allow single DES and MD5 (old clients)"), \
	OPT("no-legacy", O_FALSE, "legacy", TO_BODY, NULL, \
	    "modern algorithms only"), \
	OPT("manual-approval", O_TRUE, "manual_approval", TO_BODY, NULL, \
	    "requests wait for an administrator"), \
	OPT("auto-approval", O_FALSE, "manual_approval", TO_BODY, NULL, \
	    "issue at once when the challenge is right"), \
	OPT("enable", O_TRUE, "enabled", TO_BODY, NULL, "enable enrollment"), \
	OPT("disable", O_FALSE, "enabled", TO_BODY, NULL, \
	    "stop enrollment"), \
	OPT("delegation", O_STR, "delegation", TO_BODY, "MODE", \
	    "general or customized"), \
	OPT("azure-account", O_INT, "azure_account_id", TO_BODY, "ID", \
	    "Intune types: Azure account (0: none)"), \
	OPT("wait-success", O_TRUE, "wait_success", TO_BODY, NULL, \
	    "Intune: reply only after successNotification (default)"), \
	OPT("no-wait-success", O_FALSE, "wait_success", TO_BODY, NULL, \
	    "Intune: reply at once, notify in the background"), \
	OPT("ca-configuration", O_STR, "ca_configuration", TO_BODY, "NAME", \
	    "Intune: caConfiguration sent (default: the CA's name)"), \
	OPT("issuing-ca", O_STR, "issuing_ca", TO_BODY, "DN", \
	    "Intune: issuing CA sent (default: the issuer DN)"), \
	OPT("target", O_REFS, "targets", TO_BODY, "ORG[:DEPT]", \
	    "delegate to an organization or department (repeat)")

static const struct opt ep_create_opts[] = {
	EP_COMMON_OPTS,
	OPT("type", O_STR, "type", TO_BODY, "TYPE",
	    "client, device, client-intune or device-intune"),
	OPT("ca", O_INT, "ca_id", TO_BODY, "CA", "issuing CA (default: the "
	    "first)"),
	OPT("org", O_INT, "org_id", TO_BODY, "ORG",
	    "owning organization (Intune types)"),
	OPT("dept", O_INT, "dept_id", TO_BODY, "DEPT",
	    "owning department (Intune types)"),
	OEND
};
static const struct opt ep_update_opts[] = { EP_COMMON_OPTS, OEND };
static const struct opt ep_list_opts[] = {
	OPT("deleted", O_TRUE, "deleted", TO_QUERY, NULL,
	    "list deleted endpoints instead"),
	OPT("ext", O_STR, "uri_ext", TO_QUERY, "EXT", "only this extension"),
	OEND
};
static const struct opt ep_deleg_opts[] = {
	OCONST("general", "delegation", "general",
	    "General: every organization and department"),
	OPT("target", O_REFS, "targets", TO_BODY, "ORG[:DEPT]",
	    "Customized: an organization or department (repeat)"),
	OEND
};

#define ACCT_COMMON_OPTS \
	OPT("name", O_STR, "name", TO_BODY, "NAME", "account name"), \
	OPT("org", O_INT, "org_id", TO_BODY, "ORG", "its organization"), \
	OPT("dept", O_INT, "dept_id", TO_BODY, "DEPT", "its department"), \
	OPT("expires", O_TIME, "expires_at", TO_BODY, "TIME", \
	    "expiry: seconds, YYYY-MM-DD, +30d, never"), \
	OPT("max-enrollments", O_INT, "max_enrollments", TO_BODY, "N", \
	    "enrollments allowed (0: unlimited)"), \
	OPT("cn-pattern", O_STR, "cn_pattern", TO_BODY, "GLOB", \
	    "subject CN must match (fnmatch)"), \
	OPT("san-pattern", O_STR, "san_pattern", TO_BODY, "GLOB", \
	    "every SAN must match (fnmatch)"), \
	OPT("enable", O_TRUE, "enabled", TO_BODY, NULL, "enable"), \
	OPT("disable", O_FALSE, "enabled", TO_BODY, NULL, \
	    "disable: its challenge stops working at once")

static const struct opt acct_create_opts[] = {
	OPT("endpoint", O_EP, "ep", TO_PATH, "EP",
	    "endpoint id or URI extension"),
	ACCT_COMMON_OPTS,
	OEND
};
static const struct opt acct_update_opts[] = { ACCT_COMMON_OPTS, OEND };
static const struct opt acct_list_opts[] = {
	OPT("endpoint", O_EP, "endpoint_id", TO_QUERY, "EP",
	    "only this endpoint (id or URI extension)"),
	OPT("org", O_INT, "org_id", TO_QUERY, "ORG", "only this organization"),
	OPT("dept", O_INT, "dept_id", TO_QUERY, "DEPT", "only this "
	    "department"),
	OEND
};
static const struct opt otc_opts[] = {
	OPT("ttl", O_INT, "ttl", TO_BODY, "SECONDS",
	    "time to live (default 3600)"),
	OEND
};
static const struct opt ra_list_opts[] = {
	OPT("ca", O_INT, "ca_id", TO_QUERY, "CA", "only this CA"),
	OEND
};
static const struct opt ra_create_opts[] = {
	OPT("ca", O_INT, "ca_id", TO_BODY, "CA", "issuing CA (id)"),
	OPT("subject", O_STR, "subject", TO_BODY, "DN",
	    "subject, \"CN=x,O=y\" or \"/O=y/CN=x\""),
	OPT("key-alg", O_STR, "key_alg", TO_BODY, "ALG",
	    "rsa2048 (default), rsa3072, rsa4096, ec256, ec384"),
	OPT("usage", O_STR, "usage", TO_BODY, "USAGE",
	    "sign-encrypt (default), sign or encrypt"),
	OPT("days", O_INT, "days", TO_BODY, "DAYS", "lifetime in days"),
	OCONST("next", "state", "next",
	    "stage it for rollover (GetNextCACert)"),
	OEND
};
static const struct opt ra_stage_opts[] = {
	OCONST("stage", "action", "stage", NULL),
	OPT("days", O_INT, "days", TO_BODY, "DAYS",
	    "lifetime (default: that of the current RA)"),
	OEND
};
static const struct opt download_opts[] = {
	OPT("format", O_STR, "format", TO_QUERY, "FMT",
	    "pem (default), der, or p7 (the chain a client gets)"),
	OPT("out", O_LOCAL, "out", TO_BODY, "FILE",
	    "write to FILE (default: standard output)"),
	OEND
};
static const struct opt cert_list_opts[] = {
	OPT("endpoint", O_EP, "endpoint_id", TO_QUERY, "EP",
	    "issued through this endpoint"),
	OPT("account", O_INT, "account_id", TO_QUERY, "ID",
	    "issued through this account"),
	OPT("org", O_INT, "org_id", TO_QUERY, "ORG", "of this organization"),
	OPT("dept", O_INT, "dept_id", TO_QUERY, "DEPT", "of this department"),
	OPT("subject", O_STR, "subject", TO_QUERY, "TEXT",
	    "subject contains TEXT"),
	OPT("serial", O_STR, "serial", TO_QUERY, "HEX", "this serial"),
	OPT("status", O_STR, "status", TO_QUERY, "STATUS", "valid or revoked"),
	OPT("expires-before", O_TIME, "expires_before", TO_QUERY, "TIME",
	    "expiring before TIME"),
	OPT("expires-after", O_TIME, "expires_after", TO_QUERY, "TIME",
	    "expiring after TIME"),
	OPT("limit", O_INT, "limit", TO_QUERY, "N", "rows per page (100)"),
	OPT("after", O_INT, "after", TO_QUERY, "CURSOR",
	    "the next page (from the previous answer)"),
	OEND
};
static const struct opt revoke_opts[] = {
	OPT("reason", O_STR, "reason", TO_BODY, "REASON", "CRLReason: "
	    "unspecified, keyCompromise, cACompromise, affiliationChanged, "
	    "superseded, cessationOfOperation, certificateHold, "
	    "privilegeWithdrawn, aACompromise"),
	OEND
};
static const struct opt reject_opts[] = {
	OPT("reason", O_STR, "reason", TO_BODY, "TEXT",
	    "why (recorded and audited)"),
	OEND
};

#define AUDIT_FILTER_OPTS \
	OPT("endpoint", O_EP, "endpoint_id", TO_QUERY, "EP", \
	    "records of this endpoint"), \
	OPT("account", O_INT, "account_id", TO_QUERY, "ID", \
	    "records of this account"), \
	OPT("actor", O_STR, "actor", TO_QUERY, "NAME", \
	    "administrator name or client address"), \
	OPT("action", O_STR, "action", TO_QUERY, "ACTION", \
	    "exact, or a prefix ending in '.' (endpoint.)"), \
	OPT("kind", O_STR, "kind", TO_QUERY, "KIND", "admin or enroll"), \
	OPT("result", O_STR, "result", TO_QUERY, "RESULT", \
	    "SUCCESS, FAILURE or PENDING"), \
	OPT("since", O_TIME, "since", TO_QUERY, "TIME", "from TIME on"), \
	OPT("until", O_TIME, "until", TO_QUERY, "TIME", "before TIME"), \
	OPT("limit", O_INT, "limit", TO_QUERY, "N", "rows"), \
	OPT("after", O_INT, "after", TO_QUERY, "ID", "records after this id")

static const struct opt audit_list_opts[] = { AUDIT_FILTER_OPTS, OEND };
static const struct opt audit_export_opts[] = {
	AUDIT_FILTER_OPTS,
	OPT("format", O_STR, "format", TO_QUERY, "FMT", "csv (default) or "
	    "json"),
	OPT("out", O_LOCAL, "out", TO_BODY, "FILE",
	    "write to FILE (default: standard output)"),
	OEND
};

/* ---- helpers of the command functions (cmds_azure.c uses them too) ---- */

int
ctl_args_init(struct ctl_args *a, int argc)
{
	a->n = 0;
	a->v[0] = NULL;
	if (argc > CTL_MAX_ARGS) {
		fprintf(stderr, "scepctl: too many arguments\n");
		return EX_USAGE;
	}
	return EX_OK;
}

void
ctl_args_add(struct ctl_args *a, char *arg)
{
	if (a->n < CTL_MAX_ARGS + CTL_EXTRA_ARGS) {
		a->v[a->n++] = arg;
		a->v[a->n] = NULL;
	}
}

int
ctl_read_line(FILE *f, char *buf, size_t bufsz)
{
	size_t len;

	if (fgets(buf, (int)bufsz, f) == NULL) {
		buf[0] = '\0';
		return -1;
	}
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	return 0;
}

int
ctl_run_verdict(struct ctx *c, const struct cmd *cmd, int argc, char **argv,
    void (*show)(const json_t *))
{
	json_t *local = json_object(), *j = NULL;
	struct resp r;
	int ex;

	memset(&r, 0, sizeof(r));
	if (local == NULL)
		return EX_SERVER;
	ex = ctl_run_keep(c, cmd, argc, argv, local, &r);
	if (ex != EX_OK || r.status <= 0)
		goto out;
	if ((j = json_loads(r.body, 0, NULL)) == NULL) {
		ex = EX_SERVER;
		goto out;
	}
	if (c->json)
		ex = ctl_print(c, cmd, &r);
	else
		show(j);
	if (!json_is_true(json_object_get(j, "ok")))
		ex = EX_INVALID;
 out:
	json_decref(j);
	resp_clear(&r);
	json_decref(local);
	return ex;
}

/* ---- functions ---- */

/* Write the answer of a download to --out or standard output. */
static int
fn_download(struct ctx *c, const struct cmd *cmd, int argc, char **argv)
{
	json_t *local = json_object();
	struct resp r;
	int ex;

	memset(&r, 0, sizeof(r));
	if (local == NULL)
		return EX_SERVER;
	ex = ctl_run_keep(c, cmd, argc, argv, local, &r);
	if (ex == EX_OK && r.status > 0)
		ex = ctl_write_out(&r, json_string_value(json_object_get(local,
		    "out")));
	resp_clear(&r);
	json_decref(local);
	return ex;
}

/* Like fn_download, with CSV unless --format json, and every row. */
static int
fn_export(struct ctx *c, const struct cmd *cmd, int argc, char **argv)
{
	struct ctl_args a;
	char limit[] = "--limit=10000", csv[] = "--format=csv";
	int i, hasfmt = 0, haslimit = 0;

	if (ctl_args_init(&a, argc) != EX_OK)
		return EX_USAGE;
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--format", 8) == 0)
			hasfmt = 1;
		if (strncmp(argv[i], "--limit", 7) == 0)
			haslimit = 1;
		ctl_args_add(&a, argv[i]);
	}
	if (!hasfmt)
		ctl_args_add(&a, csv);
	if (!haslimit)
		ctl_args_add(&a, limit);
	return fn_download(c, cmd, a.n, a.v);
}

static void
show_verify(const json_t *j)
{
	if (json_is_true(json_object_get(j, "ok")))
		printf("audit chain OK: %lld records\n", (long long)
		    json_integer_value(json_object_get(j, "count")));
	else
		printf("audit chain BROKEN at record %lld (of %lld): "
		    "a record was altered, inserted or deleted\n",
		    (long long)json_integer_value(json_object_get(j,
		    "bad_id")), (long long)json_integer_value(
		    json_object_get(j, "count")));
}

/* audit verify: exit 4 when the chain is broken. */
static int
fn_verify(struct ctx *c, const struct cmd *cmd, int argc, char **argv)
{
	return ctl_run_verdict(c, cmd, argc, argv, show_verify);
}

/* admin password: from --password or one line of standard input. */
static int
fn_password(struct ctx *c, const struct cmd *cmd, int argc, char **argv)
{
	static const struct opt body_opt[] = {
		OPT("password", O_STR, "password", TO_BODY, "PASSWORD", ""),
		OEND
	};
	struct cmd real = *cmd;
	struct ctl_args a;
	char line[512];
	char flag[] = "--password";
	int i, have = 0, ex;

	if (ctl_args_init(&a, argc) != EX_OK)
		return EX_USAGE;
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--password", 10) == 0)
			have = 1;
		ctl_args_add(&a, argv[i]);
	}
	if (!have) {
		if (ctl_read_line(stdin, line, sizeof(line)) != 0) {
			fprintf(stderr, "scepctl: no password on standard "
			    "input\n");
			return EX_USAGE;
		}
		ctl_args_add(&a, flag);
		ctl_args_add(&a, line);
	}
	real.opts = body_opt;
	ex = ctl_generic(c, &real, a.n, a.v);
	memset(line, 0, sizeof(line));
	if (ex == EX_OK && !c->json)
		printf("password changed\n");
	return ex;
}

/* A verb that is an update with one fixed flag (account disable ...). */
static int
fn_with_flag(struct ctx *c, const struct cmd *cmd, int argc, char **argv,
    const char *flag)
{
	struct ctl_args a;
	char fl[32];
	const struct cmd *upd = NULL;
	size_t k;
	int i;

	if (ctl_args_init(&a, argc) != EX_OK)
		return EX_USAGE;
	for (k = 0; k < ctl_ncmds; k++)
		if (strcmp(ctl_cmds[k].noun, cmd->noun) == 0 &&
		    strcmp(ctl_cmds[k].verb, "update") == 0)
			upd = &ctl_cmds[k];
	if (upd == NULL)
		return EX_USAGE;
	for (i = 0; i < argc; i++)
		ctl_args_add(&a, argv[i]);
	snprintf(fl, sizeof(fl), "%s", flag);
	ctl_args_add(&a, fl);
	return ctl_generic(c, upd, a.n, a.v);
}

static int
fn_disable(struct ctx *c, const struct cmd *cmd, int argc, char **argv)
{
	return fn_with_flag(c, cmd, argc, argv, "--disable");
}

static int
fn_enable(struct ctx *c, const struct cmd *cmd, int argc, char **argv)
{
	return fn_with_flag(c, cmd, argc, argv, "--enable");
}

/* ---- the table ---- */

#define V1	"/api/v1"

const struct cmd ctl_cmds[] = {
	{ "org", "list", "GET", V1 "/organizations", P_NONE, NULL, no_opts,
	    org_cols, NULL, "organizations you can see" },
	{ "org", "create", "POST", V1 "/organizations", P_NONE, NULL,
	    org_opts, NULL, NULL, "create an organization (MRAO)" },
	{ "org", "show", "GET", V1 "/organizations/{1}", P_ID, "ID", no_opts,
	    NULL, NULL, "one organization" },
	{ "org", "update", "PATCH", V1 "/organizations/{1}", P_ID, "ID",
	    org_opts, NULL, NULL, "rename an organization (MRAO)" },
	{ "org", "delete", "DELETE", V1 "/organizations/{1}", P_ID, "ID",
	    no_opts, NULL, NULL, "delete an unused organization (MRAO)" },

	{ "dept", "list", "GET", V1 "/departments", P_NONE, NULL,
	    dept_list_opts, dept_cols, NULL, "departments you can see" },
	{ "dept", "create", "POST", V1 "/departments", P_NONE, NULL, dept_opts,
	    NULL, NULL, "create a department" },
	{ "dept", "show", "GET", V1 "/departments/{1}", P_ID, "ID", no_opts,
	    NULL, NULL, "one department" },
	{ "dept", "update", "PATCH", V1 "/departments/{1}", P_ID, "ID",
	    dept_opts, NULL, NULL, "rename a department" },
	{ "dept", "delete", "DELETE", V1 "/departments/{1}", P_ID, "ID",
	    no_opts, NULL, NULL, "delete an unused department" },

	{ "admin", "whoami", "GET", V1 "/me", P_NONE, NULL, no_opts, NULL,
	    NULL, "the administrator the token belongs to" },
	{ "admin", "list", "GET", V1 "/admins", P_NONE, NULL, no_opts,
	    admin_cols, NULL, "administrators you manage (and yourself)" },
	{ "admin", "create", "POST", V1 "/admins", P_NONE, NULL, admin_opts,
	    NULL, NULL, "create an administrator" },
	{ "admin", "show", "GET", V1 "/admins/{1}", P_ADMIN, "ID|me", no_opts,
	    NULL, NULL, "one administrator" },
	{ "admin", "update", "PATCH", V1 "/admins/{1}", P_ADMIN, "ID|me",
	    admin_upd_opts, NULL, NULL, "change role, scopes or state" },
	{ "admin", "delete", "DELETE", V1 "/admins/{1}", P_ADMIN, "ID",
	    no_opts, NULL, NULL, "delete an administrator" },
	{ "admin", "password", "POST", V1 "/admins/{1}/password", P_ADMIN,
	    "ID|me", pw_opts, NULL, fn_password, "set a console password" },

	{ "token", "list", "GET", V1 "/admins/{admin}/tokens", P_NONE, NULL,
	    token_list_opts, token_cols, NULL, "API tokens" },
	{ "token", "create", "POST", V1 "/admins/{admin}/tokens", P_NONE,
	    NULL, token_opts, NULL, NULL,
	    "create an API token (shown once)" },
	{ "token", "revoke", "DELETE", V1 "/admins/{admin}/tokens/{1}", P_ID,
	    "TOKEN_ID", token_list_opts, NULL, NULL, "revoke an API token" },

	{ "endpoint", "list", "GET", V1 "/endpoints", P_NONE, NULL,
	    ep_list_opts, ep_cols, NULL, "enrollment endpoints" },
	{ "endpoint", "create", "POST", V1 "/endpoints", P_NONE, NULL,
	    ep_create_opts, NULL, NULL, "create an enrollment endpoint" },
	{ "endpoint", "show", "GET", V1 "/endpoints/{1}", P_EP, "EP", no_opts,
	    NULL, NULL, "one endpoint (id or URI extension)" },
	{ "endpoint", "update", "PATCH", V1 "/endpoints/{1}", P_EP, "EP",
	    ep_update_opts, NULL, NULL, "change an endpoint" },
	{ "endpoint", "delete", "DELETE", V1 "/endpoints/{1}", P_EP, "EP",
	    no_opts, NULL, NULL,
	    "delete: enrollment stops at once; certificates and audit stay" },
	{ "endpoint", "delegate", "PUT", V1 "/endpoints/{1}/delegation", P_EP,
	    "EP", ep_deleg_opts, NULL, NULL,
	    "set delegation: --general, or --target ORG[:DEPT] ..." },
	{ "endpoint", "audit", "GET", V1 "/endpoints/{1}/audit", P_EP, "EP",
	    audit_list_opts, audit_cols, NULL,
	    "the Enrollment Endpoint Audit view" },

	{ "account", "list", "GET", V1 "/accounts", P_NONE, NULL,
	    acct_list_opts, acct_cols, NULL, "enrollment accounts" },
	{ "account", "create", "POST", V1 "/endpoints/{ep}/accounts", P_NONE,
	    NULL, acct_create_opts, NULL, NULL,
	    "create an account; prints its challenge once" },
	{ "account", "show", "GET", V1 "/accounts/{1}", P_ID, "ID", no_opts,
	    NULL, NULL, "one account" },
	{ "account", "update", "PATCH", V1 "/accounts/{1}", P_ID, "ID",
	    acct_update_opts, NULL, NULL, "change an account" },
	{ "account", "disable", "PATCH", V1 "/accounts/{1}", P_ID, "ID",
	    no_opts, NULL, fn_disable,
	    "disable: its challenge stops working at once" },
	{ "account", "enable", "PATCH", V1 "/accounts/{1}", P_ID, "ID",
	    no_opts, NULL, fn_enable, "enable again" },
	{ "account", "challenge", "POST", V1 "/accounts/{1}/challenge", P_ID,
	    "ID", no_opts, NULL, NULL,
	    "replace the challenge (the old one stops working)" },
	{ "account", "otc", "POST", V1 "/accounts/{1}/challenges", P_ID, "ID",
	    otc_opts, NULL, NULL, "mint a one-time challenge" },
	{ "account", "otc-list", "GET", V1 "/accounts/{1}/challenges", P_ID,
	    "ID", no_opts, otc_cols, NULL, "one-time challenges (no secrets)" },

	{ "azure", "list", "GET", V1 "/azure-accounts", P_NONE, NULL,
	    no_opts, ctl_azure_cols, NULL, "Azure accounts (Intune)" },
	{ "azure", "show", "GET", V1 "/azure-accounts/{1}", P_ID, "ID",
	    no_opts, NULL, NULL, "one Azure account (never its secrets)" },
	{ "azure", "create", "POST", V1 "/azure-accounts", P_NONE, NULL,
	    ctl_azure_create_opts, NULL, ctl_fn_azure_write,
	    "create; the client secret is read from --secret-file or stdin" },
	{ "azure", "update", "PATCH", V1 "/azure-accounts/{1}", P_ID, "ID",
	    ctl_azure_create_opts, NULL, ctl_fn_azure_write,
	    "change an Azure account" },
	{ "azure", "rotate-secret", "POST", V1 "/azure-accounts/{1}/secret",
	    P_ID, "ID", ctl_azure_rotate_opts, NULL, ctl_fn_azure_write,
	    "new client secret, used at once (stdin or --secret-file)" },
	{ "azure", "test", "POST", V1 "/azure-accounts/{1}/test", P_ID, "ID",
	    no_opts, NULL, ctl_fn_azure_test,
	    "Test connection: token, discovery, token (exit 4 on failure)" },
	{ "azure", "delete", "DELETE", V1 "/azure-accounts/{1}", P_ID, "ID",
	    no_opts, NULL, NULL, "delete (refused while an endpoint uses it)" },

	{ "ca", "list", "GET", V1 "/cas", P_NONE, NULL, no_opts, ca_cols, NULL,
	    "issuing CAs (MRAO)" },

	{ "ra", "list", "GET", V1 "/ras", P_NONE, NULL, ra_list_opts, ra_cols,
	    NULL, "RA certificates (MRAO)" },
	{ "ra", "show", "GET", V1 "/ras/{1}", P_ID, "ID", no_opts, NULL, NULL,
	    "subject, issuer, serial, validity, key usage, fingerprints" },
	{ "ra", "download", "GET", V1 "/ras/{1}/download", P_ID, "ID",
	    download_opts, NULL, fn_download, "PEM, DER or PKCS#7 chain" },
	{ "ra", "create", "POST", V1 "/ras", P_NONE, NULL, ra_create_opts,
	    NULL, NULL, "a new RA certificate issued by a CA" },
	{ "ra", "stage", "POST", V1 "/ras/{1}/rollover", P_ID, "ID",
	    ra_stage_opts, NULL, NULL,
	    "rollover step 1: stage a successor (GetNextCACert serves it)" },
	{ "ra", "switch", "POST", V1 "/ras/{1}/rollover", P_ID, "ID",
	    (const struct opt[]){ OCONST("switch", "action", "switch", NULL),
	    OEND }, NULL, NULL,
	    "rollover step 2: the successor becomes active" },

	{ "cert", "list", "GET", V1 "/certificates", P_NONE, NULL,
	    cert_list_opts, cert_cols, NULL, "search issued certificates" },
	{ "cert", "show", "GET", V1 "/certificates/{1}", P_SERIAL, "SERIAL",
	    no_opts, NULL, NULL, "one certificate" },
	{ "cert", "download", "GET", V1 "/certificates/{1}/download",
	    P_SERIAL, "SERIAL", download_opts, NULL, fn_download,
	    "PEM, DER or PKCS#7 chain" },
	{ "cert", "revoke", "POST", V1 "/certificates/{1}/revoke", P_SERIAL,
	    "SERIAL", revoke_opts, NULL, NULL, "revoke with a reason" },

	{ "request", "list", "GET", V1 "/requests", P_NONE, NULL, no_opts,
	    req_cols, NULL, "requests waiting for approval" },
	{ "request", "show", "GET", V1 "/requests/{1}", P_ID, "ID", no_opts,
	    NULL, NULL, "one request" },
	{ "request", "approve", "POST", V1 "/requests/{1}/approve", P_ID,
	    "ID", no_opts, NULL, NULL, "issue the certificate" },
	{ "request", "reject", "POST", V1 "/requests/{1}/reject", P_ID, "ID",
	    reject_opts, NULL, NULL, "reject the request" },

	{ "audit", "list", "GET", V1 "/audit", P_NONE, NULL, audit_list_opts,
	    audit_cols, NULL, "the audit trail, with filters" },
	{ "audit", "export", "GET", V1 "/audit", P_NONE, NULL,
	    audit_export_opts, NULL, fn_export, "download as CSV or JSON" },
	{ "audit", "verify", "POST", V1 "/audit/verify", P_NONE, NULL,
	    no_opts, NULL, fn_verify,
	    "check the hash chain (exit 4 when broken)" },
};
const size_t ctl_ncmds = sizeof(ctl_cmds) / sizeof(ctl_cmds[0]);
