/* test_kustomize_runner.c — the kustomize helper process (decryptor/kustomize_runner.c) with
 * the real `kubectl kustomize` under its real sandbox: builds, errors without values, the
 * output cap (kustomize killed), no network, nothing left in the scratch directory after a
 * build, and the error-line sanitiser. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/fs_util.h"
#include "decryptor/kustomize_runner.h"

#define CANARY "C4N4RY-s3cr3t"

static char parent[] = "/tmp/smc-test-kz-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(parent));
	/* like /dev/shm: the helper drops to its own uid and removes its scratch dir itself */
	cr_assert_eq(chmod(parent, 01777), 0);
}

static void rm_rf(const char *p)
{
	cr_assert_eq(fs_util_rm_rf(p), 0);
}

static void teardown(void)
{
	rm_rf(parent);
}

TestSuite(kustomize_runner, .init = setup, .fini = teardown, .timeout = 120);

static void add(struct tree *t, const char *path, const char *text)
{
	cr_assert_eq(tree_add(t, path, text, strlen(text), 0644), 0, "tree_add %s", path);
}

static struct kustomize_runner *start(size_t max_output, const char *binary)
{
	struct kustomize_runner_opts o = {0};
	struct kustomize_runner *r = NULL;
	struct err_ctx err = {{0}};
	int rc;

	o.max_output = max_output;
	o.scratch_parent = parent;
	o.binary = binary;
	rc = kustomize_runner_start_opts(&o, &r, &err);
	cr_assert_eq(rc, 0, "start: %s", err.msg);
	cr_assert(kustomize_runner_alive(r));
	cr_assert_geq(kustomize_runner_fd(r), 3);
	return r;
}

/* Every file left under the scratch directories (parent/smc-kustomize-*), counted. */
static size_t count_files(const char *dir, unsigned depth)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	cr_assert_not_null(d, "opendir %s", dir);
	while ((de = readdir(d)) != NULL) {
		char p[1024];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		cr_assert_eq(lstat(p, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			/* depth 0: smc-kustomize-*; depth 1: only home and plugins may exist */
			if (depth == 1)
				cr_assert(strcmp(de->d_name, "home") == 0 ||
					      strcmp(de->d_name, "plugins") == 0,
					  "left behind: %s", p);
			n += count_files(p, depth + 1);
		} else {
			n++;
		}
	}
	closedir(d);
	return n;
}

