#!/usr/bin/env bash
# `smdpd init` writes a configuration that really works (issue 13): from an
# `rsp-certs generate` folder, `smdpd init` then `smdpd serve` answers
# /health/ready, ES9+ (an LPA's TLS handshake and an answer from
# initiateAuthentication's front) and ES2+ for the operator given; the storage
# key is fresh, 64 hex digits, mode 0600; nothing is replaced without --force
# (and --force keeps the storage key the store is encrypted under); a bad
# input is refused naming it, with nothing written.
# Usage: smdpd_init.sh BUILD_DIR          Exit 0 pass, 1 fail.
set -uo pipefail
BUILD=$(realpath "$1")
SMDPD=$BUILD/smdp/smdpd
source "$(dirname "$0")/../../scripts/lib.sh"
start_work
cd "$WORK" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; [[ -f smdpd.log ]] && tail -20 smdpd.log; exit 1; }
expect() {  # expect RC NEEDLE cmd...: exit code RC and NEEDLE in stderr
  local want=$1 needle=$2; shift 2
  "$@" >out 2>err </dev/null; local rc=$?
  [[ $rc == "$want" ]] || fail "$*: exit $rc, want $want ($(cat err))"
  grep -qF -- "$needle" err || fail "$*: stderr lacks '$needle': $(cat err)"
}

"$BUILD/certs/rsp-certs" generate --out pki --curve nist --dp-host smdp.test --days 2 >/dev/null || die "rsp-certs"
# The operator CA and OP-A's client certificate, made independently with openssl.
openssl ecparam -name prime256v1 -genkey -noout -out opca.key 2>/dev/null
openssl req -new -x509 -key opca.key -days 2 -subj "/CN=Operators CA" -out opca.pem 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out op.key 2>/dev/null
openssl req -new -key op.key -subj "/CN=OP-A" -out op.csr 2>/dev/null
printf 'extendedKeyUsage = clientAuth\n' > ext
openssl x509 -req -in op.csr -CA opca.pem -CAkey opca.key -CAcreateserial -days 2 -extfile ext -out op.pem 2>/dev/null \
  || die "openssl operator certificate"
# Another CA's certificate, to see it refused.
openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.key -days 2 \
  -subj "/CN=Someone else" -out other.pem 2>/dev/null

# --- refusals, nothing written
expect 1 "--certs $WORK/nope is not a folder" "$SMDPD" init --certs "$WORK/nope" --out o1
mkdir empty
expect 1 "has no CERT_S_SM_DP_TLS_NIST.der: not an rsp-certs folder" "$SMDPD" init --certs empty --out o1
expect 1 "is for smdp.test, not other.test (rsp-certs generate --dp-host other.test)" \
  "$SMDPD" init --certs pki --out o1 --hostname other.test
expect 1 "operator OP-B's certificate other.pem is issued by" \
  "$SMDPD" init --certs pki --out o1 --operator-ca opca.pem --operator OP-B=other.pem
expect 1 "--operator needs the operators' CA" "$SMDPD" init --certs pki --out o1 --operator OP-A=op.pem
expect 2 "ID=CERT.pem" "$SMDPD" init --certs pki --out o1 --operator-ca opca.pem --operator OP-A
[[ -e o1 ]] && fail "a refused init left $(ls -A o1) in o1"

# --- a working configuration
SMDP_PORT=$(free_port) && ES2_PORT=$(free_port) && ADMIN_PORT=$(free_port) || die "no free port"
"$SMDPD" init --certs pki --out conf --port "$SMDP_PORT" --es2plus-port "$ES2_PORT" --admin-port "$ADMIN_PORT" \
  --operator-ca opca.pem --operator OP-A=op.pem > out 2>err || die "init: $(cat out err)"
