/* sops_dotenv.h — the dotenv store as sops reads and writes it: one "key=value" per line,
 * key = bytes before the first '=' (not trimmed), "\n" escapes in values, '#' comment
 * lines. All values are strings. */
#ifndef SMC_SOPS_DOTENV_H
#define SMC_SOPS_DOTENV_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "decryptor/sops/sops_tree.h"

int sops_dotenv_parse(const uint8_t *in, size_t n, struct sops_tree *t, struct err_ctx *err);
int sops_dotenv_emit(const struct sops_tree *t, struct secbuf *out);

#endif
