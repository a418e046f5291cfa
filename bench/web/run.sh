#!/usr/bin/env bash
# Dashboard benchmark: on a synthetic trace of about 10 million thread spans
# (tests/browser/make_trace.py --spans, cached in bench/out/), weftd serves
# the dashboard and Debian's chromium (playwright-core from tests/browser)
# measures, inside the page (Performance API):
#   - first useful paint: navigation start -> first timeline drawn with data
#   - main-thread time per frame while zooming (wheel) and panning (drag) at
#     the widest zoom (whole trace) and the narrowest (a 10 µs window):
#     canvas draw time per frame and JSON parse time per timeline answer.
# Prints a markdown section with the command that produced it.
#
#   bench/web/run.sh [BUILD_DIR] [SPANS]     (defaults: <repo>/build, 10000000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
spans=${2:-10000000}
weftd=$build/bin/weftd
if [[ ! -x $weftd ]]; then
  echo "bench/web: $weftd not found (build the tree first)" >&2
  exit 1
fi
if [[ ! -d $root/tests/browser/node_modules/playwright-core ]]; then
  (cd "$root/tests/browser" && npm install --no-audit --no-fund --loglevel=error) >&2
fi

out=$root/bench/out/web
mkdir -p "$out/traces"
trace=$out/traces/synthetic-$spans.db
# A trace cached by an older generator lacks the tracks' summary
# (track_overview) that weft record and weft_gen_trace now write: redo it.
if [[ -s $trace && -x $build/bin/weft_gen_trace ]] &&
  ! python3 -c "import sqlite3,sys; sys.exit(0 if sqlite3.connect(sys.argv[1]).execute('select count(*) from sqlite_master where name=\"track_overview\"').fetchone()[0] else 1)" "$trace"; then
  rm -f "$trace" "$trace-wal" "$trace-shm"
fi
if [[ ! -s $trace ]]; then
  # The daemon's generator (bench/daemon/gen_trace.c) when built, else ours.
  echo "bench/web: writing $trace ($spans spans)" >&2
  rm -f "$trace.tmp" "$trace.tmp-wal" "$trace.tmp-shm"
  if [[ -x $build/bin/weft_gen_trace ]]; then
    "$build/bin/weft_gen_trace" -o "$trace.tmp" -n "$spans" >&2
  else
    python3 "$root/tests/browser/make_trace.py" "$trace.tmp" --spans "$spans" >&2
  fi
  python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('pragma wal_checkpoint(truncate)')" "$trace.tmp"
  mv "$trace.tmp" "$trace"
  rm -f "$trace.tmp-wal" "$trace.tmp-shm"
fi

log=$out/weftd.log
"$weftd" --listen 127.0.0.1:0 --no-collect "$out/traces" >"$log" 2>"$out/weftd.stderr" &
pid=$!
stop_weftd() { # SIGTERM, then SIGKILL if a request keeps it busy
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
}
trap stop_weftd EXIT
url=
for _ in $(seq 100); do
  port=$(grep -o '127\.0\.0\.1:[1-9][0-9]*' "$log" | head -1 | cut -d: -f2 || true)
  [[ -n $port ]] && url=http://127.0.0.1:$port
  [[ -n $url ]] && break
  sleep 0.1
done
if [[ -z $url ]]; then
  echo "bench/web: weftd printed no URL:" >&2
  cat "$log" >&2
  exit 1
fi

shape=$(python3 -c "
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = lambda t: db.execute('select count(*) from ' + t).fetchone()[0]
print(f\"{n('thread_state')} thread spans, {n('thread')} threads in {n('process')} processes, {n('sched_slice')} CPU slices\")" "$trace")
echo "## Dashboard (web/)"
echo
echo "Command: \`bench/web/run.sh $build $spans\` — synthetic trace: $shape;"
echo "weftd on loopback, chromium"
echo "$(/usr/bin/chromium --version 2>/dev/null | head -1 | cut -d' ' -f1-2) headless at 1366x768, times from the page's Performance API."
echo
node "$here/measure.mjs" "$url" "synthetic-$spans"
