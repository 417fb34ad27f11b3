/* gcp_params.h — GCP Parameter Manager as a store for configs (configs.store
 * "parameterManager"): one UNFORMATTED parameter per config key under
 * projects/<p>/locations/<location or "global">/parameters/<name>, carrying the ownership
 * labels of gcp_codec.h (Parameter Manager has no annotations, so the owner labels decide).
 *
 * One sync:
 *   1. parameters.list filtered on labels.managed-by (checked again on our side);
 *   2. for each owned desired parameter, versions.list, then versions.get (view FULL) of the
 *      newest enabled version (greatest createTime), compared in constant time;
 *   3. parameters.create for the others; 409 → parameters.get decides (ours / another
 *      config's / unmarked: REFUSED, or adopted with parameters.patch of the labels);
 *   4. versions.create with the id "v<N+1>" (N = the highest numeric "v<N>" id present):
 *      a retried create of the same id answers 409, which is read back, not duplicated;
 *   5. owned parameters that left Git, when prune is on: Retain → RETAINED, Disable →
 *      every enabled version patched disabled, Delete → every version deleted, then the
 *      parameter.
 * triggerUpdate off: an existing parameter gets no new version. dry_run: reads only. */
#ifndef SMC_GCP_PARAMS_H
#define SMC_GCP_PARAMS_H

#include <stddef.h>

#include "common/err.h"
#include "syncer/provider.h"
#include "syncer/providers/gcp/gcp_client.h"

#define GCP_PM_MAX_VALUE ((size_t)1 << 20) /* payload limit (1 MiB) */
#define GCP_PM_LIST_PAGE 1000
#define GCP_PM_MAX_PAGES 1000
#define GCP_PM_MAX_ROUNDS 5

int gcp_params_sync(struct gcp_client *c, const struct job *job, const struct desired *items,
		    size_t n, struct report *rep, struct err_ctx *err);

/* "global", or job->provider.location when it is a valid location id. NULL if invalid. */
const char *gcp_params_location(const struct job *job);

#endif
