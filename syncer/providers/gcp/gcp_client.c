/* gcp_client.c — authorised, rate-limited, retried JSON calls to the GCP APIs. */
#include "syncer/providers/gcp/gcp_client.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "syncer/providers/gcp/gcp_codec.h"
#include "syncer/providers/http/cloud_json.h"
#include "syncer/providers/http/cloud_retry.h"

#define GCP_CLIENT_WAVE 64 /* calls sent per round */
#define GCP_MAX_URL (GCP_CLIENT_MAX_PATH + 1024)

static const char *const default_base[GCP_API_N] = {"https://secretmanager.googleapis.com/",
						    "https://parametermanager.googleapis.com/"};
static const char *const api_name[GCP_API_N] = {"secretmanager", "parametermanager"};

/* Secret Manager quotas per project (Secret Manager "Quotas and limits"): access requests
 * 90,000/min, read requests (get, list) 600/min, write requests 600/min. Parameter
 * Manager's are taken to be the same for reads and writes. We stay a little under each;
 * the bucket holds ten seconds of the rate since the quotas are per minute. */
static const struct {
	const char *cls;
	double rps;
} quotas[] = {
    {"secretmanager.access", 1400}, {"secretmanager.read", 9},	   {"secretmanager.write", 9},
    {"parametermanager.read", 9},   {"parametermanager.write", 9},
};

struct gcp_client {
	char *project;
	char *base[GCP_API_N]; /* ends with '/' */
	struct cloud_http *http;
	struct gcp_auth *auth;
	struct cloud_limiter lim; /* buckets per API class, jitter state */
	uint64_t requests;
};

double gcp_client_quota(const char *cls)
{
	for (size_t i = 0; i < sizeof(quotas) / sizeof(quotas[0]); i++) {
		if (strcmp(quotas[i].cls, cls) == 0)
			return quotas[i].rps;
	}
	return 9;
}

static void op_class(const struct gcp_call *call, char *dst, size_t dsz)
{
	const char *k = strstr(call->op, "access") != NULL ? "access"
			: strcmp(call->method, "GET") == 0 ? "read"
							   : "write";

	str_fmt(dst, dsz, "%s.%s", api_name[call->api], k);
}

/* 0 when a token was taken, else milliseconds to wait (a bucket holds ten seconds of
 * the rate: the quotas are per minute). */
static long take(struct gcp_client *c, const char *cls, double now)
{
	double rate = gcp_client_quota(cls);

	return cloud_limiter_take(&c->lim, cls, rate, rate * 10, now);
}

long gcp_client_backoff_ms(struct gcp_client *c, unsigned attempt, long retry_after)
{
	return cloud_backoff_ms(&c->lim.rng, attempt, GCP_RETRY_BASE_MS, GCP_RETRY_CAP_MS,
				retry_after);
}

static int valid_project(const char *p)
{
	if (p == NULL || p[0] == '\0' || strlen(p) > 100)
		return 0;
	for (; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.' || *p == ':'))
			return 0;
	}
	return 1;
}

int gcp_client_new(const struct gcp_client_cfg *cfg, struct gcp_client **out, struct err_ctx *err)
{
	struct gcp_client *c = xcalloc(1, sizeof(*c));
	const char *project =
	    cfg->project && cfg->project[0] ? cfg->project : getenv("GOOGLE_CLOUD_PROJECT");
	const char *ca = getenv("SSL_CERT_FILE"); /* a private CA (tests, proxies) */
	int rc = ERR_NOMEM;

	if (c == NULL)
		return ERR_NOMEM;
	if (!valid_project(project)) {
		rc = err_set(
		    err, ERR_INVAL,
		    "gcp: no valid project (provider.gcp.projectId or GOOGLE_CLOUD_PROJECT)");
		goto fail;
	}
	if ((c->project = xstrdup(project)) == NULL)
		goto fail;
	for (int a = 0; a < GCP_API_N; a++) {
		const char *e = cfg->endpoint && cfg->endpoint[0] ? cfg->endpoint : default_base[a];
		size_t n = strlen(e);
		char buf[512];

		if ((strncmp(e, "http://", 7) != 0 && strncmp(e, "https://", 8) != 0) ||
		    strpbrk(e, "?# ") != NULL ||
		    str_fmt(buf, sizeof(buf), "%s%s", e, e[n - 1] == '/' ? "" : "/") != 0) {
			rc = err_set(err, ERR_INVAL, "gcp: endpoint %.200s is not an http(s) URL",
				     e);
			goto fail;
		}
		if ((c->base[a] = xstrdup(buf)) == NULL)
			goto fail;
	}
	if ((rc = cloud_http_new(ca != NULL && ca[0] ? ca : NULL, &c->http)) != 0) {
		err_set(err, rc, "gcp: cannot set up HTTP transport");
		goto fail;
	}
	if ((rc = gcp_auth_new(cfg->creds, cfg->auth_type, c->http, &c->auth, err)) != 0)
		goto fail;
	cloud_limiter_init(&c->lim, 0);
	*out = c;
	return 0;
fail:
	gcp_client_free(c);
	return rc;
}

