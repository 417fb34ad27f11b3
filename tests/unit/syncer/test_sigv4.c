/* test_sigv4.c — the SigV4 signer against every case of AWS's published suite
 * (../shared/fixtures/sigv4/aws-sig-v4-test-suite): canonical request, string to sign and
 * Authorization header compared byte for byte. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncer/providers/aws/sigv4.h"

#define SUITE SMC_SHARED_DIR "/fixtures/sigv4/aws-sig-v4-test-suite"
#define MAX_FILE (64 * 1024)

static const char *const cases[] = {
	"get-header-key-duplicate/get-header-key-duplicate",
	"get-header-value-multiline/get-header-value-multiline",
	"get-header-value-order/get-header-value-order",
	"get-header-value-trim/get-header-value-trim",
	"get-unreserved/get-unreserved",
	"get-utf8/get-utf8",
	"get-vanilla-empty-query-key/get-vanilla-empty-query-key",
	"get-vanilla-query-order-key-case/get-vanilla-query-order-key-case",
	"get-vanilla-query-order-key/get-vanilla-query-order-key",
	"get-vanilla-query-order-value/get-vanilla-query-order-value",
	"get-vanilla-query-unreserved/get-vanilla-query-unreserved",
	"get-vanilla-query/get-vanilla-query",
	"get-vanilla-utf8-query/get-vanilla-utf8-query",
	"get-vanilla/get-vanilla",
	"normalize-path/get-relative-relative/get-relative-relative",
	"normalize-path/get-relative/get-relative",
	"normalize-path/get-slash-dot-slash/get-slash-dot-slash",
	"normalize-path/get-slash-pointless-dot/get-slash-pointless-dot",
	"normalize-path/get-slash/get-slash",
	"normalize-path/get-slashes/get-slashes",
	"normalize-path/get-space/get-space",
	"post-header-key-case/post-header-key-case",
	"post-header-key-sort/post-header-key-sort",
	"post-header-value-case/post-header-value-case",
	"post-sts-token/post-sts-header-after/post-sts-header-after",
	"post-sts-token/post-sts-header-before/post-sts-header-before",
	"post-vanilla-empty-query-value/post-vanilla-empty-query-value",
	"post-vanilla-query/post-vanilla-query",
	"post-vanilla/post-vanilla",
	"post-x-www-form-urlencoded-parameters/post-x-www-form-urlencoded-parameters",
	"post-x-www-form-urlencoded/post-x-www-form-urlencoded",
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static const uint8_t secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

static char *slurp(const char *base, const char *ext)
{
	char path[1024];
	FILE *f;
	char *p;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s.%s", SUITE, base, ext);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	p = calloc(1, MAX_FILE + 1);
	cr_assert_not_null(p);
	n = fread(p, 1, MAX_FILE, f);
	fclose(f);
	p[n] = '\0';
	return p;
}

struct parsed {
	char method[16];
	char path[512];
	char query[512];
	struct sigv4_header h[SIGV4_MAX_HEADERS];
	char names[SIGV4_MAX_HEADERS][128];
	char values[SIGV4_MAX_HEADERS][2048];
	size_t nh;
	const char *body;
	size_t body_len;
	const char *amz_date;
};

/* Parses a .req file: request line, headers (a line starting with a space continues the
 * previous header as another value of it), a blank line, then the body. */
static void parse_req(char *text, struct parsed *r)
{
	char *line = text, *next, *uri, *sp;
	int first = 1;

	memset(r, 0, sizeof(*r));
	r->body = "";
	while (line != NULL) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (first) {
			sp = strchr(line, ' ');
			cr_assert_not_null(sp);
			*sp = '\0';
			snprintf(r->method, sizeof(r->method), "%s", line);
			uri = sp + 1;
			sp = strrchr(uri, ' ');
			cr_assert_not_null(sp);
			*sp = '\0';
			sp = strchr(uri, '?');
			if (sp != NULL) {
				*sp = '\0';
				snprintf(r->query, sizeof(r->query), "%s", sp + 1);
			}
			snprintf(r->path, sizeof(r->path), "%s", uri);
			first = 0;
		} else if (line[0] == '\0') {
			r->body = next ? next : "";
			r->body_len = strlen(r->body);
			break;
		} else {
			cr_assert_lt(r->nh, SIGV4_MAX_HEADERS);
			if (line[0] == ' ') {
				cr_assert_gt(r->nh, 0);
				memcpy(r->names[r->nh], r->names[r->nh - 1], 128);
				snprintf(r->values[r->nh], 2048, "%s", line);
			} else {
				char *c = strchr(line, ':');

				cr_assert_not_null(c);
				*c = '\0';
				snprintf(r->names[r->nh], 128, "%s", line);
				snprintf(r->values[r->nh], 2048, "%s", c + 1);
			}
			r->h[r->nh].name = r->names[r->nh];
			r->h[r->nh].value = r->values[r->nh];
			if (strcasecmp(r->names[r->nh], "X-Amz-Date") == 0)
				r->amz_date = r->values[r->nh];
			r->nh++;
		}
		line = next;
	}
	cr_assert_not_null(r->amz_date, "no X-Amz-Date");
}

