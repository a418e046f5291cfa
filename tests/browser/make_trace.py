#!/usr/bin/env python3
"""Writes a schema-v1 weft trace that tells a known story, for the browser
tests and the dashboard benchmark.

The story (default): a shell (sh) starts two children joined by a pipe
(`ls | grep`), and a third process, `cashier`, runs three threads on ONE CPU
that take turns (Running/Ready alternating) and fight over one mutex:
`customer-b` blocks on the mutex while `customer-a` holds it, and is woken by
customer-a's unlock. Every thread's spans tile its life, processes get their
derived process_state, CPU 0 and 1 get sched slices, flows link unlock ->
acquire, fork -> child start and write -> read on the pipe.

`--no-sched` writes the same story as a trace recorded without scheduler
data (capture_mode 'calls': no sched_slice rows, no cpu on spans).

`--spans N` instead writes a big synthetic trace of about N thread spans
(8 processes x 8 threads, 2 CPUs) for benchmarks; row values are random but
the tiling invariants hold.

`--hostile` writes the same story with every name a traced program chooses
made hostile: process names and command lines, thread names, object labels
and the recorded command carry markup that runs script if a page parses it
(`<img src=x onerror=...>`, `</script><script>...`, `<svg onload=...>`) and
a right-to-left override (U+202E). Any script they run sets
`window.__pwned`.

`--procs N` writes a shell loop instead (`for i in $(seq N); do true; done`):
sh forks N short children one after the other, each with one thread that
runs and exits while sh waits; fork and waitpid flows link them, CPU 0 runs
the children, CPU 1 the shell. Child number N*3/4 is named `needle` (a
name to search for).

`--extend MS` appends MS milliseconds to an existing story trace (the
cashier's main thread keeps running), moves its end and marks it complete,
as a recorder finishing a recording would.

Usage: make_trace.py OUT.db [--spans N | --procs N] [--no-sched] [--hostile] [--status recording|complete]
       make_trace.py DB --extend MS
"""
import argparse
import os
import random
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "..", "schema", "001_schema.sql")
INDEXES = os.path.join(HERE, "..", "..", "schema", "001_indexes.sql")

T0 = 5_000_000_000  # trace start: 5 s of CLOCK_MONOTONIC
US = 1_000
MS = 1_000_000


def open_db(path):
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    with open(SCHEMA) as f:
        db.executescript(f.read())
    return db


def finish(db, start, end, status, command, capture_mode="perf"):
    meta = {
        "schema_version": "1", "command": command, "host": "test",
        "kernel": "6.1", "start_ts": str(start), "end_ts": str(end),
        "capture_mode": capture_mode, "events_lost": "0", "threads_lost": "0",
        "status": status, "exit_status": "0",
    }
    db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    with open(INDEXES) as f:
        db.executescript(f.read())
    db.commit()
    db.close()


class Tiler:
    """Appends spans to one thread and remembers where its life ends."""

    def __init__(self, utid, ts):
        self.utid, self.ts, self.rows = utid, ts, []

    def add(self, state, dur, reason=None, obj=None, cpu=None, waker=None,
            holder=None):
        self.rows.append((self.utid, self.ts, dur, state, reason, obj, cpu,
                          waker, holder))
        self.ts += dur
        return self.ts - dur


