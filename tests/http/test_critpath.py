"""GET /api/traces/{id}/critical_path: the recorded command's critical path,
or a chosen thread's, walked by weftd on demand."""

import os
import sqlite3
import subprocess
import unittest

from weftd_harness import WEFT, Weftd, cleanup, tempdir

CONVOY = os.path.join(os.path.dirname(WEFT), "weft-itest-convoy") if WEFT else ""


class CriticalPathRoute(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir()
        cls.path = os.path.join(cls.dir, "convoy.db")
        subprocess.run([WEFT, "record", "-o", cls.path, "--", CONVOY, "10"],
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

    def test_the_default_path_is_the_one_the_recorder_stored(self):
        answer = self.server.json("/api/traces/convoy/critical_path")
        stored = self.q("SELECT utid, ts, dur, state, reason, object_id, via_object_id, edge, "
                        "next_utid FROM critical_path ORDER BY seq")
        self.assertEqual([tuple(s) for s in answer["segments"]], stored)
        self.assertFalse(answer["truncated"])
        start, end = self.q("SELECT start_ts, end_ts FROM process WHERE parent_upid IS NULL")[0]
        self.assertEqual((answer["start"], answer["end"]), (start, end))
        self.assertEqual(sum(t["ns"] for t in answer["by_thread"]), end - start)

    def test_a_chosen_thread_gets_its_own_path_tiling_its_life(self):
        utid, start, end = self.q("SELECT utid, start_ts, end_ts FROM thread "
                                  "WHERE name = 'worker-2'")[0]
        answer = self.server.json("/api/traces/convoy/critical_path?utid=%d" % utid)
        segments = answer["segments"]
        self.assertEqual(segments[-1][0], utid)
        self.assertEqual(segments[0][1], start)
        self.assertEqual(segments[-1][1] + segments[-1][2], end)
        self.assertEqual(sum(s[2] for s in segments), end - start)

    def test_the_mutex_is_charged_on_the_path(self):
        answer = self.server.json("/api/traces/convoy/critical_path")
        mutex = self.q("SELECT object_id FROM object WHERE kind = 'mutex'")[0][0]
        charged = {o["object_id"]: o["ns"] for o in answer["by_object"]}
        self.assertGreater(charged.get(mutex, 0), 0, answer["by_object"])
        self.assertIn("unlock", {s[7] for s in answer["segments"]})

    def test_bad_parameters_are_told(self):
        self.server.json("/api/traces/convoy/critical_path?utid=x", expect=400)
        self.server.json("/api/traces/convoy/critical_path?utid=999999", expect=404)
        self.server.json("/api/traces/convoy/critical_path?utid=1&start=10&end=5", expect=400)
        self.server.json("/api/traces/nosuch/critical_path", expect=404)


if __name__ == "__main__":
    unittest.main()
