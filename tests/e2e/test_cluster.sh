#!/usr/bin/env bash
# smcd --cluster against the fake kube API server (tests/fakes/kube_apiserver.py) and a
# Flux-like artifact server serving real tar.gz artifacts with real digests, driven with
# kubectl, writing to the embedded store:
#   CRD + reference-style SecretManagerConfig → kubectl wait Ready → value in the store;
#   a new artifact revision → new value within 2 s (reconcileInterval is 1h);
#   bad digest / traversal entry / 404 forever → Ready=False with a clear reason, nothing
#   written; suspend → nothing written; the watcher killed → restarted and converged;
#   two replicas with leader election → only the leader writes, the other takes over;
#   delete → finalizer honoured, resource gone; /healthz /readyz /metrics.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"
export PYTHONDONTWRITEBYTECODE=1
here="$SMC_SOURCE_DIR/tests/e2e"
SMCD="$SMC_BINARY_DIR/smcd"


kport=$(free_port); aport=$(free_port); m1=$(free_port)
python3 "$SMC_SOURCE_DIR/tests/fakes/kube_apiserver.py" --port "$kport" --cert-dir "$TMP/certs" \
	--crd-dir "$SMC_SOURCE_DIR/deploy/crd" --bookmark-interval 1 >"$TMP/kube.out" 2>"$TMP/kube.err" &
pids+=($!)
mkdir -p "$TMP/art"
python3 "$here/flux_artifact.py" serve --dir "$TMP/art" --port "$aport" >"$TMP/art.out" 2>"$TMP/art.err" &
pids+=($!)
wait_for 30 grep -q '^ready$' "$TMP/kube.out" || { cat "$TMP/kube.err"; echo "FAIL - kube server did not start"; exit 1; }
wait_for 10 grep -q '^ready$' "$TMP/art.out" || { echo "FAIL - artifact server did not start"; exit 1; }
KC="$TMP/certs/kubeconfig-http.yaml"
K=(kubectl --kubeconfig "$KC" --cache-dir "$TMP/kcache" --request-timeout 20s)

# the source tree and its artifacts
repo="$TMP/repo"; env="$repo/svc/deployment-configuration/profiles/dev"
mkdir -p "$env"
store_a="$TMP/a/store.db"; store_b="$TMP/b/store.db"
value() { "$SMC" get --store "$1" svc-DB_PASSWORD 2>/dev/null; }
has_value() { [ "$(value "${2:-$store_a}")" = "$1" ]; } # VALUE [STORE]
# publish REV VALUE [--traversal|--bad-digest|--missing]: a new artifact revision
publish() {
	local rev=$1 val=$2 mode=${3:-} digest url
	printf 'DB_PASSWORD=%s\nAPI_KEY=key-%s\n' "$val" "$rev" >"$env/application.secrets.env"
	digest=$(python3 "$here/flux_artifact.py" pack "$repo" "$TMP/art/$rev.tar.gz" \
		$([ "$mode" = --traversal ] && echo --traversal))
	url="http://127.0.0.1:$aport/$rev.tar.gz"
	[ "$mode" = --bad-digest ] && digest="sha256:$(printf '%064d' 0)"
	[ "$mode" = --missing ] && url="http://127.0.0.1:$aport/gone-$rev.tar.gz"
	"${K[@]}" -n team patch gitrepository app-repo --subresource=status --type=merge -p \
		"{\"status\":{\"artifact\":{\"url\":\"$url\",\"digest\":\"$digest\",\"revision\":\"main@sha1:$rev\",\"path\":\"$rev.tar.gz\",\"lastUpdateTime\":\"2024-01-01T00:00:00Z\"}}}" >/dev/null
}
cond() { "${K[@]}" -n team get smc app -o jsonpath="{.status.conditions[?(@.type==\"$1\")].$2}"; }
field() { "${K[@]}" -n team get smc app -o jsonpath="{$1}"; }

