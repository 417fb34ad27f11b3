/* codec.c — checked msgpack writer/reader and the table-driven struct codec.
 *
 * Where secret bytes live while decoding: the frame payload is a secbuf. codec_scan()
 * reads it in place. msgpack_unpack_next() (the non-streaming entry point) then builds
 * msgpack_object trees in its zone, but for str and bin objects it stores a pointer into
 * the caller's buffer (template_callback_str/bin set via.*.ptr = p and mark the data
 * "referenced"); it never copies their bytes. The zone therefore only holds object
 * headers (types, sizes, pointers, integers, booleans), none of which is secret, and the
 * secret bytes go from the payload secbuf straight into a new secbuf (secbuf_from). We
 * chose this over a hand-written object walker because msgpack-c stays the parser; the
 * only thing it does badly — allocating count * sizeof(object) for a container before
 * reading it — is neutralised by codec_scan(), which refuses counts that the remaining
 * bytes cannot hold, nesting deeper than CODEC_MAX_DEPTH and more than CODEC_MAX_OBJECTS
 * objects, so the zone is bounded by a small multiple of the (capped) frame size. */
#include "proto/codec.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "proto/msg.h"

/* ---- writer ---- */

static int codec_write_cb(void *data, const char *buf, size_t len)
{
	struct codec_writer *w = data;
	int rc;

	if (w->err != 0)
		return -1;
	if ((rc = secbuf_put(w->sb, buf, len)) != 0) {
		w->err = rc;
		return -1;
	}
	return 0;
}

int codec_writer_init(struct codec_writer *w, size_t max)
{
	int rc;

	memset(w, 0, sizeof(*w));
	if ((rc = secbuf_new(&w->sb, max)) != 0)
		return rc;
	msgpack_packer_init(&w->pk, w, codec_write_cb);
	return 0;
}

static int codec_status(struct codec_writer *w, int r)
{
	if (w->err != 0)
		return w->err;
	return r == 0 ? 0 : ERR_NOMEM;
}

int codec_writer_take(struct codec_writer *w, struct secbuf **out)
{
	if (w->err != 0)
		return w->err;
	*out = w->sb;
	w->sb = NULL;
	return 0;
}

void codec_writer_free(struct codec_writer *w)
{
	secbuf_free(w->sb);
	w->sb = NULL;
}

int codec_put_str(struct codec_writer *w, const char *s, size_t n)
{
	int r = msgpack_pack_str(&w->pk, n);

	if (r == 0 && n > 0)
		r = msgpack_pack_str_body(&w->pk, s, n);
	return codec_status(w, r);
}

int codec_put_cstr(struct codec_writer *w, const char *s)
{
	return codec_put_str(w, s, strlen(s));
}

/* ---- member access ---- */

#define MEMBER(base, off, type) ((type *)(void *)((char *)(base) + (off)))
#define CMEMBER(base, off, type) ((const type *)(const void *)((const char *)(base) + (off)))

/* metrics travel as an array of {"name", "value"} maps */
struct codec_metric {
	char *name;
	uint64_t value;
};
static const struct codec_field codec_metric_fields[] = {
	{.name = "name", .kind = CODEC_STR, .flags = CODEC_REQUIRED,
	 .off = offsetof(struct codec_metric, name), .max = MSG_MAX_NAME},
	{.name = "value", .kind = CODEC_U64, .off = offsetof(struct codec_metric, value)},
};
static const struct codec_schema codec_metric_schema = {
	"metric", codec_metric_fields, sizeof(codec_metric_fields) / sizeof(codec_metric_fields[0]),
	sizeof(struct codec_metric)};

static bool codec_optional(const struct codec_field *f)
{
	return (f->kind == CODEC_STR || f->kind == CODEC_SECBUF) && !(f->flags & CODEC_REQUIRED);
}

static bool codec_present(const struct codec_field *f, const void *base)
{
	if (f->kind == CODEC_STR)
		return *CMEMBER(base, f->off, char *) != NULL;
	if (f->kind == CODEC_SECBUF)
		return *CMEMBER(base, f->off, struct secbuf *) != NULL;
	return true;
}

/* ---- encoder ---- */

