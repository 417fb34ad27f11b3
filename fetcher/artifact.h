/* artifact.h — a Flux source artifact (status.artifact of a GitRepository, OCIRepository
 * or Bucket) as a source: download status.artifact.url with libcurl into memory, verify
 * status.artifact.digest over the downloaded bytes, and only then read the tar.gz
 * (archive.h) into a struct tree.
 *
 * Download rules: http:// and https:// only, no redirects, no content decoding (the
 * digest is over the bytes served); the size cap is checked against Content-Length and
 * again while the body streams (write and progress callbacks), so an endless or lying
 * body stops at the cap; connect timeout, low-speed timeout (a stalled server) and a
 * total deadline. A 404 is transient (source-controller garbage-collects old artifacts
 * while a newer revision is being published): it is retried with doubling backoff, as
 * are 429, 5xx and a refused connection; after the last attempt a 404 is reported as
 * "artifact not found (garbage-collected by source-controller?)". Timeouts, the size cap
 * and other 4xx are not retried.
 *
 * The digest is required: "sha256:<hex>", "sha384:<hex>" or "sha512:<hex>" (Flux v1),
 * hex of the algorithm's exact length, either case. A mismatch is refused (ERR_CRYPTO)
 * naming both digests; nothing is extracted. */
#ifndef SMC_FETCHER_ARTIFACT_H
#define SMC_FETCHER_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "fetcher/archive.h"
#include "proto/tree.h"

#define ARTIFACT_MAX_SIZE ((size_t)128 << 20) /* bytes downloaded (compressed) */
#define ARTIFACT_MAX_URL 4096		      /* bytes in a URL */
#define ARTIFACT_MAX_REVISION 1024	      /* bytes in a revision string */
#define ARTIFACT_CONNECT_TIMEOUT_MS 10000L
#define ARTIFACT_LOW_SPEED_TIME_S 30L /* seconds without a byte (or under 1 byte/s) */
#define ARTIFACT_TIMEOUT_MS 300000L   /* whole transfer */
#define ARTIFACT_RETRIES 4	      /* attempts after the first, for transient failures */
#define ARTIFACT_MAX_RETRIES 10
#define ARTIFACT_BACKOFF_MS 500L /* first wait; doubles per retry */
#define ARTIFACT_MAX_BACKOFF_MS 30000L

/* Knobs of one download. Fields 0 → the defaults above (retries: use
 * artifact_opts_default, where 0 means no retry). limits borrowed, NULL → defaults. */
struct artifact_opts {
	size_t max_size;
	long connect_timeout_ms;
	long low_speed_time_s;
	long timeout_ms;
	unsigned retries;
	long backoff_ms;
	const struct archive_limits *limits;
};

/* Fills *o with the defaults. Never fails. */
void artifact_opts_default(struct artifact_opts *o);

/* Checks digest ("<alg>:<hex>") against data[0..size). 0; ERR_INVAL (malformed or
 * missing digest), ERR_UNSUPPORTED (other algorithm), ERR_CRYPTO (mismatch: err names
 * the expected and the actual digest). */
int artifact_digest_check(const void *data, size_t size, const char *digest, struct err_ctx *err);

/* Downloads url (rules above) into *data and *size: owned out-parameters (free()), written
 * on success only. o borrowed, NULL → defaults. ERR_NOTFOUND (404 after the retries),
 * ERR_TIMEOUT, ERR_TOOBIG (cap), ERR_REMOTE (other HTTP status), ERR_IO (connection),
 * ERR_INVAL / ERR_UNSUPPORTED (URL). err never holds the URL's userinfo. */
int artifact_download(const char *url, const struct artifact_opts *o, uint8_t **data, size_t *size,
		      struct err_ctx *err);

/* Downloads url, verifies digest, reads the files under subpath (NULL or "" = all) into *out
 * (initialised here, owned: tree_free) and sets *resolved (owned, free()) to revision,
 * or to the digest when revision is NULL or "". On failure neither is written; err says
 * which step failed. */
int artifact_fetch(const char *url, const char *digest, const char *revision, const char *subpath,
		   const struct artifact_opts *o, struct tree *out, char **resolved,
		   struct err_ctx *err);

#endif
