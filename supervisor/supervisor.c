/* supervisor.c — smcd: creates the socketpairs, re-executes each role's binary with its
 * sockets on fixed fds, forwards the children's log lines, restarts a dead child with
 * backoff and shuts down cleanly on SIGTERM.
 *
 *   smcd --once -f CONFIG [--dry-run] [--result-fd N] [--keys DIR] [--store PATH]
 *       runs one job through the pipeline, writes its RESULT as one JSON line to fd N
 *       (default stdout) and exits 0 on success, 1 on a failed job, 2 on a usage or
 *       start-up error.                              (this is what `smc sync` runs)
 *   smcd -f CONFIG [--keys DIR]
 *       runs the job every spec.reconcileInterval until SIGTERM.
 *   smcd --cluster [--kubeconfig PATH] [--context C] [--namespace NS] [--label-selector SEL]
 *        [--metrics-port N] [--metrics-addr A] [--leader-elect] [--lease-name N]
 *        [--lease-namespace NS] [--identity ID] [--keys DIR] [--store PATH]
 *       in-cluster controller: the watcher watches SecretManagerConfigs and Flux sources
 *       and runs a job per config; smcd serves /healthz, /readyz and /metrics. --store
 *       points every config with the local provider at that store (tests, dev).
 *       Flags may also come from the environment: SMC_NAMESPACE, SMC_LABEL_SELECTOR,
 *       SMC_METRICS_PORT, SMC_LEADER_ELECT=true, SMC_LEASE_NAME, SMC_LEASE_NAMESPACE,
 *       SMC_ARGOCD_NAMESPACE, SMC_ALLOW_CROSS_NAMESPACE_REFS=true. --argocd-namespace NS
 *       (default argocd): where ArgoCD keeps its repository Secrets and
 *       argocd-ssh-known-hosts-cm. --allow-cross-namespace-refs: a config may name a cloud
 *       credentials Secret (spec.provider.*.auth.secretNamespace) outside its own
 *       namespace; refused by default, since it would let a config's author use
 *       credentials they cannot read. --fetcher-ports P,P...: the
 *       only TCP ports the fetcher may connect to (Landlock; default: any, since the
 *       sources are only known job by job and a ruleset can never be widened again).
 *   Both modes: --cache-dir DIR keeps the fetcher's Git clone cache there (default: the
 *       per-run scratch directory), --cache-max BYTES caps it (LRU eviction). In one-shot
 *       mode the fetcher may reach only the source URL's port (none for a local source).
 */
#include "supervisor/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sandbox.h"
#include "common/smconfig.h"
#include "common/str.h"
#include "proto/peer.h"
#include "supervisor/tap_server.h"
#include "supervisor/metrics_http.h"

#define SHUTDOWN_GRACE_MS 3000
#define ONCE_TIMEOUT_S 600 /* a one-shot job that takes longer than this is stopped */
#define SUP_MAX_FETCHER_PORTS 16 /* = SANDBOX_MAX_PORTS */

struct opts {
	const char *config;
	const char *keys;
	const char *store; /* --store: overrides spec.provider.local.path */
	bool once, dry_run;
	int result_fd;
	/* cluster mode */
	bool cluster, leader_elect;
	const char *kubeconfig, *context, *ns, *label_selector, *lease_name, *lease_ns, *identity;
	const char *metrics_addr;
	int metrics_port;
	const char *argocd_ns;	   /* --argocd-namespace (cluster): Argo's repository Secrets */
	bool allow_cross_ns;	   /* --allow-cross-namespace-refs (cluster): credentials
				      Secrets in another namespace than the config's */
	const char *cache_dir;	   /* --cache-dir: the fetcher's Git clone cache (kept) */
	const char *cache_max;	   /* --cache-max BYTES: its cap */
	const char *fetcher_ports; /* --fetcher-ports P,P...: the only TCP ports it may reach */
	const char *tap_socket;	   /* --tap-socket PATH (or $SMC_TAP_SOCKET): `smc tap` reads it */
};

/* Paths prepared for the children's sandboxes (they must outlive the children). */
struct prepared {
	char config[PATH_MAX];
	char source[PATH_MAX];
	char store_dir[PATH_MAX];
	char scratch[PATH_MAX];
	char keys[PATH_MAX];
	char store[PATH_MAX]; /* absolute --store */
	char kubeconfig[PATH_MAX];
	char cache[PATH_MAX]; /* absolute --cache-dir */
	char ports[SUP_MAX_FETCHER_PORTS][8];
};

