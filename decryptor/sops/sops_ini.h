/* sops_ini.h — the INI store (go-ini semantics as sops uses them): the tree is
 * section → {key → string}, with the implicit DEFAULT section first; comment lines
 * (';' or '#') become comment items (a section's before its keys, a key's right after
 * it); keys and values are trimmed; '"""' multi-line values are read. */
#ifndef SMC_SOPS_INI_H
#define SMC_SOPS_INI_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "decryptor/sops/sops_tree.h"

#define SOPS_INI_DEFAULT "DEFAULT"

int sops_ini_parse(const uint8_t *in, size_t n, struct sops_tree *t, struct err_ctx *err);
int sops_ini_emit(const struct sops_tree *t, struct secbuf *out);

#endif
