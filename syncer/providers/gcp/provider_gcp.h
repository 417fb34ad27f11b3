/* provider_gcp.h — the GCP provider: secrets to Secret Manager (gcp_secrets.h), configs to
 * Parameter Manager (gcp_params.h) when configs.store is "parameterManager", else to
 * Secret Manager like secrets (as the reference controller does). */
#ifndef SMC_PROVIDER_GCP_H
#define SMC_PROVIDER_GCP_H

#include "syncer/provider.h"

extern const struct provider_ops provider_gcp;

#endif
