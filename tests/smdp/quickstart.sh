#!/usr/bin/env bash
# Runs the quick start of docs/quickstart.md verbatim (issue 13, must-show 3):
# the ```sh blocks between <!-- quickstart --> and <!-- /quickstart -->, in
# order, in one bash with `set -euo pipefail`, in an empty folder, with the
# built programs first in PATH. The doc is the test: nothing here repeats its
# commands. Only the ports are ours (free ones, through the variables the doc
# reads), and the servers the doc starts are stopped by pid on any exit.
# Usage: quickstart.sh DOC smdpd rsp-certs euicc-sim lpa     Exit 0 pass, 1 fail.
set -uo pipefail
DOC=$(realpath "$1"); shift
source "$(dirname "$0")/../../scripts/lib.sh"
start_work
mkdir "$WORK/bin" "$WORK/run"
for b in "$@"; do ln -s "$(realpath "$b")" "$WORK/bin/$(basename "$b")"; done

# The blocks, in order; a missing marker or an empty section is a failure
# (a doc edit must not turn the test into a no-op).
awk '/<!-- quickstart -->/ {on = 1; next} /<!-- \/quickstart -->/ {on = 0}
     on && /^```sh$/ {code = 1; n++; print "# --- block " n; next}
     code && /^```$/ {code = 0; next}
     code {print}' "$DOC" > "$WORK/blocks.sh"
blocks=$(grep -c '^# --- block ' "$WORK/blocks.sh")
((blocks >= 5)) || { echo "FAIL: $DOC has $blocks quickstart sh blocks"; exit 1; }

{
  echo 'set -euo pipefail'
  # Whatever the doc left running (a failed step skips its `kill`) is stopped
  # here, by the pids of this shell's own jobs.
  echo 'trap '\''rc=$?; jobs -p | xargs -r kill 2>/dev/null || true; wait; exit $rc'\'' EXIT'
  echo 'trap '\''exit 143'\'' TERM'  # timeout(1) below: still run the EXIT trap
  echo 'set -x'
  cat "$WORK/blocks.sh"
} > "$WORK/quickstart.sh"

export SMDP_PORT ES2_PORT ADMIN_PORT EUICC_PORT
SMDP_PORT=$(free_port) && ES2_PORT=$(free_port) && ADMIN_PORT=$(free_port) && EUICC_PORT=$(free_port) \
  || { echo "FAIL: no free ports"; exit 1; }
# Four draws could collide: redraw until they differ (bounded).
for _ in 1 2 3 4 5; do
  [[ $(printf '%s\n' "$SMDP_PORT" "$ES2_PORT" "$ADMIN_PORT" "$EUICC_PORT" | sort -u | wc -l) == 4 ]] && break
  ES2_PORT=$(free_port); ADMIN_PORT=$(free_port); EUICC_PORT=$(free_port)
done
cd "$WORK/run" || exit 1
PATH="$WORK/bin:$PATH" timeout 90 bash "$WORK/quickstart.sh" > "$WORK/out" 2>&1
rc=$?
if [[ $rc != 0 ]]; then
  echo "FAIL: the quick start stopped (exit $rc) at:"
  # The last doc command run (the EXIT trap's own lines left out).
  grep '^+' "$WORK/out" | grep -vE '^\+ (rc=|jobs -p|xargs -r kill|wait|exit )' | tail -1
  echo "--- output"; tail -40 "$WORK/out"
  exit 1
fi
# What the doc shows at the end must be true: the profile is on the eUICC and
# the SM-DP+ knows it installed.
grep -q "ICCID 8944100000000000018 state installed" "$WORK/out" \
  || { echo "FAIL: the quick start's download did not end installed:"; tail -20 "$WORK/out"; exit 1; }
echo "quick start: $blocks blocks of $DOC ran"
