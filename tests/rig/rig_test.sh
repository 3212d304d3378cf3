#!/usr/bin/env bash
# The story rig on its own (tests/rig/story_rig.sh; issue 14, must-show 1),
# through the command lines only: VISITED-A publishes an Offer (`market
# publish` with the seal key its agent holds), HOME-B's purchase order is
# dropped into its agent's spool, the home agent delivers the activation
# code, the LPA downloads it into euicc-sim over its TCP bridge and enables
# it, `visited-network` attaches (Milenage AUTHENTICATE against the HSS the
# rig provisioned) and writes two usage records (one of them twice). On the
# ledger: exactly one Request, Accept and Activation, two usage reports with
# the figures sent, HOME-B's 500 SDRt less the Offer's price with the price
# in escrow (usage charges are held for the dispute window, a day:
# docs/marketplace.md). An attach whose HSS holds a tampered Ki, or
# does not know the IMSI, or whose RES is corrupted on the way
# (res_relay.py), is refused and writes no event.
# Usage: rig_test.sh BUILD_DIR          Exit 0 pass, 1 fail.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=story_rig.sh
source "$HERE/story_rig.sh"

W=$(mktemp -d)
failures=0
RELAY_PID=
cleanup() {
  if [[ -n $RELAY_PID ]]; then kill "$RELAY_PID" 2>/dev/null || true; wait "$RELAY_PID" 2>/dev/null || true; fi
  rig_stop
  if ((failures == 0)); then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
die() {
  echo "FAIL: $*"
  failures=$((failures + 1))
  rig_logs 25 || true
  exit 1
}
step() { printf '\n== %s\n' "$*"; }

step "rig_init, rig_start"
rig_init "$BUILD" "$W/rig" || die "rig_init"
for v in RIG RIG_LEDGER_DB RIG_VISITED_KEY RIG_HOME_KEY RIG_SEAL_KEY RIG_REPLY_KEY RIG_ORDERS_SPOOL RIG_DELIVERY_DIR \
  RIG_NETWORK_SPOOL RIG_EID RIG_PLMN RIG_TLS_CA RIG_PROFILE_TYPE; do
  [[ -n ${!v:-} ]] || fail "rig_init did not export $v"
done
for k in "$RIG_VISITED_KEY" "$RIG_HOME_KEY" "$RIG_SEAL_KEY" "$RIG_REPLY_KEY" "$RIG/admin.pem" "$RIG/hss.key"; do
  [[ $(stat -c %a "$k") == 600 ]] || fail "$k has mode $(stat -c %a "$k"), not 600"
done
rig_start || die "rig_start"

MARKET=("$BUILD/agents/market" --ledger "$RIG_LEDGER_DB")
VISITED=("${MARKET[@]}" --as VISITED-A --key "$RIG_VISITED_KEY")
HOME=("${MARKET[@]}" --as HOME-B --key "$RIG_HOME_KEY")
VN=$BUILD/simulators/visited-network

step "VISITED-A publishes an Offer with its agent's seal key"
"${VISITED[@]}" publish --id ROAM-RIG --service data+voice+sms --coverage "$RIG_PLMN" --data-mb 5000 --voice-min 100 \
  --sms 50 --per-mb 0.002 --per-min 0.05 --per-sms 0.01 --price 12 --stock 10 --seal-key "$RIG_SEAL_KEY" ||
  die "market publish"

step "HOME-B's purchase order into its agent's spool; the home agent delivers the activation code"
RID=REQ-RIG-0001
printf '{"offer_id": "ROAM-RIG", "subscriber": "sub-rig-1", "eid": "%s", "request_id": "%s"}\n' "$RIG_EID" "$RID" \
  > "$RIG_ORDERS_SPOOL/order-1.tmp"
mv "$RIG_ORDERS_SPOOL/order-1.tmp" "$RIG_ORDERS_SPOOL/order-1.json"
DELIVERY=$RIG_DELIVERY_DIR/$RID.json
wait_for "$RIG_WAIT" test -s "$DELIVERY" || die "no delivery $DELIVERY"
[[ $(stat -c %a "$DELIVERY") == 600 ]] || fail "the delivery has mode $(stat -c %a "$DELIVERY")"
AC=$(jq -r .activation_code "$DELIVERY")
DELIVERED_ICCID=$(jq -r .iccid "$DELIVERY")
[[ $AC == 'LPA:1$localhost:'* ]] || fail "activation code '$AC' is not for the rig's SM-DP+"

step "the LPA downloads it into euicc-sim and enables it"
ICCID=$(rig_download "$AC") || die "rig_download"
echo "ICCID $ICCID"
[[ $ICCID == "$DELIVERED_ICCID" ]] || fail "installed ICCID $ICCID, delivered $DELIVERED_ICCID"
IMSI=$(awk -F, -v i="$ICCID" '$1 == i { print $2 }' "$RIG/batch.csv")
[[ -n $IMSI ]] || die "ICCID $ICCID is not one of the rig's profiles"

step "rig_stop, rig_start mid-story: the card keeps its enabled profile, the agents their state"
rig_stop
rig_start || die "rig_start again"
"$BUILD/lpa/lpa" --tcp "$RIG_EUICC_TCP" --json profile list > "$W/profiles.json" || die "lpa profile list after the restart"
[[ $(jq -r --arg i "$ICCID" '.data[] | select(.iccid == $i) | .profileState' "$W/profiles.json") == enabled ]] ||
  fail "after the restart $ICCID is not enabled: $(cat "$W/profiles.json")"

step "refused attaches write nothing: a tampered Ki, an IMSI the HSS does not know, a corrupted RES"
events_now() { find "$RIG_NETWORK_SPOOL" -name '*.json' | wc -l; }
# The subscriber's row with one bit of Ki flipped, in a second HSS.
awk -F, -v i="$ICCID" 'BEGIN { OFS = "," } NR == 1 || $1 == i {
  if ($1 == i) { c = substr($3, 1, 1); $3 = (c == "0" ? "1" : "0") substr($3, 2) } print }' "$RIG/batch.csv" > "$W/tampered.csv"
