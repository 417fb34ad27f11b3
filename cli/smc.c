/* smc.c — the command line: `smc <command> ...`. */
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("smc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int usage(FILE *f)
{
	fputs("usage: smc <command> [options]\n"
	      "\n"
	      "  sync -f CONFIG [--store PATH] [--keys DIR] [-o json] [-v]\n"
	      "        run the pipeline once: make the store mirror the config's source\n"
	      "  diff -f CONFIG [--store PATH] [--keys DIR] [-o json]\n"
	      "        print the plan (names and actions, never values); writes nothing\n"
	      "  get [--store PATH] [--config] NAME [--version N]\n"
	      "        print a value from the embedded store\n"
	      "  ls [--store PATH]\n"
	      "        list the embedded store: kinds, names, versions, owners (no values)\n"
	      "  tap --socket PATH\n"
	      "        the pipeline's messages as JSON lines, secret fields as their lengths\n"
	      "  decrypt [--keys DIR | --identity FILE] FILE\n"
	      "        print the plaintext of a SOPS file (any store) or a plain age file\n"
	      "  encrypt --age RECIPIENT... | --pgp FPR... --pgp-pubkey FILE...\n"
	      "          [--encrypted-regex RE] FILE\n"
	      "        print FILE as a SOPS file in its own store format\n"
	      "  parse --format env|properties|yaml FILE\n"
	      "        print what raw mode reads from FILE, as one JSON object\n"
	      "  build -f CONFIG [--keys DIR] [--store PATH] [-o json]\n"
	      "        print the secret and config names the config produces (no values)\n"
	      "  list [-n NS | -A] | status NAME | reconcile NAME [--force] | suspend NAME |\n"
	      "  resume NAME     [-n NS] [--kubeconfig PATH] [--context C]\n"
	      "        SecretManagerConfigs in the cluster (kubeconfig as kubectl; also as msmctl\n"
	      "        with the reference flags --name/-n NAME --namespace/-N NS)\n"
	      "  version\n",
	      f);
	return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	char self[256];
	int msmctl = 0;

	if (argc > 0 && argv[0] != NULL) {
		snprintf(self, sizeof(self), "%s", argv[0]);
		msmctl = strcmp(basename(self), "msmctl") == 0;
	}
	if (argc < 2)
		return usage(stderr);
	cmd = argv[1];
	if (strcmp(cmd, "list") == 0 || strcmp(cmd, "status") == 0 ||
	    strcmp(cmd, "reconcile") == 0 || strcmp(cmd, "suspend") == 0 ||
	    strcmp(cmd, "resume") == 0)
		return cmd_kube(argc - 1, argv + 1, msmctl);
	if (strcmp(cmd, "sync") == 0)
		return cmd_sync(argc - 1, argv + 1, 0);
	if (strcmp(cmd, "diff") == 0)
		return cmd_sync(argc - 1, argv + 1, 1);
	if (strcmp(cmd, "get") == 0)
		return cmd_get(argc - 1, argv + 1);
	if (strcmp(cmd, "tap") == 0)
		return cmd_tap(argc - 1, argv + 1);
	if (strcmp(cmd, "decrypt") == 0)
		return cmd_decrypt(argc - 1, argv + 1);
	if (strcmp(cmd, "encrypt") == 0)
		return cmd_encrypt(argc - 1, argv + 1);
	if (strcmp(cmd, "ls") == 0 || strcmp(cmd, "list-store") == 0)
		return cmd_ls(argc - 1, argv + 1);
	if (strcmp(cmd, "parse") == 0)
		return cmd_parse(argc - 1, argv + 1);
	if (strcmp(cmd, "build") == 0)
		return cmd_build(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("smc %s\n", SMC_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
		return usage(stdout);
	cli_error("unknown command \"%s\"", cmd);
	return usage(stderr);
}
