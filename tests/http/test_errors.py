"""weftd refuses what it cannot answer with a 4xx and a JSON error, and no
path in a URL ever reaches the file system."""
import json
import os
import unittest

from weftd_harness import Weftd, cleanup, generate, tempdir


class Errors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir()
        generate(os.path.join(cls.dir, "run.db"), 2000, 4)
        with open(os.path.join(cls.dir, "secret.txt"), "w") as f:
            f.write("do not serve me")
        cls.server = Weftd(os.path.join(cls.dir, "run.db"))

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cleanup(cls.dir)

    def expect(self, status, path, method="GET", body=None, contains=None):
        got, ctype, data = self.server.request(path, method, body)
        self.assertEqual(got, status, "%s %s -> %d %s" % (method, path, got, data[:200]))
        self.assertTrue(ctype.startswith("application/json"), ctype)
        msg = json.loads(data)["error"]
        if contains:
            self.assertIn(contains, msg)
        return msg

    def test_unknown_trace_is_404(self):
        self.expect(404, "/api/traces/nope", contains="nope")
        self.expect(404, "/api/traces/nope/timeline?start=0&end=1&px=1")

    def test_unknown_paths_are_404(self):
        self.expect(404, "/api/nothing")
        self.expect(404, "/api/traces/run/nothing")
        self.expect(404, "/no-such-file.js")

    def test_wrong_methods_are_405(self):
        self.expect(405, "/api/traces", "POST", b"")
        self.expect(405, "/api/traces/run/timeline?start=0&end=1&px=1", "DELETE")
        self.expect(405, "/api/traces/run", "PUT", b"x")

    def test_bad_parameters_are_400_with_a_reason(self):
        base = "/api/traces/run/timeline?"
        self.expect(400, base + "start=x&end=10&px=5", contains="start must be an integer")
        self.expect(400, base + "start=1.5&end=10&px=5", contains="start must be an integer")
        self.expect(400, base + "start=10&end=10&px=5", contains="start must be less than end")
        self.expect(400, base + "start=20&end=10&px=5", contains="start must be less than end")
        self.expect(400, base + "start=0&end=10&px=0", contains="px must be between 1 and 10000")
        self.expect(400, base + "start=0&end=10&px=10001", contains="px")
        self.expect(400, base + "start=0&end=10", contains="px is required")
        self.expect(400, base + "end=10&px=5", contains="start is required")
        self.expect(400, base + "start=0&end=99999999999999999999&px=5", contains="end must be")
        self.expect(400, base + "start=0&end=10&px=5&utids=1,,2", contains="utids")
        self.expect(400, base + "start=0&end=10&px=5&format=xml", contains="format")
        self.expect(400, "/api/traces/run/span?utid=a&ts=1", contains="utid must be an integer")
        self.expect(400, "/api/traces/run/span?utid=1", contains="ts is required")
        self.expect(400, "/api/traces/run/summary?start=5&end=1")
        self.expect(400, "/api/traces/run/flows?start=0")
        self.expect(400, "/api/traces/run/sql?q=SELECT%201&limit=0")
        self.expect(400, "/api/traces/run/sql")
        self.expect(400, "/api/traces/run/sql", "POST", b'{"sql": 1}')
        self.expect(400, "/api/traces/run/sql", "POST", b'{"sql": "SELECT 1"')
        self.expect(400, "/api/traces/run/export?format=csv")

    def test_huge_bodies_are_413(self):
        self.expect(413, "/api/traces/run/sql", "POST", b"x" * (64 * 1024 + 1))
        # a body just under the limit is read (and refused as bad SQL, 422)
        self.expect(422, "/api/traces/run/sql", "POST", b"SELECT 1 " + b" " * 60000 + b"FROM nowhere",
                    contains="no such table")

    def test_path_traversal_is_impossible(self):
        for raw in ["/../secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt",
                    "/api/traces/..%2Fsecret.txt", "/api/traces/../../etc/passwd",
                    "/api/traces/%2e%2e%2fsecret", "//etc/passwd", "/web/../../secret.txt"]:
            status, body = self.server.raw_get(raw)
            self.assertIn(status, (400, 404), raw)
            self.assertNotIn(b"do not serve me", body)
            self.assertNotIn(b"root:", body)

    def test_trace_ids_are_the_only_names(self):
        # the file name with .db is not an id, nor is the full path
        self.expect(404, "/api/traces/run.db")
        status, body = self.server.raw_get("/api/traces/%s" % os.path.join(self.dir, "run.db"))
        self.assertEqual(status, 404)

    def test_server_still_answers_after_errors(self):
        self.assertEqual(self.server.json("/api/traces")["traces"][0]["id"], "run")


class SqlBudget(unittest.TestCase):
    def test_runaway_query_is_interrupted_with_422(self):
        d = tempdir()
        try:
            path = generate(os.path.join(d, "run.db"), 500, 2)
            with Weftd(path, extra=("--sql-timeout", "200")) as server:
                sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
                status, _, body = server.request("/api/traces/run/sql", "POST",
                                                 json.dumps({"sql": sql}).encode())
                self.assertEqual(status, 422)
                self.assertEqual(json.loads(body)["error"], "query interrupted after 200 ms")
                # the connection is usable afterwards
                self.assertEqual(server.json("/api/traces/run/sql?q=SELECT%201")["rows"], [[1]])
        finally:
            cleanup(d)


if __name__ == "__main__":
    unittest.main(verbosity=2)
