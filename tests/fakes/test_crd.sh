#!/bin/bash
# deploy/crd: both SecretManagerConfig CRDs have the same schema, the schema has every field
# of DESIGN.md §3 and the reference (docs/reference-controller.md §1), kustomize renders
# them, and kubectl (server-side dry run against the fake apiserver) accepts the examples
# and the reference's enum spellings and rejects what the schema forbids.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${SMC_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
export PYTHONDONTWRITEBYTECODE=1
work=$(mktemp -d /tmp/smc-crd-XXXXXX)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

python3 - "$src/deploy/crd" <<'EOF' || fail "CRD files"
import copy, sys, yaml
d = sys.argv[1]
a = yaml.safe_load(open(d + "/secretmanagerconfigs.secret-management.octopilot.io.yaml"))
b = yaml.safe_load(open(d + "/secretmanagerconfigs.secret-management.microscaler.io.yaml"))
assert a["spec"]["group"] == "secret-management.octopilot.io"
assert b["spec"]["group"] == "secret-management.microscaler.io"
assert [v["name"] for v in a["spec"]["versions"]] == ["v1beta1"]
assert [v["name"] for v in b["spec"]["versions"]] == ["v1"]
va, vb = a["spec"]["versions"][0], b["spec"]["versions"][0]
assert va["storage"] and va["served"] and vb["storage"] and vb["served"]
assert va["subresources"] == {"status": {}} == vb["subresources"]
assert va["schema"] == vb["schema"], "schemas differ"
assert va["additionalPrinterColumns"] == vb["additionalPrinterColumns"]
assert a["spec"]["names"]["shortNames"] == ["smc"] and a["spec"]["scope"] == "Namespaced"
assert "shortNames" not in b["spec"]["names"], "smc would be ambiguous"
cols = {c["name"]: c["jsonPath"] for c in va["additionalPrinterColumns"]}
assert cols["Ready"] == '.status.conditions[?(@.type=="Ready")].status', cols
assert cols["Secrets"] == ".status.secretsSynced" and cols["Revision"] == ".status.lastAppliedRevision"
assert cols["Phase"] == ".status.phase" and cols["Age"] == ".metadata.creationTimestamp"
s = va["schema"]["openAPIV3Schema"]["properties"]
def has(path):
    cur = {"properties": s}
    for p in path.split("."):
        cur = cur.get("properties", {}).get(p)
        if cur is None:
            return False
    return True
want = """spec.sourceRef.kind spec.sourceRef.name spec.sourceRef.namespace
spec.sourceRef.gitCredentials.name spec.sourceRef.gitCredentials.namespace
spec.provider.type spec.provider.gcp.projectId spec.provider.gcp.location spec.provider.gcp.region
spec.provider.gcp.auth.authType spec.provider.gcp.auth.serviceAccountEmail
spec.provider.gcp.auth.secretName spec.provider.gcp.auth.secretNamespace spec.provider.gcp.auth.secretKey
spec.provider.aws.region spec.provider.aws.endpoint spec.provider.aws.auth.authType
spec.provider.aws.auth.roleArn spec.provider.aws.auth.secretName spec.provider.aws.auth.secretNamespace
spec.provider.azure.vaultName spec.provider.azure.location spec.provider.azure.auth.authType
spec.provider.azure.auth.clientId spec.provider.azure.auth.tenantId spec.provider.azure.auth.secretName
spec.provider.local.path
spec.secrets.environment spec.secrets.kustomizePath spec.secrets.basePath spec.secrets.prefix spec.secrets.suffix
spec.configs.enabled spec.configs.store spec.configs.parameterPath spec.configs.appConfigEndpoint
spec.reconcileInterval spec.gitRepositoryPullInterval spec.suspend spec.suspendGitPulls
spec.diffDiscovery spec.triggerUpdate spec.prune spec.deletionPolicy spec.adoptExisting
spec.otel spec.notifications spec.logging spec.hotReload
status.observedGeneration status.conditions status.phase status.description
status.lastAppliedRevision status.lastAttemptedRevision status.lastReconcileTime
status.nextReconcileTime status.secretsSynced status.configsSynced
status.inventory.secrets status.inventory.configs status.sync.secrets status.sync.properties
status.decryptionStatus status.lastDecryptionAttempt status.lastDecryptionError
status.sopsKeyAvailable status.sopsKeySecretName status.sopsKeyNamespace status.sopsKeyLastChecked""".split()
missing = [p for p in want if not has(p)]
assert not missing, "missing from the schema: %s" % missing
cond = s["status"]["properties"]["conditions"]["items"]["properties"]
for f in ("type", "status", "reason", "message", "lastTransitionTime", "observedGeneration"):
    assert f in cond, f
spec = s["spec"]
assert spec["required"] == ["sourceRef", "provider", "secrets"]
assert spec["properties"]["secrets"]["required"] == ["environment"]
defaults = {k: v.get("default") for k, v in spec["properties"].items() if "default" in v}
assert defaults == {"reconcileInterval": "1m", "gitRepositoryPullInterval": "5m", "suspend": False,
                    "suspendGitPulls": False, "diffDiscovery": True, "triggerUpdate": True,
                    "deletionPolicy": "Retain", "adoptExisting": False}, defaults
