#!/usr/bin/env bash
# weft report / critical path benchmark: prints a markdown section with each
# figure next to a baseline measured in the same run.
#
#   bench/report/run.sh [BUILD_DIR]          (default: build)
#   SPANS=10000000 THREADS=200 REPEAT=3 MAKE_TRACE=0 bench/report/run.sh
#
# 1. The synthetic trace of bench/daemon (weft_gen_trace, SPANS spans, kept
#    in bench/out/): `weft report --json` (which walks the critical path into
#    a TEMP table, as for any trace that lacks a stored one, then reads the
#    spans once), beside the floor of any report: one scan of thread_state
#    by the sqlite3 shell (SELECT sum(dur) ...).
# 2. A real trace (MAKE_TRACE=1, the default): `make -j2` of this project
#    recorded by weft (a fresh build tree in bench/out/), `weft report` on
#    it, and how long the recorder's finish took with the critical path
#    beside the same trace's finish without it (critical_path emptied and
#    recomputed by weft report, measured alone).
# Times are the median of REPEAT runs, wall clock, warm page cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
spans=${SPANS:-10000000}
threads=${THREADS:-200}
repeat=${REPEAT:-3}
make_trace=${MAKE_TRACE:-1}
weft=$build/bin/weft
gen=$build/bin/weft_gen_trace
for tool in "$weft" "$gen"; do
  [[ -x $tool ]] || { echo "bench/report: $tool is not built (cmake --build $build)" >&2; exit 1; }
done
command -v sqlite3 >/dev/null || { echo "bench/report: sqlite3 is missing" >&2; exit 1; }
mkdir -p bench/out
trace=bench/out/daemon-$spans-$threads.db
if [[ ! -f $trace ]]; then
  echo "bench/report: generating $trace ($spans spans, $threads threads)..." >&2
  "$gen" -o "$trace.tmp" -n "$spans" -t "$threads"
  mv "$trace.tmp" "$trace"
fi

# median wall seconds of REPEAT runs of "$@" (output discarded)
median() {
  local times=()
  for _ in $(seq "$repeat"); do
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((repeat + 1) / 2))p"
}

scan=$(median sqlite3 -readonly "$trace" "SELECT sum(dur) FROM thread_state")
report=$(median "$weft" report --json "$trace")
segments=$("$weft" report --json "$trace" | python3 -c \
  'import json,sys; d=json.load(sys.stdin); print(sum(s["segments"] for s in d["critical_path"]["by_state"]))')

echo "## weft report and the critical path"
echo
echo "Command: \`SPANS=$spans REPEAT=$repeat bench/report/run.sh $build\` (median of $repeat, wall time)."
echo
echo "| trace | weft report (critical path walked + spans read once) | floor: one scan of thread_state (sqlite3) | path segments |"
echo "|---|---|---|---|"
printf '| synthetic, %s spans, %s threads | %.2f s | %.2f s | %s |\n' "$spans" "$threads" "$report" "$scan" "$segments"

if [[ $make_trace == 1 ]]; then
  src=$PWD
  work=bench/out/make-j2
  rm -rf "$work" && mkdir -p "$work"
  cmake -S "$src" -B "$work/tree" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  make_db=$work/make.db
  "$weft" record -q -o "$make_db" -- make -C "$work/tree" -j2 >/dev/null 2>&1
  make_report=$(median "$weft" report --json "$make_db")
  make_scan=$(median sqlite3 -readonly "$make_db" "SELECT sum(dur) FROM thread_state")
  info=$(sqlite3 -readonly "$make_db" "SELECT (SELECT count(*) FROM process) || ' processes, ' || (SELECT count(*) FROM thread_state) || ' spans, ' || (SELECT count(*) FROM critical_path) || ' path segments'")
  # the walk alone: the same trace without its stored path, reported
  bare=$work/bare.db
  cp "$make_db" "$bare"
  sqlite3 "$bare" "DELETE FROM critical_path; VACUUM"
  bare_report=$(median "$weft" report --json "$bare")
  printf '| make -j2 of this project (%s) | %.2f s (%.2f s when the path is walked first) | %.2f s | |\n' \
    "$info" "$make_report" "$bare_report" "$make_scan"
fi
echo
