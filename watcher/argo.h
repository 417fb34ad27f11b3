/* argo.h — ArgoCD Applications as sources: which Git repository, revision and path a
 * SecretManagerConfig reads, and which credentials go with it. Pure functions over the
 * JSON objects (no I/O): cluster.c fetches the objects and calls these.
 *
 * Source rule. spec.source: that source. spec.sources[] (multi-source Applications):
 * Helm chart sources (`chart` set) are skipped; among the rest, the source whose `path` is
 * the longest component-wise prefix of the config's kustomizePath (when set) or else its
 * basePath is chosen; when the config sets neither, the first source with a non-empty
 * path; when none has one, the first Git source. The repository is read whole (subpath
 * ""): basePath and kustomizePath stay relative to the repository root, as with a Flux
 * GitRepository; a config that sets neither gets the chosen source's path as its basePath.
 *
 * Revision rule. The exact commit Argo synced, status.sync.revision (spec.source) or
 * status.sync.revisions[i] (the chosen source's index), when present; else the source's
 * targetRevision ("HEAD" and "" both mean the remote's HEAD).
 *
 * Credentials rule. sourceRef.gitCredentials {name, namespace (default: the config's)}
 * names one Secret, used as is. Otherwise the repository Secrets of the Argo namespace
 * (label argocd.argoproj.io/secret-type = repository or repo-creds): a Secret whose `url`
 * equals the repoURL (ignoring case, a trailing "/" and ".git") wins; else the longest
 * `url` that is a prefix of the repoURL. Fields: username, password, sshPrivateKey,
 * sshKnownHosts (all optional, base64 in .data as Kubernetes stores them).
 * Known hosts: the Secret's sshKnownHosts, else the key ssh_known_hosts of the ConfigMap
 * argocd-ssh-known-hosts-cm in the Argo namespace (as ArgoCD keeps them). */
#ifndef SMC_WATCHER_ARGO_H
#define SMC_WATCHER_ARGO_H

#include <jansson.h>

#include "common/err.h"
#include "proto/msg.h"

#define ARGO_SECRET_TYPE_LABEL "argocd.argoproj.io/secret-type"
#define ARGO_KNOWN_HOSTS_CM "argocd-ssh-known-hosts-cm"
#define ARGO_KNOWN_HOSTS_KEY "ssh_known_hosts"
#define ARGO_DEFAULT_NAMESPACE "argocd"
#define ARGO_MAX_PASSWORD 4096		  /* bytes of a decoded password or token */
#define ARGO_MAX_SSH_KEY ((size_t)16 << 10) /* bytes of a decoded SSH private key */
#define ARGO_MAX_URL 4096		  /* bytes of a repoURL / Secret url */

/* The source picked from an Application (strings borrowed from the Application JSON,
 * valid while it lives; revision may be "" for the remote's HEAD). */
struct argo_source {
	const char *url, *revision, *path;
	int index; /* -1: spec.source; else the index in spec.sources */
};

/* Applies the source and revision rules above. ERR_NOTFOUND (with err) when the
 * Application has no usable Git source. */
int argo_pick_source(const json_t *app, const char *kustomize_path, const char *base_path,
		     struct argo_source *out, struct err_ctx *err);

/* The repository Secret for url among items (a JSON array of Secrets), per the
 * credentials rule; NULL when none matches. Borrowed from items. */
const json_t *argo_match_secret(const json_t *items, const char *url);

/* Fills src's username, password, ssh_key and known_hosts from the Secret (replacing
 * what was there). known_hosts_fallback (may be NULL) is used when the Secret has no
 * sshKnownHosts. The decoded values go straight into secbufs. On failure src is
 * unchanged; err names the Secret and the field, never a value. */
int argo_secret_to_source(const json_t *secret, const char *known_hosts_fallback,
			  struct job_source *src, struct err_ctx *err);


/* 1 when a change from old to obj (either may be NULL) should reconcile the configs that
 * use the Application: its sources or its synced revision(s) changed. */
int argo_app_changed(const json_t *old, const json_t *obj);

#endif
