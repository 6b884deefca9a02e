/*
 * kp_sandbox.c -- confining the key processes on Linux: Landlock for the
 * file system, seccomp-bpf for system calls, prctl/rlimit/capabilities
 * for the rest (keyproc.h lists the steps; SECURITY.md why).
 *
 * No libseccomp and no libcap: the BPF program is short and written out
 * below, and the few prctl/capset calls need no library.  Every mechanism
 * is probed; a kernel without Landlock gets a chroot when we are root and
 * a log line otherwise.  seccomp is the one layer we insist on.
 *
 * The seccomp allow-list is what glibc and libcrypto need for the key
 * operations after set-up, and nothing that reaches outside the process:
 * no socket(), connect() or bind() (EPERM, so a library that tries fails
 * cleanly), no exec, no ptrace (the process is killed), openat() only
 * read-only (and Landlock decides where), mmap()/mprotect() never with
 * PROT_EXEC.  A call that is on no list raises SIGSYS; keyproc.c's
 * handler logs its number and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#include "ca_p11.h"
#include "keyproc.h"
#include "log.h"

/* O_TMPFILE is a GNU extension in <fcntl.h>; the value is the kernel's. */
#ifndef O_TMPFILE
#define O_TMPFILE	(020000000 | O_DIRECTORY)
#endif

#if defined(__x86_64__)
#define KP_AUDIT_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define KP_AUDIT_ARCH	AUDIT_ARCH_AARCH64
#endif

/* ---- Landlock ---------------------------------------------------------- */

/*
 * Our own copies of the uapi constants, so a build against older kernel
 * headers (Debian 12 ships 6.1: ABI 3) still uses what the running kernel
 * offers.  Values from include/uapi/linux/landlock.h.
 */
#define LL_CREATE_RULESET_VERSION	(1U << 0)
#define LL_RULE_PATH_BENEATH		1
#define LL_FS_READ_FILE			(1ULL << 2)
#define LL_FS_READ_DIR			(1ULL << 3)
#define LL_FS_ABI1			((1ULL << 13) - 1)	/* 13 rights */
#define LL_FS_REFER			(1ULL << 13)		/* ABI 2 */
#define LL_FS_TRUNCATE			(1ULL << 14)		/* ABI 3 */
#define LL_FS_IOCTL_DEV			(1ULL << 15)		/* ABI 5 */
#define LL_NET_BIND_TCP			(1ULL << 0)		/* ABI 4 */
#define LL_NET_CONNECT_TCP		(1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX		(1ULL << 0)		/* ABI 6 */
#define LL_SCOPE_SIGNAL			(1ULL << 1)

struct ll_ruleset_attr {
	uint64_t	 handled_access_fs;
	uint64_t	 handled_access_net;
	uint64_t	 scoped;
};

struct ll_path_beneath {
	uint64_t	 allowed_access;
	int32_t		 parent_fd;
} __attribute__((packed));

static int
no_new_privs(void)
{
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

#if defined(SYS_landlock_create_ruleset)
/*
 * With keys in a PKCS#11 token (ca_p11.h), the module reads its own files
 * in every worker, after the fork: exactly the configured pkcs11_paths,
 * read-only (files, and listing directories: SoftHSM2 scans its token
 * directory).  SoftHSM2 also tries to open its token's "generation" file
 * for writing; that open fails (EACCES) and SoftHSM2 carries on, since
 * signing and decrypting change nothing in the token.
 */
static int
p11_rules(int rs)
{
	struct ll_path_beneath	 pb;
	struct stat		 st;
	const char		*path = NULL;
	size_t			 i;
	int			 fd, r;

	for (i = 0; (path = ca_p11_path(i)) != NULL; i++) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0 ||
		    fstat(fd, &st) != 0) {
			log_error("msg=\"keyproc: pkcs11 path missing\" "
			    "path=\"%s\"", path);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		memset(&pb, 0, sizeof(pb));
		pb.allowed_access = LL_FS_READ_FILE;
		if (S_ISDIR(st.st_mode))
			pb.allowed_access |= LL_FS_READ_DIR;
		pb.parent_fd = fd;
		r = (int)syscall(SYS_landlock_add_rule, rs,
		    LL_RULE_PATH_BENEATH, &pb, 0);
		close(fd);
		if (r != 0)
			return -1;
		log_debug("msg=\"keyproc: pkcs11 path readable\" path=\"%s\"",
		    path);
	}
	return 0;
}

