/* source_git.c — fetch a Git repository with libgit2 and read one commit's tree. */
#include "fetcher/source_git.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <git2/sys/stream.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "fetcher/known_hosts.h"

/* Longest path or name quoted in an error message (the message buffer is 512 bytes). */
#define SOURCE_GIT_MSG_PATH 160
/* Longest URL accepted. */
#define SOURCE_GIT_MAX_URL 4096
/* Longest revision accepted (a ref name). */
#define SOURCE_GIT_MAX_REV 512
/* Bytes of pending path while resolving links: hops × (target + '/'). */
#define SOURCE_GIT_MAX_RESOLVE ((SELECT_MAX_LINK_HOPS + 2) * (TREE_MAX_PATH + 1))
/* Shortest commit-id prefix accepted as a revision. */
#define SOURCE_GIT_MIN_SHORT_ID 4

/* The refspecs of every fetch: branches under refs/remotes/origin, tags as tags. Any
 * other "refs/..." revision is fetched into refs/smc/... */
#define SOURCE_GIT_BRANCHES "refs/remotes/origin/"
#define SOURCE_GIT_OTHER "refs/smc/"

static pthread_once_t source_git_once = PTHREAD_ONCE_INIT;
static int source_git_init_ret = ERR_IO;

/* ---- the watchdog stream: TCP with deadlines (libgit2 1.5 has none) ---- */

/* The deadlines of the fetch running on this thread (libgit2's stream constructor takes
 * no payload). Set by source_git_fetch_opts around git_remote_fetch. */
static _Thread_local struct {
	long idle_ms;
	struct timespec end; /* whole exchange */
	int timed_out;	     /* set when a deadline fired: the fetch reports ERR_TIMEOUT */
} wd = {SOURCE_GIT_IDLE_TIMEOUT_MS, {0, 0}, 0};
static _Thread_local long wd_conf_idle_ms, wd_conf_total_ms;

void source_git_set_timeouts(long idle_ms, long total_ms)
{
	wd_conf_idle_ms = idle_ms;
	wd_conf_total_ms = total_ms;
}

/* The same layout as libgit2's own git_socket_stream ({parent, host, port, socket}):
 * its SSH transport hands the socket of the registered standard stream to libssh2 by
 * reading that member, so the order of these fields is load-bearing. */
struct wd_stream {
	git_stream parent;
	char *host, *port;
	int fd;
};

static long ms_until(const struct timespec *t)
{
	struct timespec n;

	clock_gettime(CLOCK_MONOTONIC, &n);
	return (long)(t->tv_sec - n.tv_sec) * 1000L + (t->tv_nsec - n.tv_nsec) / 1000000L;
}

/* Waits for events on fd for at most the idle time and the time left. 0, or -1 with
 * libgit2's error set. */
static int wd_wait(struct wd_stream *st, short events, long cap_ms, const char *what)
{
	struct pollfd p = {st->fd, events, 0};
	long left = ms_until(&wd.end), t = cap_ms < left ? cap_ms : left;
	int r;

	if (t <= 0) {
		wd.timed_out = 1;
		git_error_set(GIT_ERROR_NET, "%s %s: the fetch took longer than allowed", what,
			      st->host);
		return -1;
	}
	do
		r = poll(&p, 1, t > 0x7fffffffL ? 0x7fffffff : (int)t);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		git_error_set(GIT_ERROR_OS, "poll: %s", strerror(errno));
		return -1;
	}
	if (r == 0) {
		wd.timed_out = 1;
		git_error_set(GIT_ERROR_NET, "%s %s: no data for %ld ms (stalled transfer)", what,
			      st->host, t);
		return -1;
	}
	return 0;
}

static int wd_connect(git_stream *s)
{
	struct wd_stream *st = (struct wd_stream *)s;
	struct addrinfo hints, *res = NULL, *ai;
	int r, err = 0, fd = -1;
	socklen_t len = sizeof(err);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(st->host, st->port, &hints, &res);
	if (r != 0) {
		git_error_set(GIT_ERROR_NET, "cannot resolve %s: %s", st->host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		st->fd = fd;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS &&
		    wd_wait(st, POLLOUT, SOURCE_GIT_CONNECT_TIMEOUT_MS, "connecting to") == 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
			break;
		if (err != 0)
			git_error_set(GIT_ERROR_NET, "cannot connect to %s: %s", st->host,
				      strerror(err));
		else if (errno != EINPROGRESS)
			git_error_set(GIT_ERROR_NET, "cannot connect to %s: %s", st->host,
				      strerror(errno));
		close(fd);
		st->fd = fd = -1;
		if (wd.timed_out)
			break;
	}
	freeaddrinfo(res);
	return st->fd >= 0 ? 0 : -1;
}

static ssize_t wd_read(git_stream *s, void *data, size_t len)
{
	struct wd_stream *st = (struct wd_stream *)s;
	ssize_t r;

	for (;;) {
		r = recv(st->fd, data, len, 0);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			git_error_set(GIT_ERROR_NET, "read from %s: %s", st->host, strerror(errno));
			return -1;
		}
		if (wd_wait(st, POLLIN, wd.idle_ms, "reading from") < 0)
			return -1;
	}
}

static ssize_t wd_write(git_stream *s, const char *data, size_t len, int flags)
{
	struct wd_stream *st = (struct wd_stream *)s;
	size_t off = 0;
	ssize_t r;

	(void)flags;
	while (off < len) {
		r = send(st->fd, data + off, len - off, MSG_NOSIGNAL);
		if (r >= 0) {
			off += (size_t)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			git_error_set(GIT_ERROR_NET, "write to %s: %s", st->host, strerror(errno));
			return -1;
		}
		if (wd_wait(st, POLLOUT, wd.idle_ms, "writing to") < 0)
			return -1;
	}
	return (ssize_t)len;
}

