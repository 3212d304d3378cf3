#!/usr/bin/env bash
# The main job: build, then run the marketplace stories end to end on
# embedded defaults (agents/tools/marketplace_demo.cpp):
#  1. eSIM: Offer -> Request with SDRt escrow -> Accept carrying the profile
#     ciphertext -> download and install on the eSIM -> Milenage attach on the
#     visited network -> usage -> settlement;
#  2. multi-account SIM: Offer -> Request for the card's ICCID -> Accept
#     carrying the sealed account -> home agent -> otad -> SMPP -> SMSC ->
#     handset -> pcscd + vpcd -> masim (PoR 00) -> switch + REFRESH -> attach
#     with the new IMSI -> Activation -> usage -> settlement;
#  3. the same on the same card over SCP81: otad's push SMS -> the card's
#     PSK-TLS admin session to otad -> STORE / SWITCH ACCOUNT -> REFRESH at
#     the handset's next poll -> attach -> ... -> settlement.
# The card of stories 2 and 3 sits behind pcscd + vpcd (scripts/pcsc.sh, in a private
# mount namespace; masim its own process) when this runs as root with
# pcscd, vsmartcard-vpcd and pcsc-tools; otherwise the demo says so and runs
# the card in its own process.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/pcsc.sh
if [[ "${1:-}" == --inner ]]; then
  shift
else
  bash scripts/build.sh
  # pcscd gets its own /run/pcscd: re-run in a private mount namespace.
  if pcsc_available && unshare --mount --propagation private true 2>/dev/null; then exec unshare --mount --propagation private bash "$0" --inner "$@"; fi
fi

start_work  # pcscd and masim are stopped by pid on every exit (stop_work)
ICCID=8988211000000000016
card=()
if pcsc_available && pcsc_start && pcsc_start_masim build/simulators/multi_account/masim "$ICCID" "$WORK/card-keys.json"; then
  card=(--card-reader "$PCSC_READER" --card-keys "$WORK/card-keys.json" --card-iccid "$ICCID")
else
  echo "NOTE: pcscd + vpcd could not start here (needs root, unshare, pcscd, vsmartcard-vpcd, pcsc-tools):"
  echo "      the multi-account story runs its card IN PROCESS, not through PC/SC."
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  PIDS=()
fi
# Profiles are generated from the SM-DP+'s built-in USIM template (pass
# --template FILE to personalise another package, e.g. a TS.48 profile).
rc=0
build/agents/marketplace-demo "${card[@]}" "$@" || rc=$?
exit $rc
