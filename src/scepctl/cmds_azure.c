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
	size_t len;

	if (strcmp(path, "-") != 0 && (f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "scepctl: cannot read %s from %s\n", what,
		    path);
		return EX_USAGE;
	}
	if (fgets(buf, (int)bufsz, f) == NULL)
		buf[0] = '\0';
	if (f != stdin)
		fclose(f);
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
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
 * --proxy-password-file by the secrets they name, then the request.
 * "need": 1 = the client secret is required (standard input when no
 * file is named).
 */
static int
with_secrets(struct ctx *c, const struct cmd *cmd, int argc, char **argv,
    int need)
{
	struct cmd real = *cmd;
	char *nargv[CTL_MAX_ARGS + 6];
	char secret[SECRET_MAX], pp[SECRET_MAX];
	char fs[] = "--client-secret", fp[] = "--proxy-password";
	const char *sfile = NULL, *pfile = NULL, *v;
	int i, n = 0, ex = EX_OK;

	if (argc > CTL_MAX_ARGS)
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
			nargv[n++] = argv[i];
	}
	if (sfile == NULL && need)
		sfile = "-";
	if (sfile != NULL && pfile != NULL && strcmp(sfile, "-") == 0 &&
	    strcmp(pfile, "-") == 0) {
		fprintf(stderr, "scepctl: only one secret can come from "
		    "standard input\n");
		return EX_USAGE;
	}
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
		nargv[n++] = fs;
		nargv[n++] = secret;
	}
	if (pfile != NULL) {
		if ((ex = read_secret(pfile, "the proxy password", pp,
		    sizeof(pp))) != EX_OK)
			goto out;
		nargv[n++] = fp;
		nargv[n++] = pp;
	}
	nargv[n] = NULL;
	real.opts = real_opts;
	ex = ctl_generic(c, &real, n, nargv);
	if (ex == EX_OK && strcmp(cmd->verb, "rotate-secret") == 0 &&
	    !c->json)
		printf("client secret replaced; cached tokens dropped\n");
 out:
	memset(secret, 0, sizeof(secret));
	memset(pp, 0, sizeof(pp));
	return ex;
}

int
ctl_fn_azure_create(struct ctx *c, const struct cmd *cmd, int argc,
    char **argv)
{
	return with_secrets(c, cmd, argc, argv, 1);
}

int
ctl_fn_azure_update(struct ctx *c, const struct cmd *cmd, int argc,
    char **argv)
{
	return with_secrets(c, cmd, argc, argv, 0);
}

int
ctl_fn_azure_rotate(struct ctx *c, const struct cmd *cmd, int argc,
    char **argv)
{
	return with_secrets(c, cmd, argc, argv, 1);
}

/* Test connection: each step on a line; exit 4 when a step failed. */
int
ctl_fn_azure_test(struct ctx *c, const struct cmd *cmd, int argc,
    char **argv)
{
	json_t *local = json_object(), *j = NULL, *st;
	struct resp r;
	size_t i;
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
	else {
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
		printf("%s\n", json_string_value(json_object_get(j,
		    "summary")));
	}
	if (!json_is_true(json_object_get(j, "ok")))
		ex = EX_INVALID;
 out:
	json_decref(j);
	resp_clear(&r);
	json_decref(local);
	return ex;
}
