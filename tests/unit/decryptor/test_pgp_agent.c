/* test_pgp_agent.c — the decryptor's OpenPGP helper process, for real: it is forked from
 * the test process, enters its own sandbox, runs the real gpg / gpg-agent through gpgme.
 *   - keys imported through it (one slot per key file), data keys decrypted with the
 *     right slot only; a SOPS file encrypted to the gpg test keys, and the sops project's
 *     own files, decrypted through a keyring with the helper attached;
 *   - a plaintext longer than a data key is refused (it never decrypts files);
 *   - garbage requests end it cleanly (exit status, home removed, no gpg-agent left);
 *   - its home is gone after stop; it runs under seccomp with NO_NEW_PRIVS and cannot
 *     create an IP socket (SIGSYS), write outside its home, or execute from /tmp. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/secbuf.h"
#include "decryptor/keyring.h"
#include "decryptor/pgp.h"
#include "decryptor/pgp_agent.h"
#include "decryptor/pgp_agent_sandbox.h"
#include "decryptor/sops/sops.h"
#include "proto/frame.h"

#define FX SMC_SHARED_DIR "/fixtures"
#define GPG FX "/gpg"
#define RSA_FPR "63851F6D9FE653C63308876A41CA918022A8BEF0"
#define CV_FPR "0BD8C91E5EE6152F46A19B256BA459619543F9B8"

TestSuite(pgp_agent, .timeout = 120);

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long len;

	cr_assert_not_null(f, "open %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)len + 1);
	cr_assert_eq(fread(p, 1, (size_t)len, f), (size_t)len);
	p[len] = 0;
	fclose(f);
	*n = (size_t)len;
	return p;
}

static struct pgp_agent *start(void)
{
	struct pgp_agent *a = NULL;
	struct err_ctx err = {{0}};

	cr_assert_eq(pgp_agent_start(&a, &err), 0, "%s", err.msg);
	return a;
}

static uint32_t import_file(struct pgp_agent *a, const char *path, size_t want_secret)
{
	struct err_ctx err = {{0}};
	uint32_t slot = 99;
	size_t n, nsec = 0;
	uint8_t *d = slurp(path, &n);

	cr_assert_eq(pgp_agent_import(a, d, n, &slot, &nsec, &err), 0, "%s: %s", path, err.msg);
	cr_assert_eq(nsec, want_secret, "%s: %zu secret keys (%s)", path, nsec, err.msg);
	free(d);
	return slot;
}

static struct err_ctx last_err;

static int decrypt_file(struct pgp_agent *a, uint32_t slot, const char *path, struct secbuf **pt)
{
	struct err_ctx err = {{0}};
	size_t n;
	uint8_t *d = slurp(path, &n);
	int rc = pgp_agent_decrypt(a, slot, (const char *)d, n, pt, &err);

	last_err = err;
	free(d);
	return rc;
}

static int exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

/* 1 when dir does not exist or has no entry at all. */
static int empty_or_gone(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return errno == ENOENT;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n == 0;
}

/* Number of live processes whose command line mentions s (gpg-agents of a home). */
static int procs_mentioning(const char *s)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int count = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[4096];
		ssize_t r;
		int fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (r <= 0)
			continue;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[r] = '\0';
		if (strstr(buf, s) != NULL)
			count++;
	}
	closedir(d);
	return count;
}

