/* source_dir.h — a local directory as a source: every regular file under root/subpath read
 * into a struct tree, walking with directory fds (openat + O_NOFOLLOW, fstat on the open
 * fd) so no path is resolved twice by name.
 *
 * Rules: the ".git" entry is skipped at every level; a symlink is followed only when its
 * target resolves beneath root (the kernel checks it: openat2 RESOLVE_BENEATH), and its
 * content is added under the link's own path (a link to a directory is walked, a loop is
 * refused); a link that leaves root (absolute, or through "..") is refused with ERR_PERM
 * naming the link; FIFOs, sockets and devices are refused with ERR_INVAL naming the path
 * and are never opened; non-UTF-8 names are refused; the select.h limits are checked
 * before a file is read. Needs the openat2 syscall (Linux 5.6) in the sandbox policy. */
#ifndef SMC_FETCHER_SOURCE_DIR_H
#define SMC_FETCHER_SOURCE_DIR_H

#include "common/err.h"
#include "fetcher/select.h"
#include "proto/tree.h"

/* Reads every regular file under root/subpath into *out with paths relative to
 * root/subpath. subpath NULL or "" reads all of root; it is normalised by
 * select_subpath_norm (no "..", not absolute). On success *out is initialised here and
 * owned by the caller (tree_free); on failure *out is untouched and err names the path:
 * ERR_NOTFOUND (root or subpath missing), ERR_PERM (unreadable, or a link leaving root),
 * ERR_INVAL (special file, bad name, link loop), ERR_TOOBIG (a limit), ERR_IO. */
int source_dir_read(const char *root, const char *subpath, struct tree *out, struct err_ctx *err);

/* The same with explicit limits (borrowed; NULL → TREE_MAX_* defaults; each field is
 * clamped to its TREE_MAX_*). */
int source_dir_read_limited(const char *root, const char *subpath, const struct select_limits *lim,
			    struct tree *out, struct err_ctx *err);

#endif
