"""Lock-order inversions: weft records the order in which each thread takes
its locks (once per distinct pair) and reports the cycles in that graph as
deadlocks that could happen, though the run never deadlocked."""

import unittest

from weftlib import TraceTest, prog


class LockOrders(TraceTest):
    """weft-itest-lockorder: threads run one at a time, each taking its
    locks in its own order (see the program's head comment)."""

    def setUp(self):
        super().setUp()
        self.rec = self.record([prog("lockorder")])
        self.assert_recorded_ok(self.rec)

    def cycles(self):
        """{frozenset of thread names: number of locks} per cycle."""
        rows = self.query(self.rec.db, """SELECT c.cycle_id, COUNT(*) AS locks,
            group_concat(DISTINCT t.name) AS threads FROM lock_order_cycle c
            JOIN thread t USING (utid) GROUP BY c.cycle_id""")
        return {frozenset(r["threads"].split(",")): r["locks"] for r in rows}

    def test_output_is_that_of_the_untraced_run(self):
        self.assertEqual(self.rec.stdout, b"done\n")

    def test_two_threads_taking_two_locks_in_opposite_orders_are_one_cycle_of_two(self):
        self.assertEqual(self.cycles().get(frozenset({"ab", "ba"})), 2)

    def test_three_threads_in_a_ring_are_one_cycle_of_three(self):
        self.assertEqual(self.cycles().get(frozenset({"cd", "de", "ec"})), 3)

    def test_one_thread_taking_a_then_b_and_later_b_then_a_is_one_cycle_of_two(self):
        self.assertEqual(self.cycles().get(frozenset({"self"})), 2)

    def test_nothing_else_is_an_inversion(self):
        # Not the orders a gate lock serializes, not a trylock (it cannot
        # block), not two read locks.
        self.assertEqual(len(self.cycles()), 3, self.cycles())
        rows = self.query(self.rec.db, "SELECT * FROM lock_order_inversions")
        self.assertEqual(len(rows), 3)

    def test_each_cycle_member_is_an_order_its_thread_showed(self):
        members = self.query(self.rec.db, """SELECT c.cycle_id, c.position, c.object_id,
            c.utid, c.ts, (SELECT object_id FROM lock_order_cycle n
              WHERE n.cycle_id = c.cycle_id AND n.position = (c.position + 1) %
                (SELECT COUNT(*) FROM lock_order_cycle k WHERE k.cycle_id = c.cycle_id))
              AS next_object FROM lock_order_cycle c""")
        self.assertTrue(members)
        for m in members:
            edges = self.query(self.rec.db, """SELECT COUNT(*) AS n FROM lock_order_edge
                WHERE from_object_id = ? AND to_object_id = ? AND utid = ? AND ts = ?""",
                               (m["object_id"], m["next_object"], m["utid"], m["ts"]))
            self.assertEqual(edges[0]["n"], 1, dict(m))

    def test_an_order_is_recorded_once_per_thread_with_its_modes(self):
        rows = self.query(self.rec.db, """SELECT t.name, e.from_mode, e.to_mode,
            e.held_object_ids FROM lock_order_edge e JOIN thread t USING (utid)
            ORDER BY e.ts""")
        by_thread = {}
        for r in rows:
            by_thread.setdefault(r["name"], []).append(tuple(r)[1:])
        self.assertEqual(by_thread["ab"], [("write", "write", None)])
        self.assertEqual(by_thread["read-12"], [("read", "read", None)])
        self.assertEqual(len(by_thread["self"]), 2)
        # The trylock took P while Q was held: no order recorded.
        self.assertNotIn("try-qp", by_thread)
        # gate-xy took Y holding G and X: two orders, each naming the other.
        self.assertEqual(len(by_thread["gate-xy"]), 3)
        self.assertEqual(self.query(self.rec.db, """SELECT value FROM meta
            WHERE key = 'lock_orders_dropped'""")[0]["value"], "0")

    def test_the_locks_of_the_orders_are_mutex_and_rwlock_objects(self):
        kinds = self.query(self.rec.db, """SELECT DISTINCT o.kind FROM lock_order_edge e
            JOIN object o ON o.object_id = e.from_object_id ORDER BY o.kind""")
        self.assertEqual([k["kind"] for k in kinds], ["mutex", "rwlock"])


class NoInversionsInBusyPrograms(TraceTest):
    """Programs that take one lock at a time report none."""

    def test_the_producers_and_consumers_take_one_lock_at_a_time(self):
        rec = self.record([prog("condqueue")])
        self.assert_recorded_ok(rec)
        self.assertEqual(self.query(rec.db, "SELECT COUNT(*) AS n FROM lock_order_cycle")[0]["n"],
                         0)


if __name__ == "__main__":
    unittest.main()
