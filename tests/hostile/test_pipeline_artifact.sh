#!/usr/bin/env bash
# A Flux-style artifact through the real process tree: `smc sync` on a config whose
# sourceRef is {kind: Artifact, url, digest, revision}, the artifact a real tar.gz served
# by tests/hostile/artifact_server.py on loopback. A good artifact syncs; a bad digest, a
# traversal entry, a symlink leaving the tree, a 404 that never ends and a body over the
# cap each fail with one clear message and leave the store unchanged.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"

repo="$TMP/repo"; srv="$TMP/srv"; store="$TMP/store/store.db"
mkdir -p "$srv"
cp -r "$SMC_SOURCE_DIR/examples" "$repo"; plain_repo "$repo"; rm -rf "$repo/keys"

# tarball NAME [extra python lines]: a tar.gz of the repo like source-controller's
# (relative names, 0644/0755), plus hostile entries added by the extra lines (t = tarfile)
tarball() {
  local name=$1; shift
  python3 - "$repo" "$srv/$name" "$@" <<'PY'
import io, os, sys, tarfile
src, out, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
with tarfile.open(out, "w:gz", format=tarfile.PAX_FORMAT) as t:
    for d, dirs, files in os.walk(src):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            t.add(p, arcname=os.path.relpath(p, src), recursive=False)
    def add(name, data=b"", **kw):
        ti = tarfile.TarInfo(name)
        for k, v in kw.items():
            setattr(ti, k, v)
        ti.size = len(data) if ti.type == tarfile.REGTYPE else 0
        t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
    for line in extra:
        exec(line)
PY
}
digest() { echo "$1:$("${1}sum" "$srv/$2" | cut -d' ' -f1)"; }

tarball good.tar.gz
tarball traversal.tar.gz 'add("../../../tmp/smc-evil.env", b"EVIL=1\n")'
tarball symlink.tar.gz 'add("microservices/payments/deployment-configuration/profiles/dev/leak.env", type=tarfile.SYMTYPE, linkname="/etc/passwd")'

python3 "$SMC_SOURCE_DIR/tests/hostile/artifact_server.py" "$srv" >"$TMP/port" 2>"$TMP/server.log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do grep -q '^PORT ' "$TMP/port" && break; sleep 0.1; done
port=$(awk '/^PORT/ {print $2}' "$TMP/port")
base="http://127.0.0.1:$port"

# config PATH DIGEST [REVISION] [SUBPATH] : writes $TMP/cfg.yaml
config() {
  cat >"$TMP/cfg.yaml" <<EOF
apiVersion: secret-management.octopilot.io/v1beta1
kind: SecretManagerConfig
metadata: {name: artifact, namespace: demo}
spec:
  sourceRef:
    kind: Artifact
    url: "$base$1"
    digest: "$2"
    revision: "${3:-}"
    path: "${4:-}"
  provider: {local: {}}
  secrets: {environment: dev, basePath: microservices}
  configs: {enabled: true}
EOF
}
rows() { python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('select count(*), coalesce(sum(length(value)),0) from versions').fetchone())" "$store"; }

# 1. a good artifact syncs, with its revision
good=$(digest sha256 good.tar.gz)
config /files/good.tar.gz "$good" "main@sha1:1111111111111111111111111111111111111111"
if "$SMC" sync -f "$TMP/cfg.yaml" --store "$store" -o json >"$TMP/1.json" 2>"$TMP/1.err"; then
  ok "good artifact: sync exits 0"
else
  fail "good artifact: $(tail -3 "$TMP/1.err")"
