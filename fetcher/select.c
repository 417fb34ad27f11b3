/* select.c — subpath selection and the limits every source checks before copying. */
#include "fetcher/select.h"

#include <stdlib.h>
#include <string.h>

#include "common/str.h"
#include "common/xmalloc.h"

/* Longest path quoted in an error message (the message buffer is 512 bytes). */
#define SELECT_MSG_PATH 200

void select_limits_default(struct select_limits *l)
{
	l->max_files = TREE_MAX_FILES;
	l->max_file_size = TREE_MAX_FILE_SIZE;
	l->max_total = TREE_MAX_TOTAL;
	l->max_depth = TREE_MAX_DEPTH;
	l->max_path = TREE_MAX_PATH;
}

static size_t clamp(size_t v, size_t max)
{
	return v < max ? v : max;
}

void select_limits_clamp(const struct select_limits *in, struct select_limits *out)
{
	struct select_limits d;

	select_limits_default(&d);
	if (in == NULL) {
		*out = d;
		return;
	}
	out->max_files = clamp(in->max_files, d.max_files);
	out->max_file_size = clamp(in->max_file_size, d.max_file_size);
	out->max_total = clamp(in->max_total, d.max_total);
	out->max_depth = clamp(in->max_depth, d.max_depth);
	out->max_path = clamp(in->max_path, d.max_path);
}

int select_subpath_norm(const char *subpath, char **out, struct err_ctx *err)
{
	size_t n, i = 0, o = 0;
	char *res;

	if (subpath == NULL)
		subpath = "";
	n = strlen(subpath);
	if (n > TREE_MAX_PATH)
		return err_set(err, ERR_INVAL, "path longer than %u bytes: %.*s...",
			       (unsigned)TREE_MAX_PATH, SELECT_MSG_PATH, subpath);
	if (!str_utf8_valid(subpath, n))
		return err_set(err, ERR_INVAL, "path is not valid UTF-8");
	if (subpath[0] == '/')
		return err_set(err, ERR_INVAL, "path %s must be relative", subpath);
	res = malloc(n + 1);
	if (res == NULL)
		return err_set(err, ERR_NOMEM, "out of memory");
	while (i < n) {
		size_t start = i, len;

		while (i < n && subpath[i] != '/')
			i++;
		len = i - start;
		if (i < n)
			i++; /* the '/' */
		if (len == 0 || (len == 1 && subpath[start] == '.'))
			continue;
		if (len == 2 && subpath[start] == '.' && subpath[start + 1] == '.') {
			free(res);
			return err_set(err, ERR_INVAL, "path %s must not contain '..'", subpath);
		}
		if (o > 0)
			res[o++] = '/';
		memcpy(res + o, subpath + start, len);
		o += len;
	}
	res[o] = '\0';
	*out = res;
	return 0;
}

char *select_join(const char *prefix, const char *name)
{
	size_t a = strlen(prefix), b = strlen(name), n;
	char *p;

	if (a == 0)
		return xstrdup(name);
	if (!size_add(a, b, &n) || !size_add(n, 2, &n))
		return NULL;
	p = malloc(n);
	if (p == NULL)
		return NULL;
	memcpy(p, prefix, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b);
	p[a + 1 + b] = '\0';
	return p;
}

static size_t components(const char *path)
{
	size_t c = path[0] != '\0' ? 1 : 0;

	for (const char *p = path; *p != '\0'; p++)
		if (*p == '/')
			c++;
	return c;
}

static int check_path(const struct select_limits *l, const char *path, int dir, struct err_ctx *err)
{
	size_t len = strlen(path), depth = components(path);

	if (len > l->max_path)
		return err_set(err, ERR_TOOBIG, "path longer than %zu bytes at %.*s...",
			       l->max_path, SELECT_MSG_PATH, path);
	/* A directory at the maximum depth could only hold files deeper than allowed. */
	if (depth > l->max_depth || (dir && depth >= l->max_depth))
		return err_set(err, ERR_TOOBIG, "path deeper than %zu components at %.*s",
			       l->max_depth, SELECT_MSG_PATH, path);
	return 0;
}

int select_check_dir(const struct select_limits *l, const char *path, struct err_ctx *err)
{
	return check_path(l, path, 1, err);
}

int select_check(const struct select_limits *l, const struct tree *t, const char *path, size_t size,
		 struct err_ctx *err)
{
	size_t total;
	int r;

	r = check_path(l, path, 0, err);
	if (r < 0)
		return r;
	if (t->n >= l->max_files)
		return err_set(err, ERR_TOOBIG, "tree has more than %zu files at %.*s",
			       l->max_files, SELECT_MSG_PATH, path);
	if (size > l->max_file_size)
		return err_set(err, ERR_TOOBIG, "file larger than %zu bytes at %.*s",
			       l->max_file_size, SELECT_MSG_PATH, path);
	if (!size_add(t->total, size, &total) || total > l->max_total)
		return err_set(err, ERR_TOOBIG, "tree larger than %zu bytes at %.*s", l->max_total,
			       SELECT_MSG_PATH, path);
	return 0;
}

int select_add(const struct select_limits *l, struct tree *t, const char *path, const void *data,
	       size_t size, uint32_t mode, struct err_ctx *err)
{
	int r;

	r = select_check(l, t, path, size, err);
	if (r < 0)
		return r;
	r = tree_add(t, path, data, size, mode & 0777);
	switch (r) {
	case 0:
		return 0;
	case ERR_INVAL:
		return err_set(err, r, "invalid path %.*s", SELECT_MSG_PATH, path);
	case ERR_CONFLICT:
		return err_set(err, r, "path %.*s appears twice in the tree", SELECT_MSG_PATH,
			       path);
	case ERR_TOOBIG:
		return err_set(err, r, "tree limit exceeded at %.*s", SELECT_MSG_PATH, path);
	case ERR_NOMEM:
		return err_set(err, r, "out of memory at %.*s", SELECT_MSG_PATH, path);
	default:
		return err_set(err, r, "cannot add %.*s: %s", SELECT_MSG_PATH, path, err_str(r));
	}
}
