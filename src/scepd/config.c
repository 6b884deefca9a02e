/*
 * config.c -- one table of settings, read from a file, the environment
 * and flags alike.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

static int
set_str(char *dst, size_t dstsz, const char *v)
{
	if (strlen(v) >= dstsz)
		return -1;
	snprintf(dst, dstsz, "%s", v);
	return 0;
}

static int
set_uint(unsigned int *dst, const char *v, unsigned long max)
{
	char *end = NULL;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n > max)
		return -1;
	*dst = (unsigned int)n;
	return 0;
}

/* on/off and their usual spellings; -1 for anything else. */
static int
config_onoff(const char *v)
{
	if (strcmp(v, "on") == 0 || strcmp(v, "1") == 0 ||
	    strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
		return 1;
	if (strcmp(v, "off") == 0 || strcmp(v, "0") == 0 ||
	    strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
		return 0;
	return -1;
}

/* A user name (letters, digits, '_', '-', '.', a final '$'), looked up
 * with getpwnam at start; never a path or an option. */
static int
set_user(char *dst, size_t dstsz, const char *v)
{
	size_t i, n = strlen(v);

	if (n == 0 || n >= dstsz || v[0] == '-')
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (!(isalnum(ch) || ch == '_' || ch == '-' || ch == '.' ||
		    (ch == '$' && i == n - 1)))
			return -1;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

void
config_defaults(struct config *c, const char *data_dir)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->data_dir, sizeof(c->data_dir), "%s", data_dir);
	snprintf(c->url, sizeof(c->url), "http://127.0.0.1:8080");
	snprintf(c->store, sizeof(c->store), "sqlite:%s/scepd.db", data_dir);
	c->log_level = LOG_LVL_INFO;
	c->key_isolation = 1;
}

int
config_set(struct config *c, const char *key, const char *v)
{
	unsigned int lvl;

	if (strcmp(key, "listen") == 0) {
		if (c->nlisten == CFG_MAX_LISTEN)
			return -1;
		return set_str(c->listen[c->nlisten++], sizeof(c->listen[0]), v);
	}
	if (strcmp(key, "url") == 0) {
		size_t n;

		if (set_str(c->url, sizeof(c->url), v) != 0)
			return -1;
		n = strlen(c->url);
		while (n > 0 && c->url[n - 1] == '/')
			c->url[--n] = '\0';
		return 0;
	}
	if (strcmp(key, "store") == 0)
		return set_str(c->store, sizeof(c->store), v);
	if (strcmp(key, "tls_cert") == 0)
		return set_str(c->tls_cert, sizeof(c->tls_cert), v);
	if (strcmp(key, "tls_key") == 0)
		return set_str(c->tls_key, sizeof(c->tls_key), v);
	if (strcmp(key, "pkcs11_module") == 0)
		return set_str(c->pkcs11_module, sizeof(c->pkcs11_module), v);
	if (strcmp(key, "pkcs11_pin_file") == 0)
		return set_str(c->pkcs11_pin_file, sizeof(c->pkcs11_pin_file),
		    v);
	if (strcmp(key, "pkcs11_paths") == 0)
		return set_str(c->pkcs11_paths, sizeof(c->pkcs11_paths), v);
	if (strcmp(key, "threads") == 0)
		return set_uint(&c->threads, v, 256);
	if (strcmp(key, "connection_limit") == 0)
		return set_uint(&c->connection_limit, v, 1000000);
	if (strcmp(key, "timeout") == 0)
		return set_uint(&c->timeout_sec, v, 3600);
	if (strcmp(key, "key_isolation") == 0) {
		int on = config_onoff(v);

		if (on < 0)
			return -1;
		c->key_isolation = on;
		return 0;
	}
	if (strcmp(key, "core_dumps") == 0) {
		int on = config_onoff(v);

		if (on < 0)
			return -1;
		c->core_dumps = on;
		return 0;
	}
	if (strcmp(key, "keyprocs") == 0)
		return set_uint(&c->keyprocs, v, CFG_MAX_KEYPROCS);
	if (strcmp(key, "user") == 0)
		return set_user(c->user, sizeof(c->user), v);
	if (strcmp(key, "workers") == 0)
		return set_uint(&c->workers, v, 1024);
	if (strcmp(key, "queue") == 0)
		return set_uint(&c->queue_max, v, 1000000);
	if (strcmp(key, "queue_timeout") == 0)
		return set_uint(&c->queue_timeout_ms, v, 3600000);
	if (strcmp(key, "connection_memory") == 0) {
		/* 0 (the default), or 4 KiB .. 1 MiB */
		if (set_uint(&c->connection_memory, v, 1024 * 1024) != 0 ||
		    (c->connection_memory != 0 &&
		    c->connection_memory < 4096))
			return -1;
		return 0;
	}
	if (strcmp(key, "log_level") == 0) {
		if (strcmp(v, "error") == 0)
			c->log_level = LOG_LVL_ERROR;
		else if (strcmp(v, "warn") == 0)
			c->log_level = LOG_LVL_WARN;
		else if (strcmp(v, "info") == 0)
			c->log_level = LOG_LVL_INFO;
		else if (strcmp(v, "debug") == 0)
			c->log_level = LOG_LVL_DEBUG;
		else if (set_uint(&lvl, v, 3) == 0)
			c->log_level = (int)lvl;
		else
			return -1;
		return 0;
	}
	return -2;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
config_read_file(struct config *c, const char *path)
{
	char line[2048], *k, *v, *eq;
	FILE *f;
	int lineno = 0, r;
	int listen_from_file = 0;

	if ((f = fopen(path, "r")) == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			log_error("msg=\"line too long\" file=\"%s\" line=%d",
			    path, lineno);
			fclose(f);
			return -1;
		}
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			log_error("msg=\"expected key = value\" file=\"%s\" "
			    "line=%d", path, lineno);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		/* A file's listen lines replace the defaults, not add. */
		if (strcmp(k, "listen") == 0 && !listen_from_file) {
			c->nlisten = 0;
			listen_from_file = 1;
		}
		if ((r = config_set(c, k, v)) != 0) {
			log_error("msg=\"%s\" file=\"%s\" line=%d key=\"%s\"",
			    r == -2 ? "unknown setting" : "bad value", path,
			    lineno, k);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

int
config_read_env(struct config *c)
{
	static const struct {
		const char	*env;
		const char	*key;
	} map[] = {
		{ "SCEPD_LISTEN",		"listen" },
		{ "SCEPD_URL",			"url" },
		{ "SCEPD_STORE",		"store" },
		{ "SCEPD_TLS_CERT",		"tls_cert" },
		{ "SCEPD_TLS_KEY",		"tls_key" },
		{ "SCEPD_THREADS",		"threads" },
		{ "SCEPD_CONNECTION_LIMIT",	"connection_limit" },
		{ "SCEPD_TIMEOUT",		"timeout" },
		{ "SCEPD_WORKERS",		"workers" },
		{ "SCEPD_QUEUE",		"queue" },
		{ "SCEPD_QUEUE_TIMEOUT",	"queue_timeout" },
		{ "SCEPD_CONNECTION_MEMORY",	"connection_memory" },
		{ "SCEPD_LOG_LEVEL",		"log_level" },
		{ "SCEPD_PKCS11_MODULE",	"pkcs11_module" },
		{ "SCEPD_PKCS11_PIN_FILE",	"pkcs11_pin_file" },
		{ "SCEPD_PKCS11_PATHS",		"pkcs11_paths" },
		{ "SCEPD_KEY_ISOLATION",	"key_isolation" },
		{ "SCEPD_KEYPROCS",		"keyprocs" },
		{ "SCEPD_USER",			"user" },
		{ "SCEPD_CORE_DUMPS",		"core_dumps" },
	};
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if ((v = getenv(map[i].env)) == NULL || *v == '\0')
			continue;
		if (strcmp(map[i].key, "listen") == 0)
			c->nlisten = 0;
		if (config_set(c, map[i].key, v) != 0) {
			log_error("msg=\"bad value\" env=%s", map[i].env);
			return -1;
		}
	}
	return 0;
}

int
config_write_file(const struct config *c, const char *path)
{
	FILE *f;
	size_t i;

	if ((f = fopen(path, "wx")) == NULL)
		return -1;
	fprintf(f, "# scepd.conf -- see scepd.conf(5).  Environment variables "
	    "SCEPD_<KEY>\n# and command-line flags override these.\n");
	for (i = 0; i < c->nlisten; i++)
		fprintf(f, "listen = %s\n", c->listen[i]);
	fprintf(f, "url = %s\n", c->url);
	fprintf(f, "store = %s\n", c->store);
	fprintf(f, "# tls_cert = /path/cert.pem\n# tls_key = /path/key.pem\n");
	fprintf(f, "# threads = 0\n# log_level = info\n");
	if (c->pkcs11_module[0] != '\0') {
		fprintf(f, "# CA/RA keys in a PKCS#11 token (scepd.conf(5)); "
		    "the PIN is in the\n# pin file or SCEPD_PKCS11_PIN, "
		    "never here.\n");
		fprintf(f, "pkcs11_module = %s\n", c->pkcs11_module);
		if (c->pkcs11_pin_file[0] != '\0')
			fprintf(f, "pkcs11_pin_file = %s\n",
			    c->pkcs11_pin_file);
		if (c->pkcs11_paths[0] != '\0')
			fprintf(f, "pkcs11_paths = %s\n", c->pkcs11_paths);
	}
	fprintf(f, "# key_isolation = on\n# keyprocs = 0\n# user = scepd\n");
	fprintf(f, "# core_dumps = off\n");
	return fclose(f) == 0 ? 0 : -1;
}
