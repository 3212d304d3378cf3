#!/usr/bin/env bash
# End to end through a real PC/SC stack: pcscd with the vpcd driver (in a
# private mount namespace, so it never touches the machine's /run/pcscd),
# euicc-sim as the card behind "Virtual PCD 00 00", smdpd on loopback, the
# lpa CLI talking to the card through PC/SC, and scriptor (pcsc-tools, an
# independent PC/SC client) reading EF IMSI after the profile is enabled.
#
#   pcsc_download.sh BUILD_DIR TESTDATA_DIR nist|brp
# Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail

# pcscd + vpcd in a private mount namespace: scripts/pcsc.sh.
source "$(dirname "$0")/../../scripts/pcsc.sh"
[[ "${1:-}" == --inner ]] || pcsc_reexec_private "$0" "$@"
shift
BUILD=$(realpath "$1"); TESTDATA=$2; CURVE=${3:-nist}
PROFILE=$TESTDATA/ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der
[[ -f $PROFILE ]] || { echo "SKIP: TS.48 test profiles absent"; exit 77; }
SUFFIX=NIST; [[ $CURVE == brp ]] && SUFFIX=BRP
READER="Virtual PCD 00 00"

source "$(dirname "$0")/../../scripts/lib.sh"
start_work
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

step "test PKI ($CURVE)"
"$BUILD/certs/rsp-certs" generate --out "$WORK/pki" --curve "$CURVE" --dp-host localhost >/dev/null
TLS_CA=$WORK/pki/CERT_CI_ECDSA_NIST.pem  # the TLS certificate is always P-256 under the NIST CI

step "pcscd with the vpcd driver"
pcsc_start || fail "pcscd with vpcd did not start"

step "eUICC simulator as the card in '$READER'"
"$BUILD/simulators/euicc-sim" --cert "$WORK/pki/CERT_EUICC_ECDSA_$SUFFIX.der" --key "$WORK/pki/SK_EUICC_ECDSA_$SUFFIX.pem" \
  --eum "$WORK/pki/CERT_EUM_ECDSA_$SUFFIX.der" --ci "$WORK/pki/CERT_CI_ECDSA_$SUFFIX.der" \
  --state "$WORK/euicc-state.json" --vpcd "127.0.0.1:$VPCD_PORT" > "$WORK/euicc-sim.log" 2>&1 &
PIDS+=($!)
LPA=("$BUILD/lpa/lpa" --reader "$READER" --ca "$TLS_CA")
wait_for 15 "${LPA[@]}" chip info || fail "the card did not appear in $READER"
"${LPA[@]}" chip info

step "SM-DP+ on loopback"
SMDP_PORT=$(free_port)
write_smdp_config "$WORK" "$SMDP_PORT" "$SUFFIX"
SMDPD=("$BUILD/smdp/smdpd" --config "$WORK/smdp.json")
"${SMDPD[@]}" stage --upp "$PROFILE" --matching-id "PCSC-$CURVE" | tee "$WORK/stage.out"
ICCID=$(sed -n 's/^staged ICCID \([0-9]*\).*/\1/p' "$WORK/stage.out")
"${SMDPD[@]}" serve --port-file "$WORK/smdp.port" > "$WORK/smdpd.log" 2>&1 &
PIDS+=($!)
wait_for 10 test -s "$WORK/smdp.port" || fail "smdpd did not start"

step "download through PC/SC"
"${LPA[@]}" profile download -y --ac "LPA:1\$localhost:$SMDP_PORT\$PCSC-$CURVE" || fail "download failed"
"${LPA[@]}" --json profile list | tee "$WORK/profiles.json"
grep -q "$ICCID" "$WORK/profiles.json" || fail "ICCID $ICCID not installed"

step "enable, then read EF IMSI with scriptor, as a handset would"
"${LPA[@]}" profile enable "$ICCID" || fail "enable failed"
# EF DIR (2F00) names the USIM application: READ RECORD 1 gives 61 L 4F L <AID> ...
printf '00 A4 00 04 02 2F 00\n00 B2 01 04 00\n' > "$WORK/dir.apdu"
scriptor -r "$READER" "$WORK/dir.apdu" | tee "$WORK/dir.out"
RECORD=$(grep -A1 "^> 00 B2 01 04 00" "$WORK/dir.out" | tail -1 | sed 's/^< //; s/ : .*//')
read -r -a REC <<< "$RECORD"
[[ ${REC[0]:-} == 61 && ${REC[2]:-} == 4F ]] || fail "EF DIR record 1 is not an application template: $RECORD"
AID_LEN=$((16#${REC[3]}))
AID="${REC[*]:4:$AID_LEN}"
echo "USIM AID $AID"
# SELECT the USIM by AID, EF IMSI (6F07) under it, READ BINARY 9 bytes.
printf '00 A4 04 0C %02X %s\n00 A4 00 0C 02 6F 07\n00 B0 00 00 09\n' "$AID_LEN" "$AID" > "$WORK/imsi.apdu"
scriptor -r "$READER" "$WORK/imsi.apdu" | tee "$WORK/scriptor.out"
EF=$(grep -A1 "^> 00 B0 00 00 09" "$WORK/scriptor.out" | tail -1 | sed 's/^< //; s/ : .*//')
# EF IMSI: length, then swapped nibbles with the parity nibble first (TS 31.102 4.2.2).
IMSI=$(echo "$EF" | awk '{ s=""; for (i=2; i<=NF-2; i++) { b=$i; s = s substr(b,2,1) substr(b,1,1) } print substr(s,2) }' | tr -d 'F')
echo "IMSI $IMSI"
[[ $IMSI =~ ^00101[0-9]{10}$ ]] || fail "unexpected IMSI '$IMSI' (EF $EF)"

step "a profile that needs a confirmation code: wrong code refused, right code accepted"
PROFILE_CC=$TESTDATA/ts48/TS48V2-SAIP2-3-NOBERTLV-UNIQUE.der
"${SMDPD[@]}" stage --upp "$PROFILE_CC" --matching-id "PCSC-CC-$CURVE" --cc 4711 | tee "$WORK/stage-cc.out"
ICCID_CC=$(sed -n 's/^staged ICCID \([0-9]*\).*/\1/p' "$WORK/stage-cc.out")
AC_CC="LPA:1\$localhost:$SMDP_PORT\$PCSC-CC-$CURVE\$\$1"
if "${LPA[@]}" profile download -y --ac "$AC_CC" --cc 0000 > "$WORK/cc-wrong.out" 2>&1; then
  fail "a wrong confirmation code was accepted"
fi
cat "$WORK/cc-wrong.out"
grep -q "8\.2\.7" "$WORK/cc-wrong.out" && grep -q "3\.8" "$WORK/cc-wrong.out" || fail "wrong code not refused with 8.2.7/3.8"
"${LPA[@]}" profile download -y --ac "$AC_CC" --cc 4711 || fail "the right confirmation code was refused"
"${SMDPD[@]}" show --iccid "$ICCID_CC" | grep -q "state installed" || fail "ICCID $ICCID_CC not installed"

step "the SM-DP+ recorded the installation"
"${SMDPD[@]}" show --iccid "$ICCID" | tee "$WORK/show.out"
grep -q "state installed" "$WORK/show.out" || fail "SM-DP+ does not show ICCID $ICCID installed"
echo "PASS: PC/SC download on $CURVE, ICCID $ICCID, IMSI $IMSI"
