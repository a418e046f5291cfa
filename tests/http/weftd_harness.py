"""Starting weftd for tests: on 127.0.0.1:0, reading the real port from the
line it prints, and talking to it with urllib (stdlib only).

The built programs come from the environment (set by tests.cmake):
  WEFTD            <build>/bin/weftd
  WEFT_GEN_TRACE   <build>/bin/weft_gen_trace
  WEFT_BIN         <build>/bin/weft (the recorder; may not exist yet)
  WEFT_WEB_DIR     <source>/web (what weftd embeds at build time)
  WEFT_WEB_MANIFEST  <build>/daemon/web_assets.manifest ("sha256 name" per
                   file embedded by that build)
"""
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import urllib.error
import urllib.request

WEFTD = os.environ.get("WEFTD", "")
GEN = os.environ.get("WEFT_GEN_TRACE", "")
WEFT = os.environ.get("WEFT_BIN", "")
WEB_DIR = os.environ.get("WEFT_WEB_DIR", "")
WEB_MANIFEST = os.environ.get("WEFT_WEB_MANIFEST", "")


def generate(path, spans=20000, threads=8, *extra):
    """Writes a synthetic schema-v1 trace to path with weft_gen_trace."""
    subprocess.run([GEN, "-o", path, "-n", str(spans), "-t", str(threads), *extra],
                   check=True, timeout=120)
    return path


class Weftd:
    """A running weftd; use as a context manager."""

    def __init__(self, *paths, extra=(), collect=False, env=None, preexec_fn=None):
        # Without collect, --no-collect: a test weftd must not take the
        # user's default collector socket (nor record programs run by
        # other tests).
        if not collect:
            extra = ("--no-collect", *extra)
        # env: variables to add to weftd's environment (WEFTD_HOLD_LOADS)
        self.proc = subprocess.Popen([WEFTD, "--listen", "127.0.0.1:0", *extra, *paths],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, **env) if env else None,
                                     preexec_fn=preexec_fn)
        self.banner = self.proc.stdout.readline()
        m = re.match(r"weftd: serving (\d+) traces? at http://127\.0\.0\.1:(\d+)/$",
                     self.banner.strip())
        if not m:
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.proc.kill()
            raise RuntimeError("weftd did not start: %r %r" % (self.banner, err))
        self.count = int(m.group(1))
        # with collect, the second line names the socket and the directory
        self.collecting = None
        if collect:
            m2 = re.match(r"weftd: recording programs that connect to (.+) into (.+)$",
                          self.proc.stdout.readline().rstrip("\n"))
            self.collecting = m2.groups() if m2 else None
        self.port = int(m.group(2))
        self.base = "http://127.0.0.1:%d" % self.port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode

    def request(self, path, method="GET", body=None, headers=None):
        """Returns (status, content type, body bytes); never raises on 4xx/5xx."""
        headers = dict(headers or {})
        if body is not None and "Content-Type" not in headers:
            headers["Content-Type"] = "application/json"  # as the dashboard sends
        req = urllib.request.Request(self.base + path, data=body, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read()

    def json(self, path, method="GET", body=None, expect=200):
        status, ctype, data = self.request(path, method, body)
        if status != expect:
            raise AssertionError("%s %s: %d %s" % (method, path, status, data[:300]))
        assert ctype.startswith("application/json"), ctype
        return json.loads(data)

    def raw_get(self, raw_path):
        """Sends raw_path exactly as written (no client-side normalisation)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
                       % (raw_path, self.port)).encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split()[1])
        return status, body


class EventStream:
    """Reads server-sent events from a raw socket (chunked encoding)."""

    def __init__(self, port, path, timeout=15):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                           "Accept: text/event-stream\r\n\r\n" % (path, port)).encode())
        self.buf = b""
        self.head = self._until(b"\r\n\r\n")
        self.text = ""
        self.closed = False

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        return True

    def _until(self, sep):
        while sep not in self.buf:
            if not self._fill():
                raise EOFError("stream closed")
        out, _, self.buf = self.buf.partition(sep)
        return out

    def _chunk(self):
        size = int(self._until(b"\r\n").split(b";")[0], 16)
        while len(self.buf) < size + 2:
            if not self._fill():
                raise EOFError("stream closed")
        data, self.buf = self.buf[:size], self.buf[size + 2:]
        if size == 0:
            self.closed = True
            raise EOFError("stream ended")
        return data.decode()

    def next_event(self):
        """Returns (event, data as JSON); skips comments. EOFError at the end."""
        while "\n\n" not in self.text:
            self.text += self._chunk()
        block, _, self.text = self.text.partition("\n\n")
        event, data = None, None
        for line in block.split("\n"):
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        if event is None:
            return self.next_event()
        return event, data

    def ends(self):
        """True if the stream ends (zero chunk / close) before another event."""
        try:
            self.next_event()
            return False
        except EOFError:
            return True

    def close(self):
        self.sock.close()


def hold_recording_lock(path):
    """Takes the lock a recorder holds on its trace for the recording's
    life (an exclusive flock, format/tracestatus.h), so that a trace a test
    writes by hand with status 'recording' reads as a live recording, not
    an interrupted one. Returns the file to close to let go."""
    f = open(path, "rb")
    fcntl.flock(f, fcntl.LOCK_EX)
    return f


def tempdir():
    return tempfile.mkdtemp(prefix="weftd-test-")


def cleanup(path):
    shutil.rmtree(path, ignore_errors=True)
