/* sandbox_landlock.h — the Landlock step of sandbox_enter (raw syscalls, no library).
 *
 * Best effort by ABI, as the kernel documentation recommends:
 *   ABI 0 (no Landlock, or disabled at boot): the step is skipped; seccomp still applies.
 *   ABI 1: file system rules, but REFER is not handled (cross-directory rename/link is
 *          then always denied inside the handled hierarchy).
 *   ABI 2: + REFER;  ABI 3: + TRUNCATE;  ABI 5: + IOCTL_DEV (all handled when known).
 *   ABI 4: TCP bind/connect by port (no_tcp: all TCP denied; any_tcp: TCP not handled;
 *          else connect only to paths->connect_ports, bind never).
 *          Below ABI 4 TCP cannot be restricted here: seccomp is the only network fence.
 *   ABI 6: scopes abstract unix sockets and signals to the sandbox's own domain.
 * The ABI (and this degradation) is reported by sandbox_landlock_abi(). */
#ifndef SMC_SANDBOX_LANDLOCK_H
#define SMC_SANDBOX_LANDLOCK_H

#include "common/err.h"
#include "common/sandbox.h"

/* Restricts the calling thread (and its future children/threads) to paths->ro (read and
 * execute), paths->rw (read, write, create, remove, rename, truncate) and the TCP policy
 * of paths. Requires PR_SET_NO_NEW_PRIVS (or CAP_SYS_ADMIN). Every path must exist
 * (ERR_NOTFOUND names it). A kernel without Landlock makes this a successful no-op.
 * *applied_abi (may be NULL) receives the ABI that was enforced (0 = none). */
int sandbox_landlock_apply(const struct sandbox_paths *paths, int *applied_abi,
			   struct err_ctx *err);

#endif
