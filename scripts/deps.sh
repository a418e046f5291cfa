#!/usr/bin/env bash
# Installs what weft needs that this machine lacks.
#   scripts/deps.sh          build + run: compiler, cmake, SQLite, libmicrohttpd
#   scripts/deps.sh --test   also what the tests use: cmocka, clang (fuzz),
#                            chromium + playwright-core, linux-perf, workloads,
#                            and what packaging uses (dpkg-dev: package.sh)
#   scripts/deps.sh --bench  also the servers the benchmarks run (bench/soak:
#                            redis-server, and redis-tools' redis-benchmark)
# As root it runs apt-get; otherwise it prints the exact command to run.
set -euo pipefail
cd "$(dirname "$0")/.."

# libdw-dev: weft record symbolizes the stacks of waits with elfutils
# (function, file:line) when the recording ends; libunwind-dev: the stacks
# bench compares its unwinder with the one the preload uses
packages=(build-essential cmake pkg-config libsqlite3-dev libmicrohttpd-dev sqlite3
          libunwind-dev libdw-dev)
want_test=0
want_bench=0
[[ "${1:-}" == "--test" ]] && want_test=1
[[ "${1:-}" == "--bench" ]] && want_bench=1
((want_bench)) && packages+=(redis-server redis-tools procps)
if ((want_test)); then
  packages+=(libcmocka-dev clang libclang-rt-dev xz-utils coreutils python3 make
             chromium linux-perf procps)
  # the fleet test and bench: two ClickHouse servers on loopback, loaded
  # over HTTP, and clickhouse-client for the bench's comparison
  packages+=(clickhouse-server clickhouse-client)
  # the install tests: the Debian package (dpkg-shlibdeps computes its
  # Depends), man -w and groff on the man pages, bash-completion's loader
  packages+=(dpkg-dev man-db bash-completion)
  # the JVM tests: javac and java (HotSpot) from Debian's default JDK;
  # its headers let libweft build its JVMTI view (tracer/preload/jvm.c)
  packages+=(default-jdk-headless)
  # the servers test: a real server (redis-server) driven by its own
  # benchmark client (redis-benchmark, in redis-tools)
  packages+=(redis-server redis-tools)
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Node.js may come from another package source that bundles npm (and then
# conflicts with Debian's npm package): ask for the commands, not packages.
if ((want_test)); then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi

if ((${#missing[@]})); then
  cmd="apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    echo "weft: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "weft: missing packages: ${missing[*]}" >&2
    echo "weft: run as root:  sudo apt-get update && sudo $cmd" >&2
    exit 1
  fi
fi

if ((want_test)) && [[ -f tests/browser/package.json ]]; then
  if [[ ! -d tests/browser/node_modules/playwright-core ]]; then
    echo "weft: installing playwright-core for the browser tests" >&2
    (cd tests/browser && npm install --no-audit --no-fund --loglevel=error)
  fi
fi
