#!/usr/bin/env bash
# The participants' command line on one embedded ledger: ledger-tool sets it
# up, `market` runs Offer -> Request -> Accept -> open -> Activation -> usage ->
# refund, with the refusals' exit code 3 and exact balances.
set -euo pipefail
BUILD=$1
LT=$BUILD/ledger/ledger-tool
MK=$BUILD/agents/market
source "$(cd "$(dirname "$0")" && pwd)/market_cli_common.sh"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
for k in admin visited home vseal hreply; do $LT keygen --out $k.pem >/dev/null; done
$LT init --db l.db --admin-id SDR-ISSUER --admin-key admin.pem >/dev/null
$LT register --db l.db --id VISITED-A --role visited-operator --pubkey visited.pem --admin-key admin.pem --admin-id SDR-ISSUER >/dev/null
$LT register --db l.db --id HOME-B --role home-operator --pubkey home.pem --admin-key admin.pem --admin-id SDR-ISSUER >/dev/null
V=(--ledger l.db --as VISITED-A --key visited.pem)
H=(--ledger l.db --as HOME-B --key home.pem)
$MK --ledger l.db --as SDR-ISSUER --key admin.pem mint --to HOME-B --amount 20 >/dev/null
market_story
# 10 entries: the final refund is refused while the usage charges are held (issue 16)
$MK --ledger l.db verify | grep -q "^OK: 10 entries" || fail "verify"
# Key rotation (issue 16): HOME-B with `market rotate`, VISITED-A with
# `ledger-tool rotate`; the old keys write nothing, the new ones keep the ids
# and balances, and the ledger verifies whole.
$LT keygen --out home2.pem >/dev/null
$LT keygen --out visited2.pem >/dev/null
before=$($MK "${H[@]}" balance)
$MK "${H[@]}" rotate --new-key home2.pem | grep -q "^OK" || fail "market rotate"
$LT rotate --db l.db --id VISITED-A --key visited.pem --new-key visited2.pem | grep -q "rotated the key of VISITED-A" || fail "ledger-tool rotate"
expect_refused not-registered $MK "${H[@]}" rotate --new-key hreply.pem
expect_refused bad-participant $MK --ledger l.db --as HOME-B --key home2.pem rotate --new-key visited.pem
set +e; out=$($LT rotate --db l.db --id VISITED-A --key visited.pem --new-key vseal.pem 2>&1); rc=$?; set -e
[[ $rc == 3 && $out == *"rotated out"* ]] || fail "the old visited key still writes: rc=$rc $out"
[[ $($MK --ledger l.db --as HOME-B --key home2.pem balance) == "$before" ]] || fail "balance after the rotation"
$MK --ledger l.db verify | grep -q "^OK: 12 entries" || fail "verify after the rotations"
# Tampering with a stored entry is found on open (exit 4, seq named).
sqlite3 l.db "UPDATE entries SET payload = CAST(replace(CAST(payload AS TEXT), '1234', '1200') AS BLOB) WHERE type = 'usage'"
set +e; out=$($MK --ledger l.db verify 2>&1); rc=$?; set -e
[[ $rc == 4 && $out == *"CHAIN BROKEN at seq 9"* ]] || fail "tamper not detected: rc=$rc $out"
echo "market CLI: all checks passed"
