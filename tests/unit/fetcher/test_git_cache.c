/* test_git_cache.c — LRU eviction of the Git clone cache: oldest repositories go first,
 * the one just used stays whatever its size, other entries are never touched. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetcher/git_cache.h"

static char dir[64];
static char other[128]; /* a directory in the cache that is not a repository */

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/smc-git-cache-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

/* A fake repository named by c repeated 64 times, with one file of size bytes inside a
 * subdirectory, and mtime t. */
static void repo(char c, size_t size, time_t t)
{
	char name[65], path[256];
	struct timespec ts[2] = {{t, 0}, {t, 0}};
	char *buf = calloc(1, size);
	int fd;

	memset(name, c, 64);
	name[64] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s/objects", dir, name);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s/objects/pack", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, buf, size), (ssize_t)size);
	fsync(fd);
	close(fd);
	free(buf);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static int exists(char c)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%.*s", dir, 64,
		 "................................................................");
	for (size_t i = strlen(dir) + 1; i < strlen(path); i++)
		path[i] = c;
	return stat(path, &st) == 0;
}

Test(git_cache, evicts_least_recently_used_first, .init = setup)
{
	size_t removed = 99;
	uint64_t left = 0;

	repo('a', 1 << 20, 1000); /* oldest */
	repo('b', 1 << 20, 3000);
	repo('c', 1 << 20, 2000);
	repo('d', 1 << 20, 4000); /* just used */
	snprintf(other, sizeof(other), "%s/not-a-repo", dir);
	cr_assert_eq(mkdir(other, 0700), 0);
	/* room for about two repositories */
	cr_assert_eq(git_cache_evict(dir, (uint64_t)5 << 19, &removed, &left), 0);
	cr_assert_eq(removed, 2);
	cr_assert_not(exists('a'));
	cr_assert_not(exists('c'));
	cr_assert(exists('b'));
	cr_assert(exists('d'));
	cr_assert_leq(left, (uint64_t)5 << 19);
	cr_assert_geq(left, (uint64_t)2 << 20);
	cr_assert_eq(access(other, F_OK), 0);
	/* under the cap: nothing more goes */
	cr_assert_eq(git_cache_evict(dir, (uint64_t)5 << 19, &removed, NULL), 0);
	cr_assert_eq(removed, 0);
}

Test(git_cache, newest_kept_even_over_cap, .init = setup)
{
	size_t removed = 99;

	repo('e', 1 << 20, 1000);
	repo('f', 2 << 20, 5000);
	cr_assert_eq(git_cache_evict(dir, 4096, &removed, NULL), 0);
	cr_assert_eq(removed, 1);
	cr_assert_not(exists('e'));
	cr_assert(exists('f'));
}

Test(git_cache, missing_dir_is_an_error)
{
	cr_assert_eq(git_cache_evict("/nonexistent/smc-cache", 1, NULL, NULL), ERR_IO);
}
