/* test_informer.c — the informer's cache logic: LIST diffing (adds, updates, deletes of
 * what vanished), watch events, bookmarks moving the resourceVersion, ERROR 410 asking for
 * a re-list, no event for an unchanged version; and the watch line splitter fed in
 * arbitrary chunks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "watcher/informer.h"
#include "watcher/kube_client.h"

struct rec {
	char log[4096];
	int n;
};

static void on_ev(void *arg, enum informer_event ev, const json_t *old, const json_t *obj)
{
	struct rec *r = arg;
	const char *name =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	static const char *names[] = {"", "add", "update", "delete", "resync"};
	size_t n = strlen(r->log);

	snprintf(r->log + n, sizeof(r->log) - n, "%s:%s%s ", names[ev], name,
		 old ? "(old)" : "");
	r->n++;
}

static json_t *obj(const char *name, const char *rv)
{
	return json_pack("{s:{s:s, s:s, s:s}}", "metadata", "name", name, "namespace", "ns",
			 "resourceVersion", rv);
}

static struct informer *mk(struct rec *r)
{
	struct informer_opts o = {.paths = {"/apis/x/v1/things", NULL}};
	struct informer *inf = NULL;

	/* no client needed for the cache logic */
	cr_assert_eq(informer_new(NULL, &o, on_ev, r, &inf), 0);
	return inf;
}

Test(informer, list_then_events)
{
	struct rec r = {{0}, 0};
	struct informer *inf = mk(&r);
	json_t *list = json_pack("{s:{s:s}, s:[o, o]}", "metadata", "resourceVersion", "10",
				 "items", obj("a", "5"), obj("b", "6"));
	json_t *e;
	bool relist;

	cr_assert_eq(informer_apply_list(inf, list), 0);
	cr_assert(informer_synced(inf));
	cr_assert_str_eq(informer_rv(inf), "10");
	cr_assert_str_eq(r.log, "add:a add:b ");
	cr_assert_not_null(informer_get(inf, "ns", "a"));

	r.log[0] = '\0';
	e = obj("a", "11");
	cr_assert_eq(informer_apply_event(inf, "MODIFIED", e, &relist), 0);
	cr_assert(!relist);
	cr_assert_str_eq(r.log, "update:a(old) ");
	cr_assert_str_eq(informer_rv(inf), "11");
	/* the same version again (a duplicate event): nothing delivered */
	cr_assert_eq(informer_apply_event(inf, "MODIFIED", e, &relist), 0);
	cr_assert_str_eq(r.log, "update:a(old) ");
	json_decref(e);

	e = json_pack("{s:{s:s}}", "metadata", "resourceVersion", "20");
	cr_assert_eq(informer_apply_event(inf, "BOOKMARK", e, &relist), 0);
	cr_assert_str_eq(informer_rv(inf), "20");
	cr_assert_str_eq(r.log, "update:a(old) ");
	json_decref(e);

	e = obj("b", "21");
	cr_assert_eq(informer_apply_event(inf, "DELETED", e, &relist), 0);
	cr_assert_null(informer_get(inf, "ns", "b"));
	cr_assert_str_eq(r.log, "update:a(old) delete:b ");
	json_decref(e);
	json_decref(list);
	informer_free(inf);
}

Test(informer, error_410_asks_for_relist_and_relist_diffs)
{
	struct rec r = {{0}, 0};
	struct informer *inf = mk(&r);
	json_t *l1 = json_pack("{s:{s:s}, s:[o, o]}", "metadata", "resourceVersion", "10",
			       "items", obj("a", "5"), obj("b", "6"));
	json_t *l2 = json_pack("{s:{s:s}, s:[o, o]}", "metadata", "resourceVersion", "30",
			       "items", obj("a", "5"), obj("c", "29"));
	json_t *gone = json_pack("{s:s, s:s, s:s, s:i}", "kind", "Status", "reason", "Expired",
				 "status", "Failure", "code", 410);
	bool relist = false;

	cr_assert_eq(informer_apply_list(inf, l1), 0);
	cr_assert_eq(informer_apply_event(inf, "ERROR", gone, &relist), 0);
	cr_assert(relist);
	r.log[0] = '\0';
	/* after the re-list: a unchanged (no event), b vanished, c new */
	cr_assert_eq(informer_apply_list(inf, l2), 0);
	cr_assert_str_eq(r.log, "add:c delete:b ");
	cr_assert_str_eq(informer_rv(inf), "30");
	json_decref(l1);
	json_decref(l2);
	json_decref(gone);
	informer_free(inf);
}

