/*
 * init.c -- `scepd init`: a new data directory with a CA (generated or
 * imported), an RA certificate issued by it, the SQLite store, a default
 * Device certificate SCEP endpoint with one account, and the first
 * administrator.
 *
 * Layout of DATA_DIR (mode 0700):
 *   scepd.conf          settings (scepd.conf(5))
 *   scepd.db            the store (0600)
 *   secret.key          key of the challenge HMAC (0600): outside the db
 *   azure.key           key that seals Azure client secrets (0600, issue 5)
 *   keys/ca-N.key       CA private key (0600)
 *   keys/ra-N.key       RA private key (0600)
 *   ca.pem, ra.pem      public certificates, for operators
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "admin.h"
#include "ca_gen.h"
#include "ca_p11.h"
#include "config.h"
#include "keyops.h"
#include "log.h"
#include "scepd.h"
#include "store.h"
#include "svc.h"

static void
init_usage(FILE *f)
{
	fprintf(f,
"usage: scepd init --data-dir DIR [options]\n"
"\n"
"Create a new data directory: CA, RA certificate, store, a default Device\n"
"certificate SCEP endpoint with one account, and the first administrator.\n"
"Refuses to touch an existing non-empty directory.\n"
"\n"
"  --data-dir DIR          directory to create (required)\n"
"  --ca-subject DN         subject of a generated CA (default\n"
"                          \"/CN=scepd Demo CA/O=scepd\")\n"
"  --ca-key ALG            rsa2048 | rsa3072 | rsa4096 | ec256 | ec384\n"
"                          (default rsa2048)\n"
"  --import-ca CERT KEY    use an existing issuing CA (PEM files) instead\n"
"                          (KEY may be a pkcs11: URI, see --ca-key-uri)\n"
"  --ca-key-uri URI        the CA key is in a PKCS#11 token, e.g.\n"
"                          'pkcs11:token=scepd;object=ca': a CA certificate\n"
"                          is made for it (or give --import-ca CERT URI);\n"
"                          the key never leaves the token\n"
"  --ra-key-uri URI        the RA key too (default: a new RSA key file)\n"
"  --pin-file FILE         the token's user PIN (first line, mode 0600);\n"
"                          without it SCEPD_PKCS11_PIN at run time\n"
"  --pkcs11-module SO      PKCS#11 module (default\n"
"                          /usr/lib/softhsm/libsofthsm2.so)\n"
"  --pkcs11-path PATH      a file or directory the module reads (the key\n"
"                          processes may read only these); repeatable;\n"
"                          default for SoftHSM2: $SOFTHSM2_CONF and its\n"
"                          directories.tokendir\n"
"  --url URL               public base URL of this server (default\n"
"                          http://127.0.0.1:8080): SCEP URLs and the CRL\n"
"                          distribution point in issued certificates\n"
"  --listen ADDR:PORT      written to scepd.conf (default 127.0.0.1:8080)\n"
"  --endpoint EXT          URI extension of the default endpoint (device)\n"
"  --legacy                allow single DES and MD5 on the default endpoint\n"
"                          (old clients such as micromdm's scepclient)\n"
"  --manual-approval       default endpoint answers PENDING until approved\n"
"  --store DSN             the store: sqlite:PATH (default DIR/scepd.db)\n"
"                          or postgresql://... (a shared deployment: run\n"
"                          init once; other nodes get a copy of DIR)\n"
"  --json                  print one JSON object (scep_url, challenge,\n"
"                          ca_fingerprint_sha256, admin_token, ...)\n");
}

/* "dir/name" into out; -1 when it does not fit. */
static int
pjoin(char *out, size_t outsz, const char *dir, const char *name)
{
	int n = snprintf(out, outsz, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

static int
write_secret(const char *path, const void *buf, size_t len)
{
	int fd;
	ssize_t n;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return -1;
	n = write(fd, buf, len);
	if (close(fd) != 0 || n < 0 || (size_t)n != len)
		return -1;
	return 0;
}

static int
write_pem_cert(const char *path, X509 *x)
{
	FILE *f;
	int ok;

	if ((f = fopen(path, "wx")) == NULL)
		return -1;
	ok = PEM_write_X509(f, x);
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
read_pem_cert(const char *path, X509 **out)
{
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	*out = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return *out != NULL ? 0 : -1;
}

static int
der_of(X509 *x, uint8_t **out, size_t *len)
{
	unsigned char *der = NULL;
	int n;

	if ((n = i2d_X509(x, &der)) <= 0)
		return -1;
	*out = (uint8_t *)der;
	*len = (size_t)n;
	return 0;
}

/* A directory that does not exist or is empty. */
static int
dir_prepare(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode) || rmdir(dir) != 0) {
			fprintf(stderr, "scepd init: %s exists and is not an "
			    "empty directory; refusing to overwrite it\n", dir);
			return -1;
		}
	}
	if (mkdir(dir, 0700) != 0) {
		fprintf(stderr, "scepd init: cannot create %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
json_str(FILE *f, const char *k, const char *v, int comma)
{
	const char *p;

	fprintf(f, "  \"%s\": \"", k);
	for (p = v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*p);
		else
			fputc(*p, f);
	}
	fprintf(f, "\"%s\n", comma ? "," : "");
}

#define P11_DEFAULT_MODULE	"/usr/lib/softhsm/libsofthsm2.so"

/* Append "p" (absolute) to the comma-separated list "list". */
static int
path_add(char *list, size_t listsz, const char *p)
{
	size_t	 n = strlen(list), i, count = 0;

	if (p[0] != '/' || strchr(p, ',') != NULL)
		return -1;
	for (i = 0; i < n; i++)
		count += list[i] == ',';
	if (n > 0 && count + 1 >= CA_P11_MAX_PATHS)
		return -1;
	if (n + (n > 0) + strlen(p) >= listsz)
		return -1;
	snprintf(list + n, listsz - n, "%s%s", n > 0 ? "," : "", p);
	return 0;
}

/*
 * SoftHSM2's run-time files: its configuration ($SOFTHSM2_CONF, else
 * /etc/softhsm/softhsm2.conf) and the directories.tokendir it names.
 */
static int
softhsm_paths(char *list, size_t listsz)
{
	const char	*conf = getenv("SOFTHSM2_CONF");
	char		 line[1024], abs[PATH_MAX], *k, *v;
	FILE		*f;
	int		 r = -1;

	if (conf == NULL || *conf == '\0')
		conf = "/etc/softhsm/softhsm2.conf";
	if (realpath(conf, abs) == NULL || (f = fopen(abs, "r")) == NULL)
		return -1;
	if (path_add(list, listsz, abs) != 0)
		goto out;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		k = line + strspn(line, " \t");
		if (strncmp(k, "directories.tokendir", 20) != 0 ||
		    (v = strchr(k, '=')) == NULL)
			continue;
		v += 1 + strspn(v + 1, " \t");
		v[strcspn(v, " \t")] = '\0';
		if (realpath(v, abs) != NULL && path_add(list, listsz, abs) == 0)
			r = 0;
		break;
	}
 out:
	fclose(f);
	return r;
}

/* The module, the PIN file (made absolute) and the module's paths. */
static int
p11_setup(const char *module, const char *pin_file, char *pinabs,
    size_t pinabssz, char *paths, size_t pathssz)
{
	const char *base = strrchr(module, '/');

	pinabs[0] = '\0';
	if (pin_file != NULL) {
		if (realpath(pin_file, pinabs) == NULL ||
		    strlen(pinabs) >= pinabssz) {
			fprintf(stderr, "scepd init: cannot find --pin-file\n");
			return -1;
		}
	}
	if (paths[0] == '\0' && base != NULL &&
	    strcmp(base, "/libsofthsm2.so") == 0 &&
	    softhsm_paths(paths, pathssz) != 0) {
		fprintf(stderr, "scepd init: cannot find SoftHSM2's "
		    "configuration and token directory; give --pkcs11-path\n");
		return -1;
	}
	if (ca_p11_configure(module, pin_file != NULL ? pinabs : NULL,
	    paths) != SCEP_OK) {
		fprintf(stderr, "scepd init: cannot load the PKCS#11 module "
		    "%s\n", module);
		return -1;
	}
	return 0;
}

int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir",		required_argument, NULL, 'd' },
		{ "ca-subject",		required_argument, NULL, 's' },
		{ "ca-key",		required_argument, NULL, 'k' },
		{ "import-ca",		required_argument, NULL, 'i' },
		{ "url",		required_argument, NULL, 'u' },
		{ "listen",		required_argument, NULL, 'l' },
		{ "endpoint",		required_argument, NULL, 'e' },
		{ "legacy",		no_argument,	   NULL, 'L' },
		{ "manual-approval",	no_argument,	   NULL, 'M' },
		{ "json",		no_argument,	   NULL, 'j' },
		{ "store",		required_argument, NULL, 'S' },
		{ "ca-key-uri",		required_argument, NULL, 'C' },
		{ "ra-key-uri",		required_argument, NULL, 'R' },
		{ "pin-file",		required_argument, NULL, 'P' },
		{ "pkcs11-module",	required_argument, NULL, 'm' },
		{ "pkcs11-path",	required_argument, NULL, 'p' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *ca_uri = NULL, *ra_uri = NULL, *pin_file = NULL;
	const char *p11_module = P11_DEFAULT_MODULE;
	char p11_paths[CFG_PATH_MAX] = "", pinabs[PATH_MAX];
	const char *dir = NULL, *subject = "/CN=scepd Demo CA/O=scepd";
	const char *alg = "rsa2048", *imp_cert = NULL, *imp_key = NULL;
	const char *ext = "device", *url = NULL, *listen = NULL;
	const char *store_dsn = NULL;
	int json = 0, legacy = 0, manual = 0, c, rc = 1;
	char path[PATH_MAX], keydir[PATH_MAX], capath[PATH_MAX];
	char rapath[PATH_MAX], absdir[PATH_MAX], challenge[64];
	char token[128], password[128], fphex[65], dsn[PATH_MAX + 16];
	uint8_t key[SVC_CHALLENGE_KEY_LEN], akey[32], fp[32];
	unsigned int fplen = 0;
	struct config cfg;
	struct store *st = NULL;
	struct keyops *ko = NULL;
	struct svc *sv = NULL;
	struct svc_config scfg;
	struct store_ca sca;
	struct store_ra sra;
	struct store_endpoint ep;
	struct store_account acct;
	EVP_PKEY *cakey = NULL, *rakey = NULL;
	X509 *cacert = NULL, *racert = NULL;
	uint8_t *cader = NULL, *rader = NULL;
	size_t caderlen = 0, raderlen = 0;
	time_t now = time(NULL);
	size_t i;

	memset(&sca, 0, sizeof(sca));
	memset(&sra, 0, sizeof(sra));
	memset(&ep, 0, sizeof(ep));
	memset(&acct, 0, sizeof(acct));
	memset(&scfg, 0, sizeof(scfg));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 's': subject = optarg; break;
		case 'k': alg = optarg; break;
		case 'i':
			imp_cert = optarg;
			if (optind >= argc) {
				fprintf(stderr, "scepd init: --import-ca needs "
				    "CERT and KEY\n");
				return 2;
			}
			imp_key = argv[optind++];
			break;
		case 'u': url = optarg; break;
		case 'l': listen = optarg; break;
		case 'e': ext = optarg; break;
		case 'L': legacy = 1; break;
		case 'M': manual = 1; break;
		case 'j': json = 1; break;
		case 'S': store_dsn = optarg; break;
		case 'C': ca_uri = optarg; break;
		case 'R': ra_uri = optarg; break;
		case 'P': pin_file = optarg; break;
		case 'm': p11_module = optarg; break;
		case 'p':
			if (path_add(p11_paths, sizeof(p11_paths), optarg) !=
			    0) {
				fprintf(stderr, "scepd init: --pkcs11-path must "
				    "be absolute, at most %d\n",
				    CA_P11_MAX_PATHS);
				return 2;
			}
			break;
		case 'h': init_usage(stdout); return 0;
		default: init_usage(stderr); return 2;
		}
	}
	if (dir == NULL || optind != argc) {
		init_usage(stderr);
		return 2;
	}
	if (strlen(ext) == 0 || strlen(ext) > 64 ||
	    strspn(ext, "abcdefghijklmnopqrstuvwxyz0123456789-_.") !=
	    strlen(ext)) {
		fprintf(stderr, "scepd init: --endpoint must be 1-64 of "
		    "[a-z0-9-_.]\n");
		return 2;
	}
	if (imp_key != NULL && (ca_p11_is_uri(imp_key) || ca_uri != NULL)) {
		if (ca_uri != NULL) {
			fprintf(stderr, "scepd init: the CA key is given twice\n");
			return 2;
		}
		ca_uri = imp_key;
	}
	if ((ca_uri != NULL && ca_p11_uri_check(ca_uri) != SCEP_OK) ||
	    (ra_uri != NULL && ca_p11_uri_check(ra_uri) != SCEP_OK)) {
		fprintf(stderr, "scepd init: a key URI is pkcs11:ATTR=V;... "
		    "with token, object or id, and no PIN or module in it\n");
		return 2;
	}
	if (ca_uri != NULL || ra_uri != NULL) {
		if (p11_setup(p11_module, pin_file, pinabs, sizeof(pinabs),
		    p11_paths, sizeof(p11_paths)) != 0)
			return 1;
	} else if (pin_file != NULL) {
		fprintf(stderr, "scepd init: --pin-file without a key URI\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	if (dir_prepare(dir) != 0)
		return 1;
	if (realpath(dir, absdir) == NULL)
		return 1;
	if (pjoin(keydir, sizeof(keydir), absdir, "keys") != 0 ||
	    mkdir(keydir, 0700) != 0)
		goto fail;

	/* The CA. */
	if (ca_uri != NULL && ca_p11_key_load(ca_uri, &cakey) != SCEP_OK) {
		fprintf(stderr, "scepd init: cannot use the CA key in the "
		    "token (URI, PIN, module?)\n");
		goto fail;
	}
	if (imp_cert != NULL) {
		if (read_pem_cert(imp_cert, &cacert) != 0 ||
		    (cakey == NULL && ca_key_read(imp_key, &cakey) !=
		    SCEP_OK)) {
			fprintf(stderr, "scepd init: cannot read %s / %s (the "
			    "key file must be mode 0600)\n", imp_cert, imp_key);
			goto fail;
		}
		if (ca_import_check(cacert, cakey) != SCEP_OK) {
			fprintf(stderr, "scepd init: %s is not a CA certificate "
			    "matching %s\n", imp_cert, imp_key);
			goto fail;
		}
	} else {
		if (cakey == NULL && ca_key_generate(alg, &cakey) !=
		    SCEP_OK) {
			fprintf(stderr, "scepd init: unknown --ca-key %s\n", alg);
			goto fail;
		}
		if (ca_make_root(cakey, subject, 20 * 365, now, &cacert) !=
		    SCEP_OK) {
			fprintf(stderr, "scepd init: bad --ca-subject %s\n",
			    subject);
			goto fail;
		}
	}
	/* A key in a token is referenced by its URI; no file is written. */
	if (ca_uri != NULL)
		snprintf(capath, sizeof(capath), "%s", ca_uri);
	else if (pjoin(capath, sizeof(capath), keydir, "ca-1.key") != 0 ||
	    ca_key_write(capath, cakey) != SCEP_OK)
		goto fail;
	/* The RA: RSA whatever the CA is, because SCEP clients encrypt to it
	 * with RSA key transport (spec 6.4, 15). */
	if (ra_uri != NULL) {
		if (ca_p11_key_load(ra_uri, &rakey) != SCEP_OK ||
		    !EVP_PKEY_is_a(rakey, "RSA")) {
			fprintf(stderr, "scepd init: --ra-key-uri must name an "
			    "RSA key in the token\n");
			goto fail;
		}
	} else if (ca_key_generate("rsa2048", &rakey) != SCEP_OK)
		goto fail;
	if (ca_make_ra(cakey, cacert, rakey, "/CN=scepd SCEP RA/O=scepd",
	    CA_RA_SIGN_ENCRYPT, 2 * 365, now, &racert) != SCEP_OK)
		goto fail;
	if (ra_uri != NULL)
		snprintf(rapath, sizeof(rapath), "%s", ra_uri);
	else if (pjoin(rapath, sizeof(rapath), keydir, "ra-1.key") != 0 ||
	    ca_key_write(rapath, rakey) != SCEP_OK)
		goto fail;
	if (pjoin(path, sizeof(path), absdir, "ca.pem") != 0 ||
	    write_pem_cert(path, cacert) != 0)
		goto fail;
	if (pjoin(path, sizeof(path), absdir, "ra.pem") != 0 ||
	    write_pem_cert(path, racert) != 0)
		goto fail;

	/* The challenge key lives outside the database. */
	randombytes_buf(key, sizeof(key));
	if (pjoin(path, sizeof(path), absdir, "secret.key") != 0 ||
	    write_secret(path, key, sizeof(key)) != 0)
		goto fail;
	/* So does the key that seals Azure client secrets (issue 5). */
	randombytes_buf(akey, sizeof(akey));
	c = pjoin(path, sizeof(path), absdir, "azure.key") != 0 ||
	    write_secret(path, akey, sizeof(akey)) != 0;
	sodium_memzero(akey, sizeof(akey));
	if (c)
		goto fail;

	/* Configuration. */
	config_defaults(&cfg, absdir);
	if (url != NULL)
		(void)config_set(&cfg, "url", url);
	(void)config_set(&cfg, "listen", listen ? listen : "127.0.0.1:8080");
	if (ca_uri != NULL || ra_uri != NULL) {
		(void)config_set(&cfg, "pkcs11_module", p11_module);
		if (pin_file != NULL)
			(void)config_set(&cfg, "pkcs11_pin_file", pinabs);
		(void)config_set(&cfg, "pkcs11_paths", p11_paths);
	}
	if (store_dsn != NULL && config_set(&cfg, "store", store_dsn) != 0) {
		fprintf(stderr, "scepd init: --store is too long\n");
		goto fail;
	}
	if (pjoin(path, sizeof(path), absdir, "scepd.conf") != 0 ||
	    config_write_file(&cfg, path) != 0)
		goto fail;

	/* The store. */
	snprintf(dsn, sizeof(dsn), "%s", cfg.store);
	if (store_open(dsn, &st) != SCEP_OK) {
		/* Not the DSN itself: it may carry a password. */
		fprintf(stderr, "scepd init: cannot create or open the store "
		    "(see --store)\n");
		goto fail;
	}
	{
		/* A shared store (PostgreSQL) is initialized once; further
		 * nodes join with a copy of the data directory instead. */
		struct store_ca one;
		size_t nca = 0;

		memset(&one, 0, sizeof(one));
		if (store_ca_list(st, &one, 1, &nca) != SCEP_OK || nca != 0) {
			store_ca_clear(&one);
			fprintf(stderr, "scepd init: the store already holds a "
			    "deployment; to add a node, copy its data "
			    "directory (keys/, secret.key, azure.key, "
			    "scepd.conf) "
			    "instead\n");
			goto fail;
		}
	}
	if (der_of(cacert, &cader, &caderlen) != 0 ||
	    der_of(racert, &rader, &raderlen) != 0)
		goto fail;
	snprintf(sca.name, sizeof(sca.name), "%s", imp_cert ? "Imported CA" :
	    "scepd Demo CA");
	if (strlen(capath) >= sizeof(sca.key_path) ||
	    strlen(rapath) >= sizeof(sra.key_path))
		goto fail;
	memcpy(sca.key_path, capath, strlen(capath) + 1);
	sca.cert_der = cader;
	sca.cert_len = caderlen;
	sca.created_at = now;
	if (store_ca_insert(st, &sca) != SCEP_OK)
		goto fail;
	sra.ca_id = sca.id;
	sra.state = RA_ACTIVE;
	sra.usage = CA_RA_SIGN_ENCRYPT;
	memcpy(sra.key_path, rapath, strlen(rapath) + 1);
	sra.cert_der = rader;
	sra.cert_len = raderlen;
	sra.created_at = now;
	if (store_ra_insert(st, &sra) != SCEP_OK)
		goto fail;

	snprintf(ep.name, sizeof(ep.name), "Default device endpoint");
	snprintf(ep.uri_ext, sizeof(ep.uri_ext), "%s", ext);
	ep.type = EP_DEVICE_SCEP;
	ep.ca_id = sca.id;
	ep.ra_id = sra.id;
	ep.profile.min_rsa_bits = 2048;
	ep.profile.allow_ec = 1;
	ep.profile.term_days = 365;
	ep.profile.renewal = 1;
	ep.profile.copy_sans = 1;
	ep.getcacert_chain = 1;
	ep.getcert_chain = 1;
	ep.manual_approval = manual;
	ep.legacy = legacy;
	ep.enabled = 1;
	ep.delegation_general = 1;
	ep.created_at = now;
	if (store_endpoint_insert(st, &ep) != SCEP_OK ||
	    store_setting_set(st, "default_endpoint", ext) != SCEP_OK)
		goto fail;

	/* Services, for the account challenge and the administrator. */
	memcpy(scfg.challenge_key, key, sizeof(key));
	scfg.base_url = cfg.url;
	if (keyops_new(&ko) != SCEP_OK || svc_new(&scfg, st, ko, &sv) !=
	    SCEP_OK)
		goto fail;
	if (svc_challenge_generate(challenge, sizeof(challenge)) != SCEP_OK)
		goto fail;
	acct.endpoint_id = ep.id;
	snprintf(acct.name, sizeof(acct.name), "default");
	acct.enabled = 1;
	acct.created_at = now;
	svc_challenge_hash(&scfg, challenge, strlen(challenge),
	    acct.challenge_hash);
	if (store_account_insert(st, &acct) != SCEP_OK)
		goto fail;
	if (admin_bootstrap(sv, "admin", token, sizeof(token), password,
	    sizeof(password)) != SCEP_OK) {
		fprintf(stderr, "scepd init: cannot create the administrator\n");
		goto fail;
	}

	if (!X509_digest(cacert, EVP_sha256(), fp, &fplen))
		goto fail;
	for (i = 0; i < fplen; i++)
		snprintf(fphex + 2 * i, 3, "%02x", fp[i]);
	snprintf(path, sizeof(path), "%s/scep/%s", cfg.url, ext);
	if (json) {
		char p2[PATH_MAX + 64];

		printf("{\n");
		json_str(stdout, "data_dir", absdir, 1);
		json_str(stdout, "scep_url", path, 1);
		snprintf(p2, sizeof(p2), "%s/cgi-bin/pkiclient.exe", cfg.url);
		json_str(stdout, "default_url", p2, 1);
		json_str(stdout, "endpoint", ext, 1);
		json_str(stdout, "challenge", challenge, 1);
		json_str(stdout, "ca_fingerprint_sha256", fphex, 1);
		if (pjoin(p2, sizeof(p2), absdir, "ca.pem") != 0)
			goto fail;
		json_str(stdout, "ca_cert", p2, 1);
		if (pjoin(p2, sizeof(p2), absdir, "ra.pem") != 0)
			goto fail;
		json_str(stdout, "ra_cert", p2, 1);
		json_str(stdout, "admin_url", cfg.url, 1);
		json_str(stdout, "admin_user", "admin", 1);
		json_str(stdout, "admin_token", token, 1);
		json_str(stdout, "admin_password", password, 0);
		printf("}\n");
	} else {
		printf("Created %s\n"
		    "  SCEP URL:        %s\n"
		    "  challenge:       %s   (account \"default\"; shown once)\n"
		    "  CA SHA-256:      %s\n"
		    "  admin token:     %s   (shown once)\n"
		    "  admin password:  %s   (user \"admin\"; shown once)\n"
		    "Start it with: scepd serve --data-dir %s\n",
		    absdir, path, challenge, fphex, token, password, absdir);
	}
	rc = 0;
	goto out;
 fail:
	log_openssl(LOG_LVL_ERROR, "init failed");
	fprintf(stderr, "scepd init: failed; %s is left for inspection\n", dir);
 out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(challenge, sizeof(challenge));
	sodium_memzero(token, sizeof(token));
	sodium_memzero(password, sizeof(password));
	svc_free(sv);
	keyops_free(ko);
	store_close(st);
	OPENSSL_free(cader);
	OPENSSL_free(rader);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(rakey);
	X509_free(cacert);
	X509_free(racert);
	return rc;
}