cmp -s <(sed -n 2p "$W/tampered.csv") <(grep "^$ICCID," "$RIG/batch.csv") && die "the Ki was not tampered"
"$VN" provision --hss "$W/hss-tampered.db" --hss-key "$RIG/hss.key" --batch "$W/tampered.csv" >/dev/null
head -1 "$RIG/batch.csv" > "$W/other.csv"
grep -v "^$ICCID," "$RIG/batch.csv" | tail -n +2 >> "$W/other.csv"
"$VN" provision --hss "$W/hss-other.db" --hss-key "$RIG/hss.key" --batch "$W/other.csv" >/dev/null
for hss in tampered other; do
  before=$(events_now)
  if "$VN" attach --tcp "$RIG_EUICC_TCP" --hss "$W/hss-$hss.db" --hss-key "$RIG/hss.key" --plmn "$RIG_PLMN" \
    --spool "$RIG_NETWORK_SPOOL" > "$W/attach-$hss.out" 2>&1; then
    fail "an attach against the $hss HSS was accepted: $(cat "$W/attach-$hss.out")"
  fi
  cat "$W/attach-$hss.out"
  [[ $(events_now) == "$before" ]] || fail "a refused attach ($hss HSS) wrote an event"
done
grep -q "attach refused: authentication failed" "$W/attach-tampered.out" || fail "tampered Ki: not an authentication failure"
grep -q "attach refused: unknown IMSI" "$W/attach-other.out" || fail "unknown IMSI: not refused as such"
# The right HSS, but RES corrupted between the card and the network (the
# card accepted AUTN): only the network's RES == XRES check can refuse it.
python3 "$HERE/res_relay.py" "$RIG_EUICC_TCP" > "$W/relay.out" 2>&1 &
RELAY_PID=$!
wait_for 10 grep -q '^listening 127' "$W/relay.out" || die "the RES relay did not start: $(cat "$W/relay.out")"
before=$(events_now)
if "$VN" attach --tcp "$(sed -n 's/^listening //p' "$W/relay.out")" --hss "$RIG/hss.db" --hss-key "$RIG/hss.key" \
  --plmn "$RIG_PLMN" --spool "$RIG_NETWORK_SPOOL" > "$W/attach-relay.out" 2>&1; then
  fail "an attach with a corrupted RES was accepted: $(cat "$W/attach-relay.out")"
fi
cat "$W/attach-relay.out"
grep -q "attach refused: authentication failed (RES != XRES)" "$W/attach-relay.out" || fail "corrupted RES: not refused as RES != XRES"
[[ $(events_now) == "$before" ]] || fail "a refused attach (corrupted RES) wrote an event"
kill "$RELAY_PID" 2>/dev/null || true
wait "$RELAY_PID" 2>/dev/null || true
RELAY_PID=
[[ -e $RIG_NETWORK_SPOOL/.visited-network-meter ]] && fail "a refused attach started metering"

