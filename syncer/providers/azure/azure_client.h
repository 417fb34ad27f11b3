/* azure_client.h — authorised, retried JSON calls to Key Vault and App Configuration:
 * a bearer token per scope (azure_auth.h), concurrent execution (cloud_http.h), retries of
 * transport failures, 429, 500, 502, 503 and 504 with full-jitter exponential backoff
 * (at least Retry-After), one token refresh after a 401, and error decoding (Key Vault's
 * {"error":{"code","innererror":{"code"}}} and App Configuration's problem+json).
 * Request log at debug level: operation and object name only. TLS peers are checked
 * against the system CA store, or the file AZURE_CA_BUNDLE names. */
#ifndef SMC_AZURE_CLIENT_H
#define SMC_AZURE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "syncer/providers/azure/azure_auth.h"
#include "syncer/providers/http/cloud_http.h"

#define AZURE_CLIENT_MAX_REQUEST ((size_t)1 << 20) /* bytes of one JSON request body */
#define AZURE_RETRY_MAX_ATTEMPTS 6		   /* first try + 5 retries */
#define AZURE_RETRY_BASE_MS 100
#define AZURE_RETRY_CAP_MS 20000
#define AZURE_CODE_MAX 64

struct azure_call {
	/* in */
	const char *method;	  /* "GET" ... (borrowed static) */
	char *url;		  /* owned (azure_call_clear frees it) */
	const char *op;		  /* "secrets.set" (borrowed static), for logs and reasons */
	const char *name;	  /* the object, for logs and reasons (borrowed) */
	const char *scope;	  /* token scope (borrowed) */
	const char *content_type; /* of the body, NULL: application/json */
	const char *accept;	  /* NULL: application/json */
	char if_match[140];	  /* "" or an etag / "*" for If-Match */
	char if_none_match[8];	  /* "" or "*" */
	struct secbuf *body;	  /* owned, may be NULL */
	int once_on_5xx; /* not idempotent (a PUT that adds a version, a conditional PUT): no
			  * retry after a transport failure or a 5xx, which may come after the
			  * write was applied; the caller reads back (azure_call_ambiguous).
			  * 429 (refused before any work) and a 401 are still retried */
	/* out */
	int rc; /* 0 on 2xx; ERR_NOTFOUND (404), ERR_PERM (401/403),
		 * ERR_CONFLICT (409/412), ERR_REMOTE, ERR_IO, ERR_TIMEOUT... */
	long status;
	char code[AZURE_CODE_MAX];  /* service error code ("SecretNotFound"), "" on success */
	char inner[AZURE_CODE_MAX]; /* innererror code ("ObjectIsDeletedButRecoverable") */
	char etag[128];
	json_t *json; /* parsed 2xx body, or NULL when empty (owned; wiped) */
	unsigned attempts;
	/* internal */
	long long not_before_ms;
	int done, reauthed;
};

struct azure_client;

/* Sets up transport and credentials (nothing is sent yet). Owned out-parameter. */
int azure_client_new(const struct azure_auth_cfg *acfg, struct azure_client **out,
		     struct err_ctx *err);
void azure_client_free(struct azure_client *c);

/* Runs calls[0..n) concurrently until each is done. Per-call outcome in calls[i].rc; the
 * return value is negative only when no call could be made (no token, transport broken):
 * then err says why and every unfinished call has that rc. */
int azure_client_run(struct azure_client *c, struct azure_call *calls, size_t n,
		     struct err_ctx *err);

/* Frees url, body and json (wiping) and resets the out fields; in fields but url stay. */
void azure_call_clear(struct azure_call *call);
/* Resets the out fields only (before a call object is run again). */
void azure_call_reset(struct azure_call *call);
/* "<code> on <op> for <name>" (code = service code, else "HTTP <status>", else the
 * transport error): the reason of a failed item. Never holds a value. */
void azure_call_reason(const struct azure_call *call, char *dst, size_t dsz);

/* 1 when call failed in a way that leaves its effect unknown: the request went out but
 * the answer was lost (transport failure after sending) or was a 5xx, which Key Vault and
 * App Configuration may send after applying a write. 0 on success, on a definite refusal
 * (4xx, 429) and when nothing was sent (no token). */
int azure_call_ambiguous(const struct azure_call *call);

/* cloud_json_body with the Azure request cap (transfer of j, even on failure). */
int azure_json_body(json_t *j, struct secbuf **out);

/* Milliseconds to wait before retry number attempt (1 = first retry): uniform in
 * [0, min(cap, base * 2^attempt)], at least retry_after seconds when >= 0. rng: state. */
long azure_retry_backoff_ms(uint64_t *rng, unsigned attempt, long retry_after);
/* 1 when an answer is worth retrying: transport failure, 429, 500, 502, 503, 504. */
int azure_retry_should(int rc, long status);

/* Requests sent (attempts included) since azure_client_new, for tests and metrics. */
uint64_t azure_client_requests(const struct azure_client *c);

#endif
