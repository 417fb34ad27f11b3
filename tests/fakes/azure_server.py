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
  "https://<store>.azconfig.io", "https://azconfig.io" or "https://appconfig.azure.com" (the
  SDK's default for a host without "azconfig" in it) for App Configuration.
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
  409 Conflict for a PUT on a soft-deleted name (innererror ObjectIsDeletedButRecoverable;
  a DELETE of it → 404); 400 BadParameter (name not [0-9A-Za-z-]{1,127}, value missing or
  > 25 KiB, bad api-version, bad maxresults).
  Strictness of the fake (both services): a PUT/PATCH body whose Content-Type is not JSON
  (application/json or application/vnd.microsoft.appconfig.kv+json) → 415; this catches
  a client that lets curl send its form-encoded default.
App Configuration key-values (api-version 1.0, 2019-07-01, 2022-11-01-preview, 2023-10-01,
  2023-11-01, 2024-09-01, 2026-04-01)
  PUT    /kv/{key}?label=L   {"value","content_type","tags"} If-Match / If-None-Match: * → 412
  GET    /kv/{key}?label=L   If-None-Match: "<etag>" → 304; missing → 404
  DELETE /kv/{key}?label=L   → 200 with the deleted kv, 204 when absent; If-Match → 412
  GET    /kv?key=F&label=F   → {"items":[...],"@nextLink":url} + Link: <url>; rel="next"
         (F: "*" suffix wildcard, "\" escapes, "," alternatives; label absent = any label,
         "%00" = the null label, "*" = any label); page size --kv-page-size (default 100).
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
  POST   /_fake/faults       {"every":N,"status":S,"ops":[op,...],"count":M}: every Nth
                             request to one of ops (all ops when absent) fails with status S
                             (429 or 503; 500, 502, 504 also taken),
                             at most M times (unlimited when absent); 429 carries
                             Retry-After: 1. Replaces the previous rule; {"every":0} clears.
                             "after": true — a lost answer: the request is performed first
                             (stored, counted in "counts") and only its answer is replaced
                             by status S; only requests that succeeded count towards N.
                             "drop": true — no answer at all: the connection is closed
                             (before the request is performed, or after with "after").
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
  GET    /_fake/requests     last 500 requests: {"method","path","op","status","auth",
                             "content_type"} (auth "bearer" | "hmac" | "none"); DELETE clears
"""
import argparse
import base64
import datetime
import email.utils
import hashlib
import hmac
import json
import os
import re
import secrets as rnd
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_TENANT = "00000000-0000-0000-0000-00000000fa4e"
DEFAULT_AC_ID = "smc-fake-appconfig"
DEFAULT_AC_SECRET = "c21jLWZha2UtYXBwY29uZmlnLXNlY3JldA=="   # base64("smc-fake-appconfig-secret")
VAULT_AUDIENCE = "https://vault.azure.net"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
KV_API_VERSIONS = {"7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01", "2026-04-01"}
AC_API_VERSIONS = {"1.0", "2019-07-01", "2022-11-01-preview", "2023-10-01", "2023-11-01",
                   "2024-09-01", "2026-04-01"}
SECRET_NAME_RE = re.compile(r"^[0-9A-Za-z-]{1,127}$")
MAX_SECRET_VALUE = 25 * 1024
MAX_BODY = 4 * 1024 * 1024
PURGE_DAYS = 90
MAX_REQUEST_LOG = 500
OPS = ("secrets.set", "secrets.get", "secrets.list", "secrets.versions", "secrets.update",
       "secrets.delete", "secrets.getdeleted", "secrets.listdeleted", "secrets.recover",
       "secrets.purge", "kv.put", "kv.get", "kv.list", "kv.delete", "kv.lock", "token",
       "imds.token")


class Cfg:
    tenant = DEFAULT_TENANT
    tenant_strict = False
    clients = {}                 # client id -> secret
    federated_token_file = None
    accept_any_token = False
    ac_id = DEFAULT_AC_ID
    ac_secret = base64.b64decode(DEFAULT_AC_SECRET)
    default_kv_page_size = 100


CFG = Cfg()
LOCK = threading.RLock()


def now():
    return int(time.time())


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).isoformat(timespec="seconds")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class State:
    """Everything the fake stores; reset() drops it all."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.secrets = {}          # name -> {"versions": [...], "deleted": None | {...}}
        self.kvs = {}              # (key, label) -> kv dict
        self.tokens = {}           # token -> {"aud", "exp"}
        self.counts = {}
        self.attempts = {}
        self.fault = None          # {"every","status","ops","count","seen","injected"}
        self.token_lifetime = 3599
        self.kv_page_size = CFG.default_kv_page_size
        self.requests = []
        self.sync_seq = 0

    def issue(self, aud, appid):
        exp = now() + self.token_lifetime
        hdr = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        claims = {"aud": aud, "tid": CFG.tenant, "appid": appid, "iat": now(), "exp": exp,
                  "jti": rnd.token_hex(8)}
        tok = "%s.%s.%s" % (hdr, b64url(json.dumps(claims).encode()), b64url(rnd.token_bytes(16)))
        self.tokens[tok] = {"aud": aud, "exp": exp}
        return tok, self.token_lifetime


ST = State()


class DropConnection(Exception):
    """An injected fault that closes the connection without any answer."""


class HttpError(Exception):
    """An answer other than success: status, JSON body (or None) and extra headers."""

    def __init__(self, status, body=None, headers=None, ctype="application/json; charset=utf-8"):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.ctype = ctype


def kv_error(status, code, message, inner=None):
    err = {"code": code, "message": message}
    if inner:
        err["innererror"] = {"code": inner}
    return HttpError(status, {"error": err})


def ac_error(status, title, detail=None, kind=None, headers=None):
    body = {"type": "https://azconfig.io/errors/" + (kind or title.lower().replace(" ", "-")),
            "title": title, "status": status}
    if detail:
        body["detail"] = detail
    return HttpError(status, body, headers, "application/problem+json; charset=utf-8")


def aad_error(status, error, desc):
    return HttpError(status, {"error": error, "error_description": desc,
                              "error_codes": [int(re.match(r"AADSTS(\d+)", desc).group(1))]
                              if desc.startswith("AADSTS") else [],
                              "timestamp": iso(now()), "trace_id": rnd.token_hex(8)})


def secret_not_found(name, version=None):
    what = name if version is None else "%s/%s" % (name, version)
    return kv_error(404, "SecretNotFound",
                    "A secret with (name/id) %s was not found in this key vault. If you "
                    "recently deleted this secret you may be able to recover it using the "
                    "correct recovery command." % what)


def deleted_conflict(name):
    return kv_error(409, "Conflict",
                    "Secret %s is currently in a deleted but recoverable state, and its name "
                    "cannot be reused; in this state, the secret can only be recovered or "
                    "purged." % name, "ObjectIsDeletedButRecoverable")


# ---------------------------------------------------------------- Key Vault secrets

def _attrs(v):
    a = {"enabled": v["enabled"], "created": v["created"], "updated": v["updated"],
         "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": PURGE_DAYS}
    for k in ("nbf", "exp"):
        if v.get(k) is not None:
            a[k] = v[k]
    return a


def secret_bundle(base, name, v, with_value=True, item=False):
    """SecretBundle (id with version, value unless with_value is False) or SecretItem
    (id without version, no value)."""
    b = {"id": "%s/secrets/%s" % (base, name) + ("" if item else "/" + v["version"]),
         "attributes": _attrs(v), "tags": dict(v["tags"])}
    if v.get("contentType") is not None:
        b["contentType"] = v["contentType"]
    if with_value and not item:
        b["value"] = v["value"]
    return b


def deleted_bundle(base, name, s, item=False):
    b = secret_bundle(base, name, s["versions"][-1], with_value=False, item=item)
    if item:
        b["id"] = "%s/secrets/%s" % (base, name)
    b["recoveryId"] = "%s/deletedsecrets/%s" % (base, name)
    b["deletedDate"] = s["deleted"]["deletedDate"]
    b["scheduledPurgeDate"] = s["deleted"]["scheduledPurgeDate"]
    return b


def check_name(name):
    if not SECRET_NAME_RE.match(name):
        raise kv_error(400, "BadParameter",
                       "The request URI contains an invalid name: %s" % name[:200])


def live_secret(name):
    s = ST.secrets.get(name)
    if s is None:
        raise secret_not_found(name)
    if s["deleted"] is not None:
        raise secret_not_found(name)
    return s


def find_version(name, s, version):
    if not version:
        return s["versions"][-1]
    for v in s["versions"]:
        if v["version"] == version:
            return v
    raise secret_not_found(name, version)


def page(items, q, base, path, default_size=25, cap=25):
    """Key Vault paging: maxresults (1..25) and an opaque $skiptoken; returns (slice, nextLink)."""
    size = default_size
    if "maxresults" in q:
        try:
            size = int(q["maxresults"])
        except ValueError:
            size = -1
        if size < 1 or size > cap:
            raise kv_error(400, "BadParameter", "invalid maxresults: must be between 1 and %d" % cap)
    start = 0
    if "$skiptoken" in q:
        try:
            start = int(base64.urlsafe_b64decode(q["$skiptoken"].encode()).decode())
        except Exception:
            raise kv_error(400, "BadParameter", "invalid $skiptoken")
    chunk = items[start:start + size]
    nxt = None
    if start + size < len(items):
        tok = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        nxt = "%s%s?api-version=%s&$skiptoken=%s&maxresults=%d" % (
            base, path, urllib.parse.quote(q.get("api-version", "")),
            urllib.parse.quote(tok), size)
    return chunk, nxt


def kv_route(method, parts):
    """Maps a Key Vault path to an operation name, or None."""
    if len(parts) == 2 and parts[1] == "":
        del parts[1]
    if parts[0] == "secrets":
        if len(parts) == 1:
            return "secrets.list" if method == "GET" else None
        if len(parts) == 2:
            return {"PUT": "secrets.set", "GET": "secrets.get", "PATCH": "secrets.update",
                    "DELETE": "secrets.delete"}.get(method)
        if len(parts) == 3:
            if parts[2] == "versions" and method == "GET":
                return "secrets.versions"
            if parts[2] == "":
                return {"PUT": "secrets.set", "GET": "secrets.get", "PATCH": "secrets.update",
                        "DELETE": "secrets.delete"}.get(method)
            return {"GET": "secrets.get", "PATCH": "secrets.update"}.get(method)
        return None
    if parts[0] == "deletedsecrets":
        if len(parts) == 1:
            return "secrets.listdeleted" if method == "GET" else None
        if len(parts) == 2:
            return {"GET": "secrets.getdeleted", "DELETE": "secrets.purge"}.get(method)
        if len(parts) == 3 and parts[2] == "recover" and method == "POST":
            return "secrets.recover"
    return None


def kv_handle(op, parts, q, body, base):
    if op == "secrets.list":
        names = sorted(n for n, s in ST.secrets.items() if s["deleted"] is None)
        chunk, nxt = page(names, q, base, "/secrets")
        return 200, {"value": [secret_bundle(base, n, ST.secrets[n]["versions"][-1], item=True)
                               for n in chunk], "nextLink": nxt}
    if op == "secrets.listdeleted":
        names = sorted(n for n, s in ST.secrets.items() if s["deleted"] is not None)
        chunk, nxt = page(names, q, base, "/deletedsecrets")
        return 200, {"value": [deleted_bundle(base, n, ST.secrets[n], item=True) for n in chunk],
                     "nextLink": nxt}
    name = parts[1]
    check_name(name)
    version = parts[2] if len(parts) > 2 else ""
    if op == "secrets.set":
        doc = json_body(body, kv=True)
        val = doc.get("value")
        if not isinstance(val, str):
            raise kv_error(400, "BadParameter", "Property value is required and must be a string")
        if len(val.encode()) > MAX_SECRET_VALUE:
            raise kv_error(400, "BadParameter", "Secret value is too large (limit 25 KiB)")
        tags = doc.get("tags") or {}
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise kv_error(400, "BadParameter", "Property tags must be an object of strings")
        attrs = doc.get("attributes") or {}
        s = ST.secrets.get(name)
        if s is not None and s["deleted"] is not None:
            raise deleted_conflict(name)
        if s is None:
            s = ST.secrets[name] = {"versions": [], "deleted": None}
        t = now()
        v = {"version": rnd.token_hex(16), "value": val, "tags": tags,
             "contentType": doc.get("contentType"),
             "enabled": bool(attrs.get("enabled", True)), "created": t, "updated": t,
             "nbf": attrs.get("nbf"), "exp": attrs.get("exp")}
        s["versions"].append(v)
        return 200, secret_bundle(base, name, v)
    if op == "secrets.get":
        s = live_secret(name)
        v = find_version(name, s, version)
        if not v["enabled"]:
            raise kv_error(403, "Forbidden", "Operation get is not allowed on a disabled secret.",
                           "SecretDisabled")
        return 200, secret_bundle(base, name, v)
    if op == "secrets.versions":
        s = live_secret(name)
        chunk, nxt = page(s["versions"], q, base, "/secrets/%s/versions" % name)
        items = []
        for v in chunk:
            it = secret_bundle(base, name, v, item=True)
            it["id"] = "%s/secrets/%s/%s" % (base, name, v["version"])
            items.append(it)
        return 200, {"value": items, "nextLink": nxt}
    if op == "secrets.update":
        s = live_secret(name)
        v = find_version(name, s, version)
        doc = json_body(body, kv=True)
        attrs = doc.get("attributes") or {}
        if "enabled" in attrs:
            v["enabled"] = bool(attrs["enabled"])
        for k in ("nbf", "exp"):
            if k in attrs:
                v[k] = attrs[k]
        if doc.get("tags") is not None:
            if not isinstance(doc["tags"], dict):
                raise kv_error(400, "BadParameter", "Property tags must be an object of strings")
            v["tags"] = doc["tags"]
        if "contentType" in doc:
            v["contentType"] = doc["contentType"]
        v["updated"] = now()
        return 200, secret_bundle(base, name, v, with_value=False)
    if op == "secrets.delete":
        s = ST.secrets.get(name)
        if s is None:
            raise secret_not_found(name)
        if s["deleted"] is not None:
            raise secret_not_found(name)
        t = now()
        s["deleted"] = {"deletedDate": t, "scheduledPurgeDate": t + PURGE_DAYS * 86400}
        return 200, deleted_bundle(base, name, s)
    s = ST.secrets.get(name)
    if s is None or s["deleted"] is None:
        raise kv_error(404, "SecretNotFound", "Deleted Secret not found: %s" % name)
    if op == "secrets.getdeleted":
        return 200, deleted_bundle(base, name, s)
    if op == "secrets.recover":
        s["deleted"] = None
        return 200, secret_bundle(base, name, s["versions"][-1], with_value=False)
    if op == "secrets.purge":
        del ST.secrets[name]
        return 204, None
    raise kv_error(405, "MethodNotAllowed", "method not allowed")


# ---------------------------------------------------------------- App Configuration

def parse_filter(f):
    """App Configuration key/label filter → list of (literal, is_prefix) alternatives."""
    alts, cur, i, prefix = [], [], 0, False
    while i < len(f):
        c = f[i]
        if c == "\\" and i + 1 < len(f):
            cur.append(f[i + 1])
            i += 2
            continue
        if c == ",":
            alts.append(("".join(cur), prefix))
            cur, prefix = [], False
        elif c == "*":
            if i + 1 < len(f) and f[i + 1] != ",":
                raise ac_error(400, "Invalid request parameter", "wildcard '*' only at the end",
                               "invalid-argument")
            prefix = True
        else:
            cur.append(c)
        i += 1
    alts.append(("".join(cur), prefix))
    return alts


def match(alts, s):
    for lit, prefix in alts:
        if s is None:
            if (lit == "\0" and not prefix) or (lit == "" and prefix):
                return True
            continue
        if (prefix and s.startswith(lit)) or (not prefix and s == lit):
            return True
    return False


def ac_label(q):
    lab = q.get("label")
    if lab is None or lab == "\0" or lab == "":
        return None
    return lab


def kv_view(kv, select=None):
    d = {"etag": kv["etag"], "key": kv["key"], "label": kv["label"],
         "content_type": kv["content_type"], "value": kv["value"], "tags": dict(kv["tags"]),
         "locked": kv["locked"], "last_modified": iso(kv["last_modified"])}
    if select:
        d = {k: v for k, v in d.items() if k in select}
    return d


def etag_matches(header, etag):
    if header is None:
        return None
    for t in header.split(","):
        t = t.strip()
        if t == "*":
            return True
        if t.startswith("W/"):
            t = t[2:]
        if t.strip('"') == etag:
            return True
    return False


def ac_route(method, parts):
    if parts[0] == "kv":
        if len(parts) == 1:
            return "kv.list" if method in ("GET", "HEAD") else None
        return {"PUT": "kv.put", "GET": "kv.get", "HEAD": "kv.get",
                "DELETE": "kv.delete"}.get(method)
    if parts[0] == "locks" and len(parts) == 2 and method in ("PUT", "DELETE"):
        return "kv.lock"
    return None


def ac_handle(op, parts, q, body, headers, base, raw_query):
    select = set(q["$select"].split(",")) if q.get("$select") else None
    if op == "kv.list":
        kalts = parse_filter(q.get("key", "*"))
        lalts = parse_filter(q["label"]) if "label" in q else None
        items = sorted((kv for kv in ST.kvs.values()
                        if match(kalts, kv["key"])
                        and (lalts is None or match(lalts, kv["label"]))),
                       key=lambda kv: (kv["key"], kv["label"] or ""))
        start = 0
        if "after" in q:
            try:
                start = int(base64.urlsafe_b64decode(q["after"].encode()).decode())
            except Exception:
                raise ac_error(400, "Invalid request parameter", "after", "invalid-argument")
        size = ST.kv_page_size
        chunk = items[start:start + size]
        out = {"items": [kv_view(kv, select) for kv in chunk]}
        hdrs = {}
        if start + size < len(items):
            keep = [(k, v) for k, v in urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
                    if k != "after"]
            keep.append(("after", base64.urlsafe_b64encode(str(start + size).encode()).decode()))
            link = "/kv?" + urllib.parse.urlencode(keep)
            out["@nextLink"] = link
            hdrs["Link"] = '<%s>; rel="next"' % link
        return 200, out, hdrs, "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8"
    key = parts[1]
    if not key or key in (".", "..") or "%" in key:
        raise ac_error(400, "Invalid request parameter", "key", "invalid-argument")
    label = ac_label(q)
    cur = ST.kvs.get((key, label))
    im, inm = headers.get("If-Match"), headers.get("If-None-Match")
    ctype = "application/vnd.microsoft.appconfig.kv+json; charset=utf-8"
    if op == "kv.lock":
        if cur is None:
            raise ac_error(404, "Not Found", "key-value not found", "not-found")
        cur["locked"] = parts[0] == "locks" and headers.get("_method") == "PUT"
        cur["etag"] = b64url(rnd.token_bytes(24))
        cur["last_modified"] = now()
        return 200, kv_view(cur), {"ETag": '"%s"' % cur["etag"]}, ctype
    if op == "kv.get":
        if cur is None:
            raise HttpError(404, None)
        if im is not None and not etag_matches(im, cur["etag"]):
            raise ac_error(412, "Precondition Failed", "If-Match did not match", "precondition-failed")
        if inm is not None and etag_matches(inm, cur["etag"]):
            raise HttpError(304, None, {"ETag": '"%s"' % cur["etag"]})
        return 200, kv_view(cur, select), {"ETag": '"%s"' % cur["etag"],
                                            "Last-Modified": email.utils.formatdate(
                                                cur["last_modified"], usegmt=True)}, ctype
    if im is not None and (cur is None or not etag_matches(im, cur["etag"])):
        raise ac_error(412, "Precondition Failed", "If-Match did not match", "precondition-failed")
    if inm is not None and cur is not None and etag_matches(inm, cur["etag"]):
        raise ac_error(412, "Precondition Failed", "If-None-Match matched", "precondition-failed")
    if cur is not None and cur["locked"]:
        raise ac_error(409, "Modifying key '%s' is not allowed" % key,
                       "The key-value is read-only. To allow modification unlock it first.",
                       "key-locked")
    if op == "kv.delete":
        if cur is None:
            return 204, None, {}, ctype
        del ST.kvs[(key, label)]
        return 200, kv_view(cur), {"ETag": '"%s"' % cur["etag"]}, ctype
    # kv.put
    doc = json_body(body, kv=False)
    val = doc.get("value")
    if val is not None and not isinstance(val, str):
        raise ac_error(400, "Invalid request parameter", "value", "invalid-argument")
    tags = doc.get("tags") or {}
    if not isinstance(tags, dict):
        raise ac_error(400, "Invalid request parameter", "tags", "invalid-argument")
    kv = {"key": key, "label": label, "value": val, "content_type": doc.get("content_type"),
          "tags": tags, "locked": False, "etag": b64url(rnd.token_bytes(24)),
          "last_modified": now()}
    ST.kvs[(key, label)] = kv
    return 200, kv_view(kv), {"ETag": '"%s"' % kv["etag"]}, ctype


def json_body(body, kv):
    if not body:
        return {}
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        if kv:
            raise kv_error(400, "BadParameter", "The request body is not valid JSON")
        raise ac_error(400, "Invalid request body", "not a JSON object", "invalid-argument")
    return doc


# ---------------------------------------------------------------- auth

def bearer_ok(auth, want):
    """want(aud) -> bool. True when auth is a valid Bearer token for that audience."""
    if not auth or not auth.startswith("Bearer "):
        return False
    tok = auth[7:].strip()
    if CFG.accept_any_token:
        return bool(tok)
    t = ST.tokens.get(tok)
    return t is not None and t["exp"] > now() and want(t["aud"])


def is_ac_audience(aud):
    """App Configuration audiences: https://[<store>.]azconfig.io, and the SDK's default for
    a host without "azconfig" in it, https://appconfig.azure.com (also .cn, .us)."""
    return re.match(r"^https://([^/]+\.)?azconfig\.io$", aud) is not None or \
        aud in ("https://appconfig.azure.com", "https://appconfig.azure.cn",
                "https://appconfig.azure.us")


def hmac_ok(handler, auth, body, path_and_query):
    """Verifies App Configuration's HMAC-SHA256 scheme (wire doc §3.4)."""
    if not auth.startswith("HMAC-SHA256 "):
        return False
    fields = {}
    for part in auth[len("HMAC-SHA256 "):].split("&"):
        k, _, v = part.partition("=")
        fields[k.strip()] = v.strip()
    if fields.get("Credential") != CFG.ac_id:
        return False
    signed = fields.get("SignedHeaders", "").lower().split(";")
    if signed != ["x-ms-date", "host", "x-ms-content-sha256"]:
        return False
    date = handler.headers.get("x-ms-date") or handler.headers.get("Date") or ""
    try:
        when = email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return False
    if abs(when - time.time()) > 15 * 60:
        return False
    sha = handler.headers.get("x-ms-content-sha256", "")
    if sha != base64.b64encode(hashlib.sha256(body).digest()).decode():
        return False
    host = handler.headers.get("Host", "")
    sts = "%s\n%s\n%s;%s;%s" % (handler.command, path_and_query, date, host, sha)
    want = base64.b64encode(hmac.new(CFG.ac_secret, sts.encode(), hashlib.sha256).digest()).decode()
    return hmac.compare_digest(want, fields.get("Signature", ""))


def token_endpoint(tenant, form):
    if CFG.tenant_strict and tenant != CFG.tenant:
        raise aad_error(400, "invalid_request",
                        "AADSTS90002: Tenant '%s' not found." % tenant[:64])
    if form.get("grant_type") != "client_credentials":
        if not form.get("grant_type"):
            raise aad_error(400, "invalid_request",
                            "AADSTS900144: The request body must contain the following parameter: 'grant_type'.")
        raise aad_error(400, "unsupported_grant_type",
                        "AADSTS70003: The app requested an unsupported grant type.")
    cid = form.get("client_id")
    if not cid:
        raise aad_error(400, "invalid_request",
                        "AADSTS900144: The request body must contain the following parameter: 'client_id'.")
    scope = form.get("scope", "")
    scopes = scope.split()
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        raise aad_error(400, "invalid_scope",
                        "AADSTS1002012: The provided value for scope is not valid. Client "
                        "credential flows must have a scope value with /.default suffixed.")
    aud = scopes[0][:-len("/.default")]
    if "client_assertion" in form or "client_assertion_type" in form:
        if form.get("client_assertion_type") != JWT_BEARER:
            raise aad_error(400, "invalid_request",
                            "AADSTS50027: Invalid client_assertion_type.")
        want = None
        if CFG.federated_token_file:
            try:
                with open(CFG.federated_token_file) as f:
                    want = f.read().strip()
            except OSError:
                want = None
        if not want or not hmac.compare_digest(want.encode(), form.get("client_assertion", "").encode()):
            raise aad_error(401, "invalid_client",
                            "AADSTS700213: No matching federated identity record found for "
                            "presented assertion.")
    elif "client_secret" in form:
        if cid not in CFG.clients:
            raise aad_error(400, "unauthorized_client",
                            "AADSTS700016: Application with identifier '%s' was not found in "
                            "the directory." % cid[:64])
        if not hmac.compare_digest(CFG.clients[cid].encode(), form["client_secret"].encode()):
            raise aad_error(401, "invalid_client",
                            "AADSTS7000215: Invalid client secret provided. Ensure the secret "
                            "being sent in the request is the client secret value, not the "
                            "client secret ID.")
    else:
        raise aad_error(401, "invalid_client",
                        "AADSTS7000218: The request body must contain the following parameter: "
                        "'client_assertion' or 'client_secret'.")
    tok, life = ST.issue(aud, cid)
    return {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life,
            "access_token": tok}


# ---------------------------------------------------------------- HTTP

def decode_query(raw):
    """Query parameters, names and values URL-decoded (the SDK sends api%2Dversion)."""
    return {k: v for k, v in urllib.parse.parse_qsl(raw, keep_blank_values=True)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "smc-fake-azure/1"

    def log_message(self, fmt, *args):
        pass

    def scheme(self):
        return "https" if isinstance(self.connection, ssl.SSLSocket) else "http"

    def base(self):
        return "%s://%s" % (self.scheme(), self.headers.get("Host") or
                            "127.0.0.1:%d" % self.server.server_address[1])

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = b""
            while True:
                line = self.rfile.readline(1024)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(n)
                self.rfile.readline(16)
                if len(out) > MAX_BODY:
                    raise HttpError(413, {"error": "body too large"})
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise HttpError(413, {"error": "body too large"})
        return self.rfile.read(n) if n else b""

    def send(self, status, body, headers=None, ctype="application/json; charset=utf-8"):
        data = b""
        if body is not None and status not in (204, 304) and self.command != "HEAD":
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if data or (body is not None and status not in (204, 304)):
            self.send_header("Content-Type", ctype)
        self.send_header("x-ms-request-id", rnd.token_hex(8))
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)
        self._status = status

    def do_GET(self):
        self.dispatch()

    do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_GET

    def dispatch(self):
        self._status = 0
        raw_path, _, raw_query = self.path.partition("?")
        path = urllib.parse.unquote(raw_path)
        op, auth_kind = None, "none"
        try:
            body = self.read_body()
            if raw_path.startswith("/_fake/"):
                return self.control(raw_path[len("/_fake/"):].rstrip("/"), body)
            q = decode_query(raw_query)
            auth = self.headers.get("Authorization") or ""
            auth_kind = "bearer" if auth.startswith("Bearer ") else \
                "hmac" if auth.startswith("HMAC-SHA256 ") else "none"
            with LOCK:
                op, fn = self.route(path, raw_path)
                if op is None:
                    raise HttpError(404, {"error": {"code": "NotFound",
                                                    "message": "no such route"}})
                ST.attempts[op] = ST.attempts.get(op, 0) + 1
                self.maybe_fault(op, after=False)
                status, out, hdrs, ctype = fn(op, path, raw_path, q, raw_query, body, auth)
                ST.counts[op] = ST.counts.get(op, 0) + 1
                if status < 400:
                    self.maybe_fault(op, after=True)
            self.send(status, out, hdrs, ctype)
        except HttpError as e:
            self.send(e.status, e.body, e.headers, e.ctype)
        except DropConnection:
            self.close_connection = True
            self._status = 0
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True
            return
        except Exception as e:       # a bug in the fake: say so loudly
            print("azure_server: %s %s: %r" % (self.command, self.path, e), file=sys.stderr)
            self.send(500, {"error": {"code": "InternalError", "message": repr(e)}})
        finally:
            if not raw_path.startswith("/_fake/"):
                with LOCK:
                    ST.requests.append({"method": self.command, "path": self.path, "op": op,
                                        "status": self._status, "auth": auth_kind,
                                        "content_type": self.headers.get("Content-Type")})
                    del ST.requests[:-MAX_REQUEST_LOG]

    def check_media_type(self, op, body):
        if self.command not in ("PUT", "PATCH") or not body or op not in (
                "secrets.set", "secrets.update", "kv.put"):
            return
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ct in ("application/json", "application/vnd.microsoft.appconfig.kv+json"):
            return
        msg = "Unsupported Content-Type %r: the body must be JSON" % ct[:64]
        if op == "kv.put":
            raise ac_error(415, "Unsupported Media Type", msg, "unsupported-media-type")
        raise kv_error(415, "UnsupportedMediaType", msg)

    def maybe_fault(self, op, after):
        f = ST.fault
        if not f or f["every"] <= 0 or bool(f.get("after")) != after:
            return
        if f["ops"] and op not in f["ops"]:
            return
        if f["count"] is not None and f["injected"] >= f["count"]:
            return
        f["seen"] += 1
        if f["seen"] % f["every"] != 0:
            return
        f["injected"] += 1
        if f.get("drop"):
            raise DropConnection()
        st = f["status"]
        hdrs = {"Retry-After": "1"} if st == 429 else {}
        if op in ("token", "imds.token"):
            raise HttpError(st, {"error": "temporarily_unavailable",
                                 "error_description": "fake fault %d" % st}, hdrs)
        if op.startswith("kv."):
            raise ac_error(st, "Too Many Requests" if st == 429 else "Service Unavailable",
                           "fake fault", "throttled" if st == 429 else "unavailable", hdrs)
        raise HttpError(st, {"error": {"code": "Throttled" if st == 429 else "ServiceUnavailable",
                                       "message": "fake fault %d" % st}}, hdrs)

    def route(self, path, raw_path):
        m = self.command
        parts = path.lstrip("/").split("/")
        if m == "POST" and len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            return "token", self.h_token
        if path == "/metadata/identity/oauth2/token" and m == "GET":
            return "imds.token", self.h_imds
        if parts[0] in ("secrets", "deletedsecrets"):
            return kv_route(m, list(parts)), self.h_vault
        if parts[0] in ("kv", "locks"):
            # keys may contain "/": they arrive percent-encoded, so split the raw path
            rparts = raw_path.lstrip("/").split("/", 1)
            if len(rparts) == 2:
                rparts[1] = urllib.parse.unquote(rparts[1])
            return ac_route(m, rparts), self.h_appconfig
        return None, None

    def h_token(self, op, path, raw_path, q, raw_query, body, auth):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise aad_error(400, "invalid_request",
                            "AADSTS900561: The endpoint only accepts POST requests with "
                            "application/x-www-form-urlencoded.")
        form = decode_query(body.decode("utf-8", "replace"))
        tenant = path.lstrip("/").split("/")[0]
        return 200, token_endpoint(tenant, form), {"Cache-Control": "no-store"}, \
            "application/json; charset=utf-8"

    def h_imds(self, op, path, raw_path, q, raw_query, body, auth):
        if (self.headers.get("Metadata") or "").lower() != "true":
            raise HttpError(400, {"error": "invalid_request",
                                  "error_description": "Required metadata header not specified"})
        res = q.get("resource")
        if not q.get("api-version") or not res:
            raise HttpError(400, {"error": "invalid_request",
                                  "error_description": "Required query variable 'resource' or "
                                  "'api-version' is missing"})
        aud = res.rstrip("/")
        if aud.endswith("/.default"):
            aud = aud[:-len("/.default")]
        cid = q.get("client_id") or "smc-fake-managed-identity"
        tok, life = ST.issue(aud, cid)
        t = now()
        return 200, {"access_token": tok, "client_id": cid, "expires_in": str(life),
                     "expires_on": str(t + life), "ext_expires_in": str(life),
                     "not_before": str(t), "resource": res, "token_type": "Bearer"}, {}, \
            "application/json; charset=utf-8"

    def h_vault(self, op, path, raw_path, q, raw_query, body, auth):
        if not bearer_ok(auth, lambda a: a.rstrip("/") == VAULT_AUDIENCE):
            chal = 'Bearer authorization="%s://%s/%s", resource="%s"' % (
                self.scheme(), self.headers.get("Host") or "127.0.0.1", CFG.tenant,
                VAULT_AUDIENCE)
            msg = "AKV10000: Request is missing a Bearer or PoP token." if not auth else \
                "AKV10032: Invalid issuer, audience or expired token."
            raise HttpError(401, {"error": {"code": "Unauthorized", "message": msg}},
                            {"WWW-Authenticate": chal})
        self.check_media_type(op, body)
        av = q.get("api-version")
        if av not in KV_API_VERSIONS:
            raise kv_error(400, "BadParameter",
                           "The specified version (%s) is not recognized. Consider using the "
                           "latest supported version (7.6)." % (av or "")[:32])
        parts = path.lstrip("/").split("/")
        if len(parts) == 2 and parts[1] == "":
            del parts[1]
        status, out = kv_handle(op, parts, q, body, self.base())
        return status, out, {}, "application/json; charset=utf-8"

    def h_appconfig(self, op, path, raw_path, q, raw_query, body, auth):
        pq = raw_path + ("?" + raw_query if raw_query else "")
        if not (bearer_ok(auth, lambda a: is_ac_audience(a.rstrip("/"))) or
                hmac_ok(self, auth, body, pq)):
            raise ac_error(401, "Unauthorized", "invalid or missing credentials", "unauthorized",
                           {"WWW-Authenticate": 'HMAC-SHA256 error="invalid_token", '
                                               'Bearer error="invalid_token"'})
        self.check_media_type(op, body)
        av = q.get("api-version")
        if av not in AC_API_VERSIONS:
            raise ac_error(400, "Invalid request parameter",
                           "api-version %s is not supported" % (av or "")[:32], "invalid-argument")
        rparts = raw_path.lstrip("/").split("/", 1)
        if len(rparts) == 2:
            rparts[1] = urllib.parse.unquote(rparts[1])
        hdrs_in = {"If-Match": self.headers.get("If-Match"),
                   "If-None-Match": self.headers.get("If-None-Match"), "_method": self.command}
        status, out, hdrs, ctype = ac_handle(op, rparts, q, body, hdrs_in, self.base(), raw_query)
        if status < 300 and op in ("kv.put", "kv.delete", "kv.lock"):
            ST.sync_seq += 1
        hdrs = dict(hdrs)
        hdrs["Sync-Token"] = "zAJw6V16=%d;sn=%d" % (ST.sync_seq, ST.sync_seq)
        return status, out, hdrs, ctype

    def control(self, what, body):
        m = self.command
        try:
            doc = json.loads(body) if body else {}
        except ValueError:
            raise HttpError(400, {"error": "control body is not JSON"})
        try:
            return self.control_locked(m, what, doc)
        except (TypeError, ValueError, AttributeError) as e:
            raise HttpError(400, {"error": "bad control request: %s" % e})

    def control_locked(self, m, what, doc):
        if not isinstance(doc, dict):
            raise ValueError("body is not a JSON object")
        with LOCK:
            if what == "reset" and m == "POST":
                ST.reset()
                return self.send(200, {"ok": True})
            if what == "counts" and m == "GET":
                return self.send(200, {"counts": dict(ST.counts), "attempts": dict(ST.attempts)})
            if (what == "counts" and m == "DELETE") or (what == "counts/reset" and m == "POST"):
                ST.counts, ST.attempts = {}, {}
                return self.send(200, {"ok": True})
            if what == "faults" and m == "POST":
                every = int(doc.get("every", 0))
                st = int(doc.get("status", 503))
                ops = doc.get("ops") or []
                bad = [o for o in ops if o not in OPS]
                if bad or st not in (429, 500, 502, 503, 504):
                    raise HttpError(400, {"error": "unknown ops %s or status %d" % (bad, st)})
                ST.fault = None if every <= 0 else {
                    "every": every, "status": st, "ops": ops, "count": doc.get("count"),
                    "after": bool(doc.get("after")), "drop": bool(doc.get("drop")),
                    "seen": 0, "injected": 0}
                return self.send(200, {"ok": True})
            if what == "faults" and m == "GET":
                return self.send(200, {"fault": ST.fault})
            if what == "faults" and m == "DELETE":
                ST.fault = None
                return self.send(200, {"ok": True})
            if what == "state" and m == "GET":
                return self.send(200, self.state())
            if what == "token" and m == "POST":
                aud = doc.get("audience", VAULT_AUDIENCE)
                tok, life = ST.issue(aud, "smc-fake-control")
                return self.send(200, {"access_token": tok, "expires_in": life,
                                       "token_type": "Bearer"})
            if what == "tokens/revoke" and m == "POST":
                ST.tokens = {}
                return self.send(200, {"ok": True})
            if what == "config" and m == "POST":
                if "token_lifetime" in doc:
                    ST.token_lifetime = int(doc["token_lifetime"])
                if "kv_page_size" in doc:
                    ST.kv_page_size = max(1, int(doc["kv_page_size"]))
                return self.send(200, {"ok": True})
            if what == "requests" and m == "GET":
                return self.send(200, {"requests": list(ST.requests)})
            if what == "requests" and m == "DELETE":
                ST.requests = []
                return self.send(200, {"ok": True})
        raise HttpError(404, {"error": "unknown control call %s %s" % (m, what)})

    @staticmethod
    def state():
        secrets = {}
        for name, s in ST.secrets.items():
            d = s["deleted"]
            secrets[name] = {
                "deleted": d is not None,
                "deletedDate": d["deletedDate"] if d else None,
                "scheduledPurgeDate": d["scheduledPurgeDate"] if d else None,
                "versions": [{"version": v["version"], "value": v["value"], "tags": v["tags"],
                              "contentType": v["contentType"], "enabled": v["enabled"],
                              "created": v["created"], "updated": v["updated"]}
                             for v in s["versions"]]}
        kvs = [dict(kv_view(kv)) for kv in sorted(ST.kvs.values(),
                                                   key=lambda k: (k["key"], k["label"] or ""))]
        return {"secrets": secrets, "kv": kvs}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64  # the provider opens 8 connections at once

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if isinstance(e, (ssl.SSLError, ConnectionError, socket.timeout, OSError)):
            return
        super().handle_error(request, client_address)


class TLSServer(Server):
    def __init__(self, addr, handler, ctx):
        self.ctx = ctx
        super().__init__(addr, handler)

    def get_request(self):
        sock, addr = super().get_request()
        sock.settimeout(30)
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


def make_certs(d):
    """Uses D/server.crt+key when present, else makes a CA and a leaf with the openssl CLI."""
    os.makedirs(d, exist_ok=True)
    crt, key, ca = (os.path.join(d, n) for n in ("server.crt", "server.key", "ca.crt"))
    if os.path.exists(crt) and os.path.exists(key):
        return crt, key
    cakey, csr, ext = (os.path.join(d, n) for n in ("ca.key", "server.csr", "server.ext"))

    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", cakey, "-out", ca, "-days", "30", "-subj", "/CN=smc-fake-azure-ca")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
                "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey, "-CAcreateserial",
        "-out", crt, "-days", "30", "-extfile", ext)
    return crt, key


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls-port", type=int)
    ap.add_argument("--cert-dir")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--client", action="append", default=[], metavar="ID:SECRET")
    ap.add_argument("--federated-token", metavar="FILE")
    ap.add_argument("--tenant")
    ap.add_argument("--accept-any-token", action="store_true")
    ap.add_argument("--appconfig-credential", metavar="ID:BASE64SECRET")
    ap.add_argument("--kv-page-size", type=int, default=100)
    a = ap.parse_args()
    for c in a.client:
        cid, sep, sec = c.partition(":")
        if not sep or not cid:
            ap.error("--client wants ID:SECRET")
        CFG.clients[cid] = sec
    if a.tenant:
        CFG.tenant, CFG.tenant_strict = a.tenant, True
    CFG.federated_token_file = a.federated_token
    CFG.accept_any_token = a.accept_any_token
    if a.appconfig_credential:
        cid, sep, sec = a.appconfig_credential.partition(":")
        if not sep:
            ap.error("--appconfig-credential wants ID:BASE64SECRET")
        CFG.ac_id, CFG.ac_secret = cid, base64.b64decode(sec)
    CFG.default_kv_page_size = max(1, a.kv_page_size)
    ST.reset()
    if a.tls_port is not None and not a.cert_dir:
        ap.error("--tls-port needs --cert-dir")

    servers = [Server((a.bind, a.port), Handler)]
    ports = "http %d\n" % servers[0].server_address[1]
    if a.tls_port is not None:
        crt, key = make_certs(a.cert_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(crt, key)
        ctx.set_alpn_protocols(["http/1.1"])
        servers.append(TLSServer((a.bind, a.tls_port), Handler, ctx))
        ports += "https %d\n" % servers[1].server_address[1]
    if a.cert_dir:
        os.makedirs(a.cert_dir, exist_ok=True)
        tmp = os.path.join(a.cert_dir, "ports.tmp")
        with open(tmp, "w") as f:
            f.write(ports)
        os.replace(tmp, os.path.join(a.cert_dir, "ports"))
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    for s in servers:
        s.shutdown()


if __name__ == "__main__":
    main()
