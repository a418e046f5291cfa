#!/usr/bin/env bash
# What the stacks of waits cost (issue: call sites and stacks). Prints a
# markdown section on stdout.
#
#   bench/stacks/run.sh [BUILD_DIR [BASE_BUILD_DIR]]   (bench/run.sh runs it)
#
# BASE_BUILD_DIR: a build of the commit before stacks, for the uncontended
# lock (weft-bench-preload, best of its rounds, both builds alternated).
# Handoffs (condvar and pipe ping-pong, stacks_bench.c): the median of RUNS
# runs of `weft record --stacks=full` and `--stacks=none`, alternated.
# The unwinders: stacks_bench unwind (12 frames under a libc frame).
# Symbolizing: meta stacks_symbolize_ns of `weft record -- make -j2` of
# this project (a fresh build tree), against the recording's wall time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
base=${2:-}
runs=${RUNS:-5}
n=${HANDOFFS:-20000}
work=$(mktemp -d /tmp/weft-bench-stacks.XXXXXX)
trap 'rm -rf "$work"' EXIT
gcc -O2 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -pthread "$here/stacks_bench.c" \
  -lunwind -o "$work/stacks_bench"
weft=$build/bin/weft

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "## Stacks of waits (bench/stacks/run.sh)"
echo
echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
builds=("$build")
[[ -n "$base" ]] && builds=("$base" "$build")
if [[ -x "$build/bin/weft-bench-preload" ]]; then
  echo "### Uncontended lock+unlock through the wrapper (weft-bench-preload, best of rounds)"
  echo
  echo "| build | native | preloaded |"
  echo "|---|---:|---:|"
  for round in 1 2 3; do
    for b in "${builds[@]}"; do
      out=$("$b/bin/weft-bench-preload" 5000000)
      native=$(awk '/mutex\/native/ {print $2}' <<<"$out")
      pre=$(awk '/mutex\/preloaded/ {print $2}' <<<"$out")
      echo "| $([[ $b == "$base" ]] && echo before || echo stacks) (round $round) | $native ns | $pre ns |"
    done
  done
  echo
fi
echo "### Handoffs: weft record --stacks=full against --stacks=none ($n round trips, median of $runs)"
echo
echo "| workload | untraced | --stacks=none | --stacks=full | added per wait by stacks |"
echo "|---|---:|---:|---:|---:|"
for w in cond pipe; do
  : >"$work/none" ; : >"$work/full"; : >"$work/plain"
  for ((i = 0; i < runs; i++)); do
    "$work/stacks_bench" $w "$n" | awk '{print $1}' >>"$work/plain"
    for mode in none full; do
      "$weft" record -q --force --stacks=$mode -o "$work/t.db" -- "$work/stacks_bench" $w "$n" |
        awk '{print $1}' >>"$work/$mode"
    done
  done
  plain=$(median <"$work/plain"); none=$(median <"$work/none"); full=$(median <"$work/full")
  echo "| $w ping-pong | $plain ns | $none ns | $full ns | $((full - none)) ns |"
done
echo
echo "(a handoff is one blocking wait and the call that wakes it: both stacks)"
echo
echo "### Unwinders (12+ frames, from under qsort's comparator)"
echo
echo '```'
"$work/stacks_bench" unwind 20000
echo '```'
echo
if [[ "${SKIP_MAKE:-0}" != 1 ]]; then
  echo "### Symbolizing the make -j2 trace of this project"
  echo
  cmake -S "$root" -B "$work/mk" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  start=$(date +%s%N)
  "$weft" record -q -o "$work/make.db" -- make -C "$work/mk" -j2 >/dev/null 2>&1
  end=$(date +%s%N)
  sym=$(sqlite3 "$work/make.db" "SELECT value FROM meta WHERE key = 'stacks_symbolize_ns'")
  frames=$(sqlite3 "$work/make.db" "SELECT COUNT(*) FROM stack_frame")
  procs=$(sqlite3 "$work/make.db" "SELECT COUNT(*) FROM process")
  wall=$(( (end - start) / 1000000 ))
  echo "- processes: $procs, frames: $frames"
  echo "- recording wall time: $wall ms; of which symbolizing: $((sym / 1000000)) ms" \
       "($(awk -v s="$sym" -v w="$wall" 'BEGIN {printf "%.1f", s / 1e6 / w * 100}') %)"
fi
