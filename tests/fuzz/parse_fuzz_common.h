/* parse_fuzz_common.h — shared body of the raw-mode parser fuzz targets (parse_env,
 * parse_properties, parse_yaml). Any input must give either a refusal with one of the
 * documented codes, an untouched output list and a message that starts with the file name,
 * or a list whose every entry has a key, a value and an origin "f:<line>"; the same input
 * must parse the same way twice. */
#ifndef SMC_PARSE_FUZZ_COMMON_H
#define SMC_PARSE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/kvlist.h"
#include "common/secbuf.h"

typedef int (*parse_fuzz_fn)(const char *, const uint8_t *, size_t, struct kvlist *,
			     struct err_ctx *);

/* Runs parse on data and aborts on any broken property. conflict_ok: ERR_CONFLICT is one
 * of the parser's documented refusals (besides ERR_NOMEM, ERR_INVAL, ERR_TOOBIG). */
static int parse_fuzz_one(parse_fuzz_fn parse, int conflict_ok, const uint8_t *data, size_t size)
{
	struct err_ctx err = {{0}};
	struct kvlist l, again;
	int rc, rc2;

	kvlist_init(&l);
	kvlist_init(&again);
	rc = parse("f", data, size, &l, &err);
	if (rc != 0) {
		if (!(rc == ERR_NOMEM || rc == ERR_INVAL || (conflict_ok && rc == ERR_CONFLICT) ||
		      rc == ERR_TOOBIG))
			abort();
		if (l.n != 0 || strncmp(err.msg, "f:", 2) != 0)
			abort();
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct kv *kv = &l.items[i];

		if (kv->key == NULL || kv->value == NULL || kv->origin == NULL ||
		    strncmp(kv->origin, "f:", 2) != 0 || kv->origin[2] < '1' || kv->origin[2] > '9')
			abort();
	}
	rc2 = parse("f", data, size, &again, NULL);
	if (rc2 != rc || again.n != l.n)
		abort();
	for (size_t i = 0; i < l.n; i++) {
		if (strcmp(l.items[i].key, again.items[i].key) != 0 ||
		    !secbuf_eq(l.items[i].value, again.items[i].value))
			abort();
	}
	kvlist_free(&again);
	kvlist_free(&l);
	return 0;
}

#endif
