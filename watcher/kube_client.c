/* kube_client.c — Kubernetes API over libcurl: config loading, requests, watches. */
#include "watcher/kube_client.h"

#include <ctype.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "common/yaml_json.h"
#include "watcher/kube_exec.h"

#define KUBE_MAX_CONFIG_FILE ((size_t)4 << 20) /* a kubeconfig larger than this is refused */
#define KUBE_TOKEN_RECHECK_S 10                 /* token file stat interval */
#define KUBE_EXEC_EARLY_S 30                    /* refresh exec tokens this early */

struct kube_watch {
	struct kube_client *client;
	CURL *easy;
	struct curl_slist *headers;
	struct kube_lines lines;
	kube_watch_fn fn;
	void *arg;
	int code;     /* first error met while receiving */
	bool stopped; /* fn asked to stop */
	struct kube_watch *next;
};

struct kube_client {
	const struct kube_config *cfg;
	CURL *easy;          /* the reused handle of ordinary requests */
	CURLM *multi;        /* watches */
	struct kube_watch *watches;
	size_t nwatches;
	struct secbuf *token; /* current bearer token (file or exec), or NULL */
	time_t token_checked, token_expiry;
	struct stat token_st;
	kube_token_fn token_fn;
	void *token_arg;
};

/* ---------------------------------------------------------------- config */

static int read_small_file(const char *path, size_t max, struct buf *out, struct err_ctx *err)
{
	char tmp[4096];
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path,
			       strerror(errno));
	buf_init(out, max);
	while ((got = read(fd, tmp, sizeof(tmp))) > 0) {
		if ((rc = buf_put(out, tmp, (size_t)got)) != 0) {
			rc = err_set(err, rc, "%s: larger than %zu bytes", path, max);
			break;
		}
	}
	if (rc == 0 && got < 0)
		rc = err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
	if (rc == 0)
		rc = buf_cstr(out);
	close(fd);
	if (rc != 0)
		buf_free(out);
	return rc;
}

static int read_token_file(const char *path, struct secbuf **out, struct stat *st,
			   struct err_ctx *err)
{
	struct secbuf *s = NULL;
	uint8_t tmp[4096];
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return err_set(err, ERR_NOTFOUND, "token file %s: %s", path, strerror(errno));
	if (fstat(fd, st) != 0 || (rc = secbuf_new(&s, KUBE_MAX_TOKEN)) != 0) {
		rc = rc ? rc : ERR_IO;
		goto out;
	}
	while ((got = read(fd, tmp, sizeof(tmp))) > 0) {
		if ((rc = secbuf_put(s, tmp, (size_t)got)) != 0) {
			rc = err_set(err, rc, "token file %s: too large", path);
			goto out;
		}
	}
	explicit_bzero(tmp, sizeof(tmp));
	while (s->len > 0 && isspace(s->data[s->len - 1]))
		s->data[--s->len] = '\0';
	if (s->len == 0) {
		rc = err_set(err, ERR_INVAL, "token file %s: empty", path);
		goto out;
	}
	*out = s;
	s = NULL;
out:
	secbuf_free(s);
	close(fd);
	return rc;
}

static int dup_field(char **dst, const char *s)
{
	free(*dst);
	*dst = NULL;
	if (s == NULL)
		return 0;
	*dst = xstrdup(s);
	return *dst ? 0 : ERR_NOMEM;
}

static void note_file(struct kube_config *c, const char *path)
{
	if (path != NULL && c->nfiles < KUBE_MAX_FILES)
		c->files[c->nfiles++] = path;
}

void kube_config_free(struct kube_config *c)
{
	if (c == NULL)
		return;
	free(c->server);
	free(c->sa_dir);
	free(c->ns);
	free(c->ca_file);
	free(c->ca_data);
	free(c->token_file);
	secbuf_free(c->token);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_data);
	secbuf_free(c->key_data);
	free(c->exec.command);
	free(c->exec.api_version);
	for (size_t i = 0; c->exec.args[i] != NULL; i++)
		free(c->exec.args[i]);
	for (size_t i = 0; c->exec.env[i] != NULL; i++)
		free(c->exec.env[i]);
	free(c);
}

