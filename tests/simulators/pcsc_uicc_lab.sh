#!/usr/bin/env bash
# Issue 15, point 2: a test lab's view of an installed profile through a real
# PC/SC stack (pcscd + vpcd, private mount namespace), with scriptor
# (pcsc-tools) as the independent card client. A BER-TLV TS.48 profile (v5,
# SAIP 2.3, with CSIM and ISIM) is downloaded and enabled with our LPA, then:
# EF.ICCID by SFI at the MF, EF.DIR, EF.SPN, the CSIM application by its
# EF.DIR AID, EF.PBR and EF.ADN records, and a BER-TLV EF (SET/RETRIEVE DATA).
#
#   pcsc_uicc_lab.sh BUILD_DIR TESTDATA_DIR
# Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail

# pcscd + vpcd in a private mount namespace: scripts/pcsc.sh.
source "$(dirname "$0")/../../scripts/pcsc.sh"
[[ "${1:-}" == --inner ]] || pcsc_reexec_private "$0" "$@"
shift
BUILD=$(realpath "$1"); TESTDATA=$2
PROFILE=$TESTDATA/ts48/TS48V5-SAIP2-3-BERTLV-SUCI-UNIQUE.der
[[ -f $PROFILE ]] || { echo "SKIP: TS.48 test profiles absent"; exit 77; }
SUFFIX=NIST
READER="Virtual PCD 00 00"

source "$(dirname "$0")/../../scripts/lib.sh"
start_work
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }
# The response scriptor prints for a command: "> CMD", then "< DATA SW : text",
# wrapped after 16 bytes; joined into one line of bytes.
answer() {
  awk -v cmd="> $2" '$0 == cmd { on = 1; next }
    on { sub(/^< /, ""); if (index($0, " : ")) { sub(/ : .*/, ""); printf "%s\n", out $0; exit } out = out $0 }' "$1" |
    tr -s ' ' | sed 's/^ //; s/ $//'
}

step "test PKI"
"$BUILD/certs/rsp-certs" generate --out "$WORK/pki" --curve nist --dp-host localhost >/dev/null
TLS_CA=$WORK/pki/CERT_CI_ECDSA_NIST.pem

step "pcscd with the vpcd driver"
pcsc_start || fail "pcscd with vpcd did not start"

step "eUICC simulator as the card in '$READER'"
"$BUILD/simulators/euicc-sim" --cert "$WORK/pki/CERT_EUICC_ECDSA_$SUFFIX.der" --key "$WORK/pki/SK_EUICC_ECDSA_$SUFFIX.pem" \
  --eum "$WORK/pki/CERT_EUM_ECDSA_$SUFFIX.der" --ci "$WORK/pki/CERT_CI_ECDSA_$SUFFIX.der" \
  --state "$WORK/euicc-state.json" --vpcd "127.0.0.1:$VPCD_PORT" > "$WORK/euicc-sim.log" 2>&1 &
PIDS+=($!)
LPA=("$BUILD/lpa/lpa" --reader "$READER" --ca "$TLS_CA")
wait_for 15 "${LPA[@]}" chip info || fail "the card did not appear in $READER"

step "download and enable the BER-TLV TS.48 profile"
SMDP_PORT=$(free_port)
write_smdp_config "$WORK" "$SMDP_PORT" "$SUFFIX"
SMDPD=("$BUILD/smdp/smdpd" --config "$WORK/smdp.json")
"${SMDPD[@]}" stage --upp "$PROFILE" --matching-id "LAB" | tee "$WORK/stage.out"
ICCID=$(sed -n 's/^staged ICCID \([0-9]*\).*/\1/p' "$WORK/stage.out")
"${SMDPD[@]}" serve --port-file "$WORK/smdp.port" > "$WORK/smdpd.log" 2>&1 &
PIDS+=($!)
wait_for 10 test -s "$WORK/smdp.port" || fail "smdpd did not start"
"${LPA[@]}" profile download -y --ac "LPA:1\$localhost:$SMDP_PORT\$LAB" || fail "download failed"
"${LPA[@]}" profile enable "$ICCID" || fail "enable failed"

