/* cluster.c — the watcher's cluster mode: informers → work queue → JOB; RESULT → status,
 * events, requeue. */
#include "watcher/cluster.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/smconfig.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "proto/fds.h"
#include "proto/peer.h"
#include "watcher/argo.h"
#include "watcher/informer.h"
#include "watcher/kube_exec.h"
#include "watcher/kube_secret.h"
#include "watcher/leader.h"
#include "watcher/provider_creds.h"
#include "watcher/status.h"
#include "watcher/workqueue.h"

#define CLUSTER_NGROUPS 2
#define CLUSTER_NSOURCES 3
#define CLUSTER_MAX_WAIT_MS 1000
#define CLUSTER_SOURCE_RETRY_S 30 /* waiting for a source that does not exist yet */

static const struct {
	const char *group, *version;
	char tag;
} smc_groups[CLUSTER_NGROUPS] = {
    {"secret-management.octopilot.io", "v1beta1", 'o'},
    {"secret-management.microscaler.io", "v1", 'm'},
};

static const struct {
	const char *kind, *plural;
} flux_kinds[CLUSTER_NSOURCES] = {
    {"GitRepository", "gitrepositories"},
    {"OCIRepository", "ocirepositories"},
    {"Bucket", "buckets"},
};

#define CLUSTER_APP_IDX (CLUSTER_NGROUPS + CLUSTER_NSOURCES) /* the Application informer */
#define CLUSTER_MAX_LIST_SECRETS 4096 /* repository Secrets considered in one match */

struct inf_ctx {
	struct cluster *c;
	int idx; /* 0..1: SecretManagerConfig groups; 2..4: Flux kinds; 5: Applications */
};

struct cluster {
	struct cluster_opts o;
	struct kube_config *cfg;
	struct kube_client *kc;
	int helper_fd;
	pid_t helper_pid;
	struct informer *smc[CLUSTER_NGROUPS];
	struct informer *src[CLUSTER_NSOURCES];
	struct informer *apps; /* argoproj.io/v1alpha1 Applications */
	struct inf_ctx ctx[CLUSTER_NGROUPS + CLUSTER_NSOURCES + 1];
	struct workqueue *wq;
	struct leader *leader;
	char identity[256];
	/* the job in the pipeline */
	uint64_t next_job_id, running_job;
	char running_key[WORKQUEUE_MAX_KEY + 1];
	char running_rev[MSG_MAX_SHORT + 1];
	char running_provider[16];
	json_t *running_obj; /* the config as it was when the job started */
	int64_t running_interval_s;
	time_t running_since;
	bool running_finalize; /* the running job empties a deleted config's objects */
	bool was_leader;
	/* counters (reference names, reference-controller.md §4) */
	uint64_t n_reconciles, n_errors, n_synced, n_updated, n_requeue_timer, n_requeue_error;
	uint64_t n_artifact, n_artifact_errors, n_drift;
};

/* ------------------------------------------------------------------ options */

int cluster_take_args(int *argc, char **argv, struct cluster_opts *o, struct err_ctx *err)
{
	static const struct {
		const char *flag;
		size_t off;
	} valued[] = {
	    {"--kubeconfig", offsetof(struct cluster_opts, kubeconfig)},
	    {"--context", offsetof(struct cluster_opts, context)},
	    {"--namespace", offsetof(struct cluster_opts, ns)},
	    {"--label-selector", offsetof(struct cluster_opts, label_selector)},
	    {"--lease-name", offsetof(struct cluster_opts, lease_name)},
	    {"--lease-namespace", offsetof(struct cluster_opts, lease_ns)},
	    {"--identity", offsetof(struct cluster_opts, identity)},
	    {"--argocd-namespace", offsetof(struct cluster_opts, argocd_ns)},
	};
	int out = 1;

	memset(o, 0, sizeof(*o));
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		bool taken = false;

		if (strcmp(a, "--cluster") == 0) {
			o->enabled = true;
			continue;
		}
		if (strcmp(a, "--leader-elect") == 0) {
			o->leader_elect = true;
			continue;
		}
		if (strcmp(a, "--allow-cross-namespace-refs") == 0) {
			o->allow_cross_ns = true;
			continue;
		}
		for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
			if (strcmp(a, valued[k].flag) != 0)
				continue;
			if (i + 1 >= *argc || strlen(argv[i + 1]) > CLUSTER_MAX_ARG)
				return err_set(err, ERR_INVAL, "%s: missing or too long value", a);
			*(const char **)((char *)o + valued[k].off) = argv[++i];
			taken = true;
			break;
		}
		if (!taken)
			argv[out++] = argv[i];
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}

/* ------------------------------------------------------------------ helpers */

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static const json_t *meta_of(const json_t *o)
{
	return json_object_get(o, "metadata");
}

static const char *annotation(const json_t *o)
{
	const json_t *an = json_object_get(meta_of(o), "annotations");
	const char *v = json_string_value(json_object_get(an, CLUSTER_ANNOTATION));

	return v ? v : json_string_value(json_object_get(an, CLUSTER_ANNOTATION_OLD));
}

static int key_of(char tag, const json_t *o, char *buf, size_t size)
{
	return str_fmt(buf, size, "%c|%s/%s", tag, jstr(meta_of(o), "namespace"),
		       jstr(meta_of(o), "name"));
}

/* "o|ns/name" → group index, ns, name (pointers into buf). */
static int key_parse(const char *key, char *buf, size_t size, int *group, const char **ns,
		     const char **name)
{
	char *slash;

	if (str_copy(buf, size, key) != 0 || strlen(buf) < 4 || buf[1] != '|')
		return ERR_INVAL;
	*group = buf[0] == 'm' ? 1 : 0;
	if ((slash = strchr(buf + 2, '/')) == NULL)
		return ERR_INVAL;
	*slash = '\0';
	*ns = buf + 2;
	*name = slash + 1;
	return 0;
}

static int smc_path(int group, const char *ns, const char *name, const char *sub, char *buf,
		    size_t size)
{
	return str_fmt(buf, size, "/apis/%s/%s/namespaces/%s/secretmanagerconfigs/%s%s%s",
		       smc_groups[group].group, smc_groups[group].version, ns, name,
		       sub ? "/" : "", sub ? sub : "");
}

