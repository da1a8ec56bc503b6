#!/usr/bin/env bash
# A local CryptaNet network on this machine: N org peers on 127.0.0.1.
#
#   scripts/network.sh up     [--orgs N] [--dir DIR]   generate material if missing, start peers, wait until healthy
#   scripts/network.sh configure [--orgs N] [--dir DIR] only generate material (if missing) and write the peer configs
#   scripts/network.sh status [--dir DIR]              height, view and primary of every peer
#   scripts/network.sh logs   [--dir DIR] [PEER]       tail the logs (all peers, or peer index PEER)
#   scripts/network.sh down   [--dir DIR]              stop the peers this script started (by recorded PID)
#
# Everything lives under DIR (default: run/network in the repository):
#   DIR/crypto/   private keys and certificates (never commit)
#   DIR/orgs/     public org definitions
#   DIR/peerK/    peer K's config (peer.toml), ledger and consensus state
#   DIR/logs/     one log per peer;  DIR/pids/  one PID file per peer
#
# Ports: libp2p 7051+K, gRPC 9051+K (override with P2P_BASE / GRPC_BASE).
# Each peer's async runtime gets max(1, cores / N) threads (WORKER_THREADS
# overrides): N peers sharing one machine's cores waste less on switching.
# BATCH_TIMEOUT_MS sets the primary's batch timeout (default 10),
# MAX_BATCH_COUNT the requests per block (default 512), MAX_PENDING the
# unexecuted requests a peer holds before it stops taking submissions (4096).
set -euo pipefail
CALLER=$PWD
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cryptanet/target}"
BIN="$CARGO_TARGET_DIR/release"

cmd="${1:-}"; shift || true
ORGS=4
DIR="$ROOT/run/network"
PEER=""
while [ $# -gt 0 ]; do
  case "$1" in
    --orgs) ORGS="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) PEER="$1"; shift ;;
  esac
done
# A relative --dir is relative to where the script was called from, and
# made absolute: peer.toml paths must not depend on the peers' directory.
case "$DIR" in /*) ;; *) DIR="$CALLER/$DIR" ;; esac
P2P_BASE="${P2P_BASE:-7051}"
GRPC_BASE="${GRPC_BASE:-9051}"
WORKER_THREADS="${WORKER_THREADS:-$(( $(nproc) / ORGS > 1 ? $(nproc) / ORGS : 1 ))}"

build() {
  if [ -z "${CRYPTANET_SKIP_BUILD:-}" ]; then
    echo "network: building cryptanet-node and cryptanet (release)"
    cargo build --release -q --workspace --all-targets
  fi
}

peer_count() { { ls -d "$DIR"/peer* 2>/dev/null || true; } | wc -l; }

# Material (if missing) and DIR/peerK/peer.toml for every org.
configure() {
  mkdir -p "$DIR/logs" "$DIR/pids"
  if [ ! -d "$DIR/orgs" ] || [ "$(ls "$DIR/orgs" | wc -l)" != "$ORGS" ]; then
    echo "network: generating material for $ORGS orgs"
    "$BIN/cryptanet" orgs generate --orgs "$ORGS" --out "$DIR/crypto" --orgs-dir "$DIR/orgs" \
      --host 127.0.0.1 --base-port "$P2P_BASE" >/dev/null
  fi
  local k=0
  for org in $(ls "$DIR/orgs" | sort); do
    local pdir="$DIR/peer$k"
    mkdir -p "$pdir"
    cat > "$pdir/peer.toml" <<TOML
# Written by scripts/network.sh
identity_dir = "$DIR/crypto/$org/peer0"
orgs_dir = "$DIR/orgs"
data_dir = "$pdir/data"
grpc_listen = "127.0.0.1:$((GRPC_BASE + k))"
ledger_fsync = ${LEDGER_FSYNC:-true}
worker_threads = $WORKER_THREADS
[pbft]
${BATCH_TIMEOUT_MS:+batch_timeout_ms = $BATCH_TIMEOUT_MS}
${MAX_BATCH_COUNT:+max_batch_count = $MAX_BATCH_COUNT}
${MAX_PENDING:+max_pending_requests = $MAX_PENDING}
TOML
    k=$((k + 1))
  done
}

up() {
  build
  configure
  local k=0
  for org in $(ls "$DIR/orgs" | sort); do
    local pdir="$DIR/peer$k"
    if [ -f "$DIR/pids/peer$k.pid" ] && kill -0 "$(cat "$DIR/pids/peer$k.pid")" 2>/dev/null; then
      echo "network: peer$k ($org) already running (pid $(cat "$DIR/pids/peer$k.pid"))"
    else
      nohup "$BIN/cryptanet-node" --config "$pdir/peer.toml" >>"$DIR/logs/peer$k.log" 2>&1 &
      echo $! > "$DIR/pids/peer$k.pid"
      echo "network: started peer$k ($org) pid $! grpc 127.0.0.1:$((GRPC_BASE + k))"
    fi
    k=$((k + 1))
  done
  echo -n "network: waiting for peers to be healthy"
  for _ in $(seq 1 120); do
    local ok=0
    for i in $(seq 0 $((k - 1))); do
      "$BIN/cryptanet" peer info --peer "127.0.0.1:$((GRPC_BASE + i))" >/dev/null 2>&1 && ok=$((ok + 1))
    done
    if [ "$ok" = "$k" ]; then echo " ok"; status; return 0; fi
    echo -n "."; sleep 0.5
  done
  echo " timed out; see $DIR/logs" >&2
  return 1
}

status() {
  local k; k=$(peer_count)
  [ "$k" -gt 0 ] || { echo "network: nothing under $DIR"; return 0; }
  for i in $(seq 0 $((k - 1))); do
    local pid="-"; [ -f "$DIR/pids/peer$i.pid" ] && pid=$(cat "$DIR/pids/peer$i.pid")
    local state="stopped"; [ "$pid" != "-" ] && kill -0 "$pid" 2>/dev/null && state="running"
    printf 'peer%-2s %-8s pid %-7s grpc 127.0.0.1:%-5s ' "$i" "$state" "$pid" "$((GRPC_BASE + i))"
    "$BIN/cryptanet" peer info --peer "127.0.0.1:$((GRPC_BASE + i))" 2>/dev/null || echo "(no answer)"
  done
  echo "logs: $DIR/logs   configs: $DIR/peer*/peer.toml   material: $DIR/crypto (private)"
}

logs() {
  if [ -n "$PEER" ]; then tail -n 100 -f "$DIR/logs/peer$PEER.log"; else tail -n 20 -f "$DIR"/logs/*.log; fi
}

down() {
  shopt -s nullglob
  for f in "$DIR"/pids/*.pid; do
    local pid; pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" && echo "network: stopping $(basename "$f" .pid) (pid $pid)"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$f"
  done
}

case "$cmd" in
  up) up ;;
  configure) build; configure ;;
  status) status ;;
  logs) logs ;;
  down) down ;;
  *) sed -n '2,21p' "$0"; exit 2 ;;
esac
