/* test_kustomize_scan.c — the kustomize pre-scan (decryptor/kustomize_scan.c) on trees built
 * in memory: what is reached and reported, and every refusal (remote bases, escapes, plugins,
 * helm, case-folded field names, merge keys, limits), each naming the file and the field. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "decryptor/kustomize_scan.h"

static struct tree T;

static void setup(void)
{
	tree_init(&T);
}

static void teardown(void)
{
	tree_free(&T);
}

TestSuite(kustomize_scan, .init = setup, .fini = teardown);

static void add(const char *path, const char *text)
{
	cr_assert_eq(tree_add(&T, path, text, strlen(text), 0644), 0, "tree_add %s", path);
}

static bool has_ref(const struct kustomize_scan *s, const char *path, enum kustomize_ref_kind kind)
{
	for (size_t i = 0; i < s->nrefs; i++) {
		if (strcmp(s->refs[i].path, path) == 0 && s->refs[i].kind == kind)
			return true;
	}
	return false;
}

static bool has_kust(const struct kustomize_scan *s, const char *path)
{
	for (size_t i = 0; i < s->nkust; i++) {
		if (strcmp(s->kustomizations[i], path) == 0)
			return true;
	}
	return false;
}

/* Runs the scan expecting a refusal rc whose message holds every given fragment. */
static void refused(const char *kpath, int want_rc, const char *frag1, const char *frag2)
{
	struct kustomize_scan s;
	struct err_ctx err = {{0}};
	int rc;

	memset(&s, 0x5a, sizeof(s));
	rc = kustomize_scan_run(&T, kpath, &s, &err);
	cr_assert_eq(rc, want_rc, "rc %d (%s), want %d: %s", rc, err_str(rc), want_rc, err.msg);
	cr_assert_eq(s.nkust, (size_t)0x5a5a5a5a5a5a5a5aULL, "out written on failure");
	if (frag1)
		cr_assert(strstr(err.msg, frag1) != NULL, "\"%s\" not in: %s", frag1, err.msg);
	if (frag2)
		cr_assert(strstr(err.msg, frag2) != NULL, "\"%s\" not in: %s", frag2, err.msg);
}

static void accepted(const char *kpath, struct kustomize_scan *s)
{
	struct err_ctx err = {{0}};
	int rc = kustomize_scan_run(&T, kpath, s, &err);

	cr_assert_eq(rc, 0, "rc %d: %s", rc, err.msg);
}

Test(kustomize_scan, base_and_overlay_reach_and_refs)
{
	struct kustomize_scan s;

	add("base/kustomization.yaml", "resources:\n- secret.yaml\n- cm.yaml\n");
	add("base/secret.yaml", "apiVersion: v1\nkind: Secret\n");
	add("base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\n");
	add("overlays/prod/kustomization.yaml",
	    "resources:\n- ../../base\nnamePrefix: prod-\n"
	    "patches:\n- path: patch.yaml\n"
	    "secretGenerator:\n- name: s\n  envs: [secret.enc.env]\n  files: [tls.crt, "
	    "key=tls.key]\n"
	    "configMapGenerator:\n- name: c\n  env: app.env\n  literals: [a=b]\n");
	add("overlays/prod/patch.yaml", "x: y\n");
	add("overlays/prod/secret.enc.env", "a=b\n");
	add("overlays/prod/tls.crt", "c\n");
	add("overlays/prod/tls.key", "k\n");
	add("overlays/prod/app.env", "x=1\n");
	add("unrelated/kustomization.yaml", "helmCharts:\n- name: x\n"); /* not reached */
	accepted("./overlays/prod/", &s);
	cr_assert_eq(s.nkust, 2);
	cr_assert(has_kust(&s, "overlays/prod/kustomization.yaml"));
	cr_assert(has_kust(&s, "base/kustomization.yaml"));
	cr_assert(has_ref(&s, "base/secret.yaml", KUSTOMIZE_REF_RESOURCE));
	cr_assert(has_ref(&s, "base/cm.yaml", KUSTOMIZE_REF_RESOURCE));
	cr_assert(has_ref(&s, "overlays/prod/patch.yaml", KUSTOMIZE_REF_OTHER));
	cr_assert(has_ref(&s, "overlays/prod/secret.enc.env", KUSTOMIZE_REF_GENERATOR));
	cr_assert(has_ref(&s, "overlays/prod/tls.crt", KUSTOMIZE_REF_GENERATOR));
	cr_assert(has_ref(&s, "overlays/prod/tls.key", KUSTOMIZE_REF_GENERATOR));
	cr_assert(has_ref(&s, "overlays/prod/app.env", KUSTOMIZE_REF_GENERATOR));
	kustomize_scan_free(&s);
	cr_assert_eq(s.nkust, 0);
	kustomize_scan_free(NULL);
}

