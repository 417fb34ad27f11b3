/* sops_meta.h — the "sops" metadata block: parsing it from a tree node (YAML/JSON map, or
 * the flattened keys of dotenv "sops_*" and INI "[sops]"), and building it for encryption
 * (docs/sops-age-format.md §6). Nothing here is secret: enc fields are ciphertext. */
#ifndef SMC_SOPS_META_H
#define SMC_SOPS_META_H

#include <stddef.h>

#include "common/err.h"
#include "decryptor/sops/sops_tree.h"

#define SOPS_MAX_GROUPS 16
#define SOPS_MAX_KEYS_PER_GROUP 64
#define SOPS_MAX_LIST_INDEX 1024 /* flattened __list_N */

enum sops_key_type {
	SOPS_KEY_AGE,
	SOPS_KEY_PGP,
	SOPS_KEY_KMS,
	SOPS_KEY_GCP_KMS,
	SOPS_KEY_AZURE_KV,
	SOPS_KEY_HC_VAULT,
	SOPS_KEY_HCKMS,
};

struct sops_master {
	enum sops_key_type type;
	char *id;         /* owned: age recipient, pgp fp, kms arn, ... (may be "") */
	char *enc;        /* owned: the encrypted data key part */
	char *created_at; /* owned, may be NULL */
};

struct sops_group {
	struct sops_master *keys; /* owned array */
	size_t n;
};

enum sops_rule {
	SOPS_RULE_UNENC_SUFFIX,
	SOPS_RULE_ENC_SUFFIX,
	SOPS_RULE_UNENC_REGEX,
	SOPS_RULE_ENC_REGEX,
	SOPS_RULE_UNENC_COMMENT_REGEX,
	SOPS_RULE_ENC_COMMENT_REGEX,
};

struct sops_meta {
	struct sops_group *groups; /* owned array */
	size_t ngroups;
	int threshold;              /* 0 = number of groups */
	int from_key_groups;        /* groups came from key_groups (Shamir when ngroups > 1) */
	char *lastmodified;         /* owned */
	char *mac;                  /* owned, may be NULL */
	char *version;              /* owned, may be NULL */
	enum sops_rule rule;
	char *rule_value;           /* owned */
	int mac_only_encrypted;
};

/* Metadata from a map node (the value of "sops"). Owned fields in *out (sops_meta_free).
 * ERR_INVAL names the offending field. */
int sops_meta_from_node(const struct sops_node *m, struct sops_meta *out, struct err_ctx *err);
void sops_meta_free(struct sops_meta *m);

/* Turns flattened items (key → string, prefix already removed) into a nested map. When
 * unescape_nl, the two characters "\n" become a newline (INI). Owned *out. */
int sops_meta_unflatten(struct sops_tree *t, const struct sops_node *flat, int unescape_nl,
			struct sops_node **out, struct err_ctx *err);
/* Flattens a nested metadata map into items of dst named prefix+path. */
int sops_meta_flatten(struct sops_tree *t, const struct sops_node *meta, const char *prefix,
		      int escape_nl, struct sops_node *dst);
/* The metadata map written on encryption (keys sorted as sops writes them). Owned *out. */
int sops_meta_to_node(struct sops_tree *t, const struct sops_meta *m, struct sops_node **out);

const char *sops_meta_key_type_name(enum sops_key_type t);

#endif
