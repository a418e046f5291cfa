#!/usr/bin/env bash
# Servers under load: nginx (ab), Redis (redis-benchmark) and PostgreSQL
# (pgbench), each run untraced, under `weft record` and under
# `perf record -e dummy --switch-events`, alternating in one sitting.
# Prints a markdown section on stdout (bench/run.sh collects it into
# bench/RESULTS.md); with --write it also puts that section into
# bench/RESULTS.md itself, in place of the previous servers section.
#
#   bench/servers/run.sh [--write] [BUILD_DIR]     (default: <repo>/build)
#
# Installs nginx, redis-server (+ redis-tools), postgresql and
# apache2-utils from Debian when they are missing (as root). Durations:
# WEFT_BENCH_SERVERS_SECONDS (default 5) of pgbench per run,
# WEFT_BENCH_SERVERS_ROUNDS rounds (default 2). Scratch in
# bench/out/servers/ (gitignored). Never run in CI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
write=0
if [[ "${1:-}" == "--write" ]]; then write=1; shift; fi
build=$(cd "${1:-$here/../../build}" && pwd)
work=$here/../out/servers
mkdir -p "$work"
work=$(cd "$work" && pwd)

need=()
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need+=(nginx)
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-benchmark >/dev/null || need+=(redis-tools)
command -v pgbench >/dev/null || need+=(postgresql postgresql-contrib)
command -v ab >/dev/null || need+=(apache2-utils)
command -v perf >/dev/null || need+=(linux-perf)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "bench/servers: missing ${need[*]}; run as root: apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "bench/servers: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts the services it installs: stop those just installed
  # (the benchmark runs its own servers); services already there are left
  for pkg in "${need[@]}"; do
    case $pkg in
      nginx | redis-server) service "$pkg" stop >/dev/null 2>&1 || true ;;
      postgresql) service postgresql stop >/dev/null 2>&1 || true ;;
    esac
  done
fi

section=$(mktemp /tmp/weft-bench-servers.XXXXXX)
trap 'rm -f "$section"' EXIT
python3 "$here/measure.py" --build "$build" --work "$work" | tee "$section"
if ((write)); then
  python3 - "$here/../RESULTS.md" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], open(sys.argv[2]).read().rstrip() + "\n"
try:
    text = open(path).read()
except FileNotFoundError:
    text = "# weft benchmark results\n\n"
start = text.find("## Servers under load")
if start < 0:
    text = text.rstrip() + "\n\n" + section
else:
    nxt = text.find("\n## ", start + 1)
    text = text[:start] + section + ("\n" + text[nxt + 1:] if nxt >= 0 else "")
open(path, "w").write(text)
PY
  echo "bench/servers: wrote bench/RESULTS.md" >&2
fi
