/*
 * keyproc.c -- the key processes: the master, which only starts workers,
 * and the workers, which hold the CA and RA keys and answer one request
 * at a time (keyproc.h has the picture; SECURITY.md the threat model).
 *
 * A worker is an ordinary in-process keyops table (src/ca/keyops.c) behind
 * a read-decode-dispatch-reply loop.  The dispatch table below lists the
 * only things a worker will do; anything else is refused.  Key files are
 * opened relative to a descriptor of DATA_DIR/keys, by a bare file name,
 * never by a path, so neither scepd nor the sandbox's absence can make a
 * worker read another file.
 *
 * Both kinds of process are forks without exec: the master is forked from
 * scepd before scepd reads any secret (serve.c), and the workers from the
 * master.  Everything that would need a file outside keys/ (OpenSSL's
 * configuration, the legacy provider's shared object) is loaded by the
 * master before it sandboxes itself; the workers inherit it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "ca_gen.h"
#include "ca_p11.h"
#include "keyops.h"
#include "keyops_impl.h"
#include "keyproc.h"
#include "log.h"
#include "scep_err.h"

/* Exit statuses, for the master's log line about a dead worker. */
#define KP_EXIT_LIE	3	/* scepd sent a header that lied */
#define KP_EXIT_IO	4	/* socket error */
#define KP_EXIT_SETUP	5	/* could not sandbox or initialise */
#define KP_EXIT_SECCOMP	6	/* a system call outside the allow-list */

/*
 * The secure heap (OpenSSL's mlock'ed, MADV_DONTDUMP arena with guard
 * pages) holds the private key numbers: RSA and EC private components are
 * allocated there once it exists.  2 MiB holds a few hundred RSA-4096 keys
 * with room for signing temporaries.  Power of two, as OpenSSL demands.
 */
#define KP_SECURE_HEAP	(2 * 1024 * 1024)
#define KP_SECURE_MIN	32

/* Workers alive at once: the pool plus those being replaced.  A scepd
 * that asks for more is refused: no fork bomb through the master. */
#define KP_MAX_LIVE	(2 * KP_MAX_WORKERS)

/* ---- worker: the operations ---------------------------------------- */

/*
 * A key file name: one path component of [A-Za-z0-9._-], not starting
 * with '.', so it is never "..", never hidden, never a path.
 */
static int
name_ok(const char *s)
{
	size_t	 i, n = strlen(s);

	if (n == 0 || n > KP_MAX_NAME || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return 0;
	}
	return 1;
}

static int
op_load(struct keyops *ko, int dirfd, struct kp_req *rq, struct kp_buf *rep)
{
	EVP_PKEY	*key = NULL;
	int		 fd = -1, r;

	(void)rep;
	if (ca_p11_is_uri(rq->name)) {
		/* A key in a PKCS#11 token: the first load in this worker
		 * initialises the module and logs in (after the fork). */
		if ((r = ca_p11_key_load(rq->name, &key)) != SCEP_OK)
			return r;
		goto loaded;
	}
	if (!name_ok(rq->name))
		return SCEP_E_CONFIG;
	/* O_NOFOLLOW: a symlink planted in keys/ is refused (ELOOP). */
	if ((fd = openat(dirfd, rq->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY)) < 0)
		return errno == ELOOP ? SCEP_E_CONFIG : SCEP_E_IO;
	r = ca_key_read_fd(fd, &key);
	close(fd);
	if (r != SCEP_OK)
		return r;
 loaded:
	if (rq->op == KP_LOAD_CA)
		return keyops_load_ca_key(ko, rq->id, key, rq->cert,
		    rq->cert_len);
	return keyops_load_ra_key(ko, rq->id, rq->ca_id, key, rq->cert,
	    rq->cert_len);
}

static int
op_decrypt(struct keyops *ko, int dirfd, struct kp_req *rq,
    struct kp_buf *rep)
{
	uint8_t	*out = NULL;
	size_t	 out_len = 0;
	int	 nid = 0, r;

