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
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "common/sandbox.h"

static const struct sandbox_syscall pgp_agent_syscalls[] = {
    /* I/O: the socketpair, files in the home, pipes to gpg, the agent's socket */
    SANDBOX_ALLOW("read"),	  /* frames, pipes from gpg, files */
    SANDBOX_ALLOW("write"),	  /* frames, pipes to gpg, files */
    SANDBOX_ALLOW("readv"),	  /* assuan I/O */
    SANDBOX_ALLOW("writev"),	  /* assuan I/O */
    SANDBOX_ALLOW("pread64"),	  /* ld.so, gpg keybox */
    SANDBOX_ALLOW("pwrite64"),	  /* keybox updates */
    SANDBOX_ALLOW("sendmsg"),	  /* frame_write; assuan fd passing */
    SANDBOX_ALLOW("recvmsg"),	  /* frame_read */
    SANDBOX_ALLOW("sendto"),	  /* send() on sockets */
    SANDBOX_ALLOW("recvfrom"),	  /* recv() on sockets */
    SANDBOX_ALLOW("close"),	  /* pipes, files, sockets */
    SANDBOX_ALLOW("close_range"), /* closing inherited fds before exec */
    SANDBOX_ALLOW("dup"),	  /* gpgme spawn */
    SANDBOX_ALLOW("dup2"),	  /* gpgme spawn: pipes onto fds */
    SANDBOX_ALLOW("dup3"),	  /* same, newer callers */
    SANDBOX_ALLOW("pipe"),	  /* gpgme spawn (older callers) */
    SANDBOX_ALLOW("pipe2"),	  /* gpgme ↔ gpg status/data pipes */
    SANDBOX_ALLOW("fcntl"),	  /* FD_CLOEXEC, O_NONBLOCK, locks */
    SANDBOX_ALLOW("lseek"),	  /* keybox, stdio */
    SANDBOX_ALLOW("fstat"),	  /* stdio, keybox */
    SANDBOX_ALLOW("newfstatat"),  /* stat() in glibc >= 2.33 */
    SANDBOX_ALLOW("statx"),	  /* same, newer callers */
    SANDBOX_ALLOW("statfs"),	  /* gnupg homedir checks */
    SANDBOX_ALLOW("fstatfs"),	  /* same */
    SANDBOX_ALLOW("access"),	  /* gpgme locating gpg, gpg its config */
    SANDBOX_ALLOW("faccessat"),	  /* same */
    SANDBOX_ALLOW("faccessat2"),  /* same, newer glibc */
    SANDBOX_ALLOW("open"),	  /* older callers */
    SANDBOX_ALLOW("openat"),	  /* paths are fenced by Landlock */
    SANDBOX_ALLOW("getdents64"),  /* /proc/self/fd walks (denied by Landlock: fallback) */
    SANDBOX_ALLOW("readlink"),	  /* /proc/self/exe lookups */
    SANDBOX_ALLOW("readlinkat"),  /* same */
    SANDBOX_ALLOW("getcwd"),	  /* gnupg path handling */
    SANDBOX_ALLOW("chdir"),	  /* gpg-agent --daemon: chdir("/") */
    SANDBOX_ALLOW("fchdir"),	  /* gpg-agent daemon */
    SANDBOX_ALLOW("ftruncate"),	  /* keybox and trustdb writes */
    SANDBOX_ALLOW("fsync"),	  /* keybox and trustdb writes */
    SANDBOX_ALLOW("fdatasync"),	  /* same */
    SANDBOX_ALLOW("fadvise64"),	  /* gpg reading its input */
    /* the home: lock files (link/unlink), renames of new keyrings, private-keys-v1.d */
    SANDBOX_ALLOW("link"),		/* dotlock: lock files in the home */
    SANDBOX_ALLOW("linkat"),		/* same */
    SANDBOX_ALLOW("unlink"),		/* lock files, sockets */
    SANDBOX_ALLOW("unlinkat"),		/* same, and removing homes */
    SANDBOX_ALLOW("rename"),		/* new keybox replacing the old */
    SANDBOX_ALLOW("renameat"),		/* same */
    SANDBOX_ALLOW("renameat2"),		/* same */
    SANDBOX_ALLOW("mkdir"),		/* private-keys-v1.d, homes */
    SANDBOX_ALLOW("mkdirat"),		/* same */
    SANDBOX_ALLOW("rmdir"),		/* removing homes */
    SANDBOX_ALLOW("chmod"),		/* homedir and socket modes */
    SANDBOX_ALLOW("fchmod"),		/* same */
    SANDBOX_ALLOW("fchmodat"),		/* same */
    SANDBOX_ALLOW("umask"),		/* gpg, gpg-agent */
    SANDBOX_ALLOW("utimensat"),		/* keybox timestamps */
    SANDBOX_ALLOW("inotify_init"),	/* gpg-agent watches its home */
    SANDBOX_ALLOW("inotify_init1"),	/* same, newer callers */
    SANDBOX_ALLOW("inotify_add_watch"), /* same */
    SANDBOX_ALLOW("inotify_rm_watch"),	/* same */
    /* gpg ↔ gpg-agent: AF_UNIX only; an IP socket cannot be created (killed) */
    SANDBOX_ALLOW_ARG("socket", 0, AF_UNIX), SANDBOX_ALLOW_ARG("socketpair", 0, AF_UNIX),
    SANDBOX_ALLOW("connect"),	  /* gpg → gpg-agent socket */
    SANDBOX_ALLOW("bind"),	  /* gpg-agent's sockets in the home */
    SANDBOX_ALLOW("listen"),	  /* same */
    SANDBOX_ALLOW("accept"),	  /* same */
    SANDBOX_ALLOW("accept4"),	  /* same */
    SANDBOX_ALLOW("getsockopt"),  /* SO_PEERCRED on the agent socket */
    SANDBOX_ALLOW("setsockopt"),  /* socket options of the agent */
    SANDBOX_ALLOW("getsockname"), /* assuan */
    SANDBOX_ALLOW("getpeername"), /* assuan */
    SANDBOX_ALLOW("shutdown"),	  /* assuan close */
    /* processes: gpgme runs gpg and gpgconf; gpg starts gpg-agent, a threaded daemon */
    SANDBOX_ALLOW("execve"),		/* gpgconf, gpg, gpg-agent (Landlock: /usr only) */
    SANDBOX_ALLOW("clone"),		/* fork of gpgme and gpg */
    SANDBOX_ALLOW("clone3"),		/* glibc fork, npth threads */
    SANDBOX_ALLOW("vfork"),		/* posix_spawn */
    SANDBOX_ALLOW("wait4"),		/* gpgme waits for gpg; reaping adopted agents */
    SANDBOX_ALLOW("waitid"),		/* same, other callers */
    SANDBOX_ALLOW("kill"),		/* gpgme/npth signalling own children; Landlock scopes it */
    SANDBOX_ALLOW("tgkill"),		/* raise() / npth */
    SANDBOX_ALLOW("setsid"),		/* gpg-agent --daemon */
    SANDBOX_ALLOW("getpid"),		/* assuan, logging */
    SANDBOX_ALLOW("getppid"),		/* gpg-agent daemon */
    SANDBOX_ALLOW("gettid"),		/* npth */
    SANDBOX_ALLOW("getuid"),		/* homedir ownership checks */
    SANDBOX_ALLOW("geteuid"),		/* same */
    SANDBOX_ALLOW("getgid"),		/* same */
    SANDBOX_ALLOW("getegid"),		/* same */
    SANDBOX_ALLOW("getpgrp"),		/* gpg-agent daemon */
    SANDBOX_ALLOW("getrusage"),		/* libgcrypt entropy gathering */
    SANDBOX_ALLOW("prlimit64"),		/* getrlimit (fd ceiling for closing), gpg-agent */
    SANDBOX_ALLOW("getrlimit"),		/* same, older callers */
    SANDBOX_ALLOW("uname"),		/* gpg --version, libgcrypt */
    SANDBOX_ALLOW("sysinfo"),		/* glibc qsort sizing */
    SANDBOX_ALLOW("sched_getaffinity"), /* npth / libgcrypt */
    SANDBOX_ALLOW("sched_yield"),	/* npth */
    SANDBOX_ALLOW("arch_prctl"),	/* ld.so: TLS of every executed program */
    SANDBOX_ALLOW("set_tid_address"),	/* every new process (ld.so) */
    SANDBOX_ALLOW("set_robust_list"),	/* every new thread */
    SANDBOX_ALLOW("rseq"),		/* every new thread (glibc) */
    SANDBOX_ALLOW_ARG("prctl", 0, PR_SET_DUMPABLE), /* gpg-agent: not dumpable */
    SANDBOX_ALLOW("rt_sigaction"),		    /* gpgme, gpg, gpg-agent handlers */
    SANDBOX_ALLOW("rt_sigprocmask"),		    /* spawn, npth */
    SANDBOX_ALLOW("rt_sigreturn"),		    /* return from handlers */
    SANDBOX_ALLOW("sigaltstack"),		    /* libgcrypt */
    SANDBOX_ALLOW("restart_syscall"),		    /* after a signal */
    SANDBOX_ALLOW("exit"),			    /* thread exit */
    SANDBOX_ALLOW("exit_group"),		    /* process exit */
    /* memory: secure memory of libgcrypt and our secbufs are locked */
    SANDBOX_ALLOW("mmap"),	/* malloc, ld.so */
    SANDBOX_ALLOW("munmap"),	/* free */
    SANDBOX_ALLOW("mprotect"),	/* ld.so, malloc */
    SANDBOX_ALLOW("mremap"),	/* realloc */
    SANDBOX_ALLOW("brk"),	/* malloc */
    SANDBOX_ALLOW("madvise"),	/* secbuf MADV_DONTDUMP, free */
    SANDBOX_ALLOW("mlock"),	/* secbuf and libgcrypt secure memory */
    SANDBOX_ALLOW("munlock"),	/* same */
    SANDBOX_ALLOW("getrandom"), /* libgcrypt, OpenSSL */
    /* time and waiting */
    SANDBOX_ALLOW("clock_gettime"),   /* timestamps (vDSO fallback) */
    SANDBOX_ALLOW("gettimeofday"),    /* same */
    SANDBOX_ALLOW("time"),	      /* same */
    SANDBOX_ALLOW("nanosleep"),	      /* cleanup waits */
    SANDBOX_ALLOW("clock_nanosleep"), /* same (glibc) */
    SANDBOX_ALLOW("futex"),	      /* libc locks, npth */
    SANDBOX_ALLOW("poll"),	      /* reply waits, gpgme I/O */
    SANDBOX_ALLOW("ppoll"),	      /* same */
    SANDBOX_ALLOW("select"),	      /* gpgme I/O */
    SANDBOX_ALLOW("pselect6"),	      /* gpg-agent's main loop (npth) */
    /* harmless probes: fail, don't kill */
    SANDBOX_ERRNO_ARG("ioctl", ENOTTY, 1, TCGETS), /* isatty() */
};

