/* msg_control.c — the control messages between the supervisor and its children:
 * HELLO, LOG, METRICS, TAP_ATTACH, TAP, RUN, EDGE, SHUTDOWN. None of their fields is secret
 * (a TAP carries JSON that was redacted before it was made). */
#include <stdbool.h>
#include <stddef.h>

#include "common/log.h"
#include "proto/codec.h"
#include "proto/msg.h"

#define R CODEC_REQUIRED

static const struct codec_field hello_fields[] = {
	CODEC_F(struct msg_hello, version, "version", CODEC_U32, 0, 0),
	CODEC_F(struct msg_hello, role, "role", CODEC_STR, R, MSG_MAX_NAME),
};
const struct codec_schema msg_control_schema_hello =
	CODEC_SCHEMA("HELLO", struct msg_hello, hello_fields);

static const struct codec_field log_fields[] = {
	CODEC_F(struct msg_log, level, "level", CODEC_U32, 0, LOG_ERROR),
	CODEC_F(struct msg_log, line, "line", CODEC_STR, R, MSG_MAX_LOG_LINE),
};
const struct codec_schema msg_control_schema_log =
	CODEC_SCHEMA("LOG", struct msg_log, log_fields);

/* The parallel names/values arrays travel as [{"name", "value"}, ...] (codec.c). */
static const struct codec_field metrics_fields[] = {
	{.name = "metrics", .kind = CODEC_METRICS, .off = 0, .max = MSG_MAX_METRICS},
};
const struct codec_schema msg_control_schema_metrics =
	CODEC_SCHEMA("METRICS", struct msg_metrics, metrics_fields);

static const struct codec_field tap_attach_fields[] = {
	CODEC_F(struct msg_tap_attach, enable, "enable", CODEC_BOOL, 0, 0),
};
const struct codec_schema msg_control_schema_tap_attach =
	CODEC_SCHEMA("TAP_ATTACH", struct msg_tap_attach, tap_attach_fields);

static const struct codec_field tap_fields[] = {
	CODEC_F(struct msg_tap, edge, "edge", CODEC_STR, R, MSG_MAX_NAME),
	CODEC_F(struct msg_tap, direction, "direction", CODEC_STR, R, MSG_MAX_NAME),
	CODEC_F(struct msg_tap, json, "json", CODEC_STR, R, MSG_MAX_TAP_JSON),
};
const struct codec_schema msg_control_schema_tap =
	CODEC_SCHEMA("TAP", struct msg_tap, tap_fields);

static const struct codec_field run_fields[] = {
	CODEC_F(struct msg_run, config_path, "config_path", CODEC_STR, R, MSG_MAX_TEXT),
	CODEC_F(struct msg_run, dry_run, "dry_run", CODEC_BOOL, 0, 0),
};
const struct codec_schema msg_control_schema_run =
	CODEC_SCHEMA("RUN", struct msg_run, run_fields);

static const struct codec_field edge_fields[] = {
	CODEC_F(struct msg_edge, peer, "peer", CODEC_STR, R, MSG_MAX_NAME),
};
const struct codec_schema msg_control_schema_edge =
	CODEC_SCHEMA("EDGE", struct msg_edge, edge_fields);

/* SHUTDOWN has no fields; the schema still refuses any key besides "t" and "v". */
const struct codec_schema msg_control_schema_shutdown = {"SHUTDOWN", NULL, 0, 0};
