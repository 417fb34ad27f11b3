/* sops_shamir.h — Shamir secret sharing over GF(2^8) (AES field, 0x11B) as sops uses it
 * for key groups: share = polynomial values for every byte followed by one byte x. */
#ifndef SMC_SOPS_SHAMIR_H
#define SMC_SOPS_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#include "common/secbuf.h"

#define SOPS_SHAMIR_MAX_PARTS 255

/* GF(2^8) product (exposed for the known-answer test). */
uint8_t sops_shamir_mul(uint8_t a, uint8_t b);

/* Combines n >= 2 shares of equal length >= 2 with distinct x bytes. Owned *out. */
int sops_shamir_combine(struct secbuf *const *shares, size_t n, struct secbuf **out);

/* Splits secret[0..len) into nparts shares (threshold k). Owned secbufs in shares[]. */
int sops_shamir_split(const uint8_t *secret, size_t len, size_t nparts, size_t k,
		      struct secbuf **shares);

#endif