	(void)dirfd;
	r = keyops_decrypt(ko, rq->ra_ids, rq->nra, rq->ca_id, rq->env,
	    rq->env_len, rq->algs, &out, &out_len, &nid);
	if (r == SCEP_OK) {
		kp_buf_blob(rep, out, out_len);
		kp_buf_i32(rep, nid);
	}
	if (out != NULL)
		OPENSSL_cleanse(out, out_len);	/* a CSR with a challenge */
	OPENSSL_free(out);
	return r;
}

static int
op_issue(struct keyops *ko, int dirfd, struct kp_req *rq, struct kp_buf *rep)
{
	uint8_t	*der = NULL, serial[ISSUE_SERIAL_LEN];
	size_t	 len = 0;
	int	 r;

	(void)dirfd;
	/* The serial is drawn here, in keyops_issue_der (issue 8). */
	r = keyops_issue_der(ko, rq->ca_id, &rq->tmpl, &der, &len, serial);
	if (r == SCEP_OK) {
		kp_buf_blob(rep, der, len);
		kp_buf_blob(rep, serial, sizeof(serial));
	}
	OPENSSL_free(der);
	return r;
}

static int
op_issue_reply(struct keyops *ko, int dirfd, struct kp_req *rq,
    struct kp_buf *rep)
{
	struct issued_reply	 ir;
	int			 r;

	(void)dirfd;
	/* Serial, certificate and reply all made here, the certificate
	 * never decoded again (issue 7). */
	r = keyops_issue_reply(ko, rq->ca_id, rq->ra_id, &rq->tmpl,
	    (int)rq->chain, &rq->rep, &ir);
	if (r == SCEP_OK) {
		kp_buf_blob(rep, ir.cert, ir.cert_len);
		kp_buf_blob(rep, ir.serial, sizeof(ir.serial));
		kp_buf_i64(rep, (int64_t)ir.not_before);
		kp_buf_i64(rep, (int64_t)ir.not_after);
		kp_buf_blob(rep, ir.reply, ir.reply_len);
	}
	issued_reply_clear(&ir);
	return r;
}

static int
op_certrep(struct keyops *ko, int dirfd, struct kp_req *rq,
    struct kp_buf *rep)
{
	uint8_t	*out = NULL;
	size_t	 out_len = 0;
	int	 r;

	(void)dirfd;
	r = keyops_sign_certrep(ko, rq->ra_id, rq->ca_id, &rq->rep, rq->certs,
	    &out, &out_len);
	if (r == SCEP_OK)
		kp_buf_blob(rep, out, out_len);
	OPENSSL_free(out);
	return r;
}

static int
op_nextca(struct keyops *ko, int dirfd, struct kp_req *rq,
    struct kp_buf *rep)
{
	uint8_t	*out = NULL;
	size_t	 out_len = 0;
	int	 r;

	(void)dirfd;
	r = keyops_sign_nextca(ko, rq->ra_id, rq->ca_id, rq->certs, rq->now,
	    &out, &out_len);
	if (r == SCEP_OK)
		kp_buf_blob(rep, out, out_len);
	OPENSSL_free(out);
	return r;
}

static int
op_crl(struct keyops *ko, int dirfd, struct kp_req *rq, struct kp_buf *rep)
{
	X509_CRL	*crl = NULL;
	unsigned char	*der = NULL;
	int		 len, r;

	(void)dirfd;
	r = keyops_sign_crl(ko, rq->ca_id, rq->entries, rq->nentries,
	    rq->crl_number, rq->this_update, rq->next_update, &crl);
	if (r == SCEP_OK) {
		if ((len = i2d_X509_CRL(crl, &der)) <= 0)
			r = SCEP_E_INTERNAL;
		else
			kp_buf_blob(rep, der, (size_t)len);
	}
	OPENSSL_free(der);
	X509_CRL_free(crl);
	return r;
}

static int
op_make_ra(struct keyops *ko, int dirfd, struct kp_req *rq,
    struct kp_buf *rep)
{
	X509	*x = NULL;
	int	 r;

	(void)dirfd;
	r = keyops_make_ra(ko, rq->ca_id, rq->pubkey, rq->dn, (int)rq->usage,
	    (int)rq->days, rq->now, &x);
	if (r == SCEP_OK)
		kp_buf_x509(rep, x);
	X509_free(x);
	return r;
}