Test(kustomize_runner, builds_with_kubectl_and_leaves_nothing)
{
	struct kustomize_runner *r = start(0, NULL);
	struct secbuf *y = NULL;
	struct err_ctx err = {{0}};
	struct tree t;
	int rc;

	tree_init(&t);
	add(&t, "base/kustomization.yaml", "resources: [cm.yaml]\n");
	add(&t, "base/cm.yaml",
	    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n");
	add(&t, "overlay/kustomization.yaml",
	    "resources: [../base]\nnamePrefix: prod-\n"
	    "secretGenerator:\n- name: s\n  envs: [s.env]\n"
	    "generatorOptions:\n  disableNameSuffixHash: true\n");
	add(&t, "overlay/s.env", "PASSWORD=" CANARY "\n");
	rc = kustomize_runner_build(r, &t, "overlay", &y, &err);
	cr_assert_eq(rc, 0, "build: %s", err.msg);
	cr_assert_not_null(y);
	cr_assert(strstr((char *)y->data, "name: prod-cm") != NULL, "%s", (char *)y->data);
	cr_assert(strstr((char *)y->data, "name: prod-s") != NULL);
	/* base64("C4N4RY-s3cr3t") */
	cr_assert(strstr((char *)y->data, "PASSWORD: QzRONFJZLXMzY3IzdA==") != NULL, "%s",
		  (char *)y->data);
	secbuf_free(y);
	cr_assert_eq(count_files(parent, 0), 0, "plaintext files outlived the build");
	/* a second build on the same helper, at the root */
	tree_free(&t);
	tree_init(&t);
	add(&t, "kustomization.yaml", "configMapGenerator:\n- name: c\n  literals: [x=1]\n");
	y = NULL;
	rc = kustomize_runner_build(r, &t, "", &y, &err);
	cr_assert_eq(rc, 0, "build: %s", err.msg);
	cr_assert(strstr((char *)y->data, "kind: ConfigMap") != NULL);
	secbuf_free(y);
	tree_free(&t);
	kustomize_runner_stop(r);
	cr_assert_eq(count_files(parent, 0), 0);
}

Test(kustomize_runner, kustomize_error_names_no_value)
{
	struct kustomize_runner *r = start(0, NULL);
	struct secbuf *y = (struct secbuf *)(uintptr_t)1;
	struct err_ctx err = {{0}};
	struct tree t;
	int rc;

	tree_init(&t);
	add(&t, "k/kustomization.yaml", "secretGenerator:\n- name: s\n  envs: [bad.env]\n");
	add(&t, "k/bad.env", "A=" CANARY "\n\xff\xfe" CANARY "=x\n");
	rc = kustomize_runner_build(r, &t, "k", &y, &err);
	cr_assert_eq(rc, ERR_REMOTE, "rc %d: %s", rc, err.msg);
	cr_assert_eq((uintptr_t)y, 1, "output written on failure");
	cr_assert(strstr(err.msg, CANARY) == NULL, "value leaked: %s", err.msg);
	cr_assert(strstr(err.msg, "kustomize build of \"k\"") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "bad.env") != NULL, "%s", err.msg);

	tree_free(&t);
	tree_init(&t);
	add(&t, "k/kustomization.yaml", "resources: [r.yaml]\n");
	add(&t, "k/r.yaml",
	    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\ndata:\n  k: \"" CANARY
	    "\n  bad: [\n");
	rc = kustomize_runner_build(r, &t, "k", &y, &err);
	cr_assert_eq(rc, ERR_REMOTE, "rc %d: %s", rc, err.msg);
	cr_assert(strstr(err.msg, CANARY) == NULL, "value leaked: %s", err.msg);
	cr_assert(strstr(err.msg, "r.yaml") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, parent) == NULL, "scratch path shown: %s", err.msg);
	tree_free(&t);
	cr_assert(kustomize_runner_alive(r));
	kustomize_runner_stop(r);
	cr_assert_eq(count_files(parent, 0), 0);
}

Test(kustomize_runner, output_over_the_cap_is_refused)
{
	struct kustomize_runner *r = start(4096, NULL);
	struct secbuf *y = NULL;
	struct err_ctx err = {{0}};
	struct tree t;
	char *big = malloc(8192);
	int rc;

	cr_assert_not_null(big);
	memset(big, 'v', 8191);
	big[8191] = '\0';
	tree_init(&t);
	add(&t, "kustomization.yaml", "secretGenerator:\n- name: s\n  files: [big.txt]\n");
	add(&t, "big.txt", big);
	free(big);
	rc = kustomize_runner_build(r, &t, "", &y, &err);
	cr_assert_eq(rc, ERR_TOOBIG, "rc %d: %s", rc, err.msg);
	cr_assert(strstr(err.msg, "larger than the cap of 4096 bytes") != NULL, "%s", err.msg);
	cr_assert(kustomize_runner_alive(r));
	tree_free(&t);
	kustomize_runner_stop(r);
	cr_assert_eq(count_files(parent, 0), 0);
}

/* A stand-in for kustomize: /usr/bin/python3 given "kustomize <args>" runs the tree's file
 * named "kustomize" (the helper runs the binary in the build directory). */
static int run_fake(const char *script, size_t max_output, unsigned wall_s, unsigned cpu_s,
		    struct err_ctx *err)
{
	struct kustomize_runner_opts o = {0};
	struct kustomize_runner *r = NULL;
	struct secbuf *y = NULL;
	struct tree t;
	int rc;

	o.max_output = max_output;
	o.wall_s = wall_s;
	o.cpu_s = cpu_s;
	o.scratch_parent = parent;
	o.binary = "/usr/bin/python3";
	cr_assert_eq(kustomize_runner_start_opts(&o, &r, err), 0, "%s", err->msg);
	tree_init(&t);
	add(&t, "kustomization.yaml", "{}\n");
	add(&t, "kustomize", script);
	rc = kustomize_runner_build(r, &t, "", &y, err);
	cr_assert(rc != 0 || y != NULL);
	secbuf_free(y);
	cr_assert(kustomize_runner_alive(r));
	tree_free(&t);
	kustomize_runner_stop(r);
	cr_assert_eq(count_files(parent, 0), 0);
	return rc;
}

