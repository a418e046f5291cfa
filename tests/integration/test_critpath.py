"""The critical path, `weft report` and `weft diff`, on workloads whose
critical path is known by construction (tests/integration/progs: convoy,
chain, spin)."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import unittest

from weftlib import MS, TIMEOUT, WEFT, TraceTest, demo, prog

SLOW_CONSUMER = textwrap.dedent("""
    import sys, time
    for line in sys.stdin:
        time.sleep(0.003)
""")


class CriticalPathTest(TraceTest):

    def weft(self, *args):
        return subprocess.run([WEFT, *args], capture_output=True, text=True,
                              timeout=TIMEOUT, cwd=self.tmp)

    def report(self, db):
        run = self.weft("report", "--json", db)
        self.assertEqual(run.returncode, 0, run.stderr)
        return json.loads(run.stdout)

    def path(self, db):
        return self.query(db, "SELECT * FROM critical_path ORDER BY seq")

    def root(self, db):
        return self.query(db, "SELECT * FROM process WHERE parent_upid IS NULL "
                              "ORDER BY start_ts LIMIT 1")[0]

    def record_ok(self, argv, name="trace"):
        rec = self.record(argv, name)
        self.assert_recorded_ok(rec)
        return rec.db

    def test_segments_tile_the_wall_time_of_the_root_command(self):
        for argv in ([prog("convoy"), "5"], [prog("chain"), "2", "50"],
                     ["sh", "-c", "ls / | grep -c a"]):
            db = self.record_ok(argv)
            root = self.root(db)
            segments = self.path(db)
            self.assertTrue(segments, f"no critical path stored for {argv}")
            self.assertEqual(segments[0]["ts"], root["start_ts"])
            for before, after in zip(segments, segments[1:]):
                self.assertEqual(before["ts"] + before["dur"], after["ts"],
                                 f"a gap or overlap in the path of {argv}")
                self.assertGreater(before["dur"], 0)
            self.assertEqual(sum(s["dur"] for s in segments),
                             root["end_ts"] - root["start_ts"])
            self.assertEqual(self.report(db)["wall_ns"], root["end_ts"] - root["start_ts"])
            os.unlink(db)

    def test_a_lock_convoy_runs_through_each_holders_work_and_names_the_mutex(self):
        db = self.record_ok([prog("convoy"), "50"])
        mutex = self.query(db, "SELECT object_id, label FROM object WHERE kind = 'mutex'")
        self.assertEqual(len(mutex), 1)
        objects = [o["object"] for o in self.report(db)["critical_path"]["by_object"]]
        self.assertIn(mutex[0]["label"] + " (mutex)", objects)
        held = self.query(db, """
            SELECT COUNT(DISTINCT c.utid) AS holders, SUM(c.dur) AS dur
            FROM critical_path c JOIN thread t USING (utid)
            WHERE c.via_object_id = ? AND c.state IN ('Running', 'Ready')
              AND t.name LIKE 'worker-%'""", (mutex[0]["object_id"],))[0]
        # the path passes through the holds of more than one worker
        self.assertGreaterEqual(held["holders"], 2)
        edges = self.query(db, "SELECT DISTINCT edge FROM critical_path "
                               "WHERE via_object_id = ? AND edge IS NOT NULL",
                           (mutex[0]["object_id"],))
        self.assertIn("unlock", {e["edge"] for e in edges})

    def test_a_slow_consumer_holds_the_path_of_a_pipeline(self):
        db = self.record_ok(["sh", "-c", f"seq 1 100 | {sys.executable} -c '{SLOW_CONSUMER}'"])
        busiest = self.query(db, """
            SELECT p.name, SUM(c.dur) AS dur FROM critical_path c
            JOIN thread t USING (utid) JOIN process p ON p.upid = t.upid
            GROUP BY p.upid ORDER BY dur DESC LIMIT 1""")[0]
        self.assertTrue(busiest["name"].startswith("python3"), busiest["name"])
        sleep = self.query(db, "SELECT SUM(dur) AS dur FROM critical_path "
                               "WHERE state = 'Blocked' AND reason = 'sleep'")[0]
        self.assertGreaterEqual(sleep["dur"], 100 * 3 * MS)

    def test_more_runnable_threads_than_cpus_put_ready_time_on_the_path(self):
        if not shutil.which("taskset"):
            self.fail("taskset (util-linux) is missing")
        db = self.record_ok(["taskset", "-c", "0", prog("spin"), "3", "100000000"])
        mode = self.query(db, "SELECT value FROM meta WHERE key = 'capture_mode'")[0][0]
        self.assertIn(mode, ("perf", "schedstat"))
        by_state = {s["key"]: s["ns"] for s in self.report(db)["critical_path"]["by_state"]}
        # three spinning threads share one CPU: the last to finish waited
        # for the CPU about twice as long as it ran
        self.assertGreater(by_state.get("Ready", 0), by_state.get("Running", 0) / 2, by_state)

    def test_a_parent_waiting_on_a_chain_of_children_follows_fork_and_exit(self):
        db = self.record_ok([prog("chain"), "3", "200"])
        processes = self.query(db, "SELECT upid FROM process")
        self.assertEqual(len(processes), 4)
        on_path = self.query(db, """
            SELECT DISTINCT t.upid FROM critical_path c JOIN thread t USING (utid)""")
        self.assertEqual({p["upid"] for p in on_path}, {p["upid"] for p in processes})
        longest = self.query(db, """
            SELECT c.state, c.reason, t.upid FROM critical_path c JOIN thread t USING (utid)
            ORDER BY c.dur DESC LIMIT 1""")[0]
        deepest = self.query(db, "SELECT upid FROM process WHERE upid NOT IN "
                                 "(SELECT parent_upid FROM process WHERE parent_upid IS NOT NULL)")
        self.assertEqual((longest["state"], longest["reason"]), ("Blocked", "sleep"))
        self.assertEqual(longest["upid"], deepest[0]["upid"])
        edges = self.query(db, "SELECT edge FROM critical_path WHERE edge = 'waitpid'")
        self.assertEqual(len(edges), 3)

    def test_diff_of_a_long_and_a_short_convoy_names_the_mutex(self):
        # 80 ms holds against 5 ms: the mutex's change outweighs whatever a
        # loaded machine adds to the rest of the path
        slow = self.record_ok([prog("convoy"), "80"], "slow")
        fast = self.record_ok([prog("convoy"), "5"], "fast")
        run = self.weft("diff", "--json", slow, fast)
        self.assertEqual(run.returncode, 0, run.stderr)
        diff = json.loads(run.stdout)
        top = diff["critical_path_by_object"][0]
        self.assertEqual(top["key"], "mutex#1")
        self.assertLess(top["change_ns"], 0)
        label = self.query(fast, "SELECT label FROM object WHERE kind = 'mutex'")[0][0]
        text = self.weft("diff", slow, fast)
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertIn(f"Biggest change on the critical path by object: {label}", text.stdout)

    def test_report_computes_the_path_of_a_trace_that_lacks_it(self):
        db = self.record_ok([prog("chain"), "1", "50"])
        stored = self.report(db)
        bare = os.path.join(self.tmp, "bare.db")
        shutil.copy(db, bare)
        con = sqlite3.connect(bare)
        con.execute("DELETE FROM critical_path")
        con.commit()
        con.close()
        os.chmod(bare, 0o444)
        computed = self.report(bare)
        self.assertEqual(computed["critical_path"], stored["critical_path"])
        self.assertEqual(self.query(bare, "SELECT COUNT(*) FROM critical_path")[0][0], 0)

    def test_report_text_leads_with_wall_time_and_the_path(self):
        db = self.record_ok([prog("convoy"), "5"])
        run = self.weft("report", db)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("wall time", run.stdout)
        self.assertIn("Critical path", run.stdout)
        self.assertIn("held by worker-", run.stdout)
        self.assertTrue(run.stdout.split("\n")[2].startswith("Deadlocks: none"), run.stdout)
        self.assertIn("Lock-order inversions: none", run.stdout)

    def test_report_leads_with_the_lock_order_inversions_found(self):
        db = self.record_ok([prog("lockorder")], "orders")
        run = self.weft("report", db)
        self.assertEqual(run.returncode, 0, run.stderr)
        lines = run.stdout.split("\n")
        self.assertEqual(lines[2], "Deadlocks: none")
        self.assertTrue(lines[3].startswith("Lock-order inversions: 3,"), run.stdout)
        cycles = [r["cycle"] for r in self.query(db, "SELECT cycle FROM lock_order_inversions")]
        self.assertEqual(len(cycles), 3)
        for i, cycle in enumerate(cycles):
            self.assertTrue(lines[4 + i].startswith(f"  {cycle} (threads "), run.stdout)
        report = self.report(db)
        self.assertEqual((report["deadlocks"], report["inversions"]), (0, 3))
        self.assertEqual([c["cycle"].split(" (threads ")[0] for c in report["inversion_list"]],
                         cycles)

    def test_report_leads_with_the_deadlock_found(self):
        db = self.record_ok([demo("deadlock")], "deadlock")
        run = self.weft("report", db)
        self.assertEqual(run.returncode, 0, run.stderr)
        lines = run.stdout.split("\n")
        self.assertTrue(lines[2].startswith("Deadlocks: 1,"), run.stdout)
        (cycle,) = [r["cycle"] for r in self.query(db, "SELECT cycle FROM deadlocks")]
        self.assertTrue(lines[3].startswith(f"  {cycle} (for "), run.stdout)
        self.assertEqual(self.report(db)["deadlock_list"][0]["cycle"], cycle)

    def test_report_of_a_file_that_is_not_a_trace_says_so(self):
        junk = os.path.join(self.tmp, "junk.db")
        with open(junk, "w") as f:
            f.write("not a trace\n")
        run = self.weft("report", junk)
        self.assertEqual(run.returncode, 1)
        self.assertIn("cannot read", run.stderr)
        self.assertEqual(self.weft("diff", junk).returncode, 2)


if __name__ == "__main__":
    unittest.main()
