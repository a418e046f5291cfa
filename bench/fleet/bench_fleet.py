#!/usr/bin/env python3
"""The fleet bench (docs/FLEET.md): what loading traces into ClickHouse costs
and how fast a cross-trace question is answered.

  1. Load rate: one recorded trace (a `seq | cat | cat | wc -l` pipeline,
     many pipe waits) loaded into one local ClickHouse (a cluster of one
     shard, the schema of schema/clickhouse.sql) by scripts/weft-ship, beside
     `sqlite3 -csv` piped into `clickhouse-client` table by table (the same
     rows and trace_id column; NULL given as \\N). Rows per second, median of
     REPEAT loads, the database emptied before each.
  2. Cross-trace aggregate: TRACES recorded traces (a sort pipeline over a
     1 MB file) loaded, then docs/FLEET.md's blocked_by_host_object and
     ready_trend_by_command through the Distributed tables, median of REPEAT;
     beside the same question asked of the SQLite files one after the other
     (python's sqlite3).

Prints a Markdown section for bench/RESULTS.md. Usage:
  bench/fleet/run.sh [BUILD_DIR]   (env: TRACES=100 REPEAT=5 SEQ=30000000)
"""
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from test_fleet import Server, ensure_clickhouse, fleet_queries, free_ports  # noqa: E402
from weftlib import make_text_file  # noqa: E402

SHIP = os.path.join(ROOT, "scripts", "weft-ship")


def record(weft, db, argv, cwd):
    subprocess.run([weft, "record", "-q", "-o", db, "--", *argv], check=True, cwd=cwd,
                   stdout=subprocess.DEVNULL)


def reset_schema(server, weft):
    server.query("DROP DATABASE IF EXISTS weft")
    subprocess.run([sys.executable, SHIP, "--weft", weft, "--create-schema", "--clickhouse",
                    server.url], check=True)


def rows_of(db, tables):
    con = sqlite3.connect(db)
    try:
        return sum(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)
    finally:
        con.close()


def load_with_ship(server, weft, db):
    start = time.monotonic()
    subprocess.run([sys.executable, SHIP, "--weft", weft, "--clickhouse", server.url, db],
                   check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def load_with_sqlite3_csv(server, db, tables, trace_id):
    """Each table: sqlite3 -csv | clickhouse-client INSERT ... FORMAT CSV."""
    start = time.monotonic()
    for table, columns in tables.items():
        names = ", ".join(f'"{c}"' for c in columns)
        sql = f"SELECT '{trace_id}', {names} FROM \"{table}\""
        target = ", ".join(["trace_id"] + [f"`{c}`" for c in columns])
        dump = subprocess.Popen(["sqlite3", "-csv", "-nullvalue", "\\N", db, sql],
                                stdout=subprocess.PIPE)
        subprocess.run(["clickhouse-client", "--port", str(server.tcp),
                        "--insert_distributed_sync=1", "--query",
                        f"INSERT INTO weft.{table} ({target}) FORMAT CSV"],
                       stdin=dump.stdout, check=True)
        dump.stdout.close()
        if dump.wait() != 0:
            raise RuntimeError(f"sqlite3 failed on {table}")
    return time.monotonic() - start


def trace_tables(db, server):
    """{table: [columns]} loaded by both methods (those ClickHouse has, with rows)."""
    ch = {}
    for r in server.query("SELECT table, name FROM system.columns WHERE database = 'weft' "
                          "AND NOT endsWith(table, '_local') AND name != 'trace_id'"):
        ch.setdefault(r["table"], []).append(r["name"])
    con = sqlite3.connect(db)
    out = {}
    for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        # clickhouse-client refuses an INSERT of no rows: empty tables are skipped
        if table in ch and con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]:
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            out[table] = [c for c in cols if c in ch[table]]
    con.close()
    return out


SQLITE_BLOCKED = """SELECT COALESCE(s.reason, '') AS reason, COALESCE(o.label, o.kind, '') AS object,
       count(*) AS waits, sum(s.dur) AS blocked_ns
FROM thread_state s LEFT JOIN object o ON o.object_id = s.object_id
WHERE s.state = 'Blocked' GROUP BY 1, 2"""


def sqlite_blocked(dbs):
    start = time.monotonic()
    total = {}
    for db in dbs:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        host = con.execute("SELECT value FROM meta WHERE key = 'host'").fetchone()[0]
        for reason, obj, waits, ns in con.execute(SQLITE_BLOCKED):
            w, n = total.get((host, reason, obj), (0, 0))
            total[(host, reason, obj)] = (w + waits, n + ns)
        con.close()
    return time.monotonic() - start, total


