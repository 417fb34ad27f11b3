#!/bin/bash
# The fake GCP server (tests/fakes/gcp_server.py) checked by real gcloud: Secret Manager
# (create with labels, versions add/access latest and by number (gcloud checks CRC32C),
# list --filter on labels, update labels/annotations, disable → latest falls back, delete),
# Parameter Manager (create, versions create/describe/render/list, disable, delete), and the
# OAuth2 token endpoint (gcloud auth activate-service-account signs the JWT the fake
# verifies). curl and python urllib add what gcloud never sends: JWTs signed by openssl (a
# foreign key, a stale one, one without the cloud-platform scope are refused) on both
# verifiers (cryptography and the openssl fallback), a wrong CRC32C, oversize payloads, bad
# labels, paging, OR/NOT filters, the metadata server, HTTPS, fault injection, counts, state.
# Skips when gcloud is absent. About 40-70 s (gcloud start-up is most of it).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PYTHONDONTWRITEBYTECODE=1
command -v gcloud >/dev/null || { echo "skip: gcloud not installed"; exit 0; }
command -v curl >/dev/null || { echo "skip: curl not installed"; exit 0; }
work=$(mktemp -d /tmp/smc-gcloud-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$work/s1.err" ] && tail -5 "$work/s1.err" >&2; exit 1; }
ok() { echo "ok: $* (${SECONDS}s)"; }
expect_in() { [[ "$1" == *"$2"* ]] || fail "$3: expected '$2' in: $1"; }
expect_eq() { [ "$1" == "$2" ] || fail "$3: expected '$2', got: $1"; }

# start NAME ARGS...: starts a fake, sets $port_NAME and $url_NAME
start() {
	local name=$1; shift
	python3 "$here/gcp_server.py" --port 0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
	pids+=($!)
	for _ in $(seq 100); do grep -q '^ready$' "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
	grep -q '^ready$' "$work/$name.out" || { cat "$work/$name.err"; fail "$name did not start"; }
	local p; p=$(awk '/^port /{print $2}' "$work/$name.out")
	printf -v "port_$name" %s "$p"
	printf -v "url_$name" %s "http://127.0.0.1:$p"
}
# jget PATH: a dotted path into JSON on stdin (a key that itself holds dots is matched whole)
jget() { python3 -c 'import json,sys
o=json.load(sys.stdin)
ps=sys.argv[1].split(".")
while ps:
    if isinstance(o, list):
        o = o[int(ps.pop(0))]
        continue
    n = next((n for n in range(len(ps), 0, -1) if isinstance(o, dict) and ".".join(ps[:n]) in o), 1)
    o = o.get(".".join(ps[:n])) if isinstance(o, dict) else None
    ps = ps[n:]
print(o if isinstance(o, str) else json.dumps(o))' "$1"; }

start s1 --tls-port 0 --cert-dir "$work/certs"
B=$url_s1
tls_port=$(awk '/^tls-port /{print $2}' "$work/s1.out")

export CLOUDSDK_CONFIG=$work/gcloud-cfg CLOUDSDK_CORE_DISABLE_PROMPTS=1
export CLOUDSDK_CORE_PROJECT=test-proj CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=1
export CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=1
export CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER=$B/
export CLOUDSDK_API_ENDPOINT_OVERRIDES_PARAMETERMANAGER=$B/
curl -sf -X POST "$B/_fake/token" | jget access_token >"$work/tok" || fail "issue a token"
G=(gcloud --access-token-file="$work/tok" --verbosity=error)

# ---- auth: a token the fake did not issue is refused -------------------------------------
echo -n ya29.not-issued >"$work/badtok"
out=$(gcloud --access-token-file="$work/badtok" secrets list 2>&1) && fail "unknown token accepted"
expect_in "$out" "UNAUTHENTICATED" "unknown token"
ok "a token the fake did not issue gets 401 UNAUTHENTICATED"

# ---- Parameter Manager ------------------------------------------------------------------
# Runs in the background (its own gcloud config dir) while the Secret Manager and token
# checks run: gcloud start-up dominates this test's time. Joined before the faults section.
# It needs only s2 (created here with one version) for its __REF__ rendering.
printf 'sec2' >"$work/p3"
out=$("${G[@]}" secrets create s2 --replication-policy=automatic --labels=managed-by=other \
	--data-file="$work/p3" 2>&1) || fail "secrets create s2: $out"
PM=("${G[@]}" parametermanager parameters)
printf '{"db": "x", "pw": "__REF__(\\"//secretmanager.googleapis.com/projects/test-proj/secrets/s2/versions/1\\")"}' \
	>"$work/cfg.json"
printf 'not json' >"$work/bad.json"
pm_checks() {
	trap - EXIT
	export CLOUDSDK_CONFIG=$work/gcloud-cfg-pm
	out=$("${PM[@]}" create appcfg --location=global --parameter-format=JSON --labels=managed-by=smc \
		2>&1) || fail "parameters create: $out"
	out=$("${PM[@]}" versions create v1 --parameter=appcfg --location=global \
		--payload-data-from-file="$work/cfg.json" 2>&1) || fail "versions create: $out"
	out=$("${PM[@]}" versions create v1 --parameter=appcfg --location=global \
		--payload-data-from-file="$work/cfg.json" 2>&1) && fail "duplicate version accepted"
	expect_in "$out" "already exists" "duplicate version"
	out=$("${PM[@]}" versions create v2 --parameter=appcfg --location=global \
		--payload-data-from-file="$work/bad.json" 2>&1) && fail "invalid JSON accepted"
	expect_in "$out" "INVALID_ARGUMENT" "invalid JSON payload"
	ok "parameters create (JSON); versions create v1; duplicate → 409; invalid JSON → 400"

	out=$("${PM[@]}" versions describe v1 --parameter=appcfg --location=global --format=json 2>&1) ||
		fail "versions describe: $out"
	expect_eq "$(jget payload.data <<<"$out" | base64 -d)" "$(cat "$work/cfg.json")" "describe payload"
	out=$("${PM[@]}" versions render v1 --parameter=appcfg --location=global --format=json 2>&1) ||
		fail "render: $out"
	rendered=$(jget renderedPayload <<<"$out" | base64 -d)
	expect_eq "$(jget pw <<<"$rendered")" "sec2" "render substitutes __REF__"
	out=$("${PM[@]}" list --location=global --format='value(name)' 2>&1) || fail "parameters list: $out"
	expect_eq "$(basename "$out")" "appcfg" "parameters list"
	out=$("${PM[@]}" versions list --parameter=appcfg --location=global --format='value(name)' 2>&1) ||
		fail "versions list: $out"
	expect_eq "$(basename "$out")" "v1" "parameter versions list"
	ok "versions describe (FULL payload), render (__REF__ resolved), parameters/versions list"

	out=$("${PM[@]}" versions update v1 --parameter=appcfg --location=global --disabled --format=json \
		2>"$work/e-pm") || fail "disable: $(cat "$work/e-pm")"
	expect_eq "$(jget disabled <<<"$out")" "true" "disabled flag"
	out=$("${PM[@]}" versions render v1 --parameter=appcfg --location=global 2>&1) &&
		fail "rendered a disabled version"
	expect_in "$out" "FAILED_PRECONDITION" "render disabled"
	out=$("${PM[@]}" versions describe v1 --parameter=appcfg --location=global --format=json 2>&1) ||
		fail "describe disabled: $out"
	expect_eq "$(jget payload <<<"$out")" "null" "no payload when disabled"
	out=$("${PM[@]}" delete appcfg --location=global 2>&1) && fail "parameter with versions deleted"
	expect_in "$out" "FAILED_PRECONDITION" "delete a parameter that has versions"
	out=$("${PM[@]}" versions delete v1 --parameter=appcfg --location=global 2>&1) || fail "version delete: $out"
	out=$("${PM[@]}" delete appcfg --location=global 2>&1) || fail "parameter delete: $out"
	expect_eq "$(curl -sf "$B/_fake/state" | jget parameters)" "{}" "parameter deleted"
	ok "version disable → render FAILED_PRECONDITION, describe without payload; delete with versions → FAILED_PRECONDITION; deletes"
}
cp -r "$work/gcloud-cfg" "$work/gcloud-cfg-pm"
pm_checks >"$work/pm.log" 2>&1 &
pm_pid=$!
pids+=("$pm_pid")

# ---- Secret Manager ---------------------------------------------------------------------
printf 'hunter2' >"$work/p1"
printf 'v2-data\x00\xff\xfebinary' >"$work/p2"
out=$("${G[@]}" secrets create s1 --replication-policy=automatic --labels=managed-by=smc,owner=ns1 \
	--data-file="$work/p1" 2>&1) || fail "secrets create: $out"
out=$("${G[@]}" secrets create s1 --replication-policy=automatic 2>&1) && fail "duplicate create accepted"
expect_in "$out" "already exists" "duplicate create"
ok "secrets create with labels and data; duplicate → ALREADY_EXISTS"

out=$("${G[@]}" secrets versions add s1 --data-file="$work/p2" --format='value(name)' 2>&1) ||
	fail "versions add: $out"
expect_in "$out" "secrets/s1/versions/2" "versions add numbering"
"${G[@]}" secrets versions access latest --secret=s1 --out-file="$work/got-latest" 2>"$work/e" ||
	fail "access latest: $(cat "$work/e")"
cmp -s "$work/p2" "$work/got-latest" || fail "access latest: wrong bytes"
out=$("${G[@]}" secrets versions access 1 --secret=s1 2>&1) || fail "access 1: $out"
expect_eq "$out" "hunter2" "access 1"
ok "versions add → 2; access latest (binary) and 1 return the bytes, gcloud's CRC32C check passes"

out=$("${G[@]}" secrets list --filter='labels.managed-by=smc' --format='value(name)' 2>&1) ||
	fail "list filter: $out"
expect_eq "$(basename "$out")" "s1" "list --filter labels.managed-by=smc"
out=$("${G[@]}" secrets list --format='value(name)' 2>&1) || fail "list: $out"
expect_eq "$(echo "$out" | xargs -n1 basename | sort | xargs)" "s1 s2" "list all"
ok "secrets list --filter labels.managed-by=smc gives s1 only; unfiltered gives both"

out=$("${G[@]}" secrets update s1 --update-labels=owner=ns2 --update-annotations=smc-owner=ns2.cfg \
	2>&1) || fail "update: $out"
out=$("${G[@]}" secrets describe s1 --format=json 2>&1) || fail "describe: $out"
expect_eq "$(jget labels.owner <<<"$out")" "ns2" "updated label"
expect_eq "$(jget labels.managed-by <<<"$out")" "smc" "kept label"
expect_eq "$(jget annotations.smc-owner <<<"$out")" "ns2.cfg" "annotation"
out=$("${G[@]}" secrets update s1 --update-labels=owner=x --etag='"stale"' 2>&1) &&
	fail "stale etag accepted"
expect_in "$out" "ABORTED" "stale etag"
ok "secrets update labels/annotations (updateMask), stale etag → 409 ABORTED"

out=$("${G[@]}" secrets versions disable 2 --secret=s1 --format='value(state)' 2>"$work/e") ||
	fail "disable: $(cat "$work/e")"
expect_eq "$out" "DISABLED" "disable"
# Real Secret Manager: latest is the newest version whatever its state, no fall-back.
out=$("${G[@]}" secrets versions access latest --secret=s1 2>&1) && fail "latest (disabled) accessed"
expect_in "$out" "FAILED_PRECONDITION: Secret Version [projects/test-proj/secrets/s1/versions/2] is in DISABLED state" \
	"access latest when the newest is disabled"
out=$("${G[@]}" secrets versions access 1 --secret=s1 2>&1) || fail "access 1 after disable: $out"
expect_eq "$out" "hunter2" "version 1 after disabling 2"
out=$("${G[@]}" secrets versions list s1 --format='value(name.basename(),state)' 2>&1) ||
	fail "versions list: $out"
expect_eq "$(echo "$out" | tr -s '\t ' ' ' | tr a-z A-Z | xargs)" "2 DISABLED 1 ENABLED" "versions list"
out=$("${G[@]}" secrets versions enable 2 --secret=s1 --format='value(state)' 2>"$work/e") ||
	fail "enable: $(cat "$work/e")"
expect_eq "$out" "ENABLED" "enable"
out=$("${G[@]}" secrets versions destroy 1 --secret=s1 --format='value(state)' 2>"$work/e") ||
	fail "destroy: $(cat "$work/e")"
expect_eq "$out" "DESTROYED" "destroy"
ok "disable 2 → access latest FAILED_PRECONDITION (no fall-back), 1 still readable; list newest first; enable; destroy"

out=$("${G[@]}" secrets delete s1 2>&1) || fail "delete: $out"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$work/tok")" \
	"$B/v1/projects/test-proj/secrets/s1")" "404" "get deleted secret"
ok "secrets delete, then get → 404"


# ---- OAuth2 token endpoint with gcloud's own JWT ----------------------------------------
python3 "$here/gcp_sa.py" "$work/sa.json" --token-uri "$B/token" || fail "make SA key"
curl -sf -X POST "$B/_fake/sa" --data-binary @"$work/sa.json" >/dev/null || fail "register SA"
email=$(jget client_email <"$work/sa.json")
curl -sf -X POST "$B/_fake/counts/reset" >/dev/null
out=$(gcloud auth activate-service-account --key-file="$work/sa.json" 2>&1) || fail "activate: $out"
out=$(gcloud --verbosity=error --account="$email" secrets list --format='value(name)' 2>&1) ||
	fail "secrets list as the service account: $out"
expect_eq "$(basename "$out")" "s2" "list as SA"
counts=$(curl -sf "$B/_fake/counts")
[ "$(jget token <<<"$counts")" -ge 1 ] || fail "no token request counted: $counts"
ok "gcloud auth activate-service-account: gcloud's RS256 JWT verified, its token lists secrets"

# ---- JWTs signed by openssl: good, foreign key, stale, no scope (both verifiers) --------
b64u() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["private_key"], end="")' \
	"$work/sa.json" >"$work/sa.pem"
