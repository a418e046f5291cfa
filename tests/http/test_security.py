"""weftd against hostile requests: every response says how a browser may
use it (CSP, nosniff, no referrer); only requests naming weftd's own
address get in (DNS rebinding); another origin cannot change anything
(cross-origin POST, a form's text/plain); beyond loopback an access token
guards everything."""
import concurrent.futures
import json
import os
import re
import resource
import socket
import subprocess
import threading
import unittest
import urllib.error
import urllib.request

from weftd_harness import WEFTD, EventStream, Weftd, cleanup, generate, tempdir

CSP = "default-src 'self'; frame-ancestors 'none'"
SQL = "/api/traces/run/sql"


class Headers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir()
        generate(os.path.join(cls.dir, "run.db"), 2000, 4)
        cls.server = Weftd(os.path.join(cls.dir, "run.db"))

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cleanup(cls.dir)

    def headers(self, path, method="GET", body=None):
        req = urllib.request.Request(self.server.base + path, data=body, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.headers

    def test_every_kind_of_response_carries_the_browser_policy(self):
        paths = [("/", 200), ("/app.js", 200), ("/style.css", 200), ("/api/traces", 200),
                 ("/api/traces/run", 200), ("/api/traces/run/export", 200),
                 ("/api/traces/nope", 404), ("/no-such-file.js", 404),
                 ("/api/traces/run/timeline?start=1&end=0&px=1", 400)]
        for path, want in paths:
            status, h = self.headers(path)
            self.assertEqual(status, want, path)
            self.assertEqual(h["Content-Security-Policy"], CSP, path)
            self.assertEqual(h["X-Content-Type-Options"], "nosniff", path)
            self.assertEqual(h["Referrer-Policy"], "no-referrer", path)
        status, h = self.headers(SQL, "POST", b'{"sql": "SELECT 1"}')
        self.assertEqual((status, h["Content-Security-Policy"]), (200, CSP))

    def test_the_event_stream_carries_the_policy_too(self):
        stream = EventStream(self.server.port, "/api/events")
        try:
            head = stream.head.decode().lower()
            self.assertIn("content-security-policy: " + CSP.lower(), head)
            self.assertIn("referrer-policy: no-referrer", head)
        finally:
            stream.close()

    def test_the_dashboard_has_no_inline_script(self):
        status, _, page = self.server.request("/")
        self.assertEqual(status, 200)
        for tag in re.findall(rb"<script[^>]*>", page):
            self.assertIn(b"src=", tag, "inline script would break under the CSP")
        self.assertNotRegex(page, rb"\son[a-z]+=", "inline event handlers break under the CSP")


class Origins(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir()
        generate(os.path.join(cls.dir, "run.db"), 2000, 4)
        cls.server = Weftd(os.path.join(cls.dir, "run.db"))

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cleanup(cls.dir)

    def refused(self, path, method="GET", body=None, headers=None, contains=""):
        status, ctype, data = self.server.request(path, method, body, headers)
        self.assertEqual(status, 403, "%s %s %r -> %d" % (method, path, headers, status))
        self.assertTrue(ctype.startswith("application/json"))
        self.assertIn(contains, json.loads(data)["error"])

    def test_a_foreign_host_is_refused(self):
        # DNS rebinding: a page of evil.example whose name now resolves to
        # 127.0.0.1 sends Host: evil.example
        for host in ["evil.example", "evil.example:%d" % self.server.port, "127.0.0.1:1",
                     "localhost.evil.example:%d" % self.server.port]:
            self.refused("/api/traces", headers={"Host": host}, contains="Host")
            self.refused("/", headers={"Host": host}, contains="Host")

    def test_local_names_with_the_port_are_served(self):
        for host in ["127.0.0.1:%d", "localhost:%d", "LOCALHOST:%d", "[::1]:%d"]:
            status, _, _ = self.server.request("/api/traces",
                                               headers={"Host": host % self.server.port})
            self.assertEqual(status, 200, host)

    def test_a_cross_origin_post_is_refused(self):
        body = b'{"sql": "SELECT 1"}'
        self.refused(SQL, "POST", body, {"Origin": "http://evil.example"}, "cross-origin")
        self.refused(SQL, "POST", body, {"Origin": "null"}, "cross-origin")
        self.refused(SQL, "POST", body, {"Sec-Fetch-Site": "cross-site"}, "cross-origin")
        self.refused(SQL, "POST", body, {"Sec-Fetch-Site": "same-site"}, "cross-origin")

    def test_a_post_a_form_could_send_is_refused(self):
        # text/plain and forms need no CORS preflight: any page can send them
        for ctype in ["text/plain", "application/x-www-form-urlencoded",
                      "multipart/form-data; boundary=x", "application/jsonx"]:
            self.refused(SQL, "POST", b'{"sql": "SELECT 1"}', {"Content-Type": ctype},
                         "application/json")

    def test_the_dashboards_own_post_is_answered(self):
        origin = "http://127.0.0.1:%d" % self.server.port
        status, _, data = self.server.request(
            SQL, "POST", b'{"sql": "SELECT 41 + 1"}',
            {"Origin": origin, "Sec-Fetch-Site": "same-origin",
             "Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(status, 200, data)
        self.assertEqual(json.loads(data)["rows"], [[42]])

    def test_extreme_windows_answer_400_not_huge_answers(self):
        lo, hi = "-9223372036854775808", "9223372036854775807"
        for path in ["/api/traces/run/timeline?start=%s&end=%s&px=10000" % (lo, hi),
                     "/api/traces/run/timeline?start=0&end=%s&px=1&format=bin" % hi,
                     "/api/traces/run/timeline?start=%s&end=0&px=1" % lo,
                     "/api/traces/run/timeline?start=-4611686018427387904"
                     "&end=4611686018427387904&px=1",
                     "/api/traces/run/summary?start=%s&end=%s" % (lo, hi),
                     "/api/traces/run/flows?start=%s&end=%s" % (lo, hi)]:
            status, _, data = self.server.request(path)
            self.assertEqual(status, 400, path)
            self.assertRegex(json.loads(data)["error"], "must be between|must be at most")
        # the widest window allowed answers as any other: a few entries
        wide = "start=-1&end=4611686018427387903"
        status, _, data = self.server.request("/api/traces/run/timeline?%s&px=10000" % wide)
        self.assertEqual(status, 200)
        self.assertLess(len(data), 1 << 20)
        self.assertEqual(self.server.request("/api/traces/run/summary?" + wide)[0], 200)

    def test_loopback_needs_no_token(self):
        self.assertEqual(self.server.request("/api/traces")[0], 200)


class Token(unittest.TestCase):
    """--listen beyond loopback (0.0.0.0 here: reached through 127.0.0.1)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir()
        generate(os.path.join(cls.dir, "run.db"), 2000, 4)
        cls.proc = subprocess.Popen([WEFTD, "--no-collect", "--listen", "0.0.0.0:0",
                                     os.path.join(cls.dir, "run.db")],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        cls.banner = [cls.proc.stdout.readline() for _ in range(4)]
        cls.port = int(re.search(r":(\d+)/$", cls.banner[0].strip()).group(1))
        m = re.search(r"http://\S+:(\d+)/\?token=([0-9a-f]+)$", cls.banner[2].strip())
        cls.token = m.group(2) if m else None
        cls.base = "http://127.0.0.1:%d" % cls.port

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(timeout=10)
        cls.proc.stdout.close()
        cls.proc.stderr.close()
        cleanup(cls.dir)

    def get(self, path, headers=None):
        req = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def test_start_up_says_a_token_is_needed_and_prints_the_url(self):
        self.assertIn("needs the access token", self.banner[1])
        self.assertIsNotNone(self.token, self.banner)
        self.assertEqual(len(self.token), 48)
        self.assertEqual(self.banner[2].split("/?token=")[0].rsplit(":", 1)[1], str(self.port))

    def test_without_the_token_nothing_is_served(self):
        for path in ["/", "/app.js", "/api/traces", "/api/traces/run/export"]:
            status, _, data = self.get(path)
            self.assertEqual(status, 403, path)
            self.assertIn("token", json.loads(data)["error"])
        self.assertEqual(self.get("/api/traces?token=" + "0" * 48)[0], 403)
        self.assertEqual(self.get("/api/traces", {"Authorization": "Bearer nope"})[0], 403)

    def test_the_token_in_the_url_sets_a_strict_cookie(self):
        status, h, _ = self.get("/?token=" + self.token)
        self.assertEqual(status, 200)
        cookie = h["Set-Cookie"]
        self.assertIn("weftd_token_%d=%s" % (self.port, self.token), cookie)
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        # the page's later requests carry only the cookie
        status, _, data = self.get("/api/traces",
                                   {"Cookie": "weftd_token_%d=%s" % (self.port, self.token)})
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(data)["traces"][0]["id"], "run")

    def test_a_bearer_token_is_accepted(self):
        status, _, _ = self.get("/api/traces", {"Authorization": "Bearer " + self.token})
        self.assertEqual(status, 200)



def peak_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1))


FOREVER = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


class SqlLimits(unittest.TestCase):
    """The console's queries stay within time, memory and size bounds."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir()
        generate(os.path.join(cls.dir, "run.db"), 2000, 4)
        cls.server = Weftd(os.path.join(cls.dir, "run.db"), extra=("--sql-timeout", "1000"))

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cleanup(cls.dir)

    def sql(self, sql, limit=None):
        body = {"sql": sql}
        if limit:
            body["limit"] = limit
        status, _, data = self.server.request(SQL, "POST", json.dumps(body).encode())
        return status, json.loads(data)

    def test_a_huge_value_is_refused_without_taking_the_memory(self):
        status, answer = self.sql("SELECT length(zeroblob(1000000000))")
        self.assertEqual(status, 422)
        self.assertIn("too big", answer["error"])
        status, answer = self.sql("SELECT length(group_concat(hex(randomblob(1000)))) FROM "
                                  "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                                  "FROM c LIMIT 2000) SELECT x FROM c)")
        self.assertEqual(status, 422)
        self.assertIn("too big", answer["error"])
        self.assertLess(peak_rss_kb(self.server.proc.pid), 200 * 1024)

    def test_long_operations_are_cut_at_the_budget(self):
        for sql in [FOREVER,
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                    "LIMIT 100000000) SELECT x FROM c ORDER BY random() LIMIT 1",
                    # one function call that never looks at interrupts
                    "SELECT length(printf('%.*c', 2000000000, 'x'))"]:
            status, answer = self.sql(sql)
            self.assertEqual(status, 422, sql)
            self.assertEqual(answer["error"], "query interrupted after 1000 ms", sql)

    def test_a_result_too_big_to_send_is_truncated_with_a_note(self):
        status, answer = self.sql("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                                  "FROM c LIMIT 100000) SELECT printf('%.1000c', 'y') FROM c",
                                  limit=100000)
        self.assertEqual(status, 200)
        self.assertTrue(answer["truncated"])
        self.assertRegex(answer["note"], r"^result truncated at \d+ bytes \(\d+ rows\)$")
        self.assertLess(answer["row_count"], 100000)
        status, answer = self.sql("SELECT 1 UNION ALL SELECT 2", limit=1)
        self.assertEqual((answer["truncated"], answer["note"]), (True, "result truncated at 1 rows"))
        status, answer = self.sql("SELECT 1")
        self.assertNotIn("note", answer)

    def test_writes_attach_and_pragmas_stay_refused(self):
        for sql in ["DELETE FROM thread", "ATTACH '/tmp/x.db' AS x", "PRAGMA journal_mode=DELETE",
                    "VACUUM INTO '/tmp/weft-test-vacuum.db'"]:
            status, answer = self.sql(sql)
            self.assertIn(status, (422,), sql)
        self.assertFalse(os.path.exists("/tmp/weft-test-vacuum.db"))

    def raw_post(self, headers, first_block):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        s.sendall(("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "Content-Type: application/json\r\n%s\r\n\r\n"
                   % (SQL, self.server.port, headers)).encode() + first_block)
        return s

    def test_a_huge_declared_body_is_refused_before_it_is_sent(self):
        s = self.raw_post("Content-Length: 600000000", b"x" * 65536)
        try:
            head = s.recv(200)  # answered with 599.9 MB still unsent
        finally:
            s.close()
        self.assertTrue(head.startswith(b"HTTP/1.1 413"), head)

    def test_a_huge_chunked_body_is_not_read_in_full(self):
        block = b"x" * 65536
        s = self.raw_post("Transfer-Encoding: chunked", b"10000\r\n" + block + b"\r\n")
        sent = 65536
        try:
            with self.assertRaises(OSError):  # weftd hangs up
                while sent < 600 * 1024 * 1024:
                    s.sendall(b"10000\r\n" + block + b"\r\n")
                    sent += len(block)
        finally:
            s.close()
        self.assertLess(sent, 600 * 1024 * 1024)


class SqlShare(unittest.TestCase):
    """SQL runs on threads of its own: the rest of weftd answers meanwhile."""

    def setUp(self):
        self.dir = tempdir()
        generate(os.path.join(self.dir, "run.db"), 2000, 4)
        self.server = Weftd(os.path.join(self.dir, "run.db"), extra=("--sql-timeout", "60000"))
        self.pool = concurrent.futures.ThreadPoolExecutor(24)

    def tearDown(self):
        # stopping interrupts the queries still running
        self.assertEqual(self.server.stop(), 0)
        self.pool.shutdown()
        cleanup(self.dir)

    def slow(self):
        status, _, data = self.server.request(SQL, "POST", json.dumps({"sql": FOREVER}).encode())
        return status, data

    def test_the_trace_list_answers_while_slow_queries_run(self):
        queries = [self.pool.submit(self.slow) for _ in range(6)]
        started = threading.Event()
        threading.Timer(1.0, started.set).start()
        started.wait()
        status, _, data = self.server.request("/api/traces")
        self.assertEqual(status, 200)
        status, _, _ = self.server.request("/api/traces/run/timeline?start=0&end=10000000000&px=100")
        self.assertEqual(status, 200)
        self.assertFalse(any(q.done() for q in queries), "the queries have a minute to run")

    def test_a_full_queue_is_told_busy_at_once(self):
        queries = [self.pool.submit(self.slow) for _ in range(24)]
        done, _ = concurrent.futures.wait(queries, timeout=30,
                                          return_when=concurrent.futures.FIRST_COMPLETED)
        status, data = next(iter(done)).result()
        self.assertEqual(status, 503)
        self.assertIn("busy", json.loads(data)["error"])


class StuckQuery(unittest.TestCase):
    def test_weftd_stops_promptly_while_a_query_is_stuck_in_one_call(self):
        d = tempdir()
        try:
            generate(os.path.join(d, "run.db"), 2000, 4)
            server = Weftd(os.path.join(d, "run.db"), extra=("--sql-timeout", "500"))
            status, _, data = server.request(
                SQL, "POST", b'{"sql": "SELECT length(printf(\'%.*c\', 2000000000, \'x\'))"}')
            self.assertEqual((status, json.loads(data)["error"]),
                             (422, "query interrupted after 500 ms"))
            # its thread is still inside printf; stopping does not wait for it
            # (the harness kills weftd after 10 s: exit status -9)
            self.assertEqual(server.stop(), 0)
        finally:
            cleanup(d)


class Connections(unittest.TestCase):
    """Idle and trickling connections cannot shut others out."""

    def setUp(self):
        self.dir = tempdir()
        generate(os.path.join(self.dir, "run.db"), 2000, 4)

    def tearDown(self):
        cleanup(self.dir)

    def test_slowloris_does_not_block_a_normal_client(self):
        # weftd as many systems start it: 1,024 descriptors and no more
        def few_fds():
            resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 4096:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        server = Weftd(os.path.join(self.dir, "run.db"), preexec_fn=few_fds)
        slow = []
        try:
            # 2,000 requests from another address (127.0.0.2), each
            # stopping before the end of its headers
            for _ in range(2000):
                s = socket.socket()
                s.bind(("127.0.0.2", 0))
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", server.port))
                slow.append(s)
            for s in slow:
                try:
                    s.send(b"GET /api/traces HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-A: "
                           % server.port)
                except OSError:
                    pass  # refused or not yet connected: either way, holding
            status, _, data = server.request("/api/traces")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(data)["traces"][0]["id"], "run")
        finally:
            for s in slow:
                s.close()
            server.stop()

    def test_a_port_in_use_is_said_once_in_weftds_words(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            p = subprocess.run([WEFTD, "--no-collect", "--listen", "127.0.0.1:%d" % port,
                                os.path.join(self.dir, "run.db")],
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr,
                         "weftd: cannot listen on 127.0.0.1:%d: Address already in use\n" % port)
        self.assertEqual(p.stdout, "")

    def test_version(self):
        p = subprocess.run([WEFTD, "--version"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^weftd \d+\.\d+\.\d+\S*\n$")

if __name__ == "__main__":
    unittest.main()
