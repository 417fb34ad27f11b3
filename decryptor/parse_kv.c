/* parse_kv.c — sorted views of a parser's output list (see parse_kv.h). */
#include "decryptor/parse_kv.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmalloc.h"

int parse_kv_cmp_key(const void *a, const void *b)
{
	const struct kv *x = *(const struct kv *const *)a, *y = *(const struct kv *const *)b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x < y ? -1 : (x > y);
}

int parse_kv_sorted(const struct kvlist *l, int (*cmp)(const void *, const void *),
		    const struct kv ***out)
{
	const struct kv **v;

	if (l == NULL || l->n == 0 || cmp == NULL || out == NULL)
		return ERR_INVAL;
	if ((v = xcalloc(l->n, sizeof(*v))) == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < l->n; i++)
		v[i] = &l->items[i];
	qsort(v, l->n, sizeof(*v), cmp);
	*out = v;
	return 0;
}
