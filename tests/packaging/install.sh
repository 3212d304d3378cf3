#!/usr/bin/env bash
# Issue 13, must-show 1: what `cmake --install` puts in place for a Debian
# admin (docs/operations.md, "Installing"): every program in bin with a man
# page generated from its --help (section 8 for the servers), answering
# --version with the version and git revision; the systemd units of smdpd
# and otad with their hardening; the example configurations under the
# documentation and as /etc/rsp/*.json.example (never as the live file);
# the components; and the servers' configuration lookup: --config, else
# $RSP_<SERVER>_CONFIG, else /etc/rsp/<server>.json.
# Usage: install.sh BUILD_DIR VERSION SERVERS TOOLS SIMULATORS (comma lists)
set -uo pipefail
BUILD=$1 VERSION=$2
IFS=, read -ra SERVERS <<<"$3"
IFS=, read -ra TOOLS <<<"$4"
IFS=, read -ra SIMULATORS <<<"$5"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

R=$W/usr
cmake --install "$BUILD" --prefix "$R" >"$W/install.log" 2>&1 || { cat "$W/install.log" >&2; echo "FAIL: cmake --install" >&2; exit 1; }

# Every program: executable, --version, its man page (help2man's, not the stub).
check_program() {
  local name=$1 section=$2 bin=$R/bin/$1 page=$R/share/man/man$2/$1.$2
  [[ -x $bin ]] || { fail "not installed: bin/$name"; return; }
  local out rc
  out=$("$bin" --version 2>"$W/err" </dev/null); rc=$?
  [[ $rc == 0 ]] || fail "installed $name --version: exit $rc $(cat "$W/err")"
  [[ $out =~ ^${name}\ ${VERSION//./\\.}\ \([0-9a-f]{4,}(-dirty)?\)$ ]] ||
    fail "installed $name --version printed '$out', want '$name $VERSION (<git revision>)'"
  [[ -f $page ]] || { fail "no man page share/man/man$section/$name.$section"; return; }
  local upper
  upper=$(tr '[:lower:]' '[:upper:]' <<<"$name")
  head -5 "$page" | grep -q "^\.TH \"\?$upper\"\? \"$section\"" || fail "$name.$section: no .TH $upper $section header"
  grep -q '^\.SH OPTIONS' "$page" || fail "$name.$section: no OPTIONS section (a stub: --help failed at build time?)"
  grep -q 'STUB' "$page" && fail "$name.$section is the stub page: help2man failed at build time"
}
for p in "${SERVERS[@]}"; do check_program "$p" 8; done
for p in "${TOOLS[@]}" "${SIMULATORS[@]}"; do check_program "$p" 1; done
# Nothing installed that the lists do not name (a bench or a test rig).
for f in "$R"/bin/*; do
  n=$(basename "$f")
  [[ " ${SERVERS[*]} ${TOOLS[*]} ${SIMULATORS[*]} " == *" $n "* ]] || fail "bin/$n installed but not expected"
done

# The subcommands' own help is in the page (CLI11's top help only lists them).
grep -q '^\.SS "smdpd template add"' "$R/share/man/man8/smdpd.8" || fail "smdpd.8 lacks 'smdpd template add'"
grep -q '^\.SS "ota card' "$R/share/man/man1/ota.1" || fail "ota.1 lacks the 'ota card' subcommands"
# A page renders without a warning from groff.
if command -v groff >/dev/null; then
  groff -man -Tutf8 -ww -z "$R/share/man/man8/smdpd.8" 2>"$W/groff.err" || fail "groff smdpd.8: exit $?"
  [[ -s $W/groff.err ]] && fail "groff smdpd.8 warns: $(head -3 "$W/groff.err")"
fi
if command -v man >/dev/null; then
  MANWIDTH=100 man -l "$R/share/man/man8/otad.8" 2>/dev/null | grep -q -- '-c,--config' ||
    fail "man -l otad.8 does not render its --config option"
fi

# The units.
for s in "${SERVERS[@]}"; do
  unit=$R/lib/systemd/system/$s.service
  [[ -f $unit ]] || { fail "not installed: lib/systemd/system/$s.service"; continue; }
  env_var=RSP_$(tr '[:lower:]-' '[:upper:]_' <<<"$s")_CONFIG
  for line in "User=rsp-$s" "Group=rsp-$s" "StateDirectory=rsp-$s" "ReadWritePaths=/var/lib/rsp-$s" \
              'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' 'PrivateDevices=yes' 'NoNewPrivileges=yes' \
              "Environment=$env_var=/etc/rsp/$s.json" 'UMask=0077' 'WantedBy=multi-user.target'; do
    grep -qx "$line" "$unit" || fail "$s.service lacks $line"
  done
  grep -Eq "^ExecStart=/.*/bin/$s( serve)?$" "$unit" || fail "$s.service ExecStart: $(grep ExecStart "$unit")"
  grep -q '@' "$unit" && fail "$s.service has an unconfigured @VARIABLE@"
done

# The example configurations: in the docs and under etc/rsp as *.example,
# never as the live file an admin edits.
for s in "${SERVERS[@]}"; do
  for f in "$R/share/doc/rsp-marketplace/examples/$s.json" "$R/etc/rsp/$s.json.example"; do
    [[ -f $f ]] || { fail "not installed: ${f#$R/}"; continue; }
    python3 -m json.tool "$f" >/dev/null 2>&1 || fail "${f#$R/} is not JSON"
  done
  [[ -e $R/etc/rsp/$s.json ]] && fail "etc/rsp/$s.json installed: it would replace the admin's file"
  # Every key of the example is one the server knows: it stops at the first
  # file it cannot read (the keys under /etc/rsp/$s/), not at a key.
  "$R/bin/$s" --config "$R/etc/rsp/$s.json.example" $([[ $s == smdpd ]] && echo list) >/dev/null 2>"$W/err"
  grep -q 'not a configuration key\|must be\|is required' "$W/err" && fail "$s example configuration: $(cat "$W/err")"
  grep -q "/etc/rsp/$s/" "$W/err" || fail "$s example configuration: want a missing /etc/rsp/$s/ file, got $(cat "$W/err")"
done
[[ -f $R/share/doc/rsp-marketplace/operations.md ]] || fail "not installed: share/doc/rsp-marketplace/operations.md"

# Configuration lookup: the path the server tried is in its message.
lookup() {
  local want=$1; shift
  "$@" >"$W/out" 2>"$W/err" </dev/null; local rc=$?
  [[ $rc == 1 ]] || fail "$*: exit $rc, want 1"
  grep -qF "$want" "$W/err" || fail "$*: stderr does not name $want: $(cat "$W/err")"
}
for s in "${SERVERS[@]}"; do
  env_var=RSP_$(tr '[:lower:]-' '[:upper:]_' <<<"$s")_CONFIG
  sub=(); [[ $s == smdpd ]] && sub=(list)
  lookup "$W/from-env.json" env "$env_var=$W/from-env.json" "$R/bin/$s" "${sub[@]}"
  lookup "$W/from-flag.json" env "$env_var=$W/from-env.json" "$R/bin/$s" --config "$W/from-flag.json" "${sub[@]}"
  [[ -e /etc/rsp/$s.json ]] || lookup "/etc/rsp/$s.json" env -u "$env_var" "$R/bin/$s" "${sub[@]}"
done

# Components: each installs its own part only.
cmake --install "$BUILD" --prefix "$W/servers" --component servers >/dev/null 2>&1 || fail "install --component servers"
[[ "$(ls "$W/servers/bin" 2>/dev/null | sort | tr '\n' ' ')" == "$(printf '%s\n' "${SERVERS[@]}" | sort | tr '\n' ' ')" ]] ||
  fail "component servers installs bin/: $(ls "$W/servers/bin" | tr '\n' ' ')"
[[ -f $W/servers/lib/systemd/system/otad.service ]] || fail "component servers lacks otad.service"
cmake --install "$BUILD" --prefix "$W/sims" --component simulators >/dev/null 2>&1 || fail "install --component simulators"
[[ "$(ls "$W/sims/bin" 2>/dev/null | sort | tr '\n' ' ')" == "$(printf '%s\n' "${SIMULATORS[@]}" | sort | tr '\n' ' ')" ]] ||
  fail "component simulators installs bin/: $(ls "$W/sims/bin" | tr '\n' ' ')"

if ((failures)); then echo "$failures check(s) failed" >&2; exit 1; fi
echo "install: ${#SERVERS[@]} servers, ${#TOOLS[@]} tools, ${#SIMULATORS[@]} simulators, units, man pages, examples: all checks passed"