/* The janitor: waits for the server, then walks and removes the home root (nftw). */
static const struct sandbox_syscall pgp_agent_janitor_syscalls[] = {
    SANDBOX_ALLOW("wait4"),				    /* waitpid(server) */
    SANDBOX_ALLOW_MASKED("openat", 2, O_ACCMODE, O_RDONLY), /* nftw: directories, read-only */
    SANDBOX_ALLOW("getdents64"),			    /* nftw: directory entries */
    SANDBOX_ALLOW("newfstatat"),			    /* nftw: lstat of each entry */
    SANDBOX_ALLOW("fstat"),				    /* same, older callers */
    SANDBOX_ALLOW("statx"),				    /* same, newer callers */
    SANDBOX_ALLOW("fcntl"),				    /* opendir: FD_CLOEXEC */
    SANDBOX_ALLOW("unlink"),				    /* files and sockets left in the home */
    SANDBOX_ALLOW("unlinkat"),				    /* same */
    SANDBOX_ALLOW("rmdir"),				    /* the homes and the root itself */
    SANDBOX_ALLOW("close"),				    /* nftw's directory fds */
    SANDBOX_ALLOW("brk"),				    /* nftw's allocations */
    SANDBOX_ALLOW("mmap"),				    /* same */
    SANDBOX_ALLOW("munmap"),				    /* same */
    SANDBOX_ALLOW("nanosleep"),	      /* retries while a gpg-agent removes its sockets */
    SANDBOX_ALLOW("clock_nanosleep"), /* same (glibc) */
    SANDBOX_ALLOW("rt_sigreturn"),    /* signals (ignored or default) */
    SANDBOX_ALLOW("restart_syscall"), /* wait4 restarted after a signal */
    SANDBOX_ALLOW("exit_group"),      /* done */
};

