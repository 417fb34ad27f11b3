/* proctab.c — socketpairs, fork + re-exec of each role binary, handshake, stop. */
#include "supervisor/proctab.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/str.h"
#include "proto/peer.h"

extern char **environ;

/* One pipeline edge: which two roles and on which fixed descriptor each finds it. */
struct edge {
	enum msg_role a;
	int fd_a;
	enum msg_role b;
	int fd_b;
};

static const struct edge edges[] = {
	{ROLE_WATCHER, FD_WATCHER_FETCHER, ROLE_FETCHER, FD_FETCHER_WATCHER},
	{ROLE_WATCHER, FD_WATCHER_SYNCER, ROLE_SYNCER, FD_SYNCER_WATCHER},
	{ROLE_WATCHER, FD_WATCHER_DECRYPTOR, ROLE_DECRYPTOR, FD_DECRYPTOR_WATCHER},
	{ROLE_FETCHER, FD_FETCHER_DECRYPTOR, ROLE_DECRYPTOR, FD_DECRYPTOR_FETCHER},
	{ROLE_DECRYPTOR, FD_DECRYPTOR_SYNCER, ROLE_SYNCER, FD_SYNCER_DECRYPTOR},
};

static const struct {
	enum msg_role role;
	const char *name;
} roles[PROCTAB_NCHILD] = {
	{ROLE_WATCHER, "watcher"},
	{ROLE_FETCHER, "fetcher"},
	{ROLE_DECRYPTOR, "decryptor"},
	{ROLE_SYNCER, "syncer"},
};

int proctab_init(struct proctab *pt, struct err_ctx *err)
{
	const char *dir = getenv("SMC_LIBEXEC_DIR");
	char self[PATH_MAX];
	ssize_t n;

	memset(pt, 0, sizeof(*pt));
	if (dir != NULL && *dir != '\0') {
		if (str_copy(pt->bindir, sizeof(pt->bindir), dir) != 0)
			return err_set(err, ERR_TOOBIG, "SMC_LIBEXEC_DIR too long");
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return err_set(err, ERR_IO, "cannot find own binary: %s", strerror(errno));
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		if (str_copy(pt->bindir, sizeof(pt->bindir), self) != 0)
			return err_set(err, ERR_TOOBIG, "binary path too long");
	}
	for (size_t i = 0; i < PROCTAB_NCHILD; i++) {
		struct child *c = &pt->children[i];

		c->role = roles[i].role;
		c->name = roles[i].name;
		c->ctl = -1;
		c->backoff_ms = PROCTAB_BACKOFF_MIN_MS;
		for (size_t k = 0; k <= FD_CHILD_MAX; k++)
			c->fds[k] = -1;
		if (str_fmt(c->bin, sizeof(c->bin), "%s/smc-%s", pt->bindir, c->name) != 0)
			return err_set(err, ERR_TOOBIG, "binary path too long");
		if (access(c->bin, X_OK) != 0)
			return err_set(err, ERR_NOTFOUND, "%s: %s", c->bin, strerror(errno));
	}
	return 0;
}

struct child *proctab_child(struct proctab *pt, enum msg_role role)
{
	for (size_t i = 0; i < PROCTAB_NCHILD; i++) {
		if (pt->children[i].role == role)
			return &pt->children[i];
	}
	return NULL;
}

struct child *proctab_by_pid(struct proctab *pt, pid_t pid)
{
	for (size_t i = 0; i < PROCTAB_NCHILD; i++) {
		if (pt->children[i].pid == pid && pid > 0)
			return &pt->children[i];
	}
	return NULL;
}

int proctab_add_arg(struct proctab *pt, enum msg_role role, const char *arg)
{
	struct child *c = proctab_child(pt, role);

	if (c == NULL || c->nargs + 1 >= PROCTAB_MAX_ARGS)
		return ERR_TOOBIG;
	c->args[c->nargs++] = arg;
	c->args[c->nargs] = NULL;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int make_pair(int sv[2], struct err_ctx *err)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return err_set(err, ERR_IO, "socketpair: %s", strerror(errno));
	return 0;
}

/* Gives the living peer `to` its end of a fresh edge to the restarted child `from`. */
static int send_edge(struct child *to, const struct child *from, int fd)
{
	struct msg m;

	msg_init(&m, MSG_EDGE);
	m.u.edge.peer = (char *)from->name;
	m.fd = fd;
	return msg_send(to->ctl, &m);
}