static int wd_close(git_stream *s)
{
	struct wd_stream *st = (struct wd_stream *)s;

	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	return 0;
}

static void wd_free(git_stream *s)
{
	struct wd_stream *st = (struct wd_stream *)s;

	wd_close(s);
	free(st->host);
	free(st->port);
	free(st);
}

static int wd_init(git_stream **out, const char *host, const char *port)
{
	struct wd_stream *st = calloc(1, sizeof(*st));

	if (st == NULL || (st->host = xstrdup(host)) == NULL ||
	    (st->port = xstrdup(port)) == NULL) {
		if (st != NULL)
			free(st->host);
		free(st);
		git_error_set_oom();
		return -1;
	}
	st->fd = -1;
	st->parent.version = GIT_STREAM_VERSION;
	st->parent.connect = wd_connect;
	st->parent.read = wd_read;
	st->parent.write = wd_write;
	st->parent.close = wd_close;
	st->parent.free = wd_free;
	*out = &st->parent;
	return 0;
}

static void init_once(void)
{
	static const int levels[] = {GIT_CONFIG_LEVEL_PROGRAMDATA, GIT_CONFIG_LEVEL_SYSTEM,
				     GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL};
	static git_stream_registration reg = {GIT_STREAM_VERSION, wd_init, NULL};

	if (git_libgit2_init() < 0)
		return;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "") < 0)
			return;
	if (git_stream_register(GIT_STREAM_STANDARD, &reg) < 0)
		return;
	source_git_init_ret = 0;
}

int source_git_init(void)
{
	if (pthread_once(&source_git_once, init_once) != 0)
		return ERR_IO;
	return source_git_init_ret;
}

/* *out = a b c d (owned, free()). 0 or ERR_NOMEM. */
static int concat4(char **out, const char *a, const char *b, const char *c, const char *d)
{
	const char *parts[4] = {a, b, c, d};
	size_t n = 1, o = 0, l;
	char *r;

	for (size_t i = 0; i < 4; i++)
		if (!size_add(n, strlen(parts[i]), &n))
			return ERR_NOMEM;
	r = malloc(n);
	if (r == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < 4; i++) {
		l = strlen(parts[i]);
		memcpy(r + o, parts[i], l);
		o += l;
	}
	r[o] = '\0';
	*out = r;
	return 0;
}

/* ---- URLs and credentials ---- */

/* Finds the userinfo of scheme://userinfo@host/...: [*start, *end) includes the '@'. */
static int url_userinfo(const char *url, size_t *start, size_t *end)
{
	const char *s = strstr(url, "://"), *a, *at = NULL;

	if (s == NULL)
		return 0;
	s += 3;
	for (a = s; *a != '\0' && *a != '/' && *a != '?' && *a != '#'; a++)
		if (*a == '@')
			at = a;
	if (at == NULL)
		return 0;
	*start = (size_t)(s - url);
	*end = (size_t)(at - url) + 1;
	return 1;
}

int source_git_url_redact(const char *url, char **out)
{
	size_t start, end, n = strlen(url);
	char *r;

	if (!url_userinfo(url, &start, &end)) {
		r = xstrdup(url);
	} else {
		r = malloc(n - (end - start) + 1);
		if (r != NULL) {
			memcpy(r, url, start);
			memcpy(r + start, url + end, n - end + 1);
		}
	}
	if (r == NULL)
		return ERR_NOMEM;
	*out = r;
	return 0;
}

static int url_check(const char *url, const char *shown, struct err_ctx *err)
{
	static const char *const ok[] = {"file://", "http://", "https://", "git://", "ssh://"};

	if (strlen(url) > SOURCE_GIT_MAX_URL)
		return err_set(err, ERR_INVAL, "git URL longer than %u bytes",
			       (unsigned)SOURCE_GIT_MAX_URL);
	if (!str_utf8_valid(url, strlen(url)))
		return err_set(err, ERR_INVAL, "git URL is not valid UTF-8");
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (str_has_prefix(url, ok[i]))
			return 0;
	if (strstr(url, "://") != NULL)
		return err_set(err, ERR_UNSUPPORTED, "git URL scheme of %.*s is not supported",
			       SOURCE_GIT_MSG_PATH, shown);
	return 0; /* a plain path, or scp-like "user@host:path" (ssh) */
}

/* 1 when url is fetched over SSH: ssh:// or scp-like "[user@]host:path" (a ':' before
 * any '/'). */
static int url_is_ssh(const char *url)
{
	const char *colon, *slash;

	if (str_has_prefix(url, "ssh://"))
		return 1;
	if (strstr(url, "://") != NULL)
		return 0;
	colon = strchr(url, ':');
	slash = strchr(url, '/');
	return colon != NULL && (slash == NULL || colon < slash);
}

/* The port of an SSH URL (22 unless ssh://host:port/ says otherwise). */
static int url_ssh_port(const char *url)
{
	const char *h, *e, *c;
	long port = 22;

	if (!str_has_prefix(url, "ssh://"))
		return 22;
	h = url + 6;
	e = h + strcspn(h, "/?#");
	for (const char *a = h; a < e; a++)
		if (*a == '@')
			h = a + 1;
	if (*h == '[') { /* [v6]:port */
		const char *rb = memchr(h, ']', (size_t)(e - h));

		c = rb != NULL && rb + 1 < e && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		c = memchr(h, ':', (size_t)(e - h));
	}
	if (c != NULL && c + 1 < e) {
		port = 0;
		for (const char *d = c + 1; d < e && port <= 65535; d++)
			port = *d >= '0' && *d <= '9' ? port * 10 + (*d - '0') : 65536;
	}
	return port > 0 && port <= 65535 ? (int)port : 22;
}

