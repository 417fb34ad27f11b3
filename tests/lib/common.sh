# tests/lib/common.sh — helpers for shell tests. Source it; set -euo pipefail is on.
set -euo pipefail
: "${SMC_BINARY_DIR:?run through ctest (SMC_BINARY_DIR unset)}"
: "${SMC_SOURCE_DIR:?run through ctest (SMC_SOURCE_DIR unset)}"
SMC="$SMC_BINARY_DIR/smc"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/smc-test.XXXXXX")
chmod 755 "$TMP"   # the sandboxed children run as their own uids when the test runs as root
trap 'rm -rf "$TMP"' EXIT
fails=0
ok()   { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; fails=$((fails + 1)); }
# check "description" command... : passes when the command succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
# jget FILE EXPR : evaluates a Python expression on the JSON document j loaded from FILE
jget() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }
# plain_repo DIR : decrypts every SOPS file of DIR in place with the demo key of examples/
plain_repo() {
  local f
  while IFS= read -r f; do
    "$SMC" decrypt --keys "$SMC_SOURCE_DIR/examples/keys" "$f" >"$f.plain" && mv "$f.plain" "$f"
  done < <(grep -rlE '^sops_version=|^    version:|"sops":|^sops:' "$1" --include='application.secrets.*')
}
finish() { if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi; echo "all checks passed"; }
