/* fuzz_msg_decode.c — libFuzzer target for the wire decoder (proto/msg.c, codec.c).
 * Any input must give either a clean ERR_PROTO or a message that frees cleanly; a
 * message that decodes must also encode again (everything decoded is within the limits
 * the encoder enforces) and its re-encoding must decode. */
/* FUZZ_LINK: */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/secbuf.h"
#include "proto/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err_ctx err;
	struct msg m, again;
	struct secbuf *sb = NULL;
	char *js = NULL;
	int rc;

	rc = msg_decode(data, size, &m, &err);
	if (rc != 0) {
		if (rc != ERR_PROTO && rc != ERR_NOMEM)
			abort();
		return 0;
	}
	if (msg_encode(&m, 0, &sb) != 0)
		abort();
	if (msg_decode(sb->data, sb->len, &again, &err) != 0)
		abort();
	msg_free(&again);
	secbuf_free(sb);
	if (msg_to_tap_json(&m, &js) != 0)
		abort();
	free(js);
	msg_free(&m);
	return 0;
}
