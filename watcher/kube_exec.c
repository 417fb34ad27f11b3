/* kube_exec.c — exec credential plugins, directly or through a pre-sandbox helper. */
#include "watcher/kube_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "common/str.h"

#define KUBE_EXEC_MAX_ENV 512 /* environment entries given to the plugin */

extern char **environ;

int kube_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	if (s == NULL)
		return ERR_INVAL;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL)
		return ERR_INVAL;
	if (*end == '.') {
		end++;
		while (*end >= '0' && *end <= '9')
			end++;
	}
	if (strcmp(end, "Z") != 0)
		return ERR_INVAL;
	*out = timegm(&tm);
	return 0;
}

int kube_exec_parse(const char *json, size_t n, struct secbuf **token, time_t *expiry,
		    struct err_ctx *err)
{
	json_t *doc = json_loadb(json, n, 0, NULL);
	const json_t *st, *tok, *exp;
	struct secbuf *t = NULL;
	time_t e = 0;
	int rc;

	if (doc == NULL)
		return err_set(err, ERR_PROTO, "exec plugin: output is not JSON");
	st = json_object_get(doc, "status");
	tok = json_object_get(st, "token");
	exp = json_object_get(st, "expirationTimestamp");
	if (!json_is_string(tok) || json_string_length(tok) == 0) {
		rc = err_set(err, ERR_UNSUPPORTED,
			     "exec plugin: ExecCredential without status.token (client "
			     "certificates from plugins are not supported)");
		goto out;
	}
	if (json_is_string(exp) && kube_parse_time(json_string_value(exp), &e) != 0) {
		rc = err_set(err, ERR_PROTO, "exec plugin: bad status.expirationTimestamp");
		goto out;
	}
	if ((rc = secbuf_from(&t, json_string_value(tok), json_string_length(tok))) != 0)
		goto out;
	*token = t;
	*expiry = e;
out:
	json_decref(doc); /* jansson has no wiping free: the token text is released as is */
	return rc;
}

int kube_exec_run(const struct kube_exec_spec *spec, struct secbuf **token, time_t *expiry,
		  struct err_ctx *err)
{
	const char *envp[KUBE_EXEC_MAX_ENV + KUBE_MAX_EXEC_ARGS + 2];
	char info[512];
	struct secbuf *out = NULL;
	size_t ne = 0;
	time_t deadline;
	int pfd[2], status = 0, rc;
	pid_t pid;

