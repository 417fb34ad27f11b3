/* kustomize_sandbox.c — what the kustomize runner and the kustomize binary it starts may do
 * (see kustomize_sandbox.h). The table is wide enough for a Go binary (threads through
 * clone, signals for goroutine preemption, epoll) plus the runner's own fork/execve/wait4,
 * and no wider: no socket, no namespace creation, no ptrace, no mount, no module or BPF
 * calls; anything not listed kills the process. Syscalls found with
 * `strace -f -c kubectl kustomize` (v5.5.0 in kubectl 1.32) and the runner's own code. */
#include "decryptor/kustomize_sandbox.h"

#include <errno.h>
#include <pwd.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/privdrop.h"
#include "common/sandbox.h"

#define KUSTOMIZE_SANDBOX_UID_BASE 61000u
#define KUSTOMIZE_SANDBOX_PWBUF 4096

/* clone flags that would create namespaces: killed (an unprivileged user namespace is
 * the usual first step of a kernel exploit). */
#define KUSTOMIZE_CLONE_NS_FLAGS                                                                   \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |             \
	 CLONE_NEWPID | CLONE_NEWNET)

static const struct sandbox_syscall kustomize_syscalls[] = {
    /* files: the scratch tree (Landlock limits where), the binary, the request socket */
    SANDBOX_ALLOW("read"),
    SANDBOX_ALLOW("write"),
    SANDBOX_ALLOW("pread64"),
    SANDBOX_ALLOW("pwrite64"),
    SANDBOX_ALLOW("openat"),
    SANDBOX_ALLOW("close"),
    SANDBOX_ALLOW("fstat"),
    SANDBOX_ALLOW("newfstatat"),
    SANDBOX_ALLOW("statx"),
    SANDBOX_ALLOW("statfs"),
    SANDBOX_ALLOW("fstatfs"),
    SANDBOX_ALLOW("lseek"),
    SANDBOX_ALLOW("getdents64"),
    SANDBOX_ALLOW("readlinkat"), /* Go: /proc/self/exe */
    SANDBOX_ALLOW("readlink"),
    SANDBOX_ALLOW("access"),
    SANDBOX_ALLOW("faccessat"),
    SANDBOX_ALLOW("faccessat2"),
    SANDBOX_ALLOW("getcwd"),
    SANDBOX_ALLOW("chdir"),
    SANDBOX_ALLOW("fchdir"),
    SANDBOX_ALLOW("mkdirat"),  /* materialising the tree */
    SANDBOX_ALLOW("mkdir"),    /* glibc mkdir() */
    SANDBOX_ALLOW("rmdir"),    /* the build directory after a build */
    SANDBOX_ALLOW("unlinkat"), /* wiping it */
    SANDBOX_ALLOW("unlink"),
    SANDBOX_ALLOW("fcntl"),
    SANDBOX_ALLOW("dup"),
    SANDBOX_ALLOW("dup2"),
    SANDBOX_ALLOW("dup3"),
    SANDBOX_ALLOW("pipe2"),
    SANDBOX_ALLOW("fsync"),
    SANDBOX_ERRNO_ARG("ioctl", ENOTTY, 1, TCGETS), /* isatty probes */
    SANDBOX_ERRNO("ioctl", ENOTTY),
    /* the request socket: frames and the tree memfd (SCM_RIGHTS) */
    SANDBOX_ALLOW("recvmsg"),
    SANDBOX_ALLOW("sendmsg"),
    SANDBOX_ALLOW("recvfrom"),
    SANDBOX_ALLOW("sendto"),
    /* no network: a socket cannot be made at all (Landlock also denies TCP) */
    SANDBOX_ERRNO("socket", EACCES),
    SANDBOX_ERRNO("connect", EACCES),
    SANDBOX_ERRNO("getsockopt", ENOTSOCK),
    /* memory */
    SANDBOX_ALLOW("mmap"),
    SANDBOX_ALLOW("munmap"),
    SANDBOX_ALLOW("mprotect"),
    SANDBOX_ALLOW("mremap"),
    SANDBOX_ALLOW("madvise"),
    SANDBOX_ALLOW("brk"),
    SANDBOX_ALLOW("mlock"), /* secbuf: the build output is plaintext */
    SANDBOX_ALLOW("munlock"),
    SANDBOX_ALLOW("membarrier"),
    /* threads, signals, time (the Go runtime) */
    SANDBOX_ALLOW_MASKED("clone", 0, KUSTOMIZE_CLONE_NS_FLAGS, 0),
    SANDBOX_ERRNO("clone3", ENOSYS), /* glibc and Go fall back to clone */
    SANDBOX_ALLOW("futex"),
    SANDBOX_ALLOW("set_robust_list"),
    SANDBOX_ALLOW("set_tid_address"),
    SANDBOX_ALLOW("rseq"),
    SANDBOX_ALLOW("arch_prctl"),
    SANDBOX_ALLOW("sigaltstack"),
    SANDBOX_ALLOW("rt_sigaction"),
    SANDBOX_ALLOW("rt_sigprocmask"),
    SANDBOX_ALLOW("rt_sigreturn"),
    SANDBOX_ALLOW("tgkill"), /* goroutine preemption (SIGURG) */
    SANDBOX_ALLOW("tkill"),
    SANDBOX_ALLOW("gettid"),
    SANDBOX_ALLOW("getpid"),
    SANDBOX_ALLOW("getppid"),
    SANDBOX_ALLOW("sched_yield"),
    SANDBOX_ALLOW("sched_getaffinity"),
    SANDBOX_ALLOW("nanosleep"),
    SANDBOX_ALLOW("clock_nanosleep"),
    SANDBOX_ALLOW("clock_gettime"),
    SANDBOX_ALLOW("gettimeofday"),
    SANDBOX_ALLOW("epoll_create1"),
    SANDBOX_ALLOW("epoll_ctl"),
    SANDBOX_ALLOW("epoll_wait"),
    SANDBOX_ALLOW("epoll_pwait"),
    SANDBOX_ALLOW("eventfd2"),
    SANDBOX_ALLOW("poll"),
    SANDBOX_ALLOW("ppoll"),
    SANDBOX_ALLOW("pselect6"),
    SANDBOX_ALLOW("getrandom"),
    SANDBOX_ALLOW("uname"),
    SANDBOX_ALLOW("getuid"),
    SANDBOX_ALLOW("geteuid"),
    SANDBOX_ALLOW("getgid"),
    SANDBOX_ALLOW("getegid"),
    SANDBOX_ALLOW("getrlimit"),
    SANDBOX_ALLOW("prlimit64"), /* lowering CPU/FSIZE for the build (raising needs CAP) */
    SANDBOX_ALLOW("setrlimit"),
    SANDBOX_ALLOW("umask"),
    /* the build: fork, exec the kustomize binary (Landlock: only from the ro paths), wait,
     * kill its process group on a deadline */
    SANDBOX_ALLOW("execve"),
    SANDBOX_ALLOW("setpgid"),
    SANDBOX_ALLOW("wait4"),
    SANDBOX_ALLOW("waitid"),
    SANDBOX_ALLOW("kill"),
    SANDBOX_ALLOW("exit"),
    SANDBOX_ALLOW("exit_group"),
    SANDBOX_ALLOW("restart_syscall"),
    /* harmless probes */
    SANDBOX_ERRNO("prctl", EPERM),
    SANDBOX_ERRNO("sysinfo", EPERM),
};

