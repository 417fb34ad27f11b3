/* msg.h — the messages of proto/msg.def as C structures, and their codec.
 *
 * Wire form: a frame (proto/frame.h) whose payload is one msgpack map
 *   { "t": <id>, "v": PROTO_VERSION, <fields of the message...> }
 * Decoding is strict: every field is checked for type, count and length, unknown or
 * missing required fields are refused, nesting depth is bounded and the payload must be
 * consumed exactly. Every field is declared secret or not in the codec tables; the
 * redacted encoding (taps) replaces each secret field by its length in bytes. */
#ifndef SMC_MSG_H
#define SMC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/kvlist.h"
#include "common/secbuf.h"

#define PROTO_VERSION 1

enum msg_role {
	ROLE_SUPERVISOR = 1 << 0,
	ROLE_WATCHER = 1 << 1,
	ROLE_FETCHER = 1 << 2,
	ROLE_DECRYPTOR = 1 << 3,
	ROLE_SYNCER = 1 << 4,
	ROLE_CHILDREN = ROLE_WATCHER | ROLE_FETCHER | ROLE_DECRYPTOR | ROLE_SYNCER,
	ROLE_ANY = ROLE_SUPERVISOR | ROLE_CHILDREN,
};

enum msg_type {
#define MSG(id, name, from, to, what) MSG_##name = id,
#include "proto/msg.def"
#undef MSG
	MSG_TYPE_MAX
};

/* "watcher", ... for one role bit; "?" otherwise. Borrowed static string. */
const char *msg_role_name(enum msg_role role);
/* "JOB", ...; "?" for an unknown id. Borrowed static string. */
const char *msg_type_name(uint32_t type);
/* 1 when msg.def lets `from` send `type` to `to`. */
int msg_allowed(uint32_t type, enum msg_role from, enum msg_role to);

/* ---- the job: everything a stage needs to know, none of it secret ---- */

enum job_deletion { JOB_DELETION_RETAIN = 0, JOB_DELETION_DISABLE = 1, JOB_DELETION_DELETE = 2 };

struct job_config {     /* identity of the SecretManagerConfig */
	char *ns, *name, *uid;
	int64_t generation;
};
struct job_source {     /* resolved source */
	char *kind;     /* "directory" | "git" | "artifact" */
	char *path;     /* directory: absolute path */
	char *url;      /* git: repository URL; artifact: download URL */
	char *revision; /* git: branch, tag or commit; artifact: revision string */
	char *digest;   /* artifact: "sha256:<hex>" */
	char *subpath;  /* git/artifact: path inside the repository ("" = root) */
	/* git credentials (cluster mode: from an ArgoCD repository Secret or
	 * sourceRef.gitCredentials). Every one optional (NULL = absent). The secret ones are
	 * redacted to their length in taps; the fetcher clears them before passing the job on
	 * (job_clear_credentials), so only the watcher → fetcher edge ever carries them. */
	char *username;             /* HTTP basic auth user (secret) */
	struct secbuf *password;    /* HTTP basic auth password or token (secret) */
	struct secbuf *ssh_key;     /* SSH private key, PEM/OpenSSH text (secret) */
	struct secbuf *ssh_key_passphrase; /* its passphrase (secret) */
	char *known_hosts;          /* SSH known_hosts lines the server key must match */
};
struct job_mode {
	char *kustomize_path; /* set → kustomize build mode */
	char *base_path;      /* raw mode search root ("" = repository root) */
	char *environment;    /* profile name */
};
struct job_naming {
	char *prefix, *suffix;
};
struct job_provider {   /* provider spec without credentials */
	char *kind;     /* "local" | "aws" | "gcp" | "azure" */
	char *store_path;  /* local: SQLite store file */
	char *region, *project_id, *location, *vault_name, *endpoint;
	char *auth_type, *role_arn, *client_id, *tenant_id, *service_account;
	/* the Secret holding credentials (spec.provider.<kind>.auth.secretName/-Namespace/-Key):
	 * only a name; the watcher reads it and sends its content to the syncer alone
	 * (CREDENTIALS). Empty = the syncer's own identity (workload identity, environment). */
	char *secret_name, *secret_namespace, *secret_key;
};
struct job_configs {
	bool enabled;
	char *store;           /* gcp: "secretManager" | "parameterManager" */
	char *parameter_path;  /* aws */
	char *app_config_endpoint; /* azure */
};
struct job_policy {
	uint32_t deletion;  /* enum job_deletion: what happens to objects that left Git */
	bool prune;         /* false: keys that left Git are kept whatever deletion says */
	bool adopt_existing;/* true: objects without smc's ownership mark may be taken over */
	bool trigger_update;/* false: create only, never overwrite */
	bool dry_run;       /* plan only: nothing is written */
	bool delete_all;    /* the config was deleted: the desired state is empty, so every
	                       object it owns is disabled or deleted per `deletion` */
};
struct job {
	uint64_t id;
	struct job_config config;
	struct job_source source;
	struct job_mode mode;
	struct job_naming naming;
	struct job_provider provider;
	struct job_configs configs;
	struct job_policy policy;
};

