"""Locks you can trust: a wait names the thread that held the lock when it
waited, by the trace's own record; a deadlock row means threads were stuck;
a lock-heavy burst loses nothing. Programs whose outcome a race decides are
recorded several times."""

import sys
import textwrap
import unittest

from weftlib import TraceTest, prog

RUNS = 5

# The check: a Blocked span must not name a holder that was itself
# Blocked on the same object from before the span began to well after.
WRONG_HOLDERS = """
    SELECT count(*) AS n FROM thread_state s JOIN thread_state h
      ON h.utid = s.holder_utid AND h.object_id = s.object_id AND h.state = 'Blocked'
     AND h.ts < s.ts AND h.ts + h.dur > s.ts + 1000
    WHERE s.state = 'Blocked'"""

# Python threads passing work through queue.Queue (a threading.Condition on
# a threading.Lock; CPython's GIL is a pthread mutex and condition
# variable, taken and given up by every thread all the time).
PY_QUEUE = textwrap.dedent("""
    import queue, threading
    q = queue.Queue(maxsize=8)
    def produce():
        for i in range(4000):
            q.put(i)
    def consume(out):
        total = 0
        while (item := q.get()) is not None:
            total += item
        out.append(total)
    totals = []
    producers = [threading.Thread(target=produce) for _ in range(2)]
    consumers = [threading.Thread(target=consume, args=(totals,)) for _ in range(3)]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join()
    for _ in consumers:
        q.put(None)
    for t in consumers:
        t.join()
    print("sum", sum(totals))
""")

WORKLOADS = {
    "condqueue": ([prog("condqueue")], b"consumed 400000\n"),
    "python-queue": ([sys.executable, "-c", PY_QUEUE], b"sum 15996000\n"),
}


class BusyLocks(TraceTest):
    """Producers and consumers on one mutex and one condition variable
    (weft-itest-condqueue: 2 producers, 3 consumers, 400,000 signals), and
    Python threads on a queue.Queue, each recorded several times (RUNS,
    the C program up to 20)."""

    def recordings(self, name, runs=RUNS):
        argv, output = WORKLOADS[name]
        for run in range(runs):
            rec = self.record(argv, name=f"{name}-{run}")
            self.assert_recorded_ok(rec)
            self.assertEqual(rec.stdout, output)
            yield rec

    def check_holders(self, name, runs=RUNS):
        named = 0
        for rec in self.recordings(name, runs):
            self.assertEqual(self.query(rec.db, WRONG_HOLDERS)[0]["n"], 0,
                             f"{rec.db}: a wait names a holder that was waiting itself")
            named += self.query(rec.db, """SELECT count(*) AS n FROM thread_state
                WHERE state = 'Blocked' AND holder_utid IS NOT NULL""")[0]["n"]
        self.assertGreater(named, 0, "no wait named a holder in any run")

    def test_no_wait_of_the_producers_and_consumers_names_a_waiting_holder(self):
        self.check_holders("condqueue", runs=10)

    def test_no_wait_of_the_python_queue_names_a_waiting_holder(self):
        self.check_holders("python-queue")

    def test_the_producers_and_consumers_never_deadlock(self):
        for rec in self.recordings("condqueue", runs=20):
            rows = self.query(rec.db, "SELECT * FROM deadlocks")
            self.assertEqual([dict(r) for r in rows], [], rec.db)

    def test_the_python_queue_never_deadlocks(self):
        for rec in self.recordings("python-queue"):
            rows = self.query(rec.db, "SELECT * FROM deadlocks")
            self.assertEqual([dict(r) for r in rows], [], rec.db)

    def test_a_burst_of_400000_signals_loses_no_event_in_10_runs(self):
        argv, output = WORKLOADS["condqueue"]
        for run in range(10):
            rec = self.record(argv, name=f"burst-{run}")
            self.assert_recorded_ok(rec)
            lost = self.query(rec.db, """SELECT key, value FROM meta
                WHERE key IN ('events_lost', 'threads_lost') AND value != '0'""")
            self.assertEqual([tuple(r) for r in lost], [], rec.db)
            # Every wait that a signal ended shows it: the signals that
            # woke somebody were recorded.
            woken = self.query(rec.db, """SELECT count(*) AS n FROM flow
                WHERE kind = 'signal'""")[0]["n"]
            waits = self.query(rec.db, """SELECT count(*) AS n FROM thread_state
                WHERE state = 'Blocked' AND reason = 'cond'""")[0]["n"]
            self.assertTrue(waits == 0 or woken > 0, rec.db)