static bool has_finalizer(const json_t *o)
{
	const json_t *f = json_object_get(meta_of(o), "finalizers"), *it;
	size_t i;

	json_array_foreach(f, i, it) {
		if (json_is_string(it) && strcmp(json_string_value(it), CLUSTER_FINALIZER) == 0)
			return true;
	}
	return false;
}

static bool deleting(const json_t *o)
{
	return json_object_get(meta_of(o), "deletionTimestamp") != NULL &&
	       !json_is_null(json_object_get(meta_of(o), "deletionTimestamp"));
}

static void send_metrics(struct cluster *c)
{
	char *names[] = {
	    "secret_manager_reconciliations_total",
	    "secret_manager_reconciliation_errors_total",
	    "secret_manager_secrets_synced_total",
	    "secret_manager_secrets_updated_total",
	    "secret_manager_requeues_total{reason=\"timer-based\"}",
	    "secret_manager_requeues_total{reason=\"error-backoff\"}",
	    "secret_manager_artifact_downloads_total",
	    "secret_manager_artifact_download_errors_total",
	    "smc_drift_corrected_total",
	    "smc_leader",
	    "smc_workqueue_depth",
	};
	uint64_t values[] = {c->n_reconciles,	 c->n_errors,	       c->n_synced,
			     c->n_updated,	 c->n_requeue_timer,   c->n_requeue_error,
			     c->n_artifact,	 c->n_artifact_errors, c->n_drift,
			     c->was_leader ? 1u : 0u, workqueue_len(c->wq)};
	struct msg m;

	msg_init(&m, MSG_METRICS);
	m.u.metrics.names = names;
	m.u.metrics.values = values;
	m.u.metrics.n = sizeof(values) / sizeof(values[0]);
	(void)msg_send(FD_SUPERVISOR, &m);
}

/* ------------------------------------------------------------------ informer events */

static void enqueue_for_source(struct cluster *c, const char *kind, const json_t *src)
{
	const char *sns = jstr(meta_of(src), "namespace"), *sname = jstr(meta_of(src), "name");
	int64_t now = clock_mono_ms();

	for (int g = 0; g < CLUSTER_NGROUPS; g++) {
		const char *k;
		json_t *o;

		if (c->smc[g] == NULL)
			continue;
		json_object_foreach((json_t *)informer_items(c->smc[g]), k, o) {
			const json_t *ref = json_object_get(json_object_get(o, "spec"), "sourceRef");
			const char *rk = jstr(ref, "kind"), *rns = jstr(ref, "namespace");
			char key[WORKQUEUE_MAX_KEY + 1];

			if (*rk == '\0')
				rk = "GitRepository";
			if (*rns == '\0')
				rns = jstr(meta_of(o), "namespace");
			if (strcmp(rk, kind) != 0 || strcmp(jstr(ref, "name"), sname) != 0 ||
			    strcmp(rns, sns) != 0)
				continue;
			if (key_of(smc_groups[g].tag, o, key, sizeof(key)) == 0) {
				log_info("source.revision", "%s %s/%s: new artifact, reconciling %s",
					 kind, sns, sname, key + 2);
				(void)workqueue_add(c->wq, key, now);
			}
		}
	}
}

static const char *artifact_revision(const json_t *src)
{
	return json_string_value(
	    json_object_get(json_object_get(json_object_get(src, "status"), "artifact"), "revision"));
}

static void on_event(void *arg, enum informer_event ev, const json_t *old, const json_t *obj)
{
	struct inf_ctx *x = arg;
	struct cluster *c = x->c;
	char key[WORKQUEUE_MAX_KEY + 1];

	if (x->idx == CLUSTER_APP_IDX) {
		/* a new synced revision (or new sources) reconciles the configs using it */
		if (ev == INFORMER_ADD || ev == INFORMER_DELETE ||
		    (ev == INFORMER_UPDATE && argo_app_changed(old, obj)))
			enqueue_for_source(c, "Application", obj);
		return;
	}
	if (x->idx >= CLUSTER_NGROUPS) {
		const char *kind = flux_kinds[x->idx - CLUSTER_NGROUPS].kind;
		const char *nrev = artifact_revision(obj), *orev = old ? artifact_revision(old) : NULL;

		bool same = (nrev == NULL && orev == NULL) ||
			    (nrev != NULL && orev != NULL && strcmp(nrev, orev) == 0);

		if (ev == INFORMER_ADD || ev == INFORMER_DELETE || (ev == INFORMER_UPDATE && !same))
			enqueue_for_source(c, kind, obj);
		return;
	}
	if (key_of(smc_groups[x->idx].tag, obj, key, sizeof(key)) != 0)
		return;
	switch (ev) {
	case INFORMER_ADD:
		(void)workqueue_add(c->wq, key, clock_mono_ms());
		break;
	case INFORMER_UPDATE: {
		const json_t *om = meta_of(old), *nm = meta_of(obj);
		const char *oa = annotation(old), *na = annotation(obj);
		bool gen = !json_equal(json_object_get(om, "generation"),
				       json_object_get(nm, "generation"));
		bool ann = na != NULL && (oa == NULL || strcmp(oa, na) != 0);

		if (gen || ann || (deleting(obj) && !deleting(old)))
			(void)workqueue_add(c->wq, key, clock_mono_ms());
		break;
	}
	case INFORMER_DELETE:
		workqueue_drop(c->wq, key);
		break;
	case INFORMER_RESYNC:
		break;
	}
}

/* ------------------------------------------------------------------ writes */

static void write_status(struct cluster *c, int group, const json_t *obj,
			 const struct status_input *in, bool event)
{
	const char *ns = jstr(meta_of(obj), "namespace"), *name = jstr(meta_of(obj), "name");
	struct err_ctx err = {{0}};
	char path[1024];
	json_t *p = status_patch(in);

	if (p != NULL && smc_path(group, ns, name, "status", path, sizeof(path)) == 0 &&
	    kube_patch(c->kc, path, "merge", p, NULL, &err) != 0)
		log_warn("status.write", "%s/%s: %s", ns, name, err.msg);
	json_decref(p);
	if (event) {
		bool drift = in->outcome == STATUS_SUCCEEDED && status_is_drift(obj, in->result);
		json_t *e = status_event(in, c->identity, drift);

		if (drift)
			c->n_drift++;
		if (e != NULL && str_fmt(path, sizeof(path), "/apis/events.k8s.io/v1/namespaces/%s/events",
					 ns) == 0 &&
		    kube_post(c->kc, path, e, NULL, &err) != 0)
			log_warn("event.write", "%s/%s: %s", ns, name, err.msg);
		json_decref(e);
	}
}