grep -qF "wrote conf/storage.key (storage key, mode 0600)" out || fail "init did not say it wrote the key: $(cat out)"
grep -qF "next: smdpd --config conf/smdpd.json serve" out || fail "init did not say what to run next: $(cat out)"
[[ $(stat -c %a conf/storage.key) == 600 ]] || fail "storage.key mode $(stat -c %a conf/storage.key)"
grep -qxE '[0-9a-f]{64}' conf/storage.key || fail "storage.key is not 64 hex digits"
[[ $(jq -r .address conf/smdpd.json) == "smdp.test:$SMDP_PORT" ]] || fail "address $(jq -r .address conf/smdpd.json)"
grep -qF "$(cat conf/storage.key)" out err && fail "init printed the storage key"
# Another init's key is another key (fresh, not a constant).
"$SMDPD" init --certs pki --out conf2 >/dev/null || fail "second init"
cmp -s conf/storage.key conf2/storage.key && fail "two inits wrote the same storage key"
grep -q "ES2+ is off" <("$SMDPD" init --certs pki --out conf3) || fail "init without an operator CA did not say ES2+ is off"

# --- no overwrite without --force; --force keeps the storage key
cp conf/smdpd.json before.json; cp conf/storage.key before.key
expect 1 "conf/smdpd.json exists; not overwriting it (--force to replace)" "$SMDPD" init --certs pki --out conf
cmp -s before.json conf/smdpd.json || fail "init without --force changed smdpd.json"
"$SMDPD" init --certs pki --out conf --force --port "$SMDP_PORT" --es2plus-port "$ES2_PORT" --admin-port "$ADMIN_PORT" \
  --operator-ca opca.pem --operator OP-A=op.pem > out || fail "init --force"
cmp -s before.key conf/storage.key || fail "init --force replaced the storage key"
grep -q "note: kept conf/storage.key" out || fail "init --force did not say it kept the key: $(cat out)"

# --- the written configuration serves
printf 'iccid,imsi,ki,opc\n8944100000000000018,001010000000001,000102030405060708090a0b0c0d0e0f,0f0e0d0c0b0a09080706050403020100\n' > batch.csv
"$SMDPD" --config conf/smdpd.json import --owner OP-A --template builtin --batch batch.csv >/dev/null 2>&1 || fail "import"
"$SMDPD" --config conf/smdpd.json serve > smdpd.log 2>&1 &
PIDS+=($!)
wait_for 15 curl -sf "http://127.0.0.1:$ADMIN_PORT/health/ready" || die "smdpd serve with the init configuration is not ready"
RESOLVE=(--resolve "smdp.test:$SMDP_PORT:127.0.0.1" --resolve "smdp.test:$ES2_PORT:127.0.0.1" --cacert pki/CERT_CI_ECDSA_NIST.pem)
# ES9+: the TLS certificate verifies for the configured address, and the
# function front answers (a body without the fields gets a 1.2 error, not a TLS failure).
curl -sS "${RESOLVE[@]}" -H 'X-Admin-Protocol: gsma/rsp/v2.2.2' -H 'Content-Type: application/json' \
  --data '{}' "https://smdp.test:$SMDP_PORT/gsma/rsp2/es9plus/initiateAuthentication" > es9.out 2>es9.err \
  || fail "ES9+ over the init configuration: $(cat es9.err)"
jq -e '.header.functionExecutionStatus.status == "Failed"' es9.out >/dev/null || fail "ES9+ answer: $(cat es9.out)"
# ES2+: OP-A's certificate is accepted, DownloadOrder runs.
curl -sS "${RESOLVE[@]}" --cert op.pem --key op.key -H 'X-Admin-Protocol: gsma/rsp/v2.2.2' -H 'Content-Type: application/json' \
  --data '{"header": {"functionRequesterIdentifier": "OP-A", "functionCallIdentifier": "init-1"}, "profileType": "default"}' \
  "https://smdp.test:$ES2_PORT/gsma/rsp2/es2plus/downloadOrder" > es2.out 2>es2.err \
  || fail "ES2+ over the init configuration: $(cat es2.err)"
[[ $(jq -r .iccid es2.out 2>/dev/null) == 8944100000000000018 ]] || fail "ES2+ DownloadOrder: $(cat es2.out)"

if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "smdpd init: all checks passed"
