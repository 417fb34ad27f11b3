/* b64.h — base64 of secret bytes: both directions go straight between secbufs and text. */
#ifndef SMC_B64_H
#define SMC_B64_H

#include <stddef.h>

#include "common/secbuf.h"

/* Base64 (url = 0: standard with padding; url = 1: base64url without padding) of p[0..n)
 * into a new NUL-terminated secbuf. ERR_TOOBIG over 64 MiB. Owned out-parameter. */
int b64_encode_secret(const void *p, size_t n, int url, struct secbuf **out);
/* Decodes standard or url-safe base64 (padding optional) into a new secbuf of at most max
 * bytes. ERR_INVAL on a malformed text. Owned out-parameter. */
int b64_decode_secret(const char *s, size_t n, size_t max, struct secbuf **out);

#endif
