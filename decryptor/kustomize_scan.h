/* kustomize_scan.h — the pre-scan of kustomize build mode: before any kustomize runs, every
 * kustomization the build can reach is read with libyaml and refused when it could make
 * kustomize reach outside the source tree, fetch anything, or run a plugin.
 *
 * Reach. The build starts at <kustomize_path>/ (a directory of the tree; "" or "." = the
 * root). A directory's kustomization file is `kustomization.yaml`, `kustomization.yml` or
 * `Kustomization` (two of them in one directory is refused, as kustomize does). Entries of
 * resources/bases/components (and of generators/transformers/validators, see below) that
 * name a directory of the tree holding a kustomization file are visited in turn (each once).
 *
 * Refusals (ERR_PERM, or ERR_INVAL for a malformed file; every message names the
 * kustomization file and the field, e.g. "base/kustomization.yaml: resources[2]: ..."):
 *   - a remote reference in any path field: "://", "git@", "github.com/", "gitlab.com/",
 *     "bitbucket.org/", "?ref=" anywhere in the entry;
 *   - an absolute path, or a relative one whose ".." climb past the tree root;
 *   - a resources/bases/components entry that is neither a file nor a directory of the tree
 *     (kustomize would then try it as a remote Git base);
 *   - a directory used as a resource/base/component without a kustomization file;
 *   - generators/transformers/validators entries that are not kustomization directories
 *     (plugin configuration files or inline configs: plugins are disabled);
 *   - helmCharts, helmGlobals, helmChartInflationGenerator (Helm would run);
 *   - a top-level key that is not ASCII or a merge key "<<" (kustomize reads its fields
 *     through Go's case-insensitive JSON decoding; field names are compared the same way
 *     here, case-insensitively, so `Resources:` is checked like `resources:`);
 *   - a field of the wrong shape (a list that is not a list, an entry that is not a string).
 * Limits: KUSTOMIZE_SCAN_MAX_FILES kustomizations, KUSTOMIZE_SCAN_MAX_FILE_SIZE bytes each,
 * KUSTOMIZE_SCAN_MAX_WORK path entries checked in all (aliases count each time) — ERR_TOOBIG.
 *
 * Besides the verdict the scan reports the tree files the reachable kustomizations read:
 * resource files, generator inputs (secretGenerator / configMapGenerator `files`, `envs`,
 * `env`) and other inputs (patch files, replacements, crds, configurations, openapi). The
 * kustomize mode decides from them which SOPS files to decrypt before the build. */
#ifndef SMC_KUSTOMIZE_SCAN_H
#define SMC_KUSTOMIZE_SCAN_H

#include <stddef.h>

#include "common/err.h"
#include "proto/tree.h"

#define KUSTOMIZE_SCAN_MAX_FILES 256		/* kustomization files visited */
#define KUSTOMIZE_SCAN_MAX_FILE_SIZE (1u << 20) /* bytes of one kustomization file */
#define KUSTOMIZE_SCAN_MAX_WORK 100000		/* path entries checked in one scan */
#define KUSTOMIZE_SCAN_MAX_REFS 20000		/* file references reported */

enum kustomize_ref_kind {
	KUSTOMIZE_REF_RESOURCE = 0,  /* a file listed under resources/bases/components */
	KUSTOMIZE_REF_GENERATOR = 1, /* a secretGenerator/configMapGenerator input */
	KUSTOMIZE_REF_OTHER = 2,     /* a patch, replacement, crd, configuration, openapi file */
};

struct kustomize_ref {
	char *path; /* owned: tree path of the file */
	char *from; /* owned: tree path of the kustomization that names it */
	enum kustomize_ref_kind kind;
};

struct kustomize_scan {
	char **kustomizations; /* owned: tree paths of the kustomization files visited */
	size_t nkust;
	struct kustomize_ref *refs; /* owned: file references, duplicates possible */
	size_t nrefs;
};

/* Scans the kustomizations reachable from kustomize_path in t (both borrowed). On success
 * *out (owned; kustomize_scan_free) lists them and their file references; on failure
 * *out is untouched and err (may be NULL) names the kustomization file and the field.
 * ERR_NOTFOUND when kustomize_path holds no kustomization file. */
int kustomize_scan_run(const struct tree *t, const char *kustomize_path, struct kustomize_scan *out,
		       struct err_ctx *err);

/* Frees what kustomize_scan_run gave; the struct is left empty. NULL is a no-op. */
void kustomize_scan_free(struct kustomize_scan *s);

/* Normalises a kustomize_path (or any relative directory) the way the scan does: no
 * leading "./", no empty or "." components, no trailing '/'; "" for the root. Owned *out.
 * ERR_INVAL for an absolute path or a ".." component past the root. */
int kustomize_scan_norm_dir(const char *path, char **out);

#endif
