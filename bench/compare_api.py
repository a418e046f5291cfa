#!/usr/bin/env python3
"""Byte-for-byte comparison of two weftd builds' API answers on the same
traces (a refactoring must not change them):

    bench/compare_api.py OLD_WEFTD NEW_WEFTD TRACE_DIR

Starts each weftd on 127.0.0.1:0 over TRACE_DIR (--no-collect), asks both
the same requests for every trace (the list, the overview, whole-run and
zoomed timelines as JSON and binary, summary, flows, objects, schema,
spans, SQL, the Chrome export, the dashboard's files) and prints one line
per request that differs. Exits 0 when every answer is identical, 1 when
one differs, 2 on a usage or start-up error. The answers are compared
with the "id" and "path"-free parts of /api/traces only where they name
the server's own files (both serve the same directory, so nothing is
excluded)."""
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request

ELAPSED = re.compile(rb'"elapsed_ms":[0-9.eE+-]+')


class Weftd:
    def __init__(self, binary, trace_dir):
        self.proc = subprocess.Popen([binary, "--no-collect", "--listen", "127.0.0.1:0", trace_dir],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        banner = self.proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", banner)
        if not m:
            self.proc.kill()
            raise RuntimeError("%s did not start: %r" % (binary, banner))
        self.base = "http://127.0.0.1:%s" % m.group(1)

    def get(self, path, data=None):
        req = urllib.request.Request(self.base + path, data=data)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.headers.get("Content-Type"), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def requests_for(server):
    yield "/api/traces", None
    yield "/", None
    status, _, body = server.get("/api/traces")
    traces = json.loads(body)["traces"] if status == 200 else []
    for trace in traces:
        tid = trace["id"]
        base = "/api/traces/%s" % tid
        yield base, None
        status, _, body = server.get(base)
        if status != 200:
            continue
        info = json.loads(body)
        start, end = info.get("start_ts", 0), info.get("end_ts", 0)
        mid = (start + end) // 2
        quarter = max((end - start) // 4, 1)
        for fmt in ("json", "bin"):
            for a, b, px in ((start, end, 1000), (start, end, 37), (mid - quarter, mid + quarter, 800),
                             (mid, mid + max(quarter // 1000, 1), 500)):
                yield "%s/timeline?start=%d&end=%d&px=%d&format=%s" % (base, a, b, px, fmt), None
        yield "%s/summary?start=%d&end=%d" % (base, start, end), None
        yield "%s/summary?start=%d&end=%d" % (base, mid - quarter, mid + quarter), None
        yield "%s/flows?start=%d&end=%d" % (base, start, end), None
        yield "%s/objects" % base, None
        yield "%s/schema" % base, None
        yield "%s/export?format=chrome-json" % base, None
        for utid in (1, 2, 3):
            yield "%s/span?utid=%d&ts=%d" % (base, utid, mid), None
        for sql in ("SELECT * FROM thread_state ORDER BY utid, ts LIMIT 500",
                    "SELECT * FROM process", "SELECT * FROM meta ORDER BY key",
                    "SELECT * FROM flow ORDER BY ts_out LIMIT 500"):
            yield "%s/sql" % base, json.dumps({"sql": sql, "limit": 1000}).encode()


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        old, new = Weftd(sys.argv[1], sys.argv[3]), Weftd(sys.argv[2], sys.argv[3])
    except RuntimeError as e:
        print("compare_api: %s" % e, file=sys.stderr)
        return 2
    differ = same = 0
    try:
        for path, data in requests_for(old):
            a, b = old.get(path, data), new.get(path, data)
            a = a[:2] + (ELAPSED.sub(b'"elapsed_ms":_', a[2]),)
            b = b[:2] + (ELAPSED.sub(b'"elapsed_ms":_', b[2]),)
            if a == b:
                same += 1
            else:
                differ += 1
                print("differs: %s%s (%s %d bytes vs %s %d bytes)" %
                      ("POST " if data else "", path, a[0], len(a[2]), b[0], len(b[2])))
    finally:
        old.stop()
        new.stop()
    print("compare_api: %d identical, %d different" % (same, differ))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
