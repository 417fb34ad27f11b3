/* age_armor.h — the strict ASCII armor of age ("-----BEGIN AGE ENCRYPTED FILE-----"),
 * the form SOPS stores in age[].enc. Armored text is ciphertext, so plain struct buf. */
#ifndef SMC_AGE_ARMOR_H
#define SMC_AGE_ARMOR_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define AGE_ARMOR_MAX_WS 1024          /* whitespace allowed before and after the armor */
#define AGE_ARMOR_COLS 64              /* base64 columns per line */
#define AGE_ARMOR_MAX_IN (512u << 20)  /* largest armored input accepted */

/* 1 when in[0..n) looks armored (optional leading whitespace then "-----BEGIN"). */
int age_armor_detect(const uint8_t *in, size_t n);

/* Strictly de-armors in[0..n) and appends the binary age file to out (caller-owned,
 * initialised; out is unchanged on failure except for its length being reset). Returns 0,
 * ERR_INVAL (malformed armor, reason in err) or ERR_TOOBIG. */
int age_armor_decode(const uint8_t *in, size_t n, struct buf *out, struct err_ctx *err);

/* Armors bin[0..n): header, 64-column padded base64 lines, footer, final LF, appended to
 * out (caller-owned). */
int age_armor_encode(const uint8_t *bin, size_t n, struct buf *out);

#endif
