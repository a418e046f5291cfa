"""Shared helpers for weft's integration tests.

Every test records a real program with the real `weft record` (or with
libweft.so preloaded by hand) into a SQLite file in a temporary directory of
its own, then asserts with SQL on that file. Paths of the built tools come
from the environment that tests.cmake sets:

  WEFT_BIN        the `weft` CLI
  WEFT_LIBWEFT    libweft.so
  WEFT_BIN_DIR    the build's bin/ (demo workloads weft-demo-*, test
                  programs weft-itest-*)

Set WEFT_KEEP_TRACES=1 to keep each test's directory (its path is printed).

WORKLOADS names the programs the tests record; test_tiling.py records each
of them again and checks that the spans of every thread and process tile
their lives.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import unittest

WEFT = os.environ.get("WEFT_BIN", "")
LIBWEFT = os.environ.get("WEFT_LIBWEFT", "")
BIN_DIR = os.environ.get("WEFT_BIN_DIR", "")
TIMEOUT = 120  # seconds for one recording; none of the workloads needs 5

MS = 1_000_000  # nanoseconds

# A python program with 4 threads sharing one threading.Lock (a sem_t in
# CPython). Each thread sleeps while holding the lock, so the others block
# on it for certain.
PY_LOCK_THREADS = textwrap.dedent("""
    import threading, time
    lock = threading.Lock()
    total = [0]
    def work(n):
        for i in range(8):
            with lock:
                total[0] += n
                time.sleep(0.004)
    threads = [threading.Thread(target=work, args=(k,), name=f"worker-{k}")
               for k in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("total", total[0])
""")

# A python program that embeds SQLite (the module links libsqlite3).
PY_SQLITE = textwrap.dedent("""
    import sqlite3, sys, threading
    db = sqlite3.connect(sys.argv[1], check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)")
    lock = threading.Lock()
    def fill(base):
        for i in range(200):
            with lock:
                db.execute("INSERT INTO t VALUES (?, ?)", (base + i, str(i)))
    ts = [threading.Thread(target=fill, args=(k * 1000,)) for k in range(2)]
    for t in ts: t.start()
    for t in ts: t.join()
    db.commit()
    print(db.execute("SELECT COUNT(*), SUM(k) FROM t").fetchone())
""")


def demo(name):
    """Path of the demo workload weft-demo-NAME."""
    return os.path.join(BIN_DIR, "weft-demo-" + name)


def prog(name):
    """Path of the integration test program weft-itest-NAME."""
    return os.path.join(BIN_DIR, "weft-itest-" + name)


def make_text_file(path, megabytes):
    """Writes a deterministic text file of about `megabytes` MB: lines of
    three pseudo-random words, many repeated (sortable, compressible)."""
    import random
    rnd = random.Random(1234)
    words = ["".join(rnd.choice("abcdefghijklmnopqrstuvwxyz")
                     for _ in range(rnd.randint(3, 9))) for _ in range(5000)]
    target = megabytes * 1_000_000
    with open(path, "w") as f:
        written = 0
        while written < target:
            line = " ".join(rnd.choice(words) for _ in range(3)) + "\n"
            f.write(line)
            written += len(line)


def workloads(tmp, make_files=True):
    """The programs the integration tests record: name -> argv. Files they
    need are made in `tmp` (unless make_files is false)."""
    data = os.path.join(tmp, "data.txt")
    if make_files and not os.path.exists(data):
        make_text_file(data, 4)
    return {
        "sh-ls-grep": ["sh", "-c", "ls -R /usr | grep -c a"],
        "exit-3": ["sh", "-c", "exit 3"],
        "shell-loop": ["sh", "-c", "i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done"],
        "killself": [prog("killself")],
        "xz": ["xz", "-T2", "-1", "--block-size=1MiB", "-c", data],
        "sort": ["sort", "--parallel=2", data],
        "python-lock": [sys.executable, "-c", PY_LOCK_THREADS],
        "python-sqlite": [sys.executable, "-c", PY_SQLITE,
                          os.path.join(tmp, "app.db")],
        "closefds": [prog("closefds")],
        "forknoexec": [prog("forknoexec")],
        "static": [prog("static")],
        "lockhold": [demo("lockhold"), "200"],
        "cashiers-1": [demo("cashiers"), "--cashiers", "1"],
        "cashiers-2": [demo("cashiers"), "--cashiers", "2"],
        "waiter": [demo("waiter")],
        "prodcons": [demo("prodcons")],
        "pipeline": [demo("pipeline")],
        "family": [demo("family")],
        "deadlock": [demo("deadlock")],
    }


class Recording:
    """The result of one `weft record`: the trace's path, the recorder's
    exit status and what the workload printed."""

    def __init__(self, db, proc):
        self.db = db
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr


class TraceTest(unittest.TestCase):
    """Base class: a fresh temporary directory per test and helpers to
    record, run untraced and query."""

    def setUp(self):
        self.assertTrue(WEFT and os.access(WEFT, os.X_OK),
                        f"the weft CLI is not built (WEFT_BIN={WEFT!r})")
        self.tmp = tempfile.mkdtemp(prefix="weft-it-")
        if os.environ.get("WEFT_KEEP_TRACES"):
            print(f"\n{self.id()}: traces kept in {self.tmp}", file=sys.stderr)
        else:
            self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def record(self, argv, name="trace", env=None, stdin_data=None):
        """Runs `weft record -o TMP/NAME.db -- argv` and returns a
        Recording. Fails the test if the recorder does not finish."""
        db = os.path.join(self.tmp, name + ".db")
        proc = subprocess.run([WEFT, "record", "-o", db, "--", *argv],
                              input=stdin_data, capture_output=True,
                              env=env, timeout=TIMEOUT, cwd=self.tmp)
        return Recording(db, proc)

    def run_untraced(self, argv, env=None, stdin_data=None):
        return subprocess.run(argv, input=stdin_data, capture_output=True,
                              env=env, timeout=TIMEOUT, cwd=self.tmp)

    def open_trace(self, db):
        """Opens a trace for reading; fails the test if it does not exist
        (sqlite3 would otherwise create an empty file)."""
        self.assertTrue(os.path.isfile(db) and os.path.getsize(db) > 0,
                        f"no trace was written at {db}")
        con = sqlite3.connect(db)
        self.addCleanup(con.close)
        return con

    def query(self, db, sql, params=()):
        """All rows of `sql` on the trace `db`, as sqlite3.Row objects."""
        con = self.open_trace(db)
        con.row_factory = sqlite3.Row
        return con.execute(sql, params).fetchall()

    def assert_recorded_ok(self, rec, expected_status=0):
        self.assertEqual(rec.returncode, expected_status,
                         f"weft record exited {rec.returncode}; stderr:\n"
                         + rec.stderr.decode(errors="replace"))
        self.open_trace(rec.db)

    def thread_by_name(self, db, name):
        rows = self.query(db, "SELECT * FROM thread WHERE name = ?", (name,))
        self.assertEqual(len(rows), 1, f"expected one thread named {name!r}; "
                         f"threads: {self.query(db, 'SELECT utid, tid, name FROM thread')}")
        return rows[0]
