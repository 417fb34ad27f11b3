#!/usr/bin/env bash
# The hostile Git corpus: tests/hostile/gen_git.sh builds ≥30 repositories no `git add`
# would make (links out of the tree, submodules, planted .git, huge blobs, deep and wide
# trees, missing and bad revisions, force-pushed history) and points at servers that
# fail (404, no answer, a stall in the middle of the pack through stall_proxy.py). The
# criterion driver tests/unit/fetcher/test_hostile.c fetches each with the fetcher's Git
# source in a child under RLIMIT_DATA 128 MiB: refused with the expected code and
# message, within 5 s, peak RSS under 128 MiB.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"

driver="$SMC_BINARY_DIR/tests/unit_fetcher_test_hostile"
[ -x "$driver" ] || { echo "FAIL - $driver not built"; exit 1; }
mkdir -p "$TMP/corpus/repos" "$TMP/scratch" "$TMP/empty"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$TMP"' EXIT
# start NAME CMD... : runs a server printing "PORT n"; sets $port
start() {
  local name=$1; shift
  "$@" >"$TMP/$name.port" 2>"$TMP/$name.log" &
  pids+=($!)
  for _ in $(seq 100); do grep -q '^PORT ' "$TMP/$name.port" && break; sleep 0.1; done
  port=$(awk '/^PORT/ {print $2}' "$TMP/$name.port")
}
start git python3 "$SMC_SOURCE_DIR/tests/lib/git_http_server.py" "$TMP/corpus/repos"; git_port=$port
start stall python3 "$SMC_SOURCE_DIR/tests/hostile/artifact_server.py" "$TMP/empty"; stall_port=$port
start proxy python3 "$SMC_SOURCE_DIR/tests/hostile/stall_proxy.py" "$git_port" --after 4000; proxy_port=$port

bash "$SMC_SOURCE_DIR/tests/hostile/gen_git.sh" "$TMP/corpus" "http://127.0.0.1:$git_port" \
  "http://127.0.0.1:$stall_port" "http://127.0.0.1:$proxy_port"
n=$(wc -l <"$TMP/corpus/cases.tsv")
check "at least 30 git cases ($n)" test "$n" -ge 30

if SMC_HOSTILE_GIT="$TMP/corpus/cases.tsv" SMC_HOSTILE_SCRATCH="$TMP/scratch" \
   "$driver" --jobs=1 --filter 'hostile/git' --verbose=0 >"$TMP/out" 2>&1; then
  ok "every git case refused as expected"
else
  fail "git cases"
fi
cat "$TMP/out"
check "the driver ran the cases (not skipped)" grep -q "^ok   http_stall_mid_pack" "$TMP/out"
check "the proxy stalled mid-pack" grep -q "stalled after" "$TMP/proxy.log"
finish
