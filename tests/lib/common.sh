# tests/lib/common.sh — helpers for shell tests. Source it; set -euo pipefail is on.
set -euo pipefail
: "${SMC_BINARY_DIR:?run through ctest (SMC_BINARY_DIR unset)}"
: "${SMC_SOURCE_DIR:?run through ctest (SMC_SOURCE_DIR unset)}"
SMC="$SMC_BINARY_DIR/smc"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/smc-test.XXXXXX")
chmod 755 "$TMP"   # the sandboxed children run as their own uids when the test runs as root
# pids+=(PID) for every background peer: at exit each is stopped (TERM, then reaped) and
# $TMP removed (kept when SMC_KEEP_TMP is set).
pids=()
stop_peers() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${SMC_KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap stop_peers EXIT
# free_port : a TCP port that is free on 127.0.0.1 now
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_for SECONDS COMMAND... : polls every 0.1 s until COMMAND succeeds; never fails itself
wait_for() {
  local end=$((SECONDS + $1)); shift
  while [ $SECONDS -lt $end ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  "$@" >/dev/null 2>&1 || true
}
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
