/* cmd_sync.c — `smc sync` and `smc diff`: run smcd in one-shot mode (the real process
 * tree) and print its RESULT, as text or as the JSON object of `-o json`. */
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
#include "common/str.h"

extern char **environ;

#define RESULT_MAX (64u << 20) /* largest RESULT line accepted from smcd */

/* smcd next to this binary, or in $SMC_LIBEXEC_DIR. */
static int find_smcd(char *out, size_t size)
{
	const char *dir = getenv("SMC_LIBEXEC_DIR");
	char self[PATH_MAX];
	ssize_t n;

	if (dir != NULL && *dir != '\0')
		return str_fmt(out, size, "%s/smcd", dir);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	return str_fmt(out, size, "%s/smcd", self);
}

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

static int read_all(int fd, char **out)
{
	size_t len = 0, cap = 4096;
	char *b = malloc(cap);
	ssize_t n;

	if (b == NULL)
		return -1;
	while ((n = read(fd, b + len, cap - len - 1)) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		len += (size_t)n;
		if (len + 1 == cap) {
			char *nb;

			if (cap >= RESULT_MAX || (nb = realloc(b, cap * 2)) == NULL) {
				free(b);
				return -1;
			}
			b = nb;
			cap *= 2;
		}
	}
	b[len] = '\0';
	*out = b;
	return 0;
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
	const char *args[16];
	char smcd[PATH_MAX], *text = NULL;
	posix_spawn_file_actions_t fa;
	json_t *res = NULL;
	json_error_t jerr;
	int ch, pipefd[2], status, n = 0, verbose = 0, code = 1;
	pid_t pid;

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
	if (find_smcd(smcd, sizeof(smcd)) != 0) {
		cli_error("cannot find smcd");
		return 2;
	}
	args[n++] = smcd;
	args[n++] = "--once";
	args[n++] = "-f";
	args[n++] = config;
	args[n++] = "--result-fd";
	args[n++] = "3";
	if (dry_run)
		args[n++] = "--dry-run";
	if (store) {
		args[n++] = "--store";
		args[n++] = store;
	}
	if (keys) {
		args[n++] = "--keys";
		args[n++] = keys;
	}
	args[n] = NULL;
	if (getenv("SMC_LOG_LEVEL") == NULL)
		setenv("SMC_LOG_LEVEL", verbose ? "info" : "warn", 1);
	if (pipe(pipefd) != 0) {
		cli_error("pipe: %s", strerror(errno));
		return 1;
	}
	posix_spawn_file_actions_init(&fa);
	/* close the read end first: it may itself be descriptor 3 */
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 3);
	if (posix_spawn(&pid, smcd, &fa, NULL, (char *const *)args, environ) != 0) {
		cli_error("cannot start %s: %s", smcd, strerror(errno));
		posix_spawn_file_actions_destroy(&fa);
		return 1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (read_all(pipefd[0], &text) != 0)
		text = NULL;
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (text == NULL || text[0] == '\0') {
		cli_error("smcd ended without a result (%s)",
			  WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "no output");
		goto out;
	}
	res = json_loads(text, 0, &jerr);
	if (res == NULL) {
		cli_error("smcd printed an unreadable result");
		goto out;
	}
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
	code = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
out:
	json_decref(res);
	free(text);
	return code;
}
