#!/usr/bin/env bash
# Issue 14 with `market` on one embedded ledger: a service provider's Offer
# (--kind service) bought, accepted with an SP code, opened by the home
# operator, redeemed; withdraw and edit of Offers with their refusals (exit 3).
set -euo pipefail
BUILD=$1
LT=$BUILD/ledger/ledger-tool
MK=$BUILD/agents/market
source "$(cd "$(dirname "$0")" && pwd)/market_cli_common.sh"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
for k in admin sp home sseal hreply; do $LT keygen --out $k.pem >/dev/null; done
$LT init --db l.db --admin-id SDR-ISSUER --admin-key admin.pem >/dev/null
$LT register --db l.db --id SP-HOTEL --role service-provider --pubkey sp.pem --admin-key admin.pem --admin-id SDR-ISSUER >/dev/null
$LT register --db l.db --id HOME-B --role home-operator --pubkey home.pem --admin-key admin.pem --admin-id SDR-ISSUER >/dev/null
S=(--ledger l.db --as SP-HOTEL --key sp.pem)
H=(--ledger l.db --as HOME-B --key home.pem)
$MK --ledger l.db --as SDR-ISSUER --key admin.pem mint --to HOME-B --amount 20 >/dev/null

$MK "${S[@]}" publish --kind service --id NIGHTS-2 --service hotel-night --data-mb 2 --per-mb 2 --price 8 \
  --stock 3 --seal-key sseal.pem >/dev/null
$MK "${H[@]}" offers | grep -q '"kind":"service".*"offer_id":"NIGHTS-2"\|"offer_id":"NIGHTS-2".*"kind":"service"' \
  || $MK "${H[@]}" offers | grep '"NIGHTS-2"' | grep -q '"kind":"service"' || fail "service offer not listed as such"
$MK "${H[@]}" request --offer NIGHTS-2 --id R1 --subscriber s1 --reply-key hreply.pem >/dev/null
[[ $($MK "${S[@]}" target --request R1 --seal-key sseal.pem) == '{"service":"hotel-night"}' ]] || fail "target"
$MK "${S[@]}" accept --request R1 --sp-code HTL-7Q2K-99 --entitles "2 nights, Hotel du Port" >/dev/null
out=$($MK "${H[@]}" open --request R1 --reply-key hreply.pem)
[[ $out == *"sp code: HTL-7Q2K-99"* && $out == *"hash matches the Accept"* ]] || fail "open: $out"
expect_refused bad-terms $MK "${S[@]}" activate --request R1 --plmn 20801
$MK "${S[@]}" activate --request R1 --plmn FRMRS >/dev/null
$MK "${S[@]}" usage --request R1 --report-no 1 --data-mb 2 >/dev/null
expect_refused beyond-allowance $MK "${S[@]}" usage --request R1 --report-no 2 --data-mb 1

# Edit: for future Requests only; withdraw: none after it.
expect_refused not-provider $MK "${H[@]}" edit --offer NIGHTS-2 --price 9
expect_refused bad-terms $MK "${S[@]}" edit --offer NIGHTS-2 --stock -1
$MK "${S[@]}" edit --offer NIGHTS-2 --price 9 >/dev/null
$MK "${H[@]}" offers | grep '"NIGHTS-2"' | grep -q '"price_sdrt":"9.000000"' || fail "edited price not listed"
$MK "${H[@]}" request --offer NIGHTS-2 --id R2 --subscriber s2 --reply-key hreply.pem >/dev/null
[[ $($MK "${H[@]}" balance) == "HOME-B: 3.000000 SDRt available, 17.000000 SDRt in escrow" ]] || fail "balance: $($MK "${H[@]}" balance)"
expect_refused not-provider $MK "${H[@]}" withdraw --offer NIGHTS-2
$MK "${S[@]}" withdraw --offer NIGHTS-2 >/dev/null
expect_refused offer-withdrawn $MK "${H[@]}" request --offer NIGHTS-2 --id R3 --subscriber s3 --reply-key hreply.pem
expect_refused offer-withdrawn $MK "${S[@]}" withdraw --offer NIGHTS-2
expect_refused offer-withdrawn $MK "${S[@]}" edit --offer NIGHTS-2 --price 1
$MK "${H[@]}" events | grep -q '"offer-withdrawn"' || fail "no offer-withdrawn event"
$MK "${H[@]}" events | grep -q '"offer-edited"' || fail "no offer-edited event"
$MK --ledger l.db verify | grep -q "^OK" || fail "verify"
echo "market CLI (service offers, withdraw, edit): all checks passed"
