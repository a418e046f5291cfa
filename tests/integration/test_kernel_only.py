"""What runs none of our code, known from the kernel alone: a statically
linked program's threads (run directly, and through a shell, which starts
it with vfork), and a thread made with a raw clone() inside a traced
program. Each gets its rows, its name, its life and its scheduler spans
from perf's task, comm and switch records."""

import os
import subprocess
import unittest

from weftlib import WEFT, TraceTest, prog

MS = 1000000


class KernelOnly(TraceTest):
    def record_with_perf(self, argv, expected_status):
        rec = self.record(argv)
        self.assert_recorded_ok(rec, expected_status)
        mode = self.query(rec.db, "SELECT value FROM meta WHERE key = 'capture_mode'")
        if not mode or mode[0][0] != "perf":
            self.skipTest("no perf switch records here (capture_mode "
                          f"{mode[0][0] if mode else 'unknown'})")
        return rec

    def state_ms(self, db, utid, states):
        marks = ", ".join("?" for _ in states)
        return self.query(db, "SELECT COALESCE(SUM(dur), 0) FROM thread_state "
                              f"WHERE utid = ? AND state IN ({marks})",
                          (utid, *states))[0][0] / MS

    def assert_static_threads(self, db, process):
        self.assertEqual(process["traced"], 0)
        self.assertEqual(process["exit_code"], 4)
        threads = self.query(db, "SELECT * FROM thread WHERE upid = ? ORDER BY tid",
                             (process["upid"],))
        self.assertEqual(len(threads), 3, [tuple(t) for t in threads])
        main, spinners = threads[0], threads[1:]
        self.assertEqual(main["tid"], process["pid"])
        for t in spinners:
            self.assertEqual(t["name"], "spinner")
            self.assertEqual(t["sched_source"], "perf")
            # They spin 100 ms of wall time: on a CPU or waiting for one
            # (Ready) all along, however busy the machine (how much of it
            # Running is the machine's to say); the kernel saw them exit
            # before the process did (the main thread sleeps 20 ms after
            # joining).
            self.assertGreater(self.state_ms(db, t["utid"], ["Running"]), 0)
            self.assertGreater(self.state_ms(db, t["utid"], ["Running", "Ready"]), 95)
            self.assertGreaterEqual(t["start_ts"], process["start_ts"])
            self.assertLess(t["end_ts"], process["end_ts"] - 10 * MS)
            slices = self.query(db, "SELECT COUNT(*), SUM(dur) FROM sched_slice "
                                    "WHERE utid = ?", (t["utid"],))[0]
            self.assertGreater(slices[0], 0)
        # Every thread's spans tile its life.
        for t in threads:
            total = self.query(db, "SELECT SUM(dur) FROM thread_state WHERE utid = ?",
                               (t["utid"],))[0][0]
            self.assertEqual(total, t["end_ts"] - t["start_ts"], t["name"])
        # The main thread blocked (in join, then in its sleep): 'other',
        # since no call of it was seen.
        blocked = self.query(db, "SELECT DISTINCT reason FROM thread_state "
                                 "WHERE utid = ? AND state = 'Blocked'", (main["utid"],))
        self.assertEqual([r[0] for r in blocked], ["other"])

    def test_static_program_threads_from_the_kernel(self):
        rec = self.record_with_perf([prog("static-threads")], 4)
        self.assertIn(b"statically linked", rec.stderr)
        rows = self.query(rec.db, "SELECT * FROM process")
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["name"], "weft-itest-static-threads")
        self.assert_static_threads(rec.db, rows[0])

    def test_static_program_started_by_a_shell(self):
        rec = self.record_with_perf(["sh", "-c", prog("static-threads")], 4)
        rows = self.query(rec.db, "SELECT * FROM process ORDER BY upid")
        self.assertEqual(len(rows), 2, [tuple(r) for r in rows])
        shell, static = rows
        self.assertEqual(static["parent_upid"], shell["upid"])
        self.assertEqual(static["name"], "weft-itest-static-threads")
        self.assertEqual(static["cmdline"], prog("static-threads"))
        self.assert_static_threads(rec.db, static)
        forks = self.query(rec.db, "SELECT COUNT(*) FROM flow WHERE kind = 'fork' AND "
                                   "utid_in = (SELECT utid FROM thread WHERE tid = ?)",
                           (static["pid"],))
        self.assertEqual(forks[0][0], 1, "a fork flow from the shell to the program")

    def test_static_program_started_by_a_shell_without_perf(self):
        db = os.path.join(self.tmp, "nosched.db")
        proc = subprocess.run([WEFT, "record", "--sched=none", "-o", db, "--",
                               "sh", "-c", prog("static-threads")],
                              capture_output=True, timeout=120)
        self.assertEqual(proc.returncode, 4, proc.stderr)
        rows = self.query(db, "SELECT * FROM process ORDER BY upid")
        self.assertEqual([(r["name"], r["exit_code"], r["traced"]) for r in rows],
                         [("sh", 4, 1), ("weft-itest-static-threads", 4, 0)])
        self.assertEqual(rows[1]["parent_upid"], rows[0]["upid"])

    def test_raw_clone_thread_in_a_traced_program(self):
        rec = self.record_with_perf([prog("rawclone")], 0)
        process = self.query(rec.db, "SELECT * FROM process")
        self.assertEqual(len(process), 1)
        self.assertEqual(process[0]["traced"], 1)
        raw = self.thread_by_name(rec.db, "rawthread")
        self.assertEqual(raw["upid"], process[0]["upid"])
        self.assertIn(str(raw["tid"]).encode(), rec.stdout)
        self.assertGreater(self.state_ms(rec.db, raw["utid"], ["Running"]), 3)
        self.assertGreater(self.state_ms(rec.db, raw["utid"], ["Running", "Ready"]), 57)
        self.assertLess(raw["end_ts"], process[0]["end_ts"])
        total = self.query(rec.db, "SELECT SUM(dur) FROM thread_state WHERE utid = ?",
                           (raw["utid"],))[0][0]
        self.assertEqual(total, raw["end_ts"] - raw["start_ts"])


if __name__ == "__main__":
    unittest.main()
