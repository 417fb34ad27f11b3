#!/bin/bash
# The fake kube API server (tests/fakes/kube_apiserver.py) checked by real kubectl: two
# minor versions (1.29 and 1.33, installed next to gcloud), over HTTP and HTTPS (client
# certificate, and bearer token), each with a fresh --cache-dir. Applies deploy/crd and a
# reference-style SecretManagerConfig with validation on, then patches, status, SSA,
# labels, finalizers, wait, watch, Conflict and Invalid.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${SMC_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
export PYTHONDONTWRITEBYTECODE=1
work=$(mktemp -d /tmp/smc-kubectl-XXXXXX)
server_pid=
bg_pids=()

cleanup() {
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
# expect_in TEXT NEEDLE WHAT
expect_in() { [[ "$1" == *"$2"* ]] || fail "$3: expected '$2' in: $1"; }
expect_re() { [[ "$1" =~ $2 ]] || fail "$3: expected /$2/ in: $1"; }

kdir=$(dirname "$(readlink -f "$(command -v gcloud)")")
K_OLD=$kdir/kubectl.1.29
K_NEW=$kdir/kubectl.1.33
for k in "$K_OLD" "$K_NEW"; do [ -x "$k" ] || fail "missing $k"; done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port); tls_port=$(free_port)
python3 "$here/kube_apiserver.py" --port "$port" --tls-port "$tls_port" --cert-dir "$work/certs" \
	--crd-dir "$src/deploy/crd" --bookmark-interval 1 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do grep -q '^ready$' "$work/server.out" 2>/dev/null && break; sleep 0.2; done
grep -q '^ready$' "$work/server.out" || { cat "$work/server.err"; fail "server did not start"; }

# kc BIN KUBECONFIG CACHE: prints a command prefix
K=()
use() { K=("$1" --kubeconfig "$work/certs/$2" --cache-dir "$work/cache-$3" --request-timeout 20s); }

