/* archive.c — read a tar.gz artifact from memory into a tree (libarchive), refusing what
 * a hostile archive can carry. Two passes: the stream pass decompresses with the limits
 * checked every chunk and records every entry by kind (regular files straight into a
 * tree, symlinks, directories, hardlinks copied from their earlier file); the emit pass
 * walks the selected directory and resolves symlinks against what the stream held. */
#include "fetcher/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/str.h"
#include "common/xmalloc.h"

/* Longest name quoted in an error message (the message buffer is 512 bytes). */
#define ARCHIVE_MSG_PATH 160
/* Bytes of pending path while resolving links: hops × (target + '/'). */
#define ARCHIVE_MAX_RESOLVE ((SELECT_MAX_LINK_HOPS + 2) * (TREE_MAX_PATH + 1))

enum node_kind { NODE_NONE, NODE_FILE, NODE_DIR, NODE_LINK };

/* What the stream held. Trees are used as hash-indexed path sets: links carry their
 * target as data, dirs and hard carry nothing. */
struct ar {
	struct archive_limits lim;
	struct tree files; /* regular files (and hardlink copies) with content */
	struct tree links; /* symlinks → target */
	struct tree dirs;  /* directories, explicit and implied */
	struct tree hard;  /* names that were hardlinks (a subset of files) */
	size_t entries;
	size_t max_stream; /* decompressed tar bytes allowed */
	struct err_ctx *err;
};

/* The emit pass: the sorted names of files and links, and the output. */
struct emit {
	struct ar *ar;
	const char **names; /* borrowed from ar->files / ar->links */
	size_t n;
	struct tree out;
	const char *stack[TREE_MAX_DEPTH + 1]; /* real directories being walked (loops) */
	size_t depth;
	size_t dirs;
};

void archive_limits_default(struct archive_limits *l)
{
	select_limits_default(&l->tree);
	l->max_entries = ARCHIVE_MAX_ENTRIES;
	l->max_ratio = ARCHIVE_MAX_RATIO;
}

static void limits_clamp(const struct archive_limits *in, struct archive_limits *out)
{
	archive_limits_default(out);
	if (in == NULL)
		return;
	select_limits_clamp(&in->tree, &out->tree);
	if (in->max_entries != 0 && in->max_entries < out->max_entries)
		out->max_entries = in->max_entries;
	if (in->max_ratio != 0 && in->max_ratio < out->max_ratio)
		out->max_ratio = in->max_ratio;
}

static enum node_kind node_kind(const struct ar *r, const char *path)
{
	if (path[0] == '\0' || tree_find(&r->dirs, path) != NULL)
		return NODE_DIR;
	if (tree_find(&r->files, path) != NULL)
		return NODE_FILE;
	if (tree_find(&r->links, path) != NULL)
		return NODE_LINK;
	return NODE_NONE;
}

static const char *kind_word(enum node_kind k)
{
	switch (k) {
	case NODE_FILE:
		return "a file";
	case NODE_DIR:
		return "a directory";
	case NODE_LINK:
		return "a symlink";
	default:
		return "nothing";
	}
}

/* Normalises an entry name into out[cap]: "./a//b/./c/" → "a/b/c" ("" for the root).
 * Refuses absolute names, "..", non-UTF-8, over-long names. *git is set when a
 * component is ".git". */
static int name_norm(struct ar *r, const char *name, char *out, size_t cap, int *git)
{
	size_t n = strlen(name), i = 0, o = 0;

	*git = 0;
	if (!str_utf8_valid(name, n))
		return err_set(r->err, ERR_INVAL, "entry %zu: name is not valid UTF-8", r->entries);
	if (name[0] == '/')
		return err_set(r->err, ERR_INVAL, "entry %.*s: absolute name refused",
			       ARCHIVE_MSG_PATH, name);
	while (i < n) {
		size_t start = i, len;

		while (i < n && name[i] != '/')
			i++;
		len = i - start;
		if (i < n)
			i++;
		if (len == 0 || (len == 1 && name[start] == '.'))
			continue;
		if (len == 2 && name[start] == '.' && name[start + 1] == '.')
			return err_set(r->err, ERR_INVAL, "entry %.*s: '..' in a name refused",
				       ARCHIVE_MSG_PATH, name);
		if (len == 4 && memcmp(name + start, ".git", 4) == 0)
			*git = 1;
		if (o + (o > 0) + len > r->lim.tree.max_path || o + (o > 0) + len >= cap)
			return err_set(r->err, ERR_TOOBIG,
				       "entry name longer than %zu bytes: %.*s...",
				       r->lim.tree.max_path, ARCHIVE_MSG_PATH, name);
		if (o > 0)
			out[o++] = '/';
		memcpy(out + o, name + start, len);
		o += len;
	}
	out[o] = '\0';
	return 0;
}