fi
check "good artifact: 8 secrets written" test "$(jget "$TMP/1.json" 'j["secrets"]["written"]')" -eq 8
check "good artifact: 5 configs written" test "$(jget "$TMP/1.json" 'j["configs"]["written"]')" -eq 5
check "good artifact: revision is the artifact's" test "$(jget "$TMP/1.json" 'j["revision"]')" = "main@sha1:1111111111111111111111111111111111111111"
check "good artifact: a value is readable" test "$("$SMC" get --store "$store" --config payments-server_port)" = "8080"
check "good artifact: downloaded once" test "$(grep -c 'GET /files/good.tar.gz 200' "$TMP/server.log")" -eq 1

# 2. the same artifact verified with sha512 and selected by subpath: nothing new
config /files/good.tar.gz "$(digest sha512 good.tar.gz)" "" "microservices/.."
if "$SMC" sync -f "$TMP/cfg.yaml" --store "$store" -o json >"$TMP/2.json" 2>"$TMP/2.err"; then
  fail "a subpath with '..' was accepted"
else
  check "subpath with '..': refused by name" grep -q "must not contain '..'" "$TMP/2.err"
fi
config /files/good.tar.gz "$(digest sha512 good.tar.gz)"
"$SMC" sync -f "$TMP/cfg.yaml" --store "$store" -o json >"$TMP/2.json" 2>"$TMP/2.err" || true
check "sha512 digest: 0 written, 13 unchanged" test "$(jget "$TMP/2.json" 'j["secrets"]["written"] + j["configs"]["written"]'),$(jget "$TMP/2.json" 'j["secrets"]["unchanged"] + j["configs"]["unchanged"]')" = "0,13"
check "sha512 digest: revision falls back to the digest" grep -q '"revision": "sha512:' "$TMP/2.json"

before=$(rows)
# expect_fail NAME PATTERN : the sync fails, stderr matches PATTERN, the store is unchanged
expect_fail() {
  local name=$1 pat=$2
  if "$SMC" sync -f "$TMP/cfg.yaml" --store "$store" -o json >"$TMP/out" 2>"$TMP/err"; then
    fail "$name: exited 0"; return
  fi
  if grep -qE "$pat" "$TMP/err"; then ok "$name: says /$pat/"; else fail "$name: message was: $(tail -3 "$TMP/err")"; fi
  check "$name: failed in stage fetch" test "$(jget "$TMP/out" 'j["error"]["stage"]')" = fetch
  if [ "$(rows)" = "$before" ]; then ok "$name: store unchanged"; else fail "$name: store changed"; fi
}

# 3. a bad digest names both digests
wrong="sha256:$(printf '0%.0s' $(seq 64))"
config /files/good.tar.gz "$wrong"
expect_fail "bad digest" "digest mismatch: expected $wrong, got $good"

# 4. a traversal entry, digest right: refused by the archive reader
config /files/traversal.tar.gz "$(digest sha256 traversal.tar.gz)"
expect_fail "traversal entry" "smc-evil.env.*'\.\.'"
check "traversal entry: nothing created outside" test ! -e /tmp/smc-evil.env

# 5. a symlink leaving the tree
config /files/symlink.tar.gz "$(digest sha256 symlink.tar.gz)"
expect_fail "symlink out of the tree" "leak.env.*outside the tree"

# 6. an artifact that stays 404 (garbage-collected) and one that never ends
config /404/good.tar.gz "$good"
expect_fail "404 forever" "artifact not found \(garbage-collected by source-controller\?\)"
check "404 forever: retried" test "$(grep -c 'GET /404/good.tar.gz 404' "$TMP/server.log")" -ge 3
config /huge-length/good.tar.gz "$good"
expect_fail "body over the cap" "artifact larger than"

# 7. and the good artifact still syncs cleanly afterwards
config /files/good.tar.gz "$good" "main@sha1:1111111111111111111111111111111111111111"
"$SMC" sync -f "$TMP/cfg.yaml" --store "$store" -o json >"$TMP/7.json" 2>"$TMP/7.err" || true
check "after the failures: 0 written" test "$(jget "$TMP/7.json" 'j["secrets"]["written"] + j["configs"]["written"]')" -eq 0
finish
