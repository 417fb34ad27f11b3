/* test_parse_env.c — the kustomize `.env` rules of decryptor/parse_env.c, one table row per
 * rule, plus every refusal with its line number and a canary value that must never appear
 * in an error message. The differential check against real kustomize is test_oracle_env.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decryptor/parse_env.h"

#define CANARY "C4N4RY-s3cr3t"

struct want {
	const char *key;
	const char *val;
	size_t vlen; /* 0: strlen(val) */
	int line;
};

struct ok_case {
	const char *name;
	const char *in;
	size_t inlen; /* 0: strlen(in) */
	struct want w[6];
	size_t nw;
};

static const struct ok_case ok_cases[] = {
	{"basic", "A=1\nB=two\n", 0, {{"A", "1", 0, 1}, {"B", "two", 0, 2}}, 2},
	{"no final newline", "A=1\nB=2", 0, {{"A", "1", 0, 1}, {"B", "2", 0, 2}}, 2},
	{"quotes are literal", "D=\"q\"\nE='s'\n", 0, {{"D", "\"q\"", 0, 1}, {"E", "'s'", 0, 2}}, 2},
	{"export is part of the key", "export F=2\n", 0, {{"export F", "2", 0, 1}}, 1},
	{"split at first =", "G=a=b==\n", 0, {{"G", "a=b==", 0, 1}}, 1},
	{"CRLF drops one CR", "A=1\r\nB=2\r\r\n", 0, {{"A", "1", 0, 1}, {"B", "2\r", 0, 2}}, 2},
	{"inner CR stays", "A=1\rB=2\n", 0, {{"A", "1\rB=2", 0, 1}}, 1},
	{"BOM on first line", "\xef\xbb\xbfK=1\n", 0, {{"K", "1", 0, 1}}, 1},
	{"BOM on later line stays", "#c\n\xef\xbb\xbfK=1\n", 0, {{"\xef\xbb\xbfK", "1", 0, 2}}, 1},
	{"BOM then spaces", "\xef\xbb\xbf  K=1\n", 0, {{"K", "1", 0, 1}}, 1},
	{"leading unicode space trimmed", "\t X=1\n\xc2\xa0Y=2\n\xe3\x80\x80Z=3\n\xc2\x85W=4\n", 0,
	 {{"X", "1", 0, 1}, {"Y", "2", 0, 2}, {"Z", "3", 0, 3}, {"W", "4", 0, 4}}, 4},
	{"trailing spaces kept", "B = x \n", 0, {{"B ", " x ", 0, 1}}, 1},
	{"comments and blanks", "# c\n\n   # d\n\r\nK=v # not a comment\n", 0,
	 {{"K", "v # not a comment", 0, 5}}, 1},
	{"no = means empty", "C\nD=\n", 0, {{"C", "", 0, 1}, {"D", "", 0, 2}}, 2},
	{"empty key skipped", "=v\n\v=w\nK=1\n", 0, {{"K", "1", 0, 3}}, 1},
	{"unicode", "\xc3\xa9=\xe2\x82\xac\xf0\x9f\x98\x80\n", 0,
	 {{"\xc3\xa9", "\xe2\x82\xac\xf0\x9f\x98\x80", 0, 1}}, 1},
	{"NUL in value", "A=x\0y\n", 6, {{"A", "x\0y", 3, 1}}, 1},
	{"odd keys kept", ".=1\n..a=2\n1A=3\na/b=4\n", 0,
	 {{".", "1", 0, 1}, {"..a", "2", 0, 2}, {"1A", "3", 0, 3}, {"a/b", "4", 0, 4}}, 4},
	{"empty file", "", 0, {{0}}, 0},
	{"only comments", "#a\n#b", 0, {{0}}, 0},
};

Test(parse_env, table)
{
	for (size_t c = 0; c < sizeof(ok_cases) / sizeof(ok_cases[0]); c++) {
		const struct ok_case *k = &ok_cases[c];
		size_t n = k->inlen ? k->inlen : strlen(k->in);
		struct err_ctx err = {{0}};
		struct kvlist l;
		int rc;

		kvlist_init(&l);
		rc = parse_env("f.env", (const uint8_t *)k->in, n, &l, &err);
		cr_assert_eq(rc, 0, "%s: rc %d (%s)", k->name, rc, err.msg);
		cr_assert_eq(l.n, k->nw, "%s: %zu keys", k->name, l.n);
		for (size_t i = 0; i < k->nw; i++) {
			const struct want *w = &k->w[i];
			size_t vl = w->vlen ? w->vlen : strlen(w->val);
			char origin[64];

			cr_assert_str_eq(l.items[i].key, w->key, "%s: key %zu", k->name, i);
			cr_assert(secbuf_eq_mem(l.items[i].value, w->val, vl), "%s: value of %s",
				  k->name, w->key);
			snprintf(origin, sizeof(origin), "f.env:%d", w->line);
			cr_assert_str_eq(l.items[i].origin, origin, "%s", k->name);
			cr_assert_null(l.items[i].group);
		}
		kvlist_free(&l);
	}
}

struct bad_case {
	const char *name;
	const char *in;
	size_t inlen;
	int rc;
	const char *msg_has; /* substring the message must contain */
};

