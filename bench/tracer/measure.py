"""Measures what weft's tracer costs, each figure beside its baseline from
the same run, and prints a markdown section (bench/tracer/run.sh runs it).

  python3 measure.py --build BUILD_DIR --bin DIR_WITH_BENCH_BINARIES --work TMP

Figures:
  1. uncontended pthread_mutex_lock+unlock: mutex_bench native vs with
     LD_PRELOAD=libweft.so (paired runs, medians);
  2. a recorded transition: handoff_bench (semaphore ping-pong on one CPU)
     native vs under `weft record`, per handoff and per recorded span;
  3. wall time of xz -T2, sort --parallel=2 and a 1,000-process shell loop,
     untraced vs `weft record` (hyperfine, one run of each per pair, order
     alternating; medians and the median of the per-pair ratios);
  4. collector throughput: rows written into the trace per second of
     recording for a workload that makes many transitions.
What the built tools do not allow yet is printed as "not measured: reason".
"""

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import time

PAIRS = 5


class NotMeasured(Exception):
    pass


def run(argv, env=None, timeout=600):
    return subprocess.run(argv, capture_output=True, env=env, timeout=timeout)


def first_line(data):
    text = data.decode(errors="replace").strip()
    return text.splitlines()[0][:160] if text else "(no message)"


def parse_figure(proc, key):
    if proc.returncode != 0:
        raise NotMeasured(f"exited {proc.returncode}: {first_line(proc.stderr)}")
    for line in proc.stdout.decode().splitlines():
        if line.startswith(key + " "):
            return float(line.split()[1])
    raise NotMeasured(f"no '{key}' in its output")


def weft_record(args, db, argv, timeout=600):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    proc = run([args.weft, "record", "-o", db, "--", *argv], timeout=timeout)
    if proc.returncode != 0:
        raise NotMeasured(f"weft record exited {proc.returncode}: {first_line(proc.stderr)}")
    if not os.path.isfile(db):
        raise NotMeasured("weft record wrote no trace")
    return proc


