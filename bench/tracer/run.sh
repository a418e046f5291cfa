#!/usr/bin/env bash
# Tracer benchmarks: prints a markdown section on stdout (bench/run.sh
# collects it into bench/RESULTS.md). Each figure is printed beside its
# untraced baseline measured in the same run; what the built tools cannot
# do yet is reported as "not measured: reason".
#
#   bench/tracer/run.sh [BUILD_DIR]     (default: <repo>/build)
#
# Needs gcc, python3 and hyperfine. Takes a few minutes. Never run in CI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
work=$(mktemp -d /tmp/weft-bench-tracer.XXXXXX)
trap 'rm -rf "$work"' EXIT

for b in mutex_bench handoff_bench; do
  gcc -O2 -Wall -Wextra -Werror -pthread "$here/$b.c" -o "$work/$b"
done
gcc -O2 -Wall -Wextra -Werror "$here/sqlite_insert.c" -lsqlite3 -o "$work/sqlite_insert"
gcc -O2 -Wall -Wextra -Werror -shared -fPIC "$here/empty_preload.c" -o "$work/libempty.so"
python3 "$here/measure.py" --build "$build" --bin "$work" --work "$work"
