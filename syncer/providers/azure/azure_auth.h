/* azure_auth.h — Microsoft Entra ID access tokens for the Azure provider.
 * Sources, first usable wins when the config has no authType (the config's Secret, when
 * given, is used alone):
 *   1. config Secret (creds): client credentials, creds->key_id = client id,
 *      creds->secret = client secret, tenant = spec tenantId, else AZURE_TENANT_ID;
 *   2. workload identity: AZURE_FEDERATED_TOKEN_FILE + client id (spec clientId, else
 *      AZURE_CLIENT_ID) + tenant (spec tenantId, else AZURE_TENANT_ID): a client_assertion
 *      grant; the token file is re-read on every refresh (the kubelet rotates it);
 *   3. AZURE_CLIENT_SECRET + AZURE_CLIENT_ID + AZURE_TENANT_ID: client credentials;
 *   4. managed identity: IMDS (http://169.254.169.254, or AZURE_IMDS_ENDPOINT /
 *      IDENTITY_ENDPOINT for tests and App Service) with `Metadata: true`.
 * spec.provider.azure.auth.authType narrows the chain (cfg->auth_type, validated and
 * lowerCamel already; NULL or "" = the whole chain above):
 *   workloadIdentity: 2 only (no token file, client id or tenant: an error naming them);
 *   servicePrincipal: 1, else 3 (never IMDS or the token file);
 *   managedIdentity:  4 only (spec clientId, else AZURE_CLIENT_ID: user-assigned identity).
 * Token endpoint: $AZURE_AUTHORITY_HOST (default https://login.microsoftonline.com/)
 * {tenant}/oauth2/v2.0/token. One token per scope, cached, refreshed 5 minutes before it
 * expires; azure_auth_invalidate drops one (after a 401). Tokens, client secrets and
 * assertions live only in secbufs and are wiped. No logging here beyond debug lines that
 * name the source and the scope. */
#ifndef SMC_AZURE_AUTH_H
#define SMC_AZURE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "proto/msg.h"
#include "syncer/providers/http/cloud_http.h"

#define AZURE_AUTH_MAX_SCOPES 4	      /* audiences cached per job */
#define AZURE_AUTH_REFRESH_MARGIN 300 /* seconds before expiry a token is renewed */
#define AZURE_AUTH_MAX_TOKEN_FILE ((size_t)64 << 10)
#define AZURE_AUTH_MAX_ID 128 /* bytes of a tenant or client id */
#define AZURE_AUTH_DEFAULT_AUTHORITY "https://login.microsoftonline.com/"
#define AZURE_AUTH_DEFAULT_IMDS "http://169.254.169.254"
#define AZURE_AUTH_TYPE_FIELD "spec.provider.azure.auth.authType"
#define AZURE_AUTH_TYPE_WORKLOAD "workloadIdentity"
#define AZURE_AUTH_TYPE_SP "servicePrincipal"
#define AZURE_AUTH_TYPE_MI "managedIdentity"

enum azure_auth_source {
	AZURE_AUTH_SECRET = 0,	 /* the config's Secret */
	AZURE_AUTH_WORKLOAD = 1, /* federated token file */
	AZURE_AUTH_ENV = 2,	 /* AZURE_CLIENT_SECRET */
	AZURE_AUTH_IMDS = 3,	 /* managed identity */
};

struct azure_auth_cfg {
	const struct msg_credentials *creds; /* the config's Secret, or NULL */
	const char *tenant_id;		     /* spec tenantId or NULL */
	const char *client_id;		     /* spec clientId or NULL */
	const char *auth_type;		     /* spec authType: NULL/"" = whole chain */
	struct cloud_http *http;	     /* borrowed transport */
};

struct azure_auth;

/* Picks the source (nothing is sent yet). Owned out-parameter (azure_auth_free). */
int azure_auth_new(const struct azure_auth_cfg *cfg, struct azure_auth **out, struct err_ctx *err);
void azure_auth_free(struct azure_auth *a);
enum azure_auth_source azure_auth_source(const struct azure_auth *a);
/* "secret", "workload-identity", "client-secret-env", "managed-identity". Static. */
const char *azure_auth_source_name(enum azure_auth_source s);

/* A token for scope ("https://vault.azure.net/.default"), from the cache or fetched.
 * *tok is borrowed: valid until the next azure_auth_token/invalidate/free. */
int azure_auth_token(struct azure_auth *a, const char *scope, int64_t now,
		     const struct secbuf **tok, struct err_ctx *err);
/* Drops the cached token of scope (the next call fetches a new one). */
void azure_auth_invalidate(struct azure_auth *a, const char *scope);

/* ---- pure helpers (exposed for tests) ---- */

/* Appends "key=value" form-encoded (application/x-www-form-urlencoded: unreserved bytes
 * as is, space as '+', others %XX), preceded by '&' when b is not empty. */
int azure_form_add(struct secbuf *b, const char *key, const uint8_t *v, size_t n);
/* Parses a token endpoint or IMDS answer: access_token, and expires_in (number or string)
 * or expires_on (epoch seconds, number or string). Owned *tok, *expires_at (epoch s). */
int azure_auth_parse_token(const uint8_t *p, size_t n, int64_t now, struct secbuf **tok,
			   int64_t *expires_at, struct err_ctx *err);
/* 1 when the cached token expiring at exp (fetched at got) must be renewed at now. */
int azure_auth_needs_refresh(int64_t got, int64_t exp, int64_t now);
/* {authority}{tenant}/oauth2/v2.0/token, authority with one '/' added when missing.
 * Owned *out (free()). */
int azure_auth_token_url(const char *authority, const char *tenant, char **out);
/* 1 when s is a usable tenant or client id ([A-Za-z0-9.-], 1..AZURE_AUTH_MAX_ID). */
int azure_auth_valid_id(const char *s);

#endif
