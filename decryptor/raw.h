/* raw.h — raw mode of the decryptor: find the profile directories of one environment in a
 * tree and turn their three files into the desired state.
 *
 * Discovery. Under base_path ("" or "." = the tree root; a leading "./" and trailing '/'
 * are ignored) every directory named `deployment-configuration`, at any depth, belongs to
 * one service. Its profile directory for an environment is
 *     <svc>/deployment-configuration/profiles/<environment>/   or, when that does not exist,
 *     <svc>/deployment-configuration/<environment>/
 * (a directory exists when the tree holds any file below it). When both exist for one
 * service the profiles/ form wins and the other directory is ignored entirely (not merged).
 * The service's naming group is <svc>, the name of the directory that holds
 * deployment-configuration; when deployment-configuration sits directly at base_path the
 * group is the last component of base_path, or "default" when base_path is the root.
 * In each profile directory:
 *     application.secrets.env   → secrets (decryptor/parse_env.h: kustomize rules)
 *     application.secrets.yaml  → secrets (decryptor/parse_yaml.h: flattened a.b / a[0])
 *     application.properties    → configs (decryptor/parse_properties.h: Java rules)
 * Each kv gets group = <svc> and origin "<tree path>:<line>". Services are visited in path
 * order, files in the order above.
 * Refusals: no profile directory at all → ERR_NOTFOUND naming base_path and environment;
 * one (group, key) twice among the secrets, or twice among the configs (the env and yaml
 * files of one service, or two services whose directories share a name) → ERR_CONFLICT
 * naming both origins, never a value; an invalid environment (Kubernetes label value
 * `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, at most 63 bytes, no "..") or base_path
 * (a ".." component) → ERR_INVAL. */
#ifndef SMC_RAW_H
#define SMC_RAW_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/kvlist.h"
#include "common/secbuf.h"
#include "proto/msg.h"
#include "proto/tree.h"

#define RAW_MAX_ENVIRONMENT 63 /* bytes in an environment name (label value) */
#define RAW_MAX_SERVICES 1000  /* profile directories in one job */

/* A hook that turns a tree file into plaintext: SOPS decryption plugs in here. Returns 0
 * with *plain an owned secbuf (the caller frees it with secbuf_free) and *encrypted telling
 * whether the file was encrypted; on failure sets err (naming f->path, never a value) and
 * writes neither. arg is the hook's own state (borrowed); f is borrowed. */
typedef int (*raw_open_fn)(void *arg, const struct tree_file *f, struct secbuf **plain,
			   bool *encrypted, struct err_ctx *err);

/* The passthrough hook: a copy of the file's bytes, *encrypted = false. arg is unused. */
int raw_open_plain(void *arg, const struct tree_file *f, struct secbuf **plain, bool *encrypted,
		   struct err_ctx *err);

/* Collects the secrets and configs of `environment` under base_path in t (rules above).
 * t, base_path (may be NULL = root), environment and open_arg are borrowed; open must not
 * be NULL. secrets and configs must be initialised, empty lists. On success they own the
 * entries, *files is an owned array of *nfiles reports (one per file read, in reading
 * order; release with raw_files_free) — *files is NULL when *nfiles is 0. On failure
 * nothing is written and err (may be NULL) says why. */
int raw_collect(const struct tree *t, const char *base_path, const char *environment,
		raw_open_fn open, void *open_arg, struct kvlist *secrets, struct kvlist *configs,
		struct file_report **files, size_t *nfiles, struct err_ctx *err);

/* Frees an array from raw_collect: each path, then the array. NULL is a no-op. */
void raw_files_free(struct file_report *files, size_t n);

/* 0 when environment is a valid profile name (rules above), ERR_INVAL otherwise. */
int raw_environment_check(const char *environment);

#endif
