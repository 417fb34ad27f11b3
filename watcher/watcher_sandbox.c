/* watcher_sandbox.c — what the watcher may do: read its config and token (read-only
 * opens, by flag filter here and by path with Landlock), HTTPS to the Kubernetes API with
 * libcurl (threaded resolver) inside a libevent loop, frames on its socketpairs. Syscalls
 * observed with strace on libcurl fetching from a loopback HTTP server by host name. */
#include "watcher/watcher_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* openat flags that would write or create; all must be clear. */
#define WATCHER_OPEN_WRITE_FLAGS                                                                   \
	(O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | (O_TMPFILE & ~O_DIRECTORY))
/* pthread_create's clone: a thread, never a new process or namespace. */
#define WATCHER_CLONE_MASK                                                                         \
	(CLONE_THREAD | CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | \
	 CLONE_NEWUTS | CLONE_NEWCGROUP)

static const struct sandbox_syscall watcher_syscalls[] = {
    /* frames on the socketpairs, HTTP bodies, config files */
    SANDBOX_ALLOW("read"),	 /* frames, TLS records, config and token files */
    SANDBOX_ALLOW("write"),	 /* frames, log lines on stderr, libevent wakeups */
    SANDBOX_ALLOW("sendmsg"),	 /* frame_write of JOBs to the fetcher */
    SANDBOX_ALLOW("recvmsg"),	 /* frame_read of RESULTs */
    SANDBOX_ALLOW("dup3"),	 /* EDGE: a fresh socket to a restarted peer onto its fixed fd */
    SANDBOX_ALLOW("sysinfo"),	 /* glibc qsort sizes its merge buffer from physical memory */
    SANDBOX_ALLOW("close"),	 /* sockets, files */
    SANDBOX_ALLOW("fcntl"),	 /* O_NONBLOCK on sockets (curl, libevent), FD_CLOEXEC */
    SANDBOX_ALLOW("lseek"),	 /* stdio on config files */
    SANDBOX_ALLOW("fstat"),	 /* stdio, token file size */
    SANDBOX_ALLOW("newfstatat"), /* token rotation check, resolver files */
    SANDBOX_ALLOW("statx"),	 /* same, newer callers */
    /* config, token, CA bundle: read-only opens only (write/create flags are killed) */
    SANDBOX_ALLOW_MASKED("openat", 2, WATCHER_OPEN_WRITE_FLAGS, O_RDONLY),
    /* network: HTTPS to the API server (libcurl + OpenSSL), DNS by glibc */
    SANDBOX_ALLOW_ARG("socket", 0, AF_INET),	 /* TCP to the API, UDP to the resolver */
    SANDBOX_ALLOW_ARG("socket", 0, AF_INET6),	 /* same over IPv6; curl's IPv6 probe */
    SANDBOX_ALLOW_ARG("socket", 0, AF_UNIX),	 /* glibc resolver trying nscd */
    SANDBOX_ALLOW_ARG("socketpair", 0, AF_UNIX), /* curl's threaded-resolver wakeup pair */
    SANDBOX_ALLOW("connect"),		     /* TCP connect (ports fenced by Landlock), DNS UDP */
    SANDBOX_ALLOW("getsockopt"),	     /* curl SO_ERROR after a non-blocking connect */
    SANDBOX_ALLOW("setsockopt"),	     /* curl TCP_NODELAY, keepalive on watch streams */
    SANDBOX_ALLOW("getsockname"),	     /* curl local address info */
    SANDBOX_ALLOW("getpeername"),	     /* curl peer address info */
    SANDBOX_ALLOW("sendto"),		     /* curl send(), DNS queries */
    SANDBOX_ALLOW("recvfrom"),		     /* curl recv(), DNS answers, frame_read recv() */
    SANDBOX_ALLOW("sendmmsg"),		     /* glibc resolver: A + AAAA in one call */
    SANDBOX_ALLOW("shutdown"),		     /* closing watch connections */
    SANDBOX_ALLOW_ARG("ioctl", 1, FIONREAD), /* glibc resolver sizing a UDP answer */
    SANDBOX_ALLOW("uname"),		     /* glibc resolver (domain name) */
    SANDBOX_ALLOW("rt_sigaction"),	     /* curl ignoring SIGPIPE around each transfer */
    /* threads: libcurl's threaded resolver */
    SANDBOX_ALLOW_MASKED("clone", 0, WATCHER_CLONE_MASK, CLONE_THREAD), /* threads only */
    SANDBOX_ALLOW("set_robust_list"), /* new thread start (glibc) */
    SANDBOX_ALLOW("rseq"),	      /* new thread start (glibc >= 2.35) */
    SANDBOX_ALLOW("futex"),	      /* thread joins, locks */
    /* event loop: informers, work queue, timers */
    SANDBOX_ALLOW("poll"),	    /* curl waiting on sockets */
    SANDBOX_ALLOW("ppoll"),	    /* same, newer callers */
    SANDBOX_ALLOW("epoll_create1"), /* libevent loop */
    SANDBOX_ALLOW("epoll_ctl"),	    /* libevent loop, curl multi socket callbacks */
    SANDBOX_ALLOW("epoll_wait"),    /* libevent loop */
    SANDBOX_ALLOW("epoll_pwait"),   /* libevent loop (glibc epoll_wait) */
    SANDBOX_ALLOW("eventfd2"),	    /* libevent wakeups */
    SANDBOX_ALLOW("pipe2"),	    /* libevent wakeups */
    /* memory */
    SANDBOX_ALLOW("mmap"),     /* malloc, thread stacks */
    SANDBOX_ALLOW("munmap"),   /* free, thread exit */
    SANDBOX_ALLOW("mprotect"), /* thread stack guards, malloc arenas */
    SANDBOX_ALLOW("brk"),      /* malloc */
    SANDBOX_ALLOW("mremap"),   /* realloc of large watch bodies */
    SANDBOX_ALLOW("madvise"),  /* thread stack release at exit, secbuf */
    SANDBOX_ALLOW("mlock"),    /* secbuf: the kube token */
    SANDBOX_ALLOW("munlock"),  /* secbuf_free */
    /* time, process basics */
    SANDBOX_ALLOW("clock_gettime"),   /* requeue timers, leases, logs (vDSO fallback) */
    SANDBOX_ALLOW("gettimeofday"),    /* same, older callers */
    SANDBOX_ALLOW("nanosleep"),	      /* backoff */
    SANDBOX_ALLOW("clock_nanosleep"), /* backoff (glibc nanosleep) */
    SANDBOX_ALLOW("sched_yield"),     /* lock spinning */
    SANDBOX_ALLOW("getrandom"),	      /* OpenSSL DRBG, TLS, jittered backoff */
    SANDBOX_ALLOW("getpid"),	      /* OpenSSL fork detection, logs */
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

int watcher_sandbox_enter(const struct sandbox_paths *paths, struct err_ctx *err)
{
	static const struct sandbox_policy policy = {
	    .role = "watcher",
	    .syscalls = watcher_syscalls,
	    .nsyscalls = sizeof(watcher_syscalls) / sizeof(watcher_syscalls[0]),
	    .rlimit_nofile = 256,	    /* watch streams, socketpairs */
	    .rlimit_as = (uint64_t)2 << 30, /* 2 GiB: resolver thread stacks, TLS, caches */
	    .rlimit_nproc = 64,		    /* resolver threads only */
	};

	/* the watcher writes no file; it is a TLS + DNS client */
	return sandbox_enter_role(&policy, paths, SANDBOX_ROLE_NO_RW | SANDBOX_ROLE_NETCONF, err);
}
