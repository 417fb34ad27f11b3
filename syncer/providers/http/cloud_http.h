/* cloud_http.h — the HTTP transport of every cloud provider (AWS, GCP, Azure): libcurl
 * easy handles kept in a pool under one multi handle, so connections are reused across
 * calls and a batch of requests runs concurrently. Any method (GET, PUT, PATCH, DELETE,
 * POST). Bodies in both directions live in secbufs (they may carry secret values or
 * tokens). No logging and no retries here: each provider's client and auth decide. */
#ifndef SMC_CLOUD_HTTP_H
#define SMC_CLOUD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "common/secbuf.h"

#define CLOUD_HTTP_MAX_PARALLEL 8		  /* requests in flight at once */
#define CLOUD_HTTP_MAX_RESPONSE ((size_t)8 << 20) /* bytes of one response body */
#define CLOUD_HTTP_CONNECT_TIMEOUT_MS 5000L
#define CLOUD_HTTP_TIMEOUT_MS 30000L /* whole request */
#define CLOUD_HTTP_ERRTYPE_MAX 128

struct cloud_http;

struct cloud_http_req {
	/* in (borrowed) */
	const char *method; /* "GET" | "PUT" | "PATCH" | "DELETE" | "POST" */
	const char *url;
	struct curl_slist *headers; /* complete header list */
	const uint8_t *body;	    /* may be NULL */
	size_t body_len;
	/* out (filled by cloud_http_perform) */
	int rc; /* 0: an HTTP answer arrived (any status); ERR_IO/ERR_TIMEOUT */
	long status;
	struct secbuf *resp; /* owned by the request; cloud_http_req_reset frees it */
	long retry_after;    /* seconds from Retry-After (or retry-after-ms rounded up), or -1 */
	char etag[128];	     /* ETag header, "" when absent */
	/* X-Amzn-ErrorType without its ":..." suffix (AWS), "" when absent */
	char errtype[CLOUD_HTTP_ERRTYPE_MAX];
	char curl_error[CURL_ERROR_SIZE];
};

/* A transport. ca_file may be NULL (system store). Owned out-parameter (cloud_http_free). */
int cloud_http_new(const char *ca_file, struct cloud_http **out);
void cloud_http_free(struct cloud_http *h);

/* Runs reqs[0..n) concurrently (at most CLOUD_HTTP_MAX_PARALLEL at a time) until each has
 * an answer or a transport error. Returns 0, or a negative ERR_* only when the transport
 * itself failed (per-request outcome in reqs[i]->rc). */
int cloud_http_perform(struct cloud_http *h, struct cloud_http_req **reqs, size_t n);

/* Wipes every line of a header list (they carry tokens and signatures), then frees it.
 * NULL is a no-op. */
void cloud_http_headers_free(struct curl_slist *l);

/* Frees the response and clears the out fields, keeping the in fields. */
void cloud_http_req_reset(struct cloud_http_req *r);

/* Seconds of a Retry-After header value (delta-seconds only), or -1. */
long cloud_http_retry_after(const char *v);

#endif
