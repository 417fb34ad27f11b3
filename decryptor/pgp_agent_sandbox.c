/* pgp_agent_sandbox.c — what the PGP helper (and the gpg / gpg-agent it runs, which
 * inherit this filter across execve) may do. Listed from `strace -f` of gpgme importing
 * keys and decrypting SOPS data keys in a fresh home, GnuPG 2.2 / gpgme 1.18 / glibc 2.36.
 *
 * The fences, from the outside in:
 *   - Landlock: read+execute /usr, /lib, /lib64, /bin, /sbin (usr-merged links) and
 *     /etc/ld.so.cache; read-write the private GNUPGHOME root and /dev/null; nothing else
 *     (not the key directory, not /etc/gnupg, not /proc); no TCP bind or connect at all.
 *   - seccomp: socket() only for AF_UNIX (gpg ↔ gpg-agent), so no IP socket can even
 *     be created; no ptrace, no mount, no namespaces, no module or bpf calls.
 *   - rlimits: no core, 64 fds, 1 GiB address space, a few processes (gpg, gpg-agent,
 *     gpgconf) when running under the role's own uid.
 * The helper ignores keyboard signals; it lives exactly as long as its socketpair. */
#include "decryptor/pgp_agent_sandbox.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "common/sandbox.h"

static const struct sandbox_syscall pgp_agent_syscalls[] = {
    /* I/O: the socketpair, files in the home, pipes to gpg, the agent's socket */
    SANDBOX_ALLOW("read"),
    SANDBOX_ALLOW("write"),
    SANDBOX_ALLOW("readv"),
    SANDBOX_ALLOW("writev"),
    SANDBOX_ALLOW("pread64"),	/* ld.so, gpg keybox */
    SANDBOX_ALLOW("pwrite64"),	/* keybox updates */
    SANDBOX_ALLOW("sendmsg"),	/* frame_write; assuan fd passing */
    SANDBOX_ALLOW("recvmsg"),	/* frame_read */
    SANDBOX_ALLOW("sendto"),	/* send() on sockets */
    SANDBOX_ALLOW("recvfrom"),	/* recv() on sockets */
    SANDBOX_ALLOW("close"),
    SANDBOX_ALLOW("close_range"), /* closing inherited fds before exec */
    SANDBOX_ALLOW("dup"),
    SANDBOX_ALLOW("dup2"),
    SANDBOX_ALLOW("dup3"),
    SANDBOX_ALLOW("pipe"),
    SANDBOX_ALLOW("pipe2"),	/* gpgme ↔ gpg status/data pipes */
    SANDBOX_ALLOW("fcntl"),
    SANDBOX_ALLOW("lseek"),
    SANDBOX_ALLOW("fstat"),
    SANDBOX_ALLOW("newfstatat"),
    SANDBOX_ALLOW("statx"),
    SANDBOX_ALLOW("statfs"),
    SANDBOX_ALLOW("fstatfs"),
    SANDBOX_ALLOW("access"),
    SANDBOX_ALLOW("faccessat"),
    SANDBOX_ALLOW("faccessat2"),
    SANDBOX_ALLOW("open"),
    SANDBOX_ALLOW("openat"),	/* paths are fenced by Landlock */
    SANDBOX_ALLOW("getdents64"), /* /proc/self/fd walks (denied by Landlock: fallback) */
    SANDBOX_ALLOW("readlink"),
    SANDBOX_ALLOW("readlinkat"),
    SANDBOX_ALLOW("getcwd"),
    SANDBOX_ALLOW("chdir"),	/* gpg-agent --daemon: chdir("/") */
    SANDBOX_ALLOW("fchdir"),
    SANDBOX_ALLOW("ftruncate"),	/* keybox and trustdb writes */
    SANDBOX_ALLOW("fsync"),
    SANDBOX_ALLOW("fdatasync"),
    SANDBOX_ALLOW("fadvise64"),
    /* the home: lock files (link/unlink), renames of new keyrings, private-keys-v1.d */
    SANDBOX_ALLOW("link"),
    SANDBOX_ALLOW("linkat"),
    SANDBOX_ALLOW("unlink"),
    SANDBOX_ALLOW("unlinkat"),
    SANDBOX_ALLOW("rename"),
    SANDBOX_ALLOW("renameat"),
    SANDBOX_ALLOW("renameat2"),
    SANDBOX_ALLOW("mkdir"),
    SANDBOX_ALLOW("mkdirat"),
    SANDBOX_ALLOW("rmdir"),
    SANDBOX_ALLOW("chmod"),
    SANDBOX_ALLOW("fchmod"),
    SANDBOX_ALLOW("fchmodat"),
    SANDBOX_ALLOW("umask"),
    SANDBOX_ALLOW("utimensat"),
    SANDBOX_ALLOW("inotify_init"),  /* gpg-agent watches its home */
    SANDBOX_ALLOW("inotify_init1"),
    SANDBOX_ALLOW("inotify_add_watch"),
    SANDBOX_ALLOW("inotify_rm_watch"),
    /* gpg ↔ gpg-agent: AF_UNIX only; an IP socket cannot be created (killed) */
    SANDBOX_ALLOW_ARG("socket", 0, AF_UNIX),
    SANDBOX_ALLOW_ARG("socketpair", 0, AF_UNIX),
    SANDBOX_ALLOW("connect"),
    SANDBOX_ALLOW("bind"),
    SANDBOX_ALLOW("listen"),
    SANDBOX_ALLOW("accept"),
    SANDBOX_ALLOW("accept4"),
    SANDBOX_ALLOW("getsockopt"),  /* SO_PEERCRED on the agent socket */
    SANDBOX_ALLOW("setsockopt"),
    SANDBOX_ALLOW("getsockname"),
    SANDBOX_ALLOW("getpeername"),
    SANDBOX_ALLOW("shutdown"),
    /* processes: gpgme runs gpg and gpgconf; gpg starts gpg-agent, a threaded daemon */
    SANDBOX_ALLOW("execve"),
    SANDBOX_ALLOW("clone"),
    SANDBOX_ALLOW("clone3"),
    SANDBOX_ALLOW("vfork"),
    SANDBOX_ALLOW("wait4"),
    SANDBOX_ALLOW("waitid"),
    SANDBOX_ALLOW("kill"),	  /* gpgme/npth signalling own children; Landlock scopes it */
    SANDBOX_ALLOW("tgkill"),
    SANDBOX_ALLOW("setsid"),	  /* gpg-agent --daemon */
    SANDBOX_ALLOW("getpid"),
    SANDBOX_ALLOW("getppid"),
    SANDBOX_ALLOW("gettid"),
    SANDBOX_ALLOW("getuid"),
    SANDBOX_ALLOW("geteuid"),
    SANDBOX_ALLOW("getgid"),
    SANDBOX_ALLOW("getegid"),
    SANDBOX_ALLOW("getpgrp"),
    SANDBOX_ALLOW("getrusage"),	  /* libgcrypt entropy gathering */
    SANDBOX_ALLOW("prlimit64"),	  /* getrlimit (fd ceiling for closing), gpg-agent */
    SANDBOX_ALLOW("getrlimit"),
    SANDBOX_ALLOW("uname"),
    SANDBOX_ALLOW("sysinfo"),
    SANDBOX_ALLOW("sched_getaffinity"),
    SANDBOX_ALLOW("sched_yield"),
    SANDBOX_ALLOW("arch_prctl"),     /* ld.so: TLS of every executed program */
    SANDBOX_ALLOW("set_tid_address"),
    SANDBOX_ALLOW("set_robust_list"),
    SANDBOX_ALLOW("rseq"),
    SANDBOX_ALLOW_ARG("prctl", 0, PR_SET_DUMPABLE), /* gpg-agent: not dumpable */
    SANDBOX_ALLOW("rt_sigaction"),
    SANDBOX_ALLOW("rt_sigprocmask"),
    SANDBOX_ALLOW("rt_sigreturn"),
    SANDBOX_ALLOW("sigaltstack"),
    SANDBOX_ALLOW("restart_syscall"),
    SANDBOX_ALLOW("exit"),
    SANDBOX_ALLOW("exit_group"),
    /* memory: secure memory of libgcrypt and our secbufs are locked */
    SANDBOX_ALLOW("mmap"),
    SANDBOX_ALLOW("munmap"),
    SANDBOX_ALLOW("mprotect"),
    SANDBOX_ALLOW("mremap"),
    SANDBOX_ALLOW("brk"),
    SANDBOX_ALLOW("madvise"),
    SANDBOX_ALLOW("mlock"),
    SANDBOX_ALLOW("munlock"),
    SANDBOX_ALLOW("getrandom"),
    /* time and waiting */
    SANDBOX_ALLOW("clock_gettime"),
    SANDBOX_ALLOW("gettimeofday"),
    SANDBOX_ALLOW("time"),
    SANDBOX_ALLOW("nanosleep"),
    SANDBOX_ALLOW("clock_nanosleep"),
    SANDBOX_ALLOW("futex"),
    SANDBOX_ALLOW("poll"),
    SANDBOX_ALLOW("ppoll"),
    SANDBOX_ALLOW("select"),
    SANDBOX_ALLOW("pselect6"),	     /* gpg-agent's main loop (npth) */
    /* harmless probes: fail, don't kill */
    SANDBOX_ERRNO_ARG("ioctl", ENOTTY, 1, TCGETS), /* isatty() */
};

