#!/usr/bin/env bash
# Checks of the shell scripts' argument handling that need no network.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# A relative --dir names a directory under the caller's working directory,
# and the peer configs it holds must not depend on where the peers start.
out=$(cd "$tmp" && "$ROOT/scripts/network.sh" status --dir rel/net)
expected="network: nothing under $tmp/rel/net"
if [ "$out" != "$expected" ]; then
  echo "test-scripts: network.sh status --dir rel/net printed '$out', expected '$expected'" >&2
  exit 1
fi
echo "test-scripts: network.sh resolves a relative --dir against the caller's directory"
