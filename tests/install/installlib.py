"""Shared helpers for the install tests (label "install").

The tests install the build tree the way a user would (cmake --install, the
Debian package of scripts/package.sh) and check what a user would check:
the installed programs run from anywhere, find their preload library, serve
what they recorded, have man pages that agree with --help and complete on
Tab. tests.cmake sets:

  WEFT_BUILD_DIR   the build tree (plain, with libweft.so)
  WEFT_SOURCE_DIR  the source tree
  WEFT_CMAKE       the cmake that configured it
  WEFT_VERSION     project(VERSION) of CMakeLists.txt
  WEFT_BIN, WEFTD  the built weft and weftd

Options and commands are read from each program's --help at test time, so
an option added later and missing from its man page fails by name.
"""

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import urllib.request

BUILD_DIR = os.environ.get("WEFT_BUILD_DIR", "")
SOURCE_DIR = os.environ.get("WEFT_SOURCE_DIR", "")
CMAKE = os.environ.get("WEFT_CMAKE", "cmake")
VERSION = os.environ.get("WEFT_VERSION", "")
WEFT = os.environ.get("WEFT_BIN", "")
WEFTD = os.environ.get("WEFTD", "")

# The pipeline every install test records (issue 19): two processes and a
# pipe between them.
PIPELINE = "ls / | grep -c a"

# An option in --help text: "-o", "--output", "--sched=MODE" (-> "--sched"),
# at the start of a word (after a space, '[', '(', '|' or ','), so that
# "weft-CMD-N.db" or "/tmp/weft-UID" are not options.
_OPTION = re.compile(r"(?:^|(?<=[\s\[(|,]))(--?[A-Za-z][A-Za-z0-9-]*)")


def help_options(text):
    """The sorted options a --help text names."""
    return sorted(set(_OPTION.findall(text)))


def help_commands(text):
    """The commands `weft --help` lists: the lines "  NAME   summary"."""
    return re.findall(r"^  ([a-z][a-z0-9-]*) +[^ -]", text, re.M)


def run(argv, **kw):
    """argv run to completion with text output captured; 60 s at most."""
    kw.setdefault("timeout", 60)
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def help_text(argv):
    """The --help of argv (a program, or a program and a command)."""
    p = run([*argv, "--help"])
    if p.returncode != 0:
        raise AssertionError("%s --help exited with %d: %s" %
                             (" ".join(argv), p.returncode, p.stderr))
    return p.stdout


def programs(weft=None, weftd=None):
    """(man page name, argv) of every program and weft command: weft,
    weft-CMD for each command `weft --help` lists, weftd."""
    weft = weft or WEFT
    weftd = weftd or WEFTD
    found = [("weft", [weft])]
    for command in help_commands(help_text([weft])):
        found.append(("weft-" + command, [weft, command]))
    found.append(("weftd", [weftd]))
    return found


def clean_env(path_dirs=()):
    """The environment a user's shell would give: no WEFT_* variable, no
    LD_PRELOAD, PATH = path_dirs then the system's directories."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WEFT") and k != "LD_PRELOAD"}
    env["PATH"] = ":".join([*path_dirs, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                            "/usr/bin", "/sbin", "/bin"])
    return env


def elf_files(root):
    """Every ELF file under root."""
    found = []
    for top, _, files in os.walk(root):
        for name in files:
            path = os.path.join(top, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def search_paths(elf):
    """The RPATH and RUNPATH entries of elf (readelf -d)."""
    out = run(["readelf", "-d", elf]).stdout
    return re.findall(r"\((?:RPATH|RUNPATH)\)\s+Library (?:rpath|runpath): \[(.*)\]", out)


def record_pipeline(weft, workdir, env):
    """Runs `weft record -o run.db -- sh -c PIPELINE` in workdir; returns
    (the CompletedProcess, the trace's path)."""
    trace = os.path.join(workdir, "run.db")
    p = run([weft, "record", "-o", trace, "--", "sh", "-c", PIPELINE], cwd=workdir, env=env,
            timeout=120)
    return p, trace


def traced_pipeline(trace):
    """What the trace of PIPELINE says: ({process name: traced}, bytes that
    went through pipes)."""
    db = sqlite3.connect("file:%s?mode=ro" % trace, uri=True)
    try:
        names = dict(db.execute("SELECT name, traced FROM process"))
        piped = db.execute("SELECT COALESCE(SUM(bytes), 0) FROM flow WHERE kind = 'pipe'")
        return names, piped.fetchone()[0]
    finally:
        db.close()


def wait_complete(trace, within=60):
    """Waits until meta.status of trace is 'complete' or 'interrupted' (a
    collector a preloaded program started may still be writing after the
    program exits) and returns it; the last status seen after `within`
    seconds."""
    deadline = time.monotonic() + within
    status = None
    while time.monotonic() < deadline:
        if os.path.isfile(trace):
            try:
                db = sqlite3.connect("file:%s?mode=ro" % trace, uri=True, timeout=1)
                try:
                    row = db.execute("SELECT value FROM meta WHERE key = 'status'").fetchone()
                finally:
                    db.close()
                status = row[0] if row else None
                if status in ("complete", "interrupted"):
                    return status
            except sqlite3.Error:
                pass
        time.sleep(0.1)
    return status


def serve_traces(weftd, trace, env):
    """Starts weftd on 127.0.0.1:0 serving trace (no collector socket),
    GETs /api/traces and stops weftd; returns (the JSON, weftd's exit
    status)."""
    proc = subprocess.Popen([weftd, "--listen", "127.0.0.1:0", "--no-collect", trace],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        banner = proc.stdout.readline().strip()
        m = re.match(r"weftd: serving \d+ traces? at (http://127\.0\.0\.1:\d+/)$", banner)
        if not m:
            proc.kill()
            raise AssertionError("weftd did not start: %r %r" % (banner, proc.stderr.read()))
        with urllib.request.urlopen(m.group(1) + "api/traces", timeout=30) as response:
            listing = json.loads(response.read())
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    return listing, proc.returncode


def tempdir(tag):
    return tempfile.mkdtemp(prefix="weft-install-%s-" % tag)


def cleanup(path):
    if os.environ.get("WEFT_KEEP_TRACES"):
        print("kept", path)
        return
    shutil.rmtree(path, ignore_errors=True)