/* Replaces every occurrence of needle (when not empty) in msg with repl, in place. */
static void scrub(char *msg, size_t cap, const char *needle, size_t nlen, const char *repl)
{
	size_t rlen = strlen(repl), mlen;
	char *p;

	if (nlen == 0)
		return;
	p = msg;
	while ((p = memmem(p, strlen(p), needle, nlen)) != NULL) {
		mlen = strlen(msg);
		if (mlen - nlen + rlen + 1 > cap)
			rlen = 0; /* no room: drop the needle without a replacement */
		memmove(p + rlen, p + nlen, mlen - (size_t)(p - msg) - nlen + 1);
		memcpy(p, repl, rlen);
		p += rlen;
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

struct cred_state {
	const struct source_git_opts *opts; /* borrowed */
	int port;			    /* SSH: the server's port (known_hosts names) */
	int tries, ssh_tries, user_tries;
	int host_refused; /* the certificate callback refused the host key */
};

static int cred_cb(git_credential **out, const char *url, const char *user_from_url,
		   unsigned int allowed, void *payload)
{
	struct cred_state *cs = payload;
	const struct source_git_opts *o = cs->opts;
	const char *user = user_from_url != NULL && *user_from_url != '\0' ? user_from_url
			   : o->username != NULL && *o->username != '\0' ? o->username
									  : "git";

	(void)url;
	/* Offer each credential once: a refusal is final, not a reason to loop. */
	if (o->ssh_key != NULL && (allowed & GIT_CREDENTIAL_SSH_MEMORY) != 0) {
		if (cs->ssh_tries++ > 0) {
			git_error_set_str(GIT_ERROR_SSH, "SSH key refused by the server");
			return GIT_EAUTH;
		}
		return git_credential_ssh_key_memory_new(
		    out, user, NULL, (const char *)o->ssh_key->data,
		    o->ssh_passphrase != NULL ? (const char *)o->ssh_passphrase->data : NULL);
	}
	if (o->ssh_key != NULL && (allowed & GIT_CREDENTIAL_USERNAME) != 0) {
		if (cs->user_tries++ > 0)
			return GIT_EAUTH;
		return git_credential_username_new(out, user);
	}
	if (o->username == NULL || o->password == NULL ||
	    (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) == 0) {
		if ((allowed & (GIT_CREDENTIAL_SSH_KEY | GIT_CREDENTIAL_SSH_MEMORY)) != 0) {
			git_error_set_str(GIT_ERROR_SSH, "the server wants an SSH key and none is "
							 "configured (sshPrivateKey)");
			return GIT_EAUTH;
		}
		return GIT_PASSTHROUGH;
	}
	if (cs->tries++ > 0) {
		git_error_set_str(GIT_ERROR_HTTP, "authentication refused");
		return GIT_EAUTH;
	}
	return git_credential_userpass_plaintext_new(out, o->username,
						     (const char *)o->password->data);
}

/* SSH host keys are checked against the job's known_hosts; TLS certificates keep
 * libgit2's own verification (the system CA bundle). */
static int cert_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	struct cred_state *cs = payload;
	struct err_ctx kerr = {{0}};
	const git_cert_hostkey *hk;

	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return valid ? 0 : GIT_PASSTHROUGH;
	hk = (const git_cert_hostkey *)cert;
	if ((hk->type & GIT_CERT_SSH_RAW) == 0 || hk->hostkey == NULL || hk->hostkey_len == 0) {
		cs->host_refused = 1;
		git_error_set(GIT_ERROR_SSH, "SSH host key of %s not available: refused", host);
		return GIT_ECERTIFICATE;
	}
	if (known_hosts_check(cs->opts->known_hosts, host, cs->port,
			      (const unsigned char *)hk->hostkey, hk->hostkey_len, &kerr) != 0) {
		cs->host_refused = 1;
		git_error_set_str(GIT_ERROR_SSH, kerr.msg);
		return GIT_ECERTIFICATE;
	}
	return 0;
}

/* Sets err from libgit2's last error, without any credential in it. */
static int git_fail(struct err_ctx *err, int code, const char *url, const char *shown,
		    const struct secbuf *password, const char *what)
{
	const git_error *e = git_error_last();
	char msg[sizeof(err->msg)], dec[SOURCE_GIT_MAX_URL + 1];
	size_t start, end, o = 0;

	str_copy(msg, sizeof(msg), e != NULL && e->message != NULL ? e->message : "unknown");
	if (url_userinfo(url, &start, &end)) {
		const char *pw = memchr(url + start, ':', end - 1 - start);

		scrub(msg, sizeof(msg), url + start, end - start, "");
		if (pw != NULL) {
			pw++;
			scrub(msg, sizeof(msg), pw, (size_t)(url + end - 1 - pw), "***");
			/* and its percent-decoded form */
			for (const char *p = pw; p < url + end - 1 && o < sizeof(dec) - 1; p++) {
				if (*p == '%' && p + 2 < url + end - 1 && hexval(p[1]) >= 0 &&
				    hexval(p[2]) >= 0) {
					dec[o++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
					p += 2;
				} else {
					dec[o++] = *p;
				}
			}
			scrub(msg, sizeof(msg), dec, o, "***");
		}
	}
	if (password != NULL)
		scrub(msg, sizeof(msg), (const char *)password->data, password->len, "***");
	return err_set(err, code, "%s %.*s: %s", what, SOURCE_GIT_MSG_PATH, shown, msg);
}

/* ---- the cache repository ---- */

static int cache_path(const char *scratch_dir, const char *shown, char **out, struct err_ctx *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	char *p;

	if (EVP_Digest(shown, strlen(shown), md, &mdlen, EVP_sha256(), NULL) != 1)
		return err_set(err, ERR_IO, "sha256 failed");
	for (unsigned int i = 0; i < mdlen; i++) {
		hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	hex[2 * mdlen] = '\0';
	p = str_path_join(scratch_dir, hex);
	if (p == NULL)
		return err_set(err, ERR_NOMEM, "out of memory");
	*out = p;
	return 0;
}

static int cache_open(const char *scratch_dir, const char *path, git_repository **out,
		      struct err_ctx *err)
{
	struct stat st;

	if (stat(scratch_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(err, ERR_NOTFOUND, "scratch directory %.*s not found",
			       SOURCE_GIT_MSG_PATH, scratch_dir);
	if (git_repository_open_bare(out, path) == 0)
		return 0;
	if (git_repository_init(out, path, 1) == 0)
		return 0;
	return err_set(err, ERR_IO, "cannot create git cache %.*s: %s", SOURCE_GIT_MSG_PATH, path,
		       git_error_last() != NULL ? git_error_last()->message : "unknown");
}

/* ---- revisions ---- */

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hexval((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

/* The local ref a remote ref name is fetched into, or NULL when it is not a valid ref.
 * Owned result. */
static char *local_ref(const char *ref)
{
	int valid = 0;

	if (git_reference_name_is_valid(&valid, ref) < 0 || !valid)
		return NULL;
	if (str_has_prefix(ref, "refs/heads/"))
		return select_join("refs/remotes/origin", ref + strlen("refs/heads/"));
	if (str_has_prefix(ref, "refs/tags/"))
		return xstrdup(ref);
	return select_join("refs/smc", ref + strlen("refs/"));
}

/* Peels the local reference name to a commit id. 0, ERR_NOTFOUND or ERR_INVAL. */
static int ref_commit(git_repository *repo, const char *name, git_oid *out)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int ret;

	if (git_reference_lookup(&ref, repo, name) < 0)
		return ERR_NOTFOUND;
	ret = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) < 0 ? ERR_INVAL : 0;
	if (ret == 0)
		git_oid_cpy(out, git_object_id(obj));
	git_object_free(obj);
	git_reference_free(ref);
	return ret;
}

/* Resolves revision after the fetch. *label (owned, may be NULL for a commit id) is what
 * goes before "@sha1:" in the resolved revision. */
static int resolve_rev(git_repository *repo, git_remote *remote, const char *revision,
		       const char *shown, git_oid *oid, char **label, struct err_ctx *err)
{
	const git_remote_head **heads = NULL;
	char *name = NULL, *lab = NULL, *ref;
	size_t n = 0, len = strlen(revision);
	int ret = ERR_NOTFOUND;

	if (revision[0] == '\0') {
		const git_remote_head *head = NULL;

		if (git_remote_ls(&heads, &n, remote) < 0)
			n = 0;
		for (size_t i = 0; i < n; i++)
			if (strcmp(heads[i]->name, "HEAD") == 0)
				head = heads[i];
		if (head == NULL)
			return err_set(err, ERR_NOTFOUND, "%.*s has no HEAD", SOURCE_GIT_MSG_PATH,
				       shown);
		if (head->symref_target != NULL &&
		    str_has_prefix(head->symref_target, "refs/heads/")) {
			name = local_ref(head->symref_target);
			lab = xstrdup(head->symref_target + strlen("refs/heads/"));
			if (name == NULL || lab == NULL) {
				ret = err_set(err, ERR_INVAL, "bad HEAD of %.*s",
					      SOURCE_GIT_MSG_PATH, shown);
				goto out;
			}
			ret = ref_commit(repo, name, oid);
		} else {
			/* A detached HEAD: its id, if the fetch brought the commit. */
			git_commit *c = NULL;

			lab = xstrdup("HEAD");
			if (lab == NULL)
				ret = ERR_NOMEM;
			else if (git_commit_lookup(&c, repo, &head->oid) == 0)
				ret = 0;
			if (ret == 0)
				git_oid_cpy(oid, &head->oid);
			git_commit_free(c);
		}
		if (ret < 0)
			ret =
			    err_set(err, ret, "HEAD of %.*s not found", SOURCE_GIT_MSG_PATH, shown);
		goto out;
	}
	if (str_has_prefix(revision, "refs/")) {
		name = local_ref(revision);
		if (name == NULL)
			return err_set(err, ERR_INVAL, "revision %.*s is not a valid ref name",
				       SOURCE_GIT_MSG_PATH, revision);
		ret = ref_commit(repo, name, oid);
		if (ret == 0 && (lab = xstrdup(revision)) == NULL)
			ret = ERR_NOMEM;
		goto named;
	}
	/* A branch, then a tag. */
	ref = select_join("refs/heads", revision);
	if (ref == NULL)
		return err_set(err, ERR_NOMEM, "out of memory");
	name = local_ref(ref);
	free(ref);
	if (name != NULL) {
		ret = ref_commit(repo, name, oid);
		if (ret == ERR_NOTFOUND) {
			free(name);
			name = select_join("refs/tags", revision);
			if (name == NULL)
				return err_set(err, ERR_NOMEM, "out of memory");
			ret = ref_commit(repo, name, oid);
		}
		if (ret == 0 && (lab = xstrdup(revision)) == NULL)
			ret = ERR_NOMEM;
	}
	/* Then a commit id. */
	if (ret == ERR_NOTFOUND && len >= SOURCE_GIT_MIN_SHORT_ID && len <= GIT_OID_HEXSZ &&
	    is_hex(revision, len)) {
		git_oid prefix;
		git_object *obj = NULL, *peeled = NULL;
		int r;

		if (git_oid_fromstrn(&prefix, revision, len) < 0)
			return err_set(err, ERR_INVAL, "bad commit id %.*s", SOURCE_GIT_MSG_PATH,
				       revision);
		r = git_object_lookup_prefix(&obj, repo, &prefix, len, GIT_OBJECT_ANY);
		if (r == GIT_EAMBIGUOUS) {
			ret = err_set(err, ERR_CONFLICT, "commit id %.*s is ambiguous",
				      SOURCE_GIT_MSG_PATH, revision);
			goto out;
		}
		if (r == 0) {
			if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) == 0) {
				git_oid_cpy(oid, git_object_id(peeled));
				ret = 0;
			} else {
				ret = ERR_INVAL;
			}
		}
		git_object_free(peeled);
		git_object_free(obj);
	}
named:
	if (ret == ERR_NOTFOUND)
		ret = err_set(err, ret, "revision %.*s not found in %.*s", SOURCE_GIT_MSG_PATH,
			      revision, SOURCE_GIT_MSG_PATH, shown);
	else if (ret == ERR_INVAL)
		ret = err_set(err, ret, "revision %.*s is not a commit", SOURCE_GIT_MSG_PATH,
			      revision);
	else if (ret == ERR_NOMEM)
		ret = err_set(err, ret, "out of memory");
out:
	if (ret == 0) {
		*label = lab;
		lab = NULL;
	}
	free(name);
	free(lab);
	return ret;
}

static int do_fetch(git_repository *repo, const char *url, const char *revision, const char *shown,
		    const struct source_git_opts *opts, git_remote **out, struct err_ctx *err)
{
	char *specs[3] = {"+refs/heads/*:" SOURCE_GIT_BRANCHES "*", "+refs/tags/*:refs/tags/*",
			  NULL};
	git_strarray arr = {specs, 2};
	git_fetch_options fo;
	git_remote_create_options ro;
	struct cred_state cs = {opts, url_ssh_port(url), 0, 0, 0, 0};
	git_remote *remote = NULL;
	char *extra = NULL, *local = NULL;
	int ret = 0, r;

	/* A "refs/..." revision outside heads and tags needs a refspec of its own. */
	if (str_has_prefix(revision, "refs/") && !str_has_prefix(revision, "refs/heads/") &&
	    !str_has_prefix(revision, "refs/tags/")) {
		local = local_ref(revision);
		if (local == NULL) {
			ret = err_set(err, ERR_INVAL, "revision %.*s is not a valid ref name",
				      SOURCE_GIT_MSG_PATH, revision);
			goto out;
		}
		if (concat4(&extra, "+", revision, ":", local) < 0) {
			ret = err_set(err, ERR_NOMEM, "out of memory");
			goto out;
		}
		specs[2] = extra;
		arr.count = 3;
	}
	if (git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION) < 0) {
		ret = err_set(err, ERR_IO, "libgit2 fetch options");
		goto out;
	}
	if (git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION) < 0) {
		ret = err_set(err, ERR_IO, "libgit2 remote options");
		goto out;
	}
	/* Anonymous, and no url.*.insteadOf rewriting of the URL we were given. */
	ro.repository = repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, url, &ro) < 0) {
		ret = git_fail(err, ERR_INVAL, url, shown, opts->password, "bad git URL");
		goto out;
	}
	fo.callbacks.credentials = cred_cb;
	fo.callbacks.certificate_check = cert_cb;
	fo.callbacks.payload = &cs;
	fo.prune = GIT_FETCH_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	wd.idle_ms = wd_conf_idle_ms > 0 ? wd_conf_idle_ms : SOURCE_GIT_IDLE_TIMEOUT_MS;
	wd.timed_out = 0;
	clock_gettime(CLOCK_MONOTONIC, &wd.end);
	{
		long total = wd_conf_total_ms > 0 ? wd_conf_total_ms : SOURCE_GIT_TIMEOUT_MS;

		wd.end.tv_sec += total / 1000;
		wd.end.tv_nsec += (total % 1000) * 1000000L;
		if (wd.end.tv_nsec >= 1000000000L) {
			wd.end.tv_sec++;
			wd.end.tv_nsec -= 1000000000L;
		}
	}
	r = git_remote_fetch(remote, &arr, &fo, NULL);
	if (r < 0) {
		ret = git_fail(err,
			       wd.timed_out ? ERR_TIMEOUT
			       : r == GIT_EAUTH || r == GIT_ECERTIFICATE || cs.host_refused ||
					 cs.tries > 0 || cs.ssh_tries > 0
				   ? ERR_PERM
				   : ERR_IO,
			       url, shown, opts->password, "cannot fetch");
		goto out;
	}
	*out = remote;
	remote = NULL;
