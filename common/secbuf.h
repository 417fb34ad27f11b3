/* secbuf.h — the only home of plaintext secrets (STYLE.md rule 5).
 * Memory is mlock()ed (best effort under RLIMIT_MEMLOCK), excluded from core dumps
 * (MADV_DONTDUMP), and wiped with explicit_bzero before it is released or moved.
 * There is deliberately no formatter: a secret cannot reach printf through this API. */
#ifndef SMC_SECBUF_H
#define SMC_SECBUF_H

#include <stddef.h>
#include <stdint.h>

struct secbuf {
	uint8_t *data;  /* always NUL-terminated after len, so text secrets can be read as C strings */
	size_t len;
	size_t cap;
	size_t max;
};

/* A new empty secbuf that may grow to max bytes. Owned out-parameter (*out), free with
 * secbuf_free. */
int secbuf_new(struct secbuf **out, size_t max);
/* A new secbuf holding a copy of p[0..n). Owned out-parameter. */
int secbuf_from(struct secbuf **out, const void *p, size_t n);
/* Appends; growth copies into fresh locked memory and wipes the old block. */
int secbuf_put(struct secbuf *s, const void *p, size_t n);
/* Makes room for n more bytes in one step (a reader that knows the size avoids the
 * copy-and-wipe of every doubling). n beyond max is clamped: the later put fails as usual. */
int secbuf_reserve(struct secbuf *s, size_t n);
/* Truncates to len 0 and wipes the contents, keeping the allocation. */
void secbuf_clear(struct secbuf *s);
/* Wipes and frees. secbuf_free(NULL) is a no-op. */
void secbuf_free(struct secbuf *s);
/* Constant-time equality of two secbufs' contents (lengths compared first). 1 equal, 0 not. */
int secbuf_eq(const struct secbuf *a, const struct secbuf *b);
/* Constant-time equality against raw bytes. */
int secbuf_eq_mem(const struct secbuf *a, const void *p, size_t n);

#endif
