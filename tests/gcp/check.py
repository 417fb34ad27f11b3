#!/usr/bin/env python3
"""Reads what the fake GCP server holds (GET /_fake/state) for tests/gcp/test_gcp_sync.sh.
Never prints a value: every answer is a count, a boolean or a list of names.

  check.py URL mirror RESULT.json STORE SMC NS/NAME   every item of an `smc sync -o json`
           result exists once with smc's labels/owner and holds what the local store holds
  check.py URL versions NAME         number of versions of secret NAME
  check.py URL value-is NAME VALUE   exit 0 when the newest enabled version of NAME is VALUE
  check.py URL pvalue-is NAME VALUE  the same for parameter NAME (location global)
  check.py URL pversions NAME        number of versions of parameter NAME
  check.py URL describe NAME         {"exists","labels","annotations","enabled","versions"}
"""
import base64
import json
import subprocess
import sys
import urllib.request

PROJECT = "test-proj"


def state(url):
    with urllib.request.urlopen(url.rstrip("/") + "/_fake/state") as r:
        return json.load(r)


def secret(st, name):
    return st["secrets"].get("projects/%s/secrets/%s" % (PROJECT, name))


def param(st, name):
    return st["parameters"].get("projects/%s/locations/global/parameters/%s" % (PROJECT, name))


def latest_secret(s):
    en = [v for v in s["versions"] if v["state"] == "ENABLED"]
    return base64.b64decode(en[-1]["value"]) if en else None


def latest_param(p):
    en = [v for v in p["versions"] if not v["disabled"]]
    return base64.b64decode(en[-1]["value"]) if en else None


def marked(obj, ns, name):
    lab = obj.get("labels") or {}
    return (lab.get("managed-by") == "secret-manager-controller" and
            lab.get("owner-namespace") == ns and lab.get("owner-name") == name)


def mirror(url, result, store, smc, owner):
    st = state(url)
    ns, name = owner.split("/", 1)
    with open(result) as f:
        res = json.load(f)
    bad = []

    def local(n, config):
        argv = [smc, "get", "--store", store] + (["--config"] if config else []) + [n]
        return subprocess.run(argv, check=True, capture_output=True).stdout.rstrip(b"\n")

    for it in res["items"]:
        n = it["name"]
        if it["kind"] == "secret":
            s = secret(st, n)
            ok = (s is not None and marked(s, ns, name) and len(s["versions"]) == 1 and
                  (s.get("annotations") or {}).get("owner") == owner and
                  s["labels"].get("item-kind") == "secret" and
                  latest_secret(s) == local(n, False))
        else:
            p = param(st, n)
            ok = (p is not None and marked(p, ns, name) and len(p["versions"]) == 1 and
                  p.get("format") == "UNFORMATTED" and latest_param(p) == local(n, True))
        if not ok:
            bad.append(n)
    print(json.dumps({"checked": len(res["items"]), "differ": bad}))
    return 1 if bad else 0


def main():
    url, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == "mirror":
        return mirror(url, *args)
    st = state(url)
    if cmd == "versions":
        s = secret(st, args[0])
        print(len(s["versions"]) if s else 0)
        return 0
    if cmd == "pversions":
        p = param(st, args[0])
        print(len(p["versions"]) if p else 0)
        return 0
    if cmd == "value-is":
        s = secret(st, args[0])
        return 0 if s and latest_secret(s) == args[1].encode() else 1
    if cmd == "pvalue-is":
        p = param(st, args[0])
        return 0 if p and latest_param(p) == args[1].encode() else 1
    if cmd == "describe":
        s = secret(st, args[0])
        if s is None:
            print(json.dumps({"exists": False}))
        else:
            print(json.dumps({"exists": True, "labels": s.get("labels") or {},
                              "annotations": s.get("annotations") or {},
                              "versions": len(s["versions"]),
                              "enabled": sum(v["state"] == "ENABLED" for v in s["versions"])}))
        return 0
    print("unknown command", cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
