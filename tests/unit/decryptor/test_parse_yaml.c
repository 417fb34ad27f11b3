/* test_parse_yaml.c — flattening rules of decryptor/parse_yaml.c (one row per rule), the
 * alias/merge handling, the expansion and depth caps, and every refusal with its line and a
 * canary value that must never reach an error message. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decryptor/parse_yaml.h"
#include "parse_cases.h"

static const struct parse_ok_case ok_cases[] = {
	{"nested maps", "a:\n  b: 1\n  c: x\nd: y\n", {{"a.b", "1", 2}, {"a.c", "x", 3}, {"d", "y", 4}}, 3},
	{"sequences", "a:\n  - x\n  - b: y\n    c: [1, 2]\n",
	 {{"a[0]", "x", 2}, {"a[1].b", "y", 3}, {"a[1].c[0]", "1", 4}, {"a[1].c[1]", "2", 4}}, 4},
	{"nested sequences", "a: [[p, q], [r]]\n", {{"a[0][0]", "p", 1}, {"a[0][1]", "q", 1}, {"a[1][0]", "r", 1}}, 3},
	{"scalars as written", "t: true\nh: 0x10\nf: 1.0\nq: '1.0'\nd: \"x\\ty\"\no: 010\nn: -.inf\n",
	 {{"t", "true", 1}, {"h", "0x10", 2}, {"f", "1.0", 3}, {"q", "1.0", 4}, {"d", "x\ty", 5}, {"o", "010", 6}, {"n", "-.inf", 7}}, 7},
	{"nulls", "a: ~\nb: null\nc:\nd: 'null'\ne: NULL\nf: \"\"\ng: !!null x\n",
	 {{"a", "", 1}, {"b", "", 2}, {"c", "", 3}, {"d", "null", 4}, {"e", "", 5}, {"f", "", 6}, {"g", "", 7}}, 7},
	{"block scalars", "a: |\n  l1\n  l2\nb: >-\n  f1\n  f2\n", {{"a", "l1\nl2\n", 1}, {"b", "f1 f2", 4}}, 2},
	{"alias", "base: &b\n  u: x\nother: *b\ns: &s v\nt: *s\n",
	 {{"base.u", "x", 2}, {"other.u", "x", 2}, {"s", "v", 4}, {"t", "v", 5}}, 4},
	{"merge key", "base: &b\n  u: x\n  v: y\nsvc:\n  v: z\n  <<: *b\n  w: 1\n",
	 {{"base.u", "x", 2}, {"base.v", "y", 3}, {"svc.v", "z", 5}, {"svc.w", "1", 7}, {"svc.u", "x", 2}}, 5},
	{"merge sequence, earlier first", "a: &a {k: 1, j: 1}\nb: &b {k: 2, m: 2}\nc:\n  <<: [*a, *b]\n",
	 {{"a.k", "1", 1}, {"a.j", "1", 1}, {"b.k", "2", 2}, {"b.m", "2", 2}, {"c.k", "1", 1}, {"c.j", "1", 1}, {"c.m", "2", 2}}, 7},
	{"quoted << is a key", "'<<': x\n", {{"<<", "x", 1}}, 1},
	{"empty collections give nothing", "a: {}\nb: []\nc: 1\n", {{"c", "1", 3}}, 1},
	{"non-string keys", "1: x\ntrue: y\n", {{"1", "x", 1}, {"true", "y", 2}}, 2},
	{"unicode", "cl\xc3\xa9: \"\\u20ac\"\n", {{"cl\xc3\xa9", "\xe2\x82\xac", 1}}, 1},
	{"document markers", "---\na: 1\n...\n", {{"a", "1", 2}}, 1},
	{"empty file", "", {{0}}, 0},
	{"comments only", "# nothing\n", {{0}}, 0},
	{"bare document start", "---\n", {{0}}, 0},
};

Test(parse_yaml, table)
{
	parse_cases_ok(parse_yaml, "s.yaml", PARSE_CASES_IN_ORDER, ok_cases,
		       sizeof(ok_cases) / sizeof(ok_cases[0]));
}

static const struct parse_bad_case bad_cases[] = {
	{"two documents", "a: " CANARY "\n---\nb: 2\n", ERR_INVAL, "s.yaml:2: more than one YAML document"},
	{"top-level sequence", "- " CANARY "\n", ERR_INVAL, "s.yaml:1: the top level must be a mapping"},
	{"top-level scalar", CANARY "\n", ERR_INVAL, "s.yaml:1: the top level must be a mapping"},
	{"non-scalar key", "a: 1\n? [" CANARY "]\n: 1\n", ERR_INVAL, "s.yaml:2: a key must be a scalar"},
	{"repeated key", "a: 1\nb:\n  c: " CANARY "\n  c: 2\n", ERR_CONFLICT, "s.yaml:4: key \"c\" repeated"},
	{"flattened collision", "a.b: " CANARY "\na:\n  b: 2\n", ERR_CONFLICT, "key \"a.b\" given twice, at s.yaml:1 and s.yaml:3"},
	{"syntax error", "a: 1\nb: [" CANARY "\n", ERR_INVAL, "s.yaml:3:"},
	{"bad indentation", "a: 1\n b: " CANARY "\n", ERR_INVAL, "s.yaml:2:"},
	{"unclosed quote", "a: \"" CANARY "\n", ERR_INVAL, "s.yaml:"},
	{"undefined alias", "a: " CANARY "\nb: *nope\n", ERR_INVAL, "s.yaml:2:"},
	{"merge of a scalar", "a: " CANARY "\nb:\n  <<: x\n", ERR_INVAL, "s.yaml:3: a merge key takes"},
	{"merge of a sequence of scalars", "b:\n  <<: [" CANARY "]\n", ERR_INVAL, "s.yaml:2: a merge key takes"},
	{"NUL in key", "\"a\\0b\": " CANARY "\n", ERR_INVAL, "s.yaml:1: key contains U+0000"},
};

Test(parse_yaml, errors)
{
	parse_cases_bad(parse_yaml, "s.yaml", bad_cases, sizeof(bad_cases) / sizeof(bad_cases[0]));
}

Test(parse_yaml, billion_laughs_refused)
{
	static const char in[] =
		"s: " CANARY "\n"
		"a: &a [[], [], [], [], [], [], [], [], []]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
		"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	struct err_ctx err = {{0}};
	struct kvlist l;

	kvlist_init(&l);
	cr_assert_eq(parse_yaml("s.yaml", (const uint8_t *)in, sizeof(in) - 1, &l, &err),
		     ERR_TOOBIG, "%s", err.msg);
	cr_assert(strstr(err.msg, "nodes once aliases are expanded") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, CANARY) == NULL);
	cr_assert_eq(l.n, 0);
}

Test(parse_yaml, merge_bomb_refused)
{
	/* merges dedupe keys, but each gather still costs: the cap must bound the work */
	char in[4096];
	size_t n = 0;

	n += (size_t)snprintf(in + n, sizeof(in) - n, "a0: &a0 {k: v, j: w}\n");
	for (int i = 1; i < 30; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n, "a%d: &a%d {<<: [*a%d, *a%d]}\n", i, i,
				      i - 1, i - 1);
	struct err_ctx err = {{0}};
	struct kvlist l;

	kvlist_init(&l);
	cr_assert_eq(parse_yaml("s.yaml", (const uint8_t *)in, n, &l, &err), ERR_TOOBIG, "%s",
		     err.msg);
}

