/* aws_ssm.h — SSM Parameter Store as the config store of the AWS provider.
 *
 * Parameter names: <parameterPath>/<key>, parameterPath = job.configs.parameter_path or
 * "/{prefix}/{environment}" (prefix: the job's, else each item's, i.e. its service in raw
 * mode; two keys landing on one name both fail, naming neither value). Type String, or SecureString when job.configs.store is
 * "SecureString" (the only meaning `store` has for AWS). One sync:
 *   1. DescribeParameters filtered on tag:owner and the path (recursive, paginated): what
 *      this config owns;
 *   2. GetParametersByPath (recursive, with decryption, paginated): current values;
 *   3. PutParameter with Tags for new names; PutParameter Overwrite only where the value or
 *      type differs; names held without smc's tags are REFUSED unless adoptExisting
 *      (AddTagsToResource, then overwrite when different);
 *   4. owned parameters that left Git: Retain keeps, Delete removes (DeleteParameters, 10
 *      per call); SSM has no disabled state, so Disable keeps (RETAINED with the reason). */
#ifndef SMC_AWS_SSM_H
#define SMC_AWS_SSM_H

#include <stddef.h>

#include "common/err.h"
#include "syncer/provider.h"
#include "syncer/providers/aws/aws_client.h"

#define AWS_SSM_PAGE_BY_PATH 10     /* GetParametersByPath MaxResults maximum */
#define AWS_SSM_PAGE_DESCRIBE 50    /* DescribeParameters MaxResults maximum */
#define AWS_SSM_DELETE_BATCH 10     /* DeleteParameters Names maximum */
#define AWS_SSM_MAX_PAGES 10000
#define AWS_SSM_MAX_NAME 1011
#define AWS_SSM_MAX_VALUE 4096      /* standard tier */

/* Makes Parameter Store mirror items (provider.h semantics) for owner. */
int aws_ssm_sync(struct aws_client *c, const struct job *job, const char *owner,
		 const struct desired *items, size_t n, struct report *rep, struct err_ctx *err);

/* The parameter path of the job ("/{prefix}/{environment}" by default, no trailing '/').
 * Owned (free()). */
char *aws_ssm_base_path(const struct job *job);

/* The parameter path of an item named with prefix (job.configs.parameter_path when set,
 * else "/{prefix}/{environment}"; prefix may be NULL). Owned (free()), NULL when out of
 * memory or over AWS_SSM_MAX_NAME. */
char *aws_ssm_item_base(const struct job *job, const char *prefix);

#endif
