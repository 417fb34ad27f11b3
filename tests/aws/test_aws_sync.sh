#!/usr/bin/env bash
# test_aws_sync.sh — ctest label `aws`: the whole process tree (`smc sync`: smcd + the four
# sandboxed children) against a moto server in strict SigV4 mode, on a copy of examples/
# plus one plaintext service this test edits. Credentials: STS AssumeRoleWithWebIdentity
# with a token file the test writes (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE reach the
# syncer alone). Requests go through tests/aws/throttle_proxy.py (counts by action, injects
# faults); what moto holds is read back with boto3 (tests/aws/check.py, one repl process).
. "$SMC_SOURCE_DIR/tests/lib/common.sh"

if ! python3 -c 'import moto.server, boto3' 2>/dev/null; then
	echo "skip: moto/boto3 not installed"
	exit 0
fi
PY=$(python3 -c 'import sys; print(sys.executable)') # the interpreter itself, not pyenv's shim
CHECK="$SMC_SOURCE_DIR/tests/aws/check.py"
PROXY="$SMC_SOURCE_DIR/tests/aws/throttle_proxy.py"
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mport=$(free_port); pport=$(free_port)
MOTO="http://127.0.0.1:$mport"; PX="http://127.0.0.1:$pport"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
INITIAL_NO_AUTH_ACTION_COUNT=5 setsid "$PY" -m moto.server -H 127.0.0.1 -p "$mport" >"$TMP/moto.log" 2>&1 &
pids+=($!)
setsid "$PY" "$PROXY" "$pport" "$MOTO" >"$TMP/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	curl -sf "$PX/_proxy/counts" >/dev/null 2>&1 && curl -s -o /dev/null "$MOTO/moto-api/" && break
	sleep 0.2
done
"$PY" "$CHECK" "$MOTO" "$TMP/checker.json" setup || { echo "FAIL - IAM setup in moto"; exit 1; }