openssl genrsa -out "$work/other.pem" 2048 2>/dev/null
# jwt KEYFILE IAT_OFFSET SCOPE
jwt() {
	local now h c
	now=$(date +%s)
	h=$(printf '{"alg":"RS256","typ":"JWT"}' | b64u)
	c=$(printf '{"iss":"%s","aud":"%s","scope":"%s","iat":%d,"exp":%d}' "$email" "$B/token" \
		"$3" $((now + $2)) $((now + $2 + 3600)) | b64u)
	printf '%s.%s.%s' "$h" "$c" "$(printf '%s.%s' "$h" "$c" | openssl dgst -sha256 -sign "$1" | b64u)"
}
CP=https://www.googleapis.com/auth/cloud-platform
# token URL JWT: prints the HTTP status and the body
token() { curl -s -w ' %{http_code}' -X POST "$1/token" \
	--data-urlencode grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \
	--data-urlencode "assertion=$2"; }
start s2 --sa-key "$work/sa.json"
GCP_FAKE_NO_CRYPTOGRAPHY=1 start s3 --sa-key "$work/sa.json"
for u in "$B" "$url_s2" "$url_s3"; do
	out=$(token "$u" "$(jwt "$work/sa.pem" 0 "$CP")")
	expect_in "$out" '"access_token": "ya29.fake-' "good JWT at $u"
	expect_in "$out" " 200" "good JWT at $u"
	out=$(token "$u" "$(jwt "$work/other.pem" 0 "$CP")")
	expect_in "$out" "Invalid JWT Signature" "foreign key at $u"
	expect_in "$out" " 400" "foreign key at $u"
	out=$(token "$u" "$(jwt "$work/sa.pem" -7200 "$CP")")
	expect_in "$out" "invalid_grant" "stale JWT at $u"
	out=$(token "$u" "$(jwt "$work/sa.pem" 0 https://www.googleapis.com/auth/userinfo.email)")
	expect_in "$out" "invalid_scope" "JWT without cloud-platform at $u"
