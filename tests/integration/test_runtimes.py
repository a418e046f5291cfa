"""Runtimes with locks of their own: waits made of raw futex system calls
(as Rust's std makes them) name the thread that released them, and a
priority-inheritance futex names its holder."""

import unittest

from weftlib import TraceTest, prog


class FutexLockTest(TraceTest):

    def setUp(self):
        super().setUp()
        rec = self.record([prog("futexlock")])
        self.assert_recorded_ok(rec)
        self.assertEqual(rec.stdout, b"plain ok\npi ok\n")
        self.db = rec.db

    def waits_of(self, name):
        waiter = self.thread_by_name(self.db, name)
        return self.query(self.db, """
            SELECT s.*, o.kind, w.name AS waker, h.name AS holder
            FROM thread_state s JOIN object o USING (object_id)
            LEFT JOIN thread w ON w.utid = s.waker_utid
            LEFT JOIN thread h ON h.utid = s.holder_utid
            WHERE s.utid = ? AND s.state = 'Blocked' AND s.reason = 'futex'
            ORDER BY s.dur DESC""", (waiter["utid"],))

    def test_a_futex_wait_names_the_thread_whose_wake_ended_it(self):
        waits = self.waits_of("plain-waiter")
        self.assertTrue(waits, "plain-waiter has no Blocked futex span")
        self.assertEqual(waits[0]["kind"], "futex")
        self.assertEqual(waits[0]["waker"], "plain-holder")

    def test_a_futex_wake_is_a_flow_from_the_releaser_to_the_waiter(self):
        flows = self.query(self.db, """
            SELECT o.name AS sender, i.name AS receiver, ob.kind
            FROM flow f JOIN thread o ON o.utid = f.utid_out
            JOIN thread i ON i.utid = f.utid_in
            LEFT JOIN object ob ON ob.object_id = f.object_id
            WHERE f.kind = 'futex'""")
        pairs = {(f["sender"], f["receiver"], f["kind"]) for f in flows}
        self.assertIn(("plain-holder", "plain-waiter", "futex"), pairs)
        self.assertIn(("pi-holder", "pi-waiter", "futex"), pairs)

    def test_a_priority_inheritance_futex_names_its_holder(self):
        waits = self.waits_of("pi-waiter")
        self.assertTrue(waits, "pi-waiter has no Blocked futex span")
        self.assertEqual(waits[0]["holder"], "pi-holder")
        self.assertEqual(waits[0]["waker"], "pi-holder")

    def test_a_plain_futex_word_names_no_holder(self):
        # the three-state word does not say who holds it: only who released
        self.assertIsNone(self.waits_of("plain-waiter")[0]["holder"])


if __name__ == "__main__":
    unittest.main()