int kube_config_in_cluster(const char *sa_dir, struct kube_config **out, struct err_ctx *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct kube_config *c;
	char path[PATH_MAX], url[600];
	struct buf nsb;
	struct stat st;
	int rc;

	if (sa_dir == NULL)
		sa_dir = KUBE_SA_DIR;
	if (host == NULL || *host == '\0' || strlen(host) > 255)
		return err_set(err, ERR_NOTFOUND, "KUBERNETES_SERVICE_HOST is not set");
	if (port == NULL || *port == '\0')
		port = "443";
	if (strchr(host, ':') != NULL)
		rc = str_fmt(url, sizeof(url), "https://[%s]:%s", host, port);
	else
		rc = str_fmt(url, sizeof(url), "https://%s:%s", host, port);
	if (rc != 0)
		return err_set(err, ERR_INVAL, "KUBERNETES_SERVICE_PORT too long");
	if ((c = xcalloc(1, sizeof(*c))) == NULL)
		return ERR_NOMEM;
	if ((rc = dup_field(&c->server, url)) != 0)
		goto out;
	if (str_fmt(path, sizeof(path), "%s/token", sa_dir) != 0 || (rc = dup_field(&c->token_file, path)) != 0 ||
	    str_fmt(path, sizeof(path), "%s/ca.crt", sa_dir) != 0) {
		rc = rc ? rc : ERR_TOOBIG;
		goto out;
	}
	if (stat(c->token_file, &st) != 0) {
		rc = err_set(err, ERR_NOTFOUND, "in-cluster token %s: %s", c->token_file,
			     strerror(errno));
		goto out;
	}
	if (stat(path, &st) == 0 && (rc = dup_field(&c->ca_file, path)) != 0)
		goto out;
	if (str_fmt(path, sizeof(path), "%s/namespace", sa_dir) == 0 &&
	    read_small_file(path, 256, &nsb, NULL) == 0) {
		char *s = (char *)nsb.data;

		while (nsb.len > 0 && isspace((unsigned char)s[nsb.len - 1]))
			s[--nsb.len] = '\0';
		rc = dup_field(&c->ns, s);
		buf_free(&nsb);
		if (rc != 0)
			goto out;
	}
	if (c->ns == NULL && (rc = dup_field(&c->ns, "default")) != 0)
		goto out;
	/* the directory, not the files: the kubelet swaps ..data symlinks on rotation */
	if ((rc = dup_field(&c->sa_dir, sa_dir)) != 0)
		goto out;
	note_file(c, c->sa_dir);
	*out = c;
	return 0;
out:
	kube_config_free(c);
	return rc;
}

/* The element of list named `name` (kubeconfig's clusters/contexts/users), its `field`. */
static const json_t *named(const json_t *doc, const char *list, const char *name,
			   const char *field)
{
	const json_t *arr = json_object_get(doc, list), *it;
	size_t i;

	if (!json_is_array(arr) || name == NULL)
		return NULL;
	json_array_foreach(arr, i, it) {
		const json_t *n = json_object_get(it, "name");

		if (json_is_string(n) && strcmp(json_string_value(n), name) == 0) {
			const json_t *f = json_object_get(it, field);

			return json_is_object(f) ? f : NULL;
		}
	}
	return NULL;
}

static const char *sget(const json_t *o, const char *k)
{
	const json_t *v = o ? json_object_get(o, k) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A file path from the kubeconfig, relative ones against dir. */
static int path_field(char **dst, const char *dir, const char *p)
{
	if (p == NULL)
		return 0;
	if (p[0] == '/' || dir == NULL)
		return dup_field(dst, p);
	free(*dst);
	*dst = str_path_join(dir, p);
	return *dst ? 0 : ERR_NOMEM;
}

/* base64 (kubeconfig *-data fields) decoded into an owned C string. */
static int kube_b64_decode_str(const char *b64, char **out)
{
	size_t n = strlen(b64), max;
	EVP_ENCODE_CTX *ctx = NULL;
	unsigned char *d = NULL;
	int got = 0, fin = 0, rc = ERR_INVAL;

	if (n > KUBE_MAX_CONFIG_FILE || n > INT_MAX)
		return ERR_TOOBIG;
	max = n / 4 * 3 + 4;
	if ((d = xcalloc(1, max + 1)) == NULL || (ctx = EVP_ENCODE_CTX_new()) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, d, &got, (const unsigned char *)b64, (int)n) < 0 ||
	    EVP_DecodeFinal(ctx, d + got, &fin) != 1)
		goto out;
	d[got + fin] = '\0';
	*out = (char *)d;
	d = NULL;
	rc = 0;
out:
	EVP_ENCODE_CTX_free(ctx);
	free(d);
	return rc;
}

int kube_config_load(const char *path, const char *context, struct kube_config **out,
		     struct err_ctx *err)
{
	char found[PATH_MAX], dirbuf[PATH_MAX], *dir;
	const char *ctxname, *clname, *username, *s;
	const json_t *ctx, *cl, *user, *exec;
	struct kube_config *c = NULL;
	json_t *doc = NULL;
	struct buf data;
	int rc;

