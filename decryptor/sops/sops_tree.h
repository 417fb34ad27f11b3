/* sops_tree.h — the ordered document model shared by every SOPS store (YAML, JSON, dotenv,
 * INI, binary): mappings keep key order, comments are items, scalars carry their type.
 * Every scalar and comment value lives in a secbuf, because after decryption it is a
 * secret; keys are not secret. */
#ifndef SMC_SOPS_TREE_H
#define SMC_SOPS_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secbuf.h"

#define SOPS_MAX_DEPTH 64            /* nesting of maps and sequences */
#define SOPS_MAX_NODES 200000        /* nodes in one file, aliases expanded */
#define SOPS_MAX_VALUE (4u << 20)    /* one scalar */
#define SOPS_MAX_KEY 4096            /* one mapping key */
#define SOPS_MAX_FILE (64u << 20)    /* one input file */
#define SOPS_MAX_DOCS 256            /* YAML documents in one file */

enum sops_kind { SOPS_MAP, SOPS_SEQ, SOPS_SCALAR, SOPS_COMMENT };

enum sops_type {
	SOPS_T_NULL = 0,
	SOPS_T_STR,
	SOPS_T_INT,
	SOPS_T_FLOAT,
	SOPS_T_BOOL,
	SOPS_T_TIME,
	SOPS_T_BYTES,
};

struct sops_node {
	enum sops_kind kind;
	enum sops_type type;     /* scalars */
	int quoted;              /* output hint: the scalar must not be written plain */
	char *key;               /* owned; the item's key inside a map, NULL otherwise */
	struct secbuf *value;    /* owned; scalars and comments (comment text after '#') */
	struct sops_node **items;/* owned; children of maps and sequences */
	size_t n, cap;
	int line;                /* 1-based source line, 0 when unknown (for errors) */
};

struct sops_tree {
	struct sops_node **docs; /* owned; each a SOPS_MAP (YAML may have several) */
	size_t ndocs;
	size_t nodes;            /* nodes allocated, bounded by SOPS_MAX_NODES */
};

/* A new node. Owned *out. value (may be NULL) is copied into a new secbuf. */
int sops_node_new(struct sops_tree *t, enum sops_kind kind, struct sops_node **out);
int sops_node_set_value(struct sops_node *n, const void *p, size_t len);
int sops_node_set_key(struct sops_node *n, const char *key, size_t len);
/* Appends child to parent (transfer: child is freed on failure). */
int sops_node_append(struct sops_node *parent, struct sops_node *child);
/* Deep copy (YAML aliases). Owned *out, counted against the tree's node budget. */
int sops_node_copy(struct sops_tree *t, const struct sops_node *src, struct sops_node **out);
void sops_node_free(struct sops_node *n);
/* The item of map m with key, or NULL (borrowed). */
struct sops_node *sops_node_get(const struct sops_node *m, const char *key);
/* Removes and returns the item of map m with key (ownership to the caller), or NULL. */
struct sops_node *sops_node_take(struct sops_node *m, const char *key);

int sops_tree_add_doc(struct sops_tree *t, struct sops_node *doc);
/* Frees every document; the tree is empty afterwards. */
void sops_tree_clear(struct sops_tree *t);

#endif
