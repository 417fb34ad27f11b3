#!/usr/bin/env python3
"""A fake Google Cloud (Secret Manager v1, Parameter Manager v1, OAuth2, metadata) for smc's tests.

  python3 tests/fakes/gcp_server.py --port P [--tls-port Q --cert-dir D] [--project test-proj]
      [--sa-key FILE]... [--accept-any-token] [--token-ttl SECONDS] [--metadata-email EMAIL]
      [--project-number N] [--names-by-id] [--verbose]

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
    parameterVersions.create  POST  /parameters/ID/versions?parameterVersionId=V
                                    {"payload":{"data":b64}}
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
                        Refusals are OAuth-shaped:
                        400 {"error":"invalid_grant","error_description":..}
    metadata.token      GET /computeMetadata/v1/instance/service-accounts/default/token
    metadata.email      GET /computeMetadata/v1/instance/service-accounts/default/email
    metadata.project    GET /computeMetadata/v1/project/project-id
    metadata.sa         GET /computeMetadata/v1/instance/service-accounts/default/?recursive=true
                        (the SA's email may stand for "default" in these paths)
                        all /computeMetadata/ requests need "Metadata-Flavor: Google" (403
                        otherwise) and answer with that header. The metadata identity is
                        --metadata-email, else the first --sa-key's client_email, else
                        default@<project>.iam.gserviceaccount.com.

Semantics worth knowing:
  - Secret Manager answers name the project by NUMBER (--project-number, default
    123456789012), as real GCP does: "name":"projects/123456789012/secrets/x/versions/3";
    compare ids (the last segments), not full names. Requests may use the id or the number.
    Error messages and /_fake/state use the id. --names-by-id answers with the id instead.
  - Version numbers count from 1 per secret. "latest" = the most recently created version
    WHATEVER ITS STATE, as real Secret Manager does: when it is DISABLED or DESTROYED,
    access latest fails with 400 FAILED_PRECONDITION "Secret Version [...] is in DISABLED
    state." and does NOT fall back to an older enabled one (seen on real GCP:
    external-secrets/external-secrets#4042, google-github-actions/get-secretmanager-secrets
    #268). 404 NOT_FOUND when the secret has no versions. Access to any DISABLED/DESTROYED
    version: 400 FAILED_PRECONDITION. dataCrc32c on addVersion is verified (400
    INVALID_ARGUMENT on mismatch); access returns dataCrc32c as a decimal string. Payloads
    are at most 65536 bytes. DESTROYED is terminal (enable/disable: 400 FAILED_PRECONDITION).
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
  - parameters.delete of a parameter that still has versions: 400 FAILED_PRECONDITION (the
    docs: "You can only delete parameters that have no active versions"); delete them first.
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
import argparse
import base64
import binascii
import json
import os
import re
import secrets as pysecrets
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import yaml
except ImportError:
    yaml = None

try:     # GCP_FAKE_NO_CRYPTOGRAPHY=1 forces the openssl fallback (the test checks both)
    if os.environ.get("GCP_FAKE_NO_CRYPTOGRAPHY"):
        raise ImportError("disabled")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.exceptions import InvalidSignature
    HAVE_CRYPTOGRAPHY = True
except ImportError:
    HAVE_CRYPTOGRAPHY = False

MAX_BODY = 4 * 1024 * 1024
MAX_SECRET_PAYLOAD = 65536
MAX_PARAM_PAYLOAD = 1024 * 1024
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"

STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                404: "NOT_FOUND", 409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED",
                500: "INTERNAL", 501: "UNIMPLEMENTED", 503: "UNAVAILABLE"}

ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
PARAM_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
LABEL_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VAL_RE = re.compile(r"^[a-z0-9_-]{0,63}$")
ANNOT_KEY_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")
REF_RE = re.compile(r'__REF__\(\s*\\?"?//secretmanager\.googleapis\.com/'
                    r'projects/([^/]+)/secrets/([^/]+)/versions/([^"\\)\s]+)\\?"?\s*\)')


class ApiError(Exception):
    def __init__(self, code, message, status=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.headers = headers or {}


class OAuthError(Exception):
    def __init__(self, error, description, code=400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.code = code


def bad(msg):
    return ApiError(400, msg, "INVALID_ARGUMENT")


def precondition(msg):
    return ApiError(400, msg, "FAILED_PRECONDITION")


def not_found(msg):
    return ApiError(404, msg, "NOT_FOUND")


def aborted(msg):
    return ApiError(409, msg, "ABORTED")


# --- CRC32C (Castagnoli, reflected poly 0x82F63B78) --------------------------------------
_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def now_rfc3339(t=None):
    t = time.time() if t is None else t
    ns = int((t - int(t)) * 1e9)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % ns


def new_etag():
    return '"%s"' % pysecrets.token_hex(7)


def b64decode_strict(s, what):
    if not isinstance(s, str):
        raise bad("%s must be a base64 string." % what)
    try:
        return base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        try:      # the JSON mapping of bytes also accepts URL-safe base64
            return base64.urlsafe_b64decode(s.encode("ascii") + b"=" * (-len(s) % 4))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise bad("%s is not valid base64." % what)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def check_labels(labels, what):
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise bad("%s labels must be a map." % what)
    if len(labels) > 64:
        raise bad("%s has more than 64 labels." % what)
    for k, v in labels.items():
        if not LABEL_KEY_RE.match(k):
            raise bad("%s has an invalid label key [%s]." % (what, k[:63]))
        if not isinstance(v, str) or not LABEL_VAL_RE.match(v):
            raise bad("%s has an invalid value for label [%s]." % (what, k))
    return dict(labels)


def check_annotations(ann, what):
    if ann is None:
        return {}
    if not isinstance(ann, dict):
        raise bad("%s annotations must be a map." % what)
    total = 0
    for k, v in ann.items():
        if not ANNOT_KEY_RE.match(k):
            raise bad("%s has an invalid annotation key [%s]." % (what, k[:63]))
        if not isinstance(v, str):
            raise bad("%s annotation [%s] must be a string." % (what, k))
        total += len(k.encode()) + len(v.encode())
    if total >= 16384:
        raise bad("%s annotations are 16 KiB or more in total." % what)
    return dict(ann)


# --- filters (a subset of AIP-160) -------------------------------------------------------
def _tokens(s):
    out, i = [], 0
    while i < len(s):
        if s[i].isspace():
            i += 1
            continue
        if s[i] in "()":
            raise bad("Filter parentheses are not supported by this fake.")
        j = i
        tok = ""
        while j < len(s) and not s[j].isspace():
            if s[j] == '"':
                k = s.find('"', j + 1)
                if k < 0:
                    raise bad("Unterminated quote in filter.")
                tok += s[j + 1:k]
                j = k + 1
            else:
                tok += s[j]
                j += 1
        out.append(tok)
        i = j
    return out


_TERM_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*)(=|:|!=)(.*)$")


def parse_filter(s, fields):
    """Returns a predicate over a dict of field -> value (labels as 'labels' dict)."""
    if not s or not s.strip():
        return None
    toks = _tokens(s)
    conj = [[]]           # list of disjunctions, each a list of (neg, field, op, val)
    pending_or = False
    neg = False
    for t in toks:
        if t == "AND":
            if pending_or or neg:
                raise bad("Malformed filter.")
            conj.append([])
            continue
        if t == "OR":
            if not conj[-1] or pending_or:
                raise bad("Malformed filter.")
            pending_or = True
            continue
        if t == "NOT":
            neg = True
            continue
        if t.startswith("-"):
            neg, t = True, t[1:]
        m = _TERM_RE.match(t)
        if not m:
            raise bad("Invalid filter term.")
        field, op, val = m.groups()
        top = field.split(".", 1)[0]
        if top not in fields or (top == "labels" and "." not in field):
            raise bad("Unsupported filter field [%s]." % field)
        term = (neg, field, op, val)
        neg = False
        if pending_or:
            conj[-1].append(term)
            pending_or = False
        else:
            if conj[-1]:
                conj.append([])
            conj[-1].append(term)
    if pending_or or neg:
        raise bad("Malformed filter.")
    conj = [d for d in conj if d]

    def term_ok(obj, term):
        neg, field, op, val = term
        if field.startswith("labels."):
            key = field[7:]
            labels = obj.get("labels") or {}
            if op == ":" and val == "*":
                r = key in labels
            elif op == "!=":
                r = labels.get(key) != val
            elif op == ":":
                r = key in labels and val.lower() in labels[key].lower()
            else:
                r = labels.get(key) == val
        else:
            have = str(obj.get(field, ""))
            if op == "=":
                r = have == val
            elif op == "!=":
                r = have != val
            else:
                r = val == "*" or val.lower() in have.lower()
        return r != neg

    return lambda obj: all(any(term_ok(obj, t) for t in d) for d in conj)


def paginate(items, query, what):
    try:
        size = int(query.get("pageSize", "0") or 0)
    except ValueError:
        raise bad("pageSize must be an integer.")
    if size < 0:
        raise bad("pageSize must not be negative.")
    if size == 0 or size > 25000:
        size = 25000
    start = 0
    tok = query.get("pageToken", "")
    if tok:
        try:
            d = json.loads(b64url_decode(tok))
            start = int(d["o"])
            if d.get("w") != what or start < 0:
                raise ValueError
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise bad("Invalid page token.")
    page = items[start:start + size]
    nxt = None
    if start + size < len(items):
        nxt = base64.urlsafe_b64encode(json.dumps({"o": start + size, "w": what}).encode()
                                       ).decode().rstrip("=")
    return page, nxt


# --- the model ---------------------------------------------------------------------------
class State:
    def __init__(self):
        self.lock = threading.RLock()
        self.seq = 0
        self.secrets = {}        # full name -> dict
        self.params = {}         # full name -> dict
        self.counts = {}
        self.fault = None
        self.tokens = {}         # token -> (expiry, email)
        self.sa_keys = {}        # client_email -> list of (kid, public key pem, token_uri)

    def next_seq(self):
        self.seq += 1
        return self.seq

    def reset(self):
        self.secrets.clear()
        self.params.clear()
        self.counts.clear()
        self.fault = None


ST = State()
CFG = None


def issue_token(email, ttl=None):
    tok = "ya29.fake-" + pysecrets.token_urlsafe(24)
    ttl = CFG.token_ttl if ttl is None else ttl
    ST.tokens[tok] = (time.time() + ttl, email)
    return {"access_token": tok, "expires_in": int(ttl), "token_type": "Bearer"}


def register_sa(key):
    if not isinstance(key, dict) or key.get("type") != "service_account":
        raise bad("Not a service-account key.")
    email = key.get("client_email")
    pem = key.get("private_key")
    if not isinstance(email, str) or not isinstance(pem, str):
        raise bad("Service-account key lacks client_email or private_key.")
    pub = public_pem(pem)
    ST.sa_keys.setdefault(email, []).append(
        (key.get("private_key_id"), pub, key.get("token_uri") or GOOGLE_TOKEN_URI))
    return email


def public_pem(private_pem):
    if HAVE_CRYPTOGRAPHY:
        k = serialization.load_pem_private_key(private_pem.encode(), password=None)
        return k.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as f:
        f.write(private_pem)
    try:
        return subprocess.run(["openssl", "pkey", "-in", f.name, "-pubout"], check=True,
                              capture_output=True).stdout
    finally:
        os.unlink(f.name)


def rs256_verify(pub_pem, signed, sig):
    if HAVE_CRYPTOGRAPHY:
        try:
            serialization.load_pem_public_key(pub_pem).verify(
                sig, signed, padding.PKCS1v15(), hashes.SHA256())
            return True
        except (InvalidSignature, ValueError):
            return False
    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for n, data in (("pub", pub_pem), ("sig", sig), ("msg", signed)):
            paths[n] = os.path.join(d, n)
            with open(paths[n], "wb") as f:
                f.write(data)
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", paths["pub"],
                            "-signature", paths["sig"], paths["msg"]], capture_output=True)
        return r.returncode == 0


def verify_jwt(assertion):
    parts = assertion.split(".")
    if len(parts) != 3:
        raise OAuthError("invalid_grant", "Malformed JWT.")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        sig = b64url_decode(parts[2])
    except (ValueError, binascii.Error):
        raise OAuthError("invalid_grant", "Malformed JWT.")
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise OAuthError("invalid_grant", "Malformed JWT.")
    if header.get("alg") != "RS256":
        raise OAuthError("invalid_grant", "JWT alg must be RS256.")
    iss = claims.get("iss")
    keys = ST.sa_keys.get(iss) if isinstance(iss, str) else None
    if not keys:
        raise OAuthError("invalid_grant", "Invalid grant: account not found")
    kid = header.get("kid")
    cands = [k for k in keys if kid is None or k[0] == kid]
    if not cands:
        raise OAuthError("invalid_grant", "Invalid JWT Signature.")
    signed = (parts[0] + "." + parts[1]).encode("ascii")
    match = [k for k in cands if rs256_verify(k[1], signed, sig)]
    if not match:
        raise OAuthError("invalid_grant", "Invalid JWT Signature.")
    aud = claims.get("aud")
    if aud not in (match[0][2], GOOGLE_TOKEN_URI):
        raise OAuthError("invalid_grant", "Invalid JWT: aud is not the token endpoint.")
    now = time.time()
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, (int, float)) or not isinstance(exp, (int, float)):
        raise OAuthError("invalid_grant", "Invalid JWT: iat and exp are required.")
    if iat > now + 300 or exp <= now or exp - iat > 3600 or exp <= iat:
        raise OAuthError("invalid_grant",
                         "Invalid JWT: Token must be a short-lived token (60 minutes) and "
                         "in a reasonable timeframe.")
    scope = claims.get("scope")
    if not isinstance(scope, str) or CLOUD_PLATFORM not in scope.split():
        raise OAuthError("invalid_scope", "The JWT scope lacks cloud-platform.")
    return iss


# --- Secret Manager ----------------------------------------------------------------------
def out_name(name):
    """Secret Manager answers name the project by its number (real behaviour); the fake keeps
    ids internally (and in /_fake/state). --names-by-id turns this off."""
    pre = "projects/%s/" % CFG.project
    if not CFG.names_by_id and name.startswith(pre):
        return "projects/%s/%s" % (CFG.project_number, name[len(pre):])
    return name


def secret_json(s):
    out = {"name": out_name(s["name"]), "replication": s["replication"],
           "createTime": s["createTime"],
           "etag": s["etag"]}
    if s["labels"]:
        out["labels"] = s["labels"]
    if s["annotations"]:
        out["annotations"] = s["annotations"]
    if s["versionAliases"]:
        out["versionAliases"] = {k: str(v) for k, v in s["versionAliases"].items()}
    return out


def version_json(s, v):
    out = {"name": out_name("%s/versions/%d" % (s["name"], v["number"])),
           "createTime": v["createTime"],
           "state": v["state"], "etag": v["etag"],
           "replicationStatus": {"automatic": {}}}
    if v.get("crc_given"):
        out["clientSpecifiedPayloadChecksum"] = True
    if v.get("destroyTime"):
        out["destroyTime"] = v["destroyTime"]
    return out


def get_secret(name):
    s = ST.secrets.get(name)
    if s is None:
        raise not_found("Secret [%s] not found." % name)
    return s


def resolve_version(s, ref):
    vs = s["versions"]
    if ref == "latest":               # the newest version, whatever its state (see docstring)
        if not vs:
            raise not_found("Secret [%s] has no versions." % s["name"])
        return vs[-1]
    if ref.isdigit():
        n = int(ref)
    elif ref in s["versionAliases"]:
        n = s["versionAliases"][ref]
    else:
        raise not_found("Secret Version [%s/versions/%s] not found." % (s["name"], ref))
    if 1 <= n <= len(vs):
        return vs[n - 1]
    raise not_found("Secret Version [%s/versions/%s] not found." % (s["name"], ref))


def check_etag(given, have, what):
    if given not in (None, "") and given != have:
        raise aborted("The etag provided for %s does not match the current etag." % what)


def sm_create(parent, q, body):
    sid = q.get("secretId", "")
    if not ID_RE.match(sid):
        raise bad("secretId must be 1 to 255 characters of [A-Za-z0-9_-].")
    name = "%s/secrets/%s" % (parent, sid)
    what = "Secret [%s]" % name
    rep = body.get("replication")
    if not isinstance(rep, dict) or not (("automatic" in rep) ^ ("userManaged" in rep)):
        raise bad("%s: replication must be set to automatic or userManaged." % what)
    labels = check_labels(body.get("labels"), what)
    ann = check_annotations(body.get("annotations"), what)
    if name in ST.secrets:
        raise ApiError(409, "Secret [%s] already exists." % name, "ALREADY_EXISTS")
    s = {"name": name, "replication": rep, "labels": labels, "annotations": ann,
         "versionAliases": {}, "createTime": now_rfc3339(), "etag": new_etag(),
         "versions": [], "seq": ST.next_seq()}
    ST.secrets[name] = s
    return secret_json(s)


def sm_list(parent, q):
    pred = parse_filter(q.get("filter", ""), ("labels", "name"))
    items = sorted((s for n, s in ST.secrets.items() if n.startswith(parent + "/secrets/")),
                   key=lambda s: -s["seq"])
    if pred:
        items = [s for s in items if pred({"labels": s["labels"], "name": s["name"]})]
    page, nxt = paginate(items, q, "secrets")
    out = {}
    if page:
        out["secrets"] = [secret_json(s) for s in page]
    if nxt:
        out["nextPageToken"] = nxt
    if not pred and items:
        out["totalSize"] = len(items)
    return out


def sm_patch(s, q, body):
    mask = [m.strip() for m in q.get("updateMask", "").split(",") if m.strip()]
    if not mask:
        raise bad("updateMask is required.")
    what = "Secret [%s]" % s["name"]
    check_etag(body.get("etag"), s["etag"], what)
    new = {}
    for m in mask:
        if m == "labels":
            new["labels"] = check_labels(body.get("labels"), what)
        elif m == "annotations":
            new["annotations"] = check_annotations(body.get("annotations"), what)
        elif m in ("versionAliases", "version_aliases"):
            al = body.get("versionAliases") or {}
            if not isinstance(al, dict):
                raise bad("%s: versionAliases must be a map." % what)
            conv = {}
            for k, v in al.items():
                try:
                    n = int(v)
                except (TypeError, ValueError):
                    raise bad("%s: version alias [%s] is not a version number." % (what, k))
                if not 1 <= n <= len(s["versions"]) or k == "latest":
                    raise bad("%s: version alias [%s] is invalid." % (what, k))
                conv[k] = n
            new["versionAliases"] = conv
        else:
            raise bad("%s: updateMask field [%s] is not supported by this fake." % (what, m))
    s.update(new)
    s["etag"] = new_etag()
    return secret_json(s)


def sm_add_version(s, body):
    what = "Secret [%s]" % s["name"]
    p = body.get("payload")
    if not isinstance(p, dict) or "data" not in p:
        raise bad("%s: payload.data is required." % what)
    data = b64decode_strict(p["data"], "payload.data")
    if len(data) > MAX_SECRET_PAYLOAD:
        raise bad("%s: payload is larger than 65536 bytes." % what)
    crc = p.get("dataCrc32c")
    if crc is not None:
        try:
            crc_v = int(crc)
        except (TypeError, ValueError):
            raise bad("%s: dataCrc32c is not an integer." % what)
        if crc_v != crc32c(data):
            raise bad("Checksum mismatch for %s: the provided data_crc32c does not match "
                      "the payload." % what)
    v = {"number": len(s["versions"]) + 1, "state": "ENABLED", "data": data,
         "createTime": now_rfc3339(), "etag": new_etag(), "crc_given": crc is not None}
    s["versions"].append(v)
    return version_json(s, v)


def sm_access(s, v):
    vname = "%s/versions/%d" % (s["name"], v["number"])
    if v["state"] != "ENABLED":
        raise precondition("Secret Version [%s] is in %s state." % (vname, v["state"]))
    return {"name": out_name(vname),
            "payload": {"data": b64(v["data"]), "dataCrc32c": str(crc32c(v["data"]))}}


def sm_version_state(s, v, verb, body):
    vname = "%s/versions/%d" % (s["name"], v["number"])
    check_etag(body.get("etag"), v["etag"], "Secret Version [%s]" % vname)
    if v["state"] == "DESTROYED":
        raise precondition("Secret Version [%s] is in DESTROYED state." % vname)
    if verb == "disable":
        v["state"] = "DISABLED"
    elif verb == "enable":
        v["state"] = "ENABLED"
    else:
        v["state"] = "DESTROYED"
        v["data"] = b""
        v["destroyTime"] = now_rfc3339()
        for k in [k for k, n in s["versionAliases"].items() if n == v["number"]]:
            del s["versionAliases"][k]
    v["etag"] = new_etag()
    return version_json(s, v)


def handle_secrets(method, parent, rest, q, body):
    """rest: path after /secrets ("" | "/ID" | "/ID:verb" | "/ID/versions..." )."""
    if rest == "":
        if method == "POST":
            return "secrets.create", lambda: sm_create(parent, q, body)
        if method == "GET":
            return "secrets.list", lambda: sm_list(parent, q)
        return None, None
    m = re.match(r"^/([^/:]+)(?::([A-Za-z]+))?(/versions(?:/([^/:]+)(?::([A-Za-z]+))?)?)?$", rest)
    if not m:
        return None, None
    sid, sverb, vpart, vref, vverb = m.groups()
    name = "%s/secrets/%s" % (parent, sid)
    if vpart is None:
        if sverb == "addVersion" and method == "POST":
            return "secrets.addVersion", lambda: sm_add_version(get_secret(name), body)
        if sverb:
            return None, None
        if method == "GET":
            return "secrets.get", lambda: secret_json(get_secret(name))
        if method == "PATCH":
            return "secrets.patch", lambda: sm_patch(get_secret(name), q, body)
        if method == "DELETE":
            def delete():
                s = get_secret(name)
                check_etag(q.get("etag"), s["etag"], "Secret [%s]" % name)
                del ST.secrets[name]
                return {}
            return "secrets.delete", delete
        return None, None
    if sverb:
        return None, None
    if vref is None:
        if method != "GET":
            return None, None

        def vlist():
            s = get_secret(name)
            pred = parse_filter(q.get("filter", ""), ("state", "name"))
            items = list(reversed(s["versions"]))
            if pred:
                items = [v for v in items
                         if pred({"state": v["state"],
                                  "name": "%s/versions/%d" % (name, v["number"])})]
            page, nxt = paginate(items, q, "versions")
            out = {}
            if page:
                out["versions"] = [version_json(s, v) for v in page]
            if nxt:
                out["nextPageToken"] = nxt
            if not pred and items:
                out["totalSize"] = len(items)
            return out
        return "versions.list", vlist
    if vverb is None and method == "GET":
        return "versions.get", lambda: (lambda s: version_json(s, resolve_version(s, vref)))(
            get_secret(name))
    if vverb == "access" and method == "GET":
        return "versions.access", lambda: (lambda s: sm_access(s, resolve_version(s, vref)))(
            get_secret(name))
    if vverb in ("disable", "enable", "destroy") and method == "POST":
        return "versions." + vverb, lambda: (lambda s: sm_version_state(
            s, resolve_version(s, vref), vverb, body))(get_secret(name))
    return None, None


# --- Parameter Manager -------------------------------------------------------------------
def param_json(p):
    out = {"name": p["name"], "createTime": p["createTime"], "updateTime": p["updateTime"],
           "format": p["format"],
           "policyMember": {"iamPolicyUidPrincipal": "principal://parametermanager.googleapis"
                            ".com/%s" % p["name"]}}
    if p["labels"]:
        out["labels"] = p["labels"]
    return out


def pversion_json(p, v, full):
    out = {"name": "%s/versions/%s" % (p["name"], v["id"]), "createTime": v["createTime"],
           "updateTime": v["updateTime"]}
    if v["disabled"]:
        out["disabled"] = True
    if full and not v["disabled"]:
        out["payload"] = {"data": b64(v["data"])}
    return out


def get_param(name):
    p = ST.params.get(name)
    if p is None:
        raise not_found("Parameter [%s] not found." % name)
    return p


def get_pversion(p, vid):
    for v in p["versions"]:
        if v["id"] == vid:
            return v
    raise not_found("Parameter Version [%s/versions/%s] not found." % (p["name"], vid))


def validate_payload(fmt, data, what):
    if fmt == "JSON":
        try:
            json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise bad("%s: payload is not valid JSON." % what)
    elif fmt == "YAML" and yaml is not None:
        try:
            yaml.safe_load(data.decode("utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError):
            raise bad("%s: payload is not valid YAML." % what)


def pm_create(parent, q, body):
    pid = q.get("parameterId", "")
    if not PARAM_ID_RE.match(pid):
        raise bad("parameterId must be 1 to 63 characters of [A-Za-z0-9_-].")
    name = "%s/parameters/%s" % (parent, pid)
    what = "Parameter [%s]" % name
    fmt = body.get("format") or "UNFORMATTED"
    if fmt not in ("UNFORMATTED", "JSON", "YAML"):
        raise bad("%s: format must be UNFORMATTED, JSON or YAML." % what)
    labels = check_labels(body.get("labels"), what)
    if name in ST.params:
        raise ApiError(409, "Parameter [%s] already exists." % name, "ALREADY_EXISTS")
    t = now_rfc3339()
    p = {"name": name, "format": fmt, "labels": labels, "createTime": t, "updateTime": t,
         "versions": [], "seq": ST.next_seq()}
    ST.params[name] = p
    return param_json(p)


def pm_patch(p, q, body):
    mask = [m.strip() for m in q.get("updateMask", "").split(",") if m.strip()]
    if not mask:
        raise bad("updateMask is required.")
    what = "Parameter [%s]" % p["name"]
    for m in mask:
        if m == "labels":
            p["labels"] = check_labels(body.get("labels"), what)
        elif m != "kmsKey":
            raise bad("%s: updateMask field [%s] cannot be updated." % (what, m))
    p["updateTime"] = now_rfc3339()
    return param_json(p)


def pm_version_create(p, q, body):
    vid = q.get("parameterVersionId", "")
    if not PARAM_ID_RE.match(vid):
        raise bad("parameterVersionId must be 1 to 63 characters of [A-Za-z0-9_-].")
    what = "Parameter Version [%s/versions/%s]" % (p["name"], vid)
    pl = body.get("payload")
    if not isinstance(pl, dict) or "data" not in pl:
        raise bad("%s: payload.data is required." % what)
    data = b64decode_strict(pl["data"], "payload.data")
    if len(data) > MAX_PARAM_PAYLOAD:
        raise bad("%s: payload is larger than 1 MiB." % what)
    validate_payload(p["format"], data, what)
    if any(v["id"] == vid for v in p["versions"]):
        raise ApiError(409, "%s already exists." % what, "ALREADY_EXISTS")
    t = now_rfc3339()
    v = {"id": vid, "data": data, "disabled": bool(body.get("disabled", False)),
         "createTime": t, "updateTime": t}
    p["versions"].append(v)
    return pversion_json(p, v, True)


def render_refs(p, data):
    if p["format"] == "UNFORMATTED":
        return data
    text = data.decode("utf-8")

    def sub(m):
        proj, sid, vref = m.groups()
        if proj == CFG.project_number:
            proj = CFG.project
        s = get_secret("projects/%s/secrets/%s" % (proj, sid))
        v = resolve_version(s, vref)
        sm_access(s, v)                   # refuses disabled and destroyed versions
        return v["data"].decode("utf-8", "replace")
    return REF_RE.sub(sub, text).encode("utf-8")


def handle_params(method, parent, rest, q, body):
    if rest == "":
        if method == "POST":
            return "parameters.create", lambda: pm_create(parent, q, body)
        if method == "GET":
            def plist():
                pred = parse_filter(q.get("filter", ""), ("labels", "name"))
                items = sorted((p for n, p in ST.params.items()
                                if n.startswith(parent + "/parameters/")), key=lambda p: -p["seq"])
                if pred:
                    items = [p for p in items if pred({"labels": p["labels"], "name": p["name"]})]
                page, nxt = paginate(items, q, "parameters")
                out = {}
                if page:
                    out["parameters"] = [param_json(p) for p in page]
                if nxt:
                    out["nextPageToken"] = nxt
                return out
            return "parameters.list", plist
        return None, None
    m = re.match(r"^/([^/:]+)(/versions(?:/([^/:]+)(?::([A-Za-z]+))?)?)?$", rest)
    if not m:
        return None, None
    pid, vpart, vid, verb = m.groups()
    name = "%s/parameters/%s" % (parent, pid)
    if vpart is None:
        if method == "GET":
            return "parameters.get", lambda: param_json(get_param(name))
        if method == "PATCH":
            return "parameters.patch", lambda: pm_patch(get_param(name), q, body)
        if method == "DELETE":
            def pdelete():
                if get_param(name)["versions"]:
                    raise precondition("Parameter [%s] has versions; delete them first." % name)
                del ST.params[name]
                return {}
            return "parameters.delete", pdelete
        return None, None
    if vid is None:
        if method == "POST":
            return "parameterVersions.create", lambda: pm_version_create(get_param(name), q, body)
        if method == "GET":
            def vlist():
                p = get_param(name)
                items = list(reversed(p["versions"]))
                page, nxt = paginate(items, q, "parameterVersions")
                out = {}
                if page:
                    out["parameterVersions"] = [pversion_json(p, v, False) for v in page]
                if nxt:
                    out["nextPageToken"] = nxt
                return out
            return "parameterVersions.list", vlist
        return None, None
    if verb == "render" and method == "GET":
        def render():
            p = get_param(name)
            v = get_pversion(p, vid)
            vname = "%s/versions/%s" % (name, vid)
            if v["disabled"]:
                raise precondition("Parameter Version [%s] is disabled." % vname)
            return {"parameterVersion": vname, "payload": {"data": b64(v["data"])},
                    "renderedPayload": b64(render_refs(p, v["data"]))}
        return "parameterVersions.render", render
    if verb:
        return None, None
    if method == "GET":
        def vget():
            view = q.get("view", "FULL") or "FULL"
            if view not in ("BASIC", "FULL", "VIEW_UNSPECIFIED"):
                raise bad("view must be BASIC or FULL.")
            p = get_param(name)
            return pversion_json(p, get_pversion(p, vid), view != "BASIC")
        return "parameterVersions.get", vget
    if method == "PATCH":
        def vpatch():
            p = get_param(name)
            v = get_pversion(p, vid)
            mask = [x.strip() for x in q.get("updateMask", "").split(",") if x.strip()]
            if not mask:
                raise bad("updateMask is required.")
            for x in mask:
                if x == "disabled":
                    v["disabled"] = bool(body.get("disabled", False))
                elif x != "kmsKeyVersion":
                    raise bad("Parameter Version field [%s] cannot be updated." % x)
            v["updateTime"] = now_rfc3339()
            return pversion_json(p, v, True)
        return "parameterVersions.patch", vpatch
    if method == "DELETE":
        def vdelete():
            p = get_param(name)
            v = get_pversion(p, vid)
            p["versions"].remove(v)
            return {}
        return "parameterVersions.delete", vdelete
    return None, None


# --- HTTP --------------------------------------------------------------------------------
API_RE = re.compile(r"^/v1/projects/([^/]+)(?:/locations/([^/]+))?/(secrets|parameters)(.*)$")


def route(method, path, q, body):
    m = API_RE.match(path)
    if not m:
        return None, None, None
    proj, loc, coll, rest = m.groups()
    key = CFG.project if proj == CFG.project_number else proj    # objects are kept by id
    if coll == "secrets":
        if loc is not None:
            return None, None, None       # regional secrets: not served
        parent = "projects/%s" % key
        op, fn = handle_secrets(method, parent, rest, q, body)
    else:
        if loc is None:
            return None, None, None
        parent = "projects/%s/locations/%s" % (key, loc)
        op, fn = handle_params(method, parent, rest, q, body)
    return op, fn, proj


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gcp-fake/1"

    def log_message(self, fmt, *args):
        if CFG.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def send_json(self, code, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_text(self, code, text, headers=None):
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/text")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_error_json(self, e):
        self.send_json(e.code, {"error": {"code": e.code, "message": e.message,
                                          "status": e.status}}, e.headers)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise bad("Request body too large.")
        return self.rfile.read(n) if n > 0 else b""

    def count(self, op):
        ST.counts[op] = ST.counts.get(op, 0) + 1

    def maybe_fault(self, op, api):
        f = ST.fault
        if not f:
            return None
        ops = f.get("ops")
        if ops is not None and op not in ops:
            return None
        if ops is None and not api:
            return None
        if f.get("times") is not None and f["injected"] >= f["times"]:
            return None
        f["seen"] += 1
        if f["seen"] % f["every"] != 0:
            return None
        f["injected"] += 1
        st = f["status"]
        hdr = {"Retry-After": "1"} if st == 429 else {}
        return ApiError(st, "Injected fault for %s." % op, STATUS_NAMES.get(st, "UNKNOWN"), hdr)

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):
        self.dispatch("PUT")

    def dispatch(self, method):
        try:
            u = urllib.parse.urlsplit(self.path)
            path = urllib.parse.unquote(u.path)
            q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
            raw = self.read_body()
            with ST.lock:
                if path.startswith("/_fake/"):
                    return self.control(method, path, raw)
                if path == "/token":
                    return self.token(method, raw)
                if path.startswith("/computeMetadata/") or path == "/":
                    return self.metadata(method, path)
                self.api(method, path, q, raw)
        except ApiError as e:
            self.send_error_json(e)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        except Exception as e:           # a bug in the fake: say so, do not hang the client
            sys.stderr.write("gcp-fake: %s %s: %r\n" % (method, self.path, e))
            self.send_error_json(ApiError(500, "Internal error in the fake.", "INTERNAL"))

    def api(self, method, path, q, raw):
        body = {}
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                raise bad("Invalid JSON payload received.")
            if not isinstance(body, dict):
                raise bad("Invalid JSON payload received.")
        op, fn, proj = route(method, path, q, body)
        if op is None:
            raise ApiError(404, "The requested URL %s was not found on this server." % path,
                           "NOT_FOUND")
        self.count(op)
        if not CFG.accept_any_token:
            auth = self.headers.get("Authorization", "")
            tok = auth[7:] if auth.startswith("Bearer ") else None
            ent = ST.tokens.get(tok) if tok else None
            if ent is None or ent[0] <= time.time():
                raise ApiError(401, "Request had invalid authentication credentials. Expected "
                               "OAuth 2 access token, login cookie or other valid "
                               "authentication credential.", "UNAUTHENTICATED",
                               {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
        e = self.maybe_fault(op, True)
        if e:
            raise e
        if proj not in (CFG.project, CFG.project_number):
            raise ApiError(403, "Permission denied on resource project %s." % proj,
                           "PERMISSION_DENIED")
        self.send_json(200, fn())

    def token(self, method, raw):
        self.count("token")
        if method != "POST":
            raise ApiError(405, "Use POST.", "INVALID_ARGUMENT")
        e = self.maybe_fault("token", False)
        if e:
            raise e
        form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace")))
        try:
            if form.get("grant_type") != JWT_BEARER:
                raise OAuthError("unsupported_grant_type", "Invalid grant_type.")
            email = verify_jwt(form.get("assertion", ""))
        except OAuthError as oe:
            return self.send_json(oe.code, {"error": oe.error,
                                            "error_description": oe.description})
        self.send_json(200, issue_token(email))

    def metadata(self, method, path):
        sa = "/computeMetadata/v1/instance/service-accounts/"
        if path.startswith(sa + CFG.metadata_email + "/"):     # the SA by email = default
            path = sa + "default/" + path[len(sa + CFG.metadata_email + "/"):]
        op = {sa + "default/token": "metadata.token",
              sa + "default/email": "metadata.email",
              sa + "default/": "metadata.sa",
              "/computeMetadata/v1/project/project-id": "metadata.project"}.get(path, "metadata")
        self.count(op)
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.send_text(403, "Missing Metadata-Flavor:Google header.",
                                  {"Metadata-Flavor": "Google"})
        e = self.maybe_fault(op, False)
        if e:
            raise e
        mh = {"Metadata-Flavor": "Google"}
        if op == "metadata.token":
            return self.send_json(200, issue_token(CFG.metadata_email), mh)
        if op == "metadata.email":
            return self.send_text(200, CFG.metadata_email, mh)
        if op == "metadata.project":
            return self.send_text(200, CFG.project, mh)
        if op == "metadata.sa":                 # google-auth asks ?recursive=true
            return self.send_json(200, {"aliases": ["default"], "email": CFG.metadata_email,
                                        "scopes": [CLOUD_PLATFORM]}, mh)
        if path in ("/", "/computeMetadata/v1/", "/computeMetadata/v1"):
            return self.send_text(200, "", mh)
        return self.send_text(404, "Not found.", mh)

    def control(self, method, path, raw):
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            raise bad("Invalid JSON.")
        if method == "POST" and path == "/_fake/reset":
            ST.reset()
            return self.send_json(200, {})
        if method == "GET" and path == "/_fake/counts":
            return self.send_json(200, ST.counts)
        if method == "POST" and path == "/_fake/counts/reset":
            ST.counts.clear()
            return self.send_json(200, {})
        if method == "POST" and path == "/_fake/faults":
            every = int(body.get("every", 0) or 0)
            if every <= 0:
                ST.fault = None
                return self.send_json(200, {})
            st = int(body.get("status", 503))
            ops = body.get("ops")
            if ops is not None and (not isinstance(ops, list) or not ops):
                raise bad("ops must be a non-empty list.")
            ST.fault = {"every": every, "status": st, "ops": ops, "times": body.get("times"),
                        "seen": 0, "injected": 0}
            return self.send_json(200, {})
        if method == "GET" and path == "/_fake/state":
            return self.send_json(200, dump_state())
        if method == "POST" and path == "/_fake/sa":
            return self.send_json(200, {"client_email": register_sa(body)})
        if method == "POST" and path == "/_fake/token":
            return self.send_json(200, issue_token(body.get("email", CFG.metadata_email),
                                                   body.get("expires_in")))
        if method == "POST" and path == "/_fake/expire-tokens":
            for t, (_, email) in list(ST.tokens.items()):
                ST.tokens[t] = (0, email)
            return self.send_json(200, {})
        raise not_found("No control endpoint %s %s." % (method, path))


def dump_state():
    out = {"secrets": {}, "parameters": {}}
    for n, s in ST.secrets.items():
        out["secrets"][n] = {
            "labels": s["labels"], "annotations": s["annotations"], "etag": s["etag"],
            "versionAliases": s["versionAliases"],
            "versions": [{"number": v["number"], "state": v["state"], "value": b64(v["data"])}
                         for v in s["versions"]]}
    for n, p in ST.params.items():
        out["parameters"][n] = {
            "format": p["format"], "labels": p["labels"],
            "versions": [{"id": v["id"], "disabled": v["disabled"], "value": b64(v["data"])}
                         for v in p["versions"]]}
    return out


def make_certs(d):
    os.makedirs(d, exist_ok=True)
    crt, key = os.path.join(d, "server.crt"), os.path.join(d, "server.key")
    if os.path.exists(crt) and os.path.exists(key):
        return crt, key
    ca_crt, ca_key = os.path.join(d, "ca.crt"), os.path.join(d, "ca.key")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)   # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=gcp-fake test CA", "-keyout", ca_key, "-out", ca_crt,
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    csr = os.path.join(d, "server.csr")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", key, "-out", csr)
    ext = os.path.join(d, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
        "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt)
    return crt, key


def main():
    global CFG
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls-port", type=int)
    ap.add_argument("--cert-dir")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--project", default="test-proj")
    ap.add_argument("--project-number", default="123456789012")
    ap.add_argument("--sa-key", action="append", default=[])
    ap.add_argument("--accept-any-token", action="store_true")
    ap.add_argument("--token-ttl", type=int, default=3600)
    ap.add_argument("--metadata-email")
    ap.add_argument("--names-by-id", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    CFG = ap.parse_args()
    for f in CFG.sa_key:
        with open(f) as fh:
            email = register_sa(json.load(fh))
        if not CFG.metadata_email:
            CFG.metadata_email = email
    if not CFG.metadata_email:
        CFG.metadata_email = "default@%s.iam.gserviceaccount.com" % CFG.project
    ThreadingHTTPServer.daemon_threads = True
    servers = [ThreadingHTTPServer((CFG.bind, CFG.port), Handler)]
    print("port %d" % servers[0].server_address[1], flush=True)
    if CFG.tls_port is not None:
        if not CFG.cert_dir:
            ap.error("--tls-port needs --cert-dir")
        crt, key = make_certs(CFG.cert_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(crt, key)
        tls = ThreadingHTTPServer((CFG.bind, CFG.tls_port), Handler)
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True,
                                     do_handshake_on_connect=False)
        servers.append(tls)
        print("tls-port %d" % tls.server_address[1], flush=True)
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("ready", flush=True)
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
