/* gcp_client.h — authorised JSON calls to Secret Manager and Parameter Manager v1: base
 * URLs (job.provider.endpoint serves both APIs, else the public hosts), bearer tokens
 * (gcp_auth.h; a 401 renews the token once), a token bucket per API method class sized
 * from the published per-minute quotas, full-jitter exponential backoff on 429, 5xx and
 * transport failures honouring Retry-After, concurrent execution over reused connections
 * (cloud_http.h), and Google error decoding ({"error":{"code","status","message"}}). The
 * request log (debug) names the method and the resource, never a body or a token.
 * TLS: the system CA store, or the bundle SSL_CERT_FILE names (the sandboxed syncer can read
 * it only under /etc/ssl or next to GOOGLE_APPLICATION_CREDENTIALS). */
#ifndef SMC_GCP_CLIENT_H
#define SMC_GCP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "proto/msg.h"
#include "syncer/providers/gcp/gcp_auth.h"
#include "syncer/providers/http/cloud_http.h"

#define GCP_CLIENT_MAX_REQUEST ((size_t)1 << 20) /* bytes of one JSON request body */
#define GCP_CLIENT_MAX_PATH 1024
#define GCP_RETRY_MAX_ATTEMPTS 6 /* first try + 5 retries */
#define GCP_RETRY_BASE_MS 100
#define GCP_RETRY_CAP_MS 20000

enum gcp_api { GCP_API_SM = 0, GCP_API_PM = 1, GCP_API_N = 2 };

struct gcp_client_cfg {
	const char *project;  /* job.provider.project_id or NULL (GOOGLE_CLOUD_PROJECT) */
	const char *endpoint; /* job.provider.endpoint or NULL (public hosts) */
	const struct msg_credentials *creds; /* the config's Secret, or NULL */
	const char *auth_type; /* job.provider.auth_type: NULL/"" (any source), "jsonCredentials"
				* or "workloadIdentity" (gcp_auth_new) */
};

struct gcp_call {
	/* in */
	enum gcp_api api;
	const char *method; /* "GET" | "POST" | "PATCH" | "DELETE" (borrowed static) */
	const char *op;	    /* "secrets.addVersion" (borrowed static): logs, errors, quotas */
	char path[GCP_CLIENT_MAX_PATH]; /* after ".../v1/": "projects/p/secrets/x:addVersion" */
	const char *query;		/* extra query text without '?', or NULL (borrowed) */
	struct secbuf *body; /* JSON request (owned: gcp_call_clear frees it), may be NULL */
	int once_on_5xx;     /* not idempotent: no retry after a 500/502/504 or a lost answer
			      * (the caller reads back what happened); 429 RESOURCE_EXHAUSTED
			      * and 503 UNAVAILABLE (refused before any work) are retried */
	/* out */
	int rc; /* 0 on 2xx; ERR_NOTFOUND 404, ERR_PERM 401/403, ERR_CONFLICT 409,
		 * ERR_REMOTE other statuses, ERR_IO/ERR_TIMEOUT transport */
	long status;
	char code[48];	   /* Google status ("NOT_FOUND"), "" on success */
	char message[256]; /* Google's message (never holds a value of ours) */
	json_t *json;	   /* parsed 2xx body (owned; strings wiped by gcp_call_clear) */
	unsigned attempts;
	/* internal */
	long long not_before_ms;
	int done, renewed;
};

struct gcp_client;

int gcp_client_new(const struct gcp_client_cfg *cfg, struct gcp_client **out, struct err_ctx *err);
void gcp_client_free(struct gcp_client *c);
const char *gcp_client_project(const struct gcp_client *c);

/* Runs calls[0..n) concurrently until each is done; per-call outcome in calls[i].rc. The
 * return value is negative only when nothing could be sent (no token, transport broken). */
int gcp_client_run(struct gcp_client *c, struct gcp_call *calls, size_t n, struct err_ctx *err);
/* Frees body and json (wiping both) and resets the out fields. */
void gcp_call_clear(struct gcp_call *call);
/* "PERMISSION_DENIED on secrets.addVersion for projects/p/secrets/x" into dst. */
void gcp_call_reason(const struct gcp_call *call, char *dst, size_t dsz);

/* Requests sent (attempts included) since gcp_client_new. */
uint64_t gcp_client_requests(const struct gcp_client *c);
/* Full-jitter wait before retry `attempt` (1 = first): uniform in [0, min(cap, base*2^a)],
 * at least retry_after seconds when >= 0. */
long gcp_client_backoff_ms(struct gcp_client *c, unsigned attempt, long retry_after);
/* Published quota of an op, requests per second. */
double gcp_client_quota(const char *op);

#endif
