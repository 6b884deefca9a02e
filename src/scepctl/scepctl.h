/*
 * scepctl.h -- the command-line client of scepd's REST admin API.
 *
 * scepctl talks only to /api/v1 (libcurl + jansson).  Commands are rows of
 * one table (cmds.c): a noun, a verb, an HTTP method and path, the options
 * that become the JSON body or the query string, and the columns of the
 * human table.  The few commands that do more (downloads, exports, the
 * audit check) have a function of their own.
 */
#ifndef SCEPCTL_H
#define SCEPCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Exit codes (doc/scepctl.1, EXIT STATUS). */
#define EX_OK		0
#define EX_USAGE	1
#define EX_NOTFOUND	2
#define EX_AUTH		3
#define EX_INVALID	4
#define EX_SERVER	5

/* Largest answer we read (an audit export of API_EXPORT_MAX rows). */
#define CTL_MAX_RESPONSE	(64 * 1024 * 1024)
#define CTL_MAX_ARGS		64
#define CTL_DEFAULT_URL		"http://127.0.0.1:8080"

/* Where an option goes. */
enum opt_kind {
	O_TRUE,		/* flag: body key = true */
	O_FALSE,	/* flag: body key = false */
	O_STR,		/* string */
	O_INT,		/* integer */
	O_TIME,		/* time: seconds, YYYY-MM-DD[THH:MM:SSZ], +N[smhd] */
	O_REFS,		/* ORG[:DEPT], repeatable: array of {org_id, dept_id} */
	O_DEPTS,	/* DEPT, repeatable: array of {dept_id} */
	O_ORGS,		/* ORG, repeatable: array of {org_id} */
	O_LIST,		/* a,b,c: array of strings */
	O_EP,		/* endpoint id or URI extension: its id */
	O_CONST,	/* flag: body key = the constant "cval" */
	O_LOCAL,	/* consumed by the command function */
	O_LOCALFLAG,	/* a flag consumed by the command function */
};

#define TO_BODY		0
#define TO_QUERY	1
#define TO_PATH		2	/* fills "{opt}" in the path */

struct opt {
	const char	*name;		/* long option, without "--" */
	int		 kind;		/* enum opt_kind */
	const char	*key;		/* JSON member, query key, path slot */
	int		 to;		/* TO_* */
	const char	*arg;		/* value name for --help, NULL = flag */
	const char	*help;
	const char	*cval;		/* O_CONST */
};

/* Table rows (designated, so unused members are zero). */
#define OPT(n, k, ky, t, a, h)	{ .name = (n), .kind = (k), .key = (ky), \
				  .to = (t), .arg = (a), .help = (h) }
#define OCONST(n, ky, v, h)	{ .name = (n), .kind = O_CONST, .key = (ky), \
				  .to = TO_BODY, .help = (h), .cval = (v) }
#define OEND			{ .name = NULL }

/* A column of a human table. */
enum col_fmt { C_STR, C_INT, C_BOOL, C_TIME, C_JSON, C_REFS };
struct col {
	const char	*head;
	const char	*key;
	int		 fmt;		/* enum col_fmt */
};

struct ctx;
struct cmd;
typedef int	(*cmd_fn)(struct ctx *, const struct cmd *, int argc,
		    char **argv);

/* Positional argument kinds. */
enum pos_kind { P_NONE, P_ID, P_EP, P_SERIAL, P_ADMIN };

struct cmd {
	const char		*noun;
	const char		*verb;
	const char		*method;
	const char		*path;	/* "{1}": the positional,
					 * "{x}": a TO_PATH option */
	int			 pos;	/* enum pos_kind of the positional */
	const char		*posname;
	const struct opt	*opts;
	const struct col	*cols;	/* table of "items"; NULL: key: value */
	cmd_fn			 fn;	/* NULL: the generic request */
	const char		*help;
};

/* One answer from the server. */
struct resp {
	long		 status;	/* HTTP status, 0 when no answer */
	char		*body;		/* NUL-terminated, owned */
	size_t		 len;
	char		 ctype[128];
	char		 error[256];	/* transport error (curl) */
};

struct ctx {
	const char	*url;		/* base URL, no trailing slash */
	const char	*token;
	const char	*cacert;
	int		 insecure;
	int		 json;		/* --json */
	int		 verbose;
	void		*curl;		/* CURL * */
};

/* scepctl.c */
/* Run a command and hand back the answer (instead of printing it). */
int	ctl_run_keep(struct ctx *, const struct cmd *, int argc, char **argv,
	    json_t *local, struct resp *out);
int	ctl_request(struct ctx *, const char *method, const char *path,
	    json_t *body, struct resp *);
void	resp_clear(struct resp *);
/* Exit status for an HTTP answer; prints the error unless 2xx. */
int	ctl_status(struct ctx *, const struct resp *);
/* Print a JSON answer: --json verbatim (pretty), else table/fields. */
int	ctl_print(struct ctx *, const struct cmd *, const struct resp *);
void	ctl_usage_cmd(const struct cmd *);
int	ctl_parse_time(const char *, int64_t *);
/* "id or uri_ext" to an endpoint id (as a decimal string into buf). */
int	ctl_resolve_ep(struct ctx *, const char *, char *buf, size_t bufsz);
/* URL-escape s into buf. */
int	ctl_escape(struct ctx *, const char *s, char *buf, size_t bufsz);
int	ctl_generic(struct ctx *, const struct cmd *, int argc, char **argv);
/* Write an answer's body to a file ("-" = stdout). */
int	ctl_write_out(const struct resp *, const char *path);

/* cmds_azure.c */
extern const struct col	ctl_azure_cols[];
extern const struct opt	ctl_azure_create_opts[];
extern const struct opt	ctl_azure_rotate_opts[];
/* create, update, rotate-secret: the secrets read from files or stdin. */
int	ctl_fn_azure_write(struct ctx *, const struct cmd *, int, char **);
int	ctl_fn_azure_test(struct ctx *, const struct cmd *, int, char **);

/* cmds.c */
extern const struct cmd	ctl_cmds[];
extern const size_t	ctl_ncmds;

/*
 * The argument vector a command function hands on to ctl_generic: its own
 * argv (at most CTL_MAX_ARGS) plus up to CTL_EXTRA_ARGS arguments it adds;
 * v stays NULL-terminated.
 */
#define CTL_EXTRA_ARGS		8
struct ctl_args {
	char	*v[CTL_MAX_ARGS + CTL_EXTRA_ARGS + 1];
	int	 n;
};
/* Empty; EX_USAGE ("too many arguments") when argc is more than we take. */
int	ctl_args_init(struct ctl_args *, int argc);
void	ctl_args_add(struct ctl_args *, char *);
/* One line of f into buf without its line end; -1 (buf "") at EOF. */
int	ctl_read_line(FILE *f, char *buf, size_t bufsz);
/*
 * Run a command whose answer is a JSON object with "ok": --json prints it,
 * else show() prints it for people; EX_INVALID (exit 4) unless "ok" is
 * true.
 */
int	ctl_run_verdict(struct ctx *, const struct cmd *, int argc,
	    char **argv, void (*show)(const json_t *));

#endif /* !SCEPCTL_H */
