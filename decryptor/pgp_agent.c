/* pgp_agent.c — the decryptor's OpenPGP helper process (see pgp_agent.h). */
#include "decryptor/pgp_agent.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "decryptor/pgp.h"
#include "decryptor/pgp_agent_sandbox.h"
#include "proto/frame.h"

/* Largest request: type + slot + the larger of a key file and a message. */
#define PGP_AGENT_MAX_BODY (PGP_MAX_KEYFILE > PGP_MAX_MESSAGE ? PGP_MAX_KEYFILE : PGP_MAX_MESSAGE)
#define PGP_AGENT_MAX_REQUEST (1 + 4 + (size_t)PGP_AGENT_MAX_BODY)
/* Largest reply: status + the larger of a plaintext and a reason. */
#define PGP_AGENT_MAX_REPLY (1 + (size_t)PGP_AGENT_MAX_REASON)
#define PGP_AGENT_START_TIMEOUT_MS 10000
#define PGP_AGENT_STOP_TIMEOUT_MS 10000
#define PGP_AGENT_ROOT_MAX 96
#define PGP_AGENT_REAP_TIMEOUT_MS 3000 /* gpg-agents exiting after gpgconf --kill */

/* Exit codes of the helper. */
#define PGP_AGENT_EXIT_EOF 0	  /* the decryptor closed the socketpair */
#define PGP_AGENT_EXIT_PROTO 2	  /* a malformed request */
#define PGP_AGENT_EXIT_SETUP 3	  /* the sandbox could not be applied */
#define PGP_AGENT_EXIT_SIGNALED 4 /* the server died of a signal (the janitor's code) */

struct pgp_agent {
	int sock;  /* -1 once dead */
	pid_t pid; /* the janitor (our child); the server is its child */
	char root[PGP_AGENT_ROOT_MAX];
};

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

/* Removes a directory tree; retried briefly because a gpg-agent that was just told to
 * stop may still be removing its sockets. 0 when the directory is gone. */
static int rm_tree(const char *dir)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	struct stat st;
	int i;

	for (i = 0; i < 50; i++) {
		(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		if (lstat(dir, &st) != 0 && errno == ENOENT)
			return 0;
		(void)nanosleep(&ts, NULL);
	}
	return -1;
}

/* ---------------------------------------------------------------------------------------
 * The helper side. */

struct agent_state {
	int sock;
	const char *root;
	struct pgp_home *homes[PGP_AGENT_MAX_HOMES];
	size_t nhomes;
};

