#!/usr/bin/env bash
# Command lines that never lie (issue 13): the key generators refuse to
# overwrite a key without --force, and `market` refuses a missing ledger, a
# bad ICCID, EID or activation code with a clear message and the exit code of
# docs/operations.md (1 failed, 2 usage), writing nothing to the ledger; an
# activation code given with "LPA:" is stored once, without a second prefix.
# Usage: market_cli_errors.sh BUILD_DIR
set -uo pipefail
BUILD=$1
LT=$BUILD/ledger/ledger-tool
LC=$BUILD/ledger/chain/ledger-chain
MK=$BUILD/agents/market
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect RC NEEDLE cmd...: exit code RC and NEEDLE in stderr.
expect() {
  local want=$1 needle=$2; shift 2
  "$@" >out 2>err </dev/null; local rc=$?
  [[ $rc == "$want" ]] || fail "$*: exit $rc, want $want ($(cat err))"
  grep -qF -- "$needle" err || fail "$*: stderr lacks '$needle': $(cat err)"
}

# --- ledger-tool keygen: no silent overwrite
$LT keygen --out k.pem >/dev/null || fail "first keygen"
cp k.pem k.orig
expect 1 "k.pem exists; not overwriting the key (--force to replace)" $LT keygen --out k.pem
cmp -s k.pem k.orig || fail "ledger-tool keygen replaced k.pem without --force"
$LT keygen --out k.pem --force >/dev/null || fail "keygen --force"
cmp -s k.pem k.orig && fail "ledger-tool keygen --force did not replace k.pem"
[[ $(stat -c %a k.pem) == 600 ]] || fail "k.pem mode $(stat -c %a k.pem) after --force"
expect 1 "cannot write $W/no/such/dir/k.pem" $LT keygen --out "$W/no/such/dir/k.pem"
if [[ -x $LC ]]; then  # the chain key (an account holding SDRt) is never overwritten
  $LC keygen --out c.key >/dev/null || fail "ledger-chain keygen"
  cp c.key c.orig
  expect 1 "c.key" $LC keygen --out c.key
  cmp -s c.key c.orig || fail "ledger-chain keygen replaced c.key"
fi

# --- a ledger to work on
for k in admin visited home vseal hreply; do $LT keygen --out $k.pem >/dev/null; done
$LT init --db l.db --admin-id SDR-ISSUER --admin-key admin.pem >/dev/null
$LT register --db l.db --id VISITED-A --role visited-operator --pubkey visited.pem --admin-key admin.pem --admin-id SDR-ISSUER >/dev/null
$LT register --db l.db --id HOME-B --role home-operator --pubkey home.pem --admin-key admin.pem --admin-id SDR-ISSUER >/dev/null
V=(--ledger l.db --as VISITED-A --key visited.pem)
H=(--ledger l.db --as HOME-B --key home.pem)
$MK --ledger l.db --as SDR-ISSUER --key admin.pem mint --to HOME-B --amount 20 >/dev/null || fail "mint"
$MK "${V[@]}" publish --id O1 --service data --coverage 20801 --price 1 --stock 3 --seal-key vseal.pem >/dev/null || fail "publish"
entries() { $LT show --db l.db | wc -l; }

# --- missing ledger: an error, and no file appears
expect 1 "no ledger at typo.db; create one with ledger-tool init" $MK --ledger typo.db offers
[[ -e typo.db ]] && fail "market created typo.db"
: > empty.db
expect 1 "no ledger at empty.db" $MK --ledger empty.db offers

