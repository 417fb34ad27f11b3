#!/usr/bin/env bash
# Kustomize build mode through the real process tree (smc sync → smcd → fetcher → decryptor
# with its sandboxed kustomize helper running `kubectl kustomize` → syncer) into the embedded
# store: base + overlay with patches and namePrefix, a ConfigMap generator, a secretGenerator
# reading a SOPS dotenv file (decrypted before the build), a SOPS-encrypted Secret resource
# (decrypted after it) and the MAC refusal when kustomize changed one, and the refusals —
# remote base, exec plugin, a path outside the root, output over the cap — each with a clear
# error, nothing written, and no secret value in any output.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"
command -v kubectl >/dev/null || { echo "skip: kubectl not installed"; exit 77; }

repo="$TMP/repo"; keys="$SMC_SOURCE_DIR/examples/keys"
recipient=$(grep -o 'age1[0-9a-z]*' "$keys/demo.agekey" | head -1)
canary="kz-canary-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
canary2="kz-sealed-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$repo/base" "$repo/overlays/dev" "$repo/overlays/sealed" "$repo/overlays/sealed-prefixed" \
	"$repo/overlays/remote" "$repo/overlays/plugin" "$repo/overlays/escape" "$repo/overlays/big"

# ---- the repository ----
cat >"$repo/base/kustomization.yaml" <<'EOF'
resources: [settings.yaml, app.yaml]
EOF
cat >"$repo/base/settings.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  LOG_LEVEL: info
  REGION: eu-west-1
EOF
cat >"$repo/base/app.yaml" <<'EOF'
apiVersion: v1
kind: Secret
metadata:
  name: app
stringData:
  API_TOKEN: base-token
EOF
cat >"$repo/overlays/dev/kustomization.yaml" <<'EOF'
resources: [../../base]
namePrefix: dev-
patches:
- path: patch.yaml
configMapGenerator:
- name: extra
  literals: [FEATURE_X=on]
secretGenerator:
- name: creds
  envs: [creds.enc.env]
EOF
cat >"$repo/overlays/dev/patch.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  LOG_LEVEL: warn
EOF
printf 'DB_PASSWORD=%s\nDB_USER=app\n' "$canary" >"$TMP/creds.env"
"$SMC" encrypt --age "$recipient" "$TMP/creds.env" >"$repo/overlays/dev/creds.enc.env"
rm -f "$TMP/creds.env"
check "the dotenv input is SOPS-encrypted" grep -q '^sops_version=' "$repo/overlays/dev/creds.enc.env"

# kustomize prints apiVersion, kind, metadata, then the other fields sorted: a SOPS resource
# survives the build only when written in that order (the MAC covers values in order)
printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: sealed\nstringData:\n  SESSION_KEY: %s\ntype: Opaque\n' \
	"$canary2" >"$TMP/sealed.yaml"
"$SMC" encrypt --age "$recipient" --encrypted-regex '^(data|stringData)$' "$TMP/sealed.yaml" \
	>"$repo/overlays/sealed/sealed.yaml"
rm -f "$TMP/sealed.yaml"
echo 'resources: [sealed.yaml]' >"$repo/overlays/sealed/kustomization.yaml"
printf 'namePrefix: prod-\nresources: [../sealed]\n' >"$repo/overlays/sealed-prefixed/kustomization.yaml"

printf 'resources:\n- ../../base\n- https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.0.0\n' \
	>"$repo/overlays/remote/kustomization.yaml"
printf 'resources: [../../base]\ntransformers: [exec.yaml]\n' >"$repo/overlays/plugin/kustomization.yaml"
cat >"$repo/overlays/plugin/exec.yaml" <<'EOF'
apiVersion: someteam.example.com/v1
kind: SedTransformer
metadata:
  name: pwn
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: /bin/sh
argsOneLiner: -c "touch /tmp/smc-kustomize-pwned"
EOF
printf 'secretGenerator:\n- name: stolen\n  files: [passwd=../../../../../../../../etc/passwd]\n' \
	>"$repo/overlays/escape/kustomization.yaml"
head -c $((5 << 20)) /dev/urandom | base64 -w 76 >"$repo/overlays/big/blob.txt"
printf 'secretGenerator:\n- name: a\n  files: [blob.txt]\n- name: b\n  files: [blob.txt]\n' \
	>"$repo/overlays/big/kustomization.yaml"
chmod -R a+rX "$repo"

# cfg NAME KUSTOMIZE_PATH : a config file for one overlay
cfg() {
	cat >"$repo/$1.yaml" <<EOF
apiVersion: secret-management.octopilot.io/v1beta1
kind: SecretManagerConfig
metadata: {name: $1, namespace: demo}
spec:
  sourceRef: {kind: Directory, path: .}
  provider: {local: {}}
  secrets: {environment: dev, kustomizePath: $2}
  configs: {enabled: true}
EOF
	echo "$repo/$1.yaml"
}
# sync NAME KUSTOMIZE_PATH [args] : runs smc sync into $TMP/NAME.db; output in $TMP/NAME.{json,err}
sync() {
	local n=$1 p=$2; shift 2
	set +e
	"$SMC" sync -f "$(cfg "$n" "$p")" --store "$TMP/$n.db" -o json "$@" >"$TMP/$n.json" 2>"$TMP/$n.err"
	echo $? >"$TMP/$n.rc"
	set -e
}
objects() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from objects').fetchone()[0])" "$1" 2>/dev/null || echo 0; }
refused() { # NAME PATTERN : the sync failed, said PATTERN, and wrote nothing
	check "$1: sync fails" test "$(cat "$TMP/$1.rc")" -ne 0
	check "$1: error says '$2'" grep -q -- "$2" "$TMP/$1.err"
	check "$1: nothing written" test "$(objects "$TMP/$1.db")" -eq 0
}

