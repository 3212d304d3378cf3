#!/usr/bin/env bash
# Writes a program's man page from its --help and --version (help2man), with
# each subcommand's own --help (two levels: `smdpd template add`) in a
# section of its own -- CLI11's top-level help only lists subcommands.
# Never fails the build: if help2man or the program's --help fails, it
# writes a stub page that says so and warns (tests/packaging/install.sh
# refuses a stub, so a broken --help still shows up in the tests).
# Usage: man_page.sh PROGRAM OUTPUT SECTION "SHORT DESCRIPTION"
set -uo pipefail
prog=$1 out=$2 section=$3 name=$4
base=$(basename "$prog")
inc=$(mktemp)
trap 'rm -f "$inc" "$out.tmp"' EXIT

# The subcommands CLI11 lists under "Subcommands:" in `PROG [SUB...] --help`.
subcommands() {
  "$prog" "$@" --help 2>/dev/null </dev/null |
    awk '/^Subcommands:$/ {s = 1; next} s && /^$/ {exit} s && /^  [^ ]/ {print $1}'
}
# One subcommand's help as a preformatted block; roff escapes: backslash,
# and a line starting with . or ' would be read as a request.
block() {
  local text
  text=$("$prog" "$@" --help 2>/dev/null </dev/null) || return 0
  text=${text//"$prog"/$base}
  printf '.SS "%s %s"\n.nf\n' "$base" "$*"
  printf '%s\n' "$text" | sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
  printf '.fi\n'
}
{
  top=$(subcommands)
  if [[ -n $top ]]; then
    echo "[SUBCOMMANDS IN DETAIL]"
    for s in $top; do
      block "$s"
      for s2 in $(subcommands "$s"); do block "$s" "$s2"; done
    done
  fi
} >"$inc"

include=()
[[ -s $inc ]] && include=(--include="$inc")  # help2man refuses an empty include file
if help2man --no-info --section="$section" --name="$name" "${include[@]}" --output="$out.tmp" "$prog" 2>"$out.err" &&
   [[ -s $out.tmp ]]; then
  mv "$out.tmp" "$out"
  rm -f "$out.err"
  exit 0
fi
echo "man_page.sh: WARNING: help2man failed for $base ($(head -c 300 "$out.err")); writing a stub page" >&2
upper=$(echo "$base" | tr '[:lower:]' '[:upper:]')
cat >"$out" <<STUB
.TH $upper "$section" "" "rsp-marketplace" "STUB"
.SH NAME
$base \\- $name
.SH DESCRIPTION
This page could not be generated from \\fB$base \\-\\-help\\fR; run that instead.
STUB
exit 0
