/* azure_client.c — bearer-authorised, retried, concurrent JSON calls. */
#include "syncer/providers/azure/azure_client.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "syncer/providers/http/cloud_json.h"
#include "syncer/providers/http/cloud_retry.h"

#define AZURE_CLIENT_WAVE 64 /* calls sent per round */

struct azure_client {
	struct cloud_http *http;
	struct azure_auth *auth;
	uint64_t rng;
	uint64_t requests;
};

int azure_client_new(const struct azure_auth_cfg *acfg, struct azure_client **out,
		     struct err_ctx *err)
{
	struct azure_client *c = xcalloc(1, sizeof(*c));
	struct azure_auth_cfg cfg = *acfg;
	struct timespec ts;
	const char *ca;
	int rc;

	if (c == NULL)
		return ERR_NOMEM;
	/* AZURE_CA_BUNDLE: a CA file for a private endpoint (tests' TLS fake); else the system
	 * store */
	ca = getenv("AZURE_CA_BUNDLE");
	if ((rc = cloud_http_new(ca != NULL && ca[0] != '\0' ? ca : NULL, &c->http)) != 0) {
		err_set(err, rc, "azure: cannot set up HTTP transport");
		goto fail;
	}
	cfg.http = c->http;
	if ((rc = azure_auth_new(&cfg, &c->auth, err)) != 0)
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	c->rng = (uint64_t)ts.tv_nsec * 2654435761u + (uint64_t)ts.tv_sec + 1;
	log_debug("azure.auth", "credentials: %s",
		  azure_auth_source_name(azure_auth_source(c->auth)));
	*out = c;
	return 0;
fail:
	azure_client_free(c);
	return rc;
}

void azure_client_free(struct azure_client *c)
{
	if (c == NULL)
		return;
	azure_auth_free(c->auth);
	cloud_http_free(c->http);
	free(c);
}

uint64_t azure_client_requests(const struct azure_client *c)
{
	return c->requests;
}

long azure_retry_backoff_ms(uint64_t *rng, unsigned attempt, long retry_after)
{
	return cloud_backoff_ms(rng, attempt, AZURE_RETRY_BASE_MS, AZURE_RETRY_CAP_MS, retry_after);
}

