/* test_raw.c — raw mode discovery and collection (decryptor/raw.c) on trees built in
 * memory with tree_add: both profile forms and which wins, groups, base paths, the open
 * hook, file reports, NOTFOUND/CONFLICT/INVAL refusals, and that no value reaches a
 * message. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "decryptor/raw.h"

#define CANARY "C4N4RY-s3cr3t"

struct result {
	struct kvlist sec, cfg;
	struct file_report *files;
	size_t nfiles;
	struct err_ctx err;
	int rc;
};

static void add(struct tree *t, const char *path, const char *text)
{
	cr_assert_eq(tree_add(t, path, text, strlen(text), 0644), 0, "tree_add %s", path);
}

static void run(struct result *r, const struct tree *t, const char *base, const char *env,
		raw_open_fn open, void *arg)
{
	memset(r, 0, sizeof(*r));
	kvlist_init(&r->sec);
	kvlist_init(&r->cfg);
	r->files = (struct file_report *)(uintptr_t)1; /* must stay untouched on failure */
	r->nfiles = 12345;
	r->rc = raw_collect(t, base, env, open ? open : raw_open_plain, arg, &r->sec, &r->cfg,
			    &r->files, &r->nfiles, &r->err);
	if (r->rc != 0) {
		cr_assert_eq(r->sec.n, 0);
		cr_assert_eq(r->cfg.n, 0);
		cr_assert_eq((uintptr_t)r->files, 1);
		cr_assert_eq(r->nfiles, 12345);
		cr_assert(strstr(r->err.msg, CANARY) == NULL, "value leaked: %s", r->err.msg);
		r->files = NULL;
		r->nfiles = 0;
	}
}

static void done(struct result *r)
{
	kvlist_free(&r->sec);
	kvlist_free(&r->cfg);
	raw_files_free(r->files, r->nfiles);
}

static void expect(const struct kvlist *l, const char *group, const char *key, const char *val,
		   const char *origin)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct kv *kv = &l->items[i];

		if (strcmp(kv->key, key) != 0 || strcmp(kv->group, group) != 0)
			continue;
		cr_assert(secbuf_eq_mem(kv->value, val, strlen(val)), "value of %s/%s", group, key);
		cr_assert_str_eq(kv->origin, origin);
		return;
	}
	cr_assert_fail("%s/%s missing", group, key);
}

Test(raw, profiles_form_all_three_files)
{
	struct tree t;
	struct result r;

	tree_init(&t);
	add(&t, "svc1/deployment-configuration/profiles/dev/application.secrets.env",
	    "# db\nDB_PASSWORD=" CANARY "\nAPI_KEY=k1\n");
	add(&t, "svc1/deployment-configuration/profiles/dev/application.secrets.yaml",
	    "db:\n  user: admin\n");
	add(&t, "svc1/deployment-configuration/profiles/dev/application.properties",
	    "server.port=8080\nfeature:on\n");
	add(&t, "svc1/deployment-configuration/profiles/prod/application.secrets.env", "P=1\n");
	add(&t, "svc1/src/main.c", "int main;\n");
	run(&r, &t, "", "dev", NULL, NULL);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.sec.n, 3);
	cr_assert_eq(r.cfg.n, 2);
	expect(&r.sec, "svc1", "DB_PASSWORD", CANARY,
	       "svc1/deployment-configuration/profiles/dev/application.secrets.env:2");
	expect(&r.sec, "svc1", "API_KEY", "k1",
	       "svc1/deployment-configuration/profiles/dev/application.secrets.env:3");
	expect(&r.sec, "svc1", "db.user", "admin",
	       "svc1/deployment-configuration/profiles/dev/application.secrets.yaml:2");
	expect(&r.cfg, "svc1", "server.port", "8080",
	       "svc1/deployment-configuration/profiles/dev/application.properties:1");
	expect(&r.cfg, "svc1", "feature", "on",
	       "svc1/deployment-configuration/profiles/dev/application.properties:2");
	cr_assert_eq(r.nfiles, 3);
	cr_assert_str_eq(r.files[0].path,
			 "svc1/deployment-configuration/profiles/dev/application.secrets.env");
	cr_assert_eq(r.files[0].count, 2);
	cr_assert_eq(r.files[1].count, 1);
	cr_assert_str_eq(r.files[2].path,
			 "svc1/deployment-configuration/profiles/dev/application.properties");
	cr_assert_eq(r.files[2].count, 2);
	for (size_t i = 0; i < 3; i++)
		cr_assert(!r.files[i].encrypted);
	done(&r);
	tree_free(&t);
}

