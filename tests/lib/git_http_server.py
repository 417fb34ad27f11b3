#!/usr/bin/env python3
"""git_http_server.py: a small smart-HTTP Git server for tests.

Runs the real `git http-backend` (CGI) once per request, with every repository under
ROOT exported, on a free loopback port (or --port). Prints "PORT <n>" on stdout once it
listens, then serves until killed. With --user/--password every request needs HTTP basic
auth; a wrong or missing Authorization header gets 401 and a Basic challenge, with an
empty body: libgit2 1.5.1 replays the request on the same connection without reading a
401's body and then fails with "http parser error: invalid constant string". Each
request is logged on stderr as "<method> <path> <status>".

    git_http_server.py ROOT [--port N] [--user U --password P]
"""
import argparse
import base64
import http.server
import os
import subprocess
import sys

MAX_BODY = 64 << 20  # bytes of one request body


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "smc-test-git-http/1"
    protocol_version = "HTTP/1.1"  # keep-alive, as git servers speak

    def log_message(self, fmt, *args):  # quiet default access log
        pass

    def _authorized(self):
        srv = self.server
        if srv.user is None:
            return True
        want = "Basic " + base64.b64encode(f"{srv.user}:{srv.password}".encode()).decode()
        return self.headers.get("Authorization", "") == want

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                line = self.rfile.readline(1024).strip()
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline(1024).strip():
                        pass  # trailers
                    break
                body += self.rfile.read(size)
                self.rfile.readline(16)  # CRLF after each chunk
                if len(body) > MAX_BODY:
                    raise ValueError("body too large")
            return bytes(body)
        n = int(self.headers.get("Content-Length", "0") or "0")
        if n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n > 0 else b""

    def _reply(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        sys.stderr.write(f"{self.command} {self.path} {status}\n")
        sys.stderr.flush()

    def _handle(self):
        try:
            body = self._read_body()
        except ValueError:
            self._reply(400, [], b"bad body\n")
            return
        if not self._authorized():
            self._reply(401, [("WWW-Authenticate", 'Basic realm="git"')], b"")
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.server.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": self.server.root,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "SERVER_PROTOCOL": "HTTP/1.0",
        }
        if self.server.user is not None:
            env["REMOTE_USER"] = self.server.user
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        proc = subprocess.run(["git", "http-backend"], input=body, env=env,
                              capture_output=True, check=False)
        out = proc.stdout
        head, sep, payload = out.partition(b"\r\n\r\n")
        if not sep:
            head, sep, payload = out.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            if not line.strip():
                continue
            k, _, v = line.partition(":")
            v = v.strip()
            if k.lower() == "status":
                status = int(v.split()[0])
            else:
                headers.append((k, v))
        if proc.returncode != 0 and not sep:
            self._reply(500, [], proc.stderr[-512:])
            return
        self._reply(status, headers, payload)

    do_GET = _handle
    do_POST = _handle


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--user")
    ap.add_argument("--password")
    a = ap.parse_args()
    if (a.user is None) != (a.password is None):
        ap.error("--user and --password go together")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.root = os.path.abspath(a.root)
    srv.user = a.user
    srv.password = a.password
    print(f"PORT {srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