	found[0] = '\0';
	if (path != NULL && *path != '\0') {
		rc = str_copy(found, sizeof(found), path);
	} else if ((s = getenv("KUBECONFIG")) != NULL && *s != '\0') {
		/* the first file of the list that exists */
		char list[PATH_MAX * 2];
		char *tok = list, *colon;

		if (str_copy(list, sizeof(list), s) != 0)
			return err_set(err, ERR_TOOBIG, "KUBECONFIG too long");
		for (; tok != NULL; tok = colon ? colon + 1 : NULL) {
			if ((colon = strchr(tok, ':')) != NULL)
				*colon = '\0';
			if (*tok != '\0' && access(tok, R_OK) == 0) {
				(void)str_copy(found, sizeof(found), tok);
				break;
			}
		}
		rc = found[0] ? 0 : err_set(err, ERR_NOTFOUND, "KUBECONFIG: no readable file");
	} else if ((s = getenv("HOME")) != NULL) {
		rc = str_fmt(found, sizeof(found), "%s/.kube/config", s);
	} else {
		rc = err_set(err, ERR_NOTFOUND, "no kubeconfig: set KUBECONFIG or HOME");
	}
	if (rc != 0)
		return rc;
	if ((rc = read_small_file(found, KUBE_MAX_CONFIG_FILE, &data, err)) != 0)
		return rc;
	rc = yaml_json_load(found, (const char *)data.data, data.len, &doc, err);
	buf_free(&data);
	if (rc != 0)
		return rc;
	(void)str_copy(dirbuf, sizeof(dirbuf), found);
	dir = dirname(dirbuf);
	ctxname = context && *context ? context : sget(doc, "current-context");
	if (ctxname == NULL) {
		rc = err_set(err, ERR_INVAL, "%s: no current-context", found);
		goto out;
	}
	if ((ctx = named(doc, "contexts", ctxname, "context")) == NULL) {
		rc = err_set(err, ERR_NOTFOUND, "%s: context \"%s\" not found", found, ctxname);
		goto out;
	}
	clname = sget(ctx, "cluster");
	username = sget(ctx, "user");
	if ((cl = named(doc, "clusters", clname, "cluster")) == NULL) {
		rc = err_set(err, ERR_NOTFOUND, "%s: cluster \"%s\" not found", found,
			     clname ? clname : "");
		goto out;
	}
	user = named(doc, "users", username, "user");
	if ((c = xcalloc(1, sizeof(*c))) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	s = sget(cl, "server");
	if (s == NULL || !(str_has_prefix(s, "https://") || str_has_prefix(s, "http://"))) {
		rc = err_set(err, ERR_INVAL, "%s: cluster \"%s\": server must be an http(s) URL",
			     found, clname);
		goto out;
	}
	if ((rc = dup_field(&c->server, s)) != 0)
		goto out;
	while (str_has_suffix(c->server, "/"))
		c->server[strlen(c->server) - 1] = '\0';
	if ((rc = dup_field(&c->ns, sget(ctx, "namespace") ? sget(ctx, "namespace") : "default")) !=
		    0 ||
	    (rc = path_field(&c->ca_file, dir, sget(cl, "certificate-authority"))) != 0)
		goto out;
	c->insecure = json_is_true(json_object_get(cl, "insecure-skip-tls-verify"));
	if ((s = sget(cl, "certificate-authority-data")) != NULL &&
	    (rc = kube_b64_decode_str(s, &c->ca_data)) != 0) {
		rc = err_set(err, rc, "%s: certificate-authority-data is not base64", found);
		goto out;
	}
	if (user != NULL) {
		if ((s = sget(user, "token")) != NULL &&
		    (rc = secbuf_from(&c->token, s, strlen(s))) != 0)
			goto out;
		if ((rc = path_field(&c->token_file, dir, sget(user, "tokenFile"))) != 0 ||
		    (rc = path_field(&c->cert_file, dir, sget(user, "client-certificate"))) != 0 ||
		    (rc = path_field(&c->key_file, dir, sget(user, "client-key"))) != 0)
			goto out;
		if ((s = sget(user, "client-certificate-data")) != NULL &&
		    (rc = kube_b64_decode_str(s, &c->cert_data)) != 0) {
			rc = err_set(err, rc, "%s: client-certificate-data is not base64", found);
			goto out;
		}
		if ((s = sget(user, "client-key-data")) != NULL) {
			char *k = NULL;

			if ((rc = kube_b64_decode_str(s, &k)) != 0) {
				rc = err_set(err, rc, "%s: client-key-data is not base64", found);
				goto out;
			}
			rc = secbuf_from(&c->key_data, k, strlen(k));
			explicit_bzero(k, strlen(k));
			free(k);
			if (rc != 0)
				goto out;
		}
		exec = json_object_get(user, "exec");
		if (json_is_object(exec)) {
			const json_t *args = json_object_get(exec, "args"),
				     *env = json_object_get(exec, "env"), *it;
			size_t i, na = 1, ne = 0;

			if ((s = sget(exec, "command")) == NULL) {
				rc = err_set(err, ERR_INVAL, "%s: user \"%s\": exec.command required",
					     found, username);
				goto out;
			}
			if ((rc = dup_field(&c->exec.command, s)) != 0 ||
			    (rc = dup_field(&c->exec.args[0], s)) != 0 ||
			    (rc = dup_field(&c->exec.api_version,
					    sget(exec, "apiVersion") ? sget(exec, "apiVersion")
								     : "client.authentication.k8s.io/v1")) != 0)
				goto out;
			json_array_foreach(args, i, it) {
				if (!json_is_string(it) || na >= KUBE_MAX_EXEC_ARGS) {
					rc = err_set(err, ERR_INVAL, "%s: exec.args: strings, at most %d",
						     found, KUBE_MAX_EXEC_ARGS - 1);
					goto out;
				}
				if ((rc = dup_field(&c->exec.args[na++], json_string_value(it))) != 0)
					goto out;
			}
			json_array_foreach(env, i, it) {
				const char *n = sget(it, "name"), *v = sget(it, "value");
				char kv[4096];

				if (n == NULL || v == NULL || ne >= KUBE_MAX_EXEC_ARGS ||
				    str_fmt(kv, sizeof(kv), "%s=%s", n, v) != 0) {
					rc = err_set(err, ERR_INVAL, "%s: exec.env: {name, value} pairs",
						     found);
					goto out;
				}
				if ((rc = dup_field(&c->exec.env[ne++], kv)) != 0)
					goto out;
			}
		}
	}
	note_file(c, c->ca_file);
	note_file(c, c->token_file);
	note_file(c, c->cert_file);
	note_file(c, c->key_file);
	*out = c;
	c = NULL;
	rc = 0;
out:
	kube_config_free(c);
	json_decref(doc);
	return rc;
}

int kube_config_auto(const char *path, const char *context, struct kube_config **out,
		     struct err_ctx *err)
{
	const char *h = getenv("KUBERNETES_SERVICE_HOST");