/* The job's RESULT when it never reached the end of the pipeline: which stage, why. */
static void set_failure(struct sup *s, const char *stage, const char *reason, int code)
{
	json_decref(s->result);
	s->result = json_pack("{s:s, s:{s:s, s:s, s:i}}", "revision", "", "error", "stage", stage,
			      "reason", reason, "code", (json_int_t)code);
	s->result_code = code;
}

static int usage(void)
{
	fprintf(stderr, "usage: smcd [--once] -f CONFIG [--dry-run] [--result-fd N] [--keys DIR] "
			"[--store PATH]\n"
			"       smcd --cluster [--kubeconfig PATH] [--context C] [--namespace NS]\n"
			"            [--label-selector SEL] [--metrics-port N] [--metrics-addr A]\n"
			"            [--leader-elect] [--lease-name N] [--lease-namespace NS]\n"
			"            [--identity ID] [--keys DIR] [--store PATH]\n"
			"            [--argocd-namespace NS] [--fetcher-ports P,P...]\n"
			"            [--allow-cross-namespace-refs]\n"
			"       both: [--cache-dir DIR] [--cache-max BYTES]\n");
	return 2;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tree(const char *dir)
{
	if (dir[0] != '\0')
		(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p with mode for the missing components. */
static int mkdirs(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];

	if (str_copy(tmp, sizeof(tmp), path) != 0)
		return ERR_TOOBIG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, mode) != 0 && errno != EEXIST)
				return ERR_IO;
			*p = '/';
		}
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return ERR_IO;
	return 0;
}

static void give_to_role(const char *path, const char *role)
{
	unsigned uid, gid;

	if (geteuid() == 0 && sandbox_role_ids(role, &uid, &gid) == 0) {
		if (chown(path, uid, gid) != 0)
			log_warn("sandbox.chown", "cannot give %s to %s: %s", path, role,
				 strerror(errno));
	}
}

/* The TCP port a source URL reaches: 0 for local paths and file://, -1 when unknown. */
static long url_port(const char *url)
{
	static const struct {
		const char *scheme;
		long port;
	} dflt[] = {{"http://", 80}, {"https://", 443}, {"ssh://", 22}, {"git://", 9418}};
	const char *h = strstr(url, "://"), *e, *c;
	long port = -1;

	if (str_has_prefix(url, "file://"))
		return 0;
	if (h == NULL) { /* a path, or scp-like "user@host:path" (ssh) */
		c = strchr(url, ':');
		e = strchr(url, '/');
		return c != NULL && (e == NULL || c < e) ? 22 : 0;
	}
	for (size_t i = 0; i < sizeof(dflt) / sizeof(dflt[0]); i++)
		if (str_has_prefix(url, dflt[i].scheme))
			port = dflt[i].port;
	h += 3;
	e = h + strcspn(h, "/?#");
	for (const char *a = h; a < e; a++)
		if (*a == '@')
			h = a + 1;
	c = *h == '[' ? memchr(h, ']', (size_t)(e - h)) : h;
	c = c != NULL ? memchr(c, ':', (size_t)(e - c)) : NULL;
	if (c != NULL && c + 1 < e) {
		int64_t v;
		char buf[8];

		if ((size_t)(e - c - 1) >= sizeof(buf))
			return -1;
		memcpy(buf, c + 1, (size_t)(e - c - 1));
		buf[e - c - 1] = '\0';
		port = str_to_i64(buf, 1, 65535, &v) == 0 ? (long)v : -1;
	}
	return port;
}

/* Narrows the fetcher's TCP: --no-tcp for a local source, --port N for a known one; in
 * cluster mode the list of --fetcher-ports (nothing: any port). */
