/* test_watcher.c — the watcher's real policy: forbidden syscalls die with SIGSYS, harmless
 * probes get their exact errno, Landlock allows reading the config file only and TCP to
 * the API port only, and the real workload (connect to a loopback listener and exchange
 * bytes; a resolver thread) still runs. Also the engine's sequence (uid drop, rlimits,
 * prctl flags) checked under a small test-only table. Each criterion test runs in its own
 * process, enters the sandbox and reports through its exit status only. */
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "tests/sandbox/sandbox_harness.h"
#include "watcher/watcher_sandbox.h"

#define CONFIG_TEXT "apiVersion: v1\nkind: Config\n"

static char g_root[64];
static char g_config[128];
static char g_other[128];

/* <root>/config.yaml (ro for the watcher) and <root>/other.yaml (not allowed), both
 * world-readable: only the sandbox can refuse the second. */
static void make_files(void)
{
	sbx_make_root(g_root, sizeof(g_root), "wat");
	snprintf(g_config, sizeof(g_config), "%s/config.yaml", g_root);
	snprintf(g_other, sizeof(g_other), "%s/other.yaml", g_root);
	sbx_write_file(g_config, CONFIG_TEXT);
	sbx_write_file(g_other, "other\n");
}

static void enter_with(struct sandbox_paths *p)
{
	sbx_enter(watcher_sandbox_enter, "watcher_sandbox_enter", p);
}

/* As the watcher runs: its config file read-only, the API server on 6443. */
static void enter_default(void)
{
	struct sandbox_paths p;

	make_files();
	memset(&p, 0, sizeof(p));
	cr_assert_eq(sandbox_paths_add_ro(&p, g_config), 0);
	cr_assert_eq(sandbox_paths_add_port(&p, 6443), 0);
	enter_with(&p);
}

#define KILLED(name, call) SBX_KILLED(watcher_kill, name, call)

static char *const probe_argv[] = {"/bin/true", NULL};
static char *const probe_envp[] = {NULL};

KILLED(execve, syscall(SYS_execve, "/bin/true", probe_argv, probe_envp))
KILLED(execveat, syscall(SYS_execveat, AT_FDCWD, "/bin/true", probe_argv, probe_envp, 0))
KILLED(ptrace, syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0))
KILLED(mount, syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL))
KILLED(pivot_root, syscall(SYS_pivot_root, "/tmp", "/tmp"))
KILLED(unshare, syscall(SYS_unshare, CLONE_NEWNET))
KILLED(setns, syscall(SYS_setns, 0, 0))
KILLED(bpf, syscall(SYS_bpf, 0, NULL, 0))
KILLED(perf_event_open, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0))
KILLED(kexec_file_load, syscall(SYS_kexec_file_load, -1, -1, 0, "", 0))
KILLED(init_module, syscall(SYS_init_module, NULL, 0, ""))
KILLED(add_key, syscall(SYS_add_key, "user", "smc", "x", 1, 0))
KILLED(setuid_after_drop, syscall(SYS_setuid, 0))
KILLED(setgroups_after_drop, syscall(SYS_setgroups, 0, NULL))
KILLED(process_vm_writev, syscall(SYS_process_vm_writev, getpid(), NULL, 0, NULL, 0, 0))
KILLED(personality, syscall(SYS_personality, 0xffffffffUL))
KILLED(userfaultfd, syscall(SYS_userfaultfd, 0))
KILLED(fork, syscall(SYS_clone, (unsigned long)SIGCHLD, 0, 0, 0, 0))
KILLED(vfork, syscall(SYS_vfork))
KILLED(kill, syscall(SYS_kill, 1, 0))
KILLED(socket_netlink, syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0))
KILLED(bind, syscall(SYS_bind, 0, NULL, 0))
KILLED(listen, syscall(SYS_listen, 0, 1))
/* The watcher writes no file: write/create opens are killed by the flag filter. */
KILLED(openat_wronly, syscall(SYS_openat, AT_FDCWD, g_config, O_WRONLY))
KILLED(openat_creat, syscall(SYS_openat, AT_FDCWD, "/tmp/smc-sbx-w", O_RDONLY | O_CREAT, 0600))
KILLED(unlink, syscall(SYS_unlink, g_config))

SBX_DENIED(watcher_errno, prctl_is_eperm, syscall(SYS_prctl, PR_SET_NAME, "x", 0, 0, 0), EPERM)

SBX_DENIED(watcher_errno, clone3_is_enosys, syscall(SYS_clone3, NULL, 0), ENOSYS)

Test(watcher_errno, isatty_is_enotty)
{
	enter_default();
	_exit(!isatty(2) && errno == ENOTTY ? 0 : 1);
}

