/* sops_meta.c — SOPS metadata (see sops_meta.h). */
#include "decryptor/sops/sops_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "decryptor/sops/sops_value.h"

static const struct {
	const char *name;
	enum sops_key_type type;
	const char *id_field;
} key_types[] = {
	{"age", SOPS_KEY_AGE, "recipient"},    {"pgp", SOPS_KEY_PGP, "fp"},
	{"kms", SOPS_KEY_KMS, "arn"},          {"gcp_kms", SOPS_KEY_GCP_KMS, "resource_id"},
	{"azure_kv", SOPS_KEY_AZURE_KV, "vault_url"},
	{"hc_vault", SOPS_KEY_HC_VAULT, "key_name"},
	{"hckms", SOPS_KEY_HCKMS, "key_id"},
};
#define NKEY_TYPES (sizeof(key_types) / sizeof(key_types[0]))

static const char *rule_names[] = {
	"unencrypted_suffix", "encrypted_suffix",          "unencrypted_regex",
	"encrypted_regex",    "unencrypted_comment_regex", "encrypted_comment_regex",
};

const char *sops_meta_key_type_name(enum sops_key_type t)
{
	size_t i;

	for (i = 0; i < NKEY_TYPES; i++)
		if (key_types[i].type == t)
			return key_types[i].name;
	return "?";
}

static char *text_of(const struct sops_node *n)
{
	if (n == NULL || n->kind != SOPS_SCALAR || n->type == SOPS_T_NULL || n->value == NULL)
		return NULL;
	return xstrndup((const char *)n->value->data, n->value->len);
}

void sops_meta_free(struct sops_meta *m)
{
	size_t i, j;

	if (m == NULL)
		return;
	for (i = 0; i < m->ngroups; i++) {
		for (j = 0; j < m->groups[i].n; j++) {
			free(m->groups[i].keys[j].id);
			free(m->groups[i].keys[j].enc);
			free(m->groups[i].keys[j].created_at);
		}
		free(m->groups[i].keys);
	}
	free(m->groups);
	free(m->lastmodified);
	free(m->mac);
	free(m->version);
	free(m->rule_value);
	memset(m, 0, sizeof(*m));
}

static void group_free(struct sops_group *g)
{
	size_t j;

	for (j = 0; j < g->n; j++) {
		free(g->keys[j].id);
		free(g->keys[j].enc);
		free(g->keys[j].created_at);
	}
	free(g->keys);
	memset(g, 0, sizeof(*g));
}

/* Reads every key list of map g (age, pgp, ...) into one group. */
static int read_group(const struct sops_node *g, struct sops_group *out, struct err_ctx *err)
{
	size_t t, i;

	memset(out, 0, sizeof(*out));
	for (t = 0; t < NKEY_TYPES; t++) {
		const struct sops_node *l = sops_node_get(g, key_types[t].name);

		if (l == NULL || (l->kind == SOPS_SCALAR && l->type == SOPS_T_NULL))
			continue;
		if (l->kind != SOPS_SEQ)
			return err_set(err, ERR_INVAL, "sops metadata: %s is not a list",
				       key_types[t].name);
		for (i = 0; i < l->n; i++) {
			const struct sops_node *e = l->items[i];
			struct sops_master *k, *nk;

			if (e->kind == SOPS_COMMENT)
				continue;
			if (e->kind != SOPS_MAP)
				return err_set(err, ERR_INVAL, "sops metadata: %s entry is not a map",
					       key_types[t].name);
			if (out->n >= SOPS_MAX_KEYS_PER_GROUP)
				return err_set(err, ERR_TOOBIG, "sops metadata: too many keys");
			nk = xreallocarray(out->keys, out->n + 1, sizeof(*nk));
			if (nk == NULL)
				return ERR_NOMEM;
			out->keys = nk;
			k = &out->keys[out->n++];
			memset(k, 0, sizeof(*k));
			k->type = key_types[t].type;
			k->id = text_of(sops_node_get(e, key_types[t].id_field));
			k->enc = text_of(sops_node_get(e, "enc"));
			k->created_at = text_of(sops_node_get(e, "created_at"));
			if (k->id == NULL)
				k->id = xstrdup("");
			if (k->enc == NULL)
				k->enc = xstrdup("");
			if (k->id == NULL || k->enc == NULL)
				return ERR_NOMEM;
		}
	}
	return 0;
}

