"""Two things weftd tells about recorded runs: a recording whose recorder
was killed reads "interrupted" in the trace list and ends its live stream
(format/tracestatus.c, shared with `weft query`); and GET /api/diff compares
two runs the way `weft diff` does (format/factdiff.c), biggest change
first, with each row's ids in both traces. And the facts both read
(format/facts.c) add up on a trace big enough to be read in two halves at
once."""
import json
import os
import sqlite3
import subprocess
import time
import unittest
import urllib.parse

from weftd_harness import WEFT, EventStream, Weftd, cleanup, generate, tempdir

BIN = os.path.dirname(WEFT)
CONVOY = os.path.join(BIN, "weft-itest-convoy")
TIMEOUT = 120


def record(directory, name, argv):
    db = os.path.join(directory, name + ".db")
    run = subprocess.run([WEFT, "record", "-o", db, "--", *argv], capture_output=True,
                         timeout=TIMEOUT, cwd=directory)
    if run.returncode != 0:
        raise AssertionError("weft record %s: %s" % (argv, run.stderr.decode()))
    return db


def weft_diff_json(a, b):
    run = subprocess.run([WEFT, "diff", "--json", a, b], capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def status_in_list(server, trace):
    return {t.get("id"): t.get("status") for t in server.json("/api/traces")["traces"]}[trace]


class KilledRecorder(unittest.TestCase):
    """kill -9 of `weft record` while weftd serves its trace."""

    def setUp(self):
        self.dir = tempdir()
        self.go = os.path.join(self.dir, "go")
        self.db = os.path.join(self.dir, "killed.db")
        self.rec = subprocess.Popen(
            [WEFT, "record", "-o", self.db, "--", "sh", "-c",
             "while [ ! -e %s ]; do sleep 0.01; done" % self.go],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.dir)
        self.server = None

    def tearDown(self):
        open(self.go, "w").close()  # lets the workload finish
        if self.rec.poll() is None:
            self.rec.kill()
        self.rec.wait(timeout=TIMEOUT)
        if self.server:
            self.assertEqual(self.server.stop(), 0)
        cleanup(self.dir)

    def wait_served_recording(self):
        while not os.path.exists(self.db):
            time.sleep(0.01)
        self.server = Weftd(self.dir)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            traces = self.server.json("/api/traces")["traces"]
            if any(t.get("id") == "killed" and t.get("status") == "recording" for t in traces):
                return
            time.sleep(0.05)
        self.fail("the recording never showed as recording")

    def test_the_list_says_interrupted_and_the_live_stream_ends(self):
        self.wait_served_recording()
        stream = EventStream(self.server.port, "/api/traces/killed/live", timeout=60)
        event, data = stream.next_event()
        self.assertEqual((event, data["status"]), ("update", "recording"))
        self.rec.kill()
        self.rec.wait(timeout=TIMEOUT)
        # the stream carries updates until the one that says how it ended
        while data["status"] == "recording":
            event, data = stream.next_event()
        self.assertEqual((event, data["status"]), ("update", "interrupted"))
        self.assertTrue(stream.ends())
        stream.close()
        self.assertEqual(status_in_list(self.server, "killed"), "interrupted")
        overview = self.server.json("/api/traces/killed")
        self.assertEqual(overview["status"], "interrupted")

    def test_a_live_recording_is_not_called_interrupted(self):
        self.wait_served_recording()
        time.sleep(0.5)  # several polls of weftd's watcher
        self.assertEqual(status_in_list(self.server, "killed"), "recording")


class CompareTwoRuns(unittest.TestCase):
    """Two runs of a lock convoy (three workers, one mutex): each hold
    keeps the CPU busy 80 ms in one run, 5 ms in the other."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir()
        cls.long = record(cls.dir, "long", [CONVOY, "80"])
        cls.short = record(cls.dir, "short", [CONVOY, "5"])
        cls.server = Weftd(cls.dir)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cleanup(cls.dir)

    def diff(self, a, b, expect=200):
        return self.server.json("/api/diff?" + urllib.parse.urlencode({"a": a, "b": b}),
                                expect=expect)

    def test_the_biggest_change_on_the_path_is_the_mutex_as_weft_diff_says(self):
        diff = self.diff("long", "short")
        self.assertEqual((diff["a"]["id"], diff["b"]["id"]), ("long", "short"))
        self.assertGreater(diff["a"]["wall_ns"], diff["b"]["wall_ns"])
        top = diff["critical_path_by_object"][0]
        self.assertEqual(top["key"], "mutex#1")
        self.assertLess(top["change_ns"], 0)
        # the same matching and order as `weft diff`
        cli = weft_diff_json(self.long, self.short)
        for name in ("critical_path_by_state", "critical_path_by_object", "waits_by_object",
                     "thread_time"):
            self.assertEqual([(c["key"], c["a_ns"], c["b_ns"]) for c in diff[name]],
                             [(c["key"], c["a_ns"], c["b_ns"]) for c in cli[name]][:len(diff[name])])
            self.assertEqual(diff[name + "_total"], len(cli[name]))

    def test_rows_carry_the_ids_each_trace_knows_them_by(self):
        diff = self.diff("long", "short")
        top = diff["critical_path_by_object"][0]
        for side, path in (("a", self.long), ("b", self.short)):
            status, _, body = self.server.request(
                "/api/traces/%s/sql" % diff[side]["id"], "POST",
                json.dumps({"sql": "SELECT kind FROM object WHERE object_id = %d"
                            % top[side + "_id"]}).encode())
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["rows"], [["mutex"]])
        # Which workers waited in which run is the scheduler's to say; a
        # convoy makes some wait in both, and their rows name each trace's
        # own thread.
        waiters = [c for c in diff["thread_time"] if " Blocked mutex" in c["key"]
                   and c["a_ns"] is not None and c["b_ns"] is not None]
        self.assertTrue(waiters, diff["thread_time"])
        for side in ("a", "b"):
            status, _, body = self.server.request(
                "/api/traces/%s/sql" % diff[side]["id"], "POST",
                json.dumps({"sql": "SELECT count(*) FROM thread WHERE utid = %d"
                            % waiters[0][side + "_id"]}).encode())
            self.assertEqual(json.loads(body)["rows"], [[1]], body)

    def test_a_run_against_itself_changes_nothing(self):
        diff = self.diff("short", "short")
        for name in ("critical_path_by_state", "critical_path_by_object", "thread_time"):
            self.assertTrue(diff[name])
            self.assertTrue(all(c["change_ns"] == 0 for c in diff[name]))

    def test_bad_requests_are_refused_with_a_reason(self):
        for query, code in (("", 400), ("a=long", 400), ("a=long&b=", 400),
                            ("a=long&b=nosuch", 404), ("a=%3Cx%3E&b=short", 404)):
            status, ctype, body = self.server.request("/api/diff?" + query)
            self.assertEqual(status, code, query)
            self.assertTrue(ctype.startswith("application/json"))
            self.assertIn("error", json.loads(body))


class BigTraceFacts(unittest.TestCase):
    """1.1 million spans (more than FACTS_SPLIT_ROWS, so facts.c reads the
    two halves of thread_state on two connections at once): weft report's
    sums are SQL's, to the nanosecond."""

    def test_the_sums_of_a_split_scan_are_those_of_sql(self):
        d = tempdir()
        self.addCleanup(cleanup, d)
        path = generate(os.path.join(d, "big.db"), 1100000, 8)
        run = subprocess.run([WEFT, "report", "--json", path], capture_output=True, text=True,
                             timeout=TIMEOUT)
        self.assertEqual(run.returncode, 0, run.stderr)
        report = json.loads(run.stdout)
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        self.addCleanup(db.close)
        (rows,) = db.execute("SELECT COUNT(*) FROM thread_state").fetchone()
        self.assertGreater(rows, 1000000)
        (running,) = db.execute(
            "SELECT SUM(dur) FROM thread_state WHERE state = 'Running'").fetchone()
        self.assertEqual(report["cpu_ns"], running)
        waits = db.execute("""SELECT SUM(dur), COUNT(*) FROM thread_state
            WHERE state = 'Blocked' AND object_id IS NOT NULL GROUP BY object_id""").fetchall()
        self.assertTrue(waits)
        self.assertEqual(sorted((w["ns"], w["waits"]) for w in report["waits"]), sorted(waits))
        holders = db.execute("""SELECT SUM(dur), COUNT(*) FROM thread_state
            WHERE state = 'Blocked' AND object_id IS NOT NULL AND holder_utid IS NOT NULL
            GROUP BY object_id""").fetchall()
        self.assertEqual(sorted((h["ns"], h["waits"]) for h in report["holders"]),
                         sorted(holders))


if __name__ == "__main__":
    unittest.main()
