/* cmd_kube.c — `smc list|status|reconcile|suspend|resume` against the cluster, with the
 * kubeconfig kubectl would use ($KUBECONFIG, ~/.kube/config, or --kubeconfig; the
 * context's namespace unless -n). Also the reference CLI `msmctl`, whose flags differ:
 * --name/-n NAME, --namespace/-N NS, an optional type word (secretmanagerconfig | smc),
 * and `list` without a namespace lists all namespaces. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/str.h"
#include "watcher/kube_client.h"

#define KUBE_CLI_FORCE_TIMEOUT_S 300 /* --force: wait this long for GitOps to recreate */
#define KUBE_CLI_POLL_S 2

static const char *const groups[][2] = {
    {"secret-management.octopilot.io", "v1beta1"},
    {"secret-management.microscaler.io", "v1"},
};

struct kopts {
	const char *ns, *name, *kubeconfig, *context;
	bool all, force;
};

static const char *js(const json_t *o, const char *path)
{
	char buf[256], *save = buf, *dot;
	const json_t *v = o;

	if (str_copy(buf, sizeof(buf), path) != 0)
		return "";
	for (;;) {
		dot = strchr(save, '.');
		if (dot)
			*dot = '\0';
		v = json_object_get(v, save);
		if (!dot)
			break;
		save = dot + 1;
	}
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		static char num[32];

		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return num;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return "";
}

static const char *condition(const json_t *o, const char *type, const char *field)
{
	const json_t *arr = json_object_get(json_object_get(o, "status"), "conditions"), *c;
	size_t i;

	json_array_foreach(arr, i, c) {
		if (strcmp(js(c, "type"), type) == 0)
			return js(c, field);
	}
	return "";
}

static int connect_cluster(const struct kopts *o, struct kube_config **cfg,
			   struct kube_client **kc)
{
	struct err_ctx err = {{0}};

	if (kube_config_auto(o->kubeconfig, o->context, cfg, &err) != 0 ||
	    kube_client_new(*cfg, kc, &err) != 0) {
		cli_error("%s", err.msg);
		kube_config_free(*cfg);
		return 1;
	}
	return 0;
}

/* GETs the named resource under either group: 0 and *obj, *group. */
static int get_smc(struct kube_client *kc, const char *ns, const char *name, json_t **obj,
		   int *group, struct err_ctx *err)
{
	char path[1024];
	int rc = ERR_NOTFOUND;

	for (int g = 0; g < 2; g++) {
		if (str_fmt(path, sizeof(path), "/apis/%s/%s/namespaces/%s/secretmanagerconfigs/%s",
			    groups[g][0], groups[g][1], ns, name) != 0)
			return err_set(err, ERR_TOOBIG, "name too long");
		rc = kube_get(kc, path, obj, err);
		if (rc == 0) {
			*group = g;
			return 0;
		}
		if (rc != ERR_NOTFOUND)
			return rc;
	}
	return err_set(err, rc, "secretmanagerconfig %s/%s not found", ns, name);
}

static int item_path(int g, const char *ns, const char *name, char *buf, size_t size)
{
	return str_fmt(buf, size, "/apis/%s/%s/namespaces/%s/secretmanagerconfigs/%s", groups[g][0],
		       groups[g][1], ns, name);
}

static int do_list(struct kube_client *kc, const struct kopts *o, const char *ns)
{
	bool header = false;

	for (int g = 0; g < 2; g++) {
		struct err_ctx err = {{0}};
		char path[1024];
		json_t *list = NULL;
		const json_t *it;
		size_t i;
		int rc;

		if (o->all)
			rc = str_fmt(path, sizeof(path), "/apis/%s/%s/secretmanagerconfigs", groups[g][0],
				     groups[g][1]);
		else
			rc = str_fmt(path, sizeof(path), "/apis/%s/%s/namespaces/%s/secretmanagerconfigs",
				     groups[g][0], groups[g][1], ns);
		if (rc != 0)
			return 2;
		rc = kube_get(kc, path, &list, &err);
		if (rc == ERR_NOTFOUND)
			continue; /* that group is not installed */
		if (rc != 0) {
			cli_error("%s", err.msg);
			return 1;
		}
		json_array_foreach(json_object_get(list, "items"), i, it) {
			const char *ready = condition(it, "Ready", "status");

			if (!header) {
				printf("%-32s %-20s %-8s %-8s %-8s %s\n", "NAME", "NAMESPACE", "SUSPEND",
				       "READY", "SECRETS", "REVISION");
				header = true;
			}
			printf("%-32s %-20s %-8s %-8s %-8s %s\n", js(it, "metadata.name"),
			       js(it, "metadata.namespace"),
			       strcmp(js(it, "spec.suspend"), "true") == 0 ? "Yes" : "No",
			       *ready ? ready : "Unknown",
			       *js(it, "status.secretsSynced") ? js(it, "status.secretsSynced") : "0",
			       js(it, "status.lastAppliedRevision"));
		}
		json_decref(list);
	}
	if (!header)
		printf("No SecretManagerConfigs found.\n");
	return 0;
}

