"""Servers under load, untraced vs `weft record` vs `perf record -e dummy
--switch-events`, alternating in one sitting; prints a markdown section
(bench/servers/run.sh runs it).

  python3 measure.py --build BUILD_DIR --work DIR [--seconds S] [--rounds R]

Each server is started by the benchmark on a free loopback port, driven by
its own benchmark tool, and stopped by its usual signal (SIGTERM; SIGINT,
"fast shutdown", for PostgreSQL):
  - PostgreSQL: pgbench -c 8 -j 2 -T S, scale 10 (TPS);
  - Redis: redis-benchmark -t set,get,lpush -c 50 -n N (requests/s each);
  - nginx, 2 workers, a 4 KB static file: ab -c 20 -n N (requests/s).
Rounds rotate the order of the three variants. Ratios are medians over the
rounds of the figure divided by the untraced figure of the same round.
Every traced run is checked (0 events lost) and queried: the largest share
of a process's Blocked time that is `other`, and the trace's bytes per
second of load beside perf.data's.
"""

import argparse
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import time

VARIANTS = ("untraced", "weft", "perf")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


class Server:
    """One server run under one variant: start(), then stop() → stats."""

    def __init__(self, args, variant, name, argv, user=None):
        self.args, self.variant, self.name = args, variant, name
        self.db = os.path.join(args.work, f"{name}.db")
        self.perf_data = os.path.join(args.work, f"{name}.perf.data")
        weft = os.path.join(args.build, "bin", "weft")
        wrap = {
            "untraced": [],
            "weft": [weft, "record", "-q", "-f", "-o", self.db, "--"],
            "perf": ["perf", "record", "-q", "--no-bpf-event", "-e", "dummy",
                     "--switch-events", "-o", self.perf_data, "--"],
        }[variant]
        self.command = wrap + argv
        if user:
            self.command = ["runuser", "-u", user, "--"] + self.command
        for path in (self.db, self.db + "-wal", self.db + "-shm", self.perf_data):
            if os.path.exists(path):
                os.remove(path)
        self.log = open(os.path.join(args.work, f"{name}.{variant}.log"), "wb")
        self.proc = subprocess.Popen(self.command, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def server_pid(self):
        """The server's own pid (below runuser and the recorder)."""
        pid = self.proc.pid
        depth = (1 if self.command[0] == "runuser" else 0) + (self.variant != "untraced")
        for _ in range(depth):
            kids = []
            for _ in range(100):
                kids = children(pid)
                if kids:
                    break
                time.sleep(0.02)
            pid = kids[0]
        return pid

    def stop(self, sig):
        recorder = self.proc.pid
        if self.command[0] == "runuser":
            recorder = children(recorder)[0]
        self.recorder_cpu = cpu_seconds(recorder) if self.variant != "untraced" else 0.0
        os.kill(self.server_pid(), sig)
        t0 = time.perf_counter()
        self.proc.wait(timeout=120)
        self.stop_seconds = time.perf_counter() - t0
        self.log.close()
        self.status = self.proc.returncode
        self.bytes = 0
        if self.variant == "weft":
            self.bytes = sum(os.path.getsize(p) for p in (self.db, self.db + "-wal")
                             if os.path.exists(p))
        elif self.variant == "perf" and os.path.exists(self.perf_data):
            self.bytes = os.path.getsize(self.perf_data)


def trace_checks(db):
    """(events lost, largest share of one process's Blocked time as other,
    whose, rows of thread_state, ring events, poll waits with an object /
    all poll waits)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    lost = sum(int(v) for (v,) in con.execute(
        "SELECT value FROM meta WHERE key IN ('events_lost','sched_events_lost')"))
    events = int((con.execute("SELECT value FROM meta WHERE key = 'events'").fetchone()
                  or ["0"])[0])
    worst, whose = 0.0, ""
    for upid, name, other, blocked in con.execute(
            """SELECT p.upid, p.name,
                      SUM(CASE WHEN ts.reason = 'other' THEN ts.dur ELSE 0 END),
                      SUM(ts.dur)
               FROM thread_state ts JOIN thread t USING (utid)
               JOIN process p ON p.upid = t.upid
               WHERE ts.state = 'Blocked' GROUP BY p.upid"""):
        if blocked and other / blocked > worst:
            worst, whose = other / blocked, f"{name} ({upid})"
    rows = con.execute("SELECT COUNT(*) FROM thread_state").fetchone()[0]
    polls = con.execute("SELECT COUNT(object_id), COUNT(*) FROM thread_state "
                        "WHERE state = 'Blocked' AND reason = 'poll'").fetchone()
    con.close()
    return lost, worst, whose, rows, events, polls


def run_redis(args, variant):
    port = free_port()
    s = Server(args, variant, "redis",
               ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", args.work])
    wait_port(port)
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", "50",
                          "-n", str(args.redis_requests), "-t", "set,get,lpush", "--csv"],
                         capture_output=True, text=True, check=True).stdout
    figures = {}
    for line in out.splitlines():
        parts = [p.strip('"') for p in line.split(",")]
        if len(parts) >= 2 and parts[0] in ("SET", "GET", "LPUSH"):
            figures[parts[0]] = float(parts[1])
    s.stop(signal.SIGTERM)
    return s, figures


NGINX_CONF = """worker_processes 2;
daemon off;
master_process on;
pid {work}/nginx.pid;
error_log {work}/nginx.error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}/nginx-tmp;
  proxy_temp_path {work}/nginx-tmp;
  fastcgi_temp_path {work}/nginx-tmp;
  uwsgi_temp_path {work}/nginx-tmp;
  scgi_temp_path {work}/nginx-tmp;
  server {{ listen 127.0.0.1:{port}; root {work}/www; }}
}}
"""


def run_nginx(args, variant):
    port = free_port()
    os.makedirs(os.path.join(args.work, "www"), exist_ok=True)
    os.makedirs(os.path.join(args.work, "nginx-tmp"), exist_ok=True)
    with open(os.path.join(args.work, "www", "index.html"), "w") as f:
        f.write("<html>" + "weft " * 800 + "</html>\n")
    conf = os.path.join(args.work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(work=args.work, port=port))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    s = Server(args, variant, "nginx", [nginx, "-c", conf, "-e", f"{args.work}/nginx.error.log"])
    wait_port(port)
    out = subprocess.run(["ab", "-q", "-c", "20", "-n", str(args.nginx_requests),
                          f"http://127.0.0.1:{port}/index.html"],
                         capture_output=True, text=True, check=True).stdout
    rps = next(float(line.split()[3]) for line in out.splitlines()
               if line.startswith("Requests per second"))
    s.stop(signal.SIGTERM)
    return s, {"requests/s": rps}


def pg_prepare(args):
    data = os.path.join(args.work, "pgdata")
    bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True,
                            text=True).stdout.strip()
    if not os.path.isdir(bindir):
        bindir = sorted(d for d in os.listdir("/usr/lib/postgresql"))[-1]
        bindir = f"/usr/lib/postgresql/{bindir}/bin"
    args.pg_bin = bindir
    shutil.chown(args.work, "postgres")
    if not os.path.exists(os.path.join(data, "PG_VERSION")):
        shutil.rmtree(data, ignore_errors=True)
        subprocess.run(["runuser", "-u", "postgres", "--", f"{bindir}/initdb", "-A", "trust",
                        "-D", data], check=True, capture_output=True)
        args.pg_fresh = True
    else:
        args.pg_fresh = False
    return data


def run_pg(args, variant):
    port = free_port()
    data = os.path.join(args.work, "pgdata")
    s = Server(args, variant, "postgres",
               [f"{args.pg_bin}/postgres", "-D", data, "-p", str(port), "-k", args.work,
                "-c", "listen_addresses=127.0.0.1"], user="postgres")
    wait_port(port)
    time.sleep(0.5)
    base = ["runuser", "-u", "postgres", "--", "pgbench", "-h", "127.0.0.1", "-p", str(port)]
    if args.pg_fresh:
        subprocess.run(base + ["-i", "-q", "-s", "10", "postgres"], check=True,
                       capture_output=True)
        args.pg_fresh = False
    out = subprocess.run(base + ["-c", "8", "-j", "2", "-T", str(args.seconds), "-n",
                                 "postgres"], capture_output=True, text=True, check=True).stdout
    tps = next(float(line.split("=")[1].split()[0]) for line in out.splitlines()
               if line.startswith("tps"))
    s.stop(signal.SIGINT)
    s.load_seconds = args.seconds
    return s, {"TPS": tps}


def fmt_ratio(values):
    return f"{statistics.median(values):.2f}" if values else "n/a"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--seconds", type=int,
                    default=int(os.environ.get("WEFT_BENCH_SERVERS_SECONDS", "5")))
    ap.add_argument("--rounds", type=int,
                    default=int(os.environ.get("WEFT_BENCH_SERVERS_ROUNDS", "2")))
    args = ap.parse_args()
    args.redis_requests = 20000 * args.seconds
    args.nginx_requests = 8000 * args.seconds
    pg_prepare(args)
    servers = (("PostgreSQL: pgbench -c 8 -j 2 -T %d, scale 10" % args.seconds, run_pg),
               ("Redis: redis-benchmark -c 50 -n %d" % args.redis_requests, run_redis),
               ("nginx, 2 workers, 4 KB static file: ab -c 20 -n %d" % args.nginx_requests,
                run_nginx))
    rows = []
    notes = []
    load = open("/proc/loadavg").read().split()[:3]
    for title, fn in servers:
        results = {v: [] for v in VARIANTS}
        for r in range(args.rounds):
            order = VARIANTS[r % 3:] + VARIANTS[:r % 3]
            for variant in order:
                s, figures = fn(args, variant)
                results[variant].append((s, figures))
                if variant == "weft":
                    s.checks = trace_checks(s.db)
        keys = list(results["untraced"][0][1].keys())
        for key in keys:
            base = [fig[key] for _, fig in results["untraced"]]
            cells = []
            for v in ("weft", "perf"):
                ratios = [fig[key] / b for (_, fig), b in zip(results[v], base) if b]
                cells.append(fmt_ratio(ratios))
            rows.append((f"{title} ({key})", f"{statistics.median(base):,.0f}", *cells))
        stops = {v: statistics.median(s.stop_seconds for s, _ in results[v]) for v in VARIANTS}
        rows.append((f"{title}: stop signal → exit (s)", f"{stops['untraced']:.2f}",
                     f"{stops['weft']:.2f}", f"{stops['perf']:.2f}"))
        w = [s for s, _ in results["weft"]]
        status = {v: sorted({s.status for s, _ in results[v]}) for v in VARIANTS}
        lost = max(s.checks[0] for s in w)
        worst = max(w, key=lambda s: s.checks[1])
        secs = getattr(w[0], "load_seconds", None)
        size = ""
        if secs:
            wb = statistics.median(s.bytes for s in w) / secs
            pb = statistics.median(s.bytes for s, _ in results["perf"]) / secs
            size = f"; {wb / 1e6:.2f} MB of trace per second of load (perf.data: {pb / 1e6:.2f} MB/s)"
        notes.append(f"- {title}: exit status untraced/weft/perf {status['untraced']}/"
                     f"{status['weft']}/{status['perf']}; events lost {lost}; "
                     f"collector CPU {statistics.median(s.recorder_cpu for s in w):.2f} s for "
                     f"{statistics.median(s.checks[4] for s in w):,.0f} ring events "
                     f"({statistics.median(s.recorder_cpu / max(s.checks[4], 1) for s in w) * 1e6:.1f}"
                     " us per event, switch records included in the CPU); "
                     f"poll waits with an object {w[0].checks[5][0]:,} of {w[0].checks[5][1]:,}; "
                     f"thread_state rows {w[0].checks[3]:,}; largest `other` share of a "
                     f"process's Blocked time {worst.checks[1]:.0%} ({worst.checks[2]}){size}")
    print("## Servers under load (bench/servers/run.sh)")
    print()
    print(f"Load average at start: {' '.join(load)}; {args.rounds} rounds, variant order "
          "rotating; ratios are medians of figure / untraced figure of the same round.")
    print()
    print("| benchmark | untraced | weft record | perf record |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print("\n".join(notes))
    print()
    print(f"Command: `bench/servers/run.sh --write {args.build}` "
          f"(WEFT_BENCH_SERVERS_SECONDS={args.seconds} WEFT_BENCH_SERVERS_ROUNDS={args.rounds}); "
          "weft as `weft record -q -f -o T.db -- SERVER`, perf as `perf record -q "
          "--no-bpf-event -e dummy --switch-events -o perf.data -- SERVER`.")


if __name__ == "__main__":
    main()
