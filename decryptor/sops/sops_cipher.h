/* sops_cipher.h — SOPS value encryption: "ENC[AES256_GCM,data:..,iv:..,tag:..,type:..]",
 * AES-256-GCM with the data key and AAD = the value's path (docs/sops-age-format.md §2). */
#ifndef SMC_SOPS_CIPHER_H
#define SMC_SOPS_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/secbuf.h"
#include "decryptor/sops/sops_tree.h"

#define SOPS_DATA_KEY_LEN 32
#define SOPS_IV_LEN 32       /* what sops writes */
#define SOPS_MAX_IV 64       /* longest IV accepted */
#define SOPS_GCM_TAG 16

/* 1 when s[0..n) starts with "ENC[AES256_GCM," */
int sops_cipher_is_enc(const void *s, size_t n);

/* Decrypts one ENC[...] value s[0..n) with key[32] and aad[0..aadlen); appends the
 * plaintext to out (caller-owned) and sets *type (*is_comment = 1 for type:comment).
 * ERR_INVAL when the syntax is wrong, ERR_CRYPTO when authentication fails. */
int sops_cipher_decrypt(const uint8_t *key, const void *s, size_t n, const char *aad,
			size_t aadlen, struct secbuf *out, enum sops_type *type, int *is_comment);

/* Encrypts pt[0..n) with a fresh random 32-byte IV; appends "ENC[...,type:<type_name>]"
 * to out (caller-owned; the result is ciphertext). */
int sops_cipher_encrypt(const uint8_t *key, const void *pt, size_t n, const char *aad,
			size_t aadlen, const char *type_name, struct buf *out);

#endif
