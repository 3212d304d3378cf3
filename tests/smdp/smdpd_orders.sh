#!/usr/bin/env bash
# smdpd's operator commands (issue 13): bulk `order --count N --csv --qr-dir`
# (all N or none: a bad path is refused before any order, a failure after the
# first orders cancels them), `release` for an order made with --no-release,
# `outbox list|retry`, and the QR code in the terminal, decoded back with
# zbarimg (zbar-tools) when it is installed.
# Usage: smdpd_orders.sh BUILD_DIR          Exit 0 pass, 1 fail.
set -uo pipefail
BUILD=$(realpath "$1")
SMDPD=$BUILD/smdp/smdpd
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect() {  # expect RC NEEDLE cmd...: exit code RC and NEEDLE in stderr
  local want=$1 needle=$2; shift 2
  "$@" >out 2>err </dev/null; local rc=$?
  [[ $rc == "$want" ]] || fail "$*: exit $rc, want $want ($(cat err))"
  grep -qF -- "$needle" err || fail "$*: stderr lacks '$needle': $(cat err)"
}
available() { "${S[@]}" list --owner OP --state available --json | jq length; }

"$BUILD/certs/rsp-certs" generate --out pki --curve nist --dp-host localhost --days 2 >/dev/null || { echo "FAIL: rsp-certs"; exit 1; }
"$SMDPD" init --certs pki --out conf --admin-port 0 >/dev/null || { echo "FAIL: smdpd init"; exit 1; }
S=("$SMDPD" --config conf/smdpd.json)
# Four ICCIDs with their Luhn check digits (computed independently of smdpd).
cat > batch.csv <<'CSV'
iccid,imsi,ki,opc
8944100000000000018,001010000000001,000102030405060708090a0b0c0d0e0f,0f0e0d0c0b0a09080706050403020100
8944100000000000026,001010000000002,000102030405060708090a0b0c0d0e0f,0f0e0d0c0b0a09080706050403020100
8944100000000000034,001010000000003,000102030405060708090a0b0c0d0e0f,0f0e0d0c0b0a09080706050403020100
8944100000000000042,001010000000004,000102030405060708090a0b0c0d0e0f,0f0e0d0c0b0a09080706050403020100
CSV
"${S[@]}" import --owner OP --template builtin --batch batch.csv >/dev/null 2>&1 || fail "import"

# --- bulk: a bad output is refused before any order
expect 1 "cannot write $W/nodir/ICCID.png: $W/nodir is not a folder" "${S[@]}" order --owner OP --count 2 --qr-dir "$W/nodir"
expect 1 "cannot write $W/nodir/o.csv" "${S[@]}" order --owner OP --count 2 --csv "$W/nodir/o.csv"
[[ $(available) == 4 ]] || fail "a refused bulk order used profiles"
# --- more than are left: the orders made are cancelled, nothing written
mkdir qr
expect 1 "cancelled this run's orders (back to available)" "${S[@]}" order --owner OP --count 5 --csv o.csv --qr-dir qr
[[ $(available) == 4 ]] || fail "a failed bulk order left orders: $("${S[@]}" list)"
[[ -e o.csv || -n $(ls qr) ]] && fail "a failed bulk order left files: $(ls qr) $(cat o.csv 2>/dev/null)"
# --- three in one run
"${S[@]}" order --owner OP --count 3 --csv o.csv --qr-dir qr > out 2> err || fail "bulk order: $(cat err)"
[[ $(head -1 o.csv) == iccid,matching_id,activation_code ]] || fail "csv header: $(head -1 o.csv)"
[[ $(tail -n +2 o.csv | wc -l) == 3 ]] || fail "csv rows: $(cat o.csv)"
[[ $(available) == 1 ]] || fail "after 3 orders $(available) available"
while IFS=, read -r iccid mid ac; do
  [[ $ac == "LPA:1\$localhost:8443\$$mid" ]] || fail "csv row $iccid: $ac for $mid"
  [[ $("${S[@]}" show --iccid "$iccid" --json | jq -r '.state + " " + .matchingId') == "released $mid" ]] \
    || fail "$iccid in the csv is not released under $mid"
  [[ $(head -c 8 "qr/$iccid.png" | od -An -tx1 | tr -d ' ') == 89504e470d0a1a0a ]] || fail "qr/$iccid.png is not a PNG"
  if command -v zbarimg >/dev/null; then
    [[ $(zbarimg -q --raw "qr/$iccid.png" 2>/dev/null) == "$ac" ]] || fail "qr/$iccid.png does not decode to $ac"
  fi
done < <(tail -n +2 o.csv)

