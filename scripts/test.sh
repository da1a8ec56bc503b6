#!/usr/bin/env bash
# Runs CryptaNet's test suite: everything CI runs.
#
#   scripts/test.sh            # install what is missing, build, run all tests
#
# Builds with the release profile (tests, benches and binaries share one
# build of the dependency tree) into a persistent CARGO_TARGET_DIR outside
# the clone (default ~/.cache/cryptanet/target).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cryptanet/target}"
scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }

if [ -x scripts/build-chaincode.sh ]; then
  step "building example chaincode to wasm32"
  scripts/build-chaincode.sh
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "tests (release profile)"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --release --workspace --no-fail-fast
  # nextest does not run doctests
  cargo test --release --workspace --doc
else
  cargo test --release --workspace --no-fail-fast
fi

if [ -x scripts/test-extra.sh ]; then
  step "extra suites"
  scripts/test-extra.sh
fi
step "all tests passed"
