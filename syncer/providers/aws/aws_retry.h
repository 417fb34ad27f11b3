/* aws_retry.h — client-side rate limits and retry decisions for AWS calls.
 * A token bucket per API action, sized from AWS's published default quotas, keeps smc
 * under the limits; full-jitter exponential backoff ("Exponential Backoff And Jitter",
 * AWS Architecture Blog) spaces retries of throttled, 5xx and transport failures, and a
 * Retry-After header is honoured as a lower bound. Pure: the caller passes the time. */
#ifndef SMC_AWS_RETRY_H
#define SMC_AWS_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "syncer/providers/http/cloud_retry.h"

#define AWS_RETRY_MAX_ATTEMPTS 6      /* first try + 5 retries */
#define AWS_RETRY_BASE_MS 100         /* backoff base */
#define AWS_RETRY_CAP_MS 20000        /* backoff ceiling per wait */

/* The shared limiter (cloud_retry.h) sized with AWS's quotas, one bucket per action. */
struct aws_retry {
	struct cloud_limiter lim;
};

/* Initialises the limiter; seed 0 picks one from the clock. */
void aws_retry_init(struct aws_retry *r, uint64_t seed);
/* Published default quota for "secretsmanager.GetSecretValue" style target names, in
 * requests per second. */
double aws_retry_quota(const char *target);
/* Takes one token for target at time now (seconds). Returns 0 when one was available, else
 * the number of milliseconds to wait before asking again (nothing taken). */
long aws_retry_take(struct aws_retry *r, const char *target, double now);
/* 1 when the answer should be retried: transport failure (rc < 0), HTTP 429 or 5xx, or a
 * throttling error code (ThrottlingException, TooManyRequestsException, ...). */
int aws_retry_should(int rc, long status, const char *errcode);
/* Milliseconds to wait before attempt number `attempt` (1 = first retry): a uniform draw
 * from [0, min(cap, base * 2^attempt)], at least retry_after seconds when that is >= 0. */
long aws_retry_backoff_ms(struct aws_retry *r, unsigned attempt, long retry_after);

#endif
