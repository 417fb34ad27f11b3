#!/usr/bin/env bash
# `smc tap` on a running smcd: every edge of the pipeline is mirrored as JSON lines while a
# client is attached, secret fields arrive as their length, and the value itself never.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"

repo="$TMP/repo"; store="$TMP/store/store.db"; sock="$TMP/tap.sock"
cp -r "$SMC_SOURCE_DIR/examples" "$repo"; plain_repo "$repo"; chmod -R a+rX "$repo"
cfg="$repo/local.yaml"
sed -i 's/^  deletionPolicy: Retain/  deletionPolicy: Retain\n  reconcileInterval: 1s/' "$cfg"
canary="tap-canary-$RANDOM$RANDOM$RANDOM"
echo "TAP_CANARY=$canary" >> "$repo/microservices/orders/deployment-configuration/profiles/dev/application.secrets.env"

SMC_LOG_LEVEL=info "$SMC_BINARY_DIR/smcd" -f "$cfg" --store "$store" --tap-socket "$sock" 2>"$TMP/smcd.log" &
smcd=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
check "smcd created the tap socket (0600)" test "$(stat -c %a "$sock")" = 600
"$SMC" tap --socket "$sock" >"$TMP/tap.jsonl" 2>"$TMP/tap.err" &
tap=$!
# a whole reconcile (JOB … RESULT) after attaching: reconcileInterval is 1 s
for _ in $(seq 150); do grep -q '"type":"JOB"' "$TMP/tap.jsonl" 2>/dev/null && grep -q '"type":"VALUES"' "$TMP/tap.jsonl" && grep -q '"type":"RESULT"' "$TMP/tap.jsonl" && break; sleep 0.1; done
kill "$tap"; wait "$tap" 2>/dev/null || true
check "the supervisor told the children to mirror" grep -q 'tap attached' "$TMP/smcd.log"

python3 - "$TMP/tap.jsonl" "$canary" <<'PY' && ok "tap lines are JSON with every pipeline edge and redacted values" || fail "tap content (see above)"
import json, sys
path, canary = sys.argv[1], sys.argv[2]
lines = [json.loads(l) for l in open(path) if l.strip()]
assert lines, "no tap lines"
types = {l["type"] for l in lines}
edges = {l["edge"] for l in lines}
for want in ("JOB", "TREE", "VALUES", "RESULT"):
    assert want in types, (want, types)
for want in ("fetcher-decryptor", "decryptor-syncer", "syncer-watcher"):
    assert want in edges, (want, edges)
values = [l for l in lines if l["type"] == "VALUES"]
assert values, "no VALUES message mirrored"
text = json.dumps(values[0])
assert "TAP_CANARY" in text, "the key name is shown"
assert str(len(canary)) in text, "the canary's length is shown"
for l in lines:
    assert canary not in json.dumps(l), "the canary value leaked into the tap"
print("tap lines:", len(lines), "edges:", sorted(edges))
PY
check "no value in the tap output at all" bash -c "! grep -q '$canary' '$TMP/tap.jsonl'"
for _ in $(seq 100); do grep -q 'tap detached' "$TMP/smcd.log" && break; sleep 0.1; done
check "detaching the last client stops the mirroring" grep -q 'tap detached' "$TMP/smcd.log"
kill -TERM "$smcd"; wait "$smcd" || true
check "the socket is removed at exit" test ! -e "$sock"
check "no value in smcd's log" bash -c "! grep -q '$canary' '$TMP/smcd.log'"
finish
