# Shared by market_cli.sh (embedded ledger) and market_cli_chain.sh (chain):
# the helpers, and the participants' story once the ledger is set up. The
# caller sets MK (the market tool), V and H (the visited and home operators'
# market options) and credits HOME-B 20 SDRt; it runs in a scratch folder
# holding the P-256 keys vseal.pem and hreply.pem.
fail() { echo "FAIL: $*"; exit 1; }
expect_refused() {  # expect_refused CODE cmd...
  local code=$1; shift
  set +e; out=$("$@" 2>&1); rc=$?; set -e
  [[ $rc == 3 && $out == *"($code)"* ]] || fail "expected refusal $code, got rc=$rc: $out"
}

market_story() {
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
  # A usage record sent twice is applied once; its id with other content is refused.
  S=$(( $(date +%s) + 60 ))
  $MK "${V[@]}" usage --request R1 --report-no 2 --record-id CDR-2 --period-start $S --period-end $S --sms 0 >/dev/null
  $MK "${V[@]}" usage --request R1 --report-no 2 --record-id CDR-2 --period-start $S --period-end $S --sms 0 | grep -q "already applied" || fail "usage record applied twice"
  expect_refused record-conflict $MK "${V[@]}" usage --request R1 --report-no 3 --record-id CDR-2 --period-start $S --period-end $S --sms 1
  expect_refused period-overlap $MK "${V[@]}" usage --request R1 --report-no 3 --record-id CDR-3 --period-start $((S - 10)) --period-end $S
  expect_refused beyond-escrow $MK "${V[@]}" usage --request R1 --report-no 3 --data-mb 4000
  # The charges (2.468 SDRt) are held until the dispute window after the
  # Accept (1 day) has passed: nobody closes the Request before it.
  expect_refused held $MK "${V[@]}" refund --request R1
  [[ $($MK "${H[@]}" balance) == "HOME-B: 10.000000 SDRt available, 10.000000 SDRt in escrow" ]] || fail "home final"
  [[ $($MK "${V[@]}" balance) == "VISITED-A: 0.000000 SDRt available, 0.000000 SDRt in escrow" ]] || fail "visited final"
  $MK "${H[@]}" statement | grep -q "closing 10.000000 available" || fail "statement"
}
