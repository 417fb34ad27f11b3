/* argo.c — ArgoCD Application sources and repository credentials (see argo.h). */
#include "watcher/argo.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/secbuf.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "watcher/kube_secret.h"

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* Length of p without a trailing "/" and ".git". */
static size_t url_core_len(const char *p)
{
	size_t n = strlen(p);

	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n >= 4 && strncasecmp(p + n - 4, ".git", 4) == 0)
		n -= 4;
	return n;
}

static int url_same(const char *a, const char *b)
{
	size_t na = url_core_len(a), nb = url_core_len(b);

	return na == nb && strncasecmp(a, b, na) == 0;
}

/* 1 when dir is "" or a component-wise prefix of path ("a/b" of "a/b/c", not of "a/bc"). */
static int path_prefix(const char *dir, const char *path)
{
	size_t n;

	while (*dir == '/' || (dir[0] == '.' && dir[1] == '/'))
		dir += *dir == '/' ? 1 : 2;
	while (*path == '/' || (path[0] == '.' && path[1] == '/'))
		path += *path == '/' ? 1 : 2;
	n = strlen(dir);
	while (n > 0 && dir[n - 1] == '/')
		n--;
	if (n == 0 || (n == 1 && dir[0] == '.'))
		return 1;
	return strncmp(dir, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int is_git_source(const json_t *s)
{
	return json_is_object(s) && *jstr(s, "repoURL") != '\0' && *jstr(s, "chart") == '\0';
}

int argo_pick_source(const json_t *app, const char *kustomize_path, const char *base_path,
		     struct argo_source *out, struct err_ctx *err)
{
	const json_t *spec = json_object_get(app, "spec");
	const json_t *sync = json_object_get(json_object_get(app, "status"), "sync");
	const json_t *single = json_object_get(spec, "source");
	const json_t *list = json_object_get(spec, "sources"), *s, *chosen = NULL;
	const char *want = kustomize_path && *kustomize_path ? kustomize_path
			   : base_path && *base_path	    ? base_path
							    : NULL;
	const char *rev;
	int index = -1;
	size_t i, best = 0;

	if (json_is_array(list) && json_array_size(list) > 0) {
		json_array_foreach(list, i, s) {
			const char *p = jstr(s, "path");
			size_t n = strlen(p);

			if (!is_git_source(s))
				continue;
			if (chosen == NULL) { /* the first Git source: the last resort */
				chosen = s;
				index = (int)i;
				best = 0;
			}
			if (n == 0)
				continue;
			if (want == NULL) {
				if (*jstr(chosen, "path") == '\0') {
					chosen = s;
					index = (int)i;
				}
				continue;
			}
			if (path_prefix(p, want) && n > best) {
				chosen = s;
				index = (int)i;
				best = n;
			}
		}
		if (chosen == NULL)
			return err_set(err, ERR_NOTFOUND,
				       "Application %s has no Git source in spec.sources",
				       jstr(json_object_get(app, "metadata"), "name"));
		rev = json_string_value(json_array_get(json_object_get(sync, "revisions"),
						       (size_t)index));
	} else {
		if (!is_git_source(single))
			return err_set(err, ERR_NOTFOUND,
				       "Application %s has no Git source (spec.source.repoURL)",
				       jstr(json_object_get(app, "metadata"), "name"));
		chosen = single;
		rev = json_string_value(json_object_get(sync, "revision"));
	}
	if (strlen(jstr(chosen, "repoURL")) > ARGO_MAX_URL)
		return err_set(err, ERR_INVAL, "Application repoURL longer than %d bytes",
			       ARGO_MAX_URL);
	if (rev == NULL || *rev == '\0') {
		rev = jstr(chosen, "targetRevision");
		if (strcmp(rev, "HEAD") == 0)
			rev = "";
	}
	out->url = jstr(chosen, "repoURL");
	out->revision = rev;
	out->path = jstr(chosen, "path");
	out->index = index;
	return 0;
}

const json_t *argo_match_secret(const json_t *items, const char *url)
{
	const json_t *s, *best = NULL;
	size_t i, best_len = 0;

	json_array_foreach(items, i, s) {
		const json_t *labels = json_object_get(json_object_get(s, "metadata"), "labels");
		const char *type = jstr(labels, ARGO_SECRET_TYPE_LABEL);
		struct secbuf *u = NULL;
		struct err_ctx e = {{0}};
		size_t n;

		if (strcmp(type, "repository") != 0 && strcmp(type, "repo-creds") != 0)
			continue;
		/* url may be in stringData (never stored) or data (base64) */
		if (kube_secret_field(s, "url", ARGO_MAX_URL, &u, &e) != 0 || u == NULL)
			continue;
		if (url_same((const char *)u->data, url)) {
			secbuf_free(u);
			return s;
		}
		n = u->len;
		if (n > best_len && strncmp((const char *)u->data, url, n) == 0) {
			best = s;
			best_len = n;
		}
		secbuf_free(u);
	}
	return best;
}

int argo_secret_to_source(const json_t *secret, const char *known_hosts_fallback,
			  struct job_source *src, struct err_ctx *err)
{
	struct secbuf *user = NULL, *pw = NULL, *key = NULL, *kh = NULL;
	char *u = NULL, *k = NULL;
	int rc;

	if ((rc = kube_secret_field(secret, "username", MSG_MAX_SHORT, &user, err)) != 0 ||
	    (rc = kube_secret_field(secret, "password", ARGO_MAX_PASSWORD, &pw, err)) != 0 ||
	    (rc = kube_secret_field(secret, "sshPrivateKey", ARGO_MAX_SSH_KEY, &key, err)) != 0 ||
	    (rc = kube_secret_field(secret, "sshKnownHosts", MSG_MAX_KNOWN_HOSTS, &kh, err)) != 0)
		goto out;
	if (user != NULL && (u = xstrndup((const char *)user->data, user->len)) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	if (kh != NULL)
		k = xstrndup((const char *)kh->data, kh->len);
	else if (known_hosts_fallback != NULL)
		k = xstrdup(known_hosts_fallback);
	if ((kh != NULL || known_hosts_fallback != NULL) && k == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	if (k != NULL && !str_utf8_valid(k, strlen(k))) {
		rc = err_set(err, ERR_INVAL, "known hosts are not UTF-8 text");
		goto out;
	}
	if (src->username != NULL)
		explicit_bzero(src->username, strlen(src->username));
	free(src->username);
	secbuf_free(src->password);
	secbuf_free(src->ssh_key);
	free(src->known_hosts);
	src->username = u;
	src->password = pw;
	src->ssh_key = key;
	src->known_hosts = k;
	u = k = NULL;
	pw = key = NULL;
	rc = 0;
out:
	if (u != NULL)
		explicit_bzero(u, strlen(u));
	free(u);
	free(k);
	secbuf_free(user);
	secbuf_free(pw);
	secbuf_free(key);
	secbuf_free(kh);
	return rc;
}

static const json_t *sync_of(const json_t *o)
{
	return json_object_get(json_object_get(o, "status"), "sync");
}

/* json_equal, with two absent values equal. */
static int same(const json_t *a, const json_t *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && json_equal(a, b));
}

int argo_app_changed(const json_t *old, const json_t *obj)
{
	const json_t *os, *ns;

	if (old == NULL || obj == NULL)
		return 1;
	os = json_object_get(old, "spec");
	ns = json_object_get(obj, "spec");
	return !same(json_object_get(os, "source"), json_object_get(ns, "source")) ||
	       !same(json_object_get(os, "sources"), json_object_get(ns, "sources")) ||
	       !same(json_object_get(sync_of(old), "revision"),
		     json_object_get(sync_of(obj), "revision")) ||
	       !same(json_object_get(sync_of(old), "revisions"),
		     json_object_get(sync_of(obj), "revisions"));
}
