/* sops_json.h — the JSON store (jansson, which keeps object keys in insertion order since
 * 2.8; duplicate keys refused) and sops' tab-indented writer. Also the binary store's
 * envelope, which is JSON. */
#ifndef SMC_SOPS_JSON_H
#define SMC_SOPS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "decryptor/sops/sops_tree.h"

/* Parses a JSON object in[0..n) into t as one document. On failure t is cleared. */
int sops_json_parse(const uint8_t *in, size_t n, struct sops_tree *t, struct err_ctx *err);
/* Writes t's first document as tab-indented JSON with a trailing newline. */
int sops_json_emit(const struct sops_tree *t, struct secbuf *out);
/* Writes s[0..n) as a JSON string literal. */
int sops_json_put_string(struct secbuf *out, const uint8_t *s, size_t n);

#endif