/* Deep copy (owned out-parameter, job_free_fields to release). */
int job_copy(struct job *dst, const struct job *src);
/* Frees every string of the job; the struct itself is the caller's. NULL is a no-op. */
void job_free_fields(struct job *job);
/* Frees (wiping) the credential fields of job->source and sets them to NULL: what a stage
 * does before passing a job on. NULL is a no-op. */
void job_clear_credentials(struct job *job);

/* ---- per-file and per-item reports ---- */

struct file_report {
	char *path;      /* path in the tree */
	bool encrypted;  /* the file was SOPS-encrypted */
	uint32_t count;  /* keys it gave */
};

enum item_kind { ITEM_SECRET = 0, ITEM_CONFIG = 1 };
enum item_outcome {
	ITEM_WRITTEN = 0,   /* created or given a new version */
	ITEM_UNCHANGED = 1, /* latest already equal */
	ITEM_PRUNED = 2,    /* left Git; disabled or deleted per policy */
	ITEM_REFUSED = 3,   /* not ours (no ownership mark) and adoption not asked */
	ITEM_FAILED = 4,    /* an error on this item; reason says which */
	ITEM_RETAINED = 5,  /* left Git; kept per policy */
};
struct result_item {
	char *name;       /* remote name */
	char *key;        /* source key, may be NULL (pruned items) */
	uint32_t kind;    /* enum item_kind */
	uint32_t outcome; /* enum item_outcome */
	char *reason;     /* may be NULL; never a value */
};

/* ---- messages ---- */

struct msg_hello { uint32_t version; char *role; };
struct msg_log { uint32_t level; char *line; };
struct msg_metrics { char **names; uint64_t *values; size_t n; };
struct msg_tap_attach { bool enable; };
struct msg_tap { char *edge; char *direction; char *json; };
struct msg_run { char *config_path; bool dry_run; };
struct msg_edge { char *peer; };                       /* + fd: the new socket to that peer */
struct msg_job { struct job job; };
struct msg_tree { struct job job; char *revision; };       /* + fd */
struct msg_values {
	struct job job;
	char *revision;
	struct kvlist secrets;  /* values are secret */
	struct kvlist configs;  /* values are secret (a config may still be sensitive) */
	struct file_report *files;
	size_t nfiles;
};
struct msg_result {
	uint64_t job_id;
	char *ns, *name;
	int32_t code;      /* 0 success, or a negative ERR_* */
	char *stage;       /* "config" | "fetch" | "decrypt" | "sync" | "supervisor" */
	char *reason;      /* one line naming the file, key or field; never a value */
	char *revision;
	struct result_item *items;
	size_t nitems;
	struct file_report *files;
	size_t nfiles;
};

/* Cloud credentials for one job, read by the watcher from the Secret the config names and
 * sent straight to the syncer (the only other process that ever holds them). Every field
 * but job_id, provider and origin is secret: redacted to its length in taps, wiped on free. */
struct msg_credentials {
	uint64_t job_id;        /* the job they are for */
	char *provider;         /* "aws" | "gcp" | "azure" */
	char *origin;           /* "Secret <ns>/<name>", for errors (not secret) */
	char *key_id;           /* aws: access key id; azure: client id (secret) */
	struct secbuf *secret;  /* aws: secret access key; gcp: service account JSON key;
	                           azure: client secret (secret) */
	struct secbuf *token;   /* aws: session token, optional (secret) */
};

