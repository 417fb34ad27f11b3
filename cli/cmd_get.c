/* cmd_get.c — `smc get` (one value) and `smc ls` (names only) on the embedded store. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/str.h"
#include "syncer/providers/local/local_store.h"

int cmd_get(int argc, char **argv)
{
	static const struct option longopts[] = {{"store", required_argument, NULL, 's'},
						 {"version", required_argument, NULL, 'V'},
						 {"config", no_argument, NULL, 'c'},
						 {NULL, 0, NULL, 0}};
	const char *store = NULL, *kind = "secret";
	struct err_ctx err = {{0}};
	struct secbuf *value = NULL;
	int64_t version = 0, got = 0;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:V:c", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': store = optarg; break;
		case 'c': kind = "config"; break;
		case 'V':
			if (str_to_i64(optarg, 1, INT64_MAX, &version) != 0) {
				cli_error("--version: a positive integer is required");
				return 2;
			}
			break;
		default: return 2;
		}
	}
	if (optind + 1 != argc) {
		cli_error("usage: smc get [--store PATH] [--config] NAME [--version N]");
		return 2;
	}
	rc = local_store_get(store, kind, argv[optind], version, &value, &got, &err);
	if (rc != 0) {
		cli_error("%s", err.msg[0] ? err.msg : err_str(rc));
		return 1;
	}
	/* The user asked for this value explicitly: it goes to stdout, nowhere else. */
	if (fwrite(value->data, 1, value->len, stdout) != value->len)
		rc = 1;
	if (isatty(STDOUT_FILENO))
		putchar('\n');
	secbuf_free(value);
	return rc == 0 ? 0 : 1;
}

int cmd_ls(int argc, char **argv)
{
	static const struct option longopts[] = {{"store", required_argument, NULL, 's'},
						 {NULL, 0, NULL, 0}};
	const char *store = NULL;
	struct err_ctx err = {{0}};
	struct local_store_entry *e = NULL;
	size_t n = 0;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:", longopts, NULL)) != -1) {
		if (ch != 's')
			return 2;
		store = optarg;
	}
	if (optind != argc) {
		cli_error("usage: smc ls [--store PATH]");
		return 2;
	}
	if (local_store_list(store, NULL, &e, &n, &err) != 0) {
		cli_error("%s", err.msg);
		return 1;
	}
	printf("%-7s %-40s %-8s %8s  %s\n", "KIND", "NAME", "STATE", "VERSION", "OWNER");
	for (size_t i = 0; i < n; i++)
		printf("%-7s %-40s %-8s %8lld  %s\n", e[i].kind, e[i].name, e[i].state,
		       (long long)e[i].latest_version, e[i].owner ? e[i].owner : "-");
	local_store_entries_free(e, n);
	return 0;
}
