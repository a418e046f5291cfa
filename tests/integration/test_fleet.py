"""Traces from many hosts queried together (docs/FLEET.md).

ClickHouseSchema checks that schema/clickhouse.sql keeps up with the SQLite
schema. FleetIdentity checks meta's trace_id, user and wall-clock anchor,
and the start date weftd's trace list serves. Fleet records three real
programs (a shell pipeline, python3 threads sharing a lock, xz -T2), starts
two ClickHouse servers as a two-shard cluster on loopback with configs
written in a temporary directory, loads the traces with scripts/weft-ship
(and a fourth, `sh -c 'read x'`, refused while its recording runs, loaded
once it is complete), runs every query of docs/FLEET.md through the
Distributed tables and compares each answer with the same question asked of
the SQLite files, then stops the servers.

Debian's clickhouse-server is installed when missing (scripts/deps.sh --test
lists it); the ClickHouse tests are skipped, saying why, only where it
cannot be installed (not root, or apt-get failed).
"""

import datetime
import glob
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from weftlib import BIN_DIR, PY_LOCK_THREADS, WEFT, TraceTest, make_text_file

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCHEMA_SQLITE = glob.glob(os.path.join(ROOT, "schema", "0*_schema.sql"))
SCHEMA_CH = os.path.join(ROOT, "schema", "clickhouse.sql")
FLEET_MD = os.path.join(ROOT, "docs", "FLEET.md")
SHIP = os.path.join(ROOT, "scripts", "weft-ship")
START_LIMIT = 120  # seconds a server may take to answer /ping before we give up


def sqlite_columns():
    """{table: {column: (declared type, notnull)}} of the SQLite schema."""
    con = sqlite3.connect(":memory:")
    for path in sorted(SCHEMA_SQLITE):
        with open(path, encoding="utf-8") as f:
            con.executescript(f.read())
    tables = {}
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                               "AND name NOT LIKE 'sqlite_%'"):
        tables[name] = {row[1]: (row[2].upper(), bool(row[3]) or bool(row[5]))
                        for row in con.execute(f"PRAGMA table_info(\"{name}\")")}
    con.close()
    return tables


def clickhouse_columns():
    """({table: {column: type}} of the *_local tables, distributed table
    names, left-out tables, left-out "table.column"s) of schema/clickhouse.sql."""
    with open(SCHEMA_CH, encoding="utf-8") as f:
        text = f.read()
    left_out = re.findall(r"^-- left out: ([\w.]+)\s", text, re.M)
    tables = {}
    for name, body in re.findall(r"CREATE TABLE IF NOT EXISTS weft\.(\w+)_local \((.*?)\)\s*"
                                 r"ENGINE", text, re.S):
        tables[name] = dict(re.findall(r"^\s*(\w+)\s+([\w()]+),?\s*$", body, re.M))
    distributed = re.findall(r"CREATE TABLE IF NOT EXISTS weft\.(\w+) AS weft\.\1_local\s+"
                             r"ENGINE = Distributed\(weft, weft, \1_local, cityHash64\(trace_id\)\)",
                             text)
    return (tables, set(distributed), {t for t in left_out if "." not in t},
            {c for c in left_out if "." in c})


