#!/usr/bin/env bash
# The Python client end to end: unit tests of its canonical encoder (golden
# vectors shared with node/types), then a fresh 4-org network in a temp dir,
# the supply-chain chaincode deployed with the CLI, and
# clients/python/tests/test_anomaly.py against it. The network is always
# torn down on exit.
#
#   scripts/test-python-client.sh
#
# Needs the release binaries (cryptanet, cryptanet-node) in CARGO_TARGET_DIR
# and the supply-chain wasm (scripts/build-chaincode.sh); builds what is
# missing. Python packages (clients/python/requirements.txt) go into a venv
# at ~/.cache/cryptanet/venv-client. Ports: libp2p PY_P2P_BASE+K (17351),
# gRPC PY_GRPC_BASE+K (19351).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cryptanet/target}"
BIN="$CARGO_TARGET_DIR/release"
VENV="$HOME/.cache/cryptanet/venv-client"
WASM="${CRYPTANET_WASM_OUT:-$HOME/.cache/cryptanet/wasm-out}/supply-chain.wasm"
export P2P_BASE="${PY_P2P_BASE:-17351}" GRPC_BASE="${PY_GRPC_BASE:-19351}"
START=$(date +%s)

say() { printf 'python-client [+%ss]: %s\n' "$(( $(date +%s) - START ))" "$*"; }

# Python environment, reinstalled only when requirements.txt changes.
REQ="$ROOT/clients/python/requirements.txt"
STAMP="$VENV/.requirements.sha256"
if [ ! -x "$VENV/bin/python" ]; then
  say "creating venv $VENV"
  python3 -m venv "$VENV"
fi
WANT=$(sha256sum < "$REQ")
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  say "installing $(grep -v '^#' "$REQ" | tr '\n' ' ')"
  timeout 600 "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
  echo "$WANT" > "$STAMP"
fi
PY="$VENV/bin/python"

say "encoder unit tests (golden vectors)"
(cd clients/python && timeout 120 "$PY" -m unittest -v tests.test_encoding)

if [ ! -x "$BIN/cryptanet" ] || [ ! -x "$BIN/cryptanet-node" ]; then
  say "building release binaries"
  cargo build --release --workspace --all-targets
fi
[ -f "$WASM" ] || scripts/build-chaincode.sh

DIR=$(mktemp -d /tmp/cryptanet-pyclient.XXXXXX)
cleanup() {
  local rc=$? f
  # Signal every peer first so they stop in parallel (each takes ~2 s to
  # exit), then let network.sh wait for them and clean up.
  for f in "$DIR"/pids/*.pid; do kill -TERM "$(cat "$f")" 2>/dev/null || true; done
  CRYPTANET_SKIP_BUILD=1 scripts/network.sh down --dir "$DIR" >/dev/null 2>&1 || true
  if [ "$rc" != 0 ] && [ -d "$DIR/logs" ]; then
    say "FAILED (exit $rc); last peer log lines:"
    tail -n 15 "$DIR"/logs/*.log >&2 || true
  fi
  rm -rf "$DIR"
  exit "$rc"
}
trap cleanup EXIT INT TERM

say "starting a 4-org network in $DIR"
CRYPTANET_SKIP_BUILD=1 timeout 180 scripts/network.sh up --orgs 4 --dir "$DIR" >/dev/null
PEERS=$(seq -s, -f "127.0.0.1:%g" "$GRPC_BASE" "$((GRPC_BASE + 3))")

say "deploying supply-chain"
timeout 180 "$BIN/cryptanet" chaincode deploy --crypto "$DIR/crypto" --peers "$PEERS" \
  --wasm "$WASM" --name supply-chain \
  --policy "OutOf(2, 'Org1MSP.peer', 'Org2MSP.peer', 'Org3MSP.peer', 'Org4MSP.peer')" >/dev/null

say "end-to-end test against $PEERS"
(cd clients/python && CRYPTANET_CRYPTO="$DIR/crypto" CRYPTANET_GATEWAYS="$PEERS" \
  timeout 300 "$PY" -m unittest -v tests.test_anomaly)

say "passed (teardown follows)"
