#!/usr/bin/env bash
# weftd benchmark: prints a markdown section with each figure next to a
# baseline measured in the same run.
#
#   bench/daemon/run.sh [BUILD_DIR]        (default: build)
#   SPANS=10000000 THREADS=200 REPEAT=15 WRK_SECONDS=10 bench/daemon/run.sh
#
# Generates (once, kept in bench/out/, gitignored) a synthetic schema-v1
# trace with weft_gen_trace, starts weftd on 127.0.0.1:0, times the API
# (median of REPEAT runs, measured by the client over loopback): the
# timeline fully zoomed out, mid zoom and 1 us wide, the window summary and
# an SQL query; weftd's RSS; and `wrk -t2 -c64 -d10s` on a small endpoint.
# Baselines: the same questions asked of the file with sqlite3 directly
# (python's sqlite3 module, same machine, warm cache), and wrk on a static
# file served by the same weftd.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
spans=${SPANS:-10000000}
threads=${THREADS:-200}
repeat=${REPEAT:-15}
wrk_seconds=${WRK_SECONDS:-10}
weftd=$build/bin/weftd
gen=$build/bin/weft_gen_trace
for tool in "$weftd" "$gen"; do
  [[ -x $tool ]] || { echo "bench/daemon: $tool is not built (cmake --build $build)" >&2; exit 1; }
done
mkdir -p bench/out
trace=bench/out/daemon-$spans-$threads.db
if [[ ! -f $trace ]]; then
  echo "bench/daemon: generating $trace ($spans spans, $threads threads)..." >&2
  gen_start=$(date +%s.%N)
  "$gen" -o "$trace.tmp" -n "$spans" -t "$threads"
  mv "$trace.tmp" "$trace"
  [[ -f $trace.tmp-wal ]] && mv "$trace.tmp-wal" "$trace-wal"
  echo "bench/daemon: generated in $(echo "$(date +%s.%N) - $gen_start" | bc) s" >&2
fi

out=$(mktemp)
# serve only: a weftd that also records would take the user's collector
# socket (and its work would show in the figures)
no_collect=()
"$weftd" --help 2>&1 | grep -q -- --no-collect && no_collect=(--no-collect)
"$weftd" --listen 127.0.0.1:0 "${no_collect[@]}" "$trace" >"$out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 50); do grep -q serving "$out" && break; sleep 0.1; done
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\)\/$/\1/p' "$out")
[[ -n $port ]] || { cat "$out" >&2; exit 1; }

python3 - "$trace" "$port" "$pid" "$repeat" "$build" <<'PY'
import json, sqlite3, statistics, sys, time, urllib.error, urllib.parse, urllib.request
trace, port, pid, repeat, build = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
base = "http://127.0.0.1:%d" % port
tid = trace.split("/")[-1][:-3]

def get(path):
    try:
        with urllib.request.urlopen(base + path, timeout=600) as r:
            return r.read()
    except urllib.error.HTTPError as e:
        raise RuntimeError("HTTP %d: %s" % (e.code, e.read().decode()[:120]))

def timed(fn, n=repeat):
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), out

def rss():
    with open("/proc/%d/status" % pid) as f:
        fields = dict(l.split(":", 1) for l in f)
    return int(fields["VmRSS"].split()[0]) // 1024, int(fields["VmHWM"].split()[0]) // 1024

db = sqlite3.connect("file:%s?mode=ro" % trace, uri=True)
start, end = db.execute("SELECT min(ts), max(ts + dur) FROM thread_state").fetchone()
nspans = db.execute("SELECT count(*) FROM thread_state").fetchone()[0]
nthreads = db.execute("SELECT count(*) FROM thread").fetchone()[0]
utids = [r[0] for r in db.execute("SELECT utid FROM thread")]
mid = start + (end - start) // 10
rss_idle = rss()

def tl(a, b, px=1000, fmt="json", only=None):
    q = dict(start=a, end=b, px=px, format=fmt)
    if only:
        q["utids"] = only
    return lambda: get("/api/traces/%s/timeline?%s" % (tid, urllib.parse.urlencode(q)))

