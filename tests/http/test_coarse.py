"""A fresh weftd on a big trace: before it has read the trace's spans, a
zoomed-out timeline comes from the summary the trace carries
(track_overview), marked "coarse", and shows every thread, process and CPU
with its time per state; once the spans are read, the same window is exact.
Finer windows, binary answers, small traces and traces without a summary
wait for the spans, as they always did.

weftd's first loads are held back with WEFTD_HOLD_LOADS (they wait until a
file exists), so "before the load" is a state the test sets up, not a race
it hopes to win."""
import os
import sqlite3
import threading
import time
import unittest
import urllib.parse

from weftd_harness import Weftd, cleanup, generate, tempdir

STATES = ["New", "Running", "Ready", "Blocked", "Waiting", "Suspended", "Terminated"]
SPANS = 600000  # above weftd's TRACE_COARSE_MIN_SPANS (500,000)


def setUpModule():
    global DIR, BIG, SMALL, PLAIN
    DIR = tempdir()
    BIG = generate(os.path.join(DIR, "big.db"), SPANS, 40)
    SMALL = generate(os.path.join(DIR, "small.db"), 20000, 8)
    PLAIN = generate(os.path.join(DIR, "plain.db"), SPANS, 40, "--no-overview")


def tearDownModule():
    cleanup(DIR)


class Held:
    """weftd serving one trace, its first load held until release()."""

    def __init__(self, path):
        self.gate = path + ".go"
        if os.path.exists(self.gate):
            os.unlink(self.gate)
        self.id = os.path.basename(path)[:-3]
        self.server = Weftd(path, env={"WEFTD_HOLD_LOADS": self.gate})

    def release(self):
        open(self.gate, "w").close()

    def timeline(self, **params):
        return self.server.json("/api/traces/%s/timeline?%s" % (self.id, urllib.parse.urlencode(params)))

    def exact(self, **params):
        """The answer once weftd has read the spans (asks until it is exact)."""
        for _ in range(600):
            tl = self.timeline(**params)
            if not tl["coarse"]:
                return tl
            time.sleep(0.1)
        raise AssertionError("weftd never answered exactly")

    def in_background(self, path):
        """Requests path in a thread; returns (thread, result dict)."""
        out = {}

        def run():
            out["answer"] = self.server.request(path)

        th = threading.Thread(target=run)
        th.start()
        return th, out

    def stop(self):
        self.release()
        self.server.stop()


def time_per_state(entries):
    """ns per state index in a thread/process answer: a run by its mix, a span whole."""
    ns = [0] * 7
    for e in entries:
        if len(e) > 6:
            for s, v in enumerate(e[6]):
                ns[s] += v
        else:
            ns[e[2]] += e[1]
    return ns


