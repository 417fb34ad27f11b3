/* run_smcd.c — spawn smcd --once and read its RESULT line. */
#include "cli/run_smcd.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/str.h"

extern char **environ;

/* smcd next to this binary, or in $SMC_LIBEXEC_DIR. */
static int find_smcd(char *out, size_t size)
{
	const char *dir = getenv("SMC_LIBEXEC_DIR");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (dir != NULL && *dir != '\0')
		return str_fmt(out, size, "%s/smcd", dir);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return -1;
	*slash = '\0';
	return str_fmt(out, size, "%s/smcd", self);
}

/* The whole of fd, NUL-terminated, at most RUN_SMCD_RESULT_MAX bytes. Owned, or NULL. */
static char *read_all(int fd)
{
	size_t len = 0, cap = 4096;
	char *b = malloc(cap), *nb;
	ssize_t n;

	if (b == NULL)
		return NULL;
	for (;;) {
		n = read(fd, b + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len + 1 == cap) {
			if (cap >= RUN_SMCD_RESULT_MAX || (nb = realloc(b, cap * 2)) == NULL) {
				free(b);
				return NULL;
			}
			b = nb;
			cap *= 2;
		}
	}
	b[len] = '\0';
	return b;
}

int run_smcd_once(const char *config, const char *store, const char *keys, int dry_run,
		  json_t **result, int *exit_ok)
{
	const char *args[16];
	char smcd[PATH_MAX], *text;
	posix_spawn_file_actions_t fa;
	json_error_t jerr;
	int pipefd[2], status = 0, n = 0;
	pid_t pid;

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
		close(pipefd[0]);
		close(pipefd[1]);
		return 1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	text = read_all(pipefd[0]);
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (text == NULL || text[0] == '\0') {
		cli_error("smcd ended without a result (%s)",
			  WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "no output");
		free(text);
		return 1;
	}
	*result = json_loads(text, 0, &jerr);
	free(text);
	if (*result == NULL) {
		cli_error("smcd printed an unreadable result");
		return 1;
	}
	*exit_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	return 0;
}
