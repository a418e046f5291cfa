"""A workload stopped with SIGSTOP and continued with SIGCONT: the
recorder sees the stop, the process is Suspended in the trace for the
time it was stopped, and the workload carries on as untraced."""

import glob
import os
import signal
import subprocess
import time
import unittest

from weftlib import MS, TIMEOUT, WEFT, TraceTest

# The shell stops itself; the test continues it.
COMMAND = ["sh", "-c", "kill -STOP $$; echo resumed"]
STOPPED_FOR = 0.3  # seconds


def children(pid):
    found = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        with open(path) as f:
            found += [int(c) for c in f.read().split()]
    return found


def state_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


class Suspended(TraceTest):
    def setUp(self):
        super().setUp()
        self.db = os.path.join(self.tmp, "trace.db")
        proc = subprocess.Popen([WEFT, "record", "-o", self.db, "--", *COMMAND],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        stopped = None
        deadline = time.monotonic() + 20
        while stopped is None and time.monotonic() < deadline:
            for pid in children(proc.pid):
                try:
                    if state_of(pid) == "T":
                        stopped = pid
                except OSError:
                    pass
            time.sleep(0.01)
        self.assertIsNotNone(stopped, "the workload never showed up stopped")
        time.sleep(STOPPED_FOR)
        os.kill(stopped, signal.SIGCONT)
        self.stdout, self.stderr = proc.communicate(timeout=TIMEOUT)
        self.returncode = proc.returncode

    def test_workload_resumes_and_exits_normally(self):
        self.assertEqual(self.returncode, 0, self.stderr.decode(errors="replace"))
        self.assertEqual(self.stdout, b"resumed\n")

    def test_process_is_suspended_while_stopped(self):
        rows = self.query(self.db, """SELECT dur FROM process_state
            WHERE state = 'Suspended' ORDER BY dur DESC""")
        self.assertTrue(rows, "no Suspended span")
        self.assertGreaterEqual(rows[0]["dur"], int(STOPPED_FOR * 0.5 * 1000) * MS)


if __name__ == "__main__":
    unittest.main()