done
ok "openssl-signed JWT accepted; foreign key, stale, no-scope refused (cryptography and openssl)"

wait "$pm_pid"; pm_rc=$?
cat "$work/pm.log"
[ "$pm_rc" -eq 0 ] || fail "Parameter Manager checks (above)"

# ---- metadata server, TLS, faults, counts, state, --accept-any-token --------------------
MD=$B/computeMetadata/v1/instance/service-accounts/default
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$MD/token")" "403" "metadata without header"
out=$(curl -sf -H 'Metadata-Flavor: Google' "$MD/?recursive=true") || fail "metadata SA info"
expect_eq "$(jget email <<<"$out")" "default@test-proj.iam.gserviceaccount.com" "metadata SA email"
out=$(curl -sf -H 'Metadata-Flavor: Google' "$MD/token") || fail "metadata token"
mtok=$(jget access_token <<<"$out")
out=$(curl -sf -H "Authorization: Bearer $mtok" "$B/v1/projects/test-proj/secrets/s2") ||
	fail "metadata token not accepted"
expect_eq "$(jget name <<<"$out")" "projects/123456789012/secrets/s2" "API call with metadata token (name by number)"
out=$(curl -sf --cacert "$work/certs/ca.crt" -H "Authorization: Bearer $mtok" \
	"https://127.0.0.1:$tls_port/v1/projects/123456789012/secrets/s2") || fail "TLS request"
