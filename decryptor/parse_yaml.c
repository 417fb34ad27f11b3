/* parse_yaml.c — application.secrets.yaml flattened with the libyaml document loader
 * (rules in parse_yaml.h). Aliases are node references in the loaded document, so an
 * expansion bomb costs nothing to load; the walk below counts every node it visits. */
#include "decryptor/parse_yaml.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/secbuf.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "decryptor/parse_kv.h"

struct ypair {
	yaml_node_t *key;
	yaml_node_t *value;
};

struct yctx {
	yaml_document_t *doc;
	const char *file;
	struct kvlist *out;
	struct err_ctx *err;
	size_t nodes; /* visited so far, aliases expanded */
	char key[PARSE_YAML_MAX_KEY + 1];
};

static size_t node_line(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

static int visit(struct yctx *c, const yaml_node_t *n, size_t depth)
{
	if (++c->nodes > PARSE_YAML_MAX_NODES)
		return err_set(c->err, ERR_TOOBIG,
			       "%s:%zu: more than %d nodes once aliases are expanded", c->file,
			       node_line(n), PARSE_YAML_MAX_NODES);
	if (depth > PARSE_YAML_MAX_DEPTH)
		return err_set(c->err, ERR_TOOBIG,
			       "%s:%zu: nesting deeper than %d (or an alias cycle)", c->file,
			       node_line(n), PARSE_YAML_MAX_DEPTH);
	return 0;
}

static bool is_merge_key(const yaml_node_t *k)
{
	return k->type == YAML_SCALAR_NODE && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       k->data.scalar.length == 2 && memcmp(k->data.scalar.value, "<<", 2) == 0;
}

static bool same_key(const yaml_node_t *a, const yaml_node_t *b)
{
	return a->data.scalar.length == b->data.scalar.length &&
	       memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length) == 0;
}

struct ypairs {
	struct ypair *v;
	size_t n, cap;
};

static int pairs_push(struct ypairs *p, yaml_node_t *k, yaml_node_t *v)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		struct ypair *np = xreallocarray(p->v, ncap, sizeof(*np));

		if (np == NULL)
			return ERR_NOMEM;
		p->v = np;
		p->cap = ncap;
	}
	p->v[p->n].key = k;
	p->v[p->n].value = v;
	p->n++;
	return 0;
}

static bool pairs_has(const struct ypairs *p, const yaml_node_t *k)
{
	for (size_t i = 0; i < p->n; i++) {
		if (same_key(p->v[i].key, k))
			return true;
	}
	return false;
}

/* The effective pairs of mapping m: its own keys in order, then the keys that its merge
 * sources (`<<`) add. With own = false (a merge source) keys already in out are skipped;
 * with own = true a repeated key is an error. */
static int gather(struct yctx *c, const yaml_node_t *m, struct ypairs *out, bool own, size_t depth)
{
	yaml_node_pair_t *p;
	int rc;

	if ((rc = visit(c, m, depth)) != 0)
		return rc;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);

		if (k == NULL || v == NULL)
			return err_set(c->err, ERR_INVAL, "%s:%zu: broken node", c->file,
				       node_line(m));
		if (k->type != YAML_SCALAR_NODE)
			return err_set(c->err, ERR_INVAL, "%s:%zu: a key must be a scalar", c->file,
				       node_line(k));
		if (is_merge_key(k))
			continue;
		if (pairs_has(out, k)) {
			if (!own)
				continue;
			return err_set(c->err, ERR_CONFLICT,
				       "%s:%zu: key \"%.64s\" repeated in one "
				       "mapping",
				       c->file, node_line(k), (const char *)k->data.scalar.value);
		}
		if (out->n >= PARSE_YAML_MAX_KEYS) /* also bounds the pairs_has() scans */
			return err_set(c->err, ERR_TOOBIG,
				       "%s:%zu: more than %d keys in one mapping", c->file,
				       node_line(k), PARSE_YAML_MAX_KEYS);
		if ((rc = visit(c, k, depth)) != 0 || (rc = pairs_push(out, k, v)) != 0)
			return rc;
	}
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);

		if (!is_merge_key(k))
			continue;
		if (v->type == YAML_MAPPING_NODE) {
			if ((rc = gather(c, v, out, false, depth + 1)) != 0)
				return rc;
		} else if (v->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				yaml_node_t *src = yaml_document_get_node(c->doc, *it);

				if (src == NULL || src->type != YAML_MAPPING_NODE)
					return err_set(c->err, ERR_INVAL,
						       "%s:%zu: a merge key takes a "
						       "mapping or a sequence of mappings",
						       c->file, node_line(k));
				if ((rc = gather(c, src, out, false, depth + 1)) != 0)
					return rc;
			}
		} else {
			return err_set(c->err, ERR_INVAL,
				       "%s:%zu: a merge key takes a mapping or a "
				       "sequence of mappings",
				       c->file, node_line(k));
		}
	}
	return 0;
}

