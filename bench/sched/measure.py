"""Measures what recording context switches costs, each figure beside its
baseline from the same run, and prints a markdown section (bench/sched/run.sh
runs it).

  python3 measure.py --build BUILD_DIR --bin DIR_WITH_PIPE_PINGPONG --work DIR

Figures:
  1. added cost per context switch of a traced thread: pipe_pingpong (two
     threads, one byte each way through two pipes), pinned to one CPU and
     unpinned; untraced vs `weft record` vs `weft record --sched=none` vs
     `perf record -e dummy --switch-events` (paired runs, order rotating,
     medians of the figure the program measures around its own loop);
  2. no switch record lost at ~100k switches/s: pipe_pingpong paced for a
     few seconds under `weft record`; meta sched_events_lost / events_lost
     and the rate of sched_slice rows reached;
  3. wall and CPU time of `true`, xz -T2, the ping-pong and `make -j2` of a
     generated C project, untraced vs `weft record` vs `perf record
     --no-bpf-event -e dummy --switch-events` (rounds of one run each, order
     rotating; medians), with what each wrote (trace rows and size,
     perf.data size), and perf's fixed cost without --no-bpf-event.
What cannot be measured (a tool missing, a run failing) is printed as
"not measured: reason".
"""

import argparse
import itertools
import os
import random
import resource
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import time

PAIRS = 5          # paired runs per variant in section 1
ROUNDS = 6         # rounds in section 3: every order of the 3 variants once
TRIPS = 50000      # ping-pong round trips per run (100k handoffs)
PACED_RATE = 100000
PACED_SECONDS = 3
XZ_MB = 32
C_FILES = 40


class NotMeasured(Exception):
    pass


def first_line(data):
    text = data.decode(errors="replace").strip()
    return text.splitlines()[-1][:160] if text else "(no message)"


