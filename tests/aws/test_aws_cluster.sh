#!/usr/bin/env bash
# test_aws_cluster.sh — ctest label `aws`: access keys from the Secret a config names in
# spec.provider.aws.auth (authType accessKeys, secretName), in cluster mode. smcd --cluster
# runs against the fake kube API server (tests/fakes/kube_apiserver.py), a Flux-like
# artifact server, and moto in strict SigV4 mode; smcd's environment holds no AWS
# credentials at all, so every request moto accepts was signed with the keys of that Secret.
#   Secret present → Ready, values in Secrets Manager (read back with boto3);
#   the tap shows CREDENTIALS only on the watcher → syncer edge, redacted to lengths;
#   keys rotated in the Secret and the old key deleted in IAM → the next revision syncs;
#   wrong secret key → Ready=False, moto refused the signature, nothing written;
#   a missing Secret / missing data key → CredentialsUnavailable naming them, then converges
#   when the Secret appears; a Secret in another namespace → refused unless smcd
#   --allow-cross-namespace-refs; the secret key appears in no log, status or event.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"
export PYTHONDONTWRITEBYTECODE=1

if ! python3 -c 'import moto.server, boto3' 2>/dev/null; then
	echo "skip: moto/boto3 not installed"
	exit 0
fi
PY=$(python3 -c 'import sys; print(sys.executable)')
CHECK="$SMC_SOURCE_DIR/tests/aws/check.py"
SMCD="$SMC_BINARY_DIR/smcd"
jfield() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

mport=$(free_port); kport=$(free_port); aport=$(free_port)
MOTO="http://127.0.0.1:$mport"
INITIAL_NO_AUTH_ACTION_COUNT=5 "$PY" -m moto.server -H 127.0.0.1 -p "$mport" >"$TMP/moto.log" 2>&1 &
pids+=($!)
"$PY" "$SMC_SOURCE_DIR/tests/fakes/kube_apiserver.py" --port "$kport" --cert-dir "$TMP/certs" \
	--crd-dir "$SMC_SOURCE_DIR/deploy/crd" --bookmark-interval 1 >"$TMP/kube.out" 2>"$TMP/kube.err" &
pids+=($!)
mkdir -p "$TMP/art"
"$PY" "$SMC_SOURCE_DIR/tests/e2e/flux_artifact.py" serve --dir "$TMP/art" --port "$aport" >"$TMP/art.out" 2>"$TMP/art.err" &
pids+=($!)
wait_for 30 curl -s -o /dev/null "$MOTO/moto-api/"
wait_for 30 grep -q '^ready$' "$TMP/kube.out" || { cat "$TMP/kube.err"; echo "FAIL - kube server did not start"; exit 1; }
wait_for 10 grep -q '^ready$' "$TMP/art.out" || { echo "FAIL - artifact server did not start"; exit 1; }
"$PY" "$CHECK" "$MOTO" "$TMP/checker.json" setup || { echo "FAIL - IAM setup in moto"; exit 1; }
ck() { "$PY" "$CHECK" "$MOTO" "$TMP/checker.json" "$@"; }
KC="$TMP/certs/kubeconfig-http.yaml"
K=(kubectl --kubeconfig "$KC" --cache-dir "$TMP/kcache" --request-timeout 20s)

# ---- IAM user smc-user with a key; the Secret holds it (the test never prints it)
ck user-key smc-user "$TMP/key1.json" || { echo "FAIL - no access key"; exit 1; }
KEY1=$(jfield "$TMP/key1.json" AccessKeyId); SK1=$(jfield "$TMP/key1.json" SecretAccessKey)
secret() { # NS NAME KEYID SECRETKEY [ID-FIELD]: creates or replaces the Secret
	"${K[@]}" -n "$1" create secret generic "$2" --from-literal="${5:-aws_access_key_id}=$3" \
		--from-literal=aws_secret_access_key="$4" --dry-run=client -o yaml | "${K[@]}" apply -f - >/dev/null
}
"${K[@]}" apply -k "$SMC_SOURCE_DIR/deploy/crd" >/dev/null
"${K[@]}" create namespace team >/dev/null
"${K[@]}" create namespace platform >/dev/null
secret team aws-creds "$KEY1" "$SK1"

