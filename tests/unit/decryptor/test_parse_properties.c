/* test_parse_properties.c — the java.util.Properties.load rules of
 * decryptor/parse_properties.c, one table row per rule, and every refusal with its line
 * number and a canary value that must never reach an error message. The differential check
 * against a real JVM is test_oracle_properties.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decryptor/parse_properties.h"
#include "parse_cases.h"

static const struct parse_ok_case ok_cases[] = {
	{"separators", "a=1\nb:2\nc 3\nd\t4\ne\f5\n", {{"a", "1", 1}, {"b", "2", 2}, {"c", "3", 3}, {"d", "4", 4}, {"e", "5", 5}}, 5},
	{"space around separator", "a   =   b  \nc : = d\n", {{"a", "b  ", 1}, {"c", "= d", 2}}, 2},
	{"second separator is value", "a:=b\nb==c\n", {{"a", "=b", 1}, {"b", "=c", 2}}, 2},
	{"\\u across a continuation", "a=\\u00\\\n  41\n", {{"a", "A", 1}}, 1},
	{"key only", "alone\n  lone2  \n", {{"alone", "", 1}, {"lone2", "", 2}}, 2},
	{"comments", "# c\n  ! c2\n\t#c3\na=1#not\n", {{"a", "1#not", 4}}, 1},
	{"continuation", "a=b\\\n    c\\\n\td\n", {{"a", "bcd", 1}}, 1},
	{"continuation CRLF and CR", "a=b\\\r\n c\r\nd=e\\\r f\r", {{"a", "bc", 1}, {"d", "ef", 3}}, 2},
	{"even backslashes do not continue", "a=b\\\\\nc=d\n", {{"a", "b\\", 1}, {"c", "d", 2}}, 2},
	{"continuation then blank line", "a=b\\\n\nc=d\n", {{"a", "b", 1}, {"c", "d", 3}}, 2},
	{"comment never continues", "#x\\\na=1\n", {{"a", "1", 2}}, 1},
	{"continued # is text", "a=b\\\n#c\n", {{"a", "b#c", 1}}, 1},
	{"escapes", "a=\\t\\n\\r\\f\\x\\\\\\b\n", {{"a", "\t\n\r\fx\\b", 1}}, 1},
	{"unicode escapes", "a=\\u00e9\\u20AC\\uD83D\\uDE00\n", {{"a", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 1}}, 1},
	{"escaped separators in key", "a\\=b\\:c\\ d=v\n", {{"a=b:c d", "v", 1}}, 1},
	{"escaped key", "\\u0041\\#=1\n", {{"A#", "1", 1}}, 1},
	{"last wins", "a=1\nb=x\na=2\n", {{"a", "2", 3}, {"b", "x", 2}}, 2},
	{"BOM is part of the key", "\xef\xbb\xbf" "a=1\n", {{"\xef\xbb\xbf" "a", "1", 1}}, 1},
	{"backslash at EOF dropped", "a=b\\", {{"a", "b", 1}}, 1},
	{"empty key", "=v\n:w\n", {{"", "w", 2}}, 1},
	{"utf8 text", "cl\xc3\xa9=\xe2\x82\xac 1\n", {{"cl\xc3\xa9", "\xe2\x82\xac 1", 1}}, 1},
	{"origin of continued key", "x=1\na=b\\\n c\nd=2\n", {{"x", "1", 1}, {"a", "bc", 2}, {"d", "2", 4}}, 3},
	{"continued empty line then # is a comment", "\\\n#x=1\ny=2\n", {{"y", "2", 3}}, 1},
	{"replaced lone surrogate is fine", "a=\\uD83D\nb=1\na=ok\n", {{"a", "ok", 3}, {"b", "1", 2}}, 2},
	{"empty", "", {{0}}, 0},
	{"blank lines only", "\n\r\n  \t\n", {{0}}, 0},
};

Test(parse_properties, table)
{
	parse_cases_ok(parse_properties, "a.properties", PARSE_CASES_BY_KEY, ok_cases,
		       sizeof(ok_cases) / sizeof(ok_cases[0]));
}

Test(parse_properties, nul_in_value_is_kept)
{
	struct kvlist l;

	kvlist_init(&l);
	cr_assert_eq(parse_properties("p", (const uint8_t *)"a=x\\u0000y", 10, &l, NULL), 0);
	cr_assert(secbuf_eq_mem(l.items[0].value, "x\0y", 3));
	kvlist_free(&l);
}

static const struct parse_bad_case bad_cases[] = {
	{"short \\u", "a=1\nb=" CANARY "\\u12", ERR_INVAL, "a.properties:2: malformed \\uxxxx encoding"},
	{"non-hex \\u", "#c\n\nb=" CANARY "\\u12G4x\n", ERR_INVAL, "a.properties:3: malformed"},
	{"bad \\u in key", "k\\uZZZZ=" CANARY "\n", ERR_INVAL, "a.properties:1: malformed"},
	{"lone high surrogate", "a=" CANARY "\\uD83D\n", ERR_INVAL, "a.properties:1: \\u escape gives an unpaired surrogate"},
	{"lone low surrogate", "a=" CANARY "\\uDE00\n", ERR_INVAL, "unpaired surrogate"},
	{"high + non-low", "a=" CANARY "\\uD83D\\u0041\n", ERR_INVAL, "unpaired surrogate"},
	{"lone surrogate in key", "k\\uD83D=" CANARY "\n", ERR_INVAL, "a.properties:1: \\u escape gives an unpaired"},
	{"lone surrogate kept to the end", "a=" CANARY "\\uDE00\nb=1\n", ERR_INVAL, "a.properties:1: \\u escape gives"},
	{"invalid utf8", "a=1\r\nb=2\rc=" CANARY "\xff\n", ERR_INVAL, "a.properties:3: invalid UTF-8"},
	{"NUL key", "a\\u0000b=" CANARY "\n", ERR_INVAL, "a.properties:1: key contains U+0000"},
};

Test(parse_properties, errors)
{
	parse_cases_bad(parse_properties, "a.properties", bad_cases, sizeof(bad_cases) / sizeof(bad_cases[0]));
}

Test(parse_properties, logical_line_limit)
{
	size_t half = PARSE_PROPERTIES_MAX_LINE / 2 + 8, n = 0;
	char *in = malloc(2 * half + 64);
	struct err_ctx err = {{0}};
	struct kvlist l;

	n += (size_t)snprintf(in, 64, "x=1\nk=");
	memset(in + n, 'v', half);
	n += half;
	memcpy(in + n, "\\\n   ", 5); /* continued: the logical line passes the limit */
	n += 5;
	memset(in + n, 'w', half);
	n += half;
	kvlist_init(&l);
	cr_assert_eq(parse_properties("p", (uint8_t *)in, n, &l, &err), ERR_TOOBIG);
	cr_assert(strstr(err.msg, "p:2: logical line longer") != NULL, "%s", err.msg);
	/* without the continuation each line fits */
	in[4 + 2 + half] = 'z';
	cr_assert_eq(parse_properties("p", (uint8_t *)in, n, &l, &err), 0, "%s", err.msg);
	cr_assert_eq(l.n, 3); /* x, k, and the w... line as a key */
	kvlist_free(&l);
	free(in);
}