def run(argv, timeout=600):
    """Runs argv; returns (the finished Popen with stdout_data,
    stderr_data and cpu: user + system seconds of the command and every
    descendant it waited for, wall time in seconds)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=timeout)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc.cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    proc.stdout_data, proc.stderr_data = out, err
    return proc, wall


def figures(proc):
    """The "key value" lines a pipe_pingpong run printed."""
    if proc.returncode != 0:
        raise NotMeasured(f"exited {proc.returncode}: {first_line(proc.stderr_data)}")
    out = {}
    for line in proc.stdout_data.decode().splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                pass
    if "ns_per_switch" not in out:
        raise NotMeasured("no ns_per_switch in its output")
    return out


def remove_trace(path):
    for suffix in ("", "-wal", "-shm", ".old"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)


def query(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchone()[0]
    except sqlite3.Error as e:
        raise NotMeasured(f"query on the trace failed: {e}")
    finally:
        con.close()


def meta(db, key):
    return query(db, "SELECT COALESCE((SELECT value FROM meta WHERE key = "
                     f"'{key}'), 'absent')")


def trace_rows(db):
    return sum(query(db, f"SELECT COUNT(*) FROM {t}") for t in
               ("thread_state", "process_state", "sched_slice", "flow", "object"))


class Variants:
    """The ways of running a command: each returns the argv that runs it."""

    def __init__(self, args):
        self.weft = os.path.join(args.build, "bin", "weft")
        self.perf = shutil.which("perf")
        self.db = os.path.join(args.work, "sched.db")
        self.perf_data = os.path.join(args.work, "perf.data")

    def untraced(self, cmd):
        return cmd

    def weft_record(self, cmd):
        return [self.weft, "record", "-q", "-f", "-o", self.db, "--", *cmd]

    def weft_nosched(self, cmd):
        return [self.weft, "record", "-q", "-f", "--sched=none", "-o", self.db, "--", *cmd]

    def perf_record(self, cmd, bpf_side_band=False):
        """perf record of context switches only. --no-bpf-event: perf's
        default also starts a side-band thread for BPF program events, and
        waiting for it at exit adds about a second to every run, which is
        not the cost of recording switches (fixed_cost_note measures it)."""
        extra = [] if bpf_side_band else ["--no-bpf-event"]
        return [self.perf or "perf", "record", "-q", *extra, "-e", "dummy",
                "--switch-events", "-o", self.perf_data, "--", *cmd]

    def check(self, name):
        """Raises NotMeasured when the tool of variant NAME ("untraced",
        "weft", "perf") is missing."""
        if name.startswith("weft") and not os.access(self.weft, os.X_OK):
            raise NotMeasured(f"{self.weft} not built")
        if name == "perf" and not self.perf:
            raise NotMeasured("perf not installed (Debian linux-perf)")

    def clean(self):
        remove_trace(self.db)
        remove_trace(self.perf_data)


def shown(argv, work):
    """argv as a shell command, with the scratch directory abbreviated."""
    return " ".join(shlex.quote(a) for a in argv).replace(work, "$work")


def switch_section(args, v):
    print("### Added cost per context switch (pipe ping-pong)\n")
    bench = os.path.join(args.bin, "pipe_pingpong")
    names = [("untraced", v.untraced), ("weft record", v.weft_record),
             ("weft record --sched=none", v.weft_nosched),
             ("perf record --switch-events", v.perf_record)]
    print("| threads | " + " | ".join(n for n, _ in names) +
          " | added by weft record | of which perf part | added by perf record "
          "| switches per handoff (untraced, weft, --sched=none, perf) "
          "| weft sched_events_lost (worst run) |")
    print("|---|" + "---|" * (len(names) + 5))
    for mode in ("pinned", "unpinned"):
        cmd = [bench, mode, str(TRIPS)]
        per = {n: [] for n, _ in names}
        switches = {n: [] for n, _ in names}
        lost = []
        missing = {}
        try:
            for i in range(PAIRS):
                order = names if i % 2 == 0 else names[::-1]
                for name, wrap in order:
                    if name in missing:
                        continue
                    try:
                        v.check(name.split()[0])
                        v.clean()
                        proc, _ = run(wrap(cmd))
                        f = figures(proc)
                        if name == "weft record":
                            lost.append(meta(v.db, "sched_events_lost"))
                    except NotMeasured as e:
                        if name == "untraced":
                            raise
                        missing[name] = str(e)
                        continue
                    per[name].append(f["ns_per_handoff"])
                    switches[name].append(f["switches"] / f["handoffs"])
            med = {n: statistics.median(x) for n, x in per.items() if x}
            base = med["untraced"]

            def cell(n):
                if n not in med:
                    return f"not measured: {missing[n]}"
                return f"{med[n]:.0f} ns ({min(per[n]):.0f}-{max(per[n]):.0f})"

            def added(n):
                return f"{med[n] - base:+.0f} ns" if n in med else "not measured"

            perf_part = (f"{med['weft record'] - med['weft record --sched=none']:+.0f} ns"
                         if "weft record" in med and "weft record --sched=none" in med
                         else "not measured")
            ratios = ", ".join(f"{statistics.median(switches[n]):.2f}" if switches[n] else "-"
                               for n, _ in names)
            worst = "not measured"
            if lost:
                numeric = [int(x) for x in lost if str(x).isdigit()]
                worst = str(max(numeric)) if len(numeric) == len(lost) else \
                    ", ".join(str(x) for x in lost)
            print(f"| {mode} | " + " | ".join(cell(n) for n, _ in names) +
                  f" | {added('weft record')} | {perf_part} "
                  f"| {added('perf record --switch-events')} | {ratios} | {worst} |")
        except NotMeasured as e:
            print(f"| {mode} | not measured: {e} |")
    print(f"\nFigures are ns per handoff: wall time of the program's own loop / handoffs; "
          "untraced, a handoff is one context switch of a thread (getrusage counts, shown "
          "as switches per handoff), so this is ns per switch. Median (min-max) of "
          f"{PAIRS} runs of each variant, {TRIPS} round trips ({2 * TRIPS} handoffs) each, "
          "order reversing between rounds. Pinned, both threads share one CPU and a "
          "handoff switches straight to the partner; unpinned, a blocking read switches "
          "to the idle task. \"of which perf part\" is `weft record` minus `weft record "
          "--sched=none` (the same interposed pipe calls without the perf switch "
          "records). sched_events_lost > 0 means the per-CPU perf rings overflowed before "
          "the collector drained them. `perf record` pays the same kernel cost of writing "
          "switch records, so it bounds what `weft record` can reach; unpinned, weft's "
          "collector also competes with both threads for the CPUs. Target: under 500 ns "
          "added per switch.\n")
    bench_s = shown(v.weft_record([bench, "pinned", str(TRIPS)]), args.work)
    perf_s = shown(v.perf_record([bench, "pinned", str(TRIPS)]), args.work)
    print(f"Commands: `{bench_s}`, the same with `--sched=none`, `{perf_s}`, and the "
          "program alone; `unpinned` in place of `pinned` for the second row.\n")


def floor_section(args, v):
    print("### The kernel's own floor: a switch record without weft\n")
    bench = os.path.join(args.bin, "pipe_pingpong")
    floor = os.path.join(args.bin, "perf_floor")
    cmd = [bench, "pinned", str(TRIPS)]
    variants = [
        ("none", "untraced (no perf event)"),
        ("event", "an inherited dummy event per CPU, no switch records"),
        ("switch", "+ switch records, as weft opens them"),
        ("switch-noid", "switch records without sample_id_all (no time, no tid)"),
        ("cpu-wide", "switch records of every task, one event per CPU (pid -1, root)"),
    ]
    per = {name: [] for name, _ in variants}
    per["weft record"] = []
    missing = {}
    for i in range(PAIRS):
        order = [n for n, _ in variants] + ["weft record"]
        if i % 2:
            order.reverse()
        for name in order:
            if name in missing:
                continue
            try:
                if name == "weft record":
                    v.clean()
                    proc, _ = run(v.weft_record(cmd))
                else:
                    proc, _ = run([floor, name, "--"] + cmd)
                per[name].append(figures(proc)["ns_per_handoff"])
            except NotMeasured as e:
                missing[name] = str(e)
    if "none" in missing:
        print(f"not measured: {missing['none']}\n")
        return
    base = statistics.median(per["none"])
    print("| perf setup on the ping-pong's threads | ns per switch | added per switch |")
    print("|---|---|---|")
    for name, label in variants + [("weft record", "`weft record` (switch records + "
                                    "interposed calls + collector + SQLite)")]:
        if name in missing or not per[name]:
            print(f"| {label} | not measured: {missing.get(name, 'no runs')} | |")
            continue
        med = statistics.median(per[name])
        added = "(baseline)" if name == "none" else f"{med - base:+.0f} ns"
        print(f"| {label} | {med:.0f} ns ({min(per[name]):.0f}-{max(per[name]):.0f}) "
              f"| {added} |")
    print(f"\n`perf_floor` (bench/sched/perf_floor.c) forks the pinned ping-pong, opens the "
          "events on it and only moves each ring's tail every 2 ms: no decoding, no "
          "collector, no SQLite, nothing preloaded. Median (min-max) of "
          f"{PAIRS} runs each, {TRIPS} round trips, order reversing between rounds. What "
          "the kernel charges for writing the switch records weft needs (each record "
          "must say which thread and when) is the floor of any recorder built on them, "
          "perf record included; this VM has no hardware PMU, and a task with a perf "
          "context pays for it on every switch even before any record is written.\n")
    print(f"Command: `{shown([floor, 'switch', '--'] + cmd, args.work)}` (and the other "
          "variants in place of `switch`).\n")


def lost_section(args, v):
    print(f"### Switch records lost at ~{PACED_RATE // 1000}k switches/s\n")
    bench = os.path.join(args.bin, "pipe_pingpong")
    cmd = [bench, "paced", str(PACED_RATE), str(PACED_SECONDS)]
    try:
        v.check("weft")
        plain, _ = run(cmd)
        pf = figures(plain)
        v.clean()
        proc, wall = run(v.weft_record(cmd))
        f = figures(proc)
        db = v.db
        slices = query(db, "SELECT COUNT(*) FROM sched_slice")
        mode = meta(db, "capture_mode")
        span = query(db, "SELECT (MAX(ts + dur) - MIN(ts)) / 1e9 FROM sched_slice")
        print("| run | switches (getrusage) | switches/s in the loop | sched_slice rows "
              "| slices/s of the recording | sched_events_lost | events_lost "
              "| capture_mode |")
        print("|---|---|---|---|---|---|---|---|")
        print(f"| untraced | {pf['switches']:.0f} | {pf['switches_per_s']:,.0f} | | | | | |")
        rate = f"{slices / span:,.0f}" if span and span > 0 else "not measured"
        print(f"| weft record | {f['switches']:.0f} | {f['switches_per_s']:,.0f} | {slices} "
              f"| {rate} | {meta(db, 'sched_events_lost')} | {meta(db, 'events_lost')} "
              f"| {mode} |\n")
        print(f"Command: `{shown(v.weft_record(cmd), args.work)}` (both threads on one CPU, "
              f"round trips paced at {PACED_RATE // 2:,}/s in 1 ms ticks for "
              f"{PACED_SECONDS} s). Slices/s is sched_slice rows over the time from the "
              f"first slice to the end of the last ({span or 0:.2f} s; `weft record` took "
              f"{wall:.2f} s of wall time in all). Every switch of a recorded thread ends "
              "one sched_slice, so the rows should match the getrusage count plus the "
              "switches before and after the loop; a lost record would show as "
              "sched_events_lost > 0.\n")
        if mode != "perf":
            print(f"capture_mode is {mode}, not perf: no switch records were taken.\n")
    except NotMeasured as e:
        print(f"not measured: {e}\n")


def make_data(path, megabytes):
    if os.path.isfile(path) and os.path.getsize(path) >= megabytes * 1_000_000:
        return
    rnd = random.Random(1234)
    words = ["".join(rnd.choice("abcdefghijklmnopqrstuvwxyz")
                     for _ in range(rnd.randint(3, 9))) for _ in range(5000)]
    lines, written = [], 0
    while written < megabytes * 1_000_000:
        line = " ".join(rnd.choices(words, k=3)) + "\n"
        lines.append(line)
        written += len(line)
    with open(path + ".tmp", "w") as f:
        f.write("".join(lines))
    os.replace(path + ".tmp", path)


def make_project(path, files):
    """A small C project: FILES units each with a few dozen functions, one
    header, a main, and a Makefile that builds them into one program."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "unit.h"), "w") as h:
        for i in range(files):
            h.write(f"long unit{i}(long x);\n")
    for i in range(files):
        with open(os.path.join(path, f"unit{i}.c"), "w") as c:
            c.write('#include <stdio.h>\n#include <string.h>\n#include "unit.h"\n')
            for k in range(40):
                c.write(f"static long f{k}(long x)\n{{\n\tchar b[64];\n"
                        f"\tsnprintf(b, sizeof b, \"%ld-{k}\", x * {k + 3});\n"
                        f"\tlong s = 0;\n\tfor (size_t j = 0; j < strlen(b); j++)\n"
                        f"\t\ts = s * 31 + b[j] + (x >> {k % 7});\n\treturn s;\n}}\n")
            c.write(f"long unit{i}(long x)\n{{\n\treturn " +
                    " + ".join(f"f{k}(x)" for k in range(40)) + ";\n}\n")
    with open(os.path.join(path, "main.c"), "w") as c:
        c.write('#include <stdio.h>\n#include "unit.h"\nint main(void)\n{\n\tlong s = 0;\n')
        for i in range(files):
            c.write(f"\ts += unit{i}({i});\n")
        c.write('\tprintf("%ld\\n", s);\n\treturn 0;\n}\n')
    objs = " ".join(f"unit{i}.o" for i in range(files)) + " main.o"
    with open(os.path.join(path, "Makefile"), "w") as m:
        m.write(f"CFLAGS = -O2\nOBJS = {objs}\n\nprog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n\n"
                "%.o: %.c unit.h\n\t$(CC) $(CFLAGS) -c -o $@ $<\n\n"
                "clean:\n\trm -f prog $(OBJS)\n")


