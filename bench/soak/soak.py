#!/usr/bin/env python3
"""Soak benchmark: a real server recorded for minutes, served live.

    bench/soak/soak.py BUILD_DIR [MINUTES] [WORK_DIR]

Starts Debian's redis-server (2 io-threads) under `weft record`, drives it
with redis-benchmark (SET/GET, 20 clients, looping) for MINUTES (default
10), and serves the growing trace with weftd. Every 10 s it samples the
RSS of the collector (`weft record`) and of weftd; every 30 s it asks weftd
for the whole run's summary and timeline and times both answers. Then it
shuts redis down and times how long weft takes to exit after the server
is gone. It prints a markdown section: RSS slopes after the first minute
(least squares), request times, stop time, trace size and bytes per
million events, beside perf.data's for the same server and load
(`perf record -e dummy --switch-events`, 30 s) when perf is allowed.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def slope_mb_per_min(samples, skip_s=60):
    pts = [(t, kb) for t, kb in samples if t >= skip_s and kb is not None]
    if len(pts) < 2:
        return float("nan")
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    mk = sum(k for _, k in pts) / n
    den = sum((t - mt) ** 2 for t, _ in pts)
    if not den:
        return float("nan")
    s = sum((t - mt) * (k - mk) for t, k in pts) / den  # kB per s
    return s * 60 / 1024


def get(base, path):
    t0 = time.monotonic()
    with urllib.request.urlopen(base + path, timeout=120) as r:
        body = r.read()
    return time.monotonic() - t0, json.loads(body)


def redis_cmd(port, extra=()):
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--io-threads", "2", *extra]


def load(port):
    return subprocess.Popen(["redis-benchmark", "-p", str(port), "-q", "-n", "1000000000",
                             "-c", "20", "-t", "set,get", "-l"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def perf_bytes_per_million(work, seconds=30):
    """perf.data's bytes per million records for the same server and load."""
    if not shutil.which("perf"):
        return None
    port = free_port()
    data = os.path.join(work, "perf.data")
    perf = subprocess.Popen(["perf", "record", "-q", "-e", "dummy", "--switch-events", "-o",
                             data, "--", *redis_cmd(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_port(port):
        perf.kill()
        return None
    bench = load(port)
    time.sleep(seconds)
    bench.kill()
    bench.wait()
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    perf.wait()
    stats = subprocess.run(["perf", "report", "-i", data, "--stats"], capture_output=True,
                           text=True).stdout
    records = sum(int(m.group(1)) for m in
                  re.finditer(r"^\s*[A-Z_]+ events:\s+(\d+)", stats, re.M)
                  if "TOTAL" not in m.group(0))
    size = os.path.getsize(data)
    return (size * 1e6 / records if records else None), records, size


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    minutes = float(sys.argv[2]) if len(sys.argv) > 2 else 10
    work = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="weft-soak.")
    os.makedirs(work, exist_ok=True)
    for tool in ("redis-server", "redis-benchmark", "redis-cli"):
        if not shutil.which(tool):
            sys.exit("bench/soak: %s is missing (scripts/deps.sh --bench)" % tool)
    weft, weftd = os.path.join(build, "bin", "weft"), os.path.join(build, "bin", "weftd")
    trace = os.path.join(work, "soak.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(trace + suffix):
            os.unlink(trace + suffix)
    port = free_port()
    rec = subprocess.Popen([weft, "record", "-o", trace, "--", *redis_cmd(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if not wait_port(port):
        rec.kill()
        sys.exit("bench/soak: redis-server did not start under weft")
    server = subprocess.Popen([weftd, "--no-collect", "--listen", "127.0.0.1:0", trace],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    m = re.search(r":(\d+)/$", server.stdout.readline().strip())
    base = "http://127.0.0.1:%s" % m.group(1)
    bench = load(port)
    t0 = time.monotonic()
    rec_rss, d_rss, summary_s, timeline_s = [], [], [], []
    next_req = 30
    while time.monotonic() - t0 < minutes * 60:
        time.sleep(10)
        t = time.monotonic() - t0
        rec_rss.append((t, rss_kb(rec.pid)))
        d_rss.append((t, rss_kb(server.pid)))
        if t >= next_req:
            next_req += 30
            try:
                _, traces = get(base, "/api/traces")
                info = traces["traces"][0]
                start, end = info.get("start_ts") or 0, info.get("end_ts") or 0
                dt, _ = get(base, "/api/traces/%s/summary?start=%d&end=%d"
                            % (info["id"], start, end))
                summary_s.append(dt)
                dt, _ = get(base, "/api/traces/%s/timeline?start=%d&end=%d&px=1500"
                            % (info["id"], start, end))
                timeline_s.append(dt)
            except Exception as e:  # noqa: BLE001 -- a failed request is reported
                print("bench/soak: request failed: %s" % e, file=sys.stderr)
    bench.kill()
    bench.wait()
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # the server is gone when its port closes
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(0.005)
        except OSError:
            break
    gone = time.monotonic()
    _, err = rec.communicate()
    stop_s = time.monotonic() - gone
    d_after = rss_kb(server.pid)
    server.send_signal(signal.SIGTERM)
    server.wait()
    events = re.search(r"(\d+) events", err or "")
    events = int(events.group(1)) if events else 0
    size = os.path.getsize(trace)
    wal = os.path.exists(trace + "-wal")
    perf = perf_bytes_per_million(work)

    def fmt(xs):
        return "%.2f / %.2f s" % (sorted(xs)[len(xs) // 2], max(xs)) if xs else "n/a"

    print("## soak: redis-server under weft record for %g min, served live by weftd" % minutes)
    print()
    print("Written by `bench/soak/run.sh` (redis-benchmark SET/GET -c 20 looping; samples "
          "every 10 s, slopes by least squares after the first minute).")
    print()
    print("| measure | value |")
    print("|---|---|")
    print("| collector RSS first / last | %.1f / %.1f MB |"
          % (rec_rss[0][1] / 1024, rec_rss[-1][1] / 1024))
    print("| collector RSS slope after 1 min | %+.2f MB/min |" % slope_mb_per_min(rec_rss))
    print("| weftd RSS first / last / after the trace completed | %.1f / %.1f / %.1f MB |"
          % (d_rss[0][1] / 1024, d_rss[-1][1] / 1024, (d_after or 0) / 1024))
    print("| weftd RSS slope after 1 min | %+.2f MB/min |" % slope_mb_per_min(d_rss))
    print("| live whole-run summary, median / max (%d requests) | %s |"
          % (len(summary_s), fmt(summary_s)))
    print("| live whole-run timeline, median / max (%d requests) | %s |"
          % (len(timeline_s), fmt(timeline_s)))
    print("| stop: server gone -> weft exits | %.2f s |" % stop_s)
    print("| events recorded | %d |" % events)
    print("| trace on disk | %.1f MB%s |" % (size / 1e6, " (+ a -wal left beside it)" if wal
                                             else ", no -wal left"))
    if events:
        print("| trace bytes per million events | %.1f MB |" % (size / events))
    if perf and perf[0]:
        print("| perf.data bytes per million records (30 s, same load) | %.1f MB (%d records, "
              "%.1f MB) |" % (perf[0] / 1e6, perf[1], perf[2] / 1e6))
    finishing = [line for line in (err or "").splitlines() if "finishing" in line]
    if finishing:
        print()
        print("What weft said while finishing: " + "; ".join(finishing))
    print()
    print("RSS samples (s: collector MB, weftd MB): " + ", ".join(
        "%d: %.0f, %.0f" % (t, (a or 0) / 1024, (b[1] or 0) / 1024)
        for (t, a), b in zip(rec_rss, d_rss)))
    if len(sys.argv) <= 3:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
