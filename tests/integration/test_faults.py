"""The recorder under faults and against a careless command line: what
`weft record` replaces with --force, a trace that is one file when the
recording is over, and a recorder that dies, a disk that fills, a ring
the workload scribbles over."""

import glob
import os
import signal
import shutil
import sqlite3
import stat
import sys
import subprocess
import time
import unittest

from weftlib import LIBWEFT, PY_LOCK_THREADS, WEFT, TIMEOUT, TraceTest, demo, prog


class ForceReplacesOnlyTraces(TraceTest):
    """--force replaces a finished weft trace and nothing else: every
    other kind of path gets a clear error and stays as it was."""

    def force_record(self, path):
        return subprocess.run([WEFT, "record", "-q", "--force", "-o", path, "--", "true"],
                              capture_output=True, timeout=TIMEOUT, cwd=self.tmp)

    def assert_refused(self, proc, path):
        self.assertNotEqual(proc.returncode, 0)
        err = proc.stderr.decode()
        self.assertIn("not replacing", err)
        self.assertIn(os.path.basename(path), err)

    def test_a_finished_trace_is_replaced(self):
        db = os.path.join(self.tmp, "run.db")
        first = self.record(["sh", "-c", "exit 3"], name="run")
        self.assertEqual(first.returncode, 3)
        proc = self.force_record(db)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        rows = self.query(db, "SELECT value FROM meta WHERE key = 'exit_status'")
        self.assertEqual(rows[0][0], "0")

    def test_a_file_that_is_not_a_trace_is_kept(self):
        path = os.path.join(self.tmp, "main.c")
        with open(path, "w") as f:
            f.write("int main(void) { return 0; }\n")
        self.assert_refused(self.force_record(path), path)
        with open(path) as f:
            self.assertEqual(f.read(), "int main(void) { return 0; }\n")

    def test_another_sqlite_database_is_kept(self):
        path = os.path.join(self.tmp, "app.db")
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE t(x)")
        con.execute("INSERT INTO t VALUES (42)")
        con.commit()
        con.close()
        self.assert_refused(self.force_record(path), path)
        self.assertEqual(self.query(path, "SELECT x FROM t")[0][0], 42)

    def test_a_fifo_and_a_device_node_are_kept(self):
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo)
        self.assert_refused(self.force_record(fifo), fifo)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))
        if os.geteuid() == 0:
            node = os.path.join(self.tmp, "null")
            os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
            self.assert_refused(self.force_record(node), node)
            self.assertTrue(stat.S_ISCHR(os.lstat(node).st_mode))

    def test_a_directory_and_a_symlink_are_kept(self):
        directory = os.path.join(self.tmp, "dir.db")
        os.mkdir(directory)
        self.assert_refused(self.force_record(directory), directory)
        self.assertTrue(os.path.isdir(directory))
        rec = self.record(["true"], name="target")
        link = os.path.join(self.tmp, "link.db")
        os.symlink(rec.db, link)
        self.assert_refused(self.force_record(link), link)
        self.assertTrue(os.path.islink(link))
        self.assertEqual(self.query(rec.db, "SELECT count(*) FROM process")[0][0], 1)

    def test_a_trace_being_recorded_is_kept(self):
        db = os.path.join(self.tmp, "live.db")
        go = os.path.join(self.tmp, "go")
        live = subprocess.Popen(
            [WEFT, "record", "-q", "-o", db, "--", "sh", "-c",
             f"while [ ! -e {go} ]; do sleep 0.01; done; exit 5"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.tmp)
        try:
            while not os.path.exists(db):
                time.sleep(0.01)
            proc = self.force_record(db)
            self.assert_refused(proc, db)
            self.assertIn("being recorded", proc.stderr.decode())
        finally:
            open(go, "w").close()
            live.wait(timeout=TIMEOUT)
        self.assertEqual(live.returncode, 5)
        rows = self.query(db, "SELECT value FROM meta WHERE key IN ('status', 'exit_status') "
                              "ORDER BY key")
        self.assertEqual([r[0] for r in rows], ["5", "complete"])

    def test_an_unwritable_output_is_refused_before_the_command_runs(self):
        marker = os.path.join(self.tmp, "ran")
        out = os.path.join(self.tmp, "no-such-dir", "run.db")
        proc = subprocess.run([WEFT, "record", "-q", "-o", out, "--", "touch", marker],
                              capture_output=True, timeout=TIMEOUT, cwd=self.tmp)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("run.db", proc.stderr.decode())
        self.assertFalse(os.path.exists(marker))


TABLES = ["meta", "process", "thread", "thread_state", "process_state", "flow", "object"]


class FinishedTraceIsOneFile(TraceTest):
    """When the recording is over the trace is its .db file alone: no
    -wal or -shm beside it, and a copy of the .db has every row."""

    def counts(self, db):
        return {t: self.query(db, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}

    def copy_alone(self, db):
        elsewhere = os.path.join(self.tmp, "elsewhere")
        os.mkdir(elsewhere)
        copy = os.path.join(elsewhere, "copy.db")
        shutil.copyfile(db, copy)
        return copy

    def test_no_wal_is_left_and_the_db_alone_has_every_row(self):
        rec = self.record([demo("prodcons")])
        self.assert_recorded_ok(rec)
        self.assertFalse(os.path.exists(rec.db + "-wal"))
        self.assertFalse(os.path.exists(rec.db + "-shm"))
        copy = self.copy_alone(rec.db)
        self.assertEqual(self.query(copy, "PRAGMA journal_mode")[0][0], "delete")
        original = self.counts(rec.db)
        self.assertGreater(original["thread_state"], 0)
        self.assertEqual(self.counts(copy), original)

    def test_a_reader_during_the_recording_does_not_keep_a_wal(self):
        db = os.path.join(self.tmp, "read.db")
        go = os.path.join(self.tmp, "go")
        live = subprocess.Popen(
            [WEFT, "record", "-o", db, "--", "sh", "-c",
             f"{demo('prodcons')}; while [ ! -e {go} ]; do sleep 0.01; done"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.tmp)
        reader = None
        try:
            while reader is None:
                try:
                    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
                    reader.execute("SELECT count(*) FROM meta").fetchall()
                except sqlite3.Error:
                    reader = None
                    time.sleep(0.01)
            open(go, "w").close()
            _, err = live.communicate(timeout=TIMEOUT)
            self.assertEqual(live.returncode, 0, err.decode())
            self.assertFalse(os.path.exists(db + "-wal"))
            self.assertFalse(os.path.exists(db + "-shm"))
            copy = self.copy_alone(db)
            self.assertEqual(self.query(copy, "PRAGMA journal_mode")[0][0], "delete")
            self.assertEqual(self.counts(copy), self.counts(db))
            # the reader still reads the trace it had open
            self.assertEqual(reader.execute("SELECT count(*) FROM process").fetchone()[0],
                             self.counts(db)["process"])
        finally:
            if reader is not None:
                reader.close()
            if live.poll() is None:
                open(go, "w").close()
                live.wait(timeout=TIMEOUT)


class QueryHoldsAgainstTheTrace(TraceTest):
    """`weft query` on hostile traces and hostile SQL: constant memory,
    regular files only, read-only, terminal-safe output."""

    def setUp(self):
        super().setUp()
        rec = self.record(["sh", "-c", "exit 0"])
        self.assert_recorded_ok(rec)
        self.db = rec.db

    def weft_query(self, *args, stdout=subprocess.PIPE):
        return subprocess.run([WEFT, "query", *args], stdout=stdout,
                              stderr=subprocess.PIPE, timeout=TIMEOUT, cwd=self.tmp)

    def test_three_million_rows_stream_in_constant_memory(self):
        sql = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
               "WHERE x < 3000000) SELECT x, 'name-' || x AS name FROM c")
        out_path = os.path.join(self.tmp, "rows.csv")
        with open(out_path, "wb") as out:
            proc = subprocess.Popen([WEFT, "query", self.db, sql, "--csv"], stdout=out,
                                    stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        self.assertEqual(proc.returncode, 0)
        with open(out_path, "rb") as f:
            lines = sum(1 for _ in f)
        self.assertEqual(lines, 3_000_001)
        self.assertLess(usage.ru_maxrss, 50 * 1024, "max RSS in KiB")

    def test_only_a_regular_file_is_opened(self):
        fifo = os.path.join(self.tmp, "fifo.db")
        os.mkfifo(fifo)
        for path in (fifo, self.tmp, "/dev/null"):
            proc = self.weft_query(path, "SELECT 1")
            self.assertNotEqual(proc.returncode, 0, path)
            self.assertIn(path, proc.stderr.decode())
            self.assertEqual(proc.stdout, b"")

    def test_writes_attach_and_vacuum_into_are_refused(self):
        made = os.path.join(self.tmp, "made.db")
        for sql in (f"VACUUM INTO '{made}'", f"ATTACH '{made}' AS other",
                    "DELETE FROM process", "CREATE TABLE t(x)", "PRAGMA journal_mode=WAL",
                    "PRAGMA writable_schema=ON", "SELECT 1; DROP TABLE meta"):
            proc = self.weft_query(self.db, sql)
            self.assertNotEqual(proc.returncode, 0, sql)
            self.assertFalse(os.path.exists(made), sql)
        self.assertEqual(self.query(self.db, "SELECT count(*) FROM process")[0][0], 1)
        self.assertEqual(self.query(self.db, "SELECT count(*) FROM sqlite_master "
                                             "WHERE name = 't'")[0][0], 0)

    def test_a_trace_on_a_read_only_mount_is_read(self):
        # A trace left in WAL mode (a reader held it when the recording
        # ended) cannot be opened read-only by SQLite without its -shm.
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("PRAGMA journal_mode=WAL").fetchone()[0], "wal")
        con.close()
        mount = os.path.join(self.tmp, "ro")
        os.mkdir(mount)
        if os.geteuid() == 0:
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mount],
                           check=True)
            self.addCleanup(subprocess.run, ["umount", "-l", mount])
            shutil.copy(self.db, mount)
            subprocess.run(["mount", "-o", "remount,ro", mount], check=True)
        else:
            shutil.copy(self.db, mount)
            os.chmod(mount, 0o555)
            self.addCleanup(os.chmod, mount, 0o755)
        copy = os.path.join(mount, os.path.basename(self.db))
        proc = self.weft_query(copy, "SELECT count(*) FROM process", "--csv")
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout, b"count(*)\r\n1\r\n")

    HOSTILE = "SELECT 'a' || char(0) || 'b' || char(27) || '[2J' || char(8238) || 'c' AS x"

    def test_control_bytes_are_escaped_on_a_terminal(self):
        import pty
        master, slave = pty.openpty()
        try:
            proc = subprocess.run([WEFT, "query", self.db, self.HOSTILE], stdout=slave,
                                  stderr=subprocess.PIPE, timeout=TIMEOUT)
            os.close(slave)
            slave = -1
            out = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        finally:
            os.close(master)
            if slave >= 0:
                os.close(slave)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertIn(b"a\\0b\\x1b[2J\\u202ec", out)
        self.assertNotIn(b"\x1b", out)
        self.assertNotIn(b"\x00", out)

    def test_csv_and_json_stay_exact(self):
        csv = self.weft_query(self.db, self.HOSTILE, "--csv")
        self.assertEqual(csv.stdout, b"x\r\na\x00b\x1b[2J\xe2\x80\xaec\r\n")
        js = self.weft_query(self.db, self.HOSTILE, "--json")
        import json
        self.assertEqual(json.loads(js.stdout), [{"x": "a\x00b\x1b[2J\u202ec"}])


