/* kustomize_runner.c — the kustomize helper process and the decryptor's client of it
 * (see kustomize_runner.h). The helper side is everything below "---- helper ----"; it
 * never returns into the decryptor's code: it ends with _exit. */
#include "decryptor/kustomize_runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/privdrop.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "decryptor/kustomize_sandbox.h"
#include "proto/frame.h"

#define RUNNER_REQUEST_MAX (TREE_MAX_PATH + 1) /* bytes of a request payload */
#define RUNNER_WIPE_DEPTH (TREE_MAX_DEPTH + 8) /* directory depth the wipe descends */
#define RUNNER_ZERO_CHUNK 65536
#define RUNNER_BUILD_DIR "b"
#define RUNNER_HOME_DIR "home"
#define RUNNER_PLUGIN_DIR "plugins"
#define RUNNER_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define RUNNER_ENV_MAX 4096 /* bytes of one environment entry */

struct kustomize_runner {
	pid_t pid;
	int fd; /* -1 once lost */
	size_t max_output;
	unsigned wall_s;
};

/* What the helper knows. */
struct helper {
	int sock;
	char scratch[PATH_MAX];
	char build[PATH_MAX]; /* scratch + "/b" */
	char binary[PATH_MAX];
	bool build_form; /* kustomize build (else kubectl kustomize) */
	char env_path[RUNNER_ENV_MAX], env_home[PATH_MAX + 8], env_plugins[PATH_MAX + 32];
	size_t max_output;
	unsigned wall_s, cpu_s;
};

/* ---- finding the binary (in the decryptor, before the fork) ---- */

static bool is_exec_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

static int find_in_path(const char *name, const char *path, char *out, size_t outsz)
{
	const char *p = path;

	if (strchr(name, '/') != NULL)
		return is_exec_file(name) && str_copy(out, outsz, name) == 0 ? 0 : ERR_NOTFOUND;
	while (*p != '\0') {
		const char *e = strchr(p, ':');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len > 0 && p[0] == '/' &&
		    str_fmt(out, outsz, "%.*s/%s", (int)len, p, name) == 0 && is_exec_file(out))
			return 0;
		p += len + (e != NULL);
	}
	return ERR_NOTFOUND;
}

/* ---- helper: the scratch tree ---- */

/* Overwrites a regular file's bytes with zeros. */
static void zero_file(int dirfd, const char *name, off_t size)
{
	static const uint8_t zeros[RUNNER_ZERO_CHUNK];
	int fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	while (size > 0) {
		size_t n = size > (off_t)sizeof(zeros) ? sizeof(zeros) : (size_t)size;
		ssize_t w = write(fd, zeros, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		size -= w;
	}
	(void)close(fd);
}

/* Wipes and removes everything below dirfd (the directory itself stays). 0, or ERR_IO
 * when something could not be removed. Takes no ownership of dirfd. */
static int wipe_below(int dirfd, unsigned depth)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	if (depth > RUNNER_WIPE_DEPTH || (fd = dup(dirfd)) < 0)
		return ERR_IO;
	if ((d = fdopendir(fd)) == NULL) {
		(void)close(fd);
		return ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = ERR_IO;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0 || wipe_below(sub, depth + 1) != 0)
				rc = ERR_IO;
			if (sub >= 0)
				(void)close(sub);
			if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) != 0)
				rc = ERR_IO;
			continue;
		}
		if (S_ISREG(st.st_mode))
			zero_file(dirfd, de->d_name, st.st_size);
		if (unlinkat(dirfd, de->d_name, 0) != 0)
			rc = ERR_IO;
	}
	closedir(d);
	return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes one tree file below rootfd, creating its directories (0700) on the way. */
