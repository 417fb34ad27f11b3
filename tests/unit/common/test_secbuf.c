/* test_secbuf.c — secbuf growth: reserve makes room once, puts within it do not move the
 * block, the maximum still holds. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/err.h"
#include "common/secbuf.h"

Test(secbuf, reserve_once_then_puts_stay_in_place)
{
	struct secbuf *s = NULL;
	uint8_t chunk[1000];
	const uint8_t *block;

	memset(chunk, 'x', sizeof(chunk));
	cr_assert_eq(secbuf_new(&s, 100000), 0);
	cr_assert_eq(secbuf_put(s, "ab", 2), 0);
	cr_assert_eq(secbuf_reserve(s, 50000), 0);
	cr_assert_geq(s->cap, 50003);
	block = s->data;
	for (int i = 0; i < 50; i++)
		cr_assert_eq(secbuf_put(s, chunk, sizeof(chunk)), 0);
	cr_assert_eq(s->data, block, "a put within the reserved room moved the block");
	cr_assert_eq(s->len, 50002);
	cr_assert_eq(memcmp(s->data, "abxx", 4), 0);
	cr_assert_eq(s->data[s->len], '\0');
	secbuf_free(s);
}

Test(secbuf, reserve_is_clamped_to_max_and_max_still_holds)
{
	struct secbuf *s = NULL;
	uint8_t chunk[64] = {0};

	cr_assert_eq(secbuf_new(&s, 100), 0);
	cr_assert_eq(secbuf_reserve(s, (size_t)1 << 40), 0); /* no terabyte allocation */
	cr_assert_leq(s->cap, 101);
	cr_assert_eq(secbuf_put(s, chunk, 64), 0);
	cr_assert_eq(secbuf_put(s, chunk, 36), 0);
	cr_assert_eq(secbuf_put(s, chunk, 1), ERR_TOOBIG);
	cr_assert_eq(s->len, 100);
	secbuf_free(s);
}
