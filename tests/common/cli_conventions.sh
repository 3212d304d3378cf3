#!/usr/bin/env bash
# Every program follows the same command-line conventions (docs/operations.md,
# issue 13): `--version` prints "<program> <project version> (<git revision>)"
# on stdout and exits 0; an unknown option or a missing required option is a
# usage error: a message on stderr and exit 2 (not CLI11's 100-127).
# Usage: cli_conventions.sh PROJECT_VERSION NAME=PATH...
set -uo pipefail
VERSION=$1; shift
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect_usage NAME PATH ARGS...: exit 2 and something on stderr.
expect_usage() {
  local name=$1 bin=$2; shift 2
  "$bin" "$@" >"$W/out" 2>"$W/err" </dev/null; local rc=$?
  [[ $rc == 2 ]] || fail "$name $*: exit $rc, want 2 (usage error)"
  [[ -s $W/err ]] || fail "$name $*: nothing on stderr"
}

for spec in "$@"; do
  name=${spec%%=*}; bin=${spec#*=}
  [[ -x $bin ]] || { fail "$name: $bin is not built"; continue; }
  out=$("$bin" --version 2>"$W/err" </dev/null); rc=$?
  [[ $rc == 0 ]] || fail "$name --version: exit $rc"
  re="^${name} ${VERSION//./\\.} \\([^ ()]+\\)$"
  [[ $out =~ $re ]] || fail "$name --version printed '$out', want '$name $VERSION (<git describe>)'"
  expect_usage "$name" "$bin" --no-such-option
  case $name in
    smdpd) expect_usage "$name" "$bin" serve --no-such-option
           expect_usage "$name" "$bin" order --no-such-option
           # Defaults shown in --help (rsp::cli::show_defaults, for every tool).
           "$bin" init --help 2>/dev/null | grep -qE -- '--port UINT=8443' || fail "$name init --help does not show --port's default"
           "$bin" order --help 2>/dev/null | grep -qE -- '--type TEXT=default' || fail "$name order --help does not show --type's default" ;;
    euicc-sim) expect_usage "$name" "$bin"            # required options missing
               expect_usage "$name" "$bin" dump --no-such-option ;;
    lpa|market|ledger-tool|rsp-certs|ota|gpt) expect_usage "$name" "$bin" no-such-command ;;
  esac
done
if ((failures)); then echo "$failures check(s) failed" >&2; exit 1; fi
echo "command-line conventions: $# programs checked"