def fixed_cost_note(args, v):
    """What perf record costs without --no-bpf-event, on `true`."""
    try:
        v.check("perf")
        walls = []
        for _ in range(3):
            v.clean()
            proc, wall = run(v.perf_record(["true"], bpf_side_band=True))
            if proc.returncode != 0:
                raise NotMeasured(f"exited {proc.returncode}: {first_line(proc.stderr_data)}")
            walls.append(wall)
        cmd = shown(v.perf_record(["true"], bpf_side_band=True), args.work)
        print(f"Without --no-bpf-event, `{cmd}` takes {statistics.median(walls) * 1e3:.0f} ms "
              "(median of 3): perf's default adds that fixed cost to every recording.\n")
    except NotMeasured as e:
        print(f"perf record without --no-bpf-event: not measured: {e}\n")


def walltime_section(args, v):
    print("### Side by side: untraced vs `weft record` vs `perf record --switch-events`"
          " (--no-bpf-event)\n")
    bench = os.path.join(args.bin, "pipe_pingpong")
    data = os.path.join(args.work, f"data-{XZ_MB}mb.txt")
    make_data(data, XZ_MB)
    proj = os.path.join(args.work, "cproject")
    make_project(proj, C_FILES)
    workloads = [
        ("true (start and finish only)", ["true"], None),
        (f"xz -T2 -1 ({XZ_MB} MB)", ["xz", "-T2", "-1", "-c", data], None),
        (f"pipe ping-pong, {TRIPS} round trips, unpinned",
         [bench, "unpinned", str(TRIPS)], None),
        (f"make -j2 ({C_FILES + 1} C files)", ["make", "-s", "-j2", "-C", proj],
         ["make", "-s", "-C", proj, "clean"]),
    ]
    names = [("untraced", v.untraced), ("weft record", v.weft_record),
             ("perf record", v.perf_record)]
    orders = list(itertools.permutations(range(len(names))))
    print("| workload | wall untraced | wall weft record | wall perf record | weft / untraced "
          "| perf / untraced | CPU untraced | CPU weft record | CPU perf record "
          "| weft / untraced | perf / untraced | weft trace: rows, size | perf.data size |")
    print("|---|" + "---|" * 12)
    for label, cmd, prepare in workloads:
        walls = {n: [] for n, _ in names}
        cpus = {n: [] for n, _ in names}
        missing = {}
        wrote = {}
        try:
            for r in range(ROUNDS):
                for k in orders[r % len(orders)]:
                    name, wrap = names[k]
                    if name in missing:
                        continue
                    try:
                        v.check(name.split()[0])
                        v.clean()
                        if prepare:
                            subprocess.run(prepare, capture_output=True, check=False)
                        proc, wall = run(wrap(cmd))
                        if proc.returncode != 0:
                            raise NotMeasured(f"exited {proc.returncode}: "
                                              f"{first_line(proc.stderr_data)}")
                    except NotMeasured as e:
                        if name == "untraced":
                            raise
                        missing[name] = str(e)
                        continue
                    walls[name].append(wall)
                    cpus[name].append(proc.cpu)
                    if name == "weft record":
                        wrote[name] = (f"{trace_rows(v.db):,} rows (sched_slice "
                                       f"{query(v.db, 'SELECT COUNT(*) FROM sched_slice'):,}), "
                                       f"{os.path.getsize(v.db) / 1e6:.1f} MB")
                    elif name == "perf record":
                        wrote[name] = f"{os.path.getsize(v.perf_data) / 1e6:.1f} MB"
        except NotMeasured as e:
            print(f"| {label} | not measured: {e} |")
            continue

        def med(n):
            if n in missing:
                return f"not measured: {missing[n]}"
            return f"{statistics.median(walls[n]) * 1e3:.0f} ms"

        def ratio(n, times):
            if n in missing:
                return "not measured"
            pairs = [b / a for a, b in zip(times["untraced"], times[n]) if a > 0]
            return f"{statistics.median(pairs):.2f}x" if pairs else "not measured"

        def cpu(n):
            if n in missing:
                return "not measured"
            return f"{statistics.median(cpus[n]) * 1e3:.0f} ms"

        print(f"| {label} | {med('untraced')} | {med('weft record')} | {med('perf record')} "
              f"| {ratio('weft record', walls)} | {ratio('perf record', walls)} "
              f"| {cpu('untraced')} | {cpu('weft record')} | {cpu('perf record')} "
              f"| {ratio('weft record', cpus)} | {ratio('perf record', cpus)} "
              f"| {wrote.get('weft record', 'not measured')} "
              f"| {wrote.get('perf record', 'not measured')} |")
    print(f"\nWall time of the whole command (the tool's start and its writing of the "
          f"trace included), median of {ROUNDS} rounds; a round runs each variant once, "
          "the order taking each permutation in turn; ratios are medians of the per-round "
          "ratios. CPU is user + system time of the command and its descendants (the "
          "tool's own threads included): less sensitive than wall time to other work on "
          "the machine. `make` is cleaned before every run. Commands: "
          f"`{shown(v.weft_record(['CMD']), args.work)}` and "
          f"`{shown(v.perf_record(['CMD']), args.work)}`. What each records: the weft "
          "trace holds every thread's and process's state spans (Running/Ready/Blocked "
          "with the blocking call and object), one sched_slice per context switch, "
          "wake-up flows and objects, queryable with SQL (rows = thread_state + "
          "process_state + sched_slice + flow + object); perf.data holds the raw "
          "PERF_RECORD_SWITCH records plus mmap/comm events, to be decoded by "
          "`perf script`.\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("--work", required=True)
    args = p.parse_args()
    v = Variants(args)
    print("## Scheduler (context-switch recording)\n")
    print(f"Build: `{args.build}`; load average at start: "
          f"{' '.join(open('/proc/loadavg').read().split()[:3])}.\n")
    switch_section(args, v)
    floor_section(args, v)
    lost_section(args, v)
    walltime_section(args, v)
    fixed_cost_note(args, v)
    print(f"Load average at end: {' '.join(open('/proc/loadavg').read().split()[:3])}.\n")
    v.clean()


if __name__ == "__main__":
    main()