expect_eq "$(jget name <<<"$out")" "projects/123456789012/secrets/s2" "TLS request, by project number"
ok "metadata token needs Metadata-Flavor and works on the API; HTTPS with the fake's CA"

# What gcloud never sends: a wrong CRC32C, oversized payloads, bad labels, paging, OR/NOT
# filters, etag on delete, fault "times" (python urllib, asserts in the heredoc).
python3 - "$B" "$mtok" <<'PY' || fail "semantics beyond gcloud (above)"
import base64, json, sys, urllib.error, urllib.request
B, tok = sys.argv[1], sys.argv[2]
S = B + "/v1/projects/test-proj/secrets"
def call(method, url, body=None):
    req = urllib.request.Request(url, method=method, data=None if body is None else
                                 json.dumps(body).encode(), headers={"Authorization": "Bearer " + tok})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
def expect(what, got, code, status=None):
    c, b = got
    if c != code or (status and b.get("error", {}).get("status") != status):
        sys.exit("FAIL: %s: expected %s %s, got %s %s" % (what, code, status, c, b))
rep = {"replication": {"automatic": {}}}
for i in range(5):
    expect("create p%d" % i, call("POST", S + "?secretId=p%d" % i, dict(rep, labels={"grp": "a" if i % 2 else "b"})), 200)