def story(path, status, sched=True):
    db = open_db(path)
    end = T0 + 40 * MS
    procs = [  # upid pid ppid parent_upid name cmdline start end exit traced
        (1, 100, 1, None, "sh", "sh -c ls | grep x; ./cashier 1", T0, end, 0),
        (2, 101, 100, 1, "ls", "ls", T0 + 1 * MS, T0 + 12 * MS, 0),
        (3, 102, 100, 1, "grep", "grep x", T0 + 1 * MS, T0 + 14 * MS, 0),
        (4, 103, 100, 1, "cashier", "./cashier 1", T0 + 15 * MS, end, 0),
    ]
    db.executemany(
        "INSERT INTO process VALUES (?,?,?,?,?,?,?,?,?,NULL,1)", procs)
    threads = [  # utid tid upid name start end is_main
        (1, 100, 1, "sh", T0, end, 1),
        (2, 101, 2, "ls", T0 + 1 * MS, T0 + 12 * MS, 1),
        (3, 102, 3, "grep", T0 + 1 * MS, T0 + 14 * MS, 1),
        (4, 103, 4, "cashier", T0 + 15 * MS, end, 1),
        (5, 104, 4, "customer-a", T0 + 16 * MS, T0 + 38 * MS, 0),
        (6, 105, 4, "customer-b", T0 + 16 * MS, T0 + 38 * MS, 0),
    ]
    db.executemany(
        "INSERT INTO thread VALUES (?,?,?,?,?,?,?,'perf')", threads)
    objects = [
        (1, "pipe", None, 4242, "pipe:[4242]"),
        (2, "mutex", 4, 0x55550000A0, "mutex 0x55550000a0"),
        (3, "process", None, 101, "process 101"),
        (4, "thread", 4, 104, "thread 104"),
    ]
    db.executemany("INSERT INTO object(object_id, kind, upid, address, label) VALUES (?,?,?,?,?)", objects)

    spans, flows, slices = [], [], []
    # sh: runs, forks, waits for its children, runs cashier, waits.
    sh = Tiler(1, T0)
    sh.add("Running", 1 * MS, cpu=0)
    sh.add("Blocked", 13 * MS, "wait", 3, waker=3)
    sh.add("Running", 1 * MS, cpu=0)
    sh.add("Blocked", end - sh.ts, "wait", None)
    spans += sh.rows
    slices += [(0, T0, 1 * MS, 1, "Blocked"), (0, T0 + 14 * MS, 1 * MS, 1, "Blocked")]
    flows += [(T0 + 1 * MS, 1, T0 + 1 * MS, 2, "fork", 3, None),
              (T0 + 1 * MS, 1, T0 + 1 * MS, 3, "fork", 3, None)]
    # ls writes 4 chunks into the pipe; grep blocks reading it between them.
    ls, grep = Tiler(2, T0 + 1 * MS), Tiler(3, T0 + 1 * MS)
    ls.add("New", 200 * US)
    grep.add("New", 300 * US)
    grep.add("Running", 200 * US, cpu=1)
    slices.append((1, grep.ts - 200 * US, 200 * US, 3, "Blocked"))
    for i in range(4):
        ts = ls.add("Running", 2 * MS, cpu=0)
        slices.append((0, ts, 2 * MS, 2, "Ready"))
        write_ts = ls.ts - 100 * US
        if i < 3:
            ls.add("Ready", 600 * US)
        # grep waits for the write, then reads and runs.
        grep.add("Blocked", write_ts + 50 * US - grep.ts, "io", 1, waker=2)
        flows.append((write_ts, 2, grep.ts, 3, "pipe", 1, 4096))
        ts = grep.add("Running", 700 * US, cpu=1)
        slices.append((1, ts, 700 * US, 3, "Blocked"))
    ls.add("Running", T0 + 12 * MS - ls.ts, cpu=0)
    grep.add("Running", T0 + 14 * MS - grep.ts, cpu=1)
    spans += ls.rows + grep.rows
    flows.append((T0 + 14 * MS, 3, T0 + 14 * MS, 1, "waitpid", 3, None))

    # cashier: one CPU (0), three threads taking turns; customer-b blocks on
    # the mutex customer-a holds.
    main = Tiler(4, T0 + 15 * MS)
    main.add("New", 200 * US)
    main.add("Running", 800 * US, cpu=0)
    main.add("Blocked", T0 + 38 * MS - main.ts, "join", 4, waker=5)
    main.add("Running", end - main.ts, cpu=0)
    a, b = Tiler(5, T0 + 16 * MS), Tiler(6, T0 + 16 * MS)
    a.add("New", 500 * US)
    b.add("New", 1 * MS)
    for turn in range(6):
        # a runs while b waits for the CPU, then a is preempted.
        a.add("Running", 1 * MS, cpu=0)
        slices.append((0, a.ts - 1 * MS, 1 * MS, 5, "Ready"))
        if b.ts < a.ts:
            b.add("Ready", a.ts - b.ts)
        b.add("Running", 1 * MS, cpu=0)
        slices.append((0, b.ts - 1 * MS, 1 * MS, 6, "Ready" if turn != 2 else "Blocked"))
        a.add("Ready", b.ts - a.ts)
        if turn == 2:
            # b tries the mutex a took during its last slice: blocked,
            # holder a, woken by a's unlock during a's next slice.
            blocked_at = b.ts
            a.add("Running", 1500 * US, cpu=0)
            slices.append((0, a.ts - 1500 * US, 1500 * US, 5, "Ready"))
            unlock = a.ts - 200 * US
            b.add("Blocked", unlock - blocked_at, "mutex", 2, waker=5, holder=5)
            flows.append((unlock, 5, b.ts, 6, "unlock", 2, None))
            b.add("Ready", a.ts - b.ts)
    for t in (a, b):
        t.add("Running" if t is a else "Ready", T0 + 38 * MS - t.ts, cpu=0 if t is a else None)
    flows.append((T0 + 38 * MS, 5, T0 + 38 * MS, 4, "join", 4, None))
    spans += main.rows + a.rows + b.rows
    spans = [s for s in spans if s[2] > 0]
    if not sched:
        spans = [s[:6] + (None,) + s[7:] for s in spans]
        slices = []
    db.executemany("INSERT INTO thread_state(utid, ts, dur, state, reason, object_id, cpu, waker_utid, holder_utid) VALUES (?,?,?,?,?,?,?,?,?)", spans)
    db.executemany("INSERT INTO sched_slice VALUES (?,?,?,?,?)", slices)
    db.executemany("INSERT INTO flow VALUES (?,?,?,?,?,?,?)", flows)
    # Process states derived from the threads above (simplified by hand).
    pstates = [
        (1, T0, 1 * MS, "Running"), (1, T0 + 1 * MS, 13 * MS, "Waiting"),
        (1, T0 + 14 * MS, 1 * MS, "Running"), (1, T0 + 15 * MS, 25 * MS, "Waiting"),
        (2, T0 + 1 * MS, 200 * US, "New"), (2, T0 + 1200 * US, 10800 * US, "Running"),
        (3, T0 + 1 * MS, 300 * US, "New"), (3, T0 + 1300 * US, 12700 * US, "Waiting"),
        (4, T0 + 15 * MS, 200 * US, "New"), (4, T0 + 15200 * US, 3 * MS, "Running"),
        (4, T0 + 18200 * US, 2 * MS, "Suspended"),
        (4, T0 + 20200 * US, end - T0 - 20200 * US, "Running"),
    ]
    db.executemany("INSERT INTO process_state VALUES (?,?,?,?)", pstates)
    finish(db, T0, end, status, "sh -c 'ls | grep x; ./cashier 1'",
           "perf" if sched else "calls")


IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = '</script><script>window.__pwned=1</script>'
SVG = '<svg onload="window.__pwned=1">'
RLO = '\u202e'


def hostile(path):
    """Makes every program-chosen name of a story trace hostile."""
    db = sqlite3.connect(path)
    db.execute("UPDATE process SET name = name || ? , cmdline = cmdline || ' ' || ? || ? || ?",
               (IMG, SCRIPT, RLO, SVG))
    db.execute("UPDATE thread SET name = name || ? || ?", (RLO + "gpj.exe", IMG))
    db.execute("UPDATE object SET label = ? || label || ?", (SVG, RLO + SCRIPT))
    db.execute("UPDATE meta SET value = value || ? WHERE key = 'command'", (" " + IMG + RLO,))
    db.commit()
    db.close()


def extend(path, ms):
    """Grows a story trace by `ms` ms and marks it complete."""
    db = sqlite3.connect(path)
    end = int(db.execute("SELECT value FROM meta WHERE key = 'end_ts'").fetchone()[0])
    new_end = end + ms * MS
    db.execute("INSERT INTO thread_state(utid, ts, dur, state, reason, object_id, cpu, waker_utid, holder_utid) VALUES (4, ?, ?, 'Running', NULL, NULL, 0, NULL, NULL)",
               (end, new_end - end))
    db.execute("INSERT INTO thread_state(utid, ts, dur, state, reason, object_id, cpu, waker_utid, holder_utid) VALUES (1, ?, ?, 'Blocked', 'wait', NULL, NULL, NULL, NULL)",
               (end, new_end - end))
    db.execute("INSERT INTO process_state VALUES (4, ?, ?, 'Running')", (end, new_end - end))
    db.execute("INSERT INTO process_state VALUES (1, ?, ?, 'Waiting')", (end, new_end - end))
    db.execute("UPDATE thread SET end_ts = ? WHERE utid IN (1, 4)", (new_end,))
    db.execute("UPDATE process SET end_ts = ? WHERE upid IN (1, 4)", (new_end,))
    db.execute("UPDATE meta SET value = ? WHERE key = 'end_ts'", (str(new_end),))
    db.execute("UPDATE meta SET value = 'complete' WHERE key = 'status'")
    db.commit()
    db.close()
    print(new_end)


