/* parse_properties.h — `.properties` files parsed exactly as java.util.Properties.load(Reader)
 * parses them with the file read as UTF-8 (checked against Java 17 by
 * tests/unit/decryptor/test_oracle_properties.c and tests/oracle/PropsOracle.java):
 *   - natural lines end at "\n", "\r" or "\r\n"; leading ' ', '\t', '\f' of every natural
 *     line are dropped; blank lines are skipped;
 *   - a logical line whose first character is '#' or '!' is a comment (a comment never
 *     continues); a natural line ending in an odd number of '\' continues on the next
 *     natural line (the '\' and the next line's leading white space are dropped; a '\' at
 *     the end of the file is dropped);
 *   - the key ends at the first unescaped '=', ':', ' ', '\t' or '\f'; white space, then at
 *     most one '=' or ':' (when the key ended at white space), then white space follow;
 *     the rest of the logical line is the value;
 *   - escapes in keys and values: \t \n \r \f, \uXXXX (exactly four hex digits, anything
 *     else is "malformed \uxxxx encoding"), and \x → x for any other x;
 *   - the last definition of a key wins (its origin line is the one reported);
 *   - a UTF-8 BOM is not special: like Java, it becomes part of the first key.
 * Deliberate differences, all refusals: invalid UTF-8 (Java's lenient decoders would
 * substitute U+FFFD), a key or final value holding an unpaired UTF-16 surrogate from a \u
 * escape (not representable in UTF-8; an earlier value of a key that a later line replaces
 * may hold one, as in Java), a key containing U+0000, a logical line longer than
 * PARSE_PROPERTIES_MAX_LINE bytes, more than PARSE_PROPERTIES_MAX_KEYS distinct keys or
 * PARSE_PROPERTIES_MAX_DEFS definitions. */
#ifndef SMC_PARSE_PROPERTIES_H
#define SMC_PARSE_PROPERTIES_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/kvlist.h"

#define PARSE_PROPERTIES_MAX_INPUT ((size_t)8 << 20) /* bytes in one file */
#define PARSE_PROPERTIES_MAX_LINE ((size_t)1 << 20)  /* bytes in one logical line */
#define PARSE_PROPERTIES_MAX_KEYS 10000		     /* distinct keys in one file */
#define PARSE_PROPERTIES_MAX_DEFS 100000	     /* key definitions in one file */
#define PARSE_PROPERTIES_ORIGIN_MAX 1100	     /* bytes of "<file_name>:<line>" */

/* Parses data[0..n) (the whole file) into out, which must be an initialised, empty list.
 * Each kv gets origin "<file_name>:<line>" (1-based natural line where its logical line
 * starts), group NULL, and its value in a secbuf. On success out owns the entries; on
 * failure out is untouched and err (may be NULL) names file_name and the line, never a
 * value. file_name is borrowed. Returns 0, ERR_INVAL, ERR_TOOBIG, ERR_NOMEM. */
int parse_properties(const char *file_name, const uint8_t *data, size_t n, struct kvlist *out,
		     struct err_ctx *err);

#endif
