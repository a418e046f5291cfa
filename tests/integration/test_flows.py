"""Who woke whom: the edges between threads in shared-memory programs.

The producer/consumer demo (one mutex, two condition variables) must show
signal edges from producers to consumers and back, unlock edges to the
threads that waited for the mutex, and wakers on the Blocked spans those
edges end. Thread life cycles: pthread_create -> first run, thread exit ->
the pthread_join that waited for it.
"""

import unittest

import weftlib


class ProducerConsumer(weftlib.TraceTest):
    @classmethod
    def setUpClass(cls):
        cls.holder = weftlib.TraceTest("run")
        cls.holder.setUp()
        cls.rec = cls.holder.record([weftlib.demo("prodcons")], name="prodcons")

    @classmethod
    def tearDownClass(cls):
        cls.holder.doCleanups()

    def edges(self, kind):
        return self.query(self.rec.db, """
            SELECT a.name AS source, b.name AS target, COUNT(*) AS n
            FROM flow f JOIN thread a ON a.utid = f.utid_out JOIN thread b ON b.utid = f.utid_in
            WHERE f.kind = ? GROUP BY a.name, b.name""", (kind,))

    def test_recorded(self):
        self.assert_recorded_ok(self.rec)

    def test_producers_signal_consumers_and_back(self):
        pairs = {(row["source"].split("-")[0], row["target"].split("-")[0])
                 for row in self.edges("signal")}
        self.assertIn(("producer", "consumer"), pairs)
        self.assertIn(("consumer", "producer"), pairs)

    def test_unlock_edges_reach_threads_that_waited_for_the_mutex(self):
        # A waiter that got the lock without leaving the CPU has no Blocked
        # span at all, so not every edge ends one; but some do, and every
        # Blocked mutex span that names its waker lists that waker's edge
        # (it lands in the span, not after it).
        flows = self.query(self.rec.db, "SELECT * FROM flow WHERE kind = 'unlock'")
        self.assertTrue(flows, "no unlock -> acquire edge")
        ended = self.query(self.rec.db, """
            SELECT COUNT(*) FROM flow f WHERE f.kind = 'unlock' AND EXISTS (
                SELECT 1 FROM thread_state s WHERE s.utid = f.utid_in
                AND s.state = 'Blocked' AND s.reason = 'mutex'
                AND f.ts_in BETWEEN s.ts AND s.ts + s.dur)""")[0][0]
        self.assertGreater(ended, 0)
        woken, unexplained = self.query(self.rec.db, """
            SELECT COUNT(*), COALESCE(SUM(NOT EXISTS (
                SELECT 1 FROM flow f WHERE f.utid_in = s.utid AND f.utid_out = s.waker_utid
                AND f.ts_in BETWEEN s.ts AND s.ts + s.dur)), 0)
            FROM thread_state s WHERE s.state = 'Blocked' AND s.reason = 'mutex'
            AND s.waker_utid IS NOT NULL""")[0]
        self.assertGreater(woken, 0)
        self.assertEqual(unexplained, 0, (unexplained, woken))

    def test_edges_point_forward_in_time(self):
        backwards = self.query(self.rec.db, "SELECT COUNT(*) FROM flow WHERE ts_out > ts_in")
        self.assertEqual(backwards[0][0], 0)

    def test_waits_name_their_waker_from_their_own_process(self):
        total, named = self.query(self.rec.db, """
            SELECT COUNT(*), SUM(waker_utid IS NOT NULL) FROM thread_state
            WHERE state = 'Blocked' AND reason IN ('cond', 'mutex')""")[0]
        self.assertGreater(total, 0)
        self.assertGreater(named, 0, (named, total))
        strangers = self.query(self.rec.db, """
            SELECT COUNT(*) FROM thread_state s JOIN thread w ON w.utid = s.waker_utid
            JOIN thread t ON t.utid = s.utid WHERE w.upid != t.upid OR w.utid = t.utid""")
        self.assertEqual(strangers[0][0], 0)


