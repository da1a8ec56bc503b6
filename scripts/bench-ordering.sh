#!/usr/bin/env bash
# Ordering benchmark: 4 peers on this machine, 512-byte payloads submitted
# at fixed offered rates; committed payloads/s and submit-to-commit latency
# (p50/p99) per rate.
#
#   scripts/bench-ordering.sh [RATE ...]         transactions (default rates 500 1000 2000 4000)
#   scripts/bench-ordering.sh --raw [RATE ...]   opaque payloads (default rates 10000 20000 40000)
#   BIN_DIR=dir KEEP=1 SECS=10 scripts/bench-ordering.sh ...   prebuilt binaries; keep the run
#                                                directory; seconds of load per raw rate
#
# Transactions: every payload is a signed, majority-endorsed blind-write
# transaction, submitted by `cryptanet bench` over gRPC, so peers verify 4
# signatures per transaction at commit: ordering + validation + commit, the
# path every real transaction takes.
#
# --raw: the ordering service alone. Each peer runs `ordering-bench`: the
# peer's ordering core as cryptanet-node runs it (PBFT over libp2p, fsynced
# consensus store, blocks with commit certificates fsynced into the RocksDB
# ledger), no gRPC, each peer submitting a quarter of the rate into its own
# engine. Payloads are opaque (validation marks them BAD_PAYLOAD). Latency is
# from when a payload was due to when its block committed at its origin.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cryptanet/target}"
RAW=""; if [ "${1:-}" = "--raw" ]; then RAW=1; shift; fi
RATES=("$@")
if [ ${#RATES[@]} -eq 0 ]; then
  if [ -n "$RAW" ]; then RATES=(10000 20000 40000); else RATES=(500 1000 2000 4000); fi
fi
DIR=$(mktemp -d /tmp/cryptanet-bench.XXXXXX)
trap 'scripts/network.sh down --dir "$DIR" >/dev/null 2>&1 || true; [ -n "$(jobs -p)" ] && kill $(jobs -p) 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT
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
cp "$BIN_DIR/cryptanet-node" "$BIN_DIR/cryptanet" "$BIN_DIR/ordering-bench" "$DIR/target/release/"
export CRYPTANET_SKIP_BUILD=1
export CARGO_TARGET_DIR="$DIR/target"
BIN="$CARGO_TARGET_DIR/release"
# Ports away from the defaults so a bench can run beside scripts/network.sh.
export P2P_BASE="${P2P_BASE:-17051}" GRPC_BASE="${GRPC_BASE:-19051}"
export LEDGER_FSYNC=${LEDGER_FSYNC:-true}
machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F), load average$(uptime | sed 's/.*load average//')"
}

if [ -n "$RAW" ]; then
  SECS=${SECS:-10}
  machine
  echo "raw ordering, 4 peers, 512-byte payloads, ${SECS} s per rate, ledger fsync $LEDGER_FSYNC (dir $DIR)"
  printf '%-10s %-10s %-12s %-10s %-10s %-10s %-8s %-10s\n' "offered" "sent" "committed/s" "p50 ms" "p99 ms" "max ms" "blocks" "cpu cores"
  for r in "${RATES[@]}"; do
    rm -rf "$DIR"/peer*/data
    scripts/network.sh configure --dir "$DIR" --orgs 4 >/dev/null
    start=$(( $(date +%s%3N) + 3000 ))
    pids=()
    for k in 0 1 2 3; do
      "$BIN/ordering-bench" --config "$DIR/peer$k/peer.toml" --rate $((r / 4)) --secs "$SECS" \
        --start-at "$start" --out "$DIR/raw$r.$k.json" >"$DIR/logs/raw$r.$k.log" 2>&1 &
      pids+=($!)
    done
    for p in "${pids[@]}"; do
      wait "$p" || { echo "ordering-bench failed; see $DIR/logs (KEEP=1 keeps it)" >&2; tail -5 "$DIR"/logs/raw$r.*.log >&2; exit 1; }
    done
    python3 - "$r" "$DIR"/raw$r.[0-3].json <<'PY'
import json, sys
rate = sys.argv[1]
rs = [json.load(open(f)) for f in sys.argv[2:]]
secs = rs[0]["secs"]
lat = sorted(l for r in rs for l in r["latencies_us"])
pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1000 if lat else float("nan")
sent = sum(r["sent"] for r in rs)
committed = sum(r["committed"] for r in rs)
# Every replica commits every block: the per-replica mean of what committed in the window.
per_s = sum(r["committed_in_window_all_origins"] for r in rs) / len(rs) / secs
blocks = sum(r["blocks_in_window"] for r in rs) / len(rs)
cpu = sum(r["cpu_secs_in_window"] for r in rs) / secs
lost = f"  ({sent - committed} not committed within the drain)" if committed < sent else ""
print(f"{rate:<10} {sent:<10} {per_s:<12.0f} {pct(0.5):<10.1f} {pct(0.99):<10.1f} {(lat[-1] / 1000 if lat else 0):<10.1f} {blocks:<8.0f} {cpu:<10.2f}{lost}")
PY
  done
  exit 0
fi

PEERS=$(for i in 0 1 2 3; do printf '127.0.0.1:%s,' $((GRPC_BASE + i)); done); PEERS=${PEERS%,}
scripts/network.sh up --dir "$DIR" --orgs 4 >/dev/null
machine
echo "peers: $(cat "$DIR"/pids/*.pid | xargs)  (dir $DIR)"
printf '%-10s %-10s %-12s %-10s %-10s %-10s\n' "offered" "count" "committed/s" "p50 ms" "p99 ms" "max ms"
for r in "${RATES[@]}"; do
  n=$((r * 10)); [ "$n" -lt 1000 ] && n=1000
  "$BIN/cryptanet" bench --workload blind-write --peers "$PEERS" --crypto "$DIR/crypto" --count "$n" --rate "$r" \
    --payload-bytes 512 --json "$DIR/r$r.json" --timeout-secs 120 >/dev/null
  python3 - "$DIR/r$r.json" "$r" "$n" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["runs"][0]; l = d["latency_ms"]
print(f'{sys.argv[2]:<10} {sys.argv[3]:<10} {d["ok_per_s"]:<12.0f} {l["p50"]:<10.1f} {l["p99"]:<10.1f} {l["max"]:<10.1f}  {d["by_validation_code"]} {d["by_grpc_error"]}')
PY
done