Test(parse_properties, too_many_keys)
{
	size_t cap = (PARSE_PROPERTIES_MAX_KEYS + 2) * 12, len = 0;
	char *in = malloc(cap);
	struct err_ctx err = {{0}};
	struct kvlist l;

	for (int i = 0; i < PARSE_PROPERTIES_MAX_KEYS; i++)
		len += (size_t)snprintf(in + len, cap - len, "K%d=v\n", i);
	len += (size_t)snprintf(in + len, cap - len, "K0=again\n"); /* an existing key is fine */
	kvlist_init(&l);
	cr_assert_eq(parse_properties("p", (uint8_t *)in, len, &l, &err), 0, "%s", err.msg);
	cr_assert_eq(l.n, PARSE_PROPERTIES_MAX_KEYS);
	kvlist_free(&l);
	len += (size_t)snprintf(in + len, cap - len, "new=v\n");
	cr_assert_eq(parse_properties("p", (uint8_t *)in, len, &l, &err), ERR_TOOBIG);
	cr_assert(strstr(err.msg, "p:10002:") != NULL, "%s", err.msg);
	free(in);
}

Test(parse_properties, many_redefinitions_are_fast_and_bounded)
{
	/* 10000 keys, then the last one redefined 80000 times: last wins, no quadratic scan */
	size_t cap = (size_t)(PARSE_PROPERTIES_MAX_DEFS + 10) * 12, len = 0;
	char *in = malloc(cap);
	struct err_ctx err = {{0}};
	struct kvlist l;
	int i;

	for (i = 0; i < PARSE_PROPERTIES_MAX_KEYS; i++)
		len += (size_t)snprintf(in + len, cap - len, "K%d=v\n", i);
	for (; i < PARSE_PROPERTIES_MAX_DEFS; i++)
		len += (size_t)snprintf(in + len, cap - len, "K9999=%d\n", i);
	kvlist_init(&l);
	cr_assert_eq(parse_properties("p", (uint8_t *)in, len, &l, &err), 0, "%s", err.msg);
	cr_assert_eq(l.n, PARSE_PROPERTIES_MAX_KEYS);
	cr_assert_str_eq(l.items[l.n - 1].key, "K9999");
	cr_assert(secbuf_eq_mem(l.items[l.n - 1].value, "99999", 5));
	cr_assert_str_eq(l.items[l.n - 1].origin, "p:100000");
	kvlist_free(&l);
	len += (size_t)snprintf(in + len, cap - len, "K1=again\n");
	cr_assert_eq(parse_properties("p", (uint8_t *)in, len, &l, &err), ERR_TOOBIG);
	cr_assert(strstr(err.msg, "p:100001: more than 100000 definitions") != NULL, "%s", err.msg);
	free(in);
}
