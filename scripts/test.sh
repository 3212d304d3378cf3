#!/usr/bin/env bash
# Builds everything and runs all tests (unit, end-to-end, interoperability),
# then the sanitizer job (ASan + UBSan unit tests, scripts/sanitize.sh) and a
# short run of every fuzz target (scripts/fuzz.sh); docs/hardening.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
(cd build && ctest --output-on-failure --timeout 900 -j"$(nproc)")
bash scripts/sanitize.sh
# One fuzz target per core at a time (each still runs its full time).
RSP_FUZZ_JOBS="${RSP_FUZZ_JOBS:-$(nproc)}" bash scripts/fuzz.sh "${RSP_FUZZ_CI_SECONDS:-20}"
