#!/usr/bin/env bash
# Bad input through the real process tree: each case fails with one clear message naming
# the file, key or field, exits non-zero, and writes nothing (the store is unchanged).
. "$SMC_SOURCE_DIR/tests/lib/common.sh"

repo="$TMP/repo"; store="$TMP/store/store.db"
cp -r "$SMC_SOURCE_DIR/examples" "$repo"; plain_repo "$repo"; chmod -R a+rX "$repo"
cfg="$repo/local.yaml"
envf="$repo/microservices/payments/deployment-configuration/profiles/dev/application.secrets.env"
"$SMC" sync -f "$cfg" --store "$store" -o json >/dev/null 2>&1
dump() { python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('select count(*), coalesce(sum(length(value)),0) from versions').fetchone())" "$store"; }
before=$(dump)

# expect_fail NAME PATTERN CMD... : non-zero exit, stderr matches PATTERN, store unchanged
expect_fail() {
  local name=$1 pat=$2; shift 2
  if "$@" >"$TMP/out" 2>"$TMP/err"; then fail "$name: exited 0"; return; fi
  if grep -qE "$pat" "$TMP/err"; then ok "$name: says /$pat/"; else fail "$name: message was: $(tail -3 "$TMP/err")"; fi
  if [ "$(dump)" = "$before" ]; then ok "$name: store unchanged"; else fail "$name: store changed"; fi
}

# a config that does not exist / is not a SecretManagerConfig / misses a field
expect_fail "missing config" "nope.yaml" "$SMC" sync -f "$TMP/nope.yaml" --store "$store"
printf 'kind: ConfigMap\nmetadata: {name: x}\n' >"$TMP/wrong.yaml"
expect_fail "wrong kind" "kind: expected SecretManagerConfig" "$SMC" sync -f "$TMP/wrong.yaml" --store "$store"
sed '/environment: dev/d' "$cfg" >"$repo/noenv.yaml"
expect_fail "missing field" "spec.secrets.environment: required" "$SMC" sync -f "$repo/noenv.yaml" --store "$store"
printf 'kind: SecretManagerConfig\nspec: [unclosed\n' >"$TMP/broken.yaml"
expect_fail "malformed YAML" "broken.yaml:[0-9]+" "$SMC" sync -f "$TMP/broken.yaml" --store "$store"

# provider auth: a wrong authType, a Secret with the wrong auth type, a bad Secret name, and a
# credentials Secret outside a cluster (only smcd --cluster reads Secrets)
awscfg() { sed -e "s|^    local: {}|    aws: {region: us-east-1, auth: $1}|" "$cfg" >"$repo/auth.yaml"; }
awscfg '{authType: kerberos}'
expect_fail "unknown authType" 'spec.provider.aws.auth.authType: "kerberos" is not one of' "$SMC" sync -f "$repo/auth.yaml" --store "$store"
awscfg '{authType: irsa, secretName: aws-keys}'
expect_fail "secretName with irsa" "spec.provider.aws.auth.secretName: a Secret is only read with authType accessKeys" "$SMC" sync -f "$repo/auth.yaml" --store "$store"
awscfg '{authType: accessKeys, secretName: Bad_Name}'
expect_fail "invalid Secret name" 'spec.provider.aws.auth.secretName: "Bad_Name" is not a valid Secret name' "$SMC" sync -f "$repo/auth.yaml" --store "$store"
awscfg '{authType: accessKeys, secretName: aws-keys, secretKey: k}'
expect_fail "secretKey with aws" "spec.provider.aws.auth.secretKey: not used by aws" "$SMC" sync -f "$repo/auth.yaml" --store "$store"
awscfg '{authType: accessKeys, secretName: aws-keys}'
expect_fail "credentials Secret without a cluster" "auth.yaml: spec.provider.aws.auth.secretName: Secrets are read by smcd --cluster only" "$SMC" sync -f "$repo/auth.yaml" --store "$store"