/* Checks the decompression so far against the stream cap and the ratio. */
static int check_stream(struct ar *r, struct archive *a)
{
	la_int64_t outb = archive_filter_bytes(a, 0), inb = archive_filter_bytes(a, -1);
	size_t o = outb > 0 ? (size_t)outb : 0, in = inb > 0 ? (size_t)inb : 0, lim;

	if (o > r->max_stream)
		return err_set(r->err, ERR_TOOBIG,
			       "archive expands to more than %zu bytes (entry %zu)", r->max_stream,
			       r->entries);
	if (o > ARCHIVE_RATIO_FLOOR &&
	    (!size_mul(in != 0 ? in : 1, r->lim.max_ratio, &lim) || o > lim))
		return err_set(r->err, ERR_TOOBIG,
			       "archive expands more than %zu:1 (%zu bytes from %zu): a gzip bomb?",
			       r->lim.max_ratio, o, in);
	return 0;
}

static int lib_fail(struct ar *r, struct archive *a, const char *where)
{
	const char *m = archive_error_string(a);

	return err_set(r->err, ERR_INVAL, "archive is truncated or damaged %s: %s", where,
		       m != NULL ? m : "unknown error");
}

/* A name is new in the archive, and every directory above it is a directory (implied
 * ones are added). */
static int claim(struct ar *r, const char *path)
{
	char pre[TREE_MAX_PATH + 1];
	enum node_kind k = node_kind(r, path);
	size_t n = strlen(path);
	int rc;

	if (k != NODE_NONE)
		return err_set(r->err, ERR_CONFLICT, "entry %.*s appears twice in the archive",
			       ARCHIVE_MSG_PATH, path);
	for (size_t i = 0; i < n; i++) {
		if (path[i] != '/')
			continue;
		memcpy(pre, path, i);
		pre[i] = '\0';
		k = node_kind(r, pre);
		if (k == NODE_DIR)
			continue;
		if (k != NODE_NONE)
			return err_set(r->err, ERR_CONFLICT,
				       "entry %.*s lies below %.*s, which is %s", ARCHIVE_MSG_PATH,
				       path, ARCHIVE_MSG_PATH, pre, kind_word(k));
		if ((rc = tree_add(&r->dirs, pre, "", 0, 0)) != 0)
			return err_set(r->err, rc, "too many directories at %.*s", ARCHIVE_MSG_PATH,
				       pre);
	}
	return 0;
}

static int read_file(struct ar *r, struct archive *a, struct archive_entry *e, const char *path)
{
	la_int64_t s = archive_entry_size(e);
	uint8_t *data = NULL;
	size_t size, got = 0;
	int rc;

	if (!archive_entry_size_is_set(e) || s < 0)
		return err_set(r->err, ERR_INVAL, "entry %.*s has no valid size", ARCHIVE_MSG_PATH,
			       path);
	if ((uint64_t)s > SIZE_MAX / 2)
		return err_set(r->err, ERR_TOOBIG, "file larger than %zu bytes at %.*s",
			       r->lim.tree.max_file_size, ARCHIVE_MSG_PATH, path);
	size = (size_t)s;
	if ((rc = select_check(&r->lim.tree, &r->files, path, size, r->err)) != 0)
		return rc;
	data = malloc(size + 1);
	if (data == NULL)
		return err_set(r->err, ERR_NOMEM, "out of memory reading %.*s", ARCHIVE_MSG_PATH,
			       path);
	while (got < size) {
		size_t want = size - got < ARCHIVE_READ_CHUNK ? size - got : ARCHIVE_READ_CHUNK;
		la_ssize_t n = archive_read_data(a, data + got, want);

		if (n < 0) {
			rc = lib_fail(r, a, "reading a file");
			goto out;
		}
		if (n == 0) {
			rc = err_set(r->err, ERR_INVAL, "archive is truncated in %.*s",
				     ARCHIVE_MSG_PATH, path);
			goto out;
		}
		got += (size_t)n;
		if ((rc = check_stream(r, a)) != 0)
			goto out;
	}
	if ((rc = claim(r, path)) != 0)
		goto out;
	rc = select_add(&r->lim.tree, &r->files, path, data, size, archive_entry_perm(e), r->err);
out:
	free(data);
	return rc;
}

