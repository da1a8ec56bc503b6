#!/usr/bin/env bash
# Detection benchmark: cryptanet-detect and scikit-learn on the same splits,
# in one run, printed side by side. Usage: scripts/bench-detect.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-/work/shared/datasets}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cryptanet/target-detect}
VENV=$HOME/.cache/cryptanet/venv
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

cargo build --release -p cryptanet-detect --bin detect-bench
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q scikit-learn
fi
BIN=$CARGO_TARGET_DIR/release/detect-bench
echo "## machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" adbench --data "$DATA" --out "$OUT/splits" | tee "$OUT/rust.txt"
"$BIN" speed --out "$OUT/splits" | tee -a "$OUT/rust.txt"
"$BIN" sim
echo
"$VENV/bin/python" scripts/detect_baseline.py --data "$DATA" --splits "$OUT/splits" --rust "$OUT/rust.txt" ${SKLEARN_SKIP:+--skip "$SKLEARN_SKIP"}
