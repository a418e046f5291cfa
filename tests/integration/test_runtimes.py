"""Runtimes with locks of their own: waits made of raw futex system calls
(as Rust's std makes them) name the thread that released them, and a
priority-inheritance futex names its holder; CPython's GIL is named."""

import json
import subprocess
import sys
import textwrap
import unittest

from weftlib import WEFT, TraceTest, prog


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


PY_GIL = textwrap.dedent("""
    import os, sys, threading
    def spin():
        x = 0
        for i in range(2000000):
            x += i
    def contend():
        threads = [threading.Thread(target=spin) for _ in range(3)]
        for t in threads: t.start()
        for t in threads: t.join()
    contend()
    pid = os.fork()
    if pid == 0:
        contend()
        os._exit(0)
    os.waitpid(pid, 0)
    print("done")
""")


class CPythonGilTest(TraceTest):

    def test_the_gil_is_named_in_the_process_and_its_fork_child(self):
        rec = self.record([sys.executable, "-c", PY_GIL])
        self.assert_recorded_ok(rec)
        self.assertEqual(rec.stdout, b"done\n")
        rows = self.query(rec.db, """
            SELECT o.upid, COUNT(*) AS waits FROM thread_state s JOIN object o USING (object_id)
            WHERE s.state = 'Blocked' AND o.label = 'CPython GIL' AND o.kind = 'cond'
            GROUP BY o.upid""")
        python = self.query(rec.db, "SELECT upid FROM process WHERE name LIKE 'python%' "
                                    "ORDER BY start_ts")
        self.assertEqual(len(python), 2, [tuple(p) for p in python])
        self.assertEqual({r["upid"] for r in rows}, {p["upid"] for p in python})

    def test_the_report_names_the_gil_among_the_top_waits(self):
        rec = self.record([sys.executable, "-c", PY_GIL])
        self.assert_recorded_ok(rec)
        run = subprocess.run([WEFT, "report", "--json", rec.db], capture_output=True,
                             text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        labels = [w["object"] for w in json.loads(run.stdout)["waits"]]
        self.assertIn("CPython GIL", labels)


if __name__ == "__main__":
    unittest.main()
