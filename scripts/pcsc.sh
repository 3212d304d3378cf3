# PC/SC helpers for the test scripts and the main job (scripts/run.sh):
# pcscd with the vsmartcard vpcd driver in the caller's private mount
# namespace (its own /run/pcscd on a tmpfs, so the machine's pcscd is never
# touched), one virtual reader on a free port, and masim as the card in it.
# Source after scripts/lib.sh and start_work (uses $WORK, $PIDS, free_port,
# wait_for). Functions only.

# pcsc_available: true with root, unshare, pcscd, vpcd and scriptor.
pcsc_available() {
  [[ $EUID -eq 0 ]] && command -v unshare >/dev/null && command -v pcscd >/dev/null &&
    [[ -f /usr/lib/pcsc/drivers/serial/libifdvpcd.so ]] && command -v scriptor >/dev/null
}

# pcsc_reexec_private "$0" "$@": skip (77) without root, unshare, pcscd,
# vpcd and scriptor; else re-run the calling script in a private mount
# namespace with --inner as its first argument. The caller does
#   [[ "${1:-}" == --inner ]] || pcsc_reexec_private "$0" "$@"; shift
pcsc_reexec_private() {
  if ! pcsc_available; then
    echo "SKIP: needs root, unshare, pcscd, vsmartcard-vpcd and pcsc-tools"
    exit 77
  fi
  local script=$1; shift
  exec unshare --mount --propagation private bash "$script" --inner "$@"
}

# pcsc_start: pcscd with one vpcd reader ("Virtual PCD 00 00"); sets
# VPCD_PORT (where the card connects) and PCSC_READER. Returns 1 when pcscd
# or vpcd does not come up (its log is $WORK/pcscd.log).
pcsc_start() {
  VPCD_PORT=$(free_port) || return 1
  PCSC_READER="Virtual PCD 00 00"
  mkdir -p /run/pcscd "$WORK/reader.conf.d"
  mount -t tmpfs tmpfs /run/pcscd || return 1
  printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x%X\nLIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID 0x%X\n' \
    "$VPCD_PORT" "$VPCD_PORT" > "$WORK/reader.conf.d/vpcd"
  pcscd -f -c "$WORK/reader.conf.d" > "$WORK/pcscd.log" 2>&1 &
  PIDS+=($!)
  wait_for 10 test -S /run/pcscd/pcscd.comm || return 1
  wait_for 10 bash -c "(exec 3<>/dev/tcp/127.0.0.1/$VPCD_PORT)" || return 1
}

# pcsc_start_masim MASIM ICCID KEYS_FILE: writes KEYS_FILE (a fresh state key
# and one AES-128 OTA key set, fresh random KIc/KID, and an SCP81 PSK
# (fresh, 16 bytes, identity masim-ICCID, KVN 40 id 01); mode 0600) unless it
# exists, starts masim as the card in $PCSC_READER (its pid in $PIDS, log
# $WORK/masim.log, state $WORK/masim.json) and waits until scriptor sees the
# multi-account applet. Returns 1 when the card does not appear.
pcsc_start_masim() {
  local masim=$1 iccid=$2 keys=$3
  hex() { head -c "$1" /dev/urandom | od -An -tx1 -v | tr -d ' \n'; }
  if [[ ! -f $keys ]]; then
    (umask 077 && cat > "$keys" <<JSON
{ "state_key": "$(hex 32)",
  "key_sets": [ { "version": 1, "algorithm": "aes", "kic": "$(hex 16)", "kid": "$(hex 16)" } ],
  "scp81": { "psk_identity": "masim-$iccid", "psk": "$(hex 16)", "key_version": 64, "key_id": 1 } }
JSON
    )
  fi
  "$masim" --iccid "$iccid" --state "$WORK/masim.json" --keys "$keys" --vpcd "127.0.0.1:$VPCD_PORT" \
    > "$WORK/masim.log" 2>&1 &
  PIDS+=($!)
  printf '00 A4 04 00 07 F0 52 53 50 4D 41 01 00\n' > "$WORK/applet.apdu"
  wait_for 15 scriptor -r "$PCSC_READER" "$WORK/applet.apdu"
}
