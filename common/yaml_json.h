/* yaml_json.h — loads one YAML document (libyaml) into a jansson value, for manifests and
 * configuration files (never for secret files: values land in ordinary memory).
 * Plain scalars are typed the YAML 1.2 core way (null, true/false, ints, floats), quoted
 * scalars are strings; anchors and aliases are resolved with a cap on expanded nodes. */
#ifndef SMC_YAML_JSON_H
#define SMC_YAML_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

#define YAML_JSON_MAX_DEPTH 64
#define YAML_JSON_MAX_NODES 100000 /* nodes after alias expansion */

/* Parses data[0..n) (exactly one document; an empty input is an error). name is used in
 * messages ("file.yaml:12: ..."). Owned out-parameter *out (json_decref). */
int yaml_json_load(const char *name, const char *data, size_t n, json_t **out,
		   struct err_ctx *err);

#endif
