/* test_source_dir.c — the directory source against real trees built in a temp dir:
 * exact contents and modes, subpath selection, links inside and outside the root, special
 * files, .git, every limit and the missing-root / missing-subpath errors. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "fetcher/source_dir.h"
#include "proto/tree.h"

extern char **environ;

static char base[PATH_MAX]; /* temp dir holding root/ and outside/ */
static char root[PATH_MAX];

static void run(char *const argv[])
{
	pid_t pid;
	int st;

	cr_assert_eq(posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s failed", argv[0]);
}

static void pathf(char *out, const char *rel)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", root, rel);

	cr_assert(n > 0 && n < PATH_MAX);
}

static void mkdirs(const char *rel)
{
	char p[PATH_MAX];
	char *argv[] = {"mkdir", "-p", p, NULL};

	pathf(p, rel);
	run(argv);
}

static void put(const char *rel, const char *content, mode_t mode)
{
	char p[PATH_MAX];
	size_t n = strlen(content);
	int fd;

	pathf(p, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0, "open %s: %s", p, strerror(errno));
	cr_assert_eq(write(fd, content, n), (ssize_t)n);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void link_to(const char *rel, const char *target)
{
	char p[PATH_MAX];

	pathf(p, rel);
	cr_assert_eq(symlink(target, p), 0, "symlink %s: %s", p, strerror(errno));
}

static void setup(void)
{
	char *argv[] = {"mkdir", "-p", root, NULL};

	snprintf(base, sizeof(base), "/tmp/smc-srcdir-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	snprintf(root, sizeof(root), "%s/root", base);
	run(argv);
}

static void teardown(void)
{
	char *argv[] = {"rm", "-rf", base, NULL};

	if (base[0] != '\0')
		run(argv);
}

static const struct tree_file *find(const struct tree *t, const char *path)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->files[i].path, path) == 0)
			return &t->files[i];
	return NULL;
}

static void expect_file(const struct tree *t, const char *path, const char *content, uint32_t mode)
{
	const struct tree_file *f = find(t, path);

	cr_assert_not_null(f, "missing %s", path);
	cr_assert_eq(f->size, strlen(content), "size of %s", path);
	cr_assert_eq(memcmp(f->data, content, f->size), 0, "content of %s", path);
	cr_assert_eq(f->data[f->size], '\0');
	cr_assert_eq(f->mode, mode, "mode of %s: %o", path, f->mode);
}

/* Reads root/sub expecting failure with code and a message containing needle; also checks
 * that the out-parameter was left untouched. */
