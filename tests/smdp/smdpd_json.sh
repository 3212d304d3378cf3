#!/usr/bin/env bash
# smdpd's read and report commands with --json (issue 13): stdout is exactly
# one JSON document (jq -s length == 1, nothing before or after it) and it
# says what the plain output says; errors stay on stderr.
# Usage: smdpd_json.sh BUILD_DIR          Exit 0 pass, 1 fail.
set -uo pipefail
BUILD=$(realpath "$1")
SMDPD=$BUILD/smdp/smdpd
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# one_doc FILE: exactly one JSON document in FILE.
one_doc() { [[ $(jq -s length "$1" 2>/dev/null) == 1 ]] || fail "$2: stdout is not one JSON document: $(head -c 300 "$1")"; }

"$BUILD/certs/rsp-certs" generate --out pki --curve nist --dp-host localhost --days 2 >/dev/null || { echo "FAIL: rsp-certs"; exit 1; }
"$SMDPD" init --certs pki --out conf --admin-port 0 >/dev/null || { echo "FAIL: smdpd init"; exit 1; }
S=("$SMDPD" --config conf/smdpd.json)
# Three ICCIDs with their Luhn check digits (computed independently of smdpd).
cat > batch.csv <<'CSV'
iccid,imsi,ki,opc
8944100000000000018,001010000000001,000102030405060708090a0b0c0d0e0f,0f0e0d0c0b0a09080706050403020100
8944100000000000026,001010000000002,000102030405060708090a0b0c0d0e0f,0f0e0d0c0b0a09080706050403020100
8944100000000000034,001010000000003,000102030405060708090a0b0c0d0e0f,0f0e0d0c0b0a09080706050403020100
CSV

# --- import --progress: the bar goes to stderr, the counts to stdout
"${S[@]}" import --owner OP --type gold --template builtin --batch batch.csv --progress --json > o 2> e || fail "import: $(cat e)"
one_doc o import
[[ $(jq -c . o) == '{"imported":3,"owner":"OP","profileType":"gold"}' ]] || fail "import: $(cat o)"
grep -q '100%' e || fail "import --progress wrote no bar on stderr"

# --- template list
"${S[@]}" template list --json > o || fail "template list"
one_doc o "template list"
[[ $(jq -c . o) == '[]' ]] || fail "template list (none): $(cat o)"

# --- order: the ICCID and activation code, as the plain output says them
"${S[@]}" order --owner OP --type gold --json > o 2> e || fail "order: $(cat e)"
one_doc o order
ICCID=$(jq -r '.orders[0].iccid' o); AC=$(jq -r '.orders[0].activationCode' o); MID=$(jq -r '.orders[0].matchingId' o)
[[ $ICCID =~ ^89441000000000000[0-9]{2}$ ]] || fail "order iccid: $(cat o)"
[[ $AC == "LPA:1\$localhost:8443\$$MID" ]] || fail "order activation code $AC for matching id $MID"
[[ $(jq -r '.orders[0].released, .orders[0].png, .csv' o | tr '\n' ' ') == "true null null " ]] || fail "order: $(cat o)"

# --- list / show / stats agree with the order
"${S[@]}" list --json > o || fail list
one_doc o list
[[ $(jq length o) == 3 ]] || fail "list: $(cat o)"
[[ $(jq -r --arg i "$ICCID" '.[] | select(.iccid == $i) | .state + " " + .matchingId + " " + .owner + " " + .profileType' o) \
   == "released $MID OP gold" ]] || fail "list entry of $ICCID: $(cat o)"
[[ $(jq -r --arg i "$ICCID" '.[] | select(.iccid != $i) | .matchingId' o | sort -u) == null ]] || fail "list: unordered profiles have a matching id"
"${S[@]}" show --iccid "$ICCID" --json > o || fail show
one_doc o show
[[ $(jq -r '.state + " " + .matchingId + " " + (.downloadAttempts | tostring) + " " + .notifications' o) == "released $MID 0 default" ]] \
  || fail "show: $(cat o)"
"${S[@]}" stats --json > o || fail stats
one_doc o stats
[[ $(jq -c '[.[] | [.owner, .profileType, .state, .count]]' o) == '[["OP","gold","available",2],["OP","gold","released",1]]' ]] \
  || fail "stats: $(cat o)"

# --- errors: nothing on stdout, the message on stderr
"${S[@]}" show --iccid 8999 --json > o 2> e && fail "show of an unknown ICCID succeeded"
[[ -s o ]] && fail "show of an unknown ICCID wrote to stdout: $(cat o)"
grep -q "no profile with ICCID 8999" e || fail "show unknown: $(cat e)"

if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "smdpd --json: all checks passed"
