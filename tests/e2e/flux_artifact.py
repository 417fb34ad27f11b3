#!/usr/bin/env python3
"""A Flux source-controller stand-in for smc's e2e tests.

  flux_artifact.py pack SRC_DIR OUT.tar.gz [--traversal]
      writes a real gzip'd tarball of SRC_DIR (as source-controller does: regular files
      and directories, relative paths) and prints its digest "sha256:<hex>";
      --traversal adds an entry "../escape.txt"
  flux_artifact.py serve --dir DIR --port P
      serves DIR over HTTP (GET only, 404 for what is missing) and prints "ready"
"""
import argparse
import hashlib
import http.server
import io
import os
import sys
import tarfile


def pack(src, out, traversal=False):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for root, dirs, files in os.walk(src):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(root, name)
                arc = os.path.relpath(path, src)
                info = tar.gettarinfo(path, arcname=arc)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = 0
                with open(path, "rb") as f:
                    tar.addfile(info, f)
        if traversal:
            data = b"escaped=1\n"
            info = tarfile.TarInfo("../escape.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = buf.getvalue()
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, out)
    print("sha256:" + hashlib.sha256(data).hexdigest())


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("artifact: " + (fmt % args) + "\n")


def serve(directory, port):
    handler = lambda *a, **kw: Handler(*a, directory=directory, **kw)  # noqa: E731
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    print("ready", flush=True)
    srv.serve_forever()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack")
    p.add_argument("src")
    p.add_argument("out")
    p.add_argument("--traversal", action="store_true")
    s = sub.add_parser("serve")
    s.add_argument("--dir", required=True)
    s.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    if a.cmd == "pack":
        pack(a.src, a.out, a.traversal)
    else:
        serve(a.dir, a.port)


if __name__ == "__main__":
    main()
