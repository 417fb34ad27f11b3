/* sops.h — native SOPS: read every file the real sops writes (YAML, JSON, dotenv, INI,
 * binary) with age and OpenPGP keys from the keyring, verify the MAC, and write the
 * plaintext in the file's own format (as `sops -d` prints it); and encrypt plaintext files
 * into the same store format (for `smc encrypt`). Errors name the file and the reason,
 * never a value. See docs/sops-age-format.md. */
#ifndef SMC_SOPS_H
#define SMC_SOPS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/secbuf.h"

struct keyring;
struct pgp_home;

#define SOPS_MAX_OUTPUT (128u << 20) /* plaintext or ciphertext file produced */
#define SOPS_MAX_RECIPIENTS 32

enum sops_format { SOPS_FMT_YAML, SOPS_FMT_JSON, SOPS_FMT_DOTENV, SOPS_FMT_INI, SOPS_FMT_BINARY };

/* Store format from the file name, as sops picks it (.yaml/.yml, .json, .env, .ini, else
 * binary). */
enum sops_format sops_format_from_name(const char *file_name);

/* 1 when data parses in its store and carries sops metadata, 0 otherwise. */
int sops_is_encrypted(const char *file_name, const uint8_t *data, size_t n);

/* Decrypts a SOPS file with the keys of kr allowed for namespace ns (NULL = all keys).
 * Owned *plain: the file's plaintext in its own format. Nothing is returned for a file
 * that fails. ERR_NOTFOUND: no sops metadata; ERR_NOKEY: "no usable key (...)" naming
 * the recipient types and keys tried; ERR_CRYPTO: a value or the MAC failed; ERR_INVAL /
 * ERR_TOOBIG: malformed or over a limit. */
int sops_decrypt(const struct keyring *kr, const char *ns, const char *file_name,
		 const uint8_t *data, size_t n, struct secbuf **plain, struct err_ctx *err);

/* What `smc decrypt FILE` opens: a plain age file (binary or armored) is decrypted with
 * the keyring's age identities, anything else goes to sops_decrypt. Owned *plain. */
int sops_decrypt_auto(const struct keyring *kr, const char *ns, const char *file_name,
		      const uint8_t *data, size_t n, struct secbuf **plain, struct err_ctx *err);

struct sops_encrypt_opts {
	const char *const *age;       /* age recipients ("age1...") */
	size_t nage;
	const char *const *pgp;       /* OpenPGP fingerprints */
	size_t npgp;
	struct pgp_home *pgp_home;    /* holds the public keys of pgp[] (required if npgp) */
	const char *encrypted_regex;  /* NULL: unencrypted_suffix "_unencrypted" */
	const char *unencrypted_suffix;
	int mac_only_encrypted;
	int key_groups;               /* 1: every recipient is its own key group (Shamir) */
	int threshold;                /* with key_groups; 0 = number of groups */
};

/* Encrypts a plaintext file (store from file_name) to the recipients; the SOPS file is
 * appended to out (caller-owned; it holds no plaintext). */
int sops_encrypt(const struct sops_encrypt_opts *o, const char *file_name,
		 const uint8_t *plain, size_t n, struct buf *out, struct err_ctx *err);

#endif
