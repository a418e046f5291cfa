#!/usr/bin/env bash
# Runs the tests of one built tree again and again on a loaded machine, to
# find the tests that depend on timing (a test that fails 1 run in 20 is a
# failing test):
#   scripts/stress.sh [RUNS [DIR [CTEST_ARGS...]]]
# RUNS (default 5) runs of `ctest CTEST_ARGS` in DIR (default build, built
# with scripts/build.sh; CTEST_ARGS default: -L 'integration|http'), each
# with a parallel build of a scratch tree (DIR-stress-load, rebuilt from
# clean in a loop, niced) running beside it as the load. Prints each run's
# failures and, at the end, every test that failed with how many times.
# Exits non-zero if any run failed. The load stops when the script ends.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
dir=${2:-build}
shift $(($# < 2 ? $# : 2))
args=("$@")
((${#args[@]})) || args=(-L 'integration|http')
[[ $runs =~ ^[0-9]+$ ]] && ((runs > 0)) || { echo "weft: RUNS must be a number above 0" >&2; exit 2; }
[[ -d $dir ]] || { echo "weft: $dir is not built (scripts/build.sh $dir)" >&2; exit 2; }

load_dir=$dir-stress-load
load_pid=
stop_load() {
  if [[ -n $load_pid ]]; then
    kill -- "-$load_pid" 2>/dev/null
    wait "$load_pid" 2>/dev/null
  fi
}
trap stop_load EXIT
# The load: a parallel build from clean, again and again, in its own
# process group so that it stops as a whole.
set -m
(
  cmake -S . -B "$load_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null 2>&1 || exit 1
  while :; do
    nice cmake --build "$load_dir" --clean-first -j"$(nproc)" >/dev/null 2>&1
  done
) &
load_pid=$!
set +m

failed_runs=0
declare -A failures=()
for ((run = 1; run <= runs; run++)); do
  log=$(mktemp)
  (cd "$dir" && ctest --timeout 600 "${args[@]}") >"$log" 2>&1
  status=$?
  mapfile -t names < <(sed -nE 's/^[[:space:]]*[0-9]+ - ([^ ]+) \(.*\)$/\1/p' "$log")
  if ((status)); then
    failed_runs=$((failed_runs + 1))
    echo "weft: run $run/$runs failed: ${names[*]:-(see the ctest output)}"
    for name in "${names[@]}"; do failures[$name]=$((${failures[$name]:-0} + 1)); done
  else
    echo "weft: run $run/$runs passed"
  fi
  rm -f "$log"
done

for name in "${!failures[@]}"; do
  echo "weft: $name failed ${failures[$name]} of $runs runs"
done
echo "weft: $((runs - failed_runs)) of $runs runs passed under load"
((failed_runs == 0))
