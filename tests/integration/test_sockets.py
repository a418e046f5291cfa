"""Message passing through sockets: a parent and its forked child play
ping-pong over a socketpair, a Unix socket and a loopback TCP connection.
Every message becomes one send -> recv flow with its byte count, both ways,
on one object for the connection; the program behaves as untraced."""

import os
import unittest

import weftlib

ROUNDS = 40
MESSAGE = 64


class SocketPingPong(weftlib.TraceTest):
    def ping_pong(self, mode, *extra):
        argv = [weftlib.prog("sockping"), mode, str(ROUNDS), *extra]
        untraced = self.run_untraced(argv)
        rec = self.record(argv)
        self.assert_recorded_ok(rec)
        self.assertEqual(rec.stdout, untraced.stdout)
        self.assertEqual(rec.stdout.decode().strip(), f"ok {ROUNDS}")
        db = self.open_trace(rec.db)
        parent, child = [row[0] for row in db.execute(
            "SELECT t.utid FROM thread t JOIN process p USING (upid) ORDER BY p.upid")]
        ways = dict(((out, inn), (n, total)) for out, inn, n, total in db.execute(
            "SELECT utid_out, utid_in, COUNT(*), SUM(bytes) FROM flow "
            "WHERE kind = 'socket' GROUP BY utid_out, utid_in"))
        self.assertEqual(ways.get((parent, child)), (ROUNDS, ROUNDS * MESSAGE), ways)
        self.assertEqual(ways.get((child, parent)), (ROUNDS, ROUNDS * MESSAGE), ways)
        for ts_out, ts_in in db.execute("SELECT ts_out, ts_in FROM flow WHERE kind = 'socket'"):
            self.assertLessEqual(ts_out, ts_in)
        traffic = db.execute(
            "SELECT label, messages, bytes, writers, readers FROM message_traffic "
            "WHERE kind = 'socket'").fetchall()
        self.assertEqual(len(traffic), 1, traffic)
        label, messages, total, writers, readers = traffic[0]
        self.assertEqual((messages, total, writers, readers), (2 * ROUNDS, 2 * ROUNDS * MESSAGE, 2, 2))
        return label

    def test_socketpair(self):
        self.assertIn("socketpair", self.ping_pong("socketpair"))

    def test_unix_socket(self):
        path = os.path.join(self.tmp, "ping.sock")
        self.assertIn(path, self.ping_pong("unix", path))

    def test_loopback_tcp(self):
        self.assertIn("127.0.0.1:", self.ping_pong("tcp"))

    def test_loopback_tcp_connected_without_blocking(self):
        self.assertIn("127.0.0.1:", self.ping_pong("tcp-nonblocking"))


if __name__ == "__main__":
    unittest.main()