def main():
    weft = os.environ.get("WEFT_BIN") or os.path.join(sys.argv[1] if len(sys.argv) > 1
                                                      else os.path.join(ROOT, "build"),
                                                      "bin", "weft")
    traces = int(os.environ.get("TRACES", "100"))
    repeat = int(os.environ.get("REPEAT", "5"))
    seq = int(os.environ.get("SEQ", "30000000"))
    binary, why = ensure_clickhouse()
    if not binary:
        sys.exit(f"bench/fleet: {why}")
    tmp = tempfile.mkdtemp(prefix="weft-bench-fleet-")
    http, tcp = free_ports(2)
    server = Server(binary, os.path.join(tmp, "ch"), http, tcp, [tcp])
    try:
        problem = server.wait_ready()
        if problem:
            sys.exit(f"bench/fleet: clickhouse-server: {problem}")
        big = os.path.join(tmp, "big.db")
        record(weft, big, ["sh", "-c", f"seq 1 {seq} | cat | cat | wc -l"], tmp)
        reset_schema(server, weft)
        tables = trace_tables(big, server)
        rows = rows_of(big, tables)
        trace_id = sqlite3.connect(big).execute(
            "SELECT value FROM meta WHERE key = 'trace_id'").fetchone()[0]
        ship_s, csv_s = [], []
        for _ in range(repeat):
            reset_schema(server, weft)
            ship_s.append(load_with_ship(server, weft, big))
            reset_schema(server, weft)
            csv_s.append(load_with_sqlite3_csv(server, big, tables, trace_id))
        ship_med, csv_med = statistics.median(ship_s), statistics.median(csv_s)

        data = os.path.join(tmp, "data.txt")
        make_text_file(data, 1)
        dbs = []
        for i in range(traces):
            db = os.path.join(tmp, f"t{i:03d}.db")
            record(weft, db, ["sh", "-c", f"sort {data} | uniq -c | sort -rn | head -n 3"], tmp)
            dbs.append(db)
        reset_schema(server, weft)
        start = time.monotonic()
        subprocess.run([sys.executable, SHIP, "--weft", weft, "--clickhouse", server.url, *dbs],
                       check=True, stdout=subprocess.DEVNULL)
        load_all = time.monotonic() - start
        fleet_rows = sum(rows_of(db, tables) for db in dbs)
        queries = fleet_queries()
        timings = {}
        for name in ("blocked_by_host_object", "ready_trend_by_command"):
            runs = []
            for _ in range(repeat):
                start = time.monotonic()
                server.query(queries[name])
                runs.append(time.monotonic() - start)
            timings[name] = statistics.median(runs)
        sqlite_runs = [sqlite_blocked(dbs)[0] for _ in range(repeat)]
        spans = sum(sqlite3.connect(db).execute("SELECT count(*) FROM thread_state").fetchone()[0]
                    for db in dbs)
        load = os.getloadavg()
        print(f"""## Fleet: ClickHouse (bench/fleet/run.sh)

ClickHouse {server.query("SELECT version() AS v")[0]["v"]} (Debian), one local server (a cluster of one shard), schema/clickhouse.sql. Median of {repeat} runs; load average at start {load[0]:.2f} (other work on the machine skews wall times).

| measure | weft | baseline | baseline figure |
|---|---:|---|---:|
| load one trace, {rows:,} rows ({len(tables)} tables, `seq 1 {seq} \\| cat \\| cat \\| wc -l`) | scripts/weft-ship: {ship_med:.2f} s, {rows / ship_med:,.0f} rows/s | `sqlite3 -csv -nullvalue '\\N' \\| clickhouse-client` per table | {csv_med:.2f} s, {rows / csv_med:,.0f} rows/s |
| load {traces} traces ({fleet_rows:,} rows) with one weft-ship | {load_all:.1f} s, {fleet_rows / load_all:,.0f} rows/s | | |
| FLEET.md blocked_by_host_object over {traces} traces ({spans:,} thread_state rows), Distributed | {timings["blocked_by_host_object"] * 1000:.1f} ms | the same question on the {traces} SQLite files in turn (python sqlite3) | {statistics.median(sqlite_runs) * 1000:.1f} ms |
| FLEET.md ready_trend_by_command over {traces} traces, Distributed | {timings["ready_trend_by_command"] * 1000:.1f} ms | | |

Command: `bench/fleet/run.sh` (TRACES={traces} REPEAT={repeat} SEQ={seq}), {os.cpu_count()} CPUs.
""")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
