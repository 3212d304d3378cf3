#!/usr/bin/env bash
# The main job: build, then run the end-to-end story on embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec bash scripts/demo.sh