static int
landlock(int dirfd)
{
	struct ll_ruleset_attr	 attr;
	struct ll_path_beneath	 pb;
	size_t			 attrsz = sizeof(uint64_t);
	long			 abi;
	int			 rs = -1, r = -1;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);
	if (abi < 1)
		return -1;
	memset(&attr, 0, sizeof(attr));
	/* Handle every right the kernel knows, so each is denied unless
	 * the one rule below grants it. */
	attr.handled_access_fs = LL_FS_ABI1;
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 4) {
		/* No TCP at all; seccomp refuses socket() anyway. */
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		attrsz = 2 * sizeof(uint64_t);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		attrsz = sizeof(attr);
	}
	if ((rs = (int)syscall(SYS_landlock_create_ruleset, &attr, attrsz,
	    0)) < 0)
		return -1;
	/* The one rule: read files below keys/ (not even list it). */
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = LL_FS_READ_FILE;
	pb.parent_fd = dirfd;
	if (syscall(SYS_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb,
	    0) != 0)
		goto out;
	if (p11_rules(rs) != 0)
		goto out;
	if (no_new_privs() != 0)
		goto out;
	if (syscall(SYS_landlock_restrict_self, rs, 0) != 0)
		goto out;
	r = (int)abi;
 out:
	close(rs);
	return r;
}
#else
static int
landlock(int dirfd)
{
	(void)dirfd;
	errno = ENOSYS;
	return -1;
}
#endif

int
kp_sandbox_fs(int dirfd)
{
	int	 abi;

	if ((abi = landlock(dirfd)) >= 1)
		return abi;
	/* No Landlock: root can still shut the rest of the tree away,
	 * unless a PKCS#11 module needs files outside keys/. */
	if (geteuid() == 0 && !ca_p11_enabled() && fchdir(dirfd) == 0 && chroot(".") == 0 &&
	    chdir("/") == 0) {
		log_warn("msg=\"keyproc: no Landlock in this kernel, "
		    "chrooted into the keys directory\"");
		return 0;
	}
	log_warn("msg=\"keyproc: no Landlock in this kernel and not root: "
	    "the key processes can read what scepd's user can\"");
	return -1;
}

/* ---- process attributes --------------------------------------------- */

int
kp_sandbox_proc(void)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];
	struct rlimit			 rl;
	int				 cap, r = 0;

	/* No ptrace by our own user, no core file, no /proc/PID/mem. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		r = -1;
	if (no_new_privs() != 0)
		r = -1;
	/* Belt and braces (not dumpable already means no core file); a
	 * supervisor's filter may refuse it: log, do not stop. */
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		log_warn("msg=\"keyproc: cannot set RLIMIT_CORE\" errno=%d",
		    errno);
	/* Every capability, bounding set included (only root has any; the
	 * calls fail harmlessly otherwise).  Key files are owned by the
	 * user we run as, so reading them needs none. */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
		    errno == EINVAL)
			break;
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capset, &hdr, data) != 0)
		log_warn("msg=\"keyproc: cannot drop capabilities\" errno=%d",
		    errno);
	return r;
}

/* ---- seccomp ---------------------------------------------------------- */

#if defined(KP_AUDIT_ARCH)

