/* test_codec.c — strict decoding: every malformed variant we can generate from valid
 * messages (wrong type at every field, missing/unknown/duplicate keys, over-long strings,
 * over-count arrays, non-UTF-8, depth and count bombs, trailing bytes, bad version and
 * type), truncation at every byte and a flip of every bit. */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "msg_fixtures.h"
#include "proto/codec.h"
#include "proto/msg.h"

static const uint32_t all_types[] = {MSG_HELLO, MSG_LOG,  MSG_METRICS, MSG_TAP_ATTACH,
				     MSG_TAP,   MSG_SHUTDOWN, MSG_JOB, MSG_TREE,
				     MSG_VALUES, MSG_RESULT, MSG_RUN, MSG_EDGE,
				     MSG_CREDENTIALS};
#define NTYPES (sizeof(all_types) / sizeof(all_types[0]))

/* Decodes from an exact-size heap copy (so a sanitizer sees any over-read), checks that
 * a failure leaves *out untouched and that no error message carries the canary value. */
static int decode_rc(const void *p, size_t n, struct err_ctx *err)
{
	struct msg d, sentinel;
	uint8_t *copy = malloc(n ? n : 1);
	int rc;

	cr_assert_not_null(copy);
	if (n > 0)
		memcpy(copy, p, n);
	memset(&d, 0xA5, sizeof(d));
	memset(&sentinel, 0xA5, sizeof(sentinel));
	err->msg[0] = '\0';
	rc = msg_decode(copy, n, &d, err);
	if (rc == 0) {
		msg_free(&d);
	} else {
		cr_assert(memcmp(&d, &sentinel, sizeof(d)) == 0, "out written on failure");
		cr_assert_neq(err->msg[0], '\0', "no error detail");
	}
	cr_assert_null(strstr(err->msg, FX_CANARY), "secret in error: %s", err->msg);
	free(copy);
	return rc;
}

static int decode_obj(const msgpack_object *root, struct err_ctx *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	cr_assert_eq(msgpack_pack_object(&pk, *root), 0);
	rc = decode_rc(sb.data, sb.size, err);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static struct secbuf *valid(uint32_t type)
{
	struct msg m;
	struct secbuf *sb = NULL;

	fx_msg(&m, type);
	cr_assert_eq(msg_encode(&m, 0, &sb), 0);
	msg_free(&m);
	return sb;
}

/* ---- walking a message's object tree ---- */

#define MAX_SLOTS 512

struct slots {
	msgpack_object *v[MAX_SLOTS];  /* every map value and array element */
	msgpack_object *maps[MAX_SLOTS]; /* every map, the root included */
	size_t n, nmaps;
};

static void collect(msgpack_object *o, struct slots *s)
{
	if (o->type == MSGPACK_OBJECT_MAP) {
		cr_assert_lt(s->nmaps, MAX_SLOTS);
		s->maps[s->nmaps++] = o;
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			cr_assert_lt(s->n, MAX_SLOTS);
			s->v[s->n++] = &o->via.map.ptr[i].val;
			collect(&o->via.map.ptr[i].val, s);
		}
	} else if (o->type == MSGPACK_OBJECT_ARRAY) {
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			cr_assert_lt(s->n, MAX_SLOTS);
			s->v[s->n++] = &o->via.array.ptr[i];
			collect(&o->via.array.ptr[i], s);
		}
	}
}

struct parsed {
	struct secbuf *sb;
	msgpack_unpacked up;
	struct slots s;
};

static void parse(struct parsed *p, uint32_t type)
{
	size_t off = 0;

	p->sb = valid(type);
	msgpack_unpacked_init(&p->up);
	cr_assert_eq(msgpack_unpack_next(&p->up, (const char *)p->sb->data, p->sb->len, &off),
		     MSGPACK_UNPACK_SUCCESS);
	memset(&p->s, 0, sizeof(p->s));
	collect(&p->up.data, &p->s);
}

static void parsed_free(struct parsed *p)
{
	msgpack_unpacked_destroy(&p->up);
	secbuf_free(p->sb);
}