# 1. CRDs and a reference-style resource, applied with kubectl
out=$("${K[@]}" apply -k "$SMC_SOURCE_DIR/deploy/crd" 2>&1); check "kubectl apply -k deploy/crd ($out)" test $? -eq 0
"${K[@]}" create namespace team >/dev/null
cat >"$TMP/gitrepo.yaml" <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: app-repo, namespace: team}
spec: {url: https://git.example.invalid/app.git, interval: 1m, ref: {branch: main}}
EOF
"${K[@]}" apply -f "$TMP/gitrepo.yaml" >/dev/null
publish r1 v1
cat >"$TMP/smc.yaml" <<EOF
apiVersion: secret-management.octopilot.io/v1beta1
kind: SecretManagerConfig
metadata:
  name: app
  namespace: team
spec:
  sourceRef:
    kind: GitRepository
    name: app-repo
    namespace: team
  provider:
    local:
      path: /nonexistent/overridden-by-store.db
  secrets:
    environment: dev
  reconcileInterval: 1h
  deletionPolicy: Retain
EOF
"${K[@]}" apply -f "$TMP/smc.yaml" >/dev/null

# replica A, leader election on
start_smcd() { # NAME STORE METRICS_PORT
	"$SMCD" --cluster --kubeconfig "$KC" --leader-elect --lease-namespace team --identity "$1" \
		--metrics-addr 127.0.0.1 --metrics-port "$3" --store "$2" >"$TMP/$1.out" 2>"$TMP/$1.err" &
	pids+=($!)
	eval "pid_$1=$!"
}
start_smcd a "$store_a" "$m1"
out=$("${K[@]}" -n team wait --for=condition=Ready smc/app --timeout=30s 2>&1)
check "kubectl wait --for=condition=Ready ($out)" test $? -eq 0
check "the store holds v1" has_value v1
check "status: secretsSynced 2" test "$(field .status.secretsSynced)" = 2
check "status: lastAppliedRevision" test "$(field .status.lastAppliedRevision)" = main@sha1:r1
check "status: observedGeneration" test "$(field .status.observedGeneration)" = "$(field .metadata.generation)"
check "status: phase Ready" test "$(field .status.phase)" = Ready
check "finalizer added" test "$(field '.metadata.finalizers[0]')" = secret-management.octopilot.io/finalizer
check "inventory lists the secret" grep -q svc-DB_PASSWORD <<<"$(field .status.inventory.secrets)"
ev=$("${K[@]}" -n team get events.events.k8s.io -o jsonpath='{range .items[*]}{.reason}{" "}{end}')
check "a ReconciliationSucceeded event ($ev)" grep -q ReconciliationSucceeded <<<"$ev"
check "/healthz" curl -sfo /dev/null "http://127.0.0.1:$m1/healthz"
check "/readyz" curl -sfo /dev/null "http://127.0.0.1:$m1/readyz"
metrics=$(curl -sf "http://127.0.0.1:$m1/metrics")
check "/metrics has reconciliations" grep -q '^secret_manager_reconciliations_total [1-9]' <<<"$metrics"
check "/metrics has restart counts" grep -q '^smc_child_restarts_total{role="watcher"} 0' <<<"$metrics"
check "/metrics: this replica leads" grep -q '^smc_leader 1' <<<"$metrics"

# 2. a new revision reaches the store within 2 s (the interval is 1h)
publish r2 v2 # returns once the API server has the new status.artifact
t0=$(date +%s%N)
wait_for 2 has_value v2
t1=$(date +%s%N)
check "new revision in the store" has_value v2
check "... within 2 s of its publication ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -le 2000
wait_for 5 test "$(field .status.lastAppliedRevision)" = main@sha1:r2

# 3. broken artifacts: Ready=False with a reason, nothing written
broken() { # MODE REASON-PATTERN WAIT
	publish "b$1" "bad-$1" "--$1"
	wait_for "$3" test "$(field .status.lastAttemptedRevision)" = "main@sha1:b$1"
	wait_for 2 test "$(cond Ready status)" = False
	check "$1: Ready=False" test "$(cond Ready status)" = False
	check "$1: reason ArtifactFailed ($(cond Ready reason))" test "$(cond Ready reason)" = ArtifactFailed
	check "$1: message says why ($(cond Ready message))" grep -qiE "$2" <<<"$(cond Ready message)"
	check "$1: nothing written (still v2)" has_value v2
	check "$1: no bad value in the message" bash -c "! grep -q bad- <<<'$(cond Ready message)'"
}
broken bad-digest "digest" 10
broken traversal "\.\.|outside|travers|escape|unsafe" 10
broken missing "not found|404" 40
warn=$("${K[@]}" -n team get events.events.k8s.io -o jsonpath='{range .items[*]}{.type}{"/"}{.reason}{" "}{end}')
check "a Warning event for the failure" grep -q 'Warning/ArtifactFailed' <<<"$warn"

# 4. suspend: nothing written; resume: converges
publish r3 v3
wait_for 10 has_value v3
"${K[@]}" -n team patch smc app --type=merge -p '{"spec":{"suspend":true}}' >/dev/null
wait_for 5 test "$(field .status.phase)" = Suspended
check "suspended: phase Suspended" test "$(field .status.phase)" = Suspended
publish r4 v4
sleep 2
check "suspended: new revision not written" has_value v3
"${K[@]}" -n team patch smc app --type=merge -p '{"spec":{"suspend":false}}' >/dev/null
wait_for 10 has_value v4
check "resumed: new revision written" has_value v4

# 5. manual trigger annotation: reconciled and removed
"${K[@]}" -n team annotate smc app secret-management.octopilot.io/reconcile="$(date +%s)" >/dev/null
wait_for 10 test -z "$(field '.metadata.annotations.secret-management\.octopilot\.io/reconcile')"
check "reconcile annotation removed after success" test -z "$(field '.metadata.annotations.secret-management\.octopilot\.io/reconcile')"

# 6. the watcher killed: restarted by smcd and converged
wpid=$(pgrep -P "$pid_a" -f smc-watcher | head -1)
check "found the watcher of replica a" test -n "$wpid"
kill -9 "$wpid"
publish r5 v5
wait_for 20 has_value v5
check "watcher killed: converged to v5" has_value v5
wait_for 5 bash -c "curl -sf http://127.0.0.1:$m1/metrics | grep -q '^smc_child_restarts_total{role=\"watcher\"} 1'"
check "watcher restart counted" bash -c "curl -sf http://127.0.0.1:$m1/metrics | grep -q '^smc_child_restarts_total{role=\"watcher\"} 1'"

# 7. two replicas: only the leader writes; the other takes over when it stops
m2=$(free_port) # taken just before use: other tests run in parallel and take ports too
start_smcd b "$store_b" "$m2"
sleep 3
publish r6 v6
wait_for 10 has_value v6
sleep 1
check "leader a wrote v6" has_value v6
check "follower b wrote nothing" bash -c "! '$SMC' get --store '$store_b' svc-DB_PASSWORD >/dev/null 2>&1"
kill -0 "$pid_b" 2>/dev/null || { echo "replica b exited:"; tail -5 "$TMP/b.err"; }
check "/metrics of b: not the leader" bash -c "curl -sf http://127.0.0.1:$m2/metrics | grep -q '^smc_leader 0'"
kill -TERM "$pid_a"; wait "$pid_a" 2>/dev/null || true
publish r7 v7
wait_for 25 has_value v7 "$store_b"
check "b took over and wrote v7" has_value v7 "$store_b"
check "a (stopped) did not write v7" has_value v6

# 8. delete: the finalizer is honoured and the resource goes away (Retain keeps values)
"${K[@]}" -n team delete smc app --wait=false >/dev/null
wait_for 15 bash -c "! ${K[*]} -n team get smc app >/dev/null 2>&1"
check "deleted resource is gone (finalizer removed)" bash -c "! ${K[*]} -n team get smc app >/dev/null 2>&1"
check "deletionPolicy Retain keeps the value" has_value v7 "$store_b"

# 9. delete with deletionPolicy Delete: every object the config owns is deleted first
sed -e 's/name: app$/name: app2/' -e 's/deletionPolicy: Retain/deletionPolicy: Delete/' \
	-e 's/    environment: dev/    environment: dev\n    prefix: two/' "$TMP/smc.yaml" >"$TMP/smc2.yaml"
"${K[@]}" apply -f "$TMP/smc2.yaml" >/dev/null
out=$("${K[@]}" -n team wait --for=condition=Ready smc/app2 --timeout=30s 2>&1)
check "second config Ready ($out)" test $? -eq 0
check "its value is stored under its prefix" bash -c "'$SMC' get --store '$store_b' two-DB_PASSWORD >/dev/null"
"${K[@]}" -n team delete smc app2 --wait=false >/dev/null
wait_for 15 bash -c "! ${K[*]} -n team get smc app2 >/dev/null 2>&1"
check "deleted resource is gone after its objects were pruned" bash -c "! ${K[*]} -n team get smc app2 >/dev/null 2>&1"
check "deletionPolicy Delete removed its value" bash -c "! '$SMC' get --store '$store_b' two-DB_PASSWORD >/dev/null 2>&1"
check "the other config's values are untouched" has_value v7 "$store_b"

# no value ever reached a log
for f in "$TMP"/a.err "$TMP"/b.err; do
	check "no value in $(basename "$f")" bash -c "! grep -qE 'v[0-9]\\b|key-r[0-9]' '$f'"
done
finish
