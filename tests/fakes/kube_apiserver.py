#!/usr/bin/env python3
"""A fake Kubernetes API server for smc's tests.

  python3 tests/fakes/kube_apiserver.py --port P [--tls-port Q --cert-dir DIR]
      [--crd-dir deploy/crd] [--state-dump FILE] [--token T] [--bookmark-interval S]
      [--history N] [--watch-expired event|status] [--http-require-token]

Serves plain HTTP (a bearer token is checked when sent; anonymous requests are admitted,
like the old insecure port, unless --http-require-token: kubectl never sends credentials
over HTTP, kubernetes/kubectl#744) and HTTPS (generated CA; a client certificate or the
bearer token is required). Into --cert-dir it writes ca.crt, client.crt/.key, token,
kubeconfig-http.yaml, kubeconfig-https.yaml (client certificate) and
kubeconfig-https-token.yaml, then prints "ready" once listening (--port 0 picks a free
port; the kubeconfigs carry the real ones). Semantics follow
../shared/docs/wire-protocols-and-local-peers.md §4; with --state-dump FILE every stored
object is written to FILE after each change and at exit.

Test hooks (no auth needed):
  POST /fake/compact          drop the watch history: older RVs now get 410 Gone;
                              ?expireWatches=true also ends open watches with an ERROR 410
  POST /fake/expire-watches   end every open watch with an in-stream ERROR 410 event
  POST /fake/config           {"watchExpired": "event"|"status", "bookmarkInterval": s}
  POST /fake/inject           {"method","pathRegex","code","count","retryAfter"}: fail requests
  GET  /fake/state            every stored object;  GET/DELETE /fake/requests  request log
"""
import argparse
import collections
import copy
import json
import os
import random
import re
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kube import certs                       # noqa: E402
from kube import pb                          # noqa: E402
from kube import registry as R               # noqa: E402
from kube.store import Store                 # noqa: E402
from kube.util import ApiError, bad_request, parse_bool  # noqa: E402

try:
    import yaml
except ImportError:          # JSON bodies still work; YAML CRD files need PyYAML
    yaml = None

MAX_BODY = 4 * 1024 * 1024
NOT_FOUND_MSG = "the server could not find the requested resource"
MAX_REQUEST_LOG = 1000
DEFAULT_WATCH_TIMEOUT = 1800
DEFAULT_TOKEN = "smc-fake-token"
VERSION = {"major": "1", "minor": "30", "gitVersion": "v1.30.0-smc-fake",
           "gitCommit": "0" * 40, "gitTreeState": "clean",
           "buildDate": "2024-01-01T00:00:00Z", "goVersion": "go1.22.0", "compiler": "gc",
           "platform": "linux/amd64"}


class Config:
    token = DEFAULT_TOKEN
    bookmark_interval = 1.0
    watch_expired = "event"
    state_dump = None
    http_require_token = False


CFG = Config()
STORE = None
REQUEST_LOG = collections.deque(maxlen=MAX_REQUEST_LOG)
INJECT = []
INJECT_LOCK = threading.Lock()
OPEN_WATCHES = [0]


def _accepts_table(accept):
    return "as=Table" in (accept or "")