static msgpack_object obj_str(const char *s, size_t n)
{
	msgpack_object o = {.type = MSGPACK_OBJECT_STR};

	o.via.str.ptr = s;
	o.via.str.size = (uint32_t)n;
	return o;
}

static msgpack_object obj_bin(const char *s, size_t n)
{
	msgpack_object o = {.type = MSGPACK_OBJECT_BIN};

	o.via.bin.ptr = s;
	o.via.bin.size = (uint32_t)n;
	return o;
}

static msgpack_object obj_uint(uint64_t v)
{
	msgpack_object o = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER};

	o.via.u64 = v;
	return o;
}

static msgpack_object obj_int(int64_t v)
{
	msgpack_object o = {.type = MSGPACK_OBJECT_NEGATIVE_INTEGER};

	o.via.i64 = v;
	return o;
}

static bool is_int(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
	       o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

/* A value slot found by a dotted path ("job.source.url", "secrets.0.value"). */
static msgpack_object *find(msgpack_object *o, const char *path)
{
	const char *tok = path;

	while (*tok != '\0') {
		const char *dot = strchr(tok, '.');
		size_t len = dot ? (size_t)(dot - tok) : strlen(tok);
		msgpack_object *next = NULL;

		if (o->type == MSGPACK_OBJECT_ARRAY) {
			size_t i = strtoul(tok, NULL, 10);

			cr_assert_lt(i, o->via.array.size);
			next = &o->via.array.ptr[i];
		} else {
			cr_assert_eq(o->type, MSGPACK_OBJECT_MAP, "%s", path);
			for (uint32_t i = 0; i < o->via.map.size; i++) {
				const msgpack_object *k = &o->via.map.ptr[i].key;

				if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
				    memcmp(k->via.str.ptr, tok, len) == 0)
					next = &o->via.map.ptr[i].val;
			}
		}
		cr_assert_not_null(next, "no %s", path);
		o = next;
		tok += len;
		if (*tok == '.')
			tok++;
	}
	return o;
}

/* ---- the tests ---- */

Test(codec, wrong_type_at_every_field)
{
	static const char x[] = "x";
	msgpack_object cands[9];
	size_t tried = 0;

	memset(cands, 0, sizeof(cands));
	cands[0].type = MSGPACK_OBJECT_NIL;
	cands[1].type = MSGPACK_OBJECT_BOOLEAN;
	cands[1].via.boolean = true;
	cands[2] = obj_uint(7);
	cands[3] = obj_int(-1);
	cands[4].type = MSGPACK_OBJECT_FLOAT64;
	cands[4].via.f64 = 1.5;
	cands[5] = obj_str(x, 1);
	cands[6] = obj_bin(x, 1);
	cands[7].type = MSGPACK_OBJECT_ARRAY;
	cands[8].type = MSGPACK_OBJECT_MAP;
	for (size_t t = 0; t < NTYPES; t++) {
		struct parsed p;

		parse(&p, all_types[t]);
		for (size_t i = 0; i < p.s.n; i++) {
			msgpack_object saved = *p.s.v[i];

			for (size_t c = 0; c < sizeof(cands) / sizeof(cands[0]); c++) {
				struct err_ctx err;

				if (cands[c].type == saved.type || (is_int(&cands[c]) && is_int(&saved)))
					continue;
				*p.s.v[i] = cands[c];
				cr_assert_eq(decode_obj(&p.up.data, &err), ERR_PROTO,
					     "%s slot %zu cand %zu accepted",
					     msg_type_name(all_types[t]), i, c);
				*p.s.v[i] = saved;
				tried++;
			}
		}
		parsed_free(&p);
	}
	cr_assert_gt(tried, 500);
}

Test(codec, negative_into_unsigned_refused)
{
	static const struct {
		uint32_t type;
		const char *path;
	} rows[] = {
		{MSG_JOB, "job.id"},         {MSG_JOB, "job.policy.deletion"},
		{MSG_HELLO, "version"},      {MSG_LOG, "level"},
		{MSG_RESULT, "items.0.kind"}, {MSG_VALUES, "files.0.count"},
		{MSG_METRICS, "metrics.0.value"}, {MSG_JOB, "t"}, {MSG_JOB, "v"},
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct parsed p;
		struct err_ctx err;
		msgpack_object *o;

		parse(&p, rows[r].type);
		o = find(&p.up.data, rows[r].path);
		*o = obj_int(-1);
		cr_assert_eq(decode_obj(&p.up.data, &err), ERR_PROTO, "%s", rows[r].path);
		parsed_free(&p);
	}
}

