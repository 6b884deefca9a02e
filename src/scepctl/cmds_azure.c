/*
 * cmds_azure.c -- scepctl azure ...: Azure accounts for Intune SCEP
 * endpoints (issue 5).  The client secret and the proxy password never
 * come from the command line (where ps(1) and shell history would show
 * them): --secret-file FILE or standard input, --proxy-password-file
 * FILE; the first line of the file is the secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "scepctl.h"

#define SECRET_MAX	1024

const struct col ctl_azure_cols[] = {
	{ "ID", "id", C_INT }, { "NAME", "name", C_STR },
	{ "ENVIRONMENT", "environment", C_STR },
	{ "TENANT", "tenant_id", C_STR }, { "CLIENT ID", "client_id", C_STR },
	{ "DELEGATION", "delegation", C_STR },
	{ "TARGETS", "targets", C_REFS }, { NULL, NULL, 0 }
};

#define AZURE_OPTS \
	OPT("name", O_STR, "name", TO_BODY, "NAME", "display name"), \
	OPT("environment", O_STR, "environment", TO_BODY, "ENV", \
	    "global, usgov, usgov-dod, china or custom"), \
	OPT("tenant", O_STR, "tenant_id", TO_BODY, "TENANT", \
	    "directory (tenant) ID or domain"), \
	OPT("client-id", O_STR, "client_id", TO_BODY, "ID", \
	    "application (client) ID"), \
	OPT("authority-url", O_STR, "authority_url", TO_BODY, "URL", \
	    "Entra ID authority (custom environment)"), \
	OPT("graph-url", O_STR, "graph_url", TO_BODY, "URL", \
	    "Microsoft Graph (custom environment)"), \
	OPT("intune-url", O_STR, "intune_resource_url", TO_BODY, "URL", \
	    "Intune resource URL (china, custom)"), \
	OPT("intune-app-id", O_STR, "intune_app_id", TO_BODY, "ID", \
	    "Intune's application ID (default: Microsoft's)"), \
	OPT("graph-scope", O_STR, "graph_scope", TO_BODY, "SCOPE", \
	    "OAuth scope for Graph (default: graph URL + .default)"), \
	OPT("intune-scope", O_STR, "intune_scope", TO_BODY, "SCOPE", \
	    "OAuth scope for Intune"), \
	OPT("proxy", O_STR, "proxy", TO_BODY, "URL", \
	    "HTTP proxy http://host:port (\"\": none)"), \
	OPT("proxy-user", O_STR, "proxy_user", TO_BODY, "USER", \
	    "user name for the proxy"), \
	OPT("ca-bundle", O_STR, "ca_bundle_path", TO_BODY, "FILE", \
	    "PEM CAs trusted for TLS to Microsoft (\"\": the system's)"), \
	OPT("revocation-poll", O_TRUE, "revocation_poll", TO_BODY, NULL, \
	    "poll Intune's revocation requests"), \
	OPT("no-revocation-poll", O_FALSE, "revocation_poll", TO_BODY, NULL, \
	    "do not poll revocation requests"), \
	OCONST("general", "delegation", "general", \
	    "General: every organization and department"), \
	OPT("target", O_REFS, "targets", TO_BODY, "ORG[:DEPT]", \
	    "Customized: an organization or department (repeat)")

#define SECRET_OPTS \
	OPT("secret-file", O_LOCAL, "secret-file", TO_BODY, "FILE", \
	    "client secret: first line of FILE (\"-\": standard input)"), \
	OPT("proxy-password-file", O_LOCAL, "proxy-password-file", TO_BODY, \
	    "FILE", "proxy password: first line of FILE (empty: none)")

const struct opt ctl_azure_create_opts[] = {
	AZURE_OPTS, SECRET_OPTS, OEND
};
const struct opt ctl_azure_rotate_opts[] = {
	OPT("secret-file", O_LOCAL, "secret-file", TO_BODY, "FILE",
	    "first line of FILE (default and \"-\": standard input)"),
	OEND
};
/* What the request is built with: the secrets as body members. */
static const struct opt real_opts[] = {
	AZURE_OPTS,
	OPT("client-secret", O_STR, "client_secret", TO_BODY, "S", ""),
	OPT("proxy-password", O_STR, "proxy_password", TO_BODY, "S", ""),
	OEND
};

/* First line of "path" ("-": standard input) into buf.  EX_USAGE if it
 * cannot be read. */
