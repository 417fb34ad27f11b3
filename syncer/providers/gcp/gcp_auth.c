/* gcp_auth.c — service-account JWT grants and the metadata server (see gcp_auth.h). */
#include "syncer/providers/gcp/gcp_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/b64.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "syncer/providers/gcp/gcp_codec.h"
#include "syncer/providers/http/cloud_json.h"

#define GCP_AUTH_MAX_URL 512

struct gcp_auth {
	enum gcp_auth_source source;
	struct gcp_sa_key key; /* SECRET / FILE */
	char *origin;	       /* what the key came from, for errors */
	char *metadata_url;    /* METADATA */
	struct cloud_http *http; /* borrowed */
	struct secbuf *token;
	int64_t expires, refresh_at; /* seconds since the epoch */
	unsigned fetches;
};

void gcp_sa_key_clear(struct gcp_sa_key *k)
{
	if (k == NULL)
		return;
	free(k->client_email);
	free(k->private_key_id);
	free(k->token_uri);
	secbuf_free(k->private_key);
	memset(k, 0, sizeof(*k));
}

int gcp_sa_key_parse(const uint8_t *json, size_t n, const char *origin, struct gcp_sa_key *out,
		     struct err_ctx *err)
{
	struct gcp_sa_key k = {0};
	json_t *j = json_loadb((const char *)json, n, 0, NULL);
	const char *type, *email, *kid, *uri;
	json_t *pk;
	int rc = ERR_INVAL;

	if (j == NULL || !json_is_object(j)) {
		rc = err_set(err, ERR_INVAL, "gcp: %s is not a JSON object", origin);
		goto out;
	}
	type = json_string_value(json_object_get(j, "type"));
	if (type == NULL || strcmp(type, "service_account") != 0) {
		rc = err_set(err, ERR_UNSUPPORTED,
			     "gcp: %s: credentials of type '%.40s' are not supported (only "
			     "service_account keys; external_account and authorized_user are not)",
			     origin, type ? type : "(none)");
		goto out;
	}
	email = json_string_value(json_object_get(j, "client_email"));
	kid = json_string_value(json_object_get(j, "private_key_id"));
	uri = json_string_value(json_object_get(j, "token_uri"));
	pk = json_object_get(j, "private_key");
	if (email == NULL || !json_is_string(pk) || json_string_length(pk) == 0) {
		rc = err_set(err, ERR_INVAL, "gcp: %s: field %s is missing", origin,
			     email == NULL ? "client_email" : "private_key");
		goto out;
	}
	if (uri == NULL || uri[0] == '\0')
		uri = GCP_AUTH_DEFAULT_TOKEN_URI;
	if (strncmp(uri, "https://", 8) != 0 && strncmp(uri, "http://", 7) != 0) {
		rc = err_set(err, ERR_INVAL, "gcp: %s: field token_uri is not an http(s) URL",
			     origin);
		goto out;
	}
	rc = ERR_NOMEM;
	if ((k.client_email = xstrdup(email)) == NULL || (k.token_uri = xstrdup(uri)) == NULL ||
	    (kid != NULL && (k.private_key_id = xstrdup(kid)) == NULL) ||
	    secbuf_from(&k.private_key, json_string_value(pk), json_string_length(pk)) != 0)
		goto out;
	*out = k;
	memset(&k, 0, sizeof(k));
	rc = 0;
out:
	gcp_sa_key_clear(&k);
	cloud_json_wipe(j);
	json_decref(j);
	return rc;
}

static int b64url_json(json_t *j, struct secbuf *dst)
{
	char *s = json_dumps(j, JSON_COMPACT);
	struct secbuf *b = NULL;
	int rc;

	if (s == NULL)
		return ERR_NOMEM;
	rc = b64_encode_secret(s, strlen(s), 1, &b);
	free(s);
	if (rc == 0)
		rc = secbuf_put(dst, b->data, b->len);
	secbuf_free(b);
	return rc;
}

int gcp_jwt_sign(const struct gcp_sa_key *k, const char *scope, int64_t iat, struct secbuf **out,
		 struct err_ctx *err)
{
	json_t *hdr = json_pack("{s:s,s:s}", "alg", "RS256", "typ", "JWT");
	json_t *cl = json_pack("{s:s,s:s,s:s,s:I,s:I}", "iss", k->client_email, "scope", scope,
			       "aud", k->token_uri, "iat", (json_int_t)iat, "exp",
			       (json_int_t)(iat + GCP_AUTH_JWT_LIFETIME));
	struct secbuf *jwt = NULL, *sig64 = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md = NULL;
	BIO *bio = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int rc = ERR_NOMEM;

