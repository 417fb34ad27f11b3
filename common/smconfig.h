/* smconfig.h — a SecretManagerConfig (the cluster resource, or the same YAML given to
 * `smc sync -f`) turned into a validated struct job. Manifests written for the reference
 * controller mean the same thing here (../shared/docs/reference-controller.md §1).
 * Every validation error names the field ("spec.secrets.environment: required"). */
#ifndef SMC_SMCONFIG_H
#define SMC_SMCONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "proto/msg.h"

#define SMCONFIG_MAX_FILE (1u << 20)  /* a config file larger than this is refused */
#define SMCONFIG_DEFAULT_INTERVAL 60  /* reconcileInterval default, seconds */

struct smconfig {
	struct job job;
	int64_t interval_s;  /* reconcileInterval */
	bool suspend;
	char *ref_kind, *ref_name, *ref_ns; /* sourceRef as written (cluster kinds) */
};

/* Maps a parsed resource. base_dir resolves relative local paths (Directory source,
 * local store) — the directory of the config file, or NULL in a cluster. Owned
 * out-parameter (smconfig_free). */
int smconfig_from_json(const json_t *res, const char *base_dir, struct smconfig *out,
		       struct err_ctx *err);
/* Reads and maps a YAML or JSON file. */
int smconfig_load_file(const char *path, struct smconfig *out, struct err_ctx *err);
void smconfig_free(struct smconfig *c);

/* Parses a reconcileInterval ("30s", "1m", " 2H ", "1d"): one integer and one unit. */
int smconfig_parse_duration(const char *s, int64_t *seconds);

/* The default store path of the local provider, relative to the working directory. */
#define SMCONFIG_DEFAULT_STORE "./.smc/store.db"

#endif