d = base64.b64encode(b"hunter2").decode()
expect("wrong crc", call("POST", S + "/p0:addVersion", {"payload": {"data": d, "dataCrc32c": "1736498284"}}), 400, "INVALID_ARGUMENT")
c, v = call("POST", S + "/p0:addVersion", {"payload": {"data": d, "dataCrc32c": "1736498283"}})
assert c == 200 and v["clientSpecifiedPayloadChecksum"] is True and v["name"].endswith("/p0/versions/1"), v
big = base64.b64encode(b"x" * 65537).decode()
expect("payload > 64 KiB", call("POST", S + "/p0:addVersion", {"payload": {"data": big}}), 400, "INVALID_ARGUMENT")
expect("bad label key", call("POST", S + "?secretId=q", dict(rep, labels={"Bad": "x"})), 400, "INVALID_ARGUMENT")
expect("bad annotation key", call("POST", S + "?secretId=q", dict(rep, annotations={"a/b": "x"})), 400, "INVALID_ARGUMENT")
expect("no replication", call("POST", S + "?secretId=q", {}), 400, "INVALID_ARGUMENT")
expect("bad id", call("POST", S + "?secretId=a.b", rep), 400, "INVALID_ARGUMENT")
names, url = [], S + "?pageSize=2&filter=labels.grp%3Db"
while True:
    c, b = call("GET", url)
    assert c == 200 and len(b.get("secrets", [])) <= 2 and "totalSize" not in b, b
    names += [x["name"].rsplit("/", 1)[1] for x in b.get("secrets", [])]
    if "nextPageToken" not in b:
        break
    url = S + "?pageSize=2&filter=labels.grp%3Db&pageToken=" + b["nextPageToken"]
