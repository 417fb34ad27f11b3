/* xmalloc.h — overflow-checked allocation helpers. They return NULL on failure (never
 * abort); callers map NULL to ERR_NOMEM. */
#ifndef SMC_XMALLOC_H
#define SMC_XMALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* calloc(n, size) with the multiplication checked. Owned result, free with free(). */
void *xcalloc(size_t n, size_t size);
/* realloc(p, n * size) with the multiplication checked; on failure p is untouched. */
void *xreallocarray(void *p, size_t n, size_t size);
/* strdup / strndup that return NULL on failure. Owned result. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* true and *out = a + b when it does not overflow. */
bool size_add(size_t a, size_t b, size_t *out);
/* true and *out = a * b when it does not overflow. */
bool size_mul(size_t a, size_t b, size_t *out);

#endif
