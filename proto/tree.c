/* tree.c — an in-memory file tree and its sealed-memfd wire form (see tree.h). */
#include "proto/tree.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>

#include "common/err.h"
#include "common/str.h"
#include "common/xmalloc.h"

#define TREE_MAGIC "SMCTREE1"
#define TREE_MAGIC_LEN 8
#define TREE_HDR (TREE_MAGIC_LEN + 4)
#define TREE_ENTRY_FIXED (4 + 4 + 8) /* path_len, mode, size */
#define TREE_MODE_MASK 0777u
#define TREE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define TREE_WBUF 65536 /* write buffer of tree_to_memfd */

void tree_init(struct tree *t)
{
	memset(t, 0, sizeof(*t));
}

void tree_free(struct tree *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->files[i].path);
		if (t->files[i].data != NULL)
			explicit_bzero(t->files[i].data, t->files[i].size);
		free(t->files[i].data);
	}
	free(t->files);
	free(t->slots);
	tree_init(t);
}

int tree_path_check(const char *path)
{
	size_t n, comps = 0;
	const char *p, *slash;

	if (path == NULL)
		return ERR_INVAL;
	n = strnlen(path, TREE_MAX_PATH + 1);
	if (n == 0 || n > TREE_MAX_PATH || !str_utf8_valid(path, n) || path[0] == '/')
		return ERR_INVAL;
	for (p = path;; p = slash + 1) {
		size_t len;

		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return ERR_INVAL;
		if (++comps > TREE_MAX_DEPTH)
			return ERR_INVAL;
		if (slash == NULL)
			break;
	}
	return 0;
}

/* FNV-1a over the path */
static size_t tree_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ULL;
	}
	return (size_t)h;
}

/* The slot holding path, or the empty slot where it would go. nslots is a power of 2. */
static size_t tree_slot(const struct tree *t, const char *path)
{
	size_t mask = t->nslots - 1, i = tree_hash(path) & mask;

	while (t->slots[i] != 0 && strcmp(t->files[t->slots[i] - 1].path, path) != 0)
		i = (i + 1) & mask;
	return i;
}

static int tree_index_grow(struct tree *t, size_t need)
{
	size_t ns = t->nslots ? t->nslots : 64, *slots, *old = t->slots, oldn = t->nslots;

	while (ns / 2 < need)
		ns *= 2;
	if (ns == t->nslots)
		return 0;
	if ((slots = xcalloc(ns, sizeof(*slots))) == NULL)
		return ERR_NOMEM;
	t->slots = slots;
	t->nslots = ns;
	for (size_t i = 0; i < oldn; i++) {
		if (old[i] != 0)
			t->slots[tree_slot(t, t->files[old[i] - 1].path)] = old[i];
	}
	free(old);
	return 0;
}

const struct tree_file *tree_find(const struct tree *t, const char *path)
{
	size_t i;

	if (t == NULL || path == NULL || t->nslots == 0)
		return NULL;
	i = tree_slot(t, path);
	return t->slots[i] != 0 ? &t->files[t->slots[i] - 1] : NULL;
}

int tree_add(struct tree *t, const char *path, const void *data, size_t size, uint32_t mode)
{
	struct tree_file *f;
	size_t total, slot;
	char *p = NULL;
	uint8_t *d = NULL;
	int rc;

	if (tree_path_check(path) != 0 || (data == NULL && size > 0))
		return ERR_INVAL;
	if (t->n >= TREE_MAX_FILES || size > TREE_MAX_FILE_SIZE ||
	    !size_add(t->total, size, &total) || total > TREE_MAX_TOTAL)
		return ERR_TOOBIG;
	if (tree_find(t, path) != NULL)
		return ERR_CONFLICT;
	if ((rc = tree_index_grow(t, t->n + 1)) != 0)
		return rc;
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct tree_file *nf = xreallocarray(t->files, ncap, sizeof(*nf));

		if (nf == NULL)
			return ERR_NOMEM;
		t->files = nf;
		t->cap = ncap;
	}
	if ((p = xstrdup(path)) == NULL || (d = malloc(size + 1)) == NULL) {
		free(p);
		return ERR_NOMEM;
	}
	if (size > 0)
		memcpy(d, data, size);
	d[size] = '\0';
	f = &t->files[t->n];
	f->path = p;
	f->data = d;
	f->size = size;
	f->mode = mode & TREE_MODE_MASK;
	slot = tree_slot(t, path);
	t->n++;
	t->slots[slot] = t->n;
	t->total = total;
	return 0;
}

/* ---- memfd writer ---- */

struct tree_writer {
	int fd;
	uint8_t buf[TREE_WBUF];
	size_t len;
};

