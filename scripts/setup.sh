#!/usr/bin/env bash
# Installs what CryptaNet needs to build and test, idempotently.
#
#   - Debian packages: clang + libclang-dev (RocksDB bindings), protobuf-compiler
#     (gRPC stubs), lld (wasm-ld), python3-venv, and the Debian Rust toolchain
#     that can target wasm32 (rustc-web, cargo-web, rust-web-src), used to build
#     chaincode when rustup has no wasm32 target installed.
#   - A Rust toolchain (rustup's stable is expected to be present).
#
# Source it (`. scripts/setup.sh`) to also get CARGO_TARGET_DIR exported: a
# persistent build directory outside the clone, so a fresh clone builds warm.
set -euo pipefail

need=()
for pkg in clang libclang-dev protobuf-compiler lld python3-venv rustc-web cargo-web rust-web-src; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if ! $SUDO apt-get install -y --no-install-recommends "${need[@]}"; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends "${need[@]}"
  fi
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: no Rust toolchain found; install rustup (https://rustup.rs) and re-run" >&2
    exit 1
  fi
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cryptanet/target}"
mkdir -p "$CARGO_TARGET_DIR"
echo "setup: ok (CARGO_TARGET_DIR=$CARGO_TARGET_DIR, $(cargo --version))"