/*
 * The dispatch table (STYLE H9): the only operations a worker performs,
 * with the time each may take before the worker's alarm kills it.
 */
static const struct kp_handler {
	uint32_t	 op;
	unsigned int	 timeout;	/* seconds */
	int		(*fn)(struct keyops *, int, struct kp_req *,
			    struct kp_buf *);
} handlers[] = {
	{ KP_LOAD_CA,		KP_TIMEOUT_SEC,		op_load },
	{ KP_LOAD_RA,		KP_TIMEOUT_SEC,		op_load },
	{ KP_DECRYPT,		KP_TIMEOUT_SEC,		op_decrypt },
	{ KP_ISSUE,		KP_TIMEOUT_SEC,		op_issue },
	{ KP_SIGN_CERTREP,	KP_TIMEOUT_SEC,		op_certrep },
	{ KP_SIGN_NEXTCA,	KP_TIMEOUT_SEC,		op_nextca },
	{ KP_SIGN_CRL,		KP_TIMEOUT_CRL_SEC,	op_crl },
	{ KP_MAKE_RA,		KP_TIMEOUT_SEC,		op_make_ra },
	{ KP_ISSUE_REPLY,	KP_TIMEOUT_SEC,		op_issue_reply },
};

static const struct kp_handler *
handler_of(uint32_t op)
{
	size_t	 i;

	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].op == op)
			return &handlers[i];
	return NULL;
}

int
kp_worker_handle(struct keyops *ko, int dirfd, uint32_t op,
    const uint8_t *body, size_t len, struct kp_buf *rep)
{
	const struct kp_handler	*h = NULL;
	struct kp_req		 rq;
	int			 r;

	memset(&rq, 0, sizeof(rq));
	kp_buf_init(rep, kp_rep_max(op) > 0 ? kp_rep_max(op) : 4);
	kp_buf_i32(rep, SCEP_OK);
	if ((h = handler_of(op)) == NULL)
		r = SCEP_E_MALFORMED;
	else if ((r = kp_req_decode(op, body, len, &rq)) == SCEP_OK)
		r = h->fn(ko, dirfd, &rq, rep);
	if (r == SCEP_OK && rep->err != SCEP_OK)
		r = rep->err;		/* the answer did not fit */
	if (r != SCEP_OK) {
		/* Only the status: nothing half-built goes back. */
		kp_buf_clear(rep);
		kp_buf_init(rep, 4);
		kp_buf_i32(rep, r);
	}
	kp_req_clear(&rq);
	ERR_clear_error();		/* STYLE H2: nothing carries over */
	return r;
}

static void
alarm_set(unsigned int sec)
{
	struct itimerval	 it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = sec;
	(void)setitimer(ITIMER_REAL, &it, NULL);
}

/* The worker's loop: never returns. */
static void __attribute__((noreturn))
worker_loop(int fd, int dirfd, struct keyops *ko)
{
	const struct kp_handler	*h = NULL;
	struct kp_buf		 rep;
	uint8_t			*body = NULL;
	size_t			 len = 0;
	uint32_t		 op = 0;
	int			 r;

	for (;;) {
		r = kp_msg_read(fd, kp_req_max, -1, &op, &body, &len);
		if (r == KP_IO_EOF)
			_exit(0);		/* scepd closed: done */
		if (r == KP_IO_LIE) {
			/* STYLE H8: a peer that lies is not answered. */
			log_error("msg=\"keyproc: request header with a bad "
			    "op or length, dropping the connection\"");
			_exit(KP_EXIT_LIE);
		}
		if (r != SCEP_OK)
			_exit(KP_EXIT_IO);
		/* A hung operation kills the worker; scepd starts another. */
		h = handler_of(op);
		alarm_set((h != NULL ? h->timeout : KP_TIMEOUT_SEC) + 5);
		(void)kp_worker_handle(ko, dirfd, op, body, len, &rep);
		alarm_set(0);
		if (body != NULL)
			OPENSSL_cleanse(body, len);
		free(body);
		body = NULL;
		r = rep.err == SCEP_OK ? kp_msg_write(fd, op, rep.p, rep.len) :
		    SCEP_E_IO;
		kp_buf_clear(&rep);
		if (r != SCEP_OK)
			_exit(KP_EXIT_IO);
	}
}