void gcp_client_free(struct gcp_client *c)
{
	if (c == NULL)
		return;
	gcp_auth_free(c->auth);
	cloud_http_free(c->http);
	for (int a = 0; a < GCP_API_N; a++)
		free(c->base[a]);
	free(c->project);
	free(c);
}

const char *gcp_client_project(const struct gcp_client *c)
{
	return c->project;
}

uint64_t gcp_client_requests(const struct gcp_client *c)
{
	return c->requests;
}

void gcp_call_clear(struct gcp_call *call)
{
	secbuf_free(call->body);
	call->body = NULL;
	if (call->json != NULL) {
		cloud_json_wipe(call->json);
		json_decref(call->json);
		call->json = NULL;
	}
	call->rc = 0;
	call->status = 0;
	call->code[0] = '\0';
	call->message[0] = '\0';
	call->attempts = 0;
	call->not_before_ms = 0;
	call->done = 0;
	call->renewed = 0;
}

void gcp_call_reason(const struct gcp_call *call, char *dst, size_t dsz)
{
	/* INVALID_ARGUMENT messages may quote the request: leave them out */
	int echo = strcmp(call->code, "INVALID_ARGUMENT") == 0;
	char res[GCP_CLIENT_MAX_PATH];

	str_copy(res, sizeof(res), call->path);
	res[strcspn(res, ":?")] = '\0';
	str_fmt(dst, dsz, "%s on %s for %s%s%s", call->code[0] ? call->code : "ERROR", call->op,
		res, (!echo && call->message[0]) ? ": " : "", echo ? "" : call->message);
}

static int build_headers(const struct secbuf *tok, struct curl_slist **out)
{
	static const char pre[] = "Authorization: Bearer ";
	struct curl_slist *l = NULL, *n;
	struct secbuf *line = NULL;
	int rc;

	if ((rc = secbuf_new(&line, tok->len + sizeof(pre))) != 0 ||
	    (rc = secbuf_put(line, pre, sizeof(pre) - 1)) != 0 ||
	    (rc = secbuf_put(line, tok->data, tok->len)) != 0)
		goto out;
	rc = ERR_NOMEM;
	if ((n = curl_slist_append(l, (const char *)line->data)) == NULL)
		goto out;
	l = n;
	if ((n = curl_slist_append(l, "Content-Type: application/json")) == NULL)
		goto out;
	l = n;
	if ((n = curl_slist_append(l, "Accept: application/json")) == NULL)
		goto out;
	l = n;
	if ((n = curl_slist_append(l, "Expect:")) == NULL)
		goto out;
	l = n;
	*out = l;
	l = NULL;
	rc = 0;
out:
	secbuf_free(line);
	cloud_http_headers_free(l);
	return rc;
}

static void decode_answer(struct gcp_call *call, struct cloud_http_req *r)
{
	json_t *j = NULL, *e;

	call->status = r->status;
	if (r->resp != NULL && r->resp->len > 0)
		j = json_loadb((const char *)r->resp->data, r->resp->len, 0, NULL);
	if (r->status >= 200 && r->status < 300) {
		if (j == NULL && (r->resp == NULL || r->resp->len == 0))
			j = json_object();
		if (j == NULL || !json_is_object(j)) {
			call->rc = ERR_PROTO;
			str_copy(call->code, sizeof(call->code), "BAD_ANSWER");
			str_copy(call->message, sizeof(call->message),
				 "answer is not a JSON object");
		} else {
			call->rc = 0;
			call->json = j;
			j = NULL;
		}
		goto out;
	}
	e = json_object_get(j, "error");
	if (json_is_object(e)) {
		const char *st = json_string_value(json_object_get(e, "status"));
		const char *m = json_string_value(json_object_get(e, "message"));

		if (st != NULL)
			str_copy(call->code, sizeof(call->code), st);
		if (m != NULL)
			str_copy(call->message, sizeof(call->message), m);
	}
	if (call->code[0] == '\0')
		str_fmt(call->code, sizeof(call->code), "HTTP_%ld", r->status);
	switch (r->status) {
	case 401:
	case 403:
		call->rc = ERR_PERM;
		break;
	case 404:
		call->rc = ERR_NOTFOUND;
		break;
	case 409:
		call->rc = ERR_CONFLICT;
		break;
	default:
		call->rc = ERR_REMOTE;
		break;
	}
out:
	if (j != NULL) {
		cloud_json_wipe(j);
		json_decref(j);
	}
}

static int should_retry(const struct gcp_call *call, const struct cloud_http_req *r)
{
	if (r->rc != 0)
		return !call->once_on_5xx;
	if (r->status == 429 || r->status == 503)
		return 1; /* RESOURCE_EXHAUSTED / UNAVAILABLE: refused before any work */
	if (r->status >= 500)
		return !call->once_on_5xx;
	return 0;
}