int sops_meta_from_node(const struct sops_node *m, struct sops_meta *out, struct err_ctx *err)
{
	struct sops_meta r;
	struct sops_group g;
	const struct sops_node *kg, *v;
	size_t i, nrules = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	if (m == NULL || m->kind != SOPS_MAP)
		return err_set(err, ERR_INVAL, "sops metadata is not a mapping");
	for (i = 0; i < sizeof(rule_names) / sizeof(rule_names[0]); i++) {
		v = sops_node_get(m, rule_names[i]);
		if (v == NULL || v->kind != SOPS_SCALAR || v->type == SOPS_T_NULL ||
		    v->value == NULL || v->value->len == 0)
			continue;
		nrules++;
		r.rule = (enum sops_rule)i;
		free(r.rule_value);
		r.rule_value = text_of(v);
		if (r.rule_value == NULL) {
			rc = ERR_NOMEM;
			goto fail;
		}
	}
	if (nrules > 1) {
		rc = err_set(err, ERR_INVAL, "sops metadata: more than one encryption rule");
		goto fail;
	}
	if (nrules == 0) {
		r.rule = SOPS_RULE_UNENC_SUFFIX;
		r.rule_value = xstrdup("_unencrypted");
		if (r.rule_value == NULL) {
			rc = ERR_NOMEM;
			goto fail;
		}
	}
	r.lastmodified = text_of(sops_node_get(m, "lastmodified"));
	r.mac = text_of(sops_node_get(m, "mac"));
	r.version = text_of(sops_node_get(m, "version"));
	if (r.lastmodified == NULL) {
		rc = err_set(err, ERR_INVAL, "sops metadata: lastmodified missing");
		goto fail;
	}
	v = sops_node_get(m, "mac_only_encrypted");
	if (v != NULL && v->kind == SOPS_SCALAR && v->value != NULL &&
	    sops_value_parse_bool((const char *)v->value->data, v->value->len,
				  &r.mac_only_encrypted) != 0) {
		rc = err_set(err, ERR_INVAL, "sops metadata: mac_only_encrypted is not a bool");
		goto fail;
	}
	v = sops_node_get(m, "shamir_threshold");
	if (v != NULL && v->kind == SOPS_SCALAR && v->type != SOPS_T_NULL && v->value != NULL) {
		int64_t th;

		if (sops_value_parse_int((const char *)v->value->data, v->value->len, 0, &th) != 0 ||
		    th < 0 || th > SOPS_MAX_GROUPS) {
			rc = err_set(err, ERR_INVAL, "sops metadata: bad shamir_threshold");
			goto fail;
		}
		r.threshold = (int)th;
	}
	if ((rc = read_group(m, &g, err)) != 0) {
		group_free(&g);
		goto fail;
	}
	if (g.n > 0) {
		r.groups = xcalloc(1, sizeof(*r.groups));
		if (r.groups == NULL) {
			free(g.keys);
			rc = ERR_NOMEM;
			goto fail;
		}
		r.groups[0] = g;
		r.ngroups = 1;
	} else {
		free(g.keys);
		kg = sops_node_get(m, "key_groups");
		if (kg != NULL && kg->kind == SOPS_SEQ) {
			if (kg->n > SOPS_MAX_GROUPS) {
				rc = err_set(err, ERR_TOOBIG, "sops metadata: too many key groups");
				goto fail;
			}
			r.groups = xcalloc(kg->n + 1, sizeof(*r.groups));
			if (r.groups == NULL) {
				rc = ERR_NOMEM;
				goto fail;
			}
			r.from_key_groups = 1;
			for (i = 0; i < kg->n; i++) {
				if (kg->items[i]->kind != SOPS_MAP)
					continue;
				rc = read_group(kg->items[i], &r.groups[r.ngroups], err);
				r.ngroups++;
				if (rc != 0)
					goto fail;
			}
		}
	}
	if (r.ngroups == 0) {
		rc = err_set(err, ERR_INVAL, "sops metadata: no keys found in file");
		goto fail;
	}
	*out = r;
	return 0;
fail:
	sops_meta_free(&r);
	return rc;
}

/* ---- flattening ----------------------------------------------------------------- */

static int unescape(struct sops_node *n)
{
	size_t i, o = 0;

	if (n->value == NULL)
		return 0;
	for (i = 0; i < n->value->len; i++) {
		if (n->value->data[i] == '\\' && i + 1 < n->value->len &&
		    n->value->data[i + 1] == 'n') {
			n->value->data[o++] = '\n';
			i++;
		} else {
			n->value->data[o++] = n->value->data[i];
		}
	}
	n->value->len = o;
	n->value->data[o] = '\0';
	return 0;
}

