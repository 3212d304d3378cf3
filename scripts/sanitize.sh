#!/usr/bin/env bash
# Sanitizer job: builds the libraries and their unit tests with AddressSanitizer
# and UndefinedBehaviorSanitizer into build-asan/ and runs them. Any report
# (memory error, leak, undefined behaviour) aborts the test binary and fails
# the job. scripts/test.sh runs it after the main suite. docs/hardening.md
# says what is covered and how long it takes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
BUILD="${RSP_ASAN_BUILD:-build-asan}"
# Unit tests of the libraries an outsider's bytes reach: BER-TLV, APDUs,
# activation codes, HTTP, crypto (common), the asn1c runtime and C++ layer,
# certificates, SM-DP+ (batch import, profile packages), eUICC simulator, LPA
# (ES9+/ES10 clients, in-process downloads), OTA secured packets, SMS and SMPP,
# ledger. The end-to-end suites repeat the same code paths over real sockets
# at several times the cost.
ALL=(common_tests asn1_tests certs_tests smdp_tests euicc_tests lpa_tests ota_tests ota_store_tests ota_sms_tests ledger_tests)
# `scripts/sanitize.sh [test binary ...]`: only those (default: all of ALL).
TESTS=("$@")
((${#TESTS[@]})) || TESTS=("${ALL[@]}")

start=$(date +%s)
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# -O1: ASan's recommended level, and it compiles faster than -O2.
cmake -S . -B "$BUILD" -DRSP_SANITIZE=ON "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target "${TESTS[@]}"
built=$(date +%s)

# No detect_stack_use_after_return: its fake stacks put locals on the heap,
# and asn1c measures its decoding depth by comparing addresses of locals
# (asn_codec_ctx_t.max_stack_size), so every decode would fail.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$ROOT/scripts/ubsan.supp"
export LSAN_OPTIONS="suppressions=$ROOT/scripts/lsan.supp"
# RSP_SANITIZE_JOBS binaries at once (default: one per core); each one's
# output goes to $BUILD/sanitize-<test>.log and is printed when it ends.
run_one() {
  local t="$1" bin
  bin=$(find "$BUILD/tests" -name "$t" -type f -perm -u+x | head -n1)
  [[ -n $bin ]] || { echo "sanitize: no binary $t in $BUILD/tests" >"$BUILD/sanitize-$t.log"; return 1; }
  (cd "$(dirname "$bin")" && "./$(basename "$bin")" --gtest_brief=1) >"$BUILD/sanitize-$t.log" 2>&1
}
failed=()
declare -A pids=()
jobs_max="${RSP_SANITIZE_JOBS:-$(nproc)}"
for t in "${TESTS[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs_max)); do sleep 0.2; done
  run_one "$t" & pids[$t]=$!
done
for t in "${TESTS[@]}"; do
  rc=0
  wait "${pids[$t]}" || rc=$?
  echo "== sanitize: $t (exit $rc)"
  cat "$BUILD/sanitize-$t.log"
  ((rc == 0)) || failed+=("$t")
done
end=$(date +%s)
echo "sanitize: build $((built - start)) s, tests $((end - built)) s"
if ((${#failed[@]})); then
  echo "sanitize: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "sanitize: all ${#TESTS[@]} test binaries clean under ASan+UBSan"