int pgp_agent_sandbox_ids(unsigned *uid, unsigned *gid)
{
	return sandbox_role_ids(PGP_AGENT_SANDBOX_ROLE, uid, gid);
}

/* System directories gpg, gpg-agent and gpgconf are executed from and link against. */
static const char *const pgp_agent_system_paths[] = {
    "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc/ld.so.cache",
};

int pgp_agent_sandbox_enter(const char *home, int sock, struct err_ctx *err)
{
	static const struct sandbox_policy policy = {
	    .role = PGP_AGENT_SANDBOX_ROLE,
	    .syscalls = pgp_agent_syscalls,
	    .nsyscalls = sizeof(pgp_agent_syscalls) / sizeof(pgp_agent_syscalls[0]),
	    .rlimit_nofile = 64,	    /* gpgme pipes, the agent socket, keybox files */
	    .rlimit_as = (uint64_t)1 << 30, /* 1 GiB per process (gpg, gpg-agent) */
	    .rlimit_nproc = 256,		    /* gpg, gpgconf, a gpg-agent (+threads) per home */
	};
	struct sandbox_paths p;
	struct stat st;
	size_t i;
	int rc;

	if (home == NULL || home[0] != '/' || sock < 3)
		return err_set(err, ERR_INVAL, "pgp agent sandbox: bad arguments");
	memset(&p, 0, sizeof(p));
	for (i = 0; i < sizeof(pgp_agent_system_paths) / sizeof(pgp_agent_system_paths[0]); i++) {
		if (stat(pgp_agent_system_paths[i], &st) != 0)
			continue; /* e.g. no /lib64 on this architecture */
		if ((rc = sandbox_paths_add_ro(&p, pgp_agent_system_paths[i])) != 0)
			return err_set(err, rc, "pgp agent sandbox: too many paths");
	}
	if ((rc = sandbox_paths_add_rw(&p, home)) != 0 ||
	    (rc = sandbox_paths_add_rw(&p, "/dev/null")) != 0 ||
	    (rc = sandbox_paths_keep_fd(&p, sock)) != 0)
		return err_set(err, rc, "pgp agent sandbox: path set");
	p.no_tcp = 1;
	return sandbox_enter(&policy, &p, err);
}
