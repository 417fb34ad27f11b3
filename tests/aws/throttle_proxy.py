#!/usr/bin/env python3
"""A small HTTP proxy in front of moto for the AWS provider tests.

It forwards every request unchanged (Host header included, so SigV4 signatures still
verify upstream), counts requests by action (X-Amz-Target, or Action= for STS Query
calls), and injects faults on demand:

  GET  /_proxy/counts          -> {"secretsmanager.PutSecretValue": 3, ..., "_injected": n}
  POST /_proxy/reset           -> counts and faults cleared
  POST /_proxy/faults {json}   -> {"every": N, "mode": "throttle"|"503"|"503-after",
                                   "actions": ["PutSecretValue", ...] (optional filter),
                                   "retry_after": seconds (optional)}
     throttle  : every Nth matching request is answered 400 ThrottlingException, not forwarded
     503       : every Nth matching request is answered 503, not forwarded
     503-after : every Nth matching request IS forwarded, then its answer is replaced by a
                 503 (the write happened but the client never learns it: retries must be
                 idempotent)

Usage: throttle_proxy.py <listen-port> <upstream-base-url>
Values are never printed.
"""
import http.client
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
COUNTS = {}
FAULT = {"every": 0, "mode": None, "actions": None, "retry_after": None, "seen": 0}
UPSTREAM = None


def action_of(headers, body):
    t = headers.get("X-Amz-Target")
    if t:
        return t
    if body:
        q = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        if "Action" in q:
            return "sts." + q["Action"][0]
    return "other"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _reply(self, status, body, ctype="application/json", extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _control(self, body):
        if self.path == "/_proxy/counts":
            with LOCK:
                return self._reply(200, json.dumps(COUNTS))
        if self.path == "/_proxy/reset":
            with LOCK:
                COUNTS.clear()
                FAULT.update({"every": 0, "mode": None, "actions": None,
                              "retry_after": None, "seen": 0})
            return self._reply(200, "{}")
        if self.path == "/_proxy/faults":
            spec = json.loads(body or b"{}")
            with LOCK:
                FAULT.update({"every": int(spec.get("every", 0)), "mode": spec.get("mode"),
                              "actions": spec.get("actions"),
                              "retry_after": spec.get("retry_after"), "seen": 0})
            return self._reply(200, "{}")
        return self._reply(404, "{}")

    def _handle(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path.startswith("/_proxy/"):
            return self._control(body)
        act = action_of(self.headers, body)
        inject = None
        with LOCK:
            COUNTS[act] = COUNTS.get(act, 0) + 1
            acts = FAULT["actions"]
            if FAULT["every"] > 0 and (not acts or act.split(".")[-1] in acts):
                FAULT["seen"] += 1
                if FAULT["seen"] % FAULT["every"] == 0:
                    inject = FAULT["mode"]
                    COUNTS["_injected"] = COUNTS.get("_injected", 0) + 1
        extra = {}
        if FAULT.get("retry_after") is not None:
            extra["Retry-After"] = str(FAULT["retry_after"])
        if inject == "throttle":
            return self._reply(400, json.dumps({"__type": "ThrottlingException",
                                                "message": "Rate exceeded"}),
                               "application/x-amz-json-1.1",
                               dict(extra, **{"X-Amzn-ErrorType": "ThrottlingException"}))
        if inject == "503":
            return self._reply(503, "Service Unavailable", "text/plain", extra)
        u = urllib.parse.urlparse(UPSTREAM)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() in ("connection", "proxy-connection", "keep-alive"):
                continue
            conn.putheader(k, v)
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        data = resp.read()
        if inject == "503-after":
            conn.close()
            return self._reply(503, "Service Unavailable", "text/plain", extra)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() in ("transfer-encoding", "connection", "content-length", "server",
                             "date"):
                continue
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = _handle
    do_POST = _handle


def main():
    global UPSTREAM
    port = int(sys.argv[1])
    UPSTREAM = sys.argv[2]
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
