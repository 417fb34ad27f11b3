/* test_source_git.c — the Git source against real repositories made with the git CLI in a
 * temp dir, fetched over file:// and over smart HTTP (tests/lib/git_http_server.py running
 * the real `git http-backend`, with and without basic auth). */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "fetcher/source_git.h"
#include "proto/tree.h"

extern char **environ;

#define MAX_ARGS 32

static char base[PATH_MAX];    /* temp dir */
static char work[PATH_MAX];    /* the fixture repository (non-bare) */
static char scratch[PATH_MAX]; /* the cache dir given to source_git_fetch */
static char url[PATH_MAX + 16];
static pid_t server_pid = -1;

/* Runs argv (NULL-terminated) and returns its exit status; stdout into out[cap] when
 * out is not NULL (trailing newline removed). */
static int spawn_argv(char *const argv[], char *out, size_t cap)
{
	posix_spawn_file_actions_t fa;
	int p[2] = {-1, -1}, st;
	size_t got = 0;
	pid_t pid;
	ssize_t r;

	cr_assert_eq(posix_spawn_file_actions_init(&fa), 0);
	if (out != NULL) {
		cr_assert_eq(pipe(p), 0);
		posix_spawn_file_actions_adddup2(&fa, p[1], 1);
		posix_spawn_file_actions_addclose(&fa, p[0]);
	}
	cr_assert_eq(posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	if (out != NULL) {
		close(p[1]);
		while (got + 1 < cap && (r = read(p[0], out + got, cap - 1 - got)) > 0)
			got += (size_t)r;
		out[got] = '\0';
		while (got > 0 && out[got - 1] == '\n')
			out[--got] = '\0';
		close(p[0]);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* git -C dir args... (NULL-terminated); asserts success. */
static void git_in(const char *dir, ...)
{
	char *argv[MAX_ARGS];
	size_t n = 0;
	va_list ap;

	argv[n++] = "git";
	argv[n++] = "-C";
	argv[n++] = (char *)dir;
	va_start(ap, dir);
	while (n < MAX_ARGS - 1 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	cr_assert_eq(spawn_argv(argv, NULL, 0), 0, "git %s %s failed", argv[3],
		     n > 4 ? argv[4] : "");
}

static void rev_parse(const char *rev, char out[64])
{
	char *argv[] = {"git", "-C", work, "rev-parse", (char *)rev, NULL};

	cr_assert_eq(spawn_argv(argv, out, 64), 0);
	cr_assert_eq(strlen(out), 40, "rev-parse %s: '%s'", rev, out);
}

static void put(const char *rel, const char *content, mode_t mode)
{
	char p[PATH_MAX];
	size_t n = strlen(content);
	char *sl;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", work, rel);
	for (sl = strchr(p + strlen(work) + 1, '/'); sl != NULL; sl = strchr(sl + 1, '/')) {
		*sl = '\0';
		mkdir(p, 0755);
		*sl = '/';
	}
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0, "open %s: %s", p, strerror(errno));
	cr_assert_eq(write(fd, content, n), (ssize_t)n);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void link_to(const char *rel, const char *target)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", work, rel);
	cr_assert_eq(symlink(target, p), 0, "symlink %s: %s", p, strerror(errno));
}

static void commit_all(const char *msg)
{
	git_in(work, "add", "-A", NULL);
	git_in(work, "commit", "-q", "-m", msg, NULL);
}

/* The fixture: main (2 files + an executable + profiles), tag v1 (annotated), tag light,
 * branch feature with one more file. */
static void setup(void)
{
	char *mk[] = {"mkdir", "-p", work, scratch, NULL};

	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	setenv("GIT_AUTHOR_NAME", "smc test", 1);
	setenv("GIT_AUTHOR_EMAIL", "test@smc.invalid", 1);
	setenv("GIT_COMMITTER_NAME", "smc test", 1);
	setenv("GIT_COMMITTER_EMAIL", "test@smc.invalid", 1);
	setenv("GIT_TERMINAL_PROMPT", "0", 1);
	snprintf(base, sizeof(base), "/tmp/smc-srcgit-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	snprintf(work, sizeof(work), "%s/work", base);
	snprintf(scratch, sizeof(scratch), "%s/scratch", base);
	snprintf(url, sizeof(url), "file://%s", work);
	cr_assert_eq(spawn_argv(mk, NULL, 0), 0);
	git_in(work, "init", "-q", "-b", "main", NULL);
	put("config/app.yaml", "a: 1\n", 0644);
	put("bin/run.sh", "#!/bin/sh\nexit 0\n", 0755);
	put("profiles/prod/application.properties", "db.url=jdbc:x\n", 0644);
	commit_all("one");
	git_in(work, "tag", "-a", "v1", "-m", "release 1", NULL);
	git_in(work, "tag", "light", NULL);
	git_in(work, "checkout", "-q", "-b", "feature", NULL);
	put("feature.txt", "feature\n", 0644);
	commit_all("feature");
	git_in(work, "checkout", "-q", "main", NULL);
}

static void teardown(void)
{
	char *rm[] = {"rm", "-rf", base, NULL};
	int st;

	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, &st, 0);
		server_pid = -1;
	}
	if (base[0] != '\0')
		spawn_argv(rm, NULL, 0);
}

TestSuite(source_git, .init = setup, .fini = teardown, .timeout = 120);

static void expect_file(const struct tree *t, const char *path, const char *content, uint32_t mode)
{
	const struct tree_file *f = NULL;

	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->files[i].path, path) == 0)
			f = &t->files[i];
	cr_assert_not_null(f, "missing %s", path);
	cr_assert_eq(f->size, strlen(content), "size of %s", path);
	cr_assert_eq(memcmp(f->data, content, f->size), 0, "content of %s", path);
	cr_assert_eq(f->mode, mode, "mode of %s: %o", path, f->mode);
}

