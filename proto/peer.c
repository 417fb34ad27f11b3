/* peer.c — handshake, checked receive and LOG forwarding for children. */
#include "proto/peer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"

enum msg_role peer_role_from_name(const char *name)
{
	static const enum msg_role roles[] = {ROLE_SUPERVISOR, ROLE_WATCHER, ROLE_FETCHER,
					      ROLE_DECRYPTOR, ROLE_SYNCER};

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (strcmp(msg_role_name(roles[i]), name) == 0)
			return roles[i];
	}
	return 0;
}

int peer_handshake(const struct peer *p, enum msg_role me, struct err_ctx *err)
{
	struct msg out, in;
	int rc;

	msg_init(&out, MSG_HELLO);
	out.u.hello.version = PROTO_VERSION;
	out.u.hello.role = (char *)msg_role_name(me);
	rc = msg_send(p->fd, &out);
	if (rc != 0)
		return err_set(err, rc, "hello to %s: %s", msg_role_name(p->role), err_str(rc));
	if ((rc = msg_recv(p->fd, MSG_CAP_CONTROL, &in, err)) != 0)
		return err_wrap(err, rc, "hello from %s", msg_role_name(p->role));
	if (in.type != MSG_HELLO) {
		rc = err_set(err, ERR_PROTO, "expected HELLO from %s, got %s",
			     msg_role_name(p->role), msg_type_name(in.type));
	} else if (in.u.hello.version != PROTO_VERSION) {
		rc = err_set(err, ERR_PROTO, "%s speaks protocol %u, this is %u",
			     msg_role_name(p->role), in.u.hello.version, PROTO_VERSION);
	} else if (peer_role_from_name(in.u.hello.role) != p->role) {
		rc = err_set(err, ERR_PROTO, "expected %s on this socket, peer says %s",
			     msg_role_name(p->role), in.u.hello.role);
	}
	msg_free(&in);
	return rc;
}

int peer_recv(const struct peer *p, enum msg_role me, struct msg *out, struct err_ctx *err)
{
	int rc = msg_recv(p->fd, p->cap, out, err);

	if (rc != 0)
		return rc;
	if (!msg_allowed(out->type, p->role, me)) {
		rc = err_set(err, ERR_PROTO, "%s may not be sent by %s to %s",
			     msg_type_name(out->type), msg_role_name(p->role), msg_role_name(me));
		msg_free(out);
		return rc;
	}
	return 0;
}

static void send_log_line(enum log_level level, const char *line, void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct msg m;

	msg_init(&m, MSG_LOG);
	m.u.log.level = (uint32_t)level;
	m.u.log.line = (char *)line;
	if (msg_send(fd, &m) != 0) {
		/* the supervisor is gone: stderr is the last resort */
		ssize_t w = write(STDERR_FILENO, line, strlen(line));
		w = write(STDERR_FILENO, "\n", 1);
		(void)w;
	}
}

void peer_log_to(int supervisor_fd)
{
	log_set_sink(send_log_line, (void *)(intptr_t)supervisor_fd);
}

/* EDGE: installs the passed socket on the fixed descriptor of the named peer and shakes
 * hands with the restarted process at its other end. */
static int take_edge(const struct peer *peers, size_t n, bool *active, enum msg_role me,
		     struct msg *m, struct err_ctx *err)
{
	enum msg_role role = peer_role_from_name(m->u.edge.peer);

	for (size_t i = 1; i < n; i++) {
		if (peers[i].role != role)
			continue;
		if (m->fd == peers[i].fd) {
			m->fd = -1; /* it landed on its fixed number already: keep it */
		} else if (dup3(m->fd, peers[i].fd, O_CLOEXEC) < 0) {
			return err_set(err, ERR_IO, "installing the edge to %s: %s",
				       m->u.edge.peer, strerror(errno));
		}
		if (peer_handshake(&peers[i], me, err) != 0) {
			/* the new process died already: wait for the next EDGE */
			log_debug("peer.lost", "%s", err->msg);
			close(peers[i].fd);
			return 0;
		}
		active[i] = true;
		return 0;
	}
	return err_set(err, ERR_PROTO, "EDGE for \"%s\", which is not a peer of %s",
		       m->u.edge.peer, msg_role_name(me));
}

