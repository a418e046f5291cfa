"""weftd as a tracing daemon: a program started with LD_PRELOAD=libweft.so
and WEFT_SOCKET (no WEFT_OUT, no WEFT_SHM) is recorded by weftd into its
trace directory, appears in the trace list while it runs and completes when
it ends; without a weftd it runs untraced; weftd refuses other users,
malformed requests and a second weftd on the same socket.

Real processes only: the built weftd (which starts the built `weft record
--attach` for each program), libweft.so preloaded into /bin/sh, seq, grep.
"""
import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

from weftd_harness import WEFTD, EventStream, Weftd, cleanup, tempdir

LIBWEFT = os.environ.get("WEFT_LIBWEFT", "")
PIPELINE = ["sh", "-c", "seq 1 1000 | grep -c 1"]
WAIT_S = 15


def preloaded(socket_path, **extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("WEFT_SHM", "WEFT_OUT", "WEFT_SOCKET", "LD_PRELOAD", "WEFT_DEBUG")}
    if socket_path is not None or extra:
        env["LD_PRELOAD"] = LIBWEFT
    if socket_path is not None:
        env["WEFT_SOCKET"] = socket_path
    env.update(extra)
    return env


def untraced(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def ask(socket_path, line, user=None):
    """Sends one raw request line (as uid `user` through setpriv when
    given); returns weftd's answer line."""
    code = ("import socket,sys\n"
            "s=socket.socket(socket.AF_UNIX)\n"
            "s.settimeout(5)\n"
            "s.connect(sys.argv[1])\n"
            "try:\n"
            "    s.sendall(sys.argv[2].encode())\n"
            "except BrokenPipeError:\n"
            "    pass  # weftd may answer and close before reading\n"
            "data=b''\n"
            "while not data.endswith(b'\\n'):\n"
            "    chunk=s.recv(256)\n"
            "    if not chunk: break\n"
            "    data+=chunk\n"
            "sys.stdout.write(data.decode())\n")
    # the system's python3: one under root's home is out of another uid's reach
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
    cmd = [python, "-c", code, socket_path, line]
    if user is not None:
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("the client failed: %s" % r.stderr)
    return r.stdout


def until(what, check, timeout=WAIT_S):
    """Polls check() until it returns something true; fails after timeout
    seconds saying what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


class Daemon(unittest.TestCase):
    def setUp(self):
        self.assertTrue(LIBWEFT and os.path.exists(LIBWEFT),
                        "WEFT_LIBWEFT must name the built libweft.so (got %r)" % LIBWEFT)
        self.dir = tempdir()
        self.sock = os.path.join(self.dir, "run", "weftd.sock")
        self.traces = os.path.join(self.dir, "traces")
        os.makedirs(self.traces)
        self.server = Weftd(extra=("--socket", self.sock, "--trace-dir", self.traces),
                            collect=True)

    def tearDown(self):
        self.assertEqual(self.server.stop(), 0)
        cleanup(self.dir)

    def listed(self):
        return self.server.json("/api/traces")["traces"]

    def test_start_names_the_socket_and_a_private_directory(self):
        self.assertEqual(self.server.collecting,
                         (self.sock, os.path.realpath(self.traces)))
        self.assertEqual(os.stat(os.path.dirname(self.sock)).st_mode & 0o777, 0o700)
        self.assertTrue(os.path.exists(self.sock))

    def test_preloaded_pipeline_is_recorded_listed_and_completes(self):
        stream = EventStream(self.server.port, "/api/events")
        self.assertEqual(stream.next_event(), ("traces", {"count": 0}))
        plain = untraced(PIPELINE)
        traced = subprocess.run(PIPELINE, capture_output=True, text=True, timeout=60,
                                env=preloaded(self.sock))
        self.assertEqual((traced.returncode, traced.stdout, traced.stderr),
                         (0, plain.stdout, ""))
        self.assertEqual(plain.stdout, "272\n")
        # the list announces it live
        self.assertEqual(stream.next_event(), ("traces", {"count": 1}))
        stream.close()
        (trace,) = self.listed()
        self.assertTrue(trace["file"].startswith("sh-"), trace["file"])
        self.assertEqual(trace["command"], "sh -c seq 1 1000 | grep -c 1")
        until("status complete",
              lambda: self.server.json("/api/traces/" + trace["id"])["status"] == "complete")
        detail = self.server.json("/api/traces/" + trace["id"])
        names = sorted(p["name"] for p in detail["processes"])
        for want in ("sh", "seq", "grep"):
            self.assertIn(want, names)
        self.assertEqual(os.listdir(self.traces).count(trace["file"]), 1)

    def test_each_program_run_is_its_own_trace(self):
        for _ in range(2):
            r = subprocess.run(["sh", "-c", "echo hi"], capture_output=True, text=True,
                               timeout=60, env=preloaded(self.sock))
            self.assertEqual((r.returncode, r.stdout), (0, "hi\n"))
        traces = until("two traces", lambda: len(self.listed()) == 2 and self.listed())
        self.assertEqual(len({t["file"] for t in traces}), 2)
        for t in traces:
            until("status complete", lambda: self.server.json(
                "/api/traces/" + t["id"])["status"] == "complete")

    def test_programs_started_together_each_get_their_trace(self):
        # more than weftd's first allocation of collectors, all at once
        n = 12
        progs = [subprocess.Popen(PIPELINE, stdout=subprocess.PIPE, text=True,
                                  env=preloaded(self.sock)) for _ in range(n)]
        outs = [p.communicate(timeout=60)[0] for p in progs]
        self.assertEqual(outs, ["272\n"] * n)
        self.assertEqual([p.returncode for p in progs], [0] * n)
        traces = until("%d traces" % n, lambda: len(self.listed()) == n and self.listed())
        self.assertEqual(sorted(t["file"].split("-")[1] for t in traces),
                         sorted(str(p.pid) for p in progs))
        for t in traces:
            until("status complete", lambda: self.server.json(
                "/api/traces/" + t["id"])["status"] == "complete")

    def test_a_burst_of_requests_is_answered_each_with_its_own_ring(self):
        # all requests arrive before weftd answers any: it has as many
        # collectors starting at once as connections
        n = 20
        socks = []
        try:
            for _ in range(n):
                s = socket.socket(socket.AF_UNIX)
                s.settimeout(30)
                s.connect(self.sock)
                socks.append(s)
            for s in socks:
                s.sendall(b"weft 1 %d burst\n" % os.getpid())
            answers = []
            for s in socks:
                data = b""
                while not data.endswith(b"\n"):
                    chunk = s.recv(256)
                    if not chunk:
                        break
                    data += chunk
                answers.append(data.decode())
        finally:
            for s in socks:
                s.close()
        self.assertEqual([a.split(" ")[0] for a in answers], ["ok"] * n, answers)
        self.assertEqual(len({a for a in answers}), n)
        until("%d traces" % n, lambda: len(self.listed()) == n)
        # (the collectors follow this test's process: stopping weftd ends
        # them, checked by tearDown's clean exit)

    def test_trace_is_recording_while_the_program_runs(self):
        prog = subprocess.Popen(["sh", "-c", "read line; echo got $line"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                env=preloaded(self.sock))
        try:
            (trace,) = until("the trace to be listed", self.listed)
            self.assertEqual(trace["status"], "recording")
            self.assertIsNone(prog.poll())
            out, _ = prog.communicate("x\n", timeout=60)
        finally:
            if prog.poll() is None:
                prog.kill()
                prog.wait()
        self.assertEqual((prog.returncode, out), (0, "got x\n"))
        until("status complete",
              lambda: self.server.json("/api/traces/" + trace["id"])["status"] == "complete")

    def test_stopping_weftd_ends_recordings_and_the_program_carries_on(self):
        prog = subprocess.Popen(["sh", "-c", "read line; echo got $line"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                env=preloaded(self.sock))
        try:
            (trace,) = until("the trace to be listed", self.listed)
            self.assertEqual(self.server.stop(), 0)
            self.assertFalse(os.path.exists(self.sock), "the socket file is removed")
            out, _ = prog.communicate("x\n", timeout=60)
        finally:
            if prog.poll() is None:
                prog.kill()
                prog.wait()
        self.assertEqual((prog.returncode, out), (0, "got x\n"))
        # the collector was told to stop and finished the trace
        with Weftd(os.path.join(self.traces, trace["file"])) as viewer:
            self.assertIn(viewer.json("/api/traces")["traces"][0]["status"],
                          ("complete", "interrupted"))

    def test_the_program_keeps_no_descriptor_of_ours(self):
        cmd = ["sh", "-c", "ls /proc/$$/fd"]
        traced = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                                env=preloaded(self.sock))
        self.assertEqual(traced.stdout, untraced(cmd).stdout)
        (trace,) = until("the trace to be listed", self.listed)

    def test_malformed_requests_are_answered_with_an_error(self):
        self.assertTrue(ask(self.sock, "hello\n").startswith("error bad request"))
        self.assertTrue(ask(self.sock, "weft 2 1 sh\n").startswith(
            "error protocol version not supported"))
        self.assertEqual(self.listed(), [])
        self.assertEqual(os.listdir(self.traces), [])

    def test_a_second_weftd_on_the_same_socket_is_refused(self):
        other = os.path.join(self.dir, "other")
        os.makedirs(other)
        p = subprocess.run([WEFTD, "--listen", "127.0.0.1:0", "--socket", self.sock,
                            "--trace-dir", other], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("another weftd is listening on " + self.sock, p.stderr)
        # and the first one still works
        r = subprocess.run(["sh", "-c", "echo hi"], capture_output=True, text=True,
                           timeout=60, env=preloaded(self.sock))
        self.assertEqual(r.stdout, "hi\n")
        until("the trace to be listed", self.listed)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"),
                         "needs root and setpriv to run a program as another uid")
    def test_another_uid_is_refused(self):
        # let uid 65534 reach the socket, so that the credential check (not
        # the file mode) is what refuses it
        os.chmod(self.dir, 0o755)
        os.chmod(os.path.dirname(self.sock), 0o755)
        os.chmod(self.sock, 0o666)
        answer = ask(self.sock, "weft 1 %d sh\n" % os.getpid(), user=65534)
        self.assertTrue(answer.startswith("error permission denied: uid 65534"), answer)
        # the library is preloaded after the switch (into sh, not setpriv),
        # from a copy uid 65534 can read (the checkout may sit in a 0700
        # directory, as mktemp -d and many home directories make it)
        library = os.path.join(self.dir, "libweft.so")
        shutil.copy(LIBWEFT, library)
        os.chmod(library, 0o755)
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env",
               "LD_PRELOAD=" + library, "WEFT_SOCKET=" + self.sock] + PIPELINE
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                           env=preloaded(None), cwd="/")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "272\n", ""))
        time.sleep(0.6)  # two rescans of the served directory
        self.assertEqual(self.listed(), [])
        self.assertEqual(os.listdir(self.traces), [])


class WithoutWeftd(unittest.TestCase):
    def setUp(self):
        self.dir = tempdir()
        self.plain = untraced(PIPELINE)

    def tearDown(self):
        cleanup(self.dir)

    def run_preloaded(self, socket_path, **extra):
        return subprocess.run(PIPELINE, capture_output=True, text=True, timeout=60,
                              env=preloaded(socket_path, **extra))

    def test_missing_socket_runs_untraced(self):
        r = self.run_preloaded(os.path.join(self.dir, "nobody.sock"))
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, self.plain.stdout, ""))

    def test_stale_socket_runs_untraced(self):
        path = os.path.join(self.dir, "stale.sock")
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)  # bound, never listening: what a dead weftd leaves
        s.close()
        r = self.run_preloaded(path)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, self.plain.stdout, ""))

    def test_a_stuck_weftd_does_not_hold_the_program(self):
        # a socket that takes connections and never answers: the program
        # gives up on its own deadline and runs untraced
        path = os.path.join(self.dir, "stuck.sock")
        for accept in (False, True):
            s = socket.socket(socket.AF_UNIX)
            s.bind(path)
            s.listen(8)
            try:
                prog = subprocess.Popen(PIPELINE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True,
                                        env=preloaded(path))
                if accept:
                    conn, _ = s.accept()
                out, err = prog.communicate(timeout=60)
                if accept:
                    conn.close()
            finally:
                s.close()
                os.unlink(path)
            self.assertEqual((prog.returncode, out, err), (0, self.plain.stdout, ""))

    def test_failure_is_reported_only_with_weft_debug(self):
        r = self.run_preloaded(os.path.join(self.dir, "nobody.sock"), WEFT_DEBUG="1")
        self.assertEqual((r.returncode, r.stdout), (0, self.plain.stdout))
        self.assertIn("no answer from weftd", r.stderr)

    def test_weftd_replaces_a_stale_socket(self):
        path = os.path.join(self.dir, "stale.sock")
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.close()
        traces = os.path.join(self.dir, "traces")
        os.makedirs(traces)
        with Weftd(extra=("--socket", path, "--trace-dir", traces), collect=True) as server:
            r = self.run_preloaded(path)
            self.assertEqual((r.returncode, r.stdout), (0, self.plain.stdout))
            until("the trace to be listed", lambda: server.json("/api/traces")["traces"])



class CommandLine(unittest.TestCase):
    def setUp(self):
        self.dir = tempdir()

    def tearDown(self):
        cleanup(self.dir)

    def weftd(self, *args):
        p = subprocess.run([WEFTD, "--listen", "127.0.0.1:0", *args], capture_output=True,
                           text=True, timeout=30)
        return p.returncode, p.stderr

    def test_no_collect_takes_no_trace_dir_or_socket(self):
        code, err = self.weftd("--no-collect", "--trace-dir", self.dir)
        self.assertEqual(code, 2)
        self.assertIn("--no-collect", err)

    def test_a_socket_path_that_is_not_a_socket_is_refused(self):
        path = os.path.join(self.dir, "file")
        with open(path, "w") as f:
            f.write("x")
        code, err = self.weftd("--socket", path, "--trace-dir", self.dir)
        self.assertEqual(code, 1)
        self.assertIn(path + ": exists and is not a socket", err)
        with open(path) as f:
            self.assertEqual(f.read(), "x")

    def test_help_names_the_collector_options(self):
        p = subprocess.run([WEFTD, "--help"], capture_output=True, text=True, timeout=30)
        for option in ("--trace-dir DIR", "--socket PATH", "--no-collect",
                       "~/.local/share/weft/traces", "/tmp/weft-UID/weftd.sock"):
            self.assertIn(option, p.stdout)


class DefaultSocket(unittest.TestCase):
    """Without --socket: $XDG_RUNTIME_DIR/weft/weftd.sock (a private runtime
    directory stands in for the user's, so that no other program finds this
    weftd)."""

    def setUp(self):
        self.assertTrue(LIBWEFT and os.path.exists(LIBWEFT))
        self.dir = tempdir()
        self.runtime = os.path.join(self.dir, "runtime")
        os.makedirs(self.runtime)
        self.traces = os.path.join(self.dir, "traces")
        os.makedirs(self.traces)
        self.saved = os.environ.get("XDG_RUNTIME_DIR")
        os.environ["XDG_RUNTIME_DIR"] = self.runtime

    def tearDown(self):
        if self.saved is None:
            del os.environ["XDG_RUNTIME_DIR"]
        else:
            os.environ["XDG_RUNTIME_DIR"] = self.saved
        cleanup(self.dir)

    def test_programs_find_weftd_at_the_default_socket(self):
        sock = os.path.join(self.runtime, "weft", "weftd.sock")
        with Weftd(self.traces, collect=True) as server:
            # the first served directory is the trace directory
            self.assertEqual(server.collecting, (sock, os.path.realpath(self.traces)))
            self.assertEqual(os.stat(os.path.dirname(sock)).st_mode & 0o777, 0o700)
            self.assertEqual(os.stat(sock).st_mode & 0o777, 0o600)
            env = preloaded(None)
            env["LD_PRELOAD"] = LIBWEFT
            r = subprocess.run(PIPELINE, capture_output=True, text=True, timeout=60, env=env)
            self.assertEqual((r.returncode, r.stdout), (0, "272\n"))
            (trace,) = until("the trace to be listed",
                             lambda: server.json("/api/traces")["traces"])
            self.assertTrue(trace["file"].startswith("sh-"))
            # a second weftd on the default socket serves, and says why it
            # does not record
            second = subprocess.Popen([WEFTD, "--listen", "127.0.0.1:0", self.traces],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True)
            banner = second.stdout.readline()
            second.send_signal(signal.SIGTERM)
            out, err = second.communicate(timeout=30)
            self.assertEqual(second.returncode, 0)
            self.assertTrue(banner.startswith("weftd: serving 1 trace at"), banner)
            self.assertNotIn("recording programs", out)
            self.assertIn("another weftd is listening on " + sock, err)
            # the first one still records
            r = subprocess.run(["sh", "-c", "echo hi"], capture_output=True, text=True,
                               timeout=60, env=env)
            self.assertEqual(r.stdout, "hi\n")
            until("the second trace", lambda: len(server.json("/api/traces")["traces"]) == 2)
        self.assertFalse(os.path.exists(sock))


if __name__ == "__main__":
    unittest.main(verbosity=2)
