/* test_kustomize_mode.c — kustomize build mode (decryptor/kustomize_mode.c): the YAML stream
 * reader (documents, not text; Secret data/stringData, ConfigMap data/binaryData, origins,
 * group, conflicts, base64, SOPS resources decrypted after the build and the MAC message
 * when kustomize changed one), and kustomize_collect end to end with the real
 * `kubectl kustomize`: SOPS dotenv generator decrypted before the build, SOPS Secret
 * resource after it, overlays with patches and namePrefix, refusals writing nothing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/lib/fs_util.h"
#include "decryptor/keyring.h"
#include "decryptor/kustomize_mode.h"
#include "decryptor/raw.h"
#include "decryptor/sops/sops.h"

#define FLUX SMC_SHARED_DIR "/fixtures/sops/fluxcd"
#define CANARY "C4N4RY-s3cr3t"

static struct keyring *kr;

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *d;
	long sz;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc((size_t)sz + 1);
	cr_assert_not_null(d);
	cr_assert_eq(fread(d, 1, (size_t)sz, f), (size_t)sz);
	d[sz] = 0;
	fclose(f);
	*n = (size_t)sz;
	return d;
}

static void setup(void)
{
	struct err_ctx err = {{0}};
	size_t n;
	uint8_t *k = slurp(FLUX "/keys/age.txt", &n);

	cr_assert_eq(keyring_new(&kr), 0);
	cr_assert_eq(keyring_add(kr, "flux.agekey", k, n, &err), 0, "%s", err.msg);
	free(k);
}

static void teardown(void)
{
	keyring_free(kr);
}

TestSuite(kustomize_mode, .init = setup, .fini = teardown, .timeout = 120);

struct res {
	struct kvlist sec, cfg;
	struct file_report *files;
	size_t nfiles;
	struct err_ctx err;
	int rc;
};

static void check_failed(struct res *r)
{
	cr_assert_eq(r->sec.n, 0);
	cr_assert_eq(r->cfg.n, 0);
	cr_assert_eq((uintptr_t)r->files, 1, "files written on failure");
	cr_assert_eq(r->nfiles, 12345);
	cr_assert(strstr(r->err.msg, CANARY) == NULL, "value leaked: %s", r->err.msg);
	r->files = NULL;
	r->nfiles = 0;
}

static void parse(struct res *r, const char *yaml)
{
	memset(r, 0, sizeof(*r));
	kvlist_init(&r->sec);
	kvlist_init(&r->cfg);
	r->files = (struct file_report *)(uintptr_t)1;
	r->nfiles = 12345;
	r->rc = kustomize_mode_parse_stream(kr, "ns", (const uint8_t *)yaml, strlen(yaml), &r->sec,
					    &r->cfg, &r->files, &r->nfiles, &r->err);
	if (r->rc != 0)
		check_failed(r);
}

static void done(struct res *r)
{
	kvlist_free(&r->sec);
	kvlist_free(&r->cfg);
	raw_files_free(r->files, r->nfiles);
}

static void expect(const struct kvlist *l, const char *key, const char *val, const char *origin)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct kv *kv = &l->items[i];

		if (strcmp(kv->key, key) != 0)
			continue;
		cr_assert(secbuf_eq_mem(kv->value, val, strlen(val)), "value of %s differs", key);
		cr_assert_str_eq(kv->group, "default");
		if (origin)
			cr_assert_str_eq(kv->origin, origin);
		return;
	}
	cr_assert_fail("key %s missing", key);
}

Test(kustomize_mode, stream_secrets_and_configs)
{
	struct res r;

	parse(&r, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  namespace: prod\n"
		  "data:\n  USER: YWRtaW4=\n  EMPTY: \"\"\n"
		  "stringData:\n  TEXT: |\n    line1\n    ---\n    line3\n"
		  "---\n"
		  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
		  "data:\n  LOG: debug\n  PORT: \"8080\"\nbinaryData:\n  BIN: AAEC/w==\n"
		  "---\n"
		  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n"
		  "spec:\n  data:\n    NOTME: x\n"
		  "---\n"
		  "---\n");
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.sec.n, 3);
	cr_assert_eq(r.cfg.n, 3);
	expect(&r.sec, "USER", "admin", "Secret/prod/a");
	expect(&r.sec, "EMPTY", "", NULL);
	/* a "---" inside a block scalar is content, not a document break */
	expect(&r.sec, "TEXT", "line1\n---\nline3\n", NULL);
	expect(&r.cfg, "LOG", "debug", "ConfigMap/c");
	expect(&r.cfg, "PORT", "8080", NULL);
	cr_assert(secbuf_eq_mem(r.cfg.items[2].value, "\x00\x01\x02\xff", 4));
	cr_assert_eq(r.nfiles, 2);
	cr_assert_str_eq(r.files[0].path, "Secret/prod/a");
	cr_assert_eq(r.files[0].count, 3);
	cr_assert_eq(r.files[0].encrypted, false);
	cr_assert_str_eq(r.files[1].path, "ConfigMap/c");
	done(&r);
}