int gcp_client_run(struct gcp_client *c, struct gcp_call *calls, size_t n, struct err_ctx *err)
{
	struct cloud_http_req *reqs = xcalloc(GCP_CLIENT_WAVE, sizeof(*reqs));
	char(*urls)[GCP_MAX_URL] = xcalloc(GCP_CLIENT_WAVE, GCP_MAX_URL);
	struct cloud_http_req *rp[GCP_CLIENT_WAVE];
	struct curl_slist *hdrs = NULL;
	size_t idx[GCP_CLIENT_WAVE];
	size_t left = n;
	int rc = 0;

	if (reqs == NULL || urls == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		calls[i].done = 0;
		calls[i].attempts = 0;
		calls[i].not_before_ms = 0;
		calls[i].renewed = 0;
	}
	while (left > 0) {
		const struct secbuf *tok = NULL;
		long long now = clock_mono_ms(), wait = -1;
		size_t w = 0;

		for (size_t i = 0; i < n && w < GCP_CLIENT_WAVE; i++) {
			char cls[64];
			long t;

			if (calls[i].done)
				continue;
			if (calls[i].not_before_ms > now) {
				if (wait < 0 || calls[i].not_before_ms - now < wait)
					wait = calls[i].not_before_ms - now;
				continue;
			}
			op_class(&calls[i], cls, sizeof(cls));
			if ((t = take(c, cls, (double)now / 1000.0)) > 0) {
				calls[i].not_before_ms = now + t;
				if (wait < 0 || t < wait)
					wait = t;
				continue;
			}
			idx[w++] = i;
		}
		if (w == 0) {
			struct timespec ts = {wait / 1000, (wait % 1000) * 1000000L};

			nanosleep(&ts, NULL);
			continue;
		}
		if ((rc = gcp_auth_token(c->auth, (int64_t)time(NULL), &tok, err)) != 0) {
			for (size_t i = 0; i < n; i++) {
				if (!calls[i].done) {
					calls[i].rc = rc;
					str_copy(calls[i].code, sizeof(calls[i].code), "NO_TOKEN");
					calls[i].done = 1;
				}
			}
			goto out;
		}
		if ((rc = build_headers(tok, &hdrs)) != 0)
			goto out;
		for (size_t k = 0; k < w; k++) {
			struct gcp_call *call = &calls[idx[k]];

			if (str_fmt(urls[k], GCP_MAX_URL, "%sv1/%s%s%s", c->base[call->api],
				    call->path, call->query ? "?" : "",
				    call->query ? call->query : "") != 0) {
				rc = err_set(err, ERR_TOOBIG, "gcp: URL of %s too long", call->op);
				goto out;
			}
			rp[k] = &reqs[k];
			reqs[k] =
			    (struct cloud_http_req){.method = call->method,
						  .url = urls[k],
						  .headers = hdrs,
						  .body = call->body ? call->body->data : NULL,
						  .body_len = call->body ? call->body->len : 0,
						  .retry_after = -1};
			log_debug("gcp.request", "%s %s (attempt %u)", call->op, call->path,
				  call->attempts + 1);
		}
		rc = cloud_http_perform(c->http, rp, w);
		cloud_http_headers_free(hdrs);
		hdrs = NULL;
		if (rc != 0) {
			err_set(err, rc, "gcp: HTTP transport failed");
			goto out;
		}
		now = clock_mono_ms();
		for (size_t k = 0; k < w; k++) {
			struct gcp_call *call = &calls[idx[k]];
			struct cloud_http_req *r = &reqs[k];

			call->attempts++;
			c->requests++;
			call->code[0] = '\0';
			call->message[0] = '\0';
			if (call->json != NULL) {
				cloud_json_wipe(call->json);
				json_decref(call->json);
				call->json = NULL;
			}
			if (r->rc != 0) {
				call->rc = r->rc;
				call->status = 0;
				str_copy(call->code, sizeof(call->code), "TRANSPORT");
				str_copy(call->message, sizeof(call->message), r->curl_error);
			} else {
				decode_answer(call, r);
			}
			if (call->status == 401 && !call->renewed) {
				gcp_auth_invalidate(c->auth);
				call->renewed = 1;
				call->not_before_ms = now;
			} else if (call->rc != 0 && should_retry(call, r) &&
				   call->attempts < GCP_RETRY_MAX_ATTEMPTS) {
				call->not_before_ms =
				    now + gcp_client_backoff_ms(c, call->attempts, r->retry_after);
				log_debug("gcp.retry", "%s %s: %s, retrying", call->op, call->path,
					  call->code);
			} else {
				call->done = 1;
				left--;
			}
			cloud_http_req_reset(r);
		}
	}
	rc = 0;
out:
	cloud_http_headers_free(hdrs);
	if (reqs != NULL) {
		for (size_t k = 0; k < GCP_CLIENT_WAVE; k++)
			cloud_http_req_reset(&reqs[k]);
	}
	free(reqs);
	free(urls);
	return rc;
}
