/* gcp_http.h — the HTTP transport of the GCP provider: libcurl easy handles kept in a pool
 * under one multi handle, so connections are reused across calls and a batch of requests
 * runs concurrently. Methods GET, POST, PATCH, DELETE. Bodies in both directions live in
 * secbufs (they may carry secret values or tokens). No logging and no retries here
 * (gcp_client.c and gcp_auth.c decide). */
#ifndef SMC_GCP_HTTP_H
#define SMC_GCP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "common/secbuf.h"

#define GCP_HTTP_MAX_PARALLEL 8			/* requests in flight at once */
#define GCP_HTTP_MAX_RESPONSE ((size_t)8 << 20) /* bytes of one response body */
#define GCP_HTTP_CONNECT_TIMEOUT_MS 5000L
#define GCP_HTTP_TIMEOUT_MS 30000L /* whole request */

struct gcp_http;

struct gcp_http_req {
	/* in (borrowed) */
	const char *method; /* "GET" | "POST" | "PATCH" | "DELETE" */
	const char *url;
	struct curl_slist *headers; /* complete header list */
	const uint8_t *body;
	size_t body_len;
	/* out (filled by gcp_http_perform) */
	int rc; /* 0: an HTTP answer arrived (any status); ERR_IO/ERR_TIMEOUT */
	long status;
	struct secbuf *resp; /* owned by the request; gcp_http_req_reset frees it */
	long retry_after;    /* seconds from Retry-After, or -1 */
	char curl_error[CURL_ERROR_SIZE];
};

/* A transport. ca_file may be NULL (system store). Owned out-parameter (gcp_http_free). */
int gcp_http_new(const char *ca_file, struct gcp_http **out);
void gcp_http_free(struct gcp_http *h);

/* Runs reqs[0..n) concurrently (at most GCP_HTTP_MAX_PARALLEL at a time) until each has an
 * answer or a transport error. Returns 0, or a negative ERR_* only when the transport itself
 * failed (per-request outcome in reqs[i]->rc). */
int gcp_http_perform(struct gcp_http *h, struct gcp_http_req **reqs, size_t n);

/* Frees the response and clears the out fields, keeping the in fields. */
void gcp_http_req_reset(struct gcp_http_req *r);

#endif
