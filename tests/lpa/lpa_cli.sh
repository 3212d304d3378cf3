#!/usr/bin/env bash
# The lpa command line against euicc-sim (TCP) and smdpd on loopback
# (issue 13): with --json, stdout carries one result object and the progress
# goes to stderr (lpa/README.md); `profile download` without an activation
# code goes to the eUICC's default SM-DP+ address (GetEuiccConfiguredAddresses,
# SGP.22 3.1.3 default SM-DP+ case: empty MatchingID, the order found by EID),
# and says so clearly when the eUICC has none; --smdp/--matching-id (lpac's
# -s/-m) work instead of --ac.
#   lpa_cli.sh BUILD_DIR TESTDATA_DIR      Exit 0 pass, 1 fail, 77 skip.
set -uo pipefail
BUILD=$(realpath "$1"); TESTDATA=$2
PROFILE=$TESTDATA/ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der
[[ -f $PROFILE ]] || { echo "SKIP: TS.48 test profiles absent"; exit 77; }
source "$(dirname "$0")/../../scripts/lib.sh"
start_work
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

"$BUILD/certs/rsp-certs" generate --out "$WORK/pki" --curve nist --dp-host localhost --days 2 >/dev/null || die "rsp-certs"
"$BUILD/simulators/euicc-sim" --cert "$WORK/pki/CERT_EUICC_ECDSA_NIST.der" --key "$WORK/pki/SK_EUICC_ECDSA_NIST.pem" \
  --eum "$WORK/pki/CERT_EUM_ECDSA_NIST.der" --ci "$WORK/pki/CERT_CI_ECDSA_NIST.der" \
  --state "$WORK/euicc.json" --tcp 127.0.0.1:0 > "$WORK/euicc-sim.log" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q "^listening " "$WORK/euicc-sim.log" || die "euicc-sim did not start"
CARD=$(sed -n 's/^listening \(.*\)$/\1/p' "$WORK/euicc-sim.log")
SMDP_PORT=$(free_port) || die "no free port"
write_smdp_config "$WORK" "$SMDP_PORT" NIST
SMDPD=("$BUILD/smdp/smdpd" --config "$WORK/smdp.json")
"${SMDPD[@]}" serve --port-file "$WORK/smdp.port" > "$WORK/smdpd.log" 2>&1 &
PIDS+=($!)
wait_for 10 test -s "$WORK/smdp.port" || die "smdpd did not start"
LPA=("$BUILD/lpa/lpa" --tcp "$CARD" --ca "$WORK/pki/CERT_CI_ECDSA_NIST.pem" --timeout 20)
EID=$("${LPA[@]}" --json chip info | jq -r .data.eidValue)
[[ $EID =~ ^[0-9]{32}$ ]] || die "chip info gave EID '$EID'"

# --- --json: one object on stdout, progress as JSON lines on stderr
"${SMDPD[@]}" stage --upp "$PROFILE" --matching-id CLI-1 >/dev/null || die "stage CLI-1"
"${LPA[@]}" --json profile download -y --ac "LPA:1\$localhost:$SMDP_PORT\$CLI-1" > "$WORK/dl.out" 2> "$WORK/dl.err"
rc=$?
[[ $rc == 0 ]] || fail "--json download: exit $rc: $(cat "$WORK/dl.out" "$WORK/dl.err")"
[[ $(jq -s length "$WORK/dl.out") == 1 ]] || fail "--json stdout is not one JSON object: $(cat "$WORK/dl.out")"
[[ $(jq -r '.ok and .data.success' "$WORK/dl.out") == true ]] || fail "--json result: $(cat "$WORK/dl.out")"
grep -qx '{"progress":"getBoundProfilePackage"}' "$WORK/dl.err" || fail "no JSON progress on stderr: $(cat "$WORK/dl.err")"
grep -q progress "$WORK/dl.out" && fail "progress on stdout"

# --- no activation code and no default SM-DP+ on the eUICC: a clear error
"${LPA[@]}" profile download -y > "$WORK/nodef.out" 2> "$WORK/nodef.err"
rc=$?
[[ $rc == 1 ]] || fail "download without a code or default SM-DP+: exit $rc"
grep -q "no activation code and no default SM-DP+ address on the eUICC" "$WORK/nodef.err" \
  || fail "download without a default SM-DP+: $(cat "$WORK/nodef.err")"