	if ((path == NULL || *path == '\0') && h != NULL && *h != '\0' &&
	    (getenv("KUBECONFIG") == NULL || *getenv("KUBECONFIG") == '\0'))
		return kube_config_in_cluster(NULL, out, err);
	return kube_config_load(path, context, out, err);
}

/* ---------------------------------------------------------------- client */

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n;

	if (!size_mul(size, nmemb, &n) || buf_put(b, p, n) != 0)
		return 0; /* curl fails the transfer: CURLE_WRITE_ERROR */
	return n;
}

/* TLS, credentials and timeouts common to requests and watches. */
static int setup_easy(struct kube_client *c, CURL *e)
{
	const struct kube_config *cfg = c->cfg;
	CURLcode r = CURLE_OK;

	r |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	r |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)KUBE_CONNECT_TIMEOUT_S);
	r |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	r |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	r |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	r |= curl_easy_setopt(e, CURLOPT_USERAGENT, "smc/" SMC_VERSION);
	r |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (cfg->insecure) {
		r |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		r |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cfg->ca_file != NULL)
		r |= curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_file);
	if (cfg->ca_data != NULL) {
		struct curl_blob blob = {cfg->ca_data, strlen(cfg->ca_data), CURL_BLOB_COPY};

		r |= curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (cfg->cert_file != NULL)
		r |= curl_easy_setopt(e, CURLOPT_SSLCERT, cfg->cert_file);
	if (cfg->key_file != NULL)
		r |= curl_easy_setopt(e, CURLOPT_SSLKEY, cfg->key_file);
	if (cfg->cert_data != NULL) {
		struct curl_blob blob = {cfg->cert_data, strlen(cfg->cert_data), CURL_BLOB_COPY};

		r |= curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
		r |= curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (cfg->key_data != NULL) {
		struct curl_blob blob = {cfg->key_data->data, cfg->key_data->len, CURL_BLOB_COPY};

		r |= curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
		r |= curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	return r == CURLE_OK ? 0 : ERR_INVAL;
}

/* The current bearer token (borrowed until the next call), refreshed from the token file
 * when it changed or from the exec plugin when it is about to expire. NULL: none. */
static int current_token(struct kube_client *c, const struct secbuf **out, struct err_ctx *err)
{
	const struct kube_config *cfg = c->cfg;
	time_t now = time(NULL);
	int rc;

	*out = NULL;
	if (cfg->exec.command != NULL) {
		if (c->token == NULL || (c->token_expiry != 0 && now + KUBE_EXEC_EARLY_S >= c->token_expiry)) {
			struct secbuf *t = NULL;
			time_t exp = 0;

			rc = c->token_fn ? c->token_fn(c->token_arg, &cfg->exec, &t, &exp, err)
					 : kube_exec_run(&cfg->exec, &t, &exp, err);
			if (rc != 0)
				return rc;
			secbuf_free(c->token);
			c->token = t;
			c->token_expiry = exp;
		}
		*out = c->token;
		return 0;
	}
	if (cfg->token_file != NULL) {
		struct stat st;

		if (c->token == NULL || now - c->token_checked >= KUBE_TOKEN_RECHECK_S) {
			c->token_checked = now;
			if (c->token == NULL || stat(cfg->token_file, &st) != 0 ||
			    st.st_ino != c->token_st.st_ino || st.st_mtime != c->token_st.st_mtime ||
			    st.st_size != c->token_st.st_size) {
				struct secbuf *t = NULL;

				if ((rc = read_token_file(cfg->token_file, &t, &st, err)) != 0) {
					if (c->token == NULL)
						return rc;
				} else {
					secbuf_free(c->token);
					c->token = t;
					c->token_st = st;
				}
			}
		}
		*out = c->token;
		return 0;
	}
	*out = cfg->token;
	return 0;
}

/* Headers of one request: Accept, Content-Type, Authorization. Owned list. */
static int make_headers(struct kube_client *c, const char *content_type,
			struct curl_slist **out, struct err_ctx *err)
{
	struct curl_slist *h = NULL, *t;
	const struct secbuf *tok;
	struct secbuf *line = NULL;
	int rc;

	if ((rc = current_token(c, &tok, err)) != 0)
		return rc;
	if ((t = curl_slist_append(h, "Accept: application/json")) == NULL)
		goto nomem;
	h = t;
	if (content_type != NULL) {
		char ct[128];

		if (str_fmt(ct, sizeof(ct), "Content-Type: %s", content_type) != 0 ||
		    (t = curl_slist_append(h, ct)) == NULL)
			goto nomem;
		h = t;
	}
	if (tok != NULL) {
		static const char pfx[] = "Authorization: Bearer ";

		if (secbuf_new(&line, sizeof(pfx) + tok->len) != 0 ||
		    secbuf_put(line, pfx, sizeof(pfx) - 1) != 0 ||
		    secbuf_put(line, tok->data, tok->len) != 0)
			goto nomem;
		/* curl copies the string; the copy lives in ordinary memory until the list is
		 * freed (curl offers no locked header storage) */
		t = curl_slist_append(h, (const char *)line->data);
		secbuf_free(line);
		if (t == NULL)
			goto nomem;
		h = t;
	}
	*out = h;
	return 0;
nomem:
	curl_slist_free_all(h);
	return ERR_NOMEM;
}

int kube_client_new(const struct kube_config *cfg, struct kube_client **out,
		    struct err_ctx *err)
{
	struct kube_client *c;

	if (cfg == NULL || cfg->server == NULL)
		return err_set(err, ERR_INVAL, "kube client: no server");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(err, ERR_IO, "curl_global_init failed");
	if ((c = xcalloc(1, sizeof(*c))) == NULL)
		return ERR_NOMEM;
	c->cfg = cfg;
	c->easy = curl_easy_init();
	c->multi = curl_multi_init();
	if (c->easy == NULL || c->multi == NULL || setup_easy(c, c->easy) != 0) {
		kube_client_free(c);
		return err_set(err, ERR_NOMEM, "kube client: curl setup failed");
	}
	*out = c;
	return 0;
}

void kube_client_set_token_fn(struct kube_client *c, kube_token_fn fn, void *arg)
{
	c->token_fn = fn;
	c->token_arg = arg;
}

const struct kube_config *kube_client_config(const struct kube_client *c)
{
	return c->cfg;
}

static void watch_free(struct kube_watch *w)
{
	if (w == NULL)
		return;
	if (w->easy != NULL) {
		curl_multi_remove_handle(w->client->multi, w->easy);
		curl_easy_cleanup(w->easy);
	}
	curl_slist_free_all(w->headers);
	kube_lines_free(&w->lines);
	free(w);
}

static void watch_unlink(struct kube_client *c, struct kube_watch *w)
{
	for (struct kube_watch **pp = &c->watches; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			c->nwatches--;
			return;
		}
	}
}

void kube_client_free(struct kube_client *c)
{
	if (c == NULL)
		return;
	while (c->watches != NULL) {
		struct kube_watch *w = c->watches;

		watch_unlink(c, w);
		watch_free(w);
	}
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	if (c->easy != NULL)
		curl_easy_cleanup(c->easy);
	secbuf_free(c->token);
	free(c);
}

static int http_error(long http, const struct buf *body, struct err_ctx *err)
{
	json_t *st = NULL;
	int rc;

	if (body->len > 0)
		st = json_loadb((const char *)body->data, body->len, 0, NULL);
	rc = kube_status_error(st, http, err);
	json_decref(st);
	return rc;
}

int kube_status_error(const json_t *st, long http, struct err_ctx *err)
{
	const char *msg = NULL, *reason = NULL;
	const json_t *code;
	int rc;

	if (json_is_object(st)) {
		msg = sget(st, "message");
		reason = sget(st, "reason");
		code = json_object_get(st, "code");
		if (json_is_integer(code) && http == 0)
			http = (long)json_integer_value(code);
	}
	switch (http) {
	case 404: rc = ERR_NOTFOUND; break;
	case 409: rc = ERR_CONFLICT; break;
	case 401:
	case 403: rc = ERR_PERM; break;
	case 410: rc = ERR_TIMEOUT; break;
	case 422:
	case 400: rc = ERR_INVAL; break;
	case 429: rc = ERR_LOCKED; break;
	default: rc = ERR_REMOTE; break;
	}
	return err_set(err, rc, "HTTP %ld %s: %s", http, reason ? reason : "",
		       msg ? msg : "(no Status body)");
}

int kube_request(struct kube_client *c, const char *method, const char *path,
		 const char *content_type, const char *body, long *status, json_t **out,
		 struct err_ctx *err)
{
	struct curl_slist *headers = NULL;
	char url[8192];
	struct buf resp;
	long http = 0;
	CURLcode cr;
	CURL *e = c->easy;
	int rc;

	if (status != NULL)
		*status = 0;
	if (path == NULL || path[0] != '/' ||
	    str_fmt(url, sizeof(url), "%s%s", c->cfg->server, path) != 0)
		return err_set(err, ERR_INVAL, "kube request: bad path");
	buf_init(&resp, KUBE_MAX_BODY);
	if ((rc = make_headers(c, body ? (content_type ? content_type : "application/json") : NULL,
			       &headers, err)) != 0)
		goto out;
	cr = curl_easy_setopt(e, CURLOPT_URL, url);
	cr |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	cr |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	cr |= curl_easy_setopt(e, CURLOPT_WRITEDATA, &resp);
	cr |= curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)KUBE_REQUEST_TIMEOUT_S);
	if (strcmp(method, "GET") == 0) {
		cr |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		cr |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
	} else {
		cr |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
		cr |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
		cr |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	}
	if (cr != CURLE_OK) {
		rc = err_set(err, ERR_INVAL, "kube request: curl options");
		goto out;
	}
	cr = curl_easy_perform(e);
	if (cr != CURLE_OK) {
		rc = err_set(err, cr == CURLE_OPERATION_TIMEDOUT ? ERR_TIMEOUT : ERR_IO,
			     "%s %s: %s", method, path, curl_easy_strerror(cr));
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &http);
	if (status != NULL)
		*status = http;
	if (http < 200 || http > 299) {
		rc = http_error(http, &resp, err);
		goto out;
	}
	if (out != NULL) {
		json_t *doc = NULL;

		if (resp.len > 0) {
			json_error_t je;

			doc = json_loadb((const char *)resp.data, resp.len, JSON_REJECT_DUPLICATES, &je);
			if (doc == NULL) {
				rc = err_set(err, ERR_PROTO, "%s %s: response is not JSON: %s", method,
					     path, je.text);
				goto out;
			}
		}
		*out = doc;
	}
	rc = 0;
