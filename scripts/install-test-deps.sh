#!/usr/bin/env bash
# What the tests need beyond the build: Debian's python3-kubernetes (an independent
# Kubernetes client for the fake API server), openssh-server and git for Git peers, and the
# npm packages of the Azure SDK peers (installed into tests/fakes/node_modules when a
# package.json is there). Idempotent.
set -euo pipefail
pkgs=(python3-kubernetes openssh-server openssh-client)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-test-deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$here/tests/fakes/package.json" ] && [ ! -d "$here/tests/fakes/node_modules" ]; then
  (cd "$here/tests/fakes" && npm ci --silent --no-audit --no-fund >/dev/null 2>&1 || npm install --silent --no-audit --no-fund >/dev/null)
fi
exit 0
