#!/usr/bin/env bash
# End to end, DAP (GP 2.3.1 9.2.1): gp-card-sim over TCP with a security
# domain holding the Mandated DAP Verification privilege and an ECDSA P-256
# DAP key (made here by openssl); gpt loads a CAP from the test data without
# a DAP and with a stranger's key (both refused with 6A80, nothing listed),
# then installs it with the right key (listed). gpt -d traces the APDUs on
# stderr: the DAP block is in the first LOAD, the static keys are not there.
# Then KDF3: a card whose SCP03 key set openssl diversified from 40..4F with
# the simulator's KDD opens to `gpt --test-keys --key-kdf kdf3` and not without it.
#
#   gpt_dap_e2e.sh BUILD_DIR TESTDATA_DIR
# Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
BUILD=$(realpath "$1"); TESTDATA=$2
CAP=$TESTDATA/cap/helloworld.cap
[[ -f $CAP ]] || { echo "SKIP: $CAP absent"; exit 77; }
command -v openssl > /dev/null || { echo "SKIP: no openssl CLI"; exit 77; }
PKG=D0D1D2D3D4D501; APP=D0D1D2D3D4D50101; DAPSD=A000000151535041

source "$(dirname "$0")/../../scripts/lib.sh"
start_work
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

step "DAP keys (openssl, P-256) and gp-card-sim with a Mandated DAP SD"
for k in dap other; do
  openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/$k.pem" 2>/dev/null
  openssl ec -in "$WORK/$k.pem" -pubout -out "$WORK/$k-pub.pem" 2>/dev/null
done
"$BUILD/simulators/card_manager/gp-card-sim" --tcp 127.0.0.1:0 --dap-sd "$DAPSD" --dap-key "$WORK/dap-pub.pem" \
  --mandated-dap > "$WORK/sim.log" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q '^listening' "$WORK/sim.log" || fail "gp-card-sim did not start"
PORT=$(sed -n 's/^listening 127.0.0.1:\([0-9]*\)$/\1/p' "$WORK/sim.log")
GPT=("$BUILD/applet-tools/gpt" --tcp "127.0.0.1:$PORT" --test-keys --kvn 0x30)

"${GPT[@]}" --json list > "$WORK/list0.json" || fail "list"
grep -q "\"$DAPSD\"" "$WORK/list0.json" || fail "the DAP SD is not listed"

step "load without a DAP, and with a stranger's DAP key: 6A80, nothing kept"
if "${GPT[@]}" load "$CAP" 2> "$WORK/nodap.err"; then fail "load without the mandated DAP passed"; fi
grep -q 6A80 "$WORK/nodap.err" || fail "no DAP: $(cat "$WORK/nodap.err")"
if "${GPT[@]}" load "$CAP" --dap-key "$WORK/other.pem" --dap-domain "$DAPSD" 2> "$WORK/other.err"; then
  fail "a stranger's DAP passed"
fi
grep -q 6A80 "$WORK/other.err" || fail "wrong DAP key: $(cat "$WORK/other.err")"
"${GPT[@]}" --json list > "$WORK/list1.json"
if grep -q "\"$PKG\"" "$WORK/list1.json"; then fail "a refused load file is listed"; fi
if "${GPT[@]}" load "$CAP" --dap-domain "$DAPSD" 2> /dev/null; then fail "--dap-domain without --dap-key passed"; fi

step "install with the DAP (SHA-1 hash), traced with -d"
"${GPT[@]}" -d install "$CAP" --dap-key "$WORK/dap.pem" --dap-domain "$DAPSD" --dap-hash sha1 \
  > "$WORK/install.out" 2> "$WORK/trace.log" || fail "install with the DAP: $(tail -5 "$WORK/trace.log")"
"${GPT[@]}" --json list > "$WORK/list2.json"
grep -q "\"$PKG\"" "$WORK/list2.json" && grep -q "\"$APP\"" "$WORK/list2.json" || fail "the DAP-verified applet is not listed"
grep -q '^A>> ' "$WORK/trace.log" && grep -q '^A<< ' "$WORK/trace.log" || fail "no APDU trace"
# INSTALL [for load]: 20-byte hash after the SD AID; first LOAD: E2 {4F SD AID, C3 64-byte signature} then C4.
grep -Eq "^A>> 84 ?E6 ?02 ?00.*07 ?D0 ?D1 ?D2 ?D3 ?D4 ?D5 ?01 ?00 ?14" "$WORK/trace.log" || fail "INSTALL [for load] without the SHA-1 hash"
sed 's/ //g' "$WORK/trace.log" | grep -Eq "^A>>84E80000..E24C4F08${DAPSD}C340[0-9A-F]{128}C4" || fail "first LOAD does not start with the DAP block"
if sed 's/ //g' "$WORK/trace.log" | grep -qi 404142434445464748494A4B4C4D4E4F; then fail "a static key appears in the trace"; fi

step "KDF3: a card holding keys openssl diversified from 40..4F"
# KDD = the simulator's 01 02 .. 0A; key_k = AES-CMAC(master, 01 || 000000 || k || 00 || KDD).
KDD=0102030405060708090a; M=404142434445464748494a4b4c4d4e4f
kdf3() { echo -n "01000000${1}00$KDD" | xxd -r -p | openssl mac -cipher AES-128-CBC -macopt hexkey:$M CMAC | tr A-F a-f; }
ENC=$(kdf3 01); MAC=$(kdf3 02); DEK=$(kdf3 03)
[[ ${#ENC} == 32 && $ENC != "$MAC" ]] || fail "openssl KDF3: '$ENC' '$MAC'"
(umask 077 && cat > "$WORK/kdf3.json" <<JSON
{"auth_failures": 0, "scp02_counter": 0, "default_key_version": 48,
 "registry": [{"kind": "isd", "aid": "A000000151000000", "life_cycle": 15, "privileges": "9EFE80", "load_file": "",
               "module": "", "sd": "", "version": "", "modules": [], "imports": [], "params": ""}],
 "key_sets": [{"version": 48, "scp": 3, "enc": "$ENC", "mac": "$MAC", "dek": "$DEK", "sequence_counter": 0}]}
JSON
)
"$BUILD/simulators/card_manager/gp-card-sim" --tcp 127.0.0.1:0 --state "$WORK/kdf3.json" > "$WORK/sim2.log" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q '^listening' "$WORK/sim2.log" || fail "gp-card-sim (KDF3 card) did not start"
PORT2=$(sed -n 's/^listening 127.0.0.1:\([0-9]*\)$/\1/p' "$WORK/sim2.log")
GPT2=("$BUILD/applet-tools/gpt" --tcp "127.0.0.1:$PORT2" --test-keys --kvn 0x30)
"${GPT2[@]}" --key-kdf kdf3 list > /dev/null || fail "gpt --key-kdf kdf3 does not open the KDF3 card"
if "${GPT2[@]}" list 2> /dev/null; then fail "the undiversified master keys opened the KDF3 card"; fi
echo PASS
