/* cloud_retry.c — token buckets per API class and full-jitter backoff. */
#include "syncer/providers/http/cloud_retry.h"

#include <string.h>
#include <time.h>

#include "common/str.h"

static uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 88172645463325252ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

void cloud_limiter_init(struct cloud_limiter *l, uint64_t seed)
{
	memset(l, 0, sizeof(*l));
	if (seed == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec * 2654435761u + (uint64_t)ts.tv_sec;
	}
	l->rng = seed ? seed : 88172645463325252ull;
}

static struct cloud_bucket *bucket_for(struct cloud_limiter *l, const char *cls, double rate,
				       double burst, double now)
{
	struct cloud_bucket *b;

	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->buckets[i].cls, cls) == 0)
			return &l->buckets[i];
	}
	if (l->n == CLOUD_RETRY_MAX_BUCKETS)
		return NULL; /* untracked: not limited */
	b = &l->buckets[l->n];
	if (str_copy(b->cls, sizeof(b->cls), cls) != 0)
		return NULL;
	l->n++;
	b->rate = rate;
	b->burst = burst < 1 ? 1 : burst;
	b->tokens = b->burst;
	b->last = now;
	return b;
}

long cloud_limiter_take(struct cloud_limiter *l, const char *cls, double rate, double burst,
			double now)
{
	struct cloud_bucket *b = bucket_for(l, cls, rate, burst, now);

	if (b == NULL || b->rate <= 0)
		return 0;
	if (now > b->last) {
		b->tokens += (now - b->last) * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last = now;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 0;
	}
	return (long)((1.0 - b->tokens) / b->rate * 1000.0) + 1;
}

long cloud_backoff_ms(uint64_t *rng, unsigned attempt, long base_ms, long cap_ms,
		      long retry_after)
{
	long ceiling = base_ms, wait;

	for (unsigned i = 0; i < attempt && ceiling < cap_ms; i++)
		ceiling *= 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	wait = (long)(next_rand(rng) % (uint64_t)(ceiling + 1));
	if (retry_after >= 0 && retry_after <= 3600 && wait < retry_after * 1000)
		wait = retry_after * 1000;
	return wait;
}