	if (hdr == NULL || cl == NULL)
		goto out;
	if (k->private_key_id != NULL &&
	    json_object_set_new(hdr, "kid", json_string(k->private_key_id)) != 0)
		goto out;
	if ((rc = secbuf_new(&jwt, 16 << 10)) != 0 || (rc = b64url_json(hdr, jwt)) != 0 ||
	    (rc = secbuf_put(jwt, ".", 1)) != 0 || (rc = b64url_json(cl, jwt)) != 0)
		goto out;
	rc = ERR_CRYPTO;
	if ((bio = BIO_new_mem_buf(k->private_key->data, (int)k->private_key->len)) == NULL ||
	    (pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"")) == NULL) {
		rc = err_set(err, ERR_CRYPTO, "gcp: the private_key of %s is not a PEM private key",
			     k->client_email);
		goto out;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		rc = err_set(err, ERR_CRYPTO, "gcp: the private_key of %s is not an RSA key",
			     k->client_email);
		goto out;
	}
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, jwt->data, jwt->len) != 1 ||
	    (sig = malloc(siglen)) == NULL ||
	    EVP_DigestSign(md, sig, &siglen, jwt->data, jwt->len) != 1) {
		rc = err_set(err, ERR_CRYPTO, "gcp: cannot sign the JWT of %s", k->client_email);
		goto out;
	}
	if ((rc = b64_encode_secret(sig, siglen, 1, &sig64)) != 0 ||
	    (rc = secbuf_put(jwt, ".", 1)) != 0 ||
	    (rc = secbuf_put(jwt, sig64->data, sig64->len)) != 0)
		goto out;
	*out = jwt;
	jwt = NULL;
	rc = 0;
out:
	json_decref(hdr);
	json_decref(cl);
	secbuf_free(jwt);
	secbuf_free(sig64);
	free(sig);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return rc;
}

