/* msg_credentials.c — the CREDENTIALS message's field table (watcher → syncer): cloud
 * credentials from the Secret a config names. Every credential field is secret. */
#include <stddef.h>

#include "proto/codec.h"
#include "proto/msg.h"

#define R CODEC_REQUIRED

static const struct codec_field credentials_fields[] = {
	CODEC_F(struct msg_credentials, job_id, "job_id", CODEC_U64, 0, 0),
	CODEC_F(struct msg_credentials, provider, "provider", CODEC_STR, R, MSG_MAX_NAME),
	CODEC_F(struct msg_credentials, origin, "origin", CODEC_STR, 0, MSG_MAX_TEXT),
	CODEC_F(struct msg_credentials, key_id, "key_id", CODEC_STR, CODEC_SECRET, MSG_MAX_SHORT),
	CODEC_F(struct msg_credentials, secret, "secret", CODEC_SECBUF, CODEC_SECRET,
		MSG_MAX_CREDENTIAL),
	CODEC_F(struct msg_credentials, token, "token", CODEC_SECBUF, CODEC_SECRET,
		MSG_MAX_CREDENTIAL),
};
const struct codec_schema msg_credentials_schema_msg =
	CODEC_SCHEMA("CREDENTIALS", struct msg_credentials, credentials_fields);
