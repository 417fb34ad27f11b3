/* sops_yaml.c — YAML store (see sops_yaml.h).
 * libyaml reports no comments, so comments are recovered from the bytes between events:
 * a '#' at line start or after blank space, outside any scalar, starts a comment. A
 * comment is attached to the innermost container whose column it does not precede when
 * that container closes, otherwise to the container of the next node (go-yaml attaches
 * head, line and foot comments the same way for the files sops writes). */
#include "decryptor/sops/sops_yaml.h"

#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "decryptor/sops/sops_value.h"

struct pending {
	size_t col;
	int line;
	size_t off, len; /* comment text (after '#') in the input */
};

struct frame {
	struct sops_node *node;
	size_t col;
	char *key;        /* map: key read, value pending (owned) */
	char *anchor;     /* anchor of this container (owned), registered when it closes */
};

struct anchor {
	char *name;
	struct sops_node *node; /* borrowed: lives in the tree */
};

struct yparse {
	const uint8_t *in;
	size_t n, scan;
	struct sops_tree *t;
	struct frame stack[SOPS_MAX_DEPTH + 1];
	size_t depth;
	struct pending pend[SOPS_YAML_MAX_PENDING];
	size_t npend;
	struct anchor anchors[SOPS_YAML_MAX_ANCHORS];
	size_t nanchors;
	struct err_ctx *err;
};

static int scan_comments(struct yparse *p, size_t upto)
{
	size_t i, s;
	int line_start;

	if (upto > p->n)
		upto = p->n;
	for (i = p->scan; i < upto; i++) {
		if (p->in[i] != '#')
			continue;
		line_start = i == 0 || p->in[i - 1] == ' ' || p->in[i - 1] == '\t' ||
			     p->in[i - 1] == '\n' || p->in[i - 1] == '\r';
		if (!line_start)
			continue;
		s = i;
		while (i < p->n && p->in[i] != '\n')
			i++;
		if (p->npend >= SOPS_YAML_MAX_PENDING)
			return err_set(p->err, ERR_TOOBIG, "yaml: too many comments");
		{
			struct pending *c = &p->pend[p->npend++];
			size_t ls = s, line = 1, k;

			while (ls > 0 && p->in[ls - 1] != '\n')
				ls--;
			for (k = 0; k < s; k++)
				line += p->in[k] == '\n';
			c->col = s - ls;
			c->line = (int)line;
			c->off = s + 1;
			c->len = i - s - 1;
			if (c->len > 0 && p->in[c->off + c->len - 1] == '\r')
				c->len--;
		}
	}
	if (upto > p->scan)
		p->scan = upto;
	return 0;
}

static int attach_comment(struct yparse *p, struct sops_node *to, const struct pending *c)
{
	struct sops_node *cn;
	int rc;

	if ((rc = sops_node_new(p->t, SOPS_COMMENT, &cn)) != 0)
		return rc;
	cn->line = c->line;
	if ((rc = sops_node_set_value(cn, p->in + c->off, c->len)) != 0) {
		sops_node_free(cn);
		return rc;
	}
	return sops_node_append(to, cn);
}

/* Attaches pending comments: all of them (min_col 0) or those at min_col or deeper. */
static int flush_pending(struct yparse *p, struct sops_node *to, size_t min_col)
{
	size_t i, keep = 0;
	int rc;

	for (i = 0; i < p->npend; i++) {
		if (p->pend[i].col >= min_col) {
			if ((rc = attach_comment(p, to, &p->pend[i])) != 0)
				return rc;
		} else {
			p->pend[keep++] = p->pend[i];
		}
	}
	p->npend = keep;
	return 0;
}

static struct sops_node *find_anchor(struct yparse *p, const char *name)
{
	size_t i;

	for (i = p->nanchors; i-- > 0;)
		if (strcmp(p->anchors[i].name, name) == 0)
			return p->anchors[i].node;
	return NULL;
}

static int add_anchor(struct yparse *p, const char *name, struct sops_node *node)
{
	char *d;

	if (p->nanchors >= SOPS_YAML_MAX_ANCHORS)
		return err_set(p->err, ERR_TOOBIG, "yaml: too many anchors");
	d = xstrdup(name);
	if (d == NULL)
		return ERR_NOMEM;
	p->anchors[p->nanchors].name = d;
	p->anchors[p->nanchors++].node = node;
	return 0;
}