int azure_retry_should(int rc, long status)
{
	if (rc < 0)
		return 1;
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* The retry decision for one answer of call: azure_retry_should, except that a call marked
 * once_on_5xx is not repeated blindly after a lost answer or a 5xx. */
static int call_should_retry(const struct azure_call *call, const struct cloud_http_req *r)
{
	if (call->once_on_5xx && (r->rc != 0 || r->status >= 500))
		return 0;
	return azure_retry_should(r->rc, r->status);
}

int azure_call_ambiguous(const struct azure_call *call)
{
	if (call->rc == 0)
		return 0;
	if (call->status == 0)
		return strcmp(call->code, "Transport") == 0;
	return call->status >= 500;
}

int azure_json_body(json_t *j, struct secbuf **out)
{
	return cloud_json_body(j, AZURE_CLIENT_MAX_REQUEST, out);
}

void azure_call_reset(struct azure_call *call)
{
	if (call->json != NULL) {
		cloud_json_wipe(call->json);
		json_decref(call->json);
		call->json = NULL;
	}
	call->rc = 0;
	call->status = 0;
	call->code[0] = '\0';
	call->inner[0] = '\0';
	call->etag[0] = '\0';
	call->attempts = 0;
	call->not_before_ms = 0;
	call->done = 0;
	call->reauthed = 0;
}

void azure_call_clear(struct azure_call *call)
{
	azure_call_reset(call);
	free(call->url);
	call->url = NULL;
	secbuf_free(call->body);
	call->body = NULL;
}

void azure_call_reason(const struct azure_call *call, char *dst, size_t dsz)
{
	char code[AZURE_CODE_MAX + 16];

	if (call->code[0] != '\0')
		str_copy(code, sizeof(code), call->code);
	else if (call->status != 0)
		str_fmt(code, sizeof(code), "HTTP %ld", call->status);
	else
		str_copy(code, sizeof(code), err_str(call->rc));
	if (str_fmt(dst, dsz, "%s on %s for %s", code, call->op ? call->op : "?",
		    call->name ? call->name : "?") != 0 &&
	    dsz > 0)
		dst[dsz - 1] = '\0';
}

static int add_line(struct curl_slist **l, const char *a, const char *b, size_t blen)
{
	struct secbuf *line = NULL;
	struct curl_slist *n;
	int rc;

	if ((rc = secbuf_new(&line, 64 << 10)) != 0 || (rc = secbuf_put(line, a, strlen(a))) != 0 ||
	    (rc = secbuf_put(line, b, blen)) != 0)
		goto out;
	if ((n = curl_slist_append(*l, (const char *)line->data)) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	*l = n;
out:
	secbuf_free(line);
	return rc;
}

static int build_headers(const struct azure_call *call, const struct secbuf *tok,
			 struct curl_slist **out)
{
	struct curl_slist *l = NULL;
	const char *ct = call->content_type ? call->content_type : "application/json";
	const char *acc = call->accept ? call->accept : "application/json";
	int rc;

	if ((rc = add_line(&l, "Authorization: Bearer ", (const char *)tok->data, tok->len)) != 0 ||
	    (rc = add_line(&l, "Accept: ", acc, strlen(acc))) != 0 ||
	    (rc = add_line(&l, "Expect:", "", 0)) != 0)
		goto out;
	if (call->body != NULL && (rc = add_line(&l, "Content-Type: ", ct, strlen(ct))) != 0)
		goto out;
	if (call->if_match[0] != '\0' &&
	    (rc = add_line(&l, "If-Match: ", call->if_match, strlen(call->if_match))) != 0)
		goto out;
	if (call->if_none_match[0] != '\0' &&
	    (rc = add_line(&l, "If-None-Match: ", call->if_none_match,
			   strlen(call->if_none_match))) != 0)
		goto out;
	*out = l;
	l = NULL;
out:
	cloud_http_headers_free(l);
	return rc;
}

/* Decodes one answer into call->rc/code/inner/json. */
static void decode_answer(struct azure_call *call, struct cloud_http_req *r)
{
	json_t *j = NULL;

	call->status = r->status;
	str_copy(call->etag, sizeof(call->etag), r->etag);
	if (r->resp != NULL && r->resp->len > 0)
		j = json_loadb((const char *)r->resp->data, r->resp->len, 0, NULL);
	if (r->status >= 200 && r->status < 300) {
		if (j == NULL && r->resp != NULL && r->resp->len > 0) {
			call->rc = ERR_PROTO;
			str_copy(call->code, sizeof(call->code), "MalformedAnswer");
		} else {
			call->rc = 0;
			call->json = j;
			j = NULL;
		}
		goto out;
	}
	if (json_is_object(j)) {
		json_t *e = json_object_get(j, "error");
		const char *c = NULL, *in = NULL;

		if (json_is_object(e)) {
			json_t *ie = json_object_get(e, "innererror");

			c = json_string_value(json_object_get(e, "code"));
			if (json_is_object(ie))
				in = json_string_value(json_object_get(ie, "code"));
		} else {
			/* problem+json: the last segment of "type", else "title" */
			const char *t = json_string_value(json_object_get(j, "type"));

			if (t != NULL && strrchr(t, '/') != NULL)
				c = strrchr(t, '/') + 1;
			else
				c = json_string_value(json_object_get(j, "title"));
		}
		if (c != NULL && strlen(c) < sizeof(call->code))
			str_copy(call->code, sizeof(call->code), c);
		if (in != NULL && strlen(in) < sizeof(call->inner))
			str_copy(call->inner, sizeof(call->inner), in);
	}
	if (call->code[0] == '\0') {
		static const struct {
			long st;
			const char *code;
		} names[] = {{400, "BadRequest"},	 {401, "Unauthorized"},
			     {403, "Forbidden"},	 {404, "NotFound"},
			     {409, "Conflict"},		 {412, "PreconditionFailed"},
			     {429, "Throttled"},	 {500, "InternalServerError"},
			     {503, "ServiceUnavailable"}};

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (names[i].st == r->status)
				str_copy(call->code, sizeof(call->code), names[i].code);
		}
	}
	if (r->status == 404)
		call->rc = ERR_NOTFOUND;
	else if (r->status == 401 || r->status == 403)
		call->rc = ERR_PERM;
	else if (r->status == 409 || r->status == 412)
		call->rc = ERR_CONFLICT;
	else
		call->rc = ERR_REMOTE;
out:
	if (j != NULL) {
		cloud_json_wipe(j);
		json_decref(j);
	}
}

int azure_client_run(struct azure_client *c, struct azure_call *calls, size_t n,
		     struct err_ctx *err)
{
	struct cloud_http_req *reqs = xcalloc(AZURE_CLIENT_WAVE, sizeof(*reqs));
	struct cloud_http_req *rp[AZURE_CLIENT_WAVE];
	struct curl_slist *hdrs[AZURE_CLIENT_WAVE] = {0};
	size_t idx[AZURE_CLIENT_WAVE];
	size_t left = n;
	int rc = 0;

	if (reqs == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		azure_call_reset(&calls[i]);
	while (left > 0) {
		long long now = clock_mono_ms(), wait = -1;
		size_t w = 0;

		for (size_t i = 0; i < n && w < AZURE_CLIENT_WAVE; i++) {
			if (calls[i].done)
				continue;
			if (calls[i].not_before_ms > now) {
				if (wait < 0 || calls[i].not_before_ms - now < wait)
					wait = calls[i].not_before_ms - now;
				continue;
			}
			idx[w++] = i;
		}
		if (w == 0) {
			struct timespec ts = {wait / 1000, (wait % 1000) * 1000000L};

			nanosleep(&ts, NULL);
			continue;
		}
		for (size_t k = 0; k < w; k++) {
			struct azure_call *call = &calls[idx[k]];
			const struct secbuf *tok = NULL;

			hdrs[k] = NULL;
			if ((rc = azure_auth_token(c->auth, call->scope, (int64_t)time(NULL), &tok,
						   err)) != 0) {
				for (size_t i = 0; i < n; i++) {
					if (!calls[i].done) {
						calls[i].rc = rc;
						str_copy(calls[i].code, sizeof(calls[i].code),
							 "NoToken");
						calls[i].done = 1;
					}
				}
				goto out;
			}
			rp[k] = &reqs[k];
			reqs[k] =
			    (struct cloud_http_req){.method = call->method,
						    .url = call->url,
						    .body = call->body ? call->body->data : NULL,
						    .body_len = call->body ? call->body->len : 0};
			if ((rc = build_headers(call, tok, &hdrs[k])) != 0) {
				err_set(err, rc, "azure: cannot build the request headers");
				goto out;
			}
			reqs[k].headers = hdrs[k];
			log_debug("azure.request", "%s %s (attempt %u)", call->op,
				  call->name ? call->name : "", call->attempts + 1);
		}
		rc = cloud_http_perform(c->http, rp, w);
		for (size_t k = 0; k < w; k++) {
			cloud_http_headers_free(hdrs[k]);
			hdrs[k] = NULL;
		}
		if (rc != 0) {
			err_set(err, rc, "azure: HTTP transport failed");
			goto out;
		}
		now = clock_mono_ms();
		for (size_t k = 0; k < w; k++) {
			struct azure_call *call = &calls[idx[k]];
			struct cloud_http_req *r = &reqs[k];

			call->attempts++;
			c->requests++;
			call->code[0] = '\0';
			call->inner[0] = '\0';
			if (call->json != NULL) {
				cloud_json_wipe(call->json);
				json_decref(call->json);
				call->json = NULL;
			}
			if (r->rc != 0) {
				call->rc = r->rc;
				call->status = 0;
				str_copy(call->code, sizeof(call->code), "Transport");
			} else {
				decode_answer(call, r);
			}
			if (call->status == 401 && !call->reauthed) {
				/* the token was refused: fetch a new one once */
				azure_auth_invalidate(c->auth, call->scope);
				call->reauthed = 1;
				call->not_before_ms = now;
			} else if (call->rc != 0 && call_should_retry(call, r) &&
				   call->attempts < AZURE_RETRY_MAX_ATTEMPTS) {
				call->not_before_ms =
				    now +
				    azure_retry_backoff_ms(&c->rng, call->attempts, r->retry_after);
				log_debug("azure.retry", "%s %s: %s, retrying", call->op,
					  call->name ? call->name : "", call->code);
			} else {
				call->done = 1;
				left--;
			}
			cloud_http_req_reset(r);
		}
	}
	rc = 0;
out:
	for (size_t k = 0; k < AZURE_CLIENT_WAVE; k++) {
		cloud_http_headers_free(hdrs[k]);
		cloud_http_req_reset(&reqs[k]);
	}
	free(reqs);
	return rc;
}
