/* decryptor_sandbox.h — the decryptor's sandbox policy: no network at all, the key
 * directory read-only, nothing writable. */
#ifndef SMC_DECRYPTOR_SANDBOX_H
#define SMC_DECRYPTOR_SANDBOX_H

#include "common/err.h"
#include "common/sandbox.h"

/* Applies the whole sandbox (sandbox_enter) with the decryptor's table and limits.
 * paths (borrowed) gives the key directory in ro and the socketpair fds in keep_fds; any
 * rw paths or ports are ignored: the decryptor gets no TCP (no_tcp forced) and no
 * socket() at all. On failure the process must exit. */
int decryptor_sandbox_enter(const struct sandbox_paths *paths, struct err_ctx *err);

#endif
