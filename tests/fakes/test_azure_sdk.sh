#!/usr/bin/env bash
# The fake Azure (tests/fakes/azure_server.py) checked by the official SDKs,
# @azure/keyvault-secrets 4.12.0 and @azure/app-configuration 1.13.0 (tests/fakes/azure_check.js),
# over HTTPS with a CA the fake makes (NODE_EXTRA_CA_CERTS) and over plain HTTP. Skips with a
# message when node is absent or the npm packages are missing and cannot be installed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PYTHONDONTWRITEBYTECODE=1

command -v node >/dev/null || { echo "SKIP: node is not installed"; exit 0; }
if [ ! -d "$here/node_modules/@azure/keyvault-secrets" ] || [ ! -d "$here/node_modules/@azure/app-configuration" ]; then
	echo "node_modules missing: trying npm ci in tests/fakes"
	if ! (cd "$here" && timeout 120 npm ci --silent --no-audit --no-fund >/dev/null 2>&1); then
		echo "SKIP: the Azure SDK npm packages are not installed and npm cannot install them"
		exit 0
	fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/smc-azure-sdk.XXXXXX")
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
	rm -rf "$work"
}
trap cleanup EXIT

tenant=7f3c1a2e-0000-4000-8000-00000000c0de
client_id=smc-sdk-check
client_secret="s3cret-$RANDOM$RANDOM"
printf 'federated-%s\n' "$RANDOM$RANDOM" >"$work/federated-token"

python3 "$here/azure_server.py" --port 0 --tls-port 0 --cert-dir "$work/tls" --tenant "$tenant" \
	--client "$client_id:$client_secret" --federated-token "$work/federated-token" \
	>"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do grep -q '^ready$' "$work/server.out" 2>/dev/null && break; sleep 0.1; done
if ! grep -q '^ready$' "$work/server.out"; then
	echo "FAIL: the fake did not start"; cat "$work/server.err"; exit 1
fi
http_port=$(awk '$1 == "http" {print $2}' "$work/tls/ports")
https_port=$(awk '$1 == "https" {print $2}' "$work/tls/ports")

rc=0
(cd "$here" && NODE_EXTRA_CA_CERTS="$work/tls/ca.crt" \
	AZF_HTTPS="https://localhost:$https_port" AZF_HTTP="http://127.0.0.1:$http_port" \
	AZF_TENANT="$tenant" AZF_CLIENT_ID="$client_id" AZF_CLIENT_SECRET="$client_secret" \
	AZF_FED_TOKEN="$(cat "$work/federated-token")" \
	timeout 60 node azure_check.js) || rc=$?
if [ -s "$work/server.err" ]; then
	echo "FAIL: the fake wrote to stderr:"; cat "$work/server.err"; rc=1
fi
if [ "$rc" -ne 0 ]; then echo "FAIL: azure_check.js (exit $rc)"; exit 1; fi
echo "all checks passed"