Test(kustomize_mode, string_data_wins_inside_one_secret)
{
	struct res r;

	parse(&r, "kind: Secret\nmetadata: {name: a}\ndata: {K: b2xk}\nstringData: {K: new}\n");
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.sec.n, 1);
	expect(&r.sec, "K", "new", "Secret/a");
	done(&r);
}

Test(kustomize_mode, same_key_in_two_resources_names_both)
{
	struct res r;

	parse(&r, "kind: Secret\nmetadata: {name: a, namespace: x}\nstringData: {K: " CANARY "}\n"
		  "---\nkind: Secret\nmetadata: {name: b, namespace: y}\nstringData: {K: v}\n");
	cr_assert_eq(r.rc, ERR_CONFLICT);
	cr_assert(strstr(r.err.msg, "Secret/x/a") != NULL, "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, "Secret/y/b") != NULL, "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, "\"K\"") != NULL, "%s", r.err.msg);
	/* a Secret and a ConfigMap may share a key: different stores */
	parse(&r, "kind: Secret\nmetadata: {name: a}\nstringData: {K: v}\n"
		  "---\nkind: ConfigMap\nmetadata: {name: a}\ndata: {K: v}\n");
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	done(&r);
	parse(&r, "kind: ConfigMap\nmetadata: {name: a}\ndata: {K: v}\n"
		  "---\nkind: ConfigMap\nmetadata: {name: b}\ndata: {K: w}\n");
	cr_assert_eq(r.rc, ERR_CONFLICT);
	cr_assert(strstr(r.err.msg, "ConfigMap/a") != NULL && strstr(r.err.msg, "ConfigMap/b"));
}

Test(kustomize_mode, malformed_values_refused_without_value)
{
	struct res r;

	parse(&r, "kind: Secret\nmetadata: {name: a}\ndata:\n  K: " CANARY "!\n");
	cr_assert_eq(r.rc, ERR_INVAL);
	cr_assert(strstr(r.err.msg, "Secret/a: data.K is not valid base64") != NULL, "%s",
		  r.err.msg);
	parse(&r, "kind: Secret\nmetadata: {name: a}\ndata:\n  K: YQ==YQ==\n");
	cr_assert_eq(r.rc, ERR_INVAL);
	parse(&r, "kind: Secret\nmetadata: {name: a}\ndata:\n  K: YQ\n");
	cr_assert_eq(r.rc, ERR_INVAL);
	parse(&r, "kind: Secret\nmetadata: {name: a}\nstringData:\n  K: [" CANARY "]\n");
	cr_assert_eq(r.rc, ERR_INVAL);
	cr_assert(strstr(r.err.msg, "stringData.K is not a string") != NULL, "%s", r.err.msg);
	parse(&r, "kind: Secret\nmetadata: {name: a}\nstringData: [a]\n");
	cr_assert_eq(r.rc, ERR_INVAL);
	parse(&r, "- a\n- b\n");
	cr_assert_eq(r.rc, ERR_INVAL);
	parse(&r, "kind: Secret\nstringData: {a: \"" CANARY "\n");
	cr_assert_eq(r.rc, ERR_INVAL);
	cr_assert(strstr(r.err.msg, "kustomize output: line") != NULL, "%s", r.err.msg);
}

/* The plaintext value of key `key` in a sops-decrypted YAML fixture (found with the sops
 * library itself, so the two code paths are compared). */
static char *fixture_value(const char *file, const char *key)
{
	struct secbuf *plain = NULL;
	struct err_ctx err = {{0}};
	char needle[64], *v, *e;
	size_t n;
	uint8_t *d = slurp(file, &n);

	cr_assert_eq(sops_decrypt(kr, "ns", file, d, n, &plain, &err), 0, "%s", err.msg);
	free(d);
	snprintf(needle, sizeof(needle), "%s", key);
	v = memmem(plain->data, plain->len, needle, strlen(needle));
	cr_assert_not_null(v);
	v += strlen(needle);
	e = strchr(v, '\n');
	v = strndup(v, e ? (size_t)(e - v) : strlen(v));
	secbuf_free(plain);
	return v;
}

