/* age_bech32.h — bech32 (BIP 173 checksum, without the 90-character limit) as age uses it
 * for recipients ("age1...") and identities ("AGE-SECRET-KEY-1..."). */
#ifndef SMC_AGE_BECH32_H
#define SMC_AGE_BECH32_H

#include <stddef.h>
#include <stdint.h>

#define AGE_BECH32_MAX_LEN 4096 /* longest string accepted (post-quantum recipients ~2000) */
#define AGE_BECH32_MAX_HRP 83

/* Decodes s[0..n): all-lower or all-upper, checksum over the lower-cased form. Writes the
 * lower-cased HRP into hrp[hrpcap] and the 8-bit data into data[datacap] (*datalen).
 * Padding bits must be fewer than 5 and zero. Returns 0, ERR_INVAL or ERR_TOOBIG.
 * All buffers are caller-owned; callers wipe data when it is a secret. */
int age_bech32_decode(const char *s, size_t n, char *hrp, size_t hrpcap, uint8_t *data,
		      size_t datacap, size_t *datalen);

/* Encodes hrp (lower case) and data into out[outcap] (NUL-terminated); upper: 1 writes the
 * whole string upper-cased (identities). Returns 0 or ERR_TOOBIG / ERR_INVAL. */
int age_bech32_encode(const char *hrp, const uint8_t *data, size_t datalen, int upper,
		      char *out, size_t outcap);

#endif