Test(codec, integer_ranges)
{
	static const struct {
		uint32_t type;
		const char *path;
		uint64_t ok, bad;
	} rows[] = {
		{MSG_JOB, "job.policy.deletion", JOB_DELETION_DELETE, JOB_DELETION_DELETE + 1},
		{MSG_LOG, "level", 3, 4},
		{MSG_RESULT, "items.0.kind", ITEM_CONFIG, ITEM_CONFIG + 1},
		{MSG_RESULT, "items.0.outcome", ITEM_RETAINED, ITEM_RETAINED + 1},
		{MSG_VALUES, "files.0.count", UINT32_MAX, (uint64_t)UINT32_MAX + 1},
		{MSG_RESULT, "code", INT32_MAX, (uint64_t)INT32_MAX + 1},
		{MSG_JOB, "job.config.generation", INT64_MAX, (uint64_t)INT64_MAX + 1},
		{MSG_HELLO, "v", PROTO_VERSION, PROTO_VERSION + 1},
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct parsed p;
		struct err_ctx err;
		msgpack_object *o;

		parse(&p, rows[r].type);
		o = find(&p.up.data, rows[r].path);
		*o = obj_uint(rows[r].ok);
		cr_assert_eq(decode_obj(&p.up.data, &err), 0, "%s: %s", rows[r].path, err.msg);
		*o = obj_uint(rows[r].bad);
		cr_assert_eq(decode_obj(&p.up.data, &err), ERR_PROTO, "%s", rows[r].path);
		parsed_free(&p);
	}
	{
		struct parsed p;
		struct err_ctx err;

		parse(&p, MSG_RESULT);
		*find(&p.up.data, "code") = obj_int(INT32_MIN);
		cr_assert_eq(decode_obj(&p.up.data, &err), 0, "%s", err.msg);
		*find(&p.up.data, "code") = obj_int((int64_t)INT32_MIN - 1);
		cr_assert_eq(decode_obj(&p.up.data, &err), ERR_PROTO);
		parsed_free(&p);
	}
}

Test(codec, missing_each_key)
{
	size_t required = 0;

	for (size_t t = 0; t < NTYPES; t++) {
		struct parsed p;

		parse(&p, all_types[t]);
		for (size_t m = 0; m < p.s.nmaps; m++) {
			msgpack_object *map = p.s.maps[m];
			msgpack_object_kv *saved = map->via.map.ptr;
			uint32_t n = map->via.map.size;
			msgpack_object_kv *less = malloc(sizeof(*less) * n);

			for (uint32_t k = 0; k < n; k++) {
				struct err_ctx err;
				int rc;

				memcpy(less, saved, sizeof(*less) * k);
				memcpy(less + k, saved + k + 1, sizeof(*less) * (n - k - 1));
				map->via.map.ptr = less;
				map->via.map.size = n - 1;
				rc = decode_obj(&p.up.data, &err);
				map->via.map.ptr = saved;
				map->via.map.size = n;
				if (rc == 0) {
					/* only optional strings (and binaries: credentials) may be
					 * left out */
					cr_assert(saved[k].val.type == MSGPACK_OBJECT_STR ||
						  saved[k].val.type == MSGPACK_OBJECT_BIN,
						  "%s: key %u of map %zu is optional",
						  msg_type_name(all_types[t]), k, m);
				} else {
					cr_assert_eq(rc, ERR_PROTO);
					cr_assert(strstr(err.msg, "missing") != NULL, "%s", err.msg);
					required++;
				}
			}
			free(less);
		}
		parsed_free(&p);
	}
	cr_assert_gt(required, 100);
}

