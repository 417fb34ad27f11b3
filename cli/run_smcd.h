/* run_smcd.h — what `smc sync`, `smc diff` and `smc build` share: run smcd in one-shot
 * mode (the real process tree) and take its RESULT. */
#ifndef SMC_RUN_SMCD_H
#define SMC_RUN_SMCD_H

#include <jansson.h>

#define RUN_SMCD_RESULT_MAX ((size_t)64 << 20) /* largest RESULT line accepted from smcd */

/* Runs `smcd --once -f config --result-fd 3 [--dry-run] [--store S] [--keys K]` (smcd next
 * to this binary, or in $SMC_LIBEXEC_DIR). store and keys may be NULL. On 0, *result is the
 * parsed RESULT (owned, json_decref) and *exit_ok tells whether smcd exited 0; otherwise a
 * message was printed (cli_error) and the return is the CLI exit status (1 or 2). */
int run_smcd_once(const char *config, const char *store, const char *keys, int dry_run,
		  json_t **result, int *exit_ok);

#endif