print("ok: CRD files: same schema, every field, defaults, printer columns")
EOF

kubectl kustomize "$src/deploy/crd" >"$work/k.yaml" 2>&1 || fail "kubectl kustomize deploy/crd: $(cat "$work/k.yaml")"
[ "$(grep -c '^kind: CustomResourceDefinition' "$work/k.yaml")" = 2 ] || fail "kustomize did not render two CRDs"
ok "kustomize renders deploy/crd"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$here/kube_apiserver.py" --port "$port" --cert-dir "$work/certs" --crd-dir "$src/deploy/crd" \
	>"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do grep -q '^ready$' "$work/server.out" 2>/dev/null && break; sleep 0.2; done
grep -q '^ready$' "$work/server.out" || fail "server did not start: $(cat "$work/server.err")"
kdir=$(dirname "$(readlink -f "$(command -v gcloud)")")
K=("$kdir/kubectl.1.33" --kubeconfig "$work/certs/kubeconfig-http.yaml" --cache-dir "$work/cache")

out=$("${K[@]}" apply --dry-run=server -f "$src/deploy/examples/" 2>&1) || fail "examples: $out"
n_examples=$(ls "$src"/deploy/examples/*.yaml | wc -l)
[ "$(grep -c 'created (server dry run)' <<<"$out")" = "$n_examples" ] || fail "examples: $out"
out=$("${K[@]}" get smc -A -o name 2>&1)
[ -z "$out" ] || fail "dry run stored something: $out"
ok "examples accepted"

# One document per case; each kubectl call applies a whole batch (server-side dry run).
doc() { # name apiVersion provider-yaml [extra spec lines] [sourceRef kind]
	printf -- '---\napiVersion: %s\nkind: SecretManagerConfig\nmetadata: {name: %s, namespace: default}\nspec:\n  sourceRef: {kind: %s, name: repo, namespace: flux-system}\n  provider: %s\n  secrets: {environment: dev}\n%b' \
		"$2" "$1" "${5:-GitRepository}" "$3" "${4:-}"
}
: >"$work/accept.yaml"
: >"$work/reject.yaml"
n=0
for av in secret-management.octopilot.io/v1beta1 secret-management.microscaler.io/v1; do
	g=${av##*/}
	{
		doc "a1$g" $av '{type: gcp, gcp: {projectId: p-123456, location: europe-west1, auth: {authType: WorkloadIdentity, serviceAccountEmail: a@b.c}}}'
		doc "a2$g" $av '{gcp: {region: europe-west1, auth: {authType: workloadIdentity}}}'
		doc "a3$g" $av '{aws: {region: eu-west-1, auth: {authType: Irsa, roleArn: "arn:aws:iam::1:role/x"}}}'
		doc "a4$g" $av '{aws: {region: eu-west-1, auth: {authType: irsa}}}'
		doc "a5$g" $av '{azure: {vaultName: v1, auth: {authType: ManagedIdentity}}}'
		doc "a6$g" $av '{local: {}}' '  configs: {enabled: true, store: ParameterManager}\n'
		doc "a7$g" $av '{local: {path: /tmp/s.db}}' '' Directory
	} >>"$work/accept.yaml"
	n=$((n + 7))
	{
		doc "r1$g" $av '{aws: {region: eu-west-1, auth: {authType: Magic}}}'
		doc "r2$g" $av '{gcp: {location: x}, aws: {region: eu-west-1}}'
		doc "r3$g" $av '{}'
		doc "r4$g" $av '{local: {}}' '  deletionPolicy: Purge\n'
		doc "r5$g" $av '{local: {}}' '  reconcileInterval: 1m30s\n'
		doc "r6$g" $av '{local: {}}' '' HelmRepository
	} >>"$work/reject.yaml"
done
out=$("${K[@]}" apply --dry-run=server -f "$work/accept.yaml" 2>&1) || fail "accept batch: $out"
[ "$(grep -c 'created (server dry run)' <<<"$out")" = $n ] || fail "accept batch: $out"
out=$("${K[@]}" apply --dry-run=server -f "$work/reject.yaml" 2>&1) && fail "reject batch accepted: $out"
grep -q 'created' <<<"$out" && fail "a violation was accepted: $out"
for g in v1beta1 v1; do
	expect() { grep -q -- "$2" <<<"$(grep -A3 "\"$1$g\"" <<<"$out")" || fail "$1$g: expected '$2' in: $out"; }
	expect r1 'spec.provider.aws.auth.authType: Unsupported value: "Magic"'
	expect r2 'spec.provider.*exactly one schema in oneOf'
	expect r3 'spec.provider.*oneOf (none matched)'
	expect r4 'spec.deletionPolicy: Unsupported value: "Purge"'
	expect r5 'spec.reconcileInterval.*should match'
	expect r6 'spec.sourceRef.kind: Unsupported value: "HelmRepository"'
done
ok "reference spellings accepted, schema violations rejected (both groups)"
echo PASS