Test(codec, required_strings)
{
	static const struct {
		uint32_t type;
		const char *map, *key;
	} rows[] = {
		{MSG_HELLO, "", "role"},          {MSG_LOG, "", "line"},
		{MSG_TAP, "", "json"},            {MSG_RUN, "", "config_path"},
		{MSG_JOB, "job.config", "ns"},    {MSG_JOB, "job.config", "name"},
		{MSG_JOB, "job.source", "kind"},  {MSG_JOB, "job.provider", "kind"},
		{MSG_VALUES, "secrets.0", "key"}, {MSG_VALUES, "secrets.0", "value"},
		{MSG_VALUES, "files.0", "path"},  {MSG_RESULT, "items.0", "name"},
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct parsed p;
		struct err_ctx err;
		msgpack_object *map;
		uint32_t k;

		parse(&p, rows[r].type);
		map = rows[r].map[0] ? find(&p.up.data, rows[r].map) : &p.up.data;
		for (k = 0; k < map->via.map.size; k++) {
			if (codec_key_is(&map->via.map.ptr[k].key, rows[r].key))
				break;
		}
		cr_assert_lt(k, map->via.map.size);
		map->via.map.ptr[k] = map->via.map.ptr[map->via.map.size - 1];
		map->via.map.size--;
		cr_assert_eq(decode_obj(&p.up.data, &err), ERR_PROTO, "%s", rows[r].key);
		cr_assert(strstr(err.msg, rows[r].key) != NULL, "%s", err.msg);
		cr_assert(strstr(err.msg, "missing") != NULL, "%s", err.msg);
		parsed_free(&p);
	}
}

Test(codec, unknown_and_duplicate_keys_in_every_map)
{
	for (size_t t = 0; t < NTYPES; t++) {
		struct parsed p;

		parse(&p, all_types[t]);
		for (size_t m = 0; m < p.s.nmaps; m++) {
			msgpack_object *map = p.s.maps[m];
			msgpack_object_kv *saved = map->via.map.ptr;
			uint32_t n = map->via.map.size;
			msgpack_object_kv *more = malloc(sizeof(*more) * (n + 1));
			struct err_ctx err;

			memcpy(more, saved, sizeof(*more) * n);
			map->via.map.ptr = more;
			map->via.map.size = n + 1;
			more[n].key = obj_str("zz_unknown", 10);
			more[n].val = obj_uint(1);
			cr_assert_eq(decode_obj(&p.up.data, &err), ERR_PROTO);
			cr_assert(strstr(err.msg, "unknown key") != NULL, "%s", err.msg);
			for (uint32_t k = 0; k < n; k++) {
				more[n] = saved[k];
				cr_assert_eq(decode_obj(&p.up.data, &err), ERR_PROTO);
				cr_assert(strstr(err.msg, "duplicate") != NULL, "%s", err.msg);
			}
			/* a non-string key */
			more[n].key = obj_uint(3);
			more[n].val = obj_uint(1);
			cr_assert_eq(decode_obj(&p.up.data, &err), ERR_PROTO);
			map->via.map.ptr = saved;
			map->via.map.size = n;
			free(more);
		}
		parsed_free(&p);
	}
}

