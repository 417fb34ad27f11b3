/* sops_ini.c — INI store (see sops_ini.h). */
#include "decryptor/sops/sops_ini.h"

#include <string.h>

#define INI_MAX_PENDING 1024

static int is_sp(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void trim(const uint8_t *in, size_t *s, size_t *e)
{
	while (*s < *e && is_sp(in[*s]))
		(*s)++;
	while (*e > *s && is_sp(in[*e - 1]))
		(*e)--;
}

struct ini_comment {
	size_t s, e;
	int line;
};

static int add_comment(struct sops_tree *t, struct sops_node *to, const uint8_t *in,
		       const struct ini_comment *c)
{
	struct sops_node *n;
	int rc;

	if ((rc = sops_node_new(t, SOPS_COMMENT, &n)) != 0)
		return rc;
	n->line = c->line;
	if ((rc = sops_node_set_value(n, in + c->s, c->e - c->s)) != 0) {
		sops_node_free(n);
		return rc;
	}
	return sops_node_append(to, n);
}

int sops_ini_parse(const uint8_t *in, size_t n, struct sops_tree *t, struct err_ctx *err)
{
	struct ini_comment pend[INI_MAX_PENDING];
	struct sops_node *doc = NULL, *sec = NULL, *it;
	size_t pos = 0, s, e, np = 0, i, ks, ke, vs, ve;
	int rc, line = 0;

	if (n > SOPS_MAX_FILE)
		return err_set(err, ERR_TOOBIG, "ini: file larger than %u bytes", SOPS_MAX_FILE);
	if ((rc = sops_node_new(t, SOPS_MAP, &doc)) != 0)
		return rc;
	if ((rc = sops_node_new(t, SOPS_MAP, &sec)) != 0 ||
	    (rc = sops_node_set_key(sec, SOPS_INI_DEFAULT, strlen(SOPS_INI_DEFAULT))) != 0 ||
	    (rc = sops_node_append(doc, sec)) != 0)
		goto fail;
	while (pos < n) {
		s = pos;
		while (pos < n && in[pos] != '\n')
			pos++;
		e = pos;
		if (pos < n)
			pos++;
		line++;
		trim(in, &s, &e);
		if (s == e)
			continue;
		if (memchr(in + s, '\0', e - s) != NULL) {
			rc = err_set(err, ERR_INVAL, "ini: line %d: NUL byte", line);
			goto fail;
		}
		if (in[s] == ';' || in[s] == '#') {
			while (s < e && (in[s] == ';' || in[s] == '#'))
				s++;
			while (s < e && is_sp(in[s]))
				s++;
			if (np >= INI_MAX_PENDING) {
				rc = err_set(err, ERR_TOOBIG, "ini: too many comment lines");
				goto fail;
			}
			pend[np].s = s;
			pend[np].e = e;
			pend[np++].line = line;
			continue;
		}
		if (in[s] == '[') {
			if (in[e - 1] != ']' || e - s < 2) {
				rc = err_set(err, ERR_INVAL, "ini: line %d: malformed section", line);
				goto fail;
			}
			ks = s + 1;
			ke = e - 1;
			trim(in, &ks, &ke);
			if (sops_node_get(doc, "") == NULL && ks == ke) {
				rc = err_set(err, ERR_INVAL, "ini: line %d: empty section name", line);
				goto fail;
			}
			if ((rc = sops_node_new(t, SOPS_MAP, &sec)) != 0)
				goto fail;
			sec->line = line;
			if ((rc = sops_node_set_key(sec, (const char *)in + ks, ke - ks)) != 0) {
				sops_node_free(sec);
				goto fail;
			}
			if ((rc = sops_node_append(doc, sec)) != 0)
				goto fail;
			for (i = 0; i < np; i++)
				if ((rc = add_comment(t, sec, in, &pend[i])) != 0)
					goto fail;
			np = 0;
			continue;
		}
		{
			const uint8_t *eqp = memchr(in + s, '=', e - s);
			const uint8_t *colp = memchr(in + s, ':', e - s);

			if (eqp == NULL || (colp != NULL && colp < eqp))
				eqp = colp;
			if (eqp == NULL) {
				rc = err_set(err, ERR_INVAL, "ini: line %d: expected key = value", line);
				goto fail;
			}
			ks = s;
			ke = (size_t)(eqp - in);
			vs = ke + 1;
			ve = e;
			trim(in, &ks, &ke);
			trim(in, &vs, &ve);
		}
		if ((rc = sops_node_new(t, SOPS_SCALAR, &it)) != 0)
			goto fail;
		it->line = line;
		if ((rc = sops_node_set_key(it, (const char *)in + ks, ke - ks)) != 0) {
			sops_node_free(it);
			goto fail;
		}
		if (ve - vs >= 3 && memcmp(in + vs, "\"\"\"", 3) == 0) {
			/* multi-line value: up to the closing """ */
			size_t q = vs + 3, endq;
			const uint8_t *f = NULL;

			for (endq = q; endq + 3 <= n; endq++) {
				if (memcmp(in + endq, "\"\"\"", 3) == 0) {
					f = in + endq;
					break;
				}
			}
			if (f == NULL) {
				sops_node_free(it);
				rc = err_set(err, ERR_INVAL, "ini: line %d: unterminated \"\"\"", line);
				goto fail;
			}
			rc = sops_node_set_value(it, in + q, endq - q);
			for (i = q; i < endq; i++)
				line += in[i] == '\n';
			pos = endq + 3;
			while (pos < n && in[pos] != '\n')
				pos++;
			if (pos < n)
				pos++;
		} else {
			if (ve - vs >= 2 && ((in[vs] == '"' && in[ve - 1] == '"') ||
					     (in[vs] == '\'' && in[ve - 1] == '\''))) {
				vs++;
				ve--;
			}
			rc = sops_node_set_value(it, in + vs, ve - vs);
		}
		if (rc != 0) {
			sops_node_free(it);
			err_set(err, rc, "ini: line %d: value too large", line);
			goto fail;
		}
		for (i = 0; i < sec->n; i++) {
			if (sec->items[i]->key != NULL && strcmp(sec->items[i]->key, it->key) == 0) {
				sops_node_free(it);
				rc = err_set(err, ERR_INVAL, "ini: line %d: duplicate key", line);
				goto fail;
			}
		}
		if ((rc = sops_node_append(sec, it)) != 0)
			goto fail;
		for (i = 0; i < np; i++)
			if ((rc = add_comment(t, sec, in, &pend[i])) != 0)
				goto fail;
		np = 0;
	}
	for (i = 0; i < np; i++)
		if ((rc = add_comment(t, sec, in, &pend[i])) != 0)
			goto fail;
	return sops_tree_add_doc(t, doc);
fail:
	sops_node_free(doc);
	return rc;
}

/* Values that the reader would trim, unquote or split: written as """...""". */
static int ini_needs_quotes(const uint8_t *v, size_t n)
{
	if (n == 0)
		return 0;
	return memchr(v, '\n', n) != NULL || is_sp(v[0]) || is_sp(v[n - 1]) || v[0] == '"' ||
	       v[0] == '\'';
}

static int put(struct secbuf *o, const char *s)
{
	return secbuf_put(o, s, strlen(s));
}

int sops_ini_emit(const struct sops_tree *t, struct secbuf *out)
{
	const struct sops_node *doc = t->ndocs ? t->docs[0] : NULL;
	size_t i, j, k;
	int rc = 0, first = 1;

	for (i = 0; doc != NULL && i < doc->n; i++) {
		const struct sops_node *sec = doc->items[i];
		int is_default = sec->key != NULL && strcmp(sec->key, SOPS_INI_DEFAULT) == 0;

		if (sec->kind != SOPS_MAP)
			return ERR_INVAL;
		if (is_default && sec->n == 0)
			continue;
		if (!first && (rc = put(out, "\n")) != 0)
			return rc;
		first = 0;
		/* the section's own comments come first */
		for (j = 0; j < sec->n && sec->items[j]->kind == SOPS_COMMENT; j++) {
			if ((rc = put(out, "; ")) != 0 ||
			    (rc = secbuf_put(out, sec->items[j]->value->data,
					     sec->items[j]->value->len)) != 0 ||
			    (rc = put(out, "\n")) != 0)
				return rc;
		}
		if (!is_default && ((rc = put(out, "[")) != 0 || (rc = put(out, sec->key)) != 0 ||
				    (rc = put(out, "]\n")) != 0))
			return rc;
		for (; j < sec->n; j++) {
			const struct sops_node *it = sec->items[j];

			if (it->kind == SOPS_COMMENT)
				continue; /* written above the key it follows in the tree */
			/* a key's comments follow it in the tree and go above it in the file */
			for (k = j + 1; k < sec->n && sec->items[k]->kind == SOPS_COMMENT; k++) {
				if ((rc = put(out, "; ")) != 0 ||
				    (rc = secbuf_put(out, sec->items[k]->value->data,
						     sec->items[k]->value->len)) != 0 ||
				    (rc = put(out, "\n")) != 0)
					return rc;
			}
			if ((rc = put(out, it->key)) != 0 || (rc = put(out, " = ")) != 0)
				return rc;
			if (it->value != NULL && ini_needs_quotes(it->value->data, it->value->len)) {
				if (memmem(it->value->data, it->value->len, "\"\"\"", 3) != NULL ||
				    it->value->data[it->value->len - 1] == '"')
					return ERR_INVAL; /* not representable in INI */
				if ((rc = put(out, "\"\"\"")) != 0 ||
				    (rc = secbuf_put(out, it->value->data, it->value->len)) != 0 ||
				    (rc = put(out, "\"\"\"")) != 0)
					return rc;
			} else if (it->value != NULL) {
				for (k = 0; k < it->value->len && rc == 0; k++)
					rc = secbuf_put(out, &it->value->data[k], 1);
				if (rc != 0)
					return rc;
			}
			if ((rc = put(out, "\n")) != 0)
				return rc;
		}
	}
	return 0;
}