Test(watcher_landlock, config_readable)
{
	char buf[64];
	ssize_t n;
	int fd;

	enter_default();
	fd = open(g_config, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(1);
	n = read(fd, buf, sizeof(buf));
	_exit(n == (ssize_t)strlen(CONFIG_TEXT) && memcmp(buf, CONFIG_TEXT, (size_t)n) == 0 ? 0
											    : 2);
}

SBX_DENIED(watcher_landlock, other_file_is_eacces, open(g_other, O_RDONLY | O_CLOEXEC), EACCES)

Test(watcher_landlock, resolver_files_readable)
{
	enter_default();
	_exit(open("/etc/hosts", O_RDONLY | O_CLOEXEC) >= 0 ? 0 : 1);
}

/* A loopback listener made before the sandbox, served by an unsandboxed child that
 * echoes what it reads, upper-cased. Returns the port. */
static uint16_t start_echo_server(void)
{
	uint16_t port;
	pid_t pid;
	int ls;

	ls = sbx_loopback_listener(&port);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char buf[64];
		ssize_t n, i;
		int c;

		alarm(20);
		c = accept(ls, NULL, NULL);
		if (c < 0)
			_exit(1);
		n = read(c, buf, sizeof(buf));
		for (i = 0; i < n; i++)
			buf[i] = (char)(buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
		if (n > 0 && write(c, buf, (size_t)n) != n)
			_exit(2);
		close(c);
		_exit(0);
	}
	close(ls);
	return port;
}

/* The real workload: the API server's port is allowed and bytes flow both ways. */
Test(watcher_workload, loopback_exchange)
{
	struct sandbox_paths p;
	char buf[16];
	uint16_t port;
	int s;

	make_files();
	port = start_echo_server();
	memset(&p, 0, sizeof(p));
	cr_assert_eq(sandbox_paths_add_ro(&p, g_config), 0);
	cr_assert_eq(sandbox_paths_add_port(&p, port), 0);
	enter_with(&p);
	s = sbx_connect_loopback(port);
	if (s < 0)
		_exit(1);
	if (send(s, "watch?rv=1", 10, MSG_NOSIGNAL) != 10)
		_exit(2);
	if (recv(s, buf, sizeof(buf), MSG_WAITALL) != 10 || memcmp(buf, "WATCH?RV=1", 10) != 0)
		_exit(3);
	_exit(0);
}

/* Landlock TCP: a listener (made before the sandbox and kept open) on a port that is not
 * the API port is refused. */
Test(watcher_landlock, tcp_other_port_is_eacces)
{
	struct sandbox_paths p;
	uint16_t port;
	int ls;

	make_files();
	ls = sbx_loopback_listener(&port);
	memset(&p, 0, sizeof(p));
	cr_assert_eq(sandbox_paths_add_ro(&p, g_config), 0);
	cr_assert_eq(sandbox_paths_add_port(&p, (uint16_t)(port == 6443 ? 6444 : 6443)), 0);
	cr_assert_eq(sandbox_paths_keep_fd(&p, ls), 0);
	enter_with(&p);
	_exit(sbx_connect_loopback(port) == -EACCES ? 0 : 1);
}

Test(watcher_workload, resolver_thread)
{
	enter_default();
	_exit(sbx_thread_roundtrip());
}

/* ---- the engine's sequence, under a small test-only table that lets us look ---- */

static const struct sandbox_syscall engine_syscalls[] = {
    SANDBOX_ALLOW("getresuid"),
    SANDBOX_ALLOW("getresgid"),
    SANDBOX_ALLOW("getgroups"),
    SANDBOX_ALLOW_ARG("prlimit64", 2, 0), /* getrlimit only (new limit NULL) */
    SANDBOX_ALLOW("prctl"),
    SANDBOX_ALLOW("setuid"),
    SANDBOX_ALLOW("setresuid"),
    SANDBOX_ALLOW("exit_group"),
    SANDBOX_ALLOW("write"),
    /* criterion's IPC thread in the test process (killing it would crash the test) */
    SANDBOX_ALLOW("epoll_wait"),
    SANDBOX_ALLOW("futex"),
};

static const struct sandbox_policy engine_policy = {
    .role = "watcher",
    .syscalls = engine_syscalls,
    .nsyscalls = sizeof(engine_syscalls) / sizeof(engine_syscalls[0]),
    .rlimit_nofile = 77,
    .rlimit_as = (uint64_t)3 << 30,
    .rlimit_nproc = 9,
};

static void engine_enter(void)
{
	struct sandbox_paths p;
	struct err_ctx e;

	memset(&p, 0, sizeof(p));
	memset(&e, 0, sizeof(e));
	if (sandbox_enter(&engine_policy, &p, &e) != 0) {
		fprintf(stderr, "sandbox_enter: %s\n", e.msg);
		_exit(EXIT_ENTER_FAILED);
	}
}

static int limit_is(int res, rlim_t v)
{
	struct rlimit rl;

	return getrlimit(res, &rl) == 0 && rl.rlim_cur == v && rl.rlim_max == v;
}

Test(watcher_engine, uid_dropped_for_good)
{
	unsigned uid, gid;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	cr_assert_eq(sandbox_role_ids("watcher", &uid, &gid), 0);
	cr_assert_eq(getuid(), 0, "sandbox tests run as root here");
	engine_enter();
	if (getresuid(&ru, &eu, &su) != 0 || ru != uid || eu != uid || su != uid)
		_exit(1);
	if (getresgid(&rg, &eg, &sg) != 0 || rg != gid || eg != gid || sg != gid)
		_exit(2);
	if (getgroups(0, NULL) != 0)
		_exit(3);
	/* allowed by this table: the kernel itself must refuse */
	if (syscall(SYS_setuid, 0) != -1 || errno != EPERM)
		_exit(4);
	if (syscall(SYS_setresuid, 0, 0, 0) != -1 || errno != EPERM)
		_exit(5);
	_exit(0);
}

Test(watcher_engine, rlimits_applied)
{
	engine_enter();
	if (!limit_is(RLIMIT_CORE, 0))
		_exit(1);
	if (!limit_is(RLIMIT_NOFILE, 77))
		_exit(2);
#ifndef SMC_SANITIZE
	if (!limit_is(RLIMIT_AS, (rlim_t)3 << 30))
		_exit(3);
#endif
	if (!limit_is(RLIMIT_NPROC, 9))
		_exit(4);
	_exit(0);
}

Test(watcher_engine, not_dumpable_no_new_privs)
{
	engine_enter();
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		_exit(1);
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		_exit(2);
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2) /* SECCOMP_MODE_FILTER */
		_exit(3);
	_exit(0);
}

