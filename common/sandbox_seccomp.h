/* sandbox_seccomp.h — the seccomp step of sandbox_enter, with libseccomp.
 * Default action: kill the process (SCMP_ACT_LOG when built with SMC_SANDBOX_DEBUG, never
 * in production). Only the native architecture is in the filter; a syscall made through
 * another ABI (i386 int 0x80, x32) fails the arch check and kills the process too. The
 * filter is synchronised to every thread of the process (TSYNC). Sanitizer builds only
 * (SMC_SANITIZE) add the few syscalls the ASan/UBSan runtime makes (sandbox_seccomp.c). */
#ifndef SMC_SANDBOX_SECCOMP_H
#define SMC_SANDBOX_SECCOMP_H

#include <stddef.h>

#include "common/err.h"
#include "common/sandbox.h"

/* Hard cap on a policy table's length. */
#define SANDBOX_SECCOMP_MAX_RULES 256

/* Loads the filter built from table[0..n) (borrowed). Names unknown to libseccomp on this
 * architecture are skipped. Requires PR_SET_NO_NEW_PRIVS. After success every syscall not
 * in the table kills the process. */
int sandbox_seccomp_apply(const struct sandbox_syscall *table, size_t n, struct err_ctx *err);

#endif