static int fetcher_net_args(struct sup *s, const struct opts *o, struct prepared *pp,
			    const char *kind, const char *url, struct err_ctx *err)
{
	size_t n = 0;
	int rc = 0;

	if (o->fetcher_ports != NULL) {
		const char *p = o->fetcher_ports;

		while (*p != '\0') {
			size_t len = strcspn(p, ",");
			int64_t v;

			if (n == SUP_MAX_FETCHER_PORTS || len == 0 || len >= sizeof(pp->ports[0]))
				return err_set(err, ERR_INVAL, "--fetcher-ports: up to %d ports "
							       "1..65535, comma-separated",
					       SUP_MAX_FETCHER_PORTS);
			memcpy(pp->ports[n], p, len);
			pp->ports[n][len] = '\0';
			if (str_to_i64(pp->ports[n], 1, 65535, &v) != 0)
				return err_set(err, ERR_INVAL, "--fetcher-ports: bad port %s",
					       pp->ports[n]);
			n++;
			p += len + (p[len] == ',');
		}
	} else if (kind != NULL) {
		long port = strcmp(kind, "directory") == 0 ? 0 : url_port(url ? url : "");

		if (port == 0)
			return proctab_add_arg(&s->pt, ROLE_FETCHER, "--no-tcp") ? ERR_TOOBIG : 0;
		if (port > 0)
			(void)str_fmt(pp->ports[n++], sizeof(pp->ports[0]), "%ld", port);
	}
	for (size_t i = 0; i < n; i++) {
		rc |= proctab_add_arg(&s->pt, ROLE_FETCHER, "--port");
		rc |= proctab_add_arg(&s->pt, ROLE_FETCHER, pp->ports[i]);
	}
	return rc ? err_set(err, ERR_TOOBIG, "too many child arguments") : 0;
}

/* --cache-dir / --cache-max for the fetcher: the directory is created, given to the
 * fetcher's uid and kept across runs (the clone cache). */
static int fetcher_cache_args(struct sup *s, const struct opts *o, struct prepared *pp,
			      struct err_ctx *err)
{
	int rc = 0;

	if (o->cache_max != NULL) {
		int64_t v;

		if (str_to_i64(o->cache_max, 1, INT64_MAX, &v) != 0)
			return err_set(err, ERR_INVAL, "--cache-max: a positive byte count");
		rc |= proctab_add_arg(&s->pt, ROLE_FETCHER, "--cache-max");
		rc |= proctab_add_arg(&s->pt, ROLE_FETCHER, o->cache_max);
	}
	if (o->cache_dir != NULL) {
		if (mkdirs(o->cache_dir, 0700) != 0 || realpath(o->cache_dir, pp->cache) == NULL)
			return err_set(err, ERR_IO, "--cache-dir %s: %s", o->cache_dir,
				       strerror(errno));
		give_to_role(pp->cache, "fetcher");
		rc |= proctab_add_arg(&s->pt, ROLE_FETCHER, "--cache-dir");
		rc |= proctab_add_arg(&s->pt, ROLE_FETCHER, pp->cache);
	}
	return rc ? err_set(err, ERR_TOOBIG, "too many child arguments") : 0;
}

/* Works out from the config what each child may touch, creates the store directory and
 * the fetcher's scratch directory, and puts the paths on the children's command lines. */
