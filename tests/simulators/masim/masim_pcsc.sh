#!/usr/bin/env bash
# The multi-account UICC through a real PC/SC stack (issue 10): pcscd with
# the vpcd driver (scripts/pcsc.sh), masim as the card in the virtual
# reader, scriptor (pcsc-tools, an independent PC/SC client) selecting the
# applet and reading EF.IMSI, then masim_pcsc_tests: OTA over SMPP -> SMSC ->
# handset -> PC/SC -> the card.
#
#   masim_pcsc.sh BUILD_DIR [--ram]
# --ram (issue 11): masim starts with the applet's load file only
# (--no-applet-instance): SELECT of the applet answers 6A 82, and the test
# first sends INSTALL [for install] to the ISD's RAM TAR 000000 over SMS
# (STORE ACCOUNT before it gets PoR 09), then the story as above.
# Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../../../scripts/lib.sh"
source "$HERE/../../../scripts/pcsc.sh"
[[ "${1:-}" == --inner ]] || pcsc_reexec_private "$0" "$@"
shift
BUILD=$(realpath "$1")
RAM=0
MASIM_EXTRA=()
if [[ "${2:-}" == --ram ]]; then RAM=1; MASIM_EXTRA=(--no-applet-instance); fi

start_work
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

step "pcscd with the vpcd driver"
pcsc_start || fail "pcscd/vpcd did not start"

step "masim as the card in '$PCSC_READER'"
# The same keys as masim_pcsc_test.cpp (test values, never real ones).
(umask 077 && cat > "$WORK/keys.json" <<JSON
{ "state_key": "$(head -c 32 /dev/urandom | od -An -tx1 -v | tr -d ' \n')",
  "key_sets": [ { "version": 1, "algorithm": "aes",
                  "kic": "200102030405060708090a0b0c0d0e0f", "kid": "201102030405060708090a0b0c0d0e0f" } ] }
JSON
)
"$BUILD/simulators/multi_account/masim" --iccid 8988211000000000016 --state "$WORK/masim.json" --keys "$WORK/keys.json" \
  --vpcd "127.0.0.1:$VPCD_PORT" "${MASIM_EXTRA[@]}" > "$WORK/masim.log" 2>&1 &
PIDS+=($!)
printf '00 A4 04 00 07 F0 52 53 50 4D 41 01 00\n' > "$WORK/applet.apdu"
wait_for 15 scriptor -r "$PCSC_READER" "$WORK/applet.apdu" || fail "the card did not appear in $PCSC_READER"

step "scriptor: the applet's FCI, EF.IMSI before any account"
scriptor -r "$PCSC_READER" "$WORK/applet.apdu" | tee "$WORK/applet.out"
if [[ $RAM == 1 ]]; then
  grep -A2 "^> 00 A4 04 00 07" "$WORK/applet.out" | grep -q "^< 6A 82" ||
    fail "SELECT of the applet found an instance before any INSTALL"
else
  grep -A2 "^> 00 A4 04 00 07" "$WORK/applet.out" | grep -q "^< 6F 11 84 07 F0 52 53 50 4D 41 01" ||
    fail "SELECT of the applet did not answer its FCI"
fi
printf '00 A4 04 0C 10 A0 00 00 00 87 10 02 FF FF FF FF 89 07 09 00 00\n00 A4 00 0C 02 6F 07\n00 B0 00 00 09\n' > "$WORK/imsi.apdu"
scriptor -r "$PCSC_READER" "$WORK/imsi.apdu" | tee "$WORK/imsi.out"
grep -A1 "^> 00 B0 00 00 09" "$WORK/imsi.out" | tail -1 | grep -q "^< 08 09 10 10 00 00 00 00 10 90 00 : Normal processing" ||
  fail "EF.IMSI is not the factory IMSI 001010000000001"

step "OTA over SMS to the card through PC/SC"
MASIM_PCSC_RAM=$RAM MASIM_PCSC_READER="$PCSC_READER" "$BUILD/tests/simulators/masim/masim_pcsc_tests" || fail "masim_pcsc_tests failed"

if [[ $RAM == 1 ]]; then
  step "scriptor: the applet's FCI now that the INSTALL made it"
  scriptor -r "$PCSC_READER" "$WORK/applet.apdu" | tee "$WORK/applet2.out"
  grep -A2 "^> 00 A4 04 00 07" "$WORK/applet2.out" | grep -q "^< 6F 11 84 07 F0 52 53 50 4D 41 01" ||
    fail "SELECT of the applet did not answer its FCI after the INSTALL"
fi

step "scriptor: EF.IMSI after the switch"
scriptor -r "$PCSC_READER" "$WORK/imsi.apdu" | tee "$WORK/imsi2.out"
grep -A1 "^> 00 B0 00 00 09" "$WORK/imsi2.out" | tail -1 | grep -q "^< 08 39 01 51 10 32 54 76 98 90 00 : Normal processing" ||
  fail "EF.IMSI is not 310150123456789 after the switch"
grep -q '"active": 1' "$WORK/masim.json" || fail "the state file does not record account 1 as active"
echo "PASS: masim through PC/SC, account stored and switched over SMS, IMSI 310150123456789"