Test(kustomize_runner, endless_output_is_killed_at_the_cap)
{
	struct err_ctx err = {{0}};
	int rc = run_fake("import sys\nwhile True:\n    sys.stdout.write('y' * 4096)\n", 1 << 20,
			  30, 30, &err);

	cr_assert_eq(rc, ERR_TOOBIG, "rc %d: %s", rc, err.msg);
}

Test(kustomize_runner, wall_time_kills_the_group)
{
	struct err_ctx err = {{0}};
	int rc = run_fake("import os, time\nos.fork()\ntime.sleep(100)\n", 0, 2, 30, &err);

	cr_assert_eq(rc, ERR_TIMEOUT, "rc %d: %s", rc, err.msg);
	cr_assert(strstr(err.msg, "longer than 2 s") != NULL, "%s", err.msg);
}

Test(kustomize_runner, cpu_time_is_capped)
{
	struct err_ctx err = {{0}};
	int rc = run_fake("while True:\n    pass\n", 0, 30, 1, &err);

	cr_assert_eq(rc, ERR_TIMEOUT, "rc %d: %s", rc, err.msg);
	cr_assert(strstr(err.msg, "CPU") != NULL, "%s", err.msg);
}

Test(kustomize_runner, no_socket_no_files_outside)
{
	struct err_ctx err = {{0}};
	int rc = run_fake(
	    "import socket, sys\n"
	    "out = []\n"
	    "try:\n    socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n    out.append('sock')\n"
	    "except OSError: pass\n"
	    "try:\n    open('/etc/hostname').read()\n    out.append('etc')\n"
	    "except OSError: pass\n"
	    "try:\n    open('/tmp/smc-kz-escape', 'w')\n    out.append('tmp')\n"
	    "except OSError: pass\n"
	    "sys.stdout.write('ALLOWED:' + ','.join(out) + '\\n')\n"
	    "sys.exit(1 if out else 0)\n",
	    0, 30, 30, &err);

	cr_assert_eq(rc, 0, "the sandbox let something through: rc %d: %s", rc, err.msg);
	cr_assert_neq(access("/tmp/smc-kz-escape", F_OK), 0);
}

Test(kustomize_runner, remote_base_has_no_network)
{
	/* bypassing the pre-scan on purpose: the sandbox alone must keep kustomize offline */
	struct kustomize_runner *r = start(0, NULL);
	struct secbuf *y = NULL;
	struct err_ctx err = {{0}};
	struct tree t;
	int rc;

	tree_init(&t);
	add(&t, "kustomization.yaml",
	    "resources:\n- https://github.com/kubernetes-sigs/kustomize//examples/helloWorld"
	    "?ref=v3.3.1\n");
	rc = kustomize_runner_build(r, &t, "", &y, &err);
	cr_assert_neq(rc, 0, "a remote base was fetched");
	cr_assert_null(y);
	tree_free(&t);
	kustomize_runner_stop(r);
	cr_assert_eq(count_files(parent, 0), 0);
}

Test(kustomize_runner, forbidden_syscalls_kill)
{
	/* a user namespace (unshare, or clone with CLONE_NEWUSER) and ptrace are not in the
	 * table: the process dies with SIGSYS */
	static const char *const probes[] = {
	    "import ctypes\nctypes.CDLL(None, use_errno=True).unshare(0x10000000)\n",
	    "import ctypes\nctypes.CDLL(None, use_errno=True).ptrace(0, 0, 0, 0)\n",
	    "import ctypes\nctypes.CDLL(None, use_errno=True).syscall(56, 0x10000000 | 17, 0, 0, "
	    "0, "
	    "0)\n",
	};

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		struct err_ctx err = {{0}};
		int rc = run_fake(probes[i], 0, 30, 30, &err);

		cr_assert_eq(rc, ERR_REMOTE, "probe %zu: rc %d: %s", i, rc, err.msg);
		cr_assert(strstr(err.msg, "killed by signal 31") != NULL, "probe %zu: %s", i,
			  err.msg);
	}
}

static bool dir_empty(const char *dir)
{
	struct dirent *de;
	bool empty = true;
	DIR *d = opendir(dir);

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = false;
	}
	closedir(d);
	return empty;
}

