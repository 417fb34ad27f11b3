/* pgp.h — OpenPGP data-key decryption through gpgme, in a private ephemeral GNUPGHOME
 * created by the decryptor (mkdtemp, mode 0700) that no other process shares. gpgme runs
 * gpg (and gpg starts gpg-agent for the secret keys) with --homedir pointing there;
 * pgp_home_free stops that agent and removes the directory. Decrypted bytes go straight
 * from gpgme into a secbuf through a callback data object. */
#ifndef SMC_PGP_H
#define SMC_PGP_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secbuf.h"

#define PGP_MAX_MESSAGE (1u << 20) /* armored message accepted */
#define PGP_MAX_PLAINTEXT 4096	   /* a data key part is 32 or 33 bytes */
#define PGP_MAX_KEYFILE (4u << 20)
#define PGP_MAX_PARENT 128 /* parent directory of a home (socket paths ≤ 108) */

struct pgp_home;

/* Creates the ephemeral home under $TMPDIR (or /tmp). Owned *out. */
int pgp_home_new(struct pgp_home **out, struct err_ctx *err);
/* Same, as a new private directory inside parent (borrowed; an absolute path of at most
 * PGP_MAX_PARENT bytes), e.g. a sandboxed process's only writable directory. */
int pgp_home_new_in(const char *parent, struct pgp_home **out, struct err_ctx *err);
/* Imports armored or binary OpenPGP keys; *nsecret (may be NULL) = secret keys imported. */
int pgp_home_import(struct pgp_home *h, const uint8_t *key, size_t n, size_t *nsecret,
		    struct err_ctx *err);
/* Decrypts an armored OpenPGP message. Owned *out. ERR_NOKEY when no secret key here
 * opens it; an empty plaintext is a failure (old GnuPG and AEAD packets). */
int pgp_home_decrypt(struct pgp_home *h, const char *msg, size_t n, struct secbuf **out,
		     struct err_ctx *err);
/* Same with a caller's plaintext cap (at most PGP_MAX_PLAINTEXT): a message whose
 * plaintext is longer than max is refused with ERR_TOOBIG and nothing is returned. */
int pgp_home_decrypt_max(struct pgp_home *h, const char *msg, size_t n, size_t max,
			 struct secbuf **out, struct err_ctx *err);
/* Encrypts data to the key with fingerprint fpr (whose public key must be in h) as an
 * armored message. Owned *armored (free()). */
int pgp_home_encrypt(struct pgp_home *h, const char *fpr, const uint8_t *data, size_t n,
		     char **armored, struct err_ctx *err);
/* The directory (borrowed, valid until pgp_home_free). */
const char *pgp_home_dir(const struct pgp_home *h);
/* Stops the home's gpg-agent, removes the directory, frees. NULL is a no-op. */
void pgp_home_free(struct pgp_home *h);

#endif
