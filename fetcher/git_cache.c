/* git_cache.c — LRU eviction of the fetcher's Git clone cache. */
#include "fetcher/git_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xmalloc.h"

struct git_cache_entry {
	char name[65];
	struct timespec mtime;
	uint64_t bytes;
};

static int is_repo_name(const char *n)
{
	size_t i;

	for (i = 0; n[i] != '\0'; i++)
		if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
			return 0;
	return i == 64;
}

/* Bytes (allocated blocks) under the directory fd dfd, which is consumed. */
static int du(int dfd, int depth, uint64_t *out)
{
	DIR *d;
	struct dirent *e;
	uint64_t sum = 0, sub;
	int rc = 0;

	if (depth > GIT_CACHE_MAX_DEPTH) {
		close(dfd);
		return ERR_TOOBIG;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return ERR_IO;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* removed meanwhile */
		sum += (uint64_t)st.st_blocks * 512u;
		if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd(d), e->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (fd < 0 || (rc = du(fd, depth + 1, &sub)) != 0) {
				rc = rc ? rc : ERR_IO;
				break;
			}
			sum += sub;
		}
	}
	closedir(d);
	if (rc == 0)
		*out = sum;
	return rc;
}

/* rm -r of name under dfd (not following links). */
static int rm_tree(int dfd, const char *name, int depth)
{
	DIR *d;
	struct dirent *e;
	int fd, rc = 0;

	if (depth > GIT_CACHE_MAX_DEPTH)
		return ERR_TOOBIG;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return unlinkat(dfd, name, 0) == 0 || errno == ENOENT ? 0 : ERR_IO;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return ERR_IO;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0 || errno == ENOENT)
			continue;
		rc = rm_tree(dirfd(d), e->d_name, depth + 1);
	}
	closedir(d);
	if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		rc = ERR_IO;
	return rc;
}

static int newer_first(const void *a, const void *b)
{
	const struct git_cache_entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? 1 : -1;
	return strcmp(x->name, y->name);
}

int git_cache_evict(const char *dir, uint64_t max_bytes, size_t *removed, uint64_t *total)
{
	struct git_cache_entry *ents = NULL;
	size_t n = 0, gone = 0;
	uint64_t sum = 0;
	DIR *d = NULL;
	struct dirent *e;
	int dfd, rc = 0;

	if (max_bytes == 0)
		max_bytes = FETCHER_CACHE_MAX;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ERR_IO;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return ERR_IO;
	}
	ents = xcalloc(GIT_CACHE_MAX_ENTRIES, sizeof(*ents));
	if (ents == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	while ((e = readdir(d)) != NULL && n < GIT_CACHE_MAX_ENTRIES) {
		struct stat st;
		int fd;

		if (!is_repo_name(e->d_name) ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
			continue;
		fd = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || du(fd, 0, &ents[n].bytes) != 0)
			continue;
		memcpy(ents[n].name, e->d_name, 65);
		ents[n].mtime = st.st_mtim;
		ents[n].bytes += (uint64_t)st.st_blocks * 512u;
		sum += ents[n].bytes;
		n++;
	}
	qsort(ents, n, sizeof(*ents), newer_first);
	/* ents[0] is the most recent (just fetched): kept whatever its size */
	for (size_t i = n; i > 1 && sum > max_bytes; i--) {
		if ((rc = rm_tree(dfd, ents[i - 1].name, 0)) != 0)
			goto out;
		sum -= ents[i - 1].bytes;
		gone++;
	}
out:
	free(ents);
	closedir(d);
	if (rc == 0) {
		if (removed != NULL)
			*removed = gone;
		if (total != NULL)
			*total = sum;
	}
	return rc;
}