/* Places a finished node in the current container (or as a document). flush: attach the
 * pending comments first (they precede a scalar; a closing container leaves them for what
 * follows it). */
static int place(struct yparse *p, struct sops_node *node, int line, int flush)
{
	struct frame *f;
	size_t i;
	int rc;

	if (p->depth == 0) {
		sops_node_free(node);
		return err_set(p->err, ERR_INVAL, "yaml: line %d: top level is not a mapping", line);
	}
	f = &p->stack[p->depth - 1];
	if (flush && (rc = flush_pending(p, f->node, 0)) != 0) {
		sops_node_free(node);
		return rc;
	}
	if (f->node->kind == SOPS_MAP) {
		if (f->key == NULL) {
			sops_node_free(node);
			return err_set(p->err, ERR_INVAL, "yaml: line %d: invalid mapping key", line);
		}
		for (i = 0; i < f->node->n; i++) {
			if (f->node->items[i]->key != NULL &&
			    strcmp(f->node->items[i]->key, f->key) == 0) {
				sops_node_free(node);
				return err_set(p->err, ERR_INVAL,
					       "yaml: line %d: duplicate key \"%.64s\"", line, f->key);
			}
		}
		free(node->key);
		node->key = f->key;
		f->key = NULL;
	}
	return sops_node_append(f->node, node);
}

/* In a map expecting a key: takes a scalar as the key. 1 when consumed. */
static int take_key(struct yparse *p, yaml_event_t *ev, int *consumed)
{
	struct frame *f;

	*consumed = 0;
	if (p->depth == 0)
		return 0;
	f = &p->stack[p->depth - 1];
	if (f->node->kind != SOPS_MAP || f->key != NULL)
		return 0;
	if (ev->type != YAML_SCALAR_EVENT)
		return err_set(p->err, ERR_INVAL, "yaml: line %zu: non-scalar mapping key",
			       ev->start_mark.line + 1);
	if (ev->data.scalar.length > SOPS_MAX_KEY)
		return err_set(p->err, ERR_TOOBIG, "yaml: line %zu: key too long",
			       ev->start_mark.line + 1);
	if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length) != NULL)
		return err_set(p->err, ERR_INVAL, "yaml: line %zu: NUL in key",
			       ev->start_mark.line + 1);
	f->key = xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
	if (f->key == NULL)
		return ERR_NOMEM;
	if (flush_pending(p, f->node, 0) != 0)
		return ERR_NOMEM;
	*consumed = 1;
	return 0;
}

static int on_scalar(struct yparse *p, yaml_event_t *ev)
{
	struct sops_node *node;
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	int rc;

	if ((rc = sops_node_new(p->t, SOPS_SCALAR, &node)) != 0)
		return err_set(p->err, rc, "yaml: too many nodes");
	node->line = (int)ev->start_mark.line + 1;
	if ((rc = sops_node_set_value(node, v, len)) != 0) {
		sops_node_free(node);
		return err_set(p->err, rc, "yaml: line %zu: value too large",
			       ev->start_mark.line + 1);
	}
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    (tag != NULL && strcmp(tag, "tag:yaml.org,2002:str") == 0) ||
	    (tag != NULL && strcmp(tag, "!") == 0)) {
		node->type = SOPS_T_STR;
		node->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
			       tag != NULL;
	} else {
		node->type = sops_value_resolve_yaml(v, len);
	}
	if (ev->data.scalar.anchor != NULL &&
	    (rc = add_anchor(p, (const char *)ev->data.scalar.anchor, node)) != 0) {
		sops_node_free(node);
		return rc;
	}
	if (p->depth == 0 && len == 0) { /* empty document */
		sops_node_free(node);
		node = NULL;
		if ((rc = sops_node_new(p->t, SOPS_MAP, &node)) != 0)
			return rc;
		return sops_tree_add_doc(p->t, node);
	}
	return place(p, node, node->line, 1);
}

