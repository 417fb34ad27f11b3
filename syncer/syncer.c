/* syncer.c — smc-syncer: the only process with cloud credentials; writes the desired
 * state into the provider (embedded store or a cloud). */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "common/procargs.h"
#include "proto/fds.h"
#include "proto/peer.h"
#include "syncer/naming.h"
#include "syncer/syncer_dispatch.h"
#include "syncer/syncer_sandbox.h"

int main(int argc, char **argv)
{
	const struct peer peers[] = {
		{FD_SUPERVISOR, ROLE_SUPERVISOR, MSG_CAP_CONTROL},
		/* the watcher first: its CREDENTIALS precede the VALUES of the same job */
		{FD_SYNCER_WATCHER, ROLE_WATCHER, MSG_CAP_CONTROL},
		{FD_SYNCER_DECRYPTOR, ROLE_DECRYPTOR, MSG_CAP_PIPELINE},
	};
	static const char *const cred_env[] = {
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_CA_BUNDLE", "GOOGLE_APPLICATION_CREDENTIALS", "AZURE_FEDERATED_TOKEN_FILE",
		"SSL_CERT_FILE", "AZURE_CA_BUNDLE", /* private CAs for private endpoints */
	};
	char *cred_dirs[8] = {0};
	size_t ncred = 0;
	struct procargs args;
	struct err_ctx err = {{0}};

	log_init("syncer", 1, LOG_INFO);
	if (procargs_parse(argc, argv, &args, &err) != 0) {
		log_error("start", "%s", err.msg);
		return 2;
	}
	log_set_level(args.level);
	json_object_seed(0); /* seeds jansson's hash from /dev/urandom before the sandbox */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_error("start", "libcurl initialisation failed");
		return 2;
	}
	(void)naming_init(); /* loads the locale before the sandbox closes the file system */
	/* Credential files named by the environment stay readable (their directory, since
	 * projected tokens rotate by swapping a symlink in it). */
	for (size_t i = 0; i < sizeof(cred_env) / sizeof(cred_env[0]); i++) {
		const char *f = getenv(cred_env[i]);
		char *slash;

		if (f == NULL || f[0] != '/' || (slash = strrchr(f, '/')) == NULL ||
		    ncred >= sizeof(cred_dirs) / sizeof(cred_dirs[0]))
			continue;
		cred_dirs[ncred] = strndup(f, slash == f ? 1 : (size_t)(slash - f));
		if (cred_dirs[ncred] != NULL && access(cred_dirs[ncred], R_OK) == 0)
			(void)sandbox_paths_add_ro(&args.paths, cred_dirs[ncred++]);
	}
	args.paths.any_tcp = 1; /* cloud API endpoints */
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
		sandbox_paths_keep_fd(&args.paths, peers[i].fd);
	if (syncer_sandbox_enter(&args.paths, &err) != 0) {
		log_error("sandbox", "%s", err.msg);
		return 3;
	}
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		if (peer_handshake(&peers[i], ROLE_SYNCER, &err) != 0) {
			log_error("handshake", "%s", err.msg);
			return 4;
		}
	}
	peer_log_to(FD_SUPERVISOR); /* until now lines went to the inherited stderr */
	if (peer_serve(peers, sizeof(peers) / sizeof(peers[0]), ROLE_SYNCER, syncer_dispatch, NULL,
		       &err) != 0) {
		log_error("exit", "%s", err.msg);
		return 5;
	}
	return 0;
}
