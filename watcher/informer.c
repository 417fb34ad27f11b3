/* informer.c — list+watch cache of one kind. */
#include "watcher/informer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/str.h"
#include "common/xmalloc.h"

#define INFORMER_MAX_RV 64
#define INFORMER_MAX_PATH 1024

enum inf_state { INF_LIST, INF_WATCH_DUE, INF_WATCHING };

struct informer {
	struct kube_client *kc;
	char *paths[INFORMER_MAX_PATHS];
	size_t npaths, cur;
	char *selector;
	int64_t resync_ms, next_resync;
	informer_fn fn;
	void *arg;
	json_t *items; /* "ns/name" → object */
	char rv[INFORMER_MAX_RV];
	enum inf_state state;
	int64_t due_ms;     /* when the next LIST / WATCH may start */
	int64_t retry_ms;   /* current retry delay */
	bool synced, absent;
	struct kube_watch *watch;
	int64_t now;        /* time of the last step (watch callbacks run between steps) */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int informer_new(struct kube_client *kc, const struct informer_opts *opts, informer_fn fn,
		 void *arg, struct informer **out)
{
	struct informer *inf = xcalloc(1, sizeof(*inf));

	if (inf == NULL)
		return ERR_NOMEM;
	inf->kc = kc;
	inf->fn = fn;
	inf->arg = arg;
	inf->resync_ms = opts->resync_ms;
	inf->retry_ms = INFORMER_RETRY_MIN_MS;
	inf->state = INF_LIST;
	if ((inf->items = json_object()) == NULL)
		goto nomem;
	for (size_t i = 0; i < INFORMER_MAX_PATHS && opts->paths[i] != NULL; i++) {
		if (strlen(opts->paths[i]) > INFORMER_MAX_PATH / 2 ||
		    (inf->paths[i] = xstrdup(opts->paths[i])) == NULL)
			goto nomem;
		inf->npaths++;
	}
	if (opts->label_selector != NULL && *opts->label_selector != '\0' &&
	    (inf->selector = xstrdup(opts->label_selector)) == NULL)
		goto nomem;
	if (inf->npaths == 0) {
		informer_free(inf);
		return ERR_INVAL;
	}
	*out = inf;
	return 0;
nomem:
	informer_free(inf);
	return ERR_NOMEM;
}

void informer_free(struct informer *inf)
{
	if (inf == NULL)
		return;
	if (inf->watch != NULL)
		kube_watch_cancel(inf->kc, inf->watch);
	for (size_t i = 0; i < inf->npaths; i++)
		free(inf->paths[i]);
	free(inf->selector);
	json_decref(inf->items);
	free(inf);
}

static int obj_key(const json_t *obj, char *key, size_t size)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));

	if (name == NULL || *name == '\0')
		return ERR_PROTO;
	return str_fmt(key, size, "%s/%s", ns ? ns : "", name) == 0 ? 0 : ERR_PROTO;
}

static const char *obj_rv(const json_t *obj)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"),
						 "resourceVersion"));
}

static void set_rv(struct informer *inf, const char *rv)
{
	if (rv != NULL && strlen(rv) < sizeof(inf->rv))
		(void)str_copy(inf->rv, sizeof(inf->rv), rv);
}

/* Stores obj (a deep copy) and delivers ADD or UPDATE (nothing when the version did not
 * change, as after a re-LIST). */
static int upsert(struct informer *inf, const json_t *obj)
{
	char key[600];
	json_t *old, *copy;
	const char *orv, *nrv;

	if (obj_key(obj, key, sizeof(key)) != 0)
		return ERR_PROTO;
	old = json_object_get(inf->items, key);
	if (old == NULL && json_object_size(inf->items) >= INFORMER_MAX_OBJECTS)
		return ERR_TOOBIG;
	orv = old ? obj_rv(old) : NULL;
	nrv = obj_rv(obj);
	if (old != NULL && orv != NULL && nrv != NULL && strcmp(orv, nrv) == 0)
		return 0;
	if ((copy = json_deep_copy(obj)) == NULL)
		return ERR_NOMEM;
	if (old != NULL)
		json_incref(old);
	if (json_object_set_new(inf->items, key, copy) != 0) {
		json_decref(old);
		return ERR_NOMEM;
	}
	inf->fn(inf->arg, old ? INFORMER_UPDATE : INFORMER_ADD, old, copy);
	json_decref(old);
	return 0;
}

static int remove_key(struct informer *inf, const char *key, const json_t *last)
{
	json_t *old = json_object_get(inf->items, key);

	if (old == NULL)
		return 0;
	json_incref(old);
	json_object_del(inf->items, key);
	inf->fn(inf->arg, INFORMER_DELETE, NULL, last ? last : old);
	json_decref(old);
	return 0;
}

