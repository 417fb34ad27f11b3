/* test_parse_env.c — the kustomize `.env` rules of decryptor/parse_env.c, one table row per
 * rule, plus every refusal with its line number and a canary value that must never appear
 * in an error message. The differential check against real kustomize is test_oracle_env.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decryptor/parse_env.h"
#include "parse_cases.h"

static const struct parse_ok_case ok_cases[] = {
	{"basic", "A=1\nB=two\n", {{"A", "1", 1}, {"B", "two", 2}}, 2},
	{"no final newline", "A=1\nB=2", {{"A", "1", 1}, {"B", "2", 2}}, 2},
	{"quotes are literal", "D=\"q\"\nE='s'\n", {{"D", "\"q\"", 1}, {"E", "'s'", 2}}, 2},
	{"export is part of the key", "export F=2\n", {{"export F", "2", 1}}, 1},
	{"split at first =", "G=a=b==\n", {{"G", "a=b==", 1}}, 1},
	{"CRLF drops one CR", "A=1\r\nB=2\r\r\n", {{"A", "1", 1}, {"B", "2\r", 2}}, 2},
	{"inner CR stays", "A=1\rB=2\n", {{"A", "1\rB=2", 1}}, 1},
	{"BOM on first line", "\xef\xbb\xbfK=1\n", {{"K", "1", 1}}, 1},
	{"BOM on later line stays", "#c\n\xef\xbb\xbfK=1\n", {{"\xef\xbb\xbfK", "1", 2}}, 1},
	{"BOM then spaces", "\xef\xbb\xbf  K=1\n", {{"K", "1", 1}}, 1},
	{"leading unicode space trimmed", "\t X=1\n\xc2\xa0Y=2\n\xe3\x80\x80Z=3\n\xc2\x85W=4\n",
	 {{"X", "1", 1}, {"Y", "2", 2}, {"Z", "3", 3}, {"W", "4", 4}}, 4},
	{"trailing spaces kept", "B = x \n", {{"B ", " x ", 1}}, 1},
	{"comments and blanks", "# c\n\n   # d\n\r\nK=v # not a comment\n",
	 {{"K", "v # not a comment", 5}}, 1},
	{"no = means empty", "C\nD=\n", {{"C", "", 1}, {"D", "", 2}}, 2},
	{"empty key skipped", "=v\n\v=w\nK=1\n", {{"K", "1", 3}}, 1},
	{"unicode", "\xc3\xa9=\xe2\x82\xac\xf0\x9f\x98\x80\n",
	 {{"\xc3\xa9", "\xe2\x82\xac\xf0\x9f\x98\x80", 1}}, 1},
	{"NUL in value", "A=x\0y\n", {{"A", "x\0y", 1, 3}}, 1, 6},
	{"odd keys kept", ".=1\n..a=2\n1A=3\na/b=4\n",
	 {{".", "1", 1}, {"..a", "2", 2}, {"1A", "3", 3}, {"a/b", "4", 4}}, 4},
	{"empty file", "", {{0}}, 0},
	{"only comments", "#a\n#b", {{0}}, 0},
};

Test(parse_env, table)
{
	parse_cases_ok(parse_env, "f.env", PARSE_CASES_IN_ORDER, ok_cases,
		       sizeof(ok_cases) / sizeof(ok_cases[0]));
}

static const struct parse_bad_case bad_cases[] = {
	{"invalid utf8", "A=1\nB=2\nC=" CANARY "\xff\n", ERR_INVAL, "f.env:3: invalid UTF-8"},
	{"surrogate", "A=" CANARY "\xed\xa0\x80\n", ERR_INVAL, "f.env:1:"},
	{"overlong", "A=" CANARY "\xc0\xaf\n", ERR_INVAL, "f.env:1:"},
	{"invalid utf8 in comment", "#\xff\n", ERR_INVAL, "f.env:1:"},
	{"repeated key", "#c\nA=" CANARY "\nB=2\nA=" CANARY "2\n", ERR_CONFLICT,
	 "f.env:4: key \"A\" repeats the key of line 2"},
	{"earliest repeat reported", "B=1\nA=1\nA=2\nB=2\n", ERR_CONFLICT,
	 "f.env:3: key \"A\" repeats the key of line 2"},
	{"NUL in key", "A\0B=" CANARY "\n", ERR_INVAL, "f.env:1: key contains a NUL byte",
	 11 + sizeof(CANARY) - 1 - 6},
};

Test(parse_env, errors)
{
	parse_cases_bad(parse_env, "f.env", bad_cases, sizeof(bad_cases) / sizeof(bad_cases[0]));
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