/* Creates the sockets of a (re)started child c: its control pair and one pair per
 * pipeline edge it is on. The peer's end goes to the peer at once (EDGE) when the peer is
 * running, or waits in the peer's fds[] for its own start. */
static int make_sockets(struct proctab *pt, struct child *c, struct err_ctx *err)
{
	int sv[2], rc;

	close_fd(&c->ctl);
	close_fd(&c->fds[FD_SUPERVISOR]);
	if ((rc = make_pair(sv, err)) != 0)
		return rc;
	c->ctl = sv[0];
	c->fds[FD_SUPERVISOR] = sv[1];
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		const struct edge *e = &edges[i];
		int mine = e->a == c->role ? e->fd_a : e->fd_b;
		int theirs = e->a == c->role ? e->fd_b : e->fd_a;
		struct child *peer;

		if (e->a != c->role && e->b != c->role)
			continue;
		peer = proctab_child(pt, e->a == c->role ? e->b : e->a);
		close_fd(&c->fds[mine]);
		if ((rc = make_pair(sv, err)) != 0)
			return rc;
		c->fds[mine] = sv[0];
		if (peer->pid > 0 && peer->ctl >= 0 && peer->ready) {
			if (send_edge(peer, c, sv[1]) != 0)
				log_warn("child.edge", "%s did not take its edge to %s", peer->name,
					 c->name);
			close(sv[1]);
		} else {
			close_fd(&peer->fds[theirs]);
			peer->fds[theirs] = sv[1];
		}
	}
	return 0;
}

/* Environment variables each role may inherit (prefix match). Everything else is
 * dropped at exec: cloud credentials in the environment reach the syncer alone, the
 * kubeconfig the watcher alone, and the decryptor gets nothing beyond the basics. */
static const char *const env_common[] = {"PATH=", "TZ=", "LANG=", "LC_", "TMPDIR=",
					 "SMC_LOG_", NULL};
static const char *const env_watcher[] = {"KUBECONFIG=", "KUBERNETES_", "POD_", "HOME=",
					  "SSL_CERT_", NULL};
static const char *const env_fetcher[] = {"http_proxy=", "https_proxy=", "no_proxy=",
					  "HTTP_PROXY=", "HTTPS_PROXY=", "NO_PROXY=",
					  "SSL_CERT_", NULL};
static const char *const env_syncer[] = {"AWS_", "GOOGLE_", "CLOUDSDK_", "AZURE_",
					 "GCE_METADATA_", "IDENTITY_", "MSI_", "http_proxy=", "https_proxy=",
					 "no_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=", "NO_PROXY=",
					 "SSL_CERT_", NULL};

static int env_allowed(enum msg_role role, const char *kv)
{
	const char *const *lists[2] = {env_common, NULL};

	switch (role) {
	case ROLE_WATCHER: lists[1] = env_watcher; break;
	case ROLE_FETCHER: lists[1] = env_fetcher; break;
	case ROLE_SYNCER: lists[1] = env_syncer; break;
	default: break;
	}
	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; lists[l] != NULL && lists[l][i] != NULL; i++) {
			if (strncmp(kv, lists[l][i], strlen(lists[l][i])) == 0)
				return 1;
		}
	}
	return 0;
}

static void exec_child(struct child *c, const char *log_level)
{
	static const char *envp[PROCTAB_MAX_ENV + 1];
	size_t ne = 0;
	const char *argv[PROCTAB_MAX_ARGS + 4];
	int tmp[FD_CHILD_MAX + 1];
	size_t n = 0;

	/* Move every source above the fixed range first, so dup2 never clobbers one. */
	for (int k = 0; k <= FD_CHILD_MAX; k++) {
		tmp[k] = -1;
		if (c->fds[k] >= 0)
			tmp[k] = fcntl(c->fds[k], F_DUPFD_CLOEXEC, 64);
	}
	for (int k = 0; k <= FD_CHILD_MAX; k++) {
		if (tmp[k] >= 0 && dup2(tmp[k], k) < 0)
			_exit(127);
	}
	argv[n++] = c->bin;
	argv[n++] = "--log-level";
	argv[n++] = log_level;
	for (size_t i = 0; i < c->nargs; i++)
		argv[n++] = c->args[i];
	argv[n] = NULL;
	for (char **e = environ; *e != NULL && ne < PROCTAB_MAX_ENV; e++) {
		if (env_allowed(c->role, *e))
			envp[ne++] = *e;
	}
	envp[ne] = NULL;
	execve(c->bin, (char *const *)argv, (char *const *)envp);
	_exit(127);
}

