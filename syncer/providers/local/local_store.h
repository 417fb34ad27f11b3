/* local_store.h — the embedded versioned store (provider kind "local"): one SQLite file
 * that behaves like a cloud secret manager (objects with ownership marks and states,
 * numbered immutable versions), plus a small read API for the CLI (`smc get`, `smc list`).
 *
 * File: job.provider.store_path, or LOCAL_STORE_DEFAULT_PATH when empty. Missing parent
 * directories are created 0700, the file is created 0600 (group/other bits of an existing
 * file we own are removed), a symlink is refused. journal_mode=DELETE, secure_delete=ON,
 * busy timeout LOCAL_STORE_BUSY_TIMEOUT_MS: a store held by another writer gives
 * ERR_LOCKED naming the path; a read-only file or directory gives ERR_PERM naming it.
 *
 * Schema (PRAGMA user_version = LOCAL_STORE_SCHEMA_VERSION):
 *   objects(id, kind 'secret'|'config', name, managed_by, owner, created_at, updated_at,
 *           state 'enabled'|'disabled'|'deleted', UNIQUE(kind, name))
 *   versions(object_id, version 1..n, value BLOB, created_at, written_by, state
 *           'enabled'|'disabled'|'destroyed', digest = SHA-256 of the value smc wrote)
 * The digest only tells "smc wrote this row as it is" from "someone changed the row by
 * hand" (drift); it reveals nothing the plaintext value next to it does not.
 *
 * Semantics of sync() are those of provider.h, one transaction per job, plus:
 *   - an object owned (managed-by mark) by another config is refused even with
 *     adoptExisting, which only takes over objects without any mark;
 *   - triggerUpdate=false leaves every enabled object as it is (UNCHANGED, reason
 *     "triggerUpdate=false"); disabled or deleted objects back in Git count as absent and
 *     are re-enabled;
 *   - re-enabling: a disabled object gets a new version only when its value differs; a
 *     deleted one always gets a new version (history rows are kept), like a re-created
 *     cloud secret;
 *   - drift: the latest enabled version was added by someone else (written_by != 'smc')
 *     or its value no longer matches the digest smc stored → a new version with the Git
 *     value, reason "drift corrected: version N";
 *   - dry run opens the file read-only (or an empty in-memory store when there is no file
 *     yet) and only reports;
 *   - each item runs in a savepoint: an item that fails is undone alone and reported
 *     ITEM_FAILED (the syncer core then rolls the whole job back).
 * Plaintext: values are bound with SQLITE_STATIC from secbufs and read back into secbufs at
 * once; SQLite's own page cache and the file necessarily hold them (secure_delete zeroes
 * freed pages, but the cache is not mlocked nor wiped — a limit of using SQLite). */
#ifndef SMC_LOCAL_STORE_H
#define SMC_LOCAL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "syncer/provider.h"

#define LOCAL_STORE_DEFAULT_PATH "./.smc/store.db"
#define LOCAL_STORE_SCHEMA_VERSION 1
#define LOCAL_STORE_BUSY_TIMEOUT_MS 2000
#define LOCAL_STORE_MAX_VALUE ((size_t)1 << 20)   /* bytes of one value */
#define LOCAL_STORE_MAX_OBJECTS 1000000           /* rows listed or pruned in one call */
#define LOCAL_STORE_MAX_PATH 4096

/* The provider (kind "local"); provider_find("local") returns it. */
extern const struct provider_ops local_store_ops;

/* The value of version (0 = latest enabled) of the enabled object kind ("secret" |
 * "config") / name, read from the store at path (NULL or "" = default) opened read-only.
 * Owned out-parameter *value (secbuf_free); *version_out gets its number (may be NULL).
 * ERR_NOTFOUND when the store, object or version does not exist or is disabled/deleted. */
int local_store_get(const char *path, const char *kind, const char *name, int64_t version,
		    struct secbuf **value, int64_t *version_out, struct err_ctx *err);

struct local_store_entry {
	char *kind;             /* "secret" | "config" */
	char *name;
	char *state;            /* "enabled" | "disabled" | "deleted" */
	char *owner;            /* may be NULL */
	char *managed_by;       /* may be NULL */
	int64_t latest_version; /* latest enabled version, 0 when none */
	int64_t versions;       /* number of version rows */
	int64_t created_at, updated_at; /* unix seconds */
};

/* Every object (kind NULL) or those of kind, sorted by kind then name; no values. Owned
 * out-parameters *out and *n (local_store_entries_free). A store without schema yet is
 * empty; a missing file is ERR_NOTFOUND. */
int local_store_list(const char *path, const char *kind, struct local_store_entry **out,
		     size_t *n, struct err_ctx *err);
void local_store_entries_free(struct local_store_entry *e, size_t n);

#endif
