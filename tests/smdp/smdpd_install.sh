#!/usr/bin/env bash
# Issue 13, packaging: `cmake --install --component smdpd` puts the program,
# its systemd unit (with the hardening docs/operations.md promises) and the
# example configuration in place, and the installed smdpd looks its
# configuration up as --config, else $RSP_SMDPD_CONFIG, else /etc/rsp/smdpd.json.
# Usage: smdpd_install.sh BUILD_DIR
set -uo pipefail
BUILD=$1
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

cmake --install "$BUILD" --prefix "$W/root" --component smdpd >"$W/install.log" 2>&1 || { cat "$W/install.log" >&2; echo "FAIL: cmake --install" >&2; exit 1; }
SMDPD=$W/root/bin/smdpd
UNIT=$W/root/lib/systemd/system/smdpd.service
EXAMPLE=$W/root/share/doc/rsp-marketplace/examples/smdpd.json
for f in "$SMDPD" "$UNIT" "$EXAMPLE" "$W/root/share/doc/rsp-marketplace/operations.md"; do
  [[ -f $f ]] || fail "not installed: ${f#$W/root/}"
done
[[ -x $SMDPD ]] && { "$SMDPD" --version | grep -Eq '^smdpd [0-9]+\.[0-9]+\.[0-9]+ \(' || fail "installed smdpd --version"; }

if [[ -f $UNIT ]]; then
  for line in 'User=rsp-smdpd' 'ProtectSystem=strict' 'ReadWritePaths=/var/lib/rsp-smdpd' 'NoNewPrivileges=yes' \
              'StateDirectory=rsp-smdpd' 'Environment=RSP_SMDPD_CONFIG=/etc/rsp/smdpd.json'; do
    grep -qx "$line" "$UNIT" || fail "unit lacks $line"
  done
  grep -Eq '^ExecStart=/.*/bin/smdpd serve$' "$UNIT" || fail "unit ExecStart: $(grep ExecStart "$UNIT")"
  grep -q '@' "$UNIT" && fail "unit has an unconfigured @VARIABLE@"
fi
if [[ -f $EXAMPLE ]] && command -v python3 >/dev/null; then
  python3 -m json.tool "$EXAMPLE" >/dev/null || fail "example configuration is not JSON"
fi

# Configuration lookup: the path smdpd tried is in its error message.
# expect_config_path WANT [env ...] -- ARGS...
lookup() {
  local want=$1; shift
  "$@" >"$W/out" 2>"$W/err"; local rc=$?
  [[ $rc == 1 ]] || fail "$*: exit $rc, want 1"
  grep -qF "$want" "$W/err" || fail "$*: stderr does not name $want: $(cat "$W/err")"
}
if [[ -x $SMDPD ]]; then
  lookup "$W/from-env.json" env RSP_SMDPD_CONFIG="$W/from-env.json" "$SMDPD" list
  lookup "$W/from-flag.json" env RSP_SMDPD_CONFIG="$W/from-env.json" "$SMDPD" --config "$W/from-flag.json" list
  if [[ ! -e /etc/rsp/smdpd.json ]]; then
    lookup /etc/rsp/smdpd.json env -u RSP_SMDPD_CONFIG "$SMDPD" list
  fi
fi
if ((failures)); then echo "$failures check(s) failed" >&2; exit 1; fi
echo "smdpd install: all checks passed"
