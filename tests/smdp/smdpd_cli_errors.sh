#!/usr/bin/env bash
# smdpd's admin commands never lie (issue 13): `template add` refuses to
# replace a stored template without --replace; `order` and `qr` with a --png
# or --svg that cannot be written exit 1 naming the path and the reason, and
# `order` checks that before ordering, so no profile is used up.
# Usage: smdpd_cli_errors.sh BUILD_DIR TESTDATA_DIR (TS.48 packages in TESTDATA_DIR/ts48)
set -uo pipefail
BUILD=$1
TS48=${2:-}/ts48
SMDPD=$BUILD/smdp/smdpd
CERTS=$BUILD/certs/rsp-certs
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

$CERTS generate --out pki --curve nist --dp-host localhost --days 2 >/dev/null || { echo "FAIL: rsp-certs"; exit 1; }
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > pki/storage.key; chmod 600 pki/storage.key
cat > pki/smdp.json <<'JSON'
{"address": "localhost:8443", "port": 0, "db": "smdp.db", "storage_key_file": "storage.key",
 "tls": {"certificate": "CERT_S_SM_DP_TLS_NIST.der", "key": "SK_S_SM_DP_TLS_NIST.pem"},
 "credentials": [{"ci_certificate": "CERT_CI_ECDSA_NIST.der",
   "dpauth_certificate": "CERT_S_SM_DPauth_ECDSA_NIST.der", "dpauth_key": "SK_S_SM_DPauth_ECDSA_NIST.pem",
   "dppb_certificate": "CERT_S_SM_DPpb_ECDSA_NIST.der", "dppb_key": "SK_S_SM_DPpb_ECDSA_NIST.pem"}]}
JSON
S=("$SMDPD" --config pki/smdp.json)

# --- template add: no silent replacement
if [[ -f $TS48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der ]]; then
  A=$TS48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der B=$TS48/TS48V2-SAIP2-3-NOBERTLV-UNIQUE.der
  "${S[@]}" template add --name T1 --upp "$A" --owner OP1 >/dev/null || fail "template add"
  expect 1 "template T1 exists; not replacing it (--replace to replace)" "${S[@]}" template add --name T1 --upp "$B" --owner OP2
  [[ $("${S[@]}" template list) == "T1  OP1" ]] || fail "T1 changed without --replace: $("${S[@]}" template list)"
  "${S[@]}" template add --name T1 --upp "$B" --owner OP2 --replace >/dev/null || fail "template add --replace"
  [[ $("${S[@]}" template list) == "T1  OP2" ]] || fail "T1 not replaced with --replace: $("${S[@]}" template list)"
else
  echo "note: $TS48 absent, template checks skipped"
fi

# --- order / qr: an output that cannot be written
printf 'iccid,imsi,ki,opc\n8933010000000000002,001010000000002,000102030405060708090a0b0c0d0e0f,0f0e0d0c0b0a09080706050403020100\n' > batch.csv
"${S[@]}" import --owner OP --template builtin --batch batch.csv >/dev/null 2>&1 || fail "import"
expect 1 "cannot write $W/missing/dir/x.png: $W/missing/dir is not a folder" "${S[@]}" order --owner OP --png "$W/missing/dir/x.png"
expect 1 "cannot write $W/missing/x.svg" "${S[@]}" order --owner OP --svg "$W/missing/x.svg"
mkdir ro && chmod 555 ro
if [[ $(id -u) != 0 ]]; then
  expect 1 "cannot write $W/ro/x.png: Permission denied" "${S[@]}" order --owner OP --png "$W/ro/x.png"
fi
"${S[@]}" list --owner OP | grep -q "^8933010000000000002  available" || fail "a refused order used the profile: $("${S[@]}" list)"
"${S[@]}" order --owner OP --png "$W/ok.png" >out 2>/dev/null || fail "order with a good --png"
grep -qF 'activation code LPA:1$localhost:8443$' out || fail "order printed: $(cat out)"
[[ $(head -c 8 ok.png | od -An -tx1 | tr -d ' ') == 89504e470d0a1a0a ]] || fail "ok.png is not a PNG"
expect 1 "cannot write $W/missing/dir/x.png: $W/missing/dir is not a folder" "$SMDPD" qr --ac 'LPA:1$localhost$X' --png "$W/missing/dir/x.png"
expect 1 "cannot write $W/missing/x.svg" "$SMDPD" qr --ac 'LPA:1$localhost$X' --svg "$W/missing/x.svg"

# --- export-package: the protected package of a --ppk profile, for `market accept --package`
printf 'iccid,imsi,ki,opc\n8933010000000000010,001010000000010,000102030405060708090a0b0c0d0e0f,0f0e0d0c0b0a09080706050403020100\n' > ppk.csv
"${S[@]}" import --owner OP --template builtin --batch ppk.csv --ppk >/dev/null 2>&1 || fail "import --ppk"
"${S[@]}" export-package --iccid 8933010000000000010 --out ppp.bin >out || fail "export-package: $(cat out)"
[[ -s ppp.bin ]] || fail "export-package wrote nothing"
# The printed hash is that of the file (the Accept's package hash), and the
# package is SGP.22 segments: it starts with the '86' TLV of the first segment.
grep -q "SHA-256 $(sha256sum ppp.bin | cut -d' ' -f1)" out || fail "export-package hash: $(cat out)"
[[ $(head -c 1 ppp.bin | od -An -tx1 | tr -d ' ') == 86 ]] || fail "ppp.bin does not start with an '86' segment"
# Twice the same: the PPK protection is done once, at staging.
"${S[@]}" export-package --iccid 8933010000000000010 --out ppp2.bin >/dev/null && cmp -s ppp.bin ppp2.bin || fail "export-package differs between runs"
expect 1 "ICCID 8933010000000000002 has no protected package" "${S[@]}" export-package --iccid 8933010000000000002 --out x.bin
expect 1 "no profile with ICCID 8999" "${S[@]}" export-package --iccid 8999 --out x.bin
[[ -e x.bin ]] && fail "x.bin written for a refused export"
expect 1 "cannot write $W/missing/p.bin" "${S[@]}" export-package --iccid 8933010000000000010 --out "$W/missing/p.bin"

if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "smdpd CLI errors: all checks passed"
