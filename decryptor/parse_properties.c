/* parse_properties.c — java.util.Properties.load(Reader) on UTF-8 input (rules in
 * parse_properties.h). The reader is a transcription of the JDK 17 LineReader state machine
 * working on bytes: every character it treats specially is ASCII, and no byte of a
 * multi-byte UTF-8 sequence is ASCII, so bytes and UTF-16 units give the same lines. */
#include "decryptor/parse_properties.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/secbuf.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "decryptor/parse_kv.h"

struct reader {
	const uint8_t *p;
	size_t n, off;
	size_t line; /* natural line of the next byte, 1-based */
};

/* Next byte; counts a natural line at "\n" and at a "\r" not followed by "\n". */
static uint8_t rd_get(struct reader *r)
{
	uint8_t c = r->p[r->off++];

	if (c == '\n' || (c == '\r' && (r->off >= r->n || r->p[r->off] != '\n')))
		r->line++;
	return c;
}

/* Reads one logical line into lb (cleared first). Returns 1 with *start = the natural line
 * of its first character, 0 at the end of input, or a negative ERR_*. */
static int rd_line(struct reader *r, struct secbuf *lb, size_t *start)
{
	bool skip_ws = true, appended_begin = false, bs = false;
	uint8_t c;
	int rc;

	secbuf_clear(lb);
	for (;;) {
		if (r->off >= r->n) {
			if (lb->len == 0)
				return 0;
			if (bs)
				lb->data[--lb->len] = '\0';
			return 1;
		}
		c = rd_get(r);
		if (skip_ws) {
			if (c == ' ' || c == '\t' || c == '\f')
				continue;
			if (!appended_begin && (c == '\r' || c == '\n'))
				continue;
			skip_ws = false;
			appended_begin = false;
		}
		if (lb->len == 0 && (c == '#' || c == '!')) {
			for (;;) { /* a comment: consume through the first "\r" or "\n" */
				if (r->off >= r->n)
					return 0;
				c = rd_get(r);
				if (c == '\r' || c == '\n')
					break;
			}
			skip_ws = true;
			continue;
		}
		if (c != '\n' && c != '\r') {
			if (lb->len == 0)
				*start = r->line;
			if (lb->len >= PARSE_PROPERTIES_MAX_LINE)
				return ERR_TOOBIG;
			if ((rc = secbuf_put(lb, &c, 1)) != 0)
				return rc;
			bs = c == '\\' ? !bs : false;
			continue;
		}
		if (lb->len == 0) {
			skip_ws = true;
			continue;
		}
		if (r->off >= r->n) {
			if (bs)
				lb->data[--lb->len] = '\0';
			return 1;
		}
		if (!bs)
			return 1;
		/* continuation: drop the backslash, skip the next line's leading white space */
		lb->data[--lb->len] = '\0';
		skip_ws = true;
		appended_begin = true;
		bs = false;
		if (c == '\r' && r->p[r->off] == '\n')
			(void)rd_get(r);
	}
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at p[0..4) of a region ending at end; -1 when malformed. */
static long hex4(const uint8_t *p, const uint8_t *end)
{
	long v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return -1;
		v = (v << 4) | h;
	}
	return v;
}