/* Child of m (map) named key, created as kind when absent. */
static int map_child(struct sops_tree *t, struct sops_node *m, const char *key, size_t klen,
		     enum sops_kind kind, struct sops_node **out)
{
	struct sops_node *c;
	char name[256];
	int rc;

	if (klen >= sizeof(name))
		return ERR_TOOBIG;
	memcpy(name, key, klen);
	name[klen] = '\0';
	c = sops_node_get(m, name);
	if (c == NULL) {
		if ((rc = sops_node_new(t, kind, &c)) != 0)
			return rc;
		if ((rc = sops_node_set_key(c, name, klen)) != 0) {
			sops_node_free(c);
			return rc;
		}
		if ((rc = sops_node_append(m, c)) != 0)
			return rc;
	}
	*out = c;
	return 0;
}

static int list_child(struct sops_tree *t, struct sops_node *l, size_t idx, enum sops_kind kind,
		      struct sops_node **out)
{
	struct sops_node *c;
	int rc;

	if (idx >= SOPS_MAX_LIST_INDEX)
		return ERR_TOOBIG;
	while (l->n <= idx) {
		if ((rc = sops_node_new(t, kind, &c)) != 0 || (rc = sops_node_append(l, c)) != 0)
			return rc;
	}
	*out = l->items[idx];
	return 0;
}

static const char *next_sep(const char *s)
{
	const char *a = strstr(s, "__list_"), *b = strstr(s, "__map_");

	if (a == NULL)
		return b;
	if (b == NULL)
		return a;
	return a < b ? a : b;
}

int sops_meta_unflatten(struct sops_tree *t, const struct sops_node *flat, int unescape_nl,
			struct sops_node **out, struct err_ctx *err)
{
	struct sops_node *root = NULL, *cur, *leaf;
	size_t i;
	int rc;

	if ((rc = sops_node_new(t, SOPS_MAP, &root)) != 0)
		return rc;
	for (i = 0; i < flat->n; i++) {
		const struct sops_node *it = flat->items[i];
		const char *k = it->key, *sep, *p;
		enum sops_kind want;

		if (it->kind != SOPS_SCALAR || k == NULL)
			continue;
		cur = root;
		sep = next_sep(k);
		p = sep ? sep : k + strlen(k);
		/* first component: a map key of the root */
		want = sep == NULL ? SOPS_SCALAR
				   : (strncmp(sep, "__list_", 7) == 0 ? SOPS_SEQ : SOPS_MAP);
		if ((rc = map_child(t, cur, k, (size_t)(p - k), want, &cur)) != 0)
			goto fail;
		while (sep != NULL) {
			int is_list = strncmp(sep, "__list_", 7) == 0;
			const char *start = sep + (is_list ? 7 : 6);
			const char *nxt = next_sep(start);
			size_t clen = nxt ? (size_t)(nxt - start) : strlen(start);

			want = nxt == NULL ? SOPS_SCALAR
					   : (strncmp(nxt, "__list_", 7) == 0 ? SOPS_SEQ : SOPS_MAP);
			if (is_list) {
				char num[16];
				int64_t idx;

				if (cur->kind != SOPS_SEQ || clen == 0 || clen >= sizeof(num)) {
					rc = err_set(err, ERR_INVAL, "sops metadata: bad key %.80s", k);
					goto fail;
				}
				memcpy(num, start, clen);
				num[clen] = '\0';
				if (str_to_i64(num, 0, SOPS_MAX_LIST_INDEX - 1, &idx) != 0) {
					rc = err_set(err, ERR_INVAL, "sops metadata: bad index in %.80s", k);
					goto fail;
				}
				if ((rc = list_child(t, cur, (size_t)idx, want, &cur)) != 0)
					goto fail;
			} else {
				if (cur->kind != SOPS_MAP) {
					rc = err_set(err, ERR_INVAL, "sops metadata: bad key %.80s", k);
					goto fail;
				}
				if ((rc = map_child(t, cur, start, clen, want, &cur)) != 0)
					goto fail;
			}
			sep = nxt;
		}
		leaf = cur;
		if (leaf->kind != SOPS_SCALAR || leaf->value != NULL) {
			rc = err_set(err, ERR_INVAL, "sops metadata: conflicting key %.80s", k);
			goto fail;
		}
		leaf->type = SOPS_T_STR;
		if ((rc = sops_node_set_value(leaf, it->value ? it->value->data : (const uint8_t *)"",
					      it->value ? it->value->len : 0)) != 0)
			goto fail;
		if (unescape_nl)
			unescape(leaf);
	}
	*out = root;
	return 0;
fail:
	sops_node_free(root);
	return rc;
}

