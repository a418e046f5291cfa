"""A real server under weft: Debian's redis-server, started on a free
loopback port under `weft record`, driven by redis-benchmark and a BGSAVE
(a forked child that retitles itself), stopped by SIGTERM as its init
script does. The trace must say what a user asks of a server: the exit
status as untraced, the names ps shows, why each thread waited, and which
socket or epoll instance a wait was on."""

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest

import textwrap

from weftlib import WEFT, TraceTest

REDIS = shutil.which("redis-server")
BENCH = shutil.which("redis-benchmark")
CLI = shutil.which("redis-cli")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, what, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def serve(tmp, prefix):
    """Runs redis-server (under prefix) on a free port: the benchmark, a
    BGSAVE, then SIGTERM to the server itself. Returns (exit status,
    port)."""
    port = free_port()
    argv = prefix + [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", tmp, "--daemonize", "no"]
    log = open(os.path.join(tmp, f"redis-{len(prefix)}.log"), "wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    try:
        wait_until(lambda: listening(port), "redis-server to listen")
        cli = [CLI, "-h", "127.0.0.1", "-p", str(port)]
        subprocess.run([BENCH, "-h", "127.0.0.1", "-p", str(port), "-n", "300", "-c", "4",
                        "-t", "set,get,lpush", "-q"], check=True, capture_output=True,
                       timeout=120)
        subprocess.run(cli + ["bgsave"], check=True, capture_output=True, timeout=30)
        wait_until(lambda: b"rdb_bgsave_in_progress:0" in subprocess.run(
            cli + ["info", "persistence"], capture_output=True, timeout=30).stdout
            and os.path.exists(os.path.join(tmp, "dump.rdb")), "the BGSAVE child")
        server = proc.pid
        if prefix:
            wait_until(lambda: children(proc.pid), "the server below weft")
            server = children(proc.pid)[0]
        os.kill(server, signal.SIGTERM)
        return proc.wait(timeout=120), port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


@unittest.skipUnless(REDIS and BENCH and CLI, "redis-server and redis-tools (scripts/deps.sh --test)")
class RedisServerTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="weft-itest-servers-")
        untraced_dir = os.path.join(cls.tmp, "untraced")
        traced_dir = os.path.join(cls.tmp, "traced")
        os.makedirs(untraced_dir)
        os.makedirs(traced_dir)
        cls.untraced_status, _ = serve(untraced_dir, [])
        cls.db = os.path.join(cls.tmp, "redis.db")
        cls.status, cls.port = serve(traced_dir, [WEFT, "record", "-q", "-o", cls.db, "--"])
        cls.con = sqlite3.connect(f"file:{cls.db}?mode=ro", uri=True)
        cls.con.row_factory = sqlite3.Row

    @classmethod
    def tearDownClass(cls):
        cls.con.close()
        if os.environ.get("WEFT_KEEP_TRACES"):
            print(f"\n{cls.__name__}: traces kept in {cls.tmp}")
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def query(self, sql, params=()):
        return self.con.execute(sql, params).fetchall()

    def server(self):
        rows = self.query("SELECT * FROM process WHERE parent_upid IS NULL")
        self.assertEqual(len(rows), 1)
        return rows[0]

    def test_the_server_exits_as_it_does_untraced_and_nothing_is_lost(self):
        self.assertEqual(self.untraced_status, 0)
        self.assertEqual(self.status, self.untraced_status)
        meta = dict(tuple(r) for r in self.query("SELECT key, value FROM meta"))
        self.assertEqual(meta["status"], "complete")
        self.assertEqual(meta["events_lost"], "0")
        self.assertEqual(self.server()["exit_code"], 0)

    def test_the_server_its_threads_and_its_bgsave_child_are_named_as_ps_names_them(self):
        self.assertEqual(self.server()["name"], "redis-server")
        names = {r["name"] for r in self.query("SELECT name FROM thread")}
        self.assertIn("bio_close_file", names)
        children = self.query("SELECT name, exit_code FROM process WHERE parent_upid = ?",
                              (self.server()["upid"],))
        # ps shows the child as "redis-rdb-bgsave 127.0.0.1:PORT"
        self.assertEqual([(c["name"].split()[0], c["exit_code"]) for c in children],
                         [("redis-rdb-bgsave", 0)])

    def test_no_process_spends_half_its_blocked_time_unexplained(self):
        rows = self.query("""SELECT p.name,
                                    SUM(CASE WHEN s.reason = 'other' THEN s.dur ELSE 0 END) AS other,
                                    SUM(s.dur) AS blocked
                             FROM thread_state s JOIN thread t USING (utid)
                             JOIN process p USING (upid)
                             WHERE s.state = 'Blocked' GROUP BY p.upid""")
        self.assertTrue(rows)
        for row in rows:
            # The BGSAVE child lives a few milliseconds, most of them in the
            # kernel's copy-on-write faults and the disk, which no call
            # names; how long those take is the machine's load. The server
            # itself is what the check is about.
            if row["name"].startswith("redis-rdb-bgsave"):
                continue
            self.assertLess(row["other"], row["blocked"] / 2, row["name"])

    def test_the_event_loop_waits_on_its_epoll_instance(self):
        main = self.query("SELECT utid FROM thread WHERE is_main AND upid = ?",
                          (self.server()["upid"],))[0]["utid"]
        waits = self.query("""SELECT o.kind, COUNT(*) AS n FROM thread_state s
                              LEFT JOIN object o USING (object_id)
                              WHERE s.utid = ? AND s.state = 'Blocked' AND s.reason = 'poll'
                              GROUP BY o.kind""", (main,))
        self.assertEqual([(w["kind"], w["n"] > 0) for w in waits], [("epoll", True)])

    def test_the_epoll_instance_watches_the_listening_socket_and_each_client(self):
        watched = self.query("""SELECT w.op, o.kind, o.label FROM epoll_watch w
                                JOIN object o ON o.object_id = w.watched_object_id""")
        adds = [w for w in watched if w["op"] == "add" and w["kind"] == "socket"]
        port = f"127.0.0.1:{self.port}"
        self.assertTrue(any(port in w["label"].split() for w in adds), adds[:5])
        self.assertTrue(any(w["label"].startswith("socket:[") for w in adds), adds[:5])

    def test_a_wait_that_returned_names_the_client_socket_that_became_ready(self):
        ready = self.query("""SELECT o.kind, o.label FROM poll_ready r
                              JOIN object o USING (object_id)""")
        port = f"127.0.0.1:{self.port}"
        self.assertTrue(any(r["kind"] == "socket" and port in r["label"].split()
                            for r in ready), ready[:5])


# A parent waits for a pipe its child writes into, first in poll(), then in
# select(); the child writes once for each, when /proc shows the parent
# asleep inside the call (poll, ppoll, select, pselect6 on x86-64 and
# arm64), so the wait is a real one.
PY_POLL_PIPE = textwrap.dedent("""
    import os, select, time
    r, w = os.pipe()
    parent = os.getpid()
    POLLS, SELECTS = {"7", "271", "73"}, {"23", "270", "72"}
    def parent_in(calls):  # asleep in one of those calls
        with open(f"/proc/{parent}/stat") as f:
            asleep = f.read().rsplit(")", 1)[1].split()[0] == "S"
        with open(f"/proc/{parent}/syscall") as f:
            return asleep and f.read().split()[0] in calls
    if os.fork() == 0:
        for calls in (POLLS, SELECTS):
            while not parent_in(calls):
                time.sleep(0.01)
            os.write(w, b"x")
        os._exit(0)
    p = select.poll()
    p.register(r, select.POLLIN)
    print(len(p.poll(10000)), os.read(r, 1).decode())
    print(len(select.select([r], [], [], 10)[0]), os.read(r, 1).decode())
    os.wait()
""")


class ReadinessWaitTest(TraceTest):

    def test_poll_and_select_on_one_pipe_wait_on_the_pipe_and_name_it_ready(self):
        rec = self.record(["python3", "-c", PY_POLL_PIPE])
        self.assert_recorded_ok(rec)
        self.assertEqual(rec.stdout, b"1 x\n1 x\n")
        waits = self.query(rec.db, """SELECT o.kind, COUNT(*) AS n FROM thread_state s
                                      JOIN thread t USING (utid) JOIN process p USING (upid)
                                      LEFT JOIN object o USING (object_id)
                                      WHERE p.parent_upid IS NULL AND s.state = 'Blocked'
                                        AND s.reason = 'poll' GROUP BY o.kind""")
        self.assertEqual([w["kind"] for w in waits], ["pipe"])
        ready = self.query(rec.db, """SELECT o.kind, r.ready FROM poll_ready r
                                      JOIN object o USING (object_id) ORDER BY r.ts""")
        self.assertEqual([(r["kind"], r["ready"]) for r in ready], [("pipe", 1), ("pipe", 1)])


if __name__ == "__main__":
    unittest.main()