Test(codec, every_string_too_long_or_not_utf8)
{
	static const char *const bad[] = {"\xff", "a\0b", "\xc0\xaf", "\xed\xa0\x80",
					  "\xe2\x82", "\xf4\x90\x80\x80"};
	static const size_t badlen[] = {1, 3, 2, 3, 2, 4};
	size_t huge_n = MSG_CAP_CONTROL + 1;
	char *huge = malloc(huge_n);
	size_t strings = 0;

	memset(huge, 'a', huge_n);
	for (size_t t = 0; t < NTYPES; t++) {
		struct parsed p;

		parse(&p, all_types[t]);
		for (size_t i = 0; i < p.s.n; i++) {
			msgpack_object saved = *p.s.v[i];
			struct err_ctx err;

			if (saved.type != MSGPACK_OBJECT_STR && saved.type != MSGPACK_OBJECT_BIN)
				continue;
			if (saved.type == MSGPACK_OBJECT_STR) {
				*p.s.v[i] = obj_str(huge, huge_n);
				cr_assert_eq(decode_obj(&p.up.data, &err), ERR_PROTO);
				cr_assert(strstr(err.msg, "longer") != NULL, "%s", err.msg);
				for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
					*p.s.v[i] = obj_str(bad[b], badlen[b]);
					cr_assert_eq(decode_obj(&p.up.data, &err), ERR_PROTO,
						     "bad utf8 %zu accepted", b);
					cr_assert(strstr(err.msg, "UTF-8") != NULL, "%s", err.msg);
				}
				strings++;
			} else {
				/* binary values may hold anything, but not more than the limit */
				char *v = malloc(MSG_MAX_VALUE + 1);

				memset(v, 0x5a, MSG_MAX_VALUE + 1);
				*p.s.v[i] = obj_bin(v, MSG_MAX_VALUE);
				cr_assert_eq(decode_obj(&p.up.data, &err), 0, "%s", err.msg);
				*p.s.v[i] = obj_bin(v, MSG_MAX_VALUE + 1);
				cr_assert_eq(decode_obj(&p.up.data, &err), ERR_PROTO);
				free(v);
			}
			*p.s.v[i] = saved;
		}
		parsed_free(&p);
	}
	free(huge);
	cr_assert_gt(strings, 40);
}

Test(codec, string_limits_exact)
{
	static const struct {
		uint32_t type;
		const char *path;
		size_t max;
	} rows[] = {
		{MSG_HELLO, "role", MSG_MAX_NAME},
		{MSG_LOG, "line", MSG_MAX_LOG_LINE},
		{MSG_TAP, "json", MSG_MAX_TAP_JSON},
		{MSG_RUN, "config_path", MSG_MAX_TEXT},
		{MSG_JOB, "job.config.ns", MSG_MAX_NAME},
		{MSG_JOB, "job.source.url", MSG_MAX_URL},
		{MSG_JOB, "job.source.revision", MSG_MAX_SHORT},
		{MSG_VALUES, "secrets.0.key", MSG_MAX_TEXT},
		{MSG_RESULT, "reason", MSG_MAX_TEXT},
		{MSG_RESULT, "items.1.name", MSG_MAX_SHORT},
	};
	char *s = malloc(MSG_MAX_TAP_JSON + 2);

	memset(s, 'b', MSG_MAX_TAP_JSON + 2);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct parsed p;
		struct err_ctx err;
		msgpack_object *o;

		parse(&p, rows[r].type);
		o = find(&p.up.data, rows[r].path);
		*o = obj_str(s, rows[r].max);
		cr_assert_eq(decode_obj(&p.up.data, &err), 0, "%s: %s", rows[r].path, err.msg);
		*o = obj_str(s, rows[r].max + 1);
		cr_assert_eq(decode_obj(&p.up.data, &err), ERR_PROTO, "%s", rows[r].path);
		cr_assert(strstr(err.msg, strrchr(rows[r].path, '.') ? strrchr(rows[r].path, '.') + 1
								     : rows[r].path) != NULL,
			  "%s", err.msg);
		parsed_free(&p);
	}
	free(s);
}

Test(codec, array_counts_over_limit)
{
	static const struct {
		uint32_t type;
		const char *path;
		size_t max;
	} rows[] = {
		{MSG_VALUES, "secrets", KVLIST_MAX_ITEMS},
		{MSG_VALUES, "configs", KVLIST_MAX_ITEMS},
		{MSG_VALUES, "files", MSG_MAX_FILES},
		{MSG_RESULT, "items", MSG_MAX_ITEMS},
		{MSG_RESULT, "files", MSG_MAX_FILES},
		{MSG_METRICS, "metrics", MSG_MAX_METRICS},
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct parsed p;
		struct err_ctx err;
		msgpack_object *o, *items;
		size_t n = rows[r].max + 1;

		parse(&p, rows[r].type);
		o = find(&p.up.data, rows[r].path);
		items = malloc(sizeof(*items) * n);
		for (size_t i = 0; i < n; i++)
			items[i] = o->via.array.ptr[0];
		o->via.array.ptr = items;
		o->via.array.size = (uint32_t)n;
		cr_assert_eq(decode_obj(&p.up.data, &err), ERR_PROTO, "%s", rows[r].path);
		cr_assert(strstr(err.msg, "elements") != NULL, "%s", err.msg);
		if (rows[r].type == MSG_METRICS) {
			o->via.array.size = (uint32_t)rows[r].max; /* at the limit: fine */
			cr_assert_eq(decode_obj(&p.up.data, &err), 0, "%s", err.msg);
		}
		free(items);
		parsed_free(&p);
	}
}

