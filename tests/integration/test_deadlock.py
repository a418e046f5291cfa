"""Deadlocks: a cycle in the wait-for graph (each thread waits for a lock
the next one holds) is a row of the `deadlocks` view, written while the
program is still stuck."""

import csv
import os
import signal
import subprocess
import time
import unittest

from weftlib import TIMEOUT, WEFT, TraceTest, demo, prog


class TimedDeadlock(TraceTest):
    """weft-demo-deadlock: alice and bob wait for each other's mutex for
    200 ms, until alice's pthread_mutex_timedlock gives up."""

    def setUp(self):
        super().setUp()
        self.rec = self.record([demo("deadlock")])
        self.assert_recorded_ok(self.rec)

    def test_the_cycle_names_both_threads_and_both_mutexes(self):
        rows = self.query(self.rec.db, "SELECT * FROM deadlocks")
        self.assertEqual(len(rows), 1, f"expected one deadlock, got {[dict(r) for r in rows]}")
        self.assertEqual(rows[0]["thread_count"], 2)
        self.assertEqual(sorted(rows[0]["threads"].split(", ")), ["alice", "bob"])
        mutexes = self.query(self.rec.db, """SELECT DISTINCT o.label FROM thread_state s
            JOIN object o USING (object_id) WHERE s.reason = 'mutex'""")
        self.assertEqual(len(mutexes), 2)
        self.assertEqual(sorted(rows[0]["objects"].split(", ")),
                         sorted(m["label"] for m in mutexes))

    def test_each_member_waits_for_the_lock_the_next_one_holds(self):
        members = self.query(self.rec.db, """SELECT m.utid, m.object_id, m.holder_utid
            FROM deadlock_member m ORDER BY position""")
        self.assertEqual(len(members), 2)
        for i, member in enumerate(members):
            self.assertEqual(member["holder_utid"], members[(i + 1) % 2]["utid"])
            waits = self.query(self.rec.db, """SELECT COUNT(*) AS n FROM thread_state
                WHERE utid = ? AND object_id = ? AND state = 'Blocked'
                AND holder_utid = ?""", (member["utid"], member["object_id"],
                                         member["holder_utid"]))
            self.assertEqual(waits[0]["n"], 1)

    def test_the_deadlock_ends_when_alice_gives_up_after_200_ms(self):
        row = self.query(self.rec.db, "SELECT ts, dur FROM deadlocks")[0]
        self.assertIsNotNone(row["dur"])
        self.assertGreaterEqual(row["dur"], 150_000_000)
        # It ended before the program did (alice's timeout broke it), however
        # long a loaded machine took to run her again.
        end = self.query(self.rec.db, "SELECT MAX(end_ts) FROM process")[0][0]
        self.assertLess(row["ts"] + row["dur"], end)

    def test_the_contention_view_names_waiters_and_holders(self):
        rows = self.query(self.rec.db, """SELECT waiters, holders FROM lock_contention
            WHERE kind = 'mutex' ORDER BY waiters""")
        self.assertEqual([(r["waiters"], r["holders"]) for r in rows],
                         [("alice", "bob"), ("bob", "alice")])


class LiveDeadlock(TraceTest):
    """weft-itest-deadlock stays stuck; `weft query` on the trace being
    recorded shows the cycle before anybody kills it."""

    def query_live(self, db, sql):
        out = subprocess.run([WEFT, "query", db, sql, "--csv"], capture_output=True,
                             timeout=30)
        return out.returncode, list(csv.reader(out.stdout.decode().splitlines()))

    def test_a_stuck_program_shows_its_deadlock_while_it_is_stuck(self):
        db = os.path.join(self.tmp, "live.db")
        recorder = subprocess.Popen([WEFT, "record", "-q", "-o", db, "--",
                                     prog("deadlock")], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, cwd=self.tmp)
        self.addCleanup(recorder.stderr.close)
        self.addCleanup(recorder.stdout.close)
        self.addCleanup(lambda: recorder.poll() is not None or recorder.kill())
        line = recorder.stdout.readline().decode()
        self.assertTrue(line.endswith(" stuck\n"), f"program said {line!r}")
        pid = int(line.split()[0])

        found = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(found) < 2:
            time.sleep(0.1)
            code, found = self.query_live(
                db, "SELECT threads, objects, end_ts IS NULL FROM deadlocks")
        self.assertEqual(recorder.poll(), None, "the recording ended on its own")
        self.assertEqual(len(found), 2, f"no deadlock seen while stuck: {found}")
        threads, objects, open_now = found[1]
        self.assertEqual(sorted(threads.split(", ")), ["left", "right"])
        self.assertEqual(len(set(objects.split(", "))), 2)
        self.assertEqual(open_now, "1")
        code, status = self.query_live(db, "SELECT value FROM meta WHERE key = 'status'")
        self.assertEqual(status[1:], [["recording"]])
        # wait_now shows who waits for what right now.
        code, waits = self.query_live(db, """SELECT t.name, w.reason, h.name FROM wait_now w
            JOIN thread t USING (utid) LEFT JOIN thread h ON h.utid = w.holder_utid
            ORDER BY t.name""")
        self.assertIn(["left", "mutex", "right"], waits[1:])
        self.assertIn(["right", "mutex", "left"], waits[1:])

        os.kill(pid, signal.SIGKILL)
        self.assertEqual(recorder.wait(timeout=TIMEOUT), 137)
        rows = self.query(db, "SELECT * FROM deadlocks")
        self.assertEqual(len(rows), 1)
        self.assertIsNotNone(rows[0]["end_ts"], "the deadlock ends with the program")
        status = self.query(db, "SELECT value FROM meta WHERE key = 'status'")
        self.assertEqual(status[0]["value"], "complete")
        self.assertEqual(self.query(db, "SELECT COUNT(*) AS n FROM wait_now")[0]["n"], 0)


if __name__ == "__main__":
    unittest.main()
