/* sandbox.c — the order of the sandbox (see sandbox.h): stray fds, uid drop, rlimits,
 * prctl, then Landlock (sandbox_landlock.c) and seccomp (sandbox_seccomp.c). */
#include "common/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SMC_SANITIZE
#include <sanitizer/common_interface_defs.h>
#endif

#include "common/log.h"
#include "common/privdrop.h"
#include "common/sandbox_landlock.h"
#include "common/sandbox_seccomp.h"

/* Role uids when no "smc-<role>" passwd entry exists. */
#define SANDBOX_ROLE_ID_BASE 61000u
#define SANDBOX_PWBUF_MAX 4096

#ifdef SMC_SANITIZE
/* Sanitizer builds only. LeakSanitizer's exit-time check stops the world with clone and
 * ptrace (and prctl(PR_SET_DUMPABLE)), which every seccomp policy here kills or denies, so
 * a sandboxed process would die of SIGSYS at exit instead of exiting with its status. The
 * policy is not widened for it: once a process has entered its sandbox, LSan's
 * __lsan_is_turned_off hook (called only by the leak check itself) says "off", and that
 * process alone skips the exit-time check. Processes that never enter a sandbox (smcd,
 * the CLI, unit tests) keep full leak detection, and the modules the children run are
 * leak-checked there through their unit tests. Chosen over detect_leaks=0 in
 * __asan_default_options, which is fixed at start-up for a whole binary (test binaries
 * and forked helpers share theirs with unsandboxed code). */
static volatile int sandbox_lsan_off;

int __lsan_is_turned_off(void);

int __lsan_is_turned_off(void)
{
	return sandbox_lsan_off;
}

/* Sanitizer builds only: an ASan report lists the module and offset of each frame, which
 * the runtime looks up in /proc/self/maps — a file Landlock hides and a legacy open(2)
 * seccomp kills once the sandbox is on. Asking for one lookup before the sandbox makes
 * the runtime cache the module list, so a report made inside the sandbox is printed in
 * full (frames as module+offset; symbolize them with addr2line). Modules loaded later
 * are not in that cache. (UBSan, a separate runtime in gcc, initialises itself at its
 * first report and still cannot inside the sandbox: there the child dies of SIGSYS
 * without the message; rebuild with SANDBOX_DEBUG=ON to read it.) */
static void sandbox_sanitizer_prepare(void)
{
	char module[256];
	void *offset = NULL;

	(void)__sanitizer_get_module_and_offset_for_pc((void *)(uintptr_t)sandbox_sanitizer_prepare,
						       module, sizeof(module), &offset);
}
#endif

static const struct {
	const char *role;
	unsigned offset;
} sandbox_roles[] = {
    {"supervisor", 0}, {"watcher", 1}, {"fetcher", 2}, {"decryptor", 3}, {"syncer", 4},
    {"pgp-agent", 5}, /* the decryptor's gpg helper (decryptor/pgp_agent.c) */
};

int sandbox_paths_add_ro(struct sandbox_paths *p, const char *path)
{
	if (p == NULL || path == NULL || path[0] == '\0')
		return ERR_INVAL;
	if (p->nro >= SANDBOX_MAX_PATHS)
		return ERR_TOOBIG;
	p->ro[p->nro++] = path;
	return 0;
}

int sandbox_paths_add_rw(struct sandbox_paths *p, const char *path)
{
	if (p == NULL || path == NULL || path[0] == '\0')
		return ERR_INVAL;
	if (p->nrw >= SANDBOX_MAX_PATHS)
		return ERR_TOOBIG;
	p->rw[p->nrw++] = path;
	return 0;
}

int sandbox_paths_add_port(struct sandbox_paths *p, uint16_t port)
{
	if (p == NULL || port == 0)
		return ERR_INVAL;
	if (p->nports >= SANDBOX_MAX_PORTS)
		return ERR_TOOBIG;
	p->connect_ports[p->nports++] = port;
	return 0;
}

int sandbox_paths_keep_fd(struct sandbox_paths *p, int fd)
{
	if (p == NULL || fd < 3)
		return ERR_INVAL;
	if (p->nkeep >= SANDBOX_MAX_KEEP_FDS)
		return ERR_TOOBIG;
	p->keep_fds[p->nkeep++] = fd;
	return 0;
}

