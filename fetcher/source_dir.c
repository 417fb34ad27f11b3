/* source_dir.c — read a local directory into a tree with fd-relative walking. */
#include "fetcher/source_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/str.h"
#include "common/xmalloc.h"

/* Longest path quoted in an error message (the message buffer is 512 bytes). */
#define SOURCE_DIR_MSG_PATH 200

struct dir_id {
	dev_t dev;
	ino_t ino;
};

struct walk {
	int rootfd;
	const struct select_limits *lim;
	struct tree t;
	struct dir_id stack[TREE_MAX_DEPTH + 1]; /* directories being walked, for loops */
	size_t depth;
	size_t dirs; /* directories entered so far (SELECT_MAX_DIRS) */
	struct err_ctx *err;
};

static int walk_dir(struct walk *w, int fd, const char *rel, const char *rootrel);

static int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = flags;
	how.resolve = resolve;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static const char *kind_name(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	return "not a regular file";
}

static int errno_to_err(int e)
{
	switch (e) {
	case ENOENT:
		return ERR_NOTFOUND;
	case EACCES:
	case EPERM:
		return ERR_PERM;
	case ENOMEM:
		return ERR_NOMEM;
	default:
		return ERR_IO;
	}
}

/* Reads the regular file open on fd (st from fstat on that fd) into the tree. */
static int read_fd(struct walk *w, int fd, const struct stat *st, const char *rel)
{
	size_t size, got = 0;
	uint8_t *data = NULL;
	char extra;
	ssize_t r;
	int ret;

	if (st->st_size < 0)
		return err_set(w->err, ERR_IO, "cannot read %.*s: bad size", SOURCE_DIR_MSG_PATH,
			       rel);
	size = (size_t)st->st_size;
	ret = select_check(w->lim, &w->t, rel, size, w->err);
	if (ret < 0)
		goto out;
	data = malloc(size + 1);
	if (data == NULL) {
		ret = err_set(w->err, ERR_NOMEM, "out of memory reading %.*s", SOURCE_DIR_MSG_PATH,
			      rel);
		goto out;
	}
	while (got < size) {
		r = read(fd, data + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = err_set(w->err, errno_to_err(errno), "cannot read %.*s: %s",
				      SOURCE_DIR_MSG_PATH, rel, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	do
		r = read(fd, &extra, 1);
	while (r < 0 && errno == EINTR);
	if (got != size || r != 0) {
		ret = err_set(w->err, ERR_IO, "%.*s changed while it was read", SOURCE_DIR_MSG_PATH,
			      rel);
		goto out;
	}
	ret = select_add(w->lim, &w->t, rel, data, size, (uint32_t)st->st_mode, w->err);
out:
	free(data);
	return ret;
}

/* Opens name in dirfd without following a link or blocking on a FIFO, and checks that
 * the opened object is the regular file that fstatat saw (expect). */
static int read_entry(struct walk *w, int dirfd, const char *name, const struct stat *expect,
		      const char *rel)
{
	struct stat st;
	int fd, ret;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return err_set(w->err, errno_to_err(errno), "cannot open %.*s: %s",
			       SOURCE_DIR_MSG_PATH, rel, strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = err_set(w->err, ERR_IO, "cannot stat %.*s: %s", SOURCE_DIR_MSG_PATH, rel,
			      strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_dev != expect->st_dev || st.st_ino != expect->st_ino) {
		ret = err_set(w->err, ERR_IO, "%.*s changed while it was read", SOURCE_DIR_MSG_PATH,
			      rel);
		goto out;
	}
	ret = read_fd(w, fd, &st, rel);
out:
	close(fd);
	return ret;
}

/* Follows the symlink at rootrel (relative to the tree root) with the kernel confining
 * the resolution beneath the root, then reads or walks what it points to under rel. */
static int follow_link(struct walk *w, const char *rel, const char *rootrel)
{
	const uint64_t resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	struct stat st, st2;
	int pfd = -1, fd = -1, ret;

	/* O_PATH first: a link to a device or FIFO is refused without opening it. */
	pfd = sys_openat2(w->rootfd, rootrel, O_PATH | O_CLOEXEC, resolve);
	if (pfd < 0) {
		switch (errno) {
		case EXDEV:
			ret = err_set(w->err, ERR_PERM, "symlink %.*s points outside the tree",
				      SOURCE_DIR_MSG_PATH, rel);
			break;
		case ENOENT:
			ret = err_set(w->err, ERR_NOTFOUND, "symlink %.*s: target does not exist",
				      SOURCE_DIR_MSG_PATH, rel);
			break;
		case ELOOP:
			ret = err_set(w->err, ERR_INVAL, "symlink %.*s: too many levels of links",
				      SOURCE_DIR_MSG_PATH, rel);
			break;
		case ENOSYS:
			ret = err_set(w->err, ERR_UNSUPPORTED,
				      "symlink %.*s: openat2 is not available", SOURCE_DIR_MSG_PATH,
				      rel);
			break;
		default:
			ret = err_set(w->err, errno_to_err(errno), "symlink %.*s: %s",
				      SOURCE_DIR_MSG_PATH, rel, strerror(errno));
		}
		goto out;
	}
	if (fstat(pfd, &st) < 0) {
		ret = err_set(w->err, ERR_IO, "cannot stat %.*s: %s", SOURCE_DIR_MSG_PATH, rel,
			      strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		ret = err_set(w->err, ERR_INVAL, "%.*s is %s: only regular files are read",
			      SOURCE_DIR_MSG_PATH, rel, kind_name(st.st_mode));
		goto out;
	}
	fd = sys_openat2(w->rootfd, rootrel,
			 O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
			     (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0),
			 resolve);
	if (fd < 0) {
		ret = err_set(w->err, errno_to_err(errno), "cannot open %.*s: %s",
			      SOURCE_DIR_MSG_PATH, rel, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
		ret = err_set(w->err, ERR_IO, "%.*s changed while it was read", SOURCE_DIR_MSG_PATH,
			      rel);
		goto out;
	}
	if (S_ISDIR(st2.st_mode)) {
		ret = select_check_dir(w->lim, rel, w->err);
		if (ret == 0)
			ret = walk_dir(w, fd, rel, rootrel); /* takes fd */
		fd = -1;
	} else {
		ret = read_fd(w, fd, &st2, rel);
	}
out:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	return ret;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Lists the entries of the directory open on fd (sorted, without "." and ".."). */
static int list_dir(struct walk *w, int fd, const char *rel, char ***out, size_t *nout)
{
	char **names = NULL, **nn;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = NULL;
	int dfd, ret = 0;

	dfd = dup(fd);
	if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
		ret = err_set(w->err, errno_to_err(errno), "cannot list %.*s: %s",
			      SOURCE_DIR_MSG_PATH, rel[0] != '\0' ? rel : ".", strerror(errno));
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				ret = err_set(w->err, ERR_IO, "cannot list %.*s: %s",
					      SOURCE_DIR_MSG_PATH, rel[0] != '\0' ? rel : ".",
					      strerror(errno));
				goto out;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == SELECT_MAX_DIR_ENTRIES) {
			ret = err_set(w->err, ERR_TOOBIG,
				      "directory has more than %u entries at %.*s",
				      (unsigned)SELECT_MAX_DIR_ENTRIES, SOURCE_DIR_MSG_PATH,
				      rel[0] != '\0' ? rel : ".");
			goto out;
		}
		if (n == cap) {
			size_t ncap = cap != 0 ? cap * 2 : 16;

			nn = xreallocarray(names, ncap, sizeof(*names));
			if (nn == NULL) {
				ret = err_set(w->err, ERR_NOMEM, "out of memory");
				goto out;
			}
			names = nn;
			cap = ncap;
		}
		names[n] = xstrdup(de->d_name);
		if (names[n] == NULL) {
			ret = err_set(w->err, ERR_NOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	*out = names;
	*nout = n;
	names = NULL;
	n = 0;
out:
	if (d != NULL)
		closedir(d);
	names_free(names, n);
	return ret;
}

static int walk_entry(struct walk *w, int fd, const char *name, const char *rel,
		      const char *rootrel)
{
	struct stat st;
	int nfd, ret;

	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(w->err, errno_to_err(errno), "cannot stat %.*s: %s",
			       SOURCE_DIR_MSG_PATH, rel, strerror(errno));
	if (S_ISREG(st.st_mode))
		return read_entry(w, fd, name, &st, rel);
	if (S_ISLNK(st.st_mode))
		return follow_link(w, rel, rootrel);
	if (!S_ISDIR(st.st_mode))
		return err_set(w->err, ERR_INVAL, "%.*s is %s: only regular files are read",
			       SOURCE_DIR_MSG_PATH, rel, kind_name(st.st_mode));
	ret = select_check_dir(w->lim, rel, w->err);
	if (ret < 0)
		return ret;
	nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (nfd < 0)
		return err_set(w->err, errno_to_err(errno), "cannot open %.*s: %s",
			       SOURCE_DIR_MSG_PATH, rel, strerror(errno));
	return walk_dir(w, nfd, rel, rootrel);
}

/* Walks the directory open on fd (taken: closed here). rel is its path in the output
 * tree, rootrel its path from the tree root (what openat2 resolves links against). */
static int walk_dir(struct walk *w, int fd, const char *rel, const char *rootrel)
{
	char **names = NULL, *crel = NULL, *croot = NULL;
	size_t n = 0, pushed = 0;
	struct stat st;
	int ret;

	if (fstat(fd, &st) < 0) {
		ret = err_set(w->err, ERR_IO, "cannot stat %.*s: %s", SOURCE_DIR_MSG_PATH,
			      rel[0] != '\0' ? rel : ".", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < w->depth; i++) {
		if (w->stack[i].dev == st.st_dev && w->stack[i].ino == st.st_ino) {
			ret = err_set(w->err, ERR_INVAL, "symlink loop at %.*s",
				      SOURCE_DIR_MSG_PATH, rel);
			goto out;
		}
	}
	if (w->depth >= sizeof(w->stack) / sizeof(w->stack[0])) {
		ret = err_set(w->err, ERR_TOOBIG, "path deeper than %zu components at %.*s",
			      w->lim->max_depth, SOURCE_DIR_MSG_PATH, rel);
		goto out;
	}
	if (++w->dirs > SELECT_MAX_DIRS) {
		ret = err_set(w->err, ERR_TOOBIG, "tree has more than %u directories at %.*s",
			      (unsigned)SELECT_MAX_DIRS, SOURCE_DIR_MSG_PATH, rel);
		goto out;
	}
	w->stack[w->depth].dev = st.st_dev;
	w->stack[w->depth].ino = st.st_ino;
	w->depth++;
	pushed = 1;
	ret = list_dir(w, fd, rel, &names, &n);
	if (ret < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], ".git") == 0)
			continue;
		crel = select_join(rel, names[i]);
		croot = select_join(rootrel, names[i]);
		if (crel == NULL || croot == NULL) {
			ret = err_set(w->err, ERR_NOMEM, "out of memory");
			goto out;
		}
		if (!str_utf8_valid(names[i], strlen(names[i]))) {
			ret = err_set(w->err, ERR_INVAL, "file name is not valid UTF-8 in %.*s",
				      SOURCE_DIR_MSG_PATH, rel[0] != '\0' ? rel : ".");
			goto out;
		}
		ret = walk_entry(w, fd, names[i], crel, croot);
		if (ret < 0)
			goto out;
		free(crel);
		free(croot);
		crel = croot = NULL;
	}
out:
	if (pushed)
		w->depth--;
	free(crel);
	free(croot);
	names_free(names, n);
	close(fd);
	return ret;
}

int source_dir_read_limited(const char *root, const char *subpath, const struct select_limits *lim,
			    struct tree *out, struct err_ctx *err)
{
	struct select_limits l;
	struct walk w;
	char *sub = NULL;
	int fd = -1, ret;

	memset(&w, 0, sizeof(w));
	w.rootfd = -1;
	w.lim = &l;
	w.err = err;
	tree_init(&w.t);
	select_limits_clamp(lim, &l);
	if (root == NULL || root[0] == '\0')
		return err_set(err, ERR_INVAL, "source directory not set");
	ret = select_subpath_norm(subpath, &sub, err);
	if (ret < 0)
		goto out;
	if (strcmp(sub, ".git") == 0 || str_has_prefix(sub, ".git/")) {
		ret = err_set(err, ERR_INVAL, "path %s is inside .git", sub);
		goto out;
	}
	w.rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.rootfd < 0) {
		int e = errno;

		if (e == ENOENT)
			ret = err_set(err, ERR_NOTFOUND, "source directory %.*s not found",
				      SOURCE_DIR_MSG_PATH, root);
		else if (e == ENOTDIR)
			ret = err_set(err, ERR_INVAL, "source %.*s is not a directory",
				      SOURCE_DIR_MSG_PATH, root);
		else
			ret = err_set(err, errno_to_err(e), "cannot open source directory %.*s: %s",
				      SOURCE_DIR_MSG_PATH, root, strerror(e));
		goto out;
	}
	if (sub[0] == '\0') {
		fd = dup(w.rootfd);
	} else {
		fd = sys_openat2(w.rootfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
				 RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
		if (fd < 0 && errno == ENOENT)
			ret = err_set(err, ERR_NOTFOUND, "path %.*s not found in %.*s",
				      SOURCE_DIR_MSG_PATH, sub, SOURCE_DIR_MSG_PATH, root);
		else if (fd < 0 && errno == ENOTDIR)
			ret = err_set(err, ERR_INVAL, "path %.*s in %.*s is not a directory",
				      SOURCE_DIR_MSG_PATH, sub, SOURCE_DIR_MSG_PATH, root);
		else if (fd < 0 && errno == EXDEV)
			ret = err_set(err, ERR_PERM, "path %.*s leads outside %.*s",
				      SOURCE_DIR_MSG_PATH, sub, SOURCE_DIR_MSG_PATH, root);
		else if (fd < 0)
			ret = err_set(err, errno_to_err(errno), "cannot open %.*s in %.*s: %s",
				      SOURCE_DIR_MSG_PATH, sub, SOURCE_DIR_MSG_PATH, root,
				      strerror(errno));
		if (fd < 0)
			goto out;
	}
	if (fd < 0) {
		ret = err_set(err, ERR_IO, "cannot open %.*s: %s", SOURCE_DIR_MSG_PATH, root,
			      strerror(errno));
		goto out;
	}
	ret = walk_dir(&w, fd, "", sub); /* takes fd */
	if (ret < 0)
		goto out;
	*out = w.t;
	tree_init(&w.t);
out:
	tree_free(&w.t);
	if (w.rootfd >= 0)
		close(w.rootfd);
	free(sub);
	return ret;
}

int source_dir_read(const char *root, const char *subpath, struct tree *out, struct err_ctx *err)
{
	return source_dir_read_limited(root, subpath, NULL, out, err);
}