static void sign_case(const char *base, struct sigv4_out *out, const uint8_t *key, size_t klen)
{
	char *req = slurp(base, "req");
	struct parsed *p = calloc(1, sizeof(*p));
	struct sigv4_request r;
	struct sigv4_key k = {
		.access_key_id = "AKIDEXAMPLE",
		.secret = key,
		.secret_len = klen,
		.region = "us-east-1",
		.service = "service",
	};

	cr_assert_not_null(p);
	parse_req(req, p);
	k.amz_date = p->amz_date;
	r = (struct sigv4_request){.method = p->method, .path = p->path, .query = p->query,
				   .headers = p->h, .nheaders = p->nh, .body = p->body,
				   .body_len = p->body_len};
	cr_assert_eq(sigv4_sign(&r, &k, out), 0, "%s: sign failed", base);
	free(p);
	free(req);
}

/* Every case: all three artefacts compared; a failing case is named and the others still
 * run. */
Test(sigv4, suite)
{
	size_t ok = 0;

	for (size_t i = 0; i < NCASES; i++) {
		struct sigv4_out out = {0};
		char *creq = slurp(cases[i], "creq"), *sts = slurp(cases[i], "sts");
		char *authz = slurp(cases[i], "authz");
		int good;

		sign_case(cases[i], &out, secret, sizeof(secret) - 1);
		good = strcmp(out.canonical_request, creq) == 0 &&
		       strcmp(out.string_to_sign, sts) == 0 && strcmp(out.authorization, authz) == 0;
		cr_expect_str_eq(out.canonical_request, creq, "%s: canonical request", cases[i]);
		cr_expect_str_eq(out.string_to_sign, sts, "%s: string to sign", cases[i]);
		cr_expect_str_eq(out.authorization, authz, "%s: authorization", cases[i]);
		ok += good;
		sigv4_out_free(&out);
		free(creq);
		free(sts);
		free(authz);
	}
	cr_assert_eq(ok, NCASES, "%zu of %zu cases match", ok, NCASES);
}

static int nreq;
static int count_req(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_F && strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".req") == 0)
		nreq++;
	return 0;
}

/* The table above covers every case the suite ships. */
Test(sigv4, table_covers_suite)
{
	nreq = 0;
	cr_assert_eq(nftw(SUITE, count_req, 16, FTW_PHYS), 0);
	cr_assert_eq((size_t)nreq, NCASES);
	cr_assert_eq(NCASES, 31);
}

/* A different secret key must give a different signature, same canonical request. */
Test(sigv4, wrong_key_changes_signature)
{
	static const uint8_t other[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz";
	struct sigv4_out a = {0}, b = {0};

	sign_case(cases[28], &a, secret, sizeof(secret) - 1);
	sign_case(cases[28], &b, other, sizeof(other) - 1);
	cr_expect_str_eq(a.canonical_request, b.canonical_request);
	cr_expect_str_neq(a.authorization, b.authorization);
	sigv4_out_free(&a);
	sigv4_out_free(&b);
}

Test(sigv4, rejects_bad_input)
{
	struct sigv4_header h[] = {{"Host", "example.amazonaws.com"}};
	struct sigv4_request r = {.method = "GET", .path = "/", .headers = h, .nheaders = 1};
	struct sigv4_key k = {.access_key_id = "AKIDEXAMPLE", .secret = secret,
			      .secret_len = sizeof(secret) - 1, .region = "us-east-1",
			      .service = "service", .amz_date = "20150830T1236Z"};
	struct sigv4_out o = {0};

	cr_expect_eq(sigv4_sign(&r, &k, &o), -2, "short date refused");
	k.amz_date = "20150830T123600Z";
	k.region = "us east 1";
	cr_expect_eq(sigv4_sign(&r, &k, &o), -2, "bad region refused");
	k.region = "us-east-1";
	r.path = "relative";
	cr_expect_eq(sigv4_sign(&r, &k, &o), -2, "relative path refused");
	cr_expect_null(o.authorization);
}

Test(sigv4, amz_date_format)
{
	char d[SIGV4_AMZ_DATE_LEN + 1];

	cr_assert_eq(sigv4_amz_date(1440938160LL, d), 0);
	cr_expect_str_eq(d, "20150830T123600Z");
}