Test(kustomize_scan, every_file_name_and_root)
{
	struct kustomize_scan s;

	add("a/kustomization.yml", "resources: [../b]\n");
	add("b/Kustomization", "resources: [../kustomization.yaml]\n");
	add("kustomization.yaml", "resources: [a]\n");
	accepted("", &s);
	cr_assert_eq(s.nkust, 3); /* root → a → b → the root file as a plain resource */
	cr_assert(has_kust(&s, "b/Kustomization"));
	cr_assert(has_ref(&s, "kustomization.yaml", KUSTOMIZE_REF_RESOURCE));
	kustomize_scan_free(&s);
	accepted(".", &s);
	kustomize_scan_free(&s);
}

Test(kustomize_scan, cycle_is_visited_once)
{
	struct kustomize_scan s;

	add("a/kustomization.yaml", "resources: [../b]\n");
	add("b/kustomization.yaml", "resources: [../a]\n");
	accepted("a", &s);
	cr_assert_eq(s.nkust, 2);
	kustomize_scan_free(&s);
}

Test(kustomize_scan, two_kustomization_files_refused)
{
	add("k/kustomization.yaml", "resources: []\n");
	add("k/Kustomization", "resources: []\n");
	refused("k", ERR_INVAL, "k/", "more than one kustomization file");
}

Test(kustomize_scan, no_kustomization_at_path)
{
	add("k/x.yaml", "a: b\n");
	refused("k", ERR_NOTFOUND, "k/", "no kustomization file");
	refused("nowhere", ERR_NOTFOUND, "nowhere/", NULL);
}

Test(kustomize_scan, kustomize_path_outside_refused)
{
	add("k/kustomization.yaml", "resources: []\n");
	refused("../k", ERR_PERM, "kustomizePath", NULL);
	refused("/etc", ERR_PERM, "kustomizePath", NULL);
	refused("k/../..", ERR_PERM, "kustomizePath", NULL);
}

Test(kustomize_scan, remote_bases_refused)
{
	static const char *remotes[] = {
	    "https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v3.3.1",
	    "github.com/org/repo/base",
	    "git@github.com:org/repo.git//base",
	    "ssh://git@example.com/repo.git",
	    "gitlab.com/org/repo",
	    "example.org/repo//base?ref=main",
	    "http://example.com/manifest.yaml",
	};
	char k[512];

	for (size_t i = 0; i < sizeof(remotes) / sizeof(remotes[0]); i++) {
		tree_free(&T);
		tree_init(&T);
		snprintf(k, sizeof(k), "resources:\n- local.yaml\n- %s\n", remotes[i]);
		add("o/local.yaml", "a: b\n");
		add("o/kustomization.yaml", k);
		refused("o", ERR_PERM, "o/kustomization.yaml:3: resources[1]", "remote reference");
	}
}

Test(kustomize_scan, missing_resource_is_not_fetched)
{
	add("o/kustomization.yaml", "resources:\n- ../base\n");
	refused("o", ERR_NOTFOUND, "resources[0]", "not in the source tree");
}

Test(kustomize_scan, components_and_bases_checked_too)
{
	add("o/kustomization.yaml", "components:\n- https://x.example/comp\n");
	refused("o", ERR_PERM, "components[0]", "remote");
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "bases: [github.com/a/b]\n");
	refused("o", ERR_PERM, "bases[0]", "remote");
}

Test(kustomize_scan, escapes_refused)
{
	add("repo/o/kustomization.yaml", "resources:\n- ../../../etc\n");
	refused("repo/o", ERR_PERM, "resources[0]", "outside the source tree");
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "resources:\n- /etc/passwd\n");
	refused("o", ERR_PERM, "resources[0]", "absolute path");
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml",
	    "secretGenerator:\n- name: s\n  files:\n  - passwd=../../etc/passwd\n");
	refused("o", ERR_PERM, "secretGenerator[0]", "outside the source tree");
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "configMapGenerator:\n- name: s\n  envs: [/etc/environment]\n");
	refused("o", ERR_PERM, "configMapGenerator[0]", "absolute path");
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "patches:\n- path: ../../x.yaml\n");
	refused("o", ERR_PERM, "patches[0]", "outside");
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "openapi:\n  path: /etc/schema.json\n");
	refused("o", ERR_PERM, "openapi", "absolute");
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "patchesStrategicMerge:\n- ../../p.yaml\n");
	refused("o", ERR_PERM, "patchesStrategicMerge[0]", "outside");
}