static void fetch_ok(const char *u, const char *rev, const char *sub,
		     const struct source_git_opts *o, struct tree *t, char **resolved)
{
	struct err_ctx err = {{0}};
	int r = source_git_fetch_opts(u, rev, sub, scratch, o, t, resolved, &err);

	cr_assert_eq(r, 0, "fetch %s: %d %s", rev != NULL ? rev : "(HEAD)", r, err.msg);
}

static void fetch_fail(const char *u, const char *rev, const char *sub,
		       const struct source_git_opts *o, int code, const char *needle,
		       struct err_ctx *err)
{
	struct tree t;
	char *resolved = (char *)"untouched";
	int r;

	memset(&t, 0x5A, sizeof(t));
	r = source_git_fetch_opts(u, rev, sub, scratch, o, &t, &resolved, err);
	cr_assert_eq(r, code, "expected %s, got %d (%s): %s", err_str(code), r, err_str(r),
		     err->msg);
	cr_assert_not_null(strstr(err->msg, needle), "message '%s' lacks '%s'", err->msg, needle);
	cr_assert_str_eq(resolved, "untouched");
	cr_assert_eq(t.n, (size_t)0x5A5A5A5A5A5A5A5Aull, "out written on failure");
}

static void expect_resolved(const char *resolved, const char *label, const char *sha)
{
	char want[256];

	if (label != NULL)
		snprintf(want, sizeof(want), "%s@sha1:%s", label, sha);
	else
		snprintf(want, sizeof(want), "sha1:%s", sha);
	cr_assert_str_eq(resolved, want);
}

Test(source_git, head_of_remote_read_exactly)
{
	struct tree t;
	char *resolved, sha[64];

	rev_parse("main", sha);
	fetch_ok(url, NULL, NULL, NULL, &t, &resolved);
	expect_resolved(resolved, "main", sha);
	cr_assert_eq(t.n, 3);
	expect_file(&t, "config/app.yaml", "a: 1\n", 0644);
	expect_file(&t, "bin/run.sh", "#!/bin/sh\nexit 0\n", 0755);
	expect_file(&t, "profiles/prod/application.properties", "db.url=jdbc:x\n", 0644);
	tree_free(&t);
	free(resolved);
}

