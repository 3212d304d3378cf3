#!/usr/bin/env bash
# Installs the Debian 12 packages the build and the tests need (run as root).
# Skips apt-get entirely when everything is already there.
set -euo pipefail
PACKAGES=(
  build-essential cmake pkg-config git openssl ca-certificates
  asn1c libmbedtls-dev libboost-dev libboost-system-dev libcurl4-openssl-dev
  libssl-dev
  libsqlite3-dev libpcsclite-dev pcscd vsmartcard-vpcd pcsc-tools
  libgtest-dev libgmock-dev nlohmann-json3-dev libcli11-dev libqrencode-dev libpng-dev zbar-tools
  libsecp256k1-dev libcrypto++-dev sqlite3 curl
  clang-14 libclang-rt-14-dev
  lld  # links the ~60 executables several times faster than GNU ld (CMakeLists.txt RSP_USE_LLD, docs/hardening.md)
  softhsm2 libp11-kit-dev
  libpq-dev postgresql  # the PostgreSQL store (issue 12) and the private clusters its tests start (docs/smdp.md)
  zlib1g-dev
  help2man
  python3-jsonschema python3-yaml  # the OpenAPI tests (docs/openapi, issue 13), run by /usr/bin/python3
  libsodium-dev  # webd's staff password hashes: Argon2id (crypto_pwhash_str), docs/web.md
  chromium  # the web application's browser test (headless, driven by playwright-core), docs/web.md
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
# npm packages of ledger/contracts (owner: the chain backend): solc compiles
# the contracts at build time, anvil is the test node. `npm ci` installs
# exactly package-lock.json, only when node_modules is missing or older than
# the lock file. --prefer-offline takes packages from the npm cache when it
# has them (so this also works offline once they were fetched once).
# --ignore-scripts: anvil's binary comes in its platform package (an optional
# dependency in the lock file); the wrapper's postinstall would only fetch it
# again when that package is missing.
CONTRACTS_DIR="$(cd "$(dirname "$0")/.." && pwd)/ledger/contracts"
if [[ ! -d "$CONTRACTS_DIR/node_modules" || "$CONTRACTS_DIR/package-lock.json" -nt "$CONTRACTS_DIR/node_modules" ]]; then
  echo "npm ci in ledger/contracts"
  if ! (cd "$CONTRACTS_DIR" && npm ci --no-audit --no-fund --prefer-offline --ignore-scripts); then
    echo "deps.sh: 'npm ci' failed in ledger/contracts: solc and anvil are needed to build and test the chain backend" >&2
    exit 1
  fi
  touch "$CONTRACTS_DIR/node_modules"  # newer than the lock file: the next run skips npm
fi
# npm package of the web application's browser test (docs/web.md):
# playwright-core (no dependencies, downloads no browser) drives Debian's
# chromium. Same rule as above: `npm ci` from the lock file when needed.
WEBTEST_DIR="$(cd "$(dirname "$0")/.." && pwd)/tests/web"
if [[ ! -d "$WEBTEST_DIR/node_modules" || "$WEBTEST_DIR/package-lock.json" -nt "$WEBTEST_DIR/node_modules" ]]; then
  echo "npm ci in tests/web"
  if ! (cd "$WEBTEST_DIR" && npm ci --no-audit --no-fund --prefer-offline --ignore-scripts); then
    echo "deps.sh: 'npm ci' failed in tests/web: playwright-core is needed by the browser test" >&2
    exit 1
  fi
  touch "$WEBTEST_DIR/node_modules"
fi
