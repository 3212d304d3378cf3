# Shell helpers shared by scripts/demo-sgp22.sh and the end-to-end test scripts.
# Source it; it defines functions only.

# start_work: a scratch folder $WORK and a list $PIDS of background
# processes; on exit every one of them is stopped by pid and $WORK removed.
start_work() {
  WORK=$(mktemp -d)
  PIDS=()
  trap stop_work EXIT
}
stop_work() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}

# A TCP port on 127.0.0.1 that no socket uses, in any state (bounded: 50
# tries). Drawn from 10000-32000, below the kernel's ephemeral range
# (net.ipv4.ip_local_port_range, 32768-60999 by default), so an outgoing
# connection cannot take it before our server binds it. `ss` lists every
# state, TIME_WAIT included: a port that a connect() test would call free can
# still refuse a bind.
free_port() {
  local p low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  ((low > 10001)) || low=32768
  for p in $(shuf -i "10000-$(( (low - 1) < 32000 ? (low - 1) : 32000 ))" -n 50); do
    if [[ -z $(ss -Htan "( sport = :$p )" 2>/dev/null) ]] && ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "no free port" >&2
  return 1
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.2 s until it succeeds or time runs out.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# write_smdp_config DIR PORT SUFFIX: smdp.json in DIR for an SM-DP+ on
# localhost:PORT with the test PKI in DIR/pki (SUFFIX NIST or BRP; the TLS
# certificate is always the P-256 one) and a fresh storage key.
write_smdp_config() {
  local dir=$1 port=$2 sfx=$3
  # smdpd refuses key files others can read: create it 0600.
  (umask 077 && head -c 32 /dev/urandom | od -An -tx1 -v | tr -d ' \n' > "$dir/storage.key")
  cat > "$dir/smdp.json" <<JSON
{
  "address": "localhost:$port", "listen": "127.0.0.1", "port": $port,
  "db": "smdp.db", "storage_key_file": "storage.key",
  "tls": {"certificate": "pki/CERT_S_SM_DP_TLS_NIST.der", "key": "pki/SK_S_SM_DP_TLS_NIST.pem",
          "ci_certificate": "pki/CERT_CI_ECDSA_NIST.der"},
  "credentials": [{"ci_certificate": "pki/CERT_CI_ECDSA_$sfx.der",
    "dpauth_certificate": "pki/CERT_S_SM_DPauth_ECDSA_$sfx.der", "dpauth_key": "pki/SK_S_SM_DPauth_ECDSA_$sfx.pem",
    "dppb_certificate": "pki/CERT_S_SM_DPpb_ECDSA_$sfx.der", "dppb_key": "pki/SK_S_SM_DPpb_ECDSA_$sfx.pem"}]
}
JSON
}
