/* provider_aws.h — the AWS provider: secrets in Secrets Manager (aws_secrets.h), configs in
 * SSM Parameter Store (aws_ssm.h) when job.configs.enabled. Region from
 * job.provider.region or AWS_REGION; endpoint from job.provider.endpoint or
 * AWS_ENDPOINT_URL[_SECRETS_MANAGER|_SSM|_STS]; credentials per aws_auth.h.
 * AWS has no transaction: begin/commit/rollback only bracket the job, each write is made
 * when sync() runs and stays. */
#ifndef SMC_PROVIDER_AWS_H
#define SMC_PROVIDER_AWS_H

#include "syncer/provider.h"

extern const struct provider_ops provider_aws; /* kind "aws" */

#endif
