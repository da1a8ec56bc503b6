#!/usr/bin/env bash
# The standard CryptaNet benchmark: a fresh 4-org network on this machine,
# the supply-chain chaincode deployed with a 2-of-4 endorsement policy, then
#   1. record-reading, open loop at RR_RATE tx/s (default 700, about half the maximum here)
#   2. record-reading, closed loop doubling clients from 64 until committed
#      tx/s stops rising (or p99 > 2 s)
#   3. record-reading in batches of BATCH (default 32) per EndorseBatch and
#      SubmitBatch call, open loop at RB_RATE tx/s (default 1050, about half
#      the batched maximum here)
#   4. the same batches, closed loop of RB_CLIENTS clients (default 16)
#   5. blind-write, open loop at BW_RATE tx/s (default 800)
#   6. query (Evaluate GetShipment), closed loop of 32 clients
# and a markdown table of the results with the machine it ran on.
#
#   scripts/bench.sh                         build, run, tear down
#   RR_RATE=300 SECS=20 scripts/bench.sh     other rate / seconds per run (also RB_RATE, BW_RATE, BATCH)
#   BIN_DIR=dir KEEP=1 scripts/bench.sh      prebuilt binaries; keep the network dir
#
# Results (JSON per workload, results.md) go to run/bench/<UTC time>/.
# Peers are started from private copies of the binaries on their own ports
# (P2P_BASE 27051, GRPC_BASE 29051), so scripts/network.sh can run beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cryptanet/target}"
RR_RATE="${RR_RATE:-700}" RB_RATE="${RB_RATE:-1050}" BW_RATE="${BW_RATE:-800}" SECS="${SECS:-20}"
BATCH="${BATCH:-32}"
OUT="$ROOT/run/bench/$(date -u +%Y%m%dT%H%M%SZ)"
NET="$ROOT/run/bench/network"
mkdir -p "$OUT"
export P2P_BASE="${P2P_BASE:-27051}" GRPC_BASE="${GRPC_BASE:-29051}"
cleanup() {
  scripts/network.sh down --dir "$NET" >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || rm -rf "$NET"
}
trap cleanup EXIT
cleanup   # a previous run interrupted before its trap: start fresh
# Workspace-wide builds only (single-package builds unify features
# differently and rebuild RocksDB). The executables are copied the moment
# the build returns: other checkouts may share the build directory.
if [ -z "${BIN_DIR:-}" ]; then
  cargo build --release -q --workspace --all-targets
  BIN_DIR="$CARGO_TARGET_DIR/release"
fi
mkdir -p "$NET/target/release"
cp "$BIN_DIR/cryptanet-node" "$BIN_DIR/cryptanet" "$NET/target/release/"
C="$NET/target/release/cryptanet"
WASM=$(scripts/build-chaincode.sh | grep '/supply-chain.wasm$')
CRYPTANET_SKIP_BUILD=1 CARGO_TARGET_DIR="$NET/target" LEDGER_FSYNC="${LEDGER_FSYNC:-true}" \
  scripts/network.sh up --dir "$NET" --orgs 4 >"$OUT/network.log"
PEERS=$(for i in 0 1 2 3; do printf '127.0.0.1:%s,' $((GRPC_BASE + i)); done); PEERS=${PEERS%,}
ORGS=$(ls "$NET/orgs" | sort)
POLICY="OutOf(2, $(for o in $ORGS; do printf "'%s.peer', " "$o"; done | sed 's/, $//'))"
"$C" chaincode deploy --crypto "$NET/crypto" --peers "$PEERS" --wasm "$WASM" \
  --name supply-chain --policy "$POLICY" >>"$OUT/network.log"
MACHINE="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "machine: $MACHINE; load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/machine.txt"
B=("$C" bench --crypto "$NET/crypto" --run-dir "$NET" --peers "$PEERS")
"${B[@]}" --workload record-reading --rate "$RR_RATE" --count $((RR_RATE * SECS)) --json "$OUT/record-reading-open.json"
"${B[@]}" --workload record-reading --find-max --concurrency 64 --count 8000 --p99-bound-ms 2000 \
  --json "$OUT/record-reading-max.json"
"${B[@]}" --workload record-reading --batch "$BATCH" --rate "$RB_RATE" --count $((RB_RATE * SECS)) \
  --json "$OUT/record-reading-batch-open.json"
"${B[@]}" --workload record-reading --batch "$BATCH" --concurrency "${RB_CLIENTS:-16}" --count 24000 \
  --json "$OUT/record-reading-batch-max.json"
"${B[@]}" --workload blind-write --rate "$BW_RATE" --count $((BW_RATE * SECS)) --json "$OUT/blind-write-open.json"
"${B[@]}" --workload query --concurrency 32 --count 20000 --json "$OUT/query-closed.json"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
python3 - "$OUT" "$MACHINE" >"$OUT/results.md" <<'PY'
import json, sys, pathlib
out, machine = pathlib.Path(sys.argv[1]), sys.argv[2]
files = ["record-reading-open", "record-reading-max", "record-reading-batch-open",
         "record-reading-batch-max", "blind-write-open", "query-closed"]
print(pathlib.Path(out, "machine.txt").read_text().strip().replace("\n", "; ") + f"; {out.name} UTC\n")
print("| workload | mode | offered | sent | ok | failed | ok/s | p50 ms | p90 ms | p99 ms | max ms | CPU % of a core: peers 0-3 / client |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for f in files:
    for r in json.load(open(out / f"{f}.json"))["runs"]:
        l = r["latency_ms"]
        offered = f'{r["offered_rate"]:.0f}/s' if r["offered_rate"] else f'{r["concurrency"]} clients'
        why = {k: v for k, v in r["by_validation_code"].items() if k != "VALID"} | r["by_grpc_error"]
        if r["timed_out"]: why["timed out"] = r["timed_out"]
        failed = str(r["failed"]) + (" (" + ", ".join(f"{k} {v}" for k, v in why.items()) + ")" if why else "")
        cpu = " / ".join("n/a" if c["pct_of_core"] is None else f'{c["pct_of_core"]:.0f}' for c in r["cpu_per_peer"])
        mode = r["mode"] + (f', batch {r["batch"]}' if r.get("batch", 1) > 1 else "")
        print(f'| {r["workload"]} | {mode} | {offered} | {r["sent"]} | {r["committed_valid"]} | {failed} | {r["ok_per_s"]:.0f} | {l["p50"]:.0f} | {l["p90"]:.0f} | {l["p99"]:.0f} | {l["max"]:.0f} | {cpu} |')
PY
cat "$OUT/results.md"
echo "results: $OUT"