Test(source_git, head_follows_remote_default_branch)
{
	struct tree t;
	char *resolved, sha[64];

	git_in(work, "symbolic-ref", "HEAD", "refs/heads/feature", NULL);
	rev_parse("feature", sha);
	fetch_ok(url, "", NULL, NULL, &t, &resolved);
	expect_resolved(resolved, "feature", sha);
	expect_file(&t, "feature.txt", "feature\n", 0644);
	tree_free(&t);
	free(resolved);
}

Test(source_git, branch_tag_and_refs)
{
	struct tree t;
	char *resolved, main_sha[64], feat_sha[64];

	rev_parse("main", main_sha);
	rev_parse("feature", feat_sha);
	fetch_ok(url, "feature", NULL, NULL, &t, &resolved);
	expect_resolved(resolved, "feature", feat_sha);
	cr_assert_eq(t.n, 4);
	expect_file(&t, "feature.txt", "feature\n", 0644);
	tree_free(&t);
	free(resolved);

	/* An annotated tag resolves to its commit, not to the tag object. */
	fetch_ok(url, "v1", NULL, NULL, &t, &resolved);
	expect_resolved(resolved, "v1", main_sha);
	cr_assert_eq(t.n, 3);
	tree_free(&t);
	free(resolved);

	fetch_ok(url, "light", NULL, NULL, &t, &resolved);
	expect_resolved(resolved, "light", main_sha);
	tree_free(&t);
	free(resolved);

	fetch_ok(url, "refs/heads/feature", NULL, NULL, &t, &resolved);
	expect_resolved(resolved, "refs/heads/feature", feat_sha);
	tree_free(&t);
	free(resolved);

	fetch_ok(url, "refs/tags/v1", NULL, NULL, &t, &resolved);
	expect_resolved(resolved, "refs/tags/v1", main_sha);
	tree_free(&t);
	free(resolved);
}

Test(source_git, other_refs_are_fetched_on_demand)
{
	struct tree t;
	char *resolved, feat_sha[64];

	rev_parse("feature", feat_sha);
	git_in(work, "update-ref", "refs/pull/7/head", feat_sha, NULL);
	fetch_ok(url, "refs/pull/7/head", NULL, NULL, &t, &resolved);
	expect_resolved(resolved, "refs/pull/7/head", feat_sha);
	expect_file(&t, "feature.txt", "feature\n", 0644);
	tree_free(&t);
	free(resolved);
}

Test(source_git, full_and_short_commit_ids)
{
	struct tree t;
	char *resolved, old[64], short_id[8];

	rev_parse("main", old);
	put("config/app.yaml", "a: 2\n", 0644);
	commit_all("two");

	fetch_ok(url, old, NULL, NULL, &t, &resolved);
	expect_resolved(resolved, NULL, old);
	expect_file(&t, "config/app.yaml", "a: 1\n", 0644);
	tree_free(&t);
	free(resolved);

	memcpy(short_id, old, 7);
	short_id[7] = '\0';
	fetch_ok(url, short_id, NULL, NULL, &t, &resolved);
	expect_resolved(resolved, NULL, old);
	expect_file(&t, "config/app.yaml", "a: 1\n", 0644);
	tree_free(&t);
	free(resolved);
}

Test(source_git, missing_revision_is_notfound)
{
	struct err_ctx err = {{0}};

	fetch_fail(url, "no-such-branch", NULL, NULL, ERR_NOTFOUND, "no-such-branch", &err);
	fetch_fail(url, "0123456789abcdef0123456789abcdef01234567", NULL, NULL, ERR_NOTFOUND,
		   "0123456789abcdef0123456789abcdef01234567", &err);
	fetch_fail(url, "refs/heads/nope", NULL, NULL, ERR_NOTFOUND, "refs/heads/nope", &err);
	fetch_fail(url, "refs/heads/bad..name", NULL, NULL, ERR_INVAL, "bad..name", &err);
}

