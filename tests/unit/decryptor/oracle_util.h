/* oracle_util.h — what the differential tests against a real implementation share
 * (test_oracle_env.c against kustomize, test_oracle_properties.c against a JVM): finding
 * the tool, running it with its output in files, and the "<case>:<line>:" form every
 * refusal message of smc must have. */
#ifndef SMC_TEST_ORACLE_UTIL_H
#define SMC_TEST_ORACLE_UTIL_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_files.h"

/* 1 when an executable tool is found on $PATH. */
static inline int in_path(const char *tool)
{
	const char *path = getenv("PATH");
	char buf[4096];

	while (path != NULL && *path != '\0') {
		const char *e = strchr(path, ':');
		size_t len = e ? (size_t)(e - path) : strlen(path);

		if (snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, tool) <
			(int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return 1;
		path = e ? e + 1 : NULL;
	}
	return 0;
}

/* Runs argv with stdout to out_path and stderr to err_path; returns the exit status. */
static inline int run(char *const argv[], const char *out_path, const char *err_path)
{
	pid_t pid = fork();
	int st;

	cr_assert_neq(pid, -1);
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* 1 when msg starts with "<name>:" and a line number. */
static inline int oracle_names_line(const char *name, const char *msg)
{
	char want[300];
	size_t n;

	snprintf(want, sizeof(want), "%s:", name);
	n = strlen(want);
	return strncmp(msg, want, n) == 0 && msg[n] >= '1' && msg[n] <= '9';
}

#endif
