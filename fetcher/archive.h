/* archive.h — a Flux artifact (tar + gzip, in memory) read with libarchive into a struct
 * tree, refusing everything a hostile archive can carry.
 *
 * Accepted: exactly one gzip layer over a tar stream (ustar, pax or GNU tar); regular
 * files, directories, symlinks that resolve inside the archive, hardlinks to an earlier
 * regular file. Entry names are normalised ("./a//b/" → "a/b"); ".git" entries are
 * skipped at every level, as the directory and Git sources do.
 *
 * Refused (nothing is returned; err names the entry, never file content):
 *  - other compression or none, nested gzip, not a tar (ERR_UNSUPPORTED);
 *  - absolute names, ".." components, non-UTF-8 names (ERR_INVAL), names over max_path,
 *    deeper than max_depth (ERR_TOOBIG);
 *  - devices, FIFOs, sockets, sparse files (ERR_INVAL / ERR_UNSUPPORTED);
 *  - the setuid or setgid bit on any entry (ERR_PERM). They are refused rather than
 *    stripped: source-controller never produces them (it writes 0644/0755), so their
 *    presence means the artifact was not made by it;
 *  - the same name twice, in any combination of kinds, and an entry below a file or a
 *    symlink ("a" a symlink and "a/x" a file: the write-through-a-link attack)
 *    (ERR_CONFLICT);
 *  - symlinks with an absolute target or whose resolution climbs above the archive root
 *    (ERR_PERM), dangling (ERR_NOTFOUND), looping or chained over SELECT_MAX_LINK_HOPS
 *    (ERR_INVAL);
 *  - hardlinks to anything but an earlier regular file (a later name, a directory, a
 *    symlink, another hardlink = chained, a name outside the archive) (ERR_PERM);
 *  - more than max_entries entries, a file over max_file_size, files over max_total or
 *    max_files, a tar stream that expands to more than the total allows or at a ratio
 *    over max_ratio:1 once past ARCHIVE_RATIO_FLOOR bytes (gzip bombs: checked while
 *    decompressing, every ARCHIVE_READ_CHUNK bytes) (ERR_TOOBIG);
 *  - truncated or damaged archives (ERR_INVAL). libarchive does not check gzip's CRC32
 *    or length trailer: integrity is the artifact digest's job (artifact.h verifies it
 *    over the downloaded bytes before this reader sees them).
 *
 * Symlinks inside the tree are resolved as source_dir.h does: the target's content is
 * added under the link's own name, a link to a directory is walked. A hardlink copies
 * the content of the earlier file. Modes keep only their 0777 bits. */
#ifndef SMC_FETCHER_ARCHIVE_H
#define SMC_FETCHER_ARCHIVE_H

#include <stddef.h>

#include "common/err.h"
#include "fetcher/select.h"
#include "proto/tree.h"

/* Entries of any kind in one archive (files, directories, links). */
#define ARCHIVE_MAX_ENTRIES (TREE_MAX_FILES + SELECT_MAX_DIRS)
/* Largest decompressed/compressed ratio once past the floor below. Real artifacts of
 * text files stay under 20:1; gzip reaches about 1030:1 on zeros. */
#define ARCHIVE_MAX_RATIO 200
/* Decompressed bytes below which the ratio is not checked (tiny archives of empty
 * files compress very well and are harmless). */
#define ARCHIVE_RATIO_FLOOR ((size_t)4 << 20)
/* Tar stream bytes allowed per entry on top of the file contents (header, pax
 * records, long names, padding). */
#define ARCHIVE_ENTRY_OVERHEAD ((size_t)4096)
/* Bytes decompressed between two limit checks. */
#define ARCHIVE_READ_CHUNK ((size_t)64 << 10)

/* Caps for one archive. tree: clamped to TREE_MAX_* like every source; max_entries and
 * max_ratio: 0 → the defaults above, larger values clamped to them. */
struct archive_limits {
	struct select_limits tree;
	size_t max_entries;
	size_t max_ratio;
};

/* Fills *l with the defaults. Never fails. */
void archive_limits_default(struct archive_limits *l);

/* Reads the tar.gz in data[0..size) (borrowed) and puts the files under subpath (NULL or
 * "" = all; normalised by select_subpath_norm, may lead through symlinks) into *out with
 * paths relative to subpath. lim borrowed, NULL → defaults. On success *out is
 * initialised here and owned by the caller (tree_free); on failure *out is untouched and
 * err says which entry and why (see the list above; ERR_NOTFOUND when subpath is
 * missing, ERR_NOMEM). */
int archive_targz_read(const void *data, size_t size, const char *subpath,
		       const struct archive_limits *lim, struct tree *out, struct err_ctx *err);

#endif
