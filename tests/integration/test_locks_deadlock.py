"""True deadlocks stay: a ring of three threads waiting for each other is
one deadlock row with three members, which ends when a timed lock gives
up; recorded several times (the threads' timing varies)."""

import unittest

from weftlib import TraceTest, prog

RUNS = 3


class RingOfThree(TraceTest):
    def wait_end(self, rec, name):
        """When the thread's last Blocked 'mutex' span ended."""
        return self.query(rec.db, """SELECT MAX(s.ts + s.dur) AS end_ts
            FROM thread_state s JOIN thread t USING (utid)
            WHERE t.name = ? AND s.state = 'Blocked' AND s.reason = 'mutex'""",
                          (name,))[0]["end_ts"]

    def test_a_ring_of_three_is_one_deadlock_of_three_that_a_timeout_ends(self):
        for run in range(RUNS):
            rec = self.record([prog("deadlock3")], name=f"ring-{run}")
            self.assert_recorded_ok(rec)
            self.assertEqual(rec.stdout, b"ring-0: Connection timed out\n"
                             b"ring-1: taken\nring-2: taken\n")
            rows = self.query(rec.db, "SELECT * FROM deadlocks")
            self.assertEqual(len(rows), 1, [dict(r) for r in rows])
            self.assertEqual(rows[0]["thread_count"], 3)
            self.assertEqual(sorted(rows[0]["threads"].split(", ")),
                             ["ring-0", "ring-1", "ring-2"])
            members = self.query(rec.db, """SELECT m.utid, m.holder_utid, t.name
                FROM deadlock_member m JOIN thread t USING (utid) ORDER BY position""")
            for i, m in enumerate(members):
                self.assertEqual(m["holder_utid"], members[(i + 1) % 3]["utid"])
            # ring-0 gave up after 200 ms: the deadlock ended then, after
            # ring-0 was woken by its timeout and before ring-2, to which
            # ring-0's mutex went next, was woken.
            self.assertIsNotNone(rows[0]["end_ts"])
            self.assertLessEqual(self.wait_end(rec, "ring-0"), rows[0]["end_ts"])
            self.assertLessEqual(rows[0]["end_ts"], self.wait_end(rec, "ring-2"))
            self.assertEqual(self.query(rec.db, "SELECT COUNT(*) AS n FROM deadlock_member")[0]["n"],
                             3)


if __name__ == "__main__":
    unittest.main()