static int prepare(struct sup *s, const struct opts *o, struct prepared *pp, struct err_ctx *err)
{
	struct smconfig cfg;
	const char *tmp = getenv("TMPDIR");
	int rc;

	if (realpath(o->config, pp->config) == NULL)
		return err_set(err, ERR_NOTFOUND, "%s: %s", o->config, strerror(errno));
	if ((rc = smconfig_load_file(pp->config, &cfg, err)) != 0)
		return rc;
	if (strcmp(cfg.job.source.kind, "directory") == 0) {
		if (realpath(cfg.job.source.path, pp->source) == NULL) {
			rc = err_set(err, ERR_NOTFOUND, "spec.sourceRef.path: %s: %s",
				     cfg.job.source.path, strerror(errno));
			goto out;
		}
	} else if (strcmp(cfg.job.source.kind, "git") == 0) {
		const char *u = cfg.job.source.url;

		if (str_has_prefix(u, "file://"))
			u += 7;
		if (u[0] == '/' && realpath(u, pp->source) == NULL)
			pp->source[0] = '\0';
	}
	if (strcmp(cfg.job.provider.kind, "local") == 0) {
		char sp[PATH_MAX];

		if (o->store != NULL) {
			char cwd[PATH_MAX];

			if (o->store[0] == '/')
				rc = str_copy(pp->store, sizeof(pp->store), o->store);
			else if (getcwd(cwd, sizeof(cwd)) == NULL)
				rc = ERR_IO;
			else
				rc = str_fmt(pp->store, sizeof(pp->store), "%s/%s", cwd, o->store);
			if (rc != 0) {
				rc = err_set(err, ERR_TOOBIG, "--store: path too long");
				goto out;
			}
		}
		if (str_copy(sp, sizeof(sp), pp->store[0] ? pp->store : cfg.job.provider.store_path) !=
		    0) {
			rc = err_set(err, ERR_TOOBIG, "spec.provider.local.path too long");
			goto out;
		}
		char *dir = dirname(sp);

		if (mkdirs(dir, 0700) != 0 || realpath(dir, pp->store_dir) == NULL) {
			rc = err_set(err, ERR_IO, "spec.provider.local.path: cannot create %s: %s", sp,
				     strerror(errno));
			goto out;
		}
		give_to_role(pp->store_dir, "syncer");
	}
	if (str_fmt(pp->scratch, sizeof(pp->scratch), "%s/smc-fetcher-XXXXXX",
		    tmp && *tmp ? tmp : "/tmp") != 0 ||
	    mkdtemp(pp->scratch) == NULL) {
		rc = err_set(err, ERR_IO, "cannot create a scratch directory: %s", strerror(errno));
		pp->scratch[0] = '\0';
		goto out;
	}
	give_to_role(pp->scratch, "fetcher");
	if (o->keys != NULL && realpath(o->keys, pp->keys) == NULL) {
		rc = err_set(err, ERR_NOTFOUND, "--keys %s: %s", o->keys, strerror(errno));
		goto out;
	}
	rc = 0;
	rc |= proctab_add_arg(&s->pt, ROLE_WATCHER, "--ro");
	rc |= proctab_add_arg(&s->pt, ROLE_WATCHER, pp->config);
	if (pp->store[0] != '\0') {
		rc |= proctab_add_arg(&s->pt, ROLE_WATCHER, "--store");
		rc |= proctab_add_arg(&s->pt, ROLE_WATCHER, pp->store);
	}
	if (pp->source[0] != '\0') {
		rc |= proctab_add_arg(&s->pt, ROLE_FETCHER, "--ro");
		rc |= proctab_add_arg(&s->pt, ROLE_FETCHER, pp->source);
	}
	rc |= proctab_add_arg(&s->pt, ROLE_FETCHER, "--scratch");
	rc |= proctab_add_arg(&s->pt, ROLE_FETCHER, pp->scratch);
	if (pp->keys[0] != '\0') {
		rc |= proctab_add_arg(&s->pt, ROLE_DECRYPTOR, "--keys");
		rc |= proctab_add_arg(&s->pt, ROLE_DECRYPTOR, pp->keys);
	}
	if (pp->store_dir[0] != '\0') {
		rc |= proctab_add_arg(&s->pt, ROLE_SYNCER, "--rw");
		rc |= proctab_add_arg(&s->pt, ROLE_SYNCER, pp->store_dir);
	}
	if (rc != 0) {
		rc = err_set(err, ERR_TOOBIG, "too many child arguments");
		goto out;
	}
	if ((rc = fetcher_cache_args(s, o, pp, err)) != 0)
		goto out;
	rc = fetcher_net_args(s, o, pp, cfg.job.source.kind, cfg.job.source.url, err);
out:
	smconfig_free(&cfg);
	return rc;
}

/* Cluster mode: no config file; the store, scratch and keys directories as in prepare(),
 * and the watcher's cluster options on its command line. */
static int prepare_cluster(struct sup *s, const struct opts *o, struct prepared *pp,
			   struct err_ctx *err)
{
	const char *tmp = getenv("TMPDIR");
	int rc = 0;

