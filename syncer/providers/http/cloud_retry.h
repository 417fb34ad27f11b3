/* cloud_retry.h — client-side rate limits and retry spacing shared by the cloud providers:
 * a token bucket per API class (each provider sizes them from its cloud's published
 * quotas) and full-jitter exponential backoff ("Exponential Backoff And Jitter", AWS
 * Architecture Blog) with Retry-After honoured as a lower bound. Pure: the caller passes
 * the time. Which answers are retried stays each provider's decision. */
#ifndef SMC_CLOUD_RETRY_H
#define SMC_CLOUD_RETRY_H

#include <stddef.h>
#include <stdint.h>

#define CLOUD_RETRY_MAX_BUCKETS 32 /* distinct API classes tracked per client */

struct cloud_bucket {
	char cls[48];
	double rate;   /* tokens per second */
	double burst;  /* bucket size */
	double tokens;
	double last;   /* seconds, monotonic */
};

struct cloud_limiter {
	struct cloud_bucket buckets[CLOUD_RETRY_MAX_BUCKETS];
	size_t n;
	uint64_t rng; /* xorshift state for jitter (not for secrets) */
};

/* Initialises the limiter; seed 0 picks one from the clock. */
void cloud_limiter_init(struct cloud_limiter *l, uint64_t seed);
/* Takes one token of class cls at time now (seconds); a class seen for the first time gets
 * a full bucket of burst tokens refilled at rate per second. 0 when a token was taken,
 * else the milliseconds to wait before asking again (nothing taken). Untracked classes
 * (more than CLOUD_RETRY_MAX_BUCKETS) are not limited. */
long cloud_limiter_take(struct cloud_limiter *l, const char *cls, double rate, double burst,
			double now);
/* Milliseconds to wait before attempt number `attempt` (1 = first retry): a uniform draw
 * from [0, min(cap_ms, base_ms * 2^attempt)], at least retry_after seconds when that is
 * >= 0. rng: xorshift state (0 is replaced by a fixed non-zero state). */
long cloud_backoff_ms(uint64_t *rng, unsigned attempt, long base_ms, long cap_ms,
		      long retry_after);

#endif
