/* watcher_sandbox.h — the watcher's sandbox policy: HTTPS to the Kubernetes API, its
 * config and token files read-only, nothing writable. */
#ifndef SMC_WATCHER_SANDBOX_H
#define SMC_WATCHER_SANDBOX_H

#include "common/err.h"
#include "common/sandbox.h"

/* Applies the whole sandbox (sandbox_enter) with the watcher's table and limits.
 * paths (borrowed): ro = config file, kube token/CA files; connect_ports = the API
 * server's port (or any_tcp); keep_fds = the socketpairs. rw paths are ignored (the
 * watcher writes no file). The CA bundle and resolver files are added read-only here.
 * On failure the process must exit. */
int watcher_sandbox_enter(const struct sandbox_paths *paths, struct err_ctx *err);

#endif