static int
read_secret(const char *path, const char *what, char *buf, size_t bufsz)
{
	FILE *f = stdin;

	if (strcmp(path, "-") != 0 && (f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "scepctl: cannot read %s from %s\n", what,
		    path);
		return EX_USAGE;
	}
	(void)ctl_read_line(f, buf, bufsz);
	if (f != stdin)
		fclose(f);
	return EX_OK;
}

/* The value of --NAME=V or --NAME V at argv[*i]; NULL if not that. */
static const char *
opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
		return NULL;
	if (a[2 + n] == '=')
		return a + 3 + n;
	if (a[2 + n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/*
 * create / update / rotate-secret: replace --secret-file and
 * --proxy-password-file by the secrets they name, then the request.  The
 * client secret is required (standard input when no file is named) except
 * for update.
 */
int
ctl_fn_azure_write(struct ctx *c, const struct cmd *cmd, int argc,
    char **argv)
{
	struct cmd real = *cmd;
	struct ctl_args args;
	char secret[SECRET_MAX], pp[SECRET_MAX];
	char fs[] = "--client-secret", fp[] = "--proxy-password";
	const char *sfile = NULL, *pfile = NULL, *v;
	int i, ex = EX_OK, need = strcmp(cmd->verb, "update") != 0;

	if (ctl_args_init(&args, argc) != EX_OK)
		return EX_USAGE;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			ctl_usage_cmd(cmd);
			return EX_OK;
		}
		/* The secrets' own options exist only inside (real_opts). */
		if (opt_value(argc, argv, &i, "client-secret") != NULL ||
		    opt_value(argc, argv, &i, "proxy-password") != NULL) {
			fprintf(stderr, "scepctl: unknown option %.*s: "
			    "secrets are read from --secret-file or standard "
			    "input, never from the command line\n",
			    (int)strcspn(a, "="), a);
			return EX_USAGE;
		}
		if ((v = opt_value(argc, argv, &i, "secret-file")) != NULL)
			sfile = v;
		else if ((v = opt_value(argc, argv, &i,
		    "proxy-password-file")) != NULL)
			pfile = v;
		else
			ctl_args_add(&args, argv[i]);
	}
	if (sfile == NULL && need)
		sfile = "-";
	if (sfile != NULL && pfile != NULL && strcmp(sfile, "-") == 0 &&
	    strcmp(pfile, "-") == 0) {
		fprintf(stderr, "scepctl: only one secret can come from "
		    "standard input\n");
		return EX_USAGE;
	}
	secret[0] = pp[0] = '\0';
	if (sfile != NULL) {
		if ((ex = read_secret(sfile, "the client secret", secret,
		    sizeof(secret))) != EX_OK)
			goto out;
		if (secret[0] == '\0') {
			fprintf(stderr, "scepctl: no client secret in %s\n",
			    strcmp(sfile, "-") == 0 ? "standard input" :
			    sfile);
			ex = EX_USAGE;
			goto out;
		}
		ctl_args_add(&args, fs);
		ctl_args_add(&args, secret);
	}
	if (pfile != NULL) {
		if ((ex = read_secret(pfile, "the proxy password", pp,
		    sizeof(pp))) != EX_OK)
			goto out;
		ctl_args_add(&args, fp);
		ctl_args_add(&args, pp);
	}
	real.opts = real_opts;
	ex = ctl_generic(c, &real, args.n, args.v);
	if (ex == EX_OK && strcmp(cmd->verb, "rotate-secret") == 0 &&
	    !c->json)
		printf("client secret replaced; cached tokens dropped\n");
 out:
	memset(secret, 0, sizeof(secret));
	memset(pp, 0, sizeof(pp));
	return ex;
}

static void
show_test(const json_t *j)
{
	const json_t *st;
	size_t i;

	json_array_foreach(json_object_get(j, "steps"), i, st) {
		const char *aad = json_string_value(
		    json_object_get(st, "aadsts"));

		printf("%-13s %-4s %s%s%s\n", json_string_value(
		    json_object_get(st, "step")),
		    json_is_true(json_object_get(st, "ok")) ? "ok" :
		    "FAIL", json_string_value(json_object_get(st,
		    "message")), aad != NULL && aad[0] ? " " : "",
		    aad != NULL ? aad : "");
	}
	printf("%s\n", json_string_value(json_object_get(j, "summary")));
}

/* Test connection: each step on a line; exit 4 when a step failed. */
int
ctl_fn_azure_test(struct ctx *c, const struct cmd *cmd, int argc,
    char **argv)
{
	return ctl_run_verdict(c, cmd, argc, argv, show_test);
}