class ClickHouseSchema(unittest.TestCase):
    """schema/clickhouse.sql holds every SQLite table and column (other
    changes to schema/0*_schema.sql must come with their ClickHouse side)."""

    def setUp(self):
        self.sqlite = sqlite_columns()
        self.ch, self.distributed, self.left_tables, self.left_columns = clickhouse_columns()

    def test_every_sqlite_column_has_its_clickhouse_column(self):
        missing = []
        for table, columns in sorted(self.sqlite.items()):
            if table in self.left_tables:
                continue
            if table not in self.ch:
                missing.append(f"table {table}: add CREATE TABLE weft.{table}_local "
                               f"(trace_id String, {', '.join(columns)}) and the Distributed "
                               f"table weft.{table}, or a line '-- left out: {table} -- why'")
                continue
            for column, (decl, notnull) in columns.items():
                if column not in self.ch[table] and f"{table}.{column}" not in self.left_columns:
                    kind = "Int64" if "INT" in decl else "String"
                    want = kind if notnull else f"Nullable({kind})"
                    missing.append(f"column {table}.{column}: add '{column} {want}' to "
                                   f"weft.{table}_local, or a line "
                                   f"'-- left out: {table}.{column} -- why'")
        if missing:
            self.fail("schema/clickhouse.sql is behind the SQLite schema:\n  "
                      + "\n  ".join(missing))

    def test_clickhouse_types_follow_sqlite_types_and_nullability(self):
        wrong = []
        for table, columns in self.ch.items():
            if table == "trace":
                continue
            self.assertEqual(columns.get("trace_id"), "String", f"{table}_local.trace_id")
            for column, ch_type in columns.items():
                if column == "trace_id" or column not in self.sqlite.get(table, {}):
                    continue
                decl, notnull = self.sqlite[table][column]
                kind = "Int64" if "INT" in decl else "String"
                want = kind if notnull else f"Nullable({kind})"
                if ch_type != want:
                    wrong.append(f"{table}.{column} is {ch_type}, SQLite says {want}")
        self.assertEqual(wrong, [])

    def test_every_local_table_has_its_distributed_table(self):
        self.assertEqual(set(self.ch) - self.distributed, set())
        self.assertIn("trace", self.ch)

    def test_left_out_tables_exist_in_sqlite(self):
        self.assertEqual(self.left_tables - set(self.sqlite), set(),
                         "a table listed as left out is not in the SQLite schema")


