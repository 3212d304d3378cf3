#!/usr/bin/env bash
# masim on stdio and TCP, and `masim dump`: the ATR, the applet's FCI,
# EF.ICCID, the file tree, a state file that keeps the OTA keys out of argv.
# With GPT_BINARY: gpt over TCP lists the card manager's content (ISD, the
# multi-account applet and its load file) with SCP03 and SCP02.
#   masim_cli.sh MASIM_BINARY [GPT_BINARY]
set -euo pipefail
MASIM=$1
GPT=${2:-}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$(printf 'reset\n00A4040007F05253504D410100\n00A40004022FE200\n00B000000A\nzz\n' |
      "$MASIM" --stdio --iccid 8988211000000000016 --log-level off)
echo "$out"
mapfile -t lines <<< "$out"
[[ ${lines[0]} == 3B9F96811FC78031E073FE211B633A204E83009000* ]] || fail "ATR ${lines[0]}"
[[ ${lines[1]} == 6F118407F05253504D4101A5068001088101009000 ]] || fail "applet FCI ${lines[1]}"
[[ ${lines[3]} == 988812010000000010F69000 ]] || fail "EF.ICCID ${lines[3]}"
[[ ${lines[4]} == 6700 ]] || fail "non-hex line answered ${lines[4]}"

"$MASIM" dump --log-level off > "$WORK/tree.txt"
grep -q '^7FF0/6F07 transparent size=9 sfi=07' "$WORK/tree.txt" || fail "dump has no EF.IMSI"
grep -q '^3F00/2FE2 transparent size=10 sfi=02' "$WORK/tree.txt" || fail "dump has no EF.ICCID"

# A state file with a state key: Ki/OPc never in clear; a wrong key refuses to start.
(umask 077 && printf '{"state_key":"%s","key_sets":[{"version":1,"algorithm":"aes","kic":"%s","kid":"%s"}]}' \
  "$(printf '11%.0s' {1..32})" 200102030405060708090a0b0c0d0e0f 201102030405060708090a0b0c0d0e0f > "$WORK/keys.json")
# STORE ACCOUNT (id 1, IMSI 001010000000002, Ki 46..., OPc cd...) over stdio, then SWITCH.
store="80 1A 00 00 34 A0 32 80 01 01 81 09 08 09 10 10 00 00 00 00 20 82 10 46 5b 5c e8 b1 99 b4 9f aa 5f 0a 2e e2 38 a6 bc 83 10 cd 63 cb 71 95 4a 9f 4e 48 a5 99 4e 37 a0 2b af"
printf 'reset\n00A4040007F05253504D410100\n%s\n803A010000\n' "$(echo "$store" | tr -d ' ')" |
  "$MASIM" --stdio --state "$WORK/state.json" --keys "$WORK/keys.json" --log-level off > "$WORK/store.out"
cat "$WORK/store.out"
[[ $(sed -n 3p "$WORK/store.out") == 9000 ]] || fail "STORE ACCOUNT"
[[ $(sed -n 4p "$WORK/store.out") == 91* ]] || fail "SWITCH did not announce the REFRESH"
grep -q '"sealed"' "$WORK/state.json" || fail "keys not sealed"
! grep -qi '465b5ce8b199b49f' "$WORK/state.json" || fail "Ki in clear in the state file"
printf '{"state_key":"%s"}' "$(printf '22%.0s' {1..32})" > "$WORK/wrong.json"
if "$MASIM" dump --state "$WORK/state.json" --keys "$WORK/wrong.json" --log-level off > /dev/null 2>&1; then
  fail "a wrong state key was accepted"
fi
# The TCP server prints the port it bound.
"$MASIM" --tcp 127.0.0.1:0 --log-level off > "$WORK/tcp.out" &
pid=$!
for _ in $(seq 50); do grep -q listening "$WORK/tcp.out" && break; sleep 0.1; done
grep -q '^listening 127.0.0.1:[1-9]' "$WORK/tcp.out" || { kill "$pid"; fail "no listening line"; }
if [[ -n "$GPT" ]]; then
  port=$(sed -n 's/^listening 127.0.0.1:\([0-9]*\)$/\1/p' "$WORK/tcp.out")
  for k in "0x30 3 all" "0x20 2 enc+rmac"; do
    read -r kvn scp level <<< "$k"
    timeout 30 "$GPT" --tcp "127.0.0.1:$port" --test-keys --kvn "$kvn" --scp "$scp" --level "$level" --json list \
      > "$WORK/list.json" || { kill "$pid"; fail "gpt list (SCP0$scp)"; }
    for aid in A000000151000000 F05253504D4101 F05253504D41; do
      grep -q "\"$aid\"" "$WORK/list.json" || { kill "$pid"; fail "gpt list (SCP0$scp): $aid missing"; }
    done
  done
fi
kill "$pid"; wait "$pid" 2>/dev/null || true
echo "PASS: masim stdio, dump, sealed state, tcp${GPT:+, gpt list over tcp}"