/* ---- process set-up -------------------------------------------------- */

/* Write a decimal number without stdio (async-signal-safe). */
static size_t
fmt_ulong(char *p, unsigned long v)
{
	char	 tmp[24];
	size_t	 n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n < sizeof(tmp));
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/* SIGSYS from seccomp (SECCOMP_RET_TRAP): say which call, then die. */
static void
on_sigsys(int sig, siginfo_t *si, void *uc)
{
	static const char pre[] = "level=error msg=\"keyproc: system call "
	    "outside the seccomp allow-list, exiting\" syscall=";
	char	 line[160];
	size_t	 n = sizeof(pre) - 1;

	(void)sig;
	(void)uc;
	memcpy(line, pre, n);
	n += fmt_ulong(line + n, (unsigned long)(unsigned int)si->si_syscall);
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
	_exit(KP_EXIT_SECCOMP);
}

/* Close every descriptor but 0-2 and the two given. */
static void
close_others(int keep1, int keep2)
{
	long	 max = sysconf(_SC_OPEN_MAX);
	int	 fd;

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < (int)max; fd++)
		if (fd != keep1 && fd != keep2)
			(void)close(fd);
}

/*
 * Everything that reads a file outside keys/, done once before the
 * sandbox: OpenSSL's configuration, the providers (the legacy one, for
 * single DES on legacy endpoints, is optional), the algorithms the
 * operations fetch, the DRBG's first seeding, error strings.
 */
static void
crypto_warmup(void)
{
	static const char *const mds[] = { "SHA1", "SHA224", "SHA256",
	    "SHA384", "SHA512", "MD5" };
	static const char *const ciphers[] = { "AES-128-CBC", "AES-192-CBC",
	    "AES-256-CBC", "DES-EDE3-CBC", "DES-CBC" };
	unsigned char	 b[16];
	size_t		 i;

	(void)OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG |
	    OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
	(void)OSSL_PROVIDER_load(NULL, "default");
	if (OSSL_PROVIDER_load(NULL, "legacy") == NULL)
		log_debug("msg=\"keyproc: no legacy provider: single DES "
		    "unavailable\"");
	for (i = 0; i < sizeof(mds) / sizeof(mds[0]); i++)
		EVP_MD_free(EVP_MD_fetch(NULL, mds[i], NULL));
	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		EVP_CIPHER_free(EVP_CIPHER_fetch(NULL, ciphers[i], NULL));
	(void)RAND_bytes(b, sizeof(b));
	OPENSSL_cleanse(b, sizeof(b));
	ERR_clear_error();
}

void
kp_worker_run(int fd, int dirfd)
{
	struct keyops	*ko = NULL;

	(void)prctl(PR_SET_NAME, "scepd-keyproc", 0, 0, 0);
	/*
	 * mlock and MADV_DONTDUMP for the key numbers; locks are not
	 * inherited across fork, so each worker makes its own arena.  1 is
	 * "locked", 2 "works but could not lock" (RLIMIT_MEMLOCK).
	 */
	if (CRYPTO_secure_malloc_init(KP_SECURE_HEAP, KP_SECURE_MIN) == 0)
		log_warn("msg=\"keyproc: no secure heap\"");
	if (keyops_new(&ko) != SCEP_OK)
		_exit(KP_EXIT_SETUP);
	/* A second, stricter filter: no fork, no descriptor passing. */
	if (kp_sandbox_seccomp(0) != 0)
		_exit(KP_EXIT_SETUP);
	worker_loop(fd, dirfd, ko);
}

/* Reap finished workers; log the ones that did not end normally. */
static void
reap(size_t *live, int block)
{
	pid_t	 pid;
	int	 st;

	while (*live > 0 && (pid = waitpid(-1, &st, block ? 0 : WNOHANG)) >
	    0) {
		(*live)--;
		if (WIFSIGNALED(st))
			log_error("msg=\"keyproc: worker killed\" pid=%ld "
			    "signal=%d", (long)pid, WTERMSIG(st));
		else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
			log_error("msg=\"keyproc: worker failed\" pid=%ld "
			    "status=%d", (long)pid, WEXITSTATUS(st));
	}
}

