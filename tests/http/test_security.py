"""weftd against hostile requests: every response says how a browser may
use it (CSP, nosniff, no referrer); only requests naming weftd's own
address get in (DNS rebinding); another origin cannot change anything
(cross-origin POST, a form's text/plain); beyond loopback an access token
guards everything."""
import json
import os
import re
import subprocess
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


if __name__ == "__main__":
    unittest.main()
