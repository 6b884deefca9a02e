/*
 * standin_util.c -- helpers the Intune tests share: start and stop the
 * stand-in (standin.py), its control API, reading its call records, and
 * test material (CSRs with a challenge, a certificate).
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "standin_util.h"

char su_dir[256], su_ca[300], su_base[128], su_logpath[300];
int su_port, su_alt_port, su_proxy_port, su_dead_port;
pid_t su_pid = -1;
EVP_PKEY *su_key;


struct buf {
	char	*p;
	size_t	 len;
};

static size_t
buf_write(char *ptr, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	char *np = NULL;

	if ((np = realloc(b->p, b->len + size * n + 1)) == NULL)
		return 0;
	b->p = np;
	memcpy(b->p + b->len, ptr, size * n);
	b->len += size * n;
	b->p[b->len] = '\0';
	return size * n;
}

/* Control API call; returns the parsed answer (caller decrefs). */
json_t *
su_ctl(const char *path, const char *body)
{
	struct buf b = { NULL, 0 };
	char url[512];
	json_t *j = NULL;
	CURL *h = NULL;

	if ((h = curl_easy_init()) == NULL)
		return NULL;
	snprintf(url, sizeof(url), "%s_standin/%s", su_base, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CAINFO, su_ca);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	if (body != NULL)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(h) == CURLE_OK && b.p != NULL)
		j = json_loads(b.p, 0, NULL);
	curl_easy_cleanup(h);
	free(b.p);
	return j;
}

void
su_ctl0(const char *path, const char *body)
{
	json_decref(su_ctl(path, body));
}

void
su_reset(void)
{
	su_ctl0("reset", "{}");
}

json_t *
su_calls(void)
{
	json_t *j = su_ctl("calls", NULL), *c;

	c = json_incref(json_object_get(j, "calls"));
	json_decref(j);
	return c != NULL ? c : json_array();
}

/* Calls of a kind ("token", "discovery", "validateRequest" ...). */
/*
 * Calls of a kind, counting a resend with the same client-request-id once:
 * libcurl transparently resends an idempotent request whose keep-alive
 * connection turned out dead, and that is not a call of ours.  (For the
 * ScepActions the stand-in flags a reused client-request-id as a
 * violation, so a resend there does not go unnoticed.)
 */
size_t
su_count_kind(json_t *all, const char *kind)
{
	size_t i, j, n = 0;
	json_t *e = NULL, *f = NULL;

	json_array_foreach(all, i, e) {
		const char *k = json_string_value(json_object_get(e, "kind"));
		const char *id = su_header(e, "client-request-id");
		int dup = 0;

		if (k == NULL || strcmp(k, kind) != 0)
			continue;
		for (j = 0; id != NULL && j < i && !dup; j++) {
			const char *k2 = NULL, *id2 = NULL;

			f = json_array_get(all, j);
			k2 = json_string_value(json_object_get(f, "kind"));
			id2 = su_header(f, "client-request-id");
			dup = k2 != NULL && strcmp(k2, kind) == 0 &&
			    id2 != NULL && strcmp(id, id2) == 0;
		}
		if (!dup)
			n++;
	}
	return n;
}

json_t *
su_nth_kind(json_t *all, const char *kind, size_t nth)
{
	size_t i, n = 0;
	json_t *e = NULL;

	json_array_foreach(all, i, e) {
		const char *k = json_string_value(json_object_get(e, "kind"));

		if (k != NULL && strcmp(k, kind) == 0 && n++ == nth)
			return e;
	}
	return NULL;
}

size_t
su_count_violations(json_t *all)
{
	size_t i, n = 0;
	json_t *e = NULL;

	json_array_foreach(all, i, e) {
		json_t *v = json_object_get(e, "violations");
		size_t j;
		json_t *s = NULL;

		n += json_array_size(v);
		json_array_foreach(v, j, s)
			fprintf(stdout, "# violation: %s\n",
			    json_string_value(s));
	}
	return n;
}

const char *
su_header(json_t *call, const char *name)
{
	json_t *hs = json_object_get(call, "headers"), *h;
	size_t i;

	json_array_foreach(hs, i, h) {
		const char *k = json_string_value(json_array_get(h, 0));

		if (k != NULL && strcasecmp(k, name) == 0)
			return json_string_value(json_array_get(h, 1));
	}
	return NULL;
}

const char *
su_field(json_t *call, const char *outer, const char *name)
{
	return json_string_value(json_object_get(json_object_get(
	    json_object_get(call, "json"), outer), name));
}