static int codec_encode_field(struct codec_writer *w, const struct codec_field *f,
			      const void *base, int redact)
{
	msgpack_packer *pk = &w->pk;
	int r = 0, rc;

	switch (f->kind) {
	case CODEC_STR: {
		const char *s = *CMEMBER(base, f->off, char *);
		size_t n = strlen(s);

		if (n > f->max || !str_utf8_valid(s, n))
			return ERR_INVAL;
		if (redact && (f->flags & CODEC_SECRET))
			r = msgpack_pack_uint64(pk, n);
		else
			return codec_put_str(w, s, n);
		break;
	}
	case CODEC_SECBUF: {
		const struct secbuf *sb = *CMEMBER(base, f->off, struct secbuf *);

		if (sb->len > f->max)
			return ERR_TOOBIG;
		if (redact && (f->flags & CODEC_SECRET)) {
			r = msgpack_pack_uint64(pk, sb->len);
		} else {
			r = msgpack_pack_bin(pk, sb->len);
			if (r == 0 && sb->len > 0)
				r = msgpack_pack_bin_body(pk, sb->data, sb->len);
		}
		break;
	}
	case CODEC_U64: {
		uint64_t v = *CMEMBER(base, f->off, uint64_t);

		if (f->max != 0 && v > f->max)
			return ERR_INVAL;
		r = msgpack_pack_uint64(pk, v);
		break;
	}
	case CODEC_U32: {
		uint32_t v = *CMEMBER(base, f->off, uint32_t);

		if (f->max != 0 && v > f->max)
			return ERR_INVAL;
		r = msgpack_pack_uint32(pk, v);
		break;
	}
	case CODEC_I64:
		r = msgpack_pack_int64(pk, *CMEMBER(base, f->off, int64_t));
		break;
	case CODEC_I32:
		r = msgpack_pack_int32(pk, *CMEMBER(base, f->off, int32_t));
		break;
	case CODEC_BOOL:
		r = *CMEMBER(base, f->off, bool) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
		break;
	case CODEC_STRUCT:
		return codec_encode_struct(w, f->sub, CMEMBER(base, f->off, char), redact, NULL, 0);
	case CODEC_ARRAY: {
		const char *items = *CMEMBER(base, f->off, char *);
		size_t n = *CMEMBER(base, f->count_off, size_t);

		if (n > f->max)
			return ERR_TOOBIG;
		if (n > 0 && items == NULL)
			return ERR_INVAL;
		if ((rc = codec_status(w, msgpack_pack_array(pk, n))) != 0)
			return rc;
		for (size_t i = 0; i < n; i++) {
			rc = codec_encode_struct(w, f->sub, items + i * f->sub->size, redact, NULL, 0);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	case CODEC_METRICS: {
		const struct msg_metrics *m = CMEMBER(base, f->off, struct msg_metrics);

		if (m->n > f->max)
			return ERR_TOOBIG;
		if (m->n > 0 && (m->names == NULL || m->values == NULL))
			return ERR_INVAL;
		if ((rc = codec_status(w, msgpack_pack_array(pk, m->n))) != 0)
			return rc;
		for (size_t i = 0; i < m->n; i++) {
			struct codec_metric e = {m->names[i], m->values[i]};

			if ((rc = codec_encode_struct(w, &codec_metric_schema, &e, redact, NULL, 0)) != 0)
				return rc;
		}
		return 0;
	}
	}
	return codec_status(w, r);
}

int codec_encode_struct(struct codec_writer *w, const struct codec_schema *s, const void *base,
			int redact, const struct codec_extra *extra, size_t nextra)
{
	size_t count = nextra;
	int rc;

	for (size_t i = 0; i < s->nfields; i++) {
		const struct codec_field *f = &s->fields[i];

		if (codec_present(f, base))
			count++;
		else if (!codec_optional(f))
			return ERR_INVAL; /* a required field is missing: refuse to send it */
	}
	if ((rc = codec_status(w, msgpack_pack_map(&w->pk, count))) != 0)
		return rc;
	for (size_t i = 0; i < nextra; i++) {
		if ((rc = codec_put_cstr(w, extra[i].key)) != 0)
			return rc;
		if ((rc = codec_status(w, msgpack_pack_uint64(&w->pk, extra[i].value))) != 0)
			return rc;
	}
	for (size_t i = 0; i < s->nfields; i++) {
		const struct codec_field *f = &s->fields[i];

		if (!codec_present(f, base))
			continue;
		if ((rc = codec_put_cstr(w, f->name)) != 0)
			return rc;
		if ((rc = codec_encode_field(w, f, base, redact)) != 0)
			return rc;
	}
	return 0;
}

/* ---- scanner ---- */

static uint64_t codec_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int codec_scan(const uint8_t *p, size_t n, struct err_ctx *err)
{
	uint64_t left[CODEC_MAX_DEPTH + 1];
	size_t pos = 0, objects = 0, depth = 0;

	left[0] = 1;
	for (;;) {
		uint64_t skip = 0, items = 0;
		size_t lenb = 0;
		bool container = false;
		uint8_t c;

		while (depth > 0 && left[depth] == 0)
			depth--;
		if (left[depth] == 0)
			break;
		left[depth]--;
		if (++objects > CODEC_MAX_OBJECTS)
			return err_set(err, ERR_PROTO, "message has too many objects");
		if (pos >= n)
			return err_set(err, ERR_PROTO, "message truncated");
		c = p[pos++];
		if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
			skip = 0;
		} else if (c >= 0x80 && c <= 0x8f) {
			container = true;
			items = (uint64_t)(c & 0x0f) * 2;
		} else if (c >= 0x90 && c <= 0x9f) {
			container = true;
			items = c & 0x0f;
		} else if (c >= 0xa0 && c <= 0xbf) {
			skip = c & 0x1f;
		} else {
			switch (c) {
			case 0xc4: case 0xd9: lenb = 1; break;         /* bin8, str8 */
			case 0xc5: case 0xda: lenb = 2; break;         /* bin16, str16 */
			case 0xc6: case 0xdb: lenb = 4; break;         /* bin32, str32 */
			case 0xc7: lenb = 1; skip = 1; break;          /* ext8: + type */
			case 0xc8: lenb = 2; skip = 1; break;
			case 0xc9: lenb = 4; skip = 1; break;
			case 0xca: skip = 4; break;
			case 0xcb: skip = 8; break;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xce: case 0xd2: skip = 4; break;
			case 0xcf: case 0xd3: skip = 8; break;
			case 0xd4: skip = 2; break;                    /* fixext: type + data */
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xdc: container = true; lenb = 2; break;  /* array16 */
			case 0xdd: container = true; lenb = 4; break;  /* array32 */
			case 0xde: container = true; lenb = 2; items = 1; break; /* map16 */
			case 0xdf: container = true; lenb = 4; items = 1; break; /* map32 */
			default:
				return err_set(err, ERR_PROTO, "invalid msgpack byte at offset %zu",
					       pos - 1);
			}
			if (lenb > 0) {
				uint64_t v;

				if (n - pos < lenb)
					return err_set(err, ERR_PROTO, "message truncated");
				v = codec_be(p + pos, lenb);
				pos += lenb;
				if (container)
					items = items ? v * 2 : v; /* items == 1 marked a map */
				else
					skip += v;
			}
		}
		if (container) {
			/* every element takes at least one byte */
			if (items > n - pos)
				return err_set(err, ERR_PROTO, "container count exceeds the message");
			if (items == 0)
				continue;
			if (depth + 1 > CODEC_MAX_DEPTH)
				return err_set(err, ERR_PROTO, "nesting deeper than %d",
					       CODEC_MAX_DEPTH);
			left[++depth] = items;
		} else {
			if (skip > n - pos)
				return err_set(err, ERR_PROTO, "message truncated");
			pos += (size_t)skip;
		}
	}
	if (pos != n)
		return err_set(err, ERR_PROTO, "%zu trailing bytes after the message", n - pos);
	return 0;
}

/* ---- decoder ---- */

int codec_key_is(const msgpack_object *o, const char *key)
{
	size_t n = strlen(key);

	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       (n == 0 || memcmp(o->via.str.ptr, key, n) == 0);
}

static const char *codec_type_name(enum codec_kind k)
{
	switch (k) {
	case CODEC_STR: return "a string";
	case CODEC_SECBUF: return "binary";
	case CODEC_U64: case CODEC_U32: return "an unsigned integer";
	case CODEC_I64: case CODEC_I32: return "an integer";
	case CODEC_BOOL: return "a boolean";
	case CODEC_STRUCT: return "a map";
	case CODEC_ARRAY: case CODEC_METRICS: return "an array";
	}
	return "?";
}

static int codec_decode_field(const struct codec_field *f, const msgpack_object *o, void *base,
			      const char *path, struct err_ctx *err)
{
	char sub[CODEC_PATH_MAX];
	bool ok;

	switch (f->kind) {
	case CODEC_STR: ok = o->type == MSGPACK_OBJECT_STR; break;
	case CODEC_SECBUF: ok = o->type == MSGPACK_OBJECT_BIN; break;
	case CODEC_U64: case CODEC_U32: ok = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER; break;
	case CODEC_I64:
	case CODEC_I32:
		ok = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
		     o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
		break;
	case CODEC_BOOL: ok = o->type == MSGPACK_OBJECT_BOOLEAN; break;
	case CODEC_STRUCT: ok = o->type == MSGPACK_OBJECT_MAP; break;
	default: ok = o->type == MSGPACK_OBJECT_ARRAY; break;
	}
	if (!ok)
		return err_set(err, ERR_PROTO, "%s: expected %s", path, codec_type_name(f->kind));

	switch (f->kind) {
	case CODEC_STR: {
		char *s;

		if (o->via.str.size > f->max)
			return err_set(err, ERR_PROTO, "%s: string longer than %llu bytes", path,
				       (unsigned long long)f->max);
		if (!str_utf8_valid(o->via.str.ptr, o->via.str.size))
			return err_set(err, ERR_PROTO, "%s: not UTF-8 text", path);
		if ((s = xstrndup(o->via.str.ptr, o->via.str.size)) == NULL)
			return ERR_NOMEM;
		*MEMBER(base, f->off, char *) = s;
		return 0;
	}
	case CODEC_SECBUF: {
		struct secbuf *sb;
		int rc;

		if (o->via.bin.size > f->max)
			return err_set(err, ERR_PROTO, "%s: value longer than %llu bytes", path,
				       (unsigned long long)f->max);
		if ((rc = secbuf_from(&sb, o->via.bin.ptr, o->via.bin.size)) != 0)
			return rc;
		*MEMBER(base, f->off, struct secbuf *) = sb;
		return 0;
	}
	case CODEC_U64:
		if (f->max != 0 && o->via.u64 > f->max)
			return err_set(err, ERR_PROTO, "%s: integer out of range", path);
		*MEMBER(base, f->off, uint64_t) = o->via.u64;
		return 0;
	case CODEC_U32:
		if (o->via.u64 > (f->max != 0 ? f->max : UINT32_MAX))
			return err_set(err, ERR_PROTO, "%s: integer out of range", path);
		*MEMBER(base, f->off, uint32_t) = (uint32_t)o->via.u64;
		return 0;
	case CODEC_I64:
		if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 > INT64_MAX)
			return err_set(err, ERR_PROTO, "%s: integer out of range", path);
		*MEMBER(base, f->off, int64_t) = o->via.i64;
		return 0;
	case CODEC_I32:
		if ((o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 > INT32_MAX) ||
		    (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && o->via.i64 < INT32_MIN))
			return err_set(err, ERR_PROTO, "%s: integer out of range", path);
		*MEMBER(base, f->off, int32_t) = (int32_t)o->via.i64;
		return 0;
	case CODEC_BOOL:
		*MEMBER(base, f->off, bool) = o->via.boolean;
		return 0;
	case CODEC_STRUCT:
		return codec_decode_struct(f->sub, o, MEMBER(base, f->off, char), NULL, path, err);
	case CODEC_ARRAY: {
		size_t n = o->via.array.size;
		char *items;
		int rc;

		if (n > f->max)
			return err_set(err, ERR_PROTO, "%s: more than %llu elements", path,
				       (unsigned long long)f->max);
		if (n == 0)
			return 0;
		if ((items = xcalloc(n, f->sub->size)) == NULL)
			return ERR_NOMEM;
		*MEMBER(base, f->off, char *) = items;
		*MEMBER(base, f->count_off, size_t) = n;
		if (f->cap_off != 0)
			*MEMBER(base, f->cap_off, size_t) = n;
		for (size_t i = 0; i < n; i++) {
			(void)snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (o->via.array.ptr[i].type != MSGPACK_OBJECT_MAP)
				return err_set(err, ERR_PROTO, "%s: expected a map", sub);
			rc = codec_decode_struct(f->sub, &o->via.array.ptr[i],
						 items + i * f->sub->size, NULL, sub, err);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	case CODEC_METRICS: {
		struct msg_metrics *m = MEMBER(base, f->off, struct msg_metrics);
		size_t n = o->via.array.size;
		int rc;

		if (n > f->max)
			return err_set(err, ERR_PROTO, "%s: more than %llu elements", path,
				       (unsigned long long)f->max);
		if (n == 0)
			return 0;
		m->names = xcalloc(n, sizeof(*m->names));
		m->values = xcalloc(n, sizeof(*m->values));
		m->n = n;
		if (m->names == NULL || m->values == NULL)
			return ERR_NOMEM;
		for (size_t i = 0; i < n; i++) {
			struct codec_metric e = {NULL, 0};

			(void)snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (o->via.array.ptr[i].type != MSGPACK_OBJECT_MAP)
				return err_set(err, ERR_PROTO, "%s: expected a map", sub);
			rc = codec_decode_struct(&codec_metric_schema, &o->via.array.ptr[i], &e,
						 NULL, sub, err);
			if (rc != 0) {
				free(e.name);
				return rc;
			}
			m->names[i] = e.name;
			m->values[i] = e.value;
		}
		return 0;
	}
	}
	return ERR_PROTO;
}

int codec_decode_struct(const struct codec_schema *s, const msgpack_object *obj, void *base,
			const char *const *reserved, const char *path, struct err_ctx *err)
{
	char sub[CODEC_PATH_MAX];
	uint64_t seen = 0;
	int rc;

	if (obj->type != MSGPACK_OBJECT_MAP)
		return err_set(err, ERR_PROTO, "%s: expected a map", path);
	for (uint32_t i = 0; i < obj->via.map.size; i++) {
		const msgpack_object *k = &obj->via.map.ptr[i].key;
		const msgpack_object *v = &obj->via.map.ptr[i].val;
		bool skip = false;
		size_t j;

		if (k->type != MSGPACK_OBJECT_STR)
			return err_set(err, ERR_PROTO, "%s: map key is not a string", path);
		for (const char *const *r = reserved; r != NULL && *r != NULL; r++) {
			if (codec_key_is(k, *r))
				skip = true;
		}
		if (skip)
			continue;
		for (j = 0; j < s->nfields; j++) {
			if (codec_key_is(k, s->fields[j].name))
				break;
		}
		/* The unknown key itself is not echoed: it is peer-controlled bytes. */
		if (j == s->nfields)
			return err_set(err, ERR_PROTO, "%s: unknown key", path);
		(void)snprintf(sub, sizeof(sub), "%s.%s", path, s->fields[j].name);
		if (seen & ((uint64_t)1 << j))
			return err_set(err, ERR_PROTO, "%s: duplicate key", sub);
		seen |= (uint64_t)1 << j;
		if ((rc = codec_decode_field(&s->fields[j], v, base, sub, err)) != 0)
			return rc;
	}
	for (size_t j = 0; j < s->nfields; j++) {
		const struct codec_field *f = &s->fields[j];

		if (!(seen & ((uint64_t)1 << j)) && !codec_optional(f))
			return err_set(err, ERR_PROTO, "%s.%s: missing required field", path,
				       f->name);
	}
	return 0;
}

/* ---- free and copy ---- */

void codec_free(const struct codec_schema *s, void *base)
{
	if (base == NULL)
		return;
	for (size_t i = 0; i < s->nfields; i++) {
		const struct codec_field *f = &s->fields[i];

		switch (f->kind) {
		case CODEC_STR: {
			char *str = *MEMBER(base, f->off, char *);

			if (str != NULL && (f->flags & CODEC_SECRET))
				explicit_bzero(str, strlen(str)); /* a secret string is wiped too */
			free(str);
			break;
		}
		case CODEC_SECBUF:
			secbuf_free(*MEMBER(base, f->off, struct secbuf *));
			break;
		case CODEC_STRUCT:
			codec_free(f->sub, MEMBER(base, f->off, char));
			break;
		case CODEC_ARRAY: {
			char *items = *MEMBER(base, f->off, char *);
			size_t n = *MEMBER(base, f->count_off, size_t);

			for (size_t k = 0; items != NULL && k < n; k++)
				codec_free(f->sub, items + k * f->sub->size);
			free(items);
			break;
		}
		case CODEC_METRICS: {
			struct msg_metrics *m = MEMBER(base, f->off, struct msg_metrics);

			for (size_t k = 0; m->names != NULL && k < m->n; k++)
				free(m->names[k]);
			free(m->names);
			free(m->values);
			break;
		}
		default:
			break;
		}
	}
	memset(base, 0, s->size);
}

static int codec_copy_field(const struct codec_field *f, void *dst, const void *src)
{
	switch (f->kind) {
	case CODEC_STR: {
		const char *s = *CMEMBER(src, f->off, char *);

		if (s != NULL && (*MEMBER(dst, f->off, char *) = xstrdup(s)) == NULL)
			return ERR_NOMEM;
		return 0;
	}
	case CODEC_SECBUF: {
		const struct secbuf *s = *CMEMBER(src, f->off, struct secbuf *);

		if (s == NULL)
			return 0;
		return secbuf_from(MEMBER(dst, f->off, struct secbuf *), s->data, s->len);
	}
	case CODEC_U64: case CODEC_I64:
		memcpy(MEMBER(dst, f->off, char), CMEMBER(src, f->off, char), 8);
		return 0;
	case CODEC_U32: case CODEC_I32:
		memcpy(MEMBER(dst, f->off, char), CMEMBER(src, f->off, char), 4);
		return 0;
	case CODEC_BOOL:
		*MEMBER(dst, f->off, bool) = *CMEMBER(src, f->off, bool);
		return 0;
	case CODEC_STRUCT:
		return codec_copy(f->sub, MEMBER(dst, f->off, char), CMEMBER(src, f->off, char));
	case CODEC_ARRAY: {
		const char *items = *CMEMBER(src, f->off, char *);
		size_t n = *CMEMBER(src, f->count_off, size_t);
		char *d;
		int rc;

		if (n == 0 || items == NULL)
			return 0;
		if ((d = xcalloc(n, f->sub->size)) == NULL)
			return ERR_NOMEM;
		*MEMBER(dst, f->off, char *) = d;
		*MEMBER(dst, f->count_off, size_t) = n;
		if (f->cap_off != 0)
			*MEMBER(dst, f->cap_off, size_t) = n;
		for (size_t i = 0; i < n; i++) {
			rc = codec_copy(f->sub, d + i * f->sub->size, items + i * f->sub->size);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	case CODEC_METRICS: {
		const struct msg_metrics *s = CMEMBER(src, f->off, struct msg_metrics);
		struct msg_metrics *d = MEMBER(dst, f->off, struct msg_metrics);

		if (s->n == 0)
			return 0;
		d->names = xcalloc(s->n, sizeof(*d->names));
		d->values = xcalloc(s->n, sizeof(*d->values));
		d->n = s->n;
		if (d->names == NULL || d->values == NULL)
			return ERR_NOMEM;
		for (size_t i = 0; i < s->n; i++) {
			if ((d->names[i] = xstrdup(s->names[i])) == NULL)
				return ERR_NOMEM;
			d->values[i] = s->values[i];
		}
		return 0;
	}
	}
	return ERR_INVAL;
}

int codec_copy(const struct codec_schema *s, void *dst, const void *src)
{
	int rc;

	memset(dst, 0, s->size);
	for (size_t i = 0; i < s->nfields; i++) {
		if ((rc = codec_copy_field(&s->fields[i], dst, src)) != 0) {
			codec_free(s, dst);
			return rc;
		}
	}
	return 0;
}
