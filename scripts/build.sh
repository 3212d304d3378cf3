#!/usr/bin/env bash
# Configures and builds everything into build/ (Release with debug info).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# RSP_DEBUG_INFO: the -g level of the build (default -g, full debug info).
# .ci/run sets -g1 (line tables and function names, enough for backtraces):
# about a third less compile time (docs/hardening.md, "CI time").
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 ${RSP_DEBUG_INFO:--g} -DNDEBUG" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 ${RSP_DEBUG_INFO:--g} -DNDEBUG" >/dev/null
cmake --build build -j"$(nproc)"
