/* watcher.c — smc-watcher: turns SecretManagerConfigs into JOBs and RESULTs into status.
 * Holds the kube token (cluster mode); never SOPS keys, cloud credentials or plaintext. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/procargs.h"
#include "proto/fds.h"
#include "proto/peer.h"
#include "watcher/cluster.h"
#include "watcher/watcher_dispatch.h"
#include "watcher/watcher_sandbox.h"

int main(int argc, char **argv)
{
	const struct peer peers[] = {
		{FD_SUPERVISOR, ROLE_SUPERVISOR, MSG_CAP_CONTROL},
		{FD_WATCHER_FETCHER, ROLE_FETCHER, MSG_CAP_CONTROL},
		{FD_WATCHER_SYNCER, ROLE_SYNCER, MSG_CAP_PIPELINE},
		{FD_WATCHER_DECRYPTOR, ROLE_DECRYPTOR, MSG_CAP_CONTROL},
	};
	struct watcher w = {0};
	struct cluster_opts copts;
	struct cluster *cl = NULL;
	struct procargs args;
	struct err_ctx err = {{0}};
	int rc;

	log_init("watcher", 1, LOG_INFO);
	if (cluster_take_args(&argc, argv, &copts, &err) != 0 ||
	    procargs_parse(argc, argv, &args, &err) != 0) {
		log_error("start", "%s", err.msg);
		return 2;
	}
	log_set_level(args.level);
	json_object_seed(0); /* seeds jansson's hash from /dev/urandom before the sandbox */
	w.store = args.store;
	args.paths.any_tcp = 1; /* the Kubernetes API server */
	if (copts.enabled) {
		/* kube config and the exec-credential helper before the sandbox forbids both */
		copts.store = args.store;
		if (cluster_prepare(&copts, &args.paths, &cl, &err) != 0) {
			log_error("kube.config", "%s", err.msg);
			return 2;
		}
	}
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
		sandbox_paths_keep_fd(&args.paths, peers[i].fd);
	if (watcher_sandbox_enter(&args.paths, &err) != 0) {
		log_error("sandbox", "%s", err.msg);
		return 3;
	}
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		if (peer_handshake(&peers[i], ROLE_WATCHER, &err) != 0) {
			log_error("handshake", "%s", err.msg);
			return 4;
		}
	}
	peer_log_to(FD_SUPERVISOR); /* until now lines went to the inherited stderr */
	if (cl != NULL) {
		rc = cluster_run(cl, &err);
		cluster_free(cl);
	} else {
		rc = peer_serve(peers, sizeof(peers) / sizeof(peers[0]), ROLE_WATCHER,
				watcher_dispatch, &w, &err);
	}
	if (rc != 0) {
		log_error("exit", "%s", err.msg);
		return 5;
	}
	return 0;
}