static int do_status(struct kube_client *kc, const char *ns, const char *name)
{
	struct err_ctx err = {{0}};
	json_t *o = NULL;
	const json_t *c;
	size_t i;
	int g;

	if (get_smc(kc, ns, name, &o, &g, &err) != 0) {
		cli_error("%s", err.msg);
		return 1;
	}
	printf("Name:          %s\nNamespace:     %s\nAPI version:   %s\nGeneration:    %s\n",
	       js(o, "metadata.name"), js(o, "metadata.namespace"), js(o, "apiVersion"),
	       js(o, "metadata.generation"));
	printf("Spec:\n  Source:      %s %s/%s\n  Environment: %s\n  Prefix:      %s\n"
	       "  Base path:   %s\n  Interval:    %s\n  Suspend:     %s\n",
	       *js(o, "spec.sourceRef.kind") ? js(o, "spec.sourceRef.kind") : "GitRepository",
	       js(o, "spec.sourceRef.namespace"), js(o, "spec.sourceRef.name"),
	       js(o, "spec.secrets.environment"), js(o, "spec.secrets.prefix"),
	       js(o, "spec.secrets.basePath"), js(o, "spec.reconcileInterval"),
	       *js(o, "spec.suspend") ? js(o, "spec.suspend") : "false");
	printf("Status:\n  Phase:               %s\n  Description:         %s\n"
	       "  Observed generation: %s\n  Applied revision:    %s\n  Attempted revision:  %s\n"
	       "  Secrets synced:      %s\n  Configs synced:      %s\n  Last reconcile:      %s\n"
	       "  Next reconcile:      %s\n",
	       js(o, "status.phase"), js(o, "status.description"), js(o, "status.observedGeneration"),
	       js(o, "status.lastAppliedRevision"), js(o, "status.lastAttemptedRevision"),
	       js(o, "status.secretsSynced"), js(o, "status.configsSynced"),
	       js(o, "status.lastReconcileTime"), js(o, "status.nextReconcileTime"));
	printf("Conditions:\n");
	json_array_foreach(json_object_get(json_object_get(o, "status"), "conditions"), i, c)
		printf("  %-12s %-6s %-26s %s\n", js(c, "type"), js(c, "status"), js(c, "reason"),
		       js(c, "message"));
	json_decref(o);
	return 0;
}

static int annotate(struct kube_client *kc, int g, const char *ns, const char *name)
{
	struct err_ctx err = {{0}};
	char path[1024], ts[32];
	json_t *p;
	int rc;

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	p = json_pack("{s:{s:{s:s}}}", "metadata", "annotations",
		      "secret-management.octopilot.io/reconcile", ts);
	if (p == NULL || item_path(g, ns, name, path, sizeof(path)) != 0) {
		json_decref(p);
		return 1;
	}
	rc = kube_patch(kc, path, "merge", p, NULL, &err);
	json_decref(p);
	if (rc != 0) {
		cli_error("%s", err.msg);
		return 1;
	}
	printf("secretmanagerconfig %s/%s: reconcile requested\n", ns, name);
	return 0;
}

static int do_reconcile(struct kube_client *kc, const char *ns, const char *name, bool force)
{
	struct err_ctx err = {{0}};
	char path[1024], uid[128];
	json_t *o = NULL;
	int g;

	if (get_smc(kc, ns, name, &o, &g, &err) != 0) {
		cli_error("%s", err.msg);
		return 1;
	}
	if (strcmp(js(o, "spec.suspend"), "true") == 0)
		fprintf(stderr, "warning: %s/%s is suspended; it will not be reconciled until resumed\n",
			ns, name);
	(void)str_copy(uid, sizeof(uid), js(o, "metadata.uid"));
	json_decref(o);
	if (!force)
		return annotate(kc, g, ns, name);
	/* --force: delete, wait for GitOps to recreate it (a new uid), then trigger */
	if (item_path(g, ns, name, path, sizeof(path)) != 0 || kube_delete(kc, path, &err) != 0) {
		cli_error("delete: %s", err.msg);
		return 1;
	}
	printf("secretmanagerconfig %s/%s deleted; waiting for GitOps to recreate it\n", ns, name);
	for (int waited = 0; waited < KUBE_CLI_FORCE_TIMEOUT_S; waited += KUBE_CLI_POLL_S) {
		int gg;

		sleep(KUBE_CLI_POLL_S);
		if (get_smc(kc, ns, name, &o, &gg, NULL) == 0) {
			bool fresh = strcmp(js(o, "metadata.uid"), uid) != 0;

			json_decref(o);
			if (fresh) {
				sleep(KUBE_CLI_POLL_S);
				return annotate(kc, gg, ns, name);
			}
		}
		if (waited > 0 && waited % 10 == 0)
			fprintf(stderr, "still waiting for %s/%s (%d s)\n", ns, name, waited);
	}
	cli_error("%s/%s was not recreated within %d s", ns, name, KUBE_CLI_FORCE_TIMEOUT_S);
	return 1;
}

