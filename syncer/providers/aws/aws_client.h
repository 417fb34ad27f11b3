/* aws_client.h — signed JSON 1.1 calls to Secrets Manager and SSM: endpoint and region
 * resolution, SigV4 signing per attempt, client-side rate limits and retries
 * (aws_retry.h), concurrent execution (cloud_http.h), error decoding (botocore's rules:
 * __type after the last '#' and before ':', X-Amzn-ErrorType, or the XML Code moto sends
 * in auth mode). Request log at debug level: action and object name only. */
#ifndef SMC_AWS_CLIENT_H
#define SMC_AWS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "syncer/providers/aws/aws_auth.h"
#include "syncer/providers/http/cloud_http.h"
#include "syncer/providers/aws/aws_retry.h"

#define AWS_CLIENT_MAX_REQUEST ((size_t)1 << 20) /* bytes of one JSON request body */

enum aws_svc { AWS_SVC_SECRETS = 0, AWS_SVC_SSM = 1, AWS_SVC_STS = 2, AWS_SVC_N = 3 };

struct aws_client_cfg {
	const char *region;   /* job.provider.region or NULL (AWS_REGION, AWS_DEFAULT_REGION) */
	const char *endpoint; /* job.provider.endpoint or NULL (AWS_ENDPOINT_URL[_<SVC>]) */
	const char *role_arn; /* job.provider.role_arn or NULL */
	const struct msg_credentials *secret; /* keys from the config's Secret, or NULL */
	const char *auth_type; /* job.provider.auth_type (narrows the chain), or NULL */
};

struct aws_call {
	/* in */
	enum aws_svc svc;
	const char *action;    /* "PutSecretValue" (borrowed static) */
	const char *name;      /* object the call is about, for logs and errors (borrowed) */
	struct secbuf *body;   /* JSON request (owned by the call: aws_call_clear frees it) */
	/* out */
	int rc;                /* 0 on 2xx; ERR_PERM (403), ERR_NOTFOUND, ERR_REMOTE, ERR_IO... */
	long status;
	char code[CLOUD_HTTP_ERRTYPE_MAX]; /* AWS error code, "" on success */
	char message[256];     /* AWS error message (from AWS; holds no value of ours) */
	json_t *json;          /* parsed 2xx body (owned; strings wiped by aws_call_clear) */
	unsigned attempts;
	/* internal */
	long long not_before_ms;
	int done;
};

struct aws_client;

/* Resolves region and endpoints and sets up transport and credentials (nothing is sent
 * yet). Owned out-parameter (aws_client_free). */
int aws_client_new(const struct aws_client_cfg *cfg, struct aws_client **out,
		   struct err_ctx *err);
void aws_client_free(struct aws_client *c);
const char *aws_client_region(const struct aws_client *c);

/* Runs calls[0..n) concurrently with signing, rate limits and retries until each is done.
 * Per-call outcome in calls[i].rc; the return value is negative only when no call could be
 * made at all (no credentials, transport broken). */
int aws_client_run(struct aws_client *c, struct aws_call *calls, size_t n,
		   struct err_ctx *err);
/* One call; returns its rc (err says which action and name failed). */
int aws_client_call(struct aws_client *c, struct aws_call *call, struct err_ctx *err);

/* cloud_json_body with the AWS request cap (transfer of req, even on failure). */
int aws_json_body(json_t *req, struct secbuf **out);
/* Frees body and json (wiping both) and resets the out fields. */
void aws_call_clear(struct aws_call *call);

/* Requests sent (attempts included) since aws_client_new, for tests and metrics. */
uint64_t aws_client_requests(const struct aws_client *c);

#endif
