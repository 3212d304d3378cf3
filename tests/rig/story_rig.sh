# shellcheck shell=bash
# The story rig (issue 14, must-show 1): the processes behind the browser
# story, for a test to SOURCE. It defines functions only; nothing runs at
# source time. The pieces are the project's own programs, each as its own
# process started and stopped by pid on loopback:
#
#   smdpd          the visited operator's SM-DP+ (ES9+ for the LPA, ES2+ over
#                  mutual TLS for VISITED-A), a batch of generated profiles of
#                  one profile type imported (PPK-protected)
#   euicc-sim      the subscriber's eUICC behind its TCP bridge (--tcp)
#   visited-agent  VISITED-A's agent: Requests -> ES2+ order -> Accept;
#                  network spool -> Activation, usage reports
#   home-agent     HOME-B's agent: purchase orders -> Requests; Accepts ->
#                  activation codes in its delivery folder
#   visited-network (run per call) the visited network's core: the HSS
#                  provisioned with the profiles' Ki/OPc, attach with
#                  Milenage over the euicc-sim bridge, usage records
#
# on one embedded ledger (SDR-ISSUER issuer, VISITED-A visited-operator,
# HOME-B home-operator with 500 SDRt). docs/agents.md describes the spools.
#
# Interface (kept stable; tests/web/browser_test.sh sources it):
#   rig_init BUILD_DIR WORK_DIR   set everything up in WORK_DIR (new or empty; created); exports
#       RIG RIG_LEDGER_DB RIG_VISITED_KEY RIG_HOME_KEY RIG_SEAL_KEY RIG_REPLY_KEY
#       RIG_ORDERS_SPOOL RIG_DELIVERY_DIR RIG_NETWORK_SPOOL RIG_EID RIG_PLMN
#       RIG_TLS_CA RIG_PROFILE_TYPE (and RIG_ADMIN_KEY, the issuer's key)
#   rig_start                     start the four processes, wait (bounded) until each is up;
#       exports RIG_EUICC_TCP (the card's bridge, for lpa --tcp). rig_stop then
#       rig_start again restarts them all on the same state (card, agents, ledger)
#   rig_stop                      stop them by pid (put it in the caller's EXIT trap)
#   rig_download ACTIVATION_CODE  lpa download into the eUICC, then enable; prints the ICCID
#   rig_attach                    visited-network attach; waits until the visited agent handled it;
#       prints IMSI and ICCID, exports RIG_IMSI
#   rig_usage DATA_MB VOICE SMS [RECORD_ID]  one usage record; waits until it is reported
#   rig_logs                      the tail of every log (for failures)
# Every function returns non-zero with a message on stderr when it fails;
# bounded waits (RIG_WAIT seconds, default 30).

_RIG_FILE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
_RIG_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# free_port, wait_for: the project's shell helpers (functions only).
# shellcheck source=../../scripts/lib.sh
source "$_RIG_SRC/scripts/lib.sh"

_rig_die() {
  echo "rig: $*" >&2
  return 1
}