Test(parse_yaml, depth_capped)
{
	char in[1024];
	size_t n = 0;
	struct err_ctx err = {{0}};
	struct kvlist l;

	for (int i = 0; i < PARSE_YAML_MAX_DEPTH + 2; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n, "{a: ");
	n += (size_t)snprintf(in + n, sizeof(in) - n, "x");
	for (int i = 0; i < PARSE_YAML_MAX_DEPTH + 2; i++)
		in[n++] = '}';
	kvlist_init(&l);
	cr_assert_eq(parse_yaml("s.yaml", (const uint8_t *)in, n, &l, &err), ERR_TOOBIG, "%s",
		     err.msg);
	cr_assert(strstr(err.msg, "nesting deeper than") != NULL, "%s", err.msg);
	/* at the cap it still works */
	n = 0;
	for (int i = 0; i < PARSE_YAML_MAX_DEPTH; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n, "{a: ");
	n += (size_t)snprintf(in + n, sizeof(in) - n, "x");
	for (int i = 0; i < PARSE_YAML_MAX_DEPTH; i++)
		in[n++] = '}';
	cr_assert_eq(parse_yaml("s.yaml", (const uint8_t *)in, n, &l, &err), 0, "%s", err.msg);
	cr_assert_eq(l.n, 1);
	kvlist_free(&l);
}

Test(parse_yaml, alias_cycle_refused)
{
	static const char in[] = "a: &a [x, *a]\n";
	struct kvlist l;
	int rc;

	kvlist_init(&l);
	rc = parse_yaml("s.yaml", (const uint8_t *)in, sizeof(in) - 1, &l, NULL);
	cr_assert(rc == ERR_TOOBIG || rc == ERR_INVAL, "rc %d", rc);
	cr_assert_eq(l.n, 0);
}

Test(parse_yaml, too_many_keys)
{
	size_t cap = (PARSE_YAML_MAX_KEYS + 2) * 12, len = 0;
	char *in = malloc(cap);
	struct err_ctx err = {{0}};
	struct kvlist l;

	len += (size_t)snprintf(in + len, cap - len, "a: [");
	for (int i = 0; i <= PARSE_YAML_MAX_KEYS; i++)
		len += (size_t)snprintf(in + len, cap - len, "%s1", i ? "," : "");
	len += (size_t)snprintf(in + len, cap - len, "]\n");
	kvlist_init(&l);
	cr_assert_eq(parse_yaml("s.yaml", (uint8_t *)in, len, &l, &err), ERR_TOOBIG, "%s", err.msg);
	cr_assert(strstr(err.msg, "more than 10000 keys") != NULL, "%s", err.msg);
	free(in);
}

Test(parse_yaml, key_length_capped)
{
	/* libyaml caps one simple key at 1024 characters itself: nest two long keys */
	char in[2 * PARSE_YAML_MAX_KEY];
	struct err_ctx err = {{0}};
	struct kvlist l;
	size_t a = 600, b = 600, n;

	for (int pass = 0; pass < 2; pass++) {
		n = 0;
		memset(in, 'k', a);
		n += a;
		memcpy(in + n, ":\n  ", 4);
		n += 4;
		memset(in + n, 'j', b);
		n += b;
		memcpy(in + n, ": v\n", 4);
		n += 4;
		kvlist_init(&l);
		if (pass == 0) {
			cr_assert_eq(parse_yaml("s.yaml", (uint8_t *)in, n, &l, &err), ERR_TOOBIG,
				     "%s", err.msg);
			cr_assert(strstr(err.msg, "s.yaml:2: flattened key longer") != NULL, "%s",
				  err.msg);
			a = 511; /* 511 + '.' + 512 = the cap exactly */
			b = 512;
		} else {
			cr_assert_eq(parse_yaml("s.yaml", (uint8_t *)in, n, &l, &err), 0, "%s",
				     err.msg);
			cr_assert_eq(strlen(l.items[0].key), PARSE_YAML_MAX_KEY);
			kvlist_free(&l);
		}
	}
}