Test(kustomize_runner, killed_worker_leaves_nothing)
{
	/* the stand-in kills the helper's worker in the middle of a build: the reaper must
	 * still wipe the build directory, and the decryptor side must see the helper lost */
	struct kustomize_runner_opts o = {0};
	struct kustomize_runner *r = NULL;
	struct secbuf *y = NULL;
	struct err_ctx err = {{0}};
	struct tree t;
	int rc;

	o.scratch_parent = parent;
	o.binary = "/usr/bin/python3";
	cr_assert_eq(kustomize_runner_start_opts(&o, &r, &err), 0, "%s", err.msg);
	tree_init(&t);
	add(&t, "kustomization.yaml", "{}\n");
	add(&t, "secret.env", "A=" CANARY "\n");
	add(&t, "kustomize",
	    "import os, signal, time\nos.kill(os.getppid(), signal.SIGKILL)\n"
	    "time.sleep(2)\n");
	rc = kustomize_runner_build(r, &t, "", &y, &err);
	cr_assert_eq(rc, ERR_IO, "rc %d: %s", rc, err.msg);
	cr_assert_null(y);
	cr_assert_not(kustomize_runner_alive(r));
	rc = kustomize_runner_build(r, &t, "", &y, &err);
	cr_assert_eq(rc, ERR_IO, "a lost helper must stay lost");
	tree_free(&t);
	kustomize_runner_stop(r);
	cr_assert(dir_empty(parent), "the scratch directory outlived the helper");
}

Test(kustomize_runner, stop_removes_the_scratch_directory)
{
	kustomize_runner_stop(start(0, NULL));
	cr_assert(dir_empty(parent), "the scratch directory outlived the helper");
}

Test(kustomize_runner, missing_binary)
{
	struct kustomize_runner_opts o = {0};
	struct kustomize_runner *r = NULL;
	struct err_ctx err = {{0}};

	o.binary = "no-such-kustomize-binary";
	cr_assert_eq(kustomize_runner_start_opts(&o, &r, &err), ERR_NOTFOUND);
	cr_assert_null(r);
	cr_assert(strstr(err.msg, "no-such-kustomize-binary") != NULL);
	kustomize_runner_stop(NULL);
}

Test(kustomize_runner, sanitize_keeps_the_reason_not_the_content)
{
	char out[KUSTOMIZE_RUNNER_MAX_ERRLINE + 8];
	struct tree t;
	const char *k1 =
	    "E1122 12:20:32.669125 7541 run.go:72] \"command failed\" err=\"loading KV pairs: env "
	    "source files: [y.env]: line [255 254 61] has invalid utf8 bytes : \\xff" CANARY "\"\n";
	const char *k2 = "Error: accumulating resources: accumulating resources from 'r.yaml': "
			 "MalformedYAMLError: yaml: line 6: found unexpected end in File: r.yaml\n"
			 "  k: " CANARY "\n";
	const char *k3 =
	    "Error: yaml: unmarshal errors:\\n  line 3: cannot unmarshal !!str `" CANARY
	    "` into map\n";
	const char *k4 = "warning: something\nError: invalid Secret: value '" CANARY
			 "' for key `A` in /scratch/b/k/s.yaml\n";

	tree_init(&t);
	add(&t, "r.yaml", "x");
	add(&t, "k/s.yaml", "x");
	kustomize_runner_sanitize(k1, strlen(k1), NULL, &t, out, sizeof(out));
	cr_assert_str_eq(out, "loading KV pairs: env source files: [y.env]");
	kustomize_runner_sanitize(k2, strlen(k2), NULL, &t, out, sizeof(out));
	cr_assert_str_eq(out, "accumulating resources: accumulating resources from 'r.yaml': "
			      "MalformedYAMLError: yaml: line 6: found unexpected end in File: "
			      "r.yaml");
	kustomize_runner_sanitize(k3, strlen(k3), NULL, &t, out, sizeof(out));
	cr_assert_str_eq(out, "yaml: unmarshal errors");
	kustomize_runner_sanitize(k4, strlen(k4), "/scratch/b/", &t, out, sizeof(out));
	cr_assert_str_eq(out,
			 "invalid Secret: value '\xe2\x80\xa6' for key `\xe2\x80\xa6` in k/s.yaml");
	kustomize_runner_sanitize("", 0, NULL, NULL, out, sizeof(out));
	cr_assert_str_eq(out, "kustomize failed");
	tree_free(&t);
}
