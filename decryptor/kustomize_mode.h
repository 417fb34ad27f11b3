/* kustomize_mode.h — kustomize build mode of the decryptor (spec.secrets.kustomizePath set):
 * the desired state is what `kustomize build <kustomizePath>` gives.
 *
 *   1. pre-scan (decryptor/kustomize_scan.h): the kustomizations the build reaches are
 *      refused when they could fetch, escape the tree or run plugins;
 *   2. SOPS inputs before the build: every file those kustomizations name that carries SOPS
 *      metadata and is not a resource (secretGenerator/configMapGenerator `envs`, `env`,
 *      `files`, patches, ...) is decrypted with the keys allowed for the job's namespace and
 *      replaces its ciphertext in the tree handed to kustomize; a resource file stays
 *      encrypted; files no kustomization names are passed untouched;
 *   3. the build (decryptor/kustomize_runner.h), out of process and sandboxed;
 *   4. the output is read with libyaml as a YAML stream, document by document. A document
 *      with a top-level `sops` key is decrypted now (its bytes in the stream, as kustomize
 *      wrote them); when kustomize changed it so that its MAC no longer verifies, the error
 *      says so and suggests the secretGenerator pattern. Then every `Secret` gives secrets
 *      (`data` base64-decoded, then `stringData`, which wins for a key in both, as in
 *      Kubernetes) and every `ConfigMap` gives configs (`data`, then `binaryData`
 *      base64-decoded); other kinds are ignored. Each kv has group "default" (the naming
 *      prefix of kustomize mode when spec.secrets.prefix is empty, as in the reference
 *      controller) and origin "<Kind>/<namespace>/<name>" ("<Kind>/<name>" without a
 *      namespace). The same key from two resources (two Secrets, or two ConfigMaps) is
 *      ERR_CONFLICT naming both resources.
 * Values only ever live in secbufs here (and in libyaml's buffers, wiped before release);
 * error messages name files, resources and keys, never values — a kustomize error line is
 * also cleared of any word that occurs in a file decrypted for the build. */
#ifndef SMC_KUSTOMIZE_MODE_H
#define SMC_KUSTOMIZE_MODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/kvlist.h"
#include "decryptor/kustomize_runner.h"
#include "proto/msg.h"
#include "proto/tree.h"

struct keyring;

#define KUSTOMIZE_MODE_GROUP "default"		   /* naming group of every kv */
#define KUSTOMIZE_MODE_MAX_DOCS 20000		   /* documents in the build output */
#define KUSTOMIZE_MODE_MAX_ORIGIN 800		   /* bytes of "<Kind>/<ns>/<name>" */
#define KUSTOMIZE_MODE_MAX_VALUE ((size_t)8 << 20) /* bytes of one decoded value */

/* Collects the desired state of job (mode.kustomize_path set) from tree t. r is the running
 * kustomize helper, kr the keyring (NULL: any SOPS file is refused for want of keys); job,
 * t, kr borrowed. Contract of decryptor/raw.h raw_collect: secrets and configs must be
 * initialised, empty lists; on success they own the entries and *files is an owned array of
 * *nfiles reports (raw_files_free; NULL when 0): each file decrypted before the build
 * (count 0) and each resource that gave keys (path "<Kind>/<ns>/<name>", encrypted when it
 * was a SOPS resource). On failure nothing is written and err says why. */
int kustomize_collect(struct kustomize_runner *r, const struct keyring *kr, const struct job *job,
		      const struct tree *t, struct kvlist *secrets, struct kvlist *configs,
		      struct file_report **files, size_t *nfiles, struct err_ctx *err);

/* Step 4 alone: reads the YAML stream yaml[0..n) (borrowed) as kustomize_collect does,
 * decrypting SOPS documents with kr for namespace ns (both may be NULL). Same output
 * contract (files: one report per resource that gave keys). */
int kustomize_mode_parse_stream(const struct keyring *kr, const char *ns, const uint8_t *yaml,
				size_t n, struct kvlist *secrets, struct kvlist *configs,
				struct file_report **files, size_t *nfiles, struct err_ctx *err);

#endif
