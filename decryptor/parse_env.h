/* parse_env.h — `.env` files parsed exactly as kustomize's `envs:` generator parses them
 * (sigs.k8s.io/kustomize/api/kv keyValuesFromLines, checked against `kubectl kustomize`
 * v5.0–v5.6 by tests/unit/decryptor/test_oracle_env.c):
 *   - lines are split on "\n"; one trailing "\r" of each line is dropped (Go bufio.ScanLines),
 *     a "\r" anywhere else stays in the line;
 *   - every line must be valid UTF-8 (NUL bytes allowed in values), else the file is refused;
 *   - a UTF-8 BOM is removed from the first line only;
 *   - leading Unicode white space (Go unicode.IsSpace) is trimmed; blank lines and lines whose
 *     first character is '#' are skipped (a '#' later in the line is part of the value);
 *   - the line splits at the first '=': the key is everything before it (trailing spaces,
 *     quotes and a leading "export " included: kustomize does not validate keys), the value
 *     everything after it, verbatim (quotes are NOT stripped, nothing is unescaped);
 *   - a line without '=' is a key with the empty value; a line "=v" (empty key) is skipped;
 *   - a key given twice refuses the file (kustomize: "illegally repeats the key").
 * Deliberate differences, all refusals where kustomize would silently accept or truncate:
 *   a line longer than PARSE_ENV_MAX_LINE bytes (kustomize silently stops reading at
 *   64 KiB), a key containing a NUL byte, more than PARSE_ENV_MAX_KEYS keys. */
#ifndef SMC_PARSE_ENV_H
#define SMC_PARSE_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/kvlist.h"

#define PARSE_ENV_MAX_INPUT ((size_t)8 << 20) /* bytes in one file */
#define PARSE_ENV_MAX_LINE 65535	      /* bytes in one line, terminator excluded */
#define PARSE_ENV_MAX_KEYS 10000	      /* keys in one file */
#define PARSE_ENV_ORIGIN_MAX 1100	      /* bytes of "<file_name>:<line>" */

/* Parses data[0..n) (the whole file) into out, which must be an initialised, empty list.
 * Each kv gets origin "<file_name>:<line>" (1-based line of its definition), group NULL,
 * and its value in a secbuf. On success out owns the entries; on failure out is untouched
 * and err (may be NULL) names file_name and the line, never a value. file_name is
 * borrowed. Returns 0, ERR_INVAL (malformed), ERR_CONFLICT (repeated key), ERR_TOOBIG,
 * ERR_NOMEM. */
int parse_env(const char *file_name, const uint8_t *data, size_t n, struct kvlist *out,
	      struct err_ctx *err);

#endif
