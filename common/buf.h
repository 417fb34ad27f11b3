/* buf.h — a growable byte buffer with a hard maximum fixed at creation (sshbuf-like).
 * Every put is bounds- and overflow-checked; a put that would pass the maximum fails
 * with ERR_TOOBIG and leaves the buffer unchanged. Not for secrets: see secbuf.h. */
#ifndef SMC_BUF_H
#define SMC_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
};

/* Initialises an empty buffer that may grow to max bytes. Never fails. */
void buf_init(struct buf *b, size_t max);
/* Frees the storage; the buffer is empty afterwards. buf_free(NULL) is a no-op. */
void buf_free(struct buf *b);
/* Makes room for n more bytes. */
int buf_reserve(struct buf *b, size_t n);
int buf_put(struct buf *b, const void *p, size_t n);
int buf_put_str(struct buf *b, const char *s);
int buf_put_u8(struct buf *b, uint8_t v);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a NUL without counting it in len, so data can be used as a C string. */
int buf_cstr(struct buf *b);
/* Transfers data out: *out is owned by the caller (free()), the buffer is empty after. */
uint8_t *buf_steal(struct buf *b, size_t *len);

#endif