/* A message for the rsa test key made here with gpgme in-process from the public key. */
static char *encrypt_to_rsa(const uint8_t *data, size_t n)
{
	struct pgp_home *h = NULL;
	struct err_ctx err = {{0}};
	char *arm = NULL;
	size_t kn;
	uint8_t *k = slurp(GPG "/test-rsa3072.public.asc", &kn);

	cr_assert_eq(pgp_home_new(&h, &err), 0, "%s", err.msg);
	cr_assert_eq(pgp_home_import(h, k, kn, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(pgp_home_encrypt(h, RSA_FPR, data, n, &arm, &err), 0, "%s", err.msg);
	pgp_home_free(h);
	free(k);
	return arm;
}

Test(pgp_agent, imports_keys_and_decrypts_with_the_right_slot_only)
{
	struct pgp_agent *a = start();
	struct secbuf *pt = NULL;
	size_t n;
	uint8_t *want = slurp(GPG "/datakey-32bytes.bin", &n);
	uint32_t rsa, cv;
	int st = -1;

	rsa = import_file(a, GPG "/test-rsa3072.private.asc", 1);
	cv = import_file(a, GPG "/test-cv25519.private.asc", 1);
	cr_assert_neq(rsa, cv);

	cr_assert_eq(decrypt_file(a, rsa, GPG "/datakey-32bytes.bin.to-rsa3072.asc", &pt), 0);
	cr_assert(secbuf_eq_mem(pt, want, n));
	secbuf_free(pt);
	cr_assert_eq(decrypt_file(a, cv, GPG "/datakey-32bytes.bin.to-cv25519.asc", &pt), 0);
	cr_assert(secbuf_eq_mem(pt, want, n));
	secbuf_free(pt);
	cr_assert_eq(decrypt_file(a, cv, GPG "/datakey-32bytes.bin.to-both.asc", &pt), 0);
	cr_assert(secbuf_eq_mem(pt, want, n));
	secbuf_free(pt);
	pt = NULL;
	/* a slot holds only its own file's keys */
	cr_assert_eq(decrypt_file(a, cv, GPG "/datakey-32bytes.bin.to-rsa3072.asc", &pt), ERR_NOKEY,
		     "%s", last_err.msg);
	cr_assert_eq(decrypt_file(a, rsa, GPG "/datakey-32bytes.bin.to-cv25519.asc", &pt),
		     ERR_NOKEY);
	cr_assert_null(pt);
	/* the helper is still serving after refusals */
	cr_assert_eq(decrypt_file(a, rsa, GPG "/datakey-32bytes.bin.to-both.asc", &pt), 0);
	secbuf_free(pt);

	cr_assert_eq(pgp_agent_stop(a, &st), 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	free(want);
}

Test(pgp_agent, public_key_only_or_junk_is_not_a_secret_key)
{
	struct pgp_agent *a = start();
	struct err_ctx err = {{0}};
	uint32_t slot;
	size_t n, nsec = 9;
	uint8_t *d = slurp(GPG "/test-rsa3072.public.asc", &n);

	cr_assert_eq(pgp_agent_import(a, d, n, &slot, &nsec, &err), 0, "%s", err.msg);
	cr_assert_eq(nsec, 0);
	cr_assert_neq(pgp_agent_import(a, (const uint8_t *)"not a key", 9, &slot, &nsec, &err), 0);
	/* still alive */
	import_file(a, GPG "/test-cv25519.private.asc", 1);
	cr_assert_eq(pgp_agent_stop(a, NULL), 0);
	free(d);
}

Test(pgp_agent, plaintext_longer_than_a_data_key_is_refused)
{
	struct pgp_agent *a = start();
	struct err_ctx err = {{0}};
	struct secbuf *pt = NULL;
	uint8_t big[PGP_AGENT_MAX_PLAINTEXT + 1];
	uint32_t rsa = import_file(a, GPG "/test-rsa3072.private.asc", 1);
	char *m;

	memset(big, 'x', sizeof(big));
	m = encrypt_to_rsa(big, sizeof(big));
	cr_assert_eq(pgp_agent_decrypt(a, rsa, m, strlen(m), &pt, &err), ERR_TOOBIG, "%s", err.msg);
	cr_assert_null(pt);
	cr_assert_null(strstr(err.msg, "xxxx"), "plaintext in the error: %s", err.msg);
	free(m);
	/* exactly the cap passes */
	m = encrypt_to_rsa(big, PGP_AGENT_MAX_PLAINTEXT);
	cr_assert_eq(pgp_agent_decrypt(a, rsa, m, strlen(m), &pt, &err), 0, "%s", err.msg);
	cr_assert_eq(pt->len, PGP_AGENT_MAX_PLAINTEXT);
	secbuf_free(pt);
	free(m);
	cr_assert_eq(pgp_agent_stop(a, NULL), 0);
}

/* Writes a SOPS yaml file encrypted (in-process) to both gpg test keys. */
static void make_sops_file(struct buf *out)
{
	const char *pgp[] = {RSA_FPR, CV_FPR};
	const char *plain = "db:\n  password: hunter2-pgp-agent\napi_key: k-123\n";
	struct sops_encrypt_opts o;
	struct pgp_home *h = NULL;
	struct err_ctx err = {{0}};
	size_t n;
	uint8_t *k;

	cr_assert_eq(pgp_home_new(&h, &err), 0, "%s", err.msg);
	k = slurp(GPG "/test-rsa3072.public.asc", &n);
	cr_assert_eq(pgp_home_import(h, k, n, NULL, &err), 0, "%s", err.msg);
	free(k);
	k = slurp(GPG "/test-cv25519.public.asc", &n);
	cr_assert_eq(pgp_home_import(h, k, n, NULL, &err), 0, "%s", err.msg);
	free(k);
	memset(&o, 0, sizeof(o));
	o.pgp = pgp;
	o.npgp = 2;
	o.pgp_home = h;
	buf_init(out, SOPS_MAX_OUTPUT);
	cr_assert_eq(
	    sops_encrypt(&o, "secrets.yaml", (const uint8_t *)plain, strlen(plain), out, &err), 0,
	    "%s", err.msg);
	pgp_home_free(h);
}

static void copy_to(const char *src, const char *dir, const char *name)
{
	char p[256];
	size_t n;
	uint8_t *d = slurp(src, &n);
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(d, 1, n, f), n);
	fclose(f);
	free(d);
}

static void rm_rf(const char *dir)
{
	pid_t pid = fork();

	if (pid == 0) {
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
		_exit(1);
	}
	waitpid(pid, NULL, 0);
}

Test(pgp_agent, sops_files_decrypt_through_the_keyring_with_the_agent_attached)
{
	struct pgp_agent *a = start();
	struct keyring *kr = NULL;
	struct err_ctx err = {{0}};
	struct secbuf *plain = NULL;
	struct buf enc;
	char dir[] = "/tmp/smc-pgp-agent-keys-XXXXXX";
	size_t hits, misses, n;
	uint8_t *d;

	make_sops_file(&enc);
	cr_assert_not_null(mkdtemp(dir));
	copy_to(GPG "/test-cv25519.private.asc", dir, "key.asc");
	copy_to(FX "/sops/keys/sops-functional-tests-key.asc", dir, "gpg-key");
	cr_assert_eq(keyring_new(&kr), 0);
	cr_assert_eq(keyring_attach_pgp_agent(kr, a), 0);
	cr_assert_eq(keyring_load_dir(kr, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(keyring_count(kr, KEYRING_PGP), 3); /* 1 + the 2 functional-test keys */
	/* the keys went to the helper: its gpg-agents run for homes under its root */
	cr_assert_geq(procs_mentioning(pgp_agent_home(a)), 2);

	cr_assert_eq(sops_decrypt(kr, NULL, "secrets.yaml", enc.data, enc.len, &plain, &err), 0,
		     "%s", err.msg);
	cr_assert(strstr((char *)plain->data, "password: hunter2-pgp-agent") != NULL);
	cr_assert(strstr((char *)plain->data, "api_key: k-123") != NULL);
	secbuf_free(plain);
	/* the data-key cache stays in this process: the second time costs no helper call */
	cr_assert_eq(sops_decrypt(kr, NULL, "secrets.yaml", enc.data, enc.len, &plain, &err), 0);
	secbuf_free(plain);
	keyring_cache_stats(kr, &hits, &misses);
	cr_assert_geq(hits, 1);

	/* the sops project's own file, encrypted to its functional-test keys */
	d = slurp(FX "/sops/sops-repo/functional-tests/format.enc.yaml", &n);
	cr_assert_eq(sops_decrypt(kr, NULL, "format.enc.yaml", d, n, &plain, &err), 0, "%s",
		     err.msg);
	cr_assert_str_eq((char *)plain->data, "foo: bar\n");
	secbuf_free(plain);
	free(d);
	keyring_free(kr);

	/* a keyring whose helper holds only an unrelated key: "no usable key", no output */
	cr_assert_eq(pgp_agent_stop(a, NULL), 0);
	a = start();
	rm_rf(dir);
	memcpy(dir, "/tmp/smc-pgp-agent-keys-XXXXXX", sizeof(dir));
	cr_assert_not_null(mkdtemp(dir));
	copy_to(FX "/sops/keys/sops-functional-tests-key.asc", dir, "key.asc");
	cr_assert_eq(keyring_new(&kr), 0);
	cr_assert_eq(keyring_attach_pgp_agent(kr, a), 0);
	cr_assert_eq(keyring_load_dir(kr, dir, &err), 0, "%s", err.msg);
	plain = NULL;
	cr_assert_neq(sops_decrypt(kr, NULL, "secrets.yaml", enc.data, enc.len, &plain, &err), 0);
	cr_assert_null(plain);
	cr_assert(strstr(err.msg, "no usable key") != NULL, "%s", err.msg);
	cr_assert_null(strstr(err.msg, "hunter2"));
	keyring_free(kr);
	cr_assert_eq(pgp_agent_stop(a, NULL), 0);
	rm_rf(dir);
	buf_free(&enc);
}

Test(pgp_agent, attach_after_in_process_pgp_keys_is_refused)
{
	struct pgp_agent *a = start();
	struct keyring *kr = NULL;
	struct err_ctx err = {{0}};
	size_t n;
	uint8_t *d = slurp(GPG "/test-cv25519.private.asc", &n);

	cr_assert_eq(keyring_new(&kr), 0);
	cr_assert_eq(keyring_add(kr, "cv.asc", d, n, &err), 0, "%s", err.msg);
	cr_assert_eq(keyring_attach_pgp_agent(kr, a), ERR_INVAL);
	keyring_free(kr);
	cr_assert_eq(pgp_agent_stop(a, NULL), 0);
	free(d);
}

/* A malformed request ends the helper: it answers nothing, exits with status 2 (not a
 * signal), and has stopped its gpg-agents and removed its home by the time the socket
 * closes (the janitor holds it until then). */
static void expect_garbage_ends_it(const uint8_t *req, size_t n, int import_first)
{
	struct pgp_agent *a = start();
	struct err_ctx err = {{0}};
	struct secbuf *rep = NULL;
	char home[256];
	int st = -1;

	snprintf(home, sizeof(home), "%s", pgp_agent_home(a));
	if (import_first) {
		import_file(a, GPG "/test-cv25519.private.asc", 1);
		cr_assert_geq(procs_mentioning(home), 1, "a gpg-agent runs for the home");
	}
	cr_assert_neq(pgp_agent_raw(a, req, n, &rep, &err), 0, "the helper answered garbage");
	cr_assert_null(rep);
	cr_assert_not(exists(home), "home %s left behind", home);
	cr_assert_eq(pgp_agent_stop(a, &st), 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "status %d", st);
	cr_assert_eq(procs_mentioning(home), 0, "a gpg-agent survived");
}

Test(pgp_agent, garbage_requests_end_it_cleanly)
{
	static const uint8_t unknown[] = {0x7f, 1, 2, 3};
	static const uint8_t empty_import[] = {PGP_AGENT_REQ_IMPORT};
	static const uint8_t short_decrypt[] = {PGP_AGENT_REQ_DECRYPT, 0, 0, 0};
	static const uint8_t bad_slot[] = {PGP_AGENT_REQ_DECRYPT, 0, 0, 0, 7, '-', '-'};
	static const uint8_t zero[] = {0};

	expect_garbage_ends_it(unknown, sizeof(unknown), 1);
	expect_garbage_ends_it(empty_import, sizeof(empty_import), 0);
	expect_garbage_ends_it(short_decrypt, sizeof(short_decrypt), 0);
	expect_garbage_ends_it(bad_slot, sizeof(bad_slot), 1);
	expect_garbage_ends_it(zero, 0, 0); /* an empty frame */
	expect_garbage_ends_it(zero, sizeof(zero), 0);
}

Test(pgp_agent, oversize_or_truncated_frame_ends_it_cleanly)
{
	static const uint8_t huge_hdr[] = {0xff, 0xff, 0xff, 0xff, PGP_AGENT_REQ_IMPORT};
	static const uint8_t short_hdr[] = {0, 0, 0, 9, PGP_AGENT_REQ_IMPORT, 'x'};
	const uint8_t *cases[] = {huge_hdr, short_hdr};
	size_t lens[] = {sizeof(huge_hdr), sizeof(short_hdr)};

	for (size_t i = 0; i < 2; i++) {
		struct pgp_agent *a = start();
		char home[256];
		int st = -1;

		snprintf(home, sizeof(home), "%s", pgp_agent_home(a));
		cr_assert_eq(write(pgp_agent_fd(a), cases[i], lens[i]), (ssize_t)lens[i]);
		if (i == 1)
			shutdown(pgp_agent_fd(a), SHUT_WR); /* the rest of the frame never comes */
		cr_assert_eq(pgp_agent_stop(a, &st), 0);
		cr_assert(WIFEXITED(st), "killed by a signal: %d", st);
		cr_assert_not(exists(home));
	}
}

Test(pgp_agent, home_is_removed_and_gpg_agent_stopped_after_stop)
{
	struct pgp_agent *a = start();
	char home[256];
	struct stat st;
	int status = -1;

	snprintf(home, sizeof(home), "%s", pgp_agent_home(a));
	cr_assert_eq(stat(home, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	import_file(a, GPG "/test-rsa3072.private.asc", 1);
	import_file(a, GPG "/test-cv25519.private.asc", 1);
	cr_assert_geq(procs_mentioning(home), 2, "one gpg-agent per key file");
	cr_assert_eq(pgp_agent_stop(a, &status), 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	cr_assert_not(exists(home));
	cr_assert_eq(procs_mentioning(home), 0, "a gpg-agent survived");
}

/* The server process: the only child of the janitor (pgp_agent_pid). */
static pid_t server_pid(struct pgp_agent *a)
{
	char path[96], buf[64];
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pgp_agent_pid(a),
		 (int)pgp_agent_pid(a));
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0, "%s", path);
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert_gt(r, 0, "the janitor has no child");
	buf[r] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

static void assert_confined(pid_t pid)
{
	char path[64], buf[4096];
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	/* the helper confines itself right after fork: give a loaded machine up to 5 s */
	for (int tries = 0;; tries++) {
		fd = open(path, O_RDONLY);
		cr_assert_geq(fd, 0);
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		cr_assert_gt(r, 0);
		buf[r] = '\0';
		if (strstr(buf, "\nSeccomp:\t2\n") != NULL || tries >= 500)
			break;
		usleep(10000);
	}
	cr_assert_not_null(strstr(buf, "\nSeccomp:\t2\n"), "%s", buf);
	cr_assert_not_null(strstr(buf, "\nNoNewPrivs:\t1\n"));
	if (getuid() == 0) /* dropped to its own uid */
		cr_assert_null(strstr(buf, "\nUid:\t0\t"), "still root");
}

Test(pgp_agent, both_processes_run_under_seccomp_without_new_privs)
{
	struct pgp_agent *a = start();

	assert_confined(pgp_agent_pid(a)); /* the janitor */
	assert_confined(server_pid(a));	   /* the server */
	cr_assert_eq(pgp_agent_stop(a, NULL), 0);
}

Test(pgp_agent, a_killed_server_leaves_no_key_material)
{
	struct pgp_agent *a = start();
	char home[256];
	int st = -1;

	snprintf(home, sizeof(home), "%s", pgp_agent_home(a));
	import_file(a, GPG "/test-rsa3072.private.asc", 1);
	cr_assert_not(empty_or_gone(home));
	cr_assert_eq(kill(server_pid(a), SIGKILL), 0);
	/* the janitor wipes the home, then closes the socket and exits */
	cr_assert_eq(pgp_agent_decrypt(a, 0, "x", 1, &(struct secbuf *){NULL}, NULL), ERR_IO);
	cr_assert_not(exists(home), "home %s left behind", home);
	cr_assert_eq(pgp_agent_stop(a, &st), 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 4, "status %d", st);
}

/* The helper's sandbox applied to a forked child of the test (not to the criterion worker
 * itself, whose own threads would trip the filter): probe(home) runs under it; returns the
 * child's wait status. The home is removed here afterwards. */
static int run_sandboxed(void (*probe)(const char *home))
{
	char home[64];
	int st = -1;
	pid_t pid;

	snprintf(home, sizeof(home), "/tmp/smc-pgp-agent-sbx-XXXXXX");
	cr_assert_not_null(mkdtemp(home));
	if (getuid() == 0) {
		unsigned uid, gid;

		cr_assert_eq(pgp_agent_sandbox_ids(&uid, &gid), 0);
		cr_assert_eq(chown(home, uid, gid), 0);
	}
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct err_ctx err = {{0}};
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
			_exit(89);
		if (pgp_agent_sandbox_enter(home, sv[1], &err) != 0)
			_exit(90);
		probe(home);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	rm_rf(home);
	return st;
}

static void probe_inet(const char *home)
{
	(void)home;
	(void)socket(AF_INET, SOCK_STREAM, 0);
	_exit(91);
}

static void probe_inet6(const char *home)
{
	(void)home;
	(void)socket(AF_INET6, SOCK_DGRAM, 0);
	_exit(91);
}

static void probe_allowed(const char *home)
{
	char p[128];
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		_exit(10);
	close(fd);
	snprintf(p, sizeof(p), "%s/file", home);
	if ((fd = open(p, O_WRONLY | O_CREAT, 0600)) < 0)
		_exit(11);
	close(fd);
	if (open("/tmp/smc-pgp-agent-sbx-escape", O_WRONLY | O_CREAT, 0600) >= 0 || errno != EACCES)
		_exit(12);
	if (open("/etc/passwd", O_RDONLY) >= 0 || errno != EACCES)
		_exit(13);
	if (open("/usr/bin/gpg", O_RDONLY) < 0)
		_exit(14);
	_exit(0);
}

Test(pgp_agent, sandbox_kills_an_ip_socket)
{
	int st = run_sandboxed(probe_inet);

	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "status %d", st);
}

Test(pgp_agent, sandbox_kills_an_ip6_socket)
{
	int st = run_sandboxed(probe_inet6);

	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "status %d", st);
}

Test(pgp_agent, sandbox_allows_unix_sockets_and_its_home_only)
{
	int st = run_sandboxed(probe_allowed);

	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}
