#!/usr/bin/env bash
# The fleet bench: load rate into one local ClickHouse (scripts/weft-ship
# beside sqlite3 -csv | clickhouse-client) and a cross-trace aggregate over
# TRACES recorded traces. Prints a Markdown section for bench/RESULTS.md.
#   bench/fleet/run.sh [BUILD_DIR]    env: TRACES=100 REPEAT=5 SEQ=30000000
# Needs clickhouse-server, clickhouse-client and sqlite3 (scripts/deps.sh --test).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
WEFT_BIN=${WEFT_BIN:-$(realpath "$build")/bin/weft} exec python3 bench/fleet/bench_fleet.py "$build"
