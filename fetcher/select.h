/* select.h — what a source (directory, Git) may put into a tree: the subpath it selects,
 * and the limits checked before any file content is copied, with messages that name the
 * path and the limit. Shared by source_dir.c and source_git.c so both sources refuse the
 * same inputs with the same words. */
#ifndef SMC_FETCHER_SELECT_H
#define SMC_FETCHER_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "proto/tree.h"

/* Caps for one read. Each is at most the matching TREE_MAX_* of proto/tree.h (larger
 * values are clamped down to it); tests pass small caps. */
struct select_limits {
	size_t max_files;     /* files in the tree */
	size_t max_file_size; /* bytes in one file */
	size_t max_total;     /* bytes of all files */
	size_t max_depth;     /* components in one path */
	size_t max_path;      /* bytes in one path */
};

/* Symlink hops followed while resolving one path (as Linux's MAXSYMLINKS). */
#define SELECT_MAX_LINK_HOPS 40
/* Directories entered in one read (links to directories can multiply empty ones). */
#define SELECT_MAX_DIRS TREE_MAX_FILES
/* Entries in one directory listing (files beyond max_files are refused anyway). */
#define SELECT_MAX_DIR_ENTRIES (TREE_MAX_FILES + SELECT_MAX_DIRS)

/* Fills *l with the TREE_MAX_* defaults. Never fails. */
void select_limits_default(struct select_limits *l);
/* Copies in (NULL → defaults) into *out, clamping every field to its TREE_MAX_*. */
void select_limits_clamp(const struct select_limits *in, struct select_limits *out);

/* Normalises a subpath: NULL, "", ".", "./" select the whole tree (*out = ""); otherwise
 * "a//b/./c/" → "a/b/c". Refuses (ERR_INVAL naming it) absolute paths, ".." components,
 * non-UTF-8 bytes and paths over TREE_MAX_PATH. Owned out-parameter *out (free()). */
int select_subpath_norm(const char *subpath, char **out, struct err_ctx *err);

/* "prefix/name", or a copy of name when prefix is "". Owned result (free()), NULL on
 * ENOMEM. */
char *select_join(const char *prefix, const char *name);

/* Checks that a file of `size` bytes at `path` may still be added to t under l: path
 * length, depth, file count, file size, total. ERR_TOOBIG with a message naming the
 * limit and the path ("tree larger than N bytes at <path>"). Call before reading. */
int select_check(const struct select_limits *l, const struct tree *t, const char *path, size_t size,
		 struct err_ctx *err);
/* Checks only path length and depth of a directory about to be entered (so a deep chain
 * of empty directories is refused too). ERR_TOOBIG naming the limit and the path. */
int select_check_dir(const struct select_limits *l, const char *path, struct err_ctx *err);

/* select_check, then tree_add (a copy of data; mode is reduced to its 0777 bits), with
 * tree_add's failures turned into messages naming path. */
int select_add(const struct select_limits *l, struct tree *t, const char *path, const void *data,
	       size_t size, uint32_t mode, struct err_ctx *err);

#endif