def big(path, n_spans, status):
    """About n_spans thread spans over 64 threads; 2 CPUs of slices."""
    rng = random.Random(1)
    db = open_db(path)
    n_proc, n_thr = 8, 8
    threads = n_proc * n_thr
    per_thread = max(1, n_spans // threads)
    mean = 20 * US
    end = T0 + per_thread * mean
    db.executemany("INSERT INTO process VALUES (?,?,?,?,?,?,?,?,0,NULL,1)", [
        (p + 1, 1000 + p, 999, None if p == 0 else 1, f"worker{p}",
         f"./worker {p}", T0, end) for p in range(n_proc)])
    db.executemany("INSERT INTO thread VALUES (?,?,?,?,?,?,?,'perf')", [
        (u + 1, 1000 + u, u // n_thr + 1, f"t{u}", T0, end, int(u % n_thr == 0))
        for u in range(threads)])
    db.executemany("INSERT INTO object(object_id, kind, upid, address, label) VALUES (?,?,?,?,?)", [
        (o + 1, "mutex", o % n_proc + 1, 0x1000 + o, f"mutex 0x{0x1000 + o:x}")
        for o in range(16)])
    states = ["Running", "Ready", "Blocked"]
    for u in range(threads):
        ts, rows = T0, []
        for _ in range(per_thread):
            st = states[rng.randrange(3)]
            dur = rng.randrange(1, 2 * mean)
            if ts + dur > end:
                dur = end - ts
            if dur <= 0:
                break
            obj = rng.randrange(1, 17) if st == "Blocked" else None
            rows.append((u + 1, ts, dur, st, "mutex" if obj else None, obj,
                         rng.randrange(2) if st == "Running" else None,
                         None, rng.randrange(1, threads + 1) if obj else None))
            ts += dur
        if ts < end:
            rows.append((u + 1, ts, end - ts, "Running", None, None, 0, None, None))
        db.executemany("INSERT INTO thread_state(utid, ts, dur, state, reason, object_id, cpu, waker_utid, holder_utid) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    for cpu in range(2):
        ts, rows = T0, []
        while ts < end:
            dur = min(rng.randrange(1, 4 * mean), end - ts)
            rows.append((cpu, ts, dur, rng.randrange(1, threads + 1), "Ready"))
            ts += dur
        db.executemany("INSERT INTO sched_slice VALUES (?,?,?,?,?)", rows)
    db.executemany("INSERT INTO process_state VALUES (?,?,?,?)", [
        (p + 1, T0, end - T0, "Running") for p in range(n_proc)])
    finish(db, T0, end, status, "synthetic")


def loop(path, n, status):
    """sh forking n children one after the other (see --procs)."""
    db = open_db(path)
    step = 300 * US
    end = T0 + (n + 1) * step
    procs = [(1, 100, 1, None, "sh", f"sh -c 'for i in $(seq {n}); do true; done'", T0, end, 0)]
    threads = [(1, 100, 1, "sh", T0, end, 1)]
    spans, flows, slices, pstates = [], [], [], []
    sh = Tiler(1, T0)
    sh.add("Running", 50 * US, cpu=1)
    pstates.append((1, T0, 50 * US, "Running"))
    needle = n * 3 // 4
    for i in range(n):
        upid = i + 2
        pid = 1000 + i
        name = "needle" if i + 1 == needle else "true"
        fork = T0 + i * step + 50 * US
        exit_ = fork + 200 * US
        procs.append((upid, pid, 100, 1, name, name, fork, exit_, 0))
        threads.append((upid, pid, upid, name, fork, exit_, 1))
        spans += [(upid, fork, 20 * US, "New", None, None, None, None, None),
                  (upid, fork + 20 * US, 180 * US, "Running", None, None, 0, None, None)]
        slices.append((0, fork + 20 * US, 180 * US, upid, "Terminated"))
        pstates += [(upid, fork, 20 * US, "New"), (upid, fork + 20 * US, 180 * US, "Running")]
        # sh: blocked in waitpid while the child runs, then runs to fork again.
        if sh.ts < fork:
            sh.add("Running", fork - sh.ts, cpu=1)
        sh.add("Blocked", exit_ - sh.ts, "wait", None, waker=upid)
        sh.add("Running", 100 * US, cpu=1)
        slices.append((1, exit_, 100 * US, 1, "Blocked"))
        pstates += [(1, fork, exit_ - fork, "Waiting"), (1, exit_, 100 * US, "Running")]
        flows += [(fork, 1, fork, upid, "fork", None, None), (exit_, upid, exit_, 1, "waitpid", None, None)]
    if sh.ts < end:
        ts = sh.add("Running", end - sh.ts, cpu=1)
        pstates.append((1, ts, end - ts, "Running"))
    db.executemany("INSERT INTO process VALUES (?,?,?,?,?,?,?,?,?,NULL,1)", procs)
    db.executemany("INSERT INTO thread VALUES (?,?,?,?,?,?,?,'perf')", threads)
    db.executemany("INSERT INTO thread_state(utid, ts, dur, state, reason, object_id, cpu, waker_utid, holder_utid) VALUES (?,?,?,?,?,?,?,?,?)", spans + sh.rows)
    db.executemany("INSERT INTO sched_slice VALUES (?,?,?,?,?)", slices)
    db.executemany("INSERT INTO flow VALUES (?,?,?,?,?,?,?)", flows)
    db.executemany("INSERT INTO process_state VALUES (?,?,?,?)", pstates)
    finish(db, T0, end, status, procs[0][5])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--spans", type=int, default=0)
    ap.add_argument("--status", default="complete")
    ap.add_argument("--no-sched", action="store_true")
    ap.add_argument("--extend", type=int, default=0)
    ap.add_argument("--hostile", action="store_true")
    ap.add_argument("--procs", type=int, default=0)
    args = ap.parse_args()
    if args.extend:
        extend(args.out, args.extend)
    elif args.procs:
        loop(args.out, args.procs, args.status)
    elif args.spans:
        big(args.out, args.spans, args.status)
    else:
        story(args.out, args.status, sched=not args.no_sched)
        if args.hostile:
            hostile(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
