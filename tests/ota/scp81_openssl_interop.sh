#!/usr/bin/env bash
# SCP81's PSK-TLS against an independent client (issue 10): the OTA server's
# admin server (scp81_rig, OpenSSL server side) answered by `openssl
# s_client -psk -tls1_2` with each TLS 1.2 PSK suite GlobalPlatform
# Amendment B uses: the card's first POST gets 200, the command script's
# media type, X-Admin-Next-URI and the script itself. A wrong key and TLS 1.3
# get no HTTP answer at all.
#
#   scp81_openssl_interop.sh path/to/scp81_rig
set -u
RIG=${1:?usage: scp81_openssl_interop.sh SCP81_RIG}
ID=scp81-interop-id
KEY=00112233445566778899aabbccddeeff
DIR=$(mktemp -d)
"$RIG" "$DIR/port" "$ID" "$KEY" 60 >"$DIR/rig.log" 2>&1 &
RIG_PID=$!
cleanup() { kill "$RIG_PID" 2>/dev/null; wait "$RIG_PID" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
for _ in $(seq 1 100); do [ -s "$DIR/port" ] && break; sleep 0.05; done
PORT=$(cat "$DIR/port" 2>/dev/null)
[ -n "$PORT" ] || { echo "FAIL: the rig did not start"; cat "$DIR/rig.log"; exit 1; }

REQUEST=$'POST /gp/admin HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Admin-Protocol: globalplatform-remote-admin/1.0\r\nX-Admin-From: //se-id/iccid/89014103211118510720\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
# The script the rig sends: AA 09 { 22 07 SELECT MF 00A4000C023F00 }.
SCRIPT_HEX=aa09220700a4000c023f00

fail=0
client() {  # suite key [extra s_client options] -> server's answer on stdout
  local suite=$1 key=$2; shift 2
  printf '%s' "$REQUEST" | timeout 15 openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -cipher "$suite" \
    -psk "$key" -psk_identity "$ID" -quiet "$@" 2>"$DIR/err"
}

for suite in PSK-AES128-GCM-SHA256 PSK-AES128-CBC-SHA256 PSK-AES128-CCM; do
  client "$suite" "$KEY" >"$DIR/out"
  hex=$(od -An -v -tx1 "$DIR/out" | tr -d ' \n')
  if grep -q $'^HTTP/1.1 200' "$DIR/out" &&
     grep -qi '^Content-Type: application/vnd.globalplatform.card-content-mgt;version=1.0' "$DIR/out" &&
     grep -qi '^X-Admin-Next-URI: /gp/admin/[0-9a-f]*/1' "$DIR/out" &&
     grep -qi '^X-Admin-Protocol: globalplatform-remote-admin/1.0' "$DIR/out" &&
     [[ $hex == *"$SCRIPT_HEX" ]]; then
    echo "ok: $suite"
  else
    echo "FAIL: $suite"; head -c 600 "$DIR/out"; cat "$DIR/err"; fail=1
  fi
done

# Wrong key: the handshake fails (bad record MAC / decrypt error), no HTTP.
client PSK-AES128-GCM-SHA256 ffeeddccbbaa99887766554433221100 >"$DIR/out"
if grep -q 'HTTP/1.1' "$DIR/out"; then echo "FAIL: wrong PSK got an HTTP answer"; fail=1; else echo "ok: wrong PSK refused"; fi

# Unknown identity.
printf '%s' "$REQUEST" | timeout 15 openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -cipher PSK-AES128-GCM-SHA256 \
  -psk "$KEY" -psk_identity nobody -quiet >"$DIR/out" 2>"$DIR/err"
if grep -q 'HTTP/1.1' "$DIR/out"; then echo "FAIL: unknown identity got an HTTP answer"; fail=1; else echo "ok: unknown identity refused"; fi

# TLS 1.3 is not offered (Amendment B's PSK suites are TLS 1.2's).
printf '%s' "$REQUEST" | timeout 15 openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 \
  -psk "$KEY" -psk_identity "$ID" -quiet >"$DIR/out" 2>"$DIR/err"
if grep -q 'HTTP/1.1' "$DIR/out"; then echo "FAIL: TLS 1.3 got an HTTP answer"; fail=1; else echo "ok: TLS 1.3 refused"; fi

exit $fail
