/* test_sandbox_seccomp.c — the seccomp step as the roles get it, in plain and in
 * sanitizer (-DSANITIZE=ON) builds:
 *   - a syscall missing from the table kills, in both builds;
 *   - an errno rule of the table stays an errno rule, in both builds;
 *   - sigaltstack, which the ASan runtime calls before every noreturn call, kills in a
 *     plain build (the sanitizer additions never reach production) and is allowed in a
 *     sanitizer build;
 *   - a sandboxed process that leaks and calls exit() ends with its own status: in a
 *     sanitizer build LeakSanitizer's exit check (clone + ptrace) is skipped there;
 *   - in a sanitizer build a process that never entered a sandbox still gets that check;
 *   - in a sanitizer build an ASan report made inside the sandbox is printed in full and
 *     ends the process with ASan's exit status (not SIGSYS).
 * Each case runs in a child forked by the test and reports through its exit status. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/sandbox.h"
#include "common/sandbox_seccomp.h"

#define EXIT_SETUP 90	 /* the filter or the sandbox could not be applied */
#define EXIT_SURVIVED 91 /* a call that had to kill returned */
#define EXIT_OWN 7	 /* the status a child chooses */
#define ASAN_EXITCODE 1	 /* the exit status after a leak report under ASan (its default) */
#define LEAK_SIZE 4096

/* What exit() needs in these children (stdio flush, atexit handlers, free), read-only
 * openat and isatty() failing as in every role's table, and a harmless probe that fails
 * with an errno. getppid is deliberately absent. */
static const struct sandbox_syscall test_table[] = {
    SANDBOX_ALLOW("read"),
    SANDBOX_ALLOW("write"),
    SANDBOX_ALLOW("close"),
    SANDBOX_ALLOW("mmap"),
    SANDBOX_ALLOW("munmap"),
    SANDBOX_ALLOW("mprotect"),
    SANDBOX_ALLOW("brk"),
    SANDBOX_ALLOW("madvise"),
    SANDBOX_ALLOW("futex"),
    SANDBOX_ALLOW("rt_sigprocmask"),
    SANDBOX_ALLOW("rt_sigreturn"),
    SANDBOX_ALLOW("exit"),
    SANDBOX_ALLOW("exit_group"),
    SANDBOX_ERRNO("readlink", EACCES),
    SANDBOX_ERRNO_ARG("ioctl", ENOTTY, 1, TCGETS),
    SANDBOX_ALLOW_MASKED("openat", 2, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY),
};

static const struct sandbox_policy test_policy = {
    .role = "watcher",
    .syscalls = test_table,
    .nsyscalls = sizeof(test_table) / sizeof(test_table[0]),
    .rlimit_nofile = 16,
};

/* Set to a fresh allocation and then dropped: a leak LeakSanitizer must see. */
static void *volatile test_leak;

static void leak(void)
{
	test_leak = malloc(LEAK_SIZE);
	if (test_leak != NULL)
		memset(test_leak, 0x5a, LEAK_SIZE);
	test_leak = NULL;
}

/* Only the seccomp step, in the calling (child) process. */
static void filter_only(void)
{
	struct err_ctx e;

	memset(&e, 0, sizeof(e));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    sandbox_seccomp_apply(test_table, sizeof(test_table) / sizeof(test_table[0]), &e) != 0)
		_exit(EXIT_SETUP);
}

/* The whole sandbox_enter sequence, in the calling (child) process. */
static void whole_sandbox(void)
{
	struct sandbox_paths p;
	struct err_ctx e;

	memset(&p, 0, sizeof(p));
	memset(&e, 0, sizeof(e));
	if (sandbox_enter(&test_policy, &p, &e) != 0)
		_exit(EXIT_SETUP);
}

/* Runs fn in a forked child; returns its wait status. */
static int in_child(void (*fn)(void))
{
	pid_t pid, w;
	int status = 0;

	pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		fn();
		_exit(EXIT_SURVIVED);
	}
	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	cr_assert_eq(w, pid);
	return status;
}