def _aggregated_version(accept):
    """The first APIGroupDiscoveryList version the client accepts, or None."""
    for part in (accept or "").split(","):
        if "as=APIGroupDiscoveryList" in part and "g=apidiscovery.k8s.io" in part:
            m = re.search(r"v=(v2beta1|v2)\b", part)
            if m:
                return m.group(1)
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "smc-fake-kube-apiserver"
    timeout = 600

    def log_message(self, fmt, *args):     # quiet; the request log is at /fake/requests
        pass

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
            # the handshake deadline must not close idle keep-alive connections later:
            # a client reusing one (urllib3 does, for POSTs too) would see it vanish
            self.request.settimeout(None)
        super().setup()

    # ---- plumbing ---------------------------------------------------------------------
    def _send(self, code, body, ctype="application/json", headers=None):
        data = body if isinstance(body, bytes) else (json.dumps(body) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self._code = code

    def _error(self, e):
        h = dict(e.headers)
        self._send(e.code, e.status(), headers=h)

    def _body(self):
        """The request body, read once (so that every answer leaves the connection clean
        for the next keep-alive request)."""
        if self._raw is None:
            self._raw = self._read_body()
        return self._raw

    def _read_body(self):
        n = self.headers.get("Content-Length")
        if n is None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return self._read_chunked()
            return b""
        n = int(n)
        if n > MAX_BODY:
            raise ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is "
                           "3145728")
        return self.rfile.read(n)

    def _read_chunked(self):
        out = b""
        while True:
            line = self.rfile.readline(1024)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline(1024)
                return out
            out += self.rfile.read(size)
            self.rfile.readline(16)
            if len(out) > MAX_BODY:
                raise ApiError(413, "RequestEntityTooLarge", "Request entity too large")

    def _parse(self, raw, ctype):
        if not raw:
            return None
        if ctype == "application/vnd.kubernetes.protobuf":
            return pb.decode(raw)
        try:
            if ctype == "application/apply-patch+yaml" or ctype.endswith("yaml"):
                if yaml is None:
                    return json.loads(raw)
                return yaml.safe_load(raw)
            return json.loads(raw)
        except Exception as e:   # noqa: BLE001 - any decode error is the client's
            raise bad_request("couldn't get version/kind; json parse error: %s" % str(e)[:200])

    def _user(self):
        if isinstance(self.connection, ssl.SSLSocket):
            cert = self.connection.getpeercert()
            if cert:
                for rdn in cert.get("subject", ()):
                    for k, v in rdn:
                        if k == "commonName":
                            return v
        auth = self.headers.get("Authorization")
        if auth is not None:
            if auth.startswith("Bearer ") and auth[7:].strip() == CFG.token:
                return "system:serviceaccount:smc:token"
            return None
        # kubectl (client-go) never sends credentials over plain HTTP
        # (kubernetes/kubectl#744), so HTTP is the old apiserver's "insecure port":
        # anonymous requests are admitted unless --http-require-token is given.
        if not isinstance(self.connection, ssl.SSLSocket) and not CFG.http_require_token:
            return "system:anonymous-insecure-port"
        return None

    def do_GET(self):
        self._handle("GET")

    def do_HEAD(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")

    def _handle(self, method):
        self._code = 0
        self._raw = None
        u = urllib.parse.urlsplit(self.path)
        path = u.path
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True).items()}
        user = None
        try:
            self._body()
            if path.startswith("/fake/"):
                return self._fake(method, path, q)
            if path not in ("/version", "/healthz", "/readyz", "/livez"):
                user = self._user()
                if user is None:
                    self._body()
                    raise ApiError(401, "Unauthorized", "Unauthorized")
            inj = self._injected(method, path)
            if inj is not None:
                self._body()
                raise inj
            self._route(method, path, q)
        except ApiError as e:
            self._error(e)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception as e:  # noqa: BLE001 - answer 500 like an apiserver would
            import traceback
            traceback.print_exc()
            try:
                self._error(ApiError(500, "InternalError", "Internal error occurred: %s" % e))
            except OSError:
                self.close_connection = True
        finally:
            REQUEST_LOG.append({"method": method, "path": path, "query": q,
                                "contentType": self.headers.get("Content-Type", ""),
                                "userAgent": self.headers.get("User-Agent", ""),
                                "user": user, "code": self._code, "time": time.time()})

    def _injected(self, method, path):
        with INJECT_LOCK:
            for r in INJECT:
                if r["count"] != 0 and r.get("method", method) == method and \
                        re.search(r.get("pathRegex", ""), path):
                    r["count"] -= 1
                    code = int(r.get("code", 500))
                    reasons = {429: "TooManyRequests", 500: "InternalError",
                               503: "ServiceUnavailable", 504: "Timeout", 403: "Forbidden",
                               401: "Unauthorized"}
                    e = ApiError(code, reasons.get(code, "Unknown"),
                                 r.get("message", "injected failure"))
                    if r.get("retryAfter") is not None:
                        e.headers["Retry-After"] = str(r["retryAfter"])
                        e.details = {"retryAfterSeconds": int(r["retryAfter"])}
                    return e
        return None

    # ---- test hooks -------------------------------------------------------------------
    def _fake(self, method, path, q):
        raw = self._body()
        body = json.loads(raw) if raw else {}
        if path == "/fake/compact" and method == "POST":
            rv = STORE.compact()
            if parse_bool(q.get("expireWatches", "") or str(body.get("expireWatches", "")
                                                                 ).lower()):
                STORE.expire_watches()
            return self._send(200, {"compactedResourceVersion": str(rv)})
        if path == "/fake/expire-watches" and method == "POST":
            STORE.expire_watches()
            return self._send(200, {"expired": True})
        if path == "/fake/config" and method == "POST":
            if "watchExpired" in body:
                if body["watchExpired"] not in ("event", "status"):
                    raise bad_request("watchExpired must be event or status")
                CFG.watch_expired = body["watchExpired"]
            if "bookmarkInterval" in body:
                CFG.bookmark_interval = max(0.05, float(body["bookmarkInterval"]))
            return self._send(200, {"watchExpired": CFG.watch_expired,
                                    "bookmarkInterval": CFG.bookmark_interval})
        if path == "/fake/inject" and method == "POST":
            with INJECT_LOCK:
                if body.get("clear"):
                    INJECT.clear()
                else:
                    body.setdefault("count", 1)
                    INJECT.append(body)
            return self._send(200, {"rules": len(INJECT)})
        if path == "/fake/state" and method == "GET":
            return self._send(200, STORE.dump())
        if path == "/fake/requests":
            if method == "DELETE":
                REQUEST_LOG.clear()
                return self._send(200, {})
            return self._send(200, {"requests": list(REQUEST_LOG),
                                    "openWatches": OPEN_WATCHES[0]})
        raise ApiError(404, "NotFound", "no such test hook")

    # ---- routing ----------------------------------------------------------------------
    def _route(self, method, path, q):
        accept = self.headers.get("Accept", "")
        parts = [p for p in path.split("/") if p]
        if path in ("/healthz", "/readyz", "/livez"):
            return self._send(200, b"ok", "text/plain; charset=utf-8")
        if path == "/version":
            return self._send(200, VERSION)
        if parts[:2] == ["openapi", "v3"]:
            return self._openapi(parts[2:])
        if parts[:2] == ["openapi", "v2"]:
            raise ApiError(404, "NotFound", NOT_FOUND_MSG, {})
        if not parts or parts[0] not in ("api", "apis"):
            if not parts:
                return self._send(200, {"paths": ["/api", "/api/v1", "/apis", "/openapi/v3",
                                                  "/version", "/healthz"]})
            raise ApiError(404, "NotFound", NOT_FOUND_MSG, {})
        with STORE.cond:
            if parts[0] == "api":
                if len(parts) == 1:
                    av = _aggregated_version(accept)
                    if av:
                        return self._send(200, STORE.reg.aggregated(True, av),
                                          "application/json;g=apidiscovery.k8s.io;v=%s;"
                                          "as=APIGroupDiscoveryList" % av)
                    return self._send(200, {"kind": "APIVersions", "versions": ["v1"],
                                            "serverAddressByClientCIDRs": [{
                                                "clientCIDR": "0.0.0.0/0",
                                                "serverAddress": self.headers.get(
                                                    "Host", "127.0.0.1")}]})
                group, version, rest = "", parts[1], parts[2:]
            else:
                if len(parts) == 1:
                    av = _aggregated_version(accept)
                    if av:
                        return self._send(200, STORE.reg.aggregated(False, av),
                                          "application/json;g=apidiscovery.k8s.io;v=%s;"
                                          "as=APIGroupDiscoveryList" % av)
                    return self._send(200, STORE.reg.api_group_list())
                if len(parts) == 2:
                    for g, vs in STORE.reg.groups():
                        if g == parts[1]:
                            return self._send(200, STORE.reg.api_group(g, vs))
                    raise ApiError(404, "NotFound", NOT_FOUND_MSG, {})
                group, version, rest = parts[1], parts[2], parts[3:]
            if not rest:
                doc = STORE.reg.api_resource_list(group, version)
                if doc is None:
                    raise ApiError(404, "NotFound", NOT_FOUND_MSG, {})
                return self._send(200, doc)
            watch = False
            if rest[0] == "watch":
                watch, rest = True, rest[1:]
            ns = None
            if len(rest) >= 3 and rest[0] == "namespaces":
                rt3 = STORE.reg.get(group, version, rest[2])
                if rt3 is not None and rt3.namespaced:
                    ns, rest = rest[1], rest[2:]
            if not rest:
                raise ApiError(404, "NotFound", "the server could not find the requested "
                               "resource", {})
            rt = STORE.reg.get(group, version, rest[0])
            name = rest[1] if len(rest) > 1 else None
            sub = rest[2] if len(rest) > 2 else ""
            if rt is None or len(rest) > 3 or (sub and not (sub == "status" and rt.status)) \
                    or (ns is not None and not rt.namespaced) \
                    or (rt.namespaced and ns is None and name is not None):
                raise ApiError(404, "NotFound", "the server could not find the requested "
                               "resource", {})
        if watch or (method == "GET" and name is None and "watch" in q and
                     parse_bool(q["watch"], "watch")):
            if method != "GET":
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            return self._watch(rt, ns, q, _accepts_table(accept))
        self._verb(method, rt, ns, name, sub, q, accept)

    def _manager(self, q):
        m = q.get("fieldManager")
        if m:
            if len(m) > 128:
                raise bad_request("fieldManager: Too long: may not be longer than 128")
            return m
        ua = self.headers.get("User-Agent", "unknown")
        return ua.split("/")[0][:128] or "unknown"

    def _verb(self, method, rt, ns, name, sub, q, accept):
        warnings = []
        for k in ("fieldValidation",):
            if q.get(k) and q[k] not in ("Ignore", "Warn", "Strict"):
                raise bad_request('fieldValidation: Unsupported value: "%s"' % q[k])
        if q.get("dryRun") and q["dryRun"] != "All":
            raise bad_request('dryRun: Unsupported value: "%s"' % q["dryRun"])
        if method == "GET":
            self._body()
            if name is None:
                if rt.namespaced is False and ns:
                    raise ApiError(404, "NotFound", "not found")
                lst = STORE.list(rt, ns, q)
                if _accepts_table(accept):
                    return self._send(200, self._table(rt, lst["items"], q,
                                                       lst["metadata"]), self._table_ct())
                return self._send(200, lst)
            obj = STORE.get(rt, ns, name)
            if _accepts_table(accept):
                return self._send(200, self._table(rt, [obj], q, {
                    "resourceVersion": obj["metadata"].get("resourceVersion", "")}),
                    self._table_ct())
            return self._send(200, obj)
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        raw = self._body()
        if method == "POST":
            if name is not None:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            if rt.namespaced and ns is None:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            obj = self._parse(raw, ctype)
            out = STORE.create(rt, ns, obj, q, warnings, self._manager(q))
            code = 201
        elif method == "PUT":
            if name is None:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            obj = self._parse(raw, ctype)
            out = STORE.update(rt, ns, name, obj, q, sub, warnings, self._manager(q))
            code = 200
        elif method == "PATCH":
            if name is None:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            if ctype not in ("application/json-patch+json", "application/merge-patch+json",
                             "application/strategic-merge-patch+json",
                             "application/apply-patch+yaml"):
                raise ApiError(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - accepted "
                               "media types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml")
            body = self._parse(raw, ctype)
            if body is None:
                raise bad_request("the body of the request was empty")
            mgr = q.get("fieldManager") if ctype == "application/apply-patch+yaml" else \
                self._manager(q)
            out = STORE.patch(rt, ns, name, ctype, body, q, sub, warnings, mgr)
            code = 200
        elif method == "DELETE":
            opts = self._parse(raw, "application/json") if raw else {}
            if name is None:
                items = STORE.delete_collection(rt, ns, q, opts or {})
                return self._send(200, {"kind": rt.list_kind, "apiVersion": rt.gv,
                                        "metadata": {"resourceVersion": str(STORE.rv)},
                                        "items": items})
            if sub:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            out, deleted = STORE.delete(rt, ns, name, opts or {}, q)
            if deleted and rt.builtin and rt.kind not in ("CustomResourceDefinition",
                                                          "Namespace"):
                d = {"name": name, "kind": rt.plural, "uid": out["metadata"].get("uid")}
                if rt.group:
                    d["group"] = rt.group
                return self._send(200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                        "status": "Success", "details": d})
            code = 200
        else:
            raise ApiError(405, "MethodNotAllowed", "method not allowed")
        if warnings:
            # one header per warning (send_header may repeat)
            self.send_response(code)
            data = (json.dumps(out) + "\n").encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for w in warnings:
                self.send_header("Warning", '299 - "%s"' % w.replace('"', '\\"'))
            self.end_headers()
            self.wfile.write(data)
            self._code = code
            return
        self._send(code, out)

    @staticmethod
    def _table_ct():
        return "application/json;as=Table;v=v1;g=meta.k8s.io"

    def _table(self, rt, items, q, meta):
        include = q.get("includeObject") or "Metadata"
        rows = []
        for o in items:
            row = {"cells": STORE.reg.table_cells(rt, o)}
            if include == "Object":
                row["object"] = o
            elif include != "None":
                row["object"] = {"kind": "PartialObjectMetadata",
                                 "apiVersion": "meta.k8s.io/v1",
                                 "metadata": copy.deepcopy(o.get("metadata", {}))}
            rows.append(row)
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
                "columnDefinitions": STORE.reg.table_columns(rt), "rows": rows}

    def _openapi(self, rest):
        with STORE.cond:
            if not rest:
                return self._send(200, STORE.reg.openapi_root())
            if rest[0] == "api" and rest[1:] == ["v1"]:
                doc = STORE.reg.openapi_doc("", "v1")
            elif rest[0] == "apis" and len(rest) == 3:
                doc = STORE.reg.openapi_doc(rest[1], rest[2])
            else:
                doc = None
        if doc is None:
            raise ApiError(404, "NotFound", NOT_FOUND_MSG, {})
        self._send(200, doc)

    # ---- watch ------------------------------------------------------------------------
    def _chunk(self, obj):
        data = (json.dumps(obj) + "\n").encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _watch(self, rt, ns, q, table):
        self._body()
        sel = STORE.selectors(rt, q)
        rvq = q.get("resourceVersion") or ""
        try:
            timeout = int(q.get("timeoutSeconds") or 0)
        except ValueError:
            raise bad_request("invalid timeoutSeconds")
        if timeout <= 0:
            timeout = int(DEFAULT_WATCH_TIMEOUT * (1 + random.random()))
        bookmarks = parse_bool(q.get("allowWatchBookmarks", ""), "allowWatchBookmarks")
        send_initial = q.get("sendInitialEvents")
        send_initial = parse_bool(send_initial) if send_initial is not None else None
        expired = None
        with STORE.cond:
            if rvq not in ("", "0"):
                try:
                    pos = int(rvq)
                except ValueError:
                    raise bad_request("invalid resource version: %s" % rvq)
                if pos < STORE.compacted_rv:
                    expired = "too old resource version: %d (%d)" % (pos, STORE.compacted_rv + 1)
            else:
                pos = STORE.rv
            initial = []
            if expired is None and (rvq in ("", "0") or send_initial):
                for k in sorted(STORE.objects[rt.storage_key], key=lambda x: (x[0] or "", x[1])):
                    o = STORE.objects[rt.storage_key][k]
                    if STORE.matches(rt, ns, sel, o):
                        initial.append(R.from_storage(rt, o))
                pos = STORE.rv
            epoch = STORE.watch_epoch
        if expired and CFG.watch_expired == "status":
            raise ApiError(410, "Expired", expired)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        # the stream ends by closing the connection: say so, or a client pool (urllib3)
        # hands the dead connection to its next request
        self.send_header("Connection", "close")
        self.end_headers()
        self._code = 200
        self.close_connection = True
        with INJECT_LOCK:
            OPEN_WATCHES[0] += 1
        try:
            if expired:
                self._chunk({"type": "ERROR", "object": ApiError(410, "Expired",
                                                                 expired).status()})
                return
            for o in initial:
                self._chunk({"type": "ADDED", "object": self._wobj(rt, o, table)})
            if send_initial and bookmarks:
                self._chunk({"type": "BOOKMARK", "object": self._bookmark(
                    rt, pos, {"k8s.io/initial-events-end": "true"})})
            self._watch_loop(rt, ns, sel, pos, epoch, timeout, bookmarks, table)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        finally:
            with INJECT_LOCK:
                OPEN_WATCHES[0] -= 1

    def _bookmark(self, rt, rv, annotations=None):
        md = {"resourceVersion": str(rv), "creationTimestamp": None}
        if annotations:
            md["annotations"] = annotations
        return {"kind": rt.kind, "apiVersion": rt.gv, "metadata": md}

    def _wobj(self, rt, o, table):
        if not table:
            return o
        return self._table(rt, [o], {"includeObject": "Object"},
                           {"resourceVersion": o.get("metadata", {}).get("resourceVersion", "")})

    def _watch_loop(self, rt, ns, sel, pos, epoch, timeout, bookmarks, table):
        deadline = time.monotonic() + timeout
        next_bm = time.monotonic() + CFG.bookmark_interval
        while True:
            out, bm = [], None
            with STORE.cond:
                while True:
                    if STORE.watch_epoch != epoch or pos < STORE.compacted_rv:
                        msg = "too old resource version: %d (%d)" % (pos, STORE.compacted_rv + 1)
                        out = None
                        break
                    evs = []
                    for e in reversed(STORE.history):
                        if e.rv <= pos:
                            break
                        if e.key == rt.storage_key:
                            evs.append(e)
                    if evs:
                        evs.reverse()
                        for e in evs:
                            now_m = STORE.matches(rt, ns, sel, e.obj)
                            old_m = STORE.matches(rt, ns, sel, e.old)
                            if e.type == "ADDED" and now_m:
                                out.append(("ADDED", e.obj))
                            elif e.type == "MODIFIED":
                                if now_m and old_m:
                                    out.append(("MODIFIED", e.obj))
                                elif now_m:
                                    out.append(("ADDED", e.obj))
                                elif old_m:
                                    out.append(("DELETED", e.obj))
                            elif e.type == "DELETED" and old_m:
                                out.append(("DELETED", e.obj))
                        pos = evs[-1].rv
                        if out:
                            break
                        continue
                    now = time.monotonic()
                    if now >= deadline:
                        return
                    if bookmarks and now >= next_bm:
                        pos = STORE.rv
                        bm = pos
                        next_bm = now + CFG.bookmark_interval
                        break
                    wait = deadline - now
                    if bookmarks:
                        wait = min(wait, next_bm - now)
                    STORE.cond.wait(max(0.01, wait))
            if out is None:
                self._chunk({"type": "ERROR", "object": ApiError(410, "Expired", msg).status()})
                return
            for etype, o in out:
                self._chunk({"type": etype, "object": self._wobj(rt, R.from_storage(rt, o),
                                                                 table)})
            if bm is not None:
                self._chunk({"type": "BOOKMARK", "object": self._bookmark(rt, bm)})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if isinstance(e, (ssl.SSLError, ConnectionError, socket.timeout, OSError)):
            return
        super().handle_error(request, client_address)


