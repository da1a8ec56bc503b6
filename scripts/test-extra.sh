#!/usr/bin/env bash
# Suites scripts/test.sh runs after the cargo tests: ones that need real
# processes or another language.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-scripts.sh
scripts/test-python-client.sh
