/* tree.h — a file tree in memory, and its wire form: a sealed memfd passed with
 * SCM_RIGHTS alongside the TREE message (bulk bytes never ride inside msgpack).
 *
 * Memfd layout (all integers big-endian):
 *   "SMCTREE1" | u32 count | count × { u32 path_len | path | u32 mode | u64 size | bytes }
 * Paths are relative, '/'-separated, UTF-8, no "", "." or ".." component, no leading '/',
 * no NUL, unique. mode holds only permission bits (regular files only: the tree never
 * carries links, devices or directories; directories are implied by paths).
 * The reader maps the memfd read-only, checks the seals (F_SEAL_WRITE|SHRINK|GROW|SEAL),
 * and validates every field against the limits below before allocating. */
#ifndef SMC_TREE_H
#define SMC_TREE_H

#include <stddef.h>
#include <stdint.h>

#define TREE_MAX_FILES 20000               /* files in one tree */
#define TREE_MAX_PATH 1024                 /* bytes in one path */
#define TREE_MAX_FILE_SIZE (8u << 20)      /* bytes in one file (8 MiB) */
#define TREE_MAX_TOTAL ((size_t)256 << 20) /* bytes of all files (256 MiB) */
#define TREE_MAX_DEPTH 64                  /* path components */

struct tree_file {
	char *path;    /* owned */
	uint8_t *data; /* owned, NUL-terminated after size (not counted) */
	size_t size;
	uint32_t mode;
};

struct tree {
	struct tree_file *files;
	size_t n;
	size_t cap;
	size_t total; /* sum of sizes */
	size_t *slots;  /* path hash index (file index + 1, 0 = empty); internal to tree.c */
	size_t nslots;
};

void tree_init(struct tree *t);
/* Frees all files; NULL is a no-op. */
void tree_free(struct tree *t);
/* Validates path (rules above) and appends a copy of data; mode is masked to 0777. ERR_INVAL names nothing; the
 * caller knows the path. ERR_TOOBIG when a TREE_MAX_* limit would be passed;
 * ERR_CONFLICT when the path is already present. */
int tree_add(struct tree *t, const char *path, const void *data, size_t size, uint32_t mode);
/* Borrowed pointer valid until the tree changes, or NULL. */
const struct tree_file *tree_find(const struct tree *t, const char *path);
/* 0 when path satisfies the path rules above, ERR_INVAL otherwise. */
int tree_path_check(const char *path);
/* Writes the tree into a new sealed memfd. Owned out-parameter *fd (close it). */
int tree_to_memfd(const struct tree *t, int *fd);
/* Reads and validates a sealed memfd into *out (initialised here; owned by the caller,
 * tree_free). Does not close fd. ERR_PROTO on any malformed or unsealed input. */
int tree_from_memfd(int fd, struct tree *out);

#endif
