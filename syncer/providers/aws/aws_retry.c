/* aws_retry.c — AWS quotas and retryable answers on top of the shared limiter. */
#include "syncer/providers/aws/aws_retry.h"

#include <string.h>

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

void aws_retry_init(struct aws_retry *r, uint64_t seed)
{
	cloud_limiter_init(&r->lim, seed);
}

long aws_retry_take(struct aws_retry *r, const char *target, double now)
{
	double rate = aws_retry_quota(target);

	return cloud_limiter_take(&r->lim, target, rate, rate, now);
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
	return cloud_backoff_ms(&r->lim.rng, attempt, AWS_RETRY_BASE_MS, AWS_RETRY_CAP_MS,
				retry_after);
}