int kustomize_sandbox_ids(unsigned *uid, unsigned *gid)
{
	char buf[KUSTOMIZE_SANDBOX_PWBUF];
	struct passwd pw, *res = NULL;

	if (uid == NULL || gid == NULL)
		return ERR_INVAL;
	if (getpwnam_r(KUSTOMIZE_SANDBOX_USER, &pw, buf, sizeof(buf), &res) == 0 && res != NULL &&
	    res->pw_uid != 0 && res->pw_gid != 0) {
		*uid = (unsigned)res->pw_uid;
		*gid = (unsigned)res->pw_gid;
		return 0;
	}
	*uid = KUSTOMIZE_SANDBOX_UID_BASE + KUSTOMIZE_SANDBOX_UID_OFFSET;
	*gid = KUSTOMIZE_SANDBOX_UID_BASE + KUSTOMIZE_SANDBOX_UID_OFFSET;
	return 0;
}

int kustomize_sandbox_enter(const char *scratch, const char *const *ro, size_t nro, int keep_fd,
			    struct err_ctx *err)
{
	static const struct sandbox_policy policy = {
	    .role = "kustomize",
	    .syscalls = kustomize_syscalls,
	    .nsyscalls = sizeof(kustomize_syscalls) / sizeof(kustomize_syscalls[0]),
	    .rlimit_nofile = KUSTOMIZE_SANDBOX_NOFILE,
	    .rlimit_as = KUSTOMIZE_SANDBOX_AS,
	    .rlimit_nproc = 0, /* set here after our own drop (sandbox_enter skips it) */
	};
	struct sandbox_paths p;
	unsigned uid, gid;
	int rc;

	if (scratch == NULL || nro > KUSTOMIZE_SANDBOX_MAX_RO || (nro > 0 && ro == NULL))
		return err_set(err, ERR_INVAL, "kustomize sandbox: bad arguments");
	memset(&p, 0, sizeof(p));
	p.no_tcp = 1;
	if ((rc = sandbox_paths_add_rw(&p, scratch)) != 0 ||
	    (keep_fd >= 0 && (rc = sandbox_paths_keep_fd(&p, keep_fd)) != 0))
		return err_set(err, rc, "kustomize sandbox: paths: %s", err_str(rc));
	for (size_t i = 0; i < nro; i++) {
		if ((rc = sandbox_paths_add_ro(&p, ro[i])) != 0)
			return err_set(err, rc, "kustomize sandbox: paths: %s", err_str(rc));
	}
	if (geteuid() == 0 || getuid() == 0) {
		struct rlimit rl = {KUSTOMIZE_SANDBOX_NPROC, KUSTOMIZE_SANDBOX_NPROC};

		if ((rc = kustomize_sandbox_ids(&uid, &gid)) != 0 ||
		    (rc = privdrop_to(uid, gid, err)) != 0)
			return err_wrap(err, rc != 0 ? rc : ERR_PERM, "sandbox kustomize");
		if (setrlimit(RLIMIT_NPROC, &rl) != 0)
			return err_set(err, ERR_IO, "sandbox kustomize: rlimit nproc: %s",
				       strerror(errno));
	}
	return sandbox_enter(&policy, &p, err);
}
