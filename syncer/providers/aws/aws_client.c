/* aws_client.c — signed, rate-limited, retried JSON 1.1 calls. */
#include "syncer/providers/aws/aws_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "syncer/providers/aws/sigv4.h"
#include "syncer/providers/http/cloud_json.h"

#define AWS_CLIENT_WAVE 64     /* calls signed and sent per round */
#define AWS_CLIENT_HDR_MAX 160 /* bytes of one non-secret header line */

static const char *const signing_name[AWS_SVC_N] = {"secretsmanager", "ssm", "sts"};
static const char *const target_prefix[AWS_SVC_N] = {"secretsmanager", "AmazonSSM", "sts"};
static const char *const env_endpoint[AWS_SVC_N] = {
	"AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_STS"};

struct aws_client {
	char *region;
	char *url[AWS_SVC_N];
	char *host[AWS_SVC_N]; /* authority as signed: host[:port] */
	struct cloud_http *http;
	struct aws_auth *auth;
	struct aws_retry retry;
	uint64_t requests;
};

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

static int valid_region(const char *r)
{
	if (r == NULL || r[0] == '\0' || strlen(r) > 32)
		return 0;
	for (; *r; r++) {
		if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
			return 0;
	}
	return 1;
}

/* Authority (host[:port]) of url, as curl will send it in Host. Owned. */
static int url_authority(const char *url, char **out)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *scheme = NULL;
	char buf[300];
	int rc = ERR_INVAL;

	if (u == NULL)
		return ERR_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		goto out;
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		goto out;
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
		rc = str_fmt(buf, sizeof(buf), "%s:%s", host, port);
	else
		rc = str_copy(buf, sizeof(buf), host);
	if (rc != 0)
		goto out;
	rc = (*out = xstrdup(buf)) ? 0 : ERR_NOMEM;
out:
	curl_free(host);
	curl_free(port);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

int aws_client_new(const struct aws_client_cfg *cfg, struct aws_client **out,
		   struct err_ctx *err)
{
	static const char *const host_prefix[AWS_SVC_N] = {"secretsmanager", "ssm", "sts"};
	struct aws_client *c = xcalloc(1, sizeof(*c));
	const char *region = cfg->region && cfg->region[0] ? cfg->region : env("AWS_REGION");
	struct aws_auth_cfg acfg;
	int rc = ERR_NOMEM;

	if (c == NULL)
		return ERR_NOMEM;
	if (region == NULL)
		region = env("AWS_DEFAULT_REGION");
	if (!valid_region(region)) {
		rc = err_set(err, ERR_INVAL, "aws: no valid region (provider.aws.region or AWS_REGION)");
		goto fail;
	}
	if ((c->region = xstrdup(region)) == NULL)
		goto fail;
	for (int s = 0; s < AWS_SVC_N; s++) {
		const char *e = cfg->endpoint && cfg->endpoint[0] ? cfg->endpoint : env(env_endpoint[s]);
		char dflt[128];

		if (e == NULL)
			e = env("AWS_ENDPOINT_URL");
		if (e == NULL) {
			str_fmt(dflt, sizeof(dflt), "https://%s.%s.amazonaws.com/", host_prefix[s],
				c->region);
			e = dflt;
		}
		if ((c->url[s] = xstrdup(e)) == NULL)
			goto fail;
		if ((rc = url_authority(e, &c->host[s])) != 0) {
			err_set(err, rc, "aws: endpoint %s is not an http(s) URL", e);
			goto fail;
		}
	}
	if ((rc = cloud_http_new(env("AWS_CA_BUNDLE"), &c->http)) != 0) {
		err_set(err, rc, "aws: cannot set up HTTP transport");
		goto fail;
	}
	acfg = (struct aws_auth_cfg){.role_arn = cfg->role_arn, .sts_url = c->url[AWS_SVC_STS],
				     .http = c->http, .secret = cfg->secret,
				     .auth_type = cfg->auth_type};
	if ((rc = aws_auth_new(&acfg, &c->auth, err)) != 0)
		goto fail;
	aws_retry_init(&c->retry, 0);
	*out = c;
	return 0;
fail:
	aws_client_free(c);
	return rc;
}

