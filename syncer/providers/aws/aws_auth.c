/* aws_auth.c — the credential chain (the config's Secret alone; else web identity → pod
 * identity → environment). */
#include "syncer/providers/aws/aws_auth.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "syncer/providers/aws/aws_retry.h"
#include "syncer/providers/http/cloud_json.h"

#define AWS_AUTH_ATTEMPTS 3
#define AWS_AUTH_SESSION_MAX 64

struct aws_auth {
	enum aws_auth_source source;
	char *role_arn, *token_file, *sts_url; /* web identity */
	char *pod_url, *pod_token_file;        /* pod identity */
	struct aws_creds given;                /* keys from the config's Secret */
	char session_name[AWS_AUTH_SESSION_MAX];
	struct cloud_http *http;
	struct aws_creds creds;
	int have;
};

static void creds_clear(struct aws_creds *c)
{
	free(c->access_key_id);
	secbuf_free(c->secret);
	secbuf_free(c->token);
	memset(c, 0, sizeof(*c));
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The ambient source: the one authType names (irsa, podIdentity, accessKeys: that one or
 * an error saying what it lacks), else the first configured of the chain. */
static int pick_source(const char *auth_type, const char *role, enum aws_auth_source *out,
		       struct err_ctx *err)
{
	static const char field[] = "spec.provider.aws.auth.authType";
	bool web = role != NULL && env("AWS_WEB_IDENTITY_TOKEN_FILE") != NULL;
	bool pod = env("AWS_CONTAINER_CREDENTIALS_FULL_URI") != NULL;
	bool keys = env("AWS_ACCESS_KEY_ID") != NULL && env("AWS_SECRET_ACCESS_KEY") != NULL;
	const char *t = auth_type != NULL ? auth_type : "";

	if (strcmp(t, "irsa") == 0) {
		*out = AWS_AUTH_WEB_IDENTITY;
		return web ? 0
			   : err_set(err, ERR_NOKEY,
				     "aws: %s irsa needs a role ARN (auth.roleArn or AWS_ROLE_ARN) "
				     "and AWS_WEB_IDENTITY_TOKEN_FILE",
				     field);
	}
	if (strcmp(t, "podIdentity") == 0) {
		*out = AWS_AUTH_POD_IDENTITY;
		return pod ? 0
			   : err_set(err, ERR_NOKEY,
				     "aws: %s podIdentity needs AWS_CONTAINER_CREDENTIALS_FULL_URI",
				     field);
	}
	if (strcmp(t, "accessKeys") == 0) {
		*out = AWS_AUTH_ENV;
		return keys ? 0
			    : err_set(err, ERR_NOKEY,
				      "aws: %s accessKeys needs auth.secretName (cluster mode) or "
				      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
				      field);
	}
	*out = web ? AWS_AUTH_WEB_IDENTITY : pod ? AWS_AUTH_POD_IDENTITY : AWS_AUTH_ENV;
	if (!web && !pod && !keys)
		return err_set(err, ERR_NOKEY,
			       "aws: no credentials: set a role ARN with AWS_WEB_IDENTITY_TOKEN_FILE, "
			       "AWS_CONTAINER_CREDENTIALS_FULL_URI, or AWS_ACCESS_KEY_ID");
	return 0;
}

int aws_auth_new(const struct aws_auth_cfg *cfg, struct aws_auth **out, struct err_ctx *err)
{
	struct aws_auth *a = xcalloc(1, sizeof(*a));
	const char *role = cfg->role_arn != NULL && cfg->role_arn[0] ? cfg->role_arn
								      : env("AWS_ROLE_ARN");
	const char *sess = env("AWS_ROLE_SESSION_NAME");
	int rc = ERR_NOMEM;

	if (a == NULL)
		return ERR_NOMEM;
	a->http = cfg->http;
	if (sess != NULL && str_copy(a->session_name, sizeof(a->session_name), sess) == 0) {
		/* taken from the environment */
	} else {
		str_fmt(a->session_name, sizeof(a->session_name), "smc-%ld-%lld", (long)getpid(),
			(long long)time(NULL));
	}
	if (cfg->secret != NULL) {
		const struct msg_credentials *s = cfg->secret;

		a->source = AWS_AUTH_SECRET;
		if (s->key_id == NULL || s->key_id[0] == '\0' || s->secret == NULL ||
		    s->secret->len == 0) {
			rc = err_set(err, ERR_NOKEY, "aws: %s holds no access key id or secret key",
				     s->origin ? s->origin : "the credentials Secret");
			goto fail;
		}
		if ((a->given.access_key_id = xstrdup(s->key_id)) == NULL ||
		    secbuf_from(&a->given.secret, s->secret->data, s->secret->len) != 0 ||
		    (s->token != NULL && s->token->len > 0 &&
		     secbuf_from(&a->given.token, s->token->data, s->token->len) != 0))
			goto fail;
	} else if ((rc = pick_source(cfg->auth_type, role, &a->source, err)) != 0) {
		goto fail;
	} else if (a->source == AWS_AUTH_WEB_IDENTITY) {
		if ((a->role_arn = xstrdup(role)) == NULL ||
		    (a->token_file = xstrdup(env("AWS_WEB_IDENTITY_TOKEN_FILE"))) == NULL ||
		    (a->sts_url = xstrdup(cfg->sts_url)) == NULL)
			goto fail;
	} else if (a->source == AWS_AUTH_POD_IDENTITY) {
		if ((a->pod_url = xstrdup(env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))) == NULL)
			goto fail;
		if (env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") != NULL &&
		    (a->pod_token_file = xstrdup(env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))) ==
			    NULL)
			goto fail;
	}
	*out = a;
	return 0;
