/* provider.h — what every secret/config store implements (local SQLite store now; AWS,
 * GCP and Azure next). The syncer core (syncer/sync.c) computes remote names, then calls
 * one provider per job:
 *
 *   open → begin → sync(SECRETS) → sync(CONFIGS) → commit   (or rollback on any failure)
 *
 * sync() makes the store mirror `items` for one kind, Git winning:
 *   - absent remotely                        → create with ownership marks  → ITEM_WRITTEN
 *   - present without smc's ownership mark    → untouched unless adopt        → ITEM_REFUSED
 *     (managed-by=secret-manager-controller and owner=<ns>/<name>; owned by another
 *     config is refused too)
 *   - latest value equal                     → nothing written               → ITEM_UNCHANGED
 *   - latest value differs (Git changed, or someone changed it by hand)
 *                                            → one new version (unless !trigger_update)
 *   - owned by this config but not in items  → per policy: RETAINED, or disabled/deleted
 *                                              → ITEM_PRUNED
 * With job->policy.dry_run nothing is written and outcomes say what would happen.
 * A failure on one item is reported on that item (ITEM_FAILED) and does not stop the
 * others; sync() itself fails only when the store as a whole is unusable. */
#ifndef SMC_PROVIDER_H
#define SMC_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "proto/msg.h"

#define PROVIDER_MANAGED_BY_KEY "managed-by"
#define PROVIDER_MANAGED_BY_VALUE "secret-manager-controller"
#define PROVIDER_OWNER_KEY "owner"

struct desired {
	const char *name;            /* remote name after naming rules (borrowed) */
	const char *key;             /* source key (borrowed) */
	const struct secbuf *value;  /* borrowed */
	const char *prefix;          /* naming prefix used for name: the job's prefix, else the
	                              * item's group (raw mode: its service); borrowed, may be
	                              * NULL. AWS Parameter Store paths default to /{prefix}/{env} */
};

/* The items a sync produced; grown by report_add. */
struct report {
	struct result_item *items;
	size_t n, cap;
};

#define REPORT_MAX_ITEMS (2 * (size_t)KVLIST_MAX_ITEMS) /* items plus pruned ones (= MSG_MAX_ITEMS) */

void report_init(struct report *r);
void report_free(struct report *r);
/* Appends one item (copies the strings; key and reason may be NULL). */
int report_add(struct report *r, const char *name, const char *key, enum item_kind kind,
	       enum item_outcome outcome, const char *reason);
/* How many items of kind have outcome. */
size_t report_count(const struct report *r, enum item_kind kind, enum item_outcome outcome);
/* The first item of kind named name, or NULL. Borrowed, valid until the report changes. */
const struct result_item *report_find(const struct report *r, enum item_kind kind,
				      const char *name);

struct provider_ops {
	const char *kind; /* the value of job.provider.kind it serves */
	bool transactional; /* rollback undoes sync() (the local store); clouds cannot */
	/* Opens the store for this job. creds: the credentials the watcher read from the
	 * Secret the job names (job->provider.secret_name), checked by the syncer core to be
	 * this job's and this provider's; NULL when the job names no Secret (the syncer's own
	 * identity is used). Borrowed: a provider copies what it keeps. Owned out-parameter
	 * *state (close()). */
	int (*open)(const struct job *job, const struct msg_credentials *creds, void **state,
		    struct err_ctx *err);
	/* Starts the job's unit of work (one transaction for the local store). */
	int (*begin)(void *state, struct err_ctx *err);
	int (*sync)(void *state, const struct job *job, enum item_kind kind,
		    const struct desired *items, size_t n, struct report *rep, struct err_ctx *err);
	int (*commit)(void *state, struct err_ctx *err);
	void (*rollback)(void *state);
	void (*close)(void *state);
};

/* The provider serving kind, or NULL. Borrowed static table entry. */
const struct provider_ops *provider_find(const char *kind);

/* "<ns>/<name>" of the owning config, written into the ownership mark. Owned (free()). */
char *provider_owner(const struct job *job);

/* Whether an existing remote object must be left alone. own: 1 this config's, 0 no
 * ownership mark, -1 another config's (named other). 1 (refused, reason filled: "exists
 * and is owned by <other>" or "exists without <mark>managed-by=secret-manager-controller
 * (set adoptExisting to take it over)", mark being e.g. "label " or "") or 0 (it may be
 * written: ours, or unmarked with adopt_existing). */
int provider_refuses(const struct job *job, int own, const char *other, const char *mark,
		     char *reason, size_t n);

#endif
