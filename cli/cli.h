/* cli.h — the subcommands of `smc` (and `msmctl`), one file each. */
#ifndef SMC_CLI_H
#define SMC_CLI_H

/* Each returns the process exit status: 0 success, 1 the operation failed, 2 usage. */
int cmd_sync(int argc, char **argv, int dry_run); /* smc sync / smc diff */
int cmd_get(int argc, char **argv);               /* smc get */
int cmd_ls(int argc, char **argv);                /* smc ls */
/* smc list|status|reconcile|suspend|resume (argv[0] is the command); msmctl != 0 takes the
 * reference CLI's flags (--name/-n, --namespace/-N). */
int cmd_kube(int argc, char **argv, int msmctl);
int cmd_parse(int argc, char **argv);             /* smc parse (cli/cmd_parse.c) */
int cmd_build(int argc, char **argv);             /* smc build (cli/cmd_build.c) */
int cmd_decrypt(int argc, char **argv);           /* smc decrypt */
int cmd_tap(int argc, char **argv);               /* smc tap */
int cmd_encrypt(int argc, char **argv);           /* smc encrypt */

/* Prints "smc: <msg>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
