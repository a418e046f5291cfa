"""A python program whose 4 threads share one threading.Lock (a sem_t
inside CPython): the threads are in the trace and block on the lock."""

import sys
import unittest

from weftlib import PY_LOCK_THREADS, TraceTest


class PythonLock(TraceTest):
    def setUp(self):
        super().setUp()
        self.argv = [sys.executable, "-c", PY_LOCK_THREADS]
        self.rec = self.record(self.argv)

    def test_output_is_that_of_the_untraced_run(self):
        self.assert_recorded_ok(self.rec)
        self.assertEqual(self.rec.stdout, self.run_untraced(self.argv).stdout)

    def test_five_threads_in_the_python_process(self):
        self.assert_recorded_ok(self.rec)
        rows = self.query(self.rec.db, """
            SELECT COUNT(*) AS n FROM thread t JOIN process p ON p.upid = t.upid
            WHERE p.name LIKE 'python%'""")
        self.assertGreaterEqual(rows[0]["n"], 5)

    def test_worker_threads_block_on_the_lock(self):
        self.assert_recorded_ok(self.rec)
        rows = self.query(self.rec.db, """
            SELECT COUNT(*) AS spans, COUNT(DISTINCT s.utid) AS threads
            FROM thread_state s JOIN thread t USING (utid)
            WHERE t.is_main = 0 AND s.state = 'Blocked' AND s.reason IN ('sem', 'futex')""")
        self.assertGreater(rows[0]["spans"], 0, "no Blocked 'sem'/'futex' span")
        self.assertGreaterEqual(rows[0]["threads"], 2)


if __name__ == "__main__":
    unittest.main()
