/* keyring.h — the decryptor's SOPS keys, read once at start from a key directory:
 *   *.asc                      OpenPGP private keys (imported into a private gpg home)
 *   *.agekey                   age identity files
 *   private-key, key, gpg-key  the reference controller's Secret keys (type by content)
 *   policy                     optional: "<key file> <namespace>..." lines limiting a key
 *                              file to some namespaces ('*' = all; unlisted = all)
 * Key material lives in secbufs (age scalars) or in the private gpg-agent (PGP). In the
 * sandboxed decryptor, PGP keys go to the helper process of pgp_agent.h instead
 * (keyring_attach_pgp_agent): gpg never runs inside the decryptor. Decrypted
 * data-key parts are cached, keyed by SHA-256 of the encrypted stanza, so an unchanged file
 * costs no asymmetric operation; the cache honours the policy. */
#ifndef SMC_KEYRING_H
#define SMC_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secbuf.h"

#define KEYRING_MAX_FILES 64
#define KEYRING_MAX_FILE_SIZE (1u << 20)
#define KEYRING_MAX_CACHE 4096
#define KEYRING_MAX_NAMESPACES 64
#define KEYRING_POLICY_FILE "policy"

enum keyring_kind { KEYRING_AGE = 1, KEYRING_PGP = 2 };

struct keyring;
struct age_identity;
struct pgp_agent;

/* An empty keyring. Owned *out (keyring_free). */
int keyring_new(struct keyring **out);
/* From now on OpenPGP keys are imported into, and data keys decrypted by, the helper a
 * (borrowed; must outlive kr) instead of an in-process gpgme home. Call before adding
 * keys; ERR_INVAL when PGP keys were already added in-process. */
int keyring_attach_pgp_agent(struct keyring *kr, struct pgp_agent *a);
/* Reads every key file of dir (and its policy file). */
int keyring_load_dir(struct keyring *kr, const char *dir, struct err_ctx *err);
/* Adds one key file's content (copied into locked memory) under file name name: the
 * type comes from the name (.asc, .agekey) or, for private-key/key/gpg-key and anything
 * else, from the content. ERR_UNSUPPORTED when it holds no usable key. */
int keyring_add(struct keyring *kr, const char *name, const uint8_t *data, size_t n,
		struct err_ctx *err);
/* Parses a policy text (see above). */
int keyring_set_policy(struct keyring *kr, const uint8_t *text, size_t n, struct err_ctx *err);
/* Stops the private gpg-agents, removes their homes, wipes and frees. NULL is a no-op. */
void keyring_free(struct keyring *kr);

/* Number of usable keys of a kind (age identities, PGP secret keys). */
size_t keyring_count(const struct keyring *kr, enum keyring_kind kind);

/* Decrypts one SOPS key entry's enc (armored age file or PGP message) with the keys
 * allowed for namespace ns (NULL = every key). Owned *part. ERR_NOKEY when no key opens
 * it. The cache is updated even though kr is const (it is behind a pointer). */
int keyring_unwrap(const struct keyring *kr, const char *ns, enum keyring_kind kind,
		   const char *enc, size_t n, struct secbuf **part, struct err_ctx *err);

/* The age identities allowed for ns: owned array (free()) of borrowed identities, valid
 * until keyring_free. */
int keyring_age_identities(const struct keyring *kr, const char *ns,
			   const struct age_identity ***ids, size_t *n);

/* Decrypts a whole age file (binary or armored) with the identities allowed for ns.
 * Owned *plain. ERR_NOKEY when none matches. */
int keyring_age_decrypt(const struct keyring *kr, const char *ns, const uint8_t *in, size_t n,
			struct secbuf **plain, struct err_ctx *err);

/* Cache counters (hits, misses) since creation. */
void keyring_cache_stats(const struct keyring *kr, size_t *hits, size_t *misses);

#endif