int
su_start(const char *python, const char *script, const char *secret)
{
	char info[300];
	json_t *j = NULL;
	int i;

	snprintf(su_dir, sizeof(su_dir), "/tmp/test_intune.XXXXXX");
	if (mkdtemp(su_dir) == NULL)
		return -1;
	if ((su_pid = fork()) < 0)
		return -1;
	if (su_pid == 0) {
		execl(python, python, script, "--dir", su_dir,
		    "--exit-with-parent", "--client-secret", secret,
		    (char *)NULL);
		_exit(127);
	}
	snprintf(info, sizeof(info), "%s/standin.json", su_dir);
	for (i = 0; i < 300 && j == NULL; i++) {
		usleep(100 * 1000);
		if (access(info, R_OK) == 0)
			j = json_load_file(info, 0, NULL);
	}
	if (j == NULL)
		return -1;
	su_port = (int)json_integer_value(json_object_get(j, "port"));
	su_alt_port = (int)json_integer_value(json_object_get(j, "alt_port"));
	su_proxy_port = (int)json_integer_value(json_object_get(j,
	    "proxy_port"));
	su_dead_port = (int)json_integer_value(json_object_get(j, "dead_port"));
	snprintf(su_ca, sizeof(su_ca), "%s",
	    json_string_value(json_object_get(j, "ca")));
	snprintf(su_base, sizeof(su_base), "https://127.0.0.1:%d/", su_port);
	json_decref(j);
	return 0;
}

void
su_stop(void)
{
	int st;

	if (su_pid > 0) {
		kill(su_pid, SIGTERM);
		waitpid(su_pid, &st, 0);
		su_pid = -1;
	}
}

void
su_show_log_tail(void)
{
	char tail[4096];
	off_t size;
	ssize_t n;
	int fd;

	if ((fd = open(su_logpath, O_RDONLY)) < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	(void)lseek(fd, size > (off_t)sizeof(tail) ? size -
	    (off_t)sizeof(tail) : 0, SEEK_SET);
	if ((n = read(fd, tail, sizeof(tail))) > 0)
		(void)!write(STDERR_FILENO, tail, (size_t)n);
	close(fd);
}

/* The stand-in's work directory holds only plain files. */
void
su_remove_dir(void)
{
	struct dirent *de = NULL;
	char path[600];
	DIR *d = NULL;

	if ((d = opendir(su_dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", su_dir, de->d_name);
		(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(su_dir);
}

/* ---- test material ---- */

int
su_make_csr(const char *challenge, uint8_t **der, size_t *len)
{
	X509_REQ *rq = NULL;
	X509_NAME *n = NULL;
	unsigned char *p = NULL;
	int l, r = -1;

	if ((rq = X509_REQ_new()) == NULL || (n = X509_NAME_new()) == NULL)
		goto out;
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"device-1", -1, -1, 0);
	X509_REQ_set_subject_name(rq, n);
	X509_REQ_set_pubkey(rq, su_key);
	if (challenge != NULL)
		X509_REQ_add1_attr_by_NID(rq, NID_pkcs9_challengePassword,
		    MBSTRING_ASC, (const unsigned char *)challenge, -1);
	if (X509_REQ_sign(rq, su_key, EVP_sha256()) <= 0)
		goto out;
	if ((l = i2d_X509_REQ(rq, &p)) <= 0)
		goto out;
	*der = p;
	*len = (size_t)l;
	r = 0;
 out:
	X509_NAME_free(n);
	X509_REQ_free(rq);
	return r;
}

/* An issued certificate: serial 0x80 01 02 03 04 (high bit set, so its
 * DER content has a leading 00), notAfter 2030-06-11 16:11:20 UTC. */
X509 *
su_make_cert(void)
{
	X509 *x = X509_new();
	X509_NAME *iss = X509_NAME_new(), *sub = X509_NAME_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;

	BN_hex2bn(&bn, "8001020304");
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	X509_set_version(x, 2);
	X509_set_serialNumber(x, ai);
	X509_NAME_add_entry_by_txt(iss, "O", MBSTRING_ASC,
	    (const unsigned char *)"Example", -1, -1, 0);
	X509_NAME_add_entry_by_txt(iss, "CN", MBSTRING_ASC,
	    (const unsigned char *)"Example Issuing CA", -1, -1, 0);
	X509_NAME_add_entry_by_txt(sub, "CN", MBSTRING_ASC,
	    (const unsigned char *)"device-1", -1, -1, 0);
	X509_set_issuer_name(x, iss);
	X509_set_subject_name(x, sub);
	ASN1_TIME_set_string(X509_getm_notBefore(x), "20260101000000Z");
	ASN1_TIME_set_string(X509_getm_notAfter(x), "20300611161120Z");
	X509_set_pubkey(x, su_key);
	X509_sign(x, su_key, EVP_sha256());
	BN_free(bn);
	ASN1_INTEGER_free(ai);
	X509_NAME_free(iss);
	X509_NAME_free(sub);
	return x;
}