static int spawn(struct child *c, struct err_ctx *err)
{
	const char *lvl = log_level_str(log_level_from_str(getenv("SMC_LOG_LEVEL")));
	sigset_t all, old;
	pid_t pid;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		exec_child(c, lvl);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return err_set(err, ERR_IO, "fork %s: %s", c->name, strerror(errno));
	c->pid = pid;
	c->ready = false;
	/* the child's ends now live in the child */
	for (int k = 0; k <= FD_CHILD_MAX; k++)
		close_fd(&c->fds[k]);
	log_debug("child.spawn", "started %s as pid %d", c->name, (int)pid);
	return 0;
}

static int handshake(struct child *c, struct err_ctx *err)
{
	struct peer p = {.fd = c->ctl, .role = c->role, .cap = MSG_CAP_CONTROL};
	int rc = peer_handshake(&p, ROLE_SUPERVISOR, err);

	if (rc == 0)
		c->ready = true;
	return rc;
}

int proctab_start_all(struct proctab *pt, struct err_ctx *err)
{
	int rc;

	/* Create all sockets first (each edge once), then spawn. */
	for (size_t i = 0; i < PROCTAB_NCHILD; i++) {
		struct child *c = &pt->children[i];
		int sv[2];

		if ((rc = make_pair(sv, err)) != 0)
			return rc;
		c->ctl = sv[0];
		c->fds[FD_SUPERVISOR] = sv[1];
	}
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		int sv[2];

		if ((rc = make_pair(sv, err)) != 0)
			return rc;
		proctab_child(pt, edges[i].a)->fds[edges[i].fd_a] = sv[0];
		proctab_child(pt, edges[i].b)->fds[edges[i].fd_b] = sv[1];
	}
	for (size_t i = 0; i < PROCTAB_NCHILD; i++) {
		if ((rc = spawn(&pt->children[i], err)) != 0)
			return rc;
	}
	for (size_t i = 0; i < PROCTAB_NCHILD; i++) {
		if ((rc = handshake(&pt->children[i], err)) != 0)
			return err_wrap(err, rc, "%s", pt->children[i].name);
	}
	return 0;
}

static void kill_and_reap(struct child *c, int sig)
{
	if (c->pid > 0) {
		kill(c->pid, sig);
		waitpid(c->pid, NULL, 0);
		c->pid = 0;
	}
	close_fd(&c->ctl);
}

int proctab_restart(struct proctab *pt, struct child *c, struct err_ctx *err)
{
	int rc;

	/* Only the dead child starts again; its living peers get fresh sockets (EDGE) and
	 * keep running (a protocol violation kills only the receiver). */
	kill_and_reap(c, SIGKILL);
	if ((rc = make_sockets(pt, c, err)) != 0)
		return rc;
	if ((rc = spawn(c, err)) != 0)
		return rc;
	if ((rc = handshake(c, err)) != 0)
		return err_wrap(err, rc, "%s", c->name);
	c->restarts++;
	return 0;
}

void proctab_stop_all(struct proctab *pt, int timeout_ms)
{
	struct msg m;
	int waited = 0;

	msg_init(&m, MSG_SHUTDOWN);
	for (size_t i = 0; i < PROCTAB_NCHILD; i++) {
		if (pt->children[i].ctl >= 0 && pt->children[i].pid > 0)
			(void)msg_send(pt->children[i].ctl, &m);
	}
	for (;;) {
		int alive = 0;

		for (size_t i = 0; i < PROCTAB_NCHILD; i++) {
			struct child *c = &pt->children[i];

			if (c->pid > 0 && waitpid(c->pid, NULL, WNOHANG) == c->pid)
				c->pid = 0;
			alive += c->pid > 0;
		}
		if (alive == 0 || waited >= timeout_ms)
			break;
		usleep(10000);
		waited += 10;
	}
	for (size_t i = 0; i < PROCTAB_NCHILD; i++)
		kill_and_reap(&pt->children[i], SIGKILL);
}

void proctab_describe_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(buf, size, "killed by SIGSYS (sandbox violation)");
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "stopped (status 0x%x)", status);
}
