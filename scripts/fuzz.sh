#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang-14, ASan + UBSan, build-fuzz/) and
# runs each for a bounded time, starting from its committed seeds
# (fuzz/seeds/<target>) and the corpus grown by earlier runs
# (build-fuzz/corpus/<target>). Inputs that once crashed (fuzz/regressions/
# <target>/) are replayed first. Any crash, leak, UB report or timeout fails
# the script and leaves the input in build-fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh [seconds per target (default 600)] [target ...]
#
# scripts/test.sh runs it with a short time per target; docs/hardening.md
# records the last long run. RSP_FUZZ_JOBS=n runs n targets at once (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
SECONDS_PER_TARGET="${1:-600}"
shift || true
BUILD="${RSP_FUZZ_BUILD:-build-fuzz}"
ALL=(asn1_pdu tlv apdu activation_code batch smdp_request lpa ota ota_sms gp)
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=("${ALL[@]}")

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
start=$(date +%s)
cmake -S . -B "$BUILD" -DRSP_FUZZ=ON -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target "${TARGETS[@]/#/fuzz_}"
built=$(date +%s)

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$ROOT/scripts/ubsan.supp"
export LSAN_OPTIONS="suppressions=$ROOT/scripts/lsan.supp"

run_one() {
  local t="$1" bin="$BUILD/fuzz/fuzz_$1"
  local corpus="$BUILD/corpus/$t" artifacts="$BUILD/artifacts/$t/" log="$BUILD/fuzz-$t.log"
  mkdir -p "$corpus" "$artifacts"
  if [[ -d fuzz/regressions/$t ]] && compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    if ! "$bin" -runs=0 fuzz/regressions/"$t"/* >"$BUILD/regressions-$t.log" 2>&1; then
      echo "fuzz $t: a saved regression input fails again (see $BUILD/regressions-$t.log)" >&2
      return 1
    fi
  fi
  # -timeout: one input taking 10 s is a finding; -rss_limit_mb: so is 2 GB.
  local rc=0
  "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "$corpus" "fuzz/seeds/$t" >"$log" 2>&1 || rc=$?
  local execs cov ft
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n1)
  echo "fuzz $t: ${SECONDS_PER_TARGET} s, ${execs:-?} executions, ${cov:-no coverage line}, exit $rc"
  if ((rc != 0)); then
    grep -E 'ERROR|runtime error|SUMMARY|Test unit written|escaped|threw' "$log" | head -n 20 >&2 || true
    return 1
  fi
}

failed=()
jobs_max="${RSP_FUZZ_JOBS:-1}"
if ((jobs_max <= 1)); then
  for t in "${TARGETS[@]}"; do run_one "$t" || failed+=("$t"); done
else
  declare -A pids=()
  for t in "${TARGETS[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs_max)); do sleep 1; done
    run_one "$t" & pids[$t]=$!
  done
  for t in "${!pids[@]}"; do wait "${pids[$t]}" || failed+=("$t"); done
fi
end=$(date +%s)
echo "fuzz: build $((built - start)) s, runs $((end - built)) s"
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $BUILD/artifacts/)" >&2
  exit 1
fi