/* The low 32 bits of argument i (the BPF machine loads 32-bit words). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(i)	(offsetof(struct seccomp_data, args) + 8 * (i))
#else
#define ARG_LO(i)	(offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#endif

#define RET(v)		BPF_STMT(BPF_RET | BPF_K, (v))
#define LD(off)		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define ALLOW		SECCOMP_RET_ALLOW
#define DENY(e)		(SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

/* System calls both the master and the workers may make freely. */
static const int allow_common[] = {
	__NR_read, __NR_write, __NR_readv, __NR_writev, __NR_pread64,
	__NR_close, __NR_fstat, __NR_newfstatat, __NR_lseek,
	__NR_brk, __NR_munmap, __NR_mremap, __NR_madvise,
	__NR_mlock, __NR_munlock,
	__NR_futex, __NR_clock_gettime, __NR_clock_getres,
	__NR_gettimeofday, __NR_nanosleep, __NR_clock_nanosleep,
	__NR_getrandom, __NR_getpid, __NR_gettid, __NR_getppid,
	__NR_getuid, __NR_geteuid, __NR_getgid, __NR_getegid,
	__NR_exit, __NR_exit_group, __NR_rt_sigreturn, __NR_rt_sigprocmask,
	__NR_sched_yield, __NR_sched_getaffinity, __NR_restart_syscall,
	__NR_setitimer, __NR_getitimer, __NR_ppoll, __NR_sendto,
	__NR_recvfrom, __NR_fcntl, __NR_set_robust_list,
	/* An alternate signal stack is harmless, and sanitizer runtimes
	 * set one up on every thread (ASan builds run the whole suite). */
	__NR_sigaltstack,
#ifdef __NR_statx
	__NR_statx,
#endif
#ifdef __NR_mlock2
	__NR_mlock2,
#endif
#ifdef __NR_rseq
	__NR_rseq,
#endif
#ifdef __NR_time
	__NR_time,
#endif
#ifdef __NR_alarm
	__NR_alarm,
#endif
#ifdef __NR_poll
	__NR_poll,
#endif
};

/* The master's extras (arguments of clone, prctl and socketpair are
 * checked separately). */
static const int allow_master[] = {
	__NR_wait4, __NR_waitid, __NR_sendmsg, __NR_recvmsg,
};

/* Network and descriptor passing: EPERM, never a crash. */
static const int deny_net[] = {
	__NR_socket, __NR_connect, __NR_bind, __NR_listen, __NR_accept,
	__NR_accept4, __NR_sendmmsg, __NR_recvmmsg, __NR_shutdown,
	__NR_getsockopt, __NR_setsockopt, __NR_socketpair, __NR_sendmsg,
	__NR_recvmsg,
};

/* Signs of a compromise: the process dies at once. */
static const int kill_now[] = {
	__NR_execve, __NR_execveat, __NR_ptrace, __NR_process_vm_readv,
	__NR_process_vm_writev,
};

#define KP_BPF_MAX	512

struct prog {
	struct sock_filter	 f[KP_BPF_MAX];
	size_t			 n;
	int			 overflow;
};

static void
emit(struct prog *p, struct sock_filter s)
{
	if (p->n == KP_BPF_MAX) {
		p->overflow = 1;
		return;
	}
	p->f[p->n++] = s;
}

/* "if (nr == sys) return action;" -- two instructions, no long jumps. */
static void
emit_nr(struct prog *p, int sys, uint32_t action)
{
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    (uint32_t)sys, 0, 1));
	emit(p, (struct sock_filter)RET(action));
}

/*
 * "if (nr == sys) { if (arg[i] & mask) return deny; return ALLOW; }"
 * The accumulator is reloaded with nr afterwards for the next test.
 */
static void
emit_argmask(struct prog *p, int sys, int i, uint32_t mask, uint32_t deny)
{
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    (uint32_t)sys, 0, 4));
	emit(p, (struct sock_filter)LD(ARG_LO(i)));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,
	    mask, 0, 1));
	emit(p, (struct sock_filter)RET(deny));
	emit(p, (struct sock_filter)RET(ALLOW));
}

/* "if (nr == sys) { if (arg[i] == v) return ALLOW; return deny; }" */
static void
emit_argeq(struct prog *p, int sys, int i, uint32_t v, uint32_t deny)
{
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    (uint32_t)sys, 0, 4));
	emit(p, (struct sock_filter)LD(ARG_LO(i)));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    v, 0, 1));
	emit(p, (struct sock_filter)RET(ALLOW));
	emit(p, (struct sock_filter)RET(deny));
}

/* prctl: only the options the set-up uses (the worker installs its own
 * filter with PR_SET_SECCOMP after the master's is in place). */
static void
emit_prctl(struct prog *p)
{
	static const uint32_t ok[] = { PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP,
	    PR_SET_NAME, PR_SET_DUMPABLE, PR_GET_DUMPABLE };
	size_t	 i, n = sizeof(ok) / sizeof(ok[0]);

	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    (uint32_t)__NR_prctl, 0, (uint8_t)(2 * n + 2)));
	emit(p, (struct sock_filter)LD(ARG_LO(0)));
	for (i = 0; i < n; i++) {
		emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
		    BPF_K, ok[i], 0, 1));
		emit(p, (struct sock_filter)RET(ALLOW));
	}
	emit(p, (struct sock_filter)RET(DENY(EPERM)));
}