	if (o->store != NULL) {
		char sp[PATH_MAX], cwd[PATH_MAX];

		if (o->store[0] == '/')
			rc = str_copy(pp->store, sizeof(pp->store), o->store);
		else if (getcwd(cwd, sizeof(cwd)) == NULL)
			rc = ERR_IO;
		else
			rc = str_fmt(pp->store, sizeof(pp->store), "%s/%s", cwd, o->store);
		if (rc != 0 || str_copy(sp, sizeof(sp), pp->store) != 0)
			return err_set(err, ERR_TOOBIG, "--store: path too long");
		if (mkdirs(dirname(sp), 0700) != 0 ||
		    str_copy(sp, sizeof(sp), pp->store) != 0 ||
		    realpath(dirname(sp), pp->store_dir) == NULL)
			return err_set(err, ERR_IO, "--store: cannot create its directory: %s",
				       strerror(errno));
		give_to_role(pp->store_dir, "syncer");
	}
	if (o->kubeconfig != NULL && realpath(o->kubeconfig, pp->kubeconfig) == NULL)
		return err_set(err, ERR_NOTFOUND, "--kubeconfig %s: %s", o->kubeconfig,
			       strerror(errno));
	if (str_fmt(pp->scratch, sizeof(pp->scratch), "%s/smc-fetcher-XXXXXX",
		    tmp && *tmp ? tmp : "/tmp") != 0 ||
	    mkdtemp(pp->scratch) == NULL) {
		pp->scratch[0] = '\0';
		return err_set(err, ERR_IO, "cannot create a scratch directory: %s", strerror(errno));
	}
	give_to_role(pp->scratch, "fetcher");
	if (o->keys != NULL && realpath(o->keys, pp->keys) == NULL)
		return err_set(err, ERR_NOTFOUND, "--keys %s: %s", o->keys, strerror(errno));
	rc |= proctab_add_arg(&s->pt, ROLE_WATCHER, "--cluster");
	if (o->leader_elect)
		rc |= proctab_add_arg(&s->pt, ROLE_WATCHER, "--leader-elect");
	if (o->allow_cross_ns)
		rc |= proctab_add_arg(&s->pt, ROLE_WATCHER, "--allow-cross-namespace-refs");
	{
		const char *pairs[][2] = {
		    {"--kubeconfig", pp->kubeconfig[0] ? pp->kubeconfig : NULL},
		    {"--context", o->context},
		    {"--namespace", o->ns},
		    {"--label-selector", o->label_selector},
		    {"--lease-name", o->lease_name},
		    {"--lease-namespace", o->lease_ns},
		    {"--identity", o->identity},
		    {"--store", pp->store[0] ? pp->store : NULL},
		    {"--argocd-namespace", o->argocd_ns},
		};
		for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
			if (pairs[i][1] == NULL || *pairs[i][1] == '\0')
				continue;
			rc |= proctab_add_arg(&s->pt, ROLE_WATCHER, pairs[i][0]);
			rc |= proctab_add_arg(&s->pt, ROLE_WATCHER, pairs[i][1]);
		}
	}
	rc |= proctab_add_arg(&s->pt, ROLE_FETCHER, "--scratch");
	rc |= proctab_add_arg(&s->pt, ROLE_FETCHER, pp->scratch);
	if (pp->keys[0] != '\0') {
		rc |= proctab_add_arg(&s->pt, ROLE_DECRYPTOR, "--keys");
		rc |= proctab_add_arg(&s->pt, ROLE_DECRYPTOR, pp->keys);
	}
	if (pp->store_dir[0] != '\0') {
		rc |= proctab_add_arg(&s->pt, ROLE_SYNCER, "--rw");
		rc |= proctab_add_arg(&s->pt, ROLE_SYNCER, pp->store_dir);
	}
	if (rc != 0)
		return err_set(err, ERR_TOOBIG, "too many child arguments");
	if ((rc = fetcher_cache_args(s, o, pp, err)) != 0)
		return rc;
	return fetcher_net_args(s, o, pp, NULL, NULL, err);
}

static void publish_child_metrics(struct sup *s)
{
	for (size_t i = 0; i < PROCTAB_NCHILD; i++) {
		const struct child *c = &s->pt.children[i];
		char name[128];

		(void)str_fmt(name, sizeof(name), "smc_child_restarts_total{role=\"%s\"}", c->name);
		metrics_set(name, c->restarts);
		(void)str_fmt(name, sizeof(name), "smc_child_up{role=\"%s\"}", c->name);
		metrics_set(name, c->pid > 0);
	}
}

static int send_run(struct sup *s, const struct opts *o, const char *config)
{
	struct child *w = proctab_child(&s->pt, ROLE_WATCHER);
	struct msg m;

	msg_init(&m, MSG_RUN);
	m.u.run.config_path = (char *)config;
	m.u.run.dry_run = o->dry_run;
	return msg_send(w->ctl, &m);
}

/* A child died: in one-shot mode the job fails naming it; otherwise it is restarted
 * (with the peers that shared its sockets) after its backoff. */
