#!/bin/bash
# env_oracle.sh — differential check of `smc parse --format env` against the real kustomize
# (`kubectl kustomize`, one kustomization with a secretGenerator per case).
#
# usage: env_oracle.sh [CASE_DIR]      (default: tests/oracle/env-cases next to this script)
# env:   SMC (default $SMC_BINARY_DIR/smc, else smc on PATH)
#
# Contract assumed of `smc parse --format env FILE`: exit 0 and one JSON object
# {"KEY": "value", ...} on stdout (values as JSON strings, \u0000 allowed), or a non-zero
# exit with a message "FILE:LINE: ..." on stderr. A case passes when both sides give the
# same map, or both refuse it and smc's message names a line.
# Exit: 0 all agree, 1 a difference, 77 skipped (no kubectl, or no `smc parse`).
# The same check runs without the CLI, on the library, in
# tests/unit/decryptor/test_oracle_env.c.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cases=${1:-$here/env-cases}
smc=${SMC:-${SMC_BINARY_DIR:+$SMC_BINARY_DIR/smc}}
smc=${smc:-smc}
command -v kubectl >/dev/null || { echo "skip: kubectl not installed"; exit 77; }
"$smc" parse --help >/dev/null 2>&1 || { echo "skip: $smc has no 'parse' command"; exit 77; }
work=$(mktemp -d /tmp/smc-env-oracle-XXXXXX)
trap 'rm -rf "$work"' EXIT

exec python3 - "$smc" "$cases" "$work" <<'PY'
import base64, json, os, re, subprocess, sys
import yaml

smc, cases, work = sys.argv[1:4]
names = sorted(n for n in os.listdir(cases) if n.endswith(".env"))
mine, bad = {}, 0
for i, n in enumerate(names):
    p = subprocess.run([smc, "parse", "--format", "env", os.path.join(cases, n)],
                       capture_output=True)
    if p.returncode == 0:
        mine[n] = ("ok", json.loads(p.stdout.decode("utf-8")))
    else:
        mine[n] = ("err", p.stderr.decode("utf-8", "replace"))

def build(sel):
    k = ["generatorOptions:", "  disableNameSuffixHash: true", "secretGenerator:"]
    for i in sel:
        with open(os.path.join(cases, names[i]), "rb") as src, \
             open(os.path.join(work, "c%d.env" % i), "wb") as dst:
            dst.write(src.read())
        k += ["- name: c%d" % i, "  envs: [c%d.env]" % i]
    with open(os.path.join(work, "kustomization.yaml"), "w") as f:
        f.write("\n".join(k) + "\n")
    p = subprocess.run(["kubectl", "kustomize", work], capture_output=True)
    if p.returncode != 0:
        return None
    out = {}
    for doc in yaml.safe_load_all(p.stdout):
        data = doc.get("data") or {}
        out[int(doc["metadata"]["name"][1:])] = {
            k: base64.b64decode(v).decode("utf-8") for k, v in data.items()}
    return out

ok = [i for i, n in enumerate(names) if mine[n][0] == "ok"]
theirs = build(ok)
if theirs is None:
    theirs = {}
    for i in ok:
        r = build([i])
        if r is not None:
            theirs.update(r)
for i in ok:
    n = names[i]
    if i not in theirs:
        print("%s: smc accepts, kustomize refuses" % n); bad += 1
    elif theirs[i] != mine[n][1]:
        print("%s: maps differ: smc keys %s, kustomize keys %s"
              % (n, sorted(mine[n][1]), sorted(theirs[i]))); bad += 1
for i, n in enumerate(names):
    if mine[n][0] != "err":
        continue
    if not re.search(re.escape(n) + r":[1-9][0-9]*:", mine[n][1]):
        print("%s: smc message names no line: %s" % (n, mine[n][1].strip())); bad += 1
    if build([i]) is not None:
        print("%s: smc refuses, kustomize accepts" % n); bad += 1
print("%d cases, %d differ" % (len(names), bad))
sys.exit(1 if bad else 0)
PY
