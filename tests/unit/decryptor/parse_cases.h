/* parse_cases.h — the table harness shared by the raw-mode parser tests (test_parse_env.c,
 * test_parse_properties.c, test_parse_yaml.c): a row of accepted input with the keys,
 * values and "file:line" origins it must give, or a row of refused input with its code, a
 * substring of its message (which names the line) and a canary value that must never
 * reach the message. */
#ifndef SMC_TEST_PARSE_CASES_H
#define SMC_TEST_PARSE_CASES_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/kvlist.h"
#include "common/secbuf.h"

/* Table rows leave out the trailing optional fields (vlen, inlen), which are then 0. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define CANARY "C4N4RY-s3cr3t"
#define PARSE_CASES_MAX_WANT 8

struct parse_want {
	const char *key;
	const char *val;
	int line;
	size_t vlen; /* 0: strlen(val) */
};

struct parse_ok_case {
	const char *name;
	const char *in;
	struct parse_want w[PARSE_CASES_MAX_WANT];
	size_t nw;
	size_t inlen; /* 0: strlen(in) */
};

struct parse_bad_case {
	const char *name;
	const char *in;
	int rc;
	const char *msg_has; /* substring the message must contain */
	size_t inlen;	     /* 0: strlen(in) */
};

typedef int (*parse_cases_fn)(const char *, const uint8_t *, size_t, struct kvlist *,
			      struct err_ctx *);

/* How parse_cases_ok finds the wanted keys in the output list. */
enum parse_cases_order {
	PARSE_CASES_IN_ORDER, /* w[i] is the i-th entry */
	PARSE_CASES_BY_KEY,   /* w[i] is found by its key (order not specified) */
};

/* Each row parses as file, to exactly its wanted entries, each without a group. */
static void parse_cases_ok(parse_cases_fn parse, const char *file, enum parse_cases_order order,
			   const struct parse_ok_case *cases, size_t ncases)
{
	for (size_t c = 0; c < ncases; c++) {
		const struct parse_ok_case *k = &cases[c];
		size_t n = k->inlen ? k->inlen : strlen(k->in);
		struct err_ctx err = {{0}};
		struct kvlist l;
		int rc;

		kvlist_init(&l);
		rc = parse(file, (const uint8_t *)k->in, n, &l, &err);
		cr_assert_eq(rc, 0, "%s: rc %d (%s)", k->name, rc, err.msg);
		cr_assert_eq(l.n, k->nw, "%s: %zu keys", k->name, l.n);
		for (size_t i = 0; i < k->nw; i++) {
			const struct parse_want *w = &k->w[i];
			size_t vl = w->vlen ? w->vlen : strlen(w->val);
			const struct kv *kv;
			char origin[64];

			if (order == PARSE_CASES_BY_KEY) {
				kv = kvlist_find(&l, w->key);
				cr_assert_not_null(kv, "%s: key '%s' missing", k->name, w->key);
			} else {
				kv = &l.items[i];
				cr_assert_str_eq(kv->key, w->key, "%s: key %zu", k->name, i);
			}
			cr_assert(secbuf_eq_mem(kv->value, w->val, vl), "%s: value of %s", k->name,
				  w->key);
			snprintf(origin, sizeof(origin), "%s:%d", file, w->line);
			cr_assert_str_eq(kv->origin, origin, "%s: %s", k->name, w->key);
			cr_assert_null(kv->group, "%s: %s", k->name, w->key);
		}
		kvlist_free(&l);
	}
}

/* Each row is refused as file with its code and message, leaving the list empty. */
static void parse_cases_bad(parse_cases_fn parse, const char *file,
			    const struct parse_bad_case *cases, size_t ncases)
{
	for (size_t c = 0; c < ncases; c++) {
		const struct parse_bad_case *k = &cases[c];
		size_t n = k->inlen ? k->inlen : strlen(k->in);
		struct err_ctx err = {{0}};
		struct kvlist l;
		int rc;

		kvlist_init(&l);
		rc = parse(file, (const uint8_t *)k->in, n, &l, &err);
		cr_assert_eq(rc, k->rc, "%s: rc %d want %d (%s)", k->name, rc, k->rc, err.msg);
		cr_assert_eq(l.n, 0, "%s: out written on failure", k->name);
		cr_assert(strstr(err.msg, k->msg_has) != NULL, "%s: message '%s'", k->name,
			  err.msg);
		cr_assert(strstr(err.msg, CANARY) == NULL, "%s: value leaked", k->name);
	}
}

#endif
