#!/usr/bin/env python3
"""A fake Azure for smc's tests: Key Vault secrets, App Configuration key-values, the
Microsoft Entra token endpoint and the managed-identity (IMDS) endpoint, in one server.

  python3 tests/fakes/azure_server.py --port P [--tls-port Q --cert-dir D]
      [--client ID:SECRET]... [--federated-token FILE] [--tenant T] [--accept-any-token]
      [--appconfig-credential ID:BASE64SECRET] [--kv-page-size N] [--bind 127.0.0.1]

Stdlib only. --port 0 / --tls-port 0 pick free ports. With --tls-port, --cert-dir D holds
the TLS material: D/server.crt + D/server.key are used when present (D/ca.crt is the CA the
test trusts); otherwise the fake makes them with the openssl CLI (CA "smc-fake-azure-ca",
leaf for DNS:localhost, IP:127.0.0.1, IP:::1) and writes D/ca.crt, D/server.crt,
D/server.key. It writes D/ports ("http P\nhttps Q\n") when --cert-dir is given, then prints
"ready" on stdout once every listener accepts. SIGTERM/SIGINT stop it.

Routing is by path only (any Host header). Absolute URLs in answers (secret ids, nextLink,
the challenge's authority) are built from the request's scheme and Host header.

Auth (data plane)
  Every Key Vault and App Configuration request needs "Authorization: Bearer <token>" where
  the token was issued by this fake (token endpoint, IMDS, or POST /_fake/token), is not
  expired and has the right audience: "https://vault.azure.net" for Key Vault;
  "https://<anything>.azconfig.io" or "https://azconfig.io" for App Configuration.
  --accept-any-token admits any Bearer value. App Configuration also accepts HMAC-SHA256
  (wire doc §3.4) signed with the --appconfig-credential (default id "smc-fake-appconfig",
  secret base64 "c21jLWZha2UtYXBwY29uZmlnLXNlY3JldA=="; connection string
  "Endpoint=https://127.0.0.1:Q;Id=smc-fake-appconfig;Secret=c21jLWZha2UtYXBwY29uZmlnLXNlY3JldA==").
  Key Vault without/with a bad token: 401, body {"error":{"code":"Unauthorized",...}} and
    WWW-Authenticate: Bearer authorization="<scheme>://<Host>/<tenant>", resource="https://vault.azure.net"
  App Configuration without/with bad auth: 401 with WWW-Authenticate: HMAC-SHA256, Bearer.
  Tokens are opaque JWT-shaped strings (aud, tid, appid, exp claims; unsigned), lifetime 3599 s
  (POST /_fake/config {"token_lifetime": s} changes it for new tokens).

Microsoft Entra token endpoint: POST /{tenant}/oauth2/v2.0/token (form-encoded)
  grant_type=client_credentials, scope=<audience>/.default, and either
    client_id + client_secret (registered with --client ID:SECRET, repeatable), or
    client_id + client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
      + client_assertion = the current contents (stripped) of --federated-token FILE
      (re-read on each request, so a test may rotate it; any client_id is accepted).
  → 200 {"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"..."}
  Unknown client_id → 400 {"error":"unauthorized_client",...}; wrong secret or assertion →
  401 {"error":"invalid_client",...}; missing/bad scope → 400 invalid_scope; other grant
  → 400 unsupported_grant_type; missing fields → 400 invalid_request. With --tenant T only
  tenant T (path segment) is accepted (else 400 invalid_request, AADSTS90002); the
  challenge names T (default tenant "00000000-0000-0000-0000-00000000fa4e").
Managed identity: GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R
  [&client_id=..] with header "Metadata: true" (400 without) → 200 {"access_token",
  "expires_in":"3599","expires_on":"<epoch>","not_before","resource","token_type":"Bearer",
  "client_id"} (strings, as the real IMDS sends them).

Key Vault secrets (api-version 7.0–7.6, 2025-07-01, 2026-04-01; query names URL-decoded)
  PUT    /secrets/{name}                 {"value","tags","contentType","attributes":{"enabled"}}
                                          → 200 SecretBundle, new 32-hex version
  GET    /secrets/{name}[/][{version}]    → SecretBundle (latest = newest version)
  GET    /secrets?maxresults=N            → {"value":[SecretItem],"nextLink":url|null} (N ≤ 25)
  GET    /secrets/{name}/versions         → same shape, one item per version
  PATCH  /secrets/{name}[/{version}]      {"attributes":{"enabled"},"tags","contentType"}
  DELETE /secrets/{name}                  → DeletedSecretBundle (soft delete, 90 days)
  GET    /deletedsecrets[/{name}]         POST /deletedsecrets/{name}/recover
  DELETE /deletedsecrets/{name}           → 204 (purge)
  Errors {"error":{"code","message","innererror":{"code"}}}: 404 SecretNotFound; 403
  Forbidden "Operation get is not allowed on a disabled secret." (innererror SecretDisabled);
  409 Conflict for a PUT/DELETE on a soft-deleted name (innererror
  ObjectIsDeletedButRecoverable); 400 BadParameter (name not [0-9A-Za-z-]{1,127}, value
  missing or > 25 KiB, bad api-version, bad maxresults).
App Configuration key-values (api-version 1.0, 2019-07-01, 2022-11-01-preview, 2023-10-01,
  2023-11-01, 2024-09-01, 2026-04-01)
  PUT    /kv/{key}?label=L   {"value","content_type","tags"} If-Match / If-None-Match: * → 412
  GET    /kv/{key}?label=L   If-None-Match: "<etag>" → 304; missing → 404
  DELETE /kv/{key}?label=L   → 200 with the deleted kv, 204 when absent; If-Match → 412
  GET    /kv?key=F&label=F   → {"items":[...],"@nextLink":url} + Link: <url>; rel="next"
         (F: "*" suffix wildcard, "\" escapes, "," alternatives; label absent = any label,
         "%00" = the null label); page size --kv-page-size (default 100).
  PUT/DELETE /locks/{key}?label=L (read-only lock: a write → 409).
  No label parameter = the null label. Answers carry ETag and Sync-Token headers; errors are
  application/problem+json {"type","title","status","detail"}.

Operations (names used by counts and faults)
  secrets.set secrets.get secrets.list secrets.versions secrets.update secrets.delete
  secrets.getdeleted secrets.listdeleted secrets.recover secrets.purge
  kv.put kv.get kv.list kv.delete kv.lock   token imds.token

Control API (no auth; never counted)
  POST   /_fake/reset        drop everything: secrets, key-values, tokens, counts, faults, config
  GET    /_fake/counts       {"counts":{op:n}, "attempts":{op:n}}: "counts" = requests served
                             by the operation (auth passed, no fault); "attempts" = every
                             request routed to it, including 401s and injected faults
  DELETE /_fake/counts       reset counts and attempts (also POST /_fake/counts/reset)
  POST   /_fake/faults       {"every":N,"status":429|503,"ops":[op,...],"count":M}: every Nth
                             request to one of ops (all ops when absent) fails with status,
                             at most M times (unlimited when absent); 429 carries
                             Retry-After: 1. Replaces the previous rule; {"every":0} clears.
  GET    /_fake/faults       the rule and how many it injected; DELETE /_fake/faults clears
  GET    /_fake/state        {"secrets":{name:{"deleted":bool,"deletedDate","scheduledPurgeDate",
                             "versions":[{"version","value","tags","contentType","enabled",
                             "created","updated"}, oldest first]}},
                             "kv":[{"key","label","value","content_type","tags","etag",
                             "locked","last_modified"}]}
  POST   /_fake/token        {"audience":"https://vault.azure.net"} → {"access_token",...}
                             without credentials (for seeding state from a test)
  POST   /_fake/tokens/revoke  forget every issued token (next data calls get 401)
  POST   /_fake/config       {"token_lifetime":s, "kv_page_size":n}
  GET    /_fake/requests     last 500 requests: {"method","path","op","status","auth"}
                             (auth "bearer" | "hmac" | "none"); DELETE clears
"""
import sys

if __name__ == "__main__":
	sys.exit("azure_server.py: interface only so far (see the docstring); implementation follows")
