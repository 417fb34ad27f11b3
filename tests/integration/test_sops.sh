#!/usr/bin/env bash
# SOPS through the real process tree: the decryptor (alone holding the keys) opens the
# age-encrypted example files, the MAC is verified, a change made the sops way
# (decrypt → edit → encrypt) gives exactly one new version, and every failure — no keys,
# a wrong key, a tampered value, a missing MAC — is refused naming the file, never a value,
# with nothing written.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"

repo="$TMP/repo"; store="$TMP/store/store.db"; keys="$SMC_SOURCE_DIR/examples/keys"
cp -r "$SMC_SOURCE_DIR/examples" "$repo"; chmod -R a+rX "$repo"
cfg="$repo/local.yaml"
envf="$repo/microservices/payments/deployment-configuration/profiles/dev/application.secrets.env"
yamlf="$repo/microservices/payments/deployment-configuration/profiles/dev/application.secrets.yaml"
recipient=$(grep -o 'age1[0-9a-z]*' "$keys/demo.agekey" | head -1)
dump() { python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('select count(*), coalesce(sum(length(value)),0) from versions').fetchone())" "$store"; }

check "the example secrets files are SOPS-encrypted" grep -q '^sops_version=' "$envf"
check "no plaintext value in the encrypted file" bash -c "! grep -q 'sk_test_demo' '$envf'"

"$SMC" sync -f "$cfg" --keys "$keys" --store "$store" -o json >"$TMP/1.json" 2>"$TMP/1.err"
check "sync with the keys writes 8 secrets" test "$(jget "$TMP/1.json" 'j["secrets"]["written"]')" -eq 8
check "the files are reported as encrypted" test "$(jget "$TMP/1.json" 'sum(1 for f in j["files"] if f["encrypted"])')" -eq 3
check "a dotenv value decrypted" test "$("$SMC" get --store "$store" payments-STRIPE_API_KEY)" = "sk_test_demo_51HxPaymentsDev"
check "a nested yaml value decrypted" test "$("$SMC" get --store "$store" payments-oauth_clients_0__secret)" = "dev-oauth-web-secret"
check "properties (plain) still flow as configs" test "$(jget "$TMP/1.json" 'j["configs"]["written"]')" -eq 5

# a change made the sops way: decrypt, edit, encrypt
canary="sops-canary-$RANDOM$RANDOM"
"$SMC" decrypt --keys "$keys" "$envf" >"$TMP/plain.env"
sed -i "s/^STRIPE_API_KEY=.*/STRIPE_API_KEY=$canary/" "$TMP/plain.env"
cp "$TMP/plain.env" "$TMP/application.secrets.env"
"$SMC" encrypt --age "$recipient" "$TMP/application.secrets.env" >"$envf"
rm -f "$TMP/application.secrets.env" "$TMP/plain.env"
check "re-encrypted file holds no plaintext" bash -c "! grep -q '$canary' '$envf'"
"$SMC" sync -f "$cfg" --keys "$keys" --store "$store" -o json >"$TMP/2.json" 2>"$TMP/2.err"
check "one secret changed → exactly one write" test "$(jget "$TMP/2.json" 'j["secrets"]["written"]')" -eq 1
check "the new value is stored" test "$("$SMC" get --store "$store" payments-STRIPE_API_KEY)" = "$canary"
"$SMC" sync -f "$cfg" --keys "$keys" --store "$store" -o json >"$TMP/3.json" 2>"$TMP/3.err"
check "unchanged ciphertext → nothing written" test "$(jget "$TMP/3.json" 'j["secrets"]["written"]')" -eq 0
before=$(dump)

# expect_refused NAME PATTERN [smc sync args...]
expect_refused() {
  local name=$1 pat=$2; shift 2
  if "$SMC" sync -f "$cfg" --store "$store" "$@" >"$TMP/r.out" 2>"$TMP/r.err"; then fail "$name: exited 0"; return; fi
  if grep -qE "$pat" "$TMP/r.err"; then ok "$name: says /$pat/"; else fail "$name: message was: $(tail -2 "$TMP/r.err")"; fi
  if [ "$(dump)" = "$before" ]; then ok "$name: nothing written"; else fail "$name: the store changed"; fi
  if grep -q "$canary" "$TMP/r.out" "$TMP/r.err"; then fail "$name: a value leaked"; fi
}
expect_refused "no keys" "application.secrets.*without keys"
mkdir -p "$TMP/otherkeys"; age-keygen -o "$TMP/otherkeys/other.agekey" 2>/dev/null   # Debian's age
chmod -R a+rX "$TMP/otherkeys"
expect_refused "wrong key" "application.secrets.*no usable key" --keys "$TMP/otherkeys"
cp "$yamlf" "$TMP/yaml.bak"
# tamper with one encrypted value (swap its ciphertext for another value's)
python3 - "$yamlf" <<'PY'
import re, sys
p = sys.argv[1]; s = open(p).read()
vals = re.findall(r'ENC\[AES256_GCM,data:[^,]*,iv:[^,]*,tag:[^,]*,type:str\]', s)
s = s.replace(vals[0], "@@A@@").replace(vals[1], vals[0]).replace("@@A@@", vals[1])
open(p, "w").write(s)
PY
expect_refused "values swapped" "application.secrets.yaml" --keys "$keys"
cp "$TMP/yaml.bak" "$yamlf"
sed -i '/^    mac:/d' "$yamlf"
expect_refused "MAC removed" "application.secrets.yaml.*(mac|MAC)" --keys "$keys"
cp "$TMP/yaml.bak" "$yamlf"
sed -i 's/^sops_mac=ENC\[AES256_GCM,data:./sops_mac=ENC[AES256_GCM,data:A/' "$envf"
expect_refused "MAC tampered" "application.secrets.env" --keys "$keys"
finish