fail:
	aws_auth_free(a);
	return rc;
}

void aws_auth_free(struct aws_auth *a)
{
	if (a == NULL)
		return;
	creds_clear(&a->creds);
	creds_clear(&a->given);
	free(a->role_arn);
	free(a->token_file);
	free(a->sts_url);
	free(a->pod_url);
	free(a->pod_token_file);
	free(a);
}

enum aws_auth_source aws_auth_source(const struct aws_auth *a)
{
	return a->source;
}

void aws_auth_invalidate(struct aws_auth *a)
{
	a->have = 0;
}

/* Reads a token file into a secbuf, trailing whitespace removed. */
static int read_token(const char *path, struct secbuf **out, struct err_ctx *err)
{
	struct secbuf *s = NULL;
	uint8_t chunk[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
	ssize_t n;

	if (fd < 0)
		return err_set(err, ERR_NOKEY, "aws: cannot read token file %s: %s", path,
			       strerror(errno));
	if ((rc = secbuf_new(&s, AWS_AUTH_MAX_TOKEN)) != 0)
		goto out;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if ((rc = secbuf_put(s, chunk, (size_t)n)) != 0) {
			err_set(err, rc, "aws: token file %s is too large", path);
			goto out;
		}
	}
	if (n < 0) {
		rc = err_set(err, ERR_IO, "aws: reading %s: %s", path, strerror(errno));
		goto out;
	}
	while (s->len > 0 && (s->data[s->len - 1] == '\n' || s->data[s->len - 1] == '\r' ||
			      s->data[s->len - 1] == ' '))
		s->data[--s->len] = '\0';
	if (s->len == 0) {
		rc = err_set(err, ERR_NOKEY, "aws: token file %s is empty", path);
		goto out;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	explicit_bzero(chunk, sizeof(chunk));
	secbuf_free(s);
	close(fd);
	return rc;
}

static int form_put(struct secbuf *b, const char *k, const uint8_t *v, size_t n)
{
	static const char hexd[] = "0123456789ABCDEF";
	int rc;

	if (b->len > 0 && (rc = secbuf_put(b, "&", 1)) != 0)
		return rc;
	if ((rc = secbuf_put(b, k, strlen(k))) != 0 || (rc = secbuf_put(b, "=", 1)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = v[i];
		char e[3] = {'%', hexd[c >> 4], hexd[c & 15]};

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			rc = secbuf_put(b, &c, 1);
		else
			rc = secbuf_put(b, e, 3);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Finds <tag>…</tag> in the XML text; copies the entity-decoded content into a new
 * secbuf. */
static int xml_field(const struct secbuf *x, const char *tag, struct secbuf **out)
{
	char open_t[64], close_t[64];
	const char *s = (const char *)x->data, *b, *e;
	struct secbuf *v = NULL;
	int rc;

	str_fmt(open_t, sizeof(open_t), "<%s>", tag);
	str_fmt(close_t, sizeof(close_t), "</%s>", tag);
	if ((b = strstr(s, open_t)) == NULL)
		return ERR_NOTFOUND;
	b += strlen(open_t);
	if ((e = strstr(b, close_t)) == NULL || (size_t)(e - b) > AWS_AUTH_MAX_FIELD)
		return ERR_PROTO;
	if ((rc = secbuf_new(&v, AWS_AUTH_MAX_FIELD)) != 0)
		return rc;
	for (const char *p = b; p < e; p++) {
		static const struct {
			const char *ent;
			char c;
		} ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'},
			    {"&apos;", '\''}};
		char c = *p;

		if (c == '&') {
			for (size_t i = 0; i < 5; i++) {
				size_t l = strlen(ents[i].ent);

				if ((size_t)(e - p) >= l && memcmp(p, ents[i].ent, l) == 0) {
					c = ents[i].c;
					p += l - 1;
					break;
				}
			}
		}
		if ((rc = secbuf_put(v, &c, 1)) != 0) {
			secbuf_free(v);
			return rc;
		}
	}
	*out = v;
	return 0;
}

static int perform_retry(struct cloud_http *h, struct cloud_http_req *r)
{
	struct aws_retry rt;
	int rc = 0;

	aws_retry_init(&rt, 0);
	for (unsigned i = 0; i < AWS_AUTH_ATTEMPTS; i++) {
		struct cloud_http_req *one = r;

		if ((rc = cloud_http_perform(h, &one, 1)) != 0)
			return rc;
		if (!aws_retry_should(r->rc, r->status, r->errtype) || i + 1 == AWS_AUTH_ATTEMPTS)
			break;
		{
			long ms = aws_retry_backoff_ms(&rt, i + 1, r->retry_after);
			struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
	return 0;
}

static int fetch_web_identity(struct aws_auth *a, struct aws_creds *c, struct err_ctx *err)
{
	struct secbuf *tok = NULL, *body = NULL, *akid = NULL, *exp = NULL, *code = NULL;
	struct curl_slist *hdr = NULL;
	struct cloud_http_req r = {0};
	char dur[16];
	int rc;

	if ((rc = read_token(a->token_file, &tok, err)) != 0)
		return rc;
	str_fmt(dur, sizeof(dur), "%d", AWS_AUTH_DURATION);
	if ((rc = secbuf_new(&body, AWS_AUTH_MAX_TOKEN * 4)) != 0 ||
	    (rc = form_put(body, "Action", (const uint8_t *)"AssumeRoleWithWebIdentity", 25)) != 0 ||
	    (rc = form_put(body, "Version", (const uint8_t *)"2011-06-15", 10)) != 0 ||
	    (rc = form_put(body, "RoleArn", (const uint8_t *)a->role_arn, strlen(a->role_arn))) !=
		    0 ||
	    (rc = form_put(body, "RoleSessionName", (const uint8_t *)a->session_name,
			   strlen(a->session_name))) != 0 ||
	    (rc = form_put(body, "DurationSeconds", (const uint8_t *)dur, strlen(dur))) != 0 ||
	    (rc = form_put(body, "WebIdentityToken", tok->data, tok->len)) != 0)
		goto out;
	hdr = curl_slist_append(hdr, "Content-Type: application/x-www-form-urlencoded; charset=utf-8");
	if (hdr == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	r = (struct cloud_http_req){.method = "POST", .url = a->sts_url, .headers = hdr,
				  .body = body->data, .body_len = body->len};
	if ((rc = perform_retry(a->http, &r)) != 0)
		goto out;
	if (r.rc != 0) {
		rc = err_set(err, r.rc, "aws: sts AssumeRoleWithWebIdentity: %s", r.curl_error);
		goto out;
	}
	if (r.resp == NULL || r.status != 200) {
		char cbuf[128] = "";

		if (r.resp != NULL && xml_field(r.resp, "Code", &code) == 0)
			str_fmt(cbuf, sizeof(cbuf), "%.*s", (int)(code->len < 100 ? code->len : 100),
				(const char *)code->data);
		rc = err_set(err, r.status == 403 ? ERR_PERM : ERR_REMOTE,
			     "aws: sts AssumeRoleWithWebIdentity for %s: HTTP %ld %s", a->role_arn,
			     r.status, cbuf);
		goto out;
	}
	if (xml_field(r.resp, "AccessKeyId", &akid) != 0 ||
	    xml_field(r.resp, "SecretAccessKey", &c->secret) != 0 ||
	    xml_field(r.resp, "SessionToken", &c->token) != 0 ||
	    xml_field(r.resp, "Expiration", &exp) != 0 ||
	    aws_auth_parse_time((const char *)exp->data, &c->expires) != 0 ||
	    (c->access_key_id = xstrdup((const char *)akid->data)) == NULL) {
		rc = err_set(err, ERR_PROTO, "aws: sts answer without usable Credentials");
		goto out;
	}
	rc = 0;
out:
	cloud_http_req_reset(&r);
	cloud_http_headers_free(hdr);
	secbuf_free(tok);
	secbuf_free(body);
	secbuf_free(akid);
	secbuf_free(exp);
	secbuf_free(code);
	return rc;
}

static int json_secbuf(json_t *o, const char *k, struct secbuf **out)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_string(v))
		return ERR_PROTO;
	return secbuf_from(out, json_string_value(v), json_string_length(v));
}

static int fetch_pod_identity(struct aws_auth *a, struct aws_creds *c, struct err_ctx *err)
{
	struct secbuf *tok = NULL, *hv = NULL;
	struct curl_slist *hdr = NULL;
	struct cloud_http_req r = {0};
	json_t *j = NULL, *exp;
	int rc;

	if (a->pod_token_file != NULL) {
		if ((rc = read_token(a->pod_token_file, &tok, err)) != 0)
			return rc;
	} else if (env("AWS_CONTAINER_AUTHORIZATION_TOKEN") != NULL) {
		const char *t = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");

		if ((rc = secbuf_from(&tok, t, strlen(t))) != 0)
			return rc;
	}
	if (tok != NULL) {
		if ((rc = secbuf_new(&hv, AWS_AUTH_MAX_TOKEN + 32)) != 0 ||
		    (rc = secbuf_put(hv, "Authorization: ", 15)) != 0 ||
		    (rc = secbuf_put(hv, tok->data, tok->len)) != 0)
			goto out;
		if ((hdr = curl_slist_append(hdr, (const char *)hv->data)) == NULL) {
			rc = ERR_NOMEM;
			goto out;
		}
	}
	r = (struct cloud_http_req){.method = "GET", .url = a->pod_url, .headers = hdr};
	if ((rc = perform_retry(a->http, &r)) != 0)
		goto out;
	if (r.rc != 0 || r.status != 200 || r.resp == NULL) {
		rc = err_set(err, r.rc ? r.rc : (r.status == 403 ? ERR_PERM : ERR_REMOTE),
			     "aws: pod identity endpoint: HTTP %ld %s", r.status, r.curl_error);
		goto out;
	}
	if ((j = json_loadb((const char *)r.resp->data, r.resp->len, 0, NULL)) == NULL ||
	    (exp = json_object_get(j, "Expiration")) == NULL || !json_is_string(exp) ||
	    !json_is_string(json_object_get(j, "AccessKeyId")) ||
	    aws_auth_parse_time(json_string_value(exp), &c->expires) != 0 ||
	    json_secbuf(j, "SecretAccessKey", &c->secret) != 0 ||
	    json_secbuf(j, "Token", &c->token) != 0 ||
	    (c->access_key_id = xstrdup(json_string_value(json_object_get(j, "AccessKeyId")))) ==
		    NULL) {
		rc = err_set(err, ERR_PROTO, "aws: pod identity answer without usable credentials");
		goto out;
	}
	rc = 0;
out:
	if (j != NULL) {
		cloud_json_wipe(j);
		json_decref(j);
	}
	cloud_http_req_reset(&r);
	cloud_http_headers_free(hdr);
	secbuf_free(tok);
	secbuf_free(hv);
	return rc;
}

static int fetch_env(struct aws_creds *c)
{
	const char *s = env("AWS_SECRET_ACCESS_KEY"), *t = env("AWS_SESSION_TOKEN");
	int rc;

	if ((c->access_key_id = xstrdup(env("AWS_ACCESS_KEY_ID"))) == NULL)
		return ERR_NOMEM;
	if ((rc = secbuf_from(&c->secret, s, strlen(s))) != 0)
		return rc;
	if (t != NULL && (rc = secbuf_from(&c->token, t, strlen(t))) != 0)
		return rc;
	c->expires = 0;
	return 0;
}

static int copy_given(const struct aws_creds *g, struct aws_creds *c)
{
	int rc;

	if ((c->access_key_id = xstrdup(g->access_key_id)) == NULL)
		return ERR_NOMEM;
	if ((rc = secbuf_from(&c->secret, g->secret->data, g->secret->len)) != 0)
		return rc;
	if (g->token != NULL && (rc = secbuf_from(&c->token, g->token->data, g->token->len)) != 0)
		return rc;
	c->expires = 0;
	return 0;
}

int aws_auth_get(struct aws_auth *a, int64_t now, const struct aws_creds **out,
		 struct err_ctx *err)
{
	struct aws_creds c = {0};
	int rc;

	if (a->have && (a->creds.expires == 0 || a->creds.expires - AWS_AUTH_REFRESH_MARGIN > now)) {
		*out = &a->creds;
		return 0;
	}
	switch (a->source) {
	case AWS_AUTH_WEB_IDENTITY: rc = fetch_web_identity(a, &c, err); break;
	case AWS_AUTH_POD_IDENTITY: rc = fetch_pod_identity(a, &c, err); break;
	case AWS_AUTH_ENV: rc = fetch_env(&c); break;
	case AWS_AUTH_SECRET: rc = copy_given(&a->given, &c); break;
	default: rc = ERR_NOKEY; break;
	}
	if (rc != 0) {
		creds_clear(&c);
		return rc;
	}
	creds_clear(&a->creds);
	a->creds = c;
	a->have = 1;
	*out = &a->creds;
	return 0;
}

int aws_auth_parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	const char *p;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return ERR_INVAL;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (!(strcmp(p, "Z") == 0 || strcmp(p, "+00:00") == 0 || *p == '\0'))
		return ERR_INVAL;
	if ((t = timegm(&tm)) == (time_t)-1)
		return ERR_INVAL;
	*out = (int64_t)t;
	return 0;
}