# --- bad EID / ICCID: usage errors, nothing appended
n=$(entries)
EID=89049032123451234512345678901235
expect 2 "wrong check digits" $MK "${H[@]}" request --offer O1 --subscriber s --eid 89049032123451234512345678901234 --reply-key hreply.pem
expect 2 "EID must be 32 decimal digits" $MK "${H[@]}" request --offer O1 --subscriber s --eid 8904903212345 --reply-key hreply.pem
expect 2 "EID must be 32 decimal digits" $MK "${H[@]}" request --offer O1 --subscriber s --eid "x$EID" --reply-key hreply.pem
expect 2 "wrong Luhn check digit (E.118; expected 2)" $MK "${H[@]}" request --offer O1 --subscriber s --iccid 8933010000000000003 --reply-key hreply.pem
expect 2 "ICCID must be 19 or 20 decimal digits" $MK "${H[@]}" request --offer O1 --subscriber s --iccid 893301 --reply-key hreply.pem
expect 2 "ICCID must be 19 or 20 decimal digits" $MK "${H[@]}" request --offer O1 --subscriber s --iccid not-an-iccid-at-all --reply-key hreply.pem
[[ $(entries) == "$n" ]] || fail "a refused request reached the ledger"
# The F padding of a 19-digit ICCID (pySim, EF ICCID) is accepted and dropped.
$MK "${H[@]}" request --offer O1 --id R1 --subscriber s1 --iccid 8933010000000000002F --reply-key hreply.pem >/dev/null || fail "request with F-padded ICCID"
[[ $($MK "${V[@]}" target --request R1 --seal-key vseal.pem) == '{"iccid":"8933010000000000002"}' ]] || fail "the sealed ICCID is not normalised"
$MK "${H[@]}" request --offer O1 --id R2 --subscriber s2 --eid $EID --reply-key hreply.pem >/dev/null || fail "request with a good EID"

# --- accept: activation code checked; "LPA:" accepted and stored once
head -c 100 /dev/urandom > ppp.bin
n=$(entries)
expect 2 "activation code" $MK "${V[@]}" accept --request R1 --activation-code 'not a code' --iccid 8933010000000000002 --package ppp.bin
expect 2 "activation code" $MK "${V[@]}" accept --request R1 --activation-code '2$smdp.example$MID' --iccid 8933010000000000002 --package ppp.bin
expect 2 "activation code" $MK "${V[@]}" accept --request R1 --activation-code 'LPA:LPA:1$smdp.example$MID' --iccid 8933010000000000002 --package ppp.bin
expect 2 "wrong Luhn check digit" $MK "${V[@]}" accept --request R1 --activation-code '1$smdp.example$MID' --iccid 8933010000000000001 --package ppp.bin
[[ $(entries) == "$n" ]] || fail "a refused accept reached the ledger"
$MK "${V[@]}" accept --request R1 --activation-code 'LPA:1$smdp.example$MID-1' --iccid 8933010000000000002 --package ppp.bin >/dev/null || fail "accept with LPA:"
$MK "${V[@]}" accept --request R2 --activation-code '1$smdp.example$MID-2' --iccid 89330100000000000020 --package ppp.bin >/dev/null || fail "accept without LPA:"
out=$($MK "${H[@]}" open --request R1 --reply-key hreply.pem)
grep -qx 'activation code: LPA:1$smdp.example$MID-1' <<<"$out" || fail "open R1 (LPA: given): $out"
out=$($MK "${H[@]}" open --request R2 --reply-key hreply.pem)
grep -qx 'activation code: LPA:1$smdp.example$MID-2' <<<"$out" || fail "open R2: $out"
# A package that cannot be written is an error naming the path.
expect 1 "cannot write the package to $W/no/dir/p.bin" $MK "${H[@]}" open --request R1 --reply-key hreply.pem --package-out "$W/no/dir/p.bin"

# --- times: Unix seconds or ISO 8601 (UTC unless an offset is given)
$MK "${H[@]}" statement --from 2026-01-01 --to 2026-01-02T00:00:00Z | grep -q "^statement of HOME-B \[1767225600, 1767312000)" \
  || fail "statement with ISO 8601 dates: $($MK "${H[@]}" statement --from 2026-01-01 --to 2026-01-02T00:00:00Z 2>&1)"
$MK "${H[@]}" statement --from 2026-12-03T08:00+01:00 --to 1796281201 | grep -q "^statement of HOME-B \[1796281200, 1796281201)" \
  || fail "statement with an offset"
expect 2 "give Unix seconds or ISO 8601" $MK "${H[@]}" statement --from 2026-02-30
expect 2 "give Unix seconds or ISO 8601" $MK "${H[@]}" statement --from yesterday
expect 2 "give Unix seconds or ISO 8601" $MK "${V[@]}" usage --request R1 --report-no 1 --period-end 2026-12-03T25:00

if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "market CLI errors: all checks passed"
