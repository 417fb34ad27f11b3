/* kube_client.h — a Kubernetes API client over libcurl: configuration from the cluster
 * (service account) or a kubeconfig, one reused easy handle for requests (HTTP/2 over TLS
 * where the server offers it), watches as transfers of one curl multi handle whose JSON
 * lines are parsed as they arrive, and API errors decoded from Status objects.
 *
 * Credentials: a bearer token (inline, from a file re-read when it changes, or from an
 * `exec` credential plugin), client certificate and key (files or inline data). An exec
 * plugin needs fork/execve, which a sandboxed process may not do: kube_exec.h runs it,
 * either directly (CLI) or through a helper the watcher forks before its sandbox. */
#ifndef SMC_KUBE_CLIENT_H
#define SMC_KUBE_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/err.h"
#include "common/secbuf.h"

#define KUBE_MAX_BODY ((size_t)64 << 20)     /* one LIST or GET response */
#define KUBE_MAX_WATCH_LINE ((size_t)8 << 20) /* one watch event line */
#define KUBE_MAX_TOKEN ((size_t)64 << 10)     /* a bearer token */
#define KUBE_MAX_EXEC_ARGS 32                 /* exec plugin args / env entries */
#define KUBE_MAX_WATCHES 16                   /* concurrent watch streams */
#define KUBE_REQUEST_TIMEOUT_S 30             /* one non-watch request */
#define KUBE_CONNECT_TIMEOUT_S 10
#define KUBE_MAX_FILES 6                      /* files the client reads after start */

#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* An exec credential plugin (client.authentication.k8s.io ExecCredential). */
struct kube_exec_spec {
	char *command;                       /* NULL: no plugin */
	char *args[KUBE_MAX_EXEC_ARGS + 1];  /* NULL-terminated, args[0] = command */
	char *env[KUBE_MAX_EXEC_ARGS + 1];   /* "NAME=value" extra environment, NULL-terminated */
	char *api_version;
};

struct kube_config {
	char *server;            /* "https://host:port" (no trailing '/') */
	char *ns;                /* the context's namespace ("default" when unset) */
	char *ca_file;           /* CA bundle path, or NULL */
	char *ca_data;           /* CA PEM, or NULL */
	bool insecure;           /* insecure-skip-tls-verify */
	char *token_file;        /* re-read when its inode/mtime/size changes, or NULL */
	struct secbuf *token;    /* inline token, or NULL */
	char *cert_file, *key_file; /* client certificate and key files, or NULL */
	char *cert_data;         /* client certificate PEM, or NULL */
	struct secbuf *key_data; /* client key PEM, or NULL */
	struct kube_exec_spec exec;
	char *sa_dir;            /* in-cluster: the service account directory */
	const char *files[KUBE_MAX_FILES]; /* borrowed from the fields above: read after start */
	size_t nfiles;
};

/* In-cluster config: KUBERNETES_SERVICE_HOST/PORT, the service account token file, CA
 * and namespace under sa_dir (KUBE_SA_DIR when NULL). Owned out-parameter. */
int kube_config_in_cluster(const char *sa_dir, struct kube_config **out, struct err_ctx *err);
/* kubeconfig: path, else the first file of $KUBECONFIG (colon list), else
 * ~/.kube/config; the named context or current-context. Relative file paths resolve
 * against the kubeconfig's directory. Owned out-parameter. */
int kube_config_load(const char *path, const char *context, struct kube_config **out,
		     struct err_ctx *err);
/* In-cluster when KUBERNETES_SERVICE_HOST is set and no path is given, else kubeconfig. */
int kube_config_auto(const char *path, const char *context, struct kube_config **out,
		     struct err_ctx *err);
void kube_config_free(struct kube_config *c);

/* Where a token comes from when the config has an exec plugin: fn writes an owned secbuf
 * token and its expiry (0 = unknown). */
typedef int (*kube_token_fn)(void *arg, const struct kube_exec_spec *spec,
			     struct secbuf **token, time_t *expiry, struct err_ctx *err);

struct kube_client;

