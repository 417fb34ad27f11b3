#!/usr/bin/env bash
# The real process tree (smcd + four sandboxed children) on a copy of examples/, into the
# embedded store: idempotence, one new version per change, drift put back, pruning policy,
# and no secret value in any output.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"

repo="$TMP/repo"; store="$TMP/store/store.db"
cp -r "$SMC_SOURCE_DIR/examples" "$repo"; plain_repo "$repo"
chmod -R a+rX "$repo"
canary="canary-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "CANARY_TOKEN=$canary" >> "$repo/microservices/payments/deployment-configuration/profiles/dev/application.secrets.env"
cfg="$repo/local.yaml"
sql() { python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchall(); c.commit(); print(r[0][0] if r and len(r[0])==1 else r)" "$store" "$1"; }

# 1. first sync writes everything
"$SMC" sync -f "$cfg" --store "$store" -o json >"$TMP/1.json" 2>"$TMP/1.err"
check "first sync exits 0" test $? -eq 0
w1=$(jget "$TMP/1.json" 'j["secrets"]["written"]')
check "first sync wrote 9 secrets (got $w1)" test "$w1" -eq 9
c1=$(jget "$TMP/1.json" 'j["configs"]["written"]')
check "first sync wrote 5 configs (got $c1)" test "$c1" -eq 5
check "revision is a content digest" grep -q '"revision": "sha256:' "$TMP/1.json"
check "store file is mode 0600" test "$(stat -c %a "$store")" = 600
check "payments-CANARY_TOKEN holds the canary" test "$("$SMC" get --store "$store" payments-CANARY_TOKEN)" = "$canary"
check "yaml keys are flattened" test "$("$SMC" get --store "$store" payments-oauth_clients_0__secret)" = "dev-oauth-web-secret"
check "configs are stored" test "$("$SMC" get --store "$store" --config payments-server_port)" = "8080"

# 2. second sync writes nothing
rows_before=$(sql "select count(*) from versions")
"$SMC" sync -f "$cfg" --store "$store" -o json >"$TMP/2.json" 2>"$TMP/2.err"
check "second sync: 0 written" test "$(jget "$TMP/2.json" 'j["secrets"]["written"] + j["configs"]["written"]')" -eq 0
check "second sync: 14 unchanged" test "$(jget "$TMP/2.json" 'j["secrets"]["unchanged"] + j["configs"]["unchanged"]')" -eq 14
check "second sync added no version rows" test "$(sql "select count(*) from versions")" -eq "$rows_before"

# 3. one value changed in Git → exactly one new version
sed -i 's/^STRIPE_API_KEY=.*/STRIPE_API_KEY=sk_test_rotated_value/' "$repo/microservices/payments/deployment-configuration/profiles/dev/application.secrets.env"
"$SMC" sync -f "$cfg" --store "$store" -o json >"$TMP/3.json" 2>"$TMP/3.err"
check "changed value: exactly 1 written" test "$(jget "$TMP/3.json" 'j["secrets"]["written"] + j["configs"]["written"]')" -eq 1
check "changed value: one more version row" test "$(sql "select count(*) from versions")" -eq $((rows_before + 1))
check "new value readable" test "$("$SMC" get --store "$store" payments-STRIPE_API_KEY)" = "sk_test_rotated_value"
check "old version kept" test "$("$SMC" get --store "$store" payments-STRIPE_API_KEY --version 1)" = "sk_test_demo_51HxPaymentsDev"

# 4. the latest version changed by hand → put back
sql "update versions set value = cast('tampered' as blob) where object_id = (select id from objects where name = 'orders-KAFKA_SASL_PASSWORD') and version = (select max(version) from versions v where v.object_id = versions.object_id)" >/dev/null
"$SMC" sync -f "$cfg" --store "$store" -o json >"$TMP/4.json" 2>"$TMP/4.err"
check "drift: 1 written" test "$(jget "$TMP/4.json" 'j["secrets"]["written"]')" -eq 1
check "drift: value put back" test "$("$SMC" get --store "$store" orders-KAFKA_SASL_PASSWORD)" = "dev-kafka-secret"
check "drift reported by name" grep -q 'orders-KAFKA_SASL_PASSWORD' "$TMP/4.json"

# 5. a key removed from Git is retained by default, deleted with deletionPolicy: Delete
sed -i '/^KAFKA_SASL_PASSWORD=/d' "$repo/microservices/orders/deployment-configuration/profiles/dev/application.secrets.env"
"$SMC" sync -f "$cfg" --store "$store" -o json >"$TMP/5.json" 2>"$TMP/5.err"
check "removed key retained by default" test "$(jget "$TMP/5.json" 'j["secrets"]["retained"]')" -eq 1
check "retained value still readable" test "$("$SMC" get --store "$store" orders-KAFKA_SASL_PASSWORD)" = "dev-kafka-secret"
sed -i 's/^  deletionPolicy: Retain/  deletionPolicy: Delete/' "$cfg"
"$SMC" sync -f "$cfg" --store "$store" -o json >"$TMP/6.json" 2>"$TMP/6.err"
check "removed key pruned with Delete" test "$(jget "$TMP/6.json" 'j["secrets"]["pruned"]')" -eq 1
check "pruned key no longer readable" bash -c "! '$SMC' get --store '$store' orders-KAFKA_SASL_PASSWORD >/dev/null 2>&1"

# 6. diff writes nothing and prints names only
sed -i 's/^WEBHOOK_SIGNING_SECRET=.*/WEBHOOK_SIGNING_SECRET=whsec_new/' "$repo/microservices/payments/deployment-configuration/profiles/dev/application.secrets.env"
rows=$(sql "select count(*) from versions")
"$SMC" diff -f "$cfg" --store "$store" >"$TMP/diff.txt" 2>&1
check "diff names the changed secret" grep -q 'payments-WEBHOOK_SIGNING_SECRET' "$TMP/diff.txt"
check "diff wrote nothing" test "$(sql "select count(*) from versions")" -eq "$rows"

# 7. text output and the canary: no value in any output of any run
"$SMC" sync -v -f "$cfg" --store "$store" >"$TMP/7.txt" 2>"$TMP/7.err"
check "text output summarises" grep -q '^synced demo/example at sha256:' "$TMP/7.txt"
check "verbose run logged the pipeline" grep -q 'sync.done' "$TMP/7.err"
for f in "$TMP"/*.json "$TMP"/*.err "$TMP"/*.txt; do
  if grep -q "$canary" "$f"; then fail "canary leaked into $(basename "$f")"; fi
done
ok "canary absent from every output"
finish