out:
	git_remote_free(remote);
	free(extra);
	free(local);
	return ret;
}

/* ---- reading the tree ---- */

struct gwalk {
	git_repository *repo;
	git_odb *odb;
	const git_tree *root; /* borrowed */
	const struct select_limits *lim;
	struct tree t;
	git_oid stack[TREE_MAX_DEPTH + 1]; /* trees being walked, for link loops */
	size_t depth;
	size_t dirs;
	struct err_ctx *err;
};

static int gwalk_tree(struct gwalk *w, const git_tree *tree, const char *rel, const char *rootrel);

/* Reads the blob at oid into the tree under rel, checking its size from the object
 * header before inflating it. */
static int add_blob(struct gwalk *w, const git_oid *oid, uint32_t mode, const char *rel)
{
	git_object_t type;
	git_blob *blob = NULL;
	size_t size;
	int ret;

	if (git_odb_read_header(&size, &type, w->odb, oid) < 0 || type != GIT_OBJECT_BLOB)
		return err_set(w->err, ERR_IO, "cannot read object of %.*s", SOURCE_GIT_MSG_PATH,
			       rel);
	ret = select_check(w->lim, &w->t, rel, size, w->err);
	if (ret < 0)
		return ret;
	if (git_blob_lookup(&blob, w->repo, oid) < 0)
		return err_set(w->err, ERR_IO, "cannot read %.*s: %s", SOURCE_GIT_MSG_PATH, rel,
			       git_error_last() != NULL ? git_error_last()->message : "unknown");
	if ((size_t)git_blob_rawsize(blob) != size) {
		ret = err_set(w->err, ERR_IO, "object of %.*s changed size", SOURCE_GIT_MSG_PATH,
			      rel);
		goto out;
	}
	ret = select_add(w->lim, &w->t, rel, size != 0 ? git_blob_rawcontent(blob) : "", size, mode,
			 w->err);
out:
	git_blob_free(blob);
	return ret;
}