int pgp_agent_sandbox_enter_janitor(const char *parent, int sock, struct err_ctx *err)
{
	static const struct sandbox_policy policy = {
	    .role = PGP_AGENT_SANDBOX_ROLE,
	    .syscalls = pgp_agent_janitor_syscalls,
	    .nsyscalls = sizeof(pgp_agent_janitor_syscalls) / sizeof(pgp_agent_janitor_syscalls[0]),
	    .rlimit_nofile = 32,	      /* nftw depth */
	    .rlimit_as = (uint64_t)256 << 20, /* it allocates almost nothing */
	    .rlimit_nproc = 0,
	};
	struct sandbox_paths p;
	int rc;

	if (parent == NULL || parent[0] != '/' || sock < 3)
		return err_set(err, ERR_INVAL, "pgp agent janitor sandbox: bad arguments");
	memset(&p, 0, sizeof(p));
	if ((rc = sandbox_paths_add_rw(&p, parent)) != 0 ||
	    (rc = sandbox_paths_keep_fd(&p, sock)) != 0)
		return err_set(err, rc, "pgp agent janitor sandbox: path set");
	p.no_tcp = 1;
	return sandbox_enter(&policy, &p, err);
}

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
	    .rlimit_nproc = 256,	    /* gpg, gpgconf, a gpg-agent (+threads) per home */
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
