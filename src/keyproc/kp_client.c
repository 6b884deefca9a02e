/*
 * kp_client.c -- keyops.h implemented by forwarding every operation to a
 * pool of isolated key workers (keyproc.h, keyproc.c).
 *
 * The pool.  One worker per CPU, one request in flight per worker: a
 * calling thread takes a free worker (waiting on a condition variable
 * when all are busy), sends its request, reads the reply and gives the
 * worker back.  Private-key operations are most of an enrollment's CPU,
 * so the pool, not one key process, is what lets scepd use every core
 * (STYLE H8).
 *
 * Identities.  keyops_load_ca/_ra() are sent to one worker, which opens
 * the file and checks key and certificate; on success the load is
 * recorded here with a sequence number, together with the decoded
 * certificate (keyops_ca_cert() hands out borrowed pointers to it, valid
 * until keyops_free(), as in-process).  Every worker remembers the
 * highest sequence number it has applied and catches up before its next
 * request: CAs first, because an RA is checked against its CA.  A worker
 * started to replace a dead one catches up from zero.  So a worker never
 * needs the key material from scepd -- only a file name below keys/.
 *
 * Failures.  A worker that closes, times out, or sends a reply whose
 * header lies is dropped (its socket closed, which ends it) and a fresh
 * one is asked from the master; the request is sent once more on the
 * fresh worker, except after a timeout (a slow request is not doubled).
 * A master that is gone means no new workers: the error is logged and
 * the operation fails with SCEP_E_INTERNAL.
 */
#include <dirent.h>
#include <errno.h>
#include "ca_p11.h"
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "keyops.h"
#include "keyops_impl.h"
#include "keyproc.h"
#include "log.h"
#include "scep_err.h"

/* How long the master may take to fork a worker. */
#define KP_SPAWN_TIMEOUT_MS	10000
/* Loaded identities (CAs and RAs together; keyops.c allows 1024 each). */
#define KP_MAX_IDENTS		2048

/* One recorded load. */
struct kp_ident {
	int		 ra;		/* 0: CA, 1: RA */
	int64_t		 id;
	int64_t		 ca_id;		/* RA: its CA */
	char		 name[KP_MAX_NAME + 1];	/* file below keys/ */
	uint8_t		*der;		/* owned: the certificate */
	size_t		 der_len;
	X509		*cert;		/* owned; handed out borrowed */
	uint64_t	 seq;
	struct kp_ident	*next;		/* retired list */
};

struct kp_worker {
	int		 fd;		/* -1: none yet or dead */
	int		 busy;		/* taken by a thread */
	long		 pid;		/* for log lines only */
	uint64_t	 synced;	/* loads applied up to this seq */
};

struct kp_pool {
	pthread_mutex_t	 lock;		/* busy flags, next */
	pthread_cond_t	 cond;
	struct kp_worker w[KP_MAX_WORKERS];
	size_t		 nw;

	pthread_mutex_t	 ctl_lock;	/* one spawn at a time */
	int		 ctl;		/* control socket to the master */
	pid_t		 master;

	char		 keysdir[PATH_MAX];	/* canonical DATA_DIR/keys */
	char		 keysabs[PATH_MAX];	/* absolute, as configured */

	pthread_rwlock_t id_lock;
	struct kp_ident	**ids;		/* owned, sorted by seq */
	size_t		 nids;
	size_t		 capids;
	uint64_t	 seq;		/* highest seq handed out */
	struct kp_ident	*retired;	/* replaced: freed at the end */
	int		 locks;		/* which locks exist (cleanup) */
};

static void
ident_free(struct kp_ident *k)
{
	if (k == NULL)
		return;
	X509_free(k->cert);
	free(k->der);
	free(k);
}

/* ---- workers -------------------------------------------------------- */

/*
 * Take a free worker; waits while all are busy.  The lowest-numbered free
 * one, not round robin: under light load the same worker keeps serving,
 * with its key material and OpenSSL's caches warm in a CPU's cache.
 */
