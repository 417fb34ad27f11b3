/* fetcher.c — smc-fetcher: reads sources (directories, Git, Flux artifacts) into a file
 * tree and hands it to the decryptor as a sealed memfd.
 *
 * Besides the common child arguments (procargs.h) it takes, from the supervisor:
 *   --cache-dir DIR   the Git clone cache (read-write; default: the scratch directory)
 *   --cache-max BYTES its cap (git_cache.h; default FETCHER_CACHE_MAX)
 *   --port N          (repeatable) the only TCP ports it may connect to (Landlock ABI ≥ 4)
 *   --no-tcp          no TCP at all (local directory and file:// sources)
 * Without --port/--no-tcp any TCP port may be reached (cluster mode: the sources are only
 * known job by job, and a Landlock ruleset can be narrowed but never widened again, so a
 * long-lived fetcher allows the union given up front or, when none is given, any port). */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/procargs.h"
#include "fetcher/fetcher_dispatch.h"
#include "fetcher/fetcher_sandbox.h"
#include "fetcher/source_git.h"
#include "proto/fds.h"
#include "proto/peer.h"

struct fetcher_args {
	const char *cache_dir;
	uint64_t cache_max;
	uint16_t ports[SANDBOX_MAX_PORTS];
	size_t nports;
	int no_tcp;
};

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v == 0 || v > max)
		return ERR_INVAL;
	*out = v;
	return 0;
}

/* Takes the fetcher's own arguments out of argv (compacting it for procargs_parse). */
static int fetcher_take_args(int *argc, char **argv, struct fetcher_args *fa,
			     struct err_ctx *err)
{
	int out = 1;

	memset(fa, 0, sizeof(*fa));
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		uint64_t v;

		if (strcmp(a, "--no-tcp") == 0) {
			fa->no_tcp = 1;
			continue;
		}
		if (strcmp(a, "--cache-dir") != 0 && strcmp(a, "--cache-max") != 0 &&
		    strcmp(a, "--port") != 0) {
			argv[out++] = argv[i];
			continue;
		}
		if (i + 1 >= *argc)
			return err_set(err, ERR_INVAL, "%s: missing value", a);
		if (strcmp(a, "--cache-dir") == 0) {
			fa->cache_dir = argv[++i];
		} else if (strcmp(a, "--cache-max") == 0) {
			if (parse_u64(argv[++i], UINT64_MAX / 2, &fa->cache_max) != 0)
				return err_set(err, ERR_INVAL, "--cache-max: a positive byte count");
		} else {
			if (parse_u64(argv[++i], 65535, &v) != 0)
				return err_set(err, ERR_INVAL, "--port: 1..65535");
			if (fa->nports == SANDBOX_MAX_PORTS)
				return err_set(err, ERR_TOOBIG, "--port: at most %d",
					       SANDBOX_MAX_PORTS);
			fa->ports[fa->nports++] = (uint16_t)v;
		}
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}

int main(int argc, char **argv)
{
	const struct peer peers[] = {
		{FD_SUPERVISOR, ROLE_SUPERVISOR, MSG_CAP_CONTROL},
		{FD_FETCHER_WATCHER, ROLE_WATCHER, MSG_CAP_CONTROL},
		{FD_FETCHER_DECRYPTOR, ROLE_DECRYPTOR, MSG_CAP_CONTROL},
	};
	struct fetcher f = {0};
	struct fetcher_args fa;
	struct procargs args;
	struct err_ctx err = {{0}};

	log_init("fetcher", 1, LOG_INFO);
	if (fetcher_take_args(&argc, argv, &fa, &err) != 0 ||
	    procargs_parse(argc, argv, &args, &err) != 0) {
		log_error("start", "%s", err.msg);
		return 2;
	}
	log_set_level(args.level);
	json_object_seed(0); /* seeds jansson's hash from /dev/urandom before the sandbox */
	f.scratch = args.scratch ? args.scratch : "/tmp";
	f.cache = fa.cache_dir ? fa.cache_dir : f.scratch;
	f.cache_max = fa.cache_max;
	if (fa.cache_dir != NULL && sandbox_paths_add_rw(&args.paths, fa.cache_dir) != 0) {
		log_error("start", "too many sandbox paths");
		return 2;
	}
	/* libgit2's SSH transport loads $HOME/.ssh/known_hosts (and fails without HOME) before
	 * our certificate callback decides from the job's known hosts alone: point it at
	 * a path that does not exist */
	if (setenv("HOME", "/nonexistent-smc-fetcher", 1) != 0) {
		log_error("start", "setenv HOME failed");
		return 2;
	}
	if (source_git_init() != 0) {
		log_error("start", "libgit2 initialisation failed");
		return 2;
	}
	if (fa.no_tcp) {
		args.paths.no_tcp = 1;
	} else if (fa.nports > 0) {
		for (size_t i = 0; i < fa.nports; i++)
			(void)sandbox_paths_add_port(&args.paths, fa.ports[i]);
	} else {
		args.paths.any_tcp = 1; /* cluster mode without a port list */
	}
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
		sandbox_paths_keep_fd(&args.paths, peers[i].fd);
	if (fetcher_sandbox_enter(&args.paths, &err) != 0) {
		log_error("sandbox", "%s", err.msg);
		return 3;
	}
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		if (peer_handshake(&peers[i], ROLE_FETCHER, &err) != 0) {
			log_error("handshake", "%s", err.msg);
			return 4;
		}
	}
	peer_log_to(FD_SUPERVISOR); /* until now lines went to the inherited stderr */
	if (peer_serve(peers, sizeof(peers) / sizeof(peers[0]), ROLE_FETCHER, fetcher_dispatch, &f,
		       &err) != 0) {
		log_error("exit", "%s", err.msg);
		return 5;
	}
	return 0;
}