static void on_child_exit(struct sup *s, struct child *c, int status)
{
	char why[128];

	proctab_describe_status(status, why, sizeof(why));
	c->pid = 0;
	if (c->started_at != 0 && time(NULL) - c->started_at >= PROCTAB_STABLE_S)
		c->backoff_ms = PROCTAB_BACKOFF_MIN_MS;
	if (s->stopping)
		return;
	log_error("child.exit", "%s %s", c->name, why);
	if (s->once && !s->done) {
		set_failure(s, c->name, why, ERR_PROTO);
		s->done = true;
	}
}

/* Tells every child to mirror its traffic (a tap client is connected) or to stop. */
static void tap_attach_all(struct sup *s)
{
	struct msg m;

	msg_init(&m, MSG_TAP_ATTACH);
	m.u.tap_attach.enable = tap_server_active(s->tap);
	for (size_t i = 0; i < PROCTAB_NCHILD; i++) {
		if (s->pt.children[i].ctl >= 0 && s->pt.children[i].pid > 0)
			(void)msg_send(s->pt.children[i].ctl, &m);
	}
	log_info("tap", "tap %s", m.u.tap_attach.enable ? "attached" : "detached");
}

static void restart_dead(struct sup *s)
{
	struct err_ctx err = {{0}};

	for (size_t i = 0; i < PROCTAB_NCHILD; i++) {
		struct child *c = &s->pt.children[i];

		if (c->pid != 0)
			continue;
		usleep(c->backoff_ms * 1000u);
		if (proctab_restart(&s->pt, c, &err) != 0)
			log_error("child.restart", "restarting %s failed: %s", c->name, err.msg);
		else
			log_warn("child.restart", "restarted %s (restart %u)", c->name, c->restarts);
		if (tap_server_active(s->tap))
			tap_attach_all(s);
		/* each crash doubles the wait before the next restart; a child that stays up
		 * for PROCTAB_STABLE_S starts again from the minimum (on_child_exit) */
		c->backoff_ms = c->backoff_ms * 2 > PROCTAB_BACKOFF_MAX_MS ? PROCTAB_BACKOFF_MAX_MS
									  : c->backoff_ms * 2;
		c->started_at = time(NULL);
	}
}

