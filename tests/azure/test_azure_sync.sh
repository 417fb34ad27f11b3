#!/usr/bin/env bash
# test_azure_sync.sh — ctest label `azure`: the whole process tree (`smc sync`: smcd + the
# four sandboxed children) against tests/fakes/azure_server.py over HTTP (Key Vault, App
# Configuration, the Entra ID token endpoint and IMDS in one fake), on a copy of examples/
# plus one plaintext service this test edits. Credentials: workload identity (a federated
# token file + AZURE_CLIENT_ID + AZURE_TENANT_ID + AZURE_AUTHORITY_HOST pointing at the
# fake); then the AZURE_CLIENT_SECRET service principal and IMDS managed identity. What the
# fake holds is read back through its /_fake/state (values compared in Python, never
# printed); requests are counted by operation through /_fake/counts.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
FAKE="$SMC_SOURCE_DIR/tests/fakes/azure_server.py"
[ -f "$FAKE" ] || { echo "FAIL - $FAKE is missing"; exit 1; }
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
AZ="http://127.0.0.1:$port"
TENANT=00000000-0000-0000-0000-00000000fa4e
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/tok"; chmod 755 "$TMP/tok"
echo 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c21jIn0.c2ln' >"$TMP/tok/token.jwt"
chmod 644 "$TMP/tok/token.jwt"
setsid "$PY" "$FAKE" --port "$port" --federated-token "$TMP/tok/token.jwt" \
	--client "smc-sp:sp-Secret-$$" >"$TMP/fake.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	grep -q ready "$TMP/fake.log" 2>/dev/null && break
	sleep 0.1
done
grep -q ready "$TMP/fake.log" || { echo "FAIL - the fake did not start"; cat "$TMP/fake.log"; exit 1; }