Test(codec, raw_malformed_payloads)
{
	/* {"t":1,"v":1,"role":"x","version":1} with variations */
	static const struct {
		const char *name;
		const char *bytes;
		size_t n;
		const char *why;
	} rows[] = {
#define ROW(nm, b, why) {nm, b, sizeof(b) - 1, why}
		ROW("empty", "", "empty"),
		ROW("nil", "\xc0", "not a map"),
		ROW("array", "\x91\x01", "not a map"),
		ROW("int", "\x07", "not a map"),
		ROW("invalid byte", "\xc1", "invalid"),
		ROW("no type", "\x82\xa1v\x01\xa4role\xa1x", "missing type"),
		ROW("no version", "\x83\xa1t\x01\xa4role\xa1x\xa7version\x01", "version"),
		ROW("version 2", "\x84\xa1t\x01\xa1v\x02\xa4role\xa1x\xa7version\x01", "version"),
		ROW("version 0", "\x84\xa1t\x01\xa1v\x00\xa4role\xa1x\xa7version\x01", "version"),
		ROW("version str", "\x84\xa1t\x01\xa1v\xa1\x31\xa4role\xa1x\xa7version\x01", "version"),
		ROW("type 0", "\x84\xa1t\x00\xa1v\x01\xa4role\xa1x\xa7version\x01", "unknown type"),
		ROW("type 127", "\x84\xa1t\x7f\xa1v\x01\xa4role\xa1x\xa7version\x01", "unknown type"),
		ROW("type 99", "\x84\xa1t\x63\xa1v\x01\xa4role\xa1x\xa7version\x01", "unknown type"),
		ROW("type 2^32+1", "\x84\xa1t\xcf\x00\x00\x00\x01\x00\x00\x00\x01\xa1v\x01\xa4role"
				   "\xa1x\xa7version\x01", "unknown type"),
		ROW("type -1", "\x84\xa1t\xff\xa1v\x01\xa4role\xa1x\xa7version\x01", "unknown type"),
		ROW("type str", "\x84\xa1t\xa3JOB\xa1v\x01\xa4role\xa1x\xa7version\x01",
		    "unknown type"),
		ROW("dup t", "\x85\xa1t\x01\xa1t\x01\xa1v\x01\xa4role\xa1x\xa7version\x01",
		    "duplicate"),
		ROW("dup v", "\x85\xa1t\x01\xa1v\x01\xa1v\x01\xa4role\xa1x\xa7version\x01",
		    "duplicate"),
		ROW("trailing byte", "\x84\xa1t\x01\xa1v\x01\xa4role\xa1x\xa7version\x01\x00",
		    "trailing"),
		ROW("two messages", "\x82\xa1t\x06\xa1v\x01\x82\xa1t\x06\xa1v\x01", "trailing"),
		ROW("array32 bomb", "\xdd\xff\xff\xff\xff", "count"),
		ROW("map32 bomb", "\xdf\xff\xff\xff\xff", "count"),
		ROW("nested map32 bomb", "\x83\xa1t\x07\xa1v\x01\xa3job\xdf\xff\xff\xff\xff\x00",
		    "count"),
		ROW("str32 bomb", "\x84\xa1t\x01\xa1v\x01\xa4role\xdb\xff\xff\xff\xff\xa7version\x01",
		    "truncated"),
		ROW("bin32 bomb", "\xc6\x7f\xff\xff\xff", "truncated"),
		ROW("ext as field", "\x83\xa1t\x06\xa1v\x01\xa1x\xd4\x01\x01", "unknown key"),
		ROW("shutdown with field", "\x83\xa1t\x06\xa1v\x01\xa4role\xa1x", "unknown key"),
		ROW("int key", "\x83\xa1t\x06\xa1v\x01\x01\x01", "not a string"),
#undef ROW
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct err_ctx err;

		cr_assert_eq(decode_rc(rows[r].bytes, rows[r].n, &err), ERR_PROTO, "%s",
			     rows[r].name);
		cr_assert(strstr(err.msg, rows[r].why) != NULL, "%s: %s", rows[r].name, err.msg);
	}
	{
		/* the same HELLO without the defects decodes */
		static const char ok[] = "\x84\xa1t\x01\xa1v\x01\xa4role\xa1x\xa7version\x01";
		struct err_ctx err;

		cr_assert_eq(decode_rc(ok, sizeof(ok) - 1, &err), 0, "%s", err.msg);
	}
}

