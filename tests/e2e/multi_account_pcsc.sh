#!/usr/bin/env bash
# The marketplace story on a multi-account SIM through a real PC/SC stack
# (issue 10, must-show 1): pcscd with the vpcd driver (scripts/pcsc.sh),
# masim as the card in the virtual reader (its own process), and
# marketplace-demo --story multi-account --card-reader: Offer -> Request for
# the card's ICCID -> Accept with the sealed account -> home agent -> otad ->
# SMPP -> SMSC -> handset -> SCardTransmit -> the applet (PoR 00) -> SWITCH +
# REFRESH -> Milenage attach with the new IMSI -> Activation -> usage ->
# settlement (the demo checks each step and every balance to the unit, and
# exits 1 otherwise). Then the same story again over SCP81 on the same card
# (a push SMS to TAR 000000, masim's PSK-TLS admin session to otad; account
# 2). Then scriptor (pcsc-tools, an independent PC/SC client) reads EF.IMSI:
# the IMSI the SCP81 story attached with.
#
#   multi_account_pcsc.sh BUILD_DIR
# Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../../scripts/lib.sh"
source "$HERE/../../scripts/pcsc.sh"
[[ "${1:-}" == --inner ]] || pcsc_reexec_private "$0" "$@"
shift
BUILD=$(realpath "$1")
ICCID=8988211000000000024

start_work
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

step "pcscd with the vpcd driver"
pcsc_start || fail "pcscd/vpcd did not start"

step "masim as the card in '$PCSC_READER' (fresh OTA keys)"
pcsc_start_masim "$BUILD/simulators/multi_account/masim" "$ICCID" "$WORK/keys.json" ||
  fail "the card did not appear in $PCSC_READER"

step "the story through PC/SC, over SMS then over SCP81"
"$BUILD/agents/marketplace-demo" --story multi-account --card-reader "$PCSC_READER" --card-keys "$WORK/keys.json" \
  --card-iccid "$ICCID" --workdir "$WORK/demo" > "$WORK/story.out" 2> "$WORK/story.log" || {
  cat "$WORK/story.out"
  fail "marketplace-demo failed"
}
cat "$WORK/story.out"
grep -q "PC/SC reader '$PCSC_READER'" "$WORK/story.out" || fail "the story did not go through PC/SC"
grep -q "STORE ACCOUNT PoR 00, SWITCH ACCOUNT PoR 00" "$WORK/story.out" || fail "no PoR 00 for both commands"
grep -q "over SCP81: STORE ACCOUNT done, SWITCH ACCOUNT done" "$WORK/story.out" || fail "the SCP81 commands are not done"
[[ $(grep -c "Activation of REQ-" "$WORK/story.out") -ge 2 ]] || fail "not two Activations"
grep -q "MARKETPLACE STORY COMPLETE" "$WORK/story.out" || fail "the story did not complete"
IMSI=$(sed -n 's/.*attached as IMSI \([0-9]*\).*/\1/p' "$WORK/story.out" | tail -1)  # the SCP81 story's
[[ $IMSI == 20801* ]] || fail "no IMSI of the visited PLMN 20801 attached ($IMSI)"

step "scriptor: EF.IMSI is the allocated IMSI $IMSI"
printf '00 A4 04 0C 10 A0 00 00 00 87 10 02 FF FF FF FF 89 07 09 00 00\n00 A4 00 0C 02 6F 07\n00 B0 00 00 09\n' > "$WORK/imsi.apdu"
scriptor -r "$PCSC_READER" "$WORK/imsi.apdu" | tee "$WORK/imsi.out"
# EF.IMSI coding (TS 31.102 4.2.2): length 08, parity nibble 9 then the digits swapped in pairs.
want=$(printf '9%s' "$IMSI" | sed 's/\(.\)\(.\)/\2\1 /g; s/ $//' | tr 'a-f' 'A-F')
grep -A1 "^> 00 B0 00 00 09" "$WORK/imsi.out" | tail -1 | grep -q "^< 08 $want 90 00" ||
  fail "EF.IMSI is not $IMSI (expected 08 $want)"
grep -q '"active": 2' "$WORK/masim.json" || fail "the state file does not record account 2 as active"
grep -q "SCP81 admin session ended" "$WORK/masim.log" || fail "masim ran no SCP81 admin session"
echo "PASS: the multi-account story through pcscd + vpcd over SMS and over SCP81; IMSI $IMSI attached; balances settled"
