/* test_sync.c — the syncer core against the real local store: naming, collisions, configs
 * routing, all-or-nothing units of work. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syncer/providers/local/local_store.h"
#include "syncer/sync.h"

#define CANARY "CANARY-5ecr3t-value-do-not-print"

static char tmpdir[64];
static char store[128];

static void make_tmp(void)
{
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/smc-sync-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	(void)snprintf(store, sizeof(store), "%s/store.db", tmpdir);
}

static void rm_tmp(void)
{
	char p[160];

	(void)snprintf(p, sizeof(p), "%s-journal", store);
	(void)unlink(p);
	(void)unlink(store);
	(void)rmdir(tmpdir);
}

TestSuite(sync, .init = make_tmp, .fini = rm_tmp);

static void values_init(struct msg_values *v)
{
	memset(v, 0, sizeof(*v));
	v->job.config.ns = (char *)"team";
	v->job.config.name = (char *)"app";
	v->job.provider.kind = (char *)"local";
	v->job.provider.store_path = store;
	v->job.policy.prune = true;
	v->job.policy.trigger_update = true;
	v->job.policy.deletion = JOB_DELETION_DELETE;
	kvlist_init(&v->secrets);
	kvlist_init(&v->configs);
}

static void values_free(struct msg_values *v)
{
	kvlist_free(&v->secrets);
	kvlist_free(&v->configs);
}

static void add(struct kvlist *l, const char *group, const char *key, const char *value,
		const char *origin)
{
	struct secbuf *sb = NULL;

	cr_assert_eq(secbuf_from(&sb, value, strlen(value)), 0);
	cr_assert_eq(kvlist_add_group(l, group, key, sb, origin), 0);
}

static char *dump(void)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert_eq(sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db,
					"SELECT 'o', id, kind, name, owner, state, updated_at, '' "
					"FROM objects UNION ALL SELECT 'v', object_id, version, "
					"hex(value), written_by, state, hex(digest), created_at "
					"FROM versions ORDER BY 1, 2, 3",
					-1, &s, NULL),
		     SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		for (int c = 0; c < 8; c++)
			fprintf(f, "%s|", (const char *)sqlite3_column_text(s, c));
		fputc('\n', f);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	fclose(f);
	return out;
}

static void expect_value(const char *kind, const char *name, const char *want)
{
	struct err_ctx err = {{0}};
	struct secbuf *v = NULL;

	cr_assert_eq(local_store_get(store, kind, name, 0, &v, NULL, &err), 0, "%s %s: %s", kind,
		     name, err.msg);
	cr_expect(secbuf_eq_mem(v, want, strlen(want)), "value of %s %s differs", kind, name);
	secbuf_free(v);
}

static void no_canary(const struct report *r, const struct err_ctx *err)
{
	cr_expect_null(strstr(err->msg, "CANARY"), "value in error message");
	for (size_t i = 0; i < r->n; i++)
		cr_expect(r->items[i].reason == NULL || strstr(r->items[i].reason, "CANARY") == NULL,
			  "value in reason of %s", r->items[i].name);
}

Test(sync, names_from_group_prefix_and_suffix)
{
	struct msg_values v;
	struct report rep;
	struct err_ctx err = {{0}};

	values_init(&v);
	v.job.naming.suffix = (char *)"-prod";
	add(&v.secrets, "billing", "db.password", CANARY "-1", "billing/application.secrets.env:1");
	add(&v.secrets, NULL, "API KEY", CANARY "-2", "x:1");
	report_init(&rep);
	cr_assert_eq(sync_run(&v, NULL, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(rep.n, 2);
	cr_assert_not_null(report_find(&rep, ITEM_SECRET, "billing-db_password-prod"));
	cr_expect_str_eq(report_find(&rep, ITEM_SECRET, "billing-db_password-prod")->key,
			 "db.password");
	cr_assert_not_null(report_find(&rep, ITEM_SECRET, "API_KEY-prod"));
	expect_value("secret", "billing-db_password-prod", CANARY "-1");
	no_canary(&rep, &err);
	report_free(&rep);

	/* job prefix wins over the group; the old names are pruned (deletion=Delete) */
	v.job.naming.prefix = (char *)"shop";
	report_init(&rep);
	cr_assert_eq(sync_run(&v, NULL, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(report_count(&rep, ITEM_SECRET, ITEM_WRITTEN), 2);
	cr_expect_eq(report_count(&rep, ITEM_SECRET, ITEM_PRUNED), 2);
	cr_expect_not_null(report_find(&rep, ITEM_SECRET, "shop-db_password-prod"));
	cr_expect_not_null(report_find(&rep, ITEM_SECRET, "shop-API_KEY-prod"));
	report_free(&rep);
	values_free(&v);
}

Test(sync, collision_names_both_keys_and_writes_nothing)
{
	struct msg_values v;
	struct report rep;
	struct err_ctx err = {{0}};
	struct stat sb;

	values_init(&v);
	add(&v.secrets, NULL, "ok", "1", "f:1");
	add(&v.secrets, NULL, "a.b", CANARY "-x", "svc/application.secrets.env:3");
	add(&v.secrets, NULL, "a_b", CANARY "-y", "svc/application.secrets.yaml:7");
	report_init(&rep);
	cr_expect_eq(sync_run(&v, NULL, &rep, &err), ERR_CONFLICT);
	cr_expect(strstr(err.msg, "'a.b'") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "'a_b'") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "application.secrets.env:3") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "application.secrets.yaml:7") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "'a_b'") != NULL, "%s", err.msg);
	cr_expect_eq(rep.n, 0);
	cr_expect_neq(stat(store, &sb), 0, "the store was touched");
	no_canary(&rep, &err);
	report_free(&rep);
	values_free(&v);
}