Test(raw, plain_form_and_profiles_wins)
{
	struct tree t;
	struct result r;

	tree_init(&t);
	/* svc-a: only the plain form */
	add(&t, "svc-a/deployment-configuration/dev/application.secrets.env", "A=1\n");
	/* svc-b: both; profiles/ wins and the plain dir is ignored entirely */
	add(&t, "svc-b/deployment-configuration/dev/application.secrets.env", "PLAIN=1\n");
	add(&t, "svc-b/deployment-configuration/dev/application.properties", "plain=1\n");
	add(&t, "svc-b/deployment-configuration/profiles/dev/application.secrets.env", "PROF=1\n");
	run(&r, &t, ".", "dev", NULL, NULL);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.sec.n, 2);
	cr_assert_eq(r.cfg.n, 0);
	/* services in path order */
	cr_assert_str_eq(r.sec.items[0].group, "svc-a");
	cr_assert_str_eq(r.sec.items[0].key, "A");
	cr_assert_str_eq(r.sec.items[1].group, "svc-b");
	cr_assert_str_eq(r.sec.items[1].key, "PROF");
	cr_assert_eq(r.nfiles, 2);
	done(&r);
	tree_free(&t);
}

Test(raw, base_path_and_groups)
{
	struct tree t;
	struct result r;

	tree_init(&t);
	add(&t, "apps/team/pay/deployment-configuration/profiles/dev/application.secrets.env", "K=pay\n");
	add(&t, "apps/deployment-configuration/profiles/dev/application.secrets.env", "K=apps\n");
	add(&t, "other/x/deployment-configuration/profiles/dev/application.secrets.env", "K=out\n");
	add(&t, "deployment-configuration/profiles/dev/application.secrets.env", "K=root\n");
	add(&t, "appsx/y/deployment-configuration/profiles/dev/application.secrets.env", "K=no\n");

	run(&r, &t, "./apps/", "dev", NULL, NULL);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.sec.n, 2);
	/* deployment-configuration directly at base: the group is the base's last component */
	expect(&r.sec, "apps", "K", "apps",
	       "apps/deployment-configuration/profiles/dev/application.secrets.env:1");
	expect(&r.sec, "pay", "K", "pay",
	       "apps/team/pay/deployment-configuration/profiles/dev/application.secrets.env:1");
	done(&r);

	run(&r, &t, "apps/team/pay", "dev", NULL, NULL);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.sec.n, 1);
	cr_assert_str_eq(r.sec.items[0].group, "pay");
	done(&r);

	/* the root: directly there the group is "default"; everything else is found too */
	run(&r, &t, "", "dev", NULL, NULL);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.sec.n, 5);
	expect(&r.sec, "default", "K", "root",
	       "deployment-configuration/profiles/dev/application.secrets.env:1");
	done(&r);
	tree_free(&t);
}

Test(raw, notfound_names_base_and_environment)
{
	struct tree t;
	struct result r;

	tree_init(&t);
	add(&t, "svc/deployment-configuration/profiles/prod/application.secrets.env", "K=1\n");
	add(&t, "svc/deployment-configuration/application.secrets.env", "K=1\n");
	run(&r, &t, "svc", "staging", NULL, NULL);
	cr_assert_eq(r.rc, ERR_NOTFOUND);
	cr_assert(strstr(r.err.msg, "\"staging\"") != NULL, "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, "\"svc\"") != NULL, "%s", r.err.msg);
	run(&r, &t, "nowhere", "prod", NULL, NULL);
	cr_assert_eq(r.rc, ERR_NOTFOUND);
	cr_assert(strstr(r.err.msg, "\"nowhere\"") != NULL, "%s", r.err.msg);
	tree_free(&t);
}