# _rig_luhn DIGITS: DIGITS with its Luhn check digit appended (ICCID, ITU-T E.118).
_rig_luhn() {
  local d=$1 sum=0 i n dbl=1
  for ((i = ${#d} - 1; i >= 0; i--)); do
    n=${d:i:1}
    if ((dbl)); then
      n=$((n * 2))
      ((n > 9)) && n=$((n - 9))
    fi
    sum=$((sum + n))
    dbl=$((1 - dbl))
  done
  echo "$d$(((10 - sum % 10) % 10))"
}

# rig_init's work (in its own `bash -e`): PKI, SM-DP+, profiles, HSS,
# ledger, keys, the agents' configurations, all in $RIG.
_rig_init_files() {
  local b=$RIG_BUILD
  cd "$RIG" || return 1
  umask 077

  # The test PKI (P-256): CI, EUM, the eUICC of RIG_EID, the SM-DP+'s
  # DPauth/DPpb/TLS certificates for localhost.
  "$b/certs/rsp-certs" generate --out pki --curve nist --eid "$RIG_EID" --dp-host localhost --days 2 >/dev/null
  # VISITED-A's ES2+ client certificate under an operators' CA, made with openssl.
  openssl ecparam -name prime256v1 -genkey -noout -out operators-ca.key 2>/dev/null
  openssl req -new -x509 -key operators-ca.key -days 2 -subj "/CN=Rig Operators CA" -out operators-ca.pem 2>/dev/null
  openssl ecparam -name prime256v1 -genkey -noout -out visited-op.key 2>/dev/null
  openssl req -new -key visited-op.key -subj "/CN=VISITED-A" -out visited-op.csr 2>/dev/null
  printf 'extendedKeyUsage = clientAuth\n' > visited-op.ext
  openssl x509 -req -in visited-op.csr -CA operators-ca.pem -CAkey operators-ca.key -CAcreateserial -days 2 \
    -extfile visited-op.ext -out visited-op.pem 2>/dev/null

  # The SM-DP+: ES9+ and ES2+ on loopback (free ports), admin off.
  local es9 es2
  es9=$(free_port)
  es2=$(free_port)
  while [[ $es2 == "$es9" ]]; do es2=$(free_port); done
  "$b/smdp/smdpd" init --certs pki --out smdp --hostname localhost --port "$es9" --es2plus-port "$es2" \
    --admin-port 0 --operator-ca operators-ca.pem --operator VISITED-A=visited-op.pem >/dev/null
  echo "$es2" > smdp/es2.port

  # Generated profiles for RIG_PROFILE_TYPE: the same batch goes into the
  # SM-DP+ (smdpd import --ppk) and the HSS (visited-network provision).
  local i iccid
  echo "iccid,imsi,ki,opc" > batch.csv
  for i in 0 1 2 3 4; do
    iccid=$(_rig_luhn "$(printf '893301%012d' "$i")")
    printf '%s,%s%010d,%s,%s\n' "$iccid" "$RIG_PLMN" "$((1000 + i))" "$(_rig_hex 16)" "$(_rig_hex 16)" >> batch.csv
  done
  "$b/smdp/smdpd" --config smdp/smdpd.json import --owner VISITED-A --type "$RIG_PROFILE_TYPE" --template builtin \
    --batch batch.csv --ppk --spn "Visited A" --name "Roaming" >/dev/null
  _rig_hex 32 > hss.key
  "$b/simulators/visited-network" provision --hss hss.db --hss-key hss.key --batch batch.csv >/dev/null
  # batch.csv (mode 0600) stays: a lab's record of the subscribers' keys,
  # for tests that need a subscriber's Ki (e.g. a tampered copy of it).

  # The ledger and the participants' keys (ledger-tool writes them 0600).
  local k
  for k in admin visited home seal reply; do "$b/ledger/ledger-tool" keygen --out "$k.pem" >/dev/null; done
  local lt=$b/ledger/ledger-tool
  "$lt" init --db ledger.db --admin-id SDR-ISSUER --admin-key admin.pem >/dev/null
  "$lt" register --db ledger.db --id VISITED-A --role visited-operator --pubkey visited.pem \
    --admin-id SDR-ISSUER --admin-key admin.pem >/dev/null
  "$lt" register --db ledger.db --id HOME-B --role home-operator --pubkey home.pem \
    --admin-id SDR-ISSUER --admin-key admin.pem >/dev/null
  "$lt" append --db ledger.db --author SDR-ISSUER --key admin.pem --type mint \
    --payload '{"to":"HOME-B","amount":500000000}' >/dev/null

  mkdir -p orders deliveries network
  cat > visited-agent.json <<JSON
{
"ledger": {"embedded": "ledger.db", "participant": "VISITED-A", "key": "visited.pem"},
"state_db": "visited-agent.db",
"poll_interval_ms": 200,
"seal_key": "seal.pem",
"profile_type": "$RIG_PROFILE_TYPE",
"es2plus": {"url": "https://localhost:$es2", "ca": "pki/CERT_CI_ECDSA_NIST.pem",
            "certificate": "visited-op.pem", "key": "visited-op.key"},
"smdp_config": "smdp/smdpd.json",
"hss": {"db": "hss.db", "storage_key_file": "hss.key"},
"network_spool": "network"
}
JSON
  cat > home-agent.json <<JSON
{
"ledger": {"embedded": "ledger.db", "participant": "HOME-B", "key": "home.pem"},
"state_db": "home-agent.db",
"poll_interval_ms": 200,
"reply_key": "reply.pem",
"orders_spool": "orders",
"delivery_dir": "deliveries"
}
JSON
}

_rig_hex() { od -An -tx1 -v -N "$1" /dev/urandom | tr -d ' \n'; }

# _rig_wait_line SECONDS FILE PATTERN: until FILE has a line matching PATTERN.
_rig_wait_line() {
  wait_for "$1" grep -q -- "$3" "$2"
}

rig_init() {
  [[ $# -eq 2 ]] || { _rig_die "usage: rig_init BUILD_DIR WORK_DIR"; return 1; }
  RIG_BUILD=$(cd "$1" && pwd) || { _rig_die "no build folder $1"; return 1; }
  mkdir -p "$2" && RIG=$(cd "$2" && pwd) || { _rig_die "cannot create $2"; return 1; }
  export RIG RIG_BUILD
  local b=$RIG_BUILD exe
  for exe in certs/rsp-certs smdp/smdpd simulators/euicc-sim simulators/visited-network lpa/lpa agents/visited-agent \
    agents/home-agent agents/market ledger/ledger-tool; do
    [[ -x $b/$exe ]] || { _rig_die "$b/$exe is not built"; return 1; }
  done
  export RIG_PLMN=20801 RIG_PROFILE_TYPE=roaming-eu RIG_EID=89049032123451234512345678901235
  RIG_WAIT=${RIG_WAIT:-30}
  RIG_PIDS=()
  # The files, in a shell of their own: `set -e` there holds even when the
  # caller runs rig_init in a condition (where bash ignores it in functions).
  bash -euo pipefail -c 'source "$1" && _rig_init_files' rig_init "$_RIG_FILE" > "$RIG/init.log" 2>&1 || { cat "$RIG/init.log" >&2; _rig_die "rig_init failed in $RIG (init.log above)"; return 1; }
  export RIG_LEDGER_DB=$RIG/ledger.db RIG_ADMIN_KEY=$RIG/admin.pem RIG_VISITED_KEY=$RIG/visited.pem \
    RIG_HOME_KEY=$RIG/home.pem RIG_SEAL_KEY=$RIG/seal.pem RIG_REPLY_KEY=$RIG/reply.pem \
    RIG_ORDERS_SPOOL=$RIG/orders RIG_DELIVERY_DIR=$RIG/deliveries RIG_NETWORK_SPOOL=$RIG/network \
    RIG_TLS_CA=$RIG/pki/CERT_CI_ECDSA_NIST.pem
  RIG_EUICC_STATE=$RIG/euicc-state.json
}

# _rig_spawn NAME CMD...: CMD in the background, its output in $RIG/NAME.log; RIG_PID_<NAME> and RIG_PIDS.
_rig_spawn() {
  local name=$1
  shift
  "$@" >> "$RIG/$name.log" 2>&1 &
  local pid=$!
  RIG_PIDS+=("$pid")
  printf -v "RIG_PID_${name//-/_}" '%s' "$pid"
}

_rig_alive() { kill -0 "$1" 2>/dev/null; }

# _rig_up NAME SECONDS CMD...: wait until CMD succeeds, failing early when NAME's process is gone.
_rig_up() {
  local name=$1 secs=$2 var="RIG_PID_${1//-/_}"
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    _rig_alive "${!var}" || { _rig_die "$name exited at start:"; tail -20 "$RIG/$name.log" >&2; return 1; }
    ((SECONDS < deadline)) || { _rig_die "$name did not come up within $secs s:"; tail -20 "$RIG/$name.log" >&2; return 1; }
    sleep 0.1
  done
}

# The agents' "started as" line counts: a restart waits for one more.
_rig_started() { [[ $(grep -c '\] started as ' "$RIG/$1.log" 2>/dev/null) -gt ${2:-0} ]]; }

rig_start() {
  [[ -n ${RIG:-} ]] || { _rig_die "rig_init first"; return 1; }
  local b=$RIG_BUILD
  rig_stop  # a second rig_start without rig_stop restarts, never leaves processes behind
  rm -f "$RIG/smdp.port"
  _rig_spawn smdpd "$b/smdp/smdpd" --config "$RIG/smdp/smdpd.json" serve --port-file "$RIG/smdp.port"
  _rig_up smdpd "$RIG_WAIT" test -s "$RIG/smdp.port" || return 1
  # The card: a fresh state on first start, kept across rig_stop/rig_start.
  : > "$RIG/euicc-sim.log"
  _rig_spawn euicc-sim "$b/simulators/euicc-sim" --cert "$RIG/pki/CERT_EUICC_ECDSA_NIST.der" \
    --key "$RIG/pki/SK_EUICC_ECDSA_NIST.pem" --eum "$RIG/pki/CERT_EUM_ECDSA_NIST.der" \
    --ci "$RIG/pki/CERT_CI_ECDSA_NIST.der" --state "$RIG_EUICC_STATE" --tcp 127.0.0.1:0
  _rig_up euicc-sim "$RIG_WAIT" _rig_wait_line 0 "$RIG/euicc-sim.log" '^listening 127.0.0.1:[0-9]' || return 1
  RIG_EUICC_TCP=$(sed -n 's/^listening \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$RIG/euicc-sim.log" | tail -1)
  export RIG_EUICC_TCP
  local a n
  for a in visited-agent home-agent; do
    n=$(grep -c '\] started as ' "$RIG/$a.log" 2>/dev/null) || true
    _rig_spawn "$a" env RSP_LOG="${RSP_LOG:-info}" "$b/agents/$a" --config "$RIG/$a.json"
    _rig_up "$a" "$RIG_WAIT" _rig_started "$a" "${n:-0}" || return 1
  done
}

rig_stop() {
  local p i
  [[ -n ${RIG_PIDS+x} ]] || return 0  # nothing started (safe in an EXIT trap under set -u)
  for p in "${RIG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${RIG_PIDS[@]}"; do
    for ((i = 0; i < 100; i++)); do _rig_alive "$p" || break; sleep 0.1; done
    if _rig_alive "$p"; then
      echo "rig: pid $p did not stop within 10 s: killed" >&2
      kill -KILL "$p" 2>/dev/null || true
    fi
    wait "$p" 2>/dev/null || true
  done
  RIG_PIDS=()
}

# _rig_lpa ARGS...: the LPA on the eUICC's bridge, trusting the rig's SM-DP+.
_rig_lpa() { "$RIG_BUILD/lpa/lpa" --tcp "$RIG_EUICC_TCP" --ca "$RIG_TLS_CA" "$@"; }

rig_download() {
  [[ $# -eq 1 ]] || { _rig_die "usage: rig_download ACTIVATION_CODE"; return 1; }
  local out iccid
  out=$(_rig_lpa --json profile download -y --ac "$1" 2>> "$RIG/lpa.log") || {
    echo "$out" >> "$RIG/lpa.log"
    _rig_die "download failed: $(jq -r '.error.message // empty' <<< "$out" 2>/dev/null)"
    return 1
  }
  echo "$out" >> "$RIG/lpa.log"
  iccid=$(jq -r '.data.iccid // empty' <<< "$out")
  [[ -n $iccid ]] || { _rig_die "the LPA named no ICCID: $out"; return 1; }
  _rig_lpa profile enable "$iccid" >> "$RIG/lpa.log" 2>&1 || { _rig_die "enable $iccid failed (lpa.log)"; return 1; }
  echo "$iccid"
}

# _rig_handled NAME: waits until the visited agent moved spool file NAME to
# done/ (0) or rejected/ (1).
_rig_handled() {
  local name=$1 deadline=$((SECONDS + RIG_WAIT))
  while ((SECONDS < deadline)); do
    [[ -e $RIG_NETWORK_SPOOL/done/$name ]] && return 0
    [[ -e $RIG_NETWORK_SPOOL/rejected/$name ]] && { _rig_die "the visited agent rejected $name:"; grep -F "${name}" "$RIG/visited-agent.log" | tail -3 >&2; return 1; }
    sleep 0.1
  done
  _rig_die "the visited agent did not handle $name within $RIG_WAIT s"
}

rig_attach() {
  local out name
  out=$("$RIG_BUILD/simulators/visited-network" attach --tcp "$RIG_EUICC_TCP" --hss "$RIG/hss.db" \
    --hss-key "$RIG/hss.key" --plmn "$RIG_PLMN" --spool "$RIG_NETWORK_SPOOL" 2>> "$RIG/visited-network.log") || {
    echo "$out" >> "$RIG/visited-network.log"
    _rig_die "attach refused: $(tail -1 "$RIG/visited-network.log")"
    return 1
  }
  echo "$out" | tee -a "$RIG/visited-network.log"
  RIG_IMSI=$(sed -n 's/^IMSI //p' <<< "$out")
  export RIG_IMSI
  echo "$RIG_IMSI" > "$RIG/attached.imsi"
  name=$(sed -n 's/^spooled //p' <<< "$out")
  [[ -z $name ]] || _rig_handled "$name"
}

rig_usage() {
  [[ $# -ge 3 && $# -le 4 ]] || { _rig_die "usage: rig_usage DATA_MB VOICE_MINUTES SMS [RECORD_ID]"; return 1; }
  local imsi=${RIG_IMSI:-} out name
  [[ -n $imsi ]] || imsi=$(cat "$RIG/attached.imsi" 2>/dev/null) || true
  [[ -n $imsi ]] || { _rig_die "rig_attach first"; return 1; }
  local args=(usage --spool "$RIG_NETWORK_SPOOL" --imsi "$imsi" --data-mb "$1" --voice-minutes "$2" --sms "$3")
  [[ $# -eq 4 ]] && args+=(--record-id "$4")
  out=$("$RIG_BUILD/simulators/visited-network" "${args[@]}" 2>> "$RIG/visited-network.log") || {
    _rig_die "usage record not written: $(tail -1 "$RIG/visited-network.log")"
    return 1
  }
  echo "$out" | tee -a "$RIG/visited-network.log"
  name=$(sed -n 's/^spooled //p' <<< "$out")
  _rig_handled "$name"
}

rig_logs() {
  local f
  for f in "$RIG"/*.log; do
    [[ -f $f ]] || continue
    echo "--- $f"
    tail -n "${1:-30}" "$f"
  done
}
