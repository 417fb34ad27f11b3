/* decryptor.c — smc-decryptor: the only process that holds SOPS keys and sees plaintext
 * before the syncer; it has no network at all. */
#include <jansson.h>

#include "common/log.h"
#include "common/procargs.h"
#include "decryptor/decryptor_dispatch.h"
#include "decryptor/decryptor_sandbox.h"
#include "decryptor/keyring.h"
#include "decryptor/kustomize_runner.h"
#include "decryptor/pgp_agent.h"
#include "proto/fds.h"
#include "proto/peer.h"

int main(int argc, char **argv)
{
	const struct peer peers[] = {
		{FD_SUPERVISOR, ROLE_SUPERVISOR, MSG_CAP_CONTROL},
		{FD_DECRYPTOR_FETCHER, ROLE_FETCHER, MSG_CAP_CONTROL},
		{FD_DECRYPTOR_SYNCER, ROLE_SYNCER, MSG_CAP_CONTROL},
		{FD_DECRYPTOR_WATCHER, ROLE_WATCHER, MSG_CAP_CONTROL},
	};
	struct decryptor d = {0};
	struct keyring *kr = NULL;
	struct pgp_agent *agent = NULL;
	struct kustomize_runner *kz = NULL;
	int rc;
	struct procargs args;
	struct err_ctx err = {{0}};

	log_init("decryptor", 1, LOG_INFO);
	if (procargs_parse(argc, argv, &args, &err) != 0) {
		log_error("start", "%s", err.msg);
		return 2;
	}
	log_set_level(args.level);
	json_object_seed(0); /* seeds jansson's hash from /dev/urandom before the sandbox */
	d.keys_dir = args.keys;
	/* kustomize runs in a helper forked now, before any key is read (the sandbox below
	 * forbids fork and exec); without it kustomize build mode reports itself unavailable */
	if (kustomize_runner_start(&kz, &err) != 0)
		log_warn("kustomize", "%s (kustomize build mode unavailable)", err.msg);
	d.kz = kz;
	/* Keys are read once, before the sandbox; only this process ever holds them. */
	if (args.keys != NULL) {
		/* gpg runs in a sandboxed helper forked now, before any key is read */
		if (pgp_agent_start(&agent, &err) != 0) {
			log_error("keys", "%s", err.msg);
			return 2;
		}
		if (keyring_new(&kr) != 0 || keyring_attach_pgp_agent(kr, agent) != 0 ||
		    keyring_load_dir(kr, args.keys, &err) != 0) {
			log_error("keys", "%s", err.msg[0] ? err.msg : "cannot read the key directory");
			return 2;
		}
		d.kr = kr;
		log_info("keys", "%zu age and %zu OpenPGP keys from %s",
			 keyring_count(kr, KEYRING_AGE), keyring_count(kr, KEYRING_PGP), args.keys);
	}
	args.paths.no_tcp = 1;
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
		sandbox_paths_keep_fd(&args.paths, peers[i].fd);
	if (agent != NULL)
		sandbox_paths_keep_fd(&args.paths, pgp_agent_fd(agent));
	if (kz != NULL)
		sandbox_paths_keep_fd(&args.paths, kustomize_runner_fd(kz));
	if (decryptor_sandbox_enter(&args.paths, &err) != 0) {
		log_error("sandbox", "%s", err.msg);
		return 3;
	}
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		if (peer_handshake(&peers[i], ROLE_DECRYPTOR, &err) != 0) {
			log_error("handshake", "%s", err.msg);
			return 4;
		}
	}
	peer_log_to(FD_SUPERVISOR); /* until now lines went to the inherited stderr */
	rc = peer_serve(peers, sizeof(peers) / sizeof(peers[0]), ROLE_DECRYPTOR,
			decryptor_dispatch, &d, &err);
	if (rc != 0)
		log_error("exit", "%s", err.msg);
	keyring_free(kr); /* wipes the keys */
	pgp_agent_free(agent); /* EOF: the helper stops its gpg-agents and empties its home */
	return rc != 0 ? 5 : 0;
}