Test(raw, profile_dir_without_known_files_is_empty_not_missing)
{
	struct tree t;
	struct result r;

	tree_init(&t);
	add(&t, "svc/deployment-configuration/profiles/dev/README.md", "nothing\n");
	run(&r, &t, "", "dev", NULL, NULL);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.sec.n + r.cfg.n, 0);
	cr_assert_eq(r.nfiles, 0);
	cr_assert_null(r.files);
	done(&r);
	tree_free(&t);
}

Test(raw, env_and_yaml_conflict_names_both_origins)
{
	struct tree t;
	struct result r;

	tree_init(&t);
	add(&t, "svc/deployment-configuration/profiles/dev/application.secrets.env",
	    "X=1\nDB=" CANARY "\n");
	add(&t, "svc/deployment-configuration/profiles/dev/application.secrets.yaml",
	    "a: 1\nDB: " CANARY "2\n");
	run(&r, &t, "", "dev", NULL, NULL);
	cr_assert_eq(r.rc, ERR_CONFLICT);
	cr_assert(strstr(r.err.msg, "svc/deployment-configuration/profiles/dev/"
				    "application.secrets.env:2") != NULL, "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, "svc/deployment-configuration/profiles/dev/"
				    "application.secrets.yaml:2") != NULL, "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, "\"DB\"") != NULL, "%s", r.err.msg);
	tree_free(&t);
}

Test(raw, same_key_in_secrets_and_configs_or_other_service_is_fine)
{
	struct tree t;
	struct result r;

	tree_init(&t);
	add(&t, "a/deployment-configuration/profiles/dev/application.secrets.env", "K=1\n");
	add(&t, "a/deployment-configuration/profiles/dev/application.properties", "K=2\n");
	add(&t, "b/deployment-configuration/profiles/dev/application.secrets.env", "K=3\n");
	run(&r, &t, "", "dev", NULL, NULL);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.sec.n, 2);
	cr_assert_eq(r.cfg.n, 1);
	done(&r);
	/* but two service directories with one name give one remote name: refused */
	add(&t, "x/a/deployment-configuration/profiles/dev/application.secrets.env", "K=4\n");
	run(&r, &t, "", "dev", NULL, NULL);
	cr_assert_eq(r.rc, ERR_CONFLICT);
	cr_assert(strstr(r.err.msg, "x/a/deployment-configuration") != NULL, "%s", r.err.msg);
	tree_free(&t);
}

Test(raw, invalid_environment_and_base)
{
	static const char *const bad_env[] = {
		"", "../x", "a/b", "-a", "a-", "a..b", "dev ", "d\xc3\xa9v",
		"0123456789012345678901234567890123456789012345678901234567890123"};
	static const char *const good_env[] = {"dev", "Prod", "eu-west_1.a", "x",
		"012345678901234567890123456789012345678901234567890123456789012"};
	struct tree t;
	struct result r;

	tree_init(&t);
	add(&t, "deployment-configuration/profiles/dev/application.secrets.env", "K=1\n");
	for (size_t i = 0; i < sizeof(bad_env) / sizeof(bad_env[0]); i++) {
		run(&r, &t, "", bad_env[i], NULL, NULL);
		cr_assert_eq(r.rc, ERR_INVAL, "env '%s'", bad_env[i]);
		cr_assert_eq(raw_environment_check(bad_env[i]), ERR_INVAL);
	}
	for (size_t i = 0; i < sizeof(good_env) / sizeof(good_env[0]); i++)
		cr_assert_eq(raw_environment_check(good_env[i]), 0, "%s", good_env[i]);
	cr_assert_eq(raw_environment_check(NULL), ERR_INVAL);
	run(&r, &t, "a/../..", "dev", NULL, NULL);
	cr_assert_eq(r.rc, ERR_INVAL);
	run(&r, &t, "..", "dev", NULL, NULL);
	cr_assert_eq(r.rc, ERR_INVAL);
	tree_free(&t);
}

