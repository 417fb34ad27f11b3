/* syncer_sandbox.c — what the syncer may do: HTTPS with libcurl (threaded resolver) to
 * the cloud APIs, SQLite on the store file (syscalls observed with strace on sqlite3
 * creating, journaling (rollback and WAL) and committing), frames on its socketpairs.
 * Which files it may open is Landlock's job (rw = the store's directory); which sockets,
 * the socket() domain filter here plus Landlock's TCP port rules. */
#include "syncer/syncer_sandbox.h"

#include <errno.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* pthread_create's clone: a thread, never a new process or namespace. */
#define SYNCER_CLONE_MASK                                                                          \
	(CLONE_THREAD | CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | \
	 CLONE_NEWUTS | CLONE_NEWCGROUP)

static const struct sandbox_syscall syncer_syscalls[] = {
    /* frames on the socketpairs, HTTP bodies, the store file */
    SANDBOX_ALLOW("read"),	 /* frames, TLS records, SQLite pages */
    SANDBOX_ALLOW("write"),	 /* frames, log lines on stderr */
    SANDBOX_ALLOW("sendmsg"),	 /* frame_write to the watcher/supervisor */
    SANDBOX_ALLOW("recvmsg"),	 /* frame_read of VALUES from the decryptor */
    SANDBOX_ALLOW("dup3"),	 /* EDGE: a fresh socket to a restarted peer onto its fixed fd */
    SANDBOX_ALLOW("sysinfo"),	 /* glibc qsort sizes its merge buffer from physical memory */
    SANDBOX_ALLOW("close"),	 /* sockets, store files */
    SANDBOX_ALLOW("fcntl"),	 /* SQLite F_SETLK/F_GETLK/F_OFD_* locks, O_NONBLOCK (curl) */
    SANDBOX_ALLOW("lseek"),	 /* SQLite, stdio */
    SANDBOX_ALLOW("fstat"),	 /* SQLite file size */
    SANDBOX_ALLOW("newfstatat"), /* SQLite stat of db/journal/WAL, resolver files */
    SANDBOX_ALLOW("statx"),	 /* same, newer callers */
    /* the SQLite store (paths confined by Landlock to the store directory) */
    SANDBOX_ALLOW("openat"),	 /* db, -journal, -wal, -shm (O_CREAT); CA bundle read */
    SANDBOX_ALLOW("pread64"),	 /* SQLite page reads */
    SANDBOX_ALLOW("pwrite64"),	 /* SQLite page and journal writes */
    SANDBOX_ALLOW("fsync"),	 /* SQLite durability */
    SANDBOX_ALLOW("fdatasync"),	 /* SQLite durability (default sync) */
    SANDBOX_ALLOW("ftruncate"),	 /* SQLite truncating the journal/WAL/db */
    SANDBOX_ALLOW("mkdir"),	 /* the local store creating its missing parent directories */
    SANDBOX_ALLOW("mkdirat"),	 /* same through mkdirat callers */
    SANDBOX_ALLOW("unlink"),	 /* SQLite deleting -journal, -wal, -shm */
    SANDBOX_ALLOW("unlinkat"),	 /* same through unlinkat callers */
    SANDBOX_ALLOW("access"),	 /* SQLite checking for a hot journal */
    SANDBOX_ALLOW("faccessat"),	 /* same, *at callers */
    SANDBOX_ALLOW("faccessat2"), /* same, glibc >= 2.33 */
    SANDBOX_ALLOW("getcwd"),	 /* SQLite resolving a relative store path */
    SANDBOX_ALLOW("readlink"),	 /* SQLite resolving a symlinked store path */
    SANDBOX_ALLOW("readlinkat"), /* same, *at callers */
    SANDBOX_ALLOW("fchmod"),	 /* SQLite giving -wal/-shm the db file's mode */
    SANDBOX_ALLOW("geteuid"),	 /* SQLite: fchown only when root (it is not, fchown killed) */
    /* network: HTTPS to the cloud APIs (libcurl + OpenSSL), DNS by glibc */
    SANDBOX_ALLOW_ARG("socket", 0, AF_INET),	 /* TCP to the APIs, UDP to the resolver */
    SANDBOX_ALLOW_ARG("socket", 0, AF_INET6),	 /* same over IPv6; curl's IPv6 probe */
    SANDBOX_ALLOW_ARG("socket", 0, AF_UNIX),	 /* glibc resolver trying nscd */
    SANDBOX_ALLOW_ARG("socketpair", 0, AF_UNIX), /* curl's threaded-resolver wakeup pair */
    SANDBOX_ALLOW("connect"),		     /* TCP connect (ports fenced by Landlock), DNS UDP */
    SANDBOX_ALLOW("getsockopt"),	     /* curl SO_ERROR after a non-blocking connect */
    SANDBOX_ALLOW("setsockopt"),	     /* curl TCP_NODELAY, keepalive */
    SANDBOX_ALLOW("getsockname"),	     /* curl local address info */
    SANDBOX_ALLOW("getpeername"),	     /* curl peer address info */
    SANDBOX_ALLOW("sendto"),		     /* curl send(), DNS queries */
    SANDBOX_ALLOW("recvfrom"),		     /* curl recv(), DNS answers, frame_read recv() */
    SANDBOX_ALLOW("sendmmsg"),		     /* glibc resolver: A + AAAA in one call */
    SANDBOX_ALLOW("shutdown"),		     /* closing TLS connections */
    SANDBOX_ALLOW_ARG("ioctl", 1, FIONREAD), /* glibc resolver sizing a UDP answer */
    SANDBOX_ALLOW("uname"),		     /* glibc resolver (domain name) */
    SANDBOX_ALLOW("rt_sigaction"),	     /* curl ignoring SIGPIPE around each transfer */
    /* threads: libcurl's threaded resolver */
    SANDBOX_ALLOW_MASKED("clone", 0, SYNCER_CLONE_MASK, CLONE_THREAD), /* threads only */
    SANDBOX_ALLOW("set_robust_list"), /* new thread start (glibc) */
    SANDBOX_ALLOW("rseq"),	      /* new thread start (glibc >= 2.35) */
    SANDBOX_ALLOW("futex"),	      /* thread joins, locks */
    /* event loop */
    SANDBOX_ALLOW("poll"),	    /* curl waiting on sockets */
    SANDBOX_ALLOW("ppoll"),	    /* same, newer callers */
    SANDBOX_ALLOW("epoll_create1"), /* libevent loop */
    SANDBOX_ALLOW("epoll_ctl"),	    /* libevent loop */
    SANDBOX_ALLOW("epoll_wait"),    /* libevent loop */
    SANDBOX_ALLOW("epoll_pwait"),   /* libevent loop (glibc epoll_wait) */
    SANDBOX_ALLOW("eventfd2"),	    /* libevent wakeups */
    SANDBOX_ALLOW("pipe2"),	    /* libevent wakeups */
    /* memory */
    SANDBOX_ALLOW("mmap"),     /* malloc, thread stacks, SQLite -shm (WAL) */
    SANDBOX_ALLOW("munmap"),   /* free, thread exit */
    SANDBOX_ALLOW("mprotect"), /* thread stack guards, malloc arenas */
    SANDBOX_ALLOW("brk"),      /* malloc */
    SANDBOX_ALLOW("mremap"),   /* realloc of large blocks, SQLite -shm growth */
    SANDBOX_ALLOW("madvise"),  /* thread stack release, secbuf MADV_DONTDUMP */
    SANDBOX_ALLOW("mlock"),    /* secbuf: plaintext values in transit */
    SANDBOX_ALLOW("munlock"),  /* secbuf_free */
    /* time, process basics */
    SANDBOX_ALLOW("clock_gettime"),   /* timeouts, SigV4 dates, logs (vDSO fallback) */
    SANDBOX_ALLOW("gettimeofday"),    /* same, older callers */
    SANDBOX_ALLOW("nanosleep"),	      /* rate-limit backoff */
    SANDBOX_ALLOW("clock_nanosleep"), /* rate-limit backoff (glibc nanosleep) */
    SANDBOX_ALLOW("sched_yield"),     /* lock spinning */
    SANDBOX_ALLOW("getrandom"),	      /* OpenSSL DRBG, TLS */
    SANDBOX_ALLOW("getpid"),	      /* SQLite, OpenSSL fork detection, logs */
    SANDBOX_ALLOW("rt_sigprocmask"),  /* thread creation, libc */
    SANDBOX_ALLOW("rt_sigreturn"),    /* return from signal handlers */
    SANDBOX_ALLOW("restart_syscall"), /* kernel restart after a signal */
    SANDBOX_ALLOW("exit"),	      /* resolver thread exit */
    SANDBOX_ALLOW("exit_group"),      /* process exit */
    /* harmless probes: fail, don't kill */
    SANDBOX_ERRNO("prctl", EPERM),		   /* libraries probing process flags */
    SANDBOX_ERRNO("clone3", ENOSYS),		   /* glibc falls back to clone (filtered) */
    SANDBOX_ERRNO_ARG("ioctl", ENOTTY, 1, TCGETS), /* isatty() from stdio */
};

int syncer_sandbox_enter(const struct sandbox_paths *paths, struct err_ctx *err)
{
	static const struct sandbox_policy policy = {
	    .role = "syncer",
	    .syscalls = syncer_syscalls,
	    .nsyscalls = sizeof(syncer_syscalls) / sizeof(syncer_syscalls[0]),
	    .rlimit_nofile = 256,	    /* connection pool, store files, socketpairs */
	    .rlimit_as = (uint64_t)2 << 30, /* 2 GiB: resolver thread stacks, TLS, SQLite */
	    .rlimit_nproc = 64,		    /* resolver threads only */
	};

	return sandbox_enter_role(&policy, paths, SANDBOX_ROLE_NETCONF, err);
}