/* A client for cfg (borrowed: must outlive the client). Owned out-parameter. */
int kube_client_new(const struct kube_config *cfg, struct kube_client **out,
		    struct err_ctx *err);
void kube_client_free(struct kube_client *c);
/* Installs the exec-plugin token source (default: kube_exec_run, fork+exec). */
void kube_client_set_token_fn(struct kube_client *c, kube_token_fn fn, void *arg);
/* Borrowed: the config the client was made with. */
const struct kube_config *kube_client_config(const struct kube_client *c);

/* One request. path starts with '/' and carries its query. body may be NULL;
 * content_type defaults to application/json. On HTTP 2xx: 0 and *out = the decoded JSON
 * body (owned; NULL for an empty body) when out is not NULL. On an API error: ERR_NOTFOUND
 * (404), ERR_CONFLICT (409), ERR_PERM (401/403), ERR_TIMEOUT (410 Gone: re-list),
 * ERR_REMOTE otherwise, with err holding the Status message and reason. *status (may be
 * NULL) gets the HTTP code in both cases (0 when no response). */
int kube_request(struct kube_client *c, const char *method, const char *path,
		 const char *content_type, const char *body, long *status, json_t **out,
		 struct err_ctx *err);
/* Shorthands. */
int kube_get(struct kube_client *c, const char *path, json_t **out, struct err_ctx *err);
/* PATCH with type "merge" | "json" | "apply" (apply needs fieldManager in the path). */
int kube_patch(struct kube_client *c, const char *path, const char *type, const json_t *body,
	       json_t **out, struct err_ctx *err);
int kube_post(struct kube_client *c, const char *path, const json_t *body, json_t **out,
	      struct err_ctx *err);
int kube_put(struct kube_client *c, const char *path, const json_t *body, json_t **out,
	     struct err_ctx *err);
int kube_delete(struct kube_client *c, const char *path, struct err_ctx *err);

/* Appends "?"/"&" k=v (v URL-escaped) to dst[size]. ERR_TOOBIG when it does not fit. */
int kube_path_add_query(char *dst, size_t size, const char *key, const char *value);

/* ---- watches ---- */

/* A watch event: type "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR", object
 * borrowed for the call. When the stream ends fn is called once with type NULL and
 * object NULL; *end_status then holds the HTTP status and end_code 0 (clean end) or an
 * ERR_*. fn returns 0, or < 0 to stop the watch (it then ends without the final call). */
typedef int (*kube_watch_fn)(void *arg, const char *type, json_t *object, long end_status,
			     int end_code);

struct kube_watch;

/* Starts GET path (which must carry watch=true) as a transfer of the client's multi
 * handle; events arrive through kube_client_poll. The watch is freed by the client after
 * its final call, or by kube_watch_cancel. Borrowed out-parameter (valid until the final
 * call or cancel). */
int kube_watch_start(struct kube_client *c, const char *path, kube_watch_fn fn, void *arg,
		     struct kube_watch **out, struct err_ctx *err);
/* Stops and frees a watch without calling fn again. */
void kube_watch_cancel(struct kube_client *c, struct kube_watch *w);
/* Number of running watches. */
size_t kube_client_nwatches(const struct kube_client *c);

/* Waits up to timeout_ms for watch data or for one of fds (POLLIN) to be readable, then
 * runs the transfers (callbacks fire from here). revents[i] (may be NULL) tells which of
 * fds are readable. */
int kube_client_poll(struct kube_client *c, const int *fds, size_t nfds, short *revents,
		     int timeout_ms, struct err_ctx *err);

/* Feeds bytes of a watch stream to a line splitter; exposed for unit tests. Each complete
 * line is decoded and passed to fn. ERR_TOOBIG when a line passes KUBE_MAX_WATCH_LINE,
 * ERR_PROTO when a line is not a watch event. */
struct kube_lines {
	char *buf;
	size_t len, cap;
};
int kube_lines_feed(struct kube_lines *l, const char *p, size_t n, kube_watch_fn fn, void *arg);
void kube_lines_free(struct kube_lines *l);

/* Decodes a Status object into err (message and reason); returns the ERR_* for code. */
int kube_status_error(const json_t *status, long http, struct err_ctx *err);

#endif