static int set_finalizers(struct cluster *c, int group, const json_t *obj, bool add,
			  struct err_ctx *err)
{
	const json_t *f = json_object_get(meta_of(obj), "finalizers"), *it;
	json_t *list = json_array(), *patch;
	char path[1024];
	size_t i;
	int rc;

	json_array_foreach(f, i, it) {
		if (!(json_is_string(it) && strcmp(json_string_value(it), CLUSTER_FINALIZER) == 0))
			json_array_append(list, (json_t *)it);
	}
	if (add)
		json_array_append_new(list, json_string(CLUSTER_FINALIZER));
	/* resourceVersion makes the write conditional: 409 when someone changed the list */
	patch = json_pack("{s:{s:o, s:s}}", "metadata", "finalizers", list, "resourceVersion",
			  jstr(meta_of(obj), "resourceVersion"));
	if (patch == NULL)
		return ERR_NOMEM;
	if (smc_path(group, jstr(meta_of(obj), "namespace"), jstr(meta_of(obj), "name"), NULL, path,
		     sizeof(path)) != 0)
		rc = ERR_TOOBIG;
	else
		rc = kube_patch(c->kc, path, "merge", patch, NULL, err);
	json_decref(patch);
	return rc;
}

static void clear_annotation(struct cluster *c, int group, const json_t *obj)
{
	struct err_ctx err = {{0}};
	char path[1024];
	json_t *patch = json_pack("{s:{s:{s:n, s:n}}}", "metadata", "annotations",
				  CLUSTER_ANNOTATION, CLUSTER_ANNOTATION_OLD);

	if (patch != NULL &&
	    smc_path(group, jstr(meta_of(obj), "namespace"), jstr(meta_of(obj), "name"), NULL, path,
		     sizeof(path)) == 0 &&
	    kube_patch(c->kc, path, "merge", patch, NULL, &err) != 0)
		log_warn("annotation.clear", "%s", err.msg);
	json_decref(patch);
}

/* ------------------------------------------------------------------ reconcile */

static int64_t jittered(int64_t interval_s)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)clock_mono_ms();
	return workqueue_jitter_ms(interval_s * 1000, r);
}

/* Finishes a key without a job: status written, requeued per outcome. */
static void finish_now(struct cluster *c, const char *key, int group, const json_t *obj,
		       enum status_outcome outcome, const char *stage, const char *reason,
		       int64_t retry_s, bool event)
{
	struct status_input in = {.obj = obj, .outcome = outcome, .stage = stage, .reason = reason,
				  .revision = "", .now = time(NULL)};

	if (retry_s > 0)
		in.next = in.now + retry_s;
	write_status(c, group, obj, &in, event);
	if (outcome == STATUS_FAILED) {
		c->n_errors++;
		c->n_requeue_error++;
		(void)workqueue_add_backoff(c->wq, key, clock_mono_ms(), NULL);
	} else if (retry_s > 0) {
		(void)workqueue_add_at(c->wq, key, clock_mono_ms() + retry_s * 1000);
	}
}

/* Resolves a Flux sourceRef to the artifact fields of the job. 0 when ready; otherwise
 * *why says what is missing (waiting). */
static int resolve_source(struct cluster *c, const json_t *obj, struct smconfig *cfg, char *why,
			  size_t size)
{
	const char *ns = *cfg->ref_ns ? cfg->ref_ns : jstr(meta_of(obj), "namespace");
	const json_t *src = NULL, *art;
	int k;

	for (k = 0; k < CLUSTER_NSOURCES; k++) {
		if (strcmp(flux_kinds[k].kind, cfg->ref_kind) == 0)
			break;
	}
	if (k == CLUSTER_NSOURCES)
		return str_fmt(why, size, "sourceRef.kind %s is not a Flux source", cfg->ref_kind),
		       ERR_UNSUPPORTED;
	if (c->src[k] != NULL)
		src = informer_get(c->src[k], ns, cfg->ref_name);
	if (src == NULL) {
		(void)str_fmt(why, size, "%s %s/%s not found, waiting for creation", cfg->ref_kind, ns,
			      cfg->ref_name);
		return ERR_NOTFOUND;
	}
	art = json_object_get(json_object_get(src, "status"), "artifact");
	if (!json_is_object(art) || *jstr(art, "url") == '\0') {
		(void)str_fmt(why, size, "%s %s/%s has no artifact yet, waiting", cfg->ref_kind, ns,
			      cfg->ref_name);
		return ERR_NOTFOUND;
	}
	free(cfg->job.source.url);
	free(cfg->job.source.digest);
	free(cfg->job.source.revision);
	cfg->job.source.url = xstrdup(jstr(art, "url"));
	cfg->job.source.digest = xstrdup(jstr(art, "digest"));
	cfg->job.source.revision = xstrdup(jstr(art, "revision"));
	if (cfg->job.source.url == NULL || cfg->job.source.digest == NULL ||
	    cfg->job.source.revision == NULL)
		return ERR_NOMEM;
	return 0;
}

/* The Secret that holds the Git credentials of url for this config (owned *out, NULL
 * when none applies): sourceRef.gitCredentials, else Argo's repository Secrets. */