static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	const char *tag = (const char *)n->tag;

	if (tag != NULL && strcmp(tag, YAML_NULL_TAG) == 0)
		return true;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
		if (n->data.scalar.length == strlen(nulls[i]) &&
		    memcmp(n->data.scalar.value, nulls[i], n->data.scalar.length) == 0)
			return true;
	}
	return false;
}

static int emit(struct yctx *c, const yaml_node_t *n, size_t line)
{
	char origin[PARSE_YAML_ORIGIN_MAX];
	struct secbuf *val = NULL;
	size_t len = is_null(n) ? 0 : n->data.scalar.length;
	int rc;

	if (c->out->n >= PARSE_YAML_MAX_KEYS)
		return err_set(c->err, ERR_TOOBIG, "%s:%zu: more than %d keys", c->file, line,
			       PARSE_YAML_MAX_KEYS);
	if (len > PARSE_YAML_MAX_VALUE)
		return err_set(c->err, ERR_TOOBIG,
			       "%s:%zu: value of \"%.64s\" longer than %zu "
			       "bytes",
			       c->file, line, c->key, PARSE_YAML_MAX_VALUE);
	if ((rc = str_fmt(origin, sizeof(origin), "%s:%zu", c->file, line)) != 0)
		return err_set(c->err, rc, "%s: file name too long", c->file);
	if ((rc = secbuf_from(&val, n->data.scalar.value, len)) != 0)
		return err_set(c->err, rc, "%s:%zu: %s", c->file, line, err_str(rc));
	if ((rc = kvlist_add(c->out, c->key, val, origin)) != 0)
		return err_set(c->err, rc, "%s:%zu: %s", c->file, line, err_str(rc));
	return 0;
}

/* Appends text to the key under construction at klen; *nlen is the new length. */
static int key_append(struct yctx *c, size_t klen, const char *sep, const char *text, size_t tlen,
		      size_t line, size_t *nlen)
{
	size_t slen = strlen(sep);

	if (memchr(text, '\0', tlen) != NULL)
		return err_set(c->err, ERR_INVAL, "%s:%zu: key contains U+0000", c->file, line);
	if (slen + tlen > PARSE_YAML_MAX_KEY - klen)
		return err_set(c->err, ERR_TOOBIG, "%s:%zu: flattened key longer than %d bytes",
			       c->file, line, PARSE_YAML_MAX_KEY);
	memcpy(c->key + klen, sep, slen);
	memcpy(c->key + klen + slen, text, tlen);
	*nlen = klen + slen + tlen;
	c->key[*nlen] = '\0';
	return 0;
}

static int flatten(struct yctx *c, const yaml_node_t *n, size_t klen, size_t line, size_t depth)
{
	struct ypairs pairs = {NULL, 0, 0};
	size_t nlen;
	int rc = 0;

	switch (n->type) {
	case YAML_SCALAR_NODE:
		if ((rc = visit(c, n, depth)) != 0)
			return rc;
		return emit(c, n, line);
	case YAML_SEQUENCE_NODE: {
		size_t i = 0;

		if ((rc = visit(c, n, depth)) != 0)
			return rc;
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++, i++) {
			yaml_node_t *item = yaml_document_get_node(c->doc, *it);
			char idx[32];

			if (item == NULL)
				return err_set(c->err, ERR_INVAL, "%s:%zu: broken node", c->file,
					       line);
			(void)str_fmt(idx, sizeof(idx), "[%zu]", i);
			if ((rc = key_append(c, klen, "", idx, strlen(idx), node_line(item),
					     &nlen)) != 0 ||
			    (rc = flatten(c, item, nlen, node_line(item), depth + 1)) != 0)
				return rc;
		}
		return 0;
	}
	case YAML_MAPPING_NODE:
		if ((rc = gather(c, n, &pairs, true, depth)) != 0)
			goto out;
		for (size_t i = 0; i < pairs.n; i++) {
			const yaml_node_t *k = pairs.v[i].key;

			rc = key_append(c, klen, klen > 0 ? "." : "",
					(const char *)k->data.scalar.value, k->data.scalar.length,
					node_line(k), &nlen);
			if (rc == 0)
				rc = flatten(c, pairs.v[i].value, nlen, node_line(k), depth + 1);
			if (rc != 0)
				goto out;
		}
		goto out;
	default:
		return err_set(c->err, ERR_INVAL, "%s:%zu: empty node", c->file, line);
	}
