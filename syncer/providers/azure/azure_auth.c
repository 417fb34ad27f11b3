/* azure_auth.c — Entra ID token sources and the per-scope token cache. */
#include "syncer/providers/azure/azure_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "common/str.h"
#include "common/xmalloc.h"

#define AZURE_AUTH_ATTEMPTS 3
#define AZURE_AUTH_MAX_FORM ((size_t)256 << 10)

struct azure_token {
	char scope[256];
	struct secbuf *tok;
	int64_t got, exp;
};

struct azure_auth {
	enum azure_auth_source src;
	struct cloud_http *http;
	char *token_url;       /* sources 1-3 */
	char *client_id;       /* sources 1-3; IMDS: optional user-assigned identity */
	struct secbuf *secret; /* sources 1 and 3 */
	char *token_file;      /* source 2 */
	char *imds_url;	       /* source 4 */
	char *identity_header; /* App Service IDENTITY_HEADER (secret-ish: kept off logs) */
	struct azure_token cache[AZURE_AUTH_MAX_SCOPES];
};

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

static const char *first(const char *a, const char *b)
{
	return a != NULL && a[0] != '\0' ? a : b;
}

const char *azure_auth_source_name(enum azure_auth_source s)
{
	switch (s) {
	case AZURE_AUTH_SECRET:
		return "secret";
	case AZURE_AUTH_WORKLOAD:
		return "workload-identity";
	case AZURE_AUTH_ENV:
		return "client-secret-env";
	case AZURE_AUTH_IMDS:
		return "managed-identity";
	}
	return "?";
}

enum azure_auth_source azure_auth_source(const struct azure_auth *a)
{
	return a->src;
}

int azure_auth_valid_id(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > AZURE_AUTH_MAX_ID)
		return 0;
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return 0;
	}
	return 1;
}

int azure_auth_token_url(const char *authority, const char *tenant, char **out)
{
	size_t al, tl, n;
	const char *tail = "/oauth2/v2.0/token";
	char *p;
	int slash;

	if (authority == NULL || tenant == NULL || !azure_auth_valid_id(tenant))
		return ERR_INVAL;
	if (!str_has_prefix(authority, "https://") && !str_has_prefix(authority, "http://"))
		return ERR_INVAL;
	al = strlen(authority);
	tl = strlen(tenant);
	slash = al > 0 && authority[al - 1] == '/';
	if (!size_add(al, tl, &n) || !size_add(n, strlen(tail) + 2, &n))
		return ERR_TOOBIG;
	if ((p = malloc(n)) == NULL)
		return ERR_NOMEM;
	if (str_fmt(p, n, "%s%s%s%s", authority, slash ? "" : "/", tenant, tail) != 0) {
		free(p);
		return ERR_TOOBIG;
	}
	*out = p;
	return 0;
}