step "MF: EF.ICCID by SFI 02, EF.DIR records by SFI 1E"
printf '00 A4 00 0C 02 3F 00\n00 B0 82 00 0A\n00 B2 01 F4 00\n00 B2 02 F4 00\n00 B2 03 F4 00\n' > "$WORK/mf.apdu"
scriptor -r "$READER" "$WORK/mf.apdu" | tee "$WORK/mf.out"
EF_ICCID=$(answer "$WORK/mf.out" "00 B0 82 00 0A")
DIGITS=$(echo "$EF_ICCID" | awk '{ s=""; for (i=1; i<=NF-2; i++) { b=$i; s = s substr(b,2,1) substr(b,1,1) } print s }' | tr -d 'F')
[[ $DIGITS == "$ICCID" ]] || fail "EF.ICCID by SFI reads '$EF_ICCID', not ICCID $ICCID"
USIM=""; CSIM=""
for rec in 01 02 03; do
  read -r -a R <<< "$(answer "$WORK/mf.out" "00 B2 $rec F4 00")"
  [[ ${R[0]:-} == 61 && ${R[2]:-} == 4F ]] || continue
  AID="${R[*]:4:$((16#${R[3]}))}"
  [[ $AID == "A0 00 00 00 87 10 02"* ]] && USIM=$AID
  [[ $AID == "A0 00 00 03 43 10 02"* ]] && CSIM=$AID
done
[[ -n $USIM && -n $CSIM ]] || fail "EF.DIR does not list USIM and CSIM"
echo "USIM $USIM / CSIM $CSIM"
len() { echo $(( ($(echo "$1" | wc -w)) )); }

step "EF.SPN, CSIM by AID, phonebook, a BER-TLV EF"
{
  printf '00 A4 04 0C %02X %s\n00 A4 00 0C 02 6F 46\n00 B0 00 00 11\n' "$(len "$USIM")" "$USIM"
  printf '00 A4 04 0C %02X %s\n00 A4 00 0C 02 6F 22\n80 F2 00 01 00\n' "$(len "$CSIM")" "$CSIM"
  printf '00 A4 08 0C 04 7F 10 5F 3A\n00 A4 00 0C 02 4F 30\n00 B2 01 04 00\n00 B2 01 54 00\n'
  printf '00 20 00 0A 08 35 35 35 35 35 35 35 35\n00 A4 08 0C 06 7F 10 5F 3E 4F 02\n'
  printf '80 DB 00 80 05 81 03 11 22 33\n80 CB 00 80 01 81 00\n'
} > "$WORK/lab.apdu"
scriptor -r "$READER" "$WORK/lab.apdu" | tee "$WORK/lab.out"
SPN=$(answer "$WORK/lab.out" "00 B0 00 00 11")
[[ $SPN == "01 47 53 4D 41"* && $SPN == *"90 00" ]] || fail "EF.SPN reads '$SPN'"
STATUS=$(answer "$WORK/lab.out" "80 F2 00 01 00")
[[ $STATUS == "84 $(printf '%02X' "$(len "$CSIM")") $CSIM 90 00" ]] || fail "CSIM is not the current application: '$STATUS'"
[[ $(answer "$WORK/lab.out" "00 A4 00 0C 02 6F 22") == "90 00" ]] || fail "CSIM EF.IMSI_M not in the CSIM ADF"
PBR=$(answer "$WORK/lab.out" "00 B2 01 04 00")
[[ $PBR == "A8 "* ]] || fail "EF.PBR record 1 is '$PBR'"
ADN=$(answer "$WORK/lab.out" "00 B2 01 54 00")
[[ $ADN == "54 65 73 74 6E 72 2E 31"* ]] || fail "EF.ADN record 1 (SFI 0A) is '$ADN'"
[[ $(answer "$WORK/lab.out" "80 CB 00 80 01 81 00") == "81 03 11 22 33 90 00" ]] || fail "BER-TLV EF: RETRIEVE DATA"

step "euicc-sim dump shows the tree"
"$BUILD/simulators/euicc-sim" dump --state "$WORK/euicc-state.json" --iccid "$ICCID" > "$WORK/dump.out"
grep -q "^3F00/7F10/5F3A/4F3A linear-fixed" "$WORK/dump.out" || fail "dump lacks DF.PHONEBOOK EF.ADN"
grep -q "^7FC0 ADF aid=A0000003431002" "$WORK/dump.out" || fail "dump lacks the CSIM ADF"
echo "PASS: lab view through PC/SC, ICCID $ICCID"
