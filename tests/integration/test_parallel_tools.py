"""Multithreaded tools recorded on a few MB of generated data: the output
is byte-identical to the untraced run and more than one thread is in the
trace."""

import os
import unittest

from weftlib import TraceTest, make_text_file


class ParallelTools(TraceTest):
    def setUp(self):
        super().setUp()
        self.data = os.path.join(self.tmp, "data.txt")
        make_text_file(self.data, 4)

    def check(self, argv, process_name):
        plain = self.run_untraced(argv)
        self.assertEqual(plain.returncode, 0)
        rec = self.record(argv)
        self.assert_recorded_ok(rec)
        self.assertEqual(len(rec.stdout), len(plain.stdout))
        self.assertTrue(rec.stdout == plain.stdout, "output differs from the untraced run")
        rows = self.query(rec.db, """
            SELECT p.name, COUNT(t.utid) AS threads FROM process p
            JOIN thread t ON t.upid = p.upid GROUP BY p.upid""")
        threads = {r["name"]: r["threads"] for r in rows}
        self.assertIn(process_name, threads)
        self.assertGreater(threads[process_name], 1, f"only one thread of {process_name}")

    def test_xz_with_two_threads(self):
        self.check(["xz", "-T2", "-1", "--block-size=1MiB", "-c", self.data], "xz")

    def test_sort_with_two_threads(self):
        self.check(["sort", "--parallel=2", self.data], "sort")


if __name__ == "__main__":
    unittest.main()