int informer_apply_list(struct informer *inf, const json_t *list)
{
	const json_t *items = json_object_get(list, "items"), *it;
	json_t *seen;
	const char *k;
	json_t *v;
	void *tmp;
	size_t i;
	int rc = 0;

	if (!json_is_array(items))
		return ERR_PROTO;
	if ((seen = json_object()) == NULL)
		return ERR_NOMEM;
	json_array_foreach(items, i, it) {
		char key[600];

		if (obj_key(it, key, sizeof(key)) != 0) {
			rc = ERR_PROTO;
			goto out;
		}
		if ((rc = upsert(inf, it)) != 0)
			goto out;
		json_object_set_new(seen, key, json_true());
	}
	/* gone while we were not watching */
	json_object_foreach_safe(inf->items, tmp, k, v) {
		if (json_object_get(seen, k) == NULL)
			remove_key(inf, k, NULL);
	}
	set_rv(inf, json_string_value(json_object_get(json_object_get(list, "metadata"),
						      "resourceVersion")));
	inf->synced = true;
out:
	json_decref(seen);
	return rc;
}

int informer_apply_event(struct informer *inf, const char *type, const json_t *obj,
			 bool *relist)
{
	char key[600];

	*relist = false;
	if (strcmp(type, "ERROR") == 0) {
		const json_t *code = json_object_get(obj, "code");

		/* 410 Gone (Expired): our version is too old; anything else: start over too */
		*relist = true;
		return json_is_integer(code) && json_integer_value(code) == 410 ? 0 : ERR_REMOTE;
	}
	if (strcmp(type, "BOOKMARK") == 0) {
		set_rv(inf, obj_rv(obj));
		return 0;
	}
	if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
		int rc = upsert(inf, obj);

		if (rc == 0)
			set_rv(inf, obj_rv(obj));
		return rc;
	}
	if (strcmp(type, "DELETED") == 0) {
		if (obj_key(obj, key, sizeof(key)) != 0)
			return ERR_PROTO;
		remove_key(inf, key, obj);
		set_rv(inf, obj_rv(obj));
		return 0;
	}
	return ERR_PROTO;
}

void informer_relist(struct informer *inf)
{
	inf->state = INF_LIST;
	inf->rv[0] = '\0';
	inf->due_ms = 0;
}

static void backoff(struct informer *inf, enum inf_state st)
{
	inf->state = st;
	inf->due_ms = inf->now + inf->retry_ms;
	inf->retry_ms = inf->retry_ms * 2 > INFORMER_RETRY_MAX_MS ? INFORMER_RETRY_MAX_MS
								   : inf->retry_ms * 2;
}

static int on_watch(void *arg, const char *type, json_t *obj, long status, int code)
{
	struct informer *inf = arg;
	bool relist = false;
	int rc;

	if (type == NULL) {
		/* the stream ended */
		inf->watch = NULL;
		inf->now = now_ms();
		if (status == 410 || code == ERR_TIMEOUT) {
			informer_relist(inf);
		} else if (code == 0 && status == 200) {
			inf->state = INF_WATCH_DUE; /* server timeout: re-watch from rv at once */
			inf->due_ms = 0;
			inf->retry_ms = INFORMER_RETRY_MIN_MS;
		} else {
			backoff(inf, status == 404 ? INF_LIST : INF_WATCH_DUE);
		}
		return 0;
	}
	rc = informer_apply_event(inf, type, obj, &relist);
	if (relist || rc != 0) {
		inf->now = now_ms();
		if (rc != 0 && !relist)
			backoff(inf, INF_LIST);
		else
			informer_relist(inf);
		inf->watch = NULL; /* returning < 0 frees the transfer without a final call */
		return ERR_EOF;
	}
	inf->retry_ms = INFORMER_RETRY_MIN_MS;
	return 0;
}

static int do_list(struct informer *inf, struct err_ctx *err)
{
	char path[INFORMER_MAX_PATH + 1024], cont[1024] = "";
	json_t *all = NULL, *page = NULL, *items;
	int rc;

	if ((all = json_pack("{s:[], s:{}}", "items", "metadata")) == NULL)
		return ERR_NOMEM;
	items = json_object_get(all, "items");
	for (int pages = 0;; pages++) {
		const json_t *meta;
		const char *next;

		if (pages * INFORMER_PAGE > INFORMER_MAX_OBJECTS) {
			rc = err_set(err, ERR_TOOBIG, "%s: more than %d objects",
				     inf->paths[inf->cur], INFORMER_MAX_OBJECTS);
			goto out;
		}
		if (str_copy(path, sizeof(path), inf->paths[inf->cur]) != 0 ||
		    kube_path_add_query(path, sizeof(path), "limit", "500") != 0 ||
		    (inf->selector &&
		     kube_path_add_query(path, sizeof(path), "labelSelector", inf->selector) != 0) ||
		    (cont[0] && kube_path_add_query(path, sizeof(path), "continue", cont) != 0)) {
			rc = err_set(err, ERR_TOOBIG, "list path too long");
			goto out;
		}
		if ((rc = kube_get(inf->kc, path, &page, err)) != 0)
			goto out;
		if (json_array_extend(items, json_object_get(page, "items")) != 0 &&
		    json_object_get(page, "items") != NULL && !json_is_null(json_object_get(page, "items"))) {
			rc = err_set(err, ERR_PROTO, "%s: LIST without items", path);
			goto out;
		}
		meta = json_object_get(page, "metadata");
		json_object_set(json_object_get(all, "metadata"), "resourceVersion",
				json_object_get(meta, "resourceVersion"));
		next = json_string_value(json_object_get(meta, "continue"));
		if (next == NULL || *next == '\0' || str_copy(cont, sizeof(cont), next) != 0)
			break;
		json_decref(page);
		page = NULL;
	}
	rc = informer_apply_list(inf, all);
	if (rc != 0)
		err_set(err, rc, "%s: malformed LIST", inf->paths[inf->cur]);
out:
	json_decref(page);
	json_decref(all);
	return rc;
}