Test(informer, malformed_events_refused)
{
	struct rec r = {{0}, 0};
	struct informer *inf = mk(&r);
	json_t *noname = json_pack("{s:{s:s}}", "metadata", "resourceVersion", "1");
	json_t *ok = obj("a", "1");
	bool relist;

	cr_assert_eq(informer_apply_event(inf, "ADDED", noname, &relist), ERR_PROTO);
	cr_assert_eq(informer_apply_event(inf, "WHATEVER", ok, &relist), ERR_PROTO);
	cr_assert_eq(informer_apply_list(inf, noname), ERR_PROTO);
	cr_assert_eq(r.n, 0);
	json_decref(noname);
	json_decref(ok);
	informer_free(inf);
}

struct lines_rec {
	int n;
	char types[256];
};

static int on_line(void *arg, const char *type, json_t *o, long st, int code)
{
	struct lines_rec *r = arg;
	size_t n = strlen(r->types);

	(void)o;
	(void)st;
	(void)code;
	snprintf(r->types + n, sizeof(r->types) - n, "%s,", type);
	r->n++;
	return 0;
}

Test(informer, watch_lines_in_any_chunking)
{
	const char *stream = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
			     "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"3\"}}}\r\n"
			     "\n"
			     "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n";
	size_t len = strlen(stream);

	for (size_t chunk = 1; chunk <= len; chunk++) {
		struct kube_lines l = {0};
		struct lines_rec r = {0, {0}};

		for (size_t off = 0; off < len; off += chunk) {
			size_t n = len - off < chunk ? len - off : chunk;

			cr_assert_eq(kube_lines_feed(&l, stream + off, n, on_line, &r), 0);
		}
		cr_assert_eq(r.n, 3, "chunk %zu: %d events", chunk, r.n);
		cr_assert_str_eq(r.types, "ADDED,BOOKMARK,DELETED,");
		kube_lines_free(&l);
	}
}

Test(informer, watch_line_garbage_and_limits)
{
	struct kube_lines l = {0};
	struct lines_rec r = {0, {0}};

	cr_assert_eq(kube_lines_feed(&l, "not json\n", 9, on_line, &r), ERR_PROTO);
	kube_lines_free(&l);
	cr_assert_eq(kube_lines_feed(&l, "{\"type\":\"ADDED\"}\n", 17, on_line, &r), ERR_PROTO);
	kube_lines_free(&l);
	{
		static char big[KUBE_MAX_WATCH_LINE + 16];

		memset(big, ' ', sizeof(big));
		cr_assert_eq(kube_lines_feed(&l, big, sizeof(big), on_line, &r), ERR_TOOBIG);
	}
	kube_lines_free(&l);
	cr_assert_eq(r.n, 0);
}

Test(informer, status_errors_decoded)
{
	json_t *st = json_pack("{s:s, s:s, s:s, s:i}", "kind", "Status", "message",
			       "secretmanagerconfigs \"x\" not found", "reason", "NotFound", "code",
			       404);
	struct err_ctx err = {{0}};

	cr_assert_eq(kube_status_error(st, 404, &err), ERR_NOTFOUND);
	cr_assert(strstr(err.msg, "NotFound") != NULL);
	cr_assert(strstr(err.msg, "not found") != NULL);
	cr_assert_eq(kube_status_error(NULL, 409, &err), ERR_CONFLICT);
	cr_assert_eq(kube_status_error(NULL, 410, &err), ERR_TIMEOUT);
	cr_assert_eq(kube_status_error(NULL, 403, &err), ERR_PERM);
	cr_assert_eq(kube_status_error(NULL, 500, &err), ERR_REMOTE);
	json_decref(st);
}