cold_ms, _ = timed(tl(start, end, fmt="bin"), 1)
rss_loaded = rss()
rows = []
def row(name, fn, baseline_name, baseline_fn, n=repeat):
    try:
        ms, out = timed(fn, n)
        size = len(out)
    except RuntimeError as e:
        ms, size = None, str(e)
    bms, _ = timed(baseline_fn, max(1, n // 5)) if baseline_fn else (None, None)
    rows.append((name, ms, size, baseline_name, bms))

def sql_window(a, b):
    # the same spans straight from SQLite, one indexed range per thread
    def run():
        n = 0
        for u in utids:
            n += len(db.execute("SELECT ts, dur, state FROM thread_state WHERE utid = ? AND ts < ? "
                                "AND ts >= ? - 10000000000 AND ts + dur > ?", (u, b, a, a)).fetchall())
        return b"x" * n
    return run

page = ",".join(str(u) for u in utids[:40])
row("timeline, all %d threads + procs + CPUs, zoomed out, px=1000, JSON" % nthreads, tl(start, end),
    "sqlite3: time per thread and state, whole trace (GROUP BY)",
    lambda: db.execute("SELECT utid, state, sum(dur) FROM thread_state GROUP BY utid, state").fetchall() and b"")
row("timeline, same, binary", tl(start, end, fmt="bin"), None, None)
row("timeline, 40 threads, zoomed out, px=1000, JSON", tl(start, end, only=page), None, None)
row("timeline, all threads, mid zoom (1/100 of the trace), JSON", tl(mid, mid + (end - start) // 100),
    "sqlite3: the spans in that window, per thread (index)", sql_window(mid, mid + (end - start) // 100))
row("timeline, all threads, 1 us wide, JSON", tl(mid, mid + 1000),
    "sqlite3: the spans in that window, per thread (index)", sql_window(mid, mid + 1000))
row("summary, whole trace", lambda: get("/api/traces/%s/summary?start=%d&end=%d" % (tid, start, end)),
    "sqlite3: clipped time per thread and state, whole trace",
    lambda: db.execute("SELECT utid, state, sum(min(ts + dur, ?2) - max(ts, ?1)) FROM thread_state "
                       "WHERE ts < ?2 AND ts + dur > ?1 GROUP BY 1, 2", (start, end)).fetchall() and b"")
row("summary, 10 ms window", lambda: get("/api/traces/%s/summary?start=%d&end=%d" % (tid, mid, mid + 10000000)),
    "sqlite3: clipped time per thread and state, same window",
    lambda: db.execute("SELECT utid, state, sum(min(ts + dur, ?2) - max(ts, ?1)) FROM thread_state "
                       "WHERE ts < ?2 AND ts >= ?1 - 10000000000 AND ts + dur > ?1 GROUP BY 1, 2",
                       (mid, mid + 10000000)).fetchall() and b"")
for SQL, n in (("SELECT state, count(*), sum(dur) FROM thread_state WHERE utid = 7 GROUP BY state", repeat),
               ("SELECT state, count(*), sum(dur) FROM thread_state GROUP BY state", 3)):
    row("SQL console: `%s`" % SQL,
        lambda: get("/api/traces/%s/sql?q=%s" % (tid, urllib.parse.quote(SQL))),
        "sqlite3: the same SQL", lambda: db.execute(SQL).fetchall() and b"", n=n)
rss_after = rss()

print("## weftd (bench/daemon/run.sh)\n")
print("Trace: %s spans over %d threads (synthetic, `weft_gen_trace`), %d MB. "
      "Median of %d runs through HTTP on 127.0.0.1 (client-side time, response included); "
      "baselines from python's sqlite3 on the same file, warm cache.\n"
      % (format(nspans, ","), nthreads, __import__("os").path.getsize(trace) >> 20, repeat))
print("| measure | weftd | bytes | baseline | baseline ms |")
print("|---|---:|---:|---|---:|")
print("| first timeline request (loads the trace into memory) | %.0f ms | | | |" % cold_ms)
for name, ms, size, bname, bms in rows:
    print("| %s | %s | %s | %s | %s |" % (name, "%.1f ms" % ms if ms is not None else "failed",
                                          format(size, ",") if isinstance(size, int) else size,
                                          bname or "", "%.1f" % bms if bms is not None else ""))
print("| weftd RSS: started / timeline loaded / after the queries (peak) | %d / %d / %d MB (%d) | | | |"
      % (rss_idle[0], rss_loaded[0], rss_after[0], rss_after[1]))
PY

wrk_line() { # URL -> "N req/s, p50 X, p99 Y"
  wrk -t2 -c64 -d"${wrk_seconds}s" --latency "$1" 2>/dev/null |
    awk '/Requests\/sec/ {r=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%s req/s, p50 %s, p99 %s", r, p50, p99}'
}
api=$(wrk_line "http://127.0.0.1:$port/api/traces")
static=$(wrk_line "http://127.0.0.1:$port/")
echo "| wrk -t2 -c64 -d${wrk_seconds}s /api/traces | $api | | wrk on / (embedded static index.html) | $static |"
echo
echo "Command: \`bench/daemon/run.sh $build\` (SPANS=$spans THREADS=$threads REPEAT=$repeat)," \
     "$(nproc) CPUs, $(uname -r)."