out:
	/* the handle is reused: forget the per-request pointers */
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(headers);
	/* a response may be a Secret (Git or cloud credentials): wiped before it is freed
	 * (best effort: blocks the buffer outgrew were released by realloc unwiped) */
	if (resp.data != NULL)
		explicit_bzero(resp.data, resp.len);
	buf_free(&resp);
	return rc;
}

int kube_get(struct kube_client *c, const char *path, json_t **out, struct err_ctx *err)
{
	return kube_request(c, "GET", path, NULL, NULL, NULL, out, err);
}

static int send_json(struct kube_client *c, const char *method, const char *path,
		     const char *ct, const json_t *body, json_t **out, struct err_ctx *err)
{
	char *text = json_dumps(body, JSON_COMPACT);
	int rc;

	if (text == NULL)
		return err_set(err, ERR_NOMEM, "cannot encode the request body");
	rc = kube_request(c, method, path, ct, text, NULL, out, err);
	free(text);
	return rc;
}

int kube_patch(struct kube_client *c, const char *path, const char *type, const json_t *body,
	       json_t **out, struct err_ctx *err)
{
	const char *ct;

	if (strcmp(type, "merge") == 0)
		ct = "application/merge-patch+json";
	else if (strcmp(type, "json") == 0)
		ct = "application/json-patch+json";
	else if (strcmp(type, "apply") == 0)
		ct = "application/apply-patch+yaml";
	else
		return err_set(err, ERR_INVAL, "patch type \"%s\"", type);
	return send_json(c, "PATCH", path, ct, body, out, err);
}

