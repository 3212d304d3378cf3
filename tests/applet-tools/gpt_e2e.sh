#!/usr/bin/env bash
# End to end: the gpt CLI against the simulated card manager (gp-card-sim),
# over TCP, or through pcscd + vpcd ("pcsc": in a private mount namespace,
# as tests/e2e/pcsc_download.sh does). With SCP03 (KVN 30) and then SCP02
# (KVN 20): list, install a CAP from the test data, select it, lock and
# unlock it, DELETE refused while it has an instance, delete it with its
# related objects, put a new key set, open with it, and the old keys refused.
#
#   gpt_e2e.sh BUILD_DIR TESTDATA_DIR tcp|pcsc
# Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
INNER=0
if [[ "${1:-}" == --inner ]]; then INNER=1; shift; fi
MODE=${3:-tcp}
if [[ $MODE == pcsc && $INNER == 0 ]]; then
  if [[ $EUID -ne 0 ]] || ! command -v unshare >/dev/null || ! command -v pcscd >/dev/null ||
     [[ ! -f /usr/lib/pcsc/drivers/serial/libifdvpcd.so ]]; then
    echo "SKIP: needs root, unshare, pcscd and vsmartcard-vpcd"
    exit 77
  fi
  exec unshare --mount --propagation private bash "$0" --inner "$@"
fi
BUILD=$(realpath "$1"); TESTDATA=$2
CAP=$TESTDATA/cap/helloworld.cap
[[ -f $CAP ]] || { echo "SKIP: $CAP absent"; exit 77; }
PKG=D0D1D2D3D4D501; APP=D0D1D2D3D4D50101

source "$(dirname "$0")/../../scripts/lib.sh"
start_work
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }
SIM=("$BUILD/simulators/card_manager/gp-card-sim" --state "$WORK/card.json")

if [[ $MODE == pcsc ]]; then
  step "pcscd with the vpcd driver, gp-card-sim as the card"
  VPCD_PORT=$(free_port)
  mkdir -p /run/pcscd "$WORK/reader.conf.d"
  mount -t tmpfs tmpfs /run/pcscd
  printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x%X\nLIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID 0x%X\n' \
    "$VPCD_PORT" "$VPCD_PORT" > "$WORK/reader.conf.d/vpcd"
  pcscd -f -c "$WORK/reader.conf.d" > "$WORK/pcscd.log" 2>&1 &
  PIDS+=($!)
  wait_for 10 test -S /run/pcscd/pcscd.comm || fail "pcscd did not start"
  wait_for 10 bash -c "(exec 3<>/dev/tcp/127.0.0.1/$VPCD_PORT)" || fail "vpcd is not listening on $VPCD_PORT"
  "${SIM[@]}" --vpcd "127.0.0.1:$VPCD_PORT" > "$WORK/sim.log" 2>&1 &
  PIDS+=($!)
  LINK=(--reader "Virtual PCD 00 00")
  wait_for 15 "$BUILD/applet-tools/gpt" "${LINK[@]}" info || fail "the card did not appear"
else
  step "gp-card-sim on TCP (loopback, port chosen by the kernel)"
  "${SIM[@]}" --tcp 127.0.0.1:0 > "$WORK/sim.log" 2>&1 &
  PIDS+=($!)
  wait_for 10 grep -q '^listening' "$WORK/sim.log" || fail "gp-card-sim did not start"
  PORT=$(sed -n 's/^listening 127.0.0.1:\([0-9]*\)$/\1/p' "$WORK/sim.log")
  LINK=(--tcp "127.0.0.1:$PORT")
fi
GPT=("$BUILD/applet-tools/gpt" "${LINK[@]}")

