/* fetcher.c — smc-fetcher: reads sources (directories, Git, Flux artifacts) into a file
 * tree and hands it to the decryptor as a sealed memfd. */
#include <jansson.h>

#include "common/log.h"
#include "common/procargs.h"
#include "fetcher/fetcher_dispatch.h"
#include "fetcher/fetcher_sandbox.h"
#include "fetcher/source_git.h"
#include "proto/fds.h"
#include "proto/peer.h"

int main(int argc, char **argv)
{
	const struct peer peers[] = {
		{FD_SUPERVISOR, ROLE_SUPERVISOR, MSG_CAP_CONTROL},
		{FD_FETCHER_WATCHER, ROLE_WATCHER, MSG_CAP_CONTROL},
		{FD_FETCHER_DECRYPTOR, ROLE_DECRYPTOR, MSG_CAP_CONTROL},
	};
	struct fetcher f = {0};
	struct procargs args;
	struct err_ctx err = {{0}};

	log_init("fetcher", 1, LOG_INFO);
	if (procargs_parse(argc, argv, &args, &err) != 0) {
		log_error("start", "%s", err.msg);
		return 2;
	}
	log_set_level(args.level);
	json_object_seed(0); /* seeds jansson's hash from /dev/urandom before the sandbox */
	f.scratch = args.scratch ? args.scratch : "/tmp";
	if (source_git_init() != 0) {
		log_error("start", "libgit2 initialisation failed");
		return 2;
	}
	args.paths.any_tcp = 1; /* Git/artifact hosts; narrowed per source later */
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