assert names == ["p4", "p2", "p0"], names            # newest first, paged
c, b = call("GET", S + "?filter=" + urllib.request.quote("labels.grp=a OR name:p4"))
assert sorted(x["name"][-2:] for x in b["secrets"]) == ["p1", "p3", "p4"], b
c, b = call("GET", S + "?filter=" + urllib.request.quote("labels.grp:* NOT labels.grp=a"))
assert sorted(x["name"][-2:] for x in b["secrets"]) == ["p0", "p2", "p4"], b
expect("bad filter", call("GET", S + "?filter=foo%3Dbar"), 400, "INVALID_ARGUMENT")
expect("bad page token", call("GET", S + "?pageToken=xyz"), 400, "INVALID_ARGUMENT")
c, sec = call("GET", S + "/p1")
expect("delete stale etag", call("DELETE", S + '/p1?etag="nope"'), 409, "ABORTED")
expect("delete with etag", call("DELETE", S + "/p1?etag=" + urllib.request.quote(sec["etag"])), 200)
call("POST", B + "/_fake/faults", {"every": 1, "status": 503, "ops": ["secrets.get"], "times": 2})
for code in (503, 503, 200):
    expect("fault times", call("GET", S + "/p0"), code)
call("POST", B + "/_fake/faults", {"every": 0})
print("ok: wrong CRC32C/oversize/bad labels → 400; paging + OR/NOT filters; delete etag; fault times (python)")
PY
curl -sf -X POST "$B/_fake/faults" -d '{"every":2,"status":429,"ops":["secrets.get"]}' >/dev/null
codes=
for _ in 1 2 3 4; do
	codes+=$(curl -s -o /dev/null -w '%{http_code} ' -H "Authorization: Bearer $mtok" \
		"$B/v1/projects/test-proj/secrets/s2")
done
expect_eq "$codes" "200 429 200 429 " "fault every 2nd secrets.get"
hdr=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $mtok" "$B/v1/projects/test-proj/secrets/s2"; \
	curl -s -D - -H "Authorization: Bearer $mtok" "$B/v1/projects/test-proj/secrets/s2")
expect_in "$hdr" "Retry-After: 1" "429 Retry-After"
expect_in "$hdr" '"status": "RESOURCE_EXHAUSTED"' "429 body"
curl -sf -X POST "$B/_fake/faults" -d '{"every":0}' >/dev/null
counts=$(curl -sf "$B/_fake/counts")
[ "$(jget secrets.get <<<"$counts")" -ge 6 ] || fail "secrets.get count: $counts"
[ "$(jget metadata.token <<<"$counts")" -ge 2 ] || fail "metadata.token count: $counts"
state=$(curl -sf "$B/_fake/state")
expect_eq "$(jget secrets.projects/test-proj/secrets/s2.versions.0.value <<<"$state" | base64 -d)" \
	"sec2" "state value"
curl -sf -X POST "$B/_fake/expire-tokens" >/dev/null
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $mtok" \
	"$B/v1/projects/test-proj/secrets/s2")" "401" "expired token"
curl -sf -X POST "$B/_fake/reset" >/dev/null
expect_eq "$(curl -sf "$B/_fake/state")" '{"secrets": {}, "parameters": {}}' "reset"
ok "faults (every 2nd, 429 + Retry-After, Google-shaped), counts, state, expire-tokens, reset"

start s4 --accept-any-token
out=$(CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER=$url_s4/ gcloud --access-token-file="$work/badtok" \
	secrets create any --replication-policy=automatic --format='value(name)' 2>&1) ||
	fail "--accept-any-token: $out"
expect_in "$out" "secrets/any" "--accept-any-token"
ok "--accept-any-token admits a token the fake never issued"
echo "PASS"
