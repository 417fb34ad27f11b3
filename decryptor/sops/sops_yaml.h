/* sops_yaml.h — the YAML store: libyaml events into the ordered tree (order, comments,
 * scalar types, aliases expanded under the node budget, duplicate keys refused), and a
 * block-style writer (indent 4, as sops writes). */
#ifndef SMC_SOPS_YAML_H
#define SMC_SOPS_YAML_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "decryptor/sops/sops_tree.h"

#define SOPS_YAML_MAX_ANCHORS 1024
#define SOPS_YAML_MAX_PENDING 4096 /* comments waiting for their container */

/* Parses in[0..n) into t (caller-owned, empty). On failure t is cleared. */
int sops_yaml_parse(const uint8_t *in, size_t n, struct sops_tree *t, struct err_ctx *err);
/* Writes every document of t (separated by "---") to out (caller-owned). */
int sops_yaml_emit(const struct sops_tree *t, struct secbuf *out);
/* Writes a scalar as a YAML flow scalar (plain when safe, else double-quoted). */
int sops_yaml_put_scalar(struct secbuf *out, const struct sops_node *n);

#endif
