#!/usr/bin/env bash
# Installs the Debian 12 packages the build and the tests need (run as root).
# Skips apt-get entirely when everything is already there.
set -euo pipefail
PACKAGES=(
  build-essential cmake pkg-config git openssl ca-certificates
  asn1c libmbedtls-dev libboost-dev libboost-system-dev libcurl4-openssl-dev
  libsqlite3-dev libpcsclite-dev pcscd vsmartcard-vpcd pcsc-tools
  libgtest-dev libgmock-dev nlohmann-json3-dev libcli11-dev libqrencode-dev libpng-dev zbar-tools
  libsecp256k1-dev libcrypto++-dev sqlite3
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Node.js and npm (solc and anvil come from the npm registry): Debian's own
# packages unless a Node.js with npm is already there (a nodesource build
# bundles npm and conflicts with Debian's npm package).
if ! command -v npm >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm
fi
