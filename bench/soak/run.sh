#!/usr/bin/env bash
# Soak benchmark (bench/soak/soak.py says what it measures): prints a
# markdown section.
#
#   bench/soak/run.sh [BUILD_DIR]          (default: build)
#   SOAK_MINUTES=3 bench/soak/run.sh       (default 10)
#
# Needs redis-server and redis-benchmark: scripts/deps.sh --bench.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
exec python3 bench/soak/soak.py "$build" "${SOAK_MINUTES:-10}"
