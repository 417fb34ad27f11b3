/* cmd_build.c — `smc build -f CONFIG [--keys DIR] [--store PATH] [-o json]`: the secret and
 * config names the job would produce, never a value. It runs the real pipeline in dry-run
 * mode (`smcd --once --dry-run`, as `smc diff` does): the same fetch, SOPS decryption,
 * kustomize build or raw parsing, and provider naming rules, with nothing written. For the
 * local provider without --store the plan is made against a fresh, empty store in a
 * private temporary directory (removed afterwards), so every name is listed whatever the
 * state of the user's store; names pruned from a store are not "produced" and not listed. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run_smcd.h"
#include "common/smconfig.h"
#include "common/str.h"

/* 1 when an item of the plan is a name the job produces (it has a source key). */
static int cmd_build_produced(json_t *it)
{
	const char *outcome = json_string_value(json_object_get(it, "outcome"));

	return json_string_value(json_object_get(it, "key")) != NULL && outcome != NULL &&
	       strcmp(outcome, "pruned") != 0 && strcmp(outcome, "retained") != 0;
}

static void cmd_build_print(json_t *res, int as_json)
{
	json_t *items = json_object_get(res, "items"), *it, *out, *sec, *cfg;
	size_t i;

	if (!as_json) {
		json_array_foreach(items, i, it)
		{
			if (!cmd_build_produced(it))
				continue;
			printf("%-6s %s\n", json_string_value(json_object_get(it, "kind")),
			       json_string_value(json_object_get(it, "name")));
		}
		return;
	}
	out = json_object();
	sec = json_array();
	cfg = json_array();
	json_array_foreach(items, i, it)
	{
		const char *kind = json_string_value(json_object_get(it, "kind"));
		json_t *e;

		if (!cmd_build_produced(it) || kind == NULL)
			continue;
		e = json_pack("{s:O, s:O}", "name", json_object_get(it, "name"), "key",
			      json_object_get(it, "key"));
		json_array_append_new(strcmp(kind, "secret") == 0 ? sec : cfg, e);
	}
	json_object_set_new(out, "config", json_incref(json_object_get(res, "config")));
	json_object_set_new(out, "revision", json_incref(json_object_get(res, "revision")));
	json_object_set_new(out, "secrets", sec);
	json_object_set_new(out, "configs", cfg);
	json_object_set_new(out, "files", json_incref(json_object_get(res, "files")));
	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(out);
}

static void cmd_build_rm_tmp(const char *dir)
{
	char p[PATH_MAX];
	const char *names[] = {"store.db", "store.db-wal", "store.db-shm", "store.db-journal"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (str_fmt(p, sizeof(p), "%s/%s", dir, names[i]) == 0)
			(void)unlink(p);
	}
	(void)rmdir(dir);
}

int cmd_build(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"file", required_argument, NULL, 'f'},  {"keys", required_argument, NULL, 'k'},
	    {"store", required_argument, NULL, 's'}, {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0}};
	const char *config = NULL, *keys = NULL, *store = NULL, *output = "text";
	char tmpdir[] = "/tmp/smc-build-XXXXXX", tmpstore[PATH_MAX];
	struct smconfig cfg;
	struct err_ctx err = {{0}};
	json_t *res = NULL, *e;
	int ch, code = 1, ok = 0, made_tmp = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "f:k:s:o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			config = optarg;
			break;
		case 'k':
			keys = optarg;
			break;
		case 's':
			store = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			puts("usage: smc build -f CONFIG [--keys DIR] [--store PATH] [-o "
			     "json|text]\n"
			     "  prints the secret and config names the config would produce (no "
			     "values)");
			return 0;
		default:
			return 2;
		}
	}
	if (config == NULL || optind != argc ||
	    (strcmp(output, "json") != 0 && strcmp(output, "text") != 0)) {
		cli_error("usage: smc build -f CONFIG [--keys DIR] [--store PATH] [-o json|text]");
		return 2;
	}
	if (smconfig_load_file(config, &cfg, &err) != 0) {
		cli_error("%s: %s", config, err.msg);
		return 1;
	}
	if (store == NULL && cfg.job.provider.kind != NULL &&
	    strcmp(cfg.job.provider.kind, "local") == 0) {
		if (mkdtemp(tmpdir) == NULL ||
		    str_fmt(tmpstore, sizeof(tmpstore), "%s/store.db", tmpdir) != 0) {
			cli_error("cannot make a temporary store: %s", strerror(errno));
			smconfig_free(&cfg);
			return 1;
		}
		made_tmp = 1;
		store = tmpstore;
	}
	smconfig_free(&cfg);
	if (getenv("SMC_LOG_LEVEL") == NULL)
		setenv("SMC_LOG_LEVEL", "warn", 1);
	if ((code = run_smcd_once(config, store, keys, 1, &res, &ok)) != 0)
		goto out;
	code = 1;
	if ((e = json_object_get(res, "error")) != NULL) {
		cli_error("%s failed: %s", json_string_value(json_object_get(e, "stage")),
			  json_string_value(json_object_get(e, "reason")));
		goto out;
	}
	cmd_build_print(res, strcmp(output, "json") == 0);
	code = ok ? 0 : 1;
out:
	if (made_tmp)
		cmd_build_rm_tmp(tmpdir);
	json_decref(res);
	return code;
}
