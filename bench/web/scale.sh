#!/usr/bin/env bash
# Dashboard at scale: shell loops of 2,000 and 20,000 short processes
# (tests/browser/make_trace.py --procs, the shape of
# `sh -c 'for i in $(seq N); do /bin/true; done'` recorded; cached in
# bench/out/web/procs/), served by weftd; Debian's chromium measures first
# useful paint and frame cost at device pixel ratio 1 and 2 (scale.mjs).
# Prints a markdown section with the command that produced it.
#
# With --real the traces are recorded by weft itself instead: the two shell
# loops as the issue writes them, and `make -j2` of this project built from
# scratch in a temporary directory (cached in bench/out/web/real/).
#
#   bench/web/scale.sh [--real] [BUILD_DIR]     (default: <repo>/build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
real=0
if [[ ${1:-} == --real ]]; then
  real=1
  shift
fi
build=$(cd "${1:-$root/build}" && pwd)
weftd=$build/bin/weftd
if [[ ! -x $weftd ]]; then
  echo "bench/web: $weftd not found (build the tree first)" >&2
  exit 1
fi
if [[ ! -d $root/tests/browser/node_modules/playwright-core ]]; then
  (cd "$root/tests/browser" && npm install --no-audit --no-fund --loglevel=error) >&2
fi

# record_real ID COMMAND...: the trace ID.db recorded by weft from COMMAND.
record_real() {
  local id=$1
  shift
  if [[ ! -s $out/$id.db ]]; then
    echo "bench/web: recording $out/$id.db: $*" >&2
    rm -f "$out/$id.db.tmp"
    "$build/bin/weft" record -o "$out/$id.db.tmp" -- "$@" >/dev/null
    mv "$out/$id.db.tmp" "$out/$id.db"
  fi
  ids+=("$id")
}

ids=()
if ((real)); then
  out=$root/bench/out/web/real
  mkdir -p "$out"
  for n in 2000 20000; do
    record_real "loop-$n" sh -c "for i in \$(seq $n); do /bin/true; done"
  done
  src=$(mktemp -d)
  cmake -S "$root" -B "$src/b" -DCMAKE_BUILD_TYPE=Release >/dev/null
  record_real make-j2 make -C "$src/b" -j2
  rm -rf "$src"
fi
out=$root/bench/out/web/procs
mkdir -p "$out"
for n in 2000 20000; do
  ((real)) && break
  trace=$out/loop-$n.db
  if [[ ! -s $trace ]]; then
    echo "bench/web: writing $trace ($n processes)" >&2
    python3 "$root/tests/browser/make_trace.py" "$trace.tmp" --procs "$n" >&2
    python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('pragma wal_checkpoint(truncate)')" "$trace.tmp"
    mv "$trace.tmp" "$trace"
    rm -f "$trace.tmp-wal" "$trace.tmp-shm"
  fi
  ids+=("loop-$n")
done

((real)) && out=$root/bench/out/web/real
log=$out/weftd.log
"$weftd" --listen 127.0.0.1:0 --no-collect "$out" >"$log" 2>"$out/weftd.stderr" &
pid=$!
stop_weftd() {
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
}
trap stop_weftd EXIT
url=
for _ in $(seq 100); do
  port=$(grep -o '127\.0\.0\.1:[1-9][0-9]*' "$log" | head -1 | cut -d: -f2 || true)
  [[ -n $port ]] && url=http://127.0.0.1:$port && break
  sleep 0.1
done
if [[ -z $url ]]; then
  echo "bench/web: weftd printed no URL:" >&2
  cat "$log" >&2
  exit 1
fi

echo "## Dashboard at scale (web/, many processes)"
echo
if ((real)); then
  echo "Command: \`bench/web/scale.sh --real $build\` — recorded by weft: \`sh -c 'for i in \$(seq N); do /bin/true; done'\`"
  echo "for N = 2,000 and 20,000, and \`make -j2\` of this project from scratch; weftd on loopback, chromium"
else
  echo "Command: \`bench/web/scale.sh $build\` — shell loops of 2,000 and 20,000 short processes"
  echo "(make_trace.py --procs: one thread each, fork and waitpid flows, 2 CPUs); weftd on loopback, chromium"
fi
echo "$(/usr/bin/chromium --version 2>/dev/null | head -1 | cut -d' ' -f1-2) headless at 1366x768, times from the page's Performance API."
echo "Draw = one redraw of the canvases and the track labels in view (main thread), while"
echo "scrolling rows (wheel), zooming (Ctrl+wheel), panning (Shift+wheel, drag) and jumping to the last process."
echo
node "$here/scale.mjs" "$url" "${ids[@]}"
