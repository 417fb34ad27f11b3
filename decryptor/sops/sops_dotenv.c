/* sops_dotenv.c — dotenv store (see sops_dotenv.h). */
#include "decryptor/sops/sops_dotenv.h"

#include <string.h>

static int unescape_into(struct sops_node *n, const uint8_t *v, size_t len)
{
	struct secbuf *s;
	size_t i;
	int rc;

	if (len > SOPS_MAX_VALUE)
		return ERR_TOOBIG;
	if ((rc = secbuf_new(&s, SOPS_MAX_VALUE)) != 0)
		return rc;
	for (i = 0; i < len && rc == 0; i++) {
		if (v[i] == '\\' && i + 1 < len && v[i + 1] == 'n') {
			rc = secbuf_put(s, "\n", 1);
			i++;
		} else {
			rc = secbuf_put(s, &v[i], 1);
		}
	}
	if (rc != 0) {
		secbuf_free(s);
		return rc;
	}
	secbuf_free(n->value);
	n->value = s;
	return 0;
}

int sops_dotenv_parse(const uint8_t *in, size_t n, struct sops_tree *t, struct err_ctx *err)
{
	struct sops_node *doc = NULL, *it;
	size_t pos = 0, s, e, i;
	const uint8_t *eq;
	int rc, line = 0;

	if (n > SOPS_MAX_FILE)
		return err_set(err, ERR_TOOBIG, "dotenv: file larger than %u bytes", SOPS_MAX_FILE);
	if ((rc = sops_node_new(t, SOPS_MAP, &doc)) != 0)
		return rc;
	while (pos < n) {
		s = pos;
		while (pos < n && in[pos] != '\n')
			pos++;
		e = pos;
		if (pos < n)
			pos++;
		line++;
		if (e == s)
			continue;
		if (in[s] == '#') {
			if ((rc = sops_node_new(t, SOPS_COMMENT, &it)) != 0)
				goto fail;
			it->line = line;
			if ((rc = sops_node_set_value(it, in + s + 1, e - s - 1)) != 0 ||
			    (rc = sops_node_append(doc, it)) != 0)
				goto fail;
			continue;
		}
		eq = memchr(in + s, '=', e - s);
		if (eq == NULL || eq == in + s) {
			rc = err_set(err, ERR_INVAL, "dotenv: line %d: invalid line", line);
			goto fail;
		}
		if (memchr(in + s, '\0', e - s) != NULL) {
			rc = err_set(err, ERR_INVAL, "dotenv: line %d: NUL byte", line);
			goto fail;
		}
		for (i = 0; i < doc->n; i++) {
			const char *k = doc->items[i]->key;

			if (k != NULL && strlen(k) == (size_t)(eq - (in + s)) &&
			    memcmp(k, in + s, strlen(k)) == 0) {
				rc = err_set(err, ERR_INVAL, "dotenv: line %d: duplicate key", line);
				goto fail;
			}
		}
		if ((rc = sops_node_new(t, SOPS_SCALAR, &it)) != 0)
			goto fail;
		it->line = line;
		it->type = SOPS_T_STR;
		if ((rc = sops_node_set_key(it, (const char *)in + s, (size_t)(eq - (in + s)))) != 0 ||
		    (rc = unescape_into(it, eq + 1, (size_t)(in + e - eq - 1))) != 0) {
			sops_node_free(it);
			err_set(err, rc, "dotenv: line %d: too large", line);
			goto fail;
		}
		if ((rc = sops_node_append(doc, it)) != 0)
			goto fail;
	}
	return sops_tree_add_doc(t, doc);
fail:
	sops_node_free(doc);
	return rc;
}

int sops_dotenv_emit(const struct sops_tree *t, struct secbuf *out)
{
	const struct sops_node *doc = t->ndocs ? t->docs[0] : NULL;
	size_t i, j;
	int rc = 0;

	for (i = 0; doc != NULL && i < doc->n && rc == 0; i++) {
		const struct sops_node *it = doc->items[i];

		if (it->kind == SOPS_COMMENT) {
			if ((rc = secbuf_put(out, "#", 1)) == 0 && it->value != NULL)
				rc = secbuf_put(out, it->value->data, it->value->len);
		} else {
			if (it->kind != SOPS_SCALAR)
				return ERR_INVAL;
			if ((rc = secbuf_put(out, it->key, strlen(it->key))) != 0 ||
			    (rc = secbuf_put(out, "=", 1)) != 0)
				return rc;
			for (j = 0; it->value != NULL && j < it->value->len && rc == 0; j++)
				rc = it->value->data[j] == '\n'
					     ? secbuf_put(out, "\\n", 2)
					     : secbuf_put(out, &it->value->data[j], 1);
		}
		if (rc == 0)
			rc = secbuf_put(out, "\n", 1);
	}
	return rc;
}