static const struct bad_case bad_cases[] = {
	{"invalid utf8", "A=1\nB=2\nC=" CANARY "\xff\n", 0, ERR_INVAL, "f.env:3: invalid UTF-8"},
	{"surrogate", "A=" CANARY "\xed\xa0\x80\n", 0, ERR_INVAL, "f.env:1:"},
	{"overlong", "A=" CANARY "\xc0\xaf\n", 0, ERR_INVAL, "f.env:1:"},
	{"invalid utf8 in comment", "#\xff\n", 0, ERR_INVAL, "f.env:1:"},
	{"repeated key", "#c\nA=" CANARY "\nB=2\nA=" CANARY "2\n", 0, ERR_CONFLICT,
	 "f.env:4: key \"A\" repeats the key of line 2"},
	{"earliest repeat reported", "B=1\nA=1\nA=2\nB=2\n", 0, ERR_CONFLICT,
	 "f.env:3: key \"A\" repeats the key of line 2"},
	{"NUL in key", "A\0B=" CANARY "\n", 11 + sizeof(CANARY) - 1 - 6, ERR_INVAL,
	 "f.env:1: key contains a NUL byte"},
};

Test(parse_env, errors)
{
	for (size_t c = 0; c < sizeof(bad_cases) / sizeof(bad_cases[0]); c++) {
		const struct bad_case *k = &bad_cases[c];
		size_t n = k->inlen ? k->inlen : strlen(k->in);
		struct err_ctx err = {{0}};
		struct kvlist l;
		int rc;

		kvlist_init(&l);
		rc = parse_env("f.env", (const uint8_t *)k->in, n, &l, &err);
		cr_assert_eq(rc, k->rc, "%s: rc %d want %d (%s)", k->name, rc, k->rc, err.msg);
		cr_assert_eq(l.n, 0, "%s: out written on failure", k->name);
		cr_assert(strstr(err.msg, k->msg_has) != NULL, "%s: message '%s'", k->name, err.msg);
		cr_assert(strstr(err.msg, CANARY) == NULL, "%s: value leaked", k->name);
	}
}

Test(parse_env, nul_key_length_is_right)
{
	/* the table row above computes its length by hand; check it covers the whole line */
	static const char in[] = "A\0B=" CANARY "\n";
	struct kvlist l;

	kvlist_init(&l);
	cr_assert_eq(parse_env("f.env", (const uint8_t *)in, sizeof(in) - 1, &l, NULL), ERR_INVAL);
	cr_assert_eq(sizeof(in) - 1, 11 + sizeof(CANARY) - 1 - 6);
}

Test(parse_env, line_too_long)
{
	size_t n = PARSE_ENV_MAX_LINE + 1 + 4;
	char *in = malloc(n + 1);
	struct err_ctx err = {{0}};
	struct kvlist l;

	memcpy(in, "A=1\n", 4);
	memset(in + 4, 'x', n - 4);
	in[6] = '='; /* "xx=xxx..." on line 2 */
	kvlist_init(&l);
	cr_assert_eq(parse_env("f.env", (uint8_t *)in, n, &l, &err), ERR_TOOBIG);
	cr_assert(strstr(err.msg, "f.env:2:") != NULL, "%s", err.msg);
	/* exactly at the limit (a final CR counts) is fine */
	n = PARSE_ENV_MAX_LINE;
	in[4 + n - 1] = '\r';
	cr_assert_eq(parse_env("f.env", (uint8_t *)in + 4, n, &l, &err), 0, "%s", err.msg);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.items[0].value->len, PARSE_ENV_MAX_LINE - 4);
	kvlist_free(&l);
	free(in);
}

Test(parse_env, too_many_keys)
{
	size_t cap = (PARSE_ENV_MAX_KEYS + 1) * 12, len = 0;
	char *in = malloc(cap);
	struct err_ctx err = {{0}};
	struct kvlist l;

	for (int i = 0; i <= PARSE_ENV_MAX_KEYS; i++)
		len += (size_t)snprintf(in + len, cap - len, "K%d=v\n", i);
	kvlist_init(&l);
	cr_assert_eq(parse_env("f.env", (uint8_t *)in, len, &l, &err), ERR_TOOBIG);
	cr_assert(strstr(err.msg, "f.env:10001:") != NULL, "%s", err.msg);
	/* one fewer is accepted */
	len -= strlen("K10000=v\n");
	cr_assert_eq(parse_env("f.env", (uint8_t *)in, len, &l, &err), 0, "%s", err.msg);
	cr_assert_eq(l.n, PARSE_ENV_MAX_KEYS);
	kvlist_free(&l);
	free(in);
}

Test(parse_env, output_must_be_empty)
{
	struct kvlist l;
	struct secbuf *v;

	kvlist_init(&l);
	cr_assert_eq(secbuf_from(&v, "x", 1), 0);
	cr_assert_eq(kvlist_add(&l, "X", v, NULL), 0);
	cr_assert_eq(parse_env("f.env", (const uint8_t *)"A=1", 3, &l, NULL), ERR_INVAL);
	cr_assert_eq(l.n, 1);
	kvlist_free(&l);
}
