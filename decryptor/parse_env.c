/* parse_env.c — kustomize-compatible `.env` parser (see parse_env.h for the rules). */
#include "decryptor/parse_env.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/secbuf.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "decryptor/parse_kv.h"

/* Go's unicode.IsSpace. */
static bool is_space(uint32_t r)
{
	switch (r) {
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case ' ':
	case 0x85:
	case 0xA0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202F:
	case 0x205F:
	case 0x3000:
		return true;
	default:
		return r >= 0x2000 && r <= 0x200A;
	}
}

static bool utf8_valid(const uint8_t *p, size_t n)
{
	uint32_t cp;
	size_t i = 0, k;

	while (i < n) {
		if ((k = str_utf8_next(p + i, n - i, &cp)) == 0)
			return false;
		i += k;
	}
	return true;
}

/* Line number stored at the end of an origin "file:line". */
static const char *origin_line(const char *origin)
{
	const char *c = strrchr(origin, ':');

	return c ? c + 1 : "?";
}

/* ERR_CONFLICT naming the repeated key whose second definition comes first in the file. */
static int check_repeats(const char *file_name, const struct kvlist *l, struct err_ctx *err)
{
	const struct kv **v = NULL, *first = NULL, *second = NULL;
	int rc = 0;

	if (l->n < 2)
		return 0;
	if ((rc = parse_kv_sorted(l, parse_kv_cmp_key, &v)) != 0)
		return rc;
	for (size_t i = 1; i < l->n; i++) {
		/* v[i] is the second definition of its key when it equals v[i-1] but v[i-2]
		 * differs; keep the one that comes first in the file */
		if (strcmp(v[i - 1]->key, v[i]->key) != 0)
			continue;
		if (i >= 2 && strcmp(v[i - 2]->key, v[i]->key) == 0)
			continue;
		if (second == NULL || v[i] < second) {
			first = v[i - 1];
			second = v[i];
		}
	}
	if (second != NULL)
		rc = err_set(err, ERR_CONFLICT, "%s:%s: key \"%.64s\" repeats the key of line %s",
			     file_name, origin_line(second->origin), second->key,
			     origin_line(first->origin));
	free(v);
	return rc;
}

int parse_env(const char *file_name, const uint8_t *data, size_t n, struct kvlist *out,
	      struct err_ctx *err)
{
	static const uint8_t bom[3] = {0xEF, 0xBB, 0xBF};
	struct kvlist l;
	size_t pos = 0, lineno = 0;
	char origin[PARSE_ENV_ORIGIN_MAX];
	int rc = 0;

	kvlist_init(&l);
	if (out->n != 0)
		return err_set(err, ERR_INVAL, "%s: output list is not empty", file_name);
	if (n > PARSE_ENV_MAX_INPUT)
		return err_set(err, ERR_TOOBIG, "%s: file larger than %zu bytes", file_name,
			       PARSE_ENV_MAX_INPUT);
	while (pos < n) {
		const uint8_t *line = data + pos, *nl = memchr(line, '\n', n - pos), *eq;
		size_t len = nl ? (size_t)(nl - line) : n - pos, klen, i = 0;
		struct secbuf *val = NULL;
		char *key;
		uint32_t cp;

		pos += len + (nl != NULL);
		lineno++;
		if (len > PARSE_ENV_MAX_LINE) {
			rc = err_set(err, ERR_TOOBIG, "%s:%zu: line longer than %d bytes",
				     file_name, lineno, PARSE_ENV_MAX_LINE);
			goto out;
		}
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (!utf8_valid(line, len)) {
			rc = err_set(err, ERR_INVAL, "%s:%zu: invalid UTF-8", file_name, lineno);
			goto out;
		}
		if (lineno == 1 && len >= 3 && memcmp(line, bom, 3) == 0)
			i = 3;
		while (i < len) {
			size_t k = str_utf8_next(line + i, len - i, &cp);

			if (!is_space(cp))
				break;
			i += k;
		}
		line += i;
		len -= i;
		if (len == 0 || line[0] == '#')
			continue;
		eq = memchr(line, '=', len);
		klen = eq ? (size_t)(eq - line) : len;
		if (klen == 0)
			continue; /* kustomize skips a line with an empty key */
		if (memchr(line, '\0', klen) != NULL) {
			rc = err_set(err, ERR_INVAL, "%s:%zu: key contains a NUL byte", file_name,
				     lineno);
			goto out;
		}
		if (l.n >= PARSE_ENV_MAX_KEYS) {
			rc = err_set(err, ERR_TOOBIG, "%s:%zu: more than %d keys", file_name,
				     lineno, PARSE_ENV_MAX_KEYS);
			goto out;
		}
		if ((key = xstrndup((const char *)line, klen)) == NULL) {
			rc = ERR_NOMEM;
			goto out;
		}
		rc = eq ? secbuf_from(&val, eq + 1, len - klen - 1) : secbuf_new(&val, 0);
		if (rc == 0) {
			rc = str_fmt(origin, sizeof(origin), "%s:%zu", file_name, lineno);
			if (rc == 0)
				rc = kvlist_add(&l, key, val, origin);
			else
				secbuf_free(val);
		}
		free(key);
		if (rc != 0) {
			err_set(err, rc, "%s:%zu: %s", file_name, lineno, err_str(rc));
			goto out;
		}
	}
	if ((rc = check_repeats(file_name, &l, err)) != 0)
		goto out;
	*out = l;
	kvlist_init(&l);
out:
	kvlist_free(&l);
	return rc;
}
