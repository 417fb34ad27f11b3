/* age_b64.h — strict, canonical standard-alphabet base64 for age (header: unpadded;
 * armor and SOPS values: padded). OpenSSL's decoder is not strict, so this one is ours:
 * it refuses any character outside the alphabet, wrong padding, and encodings whose unused
 * low bits are not zero (so that decoding then re-encoding gives the same bytes). */
#ifndef SMC_AGE_B64_H
#define SMC_AGE_B64_H

#include <stddef.h>
#include <stdint.h>

/* Length of the decoding of n input characters (upper bound for padded input). */
size_t age_b64_decoded_max(size_t n);
/* Length of the encoding of n bytes, padded or not. */
size_t age_b64_encoded_len(size_t n, int padded);

/* Decodes s[0..n) into out[0..outcap). padded: 1 = '=' padding required to a multiple of
 * 4 characters, 0 = padding refused. Returns 0 and *outlen, or ERR_INVAL (not canonical)
 * / ERR_TOOBIG (out too small). out is caller-owned. */
int age_b64_decode(const char *s, size_t n, int padded, uint8_t *out, size_t outcap,
		   size_t *outlen);

/* Encodes p[0..n) into out[0..outcap) and NUL-terminates it; ERR_TOOBIG when the
 * encoding and its NUL do not fit. out is caller-owned. */
int age_b64_encode(const uint8_t *p, size_t n, int padded, char *out, size_t outcap);

#endif
