/* kube_exec.h — `exec` credential plugins (client.authentication.k8s.io ExecCredential),
 * as GKE (gke-gcloud-auth-plugin) and EKS (aws eks get-token) kubeconfigs use them.
 *
 * Running a plugin needs fork and execve, which the watcher's seccomp policy kills. So the
 * watcher forks a helper BEFORE entering its sandbox (kube_exec_helper_start): the helper
 * keeps the plugin spec, runs the plugin whenever the sandboxed watcher asks over a
 * socketpair, and answers with the token and its expiry. The CLI, which has no sandbox,
 * runs the plugin directly (kube_exec_run). The supervisor never sees the token. */
#ifndef SMC_KUBE_EXEC_H
#define SMC_KUBE_EXEC_H

#include <sys/types.h>
#include <time.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "watcher/kube_client.h"

#define KUBE_EXEC_MAX_OUTPUT ((size_t)256 << 10) /* plugin stdout */
#define KUBE_EXEC_TIMEOUT_S 60                   /* a plugin running longer is killed */

/* Runs the plugin, parses its ExecCredential: status.token → *token (owned secbuf),
 * status.expirationTimestamp → *expiry (0 when absent). */
int kube_exec_run(const struct kube_exec_spec *spec, struct secbuf **token, time_t *expiry,
		  struct err_ctx *err);

/* Parses an ExecCredential JSON text (exposed for tests). */
int kube_exec_parse(const char *json, size_t n, struct secbuf **token, time_t *expiry,
		    struct err_ctx *err);

/* Forks the helper (call before the sandbox). *fd: the watcher's end of its socket
 * (owned; closing it ends the helper), *pid: the helper. */
int kube_exec_helper_start(const struct kube_exec_spec *spec, int *fd, pid_t *pid,
			   struct err_ctx *err);
/* A kube_token_fn that asks the helper; arg points to the int fd. */
int kube_exec_helper_token(void *arg, const struct kube_exec_spec *spec, struct secbuf **token,
			   time_t *expiry, struct err_ctx *err);

/* RFC 3339 UTC ("2024-01-02T03:04:05Z", fractional seconds allowed) → time_t. */
int kube_parse_time(const char *s, time_t *out);

#endif
