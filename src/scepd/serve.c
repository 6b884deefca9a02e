/*
 * serve.c -- `scepd serve`: read the configuration, open the store, load
 * nothing secret until an endpoint needs it, mount the routes and serve
 * until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sodium.h>

#include "api.h"
#include "ca_p11.h"
#include "config.h"
#include "http.h"
#include "keyops.h"
#include "log.h"
#include "metrics.h"
#include "scep_http.h"
#include "scep_limits.h"
#include "scepd.h"
#include "store.h"
#include "svc.h"
#include "svc_intune.h"
#include "web.h"

/* PEM files for TLS are small; refuse anything absurd. */
#define SERVE_MAX_PEM	(256 * 1024)

static void
serve_usage(FILE *f)
{
	fprintf(f,
"usage: scepd serve --data-dir DIR [options]\n"
"\n"
"Settings come from DIR/scepd.conf, then SCEPD_* environment variables,\n"
"then these flags (each flag overrides the same setting before it):\n"
"  --data-dir DIR        data directory made by `scepd init` (required;\n"
"                        or SCEPD_DATA_DIR)\n"
"  --listen ADDR:PORT    listen address, repeatable (listen =; SCEPD_LISTEN)\n"
"                        default 127.0.0.1:8080; [::1]:8080 for IPv6\n"
"  --url URL             public base URL (url =; SCEPD_URL)\n"
"  --store DSN           sqlite:PATH (store =; SCEPD_STORE)\n"
"  --tls-cert FILE       serve HTTPS with this PEM certificate chain\n"
"  --tls-key FILE        ... and this PEM key (tls_cert/tls_key =;\n"
"                        SCEPD_TLS_CERT/SCEPD_TLS_KEY)\n"
"  --threads N           event-loop threads, 0 = one per CPU (threads =)\n"
"  --workers N           PKIOperation workers, 0 = four per CPU (workers =)\n"
"  --queue N             PKIOperations waiting at most; beyond, 503 with\n"
"                        Retry-After (queue =; default 1024)\n"
"  --queue-timeout MS    a request waiting longer gets 503 (queue_timeout =;\n"
"                        default 10000)\n"
"  --connection-limit N  open connections at most (connection_limit =;\n"
"                        default 10000)\n"
"  --connection-memory B per-connection buffer: request line and headers\n"
"                        (connection_memory =; default 8192)\n"
"  --log-level LEVEL     error|warn|info|debug (log_level =)\n"
"  --key-isolation on|off  CA and RA keys only in sandboxed key processes\n"
"                        (default on; key_isolation =; SCEPD_KEY_ISOLATION;\n"
"                        SECURITY.md)\n"
"  --keyprocs N          key processes 0..64, 0 = one per CPU (keyprocs =;\n"
"                        SCEPD_KEYPROCS)\n"
"  --user USER           when started as root: run as USER once the ports\n"
"                        are bound (user =; SCEPD_USER); the key processes keep\n"
"                        root's uid without any capability\n"
"  --core-dumps on|off   allow core dumps and ptrace by scepd's own user, for\n"
"                        debugging only: a dump holds challenges, passwords\n"
"                        and tokens (default off; core_dumps =;\n"
"                        SCEPD_CORE_DUMPS; SECURITY.md)\n");
}

/* The uid and primary gid of "name", looked up before any thread runs. */
static int
user_lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		log_error("msg=\"no such user\" user=\"%s\"", name);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/*
 * Become uid/gid for good (issue 8: scepd drops root after binding its
 * ports).  Supplementary groups go first, then the gid, then the uid;
 * then prove that root cannot be regained.  glibc applies setuid() to
 * every thread of the process.  The key processes, forked earlier, keep
 * their own credentials (minus every capability, kp_sandbox.c).
 */
static int
drop_privileges(uid_t uid, gid_t gid)
{
	if (geteuid() != 0)
		return getuid() == uid ? 0 : -1;
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
		return -1;
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid)
		return -1;
	if (uid != 0 && setuid(0) == 0)
		return -1;
	return 0;
}

/*
 * No core file of this process, and no ptrace or /proc/PID/mem by its
 * own user (issue 8, SECURITY.md): it holds challenges in flight, admin
 * passwords during a login, the decrypted Azure secrets and tokens, the
 * challenge key.  Called at start and again after drop_privileges(),
 * because a change of uid sets the dumpable flag to fs.suid_dumpable.
 * "allow" (core_dumps = on, for debugging) makes the process dumpable
 * and leaves RLIMIT_CORE as inherited.
 */
