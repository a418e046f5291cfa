"""Waits that are neither locks nor streams are named: a file's positioned
writes and syncs are Blocked io on the file's fd, a wait for a signal is
Blocked signal (a database backend's fdatasync, a server master's
sigsuspend), where they read `other` before."""

import os
import unittest

from weftlib import MS, TraceTest, prog


class WaitsNamedTest(TraceTest):

    def setUp(self):
        super().setUp()
        # on the disk, not a tmpfs: syncing 8 MiB there waits for the device
        data = os.path.join(os.environ.get("WEFT_DISK_TMP", "/var/tmp"),
                            "weft-filewaits-%d.data" % os.getpid())
        self.addCleanup(lambda: os.path.exists(data) and os.unlink(data))
        rec = self.record([prog("filewaits"), data])
        self.assert_recorded_ok(rec)
        self.assertEqual(rec.stdout, b"synced\nsignalled\n")
        self.db = rec.db
        self.main = self.query(self.db, "SELECT t.utid FROM thread t JOIN process p "
                                        "ON p.upid = t.upid WHERE p.parent_upid IS NULL")[0][0]

    def blocked(self, reason):
        return self.query(self.db, """
            SELECT s.dur, o.kind FROM thread_state s LEFT JOIN object o USING (object_id)
            WHERE s.utid = ? AND s.state = 'Blocked' AND s.reason = ?""", (self.main, reason))

    def test_a_wait_for_a_signal_is_blocked_signal(self):
        waits = [w for w in self.blocked("signal") if w["dur"] >= 50 * MS]
        self.assertEqual(len(waits), 1, [tuple(w) for w in self.blocked("signal")])

    def test_writing_and_syncing_a_file_waits_on_its_fd(self):
        waits = self.blocked("io")
        self.assertTrue(waits, "no Blocked io span while writing and syncing 8 MiB")
        self.assertEqual({w["kind"] for w in waits}, {"fd"})


if __name__ == "__main__":
    unittest.main()
