/* sandbox_seccomp.c — builds and loads one seccomp filter from a role's table
 * (model: OpenSSH sandbox-seccomp-filter.c; the arch check comes from libseccomp). */
#include "common/sandbox_seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>

#ifdef SMC_SANDBOX_DEBUG
#define SECCOMP_DEFAULT_ACTION SCMP_ACT_LOG
#else
#define SECCOMP_DEFAULT_ACTION SCMP_ACT_KILL_PROCESS
#endif

#define SECCOMP_MAX_ARG_INDEX 5

#ifdef SMC_SANITIZE
/* Sanitizer builds only (-DSANITIZE=ON): what the ASan/UBSan runtime itself calls in a
 * process that is already sandboxed. Never part of a production filter. A name the
 * role's table makes fail with an errno keeps the role's rule; one it allows only for some
 * argument values is allowed for all (libseccomp merges the two allow rules). Not here, on
 * purpose: clone, ptrace, prctl and waitpid, which LeakSanitizer's exit-time check needs;
 * sandboxed processes skip that check instead (sandbox.c, __lsan_is_turned_off). */
static const struct sandbox_syscall seccomp_sanitizer_syscalls[] = {
    /* __asan_handle_no_return queries it before every noreturn call (_exit, longjmp,
     * abort); thread start and exit set and clear the per-thread alternate stack */
    SANDBOX_ALLOW("sigaltstack"),
    /* the thread registry (thread start), error reports */
    SANDBOX_ALLOW("gettid"),
    /* the runtime's internal spin locks */
    SANDBOX_ALLOW("sched_yield"),
    /* the ==pid== prefix of a report */
    SANDBOX_ALLOW("getpid"),
    /* /proc/self/exe: module names in a report */
    SANDBOX_ALLOW("readlink"),
    /* glibc pthread_getattr_np, called by the runtime for every new thread's stack */
    SANDBOX_ALLOW("sched_getaffinity"),
};
#endif

static int seccomp_add(scmp_filter_ctx ctx, const struct sandbox_syscall *sc, struct err_ctx *err)
{
	uint32_t action;
	int nr, r;

	if (sc->name == NULL)
		return err_set(err, ERR_INVAL, "seccomp: rule without a name");
	nr = seccomp_syscall_resolve_name(sc->name);
	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0; /* not a syscall of this architecture */
	if (sc->err < 0 || sc->err > 4095)
		return err_set(err, ERR_INVAL, "seccomp: %s: bad errno", sc->name);
	action = sc->err != 0 ? SCMP_ACT_ERRNO((uint32_t)sc->err) : SCMP_ACT_ALLOW;
	if (sc->arg_index < 0) {
		r = seccomp_rule_add(ctx, action, nr, 0);
	} else if (sc->arg_index > SECCOMP_MAX_ARG_INDEX) {
		return err_set(err, ERR_INVAL, "seccomp: %s: bad argument index", sc->name);
	} else if (sc->arg_mask != 0) {
		r = seccomp_rule_add(ctx, action, nr, 1,
				     SCMP_CMP((unsigned)sc->arg_index, SCMP_CMP_MASKED_EQ,
					      sc->arg_mask, sc->arg_value));
	} else {
		r = seccomp_rule_add(ctx, action, nr, 1,
				     SCMP_CMP((unsigned)sc->arg_index, SCMP_CMP_EQ, sc->arg_value, 0));
	}
	if (r != 0)
		return err_set(err, ERR_INVAL, "seccomp: rule %s: %s", sc->name, strerror(-r));
	return 0;
}

#ifdef SMC_SANITIZE
/* 1 when the role's table makes name fail with an errno (for some or all arguments). */
static int seccomp_errno_in_table(const struct sandbox_syscall *table, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (table[i].err != 0 && table[i].name != NULL && strcmp(table[i].name, name) == 0)
			return 1;
	}
	return 0;
}
#endif

int sandbox_seccomp_apply(const struct sandbox_syscall *table, size_t n, struct err_ctx *err)
{
	scmp_filter_ctx ctx = NULL;
	size_t i;
	int r, rc = 0;

	if (table == NULL || n == 0 || n > SANDBOX_SECCOMP_MAX_RULES)
		return err_set(err, ERR_INVAL, "seccomp: policy table empty or too long");
	ctx = seccomp_init(SECCOMP_DEFAULT_ACTION);
	if (ctx == NULL)
		return err_set(err, ERR_NOMEM, "seccomp: init failed");
	/* Foreign-architecture syscalls: kill, never fall through to the default. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r != 0) {
		rc = err_set(err, ERR_IO, "seccomp: attributes: %s", strerror(-r));
		goto out;
	}
	for (i = 0; i < n; i++) {
		rc = seccomp_add(ctx, &table[i], err);
		if (rc != 0)
			goto out;
	}
#ifdef SMC_SANITIZE
	for (i = 0; i < sizeof(seccomp_sanitizer_syscalls) / sizeof(seccomp_sanitizer_syscalls[0]);
	     i++) {
		if (seccomp_errno_in_table(table, n, seccomp_sanitizer_syscalls[i].name))
			continue;
		rc = seccomp_add(ctx, &seccomp_sanitizer_syscalls[i], err);
		if (rc != 0)
			goto out;
	}
#endif
	r = seccomp_load(ctx);
	if (r != 0) {
		rc = err_set(err, ERR_IO, "seccomp: load: %s", strerror(-r));
		goto out;
	}
out:
	seccomp_release(ctx);
	return rc;
}
