/* decrypt_file.h — the hook that turns one file of the tree into plaintext: a SOPS file is
 * decrypted with the keys allowed for the job's namespace (MAC verified; nothing returned
 * for a file that fails), anything else passes through. Raw mode and kustomize mode both
 * open their inputs through it. */
#ifndef SMC_DECRYPT_FILE_H
#define SMC_DECRYPT_FILE_H

#include <stdbool.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "proto/tree.h"

struct keyring;

struct decrypt_file_ctx {
	const struct keyring *kr; /* borrowed; NULL when the decryptor has no keys */
	const char *ns;           /* the job's namespace, for the key policy */
};

/* A raw_open_fn: arg is a struct decrypt_file_ctx. Owned *plain; *encrypted tells whether
 * the file was SOPS-encrypted. Errors name the file, never a value. */
int decrypt_file_open(void *arg, const struct tree_file *f, struct secbuf **plain,
		      bool *encrypted, struct err_ctx *err);

#endif