static int flat_put(struct sops_tree *t, struct sops_node *dst, const char *name,
		    const struct sops_node *v, int escape_nl)
{
	struct sops_node *n;
	size_t i;
	int rc;

	if ((rc = sops_node_new(t, SOPS_SCALAR, &n)) != 0)
		return rc;
	n->type = SOPS_T_STR;
	if ((rc = sops_node_set_key(n, name, strlen(name))) != 0 ||
	    (rc = secbuf_new(&n->value, SOPS_MAX_VALUE)) != 0) {
		sops_node_free(n);
		return rc;
	}
	for (i = 0; v->value != NULL && i < v->value->len && rc == 0; i++) {
		if (escape_nl && v->value->data[i] == '\n')
			rc = secbuf_put(n->value, "\\n", 2);
		else
			rc = secbuf_put(n->value, &v->value->data[i], 1);
	}
	if (rc != 0) {
		sops_node_free(n);
		return rc;
	}
	return sops_node_append(dst, n);
}

static int flatten_rec(struct sops_tree *t, const struct sops_node *n, const char *path,
		       int escape_nl, struct sops_node *dst, int depth)
{
	char name[512];
	size_t i;
	int rc;

	if (depth > 8)
		return ERR_TOOBIG;
	if (n->kind == SOPS_SCALAR)
		return flat_put(t, dst, path, n, escape_nl);
	for (i = 0; i < n->n; i++) {
		const struct sops_node *c = n->items[i];

		if (c->kind == SOPS_COMMENT)
			continue;
		if (n->kind == SOPS_MAP)
			rc = str_fmt(name, sizeof(name), "%s__map_%s", path, c->key);
		else
			rc = str_fmt(name, sizeof(name), "%s__list_%zu", path, i);
		if (rc != 0 || (rc = flatten_rec(t, c, name, escape_nl, dst, depth + 1)) != 0)
			return rc;
	}
	return 0;
}

int sops_meta_flatten(struct sops_tree *t, const struct sops_node *meta, const char *prefix,
		      int escape_nl, struct sops_node *dst)
{
	char name[512];
	size_t i;
	int rc;

	for (i = 0; i < meta->n; i++) {
		const struct sops_node *c = meta->items[i];

		if (c->kind == SOPS_COMMENT)
			continue;
		if ((rc = str_fmt(name, sizeof(name), "%s%s", prefix, c->key)) != 0 ||
		    (rc = flatten_rec(t, c, name, escape_nl, dst, 0)) != 0)
			return rc;
	}
	return 0;
}

static int add_str(struct sops_tree *t, struct sops_node *m, const char *key, const char *val,
		   enum sops_type type)
{
	struct sops_node *n;
	int rc;

	if ((rc = sops_node_new(t, SOPS_SCALAR, &n)) != 0)
		return rc;
	n->type = type;
	n->quoted = type == SOPS_T_STR;
	if ((rc = sops_node_set_key(n, key, strlen(key))) != 0 ||
	    (rc = sops_node_set_value(n, val, strlen(val))) != 0) {
		sops_node_free(n);
		return rc;
	}
	return sops_node_append(m, n);
}

static int add_container(struct sops_tree *t, struct sops_node *parent, const char *key,
			 enum sops_kind kind, struct sops_node **out)
{
	struct sops_node *n;
	int rc;

	if ((rc = sops_node_new(t, kind, &n)) != 0)
		return rc;
	if (key != NULL && (rc = sops_node_set_key(n, key, strlen(key))) != 0) {
		sops_node_free(n);
		return rc;
	}
	if ((rc = sops_node_append(parent, n)) != 0)
		return rc;
	*out = n;
	return 0;
}

/* age and pgp lists of one group into map g. */
static int group_to_node(struct sops_tree *t, const struct sops_group *gr, struct sops_node *g)
{
	struct sops_node *l, *e;
	size_t i;
	int rc, pass;

	for (pass = 0; pass < 2; pass++) {
		enum sops_key_type want = pass == 0 ? SOPS_KEY_AGE : SOPS_KEY_PGP;
		int have = 0;

		for (i = 0; i < gr->n; i++)
			have |= gr->keys[i].type == want;
		if (!have)
			continue;
		if ((rc = add_container(t, g, pass == 0 ? "age" : "pgp", SOPS_SEQ, &l)) != 0)
			return rc;
		for (i = 0; i < gr->n; i++) {
			const struct sops_master *k = &gr->keys[i];

			if (k->type != want)
				continue;
			if ((rc = add_container(t, l, NULL, SOPS_MAP, &e)) != 0)
				return rc;
			if (want == SOPS_KEY_AGE) {
				if ((rc = add_str(t, e, "recipient", k->id, SOPS_T_STR)) != 0 ||
				    (rc = add_str(t, e, "enc", k->enc, SOPS_T_STR)) != 0)
					return rc;
			} else {
				if ((rc = add_str(t, e, "created_at",
						  k->created_at ? k->created_at : "", SOPS_T_STR)) != 0 ||
				    (rc = add_str(t, e, "enc", k->enc, SOPS_T_STR)) != 0 ||
				    (rc = add_str(t, e, "fp", k->id, SOPS_T_STR)) != 0)
					return rc;
			}
		}
	}
	return 0;
}

