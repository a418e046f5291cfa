"""Recording for hours: the collector frees what is gone, the trace is
whole at the end, and bounded recordings (--keep-last, --max-size,
--duration) hold what they promise, with meta saying what was left out."""

import os
import subprocess
import sys
import textwrap

from weftlib import TIMEOUT, WEFT, Recording, TraceTest

# 2,000 short threads, one after another, then a pause longer than the
# collector keeps an ended thread's entry (MODEL_RETIRE_NS, 2 s).
SHORT_THREADS = textwrap.dedent("""
    import threading, time
    for i in range(2000):
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()
    time.sleep(4)
    print("done")
""")


class Recorder(TraceTest):
    def record_with(self, options, argv, name="trace"):
        db = os.path.join(self.tmp, name + ".db")
        proc = subprocess.run([WEFT, "record", "-o", db, *options, "--", *argv],
                              capture_output=True, timeout=TIMEOUT, cwd=self.tmp)
        return Recording(db, proc)

    def meta(self, db):
        return {r["key"]: r["value"] for r in self.query(db, "SELECT key, value FROM meta")}


class LongRecording(Recorder):

    def test_ended_threads_are_freed_while_recording(self):
        rec = self.record([sys.executable, "-c", SHORT_THREADS])
        self.assert_recorded_ok(rec)
        self.assertEqual(rec.stdout, b"done\n")
        ended = self.query(rec.db, """
            SELECT COUNT(*) FROM thread t JOIN process p USING (upid)
            WHERE NOT t.is_main AND t.end_ts IS NOT NULL""")[0][0]
        self.assertGreaterEqual(ended, 2000)
        # every one of them was in memory once; at the end only the live
        # ones (the main thread, whatever python keeps) are
        held = int(self.meta(rec.db)["threads_held"])
        self.assertLess(held, 20)

    def test_a_finished_trace_is_one_indexed_file(self):
        rec = self.record([sys.executable, "-c", "print('hi')"])
        self.assert_recorded_ok(rec)
        self.assertFalse(os.path.exists(rec.db + "-wal"))
        self.assertFalse(os.path.exists(rec.db + "-shm"))
        self.assertEqual(self.meta(rec.db)["status"], "complete")
        indexes = {r[0] for r in self.query(
            rec.db, "SELECT name FROM sqlite_master WHERE type = 'index'")}
        self.assertIn("thread_state_utid_ts", indexes)


# Three threads taking turns on a lock, sleeping inside it, for SECONDS:
# a steady stream of transitions.
BUSY = textwrap.dedent("""
    import sys, threading, time
    end = time.time() + float(sys.argv[1])
    lock = threading.Lock()
    def work():
        while time.time() < end:
            with lock:
                time.sleep(0.0005)
    ts = [threading.Thread(target=work) for _ in range(3)]
    for t in ts: t.start()
    for t in ts: t.join()
    print("done")
""")


class BoundedRecording(Recorder):
    def busy(self, options, seconds):
        rec = self.record_with(options, [sys.executable, "-c", BUSY, str(seconds)])
        self.assert_recorded_ok(rec)
        self.assertEqual(rec.stdout, b"done\n")  # the workload is untouched
        self.assertFalse(os.path.exists(rec.db + "-wal"))
        return rec, self.meta(rec.db)

    def test_keep_last_holds_the_last_duration_in_whole_chunks(self):
        rec, meta = self.busy(["--keep-last", "1s"], 4)
        self.assertEqual(meta["keep_last_ns"], str(10**9))
        start, end = int(meta["start_ts"]), int(meta["end_ts"])
        dropped_before = int(meta["dropped_before_ts"])
        self.assertGreater(int(meta["dropped_rows"]), 0)
        # the trace holds at least the last second, and nothing of what was
        # written before the boundary, but the span each thread still held
        self.assertLess(start, dropped_before)
        self.assertGreaterEqual(end - dropped_before, 10**9)
        threads = self.query(rec.db, "SELECT COUNT(*) FROM thread")[0][0]
        if meta.get("capture_mode") == "perf":
            older = self.query(rec.db, "SELECT COUNT(*) FROM thread_state WHERE ts + dur < ?",
                               (dropped_before,))[0][0]
            self.assertLessEqual(older, threads)
        # process and thread rows stay for everything seen
        self.assertEqual(self.query(rec.db, "SELECT COUNT(*) FROM thread WHERE NOT is_main")[0][0],
                         3)
        self.assertEqual(meta["status"], "complete")

    def test_max_size_stops_adding_events_near_the_size(self):
        rec, meta = self.busy(["--max-size", "1M"], 4)
        self.assertEqual(meta["truncated"], "max-size")
        self.assertEqual(meta["max_size"], str(1 << 20))
        self.assertGreater(int(meta["events_after_cut"]), 0)
        size = os.path.getsize(rec.db)
        self.assertLessEqual(size, (1 << 20) * 105 // 100)
        self.assertGreaterEqual(size, (1 << 20) * 80 // 100)
        cut = int(meta["truncated_ts"])
        late = self.query(rec.db, "SELECT COUNT(*) FROM thread_state WHERE ts + dur > ?",
                          (cut,))[0][0]
        self.assertEqual(late, 0)

    def test_duration_records_the_first_duration_only(self):
        rec, meta = self.busy(["--duration", "1s"], 3)
        self.assertEqual(meta["truncated"], "duration")
        cut = int(meta["truncated_ts"])
        self.assertEqual(cut - int(meta["start_ts"]), 10**9)
        last = self.query(rec.db, "SELECT MAX(ts + dur) FROM thread_state")[0][0]
        self.assertLessEqual(last, cut)
        self.assertGreater(int(meta["events_after_cut"]), 0)
        # the workload's exit status is still the recorder's
        self.assertEqual(meta["exit_status"], "0")

    def test_bad_bounds_are_refused_before_anything_runs(self):
        for option, value in (("--keep-last", "10"), ("--duration", "5x"),
                              ("--max-size", "-1M"), ("--max-size", "2Q"),
                              ("--duration", "0s"), ("--keep-last", "")):
            db = os.path.join(self.tmp, "bad.db")
            proc = subprocess.run([WEFT, "record", "-o", db, option, value, "--", "true"],
                                  capture_output=True, timeout=TIMEOUT)
            self.assertEqual(proc.returncode, 2, (option, value))
            self.assertIn(option.encode(), proc.stderr)
            self.assertIn(b"(see weft record --help)", proc.stderr)
            self.assertFalse(os.path.exists(db))

    def test_a_disk_that_fills_before_the_bound_leaves_an_incomplete_trace(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a small tmpfs needs root")
        mount = os.path.join(self.tmp, "small")
        os.mkdir(mount)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", mount])
        db = os.path.join(mount, "full.db")
        proc = subprocess.run([WEFT, "record", "-o", db, "--max-size", "64M", "--keep-last",
                               "1m", "--", sys.executable, "-c", BUSY, "3"],
                              capture_output=True, timeout=TIMEOUT, cwd=self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout, b"done\n")
        self.assertEqual(self.query(db, "PRAGMA integrity_check")[0][0], "ok")
        meta = self.meta(db)
        self.assertEqual(meta["status"], "incomplete")
        self.assertIn("full", meta["incomplete_reason"])
        self.assertNotIn("truncated", meta)
        self.assertEqual(meta["exit_status"], "0")