# fake helpers
state() { curl -sf "$AZ/_fake/state" >"$TMP/state.json"; }
# st EXPR : a Python expression on the fake's state s (secrets) and kv (key-values)
st() { state; "$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); s=j['secrets']; kv=j['kv']; print($1)" "$TMP/state.json"; }
count() { curl -sf "$AZ/_fake/counts" | "$PY" -c "import json,sys; j=json.load(sys.stdin)['counts']; print($1)"; }
injected() { curl -sf "$AZ/_fake/faults" | "$PY" -c 'import json,sys; print((json.load(sys.stdin).get("fault") or {}).get("injected", 0))'; }
reset_counts() { curl -sf -XDELETE "$AZ/_fake/counts" >/dev/null; }
nwrites='sum(j.get(k, 0) for k in ("secrets.set","secrets.update","secrets.delete","secrets.recover","secrets.purge","kv.put","kv.delete","kv.lock"))'
kvtoken() { curl -sf -XPOST -d '{"audience":"https://vault.azure.net"}' "$AZ/_fake/token" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
# by_hand NAME VALUE [TAGS-JSON] : a PUT like `az keyvault secret set` (no tags by default)
by_hand() {
	curl -sf -o /dev/null -XPUT -H "Authorization: Bearer $(kvtoken)" -H 'Content-Type: application/json' \
		-d "{\"value\":\"$2\",\"tags\":${3:-{\}}}" "$AZ/secrets/$1?api-version=7.5"
}
latest() { st "s['$1']['versions'][-1]['$2']"; }        # latest NAME FIELD
nversions() { st "len(s['$1']['versions'])"; }
value_is() { state; "$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j['secrets'][sys.argv[2]]['versions'][-1]['value'] == sys.argv[3] else 1)" "$TMP/state.json" "$1" "$2"; }

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
T1=t-one
T2=t-two
T3=t-three
EOT
printf 'inventory.batch=50\nserver.port=8081\n' >"$svc/application.properties"
chmod -R a+rX "$repo"
keys=()
[ -d "$repo/keys" ] && keys=(--keys "$repo/keys")
sed -e 's#^    local: {}#    azure: {vaultName: smcvault, endpoint: "'"$AZ"'/"}#' \
	-e 's#^    enabled: true#    enabled: true\n    appConfigEndpoint: "'"$AZ"'/"#' \
	"$repo/local.yaml" >"$repo/azure.yaml"
grep -q 'azure: {vaultName' "$repo/azure.yaml" || { echo "FAIL - could not make azure.yaml"; exit 1; }
grep -q 'appConfigEndpoint' "$repo/azure.yaml" || { echo "FAIL - examples config lost configs.enabled"; exit 1; }
policy() { sed -i "s/^  deletionPolicy: .*/  deletionPolicy: $1/" "$repo/azure.yaml"; }

run=0
# az_sync [ENV=V...] : one `smc sync`; output in $TMP/$run.{json,err}, rc in RC. Workload
# identity unless the caller passes other variables (AZ_AUTH=none drops it).
az_sync() {
	local auth=(AZURE_FEDERATED_TOKEN_FILE="$TMP/tok/token.jwt" AZURE_CLIENT_ID=smc-wi
		AZURE_TENANT_ID=$TENANT AZURE_AUTHORITY_HOST="$AZ/")
	[ "${AZ_AUTH:-wi}" = none ] && auth=()
	run=$((run + 1))
	RC=0
	env -u AZURE_FEDERATED_TOKEN_FILE -u AZURE_CLIENT_ID -u AZURE_TENANT_ID -u AZURE_CLIENT_SECRET \
		-u AZURE_AUTHORITY_HOST -u AZURE_IMDS_ENDPOINT -u IDENTITY_ENDPOINT -u IDENTITY_HEADER \
		"${auth[@]}" "$@" \
		"$SMC" "${SMC_CMD:-sync}" -f "$repo/azure.yaml" "${keys[@]}" -o json >"$TMP/$run.json" 2>"$TMP/$run.err" || RC=$?
	J="$TMP/$run.json"
}
item() { jget "$J" "[i['$2'] for i in j['items'] if i['name'] == '$1'][0]" 2>/dev/null; } # item NAME FIELD
written() { jget "$J" 'j["secrets"]["written"] + j["configs"]["written"]'; }

# ---- 1. first sync: every secret and config created, tagged, values as the local store's ----
reset_counts
az_sync
check "first sync exits 0 (rc $RC)" test "$RC" -eq 0
[ "$RC" -eq 0 ] || { tail -5 "$TMP/$run.err"; jget "$J" 'j.get("error")'; }
check "one token per audience (vault + App Configuration)" test "$(count 'j.get("token", 0)')" -eq 2
# expected values: the same repository through the embedded store (an independent path)
sed -e 's/^  deletionPolicy: .*/  deletionPolicy: Retain/' "$repo/local.yaml" >"$TMP/local.yaml"
sed -i -e "s#^    path: .*#    path: $repo#" "$TMP/local.yaml"
"$SMC" sync -f "$TMP/local.yaml" --store "$TMP/store/store.db" "${keys[@]}" -o json >"$TMP/local.json" 2>"$TMP/local.err"
check "local store sync of the same repository exits 0" test $? -eq 0
nsec=$(jget "$TMP/local.json" 'j["secrets"]["written"]')
ncfg=$(jget "$TMP/local.json" 'j["configs"]["written"]')
check "azure: $nsec secrets written like the local store" test "$(jget "$J" 'j["secrets"]["written"]')" -eq "$nsec"
check "azure: $ncfg configs written like the local store" test "$(jget "$J" 'j["configs"]["written"]')" -eq "$ncfg"
check "at least 14 secrets, 7 configs" test "$nsec" -ge 14 -a "$ncfg" -ge 7
state
cat >"$TMP/mirror.py" <<'EOT'
# mirror.py STATE LOCAL_JSON STORE SMC OWNER ENV: every local-store item exists in the fake
# under its Azure name (local name with '_' -> '-', runs collapsed), tagged, same value.
# Prints only names; exits 1 on any difference.
import json, re, subprocess, sys
state, local, store, smc, owner, env = sys.argv[1:]
st = json.load(open(state)); loc = json.load(open(local))
bad = []
def az(n): return re.sub(r'-+', '-', n.replace('_', '-')).strip('-')
def tags_ok(t): return t.get('managed-by') == 'secret-manager-controller' and t.get('owner') == owner
kvs = {(k['key'], k['label']): k for k in st['kv']}
for it in loc['items']:
    name = az(it['name'])
    args = [smc, 'get', '--store', store] + (['--config'] if it['kind'] == 'config' else []) + [it['name']]
    want = subprocess.run(args, capture_output=True).stdout
    if want.endswith(b'\n'): want = want[:-1]
    if it['kind'] == 'secret':
        s = st['secrets'].get(name)
        if s is None or s['deleted']: bad.append('missing secret ' + name); continue
        v = s['versions'][-1]
        if len(s['versions']) != 1: bad.append('versions ' + name)
        if not tags_ok(v['tags']): bad.append('tags ' + name)
        if not v['enabled']: bad.append('disabled ' + name)
        if v['value'].encode() != want: bad.append('value ' + name)
    else:
        k = kvs.get((name, env))
        if k is None: bad.append('missing kv ' + name); continue
        if not tags_ok(k['tags']): bad.append('kv tags ' + name)
        if (k['value'] or '').encode() != want: bad.append('kv value ' + name)
extra = [n for n in st['secrets'] if not any(az(i['name']) == n for i in loc['items'])]
if extra: bad.append('extra secrets ' + ','.join(extra))
print(' '.join(bad) or 'ok')
sys.exit(1 if bad else 0)
EOT
mirror_out=$("$PY" "$TMP/mirror.py" "$TMP/state.json" "$TMP/local.json" "$TMP/store/store.db" "$SMC" demo/example dev) && mrc=0 || mrc=$?
check "every secret/config exists once, tagged managed-by + owner, value as in the local store: $mirror_out" test "$mrc" -eq 0
check "inventory's server.port and orders' do not collide" test "$(st "[k['value'] for k in kv if k['key'] == 'inventory-server-port'][0]")" = 8081

# ---- 2. second sync: no write ----
reset_counts
az_sync
check "second sync exits 0" test "$RC" -eq 0
check "second sync: nothing written" test "$(written)" -eq 0
check "second sync: $((nsec + ncfg)) unchanged" test "$(jget "$J" 'j["secrets"]["unchanged"] + j["configs"]["unchanged"]')" -eq $((nsec + ncfg))
check "second sync: no write request reached the fake" test "$(count "$nwrites")" -eq 0
check "second sync: one list + one GET per secret, one App Configuration list" \
	test "$(count 'j.get("secrets.list",0)')" -eq 1 -a "$(count 'j.get("secrets.get",0)')" -eq "$nsec" -a "$(count 'j.get("kv.list",0)')" -eq 1

# ---- 3. a value changed in Git: exactly one new version ----
sed -i 's/^API_TOKEN=.*/API_TOKEN=api-v2/' "$envf"
reset_counts
az_sync
check "changed value: exit 0" test "$RC" -eq 0
check "changed value: exactly 1 written" test "$(written)" -eq 1
check "changed value: one secrets.set" test "$(count 'j.get("secrets.set", 0)')" -eq 1
check "changed value: inventory-API-TOKEN has 2 versions" test "$(nversions inventory-API-TOKEN)" -eq 2
check "changed value: the fake holds the new value" value_is inventory-API-TOKEN api-v2
check "changed value: the new version is tagged" test "$(latest inventory-API-TOKEN tags)" = "{'managed-by': 'secret-manager-controller', 'owner': 'demo/example'}"

# ---- 4. changed by hand (a version without tags, as az keyvault secret set makes): put back ----
by_hand inventory-API-TOKEN changed-by-hand
az_sync
check "drift: exit 0" test "$RC" -eq 0
check "drift: written back" test "$(item inventory-API-TOKEN outcome)" = written
check "drift: value put back" value_is inventory-API-TOKEN api-v2
check "drift: tags back on the latest version" test "$(latest inventory-API-TOKEN tags)" = "{'managed-by': 'secret-manager-controller', 'owner': 'demo/example'}"
check "drift: 1 written in all" test "$(written)" -eq 1

# ---- 5. a decoy without smc's tags at a colliding name: untouched and reported ----
by_hand inventory-DECOY not-ours '{"team":"other"}'
echo 'DECOY=from-git' >>"$envf"
reset_counts
az_sync
check "decoy: smc exits non-zero" test "$RC" -ne 0
check "decoy: listed as refused" test "$(item inventory-DECOY outcome)" = refused
check "decoy: reason names the missing tag" bash -c "[[ \"\$1\" == *managed-by* ]]" _ "$(item inventory-DECOY reason)"
check "decoy: secrets.refused = 1" test "$(jget "$J" 'j["secrets"]["refused"]')" -eq 1
check "decoy: value untouched" value_is inventory-DECOY not-ours
check "decoy: one version, its own tags" test "$(st "len(s['inventory-DECOY']['versions']) == 1 and s['inventory-DECOY']['versions'][0]['tags'] == {'team': 'other'}")" = True
check "decoy: no write reached the fake" test "$(count "$nwrites")" -eq 0
by_hand inventory-THEIRS theirs '{"managed-by":"secret-manager-controller","owner":"prod/other"}'
echo 'THEIRS=from-git' >>"$envf"
az_sync
check "other owner: refused, reason names it" bash -c "[ \"\$1\" = refused ] && [[ \"\$2\" == *prod/other* ]]" _ "$(item inventory-THEIRS outcome)" "$(item inventory-THEIRS reason)"
check "other owner: value untouched" value_is inventory-THEIRS theirs
sed -i -e '/^DECOY=/d' -e '/^THEIRS=/d' "$envf"

# ---- 6. a key removed from Git: Retain keeps it; Delete soft-deletes; re-added → recovered ----
sed -i '/^OLD_KEY=/d' "$envf"
sed -i '/^inventory.batch=/d' "$svc/application.properties"
az_sync
check "removed (Retain): exit 0" test "$RC" -eq 0
check "removed (Retain): reported retained" test "$(item inventory-OLD-KEY outcome)" = retained
check "removed (Retain): not deleted" test "$(st "s['inventory-OLD-KEY']['deleted']")" = False
check "removed (Retain): the decoy is not reported (not ours)" test -z "$(item inventory-DECOY outcome)"
policy Delete
reset_counts
az_sync
check "removed (Delete): exit 0" test "$RC" -eq 0
check "removed (Delete): reported pruned" test "$(item inventory-OLD-KEY outcome)" = pruned
check "removed (Delete): soft-deleted in the vault" test "$(st "s['inventory-OLD-KEY']['deleted']")" = True
check "removed (Delete): never purged" test "$(count 'j.get("secrets.purge", 0)')" -eq 0
check "removed (Delete): the config key-value is deleted" test "$(st "[k for k in kv if k['key'] == 'inventory-inventory-batch']")" = "[]"
check "removed (Delete): decoy and other owner's secret untouched" test "$(st "s['inventory-DECOY']['deleted'] or s['inventory-THEIRS']['deleted']")" = False
check "removed (Delete): exactly 2 pruned" test "$(jget "$J" 'j["secrets"]["pruned"] + j["configs"]["pruned"]')" -eq 2
echo 'OLD_KEY=old-value-2' >>"$envf"
reset_counts
az_sync
check "re-added: exit 0" test "$RC" -eq 0
check "re-added: written" test "$(item inventory-OLD-KEY outcome)" = written
check "re-added: recovered (one secrets.recover)" test "$(count 'j.get("secrets.recover", 0)')" -eq 1
check "re-added: live again with the new value" bash -c '[ "$1" = False ]' _ "$(st "s['inventory-OLD-KEY']['deleted']")"
check "re-added: value is the new one" value_is inventory-OLD-KEY old-value-2

# ---- 7. Disable: the latest version disabled (configs: a read-only lock) ----
policy Disable
sed -i '/^T1=/d' "$envf"
sed -i '/^server.port=/d' "$svc/application.properties"
az_sync
check "Disable: exit 0" test "$RC" -eq 0
check "Disable: pruned" test "$(item inventory-T1 outcome)" = pruned
check "Disable: latest version disabled, not deleted" test "$(st "s['inventory-T1']['versions'][-1]['enabled'] is False and not s['inventory-T1']['deleted']")" = True
check "Disable: the config is locked read-only" test "$(st "[k['locked'] for k in kv if k['key'] == 'inventory-server-port']")" = "[True]"
reset_counts
az_sync
check "Disable again: nothing written" test "$RC" -eq 0 -a "$(count "$nwrites")" -eq 0
echo 'T1=t-one' >>"$envf"
printf 'server.port=8082\n' >>"$svc/application.properties"
az_sync
check "re-enabled: exit 0" test "$RC" -eq 0
check "re-enabled: a new enabled version" test "$(st "s['inventory-T1']['versions'][-1]['enabled']")" = True
check "re-enabled: the config unlocked and set" test "$(st "[(k['locked'], k['value']) for k in kv if k['key'] == 'inventory-server-port']")" = "[(False, '8082')]"
policy Retain

# ---- 8. throttling: converged, no duplicate versions ----
sed -i -e 's/^T2=.*/T2=t-two-2/' -e 's/^T3=.*/T3=t-three-2/' "$envf"
curl -sf -XPOST -d '{"every": 2, "status": 429}' "$AZ/_fake/faults" >/dev/null
az_sync
inj=$(injected)
curl -sf -XDELETE "$AZ/_fake/faults" >/dev/null
check "429s: exit 0" test "$RC" -eq 0
check "429s: faults were injected ($inj)" test "$inj" -gt 0
check "429s: 2 written" test "$(written)" -eq 2
check "429s: inventory-T2 has 2 versions" test "$(nversions inventory-T2)" -eq 2
check "429s: T3 holds the new value" value_is inventory-T3 t-three-2
sed -i -e 's/^T2=.*/T2=t-two-3/' "$envf"
curl -sf -XPOST -d '{"every": 3, "status": 503}' "$AZ/_fake/faults" >/dev/null
az_sync
inj=$(injected)
curl -sf -XDELETE "$AZ/_fake/faults" >/dev/null
check "503s: faults were injected ($inj)" test "$inj" -gt 0
check "503s: exit 0, one written" test "$RC" -eq 0 -a "$(written)" -eq 1
check "503s: inventory-T2 has 3 versions, no duplicate" test "$(nversions inventory-T2)" -eq 3

# ---- 8b. lost answers: a PUT stored but its answer lost is read back, never repeated ----
# secrets.set: each of three PUTs is performed, then answered 503 (a blind retry would add a
# second version); kv.put: performed, then answered 503 (a blind retry of the If-Match PUT
# would get 412).
before=$(st "' '.join(str(len(s[n]['versions'])) for n in ('inventory-API-TOKEN','inventory-T2','inventory-T3'))")
sed -i -e 's/^API_TOKEN=.*/API_TOKEN=api-v4/' -e 's/^T2=.*/T2=t-two-4/' -e 's/^T3=.*/T3=t-three-4/' "$envf"
curl -sf -XPOST -d '{"every": 1, "status": 503, "after": true, "ops": ["secrets.set"], "count": 3}' "$AZ/_fake/faults" >/dev/null
reset_counts
az_sync
inj=$(injected)
curl -sf -XDELETE "$AZ/_fake/faults" >/dev/null
check "lost set answers: exit 0 (rc $RC)" test "$RC" -eq 0
check "lost set answers: 3 faults injected after the write ($inj)" test "$inj" -eq 3
check "lost set answers: 3 written" test "$(written)" -eq 3
check "lost set answers: one secrets.set per secret, none repeated" test "$(count 'j.get("secrets.set", 0)')" -eq 3
after=$(st "' '.join(str(len(s[n]['versions'])) for n in ('inventory-API-TOKEN','inventory-T2','inventory-T3'))")
check "lost set answers: each of the 3 secrets has exactly one new version ($before -> $after)" \
	"$PY" -c 'import sys; b, a = sys.argv[1].split(), sys.argv[2].split(); sys.exit(0 if len(b) == len(a) == 3 and all(int(y) == int(x) + 1 for x, y in zip(b, a)) else 1)' "$before" "$after"
check "lost set answers: API_TOKEN holds the new value" value_is inventory-API-TOKEN api-v4
check "lost set answers: T2 holds the new value" value_is inventory-T2 t-two-4
check "lost set answers: T3 holds the new value" value_is inventory-T3 t-three-4
check "lost set answers: the new versions are tagged" test "$(st "all(s[n]['versions'][-1]['tags'] == {'managed-by': 'secret-manager-controller', 'owner': 'demo/example'} for n in ('inventory-API-TOKEN','inventory-T2','inventory-T3'))")" = True
# a 503 before the write (not stored): read back, then written once
t2=$(nversions inventory-T2)
sed -i -e 's/^T2=.*/T2=t-two-5/' "$envf"
curl -sf -XPOST -d '{"every": 1, "status": 503, "ops": ["secrets.set"], "count": 1}' "$AZ/_fake/faults" >/dev/null
reset_counts
az_sync
curl -sf -XDELETE "$AZ/_fake/faults" >/dev/null
check "set refused with 503 before the write: exit 0, written again once" test "$RC" -eq 0 -a "$(count 'j.get("secrets.set", 0)')" -eq 1 -a "$(written)" -eq 1
check "set refused with 503 before the write: T2 has exactly one more version" test "$(nversions inventory-T2)" -eq $((t2 + 1))
check "set refused with 503 before the write: T2 holds the new value" value_is inventory-T2 t-two-5
sed -i -e 's/^server.port=.*/server.port=8083/' "$svc/application.properties"
curl -sf -XPOST -d '{"every": 1, "status": 503, "after": true, "ops": ["kv.put"], "count": 1}' "$AZ/_fake/faults" >/dev/null
reset_counts
az_sync
inj=$(injected)
curl -sf -XDELETE "$AZ/_fake/faults" >/dev/null
check "lost kv.put answer: exit 0 (rc $RC), one fault after the write ($inj)" test "$RC" -eq 0 -a "$inj" -eq 1
check "lost kv.put answer: reported written, one kv.put, read back once" test "$(item inventory-server-port outcome)" = written -a "$(count 'j.get("kv.put", 0)')" -eq 1 -a "$(count 'j.get("kv.get", 0)')" -eq 1
check "lost kv.put answer: the config holds the new value" test "$(st "[k['value'] for k in kv if k['key'] == 'inventory-server-port']")" = "['8083']"

# ---- 9. other credential sources ----
reset_counts
AZ_AUTH=none az_sync AZURE_CLIENT_SECRET="sp-Secret-$$" AZURE_CLIENT_ID=smc-sp AZURE_TENANT_ID=$TENANT AZURE_AUTHORITY_HOST="$AZ/" SMC_LOG_LEVEL=debug
check "client secret env: exit 0" test "$RC" -eq 0
check "client secret env: used" grep -q 'credentials: client-secret-env' "$TMP/$run.err"
AZ_AUTH=none az_sync AZURE_CLIENT_SECRET="wrong-$$" AZURE_CLIENT_ID=smc-sp AZURE_TENANT_ID=$TENANT AZURE_AUTHORITY_HOST="$AZ/"
check "wrong client secret: fails" test "$RC" -ne 0
check "wrong client secret: the error names the grant failure" grep -q 'invalid_client' "$J"
reset_counts
AZ_AUTH=none az_sync AZURE_IMDS_ENDPOINT="$AZ" SMC_LOG_LEVEL=debug
check "managed identity: exit 0" test "$RC" -eq 0
check "managed identity: IMDS asked once per audience" test "$(count 'j.get("imds.token", 0)')" -eq 2
check "managed identity: used" grep -q 'credentials: managed-identity' "$TMP/$run.err"
echo 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvdGhlciJ9.c2ln' >"$TMP/tok/other.jwt"; chmod 644 "$TMP/tok/other.jwt"
AZ_AUTH=none az_sync AZURE_FEDERATED_TOKEN_FILE="$TMP/tok/other.jwt" AZURE_CLIENT_ID=smc-wi AZURE_TENANT_ID=$TENANT AZURE_AUTHORITY_HOST="$AZ/"
check "workload identity with a token the fake does not accept: fails" test "$RC" -ne 0

# ---- 10. dry run: plan only ----
sed -i 's/^T3=.*/T3=t-three-dry/' "$envf"
reset_counts
SMC_CMD=diff az_sync
check "dry run: exit 0" test "$RC" -eq 0
check "dry run: the change is planned" test "$(item inventory-T3 outcome)" = written
check "dry run: no write reached the fake" test "$(count "$nwrites")" -eq 0

# ---- 11. logs: operations and names, never values or tokens ----
SMC_LOG_LEVEL=debug az_sync
check "debug run: the request log names operations and secrets" grep -q 'secrets.get inventory-T2' "$TMP/$run.err"
check "no bearer token, client secret or assertion in any log" bash -c "! grep -l -e 'Bearer ' -e 'access_token' -e 'sp-Secret-' -e 'eyJhbGciOiJSUzI1NiJ9' \"\$@\"" _ "$TMP"/[0-9]*.err "$TMP"/[0-9]*.json
check "the canary never appears in smc's stdout or stderr" bash -c "! grep -l -F -e '$canary' \"\$@\"" _ "$TMP"/[0-9]*.json "$TMP"/[0-9]*.err
check "no value of this test appears in any output" bash -c "! grep -l -e 'api-v2' -e 'changed-by-hand' -e 'not-ours' -e 't-three-2' -e 'old-value-2' \"\$@\"" _ "$TMP"/[0-9]*.json "$TMP"/[0-9]*.err
finish
