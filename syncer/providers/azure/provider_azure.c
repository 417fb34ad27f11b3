/* provider_azure.c — the provider_ops table of the Azure provider. */
#include "syncer/providers/azure/provider_azure.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "syncer/providers/azure/azure_appconfig.h"
#include "syncer/providers/azure/azure_client.h"
#include "syncer/providers/azure/azure_keyvault.h"

struct azure_state {
	struct azure_client *client;
	char *owner;
	char *vault_url;
	char *ac_url; /* NULL unless configs.enabled */
};

static void azure_close(void *state)
{
	struct azure_state *s = state;

	if (s == NULL)
		return;
	azure_client_free(s->client);
	free(s->owner);
	free(s->vault_url);
	free(s->ac_url);
	free(s);
}

static int azure_open(const struct job *job, const struct msg_credentials *creds, void **state,
		      struct err_ctx *err)
{
	struct azure_state *s = xcalloc(1, sizeof(*s));
	struct azure_auth_cfg cfg = {.creds = creds,
				     .tenant_id = job->provider.tenant_id,
				     .client_id = job->provider.client_id,
				     .auth_type = job->provider.auth_type};
	int rc;

	if (s == NULL)
		return ERR_NOMEM;
	if (job->config.ns == NULL || job->config.name == NULL || job->config.name[0] == '\0') {
		rc = err_set(err, ERR_INVAL,
			     "azure: the job has no config namespace/name for the owner tag");
		goto fail;
	}
	if ((s->owner = provider_owner(job)) == NULL) {
		rc = ERR_NOMEM;
		goto fail;
	}
	if ((rc = azure_kv_vault_url(job->provider.endpoint, job->provider.vault_name,
				     &s->vault_url, err)) != 0)
		goto fail;
	if (job->configs.enabled &&
	    (rc = azure_ac_endpoint(job->configs.app_config_endpoint, job->provider.vault_name,
				    &s->ac_url, err)) != 0)
		goto fail;
	if ((rc = azure_client_new(&cfg, &s->client, err)) != 0)
		goto fail;
	*state = s;
	return 0;
fail:
	azure_close(s);
	return rc;
}

static int azure_begin(void *state, struct err_ctx *err)
{
	(void)state;
	(void)err;
	return 0;
}

static int azure_sync(void *state, const struct job *job, enum item_kind kind,
		      const struct desired *items, size_t n, struct report *rep,
		      struct err_ctx *err)
{
	struct azure_state *s = state;

	if (kind == ITEM_SECRET)
		return azure_keyvault_sync(s->client, job, s->owner, s->vault_url, items, n, rep,
					   err);
	if (kind == ITEM_CONFIG) {
		if (!job->configs.enabled || s->ac_url == NULL)
			return 0; /* configs are only written when configs.enabled */
		return azure_appconfig_sync(s->client, job, s->owner, s->ac_url, items, n, rep,
					    err);
	}
	return err_set(err, ERR_INVAL, "azure: unknown item kind %d", (int)kind);
}

static int azure_commit(void *state, struct err_ctx *err)
{
	(void)state;
	(void)err;
	return 0;
}

static void azure_rollback(void *state)
{
	(void)state;
}

const struct provider_ops provider_azure = {
    .kind = "azure",
    .open = azure_open,
    .begin = azure_begin,
    .sync = azure_sync,
    .commit = azure_commit,
    .rollback = azure_rollback,
    .close = azure_close,
};