Test(kustomize_scan, inside_dotdot_allowed)
{
	struct kustomize_scan s;

	add("a/b/kustomization.yaml",
	    "resources:\n- ../../c/./r.yaml\npatchesStrategicMerge:\n- |\n  apiVersion: v1\n"
	    "  kind: Secret\n");
	add("c/r.yaml", "a: b\n");
	accepted("a/b", &s);
	cr_assert(has_ref(&s, "c/r.yaml", KUSTOMIZE_REF_RESOURCE));
	kustomize_scan_free(&s);
}

Test(kustomize_scan, plugins_refused)
{
	add("o/kustomization.yaml", "transformers:\n- plugin.yaml\n");
	add("o/plugin.yaml", "apiVersion: someteam.example.com/v1\nkind: Exec\n"
			     "metadata: {name: x}\nargsOneLiner: rm -rf /\n");
	refused("o", ERR_PERM, "transformers[0]", "plugin");
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "generators:\n- |\n  apiVersion: x/v1\n  kind: G\n");
	refused("o", ERR_PERM, "generators[0]", "inline plugin");
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "validators: [v.yaml]\n");
	refused("o", ERR_PERM, "validators[0]", "plugin");
}

Test(kustomize_scan, kustomization_dir_as_generator_allowed)
{
	struct kustomize_scan s;

	add("o/kustomization.yaml", "generators:\n- ../gen\n");
	add("gen/kustomization.yaml", "secretGenerator:\n- name: g\n  literals: [a=b]\n");
	accepted("o", &s);
	cr_assert(has_kust(&s, "gen/kustomization.yaml"));
	kustomize_scan_free(&s);
	add("gen2/kustomization.yaml", "transformers: [t.yaml]\n");
	add("p/kustomization.yaml", "generators: [../gen2]\n");
	refused("p", ERR_PERM, "gen2/kustomization.yaml", "transformers[0]");
}

Test(kustomize_scan, helm_refused)
{
	add("o/kustomization.yaml", "helmCharts:\n- name: minecraft\n  repo: https://x\n");
	refused("o", ERR_PERM, "o/kustomization.yaml:1: helmCharts", "Helm");
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "helmGlobals: {chartHome: x}\n");
	refused("o", ERR_PERM, "helmGlobals", NULL);
}

Test(kustomize_scan, field_names_fold_case)
{
	add("o/kustomization.yaml", "RESOURCES:\n- https://example.com/x.yaml\n");
	refused("o", ERR_PERM, "resources[0]", "remote");
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "HelmCharts: []\n");
	refused("o", ERR_PERM, "helmCharts", NULL);
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "secretGenerator:\n- name: s\n  ENVS: [/etc/x]\n");
	refused("o", ERR_PERM, "secretGenerator", "absolute");
}

Test(kustomize_scan, unicode_keys_and_merge_keys_refused)
{
	/* U+017F LATIN SMALL LETTER LONG S folds to 's' in Go: "reſources" == "resources" */
	add("o/kustomization.yaml", "re\xc5\xbfources:\n- https://example.com/x\n");
	refused("o", ERR_PERM, "non-ASCII", NULL);
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "x: &r {resources: [https://example.com/x]}\n<<: *r\n");
	refused("o", ERR_PERM, "merge keys", NULL);
}

Test(kustomize_scan, wrong_shapes_refused)
{
	add("o/kustomization.yaml", "resources: base\n");
	refused("o", ERR_INVAL, "resources", "must be a list");
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "resources:\n- {a: b}\n");
	refused("o", ERR_INVAL, "resources[0]", "not a string");
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "- a\n- b\n");
	refused("o", ERR_INVAL, "must be a mapping", NULL);
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "resources: [a\n");
	refused("o", ERR_INVAL, "o/kustomization.yaml:", "YAML");
	tree_free(&T);
	tree_init(&T);
	add("o/kustomization.yaml", "namePrefix: a\n---\nresources: [https://x.example/y]\n");
	refused("o", ERR_INVAL, "more than one YAML document", NULL);
}

Test(kustomize_scan, alias_fanout_is_capped)
{
	char *k = malloc(1u << 20);
	size_t o = 0;

	cr_assert_not_null(k);
	add("o/r.yaml", "a: b\n");
	o += (size_t)snprintf(k + o, 64, "x: &l [");
	for (int i = 0; i < 2000; i++)
		o += (size_t)snprintf(k + o, 64, "gone.yaml, ");
	o += (size_t)snprintf(k + o, 64, "gone.yaml]\nsecretGenerator:\n");
	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(k + o, 64, "- {name: s%d, files: *l, envs: *l}\n", i);
	add("o/kustomization.yaml", k);
	free(k);
	refused("o", ERR_TOOBIG, "path entries", NULL);
}

Test(kustomize_scan, nul_in_path_refused)
{
	add("o/kustomization.yaml", "resources: [\"a\\0b\"]\n");
	refused("o", ERR_INVAL, "NUL", NULL);
}
