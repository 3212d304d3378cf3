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
W=$(mktemp -d)
APID=
cleanup() { [[ -n $APID ]] && kill "$APID" 2>/dev/null && wait "$APID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
cd "$W"
fail() { echo "FAIL: $*"; exit 1; }
expect_refused() {  # expect_refused CODE cmd...
  local code=$1; shift
  set +e; out=$("$@" 2>&1); rc=$?; set -e
  [[ $rc == 3 && $out == *"($code)"* ]] || fail "expected refusal $code, got rc=$rc: $out"
}
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
$MK "${V[@]}" publish --id EU-5GB --service data --coverage 20801,20810 --data-mb 5000 --per-mb 0.002 --price 10 \
  --stock 1 --seal-key vseal.pem >/dev/null
$MK "${H[@]}" offers | grep -q '"offer_id":"EU-5GB"' || fail "offer not listed"
expect_refused wrong-role $MK "${V[@]}" request --offer EU-5GB --subscriber s1 --eid 89049032123451234512345678901235 --reply-key hreply.pem
$MK "${H[@]}" request --offer EU-5GB --id R1 --subscriber s1 --eid 89049032123451234512345678901235 --reply-key hreply.pem >/dev/null
expect_refused out-of-stock $MK "${H[@]}" request --offer EU-5GB --id R2 --subscriber s2 --eid 89049032123451234512345678901235 --reply-key hreply.pem
[[ $($MK "${H[@]}" balance) == "HOME-B: 10.000000 SDRt available, 10.000000 SDRt in escrow" ]] || fail "balance after request"
[[ $($MK "${V[@]}" target --request R1 --seal-key vseal.pem) == '{"eid":"89049032123451234512345678901235"}' ]] || fail "target"
head -c 3000 /dev/urandom > ppp.bin
$MK "${V[@]}" accept --request R1 --activation-code '1$smdp.example$MID-1' --iccid 8933010000000000002 --package ppp.bin >/dev/null
$MK "${H[@]}" open --request R1 --reply-key hreply.pem --package-out got.bin | grep -q 'LPA:1\$smdp.example\$MID-1' || fail "open"
cmp -s ppp.bin got.bin || fail "package differs"
set +e; $MK "${H[@]}" open --request R1 --reply-key vseal.pem >/dev/null 2>&1; rc=$?; set -e
[[ $rc != 0 ]] || fail "the Accept opened with another key"
$MK "${V[@]}" activate --request R1 --plmn 20801 >/dev/null
expect_refused not-provider $MK "${H[@]}" usage --request R1 --report-no 1 --data-mb 10
$MK "${V[@]}" usage --request R1 --report-no 1 --data-mb 1234 >/dev/null
expect_refused report-out-of-order $MK "${V[@]}" usage --request R1 --report-no 3 --data-mb 1
expect_refused beyond-escrow $MK "${V[@]}" usage --request R1 --report-no 2 --data-mb 4000
$MK "${V[@]}" refund --request R1 >/dev/null
[[ $($MK "${H[@]}" balance) == "HOME-B: 17.532000 SDRt available, 0.000000 SDRt in escrow" ]] || fail "home final"
[[ $($MK "${V[@]}" balance) == "VISITED-A: 2.468000 SDRt available, 0.000000 SDRt in escrow" ]] || fail "visited final"
$MK "${H[@]}" statement | grep -q "closing 17.532000 available" || fail "statement"
$MK --chain d.json verify | grep -q "^OK: chain 31337, contracts present, 7 marketplace events" || fail "verify: $($MK --chain d.json verify 2>&1)"
echo "market CLI on the chain: all checks passed"