/* getrlimit is allowed by the table, setrlimit (prlimit64 with a new limit) is not. */
Test(watcher_engine, arg_filter_kills_other_values, .signal = SIGSYS)
{
	struct rlimit rl = {1, 1};

	engine_enter();
	(void)setrlimit(RLIMIT_CORE, &rl);
	_exit(EXIT_SURVIVED);
}

Test(watcher_engine, landlock_abi_and_role_ids)
{
	unsigned uid = 0, gid = 0;
	struct sandbox_paths p;
	size_t i;

	cr_assert_geq(sandbox_landlock_abi(), 1, "this kernel has Landlock");
	cr_assert_eq(sandbox_role_ids("nobody-role", &uid, &gid), ERR_NOTFOUND);
	cr_assert_eq(sandbox_role_ids("decryptor", &uid, &gid), 0);
	cr_assert_neq(uid, 0);
	cr_assert_neq(gid, 0);
	memset(&p, 0, sizeof(p));
	for (i = 0; i < SANDBOX_MAX_PATHS; i++)
		cr_assert_eq(sandbox_paths_add_ro(&p, "/etc"), 0);
	cr_assert_eq(sandbox_paths_add_ro(&p, "/etc"), ERR_TOOBIG);
	cr_assert_eq(sandbox_paths_keep_fd(&p, 2), ERR_INVAL);
	cr_assert_eq(sandbox_paths_add_port(&p, 0), ERR_INVAL);
}

/* A path that does not exist makes sandbox_enter fail (never a half-applied sandbox). */
Test(watcher_engine, missing_path_fails)
{
	struct sandbox_paths p;
	struct err_ctx e;

	memset(&p, 0, sizeof(p));
	memset(&e, 0, sizeof(e));
	cr_assert_eq(sandbox_paths_add_ro(&p, "/nonexistent/smc-sbx"), 0);
	_exit(watcher_sandbox_enter(&p, &e) == ERR_NOTFOUND && strstr(e.msg, "/nonexistent/smc-sbx")
		  ? 0
		  : 1);
}

/* The role entry (sandbox_enter_role) refuses missing paths with the role's name, and
 * leaves the caller's paths as they were. */
Test(watcher_engine, role_entry_no_paths)
{
	struct err_ctx e;

	memset(&e, 0, sizeof(e));
	cr_assert_eq(watcher_sandbox_enter(NULL, &e), ERR_INVAL);
	cr_assert_str_eq(e.msg, "watcher sandbox: no paths");
}

Test(watcher_engine, role_entry_keeps_caller_paths)
{
	struct sandbox_paths p;

	make_files();
	memset(&p, 0, sizeof(p));
	cr_assert_eq(sandbox_paths_add_ro(&p, g_config), 0);
	cr_assert_eq(sandbox_paths_add_rw(&p, g_root), 0);
	enter_with(&p);
	/* rw dropped and netconf files added in the entry's own copy only */
	_exit(p.nro == 1 && p.nrw == 1 && p.ro[0] == g_config ? 0 : 1);
}

SBX_CLEANUP_HOOK("wat")
