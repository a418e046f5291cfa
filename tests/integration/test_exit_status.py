"""`weft record` exits with the workload's status, as a shell reports it,
and the trace keeps how the workload ended and what it did before."""

import unittest

from weftlib import TraceTest, prog


class ExitStatus(TraceTest):
    def test_exit_code_passes_through(self):
        rec = self.record(["sh", "-c", "exit 3"])
        self.assertEqual(rec.returncode, 3, rec.stderr.decode(errors="replace"))

    def test_exit_code_is_in_the_process_row_and_meta(self):
        rec = self.record(["sh", "-c", "exit 3"])
        rows = self.query(rec.db, "SELECT exit_code, exit_signal FROM process")
        self.assertEqual([tuple(r) for r in rows], [(3, None)])
        meta = dict(tuple(r) for r in self.query(rec.db, "SELECT key, value FROM meta"))
        self.assertEqual(meta.get("exit_status"), "3")

    def test_killed_by_sigkill_exits_137(self):
        rec = self.record([prog("killself")])
        self.assertEqual(rec.returncode, 128 + 9, rec.stderr.decode(errors="replace"))
        self.assertEqual(rec.stdout, b"about to die\n")

    def test_killed_process_row_has_signal_9_and_no_exit_code(self):
        rec = self.record([prog("killself")])
        rows = self.query(rec.db, "SELECT * FROM process")
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["exit_signal"], 9)
        self.assertIsNone(rows[0]["exit_code"])
        self.assertIsNotNone(rows[0]["end_ts"])

    def test_killed_process_keeps_what_it_recorded_before(self):
        rec = self.record([prog("killself")])
        holder = self.thread_by_name(rec.db, "holder")
        waits = self.query(rec.db, """
            SELECT s.* FROM thread_state s JOIN thread t USING (utid)
            WHERE t.is_main = 1 AND s.state = 'Blocked' AND s.reason = 'mutex'
            ORDER BY s.dur DESC""")
        self.assertTrue(waits, "the main thread's wait for the mutex is lost")
        self.assertEqual(waits[0]["holder_utid"], holder["utid"])
        self.assertGreater(waits[0]["dur"], 0)


if __name__ == "__main__":
    unittest.main()
