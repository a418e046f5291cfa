#!/usr/bin/env bash
# Installs what is missing, builds every tree and runs every test:
#   build/       integration, HTTP, browser and install tests (real programs,
#                real SQLite, weftd on loopback, Debian's chromium, the
#                Debian package installed and removed)
#   build-asan/  unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   build-tsan/  collector tests under ThreadSanitizer
#   build-fuzz/  libFuzzer targets for a short run (clang)
# and the clang static analyzer over the sources (scripts/analyze.sh).
# Exits non-zero if anything fails. Screenshots and logs: build/test-artifacts/
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test || exit 1

status=0
passed=0
failed=0
run_tree() { # DIR LABEL_REGEX CMAKE_ARGS...
  local dir=$1 labels=$2 log
  shift 2
  if ! scripts/build.sh "$dir" "$@"; then status=1; failed=$((failed + 1)); return; fi
  echo "weft: running tests labelled '$labels' in $dir"
  log=$(mktemp)
  (cd "$dir" && ctest --output-on-failure --timeout 600 -L "$labels") 2>&1 | tee "$log"
  ((PIPESTATUS[0] == 0)) || status=1
  # "100% tests passed, 0 tests failed out of 26"
  if read -r _ _ _ f _ _ _ _ total < <(grep -E 'tests passed, [0-9]+ tests failed out of' "$log"); then
    passed=$((passed + total - f))
    failed=$((failed + f))
  fi
  rm -f "$log"
}

run_tree build 'integration|http|browser|install'
# The clang static analyzer over the sources as build/ compiles them: one
# test, failed by any finding (scripts/analyze.sh prints them).
echo "weft: running the clang static analyzer (scripts/analyze.sh build)"
if scripts/analyze.sh build; then
  passed=$((passed + 1))
else
  status=1
  failed=$((failed + 1))
fi
run_tree build-asan 'unit' -DWEFT_SANITIZE=address,undefined
run_tree build-tsan 'collector' -DWEFT_SANITIZE=thread
if command -v clang >/dev/null; then
  run_tree build-fuzz 'fuzz' -DCMAKE_C_COMPILER=clang -DWEFT_FUZZ=ON -DWEFT_BUILD_PRELOAD=OFF
fi

echo "weft: $passed passed, $failed failed"
exit $status
