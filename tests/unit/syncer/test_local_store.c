/* test_local_store.c — the embedded SQLite store, end to end on temporary files, checked
 * through an independent sqlite3 connection (the test's own SQL) and the read API. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syncer/provider.h"
#include "syncer/providers/local/local_store.h"

#define CANARY "CANARY-5ecr3t-value-do-not-print"

static char tmpdir[64];
static char store[128];

static void make_tmp(void)
{
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/smc-ls-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	(void)snprintf(store, sizeof(store), "%s/db/store.db", tmpdir);
}

static void rm_tmp(void)
{
	char p[160];

	(void)snprintf(p, sizeof(p), "%s/db", tmpdir);
	(void)chmod(p, 0700);
	(void)snprintf(p, sizeof(p), "%s/db/store.db-journal", tmpdir);
	(void)unlink(p);
	(void)unlink(store);
	(void)snprintf(p, sizeof(p), "%s/link.db", tmpdir);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "%s/db", tmpdir);
	(void)rmdir(p);
	(void)rmdir(tmpdir);
}

TestSuite(local_store, .init = make_tmp, .fini = rm_tmp);

static struct job job_for(const char *owner_name)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	j.config.ns = (char *)"team";
	j.config.name = (char *)owner_name;
	j.provider.kind = (char *)"local";
	j.provider.store_path = store;
	j.policy.prune = true;
	j.policy.trigger_update = true;
	j.policy.deletion = JOB_DELETION_RETAIN;
	return j;
}

/* desired items from name=value pairs; values live in secbufs */
struct items {
	struct desired d[16];
	struct secbuf *v[16];
	size_t n;
};

static void items_add(struct items *it, const char *name, const char *value)
{
	cr_assert_eq(secbuf_from(&it->v[it->n], value, strlen(value)), 0);
	it->d[it->n].name = name;
	it->d[it->n].key = name;
	it->d[it->n].value = it->v[it->n];
	it->n++;
}

static void items_free(struct items *it)
{
	for (size_t i = 0; i < it->n; i++)
		secbuf_free(it->v[i]);
	it->n = 0;
}

/* open → begin → sync(SECRET) → commit → close; returns the first failing rc. */
static int run(const struct job *j, const struct items *it, struct report *rep,
	       struct err_ctx *err)
{
	const struct provider_ops *ops = provider_find("local");
	void *st = NULL;
	int rc;

	cr_assert_not_null(ops);
	report_init(rep);
	if ((rc = ops->open(j, NULL, &st, err)) != 0)
		return rc;
	if ((rc = ops->begin(st, err)) != 0)
		goto out;
	if ((rc = ops->sync(st, j, ITEM_SECRET, it->d, it->n, rep, err)) != 0) {
		ops->rollback(st);
		goto out;
	}
	rc = ops->commit(st, err);
out:
	ops->close(st);
	return rc;
}