/* What libcurl + OpenSSL + the glibc resolver open at run time. */
static const char *const sandbox_netconf_paths[] = {
    "/etc/ssl",			  /* CA bundle (certs/ca-certificates.crt), openssl.cnf */
    "/usr/share/ca-certificates", /* targets of the /etc/ssl/certs symlinks */
    "/usr/lib/ssl",		  /* OpenSSL's OPENSSLDIR (openssl.cnf, certs link) */
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
};

int sandbox_paths_add_netconf(struct sandbox_paths *p)
{
	struct stat st;
	size_t i;
	int rc;

	if (p == NULL)
		return ERR_INVAL;
	for (i = 0; i < sizeof(sandbox_netconf_paths) / sizeof(sandbox_netconf_paths[0]); i++) {
		if (stat(sandbox_netconf_paths[i], &st) != 0)
			continue;
		rc = sandbox_paths_add_ro(p, sandbox_netconf_paths[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int sandbox_role_ids(const char *role, unsigned *uid, unsigned *gid)
{
	char name[64];
	char buf[SANDBOX_PWBUF_MAX];
	struct passwd pw, *res = NULL;
	size_t i;
	int n;

	if (role == NULL || uid == NULL || gid == NULL)
		return ERR_INVAL;
	for (i = 0; i < sizeof(sandbox_roles) / sizeof(sandbox_roles[0]); i++) {
		if (strcmp(sandbox_roles[i].role, role) == 0)
			break;
	}
	if (i == sizeof(sandbox_roles) / sizeof(sandbox_roles[0]))
		return ERR_NOTFOUND;
	n = snprintf(name, sizeof(name), "smc-%s", role);
	if (n < 0 || (size_t)n >= sizeof(name))
		return ERR_TOOBIG;
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 && res != NULL && res->pw_uid != 0 &&
	    res->pw_gid != 0) {
		*uid = (unsigned)res->pw_uid;
		*gid = (unsigned)res->pw_gid;
		return 0;
	}
	*uid = SANDBOX_ROLE_ID_BASE + sandbox_roles[i].offset;
	*gid = SANDBOX_ROLE_ID_BASE + sandbox_roles[i].offset;
	return 0;
}

static int sandbox_kept(const struct sandbox_paths *paths, int fd)
{
	size_t i;

	for (i = 0; i < paths->nkeep; i++) {
		if (paths->keep_fds[i] == fd)
			return 1;
	}
	return 0;
}

/* Fallback when close_range(2) is missing: walk /proc/self/fd. */
static int sandbox_close_walk(const struct sandbox_paths *paths, struct err_ctx *err)
{
	DIR *d;
	struct dirent *de;
	int dfd, rc = 0;

	d = opendir("/proc/self/fd");
	if (d == NULL)
		return err_set(err, ERR_IO, "close fds: /proc/self/fd: %s", strerror(errno));
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		char *end = NULL;
		long fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		errno = 0;
		fd = strtol(de->d_name, &end, 10);
		if (errno != 0 || end == NULL || *end != '\0' || fd < 3 || fd > INT_MAX)
			continue;
		if (fd == dfd || sandbox_kept(paths, (int)fd))
			continue;
		(void)close((int)fd);
	}
	closedir(d);
	return rc;
}

/* Closes every fd except 0, 1, 2 and paths->keep_fds, by ranges between kept fds. */
static int sandbox_close_fds(const struct sandbox_paths *paths, struct err_ctx *err)
{
	unsigned lo = 3;
	int fd, next;

	for (;;) {
		/* next kept fd >= lo, or none */
		next = -1;
		for (size_t i = 0; i < paths->nkeep; i++) {
			fd = paths->keep_fds[i];
			if (fd >= (int)lo && (next < 0 || fd < next))
				next = fd;
		}
		if (next < 0) {
			if (syscall(SYS_close_range, lo, ~0u, 0u) != 0)
				goto fallback;
			return 0;
		}
		if ((unsigned)next > lo &&
		    syscall(SYS_close_range, lo, (unsigned)next - 1, 0u) != 0)
			goto fallback;
		lo = (unsigned)next + 1;
	}
fallback:
	if (errno != ENOSYS && errno != EINVAL)
		return err_set(err, ERR_IO, "close fds: close_range: %s", strerror(errno));
	return sandbox_close_walk(paths, err);
}

static int sandbox_setrlimit(int resource, uint64_t value, const char *name, struct err_ctx *err)
{
	struct rlimit rl;

	rl.rlim_cur = (rlim_t)value;
	rl.rlim_max = (rlim_t)value;
	if (setrlimit(resource, &rl) != 0)
		return err_set(err, ERR_IO, "rlimit %s: %s", name, strerror(errno));
	return 0;
}

static int sandbox_rlimits(const struct sandbox_policy *policy, int dropped, struct err_ctx *err)
{
	int rc;

	rc = sandbox_setrlimit(RLIMIT_CORE, 0, "core", err);
	if (rc == 0 && policy->rlimit_nofile != 0)
		rc = sandbox_setrlimit(RLIMIT_NOFILE, policy->rlimit_nofile, "nofile", err);
#ifndef SMC_SANITIZE
	/* ASan reserves terabytes of shadow address space: no AS limit in sanitizer builds. */
	if (rc == 0 && policy->rlimit_as != 0)
		rc = sandbox_setrlimit(RLIMIT_AS, policy->rlimit_as, "as", err);
#endif
	/* NPROC counts every process of the uid: only meaningful with the role's own uid. */
	if (rc == 0 && dropped && policy->rlimit_nproc != 0)
		rc = sandbox_setrlimit(RLIMIT_NPROC, policy->rlimit_nproc, "nproc", err);
	return rc;
}

int sandbox_enter(const struct sandbox_policy *policy, const struct sandbox_paths *paths,
		  struct err_ctx *err)
{
	unsigned uid, gid;
	int dropped = 0, abi = 0, rc;

	if (policy == NULL || paths == NULL || policy->role == NULL ||
	    paths->nkeep > SANDBOX_MAX_KEEP_FDS)
		return err_set(err, ERR_INVAL, "sandbox: invalid arguments");

	rc = sandbox_close_fds(paths, err);
	if (rc != 0)
		return err_wrap(err, rc, "sandbox %s", policy->role);

	if (getuid() == 0 || geteuid() == 0) {
		rc = sandbox_role_ids(policy->role, &uid, &gid);
		if (rc != 0)
			return err_set(err, rc, "sandbox %s: no uid for role", policy->role);
		rc = privdrop_to(uid, gid, err);
		if (rc != 0)
			return err_wrap(err, rc, "sandbox %s", policy->role);
		dropped = 1;
	}

	rc = sandbox_rlimits(policy, dropped, err);
	if (rc != 0)
		return err_wrap(err, rc, "sandbox %s", policy->role);

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return err_set(err, ERR_IO, "sandbox %s: PR_SET_DUMPABLE: %s", policy->role,
			       strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return err_set(err, ERR_IO, "sandbox %s: PR_SET_NO_NEW_PRIVS: %s", policy->role,
			       strerror(errno));

#ifdef SMC_SANITIZE
	sandbox_sanitizer_prepare();
#endif
	rc = sandbox_landlock_apply(paths, &abi, err);
	if (rc != 0)
		return err_wrap(err, rc, "sandbox %s", policy->role);
	log_debug("sandbox.landlock", "role %s landlock abi %d", policy->role, abi);

	rc = sandbox_seccomp_apply(policy->syscalls, policy->nsyscalls, err);
	if (rc != 0)
		return err_wrap(err, rc, "sandbox %s", policy->role);
#ifdef SMC_SANITIZE
	sandbox_lsan_off = 1;
#endif
	return 0;
}

int sandbox_enter_role(const struct sandbox_policy *policy, const struct sandbox_paths *paths,
		       unsigned flags, struct err_ctx *err)
{
	struct sandbox_paths p;
	int rc;

	if (policy == NULL || policy->role == NULL)
		return err_set(err, ERR_INVAL, "sandbox: invalid arguments");
	if (paths == NULL)
		return err_set(err, ERR_INVAL, "%s sandbox: no paths", policy->role);
	memcpy(&p, paths, sizeof(p));
	if (flags & SANDBOX_ROLE_NO_RW)
		p.nrw = 0;
	if (flags & SANDBOX_ROLE_NO_TCP) {
		p.nports = 0;
		p.any_tcp = 0;
		p.no_tcp = 1;
	}
	if (flags & SANDBOX_ROLE_NETCONF) {
		rc = sandbox_paths_add_netconf(&p);
		if (rc != 0)
			return err_set(err, rc, "%s sandbox: too many paths", policy->role);
	}
	return sandbox_enter(policy, &p, err);
}
