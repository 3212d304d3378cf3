#!/usr/bin/env bash
# The SGP.22 part of the story with every party a separate process: a visited operator's SM-DP+ issues a profile and
# a subscriber's eSIM downloads it (GSMA SGP.22), every party a real process
# on loopback (smdpd, euicc-sim --tcp, lpa). The whole marketplace story is
# the main job, scripts/run.sh (marketplace-demo).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(pwd)/build
TESTDATA=${RSP_TESTDATA:-$(pwd)/../shared/testdata}
PROFILE=$TESTDATA/ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der
if [[ ! -f $PROFILE ]]; then
  echo "This demo serves a GSMA TS.48 test profile from $TESTDATA/ts48, which is not here."
  echo "Set RSP_TESTDATA to a folder holding ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der."
  exit 2
fi

source scripts/lib.sh
start_work
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "1. The GSMA-style PKI (SGP.22 4.5): a Certificate Issuer, an eUICC manufacturer, the subscriber's eUICC, and the SM-DP+'s authentication, binding and TLS certificates"
"$BUILD/certs/rsp-certs" generate --out "$WORK/pki" --curve nist --dp-host localhost > "$WORK/pki.out"
echo "   $(grep -c '\.der$' "$WORK/pki.out") certificates and their keys in $WORK/pki"

say "2. The visited operator's SM-DP+ loads a subscription (a TS.48 test profile) for activation code token DEMO-1"
SMDP_PORT=$(free_port)
write_smdp_config "$WORK" "$SMDP_PORT" NIST
SMDPD=("$BUILD/smdp/smdpd" --config "$WORK/smdp.json")
"${SMDPD[@]}" stage --upp "$PROFILE" --matching-id DEMO-1 --spn "Visited Operator" --name "Roaming data" | tee "$WORK/stage.out" | sed 's/^/   /'
ICCID=$(sed -n 's/^staged ICCID \([0-9]*\).*/\1/p' "$WORK/stage.out")
RSP_LOG=warn "${SMDPD[@]}" serve --port-file "$WORK/smdp.port" > "$WORK/smdpd.log" 2>&1 &
PIDS+=($!)
wait_for 10 test -s "$WORK/smdp.port"
AC="LPA:1\$localhost:$SMDP_PORT\$DEMO-1"
echo "   SM-DP+ serving ES9+ at https://localhost:$SMDP_PORT; activation code for the subscriber: $AC"

say "3. The subscriber's phone: an eUICC (simulated card) and its LPA"
CARD_PORT=$(free_port)
RSP_LOG=warn "$BUILD/simulators/euicc-sim" --cert "$WORK/pki/CERT_EUICC_ECDSA_NIST.der" --key "$WORK/pki/SK_EUICC_ECDSA_NIST.pem" \
  --eum "$WORK/pki/CERT_EUM_ECDSA_NIST.der" --ci "$WORK/pki/CERT_CI_ECDSA_NIST.der" \
  --state "$WORK/euicc.json" --tcp "127.0.0.1:$CARD_PORT" > "$WORK/euicc.log" 2>&1 &
PIDS+=($!)
LPA=("$BUILD/lpa/lpa" --tcp "127.0.0.1:$CARD_PORT" --ca "$WORK/pki/CERT_CI_ECDSA_NIST.pem" --log-level warn)
wait_for 10 "${LPA[@]}" chip info
"${LPA[@]}" chip info | sed 's/^/   /' | head -4
EID=$("${LPA[@]}" chip info | sed -n 's/^EID: *//p')

say "4. The LPA downloads the profile: mutual authentication, binding to this eUICC, installation (SGP.22 3.1.3)"
"${LPA[@]}" profile download -y --ac "$AC" 2>&1 | sed 's/^/   /'

say "5. The subscriber enables it"
"${LPA[@]}" profile enable "$ICCID" | sed 's/^/   /'
"${LPA[@]}" profile list | sed 's/^/   /'

say "6. The SM-DP+ heard the installation notification"
"${SMDPD[@]}" show --iccid "$ICCID" | sed 's/^/   /'
echo
echo "Done: profile $ICCID, issued by the SM-DP+, is installed and enabled on eUICC $EID."
