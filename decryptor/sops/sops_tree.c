/* sops_tree.c — ordered document model (see sops_tree.h). */
#include "decryptor/sops/sops_tree.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

int sops_node_new(struct sops_tree *t, enum sops_kind kind, struct sops_node **out)
{
	struct sops_node *n;

	if (t != NULL) {
		if (t->nodes >= SOPS_MAX_NODES)
			return ERR_TOOBIG;
		t->nodes++;
	}
	n = xcalloc(1, sizeof(*n));
	if (n == NULL)
		return ERR_NOMEM;
	n->kind = kind;
	n->type = kind == SOPS_SCALAR ? SOPS_T_STR : SOPS_T_NULL;
	*out = n;
	return 0;
}

int sops_node_set_value(struct sops_node *n, const void *p, size_t len)
{
	struct secbuf *s;
	int rc;

	if (len > SOPS_MAX_VALUE)
		return ERR_TOOBIG;
	if ((rc = secbuf_new(&s, SOPS_MAX_VALUE)) != 0)
		return rc;
	if ((rc = secbuf_put(s, p, len)) != 0) {
		secbuf_free(s);
		return rc;
	}
	secbuf_free(n->value);
	n->value = s;
	return 0;
}

int sops_node_set_key(struct sops_node *n, const char *key, size_t len)
{
	char *k;

	if (len > SOPS_MAX_KEY)
		return ERR_TOOBIG;
	k = xstrndup(key, len);
	if (k == NULL)
		return ERR_NOMEM;
	free(n->key);
	n->key = k;
	return 0;
}

int sops_node_append(struct sops_node *parent, struct sops_node *child)
{
	if (parent->n == parent->cap) {
		size_t ncap = parent->cap ? parent->cap * 2 : 4;
		struct sops_node **ni = xreallocarray(parent->items, ncap, sizeof(*ni));

		if (ni == NULL) {
			sops_node_free(child);
			return ERR_NOMEM;
		}
		parent->items = ni;
		parent->cap = ncap;
	}
	parent->items[parent->n++] = child;
	return 0;
}

int sops_node_copy(struct sops_tree *t, const struct sops_node *src, struct sops_node **out)
{
	struct sops_node *n = NULL, *c;
	size_t i;
	int rc;

	if ((rc = sops_node_new(t, src->kind, &n)) != 0)
		return rc;
	n->type = src->type;
	n->quoted = src->quoted;
	n->line = src->line;
	if (src->key != NULL && (rc = sops_node_set_key(n, src->key, strlen(src->key))) != 0)
		goto fail;
	if (src->value != NULL &&
	    (rc = sops_node_set_value(n, src->value->data, src->value->len)) != 0)
		goto fail;
	for (i = 0; i < src->n; i++) {
		if ((rc = sops_node_copy(t, src->items[i], &c)) != 0 ||
		    (rc = sops_node_append(n, c)) != 0)
			goto fail;
	}
	*out = n;
	return 0;
fail:
	sops_node_free(n);
	return rc;
}

void sops_node_free(struct sops_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		sops_node_free(n->items[i]);
	free(n->items);
	free(n->key);
	secbuf_free(n->value);
	free(n);
}

struct sops_node *sops_node_get(const struct sops_node *m, const char *key)
{
	size_t i;

	if (m == NULL || m->kind != SOPS_MAP)
		return NULL;
	for (i = 0; i < m->n; i++)
		if (m->items[i]->key != NULL && strcmp(m->items[i]->key, key) == 0)
			return m->items[i];
	return NULL;
}

struct sops_node *sops_node_take(struct sops_node *m, const char *key)
{
	struct sops_node *r;
	size_t i;

	for (i = 0; m != NULL && i < m->n; i++) {
		if (m->items[i]->key != NULL && strcmp(m->items[i]->key, key) == 0) {
			r = m->items[i];
			memmove(&m->items[i], &m->items[i + 1], (m->n - i - 1) * sizeof(*m->items));
			m->n--;
			return r;
		}
	}
	return NULL;
}

int sops_tree_add_doc(struct sops_tree *t, struct sops_node *doc)
{
	struct sops_node **nd;

	if (t->ndocs >= SOPS_MAX_DOCS) {
		sops_node_free(doc);
		return ERR_TOOBIG;
	}
	nd = xreallocarray(t->docs, t->ndocs + 1, sizeof(*nd));
	if (nd == NULL) {
		sops_node_free(doc);
		return ERR_NOMEM;
	}
	t->docs = nd;
	t->docs[t->ndocs++] = doc;
	return 0;
}

void sops_tree_clear(struct sops_tree *t)
{
	size_t i;

	for (i = 0; i < t->ndocs; i++)
		sops_node_free(t->docs[i]);
	free(t->docs);
	t->docs = NULL;
	t->ndocs = 0;
	t->nodes = 0;
}
