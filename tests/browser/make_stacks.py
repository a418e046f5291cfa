#!/usr/bin/env python3
"""Writes the story trace of make_trace.py with the stack tables of schema
v1 (stack_module, stack_frame, stack_callsite, thread_state.callsite_id and
waker_callsite_id, object.callsite_id, the blocked_by_callsite view and the
'stacks' meta keys), as `weft record --stacks=full` writes them, for the
tests of the stack and flame routes and the dashboard.

The stacks (cashier's threads share the prefix start_thread > customer):
  customer-b's Blocked on the mutex:
      start_thread > customer > IMG > pay > pthread_mutex_lock
    (IMG: a function named with markup, which must stay text), woken by
    customer-a's  start_thread > customer > release > pthread_mutex_unlock;
  customer-a first waits for the same mutex (a 100 us Blocked span at the
    start of its first slice) at  start_thread > customer > pay >
    pthread_mutex_lock: the holder's acquire shown beside b's wait;
  cashier's join:  __libc_start_call_main > main > pthread_join (no waker
    stack);
  grep's four reads: a stack cut at 32 frames ('[truncated]' outermost,
    then 29 x recurse) ending in fill_buffer > read (2 waits) or in
    fill_buffer > an unknown frame (module, function, file NULL; 2 waits);
  sh's first wait: __libc_start_call_main > main > waitpid with no file;
  sh's last wait has no stack at all (callsite_id NULL).

Usage: make_stacks.py OUT.db [--hostile]
"""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_trace  # noqa: E402
from make_trace import MS, T0, US  # noqa: E402

IMG = make_trace.IMG

CONTRACT = """
CREATE TABLE IF NOT EXISTS stack_module (
    module_id INTEGER PRIMARY KEY, upid INTEGER REFERENCES process(upid),
    path TEXT NOT NULL, build_id TEXT, start INTEGER NOT NULL, end INTEGER NOT NULL,
    ts INTEGER);
CREATE TABLE IF NOT EXISTS stack_frame (
    frame_id INTEGER PRIMARY KEY, module_id INTEGER REFERENCES stack_module(module_id),
    rel_pc INTEGER NOT NULL, function TEXT, file TEXT, line INTEGER);
CREATE TABLE IF NOT EXISTS stack_callsite (
    callsite_id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES stack_callsite(callsite_id),
    frame_id INTEGER NOT NULL REFERENCES stack_frame(frame_id), depth INTEGER NOT NULL);
"""

VIEW = """
CREATE VIEW IF NOT EXISTS blocked_by_callsite AS
SELECT callsite_id, COUNT(*) AS waits, SUM(dur) AS blocked_ns FROM thread_state
WHERE state = 'Blocked' AND callsite_id IS NOT NULL GROUP BY callsite_id;
"""

MODULES = [  # module_id upid path build_id start end
    (1, 4, "/usr/local/bin/cashier", "5f1e0c0ffee0", 0x555500000000, 0x555500004000),
    (2, 4, "/usr/lib/x86_64-linux-gnu/libc.so.6", "a1b2c3d4", 0x7f0000000000, 0x7f00001d0000),
    (3, 3, "/usr/bin/grep", None, 0x555600000000, 0x555600040000),
    (4, 3, "/usr/lib/x86_64-linux-gnu/libc.so.6", "a1b2c3d4", 0x7f1000000000, 0x7f10001d0000),
    (5, 1, "/usr/bin/dash", None, 0x555700000000, 0x555700020000),
    (6, 1, "/usr/lib/x86_64-linux-gnu/libc.so.6", "a1b2c3d4", 0x7f2000000000, 0x7f20001d0000),
]
FRAMES = [  # frame_id module_id rel_pc function file line
    (1, 2, 0x891c4, "start_thread", None, None),
    (2, 1, 0x1310, "customer", "cashier.c", 22),
    (3, 1, 0x1388, IMG, "cashier.c", 27),
    (4, 1, 0x1402, "pay", "cashier.c", 31),
    (5, 2, 0x8c0a0, "pthread_mutex_lock", None, None),
    (6, 1, 0x14a0, "release", "cashier.c", 40),
    (7, 2, 0x8d1f0, "pthread_mutex_unlock", None, None),
    (8, 2, 0x271ca, "__libc_start_call_main", None, None),
    (9, 1, 0x1500, "main", "cashier.c", 58),
    (10, 2, 0x8a230, "pthread_join", None, None),
    (11, None, 0, "[truncated]", None, None),
    (12, 3, 0x2a10, "recurse", "grep.c", 101),
    (13, 3, 0x2b40, "fill_buffer", "grep.c", 212),
    (14, 4, 0x114f00, "read", None, None),
    (15, None, 0x7fdeadbeef, None, None, None),
    (16, 6, 0x271ca, "__libc_start_call_main", None, None),
    (17, 5, 0x3f00, "main", None, None),
    (18, 6, 0xea3c0, "waitpid", None, None),
]
B_WAIT, A_ACQUIRE, A_RELEASE, JOIN, READ, UNKNOWN, SH_WAIT = 5, 7, 9, 12, 45, 46, 49