class FleetIdentity(TraceTest):
    """Every trace names itself among many hosts' and says when it began."""

    def test_meta_holds_trace_id_host_user_and_wall_clock_anchor(self):
        before = time.time_ns()
        rec = self.record(["sh", "-c", "echo a | tr a b"])
        after = time.time_ns()
        self.assert_recorded_ok(rec)
        meta = {r["key"]: r["value"] for r in self.query(rec.db, "SELECT * FROM meta")}
        self.assertRegex(meta["trace_id"], "^" + re.escape(os.uname().nodename) + "-[0-9a-f]{16}$")
        self.assertEqual(meta["host"], os.uname().nodename)
        self.assertEqual(int(meta["uid"]), os.geteuid())
        self.assertTrue(meta["user"])
        wall = int(meta["start_wall_ns"])
        self.assertTrue(before <= wall <= after, (before, wall, after))
        other = self.record(["true"], name="other")
        self.assert_recorded_ok(other)
        other_id = self.query(other.db, "SELECT value FROM meta WHERE key = 'trace_id'")[0][0]
        self.assertNotEqual(other_id, meta["trace_id"])

    def test_weftd_trace_list_shows_the_start_date(self):
        rec = self.record(["true"])
        self.assert_recorded_ok(rec)
        wall = int(self.query(rec.db, "SELECT value FROM meta WHERE key = 'start_wall_ns'")[0][0])
        weftd = subprocess.Popen([os.path.join(BIN_DIR, "weftd"), "--no-collect", "--listen",
                                  "127.0.0.1:0", rec.db], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        self.addCleanup(weftd.wait)
        self.addCleanup(weftd.terminate)
        self.addCleanup(weftd.stdout.close)
        self.addCleanup(weftd.stderr.close)
        banner = weftd.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", banner)
        self.assertTrue(m, banner)
        with urllib.request.urlopen(f"http://127.0.0.1:{m.group(1)}/api/traces",
                                    timeout=30) as r:
            trace = json.loads(r.read())["traces"][0]
        began = datetime.datetime.fromtimestamp(wall // 10**9, datetime.timezone.utc)
        self.assertEqual(trace["started"], began.strftime("%Y-%m-%d %H:%M:%S UTC"))
        self.assertEqual(trace["start_wall_ns"], wall)


# --- ClickHouse -------------------------------------------------------------

def ensure_clickhouse():
    """The path of clickhouse-server, installing Debian's package when
    missing; None with the reason when it cannot be had."""
    found = shutil.which("clickhouse-server") or (
        os.access("/usr/sbin/clickhouse-server", os.X_OK) and "/usr/sbin/clickhouse-server")
    if found:
        return found, None
    if os.geteuid() != 0:
        return None, ("clickhouse-server is not installed and this user cannot install "
                      "it (not root): run scripts/deps.sh --test as root")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    proc = subprocess.run("apt-get update -qq && apt-get install -y -qq "
                          "--no-install-recommends clickhouse-server clickhouse-client",
                          shell=True, capture_output=True, env=env, timeout=900)
    found = shutil.which("clickhouse-server") or (
        os.access("/usr/sbin/clickhouse-server", os.X_OK) and "/usr/sbin/clickhouse-server")
    if not found:
        return None, ("clickhouse-server cannot be installed here: apt-get said: "
                      + proc.stderr.decode(errors="replace").strip()[-300:])
    return found, None


def free_ports(n):
    """n TCP ports free on 127.0.0.1 now (the kernel's choice)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{dir}/server.log</log>
    <errorlog>{dir}/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <path>{dir}/data/</path>
  <tmp_path>{dir}/tmp/</tmp_path>
  <users_config>{dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709120</mark_cache_size>
  <remote_servers><weft>{shards}</weft></remote_servers>
</yandex>
"""
USERS = """<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
"""


class Server:
    """One clickhouse-server process with its own directory and ports."""

    def __init__(self, binary, directory, http, tcp, shard_tcp_ports):
        self.dir, self.http, self.tcp = directory, http, tcp
        os.makedirs(directory, exist_ok=True)
        shards = "".join(f"<shard><replica><host>127.0.0.1</host><port>{p}</port>"
                         "</replica></shard>" for p in shard_tcp_ports)
        with open(os.path.join(directory, "config.xml"), "w") as f:
            f.write(CONFIG.format(dir=directory, http=http, tcp=tcp, shards=shards))
        with open(os.path.join(directory, "users.xml"), "w") as f:
            f.write(USERS)
        self.out = open(os.path.join(directory, "stdout.log"), "wb")
        self.proc = subprocess.Popen([binary, f"--config-file={directory}/config.xml"],
                                     stdout=self.out, stderr=subprocess.STDOUT,
                                     cwd=directory)
        self.url = f"http://127.0.0.1:{http}/"

    def wait_ready(self):
        """Poll /ping until the server answers. Returns None, or the reason
        it will not (it exited, or kept silent for START_LIMIT s)."""
        deadline = time.monotonic() + START_LIMIT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"exited with {self.proc.returncode}: {self.log_tail()}"
            try:
                with urllib.request.urlopen(self.url + "ping", timeout=5) as r:
                    if r.read().strip() == b"Ok.":
                        return None
            except OSError:
                pass
            time.sleep(0.05)
        return f"no answer on {self.url} after {START_LIMIT} s: {self.log_tail()}"

    def log_tail(self):
        text = ""
        for name in ("error.log", "stdout.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    text += f.read()[-600:]
            except OSError:
                pass
        return text.strip()

    def query(self, sql):
        """The rows of sql as dicts (64-bit integers come as strings)."""
        data = (sql + " FORMAT JSONEachRow").encode()
        try:
            with urllib.request.urlopen(self.url, data=data, timeout=120) as r:
                text = r.read().decode()
        except urllib.error.HTTPError as err:
            raise AssertionError(f"ClickHouse: {err.read().decode(errors='replace')}\n{sql}")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


def start_cluster(binary, tmp):
    """Two servers forming the two-shard cluster 'weft'. Ports are picked
    free; when one was taken in between (the server exits), try again."""
    why = ""
    for attempt in range(3):
        http1, tcp1, http2, tcp2 = free_ports(4)
        base = os.path.join(tmp, f"ch{attempt}")
        servers = [Server(binary, os.path.join(base, "s1"), http1, tcp1, [tcp1, tcp2]),
                   Server(binary, os.path.join(base, "s2"), http2, tcp2, [tcp1, tcp2])]
        reasons = [s.wait_ready() for s in servers]
        if not any(reasons):
            return servers
        why = "; ".join(r for r in reasons if r)
        for s in servers:
            s.stop()
    raise AssertionError(f"the ClickHouse servers did not start: {why}")


def fleet_queries():
    """{name: sql} of the ```sql fleet:NAME blocks of docs/FLEET.md."""
    with open(FLEET_MD, encoding="utf-8") as f:
        text = f.read()
    return dict(re.findall(r"```sql fleet:(\w+)\n(.*?)```", text, re.S))


def ship(*args):
    return subprocess.run([sys.executable, SHIP, "--weft", WEFT, *args],
                          capture_output=True, text=True, timeout=600)


class Fleet(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        binary, why = ensure_clickhouse()
        if not binary:
            raise unittest.SkipTest(why)
        assert WEFT and os.access(WEFT, os.X_OK), f"the weft CLI is not built ({WEFT!r})"
        cls.tmp = tempfile.mkdtemp(prefix="weft-fleet-")
        data = os.path.join(cls.tmp, "data.txt")
        make_text_file(data, 4)
        programs = {
            "pipeline": ["sh", "-c", f"sort {data} | uniq -c | sort -rn | head -n 3"],
            "python": [sys.executable, "-c", PY_LOCK_THREADS],
            "xz": ["xz", "-T2", "-1", "--block-size=1MiB", "-c", data],
        }
        cls.traces = {}
        for name, argv in programs.items():
            db = os.path.join(cls.tmp, name + ".db")
            proc = subprocess.run([WEFT, "record", "-q", "-o", db, "--", *argv],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  timeout=300, cwd=cls.tmp)
            assert proc.returncode == 0, f"weft record {name}: {proc.stderr.decode()}"
            cls.traces[name] = db
        cls.servers = start_cluster(binary, cls.tmp)
        for s in cls.servers:
            created = ship("--create-schema", "--clickhouse", s.url)
            assert created.returncode == 0, created.stderr
        cls.traces["live"], cls.early_load = cls.ship_while_recording()
        cls.first_load = ship("--clickhouse", cls.servers[0].url, *cls.traces.values())

    @classmethod
    def ship_while_recording(cls):
        """Records `sh -c 'read x'`, tries to load it while the recording
        runs, then lets it finish. Returns the trace and that try."""
        db = os.path.join(cls.tmp, "live.db")
        recorder = subprocess.Popen([WEFT, "record", "-q", "-o", db, "--", "sh", "-c", "read x"],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, cwd=cls.tmp)
        try:
            deadline = time.monotonic() + START_LIMIT
            while time.monotonic() < deadline:
                probe = subprocess.run([WEFT, "query", db, "SELECT value FROM meta WHERE "
                                        "key = 'trace_id'", "--csv"], capture_output=True)
                if probe.returncode == 0 and len(probe.stdout.splitlines()) == 2:
                    break
                time.sleep(0.05)
            early = ship("--clickhouse", cls.servers[0].url, db)
            recorder.communicate(b"\n", timeout=120)
        finally:
            if recorder.poll() is None:
                recorder.kill()
                recorder.wait()
        assert recorder.returncode == 0, f"weft record sh -c 'read x': {recorder.returncode}"
        return db, early

    @classmethod
    def tearDownClass(cls):
        for s in getattr(cls, "servers", []):
            s.stop()
        if hasattr(cls, "tmp") and not os.environ.get("WEFT_KEEP_TRACES"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def sqlite(self, db, sql):
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        con.row_factory = sqlite3.Row
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def meta(self, db):
        return {r["key"]: r["value"] for r in self.sqlite(db, "SELECT key, value FROM meta")}

    def through_distributed(self, name):
        """The rows of FLEET.md's query name, asked of the second server
        (the traces were loaded through the first)."""
        sql = fleet_queries()[name]
        return self.servers[1].query(sql)

    # --- loading --------------------------------------------------------------

    def test_ship_reports_rows_per_table_and_every_row_arrives(self):
        self.assertEqual(self.first_load.returncode, 0, self.first_load.stderr)
        for name, db in self.traces.items():
            trace_id = self.meta(db)["trace_id"]
            line = [l for l in self.first_load.stdout.splitlines() if l.startswith(db + ":")]
            self.assertEqual(len(line), 1, self.first_load.stdout)
            reported = dict(re.findall(r"(\w+)=(\d+)", line[0]))
            for table in ("meta", "process", "thread", "thread_state", "object", "flow"):
                want = self.sqlite(db, f"SELECT count(*) AS n FROM {table}")[0]["n"]
                self.assertEqual(int(reported[table]), want, f"{name}.{table} reported")
                got = self.servers[1].query(f"SELECT count() AS n FROM weft.{table} "
                                            f"WHERE trace_id = '{trace_id}'")[0]["n"]
                self.assertEqual(int(got), want, f"{name}.{table} in ClickHouse")

    def test_the_shards_hold_every_row_once(self):
        total = int(self.servers[0].query("SELECT count() AS n FROM weft.thread_state")[0]["n"])
        local = sum(int(s.query("SELECT count() AS n FROM weft.thread_state_local")[0]["n"])
                    for s in self.servers)
        want = sum(self.sqlite(db, "SELECT count(*) AS n FROM thread_state")[0]["n"]
                   for db in self.traces.values())
        self.assertEqual((total, local), (want, want))

    def test_loading_a_trace_again_loads_nothing(self):
        again = ship("--clickhouse", self.servers[1].url, self.traces["xz"])
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("already loaded, skipped", again.stdout)
        trace_id = self.meta(self.traces["xz"])["trace_id"]
        rows = self.servers[0].query(f"SELECT count() AS n FROM weft.trace "
                                     f"WHERE trace_id = '{trace_id}'")
        self.assertEqual(rows[0]["n"], "1")
        want = self.sqlite(self.traces["xz"], "SELECT count(*) AS n FROM thread_state")[0]["n"]
        got = self.servers[0].query(f"SELECT count() AS n FROM weft.thread_state "
                                    f"WHERE trace_id = '{trace_id}'")[0]["n"]
        self.assertEqual(int(got), want)

    def test_nulls_and_exact_integers_survive_the_load(self):
        for db in self.traces.values():
            trace_id = self.meta(db)["trace_id"]
            want = self.sqlite(db, "SELECT sum(cpu IS NULL) AS n, sum(object_id IS NULL) AS o, "
                                   "sum(ts) AS ts FROM thread_state")[0]
            got = self.servers[0].query(
                f"SELECT countIf(isNull(cpu)) AS n, countIf(isNull(object_id)) AS o, "
                f"sum(ts) AS ts FROM weft.thread_state WHERE trace_id = '{trace_id}'")[0]
            self.assertEqual((int(got["n"]), int(got["o"]), int(got["ts"])),
                             (want["n"], want["o"], want["ts"]))

    def test_csv_export_keeps_null_apart_from_zero_and_empty(self):
        db = self.traces["python"]
        s = self.servers[0]
        s.query("CREATE TABLE IF NOT EXISTS default.csv_probe (cpu Nullable(Int64), "
                "reason Nullable(String), empty Nullable(String)) ENGINE = Memory")
        csv = subprocess.run([WEFT, "query", db, "SELECT cpu, reason, '' AS empty "
                              "FROM thread_state", "--csv"], capture_output=True, check=True)
        req = urllib.request.Request(
            s.url + "?query=" + urllib.parse.quote("INSERT INTO default.csv_probe "
                                                   "FORMAT CSVWithNames"),
            data=csv.stdout, method="POST")
        urllib.request.urlopen(req, timeout=60).read()
        got = s.query("SELECT countIf(isNull(cpu)) AS cpu, countIf(isNull(reason)) AS reason, "
                      "countIf(empty = '') AS empty, count() AS n FROM default.csv_probe")[0]
        want = self.sqlite(db, "SELECT sum(cpu IS NULL) AS cpu, sum(reason IS NULL) AS reason, "
                               "count(*) AS empty, count(*) AS n FROM thread_state")[0]
        self.assertGreater(want["cpu"], 0)
        self.assertEqual({k: int(v) for k, v in got.items()}, dict(want))

    def test_ship_says_why_it_cannot_load(self):
        closed = free_ports(1)[0]
        down = ship("--clickhouse", f"http://127.0.0.1:{closed}/", self.traces["xz"])
        self.assertEqual(down.returncode, 1)
        self.assertIn("cannot reach ClickHouse", down.stderr)
        bad = ship("--clickhouse", "ftp://example", self.traces["xz"])
        self.assertEqual(bad.returncode, 1)
        self.assertIn("bad URL", bad.stderr)
        junk = os.path.join(self.tmp, "junk.db")
        with open(junk, "w") as f:
            f.write("not a database\n" * 100)
        notrace = ship("--clickhouse", self.servers[0].url, junk)
        self.assertEqual(notrace.returncode, 1)
        self.assertIn("not a weft trace", notrace.stderr)

    def test_a_trace_being_recorded_is_loaded_only_once_complete(self):
        self.assertEqual(self.early_load.returncode, 1, self.early_load.stdout)
        self.assertIn("is still being recorded", self.early_load.stderr)
        self.assertRegex(self.first_load.stdout,
                         re.escape(self.traces["live"]) + r": trace \S+ loaded, ")

    # --- the fleet questions ----------------------------------------------------

    def test_fleet_md_has_the_questions(self):
        self.assertEqual(set(fleet_queries()),
                         {"blocked_by_host_object", "ready_trend_by_command",
                          "top_contended_objects", "long_waits_wall_time"})

    def test_blocked_time_per_host_and_object_matches_sqlite(self):
        want = {}
        for db in self.traces.values():
            host = self.meta(db)["host"]
            for r in self.sqlite(db, """
                    SELECT COALESCE(s.reason, '') AS reason,
                           COALESCE(o.label, o.kind, '') AS object,
                           count(*) AS waits, sum(s.dur) AS blocked_ns
                    FROM thread_state s LEFT JOIN object o ON o.object_id = s.object_id
                    WHERE s.state = 'Blocked' GROUP BY 1, 2"""):
                key = (host, r["reason"], r["object"])
                waits, ns = want.get(key, (0, 0))
                want[key] = (waits + r["waits"], ns + r["blocked_ns"])
        got = {(r["host"], r["reason"], r["object"]): (int(r["waits"]), int(r["blocked_ns"]))
               for r in self.through_distributed("blocked_by_host_object")}
        self.assertTrue(any(k[1] == "io" for k in want), "the pipeline waits on its pipes")
        self.assertEqual(len(self.traces), 4)
        self.assertEqual(got, want)

    def test_ready_trend_per_command_matches_sqlite(self):
        want = {}
        for db in self.traces.values():
            meta = self.meta(db)
            day = datetime.datetime.fromtimestamp(int(meta["start_wall_ns"]) // 10**9,
                                                  datetime.timezone.utc).date().isoformat()
            ready = self.sqlite(db, "SELECT COALESCE(sum(dur), 0) AS n FROM thread_state "
                                    "WHERE state = 'Ready'")[0]["n"]
            traces, ns = want.get((meta["command"], day), (0, 0))
            want[(meta["command"], day)] = (traces + 1, ns + ready)
        got = {(r["command"], r["day"]): (int(r["traces"]), int(r["ready_ns"]))
               for r in self.through_distributed("ready_trend_by_command")}
        self.assertEqual(got, want)

    def test_top_contended_objects_match_sqlite(self):
        rows = []
        for db in self.traces.values():
            meta = self.meta(db)
            for r in self.sqlite(db, """
                    SELECT s.object_id, o.kind, COALESCE(o.label, o.kind) AS object,
                           count(*) AS waits, sum(s.dur) AS wait_ns, max(s.dur) AS max_wait_ns
                    FROM thread_state s JOIN object o ON o.object_id = s.object_id
                    WHERE s.state = 'Blocked'
                      AND o.kind IN ('mutex', 'rwlock', 'cond', 'sem', 'barrier')
                    GROUP BY s.object_id"""):
                rows.append((meta["trace_id"], meta["host"], meta["command"], r["object_id"],
                             r["kind"], r["object"], r["waits"], r["wait_ns"],
                             r["max_wait_ns"]))
        rows.sort(key=lambda r: (-r[7], r[0], r[3]))
        want = rows[:20]
        got = [(r["trace_id"], r["host"], r["command"], int(r["object_id"]), r["kind"],
                r["object"], int(r["waits"]), int(r["wait_ns"]), int(r["max_wait_ns"]))
               for r in self.through_distributed("top_contended_objects")]
        self.assertTrue(want, "python's threads wait on their lock")
        self.assertEqual(got, want)

    def test_wall_time_of_long_waits_matches_sqlite(self):
        want = []
        for db in self.traces.values():
            meta = self.meta(db)
            wall, start = int(meta["start_wall_ns"]), int(meta["start_ts"])
            for r in self.sqlite(db, "SELECT utid, ts, dur, COALESCE(reason, '') AS reason "
                                     "FROM thread_state WHERE state = 'Blocked' "
                                     "AND dur > 10000000 ORDER BY utid, ts"):
                began = datetime.datetime.fromtimestamp((wall + r["ts"] - start) // 10**9,
                                                        datetime.timezone.utc)
                want.append((meta["trace_id"], meta["host"], r["utid"], r["reason"], r["dur"],
                             began.strftime("%Y-%m-%d %H:%M:%S")))
        self.assertTrue(want, "python's main thread waits 32 ms and more to join a worker")
        got = [(r["trace_id"], r["host"], int(r["utid"]), r["reason"], int(r["dur"]),
                r["began"]) for r in self.through_distributed("long_waits_wall_time")]
        self.assertEqual(sorted(got), sorted(want))
        self.assertEqual(len(got), len(want))


if __name__ == "__main__":
    unittest.main()
