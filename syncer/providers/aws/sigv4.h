/* sigv4.h — AWS Signature Version 4 (header form), hand-written because no packaged C
 * library does it (STYLE.md rule 8). Pure: no clock, no I/O; the caller passes the
 * X-Amz-Date value and every header to sign (including X-Amz-Date itself, Host and, with
 * temporary credentials, X-Amz-Security-Token). Checked against AWS's published suite
 * (tests/unit/syncer/test_sigv4.c). Nothing here logs; a signature is never logged. */
#ifndef SMC_SIGV4_H
#define SMC_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#define SIGV4_MAX_HEADERS 32          /* headers one request may sign */
#define SIGV4_MAX_QUERY_PARAMS 64     /* query parameters one request may sign */
#define SIGV4_MAX_TEXT ((size_t)64 << 10) /* canonical request without the body */
#define SIGV4_AMZ_DATE_LEN 16         /* YYYYMMDDTHHMMSSZ */

struct sigv4_header {
	const char *name;  /* any case; borrowed */
	const char *value; /* raw value; borrowed. A repeated name is joined with ',' */
};

struct sigv4_request {
	const char *method;
	const char *path;  /* raw absolute path, not yet URI-encoded ("/" for JSON APIs) */
	const char *query; /* raw query string without '?', may be NULL or "" */
	const struct sigv4_header *headers;
	size_t nheaders;
	const void *body;  /* may be NULL when body_len is 0 */
	size_t body_len;
};

struct sigv4_key {
	const char *access_key_id;
	const uint8_t *secret; /* secret access key bytes (borrowed, from a secbuf) */
	size_t secret_len;
	const char *region;
	const char *service;
	const char *amz_date;  /* YYYYMMDDTHHMMSSZ, also sent as X-Amz-Date */
};

struct sigv4_out {
	char *canonical_request; /* owned */
	char *string_to_sign;    /* owned */
	char *authorization;     /* owned: the Authorization header value */
};

/* Signs req. Owned out-parameter (sigv4_out_free). ERR_INVAL on a malformed request or
 * date, ERR_TOOBIG past the limits above, ERR_CRYPTO when OpenSSL fails. */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_key *key,
	       struct sigv4_out *out);
/* Frees the strings (wiping the authorization). NULL is a no-op. */
void sigv4_out_free(struct sigv4_out *out);

/* lowercase hex SHA-256 of p[0..n) into hex[65]. 0 or ERR_CRYPTO. */
int sigv4_sha256_hex(const void *p, size_t n, char hex[65]);
/* "YYYYMMDDTHHMMSSZ" for t (UTC) into out[17]. */
int sigv4_amz_date(long long t, char out[SIGV4_AMZ_DATE_LEN + 1]);

#endif
