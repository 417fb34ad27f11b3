/* parse_yaml.h — `application.secrets.yaml` flattened to keys and text values, with libyaml.
 *   - the (single) document's top level must be a mapping; an empty file or a document
 *     without content gives no keys; a second document is refused;
 *   - nested mappings join keys with '.', sequence items get "[i]": {a: {b: [x, {c: y}]}}
 *     gives a.b[0] = x and a.b[1].c = y; an empty mapping or sequence gives no key;
 *   - a scalar keeps its text as written, after YAML quoting and folding only: `true` stays
 *     "true", `0x10` stays "0x10", '1.0' stays "1.0"; a plain null (empty, `~`, `null`,
 *     `Null`, `NULL`) gives "";
 *   - keys must be scalars (their text, as above); a key repeated in one mapping, or two
 *     paths that flatten to the same key (`a.b: 1` next to `a: {b: 2}`), are refused;
 *   - anchors and aliases are resolved; merge keys `<<` (a mapping or a sequence of
 *     mappings) add the keys the mapping does not define itself, earlier sources first;
 *   - expansion is capped: more than PARSE_YAML_MAX_NODES nodes visited (billion laughs)
 *     is ERR_TOOBIG, nesting deeper than PARSE_YAML_MAX_DEPTH (or an alias cycle) too. */
#ifndef SMC_PARSE_YAML_H
#define SMC_PARSE_YAML_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/kvlist.h"

#define PARSE_YAML_MAX_INPUT ((size_t)8 << 20) /* bytes in one file */
#define PARSE_YAML_MAX_DEPTH 64		       /* nested collections */
#define PARSE_YAML_MAX_NODES 100000	       /* nodes visited, aliases expanded */
#define PARSE_YAML_MAX_KEYS 10000	       /* keys produced by one file */
#define PARSE_YAML_MAX_KEY 1024		       /* bytes in one flattened key */
#define PARSE_YAML_MAX_VALUE ((size_t)1 << 20) /* bytes in one value */
#define PARSE_YAML_ORIGIN_MAX 1100	       /* bytes of "<file_name>:<line>" */

/* Parses data[0..n) (the whole file) into out, which must be an initialised, empty list.
 * Each kv gets origin "<file_name>:<line>" (1-based line of the key that holds the value,
 * or of the sequence item), group NULL, and its value in a secbuf. On success out owns
 * the entries; on failure out is untouched and err (may be NULL) names file_name and the
 * line, never a value. file_name is borrowed. Returns 0, ERR_INVAL, ERR_CONFLICT,
 * ERR_TOOBIG, ERR_NOMEM. */
int parse_yaml(const char *file_name, const uint8_t *data, size_t n, struct kvlist *out,
	       struct err_ctx *err);

#endif
