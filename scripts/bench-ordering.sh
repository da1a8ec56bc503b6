#!/usr/bin/env bash
# Raw ordering benchmark: a fresh 4-org network on this machine, 512-byte
# payloads submitted at fixed offered rates, committed tx/s and
# submit-to-commit latency (p50/p99) per rate.
#
#   scripts/bench-ordering.sh [RATE ...]     default rates: 500 1000 2000 4000
#   BIN_DIR=dir KEEP=1 scripts/bench-ordering.sh ...   prebuilt binaries; keep the run directory
#
# Every payload is a signed, majority-endorsed blind-write transaction, so
# peers verify 4 signatures per transaction at commit: this measures
# ordering + validation + commit, the path every real transaction takes.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cryptanet/target}"
RATES=("$@"); [ ${#RATES[@]} -gt 0 ] || RATES=(500 1000 2000 4000)
DIR=$(mktemp -d /tmp/cryptanet-bench.XXXXXX)
trap 'scripts/network.sh down --dir "$DIR" >/dev/null 2>&1 || true; [ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT
# Workspace-wide: building single packages unifies features differently and
# rebuilds RocksDB's C++. The build directory may be shared with other
# checkouts, whose builds replace release/cryptanet-node: always (re)build,
# which holds cargo's lock, and copy the executables the moment it returns.
# BIN_DIR=dir skips the build and runs the executables found there.
mkdir -p "$DIR/target/release"
if [ -z "${BIN_DIR:-}" ]; then
  cargo build --release -q --workspace --bins
  BIN_DIR="$CARGO_TARGET_DIR/release"
fi
cp "$BIN_DIR/cryptanet-node" "$BIN_DIR/cryptanet" "$DIR/target/release/"
export CRYPTANET_SKIP_BUILD=1
export CARGO_TARGET_DIR="$DIR/target"
# Ports away from the defaults so a bench can run beside scripts/network.sh.
export P2P_BASE="${P2P_BASE:-17051}" GRPC_BASE="${GRPC_BASE:-19051}"
PEERS=$(for i in 0 1 2 3; do printf '127.0.0.1:%s,' $((GRPC_BASE + i)); done); PEERS=${PEERS%,}
LEDGER_FSYNC=${LEDGER_FSYNC:-true} scripts/network.sh up --dir "$DIR" --orgs 4 >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F), load average$(uptime | sed 's/.*load average//')"
echo "peers: $(cat "$DIR"/pids/*.pid | xargs)  (dir $DIR)"
printf '%-10s %-10s %-12s %-10s %-10s %-10s\n' "offered" "count" "committed/s" "p50 ms" "p99 ms" "max ms"
for r in "${RATES[@]}"; do
  n=$((r * 10)); [ "$n" -lt 1000 ] && n=1000
  "$CARGO_TARGET_DIR/release/cryptanet" bench --workload blind-write --peers "$PEERS" --crypto "$DIR/crypto" --count "$n" --rate "$r" \
    --payload-bytes 512 --json "$DIR/r$r.json" --timeout-secs 120 >/dev/null
  python3 - "$DIR/r$r.json" "$r" "$n" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["runs"][0]; l = d["latency_ms"]
print(f'{sys.argv[2]:<10} {sys.argv[3]:<10} {d["ok_per_s"]:<12.0f} {l["p50"]:<10.1f} {l["p99"]:<10.1f} {l["max"]:<10.1f}  {d["by_validation_code"]} {d["by_grpc_error"]}')
PY
done
