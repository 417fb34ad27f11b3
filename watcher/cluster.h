/* cluster.h — the watcher in cluster mode: informers on SecretManagerConfigs (both API
 * groups), Flux sources and ArgoCD Applications (all namespaces: Argo keeps them in its
 * own; resolution and credentials in argo.h), the work queue, leader election, and the reconcile that turns a
 * config into a JOB and its RESULT into status, events and the next requeue.
 *
 * One job is in the pipeline at a time (the pipeline is one chain of processes); the queue
 * guarantees a key is never reconciled twice at once and orders the rest. Only the leader
 * (or every replica without --leader-elect) reconciles and writes; the others keep their
 * caches warm and take over when the Lease expires. */
#ifndef SMC_CLUSTER_H
#define SMC_CLUSTER_H

#include <stdbool.h>

#include "common/err.h"
#include "common/sandbox.h"
#include "watcher/kube_client.h"

#define CLUSTER_FINALIZER "secret-management.octopilot.io/finalizer"
#define CLUSTER_ANNOTATION "secret-management.octopilot.io/reconcile"
#define CLUSTER_ANNOTATION_OLD "secret-management.microscaler.io/reconcile"
#define CLUSTER_JOB_TIMEOUT_S 900 /* a job without RESULT after this is counted lost */
#define CLUSTER_MAX_ARG 1024

/* Options of `smcd --cluster`, passed to the watcher on its command line. */
struct cluster_opts {
	bool enabled;
	const char *kubeconfig;     /* NULL: in-cluster, $KUBECONFIG or ~/.kube/config */
	const char *context;
	const char *ns;             /* watch this namespace only, NULL: all */
	const char *label_selector; /* shard configs by label */
	bool leader_elect;
	const char *lease_name, *lease_ns;
	const char *identity;       /* this replica (POD_NAME or host name by default) */
	const char *store;          /* --store: local provider path override */
	const char *argocd_ns;      /* --argocd-namespace: where Argo keeps its repository
	                               Secrets and known hosts (default "argocd") */
	bool allow_cross_ns;        /* --allow-cross-namespace-refs: a config may name a
	                               credentials Secret in another namespace */
};

/* Takes the cluster options out of argv (--cluster, --kubeconfig P, --context C,
 * --namespace NS, --label-selector S, --leader-elect, --lease-name N, --lease-namespace NS,
 * --identity ID, --argocd-namespace NS, --allow-cross-namespace-refs), compacting argv for procargs_parse. ERR_INVAL on
 * a missing value. */
int cluster_take_args(int *argc, char **argv, struct cluster_opts *o, struct err_ctx *err);

struct cluster;

/* Before the sandbox: loads the kube config, forks the exec-credential helper when the
 * kubeconfig uses a plugin, and adds the files the client reads later to paths (ro). */
int cluster_prepare(const struct cluster_opts *o, struct sandbox_paths *paths,
		    struct cluster **out, struct err_ctx *err);
/* After the sandbox and the handshakes: runs until SHUTDOWN (0) or a fatal error. */
int cluster_run(struct cluster *c, struct err_ctx *err);
void cluster_free(struct cluster *c);

#endif
