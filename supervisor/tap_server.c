/* tap_server.c — Unix socket of `smc tap`. */
#include "supervisor/tap_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/str.h"

struct tap_server {
	int listen_fd;
	int clients[TAP_SERVER_MAX_CLIENTS];
	size_t nclients;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

int tap_server_open(const char *path, struct tap_server **out, struct err_ctx *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct tap_server *t;
	mode_t old;
	int fd;

	if (str_copy(sa.sun_path, sizeof(sa.sun_path), path) != 0)
		return err_set(err, ERR_TOOBIG, "--tap-socket %s: path too long", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(err, ERR_IO, "tap socket: %s", strerror(errno));
	(void)unlink(path);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4) != 0) {
		umask(old);
		close(fd);
		return err_set(err, ERR_IO, "--tap-socket %s: %s", path, strerror(errno));
	}
	umask(old);
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		close(fd);
		(void)unlink(path);
		return ERR_NOMEM;
	}
	t->listen_fd = fd;
	(void)str_copy(t->path, sizeof(t->path), path);
	*out = t;
	return 0;
}

size_t tap_server_pollfds(const struct tap_server *t, struct pollfd *pfd, size_t max)
{
	size_t n = 0;

	if (t == NULL || max == 0)
		return 0;
	pfd[n].fd = t->listen_fd;
	pfd[n++].events = POLLIN;
	for (size_t i = 0; i < t->nclients && n < max; i++) {
		pfd[n].fd = t->clients[i];
		pfd[n++].events = POLLIN; /* only to notice a hang-up: clients send nothing */
	}
	return n;
}

static void drop(struct tap_server *t, size_t i)
{
	close(t->clients[i]);
	t->clients[i] = t->clients[--t->nclients];
}

bool tap_server_handle(struct tap_server *t, const struct pollfd *pfd, size_t n)
{
	bool was = tap_server_active(t);

	if (t == NULL)
		return false;
	for (size_t k = 1; k < n; k++) {
		if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		for (size_t i = 0; i < t->nclients; i++) {
			if (t->clients[i] == pfd[k].fd) {
				drop(t, i);
				break;
			}
		}
	}
	if (n > 0 && (pfd[0].revents & POLLIN)) {
		int c = accept4(t->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (c >= 0 && t->nclients < TAP_SERVER_MAX_CLIENTS)
			t->clients[t->nclients++] = c;
		else if (c >= 0)
			close(c);
	}
	return was != tap_server_active(t);
}

bool tap_server_active(const struct tap_server *t)
{
	return t != NULL && t->nclients > 0;
}

void tap_server_broadcast(struct tap_server *t, const char *line)
{
	size_t len = strlen(line);

	if (t == NULL || len > TAP_SERVER_MAX_LINE)
		return;
	for (size_t i = 0; i < t->nclients;) {
		ssize_t a = send(t->clients[i], line, len, MSG_NOSIGNAL);
		ssize_t b = a == (ssize_t)len ? send(t->clients[i], "\n", 1, MSG_NOSIGNAL) : -1;

		if (b != 1)
			drop(t, i); /* too slow or gone: a tap never slows the pipeline */
		else
			i++;
	}
}

void tap_server_close(struct tap_server *t)
{
	if (t == NULL)
		return;
	while (t->nclients > 0)
		drop(t, 0);
	close(t->listen_fd);
	(void)unlink(t->path);
	free(t);
}
