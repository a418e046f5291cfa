"""The demo workloads in examples/ show what their comments promise when
recorded: time slicing vs parallelism, a process family's ends, the
pipeline's three processes, condition-variable waits, a two-lock cycle."""

import unittest

from weftlib import MS, TraceTest, demo

# Time two threads were Running at the same moment (ns), summed over all
# pairs of their Running spans.
RUNNING_OVERLAP = """
SELECT COALESCE(SUM(MIN(a.ts + a.dur, b.ts + b.dur) - MAX(a.ts, b.ts)), 0)
FROM thread_state a, thread_state b
WHERE a.utid = ? AND b.utid = ? AND a.state = 'Running' AND b.state = 'Running'
  AND a.ts < b.ts + b.dur AND b.ts < a.ts + a.dur
"""


class Cashiers(TraceTest):
    def lines(self, db):
        return [self.thread_by_name(db, f"line-{i}") for i in range(2)]

    def state_time(self, db, utid, state):
        return self.query(db, "SELECT COALESCE(SUM(dur), 0) FROM thread_state "
                              "WHERE utid = ? AND state = ?", (utid, state))[0][0]

    def test_one_cashier_lines_take_turns(self):
        rec = self.record([demo("cashiers"), "--cashiers", "1"])
        self.assert_recorded_ok(rec)
        for line in self.lines(rec.db):
            ready = self.state_time(rec.db, line["utid"], "Ready")
            life = line["end_ts"] - line["start_ts"]
            self.assertGreater(ready, life // 10,
                               f"{line['name']} was Ready {ready} ns of {life} ns")
        a, b = self.lines(rec.db)
        overlap = self.query(rec.db, RUNNING_OVERLAP, (a["utid"], b["utid"]))[0][0]
        self.assertEqual(overlap, 0, "two lines ran at once on one cashier")

    def test_two_cashiers_lines_run_at_once_on_two_cpus(self):
        rec = self.record([demo("cashiers"), "--cashiers", "2"])
        self.assert_recorded_ok(rec)
        a, b = self.lines(rec.db)
        overlap = self.query(rec.db, RUNNING_OVERLAP, (a["utid"], b["utid"]))[0][0]
        self.assertGreater(overlap, 0, "the two lines never ran at the same time")
        # The CPU each line spent most of its Running time on.
        main_cpu = []
        for line in (a, b):
            rows = self.query(rec.db, """SELECT cpu FROM thread_state
                WHERE state = 'Running' AND utid = ? GROUP BY cpu
                ORDER BY SUM(dur) DESC LIMIT 1""", (line["utid"],))
            self.assertTrue(rows, f"{line['name']} never ran")
            self.assertIsNotNone(rows[0][0], "Running spans carry no CPU")
            main_cpu.append(rows[0][0])
        self.assertNotEqual(main_cpu[0], main_cpu[1], "both lines ran on the same CPU")


class ProcessDemos(TraceTest):
    def test_family_children_end_as_the_program_says(self):
        rec = self.record([demo("family")])
        self.assert_recorded_ok(rec)
        rows = self.query(rec.db, """
            SELECT c.exit_code, c.exit_signal FROM process c
            JOIN process p ON c.parent_upid = p.upid
            WHERE p.parent_upid IS NULL ORDER BY c.start_ts""")
        self.assertEqual([tuple(r) for r in rows],
                         [(0, None), (1, None), (2, None), (None, 9)])

    def test_family_parent_forks_and_reaps_every_child(self):
        rec = self.record([demo("family")])
        self.assert_recorded_ok(rec)
        parent = self.query(rec.db, """SELECT t.utid FROM thread t JOIN process p
            ON p.upid = t.upid WHERE p.parent_upid IS NULL AND t.is_main = 1""")
        self.assertEqual(len(parent), 1)
        utid = parent[0][0]
        forks = self.query(rec.db, "SELECT COUNT(DISTINCT utid_in) FROM flow "
                                   "WHERE kind = 'fork' AND utid_out = ?", (utid,))[0][0]
        self.assertEqual(forks, 4, "fork arrows from the parent to its four children")
        reaps = self.query(rec.db, "SELECT COUNT(DISTINCT utid_out) FROM flow "
                                   "WHERE kind = 'waitpid' AND utid_in = ?", (utid,))[0][0]
        self.assertEqual(reaps, 4, "child exit -> wait arrows to the parent")

    def test_pipeline_is_three_processes_and_one_pipe(self):
        rec = self.record([demo("pipeline")])
        self.assert_recorded_ok(rec)
        names = sorted(r[0] for r in self.query(rec.db, "SELECT name FROM process"))
        self.assertEqual(names, ["grep", "ls", "weft-demo-pipel"])
        traffic = self.query(rec.db, "SELECT kind, bytes FROM message_traffic")
        self.assertEqual(len(traffic), 1, [tuple(r) for r in traffic])
        self.assertEqual(traffic[0]["kind"], "pipe")
        self.assertGreater(traffic[0]["bytes"], 100_000)

    def test_waiter_polls_and_customers_wait_for_replies(self):
        rec = self.record([demo("waiter")])
        self.assert_recorded_ok(rec)
        waiter = self.thread_by_name(rec.db, "waiter")
        polls = self.query(rec.db, "SELECT COUNT(*) FROM thread_state WHERE utid = ? "
                                   "AND state = 'Blocked' AND reason = 'poll'",
                           (waiter["utid"],))[0][0]
        self.assertGreater(polls, 0)
        customer = self.thread_by_name(rec.db, "customer-0")
        reasons = {r[0] for r in self.query(rec.db, """SELECT DISTINCT reason
            FROM thread_state WHERE utid = ? AND state = 'Blocked'""", (customer["utid"],))}
        self.assertTrue({"sleep", "io"} <= reasons, reasons)


class SharedMemoryDemos(TraceTest):
    def test_prodcons_producers_wait_on_a_condition_variable(self):
        rec = self.record([demo("prodcons")])
        self.assert_recorded_ok(rec)
        rows = self.query(rec.db, """
            SELECT COUNT(*) FROM thread_state s JOIN thread t USING (utid)
            WHERE t.name LIKE 'producer-%' AND s.state = 'Blocked' AND s.reason = 'cond'""")
        self.assertGreater(rows[0][0], 0)
        kinds = {r[0] for r in self.query(rec.db, "SELECT kind FROM lock_contention")}
        self.assertIn("cond", kinds)

    def test_deadlock_threads_wait_for_each_other(self):
        rec = self.record([demo("deadlock")])
        self.assert_recorded_ok(rec)
        alice = self.thread_by_name(rec.db, "alice")
        bob = self.thread_by_name(rec.db, "bob")
        waits = {}
        for me, other in ((alice, bob), (bob, alice)):
            rows = self.query(rec.db, """SELECT * FROM thread_state WHERE utid = ?
                AND state = 'Blocked' AND reason = 'mutex' ORDER BY dur DESC""", (me["utid"],))
            self.assertTrue(rows, f"{me['name']} never blocked on a mutex")
            self.assertEqual(rows[0]["holder_utid"], other["utid"], me["name"])
            waits[me["name"]] = rows[0]
        a, b = waits["alice"], waits["bob"]
        overlap = min(a["ts"] + a["dur"], b["ts"] + b["dur"]) - max(a["ts"], b["ts"])
        self.assertGreater(overlap, 100 * MS, "the two waits did not overlap: no cycle")


if __name__ == "__main__":
    unittest.main()
