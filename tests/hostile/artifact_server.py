#!/usr/bin/env python3
"""artifact_server.py: a Flux source-controller stand-in for tests, with faults.

Serves the files of ROOT over HTTP/1.1 on a loopback port (or --port) and prints
"PORT <n>" on stdout once it listens. Paths:

  /files/NAME              the file ROOT/NAME (200, Content-Length)
  /404/NAME                always 404 (a garbage-collected artifact)
  /flaky404/K/NAME         404 for the first K requests of this path, then the file
  /status/CODE/NAME        always that HTTP status
  /stall-headers/NAME      accepts the request and never answers
  /stall-body/NAME         headers and half the file, then nothing (connection held open)
  /trickle/NAME            headers, then one byte every 2 s
  /endless/NAME            chunked body of zeros that never ends
  /huge-length/NAME        Content-Length of 10 GiB, then zeros
  /short/NAME              Content-Length of the whole file, then half of it and close
  /redirect/NAME           302 to /files/NAME (clients must not follow)
  /gzip-encoded/NAME       the file gzip-compressed again with Content-Encoding: gzip

Each request is logged on stderr as "<method> <path> <status>".

    artifact_server.py ROOT [--port N]
"""
import argparse
import gzip
import http.server
import os
import sys
import threading
import time

HOLD_SECONDS = 120  # how long stalled connections are held open


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "smc-test-artifacts/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _log(self, status):
        sys.stderr.write(f"{self.command} {self.path} {status}\n")
        sys.stderr.flush()

    def _file(self, name):
        root = self.server.root
        path = os.path.realpath(os.path.join(root, name))
        if not path.startswith(os.path.realpath(root) + os.sep) or not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            return f.read()

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._log(status)

    def _hold(self):
        try:
            time.sleep(HOLD_SECONDS)
        except Exception:
            pass
        self.close_connection = True

    def do_GET(self):
        parts = self.path.split("?", 1)[0].lstrip("/").split("/")
        kind = parts[0]
        try:
            if kind == "flaky404" and len(parts) >= 3:
                with self.server.lock:
                    n = self.server.counts.get(self.path, 0)
                    self.server.counts[self.path] = n + 1
                if n < int(parts[1]):
                    return self._send(404, b"404 page not found\n")
                name = "/".join(parts[2:])
            elif kind == "status" and len(parts) >= 3:
                return self._send(int(parts[1]), b"error\n")
            elif kind == "stall-headers":  # with or without a file behind it
                self._log("stall")
                return self._hold()
            else:
                name = "/".join(parts[1:])
            data = self._file(name)
            if kind == "404" or data is None:
                return self._send(404, b"404 page not found\n")
            if kind in ("files", "flaky404"):
                return self._send(200, data, [("Content-Type", "application/gzip")])
            if kind == "redirect":
                return self._send(302, b"", [("Location", "/files/" + name)])
            if kind == "gzip-encoded":
                return self._send(200, gzip.compress(data), [("Content-Encoding", "gzip")])
            if kind in ("stall-body", "trickle", "short"):
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self._log(200)
                if kind == "short":
                    self.close_connection = True
                    return
                if kind == "stall-body":
                    return self._hold()
                for b in data[len(data) // 2:]:
                    time.sleep(2)
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                return
            if kind == "endless":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self._log(200)
                chunk = b"\0" * 65536
                frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
                while True:
                    self.wfile.write(frame)
            if kind == "huge-length":
                self.send_response(200)
                self.send_header("Content-Length", str(10 << 30))
                self.end_headers()
                self._log(200)
                chunk = b"\0" * 65536
                while True:
                    self.wfile.write(chunk)
            return self._send(404, b"unknown fault\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_HEAD = do_GET


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.root = args.root
    srv.counts = {}
    srv.lock = threading.Lock()
    print(f"PORT {srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