static int find_git_secret(struct cluster *c, const json_t *obj, const char *url, json_t **out,
			   char *why, size_t size)
{
	const json_t *gc = json_object_get(
	    json_object_get(json_object_get(obj, "spec"), "sourceRef"), "gitCredentials");
	const char *argo_ns = c->o.argocd_ns ? c->o.argocd_ns : ARGO_DEFAULT_NAMESPACE;
	struct err_ctx err = {{0}};
	json_t *list = NULL, *one = NULL;
	const json_t *items, *m;
	char path[1024];
	int rc;

	*out = NULL;
	if (json_is_object(gc) && *jstr(gc, "name") != '\0') {
		const char *ns = *jstr(gc, "namespace") ? jstr(gc, "namespace")
							: jstr(meta_of(obj), "namespace");

		if (str_fmt(path, sizeof(path), "/api/v1/namespaces/%s/secrets/%s", ns,
			    jstr(gc, "name")) != 0)
			return str_fmt(why, size, "sourceRef.gitCredentials: name too long"),
			       ERR_INVAL;
		if ((rc = kube_get(c->kc, path, &one, &err)) != 0) {
			(void)str_fmt(why, size, "sourceRef.gitCredentials: Secret %s/%s: %s", ns,
				      jstr(gc, "name"),
				      rc == ERR_NOTFOUND ? "not found" : err.msg);
			return rc;
		}
		*out = one;
		return 0;
	}
	if (str_fmt(path, sizeof(path), "/api/v1/namespaces/%s/secrets", argo_ns) != 0 ||
	    kube_path_add_query(path, sizeof(path), "labelSelector",
				ARGO_SECRET_TYPE_LABEL " in (repository,repo-creds)") != 0)
		return str_fmt(why, size, "--argocd-namespace too long"), ERR_INVAL;
	if ((rc = kube_get(c->kc, path, &list, &err)) != 0) {
		if (rc == ERR_NOTFOUND) /* no Argo namespace: public repositories only */
			return 0;
		(void)str_fmt(why, size, "cannot list the repository Secrets of %s: %s", argo_ns,
			      err.msg);
		return rc;
	}
	items = json_object_get(list, "items");
	if (json_array_size(items) > CLUSTER_MAX_LIST_SECRETS) {
		json_decref(list);
		return str_fmt(why, size, "more than %d repository Secrets in %s",
			       CLUSTER_MAX_LIST_SECRETS, argo_ns),
		       ERR_TOOBIG;
	}
	m = argo_match_secret(items, url);
	if (m != NULL)
		*out = json_incref((json_t *)m);
	json_decref(list);
	return 0;
}

/* Argo's own known hosts (ConfigMap argocd-ssh-known-hosts-cm), owned *out or NULL. */
static void argo_known_hosts(struct cluster *c, char **out)
{
	const char *argo_ns = c->o.argocd_ns ? c->o.argocd_ns : ARGO_DEFAULT_NAMESPACE;
	struct err_ctx err = {{0}};
	json_t *cm = NULL;
	const char *v;
	char path[1024];

	*out = NULL;
	if (str_fmt(path, sizeof(path), "/api/v1/namespaces/%s/configmaps/%s", argo_ns,
		    ARGO_KNOWN_HOSTS_CM) != 0 ||
	    kube_get(c->kc, path, &cm, &err) != 0)
		return;
	v = json_string_value(json_object_get(json_object_get(cm, "data"), ARGO_KNOWN_HOSTS_KEY));
	if (v != NULL && strlen(v) <= MSG_MAX_KNOWN_HOSTS)
		*out = xstrdup(v);
	json_decref(cm);
}

static int url_is_ssh(const char *u)
{
	const char *colon = strchr(u, ':'), *slash = strchr(u, '/');

	if (str_has_prefix(u, "ssh://"))
		return 1;
	return strstr(u, "://") == NULL && colon != NULL && (slash == NULL || colon < slash);
}

/* Resolves an ArgoCD Application sourceRef (argo.h rules) to the Git fields and the
 * credentials of the job. 0 when ready; ERR_NOTFOUND: waiting (why says for what);
 * otherwise why says what is wrong. */
static int resolve_argo(struct cluster *c, const json_t *obj, struct smconfig *cfg, char *why,
			size_t size)
{
	const char *ns = *cfg->ref_ns ? cfg->ref_ns : jstr(meta_of(obj), "namespace");
	const json_t *app = c->apps ? informer_get(c->apps, ns, cfg->ref_name) : NULL;
	struct job *j = &cfg->job;
	struct argo_source as;
	struct err_ctx err = {{0}};
	json_t *secret = NULL;
	char *kh = NULL;
	int rc;

	if (app == NULL) {
		(void)str_fmt(why, size, "Application %s/%s not found, waiting for creation", ns,
			      cfg->ref_name);
		return ERR_NOTFOUND;
	}
	if ((rc = argo_pick_source(app, j->mode.kustomize_path, j->mode.base_path, &as, &err)) !=
	    0) {
		(void)str_copy(why, size, err.msg);
		return rc == ERR_NOTFOUND ? ERR_UNSUPPORTED : rc;
	}
	free(j->source.url);
	free(j->source.revision);
	free(j->source.subpath);
	j->source.url = xstrdup(as.url);
	j->source.revision = xstrdup(as.revision);
	j->source.subpath = xstrdup("");
	if (j->source.url == NULL || j->source.revision == NULL || j->source.subpath == NULL)
		return ERR_NOMEM;
	if (*j->mode.kustomize_path == '\0' && *j->mode.base_path == '\0' && *as.path != '\0') {
		free(j->mode.base_path);
		if ((j->mode.base_path = xstrdup(as.path)) == NULL)
			return ERR_NOMEM;
	}
	if ((rc = find_git_secret(c, obj, as.url, &secret, why, size)) != 0)
		return rc == ERR_NOTFOUND ? ERR_PERM : rc; /* a named Secret that is missing */
	if (url_is_ssh(as.url) &&
	    (secret == NULL ||
	     json_object_get(json_object_get(secret, "data"), "sshKnownHosts") == NULL))
		argo_known_hosts(c, &kh);
	if (secret != NULL) {
		rc = argo_secret_to_source(secret, kh, &j->source, &err);
		if (rc != 0)
			(void)str_copy(why, size, err.msg);
	} else if (kh != NULL) {
		free(j->source.known_hosts);
		j->source.known_hosts = kh;
		kh = NULL;
	}
	free(kh);
	kube_secret_release(secret);
	return rc;
}

/* The credentials Secret cfg names (spec.provider.<kind>.auth.secretName) read into *creds
 * (provider_creds.h). 0 with creds->type == 0 when none is named; otherwise why says what
 * is wrong (never a value): ERR_PERM for a namespace the config may not read from,
 * ERR_NOKEY for a missing Secret or key. */
