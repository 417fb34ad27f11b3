/* aws_http.h — the HTTP transport of the AWS provider: libcurl easy handles kept in a
 * pool and driven by one multi handle, so connections are reused across calls and a batch
 * of requests runs concurrently. Bodies in both directions live in secbufs (they may carry
 * secret values). No logging, no retries here (aws_client.c decides). */
#ifndef SMC_AWS_HTTP_H
#define SMC_AWS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "common/secbuf.h"

#define AWS_HTTP_MAX_PARALLEL 8                 /* requests in flight at once */
#define AWS_HTTP_MAX_RESPONSE ((size_t)8 << 20) /* bytes of one response body */
#define AWS_HTTP_CONNECT_TIMEOUT_MS 5000L
#define AWS_HTTP_TIMEOUT_MS 30000L              /* whole request */
#define AWS_HTTP_ERRTYPE_MAX 128

struct aws_http;

struct aws_http_req {
	/* in (borrowed) */
	const char *method;          /* "POST" | "GET" */
	const char *url;
	struct curl_slist *headers;  /* complete header list (signed by the caller) */
	const uint8_t *body;
	size_t body_len;
	/* out (filled by aws_http_perform) */
	int rc;                      /* 0: an HTTP answer arrived (any status); ERR_IO/ERR_TIMEOUT */
	long status;
	struct secbuf *resp;         /* owned by the request; aws_http_req_reset frees it */
	char errtype[AWS_HTTP_ERRTYPE_MAX]; /* X-Amzn-ErrorType without ":..." suffix, or "" */
	long retry_after;            /* seconds from Retry-After, or -1 */
	char curl_error[CURL_ERROR_SIZE];
};

/* A transport. ca_file may be NULL (system store). Owned out-parameter (aws_http_free). */
int aws_http_new(const char *ca_file, struct aws_http **out);
void aws_http_free(struct aws_http *h);

/* Runs reqs[0..n) concurrently (at most AWS_HTTP_MAX_PARALLEL at a time) until each has
 * an answer or a transport error. Returns 0, or a negative ERR_* only when the transport
 * itself failed (per-request outcome in reqs[i]->rc). */
int aws_http_perform(struct aws_http *h, struct aws_http_req **reqs, size_t n);

/* Frees the response and clears the out fields, keeping the in fields. */
void aws_http_req_reset(struct aws_http_req *r);

#endif