Test(raw, parse_errors_propagate_with_path_and_line)
{
	struct tree t;
	struct result r;

	tree_init(&t);
	add(&t, "s/deployment-configuration/profiles/dev/application.properties",
	    "a=1\nb=" CANARY "\\u12\n");
	run(&r, &t, "", "dev", NULL, NULL);
	cr_assert_eq(r.rc, ERR_INVAL);
	cr_assert(strstr(r.err.msg, "s/deployment-configuration/profiles/dev/"
				    "application.properties:2: malformed") != NULL, "%s", r.err.msg);
	tree_free(&t);
}

/* A hook standing in for SOPS: files whose text starts with "ENC:" are "encrypted"; their
 * plaintext is the rest. "FAIL" makes the hook fail. */
static int fake_sops(void *arg, const struct tree_file *f, struct secbuf **plain,
		     bool *encrypted, struct err_ctx *err)
{
	int *calls = arg;

	(*calls)++;
	if (f->size >= 4 && memcmp(f->data, "FAIL", 4) == 0)
		return err_set(err, ERR_CRYPTO, "%s: no matching key", f->path);
	if (f->size >= 4 && memcmp(f->data, "ENC:", 4) == 0) {
		int rc = secbuf_from(plain, f->data + 4, f->size - 4);

		if (rc == 0)
			*encrypted = true;
		return rc;
	}
	return raw_open_plain(NULL, f, plain, encrypted, err);
}

Test(raw, open_hook_decides_plaintext_and_encrypted_flag)
{
	struct tree t;
	struct result r;
	int calls = 0;

	tree_init(&t);
	add(&t, "s/deployment-configuration/profiles/dev/application.secrets.env", "ENC:K=dec\n");
	add(&t, "s/deployment-configuration/profiles/dev/application.properties", "p=1\n");
	run(&r, &t, "", "dev", fake_sops, &calls);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(calls, 2);
	expect(&r.sec, "s", "K", "dec",
	       "s/deployment-configuration/profiles/dev/application.secrets.env:1");
	cr_assert_eq(r.nfiles, 2);
	cr_assert(r.files[0].encrypted);
	cr_assert(!r.files[1].encrypted);
	done(&r);

	add(&t, "s/deployment-configuration/profiles/dev/application.secrets.yaml", "FAIL");
	run(&r, &t, "", "dev", fake_sops, &calls);
	cr_assert_eq(r.rc, ERR_CRYPTO);
	cr_assert_str_eq(r.err.msg,
			 "s/deployment-configuration/profiles/dev/application.secrets.yaml: "
			 "no matching key");
	tree_free(&t);
}

Test(raw, outputs_must_be_empty)
{
	struct tree t;
	struct kvlist sec, cfg;
	struct secbuf *v;
	struct file_report *files = NULL;
	size_t n = 0;

	tree_init(&t);
	add(&t, "deployment-configuration/dev/application.secrets.env", "K=1\n");
	kvlist_init(&sec);
	kvlist_init(&cfg);
	cr_assert_eq(secbuf_from(&v, "x", 1), 0);
	cr_assert_eq(kvlist_add(&sec, "X", v, NULL), 0);
	cr_assert_eq(raw_collect(&t, "", "dev", raw_open_plain, NULL, &sec, &cfg, &files, &n,
				 NULL), ERR_INVAL);
	cr_assert_eq(sec.n, 1);
	kvlist_free(&sec);
	cr_assert_eq(raw_collect(&t, "", "dev", NULL, NULL, &sec, &cfg, &files, &n, NULL),
		     ERR_INVAL);
	tree_free(&t);
}
