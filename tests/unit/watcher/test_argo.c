/* test_argo.c — ArgoCD Application source picking, repository Secret matching and
 * decoding (argo.h rules). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "watcher/argo.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	cr_assert_not_null(j, "%s", e.text);
	return j;
}

Test(argo, single_source_synced_revision_wins)
{
	json_t *app = J("{\"metadata\":{\"name\":\"a\"},\"spec\":{\"source\":{\"repoURL\":"
			"\"https://g/r.git\",\"targetRevision\":\"main\",\"path\":\"apps/x\"}},"
			"\"status\":{\"sync\":{\"revision\":\"0123456789abcdef0123456789abcdef01234567\"}}}");
	struct argo_source s;
	struct err_ctx err = {{0}};

	cr_assert_eq(argo_pick_source(app, "", "", &s, &err), 0, "%s", err.msg);
	cr_assert_str_eq(s.url, "https://g/r.git");
	cr_assert_str_eq(s.revision, "0123456789abcdef0123456789abcdef01234567");
	cr_assert_str_eq(s.path, "apps/x");
	cr_assert_eq(s.index, -1);
	json_object_del(json_object_get(app, "status"), "sync");
	cr_assert_eq(argo_pick_source(app, "", "", &s, &err), 0);
	cr_assert_str_eq(s.revision, "main");
	json_object_set_new(json_object_get(json_object_get(app, "spec"), "source"),
			    "targetRevision", json_string("HEAD"));
	cr_assert_eq(argo_pick_source(app, "", "", &s, &err), 0);
	cr_assert_str_eq(s.revision, "");
	json_decref(app);
}

Test(argo, sources_longest_path_prefix_and_its_revision)
{
	json_t *app = J("{\"metadata\":{\"name\":\"a\"},\"spec\":{\"sources\":["
			"{\"repoURL\":\"https://charts\",\"chart\":\"nginx\",\"path\":\"apps\"},"
			"{\"repoURL\":\"https://g/one.git\",\"path\":\"apps\"},"
			"{\"repoURL\":\"https://g/two.git\",\"path\":\"apps/pay\"},"
			"{\"repoURL\":\"https://g/three.git\",\"path\":\"apps/payments\"}]},"
			"\"status\":{\"sync\":{\"revisions\":[\"r0\",\"r1\",\"r2\",\"r3\"]}}}");
	struct argo_source s;
	struct err_ctx err = {{0}};

	cr_assert_eq(argo_pick_source(app, "", "apps/pay/svc", &s, &err), 0, "%s", err.msg);
	cr_assert_str_eq(s.url, "https://g/two.git");
	cr_assert_str_eq(s.revision, "r2");
	cr_assert_eq(s.index, 2);
	/* kustomizePath wins over basePath; "apps/pay" is not a prefix of "apps/payments" */
	cr_assert_eq(argo_pick_source(app, "apps/payments/k", "apps/pay", &s, &err), 0);
	cr_assert_str_eq(s.url, "https://g/three.git");
	cr_assert_str_eq(s.revision, "r3");
	/* nothing matches: the first Git source (the chart is skipped) */
	cr_assert_eq(argo_pick_source(app, "", "other", &s, &err), 0);
	cr_assert_str_eq(s.url, "https://g/one.git");
	cr_assert_eq(argo_pick_source(app, "", "", &s, &err), 0);
	cr_assert_str_eq(s.url, "https://g/one.git");
	json_decref(app);
}

Test(argo, no_git_source)
{
	json_t *app = J("{\"metadata\":{\"name\":\"helm\"},\"spec\":{\"sources\":["
			"{\"repoURL\":\"https://charts\",\"chart\":\"nginx\"}]}}");
	struct argo_source s;
	struct err_ctx err = {{0}};

	cr_assert_eq(argo_pick_source(app, "", "", &s, &err), ERR_NOTFOUND);
	cr_assert(strstr(err.msg, "helm") != NULL, "%s", err.msg);
	json_decref(app);
}

#define SECRET(name, type, url64, extra)                                                  \
	"{\"metadata\":{\"name\":\"" name "\",\"labels\":{\"argocd.argoproj.io/secret-type\":" \
	"\"" type "\"}},\"data\":{\"url\":\"" url64 "\"" extra "}}"

