#!/usr/bin/env bash
# scripts/lib.sh free_port: ports below the kernel's ephemeral range, and
# never one that any socket uses (a TIME_WAIT one included).
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
if ((low <= 10001)); then echo "ephemeral range starts at $low: skipped"; exit 0; fi
fails=0
for _ in $(seq 20); do
  p=$(free_port)
  if ((p < 10000 || p >= low)); then echo "free_port gave $p (ephemeral range starts at $low)"; fails=$((fails + 1)); fi
  if [[ -n $(ss -Htan "( sport = :$p )") ]]; then echo "free_port gave $p, which a socket uses"; fails=$((fails + 1)); fi
done
echo "$((20 - fails)) passed, $fails failed"
((fails == 0))