static uint32_t blob_mode(git_filemode_t m)
{
	return m == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644;
}

/* Reads the target of the link blob at oid into *out (owned). */
static int link_target(struct gwalk *w, const git_oid *oid, const char *what, char **out)
{
	git_object_t type;
	git_blob *blob = NULL;
	size_t size;
	char *t;

	if (git_odb_read_header(&size, &type, w->odb, oid) < 0 || type != GIT_OBJECT_BLOB)
		return err_set(w->err, ERR_IO, "cannot read symlink %.*s", SOURCE_GIT_MSG_PATH,
			       what);
	if (size > TREE_MAX_PATH)
		return err_set(w->err, ERR_INVAL, "symlink %.*s: target longer than %u bytes",
			       SOURCE_GIT_MSG_PATH, what, (unsigned)TREE_MAX_PATH);
	if (git_blob_lookup(&blob, w->repo, oid) < 0)
		return err_set(w->err, ERR_IO, "cannot read symlink %.*s", SOURCE_GIT_MSG_PATH,
			       what);
	size = (size_t)git_blob_rawsize(blob);
	t = size <= TREE_MAX_PATH ? xstrndup(size != 0 ? git_blob_rawcontent(blob) : "", size)
				  : NULL;
	git_blob_free(blob);
	if (t == NULL)
		return err_set(w->err, ERR_NOMEM, "out of memory");
	if (strlen(t) != size || t[0] == '\0') {
		free(t);
		return err_set(w->err, ERR_INVAL, "symlink %.*s has a bad target",
			       SOURCE_GIT_MSG_PATH, what);
	}
	*out = t;
	return 0;
}

