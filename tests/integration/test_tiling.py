"""Every workload the integration tests record, recorded again: the spans
of every thread tile [thread.start_ts, thread.end_ts) and the spans of
every process tile [process.start_ts, process.end_ts) - each span starts
where the previous one ended, the first at the start, the last ends at the
end, no negative durations, and nothing is missing."""

import unittest

from weftlib import TraceTest, workloads

# One row per violation: the thread, what is wrong, and the span.
THREAD_TILING_VIOLATIONS = """
WITH s AS (
  SELECT utid, ts, dur,
         LAG(ts + dur) OVER w AS prev_end,
         ROW_NUMBER() OVER w AS n,
         COUNT(*) OVER (PARTITION BY utid) AS spans
  FROM thread_state WINDOW w AS (PARTITION BY utid ORDER BY ts, ts + dur)
)
SELECT t.utid, t.name, 'first span does not start at start_ts' AS problem, s.ts, s.dur
  FROM s JOIN thread t USING (utid) WHERE s.n = 1 AND s.ts IS NOT t.start_ts
UNION ALL
SELECT t.utid, t.name, 'gap or overlap with the previous span', s.ts, s.dur
  FROM s JOIN thread t USING (utid) WHERE s.n > 1 AND s.ts != s.prev_end
UNION ALL
SELECT t.utid, t.name, 'last span does not end at end_ts', s.ts, s.dur
  FROM s JOIN thread t USING (utid) WHERE s.n = s.spans AND s.ts + s.dur IS NOT t.end_ts
UNION ALL
SELECT t.utid, t.name, 'negative duration', s.ts, s.dur
  FROM s JOIN thread t USING (utid) WHERE s.dur < 0
UNION ALL
SELECT t.utid, t.name, 'thread has no start_ts or end_ts', t.start_ts, t.end_ts
  FROM thread t WHERE t.start_ts IS NULL OR t.end_ts IS NULL
UNION ALL
SELECT t.utid, t.name, 'thread lived but has no span', t.start_ts, t.end_ts
  FROM thread t WHERE t.end_ts > t.start_ts
   AND NOT EXISTS (SELECT 1 FROM thread_state x WHERE x.utid = t.utid)
LIMIT 20
"""

PROCESS_TILING_VIOLATIONS = THREAD_TILING_VIOLATIONS \
    .replace("thread_state", "process_state") \
    .replace("utid", "upid") \
    .replace("JOIN thread t", "JOIN process t") \
    .replace("FROM thread t", "FROM process t") \
    .replace("'thread ", "'process ")


class Tiling(TraceTest):
    def check(self, name, argv):
        rec = self.record(argv, name=name)
        self.open_trace(rec.db)
        processes = self.query(rec.db, "SELECT COUNT(*) FROM process")[0][0]
        self.assertGreater(processes, 0, f"{name}: no process recorded")
        if name != "static":  # a static binary's threads are unknown
            threads = self.query(rec.db, "SELECT COUNT(*) FROM thread")[0][0]
            self.assertGreater(threads, 0, f"{name}: no thread recorded")
        bad = self.query(rec.db, THREAD_TILING_VIOLATIONS)
        self.assertEqual([tuple(r) for r in bad], [], f"{name}: thread spans do not tile")
        bad = self.query(rec.db, PROCESS_TILING_VIOLATIONS)
        self.assertEqual([tuple(r) for r in bad], [], f"{name}: process spans do not tile")


def _add_tests():
    """One test per workload; each makes its data files in its own
    directory."""
    for name in workloads("/nonexistent", make_files=False):
        def test(self, name=name):
            self.check(name, workloads(self.tmp)[name])
        test.__name__ = "test_spans_tile_" + name.replace("-", "_")
        setattr(Tiling, test.__name__, test)


_add_tests()

if __name__ == "__main__":
    unittest.main()
