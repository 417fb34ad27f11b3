/* yaml_json.c — libyaml document → jansson value. */
#include "common/yaml_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct loader {
	yaml_document_t doc;
	const char *name;
	size_t nodes;
	struct err_ctx *err;
};

static json_t *scalar_to_json(const yaml_node_t *node)
{
	const char *s = (const char *)node->data.scalar.value;
	size_t n = node->data.scalar.length;
	char *end;

	/* libyaml gives every untagged scalar the str tag, so only the style tells a quoted
	 * string from a plain scalar to be typed. */
	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, n);
	if (n == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	    strcmp(s, "NULL") == 0)
		return json_null();
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
		return json_true();
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
		return json_false();
	if ((s[0] >= '0' && s[0] <= '9') || ((s[0] == '-' || s[0] == '+') && n > 1)) {
		long long v;
		double d;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno == 0 && *end == '\0')
			return json_integer(v);
		errno = 0;
		d = strtod(s, &end);
		if (errno == 0 && *end == '\0' && strchr(s, 'x') == NULL && strchr(s, 'X') == NULL)
			return json_real(d);
	}
	return json_stringn(s, n);
}

static int convert(struct loader *l, yaml_node_t *node, int depth, json_t **out)
{
	json_t *v = NULL;
	int rc = 0;

	if (depth > YAML_JSON_MAX_DEPTH)
		return err_set(l->err, ERR_TOOBIG, "%s: nesting deeper than %d", l->name,
			       YAML_JSON_MAX_DEPTH);
	if (++l->nodes > YAML_JSON_MAX_NODES)
		return err_set(l->err, ERR_TOOBIG, "%s: more than %d nodes (alias expansion?)",
			       l->name, YAML_JSON_MAX_NODES);
	switch (node->type) {
	case YAML_SCALAR_NODE:
		v = scalar_to_json(node);
		break;
	case YAML_SEQUENCE_NODE:
		v = json_array();
		for (yaml_node_item_t *it = node->data.sequence.items.start;
		     v != NULL && it < node->data.sequence.items.top; it++) {
			json_t *child;

			if ((rc = convert(l, yaml_document_get_node(&l->doc, *it), depth + 1,
					  &child)) != 0)
				goto out;
			json_array_append_new(v, child);
		}
		break;
	case YAML_MAPPING_NODE:
		v = json_object();
		for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
		     v != NULL && p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(&l->doc, p->key);
			json_t *child;

			if (k == NULL || k->type != YAML_SCALAR_NODE) {
				rc = err_set(l->err, ERR_INVAL, "%s:%zu: mapping key is not a scalar",
					     l->name, k ? k->start_mark.line + 1 : 0);
				goto out;
			}
			if ((rc = convert(l, yaml_document_get_node(&l->doc, p->value),
					  depth + 1, &child)) != 0)
				goto out;
			json_object_setn_new(v, (const char *)k->data.scalar.value,
					     k->data.scalar.length, child);
		}
		break;
	default:
		rc = err_set(l->err, ERR_INVAL, "%s: empty node", l->name);
		goto out;
	}
	if (v == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	*out = v;
	v = NULL;
out:
	json_decref(v);
	return rc;
}

int yaml_json_load(const char *name, const char *data, size_t n, json_t **out,
		   struct err_ctx *err)
{
	yaml_parser_t parser;
	struct loader l = {.name = name, .err = err};
	yaml_node_t *root;
	int rc;

	if (!yaml_parser_initialize(&parser))
		return ERR_NOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, n);
	if (!yaml_parser_load(&parser, &l.doc)) {
		rc = err_set(err, ERR_INVAL, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
			     parser.problem_mark.column + 1,
			     parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		return rc;
	}
	root = yaml_document_get_root_node(&l.doc);
	if (root == NULL) {
		rc = err_set(err, ERR_INVAL, "%s: empty document", name);
	} else {
		rc = convert(&l, root, 0, out);
	}
	yaml_document_delete(&l.doc);
	yaml_parser_delete(&parser);
	return rc;
}