# a source path that does not exist
sed 's|path: \.|path: ./missing-dir|' "$cfg" >"$repo/missing.yaml"
expect_fail "missing source path" "missing-dir" "$SMC" sync -f "$repo/missing.yaml" --store "$store"

# an environment with no profile directory
sed 's/environment: dev/environment: staging/' "$cfg" >"$repo/staging.yaml"
expect_fail "unknown environment" "staging" "$SMC" sync -f "$repo/staging.yaml" --store "$store"

# a malformed line in a secrets file: the message names file and line, never the value
cp "$envf" "$TMP/env.bak"
# (kustomize refuses a repeated key and invalid UTF-8; it accepts almost anything else)
printf 'STRIPE_API_KEY=super-secret-canary-value\n' >>"$envf"
expect_fail "repeated env key" "application.secrets.env.*[0-9]+" "$SMC" sync -f "$cfg" --store "$store"
if grep -q "super-secret-canary-value" "$TMP/err" "$TMP/out"; then fail "repeated key: value leaked"; else ok "repeated key: value not printed"; fi
cp "$TMP/env.bak" "$envf"
printf 'GOOD=1\nBAD=super-secret-canary-value\xff\n' >>"$envf"
expect_fail "non-UTF-8 env line" "application.secrets.env.*[0-9]+" "$SMC" sync -f "$cfg" --store "$store"
if grep -q "super-secret-canary-value" "$TMP/err" "$TMP/out"; then fail "malformed line: value leaked"; else ok "malformed line: value not printed"; fi
cp "$TMP/env.bak" "$envf"

# a malformed YAML secrets file
yf="$repo/microservices/payments/deployment-configuration/profiles/dev/application.secrets.yaml"
cp "$yf" "$TMP/yaml.bak"; printf 'redis: [unclosed\n' >"$yf"
expect_fail "malformed secrets yaml" "application.secrets.yaml" "$SMC" sync -f "$cfg" --store "$store"
cp "$TMP/yaml.bak" "$yf"

# a symlink that leaves the tree
ln -s /etc/passwd "$repo/microservices/payments/deployment-configuration/profiles/dev/escape.env"
expect_fail "symlink escaping the tree" "escape.env" "$SMC" sync -f "$cfg" --store "$store"
rm "$repo/microservices/payments/deployment-configuration/profiles/dev/escape.env"

# an oversize file in the tree (limit 8 MiB per file)
head -c $((9 * 1024 * 1024)) /dev/zero >"$repo/big.bin"
expect_fail "oversize file" "big.bin" "$SMC" sync -f "$cfg" --store "$store"
rm "$repo/big.bin"

# a store locked by another writer
python3 - "$store" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("begin exclusive")
open(sys.argv[1] + ".locked", "w").close()
time.sleep(8)
c.execute("rollback")
PY
locker=$!
for _ in $(seq 50); do [ -e "$store.locked" ] && break; sleep 0.1; done
sed -i 's/^STRIPE_API_KEY=.*/STRIPE_API_KEY=changed-while-locked/' "$envf"
if "$SMC" sync -f "$cfg" --store "$store" >"$TMP/out" 2>"$TMP/err"; then fail "locked store: exited 0"; fi
kill "$locker" 2>/dev/null; wait "$locker" 2>/dev/null || true
rm -f "$store.locked"
# (the store can only be read back once the other writer has let go)
if grep -qE "lock|busy" "$TMP/err"; then ok "locked store: says it is locked"; else fail "locked store: message was: $(tail -3 "$TMP/err")"; fi
if [ "$(dump)" = "$before" ]; then ok "locked store: store unchanged"; else fail "locked store: store changed"; fi

# a read-only store
chmod 0400 "$store"
expect_fail "read-only store" "store.db" "$SMC" sync -f "$cfg" --store "$store"
chmod 0600 "$store"
cp "$TMP/env.bak" "$envf"

# and after all of that the store still syncs cleanly
"$SMC" sync -f "$cfg" --store "$store" -o json >"$TMP/final.json"
check "a clean sync after the failures writes nothing new" test "$(jget "$TMP/final.json" 'j["secrets"]["written"]')" -eq 0
finish
