#!/usr/bin/env bash
# Scheduler benchmarks: what recording context switches costs. Prints a
# markdown section on stdout (bench/run.sh collects it into
# bench/RESULTS.md); each figure sits beside its untraced baseline, and
# beside `perf record -e dummy --switch-events`, measured in the same run.
#
#   bench/sched/run.sh [BUILD_DIR]     (default: <repo>/build)
#
# Builds pipe_pingpong and perf_floor with cc into bench/out/sched/ (gitignored), where the
# generated xz input, the generated C project and the scratch traces live
# too. Needs cc, make, xz, python3 and perf (Debian linux-perf). About three
# minutes on two cores. Never run in CI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
work=$here/../out/sched
mkdir -p "$work"
work=$(cd "$work" && pwd)

cc -O2 -Wall -Wextra -Werror -pthread "$here/pipe_pingpong.c" -o "$work/pipe_pingpong"
cc -O2 -Wall -Wextra -Werror "$here/perf_floor.c" -o "$work/perf_floor"
python3 "$here/measure.py" --build "$build" --bin "$work" --work "$work"
