/* msg_values.c — the VALUES message (the only edge carrying plaintext) and the file
 * report table it shares with RESULT. In a kv, the value is secret; key, origin and
 * group are not (they name things and may be reported). */
#include <stdbool.h>
#include <stddef.h>

#include "common/kvlist.h"
#include "proto/codec.h"
#include "proto/msg.h"

#define R CODEC_REQUIRED

static const struct codec_field kv_fields[] = {
	CODEC_F(struct kv, key, "key", CODEC_STR, R, MSG_MAX_TEXT),
	CODEC_F(struct kv, value, "value", CODEC_SECBUF, R | CODEC_SECRET, MSG_MAX_VALUE),
	CODEC_F(struct kv, origin, "origin", CODEC_STR, 0, MSG_MAX_TEXT),
	CODEC_F(struct kv, group, "group", CODEC_STR, 0, MSG_MAX_SHORT),
};
const struct codec_schema msg_values_schema_kv = CODEC_SCHEMA("kv", struct kv, kv_fields);

static const struct codec_field file_fields[] = {
	CODEC_F(struct file_report, path, "path", CODEC_STR, R, MSG_MAX_TEXT),
	CODEC_F(struct file_report, encrypted, "encrypted", CODEC_BOOL, 0, 0),
	CODEC_F(struct file_report, count, "count", CODEC_U32, 0, 0),
};
const struct codec_schema msg_values_schema_file =
	CODEC_SCHEMA("file", struct file_report, file_fields);

/* a kvlist is an array of kv whose capacity is set to its length */
#define VALUES_KVLIST(mem, nm)                                                             \
	{.name = (nm), .kind = CODEC_ARRAY, .off = offsetof(struct msg_values, mem.items),  \
	 .max = KVLIST_MAX_ITEMS, .sub = &msg_values_schema_kv,                              \
	 .count_off = offsetof(struct msg_values, mem.n),                                    \
	 .cap_off = offsetof(struct msg_values, mem.cap)}

static const struct codec_field values_fields[] = {
	CODEC_S(struct msg_values, job, "job", msg_job_schema_job),
	CODEC_F(struct msg_values, revision, "revision", CODEC_STR, 0, MSG_MAX_SHORT),
	VALUES_KVLIST(secrets, "secrets"),
	VALUES_KVLIST(configs, "configs"),
	CODEC_A(struct msg_values, files, nfiles, "files", msg_values_schema_file, MSG_MAX_FILES),
};
const struct codec_schema msg_values_schema_msg =
	CODEC_SCHEMA("VALUES", struct msg_values, values_fields);