int kube_post(struct kube_client *c, const char *path, const json_t *body, json_t **out,
	      struct err_ctx *err)
{
	return send_json(c, "POST", path, "application/json", body, out, err);
}

int kube_put(struct kube_client *c, const char *path, const json_t *body, json_t **out,
	     struct err_ctx *err)
{
	return send_json(c, "PUT", path, "application/json", body, out, err);
}

int kube_delete(struct kube_client *c, const char *path, struct err_ctx *err)
{
	return kube_request(c, "DELETE", path, "application/json",
			    "{\"propagationPolicy\":\"Background\"}", NULL, NULL, err);
}

int kube_path_add_query(char *dst, size_t size, const char *key, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	size_t n = strlen(dst);
	int rc;

	if (esc == NULL)
		return ERR_NOMEM;
	rc = str_fmt(dst + n, size - n, "%c%s=%s", strchr(dst, '?') ? '&' : '?', key, esc);
	curl_free(esc);
	if (rc != 0)
		dst[n] = '\0';
	return rc;
}

/* ---------------------------------------------------------------- watches */

void kube_lines_free(struct kube_lines *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

static int one_line(const char *p, size_t n, kube_watch_fn fn, void *arg)
{
	json_t *ev, *obj;
	const char *type;
	int rc;

	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (n == 0)
		return 0;
	ev = json_loadb(p, n, JSON_REJECT_DUPLICATES, NULL);
	if (ev == NULL)
		return ERR_PROTO;
	type = sget(ev, "type");
	obj = json_object_get(ev, "object");
	if (type == NULL || !json_is_object(obj)) {
		json_decref(ev);
		return ERR_PROTO;
	}
	rc = fn(arg, type, obj, 0, 0);
	json_decref(ev);
	return rc;
}

int kube_lines_feed(struct kube_lines *l, const char *p, size_t n, kube_watch_fn fn, void *arg)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		int rc;

		if (l->len == 0 && nl != NULL) {
			/* a whole line in this chunk: no copy */
			if (take > KUBE_MAX_WATCH_LINE)
				return ERR_TOOBIG;
			if ((rc = one_line(p, take, fn, arg)) != 0)
				return rc;
		} else {
			size_t need;

			if (!size_add(l->len, take, &need) || need > KUBE_MAX_WATCH_LINE)
				return ERR_TOOBIG;
			if (need > l->cap) {
				size_t cap = l->cap ? l->cap : 4096;
				char *nb;

				while (cap < need)
					cap *= 2;
				if (cap > KUBE_MAX_WATCH_LINE)
					cap = KUBE_MAX_WATCH_LINE;
				if ((nb = realloc(l->buf, cap)) == NULL)
					return ERR_NOMEM;
				l->buf = nb;
				l->cap = cap;
			}
			memcpy(l->buf + l->len, p, take);
			l->len += take;
			if (nl != NULL) {
				rc = one_line(l->buf, l->len, fn, arg);
				l->len = 0;
				if (rc != 0)
					return rc;
			}
		}
		if (nl == NULL)
			break;
		p += take + 1;
		n -= take + 1;
	}
	return 0;
}

