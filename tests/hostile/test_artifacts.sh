#!/usr/bin/env bash
# The hostile artifact corpus: tests/hostile/gen_artifacts.py writes ≥80 artifacts with
# their expected refusal, tests/hostile/artifact_server.py serves them (and its faults:
# 404s, stalls, endless bodies, redirects, content encoding) on loopback, and the
# criterion driver tests/unit/fetcher/test_hostile.c fetches each one with the fetcher
# library in a child under RLIMIT_DATA 128 MiB: refused, with the expected code and
# message, within 5 s, peak RSS under 128 MiB.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"

driver="$SMC_BINARY_DIR/tests/unit_fetcher_test_hostile"
[ -x "$driver" ] || { echo "FAIL - $driver not built"; exit 1; }
python3 "$SMC_SOURCE_DIR/tests/hostile/gen_artifacts.py" "$TMP/corpus"
n=$(wc -l <"$TMP/corpus/cases.tsv")
check "at least 80 artifact cases ($n)" test "$n" -ge 80

python3 "$SMC_SOURCE_DIR/tests/hostile/artifact_server.py" "$TMP/corpus/files" >"$TMP/port" 2>"$TMP/server.log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do grep -q '^PORT ' "$TMP/port" && break; sleep 0.1; done
port=$(awk '/^PORT/ {print $2}' "$TMP/port")

if SMC_HOSTILE_ARTIFACTS="$TMP/corpus/cases.tsv" SMC_HOSTILE_URL="http://127.0.0.1:$port" \
   "$driver" --jobs=1 --filter 'hostile/artifacts' --verbose=0 >"$TMP/out" 2>&1; then
  ok "every artifact case refused as expected"
else
  fail "artifact cases"
fi
cat "$TMP/out"
check "the driver ran the cases (not skipped)" grep -q "^ok   http_404_forever" "$TMP/out"
finish
