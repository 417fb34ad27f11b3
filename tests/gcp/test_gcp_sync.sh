#!/usr/bin/env bash
# test_gcp_sync.sh — ctest label `gcp`: the whole process tree (`smc sync`: smcd + the four
# sandboxed children) against the fake GCP server (tests/fakes/gcp_server.py, itself checked
# by gcloud in tests/fakes/test_gcp_gcloud.sh), on a copy of examples/ plus one plaintext
# service this test edits. Secrets go to Secret Manager, configs to Parameter Manager.
# Credentials: a service-account key registered with the fake, given through
# GOOGLE_APPLICATION_CREDENTIALS (the fake checks the RS256 JWT grant against it); one run
# authenticates through the metadata server instead (GCE_METADATA_HOST). What the fake holds
# is read back from /_fake/state by tests/gcp/check.py, which prints no value.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
FAKE="$SMC_SOURCE_DIR/tests/fakes/gcp_server.py"
CHECK="$SMC_SOURCE_DIR/tests/gcp/check.py"
export PYTHONDONTWRITEBYTECODE=1
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
"$PY" "$FAKE" --port 0 --project test-proj >"$TMP/fake.out" 2>"$TMP/fake.err" &
pids+=($!)
for _ in $(seq 100); do grep -q '^ready$' "$TMP/fake.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready$' "$TMP/fake.out" || { cat "$TMP/fake.err"; echo "FAIL - fake did not start"; exit 1; }
port=$(awk '/^port /{print $2}' "$TMP/fake.out")
F="http://127.0.0.1:$port"

# a service-account key whose token_uri is the fake's, registered there
mkdir -p "$TMP/cred"
"$PY" "$SMC_SOURCE_DIR/tests/fakes/gcp_sa.py" "$TMP/cred/sa.json" --token-uri "$F/token" >/dev/null
chmod 755 "$TMP/cred"; chmod 644 "$TMP/cred/sa.json" # the syncer runs as its own uid under root
curl -sf -XPOST --data-binary @"$TMP/cred/sa.json" "$F/_fake/sa" >/dev/null || { echo "FAIL - register SA"; exit 1; }