/* The encryption rule (when it has a value), lastmodified, mac and mac_only_encrypted of
 * m, as entries of root, in sops's order. */
static int rule_and_mac_to_node(struct sops_tree *t, const struct sops_meta *m,
				struct sops_node *root)
{
	int rc;

	if (m->rule == SOPS_RULE_ENC_REGEX || m->rule == SOPS_RULE_ENC_SUFFIX ||
	    m->rule == SOPS_RULE_ENC_COMMENT_REGEX) {
		if ((rc = add_str(t, root, rule_names[m->rule], m->rule_value, SOPS_T_STR)) != 0)
			return rc;
	}
	if ((rc = add_str(t, root, "lastmodified", m->lastmodified, SOPS_T_STR)) != 0 ||
	    (rc = add_str(t, root, "mac", m->mac ? m->mac : "", SOPS_T_STR)) != 0)
		return rc;
	if (m->mac_only_encrypted &&
	    (rc = add_str(t, root, "mac_only_encrypted", "true", SOPS_T_BOOL)) != 0)
		return rc;
	return 0;
}

int sops_meta_to_node(struct sops_tree *t, const struct sops_meta *m, struct sops_node **out)
{
	struct sops_node *root = NULL, *kg, *g;
	char num[32];
	size_t i;
	int rc;

	if ((rc = sops_node_new(t, SOPS_MAP, &root)) != 0)
		return rc;
	if (m->ngroups == 1 && !m->from_key_groups) {
		/* age sorts before the rule and lastmodified; pgp after mac */
		{
			struct sops_group only_age = m->groups[0], only_pgp = m->groups[0];
			struct sops_master ka[SOPS_MAX_KEYS_PER_GROUP], kp[SOPS_MAX_KEYS_PER_GROUP];
			size_t na = 0, nq = 0;

			for (i = 0; i < m->groups[0].n && i < SOPS_MAX_KEYS_PER_GROUP; i++) {
				if (m->groups[0].keys[i].type == SOPS_KEY_AGE)
					ka[na++] = m->groups[0].keys[i];
				else if (m->groups[0].keys[i].type == SOPS_KEY_PGP)
					kp[nq++] = m->groups[0].keys[i];
			}
			only_age.keys = ka;
			only_age.n = na;
			only_pgp.keys = kp;
			only_pgp.n = nq;
			if ((rc = group_to_node(t, &only_age, root)) != 0)
				goto fail;
			if ((rc = rule_and_mac_to_node(t, m, root)) != 0)
				goto fail;
			if ((rc = group_to_node(t, &only_pgp, root)) != 0)
				goto fail;
		}
	} else {
		if ((rc = add_container(t, root, "key_groups", SOPS_SEQ, &kg)) != 0)
			goto fail;
		for (i = 0; i < m->ngroups; i++) {
			if ((rc = add_container(t, kg, NULL, SOPS_MAP, &g)) != 0 ||
			    (rc = group_to_node(t, &m->groups[i], g)) != 0)
				goto fail;
		}
		if ((rc = rule_and_mac_to_node(t, m, root)) != 0)
			goto fail;
		snprintf(num, sizeof(num), "%d", m->threshold ? m->threshold : (int)m->ngroups);
		if ((rc = add_str(t, root, "shamir_threshold", num, SOPS_T_INT)) != 0)
			goto fail;
	}
	if (m->rule == SOPS_RULE_UNENC_SUFFIX || m->rule == SOPS_RULE_UNENC_REGEX ||
	    m->rule == SOPS_RULE_UNENC_COMMENT_REGEX) {
		if ((rc = add_str(t, root, rule_names[m->rule], m->rule_value, SOPS_T_STR)) != 0)
			goto fail;
	}
	if ((rc = add_str(t, root, "version", m->version ? m->version : "3.9.0", SOPS_T_STR)) != 0)
		goto fail;
	*out = root;
	return 0;
fail:
	sops_node_free(root);
	return rc;
}