static int on_start(struct yparse *p, yaml_event_t *ev, enum sops_kind kind)
{
	struct sops_node *node;
	const yaml_char_t *anchor = kind == SOPS_MAP ? ev->data.mapping_start.anchor
						     : ev->data.sequence_start.anchor;
	struct frame *f;
	int rc;

	if (p->depth >= SOPS_MAX_DEPTH)
		return err_set(p->err, ERR_TOOBIG, "yaml: line %zu: nesting deeper than %d",
			       ev->start_mark.line + 1, SOPS_MAX_DEPTH);
	if (p->depth == 0 && kind != SOPS_MAP)
		return err_set(p->err, ERR_INVAL, "yaml: top level is a sequence, not a mapping");
	/* comments before the container at a lower column belong to the enclosing one */
	if (p->depth > 0) {
		size_t i, keep = 0;

		for (i = 0; i < p->npend; i++) {
			if (p->pend[i].col < ev->start_mark.column) {
				if ((rc = attach_comment(p, p->stack[p->depth - 1].node, &p->pend[i])) != 0)
					return rc;
			} else {
				p->pend[keep++] = p->pend[i];
			}
		}
		p->npend = keep;
	}
	if ((rc = sops_node_new(p->t, kind, &node)) != 0)
		return err_set(p->err, rc, "yaml: too many nodes");
	node->line = (int)ev->start_mark.line + 1;
	f = &p->stack[p->depth++];
	memset(f, 0, sizeof(*f));
	f->node = node;
	f->col = ev->start_mark.column;
	if (anchor != NULL && (f->anchor = xstrdup((const char *)anchor)) == NULL)
		return ERR_NOMEM;
	return 0;
}

static int on_end(struct yparse *p)
{
	struct frame *f = &p->stack[p->depth - 1];
	struct sops_node *node = f->node;
	char *anchor = f->anchor;
	int rc;

	if ((rc = flush_pending(p, node, f->col)) != 0)
		return rc;
	if (f->key != NULL) {
		free(f->key);
		f->key = NULL;
		free(anchor);
		return err_set(p->err, ERR_INVAL, "yaml: mapping key without value");
	}
	p->depth--;
	f->node = NULL;
	f->anchor = NULL;
	if (p->depth == 0) {
		rc = sops_tree_add_doc(p->t, node);
	} else {
		rc = place(p, node, node->line, 0);
	}
	if (rc == 0 && anchor != NULL)
		rc = add_anchor(p, anchor, node);
	free(anchor);
	return rc;
}

static int on_alias(struct yparse *p, yaml_event_t *ev)
{
	struct sops_node *src = find_anchor(p, (const char *)ev->data.alias.anchor), *cp;
	int rc;

	if (src == NULL)
		return err_set(p->err, ERR_INVAL, "yaml: line %zu: unknown or open anchor",
			       ev->start_mark.line + 1);
	if ((rc = sops_node_copy(p->t, src, &cp)) != 0)
		return err_set(p->err, rc, "yaml: line %zu: alias expansion exceeds %d nodes",
			       ev->start_mark.line + 1, SOPS_MAX_NODES);
	return place(p, cp, (int)ev->start_mark.line + 1, 1);
}

int sops_yaml_parse(const uint8_t *in, size_t n, struct sops_tree *t, struct err_ctx *err)
{
	struct yparse *p = xcalloc(1, sizeof(*p));
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0, done = 0, consumed, have_ev = 0;
	size_t i;

	if (p == NULL)
		return ERR_NOMEM;
	if (n > SOPS_MAX_FILE) {
		free(p);
		return err_set(err, ERR_TOOBIG, "yaml: file larger than %u bytes", SOPS_MAX_FILE);
	}
	p->in = in;
	p->n = n;
	p->t = t;
	p->err = err;
	if (!yaml_parser_initialize(&parser)) {
		free(p);
		return ERR_NOMEM;
	}
	yaml_parser_set_input_string(&parser, in, n);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = err_set(err, ERR_INVAL, "yaml: line %zu: %s",
				     parser.problem_mark.line + 1,
				     parser.problem ? parser.problem : "syntax error");
			break;
		}
		have_ev = 1;
		if ((rc = scan_comments(p, ev.start_mark.index)) != 0)
			break;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (t->ndocs > 0)
				rc = flush_pending(p, t->docs[t->ndocs - 1], 0);
			break;
		case YAML_SCALAR_EVENT:
			if ((rc = take_key(p, &ev, &consumed)) == 0 && !consumed)
				rc = on_scalar(p, &ev);
			break;
		case YAML_ALIAS_EVENT:
			if ((rc = take_key(p, &ev, &consumed)) == 0 && !consumed)
				rc = on_alias(p, &ev);
			break;
		case YAML_MAPPING_START_EVENT:
			if ((rc = take_key(p, &ev, &consumed)) == 0)
				rc = on_start(p, &ev, SOPS_MAP);
			break;
		case YAML_SEQUENCE_START_EVENT:
			if ((rc = take_key(p, &ev, &consumed)) == 0)
				rc = on_start(p, &ev, SOPS_SEQ);
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			rc = on_end(p);
			break;
		default:
			break;
		}
		if (ev.end_mark.index > p->scan && ev.type != YAML_MAPPING_END_EVENT &&
		    ev.type != YAML_SEQUENCE_END_EVENT && ev.type != YAML_DOCUMENT_END_EVENT &&
		    ev.type != YAML_STREAM_END_EVENT)
			p->scan = ev.end_mark.index;
		yaml_event_delete(&ev);
		have_ev = 0;
		if (rc != 0)
			break;
	}
	if (have_ev)
		yaml_event_delete(&ev);
	yaml_parser_delete(&parser);
	for (i = 0; i < p->depth; i++) {
		sops_node_free(p->stack[i].node);
		free(p->stack[i].key);
		free(p->stack[i].anchor);
	}
	for (i = 0; i < p->nanchors; i++)
		free(p->anchors[i].name);
	free(p);
	if (rc != 0)
		sops_tree_clear(t);
	return rc;
}

