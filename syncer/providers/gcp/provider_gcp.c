/* provider_gcp.c — the provider_ops table of the GCP provider. */
#include "syncer/providers/gcp/provider_gcp.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xmalloc.h"
#include "syncer/providers/gcp/gcp_client.h"
#include "syncer/providers/gcp/gcp_params.h"
#include "syncer/providers/gcp/gcp_secrets.h"

struct gcp_state {
	struct gcp_client *client;
};

static void gcp_close(void *state)
{
	struct gcp_state *s = state;

	if (s == NULL)
		return;
	gcp_client_free(s->client);
	free(s);
}

static int gcp_open(const struct job *job, const struct msg_credentials *creds, void **state,
		    struct err_ctx *err)
{
	struct gcp_state *s = xcalloc(1, sizeof(*s));
	struct gcp_client_cfg cfg = {.project = job->provider.project_id,
				     .endpoint = job->provider.endpoint,
				     .creds = creds,
				     .auth_type = job->provider.auth_type};
	int rc;

	if (s == NULL)
		return ERR_NOMEM;
	if (job->config.ns == NULL || job->config.name == NULL || job->config.name[0] == '\0') {
		rc = err_set(err, ERR_INVAL,
			     "gcp: the job has no config namespace/name for the owner");
		goto fail;
	}
	if (job->configs.enabled && job->configs.store != NULL && job->configs.store[0] != '\0' &&
	    strcasecmp(job->configs.store, "secretManager") != 0 &&
	    strcasecmp(job->configs.store, "parameterManager") != 0) {
		rc = err_set(err, ERR_INVAL,
			     "gcp: configs.store must be secretManager or parameterManager");
		goto fail;
	}
	if ((rc = gcp_client_new(&cfg, &s->client, err)) != 0)
		goto fail;
	*state = s;
	return 0;
fail:
	gcp_close(s);
	return rc;
}

static int gcp_begin(void *state, struct err_ctx *err)
{
	(void)state;
	(void)err;
	return 0;
}

static int gcp_sync(void *state, const struct job *job, enum item_kind kind,
		    const struct desired *items, size_t n, struct report *rep, struct err_ctx *err)
{
	struct gcp_state *s = state;

	if (kind == ITEM_SECRET)
		return gcp_secrets_sync(s->client, job, ITEM_SECRET, items, n, rep, err);
	if (kind == ITEM_CONFIG) {
		if (!job->configs.enabled)
			return 0;
		if (job->configs.store != NULL &&
		    strcasecmp(job->configs.store, "parameterManager") == 0)
			return gcp_params_sync(s->client, job, items, n, rep, err);
		return gcp_secrets_sync(s->client, job, ITEM_CONFIG, items, n, rep, err);
	}
	return err_set(err, ERR_INVAL, "gcp: unknown item kind %d", (int)kind);
}

static int gcp_commit(void *state, struct err_ctx *err)
{
	(void)state;
	(void)err;
	return 0;
}

static void gcp_rollback(void *state)
{
	(void)state;
}

const struct provider_ops provider_gcp = {
    .kind = "gcp",
    .open = gcp_open,
    .begin = gcp_begin,
    .sync = gcp_sync,
    .commit = gcp_commit,
    .rollback = gcp_rollback,
    .close = gcp_close,
};
