/* aws_auth.h — the AWS credential chain of the syncer. Keys from the Secret a config names
 * (spec.provider.aws.auth.secretName, sent by the watcher as CREDENTIALS) are that config's
 * explicit choice and used alone; otherwise the source authType names, or else, in this
 * order of preference:
 *   1. web identity (IRSA): role = job.provider.role_arn or AWS_ROLE_ARN, token file =
 *      AWS_WEB_IDENTITY_TOKEN_FILE; assumed through STS AssumeRoleWithWebIdentity (an
 *      unsigned Query call), the token file re-read on every refresh;
 *   2. EKS Pod Identity: GET AWS_CONTAINER_CREDENTIALS_FULL_URI with the Authorization
 *      token read from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (or _TOKEN);
 *   3. static keys: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
 * Temporary credentials are refreshed AWS_AUTH_REFRESH_MARGIN seconds before they expire.
 * The secret key and session token live only in secbufs. Nothing here logs. */
#ifndef SMC_AWS_AUTH_H
#define SMC_AWS_AUTH_H

#include <stdint.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "proto/msg.h"
#include "syncer/providers/http/cloud_http.h"

#define AWS_AUTH_REFRESH_MARGIN 300       /* seconds before expiry */
#define AWS_AUTH_DURATION 3600            /* DurationSeconds asked of STS */
#define AWS_AUTH_MAX_TOKEN ((size_t)16 << 10) /* web identity / pod identity token bytes */
#define AWS_AUTH_MAX_FIELD 4096           /* one credential field */

enum aws_auth_source {
	AWS_AUTH_WEB_IDENTITY = 1,
	AWS_AUTH_POD_IDENTITY,
	AWS_AUTH_ENV,
	AWS_AUTH_SECRET, /* keys from the config's Secret */
};

struct aws_creds {
	char *access_key_id;        /* owned; not secret but never logged either */
	struct secbuf *secret;      /* owned */
	struct secbuf *token;       /* owned, NULL for long-term keys */
	int64_t expires;            /* unix seconds, 0 = does not expire */
};

struct aws_auth_cfg {
	const char *role_arn; /* job.provider.role_arn or NULL (AWS_ROLE_ARN is the fallback) */
	const char *sts_url;  /* endpoint for AssumeRoleWithWebIdentity */
	struct cloud_http *http; /* borrowed, must outlive the auth */
	/* keys from the config's Secret (copied), or NULL: key_id = access key id, secret =
	 * secret access key, token = session token (optional) */
	const struct msg_credentials *secret;
	/* spec.provider.aws.auth.authType: "irsa", "podIdentity" or "accessKeys" narrows the
	 * ambient chain to that one source; "" or NULL keeps the chain */
	const char *auth_type;
};

struct aws_auth;

/* Picks the first source of the chain that is configured; fetches nothing yet.
 * ERR_NOKEY when no source is configured. Owned out-parameter (aws_auth_free). */
int aws_auth_new(const struct aws_auth_cfg *cfg, struct aws_auth **out, struct err_ctx *err);
void aws_auth_free(struct aws_auth *a);
enum aws_auth_source aws_auth_source(const struct aws_auth *a);
/* Current credentials, fetched or refreshed when missing or within the refresh margin
 * of expiry at time now. Borrowed *out, valid until the next aws_auth_get or free. */
int aws_auth_get(struct aws_auth *a, int64_t now, const struct aws_creds **out,
		 struct err_ctx *err);
/* Forces the next aws_auth_get to refresh (after an ExpiredToken answer). */
void aws_auth_invalidate(struct aws_auth *a);

/* Parses ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fff](Z|+00:00)" into unix seconds. */
int aws_auth_parse_time(const char *s, int64_t *out);

#endif
