#!/usr/bin/env bash
# The main job: build, then run the marketplace story end to end on embedded
# defaults (agents/tools/marketplace_demo.cpp): Offer -> Request with SDRt
# escrow -> Accept carrying the profile ciphertext -> download and install on
# the eSIM -> Milenage attach on the visited network -> usage -> settlement.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# Profiles are generated from the SM-DP+'s built-in USIM template (pass
# --template FILE to personalise another package, e.g. a TS.48 profile).
exec build/agents/marketplace-demo "$@"