def count(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchone()[0]
    except sqlite3.Error as e:
        raise NotMeasured(f"query on the trace failed: {e}")
    finally:
        con.close()


def require_weft(args):
    if not os.access(args.weft, os.X_OK):
        raise NotMeasured(f"{args.weft} not built")


def require_libweft(args):
    if not os.path.isfile(args.libweft):
        raise NotMeasured(f"{args.libweft} not built")


def mutex_section(args):
    print("### Uncontended pthread_mutex_lock + unlock\n")
    bench = os.path.join(args.bin, "mutex_bench")
    try:
        require_libweft(args)
        native, traced = [], []
        db = os.path.join(args.work, "mutex.db")
        env = dict(os.environ, LD_PRELOAD=args.libweft, WEFT_OUT=db)
        for i in range(PAIRS):
            order = [False, True] if i % 2 == 0 else [True, False]
            for preload in order:
                if preload:
                    traced.append(parse_figure(run([bench], env=env), "ns_per_op"))
                else:
                    native.append(parse_figure(run([bench]), "ns_per_op"))
        n, t = statistics.median(native), statistics.median(traced)
        print("| native | LD_PRELOAD=libweft.so | added |")
        print("|---|---|---|")
        print(f"| {n:.2f} ns | {t:.2f} ns | {t - n:+.2f} ns ({t / n:.2f}x) |\n")
        print(f"Best of 5 x 20M lock+unlock pairs per run, median of {PAIRS} paired runs; "
              "one idle extra thread makes the process multithreaded.\n")
    except NotMeasured as e:
        print(f"not measured: {e}\n")


def hot_path_section(args):
    print("### One recorded transition on the hot path\n")
    bench = os.path.join(args.build, "bin", "weft-bench-preload")
    try:
        if not os.path.isfile(bench):
            raise NotMeasured(f"{bench} not built")
        proc = run([bench])
        figures = dict(re.findall(r"^(\S+)\s+([\d.]+) ns", proc.stdout.decode(), re.M))
        if proc.returncode != 0 or "transition" not in figures or "clock" not in figures:
            raise NotMeasured(f"weft-bench-preload failed: {first_line(proc.stderr)}")
        t, c = float(figures["transition"]), float(figures["clock"])
        print("| recorded transition (timestamp + ring append) | timestamp alone "
              "(clock_gettime) | weft's own part (ring append) |")
        print("|---|---|---|")
        print(f"| {t:.1f} ns | {c:.1f} ns | {t - c:.1f} ns |\n")
        print("`weft-bench-preload` (bench/tracer/bench_preload.c): the best of 3 rounds x 5 "
              "runs of 10^7 appends of a 32-byte record to a real ring, the reader freeing "
              "the space every 1,024 records, and the same loop of timestamps alone. "
              "Target: under 25 ns per recorded transition.\n")
    except NotMeasured as e:
        print(f"not measured: {e}\n")


def handoff_section(args):
    print("### Cost of a recorded transition (semaphore handoff, both threads on one CPU)\n")
    bench = os.path.join(args.bin, "handoff_bench")
    trips = 20000
    try:
        require_weft(args)
        native, traced = [], []
        db = os.path.join(args.work, "handoff.db")
        for i in range(PAIRS):
            order = [False, True] if i % 2 == 0 else [True, False]
            for under_weft in order:
                if under_weft:
                    proc = weft_record(args, db, [bench, str(trips)])
                    traced.append(parse_figure(proc, "ns_per_handoff"))
                else:
                    native.append(parse_figure(run([bench, str(trips)]), "ns_per_handoff"))
        n, t = statistics.median(native), statistics.median(traced)
        spans = count(db, "SELECT COUNT(*) FROM thread_state WHERE state = 'Blocked' "
                          "AND reason = 'sem'")
        per_handoff = spans / (2.0 * trips)
        print("| native per handoff | under weft record | added per handoff "
              "| Blocked 'sem' spans recorded per handoff | added per recorded span |")
        print("|---|---|---|---|---|")
        per_span = f"{(t - n) / per_handoff:.0f} ns" if per_handoff > 0 else \
            "not measured: no 'sem' spans recorded"
        print(f"| {n:.0f} ns | {t:.0f} ns | {t - n:+.0f} ns | {per_handoff:.2f} | {per_span} |\n")
        print(f"{trips} round trips per run, median of {PAIRS} paired runs. A handoff is "
              "sem_post + a blocking sem_wait + a context switch.\n")
    except NotMeasured as e:
        print(f"not measured: {e}\n")


def make_data(path, megabytes):
    rnd = random.Random(1234)
    words = ["".join(rnd.choice("abcdefghijklmnopqrstuvwxyz")
                     for _ in range(rnd.randint(3, 9))) for _ in range(5000)]
    with open(path, "w") as f:
        written = 0
        while written < megabytes * 1_000_000:
            line = " ".join(rnd.choice(words) for _ in range(3)) + "\n"
            f.write(line)
            written += len(line)


def hyperfine_pairs(args, untraced, traced, db):
    """Runs PAIRS hyperfine invocations of one run each of both commands
    (order alternating); returns (untraced, traced) lists of (wall, cpu)
    in seconds, cpu being user + system of the command and its children."""
    prepare = f"rm -f {db} {db}-wal {db}-shm"
    out = os.path.join(args.work, "hyperfine.json")
    a_times, b_times = [], []
    for i in range(PAIRS):
        cmds = [untraced, traced] if i % 2 == 0 else [traced, untraced]
        proc = run(["hyperfine", "-N", "--runs", "1", "--style", "none",
                    "--prepare", prepare, "--export-json", out, *cmds])
        if proc.returncode != 0:
            raise NotMeasured(f"hyperfine exited {proc.returncode}: {first_line(proc.stderr)}")
        with open(out) as f:
            results = {r["command"]: (r["times"][0], r["user"] + r["system"])
                       for r in json.load(f)["results"]}
        a_times.append(results[untraced])
        b_times.append(results[traced])
    return a_times, b_times


def walltime_section(args):
    print("### Wall time, untraced vs `weft record`\n")
    data = os.path.join(args.work, "data.txt")
    make_data(data, 8)
    big = os.path.join(args.work, "data64.txt")
    make_data(big, 64)
    loop = "sh -c 'i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i+1)); done'"
    workloads = [
        ("xz -T2 (8 MB)", f"xz -T2 -1 --block-size=1MiB -c {data}"),
        ("xz -T2 (64 MB)", f"xz -T2 -1 --block-size=4MiB -c {big}"),
        ("sort --parallel=2 (8 MB)", f"sort --parallel=2 {data}"),
        ("sort --parallel=2 (64 MB)", f"sort --parallel=2 {big}"),
        ("1,000-process shell loop", loop),
    ]
    print("| workload | wall untraced | wall traced | wall ratio | CPU untraced "
          "| CPU traced | CPU ratio |")
    print("|---|---|---|---|---|---|---|")
    db = os.path.join(args.work, "wall.db")
    for label, cmd in workloads:
        try:
            require_weft(args)
            traced = f"{args.weft} record -o {db} -- {cmd}"
            check = run(["sh", "-c", f"rm -f {db}*; exec {traced} > /dev/null"])
            if check.returncode != 0:
                raise NotMeasured(f"weft record exited {check.returncode}: "
                                  f"{first_line(check.stderr)}")
            a, b = hyperfine_pairs(args, cmd, traced, db)
            cells = []
            for k in (0, 1):  # wall, then CPU
                x = [p[k] for p in a]
                y = [p[k] for p in b]
                ratio = statistics.median([v / u for u, v in zip(x, y) if u > 0] or [0])
                cells += [f"{statistics.median(x) * 1e3:.0f} ms",
                          f"{statistics.median(y) * 1e3:.0f} ms", f"{ratio:.2f}x"]
            print(f"| {label} | " + " | ".join(cells) + " |")
        except NotMeasured as e:
            print(f"| {label} | | | | | | not measured: {e} |")
    print(f"\nMedians of {PAIRS} pairs per workload (hyperfine -N --runs 1 per pair, "
          "order alternating); ratios are medians of the per-pair ratios. Traced figures "
          "include `weft record` itself (the collector writing the trace). CPU is user + "
          "system time of the command and its children: less sensitive than wall time to "
          "other work on the machine. A recording has a fixed cost of a few milliseconds "
          "(starting weft, creating and finishing the trace: the `true` row of the next "
          "table), which the 8 MB inputs feel and the 64 MB ones much less.\n")


def breakdown_section(args):
    print("### What the wall-time overhead is made of\n")
    data = os.path.join(args.work, "data.txt")
    if not os.path.exists(data):
        make_data(data, 8)
    empty = os.path.join(args.bin, "libempty.so")
    loop = "sh -c 'i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i+1)); done'"
    workloads = [
        ("true (start and finish only)", "true"),
        ("sort --parallel=2 (8 MB)", f"sort --parallel=2 {data}"),
        ("1,000-process shell loop", loop),
    ]
    db = os.path.join(args.work, "parts.db")
    variants = [
        ("LD_PRELOAD of an empty library", f"env LD_PRELOAD={empty} {{cmd}}"),
        ("LD_PRELOAD=libweft.so, no recorder", f"env LD_PRELOAD={args.libweft} {{cmd}}"),
        ("weft record --sched=none",
         f"env {args.weft} record -q -f --sched=none -o {db} -- {{cmd}}"),
        ("weft record", f"env {args.weft} record -q -f -o {db} -- {{cmd}}"),
    ]
    print("| workload | untraced | " + " | ".join(n for n, _ in variants) + " |")
    print("|---|---|" + "---|" * len(variants))
    for label, cmd in workloads:
        try:
            require_weft(args)
            base, cells = [], []
            for name, shape in variants:
                a, b = hyperfine_pairs(args, f"env {cmd}", shape.format(cmd=cmd), db)
                base += [p[0] for p in a]
                ratio = statistics.median([v[0] / u[0] for u, v in zip(a, b) if u[0] > 0])
                cells.append(f"{statistics.median(p[0] for p in b) * 1e3:.1f} ms "
                             f"({ratio:.2f}x)")
            print(f"| {label} | {statistics.median(base) * 1e3:.1f} ms | "
                  + " | ".join(cells) + " |")
        except NotMeasured as e:
            print(f"| {label} | not measured: {e} |")
    print(f"\nWall times, medians of {PAIRS} pairs per cell, each pair against the untraced "
          "command run beside it (every command, the untraced one too, is started "
          "through env(1), so the extra exec is in both; the untraced column is the median of all those runs); "
          "the ratio is the median of the per-pair ratios. The empty library "
          "(bench/tracer/empty_preload.c) is what the dynamic loader charges every process "
          "image for any preloaded library; libweft.so with no recorder adds its start-up "
          "(it looks for weftd and records nothing); `--sched=none` adds the rings, the "
          "records and the collector; the last column adds the perf switch records. "
          "`true` shows the fixed cost of a recording: starting weft, creating the trace, "
          "finishing it.\n")


def collector_section(args):
    print("### Collector throughput\n")
    bench = os.path.join(args.bin, "handoff_bench")
    trips = 100000
    try:
        require_weft(args)
        db = os.path.join(args.work, "collector.db")
        plain_t0 = time.perf_counter()
        run([bench, str(trips)])
        plain = time.perf_counter() - plain_t0
        t0 = time.perf_counter()
        proc = weft_record(args, db, [bench, str(trips)])
        wall = time.perf_counter() - t0
        # `weft record` reports "recorded P processes, T threads, N events"
        match = re.search(r"(\d+) events", proc.stderr.decode(errors="replace"))
        events = f"{int(match.group(1)) / wall:,.0f}" if match else \
            "not measured: weft record does not report its event count"
        rows = sum(count(db, f"SELECT COUNT(*) FROM {table}") for table in
                   ("thread_state", "process_state", "sched_slice", "flow", "object"))
        if rows == 0:
            raise NotMeasured("the trace of the workload has no rows")
        lost = count(db, "SELECT COALESCE((SELECT value FROM meta "
                         "WHERE key = 'events_lost'), 'unknown')")
        print("| workload | untraced | weft record | events/s of recording | rows written "
              "| rows/s of recording | events lost |")
        print("|---|---|---|---|---|---|---|")
        print(f"| handoff_bench {trips} round trips | {plain * 1e3:.0f} ms | {wall * 1e3:.0f} ms "
              f"| {events} | {rows} | {rows / wall:,.0f} | {lost} |\n")
        print("Rows are thread_state + process_state + sched_slice + flow + object; "
              "events are those `weft record` reports having read from the rings; "
              "both rates are per second of `weft record` wall time.")
        if str(lost) == "0":
            print("Nothing was lost, so this is a lower bound on what the collector "
                  "sustains: it kept up with a workload that makes transitions as fast "
                  "as it can.\n")
        else:
            print(f"{lost} events were lost (rings full): the collector did not keep up "
                  "with this workload, so rows/s is about what it sustains.\n")
    except NotMeasured as e:
        print(f"not measured: {e}\n")


def synthetic_collector_section(args):
    print("### Collector throughput on synthetic records, beside raw SQLite\n")
    bench = os.path.join(args.build, "bin", "weft-bench-collect")
    raw = os.path.join(args.bin, "sqlite_insert")
    per_thread = 1000000
    try:
        if not os.path.isfile(bench):
            raise NotMeasured(f"{bench} not built")
        def raw_rate(batch):
            rates = []
            for _ in range(3):
                proc = run([raw, os.path.join(args.work, "raw.db"), str(2 * per_thread),
                            str(batch)])
                match = re.search(r"rows_per_s (\d+)", proc.stdout.decode())
                if proc.returncode != 0 or not match:
                    raise NotMeasured(f"sqlite_insert failed: {first_line(proc.stderr)}")
                rates.append(int(match.group(1)))
            return statistics.median(rates)
        raw_one, raw_batch = raw_rate(1), raw_rate(32)
        print("| writer threads | events | events/s | rows | rows/s | events lost "
              "| raw SQLite, same run: rows/s, a row per statement | 32 rows per statement |")
        print("|---|---|---|---|---|---|---|---|")
        for threads in (1, 2, 4):
            runs = []
            for _ in range(3):
                proc = run([bench, str(threads), str(per_thread)])
                text = proc.stdout.decode()
                match = re.search(r"events (\d+) lost (\d+) wall [\d.]+ s \((\d+) events/s\)"
                                  r".* rows (\d+) \((\d+) rows/s\)", text)
                if proc.returncode != 0 or not match:
                    raise NotMeasured(f"weft-bench-collect failed: {first_line(proc.stderr)}")
                runs.append(tuple(int(x) for x in match.groups()))
            runs.sort(key=lambda r: r[2])
            events, lost, rate, rows, row_rate = runs[len(runs) // 2]
            print(f"| {threads} | {events:,} | {rate:,} | {rows:,} | {row_rate:,} | {lost} "
                  f"| {raw_one:,.0f} | {raw_batch:,.0f} |")
        print(f"\n`weft-bench-collect THREADS {per_thread}` (bench/tracer/bench_collect.c): "
              "THREADS threads of one process append blocking-call begin/end pairs to their "
              "rings as fast as the rings take them, while the collector runs as `weft record` "
              "runs it (drain thread + writer thread); events/s and rows/s run from the first "
              "record to the finished trace, indexes included; the median of 3 runs by "
              "events/s. With one thread each call also flips its process between Running and "
              "Waiting, so every event ends a thread span and a process span: two rows. Raw "
              "SQLite is `sqlite_insert` (bench/tracer/sqlite_insert.c): the same "
              f"thread_state rows, {2 * per_thread:,} of them, through one prepared statement "
              "of one row, then of 32 rows (as weft's writer batches them), with the writer's "
              "pragmas and the same index at the end, nothing else; median of 3. The 32-row "
              "figure is the ceiling for rows/s on this machine.\n")
    except NotMeasured as e:
        print(f"not measured: {e}\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("--work", required=True)
    args = p.parse_args()
    args.weft = os.path.join(args.build, "bin", "weft")
    args.libweft = os.path.join(args.build, "lib", "libweft.so")
    print("## Tracer\n")
    print(f"Build: `{args.build}`.\n")
    mutex_section(args)
    hot_path_section(args)
    handoff_section(args)
    walltime_section(args)
    breakdown_section(args)
    collector_section(args)
    synthetic_collector_section(args)


if __name__ == "__main__":
    main()