Test(sync, collision_among_configs_only_when_enabled)
{
	struct msg_values v;
	struct report rep;
	struct err_ctx err = {{0}};

	values_init(&v);
	add(&v.secrets, NULL, "s", "1", "f:1");
	add(&v.configs, NULL, "a/b", "1", "application.properties:1");
	add(&v.configs, NULL, "a b", "2", "application.properties:2");
	report_init(&rep);
	cr_expect_eq(sync_run(&v, NULL, &rep, &err), 0, "%s", err.msg);
	report_free(&rep);
	v.job.configs.enabled = true;
	report_init(&rep);
	cr_expect_eq(sync_run(&v, NULL, &rep, &err), ERR_CONFLICT);
	cr_expect(strstr(err.msg, "config keys 'a b'") != NULL, "%s", err.msg);
	report_free(&rep);
	values_free(&v);
}

Test(sync, configs_go_to_the_config_kind_only_when_enabled)
{
	struct msg_values v;
	struct report rep;
	struct err_ctx err = {{0}};
	struct local_store_entry *e = NULL;
	struct secbuf *sb = NULL;
	size_t n = 0;

	values_init(&v);
	add(&v.secrets, NULL, "server.port", "s-value", "f:1");
	add(&v.configs, NULL, "server.port", "8080", "application.properties:1");
	report_init(&rep);
	cr_assert_eq(sync_run(&v, NULL, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(rep.n, 1, "configs were reported while disabled");
	cr_expect_eq(report_count(&rep, ITEM_CONFIG, ITEM_WRITTEN), 0);
	cr_assert_eq(local_store_list(store, "config", &e, &n, &err), 0);
	cr_expect_eq(n, 0);
	local_store_entries_free(e, n);
	report_free(&rep);

	/* same remote name in both kinds is not a collision */
	v.job.configs.enabled = true;
	report_init(&rep);
	cr_assert_eq(sync_run(&v, NULL, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(report_count(&rep, ITEM_CONFIG, ITEM_WRITTEN), 1);
	cr_expect_eq(report_count(&rep, ITEM_SECRET, ITEM_UNCHANGED), 1);
	expect_value("config", "server_port", "8080");
	expect_value("secret", "server_port", "s-value");
	report_free(&rep);

	/* disabling configs again neither syncs nor prunes them */
	v.job.configs.enabled = false;
	kvlist_free(&v.configs);
	report_init(&rep);
	cr_assert_eq(sync_run(&v, NULL, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(rep.n, 1);
	cr_assert_eq(local_store_get(store, "config", "server_port", 0, &sb, NULL, &err), 0);
	secbuf_free(sb);
	report_free(&rep);
	values_free(&v);
}

Test(sync, failing_item_rolls_the_whole_job_back)
{
	struct msg_values v;
	struct report rep;
	struct err_ctx err = {{0}};
	sqlite3 *db = NULL;
	char *before, *after;

	values_init(&v);
	v.job.configs.enabled = true;
	add(&v.secrets, NULL, "a", "1", "f:1");
	add(&v.secrets, NULL, "b", "1", "f:2");
	report_init(&rep);
	cr_assert_eq(sync_run(&v, NULL, &rep, &err), 0, "%s", err.msg);
	report_free(&rep);
	/* the store itself refuses one config object: a real failure mid-job */
	cr_assert_eq(sqlite3_open(store, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db,
				  "CREATE TRIGGER no_boom BEFORE INSERT ON objects "
				  "WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ABORT, 'no'); END",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);
	before = dump();

	kvlist_free(&v.secrets);
	add(&v.secrets, NULL, "a", CANARY "-changed", "f:1"); /* would be a new version */
	add(&v.secrets, NULL, "new", CANARY "-new", "f:3");   /* would be created */
	/* b left Git: would be deleted */
	add(&v.configs, NULL, "fine", "1", "application.properties:1");
	add(&v.configs, NULL, "boom", CANARY "-boom", "application.properties:2");
	report_init(&rep);
	cr_expect_eq(sync_run(&v, NULL, &rep, &err), ERR_REMOTE);
	cr_expect(strstr(err.msg, "boom") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "nothing was written") != NULL, "%s", err.msg);
	cr_expect_eq(rep.n, 1);
	cr_expect_eq(report_count(&rep, ITEM_CONFIG, ITEM_FAILED), 1);
	no_canary(&rep, &err);
	after = dump();
	cr_expect_str_eq(after, before);
	expect_value("secret", "a", "1");
	free(before);
	free(after);
	report_free(&rep);
	values_free(&v);
}

/* The real local store with a configs sync that fails as a whole (store unusable). */
static int failing_sync(void *st, const struct job *job, enum item_kind kind,
			const struct desired *items, size_t n, struct report *rep,
			struct err_ctx *err)
{
	if (kind == ITEM_CONFIG)
		return err_set(err, ERR_IO, "injected failure");
	return local_store_ops.sync(st, job, kind, items, n, rep, err);
}

Test(sync, provider_failure_after_secrets_rolls_back)
{
	struct provider_ops ops = local_store_ops;
	struct msg_values v;
	struct report rep;
	struct err_ctx err = {{0}};
	char *before, *after;

	ops.sync = failing_sync;
	values_init(&v);
	add(&v.secrets, NULL, "a", "1", "f:1");
	report_init(&rep);
	cr_assert_eq(sync_run(&v, NULL, &rep, &err), 0, "%s", err.msg);
	report_free(&rep);
	before = dump();
	kvlist_free(&v.secrets);
	add(&v.secrets, NULL, "a", "2", "f:1");
	add(&v.secrets, NULL, "b", "2", "f:2");
	add(&v.configs, NULL, "c", "3", "p:1");
	v.job.configs.enabled = true;
	report_init(&rep);
	cr_expect_eq(sync_run_ops(&ops, &v, NULL, &rep, &err), ERR_IO);
	cr_expect_str_eq(err.msg, "injected failure");
	cr_expect_eq(rep.n, 0);
	after = dump();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
	report_free(&rep);
	values_free(&v);
}

/* A job that names a credentials Secret runs only with CREDENTIALS for that very job and
 * provider: anything else fails before the store is opened. */
Test(sync, named_credentials_must_be_this_jobs)
{
	struct msg_values v;
	struct msg_credentials c = {.job_id = 7, .provider = (char *)"local",
				    .origin = (char *)"Secret team/keys"};
	struct report rep;
	struct err_ctx err = {{0}};
	struct stat sb;

	values_init(&v);
	v.job.id = 8;
	v.job.provider.secret_name = (char *)"keys";
	add(&v.secrets, NULL, "a", "1", "f:1");
	report_init(&rep);
	cr_expect_eq(sync_run(&v, NULL, &rep, &err), ERR_NOKEY);
	cr_expect(strstr(err.msg, "the credentials of Secret keys did not reach the syncer") !=
		      NULL,
		  "%s", err.msg);
	cr_expect_eq(sync_run(&v, &c, &rep, &err), ERR_NOKEY); /* another job's */
	c.job_id = 8;
	c.provider = (char *)"aws";
	cr_expect_eq(sync_run(&v, &c, &rep, &err), ERR_NOKEY); /* another provider's */
	cr_expect_neq(stat(store, &sb), 0);
	c.provider = (char *)"local";
	cr_expect_eq(sync_run(&v, &c, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(stat(store, &sb), 0);
	v.job.provider.secret_name = NULL;
	report_free(&rep);
	values_free(&v);
}

Test(sync, bad_key_and_unknown_provider_write_nothing)
{
	struct msg_values v;
	struct report rep;
	struct err_ctx err = {{0}};
	struct stat sb;

	values_init(&v);
	add(&v.secrets, NULL, "ok", "1", "f:1");
	add(&v.secrets, NULL, "na\xc3\xafve", CANARY, "f:2");
	report_init(&rep);
	cr_expect_eq(sync_run(&v, NULL, &rep, &err), ERR_INVAL);
	cr_expect(strstr(err.msg, "secret: key 'na") != NULL, "%s", err.msg);
	cr_expect_neq(stat(store, &sb), 0);
	v.job.provider.kind = (char *)"vault";
	cr_expect_eq(sync_run(&v, NULL, &rep, &err), ERR_UNSUPPORTED);
	cr_expect(strstr(err.msg, "vault") != NULL, "%s", err.msg);
	cr_expect_eq(rep.n, 0);
	no_canary(&rep, &err);
	report_free(&rep);
	values_free(&v);
}

Test(sync, dry_run_reports_the_plan_and_writes_nothing)
{
	struct msg_values v;
	struct report rep;
	struct err_ctx err = {{0}};
	char *before, *after;

	values_init(&v);
	add(&v.secrets, NULL, "a", "1", "f:1");
	add(&v.secrets, NULL, "b", "1", "f:2");
	report_init(&rep);
	cr_assert_eq(sync_run(&v, NULL, &rep, &err), 0, "%s", err.msg);
	report_free(&rep);
	before = dump();
	kvlist_free(&v.secrets);
	add(&v.secrets, NULL, "a", "2", "f:1");
	v.job.policy.dry_run = true;
	report_init(&rep);
	cr_assert_eq(sync_run(&v, NULL, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(report_find(&rep, ITEM_SECRET, "a")->outcome, ITEM_WRITTEN);
	cr_expect_eq(report_find(&rep, ITEM_SECRET, "b")->outcome, ITEM_PRUNED);
	after = dump();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
	report_free(&rep);
	values_free(&v);
}