# --- the default SM-DP+: an order for this EID, found without a matching id
"${SMDPD[@]}" stage --template builtin --iccid 8944476500000000054 --matching-id CLI-DEF --eid "$EID" >/dev/null \
  || die "stage for the EID"
"${LPA[@]}" chip default-smdp "localhost:$SMDP_PORT" >/dev/null || fail "chip default-smdp"
"${LPA[@]}" --json profile download -y > "$WORK/def.out" 2> "$WORK/def.err" || fail "default SM-DP+ download: $(cat "$WORK/def.out" "$WORK/def.err")"
[[ $(jq -r .data.iccid "$WORK/def.out") == 8944476500000000054 ]] || fail "default SM-DP+ download: $(cat "$WORK/def.out")"
[[ $(jq -r .data.smdpAddress "$WORK/def.out") == "localhost:$SMDP_PORT" ]] || fail "default SM-DP+ address: $(cat "$WORK/def.out")"

# --- lpac-style -s/-m
"${SMDPD[@]}" stage --template builtin --iccid 8944476500000000062 --matching-id CLI-SM >/dev/null || die "stage CLI-SM"
"${LPA[@]}" --json profile download -y -s "localhost:$SMDP_PORT" -m CLI-SM > "$WORK/sm.out" 2>/dev/null
[[ $(jq -r .data.iccid "$WORK/sm.out") == 8944476500000000062 ]] || fail "-s/-m download: $(cat "$WORK/sm.out")"
"$BUILD/lpa/lpa" --tcp "$CARD" profile download -m CLI-SM > /dev/null 2>&1
[[ $? == 2 ]] || fail "-m without -s is not a usage error"

# --- lpac's spellings (docs/interop.md, "lpac's commands and ours")
"${LPA[@]}" chip defaultsmdp "lpac.example:$SMDP_PORT" >/dev/null || fail "chip defaultsmdp"
[[ $("${LPA[@]}" --json chip info | jq -r .data.EuiccConfiguredAddresses.defaultDpAddress) == "lpac.example:$SMDP_PORT" ]] \
  || fail "chip defaultsmdp did not set the address"
"${LPA[@]}" profile enable 8944476500000000062 0 >/dev/null || fail "profile enable ICCID 0"
"${LPA[@]}" profile disable 8944476500000000062 0 >/dev/null || fail "profile disable ICCID 0"
"${LPA[@]}" profile enable 8944476500000000062 2 >/dev/null 2>&1
[[ $? == 2 ]] || fail "refresh flag 2 is not a usage error"
"${LPA[@]}" profile enable 8944476500000000062 1 --no-refresh >/dev/null 2>&1
[[ $? == 2 ]] || fail "refresh flag and --no-refresh together are not a usage error"
# Two downloads leave their install notifications pending (--notify none):
# one processed by its positional SEQ with -r, the other removed with -a.
BEFORE=$("${LPA[@]}" --json notification list | jq '.data | length')
for pair in N1:8944476500000000070 N2:8944476500000000088; do
  id=${pair%%:*}
  "${SMDPD[@]}" stage --template builtin --iccid "${pair#*:}" --matching-id "CLI-$id" >/dev/null || die "stage CLI-$id"
  "${LPA[@]}" profile download -y --notify none -a "LPA:1\$localhost:$SMDP_PORT\$CLI-$id" >/dev/null 2>&1 || fail "download CLI-$id"
done
"${LPA[@]}" --json notification list > "$WORK/nl.out" || fail "notification list"
[[ $(jq '.data | length' "$WORK/nl.out") == $((BEFORE + 2)) ]] || fail "two more pending notifications expected: $(cat "$WORK/nl.out")"
SEQ=$(jq -r '.data[-1].seqNumber' "$WORK/nl.out")
"${LPA[@]}" --json notification process "$SEQ" -r > "$WORK/np.out" 2>/dev/null || fail "notification process SEQ -r: $(cat "$WORK/np.out")"
[[ $(jq -r '[.data[] | select(.delivered and .removed)] | length' "$WORK/np.out") == 1 ]] \
  || fail "notification process SEQ -r did not deliver and remove exactly one: $(cat "$WORK/np.out")"
"${LPA[@]}" notification remove >/dev/null 2>&1
[[ $? == 2 ]] || fail "notification remove without SEQ or -a is not a usage error"
"${LPA[@]}" notification remove -a >/dev/null || fail "notification remove -a"
[[ $("${LPA[@]}" --json notification list | jq '.data | length') == 0 ]] || fail "notifications left after remove -a"

if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "lpa CLI: all checks passed"
