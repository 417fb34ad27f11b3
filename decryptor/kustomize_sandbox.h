/* kustomize_sandbox.h — the sandbox of the kustomize runner (decryptor/kustomize_runner.h):
 * the helper process that the decryptor forks before it reads its keys, and which runs
 * `kustomize build` / `kubectl kustomize` on a plaintext tree. What it confines is therefore
 * a Go binary reading untrusted kustomizations: no network at all (Landlock denies every
 * TCP bind/connect, socket() fails with EACCES), read-write only its private scratch
 * directory, read-only (and execute) the system directories the binary needs, no new
 * privileges, bounded address space, processes and open files. The policy table is in
 * kustomize_sandbox.c; the engine is common/sandbox.h. */
#ifndef SMC_KUSTOMIZE_SANDBOX_H
#define SMC_KUSTOMIZE_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define KUSTOMIZE_SANDBOX_NOFILE 256		 /* RLIMIT_NOFILE of runner and kustomize */
#define KUSTOMIZE_SANDBOX_AS ((uint64_t)4 << 30) /* RLIMIT_AS: a Go binary needs ~1 GiB */
#define KUSTOMIZE_SANDBOX_NPROC 512		 /* RLIMIT_NPROC (threads count) */
#define KUSTOMIZE_SANDBOX_MAX_RO 8		 /* read-only paths */
#define KUSTOMIZE_SANDBOX_UID_OFFSET 5		 /* 61000 + 5 when no passwd entry */
#define KUSTOMIZE_SANDBOX_USER "smc-kustomize"

/* The uid/gid the runner drops to when started as root: the passwd entry
 * KUSTOMIZE_SANDBOX_USER, else 61005 (beside common/sandbox.c's role ids). */
int kustomize_sandbox_ids(unsigned *uid, unsigned *gid);

/* Applies the whole sandbox to the calling process: closes every fd but 0, 1, 2 and
 * keep_fd, drops to kustomize_sandbox_ids() when root, sets the rlimits, NO_NEW_PRIVS,
 * Landlock (scratch read-write, ro[0..nro) read+execute, no TCP) and the seccomp table.
 * Every path is borrowed and must exist. On failure the process must exit. */
int kustomize_sandbox_enter(const char *scratch, const char *const *ro, size_t nro, int keep_fd,
			    struct err_ctx *err);

#endif
