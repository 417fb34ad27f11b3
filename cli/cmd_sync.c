/* cmd_sync.c — `smc sync` and `smc diff`: run smcd in one-shot mode (the real process
 * tree) and print its RESULT, as text or as the JSON object of `-o json`. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/run_smcd.h"

static void print_counts(const char *what, json_t *c, int dry_run)
{
	json_int_t w = json_integer_value(json_object_get(c, "written"));
	json_int_t u = json_integer_value(json_object_get(c, "unchanged"));
	json_int_t p = json_integer_value(json_object_get(c, "pruned"));
	json_int_t r = json_integer_value(json_object_get(c, "refused"));
	json_int_t f = json_integer_value(json_object_get(c, "failed"));

	printf("  %-8s %lld %s, %lld unchanged, %lld %s", what, (long long)w,
	       dry_run ? "to write" : "written", (long long)u, (long long)p,
	       dry_run ? "to prune" : "pruned");
	if (r)
		printf(", %lld refused", (long long)r);
	if (f)
		printf(", %lld failed", (long long)f);
	putchar('\n');
}

static void print_text(json_t *res, int dry_run)
{
	json_t *err = json_object_get(res, "error"), *items = json_object_get(res, "items");
	size_t i;
	json_t *it;

	if (json_object_get(res, "secrets") != NULL) {
		printf("%s %s at %s\n", err ? "failed" : dry_run ? "plan for" : "synced",
		       json_string_value(json_object_get(res, "config")),
		       json_string_value(json_object_get(res, "revision")));
		print_counts("secrets", json_object_get(res, "secrets"), dry_run);
		print_counts("configs", json_object_get(res, "configs"), dry_run);
	}
	json_array_foreach(items, i, it) {
		const char *outcome = json_string_value(json_object_get(it, "outcome"));
		const char *reason = json_string_value(json_object_get(it, "reason"));

		if (!dry_run && strcmp(outcome, "unchanged") == 0)
			continue;
		printf("  %-9s %-6s %s", outcome, json_string_value(json_object_get(it, "kind")),
		       json_string_value(json_object_get(it, "name")));
		if (reason)
			printf("  (%s)", reason);
		putchar('\n');
	}
	if (err != NULL)
		cli_error("%s failed: %s", json_string_value(json_object_get(err, "stage")),
			  json_string_value(json_object_get(err, "reason")));
}

int cmd_sync(int argc, char **argv, int dry_run)
{
	static const struct option longopts[] = {{"file", required_argument, NULL, 'f'},
						 {"store", required_argument, NULL, 's'},
						 {"keys", required_argument, NULL, 'k'},
						 {"output", required_argument, NULL, 'o'},
						 {"verbose", no_argument, NULL, 'v'},
						 {NULL, 0, NULL, 0}};
	const char *config = NULL, *store = NULL, *keys = NULL, *output = "text";
	json_t *res = NULL;
	int ch, verbose = 0, code, ok = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "f:s:k:o:v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': config = optarg; break;
		case 's': store = optarg; break;
		case 'k': keys = optarg; break;
		case 'o': output = optarg; break;
		case 'v': verbose = 1; break;
		default: return 2;
		}
	}
	if (config == NULL || optind != argc ||
	    (strcmp(output, "json") != 0 && strcmp(output, "text") != 0)) {
		cli_error("usage: smc %s -f CONFIG [--store PATH] [--keys DIR] [-o json|text]",
			  dry_run ? "diff" : "sync");
		return 2;
	}
	if (getenv("SMC_LOG_LEVEL") == NULL)
		setenv("SMC_LOG_LEVEL", verbose ? "info" : "warn", 1);
	if ((code = run_smcd_once(config, store, keys, dry_run, &res, &ok)) != 0)
		return code;
	if (strcmp(output, "json") == 0) {
		json_dumpf(res, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		if (json_object_get(res, "error") != NULL)
			cli_error("%s failed: %s",
				  json_string_value(json_object_get(json_object_get(res, "error"),
								    "stage")),
				  json_string_value(json_object_get(json_object_get(res, "error"),
								    "reason")));
	} else {
		print_text(res, dry_run);
	}
	json_decref(res);
	return ok ? 0 : 1;
}
