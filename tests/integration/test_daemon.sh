#!/usr/bin/env bash
# smcd as a daemon on the embedded default: it re-runs the job every reconcileInterval,
# restarts a child that dies (here: SIGKILL to the fetcher) and converges again, and shuts
# down cleanly on SIGTERM leaving no child behind.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"

repo="$TMP/repo"; store="$TMP/store/store.db"
cp -r "$SMC_SOURCE_DIR/examples" "$repo"; plain_repo "$repo"; chmod -R a+rX "$repo"
cfg="$repo/local.yaml"
sed -i 's/^  deletionPolicy: Retain/  deletionPolicy: Retain\n  reconcileInterval: 1s/' "$cfg"
envf="$repo/microservices/payments/deployment-configuration/profiles/dev/application.secrets.env"

AWS_SECRET_ACCESS_KEY=env-canary-not-for-the-decryptor SMC_LOG_LEVEL=info "$SMC_BINARY_DIR/smcd" -f "$cfg" --store "$store" 2>"$TMP/smcd.log" &
smcd=$!
# wait_for SECONDS CMD... : polls every 0.1 s until CMD succeeds
wait_for() { local n=$(( $1 * 10 )); shift; for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
# has NAME VALUE : the store's latest value of NAME is VALUE (re-read at every poll)
has() { [ "$("$SMC" get --store "$store" "$1" 2>/dev/null)" = "$2" ]; }

check "first reconcile stores the secrets" wait_for 20 has payments-STRIPE_API_KEY sk_test_demo_51HxPaymentsDev
check "four children run under smcd" test "$(pgrep -P "$smcd" | wc -l)" -eq 4

# cloud credentials in the environment reach the syncer alone
for role in watcher fetcher decryptor syncer; do
  pid=$(pgrep -P "$smcd" -f "smc-$role")
  if ! env_of=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null); then echo "skip - cannot read the environment of smc-$role"; continue; fi
  n=$(printf '%s\n' "$env_of" | grep -c '^AWS_SECRET_ACCESS_KEY=' || true)
  if [ "$role" = syncer ]; then check "smc-syncer inherits the cloud credentials" test "$n" -eq 1
  else check "smc-$role does not inherit the cloud credentials" test "$n" -eq 0; fi
done
fetcher=$(pgrep -P "$smcd" -f smc-fetcher)
others=$(pgrep -P "$smcd" -f 'smc-(watcher|decryptor|syncer)' | sort | tr '\n' ' ')
kill -9 "$fetcher"
check "the supervisor logs the death" wait_for 10 grep -q 'fetcher killed by signal 9' "$TMP/smcd.log"
check "and restarts the fetcher" wait_for 10 grep -q 'restarted fetcher' "$TMP/smcd.log"
check "the new fetcher is another process" wait_for 10 bash -c "p=\$(pgrep -P $smcd -f smc-fetcher) && [ -n \"\$p\" ] && [ \"\$p\" != $fetcher ]"
check "its peers kept running (only the dead child restarts)" test "$(pgrep -P "$smcd" -f 'smc-(watcher|decryptor|syncer)' | sort | tr '\n' ' ')" = "$others"

sed -i 's/^STRIPE_API_KEY=.*/STRIPE_API_KEY=after-restart/' "$envf"
check "a change in Git converges after the restart" wait_for 20 has payments-STRIPE_API_KEY after-restart

# a broken source does not stop the daemon: the job fails, the next one succeeds
mv "$repo/microservices" "$repo/moved"
check "a failing reconcile is logged" wait_for 10 grep -q 'job.failed' "$TMP/smcd.log"
check "smcd is still running" kill -0 "$smcd"
mv "$repo/moved" "$repo/microservices"
sed -i 's/^STRIPE_API_KEY=.*/STRIPE_API_KEY=after-failure/' "$envf"
check "and the next reconcile converges" wait_for 20 has payments-STRIPE_API_KEY after-failure

children=$(pgrep -P "$smcd" | tr '\n' ' ')
kill -TERM "$smcd"
( sleep 10; kill -9 "$smcd" 2>/dev/null ) & timer=$!
code=0; wait "$smcd" || code=$?
kill "$timer" 2>/dev/null || true
check "SIGTERM stops smcd cleanly within 10 s, exit 0 (got $code)" test "$code" -eq 0
left=0; for c in $children; do kill -0 "$c" 2>/dev/null && left=$((left + 1)); done
check "no child left behind" test "$left" -eq 0
finish
