/* parse_kv.h — what the raw-mode parsers (parse_env.c, parse_properties.c, parse_yaml.c)
 * and raw.c share over their output lists: the entries sorted by key, to find repeated
 * keys in O(n log n). */
#ifndef SMC_PARSE_KV_H
#define SMC_PARSE_KV_H

#include "common/kvlist.h"

/* qsort comparator over const struct kv *: by key, then by place in the list (so the
 * earlier of two equal keys sorts first). */
int parse_kv_cmp_key(const void *a, const void *b);

/* *out (owned, free()): pointers to the entries of l (borrowed: valid while l is not
 * changed), sorted with cmp (a qsort comparator over const struct kv *). l must hold at
 * least one entry. Returns 0, ERR_INVAL or ERR_NOMEM. */
int parse_kv_sorted(const struct kvlist *l, int (*cmp)(const void *, const void *),
		    const struct kv ***out);

#endif