static int put_file(int rootfd, const struct tree_file *f)
{
	char comp[TREE_MAX_PATH + 1];
	const char *p = f->path;
	int dfd, rc = 0;

	if ((dfd = dup(rootfd)) < 0)
		return ERR_IO;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		int nfd;

		if (len == 0 || len > TREE_MAX_PATH) {
			rc = ERR_INVAL;
			break;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		if (slash == NULL) {
			nfd = openat(dfd, comp,
				     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (nfd < 0) {
				rc = errno == EEXIST ? ERR_CONFLICT : ERR_IO;
				break;
			}
			rc = write_all(nfd, f->data, f->size);
			(void)close(nfd);
			break;
		}
		if (mkdirat(dfd, comp, 0700) != 0 && errno != EEXIST) {
			rc = ERR_IO;
			break;
		}
		nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			rc = errno == ENOTDIR ? ERR_CONFLICT : ERR_IO;
			break;
		}
		(void)close(dfd);
		dfd = nfd;
		p = slash + 1;
	}
	(void)close(dfd);
	return rc;
}

/* ---- helper: running kustomize ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void child_exec(const struct helper *h, const char *dir, int in, int out, int errfd)
{
	char *argv[7];
	char *envp[4];
	struct rlimit cpu = {h->cpu_s, h->cpu_s + 1};
	struct rlimit fsize = {h->max_output, h->max_output};
	int i = 0;

	(void)setpgid(0, 0);
	if (chdir(h->build) != 0)
		_exit(126);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
		_exit(126);
	if (setrlimit(RLIMIT_CPU, &cpu) != 0 || setrlimit(RLIMIT_FSIZE, &fsize) != 0)
		_exit(126);
	argv[i++] = (char *)h->binary;
	if (h->build_form) {
		argv[i++] = (char *)"build";
	} else {
		argv[i++] = (char *)"kustomize";
	}
	argv[i++] = (char *)"--load-restrictor";
	argv[i++] = (char *)"LoadRestrictionsRootOnly";
	argv[i++] = (char *)dir;
	argv[i] = NULL;
	envp[0] = (char *)h->env_path;
	envp[1] = (char *)h->env_home;
	envp[2] = (char *)h->env_plugins;
	envp[3] = NULL;
	execve(h->binary, argv, envp);
	_exit(127);
}

struct build_out {
	struct secbuf *out;
	char errtext[KUSTOMIZE_RUNNER_MAX_STDERR + 1];
	size_t nerr;
	int status;
	bool over, late;
};

/* Runs the binary on dir; fills b. 0 when the child could be run at all. */
static int run_kustomize(const struct helper *h, const char *dir, struct build_out *b)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
	uint64_t deadline = now_ms() + (uint64_t)h->wall_s * 1000u;
	bool out_open = true, err_open = true;
	uint8_t chunk[65536];
	pid_t pid;
	int rc = 0;

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
	    pipe2(errp, O_CLOEXEC) != 0) {
		rc = ERR_IO;
		goto out;
	}
	if ((pid = fork()) < 0) {
		rc = ERR_IO;
		goto out;
	}
	if (pid == 0)
		child_exec(h, dir, in[0], out[1], errp[1]);
	(void)setpgid(pid, pid);
	(void)close(in[0]);
	(void)close(in[1]); /* stdin: immediate EOF */
	(void)close(out[1]);
	(void)close(errp[1]);
	in[0] = in[1] = out[1] = errp[1] = -1;
	while (out_open || err_open) {
		struct pollfd pf[2];
		nfds_t np = 0;
		uint64_t t = now_ms();
		int pr;

		if (t >= deadline) {
			b->late = true;
			break;
		}
		if (out_open)
			pf[np++] = (struct pollfd){out[0], POLLIN, 0};
		if (err_open)
			pf[np++] = (struct pollfd){errp[0], POLLIN, 0};
		pr = poll(pf, np, (int)(deadline - t));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			break;
		for (nfds_t i = 0; i < np; i++) {
			ssize_t r;

			if (pf[i].revents == 0)
				continue;
			r = read(pf[i].fd, chunk, sizeof(chunk));
			if (r < 0 && errno == EINTR)
				continue;
			if (pf[i].fd == out[0]) {
				if (r <= 0)
					out_open = false;
				else if (secbuf_put(b->out, chunk, (size_t)r) != 0)
					b->over = true;
			} else {
				if (r <= 0) {
					err_open = false;
				} else {
					size_t room = KUSTOMIZE_RUNNER_MAX_STDERR - b->nerr;
					size_t take = (size_t)r < room ? (size_t)r : room;

					memcpy(b->errtext + b->nerr, chunk, take);
					b->nerr += take;
				}
			}
		}
		if (b->over)
			break;
	}
	explicit_bzero(chunk, sizeof(chunk));
	/* the pipes are closed: give the child until the deadline to exit by itself */
	while (!b->over && !b->late) {
		pid_t w = waitpid(pid, &b->status, WNOHANG);
		struct timespec ts = {0, 10 * 1000 * 1000};

		if (w == pid) {
			pid = -pid; /* reaped */
			break;
		}
		if (w < 0 && errno != EINTR)
			break;
		if (now_ms() >= deadline)
			b->late = true;
		else
			(void)nanosleep(&ts, NULL);
	}
	if (pid < 0) {
		(void)kill(pid, SIGKILL); /* the rest of its group, if any */
	} else {
		(void)kill(-pid, SIGKILL); /* the group: whatever it started, finished or not */
		while (waitpid(pid, &b->status, 0) < 0 && errno == EINTR)
			;
	}
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			(void)close(in[i]);
		if (out[i] >= 0)
			(void)close(out[i]);
		if (errp[i] >= 0)
			(void)close(errp[i]);
	}
	b->errtext[b->nerr] = '\0';
	return rc;
}

