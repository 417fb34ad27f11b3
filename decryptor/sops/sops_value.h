/* sops_value.h — scalar typing and canonical renderings exactly as sops (Go) produces
 * them: go-yaml v3 plain-scalar resolution, strconv ParseInt(s, 0, 64), FormatFloat(f,
 * 'f', -1, 64), ParseBool, and time.MarshalText (RFC 3339 with nanoseconds). */
#ifndef SMC_SOPS_VALUE_H
#define SMC_SOPS_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "common/secbuf.h"
#include "decryptor/sops/sops_tree.h"

/* Type of a plain (unquoted, untagged) YAML scalar s[0..n), as go-yaml v3 resolves it. */
enum sops_type sops_value_resolve_yaml(const char *s, size_t n);

/* Go strconv.ParseInt(s, 0, 64) (underscores removed first when yaml is 1). */
int sops_value_parse_int(const char *s, size_t n, int yaml, int64_t *out);
/* Go strconv.ParseBool. */
int sops_value_parse_bool(const char *s, size_t n, int *out);
/* YAML/Go float: decimal, exponent, .inf/.nan spellings. */
int sops_value_parse_float(const char *s, size_t n, double *out);
/* Go FormatFloat(v, 'f', -1, 64) into out[cap] (NUL-terminated). */
int sops_value_format_float(double v, char *out, size_t cap);
/* Parses a go-yaml timestamp and renders it as Go time.MarshalText into out[cap]. */
int sops_value_time_canonical(const char *s, size_t n, char *out, size_t cap);

/* The canonical bytes of a scalar node (what sops feeds the MAC and encrypts), appended
 * to out (caller-owned secbuf). Null appends nothing. ERR_INVAL when the text does not
 * parse as its type. */
int sops_value_canonical(const struct sops_node *n, struct secbuf *out);

/* Name used in ENC[...,type:<name>] for a type, and back. */
const char *sops_value_type_name(enum sops_type t);
int sops_value_type_from_name(const char *s, size_t n, enum sops_type *out);

#endif
