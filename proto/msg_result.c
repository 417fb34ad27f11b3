/* msg_result.c — the RESULT message: outcome, counts, names and reasons, never values. */
#include <stdbool.h>
#include <stddef.h>

#include "proto/codec.h"
#include "proto/msg.h"

#define R CODEC_REQUIRED

static const struct codec_field item_fields[] = {
	CODEC_F(struct result_item, name, "name", CODEC_STR, R, MSG_MAX_SHORT),
	CODEC_F(struct result_item, key, "key", CODEC_STR, 0, MSG_MAX_TEXT),
	CODEC_F(struct result_item, kind, "kind", CODEC_U32, 0, ITEM_CONFIG),
	CODEC_F(struct result_item, outcome, "outcome", CODEC_U32, 0, ITEM_RETAINED),
	CODEC_F(struct result_item, reason, "reason", CODEC_STR, 0, MSG_MAX_TEXT),
};
const struct codec_schema msg_result_schema_item =
	CODEC_SCHEMA("item", struct result_item, item_fields);

static const struct codec_field result_fields[] = {
	CODEC_F(struct msg_result, job_id, "job_id", CODEC_U64, 0, 0),
	CODEC_F(struct msg_result, ns, "ns", CODEC_STR, 0, MSG_MAX_NAME),
	CODEC_F(struct msg_result, name, "name", CODEC_STR, 0, MSG_MAX_NAME),
	CODEC_F(struct msg_result, code, "code", CODEC_I32, 0, 0),
	CODEC_F(struct msg_result, stage, "stage", CODEC_STR, 0, MSG_MAX_NAME),
	CODEC_F(struct msg_result, reason, "reason", CODEC_STR, 0, MSG_MAX_TEXT),
	CODEC_F(struct msg_result, revision, "revision", CODEC_STR, 0, MSG_MAX_SHORT),
	CODEC_A(struct msg_result, items, nitems, "items", msg_result_schema_item, MSG_MAX_ITEMS),
	CODEC_A(struct msg_result, files, nfiles, "files", msg_values_schema_file, MSG_MAX_FILES),
};
const struct codec_schema msg_result_schema_msg =
	CODEC_SCHEMA("RESULT", struct msg_result, result_fields);