/* ---- helper: sanitising stderr ---- */

static const char *const san_cuts[] = {"\\n", "\n", " : ", "line [", "map[", "{", "\\x"};

void kustomize_runner_sanitize(const char *text, size_t n, const char *strip_prefix,
			       const struct tree *t, char *out, size_t outsz)
{
	char line[KUSTOMIZE_RUNNER_MAX_STDERR + 1];
	const char *p = text, *end = text + n, *pick = NULL;
	size_t len = 0, o = 0, plen = strip_prefix ? strlen(strip_prefix) : 0;

	if (outsz == 0)
		return;
	out[0] = '\0';
	/* the first error line */
	for (const char *l = p; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		const char *le = nl ? nl : end;
		const char *m;

		if (pick == NULL && le > l)
			pick = l, len = (size_t)(le - l);
		if ((size_t)(le - l) >= 7 && memcmp(l, "Error: ", 7) == 0) {
			pick = l + 7;
			len = (size_t)(le - pick);
			break;
		}
		if ((m = memmem(l, (size_t)(le - l), "err=\"", 5)) != NULL) {
			const char *q = le;

			pick = m + 5;
			while (q > pick && q[-1] != '"')
				q--;
			len = q > pick ? (size_t)(q - 1 - pick) : (size_t)(le - pick);
			break;
		}
		l = le + (nl != NULL);
	}
	if (pick == NULL)
		goto out;
	if (len > KUSTOMIZE_RUNNER_MAX_STDERR)
		len = KUSTOMIZE_RUNNER_MAX_STDERR;
	/* copy without the build prefix */
	for (size_t i = 0; i < len;) {
		if (plen > 0 && len - i >= plen && memcmp(pick + i, strip_prefix, plen) == 0) {
			i += plen;
			continue;
		}
		line[o++] = pick[i++];
	}
	line[o] = '\0';
	/* cut where content may begin */
	for (size_t i = 0; i < sizeof(san_cuts) / sizeof(san_cuts[0]); i++) {
		char *c = strstr(line, san_cuts[i]);

		if (c != NULL)
			*c = '\0';
	}
	/* quoted segments: kept only when they name a tree path */
	o = 0;
	for (size_t i = 0; line[i] != '\0' && o + 4 < outsz && o < KUSTOMIZE_RUNNER_MAX_ERRLINE;) {
		char q = line[i];
		char *close;

		if ((q == '\'' || q == '"' || q == '`') &&
		    (close = strchr(line + i + 1, q)) != NULL) {
			size_t sl = (size_t)(close - (line + i + 1));
			bool keep = false;

			if (t != NULL && sl > 0 && sl <= TREE_MAX_PATH) {
				char seg[TREE_MAX_PATH + 1];

				memcpy(seg, line + i + 1, sl);
				seg[sl] = '\0';
				keep = tree_find(t, seg) != NULL;
			}
			out[o++] = q;
			if (keep) {
				size_t room = outsz - o - 2;

				if (sl > room)
					sl = room;
				memcpy(out + o, line + i + 1, sl);
				o += sl;
			} else {
				memcpy(out + o, "\xe2\x80\xa6", 3); /* … */
				o += 3;
			}
			if (o + 1 < outsz)
				out[o++] = q;
			i = (size_t)(close - line) + 1;
			continue;
		}
		out[o++] = line[i++];
	}
	if (o >= outsz)
		o = outsz - 1;
	out[o] = '\0';
	/* trailing separators left by a cut */
	while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == ':'))
		out[--o] = '\0';
