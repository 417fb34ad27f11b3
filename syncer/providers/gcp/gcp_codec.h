/* gcp_codec.h — the small encodings the GCP provider needs: CRC32C (Castagnoli, the
 * dataCrc32c of Secret Manager payloads), base64 and base64url into and out of secbufs,
 * wiping jansson trees that held secrets, and the ownership marks.
 *
 * Ownership marks (the same on secrets and parameters; labels cannot hold '/' or '.',
 * and Parameter Manager has no annotations):
 *   labels  managed-by=secret-manager-controller
 *           owner-namespace=<ns as a label value>  owner-name=<name as a label value>
 *           item-kind=secret|config  (configs kept in Secret Manager are "config"; a missing
 *           item-kind reads as "secret", so the two kinds never prune each other)
 *   annotation (Secret Manager only) owner=<ns>/<name>, the exact owner; when present it
 *           decides, else the two owner labels do.
 * A label value is the text lower-cased, every character outside [a-z0-9_-] turned into
 * '_', and when longer than 63 characters cut to 54 followed by '-' and 8 hex digits of
 * SHA-256 of the original text. */
#ifndef SMC_GCP_CODEC_H
#define SMC_GCP_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/secbuf.h"

#define GCP_LABEL_MAX 63
#define GCP_LABEL_OWNER_NS "owner-namespace"
#define GCP_LABEL_OWNER_NAME "owner-name"
#define GCP_LABEL_KIND "item-kind"

/* CRC32C of p[0..n): crc32c("123456789") = 0xE3069283. */
uint32_t gcp_crc32c(const void *p, size_t n);



/* text as a label value (see above) into out[GCP_LABEL_MAX + 1]. */
int gcp_label_value(const char *text, char out[GCP_LABEL_MAX + 1]);
/* A new labels object holding the ownership marks of ns/name for kind ("secret"|"config").
 * Owned (json_decref); NULL on allocation failure. */
json_t *gcp_owner_labels(const char *ns, const char *name, const char *kind);
/* Adds the ownership marks to an existing labels object (adoption keeps the others). */
int gcp_owner_labels_merge(json_t *labels, const char *ns, const char *name, const char *kind);
/* Reads the marks of a Secret or Parameter object (labels, annotations): 1 ours, 0 not
 * marked managed-by, -1 marked but owned by another config (its owner into other). */
int gcp_owner_check(json_t *obj, const char *ns, const char *name, char *other, size_t osz);
/* The item-kind label of obj: "config" or "secret" (the default). Borrowed. */
const char *gcp_owner_kind(json_t *obj);

#endif