static int start_watch(struct informer *inf, struct err_ctx *err)
{
	char path[INFORMER_MAX_PATH + 1024], tmo[16];

	(void)str_fmt(tmo, sizeof(tmo), "%d", INFORMER_WATCH_TIMEOUT_S);
	if (str_copy(path, sizeof(path), inf->paths[inf->cur]) != 0 ||
	    kube_path_add_query(path, sizeof(path), "watch", "true") != 0 ||
	    kube_path_add_query(path, sizeof(path), "allowWatchBookmarks", "true") != 0 ||
	    kube_path_add_query(path, sizeof(path), "resourceVersion", inf->rv) != 0 ||
	    kube_path_add_query(path, sizeof(path), "timeoutSeconds", tmo) != 0 ||
	    (inf->selector &&
	     kube_path_add_query(path, sizeof(path), "labelSelector", inf->selector) != 0))
		return err_set(err, ERR_TOOBIG, "watch path too long");
	return kube_watch_start(inf->kc, path, on_watch, inf, &inf->watch, err);
}

int informer_step(struct informer *inf, int64_t now, struct err_ctx *err)
{
	int rc = 0;

	inf->now = now;
	if (inf->resync_ms > 0 && inf->synced) {
		if (inf->next_resync == 0)
			inf->next_resync = now + inf->resync_ms;
		else if (now >= inf->next_resync) {
			const char *k;
			json_t *v;

			inf->next_resync = now + inf->resync_ms;
			json_object_foreach(inf->items, k, v)
				inf->fn(inf->arg, INFORMER_RESYNC, NULL, v);
		}
	}
	if (inf->state == INF_WATCHING || now < inf->due_ms)
		return 0;
	if (inf->state == INF_LIST) {
		if (inf->watch != NULL) {
			kube_watch_cancel(inf->kc, inf->watch);
			inf->watch = NULL;
		}
		rc = do_list(inf, err);
		if (rc == ERR_NOTFOUND) {
			/* this version of the kind is not served: try the next */
			if (inf->cur + 1 < inf->npaths) {
				inf->cur++;
				inf->due_ms = 0;
				return informer_step(inf, now, err);
			}
			inf->cur = 0;
			inf->absent = true;
			inf->state = INF_LIST;
			inf->due_ms = now + INFORMER_ABSENT_RETRY_MS;
			return rc;
		}
		if (rc != 0) {
			backoff(inf, INF_LIST);
			return rc;
		}
		inf->absent = false;
		inf->state = INF_WATCH_DUE;
	}
	if (inf->state == INF_WATCH_DUE) {
		if ((rc = start_watch(inf, err)) != 0) {
			backoff(inf, INF_WATCH_DUE);
			return rc;
		}
		inf->state = INF_WATCHING;
	}
	return 0;
}

int64_t informer_next_ms(const struct informer *inf, int64_t now)
{
	int64_t d = -1;

	if (inf->state != INF_WATCHING)
		d = inf->due_ms > now ? inf->due_ms - now : 0;
	if (inf->resync_ms > 0 && inf->next_resync > 0) {
		int64_t r = inf->next_resync > now ? inf->next_resync - now : 0;

		if (d < 0 || r < d)
			d = r;
	}
	return d;
}

bool informer_synced(const struct informer *inf)
{
	return inf->synced;
}

bool informer_absent(const struct informer *inf)
{
	return inf->absent;
}

const char *informer_path(const struct informer *inf)
{
	return inf->paths[inf->cur];
}

const json_t *informer_get(const struct informer *inf, const char *ns, const char *name)
{
	char key[600];

	if (str_fmt(key, sizeof(key), "%s/%s", ns ? ns : "", name) != 0)
		return NULL;
	return json_object_get(inf->items, key);
}

const json_t *informer_items(const struct informer *inf)
{
	return inf->items;
}

const char *informer_rv(const struct informer *inf)
{
	return inf->rv;
}