/* Sends an error reply: status -rc and a printable reason (never secret: gpgme's text). */
static int reply_err(int sock, int rc, const char *reason)
{
	uint8_t out[1 + PGP_AGENT_MAX_REASON];
	size_t n = 0;

	out[0] = (uint8_t)(-rc);
	for (; reason != NULL && reason[n] != '\0' && n < PGP_AGENT_MAX_REASON; n++) {
		unsigned char c = (unsigned char)reason[n];

		out[1 + n] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	return frame_write(sock, out, 1 + n, -1);
}

static int agent_import(struct agent_state *st, const uint8_t *key, size_t n)
{
	struct err_ctx err = {{0}};
	struct pgp_home *h = NULL;
	uint8_t out[9];
	size_t nsec = 0;
	int rc;

	if (st->nhomes >= PGP_AGENT_MAX_HOMES)
		return reply_err(st->sock, ERR_TOOBIG, "pgp agent: too many key files");
	if ((rc = pgp_home_new_in(st->root, &h, &err)) != 0)
		return reply_err(st->sock, rc, err.msg);
	if ((rc = pgp_home_import(h, key, n, &nsec, &err)) != 0) {
		pgp_home_free(h);
		return reply_err(st->sock, rc, err.msg);
	}
	st->homes[st->nhomes] = h;
	out[0] = 0;
	put_u32(out + 1, (uint32_t)st->nhomes);
	put_u32(out + 5, nsec > UINT32_MAX ? UINT32_MAX : (uint32_t)nsec);
	st->nhomes++;
	return frame_write(st->sock, out, sizeof(out), -1);
}

static int agent_decrypt(struct agent_state *st, uint32_t slot, const uint8_t *msg, size_t n)
{
	struct err_ctx err = {{0}};
	struct secbuf *pt = NULL, *out = NULL;
	uint8_t zero = 0;
	int rc;

	rc = pgp_home_decrypt_max(st->homes[slot], (const char *)msg, n, PGP_AGENT_MAX_PLAINTEXT,
				  &pt, &err);
	if (rc != 0)
		return reply_err(st->sock, rc, err.msg);
	if ((rc = secbuf_new(&out, 1 + PGP_AGENT_MAX_PLAINTEXT)) == 0 &&
	    (rc = secbuf_put(out, &zero, 1)) == 0 && (rc = secbuf_put(out, pt->data, pt->len)) == 0)
		rc = frame_write(st->sock, out->data, out->len, -1);
	else
		rc = reply_err(st->sock, rc, "pgp agent: out of memory");
	secbuf_free(pt);
	secbuf_free(out);
	return rc;
}

/* gpgme double-forks gpg, and gpg-agent daemonizes: as a subreaper the helper inherits
 * them and reaps them here, between requests, when gpgme waits for nothing. */
static void agent_reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Serves requests until EOF (0) or a malformed request / dead socket (nonzero). */
static int agent_serve(struct agent_state *st)
{
	struct secbuf *req = NULL;
	int fd = -1, rc;

	for (;;) {
		rc = frame_read(st->sock, PGP_AGENT_MAX_REQUEST, &req, &fd);
		if (rc == ERR_EOF)
			return 0;
		if (rc != 0)
			return rc;
		if (fd >= 0) { /* nobody passes descriptors to this helper */
			close(fd);
			rc = ERR_PROTO;
		} else if (req->len < 2) {
			rc = ERR_PROTO;
		} else if (req->data[0] == PGP_AGENT_REQ_IMPORT) {
			if (req->len - 1 > PGP_MAX_KEYFILE)
				rc = ERR_PROTO;
			else
				rc = agent_import(st, req->data + 1, req->len - 1);
		} else if (req->data[0] == PGP_AGENT_REQ_DECRYPT) {
			uint32_t slot = req->len >= 6 ? get_u32(req->data + 1) : UINT32_MAX;

			if (req->len < 6 || req->len - 5 > PGP_MAX_MESSAGE || slot >= st->nhomes)
				rc = ERR_PROTO;
			else
				rc = agent_decrypt(st, slot, req->data + 5, req->len - 5);
		} else {
			rc = ERR_PROTO;
		}
		secbuf_free(req);
		req = NULL;
		agent_reap();
		if (rc != 0)
			return rc;
	}
}

static void agent_cleanup(struct agent_state *st)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int waited = 0;
	size_t i;
	pid_t r;

	for (i = 0; i < st->nhomes; i++)
		pgp_home_free(st->homes[i]); /* gpgconf --kill gpg-agent, then the home */
	st->nhomes = 0;
	/* the gpg-agents are our (adopted) children: wait until they are all gone */
	while ((r = waitpid(-1, NULL, WNOHANG)) >= 0 && waited < PGP_AGENT_REAP_TIMEOUT_MS) {
		if (r == 0) {
			(void)nanosleep(&ts, NULL);
			waited += 10;
		}
	}
	/* everything inside the root; the root itself is the janitor's (no right here) */
	(void)nftw(st->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The server: subreaper, sandbox, hello, requests. Never returns. */
static void agent_server(int sock, const char *root)
{
	struct agent_state st;
	struct err_ctx err = {{0}};
	int rc;

	memset(&st, 0, sizeof(st));
	st.sock = sock;
	st.root = root;
	/* orphans of gpgme's double fork and the daemonized gpg-agents become ours to reap */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
		_exit(PGP_AGENT_EXIT_SETUP);
	if (pgp_agent_sandbox_enter(root, sock, &err) != 0)
		_exit(PGP_AGENT_EXIT_SETUP);
	if (frame_write(sock, (const uint8_t *)PGP_AGENT_HELLO, strlen(PGP_AGENT_HELLO), -1) != 0)
		_exit(PGP_AGENT_EXIT_SETUP);
	rc = agent_serve(&st);
	agent_cleanup(&st);
	_exit(rc == 0 ? PGP_AGENT_EXIT_EOF : PGP_AGENT_EXIT_PROTO);
}

/* The child after fork: never returns. It forks the server and stays as its janitor: a
 * process that never receives a byte of input, sandboxed too (pgp_agent_sandbox.c), whose
 * only job is to wait for the server and then remove the home root — which the server
 * cannot do itself, having no right on the directory that holds it. Even a server that
 * died of a signal leaves no key material behind. */
static void agent_main(int sock, const char *root, const char *parent)
{
	static const int ignored[] = {SIGINT, SIGHUP, SIGTERM, SIGQUIT, SIGPIPE};
	struct err_ctx err = {{0}};
	struct sigaction sa;
	sigset_t none;
	unsigned uid, gid;
	int nul, st = 0;
	size_t i;
	pid_t pid, r;

	/* It lives as long as its socketpair: keyboard and stop signals are not for it. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		(void)sigaction(ignored[i], &sa, NULL);
	sa.sa_handler = SIG_DFL; /* gpgme and the janitor wait for their children */
	(void)sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	/* No output anywhere: gpg's and gpg-agent's stderr included. */
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0)
		_exit(PGP_AGENT_EXIT_SETUP);
	if (nul > 2)
		close(nul);
	if (clearenv() != 0 || setenv("PATH", "/usr/bin:/bin", 1) != 0 ||
	    setenv("LC_ALL", "C", 1) != 0)
		_exit(PGP_AGENT_EXIT_SETUP);
	(void)umask(077);
	if ((getuid() == 0 || geteuid() == 0) &&
	    (pgp_agent_sandbox_ids(&uid, &gid) != 0 || chown(root, uid, gid) != 0))
		_exit(PGP_AGENT_EXIT_SETUP);
	pid = fork();
	if (pid < 0)
		_exit(PGP_AGENT_EXIT_SETUP);
	if (pid == 0)
		agent_server(sock, root);
	if (pgp_agent_sandbox_enter_janitor(parent, sock, &err) != 0) {
		/* never run half-sandboxed: take the server down with us */
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		(void)rm_tree(root);
		_exit(PGP_AGENT_EXIT_SETUP);
	}
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	(void)rm_tree(root);
	if (r == pid && WIFEXITED(st))
		_exit(WEXITSTATUS(st));
	_exit(PGP_AGENT_EXIT_SIGNALED);
}

/* ---------------------------------------------------------------------------------------
 * The decryptor side. */

static void agent_dead(struct pgp_agent *a)
{
	if (a->sock >= 0)
		close(a->sock);
	a->sock = -1;
}

/* Reads one reply frame within timeout_ms. Owned *reply. */
static int read_reply(struct pgp_agent *a, int timeout_ms, size_t cap, struct secbuf **reply)
{
	struct pollfd p = {a->sock, POLLIN, 0};
	int r, fd = -1, rc;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return ERR_TIMEOUT;
	if (r < 0)
		return ERR_IO;
	rc = frame_read(a->sock, cap, reply, &fd);
	if (rc == 0 && fd >= 0) {
		close(fd);
		secbuf_free(*reply);
		*reply = NULL;
		return ERR_PROTO;
	}
	return rc;
}

int pgp_agent_start(struct pgp_agent **out, struct err_ctx *err)
{
	const char *tmp = getenv("TMPDIR");
	struct secbuf *hello = NULL;
	struct pgp_agent *a;
	int sv[2], rc;
	pid_t pid;

	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 48)
		tmp = "/tmp";
	a = xcalloc(1, sizeof(*a));
	if (a == NULL)
		return ERR_NOMEM;
	a->sock = -1;
	if (str_fmt(a->root, sizeof(a->root), "%s/smc-pgp-agent-XXXXXX", tmp) != 0 ||
	    mkdtemp(a->root) == NULL) {
		free(a);
		return err_set(err, ERR_IO, "pgp agent: cannot create its home: %s",
			       strerror(errno));
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		rc = err_set(err, ERR_IO, "pgp agent: socketpair: %s", strerror(errno));
		(void)rmdir(a->root);
		free(a);
		return rc;
	}
	pid = fork();
	if (pid < 0) {
		rc = err_set(err, ERR_IO, "pgp agent: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		(void)rmdir(a->root);
		free(a);
		return rc;
	}
	if (pid == 0) {
		close(sv[0]);
		if (sv[1] < 3)
			_exit(PGP_AGENT_EXIT_SETUP);
		agent_main(sv[1], a->root, tmp);
	}
	close(sv[1]);
	a->sock = sv[0];
	a->pid = pid;
	rc = read_reply(a, PGP_AGENT_START_TIMEOUT_MS, PGP_AGENT_MAX_REPLY, &hello);
	if (rc == 0 && !(hello->len == strlen(PGP_AGENT_HELLO) &&
			 memcmp(hello->data, PGP_AGENT_HELLO, hello->len) == 0))
		rc = ERR_PROTO;
	secbuf_free(hello);
	if (rc != 0) {
		(void)pgp_agent_stop(a, NULL);
		return err_set(err, rc == ERR_EOF ? ERR_IO : rc,
			       "pgp agent: the helper did not come up (sandbox or fork failure)");
	}
	*out = a;
	return 0;
}

/* One request/reply round trip; the reply's status is checked here. Owned *reply holds
 * the body after the status byte (status 0 only). */
static int agent_call(struct pgp_agent *a, const uint8_t *req, size_t n, size_t min_body,
		      size_t max_body, struct secbuf **body, struct err_ctx *err)
{
	struct secbuf *rep = NULL, *b = NULL;
	char reason[PGP_AGENT_MAX_REASON + 1];
	size_t i, len;
	int rc, status;

	if (a == NULL || a->sock < 0)
		return err_set(err, ERR_IO, "pgp agent: not running");
	if ((rc = frame_write(a->sock, req, n, -1)) != 0) {
		agent_dead(a);
		return err_set(err, ERR_IO, "pgp agent: gone (write failed)");
	}
	rc = read_reply(a, PGP_AGENT_REPLY_TIMEOUT_MS, PGP_AGENT_MAX_REPLY, &rep);
	if (rc != 0) {
		agent_dead(a);
		return err_set(err, rc == ERR_EOF ? ERR_IO : rc, "pgp agent: %s",
			       rc == ERR_TIMEOUT ? "no answer in time" : "gone (no answer)");
	}
	if (rep->len < 1) {
		rc = ERR_PROTO;
		goto bad;
	}
	status = rep->data[0];
	len = rep->len - 1;
	if (status != 0) {
		if (status > -ERR_EOF || len > PGP_AGENT_MAX_REASON) {
			rc = ERR_PROTO;
			goto bad;
		}
		for (i = 0; i < len; i++) {
			if (rep->data[1 + i] < 0x20 || rep->data[1 + i] >= 0x7f) {
				rc = ERR_PROTO;
				goto bad;
			}
			reason[i] = (char)rep->data[1 + i];
		}
		reason[len] = '\0';
		secbuf_free(rep);
		return err_set(err, -status, "%s", len > 0 ? reason : err_str(-status));
	}
	if (len < min_body || len > max_body) {
		rc = ERR_PROTO;
		goto bad;
	}
	if ((rc = secbuf_from(&b, rep->data + 1, len)) != 0) {
		secbuf_free(rep);
		return rc;
	}
	secbuf_free(rep);
	*body = b;
	return 0;
bad:
	secbuf_free(rep);
	agent_dead(a);
	return err_set(err, rc, "pgp agent: malformed reply");
}

int pgp_agent_import(struct pgp_agent *a, const uint8_t *key, size_t n, uint32_t *slot,
		     size_t *nsecret, struct err_ctx *err)
{
	struct secbuf *req = NULL, *body = NULL;
	uint8_t type = PGP_AGENT_REQ_IMPORT;
	int rc;

	if (n == 0 || n > PGP_MAX_KEYFILE)
		return err_set(err, ERR_TOOBIG, "pgp agent: key file empty or too large");
	if ((rc = secbuf_new(&req, 1 + n)) != 0 || (rc = secbuf_put(req, &type, 1)) != 0 ||
	    (rc = secbuf_put(req, key, n)) != 0)
		goto out;
	if ((rc = agent_call(a, req->data, req->len, 8, 8, &body, err)) != 0)
		goto out;
	*slot = get_u32(body->data);
	if (nsecret != NULL)
		*nsecret = get_u32(body->data + 4);
out:
	secbuf_free(req);
	secbuf_free(body);
	return rc;
}

int pgp_agent_decrypt(struct pgp_agent *a, uint32_t slot, const char *msg, size_t n,
		      struct secbuf **out, struct err_ctx *err)
{
	uint8_t *req;
	struct secbuf *body = NULL;
	int rc;

	if (n == 0 || n > PGP_MAX_MESSAGE)
		return err_set(err, ERR_INVAL, "pgp: message empty or too large");
	if ((req = malloc(5 + n)) == NULL)
		return ERR_NOMEM;
	req[0] = PGP_AGENT_REQ_DECRYPT;
	put_u32(req + 1, slot);
	memcpy(req + 5, msg, n); /* the armored message is ciphertext: a plain buffer */
	rc = agent_call(a, req, 5 + n, 1, PGP_AGENT_MAX_PLAINTEXT, &body, err);
	free(req);
	if (rc != 0)
		return rc;
	*out = body;
	return 0;
}

int pgp_agent_raw(struct pgp_agent *a, const uint8_t *req, size_t n, struct secbuf **reply,
		  struct err_ctx *err)
{
	int rc;

	if (a == NULL || a->sock < 0)
		return err_set(err, ERR_IO, "pgp agent: not running");
	if (frame_write(a->sock, req, n, -1) != 0) {
		agent_dead(a);
		return err_set(err, ERR_IO, "pgp agent: gone (write failed)");
	}
	rc = read_reply(a, PGP_AGENT_REPLY_TIMEOUT_MS, PGP_AGENT_MAX_REPLY, reply);
	if (rc != 0) {
		agent_dead(a);
		return err_set(err, rc, "pgp agent: no reply");
	}
	return 0;
}

int pgp_agent_fd(const struct pgp_agent *a)
{
	return a != NULL ? a->sock : -1;
}

pid_t pgp_agent_pid(const struct pgp_agent *a)
{
	return a != NULL ? a->pid : -1;
}

const char *pgp_agent_home(const struct pgp_agent *a)
{
	return a->root;
}

int pgp_agent_stop(struct pgp_agent *a, int *status)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int st = 0, waited = 0, rc = 0;
	pid_t r = 0;

	if (a == NULL)
		return 0;
	agent_dead(a);
	if (a->pid > 0) {
		while ((r = waitpid(a->pid, &st, WNOHANG)) == 0 &&
		       waited < PGP_AGENT_STOP_TIMEOUT_MS) {
			(void)nanosleep(&ts, NULL);
			waited += 10;
		}
		if (r == 0) {
			(void)kill(a->pid, SIGKILL);
			r = waitpid(a->pid, &st, 0);
			rc = ERR_TIMEOUT;
		}
		if (r < 0)
			rc = ERR_IO;
	}
	/* The helper removes its home; if it died instead, its gpg-agents exit on their own
	 * once their sockets are gone (GnuPG checks), and the keys go with the directory. */
	if (rm_tree(a->root) != 0 && rc == 0)
		rc = ERR_IO;
	if (status != NULL)
		*status = st;
	free(a);
	return rc;
}

void pgp_agent_free(struct pgp_agent *a)
{
	if (a == NULL)
		return;
	agent_dead(a);
	free(a);
}
