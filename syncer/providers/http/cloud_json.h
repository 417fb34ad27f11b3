/* cloud_json.h — JSON bodies that may carry secret values or tokens, for the cloud
 * providers: a request body encoded straight into locked memory, and decoded documents
 * wiped before jansson frees them. */
#ifndef SMC_CLOUD_JSON_H
#define SMC_CLOUD_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "common/secbuf.h"

/* Overwrites every string value (object values and array elements, depth-limited) of j
 * in place with zeros. NULL is a no-op. The document stays the caller's. */
void cloud_json_wipe(json_t *j);

/* Encodes j compactly into a new secbuf of at most max bytes, then wipes and releases j
 * (it is consumed in every case). ERR_NOMEM for j == NULL, ERR_TOOBIG over max. Owned
 * out-parameter. */
int cloud_json_body(json_t *j, size_t max, struct secbuf **out);

#endif
