#!/usr/bin/env bash
# The web application's browser test (issue 14; docs/web.md): starts webd by
# pid on loopback with a fresh store and an embedded ledger, then Debian's
# chromium, driven by playwright-core (browser_test.mjs), clicks the story:
# the visited operator's staff publishes an Offer; the home operator's staff
# sees it, bundles it into a package priced in EUR and publishes it to the
# storefront; a subscriber buys it there: a declined card first (no Request),
# then an approved one (a Request on the ledger, seen by the visited
# operator). Screenshots of each page go to $RSP_WEB_SCREENSHOTS (default:
# the build folder; `RSP_WEB_SCREENSHOTS=$PWD/docs/web` refreshes docs/web/).
# Usage: browser_test.sh BUILD_DIR
# Exit 77 (CTest: skipped) only when chromium is absent and CI is not set.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=${RSP_CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $CHROMIUM ]]; then
  if [[ -n ${CI:-} ]]; then echo "FAIL: $CHROMIUM is missing (scripts/deps.sh installs chromium)" >&2; exit 1; fi
  echo "SKIP: $CHROMIUM is missing (scripts/deps.sh installs Debian's chromium)"; exit 77
fi
if [[ ! -f $HERE/node_modules/playwright-core/package.json ]]; then
  echo "FAIL: tests/web/node_modules/playwright-core is missing (scripts/deps.sh runs npm ci there)" >&2; exit 1
fi
W=$(mktemp -d)
WEBD_PID=
cleanup() {
  if [[ -n $WEBD_PID ]]; then kill "$WEBD_PID" 2>/dev/null || true; wait "$WEBD_PID" 2>/dev/null || true; fi
  rm -rf "$W"
}
trap cleanup EXIT
LT=$BUILD/ledger/ledger-tool
WEBD=$BUILD/web/webd

# The ledger: the SDRt issuer, a visited and a home operator; the home operator gets 500 SDRt.
for k in admin visited home seal reply; do "$LT" keygen --out "$W/$k.pem" >/dev/null; done
"$LT" init --db "$W/ledger.db" --admin-id SDR-ISSUER --admin-key "$W/admin.pem" >/dev/null
"$LT" register --db "$W/ledger.db" --id VISITED-A --role visited-operator --pubkey "$W/visited.pem" --admin-id SDR-ISSUER --admin-key "$W/admin.pem" >/dev/null
"$LT" register --db "$W/ledger.db" --id HOME-B --role home-operator --pubkey "$W/home.pem" --admin-id SDR-ISSUER --admin-key "$W/admin.pem" >/dev/null
"$LT" append --db "$W/ledger.db" --author SDR-ISSUER --key "$W/admin.pem" --type mint --payload '{"to":"HOME-B","amount":500000000}' >/dev/null

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout "$W/tls-key.pem" -out "$W/tls-cert.pem" 2>/dev/null
chmod 600 "$W/tls-key.pem"
cat >"$W/webd.json" <<JSON
{
  "listen": "127.0.0.1",
  "port": 0,
  "tls": {"cert": "tls-cert.pem", "key": "tls-key.pem"},
  "store": "web.db",
  "ledger": {"embedded": "ledger.db"},
  "tenants": [
    {"id": "VISITED-A", "name": "Visited A (France)", "kind": "visited-operator", "ledger_key": "visited.pem", "seal_key": "seal.pem"},
    {"id": "HOME-B", "name": "Home B", "kind": "home-operator", "ledger_key": "home.pem", "reply_key": "reply.pem"}
  ]
}
JSON
printf '%s\n' 'victor-Secret-42' | "$WEBD" --config "$W/webd.json" user add --tenant VISITED-A --username victor --role staff
printf '%s\n' 'alice-Secret-4711' | "$WEBD" --config "$W/webd.json" user add --tenant HOME-B --username alice --role admin

"$WEBD" --config "$W/webd.json" serve --port-file "$W/port" 2>"$W/webd.log" &
WEBD_PID=$!
for _ in $(seq 100); do [[ -s $W/port ]] && break; kill -0 "$WEBD_PID" 2>/dev/null || break; sleep 0.1; done
[[ -s $W/port ]] || { echo "FAIL: webd did not start" >&2; cat "$W/webd.log" >&2; exit 1; }
PORT=$(cat "$W/port")

SHOTS=${RSP_WEB_SCREENSHOTS:-$BUILD/tests/web/screenshots}
mkdir -p "$SHOTS"
if ! node "$HERE/browser_test.mjs" "https://127.0.0.1:$PORT" "$SHOTS" "$CHROMIUM" "$W/profile"; then
  echo "--- webd log" >&2; tail -50 "$W/webd.log" >&2; exit 1
fi
# Nothing secret in webd's log.
if grep -q -e 'victor-Secret-42' -e 'alice-Secret-4711' -e '4242424242424242' -e '89049032123451234512345678901235' "$W/webd.log"; then
  echo "FAIL: a password, card number or EID is in webd's log" >&2; exit 1
fi
echo "browser test passed; screenshots in $SHOTS"
