#!/usr/bin/env bash
# smcd --cluster with ArgoCD Applications as sources, against the fake kube API server:
#   - a repository served over loopback HTTP by the real `git http-backend` with basic auth,
#     credentials in an Argo repository Secret (label argocd.argoproj.io/secret-type);
#   - the same repository over SSH: Debian's sshd on a loopback port with a generated host
#     key and user key, credentials in an Argo repo-creds Secret (URL prefix), host keys in
#     argocd-ssh-known-hosts-cm;
#   first sync → Ready and the values in the store; a new commit synced by Argo (its
#   status.sync.revision patched) → new values without waiting for the interval; wrong
#   password → Ready=False with the reason; unknown SSH host key → refused; the password
#   never appears in status, events, logs or the clone cache.
. "$SMC_SOURCE_DIR/tests/lib/common.sh"
export PYTHONDONTWRITEBYTECODE=1
SMCD="$SMC_BINARY_DIR/smcd"
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || { echo "SKIP - $SSHD missing (scripts/install-test-deps.sh installs openssh-server)"; exit 77; }

b64() { printf %s "$1" | base64 -w0; }
b64f() { base64 -w0 <"$1"; }

PW="argo-canary-$RANDOM-pw-7f3e"   # must never leave the fetcher
USER_NAME=$(id -un)
kport=$(free_port); sport=$(free_port); mport=$(free_port)

# ---- the repository: one bare repo, served over HTTP and SSH
git_c() { git -C "$TMP/work" -c user.name=t -c user.email=t@example.com "$@"; }
mkdir -p "$TMP/srv" "$TMP/work/svc/deployment-configuration/profiles/dev"
git init -q --bare "$TMP/srv/repo.git"
git -C "$TMP/srv/repo.git" symbolic-ref HEAD refs/heads/main
git init -q -b main "$TMP/work"
commit() { # VALUE: commits DB_PASSWORD=VALUE, pushes, prints the commit id
	printf 'DB_PASSWORD=%s\nAPI_KEY=key-%s\n' "$1" "$1" \
		>"$TMP/work/svc/deployment-configuration/profiles/dev/application.secrets.env"
	git_c add -A && git_c commit -qm "value $1" && git_c push -q "$TMP/srv/repo.git" main
	git_c rev-parse HEAD
}
c1=$(commit v1)
chmod -R a+rX "$TMP/srv"

python3 "$SMC_SOURCE_DIR/tests/lib/git_http_server.py" "$TMP/srv" --user alice --password "$PW" \
	>"$TMP/git.out" 2>"$TMP/git.err" &
pids+=($!)
wait_for 10 grep -q '^PORT ' "$TMP/git.out"
gport=$(awk '/^PORT /{print $2}' "$TMP/git.out")
HTTP_URL="http://127.0.0.1:$gport/repo.git"

# sshd: generated host and user keys, loopback only, key auth only
mkdir -p "$TMP/ssh" /run/sshd 2>/dev/null || true
ssh-keygen -q -t ed25519 -N '' -C '' -f "$TMP/ssh/host"
ssh-keygen -q -t ed25519 -N '' -C '' -f "$TMP/ssh/other_host"
ssh-keygen -q -t ed25519 -N '' -C '' -f "$TMP/ssh/user"
cp "$TMP/ssh/user.pub" "$TMP/ssh/authorized_keys"
cat >"$TMP/ssh/sshd_config" <<EOF
Port $sport
ListenAddress 127.0.0.1
HostKey $TMP/ssh/host
PidFile $TMP/ssh/sshd.pid
AuthorizedKeysFile $TMP/ssh/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
AllowUsers $USER_NAME
LogLevel VERBOSE
EOF
"$SSHD" -D -e -f "$TMP/ssh/sshd_config" 2>"$TMP/sshd.err" &
pids+=($!)
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $sport), 1)"
SSH_URL="ssh://$USER_NAME@127.0.0.1:$sport$TMP/srv/repo.git"
known_hosts() { printf '[127.0.0.1]:%s %s\n' "$sport" "$(cut -d' ' -f1,2 "$TMP/ssh/$1.pub")"; }

