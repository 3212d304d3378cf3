#!/usr/bin/env bash
# The main job: build, then run the marketplace story end to end on embedded
# defaults (agents/tools/marketplace_demo.cpp): Offer -> Request with SDRt
# escrow -> Accept carrying the profile ciphertext -> download and install on
# the eSIM -> Milenage attach on the visited network -> usage -> settlement.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
TESTDATA=${RSP_TESTDATA:-$(pwd)/../shared/testdata}
exec build/agents/marketplace-demo --template "$TESTDATA/ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der" "$@"