# ---- the source: a GitRepository whose artifact holds one service
repo="$TMP/repo"; env="$repo/svc/deployment-configuration/profiles/dev"
mkdir -p "$env"
canary="aws-cluster-canary-$RANDOM$RANDOM"
publish() { # REV VALUE
	printf 'DB_PASSWORD=%s\nAPI_KEY=key-%s\n' "$2" "$1" >"$env/application.secrets.env"
	local digest
	digest=$("$PY" "$SMC_SOURCE_DIR/tests/e2e/flux_artifact.py" pack "$repo" "$TMP/art/$1.tar.gz")
	"${K[@]}" -n team patch gitrepository app-repo --subresource=status --type=merge -p \
		"{\"status\":{\"artifact\":{\"url\":\"http://127.0.0.1:$aport/$1.tar.gz\",\"digest\":\"$digest\",\"revision\":\"main@sha1:$1\",\"path\":\"$1.tar.gz\",\"lastUpdateTime\":\"2024-01-01T00:00:00Z\"}}}" >/dev/null
}
cat <<EOF | "${K[@]}" apply -f - >/dev/null
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: app-repo, namespace: team}
spec: {url: https://git.example.invalid/app.git, interval: 1m, ref: {branch: main}}
EOF
publish r1 "$canary-1"
config() { # NAME PREFIX AUTH-YAML: a config writing to moto with that auth
	cat <<EOF | "${K[@]}" apply -f - >/dev/null
apiVersion: secret-management.octopilot.io/v1beta1
kind: SecretManagerConfig
metadata: {name: $1, namespace: team}
spec:
  sourceRef: {kind: GitRepository, name: app-repo, namespace: team}
  provider:
    aws:
      region: us-east-1
      endpoint: "$MOTO"
      auth: $3
  secrets: {environment: dev, prefix: $2}
  reconcileInterval: 1h
EOF
}
cond() { "${K[@]}" -n team get smc "$1" -o jsonpath="{.status.conditions[?(@.type==\"Ready\")].$2}"; }

# smcd with no AWS credential of its own: only the Secret can make moto accept a request
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
	-u AWS_ROLE_ARN -u AWS_WEB_IDENTITY_TOKEN_FILE -u AWS_CONTAINER_CREDENTIALS_FULL_URI \
	SMC_LOG_LEVEL=debug "$SMCD" --cluster --kubeconfig "$KC" --metrics-addr 127.0.0.1 --metrics-port "$(free_port)" \
	--tap-socket "$TMP/tap.sock" >"$TMP/smcd.out" 2>"$TMP/smcd.err" &
pids+=($!)
wait_for 10 test -S "$TMP/tap.sock"
"$SMC" tap --socket "$TMP/tap.sock" >"$TMP/tap.jsonl" 2>"$TMP/tap.err" &
tap=$!
pids+=($tap)
sleep 0.5

# 1. keys from the Secret: Ready, values in Secrets Manager
config app one '{authType: accessKeys, secretName: aws-creds}'
out=$("${K[@]}" -n team wait --for=condition=Ready smc/app --timeout=40s 2>&1)
check "Secret keys: kubectl wait Ready ($out)" test $? -eq 0
[ "$(cond app status)" = True ] || { echo "message: $(cond app message)"; tail -20 "$TMP/smcd.err"; }
check "Secret keys: the value is in Secrets Manager" ck value-is one-DB_PASSWORD "$canary-1"
check "Secret keys: status counts 2 secrets" test "$("${K[@]}" -n team get smc app -o jsonpath='{.status.secretsSynced}')" = 2
kill "$tap"; wait "$tap" 2>/dev/null || true
"$PY" - "$TMP/tap.jsonl" "$SK1" "$KEY1" <<'PY' && ok "tap: CREDENTIALS only watcher → syncer, key fields redacted to lengths" || fail "tap content (see above)"
import json, sys
path, sk, kid = sys.argv[1:4]
lines = [json.loads(l) for l in open(path) if l.strip()]
creds = [l for l in lines if l["type"] == "CREDENTIALS"]
assert creds, "no CREDENTIALS mirrored: %s" % sorted({l["type"] for l in lines})
assert {l["edge"] for l in creds} <= {"syncer-watcher", "watcher-syncer"}, {l["edge"] for l in creds}
text = json.dumps(creds[0])
assert str(len(sk)) in text and "aws-creds" in text, text
for l in lines:
    t = json.dumps(l)
    assert sk not in t and kid not in t, "a key leaked into the tap (%s)" % l["type"]
    if l["type"] in ("JOB", "TREE", "VALUES"):
        assert "secret_access" not in t and '"key_id"' not in t, "credentials rode the pipeline"
PY

# 2. rotation: a new key in the Secret, the old one deleted in IAM; the next revision syncs
ck user-key smc-user "$TMP/key2.json"
KEY2=$(jfield "$TMP/key2.json" AccessKeyId); SK2=$(jfield "$TMP/key2.json" SecretAccessKey)
secret team aws-creds "$KEY2" "$SK2" AWS_ACCESS_KEY_ID # also another accepted spelling
ck drop-key smc-user "$KEY1"
publish r2 "$canary-2"
wait_for 30 ck value-is one-DB_PASSWORD "$canary-2"
check "rotated keys: the new revision reached Secrets Manager" ck value-is one-DB_PASSWORD "$canary-2"

# 3. a wrong secret key: moto refuses the signature, Ready=False, nothing written
secret team aws-creds "$KEY2" "wrong-$SK2"
publish r3 "$canary-3"
wait_for 30 test "$(cond app status)" = False
check "wrong key: Ready=False" test "$(cond app status)" = False
check "wrong key: the reason names the failure ($(cond app message | head -c 200))" grep -qiE "signature|denied|invalid|sync" <<<"$(cond app message)"
check "wrong key: nothing written (still revision 2's value)" ck value-is one-DB_PASSWORD "$canary-2"
secret team aws-creds "$KEY2" "$SK2"
"${K[@]}" -n team annotate smc app --overwrite secret-management.octopilot.io/reconcile="$(date +%s)" >/dev/null
wait_for 30 ck value-is one-DB_PASSWORD "$canary-3"
check "keys put right: converged to revision 3" ck value-is one-DB_PASSWORD "$canary-3"

# 4. a Secret that does not exist yet, then without the secret key, then complete
config app2 two '{authType: accessKeys, secretName: late-creds}'
wait_for 20 test "$(cond app2 reason)" = CredentialsUnavailable
check "missing Secret: reason CredentialsUnavailable" test "$(cond app2 reason)" = CredentialsUnavailable
check "missing Secret: the message names it ($(cond app2 message))" grep -q "Secret team/late-creds: not found" <<<"$(cond app2 message)"
"${K[@]}" -n team create secret generic late-creds --from-literal=aws_access_key_id="$KEY2" >/dev/null
wait_for 40 grep -q "no data key aws_secret_access_key" <<<"$(cond app2 message)"
check "missing key: the message names the data key ($(cond app2 message))" grep -q "no data key aws_secret_access_key" <<<"$(cond app2 message)"
check "missing Secret/key: nothing written" bash -c "! '$PY' '$CHECK' '$MOTO' '$TMP/checker.json' value-is two-DB_PASSWORD '$canary-3' 2>/dev/null"
secret team late-creds "$KEY2" "$SK2"
"${K[@]}" -n team annotate smc app2 --overwrite secret-management.octopilot.io/reconcile="$(date +%s)" >/dev/null
wait_for 30 ck value-is two-DB_PASSWORD "$canary-3"
check "the Secret completed: converged without a spec change" ck value-is two-DB_PASSWORD "$canary-3"

# 5. a Secret in another namespace: refused by default
secret platform shared-creds "$KEY2" "$SK2"
config app3 three '{authType: accessKeys, secretName: shared-creds, secretNamespace: platform}'
wait_for 20 test "$(cond app3 status)" = False
check "cross-namespace: Ready=False" test "$(cond app3 status)" = False
check "cross-namespace: the message says how to allow it ($(cond app3 message))" grep -q "allow-cross-namespace-refs" <<<"$(cond app3 message)"
check "cross-namespace: nothing written" bash -c "! '$PY' '$CHECK' '$MOTO' '$TMP/checker.json' value-is three-DB_PASSWORD '$canary-3' 2>/dev/null"

# no key and no value anywhere it could leak
"${K[@]}" get events.events.k8s.io -A -o json >"$TMP/events.json"
"${K[@]}" get smc -A -o json >"$TMP/status.json"
for f in "$TMP/smcd.err" "$TMP/smcd.out" "$TMP/events.json" "$TMP/status.json" "$TMP/tap.jsonl"; do
	check "no secret key or value in $(basename "$f")" bash -c "! grep -q -F -e '$SK1' -e '$SK2' -e '$canary' '$f'"
done
finish