Test(kustomize_mode, sops_resource_decrypted_after_the_build)
{
	struct res r;
	size_t n;
	char *doc = (char *)slurp(FLUX "/age-secret.enc.yaml", &n), *yaml;
	char *want = fixture_value(FLUX "/age-secret.enc.yaml", "  key: ");

	yaml = malloc(n + 200);
	snprintf(yaml, n + 200, "kind: ConfigMap\nmetadata: {name: c}\ndata: {A: b}\n---\n%s", doc);
	parse(&r, yaml);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.sec.n, 1);
	expect(&r.sec, "key", want, "Secret/age");
	cr_assert_eq(r.nfiles, 2);
	cr_assert_str_eq(r.files[1].path, "Secret/age");
	cr_assert_eq(r.files[1].encrypted, true);
	done(&r);

	/* what namePrefix does to it: the MAC no longer verifies */
	snprintf(yaml, n + 200, "%s", doc);
	memcpy(strstr(yaml, "name: age"), "name: agX", 9);
	parse(&r, yaml);
	cr_assert_eq(r.rc, ERR_CRYPTO, "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, "MAC no longer verifies") != NULL, "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, "secretGenerator") != NULL, "%s", r.err.msg);
	free(yaml);
	free(doc);
	free(want);
}

/* ---- kustomize_collect with the real kubectl ---- */

static char parent[] = "/tmp/smc-test-kzm-XXXXXX";

static void tadd(struct tree *t, const char *path, const char *text)
{
	cr_assert_eq(tree_add(t, path, text, strlen(text), 0644), 0, "tree_add %s", path);
}

static void tadd_file(struct tree *t, const char *path, const char *src)
{
	size_t n;
	uint8_t *d = slurp(src, &n);

	cr_assert_eq(tree_add(t, path, d, n, 0644), 0);
	free(d);
}

static struct kustomize_runner *start(void)
{
	struct kustomize_runner_opts o = {0};
	struct kustomize_runner *run = NULL;
	struct err_ctx err = {{0}};

	cr_assert_not_null(mkdtemp(parent));
	cr_assert_eq(chmod(parent, 0711), 0);
	o.scratch_parent = parent;
	cr_assert_eq(kustomize_runner_start_opts(&o, &run, &err), 0, "%s", err.msg);
	return run;
}

static void stop(struct kustomize_runner *run)
{
	kustomize_runner_stop(run);
	cr_assert_eq(fs_util_rm_rf(parent), 0);
}

static void collect(struct res *r, struct kustomize_runner *run, const struct tree *t,
		    const char *kpath)
{
	struct job job;

	memset(&job, 0, sizeof(job));
	job.config.ns = (char *)"apps";
	job.mode.kustomize_path = (char *)kpath;
	memset(r, 0, sizeof(*r));
	kvlist_init(&r->sec);
	kvlist_init(&r->cfg);
	r->files = (struct file_report *)(uintptr_t)1;
	r->nfiles = 12345;
	r->rc =
	    kustomize_collect(run, kr, &job, t, &r->sec, &r->cfg, &r->files, &r->nfiles, &r->err);
	if (r->rc != 0)
		check_failed(r);
}

static void overlay_tree(struct tree *t, bool with_generator)
{
	tree_init(t);
	tadd(t, "base/kustomization.yaml",
	     with_generator ? "resources: [cm.yaml, app-secret.yaml]\n"
			      "secretGenerator:\n- name: creds\n  envs: [creds.enc.env]\n"
			      "generatorOptions:\n  disableNameSuffixHash: true\n"
			    : "resources: [cm.yaml, app-secret.yaml]\n");
	tadd(t, "base/cm.yaml",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
	     "data:\n  LOG_LEVEL: info\n  REGION: eu\n");
	tadd(t, "base/app-secret.yaml",
	     "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  TOKEN: base\n");
	tadd_file(t, "base/creds.enc.env", FLUX "/age.enc.env");
	tadd(t, "overlays/prod/kustomization.yaml",
	     "resources: [../../base, sops-secret.yaml]\n"
	     "patches:\n- path: patch.yaml\n"
	     "configMapGenerator:\n- name: extra\n  literals: [FEATURE=on]\n"
	     "  options: {disableNameSuffixHash: true}\n");
	tadd(t, "overlays/prod/patch.yaml",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  LOG_LEVEL: "
	     "warn\n");
	tadd_file(t, "overlays/prod/sops-secret.yaml", FLUX "/age-secret.enc.yaml");
	/* an encrypted file nobody references stays encrypted (its key may be another team's) */
	tadd(t, "other/unrelated.enc.env",
	     "x=ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]\nsops_version=3.9.0\n"
	     "sops_mac=x\n");
}

