#!/usr/bin/env bash
# The clang static analyzer (clang --analyze: its default checkers and
# optin.portability.UnixAPI) over the project's own C sources: tracer/,
# daemon/, format/, bench/ and examples/, each with the -D/-I/-std flags
# the build tree compiles it with (its compile_commands.json). Not tests/:
# cmocka's assert macros do not tell the analyzer that a failed check ends
# the test, so it would report paths that cannot run.
#   scripts/analyze.sh [BUILD_DIR]      (default: build, configured already)
# Prints every finding with its path; exits 1 when there is one, 2 when it
# cannot run.
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
if [[ ! -f $dir/compile_commands.json ]]; then
  echo "analyze: $dir/compile_commands.json not found (run scripts/build.sh $dir first)" >&2
  exit 2
fi
if ! command -v clang >/dev/null; then
  echo "analyze: clang not found (scripts/deps.sh --test installs it)" >&2
  exit 2
fi
exec python3 - "$dir/compile_commands.json" "$PWD" "$(nproc)" <<'PY'
import json, os, shlex, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

db, root, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
parts = ("tracer/", "daemon/", "format/", "bench/", "examples/")
units, seen = [], set()
for entry in json.load(open(db)):
    path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    rel = os.path.relpath(path, root)
    if not rel.startswith(parts) or rel in seen:
        continue
    seen.add(rel)
    args = entry.get("arguments") or shlex.split(entry["command"])
    flags = [a for a in args[1:] if a.startswith(("-D", "-I", "-std=")) or a == "-pthread"]
    units.append((entry["directory"], rel, path, flags))

def analyze(unit):
    directory, rel, path, flags = unit
    cmd = ["clang", "--analyze", "-Xanalyzer", "-analyzer-output=text",
           "-Xclang", "-analyzer-checker=optin.portability.UnixAPI", *flags, path,
           "-o", os.devnull]
    run = subprocess.run(cmd, cwd=directory, capture_output=True, text=True)
    return rel, run.returncode, run.stdout + run.stderr

findings = failed = 0
with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
    for rel, rc, text in pool.map(analyze, sorted(units, key=lambda u: u[1])):
        n = sum(1 for line in text.splitlines() if " warning: " in line)
        if n or rc:
            sys.stdout.write(text)
        findings += n
        failed += rc != 0
if findings or failed:
    print("analyze: %d findings, %d files not analyzed, of %d" % (findings, failed, len(units)),
          file=sys.stderr)
    sys.exit(1)
print("analyze: %d files, no findings" % len(units))
PY
