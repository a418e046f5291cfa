"""A child forked anywhere is traced like one forked from the main flow:
here, from a signal handler that interrupted the parent's select()."""

import unittest

from weftlib import MS, TraceTest, prog


class ForkInSignalHandlerTest(TraceTest):

    def test_a_child_forked_in_a_signal_handler_records_its_own_waits(self):
        rec = self.record([prog("forkinhandler")])
        self.assert_recorded_ok(rec)
        self.assertEqual(rec.stdout, b"child 0\n")
        processes = self.query(rec.db, "SELECT * FROM process ORDER BY start_ts")
        self.assertEqual(len(processes), 3, [tuple(p) for p in processes])
        child = processes[1]
        self.assertEqual(child["parent_upid"], processes[0]["upid"])
        self.assertEqual(child["exit_code"], 0)
        waits = self.query(rec.db, """
            SELECT s.reason, o.kind, s.dur FROM thread_state s
            JOIN thread t USING (utid) LEFT JOIN object o USING (object_id)
            WHERE t.upid = ? AND s.state = 'Blocked' ORDER BY s.ts""", (child["upid"],))
        reasons = [w["reason"] for w in waits if w["dur"] >= 20 * MS]
        # its nanosleep, then the read of the pipe its own child writes
        self.assertEqual(reasons, ["sleep", "io"], [tuple(w) for w in waits])
        self.assertEqual([w["kind"] for w in waits if w["reason"] == "io"], ["pipe"])

    def test_the_parent_still_records_the_wait_the_handler_interrupted(self):
        rec = self.record([prog("forkinhandler")])
        self.assert_recorded_ok(rec)
        main = self.query(rec.db, "SELECT upid FROM process ORDER BY start_ts LIMIT 1")[0]
        polls = self.query(rec.db, """
            SELECT COUNT(*) FROM thread_state s JOIN thread t USING (utid)
            WHERE t.upid = ? AND s.state = 'Blocked' AND s.reason = 'poll'""", (main["upid"],))
        self.assertGreaterEqual(polls[0][0], 1)


if __name__ == "__main__":
    unittest.main()