/* The tap of a child: which socket leads to whom, to name the edge of each message. */
static struct {
	const struct peer *peers;
	size_t n;
	enum msg_role me;
} peer_tap;

static void peer_tap_send(int sock, const struct msg *m, int sent, void *arg)
{
	const char *other = "?";
	char edge[64];
	struct msg t;
	char *json = NULL;

	(void)arg;
	for (size_t i = 0; i < peer_tap.n; i++) {
		if (peer_tap.peers[i].fd == sock)
			other = msg_role_name(peer_tap.peers[i].role);
	}
	if (msg_to_tap_json(m, &json) != 0)
		return;
	snprintf(edge, sizeof(edge), "%s-%s", msg_role_name(peer_tap.me), other);
	msg_init(&t, MSG_TAP);
	t.u.tap.edge = edge;
	t.u.tap.direction = (char *)(sent ? "send" : "recv");
	t.u.tap.json = json;
	(void)msg_send(peer_tap.peers[0].fd, &t); /* never tapped itself (TAP) */
	free(json);
}

int peer_serve_one(const struct peer *peers, size_t n, bool *active, size_t i,
		   enum msg_role me, peer_handler_fn fn, void *arg, struct err_ctx *err)
{
	struct msg m;
	int rc;

	peer_tap.peers = peers;
	peer_tap.n = n;
	peer_tap.me = me;
	rc = peer_recv(&peers[i], me, &m, err);
	if (rc == 0 && m.type == MSG_TAP_ATTACH)
		msg_set_tap(m.u.tap_attach.enable ? peer_tap_send : NULL, NULL);

	if (rc == ERR_EOF && i > 0) {
		/* a pipeline peer died: wait for the supervisor's EDGE */
		log_debug("peer.lost", "%s closed its socket", msg_role_name(peers[i].role));
		close(peers[i].fd);
		active[i] = false;
		return 0;
	}
	if (rc == ERR_EOF)
		return err_set(err, ERR_EOF, "the supervisor closed its socket");
	if (rc != 0)
		return err_wrap(err, rc, "from %s", msg_role_name(peers[i].role));
	if (m.type == MSG_SHUTDOWN) {
		msg_free(&m);
		return 1;
	}
	if (m.type == MSG_EDGE && (rc = take_edge(peers, n, active, me, &m, err)) != 0) {
		msg_free(&m);
		return rc;
	}
	rc = fn(arg, &peers[i], &m, err);
	msg_free(&m);
	return rc;
}

int peer_serve(const struct peer *peers, size_t n, enum msg_role me, peer_handler_fn fn,
	       void *arg, struct err_ctx *err)
{
	struct pollfd pfd[8];
	bool active[8];

	if (n > sizeof(pfd) / sizeof(pfd[0]) || n == 0 || peers[0].role != ROLE_SUPERVISOR)
		return ERR_INVAL;
	for (size_t i = 0; i < n; i++)
		active[i] = true;
	for (;;) {
		int rc;

		for (size_t i = 0; i < n; i++) {
			pfd[i].fd = active[i] ? peers[i].fd : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		rc = poll(pfd, n, -1);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return err_set(err, ERR_IO, "poll: %s", strerror(errno));
		}
		for (size_t i = 0; i < n; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			rc = peer_serve_one(peers, n, active, i, me, fn, arg, err);
			if (rc == 1)
				return 0;
			if (rc != 0)
				return rc;
		}
	}
}

int peer_send_failure(int fd, const struct job *job, const char *revision, const char *stage,
		      int code, const char *reason)
{
	struct msg m;

	msg_init(&m, MSG_RESULT);
	m.u.result.job_id = job ? job->id : 0;
	m.u.result.ns = job ? job->config.ns : (char *)"";
	m.u.result.name = job ? job->config.name : (char *)"";
	m.u.result.code = code == 0 ? ERR_INVAL : code;
	m.u.result.stage = (char *)stage;
	m.u.result.reason = (char *)reason;
	m.u.result.revision = (char *)(revision ? revision : "");
	return msg_send(fd, &m);
}
