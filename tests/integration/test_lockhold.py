"""weft-demo-lockhold: the waiter is Blocked on the mutex for about the
200 ms the holder keeps it, and the trace names the holder."""

import unittest

from weftlib import MS, TraceTest, demo


class LockHolder(TraceTest):
    def setUp(self):
        super().setUp()
        self.rec = self.record([demo("lockhold"), "200"])
        self.assert_recorded_ok(self.rec)

    def mutex_waits(self):
        waiter = self.thread_by_name(self.rec.db, "waiter")
        return self.query(self.rec.db, """
            SELECT * FROM thread_state WHERE utid = ? AND state = 'Blocked'
            AND reason = 'mutex' ORDER BY dur DESC""", (waiter["utid"],))

    def test_waiter_blocks_on_the_mutex_for_about_200_ms(self):
        waits = self.mutex_waits()
        self.assertTrue(waits, "no Blocked 'mutex' span for the waiter")
        self.assertGreaterEqual(waits[0]["dur"], 150 * MS)
        self.assertLessEqual(waits[0]["dur"], 400 * MS)

    def test_the_wait_names_the_holder_thread(self):
        holder = self.thread_by_name(self.rec.db, "holder")
        waits = self.mutex_waits()
        self.assertTrue(waits, "no Blocked 'mutex' span for the waiter")
        self.assertEqual(waits[0]["holder_utid"], holder["utid"])

    def test_the_holder_woke_the_waiter(self):
        holder = self.thread_by_name(self.rec.db, "holder")
        waits = self.mutex_waits()
        self.assertTrue(waits, "no Blocked 'mutex' span for the waiter")
        self.assertEqual(waits[0]["waker_utid"], holder["utid"])

    def test_an_unlock_flow_goes_from_holder_to_waiter(self):
        holder = self.thread_by_name(self.rec.db, "holder")
        waiter = self.thread_by_name(self.rec.db, "waiter")
        flows = self.query(self.rec.db, """SELECT * FROM flow WHERE kind = 'unlock'
            AND utid_out = ? AND utid_in = ?""", (holder["utid"], waiter["utid"]))
        self.assertEqual(len(flows), 1, "expected one unlock -> acquire edge")
        self.assertLessEqual(flows[0]["ts_out"], flows[0]["ts_in"])

    def test_the_mutex_is_an_object_of_kind_mutex(self):
        waits = self.mutex_waits()
        self.assertTrue(waits, "no Blocked 'mutex' span for the waiter")
        self.assertIsNotNone(waits[0]["object_id"])
        kind = self.query(self.rec.db, "SELECT kind FROM object WHERE object_id = ?",
                          (waits[0]["object_id"],))
        self.assertEqual([r["kind"] for r in kind], ["mutex"])

    def test_output_is_that_of_the_untraced_run(self):
        plain = self.run_untraced([demo("lockhold"), "200"])
        self.assertEqual(self.rec.stdout, plain.stdout)


if __name__ == "__main__":
    unittest.main()
