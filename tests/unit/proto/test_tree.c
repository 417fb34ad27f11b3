/* test_tree.c — file trees and their sealed memfd form: round trip, seals, limits, path
 * rules, hand-made malformed images and truncation at every byte. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/tree.h"

#define ALL_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* ---- building raw images ---- */

struct img {
	uint8_t *p;
	size_t n, cap;
};

static void img_put(struct img *m, const void *p, size_t n)
{
	if (m->n + n > m->cap) {
		m->cap = (m->n + n) * 2 + 64;
		m->p = realloc(m->p, m->cap);
		cr_assert_not_null(m->p);
	}
	memcpy(m->p + m->n, p, n);
	m->n += n;
}

static void img_be(struct img *m, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	img_put(m, b, n);
}

static void img_file(struct img *m, const char *path, uint32_t mode, const char *data)
{
	img_be(m, strlen(path), 4);
	img_put(m, path, strlen(path));
	img_be(m, mode, 4);
	img_be(m, strlen(data), 8);
	img_put(m, data, strlen(data));
}

static int img_memfd(const void *p, size_t n, int seals)
{
	int fd = memfd_create("test-tree", MFD_ALLOW_SEALING | MFD_CLOEXEC);

	cr_assert_geq(fd, 0);
	if (n > 0)
		cr_assert_eq(write(fd, p, n), (ssize_t)n);
	if (seals != 0)
		cr_assert_eq(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

static int from_bytes(const void *p, size_t n, struct tree *out)
{
	int fd = img_memfd(p, n, ALL_SEALS), rc;

	rc = tree_from_memfd(fd, out);
	close(fd);
	return rc;
}

/* ---- tests ---- */

Test(tree, path_rules)
{
	static const struct {
		const char *path;
		int ok;
	} rows[] = {
		{"a", 1},
		{"profiles/prod/application.secrets.env", 1},
		{".sops.yaml", 1},
		{"a/..b/c..", 1},
		{"caf\xc3\xa9/x", 1},
		{"", 0},
		{"/etc/passwd", 0},
		{"..", 0},
		{"../x", 0},
		{"a/../b", 0},
		{"a/..", 0},
		{".", 0},
		{"./a", 0},
		{"a/./b", 0},
		{"a//b", 0},
		{"a/", 0},
		{"bad\xff", 0},
	};
	char deep[TREE_MAX_DEPTH * 2 + 8], longp[TREE_MAX_PATH + 2];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_assert_eq(tree_path_check(rows[i].path) == 0, rows[i].ok, "%s", rows[i].path);
	cr_assert_eq(tree_path_check(NULL), ERR_INVAL);
	/* TREE_MAX_DEPTH components pass, one more fails */
	for (size_t i = 0; i < TREE_MAX_DEPTH; i++) {
		deep[2 * i] = 'd';
		deep[2 * i + 1] = '/';
	}
	deep[2 * TREE_MAX_DEPTH - 1] = '\0';
	cr_assert_eq(tree_path_check(deep), 0);
	deep[2 * TREE_MAX_DEPTH - 1] = '/';
	deep[2 * TREE_MAX_DEPTH] = 'e';
	deep[2 * TREE_MAX_DEPTH + 1] = '\0';
	cr_assert_eq(tree_path_check(deep), ERR_INVAL);
	memset(longp, 'p', sizeof(longp));
	longp[TREE_MAX_PATH] = '\0';
	cr_assert_eq(tree_path_check(longp), 0);
	longp[TREE_MAX_PATH] = 'p';
	longp[TREE_MAX_PATH + 1] = '\0';
	cr_assert_eq(tree_path_check(longp), ERR_INVAL);
}

Test(tree, add_find_and_limits)
{
	struct tree t;
	uint8_t *big;

	tree_init(&t);
	cr_assert_eq(tree_add(&t, "a/b.env", "X=1\n", 4, 0100644), 0);
	cr_assert_eq(t.files[0].mode, 0644, "mode not masked to permission bits");
	cr_assert_eq(tree_add(&t, "a/b.env", "X=2\n", 4, 0644), ERR_CONFLICT);
	cr_assert_eq(tree_add(&t, "../b.env", "X=2\n", 4, 0644), ERR_INVAL);
	cr_assert_eq(tree_add(&t, "empty", NULL, 0, 0600), 0);
	cr_assert_eq(tree_add(&t, "null", NULL, 3, 0600), ERR_INVAL);
	cr_assert_not_null(tree_find(&t, "a/b.env"));
	cr_assert_str_eq((const char *)tree_find(&t, "a/b.env")->data, "X=1\n");
	cr_assert_eq(tree_find(&t, "empty")->size, 0);
	cr_assert_eq(tree_find(&t, "empty")->data[0], '\0');
	cr_assert_null(tree_find(&t, "a"));
	cr_assert_null(tree_find(&t, "a/b.env2"));
	big = calloc(1, TREE_MAX_FILE_SIZE + 1);
	cr_assert_eq(tree_add(&t, "big", big, TREE_MAX_FILE_SIZE + 1, 0644), ERR_TOOBIG);
	cr_assert_eq(tree_add(&t, "big", big, TREE_MAX_FILE_SIZE, 0644), 0);
	free(big);
	cr_assert_eq(t.n, 3);
	cr_assert_eq(t.total, 4 + TREE_MAX_FILE_SIZE);
	tree_free(&t);
	cr_assert_eq(t.n, 0);
	tree_free(NULL);
}

Test(tree, file_count_limit)
{
	struct tree t;
	char path[32];

	tree_init(&t);
	for (size_t i = 0; i < TREE_MAX_FILES; i++) {
		snprintf(path, sizeof(path), "d%zu/f%zu.yaml", i % 97, i);
		cr_assert_eq(tree_add(&t, path, "k: v\n", 5, 0644), 0, "%s", path);
	}
	cr_assert_eq(tree_add(&t, "one-more", "", 0, 0644), ERR_TOOBIG);
	for (size_t i = 0; i < TREE_MAX_FILES; i += 997) {
		snprintf(path, sizeof(path), "d%zu/f%zu.yaml", i % 97, i);
		cr_assert_not_null(tree_find(&t, path), "%s", path);
	}
	tree_free(&t);
}

Test(tree, memfd_round_trip_multi_file)
{
	static const uint8_t binary[] = {0, 1, 2, 0xff, 0xfe, 0, 0x80};
	struct tree t, back;
	int fd, seals;

	tree_init(&t);
	cr_assert_eq(tree_add(&t, "deployment-configuration/profiles/prod/application.secrets.env",
			      "DB_PASSWORD=ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]\n", 59,
			      0600), 0);
	cr_assert_eq(tree_add(&t, "deployment-configuration/profiles/prod/application.properties",
			      "server.port=8080\n", 17, 0644), 0);
	cr_assert_eq(tree_add(&t, "kustomization.yaml", "resources: [secret.yaml]\n", 25, 0644),
		     0);
	cr_assert_eq(tree_add(&t, "bin/blob", binary, sizeof(binary), 0755), 0);
	cr_assert_eq(tree_add(&t, "empty", "", 0, 0400), 0);
	cr_assert_eq(tree_to_memfd(&t, &fd), 0);
	seals = fcntl(fd, F_GET_SEALS);
	cr_assert_eq(seals & ALL_SEALS, ALL_SEALS);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert_eq(write(fd, "x", 1), -1, "sealed memfd is writable");
	cr_assert_eq(tree_from_memfd(fd, &back), 0);
	cr_assert_eq(back.n, t.n);
	cr_assert_eq(back.total, t.total);
	for (size_t i = 0; i < t.n; i++) {
		const struct tree_file *f = tree_find(&back, t.files[i].path);

		cr_assert_not_null(f, "%s", t.files[i].path);
		cr_assert_eq(f->size, t.files[i].size);
		cr_assert_eq(f->mode, t.files[i].mode);
		cr_assert(memcmp(f->data, t.files[i].data, f->size) == 0);
		cr_assert_eq(f->data[f->size], '\0');
	}
	/* the fd is not closed by the reader, and can be read again */
	tree_free(&back);
	cr_assert_eq(tree_from_memfd(fd, &back), 0);
	tree_free(&back);
	close(fd);
	tree_free(&t);
}

Test(tree, empty_tree_round_trip)
{
	struct tree t, back;
	int fd;

	tree_init(&t);
	cr_assert_eq(tree_to_memfd(&t, &fd), 0);
	cr_assert_eq(tree_from_memfd(fd, &back), 0);
	cr_assert_eq(back.n, 0);
	tree_free(&back);
	close(fd);
}

Test(tree, unsealed_or_partly_sealed_refused)
{
	struct img m = {0};
	struct tree out;
	char path[] = "/tmp/smc-tree-XXXXXX";
	int fd;

	img_put(&m, "SMCTREE1", 8);
	img_be(&m, 1, 4);
	img_file(&m, "a", 0644, "data");
	/* the same bytes are accepted when fully sealed */
	cr_assert_eq(from_bytes(m.p, m.n, &out), 0);
	tree_free(&out);
	fd = img_memfd(m.p, m.n, 0);
	cr_assert_eq(tree_from_memfd(fd, &out), ERR_PROTO);
	close(fd);
	fd = img_memfd(m.p, m.n, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	cr_assert_eq(tree_from_memfd(fd, &out), ERR_PROTO, "writable memfd accepted");
	close(fd);
	fd = img_memfd(m.p, m.n, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW);
	cr_assert_eq(tree_from_memfd(fd, &out), ERR_PROTO, "reseal-able memfd accepted");
	close(fd);
	/* a regular file has no seals at all */
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	unlink(path);
	cr_assert_eq(write(fd, m.p, m.n), (ssize_t)m.n);
	cr_assert_eq(tree_from_memfd(fd, &out), ERR_PROTO);
	close(fd);
	cr_assert_eq(tree_from_memfd(-1, &out), ERR_PROTO);
	free(m.p);
}

Test(tree, malformed_images)
{
	static const struct {
		const char *name;
		uint32_t count;
		const char *path;
		uint32_t mode;
		const char *data;
		const char *path2; /* second file, may be NULL */
	} rows[] = {
		{"dotdot", 1, "../etc/passwd", 0644, "x", NULL},
		{"inner dotdot", 1, "a/../../b", 0644, "x", NULL},
		{"absolute", 1, "/etc/passwd", 0644, "x", NULL},
		{"dot", 1, "./a", 0644, "x", NULL},
		{"empty component", 1, "a//b", 0644, "x", NULL},
		{"setuid bit", 1, "a", 04755, "x", NULL},
		{"file type bits", 1, "a", 0100644, "x", NULL},
		{"duplicate", 2, "a/b", 0644, "x", "a/b"},
		{"count too high", 2, "a", 0644, "x", NULL},
		{"not utf8", 1, "a\xff", 0644, "x", NULL},
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct img m = {0};
		struct tree out;

		img_put(&m, "SMCTREE1", 8);
		img_be(&m, rows[r].count, 4);
		img_file(&m, rows[r].path, rows[r].mode, rows[r].data);
		if (rows[r].path2 != NULL)
			img_file(&m, rows[r].path2, 0644, "y");
		cr_assert_eq(from_bytes(m.p, m.n, &out), ERR_PROTO, "%s", rows[r].name);
		free(m.p);
	}
}

Test(tree, oversize_fields_refused)
{
	struct tree out;
	struct img m = {0};

	/* count above TREE_MAX_FILES */
	img_put(&m, "SMCTREE1", 8);
	img_be(&m, TREE_MAX_FILES + 1, 4);
	cr_assert_eq(from_bytes(m.p, m.n, &out), ERR_PROTO);
	m.n = 0;
	/* a count of 2^32-1 with nothing behind it */
	img_put(&m, "SMCTREE1", 8);
	img_be(&m, 0xffffffffu, 4);
	cr_assert_eq(from_bytes(m.p, m.n, &out), ERR_PROTO);
	m.n = 0;
	/* path length above TREE_MAX_PATH */
	img_put(&m, "SMCTREE1", 8);
	img_be(&m, 1, 4);
	img_be(&m, TREE_MAX_PATH + 1, 4);
	for (size_t i = 0; i < TREE_MAX_PATH + 1; i++)
		img_put(&m, "p", 1);
	img_be(&m, 0644, 4);
	img_be(&m, 0, 8);
	cr_assert_eq(from_bytes(m.p, m.n, &out), ERR_PROTO);
	m.n = 0;
	/* zero path length */
	img_put(&m, "SMCTREE1", 8);
	img_be(&m, 1, 4);
	img_be(&m, 0, 4);
	img_be(&m, 0644, 4);
	img_be(&m, 0, 8);
	cr_assert_eq(from_bytes(m.p, m.n, &out), ERR_PROTO);
	m.n = 0;
	/* file size above TREE_MAX_FILE_SIZE, and a size of 2^64-1 */
	img_put(&m, "SMCTREE1", 8);
	img_be(&m, 1, 4);
	img_be(&m, 1, 4);
	img_put(&m, "a", 1);
	img_be(&m, 0644, 4);
	img_be(&m, (uint64_t)TREE_MAX_FILE_SIZE + 1, 8);
	cr_assert_eq(from_bytes(m.p, m.n, &out), ERR_PROTO);
	m.n -= 8;
	img_be(&m, UINT64_MAX, 8);
	cr_assert_eq(from_bytes(m.p, m.n, &out), ERR_PROTO);
	m.n = 0;
	/* path with a NUL inside */
	img_put(&m, "SMCTREE1", 8);
	img_be(&m, 1, 4);
	img_be(&m, 3, 4);
	img_put(&m, "a\0b", 3);
	img_be(&m, 0644, 4);
	img_be(&m, 0, 8);
	cr_assert_eq(from_bytes(m.p, m.n, &out), ERR_PROTO);
	m.n = 0;
	/* bad magic, trailing byte, empty */
	img_put(&m, "SMCTREE2", 8);
	img_be(&m, 0, 4);
	cr_assert_eq(from_bytes(m.p, m.n, &out), ERR_PROTO);
	m.p[7] = '1';
	cr_assert_eq(from_bytes(m.p, m.n, &out), 0);
	tree_free(&out);
	img_put(&m, "", 1);
	cr_assert_eq(from_bytes(m.p, m.n, &out), ERR_PROTO);
	cr_assert_eq(from_bytes(m.p, 0, &out), ERR_PROTO);
	free(m.p);
}

Test(tree, truncation_and_bit_flips)
{
	struct tree t, out;
	uint8_t *img;
	size_t n;
	int fd;

	tree_init(&t);
	cr_assert_eq(tree_add(&t, "a/b/c.env", "K=V\n", 4, 0600), 0);
	cr_assert_eq(tree_add(&t, "x.yaml", "k: v\n", 5, 0644), 0);
	cr_assert_eq(tree_to_memfd(&t, &fd), 0);
	n = (size_t)lseek(fd, 0, SEEK_END);
	img = malloc(n);
	cr_assert_eq(pread(fd, img, n, 0), (ssize_t)n);
	close(fd);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(from_bytes(img, i, &out), ERR_PROTO, "cut at %zu", i);
	for (size_t bit = 0; bit < n * 8; bit++) {
		int rc;

		img[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = from_bytes(img, n, &out);
		cr_assert(rc == 0 || rc == ERR_PROTO, "bit %zu rc %d", bit, rc);
		if (rc == 0)
			tree_free(&out);
		img[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	free(img);
	tree_free(&t);
}