static int add_hardlink(struct ar *r, const char *path, const char *target)
{
	char t[TREE_MAX_PATH + 1];
	const struct tree_file *f;
	int git, rc;

	rc = name_norm(r, target, t, sizeof(t), &git);
	if (rc != 0)
		return err_set(r->err, ERR_PERM, "hardlink %.*s points outside the archive",
			       ARCHIVE_MSG_PATH, path);
	if (tree_find(&r->hard, t) != NULL)
		return err_set(r->err, ERR_PERM,
			       "hardlink %.*s points to %.*s, itself a hardlink (chained links "
			       "refused)",
			       ARCHIVE_MSG_PATH, path, ARCHIVE_MSG_PATH, t);
	f = tree_find(&r->files, t);
	if (f == NULL)
		return err_set(r->err, ERR_PERM,
			       "hardlink %.*s points to %.*s, which is %s, not an earlier file of "
			       "the archive",
			       ARCHIVE_MSG_PATH, path, ARCHIVE_MSG_PATH, t,
			       kind_word(node_kind(r, t)));
	if ((rc = claim(r, path)) != 0)
		return rc;
	/* tree_add may move the file array: f is only read before it grows. */
	{
		uint8_t *copy = malloc(f->size + 1);
		uint32_t mode = f->mode;
		size_t size = f->size;

		if (copy == NULL)
			return err_set(r->err, ERR_NOMEM, "out of memory at %.*s", ARCHIVE_MSG_PATH,
				       path);
		memcpy(copy, f->data, size);
		rc = select_add(&r->lim.tree, &r->files, path, copy, size, mode, r->err);
		free(copy);
	}
	if (rc == 0 && (rc = tree_add(&r->hard, path, "", 0, 0)) != 0)
		rc = err_set(r->err, rc, "too many hardlinks at %.*s", ARCHIVE_MSG_PATH, path);
	return rc;
}

static int add_symlink(struct ar *r, const char *path, const char *target)
{
	size_t n = target != NULL ? strlen(target) : 0;
	int rc;

	if (n == 0 || n > TREE_MAX_PATH || !str_utf8_valid(target, n))
		return err_set(r->err, ERR_INVAL, "symlink %.*s has a bad target", ARCHIVE_MSG_PATH,
			       path);
	if (target[0] == '/')
		return err_set(r->err, ERR_PERM, "symlink %.*s points outside the tree",
			       ARCHIVE_MSG_PATH, path);
	if ((rc = select_check(&r->lim.tree, &r->links, path, 0, r->err)) != 0)
		return rc;
	if ((rc = claim(r, path)) != 0)
		return rc;
	if ((rc = tree_add(&r->links, path, target, n, 0)) != 0)
		return err_set(r->err, rc, "too many symlinks at %.*s", ARCHIVE_MSG_PATH, path);
	return 0;
}

static const char *type_word(mode_t t)
{
	switch (t) {
	case AE_IFCHR:
		return "a character device";
	case AE_IFBLK:
		return "a block device";
	case AE_IFIFO:
		return "a FIFO";
	case AE_IFSOCK:
		return "a socket";
	default:
		return "of an unknown type";
	}
}

static int stream_entry(struct ar *r, struct archive *a, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
	char path[TREE_MAX_PATH + 1];
	mode_t type = archive_entry_filetype(e);
	int git, rc;

	if (name == NULL)
		return err_set(r->err, ERR_INVAL, "entry %zu has no name", r->entries);
	if ((rc = name_norm(r, name, path, sizeof(path), &git)) != 0)
		return rc;
	if ((archive_entry_mode(e) & (S_ISUID | S_ISGID)) != 0)
		return err_set(r->err, ERR_PERM, "entry %.*s has the setuid or setgid bit",
			       ARCHIVE_MSG_PATH, path);
	if (archive_entry_sparse_count(e) > 0)
		return err_set(r->err, ERR_UNSUPPORTED, "entry %.*s is a sparse file",
			       ARCHIVE_MSG_PATH, path);
	if (path[0] == '\0') {
		if (hl == NULL && type == AE_IFDIR)
			return 0; /* "./": the root itself */
		return err_set(r->err, ERR_INVAL, "entry %zu has an empty name", r->entries);
	}
	if (git)
		return 0;
	if (hl != NULL)
		return add_hardlink(r, path, hl);
	switch (type) {
	case AE_IFREG:
		return read_file(r, a, e, path);
	case AE_IFDIR:
		if ((rc = select_check_dir(&r->lim.tree, path, r->err)) != 0)
			return rc;
		if ((rc = claim(r, path)) != 0)
			return rc;
		if ((rc = tree_add(&r->dirs, path, "", 0, 0)) != 0)
			return err_set(r->err, rc, "too many directories at %.*s", ARCHIVE_MSG_PATH,
				       path);
		return 0;
	case AE_IFLNK:
		return add_symlink(r, path, archive_entry_symlink(e));
	default:
		return err_set(r->err, ERR_INVAL,
			       "entry %.*s is %s: only regular files, "
			       "directories and links are read",
			       ARCHIVE_MSG_PATH, path, type_word(type));
	}
}