static int tree_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = write(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return ERR_IO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int tree_wflush(struct tree_writer *w)
{
	int rc = tree_write_all(w->fd, w->buf, w->len);

	w->len = 0;
	return rc;
}

static int tree_wput(struct tree_writer *w, const void *p, size_t n)
{
	int rc;

	if (n > sizeof(w->buf) - w->len) {
		if ((rc = tree_wflush(w)) != 0)
			return rc;
		if (n > sizeof(w->buf))
			return tree_write_all(w->fd, p, n);
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

static int tree_wput_be(struct tree_writer *w, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return tree_wput(w, b, n);
}

int tree_to_memfd(const struct tree *t, int *fd)
{
	struct tree_writer *w;
	int rc, mfd;

	if (t->n > TREE_MAX_FILES || t->total > TREE_MAX_TOTAL)
		return ERR_TOOBIG;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return ERR_NOMEM;
	mfd = memfd_create("smc-tree", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (mfd < 0) {
		free(w);
		return ERR_IO;
	}
	w->fd = mfd;
	if ((rc = tree_wput(w, TREE_MAGIC, TREE_MAGIC_LEN)) != 0 ||
	    (rc = tree_wput_be(w, t->n, 4)) != 0)
		goto out;
	for (size_t i = 0; i < t->n; i++) {
		const struct tree_file *f = &t->files[i];
		size_t plen = strlen(f->path);

		if ((rc = tree_wput_be(w, plen, 4)) != 0 || (rc = tree_wput(w, f->path, plen)) != 0 ||
		    (rc = tree_wput_be(w, f->mode & TREE_MODE_MASK, 4)) != 0 ||
		    (rc = tree_wput_be(w, f->size, 8)) != 0 ||
		    (rc = tree_wput(w, f->data, f->size)) != 0)
			goto out;
	}
	if ((rc = tree_wflush(w)) != 0)
		goto out;
	if (fcntl(mfd, F_ADD_SEALS, TREE_SEALS) != 0 || lseek(mfd, 0, SEEK_SET) != 0) {
		rc = ERR_IO;
		goto out;
	}
	*fd = mfd;
	mfd = -1;
	rc = 0;
out:
	if (mfd >= 0)
		(void)close(mfd);
	explicit_bzero(w, sizeof(*w));
	free(w);
	return rc;
}

/* ---- memfd reader ---- */

static uint64_t tree_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Walks the mapped image. With t == NULL it only validates (no allocation); with a tree
 * it adds every file. */
static int tree_parse(const uint8_t *p, size_t n, struct tree *t)
{
	char path[TREE_MAX_PATH + 1];
	size_t pos = TREE_HDR, total = 0;
	uint64_t count;
	int rc;

	if (n < TREE_HDR || memcmp(p, TREE_MAGIC, TREE_MAGIC_LEN) != 0)
		return ERR_PROTO;
	count = tree_be(p + TREE_MAGIC_LEN, 4);
	if (count > TREE_MAX_FILES)
		return ERR_PROTO;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t plen, mode, size;

		if (n - pos < 4)
			return ERR_PROTO;
		plen = tree_be(p + pos, 4);
		pos += 4;
		if (plen == 0 || plen > TREE_MAX_PATH || n - pos < plen + 12)
			return ERR_PROTO;
		memcpy(path, p + pos, plen);
		path[plen] = '\0';
		pos += plen;
		if (memchr(path, '\0', plen) != NULL || tree_path_check(path) != 0)
			return ERR_PROTO;
		mode = tree_be(p + pos, 4);
		size = tree_be(p + pos + 4, 8);
		pos += 12;
		if ((mode & ~(uint64_t)TREE_MODE_MASK) != 0 || size > TREE_MAX_FILE_SIZE ||
		    size > n - pos)
			return ERR_PROTO;
		total += (size_t)size;
		if (total > TREE_MAX_TOTAL)
			return ERR_PROTO;
		if (t != NULL) {
			rc = tree_add(t, path, p + pos, (size_t)size, (uint32_t)mode);
			if (rc != 0)
				return rc == ERR_NOMEM ? rc : ERR_PROTO;
		}
		pos += (size_t)size;
	}
	return pos == n ? 0 : ERR_PROTO;
}

int tree_from_memfd(int fd, struct tree *out)
{
	const size_t max_image = TREE_HDR + (size_t)TREE_MAX_FILES *
					 (TREE_ENTRY_FIXED + TREE_MAX_PATH) + TREE_MAX_TOTAL;
	struct tree tmp;
	struct stat st;
	void *map;
	size_t n;
	int seals, rc;

	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & TREE_SEALS) != TREE_SEALS)
		return ERR_PROTO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < TREE_HDR ||
	    (uint64_t)st.st_size > max_image)
		return ERR_PROTO;
	n = (size_t)st.st_size;
	map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return ERR_IO;
	/* Everything is validated before anything is allocated; the second walk copies. */
	if ((rc = tree_parse(map, n, NULL)) != 0)
		goto out;
	tree_init(&tmp);
	if ((rc = tree_parse(map, n, &tmp)) != 0) {
		tree_free(&tmp);
		goto out;
	}
	*out = tmp;
out:
	(void)munmap(map, n);
	return rc;
}
