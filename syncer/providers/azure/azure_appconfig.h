/* azure_appconfig.h — App Configuration sync of configs (data plane, api-version
 * 2023-11-01, Entra ID bearer token for https://azconfig.io).
 * Key = the config's remote name (smc's Azure naming: unique per job, so two services'
 * `server.port` cannot collide — the reference used the raw property key and let them
 * overwrite each other), label = secrets.environment, tags managed-by / owner.
 * One sync: list the key-values with that label (GET /kv?key=*&label=L, following
 * @nextLink on the store only), then per desired key: absent → PUT with If-None-Match: *;
 * same value → unchanged; different value → PUT with If-Match: <etag> (unless
 * !trigger_update); unmarked → refused unless adopt; another owner → refused; locked by
 * smc's Disable → unlocked (DELETE /locks) and set. Keys that left Git, when prune (or
 * delete_all): Retain → retained, Delete → DELETE (If-Match), Disable → a read-only lock
 * (PUT /locks/{key}): App Configuration has no "disabled" state, and a lock keeps the value
 * readable while refusing writes, which is the nearest meaning. dry_run writes nothing. */
#ifndef SMC_AZURE_APPCONFIG_H
#define SMC_AZURE_APPCONFIG_H

#include <stddef.h>

#include "syncer/provider.h"
#include "syncer/providers/azure/azure_client.h"

#define AZURE_AC_API_VERSION "2023-11-01"
#define AZURE_AC_SCOPE "https://azconfig.io/.default"
#define AZURE_AC_MAX_KEY 1024
#define AZURE_AC_MAX_PAGES 1000

/* The store URL without a trailing '/': app_config_endpoint when set, else
 * https://{vault_name}.azconfig.io (the reference's derivation). Owned *out. */
int azure_ac_endpoint(const char *app_config_endpoint, const char *vault_name, char **out,
		      struct err_ctx *err);

int azure_appconfig_sync(struct azure_client *c, const struct job *job, const char *owner,
			 const char *endpoint, const struct desired *items, size_t n,
			 struct report *rep, struct err_ctx *err);

#endif