static int
build(struct prog *p, int master)
{
	/* fork() is clone(SIGCHLD | CLONE_CHILD_*TID); threads, shared
	 * memory and new namespaces are not. */
	const uint32_t clone_bad = CLONE_VM | CLONE_THREAD | CLONE_NEWNS |
	    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
	    CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_FS | CLONE_FILES;
	/* O_TMPFILE includes O_DIRECTORY; a PKCS#11 module (SoftHSM2)
	 * opens its token directory, so then only O_TMPFILE's own bit
	 * (__O_TMPFILE) is refused: still no temporary file. */
	const uint32_t open_bad = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC |
	    O_APPEND | (ca_p11_enabled() ? (O_TMPFILE & ~O_DIRECTORY) :
	    O_TMPFILE);
	size_t	 i;

	memset(p, 0, sizeof(*p));
	/* The architecture first: numbers mean nothing on another ABI. */
	emit(p, (struct sock_filter)LD(offsetof(struct seccomp_data, arch)));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    KP_AUDIT_ARCH, 1, 0));
	emit(p, (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS));
	emit(p, (struct sock_filter)LD(offsetof(struct seccomp_data, nr)));
#if defined(__x86_64__)
	/* x32 system calls share the arch value: refuse them all. */
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
	    0x40000000u, 0, 1));
	emit(p, (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS));
#endif
	for (i = 0; i < sizeof(kill_now) / sizeof(kill_now[0]); i++)
		emit_nr(p, kill_now[i], SECCOMP_RET_KILL_PROCESS);
	for (i = 0; i < sizeof(allow_common) / sizeof(allow_common[0]); i++)
		emit_nr(p, allow_common[i], ALLOW);
	/* A PKCS#11 module (SoftHSM2) lists its token directory. */
	if (ca_p11_enabled())
		emit_nr(p, __NR_getdents64, ALLOW);
	emit_argmask(p, __NR_openat, 2, open_bad, DENY(EACCES));
	emit_argmask(p, __NR_mmap, 2, PROT_EXEC, DENY(EPERM));
	emit_argmask(p, __NR_mprotect, 2, PROT_EXEC, DENY(EPERM));
#ifdef __NR_pkey_mprotect
	emit_argmask(p, __NR_pkey_mprotect, 2, PROT_EXEC, DENY(EPERM));
#endif
	/* glibc tries clone3 first for threads; ENOSYS sends it to clone. */
#ifdef __NR_clone3
	emit_nr(p, __NR_clone3, DENY(ENOSYS));
#endif
	if (master) {
		for (i = 0; i < sizeof(allow_master) /
		    sizeof(allow_master[0]); i++)
			emit_nr(p, allow_master[i], ALLOW);
		emit_argmask(p, __NR_clone, 0, clone_bad, DENY(EPERM));
		emit_argeq(p, __NR_socketpair, 0, AF_UNIX, DENY(EPERM));
		emit_prctl(p);
	}
	for (i = 0; i < sizeof(deny_net) / sizeof(deny_net[0]); i++)
		emit_nr(p, deny_net[i], DENY(EPERM));
	emit(p, (struct sock_filter)RET(SECCOMP_RET_TRAP));
	return p->overflow ? -1 : 0;
}

int
kp_sandbox_seccomp(int master)
{
	static struct prog	 p;	/* 4 KiB: not on the stack */
	struct sock_fprog	 fp;

	if (build(&p, master) != 0) {
		log_error("msg=\"keyproc: seccomp program too long\"");
		return -1;
	}
	if (no_new_privs() != 0) {
		log_error("msg=\"keyproc: PR_SET_NO_NEW_PRIVS failed\" "
		    "errno=%d", errno);
		return -1;
	}
	fp.len = (unsigned short)p.n;
	fp.filter = p.f;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0) != 0) {
		log_error("msg=\"keyproc: seccomp filter refused\" errno=%d",
		    errno);
		return -1;
	}
	return 0;
}

#else /* !KP_AUDIT_ARCH */

int
kp_sandbox_seccomp(int master)
{
	(void)master;
	log_error("msg=\"keyproc: no seccomp allow-list for this "
	    "architecture\"");
	errno = ENOSYS;
	return -1;
}

#endif
