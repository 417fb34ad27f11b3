/* test_workqueue.c — de-duplication, one key never twice at once, backoff 1 s → 7 min,
 * global rate limit, delayed adds, jitter bounds. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "watcher/workqueue.h"

static struct workqueue *mk(unsigned qps, unsigned burst)
{
	struct workqueue *q = NULL;

	cr_assert_eq(workqueue_new(qps, burst, &q), 0);
	return q;
}

Test(workqueue, dedup_and_fifo)
{
	struct workqueue *q = mk(1000, 1000);
	const char *k;

	cr_assert_eq(workqueue_add(q, "a", 0), 0);
	cr_assert_eq(workqueue_add(q, "b", 0), 0);
	cr_assert_eq(workqueue_add(q, "a", 0), 0);
	cr_assert_eq(workqueue_len(q), 2);
	cr_assert_eq(workqueue_get(q, 0, &k), 0);
	cr_assert_str_eq(k, "a");
	workqueue_done(q, "a");
	cr_assert_eq(workqueue_get(q, 0, &k), 0);
	cr_assert_str_eq(k, "b");
	workqueue_done(q, "b");
	cr_assert_eq(workqueue_get(q, 0, &k), ERR_NOTFOUND);
	cr_assert_eq(workqueue_len(q), 0);
	workqueue_free(q);
}

Test(workqueue, never_one_key_twice_at_once)
{
	struct workqueue *q = mk(1000, 1000);
	const char *k;

	workqueue_add(q, "a", 0);
	cr_assert_eq(workqueue_get(q, 0, &k), 0);
	/* re-added while processing: not handed out again until done */
	cr_assert_eq(workqueue_add(q, "a", 0), 0);
	cr_assert_eq(workqueue_get(q, 10, &k), ERR_NOTFOUND);
	cr_assert_eq(workqueue_queued(q, "a"), 0);
	workqueue_done(q, "a");
	cr_assert_eq(workqueue_queued(q, "a"), 1);
	cr_assert_eq(workqueue_get(q, 10, &k), 0);
	cr_assert_str_eq(k, "a");
	workqueue_done(q, "a");
	workqueue_free(q);
}

Test(workqueue, delayed_add_earliest_wins)
{
	struct workqueue *q = mk(1000, 1000);
	const char *k;

	workqueue_add_at(q, "a", 5000);
	cr_assert_eq(workqueue_next_ms(q, 0), 5000);
	cr_assert_eq(workqueue_get(q, 4999, &k), ERR_NOTFOUND);
	workqueue_add_at(q, "a", 2000); /* earlier wins */
	workqueue_add_at(q, "a", 9000); /* later ignored */
	cr_assert_eq(workqueue_next_ms(q, 0), 2000);
	cr_assert_eq(workqueue_get(q, 2000, &k), 0);
	workqueue_done(q, "a");
	cr_assert_eq(workqueue_next_ms(q, 2000), -1);
	workqueue_free(q);
}

Test(workqueue, backoff_doubles_to_seven_minutes_and_forget_resets)
{
	struct workqueue *q = mk(1000, 1000);
	int64_t d, expect = 1000;
	const char *k;

	for (int i = 1; i <= 12; i++) {
		cr_assert_eq(workqueue_add_backoff(q, "a", 0, &d), 0);
		cr_assert_eq(d, expect, "failure %d: delay %lld, expected %lld", i, (long long)d,
			     (long long)expect);
		cr_assert_eq(workqueue_failures(q, "a"), (unsigned)i);
		expect = expect * 2 > 420000 ? 420000 : expect * 2;
	}
	workqueue_drop(q, "a");
	cr_assert_eq(workqueue_add_backoff(q, "b", 0, &d), 0);
	cr_assert_eq(d, 1000);
	cr_assert_eq(workqueue_add_backoff(q, "b", 0, &d), 0);
	cr_assert_eq(d, 2000);
	cr_assert_eq(workqueue_get(q, 1000, &k), 0); /* the first (earlier) add is kept */
	workqueue_forget(q, "b");
	workqueue_done(q, "b");
	cr_assert_eq(workqueue_failures(q, "b"), 0);
	cr_assert_eq(workqueue_add_backoff(q, "b", 0, &d), 0);
	cr_assert_eq(d, 1000);
	workqueue_free(q);
}

Test(workqueue, backoff_caps_at_seven_minutes)
{
	struct workqueue *q = mk(1000, 1000);
	int64_t d = 0;

	for (int i = 0; i < 40; i++)
		workqueue_add_backoff(q, "x", 0, &d);
	cr_assert_eq(d, WORKQUEUE_BACKOFF_MAX_MS);
	cr_assert_eq(WORKQUEUE_BACKOFF_MAX_MS, 7 * 60 * 1000);
	workqueue_free(q);
}

Test(workqueue, global_rate_limit)
{
	struct workqueue *q = mk(2, 3); /* 2 per second, burst 3 */
	char key[8];
	const char *k;
	int got = 0;

	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		workqueue_add(q, key, 0);
	}
	while (workqueue_get(q, 0, &k) == 0) {
		workqueue_done(q, k);
		got++;
	}
	cr_assert_eq(got, 3, "burst: %d handed out at once", got);
	cr_assert_eq(workqueue_get(q, 0, &k), ERR_LOCKED);
	cr_assert_gt(workqueue_next_ms(q, 0), 0);
	/* one second later two more tokens */
	got = 0;
	while (workqueue_get(q, 1000, &k) == 0) {
		workqueue_done(q, k);
		got++;
	}
	cr_assert_eq(got, 2);
	workqueue_free(q);
}

Test(workqueue, jitter_bounds)
{
	cr_assert_eq(workqueue_jitter_ms(60000, 0), 60000);
	cr_assert_leq(workqueue_jitter_ms(60000, UINT32_MAX), 66000);
	cr_assert_geq(workqueue_jitter_ms(60000, UINT32_MAX), 65990);
	cr_assert_eq(workqueue_jitter_ms(0, 123), 0);
}

Test(workqueue, key_limits)
{
	struct workqueue *q = mk(1000, 1000);
	char big[WORKQUEUE_MAX_KEY + 2];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(workqueue_add(q, big, 0), ERR_INVAL);
	workqueue_free(q);
}
