/* secbuf.c — locked, wiped buffers for plaintext. */
#include "common/secbuf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/err.h"
#include "common/xmalloc.h"

static uint8_t *lock_alloc(size_t n)
{
	uint8_t *p = calloc(1, n);

	if (p != NULL) {
		(void)mlock(p, n);
	}
	return p;
}

static void lock_release(uint8_t *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	(void)munlock(p, n);
	free(p);
}

int secbuf_new(struct secbuf **out, size_t max)
{
	struct secbuf *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return ERR_NOMEM;
	s->cap = 32;
	s->data = lock_alloc(s->cap);
	if (s->data == NULL) {
		free(s);
		return ERR_NOMEM;
	}
	s->max = max;
	*out = s;
	return 0;
}

int secbuf_from(struct secbuf **out, const void *p, size_t n)
{
	struct secbuf *s;
	int rc;

	if ((rc = secbuf_new(&s, n)) != 0)
		return rc;
	if ((rc = secbuf_put(s, p, n)) != 0) {
		secbuf_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* Moves the contents into a fresh locked block of ncap bytes, wiping the old one. */
static int regrow(struct secbuf *s, size_t ncap)
{
	uint8_t *np = lock_alloc(ncap);

	if (np == NULL)
		return ERR_NOMEM;
	memcpy(np, s->data, s->len);
	lock_release(s->data, s->cap);
	s->data = np;
	s->cap = ncap;
	return 0;
}

int secbuf_reserve(struct secbuf *s, size_t n)
{
	size_t room = s->max - s->len, need;

	if (n > room)
		n = room;
	if (!size_add(s->len, n, &need) || !size_add(need, 1, &need))
		return ERR_TOOBIG;
	return need > s->cap ? regrow(s, need) : 0;
}

int secbuf_put(struct secbuf *s, const void *p, size_t n)
{
	size_t need, ncap;
	int rc;

	if (n == 0)
		return 0;
	if (!size_add(s->len, n, &need) || need > s->max || !size_add(need, 1, &need))
		return ERR_TOOBIG;
	if (need > s->cap) {
		ncap = s->cap;
		while (ncap < need) {
			if (!size_mul(ncap, 2, &ncap))
				return ERR_TOOBIG;
		}
		if ((rc = regrow(s, ncap)) != 0)
			return rc;
	}
	memcpy(s->data + s->len, p, n);
	s->len += n;
	s->data[s->len] = '\0';
	return 0;
}

void secbuf_clear(struct secbuf *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s->data, s->cap);
	s->len = 0;
}

void secbuf_free(struct secbuf *s)
{
	if (s == NULL)
		return;
	lock_release(s->data, s->cap);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

int secbuf_eq_mem(const struct secbuf *a, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t d = 0;
	size_t i;

	if (a->len != n)
		return 0;
	for (i = 0; i < n; i++)
		d |= a->data[i] ^ b[i];
	return d == 0;
}

int secbuf_eq(const struct secbuf *a, const struct secbuf *b)
{
	return secbuf_eq_mem(a, b->data, b->len);
}
