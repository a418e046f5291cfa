"""GET /api/traces/{id}/stack and /api/traces/{id}/flame: the stacks of the
waits of a trace with stack tables (tests/browser/make_stacks.py writes
them as the recorder does), and of a trace recorded before stacks existed."""

import os
import sqlite3
import subprocess
import sys
import unittest

from weftd_harness import Weftd, cleanup, tempdir

BROWSER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "browser")
IMG = '<img src=x onerror="window.__pwned=1">'


def names(frames):
    return [f["function"] for f in frames]


class StackRoutes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir()
        cls.path = os.path.join(cls.dir, "stacks.db")
        old = os.path.join(cls.dir, "old.db")
        subprocess.run([sys.executable, os.path.join(BROWSER, "make_stacks.py"), cls.path],
                       check=True, timeout=60)
        subprocess.run([sys.executable, os.path.join(BROWSER, "make_trace.py"), old],
                       check=True, timeout=60)
        cls.db = sqlite3.connect("file:%s?mode=ro" % cls.path, uri=True)
        cls.server = Weftd(cls.path, old)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.db.close()
        cleanup(cls.dir)

    def q(self, sql, *args):
        return self.db.execute(sql, args).fetchall()

    def test_a_callsite_stack_is_innermost_first_with_its_module(self):
        frames = self.server.json("/api/traces/stacks/stack?callsite=5")["frames"]
        self.assertEqual(names(frames),
                         ["pthread_mutex_lock", "pay", IMG, "customer", "start_thread"])
        self.assertEqual([f["depth"] for f in frames], [4, 3, 2, 1, 0])
        pay = frames[1]
        self.assertEqual((pay["file"], pay["line"], pay["module"], pay["rel_pc"]),
                         ("cashier.c", 31, "/usr/local/bin/cashier", 0x1402))
        self.assertIsNone(frames[0]["file"])
        self.assertIsNone(frames[0]["line"])

    def test_a_truncated_stack_ends_in_the_marker_and_null_fields_stay_null(self):
        frames = self.server.json("/api/traces/stacks/stack?callsite=46")["frames"]
        self.assertEqual(len(frames), 32)
        self.assertEqual(frames[-1]["function"], "[truncated]")
        self.assertIsNone(frames[-1]["module"])
        unknown = frames[0]
        self.assertEqual((unknown["function"], unknown["module"], unknown["file"],
                          unknown["line"]), (None, None, None, None))
        self.assertEqual(unknown["rel_pc"], 0x7fdeadbeef)

    def test_the_span_form_gives_the_wait_the_waker_and_the_holder(self):
        ts, dur = self.q("SELECT ts, dur FROM thread_state WHERE utid = 6 AND "
                         "state = 'Blocked'")[0]
        answer = self.server.json("/api/traces/stacks/stack?utid=6&ts=%d" % (ts + dur // 2))
        self.assertTrue(answer["stacks"])
        self.assertEqual((answer["ts"], answer["state"]), (ts, "Blocked"))
        self.assertEqual(answer["blocked"]["callsite_id"], 5)
        self.assertEqual(names(answer["waker"]["frames"]),
                         ["pthread_mutex_unlock", "release", "customer", "start_thread"])
        self.assertEqual(names(answer["holder"]["frames"]),
                         ["pthread_mutex_lock", "pay", "customer", "start_thread"])

    def test_a_span_without_waker_or_holder_stack_has_nulls(self):
        ts = self.q("SELECT ts FROM thread_state WHERE utid = 4 AND state = 'Blocked'")[0][0]
        answer = self.server.json("/api/traces/stacks/stack?utid=4&ts=%d" % ts)
        self.assertEqual(names(answer["blocked"]["frames"]),
                         ["pthread_join", "main", "__libc_start_call_main"])
        self.assertIsNone(answer["waker"])
        self.assertIsNone(answer["holder"])
        ts = self.q("SELECT MAX(ts) FROM thread_state WHERE utid = 1")[0][0]
        answer = self.server.json("/api/traces/stacks/stack?utid=1&ts=%d" % ts)
        self.assertIsNone(answer["blocked"])

    def test_the_flame_graph_sums_blocked_time_by_stack(self):
        answer = self.server.json("/api/traces/stacks/flame")
        nodes = answer["nodes"]
        blocked, no_stack = self.q(
            "SELECT SUM(dur), SUM(CASE WHEN callsite_id IS NULL THEN dur END) "
            "FROM thread_state WHERE state = 'Blocked'")[0]
        self.assertEqual((answer["blocked_ns"], answer["no_stack_ns"]), (blocked, no_stack))
        self.assertEqual(nodes[0]["name"], "all")
        self.assertEqual(nodes[0]["total_ns"], blocked - no_stack)
        for i, n in enumerate(nodes):
            children = [c for c in nodes if c["parent"] == i]
            self.assertEqual(n["total_ns"], n["self_ns"] + n["other_ns"] +
                             sum(c["total_ns"] for c in children), n)
            if i:
                self.assertLess(n["parent"], i)
        # customer's two waits share the start_thread > customer prefix:
        # one start_thread node; the waker's release path blocked nobody.
        starts = [n for n in nodes if n["name"] == "start_thread"]
        self.assertEqual(len(starts), 1)
        customer = nodes.index(next(n for n in nodes if n["name"] == "customer"))
        self.assertEqual(sorted(n["name"] for n in nodes if n["parent"] == customer),
                         sorted([IMG, "pay"]))
        b_wait, a_wait = 1300000, 100000
        self.assertEqual(nodes[customer]["total_ns"], b_wait + a_wait)
        # the leaf of the unknown frame is named by its address
        self.assertIn("0x7fdeadbeef", [n["name"] for n in nodes])
        flat = self.server.json("/api/traces/stacks/flame?tree=0")
        self.assertEqual((flat["nodes"], flat["by_callsite"]), ([], answer["by_callsite"]))
        top = answer["by_callsite"][0]
        self.assertEqual((top["callsite_id"], top["name"], top["waits"], top["blocked_ns"]),
                         (12, "pthread_join", 1, 22000000))

    def test_a_window_and_a_thread_narrow_the_flame_graph(self):
        ts, dur = self.q("SELECT ts, dur FROM thread_state WHERE utid = 6 AND "
                         "state = 'Blocked'")[0]
        answer = self.server.json("/api/traces/stacks/flame?start=%d&end=%d&utid=6"
                                  % (ts + 1000, ts + dur))
        self.assertEqual(answer["blocked_ns"], dur - 1000)
        leaf = next(n for n in answer["nodes"] if n["name"] == "pthread_mutex_lock")
        self.assertEqual((leaf["self_ns"], leaf["callsite_ids"]), (dur - 1000, [5]))
        grep = self.server.json("/api/traces/stacks/flame?upid=3")
        self.assertEqual(grep["nodes"][1]["name"], "[truncated]")
        self.assertEqual(grep["nodes"][0]["total_ns"], grep["blocked_ns"])

    def test_the_node_limit_sums_the_rest_into_the_kept_ancestors(self):
        full = self.server.json("/api/traces/stacks/flame")
        cut = self.server.json("/api/traces/stacks/flame?limit=4")
        self.assertFalse(full["truncated"])
        self.assertTrue(cut["truncated"])
        self.assertEqual(len(cut["nodes"]), 4)
        self.assertEqual(cut["nodes"][0]["total_ns"], full["nodes"][0]["total_ns"])
        for i, n in enumerate(cut["nodes"]):
            children = [c for c in cut["nodes"] if c["parent"] == i]
            self.assertEqual(n["total_ns"], n["self_ns"] + n["other_ns"] +
                             sum(c["total_ns"] for c in children))
        self.server.json("/api/traces/stacks/flame?limit=0", expect=400)
        self.server.json("/api/traces/stacks/flame?limit=5001", expect=400)

    def test_spans_under_a_node_are_those_whose_stack_passes_through_it(self):
        answer = self.server.json("/api/traces/stacks/flame?under=2")
        want = self.q("SELECT utid, ts, dur, callsite_id FROM thread_state WHERE "
                      "callsite_id IN (5, 7) ORDER BY ts")
        self.assertEqual([tuple(s) for s in answer["spans"]], want)
        self.assertFalse(answer["truncated"])
        one = self.server.json("/api/traces/stacks/flame?under=13&limit=1")
        self.assertEqual(len(one["spans"]), 1)
        self.assertTrue(one["truncated"])

    def test_a_trace_without_stack_tables_has_no_stacks_and_no_error(self):
        self.assertEqual(self.server.json("/api/traces/old/flame"),
                         {"stacks": False, "nodes": []})
        self.assertFalse(self.server.json("/api/traces/old/stack?utid=6&ts=5022600000")
                         ["stacks"])
        self.server.json("/api/traces/old/stack?callsite=1", expect=404)

    def test_bad_parameters_are_told(self):
        for path in ["stack", "stack?callsite=x", "stack?callsite=-1", "stack?utid=6",
                     "stack?callsite=5&utid=6&ts=1", "flame?start=1", "flame?start=5&end=4",
                     "flame?utid=1&upid=1", "flame?utid=x", "flame?under=", "flame?under=a", "flame?tree=2",
                     "flame?limit=x"]:
            self.server.json("/api/traces/stacks/" + path, expect=400)
        self.server.json("/api/traces/stacks/stack?callsite=999", expect=404)
        self.server.json("/api/traces/stacks/stack?utid=6&ts=1", expect=404)
        self.server.json("/api/traces/nosuch/flame", expect=404)

    def test_a_looping_parent_chain_is_cut(self):
        path = os.path.join(self.dir, "loop.db")
        subprocess.run([sys.executable, os.path.join(BROWSER, "make_stacks.py"), path],
                       check=True, timeout=60)
        db = sqlite3.connect(path)
        db.execute("UPDATE stack_callsite SET parent_id = 5 WHERE callsite_id = 1")
        db.commit()
        db.close()
        with Weftd(path) as server:
            frames = server.json("/api/traces/loop/stack?callsite=5")["frames"]
            self.assertEqual(len(frames), 256)
            flame = server.json("/api/traces/loop/flame")
            self.assertNotIn("customer", [n["name"] for n in flame["nodes"]])
            self.assertEqual(flame["nodes"][0]["total_ns"] + flame["no_stack_ns"]
                             + 1300000 + 100000, flame["blocked_ns"])


if __name__ == "__main__":
    unittest.main()
