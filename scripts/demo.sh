#!/usr/bin/env bash
# The main job: a local 4-org CryptaNet network on this machine.
#
#   scripts/demo.sh            # set up, build, start 4 peers, order and commit
#                              # 2,000 signed transactions, show the chain
#
# What it does, step by step:
#   1. scripts/setup.sh installs what is missing (idempotent);
#   2. builds cryptanet-node and the cryptanet CLI (release);
#   3. scripts/network.sh up: org CAs and certificates (run/demo/crypto, private),
#      public org definitions (run/demo/orgs), one peer per org on 127.0.0.1;
#   4. cryptanet load: 2,000 signed, majority-endorsed transactions at 400 tx/s,
#      spread over all four gateways, with submit-to-commit latency;
#   5. prints each peer's height and the last blocks with their validation codes
#      and commit-certificate signers, then leaves the network running.
# Stop it with: scripts/network.sh down --dir run/demo
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cryptanet/target}"
scripts/setup.sh
echo "==> building (release; the first build takes a while)"
cargo build --release -p cryptanet-node -p cryptanet-cli
BIN="$CARGO_TARGET_DIR/release"
DIR="$PWD/run/demo"
export CRYPTANET_SKIP_BUILD=1
scripts/network.sh down --dir "$DIR" >/dev/null 2>&1 || true
echo "==> starting a 4-org network under $DIR"
scripts/network.sh up --orgs 4 --dir "$DIR"
echo "==> ordering 2,000 signed transactions through all four gateways"
"$BIN/cryptanet" load --crypto "$DIR/crypto" --count 2000 --rate 400 --payload-bytes 512
echo "==> the chain as peer 2 (Org3MSP) sees it"
"$BIN/cryptanet" peer blocks --peer 127.0.0.1:9053 --last 8
echo
scripts/network.sh status --dir "$DIR"
cat <<TXT

The network is still running. Look around:
  $BIN/cryptanet peer info --peer 127.0.0.1:9051
  $BIN/cryptanet peer blocks --peer 127.0.0.1:9054 --last 20
  scripts/network.sh logs 0 --dir $DIR
Stop it:
  scripts/network.sh down --dir $DIR
TXT