struct msg {
	uint32_t type; /* enum msg_type */
	int fd;        /* a passed descriptor (TREE, EDGE), or -1; owned by the message holder */
	union {
		struct msg_hello hello;
		struct msg_log log;
		struct msg_metrics metrics;
		struct msg_tap_attach tap_attach;
		struct msg_tap tap;
		struct msg_run run;
		struct msg_edge edge;
		struct msg_job job;
		struct msg_tree tree;
		struct msg_values values;
		struct msg_result result;
		struct msg_credentials credentials;
	} u;
};

/* Zeroes m, sets type and fd = -1. */
void msg_init(struct msg *m, uint32_t type);
/* Frees every field (wiping secret ones) and closes fd if >= 0. NULL is a no-op. */
void msg_free(struct msg *m);

/* Encodes m as the msgpack payload of one frame. With redact != 0 every secret field is
 * replaced by its length (for taps). Owned out-parameter (secbuf_free). */
int msg_encode(const struct msg *m, int redact, struct secbuf **out);
/* Strictly decodes one payload. On success *out is owned by the caller (msg_free); on
 * failure nothing is allocated and err says which field was wrong. fd is -1. */
int msg_decode(const uint8_t *p, size_t n, struct msg *out, struct err_ctx *err);
/* A JSON text of the redacted encoding (one line, no newline). Owned (free()). */
int msg_to_tap_json(const struct msg *m, char **out);

/* A tap sees every message this process sends or receives on a socket (sent = 1 or 0),
 * after it went out or was decoded. LOG, TAP and METRICS are never shown to it. */
typedef void (*msg_tap_fn)(int sock, const struct msg *m, int sent, void *arg);
/* Installs (fn != NULL) or removes the process's tap. */
void msg_set_tap(msg_tap_fn fn, void *arg);

/* Encodes m, frames it and writes it to the socket fd; passes m->fd with SCM_RIGHTS when
 * it is >= 0 (the caller keeps ownership of m->fd). */
int msg_send(int sock, const struct msg *m);
/* Reads one frame (payload at most cap bytes, checked before allocation), decodes it and
 * takes a passed descriptor into out->fd. ERR_EOF on a clean close. */
int msg_recv(int sock, size_t cap, struct msg *out, struct err_ctx *err);

#define MSG_CAP_CONTROL ((size_t)64 << 10)  /* frames on control edges */
#define MSG_CAP_PIPELINE ((size_t)64 << 20) /* frames on pipeline edges */

/* Field limits the codec enforces on both encode and decode (bytes of one string, elements
 * of one array). Optional strings may be NULL (absent on the wire); required ones are
 * HELLO.role, LOG.line, TAP.edge/direction/json, RUN.config_path, job.config.ns/name,
 * job.source.kind, job.provider.kind, kv.key, kv.value, item.name and file.path. */
#define MSG_MAX_NAME 253                      /* Kubernetes names, roles, stages, metric names */
#define MSG_MAX_SHORT 512                     /* uids, revisions, digests, provider fields */
#define MSG_MAX_TEXT 4096                     /* paths, keys, origins, reasons */
#define MSG_MAX_URL 8192                      /* source URLs */
#define MSG_MAX_CREDENTIAL MSG_MAX_VALUE /* one credential (a JOB frame still fits MSG_CAP_CONTROL) */
#define MSG_MAX_KNOWN_HOSTS ((size_t)16 << 10) /* SSH known_hosts text of one job */
#define MSG_MAX_LOG_LINE 16384                /* one LOG line */
#define MSG_MAX_VALUE ((size_t)4 << 20)       /* one secret or config value */
#define MSG_MAX_ITEMS (2 * KVLIST_MAX_ITEMS)  /* RESULT items */
#define MSG_MAX_FILES 20000                   /* file reports (= TREE_MAX_FILES) */
#define MSG_MAX_METRICS 1024                  /* counters in one METRICS */
#define MSG_MAX_TAP_JSON (MSG_CAP_CONTROL - 1024) /* one TAP line */

#endif
