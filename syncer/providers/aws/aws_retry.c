/* aws_retry.c — token buckets per API and full-jitter backoff. */
#include "syncer/providers/aws/aws_retry.h"

#include <string.h>
#include <time.h>

#include "common/str.h"

/* AWS default quotas (Secrets Manager and Systems Manager "Service quotas" pages):
 * Secrets Manager: GetSecretValue+DescribeSecret 10000/s combined, BatchGetSecretValue
 * 100/s, ListSecrets 100/s, PutSecretValue/CreateSecret/DeleteSecret/RestoreSecret/
 * TagResource/UntagResource/UpdateSecret 50/s (shared "write" group). SSM Parameter Store
 * at standard throughput: GetParameter(s)/GetParametersByPath 40/s, PutParameter 3/s,
 * DeleteParameter(s) 3/s... we stay a little under each. STS: 600/s per account. */
static const struct {
	const char *target;
	double rps;
} quotas[] = {
	{"secretsmanager.GetSecretValue", 5000},
	{"secretsmanager.DescribeSecret", 5000},
	{"secretsmanager.BatchGetSecretValue", 90},
	{"secretsmanager.ListSecrets", 90},
	{"secretsmanager.CreateSecret", 45},
	{"secretsmanager.PutSecretValue", 45},
	{"secretsmanager.DeleteSecret", 45},
	{"secretsmanager.RestoreSecret", 45},
	{"secretsmanager.TagResource", 45},
	{"AmazonSSM.GetParametersByPath", 36},
	{"AmazonSSM.GetParameters", 36},
	{"AmazonSSM.DescribeParameters", 36},
	{"AmazonSSM.ListTagsForResource", 36},
	{"AmazonSSM.PutParameter", 3},
	{"AmazonSSM.AddTagsToResource", 3},
	{"AmazonSSM.DeleteParameters", 3},
	{"sts.AssumeRoleWithWebIdentity", 500},
};
#define DEFAULT_RPS 10.0

double aws_retry_quota(const char *target)
{
	for (size_t i = 0; i < sizeof(quotas) / sizeof(quotas[0]); i++) {
		if (strcmp(quotas[i].target, target) == 0)
			return quotas[i].rps;
	}
	return DEFAULT_RPS;
}

static uint64_t next_rand(struct aws_retry *r)
{
	uint64_t x = r->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	r->rng = x;
	return x;
}

void aws_retry_init(struct aws_retry *r, uint64_t seed)
{
	memset(r, 0, sizeof(*r));
	if (seed == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec * 2654435761u + (uint64_t)ts.tv_sec;
	}
	r->rng = seed ? seed : 88172645463325252ull;
}

static struct aws_bucket *bucket_for(struct aws_retry *r, const char *target, double now)
{
	struct aws_bucket *b;

	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->buckets[i].action, target) == 0)
			return &r->buckets[i];
	}
	if (r->n == AWS_RETRY_MAX_BUCKETS)
		return NULL; /* untracked: not limited */
	b = &r->buckets[r->n];
	if (str_copy(b->action, sizeof(b->action), target) != 0)
		return NULL;
	r->n++;
	b->rate = aws_retry_quota(target);
	b->burst = b->rate < 1 ? 1 : b->rate;
	b->tokens = b->burst;
	b->last = now;
	return b;
}

long aws_retry_take(struct aws_retry *r, const char *target, double now)
{
	struct aws_bucket *b = bucket_for(r, target, now);

	if (b == NULL)
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

int aws_retry_should(int rc, long status, const char *errcode)
{
	static const char *const throttles[] = {
		"ThrottlingException", "Throttling", "ThrottledException",
		"TooManyRequestsException", "RequestLimitExceeded", "RequestThrottled",
		"RequestThrottledException", "ProvisionedThroughputExceededException",
		"SlowDown", "PriorRequestNotComplete", "TransactionInProgressException",
		"InternalFailure", "ServiceUnavailable", "IDPCommunicationError",
	};

	if (rc < 0)
		return 1;
	if (status == 429 || status >= 500)
		return 1;
	if (errcode != NULL) {
		for (size_t i = 0; i < sizeof(throttles) / sizeof(throttles[0]); i++) {
			if (strcmp(errcode, throttles[i]) == 0)
				return 1;
		}
	}
	return 0;
}

long aws_retry_backoff_ms(struct aws_retry *r, unsigned attempt, long retry_after)
{
	long ceiling = AWS_RETRY_BASE_MS, wait;

	for (unsigned i = 0; i < attempt && ceiling < AWS_RETRY_CAP_MS; i++)
		ceiling *= 2;
	if (ceiling > AWS_RETRY_CAP_MS)
		ceiling = AWS_RETRY_CAP_MS;
	wait = (long)(next_rand(r) % (uint64_t)(ceiling + 1));
	if (retry_after >= 0 && wait < retry_after * 1000)
		wait = retry_after * 1000;
	return wait;
}
