"""libweft.so preloaded by hand, without the weft wrapper:
`LD_PRELOAD=.../libweft.so WEFT_OUT=x.db ./prog` writes a trace."""

import os
import sqlite3
import subprocess
import time
import unittest

from weftlib import LIBWEFT, TraceTest, demo

COMPLETE_WITHIN = 30  # seconds for the trace to be finished after the exit


class PreloadByHand(TraceTest):
    def setUp(self):
        super().setUp()
        self.assertTrue(LIBWEFT and os.path.isfile(LIBWEFT),
                        f"libweft.so is not built (WEFT_LIBWEFT={LIBWEFT!r})")
        self.db = os.path.join(self.tmp, "x.db")
        env = dict(os.environ, LD_PRELOAD=LIBWEFT, WEFT_OUT=self.db)
        self.argv = [demo("lockhold"), "50"]
        self.proc = subprocess.Popen(self.argv, env=env, cwd=self.tmp,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stdout, _ = self.proc.communicate(timeout=60)

    def wait_complete(self):
        """Waits until the trace's meta says 'complete' (a collector
        started by the program may still be writing after it exits)."""
        deadline = time.monotonic() + COMPLETE_WITHIN
        status = None
        while time.monotonic() < deadline:
            if os.path.isfile(self.db):
                try:
                    con = sqlite3.connect(self.db, timeout=1)
                    try:
                        row = con.execute(
                            "SELECT value FROM meta WHERE key = 'status'").fetchone()
                    finally:
                        con.close()
                    status = row[0] if row else None
                    if status in ("complete", "interrupted"):
                        return status
                except sqlite3.Error:
                    pass
            time.sleep(0.1)
        self.fail(f"{self.db}: not complete after {COMPLETE_WITHIN} s (status {status!r})")

    def test_program_behaves_as_untraced(self):
        plain = self.run_untraced(self.argv)
        self.assertEqual(self.proc.returncode, plain.returncode)
        self.assertEqual(self.stdout, plain.stdout)

    def test_trace_is_written_and_completes(self):
        self.assertEqual(self.wait_complete(), "complete")

    def test_trace_has_the_process_and_its_threads(self):
        self.wait_complete()
        procs = self.query(self.db, "SELECT * FROM process")
        self.assertEqual(len(procs), 1, [tuple(r) for r in procs])
        self.assertEqual(procs[0]["pid"], self.proc.pid)
        self.assertEqual(procs[0]["cmdline"], " ".join(self.argv))
        self.assertIsNotNone(procs[0]["end_ts"])
        names = {r["name"] for r in self.query(self.db, "SELECT name FROM thread")}
        self.assertTrue({"holder", "waiter"} <= names, names)

    def test_trace_has_the_mutex_wait(self):
        self.wait_complete()
        waiter = self.thread_by_name(self.db, "waiter")
        rows = self.query(self.db, """SELECT COUNT(*) FROM thread_state
            WHERE utid = ? AND state = 'Blocked' AND reason = 'mutex'""", (waiter["utid"],))
        self.assertGreater(rows[0][0], 0)


if __name__ == "__main__":
    unittest.main()
