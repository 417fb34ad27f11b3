#!/usr/bin/env python3
"""A fake Google Cloud (Secret Manager v1, Parameter Manager v1, OAuth2, metadata) for smc's tests.

  python3 tests/fakes/gcp_server.py --port P [--tls-port Q --cert-dir D] [--project test-proj]
      [--sa-key FILE]... [--accept-any-token] [--token-ttl SECONDS] [--metadata-email EMAIL]

One server (plain HTTP on --port, HTTPS on --tls-port) serves every API below; --port 0 picks
a free port and the real ports are printed as "port N" / "tls-port N" lines before "ready".
With --cert-dir D: D/server.crt + D/server.key are used if they exist, else an openssl CA
(D/ca.crt, D/ca.key) and a server certificate for 127.0.0.1/localhost are made there.
Semantics follow ../shared/docs/wire-protocols-and-local-peers.md §2. The query parameter
alt=json is accepted and ignored everywhere. Errors are Google-shaped:
  {"error":{"code":404,"message":"Secret [projects/p/secrets/x] not found.","status":"NOT_FOUND"}}
Messages name objects, never values.

Auth: every Secret/Parameter Manager request needs "Authorization: Bearer <token>" where the
token was issued by this fake (POST /token, the metadata token, or POST /_fake/token) and is
not expired; otherwise 401 UNAUTHENTICATED. --accept-any-token admits any bearer token (and
none). A request for a project other than --project (or its number, --project-number) gets
403 PERMISSION_DENIED.

Operation names (used by /_fake/counts and /_fake/faults):
  Secret Manager, /v1/projects/{p}/secrets...
    secrets.create      POST   /secrets?secretId=ID  {labels, annotations, replication}
    secrets.get         GET    /secrets/ID
    secrets.list        GET    /secrets?filter=&pageSize=&pageToken=   (newest first)
    secrets.patch       PATCH  /secrets/ID?updateMask=labels,annotations,versionAliases
    secrets.delete      DELETE /secrets/ID[?etag=]
    secrets.addVersion  POST   /secrets/ID:addVersion  {"payload":{"data":b64,"dataCrc32c":"dec"}}
    versions.access     GET    /secrets/ID/versions/{n|latest|alias}:access
    versions.get        GET    /secrets/ID/versions/{n|latest|alias}
    versions.list       GET    /secrets/ID/versions?filter=&pageSize=&pageToken=
    versions.disable    POST   /secrets/ID/versions/N:disable  {"etag"?}
    versions.enable     POST   /secrets/ID/versions/N:enable   {"etag"?}
    versions.destroy    POST   /secrets/ID/versions/N:destroy  {"etag"?}
  Parameter Manager, /v1/projects/{p}/locations/{loc}/parameters...
    parameters.create   POST   /parameters?parameterId=ID  {format, labels}
    parameters.get      GET    /parameters/ID
    parameters.list     GET    /parameters?filter=&pageSize=&pageToken=
    parameters.patch    PATCH  /parameters/ID?updateMask=labels
    parameters.delete   DELETE /parameters/ID
    parameterVersions.create  POST  /parameters/ID/versions?parameterVersionId=V {"payload":{"data":b64}}
    parameterVersions.get     GET   /parameters/ID/versions/V[?view=BASIC|FULL]
    parameterVersions.list    GET   /parameters/ID/versions
    parameterVersions.render  GET   /parameters/ID/versions/V:render
    parameterVersions.patch   PATCH /parameters/ID/versions/V?updateMask=disabled {"disabled":bool}
    parameterVersions.delete  DELETE /parameters/ID/versions/V
  OAuth2 and metadata
    token               POST /token  form grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
                        &assertion=<RS256 JWT>: signature checked against a registered
                        service-account key (by iss = client_email, kid = private_key_id when
                        sent); aud = the key's token_uri or https://oauth2.googleapis.com/token;
                        iat/exp sane (exp > now, exp - iat <= 3600 s, iat not in the future);
                        scope includes https://www.googleapis.com/auth/cloud-platform.
                        -> {"access_token":"ya29.fake-...","expires_in":3600,"token_type":"Bearer"}
                        Refusals are OAuth-shaped: 400 {"error":"invalid_grant","error_description":..}
    metadata.token      GET /computeMetadata/v1/instance/service-accounts/default/token
    metadata.email      GET /computeMetadata/v1/instance/service-accounts/default/email
    metadata.project    GET /computeMetadata/v1/project/project-id
                        all /computeMetadata/ requests need "Metadata-Flavor: Google" (403
                        otherwise) and answer with that header.

Semantics worth knowing:
  - Version numbers count from 1 per secret. "latest" = the newest ENABLED version (404 if
    none). Access to a DISABLED/DESTROYED version: 400 FAILED_PRECONDITION. dataCrc32c on
    addVersion is verified (400 INVALID_ARGUMENT on mismatch); access returns dataCrc32c as a
    decimal string. Payloads are at most 65536 bytes.
  - etags are quoted strings; a mismatching etag on patch/delete/disable/enable/destroy gives
    409 ABORTED. Every change to a secret or version changes its etag.
  - Duplicate create: 409 ALREADY_EXISTS. Unknown object: 404 NOT_FOUND.
  - Labels are checked (key [a-z][a-z0-9_-]{0,62}, value [a-z0-9_-]{0,63}, at most 64);
    annotation keys [A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?, keys+values < 16 KiB.
    Violations: 400 INVALID_ARGUMENT.
  - filter: terms labels.K=V, labels.K:V, labels.K:*, name:SUBSTR, state:S (versions),
    joined by spaces/AND, OR (binds tighter, as in AIP-160), NOT or - prefix. Anything else
    gives 400 INVALID_ARGUMENT. A filtered secrets.list reports no totalSize.
  - pageSize 0/absent = everything; nextPageToken is opaque.
  - Parameter payloads are validated for format JSON (and YAML when PyYAML is importable).
    Rendering a disabled version: 400 FAILED_PRECONDITION. renderedPayload substitutes
    __REF__("//secretmanager.googleapis.com/projects/P/secrets/S/versions/V").

Control API (no auth, JSON):
  POST /_fake/reset          drop all secrets, parameters, counts and faults (registered
                             service accounts and issued tokens stay)
  GET  /_fake/counts         {"secrets.create": 2, "token": 1, ...}: every request that was
                             routed to an operation, including refused and faulted ones
  POST /_fake/counts/reset   zero the counts
  POST /_fake/faults         {"every":N,"status":429|503|500,"ops":[...optional],"times":M?}:
                             answer every Nth matching request with that error (Google-shaped;
                             429 RESOURCE_EXHAUSTED with Retry-After: 1, 503 UNAVAILABLE).
                             Without "ops" it matches all Secret/Parameter Manager operations
                             (name "token"/"metadata.token" to fault those). "times" caps the
                             number of injected errors. {"every":0} clears. Replaces any
                             previous rule.
  GET  /_fake/state          {"secrets":{"projects/p/secrets/x":{"labels","annotations","etag",
                             "versions":[{"number","state","value"(base64)}]}},
                             "parameters":{"projects/p/locations/l/parameters/x":{"format",
                             "labels","versions":[{"id","disabled","value"(base64)}]}}}
  POST /_fake/sa             body = a service-account JSON key: register it for POST /token
  POST /_fake/token          {"expires_in":S?} -> {"access_token":..}: issue a token directly
  POST /_fake/expire-tokens  every issued token is now expired (tests token refresh)
"""
