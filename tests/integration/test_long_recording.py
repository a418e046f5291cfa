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


class LongRecording(TraceTest):
    def record_with(self, options, argv, name="trace"):
        db = os.path.join(self.tmp, name + ".db")
        proc = subprocess.run([WEFT, "record", "-o", db, *options, "--", *argv],
                              capture_output=True, timeout=TIMEOUT, cwd=self.tmp)
        return Recording(db, proc)

    def meta(self, db):
        return {r["key"]: r["value"] for r in self.query(db, "SELECT key, value FROM meta")}

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
