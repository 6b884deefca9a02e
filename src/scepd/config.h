/*
 * config.h -- scepd's settings, from (lowest to highest precedence) the
 * built-in defaults, DATA_DIR/scepd.conf, SCEPD_* environment variables
 * and command-line flags.  See scepd(8) and scepd.conf(5).
 */
#ifndef SCEPD_CONFIG_H
#define SCEPD_CONFIG_H

#include <stddef.h>

#define CFG_MAX_LISTEN	8
#define CFG_PATH_MAX	1024
#define CFG_USER_MAX	64	/* a user name, NUL included */
#define CFG_MAX_KEYPROCS 64

struct config {
	char		 data_dir[CFG_PATH_MAX];
	char		 listen[CFG_MAX_LISTEN][128];
	size_t		 nlisten;
	char		 url[CFG_PATH_MAX];	/* public base URL */
	char		 store[CFG_PATH_MAX];	/* "sqlite:PATH" ... */
	char		 tls_cert[CFG_PATH_MAX];
	char		 tls_key[CFG_PATH_MAX];
	unsigned int	 threads;
	unsigned int	 connection_limit;
	unsigned int	 timeout_sec;
	unsigned int	 workers;	/* 0: four per CPU */
	unsigned int	 queue_max;	/* 0: HTTP_QUEUE_MAX */
	unsigned int	 queue_timeout_ms;	/* 0: HTTP_QUEUE_TIMEOUT_MS */
	unsigned int	 connection_memory;	/* 0: HTTP_MEMORY_LIMIT */
	int		 log_level;
	/* Keys in a PKCS#11 token (ca_p11.h); empty: none. */
	char		 pkcs11_module[CFG_PATH_MAX];
	char		 pkcs11_pin_file[CFG_PATH_MAX];
	char		 pkcs11_paths[CFG_PATH_MAX];	/* comma-separated */
	int		 key_isolation;		/* 1 (default) or 0 */
	unsigned int	 keyprocs;		/* 0 = one per CPU; max 64 */
	char		 user[CFG_USER_MAX];	/* run as, after binding */
	int		 core_dumps;		/* 0 (default): no core file,
						 * not dumpable; 1: debugging */
};

/* Defaults for a data directory. */
void	config_defaults(struct config *, const char *data_dir);
/* Read DATA_DIR/scepd.conf when it exists (missing file: 0).  Returns 0,
 * or -1 with a message logged (unknown key, bad value). */
int	config_read_file(struct config *, const char *path);
/* Apply SCEPD_* environment variables. */
int	config_read_env(struct config *);
/* One "key = value" setting (shared by file, env and flags). */
int	config_set(struct config *, const char *key, const char *value);
/* Write a fresh scepd.conf describing cfg. */
int	config_write_file(const struct config *, const char *path);

#endif /* !SCEPD_CONFIG_H */
