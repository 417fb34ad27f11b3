/* gcp_auth.h — OAuth2 access tokens for the GCP provider. With no authType, from the first
 * source that applies:
 *   1. the credentials Secret the config names (creds->secret: a service-account JSON
 *      key), used alone;
 *   2. GOOGLE_APPLICATION_CREDENTIALS naming a service-account JSON key file;
 *   3. the metadata server (GKE Workload Identity, GCE): GET
 *      http://$GCE_METADATA_HOST/computeMetadata/v1/instance/service-accounts/default/token
 *      with Metadata-Flavor: Google (host defaults to metadata.google.internal).
 * spec.provider.gcp.auth.authType narrows the chain: "jsonCredentials" takes 1 or 2 and
 * never the metadata server (neither → an error); "workloadIdentity" takes 3 only
 * (GOOGLE_APPLICATION_CREDENTIALS is ignored; a credentials Secret is refused).
 * A service-account key signs an RS256 JWT (header alg/typ/kid; claims iss, scope
 * cloud-platform, aud = token_uri, iat, exp = iat + 3600) POSTed to its token_uri as a
 * jwt-bearer grant. The token is cached until 5 minutes before it expires (half its life
 * when that is shorter); a 401 from an API invalidates it (gcp_auth_invalidate).
 * external_account (workload identity federation) and authorized_user files are refused
 * with an error naming the type. Private keys,
 * assertions and tokens live only in secbufs. No logging. */
#ifndef SMC_GCP_AUTH_H
#define SMC_GCP_AUTH_H

#include <stdint.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "proto/msg.h"
#include "syncer/providers/http/cloud_http.h"

#define GCP_AUTH_SCOPE "https://www.googleapis.com/auth/cloud-platform"
#define GCP_AUTH_DEFAULT_TOKEN_URI "https://oauth2.googleapis.com/token"
#define GCP_AUTH_METADATA_HOST "metadata.google.internal"
#define GCP_AUTH_JWT_LIFETIME 3600
#define GCP_AUTH_REFRESH_EARLY 300 /* seconds before expiry a token is renewed */
#define GCP_AUTH_MAX_KEY_FILE ((size_t)64 << 10)
/* spec.provider.gcp.auth.authType values (first letter lower-cased by smconfig) */
#define GCP_AUTH_TYPE_WI "workloadIdentity"
#define GCP_AUTH_TYPE_JSON "jsonCredentials"

enum gcp_auth_source { GCP_AUTH_SECRET = 0, GCP_AUTH_FILE = 1, GCP_AUTH_METADATA = 2 };

struct gcp_sa_key {
	char *client_email;	    /* owned */
	char *private_key_id;	    /* owned, may be NULL */
	char *token_uri;	    /* owned */
	struct secbuf *private_key; /* PEM, owned */
};

/* Parses a service-account JSON key (json[0..n)). origin names it in errors. Owned
 * out-parameter (gcp_sa_key_clear). Another "type" is refused, naming the type. */
int gcp_sa_key_parse(const uint8_t *json, size_t n, const char *origin, struct gcp_sa_key *out,
		     struct err_ctx *err);
void gcp_sa_key_clear(struct gcp_sa_key *k);
/* The signed assertion "<b64url header>.<b64url claims>.<b64url RS256 signature>" for k at
 * time iat. Owned out-parameter. */
int gcp_jwt_sign(const struct gcp_sa_key *k, const char *scope, int64_t iat, struct secbuf **out,
		 struct err_ctx *err);

struct gcp_auth;

/* Chooses the source (reads the key file now) as auth_type allows: NULL or "" (the whole
 * chain), GCP_AUTH_TYPE_JSON or GCP_AUTH_TYPE_WI; any other value is refused. creds and
 * auth_type are borrowed for the call; http is borrowed and must outlive the auth.
 * Owned out-parameter (gcp_auth_free). */
int gcp_auth_new(const struct msg_credentials *creds, const char *auth_type,
		 struct cloud_http *http, struct gcp_auth **out, struct err_ctx *err);
void gcp_auth_free(struct gcp_auth *a);
/* A valid access token at time now (seconds since the epoch), fetched when needed.
 * Borrowed: valid until the next gcp_auth_token / gcp_auth_invalidate / gcp_auth_free. */
int gcp_auth_token(struct gcp_auth *a, int64_t now, const struct secbuf **tok, struct err_ctx *err);
void gcp_auth_invalidate(struct gcp_auth *a);
enum gcp_auth_source gcp_auth_source(const struct gcp_auth *a);
/* Tokens fetched since gcp_auth_new (for tests). */
unsigned gcp_auth_fetches(const struct gcp_auth *a);

#endif