/* Resolves path (from the root tree) inside the commit's tree, following links the way
 * the kernel would ("..": the parent of the directory reached so far). what names the
 * path in messages. *obj: owned tree or blob; *mode: its file mode. A walk above the root
 * (an absolute target, or ".." too many) is ERR_PERM. */
static int resolve_path(struct gwalk *w, const char *path, const char *what, git_object **obj,
			git_filemode_t *mode)
{
	git_tree *stack[TREE_MAX_DEPTH + 1];
	size_t sp = 0, hops = 0, pos = 0, rlen;
	char *rest = NULL, *target = NULL, *nrest;
	git_object *res = NULL;
	git_filemode_t rmode = GIT_FILEMODE_TREE;
	int ret = 0;

	if (git_object_dup((git_object **)&stack[0], (git_object *)w->root) < 0)
		return err_set(w->err, ERR_NOMEM, "out of memory");
	sp = 1;
	rest = xstrdup(path);
	if (rest == NULL) {
		ret = err_set(w->err, ERR_NOMEM, "out of memory");
		goto out;
	}
	rlen = strlen(rest);
	while (pos < rlen) {
		size_t start = pos, clen;
		const git_tree_entry *e;
		git_filemode_t m;
		char name[TREE_MAX_PATH + 1];

		while (pos < rlen && rest[pos] != '/')
			pos++;
		clen = pos - start;
		if (pos < rlen)
			pos++;
		if (clen == 0 || (clen == 1 && rest[start] == '.'))
			continue;
		if (res != NULL) { /* a component after a file */
			ret = err_set(w->err, ERR_NOTFOUND, "%.*s: not a directory on the way",
				      SOURCE_GIT_MSG_PATH, what);
			goto out;
		}
		if (clen == 2 && rest[start] == '.' && rest[start + 1] == '.') {
			if (sp == 1) {
				ret = err_set(w->err, ERR_PERM,
					      "symlink %.*s points outside the tree",
					      SOURCE_GIT_MSG_PATH, what);
				goto out;
			}
			git_tree_free(stack[--sp]);
			continue;
		}
		if (clen > TREE_MAX_PATH) {
			ret = err_set(w->err, ERR_INVAL, "%.*s: name too long", SOURCE_GIT_MSG_PATH,
				      what);
			goto out;
		}
		memcpy(name, rest + start, clen);
		name[clen] = '\0';
		if (strcasecmp(name, ".git") == 0) {
			ret = err_set(w->err, ERR_PERM, "%.*s: leads into .git, which is refused",
				      SOURCE_GIT_MSG_PATH, what);
			goto out;
		}
		e = git_tree_entry_byname(stack[sp - 1], name);
		if (e == NULL) {
			ret = err_set(w->err, ERR_NOTFOUND, "%.*s: target does not exist",
				      SOURCE_GIT_MSG_PATH, what);
			goto out;
		}
		m = git_tree_entry_filemode(e);
		switch (m) {
		case GIT_FILEMODE_TREE:
			if (sp == sizeof(stack) / sizeof(stack[0])) {
				ret = err_set(w->err, ERR_TOOBIG, "%.*s: deeper than %u components",
					      SOURCE_GIT_MSG_PATH, what, (unsigned)TREE_MAX_DEPTH);
				goto out;
			}
			if (git_tree_lookup(&stack[sp], w->repo, git_tree_entry_id(e)) < 0) {
				ret = err_set(w->err, ERR_IO, "%.*s: cannot read tree",
					      SOURCE_GIT_MSG_PATH, what);
				goto out;
			}
			sp++;
			break;
		case GIT_FILEMODE_BLOB:
		case GIT_FILEMODE_BLOB_EXECUTABLE:
			if (git_object_lookup(&res, w->repo, git_tree_entry_id(e),
					      GIT_OBJECT_BLOB) < 0) {
				ret = err_set(w->err, ERR_IO, "%.*s: cannot read blob",
					      SOURCE_GIT_MSG_PATH, what);
				goto out;
			}
			rmode = m;
			break;
		case GIT_FILEMODE_LINK:
			if (++hops > SELECT_MAX_LINK_HOPS) {
				ret = err_set(w->err, ERR_INVAL,
					      "symlink %.*s: too many levels of links",
					      SOURCE_GIT_MSG_PATH, what);
				goto out;
			}
			ret = link_target(w, git_tree_entry_id(e), what, &target);
			if (ret < 0)
				goto out;
			if (target[0] == '/') {
				ret = err_set(w->err, ERR_PERM,
					      "symlink %.*s points outside the tree",
					      SOURCE_GIT_MSG_PATH, what);
				goto out;
			}
			/* rest := target "/" rest[pos..] */
			if (strlen(target) + 1 + (rlen - pos) > SOURCE_GIT_MAX_RESOLVE) {
				ret = err_set(w->err, ERR_INVAL, "symlink %.*s: target too long",
					      SOURCE_GIT_MSG_PATH, what);
				goto out;
			}
			nrest = select_join(target, rest + pos);
			if (nrest == NULL) {
				ret = err_set(w->err, ERR_NOMEM, "out of memory");
				goto out;
			}
			free(rest);
			free(target);
			target = NULL;
			rest = nrest;
			rlen = strlen(rest);
			pos = 0;
			break;
		case GIT_FILEMODE_COMMIT:
			ret = err_set(w->err, ERR_UNSUPPORTED,
				      "%.*s: leads into a submodule, which is not supported",
				      SOURCE_GIT_MSG_PATH, what);
			goto out;
		default:
			ret = err_set(w->err, ERR_INVAL, "%.*s: unknown entry mode %o",
				      SOURCE_GIT_MSG_PATH, what, (unsigned)m);
			goto out;
		}
	}
	if (res == NULL) {
		res = (git_object *)stack[--sp];
		rmode = GIT_FILEMODE_TREE;
	}
	*obj = res;
	*mode = rmode;
	res = NULL;
out:
	git_object_free(res);
	while (sp > 0)
		git_tree_free(stack[--sp]);
	free(rest);
	free(target);
	return ret;
}