for KVN in 30 20; do
  SCP=3; [[ $KVN == 20 ]] && SCP=2
  K=(--test-keys --kvn "0x$KVN" --scp "$SCP")
  LEVEL=all; [[ $SCP == 2 ]] && LEVEL=enc+rmac
  step "SCP0$SCP (KVN $KVN, level $LEVEL): list"
  "${GPT[@]}" "${K[@]}" --level "$LEVEL" --json list > "$WORK/list0.json" || fail "list"
  grep -q '"A000000151000000"' "$WORK/list0.json" || fail "ISD not listed"
  step "install $CAP"
  "${GPT[@]}" "${K[@]}" --level "$LEVEL" install "$CAP" || fail "install"
  "${GPT[@]}" "${K[@]}" --json list > "$WORK/list1.json"
  grep -q "\"$APP\"" "$WORK/list1.json" && grep -q "\"$PKG\"" "$WORK/list1.json" || fail "installed applet not listed"
  step "select, lock, unlock"
  "${GPT[@]}" select "$APP" || fail "select of the new applet"
  "${GPT[@]}" "${K[@]}" lock "$APP" || fail "lock"
  if "${GPT[@]}" select "$APP" > "$WORK/sel.out"; then fail "a locked applet answered SELECT"; fi
  grep -q 6999 "$WORK/sel.out" || fail "locked select: $(cat "$WORK/sel.out")"
  "${GPT[@]}" "${K[@]}" unlock "$APP" || fail "unlock"
  "${GPT[@]}" select "$APP" || fail "select after unlock"
  step "delete: refused with an instance, then with related objects"
  if "${GPT[@]}" "${K[@]}" delete "$PKG" 2> "$WORK/del.err"; then fail "DELETE of a load file with an instance passed"; fi
  grep -q "6985" "$WORK/del.err" || fail "DELETE error does not name 6985: $(cat "$WORK/del.err")"
  "${GPT[@]}" "${K[@]}" --level "$LEVEL" delete -f "$PKG" || fail "delete -f"
  "${GPT[@]}" "${K[@]}" --json list > "$WORK/list2.json"
  if grep -q "\"$PKG\"" "$WORK/list2.json"; then fail "load file still listed"; fi
  step "put a new key set, open with it, old keys refused"
  NEW=000102030405060708090A0B0C0D0E0F; NEWKVN=$((16#$KVN + 1))
  "${GPT[@]}" "${K[@]}" --level "$LEVEL" put-key --replace --new-key "$NEW" --new-kvn "$NEWKVN" || fail "put-key"
  "${GPT[@]}" --key "$NEW" --kvn "$NEWKVN" --scp "$SCP" list > /dev/null || fail "new keys do not open the channel"
  if "${GPT[@]}" "${K[@]}" list 2> "$WORK/old.err"; then fail "old key version still opens"; fi
  grep -q 6A88 "$WORK/old.err" || fail "old KVN: $(cat "$WORK/old.err")"
  if "${GPT[@]}" --test-keys --kvn "$NEWKVN" list 2> "$WORK/oldval.err"; then fail "old key values open the new key set"; fi
done
step "store-data, lock-card / unlock-card, raw APDUs"
K=(--key 000102030405060708090A0B0C0D0E0F --kvn 0x31 --scp 3)
"${GPT[@]}" "${K[@]}" store-data "$(printf '%0600d' 0)" || fail "store-data"
"${GPT[@]}" "${K[@]}" lock-card || fail "lock-card"
if "${GPT[@]}" "${K[@]}" install "$CAP" 2> "$WORK/locked.err"; then fail "install on a locked card passed"; fi
"${GPT[@]}" "${K[@]}" unlock-card || fail "unlock-card"
"${GPT[@]}" --json apdu 00A4040008A00000015100000000 80CA006600 > "$WORK/apdu.json" || fail "apdu"
[[ $(grep -c '"sw": "9000"' "$WORK/apdu.json") == 2 ]] || fail "raw APDUs: $(cat "$WORK/apdu.json")"
"${GPT[@]}" "${K[@]}" --json apdu --secure 80F28002024F0000 > "$WORK/sapdu.json" || fail "apdu --secure"
grep -q '"sw": "9000"' "$WORK/sapdu.json" || fail "secure GET STATUS: $(cat "$WORK/sapdu.json")"
if "${GPT[@]}" --json apdu 80F28002024F0000 > "$WORK/plain.json"; then :; fi
grep -q '"sw": "6982"' "$WORK/plain.json" || fail "plain GET STATUS was not refused: $(cat "$WORK/plain.json")"

step "gp-card-sim --stdio answers SELECT of the ISD"
printf 'reset\n00A4040008A00000015100000000\n' | "$BUILD/simulators/card_manager/gp-card-sim" --stdio > "$WORK/stdio.out" ||
  fail "gp-card-sim --stdio"
tail -1 "$WORK/stdio.out" | grep -q '^6F.*9000$' || fail "stdio SELECT: $(cat "$WORK/stdio.out")"
step "gpt refuses to guess keys"
if "${GPT[@]}" list 2> "$WORK/nokeys.err"; then fail "list without keys passed"; fi
grep -q -- --test-keys "$WORK/nokeys.err" || fail "no hint about --test-keys"
echo PASS