Test(source_git, subpath_selection)
{
	struct err_ctx err = {{0}};
	struct tree t;
	char *resolved;

	fetch_ok(url, "main", "profiles/prod", NULL, &t, &resolved);
	cr_assert_eq(t.n, 1);
	expect_file(&t, "application.properties", "db.url=jdbc:x\n", 0644);
	tree_free(&t);
	free(resolved);
	fetch_fail(url, "main", "profiles/staging", NULL, ERR_NOTFOUND, "profiles/staging", &err);
	fetch_fail(url, "main", "../x", NULL, ERR_INVAL, "..", &err);
	fetch_fail(url, "main", "config/app.yaml", NULL, ERR_INVAL, "not a directory", &err);
}

Test(source_git, new_commit_refetched_in_same_scratch)
{
	struct tree t;
	char *resolved, sha1[64], sha2[64];
	struct dirent *de;
	size_t entries = 0;
	DIR *d;

	rev_parse("main", sha1);
	fetch_ok(url, "main", NULL, NULL, &t, &resolved);
	expect_resolved(resolved, "main", sha1);
	expect_file(&t, "config/app.yaml", "a: 1\n", 0644);
	tree_free(&t);
	free(resolved);

	put("config/app.yaml", "a: 2\n", 0644);
	put("config/new.yaml", "b: 3\n", 0644);
	commit_all("two");
	rev_parse("main", sha2);
	cr_assert_str_neq(sha1, sha2);
	fetch_ok(url, "main", NULL, NULL, &t, &resolved);
	expect_resolved(resolved, "main", sha2);
	cr_assert_eq(t.n, 4);
	expect_file(&t, "config/app.yaml", "a: 2\n", 0644);
	expect_file(&t, "config/new.yaml", "b: 3\n", 0644);
	tree_free(&t);
	free(resolved);

	/* One cache repository for the URL, reused. */
	d = opendir(scratch);
	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			entries++;
	closedir(d);
	cr_assert_eq(entries, 1);
}

Test(source_git, symlinks_inside_followed)
{
	struct tree t;
	char *resolved;

	link_to("app.yaml", "config/app.yaml");
	link_to("cfg", "config");
	link_to("profiles/prod/shared.yaml", "../../config/app.yaml");
	commit_all("links");
	fetch_ok(url, NULL, NULL, NULL, &t, &resolved);
	cr_assert_eq(t.n, 6);
	expect_file(&t, "app.yaml", "a: 1\n", 0644);
	expect_file(&t, "cfg/app.yaml", "a: 1\n", 0644);
	expect_file(&t, "profiles/prod/shared.yaml", "a: 1\n", 0644);
	tree_free(&t);
	free(resolved);
	/* A link inside the selected subpath may reach elsewhere in the repository. */
	fetch_ok(url, NULL, "profiles/prod", NULL, &t, &resolved);
	cr_assert_eq(t.n, 2);
	expect_file(&t, "shared.yaml", "a: 1\n", 0644);
	tree_free(&t);
	free(resolved);
}

Test(source_git, symlink_escaping_refused)
{
	struct err_ctx err = {{0}};

	link_to("profiles/prod/esc", "../../../outside");
	commit_all("escape");
	fetch_fail(url, NULL, NULL, NULL, ERR_PERM, "profiles/prod/esc", &err);
	fetch_fail(url, NULL, "profiles", NULL, ERR_PERM, "prod/esc", &err);
	git_in(work, "rm", "-q", "profiles/prod/esc", NULL);
	link_to("abs", "/etc/passwd");
	commit_all("absolute");
	fetch_fail(url, NULL, NULL, NULL, ERR_PERM, "abs", &err);
	cr_assert_not_null(strstr(err.msg, "outside the tree"), "%s", err.msg);
}

Test(source_git, symlink_loop_refused)
{
	struct err_ctx err = {{0}};

	link_to("config/loop", "..");
	commit_all("loop");
	fetch_fail(url, NULL, NULL, NULL, ERR_INVAL, "config/loop", &err);
	git_in(work, "rm", "-q", "config/loop", NULL);
	link_to("a", "b");
	link_to("b", "a");
	commit_all("cycle");
	fetch_fail(url, NULL, NULL, NULL, ERR_INVAL, "too many levels", &err);
}

