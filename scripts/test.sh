#!/usr/bin/env bash
# Builds everything and runs all tests (unit, end-to-end, interoperability).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd build
ctest --output-on-failure --timeout 900 -j"$(nproc)"
