"""Live updates: a trace still being written streams `update` events as it
grows and a final one when it completes; the timeline follows the new rows;
a served directory announces new recordings; clients that go away cost
nothing and do not keep weftd from stopping."""
import os
import shutil
import signal
import sqlite3
import time
import unittest
import urllib.parse

from weftd_harness import EventStream, Weftd, cleanup, generate, hold_recording_lock, tempdir


def spans_of(server, trace, utid, start, end):
    tl = server.json("/api/traces/%s/timeline?%s" % (trace, urllib.parse.urlencode(
        dict(start=start, end=end, px=100, utids=utid))))
    return sum(e[5] for e in tl["threads"][str(utid)])


class LiveTrace(unittest.TestCase):
    def setUp(self):
        self.dir = tempdir()
        self.path = generate(os.path.join(self.dir, "rec.db"), 2000, 4, "--no-indexes",
                             "--status", "recording")
        self.recorder = hold_recording_lock(self.path)
        self.server = Weftd(self.path)

    def tearDown(self):
        self.assertEqual(self.server.stop(), 0)
        self.recorder.close()
        cleanup(self.dir)

    def test_growing_trace_streams_updates_then_completes(self):
        stream = EventStream(self.server.port, "/api/traces/rec/live")
        self.assertIn(b"text/event-stream", stream.head)
        event, data = stream.next_event()
        self.assertEqual(event, "update")
        self.assertEqual(data["status"], "recording")
        first_end = data["end_ts"]
        before = spans_of(self.server, "rec", 1, 0, 2 ** 62)

        db = sqlite3.connect(self.path)
        ts = db.execute("SELECT max(ts + dur) FROM thread_state WHERE utid = 1").fetchone()[0]
        rows = [(1, ts + i * 1000, 1000, "Running" if i % 2 else "Ready") for i in range(50)]
        db.executemany("INSERT INTO thread_state(utid, ts, dur, state) VALUES (?, ?, ?, ?)", rows)
        db.commit()
        new_end = rows[-1][1] + 1000

        event, data = stream.next_event()
        self.assertEqual(event, "update")
        self.assertEqual(data["status"], "recording")
        self.assertGreaterEqual(data["end_ts"], max(first_end, new_end))
        # the timeline loads the new rows too
        self.assertEqual(spans_of(self.server, "rec", 1, 0, 2 ** 62), before + 50)

        db.execute("UPDATE meta SET value = 'complete' WHERE key = 'status'")
        db.commit()
        db.close()
        event, data = stream.next_event()
        self.assertEqual((event, data["status"]), ("update", "complete"))
        self.assertTrue(stream.ends())
        stream.close()

    def test_departed_clients_do_not_hold_weftd(self):
        streams = [EventStream(self.server.port, "/api/traces/rec/live") for _ in range(40)]
        for s in streams:
            self.assertEqual(s.next_event()[0], "update")
        for s in streams[:20]:
            s.close()
        time.sleep(0.6)
        # the server keeps answering while 20 streams are idle and 20 gone
        self.assertEqual(self.server.json("/api/traces")["traces"][0]["status"], "recording")
        # and stops cleanly (exit 0, checked in tearDown) with streams open
        for s in streams[20:]:
            s.close()


class GrowingInTheWal(unittest.TestCase):
    """A recording whose rows are still in its -wal (as weft record writes
    them until it checkpoints)."""

    def setUp(self):
        self.dir = tempdir()
        self.path = generate(os.path.join(self.dir, "rec.db"), 2000, 4, "--no-indexes",
                             "--status", "recording")
        self.recorder = hold_recording_lock(self.path)
        self.writer = sqlite3.connect(self.path)
        self.writer.execute("PRAGMA wal_autocheckpoint = 0")
        self.assertEqual(self.writer.execute("PRAGMA journal_mode").fetchone()[0], "wal")
        self.server = Weftd(self.path)

    def tearDown(self):
        self.writer.close()
        self.recorder.close()
        self.assertEqual(self.server.stop(), 0)
        cleanup(self.dir)

    def on_disk(self):
        return os.path.getsize(self.path) + os.path.getsize(self.path + "-wal")

    def test_updates_count_the_wal_and_say_something_new_each_time(self):
        stream = EventStream(self.server.port, "/api/traces/rec/live")
        try:
            _, first = stream.next_event()
            self.assertEqual(first["bytes"], self.on_disk())
            # rows that move neither the end nor the status, only the -wal
            self.writer.executemany("INSERT INTO object(kind, label) VALUES ('mutex', ?)",
                                    [("m%d" % i,) for i in range(200)])
            self.writer.commit()
            self.assertGreater(os.path.getsize(self.path + "-wal"), 0)
            _, second = stream.next_event()
            self.assertNotEqual(second, first)
            self.assertEqual(second["bytes"], self.on_disk())
        finally:
            stream.close()


class NoEventsYet(unittest.TestCase):
    def test_a_trace_with_no_events_yet_answers_an_empty_summary(self):
        d = tempdir()
        try:
            path = generate(os.path.join(d, "new.db"), 100, 1, "--status", "recording")
            db = sqlite3.connect(path)
            for table in ["thread_state", "process_state", "sched_slice", "flow", "object",
                          "thread", "process"]:
                db.execute("DELETE FROM %s" % table)
            db.execute("DELETE FROM meta WHERE key IN ('start_ts', 'end_ts')")
            db.commit()
            db.close()
            recorder = hold_recording_lock(path)
            self.addCleanup(recorder.close)
            with Weftd(path) as server:
                (trace,) = server.json("/api/traces")["traces"]
                self.assertEqual((trace["start_ts"], trace["end_ts"]), (0, 0))
                summary = server.json("/api/traces/new/summary?start=0&end=0")
                self.assertEqual((summary["threads"], summary["processes"],
                                  summary["contention"], summary["traffic"]), ([], [], [], []))
                # an inverted window is still refused
                self.assertEqual(server.request("/api/traces/new/summary?start=1&end=0")[0], 400)
        finally:
            cleanup(d)


class ServedDirectory(unittest.TestCase):
    def test_new_recordings_appear_in_the_list(self):
        d = tempdir()
        try:
            generate(os.path.join(d, "a.db"), 500, 2)
            with open(os.path.join(d, "notes.db"), "w") as f:
                f.write("not a trace")
            with Weftd(d) as server:
                self.assertEqual(server.count, 1)
                stream = EventStream(server.port, "/api/events")
                event, data = stream.next_event()
                self.assertEqual((event, data["count"]), ("traces", 1))
                staging = tempdir()
                generate(os.path.join(staging, "b.db"), 500, 2)
                shutil.move(os.path.join(staging, "b.db"), os.path.join(d, "b.db"))
                cleanup(staging)
                event, data = stream.next_event()
                self.assertEqual((event, data["count"]), ("traces", 2))
                traces = server.json("/api/traces")["traces"]
                ids = sorted(t["id"] for t in traces if t["status"] != "broken")
                self.assertEqual(ids, ["a", "b"])
                # the file that is not a trace is listed as such, not served
                self.assertEqual([(t["file"], t["id"]) for t in traces if t["status"] == "broken"],
                                 [("notes.db", None)])
                self.assertEqual(server.json("/api/traces/b")["id"], "b")
                stream.close()
                self.assertEqual(server.stop(signal.SIGINT), 0)
        finally:
            cleanup(d)


if __name__ == "__main__":
    unittest.main(verbosity=2)
