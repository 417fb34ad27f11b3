/* provider_creds.h — the cloud credentials a config names in
 * spec.provider.<kind>.auth.secretName, read from that Kubernetes Secret by the watcher
 * (the only process with the kube token) into a CREDENTIALS message for the syncer (the
 * only process that may hold cloud credentials). The fetcher and decryptor never see them.
 *
 * Keys read from the Secret's data (the first present name of each row is used):
 *   aws    key_id  aws_access_key_id | AWS_ACCESS_KEY_ID | access-key-id | accessKeyId
 *          secret  aws_secret_access_key | AWS_SECRET_ACCESS_KEY | secret-access-key |
 *                  secretAccessKey
 *          token   aws_session_token | AWS_SESSION_TOKEN | session-token | sessionToken
 *                  (optional)
 *   gcp    secret  auth.secretKey, default credentials.json | key.json (a service account
 *                  JSON key)
 *   azure  key_id  spec auth.clientId, else clientId | client-id | AZURE_CLIENT_ID
 *          secret  auth.secretKey, default clientSecret | client-secret |
 *                  AZURE_CLIENT_SECRET */
#ifndef SMC_PROVIDER_CREDS_H
#define SMC_PROVIDER_CREDS_H

#include <jansson.h>

#include "common/err.h"
#include "proto/msg.h"

#define PROVIDER_CREDS_MAX_FIELD ((size_t)16 << 10) /* one credential field, decoded */

/* The namespace the Secret is read from: auth.secretNamespace, else the config's own. */
const char *provider_creds_namespace(const struct job *job);

/* Fills out (msg_init'ed by the caller as MSG_CREDENTIALS; job_id left 0) from the Secret
 * object for job's provider. ERR_NOKEY when a required key is missing, ERR_INVAL when a
 * value is not base64, holds a NUL byte or is too large; err names the Secret and the key,
 * never a value. On failure out holds nothing. */
int provider_creds_from_secret(const json_t *secret, const struct job *job,
			       struct msg_credentials *out, struct err_ctx *err);

#endif