class ThreadLifeCycle(weftlib.TraceTest):
    def test_create_and_join_edges(self):
        rec = self.record([weftlib.demo("lockhold"), "100"])
        self.assert_recorded_ok(rec)
        main = self.query(rec.db, "SELECT utid FROM thread WHERE is_main = 1")[0][0]
        for thread in self.query(rec.db, "SELECT * FROM thread WHERE is_main = 0"):
            created = self.query(rec.db, "SELECT * FROM flow WHERE kind = 'create' AND utid_in = ?",
                                 (thread["utid"],))
            self.assertEqual(len(created), 1, dict(thread))
            self.assertEqual(created[0]["utid_out"], main)
        # main joins the holder while it still holds the lock: the join
        # waits, and the holder's exit ends the wait.
        joins = self.query(rec.db, "SELECT * FROM flow WHERE kind = 'join' AND utid_in = ?", (main,))
        self.assertGreaterEqual(len(joins), 1)
        for join in joins:
            ended = self.query(rec.db, "SELECT end_ts FROM thread WHERE utid = ?",
                               (join["utid_out"],))[0][0]
            # the edge leaves the holder as it ends, and reaches main after
            self.assertLessEqual(join["ts_out"], ended)
            self.assertLessEqual(join["ts_out"], join["ts_in"])


class Barrier(weftlib.TraceTest):
    def test_the_last_to_arrive_releases_the_others(self):
        # alice and bob meet at a barrier before they lock their mutexes
        rec = self.record([weftlib.demo("deadlock")])
        self.assert_recorded_ok(rec)
        edges = self.query(rec.db, """
            SELECT a.name AS source, b.name AS target, f.ts_out, f.ts_in FROM flow f
            JOIN thread a ON a.utid = f.utid_out JOIN thread b ON b.utid = f.utid_in
            WHERE f.kind = 'barrier'""")
        self.assertEqual(len(edges), 1, [dict(e) for e in edges])
        self.assertEqual({edges[0]["source"], edges[0]["target"]}, {"alice", "bob"})
        self.assertLessEqual(edges[0]["ts_out"], edges[0]["ts_in"])


class ProcessShared(weftlib.TraceTest):
    def test_a_mutex_and_a_semaphore_shared_by_two_processes_are_one_object_each(self):
        rec = self.record([weftlib.prog("pshared")])
        self.assert_recorded_ok(rec)
        self.assertEqual(rec.stdout.decode().strip(), "ok")
        parent, child = [row[0] for row in self.query(rec.db, """
            SELECT t.utid FROM thread t JOIN process p USING (upid) ORDER BY p.upid""")]
        for kind, flow_kind in (("mutex", "unlock"), ("sem", "post")):
            objects = self.query(rec.db, "SELECT * FROM object WHERE kind = ? AND label LIKE ?",
                                 (kind, kind + " shm:%"))
            self.assertEqual(len(objects), 1, [dict(o) for o in objects])
            self.assertIsNone(objects[0]["upid"])  # shared between processes
            object_id = objects[0]["object_id"]
            waits = self.query(rec.db, """SELECT dur FROM thread_state WHERE utid = ?
                AND state = 'Blocked' AND reason = ? AND object_id = ?""", (parent, kind, object_id))
            self.assertTrue(waits, f"the parent's {kind} wait is not on the shared object")
            edges = self.query(rec.db, """SELECT * FROM flow WHERE kind = ? AND object_id = ?""",
                               (flow_kind, object_id))
            self.assertEqual([(e["utid_out"], e["utid_in"]) for e in edges], [(child, parent)])
        # the child held the mutex about 150 ms after the post woke the parent
        longest = self.query(rec.db, """SELECT MAX(dur) FROM thread_state WHERE utid = ?
            AND reason = 'mutex'""", (parent,))[0][0]
        self.assertGreater(longest, 100 * weftlib.MS)


if __name__ == "__main__":
    unittest.main()
