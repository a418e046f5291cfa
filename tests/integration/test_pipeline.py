"""`sh -c 'ls -R /usr | grep -c a'` recorded: the seed's ls | grep.

Three processes (sh, ls, grep) with parent links, command lines, start and
end times and exit codes; the program's output and status are the same as
without weft.
"""

import unittest

from weftlib import TraceTest

COMMAND = ["sh", "-c", "ls -R /usr | grep -c a"]


class ShellPipeline(TraceTest):
    def setUp(self):
        super().setUp()
        self.rec = self.record(COMMAND)

    def processes(self):
        """The trace's process rows by name; fails unless they are exactly
        sh, ls and grep."""
        self.assert_recorded_ok(self.rec)
        rows = self.query(self.rec.db, "SELECT * FROM process")
        self.assertEqual(sorted(r["name"] for r in rows), ["grep", "ls", "sh"])
        return {r["name"]: r for r in rows}

    def test_output_and_status_are_those_of_the_untraced_run(self):
        plain = self.run_untraced(COMMAND)
        self.assertEqual(self.rec.returncode, plain.returncode)
        self.assertEqual(self.rec.stdout, plain.stdout)
        self.assertGreater(int(plain.stdout), 0)

    def test_three_processes_sh_ls_grep(self):
        self.assert_recorded_ok(self.rec)
        names = sorted(r["name"] for r in self.query(self.rec.db, "SELECT name FROM process"))
        self.assertEqual(names, ["grep", "ls", "sh"])

    def test_ls_and_grep_are_children_of_sh(self):
        rows = self.processes()
        sh = rows["sh"]
        self.assertIsNone(sh["parent_upid"], "sh's parent (weft) is not in the trace")
        for child in ("ls", "grep"):
            self.assertEqual(rows[child]["parent_upid"], sh["upid"], child)
            self.assertEqual(rows[child]["ppid"], sh["pid"], child)

    def test_command_lines_are_the_exec_argv(self):
        rows = self.processes()
        self.assertEqual(rows["sh"]["cmdline"], "sh -c ls -R /usr | grep -c a")
        self.assertEqual(rows["ls"]["cmdline"], "ls -R /usr")
        self.assertEqual(rows["grep"]["cmdline"], "grep -c a")

    def test_every_process_started_ended_and_exited_0(self):
        self.assert_recorded_ok(self.rec)
        rows = self.query(self.rec.db, "SELECT * FROM process")
        self.assertEqual(len(rows), 3)
        for r in rows:
            self.assertIsNotNone(r["start_ts"], r["name"])
            self.assertIsNotNone(r["end_ts"], r["name"])
            self.assertLess(r["start_ts"], r["end_ts"], r["name"])
            self.assertEqual(r["exit_code"], 0, r["name"])
            self.assertIsNone(r["exit_signal"], r["name"])
            self.assertEqual(r["traced"], 1, r["name"])

    def test_children_live_within_the_shell(self):
        rows = self.processes()
        for child in ("ls", "grep"):
            self.assertGreaterEqual(rows[child]["start_ts"], rows["sh"]["start_ts"], child)
            self.assertLessEqual(rows[child]["end_ts"], rows["sh"]["end_ts"], child)

    def test_each_process_has_its_main_thread(self):
        self.assert_recorded_ok(self.rec)
        rows = self.query(self.rec.db, """
            SELECT p.name, t.tid, p.pid FROM process p
            JOIN thread t ON t.upid = p.upid AND t.is_main = 1""")
        self.assertEqual(sorted(r["name"] for r in rows), ["grep", "ls", "sh"])
        for r in rows:
            self.assertEqual(r["tid"], r["pid"], r["name"])

    def test_grep_waits_for_ls_on_the_pipe(self):
        self.assert_recorded_ok(self.rec)
        rows = self.query(self.rec.db, """
            SELECT COUNT(*) AS n FROM thread_state s
            JOIN thread t USING (utid) JOIN process p ON p.upid = t.upid
            WHERE p.name = 'grep' AND s.state = 'Blocked' AND s.reason = 'io'""")
        self.assertGreater(rows[0]["n"], 0, "grep never blocked reading the pipe")

    def test_meta_describes_a_complete_recording(self):
        self.assert_recorded_ok(self.rec)
        meta = {r["key"]: r["value"] for r in self.query(self.rec.db, "SELECT * FROM meta")}
        self.assertEqual(meta.get("schema_version"), "1")
        self.assertEqual(meta.get("status"), "complete")
        self.assertEqual(meta.get("exit_status"), "0")
        self.assertIn("ls -R /usr | grep -c a", meta.get("command", ""))
        self.assertLess(int(meta["start_ts"]), int(meta["end_ts"]))
        version = self.query(self.rec.db, "PRAGMA user_version")[0][0]
        self.assertEqual(version, 1)


if __name__ == "__main__":
    unittest.main()
