#!/usr/bin/env bash
# `ota script` and `ota card send` end to end: a store made with `ota card`,
# a command script built with `ota script build`, sent over SMPP to the
# simulated SMSC -> handset -> card library (sms_rig, a test double), the
# PoR printed with its R-APDUs; a replay (same --command-id) answered 02.
#   ota_sms_cli.sh OTA_BINARY SMS_RIG_BINARY
set -euo pipefail
OTA="$1"
RIG="$2"
dir=$(mktemp -d)
rig_pid=""
cleanup() {
  [[ -n "$rig_pid" ]] && kill "$rig_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

KIC=200102030405060708090a0b0c0d0e0f
KID=201102030405060708090a0b0c0d0e0f
ICCID=8949449999999990023
MSISDN=447700900123

# ota script: the hand-assembled vectors of TS 102 226 (command_script_test.cpp)
got=$("$OTA" script build 00A40004022FE2 00B000000A)
[[ "$got" == "AA102207""00A40004022FE2""2205""00B000000A" ]] || fail "script build: $got"
got=$("$OTA" script build --compact 00A40004022FE2 00B000000A)
[[ "$got" == "00A40004022FE200B000000A" ]] || fail "script build --compact: $got"
out=$("$OTA" script parse-response AB0D800102230290002304AABB9000)
grep -q "^executed: 2$" <<<"$out" || fail "parse-response: $out"
grep -q "^R-APDU: AABB9000$" <<<"$out" || fail "parse-response: $out"

# the card store
key="$dir/key.hex"
"$OTA" card --store "$dir/ota.db" --storage-key-file "$key" new-storage-key
"$OTA" card --store "$dir/ota.db" --storage-key-file "$key" add --iccid $ICCID --key-version 1 \
  --cipher AES --kic-key $KIC --checksum AES --kid-key $KID --tar B00010 --msl 16
printf 'secret\n' > "$dir/smpp.pw"
chmod 600 "$dir/smpp.pw"

# the rig: its port on its first line; it lives until its stdin closes
fifo="$dir/rig.in"
mkfifo "$fifo"
"$RIG" $MSISDN $KIC $KID < "$fifo" > "$dir/rig.out" 2>&1 &
rig_pid=$!
exec {keep}> "$fifo"
for _ in $(seq 1 100); do [[ -s "$dir/rig.out" ]] && break; sleep 0.05; done
port=$(head -1 "$dir/rig.out")
[[ "$port" =~ ^[0-9]+$ ]] || fail "rig did not start: $(cat "$dir/rig.out")"

send() {
  "$OTA" card --store "$dir/ota.db" --storage-key-file "$key" send --smpp 127.0.0.1:$port --system-id ota \
    --password-file "$dir/smpp.pw" --iccid $ICCID --msisdn $MSISDN --tar B00010 --timeout "${TIMEOUT:-10}" "$@"
}
script=$("$OTA" script build 00A40004022FE2 00B000000A)
out=$(send --data "$script" --command-id job-1) || fail "send: $out"
grep -q "^PoR: 00 (PoR OK)$" <<<"$out" || fail "no PoR 00: $out"
grep -q "^R-APDU: 989420000000000000019000$" <<<"$out" || fail "no EF ICCID in the PoR: $out"
grep -q "^CNTR: 0000000001$" <<<"$out" || fail "CNTR: $out"
# the same command id: the same packet again, the card answers CNTR low
set +e
out=$(send --data "$script" --command-id job-1)
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "replay exit $rc: $out"
grep -q "^PoR: 02 (CNTR low)$" <<<"$out" || fail "replay not answered 02: $out"
# a new command goes with the next counter
out=$(send --data "$script") || fail "send 2: $out"
grep -q "^CNTR: 0000000002$" <<<"$out" || fail "CNTR 2: $out"
# a wrong SMPP password: no bind, a clear error
printf 'wrong\n' > "$dir/smpp.pw"
set +e
out=$(TIMEOUT=1 send --data "$script" 2>&1)
rc=$?
set -e
[[ $rc -ne 0 ]] && grep -q "no SMPP bind" <<<"$out" || fail "wrong password: rc $rc: $out"
exec {keep}>&-
wait "$rig_pid" || true
rig_pid=""
echo OK
