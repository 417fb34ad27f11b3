/* gcp_secrets.h — GCP Secret Manager as a store for secrets (and for configs when
 * configs.store is "secretManager" or empty, as the reference controller does).
 *
 * One sync, for the items of one kind of one config:
 *   1. secrets.list filtered on labels.managed-by (paginated): what this config owns (the
 *      marks of gcp_codec.h), and what other configs own;
 *   2. versions.access "latest" of every owned desired secret, concurrently; the payload is
 *      checked against its dataCrc32c and compared in constant time;
 *   3. secrets.create (labels, owner annotation, automatic replication) for the others; on
 *      409 ALREADY_EXISTS secrets.get decides: ours → compare, another config's or
 *      unmarked → REFUSED, or adopted (secrets.patch of labels and annotations) when
 *      adoptExisting;
 *   4. secrets.addVersion (payload + dataCrc32c) only where the value differs or there is
 *      no enabled latest version. addVersion is not idempotent, so after a 500/502/504 or
 *      a lost answer it is not simply sent again: the latest version is read back and the
 *      write repeated only if the value is still not there (no duplicate versions); 429
 *      and 503 (refused before any work) are retried with backoff;
 *   5. owned secrets of this kind that left Git, when prune is on: Retain → RETAINED,
 *      Disable → every ENABLED version disabled, Delete → secrets.delete.
 * triggerUpdate off: an existing secret is never given a new version. dry_run: reads only. */
#ifndef SMC_GCP_SECRETS_H
#define SMC_GCP_SECRETS_H

#include <stddef.h>

#include "common/err.h"
#include "syncer/provider.h"
#include "syncer/providers/gcp/gcp_client.h"

#define GCP_SM_MAX_NAME 255
#define GCP_SM_MAX_VALUE 65536 /* payload.data limit */
#define GCP_SM_LIST_PAGE 250
#define GCP_SM_MAX_PAGES 1000
#define GCP_SM_MAX_ROUNDS 6 /* compare/create/write rounds of one sync */

/* Makes Secret Manager mirror items of kind (ITEM_SECRET, or ITEM_CONFIG kept in Secret
 * Manager) for the config job->config.ns/name. Outcomes go to rep; returns negative only
 * when the store is unusable (the list failed). */
int gcp_secrets_sync(struct gcp_client *c, const struct job *job, enum item_kind kind,
		     const struct desired *items, size_t n, struct report *rep,
		     struct err_ctx *err);

/* 1 when name is a valid secret id ([A-Za-z0-9_-], 1..255). */
int gcp_secrets_valid_name(const char *name);

#endif