static size_t
ctl_max(uint32_t op)
{
	return op == KP_CTL_SPAWN ? 1 : 0;	/* body must be empty */
}

/* Send {KP_CTL_SPAWN, pid} and, when fd >= 0, the descriptor. */
static int
ctl_reply(int ctl, int32_t pid, int fd)
{
	uint8_t		 m[KP_HDR_LEN + 4];
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c = NULL;
	uint32_t	 u = (uint32_t)pid;

	m[0] = (uint8_t)(KP_CTL_SPAWN >> 24);
	m[1] = (uint8_t)(KP_CTL_SPAWN >> 16);
	m[2] = (uint8_t)(KP_CTL_SPAWN >> 8);
	m[3] = (uint8_t)KP_CTL_SPAWN;
	m[4] = m[5] = m[6] = 0;
	m[7] = 4;
	m[8] = (uint8_t)(u >> 24);
	m[9] = (uint8_t)(u >> 16);
	m[10] = (uint8_t)(u >> 8);
	m[11] = (uint8_t)u;
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = m;
	iov.iov_len = sizeof(m);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd >= 0) {
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	while (sendmsg(ctl, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

void
kp_master_main(int ctl, int dirfd)
{
	struct sigaction	 sa;
	sigset_t		 none;
	uint8_t			*body = NULL;
	size_t			 len = 0, live = 0;
	uint32_t		 op = 0;
	pid_t			 pid;
	int			 sv[2], r, abi;

	close_others(ctl, dirfd);
	(void)prctl(PR_SET_NAME, "scepd-keymaster", 0, 0, 0);

	/* scepd handles the signals of a terminal or of systemd and then
	 * closes our sockets, which ends us; SIGPIPE is an error return. */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGCHLD, &sa, NULL);
	(void)sigaction(SIGALRM, &sa, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	(void)sigaction(SIGSYS, &sa, NULL);

	crypto_warmup();
	log_debug("msg=\"keyproc: master started\" pid=%ld", (long)getpid());
	/* The PIN is read here, before the sandbox closes the file system;
	 * the workers inherit it.  scepd itself never reads it. */
	if (ca_p11_enabled() && ca_p11_pin_load() != SCEP_OK)
		log_error("msg=\"keyproc: no PKCS#11 PIN: keys in the token "
		    "will not load\"");

	/* The sandbox, before the first request is read. */
	abi = kp_sandbox_fs(dirfd);
	if (kp_sandbox_proc() != 0 || kp_sandbox_seccomp(1) != 0) {
		log_error("msg=\"keyproc: cannot sandbox the key processes\"");
		_exit(KP_EXIT_SETUP);
	}
	log_info("msg=\"keyproc: sandboxed\" landlock_abi=%d seccomp=on "
	    "dumpable=0", abi);

	for (;;) {
		r = kp_msg_read(ctl, ctl_max, -1, &op, &body, &len);
		free(body);
		body = NULL;
		if (r != SCEP_OK) {
			if (r == KP_IO_LIE)
				log_error("msg=\"keyproc: bad control "
				    "message, stopping\"");
			break;		/* EOF: scepd is gone or done */
		}
		reap(&live, 0);
		if (live >= KP_MAX_LIVE) {
			log_error("msg=\"keyproc: too many workers\"");
			if (ctl_reply(ctl, -EAGAIN, -1) != 0)
				break;
			continue;
		}
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    sv) != 0) {
			if (ctl_reply(ctl, -errno, -1) != 0)
				break;
			continue;
		}
		if ((pid = fork()) < 0) {
			r = errno;
			close(sv[0]);
			close(sv[1]);
			if (ctl_reply(ctl, -r, -1) != 0)
				break;
			continue;
		}
		if (pid == 0) {
			close(ctl);
			close(sv[0]);
			kp_worker_run(sv[1], dirfd);
		}
		live++;
		close(sv[1]);
		r = ctl_reply(ctl, (int32_t)pid, sv[0]);
		close(sv[0]);
		if (r != 0)
			break;
	}
	close(ctl);
	reap(&live, 1);		/* workers end when scepd's ends close */
	_exit(0);
}
