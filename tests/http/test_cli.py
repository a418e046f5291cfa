"""weftd's command line: help, clear refusals of files it cannot serve,
clean stops on SIGINT and SIGTERM."""
import os
import signal
import sqlite3
import subprocess
import unittest

from weftd_harness import WEFTD, Weftd, cleanup, generate, tempdir


def run(*args):
    p = subprocess.run([WEFTD, *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir()
        cls.trace = generate(os.path.join(cls.dir, "ok.db"), 500, 2)

    @classmethod
    def tearDownClass(cls):
        cleanup(cls.dir)

    def test_help_describes_usage(self):
        code, out, _ = run("--help")
        self.assertEqual(code, 0)
        self.assertIn("usage: weftd [--listen ADDR:PORT]", out)

    def test_no_arguments_is_a_usage_error(self):
        code, _, err = run()
        self.assertEqual(code, 2)
        self.assertIn("usage:", err)

    def test_unknown_option_is_refused(self):
        code, _, err = run("--frobnicate", self.trace)
        self.assertEqual(code, 2)
        self.assertIn("unknown option --frobnicate", err)

    def test_missing_file_is_named(self):
        code, _, err = run(os.path.join(self.dir, "missing.db"))
        self.assertEqual(code, 1)
        self.assertIn("missing.db: No such file or directory", err)

    def test_non_trace_files_are_refused(self):
        text = os.path.join(self.dir, "notes.txt")
        with open(text, "w") as f:
            f.write("hello\n" * 100)
        code, _, err = run(text)
        self.assertEqual(code, 1)
        self.assertIn("notes.txt is not a weft trace", err)
        other = os.path.join(self.dir, "other.db")
        db = sqlite3.connect(other)
        db.execute("CREATE TABLE t(x)")
        db.commit()
        db.close()
        code, _, err = run(other)
        self.assertEqual(code, 1)
        self.assertIn("other.db is not a weft trace", err)

    def test_newer_schema_is_refused_with_both_versions(self):
        newer = os.path.join(self.dir, "x.db")
        generate(newer, 100, 1)
        db = sqlite3.connect(newer)
        db.execute("PRAGMA user_version = 2")
        db.commit()
        db.close()
        code, _, err = run(newer)
        self.assertEqual(code, 1)
        self.assertIn("x.db has schema version 2; this weftd reads up to 1", err)

    def test_bad_listen_address_is_refused(self):
        code, _, err = run("--listen", "nowhere:99999", self.trace)
        self.assertEqual(code, 2)
        self.assertIn("--listen", err)

    def test_port_in_use_is_reported(self):
        with Weftd(self.trace) as first:
            code, _, err = run("--listen", "127.0.0.1:%d" % first.port, self.trace)
            self.assertEqual(code, 1)
            self.assertIn("cannot listen on 127.0.0.1:%d" % first.port, err)

    def test_sigint_and_sigterm_stop_cleanly(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            server = Weftd(self.trace)
            self.assertEqual(server.json("/api/traces")["traces"][0]["id"], "ok")
            self.assertEqual(server.stop(sig), 0)

    def test_duplicate_names_get_distinct_ids(self):
        sub = os.path.join(self.dir, "sub")
        os.makedirs(sub, exist_ok=True)
        generate(os.path.join(sub, "ok.db"), 100, 1)
        with Weftd(self.trace, os.path.join(sub, "ok.db")) as server:
            self.assertEqual(server.count, 2)
            ids = [t["id"] for t in server.json("/api/traces")["traces"]]
            self.assertEqual(ids, ["ok", "ok-2"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