int azure_form_add(struct secbuf *b, const char *key, const uint8_t *v, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc;

	if (b->len > 0 && (rc = secbuf_put(b, "&", 1)) != 0)
		return rc;
	if ((rc = secbuf_put(b, key, strlen(key))) != 0 || (rc = secbuf_put(b, "=", 1)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = v[i];
		char e[3];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			rc = secbuf_put(b, &c, 1);
		} else if (c == ' ') {
			rc = secbuf_put(b, "+", 1);
		} else {
			e[0] = '%';
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			rc = secbuf_put(b, e, 3);
		}
		explicit_bzero(&c, sizeof(c));
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int json_int(json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		*out = (int64_t)json_real_value(v);
		return 0;
	}
	if (json_is_string(v))
		return str_to_i64(json_string_value(v), 0, INT64_MAX / 2, out);
	return ERR_INVAL;
}

static void wipe_json(json_t *j, int depth)
{
	const char *k;
	json_t *v;

	if (j == NULL || depth > 8)
		return;
	if (json_is_string(j))
		explicit_bzero((char *)json_string_value(j), json_string_length(j));
	else if (json_is_object(j))
		json_object_foreach(j, k, v) wipe_json(v, depth + 1);
}

int azure_auth_parse_token(const uint8_t *p, size_t n, int64_t now, struct secbuf **tok,
			   int64_t *expires_at, struct err_ctx *err)
{
	json_t *j = NULL, *at;
	int64_t in = -1, on = -1;
	int rc;

	if (p == NULL || n == 0)
		return err_set(err, ERR_PROTO, "token answer is empty");
	j = json_loadb((const char *)p, n, 0, NULL);
	if (!json_is_object(j)) {
		rc = err_set(err, ERR_PROTO, "token answer is not a JSON object");
		goto out;
	}
	at = json_object_get(j, "access_token");
	if (!json_is_string(at) || json_string_length(at) == 0) {
		rc = err_set(err, ERR_PROTO, "token answer has no access_token");
		goto out;
	}
	if (json_object_get(j, "expires_in") != NULL &&
	    json_int(json_object_get(j, "expires_in"), &in) != 0) {
		rc = err_set(err, ERR_PROTO, "token answer: expires_in is not a number");
		goto out;
	}
	if (json_object_get(j, "expires_on") != NULL &&
	    json_int(json_object_get(j, "expires_on"), &on) != 0)
		on = -1; /* some endpoints send a date text here: expires_in is enough */
	if (in < 0 && on < 0) {
		rc = err_set(err, ERR_PROTO, "token answer has neither expires_in nor expires_on");
		goto out;
	}
	if ((rc = secbuf_from(tok, json_string_value(at), json_string_length(at))) != 0)
		goto out;
	*expires_at = in >= 0 ? now + in : on;
	rc = 0;
out:
	wipe_json(j, 0);
	json_decref(j);
	return rc;
}

int azure_auth_needs_refresh(int64_t got, int64_t exp, int64_t now)
{
	int64_t life = exp - got, margin = AZURE_AUTH_REFRESH_MARGIN;

	if (life < 2 * margin)
		margin = life / 2; /* short-lived tokens: renew at half their life */
	return now >= exp - margin;
}

/* The source cfg asks for. No authType: the whole chain, first usable wins; an authType
 * narrows it to its own sources and names itself when they are missing. */
static int pick_source(const struct azure_auth_cfg *cfg, enum azure_auth_source *out,
		       struct err_ctx *err)
{
	const char *t = cfg->auth_type != NULL ? cfg->auth_type : "";

	if (t[0] == '\0') {
		if (cfg->creds != NULL)
			*out = AZURE_AUTH_SECRET;
		else if (env("AZURE_FEDERATED_TOKEN_FILE") != NULL)
			*out = AZURE_AUTH_WORKLOAD;
		else if (env("AZURE_CLIENT_SECRET") != NULL)
			*out = AZURE_AUTH_ENV;
		else
			*out = AZURE_AUTH_IMDS;
		return 0;
	}
	if (strcmp(t, AZURE_AUTH_TYPE_WORKLOAD) == 0) {
		if (env("AZURE_FEDERATED_TOKEN_FILE") == NULL)
			return err_set(err, ERR_NOKEY,
				       "azure: " AZURE_AUTH_TYPE_FIELD " " AZURE_AUTH_TYPE_WORKLOAD
				       ": AZURE_FEDERATED_TOKEN_FILE is not set (is the pod "
				       "labelled for workload identity?)");
		*out = AZURE_AUTH_WORKLOAD;
		return 0;
	}
	if (strcmp(t, AZURE_AUTH_TYPE_SP) == 0) {
		if (cfg->creds != NULL)
			*out = AZURE_AUTH_SECRET;
		else if (env("AZURE_CLIENT_SECRET") != NULL)
			*out = AZURE_AUTH_ENV;
		else
			return err_set(err, ERR_NOKEY,
				       "azure: " AZURE_AUTH_TYPE_FIELD " " AZURE_AUTH_TYPE_SP
				       ": no client secret (spec.provider.azure.auth.secretName "
				       "or AZURE_CLIENT_SECRET)");
		return 0;
	}
	if (strcmp(t, AZURE_AUTH_TYPE_MI) == 0) {
		*out = AZURE_AUTH_IMDS;
		return 0;
	}
	return err_set(err, ERR_INVAL,
		       "azure: " AZURE_AUTH_TYPE_FIELD " is not one of " AZURE_AUTH_TYPE_WORKLOAD
		       ", " AZURE_AUTH_TYPE_SP ", " AZURE_AUTH_TYPE_MI);
}

int azure_auth_new(const struct azure_auth_cfg *cfg, struct azure_auth **out, struct err_ctx *err)
{
	struct azure_auth *a = xcalloc(1, sizeof(*a));
	const char *authority = first(env("AZURE_AUTHORITY_HOST"), AZURE_AUTH_DEFAULT_AUTHORITY);
	const char *tenant = first(cfg->tenant_id, env("AZURE_TENANT_ID"));
	const char *client = NULL;
	char label[80];
	int rc = ERR_NOMEM;

	if (a == NULL)
		return ERR_NOMEM;
	a->http = cfg->http;
	if ((rc = pick_source(cfg, &a->src, err)) != 0)
		goto fail;
	/* errors below name the authType the user wrote, else the source the chain chose */
	if (cfg->auth_type != NULL && cfg->auth_type[0] != '\0')
		(void)str_fmt(label, sizeof(label), AZURE_AUTH_TYPE_FIELD " %s", cfg->auth_type);
	else
		(void)str_fmt(label, sizeof(label), "%s", azure_auth_source_name(a->src));
	rc = ERR_NOMEM;
	if (a->src == AZURE_AUTH_SECRET) {
		client = cfg->creds->key_id;
		if (!azure_auth_valid_id(client) || cfg->creds->secret == NULL ||
		    cfg->creds->secret->len == 0) {
			rc =
			    err_set(err, ERR_NOKEY,
				    "azure: %s: clientId and clientSecret are both required",
				    cfg->creds->origin ? cfg->creds->origin : "credentials Secret");
			goto fail;
		}
		if ((rc = secbuf_from(&a->secret, cfg->creds->secret->data,
				      cfg->creds->secret->len)) != 0)
			goto fail;
	} else if (a->src == AZURE_AUTH_WORKLOAD) {
		client = first(cfg->client_id, env("AZURE_CLIENT_ID"));
		if ((a->token_file = xstrdup(env("AZURE_FEDERATED_TOKEN_FILE"))) == NULL)
			goto fail;
	} else if (a->src == AZURE_AUTH_ENV) {
		const char *s = env("AZURE_CLIENT_SECRET");

		client = first(cfg->client_id, env("AZURE_CLIENT_ID"));
		if ((rc = secbuf_from(&a->secret, s, strlen(s))) != 0)
			goto fail;
	} else {
		const char *base = first(env("AZURE_IMDS_ENDPOINT"), env("IDENTITY_ENDPOINT"));
		const char *path = "/metadata/identity/oauth2/token";
		char buf[1024];
		size_t bl;

		if (base == NULL)
			base = AZURE_AUTH_DEFAULT_IMDS;
		if (!str_has_prefix(base, "http://") && !str_has_prefix(base, "https://")) {
			rc = err_set(err, ERR_INVAL,
				     "azure: the IMDS endpoint is not an http(s) URL");
			goto fail;
		}
		/* a bare host[:port][/] gets IMDS's path; a URL with a path (App Service's
		 * IDENTITY_ENDPOINT) is used as is */
		bl = strlen(base);
		while (bl > 0 && base[bl - 1] == '/')
			bl--;
		{
			const char *host = strstr(base, "://") + 3; /* checked: http(s):// */

			if ((size_t)(host - base) < bl &&
			    memchr(host, '/', bl - (size_t)(host - base)) != NULL)
				path = "";
		}
		if ((rc = str_fmt(buf, sizeof(buf), "%.*s%s", (int)bl, base, path)) != 0 ||
		    (a->imds_url = xstrdup(buf)) == NULL) {
			rc = rc ? err_set(err, rc, "azure: the IMDS endpoint is too long")
				: ERR_NOMEM;
			goto fail;
		}
		if (env("IDENTITY_HEADER") != NULL &&
		    (a->identity_header = xstrdup(env("IDENTITY_HEADER"))) == NULL)
			goto fail;
		client = first(cfg->client_id, env("AZURE_CLIENT_ID"));
		if (client != NULL) {
			if (!azure_auth_valid_id(client)) {
				rc = err_set(err, ERR_INVAL,
					     "azure: the managed identity client id is not valid");
				goto fail;
			}
			if ((a->client_id = xstrdup(client)) == NULL)
				goto fail;
		}
		*out = a;
		return 0;
	}
	/* sources 1-3: a tenant and a client id */
	if (!azure_auth_valid_id(client)) {
		rc = err_set(err, ERR_NOKEY,
			     "azure (%s): no valid client id (spec.provider.azure.auth.clientId or "
			     "AZURE_CLIENT_ID)",
			     label);
		goto fail;
	}
	if (!azure_auth_valid_id(tenant)) {
		rc = err_set(err, ERR_NOKEY,
			     "azure (%s): no valid tenant id (spec.provider.azure.auth.tenantId or "
			     "AZURE_TENANT_ID)",
			     label);
		goto fail;
	}
	if ((a->client_id = xstrdup(client)) == NULL)
		goto fail;
	if ((rc = azure_auth_token_url(authority, tenant, &a->token_url)) != 0) {
		rc = err_set(err, rc == ERR_NOMEM ? ERR_NOMEM : ERR_INVAL,
			     "azure: AZURE_AUTHORITY_HOST is not an http(s) URL");
		goto fail;
	}
	*out = a;
	return 0;
fail:
	azure_auth_free(a);
	return rc;
}

void azure_auth_free(struct azure_auth *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < AZURE_AUTH_MAX_SCOPES; i++)
		secbuf_free(a->cache[i].tok);
	secbuf_free(a->secret);
	free(a->token_url);
	free(a->client_id);
	free(a->token_file);
	free(a->imds_url);
	if (a->identity_header != NULL) {
		explicit_bzero(a->identity_header, strlen(a->identity_header));
		free(a->identity_header);
	}
	free(a);
}