Test(codec, depth_bombs)
{
	/* {"t":1,"v":1,"version":1,"role": [[[...]]]} */
	static const char head[] = "\x84\xa1t\x01\xa1v\x01\xa7version\x01\xa4role";
	static const size_t depths[] = {6, 7, 8, 100, 1u << 20};

	for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
		size_t n = sizeof(head) - 1 + depths[d] + 1;
		uint8_t *p = malloc(n);
		struct err_ctx err;

		memcpy(p, head, sizeof(head) - 1);
		memset(p + sizeof(head) - 1, 0x91, depths[d]);
		p[n - 1] = 0x90;
		cr_assert_eq(decode_rc(p, n, &err), ERR_PROTO);
		/* 1 (the map) + depths[d] + 1 (the empty array, which is not counted) */
		if (1 + depths[d] > CODEC_MAX_DEPTH)
			cr_assert(strstr(err.msg, "nesting") != NULL, "%zu: %s", depths[d], err.msg);
		else
			cr_assert(strstr(err.msg, "expected a string") != NULL, "%s", err.msg);
		free(p);
	}
}

Test(codec, scan_counts_objects)
{
	/* a flat array of 5M nils inside a field: refused by the object count */
	size_t count = CODEC_MAX_OBJECTS + 16, n = 16 + count;
	uint8_t *p = malloc(n);
	struct err_ctx err;

	memset(p, 0xc0, n);
	p[0] = 0xdd;
	p[1] = (uint8_t)(count >> 24);
	p[2] = (uint8_t)(count >> 16);
	p[3] = (uint8_t)(count >> 8);
	p[4] = (uint8_t)count;
	cr_assert_eq(codec_scan(p, 5 + count, &err), ERR_PROTO);
	cr_assert(strstr(err.msg, "too many objects") != NULL, "%s", err.msg);
	free(p);
}

Test(codec, truncation_at_every_byte)
{
	for (size_t t = 0; t < NTYPES; t++) {
		struct secbuf *sb = valid(all_types[t]);

		for (size_t i = 0; i < sb->len; i++) {
			struct err_ctx err;

			cr_assert_eq(decode_rc(sb->data, i, &err), ERR_PROTO, "%s cut at %zu",
				     msg_type_name(all_types[t]), i);
		}
		secbuf_free(sb);
	}
}

Test(codec, bit_flips_never_crash)
{
	size_t accepted = 0, refused = 0;

	for (size_t t = 0; t < NTYPES; t++) {
		struct secbuf *sb = valid(all_types[t]);
		uint8_t *p = malloc(sb->len);

		for (size_t bit = 0; bit < sb->len * 8; bit++) {
			struct err_ctx err;
			int rc;

			memcpy(p, sb->data, sb->len);
			p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			rc = decode_rc(p, sb->len, &err);
			cr_assert(rc == 0 || rc == ERR_PROTO, "%s bit %zu: rc %d",
				  msg_type_name(all_types[t]), bit, rc);
			if (rc == 0)
				accepted++;
			else
				refused++;
		}
		free(p);
		secbuf_free(sb);
	}
	/* flips inside string bytes stay valid; flips in structure are refused */
	cr_assert_gt(accepted, 0);
	cr_assert_gt(refused, accepted / 4);
}