out:
	explicit_bzero(line, sizeof(line));
	if (out[0] == '\0')
		(void)str_copy(out, outsz, "kustomize failed");
}

/* ---- helper: one request ---- */

static int reply(int sock, int rc, const uint8_t *body, size_t n)
{
	struct secbuf *r = NULL;
	uint8_t st = (uint8_t)(rc < 0 ? -rc : 0);
	int wrc;

	if (secbuf_new(&r, n + 1) != 0)
		return ERR_NOMEM;
	if (secbuf_put(r, &st, 1) != 0 || (n > 0 && secbuf_put(r, body, n) != 0)) {
		secbuf_free(r);
		return ERR_NOMEM;
	}
	wrc = frame_write(sock, r->data, r->len, -1);
	secbuf_free(r);
	return wrc;
}

static int reply_msg(int sock, int rc, const char *msg)
{
	return reply(sock, rc, (const uint8_t *)msg, strlen(msg));
}

static int serve_one(struct helper *h, const char *kpath, int memfd)
{
	struct tree t;
	struct build_out *b = NULL;
	char dir[PATH_MAX], prefix[PATH_MAX + 1];
	char msg[KUSTOMIZE_RUNNER_MAX_ERRLINE + 256];
	int bfd = -1, hfd = -1, st = 0, rc;
	bool ok = false;

	msg[0] = '\0';
	tree_init(&t);
	rc = tree_from_memfd(memfd, &t);
	(void)close(memfd);
	if (rc != 0)
		return reply_msg(h->sock, rc, "the tree sent to the kustomize runner is malformed");
	if (tree_path_check(kpath) != 0 && kpath[0] != '\0') {
		st = ERR_INVAL;
		(void)str_copy(msg, sizeof(msg), "bad kustomization directory");
		goto out;
	}
	if (mkdir(h->build, 0700) != 0 ||
	    (bfd = open(h->build, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		st = ERR_IO;
		(void)str_copy(msg, sizeof(msg), "cannot make the build directory");
		goto out;
	}
	for (size_t i = 0; i < t.n; i++) {
		if ((rc = put_file(bfd, &t.files[i])) != 0) {
			st = rc;
			(void)snprintf(msg, sizeof(msg),
				       "cannot write %.256s into the build directory",
				       t.files[i].path);
			goto out;
		}
		/* plaintext now lives only in the build directory; the paths stay for the
		 * error-line sanitiser */
		explicit_bzero(t.files[i].data, t.files[i].size);
	}
	if ((b = calloc(1, sizeof(*b))) == NULL || secbuf_new(&b->out, h->max_output) != 0) {
		st = ERR_NOMEM;
		(void)str_copy(msg, sizeof(msg), "out of memory");
		goto out;
	}
	if ((kpath[0] ? str_fmt(dir, sizeof(dir), "%s/%s", h->build, kpath)
		      : str_copy(dir, sizeof(dir), h->build)) != 0 ||
	    str_fmt(prefix, sizeof(prefix), "%s/", h->build) != 0) {
		st = ERR_TOOBIG;
		(void)str_copy(msg, sizeof(msg), "path too long");
		goto out;
	}
	if (run_kustomize(h, dir, b) != 0) {
		st = ERR_IO;
		(void)str_copy(msg, sizeof(msg), "cannot start kustomize");
		goto out;
	}
	if (b->over) {
		st = ERR_TOOBIG;
		(void)snprintf(msg, sizeof(msg),
			       "kustomize output is larger than the cap of %zu bytes; refused",
			       h->max_output);
	} else if (b->late) {
		st = ERR_TIMEOUT;
		(void)snprintf(msg, sizeof(msg), "kustomize ran longer than %u s; killed",
			       h->wall_s);
	} else if (WIFSIGNALED(b->status) &&
		   (WTERMSIG(b->status) == SIGXCPU || WTERMSIG(b->status) == SIGKILL)) {
		st = ERR_TIMEOUT;
		(void)snprintf(msg, sizeof(msg), "kustomize used more than %u s of CPU; killed",
			       h->cpu_s);
	} else if (WIFSIGNALED(b->status)) {
		st = ERR_REMOTE;
		(void)snprintf(msg, sizeof(msg), "kustomize was killed by signal %d",
			       WTERMSIG(b->status));
	} else if (WEXITSTATUS(b->status) == 127 || WEXITSTATUS(b->status) == 126) {
		st = ERR_IO;
		(void)snprintf(msg, sizeof(msg), "cannot execute %.200s", h->binary);
	} else if (WEXITSTATUS(b->status) != 0) {
		st = ERR_REMOTE;
		kustomize_runner_sanitize(b->errtext, b->nerr, prefix, &t, msg, sizeof(msg));
	} else {
		ok = true;
	}
out:
	/* wipe first, answer after: when the decryptor hears back, nothing is left */
	if (bfd >= 0) {
		(void)wipe_below(bfd, 0);
		(void)close(bfd);
		(void)rmdir(h->build);
	}
	if ((hfd = open(h->env_home + 5, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		(void)wipe_below(hfd, 0); /* whatever kubectl cached in HOME */
		(void)close(hfd);
	}
	if (ok)
		rc = reply(h->sock, 0, b->out->data, b->out->len);
	else
		rc = reply_msg(h->sock, st != 0 ? st : ERR_IO, msg[0] ? msg : "kustomize failed");
	if (b != NULL) {
		secbuf_free(b->out);
		explicit_bzero(b, sizeof(*b));
		free(b);
	}
	tree_free(&t);
	return rc;
}

/* The helper's first process: it only waits for the sandboxed worker to end (however it
 * ends: EOF, crash, kill), then wipes and removes the scratch directory, so no plaintext
 * outlives the worker. It runs as the kustomize uid with no descriptor but 0-2 (/dev/null
 * and the inherited stderr), and never reads anything. */
static void reaper_main(const struct helper *h, pid_t worker)
{
	struct err_ctx err = {{0}};
	unsigned uid, gid;
	int st, dfd, root = geteuid() == 0;

	(void)close(h->sock);
	if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0) {
		for (int fd = 3; fd < KUSTOMIZE_SANDBOX_NOFILE; fd++)
			(void)close(fd);
	}
	if (root && (kustomize_sandbox_ids(&uid, &gid) != 0 || privdrop_to(uid, gid, &err) != 0))
		root = -1; /* could not drop: wait, but touch nothing as root */
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	while (waitpid(worker, &st, 0) < 0 && errno == EINTR)
		;
	if (root >= 0 &&
	    (dfd = open(h->scratch, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		(void)wipe_below(dfd, 0);
		(void)close(dfd);
		(void)rmdir(h->scratch);
	}
	_exit(0);
}

static void helper_main(struct helper *h)
{
	const char *ro_all[] = {"/usr", "/lib", "/lib64", "/bin", "/sbin"};
	const char *ro[KUSTOMIZE_SANDBOX_MAX_RO];
	char real[PATH_MAX], bindir[PATH_MAX], home[PATH_MAX], plugins[PATH_MAX];
	struct err_ctx err = {{0}};
	struct stat st;
	size_t nro = 0;
	pid_t worker;
	int nullfd;

	if ((nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		(void)dup2(nullfd, 0);
		(void)dup2(nullfd, 1);
		(void)close(nullfd);
	}
	if (str_fmt(home, sizeof(home), "%s/" RUNNER_HOME_DIR, h->scratch) != 0 ||
	    str_fmt(plugins, sizeof(plugins), "%s/" RUNNER_PLUGIN_DIR, h->scratch) != 0 ||
	    str_fmt(h->build, sizeof(h->build), "%s/" RUNNER_BUILD_DIR, h->scratch) != 0 ||
	    mkdir(home, 0700) != 0 || mkdir(plugins, 0700) != 0)
		_exit(3);
	if (geteuid() == 0) {
		unsigned uid, gid;

		if (kustomize_sandbox_ids(&uid, &gid) != 0 ||
		    chown(h->scratch, (uid_t)uid, (gid_t)gid) != 0 ||
		    chown(home, (uid_t)uid, (gid_t)gid) != 0 ||
		    chown(plugins, (uid_t)uid, (gid_t)gid) != 0)
			_exit(3);
	}
	if ((worker = fork()) < 0)
		_exit(3);
	if (worker > 0)
		reaper_main(h, worker); /* never returns */
	for (size_t i = 0; i < sizeof(ro_all) / sizeof(ro_all[0]); i++) {
		if (lstat(ro_all[i], &st) == 0 && S_ISDIR(st.st_mode))
			ro[nro++] = ro_all[i];
	}
	if (realpath(h->binary, real) != NULL && str_copy(bindir, sizeof(bindir), real) == 0) {
		char *slash = strrchr(bindir, '/');
		bool covered = false;

		if (slash != NULL && slash != bindir)
			*slash = '\0';
		for (size_t i = 0; i < nro; i++) {
			size_t l = strlen(ro[i]);

			if (strncmp(bindir, ro[i], l) == 0 && (bindir[l] == '/' || !bindir[l]))
				covered = true;
		}
		if (!covered && nro < KUSTOMIZE_SANDBOX_MAX_RO)
			ro[nro++] = bindir;
	}
	if (kustomize_sandbox_enter(h->scratch, ro, nro, h->sock, &err) != 0) {
		(void)reply_msg(h->sock, ERR_PERM, err.msg);
		_exit(4);
	}
	for (;;) {
		struct secbuf *req = NULL;
		char kpath[RUNNER_REQUEST_MAX + 1];
		int fd = -1, rc;

		rc = frame_read(h->sock, RUNNER_REQUEST_MAX, &req, &fd);
		if (rc != 0)
			break; /* EOF: the decryptor is gone or done */
		if (fd < 0 || req->len > RUNNER_REQUEST_MAX || memchr(req->data, 0, req->len)) {
			if (fd >= 0)
				(void)close(fd);
			secbuf_free(req);
			(void)reply_msg(h->sock, ERR_PROTO, "malformed request");
			break;
		}
		memcpy(kpath, req->data, req->len);
		kpath[req->len] = '\0';
		secbuf_free(req);
		if (serve_one(h, kpath, fd) != 0)
			break;
	}
	_exit(0);
}

/* ---- the decryptor's side ---- */

int kustomize_runner_start(struct kustomize_runner **out, struct err_ctx *err)
{
	return kustomize_runner_start_opts(NULL, out, err);
}

int kustomize_runner_start_opts(const struct kustomize_runner_opts *o,
				struct kustomize_runner **out, struct err_ctx *err)
{
	struct kustomize_runner *r;
	struct helper *h;
	const char *path = getenv("PATH"), *parent, *base;
	int sv[2];
	pid_t pid;
	struct stat st;

	if (out == NULL)
		return err_set(err, ERR_INVAL, "kustomize runner: bad arguments");
	if (path == NULL || path[0] == '\0')
		path = RUNNER_DEFAULT_PATH;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return ERR_NOMEM;
	h->max_output = o && o->max_output ? o->max_output : KUSTOMIZE_RUNNER_MAX_OUTPUT;
	h->wall_s = o && o->wall_s ? o->wall_s : KUSTOMIZE_RUNNER_WALL_S;
	h->cpu_s = o && o->cpu_s ? o->cpu_s : KUSTOMIZE_RUNNER_CPU_S;
	if (o && o->binary) {
		if (find_in_path(o->binary, path, h->binary, sizeof(h->binary)) != 0) {
			free(h);
			return err_set(err, ERR_NOTFOUND, "kustomize runner: %.200s not found",
				       o->binary);
		}
	} else if (find_in_path("kustomize", path, h->binary, sizeof(h->binary)) != 0 &&
		   find_in_path("kubectl", path, h->binary, sizeof(h->binary)) != 0) {
		free(h);
		return err_set(err, ERR_NOTFOUND,
			       "kustomize mode needs kustomize or kubectl on PATH; neither found");
	}
	base = strrchr(h->binary, '/');
	base = base ? base + 1 : h->binary;
	h->build_form = strncmp(base, "kustomize", 9) == 0;
	parent = o && o->scratch_parent ? o->scratch_parent : NULL;
	if (parent == NULL)
		parent = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
				 access("/dev/shm", W_OK) == 0
			     ? "/dev/shm"
			     : getenv("TMPDIR");
	if (parent == NULL || parent[0] != '/')
		parent = "/tmp";
	if (str_fmt(h->scratch, sizeof(h->scratch), "%s/smc-kustomize-XXXXXX", parent) != 0 ||
	    str_fmt(h->env_path, sizeof(h->env_path), "PATH=%s", path) != 0) {
		free(h);
		return err_set(err, ERR_TOOBIG, "kustomize runner: path too long");
	}
	if (mkdtemp(h->scratch) == NULL) {
		int e = errno;

		free(h);
		return err_set(err, ERR_IO, "kustomize runner: scratch directory under %s: %s",
			       parent, strerror(e));
	}
	(void)str_fmt(h->env_home, sizeof(h->env_home), "HOME=%s/" RUNNER_HOME_DIR, h->scratch);
	(void)str_fmt(h->env_plugins, sizeof(h->env_plugins),
		      "KUSTOMIZE_PLUGIN_HOME=%s/" RUNNER_PLUGIN_DIR, h->scratch);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		(void)rmdir(h->scratch);
		free(h);
		return ERR_NOMEM;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		(void)rmdir(h->scratch);
		free(h);
		free(r);
		return err_set(err, ERR_IO, "kustomize runner: socketpair: %s", strerror(errno));
	}
	if ((pid = fork()) < 0) {
		int e = errno;

		(void)close(sv[0]);
		(void)close(sv[1]);
		(void)rmdir(h->scratch);
		free(h);
		free(r);
		return err_set(err, ERR_IO, "kustomize runner: fork: %s", strerror(e));
	}
	if (pid == 0) {
		(void)close(sv[0]);
		h->sock = sv[1];
		helper_main(h); /* never returns */
		_exit(1);
	}
	(void)close(sv[1]);
	r->pid = pid;
	r->fd = sv[0];
	r->max_output = h->max_output;
	r->wall_s = h->wall_s;
	free(h);
	*out = r;
	return 0;
}

int kustomize_runner_fd(const struct kustomize_runner *r)
{
	return r ? r->fd : -1;
}

int kustomize_runner_alive(const struct kustomize_runner *r)
{
	return r != NULL && r->fd >= 0;
}

static void runner_lost(struct kustomize_runner *r)
{
	if (r->fd >= 0)
		(void)close(r->fd);
	r->fd = -1;
}

int kustomize_runner_build(struct kustomize_runner *r, const struct tree *plaintext_tree,
			   const char *kustomize_path, struct secbuf **yaml_out,
			   struct err_ctx *err)
{
	struct secbuf *payload = NULL, *yaml = NULL;
	const char *kp = kustomize_path ? kustomize_path : "";
	struct pollfd pf;
	int memfd = -1, rfd = -1, rc, pr;
	size_t cap;

	if (r == NULL || plaintext_tree == NULL || yaml_out == NULL)
		return err_set(err, ERR_INVAL, "kustomize runner: bad arguments");
	if (r->fd < 0)
		return err_set(err, ERR_IO,
			       "the kustomize runner is gone; the decryptor must "
			       "restart");
	if (strlen(kp) > TREE_MAX_PATH)
		return err_set(err, ERR_TOOBIG, "kustomize path too long");
	if ((rc = tree_to_memfd(plaintext_tree, &memfd)) != 0)
		return err_set(err, rc, "kustomize: cannot pass the tree to the runner: %s",
			       err_str(rc));
	rc = frame_write(r->fd, (const uint8_t *)kp, strlen(kp), memfd);
	(void)close(memfd);
	if (rc != 0) {
		runner_lost(r);
		return err_set(err, ERR_IO, "the kustomize runner is gone (%s)", err_str(rc));
	}
	pf.fd = r->fd;
	pf.events = POLLIN;
	pf.revents = 0;
	do {
		pr = poll(&pf, 1, (int)((r->wall_s + KUSTOMIZE_RUNNER_REPLY_SLACK) * 1000u));
	} while (pr < 0 && errno == EINTR);
	if (pr <= 0) {
		runner_lost(r);
		return err_set(err, ERR_TIMEOUT, "the kustomize runner did not answer in %u s",
			       r->wall_s + KUSTOMIZE_RUNNER_REPLY_SLACK);
	}
	if (!size_add(r->max_output, KUSTOMIZE_RUNNER_REPLY_SLACK, &cap))
		cap = FRAME_MAX;
	if ((rc = frame_read(r->fd, cap, &payload, &rfd)) != 0 || rfd >= 0 || payload->len == 0) {
		if (rfd >= 0)
			(void)close(rfd);
		secbuf_free(payload);
		runner_lost(r);
		return err_set(err, rc == ERR_EOF || rc == 0 ? ERR_IO : rc,
			       "the kustomize runner is gone (%s)",
			       rc == ERR_EOF ? "it exited" : "malformed reply");
	}
	if (payload->data[0] != 0) {
		int code = -(int)payload->data[0];

		rc = err_set(err, code, "kustomize build of \"%.200s\": %.*s", kp[0] ? kp : ".",
			     (int)(payload->len - 1 > KUSTOMIZE_RUNNER_MAX_ERRLINE + 64
				       ? KUSTOMIZE_RUNNER_MAX_ERRLINE + 64
				       : payload->len - 1),
			     (const char *)payload->data + 1);
		secbuf_free(payload);
		return rc;
	}
	rc = secbuf_from(&yaml, payload->data + 1, payload->len - 1);
	secbuf_free(payload);
	if (rc != 0)
		return err_set(err, rc, "kustomize output: %s", err_str(rc));
	*yaml_out = yaml;
	return 0;
}

void kustomize_runner_stop(struct kustomize_runner *r)
{
	int status;

	if (r == NULL)
		return;
	runner_lost(r);
	if (r->pid > 0) {
		while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	free(r);
}
