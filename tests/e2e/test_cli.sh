#!/usr/bin/env bash
# smc list|status|reconcile|suspend|resume and msmctl (a symlink to smc, reference flags)
# against the fake kube API server, checked with kubectl.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"
export PYTHONDONTWRITEBYTECODE=1
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$SMC_SOURCE_DIR/tests/fakes/kube_apiserver.py" --port "$port" --cert-dir "$TMP/certs" \
	--crd-dir "$SMC_SOURCE_DIR/deploy/crd" >"$TMP/kube.out" 2>"$TMP/kube.err" &
server=$!
for _ in $(seq 150); do grep -q '^ready$' "$TMP/kube.out" 2>/dev/null && break; sleep 0.2; done
export KUBECONFIG="$TMP/certs/kubeconfig-http.yaml"
K=(kubectl --cache-dir "$TMP/kcache" --request-timeout 20s)
"${K[@]}" create namespace team >/dev/null
for n in alpha beta; do
	sed -e "s/^  name: local-demo/  name: $n/" -e "s/^  namespace: default/  namespace: team/" \
		"$SMC_SOURCE_DIR/deploy/examples/secretmanagerconfig-local.yaml" | "${K[@]}" apply -f - >/dev/null
done
"${K[@]}" -n team patch smc alpha --subresource=status --type=merge -p \
	'{"status":{"phase":"Ready","secretsSynced":4,"lastAppliedRevision":"main@sha1:abc","conditions":[{"type":"Ready","status":"True","reason":"ReconciliationSucceeded","message":"ok","lastTransitionTime":"2024-01-01T00:00:00Z"}]}}' >/dev/null
ln -s "$SMC" "$TMP/msmctl"

out=$("$SMC" list -n team 2>&1); check "smc list -n team ($out)" test $? -eq 0
check "list shows alpha Ready with 4 secrets" grep -qE '^alpha +team +No +True +4 +main@sha1:abc' <<<"$out"
check "list shows beta Unknown" grep -qE '^beta +team +No +Unknown' <<<"$out"
out=$("$SMC" list 2>&1)
check "list in the context namespace (default) is empty" grep -q 'No SecretManagerConfigs' <<<"$out"
out=$("$SMC" list -A 2>&1)
check "list -A finds both" test "$(grep -cE '^(alpha|beta) ' <<<"$out")" -eq 2
out=$("$SMC" status -n team alpha 2>&1)
check "status prints phase and conditions" bash -c "grep -q 'Phase: *Ready' <<<'$out' && grep -qE 'Ready +True +ReconciliationSucceeded' <<<'$out'"
rc=0; out=$("$SMC" status -n team nothere 2>&1) || rc=$?
check "status of a missing name fails" test "$rc" -eq 1
check "... saying not found" grep -qi 'not found' <<<"$out"

"$SMC" suspend -n team alpha >/dev/null
check "smc suspend sets spec.suspend" test "$("${K[@]}" -n team get smc alpha -o jsonpath='{.spec.suspend}')" = true
out=$("$SMC" reconcile -n team alpha 2>&1)
check "reconcile of a suspended config warns" grep -q suspended <<<"$out"
"$SMC" resume -n team alpha >/dev/null
check "smc resume clears spec.suspend" test "$("${K[@]}" -n team get smc alpha -o jsonpath='{.spec.suspend}')" = false
ann=$("${K[@]}" -n team get smc alpha -o jsonpath='{.metadata.annotations.secret-management\.octopilot\.io/reconcile}')
check "reconcile annotation is a unix time ($ann)" bash -c "[[ '$ann' =~ ^[0-9]{10}$ ]]"

# msmctl: reference flags --name/-n, --namespace/-N, the type word, list = all namespaces
out=$("$TMP/msmctl" list secretmanagerconfig 2>&1)
check "msmctl list (all namespaces)" test "$(grep -cE '^(alpha|beta) ' <<<"$out")" -eq 2
"$TMP/msmctl" suspend smc -n beta -N team >/dev/null
check "msmctl suspend -n NAME -N NS" test "$("${K[@]}" -n team get smc beta -o jsonpath='{.spec.suspend}')" = true
"$TMP/msmctl" resume secretmanagerconfig --name beta --namespace team >/dev/null
check "msmctl resume --name --namespace" test "$("${K[@]}" -n team get smc beta -o jsonpath='{.spec.suspend}')" = false
out=$("$TMP/msmctl" status smc -n beta -N team 2>&1)
check "msmctl status" grep -q 'Name: *beta' <<<"$out"
finish
