"""The export endpoint: a Chrome trace event JSON file (what ui.perfetto.dev
opens) holding every process, thread, state span and flow of the trace."""
import collections
import json
import os
import sqlite3
import subprocess
import sys
import unittest

from weftd_harness import Weftd, cleanup, generate, tempdir


class Export(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir()
        cls.path = generate(os.path.join(cls.dir, "run.db"), 5000, 6)
        cls.db = sqlite3.connect("file:%s?mode=ro" % cls.path, uri=True)
        with Weftd(cls.path) as server:
            status, ctype, body = server.request("/api/traces/run/export?format=chrome-json")
        assert status == 200, body[:200]
        cls.ctype = ctype
        cls.doc = json.loads(body)  # valid JSON or the whole class fails
        cls.events = cls.doc["traceEvents"]

    @classmethod
    def tearDownClass(cls):
        cls.db.close()
        cleanup(cls.dir)

    def q(self, sql):
        return self.db.execute(sql).fetchall()

    def test_is_json_with_the_chrome_layout(self):
        self.assertTrue(self.ctype.startswith("application/json"))
        self.assertEqual(self.doc["displayTimeUnit"], "ns")
        self.assertEqual(self.doc["metadata"]["schema_version"], "1")

    def test_names_every_process_and_thread(self):
        procs = {(e["pid"], e["args"]["name"]) for e in self.events
                 if e["ph"] == "M" and e["name"] == "process_name"}
        self.assertEqual(procs, set(self.q("SELECT pid, name FROM process")))
        threads = {(e["pid"], e["tid"], e["args"]["name"]) for e in self.events
                   if e["ph"] == "M" and e["name"] == "thread_name"}
        self.assertEqual(threads, set(self.q(
            "SELECT p.pid, t.tid, t.name FROM thread t JOIN process p USING (upid)")))

    def test_one_complete_event_per_state_span(self):
        xs = [e for e in self.events if e["ph"] == "X"]
        self.assertEqual(len(xs), self.q("SELECT count(*) FROM thread_state")[0][0])
        by_state = collections.Counter(e["name"] for e in xs)
        self.assertEqual(by_state, dict(self.q("SELECT state, count(*) FROM thread_state GROUP BY 1")))
        ts, dur, reason, label = self.q(
            "SELECT s.ts, s.dur, s.reason, o.label FROM thread_state s JOIN object o "
            "USING (object_id) WHERE s.state = 'Blocked' ORDER BY s.rowid LIMIT 1")[0]
        match = [e for e in xs if round(e["ts"] * 1000) == ts and e["name"] == "Blocked"]
        self.assertTrue(match)
        self.assertEqual(round(match[0]["dur"] * 1000), dur)
        self.assertEqual(match[0]["args"]["reason"], reason)
        self.assertEqual(match[0]["args"]["object"], label)

    def test_flows_are_start_finish_pairs(self):
        starts = {e["id"]: e for e in self.events if e["ph"] == "s"}
        finishes = {e["id"]: e for e in self.events if e["ph"] == "f"}
        self.assertEqual(len(starts), self.q("SELECT count(*) FROM flow")[0][0])
        self.assertEqual(set(starts), set(finishes))
        for f in finishes.values():
            self.assertEqual(f["bp"], "e")
        kinds = collections.Counter(e["name"] for e in starts.values())
        self.assertEqual(kinds, dict(self.q("SELECT kind, count(*) FROM flow GROUP BY 1")))

    def test_a_trace_without_stacks_has_no_stack_frames(self):
        self.assertNotIn("stackFrames", self.doc)
        self.assertFalse([e for e in self.events if "sf" in e or "esf" in e])


class ExportStacks(unittest.TestCase):
    """A trace with stack tables (make_stacks.py): the callsites become the
    stackFrames dictionary, Blocked spans point at theirs."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir()
        cls.path = os.path.join(cls.dir, "stacks.db")
        subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                     "..", "browser", "make_stacks.py"),
                        cls.path, "--hostile"], check=True, timeout=60)
        cls.db = sqlite3.connect("file:%s?mode=ro" % cls.path, uri=True)
        with Weftd(cls.path) as server:
            status, _, body = server.request("/api/traces/stacks/export?format=chrome-json")
        assert status == 200, body[:200]
        cls.doc = json.loads(body)
        cls.frames = cls.doc["stackFrames"]

    @classmethod
    def tearDownClass(cls):
        cls.db.close()
        cleanup(cls.dir)

    def stack(self, sf):
        """Frame names innermost first, following the parents."""
        names = []
        key = str(sf)
        while key is not None:
            names.append(self.frames[key]["name"])
            key = self.frames[key].get("parent")
        return names

    def test_every_callsite_is_a_stack_frame_with_its_parent(self):
        rows = self.db.execute("SELECT callsite_id, parent_id FROM stack_callsite").fetchall()
        self.assertEqual(set(self.frames), {str(c) for c, _ in rows})
        for c, parent in rows:
            self.assertEqual(self.frames[str(c)].get("parent"),
                             None if parent is None else str(parent))
        self.assertEqual(self.frames["46"]["name"], "0x7fdeadbeef")
        self.assertEqual(self.frames["46"]["category"], "[unknown]")
        self.assertEqual(self.frames["1"]["category"], "/usr/lib/x86_64-linux-gnu/libc.so.6")

    def test_blocked_spans_carry_their_stack_and_their_wakers(self):
        ts, dur = self.db.execute("SELECT ts, dur FROM thread_state WHERE utid = 6 AND "
                                  "state = 'Blocked'").fetchone()
        e = [e for e in self.doc["traceEvents"] if e["ph"] == "X" and e["tid"] == 105
             and round(e["ts"] * 1000) == ts][0]
        self.assertEqual(self.stack(e["sf"]), ["pthread_mutex_lock", "pay",
                                               '<img src=x onerror="window.__pwned=1">',
                                               "customer", "start_thread"])
        self.assertEqual(self.stack(e["esf"]), ["pthread_mutex_unlock", "release",
                                                "customer", "start_thread"])
        with_sf = [e for e in self.doc["traceEvents"] if "sf" in e]
        self.assertEqual(len(with_sf), self.db.execute(
            "SELECT COUNT(*) FROM thread_state WHERE callsite_id IS NOT NULL").fetchone()[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