static size_t utf8_encode(uint32_t cp, uint8_t out[4])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	} else if (cp < 0x800) {
		out[0] = (uint8_t)(0xC0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	} else if (cp < 0x10000) {
		out[0] = (uint8_t)(0xE0 | (cp >> 12));
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (uint8_t)(0xF0 | (cp >> 18));
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

enum { CONV_MALFORMED = 1, CONV_SURROGATE = 2 };

/* Java's loadConvert of p[0..n) appended to the secbuf sb. Returns 0, CONV_* for an escape
 * error, or a negative ERR_*. An unpaired surrogate is CONV_SURROGATE unless lone_ok: then
 * it is written as its 3-byte (WTF-8) form, which is not valid UTF-8, so that a value can
 * carry it until a later definition of the same key replaces it, as in Java. */
static int convert(const uint8_t *p, size_t n, struct secbuf *sb, bool lone_ok)
{
	const uint8_t *end = p + n;
	uint8_t u[4];
	int rc;

	while (p < end) {
		const uint8_t *run = p;
		uint8_t c;

		while (p < end && *p != '\\')
			p++;
		if (p > run && (rc = secbuf_put(sb, run, (size_t)(p - run))) != 0)
			return rc;
		if (p >= end)
			break;
		p++; /* the backslash */
		if (p >= end)
			break; /* cannot happen: the reader drops an unpaired final backslash */
		c = *p++;
		if (c == 'u') {
			long v = hex4(p, end), lo;
			uint32_t cp;

			if (v < 0)
				return CONV_MALFORMED;
			p += 4;
			cp = (uint32_t)v;
			/* Java keeps UTF-16 units: only an escaped low half can pair with an
			 * escaped high half (literal text never holds a lone surrogate) */
			if (v >= 0xD800 && v <= 0xDBFF && end - p >= 6 && p[0] == '\\' &&
			    p[1] == 'u') {
				if ((lo = hex4(p + 2, end)) < 0)
					return CONV_MALFORMED;
				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					p += 6;
					cp = 0x10000 + (((uint32_t)v - 0xD800) << 10) +
					     ((uint32_t)lo - 0xDC00);
				}
			}
			if (cp >= 0xD800 && cp <= 0xDFFF && !lone_ok)
				return CONV_SURROGATE;
			rc = secbuf_put(sb, u, utf8_encode(cp, u));
		} else {
			if (c == 't')
				c = '\t';
			else if (c == 'r')
				c = '\r';
			else if (c == 'n')
				c = '\n';
			else if (c == 'f')
				c = '\f';
			rc = secbuf_put(sb, &c, 1);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Line of the first invalid UTF-8 byte, or 0 when p[0..n) is valid. */
static size_t utf8_bad_line(const uint8_t *p, size_t n)
{
	size_t line = 1, i = 0;

	while (i < n) {
		uint32_t c = p[i], v;
		size_t k;

		if (c < 0x80) {
			if (c == '\n' || (c == '\r' && (i + 1 >= n || p[i + 1] != '\n')))
				line++;
			i++;
			continue;
		}
		if ((k = str_utf8_next(p + i, n - i, &v)) == 0)
			return line;
		i += k;
	}
	return 0;
}

/* Keeps the last definition of each key (Java's Hashtable.put), in file order, in O(n log n)
 * rather than a lookup per line; refuses more than PARSE_PROPERTIES_MAX_KEYS distinct keys,
 * naming the line where the first one too many appears. */
static int last_wins(const char *file_name, struct kvlist *l, struct err_ctx *err)
{
	const struct kv **v = NULL;
	bool *keep = NULL, *first = NULL;
	struct kvlist out;
	size_t distinct = 0;
	int rc = 0;

	kvlist_init(&out);
	if (l->n < 2)
		return 0;
	keep = xcalloc(l->n, sizeof(*keep));
	first = xcalloc(l->n, sizeof(*first));
	if (keep == NULL || first == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	if ((rc = parse_kv_sorted(l, parse_kv_cmp_key, &v)) != 0)
		goto out;
	for (size_t i = 0; i < l->n; i++) {
		if (i == 0 || strcmp(v[i - 1]->key, v[i]->key) != 0)
			first[v[i] - l->items] = true;
		if (i + 1 == l->n || strcmp(v[i + 1]->key, v[i]->key) != 0)
			keep[v[i] - l->items] = true;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (first[i] && ++distinct > PARSE_PROPERTIES_MAX_KEYS) {
			const char *c = strrchr(l->items[i].origin, ':');

			rc = err_set(err, ERR_TOOBIG, "%s:%s: more than %d keys", file_name,
				     c ? c + 1 : "?", PARSE_PROPERTIES_MAX_KEYS);
			goto out;
		}
	}
	for (size_t i = 0; i < l->n; i++) {
		struct kv *kv = &l->items[i];

		if (!keep[i])
			continue;
		rc = kvlist_add(&out, kv->key, kv->value, kv->origin);
		kv->value = NULL; /* transferred, even on failure */
		if (rc != 0)
			goto out;
	}
	kvlist_free(l);
	*l = out;
	kvlist_init(&out);
out:
	kvlist_free(&out);
	free(first);
	free(keep);
	free(v);
	return rc;
}

static int conv_error(struct err_ctx *err, const char *file_name, size_t line, int rc)
{
	if (rc == CONV_MALFORMED)
		return err_set(err, ERR_INVAL, "%s:%zu: malformed \\uxxxx encoding", file_name,
			       line);
	if (rc == CONV_SURROGATE)
		return err_set(err, ERR_INVAL, "%s:%zu: \\u escape gives an unpaired surrogate",
			       file_name, line);
	return err_set(err, rc, "%s:%zu: %s", file_name, line, err_str(rc));
}

int parse_properties(const char *file_name, const uint8_t *data, size_t n, struct kvlist *out,
		     struct err_ctx *err)
{
	struct reader r = {data, n, 0, 1};
	struct secbuf *lb = NULL, *kb = NULL, *val = NULL;
	char origin[PARSE_PROPERTIES_ORIGIN_MAX];
	struct kvlist l;
	size_t start = 1, bad;
	int rc;

	kvlist_init(&l);
	if (out->n != 0)
		return err_set(err, ERR_INVAL, "%s: output list is not empty", file_name);
	if (n > PARSE_PROPERTIES_MAX_INPUT)
		return err_set(err, ERR_TOOBIG, "%s: file larger than %zu bytes", file_name,
			       PARSE_PROPERTIES_MAX_INPUT);
	if ((bad = utf8_bad_line(data, n)) != 0)
		return err_set(err, ERR_INVAL, "%s:%zu: invalid UTF-8", file_name, bad);
	/* lb holds the raw logical line, kb the converted key: both may contain secret text
	 * (a value, or a key that swallowed one), so they live in secbufs too */
	if ((rc = secbuf_new(&lb, PARSE_PROPERTIES_MAX_LINE)) != 0 ||
	    (rc = secbuf_new(&kb, PARSE_PROPERTIES_MAX_LINE)) != 0)
		goto out;
	while ((rc = rd_line(&r, lb, &start)) == 1) {
		const uint8_t *s = lb->data;
		size_t limit = lb->len, klen = 0, vstart = limit;
		bool has_sep = false, bs = false;

		while (klen < limit) {
			uint8_t c = s[klen];

			if ((c == '=' || c == ':') && !bs) {
				vstart = klen + 1;
				has_sep = true;
				break;
			} else if ((c == ' ' || c == '\t' || c == '\f') && !bs) {
				vstart = klen + 1;
				break;
			}
			bs = c == '\\' ? !bs : false;
			klen++;
		}
		while (vstart < limit) {
			uint8_t c = s[vstart];

			if (c != ' ' && c != '\t' && c != '\f') {
				if (!has_sep && (c == '=' || c == ':'))
					has_sep = true;
				else
					break;
			}
			vstart++;
		}
		secbuf_clear(kb);
		if ((rc = convert(s, klen, kb, false)) != 0) {
			rc = conv_error(err, file_name, start, rc);
			goto out;
		}
		if ((rc = secbuf_new(&val, PARSE_PROPERTIES_MAX_LINE)) != 0)
			goto out;
		if ((rc = convert(s + vstart, limit - vstart, val, true)) != 0) {
			rc = conv_error(err, file_name, start, rc);
			goto out;
		}
		if (memchr(kb->data, '\0', kb->len) != NULL) {
			rc = err_set(err, ERR_INVAL, "%s:%zu: key contains U+0000", file_name,
				     start);
			goto out;
		}
		if (l.n >= PARSE_PROPERTIES_MAX_DEFS) {
			rc = err_set(err, ERR_TOOBIG, "%s:%zu: more than %d definitions", file_name,
				     start, PARSE_PROPERTIES_MAX_DEFS);
			goto out;
		}
		if ((rc = str_fmt(origin, sizeof(origin), "%s:%zu", file_name, start)) != 0) {
			rc = err_set(err, rc, "%s: file name too long", file_name);
			goto out;
		}
		rc = kvlist_add(&l, (char *)kb->data, val, origin); /* last_wins() dedupes */
		val = NULL; /* transferred, even on failure */
		if (rc != 0) {
			rc = err_set(err, rc, "%s:%zu: %s", file_name, start, err_str(rc));
			goto out;
		}
	}
	if (rc == ERR_TOOBIG) {
		rc = err_set(err, rc, "%s:%zu: logical line longer than %zu bytes", file_name,
			     start, PARSE_PROPERTIES_MAX_LINE);
		goto out;
	}
	if (rc != 0) {
		rc = err_set(err, rc, "%s:%zu: %s", file_name, start, err_str(rc));
		goto out;
	}
	if ((rc = last_wins(file_name, &l, err)) != 0)
		goto out;
	/* a final value still holding an unpaired surrogate cannot be UTF-8 */
	for (size_t i = 0; i < l.n; i++) {
		if (utf8_bad_line(l.items[i].value->data, l.items[i].value->len) != 0) {
			const char *c = strrchr(l.items[i].origin, ':');

			rc =
			    err_set(err, ERR_INVAL, "%s:%s: \\u escape gives an unpaired surrogate",
				    file_name, c ? c + 1 : "?");
			goto out;
		}
	}
	*out = l;
	kvlist_init(&l);
out:
	secbuf_free(val);
	secbuf_free(kb);
	secbuf_free(lb);
	kvlist_free(&l);
	return rc;
}