# check.py as one long-lived process: "cmd<TAB>args" in, {"rc":n,"out":...} out
coproc CK { "$PY" "$CHECK" "$MOTO" "$TMP/checker.json" repl 2>"$TMP/check.err"; }
pids+=($CK_PID)
ck() { # ck CMD ARG... : sets CK_RC and CK_OUT
	local IFS=$'\t' line
	printf '%s\n' "$*" >&"${CK[1]}"
	read -r line <&"${CK[0]}"
	{ read -r CK_RC; CK_OUT=$(cat); } < <("$PY" -c 'import json,sys; j=json.loads(sys.argv[1]); print(j["rc"]); print(j["out"], end="")' "$line")
}
ckok() { ck "$@"; [ "$CK_RC" -eq 0 ]; }
dget() { "$PY" -c "import json,sys; j=json.loads(sys.argv[1]); print($2)" "$1"; } # dget JSON EXPR
count() { curl -s "$PX/_proxy/counts" | "$PY" -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
nwrites='sum(v for k, v in j.items() if k.split(".")[-1] in ("CreateSecret","PutSecretValue","UpdateSecret","TagResource","DeleteSecret","RestoreSecret","PutParameter","AddTagsToResource","DeleteParameters"))'

# ---- the repository: examples/ + one plaintext service this test edits ----
repo="$TMP/repo"
cp -r "$SMC_SOURCE_DIR/examples" "$repo"
svc="$repo/microservices/inventory/deployment-configuration/profiles/dev"
mkdir -p "$svc"
canary="canary-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
envf="$svc/application.secrets.env"
cat >"$envf" <<EOF
CANARY_TOKEN=$canary
API_TOKEN=api-v1
OLD_KEY=old-value
T1=t-one
T2=t-two
T3=t-three
EOF
printf 'inventory.batch=50\nserver.port=8081\n' >"$svc/application.properties"
chmod -R a+rX "$repo"
keys=()
[ -d "$repo/keys" ] && keys=(--keys "$repo/keys")
sed -e 's/^    local: {}/    aws: {region: us-east-1, endpoint: "'"${PX//\//\\/}"'"}/' \
	"$repo/local.yaml" >"$repo/aws.yaml"
grep -q 'aws: {region' "$repo/aws.yaml" || { echo "FAIL - could not make aws.yaml"; exit 1; }
grep -q 'enabled: true' "$repo/aws.yaml" || { echo "FAIL - examples config lost configs.enabled"; exit 1; }
mkdir -p "$TMP/tok"; chmod 755 "$TMP/tok"
echo 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c21jIn0.c2ln' >"$TMP/tok/token.jwt"
chmod 644 "$TMP/tok/token.jwt"

run=0
# aws_sync : one `smc sync` over web identity; output in $TMP/$run.{json,err}, rc in RC
aws_sync() {
	run=$((run + 1))
	curl -s -XPOST -H 'Content-Type: text/plain' -d 1 "$MOTO/moto-api/reset-auth" >/dev/null # STS only
	RC=0
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
		AWS_ROLE_ARN=arn:aws:iam::123456789012:role/smc-role \
		AWS_WEB_IDENTITY_TOKEN_FILE="$TMP/tok/token.jwt" AWS_REGION=us-east-1 \
		"$SMC" sync -f "$repo/aws.yaml" "${keys[@]}" -o json "$@" >"$TMP/$run.json" 2>"$TMP/$run.err" || RC=$?
	J="$TMP/$run.json"
}
jget() { "$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }
item() { jget "$J" "[i['$2'] for i in j['items'] if i['name'] == '$1'][0]" 2>/dev/null; } # item NAME FIELD
px_reset() { curl -s -XPOST "$PX/_proxy/reset" >/dev/null; }
versions() { ck describe "$1"; V=$(dget "$CK_OUT" 'j["versions"]'); } # sets V (the coprocess is not reachable from $(...))

# ---- 1. first sync: every secret created with tags, configs under /{service}/{env} ----
px_reset
aws_sync
check "first sync exits 0 (rc $RC)" test "$RC" -eq 0
[ "$RC" -eq 0 ] || { cat "$TMP/$run.err"; cat "$J"; }
check "STS web identity used once" test "$(count 'j.get("sts.AssumeRoleWithWebIdentity", 0)')" -eq 1
# expected values: the same repository through the embedded store (an independent path)
sed -e 's/^  deletionPolicy: .*/  deletionPolicy: Retain/' "$repo/local.yaml" >"$TMP/local.yaml"
sed -i -e "s#^    path: .*#    path: $repo#" "$TMP/local.yaml"
"$SMC" sync -f "$TMP/local.yaml" --store "$TMP/store/store.db" "${keys[@]}" -o json >"$TMP/local.json" 2>"$TMP/local.err"
check "local store sync of the same repository exits 0" test $? -eq 0
nsec=$(jget "$TMP/local.json" 'j["secrets"]["written"]')
ncfg=$(jget "$TMP/local.json" 'j["configs"]["written"]')
check "aws: $nsec secrets written like the local store" test "$(jget "$J" 'j["secrets"]["written"]')" -eq "$nsec"
check "aws: $ncfg configs written like the local store" test "$(jget "$J" 'j["configs"]["written"]')" -eq "$ncfg"
check "at least 14 secrets, 7 configs" test "$nsec" -ge 14 -a "$ncfg" -ge 7
ckok mirror "$TMP/local.json" "$TMP/store/store.db" "$SMC" dev demo/example
check "every secret exists once, tagged managed-by + owner, value as in the local store; every config a tagged String parameter /{service}/dev/{key} with its value: $CK_OUT" test "$CK_RC" -eq 0
check "inventory's server.port and orders' do not collide" ckok ssm-value-is /inventory/dev/server.port 8081

# ---- 2. second sync: no write, two Secrets Manager reads ----
px_reset
aws_sync
check "second sync exits 0" test "$RC" -eq 0
check "second sync: nothing written" test "$(jget "$J" 'j["secrets"]["written"] + j["configs"]["written"]')" -eq 0
check "second sync: $((nsec + ncfg)) unchanged" test "$(jget "$J" 'j["secrets"]["unchanged"] + j["configs"]["unchanged"]')" -eq $((nsec + ncfg))
check "second sync: no write request reached moto" test "$(count "$nwrites")" -eq 0
sm=$(count 'sum(v for k, v in j.items() if k.startswith("secretsmanager."))')
check "second sync: $sm Secrets Manager requests (<= 2)" test "$sm" -le 2
ssm=$(count 'sum(v for k, v in j.items() if k.startswith("AmazonSSM."))')
check "second sync: $ssm Parameter Store requests (1 + one per service)" test "$ssm" -le 4

# ---- 3. a value changed in Git: exactly one new version ----
sed -i 's/^API_TOKEN=.*/API_TOKEN=api-v2/' "$envf"
px_reset
aws_sync
check "changed value: exit 0" test "$RC" -eq 0
check "changed value: exactly 1 written" test "$(jget "$J" 'j["secrets"]["written"] + j["configs"]["written"]')" -eq 1
check "changed value: one PutSecretValue" test "$(count 'j.get("secretsmanager.PutSecretValue", 0)')" -eq 1
versions inventory-API_TOKEN
check "changed value: inventory-API_TOKEN has 2 versions" test "$V" -eq 2
check "changed value: moto holds the new value" ckok value-is inventory-API_TOKEN api-v2

# ---- 4. changed by hand with boto3: put back ----
ckok put inventory-API_TOKEN changed-by-hand
ckok ssm-put /orders/dev/server.port 9999
aws_sync
check "drift: exit 0" test "$RC" -eq 0
check "drift: secret written back" test "$(item inventory-API_TOKEN outcome)" = written
check "drift: secret value put back" ckok value-is inventory-API_TOKEN api-v2
check "drift: parameter written back" test "$(item /orders/dev/server.port outcome)" = written
check "drift: parameter value put back" ckok ssm-value-is /orders/dev/server.port "$("$SMC" get --store "$TMP/store/store.db" --config orders-server_port)"
check "drift: 2 written in all" test "$(jget "$J" 'j["secrets"]["written"] + j["configs"]["written"]')" -eq 2

# ---- 5. a decoy without smc's tags at a colliding name: untouched and reported ----
ckok decoy inventory-DECOY not-ours
echo 'DECOY=from-git' >>"$envf"
px_reset
aws_sync
check "decoy: smc exits non-zero" test "$RC" -ne 0
check "decoy: listed as refused" test "$(item inventory-DECOY outcome)" = refused
check "decoy: reason names the missing tag" bash -c "[[ \"\$1\" == *managed-by* ]]" _ "$(item inventory-DECOY reason)"
check "decoy: secrets.refused = 1" test "$(jget "$J" 'j["secrets"]["refused"]')" -eq 1
check "decoy: the others are unchanged" test "$(jget "$J" 'j["secrets"]["unchanged"]')" -eq "$nsec"
check "decoy: value untouched" ckok value-is inventory-DECOY not-ours
ck describe inventory-DECOY
check "decoy: still no tags, one version" test "$(dget "$CK_OUT" 'len(j["tags"]) == 0 and j["versions"] == 1')" = True
check "decoy: no write but the CreateSecret moto refused" test "$(count "$nwrites - j.get('secretsmanager.CreateSecret', 0)")" -eq 0
sed -i '/^DECOY=/d' "$envf"

# ---- 6. a key removed from Git: Retain keeps it, Delete schedules it with the window ----
sed -i '/^OLD_KEY=/d' "$envf"
aws_sync
check "removed (Retain): exit 0" test "$RC" -eq 0
check "removed (Retain): reported retained" test "$(item inventory-OLD_KEY outcome)" = retained
ck describe inventory-OLD_KEY
check "removed (Retain): not deleted" test "$(dget "$CK_OUT" 'j["deleted"]')" = False
sed -i 's/^  deletionPolicy: .*/  deletionPolicy: Delete/' "$repo/aws.yaml"
grep -q 'deletionPolicy: Delete' "$repo/aws.yaml" || echo 'deletionPolicy: Delete' | sed 's/^/  /' >>"$repo/aws.yaml"
aws_sync
check "removed (Delete): exit 0" test "$RC" -eq 0
check "removed (Delete): reported pruned" test "$(item inventory-OLD_KEY outcome)" = pruned
ck describe inventory-OLD_KEY
check "removed (Delete): scheduled for deletion, ~7 days out" test "$(dget "$CK_OUT" 'j["deleted"] and abs(j["deletion_days"] - __import__("time").time() - 7 * 86400) < 3600')" = True
ck describe inventory-DECOY
check "removed (Delete): the decoy is not ours to delete" test "$(dget "$CK_OUT" 'j["exists"] and not j["deleted"]')" = True
check "removed (Delete): nothing else pruned" test "$(jget "$J" 'j["secrets"]["pruned"] + j["configs"]["pruned"]')" -eq 1

# ---- 7. throttling and lost answers: converged, no duplicate versions ----
sed -i -e 's/^T1=.*/T1=t-one-2/' -e 's/^T2=.*/T2=t-two-2/' -e 's/^T3=.*/T3=t-three-2/' "$envf"
px_reset
curl -s -XPOST -d '{"every": 2, "mode": "throttle"}' "$PX/_proxy/faults" >/dev/null
aws_sync
check "throttled: exit 0" test "$RC" -eq 0
check "throttled: faults were injected" test "$(count 'j.get("_injected", 0)')" -gt 0
check "throttled: 3 written" test "$(jget "$J" 'j["secrets"]["written"]')" -eq 3
for t in T1 T2 T3; do
	versions "inventory-$t"
	check "throttled: inventory-$t has 2 versions (got $V)" test "$V" -eq 2
done
check "throttled: T2 holds the new value" ckok value-is inventory-T2 t-two-2
sed -i -e 's/^T1=.*/T1=t-one-3/' -e 's/^T2=.*/T2=t-two-3/' -e 's/^T3=.*/T3=t-three-3/' "$envf"
px_reset
curl -s -XPOST -d '{"every": 2, "mode": "503-after", "actions": ["PutSecretValue"]}' "$PX/_proxy/faults" >/dev/null
aws_sync
check "lost answers: exit 0" test "$RC" -eq 0
check "lost answers: a write was retried" test "$(count 'j.get("secretsmanager.PutSecretValue", 0)')" -gt 3
for t in T1 T2 T3; do
	versions "inventory-$t"
	check "lost answers: inventory-$t has 3 versions, no duplicate (got $V)" test "$V" -eq 3
done
check "lost answers: T3 holds the new value" ckok value-is inventory-T3 t-three-3
px_reset
curl -s -XPOST -d '{"every": 3, "mode": "503"}' "$PX/_proxy/faults" >/dev/null
aws_sync
check "503s on reads: converged to no change" test "$RC" -eq 0 -a "$(jget "$J" 'j["secrets"]["written"] + j["configs"]["written"]')" -eq 0
px_reset

# ---- 8. debug logging: actions and names, never values or signatures ----
SMC_LOG_LEVEL=debug aws_sync
check "debug run: exit 0" test "$RC" -eq 0
check "debug run: the request log names actions" grep -q 'BatchGetSecretValue' "$TMP/$run.err"
check "no signature or session token in any log" bash -c "! grep -l -e 'Signature=' -e 'X-Amz-Security-Token' -e 'SecretAccessKey' \"\$@\"" _ "$TMP"/[0-9]*.err
check "the canary never appears in smc's stdout or stderr" bash -c "! grep -l -F -e '$canary' \"\$@\"" _ "$TMP"/[0-9]*.json "$TMP"/[0-9]*.err
check "no value of this test appears in any output" bash -c "! grep -l -e 'api-v2' -e 'changed-by-hand' -e 'not-ours' -e 't-three-3' \"\$@\"" _ "$TMP"/[0-9]*.json "$TMP"/[0-9]*.err
# auth from the Secret named by spec.provider.aws.auth (cluster mode): test_aws_cluster.sh
finish
