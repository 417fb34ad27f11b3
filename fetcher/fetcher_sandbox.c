/* fetcher_sandbox.c — what the fetcher may do: walk a source directory (openat/openat2,
 * getdents64, fstat), fetch with libgit2 (file://, http(s)://, git://) into its scratch
 * directory, download artifacts with libcurl, and build the TREE memfd (memfd_create,
 * ftruncate, F_ADD_SEALS). Syscalls observed with strace on libgit2 cloning a file://
 * repository and libcurl fetching from a loopback server by host name. Which files it
 * may touch is Landlock's job (ro = sources, rw = scratch); which sockets, the socket()
 * domain filter here plus Landlock's TCP port rules. */
#include "fetcher/fetcher_sandbox.h"

#include <errno.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* pthread_create's clone: a thread, never a new process or namespace. */
#define FETCHER_CLONE_MASK                                                                         \
	(CLONE_THREAD | CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | \
	 CLONE_NEWUTS | CLONE_NEWCGROUP)

static const struct sandbox_syscall fetcher_syscalls[] = {
    /* frames, downloads, files */
    SANDBOX_ALLOW("read"),	 /* frames, TLS records, source files, pack files */
    SANDBOX_ALLOW("write"),	 /* frames, log lines, the TREE memfd, loose objects */
    SANDBOX_ALLOW("sendmsg"),	 /* frame_write: TREE memfd to the decryptor (SCM_RIGHTS) */
    SANDBOX_ALLOW("recvmsg"),	 /* frame_read of JOBs */
    SANDBOX_ALLOW("dup3"),	 /* EDGE: a fresh socket to a restarted peer onto its fixed fd */
    SANDBOX_ALLOW("sysinfo"),	 /* glibc qsort sizes its merge buffer from physical memory */
    SANDBOX_ALLOW("close"),	 /* sockets, files, memfds */
    SANDBOX_ALLOW("dup"),	 /* source_dir: fdopendir on a copy of a directory fd */
    SANDBOX_ALLOW("fcntl"),	 /* F_ADD_SEALS on the TREE memfd, O_NONBLOCK (curl) */
    SANDBOX_ALLOW("lseek"),	 /* memfd rewind, libgit2 */
    SANDBOX_ALLOW("fstat"),	 /* source_dir: fstat on each opened fd */
    SANDBOX_ALLOW("newfstatat"), /* libgit2 stat of repository files, fstat (glibc) */
    SANDBOX_ALLOW("statx"),	 /* same, newer callers */
    /* source directory walk (read-only by Landlock) */
    SANDBOX_ALLOW("openat"),	 /* source files, scratch repositories (O_CREAT there) */
    SANDBOX_ALLOW("openat2"),	 /* source_dir: symlinks resolved RESOLVE_BENEATH the root */
    SANDBOX_ALLOW("getdents64"), /* source_dir and libgit2 directory listing */
    SANDBOX_ALLOW("readlink"),	 /* libgit2 symlink handling */
    SANDBOX_ALLOW("readlinkat"), /* source_dir: link targets */
    SANDBOX_ALLOW("access"),	 /* libgit2 probing repository files */
    SANDBOX_ALLOW("faccessat"),	 /* same, *at callers */
    SANDBOX_ALLOW("faccessat2"), /* same, glibc >= 2.33 */
    SANDBOX_ALLOW("getcwd"),	 /* libgit2 resolving relative paths */
    SANDBOX_ALLOW("geteuid"),	 /* libgit2 ownership checks (safe.directory) */
    SANDBOX_ALLOW("getuid"),	 /* same */
    /* scratch directory: libgit2 object database and refs (rw by Landlock) */
    SANDBOX_ALLOW("mkdir"),	   /* libgit2 objects/xx, refs/ directories */
    SANDBOX_ALLOW("mkdirat"),	   /* same, *at callers */
    SANDBOX_ALLOW("rmdir"),	   /* libgit2 removing empty ref directories, cache pruning */
    SANDBOX_ALLOW("unlink"),	   /* libgit2 lock files, temp packs */
    SANDBOX_ALLOW("unlinkat"),	   /* same, *at callers */
    SANDBOX_ALLOW("rename"),	   /* libgit2 committing lock files into place */
    SANDBOX_ALLOW("renameat"),	   /* same, *at callers */
    SANDBOX_ALLOW("renameat2"),	   /* same, glibc renameat */
    SANDBOX_ALLOW("link"),	   /* libgit2 filebuf: hard link of finished objects */
    SANDBOX_ALLOW("linkat"),	   /* same, *at callers */
    SANDBOX_ALLOW("symlink"),	   /* libgit2 init probing symlink support */
    SANDBOX_ALLOW("symlinkat"),	   /* same, *at callers */
    SANDBOX_ALLOW("chmod"),	   /* libgit2 making objects read-only */
    SANDBOX_ALLOW("fchmod"),	   /* same on open files */
    SANDBOX_ALLOW("fchmodat"),	   /* same, glibc chmod */
    SANDBOX_ALLOW("fsync"),	   /* libgit2 fsync of packs and refs */
    SANDBOX_ALLOW("fdatasync"),	   /* same */
    SANDBOX_ALLOW("pread64"),	   /* libgit2 pack and index reads */
    SANDBOX_ALLOW("pwrite64"),	   /* libgit2 pack index writes */
    SANDBOX_ALLOW("ftruncate"),	   /* sizing the TREE memfd, libgit2 */
    SANDBOX_ALLOW("utimensat"),	   /* libgit2 touching FETCH_HEAD / refreshed files */
    SANDBOX_ALLOW("memfd_create"), /* the TREE memfd (MFD_ALLOW_SEALING) */
    /* network: Git over HTTP(S)/git://, artifact downloads (libcurl + OpenSSL), DNS */
    SANDBOX_ALLOW_ARG("socket", 0, AF_INET),	 /* TCP to Git/HTTP servers, DNS UDP */
    SANDBOX_ALLOW_ARG("socket", 0, AF_INET6),	 /* same over IPv6; curl's IPv6 probe */
    SANDBOX_ALLOW_ARG("socket", 0, AF_UNIX),	 /* glibc resolver trying nscd */
    SANDBOX_ALLOW_ARG("socketpair", 0, AF_UNIX), /* curl's threaded-resolver wakeup pair */
    SANDBOX_ALLOW("connect"),		     /* TCP connect (ports fenced by Landlock), DNS UDP */
    SANDBOX_ALLOW("getsockopt"),	     /* SO_ERROR after a non-blocking connect */
    SANDBOX_ALLOW("setsockopt"),	     /* TCP_NODELAY, keepalive */
    SANDBOX_ALLOW("getsockname"),	     /* curl local address info */
    SANDBOX_ALLOW("getpeername"),	     /* curl peer address info */
    SANDBOX_ALLOW("sendto"),		     /* send(), DNS queries */
    SANDBOX_ALLOW("recvfrom"),		     /* recv(), DNS answers, frame_read recv() */
    SANDBOX_ALLOW("sendmmsg"),		     /* glibc resolver: A + AAAA in one call */
    SANDBOX_ALLOW("shutdown"),		     /* closing connections */
    SANDBOX_ALLOW_ARG("ioctl", 1, FIONREAD), /* glibc resolver sizing a UDP answer */
    SANDBOX_ALLOW("uname"),		     /* glibc resolver (domain name) */
    SANDBOX_ALLOW("rt_sigaction"),	     /* curl/libgit2 ignoring SIGPIPE */
    /* threads: libcurl's threaded resolver */
    SANDBOX_ALLOW_MASKED("clone", 0, FETCHER_CLONE_MASK, CLONE_THREAD), /* threads only */
    SANDBOX_ALLOW("set_robust_list"), /* new thread start (glibc) */
    SANDBOX_ALLOW("rseq"),	      /* new thread start (glibc >= 2.35) */
    SANDBOX_ALLOW("futex"),	      /* thread joins, libgit2 and libc locks */
    /* event loop */
    SANDBOX_ALLOW("poll"),	    /* curl and libgit2 waiting on sockets */
    SANDBOX_ALLOW("ppoll"),	    /* same, newer callers */
    SANDBOX_ALLOW("epoll_create1"), /* libevent loop */
    SANDBOX_ALLOW("epoll_ctl"),	    /* libevent loop */
    SANDBOX_ALLOW("epoll_wait"),    /* libevent loop */
    SANDBOX_ALLOW("epoll_pwait"),   /* libevent loop (glibc epoll_wait) */
    SANDBOX_ALLOW("eventfd2"),	    /* libevent wakeups */
    SANDBOX_ALLOW("pipe2"),	    /* libevent wakeups */
    /* memory */
    SANDBOX_ALLOW("mmap"),     /* malloc, thread stacks, libgit2 pack windows */
    SANDBOX_ALLOW("munmap"),   /* free, pack windows */
    SANDBOX_ALLOW("mprotect"), /* thread stack guards, malloc arenas */
    SANDBOX_ALLOW("brk"),      /* malloc */
    SANDBOX_ALLOW("mremap"),   /* realloc of large blobs */
    SANDBOX_ALLOW("madvise"),  /* thread stack release, secbuf */
    SANDBOX_ALLOW("mlock"),    /* secbuf: Git credentials */
    SANDBOX_ALLOW("munlock"),  /* secbuf_free */
    /* time, process basics */
    SANDBOX_ALLOW("clock_gettime"),		  /* timeouts, logs (vDSO fallback) */
    SANDBOX_ALLOW("gettimeofday"),		  /* same, older callers */
    SANDBOX_ALLOW("nanosleep"),			  /* retry backoff (artifact 404) */
    SANDBOX_ALLOW("clock_nanosleep"),		  /* retry backoff (glibc nanosleep) */
    SANDBOX_ALLOW("sched_yield"),		  /* lock spinning */
    SANDBOX_ALLOW_ARG("sched_getaffinity", 0, 0), /* libgit2 counting CPUs (own mask only) */
    SANDBOX_ALLOW("getrandom"),			  /* OpenSSL DRBG, libgit2 hash seeds */
    SANDBOX_ALLOW("getpid"),	      /* libgit2 temp names, OpenSSL fork detection, logs */
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

int fetcher_sandbox_enter(const struct sandbox_paths *paths, struct err_ctx *err)
{
	static const struct sandbox_policy policy = {
	    .role = "fetcher",
	    .syscalls = fetcher_syscalls,
	    .nsyscalls = sizeof(fetcher_syscalls) / sizeof(fetcher_syscalls[0]),
	    .rlimit_nofile = 1024,	    /* libgit2 pack files, source walk depth */
	    .rlimit_as = (uint64_t)4 << 30, /* 4 GiB: pack windows + a 256 MiB tree */
	    .rlimit_nproc = 64,		    /* resolver threads only */
	};

	return sandbox_enter_role(&policy, paths, SANDBOX_ROLE_NETCONF, err);
}
