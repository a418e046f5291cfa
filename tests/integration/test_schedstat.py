"""Scheduler truth without perf: when perf_event_open is not allowed (or
with --sched=schedstat), the recorder samples every traced thread's CPU
counters (/proc/PID/task/TID/schedstat) and splits the time outside
blocking calls into Running, Ready and Blocked 'other'."""

import os
import signal
import subprocess
import unittest

from test_tiling import PROCESS_TILING_VIOLATIONS, THREAD_TILING_VIOLATIONS
import sqlite3
import time

from weftlib import (LIBWEFT, MS, TIMEOUT, WEFT, Recording, TraceTest, demo, prog,
                     workloads)

CASHIERS = [demo("cashiers"), "--cashiers", "1", "--lines", "3", "--customers", "2"]


class SchedstatTest(TraceTest):
    """Helpers: record with options, read meta, time per state of lines."""

    def record_with(self, options, argv, name="trace"):
        """`weft record OPTIONS -o TMP/NAME.db -- argv`."""
        db = os.path.join(self.tmp, name + ".db")
        proc = subprocess.run([WEFT, "record", *options, "-o", db, "--", *argv],
                              capture_output=True, timeout=TIMEOUT, cwd=self.tmp)
        return Recording(db, proc)

    def meta(self, db, key):
        rows = self.query(db, "SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def line_times(self, db):
        """{line name: {state: total ns}} for the line threads."""
        times = {}
        for row in self.query(db, """SELECT thread_name, state, SUM(total_dur) AS ns
                FROM thread_state_time WHERE thread_name LIKE 'line-%'
                GROUP BY utid, state"""):
            times.setdefault(row["thread_name"], {})[row["state"]] = row["ns"]
        return times


class ForcedSchedstat(SchedstatTest):
    """weft record --sched=schedstat on three lines of customers sharing one
    CPU: each line runs a third of the time and waits for the CPU the rest."""

    def setUp(self):
        super().setUp()
        self.rec = self.record_with(["--sched=schedstat"], CASHIERS)
        self.assert_recorded_ok(self.rec)

    def test_capture_mode_and_sched_source_say_schedstat(self):
        self.assertEqual(self.meta(self.rec.db, "capture_mode"), "schedstat")
        self.assertIn("--sched=schedstat", self.meta(self.rec.db, "sched_fallback_reason"))
        sources = self.query(self.rec.db, """SELECT name, sched_source FROM thread
            WHERE name LIKE 'line-%' ORDER BY name""")
        self.assertEqual([(r["name"], r["sched_source"]) for r in sources],
                         [("line-0", "schedstat"), ("line-1", "schedstat"),
                          ("line-2", "schedstat")])

    def test_each_line_runs_and_waits_for_the_cpu_longer_than_it_runs(self):
        times = self.line_times(self.rec.db)
        self.assertEqual(sorted(times), ["line-0", "line-1", "line-2"])
        for name, states in times.items():
            running, ready = states.get("Running", 0), states.get("Ready", 0)
            self.assertGreater(running, 20 * MS, f"{name}: {states}")
            self.assertGreater(ready, running, f"{name}: {states}")

    def test_no_cpu_numbers_or_slices_without_perf(self):
        rows = self.query(self.rec.db, """SELECT (SELECT COUNT(*) FROM sched_slice),
            (SELECT COUNT(*) FROM thread_state WHERE cpu IS NOT NULL)""")
        self.assertEqual(tuple(rows[0]), (0, 0))

    def test_output_is_that_of_the_untraced_run(self):
        self.assertEqual(self.rec.stdout, self.run_untraced(CASHIERS).stdout)


class SchedstatModes(SchedstatTest):
    """The sampled split never breaks the tiling, Blocked spans of calls
    keep their reason, --sched=none records calls only, and a recorder
    without perf falls back to schedstat by itself."""

    def test_a_mutex_wait_stays_blocked_on_the_mutex(self):
        rec = self.record_with(["--sched=schedstat"], [demo("lockhold"), "200"])
        self.assert_recorded_ok(rec)
        waiter = self.thread_by_name(rec.db, "waiter")
        self.assertEqual(waiter["sched_source"], "schedstat")
        waits = self.query(rec.db, """SELECT dur FROM thread_state WHERE utid = ?
            AND state = 'Blocked' AND reason = 'mutex' ORDER BY dur DESC""",
                           (waiter["utid"],))
        self.assertTrue(waits, "no Blocked 'mutex' span for the waiter")
        self.assertGreaterEqual(waits[0]["dur"], 150 * MS)

    def test_spans_tile_under_schedstat(self):
        for name in ["sh-ls-grep", "python-lock", "prodcons", "pipeline", "family",
                     "cashiers-2"]:
            with self.subTest(workload=name):
                rec = self.record_with(["--sched=schedstat"], workloads(self.tmp)[name],
                                       name=name)
                self.open_trace(rec.db)
                self.assertEqual(self.meta(rec.db, "capture_mode"), "schedstat")
                bad = self.query(rec.db, THREAD_TILING_VIOLATIONS)
                self.assertEqual([tuple(r) for r in bad], [], f"{name}: thread spans")
                bad = self.query(rec.db, PROCESS_TILING_VIOLATIONS)
                self.assertEqual([tuple(r) for r in bad], [], f"{name}: process spans")

    def test_sched_none_and_no_sched_record_calls_only(self):
        for option in ["--sched=none", "--no-sched"]:
            with self.subTest(option=option):
                rec = self.record_with([option], CASHIERS, name=option.strip("-"))
                self.assert_recorded_ok(rec)
                self.assertEqual(self.meta(rec.db, "capture_mode"), "calls")
                sources = {r[0] for r in self.query(rec.db, "SELECT sched_source FROM thread")}
                self.assertEqual(sources, {"calls"})
                ready = self.query(rec.db, "SELECT COUNT(*) FROM thread_state "
                                           "WHERE state = 'Ready'")[0][0]
                self.assertEqual(ready, 0)

    def test_without_perf_the_recorder_falls_back_to_schedstat_and_says_why(self):
        # weft-itest-noperf runs weft under a seccomp filter that makes
        # perf_event_open fail with EACCES.
        db = os.path.join(self.tmp, "noperf.db")
        proc = subprocess.run([prog("noperf"), WEFT, "record", "-o", db, "--", *CASHIERS],
                              capture_output=True, timeout=TIMEOUT, cwd=self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        self.assertIn(b"schedstat", proc.stderr)
        self.assertEqual(self.meta(db, "capture_mode"), "schedstat")
        reason = self.meta(db, "sched_fallback_reason")
        self.assertIn("perf_event_open", reason)
        self.assertIn("Permission denied", reason)
        times = self.line_times(db)
        self.assertEqual(len(times), 3)
        for name, states in times.items():
            self.assertGreater(states.get("Ready", 0), states.get("Running", 0), name)

def wait_complete(test, db):
    """Waits until the trace at db says status 'complete' (the collector of
    a program that preloaded libweft.so by hand may still be writing)."""
    status, deadline = None, time.monotonic() + 30
    while status != "complete" and time.monotonic() < deadline:
        time.sleep(0.1)
        if os.path.isfile(db):
            con = sqlite3.connect(db, timeout=1)
            try:
                row = con.execute("SELECT value FROM meta WHERE key = 'status'").fetchone()
                status = row[0] if row else None
            except sqlite3.Error:
                pass
            finally:
                con.close()
    test.assertEqual(status, "complete", "the attached collector never finished")


class AttachedSchedstat(SchedstatTest):
    """A program started with libweft.so preloaded by hand gets a collector
    in attach mode, which cannot open perf before the program's threads
    run: it samples schedstat."""

    def test_a_preloaded_program_gets_running_and_ready_from_schedstat(self):
        db = os.path.join(self.tmp, "attached.db")
        env = dict(os.environ, LD_PRELOAD=LIBWEFT, WEFT_OUT=db)
        proc = subprocess.run(CASHIERS, env=env, capture_output=True, timeout=TIMEOUT,
                              cwd=self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        wait_complete(self, db)
        self.assertEqual(self.meta(db, "capture_mode"), "schedstat")
        self.assertIn("attach", self.meta(db, "sched_fallback_reason"))
        times = self.line_times(db)
        self.assertEqual(sorted(times), ["line-0", "line-1", "line-2"])
        for name, states in times.items():
            self.assertGreater(states.get("Running", 0), 20 * MS, f"{name}: {states}")
            self.assertGreater(states.get("Ready", 0), states.get("Running", 0),
                               f"{name}: {states}")

    def test_a_preloaded_program_stopped_and_continued_is_suspended(self):
        # The collector is not the program's parent: it sees the stop in /proc.
        db = os.path.join(self.tmp, "stopped.db")
        env = dict(os.environ, LD_PRELOAD=LIBWEFT, WEFT_OUT=db)
        proc = subprocess.Popen(["sh", "-c", "kill -STOP $$; echo resumed"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.tmp)
        self.addCleanup(lambda: proc.poll() is not None or proc.kill())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with open(f"/proc/{proc.pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "T":
                    break
            time.sleep(0.01)
        time.sleep(0.3)
        os.kill(proc.pid, signal.SIGCONT)
        out, err = proc.communicate(timeout=TIMEOUT)
        self.assertEqual((proc.returncode, out), (0, b"resumed\n"), err)
        wait_complete(self, db)
        rows = self.query(db, """SELECT dur FROM process_state WHERE state = 'Suspended'
            ORDER BY dur DESC""")
        self.assertTrue(rows, "no Suspended span")
        self.assertGreaterEqual(rows[0]["dur"], 200 * MS)
        self.assertLess(rows[0]["dur"], 2000 * MS)


if __name__ == "__main__":
    unittest.main()
