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
				     SCMP_CMP((unsigned)sc->arg_index, SCMP_CMP_EQ, sc->arg_value));
	}
	if (r != 0)
		return err_set(err, ERR_INVAL, "seccomp: rule %s: %s", sc->name, strerror(-r));
	return 0;
}

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
	r = seccomp_load(ctx);
	if (r != 0) {
		rc = err_set(err, ERR_IO, "seccomp: load: %s", strerror(-r));
		goto out;
	}
out:
	seccomp_release(ctx);
	return rc;
}
