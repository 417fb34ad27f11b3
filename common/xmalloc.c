/* xmalloc.c — overflow-checked allocation. */
#include "common/xmalloc.h"

#include <stdlib.h>
#include <string.h>

bool size_add(size_t a, size_t b, size_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}

bool size_mul(size_t a, size_t b, size_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

void *xcalloc(size_t n, size_t size)
{
	size_t total;

	if (!size_mul(n, size, &total))
		return NULL;
	return calloc(1, total == 0 ? 1 : total);
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	size_t total;

	if (!size_mul(n, size, &total))
		return NULL;
	return realloc(p, total == 0 ? 1 : total);
}

char *xstrdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

char *xstrndup(const char *s, size_t n)
{
	return s == NULL ? NULL : strndup(s, n);
}
