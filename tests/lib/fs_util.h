/* fs_util.h — file-system helpers for C tests (no shell involved). */
#ifndef SMC_TEST_FS_UTIL_H
#define SMC_TEST_FS_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static inline int fs_util_rm_entry(const char *path, const struct stat *st, int flag,
				   struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf path; 0 on success (a missing path counts as success). */
static inline int fs_util_rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return 0;
	return nftw(path, fs_util_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