/* Reads the federated token file (re-read each time: it is rotated), trimmed. */
static int read_token_file(const char *path, struct secbuf **out, struct err_ctx *err)
{
	struct secbuf *b = NULL;
	uint8_t chunk[4096];
	int fd, rc;
	ssize_t r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_set(err, ERR_IO,
			       "azure: cannot open AZURE_FEDERATED_TOKEN_FILE %.200s: %s", path,
			       strerror(errno));
	if ((rc = secbuf_new(&b, AZURE_AUTH_MAX_TOKEN_FILE)) != 0)
		goto out;
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = err_set(err, ERR_IO,
				     "azure: cannot read AZURE_FEDERATED_TOKEN_FILE %.200s", path);
			goto out;
		}
		if ((rc = secbuf_put(b, chunk, (size_t)r)) != 0) {
			err_set(err, rc, "azure: AZURE_FEDERATED_TOKEN_FILE %.200s is too big",
				path);
			goto out;
		}
	}
	while (b->len > 0 && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r' ||
			      b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t'))
		b->data[--b->len] = '\0';
	if (b->len == 0) {
		rc = err_set(err, ERR_NOKEY, "azure: AZURE_FEDERATED_TOKEN_FILE %.200s is empty",
			     path);
		goto out;
	}
	*out = b;
	b = NULL;
	rc = 0;
out:
	explicit_bzero(chunk, sizeof(chunk));
	secbuf_free(b);
	close(fd);
	return rc;
}