Test(kustomize_mode, collect_end_to_end_with_kubectl)
{
	struct kustomize_runner *run = start();
	char *env_want = fixture_value(FLUX "/age.enc.env", "key=");
	char *res_want = fixture_value(FLUX "/age-secret.enc.yaml", "  key: ");
	struct tree t;
	struct res r;

	/* base + overlay with a patch, a SOPS resource and a configMapGenerator */
	overlay_tree(&t, false);
	collect(&r, run, &t, "overlays/prod");
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.sec.n, 2, "secrets: %zu", r.sec.n);
	expect(&r.sec, "key", res_want, "Secret/age");
	expect(&r.sec, "TOKEN", "base", "Secret/app");
	cr_assert_eq(r.cfg.n, 3);
	expect(&r.cfg, "LOG_LEVEL", "warn", "ConfigMap/settings");
	expect(&r.cfg, "REGION", "eu", "ConfigMap/settings");
	expect(&r.cfg, "FEATURE", "on", "ConfigMap/extra");
	done(&r);
	tree_free(&t);

	/* the SOPS dotenv generator in the base gives "key" too: two resources, one key */
	overlay_tree(&t, true);
	collect(&r, run, &t, "overlays/prod");
	cr_assert_eq(r.rc, ERR_CONFLICT, "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, "Secret/age") != NULL, "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, "Secret/creds") != NULL, "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, env_want) == NULL && strstr(r.err.msg, res_want) == NULL);

	/* generator from the SOPS dotenv alone (the resource would clash on "key") */
	tree_free(&t);
	tree_init(&t);
	tadd(&t, "k/kustomization.yaml",
	     "namePrefix: prod-\nresources: [cm.yaml]\n"
	     "patches:\n- path: patch.yaml\n"
	     "secretGenerator:\n- name: creds\n  envs: [creds.enc.env]\n"
	     "configMapGenerator:\n- name: extra\n  literals: [FEATURE=on]\n");
	tadd(&t, "k/cm.yaml",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
	     "data:\n  LOG_LEVEL: info\n");
	tadd(&t, "k/patch.yaml",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  LOG_LEVEL: "
	     "warn\n");
	tadd_file(&t, "k/creds.enc.env", FLUX "/age.enc.env");
	collect(&r, run, &t, "k");
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.sec.n, 1);
	cr_assert_eq(r.cfg.n, 2);
	cr_assert_eq(strncmp(r.sec.items[0].origin, "Secret/prod-creds-", 18), 0, "%s",
		     r.sec.items[0].origin);
	expect(&r.sec, "key", env_want, NULL);
	expect(&r.cfg, "LOG_LEVEL", "warn", "ConfigMap/prod-settings");
	expect(&r.cfg, "FEATURE", "on", NULL);
	cr_assert_str_eq(r.files[0].path, "k/creds.enc.env");
	cr_assert_eq(r.files[0].encrypted, true);
	done(&r);

	/* namePrefix over a SOPS resource: refused with the generator advice */
	tree_free(&t);
	tree_init(&t);
	tadd(&t, "k/kustomization.yaml", "namePrefix: prod-\nresources: [s.yaml]\n");
	tadd_file(&t, "k/s.yaml", FLUX "/age-secret.enc.yaml");
	collect(&r, run, &t, "k");
	cr_assert_eq(r.rc, ERR_CRYPTO, "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, "Secret/prod-age") != NULL, "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, "secretGenerator") != NULL, "%s", r.err.msg);

	/* refusals of the pre-scan write nothing and run nothing */
	tree_free(&t);
	tree_init(&t);
	tadd(&t, "k/kustomization.yaml", "resources: [github.com/org/repo//base]\n");
	collect(&r, run, &t, "k");
	cr_assert_eq(r.rc, ERR_PERM, "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, "k/kustomization.yaml:1: resources[0]") != NULL, "%s",
		  r.err.msg);

	/* a kustomize error quoting a decrypted value is masked */
	tree_free(&t);
	tree_init(&t);
	tadd(&t, "k/kustomization.yaml",
	     "secretGenerator:\n- name: a\n  envs: [creds.enc.env]\n- name: a\n  envs: "
	     "[creds.enc.env]\n");
	tadd_file(&t, "k/creds.enc.env", FLUX "/age.enc.env");
	collect(&r, run, &t, "k");
	cr_assert_neq(r.rc, 0);
	cr_assert(strstr(r.err.msg, env_want) == NULL, "%s", r.err.msg);

	tree_free(&t);
	free(env_want);
	free(res_want);
	stop(run);
}

Test(kustomize_mode, sops_input_without_keys_refused)
{
	struct kustomize_runner *run = start();
	struct keyring *saved = kr;
	struct tree t;
	struct res r;

	tree_init(&t);
	tadd(&t, "kustomization.yaml", "secretGenerator:\n- name: a\n  envs: [c.env]\n");
	tadd_file(&t, "c.env", FLUX "/age.enc.env");
	kr = NULL;
	collect(&r, run, &t, "");
	kr = saved;
	cr_assert_eq(r.rc, ERR_NOKEY, "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, "c.env") != NULL, "%s", r.err.msg);
	tree_free(&t);
	stop(run);
}