# ---- the fake API server, CRDs, namespaces
python3 "$SMC_SOURCE_DIR/tests/fakes/kube_apiserver.py" --port "$kport" --cert-dir "$TMP/certs" \
	--crd-dir "$SMC_SOURCE_DIR/deploy/crd" --bookmark-interval 1 >"$TMP/kube.out" 2>"$TMP/kube.err" &
pids+=($!)
wait_for 30 grep -q '^ready$' "$TMP/kube.out" || { cat "$TMP/kube.err"; echo "FAIL - kube server did not start"; exit 1; }
KC="$TMP/certs/kubeconfig-http.yaml"
K=(kubectl --kubeconfig "$KC" --cache-dir "$TMP/kcache" --request-timeout 20s)
"${K[@]}" apply -k "$SMC_SOURCE_DIR/deploy/crd" >/dev/null
"${K[@]}" create namespace team >/dev/null
"${K[@]}" create namespace argocd >/dev/null

# Argo's repository Secret (HTTP, exact URL), repo-creds (SSH, URL prefix), known hosts
repo_secret() { # NAME TYPE URL DATA-JSON-FIELDS
	cat <<EOF | "${K[@]}" apply -f - >/dev/null
apiVersion: v1
kind: Secret
metadata:
  name: $1
  namespace: argocd
  labels: {argocd.argoproj.io/secret-type: $2}
type: Opaque
data: {url: $(b64 "$3"), $4}
EOF
}
repo_secret repo-http repository "$HTTP_URL" "username: $(b64 alice), password: $(b64 "$PW")"
repo_secret creds-ssh repo-creds "ssh://$USER_NAME@127.0.0.1:$sport/" "sshPrivateKey: $(b64f "$TMP/ssh/user")"
# a decoy with a shorter prefix and a wrong password: the longest prefix must win
repo_secret creds-decoy repo-creds "http://127.0.0.1" "username: $(b64 alice), password: $(b64 wrong)"
set_known_hosts() { # KEYFILE-BASENAME
	"${K[@]}" -n argocd create configmap argocd-ssh-known-hosts-cm \
		--from-literal=ssh_known_hosts="$(known_hosts "$1")" --dry-run=client -o yaml |
		"${K[@]}" apply -f - >/dev/null
}
set_known_hosts host

application() { # NAME URL REVISION
	cat <<EOF | "${K[@]}" apply -f - >/dev/null
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: $1, namespace: argocd}
spec:
  project: default
  source: {repoURL: "$2", targetRevision: main, path: svc}
  destination: {server: https://kubernetes.default.svc, namespace: team}
status:
  sync: {status: Synced, revision: "$3"}
EOF
}
sync_app() { "${K[@]}" -n argocd patch application "$1" --type=merge -p "{\"status\":{\"sync\":{\"revision\":\"$2\"}}}" >/dev/null; }
application app-http "$HTTP_URL" "$c1"
application app-ssh "$SSH_URL" "$c1"

config() { # NAME APPLICATION PREFIX
	cat <<EOF | "${K[@]}" apply -f - >/dev/null
apiVersion: secret-management.octopilot.io/v1beta1
kind: SecretManagerConfig
metadata: {name: $1, namespace: team}
spec:
  sourceRef: {kind: Application, name: $2, namespace: argocd}
  provider: {local: {path: /nonexistent/overridden-by-store.db}}
  secrets: {environment: dev, prefix: $3}
  reconcileInterval: 1h
EOF
}
config cfg-http app-http h
config cfg-ssh app-ssh s

store="$TMP/store/store.db"
value() { "$SMC" get --store "$store" "$1" 2>/dev/null; }
has_value() { [ "$(value "$1")" = "$2" ]; } # NAME VALUE
cond() { "${K[@]}" -n team get smc "$1" -o jsonpath="{.status.conditions[?(@.type==\"$2\")].$3}"; }
field() { "${K[@]}" -n team get smc "$1" -o jsonpath="{$2}"; }
poke() { "${K[@]}" -n team annotate --overwrite smc "$1" "secret-management.octopilot.io/reconcile=$RANDOM$RANDOM" >/dev/null; }

