#!/usr/bin/env bash
# `ota card`: the card store from the command line. Keys go in and never come
# out (show prints KCVs); build-packet takes the next counter from the store
# and gives the bytes `ota packet build` gives for that counter; a retry with
# the same command id gives the same bytes; two writers at once never share a
# counter; a storage key file others can read is refused.
set -euo pipefail
OTA="$1"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
fail() { echo "ota_card_cli: $*" >&2; exit 1; }
KIC=200102030405060708090a0b0c0d0e0f
KID=201102030405060708090a0b0c0d0e0f
ICCID=8949449999999990023
C=("$OTA" card --store "$DIR/ota.db" --storage-key-file "$DIR/key.hex")

"${C[@]}" new-storage-key
[[ $(stat -c %a "$DIR/key.hex") == 600 ]] || fail "storage key file is not 0600"
rc=0; "${C[@]}" new-storage-key 2>/dev/null || rc=$?
[[ $rc != 0 ]] || fail "new-storage-key overwrote an existing key"

printf '%s\n' "$KID" >"$DIR/kid.hex"; chmod 600 "$DIR/kid.hex"
"${C[@]}" add --iccid "$ICCID" --key-version 2 --cipher AES --kic-key "$KIC" --kid-key "@$DIR/kid.hex" \
  --tar B00011 --msl 16
rc=0; err=$("${C[@]}" add --iccid "$ICCID" 2>&1) || rc=$?
[[ $rc != 0 && $err == *"already in the store"* ]] || fail "duplicate card: rc $rc, $err"
rc=0; err=$("${C[@]}" show --iccid 8900000000000000001 2>&1) || rc=$?
[[ $rc != 0 && $err == *"no card 8900000000000000001"* ]] || fail "unknown card: rc $rc, $err"
# A wrong key length is refused before anything is written.
rc=0; err=$("${C[@]}" add --iccid 8900000000000000002 --key-version 1 --kic-key 0011 --kid-key "$KID" 2>&1) || rc=$?
[[ $rc != 0 ]] || fail "short key accepted"
[[ $("${C[@]}" list) == "$ICCID" ]] || fail "list: $("${C[@]}" list), a half-added card left behind?"

out=$("${C[@]}" show --iccid "$ICCID")
for line in "ICCID: $ICCID" "key set 2:" "  CNTR: 0000000000 (last used)" "TAR B00011: MSL 16, key set 2"; do
  grep -qxF -- "$line" <<<"$out" || fail "show: no line '$line' in: $out"
done
grep -qiE "$KIC|$KID" <<<"$out" && fail "show printed a key"
grep -q "KCV [0-9A-F]\{6\}" <<<"$out" || fail "show: no KCV in: $out"
for f in "$DIR"/ota.db*; do
  xxd -p "$f" | tr -d '\n' | grep -qi "$KIC" && fail "KIc in clear in $f"
done

# Packets 1 and 2 from the store are the packets `ota packet build` makes
# with CNTR 1 and 2 (KIc/KID 22: AES, key version 2).
SPI=1639
for n in 1 2; do
  got=$("${C[@]}" build-packet --iccid "$ICCID" --tar B00011 --spi $SPI --data 00a40004023f00)
  want=$("$OTA" packet build --spi $SPI --kic 22 --kid 22 --tar B00011 --cntr $n --kic-key $KIC --kid-key $KID \
    --data 00a40004023f00)
  [[ $got == "$want" ]] || fail "build-packet $n gave $got, want $want"
done
# A retry of one logical command: the same bytes, no counter taken.
a=$("${C[@]}" build-packet --iccid "$ICCID" --tar B00011 --data 00b0000001 --command-id job-1)
b=$("${C[@]}" build-packet --iccid "$ICCID" --tar B00011 --data 00b0000001 --command-id job-1)
[[ $a == "$b" ]] || fail "retry gave other bytes"
"$OTA" packet parse "$a" --kic-key $KIC --kid-key $KID | grep -qxF "CNTR: 0000000003" || fail "retry packet CNTR"
grep -qxF "  CNTR: 0000000003 (last used)" <<<"$("${C[@]}" show --iccid "$ICCID")" || fail "retry took a counter"
# Below the TAR's MSL (no ciphering): refused with the PoR code the card would give.
rc=0; err=$("${C[@]}" build-packet --iccid "$ICCID" --tar B00011 --spi 1200 --data 00 2>&1) || rc=$?
[[ $rc != 0 && $err == *"0A"* ]] || fail "below MSL: rc $rc, $err"

# Two writers at once: 2 x 15 packets, 30 different counters.
for w in 1 2; do
  (for _ in $(seq 15); do "${C[@]}" build-packet --iccid "$ICCID" --tar B00011 --data 00; done >"$DIR/w$w") &
done
wait
mapfile -t counters < <(cat "$DIR/w1" "$DIR/w2" | while read -r p; do
  "$OTA" packet parse "$p" --kic-key $KIC --kid-key $KID | sed -n 's/^CNTR: //p'; done | sort)
(( ${#counters[@]} == 30 )) || fail "two writers: ${#counters[@]} packets"
[[ -z $(printf '%s\n' "${counters[@]}" | uniq -d) ]] || fail "two writers shared a counter"

# The storage key file must be private; the wrong key does not open the keys.
chmod 644 "$DIR/key.hex"
rc=0; err=$("${C[@]}" list 2>&1) || rc=$?
[[ $rc != 0 && $err == *"chmod 600"* ]] || fail "0644 key file: rc $rc, $err"
chmod 600 "$DIR/key.hex"
head -c 64 /dev/zero | tr '\0' 1 >"$DIR/other.hex"; chmod 600 "$DIR/other.hex"
rc=0; err=$("$OTA" card --store "$DIR/ota.db" --storage-key-file "$DIR/other.hex" build-packet --iccid "$ICCID" \
  --tar B00011 --data 00 2>&1) || rc=$?
[[ $rc != 0 && $err == *"storage key"* ]] || fail "wrong storage key: rc $rc, $err"

"${C[@]}" delete --iccid "$ICCID"
[[ -z $("${C[@]}" list) ]] || fail "delete left the card"
echo "ota_card_cli: ok"