class BeforeTheSpansAreRead(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = sqlite3.connect("file:%s?mode=ro" % BIG, uri=True)
        cls.start, cls.end = cls.db.execute(
            "SELECT min(ts), max(ts + dur) FROM thread_state").fetchone()
        cls.weftd = Held(BIG)

    @classmethod
    def tearDownClass(cls):
        cls.weftd.stop()
        cls.db.close()

    def q(self, sql, *args):
        return self.db.execute(sql, args).fetchall()

    def test_1_a_zoomed_out_window_shows_every_thread_from_the_summary(self):
        px = 1000
        tl = self.weftd.timeline(start=self.start, end=self.end, px=px)
        self.assertIs(tl["coarse"], True)
        threads = self.q("SELECT utid, min(ts), max(ts + dur), count(*) FROM thread_state GROUP BY utid")
        self.assertEqual(set(tl["threads"]), {str(u) for u, *_ in threads})
        per_state = {}
        for utid, state, ns in self.q("SELECT utid, state, sum(dur) FROM thread_state GROUP BY 1, 2"):
            per_state.setdefault(utid, [0] * 7)[STATES.index(state)] = ns
        ns_per_px = (self.end - self.start) // px
        for utid, first, last, count in threads:
            entries = tl["threads"][str(utid)]
            # drawn from its first span to its last, without holes
            self.assertLessEqual(entries[0][0], first)
            self.assertGreaterEqual(entries[-1][0] + entries[-1][1], last)
            for a, b in zip(entries, entries[1:]):
                self.assertLessEqual(a[0] + a[1], b[0])
                self.assertLess(b[0] - (a[0] + a[1]), ns_per_px)
            self.assertLessEqual(len(entries), 2 * px + 4)
            # its time in each state, as the spans say, to 1%
            got, want = time_per_state(entries), per_state[utid]
            for s in range(7):
                self.assertLessEqual(abs(got[s] - want[s]), 0.01 * (last - first),
                                     "thread %d, %s: %d vs %d" % (utid, STATES[s], got[s], want[s]))
            # about as many spans as it has
            self.assertLess(abs(sum(e[5] for e in entries) - count), 0.02 * count)
            for e in entries:
                if len(e) > 6:  # a run: its state is the one with the most time
                    self.assertEqual(e[2], e[6].index(max(e[6])))
        self.assertTrue(tl["processes"])

    def test_2_a_wait_of_a_pixel_or_more_is_shown_exactly(self):
        # the deadlocked pair's last wait (5 s): one exact span, with its reason and object
        rows = self.q("SELECT utid, ts, dur, reason, object_id FROM thread_state "
                      "WHERE dur >= 5000000000 AND state = 'Blocked'")
        self.assertTrue(rows)
        tl = self.weftd.timeline(start=self.start, end=self.end, px=1000,
                                 utids=",".join(str(r[0]) for r in rows), upids=-1, cpus=-1)
        self.assertIs(tl["coarse"], True)
        reasons = self.weftd.server.json("/api/traces/big")["reasons"]
        for utid, ts, dur, reason, obj in rows:
            exact = [e for e in tl["threads"][str(utid)] if len(e) == 6 and e[0] == ts]
            self.assertEqual(exact, [[ts, dur, STATES.index("Blocked"), reasons.index(reason), obj, 1]])

    def test_3_cpu_lanes_name_threads_that_ran_there(self):
        ran = {}
        for cpu, utid in self.q("SELECT DISTINCT cpu, utid FROM sched_slice"):
            ran.setdefault(cpu, set()).add(utid)
        tl = self.weftd.timeline(start=self.start, end=self.end, px=1000, utids=-1, upids=-1,
                                 cpus=",".join(str(c) for c in ran))
        self.assertIs(tl["coarse"], True)
        self.assertEqual(set(tl["cpus"]), {str(c) for c in ran})
        counts = dict(self.q("SELECT cpu, count(*) FROM sched_slice GROUP BY cpu"))
        for cpu, entries in tl["cpus"].items():
            self.assertTrue(entries)
            self.assertTrue({e[2] for e in entries} <= ran[int(cpu)])
            self.assertLess(abs(sum(e[4] for e in entries) - counts[int(cpu)]), 0.02 * counts[int(cpu)])

    def test_4_finer_and_binary_answers_wait_for_the_spans_then_all_are_exact(self):
        utid, ts = self.q("SELECT utid, ts FROM thread_state ORDER BY utid, ts LIMIT 1 OFFSET 5000")[0]
        fine = dict(start=ts, end=ts + 200000, px=1000, utids=utid)
        base = "/api/traces/big/timeline?"
        waiting = [self.weftd.in_background(base + urllib.parse.urlencode(fine)),
                   self.weftd.in_background(base + urllib.parse.urlencode(
                       dict(start=self.start, end=self.end, px=1000, format="bin")))]
        for th, out in waiting:
            th.join(1.0)
            self.assertNotIn("answer", out, "answered before weftd read the spans")
        self.weftd.release()
        for th, out in waiting:
            th.join(60)
            self.assertEqual(out["answer"][0], 200)
        fine_answer = self.weftd.timeline(**fine)
        self.assertIs(fine_answer["coarse"], False)
        rows = self.q("SELECT ts, dur FROM thread_state WHERE utid = ? AND ts < ? AND ts + dur > ? "
                      "ORDER BY ts", utid, ts + 200000, ts)
        self.assertEqual([(e[0], e[1]) for e in fine_answer["threads"][str(utid)]],
                         [tuple(r) for r in rows])
        # the zoomed-out window, now exact: every span accounted for
        tl = self.weftd.exact(start=self.start, end=self.end, px=1000)
        counts = dict(self.q("SELECT utid, count(*) FROM thread_state GROUP BY utid"))
        for u, entries in tl["threads"].items():
            self.assertEqual(sum(e[5] for e in entries), counts[int(u)])


class WithoutASummary(unittest.TestCase):
    def check_waits(self, path):
        weftd = Held(path)
        try:
            tid = os.path.basename(path)[:-3]
            db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
            start, end = db.execute("SELECT min(ts), max(ts + dur) FROM thread_state").fetchone()
            db.close()
            th, out = weftd.in_background("/api/traces/%s/timeline?start=%d&end=%d&px=1000"
                                          % (tid, start, end))
            th.join(1.0)
            self.assertNotIn("answer", out, "answered before weftd read the spans")
            weftd.release()
            th.join(60)
            self.assertEqual(out["answer"][0], 200)
            self.assertIn(b'"coarse":false', out["answer"][2][:200])
        finally:
            weftd.stop()

    def test_a_trace_written_without_one_waits_for_its_spans(self):
        self.check_waits(PLAIN)

    def test_a_small_trace_waits_for_its_spans(self):
        self.check_waits(SMALL)


if __name__ == "__main__":
    unittest.main(verbosity=2)
