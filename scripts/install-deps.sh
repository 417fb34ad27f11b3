#!/usr/bin/env bash
# Installs every Debian package smc's build, demo and tests need, only when missing.
# Safe to run repeatedly; runs apt-get only if something is absent.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config git ca-certificates
  libcurl4-openssl-dev libmsgpack-dev libyaml-dev libgpgme-dev libgit2-dev libssl-dev
  libevent-dev libjansson-dev libarchive-dev libseccomp-dev libsqlite3-dev libcriterion-dev
  sqlite3 gnupg age
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