"$SMCD" --cluster --kubeconfig "$KC" --store "$store" --argocd-namespace argocd \
	--cache-dir "$TMP/cache" --metrics-addr 127.0.0.1 --metrics-port "$mport" \
	>"$TMP/smcd.out" 2>"$TMP/smcd.err" &
pids+=($!)

# 1. first sync over both transports
rc=0; out=$("${K[@]}" -n team wait --for=condition=Ready smc/cfg-http smc/cfg-ssh --timeout=60s 2>&1) || rc=$?
check "both configs Ready ($out)" test $rc -eq 0
[ $rc -eq 0 ] || { grep -v '"debug"' "$TMP/smcd.err" | tail -20; "${K[@]}" -n team get smc -o yaml | grep -A3 "message"; }
check "HTTP (basic auth): the store holds v1" has_value h-DB_PASSWORD v1
check "SSH (key, known host): the store holds v1" has_value s-DB_PASSWORD v1
check "lastAppliedRevision is the synced commit" grep -q "$c1" <<<"$(field cfg-http .status.lastAppliedRevision)"
ncache=$(find "$TMP/cache" -mindepth 1 -maxdepth 1 -type d | wc -l)
check "one cached bare repository per URL ($ncache)" test "$ncache" -eq 2

# 2. a new commit synced by Argo → new values at once (the interval is 1h)
c2=$(commit v2)
sync_app app-http "$c2"
sync_app app-ssh "$c2"
wait_for 20 has_value h-DB_PASSWORD v2
check "HTTP: new synced revision → v2" has_value h-DB_PASSWORD v2
wait_for 20 has_value s-DB_PASSWORD v2
check "SSH: new synced revision → v2" has_value s-DB_PASSWORD v2
# a commit Argo has not synced yet is not taken
c3=$(commit v3)
poke cfg-http
sleep 2
check "an unsynced commit is not applied" has_value h-DB_PASSWORD v2

# 3. wrong password → Ready=False with a clear reason, nothing written
repo_secret repo-http repository "$HTTP_URL" "username: $(b64 alice), password: $(b64 not-the-password)"
sync_app app-http "$c3"
wait_for 20 test "$(cond cfg-http Ready status)" = False
check "wrong credentials: Ready=False" test "$(cond cfg-http Ready status)" = False
msg=$(cond cfg-http Ready message)
check "... the reason says authentication ($msg)" grep -qi "auth" <<<"$msg"
check "... nothing written" has_value h-DB_PASSWORD v2

# 4. unknown SSH host key → refused
set_known_hosts other_host
sync_app app-ssh "$c3"
wait_for 20 test "$(cond cfg-ssh Ready status)" = False
check "unknown host key: Ready=False" test "$(cond cfg-ssh Ready status)" = False
msg=$(cond cfg-ssh Ready message)
check "... the reason says the host key is refused ($msg)" grep -q "host key.*refused" <<<"$msg"
check "... nothing written" has_value s-DB_PASSWORD v2
# the right key again → v3
set_known_hosts host
poke cfg-ssh
wait_for 20 has_value s-DB_PASSWORD v3
check "known host again → v3" has_value s-DB_PASSWORD v3

# 5. the password never leaves the fetcher
state=$("${K[@]}" get smc -A -o json; "${K[@]}" get events.events.k8s.io -A -o json 2>/dev/null || true)
check "password not in statuses or events" test "$(grep -c -- "$PW" <<<"$state")" -eq 0
check "password not in smcd's logs" bash -c "! grep -q -- '$PW' '$TMP/smcd.out' '$TMP/smcd.err'"
check "password not in the clone cache" bash -c "! grep -rqa -- '$PW' '$TMP/cache'"
check "no URL with userinfo in the cache" bash -c "! grep -rqa 'alice@' '$TMP/cache'"
finish
