"""The served directory as a user sees it in the trace list: files that are
not traces listed as broken with why (and not reopened until they
change), deleted traces gone, process and thread counts for each trace,
and finished traces served from a read-only mount."""
import ctypes
import json
import os
import shutil
import sqlite3
import subprocess
import unittest

from weftd_harness import Weftd, cleanup, generate, tempdir

IN_OPEN = 0x20


class Opens:
    """Counts the times a file is opened (inotify IN_OPEN)."""

    def __init__(self, path):
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, path.encode(), IN_OPEN) < 0:
            raise OSError(ctypes.get_errno(), "inotify")

    def count(self):
        n = 0
        while True:
            try:
                n += len(os.read(self.fd, 65536)) // 16  # events carry no name
            except BlockingIOError:
                return n

    def close(self):
        os.close(self.fd)


class Directory(unittest.TestCase):
    def setUp(self):
        self.dir = tempdir()
        generate(os.path.join(self.dir, "good.db"), 2000, 4)
        with open(os.path.join(self.dir, "junk.db"), "wb") as f:
            f.write(b"this is not SQLite" * 100)
        db = sqlite3.connect(os.path.join(self.dir, "other.db"))
        db.execute("CREATE TABLE t(x)")
        db.commit()
        db.close()
        self.server = Weftd(self.dir)

    def tearDown(self):
        self.server.stop()
        cleanup(self.dir)

    def listing(self):
        return {t["file"]: t for t in self.server.json("/api/traces")["traces"]}

    def test_files_that_are_not_traces_are_listed_as_broken_with_why(self):
        traces = self.listing()
        self.assertEqual(traces["good.db"]["status"], "complete")
        self.assertNotIn("error", traces["good.db"])
        for name in ["junk.db", "other.db"]:
            self.assertEqual(traces[name]["status"], "broken", name)
            self.assertIsNone(traces[name]["id"])
            self.assertEqual(traces[name]["error"], "is not a weft trace")
        self.assertEqual(traces["junk.db"]["bytes"], 1800)
        self.assertNotIn(self.dir, json.dumps(traces), "no server path in the list")

    def test_a_skipped_file_is_reopened_only_when_it_changes(self):
        junk = os.path.join(self.dir, "junk.db")
        self.listing()
        opens = Opens(junk)
        try:
            for _ in range(5):  # each listing rescans the directory
                self.listing()
            self.assertEqual(opens.count(), 0, "reopened without a change")
            with open(junk, "ab") as f:
                f.write(b"more")
            self.assertEqual(self.listing()["junk.db"]["status"], "broken")
            self.assertGreater(opens.count(), 0, "a changed file is tried again")
        finally:
            opens.close()

    def test_skips_are_logged_once_with_their_reason(self):
        for _ in range(3):
            self.listing()
        proc = self.server.proc
        proc.terminate()
        proc.wait(timeout=10)
        log = proc.stderr.read()
        self.assertEqual(log.count("junk.db"), 1, log)
        self.assertEqual(log.count("weftd: skipping %s/other.db: is not a weft trace\n"
                                   % os.path.realpath(self.dir)), 1, log)

    def test_a_junk_file_made_a_trace_is_served(self):
        junk = os.path.join(self.dir, "junk.db")
        os.unlink(junk)
        generate(junk, 500, 2)
        traces = self.listing()
        self.assertEqual(traces["junk.db"]["status"], "complete")
        self.assertEqual(traces["junk.db"]["id"], "junk")

    def test_deleted_traces_leave_the_list(self):
        generate(os.path.join(self.dir, "second.db"), 500, 2)
        self.assertIn("second.db", self.listing())
        self.assertEqual(self.server.request("/api/traces/second")[0], 200)
        os.unlink(os.path.join(self.dir, "second.db"))
        os.unlink(os.path.join(self.dir, "junk.db"))
        traces = self.listing()
        self.assertNotIn("second.db", traces)
        self.assertNotIn("junk.db", traces)
        self.assertEqual(self.server.request("/api/traces/second")[0], 404)
        self.assertEqual(traces["good.db"]["status"], "complete")

    def test_every_trace_says_how_many_processes_and_threads(self):
        db = sqlite3.connect(os.path.join(self.dir, "good.db"))
        processes = db.execute("SELECT count(*) FROM process").fetchone()[0]
        threads = db.execute("SELECT count(*) FROM thread").fetchone()[0]
        db.close()
        good = self.listing()["good.db"]
        self.assertEqual((good["processes"], good["threads"]), (processes, threads))
        self.assertGreater(threads, 1)
        for key in ["id", "file", "bytes", "status", "start_ts", "end_ts", "command"]:
            self.assertIn(key, good)


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("mount"),
                     "a read-only bind mount needs root")
class ReadOnlyMount(unittest.TestCase):
    def setUp(self):
        self.src = tempdir()
        self.mnt = tempdir()
        self.mounted = False
        generate(os.path.join(self.src, "run.db"), 2000, 4)
        db = sqlite3.connect(os.path.join(self.src, "run.db"))
        self.assertEqual(db.execute("PRAGMA journal_mode").fetchone()[0], "wal")
        self.threads = db.execute("SELECT count(*) FROM thread").fetchone()[0]
        db.close()
        self.assertFalse(os.path.exists(os.path.join(self.src, "run.db-wal")))
        subprocess.run(["mount", "--bind", "-o", "ro", self.src, self.mnt], check=True)
        self.mounted = True

    def tearDown(self):
        if self.mounted:
            subprocess.run(["umount", self.mnt], check=True)
        cleanup(self.mnt)
        cleanup(self.src)

    def test_a_finished_trace_on_a_read_only_mount_is_served(self):
        with self.assertRaises(OSError):
            open(os.path.join(self.mnt, "probe"), "w")
        for target in [self.mnt, os.path.join(self.mnt, "run.db")]:
            with Weftd(target) as server:
                traces = server.json("/api/traces")["traces"]
                self.assertEqual([(t["id"], t["status"]) for t in traces], [("run", "complete")])
                self.assertEqual(traces[0]["threads"], self.threads)
                answer = server.json("/api/traces/run/sql", "POST",
                                     b'{"sql": "SELECT count(*) FROM thread"}')
                self.assertEqual(answer["rows"], [[self.threads]])
                tl = server.json("/api/traces/run/timeline?start=0&end=%d&px=100" % 2 ** 62)
                self.assertGreater(len(tl["threads"]), 0)
                self.assertEqual(server.request("/api/traces/run/summary?start=0&end=%d"
                                                % 2 ** 40)[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
