/* test_artifact.c — artifact downloads against tests/hostile/artifact_server.py on a
 * loopback port (a real HTTP/1.1 server with faults: 404s, flaky 404s, stalls, endless
 * and lying bodies, redirects, content encoding) and real tar.gz files written with
 * libarchive, with digests computed by OpenSSL here. */
#include <criterion/criterion.h>

#include <archive.h>
#include <archive_entry.h>
#include <limits.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "fetcher/artifact.h"
#include "proto/tree.h"

extern char **environ;

static char root[PATH_MAX];
static char base[128]; /* http://127.0.0.1:PORT */
static pid_t server = -1;
static char good_digest[8 + 128 + 1];

/* Writes a tar.gz holding (name, content) pairs to root/file and returns its bytes. */
static void write_targz(const char *file, const char *const *pairs, size_t npairs,
			unsigned char **data, size_t *size)
{
	static unsigned char out[1 << 20];
	struct archive *a = archive_write_new();
	char path[PATH_MAX];
	size_t used = 0;
	FILE *f;

	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_gzip(a);
	cr_assert_eq(archive_write_open_memory(a, out, sizeof(out), &used), ARCHIVE_OK);
	for (size_t i = 0; i + 1 < npairs * 2; i += 2) {
		struct archive_entry *e = archive_entry_new();
		size_t len = strlen(pairs[i + 1]);

		archive_entry_copy_pathname(e, pairs[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)len);
		cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
		cr_assert_eq(archive_write_data(a, pairs[i + 1], len), (la_ssize_t)len);
		archive_entry_free(e);
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	snprintf(path, sizeof(path), "%s/%s", root, file);
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(out, 1, used, f), used);
	fclose(f);
	if (data != NULL) {
		*data = out;
		*size = used;
	}
}

static void digest_of(const char *alg, const void *data, size_t size, char *out, size_t cap)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t o;

	cr_assert_eq(EVP_Digest(data, size, md, &n, EVP_get_digestbyname(alg), NULL), 1);
	o = (size_t)snprintf(out, cap, "%s:", alg);
	for (unsigned i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02x", md[i]);
}

