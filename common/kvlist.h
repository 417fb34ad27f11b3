/* kvlist.h — an ordered list of key → secret value pairs: the desired state that the
 * decryptor produces and the syncer consumes. Values are secbufs; keys and origins are not
 * secret (they may be logged and reported). */
#ifndef SMC_KVLIST_H
#define SMC_KVLIST_H

#include <stddef.h>

#include "common/secbuf.h"

#define KVLIST_MAX_ITEMS 100000 /* more keys than this in one job is refused */

struct kv {
	char *key;            /* owned */
	struct secbuf *value; /* owned */
	char *origin;         /* owned, may be NULL: "file:line" or "Secret/name" it came from */
	char *group;          /* owned, may be NULL: naming group — in raw mode the service
	                         directory, whose name is the default prefix */
};

struct kvlist {
	struct kv *items;
	size_t n;
	size_t cap;
};

void kvlist_init(struct kvlist *l);
/* Frees every key, value and origin; the list is empty afterwards. NULL is a no-op. */
void kvlist_free(struct kvlist *l);
/* Appends key/value. Takes ownership of value (transfer, even on failure); copies key and
 * origin. */
int kvlist_add(struct kvlist *l, const char *key, struct secbuf *value, const char *origin);
/* kvlist_add with a naming group (copied; may be NULL). */
int kvlist_add_group(struct kvlist *l, const char *group, const char *key,
		     struct secbuf *value, const char *origin);
/* Like kvlist_add but a key already present gets the new value (last wins). */
int kvlist_set(struct kvlist *l, const char *key, struct secbuf *value, const char *origin);
/* Borrowed pointer valid until the list changes, NULL when absent. */
struct kv *kvlist_find(const struct kvlist *l, const char *key);

#endif