def callsites():
    """The prefix tree; returns rows (callsite_id, parent_id, frame_id, depth)."""
    rows = [(1, None, 1, 0), (2, 1, 2, 1), (3, 2, 3, 2), (4, 3, 4, 3), (5, 4, 5, 4),
            (6, 2, 4, 2), (7, 6, 5, 3), (8, 2, 6, 2), (9, 8, 7, 3),
            (10, None, 8, 0), (11, 10, 9, 1), (12, 11, 10, 2),
            (13, None, 11, 0)]
    parent = 13
    for depth in range(1, 30):  # 29 x recurse
        rows.append((13 + depth, parent, 12, depth))
        parent = 13 + depth
    assert parent == 42
    rows += [(43, 42, 13, 30), (45, 43, 14, 31), (46, 43, 15, 31),
             (47, None, 16, 0), (48, 47, 17, 1), (49, 48, 18, 2)]
    return rows


def add_stacks(path):
    db = sqlite3.connect(path)
    cols = {r[1] for r in db.execute("PRAGMA table_info(thread_state)")}
    db.executescript(CONTRACT)
    if "callsite_id" not in cols:
        db.execute("ALTER TABLE thread_state ADD COLUMN callsite_id INTEGER")
        db.execute("ALTER TABLE thread_state ADD COLUMN waker_callsite_id INTEGER")
    if "callsite_id" not in {r[1] for r in db.execute("PRAGMA table_info(object)")}:
        db.execute("ALTER TABLE object ADD COLUMN callsite_id INTEGER")
    db.executescript(VIEW)
    db.executemany("INSERT INTO stack_module VALUES (?,?,?,?,?,?,?)",
                   [m + (T0,) for m in MODULES])
    db.executemany("INSERT INTO stack_frame VALUES (?,?,?,?,?,?)", FRAMES)
    db.executemany("INSERT INTO stack_callsite VALUES (?,?,?,?)", callsites())

    # customer-a (utid 5) waits 100 us for the mutex at the start of its
    # first slice: the holder's acquire.
    ts, dur = db.execute("SELECT ts, dur FROM thread_state WHERE utid = 5 AND "
                         "state = 'Running' ORDER BY ts LIMIT 1").fetchone()
    db.execute("UPDATE thread_state SET ts = ?, dur = ? WHERE utid = 5 AND ts = ?",
               (ts + 100 * US, dur - 100 * US, ts))
    db.execute("INSERT INTO thread_state (utid, ts, dur, state, reason, object_id, callsite_id)"
               " VALUES (5, ?, ?, 'Blocked', 'mutex', 2, ?)", (ts, 100 * US, A_ACQUIRE))
    db.execute("UPDATE sched_slice SET ts = ?, dur = ? WHERE utid = 5 AND ts = ?",
               (ts + 100 * US, dur - 100 * US, ts))
    db.execute("UPDATE thread_state SET callsite_id = ?, waker_callsite_id = ? "
               "WHERE utid = 6 AND state = 'Blocked'", (B_WAIT, A_RELEASE))
    db.execute("UPDATE thread_state SET callsite_id = ? WHERE utid = 4 AND state = 'Blocked'",
               (JOIN,))
    reads = [r[0] for r in db.execute("SELECT ts FROM thread_state WHERE utid = 3 AND "
                                      "state = 'Blocked' ORDER BY ts")]
    for i, t in enumerate(reads):
        db.execute("UPDATE thread_state SET callsite_id = ? WHERE utid = 3 AND ts = ?",
                   (READ if i % 2 == 0 else UNKNOWN, t))
    first = db.execute("SELECT MIN(ts) FROM thread_state WHERE utid = 1 AND "
                       "state = 'Blocked'").fetchone()[0]
    db.execute("UPDATE thread_state SET callsite_id = ? WHERE utid = 1 AND ts = ?",
               (SH_WAIT, first))
    db.execute("UPDATE object SET callsite_id = ?, label = 'queue_lock' WHERE object_id = 2",
               (A_ACQUIRE,))
    db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                   [("stacks", "full"), ("stacks_truncated", str(len(reads)))])
    db.commit()
    db.close()


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    make_trace.story(sys.argv[1], "complete")
    if "--hostile" in sys.argv[2:]:
        make_trace.hostile(sys.argv[1])
    add_stacks(sys.argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