static struct kp_worker *
acquire(struct kp_pool *p)
{
	struct kp_worker	*w = NULL;
	size_t			 i;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		for (i = 0; i < p->nw; i++) {
			if (!p->w[i].busy) {
				w = &p->w[i];
				w->busy = 1;
				pthread_mutex_unlock(&p->lock);
				return w;
			}
		}
		pthread_cond_wait(&p->cond, &p->lock);
	}
}

static void
release(struct kp_pool *p, struct kp_worker *w)
{
	pthread_mutex_lock(&p->lock);
	w->busy = 0;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* Drop a worker: closing our end makes it exit; the master reaps it. */
static void
worker_drop(struct kp_worker *w, const char *why)
{
	if (w->fd < 0)
		return;
	log_error("msg=\"key worker dropped\" pid=%ld reason=\"%s\"", w->pid,
	    why);
	close(w->fd);
	w->fd = -1;
	w->synced = 0;
}

/*
 * Ask the master for a worker (ctl_lock held by the caller).  The reply
 * is exactly {KP_CTL_SPAWN, 4, pid} with one descriptor when pid > 0.
 */
static int
spawn_locked(struct kp_pool *p, int *fd, long *pid)
{
	uint8_t		 m[KP_HDR_LEN + 4];
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c = NULL;
	struct pollfd	 pfd;
	ssize_t		 n;
	uint32_t	 u;
	int		 got = -1, one, i, cnt;

	*fd = -1;
	*pid = -1;
	if (p->ctl < 0)
		return SCEP_E_INTERNAL;
	if (kp_msg_write(p->ctl, KP_CTL_SPAWN, NULL, 0) != SCEP_OK)
		goto dead;
	pfd.fd = p->ctl;
	pfd.events = POLLIN;
	pfd.revents = 0;
	while ((i = poll(&pfd, 1, KP_SPAWN_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	if (i <= 0)
		goto dead;
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = m;
	iov.iov_len = sizeof(m);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	while ((n = recvmsg(p->ctl, &msg, MSG_CMSG_CLOEXEC)) < 0 &&
	    errno == EINTR)
		;
	/* Collect every descriptor that came, keep at most one. */
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (i = 0; i < cnt; i++) {
			memcpy(&one, CMSG_DATA(c) + i * sizeof(int),
			    sizeof(int));
			if (got < 0)
				got = one;
			else
				close(one);
		}
	}
	if (n != (ssize_t)sizeof(m) || (msg.msg_flags & (MSG_TRUNC |
	    MSG_CTRUNC)) != 0)
		goto dead;
	if (memcmp(m, "\x53\x50\x4e\x57\x00\x00\x00\x04", KP_HDR_LEN) != 0)
		goto dead;
	u = (uint32_t)m[8] << 24 | (uint32_t)m[9] << 16 |
	    (uint32_t)m[10] << 8 | (uint32_t)m[11];
	if (u == 0 || u > INT32_MAX) {
		/* The master refused (-errno): it is alive, we are not. */
		if (got >= 0)
			close(got);
		log_error("msg=\"key master could not start a worker\" "
		    "errno=%ld", u > INT32_MAX ? -(long)(int32_t)u : 0L);
		return SCEP_E_INTERNAL;
	}
	if (got < 0)
		goto dead;
	*fd = got;
	*pid = (long)u;
	return SCEP_OK;
 dead:
	if (got >= 0)
		close(got);
	log_error("msg=\"key master is gone: no new key workers\"");
	close(p->ctl);
	p->ctl = -1;
	return SCEP_E_INTERNAL;
}

static int
spawn(struct kp_pool *p, struct kp_worker *w)
{
	int	 r;

	pthread_mutex_lock(&p->ctl_lock);
	r = spawn_locked(p, &w->fd, &w->pid);
	pthread_mutex_unlock(&p->ctl_lock);
	w->synced = 0;
	if (r == SCEP_OK)
		log_debug("msg=\"key worker started\" pid=%ld", w->pid);
	return r;
}

/*
 * One request and its reply on worker "w".  SCEP_OK with *rep (take) the
 * reply body; or a transport failure: KP_IO_TIMEOUT, KP_IO_LIE, KP_IO_EOF
 * or SCEP_E_IO (the caller drops the worker).
 */
static int
roundtrip(struct kp_worker *w, uint32_t op, const struct kp_buf *req,
    int timeout_ms, uint8_t **rep, size_t *rep_len)
{
	uint32_t	 rop = 0;
	int		 r;

	*rep = NULL;
	*rep_len = 0;
	if ((r = kp_msg_write(w->fd, op, req->p, req->len)) != SCEP_OK)
		return SCEP_E_IO;
	if ((r = kp_msg_read(w->fd, kp_rep_max, timeout_ms, &rop, rep,
	    rep_len)) != SCEP_OK)
		return r == KP_IO_EOF ? SCEP_E_IO : r;
	if (rop != op) {		/* an answer to another question */
		free(*rep);
		*rep = NULL;
		*rep_len = 0;
		return KP_IO_LIE;
	}
	return SCEP_OK;
}

static const char *
io_why(int r)
{
	switch (r) {
	case KP_IO_TIMEOUT:
		return "no reply in time";
	case KP_IO_LIE:
		return "reply header with a bad op or length";
	default:
		return "connection lost";
	}
}

/* Bring worker "w" up to date with the recorded loads (caller holds w).
 * Transport failures are returned; a load the worker refuses is logged
 * (its key file may have gone) and skipped. */
static int
sync_worker(struct kp_pool *p, struct kp_worker *w)
{
	struct kp_buf	 req;
	struct kp_ident	*k = NULL;
	uint8_t		*rep = NULL;
	size_t		 rep_len = 0, i;
	uint64_t	 upto;
	int		 pass, r = SCEP_OK, st;

	pthread_rwlock_rdlock(&p->id_lock);
	upto = p->seq;
	for (pass = 0; pass < 2 && w->synced < upto; pass++) {
		for (i = 0; i < p->nids; i++) {
			k = p->ids[i];
			if (k->seq <= w->synced || k->ra != pass)
				continue;
			kp_buf_init(&req, kp_req_max(KP_LOAD_CA));
			(void)kp_enc_load(&req, k->ra ? KP_LOAD_RA : KP_LOAD_CA,
			    k->id, k->ca_id, k->name, k->der, k->der_len);
			if ((r = req.err) == SCEP_OK)
				r = roundtrip(w, k->ra ? KP_LOAD_RA :
				    KP_LOAD_CA, &req, KP_TIMEOUT_SEC * 1000,
				    &rep, &rep_len);
			kp_buf_clear(&req);
			if (r != SCEP_OK) {
				free(rep);
				goto out;
			}
			if ((st = kp_rep_status(rep, rep_len)) != SCEP_OK)
				log_warn("msg=\"key worker could not load a "
				    "key\" kind=%s id=%lld err=\"%s\"",
				    k->ra ? "ra" : "ca", (long long)k->id,
				    scep_strerror(st));
			free(rep);
			rep = NULL;
		}
	}
	w->synced = upto;
 out:
	pthread_rwlock_unlock(&p->id_lock);
	return r;
}

/*
 * Run one operation: take a worker, start or sync it as needed, ask, and
 * return the reply body (take).  Transport failures drop the worker and
 * the request is tried once more on a fresh one (not after a timeout).
 */
static int
call(struct kp_pool *p, uint32_t op, const struct kp_buf *req,
    uint8_t **rep, size_t *rep_len)
{
	struct kp_worker	*w = NULL;
	int			 attempt, r = SCEP_E_INTERNAL;
	int			 timeout = (op == KP_SIGN_CRL ?
				    KP_TIMEOUT_CRL_SEC : KP_TIMEOUT_SEC) * 1000;

	*rep = NULL;
	*rep_len = 0;
	if (req->err != SCEP_OK)
		return req->err;
	w = acquire(p);
	for (attempt = 0; attempt < 2; attempt++) {
		if (w->fd < 0 && spawn(p, w) != SCEP_OK)
			break;
		if ((r = sync_worker(p, w)) == SCEP_OK)
			r = roundtrip(w, op, req, timeout, rep, rep_len);
		if (r == SCEP_OK) {
			release(p, w);
			return SCEP_OK;
		}
		/* Same slot, fresh worker: a dead one is found on use. */
		worker_drop(w, io_why(r));
		if (r == KP_IO_TIMEOUT)
			break;
	}
	release(p, w);
	return SCEP_E_INTERNAL;
}

/* ---- identities ----------------------------------------------------- */

static struct kp_ident *
ident_find(struct kp_pool *p, int ra, int64_t id)
{
	size_t	 i;

	for (i = 0; i < p->nids; i++)
		if (p->ids[i]->ra == ra && p->ids[i]->id == id)
			return p->ids[i];
	return NULL;
}

/*
 * The file name of "key_path" below keys/: the directory part must be
 * DATA_DIR/keys itself, the name a plain one; SCEP_E_CONFIG otherwise.
 * The directory is compared canonically when we can still resolve it,
 * else (after scepd dropped its privileges, keys/ may be closed to it) as
 * text against the two spellings recorded at start.  This check is for a
 * clear error only: a worker receives just the file name and opens it
 * relative to its keys/ descriptor, so it cannot be sent anywhere else.
 */
static int
key_name(struct kp_pool *p, const char *key_path, char *name, size_t namesz)
{
	char		 dir[PATH_MAX], canon[PATH_MAX];
	const char	*slash = NULL, *base = NULL;
	size_t		 dlen;

	if (ca_p11_is_uri(key_path)) {
		/* A token object: the worker loads it through the module. */
		if (ca_p11_uri_check(key_path) != SCEP_OK ||
		    strlen(key_path) >= namesz)
			return SCEP_E_CONFIG;
		snprintf(name, namesz, "%s", key_path);
		return SCEP_OK;
	}
	if (key_path == NULL || (slash = strrchr(key_path, '/')) == NULL)
		return SCEP_E_CONFIG;
	base = slash + 1;
	dlen = (size_t)(slash - key_path);
	if (dlen == 0 || dlen >= sizeof(dir) || strlen(base) == 0 ||
	    strlen(base) >= namesz || strlen(base) > KP_MAX_NAME ||
	    base[0] == '.')
		return SCEP_E_CONFIG;
	memcpy(dir, key_path, dlen);
	dir[dlen] = '\0';
	if (realpath(dir, canon) == NULL)
		snprintf(canon, sizeof(canon), "%s", dir);
	if (strcmp(canon, p->keysdir) != 0 && strcmp(canon, p->keysabs) != 0) {
		log_error("msg=\"key file outside the keys directory: the "
		    "key processes cannot read it\" path=\"%s\" keys=\"%s\"",
		    key_path, p->keysdir);
		return SCEP_E_CONFIG;
	}
	snprintf(name, namesz, "%s", base);
	return SCEP_OK;
}

static int
pool_load(struct kp_pool *p, int ra, int64_t id, int64_t ca_id,
    const char *key_path, const uint8_t *cert_der, size_t cert_len)
{
	struct kp_ident		*k = NULL, *old = NULL, **nv = NULL;
	const unsigned char	*q = NULL;
	struct kp_buf		 req;
	uint8_t			*rep = NULL;
	size_t			 rep_len = 0, i, ncap;
	int			 r;

	kp_buf_init(&req, kp_req_max(KP_LOAD_CA));
	if (id <= 0)
		return SCEP_E_CONFIG;
	if (cert_der == NULL || cert_len == 0)
		return SCEP_E_MALFORMED;
	if (cert_len > KP_MAX_CERT_DER)
		return SCEP_E_TOOBIG;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return SCEP_E_NOMEM;
	k->ra = ra;
	k->id = id;
	k->ca_id = ra ? ca_id : 0;
	if ((r = key_name(p, key_path, k->name, sizeof(k->name))) != SCEP_OK)
		goto out;
	r = SCEP_E_NOMEM;
	if ((k->der = malloc(cert_len)) == NULL)
		goto out;
	memcpy(k->der, cert_der, cert_len);
	k->der_len = cert_len;
	q = k->der;
	r = SCEP_E_MALFORMED;
	if ((k->cert = d2i_X509(NULL, &q, (long)cert_len)) == NULL)
		goto out;
	r = SCEP_E_TRAILING;
	if (q != k->der + cert_len)
		goto out;
	(void)X509_get_extension_flags(k->cert);	/* fill the cache */

	/* One worker checks the files and the pair; the rest follow. */
	if ((r = kp_enc_load(&req, ra ? KP_LOAD_RA : KP_LOAD_CA, id,
	    k->ca_id, k->name, k->der, k->der_len)) != SCEP_OK)
		goto out;
	if ((r = call(p, ra ? KP_LOAD_RA : KP_LOAD_CA, &req, &rep,
	    &rep_len)) != SCEP_OK)
		goto out;
	if ((r = kp_rep_status(rep, rep_len)) != SCEP_OK)
		goto out;

	pthread_rwlock_wrlock(&p->id_lock);
	if ((old = ident_find(p, ra, id)) != NULL) {
		for (i = 0; i < p->nids && p->ids[i] != old; i++)
			;
		memmove(&p->ids[i], &p->ids[i + 1], (p->nids - i - 1) *
		    sizeof(p->ids[0]));
		p->nids--;
		old->next = p->retired;		/* borrowed pointers live on */
		p->retired = old;
	}
	if (p->nids == KP_MAX_IDENTS) {
		r = SCEP_E_TOOBIG;
	} else if (p->nids == p->capids) {
		ncap = p->capids == 0 ? 16 : p->capids * 2;
		if ((nv = realloc(p->ids, ncap * sizeof(*nv))) == NULL)
			r = SCEP_E_NOMEM;
		else {
			p->ids = nv;
			p->capids = ncap;
		}
	}
	if (r == SCEP_OK) {
		k->seq = ++p->seq;
		p->ids[p->nids++] = k;
		k = NULL;
	}
	pthread_rwlock_unlock(&p->id_lock);
 out:
	kp_buf_clear(&req);
	free(rep);
	ident_free(k);
	return r;
}

/* ---- the keyops_vt functions ---------------------------------------- */

static int
vt_load_ca(void *impl, int64_t ca_id, const char *key_path,
    const uint8_t *cert_der, size_t cert_len)
{
	return pool_load(impl, 0, ca_id, 0, key_path, cert_der, cert_len);
}

static int
vt_load_ra(void *impl, int64_t ra_id, int64_t ca_id, const char *key_path,
    const uint8_t *cert_der, size_t cert_len)
{
	return pool_load(impl, 1, ra_id, ca_id, key_path, cert_der,
	    cert_len);
}

static X509 *
cert_of(struct kp_pool *p, int ra, int64_t id)
{
	struct kp_ident	*k = NULL;
	X509		*x = NULL;

	pthread_rwlock_rdlock(&p->id_lock);
	if ((k = ident_find(p, ra, id)) != NULL)
		x = k->cert;
	pthread_rwlock_unlock(&p->id_lock);
	return x;
}

static X509 *
vt_ca_cert(void *impl, int64_t ca_id)
{
	return cert_of(impl, 0, ca_id);
}

static X509 *
vt_ra_cert(void *impl, int64_t ra_id)
{
	return cert_of(impl, 1, ra_id);
}

static int
vt_decrypt(void *impl, const int64_t *ra_ids, size_t nra, int64_t ca_id,
    const uint8_t *env, size_t env_len, unsigned int algs, uint8_t **out,
    size_t *out_len, int *cipher_nid)
{
	struct kp_buf	 req;
	uint8_t		*rep = NULL;
	size_t		 rep_len = 0;
	int		 r;

	*out = NULL;
	*out_len = 0;
	if (ra_ids == NULL && nra > 0)
		return SCEP_E_INTERNAL;
	if (nra + (ca_id != 0 ? 1 : 0) > KP_MAX_DECRYPT_IDS)
		return SCEP_E_TOOBIG;
	if (nra == 0 && ca_id == 0)
		return SCEP_E_NOTFOUND;
	if (env_len > SCEP_MAX_MSG_DER)
		return SCEP_E_TOOBIG;
	kp_buf_init(&req, kp_req_max(KP_DECRYPT));
	if ((r = kp_enc_decrypt(&req, ra_ids, nra, ca_id, algs, env,
	    env_len)) == SCEP_OK &&
	    (r = call(impl, KP_DECRYPT, &req, &rep, &rep_len)) == SCEP_OK)
		r = kp_dec_rep_decrypt(rep, rep_len, out, out_len, cipher_nid);
	kp_buf_clear(&req);
	if (rep != NULL)
		OPENSSL_cleanse(rep, rep_len);	/* the decrypted CSR */
	free(rep);
	return r;
}

static int
vt_issue(void *impl, int64_t ca_id, const struct issue_tmpl *t, X509 **out,
    uint8_t *serial)
{
	struct kp_buf	 req;
	uint8_t		*rep = NULL, sn[ISSUE_SERIAL_LEN];
	size_t		 rep_len = 0;
	int		 r;

	*out = NULL;
	if (t == NULL)
		return SCEP_E_INTERNAL;
	kp_buf_init(&req, kp_req_max(KP_ISSUE));
	if ((r = kp_enc_issue(&req, ca_id, t)) == SCEP_OK &&
	    (r = call(impl, KP_ISSUE, &req, &rep, &rep_len)) == SCEP_OK &&
	    (r = kp_dec_rep_issue(rep, rep_len, out, sn)) == SCEP_OK &&
	    serial != NULL)
		memcpy(serial, sn, sizeof(sn));
	kp_buf_clear(&req);
	free(rep);
	return r;
}

static int
vt_issue_reply(void *impl, int64_t ca_id, int64_t ra_id,
    const struct issue_tmpl *t, int chain, const struct scep_reply *rp,
    struct issued_reply *out)
{
	struct kp_buf	 req;
	uint8_t		*rep = NULL;
	size_t		 rep_len = 0;
	int		 r;

	memset(out, 0, sizeof(*out));
	kp_buf_init(&req, kp_req_max(KP_ISSUE_REPLY));
	if ((r = kp_enc_issue_reply(&req, ca_id, ra_id, t, chain, rp)) ==
	    SCEP_OK &&
	    (r = call(impl, KP_ISSUE_REPLY, &req, &rep, &rep_len)) ==
	    SCEP_OK)
		r = kp_dec_rep_issue_reply(rep, rep_len, out);
	kp_buf_clear(&req);
	free(rep);
	return r;
}

static int
vt_sign_certrep(void *impl, int64_t ra_id, int64_t ca_id,
    const struct scep_reply *rp, STACK_OF(X509) *extra, uint8_t **out,
    size_t *out_len)
{
	struct kp_buf	 req;
	uint8_t		*rep = NULL;
	size_t		 rep_len = 0;
	int		 r;

	*out = NULL;
	*out_len = 0;
	kp_buf_init(&req, kp_req_max(KP_SIGN_CERTREP));
	if ((r = kp_enc_certrep(&req, ra_id, ca_id, rp, extra)) == SCEP_OK &&
	    (r = call(impl, KP_SIGN_CERTREP, &req, &rep, &rep_len)) ==
	    SCEP_OK)
		r = kp_dec_rep_blob(rep, rep_len, KP_MAX_SIGNED, out, out_len);
	kp_buf_clear(&req);
	free(rep);
	return r;
}

static int
vt_sign_nextca(void *impl, int64_t ra_id, int64_t ca_id,
    STACK_OF(X509) *next, time_t now, uint8_t **out, size_t *out_len)
{
	struct kp_buf	 req;
	uint8_t		*rep = NULL;
	size_t		 rep_len = 0;
	int		 r;

	*out = NULL;
	*out_len = 0;
	kp_buf_init(&req, kp_req_max(KP_SIGN_NEXTCA));
	if ((r = kp_enc_nextca(&req, ra_id, ca_id, next, now)) == SCEP_OK &&
	    (r = call(impl, KP_SIGN_NEXTCA, &req, &rep, &rep_len)) ==
	    SCEP_OK)
		r = kp_dec_rep_blob(rep, rep_len, KP_MAX_SIGNED, out, out_len);
	kp_buf_clear(&req);
	free(rep);
	return r;
}

static int
vt_sign_crl(void *impl, int64_t ca_id, const struct crl_entry *entries,
    size_t n, int64_t crl_number, time_t this_update, time_t next_update,
    X509_CRL **out)
{
	struct kp_buf	 req;
	uint8_t		*rep = NULL;
	size_t		 rep_len = 0;
	int		 r;

	*out = NULL;
	kp_buf_init(&req, kp_req_max(KP_SIGN_CRL));
	if ((r = kp_enc_crl(&req, ca_id, entries, n, crl_number, this_update,
	    next_update)) == SCEP_OK &&
	    (r = call(impl, KP_SIGN_CRL, &req, &rep, &rep_len)) == SCEP_OK)
		r = kp_dec_rep_crl(rep, rep_len, out);
	kp_buf_clear(&req);
	free(rep);
	return r;
}

static int
vt_make_ra(void *impl, int64_t ca_id, EVP_PKEY *ra_pub, const char *dn,
    int usage, int days, time_t now, X509 **out)
{
	struct kp_buf	 req;
	uint8_t		*rep = NULL;
	size_t		 rep_len = 0;
	int		 r;

	*out = NULL;
	kp_buf_init(&req, kp_req_max(KP_MAKE_RA));
	if ((r = kp_enc_make_ra(&req, ca_id, ra_pub, dn, usage, days,
	    now)) == SCEP_OK &&
	    (r = call(impl, KP_MAKE_RA, &req, &rep, &rep_len)) == SCEP_OK)
		r = kp_dec_rep_cert(rep, rep_len, out);
	kp_buf_clear(&req);
	free(rep);
	return r;
}

static void
pool_free(void *impl)
{
	struct kp_pool	*p = impl;
	struct kp_ident	*k = NULL, *next = NULL;
	size_t		 i;
	int		 st;

	if (p == NULL)
		return;
	/* Workers end when their sockets close, then the master. */
	for (i = 0; i < p->nw; i++)
		if (p->w[i].fd >= 0)
			close(p->w[i].fd);
	if (p->ctl >= 0)
		close(p->ctl);
	if (p->master > 0)
		while (waitpid(p->master, &st, 0) < 0 && errno == EINTR)
			;
	for (i = 0; i < p->nids; i++)
		ident_free(p->ids[i]);
	free(p->ids);
	for (k = p->retired; k != NULL; k = next) {
		next = k->next;
		ident_free(k);
	}
	if (p->locks > 0)
		pthread_mutex_destroy(&p->lock);
	if (p->locks > 1)
		pthread_cond_destroy(&p->cond);
	if (p->locks > 2)
		pthread_mutex_destroy(&p->ctl_lock);
	if (p->locks > 3)
		pthread_rwlock_destroy(&p->id_lock);
	free(p);
}

static const struct keyops_vt kp_vt = {
	.free		= pool_free,
	.load_ca	= vt_load_ca,
	.load_ra	= vt_load_ra,
	.ca_cert	= vt_ca_cert,
	.ra_cert	= vt_ra_cert,
	.decrypt	= vt_decrypt,
	.issue		= vt_issue,
	.issue_reply	= vt_issue_reply,
	.sign_certrep	= vt_sign_certrep,
	.sign_nextca	= vt_sign_nextca,
	.make_ra	= vt_make_ra,
	.sign_crl	= vt_sign_crl,
};

/* ---- construction --------------------------------------------------- */

/* Threads of this process (1 when /proc is missing: nothing to check). */
static int
thread_count(void)
{
	DIR		*d = NULL;
	struct dirent	*e = NULL;
	int		 n = 0;

	if ((d = opendir("/proc/self/task")) == NULL)
		return 1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int
keyops_new_isolated(const char *data_dir, unsigned int nworkers,
    struct keyops **out)
{
	struct kp_pool	*p = NULL;
	char		 path[PATH_MAX], cwd[PATH_MAX];
	long		 ncpu;
	size_t		 i;
	int		 dirfd = -1, sv[2] = { -1, -1 }, r = SCEP_E_INTERNAL;
	pid_t		 pid;

	*out = NULL;
	if (data_dir == NULL || (size_t)snprintf(path, sizeof(path),
	    "%s/keys", data_dir) >= sizeof(path))
		return SCEP_E_CONFIG;
	/* fork() without exec is only safe with no other thread running. */
	if (thread_count() != 1) {
		log_error("msg=\"keyops_new_isolated: the process already has "
		    "threads\"");
		return SCEP_E_INTERNAL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return SCEP_E_NOMEM;
	p->ctl = -1;
	for (i = 0; i < KP_MAX_WORKERS; i++)
		p->w[i].fd = -1;
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		goto out;
	p->locks++;
	if (pthread_cond_init(&p->cond, NULL) != 0)
		goto out;
	p->locks++;
	if (pthread_mutex_init(&p->ctl_lock, NULL) != 0)
		goto out;
	p->locks++;
	if (pthread_rwlock_init(&p->id_lock, NULL) != 0)
		goto out;
	p->locks++;

	r = SCEP_E_CONFIG;
	if (path[0] == '/')
		snprintf(p->keysabs, sizeof(p->keysabs), "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    (size_t)snprintf(p->keysabs, sizeof(p->keysabs), "%s/%s", cwd,
	    path) >= sizeof(p->keysabs))
		p->keysabs[0] = '\0';
	if ((dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    realpath(path, p->keysdir) == NULL) {
		log_error("msg=\"cannot open the keys directory\" path=\"%s\" "
		    "errno=%d", path, errno);
		goto out;
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (nworkers == 0)
		nworkers = ncpu > 0 ? (unsigned int)ncpu : 1;
	p->nw = nworkers > KP_MAX_WORKERS ? KP_MAX_WORKERS : nworkers;

	r = SCEP_E_INTERNAL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		goto out;
	if ((pid = fork()) < 0)
		goto out;
	if (pid == 0) {
		close(sv[0]);
		kp_master_main(sv[1], dirfd);	/* does not return */
	}
	p->master = pid;
	p->ctl = sv[0];
	sv[0] = -1;
	close(sv[1]);
	sv[1] = -1;

	/* Start the whole pool now, so a sandbox that cannot be set up
	 * stops scepd at start and not at the first enrollment. */
	for (i = 0; i < p->nw; i++)
		if ((r = spawn(p, &p->w[i])) != SCEP_OK)
			goto out;
	log_info("msg=\"key isolation on\" workers=%zu keys=\"%s\"", p->nw,
	    p->keysdir);
	close(dirfd);
	return keyops_new_vt(&kp_vt, p, out);
 out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (dirfd >= 0)
		close(dirfd);
	pool_free(p);
	return r;
}
