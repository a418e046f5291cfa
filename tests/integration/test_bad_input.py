"""Bad input and awkward programs: clear errors from the CLI, and programs
that do unusual things behave exactly as they do untraced."""

import os
import sys
import unittest

from weftlib import PY_SQLITE, TraceTest, WEFT, prog


class CliErrors(TraceTest):
    def test_missing_command_exits_127_with_a_message(self):
        rec = self.record(["/nonexistent/weft-no-such-program", "arg"])
        self.assertEqual(rec.returncode, 127)
        err = rec.stderr.decode(errors="replace")
        self.assertIn("/nonexistent/weft-no-such-program", err)
        self.assertRegex(err.lower(), "no such file|not found")

    def test_record_without_a_command_is_a_usage_error(self):
        proc = self.run_untraced([WEFT, "record", "-o", os.path.join(self.tmp, "t.db")])
        self.assertNotEqual(proc.returncode, 0)
        self.assertTrue(proc.stderr.strip(), "no message on stderr")

    def test_query_of_a_missing_file_fails_and_creates_nothing(self):
        missing = os.path.join(self.tmp, "missing.db")
        proc = self.run_untraced([WEFT, "query", missing, "SELECT 1"])
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("missing.db", proc.stderr.decode(errors="replace"))
        self.assertFalse(os.path.exists(missing), "weft query created the file")

    def test_query_with_invalid_sql_fails_with_sqlites_message(self):
        rec = self.record(["true"])
        self.assert_recorded_ok(rec)
        proc = self.run_untraced([WEFT, "query", rec.db, "SELEC nonsense FROM nowhere"])
        self.assertNotEqual(proc.returncode, 0)
        err = proc.stderr.decode(errors="replace")
        self.assertIn("syntax error", err)
        self.assertEqual(proc.stdout, b"")

    def test_query_prints_results_as_csv_and_json(self):
        rec = self.record(["sh", "-c", "exit 3"])
        self.assert_recorded_ok(rec, expected_status=3)
        sql = "SELECT exit_code, 'a,b' AS s FROM process"
        csv = self.run_untraced([WEFT, "query", rec.db, sql, "--csv"])
        self.assertEqual(csv.returncode, 0, csv.stderr)
        lines = csv.stdout.decode().splitlines()
        self.assertEqual(lines[0], "exit_code,s")
        self.assertEqual(lines[1], '3,"a,b"')
        import json
        js = self.run_untraced([WEFT, "query", rec.db, sql, "--json"])
        self.assertEqual(js.returncode, 0, js.stderr)
        self.assertEqual(json.loads(js.stdout), [{"exit_code": 3, "s": "a,b"}])


class AwkwardPrograms(TraceTest):
    def assert_same_as_untraced(self, argv):
        plain = self.run_untraced(argv)
        rec = self.record(argv)
        self.assertEqual(rec.returncode, plain.returncode,
                         rec.stderr.decode(errors="replace"))
        self.assertEqual(rec.stdout, plain.stdout)
        return rec

    def test_program_that_closes_all_its_fds_then_forks(self):
        rec = self.assert_same_as_untraced([prog("closefds")])
        self.assertEqual(rec.returncode, 0)
        rows = self.query(rec.db, "SELECT exit_code FROM process WHERE parent_upid IS NULL")
        self.assertEqual([r[0] for r in rows], [0])

    def test_fork_without_exec_records_both_processes(self):
        rec = self.assert_same_as_untraced([prog("forknoexec")])
        self.assertEqual(rec.returncode, 0)
        rows = self.query(rec.db, "SELECT * FROM process ORDER BY start_ts")
        self.assertEqual(len(rows), 2, [tuple(r) for r in rows])
        parent, child = rows
        self.assertEqual(child["parent_upid"], parent["upid"])
        self.assertEqual(child["ppid"], parent["pid"])
        self.assertEqual((parent["exit_code"], child["exit_code"]), (0, 7))
        self.assertEqual(child["traced"], 1)
        threads = self.query(rec.db, "SELECT COUNT(*) FROM thread WHERE upid = ?",
                             (child["upid"],))
        self.assertEqual(threads[0][0], 2, "the child's main thread and its one thread")

    def test_vfork_children_exec_exit_and_fail(self):
        rec = self.assert_same_as_untraced([prog("vfork")])
        self.assertEqual(rec.returncode, 0)
        rows = self.query(rec.db, "SELECT * FROM process ORDER BY start_ts")
        self.assertEqual(len(rows), 4, [tuple(r) for r in rows])
        parent, echo, plain, failed = rows
        for child in (echo, plain, failed):
            self.assertEqual(child["parent_upid"], parent["upid"])
            self.assertEqual(child["ppid"], parent["pid"])
        self.assertEqual(echo["name"], "echo")
        self.assertEqual(echo["cmdline"], "echo vforked child")
        self.assertEqual(echo["traced"], 1)
        self.assertEqual([r["exit_code"] for r in rows], [0, 0, 3, 127])
        for child in (echo, plain, failed):
            self.assertLessEqual(parent["start_ts"], child["start_ts"])
            self.assertLessEqual(child["end_ts"], parent["end_ts"])
        # The parent goes on recording after each vfork: its three sleeps.
        sleeps = self.query(rec.db, """
            SELECT COUNT(*) FROM thread_state s JOIN thread t USING (utid)
            WHERE t.upid = ? AND s.state = 'Blocked' AND s.reason = 'sleep'
              AND s.dur >= 15000000""", (parent["upid"],))
        self.assertEqual(sleeps[0][0], 3)
        forks = self.query(rec.db, """
            SELECT COUNT(*) FROM flow WHERE kind = 'fork'
              AND utid_in IN (SELECT utid FROM thread WHERE upid = ?)
              AND utid_out IN (SELECT utid FROM thread WHERE upid = ?)""",
                           (echo["upid"], parent["upid"]))
        self.assertEqual(forks[0][0], 1, "a fork flow from the parent to the exec'd child")

    def test_static_binary_records_its_life_cycle_untraced(self):
        rec = self.assert_same_as_untraced([prog("static")])
        self.assertEqual(rec.returncode, 4)
        rows = self.query(rec.db, "SELECT * FROM process")
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["traced"], 0)
        self.assertEqual(rows[0]["exit_code"], 4)
        self.assertIsNotNone(rows[0]["start_ts"])
        self.assertIsNotNone(rows[0]["end_ts"])
        self.assertLessEqual(rows[0]["start_ts"], rows[0]["end_ts"])

    def test_program_that_embeds_sqlite(self):
        argv = [sys.executable, "-c", PY_SQLITE, os.path.join(self.tmp, "app.db")]
        plain = self.run_untraced(argv)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        os.unlink(os.path.join(self.tmp, "app.db"))
        rec = self.record(argv)
        self.assertEqual(rec.returncode, 0, rec.stderr.decode(errors="replace"))
        self.assertEqual(rec.stdout, plain.stdout)
        rows = self.query(rec.db, "SELECT exit_code FROM process")
        self.assertEqual([r[0] for r in rows], [0])


if __name__ == "__main__":
    unittest.main()
