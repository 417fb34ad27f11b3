/* provider_azure.h — the Azure provider: secrets in Key Vault (azure_keyvault.h), configs
 * in App Configuration (azure_appconfig.h) when job.configs.enabled. Vault URL from
 * job.provider.endpoint, else vaultName (a https:// URL as is, else
 * https://{vaultName}.vault.azure.net); credentials per azure_auth.h.
 * Azure has no transaction: begin/commit/rollback only bracket the job, each write is made
 * when sync() runs and stays. */
#ifndef SMC_PROVIDER_AZURE_H
#define SMC_PROVIDER_AZURE_H

#include "syncer/provider.h"

extern const struct provider_ops provider_azure; /* kind "azure" */

#endif