step "the first attach: Milenage AUTHENTICATE against the rig's HSS; the visited agent writes the Activation"
rig_attach > "$W/attach.out" || die "rig_attach"
cat "$W/attach.out"
grep -qx "IMSI $IMSI" "$W/attach.out" || fail "attach did not print IMSI $IMSI"
grep -qx "ICCID $ICCID" "$W/attach.out" || fail "attach did not print ICCID $ICCID"
# Attached again: metering goes on, no second first attach.
rig_attach > "$W/attach2.out" || die "second rig_attach"
grep -q "attached again" "$W/attach2.out" || fail "a second attach was taken as a first: $(cat "$W/attach2.out")"

step "two usage records, one of them delivered again"
rig_usage 1200 12 4 > "$W/usage1.out" || die "first usage record"
rig_usage 800 30 10 > "$W/usage2.out" || die "second usage record"
rig_usage 1200 12 4 > "$W/usage1-again.out" || die "the first usage record again"
cat "$W/usage1.out" "$W/usage2.out" "$W/usage1-again.out"
REC1=$(sed -n 's/^record \([^ ]*\)$/\1/p' "$W/usage1.out")
[[ $(sed -n 's/^record \([^ ]*\)$/\1/p' "$W/usage1-again.out") == "$REC1" ]] || fail "the same usage got another record id"
"$VN" usage --spool "$RIG_NETWORK_SPOOL" --imsi 208019999999999 --data-mb 1 --voice-minutes 0 --sms 0 > "$W/stranger.out" 2>&1 &&
  fail "usage for an IMSI that never attached was written"
grep -q "has not attached" "$W/stranger.out" || fail "usage for a stranger: $(cat "$W/stranger.out")"

step "the ledger: one Request, Accept, Activation; two usage reports; balances"
"${HOME[@]}" events > "$W/events.jsonl"
count() { jq -r --arg t "$1" 'select(.type == $t) | .id' "$W/events.jsonl" | grep -c . || true; }
for t in request accept activation; do
  [[ $(count "$t") == 1 ]] || fail "$(count "$t") $t events, want 1"
done
[[ $(count usage) == 2 ]] || fail "$(count usage) usage events, want 2"
[[ $(jq -r 'select(.type == "request") | .id' "$W/events.jsonl") == "$RID" ]] || fail "the Request is not $RID"
# The usage reports as written: the figures sent, under the network's record ids.
"$BUILD/ledger/ledger-tool" show --db "$RIG_LEDGER_DB" | jq -c 'select(.type == "usage") | .payload | (if type == "string" then fromjson else . end) | [.record_id, .used.data_mb, .used.voice_minutes, .used.sms]' \
  > "$W/usage.jsonl" || fail "ledger-tool show"
grep -qx "\[\"$REC1\",1200,12,4\]" "$W/usage.jsonl" || fail "first usage report: $(cat "$W/usage.jsonl")"
grep -qx '\[".*",800,30,10\]' "$W/usage.jsonl" || fail "second usage report: $(cat "$W/usage.jsonl")"
# HOME-B: 500 SDRt minted, 12 escrowed for the Request (the 6.24 SDRt of
# usage is held in it until the dispute window closes); VISITED-A: nothing yet.
"${HOME[@]}" balance > "$W/home.balance"
"${VISITED[@]}" balance > "$W/visited.balance"
cat "$W/home.balance" "$W/visited.balance"
grep -Eq '^HOME-B: 488(\.0+)? SDRt available, 12(\.0+)? SDRt in escrow$' "$W/home.balance" || fail "HOME-B's balance"
grep -Eq '^VISITED-A: 0(\.0+)? SDRt available, 0(\.0+)? SDRt in escrow$' "$W/visited.balance" || fail "VISITED-A's balance"
"$BUILD/agents/market" --ledger "$RIG_LEDGER_DB" verify > "$W/verify.out" 2>&1 || fail "market verify: $(cat "$W/verify.out")"

step "logs"
grep -q "$RID" "$RIG/visited-agent.log" || fail "visited-agent.log does not name $RID"
grep -q "$RID" "$RIG/home-agent.log" || fail "home-agent.log does not name $RID"
grep -qF "${AC#LPA:1}" "$RIG"/*.log && fail "a log holds the activation code"
[[ -z $(ls -A "$RIG_NETWORK_SPOOL/rejected" 2>/dev/null) ]] || fail "the visited agent rejected: $(ls "$RIG_NETWORK_SPOOL/rejected")"

rig_stop
if ((failures)); then
  rig_logs 25
  echo "FAILED: $failures"
  exit 1
fi
echo "PASS: the story rig: Offer, order, delivery, download, attach, usage on the ledger; refused attaches write nothing"
