/* codec.h — the checked msgpack layer under proto/msg_*.c (internal to proto/).
 *
 * Writer: a msgpack_packer whose write callback appends to a secbuf, so an encoded
 * message (which may hold plaintext) never sits in ordinary heap memory.
 * Reader: codec_scan() walks the raw bytes without allocating (well-formedness, depth,
 * container counts against the bytes left, total object count, exact length) before
 * msgpack_unpack_next() is allowed to build objects; then table-driven decoding checks
 * every field's type, length, count, UTF-8 and presence.
 *
 * Field tables: one struct codec_schema per C structure, one struct codec_field per
 * member, addressed by offset. */
#ifndef SMC_CODEC_H
#define SMC_CODEC_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secbuf.h"

#define CODEC_MAX_DEPTH 8            /* nested containers in one message */
#define CODEC_MAX_OBJECTS (4u << 20) /* msgpack objects in one message */
#define CODEC_MAX_FIELDS 64          /* fields of one schema (duplicate-key bitmap) */
#define CODEC_PATH_MAX 160           /* bytes of a field path in error messages */

enum codec_kind {
	CODEC_STR,     /* char *, UTF-8 text without NUL; NULL = absent (optional fields) */
	CODEC_SECBUF,  /* struct secbuf *, msgpack bin; NULL = absent */
	CODEC_U64,     /* uint64_t, at most max (0 = no limit) */
	CODEC_U32,     /* uint32_t, at most max (0 = UINT32_MAX) */
	CODEC_I64,     /* int64_t */
	CODEC_I32,     /* int32_t */
	CODEC_BOOL,    /* bool */
	CODEC_STRUCT,  /* an embedded struct described by sub, as a map */
	CODEC_ARRAY,   /* T *items at off, size_t count at count_off, T described by sub */
	CODEC_METRICS, /* struct msg_metrics' parallel names/values arrays */
};

#define CODEC_REQUIRED 1u /* must be present (scalars and structs always are) */
#define CODEC_SECRET 2u   /* value replaced by its length in the redacted encoding */

struct codec_schema;

struct codec_field {
	const char *name;
	enum codec_kind kind;
	unsigned flags;
	size_t off;       /* offset of the member in its struct */
	uint64_t max;     /* STR/SECBUF: bytes; ARRAY/METRICS: elements; U32/U64: value */
	const struct codec_schema *sub; /* STRUCT, ARRAY */
	size_t count_off; /* ARRAY: offset of the size_t element count */
	size_t cap_off;   /* ARRAY: offset of a size_t capacity set to the count, or 0 */
};

struct codec_schema {
	const char *name;
	const struct codec_field *fields;
	size_t nfields;
	size_t size; /* sizeof the struct (element size in arrays) */
};

/* ---- writer ---- */

struct codec_writer {
	msgpack_packer pk;
	struct secbuf *sb; /* owned until codec_writer_take */
	int err;           /* first failure of the write callback */
};

/* Starts a writer into a new secbuf of at most max bytes. */
int codec_writer_init(struct codec_writer *w, size_t max);
/* The encoded bytes (owned out-parameter); the writer is empty afterwards. */
int codec_writer_take(struct codec_writer *w, struct secbuf **out);
/* Wipes and frees whatever the writer holds. */
void codec_writer_free(struct codec_writer *w);
/* A string key/text. */
int codec_put_str(struct codec_writer *w, const char *s, size_t n);
int codec_put_cstr(struct codec_writer *w, const char *s);

/* An unsigned integer entry written ahead of a struct's fields ("t", "v"). */
struct codec_extra {
	const char *key;
	uint64_t value;
};

/* Encodes the struct at base as one map: the nextra extra entries, then the schema's
 * fields. redact: secret fields become their length. ERR_INVAL/ERR_TOOBIG when the
 * struct breaks a limit or lacks a required field (the peer would refuse it). */
int codec_encode_struct(struct codec_writer *w, const struct codec_schema *s, const void *base,
			int redact, const struct codec_extra *extra, size_t nextra);

/* ---- reader ---- */

/* Walks p[0..n) without allocating: one complete msgpack object, well-formed, at most
 * CODEC_MAX_DEPTH deep, every container count plausible for the bytes left, at most
 * CODEC_MAX_OBJECTS objects, and exactly n bytes long. ERR_PROTO (err says why). */
int codec_scan(const uint8_t *p, size_t n, struct err_ctx *err);

/* Decodes the map obj into the zeroed struct at base. Keys listed in `reserved` (a
 * NULL-terminated list, may be NULL) are skipped; they are the caller's. path names the
 * struct in errors. On failure base may hold partial allocations: codec_free it. */
int codec_decode_struct(const struct codec_schema *s, const msgpack_object *obj, void *base,
			const char *const *reserved, const char *path, struct err_ctx *err);

/* Frees every member the schema describes (wiping secbufs) and zeroes the struct. */
void codec_free(const struct codec_schema *s, void *base);

/* Deep copy of a struct by its schema into the zeroed dst. On failure dst is freed. */
int codec_copy(const struct codec_schema *s, void *dst, const void *src);

/* 1 when the msgpack string object equals the C string. */
int codec_key_is(const msgpack_object *o, const char *key);

/* ---- the field tables of proto/msg_*.c ---- */

#define CODEC_NFIELDS(a) (sizeof(a) / sizeof((a)[0]))
/* One table row: a scalar or string member. */
#define CODEC_F(st, mem, nm, k, fl, mx) \
	{.name = (nm), .kind = (k), .flags = (fl), .off = offsetof(st, mem), .max = (mx)}
/* An embedded struct member described by schema. */
#define CODEC_S(st, mem, nm, schema) \
	{.name = (nm), .kind = CODEC_STRUCT, .off = offsetof(st, mem), .sub = &(schema)}
/* An array member: pointer mem, count cnt, elements described by schema. */
#define CODEC_A(st, mem, cnt, nm, schema, mx)                                             \
	{.name = (nm), .kind = CODEC_ARRAY, .off = offsetof(st, mem), .max = (mx),         \
	 .sub = &(schema), .count_off = offsetof(st, cnt)}
#define CODEC_SCHEMA(nm, st, fields) {(nm), (fields), CODEC_NFIELDS(fields), sizeof(st)}

extern const struct codec_schema msg_job_schema_job;   /* struct job */
extern const struct codec_schema msg_job_schema_msg;   /* struct msg_job */
extern const struct codec_schema msg_job_schema_tree;  /* struct msg_tree */
extern const struct codec_schema msg_values_schema_kv;   /* struct kv */
extern const struct codec_schema msg_values_schema_file; /* struct file_report */
extern const struct codec_schema msg_values_schema_msg;  /* struct msg_values */
extern const struct codec_schema msg_result_schema_item; /* struct result_item */
extern const struct codec_schema msg_result_schema_msg;  /* struct msg_result */
extern const struct codec_schema msg_credentials_schema_msg; /* struct msg_credentials */
extern const struct codec_schema msg_control_schema_hello;
extern const struct codec_schema msg_control_schema_log;
extern const struct codec_schema msg_control_schema_metrics;
extern const struct codec_schema msg_control_schema_tap_attach;
extern const struct codec_schema msg_control_schema_tap;
extern const struct codec_schema msg_control_schema_run;
extern const struct codec_schema msg_control_schema_edge;
extern const struct codec_schema msg_control_schema_shutdown;

#endif