static int read_credentials(struct cluster *c, const struct smconfig *cfg, struct msg *creds,
			    char *why, size_t size)
{
	const struct job *j = &cfg->job;
	const char *ns = provider_creds_namespace(j);
	struct err_ctx err = {{0}};
	json_t *secret = NULL;
	char path[1024];
	int rc;

	msg_init(creds, 0);
	if (j->provider.secret_name == NULL || j->provider.secret_name[0] == '\0')
		return 0;
	if (strcmp(ns, j->config.ns) != 0 && !c->o.allow_cross_ns)
		return str_fmt(why, size,
			       "spec.provider.%s.auth.secretNamespace: %s is not the config's "
			       "namespace %s (smcd --allow-cross-namespace-refs permits it)",
			       j->provider.kind, ns, j->config.ns),
		       ERR_PERM;
	if (str_fmt(path, sizeof(path), "/api/v1/namespaces/%s/secrets/%s", ns,
		    j->provider.secret_name) != 0)
		return str_fmt(why, size, "spec.provider.%s.auth.secretName: too long",
			       j->provider.kind),
		       ERR_INVAL;
	if ((rc = kube_get(c->kc, path, &secret, &err)) != 0) {
		(void)str_fmt(why, size, "spec.provider.%s.auth.secretName: Secret %s/%s: %s",
			      j->provider.kind, ns, j->provider.secret_name,
			      rc == ERR_NOTFOUND ? "not found" : err.msg);
		return rc == ERR_NOTFOUND ? ERR_NOKEY : rc;
	}
	msg_init(creds, MSG_CREDENTIALS);
	rc = provider_creds_from_secret(secret, j, &creds->u.credentials, &err);
	kube_secret_release(secret);
	if (rc != 0) {
		msg_init(creds, 0);
		(void)str_copy(why, size, err.msg);
	}
	return rc;
}

/* Sends cfg's job to the fetcher (after its credentials, when creds holds some, to the
 * syncer) and records it as the running job. 1 when sent. */
static int start_job(struct cluster *c, const char *key, const json_t *obj, struct smconfig *cfg,
		     struct msg *creds, bool finalize)
{
	struct msg m;

	if (c->o.store != NULL && strcmp(cfg->job.provider.kind, "local") == 0) {
		char *p = xstrdup(c->o.store);

		if (p != NULL) {
			free(cfg->job.provider.store_path);
			cfg->job.provider.store_path = p;
		}
	}
	cfg->job.id = ++c->next_job_id;
	if (creds != NULL && creds->type == MSG_CREDENTIALS) {
		creds->u.credentials.job_id = cfg->job.id;
		if (msg_send(FD_WATCHER_SYNCER, creds) != 0) {
			log_warn("job.start", "the syncer is not reachable (restarting?)");
			return 0;
		}
	}
	msg_init(&m, MSG_JOB);
	m.u.job.job = cfg->job;
	if (msg_send(FD_WATCHER_FETCHER, &m) != 0) {
		log_warn("job.start", "the fetcher is not reachable (restarting?)");
		return 0;
	}
	c->running_job = cfg->job.id;
	c->running_finalize = finalize;
	(void)str_copy(c->running_key, sizeof(c->running_key), key);
	(void)str_copy(c->running_rev, sizeof(c->running_rev),
		       cfg->job.source.revision ? cfg->job.source.revision : "");
	(void)str_copy(c->running_provider, sizeof(c->running_provider), cfg->job.provider.kind);
	json_decref(c->running_obj);
	c->running_obj = json_deep_copy(obj);
	c->running_interval_s = cfg->interval_s;
	c->running_since = time(NULL);
	if (strcmp(cfg->job.source.kind, "artifact") == 0 && !finalize)
		c->n_artifact++;
	log_info("job.start", "job %llu for %s/%s%s at %s", (unsigned long long)cfg->job.id,
		 cfg->job.config.ns, cfg->job.config.name, finalize ? " (deletion)" : "",
		 c->running_rev[0] ? c->running_rev : "(local)");
	return 1;
}

