#!/usr/bin/env bash
# Configures and builds one tree: scripts/build.sh [DIR [CMAKE_ARGS...]]
# (default DIR: build). Prints only warnings/errors and a final line.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$dir.configure.log" 2>&1 ||
  { cat "$dir.configure.log" >&2; exit 1; }
cmake --build "$dir" -j"$(nproc)" >"$dir.build.log" 2>&1 ||
  { grep -E 'error|Error' "$dir.build.log" | head -50 >&2; echo "weft: build of $dir failed; see $dir.build.log" >&2; exit 1; }
echo "weft: built $dir"
