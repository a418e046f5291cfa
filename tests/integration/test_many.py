"""Many processes and many threads: a shell loop that starts 200 processes
and a program with 300 concurrent threads are recorded whole (or the trace
says what it lost), and behave as untraced."""

import sys
import textwrap
import unittest

from weftlib import TraceTest

LOOP = ["sh", "-c", "i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done; echo done"]

THREADS = textwrap.dedent("""
    import threading, time
    barrier = threading.Barrier(300)
    def work():
        barrier.wait()
        time.sleep(0.05)
    ts = [threading.Thread(target=work) for _ in range(300)]
    for t in ts: t.start()
    for t in ts: t.join()
    print("300 threads done")
""")


class ManyProcesses(TraceTest):
    def test_two_hundred_children_of_the_shell(self):
        plain = self.run_untraced(LOOP)
        rec = self.record(LOOP)
        self.assertEqual((rec.returncode, rec.stdout), (plain.returncode, plain.stdout))
        self.assert_recorded_ok(rec)
        rows = self.query(rec.db, """
            SELECT COUNT(*) AS n, SUM(c.exit_code = 0) AS ok, COUNT(DISTINCT c.pid) AS pids
            FROM process c JOIN process p ON c.parent_upid = p.upid
            WHERE p.parent_upid IS NULL AND c.name = 'true'""")
        self.assertEqual(tuple(rows[0]), (200, 200, 200))


class ManyThreads(TraceTest):
    def test_three_hundred_threads_are_recorded_or_counted_lost(self):
        argv = [sys.executable, "-c", THREADS]
        plain = self.run_untraced(argv)
        rec = self.record(argv)
        self.assertEqual((rec.returncode, rec.stdout), (plain.returncode, plain.stdout))
        self.assert_recorded_ok(rec)
        threads = self.query(rec.db, "SELECT COUNT(*) FROM thread")[0][0]
        lost = self.query(rec.db, "SELECT value FROM meta WHERE key = 'threads_lost'")
        self.assertTrue(lost, "meta has no threads_lost")
        self.assertGreaterEqual(threads + int(lost[0][0]), 301)
        self.assertGreaterEqual(threads, 200, "most threads should have been recorded")


if __name__ == "__main__":
    unittest.main()