/* Resource of a scope: the scope without its "/.default" suffix. */
static int scope_resource(const char *scope, char *dst, size_t dsz)
{
	size_t n = strlen(scope), s = strlen("/.default");

	if (n > s && strcmp(scope + n - s, "/.default") == 0)
		n -= s;
	if (n + 1 > dsz)
		return ERR_TOOBIG;
	memcpy(dst, scope, n);
	dst[n] = '\0';
	return 0;
}

/* Builds one token request: URL, headers and body. */
static int build(struct azure_auth *a, const char *scope, char **url, struct curl_slist **hdrs,
		 struct secbuf **body, struct err_ctx *err)
{
	struct secbuf *b = NULL, *assertion = NULL;
	struct curl_slist *h = NULL, *t;
	int rc;

	if ((rc = secbuf_new(&b, AZURE_AUTH_MAX_FORM)) != 0)
		return rc;
	if (a->src == AZURE_AUTH_IMDS) {
		char res[256];
		const char *ver = a->identity_header ? "2019-08-01" : "2018-02-01";

		if ((rc = scope_resource(scope, res, sizeof(res))) != 0 ||
		    (rc = azure_form_add(b, "api-version", (const uint8_t *)ver, strlen(ver))) !=
			0 ||
		    (rc = azure_form_add(b, "resource", (const uint8_t *)res, strlen(res))) != 0 ||
		    (a->client_id != NULL &&
		     (rc = azure_form_add(b, "client_id", (const uint8_t *)a->client_id,
					  strlen(a->client_id))) != 0))
			goto out;
		{
			size_t n = strlen(a->imds_url) + b->len + 2;
			char *u = malloc(n);

			if (u == NULL) {
				rc = ERR_NOMEM;
				goto out;
			}
			if (str_fmt(u, n, "%s%s%s", a->imds_url,
				    strchr(a->imds_url, '?') ? "&" : "?",
				    (const char *)b->data) != 0) {
				free(u);
				rc = ERR_TOOBIG;
				goto out;
			}
			*url = u;
		}
		secbuf_clear(b);
		if ((t = curl_slist_append(h, "Metadata: true")) == NULL)
			goto nomem;
		h = t;
		if (a->identity_header != NULL) {
			char line[1100];

			if (str_fmt(line, sizeof(line), "X-IDENTITY-HEADER: %s",
				    a->identity_header) != 0 ||
			    (t = curl_slist_append(h, line)) == NULL) {
				explicit_bzero(line, sizeof(line));
				goto nomem;
			}
			explicit_bzero(line, sizeof(line));
			h = t;
		}
	} else {
		static const char gt[] = "client_credentials";
		static const char at[] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

		if (a->src == AZURE_AUTH_WORKLOAD &&
		    (rc = read_token_file(a->token_file, &assertion, err)) != 0)
			goto out;
		if ((rc = azure_form_add(b, "grant_type", (const uint8_t *)gt, strlen(gt))) != 0 ||
		    (rc = azure_form_add(b, "client_id", (const uint8_t *)a->client_id,
					 strlen(a->client_id))) != 0 ||
		    (rc = azure_form_add(b, "scope", (const uint8_t *)scope, strlen(scope))) != 0)
			goto out;
		if (assertion != NULL) {
			if ((rc = azure_form_add(b, "client_assertion_type", (const uint8_t *)at,
						 strlen(at))) != 0 ||
			    (rc = azure_form_add(b, "client_assertion", assertion->data,
						 assertion->len)) != 0)
				goto out;
		} else if ((rc = azure_form_add(b, "client_secret", a->secret->data,
						a->secret->len)) != 0) {
			goto out;
		}
		if ((*url = xstrdup(a->token_url)) == NULL)
			goto nomem;
		if ((t = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded")) ==
		    NULL)
			goto nomem;
		h = t;
	}
	if ((t = curl_slist_append(h, "Accept: application/json")) == NULL ||
	    (h = t, t = curl_slist_append(h, "Expect:")) == NULL) {
		free(*url);
		*url = NULL;
		goto nomem;
	}
	h = t;
	*hdrs = h;
	h = NULL;
	*body = b;
	b = NULL;
	rc = 0;
	goto out;
nomem:
	rc = ERR_NOMEM;
out:
	if (rc != 0) {
		free(*url);
		*url = NULL;
	}
	if (rc != 0 && rc != ERR_NOMEM && err != NULL && err->msg[0] == '\0')
		err_set(err, rc, "azure: cannot build the token request");
	cloud_http_headers_free(h);
	secbuf_free(assertion);
	secbuf_free(b);
	return rc;
}

/* The AAD error code of a failed token answer ("invalid_client"), never its description. */
static void token_error(const struct secbuf *resp, char *dst, size_t dsz)
{
	json_t *j;
	const char *e;

	dst[0] = '\0';
	if (resp == NULL || resp->len == 0)
		return;
	j = json_loadb((const char *)resp->data, resp->len, 0, NULL);
	e = json_string_value(json_object_get(j, "error"));
	if (e != NULL && strlen(e) < 64)
		str_copy(dst, dsz, e);
	wipe_json(j, 0);
	json_decref(j);
}

static int fetch(struct azure_auth *a, const char *scope, int64_t now, struct azure_token *slot,
		 struct err_ctx *err)
{
	struct cloud_http_req req;
	struct cloud_http_req *rp = &req;
	struct curl_slist *hdrs = NULL;
	struct secbuf *body = NULL;
	char *url = NULL, code[64] = "";
	int rc = 0, attempt;