	if (spec == NULL || spec->command == NULL)
		return err_set(err, ERR_INVAL, "exec plugin: no command");
	if (str_fmt(info, sizeof(info),
		    "KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
		    "\"spec\":{\"interactive\":false}}",
		    spec->api_version ? spec->api_version : "client.authentication.k8s.io/v1") != 0)
		return err_set(err, ERR_INVAL, "exec plugin: apiVersion too long");
	for (char **e = environ; *e != NULL && ne < KUBE_EXEC_MAX_ENV; e++)
		envp[ne++] = *e;
	for (size_t i = 0; spec->env[i] != NULL; i++)
		envp[ne++] = spec->env[i];
	envp[ne++] = info;
	envp[ne] = NULL;
	if ((rc = secbuf_new(&out, KUBE_EXEC_MAX_OUTPUT)) != 0)
		return rc;
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		secbuf_free(out);
		return err_set(err, ERR_IO, "exec plugin: pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		secbuf_free(out);
		return err_set(err, ERR_IO, "exec plugin: fork: %s", strerror(errno));
	}
	if (pid == 0) {
		if (dup2(pfd[1], STDOUT_FILENO) < 0)
			_exit(127);
		execvpe(spec->command, spec->args, (char *const *)envp);
		_exit(127);
	}
	close(pfd[1]);
	deadline = time(NULL) + KUBE_EXEC_TIMEOUT_S;
	rc = 0;
	for (;;) {
		struct pollfd p = {pfd[0], POLLIN, 0};
		uint8_t tmp[4096];
		ssize_t got;
		int left = (int)(deadline - time(NULL));

		if (left <= 0) {
			rc = err_set(err, ERR_TIMEOUT, "exec plugin %s: no answer in %d s",
				     spec->command, KUBE_EXEC_TIMEOUT_S);
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, left * 1000) < 0 && errno != EINTR) {
			rc = err_set(err, ERR_IO, "exec plugin: poll: %s", strerror(errno));
			kill(pid, SIGKILL);
			break;
		}
		got = read(pfd[0], tmp, sizeof(tmp));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		rc = secbuf_put(out, tmp, (size_t)got);
		explicit_bzero(tmp, sizeof(tmp));
		if (rc != 0) {
			rc = err_set(err, ERR_TOOBIG, "exec plugin %s: output too large",
				     spec->command);
			kill(pid, SIGKILL);
			break;
		}
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		rc = err_set(err, ERR_REMOTE, "exec plugin %s failed (status %d)", spec->command,
			     WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	if (rc == 0)
		rc = kube_exec_parse((const char *)out->data, out->len, token, expiry, err);
	secbuf_free(out);
	return rc;
}

/* Helper protocol: the watcher writes one byte; the helper answers
 *   int32 code | int64 expiry | uint32 length | token bytes   (code < 0: length bytes of
 * error text instead). */
struct helper_head {
	int32_t code;
	int64_t expiry;
	uint32_t len;
};

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ERR_IO;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t r = read(fd, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? ERR_EOF : ERR_IO;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static void helper_loop(const struct kube_exec_spec *spec, int sock)
{
	uint8_t req;

	while (read_all(sock, &req, 1) == 0) {
		struct err_ctx err = {{0}};
		struct secbuf *tok = NULL;
		struct helper_head h = {0, 0, 0};
		time_t exp = 0;
		int rc = kube_exec_run(spec, &tok, &exp, &err);

		h.code = rc;
		if (rc == 0) {
			h.expiry = exp;
			h.len = (uint32_t)tok->len;
			if (write_all(sock, &h, sizeof(h)) != 0 || write_all(sock, tok->data, tok->len) != 0) {
				secbuf_free(tok);
				break;
			}
			secbuf_free(tok);
		} else {
			h.len = (uint32_t)strlen(err.msg);
			if (write_all(sock, &h, sizeof(h)) != 0 || write_all(sock, err.msg, h.len) != 0)
				break;
		}
	}
}

int kube_exec_helper_start(const struct kube_exec_spec *spec, int *fd, pid_t *pid,
			   struct err_ctx *err)
{
	int sv[2];
	pid_t p;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return err_set(err, ERR_IO, "exec helper: socketpair: %s", strerror(errno));
	p = fork();
	if (p < 0) {
		close(sv[0]);
		close(sv[1]);
		return err_set(err, ERR_IO, "exec helper: fork: %s", strerror(errno));
	}
	if (p == 0) {
		/* keep stdio and our socket only: no pipeline sockets in the helper */
		long maxfd = sysconf(_SC_OPEN_MAX);

		for (int i = 3; i < (maxfd > 0 && maxfd < 65536 ? maxfd : 1024); i++) {
			if (i != sv[1])
				close(i);
		}
		signal(SIGPIPE, SIG_IGN);
		helper_loop(spec, sv[1]);
		_exit(0);
	}
	close(sv[1]);
	*fd = sv[0];
	*pid = p;
	return 0;
}

int kube_exec_helper_token(void *arg, const struct kube_exec_spec *spec, struct secbuf **token,
			   time_t *expiry, struct err_ctx *err)
{
	int fd = *(int *)arg;
	struct helper_head h;
	struct secbuf *t = NULL;
	uint8_t req = 1;
	int rc;

	(void)spec;
	if (write_all(fd, &req, 1) != 0 || read_all(fd, &h, sizeof(h)) != 0)
		return err_set(err, ERR_IO, "exec helper is gone");
	if (h.len > KUBE_MAX_TOKEN)
		return err_set(err, ERR_PROTO, "exec helper: answer too long");
	if (h.code != 0) {
		char msg[sizeof(err->msg)];

		if (h.len >= sizeof(msg))
			return err_set(err, ERR_PROTO, "exec helper: answer too long");
		if (read_all(fd, msg, h.len) != 0)
			return err_set(err, ERR_IO, "exec helper is gone");
		msg[h.len] = '\0';
		return err_set(err, h.code < 0 ? h.code : ERR_REMOTE, "%s", msg);
	}
	if ((rc = secbuf_new(&t, KUBE_MAX_TOKEN)) != 0)
		return rc;
	{
		uint8_t tmp[1024];
		uint32_t left = h.len;

		while (left > 0 && rc == 0) {
			size_t k = left < sizeof(tmp) ? left : sizeof(tmp);

			if ((rc = read_all(fd, tmp, k)) == 0)
				rc = secbuf_put(t, tmp, k);
			left -= (uint32_t)k;
		}
		explicit_bzero(tmp, sizeof(tmp));
	}
	if (rc != 0) {
		secbuf_free(t);
		return err_set(err, ERR_IO, "exec helper: short answer");
	}
	*token = t;
	*expiry = (time_t)h.expiry;
	return 0;
}