static void start(void)
{
	char script[PATH_MAX], line[64];
	char *argv[] = {"python3", script, root, NULL};
	posix_spawn_file_actions_t fa;
	const char *const good[] = {"apps/a.env", "A=1\n", "apps/b.yaml", "b: 2\n"};
	const char *const evil[] = {"ok.env", "X=1\n", "../../escape.env", "X=2\n"};
	unsigned char *data;
	size_t size, got = 0;
	int p[2];
	ssize_t r;

	snprintf(root, sizeof(root), "/tmp/smc-artifact-test.XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	write_targz("good.tar.gz", good, 2, &data, &size);
	digest_of("sha256", data, size, good_digest, sizeof(good_digest));
	write_targz("evil.tar.gz", evil, 2, NULL, NULL);
	snprintf(script, sizeof(script), "%s/tests/hostile/artifact_server.py", SMC_SOURCE_DIR);
	cr_assert_eq(pipe(p), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
	cr_assert_eq(posix_spawnp(&server, "python3", &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	while (got < sizeof(line) - 1 && (r = read(p[0], line + got, 1)) == 1 && line[got] != '\n')
		got++;
	line[got] = '\0';
	close(p[0]);
	cr_assert(strncmp(line, "PORT ", 5) == 0, "server said \"%s\"", line);
	snprintf(base, sizeof(base), "http://127.0.0.1:%s", line + 5);
}

static void stop(void)
{
	char cmd[PATH_MAX + 16];

	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "%s/good.tar.gz", root);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/evil.tar.gz", root);
	unlink(cmd);
	rmdir(root);
}

TestSuite(artifact, .init = start, .fini = stop, .timeout = 60);

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fast_opts(struct artifact_opts *o)
{
	artifact_opts_default(o);
	o->retries = 0;
	o->backoff_ms = 50;
	o->low_speed_time_s = 1;
	o->connect_timeout_ms = 2000;
	o->timeout_ms = 4000;
}

static int get(const char *path, const char *digest, const struct artifact_opts *o, struct tree *t,
	       char **rev, struct err_ctx *err)
{
	char url[256];

	snprintf(url, sizeof(url), "%s%s", base, path);
	return artifact_fetch(url, digest, "main@sha1:0123abcd", "", o, t, rev, err);
}

Test(artifact, downloads_verifies_and_extracts)
{
	static const char *const algs[] = {"sha256", "sha384", "sha512"};
	char path[PATH_MAX], dig[8 + 128 + 1];
	unsigned char buf[1 << 16];
	struct err_ctx err = {{0}};
	struct tree t;
	char *rev = NULL;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/good.tar.gz", root);
	f = fopen(path, "rb");
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (size_t i = 0; i < 3; i++) {
		digest_of(algs[i], buf, n, dig, sizeof(dig));
		cr_assert_eq(get("/files/good.tar.gz", dig, NULL, &t, &rev, &err), 0, "%s: %s",
			     algs[i], err.msg);
		cr_assert_eq(t.n, 2);
		cr_assert_str_eq((const char *)tree_find(&t, "apps/a.env")->data, "A=1\n");
		cr_assert_str_eq(rev, "main@sha1:0123abcd");
		tree_free(&t);
		free(rev);
	}
	/* upper-case hex is the same digest; no revision → the digest is the revision */
	for (char *p = good_digest + 7; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	snprintf(path, sizeof(path), "%s/files/good.tar.gz", base);
	cr_assert_eq(artifact_fetch(path, good_digest, NULL, "apps", NULL, &t, &rev, &err), 0, "%s",
		     err.msg);
	cr_assert_str_eq(rev, good_digest);
	cr_assert_not_null(tree_find(&t, "b.yaml"));
	tree_free(&t);
	free(rev);
}

Test(artifact, digest_mismatch_names_both)
{
	char wrong[8 + 64 + 1] = "sha256:";
	struct err_ctx err = {{0}};
	struct tree t;
	char *rev = NULL;

	memset(wrong + 7, 'a', 64);
	wrong[71] = '\0';
	cr_assert_eq(get("/files/good.tar.gz", wrong, NULL, &t, &rev, &err), ERR_CRYPTO);
	cr_assert_not_null(strstr(err.msg, "mismatch"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, wrong), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, good_digest), "%s", err.msg);
	cr_assert_null(rev);
	/* served with Content-Encoding: gzip: the bytes are not decoded, so not the artifact */
	cr_assert_eq(get("/gzip-encoded/good.tar.gz", good_digest, NULL, &t, &rev, &err),
		     ERR_CRYPTO, "%s", err.msg);
}

Test(artifact, malformed_digests_refused_before_download)
{
	static const char *const bad[] = {
	    "",		"abc",	      "sha256",
	    "sha256:",	"sha256:xyz", "md5:d41d8cd98f00b204e9800998ecf8427e",
	    "SHA256:00"};
	struct err_ctx err = {{0}};
	struct tree t;
	char *rev = NULL;
	int rc;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* the URL is unreachable: a download attempt would say so */
		rc = artifact_fetch("http://127.0.0.1:1/x", bad[i], "", "", NULL, &t, &rev, &err);
		cr_assert(rc == ERR_INVAL || rc == ERR_UNSUPPORTED, "\"%s\": %d %s", bad[i], rc,
			  err.msg);
		cr_assert_null(strstr(err.msg, "download"), "\"%s\": %s", bad[i], err.msg);
	}
	cr_assert_eq(artifact_fetch("http://127.0.0.1:1/x", NULL, "", "", NULL, &t, &rev, &err),
		     ERR_INVAL);
	cr_assert_not_null(strstr(err.msg, "no digest"));
}

Test(artifact, not_found_is_retried_then_explained)
{
	struct artifact_opts o;
	struct err_ctx err = {{0}};
	struct tree t;
	char *rev = NULL;
	double t0;

	fast_opts(&o);
	o.retries = 2;
	o.backoff_ms = 200;
	t0 = now();
	cr_assert_eq(get("/404/good.tar.gz", good_digest, &o, &t, &rev, &err), ERR_NOTFOUND);
	cr_assert_geq(now() - t0, 0.55, "no backoff between attempts");
	cr_assert_not_null(strstr(err.msg, "artifact not found (garbage-collected by "
					   "source-controller?)"),
			   "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "3 attempts"), "%s", err.msg);
	/* a 404 that goes away is absorbed by the retries */
	cr_assert_eq(get("/flaky404/2/good.tar.gz", good_digest, &o, &t, &rev, &err), 0, "%s",
		     err.msg);
	tree_free(&t);
	free(rev);
	/* and not with fewer retries than 404s */
	o.retries = 1;
	cr_assert_eq(get("/flaky404/2/good.tar.gz?again", good_digest, &o, &t, &rev, &err),
		     ERR_NOTFOUND);
}

Test(artifact, http_errors)
{
	struct artifact_opts o;
	struct err_ctx err = {{0}};
	struct tree t;
	char *rev = NULL;
	double t0;

	fast_opts(&o);
	o.retries = 1;
	t0 = now();
	cr_assert_eq(get("/status/403/good.tar.gz", good_digest, &o, &t, &rev, &err), ERR_REMOTE);
	cr_assert_not_null(strstr(err.msg, "HTTP 403"), "%s", err.msg);
	cr_assert_lt(now() - t0, 0.5, "403 must not be retried");
	cr_assert_eq(get("/status/503/good.tar.gz", good_digest, &o, &t, &rev, &err), ERR_REMOTE);
	cr_assert_not_null(strstr(err.msg, "2 attempts"), "%s", err.msg);
	cr_assert_eq(get("/redirect/good.tar.gz", good_digest, &o, &t, &rev, &err), ERR_REMOTE);
	cr_assert_not_null(strstr(err.msg, "HTTP 302"), "%s", err.msg);
	cr_assert_eq(get("/short/good.tar.gz", good_digest, &o, &t, &rev, &err), ERR_IO, "%s",
		     err.msg);
	/* nothing listens on port 1 */
	cr_assert_eq(
	    artifact_fetch("http://127.0.0.1:1/a.tar.gz", good_digest, "", "", &o, &t, &rev, &err),
	    ERR_IO);
}

Test(artifact, stalls_time_out)
{
	static const char *const paths[] = {"/stall-headers/good.tar.gz", "/stall-body/good.tar.gz",
					    "/trickle/good.tar.gz"};
	struct artifact_opts o;
	struct err_ctx err = {{0}};
	struct tree t;
	char *rev = NULL;
	double t0;

	fast_opts(&o);
	o.retries = 3; /* timeouts are not retried */
	for (size_t i = 0; i < 3; i++) {
		t0 = now();
		cr_assert_eq(get(paths[i], good_digest, &o, &t, &rev, &err), ERR_TIMEOUT, "%s: %s",
			     paths[i], err.msg);
		cr_assert_lt(now() - t0, 4.5, "%s took %.1f s", paths[i], now() - t0);
	}
}

Test(artifact, size_cap_while_streaming)
{
	struct artifact_opts o;
	struct err_ctx err = {{0}};
	struct tree t;
	char *rev = NULL;
	double t0;

	fast_opts(&o);
	o.max_size = 1 << 20;
	t0 = now();
	cr_assert_eq(get("/endless/good.tar.gz", good_digest, &o, &t, &rev, &err), ERR_TOOBIG, "%s",
		     err.msg);
	cr_assert_eq(get("/huge-length/good.tar.gz", good_digest, &o, &t, &rev, &err), ERR_TOOBIG,
		     "%s", err.msg);
	cr_assert_lt(now() - t0, 3.0);
	cr_assert_not_null(strstr(err.msg, "larger than 1048576"), "%s", err.msg);
	/* the good artifact is under a cap of its own size, not under one byte less */
	o.max_size = 1000000;
	cr_assert_eq(get("/files/good.tar.gz", good_digest, &o, &t, &rev, &err), 0, "%s", err.msg);
	tree_free(&t);
	free(rev);
	o.max_size = 10;
	cr_assert_eq(get("/files/good.tar.gz", good_digest, &o, &t, &rev, &err), ERR_TOOBIG);
}

Test(artifact, urls)
{
	struct err_ctx err = {{0}};
	struct tree t;
	char *rev = NULL;
	char url[256];

	cr_assert_eq(
	    artifact_fetch("file:///etc/passwd", good_digest, "", "", NULL, &t, &rev, &err),
	    ERR_UNSUPPORTED);
	cr_assert_eq(artifact_fetch("ftp://127.0.0.1/x", good_digest, "", "", NULL, &t, &rev, &err),
		     ERR_UNSUPPORTED);
	cr_assert_eq(artifact_fetch("http://a b/x", good_digest, "", "", NULL, &t, &rev, &err),
		     ERR_INVAL);
	/* userinfo never reaches the message */
	snprintf(url, sizeof(url), "http://smcuser:hunter2secret@%s/status/403/x",
		 base + strlen("http://"));
	cr_assert_eq(artifact_fetch(url, good_digest, "", "", NULL, &t, &rev, &err), ERR_REMOTE);
	cr_assert_null(strstr(err.msg, "hunter2secret"), "%s", err.msg);
	cr_assert_null(strstr(err.msg, "smcuser"), "%s", err.msg);
}

Test(artifact, hostile_content_after_a_good_digest)
{
	char path[PATH_MAX], dig[8 + 64 + 1];
	unsigned char buf[1 << 16];
	struct err_ctx err = {{0}};
	struct tree t;
	char *rev = NULL;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/evil.tar.gz", root);
	f = fopen(path, "rb");
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	digest_of("sha256", buf, n, dig, sizeof(dig));
	cr_assert_eq(get("/files/evil.tar.gz", dig, NULL, &t, &rev, &err), ERR_INVAL);
	cr_assert_not_null(strstr(err.msg, "escape.env"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "'..'"), "%s", err.msg);
	cr_assert_null(rev);
}
