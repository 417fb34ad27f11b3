/* sandbox.h — the mechanism every child applies, in this order, before touching input:
 *   close stray fds → drop to the role's uid/gid when root → rlimits (core 0, ...) →
 *   PR_SET_DUMPABLE 0 → PR_SET_NO_NEW_PRIVS → Landlock (paths; TCP ports from ABI 4; best
 *   effort by ABI) → seccomp (libseccomp, arch check, default kill).
 * The policy *data* of each role lives in <role>/<role>_sandbox.c; this is only the
 * engine. */
#ifndef SMC_SANDBOX_H
#define SMC_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define SANDBOX_MAX_PATHS 16
#define SANDBOX_MAX_PORTS 16
#define SANDBOX_MAX_KEEP_FDS 16

/* One seccomp rule: allow the syscall, or fail it with errno (harmless probes). An
 * argument filter may restrict it (arg_index >= 0: allowed only when arg == arg_value,
 * or when (arg & arg_mask) == arg_value if arg_mask != 0). */
struct sandbox_syscall {
	const char *name;  /* resolved with seccomp_syscall_resolve_name; unknown names skipped */
	int err;           /* 0 = allow; else return -err (e.g. EPERM, EACCES) */
	int arg_index;     /* -1 = no argument filter */
	uint64_t arg_value;
	uint64_t arg_mask;
};

/* Table helpers for the role policies (one line per syscall, OpenSSH style). */
#define SANDBOX_ALLOW(nm) { (nm), 0, -1, 0, 0 }
#define SANDBOX_ERRNO(nm, e) { (nm), (e), -1, 0, 0 }
#define SANDBOX_ALLOW_ARG(nm, idx, val) { (nm), 0, (idx), (uint64_t)(val), 0 }
#define SANDBOX_ERRNO_ARG(nm, e, idx, val) { (nm), (e), (idx), (uint64_t)(val), 0 }
#define SANDBOX_ALLOW_MASKED(nm, idx, mask, val) \
	{ (nm), 0, (idx), (uint64_t)(val), (uint64_t)(mask) }

/* What one role may touch, filled in at run time by the role from its arguments. */
struct sandbox_paths {
	const char *ro[SANDBOX_MAX_PATHS]; size_t nro; /* read (and execute) only */
	const char *rw[SANDBOX_MAX_PATHS]; size_t nrw; /* read, write, create, remove */
	uint16_t connect_ports[SANDBOX_MAX_PORTS]; size_t nports; /* TCP connect allowed */
	int any_tcp;  /* 1: do not restrict TCP connect by port */
	int no_tcp;   /* 1: no TCP bind or connect at all (decryptor) */
	int keep_fds[SANDBOX_MAX_KEEP_FDS]; size_t nkeep; /* fds kept open besides 0,1,2 */
};

struct sandbox_policy {
	const char *role;               /* "watcher", "fetcher", "decryptor", "syncer" */
	const struct sandbox_syscall *syscalls;
	size_t nsyscalls;
	uint64_t rlimit_nofile;         /* RLIMIT_NOFILE */
	uint64_t rlimit_as;             /* RLIMIT_AS bytes, 0 = leave */
	uint64_t rlimit_nproc;          /* RLIMIT_NPROC, 0 = leave */
};

/* Adds a path (borrowed; must outlive sandbox_enter) to the ro or rw list. */
int sandbox_paths_add_ro(struct sandbox_paths *p, const char *path);
int sandbox_paths_add_rw(struct sandbox_paths *p, const char *path);
int sandbox_paths_add_port(struct sandbox_paths *p, uint16_t port);
int sandbox_paths_keep_fd(struct sandbox_paths *p, int fd);
/* Adds, read-only, the system files a TLS + DNS client reads after start (CA bundle and
 * OpenSSL config, resolver files); those absent on this host are skipped. */
int sandbox_paths_add_netconf(struct sandbox_paths *p);

/* Applies the whole sequence. On failure the process must exit: a half-applied sandbox
 * is never used. err names the step that failed. */
int sandbox_enter(const struct sandbox_policy *policy, const struct sandbox_paths *paths,
		  struct err_ctx *err);

/* What sandbox_enter_role changes in its copy of the caller's paths. */
enum sandbox_role_flags {
	SANDBOX_ROLE_NO_RW = 1u << 0,	/* drop the rw paths: the role writes no file */
	SANDBOX_ROLE_NO_TCP = 1u << 1,	/* no ports, no any_tcp; Landlock: no TCP at all */
	SANDBOX_ROLE_NETCONF = 1u << 2, /* add the TLS + DNS client files (add_netconf) */
};

/* The shared body of the <role>_sandbox_enter functions: copies paths (borrowed; the
 * caller's struct is not changed), adjusts the copy as flags (enum sandbox_role_flags)
 * say, and applies sandbox_enter with policy (borrowed). Errors name the role:
 * "<role> sandbox: no paths" (paths NULL), "<role> sandbox: too many paths" (no room for
 * the netconf files), else those of sandbox_enter. On failure the process must exit. */
int sandbox_enter_role(const struct sandbox_policy *policy, const struct sandbox_paths *paths,
		       unsigned flags, struct err_ctx *err);

/* The uid/gid a role runs as when started as root: the passwd entry "smc-<role>" when it
 * exists, else 61000 + a fixed per-role offset. */
int sandbox_role_ids(const char *role, unsigned *uid, unsigned *gid);

/* The Landlock ABI the kernel offers (0 when none). */
int sandbox_landlock_abi(void);

#endif
