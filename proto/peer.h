/* peer.h — what every child does with its sockets: the HELLO version handshake, sending
 * its log lines to the supervisor as LOG messages, and receiving one message while
 * enforcing msg.def's sender/receiver table. */
#ifndef SMC_PEER_H
#define SMC_PEER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "proto/msg.h"

/* One socket of this process and the role at its other end. */
struct peer {
	int fd;
	enum msg_role role;     /* the remote side */
	size_t cap;             /* frame cap on this edge */
};

/* Sends HELLO{PROTO_VERSION, my role} and waits for the peer's HELLO, checking version and
 * role. ERR_PROTO on a mismatch (err names both versions or roles). */
int peer_handshake(const struct peer *p, enum msg_role me, struct err_ctx *err);

/* Receives one message from p and checks msg_allowed(type, p->role, me). ERR_PROTO (with
 * err naming the message and edge) for a message that may not travel this edge. */
int peer_recv(const struct peer *p, enum msg_role me, struct msg *out, struct err_ctx *err);

/* Installs a log sink that sends each line to the supervisor socket as a LOG message. */
void peer_log_to(int supervisor_fd);

/* "watcher" → ROLE_WATCHER, ...; 0 for an unknown name. */
enum msg_role peer_role_from_name(const char *name);



/* A child's main loop: waits on all its peers (peers[0] must be the supervisor), receives
 * each message with peer_recv and hands it to fn(arg, peer, msg) (fn owns nothing: the
 * message is freed after it returns). A pipeline peer that closes its socket is set aside
 * until the supervisor sends EDGE with a fresh socket to its restarted process; that
 * socket is installed on the peer's fixed descriptor and handshaken before fn sees the
 * EDGE. SHUTDOWN from the supervisor returns 0; the supervisor closing returns ERR_EOF; a
 * protocol violation, or fn returning < 0, returns that error with err set — the caller
 * logs once and exits, and the supervisor restarts it (STYLE.md rule 7). */
typedef int (*peer_handler_fn)(void *arg, const struct peer *from, struct msg *m,
			       struct err_ctx *err);
int peer_serve(const struct peer *peers, size_t n, enum msg_role me, peer_handler_fn fn,
	       void *arg, struct err_ctx *err);

/* One step of peer_serve for a caller with its own loop (the watcher in cluster mode):
 * receives one message from peers[i] (readable) and handles it as peer_serve does,
 * keeping active[] (n entries) up to date. 1 on SHUTDOWN, 0 when handled, < 0 on error. */
int peer_serve_one(const struct peer *peers, size_t n, bool *active, size_t i,
		   enum msg_role me, peer_handler_fn fn, void *arg, struct err_ctx *err);

/* Sends a RESULT that reports a failure of `stage` for job: code, one-line reason. */
int peer_send_failure(int fd, const struct job *job, const char *revision, const char *stage,
		      int code, const char *reason);
#endif