out:
	free(pairs.v);
	return rc;
}

/* ERR_CONFLICT when two paths flatten to one key (`a.b: 1` next to `a: {b: 2}`). */
static int check_repeats(const char *file, const struct kvlist *l, struct err_ctx *err)
{
	const struct kv **v;
	int rc = 0;

	if (l->n < 2)
		return 0;
	if ((rc = parse_kv_sorted(l, parse_kv_cmp_key, &v)) != 0)
		return rc;
	for (size_t i = 1; i < l->n && rc == 0; i++) {
		if (strcmp(v[i - 1]->key, v[i]->key) == 0)
			rc = err_set(err, ERR_CONFLICT,
				     "%s: key \"%.64s\" given twice, at %s and %s", file, v[i]->key,
				     v[i - 1]->origin, v[i]->origin);
	}
	free(v);
	return rc;
}

static int parser_error(const char *file, const yaml_parser_t *p, struct err_ctx *err)
{
	if (p->error == YAML_MEMORY_ERROR)
		return err_set(err, ERR_NOMEM, "%s: out of memory", file);
	/* libyaml's problem and context texts are constants: they never quote the input */
	return err_set(err, ERR_INVAL, "%s:%zu: %s%s%s", file, p->problem_mark.line + 1,
		       p->problem ? p->problem : "syntax error", p->context ? " " : "",
		       p->context ? p->context : "");
}

int parse_yaml(const char *file_name, const uint8_t *data, size_t n, struct kvlist *out,
	       struct err_ctx *err)
{
	yaml_parser_t parser;
	yaml_document_t doc, doc2;
	bool have_doc = false, have_doc2 = false;
	struct yctx *c = NULL;
	struct kvlist l;
	yaml_node_t *root;
	int rc = 0;

	kvlist_init(&l);
	if (out->n != 0)
		return err_set(err, ERR_INVAL, "%s: output list is not empty", file_name);
	if (n > PARSE_YAML_MAX_INPUT)
		return err_set(err, ERR_TOOBIG, "%s: file larger than %zu bytes", file_name,
			       PARSE_YAML_MAX_INPUT);
	if (!yaml_parser_initialize(&parser))
		return err_set(err, ERR_NOMEM, "%s: out of memory", file_name);
	yaml_parser_set_input_string(&parser, data, n);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = parser_error(file_name, &parser, err);
		goto out;
	}
	have_doc = true;
	if ((root = yaml_document_get_root_node(&doc)) == NULL)
		goto done; /* an empty stream */
	if (!yaml_parser_load(&parser, &doc2)) {
		rc = parser_error(file_name, &parser, err);
		goto out;
	}
	have_doc2 = true;
	if (yaml_document_get_root_node(&doc2) != NULL) {
		rc = err_set(err, ERR_INVAL, "%s:%zu: more than one YAML document", file_name,
			     doc2.start_mark.line + 1);
		goto out;
	}
	if (root->type == YAML_SCALAR_NODE && is_null(root))
		goto done; /* "---" alone, or only comments */
	if (root->type != YAML_MAPPING_NODE) {
		rc = err_set(err, ERR_INVAL, "%s:%zu: the top level must be a mapping", file_name,
			     node_line(root));
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	c->doc = &doc;
	c->file = file_name;
	c->out = &l;
	c->err = err;
	if ((rc = flatten(c, root, 0, node_line(root), 0)) != 0 ||
	    (rc = check_repeats(file_name, &l, err)) != 0)
		goto out;
	goto done;
done:
	*out = l;
	kvlist_init(&l);
out:
	if (c != NULL)
		explicit_bzero(c->key, sizeof(c->key));
	free(c);
	if (have_doc2)
		yaml_document_delete(&doc2);
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	kvlist_free(&l);
	return rc;
}
