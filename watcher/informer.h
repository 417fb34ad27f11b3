/* informer.h — list+watch of one resource kind into a local cache (client-go's reflector
 * and store): LIST (paged) then WATCH from the list's resourceVersion with bookmarks; the
 * stream is re-opened from the last seen version when it ends; a 410 Gone — as the HTTP
 * status or as an in-stream ERROR event — means re-LIST, and the difference between the
 * cache and the new list is delivered as adds, updates and deletes. A periodic resync
 * re-delivers every cached object. Alternative paths (v1, then v1beta2) are tried in order
 * when the API answers 404 for a kind. */
#ifndef SMC_INFORMER_H
#define SMC_INFORMER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "watcher/kube_client.h"

#define INFORMER_MAX_PATHS 3
#define INFORMER_MAX_OBJECTS 50000   /* cached objects of one kind */
#define INFORMER_PAGE 500            /* LIST limit */
#define INFORMER_WATCH_TIMEOUT_S 300 /* server-side watch timeout */
#define INFORMER_RETRY_MIN_MS 500
#define INFORMER_RETRY_MAX_MS 30000
#define INFORMER_ABSENT_RETRY_MS 30000 /* kind not served: look again this often */

enum informer_event { INFORMER_ADD = 1, INFORMER_UPDATE = 2, INFORMER_DELETE = 3, INFORMER_RESYNC = 4 };

/* old is the cached object before an update (NULL otherwise); obj the new one (the last
 * known state for a delete). Both borrowed for the call. */
typedef void (*informer_fn)(void *arg, enum informer_event ev, const json_t *old,
			    const json_t *obj);

struct informer_opts {
	const char *paths[INFORMER_MAX_PATHS]; /* collection paths, NULL-terminated list */
	const char *label_selector;            /* or NULL */
	int64_t resync_ms;                     /* 0: no periodic resync */
};

struct informer;

/* kc borrowed (must outlive the informer); opts strings copied. Owned out-parameter. */
int informer_new(struct kube_client *kc, const struct informer_opts *opts, informer_fn fn,
		 void *arg, struct informer **out);
void informer_free(struct informer *inf);

/* Does what is due at now_ms: LIST (synchronous), (re)start the WATCH, resync. Watch
 * events arrive through kube_client_poll. */
int informer_step(struct informer *inf, int64_t now_ms, struct err_ctx *err);
/* Milliseconds until informer_step has something to do, -1 when only the watch runs. */
int64_t informer_next_ms(const struct informer *inf, int64_t now_ms);
/* true after the first complete LIST. */
bool informer_synced(const struct informer *inf);
/* true when every path answered 404 (the kind is not installed). */
bool informer_absent(const struct informer *inf);
/* The collection path in use (borrowed). */
const char *informer_path(const struct informer *inf);
/* Cached object by namespace and name (borrowed until the next event), or NULL. */
const json_t *informer_get(const struct informer *inf, const char *ns, const char *name);
/* All cached objects: a JSON object "ns/name" → object (borrowed). */
const json_t *informer_items(const struct informer *inf);
/* Last resourceVersion seen ("" before the first LIST). */
const char *informer_rv(const struct informer *inf);

/* The cache logic, without HTTP (exposed for tests). apply_list replaces the cache by a
 * List object's items, delivering the difference. apply_event applies one watch event;
 * *relist is set when the event says the version expired (ERROR 410). ERR_PROTO for an
 * event that makes no sense. */
int informer_apply_list(struct informer *inf, const json_t *list);
int informer_apply_event(struct informer *inf, const char *type, const json_t *obj,
			 bool *relist);
/* Forces a re-LIST at the next step (as after a 410). */
void informer_relist(struct informer *inf);

#endif
