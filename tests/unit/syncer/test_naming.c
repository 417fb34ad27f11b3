/* test_naming.c — remote names per reference-controller.md §2.8 and provider rules. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "syncer/naming.h"

struct name_case {
	const char *kind, *prefix, *key, *suffix, *want;
};

static const struct name_case name_cases[] = {
	/* reference examples: dots, slashes, spaces */
	{"gcp", "", "database.url", "", "database_url"},
	{"gcp", NULL, "a/b c", NULL, "a_b_c"},
	{"gcp", "svc", "spring.datasource.password", "", "svc-spring_datasource_password"},
	{"aws", "", "a.b/c d", "", "a_b_c_d"},
	/* suffix with leading dash(es) stripped */
	{"gcp", "svc", "KEY", "-prod", "svc-KEY-prod"},
	{"gcp", "svc", "KEY", "---prod", "svc-KEY-prod"},
	{"gcp", "svc", "KEY", "-", "svc-KEY"},
	/* runs of dashes collapse, ends trimmed, case kept */
	{"gcp", "", "a---b", "", "a-b"},
	{"gcp", "p-", "-k", "", "p-k"},
	{"gcp", "", "-Mixed-Case-", "", "Mixed-Case"},
	{"local", "", "__x__", "", "__x__"},
	{"local", "team", "db.password", "dev", "team-db_password-dev"},
	{"gcp", "", ".", "", "_"},
	{"gcp", "", "a=b+c@d", "", "a_b_c_d"},
	/* non-alphanumeric non-ASCII code points → one '_' each */
	{"gcp", "", "a\xf0\x9f\x98\x80" "b", "", "a_b"},   /* emoji */
	{"aws", "", "price\xe2\x82\xac", "", "price_"},      /* euro sign */
	{"local", "", "x\xe2\x80\x94y", "", "x_y"},          /* em dash */
	/* azure: '_' → '-', then collapse and trim again */
	{"azure", "", "DATABASE_URL", "", "DATABASE-URL"},
	{"azure", "", "a_-_b", "", "a-b"},
	{"azure", "", "_a.b_", "", "a-b"},
	{"azure", "svc", "spring.datasource.url", "prod", "svc-spring-datasource-url-prod"},
	/* aws keeps the reference output */
	{"aws", "svc", "DATABASE_URL", "", "svc-DATABASE_URL"},
};

Test(naming, reference_table)
{
	for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		const struct name_case *c = &name_cases[i];
		struct err_ctx err = {{0}};
		char *got = NULL;
		int rc = naming_remote_name(c->kind, c->prefix, c->key, c->suffix, &got, &err);

		cr_assert_eq(rc, 0, "case %zu (%s): rc %d: %s", i, c->key, rc, err.msg);
		cr_expect_str_eq(got, c->want, "case %zu (%s)", i, c->key);
		free(got);
	}
}

Test(naming, unicode_alphanumerics_refused_for_every_provider)
{
	static const char *const kinds[] = {"local", "gcp", "aws", "azure"};

	for (size_t i = 0; i < 4; i++) {
		struct err_ctx err = {{0}};
		char *got = (char *)0x1;
		int rc = naming_remote_name(kinds[i], "", "caf\xc3\xa9", "", &got, &err);

		cr_assert_eq(rc, ERR_INVAL, "%s", kinds[i]);
		cr_expect_eq(got, (char *)0x1, "out-parameter written on failure");
		cr_expect(strstr(err.msg, "caf") != NULL, "message names the key: %s", err.msg);
		cr_expect(strstr(err.msg, "U+00E9") != NULL, "%s", err.msg);
	}
}

static void expect_len(const char *kind, size_t len, int want_rc)
{
	char *key = malloc(len + 1), *got = NULL;
	struct err_ctx err = {{0}};
	int rc;

	cr_assert_not_null(key);
	memset(key, 'k', len);
	key[len] = '\0';
	rc = naming_remote_name(kind, "", key, "", &got, &err);
	cr_expect_eq(rc, want_rc, "%s len %zu: rc %d", kind, len, rc);
	if (rc == 0)
		cr_expect_eq(strlen(got), len);
	else
		cr_expect(strstr(err.msg, "kkkk") != NULL, "message names the key: %s", err.msg);
	free(got);
	free(key);
}

Test(naming, provider_length_limits)
{
	expect_len("gcp", 255, 0);
	expect_len("gcp", 256, ERR_INVAL);
	expect_len("local", 255, 0);
	expect_len("local", 256, ERR_INVAL);
	expect_len("aws", 512, 0);
	expect_len("aws", 513, ERR_INVAL);
	expect_len("azure", 127, 0);
	expect_len("azure", 128, ERR_INVAL);
}

Test(naming, limit_counts_prefix_and_suffix)
{
	char key[250];
	char *got = NULL;
	struct err_ctx err = {{0}};

	memset(key, 'a', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	/* 4 + 1 + 249 = 254 fits gcp; + "-xy" = 257 does not */
	cr_expect_eq(naming_remote_name("gcp", "pref", key, "", &got, &err), 0);
	free(got);
	got = NULL;
	cr_expect_eq(naming_remote_name("gcp", "pref", key, "-xy", &got, &err), ERR_INVAL);
	cr_expect_null(got);
}

Test(naming, empty_name_invalid_utf8_unknown_kind)
{
	struct err_ctx err = {{0}};
	char *got = NULL;

	cr_expect_eq(naming_remote_name("gcp", "", "---", "", &got, &err), ERR_INVAL);
	cr_expect(strstr(err.msg, "empty") != NULL, "%s", err.msg);
	cr_expect_eq(naming_remote_name("azure", "", "__", "", &got, &err), ERR_INVAL);
	cr_expect_eq(naming_remote_name("gcp", "", "bad\xff", "", &got, &err), ERR_INVAL);
	cr_expect_eq(naming_remote_name("gcp", "", "a\xc3", "", &got, &err), ERR_INVAL);
	cr_expect_eq(naming_remote_name("vault", "", "k", "", &got, &err), ERR_UNSUPPORTED);
	cr_expect_null(got);
}

Test(naming, collisions_are_possible_so_callers_must_check)
{
	/* the reference maps these pairs to one name; sync.c turns that into ERR_CONFLICT */
	char *a = NULL, *b = NULL;

	cr_assert_eq(naming_remote_name("gcp", "", "a.b", "", &a, NULL), 0);
	cr_assert_eq(naming_remote_name("gcp", "", "a_b", "", &b, NULL), 0);
	cr_expect_str_eq(a, b);
	free(a);
	free(b);
}