Test(source_git, submodule_entry_refused)
{
	struct err_ctx err = {{0}};
	char sha[64], info[128];

	rev_parse("feature", sha);
	snprintf(info, sizeof(info), "160000,%s,vendor/lib", sha);
	git_in(work, "update-index", "--add", "--cacheinfo", info, NULL);
	git_in(work, "commit", "-q", "-m", "submodule", NULL);
	fetch_fail(url, NULL, NULL, NULL, ERR_UNSUPPORTED, "vendor/lib", &err);
	/* Outside the selected subpath it does not matter. */
	{
		struct tree t;
		char *resolved;

		fetch_ok(url, NULL, "config", NULL, &t, &resolved);
		cr_assert_eq(t.n, 1);
		tree_free(&t);
		free(resolved);
	}
}

Test(source_git, limits_checked_before_reading)
{
	struct err_ctx err = {{0}};
	struct select_limits lim;
	struct source_git_opts o = {.limits = &lim};
	char path[PATH_MAX], chunk[65536];
	size_t n = (size_t)48 << 20;
	int fd;
	struct rusage ru;
	long rss_before;

	select_limits_default(&lim);
	lim.max_file_size = 20;
	put("config/big.yaml", "0123456789abcdefghijX", 0644);
	commit_all("big");
	fetch_fail(url, NULL, NULL, &o, ERR_TOOBIG, "larger than 20 bytes at config/big.yaml",
		   &err);
	select_limits_default(&lim);
	lim.max_files = 2;
	fetch_fail(url, NULL, NULL, &o, ERR_TOOBIG, "more than 2 files", &err);
	select_limits_default(&lim);
	lim.max_depth = 2;
	fetch_fail(url, NULL, NULL, &o, ERR_TOOBIG, "deeper than 2 components at profiles/prod",
		   &err);

	/* The default cap is 8 MiB: a 48 MiB blob (it packs small) is refused from its
	 * object header, before it is inflated: peak memory must not grow by its size. */
	snprintf(path, sizeof(path), "%s/huge.bin", work);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	memset(chunk, 'x', sizeof(chunk)); /* written in chunks: this process stays small */
	for (size_t done = 0; done < n; done += sizeof(chunk))
		cr_assert_eq(write(fd, chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
	close(fd);
	commit_all("huge");
	/* A first fetch, in a child process, transfers the blob (the transfer may inflate
	 * it); the fetch measured here has nothing to transfer, so any growth of this
	 * process's peak would come from reading the tree. */
	{
		pid_t pid = fork();
		int st;

		cr_assert(pid >= 0);
		if (pid == 0) {
			struct tree t;
			char *resolved;
			struct err_ctx e2 = {{0}};

			_exit(source_git_fetch(url, NULL, "config", scratch, &t, &resolved, &e2) ==
				      0
				  ? 0
				  : 1);
		}
		cr_assert_eq(waitpid(pid, &st, 0), pid);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "first fetch failed");
	}
	cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
	rss_before = ru.ru_maxrss;
	fetch_fail(url, NULL, NULL, NULL, ERR_TOOBIG, "larger than 8388608 bytes at huge.bin",
		   &err);
	cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
	cr_assert_lt(ru.ru_maxrss - rss_before, 16 * 1024, "peak RSS grew by %ld KiB",
		     ru.ru_maxrss - rss_before);
}

Test(source_git, unreachable_and_unsupported_urls)
{
	struct err_ctx err = {{0}};
	char missing[PATH_MAX + 16];

	fetch_fail("http://alice:s3cr%2Ft-pw@127.0.0.1:1/repo.git", NULL, NULL, NULL, ERR_IO,
		   "127.0.0.1:1", &err);
	cr_assert_null(strstr(err.msg, "s3cr"), "%s", err.msg);
	cr_assert_null(strstr(err.msg, "alice"), "%s", err.msg);
	snprintf(missing, sizeof(missing), "file://%s/no-such-repo", base);
	fetch_fail(missing, NULL, NULL, NULL, ERR_IO, "no-such-repo", &err);
	/* SSH without a private key is refused before connecting (no agent, no ~/.ssh) */
	fetch_fail("ssh://git@example.invalid/repo.git", NULL, NULL, NULL, ERR_PERM,
		   "no SSH private key", &err);
	fetch_fail("git@example.invalid:org/repo.git", NULL, NULL, NULL, ERR_PERM,
		   "no SSH private key", &err);
	fetch_fail("ftp://example.invalid/repo.git", NULL, NULL, NULL, ERR_UNSUPPORTED, "scheme",
		   &err);
}

Test(source_git, plain_path_url)
{
	struct tree t;
	char *resolved, sha[64];

	rev_parse("main", sha);
	fetch_ok(work, NULL, NULL, NULL, &t, &resolved);
	expect_resolved(resolved, "main", sha);
	cr_assert_eq(t.n, 3);
	tree_free(&t);
	free(resolved);
}

Test(source_git, url_redact)
{
	char *r;

	cr_assert_eq(source_git_url_redact("https://u:p@host/org/repo.git?x=a@b", &r), 0);
	cr_assert_str_eq(r, "https://host/org/repo.git?x=a@b");
	free(r);
	cr_assert_eq(source_git_url_redact("file:///srv/git/repo", &r), 0);
	cr_assert_str_eq(r, "file:///srv/git/repo");
	free(r);
}

/* ---- over HTTP ---- */

/* Serves base/ with git_http_server.py (optionally with basic auth); returns the port. */
static int start_server(const char *user, const char *password)
{
	char script[PATH_MAX], line[64];
	char *argv[] = {"python3",    script,		base, "--user", (char *)user,
			"--password", (char *)password, NULL};
	posix_spawn_file_actions_t fa;
	struct pollfd pfd;
	size_t got = 0;
	int p[2], port = 0;
	ssize_t r;

	if (user == NULL)
		argv[3] = NULL;
	snprintf(script, sizeof(script), "%s/tests/lib/git_http_server.py", SMC_SOURCE_DIR);
	cr_assert_eq(pipe(p), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	cr_assert_eq(posix_spawnp(&server_pid, "python3", &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	while (got + 1 < sizeof(line) && memchr(line, '\n', got) == NULL) {
		cr_assert_eq(poll(&pfd, 1, 20000), 1, "server did not start");
		r = read(p[0], line + got, sizeof(line) - 1 - got);
		cr_assert(r > 0, "server exited");
		got += (size_t)r;
	}
	line[got] = '\0';
	close(p[0]);
	cr_assert_eq(sscanf(line, "PORT %d", &port), 1, "%s", line);
	/* a bare copy to serve */
	{
		char bare[PATH_MAX];
		char *clone[] = {"git", "clone", "-q", "--bare", work, bare, NULL};

		snprintf(bare, sizeof(bare), "%s/served.git", base);
		cr_assert_eq(spawn_argv(clone, NULL, 0), 0);
	}
	return port;
}

Test(source_git, http_clone_and_read)
{
	char u[128], sha[64];
	struct tree t;
	char *resolved;
	int port = start_server(NULL, NULL);

	rev_parse("main", sha);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/served.git", port);
	fetch_ok(u, NULL, NULL, NULL, &t, &resolved);
	expect_resolved(resolved, "main", sha);
	cr_assert_eq(t.n, 3);
	expect_file(&t, "bin/run.sh", "#!/bin/sh\nexit 0\n", 0755);
	tree_free(&t);
	free(resolved);
	fetch_ok(u, "v1", "profiles/prod", NULL, &t, &resolved);
	expect_resolved(resolved, "v1", sha);
	expect_file(&t, "application.properties", "db.url=jdbc:x\n", 0644);
	tree_free(&t);
	free(resolved);
}

Test(source_git, http_basic_auth)
{
	struct err_ctx err = {{0}};
	struct secbuf *pw = NULL, *bad = NULL;
	struct source_git_opts o = {.username = "alice"};
	char u[128], with_creds[160], wrong[160], sha[64];
	struct tree t;
	char *resolved;
	int port = start_server("alice", "open-sesame");

	rev_parse("main", sha);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/served.git", port);
	snprintf(with_creds, sizeof(with_creds), "http://alice:open-sesame@127.0.0.1:%d/served.git",
		 port);
	snprintf(wrong, sizeof(wrong), "http://alice:wrong-pass@127.0.0.1:%d/served.git", port);

	/* Credentials in the URL. */
	fetch_ok(with_creds, NULL, NULL, NULL, &t, &resolved);
	expect_resolved(resolved, "main", sha);
	tree_free(&t);
	free(resolved);

	/* Credentials from the options (the password in a secbuf). */
	cr_assert_eq(secbuf_from(&pw, "open-sesame", 11), 0);
	o.password = pw;
	fetch_ok(u, "feature", NULL, &o, &t, &resolved);
	cr_assert_eq(t.n, 4);
	tree_free(&t);
	free(resolved);

	/* No credentials, and wrong ones: refused, and no password in the message. */
	memset(&err, 0, sizeof(err));
	{
		struct tree t2;
		char *res2 = NULL;
		int r = source_git_fetch(u, NULL, NULL, scratch, &t2, &res2, &err);

		cr_assert(r == ERR_PERM || r == ERR_IO, "%d %s", r, err.msg);
	}
	cr_assert_eq(secbuf_from(&bad, "wrong-pass", 10), 0);
	o.password = bad;
	{
		struct tree t2;
		char *res2 = NULL;
		int r = source_git_fetch_opts(u, NULL, NULL, scratch, &o, &t2, &res2, &err);

		cr_assert(r == ERR_PERM || r == ERR_IO, "%d %s", r, err.msg);
		cr_assert_null(strstr(err.msg, "wrong-pass"), "%s", err.msg);
		r = source_git_fetch(wrong, NULL, NULL, scratch, &t2, &res2, &err);
		cr_assert(r == ERR_PERM || r == ERR_IO, "%d %s", r, err.msg);
		cr_assert_null(strstr(err.msg, "wrong-pass"), "%s", err.msg);
		cr_assert_null(strstr(err.msg, "alice:"), "%s", err.msg);
	}
	secbuf_free(pw);
	secbuf_free(bad);
}

/* ---- over git:// ---- */

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	cr_assert(s >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

static void wait_listening(int port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	for (int i = 0; i < 200; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);

		cr_assert(s >= 0);
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0) {
			close(s);
			return;
		}
		close(s);
		usleep(50000);
	}
	cr_assert_fail("git daemon did not listen on %d", port);
}

Test(source_git, git_daemon_clone_and_read)
{
	char bare[PATH_MAX], portarg[32], basearg[PATH_MAX + 16], u[128], sha[64];
	char *clone[] = {"git", "clone", "-q", "--bare", work, bare, NULL};
	char *daemon[] = {"git",   "daemon", "--reuseaddr",  "--listen=127.0.0.1",
			  portarg, basearg,  "--export-all", base,
			  NULL};
	posix_spawn_file_actions_t fa;
	struct tree t;
	char *resolved;
	int port = free_port();

	snprintf(bare, sizeof(bare), "%s/served.git", base);
	cr_assert_eq(spawn_argv(clone, NULL, 0), 0);
	snprintf(portarg, sizeof(portarg), "--port=%d", port);
	snprintf(basearg, sizeof(basearg), "--base-path=%s", base);
	/* the readiness probe makes the daemon complain "remote end hung up": hush it */
	cr_assert_eq(posix_spawn_file_actions_init(&fa), 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	cr_assert_eq(posix_spawnp(&server_pid, "git", &fa, NULL, daemon, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	wait_listening(port);
	rev_parse("feature", sha);
	snprintf(u, sizeof(u), "git://127.0.0.1:%d/served.git", port);
	fetch_ok(u, "feature", NULL, NULL, &t, &resolved);
	expect_resolved(resolved, "feature", sha);
	cr_assert_eq(t.n, 4);
	expect_file(&t, "feature.txt", "feature\n", 0644);
	tree_free(&t);
	free(resolved);
}
