/* sync.h — the syncer core: names the desired items, refuses collisions, and drives one
 * provider through one unit of work per job:
 *
 *   open → begin → sync(SECRETS) → sync(CONFIGS, only when job.configs.enabled) → commit
 *
 * Names: naming_remote_name(job.provider.kind, prefix, key, job.naming.suffix) with prefix
 * = job.naming.prefix when set and non-empty, else the kv's group, else "". Configs are
 * named (and synced, and pruned) only when job.configs.enabled; otherwise they are ignored
 * and appear nowhere in the report. Two keys of one kind mapping to one remote name is
 * ERR_CONFLICT naming both keys and their origins, before the store is even opened.
 * All or nothing: any failure — open, begin, a sync call, an item reported ITEM_FAILED,
 * commit — rolls the unit of work back, so a transactional store (local) is left exactly
 * as it was. */
#ifndef SMC_SYNC_H
#define SMC_SYNC_H

#include "common/err.h"
#include "proto/msg.h"
#include "syncer/provider.h"

/* Makes the store of v->job.provider.kind mirror v. creds: what the watcher sent for this
 * job (CREDENTIALS), or NULL; a job that names a credentials Secret fails with ERR_NOKEY
 * unless creds are this job's and this provider's. On success the items (written,
 * unchanged, refused, pruned, retained) are appended to rep (caller-initialised, caller
 * frees with report_free). On failure err says why (never a value) and rep receives only
 * the ITEM_FAILED items, if any. ERR_UNSUPPORTED for an unknown provider kind; ERR_REMOTE
 * when items failed. */
int sync_run(const struct msg_values *v, const struct msg_credentials *creds, struct report *rep,
	     struct err_ctx *err);

/* sync_run with an explicit provider (borrowed) instead of provider_find's. */
int sync_run_ops(const struct provider_ops *ops, const struct msg_values *v,
		 const struct msg_credentials *creds, struct report *rep,
		 struct err_ctx *err);

#endif