# --- release: an order confirmed with --no-release
"${S[@]}" order --owner OP --no-release --json > o.json || fail "order --no-release"
ICCID=$(jq -r '.orders[0].iccid' o.json)
[[ $("${S[@]}" show --iccid "$ICCID" --json | jq -r .state) == confirmed ]] || fail "--no-release order is not confirmed"
"${S[@]}" release --owner OP --iccid "$ICCID" >/dev/null || fail "release"
[[ $("${S[@]}" show --iccid "$ICCID" --json | jq -r .state) == released ]] || fail "release did not release $ICCID"
expect 1 "8.2.1/3.9" "${S[@]}" release --owner OTHER --iccid "$ICCID"
expect 1 "ReleaseProfile needs a confirmed profile" "${S[@]}" release --owner OP --iccid "$ICCID"

# --- outbox: none yet; entries as the server's notifier writes them (the
# table made by `serve`, rows as ProgressNotifier::enqueue inserts them)
[[ $("${S[@]}" outbox list --json) == '[]' ]] || fail "outbox list before any server: $("${S[@]}" outbox list --json)"
PORT_FILE=$W/port
"${S[@]}" serve --port-file "$PORT_FILE" > serve.log 2>&1 & SERVE=$!
for _ in $(seq 50); do [[ -s $PORT_FILE ]] && break; sleep 0.2; done
kill "$SERVE"; wait "$SERVE"
sqlite3 conf/smdp.db "INSERT INTO es2_outbox (owner, body, attempts, next_at) VALUES
  ('OP', '{\"iccid\":\"$ICCID\",\"notificationPointId\":3}', 2, 4102444800000);
  INSERT INTO es2_outbox (owner, body, attempts, failed) VALUES ('OP', '{\"iccid\":\"$ICCID\",\"notificationPointId\":4}', 12, 1);
  INSERT INTO es2_outbox (owner, body, attempts, delivered_at) VALUES ('OP', '{}', 1, 1);" || fail "sqlite3"
"${S[@]}" outbox list --json > o.json || fail "outbox list"
[[ $(jq -c '[.[] | [.id, .iccid, .notificationPointId, .attempts, .nextAttempt, .givenUp]]' o.json) == \
   "[[1,\"$ICCID\",3,2,\"2100-01-01T00:00:00Z\",false],[2,\"$ICCID\",4,12,null,true]]" ]] || fail "outbox list: $(cat o.json)"
"${S[@]}" outbox list | grep -q "^2  OP  $ICCID  point 4  attempts 12  next given up$" || fail "outbox list text: $("${S[@]}" outbox list)"
"${S[@]}" outbox retry --id 2 >/dev/null || fail "outbox retry --id 2"
[[ $("${S[@]}" outbox list --json | jq -c '[.[] | [.id, .nextAttempt, .givenUp]]') == '[[1,"2100-01-01T00:00:00Z",false],[2,"now",false]]' ]] \
  || fail "after retry --id 2: $("${S[@]}" outbox list --json)"
expect 1 "no undelivered notification with id 3" "${S[@]}" outbox retry --id 3
"${S[@]}" outbox retry --all > out || fail "outbox retry --all"
grep -q "^2 notification(s) due now" out || fail "retry --all: $(cat out)"
[[ $("${S[@]}" outbox list --json | jq -c '[.[] | .nextAttempt]') == '["now","now"]' ]] || fail "after retry --all"
expect 2 "excludes" "${S[@]}" outbox retry --id 1 --all

# --- QR in the terminal: half blocks back to modules, then decoded
AC='LPA:1$smdp.example.com$QR-TERMINAL-1'
"$SMDPD" qr --ac "$AC" > term.txt || fail "qr to the terminal"
[[ $(tail -1 term.txt) == "$AC" ]] || fail "qr does not print the activation code under the code"
# Each character is two module rows: light top/bottom as drawn. Light modules
# are drawn, so a drawn half is white (0) in the PBM and a blank one black (1).
head -n -1 term.txt | python3 -c '
import sys
rows = []
for line in sys.stdin.read().splitlines():
    top, bottom = [], []
    for ch in line:
        t, b = {"\u2588": (1, 1), "\u2580": (1, 0), "\u2584": (0, 1), " ": (0, 0)}[ch]
        top.append(t); bottom.append(b)
    rows += [top, bottom]
w, s = len(rows[0]), 8
print("P1\n%d %d" % (w * s, len(rows) * s))
for r in rows:
    line = " ".join("0" if light else "1" for light in r for _ in range(s))
    for _ in range(s): print(line)
' > term.pbm || fail "terminal rendering is not half blocks"
if command -v zbarimg >/dev/null; then
  [[ $(zbarimg -q --raw term.pbm 2>/dev/null) == "$AC" ]] || fail "the terminal QR code does not decode to $AC"
else
  echo "note: zbarimg absent, terminal decoding skipped"
fi
# --- SVG caption
"$SMDPD" qr --ac "$AC" --svg c.svg --caption >/dev/null || fail "qr --caption"
grep -qF ">$AC</text>" c.svg || fail "SVG caption lacks the activation code"
expect 2 "--caption needs --svg" "$SMDPD" qr --ac "$AC" --png c.png --caption

if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "smdpd operator commands: all checks passed"
