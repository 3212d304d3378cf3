#!/usr/bin/env bash
# The participants' command line on one embedded ledger: ledger-tool sets it
# up, `market` runs Offer -> Request -> Accept -> open -> Activation -> usage ->
# refund, with the refusals' exit code 3 and exact balances.
set -euo pipefail
BUILD=$1
LT=$BUILD/ledger/ledger-tool
MK=$BUILD/agents/market
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
fail() { echo "FAIL: $*"; exit 1; }
expect_refused() {  # expect_refused CODE cmd...
  local code=$1; shift
  set +e; out=$("$@" 2>&1); rc=$?; set -e
  [[ $rc == 3 && $out == *"($code)"* ]] || fail "expected refusal $code, got rc=$rc: $out"
}
for k in admin visited home vseal hreply; do $LT keygen --out $k.pem >/dev/null; done
$LT init --db l.db --admin-id SDR-ISSUER --admin-key admin.pem >/dev/null
$LT register --db l.db --id VISITED-A --role visited-operator --pubkey visited.pem --admin-key admin.pem --admin-id SDR-ISSUER >/dev/null
$LT register --db l.db --id HOME-B --role home-operator --pubkey home.pem --admin-key admin.pem --admin-id SDR-ISSUER >/dev/null
V=(--ledger l.db --as VISITED-A --key visited.pem)
H=(--ledger l.db --as HOME-B --key home.pem)
$MK --ledger l.db --as SDR-ISSUER --key admin.pem mint --to HOME-B --amount 20 >/dev/null
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
$MK --ledger l.db verify | grep -q "^OK: 10 entries" || fail "verify"
# Tampering with a stored entry is found on open (exit 2, seq named).
sqlite3 l.db "UPDATE entries SET payload = CAST(replace(CAST(payload AS TEXT), '1234', '1200') AS BLOB) WHERE type = 'usage'"
set +e; out=$($MK --ledger l.db verify 2>&1); rc=$?; set -e
[[ $rc == 2 && $out == *"CHAIN BROKEN at seq 9"* ]] || fail "tamper not detected: rc=$rc $out"
echo "market CLI: all checks passed"