json_get() { python3 -c 'import json,sys
o=json.load(sys.stdin)
for p in sys.argv[1].split("."):
    o = o.get(p) if isinstance(o, dict) else None
print(json.dumps(o))' "$1"; }

smc_manifest() { # NAME NS
	sed -e "s/^  name: payments-dev/  name: $1/" -e "s/^  namespace: default/  namespace: $2/" \
		"$src/deploy/examples/secretmanagerconfig-gcp.yaml"
}

full_scenario() { # label
	local tag=$1 ns=ns-$1 out rc name=payments-dev
	out=$("${K[@]}" apply -k "$src/deploy/crd" 2>&1) || fail "$tag: apply -k deploy/crd: $out"
	expect_re "$out" "customresourcedefinition.apiextensions.k8s.io/secretmanagerconfigs.secret-management.octopilot.io (configured|unchanged)" "$tag crd"
	out=$("${K[@]}" create namespace "$ns" 2>&1) || fail "$tag: create ns: $out"

	# a reference-style manifest, validation on (server-side field validation via openapi v3)
	out=$(smc_manifest $name "$ns" | "${K[@]}" apply -f - 2>&1) || fail "$tag: apply: $out"
	expect_in "$out" "secretmanagerconfig.secret-management.octopilot.io/$name created" "$tag apply"
	out=$("${K[@]}" -n "$ns" get smc $name -o json) || fail "$tag: get -o json"
	[ "$(json_get spec.reconcileInterval <<<"$out")" = '"5m"' ] || fail "$tag: reconcileInterval"
	[ "$(json_get spec.gitRepositoryPullInterval <<<"$out")" = '"5m"' ] || fail "$tag: default gitRepositoryPullInterval not applied"
	[ "$(json_get spec.deletionPolicy <<<"$out")" = '"Retain"' ] || fail "$tag: default deletionPolicy not applied"
	[ "$(json_get metadata.generation <<<"$out")" = 1 ] || fail "$tag: generation != 1"
	ok "$tag: apply + defaults"

	# patches: merge (generation bump), json, status subresource (no bump)
	"${K[@]}" -n "$ns" patch smc $name --type merge -p '{"spec":{"suspend":true}}' >/dev/null || fail "$tag: merge patch"
	"${K[@]}" -n "$ns" patch smc $name --type json -p '[{"op":"replace","path":"/spec/secrets/prefix","value":"pay"}]' >/dev/null || fail "$tag: json patch"
	out=$("${K[@]}" -n "$ns" patch smc $name --type json -p '[{"op":"test","path":"/spec/secrets/prefix","value":"nope"}]' 2>&1) && fail "$tag: failing json-patch test op accepted"
	out=$("${K[@]}" -n "$ns" get smc $name -o jsonpath='{.metadata.generation} {.spec.suspend} {.spec.secrets.prefix}')
	[ "$out" = "3 true pay" ] || fail "$tag: after patches: $out"
	out=$("${K[@]}" -n "$ns" patch smc $name --type strategic -p '{"metadata":{"labels":{"a":"b"}}}' 2>&1) && fail "$tag: strategic patch of a CR accepted"
	expect_in "$out" "application/strategic-merge-patch+json" "$tag strategic on CR"
	"${K[@]}" -n "$ns" create secret generic s1 --from-literal=a=b >/dev/null || fail "$tag: create secret"
	"${K[@]}" -n "$ns" label secret s1 keep=me >/dev/null || fail "$tag: label secret"
	"${K[@]}" -n "$ns" patch secret s1 --type strategic -p '{"metadata":{"labels":{"x":"y"}},"stringData":{"c":"d"}}' >/dev/null || fail "$tag: strategic patch"
	out=$("${K[@]}" -n "$ns" get secret s1 -o jsonpath='{.metadata.labels.keep},{.metadata.labels.x},{.data.a},{.data.c}')
	[ "$out" = "me,y,Yg==,ZA==" ] || fail "$tag: secret after strategic patch: $out"
	ok "$tag: merge/json/strategic patches"

	# kubectl wait --for=condition=Ready: blocks until a status patch sets Ready=True
	"${K[@]}" -n "$ns" patch smc $name --subresource=status --type merge -p '{"status":{"phase":"Started","conditions":[{"type":"Ready","status":"False","reason":"ReconciliationInProgress","message":"started","lastTransitionTime":"2024-01-01T00:00:00Z"}]}}' >/dev/null || fail "$tag: status patch"
	"${K[@]}" -n "$ns" wait --for=condition=Ready "smc/$name" --timeout=20s >"$work/wait-$tag" 2>&1 &
	local wpid=$!
	bg_pids+=("$wpid")
	sleep 1
	kill -0 "$wpid" 2>/dev/null || fail "$tag: kubectl wait returned before Ready: $(cat "$work/wait-$tag")"
	"${K[@]}" -n "$ns" patch smc $name --subresource=status --type merge -p '{"status":{"phase":"Ready","secretsSynced":3,"lastAppliedRevision":"main@sha1:abc123","observedGeneration":3,"conditions":[{"type":"Ready","status":"True","reason":"ReconciliationSucceeded","message":"synced","lastTransitionTime":"2024-01-01T00:00:01Z"}]}}' >/dev/null || fail "$tag: status patch Ready"
	wait "$wpid" || fail "$tag: kubectl wait failed: $(cat "$work/wait-$tag")"
	expect_in "$(cat "$work/wait-$tag")" "condition met" "$tag wait"
	out=$("${K[@]}" -n "$ns" get smc $name -o jsonpath='{.metadata.generation}')
	[ "$out" = 3 ] || fail "$tag: status write changed generation to $out"
	ok "$tag: status subresource + kubectl wait"

	# printer columns (server-side Table)
	out=$("${K[@]}" -n "$ns" get smc 2>&1) || fail "$tag: get smc: $out"
	expect_re "$out" "NAME +READY +SECRETS +REVISION +PHASE +AGE" "$tag columns"
	expect_re "$out" "$name +True +3 +main@sha1:abc123 +Ready +[0-9]+s" "$tag row"
	ok "$tag: printer columns"

	# server-side apply, a conflict with another manager, --force-conflicts
	local ssa="$work/ssa-$tag.yaml"
	printf 'apiVersion: secret-management.octopilot.io/v1beta1\nkind: SecretManagerConfig\nmetadata:\n  name: ssa\n  namespace: %s\nspec:\n  sourceRef: {kind: GitRepository, name: repo, namespace: flux-system}\n  provider: {aws: {region: eu-west-1}}\n  secrets: {environment: prod}\n' "$ns" >"$ssa"
	out=$("${K[@]}" apply --server-side -f "$ssa" 2>&1) || fail "$tag: apply --server-side: $out"
	expect_in "$out" "serverside-applied" "$tag ssa"
	"${K[@]}" -n "$ns" patch smc ssa --type merge -p '{"spec":{"provider":{"aws":{"region":"ap-south-1"}}}}' >/dev/null || fail "$tag: patch ssa"
	sed -i 's/eu-west-1/us-east-2/' "$ssa"
	out=$("${K[@]}" apply --server-side -f "$ssa" 2>&1) && fail "$tag: SSA conflict not detected: $out"
	expect_in "$out" 'conflict with "kubectl-patch"' "$tag ssa conflict"
	out=$("${K[@]}" apply --server-side --force-conflicts -f "$ssa" 2>&1) || fail "$tag: --force-conflicts: $out"
	out=$("${K[@]}" -n "$ns" get smc ssa -o jsonpath='{.spec.provider.aws.region}')
	[ "$out" = us-east-2 ] || fail "$tag: region after forced apply: $out"
	ok "$tag: server-side apply"

	# annotate / label / selectors
	"${K[@]}" -n "$ns" annotate smc ssa secret-management.octopilot.io/reconcile=1700000000 >/dev/null || fail "$tag: annotate"
	"${K[@]}" -n "$ns" label smc ssa team=a >/dev/null || fail "$tag: label"
	out=$("${K[@]}" -n "$ns" get smc -l team=a -o name)
	[ "$out" = "secretmanagerconfig.secret-management.octopilot.io/ssa" ] || fail "$tag: -l team=a: $out"
	out=$("${K[@]}" -n "$ns" get smc -l '!team' -o name)
	[ "$out" = "secretmanagerconfig.secret-management.octopilot.io/$name" ] || fail "$tag: -l !team: $out"
	out=$("${K[@]}" -n "$ns" get smc --field-selector metadata.name=ssa -o jsonpath='{.items[*].metadata.annotations.secret-management\.octopilot\.io/reconcile}')
	[ "$out" = 1700000000 ] || fail "$tag: annotation: $out"
	ok "$tag: annotate/label/selectors"

	# get -w sees a change
	timeout 30 "${K[@]}" -n "$ns" get smc -w --output-watch-events >"$work/watch-$tag" 2>&1 &
	local wp=$!
	bg_pids+=("$wp")
	for _ in $(seq 150); do grep -q ADDED "$work/watch-$tag" && break; sleep 0.1; done
	"${K[@]}" -n "$ns" annotate smc $name touched=yes >/dev/null || fail "$tag: annotate for watch"
	for _ in $(seq 150); do grep -q "MODIFIED *$name" "$work/watch-$tag" && break; sleep 0.1; done
	kill "$wp" 2>/dev/null
	grep -q "MODIFIED *$name" "$work/watch-$tag" || fail "$tag: get -w saw no MODIFIED: $(cat "$work/watch-$tag")"
	ok "$tag: get -w"

	# stale resourceVersion on replace -> Conflict
	"${K[@]}" -n "$ns" get smc $name -o json >"$work/stale-$tag.json"
	"${K[@]}" -n "$ns" annotate smc $name bump=1 >/dev/null
	out=$("${K[@]}" replace -f "$work/stale-$tag.json" 2>&1) && fail "$tag: stale replace accepted"
	expect_in "$out" "Conflict" "$tag replace"
	expect_in "$out" "the object has been modified" "$tag replace"
	ok "$tag: stale replace -> Conflict"

	# invalid object -> rejected with a clear message
	smc_manifest bad "$ns" | sed -e '/^    environment: dev/d' -e 's/^  reconcileInterval: 5m/  reconcileInterval: 5 minutes/' >"$work/bad-$tag.yaml"
	out=$("${K[@]}" apply -f "$work/bad-$tag.yaml" 2>&1) && fail "$tag: invalid object accepted"
	expect_in "$out" "spec.secrets.environment: Required value" "$tag invalid"
	expect_in "$out" "spec.reconcileInterval" "$tag invalid"
	smc_manifest bad "$ns" | sed 's/^  diffDiscovery: true/  diffDiscovery: true\n  bogusField: 1/' >"$work/bad2-$tag.yaml"
	out=$("${K[@]}" apply -f "$work/bad2-$tag.yaml" 2>&1) && fail "$tag: unknown field accepted with validation on"
	expect_in "$out" 'unknown field "spec.bogusField"' "$tag strict"
	ok "$tag: invalid objects rejected"

	# finalizer: delete leaves deletionTimestamp; removing the finalizer deletes
	"${K[@]}" -n "$ns" patch smc ssa --type merge -p '{"metadata":{"finalizers":["secret-management.octopilot.io/finalizer"]}}' >/dev/null || fail "$tag: add finalizer"
	"${K[@]}" -n "$ns" delete smc ssa --wait=false >/dev/null || fail "$tag: delete"
	out=$("${K[@]}" -n "$ns" get smc ssa -o jsonpath='{.metadata.deletionTimestamp}' 2>&1) || fail "$tag: object gone despite finalizer"
	[ -n "$out" ] || fail "$tag: no deletionTimestamp"
	"${K[@]}" -n "$ns" patch smc ssa --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null || fail "$tag: remove finalizer"
	out=$("${K[@]}" -n "$ns" get smc ssa 2>&1) && fail "$tag: object still there after last finalizer removed"
	expect_in "$out" "NotFound" "$tag finalizer"
	ok "$tag: finalizers"
}

smoke() { # tag: apply + get (printer columns) + delete
	local tag=$1 out
	out=$(smc_manifest "smoke-$tag" default | "${K[@]}" apply -f - 2>&1) || fail "$tag: apply: $out"
	expect_in "$out" "smoke-$tag created" "$tag apply"
	out=$("${K[@]}" get smc "smoke-$tag" 2>&1) || fail "$tag: get: $out"
	expect_re "$out" "NAME +READY +SECRETS +REVISION +PHASE +AGE" "$tag columns"
	out=$("${K[@]}" delete smc "smoke-$tag" 2>&1) || fail "$tag: delete: $out"
	expect_in "$out" "deleted" "$tag delete"
	ok "$tag: smoke"
}

# the two full scenarios are independent (own namespace, own cache): run them side by side
(use "$K_NEW" kubeconfig-https.yaml new-https && full_scenario new-https) >"$work/log-new" 2>&1 &
pa=$!
(use "$K_OLD" kubeconfig-http.yaml old-http && full_scenario old-http) >"$work/log-old" 2>&1 &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
cat "$work/log-new" "$work/log-old"
[ $ra = 0 ] && [ $rb = 0 ] || fail "full scenario failed (see above)"
use "$K_OLD" kubeconfig-https.yaml old-https
smoke old-https
use "$K_NEW" kubeconfig-http.yaml new-http
smoke new-http
use "$K_NEW" kubeconfig-https-token.yaml new-token
smoke new-token

# a wrong token over TLS is refused
sed 's/"token": ".*"/"token": "wrong"/' "$work/certs/kubeconfig-https-token.yaml" >"$work/certs/kubeconfig-bad.yaml"
use "$K_NEW" kubeconfig-bad.yaml bad
out=$("${K[@]}" get ns 2>&1) && fail "wrong token accepted"
expect_in "$out" "provide credentials" "wrong token"
ok "wrong token -> 401"
echo "PASS"