/* 1: a job was sent (the key stays processing until its RESULT); 0: finished here. */
static int reconcile(struct cluster *c, const char *key)
{
	char kb[WORKQUEUE_MAX_KEY + 1], why[512];
	const char *ns, *name;
	const json_t *obj;
	struct smconfig cfg;
	struct err_ctx err = {{0}};
	int group, rc;

	if (key_parse(key, kb, sizeof(kb), &group, &ns, &name) != 0 || c->smc[group] == NULL ||
	    (obj = informer_get(c->smc[group], ns, name)) == NULL)
		return 0; /* gone */
	if (deleting(obj)) {
		if (!has_finalizer(obj))
			return 0;
		/* deletionPolicy Retain (default): the cloud objects stay and the finalizer goes.
		 * Delete/Disable: one pipeline run with an empty desired state (delete_all)
		 * disables or deletes every object the config owns; the finalizer is removed
		 * when that run succeeds (job_finished). */
		if (smconfig_from_json(obj, NULL, &cfg, &err) == 0) {
			if (cfg.job.policy.deletion != JOB_DELETION_RETAIN) {
				cfg.job.policy.delete_all = true;
				cfg.job.policy.prune = true;
				struct msg creds;

				rc = read_credentials(c, &cfg, &creds, why, sizeof(why));
				if (rc == 0)
					rc = start_job(c, key, obj, &cfg, &creds, true);
				else
					log_warn("finalize.credentials", "%s/%s: %s", ns, name, why);
				msg_free(&creds);
				smconfig_free(&cfg);
				if (rc == 1)
					return 1;
				(void)workqueue_add_backoff(c->wq, key, clock_mono_ms(), NULL);
				return 0;
			}
			smconfig_free(&cfg);
		}
		if (set_finalizers(c, group, obj, false, &err) != 0) {
			log_warn("finalizer.remove", "%s/%s: %s", ns, name, err.msg);
			(void)workqueue_add_backoff(c->wq, key, clock_mono_ms(), NULL);
		} else {
			log_info("finalizer.removed", "%s/%s deleted", ns, name);
		}
		return 0;
	}
	if (!has_finalizer(obj) && set_finalizers(c, group, obj, true, &err) != 0)
		log_warn("finalizer.add", "%s/%s: %s", ns, name, err.msg); /* retried next time */
	c->n_reconciles++;
	if ((rc = smconfig_from_json(obj, NULL, &cfg, &err)) != 0) {
		log_warn("config.invalid", "%s/%s: %s", ns, name, err.msg);
		c->n_errors++;
		finish_now(c, key, group, obj, STATUS_STALLED, "config", err.msg, 0, true);
		workqueue_forget(c->wq, key);
		return 0;
	}
	if (cfg.suspend) {
		const char *phase = jstr(json_object_get(obj, "status"), "phase");

		if (strcmp(phase, "Suspended") != 0)
			finish_now(c, key, group, obj, STATUS_SUSPENDED, NULL, NULL, 0, false);
		workqueue_forget(c->wq, key);
		smconfig_free(&cfg);
		return 0;
	}
	if (strcmp(cfg.job.source.kind, "artifact") == 0) {
		rc = resolve_source(c, obj, &cfg, why, sizeof(why));
		if (rc == ERR_NOTFOUND) {
			log_info("source.waiting", "%s/%s: %s", ns, name, why);
			finish_now(c, key, group, obj, STATUS_WAITING, "source", why,
				   CLUSTER_SOURCE_RETRY_S, false);
			smconfig_free(&cfg);
			return 0;
		}
		if (rc != 0) {
			finish_now(c, key, group, obj, STATUS_STALLED, "source", why, 0, true);
			smconfig_free(&cfg);
			return 0;
		}
	} else if (strcmp(cfg.ref_kind, "Application") == 0) {
		rc = resolve_argo(c, obj, &cfg, why, sizeof(why));
		if (rc == ERR_NOTFOUND) {
			log_info("source.waiting", "%s/%s: %s", ns, name, why);
			finish_now(c, key, group, obj, STATUS_WAITING, "source", why,
				   CLUSTER_SOURCE_RETRY_S, false);
			smconfig_free(&cfg);
			return 0;
		}
		if (rc == ERR_UNSUPPORTED || rc == ERR_INVAL) {
			finish_now(c, key, group, obj, STATUS_STALLED, "source", why, 0, true);
			smconfig_free(&cfg);
			return 0;
		}
		if (rc != 0) { /* the credentials could not be read: retried with backoff */
			log_warn("source.credentials", "%s/%s: %s", ns, name, why);
			finish_now(c, key, group, obj, STATUS_FAILED, "source", why, 0, true);
			smconfig_free(&cfg);
			return 0;
		}
	}
	{
		struct msg creds;

		rc = read_credentials(c, &cfg, &creds, why, sizeof(why));
		if (rc != 0) {
			log_warn("credentials", "%s/%s: %s", ns, name, why);
			/* a missing Secret or key may appear: retried with backoff; a refused
			 * namespace or a bad name needs a new spec */
			bool stalled = rc == ERR_PERM || rc == ERR_INVAL;

			finish_now(c, key, group, obj, stalled ? STATUS_STALLED : STATUS_FAILED,
				   "credentials", why, 0, true);
			if (stalled)
				workqueue_forget(c->wq, key);
			smconfig_free(&cfg);
			return 0;
		}
		rc = start_job(c, key, obj, &cfg, &creds, false);
		msg_free(&creds); /* wiped: the syncer has its copy */
	}
	if (rc != 1)
		finish_now(c, key, group, obj, STATUS_FAILED, "fetch",
			   "the fetcher is restarting; retried", 0, false);
	smconfig_free(&cfg);
	return rc == 1 ? 1 : 0;
}

/* The running job ended (RESULT, lost, or timed out). */
static void job_finished(struct cluster *c, const struct msg_result *r)
{
	char kb[WORKQUEUE_MAX_KEY + 1], key[WORKQUEUE_MAX_KEY + 1];
	const char *ns, *name;
	int group;
	struct status_input in = {.obj = c->running_obj, .result = r, .revision = c->running_rev,
				  .provider = c->running_provider, .now = time(NULL)};
	int64_t interval = c->running_interval_s > 0 ? c->running_interval_s : SMCONFIG_DEFAULT_INTERVAL;

	(void)str_copy(key, sizeof(key), c->running_key);
	c->running_job = 0;
	if (key_parse(key, kb, sizeof(kb), &group, &ns, &name) != 0 || c->running_obj == NULL) {
		workqueue_done(c->wq, key);
		return;
	}
	if (c->running_finalize) {
		struct err_ctx err = {{0}};

		c->running_finalize = false;
		if (r->code == 0 && set_finalizers(c, group, c->running_obj, false, &err) == 0) {
			log_info("finalizer.removed", "%s/%s deleted; its objects were %s", ns, name,
				 "pruned per deletionPolicy");
			workqueue_forget(c->wq, key);
		} else {
			log_warn("finalize.failed", "%s/%s: %s", ns, name,
				 r->code != 0 ? (r->reason ? r->reason : "") : err.msg);
			(void)workqueue_add_backoff(c->wq, key, clock_mono_ms(), NULL);
		}
		workqueue_done(c->wq, key);
		json_decref(c->running_obj);
		c->running_obj = NULL;
		return;
	}
	if (r->code == 0) {
		int64_t d = jittered(interval);

		in.outcome = STATUS_SUCCEEDED;
		in.next = in.now + d / 1000;
		for (size_t i = 0; i < r->nitems; i++) {
			if (r->items[i].kind == ITEM_SECRET && (r->items[i].outcome == ITEM_WRITTEN ||
								r->items[i].outcome == ITEM_UNCHANGED))
				c->n_synced++;
			if (r->items[i].outcome == ITEM_WRITTEN)
				c->n_updated++;
		}
		write_status(c, group, c->running_obj, &in, true);
		if (annotation(c->running_obj) != NULL)
			clear_annotation(c, group, c->running_obj);
		workqueue_forget(c->wq, key);
		(void)workqueue_add_at(c->wq, key, clock_mono_ms() + d);
		c->n_requeue_timer++;
		log_info("job.done", "%s/%s synced at %s", ns, name, c->running_rev);
	} else {
		int64_t d = 0;

		in.outcome = STATUS_FAILED;
		(void)workqueue_add_backoff(c->wq, key, clock_mono_ms(), &d);
		in.next = in.now + d / 1000;
		c->n_errors++;
		c->n_requeue_error++;
		if (r->stage != NULL && strcmp(r->stage, "fetch") == 0)
			c->n_artifact_errors++;
		write_status(c, group, c->running_obj, &in, true);
		log_warn("job.failed", "%s/%s failed in %s: %s (retry in %lld ms)", ns, name,
			 r->stage ? r->stage : "?", r->reason ? r->reason : "", (long long)d);
	}
	workqueue_done(c->wq, key);
	json_decref(c->running_obj);
	c->running_obj = NULL;
	send_metrics(c);
}