void aws_client_free(struct aws_client *c)
{
	if (c == NULL)
		return;
	aws_auth_free(c->auth);
	cloud_http_free(c->http);
	for (int s = 0; s < AWS_SVC_N; s++) {
		free(c->url[s]);
		free(c->host[s]);
	}
	free(c->region);
	free(c);
}

const char *aws_client_region(const struct aws_client *c)
{
	return c->region;
}

uint64_t aws_client_requests(const struct aws_client *c)
{
	return c->requests;
}

int aws_json_body(json_t *req, struct secbuf **out)
{
	return cloud_json_body(req, AWS_CLIENT_MAX_REQUEST, out);
}

void aws_call_clear(struct aws_call *call)
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
}

static int add_hdr(struct curl_slist **l, const char *name, const char *value)
{
	struct secbuf *line = NULL;
	struct curl_slist *n;
	int rc;

	if ((rc = secbuf_new(&line, 64 << 10)) != 0 ||
	    (rc = secbuf_put(line, name, strlen(name))) != 0 || (rc = secbuf_put(line, ": ", 2)) != 0 ||
	    (rc = secbuf_put(line, value, strlen(value))) != 0)
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

/* Builds the signed header list for one attempt. Owned *out (slist_wipe_free). */
static int build_request(struct aws_client *c, const struct aws_creds *cr, struct aws_call *call,
			 struct curl_slist **out)
{
	char target[AWS_CLIENT_HDR_MAX], date[SIGV4_AMZ_DATE_LEN + 1];
	const char *ctype = "application/x-amz-json-1.1";
	struct sigv4_header h[5];
	struct sigv4_out so = {0};
	struct curl_slist *l = NULL;
	size_t nh = 0;
	int rc;

	if ((rc = str_fmt(target, sizeof(target), "%s.%s", target_prefix[call->svc], call->action)) !=
		    0 ||
	    (rc = sigv4_amz_date((long long)time(NULL), date)) != 0)
		return rc;
	h[nh++] = (struct sigv4_header){"Content-Type", ctype};
	h[nh++] = (struct sigv4_header){"Host", c->host[call->svc]};
	h[nh++] = (struct sigv4_header){"X-Amz-Date", date};
	h[nh++] = (struct sigv4_header){"X-Amz-Target", target};
	if (cr->token != NULL)
		h[nh++] = (struct sigv4_header){"X-Amz-Security-Token", (const char *)cr->token->data};
	{
		struct sigv4_request req = {.method = "POST", .path = "/", .query = "",
					    .headers = h, .nheaders = nh,
					    .body = call->body ? call->body->data : NULL,
					    .body_len = call->body ? call->body->len : 0};
		struct sigv4_key key = {.access_key_id = cr->access_key_id,
					.secret = cr->secret->data, .secret_len = cr->secret->len,
					.region = c->region, .service = signing_name[call->svc],
					.amz_date = date};

		if ((rc = sigv4_sign(&req, &key, &so)) != 0)
			return rc;
	}
	for (size_t i = 0; i < nh; i++) {
		if ((rc = add_hdr(&l, h[i].name, h[i].value)) != 0)
			goto out;
	}
	if ((rc = add_hdr(&l, "Authorization", so.authorization)) != 0 ||
	    (rc = add_hdr(&l, "Expect", "")) != 0)
		goto out;
	*out = l;
	l = NULL;
out:
	sigv4_out_free(&so);
	cloud_http_headers_free(l);
	return rc;
}

static void xml_text(const struct secbuf *b, const char *tag, char *dst, size_t dsz)
{
	char o[32], cl[32];
	const char *s, *e;

	if (b == NULL || b->data == NULL)
		return;
	str_fmt(o, sizeof(o), "<%s>", tag);
	str_fmt(cl, sizeof(cl), "</%s>", tag);
	if ((s = strstr((const char *)b->data, o)) == NULL)
		return;
	s += strlen(o);
	if ((e = strstr(s, cl)) == NULL)
		return;
	str_fmt(dst, dsz, "%.*s", (int)(e - s), s);
}

/* Decodes an answer into call->rc/code/message/json. */
static void decode_answer(struct aws_call *call, struct cloud_http_req *r)
{
	json_t *j = NULL;

	call->status = r->status;
	if (r->resp != NULL && r->resp->len > 0)
		j = json_loadb((const char *)r->resp->data, r->resp->len, 0, NULL);
	if (r->status >= 200 && r->status < 300) {
		if (j == NULL && (r->resp == NULL || r->resp->len == 0))
			j = json_object();
		if (j == NULL || !json_is_object(j)) {
			call->rc = ERR_PROTO;
			str_copy(call->message, sizeof(call->message), "answer is not a JSON object");
		} else {
			call->rc = 0;
			call->json = j;
			j = NULL;
		}
		goto out;
	}
	if (r->errtype[0] != '\0')
		str_copy(call->code, sizeof(call->code), r->errtype);
	if (j != NULL && json_is_object(j)) {
		const char *t = json_string_value(json_object_get(j, "__type"));
		const char *m = json_string_value(json_object_get(j, "message"));

		if (m == NULL)
			m = json_string_value(json_object_get(j, "Message"));
		if (call->code[0] == '\0' && t != NULL) {
			const char *h = strrchr(t, '#');

			str_copy(call->code, sizeof(call->code), h ? h + 1 : t);
			call->code[strcspn(call->code, ":")] = '\0';
		}
		if (m != NULL)
			str_copy(call->message, sizeof(call->message), m);
	} else {
		if (call->code[0] == '\0')
			xml_text(r->resp, "Code", call->code, sizeof(call->code));
		xml_text(r->resp, "Message", call->message, sizeof(call->message));
	}
	if (call->code[0] == '\0')
		str_fmt(call->code, sizeof(call->code), "HTTP%ld", r->status);
	if (r->status == 403 || strcmp(call->code, "AccessDeniedException") == 0 ||
	    strcmp(call->code, "AccessDenied") == 0)
		call->rc = ERR_PERM;
	else if (strcmp(call->code, "ResourceNotFoundException") == 0 ||
		 strcmp(call->code, "ParameterNotFound") == 0)
		call->rc = ERR_NOTFOUND;
	else
		call->rc = ERR_REMOTE;
out:
	if (j != NULL) {
		cloud_json_wipe(j);
		json_decref(j);
	}
}

static int expired_token(const struct aws_call *call)
{
	return strcmp(call->code, "ExpiredTokenException") == 0 ||
	       strcmp(call->code, "ExpiredToken") == 0;
}

int aws_client_run(struct aws_client *c, struct aws_call *calls, size_t n, struct err_ctx *err)
{
	struct cloud_http_req *reqs = xcalloc(AWS_CLIENT_WAVE, sizeof(*reqs));
	struct cloud_http_req *rp[AWS_CLIENT_WAVE];
	struct curl_slist *hdrs[AWS_CLIENT_WAVE] = {0};
	size_t idx[AWS_CLIENT_WAVE];
	size_t left = n;
	int rc = 0;

	if (reqs == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		calls[i].done = 0;
		calls[i].attempts = 0;
		calls[i].not_before_ms = 0;
	}
	while (left > 0) {
		const struct aws_creds *cr = NULL;
		long long now = clock_mono_ms(), wait = -1;
		size_t w = 0;

		for (size_t i = 0; i < n && w < AWS_CLIENT_WAVE; i++) {
			char target[AWS_CLIENT_HDR_MAX];
			long t;

			if (calls[i].done)
				continue;
			if (calls[i].not_before_ms > now) {
				if (wait < 0 || calls[i].not_before_ms - now < wait)
					wait = calls[i].not_before_ms - now;
				continue;
			}
			str_fmt(target, sizeof(target), "%s.%s", target_prefix[calls[i].svc],
				calls[i].action);
			if ((t = aws_retry_take(&c->retry, target, (double)now / 1000.0)) > 0) {
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
		if ((rc = aws_auth_get(c->auth, (int64_t)time(NULL), &cr, err)) != 0) {
			for (size_t i = 0; i < n; i++) {
				if (!calls[i].done) {
					calls[i].rc = rc;
					str_copy(calls[i].code, sizeof(calls[i].code), "NoCredentials");
					calls[i].done = 1;
				}
			}
			goto out;
		}
		for (size_t k = 0; k < w; k++) {
			struct aws_call *call = &calls[idx[k]];

			hdrs[k] = NULL;
			rp[k] = &reqs[k];
			reqs[k] = (struct cloud_http_req){.method = "POST", .url = c->url[call->svc],
							.body = call->body ? call->body->data : NULL,
							.body_len = call->body ? call->body->len : 0};
			if ((rc = build_request(c, cr, call, &hdrs[k])) != 0) {
				err_set(err, rc, "aws: cannot sign %s", call->action);
				goto out;
			}
			reqs[k].headers = hdrs[k];
			log_debug("aws.request", "%s.%s %s (attempt %u)", target_prefix[call->svc],
				  call->action, call->name ? call->name : "", call->attempts + 1);
		}
		rc = cloud_http_perform(c->http, rp, w);
		for (size_t k = 0; k < w; k++) {
			cloud_http_headers_free(hdrs[k]);
			hdrs[k] = NULL;
		}
		if (rc != 0) {
			err_set(err, rc, "aws: HTTP transport failed");
			goto out;
		}
		now = clock_mono_ms();
		for (size_t k = 0; k < w; k++) {
			struct aws_call *call = &calls[idx[k]];
			struct cloud_http_req *r = &reqs[k];

			call->attempts++;
			c->requests++;
			call->code[0] = '\0';
			call->message[0] = '\0';
			if (call->json != NULL) {
				json_decref(call->json);
				call->json = NULL;
			}
			if (r->rc != 0) {
				call->rc = r->rc;
				call->status = 0;
				str_copy(call->code, sizeof(call->code), "Transport");
				str_copy(call->message, sizeof(call->message), r->curl_error);
			} else {
				decode_answer(call, r);
			}
			if (call->rc != 0 && expired_token(call) && call->attempts == 1 &&
			    aws_auth_source(c->auth) != AWS_AUTH_ENV &&
			    aws_auth_source(c->auth) != AWS_AUTH_SECRET) {
				aws_auth_invalidate(c->auth);
				call->not_before_ms = now;
			} else if (call->rc != 0 &&
				   aws_retry_should(r->rc, r->status, call->code) &&
				   call->attempts < AWS_RETRY_MAX_ATTEMPTS) {
				call->not_before_ms =
					now + aws_retry_backoff_ms(&c->retry, call->attempts,
								   r->retry_after);
				log_debug("aws.retry", "%s.%s %s: %s, retrying",
					  target_prefix[call->svc], call->action,
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
	for (size_t k = 0; k < AWS_CLIENT_WAVE; k++) {
		cloud_http_headers_free(hdrs[k]);
		cloud_http_req_reset(&reqs[k]);
	}
	free(reqs);
	return rc;
}

int aws_client_call(struct aws_client *c, struct aws_call *call, struct err_ctx *err)
{
	int rc = aws_client_run(c, call, 1, err);

	if (rc != 0)
		return rc;
	if (call->rc != 0)
		err_set(err, call->rc, "aws %s %s: %s%s%s", call->action, call->name ? call->name : "",
			call->code, call->message[0] ? ": " : "", call->message);
	return call->rc;
}
