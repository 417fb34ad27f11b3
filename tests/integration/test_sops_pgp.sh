#!/usr/bin/env bash
# OpenPGP keys inside the sandboxed pipeline: the example secrets re-encrypted with
# `smc encrypt --pgp` to the gpg test key are opened by the decryptor through its
# sandboxed PGP helper (gpg never runs inside the decryptor), and the store ends up with
# exactly the values the age path writes. A wrong PGP key gives "no usable key" naming the
# file, nothing written; after each run the helper has stopped its gpg-agents and removed
# its home.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"

gpgfx="$SMC_SHARED_DIR/fixtures/gpg"
fpr=63851F6D9FE653C63308876A41CA918022A8BEF0   # test-rsa3072 (primary)
agekeys="$SMC_SOURCE_DIR/examples/keys"
repo="$TMP/repo"; agerepo="$TMP/agerepo"
pgpstore="$TMP/store/pgp.db"; agestore="$TMP/store/age.db"
# the decryptor makes its helper's home under TMPDIR: a private one, to inspect it
export TMPDIR="$TMP/tmp"; mkdir -p "$TMPDIR"; chmod 1777 "$TMPDIR"
cp -r "$SMC_SOURCE_DIR/examples" "$repo"; cp -r "$SMC_SOURCE_DIR/examples" "$agerepo"
rm -rf "$repo/keys"
mkdir -p "$TMP/pgpkeys" "$TMP/wrongkeys" "$TMP/work"
cp "$gpgfx/test-rsa3072.private.asc" "$TMP/pgpkeys/key.asc"
cp "$gpgfx/test-cv25519.private.asc" "$TMP/wrongkeys/key.asc"
chmod -R a+rX "$repo" "$agerepo" "$TMP/pgpkeys" "$TMP/wrongkeys"

# store_digest DB : sha256 of every (kind, name, version, value), values never printed
store_digest() {
  python3 - "$1" <<'PY'
import hashlib, os, sqlite3, sys
if not os.path.exists(sys.argv[1]): print("absent"); sys.exit()
c = sqlite3.connect(sys.argv[1]); h = hashlib.sha256()
for row in c.execute("select o.kind, o.name, v.version, v.value from objects o join versions v"
                     " on v.object_id = o.id order by o.kind, o.name, v.version"):
    h.update(repr(row).encode())
print(h.hexdigest())
PY
}
# helper_clean : no gpg-agent of a helper home still runs, and no helper home is left
helper_clean() {
  local i
  for i in $(seq 50); do
    pgrep -f "$TMPDIR/smc-pgp-agent-" >/dev/null || [ -n "$(ls -A "$TMPDIR")" ] || break
    sleep 0.1
  done
  ! pgrep -f "$TMPDIR/smc-pgp-agent-" >/dev/null && [ -z "$(ls -A "$TMPDIR")" ]
}

# re-encrypt every SOPS secrets file of the copy to the PGP test key
n=0
while IFS= read -r f; do
  base=$(basename "$f")
  "$SMC" decrypt --keys "$agekeys" "$f" >"$TMP/work/$base"
  "$SMC" encrypt --pgp "$fpr" --pgp-pubkey "$gpgfx/test-rsa3072.public.asc" "$TMP/work/$base" >"$f"
  rm -f "$TMP/work/$base"
  n=$((n + 1))
done < <(grep -rlE '^sops_version=|^    version:|"sops":|^sops:' "$repo" --include='application.secrets.*')
check "the example secrets files were re-encrypted to the PGP key ($n)" test "$n" -ge 3
envf="$repo/microservices/payments/deployment-configuration/profiles/dev/application.secrets.env"
check "a re-encrypted file names the PGP fingerprint" grep -q "$fpr" "$envf"
check "and has no age recipient" bash -c "! grep -q 'age1' '$envf'"
check "and no plaintext" bash -c "! grep -q 'sk_test_demo' '$envf'"

"$SMC" sync -f "$agerepo/local.yaml" --keys "$agekeys" --store "$agestore" -o json >"$TMP/age.json" 2>"$TMP/age.err" \
  || fail "age sync failed: $(tail -2 "$TMP/age.err")"
"$SMC" sync -f "$repo/local.yaml" --keys "$TMP/pgpkeys" --store "$pgpstore" -o json >"$TMP/pgp.json" 2>"$TMP/pgp.err" \
  || fail "pgp sync failed: $(tail -3 "$TMP/pgp.err")"
check "pgp sync writes 8 secrets" test "$(jget "$TMP/pgp.json" 'j["secrets"]["written"]')" -eq 8
check "the files are reported as encrypted" test "$(jget "$TMP/pgp.json" 'sum(1 for f in j["files"] if f["encrypted"])')" -eq 3
check "a dotenv value decrypted through the PGP helper" \
  test "$("$SMC" get --store "$pgpstore" payments-STRIPE_API_KEY)" = "sk_test_demo_51HxPaymentsDev"
check "a nested yaml value decrypted through the PGP helper" \
  test "$("$SMC" get --store "$pgpstore" payments-oauth_clients_0__secret)" = "dev-oauth-web-secret"
check "the PGP store holds exactly what the age path wrote" \
  test "$(store_digest "$pgpstore")" = "$(store_digest "$agestore")"
check "the helper stopped its gpg-agents and removed its home" helper_clean

"$SMC" sync -f "$repo/local.yaml" --keys "$TMP/pgpkeys" --store "$pgpstore" -o json >"$TMP/pgp2.json" 2>"$TMP/pgp2.err" \
  || fail "second pgp sync failed"
check "unchanged ciphertext → nothing written" test "$(jget "$TMP/pgp2.json" 'j["secrets"]["written"]')" -eq 0
before=$(store_digest "$pgpstore")

if "$SMC" sync -f "$repo/local.yaml" --keys "$TMP/wrongkeys" --store "$pgpstore" >"$TMP/w.out" 2>"$TMP/w.err"; then
  fail "wrong PGP key: exited 0"
else
  if grep -qE "application.secrets.*no usable key" "$TMP/w.err"; then ok "wrong PGP key: says no usable key, naming the file"
  else fail "wrong PGP key: message was: $(tail -2 "$TMP/w.err")"; fi
fi
check "wrong PGP key: nothing written" test "$(store_digest "$pgpstore")" = "$before"
check "wrong PGP key: no value leaked" bash -c "! grep -q 'sk_test_demo' '$TMP/w.out' '$TMP/w.err'"
check "the helper cleaned up after the failed run too" helper_clean

# a fresh store with the wrong key stays empty
if "$SMC" sync -f "$repo/local.yaml" --keys "$TMP/wrongkeys" --store "$TMP/store/empty.db" >/dev/null 2>&1; then
  fail "wrong PGP key on a fresh store: exited 0"
fi
check "wrong PGP key on a fresh store: no secret stored" \
  test "$(python3 -c "import os,sqlite3,sys; p=sys.argv[1]; print(sqlite3.connect(p).execute(\"select count(*) from objects where kind='secret'\").fetchone()[0] if os.path.exists(p) else 0)" "$TMP/store/empty.db")" -eq 0
finish