/* ---- writer ------------------------------------------------------------------------ */

static int put(struct secbuf *o, const char *s)
{
	return secbuf_put(o, s, strlen(s));
}

static int put_indent(struct secbuf *o, size_t n)
{
	static const char sp[] = "                                ";
	int rc;

	while (n > 0) {
		size_t k = n > 32 ? 32 : n;

		if ((rc = secbuf_put(o, sp, k)) != 0)
			return rc;
		n -= k;
	}
	return 0;
}

static int plain_safe(const uint8_t *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':' ||
	    strchr("-?:,[]{}#&*!|>'\"%@`\t", s[0]) != NULL)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 0;
		if (s[i] == ':' && i + 1 < n && s[i + 1] == ' ')
			return 0;
		if (s[i] == '#' && i > 0 && s[i - 1] == ' ')
			return 0;
		if (s[i] >= 0x80)
			return 0;
	}
	return sops_value_resolve_yaml((const char *)s, n) == SOPS_T_STR;
}

/* Double-quoted scalar: every character YAML would not read back verbatim (controls,
 * line separators NEL/LS/PS, non-printables, invalid UTF-8 bytes) is escaped. */
static int put_quoted(struct secbuf *o, const uint8_t *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	char esc[12];
	size_t i = 0, l;
	uint32_t c;
	int rc, k;

	if ((rc = put(o, "\"")) != 0)
		return rc;
	while (i < n) {
		l = str_utf8_next(s + i, n - i, &c);
		if (l == 0) { /* not UTF-8: written as the code point of the byte */
			c = s[i];
			l = 1;
		}
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
		} else if (c == 0x85) {
			rc = put(o, "\\N");
		} else if (c == 0x2028) {
			rc = put(o, "\\L");
		} else if (c == 0x2029) {
			rc = put(o, "\\P");
		} else if ((c >= 0x20 && c <= 0x7E && l == 1) || (c >= 0xA0 && c <= 0xD7FF && l > 1) ||
			   (c >= 0xE000 && c <= 0xFFFD && c != 0xFEFF && l > 1) ||
			   (c >= 0x10000 && l > 1)) {
			rc = secbuf_put(o, s + i, l);
		} else if (c <= 0xFF) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hx[c >> 4];
			esc[3] = hx[c & 15];
			rc = secbuf_put(o, esc, 4);
		} else {
			esc[0] = '\\';
			esc[1] = 'u';
			for (k = 0; k < 4; k++)
				esc[2 + k] = hx[(c >> (12 - 4 * k)) & 15];
			rc = secbuf_put(o, esc, 6);
		}
		if (rc != 0)
			return rc;
		i += l;
	}
	return put(o, "\"");
}

