/* sops_json.c — JSON store (see sops_json.h). */
#include "decryptor/sops/sops_json.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/str.h"
#include "decryptor/sops/sops_value.h"

static int from_json(struct sops_tree *t, json_t *j, int depth, struct sops_node **out,
		     struct err_ctx *err)
{
	struct sops_node *n = NULL, *c;
	char buf[64];
	const char *k;
	json_t *v;
	size_t i;
	int rc;

	if (depth > SOPS_MAX_DEPTH)
		return err_set(err, ERR_TOOBIG, "json: nesting deeper than %d", SOPS_MAX_DEPTH);
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		if ((rc = sops_node_new(t, SOPS_MAP, &n)) != 0)
			return err_set(err, rc, "json: too many nodes");
		json_object_foreach(j, k, v) {
			if ((rc = from_json(t, v, depth + 1, &c, err)) != 0)
				goto fail;
			if ((rc = sops_node_set_key(c, k, strlen(k))) != 0) {
				sops_node_free(c);
				err_set(err, rc, "json: key too long");
				goto fail;
			}
			if ((rc = sops_node_append(n, c)) != 0)
				goto fail;
		}
		break;
	case JSON_ARRAY:
		if ((rc = sops_node_new(t, SOPS_SEQ, &n)) != 0)
			return err_set(err, rc, "json: too many nodes");
		json_array_foreach(j, i, v) {
			if ((rc = from_json(t, v, depth + 1, &c, err)) != 0 ||
			    (rc = sops_node_append(n, c)) != 0)
				goto fail;
		}
		break;
	default:
		if ((rc = sops_node_new(t, SOPS_SCALAR, &n)) != 0)
			return err_set(err, rc, "json: too many nodes");
		if (json_is_string(j)) {
			n->type = SOPS_T_STR;
			rc = sops_node_set_value(n, json_string_value(j), json_string_length(j));
		} else if (json_is_integer(j)) {
			n->type = SOPS_T_INT;
			snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
			rc = sops_node_set_value(n, buf, strlen(buf));
		} else if (json_is_real(j)) {
			n->type = SOPS_T_FLOAT;
			rc = sops_value_format_float(json_real_value(j), buf, sizeof(buf));
			if (rc == 0)
				rc = sops_node_set_value(n, buf, strlen(buf));
		} else if (json_is_boolean(j)) {
			n->type = SOPS_T_BOOL;
			rc = sops_node_set_value(n, json_is_true(j) ? "true" : "false",
						 json_is_true(j) ? 4 : 5);
		} else {
			n->type = SOPS_T_NULL;
		}
		if (rc != 0) {
			err_set(err, rc, "json: value too large");
			goto fail;
		}
	}
	*out = n;
	return 0;
fail:
	sops_node_free(n);
	return rc;
}

int sops_json_parse(const uint8_t *in, size_t n, struct sops_tree *t, struct err_ctx *err)
{
	json_error_t je;
	json_t *root;
	struct sops_node *doc = NULL;
	int rc;

	if (n > SOPS_MAX_FILE)
		return err_set(err, ERR_TOOBIG, "json: file larger than %u bytes", SOPS_MAX_FILE);
	root = json_loadb((const char *)in, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (root == NULL)
		return err_set(err, ERR_INVAL, "json: line %d: %s", je.line, je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(err, ERR_INVAL, "json: top level is not an object");
	}
	rc = from_json(t, root, 0, &doc, err);
	json_decref(root);
	if (rc == 0)
		rc = sops_tree_add_doc(t, doc);
	if (rc != 0)
		sops_tree_clear(t);
	return rc;
}

static int put(struct secbuf *o, const char *s)
{
	return secbuf_put(o, s, strlen(s));
}

static int tabs(struct secbuf *o, int n)
{
	int rc = 0;

	while (n-- > 0 && rc == 0)
		rc = put(o, "\t");
	return rc;
}

/* Length of the valid UTF-8 sequence at s[0..n), 0 when invalid. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	uint32_t cp;

	return str_utf8_next(s, n, &cp);
}

int sops_json_put_string(struct secbuf *o, const uint8_t *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	char esc[8];
	size_t i;
	int rc;

	if ((rc = put(o, "\"")) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			rc = secbuf_put(o, esc, 2);
		} else if (c == '\n') {
			rc = put(o, "\\n");
		} else if (c == '\t') {
			rc = put(o, "\\t");
		} else if (c == '\r') {
			rc = put(o, "\\r");
		} else if (c < 0x20 || (c >= 0x80 && utf8_len(s + i, n - i) == 0)) {
			/* controls, and bytes that are not UTF-8 (as their code point) */
			memcpy(esc, "\\u00", 4);
			esc[4] = hx[c >> 4];
			esc[5] = hx[c & 15];
			rc = secbuf_put(o, esc, 6);
		} else if (c >= 0x80) {
			size_t l = utf8_len(s + i, n - i);

			rc = secbuf_put(o, s + i, l);
			i += l - 1;
		} else {
			rc = secbuf_put(o, &c, 1);
		}
		if (rc != 0)
			return rc;
	}
	return put(o, "\"");
}

static int put_scalar(struct secbuf *o, const struct sops_node *n)
{
	const uint8_t *s = n->value ? n->value->data : (const uint8_t *)"";
	size_t len = n->value ? n->value->len : 0;
	int b;

	switch (n->type) {
	case SOPS_T_NULL:
		return put(o, "null");
	case SOPS_T_BOOL:
		if (sops_value_parse_bool((const char *)s, len, &b) != 0)
			return ERR_INVAL;
		return put(o, b ? "true" : "false");
	case SOPS_T_INT:
	case SOPS_T_FLOAT:
		return len ? secbuf_put(o, s, len) : put(o, "0");
	default:
		return sops_json_put_string(o, s, len);
	}
}

static int emit(struct secbuf *o, const struct sops_node *n, int depth)
{
	size_t i, k = 0;
	int rc;

	if (n->kind == SOPS_SCALAR)
		return put_scalar(o, n);
	if ((rc = put(o, n->kind == SOPS_MAP ? "{" : "[")) != 0)
		return rc;
	for (i = 0; i < n->n; i++) {
		const struct sops_node *it = n->items[i];

		if (it->kind == SOPS_COMMENT)
			continue;
		if ((rc = put(o, k++ ? ",\n" : "\n")) != 0 || (rc = tabs(o, depth + 1)) != 0)
			return rc;
		if (n->kind == SOPS_MAP) {
			if ((rc = sops_json_put_string(o, (const uint8_t *)it->key,
						       strlen(it->key))) != 0 ||
			    (rc = put(o, ": ")) != 0)
				return rc;
		}
		if ((rc = emit(o, it, depth + 1)) != 0)
			return rc;
	}
	if (k > 0 && ((rc = put(o, "\n")) != 0 || (rc = tabs(o, depth)) != 0))
		return rc;
	return put(o, n->kind == SOPS_MAP ? "}" : "]");
}

int sops_json_emit(const struct sops_tree *t, struct secbuf *out)
{
	int rc;

	if (t->ndocs == 0)
		return put(out, "{}\n");
	if ((rc = emit(out, t->docs[0], 0)) != 0)
		return rc;
	return put(out, "\n");
}