Test(argo, secret_exact_url_then_longest_prefix)
{
	/* url64: base64 of https://git.example.com/ , https://git.example.com/org/ ,
	 * https://git.example.com/org/repo */
	json_t *items = J("[" SECRET("short", "repo-creds", "aHR0cHM6Ly9naXQuZXhhbXBsZS5jb20v", "")
			  "," SECRET("long", "repo-creds",
				     "aHR0cHM6Ly9naXQuZXhhbXBsZS5jb20vb3JnLw==", "")
			  "," SECRET("other", "cluster", "aHR0cHM6Ly9naXQuZXhhbXBsZS5jb20vb3JnLw==",
				     "")
			  "," SECRET("exact", "repository",
				     "aHR0cHM6Ly9naXQuZXhhbXBsZS5jb20vb3JnL3JlcG8=", "")
			  "]");
	const json_t *m;

	m = argo_match_secret(items, "https://git.example.com/org/repo.git");
	cr_assert_not_null(m);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "metadata"), "name")),
			 "exact");
	m = argo_match_secret(items, "https://git.example.com/org/other");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "metadata"), "name")),
			 "long");
	m = argo_match_secret(items, "https://git.example.com/x");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "metadata"), "name")),
			 "short");
	cr_assert_null(argo_match_secret(items, "https://elsewhere/org/repo"));
	json_decref(items);
}

Test(argo, secret_to_source_decodes_into_secbufs)
{
	/* username "alice", password "s3cret", sshKnownHosts "h ssh-ed25519 AAAA" */
	json_t *s = J(SECRET("c", "repository", "aHR0cHM6Ly9n",
			     ",\"username\":\"YWxpY2U=\",\"password\":\"czNjcmV0\","
			     "\"sshKnownHosts\":\"aCBzc2gtZWQyNTUxOSBBQUFB\""));
	struct job_source src = {0};
	struct err_ctx err = {{0}};

	cr_assert_eq(argo_secret_to_source(s, "fallback", &src, &err), 0, "%s", err.msg);
	cr_assert_str_eq(src.username, "alice");
	cr_assert(secbuf_eq_mem(src.password, "s3cret", 6));
	cr_assert_null(src.ssh_key);
	cr_assert_str_eq(src.known_hosts, "h ssh-ed25519 AAAA");
	free(src.username);
	secbuf_free(src.password);
	free(src.known_hosts);
	json_decref(s);
}

Test(argo, bad_secret_fields_named_never_valued)
{
	json_t *s = J(SECRET("broken", "repository", "aHR0cHM6Ly9n", ",\"password\":\"c2Vj!!==\""));
	struct job_source src = {0};
	struct err_ctx err = {{0}};

	cr_assert_eq(argo_secret_to_source(s, NULL, &src, &err), ERR_INVAL);
	cr_assert(strstr(err.msg, "broken") != NULL && strstr(err.msg, "password") != NULL,
		  "%s", err.msg);
	cr_assert_null(strstr(err.msg, "c2Vj"), "%s", err.msg);
	cr_assert_null(src.password);
	json_decref(s);
}

Test(argo, app_changed_on_revision_or_sources_only)
{
	json_t *a = J("{\"spec\":{\"source\":{\"repoURL\":\"u\"}},\"status\":{\"sync\":"
		      "{\"revision\":\"r1\",\"status\":\"Synced\"},\"health\":{\"status\":\"Healthy\"}}}");
	json_t *b = json_deep_copy(a);

	cr_assert_eq(argo_app_changed(a, b), 0);
	json_object_set_new(json_object_get(b, "status"), "health", json_string("Degraded"));
	cr_assert_eq(argo_app_changed(a, b), 0);
	json_object_set_new(json_object_get(json_object_get(b, "status"), "sync"), "revision",
			    json_string("r2"));
	cr_assert_eq(argo_app_changed(a, b), 1);
	cr_assert_eq(argo_app_changed(NULL, b), 1);
	json_decref(a);
	json_decref(b);
}
