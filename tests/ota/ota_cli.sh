#!/usr/bin/env bash
# The `ota packet` tool against pySim's published SJA5 AES-128 vectors
# (osmocom/pysim tests/test_ota.py): build gives the same bytes, parse and
# parse-por print every field by name, and a broken packet exits non-zero
# with its PoR status; `ota sms` wraps and unwraps SMS-DELIVERs.
set -euo pipefail
OTA="$1"
KEYS=(--kic-key 200102030405060708090a0b0c0d0e0f --kid-key 201102030405060708090a0b0c0d0e0f)
CMD=00281506192222B00011E87CCEEBB2D93083011CE294F93FC4D8DE80DA1ABAE8C37CA3E72EC4432E5058
POR=027100002412b00011ebc6b497e2cad7aedf36ace0e3a29b38853f0fe9ccde81913be5702b73abce1f
fail() { echo "ota_cli: $*" >&2; exit 1; }

got=$("$OTA" packet build --spi 0619 --kic 22 --kid 22 --tar B00011 --cntr 0 "${KEYS[@]}" --data 00a40004023f00)
[[ $got == "$CMD" ]] || fail "build gave $got"

out=$("$OTA" packet parse "$CMD" "${KEYS[@]}")
for line in "CPL: 0028 (40)" "CHL: 15 (21)" "SPI: 0619" "  ciphering: yes" "  PoR ciphered: yes" \
  "KIc: 22 (AES, key version 2)" "TAR: B00011" "CNTR: 0000000000" "PCNTR: 0B (11)" \
  "secured data: 00A40004023F00"; do
  grep -qxF -- "$line" <<<"$out" || fail "parse: no line '$line' in: $out"
done
grep -q "^CC: .* (verified)$" <<<"$out" || fail "parse: CC not verified"

out=$("$OTA" packet parse-por "$POR" --spi 0619 --kic 22 --kid 22 --tar B00011 "${KEYS[@]}")
grep -qxF "status: 00 (PoR OK)" <<<"$out" || fail "parse-por: $out"
grep -qxF "additional data: 016132" <<<"$out" || fail "parse-por: $out"

# A changed ciphertext byte: RC/CC/DS failed, exit 2.
rc=0; err=$("$OTA" packet parse "${CMD%??}59" "${KEYS[@]}" 2>&1) || rc=$?
[[ $rc == 2 && $err == *"PoR status 01 (RC/CC/DS failed)"* ]] || fail "tampered packet: rc $rc, $err"
# One byte short: truncated, 06.
rc=0; err=$("$OTA" packet parse "${CMD%??}" "${KEYS[@]}" 2>&1) || rc=$?
[[ $rc == 2 && $err == *"(Unidentified security error): command packet truncated"* ]] || fail "truncated: rc $rc, $err"
# SMS-DELIVER: pySim's TPDU (with TP-UDL 25, see sms_deliver_test.cpp), and a
# long packet in three concatenated SMS back to itself.
got=$("$OTA" sms wrap "$CMD" --oa 12345678 --scts 22705200000000)
[[ $got == 400881214365877FF6227052000000002D027000${CMD} ]] || fail "sms wrap gave $got"
LONG=$(printf '%0600d' 0)
mapfile -t parts < <("$OTA" sms wrap "$LONG" --ref 300 --ref16)
(( ${#parts[@]} == 3 )) || fail "sms wrap of 300 bytes gave ${#parts[@]} TPDUs"
got=$("$OTA" sms unwrap "${parts[2]}" "${parts[0]}" "${parts[1]}")
[[ $got == "$LONG" ]] || fail "sms unwrap gave $got"
rc=0; err=$("$OTA" sms unwrap "${parts[0]}" "${parts[1]}" 2>&1) || rc=$?
[[ $rc == 2 && $err == *"incomplete"* ]] || fail "incomplete: rc $rc, $err"
echo "ota_cli: ok"
