/* syncer_sandbox.h — the syncer's sandbox policy: HTTPS to cloud APIs and the embedded
 * SQLite store in one read-write directory. */
#ifndef SMC_SYNCER_SANDBOX_H
#define SMC_SYNCER_SANDBOX_H

#include "common/err.h"
#include "common/sandbox.h"

/* Applies the whole sandbox (sandbox_enter) with the syncer's table and limits.
 * paths (borrowed): rw = the store's directory (SQLite creates its journal/WAL beside the
 * database), ro = credential files if any, connect_ports / any_tcp for the cloud
 * endpoints, keep_fds = the socketpairs. The CA bundle and resolver files are added
 * read-only here. On failure the process must exit. */
int syncer_sandbox_enter(const struct sandbox_paths *paths, struct err_ctx *err);

#endif