class LockKinds(TraceTest):
    """weft-itest-lockkinds: one contended wait on each kind of lock; the
    waiter K-wait must name K-hold (the rwlock held by a reader names
    nobody: readers are not named)."""

    KINDS = ["plain", "recur", "check", "robust", "timed", "expire", "try", "wrheld"]

    def setUp(self):
        super().setUp()
        self.rec = self.record([prog("lockkinds")])
        self.assert_recorded_ok(self.rec)

    def waits_of(self, name):
        return self.query(self.rec.db, """SELECT s.*, h.name AS holder FROM thread_state s
            JOIN thread t USING (utid) LEFT JOIN thread h ON h.utid = s.holder_utid
            WHERE t.name = ? AND s.state = 'Blocked' AND s.reason IN ('mutex', 'rwlock')
            ORDER BY s.ts""", (name,))

    def test_output_is_that_of_the_untraced_run(self):
        self.assertEqual(self.rec.stdout, self.run_untraced([prog("lockkinds")]).stdout)

    def test_each_waiter_names_the_thread_holding_its_lock(self):
        for kind in self.KINDS:
            waits = self.waits_of(f"{kind}-wait")
            self.assertTrue(waits, f"{kind}-wait never waited")
            self.assertEqual({w["holder"] for w in waits}, {f"{kind}-hold"}, kind)

    def test_a_rwlock_held_by_a_reader_names_no_holder(self):
        waits = self.waits_of("rdheld-wait")
        self.assertTrue(waits, "rdheld-wait never waited")
        self.assertEqual({w["holder_utid"] for w in waits}, {None})

    def test_a_condition_wait_gives_its_mutex_up_and_takes_it_back(self):
        # cond-wait asked while cond-hold had the mutex (cond-sleep had
        # given it up in pthread_cond_wait); cond-late asked once
        # cond-sleep held it again. Whichever of cond-sleep and cond-wait
        # took it first, the other may have waited for it after.
        waits = self.waits_of("cond-wait")
        self.assertTrue(waits, "cond-wait never waited")
        self.assertEqual(waits[0]["holder"], "cond-hold")
        self.assertLessEqual({w["holder"] for w in waits}, {"cond-hold", "cond-sleep"})
        late = self.waits_of("cond-late")
        self.assertTrue(late, "cond-late never waited")
        self.assertEqual(late[0]["holder"], "cond-sleep")
        self.assertLessEqual({w["holder"] for w in late}, {"cond-sleep", "cond-wait"})

    def test_an_error_checking_relock_is_no_wait_and_no_deadlock(self):
        waits = self.query(self.rec.db, """SELECT count(*) AS n FROM thread_state s
            JOIN thread t USING (utid) WHERE t.name = 'check-hold'
            AND s.state = 'Blocked' AND s.reason = 'mutex'""")
        self.assertEqual(waits[0]["n"], 0)
        self.assertEqual(self.query(self.rec.db, "SELECT count(*) AS n FROM deadlock")[0]["n"],
                         0)

    def test_no_wait_names_a_waiting_holder(self):
        self.assertEqual(self.query(self.rec.db, WRONG_HOLDERS)[0]["n"], 0)


if __name__ == "__main__":
    unittest.main()