static int gwalk_entry(struct gwalk *w, const git_tree_entry *e, const char *rel,
		       const char *rootrel)
{
	git_filemode_t m = git_tree_entry_filemode(e);
	git_object *obj = NULL;
	git_tree *sub = NULL;
	int ret;

	switch (m) {
	case GIT_FILEMODE_BLOB:
	case GIT_FILEMODE_BLOB_EXECUTABLE:
		return add_blob(w, git_tree_entry_id(e), blob_mode(m), rel);
	case GIT_FILEMODE_TREE:
		ret = select_check_dir(w->lim, rel, w->err);
		if (ret < 0)
			return ret;
		if (git_tree_lookup(&sub, w->repo, git_tree_entry_id(e)) < 0)
			return err_set(w->err, ERR_IO, "cannot read tree %.*s", SOURCE_GIT_MSG_PATH,
				       rel);
		ret = gwalk_tree(w, sub, rel, rootrel);
		git_tree_free(sub);
		return ret;
	case GIT_FILEMODE_LINK:
		ret = resolve_path(w, rootrel, rel, &obj, &m);
		if (ret < 0)
			return ret;
		if (m == GIT_FILEMODE_TREE) {
			ret = select_check_dir(w->lim, rel, w->err);
			if (ret == 0)
				ret = gwalk_tree(w, (git_tree *)obj, rel, rootrel);
		} else {
			ret = add_blob(w, git_object_id(obj), blob_mode(m), rel);
		}
		git_object_free(obj);
		return ret;
	case GIT_FILEMODE_COMMIT:
		return err_set(w->err, ERR_UNSUPPORTED, "submodule at %.*s is not supported",
			       SOURCE_GIT_MSG_PATH, rel);
	default:
		return err_set(w->err, ERR_INVAL, "%.*s has unknown mode %o", SOURCE_GIT_MSG_PATH,
			       rel, (unsigned)m);
	}
}

static int gwalk_tree(struct gwalk *w, const git_tree *tree, const char *rel, const char *rootrel)
{
	const git_oid *id = git_tree_id(tree);
	size_t n = git_tree_entrycount(tree);
	char *crel = NULL, *croot = NULL;
	int ret = 0;

	for (size_t i = 0; i < w->depth; i++)
		if (git_oid_equal(&w->stack[i], id))
			return err_set(w->err, ERR_INVAL, "symlink loop at %.*s",
				       SOURCE_GIT_MSG_PATH, rel);
	if (w->depth == sizeof(w->stack) / sizeof(w->stack[0]))
		return err_set(w->err, ERR_TOOBIG, "path deeper than %zu components at %.*s",
			       w->lim->max_depth, SOURCE_GIT_MSG_PATH, rel);
	if (++w->dirs > SELECT_MAX_DIRS)
		return err_set(w->err, ERR_TOOBIG, "tree has more than %u directories at %.*s",
			       (unsigned)SELECT_MAX_DIRS, SOURCE_GIT_MSG_PATH, rel);
	if (n > SELECT_MAX_DIR_ENTRIES)
		return err_set(w->err, ERR_TOOBIG, "directory has more than %u entries at %.*s",
			       (unsigned)SELECT_MAX_DIR_ENTRIES, SOURCE_GIT_MSG_PATH,
			       rel[0] != '\0' ? rel : ".");
	git_oid_cpy(&w->stack[w->depth++], id);
	for (size_t i = 0; i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);

		if (strcasecmp(name, ".git") == 0) {
			ret =
			    err_set(w->err, ERR_PERM,
				    "entry %.*s%s%s is named .git: refused (git never commits one)",
				    SOURCE_GIT_MSG_PATH, rel, rel[0] != '\0' ? "/" : "", name);
			goto out;
		}
		if (!str_utf8_valid(name, strlen(name))) {
			ret = err_set(w->err, ERR_INVAL, "file name is not valid UTF-8 in %.*s",
				      SOURCE_GIT_MSG_PATH, rel[0] != '\0' ? rel : ".");
			goto out;
		}
		crel = select_join(rel, name);
		croot = select_join(rootrel, name);
		if (crel == NULL || croot == NULL) {
			ret = err_set(w->err, ERR_NOMEM, "out of memory");
			goto out;
		}
		ret = gwalk_entry(w, e, crel, croot);
		if (ret < 0)
			goto out;
		free(crel);
		free(croot);
		crel = croot = NULL;
	}
