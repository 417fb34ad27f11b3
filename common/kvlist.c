/* kvlist.c — ordered key → secbuf list. */
#include "common/kvlist.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmalloc.h"

void kvlist_init(struct kvlist *l)
{
	l->items = NULL;
	l->n = l->cap = 0;
}

void kvlist_free(struct kvlist *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].origin);
		free(l->items[i].group);
		secbuf_free(l->items[i].value);
	}
	free(l->items);
	kvlist_init(l);
}

struct kv *kvlist_find(const struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].key, key) == 0)
			return &l->items[i];
	}
	return NULL;
}

int kvlist_add(struct kvlist *l, const char *key, struct secbuf *value, const char *origin)
{
	return kvlist_add_group(l, NULL, key, value, origin);
}

int kvlist_add_group(struct kvlist *l, const char *group, const char *key,
		     struct secbuf *value, const char *origin)
{
	struct kv *kv;

	if (l->n >= KVLIST_MAX_ITEMS) {
		secbuf_free(value);
		return ERR_TOOBIG;
	}
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct kv *p = xreallocarray(l->items, ncap, sizeof(*p));

		if (p == NULL) {
			secbuf_free(value);
			return ERR_NOMEM;
		}
		l->items = p;
		l->cap = ncap;
	}
	kv = &l->items[l->n];
	kv->key = xstrdup(key);
	kv->origin = origin ? xstrdup(origin) : NULL;
	kv->group = group ? xstrdup(group) : NULL;
	if (kv->key == NULL || (origin != NULL && kv->origin == NULL) ||
	    (group != NULL && kv->group == NULL)) {
		free(kv->key);
		free(kv->origin);
		free(kv->group);
		secbuf_free(value);
		return ERR_NOMEM;
	}
	kv->value = value;
	l->n++;
	return 0;
}

int kvlist_set(struct kvlist *l, const char *key, struct secbuf *value, const char *origin)
{
	struct kv *kv = kvlist_find(l, key);
	char *o = NULL;

	if (kv == NULL)
		return kvlist_add(l, key, value, origin);
	if (origin != NULL && (o = xstrdup(origin)) == NULL) {
		secbuf_free(value);
		return ERR_NOMEM;
	}
	secbuf_free(kv->value);
	free(kv->origin);
	kv->value = value;
	kv->origin = o;
	return 0;
}
