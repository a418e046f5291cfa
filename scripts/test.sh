#!/usr/bin/env bash
# Installs what is missing, builds every tree and runs every test:
#   build/       integration, HTTP and browser tests (real programs, real
#                SQLite, weftd on loopback, Debian's chromium)
#   build-asan/  unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   build-tsan/  collector tests under ThreadSanitizer
#   build-fuzz/  libFuzzer targets for a short run (clang)
# Exits non-zero if anything fails. Screenshots and logs: build/test-artifacts/
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test || exit 1

status=0
run_tree() { # DIR LABEL_REGEX CMAKE_ARGS...
  local dir=$1 labels=$2
  shift 2
  if ! scripts/build.sh "$dir" "$@"; then status=1; return; fi
  echo "weft: running tests labelled '$labels' in $dir"
  (cd "$dir" && ctest --output-on-failure --timeout 600 -L "$labels") || status=1
}

run_tree build 'integration|http|browser'
run_tree build-asan 'unit' -DWEFT_SANITIZE=address,undefined
run_tree build-tsan 'collector' -DWEFT_SANITIZE=thread
if command -v clang >/dev/null; then
  run_tree build-fuzz 'fuzz' -DCMAKE_C_COMPILER=clang -DWEFT_FUZZ=ON -DWEFT_BUILD_PRELOAD=OFF
fi

if ((status)); then echo "weft: some tests FAILED" >&2; else echo "weft: all tests passed"; fi
exit $status