static void expect_fail(const char *sub, const struct select_limits *lim, int code,
			const char *needle)
{
	struct err_ctx err = {{0}};
	struct tree t;
	int r;

	memset(&t, 0xA5, sizeof(t));
	r = source_dir_read_limited(root, sub, lim, &t, &err);
	cr_assert_eq(r, code, "expected %s, got %d (%s): %s", err_str(code), r, err_str(r),
		     err.msg);
	cr_assert_not_null(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
	cr_assert_eq(t.n, (size_t)0xA5A5A5A5A5A5A5A5ull, "out written on failure");
}

TestSuite(source_dir, .init = setup, .fini = teardown);

Test(source_dir, nested_tree_read_exactly)
{
	struct err_ctx err = {{0}};
	struct tree t;

	mkdirs("sub/deep");
	put("a.txt", "alpha\n", 0644);
	put("sub/run.sh", "#!/bin/sh\necho beta\n", 0755);
	put("sub/deep/empty", "", 0600);
	put("sub/deep/values.yaml", "key: value\n", 0640);
	cr_assert_eq(source_dir_read(root, NULL, &t, &err), 0, "%s", err.msg);
	cr_assert_eq(t.n, 4);
	expect_file(&t, "a.txt", "alpha\n", 0644);
	expect_file(&t, "sub/run.sh", "#!/bin/sh\necho beta\n", 0755);
	expect_file(&t, "sub/deep/empty", "", 0600);
	expect_file(&t, "sub/deep/values.yaml", "key: value\n", 0640);
	cr_assert_eq(t.total, 6 + 20 + 0 + 11);
	tree_free(&t);
}

Test(source_dir, subpath_selects_and_relativises)
{
	struct err_ctx err = {{0}};
	struct tree t;

	mkdirs("profiles/prod");
	put("top.txt", "top", 0644);
	put("profiles/prod/application.properties", "a=b\n", 0644);
	cr_assert_eq(source_dir_read(root, "./profiles//prod/", &t, &err), 0, "%s", err.msg);
	cr_assert_eq(t.n, 1);
	expect_file(&t, "application.properties", "a=b\n", 0644);
	tree_free(&t);
	cr_assert_eq(source_dir_read(root, ".", &t, &err), 0, "%s", err.msg);
	cr_assert_eq(t.n, 2);
	tree_free(&t);
	expect_fail("profiles/staging", NULL, ERR_NOTFOUND, "profiles/staging");
	expect_fail("../root", NULL, ERR_INVAL, "..");
	expect_fail("/etc", NULL, ERR_INVAL, "/etc");
	expect_fail("top.txt", NULL, ERR_INVAL, "not a directory");
}

Test(source_dir, symlinks_inside_are_followed)
{
	struct err_ctx err = {{0}};
	struct tree t;

	mkdirs("base");
	mkdirs("app");
	put("base/common.env", "A=1\n", 0644);
	link_to("app/common.env", "../base/common.env"); /* file link, relative */
	link_to("app/base", "../base");			 /* directory link */
	link_to("app/self", "./common.env");		 /* link to a link */
	cr_assert_eq(source_dir_read(root, "app", &t, &err), 0, "%s", err.msg);
	cr_assert_eq(t.n, 3);
	expect_file(&t, "common.env", "A=1\n", 0644);
	expect_file(&t, "base/common.env", "A=1\n", 0644);
	expect_file(&t, "self", "A=1\n", 0644);
	tree_free(&t);
}

Test(source_dir, symlink_absolute_refused_naming_link)
{
	mkdirs("app");
	put("app/ok", "x", 0644);
	link_to("app/passwd", "/etc/passwd");
	expect_fail(NULL, NULL, ERR_PERM, "app/passwd");
	expect_fail(NULL, NULL, ERR_PERM, "outside");
}

Test(source_dir, symlink_dotdot_escape_refused_naming_link)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/outside", base);
	cr_assert_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/outside/secret", base);
	cr_assert_eq(close(open(p, O_WRONLY | O_CREAT, 0600)), 0);
	mkdirs("app/x");
	link_to("app/x/esc", "../../../outside/secret");
	expect_fail(NULL, NULL, ERR_PERM, "app/x/esc");
	/* The same link is refused when the read starts below it, too. */
	expect_fail("app", NULL, ERR_PERM, "x/esc");
}

Test(source_dir, symlink_loop_and_dangling_refused)
{
	mkdirs("a");
	link_to("a/loop", "..");
	expect_fail(NULL, NULL, ERR_INVAL, "a/loop");
	teardown();
	setup();
	mkdirs("a");
	link_to("a/dangling", "nowhere");
	expect_fail(NULL, NULL, ERR_NOTFOUND, "a/dangling");
}

Test(source_dir, fifo_refused_without_blocking)
{
	char p[PATH_MAX];

	put("a.txt", "a", 0644);
	pathf(p, "pipe");
	cr_assert_eq(mkfifo(p, 0600), 0);
	expect_fail(NULL, NULL, ERR_INVAL, "pipe is a FIFO");
	teardown();
	setup();
	mkdirs("hidden");
	mkdirs("app");
	pathf(p, "hidden/pipe");
	cr_assert_eq(mkfifo(p, 0600), 0);
	link_to("app/via-link", "../hidden/pipe");
	expect_fail("app", NULL, ERR_INVAL, "via-link is a FIFO");
}

