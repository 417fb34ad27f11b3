/* aws_secrets.h — AWS Secrets Manager as a secret store (JSON 1.1 protocol).
 *
 * One sync, for the secrets of one config:
 *   1. ListSecrets filtered on the owner tag (IncludePlannedDeletion, paginated): what this
 *      config owns, its current versions and what is scheduled for deletion;
 *   2. RestoreSecret for owned secrets scheduled for deletion that Git still has;
 *   3. BatchGetSecretValue, 20 names per call (GetSecretValue per name if a batch fails):
 *      current values, compared in constant time;
 *   4. PutSecretValue only where the value differs (drift or a Git change), with a
 *      ClientRequestToken = UUID-formatted HMAC-SHA256(per-process random key, name,
 *      current version id, value) — a retried write cannot make a second version, the raw
 *      value never leaves in the token, and A→B→A still writes A again;
 *   5. CreateSecret (with both ownership tags and a token) for names not owned; on
 *      ResourceExistsException DescribeSecret decides: ours → compare/put, not ours →
 *      REFUSED, or adopted (TagResource, then compare/put) when adoptExisting;
 *   6. owned secrets that left Git: per policy. Secrets Manager has no disabled state, so
 *      deletionPolicy Disable keeps the secret (RETAINED, reason says why); Delete schedules
 *      deletion with RecoveryWindowInDays (AWS_SM_RECOVERY_DAYS), never forced.
 * No transaction exists on AWS: every write is made when sync runs and stays. */
#ifndef SMC_AWS_SECRETS_H
#define SMC_AWS_SECRETS_H

#include <stddef.h>

#include "common/err.h"
#include "syncer/provider.h"
#include "syncer/providers/aws/aws_client.h"

#define AWS_SM_BATCH 20            /* BatchGetSecretValue SecretIdList maximum */
#define AWS_SM_LIST_PAGE 100       /* ListSecrets MaxResults maximum */
#define AWS_SM_MAX_PAGES 1000      /* ListSecrets pages followed at most */
#define AWS_SM_RECOVERY_DAYS 7     /* RecoveryWindowInDays of a pruning delete */
#define AWS_SM_MAX_NAME 512
#define AWS_SM_MAX_VALUE 65536     /* SecretString / SecretBinary size limit */

/* Makes Secrets Manager mirror items for the owner "<ns>/<name>" (provider.h semantics).
 * Outcomes go to rep; returns negative only when the store is unusable. */
int aws_secrets_sync(struct aws_client *c, const struct job *job, const char *owner,
		     const struct desired *items, size_t n, struct report *rep,
		     struct err_ctx *err);

/* 1 when name is a valid Secrets Manager name (A-Za-z0-9 /_+=.@- , 1..512). */
int aws_secrets_valid_name(const char *name);

/* The idempotency token for writing value to name over version (may be NULL): 36-char
 * UUID text into out[37]. */
int aws_secrets_request_token(const char *name, const char *version, const struct secbuf *value,
			      char out[37]);

#endif
