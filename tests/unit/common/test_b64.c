/* test_b64.c — base64 of secret bytes (common/b64.h): standard and URL alphabets both
 * ways, and what the decoder refuses. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/b64.h"
#include "common/secbuf.h"

static void b64_round(const char *in, const char *std, const char *url)
{
	struct secbuf *e = NULL, *d = NULL;

	cr_assert_eq(b64_encode_secret(in, strlen(in), 0, &e), 0);
	cr_assert_str_eq((const char *)e->data, std);
	cr_assert_eq(b64_decode_secret((const char *)e->data, e->len, 1024, &d), 0);
	cr_assert(secbuf_eq_mem(d, in, strlen(in)));
	secbuf_free(e);
	secbuf_free(d);
	cr_assert_eq(b64_encode_secret(in, strlen(in), 1, &e), 0);
	cr_assert_str_eq((const char *)e->data, url);
	cr_assert_eq(b64_decode_secret((const char *)e->data, e->len, 1024, &d), 0);
	cr_assert(secbuf_eq_mem(d, in, strlen(in)));
	secbuf_free(e);
	secbuf_free(d);
}

Test(b64, round_trips_standard_and_url)
{
	b64_round("", "", "");
	b64_round("f", "Zg==", "Zg");
	b64_round("fo", "Zm8=", "Zm8");
	b64_round("foo", "Zm9v", "Zm9v");
	b64_round("hunter2", "aHVudGVyMg==", "aHVudGVyMg");
	b64_round("\xfb\xff\xfe", "+//+", "-__-");
}

Test(b64, rejects_malformed_and_oversize)
{
	struct secbuf *d = NULL;

	cr_assert_neq(b64_decode_secret("Zm9v!", 5, 64, &d), 0);
	cr_assert_neq(b64_decode_secret("Z", 1, 64, &d), 0);
	cr_assert_neq(b64_decode_secret("Zm9vZm9v", 8, 4, &d), 0); /* over max */
}

