/* azure_keyvault.h — Key Vault secrets sync (REST api-version 7.5).
 * One sync:
 *   1. list the vault's secrets (GET /secrets, following nextLink on the vault only):
 *      name, tags of the latest version (managed-by / owner), enabled;
 *   2. refuse a desired secret owned by another config, or without smc's tags unless
 *      adopt_existing — but Key Vault tags are per version, so an untagged latest version
 *      (a value set by hand) is still smc's when an older version carries its mark
 *      (GET /secrets/{name}/versions); GET the latest value of the others concurrently;
 *   3. write (PUT, tags on every version: Key Vault tags are per version) what is absent,
 *      disabled or different — never when dry_run, only new ones when !trigger_update;
 *      A PUT whose answer was lost (transport error or 5xx: it may have been stored) is
 *      not resent blindly: the latest version is read back, and the value is put again
 *      only when it is not there (at most 4 times), so a lost answer never makes a second
 *      version;
 *   4. a PUT answered 409 ObjectIsDeletedButRecoverable: when the deleted secret carries
 *      our tags (or adopt), recover it, poll until it is back, then compare and set;
 *   5. owned secrets that left Git, when prune (or delete_all): Retain → retained,
 *      Disable → PATCH the latest version attributes.enabled=false, Delete → DELETE
 *      (soft delete; smc never purges).
 * A failed item is ITEM_FAILED with "<code> on <op> for <name>"; the others go on. */
#ifndef SMC_AZURE_KEYVAULT_H
#define SMC_AZURE_KEYVAULT_H

#include <stddef.h>

#include "syncer/provider.h"
#include "syncer/providers/azure/azure_client.h"

#define AZURE_KV_API_VERSION "7.5"
#define AZURE_KV_SCOPE "https://vault.azure.net/.default"
#define AZURE_KV_MAX_NAME 127
#define AZURE_KV_MAX_VALUE ((size_t)25 << 10) /* Key Vault's limit on one value */
#define AZURE_KV_MAX_PAGES 1000		      /* list pages followed */
#define AZURE_KV_RECOVER_POLLS 50	      /* GETs while a recovery completes */
#define AZURE_KV_RECOVER_POLL_MS 200
#define AZURE_KV_BINARY_TYPE "application/octet-stream;base64"

/* The vault base URL without a trailing '/': endpoint when set, else a vault_name starting
 * with https:// as is, else https://{vault_name}.vault.azure.net. Owned *out (free()). */
int azure_kv_vault_url(const char *endpoint, const char *vault_name, char **out,
		       struct err_ctx *err);
/* 1 when name is a valid Key Vault secret name ([0-9A-Za-z-]{1,127}). */
int azure_kv_valid_name(const char *name);
/* Ownership of a tags object: 1 ours (managed-by = secret-manager-controller and owner =
 * owner), 0 no managed-by mark, -1 marked but owned by another config (its owner, or
 * "?", copied into other). */
int azure_kv_tags_owner(const json_t *tags, const char *owner, char *other, size_t osz);
/* The secret name in a Key Vault id ("https://v/secrets/NAME[/VERSION]" or
 * ".../deletedsecrets/NAME"), into dst; ERR_INVAL when absent or invalid. */
int azure_kv_id_name(const char *id, char *dst, size_t dsz);
/* The version in a SecretBundle id, "" when absent. */
int azure_kv_id_version(const char *id, char *dst, size_t dsz);

int azure_keyvault_sync(struct azure_client *c, const struct job *job, const char *owner,
			const char *vault_url, const struct desired *items, size_t n,
			struct report *rep, struct err_ctx *err);

#endif