# ---- 1. base + overlay: patches, namePrefix, ConfigMap generator, SOPS dotenv generator ----
sync dev overlays/dev --keys "$keys"
check "dev: sync exits 0 ($(head -c 300 "$TMP/dev.err"))" test "$(cat "$TMP/dev.rc")" -eq 0
check "dev: 3 secrets written" test "$(jget "$TMP/dev.json" 'j["secrets"]["written"]')" -eq 3
check "dev: 3 configs written" test "$(jget "$TMP/dev.json" 'j["configs"]["written"]')" -eq 3
check "dev: Secret resource value" test "$("$SMC" get --store "$TMP/dev.db" default-API_TOKEN)" = base-token
check "dev: SOPS dotenv decrypted before the build" test "$("$SMC" get --store "$TMP/dev.db" default-DB_PASSWORD)" = "$canary"
check "dev: second dotenv key" test "$("$SMC" get --store "$TMP/dev.db" default-DB_USER)" = app
check "dev: patch applied" test "$("$SMC" get --store "$TMP/dev.db" --config default-LOG_LEVEL)" = warn
check "dev: base value kept" test "$("$SMC" get --store "$TMP/dev.db" --config default-REGION)" = eu-west-1
check "dev: ConfigMap generator" test "$("$SMC" get --store "$TMP/dev.db" --config default-FEATURE_X)" = on
check "dev: namePrefix applied to the resources" test "$(jget "$TMP/dev.json" 'sorted(f["path"] for f in j["files"] if f["path"].startswith("Secret/dev-app") or f["path"].startswith("ConfigMap/dev-settings"))')" = "['ConfigMap/dev-settings', 'Secret/dev-app']"
check "dev: the dotenv file reported as encrypted" test "$(jget "$TMP/dev.json" '[f["encrypted"] for f in j["files"] if f["path"] == "overlays/dev/creds.enc.env"]')" = "[True]"
sync dev overlays/dev --keys "$keys"
check "dev: second sync writes nothing" test "$(jget "$TMP/dev.json" 'j["secrets"]["written"] + j["configs"]["written"]')" -eq 0

# smc build: the names, never a value
set +e
"$SMC" build -f "$repo/dev.yaml" --keys "$keys" >"$TMP/build.out" 2>"$TMP/build.err"; brc=$?
set -e
check "smc build exits 0" test "$brc" -eq 0
check "smc build lists the secret names" grep -q '^secret default-DB_PASSWORD$' "$TMP/build.out"
check "smc build lists the config names" grep -q '^config default-LOG_LEVEL$' "$TMP/build.out"
check "smc build lists 6 names" test "$(wc -l <"$TMP/build.out")" -eq 6

# without the keys the SOPS input is refused, naming the file
sync nokeys overlays/dev
refused nokeys "creds.enc.env"

# ---- 2. SOPS-encrypted Secret resource, decrypted after the build ----
sync sealed overlays/sealed --keys "$keys"
check "sealed: sync exits 0 ($(head -c 300 "$TMP/sealed.err"))" test "$(cat "$TMP/sealed.rc")" -eq 0
check "sealed: value decrypted after the build" test "$("$SMC" get --store "$TMP/sealed.db" default-SESSION_KEY)" = "$canary2"
check "sealed: reported as an encrypted resource" test "$(jget "$TMP/sealed.json" '[f["encrypted"] for f in j["files"] if f["path"] == "Secret/sealed"]')" = "[True]"
sync sealed-prefixed overlays/sealed-prefixed --keys "$keys"
refused sealed-prefixed "MAC no longer verifies"
check "sealed-prefixed: the error suggests the generator pattern" grep -q secretGenerator "$TMP/sealed-prefixed.err"
check "sealed-prefixed: the error names the resource" grep -q 'Secret/prod-sealed' "$TMP/sealed-prefixed.err"

# ---- 3. refusals ----
sync remote overlays/remote --keys "$keys"
refused remote "remote reference"
check "remote: names the kustomization and field" grep -q 'overlays/remote/kustomization.yaml:3: resources\[1\]' "$TMP/remote.err"
rm -f /tmp/smc-kustomize-pwned
sync plugin overlays/plugin --keys "$keys"
refused plugin "plugin"
check "plugin: names the field" grep -q 'transformers\[0\]' "$TMP/plugin.err"
check "plugin: nothing was executed" test ! -e /tmp/smc-kustomize-pwned
sync escape overlays/escape --keys "$keys"
refused escape "outside the source tree"
sync big overlays/big --keys "$keys"
refused big "larger than the cap"

# ---- no value anywhere ----
check "no secret value in any output" bash -c "! grep -rqE '$canary|$canary2' '$TMP'/*.json '$TMP'/*.err '$TMP/build.out'"
check "no plaintext left in /dev/shm" bash -c "! grep -rqsE '$canary|$canary2' /dev/shm"
finish