static int do_suspend(struct kube_client *kc, const char *ns, const char *name, bool suspend)
{
	struct err_ctx err = {{0}};
	char path[1024];
	json_t *o = NULL, *p;
	int g, rc;

	if (get_smc(kc, ns, name, &o, &g, &err) != 0) {
		cli_error("%s", err.msg);
		return 1;
	}
	if ((strcmp(js(o, "spec.suspend"), "true") == 0) == suspend) {
		printf("secretmanagerconfig %s/%s is already %s\n", ns, name,
		       suspend ? "suspended" : "active");
		json_decref(o);
		return 0;
	}
	json_decref(o);
	p = json_pack("{s:{s:b}}", "spec", "suspend", suspend);
	if (p == NULL || item_path(g, ns, name, path, sizeof(path)) != 0) {
		json_decref(p);
		return 1;
	}
	rc = kube_patch(kc, path, "merge", p, NULL, &err);
	json_decref(p);
	if (rc != 0) {
		cli_error("%s", err.msg);
		return 1;
	}
	printf("secretmanagerconfig %s/%s %s\n", ns, name, suspend ? "suspended" : "resumed");
	return 0;
}

int cmd_kube(int argc, char **argv, int msmctl)
{
	static const struct option smc_opts[] = {
	    {"namespace", required_argument, NULL, 'n'}, {"all-namespaces", no_argument, NULL, 'A'},
	    {"force", no_argument, NULL, 'f'},		 {"kubeconfig", required_argument, NULL, 'k'},
	    {"context", required_argument, NULL, 'c'},	 {NULL, 0, NULL, 0}};
	static const struct option ref_opts[] = {
	    {"name", required_argument, NULL, 'n'},	 {"namespace", required_argument, NULL, 'N'},
	    {"force", no_argument, NULL, 'f'},		 {"kubeconfig", required_argument, NULL, 'k'},
	    {"context", required_argument, NULL, 'c'},	 {"all-namespaces", no_argument, NULL, 'A'},
	    {NULL, 0, NULL, 0}};
	const char *cmd = argv[0];
	struct kopts o = {0};
	struct kube_config *cfg = NULL;
	struct kube_client *kc = NULL;
	const char *ns;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, msmctl ? "n:N:fAc:" : "n:Afc:", msmctl ? ref_opts : smc_opts,
				 NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (msmctl)
				o.name = optarg;
			else
				o.ns = optarg;
			break;
		case 'N': o.ns = optarg; break;
		case 'A': o.all = true; break;
		case 'f': o.force = true; break;
		case 'k': o.kubeconfig = optarg; break;
		case 'c': o.context = optarg; break;
		default: return 2;
		}
	}
	/* the reference's type word */
	if (optind < argc && (strcmp(argv[optind], "secretmanagerconfig") == 0 ||
			      strcmp(argv[optind], "secretmanagerconfigs") == 0 ||
			      strcmp(argv[optind], "smc") == 0))
		optind++;
	if (o.name == NULL && optind < argc)
		o.name = argv[optind++];
	if (optind != argc) {
		cli_error("%s: unexpected argument \"%s\"", cmd, argv[optind]);
		return 2;
	}
	if (strcmp(cmd, "list") != 0 && o.name == NULL) {
		cli_error("%s: a NAME is required", cmd);
		return 2;
	}
	if (msmctl && strcmp(cmd, "list") == 0 && o.ns == NULL)
		o.all = true;
	if (connect_cluster(&o, &cfg, &kc) != 0)
		return 1;
	ns = o.ns ? o.ns : (msmctl ? "default" : cfg->ns);
	if (strcmp(cmd, "list") == 0)
		rc = do_list(kc, &o, ns);
	else if (strcmp(cmd, "status") == 0)
		rc = do_status(kc, ns, o.name);
	else if (strcmp(cmd, "reconcile") == 0)
		rc = do_reconcile(kc, ns, o.name, o.force);
	else if (strcmp(cmd, "suspend") == 0)
		rc = do_suspend(kc, ns, o.name, true);
	else if (strcmp(cmd, "resume") == 0)
		rc = do_suspend(kc, ns, o.name, false);
	else
		rc = 2;
	kube_client_free(kc);
	kube_config_free(cfg);
	return rc;
}