class ScribbledRing(TraceTest):
    """A program that writes garbage over its own shared-memory ring costs
    its own events, counted, and never the recorder."""

    def test_the_recorder_survives_and_counts_the_corrupt_ring(self):
        rec = self.record([prog("scribble")])
        self.assert_recorded_ok(rec)
        self.assertEqual(rec.stdout, b"done\n")
        meta = dict(self.query(rec.db, "SELECT key, value FROM meta"))
        self.assertEqual(meta["status"], "complete")
        self.assertGreaterEqual(int(meta.get("rings_corrupt", 0)), 1)
        self.assertIn(b"scribbled over", rec.stderr)
        # what the other threads recorded is all there
        self.assertEqual(self.query(rec.db, "SELECT count(*) FROM thread")[0][0], 9)


# Four threads taking turns on a lock: a few hundred thousand events.
BUSY_LOCK = """
import sys, threading, time
lock = threading.Lock()
def work():
    for i in range(3000):
        with lock:
            time.sleep(0)
        time.sleep(0)
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print("done")
sys.exit(3)
"""


class DiskFull(TraceTest):
    """The trace's filesystem fills while recording: the workload runs on
    untouched and ends with its own status; the trace is a valid file
    that says it is incomplete and why."""

    def test_a_full_disk_leaves_an_incomplete_trace_and_the_workload_status(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a small tmpfs needs root")
        mount = os.path.join(self.tmp, "small")
        os.mkdir(mount)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", mount])
        db = os.path.join(mount, "full.db")
        proc = subprocess.run([WEFT, "record", "-o", db, "--", sys.executable, "-c", BUSY_LOCK],
                              capture_output=True, timeout=TIMEOUT, cwd=self.tmp)
        self.assertEqual(proc.returncode, 3, proc.stderr.decode())
        self.assertEqual(proc.stdout, b"done\n")
        warnings = [line for line in proc.stderr.decode().splitlines() if "weft" in line]
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("incomplete", warnings[0])
        self.assertEqual(self.query(db, "PRAGMA integrity_check")[0][0], "ok")
        meta = dict(self.query(db, "SELECT key, value FROM meta"))
        self.assertEqual(meta["status"], "incomplete")
        self.assertIn("full", meta["incomplete_reason"])
        self.assertEqual(meta["exit_status"], "3")
        self.assertGreater(int(meta["events_unwritten"]), 0)


def read_status(db):
    """meta status of db, or None while it cannot be read yet."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'status'").fetchone()
        finally:
            con.close()
        return row[0] if row else None
    except sqlite3.Error:
        return None


def ring_files_of(pid):
    """The ring files in /dev/shm whose header names pid as their collector
    (ring.h: magic at 0, collector_pid at byte 20)."""
    found = []
    for name in os.listdir("/dev/shm"):
        if not name.startswith("weft-"):
            continue
        try:
            with open(os.path.join("/dev/shm", name), "rb") as f:
                head = f.read(24)
        except OSError:
            continue
        if len(head) == 24 and head[:8] == b"WEFTSHF1" and \
                int.from_bytes(head[20:24], "little") == pid:
            found.append(name)
    return found


class KilledCollector(TraceTest):
    """kill -9 of weft record: the workload runs on, the trace reads as
    interrupted, and nothing of the recording stays in /dev/shm."""

    def test_the_trace_reads_interrupted_and_dev_shm_is_clean(self):
        db = os.path.join(self.tmp, "killed.db")
        go = os.path.join(self.tmp, "go")
        rec = subprocess.Popen(
            [WEFT, "record", "-o", db, "--", "sh", "-c",
             f"while [ ! -e {go} ]; do sleep 0.01; done; echo after"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.tmp)
        try:
            # recording, and the workload started (the trace can say
            # 'recording' before weft has started the command)
            while read_status(db) != "recording" or not any(
                    go.encode() in cmdline_of(p) for p in descendants(rec.pid)):
                self.assertIsNone(rec.poll(), "weft record ended before it was killed")
                time.sleep(0.01)
            rec.kill()
            rec.wait(timeout=TIMEOUT)
        finally:
            open(go, "w").close()
        out, _ = rec.communicate(timeout=TIMEOUT)  # the workload's end
        self.assertEqual(out, b"after\n")
        self.assertEqual(ring_files_of(rec.pid), [])
        proc = subprocess.run([WEFT, "query", db, "SELECT count(*) FROM process", "--csv"],
                              capture_output=True, timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertIn("interrupted", proc.stderr.decode())


class ManyLiveThreads(TraceTest):
    """Thousands of threads alive at once each get a ring: none is lost."""

    def test_4096_live_threads_are_all_recorded(self):
        rec = self.record([prog("manythreads"), "4096"])
        self.assert_recorded_ok(rec)
        self.assertEqual(rec.stdout, b"4096 threads\n")
        meta = dict(self.query(rec.db, "SELECT key, value FROM meta"))
        self.assertEqual(meta["threads_lost"], "0")
        self.assertEqual(meta["events_lost"], "0")
        self.assertEqual(self.query(rec.db, "SELECT count(*) FROM thread")[0][0], 4097)


def descendants(pid):
    """Every process below pid, from /proc/<pid>/task/*/children."""
    found, todo = [], [pid]
    while todo:
        for task in glob.glob(f"/proc/{todo.pop()}/task/*/children"):
            try:
                with open(task) as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def cmdline_of(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def stopped(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        return False


class SuspendedAnywhere(TraceTest):
    """A process stopped with SIGSTOP is Suspended in the trace also when
    it is not weft's child (a pipeline's first process is the shell's)."""

    def test_a_stopped_pipeline_member_is_suspended(self):
        db = os.path.join(self.tmp, "stop.db")
        rec = subprocess.Popen(
            [WEFT, "record", "-o", db, "--", "sh", "-c",
             'sh -c "kill -STOP \\$\\$; echo first" | cat'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.tmp)
        self.addCleanup(lambda: rec.poll() is None and rec.kill())
        member = None
        while member is None and rec.poll() is None:
            member = next((p for p in descendants(rec.pid) if stopped(p)), None)
            time.sleep(0.01)
        self.assertIsNotNone(member, "the pipeline's first process never stopped")
        time.sleep(1)  # stopped for many of the collector's polls (every 50 ms)
        os.kill(member, signal.SIGCONT)
        out, err = rec.communicate(timeout=TIMEOUT)
        self.assertEqual(rec.returncode, 0, err.decode())
        self.assertEqual(out, b"first\n")
        rows = self.query(db, "SELECT count(*) FROM process_state JOIN process USING (upid) "
                              "WHERE pid = ? AND state = 'Suspended'", (member,))
        self.assertEqual(rows[0][0], 1)
        meta = dict(self.query(db, "SELECT key, value FROM meta"))
        self.assertEqual(meta["events_lost"], "0")


    def test_a_thread_stopped_alone_is_suspended_not_its_process(self):
        """A debugger's ptrace stop of one thread (PTRACE_INTERRUPT): that
        thread is Suspended, the other thread and the process are not."""
        db = os.path.join(self.tmp, "tstop.db")
        ready = os.path.join(self.tmp, "worker.tid")
        script = (
            "import os, threading, time\n"
            "def work():\n"
            f"    with open({ready!r} + '.tmp', 'w') as f: f.write(str(threading.get_native_id()))\n"
            f"    os.rename({ready!r} + '.tmp', {ready!r})\n"
            f"    while not os.path.exists({ready!r} + '.go'): time.sleep(0.005)\n"
            "    print('worker done', flush=True)\n"
            "t = threading.Thread(target=work, name='worker'); t.start(); t.join()\n"
            "print('main done')\n")
        rec = subprocess.Popen([WEFT, "record", "-o", db, "--", sys.executable, "-c", script],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.tmp)
        self.addCleanup(lambda: rec.poll() is None and rec.kill())
        while not os.path.exists(ready) and rec.poll() is None:
            time.sleep(0.01)
        with open(ready) as f:
            tid = int(f.read())
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH = 0x4206, 0x4207, 17
        self.assertEqual(libc.ptrace(PTRACE_SEIZE, tid, None, None), 0, ctypes.get_errno())
        self.assertEqual(libc.ptrace(PTRACE_INTERRUPT, tid, None, None), 0, ctypes.get_errno())
        os.waitpid(tid, 0x40000000)  # __WALL: the stop is ours to collect
        time.sleep(1)  # stopped for many of the collector's polls (every 50 ms)
        self.assertEqual(libc.ptrace(PTRACE_DETACH, tid, None, None), 0, ctypes.get_errno())
        open(ready + ".go", "w").close()
        out, err = rec.communicate(timeout=TIMEOUT)
        self.assertEqual(rec.returncode, 0, err.decode())
        self.assertEqual(out, b"worker done\nmain done\n")
        per_thread = dict(self.query(
            db, "SELECT t.tid, count(s.utid) FROM thread t LEFT JOIN thread_state s "
                "ON s.utid = t.utid AND s.state = 'Suspended' GROUP BY t.tid"))
        self.assertEqual(per_thread[tid], 1, per_thread)
        self.assertEqual(sum(per_thread.values()), 1, per_thread)
        self.assertEqual(self.query(
            db, "SELECT count(*) FROM process_state WHERE state = 'Suspended'")[0][0], 0)


class FlowsMeetTheirSpans(TraceTest):
    """A Blocked span that names its waker lists the flow from that waker:
    the flow ends inside the span it explains, not at the call's return
    after it."""

    SQL = """SELECT count(*), coalesce(sum(EXISTS (
                 SELECT 1 FROM flow f WHERE f.utid_in = s.utid AND f.utid_out = s.waker_utid
                 AND f.ts_in BETWEEN s.ts AND s.ts + s.dur)), 0)
             FROM thread_state s WHERE s.waker_utid IS NOT NULL"""

    def test_every_woken_span_lists_its_wakers_flow(self):
        for name, argv in (("prodcons", [demo("prodcons")]),
                           ("python-lock", [sys.executable, "-c", PY_LOCK_THREADS])):
            rec = self.record(argv, name=name)
            self.assert_recorded_ok(rec)
            woken, with_flow = self.query(rec.db, self.SQL)[0]
            self.assertGreater(woken, 0, name)
            self.assertEqual(with_flow, woken, name)


TWENTY_PROCESSES = "for i in $(seq 20); do /bin/true; done; echo done; exit 4"


class UnusableWeftOut(TraceTest):
    """A program preloaded by hand with a WEFT_OUT that cannot be used runs
    untraced, as it would without weft, after one line on stderr."""

    def preloaded(self, out):
        env = dict(os.environ, LD_PRELOAD=LIBWEFT, WEFT_OUT=out)
        env.pop("WEFT_SHM", None)
        return env

    def test_an_unwritable_weft_out_is_said_once_and_the_program_runs(self):
        out = os.path.join(self.tmp, "missing-dir", "x.db")
        proc = subprocess.run(["sh", "-c", TWENTY_PROCESSES], capture_output=True,
                              env=self.preloaded(out), timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 4)
        self.assertEqual(proc.stdout, b"done\n")
        lines = proc.stderr.decode().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(out, lines[0])
        self.assertIn("untraced", lines[0])
        self.assertFalse(os.path.exists(out))

    def test_a_weft_out_another_recording_writes_is_said_and_left_alone(self):
        out = os.path.join(self.tmp, "shared.db")
        go = os.path.join(self.tmp, "go")
        first = subprocess.Popen(
            ["sh", "-c", f"while [ ! -e {go} ]; do sleep 0.01; done; echo first"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=self.preloaded(out))
        try:
            while not os.path.exists(out):
                time.sleep(0.01)
            second = subprocess.run(["sh", "-c", TWENTY_PROCESSES], capture_output=True,
                                    env=self.preloaded(out), timeout=TIMEOUT)
        finally:
            open(go, "w").close()
            first_out, first_err = first.communicate(timeout=TIMEOUT)
        self.assertEqual(second.returncode, 4)
        self.assertEqual(second.stdout, b"done\n")
        lines = second.stderr.decode().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(out, lines[0])
        self.assertEqual((first.returncode, first_out, first_err), (0, b"first\n", b""))
        # the first recording's trace is whole, and holds only its own run
        deadline = time.monotonic() + TIMEOUT
        while self.status(out) == "recording" and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.status(out), "complete")
        self.assertEqual(self.query(out, "SELECT count(*) FROM process WHERE name = 'seq'")[0][0],
                         0)

    def status(self, db):
        return self.query(db, "SELECT value FROM meta WHERE key = 'status'")[0][0]


if __name__ == "__main__":
    unittest.main()