/* fn of the stream: records that the handler asked to stop. */
static int watch_event(void *arg, const char *type, json_t *object, long st, int code)
{
	struct kube_watch *w = arg;
	int rc = w->fn(w->arg, type, object, st, code);

	if (rc != 0)
		w->stopped = true;
	return rc;
}

static size_t on_watch_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct kube_watch *w = arg;
	long http = 0;
	size_t n;
	int rc;

	if (!size_mul(size, nmemb, &n))
		return 0;
	curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &http);
	if (http != 200) {
		/* an error Status body: keep it (bounded) for the final call */
		if (n > KUBE_MAX_WATCH_LINE - w->lines.len)
			return 0;
		if (w->lines.len + n > w->lines.cap) {
			char *nb = realloc(w->lines.buf, w->lines.len + n);

			if (nb == NULL)
				return 0;
			w->lines.buf = nb;
			w->lines.cap = w->lines.len + n;
		}
		memcpy(w->lines.buf + w->lines.len, p, n);
		w->lines.len += n;
		return n;
	}
	rc = kube_lines_feed(&w->lines, p, n, watch_event, w);
	if (rc != 0) {
		if (!w->stopped)
			w->code = rc;
		return 0;
	}
	return n;
}

int kube_watch_start(struct kube_client *c, const char *path, kube_watch_fn fn, void *arg,
		     struct kube_watch **out, struct err_ctx *err)
{
	struct kube_watch *w;
	char url[8192];
	int rc;

