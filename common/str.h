/* str.h — small string helpers that replace the banned libc calls (STYLE.md rule 10). */
#ifndef SMC_STR_H
#define SMC_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copies src into dst[size] always NUL-terminated; returns ERR_TOOBIG when truncated. */
int str_copy(char *dst, size_t size, const char *src);
/* snprintf that returns ERR_TOOBIG on truncation instead of a length. */
int str_fmt(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
/* Parses a whole decimal string (optional leading '-') into [min, max]; 0 or ERR_INVAL. */
int str_to_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Joins dir and name with exactly one '/'. Owned result (free()), NULL on ENOMEM. */
char *str_path_join(const char *dir, const char *name);
/* true when s is valid UTF-8 of exactly n bytes (no NUL inside). */
bool str_utf8_valid(const char *s, size_t n);
/* Decodes the one UTF-8 sequence at s[0..n), strictly (as Go's utf8 package: no overlong
 * forms, no surrogates, nothing above U+10FFFF; NUL is a code point here). Returns its
 * length (1 to 4) and writes *cp, or returns 0 when n is 0 or the bytes are not valid
 * UTF-8 (*cp untouched). */
size_t str_utf8_next(const uint8_t *s, size_t n, uint32_t *cp);

#endif