count() { curl -s "$F/_fake/counts" | "$PY" -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
creset() { curl -s -XPOST "$F/_fake/counts/reset" >/dev/null; }
ck() { "$PY" "$CHECK" "$F" "$@"; }
nwrites='sum(v for k, v in j.items() if k.split(".")[-1] in ("create","addVersion","patch","delete","disable","destroy"))'

# ---- the repository: examples/ + one plaintext service this test edits ----
repo="$TMP/repo"
cp -r "$SMC_SOURCE_DIR/examples" "$repo"
svc="$repo/microservices/inventory/deployment-configuration/profiles/dev"
mkdir -p "$svc"
canary="canary-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
envf="$svc/application.secrets.env"
cat >"$envf" <<EOT
CANARY_TOKEN=$canary
API_TOKEN=api-v1
OLD_KEY=old-value
KEEP_KEY=keep-value
T1=t-one
T2=t-two
T3=t-three
EOT
printf 'inventory.batch=50\nserver.port=8081\n' >"$svc/application.properties"
chmod -R a+rX "$repo"
keys=()
[ -d "$repo/keys" ] && keys=(--keys "$repo/keys")
sed -e 's/^    local: {}/    gcp: {projectId: test-proj, endpoint: "'"${F//\//\\/}"'\/"}/' \
	-e 's/^    enabled: true/    enabled: true\n    store: parameterManager/' \
	-e 's/^  deletionPolicy: .*/  deletionPolicy: Retain\n  prune: true/' \
	"$repo/local.yaml" >"$repo/gcp.yaml"
grep -q 'gcp: {projectId' "$repo/gcp.yaml" || { echo "FAIL - could not make gcp.yaml"; exit 1; }
grep -q 'store: parameterManager' "$repo/gcp.yaml" || { echo "FAIL - no configs store"; exit 1; }

run=0
# gcp_sync [ARGS] : one `smc sync` with the SA key file; output in $TMP/$run.{json,err}, rc in RC
gcp_sync() {
	run=$((run + 1))
	RC=0
	env -u GCE_METADATA_HOST GOOGLE_APPLICATION_CREDENTIALS="$TMP/cred/sa.json" \
		"$SMC" sync -f "$repo/gcp.yaml" "${keys[@]}" -o json "$@" >"$TMP/$run.json" 2>"$TMP/$run.err" || RC=$?
	J="$TMP/$run.json"
}
item() { jget "$J" "[i['$2'] for i in j['items'] if i['name'] == '$1'][0]" 2>/dev/null; } # item NAME FIELD
nwritten() { jget "$J" 'j["secrets"]["written"] + j["configs"]["written"]'; }

# ---- 1. first sync: every secret and config created, labelled, values as the local store ----
gcp_sync
check "first sync exits 0 (rc $RC)" test "$RC" -eq 0
[ "$RC" -eq 0 ] || { cat "$TMP/$run.err"; cat "$J"; }
check "one OAuth token for the whole sync (JWT grant accepted by the fake)" test "$(count 'j.get("token", 0)')" -eq 1
sed -e 's/^  deletionPolicy: .*/  deletionPolicy: Retain/' "$repo/local.yaml" >"$TMP/local.yaml"
sed -i -e "s#^    path: .*#    path: $repo#" "$TMP/local.yaml"
"$SMC" sync -f "$TMP/local.yaml" --store "$TMP/store/store.db" "${keys[@]}" -o json >"$TMP/local.json" 2>"$TMP/local.err"
check "local store sync of the same repository exits 0" test $? -eq 0
nsec=$(jget "$TMP/local.json" 'j["secrets"]["written"]')
ncfg=$(jget "$TMP/local.json" 'j["configs"]["written"]')
check "gcp: $nsec secrets written like the local store" test "$(jget "$J" 'j["secrets"]["written"]')" -eq "$nsec"
check "gcp: $ncfg configs written like the local store" test "$(jget "$J" 'j["configs"]["written"]')" -eq "$ncfg"
check "at least 14 secrets, 7 configs" test "$nsec" -ge 14 -a "$ncfg" -ge 7
out=$(ck mirror "$J" "$TMP/store/store.db" "$SMC" demo/example) && mrc=0 || mrc=$?
check "every secret: one version, labels managed-by/owner-*, annotation owner, value = local store; every config: an UNFORMATTED parameter with one version = local store: $out" test "$mrc" -eq 0

# ---- 2. second sync: no write ----
creset
gcp_sync
check "second sync exits 0" test "$RC" -eq 0
check "second sync: nothing written" test "$(nwritten)" -eq 0
check "second sync: $((nsec + ncfg)) unchanged" test "$(jget "$J" 'j["secrets"]["unchanged"] + j["configs"]["unchanged"]')" -eq $((nsec + ncfg))
check "second sync: no write request reached the fake" test "$(count "$nwrites")" -eq 0
check "second sync: one secrets.list, one access per secret" test "$(count 'j.get("secrets.list",0)')" -eq 1 -a "$(count 'j.get("versions.access",0)')" -eq "$nsec"

# ---- 3. a value changed in Git: exactly one new version ----
sed -i 's/^API_TOKEN=.*/API_TOKEN=api-v2/' "$envf"
sed -i 's/^inventory.batch=.*/inventory.batch=75/' "$svc/application.properties"
creset
gcp_sync
check "changed value: exit 0" test "$RC" -eq 0
check "changed value: exactly 2 written (one secret, one config)" test "$(nwritten)" -eq 2
check "changed value: one addVersion" test "$(count 'j.get("secrets.addVersion", 0)')" -eq 1
check "changed value: inventory-API_TOKEN has 2 versions" test "$(ck versions inventory-API_TOKEN)" -eq 2
check "changed value: the fake holds the new value" ck value-is inventory-API_TOKEN api-v2
check "changed config: inventory-inventory_batch has 2 versions" test "$(ck pversions inventory-inventory_batch)" -eq 2
check "changed config: the fake holds the new value" ck pvalue-is inventory-inventory_batch 75

# ---- 4. changed by hand (addVersion with curl): put back ----
tok=$(curl -s -XPOST -d '{}' "$F/_fake/token" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
hand=$(printf 'changed-by-hand' | base64)
curl -sf -XPOST -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
	-d '{"payload":{"data":"'"$hand"'"}}' "$F/v1/projects/test-proj/secrets/inventory-API_TOKEN:addVersion" >/dev/null
check "drift: the hand-made version is there" ck value-is inventory-API_TOKEN changed-by-hand
gcp_sync
check "drift: exit 0" test "$RC" -eq 0
check "drift: secret written back" test "$(item inventory-API_TOKEN outcome)" = written
check "drift: value put back" ck value-is inventory-API_TOKEN api-v2
check "drift: 1 written in all" test "$(nwritten)" -eq 1

# ---- 5. a decoy without smc's labels at a colliding name: untouched and refused ----
curl -sf -XPOST -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
	-d '{"labels":{"team":"other"},"replication":{"automatic":{}}}' \
	"$F/v1/projects/test-proj/secrets?secretId=inventory-DECOY" >/dev/null
curl -sf -XPOST -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
	-d '{"payload":{"data":"'"$(printf not-ours | base64)"'"}}' \
	"$F/v1/projects/test-proj/secrets/inventory-DECOY:addVersion" >/dev/null
echo 'DECOY=from-git' >>"$envf"
creset
gcp_sync
check "decoy: smc exits non-zero" test "$RC" -ne 0
check "decoy: listed as refused" test "$(item inventory-DECOY outcome)" = refused
check "decoy: reason names the missing label" bash -c "[[ \"\$1\" == *managed-by* ]]" _ "$(item inventory-DECOY reason)"
check "decoy: the others unchanged" test "$(jget "$J" 'j["secrets"]["unchanged"]')" -eq "$nsec"
check "decoy: value untouched" ck value-is inventory-DECOY not-ours
check "decoy: still unlabelled, one version" test "$(ck describe inventory-DECOY | "$PY" -c 'import json,sys; j=json.load(sys.stdin); print("managed-by" not in j["labels"] and j["versions"] == 1)')" = True
check "decoy: no write but the refused secrets.create" test "$(count "$nwrites - j.get('secrets.create', 0)")" -eq 0
sed -i '/^DECOY=/d' "$envf"

# ---- 6. keys removed from Git: Retain keeps, Disable disables, Delete deletes ----
sed -i '/^OLD_KEY=/d' "$envf"
gcp_sync
check "removed (Retain): exit 0" test "$RC" -eq 0
check "removed (Retain): reported retained" test "$(item inventory-OLD_KEY outcome)" = retained
check "removed (Retain): still there, enabled" test "$(ck describe inventory-OLD_KEY | "$PY" -c 'import json,sys; j=json.load(sys.stdin); print(j["exists"] and j["enabled"] == 1)')" = True
sed -i 's/^  deletionPolicy: .*/  deletionPolicy: Disable/' "$repo/gcp.yaml"
sed -i '/^KEEP_KEY=/d' "$envf"
gcp_sync
check "removed (Disable): exit 0" test "$RC" -eq 0
check "removed (Disable): reported pruned" test "$(item inventory-KEEP_KEY outcome)" = pruned
check "removed (Disable): exists, no enabled version" test "$(ck describe inventory-KEEP_KEY | "$PY" -c 'import json,sys; j=json.load(sys.stdin); print(j["exists"] and j["enabled"] == 0)')" = True
sed -i 's/^  deletionPolicy: .*/  deletionPolicy: Delete/' "$repo/gcp.yaml"
gcp_sync
check "removed (Delete): exit 0" test "$RC" -eq 0
check "removed (Delete): reported pruned" test "$(item inventory-OLD_KEY outcome)" = pruned
check "removed (Delete): deleted" test "$(ck describe inventory-OLD_KEY | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["exists"])')" = False
check "removed (Delete): the decoy is not ours to delete" test "$(ck describe inventory-DECOY | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["exists"])')" = True
sed -i '/^server.port=/d' "$svc/application.properties"
gcp_sync
check "removed config (Delete): reported pruned" test "$(item inventory-server_port outcome)" = pruned
check "removed config (Delete): parameter gone" test "$(ck pversions inventory-server_port)" -eq 0
sed -i 's/^  deletionPolicy: .*/  deletionPolicy: Retain/' "$repo/gcp.yaml"

# ---- 7. injected 429 and 503: converged, no duplicate versions ----
sed -i -e 's/^T1=.*/T1=t-one-2/' -e 's/^T2=.*/T2=t-two-2/' -e 's/^T3=.*/T3=t-three-2/' "$envf"
creset
curl -s -XPOST -d '{"every": 2, "status": 429}' "$F/_fake/faults" >/dev/null
gcp_sync
check "429s: exit 0" test "$RC" -eq 0
check "429s: 3 written" test "$(jget "$J" 'j["secrets"]["written"]')" -eq 3
for t in T1 T2 T3; do
	check "429s: inventory-$t has 2 versions" test "$(ck versions "inventory-$t")" -eq 2
done
check "429s: T2 holds the new value" ck value-is inventory-T2 t-two-2
sed -i -e 's/^T1=.*/T1=t-one-3/' -e 's/^T2=.*/T2=t-two-3/' -e 's/^T3=.*/T3=t-three-3/' "$envf"
creset
curl -s -XPOST -d '{"every": 2, "status": 503}' "$F/_fake/faults" >/dev/null
gcp_sync
check "503s: exit 0" test "$RC" -eq 0
[ "$RC" -eq 0 ] || jget "$J" '[(i["name"], i["reason"]) for i in j["items"] if i["outcome"] == "failed"]'
check "503s: faults hit requests (more requests than operations)" test "$(count 'sum(j.values())')" -gt $((nsec + 3 * 2 + 2))
for t in T1 T2 T3; do
	check "503s: inventory-$t has 3 versions, no duplicate" test "$(ck versions "inventory-$t")" -eq 3
done
check "503s: T3 holds the new value" ck value-is inventory-T3 t-three-3
sed -i -e 's/^T1=.*/T1=t-one-4/' -e 's/^T2=.*/T2=t-two-4/' -e 's/^T3=.*/T3=t-three-4/' "$envf"
creset
curl -s -XPOST -d '{"every": 2, "status": 500, "ops": ["secrets.addVersion"], "times": 2}' "$F/_fake/faults" >/dev/null
gcp_sync
check "500s on addVersion (read back, then written again): exit 0" test "$RC" -eq 0
check "500s: two faults, so at least 5 addVersion requests and read-backs" test "$(count 'j.get("secrets.addVersion",0)')" -ge 5
for t in T1 T2 T3; do
	check "500s: inventory-$t has 4 versions, no duplicate" test "$(ck versions "inventory-$t")" -eq 4
done
check "500s: T1 holds the new value" ck value-is inventory-T1 t-one-4
curl -s -XPOST -d '{"every": 0}' "$F/_fake/faults" >/dev/null

# ---- 8. the metadata server (GKE Workload Identity) instead of a key file ----
creset
run=$((run + 1)); RC=0
env -u GOOGLE_APPLICATION_CREDENTIALS GCE_METADATA_HOST="127.0.0.1:$port" SMC_LOG_LEVEL=debug \
	"$SMC" sync -f "$repo/gcp.yaml" "${keys[@]}" -o json >"$TMP/$run.json" 2>"$TMP/$run.err" || RC=$?
J="$TMP/$run.json"
check "metadata server: exit 0" test "$RC" -eq 0
check "metadata server: one metadata token, no JWT grant" test "$(count 'j.get("metadata.token",0)')" -eq 1 -a "$(count 'j.get("token",0)')" -eq 0
check "metadata server: nothing to write" test "$(nwritten)" -eq 0
check "debug run: the request log names operations" grep -q 'versions.access' "$TMP/$run.err"

# ---- 9. no value, token or assertion in any output ----
check "the canary never appears in smc's stdout or stderr" bash -c "! grep -l -F -e '$canary' \"\$@\"" _ "$TMP"/[0-9]*.json "$TMP"/[0-9]*.err
check "no value of this test appears in any output" bash -c "! grep -l -e 'api-v2' -e 'changed-by-hand' -e 'not-ours' -e 't-three-3' -e 'keep-value' \"\$@\"" _ "$TMP"/[0-9]*.json "$TMP"/[0-9]*.err
check "no token, JWT or private key in any output" bash -c "! grep -l -e 'ya29' -e 'eyJ' -e 'PRIVATE KEY' -e 'Bearer' \"\$@\"" _ "$TMP"/[0-9]*.json "$TMP"/[0-9]*.err
finish
