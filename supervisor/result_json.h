/* result_json.h — a job's RESULT as the JSON object `smc sync -o json` prints:
 * {"revision", "secrets": {"written","unchanged","pruned","retained","refused","failed"},
 *  "configs": {...}, "items": [{name,key,kind,outcome,reason}], "files": [...],
 *  "error": {"stage","reason"} (failures only)}. Names and counts only, never values. */
#ifndef SMC_RESULT_JSON_H
#define SMC_RESULT_JSON_H

#include <jansson.h>

#include "proto/msg.h"

/* New reference (json_decref), NULL on ENOMEM. */
json_t *result_json(const struct msg_result *r);

#endif