static int loop(struct sup *s, const struct opts *o, const struct prepared *pp, int sfd)
{
	struct pollfd pfd[PROCTAB_NCHILD + 1 + TAP_SERVER_MAX_CLIENTS + 1];
	size_t ntap;
	time_t start = time(NULL);
	int64_t next_run = 0;
	int64_t interval = SMCONFIG_DEFAULT_INTERVAL;
	struct smconfig cfg;
	struct err_ctx err = {{0}};

	if (o->cluster)
		next_run = INT64_MAX; /* the watcher drives itself */
	else if (!s->once && smconfig_load_file(pp->config, &cfg, &err) == 0) {
		interval = cfg.interval_s;
		smconfig_free(&cfg);
	}
	while (!s->stopping && !(s->once && s->done)) {
		int n;

		if (time(NULL) >= next_run) {
			if (send_run(s, o, pp->config) != 0)
				log_error("job.start", "cannot reach the watcher");
			next_run = s->once ? start + ONCE_TIMEOUT_S * 2 : time(NULL) + interval;
		}
		if (s->once && time(NULL) - start > ONCE_TIMEOUT_S) {
			set_failure(s, "supervisor", "job timed out", ERR_TIMEOUT);
			break;
		}
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		for (size_t i = 0; i < PROCTAB_NCHILD; i++) {
			pfd[i + 1].fd = s->pt.children[i].ctl;
			pfd[i + 1].events = POLLIN;
		}
		ntap = tap_server_pollfds(s->tap, pfd + PROCTAB_NCHILD + 1,
					  sizeof(pfd) / sizeof(pfd[0]) - PROCTAB_NCHILD - 1);
		n = poll(pfd, PROCTAB_NCHILD + 1 + ntap, 1000);
		if (n < 0 && errno != EINTR)
			return ERR_IO;
		if (n <= 0)
			continue;
		if (ntap > 0 && tap_server_handle(s->tap, pfd + PROCTAB_NCHILD + 1, ntap))
			tap_attach_all(s);
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
					log_info("shutdown", "signal %u: shutting down", si.ssi_signo);
					metrics_set_ready(false);
					s->stopping = true;
				}
			}
			for (;;) {
				int status;
				pid_t pid = waitpid(-1, &status, WNOHANG);
				struct child *c;

				if (pid <= 0)
					break;
				if ((c = proctab_by_pid(&s->pt, pid)) != NULL)
					on_child_exit(s, c, status);
			}
		}
		for (size_t i = 0; i < PROCTAB_NCHILD; i++) {
			struct child *c = &s->pt.children[i];
			struct peer p = {.fd = c->ctl, .role = c->role, .cap = MSG_CAP_PIPELINE};
			struct msg m;

			if (!(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) || c->ctl < 0)
				continue;
			if (peer_recv(&p, ROLE_SUPERVISOR, &m, &err) != 0) {
				/* closed or violated the protocol: it will be reaped and restarted */
				if (c->pid > 0)
					kill(c->pid, SIGKILL);
				close(c->ctl);
				c->ctl = -1;
				continue;
			}
			if (supervisor_dispatch(s, c, &m) != 0 && c->pid > 0)
				kill(c->pid, SIGKILL);
			msg_free(&m);
		}
		if (!s->once && !s->stopping)
			restart_dead(s);
		if (o->cluster)
			publish_child_metrics(s);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"once", no_argument, NULL, 'o'},     {"file", required_argument, NULL, 'f'},
		{"dry-run", no_argument, NULL, 'n'},  {"result-fd", required_argument, NULL, 'r'},
		{"keys", required_argument, NULL, 'k'}, {"store", required_argument, NULL, 's'},
		{"cluster", no_argument, NULL, 'C'}, {"kubeconfig", required_argument, NULL, 'K'},
		{"context", required_argument, NULL, 'X'}, {"namespace", required_argument, NULL, 'N'},
		{"label-selector", required_argument, NULL, 'L'},
		{"metrics-port", required_argument, NULL, 'P'},
		{"metrics-addr", required_argument, NULL, 'A'},
		{"leader-elect", no_argument, NULL, 'E'}, {"lease-name", required_argument, NULL, 'l'},
		{"lease-namespace", required_argument, NULL, 'm'},
		{"identity", required_argument, NULL, 'I'},
		{"argocd-namespace", required_argument, NULL, 'a'},
		{"cache-dir", required_argument, NULL, 'c'},
		{"cache-max", required_argument, NULL, 'M'},
		{"fetcher-ports", required_argument, NULL, 'p'},
		{"tap-socket", required_argument, NULL, 'T'},
		{"allow-cross-namespace-refs", no_argument, NULL, 'x'},
		{NULL, 0, NULL, 0}};
	struct opts o = {.result_fd = STDOUT_FILENO, .metrics_port = 5000, .metrics_addr = "0.0.0.0"};
	struct sup s;
	struct prepared pp;
	struct err_ctx err = {{0}};
	sigset_t mask;
	int ch, sfd, rc, code = 2;
	int64_t v;

	memset(&s, 0, sizeof(s));
	memset(&pp, 0, sizeof(pp));
	log_init("smcd", getenv("SMC_LOG_FORMAT") && strcmp(getenv("SMC_LOG_FORMAT"), "json") == 0,
		 log_level_from_str(getenv("SMC_LOG_LEVEL")));
	while ((ch = getopt_long(argc, argv, "of:nr:k:s:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o': o.once = true; break;
		case 'f': o.config = optarg; break;
		case 'n': o.dry_run = true; break;
		case 'k': o.keys = optarg; break;
		case 's': o.store = optarg; break;
		case 'C': o.cluster = true; break;
		case 'K': o.kubeconfig = optarg; break;
		case 'X': o.context = optarg; break;
		case 'N': o.ns = optarg; break;
		case 'L': o.label_selector = optarg; break;
		case 'A': o.metrics_addr = optarg; break;
		case 'E': o.leader_elect = true; break;
		case 'l': o.lease_name = optarg; break;
		case 'm': o.lease_ns = optarg; break;
		case 'I': o.identity = optarg; break;
		case 'a': o.argocd_ns = optarg; break;
		case 'c': o.cache_dir = optarg; break;
		case 'M': o.cache_max = optarg; break;
		case 'p': o.fetcher_ports = optarg; break;
		case 'T': o.tap_socket = optarg; break;
		case 'x': o.allow_cross_ns = true; break;
		case 'P':
			if (str_to_i64(optarg, 0, 65535, &v) != 0)
				return usage();
			o.metrics_port = (int)v;
			break;
		case 'r':
			if (str_to_i64(optarg, 0, 1024, &v) != 0)
				return usage();
			o.result_fd = (int)v;
			break;
		default: return usage();
		}
	}
	if (o.cluster) {
		/* environment defaults (Deployment env), flags win */
		if (o.ns == NULL && getenv("SMC_NAMESPACE") && *getenv("SMC_NAMESPACE"))
			o.ns = getenv("SMC_NAMESPACE");
		if (o.label_selector == NULL && getenv("SMC_LABEL_SELECTOR"))
			o.label_selector = getenv("SMC_LABEL_SELECTOR");
		if (o.lease_name == NULL && getenv("SMC_LEASE_NAME"))
			o.lease_name = getenv("SMC_LEASE_NAME");
		if (o.lease_ns == NULL && getenv("SMC_LEASE_NAMESPACE"))
			o.lease_ns = getenv("SMC_LEASE_NAMESPACE");
		if (o.argocd_ns == NULL && getenv("SMC_ARGOCD_NAMESPACE") &&
		    *getenv("SMC_ARGOCD_NAMESPACE"))
			o.argocd_ns = getenv("SMC_ARGOCD_NAMESPACE");
		if (getenv("SMC_LEADER_ELECT") && strcmp(getenv("SMC_LEADER_ELECT"), "true") == 0)
			o.leader_elect = true;
		if (getenv("SMC_ALLOW_CROSS_NAMESPACE_REFS") &&
		    strcmp(getenv("SMC_ALLOW_CROSS_NAMESPACE_REFS"), "true") == 0)
			o.allow_cross_ns = true;
		if (getenv("SMC_METRICS_PORT") &&
		    str_to_i64(getenv("SMC_METRICS_PORT"), 0, 65535, &v) == 0)
			o.metrics_port = (int)v;
		if (o.once || o.config != NULL || optind != argc)
			return usage();
	} else if (o.config == NULL || optind != argc)
		return usage();
	s.once = o.once;
	if (o.tap_socket == NULL && getenv("SMC_TAP_SOCKET") && *getenv("SMC_TAP_SOCKET"))
		o.tap_socket = getenv("SMC_TAP_SOCKET");
	if (o.tap_socket != NULL && tap_server_open(o.tap_socket, &s.tap, &err) != 0) {
		log_error("tap", "%s", err.msg);
		return 2;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGPIPE);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		log_error("start", "signalfd: %s", strerror(errno));
		return 2;
	}
	if ((rc = proctab_init(&s.pt, &err)) != 0 ||
	    (rc = o.cluster ? prepare_cluster(&s, &o, &pp, &err) : prepare(&s, &o, &pp, &err)) != 0) {
		set_failure(&s, "config", err.msg, rc);
		code = 2;
		goto out;
	}
	if ((rc = proctab_start_all(&s.pt, &err)) != 0) {
		set_failure(&s, "supervisor", err.msg, rc);
		code = 2;
		goto stop;
	}
	log_debug("start", "pipeline up");
	if (o.cluster) {
		uint16_t bound = 0;

		if (metrics_http_start(o.metrics_addr, (uint16_t)o.metrics_port, &bound, &err) != 0) {
			log_error("metrics", "%s", err.msg);
			code = 2;
			goto stop;
		}
		log_info("metrics", "serving /healthz /readyz /metrics on %s:%u", o.metrics_addr,
			 bound);
		publish_child_metrics(&s);
		metrics_set_ready(true);
	}
	loop(&s, &o, &pp, sfd);
	code = s.result_code == 0 && s.result != NULL ? 0 : 1;
	if (!s.once)
		code = 0;
stop:
	s.stopping = true;
	metrics_set_ready(false);
	proctab_stop_all(&s.pt, SHUTDOWN_GRACE_MS);
	metrics_http_stop();
out:
	remove_tree(pp.scratch);
	if (o.once && s.result != NULL) {
		char *line = json_dumps(s.result, JSON_COMPACT);

		if (line != NULL) {
			FILE *f = fdopen(dup(o.result_fd), "w");

			if (f != NULL) {
				fprintf(f, "%s\n", line);
				fclose(f);
			}
			free(line);
		}
	}
	json_decref(s.result);
	tap_server_close(s.tap);
	close(sfd);
	return code;
}