static void job_lost(struct cluster *c, const char *stage, const char *why)
{
	struct msg_result r = {.job_id = c->running_job, .code = ERR_EOF, .stage = (char *)stage,
			       .reason = (char *)why, .revision = c->running_rev};

	log_warn("job.lost", "job %llu: %s", (unsigned long long)c->running_job, why);
	job_finished(c, &r);
}

static int dispatch(void *arg, const struct peer *from, struct msg *m, struct err_ctx *err)
{
	struct cluster *c = arg;

	switch (m->type) {
	case MSG_RESULT:
		if (m->u.result.job_id != c->running_job || c->running_job == 0) {
			log_warn("job.stale", "result for job %llu from %s ignored",
				 (unsigned long long)m->u.result.job_id, msg_role_name(from->role));
			return 0;
		}
		job_finished(c, &m->u.result);
		return 0;
	case MSG_EDGE:
		if (c->running_job != 0)
			job_lost(c, m->u.edge.peer, "a pipeline stage was restarted; retried");
		return 0;
	case MSG_RUN:
		log_warn("run.ignored", "RUN is for one-shot mode; this watcher runs in cluster mode");
		return 0;
	case MSG_TAP_ATTACH:
		return 0;
	default:
		return err_set(err, ERR_PROTO, "watcher has no handler for %s",
			       msg_type_name(m->type));
	}
}

/* ------------------------------------------------------------------ life cycle */

int cluster_prepare(const struct cluster_opts *o, struct sandbox_paths *paths,
		    struct cluster **out, struct err_ctx *err)
{
	struct cluster *c = xcalloc(1, sizeof(*c));
	const char *id;
	int rc;

	if (c == NULL)
		return ERR_NOMEM;
	c->o = *o;
	c->helper_fd = -1;
	if ((rc = kube_config_auto(o->kubeconfig, o->context, &c->cfg, err)) != 0)
		goto fail;
	for (size_t i = 0; i < c->cfg->nfiles; i++) {
		if ((rc = sandbox_paths_add_ro(paths, c->cfg->files[i])) != 0) {
			rc = err_set(err, rc, "too many sandbox paths");
			goto fail;
		}
	}
	if (c->cfg->exec.command != NULL) {
		if ((rc = kube_exec_helper_start(&c->cfg->exec, &c->helper_fd, &c->helper_pid, err)) !=
		    0)
			goto fail;
	}
	if ((rc = kube_client_new(c->cfg, &c->kc, err)) != 0)
		goto fail;
	if (c->helper_fd >= 0)
		kube_client_set_token_fn(c->kc, kube_exec_helper_token, &c->helper_fd);
	id = o->identity ? o->identity : getenv("POD_NAME");
	if (id == NULL || *id == '\0') {
		char host[128] = "smc";

		(void)gethostname(host, sizeof(host) - 1);
		(void)str_fmt(c->identity, sizeof(c->identity), "%s-%ld", host, (long)getpid());
	} else {
		(void)str_copy(c->identity, sizeof(c->identity), id);
	}
	*out = c;
	return 0;
fail:
	cluster_free(c);
	return rc;
}

void cluster_free(struct cluster *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < CLUSTER_NGROUPS; i++)
		informer_free(c->smc[i]);
	for (int i = 0; i < CLUSTER_NSOURCES; i++)
		informer_free(c->src[i]);
	informer_free(c->apps);
	leader_free(c->leader);
	workqueue_free(c->wq);
	kube_client_free(c->kc);
	kube_config_free(c->cfg);
	json_decref(c->running_obj);
	if (c->helper_fd >= 0)
		close(c->helper_fd); /* the helper exits on EOF */
	free(c);
}

static int make_informers(struct cluster *c, struct err_ctx *err)
{
	char p1[512], p2[512];
	int rc;

	for (int g = 0; g < CLUSTER_NGROUPS; g++) {
		struct informer_opts io = {.label_selector = c->o.label_selector};

		if (c->o.ns)
			rc = str_fmt(p1, sizeof(p1), "/apis/%s/%s/namespaces/%s/secretmanagerconfigs",
				     smc_groups[g].group, smc_groups[g].version, c->o.ns);
		else
			rc = str_fmt(p1, sizeof(p1), "/apis/%s/%s/secretmanagerconfigs",
				     smc_groups[g].group, smc_groups[g].version);
		if (rc != 0)
			return err_set(err, ERR_TOOBIG, "namespace too long");
		io.paths[0] = p1;
		c->ctx[g] = (struct inf_ctx){c, g};
		if ((rc = informer_new(c->kc, &io, on_event, &c->ctx[g], &c->smc[g])) != 0)
			return err_set(err, rc, "informer");
	}
	for (int k = 0; k < CLUSTER_NSOURCES; k++) {
		struct informer_opts io = {0};
		const char *nsp = c->o.ns ? "namespaces/" : "", *ns = c->o.ns ? c->o.ns : "";
		const char *sep = c->o.ns ? "/" : "";

		if (str_fmt(p1, sizeof(p1), "/apis/source.toolkit.fluxcd.io/v1/%s%s%s%s", nsp, ns, sep,
			    flux_kinds[k].plural) != 0 ||
		    str_fmt(p2, sizeof(p2), "/apis/source.toolkit.fluxcd.io/v1beta2/%s%s%s%s", nsp, ns,
			    sep, flux_kinds[k].plural) != 0)
			return err_set(err, ERR_TOOBIG, "namespace too long");
		io.paths[0] = p1;
		io.paths[1] = p2;
		c->ctx[CLUSTER_NGROUPS + k] = (struct inf_ctx){c, CLUSTER_NGROUPS + k};
		if ((rc = informer_new(c->kc, &io, on_event, &c->ctx[CLUSTER_NGROUPS + k], &c->src[k])) !=
		    0)
			return err_set(err, rc, "informer");
	}
	{
		/* Applications of every namespace: Argo keeps them in its own, not the
		 * configs' */
		struct informer_opts io = {.paths = {"/apis/argoproj.io/v1alpha1/applications"}};

		c->ctx[CLUSTER_APP_IDX] = (struct inf_ctx){c, CLUSTER_APP_IDX};
		if ((rc = informer_new(c->kc, &io, on_event, &c->ctx[CLUSTER_APP_IDX], &c->apps)) !=
		    0)
			return err_set(err, rc, "informer");
	}
	return 0;
}