static void assert_killed_by_sigsys(int status)
{
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "expected SIGSYS, got %s %d",
		  WIFSIGNALED(status) ? "signal" : "exit status",
		  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

static void assert_exit_status(int status, int want)
{
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == want,
		  "expected exit status %d, got %s %d", want,
		  WIFSIGNALED(status) ? "signal" : "exit status",
		  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

static void probe_unlisted(void)
{
	filter_only();
	(void)syscall(SYS_getppid);
}

Test(sandbox_seccomp, unlisted_syscall_kills)
{
	assert_killed_by_sigsys(in_child(probe_unlisted));
}

static void probe_errno_rule(void)
{
	char buf[64];

	filter_only();
	if (syscall(SYS_readlink, "/proc/self/exe", buf, sizeof(buf)) != -1 || errno != EACCES)
		_exit(1);
	_exit(0);
}

/* readlink is also a sanitizer addition: the table's errno rule must win over it. */
Test(sandbox_seccomp, errno_rule_of_the_table_stays)
{
	assert_exit_status(in_child(probe_errno_rule), 0);
}

static void probe_sigaltstack(void)
{
	stack_t old;

	filter_only();
	if (syscall(SYS_sigaltstack, NULL, &old) != 0)
		_exit(1);
	_exit(0);
}

#ifdef SMC_SANITIZE
Test(sandbox_seccomp, sanitizer_runtime_syscall_allowed_in_sanitizer_builds)
{
	assert_exit_status(in_child(probe_sigaltstack), 0);
}
#else
Test(sandbox_seccomp, sanitizer_runtime_syscall_kills_in_plain_builds)
{
	assert_killed_by_sigsys(in_child(probe_sigaltstack));
}
#endif

static void leak_then_exit_sandboxed(void)
{
	whole_sandbox();
	leak();
	exit(EXIT_OWN);
}

Test(sandbox_seccomp, sandboxed_process_exits_with_its_own_status)
{
	assert_exit_status(in_child(leak_then_exit_sandboxed), EXIT_OWN);
}

#ifdef SMC_SANITIZE
static void leak_then_exit(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	/* the expected report stays out of the test log */
	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
		_exit(EXIT_SETUP);
	leak();
	exit(0);
}

/* The exit check is off only where a sandbox was entered. */
Test(sandbox_seccomp, unsandboxed_process_still_gets_the_leak_check)
{
	const char *o = getenv("ASAN_OPTIONS");
	const char *l = getenv("LSAN_OPTIONS");

	if ((o != NULL && strstr(o, "detect_leaks=0") != NULL) ||
	    (o != NULL && strstr(o, "exitcode=") != NULL) ||
	    (l != NULL && (strstr(l, "exitcode=") != NULL || strstr(l, "detect_leaks=0") != NULL)))
		cr_skip_test("leak detection or its exit code changed by the environment");
	assert_exit_status(in_child(leak_then_exit), ASAN_EXITCODE);
}

#define REPORT_MAX 65536
static volatile size_t test_index = 8;

static void overflow_sandboxed(void)
{
	char *volatile b = malloc(8);

	whole_sandbox();
	if (b == NULL)
		_exit(EXIT_SETUP);
	b[test_index] = 1; /* one past the end: ASan reports and exits */
	free(b);
}

Test(sandbox_seccomp, asan_report_inside_the_sandbox_is_complete)
{
	static char report[REPORT_MAX];
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	int p[2], status = 0;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* the report goes to the pipe, never to the test log */
		if (dup2(p[1], STDERR_FILENO) < 0)
			_exit(EXIT_SETUP);
		close(p[0]);
		close(p[1]);
		overflow_sandboxed();
		_exit(EXIT_SURVIVED);
	}
	close(p[1]);
	while (got < sizeof(report) - 1 &&
	       (n = read(p[0], report + got, sizeof(report) - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		cr_assert_gt(n, 0, "read: %s", strerror(errno));
		got += (size_t)n;
	}
	report[got] = '\0';
	close(p[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	assert_exit_status(status, ASAN_EXITCODE);
	cr_assert_not_null(strstr(report, "ERROR: AddressSanitizer: heap-buffer-overflow"));
	cr_assert_not_null(strstr(report, "    #0 0x"), "no stack frame in the report");
	cr_assert_not_null(strstr(report, "SUMMARY: AddressSanitizer: heap-buffer-overflow"));
}
#endif
