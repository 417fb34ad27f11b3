/* provider_aws.c — the provider_ops table of the AWS provider. */
#include "syncer/providers/aws/provider_aws.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "syncer/providers/aws/aws_client.h"
#include "syncer/providers/aws/aws_secrets.h"
#include "syncer/providers/aws/aws_ssm.h"

struct aws_state {
	struct aws_client *client;
	char *owner;
};

static void aws_close(void *state)
{
	struct aws_state *s = state;

	if (s == NULL)
		return;
	aws_client_free(s->client);
	free(s->owner);
	free(s);
}

static int aws_open(const struct job *job, const struct msg_credentials *creds, void **state,
		    struct err_ctx *err)
{
	struct aws_state *s = xcalloc(1, sizeof(*s));
	struct aws_client_cfg cfg = {.region = job->provider.region,
				     .endpoint = job->provider.endpoint,
				     .role_arn = job->provider.role_arn,
				     .secret = creds,
				     .auth_type = job->provider.auth_type};
	int rc;

	if (s == NULL)
		return ERR_NOMEM;
	if (job->config.ns == NULL || job->config.name == NULL || job->config.name[0] == '\0') {
		rc = err_set(err, ERR_INVAL, "aws: the job has no config namespace/name for the owner tag");
		goto fail;
	}
	if ((s->owner = provider_owner(job)) == NULL) {
		rc = ERR_NOMEM;
		goto fail;
	}
	if ((rc = aws_client_new(&cfg, &s->client, err)) != 0)
		goto fail;
	*state = s;
	return 0;
fail:
	aws_close(s);
	return rc;
}

static int aws_begin(void *state, struct err_ctx *err)
{
	(void)state;
	(void)err;
	return 0;
}

static int aws_sync(void *state, const struct job *job, enum item_kind kind,
		    const struct desired *items, size_t n, struct report *rep, struct err_ctx *err)
{
	struct aws_state *s = state;

	if (kind == ITEM_SECRET)
		return aws_secrets_sync(s->client, job, s->owner, items, n, rep, err);
	if (kind == ITEM_CONFIG) {
		if (!job->configs.enabled)
			return 0; /* configs are only written when configs.enabled */
		return aws_ssm_sync(s->client, job, s->owner, items, n, rep, err);
	}
	return err_set(err, ERR_INVAL, "aws: unknown item kind %d", (int)kind);
}

static int aws_commit(void *state, struct err_ctx *err)
{
	(void)state;
	(void)err;
	return 0;
}

static void aws_rollback(void *state)
{
	(void)state;
}

const struct provider_ops provider_aws = {
	.kind = "aws",
	.open = aws_open,
	.begin = aws_begin,
	.sync = aws_sync,
	.commit = aws_commit,
	.rollback = aws_rollback,
	.close = aws_close,
};