static int
core_protect(int allow)
{
	struct rlimit rl;

	if (allow)
		return prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0 ? 0 : -1;
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -1;
	return 0;
}

static int
read_file(const char *path, char **out, size_t max)
{
	FILE *f;
	char *buf;
	size_t n;

	*out = NULL;
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if ((buf = malloc(max + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	return (int)n;
}

/*
 * A store DSN for the log: a password in it (postgresql://user:PW@host or
 * password=PW) is replaced by "***".  Secrets never reach the log.
 */
static void
dsn_redact(const char *dsn, char *out, size_t outsz)
{
	size_t n = strlen(dsn), i, o = 0, at, colon, end;
	const char *sch;

	out[0] = '\0';
	if (outsz < 4)
		return;
	/* scheme://user:PASSWORD@host...: the userinfo ends at the first
	 * '@' before any '/' of the path. */
	at = colon = n;
	if ((sch = strstr(dsn, "://")) != NULL) {
		size_t start = (size_t)(sch - dsn) + 3;

		for (i = start; i < n && dsn[i] != '/'; i++)
			if (dsn[i] == '@')
				at = i;
		for (i = start; i < at && i < n; i++)
			if (dsn[i] == ':') {
				colon = i;
				break;
			}
	}
	for (i = 0; i < n && o + 13 < outsz; ) {
		if (i == colon + 1 && at < n) {
			memcpy(out + o, "***", 3);
			o += 3;
			i = at;
			continue;
		}
		if (n - i >= 9 && memcmp(dsn + i, "password=", 9) == 0) {
			memcpy(out + o, "password=***", 12);
			o += 12;
			for (end = i + 9; end < n && dsn[end] != ' ' &&
			    dsn[end] != '&'; end++)
				;
			i = end;
			continue;
		}
		out[o++] = dsn[i++];
	}
	out[o] = '\0';
}

static int
read_secret(const char *dir, uint8_t *key, size_t len)
{
	char path[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/secret.key", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
		log_error("msg=\"secret.key must be mode 0600\" path=\"%s\"",
		    path);
		close(fd);
		return -1;
	}
	n = read(fd, key, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* Overwrite and remove an environment variable holding a secret. */
static void
scrub_env(const char *name)
{
	char	*v = getenv(name);

	if (v != NULL)
		OPENSSL_cleanse(v, strlen(v));
	(void)unsetenv(name);
}

/* A positive count from the environment variable "name" (at most max),
 * or 0 (the default) when unset; -1 when malformed. */
static long
env_count(const char *name, long max)
{
	const char *v = getenv(name);
	char *end = NULL;
	long n;

	if (v == NULL || *v == '\0')
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 1 || n > max) {
		log_error("msg=\"bad value\" variable=%s max=%ld", name, max);
		return -1;
	}
	return n;
}

/*
 * Intune endpoints (issue 5): the key that seals Azure client secrets
 * (DATA_DIR/azure.key, made when missing), the Azure accounts and the
 * endpoints' Intune settings from the store, and the revocation poller.
 */
static int
intune_start(const char *dir, struct store *st, struct svc *sv,
    struct svc_intune **out)
{
	uint8_t key[SVC_INTUNE_KEY_LEN];
	char path[PATH_MAX];
	long workers, queue, poll;
	int r;

	*out = NULL;
	/* The pool that waits on Microsoft: SCEPD_INTUNE_WORKERS (32) and
	 * SCEPD_INTUNE_QUEUE (1024, beyond it HTTP 503); the revocation
	 * poll interval (spec 9: 900 s), SCEPD_INTUNE_POLL_INTERVAL. */
	if ((workers = env_count("SCEPD_INTUNE_WORKERS", 1024)) < 0 ||
	    (queue = env_count("SCEPD_INTUNE_QUEUE", 1000000)) < 0 ||
	    (poll = env_count("SCEPD_INTUNE_POLL_INTERVAL", 86400)) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/azure.key", dir);
	if ((r = svc_intune_key_load(path, 1, key)) != SCEP_OK) {
		log_error("msg=\"cannot load azure.key (32 bytes, mode 0600)\" "
		    "path=\"%s\" err=\"%s\"", path, scep_strerror(r));
		return -1;
	}
	r = svc_intune_new(&(struct svc_intune_config){
	    .caller_info = "scepd/" SCEPD_VERSION, .workers = (size_t)workers,
	    .queue_max = (size_t)queue }, st, out);
	if (r == SCEP_OK) {
		svc_intune_set_key(*out, key);
		/* An account that cannot be loaded is logged and its
		 * endpoints fail closed; scepd still serves the rest. */
		if ((r = svc_intune_sync(*out, NULL, 1)) != SCEP_OK)
			log_warn("msg=\"cannot load the Azure accounts\" "
			    "err=\"%s\"", scep_strerror(r));
		r = svc_intune_poller_start(*out, sv, (int)poll);
	}
	sodium_memzero(key, sizeof(key));
	if (r != SCEP_OK) {
		log_error("msg=\"cannot start Intune support\" err=\"%s\"",
		    scep_strerror(r));
		svc_intune_free(*out);
		*out = NULL;
		return -1;
	}
	svc_set_intune(sv, *out);
	return 0;
}

/* The orderly stop of "no stalls": no new requests, every request that
 * waits for Microsoft answered, then the daemon can stop. */
static void
intune_stop(struct http_server *hs, struct svc *sv, struct svc_intune *si)
{
	if (si != NULL)
		svc_intune_poller_stop(si);
	http_quiesce(hs);
	svc_intune_free(si);	/* runs the queued jobs: all resumed */
	if (sv != NULL)
		svc_set_intune(sv, NULL);
}

int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir",	required_argument, NULL, 'd' },
		{ "listen",	required_argument, NULL, 'l' },
		{ "url",	required_argument, NULL, 'u' },
		{ "store",	required_argument, NULL, 's' },
		{ "tls-cert",	required_argument, NULL, 'c' },
		{ "tls-key",	required_argument, NULL, 'k' },
		{ "threads",	required_argument, NULL, 't' },
		{ "workers",	required_argument, NULL, 'W' },
		{ "queue",	required_argument, NULL, 'Q' },
		{ "queue-timeout", required_argument, NULL, 'T' },
		{ "connection-limit", required_argument, NULL, 'C' },
		{ "connection-memory", required_argument, NULL, 'M' },
		{ "log-level",	required_argument, NULL, 'v' },
		{ "key-isolation", required_argument, NULL, 'I' },
		{ "keyprocs",	required_argument, NULL, 'K' },
		{ "user",	required_argument, NULL, 'U' },
		{ "core-dumps",	required_argument, NULL, 'D' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct {
		const char	*key;
		const char	*val;
	} flags[32];
	size_t nflags = 0, i, nflag_listen = 0;
	const char *dir = getenv("SCEPD_DATA_DIR");
	char path[PATH_MAX], *tls_cert = NULL, *tls_key = NULL;
	char dsn_shown[CFG_PATH_MAX], keys_dir[PATH_MAX];
	struct config cfg;
	struct svc_config scfg;
	struct store *st = NULL;
	struct keyops *ko = NULL;
	struct svc *sv = NULL;
	struct svc_intune *si = NULL;
	struct api *api = NULL;
	struct web *web = NULL;
	struct http_server *hs = NULL;
	struct http_config hc;
	sigset_t set;
	const char *run_user;
	uid_t uid = 0;
	gid_t gid = 0;
	unsigned int keyprocs;
	int c, sig, rc = 1, isolate;

	memset(&scfg, 0, sizeof(scfg));
	memset(&hc, 0, sizeof(hc));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const char *key = NULL;

		switch (c) {
		case 'd': dir = optarg; continue;
		case 'l': key = "listen"; nflag_listen++; break;
		case 'u': key = "url"; break;
		case 's': key = "store"; break;
		case 'c': key = "tls_cert"; break;
		case 'k': key = "tls_key"; break;
		case 't': key = "threads"; break;
		case 'W': key = "workers"; break;
		case 'Q': key = "queue"; break;
		case 'T': key = "queue_timeout"; break;
		case 'C': key = "connection_limit"; break;
		case 'M': key = "connection_memory"; break;
		case 'v': key = "log_level"; break;
		case 'I': key = "key_isolation"; break;
		case 'K': key = "keyprocs"; break;
		case 'U': key = "user"; break;
		case 'D': key = "core_dumps"; break;
		case 'h': serve_usage(stdout); return 0;
		default: serve_usage(stderr); return 2;
		}
		if (nflags == sizeof(flags) / sizeof(flags[0]))
			return 2;
		flags[nflags].key = key;
		flags[nflags++].val = optarg;
	}
	if (dir == NULL || optind != argc) {
		serve_usage(stderr);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	config_defaults(&cfg, dir);
	snprintf(path, sizeof(path), "%s/scepd.conf", dir);
	if (config_read_file(&cfg, path) != 0 || config_read_env(&cfg) != 0)
		return 2;
	if (nflag_listen > 0)
		cfg.nlisten = 0;	/* flags replace, not add */
	for (i = 0; i < nflags; i++)
		if (config_set(&cfg, flags[i].key, flags[i].val) != 0) {
			fprintf(stderr, "scepd serve: bad value for %s\n",
			    flags[i].key);
			return 2;
		}
	if (cfg.nlisten == 0)
		(void)config_set(&cfg, "listen", "127.0.0.1:8080");
	log_set_level(cfg.log_level);
	isolate = cfg.key_isolation;
	keyprocs = cfg.keyprocs;
	run_user = cfg.user;
	if (run_user != NULL && *run_user != '\0' &&
	    user_lookup(run_user, &uid, &gid) != 0)
		return 2;
	/* Before any secret is read (and inherited by the key processes,
	 * which also protect themselves). */
	if (core_protect(cfg.core_dumps) != 0) {
		log_error("msg=\"cannot disable core dumps\" errno=%d", errno);
		return 1;
	}
	if (cfg.core_dumps)
		log_warn("msg=\"core dumps are allowed (core_dumps = on): a "
		    "dump of this process holds secrets; for debugging only\"");

	/*
	 * The key processes first (issue 8): they are forks of this process,
	 * so start them while it is single-threaded and before it reads any
	 * secret (secret.key, the TLS key) or opens the store -- a fork
	 * inherits memory and descriptors.
	 */
	/* A PKCS#11 module is mapped before the fork (the sandboxed key
	 * processes may not map code) but initialised only after it. */
	if (cfg.pkcs11_module[0] != '\0' && ca_p11_configure(cfg.pkcs11_module,
	    cfg.pkcs11_pin_file[0] != '\0' ? cfg.pkcs11_pin_file : NULL,
	    cfg.pkcs11_paths) != SCEP_OK) {
		log_error("msg=\"cannot load the PKCS#11 module\"");
		goto out;
	}
	if (isolate)
		c = keyops_new_isolated(dir, keyprocs, &ko);
	else
		c = keyops_new(&ko);
	/* With isolation the key master read the PIN; this process never
	 * needs it, so it does not keep it in its environment either. */
	if (isolate && c == SCEP_OK)
		scrub_env(CA_P11_PIN_ENV);
	if (c != SCEP_OK) {
		log_error("msg=\"cannot start the key processes\" err=\"%s\" "
		    "hint=\"SCEPD_KEY_ISOLATION=off runs without isolation\"",
		    scep_strerror(c));
		goto out;
	}
	if (!isolate)
		log_warn("msg=\"key isolation is off: CA and RA keys are "
		    "loaded into this process\"");

	if (read_secret(dir, scfg.challenge_key,
	    sizeof(scfg.challenge_key)) != 0) {
		log_error("msg=\"cannot read secret.key\" data_dir=\"%s\"", dir);
		goto out;
	}
	if ((cfg.tls_cert[0] != '\0') != (cfg.tls_key[0] != '\0')) {
		log_error("msg=\"tls_cert and tls_key go together\"");
		goto out;
	}
	if (cfg.tls_cert[0] != '\0' &&
	    (read_file(cfg.tls_cert, &tls_cert, SERVE_MAX_PEM) < 0 ||
	    read_file(cfg.tls_key, &tls_key, SERVE_MAX_PEM) < 0)) {
		log_error("msg=\"cannot read TLS certificate or key\"");
		goto out;
	}
	dsn_redact(cfg.store, dsn_shown, sizeof(dsn_shown));
	if (store_open(cfg.store, &st) != SCEP_OK) {
		log_error("msg=\"cannot open the store\" store=\"%s\"",
		    dsn_shown);
		goto out;
	}
	scfg.base_url = cfg.url;
	snprintf(keys_dir, sizeof(keys_dir), "%s/keys", dir);
	scfg.keys_dir = keys_dir;
	if (svc_new(&scfg, st, ko, &sv) !=
	    SCEP_OK || intune_start(dir, st, sv, &si) != 0 ||
	    api_new(sv, &api) != SCEP_OK || web_new(&web) != SCEP_OK)
		goto out;

	{
		/* The route table (STYLE H9): first match wins. */
		const struct http_route routes[] = {
			{ NULL, SCEP_HTTP_PREFIX, R_PREFIX | R_BODY,
			    SCEP_MAX_POST_BODY, scep_http_handle, sv,
			    METRIC_R_SCEP },
			{ NULL, SCEP_HTTP_DEFAULT, R_BODY,
			    SCEP_MAX_POST_BODY, scep_http_handle, sv,
			    METRIC_R_SCEP },
			{ NULL, "/cgi-bin/pkiclient.exe/", R_PREFIX | R_BODY,
			    SCEP_MAX_POST_BODY, scep_http_handle, sv,
			    METRIC_R_SCEP },
			{ "GET", SCEP_HTTP_CRL_PREFIX, R_PREFIX, 0,
			    scep_http_crl, sv, METRIC_R_SCEP },
			{ "GET", "/healthz", 0, 0, scep_http_health, sv,
			    METRIC_R_HEALTH },
			{ "GET", "/readyz", 0, 0, scep_http_health, sv,
			    METRIC_R_HEALTH },
			{ "GET", "/metrics", 0, 0, scep_http_metrics, NULL,
			    METRIC_R_METRICS },
			{ NULL, "/api/", R_PREFIX | R_BODY, API_MAX_BODY,
			    api_handle, api, METRIC_R_API },
			{ "GET", "/", R_PREFIX, 0, web_handle, web,
			    METRIC_R_CONSOLE },
		};

		for (i = 0; i < cfg.nlisten && i < 7; i++)
			hc.listen[i] = cfg.listen[i];
		hc.tls_cert_pem = tls_cert;
		hc.tls_key_pem = tls_key;
		/*
		 * Event-loop threads (0: one per CPU) never wait for a key
		 * process or the store: PKIOperations run on the workers of
		 * the bounded work queue (0: four per CPU, so that the CPUs
		 * stay busy while some wait for a key process or a commit).
		 */
		hc.threads = cfg.threads;
		hc.workers = cfg.workers;
		hc.queue_max = cfg.queue_max;
		hc.queue_timeout_ms = cfg.queue_timeout_ms;
		hc.conn_memory = cfg.connection_memory;
		hc.connection_limit = cfg.connection_limit;
		hc.timeout_sec = cfg.timeout_sec;

		/* Signals are taken synchronously by this thread only: block
		 * them before the worker threads start. */
		signal(SIGPIPE, SIG_IGN);
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		if (http_start(&hc, routes, sizeof(routes) / sizeof(routes[0]),
		    &hs) != 0)
			goto out;
		/* The ports are bound: root is no longer needed. */
		if (run_user != NULL && *run_user != '\0') {
			if (drop_privileges(uid, gid) != 0) {
				log_error("msg=\"cannot drop privileges\" "
				    "user=\"%s\" errno=%d", run_user, errno);
				goto out;
			}
			log_info("msg=\"running as\" user=\"%s\" uid=%ld",
			    run_user, (long)uid);
		}
		/* setuid() set the dumpable flag to fs.suid_dumpable:
		 * settle it for good. */
		if (core_protect(cfg.core_dumps) != 0) {
			log_error("msg=\"cannot disable core dumps\" "
			    "errno=%d", errno);
			goto out;
		}
		/* scepd never executes anything: nothing it runs may gain
		 * privileges either (setuid binaries, file capabilities). */
		(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		log_info("msg=\"scepd ready\" url=\"%s\" store=\"%s\"", cfg.url,
		    dsn_shown);
		if (sigwait(&set, &sig) == 0)
			log_info("msg=\"stopping\" signal=%d", sig);
		intune_stop(hs, sv, si);
		si = NULL;
		http_stop(hs);
		hs = NULL;
	}
	rc = 0;
 out:
	intune_stop(hs, sv, si);
	http_stop(hs);
	web_free(web);
	api_free(api);
	svc_free(sv);
	keyops_free(ko);
	store_close(st);
	if (tls_key != NULL) {
		OPENSSL_cleanse(tls_key, strlen(tls_key));
		free(tls_key);
	}
	free(tls_cert);
	return rc;
}
