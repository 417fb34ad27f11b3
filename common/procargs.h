/* procargs.h — the command line the supervisor gives every child:
 *   --log-level L  --ro PATH...  --rw PATH...  --scratch DIR  --keys DIR  --store PATH */
#ifndef SMC_PROCARGS_H
#define SMC_PROCARGS_H

#include "common/err.h"
#include "common/log.h"
#include "common/sandbox.h"

struct procargs {
	enum log_level level;
	struct sandbox_paths paths; /* --ro/--rw (and scratch/keys) already added */
	const char *scratch;        /* --scratch (fetcher) or NULL */
	const char *keys;           /* --keys (decryptor) or NULL */
	const char *store;          /* --store (watcher): local store path override, or NULL */
};

/* Parses argv (borrowed: paths point into argv). ERR_INVAL on an unknown argument. */
int procargs_parse(int argc, char **argv, struct procargs *out, struct err_ctx *err);

#endif
