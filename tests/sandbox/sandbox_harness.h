/* sandbox_harness.h — what the four sandbox tests (tests/sandbox/test_<role>.c) share.
 *
 * Criterion forks one process per test; each test enters its role's sandbox in that
 * process and reports through its exit status only (the criterion channel is closed by
 * the sandbox). Temp directories are named /tmp/smc-sbx-<tag>-<runner pid>-XXXXXX and
 * removed by the runner at the end (SBX_CLEANUP_HOOK), since a sandboxed test process
 * cannot remove them itself. */
#ifndef SMC_TESTS_SANDBOX_HARNESS_H
#define SMC_TESTS_SANDBOX_HARNESS_H

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sandbox.h"

#define EXIT_ENTER_FAILED 90  /* the sandbox could not be applied */
#define EXIT_SURVIVED 91      /* a probe that had to kill returned */
#define SBX_NO_SOCKET (-1000) /* sbx_connect_loopback: socket() itself failed */

/* A criterion test suite::name that enters the role's default sandbox (the test file's
 * enter_default()) and makes call, which must kill the process with SIGSYS. */
#define SBX_KILLED(suite, name, call)                                                              \
	Test(suite, name, .signal = SIGSYS)                                                        \
	{                                                                                          \
		enter_default();                                                                   \
		(void)(call);                                                                      \
		_exit(EXIT_SURVIVED);                                                              \
	}

/* A criterion test suite::name that enters the role's default sandbox and makes call,
 * which must fail with exactly errno want (exit status 0; 1 otherwise). */
#define SBX_DENIED(suite, name, call, want)                                                        \
	Test(suite, name)                                                                          \
	{                                                                                          \
		enter_default();                                                                   \
		_exit(sbx_errno_of(call) == (want) ? 0 : 1);                                       \
	}

/* The errno of a failed call (r == -1), 0 when it succeeded. */
static inline int sbx_errno_of(long r)
{
	return r == -1 ? errno : 0;
}

/* Writes text to path (created or truncated) and makes it world-readable (0644), so that
 * only the sandbox can refuse a read of it. */
static inline void sbx_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(chmod(path, 0644), 0);
}

/* Makes the test's root directory /tmp/smc-sbx-<tag>-<runner pid>-XXXXXX (0755) into
 * root (caller's buffer of size bytes). */
static inline void sbx_make_root(char *root, size_t size, const char *tag)
{
	snprintf(root, size, "/tmp/smc-sbx-%s-%d-XXXXXX", tag, (int)getppid());
	cr_assert_not_null(mkdtemp(root));
	cr_assert_eq(chmod(root, 0755), 0);
}

/* Enters a role's sandbox with enter (<role>_sandbox_enter, named name in the message);
 * on failure says why on stderr and exits EXIT_ENTER_FAILED. */
static inline void sbx_enter(int (*enter)(const struct sandbox_paths *, struct err_ctx *),
			     const char *name, const struct sandbox_paths *p)
{
	struct err_ctx e;

	memset(&e, 0, sizeof(e));
	if (enter(p, &e) != 0) {
		fprintf(stderr, "%s: %s\n", name, e.msg);
		_exit(EXIT_ENTER_FAILED);
	}
}

/* A TCP listener on a free loopback port (made before the sandbox); returns its fd and
 * the port in *port. */
static inline int sbx_loopback_listener(uint16_t *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(ls, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(ls, 4), 0);
	cr_assert_eq(getsockname(ls, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return ls;
}

/* Connects a TCP socket to 127.0.0.1:port. Returns the connected fd, -errno of a failed
 * connect, or SBX_NO_SOCKET when no socket could be made. */
static inline int sbx_connect_loopback(uint16_t port)
{
	struct sockaddr_in sa;
	int s;

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return SBX_NO_SOCKET;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -errno;
	return s;
}

static inline void *sbx_thread_fn(void *arg)
{
	*(int *)arg = 42;
	return NULL;
}

/* libcurl's threaded resolver in small: a thread is created (clone3 → ENOSYS → clone),
 * writes a value and is joined. Returns 0, or 1 (create), 2 (join), 3 (value) failed. */
static inline int sbx_thread_roundtrip(void)
{
	pthread_t t;
	int v = 0;

	if (pthread_create(&t, NULL, sbx_thread_fn, &v) != 0)
		return 1;
	if (pthread_join(t, NULL) != 0)
		return 2;
	return v == 42 ? 0 : 3;
}

static inline int sbx_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

/* Removes every /tmp/smc-sbx-<tag>-<this pid>-* tree: run by the runner (the parent of
 * every test process, whose pid names their directories). */
static inline void sbx_remove_roots(const char *tag)
{
	char pat[64];
	glob_t g;

	snprintf(pat, sizeof(pat), "/tmp/smc-sbx-%s-%d-*", tag, (int)getpid());
	if (glob(pat, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		(void)nftw(g.gl_pathv[i], sbx_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	globfree(&g);
}

/* Test processes cannot clean up after themselves (they end sandboxed): the runner
 * removes their directories once all tests are done. */
#define SBX_CLEANUP_HOOK(tag)                                                                      \
	ReportHook(POST_ALL)(struct criterion_global_stats * stats)                                \
	{                                                                                          \
		(void)stats;                                                                       \
		sbx_remove_roots(tag);                                                             \
	}

#endif
