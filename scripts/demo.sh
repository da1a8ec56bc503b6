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
#   4. builds the supply-chain chaincode to wasm, installs it on every peer and
#      commits its definition (2-of-4 endorsement policy) through _lifecycle;
#   5. trains a cold-chain anomaly model (cryptanet model sample + train, on
#      300 simulated shipments), installs its bytes on every peer, has 3 orgs
#      approve it and activates it for the product class "cold-chain": from
#      then on every endorser scores readings with that model (by hash);
#   6. registers a vaccine shipment (2-8 °C) and records two sensor readings
#      through different gateways: 5.0 °C (normal) and 14.0 °C, which comes
#      back as an open anomaly with its rule breach;
#   7. cryptanet simulate: 8 simulated shipments (products from vaccines to
#      automotive parts, some with injected anomalies) record their readings at
#      40/s through all gateways, while cryptanet watch (on Org2MSP's peer)
#      prints each alert with its explanation;
#   8. cryptanet load: 2,000 signed, majority-endorsed transactions at 400 tx/s,
#      spread over all four gateways, with submit-to-commit latency;
#   9. prints each peer's height and the last blocks with their validation codes
#      and commit-certificate signers, then leaves the network running.
# Stop it with: scripts/network.sh down --dir run/demo
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cryptanet/target}"
scripts/setup.sh
echo "==> building (release; the first build takes a while)"
cargo build --release --workspace --all-targets
BIN="$CARGO_TARGET_DIR/release"
DIR="$PWD/run/demo"
export CRYPTANET_SKIP_BUILD=1
scripts/network.sh down --dir "$DIR" >/dev/null 2>&1 || true
# Every run starts from empty ledgers (org material is kept), so the demo
# tells the same story each time and never trips over data written by an
# older build.
rm -rf "$DIR"/peer*/data
echo "==> starting a 4-org network under $DIR (fresh ledgers)"
scripts/network.sh up --orgs 4 --dir "$DIR"
echo "==> building the supply-chain chaincode (wasm32)"
WASM=$(scripts/build-chaincode.sh | grep '/supply-chain.wasm$')
PEERS=127.0.0.1:9051,127.0.0.1:9052,127.0.0.1:9053,127.0.0.1:9054
CC=(--crypto "$DIR/crypto")
echo "==> deploying supply-chain: install on 4 peers, approve (3 orgs), commit"
"$BIN/cryptanet" chaincode deploy "${CC[@]}" --peers "$PEERS" --wasm "$WASM" --name supply-chain \
  --policy "OutOf(2, 'Org1MSP.peer', 'Org2MSP.peer', 'Org3MSP.peer', 'Org4MSP.peer')"
echo "==> training a cold-chain model on 300 simulated shipments"
"$BIN/cryptanet" model sample --shipments 300 --seed 11 --out "$DIR/cold-chain-train.csv"
"$BIN/cryptanet" model train --csv "$DIR/cold-chain-train.csv" --out "$DIR/cold-chain.model"
echo "==> model lifecycle: install on 4 peers, approve (3 orgs), activate for class cold-chain"
"$BIN/cryptanet" model deploy "${CC[@]}" --peers "$PEERS" --model "$DIR/cold-chain.model" --class cold-chain
"$BIN/cryptanet" model show "${CC[@]}" --org Org2MSP --peer 127.0.0.1:9052 --class cold-chain
NOW=$(($(date +%s) * 1000))
SHIP="VAX-$(date +%s)"
echo "==> shipment $SHIP: vaccines, 2-8 °C, custodian Org1MSP (via peer 1)"
"$BIN/cryptanet" invoke "${CC[@]}" --org Org1MSP --peer 127.0.0.1:9052 supply-chain RegisterShipment \
  "$SHIP" "Temperature-Sensitive Medicine" 120 Basel Oslo Org1MSP 2000 8000 300 450
echo "==> reading at 5.0 °C (via peer 2)"
"$BIN/cryptanet" invoke "${CC[@]}" --org Org1MSP --peer 127.0.0.1:9053 supply-chain RecordReading \
  "$SHIP" "$NOW" 5000 400 120 "47.55,7.59"
echo "==> reading at 14.0 °C (via peer 3)"
"$BIN/cryptanet" invoke "${CC[@]}" --org Org1MSP --peer 127.0.0.1:9054 supply-chain RecordReading \
  "$SHIP" "$((NOW + 60000))" 14000 400 120 "47.60,7.70"
echo "==> open anomalies of $SHIP, as Org2MSP's peer sees them"
"$BIN/cryptanet" query "${CC[@]}" --org Org2MSP --peer 127.0.0.1:9052 supply-chain GetOpenAnomalies "$SHIP"
echo "==> simulator: 8 shipments, readings at 40/s through all gateways; alerts as Org2MSP sees them"
WATCH_LOG="$DIR/alerts.log"
"$BIN/cryptanet" watch "${CC[@]}" --org Org2MSP --peer 127.0.0.1:9052 --seconds 120 --color always >"$WATCH_LOG" 2>&1 &
WATCH_PID=$!
sleep 0.5
"$BIN/cryptanet" simulate "${CC[@]}" --peers "$PEERS" --shipments 8 --rate 40 --anomaly-rate 0.5 --seed 7
sleep 1
kill "$WATCH_PID" 2>/dev/null || true
wait "$WATCH_PID" 2>/dev/null || true
echo "==> the first alerts (all of them: $WATCH_LOG)"
head -n 24 "$WATCH_LOG"
echo "==> ordering 2,000 signed transactions through all four gateways"
"$BIN/cryptanet" load --crypto "$DIR/crypto" --count 2000 --rate 400 --payload-bytes 512
echo "==> the chain as peer 2 (Org3MSP) sees it"
"$BIN/cryptanet" peer blocks --peer 127.0.0.1:9053 --last 8
echo
scripts/network.sh status --dir "$DIR"
cat <<TXT

The network is still running. Look around:
  $BIN/cryptanet query --crypto $DIR/crypto --peer 127.0.0.1:9051 supply-chain GetHistory $SHIP
  $BIN/cryptanet chaincode show --crypto $DIR/crypto supply-chain
  $BIN/cryptanet model show --crypto $DIR/crypto --class cold-chain
  $BIN/cryptanet model list --crypto $DIR/crypto --peer 127.0.0.1:9054
  $BIN/cryptanet peer info --peer 127.0.0.1:9051
  $BIN/cryptanet peer blocks --peer 127.0.0.1:9054 --last 20
  scripts/network.sh logs 0 --dir $DIR
  $BIN/cryptanet watch --crypto $DIR/crypto --peer 127.0.0.1:9053        # follow alerts (Ctrl-C)
Audit every committed verdict (on a stopped peer's ledger, or a copy; the
models come from the peer's data_dir/models):
  scripts/network.sh down --dir $DIR && $BIN/cryptanet audit --ledger $DIR/peer3/data/ledger
Stop it:
  scripts/network.sh down --dir $DIR
TXT