	memset(&req, 0, sizeof(req));
	if ((rc = build(a, scope, &url, &hdrs, &body, err)) != 0)
		return rc;
	for (attempt = 1; attempt <= AZURE_AUTH_ATTEMPTS; attempt++) {
		req = (struct cloud_http_req){.method = a->src == AZURE_AUTH_IMDS ? "GET" : "POST",
					      .url = url,
					      .headers = hdrs,
					      .body = body->len ? body->data : NULL,
					      .body_len = body->len};
		log_debug("azure.token", "%s token for %s (attempt %d)",
			  azure_auth_source_name(a->src), scope, attempt);
		if ((rc = cloud_http_perform(a->http, &rp, 1)) != 0) {
			err_set(err, rc, "azure: HTTP transport failed");
			goto out;
		}
		if (req.rc == 0 && req.status == 200)
			break;
		if (attempt < AZURE_AUTH_ATTEMPTS &&
		    (req.rc != 0 || req.status == 429 || req.status >= 500)) {
			struct timespec ts = {0, 200000000L * attempt};

			if (req.retry_after > 0 && req.retry_after <= 5)
				ts = (struct timespec){req.retry_after, 0};
			cloud_http_req_reset(&req);
			nanosleep(&ts, NULL);
			continue;
		}
		break;
	}
	if (req.rc != 0) {
		rc = err_set(err, ERR_IO, "azure: %s token request for %s failed: %s",
			     azure_auth_source_name(a->src), scope, req.curl_error);
		goto out;
	}
	if (req.status != 200) {
		token_error(req.resp, code, sizeof(code));
		rc = err_set(err, req.status == 401 || req.status == 400 ? ERR_NOKEY : ERR_REMOTE,
			     "azure: %s token request for %s: HTTP %ld%s%s",
			     azure_auth_source_name(a->src), scope, req.status, code[0] ? " " : "",
			     code);
		goto out;
	}
	secbuf_free(slot->tok);
	slot->tok = NULL;
	if ((rc = azure_auth_parse_token(req.resp ? req.resp->data : NULL,
					 req.resp ? req.resp->len : 0, now, &slot->tok, &slot->exp,
					 err)) != 0) {
		err_wrap(err, rc, "azure: %s token for %s", azure_auth_source_name(a->src), scope);
		goto out;
	}
	slot->got = now;
	str_copy(slot->scope, sizeof(slot->scope), scope);
out:
	cloud_http_req_reset(&req);
	cloud_http_headers_free(hdrs);
	secbuf_free(body);
	free(url);
	return rc;
}

int azure_auth_token(struct azure_auth *a, const char *scope, int64_t now,
		     const struct secbuf **tok, struct err_ctx *err)
{
	struct azure_token *slot = NULL;
	int rc;

	if (strlen(scope) >= sizeof(a->cache[0].scope))
		return err_set(err, ERR_TOOBIG, "azure: token scope is too long");
	for (size_t i = 0; i < AZURE_AUTH_MAX_SCOPES; i++) {
		if (strcmp(a->cache[i].scope, scope) == 0) {
			slot = &a->cache[i];
			break;
		}
	}
	if (slot == NULL) {
		for (size_t i = 0; i < AZURE_AUTH_MAX_SCOPES && slot == NULL; i++) {
			if (a->cache[i].scope[0] == '\0')
				slot = &a->cache[i];
		}
	}
	if (slot == NULL)
		slot = &a->cache[0];
	if (slot->tok != NULL && strcmp(slot->scope, scope) == 0 &&
	    !azure_auth_needs_refresh(slot->got, slot->exp, now)) {
		*tok = slot->tok;
		return 0;
	}
	if ((rc = fetch(a, scope, now, slot, err)) != 0)
		return rc;
	*tok = slot->tok;
	return 0;
}

void azure_auth_invalidate(struct azure_auth *a, const char *scope)
{
	for (size_t i = 0; i < AZURE_AUTH_MAX_SCOPES; i++) {
		if (strcmp(a->cache[i].scope, scope) == 0) {
			secbuf_free(a->cache[i].tok);
			a->cache[i].tok = NULL;
		}
	}
}
