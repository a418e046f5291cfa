"""weftd on a trace recorded by the real recorder (`weft record`) from a
real pipeline: the API agrees with the file."""
import json
import os
import subprocess
import unittest
import sqlite3
import urllib.parse

from weftd_harness import WEFT, Weftd, cleanup, tempdir


class Recorded(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir()
        cls.path = os.path.join(cls.dir, "pipe.db")
        # fails (not skips) when the recorder is not built: it is part of weft
        subprocess.run([WEFT, "record", "-o", cls.path, "--", "sh", "-c",
                        "seq 1 200000 | grep 7 | wc -l"],
                       check=True, timeout=120, capture_output=True)
        cls.db = sqlite3.connect("file:%s?mode=ro" % cls.path, uri=True)
        cls.server = Weftd(cls.path)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.db.close()
        cleanup(cls.dir)

    def q(self, sql, *args):
        return self.db.execute(sql, args).fetchall()

    def test_overview_shows_the_pipeline_processes(self):
        o = self.server.json("/api/traces/pipe")
        self.assertEqual(o["meta"]["status"], "complete")
        names = sorted(p["name"] for p in o["processes"])
        self.assertEqual(names, sorted(r[0] for r in self.q("SELECT name FROM process")))
        for want in ("seq", "grep", "wc"):
            self.assertIn(want, names)

    def test_timeline_accounts_for_every_recorded_span(self):
        start, end = self.q("SELECT min(ts), max(ts + dur) FROM thread_state")[0]
        tl = self.server.json("/api/traces/pipe/timeline?" + urllib.parse.urlencode(
            dict(start=start, end=end, px=800)))
        counts = dict(self.q("SELECT utid, count(*) FROM thread_state GROUP BY utid"))
        self.assertEqual({int(k): sum(e[5] for e in v) for k, v in tl["threads"].items()}, counts)

    def test_summary_matches_sql(self):
        start, end = self.q("SELECT min(ts), max(ts + dur) FROM thread_state")[0]
        s = self.server.json("/api/traces/pipe/summary?start=%d&end=%d" % (start, end))
        want = {}
        for utid, state, ns in self.q("SELECT utid, state, sum(dur) FROM thread_state "
                                      "GROUP BY utid, state"):
            if ns:
                want.setdefault(utid, {})[state] = ns
        self.assertEqual({t["utid"]: t["ns"] for t in s["threads"]}, want)

    def test_every_span_has_details(self):
        for utid, ts, dur, state in self.q("SELECT utid, ts, dur, state FROM thread_state "
                                           "WHERE dur > 0 LIMIT 50"):
            d = self.server.json("/api/traces/pipe/span?utid=%d&ts=%d" % (utid, ts))
            self.assertEqual((d["ts"], d["dur"], d["state"]), (ts, dur, state))

    def test_export_is_valid_json(self):
        status, _, body = self.server.request("/api/traces/pipe/export")
        self.assertEqual(status, 200)
        events = json.loads(body)["traceEvents"]
        self.assertEqual(sum(e["ph"] == "X" for e in events),
                         self.q("SELECT count(*) FROM thread_state")[0][0])


class RecordedDeadlock(unittest.TestCase):
    """weft-demo-deadlock: alice and bob each wait for the mutex the other
    holds until alice's timed lock gives up. The recorder writes the cycle
    into the deadlock tables; the summary reports it although neither
    thread ends blocked."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir()
        cls.path = os.path.join(cls.dir, "deadlock.db")
        demo = os.path.join(os.path.dirname(WEFT), "weft-demo-deadlock")
        subprocess.run([WEFT, "record", "-o", cls.path, "--", demo],
                       check=True, timeout=120, capture_output=True)
        cls.db = sqlite3.connect("file:%s?mode=ro" % cls.path, uri=True)
        cls.server = Weftd(cls.path)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.db.close()
        cleanup(cls.dir)

    def q(self, sql, *args):
        return self.db.execute(sql, args).fetchall()

    def summary(self, start, end):
        return self.server.json("/api/traces/deadlock/summary?start=%d&end=%d" % (start, end))

    def test_summary_names_both_threads_and_both_mutexes(self):
        start, end = self.q("SELECT min(ts), max(ts + dur) FROM thread_state")[0]
        s = self.summary(start, end)
        self.assertEqual(len(s["deadlocks"]), 1, s["deadlocks"])
        d = s["deadlocks"][0]
        self.assertEqual(sorted(d["thread_names"]), ["alice", "bob"])
        utid = dict(self.q("SELECT name, utid FROM thread WHERE name IN ('alice', 'bob')"))
        self.assertEqual(sorted(d["threads"]), sorted(utid.values()))
        # the two mutexes: what each of them was blocked on, named by label
        mutexes = dict(self.q("SELECT DISTINCT o.object_id, o.label FROM thread_state s "
                              "JOIN object o USING (object_id) WHERE s.state = 'Blocked' "
                              "AND o.kind = 'mutex' AND s.utid IN (?, ?)",
                              utid["alice"], utid["bob"]))
        self.assertEqual(len(mutexes), 2)
        self.assertEqual(sorted(d["objects"]), sorted(mutexes))
        self.assertEqual(sorted(d["object_labels"]), sorted(mutexes.values()))
        # cycle order: each waits for the mutex the next one holds
        self.assertEqual(d["holders"], d["threads"][1:] + d["threads"][:1])
        for name in ("alice", "bob"):
            self.assertIn(name, d["cycle"])
        # alice's timed lock ended it: the deadlock has an end
        self.assertIsNotNone(d["end_ts"])
        self.assertGreater(d["end_ts"], d["ts"])

    def test_a_window_before_the_cycle_closed_has_no_deadlock(self):
        (ts,), = self.q("SELECT ts FROM deadlock")
        start = self.q("SELECT min(ts) FROM thread_state")[0][0]
        self.assertEqual(self.summary(start, ts)["deadlocks"], [])
        self.assertEqual(len(self.summary(ts, ts + 1)["deadlocks"]), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