static void step_informers(struct cluster *c, int64_t now, int64_t *wait)
{
	struct informer *all[CLUSTER_NGROUPS + CLUSTER_NSOURCES + 1];
	size_t n = 0;

	/* sources first: a config's first reconcile finds its artifact in the cache */
	for (int k = 0; k < CLUSTER_NSOURCES; k++)
		all[n++] = c->src[k];
	all[n++] = c->apps;
	for (int g = 0; g < CLUSTER_NGROUPS; g++)
		all[n++] = c->smc[g];
	for (size_t i = 0; i < n; i++) {
		struct err_ctx err = {{0}};
		int64_t d;

		if (all[i] == NULL)
			continue;
		if (informer_step(all[i], now, &err) != 0 && !informer_absent(all[i]))
			log_warn("informer", "%s: %s", informer_path(all[i]), err.msg);
		d = informer_next_ms(all[i], now);
		if (d >= 0 && d < *wait)
			*wait = d;
	}
}

static bool all_synced(const struct cluster *c)
{
	for (int k = 0; k < CLUSTER_NSOURCES; k++) {
		if (!informer_synced(c->src[k]) && !informer_absent(c->src[k]))
			return false;
	}
	if (c->apps != NULL && !informer_synced(c->apps) && !informer_absent(c->apps))
		return false;
	for (int g = 0; g < CLUSTER_NGROUPS; g++) {
		if (!informer_synced(c->smc[g]) && !informer_absent(c->smc[g]))
			return false;
	}
	return true;
}

int cluster_run(struct cluster *c, struct err_ctx *err)
{
	const struct peer peers[] = {
	    {FD_SUPERVISOR, ROLE_SUPERVISOR, MSG_CAP_CONTROL},
	    {FD_WATCHER_FETCHER, ROLE_FETCHER, MSG_CAP_CONTROL},
	    {FD_WATCHER_SYNCER, ROLE_SYNCER, MSG_CAP_PIPELINE},
	    {FD_WATCHER_DECRYPTOR, ROLE_DECRYPTOR, MSG_CAP_CONTROL},
	};
	const size_t np = sizeof(peers) / sizeof(peers[0]);
	bool active[4] = {true, true, true, true};
	int rc;

	if ((rc = workqueue_new(WORKQUEUE_DEFAULT_QPS, WORKQUEUE_DEFAULT_BURST, &c->wq)) != 0 ||
	    (rc = make_informers(c, err)) != 0)
		return rc ? rc : ERR_NOMEM;
	if (c->o.leader_elect &&
	    (rc = leader_new(c->kc, c->o.lease_ns ? c->o.lease_ns : (c->o.ns ? c->o.ns : c->cfg->ns),
			     c->o.lease_name ? c->o.lease_name : "smc-leader", c->identity,
			     &c->leader)) != 0)
		return err_set(err, rc, "leader election");
	log_info("cluster.start", "watching %s (identity %s, leader election %s)",
		 c->o.ns ? c->o.ns : "all namespaces", c->identity, c->leader ? "on" : "off");
	send_metrics(c);
	for (;;) {
		int64_t now = clock_mono_ms(), wait = CLUSTER_MAX_WAIT_MS;
		int fds[4];
		short rev[4];
		size_t nf = 0, map[4];
		bool leading = true;

		step_informers(c, now, &wait);
		if (c->leader != NULL) {
			struct err_ctx lerr = {{0}};

			leading = leader_step(c->leader, now, &lerr);
			if (leading != c->was_leader)
				log_info("leader", "%s", leading ? "became the leader" : "not the leader");
			if (leader_next_ms(c->leader, now) < wait)
				wait = leader_next_ms(c->leader, now);
		}
		if (leading != c->was_leader) {
			c->was_leader = leading;
			send_metrics(c);
		}
		if (c->running_job != 0 && time(NULL) - c->running_since > CLUSTER_JOB_TIMEOUT_S)
			job_lost(c, "supervisor", "the job timed out");
		if (leading && all_synced(c)) {
			const char *key;

			while (c->running_job == 0 && workqueue_get(c->wq, now, &key) == 0) {
				char k[WORKQUEUE_MAX_KEY + 1];

				(void)str_copy(k, sizeof(k), key);
				if (reconcile(c, k) == 0)
					workqueue_done(c->wq, k);
			}
			if (c->running_job == 0) {
				int64_t d = workqueue_next_ms(c->wq, clock_mono_ms());

				if (d >= 0 && d < wait)
					wait = d;
			}
		}
		for (size_t i = 0; i < np; i++) {
			if (active[i]) {
				map[nf] = i;
				fds[nf++] = peers[i].fd;
			}
		}
		if ((rc = kube_client_poll(c->kc, fds, nf, rev, (int)(wait < 0 ? 0 : wait), err)) != 0)
			return rc;
		for (size_t j = 0; j < nf; j++) {
			if (!rev[j])
				continue;
			rc = peer_serve_one(peers, np, active, map[j], ROLE_WATCHER, dispatch, c, err);
			if (rc == 1) {
				log_info("shutdown", "stopping");
				if (c->leader != NULL)
					leader_release(c->leader);
				return 0;
			}
			if (rc != 0)
				return rc;
		}
	}
}
