/* tap_server.h — the supervisor's tap socket (`smc tap`): a Unix stream socket where an
 * operator reads the pipeline's traffic as JSON lines, one per message, every secret field
 * already replaced by its length by the child that saw it (proto/tap.c). While at least one
 * client is connected the children are told to mirror (TAP_ATTACH). */
#ifndef SMC_TAP_SERVER_H
#define SMC_TAP_SERVER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define TAP_SERVER_MAX_CLIENTS 8
#define TAP_SERVER_MAX_LINE ((size_t)1 << 20)

struct tap_server;

/* Listens on path (created 0600; an existing socket file is replaced). Owned *out. */
int tap_server_open(const char *path, struct tap_server **out, struct err_ctx *err);
/* Fills up to max pollfds (listener + clients); returns how many. */
size_t tap_server_pollfds(const struct tap_server *t, struct pollfd *pfd, size_t max);
/* Handles the pollfds filled by tap_server_pollfds: accepts and drops clients. Returns
 * true when the tap went from idle to watched or back (the caller tells the children). */
bool tap_server_handle(struct tap_server *t, const struct pollfd *pfd, size_t n);
/* true while a client is connected. */
bool tap_server_active(const struct tap_server *t);
/* Sends one line (a newline is added) to every client; a client that cannot take it
 * without blocking is dropped. */
void tap_server_broadcast(struct tap_server *t, const char *line);
/* Closes the clients and the listener and removes the socket file. NULL is a no-op. */
void tap_server_close(struct tap_server *t);

#endif
