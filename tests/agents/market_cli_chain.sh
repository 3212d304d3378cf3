#!/usr/bin/env bash
# The participants' command line on the chain backend: anvil on 127.0.0.1
# (started and stopped here by pid), `ledger-chain` deploys and registers,
# `market --chain` runs Offer -> Request -> Accept -> open -> Activation ->
# usage -> refund with exact balances and the refusals' exit code 3.
set -euo pipefail
BUILD=$1
ANVIL=${2:-}
[[ -n $ANVIL && -x $ANVIL ]] || { echo "SKIP: anvil not installed (run scripts/deps.sh)"; exit 77; }
LC=$BUILD/ledger/chain/ledger-chain
MK=$BUILD/agents/market
source "$(cd "$(dirname "$0")" && pwd)/market_cli_common.sh"
W=$(mktemp -d)
APID=
cleanup() { [[ -n $APID ]] && kill "$APID" 2>/dev/null && wait "$APID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
cd "$W"
# A random high port; another try if anvil exits at once (port taken). Bounded.
for try in 1 2 3 4 5; do
  PORT=$(shuf -i 20000-60000 -n 1)
  "$ANVIL" --host 127.0.0.1 --port "$PORT" --base-fee 0 --gas-price 0 > anvil.log 2>&1 &
  APID=$!
  RPC=http://127.0.0.1:$PORT
  up=
  for i in $(seq 1 100); do  # 10 s
    kill -0 "$APID" 2>/dev/null || break
    if curl -s -m 1 -X POST -H 'Content-Type: application/json' \
         --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$RPC" | grep -q result; then up=1; break; fi
    sleep 0.1
  done
  [[ -n $up ]] && break
  kill "$APID" 2>/dev/null; wait "$APID" 2>/dev/null || true; APID=
done
[[ -n $up ]] || fail "anvil did not start on 127.0.0.1"
for k in admin visited home; do $LC keygen --out $k.key >/dev/null; done
for k in vseal hreply; do $BUILD/ledger/ledger-tool keygen --out $k.pem >/dev/null; done
$LC deploy --rpc "$RPC" --admin-key admin.key --out d.json --free-gas --admin-id SDR-ISSUER >/dev/null
$LC register --deployment d.json --admin-key admin.key --id VISITED-A --role visited-operator --address "$($LC address --key visited.key)" >/dev/null
$LC register --deployment d.json --admin-key admin.key --id HOME-B --role home-operator --address "$($LC address --key home.key)" >/dev/null
$LC fund --deployment d.json --admin-key admin.key --to HOME-B --amount 20 >/dev/null
V=(--chain d.json --key visited.key)
H=(--chain d.json --key home.key)
market_story
$MK --chain d.json verify | grep -q "^OK: chain 31337, contracts present, 7 marketplace events" || fail "verify: $($MK --chain d.json verify 2>&1)"
# Key rotation (issue 16): HOME-B moves to a new account and keeps its id
# and balance; the old account writes nothing.
$LC keygen --out home2.key >/dev/null
before=$($MK "${H[@]}" balance)
$MK "${H[@]}" rotate --new-key home2.key | grep -q "^OK" || fail "market rotate"
expect_refused not-registered $MK "${H[@]}" rotate --new-key home2.key
expect_refused bad-participant $MK --chain d.json --key home2.key rotate --new-key visited.key
[[ $($MK --chain d.json --key home2.key balance) == "$before" ]] || fail "balance after the rotation"
echo "market CLI on the chain: all checks passed"