static int stream(struct ar *r, const void *data, size_t size)
{
	const uint8_t *p = data;
	struct archive *a = NULL;
	struct archive_entry *e;
	size_t entry_bytes;
	int rc = 0, lr, first = 1;

	if (size < 2 || p[0] != 0x1f || p[1] != 0x8b)
		return err_set(r->err, ERR_UNSUPPORTED,
			       "artifact is not gzip-compressed: only tar.gz is accepted");
	if (!size_mul(r->lim.max_entries, ARCHIVE_ENTRY_OVERHEAD, &entry_bytes) ||
	    !size_add(entry_bytes, r->lim.tree.max_total, &r->max_stream))
		r->max_stream = SIZE_MAX;
	a = archive_read_new();
	if (a == NULL)
		return err_set(r->err, ERR_NOMEM, "out of memory");
	if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(a) != ARCHIVE_OK) {
		rc = err_set(r->err, ERR_IO, "libarchive setup failed");
		goto out;
	}
	if (archive_read_open_memory(a, data, size) != ARCHIVE_OK) {
		/* open already decompresses and bids: damage shows here or as no format */
		const char *m = archive_error_string(a);

		if (m != NULL && strstr(m, "Unrecognized archive format") != NULL)
			rc = err_set(r->err, ERR_UNSUPPORTED,
				     "artifact is not a tar.gz archive: %s", m);
		else
			rc = lib_fail(r, a, "in its gzip stream");
		goto out;
	}
	for (;;) {
		lr = archive_read_next_header(a, &e);
		if (lr == ARCHIVE_EOF)
			break;
		if (lr != ARCHIVE_OK && lr != ARCHIVE_WARN) {
			if (first &&
			    (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_TAR)
				rc = err_set(
				    r->err, ERR_UNSUPPORTED, "artifact is not a tar.gz archive: %s",
				    archive_error_string(a) != NULL ? archive_error_string(a)
								    : "unknown");
			else
				rc = lib_fail(r, a, "at an entry header");
			goto out;
		}
		if (first) {
			/* exactly gzip over tar: no second gzip layer */
			if (archive_filter_count(a) != 2 ||
			    archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP ||
			    (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_TAR) {
				rc = err_set(
				    r->err, ERR_UNSUPPORTED,
				    "artifact is not a plain tar.gz (%d filters, format %s)",
				    archive_filter_count(a),
				    archive_format_name(a) != NULL ? archive_format_name(a)
								   : "unknown");
				goto out;
			}
			first = 0;
		}
		if (++r->entries > r->lim.max_entries) {
			rc = err_set(r->err, ERR_TOOBIG, "archive has more than %zu entries",
				     r->lim.max_entries);
			goto out;
		}
		if ((rc = check_stream(r, a)) != 0)
			goto out;
		if ((rc = stream_entry(r, a, e)) != 0)
			goto out;
	}
	rc = check_stream(r, a);
out:
	archive_read_free(a);
	return rc;
}

/* ---- the emit pass ---- */

static int name_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Resolves path (from the archive root) following links as the kernel would ("..": the
 * parent of the directory reached so far). what names the path in messages. *real:
 * owned resolved name ("" for the root); *kind: NODE_FILE or NODE_DIR. */
static int resolve(struct ar *r, const char *path, const char *what, char **real,
		   enum node_kind *kind)
{
	char cur[TREE_MAX_PATH + 1];
	size_t lens[TREE_MAX_DEPTH + 2], sp = 0, hops = 0, pos = 0, rlen, clen = 0;
	char *rest = NULL, *nrest;
	enum node_kind k = NODE_DIR;
	int rc = 0;

	cur[0] = '\0';
	rest = xstrdup(path);
	if (rest == NULL)
		return err_set(r->err, ERR_NOMEM, "out of memory");
	rlen = strlen(rest);
	while (pos < rlen) {
		size_t start = pos, len, nlen;
		const struct tree_file *l;

		while (pos < rlen && rest[pos] != '/')
			pos++;
		len = pos - start;
		if (pos < rlen)
			pos++;
		if (len == 0 || (len == 1 && rest[start] == '.'))
			continue;
		if (k == NODE_FILE) {
			rc = err_set(r->err, ERR_NOTFOUND, "%.*s: not a directory on the way",
				     ARCHIVE_MSG_PATH, what);
			goto out;
		}
		if (len == 2 && rest[start] == '.' && rest[start + 1] == '.') {
			if (sp == 0) {
				rc = err_set(r->err, ERR_PERM,
					     "symlink %.*s points outside the tree",
					     ARCHIVE_MSG_PATH, what);
				goto out;
			}
			clen = lens[--sp];
			cur[clen] = '\0';
			continue;
		}
		nlen = clen + (clen > 0) + len;
		if (nlen > TREE_MAX_PATH || sp >= TREE_MAX_DEPTH + 1) {
			rc =
			    err_set(r->err, ERR_TOOBIG, "%.*s: resolves to a name too long or deep",
				    ARCHIVE_MSG_PATH, what);
			goto out;
		}
		lens[sp] = clen;
		if (clen > 0)
			cur[clen++] = '/';
		memcpy(cur + clen, rest + start, len);
		cur[nlen] = '\0';
		k = node_kind(r, cur);
		switch (k) {
		case NODE_DIR:
		case NODE_FILE:
			sp++;
			clen = nlen;
			break;
		case NODE_LINK:
			l = tree_find(&r->links, cur);
			clen = lens[sp]; /* back to the link's directory */
			cur[clen] = '\0';
			k = NODE_DIR;
			if (++hops > SELECT_MAX_LINK_HOPS) {
				rc = err_set(r->err, ERR_INVAL,
					     "symlink %.*s: too many levels of links",
					     ARCHIVE_MSG_PATH, what);
				goto out;
			}
			if (l == NULL) {
				rc = err_set(r->err, ERR_IO, "%.*s: link vanished",
					     ARCHIVE_MSG_PATH, what);
				goto out;
			}
			if (l->data[0] == '/') {
				rc = err_set(r->err, ERR_PERM,
					     "symlink %.*s points outside the tree",
					     ARCHIVE_MSG_PATH, what);
				goto out;
			}
			if (l->size + 1 + (rlen - pos) > ARCHIVE_MAX_RESOLVE) {
				rc = err_set(r->err, ERR_INVAL, "symlink %.*s: target too long",
					     ARCHIVE_MSG_PATH, what);
				goto out;
			}
			nrest = select_join((const char *)l->data, rest + pos);
			if (nrest == NULL) {
				rc = err_set(r->err, ERR_NOMEM, "out of memory");
				goto out;
			}
			free(rest);
			rest = nrest;
			rlen = strlen(rest);
			pos = 0;
			break;
		default:
			rc = err_set(r->err, ERR_NOTFOUND, "%.*s: target does not exist",
				     ARCHIVE_MSG_PATH, what);
			goto out;
		}
	}
	*real = xstrdup(cur);
	if (*real == NULL) {
		rc = err_set(r->err, ERR_NOMEM, "out of memory");
		goto out;
	}
	*kind = k;
out:
	free(rest);
	return rc;
}

static int emit_dir(struct emit *m, const char *real, const char *prefix);

static int emit_file(struct emit *m, const char *real, const char *outpath)
{
	const struct tree_file *f = tree_find(&m->ar->files, real);

	if (f == NULL)
		return err_set(m->ar->err, ERR_IO, "%.*s vanished", ARCHIVE_MSG_PATH, real);
	return select_add(&m->ar->lim.tree, &m->out, outpath, f->data, f->size, f->mode,
			  m->ar->err);
}

/* Emits the link at name (archive name) under outpath. */
static int emit_link(struct emit *m, const char *name, const char *outpath)
{
	enum node_kind k;
	char *real = NULL;
	int rc;

	rc = resolve(m->ar, name, name, &real, &k);
	if (rc != 0)
		return rc;
	if (k == NODE_FILE) {
		rc = emit_file(m, real, outpath);
	} else {
		rc = select_check_dir(&m->ar->lim.tree, outpath, m->ar->err);
		if (rc == 0)
			rc = emit_dir(m, real, outpath);
	}
	free(real);
	return rc;
}

/* Index of the first name >= key. */
static size_t lower_bound(const struct emit *m, const char *key)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(m->names[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Emits every file and link below the real directory real ("" = root) under prefix. */
static int emit_dir(struct emit *m, const char *real, const char *prefix)
{
	struct ar *r = m->ar;
	char *key = NULL, *outpath = NULL;
	size_t klen, i;
	int rc = 0;

	for (size_t d = 0; d < m->depth; d++)
		if (strcmp(m->stack[d], real) == 0)
			return err_set(r->err, ERR_INVAL, "symlink loop at %.*s", ARCHIVE_MSG_PATH,
				       prefix);
	if (m->depth == sizeof(m->stack) / sizeof(m->stack[0]))
		return err_set(r->err, ERR_TOOBIG, "path deeper than %zu components at %.*s",
			       r->lim.tree.max_depth, ARCHIVE_MSG_PATH, prefix);
	if (++m->dirs > SELECT_MAX_DIRS)
		return err_set(r->err, ERR_TOOBIG, "tree has more than %u directories at %.*s",
			       (unsigned)SELECT_MAX_DIRS, ARCHIVE_MSG_PATH, prefix);
	key = real[0] != '\0' ? select_join(real, "") : xstrdup("");
	if (key == NULL)
		return err_set(r->err, ERR_NOMEM, "out of memory");
	klen = strlen(key);
	m->stack[m->depth++] = real;
	for (i = lower_bound(m, key); i < m->n && strncmp(m->names[i], key, klen) == 0; i++) {
		const char *name = m->names[i];

		outpath = select_join(prefix, name + klen);
		if (outpath == NULL) {
			rc = err_set(r->err, ERR_NOMEM, "out of memory");
			break;
		}
		if (tree_find(&r->links, name) != NULL)
			rc = emit_link(m, name, outpath);
		else
			rc = emit_file(m, name, outpath);
		free(outpath);
		outpath = NULL;
		if (rc != 0)
			break;
	}
	m->depth--;
	free(key);
	return rc;
}

static int emit(struct ar *r, const char *sub, struct tree *out)
{
	struct emit m;
	enum node_kind k = NODE_DIR;
	char *real = NULL;
	int rc;

	memset(&m, 0, sizeof(m));
	m.ar = r;
	tree_init(&m.out);
	m.names = xcalloc(r->files.n + r->links.n + 1, sizeof(*m.names));
	if (m.names == NULL)
		return err_set(r->err, ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < r->files.n; i++)
		m.names[m.n++] = r->files.files[i].path;
	for (size_t i = 0; i < r->links.n; i++)
		m.names[m.n++] = r->links.files[i].path;
	qsort(m.names, m.n, sizeof(*m.names), name_cmp);
	if (sub[0] != '\0') {
		rc = resolve(r, sub, sub, &real, &k);
		if (rc == ERR_NOTFOUND)
			rc = err_set(r->err, rc, "path %.*s not found in the artifact",
				     ARCHIVE_MSG_PATH, sub);
		if (rc != 0)
			goto out;
		if (k != NODE_DIR) {
			rc = err_set(r->err, ERR_INVAL, "path %.*s is not a directory",
				     ARCHIVE_MSG_PATH, sub);
			goto out;
		}
	}
	rc = emit_dir(&m, real != NULL ? real : "", "");
	if (rc != 0)
		goto out;
	*out = m.out;
	tree_init(&m.out);
out:
	tree_free(&m.out);
	free(m.names);
	free(real);
	return rc;
}

int archive_targz_read(const void *data, size_t size, const char *subpath,
		       const struct archive_limits *lim, struct tree *out, struct err_ctx *err)
{
	struct ar r;
	char *sub = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	r.err = err;
	limits_clamp(lim, &r.lim);
	tree_init(&r.files);
	tree_init(&r.links);
	tree_init(&r.dirs);
	tree_init(&r.hard);
	if (data == NULL && size != 0)
		return err_set(err, ERR_INVAL, "no artifact data");
	rc = select_subpath_norm(subpath, &sub, err);
	if (rc != 0)
		goto out;
	rc = stream(&r, data, size);
	if (rc != 0)
		goto out;
	if (sub[0] == '\0' && r.links.n == 0) {
		*out = r.files; /* every regular file, as read */
		tree_init(&r.files);
		goto out;
	}
	rc = emit(&r, sub, out);
out:
	tree_free(&r.files);
	tree_free(&r.links);
	tree_free(&r.dirs);
	tree_free(&r.hard);
	free(sub);
	return rc;
}
