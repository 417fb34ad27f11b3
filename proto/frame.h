/* frame.h — framing on a stream socket: a 4-byte big-endian length, then that many bytes
 * of payload. The length is checked against the caller's cap before any allocation.
 * A descriptor may ride along with a frame (SCM_RIGHTS on the header's sendmsg). */
#ifndef SMC_FRAME_H
#define SMC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/secbuf.h"

#define FRAME_MAX ((size_t)256 << 20) /* absolute ceiling whatever cap a caller passes */

/* Writes one frame; pass_fd >= 0 is sent with it. Retries on EINTR and short writes. */
int frame_write(int sock, const uint8_t *payload, size_t n, int pass_fd);
/* Reads one frame of at most cap bytes into a new secbuf (owned out-parameter; payloads
 * may hold plaintext). *fd_out is a received descriptor or -1 (owned by the caller).
 * ERR_EOF on clean close before a header, ERR_PROTO on a short frame or length > cap,
 * or more than one descriptor. */
int frame_read(int sock, size_t cap, struct secbuf **payload, int *fd_out);

#endif