Test(source_dir, git_directory_skipped)
{
	struct err_ctx err = {{0}};
	struct tree t;

	mkdirs(".git/objects/ab");
	mkdirs("sub");
	put(".git/config", "[core]\n", 0644);
	put(".git/objects/ab/cdef", "blob", 0444);
	put("sub/.git", "gitdir: ../.git/modules/sub\n", 0644);
	put("sub/file", "f", 0644);
	put(".gitignore", "*.o\n", 0644);
	cr_assert_eq(source_dir_read(root, NULL, &t, &err), 0, "%s", err.msg);
	cr_assert_eq(t.n, 2);
	expect_file(&t, "sub/file", "f", 0644);
	expect_file(&t, ".gitignore", "*.o\n", 0644);
	tree_free(&t);
	expect_fail(".git", NULL, ERR_INVAL, ".git");
}

Test(source_dir, limit_file_count)
{
	struct select_limits lim;
	struct err_ctx err = {{0}};
	struct tree t;

	select_limits_default(&lim);
	lim.max_files = 3;
	put("f1", "1", 0644);
	put("f2", "2", 0644);
	put("f3", "3", 0644);
	cr_assert_eq(source_dir_read_limited(root, NULL, &lim, &t, &err), 0, "%s", err.msg);
	cr_assert_eq(t.n, 3);
	tree_free(&t);
	put("f4", "4", 0644);
	expect_fail(NULL, &lim, ERR_TOOBIG, "more than 3 files at f4");
}

Test(source_dir, limit_file_size)
{
	struct select_limits lim;

	select_limits_default(&lim);
	lim.max_file_size = 10;
	put("small", "0123456789", 0644);
	put("zbig", "0123456789X", 0644);
	expect_fail(NULL, &lim, ERR_TOOBIG, "file larger than 10 bytes at zbig");
}

Test(source_dir, limit_total_size)
{
	struct select_limits lim;

	select_limits_default(&lim);
	lim.max_total = 15;
	put("a", "0123456789", 0644);
	put("b", "0123456789", 0644);
	expect_fail(NULL, &lim, ERR_TOOBIG, "tree larger than 15 bytes at b");
}

Test(source_dir, limit_depth_and_path_length)
{
	struct select_limits lim;
	struct err_ctx err = {{0}};
	struct tree t;

	select_limits_default(&lim);
	lim.max_depth = 3;
	mkdirs("a/b");
	put("a/b/c", "ok", 0644);
	cr_assert_eq(source_dir_read_limited(root, NULL, &lim, &t, &err), 0, "%s", err.msg);
	tree_free(&t);
	mkdirs("a/b/c2/d");
	put("a/b/c2/d/e", "too deep", 0644);
	expect_fail(NULL, &lim, ERR_TOOBIG, "deeper than 3 components at a/b/c2");

	select_limits_default(&lim);
	lim.max_path = 8;
	expect_fail(NULL, &lim, ERR_TOOBIG, "longer than 8 bytes");
}

Test(source_dir, limits_are_clamped_to_tree_maxima)
{
	struct select_limits in, l;

	memset(&in, 0xff, sizeof(in));
	select_limits_clamp(&in, &l);
	cr_assert_eq(l.max_files, TREE_MAX_FILES);
	cr_assert_eq(l.max_file_size, TREE_MAX_FILE_SIZE);
	cr_assert_eq(l.max_total, TREE_MAX_TOTAL);
	cr_assert_eq(l.max_depth, TREE_MAX_DEPTH);
	cr_assert_eq(l.max_path, TREE_MAX_PATH);
}

Test(source_dir, non_utf8_name_refused)
{
	put("ok", "x", 0644);
	put("bad\xff\xfe", "x", 0644);
	expect_fail(NULL, NULL, ERR_INVAL, "UTF-8");
}

Test(source_dir, missing_root_named)
{
	struct err_ctx err = {{0}};
	struct tree t;
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/no-such-dir", base);
	cr_assert_eq(source_dir_read(p, NULL, &t, &err), ERR_NOTFOUND);
	cr_assert_not_null(strstr(err.msg, p), "%s", err.msg);
}

Test(source_dir, unreadable_file_named)
{
	put("ok", "x", 0644);
	put("locked", "x", 0000);
	if (geteuid() == 0)
		cr_skip_test("root reads mode 000 files");
	expect_fail(NULL, NULL, ERR_PERM, "locked");
}