	if (c->nwatches >= KUBE_MAX_WATCHES)
		return err_set(err, ERR_TOOBIG, "more than %d watches", KUBE_MAX_WATCHES);
	if (path == NULL || path[0] != '/' ||
	    str_fmt(url, sizeof(url), "%s%s", c->cfg->server, path) != 0)
		return err_set(err, ERR_INVAL, "watch: bad path");
	if ((w = xcalloc(1, sizeof(*w))) == NULL)
		return ERR_NOMEM;
	w->client = c;
	w->fn = fn;
	w->arg = arg;
	if ((w->easy = curl_easy_init()) == NULL) {
		free(w);
		return ERR_NOMEM;
	}
	if ((rc = make_headers(c, NULL, &w->headers, err)) != 0 || (rc = setup_easy(c, w->easy)) != 0)
		goto fail;
	if (curl_easy_setopt(w->easy, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->headers) != CURLE_OK ||
	    curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, on_watch_data) != CURLE_OK ||
	    curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w) != CURLE_OK ||
	    curl_easy_setopt(w->easy, CURLOPT_PRIVATE, w) != CURLE_OK ||
	    curl_multi_add_handle(c->multi, w->easy) != CURLM_OK) {
		rc = err_set(err, ERR_INVAL, "watch: curl setup failed");
		goto fail;
	}
	w->next = c->watches;
	c->watches = w;
	c->nwatches++;
	*out = w;
	return 0;
fail:
	curl_easy_cleanup(w->easy);
	w->easy = NULL;
	watch_free(w);
	return rc;
}

void kube_watch_cancel(struct kube_client *c, struct kube_watch *w)
{
	if (w == NULL)
		return;
	watch_unlink(c, w);
	watch_free(w);
}

size_t kube_client_nwatches(const struct kube_client *c)
{
	return c->nwatches;
}

/* Finished transfers: the final call of each watch. */
static void reap(struct kube_client *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
		struct kube_watch *w = NULL;
		long http = 0;
		int code = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&w);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &http);
		if (w == NULL)
			continue;
		watch_unlink(c, w);
		if (w->stopped) {
			watch_free(w);
			continue;
		}
		if (w->code != 0)
			code = w->code;
		else if (http != 200) {
			/* the buffered error body (no newline at its end, typically) */
			json_t *st = w->lines.len ? json_loadb(w->lines.buf, w->lines.len, 0, NULL)
						  : NULL;

			code = kube_status_error(st, http, NULL);
			json_decref(st);
		} else if (m->data.result != CURLE_OK)
			code = m->data.result == CURLE_OPERATION_TIMEDOUT ? ERR_TIMEOUT : ERR_IO;
		(void)w->fn(w->arg, NULL, NULL, http, code);
		watch_free(w);
	}
}

int kube_client_poll(struct kube_client *c, const int *fds, size_t nfds, short *revents,
		     int timeout_ms, struct err_ctx *err)
{
	struct curl_waitfd wfd[16];
	int running = 0, numfds = 0;
	CURLMcode mc;

	if (nfds > sizeof(wfd) / sizeof(wfd[0]))
		return err_set(err, ERR_INVAL, "too many fds to poll");
	for (size_t i = 0; i < nfds; i++) {
		wfd[i].fd = fds[i];
		wfd[i].events = CURL_WAIT_POLLIN;
		wfd[i].revents = 0;
	}
	mc = curl_multi_poll(c->multi, wfd, (unsigned)nfds, timeout_ms, &numfds);
	if (mc != CURLM_OK)
		return err_set(err, ERR_IO, "curl_multi_poll: %s", curl_multi_strerror(mc));
	for (size_t i = 0; i < nfds; i++) {
		if (revents != NULL)
			revents[i] = wfd[i].revents ? POLLIN : 0;
	}
	if (c->nwatches > 0) {
		mc = curl_multi_perform(c->multi, &running);
		if (mc != CURLM_OK)
			return err_set(err, ERR_IO, "curl_multi_perform: %s",
				       curl_multi_strerror(mc));
		reap(c);
	}
	return 0;
}