int sops_yaml_put_scalar(struct secbuf *o, const struct sops_node *n)
{
	const uint8_t *s = n->value ? n->value->data : (const uint8_t *)"";
	size_t len = n->value ? n->value->len : 0;
	int b;

	switch (n->type) {
	case SOPS_T_NULL:
		return len ? secbuf_put(o, s, len) : 0;
	case SOPS_T_BOOL:
		if (sops_value_parse_bool((const char *)s, len, &b) == 0)
			return put(o, b ? "true" : "false");
		return put_quoted(o, s, len);
	case SOPS_T_INT:
	case SOPS_T_FLOAT:
	case SOPS_T_TIME:
		return secbuf_put(o, s, len);
	default:
		if (!n->quoted && plain_safe(s, len))
			return secbuf_put(o, s, len);
		return put_quoted(o, s, len);
	}
}

static int put_key(struct secbuf *o, const char *k)
{
	struct sops_node tmp;
	struct secbuf kb;

	memset(&tmp, 0, sizeof(tmp));
	kb.data = (uint8_t *)k;
	kb.len = strlen(k);
	kb.cap = kb.len + 1;
	kb.max = kb.len;
	tmp.kind = SOPS_SCALAR;
	tmp.type = SOPS_T_STR;
	tmp.value = &kb;
	return sops_yaml_put_scalar(o, &tmp);
}

static int emit_node(struct secbuf *o, const struct sops_node *n, size_t indent, int inline_first);

static int emit_comment(struct secbuf *o, const struct sops_node *c, size_t indent)
{
	int rc;

	if ((rc = put_indent(o, indent)) != 0 || (rc = put(o, "#")) != 0)
		return rc;
	if (c->value != NULL && (rc = secbuf_put(o, c->value->data, c->value->len)) != 0)
		return rc;
	return put(o, "\n");
}

static int emit_value_after(struct secbuf *o, const struct sops_node *v, size_t indent)
{
	int rc;

	if (v->kind == SOPS_SCALAR) {
		if (!(v->type == SOPS_T_NULL && (v->value == NULL || v->value->len == 0)) &&
		    (rc = put(o, " ")) != 0)
			return rc;
		if ((rc = sops_yaml_put_scalar(o, v)) != 0)
			return rc;
		return put(o, "\n");
	}
	if (v->n == 0)
		return put(o, v->kind == SOPS_MAP ? " {}\n" : " []\n");
	if ((rc = put(o, "\n")) != 0)
		return rc;
	return emit_node(o, v, indent, 0);
}

/* Writes the items of a map or sequence at indent. inline_first: the first line's indent
 * was already written (after "- "). */
static int emit_node(struct secbuf *o, const struct sops_node *n, size_t indent, int inline_first)
{
	size_t i;
	int rc;

	for (i = 0; i < n->n; i++) {
		const struct sops_node *it = n->items[i];
		int skip_indent = inline_first && i == 0;

		if (it->kind == SOPS_COMMENT) {
			if ((rc = emit_comment(o, it, skip_indent ? 0 : indent)) != 0)
				return rc;
			if (skip_indent && i + 1 < n->n && (rc = put_indent(o, 0)) != 0)
				return rc;
			continue;
		}
		if (!skip_indent && (rc = put_indent(o, indent)) != 0)
			return rc;
		if (n->kind == SOPS_MAP) {
			if ((rc = put_key(o, it->key ? it->key : "")) != 0 || (rc = put(o, ":")) != 0 ||
			    (rc = emit_value_after(o, it, indent + 4)) != 0)
				return rc;
		} else {
			if (it->kind == SOPS_SCALAR) {
				if ((rc = put(o, "- ")) != 0 || (rc = sops_yaml_put_scalar(o, it)) != 0 ||
				    (rc = put(o, "\n")) != 0)
					return rc;
			} else if (it->n == 0) {
				if ((rc = put(o, it->kind == SOPS_MAP ? "- {}\n" : "- []\n")) != 0)
					return rc;
			} else {
				if ((rc = put(o, "- ")) != 0 ||
				    (rc = emit_node(o, it, indent + 2, 1)) != 0)
					return rc;
			}
		}
	}
	return 0;
}

int sops_yaml_emit(const struct sops_tree *t, struct secbuf *out)
{
	size_t i;
	int rc;

	for (i = 0; i < t->ndocs; i++) {
		if (i > 0 && (rc = put(out, "---\n")) != 0)
			return rc;
		if (t->docs[i]->n == 0) {
			if ((rc = put(out, "{}\n")) != 0)
				return rc;
			continue;
		}
		if ((rc = emit_node(out, t->docs[i], 0, 0)) != 0)
			return rc;
	}
	return 0;
}