class TLSServer(Server):
    def __init__(self, addr, handler, ctx):
        super().__init__(addr, handler)
        self.ctx = ctx

    def get_request(self):
        sock, addr = super().get_request()
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr


def _load_yaml_docs(path):
    with open(path) as f:
        text = f.read()
    if yaml is not None:
        return [d for d in yaml.safe_load_all(text) if d]
    return [json.loads(text)]


def main():
    global STORE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls-port", type=int)
    ap.add_argument("--cert-dir")
    ap.add_argument("--crd-dir")
    ap.add_argument("--state-dump")
    ap.add_argument("--token", default=DEFAULT_TOKEN)
    ap.add_argument("--bookmark-interval", type=float, default=1.0)
    ap.add_argument("--history", type=int, default=1000)
    ap.add_argument("--watch-expired", choices=("event", "status"), default="event")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--http-require-token", action="store_true",
                    help="refuse anonymous plain-HTTP requests (kubectl cannot use HTTP then)")
    a = ap.parse_args()
    if a.tls_port is not None and not a.cert_dir:
        ap.error("--tls-port needs --cert-dir")
    CFG.token = a.token
    CFG.http_require_token = a.http_require_token
    CFG.bookmark_interval = a.bookmark_interval
    CFG.watch_expired = a.watch_expired
    STORE = Store(history=max(10, a.history))
    crd_rt = STORE.reg.get("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    for crd in R.builtin_crds():
        STORE.create(crd_rt, None, crd, {})
    if a.crd_dir:
        for fn in sorted(os.listdir(a.crd_dir)):
            if not fn.endswith((".yaml", ".yml", ".json")) or fn.startswith("kustomization"):
                continue
            for doc in _load_yaml_docs(os.path.join(a.crd_dir, fn)):
                if doc.get("kind") != "CustomResourceDefinition":
                    continue
                try:
                    STORE.create(crd_rt, None, doc, {})
                except ApiError as e:
                    sys.exit("kube_apiserver: %s: %s" % (fn, e.message))
    if a.state_dump:
        STORE.on_change = lambda: STORE.dump_to(a.state_dump)
        STORE.dump_to(a.state_dump)

    httpd = Server((a.bind, a.port), Handler)
    servers = [httpd]
    port = httpd.server_address[1]
    tls_port = None
    if a.tls_port is not None:
        p = certs.make_pki(a.cert_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(p["server.crt"], p["server.key"])
        ctx.load_verify_locations(p["ca.crt"])
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.set_alpn_protocols(["http/1.1"])
        https = TLSServer((a.bind, a.tls_port), Handler, ctx)
        tls_port = https.server_address[1]
        servers.append(https)
    if a.cert_dir:
        os.makedirs(a.cert_dir, exist_ok=True)
        with open(os.path.join(a.cert_dir, "token"), "w") as f:
            f.write(CFG.token)
        certs.write_kubeconfig(os.path.join(a.cert_dir, "kubeconfig-http.yaml"),
                               "http://127.0.0.1:%d" % port, "token-user", token=CFG.token)
        if tls_port is not None:
            p = certs.make_pki(a.cert_dir)
            certs.write_kubeconfig(os.path.join(a.cert_dir, "kubeconfig-https.yaml"),
                                   "https://127.0.0.1:%d" % tls_port, certs.CLIENT_USER,
                                   ca_path=p["ca.crt"], cert=p["client.crt"],
                                   key=p["client.key"])
            certs.write_kubeconfig(os.path.join(a.cert_dir, "kubeconfig-https-token.yaml"),
                                   "https://127.0.0.1:%d" % tls_port, "token-user",
                                   ca_path=p["ca.crt"], token=CFG.token)
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()

    done = threading.Event()

    def stop(*_):
        done.set()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)
    done.wait()
    for s in servers:
        s.shutdown()
    if a.state_dump:
        STORE.dump_to(a.state_dump)


if __name__ == "__main__":
    main()