out:
	w->depth--;
	free(crel);
	free(croot);
	return ret;
}

static int read_commit(git_repository *repo, const git_oid *oid, const char *sub,
		       const struct select_limits *lim, struct tree *out, struct err_ctx *err)
{
	struct gwalk w;
	git_commit *commit = NULL;
	git_tree *root = NULL;
	git_object *obj = NULL;
	git_filemode_t mode;
	int ret;

	memset(&w, 0, sizeof(w));
	tree_init(&w.t);
	w.repo = repo;
	w.lim = lim;
	w.err = err;
	if (git_repository_odb(&w.odb, repo) < 0 || git_commit_lookup(&commit, repo, oid) < 0 ||
	    git_commit_tree(&root, commit) < 0) {
		ret = err_set(err, ERR_IO, "cannot read commit: %s",
			      git_error_last() != NULL ? git_error_last()->message : "unknown");
		goto out;
	}
	w.root = root;
	if (sub[0] == '\0') {
		ret = gwalk_tree(&w, root, "", "");
	} else {
		ret = resolve_path(&w, sub, sub, &obj, &mode);
		if (ret == ERR_NOTFOUND)
			ret = err_set(err, ret, "path %.*s not found in the revision",
				      SOURCE_GIT_MSG_PATH, sub);
		if (ret < 0)
			goto out;
		if (mode != GIT_FILEMODE_TREE) {
			ret = err_set(err, ERR_INVAL, "path %.*s is not a directory",
				      SOURCE_GIT_MSG_PATH, sub);
			goto out;
		}
		ret = gwalk_tree(&w, (git_tree *)obj, "", sub);
	}
	if (ret < 0)
		goto out;
	*out = w.t;
	tree_init(&w.t);
out:
	tree_free(&w.t);
	git_object_free(obj);
	git_tree_free(root);
	git_commit_free(commit);
	git_odb_free(w.odb);
	return ret;
}

int source_git_fetch_opts(const char *url, const char *revision, const char *subpath,
			  const char *scratch_dir, const struct source_git_opts *opts,
			  struct tree *out, char **resolved, struct err_ctx *err)
{
	static const struct source_git_opts none = {0};
	struct select_limits lim;
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	char *shown = NULL, *cache = NULL, *sub = NULL, *label = NULL, *res = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	struct tree t;
	git_oid oid;
	int ret;

	tree_init(&t);
	if (opts == NULL)
		opts = &none;
	if (url == NULL || url[0] == '\0' || scratch_dir == NULL)
		return err_set(err, ERR_INVAL, "git URL or scratch directory not set");
	if (revision == NULL)
		revision = "";
	if (strlen(revision) > SOURCE_GIT_MAX_REV || !str_utf8_valid(revision, strlen(revision)))
		return err_set(err, ERR_INVAL, "revision is too long or not UTF-8");
	ret = source_git_init();
	if (ret < 0)
		return err_set(err, ret, "libgit2 initialisation failed");
	select_limits_clamp(opts->limits, &lim);
	if (source_git_url_redact(url, &shown) < 0)
		return err_set(err, ERR_NOMEM, "out of memory");
	ret = url_check(url, shown, err);
	if (ret < 0)
		goto out;
	if (url_is_ssh(url) && opts->ssh_key == NULL) {
		/* no key: libssh2 would try the agent or ~/.ssh; neither exists here */
		ret = err_set(err, ERR_PERM, "%.*s is an SSH URL and no SSH private key is set "
					     "(sshPrivateKey)", SOURCE_GIT_MSG_PATH, shown);
		goto out;
	}
	ret = select_subpath_norm(subpath, &sub, err);
	if (ret < 0)
		goto out;
	ret = cache_path(scratch_dir, shown, &cache, err);
	if (ret < 0)
		goto out;
	ret = cache_open(scratch_dir, cache, &repo, err);
	if (ret < 0)
		goto out;
	(void)utimensat(AT_FDCWD, cache, NULL, 0); /* most recently used (git_cache.h) */
	ret = do_fetch(repo, url, revision, shown, opts, &remote, err);
	if (ret < 0)
		goto out;
	ret = resolve_rev(repo, remote, revision, shown, &oid, &label, err);
	if (ret < 0)
		goto out;
	ret = read_commit(repo, &oid, sub, &lim, &t, err);
	if (ret < 0)
		goto out;
	git_oid_tostr(hex, sizeof(hex), &oid);
	if (label != NULL)
		ret = concat4(&res, label, "@", "sha1:", hex);
	else
		ret = concat4(&res, "", "", "sha1:", hex);
	if (ret < 0) {
		ret = err_set(err, ERR_NOMEM, "out of memory");
		goto out;
	}
	*out = t;
	tree_init(&t);
	*resolved = res;
	res = NULL;
out:
	tree_free(&t);
	git_remote_free(remote);
	git_repository_free(repo);
	free(shown);
	free(cache);
	free(sub);
	free(label);
	free(res);
	return ret;
}

int source_git_fetch(const char *url, const char *revision, const char *subpath,
		     const char *scratch_dir, struct tree *out, char **resolved,
		     struct err_ctx *err)
{
	return source_git_fetch_opts(url, revision, subpath, scratch_dir, NULL, out, resolved, err);
}