/* Reads a key file of at most GCP_AUTH_MAX_KEY_FILE bytes into a secbuf. */
static int read_key_file(const char *path, struct secbuf **out, struct err_ctx *err)
{
	struct secbuf *b = NULL;
	uint8_t chunk[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
	ssize_t r;

	if (fd < 0)
		return err_set(err, ERR_IO,
			       "gcp: cannot open GOOGLE_APPLICATION_CREDENTIALS %s: %s", path,
			       strerror(errno));
	if ((rc = secbuf_new(&b, GCP_AUTH_MAX_KEY_FILE)) != 0)
		goto out;
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = err_set(err, ERR_IO, "gcp: cannot read %s", path);
			goto out;
		}
		if ((rc = secbuf_put(b, chunk, (size_t)r)) != 0) {
			err_set(err, rc, "gcp: %s is larger than %zu bytes", path,
				GCP_AUTH_MAX_KEY_FILE);
			goto out;
		}
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

/* The metadata server's token URL from GCE_METADATA_HOST (default GCP_AUTH_METADATA_HOST). */
static int use_metadata(struct gcp_auth *a, struct err_ctx *err)
{
	const char *host = getenv("GCE_METADATA_HOST");
	char url[GCP_AUTH_MAX_URL];

	a->source = GCP_AUTH_METADATA;
	if (host == NULL || host[0] == '\0')
		host = GCP_AUTH_METADATA_HOST;
	if (strpbrk(host, "/?#@ ") != NULL ||
	    str_fmt(url, sizeof(url),
		    "http://%s/computeMetadata/v1/instance/service-accounts/default/token",
		    host) != 0)
		return err_set(err, ERR_INVAL, "gcp: GCE_METADATA_HOST is not a host[:port]");
	if ((a->metadata_url = xstrdup(url)) == NULL || (a->origin = xstrdup(url)) == NULL)
		return ERR_NOMEM;
	return 0;
}

int gcp_auth_new(const struct msg_credentials *creds, const char *auth_type,
		 struct cloud_http *http, struct gcp_auth **out, struct err_ctx *err)
{
	struct gcp_auth *a = NULL;
	const char *file = getenv("GOOGLE_APPLICATION_CREDENTIALS");
	const char *type = auth_type != NULL ? auth_type : "";
	int json_only = strcmp(type, GCP_AUTH_TYPE_JSON) == 0;
	int wi_only = strcmp(type, GCP_AUTH_TYPE_WI) == 0;
	struct secbuf *buf = NULL;
	int rc = ERR_NOMEM;

	if (type[0] != '\0' && !json_only && !wi_only)
		return err_set(
		    err, ERR_INVAL,
		    "gcp: spec.provider.gcp.auth.authType \"%.40s\" is not one of " GCP_AUTH_TYPE_WI
		    " " GCP_AUTH_TYPE_JSON,
		    type);
	if (wi_only && creds != NULL)
		return err_set(err, ERR_INVAL,
			       "gcp: spec.provider.gcp.auth.authType " GCP_AUTH_TYPE_WI
			       " uses the metadata server only, but a credentials Secret (%s) was "
			       "given; remove spec.provider.gcp.auth.secretName or use "
			       "authType " GCP_AUTH_TYPE_JSON,
			       creds->origin ? creds->origin : "spec.provider.gcp.auth.secretName");
	if (json_only && creds == NULL && (file == NULL || file[0] == '\0'))
		return err_set(
		    err, ERR_NOKEY,
		    "gcp: spec.provider.gcp.auth.authType " GCP_AUTH_TYPE_JSON
		    " needs a service-account key, but neither "
		    "spec.provider.gcp.auth.secretName nor GOOGLE_APPLICATION_CREDENTIALS "
		    "is set (the metadata server is not used with " GCP_AUTH_TYPE_JSON ")");
	if ((a = xcalloc(1, sizeof(*a))) == NULL)
		return ERR_NOMEM;
	a->http = http;
	if (wi_only) {
		if ((rc = use_metadata(a, err)) != 0)
			goto fail;
	} else if (creds != NULL && creds->secret != NULL && creds->secret->len > 0) {
		a->source = GCP_AUTH_SECRET;
		if ((a->origin =
			 xstrdup(creds->origin ? creds->origin : "the credentials Secret")) == NULL)
			goto fail;
		if ((rc = gcp_sa_key_parse(creds->secret->data, creds->secret->len, a->origin,
					   &a->key, err)) != 0)
			goto fail;
	} else if (creds != NULL) {
		rc = err_set(err, ERR_NOKEY, "gcp: %s holds no service-account key",
			     creds->origin ? creds->origin : "the credentials Secret");
		goto fail;
	} else if (file != NULL && file[0] != '\0') {
		a->source = GCP_AUTH_FILE;
		if ((a->origin = xstrdup(file)) == NULL)
			goto fail;
		if ((rc = read_key_file(file, &buf, err)) != 0 ||
		    (rc = gcp_sa_key_parse(buf->data, buf->len, file, &a->key, err)) != 0)
			goto fail;
	} else if ((rc = use_metadata(a, err)) != 0) {
		goto fail;
	}
	secbuf_free(buf);
	*out = a;
	return 0;
fail:
	secbuf_free(buf);
	gcp_auth_free(a);
	return rc;
}

void gcp_auth_free(struct gcp_auth *a)
{
	if (a == NULL)
		return;
	gcp_sa_key_clear(&a->key);
	free(a->origin);
	free(a->metadata_url);
	secbuf_free(a->token);
	free(a);
}

void gcp_auth_invalidate(struct gcp_auth *a)
{
	secbuf_free(a->token);
	a->token = NULL;
	a->expires = a->refresh_at = 0;
}

enum gcp_auth_source gcp_auth_source(const struct gcp_auth *a)
{
	return a->source;
}

unsigned gcp_auth_fetches(const struct gcp_auth *a)
{
	return a->fetches;
}

/* Takes access_token and expires_in out of a token answer. */
static int take_token(struct gcp_auth *a, const struct secbuf *resp, int64_t now,
		      struct err_ctx *err)
{
	json_t *j = resp ? json_loadb((const char *)resp->data, resp->len, 0, NULL) : NULL;
	json_t *t = json_object_get(j, "access_token");
	json_t *e = json_object_get(j, "expires_in");
	int rc;

	if (!json_is_string(t) || json_string_length(t) == 0) {
		rc = err_set(err, ERR_PROTO, "gcp: the token answer of %s has no access_token",
			     a->origin);
		goto out;
	}
	secbuf_free(a->token);
	a->token = NULL;
	if ((rc = secbuf_from(&a->token, json_string_value(t), json_string_length(t))) != 0)
		goto out;
	{
		int64_t life = json_is_integer(e) ? (int64_t)json_integer_value(e) : 3600;

		if (life < 1 || life > 86400)
			life = 3600;
		/* renewed GCP_AUTH_REFRESH_EARLY s before expiry, or at half-life when shorter */
		a->expires = now + life;
		a->refresh_at =
		    now +
		    (life > 2 * GCP_AUTH_REFRESH_EARLY ? life - GCP_AUTH_REFRESH_EARLY : life / 2);
	}
	a->fetches++;
out:
	cloud_json_wipe(j);
	json_decref(j);
	return rc;
}

static int add_line(struct curl_slist **l, const char *a, const char *b)
{
	char line[256];
	struct curl_slist *n;

	if (str_fmt(line, sizeof(line), "%s%s", a, b) != 0)
		return ERR_TOOBIG;
	if ((n = curl_slist_append(*l, line)) == NULL)
		return ERR_NOMEM;
	*l = n;
	return 0;
}

static int fetch(struct gcp_auth *a, int64_t now, struct err_ctx *err)
{
	static const char grant[] =
	    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
	struct cloud_http_req req = {.retry_after = -1};
	struct cloud_http_req *rp = &req;
	struct secbuf *jwt = NULL, *body = NULL;
	struct curl_slist *h = NULL;
	int rc;

	if (a->source == GCP_AUTH_METADATA) {
		req.method = "GET";
		req.url = a->metadata_url;
		if ((rc = add_line(&h, "Metadata-Flavor: ", "Google")) != 0)
			goto out;
	} else {
		if ((rc = gcp_jwt_sign(&a->key, GCP_AUTH_SCOPE, now, &jwt, err)) != 0)
			goto out;
		if ((rc = secbuf_new(&body, jwt->len + sizeof(grant))) != 0 ||
		    (rc = secbuf_put(body, grant, sizeof(grant) - 1)) != 0 ||
		    (rc = secbuf_put(body, jwt->data, jwt->len)) != 0)
			goto out;
		req.method = "POST";
		req.url = a->key.token_uri;
		req.body = body->data;
		req.body_len = body->len;
		if ((rc = add_line(&h, "Content-Type: ", "application/x-www-form-urlencoded")) != 0)
			goto out;
	}
	if ((rc = add_line(&h, "Accept: ", "application/json")) != 0 ||
	    (rc = add_line(&h, "Expect:", "")) != 0)
		goto out;
	req.headers = h;
	for (int attempt = 0; attempt < 4; attempt++) {
		if (attempt > 0) {
			struct timespec ts = {0, 200000000L * attempt};

			nanosleep(&ts, NULL);
		}
		if ((rc = cloud_http_perform(a->http, &rp, 1)) != 0) {
			err_set(err, rc, "gcp: HTTP transport failed");
			goto out;
		}
		if (req.rc == 0 && req.status != 429 && req.status < 500)
			break;
	}
	if (req.rc != 0) {
		rc = err_set(err, req.rc, "gcp: cannot reach the token endpoint %s: %s", a->origin,
			     req.curl_error);
		goto out;
	}
	if (req.status != 200) {
		rc = err_set(err, req.status == 401 || req.status == 403 ? ERR_PERM : ERR_REMOTE,
			     "gcp: token request for %s refused: HTTP %ld",
			     a->source == GCP_AUTH_METADATA ? "the metadata server"
							    : a->key.client_email,
			     req.status);
		goto out;
	}
	rc = take_token(a, req.resp, now, err);
out:
	cloud_http_req_reset(&req);
	curl_slist_free_all(h);
	secbuf_free(jwt);
	secbuf_free(body);
	return rc;
}

int gcp_auth_token(struct gcp_auth *a, int64_t now, const struct secbuf **tok, struct err_ctx *err)
{
	int rc;

	if (a->token == NULL || now >= a->refresh_at) {
		if ((rc = fetch(a, now, err)) != 0)
			return rc;
	}
	*tok = a->token;
	return 0;
}
