"""weftd's API on a real trace file (schema v1, written by weft_gen_trace):
every endpoint answers, and what it answers agrees with the same question
asked of the file with sqlite3."""
import hashlib
import json
import os
import sqlite3
import struct
import unittest
import urllib.parse

from weftd_harness import Weftd, cleanup, generate, tempdir, WEB_DIR, WEB_MANIFEST

STATES = ["New", "Running", "Ready", "Blocked", "Waiting", "Suspended", "Terminated"]


class Api(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir()
        cls.path = generate(os.path.join(cls.dir, "run.db"), 30000, 8)
        cls.db = sqlite3.connect("file:%s?mode=ro" % cls.path, uri=True)
        cls.start, cls.end = cls.db.execute(
            "SELECT min(ts), max(ts + dur) FROM thread_state").fetchone()
        # where every thread is busy (the deadlocked pair waits on long after)
        cls.busy_end = cls.db.execute(
            "SELECT min(end_ts) FROM thread").fetchone()[0]
        cls.server = Weftd(cls.path)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.db.close()
        cleanup(cls.dir)

    def q(self, sql, *args):
        return self.db.execute(sql, args).fetchall()

    def test_banner_names_the_trace_count(self):
        self.assertEqual(self.server.count, 1)

    def test_trace_list_describes_the_file(self):
        traces = self.server.json("/api/traces")["traces"]
        self.assertEqual(len(traces), 1)
        t = traces[0]
        self.assertEqual(t["id"], "run")
        self.assertEqual(t["file"], "run.db")
        self.assertEqual(t["bytes"], os.path.getsize(self.path))
        self.assertEqual(t["status"], "complete")
        self.assertEqual(t["command"], self.q("SELECT value FROM meta WHERE key='command'")[0][0])
        self.assertEqual(t["start_ts"], int(self.q("SELECT value FROM meta WHERE key='start_ts'")[0][0]))

    def test_overview_lists_processes_threads_cpus_and_tables(self):
        o = self.server.json("/api/traces/run")
        self.assertEqual(o["id"], "run")
        self.assertEqual(o["meta"]["schema_version"], "1")
        self.assertEqual([t["utid"] for t in o["threads"]],
                         [r[0] for r in self.q("SELECT utid FROM thread ORDER BY utid")])
        self.assertEqual([p["pid"] for p in o["processes"]],
                         [r[0] for r in self.q("SELECT pid FROM process ORDER BY upid")])
        self.assertEqual(o["cpus"], [r[0] for r in self.q("SELECT DISTINCT cpu FROM sched_slice ORDER BY 1")])
        self.assertEqual(o["states"], STATES)
        self.assertEqual(o["reasons"][0], "mutex")
        self.assertEqual(o["lost"], {"events": 0, "threads": 0})
        self.assertIn("parent_upid", o["processes"][0])

    def timeline(self, **params):
        return self.server.json("/api/traces/run/timeline?" + urllib.parse.urlencode(params))

    def test_timeline_zoomed_in_returns_the_exact_spans(self):
        utid = 3
        rows = self.q("SELECT ts, dur, state, reason, object_id FROM thread_state "
                      "WHERE utid = ? ORDER BY ts LIMIT 30 OFFSET 100", utid)
        start, end = rows[0][0], rows[-1][0] + rows[-1][1]
        tl = self.timeline(start=start, end=end, px=10000, utids=utid)
        self.assertEqual(set(tl["threads"]), {str(utid)})
        got = tl["threads"][str(utid)]
        reasons = self.server.json("/api/traces/run")["reasons"]
        exact = [(e[0], e[1], STATES[e[2]], reasons[e[3]] if e[3] >= 0 else None, e[4])
                 for e in got if e[5] == 1]
        # every span at least a pixel wide comes back exactly as stored
        ns_per_px = (end - start) // 10000
        want = [r for r in rows if r[1] >= ns_per_px]
        self.assertEqual([tuple(r) for r in want], [x for x in exact if x in [tuple(r) for r in rows]])
        self.assertEqual(sum(e[5] for e in got), len(rows))

    def test_timeline_zoomed_out_accounts_for_every_span_in_few_entries(self):
        tl = self.timeline(start=self.start, end=self.end, px=200)
        self.assertEqual(tl["px"], 200)
        self.assertEqual(tl["ns_per_px"], (self.end - self.start) // 200)
        counts = dict(self.q("SELECT utid, count(*) FROM thread_state GROUP BY utid"))
        self.assertEqual(set(tl["threads"]), {str(u) for u in counts})
        for utid, entries in tl["threads"].items():
            self.assertEqual(sum(e[5] for e in entries), counts[int(utid)])
            self.assertLessEqual(len(entries), 2 * 200 + 4)
            for a, b in zip(entries, entries[1:]):
                self.assertLessEqual(a[0] + a[1], b[0])
            for e in entries:
                if e[5] > 1:  # a bucket: the mix names its main state
                    self.assertEqual(len(e[6]), 7)
                    self.assertEqual(e[2], e[6].index(max(e[6])))
        self.assertTrue(tl["processes"])
        self.assertTrue(tl["cpus"])
        cpu_counts = dict(self.q("SELECT cpu, count(*) FROM sched_slice GROUP BY cpu"))
        for cpu, entries in tl["cpus"].items():
            self.assertEqual(sum(e[4] for e in entries), cpu_counts[int(cpu)])

    def test_timeline_filters_tracks(self):
        tl = self.timeline(start=self.start, end=self.end, px=50, utids="1,2", upids="1", cpus="0")
        self.assertEqual(set(tl["threads"]), {"1", "2"})
        self.assertEqual(set(tl["processes"]), {"1"})
        self.assertEqual(set(tl["cpus"]), {"0"})
        tl = self.timeline(start=self.start, end=self.end, px=50, utids="2")
        self.assertNotIn("processes", tl)
        self.assertNotIn("cpus", tl)

    def test_binary_timeline_matches_json(self):
        params = dict(start=self.start, end=self.end, px=300, utids="1,2,5")
        tl = self.timeline(**params)
        status, ctype, data = self.server.request(
            "/api/traces/run/timeline?" + urllib.parse.urlencode(dict(params, format="bin")))
        self.assertEqual(status, 200)
        self.assertEqual(ctype, "application/octet-stream")
        self.assertEqual(data[:4], b"WFT1")
        (ntracks,) = struct.unpack_from("<I", data, 4)
        self.assertEqual(ntracks, 3)
        off = 8
        for _ in range(ntracks):
            kind, tid, count = struct.unpack_from("<B3xII", data, off)
            off += 12
            self.assertEqual(kind, 0)
            entries = tl["threads"][str(tid)]
            self.assertEqual(count, len(entries))
            for e in entries:
                ts, dur, state, reason, n, obj = struct.unpack_from("<qqHhIq", data, off)
                off += 32
                self.assertEqual((ts, dur, state, reason, n), tuple(e[:4] + [e[5]]))
                self.assertEqual(obj, -1 if e[4] is None else e[4])
        self.assertEqual(off, len(data))

    def test_span_details_name_object_holder_waker_and_flows(self):
        utid, ts, dur, obj, holder, waker = self.q(
            "SELECT utid, ts, dur, object_id, holder_utid, waker_utid FROM thread_state "
            "WHERE state = 'Blocked' AND reason = 'mutex' AND holder_utid IS NOT NULL "
            "AND dur < 1000000000 ORDER BY ts LIMIT 1")[0]
        d = self.server.json("/api/traces/run/span?utid=%d&ts=%d" % (utid, ts + dur // 2))
        self.assertEqual((d["utid"], d["ts"], d["dur"], d["state"], d["reason"]),
                         (utid, ts, dur, "Blocked", "mutex"))
        label = self.q("SELECT label FROM object WHERE object_id = ?", obj)[0][0]
        self.assertEqual(d["object"]["label"], label)
        self.assertEqual(d["object"]["kind"], "mutex")
        hname = self.q("SELECT name FROM thread WHERE utid = ?", holder)[0][0]
        self.assertEqual(d["holder"], {"utid": holder, "tid": 1000 + holder, "name": hname})
        self.assertEqual(d["waker"]["utid"], waker)
        flows = self.q("SELECT ts_out, utid_out, ts_in, utid_in, kind FROM flow WHERE "
                       "(utid_in = ?1 AND ts_in BETWEEN ?2 AND ?3) OR "
                       "(utid_out = ?1 AND ts_out BETWEEN ?2 AND ?3)", utid, ts, ts + dur)
        self.assertEqual(sorted(tuple(f[k] for k in ("ts_out", "utid_out", "ts_in", "utid_in", "kind"))
                                for f in d["flows"]), sorted(flows))
        self.assertIn("unlock", [f["kind"] for f in d["flows"]])

    def test_span_outside_a_thread_life_is_404(self):
        status, _, body = self.server.request("/api/traces/run/span?utid=1&ts=5")
        self.assertEqual(status, 404)
        self.assertIn("error", json.loads(body))

    def test_flows_in_a_window_match_sql(self):
        a = self.start + (self.busy_end - self.start) // 4
        b = a + (self.busy_end - self.start) // 50
        got = self.server.json("/api/traces/run/flows?start=%d&end=%d" % (a, b))
        want = self.q("SELECT count(*) FROM flow WHERE (ts_out >= ?1 AND ts_out < ?2) "
                      "OR (ts_in >= ?1 AND ts_in < ?2)", a, b)[0][0]
        self.assertEqual(len(got["flows"]), want)
        self.assertFalse(got["truncated"])
        only = self.server.json("/api/traces/run/flows?start=%d&end=%d&utids=2" % (a, b))
        self.assertTrue(only["flows"])
        for f in only["flows"]:
            self.assertIn(2, (f["utid_in"], f["utid_out"]))

    def test_objects_match_sql(self):
        got = self.server.json("/api/traces/run/objects")["objects"]
        want = self.q("SELECT object_id, kind, upid, address, label FROM object ORDER BY 1")
        self.assertEqual([tuple(o[k] for k in ("object_id", "kind", "upid", "address", "label"))
                          for o in got], want)

    def test_summary_time_per_state_matches_sql(self):
        a = self.start + (self.busy_end - self.start) // 3
        b = a + (self.busy_end - self.start) // 7
        s = self.server.json("/api/traces/run/summary?start=%d&end=%d" % (a, b))
        want = {}
        for utid, state, ns in self.q(
                "SELECT utid, state, sum(min(ts + dur, ?2) - max(ts, ?1)) FROM thread_state "
                "WHERE ts < ?2 AND ts + dur > ?1 GROUP BY utid, state", a, b):
            want.setdefault(utid, {})[state] = ns
        self.assertEqual({t["utid"]: t["ns"] for t in s["threads"]}, want)
        self.assertTrue(s["processes"])
        # contention: waits per lock equal the Blocked spans on it in the window
        top = s["contention"][0]
        waits = self.q("SELECT count(*) FROM thread_state WHERE object_id = ? AND state = "
                       "'Blocked' AND ts < ? AND ts + dur > ?", top["object_id"], b, a)[0][0]
        self.assertEqual(top["waits"], waits)
        self.assertTrue(top["holders"])
        traffic = self.q("SELECT object_id, count(*), sum(bytes) FROM flow WHERE kind = 'pipe' "
                         "AND ts_out >= ? AND ts_out < ? GROUP BY 1", a, b)
        self.assertEqual(sorted((t["object_id"], t["messages"], t["bytes"]) for t in s["traffic"]),
                         sorted(traffic))

    def test_summary_finds_the_deadlock(self):
        s = self.server.json("/api/traces/run/summary?start=%d&end=%d" % (self.start, self.end))
        self.assertEqual(len(s["deadlocks"]), 1)
        d = s["deadlocks"][0]
        # the generator's pair: each blocked to the end on what the other holds
        pair = self.q("SELECT utid, holder_utid FROM thread_state s WHERE ts = (SELECT max(ts) "
                      "FROM thread_state WHERE utid = s.utid) AND holder_utid IS NOT NULL")
        self.assertEqual(sorted(d["threads"]), sorted(u for u, _ in pair))
        self.assertEqual(len(d["objects"]), 2)
        # as the deadlock tables and the deadlocks view record it
        (ts, end_ts, cycle), = self.q("SELECT ts, end_ts, cycle FROM deadlocks")
        self.assertEqual((d["ts"], d["end_ts"], d["cycle"]), (ts, end_ts, cycle))
        members = self.q("SELECT m.utid, m.object_id, m.holder_utid, t.name, o.label "
                         "FROM deadlock_member m JOIN thread t USING (utid) "
                         "JOIN object o USING (object_id) ORDER BY position")
        self.assertEqual(d["threads"], [m[0] for m in members])
        self.assertEqual(d["objects"], [m[1] for m in members])
        self.assertEqual(d["holders"], [m[2] for m in members])
        self.assertEqual(d["thread_names"], [m[3] for m in members])
        self.assertEqual(d["object_labels"], [m[4] for m in members])

    def test_summary_deadlocks_only_those_overlapping_the_window(self):
        (ts,), = self.q("SELECT ts FROM deadlock")
        before = self.server.json("/api/traces/run/summary?start=%d&end=%d" % (self.start, ts))
        self.assertEqual(before["deadlocks"], [])
        during = self.server.json("/api/traces/run/summary?start=%d&end=%d" % (ts, ts + 1))
        self.assertEqual(len(during["deadlocks"]), 1)

    def test_summary_of_a_trace_without_deadlock_tables_uses_final_waits(self):
        # a file from before the recorder wrote deadlocks: no such tables
        old = os.path.join(self.dir, "old.db")
        src = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True)
        dst = sqlite3.connect(old)
        src.backup(dst)
        src.close()
        dst.executescript("DROP VIEW deadlocks; DROP TABLE deadlock_member; DROP TABLE deadlock;")
        dst.close()
        with Weftd(old) as server:
            s = server.json("/api/traces/old/summary?start=%d&end=%d" % (self.start, self.end))
        self.assertEqual(len(s["deadlocks"]), 1)
        d = s["deadlocks"][0]
        pair = self.q("SELECT utid, object_id FROM thread_state s WHERE ts = (SELECT max(ts) "
                      "FROM thread_state WHERE utid = s.utid) AND holder_utid IS NOT NULL")
        self.assertEqual(sorted(zip(d["threads"], d["objects"])), sorted(pair))

    def test_sql_select_answers_rows(self):
        r = self.server.json("/api/traces/run/sql", "POST",
                             json.dumps({"sql": "SELECT state, count(*) AS n FROM thread_state "
                                                "GROUP BY state ORDER BY state"}).encode())
        self.assertEqual(r["columns"], ["state", "n"])
        self.assertEqual([tuple(x) for x in r["rows"]],
                         self.q("SELECT state, count(*) FROM thread_state GROUP BY state ORDER BY state"))
        self.assertEqual(r["row_count"], len(r["rows"]))
        self.assertFalse(r["truncated"])
        g = self.server.json("/api/traces/run/sql?q=" + urllib.parse.quote("SELECT 40 + 2 AS x"))
        self.assertEqual(g["rows"], [[42]])

    def test_sql_limit_truncates(self):
        r = self.server.json("/api/traces/run/sql", "POST",
                             json.dumps({"sql": "SELECT ts FROM thread_state", "limit": 10}).encode())
        self.assertEqual(len(r["rows"]), 10)
        self.assertTrue(r["truncated"])

    def test_sql_writes_are_refused_and_the_file_is_unchanged(self):
        def digest():
            with open(self.path, "rb") as f:
                return hashlib.sha256(f.read()).hexdigest()
        before = digest()
        for sql in ["DELETE FROM thread_state", "INSERT INTO meta VALUES ('x', 'y')",
                    "UPDATE thread SET name = 'x'", "DROP TABLE flow", "CREATE TABLE t(x)",
                    "ATTACH DATABASE '/tmp/weftd-attack.db' AS a", "PRAGMA journal_mode = DELETE",
                    "PRAGMA user_version = 9", "SELECT load_extension('/tmp/x.so')",
                    "SELECT 1; DELETE FROM thread_state", "VACUUM"]:
            status, _, body = self.server.request("/api/traces/run/sql", "POST",
                                                  json.dumps({"sql": sql}).encode())
            self.assertEqual(status, 422, sql)
            self.assertTrue(json.loads(body)["error"], sql)
        self.assertFalse(os.path.exists("/tmp/weftd-attack.db"))
        self.assertEqual(digest(), before)
        self.assertEqual(self.q("SELECT count(*) FROM thread_state")[0][0] > 0, True)

    def test_sql_errors_carry_sqlite_message(self):
        status, _, body = self.server.request("/api/traces/run/sql", "POST",
                                              json.dumps({"sql": "SELECT nope FROM thread"}).encode())
        self.assertEqual(status, 422)
        self.assertIn("no such column: nope", json.loads(body)["error"])

    def test_schema_lists_tables_and_runnable_examples(self):
        s = self.server.json("/api/traces/run/schema")
        tables = {t["name"]: t for t in s["tables"]}
        self.assertIn("thread_state", tables)
        self.assertIn("lock_contention", tables)
        self.assertEqual(tables["lock_contention"]["type"], "view")
        self.assertIn({"name": "holder_utid", "type": "INTEGER"}, tables["thread_state"]["columns"])
        self.assertTrue(tables["thread"]["sql"].startswith("CREATE TABLE"))
        self.assertGreaterEqual(len(s["examples"]), 3)
        for ex in s["examples"]:
            r = self.server.json("/api/traces/run/sql", "POST", json.dumps({"sql": ex["sql"]}).encode())
            self.assertTrue(r["columns"], ex["title"])

    def test_dashboard_is_served_from_the_embedded_files(self):
        # what this build embedded (the sources may have moved on since)
        with open(WEB_MANIFEST) as f:
            embedded = dict(reversed(line.split(" ", 1)) for line in f.read().splitlines())
        embedded = {name.strip(): digest for name, digest in embedded.items()}
        status, ctype, body = self.server.request("/")
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/html"))
        if "index.html" in embedded:
            self.assertEqual(hashlib.sha256(body).hexdigest(), embedded["index.html"])
        else:
            self.assertIn(b"not built", body)
        for name, digest in embedded.items():
            status, ctype, body = self.server.request("/" + name)
            self.assertEqual(status, 200, name)
            self.assertEqual(hashlib.sha256(body).hexdigest(), digest, name)
            if name.endswith(".js"):
                self.assertTrue(ctype.startswith("text/javascript"), ctype)
        # every file of web/ at build time is embedded
        on_disk = {os.path.relpath(os.path.join(root, n), WEB_DIR)
                   for root, _, files in os.walk(WEB_DIR) for n in files}
        on_disk = {n for n in on_disk if not n.startswith(".") and "node_modules" not in n}
        self.assertLessEqual(set(embedded), on_disk)

    def test_concurrent_requests_get_the_same_answers(self):
        import concurrent.futures
        paths = ["/api/traces/run/timeline?start=%d&end=%d&px=300" % (self.start, self.end),
                 "/api/traces/run/summary?start=%d&end=%d" % (self.start, self.busy_end),
                 "/api/traces/run/sql?q=" + urllib.parse.quote(
                     "SELECT utid, count(*) FROM thread_state GROUP BY utid"),
                 "/api/traces/run/span?utid=2&ts=%d" % (self.start + 100000),
                 "/api/traces/run/objects"]
        want = {p: self.server.request(p)[2] for p in paths}
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            got = list(pool.map(lambda p: (p, self.server.request(p)), paths * 20))
        for p, (status, _, body) in got:
            self.assertEqual(status, 200, p)
            if "/sql" not in p:  # sql answers carry their elapsed time
                self.assertEqual(body, want[p], p)
            else:
                self.assertEqual(json.loads(body)["rows"], json.loads(want[p])["rows"])

    def test_head_is_answered_without_a_body(self):
        status, _, body = self.server.request("/", method="HEAD")
        self.assertEqual((status, body), (200, b""))


class ManyThreads(unittest.TestCase):
    """A trace whose flows name utids past 255: the summary's holders and
    traffic then come from SQLite over the whole window; same answers."""

    def test_summary_traffic_and_holders_match_sql(self):
        d = tempdir()
        try:
            path = generate(os.path.join(d, "wide.db"), 30000, 300)
            db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
            self.assertGreater(db.execute("SELECT max(utid_out) FROM flow").fetchone()[0], 255)
            a, b = db.execute("SELECT min(ts), min(end_ts) FROM thread_state, thread").fetchone()
            with Weftd(path) as server:
                s = server.json("/api/traces/wide/summary?start=%d&end=%d" % (a, b))
            traffic = db.execute(
                "SELECT object_id, count(*), sum(bytes), group_concat(DISTINCT utid_out) FROM flow "
                "WHERE kind = 'pipe' AND ts_out >= ? AND ts_out < ? GROUP BY 1", (a, b)).fetchall()
            self.assertEqual(sorted((t["object_id"], t["messages"], t["bytes"], sorted(t["writers"]))
                                    for t in s["traffic"]),
                             sorted((o, m, n, sorted(int(x) for x in w.split(",")))
                                    for o, m, n, w in traffic))
            top = s["contention"][0]
            holders = db.execute(
                "SELECT DISTINCT utid_out FROM flow WHERE object_id = ? AND ts_in >= ? AND ts_in < ? "
                "AND kind IN ('unlock', 'post', 'signal', 'barrier')", (top["object_id"], a, b)).fetchall()
            self.assertEqual(sorted(top["holders"]), sorted(h for (h,) in holders))
            db.close()
        finally:
            cleanup(d)


if __name__ == "__main__":
    unittest.main(verbosity=2)
