/* decryptor_sandbox.c — what the decryptor may do once it holds the SOPS keys.
 *
 * The process that holds keys and plaintext never gets a network socket: socket() is not
 * in the table at all (killed), and Landlock denies TCP as a second fence. It reads its
 * key directory (openat read-only, enforced here by flags and by Landlock by path),
 * receives the TREE memfd over SCM_RIGHTS, maps it read-only and checks its seals, and
 * talks to its neighbours on the inherited socketpairs.
 *
 * CHANGES AHEAD: when the decryptor runs gpgme (which spawns gpg/gpg-agent) and the
 * kustomize build, it will need clone (fork, no CLONE_THREAD), execve of those two
 * binaries, pipe2, dup2/dup3, wait4, kill, rt_sigaction, and RLIMIT_NPROC > 1; the
 * execve must then be confined by Landlock EXECUTE on exactly those paths. */
#include "decryptor/decryptor_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>

/* openat flags that would write or create; all must be clear. */
#define DECRYPTOR_OPEN_WRITE_FLAGS                                                                 \
	(O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | (O_TMPFILE & ~O_DIRECTORY))

static const struct sandbox_syscall decryptor_syscalls[] = {
    /* I/O on the socketpairs (fds 3..6) and on key files */
    SANDBOX_ALLOW("read"),	 /* frames from neighbours, key file contents */
    SANDBOX_ALLOW("write"),	 /* frames to neighbours, log lines on stderr */
    SANDBOX_ALLOW("sendmsg"),	 /* frame_write: frames to the syncer and supervisor */
    SANDBOX_ALLOW("recvmsg"),	 /* frame_read: frames, and the TREE memfd via SCM_RIGHTS */
    SANDBOX_ALLOW("recvfrom"),	 /* frame_read: recv() of frame bodies on the socketpairs */
    SANDBOX_ALLOW("dup3"),	 /* EDGE: a fresh socket to a restarted peer onto its fixed fd */
    SANDBOX_ALLOW("sysinfo"),	 /* glibc qsort sizes its merge buffer from physical memory */
    SANDBOX_ALLOW("memfd_create"), /* the plaintext tree handed to the kustomize helper */
    SANDBOX_ALLOW("close"),	 /* received memfds and key files when done */
    SANDBOX_ALLOW("fcntl"),	 /* F_GET_SEALS on the TREE memfd, F_GETFL/F_SETFD */
    SANDBOX_ALLOW("lseek"),	 /* stdio on key files */
    SANDBOX_ALLOW("fstat"),	 /* size of the TREE memfd before mmap, stdio */
    SANDBOX_ALLOW("newfstatat"), /* fstat() in glibc >= 2.33, key directory entries */
    SANDBOX_ALLOW("statx"),	 /* same, newer callers */
    /* key directory: read-only opens only (write/create flags are killed) */
    SANDBOX_ALLOW_MASKED("openat", 2, DECRYPTOR_OPEN_WRITE_FLAGS, O_RDONLY),
    SANDBOX_ALLOW("getdents64"), /* listing the key directory (age identities, GPG home) */
    /* memory */
    SANDBOX_ALLOW("mmap"),     /* malloc, and mapping the TREE memfd PROT_READ */
    SANDBOX_ALLOW("munmap"),   /* unmapping the TREE, free */
    SANDBOX_ALLOW("mprotect"), /* malloc arenas */
    SANDBOX_ALLOW("brk"),      /* malloc */
    SANDBOX_ALLOW("mremap"),   /* realloc of large blocks */
    SANDBOX_ALLOW("madvise"),  /* secbuf MADV_DONTDUMP, free */
    SANDBOX_ALLOW("mlock"),    /* secbuf: plaintext and keys never swapped */
    SANDBOX_ALLOW("munlock"),  /* secbuf_free */
    /* time, waiting, process basics */
    SANDBOX_ALLOW("clock_gettime"),   /* log timestamps, deadlines (vDSO fallback) */
    SANDBOX_ALLOW("gettimeofday"),    /* same, older callers */
    SANDBOX_ALLOW("nanosleep"),	      /* backoff */
    SANDBOX_ALLOW("clock_nanosleep"), /* backoff (glibc nanosleep) */
    SANDBOX_ALLOW("sched_yield"),     /* futex-based locks spinning */
    SANDBOX_ALLOW("futex"),	      /* libc locks (stdio, malloc) */
    SANDBOX_ALLOW("poll"),	      /* waiting on the socketpairs */
    SANDBOX_ALLOW("ppoll"),	      /* same, newer callers */
    SANDBOX_ALLOW("epoll_create1"),   /* libevent loop on the socketpairs */
    SANDBOX_ALLOW("epoll_ctl"),	      /* libevent loop */
    SANDBOX_ALLOW("epoll_wait"),      /* libevent loop */
    SANDBOX_ALLOW("epoll_pwait"),     /* libevent loop (glibc epoll_wait) */
    SANDBOX_ALLOW("getrandom"),	      /* OpenSSL DRBG, age/X25519 ephemeral material */
    SANDBOX_ALLOW("getpid"),	      /* log lines, OpenSSL fork detection */
    SANDBOX_ALLOW("rt_sigprocmask"),  /* libc, blocking signals around critical parts */
    SANDBOX_ALLOW("rt_sigreturn"),    /* return from the SIGTERM handler */
    SANDBOX_ALLOW("restart_syscall"), /* kernel restart after a signal */
    SANDBOX_ALLOW("exit"),	      /* thread exit */
    SANDBOX_ALLOW("exit_group"),      /* process exit */
    /* harmless probes: fail, don't kill */
    SANDBOX_ERRNO("prctl", EPERM),		   /* libraries probing process flags */
    SANDBOX_ERRNO("clone3", ENOSYS),		   /* glibc falls back to clone (killed) */
    SANDBOX_ERRNO_ARG("ioctl", ENOTTY, 1, TCGETS), /* isatty() from stdio */
};

int decryptor_sandbox_enter(const struct sandbox_paths *paths, struct err_ctx *err)
{
	static const struct sandbox_policy policy = {
	    .role = "decryptor",
	    .syscalls = decryptor_syscalls,
	    .nsyscalls = sizeof(decryptor_syscalls) / sizeof(decryptor_syscalls[0]),
	    .rlimit_nofile = 64,	    /* socketpairs, one memfd, a few key files */
	    .rlimit_as = (uint64_t)1 << 30, /* 1 GiB: trees are capped far below */
	    .rlimit_nproc = 1,		    /* no child processes (gpgme will need more) */
	};

	/* nothing writable; Landlock: no TCP bind or connect at all */
	return sandbox_enter_role(&policy, paths, SANDBOX_ROLE_NO_RW | SANDBOX_ROLE_NO_TCP, err);
}