static sqlite3 *peer(void)
{
	sqlite3 *db = NULL;

	cr_assert_eq(sqlite3_open_v2(store, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static long long q_int(const char *sql)
{
	sqlite3 *db = peer();
	sqlite3_stmt *s = NULL;
	long long v;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s", sql);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s", sql);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void q_exec(const char *sql)
{
	sqlite3 *db = peer();
	char *msg = NULL;

	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s", sql,
		     msg ? msg : "");
	sqlite3_close(db);
}

/* A logical dump of both tables, values in hex, for before/after comparisons. */
static char *dump(void)
{
	sqlite3 *db = peer();
	sqlite3_stmt *s = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert_eq(sqlite3_prepare_v2(db,
					"SELECT 'o', id, kind, name, managed_by, owner, state, updated_at, "
					"'' FROM objects UNION ALL SELECT 'v', object_id, version, "
					"hex(value), written_by, state, hex(digest), created_at, '' "
					"FROM versions ORDER BY 1, 2, 3",
					-1, &s, NULL),
		     SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		for (int c = 0; c < 9; c++)
			fprintf(f, "%s|", (const char *)sqlite3_column_text(s, c));
		fputc('\n', f);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	fclose(f);
	return out;
}

static const struct result_item *item(const struct report *r, const char *name)
{
	const struct result_item *it = report_find(r, ITEM_SECRET, name);

	cr_assert_not_null(it, "no report item %s", name);
	return it;
}

static void expect_value(const char *name, const char *want, int64_t want_version)
{
	struct err_ctx err = {{0}};
	struct secbuf *v = NULL;
	int64_t ver = 0;

	cr_assert_eq(local_store_get(store, "secret", name, 0, &v, &ver, &err), 0, "%s", err.msg);
	cr_expect(secbuf_eq_mem(v, want, strlen(want)), "value of %s differs", name);
	cr_expect_eq(ver, want_version, "%s: version %lld", name, (long long)ver);
	secbuf_free(v);
}

static void no_canary(const struct report *r, const struct err_ctx *err)
{
	if (err != NULL)
		cr_expect_null(strstr(err->msg, "CANARY"), "value in error message");
	for (size_t i = 0; r != NULL && i < r->n; i++)
		cr_expect(r->items[i].reason == NULL || strstr(r->items[i].reason, "CANARY") == NULL,
			  "value in reason of %s", r->items[i].name);
}

static void sync_three(const struct job *j, const char *b_value)
{
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};

	items_add(&it, "a", CANARY "-a");
	items_add(&it, "b", b_value);
	items_add(&it, "c", CANARY "-c");
	cr_assert_eq(run(j, &it, &rep, &err), 0, "%s", err.msg);
	no_canary(&rep, &err);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, first_sync_writes_version_1_with_modes)
{
	struct job j = job_for("app");
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};
	struct stat sb;
	char dir[128];

	items_add(&it, "a", CANARY "-a");
	items_add(&it, "b", "");
	cr_assert_eq(run(&j, &it, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(rep.n, 2);
	cr_expect_eq(report_count(&rep, ITEM_SECRET, ITEM_WRITTEN), 2);
	cr_expect_str_eq(item(&rep, "a")->reason, "created");
	expect_value("a", CANARY "-a", 1);
	expect_value("b", "", 1);
	cr_expect_eq(q_int("SELECT count(*) FROM versions"), 2);
	cr_expect_eq(q_int("SELECT count(*) FROM objects WHERE managed_by="
			   "'secret-manager-controller' AND owner='team/app' AND state='enabled'"),
		     2);
	cr_expect_eq(q_int("PRAGMA user_version"), LOCAL_STORE_SCHEMA_VERSION);
	cr_assert_eq(stat(store, &sb), 0);
	cr_expect_eq(sb.st_mode & 07777, 0600, "store mode %o", sb.st_mode & 07777);
	(void)snprintf(dir, sizeof(dir), "%s/db", tmpdir);
	cr_assert_eq(stat(dir, &sb), 0);
	cr_expect_eq(sb.st_mode & 07777, 0700, "dir mode %o", sb.st_mode & 07777);
	no_canary(&rep, &err);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, umask_does_not_loosen_and_loose_mode_is_tightened)
{
	struct job j = job_for("app");
	struct stat sb;

	umask(0);
	sync_three(&j, "x");
	cr_assert_eq(stat(store, &sb), 0);
	cr_expect_eq(sb.st_mode & 07777, 0600);
	cr_assert_eq(chmod(store, 0644), 0);
	sync_three(&j, "x");
	cr_assert_eq(stat(store, &sb), 0);
	cr_expect_eq(sb.st_mode & 07777, 0600, "mode %o", sb.st_mode & 07777);
}

Test(local_store, identical_second_sync_is_unchanged_and_adds_no_rows)
{
	struct job j = job_for("app");
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};
	char *before, *after;

	sync_three(&j, "b1");
	before = dump();
	items_add(&it, "a", CANARY "-a");
	items_add(&it, "b", "b1");
	items_add(&it, "c", CANARY "-c");
	cr_assert_eq(run(&j, &it, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(report_count(&rep, ITEM_SECRET, ITEM_UNCHANGED), 3);
	cr_expect_eq(rep.n, 3);
	cr_expect_null(item(&rep, "b")->reason);
	cr_expect_eq(q_int("SELECT count(*) FROM versions"), 3);
	after = dump();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, value_change_writes_exactly_one_new_version)
{
	struct job j = job_for("app");
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};
	struct secbuf *v = NULL;
	int64_t ver = 0;

	sync_three(&j, "b1");
	items_add(&it, "a", CANARY "-a");
	items_add(&it, "b", "b2");
	items_add(&it, "c", CANARY "-c");
	cr_assert_eq(run(&j, &it, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(report_count(&rep, ITEM_SECRET, ITEM_WRITTEN), 1);
	cr_expect_eq(report_count(&rep, ITEM_SECRET, ITEM_UNCHANGED), 2);
	cr_expect_str_eq(item(&rep, "b")->reason, "new version 2");
	cr_expect_eq(q_int("SELECT count(*) FROM versions"), 4);
	expect_value("b", "b2", 2);
	/* history is kept and readable by number */
	cr_assert_eq(local_store_get(store, "secret", "b", 1, &v, &ver, &err), 0, "%s", err.msg);
	cr_expect(secbuf_eq_mem(v, "b1", 2));
	cr_expect_eq(ver, 1);
	secbuf_free(v);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, hand_edited_latest_row_is_put_back)
{
	struct job j = job_for("app");
	struct report rep;
	struct items it = {0};
	struct err_ctx err = {{0}};

	sync_three(&j, "b1");
	q_exec("UPDATE versions SET value = CAST('by-hand' AS BLOB) WHERE object_id = "
	       "(SELECT id FROM objects WHERE name='b') AND version = 1");
	items_add(&it, "a", CANARY "-a");
	items_add(&it, "b", "b1");
	items_add(&it, "c", CANARY "-c");
	cr_assert_eq(run(&j, &it, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(item(&rep, "b")->outcome, ITEM_WRITTEN);
	cr_expect(strstr(item(&rep, "b")->reason, "drift corrected") != NULL, "%s",
		  item(&rep, "b")->reason);
	cr_expect_eq(report_count(&rep, ITEM_SECRET, ITEM_UNCHANGED), 2);
	expect_value("b", "b1", 2);
	cr_expect_eq(q_int("SELECT count(*) FROM versions"), 4);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, version_added_by_someone_else_is_put_back)
{
	struct job j = job_for("app");
	struct report rep;
	struct items it = {0};
	struct err_ctx err = {{0}};

	sync_three(&j, "b1");
	q_exec("INSERT INTO versions(object_id, version, value, created_at, written_by, state) "
	       "SELECT id, 2, CAST('console' AS BLOB), 0, 'operator', 'enabled' FROM objects "
	       "WHERE name='b'");
	items_add(&it, "a", CANARY "-a");
	items_add(&it, "b", "b1");
	items_add(&it, "c", CANARY "-c");
	cr_assert_eq(run(&j, &it, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(item(&rep, "b")->outcome, ITEM_WRITTEN);
	cr_expect_str_eq(item(&rep, "b")->reason, "drift corrected: version 3");
	expect_value("b", "b1", 3);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, git_change_is_not_called_drift)
{
	struct job j = job_for("app");

	sync_three(&j, "b1");
	/* a hand edit that happens to equal the Git value is not rewritten */
	q_exec("UPDATE versions SET value = CAST('b2' AS BLOB) WHERE object_id = "
	       "(SELECT id FROM objects WHERE name='b')");
	sync_three(&j, "b2");
	cr_expect_eq(q_int("SELECT count(*) FROM versions"), 3);
}

static void insert_foreign(const char *name, const char *managed_by, const char *owner)
{
	sqlite3 *db = peer();
	sqlite3_stmt *s = NULL;

	cr_assert_eq(sqlite3_prepare_v2(db,
					"INSERT INTO objects(kind, name, managed_by, owner, created_at, "
					"updated_at, state) VALUES('secret', ?1, ?2, ?3, 0, 0, 'enabled')",
					-1, &s, NULL),
		     SQLITE_OK);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, managed_by, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, owner, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	cr_assert_eq(sqlite3_exec(db,
				  "INSERT INTO versions(object_id, version, value, created_at, "
				  "written_by, state) VALUES(last_insert_rowid(), 1, "
				  "CAST('theirs' AS BLOB), 0, 'operator', 'enabled')",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);
}

Test(local_store, unmarked_object_refused_then_adopted)
{
	struct job j = job_for("app");
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};
	struct local_store_entry *e = NULL;
	size_t n = 0;

	sync_three(&j, "b1"); /* creates the schema */
	insert_foreign("shared", NULL, NULL);
	items_add(&it, "shared", CANARY "-mine");
	cr_assert_eq(run(&j, &it, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(item(&rep, "shared")->outcome, ITEM_REFUSED);
	cr_expect(strstr(item(&rep, "shared")->reason, "adoptExisting") != NULL);
	expect_value("shared", "theirs", 1);
	cr_expect_eq(q_int("SELECT count(*) FROM versions v JOIN objects o ON o.id=v.object_id "
			   "WHERE o.name='shared'"),
		     1);
	cr_expect_eq(q_int("SELECT count(*) FROM objects WHERE name='shared' AND managed_by IS NULL"),
		     1);
	/* the refused object is not ours, so it is not pruned either; a b c are retained */
	cr_expect_eq(report_count(&rep, ITEM_SECRET, ITEM_RETAINED), 3);
	no_canary(&rep, &err);
	report_free(&rep);

	j.policy.adopt_existing = true;
	cr_assert_eq(run(&j, &it, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(item(&rep, "shared")->outcome, ITEM_WRITTEN);
	cr_expect_str_eq(item(&rep, "shared")->reason, "adopted, drift corrected: version 2");
	expect_value("shared", CANARY "-mine", 2);
	cr_assert_eq(local_store_list(store, "secret", &e, &n, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(e[i].name, "shared") == 0) {
			cr_expect_str_eq(e[i].managed_by, "secret-manager-controller");
			cr_expect_str_eq(e[i].owner, "team/app");
			cr_expect_eq(e[i].latest_version, 2);
			cr_expect_eq(e[i].versions, 2);
		}
	}
	cr_expect_eq(n, 4);
	local_store_entries_free(e, n);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, object_of_another_owner_refused_even_with_adopt)
{
	struct job mine = job_for("app"), theirs = job_for("other");
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};

	sync_three(&theirs, "b1");
	mine.policy.adopt_existing = true;
	items_add(&it, "b", CANARY "-mine");
	cr_assert_eq(run(&mine, &it, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(item(&rep, "b")->outcome, ITEM_REFUSED);
	cr_expect_str_eq(item(&rep, "b")->reason, "owned by team/other");
	expect_value("b", "b1", 1);
	/* nothing of the other owner is pruned by this one */
	cr_expect_eq(rep.n, 1);
	report_free(&rep);
	items_free(&it);
}

static void remove_b(struct job *j, struct report *rep)
{
	struct items it = {0};
	struct err_ctx err = {{0}};

	items_add(&it, "a", CANARY "-a");
	items_add(&it, "c", CANARY "-c");
	cr_assert_eq(run(j, &it, rep, &err), 0, "%s", err.msg);
	items_free(&it);
}

Test(local_store, removed_key_retain_disable_delete)
{
	struct job j = job_for("app");
	struct report rep;

	sync_three(&j, "b1");
	j.policy.deletion = JOB_DELETION_RETAIN;
	remove_b(&j, &rep);
	cr_expect_eq(item(&rep, "b")->outcome, ITEM_RETAINED);
	cr_expect_null(item(&rep, "b")->key);
	cr_expect_eq(q_int("SELECT count(*) FROM objects WHERE name='b' AND state='enabled'"), 1);
	report_free(&rep);

	j.policy.deletion = JOB_DELETION_DELETE;
	j.policy.prune = false;
	remove_b(&j, &rep);
	cr_expect_eq(item(&rep, "b")->outcome, ITEM_RETAINED);
	cr_expect_str_eq(item(&rep, "b")->reason, "prune=false");
	cr_expect_eq(q_int("SELECT count(*) FROM objects WHERE name='b' AND state='enabled'"), 1);
	report_free(&rep);

	j.policy.prune = true;
	j.policy.deletion = JOB_DELETION_DISABLE;
	remove_b(&j, &rep);
	cr_expect_eq(item(&rep, "b")->outcome, ITEM_PRUNED);
	cr_expect_str_eq(item(&rep, "b")->reason, "disabled");
	cr_expect_eq(report_count(&rep, ITEM_SECRET, ITEM_UNCHANGED), 2);
	cr_expect_eq(q_int("SELECT count(*) FROM objects WHERE name='b' AND state='disabled'"), 1);
	report_free(&rep);
	/* a disabled object is no longer enabled: pruning it again reports nothing */
	remove_b(&j, &rep);
	cr_expect_null(report_find(&rep, ITEM_SECRET, "b"));
	report_free(&rep);
	/* back in Git with the same value: re-enabled without a new version */
	sync_three(&j, "b1");
	cr_expect_eq(q_int("SELECT count(*) FROM objects WHERE name='b' AND state='enabled'"), 1);
	cr_expect_eq(q_int("SELECT count(*) FROM versions"), 3);

	j.policy.deletion = JOB_DELETION_DELETE;
	remove_b(&j, &rep);
	cr_expect_eq(item(&rep, "b")->outcome, ITEM_PRUNED);
	cr_expect_str_eq(item(&rep, "b")->reason, "deleted");
	cr_expect_eq(q_int("SELECT count(*) FROM objects WHERE name='b' AND state='deleted'"), 1);
	cr_expect_eq(q_int("SELECT count(*) FROM versions"), 3, "history rows are kept");
	report_free(&rep);
	{
		struct err_ctx err = {{0}};
		struct secbuf *v = NULL;

		cr_expect_eq(local_store_get(store, "secret", "b", 0, &v, NULL, &err), ERR_NOTFOUND);
		cr_expect(strstr(err.msg, "deleted") != NULL, "%s", err.msg);
		cr_expect_null(v);
	}
}

Test(local_store, re_added_after_delete_gets_a_new_version)
{
	struct job j = job_for("app");
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};

	sync_three(&j, "b1");
	j.policy.deletion = JOB_DELETION_DELETE;
	remove_b(&j, &rep);
	report_free(&rep);
	items_add(&it, "a", CANARY "-a");
	items_add(&it, "b", "b1");
	items_add(&it, "c", CANARY "-c");
	cr_assert_eq(run(&j, &it, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(item(&rep, "b")->outcome, ITEM_WRITTEN);
	cr_expect_str_eq(item(&rep, "b")->reason, "re-enabled, new version 2");
	expect_value("b", "b1", 2);
	cr_expect_eq(q_int("SELECT count(*) FROM objects WHERE name='b' AND state='enabled'"), 1);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, trigger_update_false_never_overwrites)
{
	struct job j = job_for("app");
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};

	sync_three(&j, "b1");
	j.policy.trigger_update = false;
	items_add(&it, "b", "b2");
	items_add(&it, "new", "n1");
	cr_assert_eq(run(&j, &it, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(item(&rep, "b")->outcome, ITEM_UNCHANGED);
	cr_expect_str_eq(item(&rep, "b")->reason, "triggerUpdate=false");
	cr_expect_eq(item(&rep, "new")->outcome, ITEM_WRITTEN);
	expect_value("b", "b1", 1);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, dry_run_writes_nothing)
{
	struct job j = job_for("app");
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};
	struct stat sb;
	char *before, *after;

	/* no store yet: outcomes as if, and no file, no directory */
	j.policy.dry_run = true;
	items_add(&it, "a", CANARY "-a");
	items_add(&it, "b", "b2");
	cr_assert_eq(run(&j, &it, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(report_count(&rep, ITEM_SECRET, ITEM_WRITTEN), 2);
	cr_expect_neq(stat(store, &sb), 0, "dry run created the store");
	report_free(&rep);

	j.policy.dry_run = false;
	sync_three(&j, "b1");
	before = dump();
	j.policy.dry_run = true;
	j.policy.deletion = JOB_DELETION_DELETE;
	cr_assert_eq(run(&j, &it, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(item(&rep, "a")->outcome, ITEM_UNCHANGED);
	cr_expect_eq(item(&rep, "b")->outcome, ITEM_WRITTEN);
	cr_expect_str_eq(item(&rep, "b")->reason, "new version 2");
	cr_expect_eq(item(&rep, "c")->outcome, ITEM_PRUNED);
	after = dump();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, locked_store_is_err_locked_naming_the_path)
{
	struct job j = job_for("app");
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};
	sqlite3 *holder;
	char *before, *after;

	sync_three(&j, "b1");
	before = dump();
	holder = peer();
	cr_assert_eq(sqlite3_exec(holder, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	items_add(&it, "b", CANARY "-new");
	cr_expect_eq(run(&j, &it, &rep, &err), ERR_LOCKED);
	cr_expect(strstr(err.msg, store) != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "locked") != NULL, "%s", err.msg);
	no_canary(&rep, &err);
	cr_assert_eq(sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(holder);
	after = dump();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
	report_free(&rep);
	items_free(&it);
}

/* Root ignores permission bits; the read-only tests run as nobody. */
static void become_nobody(void)
{
	char p[160];

	if (geteuid() != 0)
		return;
	(void)snprintf(p, sizeof(p), "%s/db", tmpdir);
	cr_assert_eq(chown(tmpdir, 65534, 65534), 0);
	cr_assert_eq(chown(p, 65534, 65534), 0);
	cr_assert_eq(chown(store, 65534, 65534), 0);
	cr_assert_eq(setresgid(65534, 65534, 65534), 0);
	cr_assert_eq(setresuid(65534, 65534, 65534), 0);
}

Test(local_store, read_only_file_is_err_perm)
{
	struct job j = job_for("app");
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};

	sync_three(&j, "b1");
	become_nobody();
	cr_assert_eq(chmod(store, 0400), 0);
	items_add(&it, "b", CANARY "-new");
	cr_expect_eq(run(&j, &it, &rep, &err), ERR_PERM);
	cr_expect(strstr(err.msg, store) != NULL, "%s", err.msg);
	no_canary(&rep, &err);
	/* the read API still works on a read-only store */
	expect_value("b", "b1", 1);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, read_only_directory_is_err_perm)
{
	struct job j = job_for("app");
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};
	char dir[128];

	sync_three(&j, "b1");
	become_nobody();
	(void)snprintf(dir, sizeof(dir), "%s/db", tmpdir);
	cr_assert_eq(chmod(dir, 0500), 0);
	items_add(&it, "b", CANARY "-new");
	cr_expect_eq(run(&j, &it, &rep, &err), ERR_PERM);
	cr_expect(strstr(err.msg, dir) != NULL, "%s", err.msg);
	expect_value("b", "b1", 1);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, symlinked_store_is_refused)
{
	struct job j = job_for("app");
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};
	char link[160];

	sync_three(&j, "b1");
	(void)snprintf(link, sizeof(link), "%s/link.db", tmpdir);
	cr_assert_eq(symlink(store, link), 0);
	j.provider.store_path = link;
	items_add(&it, "b", "b2");
	cr_expect_eq(run(&j, &it, &rep, &err), ERR_PERM);
	cr_expect(strstr(err.msg, "symlink") != NULL, "%s", err.msg);
	cr_expect_eq(local_store_get(link, "secret", "b", 0, &it.v[1], NULL, &err), ERR_PERM);
	expect_value("b", "b1", 1);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, foreign_sqlite_database_is_not_taken_over)
{
	struct job j = job_for("app");
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};
	char dir[128];
	sqlite3 *db;

	(void)snprintf(dir, sizeof(dir), "%s/db", tmpdir);
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(sqlite3_open(store, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	items_add(&it, "a", "1");
	cr_expect_eq(run(&j, &it, &rep, &err), ERR_INVAL);
	cr_expect(strstr(err.msg, "not an smc store") != NULL, "%s", err.msg);
	cr_expect_eq(q_int("SELECT count(*) FROM sqlite_master"), 1);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, oversized_value_fails_only_that_item)
{
	struct job j = job_for("app");
	struct items it = {0};
	struct report rep;
	struct err_ctx err = {{0}};
	char *big = malloc(LOCAL_STORE_MAX_VALUE + 2);

	cr_assert_not_null(big);
	memset(big, 'C', LOCAL_STORE_MAX_VALUE + 1);
	big[LOCAL_STORE_MAX_VALUE + 1] = '\0';
	items_add(&it, "big", big);
	items_add(&it, "ok", "1");
	cr_assert_eq(run(&j, &it, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(item(&rep, "big")->outcome, ITEM_FAILED);
	cr_expect(strstr(item(&rep, "big")->reason, "larger") != NULL);
	cr_expect(strlen(item(&rep, "big")->reason) < 200);
	cr_expect_eq(item(&rep, "ok")->outcome, ITEM_WRITTEN);
	free(big);
	report_free(&rep);
	items_free(&it);
}

Test(local_store, list_and_get_read_api)
{
	struct job j = job_for("app");
	struct local_store_entry *e = NULL;
	struct err_ctx err = {{0}};
	struct secbuf *v = NULL;
	size_t n = 0;

	cr_expect_eq(local_store_list(store, NULL, &e, &n, &err), ERR_NOTFOUND);
	sync_three(&j, "b1");
	cr_assert_eq(local_store_list(store, NULL, &e, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 3);
	cr_expect_str_eq(e[0].name, "a");
	cr_expect_str_eq(e[0].kind, "secret");
	cr_expect_str_eq(e[0].state, "enabled");
	cr_expect_eq(e[0].latest_version, 1);
	local_store_entries_free(e, n);
	cr_assert_eq(local_store_list(store, "config", &e, &n, &err), 0);
	cr_expect_eq(n, 0);
	local_store_entries_free(e, n);
	cr_expect_eq(local_store_get(store, "secret", "zz", 0, &v, NULL, &err), ERR_NOTFOUND);
	cr_expect_eq(local_store_get(store, "secret", "b", 7, &v, NULL, &err), ERR_NOTFOUND);
	cr_expect_eq(local_store_get(store, "bogus", "b", 0, &v, NULL, &err), ERR_INVAL);
	cr_expect_null(v);
}
